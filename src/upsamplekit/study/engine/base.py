"""The contract between the study core and an engine."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

from ..results import Candidate, TrialResult

__all__ = ["Engine", "TrialSpec", "TrialFailure"]


@dataclass(frozen=True)
class TrialSpec:
    """One unit of work: train and measure ``candidate`` with ``seed``."""

    candidate: Candidate
    seed: int


@dataclass(frozen=True)
class TrialFailure:
    """A trial that raised: its spec and the error message (stored, shown in the report)."""

    spec: TrialSpec
    message: str


class Engine(ABC):
    """Stores trial results and runs pending trials.

    Contract: :meth:`results` returns every finished trial's result (never two for one spec);
    :meth:`run` evaluates each spec of ``todo`` that has no result yet exactly once, storing each
    result as soon as it exists, so that a process killed mid-trial loses only that trial; a trial
    whose evaluation raises an :class:`Exception` is stored as failed and the others go on;
    ``KeyboardInterrupt`` stops the run after marking the trial in flight as failed. Engines are
    used from one thread.
    """

    @abstractmethod
    def results(self) -> list[TrialResult]:
        """Every finished trial."""

    @abstractmethod
    def failures(self) -> list[TrialFailure]:
        """Trials that raised (and have not succeeded since)."""

    @abstractmethod
    def run(self, todo: list[TrialSpec], evaluate: Callable[[TrialSpec], TrialResult],
            on_done: Callable[[TrialResult | TrialFailure], None] | None = None) -> None:
        """Evaluate the specs of ``todo`` that have no stored result, in order."""
