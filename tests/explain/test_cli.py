"""``upsamplekit explain`` and ``upsamplekit compare``: thin commands over the library."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from upsamplekit.cli import app
from upsamplekit.explainer import explain

A = "torch: nn.Upsample(scale_factor=2, mode='bilinear')"
B = "convtranspose: bilinear(kernel=4, stride=2, padding=1)"


def test_explain_prints_the_library_text() -> None:
    result = CliRunner().invoke(app, ["explain", A, B, "--size", "4,4", "--size", "5x7"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == str(explain(A, B, sizes=[(4, 4), (5, 7)]))


def test_explain_json_plot_and_exit_code(tmp_path: Path) -> None:
    plot = tmp_path / "e.png"
    result = CliRunner().invoke(app, ["explain", A, B, "--json", "--plot", str(plot), "--exit-code", "--size", "6"])
    assert result.exit_code == 1  # not equivalent
    data = json.loads(result.stdout)
    assert data["where"] == "border ring" and data["sizes"][0]["input"] == [6, 6]
    assert plot.read_bytes()[:4] == b"\x89PNG"
    same = CliRunner().invoke(app, ["explain", A, "keras: UpSampling2D(interpolation='bilinear')", "--exit-code",
                                    "--no-fix"])
    assert same.exit_code == 0, same.output
    assert "verdict: EQUIVALENT" in same.output


def test_explain_errors_are_one_message_with_exit_code_2() -> None:
    result = CliRunner().invoke(app, ["explain", "torch: nn.Upsample(scale_factor=2", B])
    assert result.exit_code == 2
    assert "A: cannot parse the call: '(' was never closed" in result.output
    assert "^ (column 18)" in result.output and "Traceback" not in result.output
    bad_size = CliRunner().invoke(app, ["explain", A, B, "--size", "0"])
    assert bad_size.exit_code == 2 and "positive integers" in bad_size.output


def test_compare_writes_the_grid_and_scores(tmp_path: Path) -> None:
    out = tmp_path / "grid.png"
    result = CliRunner().invoke(app, ["compare", "camera", "--scale", "4", "--methods", "nearest,bicubic",
                                      "--methods", "subpixel", "--train-steps", "0", "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [t["name"] for t in data["tiles"]] == ["nearest", "bicubic"]
    assert data["skipped"] == [{"name": "subpixel", "reason": "learned: skipped with train_steps=0"}]
    assert data["tiles"][1]["psnr"] > data["tiles"][0]["psnr"]
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_compare_rejects_unknown_methods_and_images(tmp_path: Path) -> None:
    out = str(tmp_path / "g.png")
    result = CliRunner().invoke(app, ["compare", "camera", "--methods", "bicubicc", "--out", out])
    assert result.exit_code == 2 and "did you mean 'bicubic'?" in result.output
    result = CliRunner().invoke(app, ["compare", "astronot", "--out", out])
    assert result.exit_code == 2 and "did you mean 'astronaut'?" in result.output
    result = CliRunner().invoke(app, ["compare", "camera", "--zoom", "1,2", "--out", out])
    assert result.exit_code == 2 and "TOP,LEFT,SIZE" in result.output
