"""The study's budget policy (``--budget``): how many training steps each candidate gets.

``full``
    Every (candidate, seed) trains ``--steps`` steps: a warm-up, then a cosine to 0
    (:func:`~upsamplekit.study.train.learning_rate`).
``halving``
    Successive halving over ``--rungs`` rungs whose ends grow by ``--eta``
    (:func:`rung_steps`: 400 steps, eta 3, 3 rungs end at 44, 133 and 400 steps). Every candidate
    trains the first rung; at the end of each rung, the candidates *separably* worse than the best
    (over their seeds, by the rule the recommendation uses:
    :func:`~upsamplekit.study.analysis.separable`) stop, and the others continue from their stored
    checkpoint to the next rung. A candidate that reaches the last rung has trained exactly the
    model a straight run of ``--steps`` with this schedule trains, bit for bit on the CPU.

The halving schedule can be continued: a linear warm-up over :data:`~upsamplekit.study.train.WARMUP`
of ``--steps``, then the peak learning rate for as long as the run goes on (the *trunk*). Each rung
ends with a decay branched off the trunk: for its last :data:`DECAY` of the rung's steps the
learning rate falls to 0 (:func:`~upsamplekit.study.train.decay_rate`), and the decayed model is
what is evaluated; the trunk continues from where the branch left it (:func:`trunk_end`). So a
model judged at a rung is a properly decayed model, and the cost of judging it is that branch.

A rung's decision is a pure function of its results (:func:`decide`): it is taken when the rung's
last trial finishes, by whichever process finishes it, and kept with the study; a trial that
finishes a rung later (rerun after a failure, or a candidate added to the grid) is judged against
the best kept there. Halving needs at least two seeds: separability is judged over the seed spread,
never on one noisy number.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .engine.base import TrialSpec
from .results import Candidate, Stat, TrialResult
from .train import WARMUP

__all__ = ["BUDGETS", "DECAY", "Decision", "rung_steps", "decay_steps", "trunk_end", "warmup_steps",
           "trial_steps", "spent_steps", "rung_problem", "decide", "goes_on", "plan", "reached", "stopped",
           "account"]

#: The budget policies (``--budget``).
BUDGETS = ("full", "halving")
#: Share of a rung's steps taken by the decay branched off for its evaluation.
DECAY = 0.2


def rung_steps(steps: int, eta: int, rungs: int) -> list[int]:
    """The steps at which each rung ends: ``steps / eta**k`` for k = rungs-1 .. 0, rounded.

    >>> rung_steps(400, 3, 3), rung_steps(1200, 2, 4)
    ([44, 133, 400], [150, 300, 600, 1200])
    """
    return [max(1, round(steps / eta ** (rungs - 1 - k))) for k in range(rungs)]


def decay_steps(end: int) -> int:
    """Steps of the decay that ends a rung ending at step ``end``: :data:`DECAY` of them, at least one.

    >>> decay_steps(400), decay_steps(44), decay_steps(3)
    (80, 9, 1)
    """
    return max(1, round(DECAY * end))


def trunk_end(end: int) -> int:
    """The trunk step at which the decay of a rung ending at ``end`` is branched off (and where its
    checkpoint is taken)."""
    return end - decay_steps(end)


def warmup_steps(steps: int) -> int:
    """Warm-up steps of a ``steps`` budget (as in the full budget's schedule).

    >>> warmup_steps(400)
    20
    """
    return max(1, math.ceil(WARMUP * steps))


def trial_steps(ends: list[int], rung: int) -> int:
    """Training steps the trial of ``rung`` takes, continuing from the previous rung's checkpoint:
    the trunk from there, then the rung's decay.

    >>> [trial_steps([44, 133, 400], r) for r in range(3)]
    [44, 98, 294]
    """
    start = trunk_end(ends[rung - 1]) if rung else 0
    return trunk_end(ends[rung]) - start + decay_steps(ends[rung])


def spent_steps(ends: list[int], rung: int) -> int:
    """Training steps a candidate that ended at ``rung`` took in all, per seed (its decays included).

    >>> spent_steps([44, 133, 400], 0), spent_steps([44, 133, 400], 2)
    (44, 436)
    """
    return sum(trial_steps(ends, r) for r in range(rung + 1))


def rung_problem(steps: int, eta: int, rungs: int) -> str | None:
    """Why ``steps``, ``eta`` and ``rungs`` make no halving schedule (None when they do): the first
    rung's trunk must outlast the warm-up, so that every rung decays from the peak learning rate."""
    ends = rung_steps(steps, eta, rungs)
    if len(set(ends)) < len(ends):
        return f"steps={steps} is too few for rungs={rungs} with eta={eta}: rungs would end at {ends}"
    first = trunk_end(ends[0])
    if first <= warmup_steps(steps):
        return (f"rungs={rungs} with eta={eta} makes the first rung {ends[0]} of steps={steps}: its stable phase "
                f"({first} steps before its decay of {decay_steps(ends[0])}) must outlast the warm-up "
                f"({warmup_steps(steps)} steps); lower rungs or eta, or raise steps")
    return None


@dataclass(frozen=True)
class Decision:
    """What a rung decided: its best candidate (key) and that candidate's PSNR over seeds (None when
    no candidate finished the rung with every seed)."""

    rung: int
    best: str | None
    psnr: Stat | None

    def to_dict(self) -> dict[str, Any]:
        stat = self.psnr
        return {"rung": self.rung, "best": self.best,
                "psnr": None if stat is None else {"mean": stat.mean, "std": stat.std, "n": stat.n}}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Decision:
        """A decision :meth:`to_dict` wrote; ``ValueError`` for anything else (a tampered storage)."""
        try:
            stat = data["psnr"]
            psnr = None if stat is None else Stat(float(stat["mean"]), float(stat["std"]), int(stat["n"]))
            rung, best = data["rung"], data["best"]
            if not isinstance(rung, int) or isinstance(rung, bool) or not (best is None or isinstance(best, str)):
                raise TypeError
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"a rung decision must be {{'rung', 'best', 'psnr'}}, but got {data!r:.120}") from None
        return cls(rung, best, psnr)


