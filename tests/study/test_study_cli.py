"""`upsamplekit study` end to end on tiny settings: outputs, resume, a user's decoder, and bad input."""

from __future__ import annotations

import contextlib
import csv
import json
import os
import shutil
import sqlite3
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from upsamplekit.cli import app
from upsamplekit.study.engine.optuna import OptunaEngine

TINY = ["--upsamplers", "bilinear,transposed", "--schedules", "2", "--scale", "2", "--steps", "4", "--seeds", "2",
        "--batch-size", "2", "--crop", "16", "--val-crops", "1", "--val-size", "32", "--latency-size", "8",
        "--no-progress"]


def study(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["study", *args])
    return result.exit_code, result.stdout, result.stderr


def photos(folder: Path, count: int, side: int = 40, smooth: bool = False) -> Path:
    """``count`` PNG files of random pixels (``smooth``: an 8x8 random image enlarged, a picture a
    model can learn something from in a few steps)."""
    folder.mkdir(exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(count):
        if smooth:
            image = Image.fromarray(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)).resize(
                (side + i, side), Image.Resampling.BICUBIC)
        else:
            image = Image.fromarray(rng.integers(0, 256, (side, side + i, 3), dtype=np.uint8))
        image.save(folder / f"p{i}.png")
    return folder


@pytest.mark.slow
def test_tiny_study_writes_everything_and_resumes(tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, stdout, stderr = study(*TINY, "--out", str(out))
    assert code == 0, stderr
    assert {"report.html", "results.csv", "results.json", "recommendation.md", "study.db"} <= set(os.listdir(out))
    assert "Recommendation:" in stdout and "bilinear [2]" in stdout and "transposed [2]" in stdout
    rows = list(csv.DictReader((out / "results.csv").open()))
    assert sorted(r["key"] for r in rows) == ["bilinear@2", "transposed@2"]
    data = json.loads((out / "results.json").read_text())
    assert len(data["trials"]) == 4 and {t["seed"] for t in data["trials"]} == {0, 1}
    assert all(t["train_seconds"] > 0 and t["macs"] > 0 and t["peak_memory_bytes"] > 0 for t in data["trials"])
    with OptunaEngine(f"sqlite:///{out / 'study.db'}", "upsamplekit-study", create=False) as engine:
        assert sorted(engine.pictures()) == ["bilinear@2", "transposed@2"]  # the seed-0 reconstructions
    # The report command writes the same report from the storage alone.
    result = CliRunner().invoke(app, ["report", "--out", str(out)])
    assert result.exit_code == 0 and json.loads((out / "results.json").read_text()) == data
    # The same command again: nothing is trained, the stored numbers come back unchanged.
    code, stdout, stderr = study(*TINY, "--out", str(out))
    assert code == 0 and "already finished" in stderr
    assert json.loads((out / "results.json").read_text())["trials"] == data["trials"]
    # More seeds reuse the finished ones.
    code, _, stderr = study(*TINY, "--out", str(out), "--seeds", "3")
    assert code == 0, stderr
    trials = json.loads((out / "results.json").read_text())["trials"]
    assert len(trials) == 6 and [t for t in trials if t["seed"] < 2] == data["trials"]
    # Other training settings are refused, naming the difference; the study stays intact.
    code, _, stderr = study(*TINY, "--out", str(out), "--steps", "5")
    assert code == 2 and "steps: stored 4, now 5" in stderr
    assert len(json.loads((out / "results.json").read_text())["trials"]) == 6


@pytest.mark.slow
def test_user_images_and_user_decoder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "mydecoder.py").write_text(textwrap.dedent("""
        import torch
        def build(upsample, *, in_channels, out_channels, schedule, dims):
            layers = [torch.nn.Conv2d(in_channels, 4, 3, padding=1)]
            for factor in schedule:
                layers.append(upsample(4, 4, factor))
            layers.append(torch.nn.Conv2d(4, out_channels, 3, padding=1))
            return torch.nn.Sequential(*layers)
    """))
    monkeypatch.chdir(tmp_path)
    images = photos(tmp_path / "photos", 3, smooth=True)
    code, stdout, stderr = study(*TINY, "--images", str(images), "--decoder", "mydecoder:build",
                                 "--out", "out")
    assert code == 0, stderr
    data = json.loads(Path("out/results.json").read_text())
    assert data["config"]["decoder"] == "mydecoder:build" and data["config"]["images"] == str(images)
    # The user's decoder is what was measured: 2 convs of 4 channels around the upsampler.
    params = {t["candidate"]: t["params"] for t in data["trials"]}
    assert params["bilinear@2"] == (3 * 9 * 4 + 4) + (4 * 9 * 3 + 3)  # the learned skip gain is not the decoder's


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--images", "{tmp}/none"], "images must be an existing folder, but '{tmp}/none' does not exist"),
        (["--images", "{tmp}/empty"], "has no PNG or JPEG files"),
        (["--images", "{tmp}/small"], "smaller than the crop of 32 pixels"),
        (["--upsamplers", "bilinear,subpixle"], "'subpixle'; did you mean 'subpixel'"),
        (["--schedules", "3"], "schedule must be factors >= 2 that multiply to scale=2"),
        (["--decoder", "nosuchmodule:f"], "module 'nosuchmodule' cannot be imported"),
        (["--config", "{tmp}/bad.toml"], "unknown key 'stpes' in {tmp}/bad.toml, line 2; did you mean 'steps'?"),
    ],
)
def test_bad_input_is_one_clear_line(tmp_path: Path, args: list[str], words: str) -> None:
    (tmp_path / "empty").mkdir()
    photos(tmp_path / "small", 3, side=20)
    (tmp_path / "bad.toml").write_text("seeds = 2\nstpes = 3\n")
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    code, stdout, stderr = study(*TINY, "--out", str(tmp_path / "out"), *args)
    assert code == 2 and stdout == ""
    last = stderr.strip().splitlines()[-1]  # after the one-line plan of the study
    assert last.startswith("Error: ") and stderr.count("Error") == 1 and "Traceback" not in stderr
    assert words.replace("{tmp}", str(tmp_path)) in last


