"""PyTorch ``F.interpolate`` / ``nn.Upsample``.

* ``nearest`` is the legacy, shifted mode: ``floor(i * in / out)`` (ONNX asymmetric + floor).
* ``nearest-exact`` samples pixel centres: ``floor((i + 0.5) * in / out)``.
* linear and cubic: half-pixel centres (or ``align_corners``), edge-replicated taps,
  cubic ``a = -0.75``; with ``antialias=True`` torch switches to Pillow's filter
  (``a = -0.5``, taps outside dropped and renormalised) and, with ``align_corners``,
  keeps half-pixel centres but changes the scale to ``(in-1)/(out-1)``.
* ``area`` is adaptive average pooling (windows ``[floor(i*in/out), ceil((i+1)*in/out))``).
* Output length ``floor(in * scale)``; the coordinates use the given scale unless
  ``recompute_scale_factor=True``.

Methods torch does not have (lanczos, box) are computed in torch's style.
"""

from __future__ import annotations

from typing import Any

from ..spec import Resampling
from . import convention
from ._common import FILTER_KERNELS, GENERIC_METHODS, flag, not_for

_METHODS = {**GENERIC_METHODS, "nearest-exact": ("nearest", {}), "area": ("adaptive_area", {})}


@convention(
    "torch",
    options=("antialias", "align_corners", "recompute_scale_factor"),
    methods=tuple(_METHODS),
)
def torch_preset(method: str, options: dict[str, Any]) -> Resampling:
    kernel, extra = _METHODS[method]
    if kernel not in FILTER_KERNELS:
        if options.get("align_corners") is not None:
            raise not_for("align_corners", options["align_corners"], method,
                          "torch accepts align_corners only for linear and cubic filters (leave it None)")
        if options.get("antialias"):
            raise not_for("antialias", True, method, "torch antialiases only linear and cubic filters")
    antialias = flag(options, "antialias", False)
    align_corners = flag(options, "align_corners", False)
    recompute = flag(options, "recompute_scale_factor", False)
    common: dict[str, Any] = {"recompute_scale": recompute, **extra}
    if kernel == "nearest":
        if method == "nearest-exact":
            return Resampling(kernel="nearest", coordinates="half_pixel", nearest_mode="round_prefer_ceil", **common)
        return Resampling(kernel="nearest", coordinates="asymmetric", nearest_mode="floor", **common)
    if kernel == "adaptive_area":
        return Resampling(kernel="adaptive_area", coordinates="half_pixel", **common)
    if align_corners and antialias:
        coordinates = "pytorch_antialias_align_corners"
    elif align_corners:
        coordinates = "align_corners"
    else:
        coordinates = "half_pixel"
    return Resampling(
        kernel=kernel,  # type: ignore[arg-type]
        coordinates=coordinates,  # type: ignore[arg-type]
        cubic_a=-0.5 if antialias else -0.75,
        antialias=antialias,
        border="renormalize" if antialias else "replicate",
        **common,
    )
