"""`upsamplekit study` end to end on tiny settings: outputs, resume, a user's decoder, and bad input."""

from __future__ import annotations

import csv
import json
import os
import textwrap
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


def photos(folder: Path, count: int, side: int = 40) -> Path:
    folder.mkdir(exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(count):
        Image.fromarray(rng.integers(0, 256, (side, side + i, 3), dtype=np.uint8)).save(folder / f"p{i}.png")
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
    images = photos(tmp_path / "photos", 3)
    code, stdout, stderr = study(*TINY, "--images", str(images), "--decoder", "mydecoder:build",
                                 "--task", "autoencoder", "--out", "out")
    assert code == 0, stderr
    data = json.loads(Path("out/results.json").read_text())
    assert data["config"]["decoder"] == "mydecoder:build" and data["config"]["images"] == str(images)
    # The user's decoder is what was measured: 2 convs of 4 channels around the upsampler.
    params = {t["candidate"]: t["params"] for t in data["trials"]}
    assert params["bilinear@2"] == (16 * 9 * 4 + 4) + (4 * 9 * 3 + 3)


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