def test_a_corrupt_study_database_is_refused_and_kept(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "study.db").write_bytes(b"not a database" * 100)
    code, _, stderr = study(*TINY, "--out", str(out))
    assert code == 2 and "cannot be opened" in stderr and "left untouched" in stderr
    assert (out / "study.db").read_bytes() == b"not a database" * 100


def test_help_documents_every_setting() -> None:
    import dataclasses

    from upsamplekit.study.config import StudyConfig

    result = CliRunner().invoke(app, ["study", "--help"], terminal_width=200)
    assert result.exit_code == 0
    for f in dataclasses.fields(StudyConfig):
        assert f"--{f.name.replace('_', '-')}" in result.stdout


def one_error(result: object, words: str) -> str:
    """The command failed with status 2 and one `Error:` line (after the plan line) holding ``words``."""
    code, stdout, stderr = result  # type: ignore[misc]
    last = stderr.strip().splitlines()[-1] if stderr.strip() else ""
    assert code == 2 and stdout == "", stderr
    lines = stderr.strip().splitlines()
    assert last.startswith("Error: ") and sum(line.startswith("Error") for line in lines) == 1, stderr
    assert "Traceback" not in stderr and words in last, last
    return last


def test_out_must_be_a_writable_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("keep me")
    one_error(study(*TINY, "--out", "afile"), "out must be a directory, but 'afile' is a file")
    one_error(study(*TINY, "--out", "afile/sub"), "'afile/sub' lies under 'afile', which is a file")
    one_error(study(*TINY, "--out", ""), "out must not be empty")
    one_error(study(*TINY, "--out", "  "), "out must not be empty")
    # /proc/self is not writable, even for root.
    one_error(study(*TINY, "--out", "/proc/self/upsamplekit-out"), "cannot be created: '/proc/self' is not writable")
    assert (tmp_path / "afile").read_text() == "keep me" and sorted(os.listdir(tmp_path)) == ["afile"]
    result = CliRunner().invoke(app, ["report", "--out", ""])
    assert result.exit_code == 2 and "out must name a folder" in result.stderr
    result = CliRunner().invoke(app, ["report", "--out", "afile"])
    assert result.exit_code == 2 and "'afile' is a file" in result.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_out_in_a_read_only_folder(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        one_error(study(*TINY, "--out", str(locked / "sub")), "is not writable")
        one_error(study(*TINY, "--out", str(locked)), "is not writable")
    finally:
        locked.chmod(0o755)


@pytest.mark.parametrize(("source", "words"), [
    ("raise RuntimeError('boom at import')", "importing module 'baddecoder' raised RuntimeError: boom at import"),
    ("def build(:\n    pass", "importing module 'baddecoder' raised SyntaxError"),
    ("import sys\nsys.exit(3)", "importing module 'baddecoder' raised SystemExit: 3"),
    ("1 / 0", "raised ZeroDivisionError"),
])
def test_a_decoder_module_that_raises_at_import_is_one_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             source: str, words: str) -> None:
    (tmp_path / "baddecoder.py").write_text(source + "\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delitem(sys.modules, "baddecoder", raising=False)
    one_error(study(*TINY, "--out", "out", "--decoder", "baddecoder:build"), words)


@pytest.mark.parametrize(("returned", "words"), [("(y, y)", "returned a tuple of 2 items"),
                                                 ("{'image': y}", "returned a dict of 1 items")])
def test_a_decoder_whose_forward_returns_a_tuple_or_dict_is_one_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                      returned: str, words: str) -> None:
    (tmp_path / "pairdecoder.py").write_text(textwrap.dedent(f"""
        import torch
        class Pair(torch.nn.Module):
            def __init__(self, up):
                super().__init__()
                self.up = up
            def forward(self, x):
                y = self.up(x)
                return {returned}
        def build(upsample, *, in_channels, out_channels, schedule, dims):
            return Pair(upsample(in_channels, out_channels, schedule[0]))
    """))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delitem(sys.modules, "pairdecoder", raising=False)
    last = one_error(study(*TINY, "--out", "out", "--decoder", "pairdecoder:build"),
                     "the decoder's forward must return one tensor (N, 3, H, W)")
    assert words in last


