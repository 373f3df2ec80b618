"""``explain(a, b)``: why do two upsampling calls differ, where, by how much, and what makes them equal.

>>> from upsamplekit.explainer import explain
>>> e = explain("torch: nn.Upsample(scale_factor=2, mode='bilinear')",
...             "keras: UpSampling2D(size=(2, 2), interpolation='bilinear')")
>>> e.equivalent, [k.name for k in e.knobs]
(True, ['size rounding', 'layout', 'dtype handling', 'arithmetic'])
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import torch

from ..checks import check_bool, is_integer, is_real
from ..errors import InvalidArgumentError, InvalidTypeError, OutputTooLargeError, UpsampleError
from .calls import Call, check_bytes, run_call
from .compare import CATEGORIES, PROBES, SizeComparison, default_sizes, locate, probes, resolve_requests
from .fix import Fix, find_fixes
from .knobs import Knob, differing_knobs
from .vocab import parse_call

__all__ = ["explain", "Explanation"]


@dataclass(frozen=True)
class Explanation:
    """The answer of :func:`explain`; ``str()`` is the text report, :meth:`to_json` the same as JSON.

    ``equivalent``: same output shape and ``max |A - B| <= atol`` on every probe at every input
    size. ``where``: the worst of the per-size locations (``output size``, ``everywhere``,
    ``phase``, ``border ring``, ``nowhere``). ``knobs``: every knob that differs.
    ``fix``: the smallest change found that makes them equal (``alternatives``: the next
    ones), or None; ``closest``: the candidate that came nearest when there is no fix.
    """

    a: Call
    b: Call
    equivalent: bool
    atol: float
    max_diff: float | None
    mean_diff: float | None
    where: str
    comparisons: tuple[SizeComparison, ...]
    knobs: tuple[Knob, ...]
    fix: Fix | None
    alternatives: tuple[Fix, ...] = ()
    closest: Fix | None = None
    notes: tuple[str, ...] = field(default=())

    # ------------------------------------------------------------------------ data
    def to_dict(self) -> dict[str, Any]:
        def side(call: Call) -> dict[str, Any]:
            spec = call.semantic_spec()
            return {"source": call.source, "call": call.text, "framework": call.framework,
                    "spec": repr(spec) if spec is not None else None,
                    "describe": spec.describe() if spec is not None else None,
                    "transposed": call.transposed.description if call.transposed is not None else None,
                    "request": [call.request[0], list(call.request[1])] if call.request else None,
                    "layout": call.layout}

        return {
            "a": side(self.a), "b": side(self.b), "equivalent": self.equivalent, "atol": self.atol,
            "max_diff": self.max_diff, "mean_diff": self.mean_diff, "where": self.where,
            "probes": list(PROBES), "sizes": [c.to_dict() for c in self.comparisons],
            "knobs": [k.to_dict() for k in self.knobs],
            "fix": self.fix.to_dict() if self.fix else None,
            "alternatives": [f.to_dict() for f in self.alternatives],
            "closest": self.closest.to_dict() if self.closest and not self.fix else None,
            "notes": list(self.notes),
        }

    def to_json(self, indent: int | None = 2) -> str:
        """The explanation as JSON (no arrays of outputs: the plot has those)."""
        return json.dumps(self.to_dict(), indent=indent)

    def plot(self, path: str) -> str:
        """Draw the difference maps and a profile through the border into ``path`` (PNG); returns it."""
        from .plot import plot_explanation

        return plot_explanation(self, path)

    # ------------------------------------------------------------------------ text
    def __str__(self) -> str:
        lines = [f"A: {self.a.text}", f"B: {self.b.text}"]
        sizes = ", ".join("x".join(map(str, c.input_size)) for c in self.comparisons)
        if self.max_diff is None:
            lines.append(f"verdict: DIFFERENT: the output sizes differ at every input size tried ({sizes})")
        else:
            verdict = "EQUIVALENT" if self.equivalent else "DIFFERENT"
            relation = "<=" if self.equivalent else ">"
            lines.append(f"verdict: {verdict}: max |A - B| = {self.max_diff:.4g} {relation} atol {self.atol:g}, "
                         f"mean {self.mean_diff:.3g} ({len(PROBES)} probes: {', '.join(PROBES)}; inputs {sizes})")
        lines.append(f"where: {_WHERE[self.where]}")
        lines.extend(f"  - {c.words}" for c in self.comparisons)
        changing = [k for k in self.knobs if not _cosmetic(k, self)]
        cosmetic = [k for k in self.knobs if _cosmetic(k, self)]
        if changing:
            lines.append("knobs that differ:")
            for k in changing:
                effect = ""
                if k.aligned_max_diff is not None and self.max_diff is not None:
                    effect = f" [B with A's {k.name} alone: max diff {self.max_diff:.4g} -> {k.aligned_max_diff:.4g}]"
                lines.append(f"  - {k.words}{effect}")
        if cosmetic:
            lines.append("knobs that differ without changing these values:")
            lines.extend(f"  - {k.words}" for k in cosmetic)
        if not self.knobs:
            lines.append("knobs: every knob is set alike")
        if self.fix is not None:
            lines.append("smallest change that makes them equal "
                         f"(run on the probes: max diff {self.fix.max_diff:.3g}):")
            for index, fix in enumerate((self.fix, *self.alternatives)):
                lines.append(f"  {'or ' if index else ''}{fix.words()}")
                lines.extend(f"    {text}" for text in (fix.a, fix.b) if text is not None)
        elif not self.equivalent:
            lines.append("no change of one or two options of either call makes them equal")
            if self.closest is not None and math.isfinite(self.closest.max_diff) and (
                    self.max_diff is None or self.closest.max_diff < self.max_diff):
                lines.append(f"  closest: {self.closest.words()} leaves max diff {self.closest.max_diff:.4g}")
                lines.extend(f"    {text}" for text in (self.closest.a, self.closest.b) if text is not None)
        if self.notes:
            lines.append("notes:")
            lines.extend(f"  - {n}" for n in self.notes)
        return "\n".join(lines)


_WHERE = {
    "output size": "the output sizes differ (so the values cannot be compared pixel by pixel there)",
    "everywhere": "everywhere: the interior differs too",
    "phase": "inside the image, with the sub-pixel phase (some output positions agree, others do not)",
    "border ring": "only in the border ring; the interior agrees",
    "nowhere": "nowhere (within atol)",
}
_INTERFACE = ("layout", "size order", "dtype handling")


def _cosmetic(knob: Knob, e: Explanation) -> bool:
    """A knob that does not change these float32 values (interface knobs, or aligning it leaves the
    difference as it was)."""
    if knob.name in _INTERFACE:
        return True
    if e.equivalent:
        return True
    if knob.name == "output size":
        return knob.aligned_max_diff == 0.0  # the same sizes at every input probed
    if knob.name == "arithmetic":  # only where aligning it alone is measured to help
        return knob.aligned_max_diff is None or e.max_diff is None or knob.aligned_max_diff >= e.max_diff - 1e-12
    if knob.aligned_max_diff is not None and e.max_diff is not None:
        return knob.aligned_max_diff >= e.max_diff - 1e-12 and knob.name in ("arithmetic", "antialias",
                                                                               "size rounding")
    return False


def _sizes(sizes: Any) -> list[tuple[int, int]] | None:
    if sizes is None:
        return None
    rule = "sizes must be input sizes: an int, an (h, w) pair of ints >= 1, or a list of them"
    given: Any = sizes
    if isinstance(given, (str, bytes)) or not (is_integer(given) or isinstance(given, (tuple, list))):
        raise InvalidArgumentError(f"{rule}, but got {sizes!r}")
    one = is_integer(sizes) or (isinstance(sizes, tuple) and len(sizes) == 2 and all(is_integer(v) for v in sizes))
    items: list[Any] = [sizes] if one else list(sizes)
    out = []
    for item in items:
        pair: Any = (item, item) if is_integer(item) else item
        if not (isinstance(pair, (tuple, list)) and len(pair) == 2 and
                all(is_integer(v) and int(v) >= 1 for v in pair)):
            raise InvalidArgumentError(f"{rule}, but got {sizes!r}")
        out.append((int(pair[0]), int(pair[1])))
    if not out:
        raise InvalidArgumentError("sizes must hold at least one input size, but got an empty list")
    return out


def _check_probes(input_sizes: list[tuple[int, int]], given: bool) -> None:
    """Every probe batch (five float64 images while built) passes the output guard, before it is built."""
    name = "sizes" if given else "sizes (the default, where the two calls meet in shape)"
    for h, w in input_sizes:
        check_bytes(name, (len(PROBES), 1, h, w), 8, f"the probes at input {h}x{w}")


def explain(a: str | Call, b: str | Call, sizes: Any = None, *, atol: float = 1e-5, seed: int = 0,
            fix: bool = True) -> Explanation:
    """Explain why two upsampling calls differ (or confirm that they do not).

    Args:
        a, b: calls in their framework's own words, ``"FRAMEWORK: CALL"`` (see
            :data:`upsamplekit.explainer.parse.FORMS`), parsed with ``ast``, never run as code.
        sizes: the input sizes (h, w) to probe: an int, a pair, or a list of them. By default
            the sizes where both calls are meant to agree in shape (28x28 for ``size=(56, 56)``
            against ``scale_factor=2``), or 8x8 and 5x7.
        atol: the largest difference still called equal (default 1e-5: float32 round-off on
            values in [0, 1]).
        seed: seed of the random probe.
        fix: search for the smallest change that makes the calls equal.

    Both calls run through upsamplekit's engine (each framework's preset, checked against the
    real library by the parity suite) on five float32 probes per size.

    >>> e = explain("torch: nn.Upsample(scale_factor=2, mode='bilinear')",
    ...             "convtranspose: bilinear(kernel=4, stride=2, padding=1)", sizes=(4, 4))
    >>> e.equivalent, e.where, e.max_diff
    (False, 'border ring', 0.4375)
    >>> e.fix.words()
    "B: border='replicate' (was 'zero')"
    """
    if not is_real(atol) or not math.isfinite(atol) or atol < 0:
        raise InvalidArgumentError(f"atol must be a finite number >= 0, but got {atol!r}")
    if not is_integer(seed):
        raise InvalidTypeError(f"seed must be an int, but got {seed!r}")
    if int(seed) < 0:
        raise InvalidArgumentError(f"seed must be an integer >= 0 (numpy's random generator), but got {seed!r}")
    check_bool("fix", fix)
    atol, seed = float(atol), int(seed)
    for name, call in (("a", a), ("b", b)):
        if not isinstance(call, (str, Call)):
            raise InvalidTypeError(f"{name} must be an upsampling call written as a string (such as "
                                   f"\"torch: nn.Upsample(scale_factor=2)\") or a parsed Call, but got "
                                   f"{type(call).__name__}")
    given = _sizes(sizes)
    call_a = parse_call(a, "A")
    call_b = parse_call(b, "B")
    input_sizes = given or default_sizes(call_a, call_b)
    _check_probes(input_sizes, given is not None)
    request_a, request_b = resolve_requests(call_a, call_b)
    comparisons: list[SizeComparison] = []
    outputs_a: list[torch.Tensor] = []
    for size in input_sizes:
        x = probes(size, seed)
        out_a = _run("A", call_a, x, request_a, size)
        out_b = _run("B", call_b, x, request_b, size)
        if out_a.shape == out_b.shape:  # compared in float64: that copy passes the guard too
            check_bytes("sizes", (2, *out_a.shape), 8, f"both outputs at input {size[0]}x{size[1]} in float64")
        outputs_a.append(out_a)
        comparisons.append(locate(size, out_a, out_b, atol))
    comparable = [(c.max_diff, c.mean_diff) for c in comparisons if c.max_diff is not None and c.mean_diff is not None]
    max_diff = max((m for m, _ in comparable), default=None)
    mean_diff = (sum(m for _, m in comparable) / len(comparable)) if comparable else None
    where = max((c.where for c in comparisons), key=CATEGORIES.index)
    equivalent = where == "nowhere"
    knobs = differing_knobs(call_a, call_b, input_sizes, outputs_a, request_b, seed)
    fixes: list[Fix] = []
    closest = None
    if fix and not equivalent:
        fixes, closest = find_fixes(call_a, call_b, input_sizes, atol, seed)
    notes = [f"A: {n}" for n in call_a.notes] + [f"B: {n}" for n in call_b.notes]
    if call_a.request is None and call_b.request is None:
        notes.append("neither call fixes the output size: both were compared at scale 2")
    for label, call, request in (("A", call_a, request_a), ("B", call_b, request_b)):
        if request[0] == "scale" and min(request[1]) < 1:
            notes.append(f"{label} shrinks (scale {min(request[1]):g}): antialias and the kernel width matter there")
    return Explanation(call_a, call_b, equivalent, float(atol), max_diff, mean_diff, where, tuple(comparisons),
                       tuple(knobs), fixes[0] if fixes else None, tuple(fixes[1:]), closest, tuple(notes))


def _run(label: str, call: Call, x: torch.Tensor, request: Any, size: tuple[int, int]) -> torch.Tensor:
    try:
        return run_call(call, x, request)
    except UpsampleError as error:
        kind = OutputTooLargeError if isinstance(error, OutputTooLargeError) else InvalidArgumentError
        raise kind(f"{label} ({call.text}) cannot run on an input of {size[0]}x{size[1]}: {error}") from None