def goes_on(psnr: Stat, decision: Decision) -> bool:
    """Whether a candidate with ``psnr`` at a rung continues: unless it is separably worse than the
    rung's best (:func:`~upsamplekit.study.analysis.separable`).

    >>> best = Decision(0, "subpixel@4", Stat(25.0, 0.05, 2))
    >>> goes_on(Stat(24.98, 0.05, 2), best), goes_on(Stat(24.5, 0.05, 2), best)
    (True, False)
    """
    from .analysis import separable  # the recommendation's rule (analysis imports the layer registry)

    best = decision.psnr
    return best is not None and not (psnr.mean < best.mean and separable(best, psnr))


def _complete(results: Iterable[TrialResult], seeds: int) -> dict[int, dict[Candidate, Stat]]:
    """PSNR over seeds per rung and candidate, for the candidates with a result for every seed."""
    values: dict[tuple[int, Candidate], dict[int, float]] = defaultdict(dict)
    for result in results:
        if result.seed < seeds:
            values[(result.rung, result.candidate)][result.seed] = result.psnr
    out: dict[int, dict[Candidate, Stat]] = defaultdict(dict)
    for (rung, candidate), by_seed in values.items():
        if len(by_seed) == seeds:
            out[rung][candidate] = Stat.of([by_seed[s] for s in sorted(by_seed)])
    return out


def decide(rung: int, complete: dict[Candidate, Stat]) -> Decision:
    """The decision of ``rung`` from the PSNR of the candidates that finished it with every seed
    (ties broken by the candidate's key, so every process decides alike)."""
    if not complete:
        return Decision(rung, None, None)
    best = max(complete, key=lambda c: (complete[c].mean, c.key))
    return Decision(rung, best.key, complete[best])


