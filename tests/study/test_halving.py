"""The halving budget (issue 14): rungs, decisions, bit-exact continuation from stored checkpoints,
resume, damaged and foreign checkpoints, and the summary of a halving study.

References: a straight run of the same schedule (no checkpoint stored) for continuation, a plain
:class:`~upsamplekit.study.train.Trainer` run without decay branches for the trunk, and the
separability rule of :mod:`upsamplekit.study.analysis` for the decisions.
"""

from __future__ import annotations

import io
import json
import sqlite3
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from upsamplekit._version import __version__
from upsamplekit.cli import app
from upsamplekit.study import core
from upsamplekit.study.analysis import separable
from upsamplekit.study.budget import (
    Decision,
    account,
    decay_steps,
    plan,
    rung_problem,
    rung_steps,
    spent_steps,
    trial_steps,
    trunk_end,
)
from upsamplekit.study.config import ConfigError, StudyConfig
from upsamplekit.study.core import (
    CheckpointVersionError,
    CheckpointWarning,
    Workbench,
    checkpoint_name,
    pack_checkpoint,
    unpack_checkpoint,
)
from upsamplekit.study.engine.checkpoints import TABLE, CheckpointStore, FolderCheckpoints
from upsamplekit.study.results import Candidate, Stat, TrialResult
from upsamplekit.study.runner import run_study
from upsamplekit.study.train import Trainer, stable_rate

SMALL = dict(upsamplers="bilinear,subpixel,nearest", schedules="2", scale="2", steps="60", seeds="2", batch_size="4",
             crop="16", val_crops="1", val_size="16", latency_size="8", threads="1", budget="halving", eta="2",
             rungs="3")
#: Numbers that do not depend on the machine's load (latency and timings do).
EXACT = ("psnr", "ssim", "checkerboard", "params", "macs", "peak_memory_bytes", "final_loss", "curve", "rung")


class MemoryStore(CheckpointStore):
    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}

    def save(self, name: str, data: bytes) -> None:
        self.data[name] = data

    def load(self, name: str) -> bytes | None:
        return self.data.get(name)

    def where(self, name: str) -> str:
        return f"memory {name!r}"


def config(**overrides: str) -> StudyConfig:
    return StudyConfig.build(overrides={**SMALL, **overrides})


@pytest.fixture(scope="module")
def bench() -> Workbench:
    torch.set_num_threads(1)
    return Workbench.prepare(config())


def result(candidate: str, seed: int, rung: int, value: float) -> TrialResult:
    return TrialResult(Candidate(candidate, (2,)), seed, value, 0.9, 0.01, 10, 100, 1.0, 0.1, 1000, 1.0, 0.1, 0.01,
                       [[0, 20.0], [10 * (rung + 1), value]], rung)


# ------------------------------------------------------------------------------------------ schedule
def test_rungs_grow_by_eta_and_each_decays_from_the_stable_phase() -> None:
    ends = rung_steps(400, 3, 3)
    assert ends == [44, 133, 400]
    assert [trunk_end(e) for e in ends] == [e - decay_steps(e) for e in ends] == [35, 106, 320]
    # A finalist trains the whole trunk once plus every rung's decay.
    assert spent_steps(ends, 2) == 400 + decay_steps(44) + decay_steps(133) == sum(trial_steps(ends, r) for r in range(3))
    assert rung_problem(400, 3, 3) is None
    assert "must outlast the warm-up (20 steps)" in rung_problem(400, 3, 5)


