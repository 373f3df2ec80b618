"""docs/distributed.md holds recipes that users paste into a shell, sbatch and kubectl: check them without
running anything.

- Every ``upsamplekit ...`` command in the ```bash blocks is parsed by the real click commands (every option
  exists, has a value of the right form, nothing required is missing), and ``study`` settings go through
  ``StudyConfig.build`` (the validation `upsamplekit study` does before it touches a storage). The shell is
  interpreted only as far as the recipes need: backslash continuations are joined, ``NAME=value`` and
  ``export NAME=value`` are remembered within a block, ``$NAME`` comes from them or from the environment
  placeholders below (a variable that is neither fails the test), ``$(...)`` reads the storage file (a
  placeholder URL), redirections are dropped and ``;``, ``&&``, ``&`` separate commands.
- Every ```bash block passes ``bash -n`` (syntax only); the SLURM script has its ``#SBATCH`` lines, array
  included, before its first command (sbatch ignores them after it) and gives the worker
  ``--threads "$SLURM_CPUS_PER_TASK"``.
- Every ```yaml block loads with PyYAML and is a batch/v1 Job whose container runs ``upsamplekit worker``
  (or the one-off ``upsamplekit study --submit-only``); its command parses as above, with
  UPSAMPLEKIT_STORAGE set only when the container's env sets it; Kubernetes' own rules for a Job hold
  (restartPolicy Never or OnFailure, podFailurePolicy only with Never and naming a container of the pod);
  ``--threads`` equals the CPU limit; the images are on a PersistentVolumeClaim mounted at the same path as
  ``--images`` in the submit pod and in the workers.
- The numbers of trials the text announces are those the commands queue.

The walk-through itself is not run here: with the 6 s that each process spends importing torch it took
50 s on 2 cores; tests/study/test_distributed.py runs the same steps (submit, workers, report while they
run) for real.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from upsamplekit.errors import UpsampleError

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "distributed.md"
TEXT = DOC.read_text(encoding="utf-8")
ENV_VAR = "UPSAMPLEKIT_STORAGE"
#: What the shell would take from the environment; a recipe using any other variable fails the test.
PLACEHOLDERS = {"HOME": "/home/me", "PWD": "/home/me/upsamplekit-demo", "SLURM_CPUS_PER_TASK": "4"}
#: The output of ``$(...)``: the recipes read the storage URL from a file.
COMMAND_OUTPUT = "postgresql://upsamplekit:secret@db.example.org:5432/studies"
KEYWORDS = {"do", "then", "else", "time", "exec", "nohup", "command", "!"}


@dataclass(frozen=True)
class Block:
    info: str
    line: int  # of the opening fence
    text: str


def fenced_blocks(text: str) -> list[Block]:
    blocks, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        opening = re.fullmatch(r"```(\S*)\s*", lines[i])
        if opening is None:
            i += 1
            continue
        end = next(j for j in range(i + 1, len(lines)) if re.fullmatch(r"```\s*", lines[j]))
        blocks.append(Block(opening.group(1), i + 1, "\n".join(lines[i + 1:end])))
        i = end + 1
    return blocks


BLOCKS = fenced_blocks(TEXT)
BASH = [b for b in BLOCKS if b.info == "bash"]
YAML = [b for b in BLOCKS if b.info == "yaml"]


# ------------------------------------------------------------------------------------- a little shell
@dataclass(frozen=True)
class Command:
    """One ``upsamplekit`` command of a recipe: its arguments, the environment it sees, where it is."""

    args: tuple[str, ...]
    env: dict[str, str]
    line: int
    background: bool

    @property
    def name(self) -> str:
        return next(a for a in self.args if not a.startswith("-"))

    def __str__(self) -> str:
        return f"line {self.line}: upsamplekit {shlex.join(self.args)}"


def expand(text: str, variables: dict[str, str]) -> str:
    """``$(...)``, ``${NAME}``, ``${NAME:-default}`` and ``$NAME`` replaced; an unknown name becomes a marker."""
    text = re.sub(r"\$\([^()]*\)", COMMAND_OUTPUT, text)

    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(3)
        found = variables.get(name, PLACEHOLDERS.get(name))
        if found is None and match.group(2) is not None:
            return match.group(2)
        return found if found is not None else f"<unknown variable {name}>"

    return re.sub(r"\$\{(\w+)(?::-([^}]*))?\}|\$(\w+)", value, text)


def logical_lines(block: Block) -> Iterator[tuple[int, str]]:
    """The block's lines with backslash continuations joined, and the number of the first in the document."""
    buffer, start = "", 0
    for offset, raw in enumerate(block.text.splitlines()):
        if not buffer:
            start = block.line + 1 + offset
        if raw.endswith("\\"):
            buffer += raw[:-1] + " "
            continue
        yield start, buffer + raw
        buffer = ""
    if buffer:
        yield start, buffer


