"""Dependencies by use: the core works with torch, numpy and click alone, and a feature of the
``study`` extra used without it fails with one error that names the extra.

The missing packages are simulated in a fresh interpreter by ``sys.modules[name] = None``: importing
one raises ``ModuleNotFoundError`` and ``importlib.util.find_spec`` returns None, as for a package
that is not installed.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

#: What `pip install 'upsamplekit[study]'` adds (by the name each is imported as).
STUDY_EXTRA = ("optuna", "sqlalchemy", "skimage", "PIL", "tqdm", "matplotlib")

_HOOK = f"""
import sys
for name in {STUDY_EXTRA!r}:
    sys.modules[name] = None  # what Python does for these: `import` raises ModuleNotFoundError, find_spec gives None
"""


def run_without_study_extra(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", _HOOK + textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=300)


def test_the_core_works_without_the_study_extra() -> None:
    result = run_without_study_extra("""
        import torch, upsamplekit
        from upsamplekit.nn import upsampler_info
        x = torch.rand(1, 4, 8, 8)
        assert upsamplekit.resize(x, scale_factor=2, method="bicubic", convention="tf").shape == (1, 4, 16, 16)
        for name in upsamplekit.list_upsamplers():
            layer = upsamplekit.build_upsampler(name, in_channels=4, out_channels=4, scale=2)
            guided = upsampler_info(name).guided  # layer(x, guide): the encoder feature at 16 x 16
            inputs = (x, torch.rand(1, 4, 16, 16)) if guided else (x,)
            assert layer(*inputs).shape == (1, 4, 16, 16), name
            assert upsamplekit.count_macs(layer, *inputs) >= 0
        assert upsamplekit.explain("torch: nn.Upsample(scale_factor=2)", "keras: UpSampling2D(size=2)").equivalent
        model = torch.nn.Sequential(torch.nn.Upsample(scale_factor=2), torch.nn.Conv2d(4, 4, 3, padding=1))
        assert type(upsamplekit.fold(model)[1]).__name__ == "FoldedConv"
        assert upsamplekit.conv_transpose_output_size(16, kernel_size=4, stride=2, padding=1) == 32
        print("core ok")
    """)
    assert result.returncode == 0 and "core ok" in result.stdout, result.stderr[-4000:]


@pytest.mark.parametrize("code", [
    "from upsamplekit.images import bundled_image; bundled_image('camera')",
    "from upsamplekit.images import read_image_file; read_image_file('picture.png')",
    "from upsamplekit.study import StudyConfig, run_study; run_study(StudyConfig(steps=1))",
])
def test_a_study_feature_without_the_extra_names_it(code: str) -> None:
    result = run_without_study_extra(f"""
        from upsamplekit.errors import MissingDependencyError
        try:
            {code}
        except MissingDependencyError as error:
            print("MESSAGE:", error)
    """)
    assert result.returncode == 0, result.stderr[-4000:]
    message = result.stdout.partition("MESSAGE: ")[2]
    assert "is not installed: pip install 'upsamplekit[study]'" in message, result.stdout + result.stderr[-2000:]


def test_the_study_command_without_the_extra_is_one_clear_error(tmp_path) -> None:
    result = run_without_study_extra(f"""
        import sys
        from upsamplekit.cli import main
        sys.argv = ["upsamplekit", "study", "--quick", "--out", {str(tmp_path / "out")!r}, "--no-progress"]
        main()
    """)
    assert result.returncode == 2, result.stderr[-4000:]
    assert result.stderr.strip().splitlines()[-1].startswith("Error: ")
    assert "pip install 'upsamplekit[study]'" in result.stderr and "Traceback" not in result.stderr