@pytest.mark.parametrize(("overrides", "message"), [
    ({"eta": "1"}, "eta must be >= 2, but got 1"),
    ({"seeds": "1"}, "budget 'halving' needs seeds >= 2, but got seeds=1"),
    ({"rungs": "1"}, "rungs must be >= 2, but got 1"),
    ({"steps": "20", "rungs": "4"}, "budget 'halving': rungs=4 with eta=2 makes the first rung"),
    ({"budget": "halfing"}, "budget must be one of 'full', 'halving', but got 'halfing'; did you mean 'halving'?"),
])
def test_bad_halving_settings_are_clear_errors(overrides: dict[str, str], message: str) -> None:
    with pytest.raises(Exception) as error:
        config(**overrides)
    assert message in str(error.value)
    result_ = CliRunner().invoke(app, ["study", *[f"--{k.replace('_', '-')}={v}" for k, v in {**SMALL, **overrides}.items()],
                                       "--out", "never"])
    assert result_.exit_code != 0 and message in result_.output


def test_halving_makes_the_seeds_a_setting_of_the_study() -> None:
    assert config().trial_settings()["seeds"] == 2
    assert "seeds" not in config(budget="full").trial_settings()  # full studies may grow their seeds


# ------------------------------------------------------------------------------------------ decisions
def test_a_rung_is_decided_when_its_last_trial_finishes_and_stops_only_the_separably_worse() -> None:
    names = ["bilinear", "subpixel", "nearest"]
    candidates = [Candidate(n, (2,)) for n in names]
    rung0 = {"bilinear": (30.00, 30.02), "subpixel": (30.01, 30.04), "nearest": (29.50, 29.52)}
    results = [result(n, s, 0, v[s]) for n, v in rung0.items() for s in range(2)]
    specs, new = plan(candidates, 2, 3, results[:-1], [], {})
    assert new == {} and {s.rung for s in specs} == {0}  # one trial of rung 0 still running
    specs, new = plan(candidates, 2, 3, results, [], {})
    best = Stat.of([30.01, 30.04])
    assert new == {0: Decision(0, "subpixel@2", best)}
    assert separable(best, Stat.of([29.50, 29.52])) and not separable(best, Stat.of([30.00, 30.02]))
    assert sorted((s.candidate.upsampler, s.seed) for s in specs if s.rung == 1) == \
        [("bilinear", 0), ("bilinear", 1), ("subpixel", 0), ("subpixel", 1)]
    # Taken once: with the decision kept, planning again decides nothing new and asks for the same trials.
    again, none = plan(candidates, 2, 3, results, [], new)
    assert none == {} and again == specs
    # A collapsed or failed trial settles its rung: its candidate does not go on.
    crashed = results[:-1]
    specs, new = plan(candidates, 2, 3, crashed, [("nearest@2", 1, 0)], {})
    assert 0 in new and not any(s.candidate.upsampler == "nearest" and s.rung == 1 for s in specs)
    # A candidate finishing rung 0 later (a rerun, or a candidate added to the grid) is judged against the kept best.
    late = [*results, result("bicubic", 0, 0, 30.03), result("bicubic", 1, 0, 30.0)]
    specs, _ = plan([*candidates, Candidate("bicubic", (2,))], 2, 3, late, [], new | {0: Decision(0, "subpixel@2", best)})
    assert {(s.candidate.upsampler, s.seed) for s in specs if s.rung == 1} >= {("bicubic", 0), ("bicubic", 1)}


def test_decisions_break_ties_the_same_way_in_every_process() -> None:
    candidates = [Candidate(n, (2,)) for n in ("bilinear", "subpixel")]
    results = [result(n, s, 0, 30.0 + s) for n in ("bilinear", "subpixel") for s in range(2)]
    assert plan(candidates, 2, 2, results, [], {})[1] == plan(candidates[::-1], 2, 2, results[::-1], [], {})[1]


# ------------------------------------------------------------------------------------------ continuation
def trained(bench: Workbench, store: CheckpointStore, rungs: list[int], candidate: Candidate | None = None,
            seed: int = 0) -> list[tuple[TrialResult, np.ndarray]]:
    candidate = candidate or Candidate("subpixel", (2,))
    return [bench.run_trial(candidate, seed, rung=r, checkpoints=store) for r in rungs]


