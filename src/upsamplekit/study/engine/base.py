"""The contract between the study core and an engine: the :class:`Engine` ABC, the data it
exchanges (:class:`TrialSpec`, :class:`Finished`, :class:`TrialFailure`, :class:`Progress`) and the
errors every engine raises. Imports no engine (and no optuna)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ...errors import InvalidArgumentError, UpsampleError
from ..results import Candidate, TrialResult
from .checkpoints import CheckpointStore
from .storage import describe

__all__ = ["Engine", "TrialSpec", "TrialFailure", "COLLAPSED", "Finished", "Progress", "StorageError", "SettingsMismatchError",
           "StudyNotFoundError"]


class StorageError(UpsampleError):
    """The study's storage cannot be opened or used; it is left as it was."""


class SettingsMismatchError(InvalidArgumentError):
    """A stored study was made with different trial settings (or another upsamplekit version)."""


class StudyNotFoundError(InvalidArgumentError):
    """No study of that name in the storage."""


@dataclass(frozen=True)
class TrialSpec:
    """One unit of work: train and measure ``candidate`` with ``seed``, up to the end of ``rung``
    (the budget policy's rung; 0 for a study without rungs)."""

    candidate: Candidate
    seed: int
    rung: int = 0

    @property
    def key(self) -> tuple[str, int, int]:
        """``(candidate key, seed, rung)``: a spec's identity in a storage."""
        return (self.candidate.key, self.seed, self.rung)


@dataclass(frozen=True)
class TrialFailure:
    """A trial that raised (or whose worker died too often): its spec and the message
    (``"ExceptionType: text"`` for one that raised)."""

    spec: TrialSpec
    message: str

    @property
    def collapsed(self) -> bool:
        """The trial trained, but its model collapsed (:class:`~upsamplekit.study.core.CollapseError`):
        a finding about the candidate under this budget, not an error of the run. It is final: a
        rerun does not train it again."""
        return self.message.startswith(COLLAPSED)


#: How the message of a collapsed trial starts (the name of :class:`~upsamplekit.study.core.CollapseError`).
COLLAPSED = "CollapseError:"


@dataclass(frozen=True)
class Finished:
    """What an evaluation returns: the result and, optionally, a PNG of its reconstruction,
    stored with the trial so that a report can be written from the storage alone."""

    result: TrialResult
    picture: bytes | None = None


@dataclass(frozen=True)
class Progress:
    """Trials in the storage right now: specs with a result, trials in flight, trials queued."""

    finished: int
    running: int
    waiting: int


class Engine(ABC):
    """Stores trial results and hands pending trials to workers.

    Contract: :meth:`submit` queues each spec that has neither a result nor a queued or running
    trial (nor a collapsed one: a collapse is final), so submitting twice (from two processes, too) never runs a spec twice; :meth:`work`
    takes queued trials one at a time until none is queued or running anywhere, stores each
    result the moment it exists (a process killed mid-trial loses only that trial), stores a trial
    whose evaluation raises an :class:`Exception` as failed and goes on, and on
    ``KeyboardInterrupt`` queues the trial in flight again before re-raising. :meth:`results`
    returns one result per spec. ``meta`` is the study's own key-value store (JSON values);
    :meth:`check_settings` keeps the settings the trials depend on there. Engines are used from
    one thread, and as context managers (:meth:`close` on exit).

    Every engine has two attributes, for messages: ``url``, the storage it was opened on (shown
    with :func:`~upsamplekit.study.engine.storage.describe`, never with its password), and
    ``study_name``, the study's name in that storage. Opening a study that is not there raises
    :class:`StudyNotFoundError`; a storage that cannot be used, :class:`StorageError`.
    """

    url: str
    study_name: str

    @property
    @abstractmethod
    def checkpoints(self) -> CheckpointStore:
        """Where this study keeps its training checkpoints (seen by every worker of the study)."""

    @abstractmethod
    def results(self) -> list[TrialResult]:
        """Every finished trial, one per spec."""

    @abstractmethod
    def pictures(self) -> dict[str, bytes]:
        """PNG reconstructions stored with finished trials, by candidate key (seed 0)."""

    @abstractmethod
    def failures(self) -> list[TrialFailure]:
        """Specs whose last trial failed, and which are neither finished nor queued again."""

    @abstractmethod
    def progress(self) -> Progress:
        """How many specs are finished and how many trials are running or queued."""

    @abstractmethod
    def workers(self) -> dict[str, int]:
        """Finished trials per host that ran them."""

    @abstractmethod
    def meta(self) -> dict[str, Any]:
        """The study's stored key-value pairs."""

    @abstractmethod
    def set_meta(self, **values: Any) -> None:
        """Store key-value pairs (JSON-serialisable) with the study."""

    @abstractmethod
    def submit(self, todo: list[TrialSpec]) -> list[TrialSpec]:
        """Queue the specs of ``todo`` that are not finished, queued or running; return them."""

    @abstractmethod
    def work(self, evaluate: Callable[[TrialSpec], Finished],
             on_done: Callable[[TrialResult | TrialFailure], None] | None = None,
             on_wait: Callable[[Progress], None] | None = None,
             follow_up: Callable[[], bool] | None = None) -> int:
        """Evaluate queued trials until none is queued or running; return how many ran here.
        ``on_wait`` is called while only other workers' trials are running. ``follow_up()`` (a
        budget policy's next rungs) is called after each trial's outcome is stored and before
        this process would stop for want of work; it queues what follows (with :meth:`submit`)
        and says whether it queued anything."""

    def check_settings(self, settings: dict[str, Any], version: str, store: bool = True) -> None:
        """Store ``settings`` and ``version`` (of upsamplekit) with a new study (unless ``store`` is
        false: then only compare); for a stored one raise :class:`SettingsMismatchError` listing
        every difference. The study is not changed.

        Kept in :meth:`meta` as ``settings`` and ``upsamplekit_version``.
        """
        stored = self.meta()
        if "settings" not in stored:
            if store:
                self.set_meta(settings=settings, upsamplekit_version=version)
            return
        if not isinstance(stored["settings"], dict):
            raise StorageError(f"study {self.study_name!r} in {describe(self.url)} is damaged: its stored settings "
                               f"are not a table but {stored['settings']!r}; it was left untouched")
        differences = [f"{k}: stored {stored['settings'].get(k)!r}, now {v!r}"
                       for k, v in settings.items() if stored["settings"].get(k) != v]
        differences += [f"{k}: stored {v!r}, now absent" for k, v in stored["settings"].items() if k not in settings]
        if stored.get("upsamplekit_version") != version:
            differences.append(f"upsamplekit version: stored {stored.get('upsamplekit_version')!r}, now {version!r}")
        if differences:
            raise SettingsMismatchError(
                f"study {self.study_name!r} in {describe(self.url)} was made with other settings, so its trials "
                f"cannot be reused: {'; '.join(differences)}. Use the stored settings, or another --out / --study-name")

    def close(self) -> None:  # noqa: B027  (engines without resources need not override it)
        """Release what the engine holds (locks, connections)."""

    def run(self, todo: list[TrialSpec], evaluate: Callable[[TrialSpec], Finished],
            on_done: Callable[[TrialResult | TrialFailure], None] | None = None) -> int:
        """:meth:`submit` then :meth:`work`: one process running a study."""
        self.submit(todo)
        return self.work(evaluate, on_done)

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