def plan(candidates: list[Candidate], seeds: int, rungs: int, results: list[TrialResult],
         settled: Iterable[tuple[str, int, int]], decisions: dict[int, Decision]) -> tuple[list[TrialSpec],
                                                                                        dict[int, Decision]]:
    """Every trial the study needs so far, and the decisions newly taken.

    ``results``: every finished trial; ``settled``: the keys ``(candidate, seed, rung)`` of trials
    that failed or collapsed (finished without a result); ``decisions``: those kept with the study.
    A rung is decided once each trial of it has a result or is settled; then the candidates with a
    result for every seed that are not separably worse than its best (:func:`goes_on`) get the next
    rung's trials.
    """
    settled = set(settled)
    by_rung = _complete(results, seeds)
    done = {(r.candidate.key, r.seed, r.rung) for r in results}
    specs = [TrialSpec(c, s, 0) for c in candidates for s in range(seeds)]
    new: dict[int, Decision] = {}
    members = list(candidates)
    for rung in range(rungs - 1):
        decision = decisions.get(rung)
        if decision is None:
            if any((c.key, s, rung) not in done | settled for c in members for s in range(seeds)):
                break
            decision = new[rung] = decide(rung, {c: by_rung[rung][c] for c in members if c in by_rung[rung]})
        members = [c for c in members if c in by_rung[rung] and goes_on(by_rung[rung][c], decision)]
        specs += [TrialSpec(c, s, rung + 1) for c in members for s in range(seeds)]
    return specs, new


def reached(candidate: Candidate, results: list[TrialResult], seeds: int) -> int | None:
    """The highest rung ``candidate`` finished with every seed (None: not even the first)."""
    rungs = [rung for rung, complete in _complete(results, seeds).items() if candidate in complete]
    return max(rungs) if rungs else None


def stopped(candidates: list[Candidate], seeds: int, ends: list[int], results: list[TrialResult],
            decisions: dict[int, Decision]) -> dict[Candidate, str]:
    """Why each candidate that a rung's decision stopped stopped there (``ends``: :func:`rung_steps`)."""
    complete = _complete(results, seeds)
    out = {}
    for candidate in candidates:
        rung = reached(candidate, results, seeds)
        decision = decisions.get(rung) if rung is not None else None
        if rung is None or rung >= len(ends) - 1 or decision is None or decision.psnr is None:
            continue
        stat = complete[rung][candidate]
        if not goes_on(stat, decision):
            best = Candidate.from_key(decision.best or "").label if decision.best else "?"
            out[candidate] = (f"stopped after rung {rung + 1} of {len(ends)} ({ends[rung]} steps): {stat.mean:.2f} ± "
                              f"{stat.std:.2f} dB, separably worse than {best} ({decision.psnr.mean:.2f} ± "
                              f"{decision.psnr.std:.2f} dB)")
    return out


def account(config: dict[str, Any], candidates: list[Candidate], seeds: int, results: list[TrialResult],
            collapsed: Iterable[tuple[str, int, int]]) -> dict[str, Any]:
    """The budget spent: training steps of every finished and collapsed trial, against what the full
    budget takes (every candidate and seed ``steps``), and how many candidates reached the end."""
    steps, policy = int(config["steps"]), str(config.get("budget", "full"))
    ends = rung_steps(steps, int(config["eta"]), int(config["rungs"])) if policy == "halving" else [steps]

    def cost(rung: int) -> int:
        return trial_steps(ends, rung) if policy == "halving" else steps

    spent = sum(cost(r.rung) for r in results) + sum(cost(rung) for _, _, rung in collapsed)
    last = _complete(results, seeds).get(len(ends) - 1, {})
    out: dict[str, Any] = {"policy": policy, "steps_spent": spent, "steps_full": len(candidates) * seeds * steps,
                           "finalists": sum(c in last for c in candidates), "candidates": len(candidates)}
    if policy == "halving":
        out.update(eta=int(config["eta"]), rung_steps=ends)
    return out