def simple_commands(line: str) -> Iterator[tuple[list[str], str]]:
    """The words of each simple command of ``line`` and the operator that ends it ('' at the end)."""
    line = re.sub(r"(?<!\S)\d*(>>|>&|&>|>|<)\s*\S+", " ", line)  # redirections (the recipes quote no '>')
    lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|()")
    lexer.whitespace_split = True
    lexer.commenters = "#"
    words: list[str] = []
    for token in lexer:
        if token and set(token) <= set(";&|()"):
            if words:
                yield words, token
            words = []
        else:
            words.append(token)
    if words:
        yield words, ""


def commands_of(block: Block) -> list[Command]:
    variables: dict[str, str] = {}
    exported: set[str] = set()
    found = []
    for number, line in logical_lines(block):
        for words, end in simple_commands(expand(line, variables)):
            if words[0] == "export":
                words = words[1:]
                exported.update(w.split("=", 1)[0] for w in words)
            while words and (words[0] in KEYWORDS or re.fullmatch(r"\w+=.*", words[0])):
                if words[0] not in KEYWORDS:
                    name, value = words[0].split("=", 1)
                    variables[name] = value
                words = words[1:]
            if words and words[0] == "upsamplekit":
                env = {name: variables[name] for name in exported if name in variables}
                found.append(Command(tuple(words[1:]), env, number, end == "&"))
    return found


COMMANDS = [command for block in BASH for command in commands_of(block)]


# ------------------------------------------------------------------------------------- click, for real
@contextmanager
def environment(env: dict[str, str]) -> Iterator[None]:
    """``UPSAMPLEKIT_STORAGE`` exactly as in ``env`` (absent when ``env`` lacks it)."""
    saved = os.environ.get(ENV_VAR)
    os.environ.pop(ENV_VAR, None)
    os.environ.update({k: v for k, v in env.items() if k == ENV_VAR})
    try:
        yield
    finally:
        os.environ.pop(ENV_VAR, None)
        if saved is not None:
            os.environ[ENV_VAR] = saved


def parse(args: tuple[str, ...], env: dict[str, str]) -> tuple[str, dict[str, Any]]:
    """Parse ``upsamplekit ARGS`` with the real click commands, without running anything; then validate
    the values as the command would before it opens the storage. Returns the sub-command and its values."""
    from upsamplekit.cli import app
    from upsamplekit.study.config import StudyConfig
    from upsamplekit.study.engine.storage import storage_kind

    name = next(a for a in args if not a.startswith("-"))
    split = args.index(name)
    with environment(env):
        parent = app.make_context("upsamplekit", list(args[:split + 1]), resilient_parsing=False)
        command = app.get_command(parent, name)
        assert command is not None, f"upsamplekit has no command {name!r} (it has {sorted(app.commands)})"
        values = command.make_context(name, list(args[split + 1:]), parent=parent, resilient_parsing=False).params
    if name == "study":
        fields = {k: v for k, v in values.items() if k not in ("config_file", "quick", "submit_only", "progress")}
        assert values["config_file"] is None, "the recipes give every setting on the command line"
        config = StudyConfig.build(overrides=fields, quick=values["quick"])
        values = {**values, "config": config}
        if values["submit_only"]:
            assert storage_kind(config.storage or "sqlite:") != "sqlite", "--submit-only needs shared storage"
    if values.get("storage"):
        storage_kind(values["storage"])
    return name, values


