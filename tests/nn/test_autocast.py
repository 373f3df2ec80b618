"""Every registered upsampler trains under autocast (issue 15): forward and backward in bf16 and fp16
autocast, on the CPU and, where there is one, on a CUDA GPU; the output close to the float32 output of
the same layer on the same device, every gradient finite. Parametrized over the registry, so an entry
added later is covered."""

from __future__ import annotations

import warnings

import pytest
import torch

from tests.conftest import DEVICES
from tests.upsampler_calls import upsampler_inputs
from upsamplekit.nn import build_upsampler, list_upsamplers, upsampler_info

IN, OUT = 4, 2
SIZES = {1: (7,), 2: (5, 6), 3: (4, 3, 5)}
#: Relative tolerance of an autocast output against float32, per precision (of the output's largest value).
TOLERANCE = {torch.bfloat16: 0.05, torch.float16: 0.01}


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16], ids=["bf16", "fp16"])
@pytest.mark.parametrize(("name", "d"), [(n, d) for n in list_upsamplers() for d in upsampler_info(n).dims])
def test_forward_and_backward_under_autocast(name: str, d: int, dtype: torch.dtype, device: str) -> None:
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        module = build_upsampler(name, IN, OUT, 2, dims=d).to(device)
    x = torch.randn(2, IN, *SIZES[d], generator=torch.Generator().manual_seed(0)).to(device)
    inputs = [t.requires_grad_() for t in upsampler_inputs(module, x, name, torch.Generator().manual_seed(1))]
    with torch.no_grad():
        reference = module(*inputs).float()
    with torch.autocast(device, dtype=dtype):
        y = module(*inputs)
    assert y.device.type == device and bool(torch.isfinite(y).all())
    scale = float(reference.abs().max())
    torch.testing.assert_close(y.float(), reference, rtol=TOLERANCE[dtype], atol=TOLERANCE[dtype] * scale)
    weights = torch.randn(y.shape, generator=torch.Generator().manual_seed(2)).to(device)
    (y.float() * weights).sum().backward()
    assert inputs[0].grad is not None and inputs[0].grad.dtype == torch.float32
    assert bool(torch.isfinite(inputs[0].grad).all()) and inputs[0].grad.abs().sum() > 0
    for pname, p in module.named_parameters():
        assert p.grad is not None and bool(torch.isfinite(p.grad).all()), f"no finite gradient reaches {pname}"
