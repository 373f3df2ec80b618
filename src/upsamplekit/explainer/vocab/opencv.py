"""cv2: ``cv2.resize(src, dsize, dst, fx, fy, interpolation)``, ``dsize`` as (width, height).

>>> from upsamplekit.explainer.vocab import parse_call
>>> parse_call("cv2: cv2.resize(x, None, fx=2, fy=3, interpolation=cv2.INTER_CUBIC)").request
('scale', (3.0, 2.0))
"""

from __future__ import annotations

from typing import Any

from ..calls import Request
from ..parse import Constant, Symbol
from .common import METHOD_COST, Built, OptionError, Signature, pair, preset, size, tidy_one

__all__ = ["SIGNATURES", "CONSTANTS"]

#: The ``cv2.INTER_X`` flags and the opencv convention's method of each (None: not reproduced).
CONSTANTS = {"INTER_NEAREST": "nearest", "INTER_LINEAR": "linear", "INTER_CUBIC": "cubic", "INTER_AREA": "area",
             "INTER_LANCZOS4": "lanczos4", "INTER_LINEAR_EXACT": None, "INTER_NEAREST_EXACT": "nearest-exact"}
#: The flags' integer values.
NUMBERS = {0: "INTER_NEAREST", 1: "INTER_LINEAR", 2: "INTER_CUBIC", 3: "INTER_AREA", 4: "INTER_LANCZOS4",
           5: "INTER_LINEAR_EXACT", 6: "INTER_NEAREST_EXACT"}


def interpolation(value: Any) -> str:
    """A ``cv2.INTER_X`` flag (or its integer) as the opencv convention's method."""
    name = NUMBERS.get(value) if isinstance(value, int) and not isinstance(value, bool) else (
        value.split(".")[-1] if isinstance(value, Constant) else None)
    if name not in CONSTANTS:
        choices = ", ".join(f"cv2.{c}" for c in CONSTANTS)
        raise OptionError("interpolation", f"interpolation must be one of {choices}, but got {value!r}")
    method = CONSTANTS[name]
    if method is None:
        raise OptionError("interpolation", f"cv2.{name} (fixed-point bit-exact bilinear) is not reproduced by "
                                           f"upsamplekit; cv2.INTER_LINEAR is its float counterpart")
    return method


def resize(o: dict[str, Any]) -> Built:
    """``cv2.resize``: ``dsize`` (width, height), or ``fx`` and ``fy`` with ``dsize`` None or (0, 0)."""
    method = interpolation(o.get("interpolation", Constant("cv2.INTER_LINEAR")))
    spec = preset("interpolation", "opencv", method)
    dsize, fx, fy = o.get("dsize"), o.get("fx"), o.get("fy")
    request: Request | None
    if isinstance(dsize, Symbol):
        request = None
    elif dsize is not None and dsize != (0, 0):
        request = ("size", size("dsize", dsize, order="wh"))
    else:
        if not fx or not fy:
            raise OptionError("fx", "with dsize None (or (0, 0)) cv2.resize needs fx and fy, both positive")
        request = ("scale", (pair("fy", fy)[0], pair("fx", fx)[0]))
    notes = ["cv2.resize takes dsize as (width, height) and HWC images"]
    if method == "nearest":
        notes.append("cv2.INTER_NEAREST is asymmetric: floor(i * in / out), not pixel centres "
                     "(cv2.INTER_NEAREST_EXACT is)")
    return Built(spec, request, layout="channels_last", size_order="wh", notes=tuple(notes))


def _request(request: Request) -> list[dict[str, Any]]:
    kind, values = request
    if kind == "size":
        return [{"dsize": (int(values[1]), int(values[0])), "fx": None, "fy": None}]
    return [{"dsize": None, "fx": tidy_one(values[1]), "fy": tidy_one(values[0])}]


SIGNATURES = (
    Signature(
        "cv2.resize", "cv2", "cv2.resize", ("cv2.resize",),
        ("src", "dsize", "dst", "fx", "fy", "interpolation"),
        {"dst": None, "fx": None, "fy": None, "interpolation": Constant("cv2.INTER_LINEAR")},
        resize, tensor="src", symbolic=("dst", "dsize"),
        choices={"interpolation": tuple(Constant(f"cv2.{c}") for c, m in CONSTANTS.items() if m)},
        cost={"interpolation": METHOD_COST}, request=_request),
)
