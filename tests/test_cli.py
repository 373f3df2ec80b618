"""The command line: help lists the subcommands, commands print what the library computes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import torch
from click.testing import CliRunner

from upsamplekit import Resampling, resize
from upsamplekit.cli import app


def test_help_lists_the_subcommands() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("demo", "spec", "shapes", "study", "explain", "compare", "fold"):
        assert command in result.output


def test_console_script_runs() -> None:
    result = subprocess.run([sys.executable, "-m", "upsamplekit", "--help"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "demo" in result.stdout


def test_demo_prints_each_framework_result() -> None:
    result = CliRunner().invoke(app, ["demo", "--scale", "2"])
    assert result.exit_code == 0, result.output
    # The forum thread's nn.Upsample(align_corners=True) output, first row.
    assert "1.0000   1.3333   1.6667   2.0000" in result.output
    grid = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    expected = torch.nn.functional.interpolate(grid, scale_factor=2, mode="bicubic")[0, 0, 0]
    assert "  ".join(f"{v:7.4f}" for v in expected.tolist()) in result.output


def test_spec_prints_the_spec_and_onnx_attributes() -> None:
    result = CliRunner().invoke(app, ["spec", "torch", "bilinear", "align_corners=true"])
    assert result.exit_code == 0, result.output
    spec = Resampling.preset("torch", "bilinear", align_corners=True)
    assert repr(spec) in result.output
    assert "'coordinate_transformation_mode': 'align_corners'" in result.output
    lanczos = CliRunner().invoke(app, ["spec", "pillow", "lanczos"])
    assert "ONNX Resize: none (this Resampling has no ONNX Resize equivalent: kernel='lanczos'" in lanczos.output


def test_library_errors_are_one_line_with_exit_code_2() -> None:
    result = CliRunner().invoke(app, ["spec", "torch", "bilenear"])
    assert result.exit_code == 2
    assert "did you mean 'bilinear'?" in result.output
    assert "Traceback" not in result.output
    debug = CliRunner().invoke(app, ["--debug", "spec", "torch", "bilenear"])
    assert debug.exception is not None  # --debug lets the exception through


def test_demo_scale_is_validated() -> None:
    result = CliRunner().invoke(app, ["demo", "--scale", "0"])
    assert result.exit_code == 2
    assert "0 is not in the range 1<=x<=16" in result.output
    assert resize(torch.ones(1, 1, 2, 2), scale_factor=3).shape == (1, 1, 6, 6)


def compare_error(*args: str) -> str:
    """``upsamplekit compare`` refused the arguments: status 2, one `Error:` line, no traceback; that line."""
    result = CliRunner().invoke(app, ["compare", *args])
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error")]
    assert result.exit_code == 2 and len(errors) == 1 and "Traceback" not in result.output, result.output
    return errors[0]


def test_compare_refuses_an_empty_method_list(tmp_path: Path) -> None:
    out = str(tmp_path / "g.png")
    for empty in (",", " , ", ""):
        assert "expected at least one method name" in compare_error("camera", "--methods", empty, "--out", out)
    assert not (tmp_path / "g.png").exists()


def test_compare_refuses_a_zoom_outside_the_image(tmp_path: Path) -> None:
    out = str(tmp_path / "g.png")
    # camera is 512 x 512; with --scale 3 it is compared as 510 x 510.
    line = compare_error("camera", "--scale", "3", "--zoom", "500,0,11", "--methods", "nearest", "--out", out)
    assert "must lie inside the image" in line and "510x510" in line
    assert "must lie inside the image" in compare_error("camera", "--zoom", "0,480,40", "--out", out)
    result = CliRunner().invoke(app, ["compare", "camera", "--scale", "3", "--zoom", "499,0,11", "--methods", "nearest",
                                      "--out", out, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["zoom"] == [499, 0, 11]


def test_compare_refuses_an_unknown_extension_and_a_missing_folder(tmp_path: Path) -> None:
    for name in ("grid.xyz", "grid", "grid.png.txt"):
        assert "expected a file name ending in one of .png, .jpg" in compare_error("camera", "--out",
                                                                                   str(tmp_path / name))
    assert "does not exist" in compare_error("camera", "--out", str(tmp_path / "missing" / "g.png"))
    (tmp_path / "afile").write_text("x")
    assert "is a file" in compare_error("camera", "--out", str(tmp_path / "afile" / "g.png"))
    assert "is not in the range 0<=x<=" in compare_error("camera", "--seed", "-1", "--out", str(tmp_path / "g.png"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]
