"""`upsamplekit fold MODULE:FACTORY --input-shape ...`: builds, folds, checks, times; errors are one line."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from upsamplekit.cli import app

FACTORY = '''
import torch
from torch import nn
from upsamplekit.decoder import Decoder


def build():
    torch.manual_seed(0)
    return Decoder(3, 3, scale=4, schedule=[2, 2], upsampler="nearest", channels=8)


def with_align_corners():
    return nn.Sequential(nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True), nn.Conv2d(3, 3, 3))


def not_a_model():
    return 42


def broken():
    raise KeyError("no weights here")


class _Pair(nn.Module):
    def __init__(self, returns):
        super().__init__()
        torch.manual_seed(0)
        self.returns = returns
        self.up = nn.Upsample(scale_factor=2)
        self.conv = nn.Conv2d(3, 3, 3, padding=1)

    def forward(self, x):
        y = self.conv(self.up(x))
        return {"tuple": (y, y.mean()), "dict": {"image": y}, "none": None}[self.returns]


def returns_tuple():
    return _Pair("tuple")


def returns_dict():
    return _Pair("dict")


def returns_none():
    return _Pair("none")
'''


@pytest.fixture
def factory_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "fold_cli_models.py").write_text(FACTORY)
    (tmp_path / "fold_raises_at_import.py").write_text("raise RuntimeError('no GPU here')\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    sys.modules.pop("fold_cli_models", None)
    sys.modules.pop("fold_raises_at_import", None)


@pytest.mark.parametrize("factory", ["returns_tuple", "returns_dict"])
def test_a_model_that_returns_a_tuple_or_a_dict(factory_dir: Path, factory: str) -> None:
    """fold compares every floating-point tensor of the output, so these fold and are checked."""
    result = CliRunner().invoke(app, ["fold", f"fold_cli_models:{factory}", "--input-shape", "1,3,8,8",
                                      "--repeats", "1"])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output and "speed on input (1, 3, 8, 8)" in result.output


def test_folds_checks_and_times(factory_dir: Path) -> None:
    result = CliRunner().invoke(app, ["fold", "fold_cli_models:build", "--input-shape", "1,3,8,8", "--repeats", "2",
                                      "--threads", "1"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert re.fullmatch(r"folded (\d), left alone (\d)", lines[0]) and sum(map(int, re.findall(r"\d", lines[0]))) == 2
    # each stage is timed at its own input shape and kept only where the fold is faster
    assert "upsamplers.0 + refine.0.0" in result.output and "upsamplers.1 + refine.1.0" in result.output
    assert "nearest x2 + Conv2d 3x3 zeros -> Conv2d 8->32 2x2 on the low-resolution input" in result.output
    assert "measured" in result.output
    assert "outputs agree: largest difference" in result.output
    speed = [line for line in lines if line.startswith("speed on input (1, 3, 8, 8), 1 thread, median of 2:")]
    assert len(speed) == 1 and speed[0].endswith("x")


def test_reports_what_it_leaves_alone(factory_dir: Path) -> None:
    result = CliRunner().invoke(app, ["fold", "fold_cli_models:with_align_corners", "--input-shape", "1,3,6,6"])
    assert result.exit_code == 0, result.output
    assert "folded 0, left alone 1" in result.output and "align_corners=True" in result.output


@pytest.mark.parametrize(("arguments", "message"), [
    (["fold_cli_models:buld", "--input-shape", "1,3,8,8"], "has no attribute 'buld'; did you mean 'build'?"),
    (["fold_cli_models", "--input-shape", "1,3,8,8"], "factory must be written MODULE:FACTORY"),
    (["no_such_module_here:build", "--input-shape", "1,3,8,8"], "cannot import module 'no_such_module_here'"),
    (["fold_cli_models:not_a_model", "--input-shape", "1,3,8,8"], "must return a torch.nn.Module, but returned int"),
    (["fold_cli_models:broken", "--input-shape", "1,3,8,8"], "raised KeyError: 'no weights here'"),
    (["fold_cli_models:build", "--input-shape", "1,3,x"], "input shape must be positive integers"),
    (["fold_cli_models:build", "--input-shape", "1,4,8,8"],
     "example_input of shape (1, 4, 8, 8) does not fit the model"),
    (["fold_cli_models:returns_none", "--input-shape", "1,3,8,8"],
     "the model's output must be a floating-point tensor, or a tuple, list or dict holding one"),
    (["fold_raises_at_import:build", "--input-shape", "1,3,8,8"],
     "factory: importing module 'fold_raises_at_import' raised RuntimeError: no GPU here"),
    (["fold_cli_models:build", "--input-shape", "100000,3,10000,10000"], "is a float32 tensor of"),
])
def test_errors_are_one_line(factory_dir: Path, arguments: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["fold", *arguments])
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