def storage_of(command: Command) -> str:
    values = parse(command.args, command.env)[1]
    return values["config"].storage if "config" in values else values["storage"]


def checked_parse(command: Command) -> tuple[str, dict[str, Any]]:
    """:func:`parse`, with a refusal turned into a test failure that names the command and the reason."""
    try:
        return parse(command.args, command.env)
    except click.ClickException as error:
        pytest.fail(f"{command} does not parse: {error.format_message()}")
    except UpsampleError as error:
        pytest.fail(f"{command} has a setting that upsamplekit refuses: {error}")


@pytest.mark.parametrize("command", COMMANDS, ids=str)
def test_every_command_line_parses_with_the_real_cli(command: Command) -> None:
    assert not any("<unknown variable" in a for a in command.args), \
        f"{command} uses a shell variable that is neither set in its block nor in PLACEHOLDERS"
    name, values = checked_parse(command)
    if name in ("worker", "report"):
        assert values["study_name"] != "upsamplekit-study", f"{command} relies on the default study name"


def test_the_recipes_use_every_command() -> None:
    names = {(c.name, "--submit-only" in c.args) for c in COMMANDS}
    assert {("study", True), ("worker", False), ("report", False)} <= names, names


def test_the_announced_trial_counts_are_what_the_commands_queue() -> None:
    counts = set()
    for command in COMMANDS:
        if command.name == "study":
            config = parse(command.args, command.env)[1]["config"]
            counts.add(len(config.candidates()) * config.seeds)
    assert "12 trials queued in study 'demo'" in TEXT and "4 seeds = 32 trials" in TEXT
    assert {12, 32} <= counts, counts