# ---------------------------------------------------------------------------------------------- tampered storage
SMALL = ["--upsamplers", "bilinear", "--schedules", "2", "--scale", "2", "--steps", "2", "--seeds", "1",
         "--batch-size", "2", "--crop", "16", "--val-crops", "1", "--val-size", "32", "--latency-size", "8",
         "--no-progress"]


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished one-trial study; first a run with a bad --images folder in the same --out, which must store
    nothing that keeps the corrected run from starting."""
    out = tmp_path_factory.mktemp("finished") / "out"
    code, _, stderr = study(*SMALL, "--out", str(out), "--images", str(out.parent / "missing"))
    assert code == 2 and "images must be an existing folder" in stderr
    code, _, stderr = study(*SMALL, "--out", str(out))
    assert code == 0, stderr
    return out / "study.db"


def _sql(statement: str) -> Callable[[Path], None]:
    def tamper(folder: Path) -> None:
        with contextlib.closing(sqlite3.connect(folder / "study.db")) as db:
            db.execute(statement)
            db.commit()
    return tamper


def _zero_page(page: int) -> Callable[[Path], None]:
    def tamper(folder: Path) -> None:
        data = bytearray((folder / "study.db").read_bytes())
        data[(page - 1) * 4096:page * 4096] = bytes(4096)
        (folder / "study.db").write_bytes(bytes(data))
    return tamper


TAMPERS = {
    "zeroed header page": (_zero_page(1), "cannot be opened (it is damaged: file is not a database)"),
    "zeroed table page": (_zero_page(7), "cannot be opened (it is damaged: database disk image is malformed)"),
    "truncated": (lambda d: (d / "study.db").write_bytes((d / "study.db").read_bytes()[:20000]), "is damaged"),
    "invalid study JSON": (_sql("update study_user_attributes set value_json='{bad' where key='settings'"),
                           "JSONDecodeError"),
    "NULL study attribute": (_sql("update study_user_attributes set value_json=NULL where key='config'"),
                             "TypeError"),
    "invalid trial JSON": (_sql("update trial_user_attributes set value_json='{bad' where key='result'"),
                           "JSONDecodeError"),
    "NULL trial attribute": (_sql("update trial_user_attributes set value_json=NULL where key='candidate'"),
                             "TypeError"),
    "NULL trial value": (_sql("update trial_values set value=NULL where objective=0"), "is damaged"),
    "unknown trial state": (_sql("update trials set state='BOGUS'"), "'BOGUS'"),
    "result of the wrong kind": (_sql("update trial_user_attributes set value_json='[1, 2]' where key='result'"),
                                 "result is not a table but [1, 2]"),
    "result field NULL": (_sql("update trial_user_attributes set value_json=json_set(value_json, '$.psnr', json('null'))"
                               " where key='result'"), "psnr must be a number, but got None"),
    "seed of the wrong kind": (_sql("update trial_user_attributes set value_json='\"x\"' where key='seed'"),
                               "seed 'x'"),
    "lock is a directory": (lambda d: (d / "study.db.lock").mkdir(), "lock file"),
    "database is a directory": (lambda d: ((d / "study.db").unlink(), (d / "study.db").mkdir()),
                                "must be a file, but it is a directory"),
}


@pytest.mark.parametrize("name", list(TAMPERS))
def test_a_tampered_study_database_is_refused_and_kept(finished: Path, tmp_path: Path, name: str) -> None:
    tamper, words = TAMPERS[name]
    out = tmp_path / "out"
    out.mkdir()
    shutil.copy(finished, out / "study.db")
    tamper(out)

    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}

    def snapshot() -> dict[str, bytes]:  # the lock file the command takes may appear; the rest stays as it was
        return {name: (out / name).read_bytes() for name in before}

    last = one_error(study(*SMALL, "--out", str(out)), words)
    assert "left untouched" in last
    assert snapshot() == before
    if name != "lock is a directory":  # the report takes no lock
        result = CliRunner().invoke(app, ["report", "--out", str(out)])
        assert result.exit_code == 2 and result.stderr.startswith("Error: ") and words in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
        assert "Traceback" not in result.output and snapshot() == before


@pytest.mark.parametrize(("key", "value", "words"), [("candidates", '["nope"]', "got 'nope'"),
                                                     ("pictures", '{"input": "!!!"}', "base64"),
                                                     ("seeds", '"two"', "'seeds' is not a int")])
def test_a_report_of_tampered_settings_is_refused(finished: Path, tmp_path: Path, key: str, value: str,
                                                   words: str) -> None:
    out = tmp_path / "out"
    out.mkdir()
    shutil.copy(finished, out / "study.db")
    _sql(f"update study_user_attributes set value_json='{value}' where key='{key}'")(out)
    before = (out / "study.db").read_bytes()
    result = CliRunner().invoke(app, ["report", "--out", str(out)])
    assert result.exit_code == 2 and result.stderr.startswith("Error: ") and len(result.stderr.splitlines()) == 1
    assert "cannot be read (it is damaged" in result.stderr and words in result.stderr
    assert (out / "study.db").read_bytes() == before
