"""The smallest change to either call that makes the two equal, found by running the candidates.

Candidates change one option of one call to another value its framework accepts (the values
listed in the call's :class:`~upsamplekit.explainer.vocab.Signature`), or make it ask for the
other call's output size; when no single change works, pairs of changes are tried. Each
candidate is re-built in its framework's words and run on every probe at every input size;
it is a fix when both calls then give the same output shape and agree within ``atol``.
Fixes are ordered by cost (changing the method or mode counts 1.5, any other option 1), then
B before A.

>>> from upsamplekit.explainer.vocab import parse_call
>>> a = parse_call("torch: nn.Upsample(scale_factor=2, mode='bilinear')")
>>> b = parse_call("torch: nn.Upsample(scale_factor=2, mode='bilinear', align_corners=True)")
>>> fixes, _ = find_fixes(a, b, [(8, 8)])
>>> fixes[0].words()
'B: align_corners=None (was True)'
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeGuard

import numpy as np
import torch

from ..errors import UpsampleError
from .calls import Call, run_call
from .compare import probes, resolve_requests
from .vocab import MISSING, SIGNATURES, parse_call, rebuild, request_options, show

__all__ = ["Fix", "find_fixes"]

_MAX_PAIRS = 800


@dataclass(frozen=True)
class Fix:
    """A change to one call (or one option of each): ``side`` (``A``, ``B`` or ``A and B``),
    ``changes`` as (side, option, old, new), the changed calls in their frameworks' words (``a``
    and ``b``, None for a side left as it was), and ``max_diff``, the largest difference left
    (``inf`` when the output sizes still differ)."""

    side: str
    changes: tuple[tuple[str, str, Any, Any], ...]
    a: str | None
    b: str | None
    max_diff: float
    cost: float
    moved: tuple[tuple[str, str], ...] = ()

    @property
    def call(self) -> str:
        """The changed call (both, separated by `` | ``, when both sides change)."""
        return " | ".join(text for text in (self.a, self.b) if text is not None)

    def words(self) -> str:
        """``B: border='replicate' (was 'zero')``."""
        out = []
        for side in ("A", "B"):
            parts = [m for s, m in self.moved if s == side]
            for s, option, old, new in self.changes:
                if s == side:
                    was = "unset" if old is MISSING else show(old)
                    parts.append(f"{option}={show(new)} (was {was})")
            if parts:
                out.append(f"{side}: " + ", ".join(parts))
        return "; ".join(out)

    def apply(self, a: Call, b: Call) -> tuple[Call, Call]:
        """The pair with this fix applied (the changed calls parsed from their text)."""
        return (parse_call(self.a) if self.a else a, parse_call(self.b) if self.b else b)

    def to_dict(self) -> dict[str, Any]:
        return {"side": self.side, "changes": [{"side": s, "option": o, "old": _jsonable(a), "new": _jsonable(b)}
                                               for s, o, a, b in self.changes],
                "a": self.a, "b": self.b, "max_diff": None if self.max_diff == float("inf") else self.max_diff,
                "words": self.words()}


def _jsonable(value: Any) -> Any:
    if value is MISSING:
        return None
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value


class _Evaluator:
    """Runs candidate pairs on the probes, caching the unchanged side's outputs."""

    def __init__(self, sizes: Sequence[tuple[int, int]], atol: float, seed: int) -> None:
        self.sizes, self.atol, self.seed = list(sizes), atol, seed
        self.inputs = {size: probes(size, seed) for size in self.sizes}
        self.cache: dict[Any, torch.Tensor] = {}

    def _run(self, call: Call, request: Any, size: tuple[int, int]) -> torch.Tensor:
        key = (call.source, call.signature, request, size)
        if key not in self.cache:
            self.cache[key] = run_call(call, self.inputs[size], request)
        return self.cache[key]

    def max_diff(self, a: Call, b: Call) -> float:
        ra, rb = resolve_requests(a, b)
        worst = 0.0
        for size in self.sizes:
            out_a, out_b = self._run(a, ra, size), self._run(b, rb, size)
            if out_a.shape != out_b.shape:
                return float("inf")
            worst = max(worst, float(np.abs(out_a.double().numpy() - out_b.double().numpy()).max()))
        return worst


def _same(value: Any, current: Any) -> bool:
    if current is MISSING:
        return value is None
    return value == current and isinstance(value, bool) == isinstance(current, bool)


Candidate = tuple[dict[str, Any], float, "str | None"]


