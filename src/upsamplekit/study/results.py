"""The study's results as plain data: candidates, one trial's measurements, per-candidate summaries.

These dataclasses are the contract between the engine-neutral core (which produces them), the
engines (which store them as JSON-able dicts) and the report (which only reads them).
"""

from __future__ import annotations

import math
import statistics
from dataclasses import asdict, dataclass, field, fields
from typing import Any

__all__ = ["Candidate", "TrialResult", "Stat", "CandidateSummary", "Recommendation", "Confidence", "StudySummary",
           "COSTS"]

#: The costs each Pareto front trades against quality (the keys of ``CandidateSummary.pareto``, in
#: the report's order), and the :class:`CandidateSummary` attribute that holds each.
COSTS: dict[str, str] = {"macs": "macs", "latency": "latency_ms", "memory": "peak_memory_bytes"}


@dataclass(frozen=True, order=True)
class Candidate:
    """One decoder design under study: an upsampler (registry name) and a factor schedule.

    >>> c = Candidate("subpixel", (2, 2))
    >>> c.key, c.label
    ('subpixel@2x2', 'subpixel [2, 2]')
    >>> Candidate.from_key("subpixel@2x2") == c
    True
    """

    upsampler: str
    schedule: tuple[int, ...]

    @property
    def key(self) -> str:
        """A stable identifier, ``name@4x2``: file names, storage parameters, JSON keys."""
        return f"{self.upsampler}@{'x'.join(map(str, self.schedule))}"

    @property
    def label(self) -> str:
        """How people read it: ``subpixel [2, 2]``."""
        return f"{self.upsampler} {list(self.schedule)}"

    @classmethod
    def from_key(cls, key: str) -> Candidate:
        name, _, factors = key.rpartition("@")
        try:
            schedule = tuple(int(f) for f in factors.split("x"))
        except ValueError:
            schedule = ()
        if not name or not schedule or min(schedule) < 1:
            raise ValueError(f"a candidate key must be NAME@FACTORS like 'subpixel@2x2', but got {key!r}")
        return cls(name, schedule)


