"""The vocabulary: each framework's upsampling calls, their arguments and defaults, and what they compute.

One module per framework (:mod:`.torch`, :mod:`.keras`, :mod:`.tensorflow` for tf and tf1,
:mod:`.jax`, :mod:`.onnx`, :mod:`.opencv`, :mod:`.pillow`, :mod:`.convtranspose`,
:mod:`.upsamplekit`), each with the same shape: its build functions and a ``SIGNATURES`` tuple,
the one source of truth for that framework's call words; method names come from the
resample conventions. :mod:`.common` holds the shared machinery (:class:`Signature`, the value
helpers) and :mod:`.registry` gathers the signatures and reads, re-builds and writes calls.

A :class:`Signature` lists a callee's parameters in positional order with their defaults, and
a ``build`` function that turns the argument values into a :class:`~upsamplekit.explainer.calls.Call`
(a :class:`~upsamplekit.Resampling` through the framework's preset, or a transposed
convolution). The same signatures re-build a call with changed options (the fix search) and
write it back (:func:`render`).

>>> call = parse_call("torch: nn.Upsample(scale_factor=2, mode='bilinear', align_corners=True)")
>>> call.spec.coordinates, call.request
('align_corners', ('scale', (2.0, 2.0)))
>>> parse_call("cv2: cv2.resize(x, (64, 48), interpolation=cv2.INTER_AREA)").request  # (width, height)
('size', (48, 64))
>>> rebuild(call, {"align_corners": None}).text
"torch: nn.Upsample(scale_factor=2, mode='bilinear')"
"""

from __future__ import annotations

from .common import MISSING, OptionError, Signature, show
from .registry import SIGNATURES, parse_call, rebuild, render, request_options

__all__ = ["Signature", "SIGNATURES", "parse_call", "rebuild", "render", "request_options", "OptionError",
           "MISSING", "show"]