def test_the_walk_through_runs_two_workers_in_the_background_and_reports_while_they_run() -> None:
    walk = next(b for b in BASH if "--submit-only" in b.text and re.search(r"^wait\b", b.text, re.M))
    commands = commands_of(walk)
    storages = {storage_of(c) for c in commands}
    assert len(storages) == 1 and next(iter(storages)).startswith("journal:/"), storages  # one absolute journal
    order = [(c.name, c.background) for c in commands]
    assert order[0] == ("study", False) and order[1:3] == [("worker", True)] * 2, order
    wait_line = next(n for n, line in logical_lines(walk) if line.split("#")[0].strip() == "wait")
    assert any(c.name == "report" and commands[2].line < c.line < wait_line for c in commands)
    assert any(c.name == "report" and c.line > wait_line for c in commands)


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is needed to check the recipes' syntax")
@pytest.mark.parametrize("block", BASH, ids=lambda b: f"line {b.line}")
def test_every_bash_block_is_valid_shell(block: Block) -> None:
    result = subprocess.run(["bash", "-n"], input=block.text, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, f"block at line {block.line}: {result.stderr}"


def test_the_slurm_script_is_an_array_job_whose_workers_use_their_cpus() -> None:
    scripts = [b for b in BASH if "#SBATCH" in b.text]
    assert len(scripts) == 1, [b.line for b in scripts]
    lines = scripts[0].text.splitlines()
    assert lines[0] == "#!/bin/bash"
    first_command = next(i for i, line in enumerate(lines) if line.strip() and not line.startswith("#"))
    directives = [line for line in lines if line.startswith("#SBATCH")]
    assert all(lines.index(d) < first_command for d in directives), "sbatch ignores #SBATCH after a command"
    options = dict(d.split()[1].split("=", 1) for d in directives)
    assert re.fullmatch(r"\d+-\d+(%\d+)?", options["--array"]) and int(options["--cpus-per-task"]) >= 1
    workers = commands_of(scripts[0])
    assert [c.name for c in workers] == ["worker"]
    assert '--threads "$SLURM_CPUS_PER_TASK"' in scripts[0].text
    assert workers[0].env.get(ENV_VAR) == COMMAND_OUTPUT and "--storage" not in workers[0].args  # URL from a file


# ------------------------------------------------------------------------------------- Kubernetes
def jobs() -> list[tuple[Block, dict[str, Any]]]:
    out = []
    for block in YAML:
        for document in yaml.safe_load_all(block.text):
            out.append((block, document))
    return out


def container_command(container: dict[str, Any]) -> tuple[str, ...]:
    return tuple(str(a) for a in [*container.get("command", []), *container.get("args", [])])


def container_env(container: dict[str, Any]) -> dict[str, str]:
    """The container's environment as the pod gets it: a Secret's value stands for itself."""
    env = {}
    for item in container.get("env", []):
        if "value" in item:
            env[item["name"]] = str(item["value"])
        else:
            assert "secretKeyRef" in item.get("valueFrom", {}), f"env {item['name']} has no value or Secret"
            env[item["name"]] = COMMAND_OUTPUT
    return env


def test_the_manifests_are_jobs_for_a_worker_and_the_submit_step() -> None:
    kinds = []
    for block, job in jobs():
        where = f"yaml block at line {block.line}"
        assert (job["apiVersion"], job["kind"]) == ("batch/v1", "Job"), where
        pod = job["spec"]["template"]["spec"]
        assert pod["restartPolicy"] in ("Never", "OnFailure"), where  # Kubernetes refuses Always for a Job
        assert isinstance(job["spec"].get("backoffLimit"), int), where
        names = [c["name"] for c in pod["containers"]]
        if "podFailurePolicy" in job["spec"]:
            assert pod["restartPolicy"] == "Never", f"{where}: podFailurePolicy needs restartPolicy Never"
            for rule in job["spec"]["podFailurePolicy"]["rules"]:
                assert rule["action"] in ("FailJob", "Ignore", "Count", "FailIndex"), where
                if "onExitCodes" in rule:
                    assert rule["onExitCodes"]["containerName"] in names, where
                    assert rule["onExitCodes"]["operator"] in ("In", "NotIn"), where
        (container,) = pod["containers"]
        args = container_command(container)
        assert args[0] == "upsamplekit", f"{where}: the container must run upsamplekit, not {args}"
        command = Command(args[1:], container_env(container), block.line, False)
        name, values = checked_parse(command)
        assert (name == "worker") or (name == "study" and values["submit_only"]), f"{where}: {args}"
        assert storage_of(command), where
        kinds.append(name)
        if name == "worker":
            assert job["spec"]["parallelism"] >= 2 and job["spec"]["completions"] >= 1, where
            limit = container["resources"]["limits"]["cpu"]
            assert values["threads"] == int(limit), f"{where}: --threads {values['threads']} but a CPU limit of {limit}"
    assert sorted(set(kinds)) == ["study", "worker"], kinds


def test_the_images_are_on_a_claim_mounted_where_the_study_looks_for_them() -> None:
    mounts: dict[str, dict[str, str]] = {}  # job name -> mount path -> claim
    images = None
    for _, job in jobs():
        pod = job["spec"]["template"]["spec"]
        claims = {v["name"]: v["persistentVolumeClaim"]["claimName"] for v in pod.get("volumes", [])
                  if "persistentVolumeClaim" in v}
        (container,) = pod["containers"]
        mounts[job["metadata"]["name"]] = {m["mountPath"]: claims[m["name"]] for m in container["volumeMounts"]}
        args = container_command(container)
        if "--images" in args:
            images = args[args.index("--images") + 1]
    assert images is not None, "the submit step names the images folder"
    claims = set()
    for name, paths in mounts.items():
        held = [path for path in paths if images == path or images.startswith(path.rstrip("/") + "/")]
        assert held, f"job {name} does not mount the claim holding --images {images} at that path: {paths}"
        claims.add(paths[held[0]])
    assert len(claims) == 1, mounts  # the same claim in every pod
