"""The ONNX export path of :func:`upsamplekit.nn.functional.interpolate`.

Under ``torch.onnx.export`` (the TorchScript exporter, ``dynamo=False``) a resize becomes one
ONNX ``Resize`` node when the spec has opset-13 attributes (:func:`resize_node_attributes`),
and otherwise one dense interpolation matrix per axis (Transpose + MatMul) for the traced
spatial sizes, built from the same weight tables as :func:`upsamplekit.resize`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from ..checks import per_axis
from ..errors import InvalidArgumentError
from ..resample.api import resize
from ..resample.coordinates import axis_plan
from ..resample.spec import Resampling
from ..resample.tables import axis_table, call_rules

__all__ = ["OPSET13_MODES", "export_resize", "resize_node_attributes", "OnnxResize"]

# Resize attributes of opset 13 (the ones opset 17 has): others need a newer opset.
# tf_crop_and_resize is left out: it needs a roi.
OPSET13_MODES = ("half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric")


def export_resize(
    x: torch.Tensor,
    size: int | Sequence[int] | None,
    scale_factor: float | Sequence[float] | None,
    method: str,
    convention: str,
    options: dict[str, Any],
) -> torch.Tensor:
    """``resize(x, size, scale_factor, method=..., convention=..., **options)`` as the exporter records it.

    One ``Resize`` node (:class:`OnnxResize`) when the spec allows, fed ``scales`` for a
    ``scale_factor`` call of a spec that floors and keeps the scale (spatial sizes stay
    dynamic) and ``sizes`` otherwise; else one interpolation matrix per resized axis.
    """
    spec = Resampling.preset(convention, method, **options)
    nd = x.dim() - 2
    in_sizes = [int(s) for s in x.shape[2:]]
    sizes = None if size is None else per_axis("size", size, nd)
    scales = None if scale_factor is None else [float(s) for s in per_axis("scale_factor", scale_factor, nd)]
    outs, coord_scales = axis_plan(in_sizes, sizes, scales, rounding=spec.size_rounding,
                                   recompute_scale=spec.recompute_scale,
                                   keep_aspect_ratio_policy=spec.keep_aspect_ratio_policy)
    out_dtype = torch.float32 if spec.float_output == "float32" else x.dtype
    attrs = resize_node_attributes(spec, nd)
    if attrs is not None:
        feed_scales = scales is not None and spec.size_rounding == "floor" and not spec.recompute_scale
        y = OnnxResize.apply(x, attrs, tuple(scales) if feed_scales and scales is not None else None,
                             None if feed_scales else tuple(outs),
                             (size, scale_factor, method, convention, tuple(sorted(options.items()))))
        return y.to(out_dtype)
    spec, coord_scales = call_rules(spec, in_sizes, outs, coord_scales)
    y = x if x.dtype in (torch.float32, torch.float64) else x.float()
    for axis, (i, o, s) in enumerate(zip(in_sizes, outs, coord_scales)):
        table = axis_table(spec, i, o, s)
        if table.is_identity:
            continue
        if table.outside is not None:
            raise InvalidArgumentError(
                "interpolate: tf_crop_and_resize samples outside the roi have no ONNX export here; "
                "call upsamplekit.resize outside the exported model"
            )
        matrix = np.zeros((o, i))
        np.add.at(matrix, (np.repeat(np.arange(o), table.taps), table.index.reshape(-1)), table.weight.reshape(-1))
        weights = torch.as_tensor(matrix.T.copy(), dtype=y.dtype, device=y.device)
        last = y.dim() - 1  # positive axes: the exporter writes negative ones into Transpose's perm
        y = torch.matmul(y.transpose(2 + axis, last), weights).transpose(2 + axis, last)
    return y.to(out_dtype)


def resize_node_attributes(spec: Resampling, nd: int) -> dict[str, Any] | None:
    """The opset-13 Resize attributes of ``spec`` (TorchScript ``g.op`` names), or None.

    >>> resize_node_attributes(Resampling.preset("torch", "bilinear"), 2)["mode_s"]
    'linear'
    >>> resize_node_attributes(Resampling.preset("torch", "bicubic"), 3) is None  # onnxruntime: cubic in 2-D only
    True
    """
    try:
        attrs = spec.to_onnx()
    except InvalidArgumentError:
        return None
    if attrs.get("antialias", 0) or attrs.get("keep_aspect_ratio_policy", "stretch") != "stretch":
        return None
    if attrs["coordinate_transformation_mode"] not in OPSET13_MODES:
        return None
    if attrs["mode"] == "cubic" and nd != 2:
        return None
    return {
        "mode_s": attrs["mode"],
        "coordinate_transformation_mode_s": attrs["coordinate_transformation_mode"],
        "nearest_mode_s": attrs["nearest_mode"],
        "cubic_coeff_a_f": attrs["cubic_coeff_a"],
        "exclude_outside_i": attrs["exclude_outside"],
        "extrapolation_value_f": attrs["extrapolation_value"],
    }


class OnnxResize(torch.autograd.Function):
    """``resize`` that the TorchScript exporter writes as one ONNX Resize node (export only)."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, attrs: dict[str, Any], scales: tuple[float, ...] | None,
                sizes: tuple[int, ...] | None, call: tuple[Any, ...]) -> torch.Tensor:
        size, scale_factor, method, convention, options = call
        y = resize(x, size=size, scale_factor=scale_factor, method=method, convention=convention, **dict(options))
        return y.to(x.dtype)

    @staticmethod
    def symbolic(g: Any, x: Any, attrs: dict[str, Any], scales: tuple[float, ...] | None,
                 sizes: tuple[int, ...] | None, call: tuple[Any, ...]) -> Any:
        roi = g.op("Constant", value_t=torch.tensor([], dtype=torch.float32))
        if scales is not None:
            values = g.op("Constant", value_t=torch.tensor([1.0, 1.0, *scales], dtype=torch.float32))
            return g.op("Resize", x, roi, values, **attrs)
        shape = g.op("Shape", x)
        batch_channels = g.op("Slice", shape, g.op("Constant", value_t=torch.tensor([0])),
                              g.op("Constant", value_t=torch.tensor([2])))
        spatial = g.op("Constant", value_t=torch.tensor(list(sizes or ()), dtype=torch.int64))
        full = g.op("Concat", batch_channels, spatial, axis_i=0)
        return g.op("Resize", x, roi, roi, full, **attrs)