@dataclass
class TrialResult:
    """Everything measured for one candidate trained with one seed.

    Quality on the validation images: ``psnr`` (dB), ``ssim`` (0..1), ``checkerboard`` (share of
    the reconstruction error's energy that repeats with the upsampling period, 0..1; see
    :func:`upsamplekit.study.metrics.checkerboard_score`). Costs of one inference forward at the
    latency input shape: ``params``, ``macs``, ``latency_ms`` (median) and ``latency_iqr_ms``,
    ``peak_memory_bytes`` (live activation bytes). Time: ``train_seconds`` (the training loop),
    ``eval_seconds`` (everything else of the trial), ``final_loss`` (training loss, last steps' mean).
    ``curve``: validation PSNR at the training checkpoints, ``[[step, psnr], ...]``, ending at the
    last trained step (whose PSNR is ``psnr``). ``rung``: the budget policy's rung this result ends
    (0 without rungs; with ``--budget halving`` each rung of a candidate is a result of its own).
    """

    candidate: Candidate
    seed: int
    psnr: float
    ssim: float
    checkerboard: float
    params: int
    macs: int
    latency_ms: float
    latency_iqr_ms: float
    peak_memory_bytes: int
    train_seconds: float
    eval_seconds: float
    final_loss: float
    curve: list[list[float]] = field(default_factory=list)
    rung: int = 0

    @property
    def steps(self) -> int:
        """The training steps this result's model took (the curve's last step)."""
        return int(self.curve[-1][0]) if self.curve else 0

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["candidate"] = self.candidate.key
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrialResult:
        """The result :meth:`to_dict` wrote; a missing field or a value of the wrong kind (a tampered
        storage or file) raises ``ValueError`` naming it."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name == "rung" and f.name not in data:  # results.json of version 2 has none: one rung
                continue
            if f.name not in data:
                raise ValueError(f"a trial result must have the field {f.name!r}, but it is missing")
            value = data[f.name]
            if f.name == "candidate":
                if not isinstance(value, str):
                    raise ValueError(f"candidate must be a key like 'bilinear@2x2', but got {value!r}")
                value = Candidate.from_key(value)
            elif f.type in ("int", int) and (isinstance(value, bool) or not isinstance(value, int)):
                raise ValueError(f"{f.name} must be an integer, but got {value!r}")
            elif f.type in ("float", float) and (isinstance(value, bool) or not isinstance(value, (int, float))):
                raise ValueError(f"{f.name} must be a number, but got {value!r}")
            elif f.name == "curve" and not _is_curve(value):
                raise ValueError(f"curve must be a list of [step, psnr] pairs, but got {value!r:.80}")
            values[f.name] = value
        return cls(**values)


def _is_curve(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(point, list) and len(point) == 2
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in point) for point in value)


@dataclass(frozen=True)
class Stat:
    """Mean, sample standard deviation (0 for one value) and count of one metric over seeds.

    >>> Stat.of([20.0, 21.0])
    Stat(mean=20.5, std=0.7071067811865476, n=2)
    """

    mean: float
    std: float
    n: int

    @classmethod
    def of(cls, values: list[float]) -> Stat:
        if not values:
            return cls(math.nan, math.nan, 0)
        return cls(statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0, len(values))

    def __str__(self) -> str:
        return f"{self.mean:.4g} ± {self.std:.2g}"


@dataclass
class CandidateSummary:
    """One candidate over its seeds.

    ``tied_with_best``: its mean PSNR is not separable from the best candidate's (see
    :func:`upsamplekit.study.analysis.summarize`). ``pareto``: for each cost (``"macs"``,
    ``"latency"``, ``"memory"``), whether it is on the front of PSNR against that cost.
    ``curve``: ``(step, PSNR over seeds)`` at each checkpoint every seed reached, in step order.
    ``guided``: its upsampler took the encoder's feature as a guide (task ``denoise``'s U-Net).
    ``rung``: the budget policy's rung its statistics come from (0 without rungs), ``steps``: the
    training steps its models took. ``ranked``: it is among the candidates compared (with
    ``--budget halving``, those at the highest rung reached); ``stopped``: why a rung's decision
    stopped it ("" when none did).
    """

    candidate: Candidate
    learned: bool
    seeds: list[int]
    psnr: Stat
    ssim: Stat
    checkerboard: Stat
    train_seconds: Stat
    params: int
    macs: int
    latency_ms: float
    latency_iqr_ms: float
    peak_memory_bytes: int
    tied_with_best: bool = False
    pareto: dict[str, bool] = field(default_factory=dict)
    curve: list[tuple[int, Stat]] = field(default_factory=list)
    guided: bool = False
    rung: int = 0
    steps: int = 0
    ranked: bool = True
    stopped: str = ""

    def cost(self, name: str) -> float:
        """The value of the cost ``name`` (a key of :data:`COSTS`) as a float.

        >>> row = CandidateSummary(Candidate("nearest", (2,)), False, [0], Stat.of([20.0]), Stat.of([0.5]),
        ...                        Stat.of([0.1]), Stat.of([1.0]), 0, 1000, 0.5, 0.01, 2048)
        >>> [row.cost(name) for name in COSTS]
        [1000.0, 0.5, 2048.0]
        """
        return float(getattr(self, COSTS[name]))


@dataclass
class Recommendation:
    """The recommended candidate and the reasons, each a sentence backed by the numbers."""

    candidate: Candidate
    reasons: list[str]


@dataclass
class Confidence:
    """How far the study's answer can be trusted; its ``verdict`` is the first thing every output says.

    ``verdict``: one or two sentences, the negative or unsure part first. ``rank_stability``:
    Kendall's tau between the candidates' mean-PSNR ranking at half the training budget and at
    the whole budget (None with fewer than two candidates or no half-budget checkpoint);
    ``settled``: it is at least :data:`~upsamplekit.study.analysis.SETTLED_TAU`; ``steps_suggested``:
    when not settled, the budget at which the curves suggest it would be. ``separable_orders_held``: of
    the pairs of candidates separable at the whole budget, the share already in that order at half of it
    (None without such pairs): when tau is low but this is high, the ranking moves among candidates
    within the seed spread. ``baseline_margin_db``:
    the recommended candidate's mean PSNR minus the no-network baseline's (None without a
    baseline); ``beats_baseline``: that margin is positive and separable (beyond twice its
    standard error). ``separable_from_best``: how many candidates are separably worse than the
    best. ``seeds_needed``: seeds per candidate that would separate the best from the runner-up
    at the observed spread (None when it cannot be estimated). ``first_look``: a ``--quick`` study.
    ``compared_at``: the step of the checkpoint taken as "half the budget" (the one nearest half of
    ``--steps``; with ``--budget halving``, the previous rung's end), None without one.
    """

    verdict: str
    rank_stability: float | None
    settled: bool
    steps_suggested: int | None
    baseline_margin_db: float | None
    beats_baseline: bool
    separable_from_best: int
    seeds_needed: int | None
    first_look: bool = False
    separable_orders_held: float | None = None
    compared_at: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class StudySummary:
    """What a finished (or partly finished) study found; the report renders only this.

    ``candidates`` are sorted by mean PSNR, best first. ``baseline``: the quality of a
    no-network reference on the same validation images (``{"name", "psnr", "ssim"}``), or None.
    ``images``: pictures for the reconstruction grid, float arrays (H, W, 3) in [0, 1]:
    ``"input"`` (the decoder's input, shown enlarged by nearest), ``"target"``, and one per
    candidate key (seed 0's model) where available. ``config``: the study's settings as a dict.
    ``machine``: versions, threads and CPU, for the report's footer. ``trials``: every trial.
    ``confidence``: how far the answer can be trusted (None without results). ``device``: where the
    study trained and measured latency (``"cpu"``, ``"cuda"``, ``"mps"``). ``collapsed``: the trials
    whose model collapsed, ``(candidate, seed, reason)``: not ranked, and said in the verdict.
    ``budget``: the budget policy and what it spent (:func:`upsamplekit.study.runner.budget_spent`):
    ``{"policy", "steps_spent", "steps_full", "finalists", "candidates"}`` and for ``halving``
    ``"eta"`` and ``"rung_steps"``; None when unknown.
    """

    config: dict[str, Any]
    candidates: list[CandidateSummary]
    recommendation: Recommendation | None
    trials: list[TrialResult]
    baseline: dict[str, Any] | None = None
    images: dict[str, Any] = field(default_factory=dict)
    machine: dict[str, str] = field(default_factory=dict)
    pending: int = 0
    confidence: Confidence | None = None
    device: str = "cpu"
    collapsed: list[tuple[Candidate, int, str]] = field(default_factory=list)
    budget: dict[str, Any] | None = None
