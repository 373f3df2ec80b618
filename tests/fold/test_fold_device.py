"""``fold`` by device (issue 15): on CUDA the folded form measured slower (an H200: nearest x2 + 3x3
at 0.08x-0.38x the original's speed, launch-bound), so without an example input the rewrites are
declined there, with that reason in the report; with one, they are timed on the example's device,
each call synchronised, and kept only where faster. CPU behaviour is unchanged.

The device decision is a pure function (:mod:`upsamplekit.folding.devices`), tested here with
``torch.device("cuda")``; the routing through ``fold`` is tested on CPU by faking the device the
folded layer reports. The tests at the end fold real CUDA models and skip without a GPU.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
import torch
from torch import nn

from upsamplekit.decoder import Decoder
from upsamplekit.folding import FoldedConv, fold
from upsamplekit.folding import devices, module
from upsamplekit.folding.timing import time_at_shape
from upsamplekit.nn import ResizeConv

from tests.conftest import needs_cuda

CUDA = torch.device("cuda")


def pair(mode: str = "nearest", dtype: torch.dtype = torch.float32) -> nn.Sequential:
    torch.manual_seed(0)
    up = nn.Upsample(scale_factor=2, mode=mode)
    return nn.Sequential(up, nn.Conv2d(4, 4, 3, padding=1, dtype=dtype))


def decoder() -> Decoder:
    torch.manual_seed(0)
    return Decoder(3, 3, scale=4, schedule=[2, 2], upsampler="nearest", channels=8)


def foldeds(model: nn.Module) -> list[FoldedConv]:
    return [m for m in model.modules() if isinstance(m, FoldedConv)]


@pytest.fixture
def on_cuda(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every folded layer reports that it would run on CUDA (the model stays on the CPU)."""
    monkeypatch.setattr("upsamplekit.folding.graph._device_of", lambda folded: CUDA)


# ---------------------------------------------------------------------- the pure decisions
def test_untimed_rewrites_are_made_on_a_cpu_and_declined_on_cuda() -> None:
    assert devices.untimed_decline(torch.device("cpu")) is None
    assert devices.untimed_decline("cpu") is None
    why = devices.untimed_decline(CUDA)
    assert why is not None
    assert why.startswith("declined on cuda: measured on an H200")
    assert "0.08x-0.38x" in why and "0.14x-0.16x" in why and "launch-bound" in why
    assert why.endswith("pass example_input to time it on this device")
    assert devices.untimed_decline(torch.device("cuda", 1)) == why
    seen_not = devices.untimed_decline("cuda", measured=True)
    assert seen_not is not None and seen_not.endswith("its input was not seen in the example run, so it was not "
                                                      "timed on this device")


def test_synchronised_calls_wait_for_the_device() -> None:
    assert devices.synchronizer(torch.device("cpu")) is None
    assert callable(devices.synchronizer(CUDA))  # not called: no GPU needed to build it
    calls: list[str] = []

    def fn() -> int:
        calls.append("fn")
        return 7

    assert devices.synchronised(fn, None) is fn
    wrapped = devices.synchronised(fn, lambda: calls.append("sync"))
    assert wrapped() == 7
    assert calls == ["fn", "sync"]


