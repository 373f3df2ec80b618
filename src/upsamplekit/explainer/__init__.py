"""Explain why two upsampling calls differ, and compare upsamplers on an image.

:func:`explain` reads two calls written in their frameworks' own words (``"torch:
nn.Upsample(scale_factor=2, mode='bilinear')"``, ``"keras: UpSampling2D(size=2)"``, ...),
runs both on probe images and says whether they are equivalent, where and by how much they
differ, which knobs differ, and the smallest change that makes them equal.
:func:`compare_images` downsamples an image and upsamples it back with several methods, with
PSNR and SSIM; :func:`upsamplekit.explainer.plot.plot_compare` draws that grid.

``upsamplekit.explain(a, b)`` is this package's :func:`explain`.

>>> import upsamplekit
>>> upsamplekit.explain("torch: nn.Upsample(scale_factor=2)", "keras: UpSampling2D(size=2)").equivalent
True
"""

from __future__ import annotations

from .api import Explanation, explain
from .calls import Call
from .images import CompareResult, compare_images, load_image
from .parse import FORMS, CallParseError
from .vocab import parse_call

__all__ = ["explain", "Explanation", "parse_call", "Call", "CallParseError", "FORMS", "compare_images",
           "CompareResult", "load_image"]