def same(a: tuple[TrialResult, np.ndarray], b: tuple[TrialResult, np.ndarray]) -> None:
    ra, rb = a[0].to_dict(), b[0].to_dict()
    assert {k: ra[k] for k in EXACT} == {k: rb[k] for k in EXACT}
    assert np.array_equal(a[1], b[1])


def states_equal(a: bytes, b: bytes) -> bool:
    sa, sb = (unpack_checkpoint(x, "test")["state"] for x in (a, b))
    return sa["step"] == sb["step"] and all(torch.equal(sa["model"][k], sb["model"][k]) for k in sa["model"]) and \
        torch.equal(sa["generator"], sb["generator"]) and all(
            torch.equal(x, y) for i in sa["optimizer"]["state"]
            for x, y in zip(sa["optimizer"]["state"][i].values(), sb["optimizer"]["state"][i].values()))


def test_a_candidate_continued_from_checkpoints_equals_a_straight_run_bit_for_bit(bench: Workbench) -> None:
    continued = MemoryStore()
    by_rung = trained(bench, continued, [0, 1, 2])
    assert sorted(continued.data) == [checkpoint_name(Candidate("subpixel", (2,)), 0, r) for r in (0, 1)]
    straight = MemoryStore()
    with pytest.warns(CheckpointWarning, match="it is missing"):  # nothing stored: it trains every rung itself
        final = trained(bench, straight, [2])[0]
    same(by_rung[2], final)
    for name in continued.data:
        assert states_equal(continued.data[name], straight.data[name])
    ends = rung_steps(60, 2, 3)
    assert [p[0] for p in final[0].curve] == [0, *ends] and final[0].steps == 60
    # The decays branched off for evaluation leave the trunk as a run without them.
    torch.manual_seed(0)
    model = bench.task.build(Candidate("subpixel", (2,))).to(bench.device)
    batches = torch.Generator().manual_seed(10_000)
    trainer = Trainer(model, lambda: bench.task.pair(bench.sampler(4, batches), batches), bench.config.lr,
                      generator=batches)
    trainer.train(trunk_end(ends[1]), lambda step: stable_rate(step, 3))
    trunk = unpack_checkpoint(continued.data[checkpoint_name(Candidate("subpixel", (2,)), 0, 1)], "t")["state"]
    assert trunk["step"] == trainer.step
    assert all(torch.equal(v, trunk["model"][k]) for k, v in model.state_dict().items())