def test_time_at_shape_synchronises_every_call_on_the_examples_device(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[torch.device] = []
    synced: list[int] = []

    def fake(device: torch.device) -> Any:
        asked.append(device)
        return lambda: synced.append(1)

    monkeypatch.setattr("upsamplekit.folding.timing.synchronizer", fake)
    ran = {"original": 0, "folded": 0}

    def original(x: torch.Tensor) -> torch.Tensor:
        ran["original"] += 1
        return x

    def folded(x: torch.Tensor) -> torch.Tensor:
        ran["folded"] += 1
        return x

    before, after, ratio = time_at_shape(original, folded, (1, 2, 3, 3), torch.float32, torch.device("cpu"))
    assert asked == [torch.device("cpu")]
    assert ran["original"] == ran["folded"] >= 8  # one warm-up and at least 7 rounds each
    assert len(synced) == 1 + ran["original"] + ran["folded"]  # once before, once after every call
    assert before > 0 and after > 0 and ratio > 0


def test_tolerance_per_dtype_and_device(monkeypatch: pytest.MonkeyPatch) -> None:
    cpu = torch.device("cpu")
    assert devices.tolerance(torch.float64, cpu) == 1e-9
    assert devices.tolerance(torch.float64, CUDA) == 1e-9
    assert devices.tolerance(torch.float32, cpu) == 1e-4
    assert devices.tolerance(torch.float16, cpu) == pytest.approx(8 * 2.0**-10)
    assert devices.tolerance(torch.bfloat16, cpu) == pytest.approx(8 * 2.0**-7)
    monkeypatch.setattr(devices, "tf32_allowed", lambda: True)
    assert devices.tolerance(torch.float32, CUDA) == pytest.approx(8 * 2.0**-10)
    assert devices.tolerance(torch.float32, cpu) == 1e-4  # TF32 is a CUDA matter
    monkeypatch.setattr(devices, "tf32_allowed", lambda: False)
    assert devices.tolerance(torch.float32, CUDA) == 1e-4


@pytest.mark.parametrize(("setting", "matmuls", "anything"), [
    ("pass", False, True),  # torch's defaults: float32 matmuls exact, cuDNN convolutions in TF32
    ("torch.backends.cudnn.allow_tf32 = False", False, False),
    ("torch.set_float32_matmul_precision('high')", True, True),
    ("torch.backends.cudnn.conv.fp32_precision = 'ieee'", False, False),  # torch 2.9's API: then the legacy
    ("torch.backends.cudnn.conv.fp32_precision = 'ieee'; torch.backends.cuda.matmul.fp32_precision = 'tf32'",
     True, True),  # flags raise when read, so only the new ones may be
    ("torch.backends.fp32_precision = 'tf32'", True, True),
    ("torch.backends.fp32_precision = 'tf32'; torch.backends.cuda.matmul.fp32_precision = 'ieee'; "
     "torch.backends.cudnn.conv.fp32_precision = 'ieee'", False, False),
])
def test_tf32_is_read_from_torchs_flags_whichever_api_set_them(setting: str, matmuls: bool, anything: bool) -> None:
    """tf32_matmuls (the band engine's rule) and tf32_allowed (fold's tolerance), in a fresh process: the flags
    are global, and once the new API is used the legacy ones raise when read."""
    code = (f"import torch\n{setting}\nfrom upsamplekit.folding import devices\n"
            "from upsamplekit.resample.bands import tf32_matmuls\nprint(tf32_matmuls(), devices.tf32_allowed())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True).stdout
    assert out.split() == [str(matmuls), str(anything)]


# ---------------------------------------------------------------------- routing through fold (faked CUDA)
@pytest.mark.usefixtures("on_cuda")
@pytest.mark.parametrize("build", [pair, lambda: pair("bilinear"), decoder,
                                   lambda: nn.Sequential(ResizeConv(4, 4, scale=2, method="nearest"))])
def test_on_cuda_without_an_example_every_rewrite_is_declined_with_the_measured_reason(build: Any) -> None:
    model = build()
    folded, report = fold(model, report=True)
    assert not report.folded
    assert not foldeds(folded)
    assert report.left_alone
    why = devices.untimed_decline(CUDA)
    assert all(entry.why == why for entry in report.left_alone)
    assert "declined on cuda: measured on an H200" in str(report)
    x = torch.randn(2, 4 if not isinstance(model, Decoder) else 3, 5, 6)
    with torch.no_grad():
        assert torch.equal(folded(x), model(x))  # the model as it was


@pytest.mark.usefixtures("on_cuda")
def test_on_cuda_under_inference_mode() -> None:
    model = decoder().eval()
    with torch.inference_mode():
        folded, report = fold(model, report=True)
        y = folded(torch.randn(1, 3, 4, 4))
    assert not report.folded and len(report.left_alone) == 2
    assert y.shape == (1, 3, 16, 16)
    assert not any(p.is_inference() for p in folded.parameters())


@pytest.mark.usefixtures("on_cuda")
def test_on_cuda_with_an_example_the_rewrites_are_timed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("upsamplekit.folding.graph.FASTER", float("inf"))  # keep it whatever the timing
    model = pair()
    folded, report = fold(model, torch.randn(2, 4, 8, 8), report=True)
    assert len(report.folded) == 1 and "measured" in report.folded[0].what
    assert not report.left_alone


def test_on_a_cpu_nothing_changes() -> None:
    for build in (pair, decoder):
        folded, report = fold(build(), report=True)
        assert report.folded and not report.left_alone
        assert all("declined" not in f.what for f in report.folded)


def test_under_inference_mode_on_a_cpu() -> None:
    model = pair().eval()
    x = torch.randn(2, 4, 6, 5)
    with torch.inference_mode():
        folded = fold(model)
        got = folded(x)
    assert foldeds(folded)
    with torch.no_grad():
        assert torch.allclose(got, model(x), atol=1e-5)
    folded(x.requires_grad_(True)).sum().backward()  # ordinary tensors: gradients work afterwards


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_half_precision_folds_with_an_example(dtype: torch.dtype, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check against the original allows the dtype's round-off (it allowed float32's: a folded
    bfloat16 model that measured faster was reported as a bug)."""
    monkeypatch.setattr("upsamplekit.folding.graph.FASTER", float("inf"))
    torch.manual_seed(0)
    model = nn.Sequential(nn.Upsample(scale_factor=2), nn.Conv2d(16, 16, 3, padding=1)).to(dtype)
    folded, report = fold(model, torch.randn(2, 16, 16, 16, dtype=dtype), report=True)
    assert len(report.folded) == 1


# ---------------------------------------------------------------------- on a real GPU
@needs_cuda
@pytest.mark.parametrize("build", [pair, lambda: pair("bilinear"), decoder])
def test_cuda_model_without_an_example_is_left_as_it_is(build: Any) -> None:
    model = build().to("cuda")
    folded, report = fold(model, report=True)
    assert not report.folded and not foldeds(folded)
    assert all(entry.why.startswith("declined on cuda") for entry in report.left_alone)


@needs_cuda
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_cuda_model_with_an_example_is_timed_there(dtype: torch.dtype) -> None:
    model = nn.Sequential(nn.Upsample(scale_factor=2), nn.Conv2d(64, 64, 3, padding=1)).to("cuda", dtype)
    x = torch.randn(8, 64, 64, 64, device="cuda", dtype=dtype)
    folded, report = fold(model, x, report=True)
    entries = [f.what for f in report.folded] + [a.why for a in report.left_alone]
    assert len(entries) == 1 and "measured" in entries[0]
    with torch.no_grad():
        want, got = model(x).float(), folded(x).float()
    assert float((got - want).abs().max()) <= devices.tolerance(dtype, x.device) * float(want.abs().max())


@needs_cuda
def test_a_folded_layer_runs_on_cuda(monkeypatch: pytest.MonkeyPatch, no_cudnn_tf32: None) -> None:
    monkeypatch.setattr("upsamplekit.folding.graph.FASTER", float("inf"))  # keep the rewrite whatever the timing
    for mode in ("nearest", "bilinear"):
        model = pair(mode, torch.float64).to("cuda")
        x = torch.randn(2, 4, 9, 7, device="cuda", dtype=torch.float64, requires_grad=True)
        folded, report = fold(model, x.detach(), report=True)
        assert len(report.folded) == 1 and foldeds(folded)
        want = model(x)
        got = folded(x)
        assert float((got - want).abs().max()) <= 1e-10 * float(want.abs().max())
        g = torch.randn_like(want)
        (gx_want,) = torch.autograd.grad(want, x, g)
        (gx_got,) = torch.autograd.grad(got, x, g)
        assert float((gx_got - gx_want).abs().max()) <= 1e-10 * float(gx_want.abs().max())


@needs_cuda
def test_fold_a_cuda_model_under_inference_mode() -> None:
    model = decoder().to("cuda").eval()
    x = torch.randn(2, 3, 16, 16, device="cuda")
    with torch.inference_mode():
        folded, report = fold(model, x, report=True)
        got = folded(x)
    assert len(report.folded) + len(report.left_alone) == 2
    assert not any(p.is_inference() for p in folded.parameters())
    with torch.no_grad():
        want = model(x)
    assert float((got - want).abs().max()) <= devices.tolerance(torch.float32, x.device) * float(want.abs().max())


def test_the_folded_convolution_chunks_for_a_cpu_cache_only() -> None:
    """On the CPU a batch runs a few images (or rows) at a time, to stay in cache; elsewhere whole images run
    together up to DEVICE_CHUNK_BYTES of output (measured on an H200: 8 convolutions a forward were launch-bound)."""
    extended, weight = torch.empty(8, 64, 66, 66, device="meta"), torch.empty(256, 64, 3, 3, device="meta")
    per_image = 256 * 64 * 64 * 4  # the folded output of one image, bytes
    assert module._chunk(extended, weight, 0, 64, "cpu") == (module.CHUNK_BYTES // per_image, 64)
    assert module._chunk(extended, weight, 0, 64, "cuda") == (module.DEVICE_CHUNK_BYTES // per_image, 64)
    huge = torch.empty(2, 64, 2050, 2050, device="meta")  # 4 GiB of output an image: one image a call, no row bands
    assert module._chunk(huge, weight, 0, 2048, "cuda") == (1, 2048)
    assert module._chunk(huge, weight, 0, 2048, "cpu")[1] < 2048


@needs_cuda
def test_a_folded_batch_is_one_convolution_on_cuda(monkeypatch: pytest.MonkeyPatch, no_cudnn_tf32: None) -> None:
    model = pair("nearest")
    folded = fold(model).to("cuda")  # folded on the CPU, where an untimed rewrite is made
    model.to("cuda")
    calls = []
    conv = torch.nn.functional.conv2d
    monkeypatch.setitem(module._CONV, 2, lambda *a, **k: calls.append(1) or conv(*a, **k))
    x = torch.randn(8, 4, 64, 64, device="cuda")
    with torch.no_grad():
        got, want = folded(x), model(x)
    assert len(calls) == 1, f"{len(calls)} convolutions for one batch"
    assert float((got - want).abs().max()) <= devices.tolerance(torch.float32, x.device) * float(want.abs().max())