def _candidates(call: Call, other: Call) -> tuple[dict[str, Any], list[Candidate]]:
    """The call's current options (defaults filled in) and its single changes: (changes, cost,
    signature to move to or None)."""
    sig = SIGNATURES[call.signature]
    base = {**sig.defaults, **sig.implied, **call.option_dict}
    if sig.key == "convtranspose.bilinear" and call.transposed is not None:  # Caffe's defaults, resolved
        t = call.transposed
        if base.get("kernel") is None:
            base["kernel"] = t.kernel[0] if t.kernel[0] == t.kernel[1] else t.kernel
        if base.get("padding") is None:
            base["padding"] = t.crop_start[0] if t.crop_start[0] == t.crop_start[1] else t.crop_start
    if sig.key == "torch.conv_transpose2d" and call.transposed is not None:
        # re-built as convtranspose: bilinear(...), which has every knob
        sig = SIGNATURES["convtranspose.bilinear"]
        base = {"kernel": call.transposed.kernel[0], "padding": base.get("padding", 0),
                "output_padding": base.get("output_padding", 0), "border": "zero"}
    out: list[Candidate] = []
    for option, values in sig.choices.items():
        current = base.get(option, MISSING)
        out.extend(({option: value}, sig.cost.get(option, 1.0), None) for value in values if not _same(value, current))
    if sig.upgrade is not None:  # options only the fuller callee has (nn.Upsample -> F.interpolate: antialias)
        target = SIGNATURES[sig.upgrade]
        for option, values in target.choices.items():
            if option in sig.choices:
                continue
            current = base.get(option, target.defaults.get(option, MISSING))
            out.extend(({option: value}, target.cost.get(option, 1.0) + 0.5, target.key)
                       for value in values if not _same(value, current))
    if other.request is not None and other.request != call.request:
        out.extend((changes, 1.0, None) for changes in request_options(call, other.request))
    return base, out


def find_fixes(a: Call, b: Call, sizes: Sequence[tuple[int, int]], atol: float = 1e-5, seed: int = 0,
               limit: int = 3) -> tuple[list[Fix], Fix | None]:
    """Up to ``limit`` smallest fixes (cheapest first), and the closest candidate tried (the
    one with the smallest difference left) for when there is none."""
    evaluator = _Evaluator(sizes, atol, seed)
    calls = {"A": a, "B": b}
    singles = {side: _candidates(call, calls["B" if side == "A" else "A"]) for side, call in calls.items()}
    tried: list[Fix] = []

    def attempt(plan: dict[str, Candidate]) -> Fix | None:
        changed = dict(calls)
        listed: list[tuple[str, str, Any, Any]] = []
        moved: list[tuple[str, str]] = []
        for side, (changes, _, signature) in plan.items():
            try:
                changed[side] = rebuild(calls[side], changes, signature)
            except (UpsampleError, ValueError, TypeError, KeyError):
                return None
            base = singles[side][0]
            listed += [(side, k, base.get(k, MISSING), v) for k, v in changes.items()
                       if not _same(v, base.get(k, MISSING))]
            if signature:
                moved.append((side, f"{changed[side].function} instead of {calls[side].function}"))
        try:
            diff = evaluator.max_diff(changed["A"], changed["B"])
        except (UpsampleError, ValueError, RuntimeError):
            return None
        fix = Fix(" and ".join(sorted(plan)), tuple(listed),
                  changed["A"].text if "A" in plan else None, changed["B"].text if "B" in plan else None,
                  diff, sum(c[1] for c in plan.values()), tuple(moved))
        tried.append(fix)
        return fix

    def good(fix: Fix | None) -> TypeGuard[Fix]:
        return fix is not None and fix.max_diff <= atol

    found = [f for side in ("B", "A") for candidate in singles[side][1] if good(f := attempt({side: candidate}))]
    if not found:
        plans: list[dict[str, Candidate]] = []
        for side in ("B", "A"):
            for one, two in itertools.combinations(singles[side][1], 2):
                if not set(one[0]) & set(two[0]) and not (one[2] and two[2] and one[2] != two[2]):
                    plans.append({side: ({**one[0], **two[0]}, one[1] + two[1], one[2] or two[2])})
        plans += [{"A": ca, "B": cb} for ca in singles["A"][1] for cb in singles["B"][1]]
        plans.sort(key=lambda plan: sum(c[1] for c in plan.values()))
        for plan in plans[:_MAX_PAIRS]:
            fix = attempt(plan)
            if good(fix):
                found.append(fix)
    order = {"B": 0, "A": 1, "A and B": 2}
    found.sort(key=lambda f: (f.cost, order[f.side], len(f.changes)))
    closest = min(tried, key=lambda f: (f.max_diff, f.cost), default=None)
    return found[:limit], closest