def test_a_damaged_or_missing_checkpoint_retrains_its_rung_with_a_warning_and_the_same_result(bench: Workbench) -> None:
    store = MemoryStore()
    reference = trained(bench, store, [0, 1, 2])[2]
    name = checkpoint_name(Candidate("subpixel", (2,)), 0, 1)
    good = store.data[name]
    store.data[name] = good[: len(good) // 2]  # truncated, as by a full disk
    with pytest.warns(CheckpointWarning) as caught:
        again = trained(bench, store, [2])[0]
    message = str(caught[0].message)
    assert "subpixel [2] seed 0 at rung 1 (memory 'subpixel@2/seed0/rung1') cannot be used" in message
    assert "rung 1 is trained again from rung 0's checkpoint" in message
    same(reference, again)
    assert states_equal(store.data[name], good)  # written anew
    del store.data[name]
    with pytest.warns(CheckpointWarning, match="it is missing"):
        same(reference, trained(bench, store, [2])[0])


def test_a_checkpoint_of_another_version_is_refused_naming_both(bench: Workbench) -> None:
    store = MemoryStore()
    trained(bench, store, [0])
    name = checkpoint_name(Candidate("subpixel", (2,)), 0, 0)
    payload = torch.load(io.BytesIO(store.data[name]), weights_only=True)
    payload["upsamplekit"] = "0.0.9"
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    store.data[name] = buffer.getvalue()
    with pytest.raises(CheckpointVersionError) as error:
        trained(bench, store, [1])
    assert f"written by upsamplekit 0.0.9 (format 1), and this is upsamplekit {__version__}" in str(error.value)
    assert "memory 'subpixel@2/seed0/rung0'" in str(error.value)
    with pytest.raises(ValueError, match="it is not an upsamplekit checkpoint"):
        buffer = io.BytesIO()
        torch.save({"weights": torch.zeros(1)}, buffer)
        unpack_checkpoint(buffer.getvalue(), "x")
    assert unpack_checkpoint(pack_checkpoint({"step": 1}, [[0, 1.0]]), "x")["curve"] == [[0, 1.0]]


def test_folder_checkpoints_replace_atomically(tmp_path: Path) -> None:
    store = FolderCheckpoints(tmp_path / "study.log.checkpoints" / "s")
    assert store.load("a@2/seed0/rung0") is None
    store.save("a@2/seed0/rung0", b"one")
    store.save("a@2/seed0/rung0", b"two")
    assert store.load("a@2/seed0/rung0") == b"two"
    assert [p.name for p in store.folder.iterdir()] == [Path(store.where("a@2/seed0/rung0")).name]


# ------------------------------------------------------------------------------------------ a halving study
@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("reference")
    run = run_study(config(out=str(out)), progress=False)
    return {"run": run, "out": out, "json": json.loads((out / "results.json").read_text())}


def test_a_halving_study_stops_the_separably_worse_and_spends_less(reference: dict) -> None:
    run = reference["run"]
    summary = run.summary
    rows = {r.candidate.upsampler: r for r in summary.candidates}
    ranked = [r for r in summary.candidates if r.ranked]
    assert ranked and all(r.rung == 2 and r.steps == 60 for r in ranked)
    stopped = [r for r in summary.candidates if r.stopped]
    assert stopped and all(not r.ranked and r.rung < 2 for r in stopped)
    for row in stopped:
        assert f"separably worse than {ranked[0].candidate.label}" in row.stopped
    assert summary.recommendation is not None and rows[summary.recommendation.candidate.upsampler].ranked
    budget = summary.budget
    ends = rung_steps(60, 2, 3)
    assert budget == account(summary.config, [r.candidate for r in summary.candidates], 2, summary.trials, [])
    assert budget["steps_full"] == 3 * 2 * 60 and budget["rung_steps"] == ends
    assert budget["steps_spent"] == sum(2 * spent_steps(ends, r.rung) for r in summary.candidates)
    assert budget["steps_spent"] < budget["steps_full"] and budget["finalists"] == len(ranked)
    # Checkpoints live with the study: in its SQLite database.
    with sqlite3.connect(reference["out"] / "study.db") as db:
        names = {name for (name,) in db.execute(f"SELECT name FROM {TABLE}")}
    assert names == {checkpoint_name(t.candidate, t.seed, t.rung) for t in summary.trials if t.rung < 2}


class Interrupt(KeyboardInterrupt):
    """Ctrl-C (a subclass: see upsamplekit.cli.study.Terminated for why a bare one is not raised here)."""


def interrupt_at(monkeypatch: pytest.MonkeyPatch, rung: int, count: int) -> list[tuple[str, int, int]]:
    """Make the ``count``-th trial of ``rung`` raise Ctrl-C (once); return the list of trials started."""
    calls: list[tuple[str, int, int]] = []
    original = Workbench.run_trial
    armed = [True]

    def run_trial(self, candidate, seed, on_step=None, rung_=0, checkpoints=None):  # noqa: ANN001, ANN202
        calls.append((candidate.key, seed, rung_))
        if armed[0] and rung_ == rung and sum(c[2] == rung for c in calls) == count:
            armed[0] = False
            raise Interrupt
        return original(self, candidate, seed, on_step, rung_, checkpoints)

    monkeypatch.setattr(Workbench, "run_trial", lambda self, c, s, on_step=None, rung=0, checkpoints=None:
                        run_trial(self, c, s, on_step, rung, checkpoints))
    return calls


def same_trials(out: Path, reference: dict) -> None:
    got = {(t["candidate"], t["seed"], t["rung"]): t for t in json.loads((out / "results.json").read_text())["trials"]}
    want = {(t["candidate"], t["seed"], t["rung"]): t for t in reference["json"]["trials"]}
    assert got.keys() == want.keys()
    for key, trial in got.items():
        assert {k: trial[k] for k in EXACT} == {k: want[key][k] for k in EXACT}, key


def test_an_interrupted_halving_study_resumes_every_candidate_at_its_last_rung(
        tmp_path: Path, reference: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = interrupt_at(monkeypatch, rung=1, count=2)
    with pytest.raises(Interrupt):
        run_study(config(out=str(tmp_path)), progress=False)
    first = list(calls)
    calls.clear()
    run = run_study(config(out=str(tmp_path)), progress=False)
    assert not set(calls) & set(first[:-1])  # nothing finished before is trained again
    assert calls[0] == first[-1]  # the interrupted rung first, from its checkpoint
    same_trials(tmp_path, reference)
    assert run.summary.budget == reference["run"].summary.budget


def test_a_damaged_checkpoint_on_resume_retrains_that_rung_only_and_warns(
        tmp_path: Path, reference: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = interrupt_at(monkeypatch, rung=1, count=1)
    with pytest.raises(Interrupt):
        run_study(config(out=str(tmp_path)), progress=False)
    with sqlite3.connect(tmp_path / "study.db") as db:
        db.execute(f"UPDATE {TABLE} SET data = ? WHERE name = ?", (b"not a checkpoint", "subpixel@2/seed1/rung0"))
    calls.clear()
    with pytest.warns(CheckpointWarning) as caught:
        run_study(config(out=str(tmp_path)), progress=False)
    assert [str(w.message).split(":")[0] for w in caught] == [
        "the checkpoint of subpixel [2] seed 1 at rung 0 (row 'subpixel@2/seed1/rung0' of table "
        "upsamplekit_checkpoints) cannot be used"]
    assert not any(rung == 0 for _, _, rung in calls)  # no rung-0 trial ran again: only its training, inside rung 1
    same_trials(tmp_path, reference)


def test_learned_nothing_is_a_collapse_at_the_last_rung_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A slow starter that has not moved at an early rung is left to the rung's decision; at the end of the
    budget, a model that never moved has collapsed."""
    (tmp_path / "still.py").write_text(
        "import torch\n"
        "class Still(torch.nn.Module):\n"
        "    def __init__(self, factor, out_channels):\n"
        "        super().__init__()\n"
        "        self.factor, self.out, self.w = factor, out_channels, torch.nn.Parameter(torch.zeros(1))\n"
        "    def forward(self, x):  # no gradient reaches anything: it never moves\n"
        "        n, _, h, w = x.shape\n"
        "        return 0 * self.w * x.new_ones(n, self.out, h * self.factor, w * self.factor)\n"
        "def build(upsample, *, in_channels, out_channels, schedule, dims):\n"
        "    return Still(schedule[0], out_channels)\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    args = [f"--{k.replace('_', '-')}={v}" for k, v in {**SMALL, "upsamplers": "bilinear"}.items()]
    outcome = CliRunner().invoke(app, ["study", *args, "--decoder", "still:build", "--out", "out", "--no-progress"])
    assert outcome.exit_code == 0, outcome.output
    assert "collapsed: bilinear [2] seed 0: CollapseError" in outcome.stderr
    assert "it learned nothing" in outcome.stderr and "(at rung 3 of 3, 60 steps)" in outcome.stderr
    data = json.loads((tmp_path / "out" / "results.json").read_text())
    assert sorted((t["seed"], t["rung"]) for t in data["trials"]) == [(0, 0), (0, 1), (1, 0), (1, 1)]
