"""A folded model exports to ONNX (TorchScript exporter, opset 17) and onnxruntime computes what
torch computes: the interleave exports as slices, a stack and a reshape, the border bands as
Resize nodes on strips, a gather, Pad and Conv (tolerance 1e-5 relative: float32 in both)."""

from __future__ import annotations

import io
import warnings

import numpy as np
import pytest
import torch
from torch import nn

from upsamplekit.decoder import Decoder
from upsamplekit.folding import fold

ort = pytest.importorskip("onnxruntime")
torch.set_num_threads(1)


def _run_onnx(model: nn.Module, x: torch.Tensor, dynamic: bool = False) -> tuple[np.ndarray, bytes]:
    buffer = io.BytesIO()
    axes = {"x": {0: "batch"}} if dynamic else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings about Python values
        torch.onnx.export(model, (x,), buffer, opset_version=17, dynamo=False, input_names=["x"],
                          dynamic_axes=axes)
    session = ort.InferenceSession(buffer.getvalue(), providers=["CPUExecutionProvider"])
    return session.run(None, {"x": x.numpy()})[0], buffer.getvalue()


@pytest.mark.parametrize("upsampler", ["nearest", "bilinear", "resizeconv"])
def test_folded_decoder_runs_in_onnxruntime(upsampler: str) -> None:
    torch.manual_seed(0)
    decoder = Decoder(3, 3, scale=4, schedule=[2, 2], upsampler=upsampler, channels=8).eval()
    x = torch.randn(1, 3, 11, 9)
    folded = fold(decoder, x)
    got, model_bytes = _run_onnx(folded, x)
    with torch.no_grad():
        want = decoder(x).numpy()
    assert np.abs(got - want).max() <= 1e-5 * np.abs(want).max()
    import onnx
    ops = {node.op_type for node in onnx.load_from_string(model_bytes).graph.node}
    assert "ConvTranspose" not in ops and "Conv" in ops


def test_batch_stays_dynamic() -> None:
    torch.manual_seed(1)
    model = nn.Sequential(nn.Upsample(scale_factor=2, mode="bilinear"), nn.Conv2d(3, 4, 3, padding=1)).eval()
    folded = fold(model)
    buffer = io.BytesIO()
    x = torch.randn(2, 3, 6, 7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(folded, (x,), buffer, opset_version=17, dynamo=False, input_names=["x"],
                          dynamic_axes={"x": {0: "batch"}})
    session = ort.InferenceSession(buffer.getvalue(), providers=["CPUExecutionProvider"])
    for batch in (1, 3):
        y = torch.randn(batch, 3, 6, 7)
        with torch.no_grad():
            want = model(y).numpy()
        got = session.run(None, {"x": y.numpy()})[0]
        assert np.abs(got - want).max() <= 1e-5 * np.abs(want).max()
