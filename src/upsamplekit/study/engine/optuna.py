"""The Optuna engine: every trial is an Optuna trial in an RDB storage (SQLite in the output folder
by default), so a study resumes, exports (``trials_dataframe``) and shows in optuna-dashboard.

Layout in the storage: the study has user attributes ``settings`` (the trial settings of the
config, which must match to resume) and ``upsamplekit_version``. Each trial has user attributes
``candidate`` (key), ``seed`` and, when complete, ``result`` (a :class:`TrialResult` as a dict),
when failed ``error`` (the message) or ``interrupted`` (stopped, to be run again);
its values are (PSNR, MACs, latency ms, peak memory bytes) for the directions (maximize, minimize,
minimize, minimize). Pending work is enqueued as WAITING trials; :meth:`OptunaEngine.run` pops
them one at a time (``study.ask``), so only the trial in flight is ever RUNNING.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ...errors import InvalidArgumentError, UpsampleError
from ..results import Candidate, TrialResult
from .base import Engine, TrialFailure, TrialSpec

__all__ = ["OptunaEngine", "StorageError", "SettingsMismatchError", "DIRECTIONS"]

DIRECTIONS = ("maximize", "minimize", "minimize", "minimize")


class StorageError(UpsampleError):
    """The study's storage cannot be opened or used; it is left as it was."""


class SettingsMismatchError(InvalidArgumentError):
    """A stored study was made with different trial settings (or another upsamplekit version)."""


@contextmanager
def _quiet_optuna() -> Iterator[None]:
    logger = logging.getLogger("optuna")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


class OptunaEngine(Engine):
    """Open (or create) ``study_name`` in ``storage`` (an Optuna storage URL).

    ``settings`` and ``version`` are stored with a new study and compared with a stored one:
    a difference raises :class:`SettingsMismatchError` naming every differing setting.
    """

    def __init__(self, storage: str, study_name: str, settings: dict[str, Any], version: str) -> None:
        import optuna
        import sqlalchemy.exc

        self._optuna = optuna
        self.url = storage
        try:
            with _quiet_optuna():
                self._storage = optuna.storages.RDBStorage(storage, engine_kwargs=_engine_kwargs(storage))
                self.study = optuna.create_study(study_name=study_name, storage=self._storage,
                                                 directions=list(DIRECTIONS), load_if_exists=True)
        except (sqlalchemy.exc.SQLAlchemyError, OSError, ValueError) as error:
            first = str(error).splitlines()[0]
            raise StorageError(f"the study storage {_describe(storage)} cannot be opened ({first}); it was left "
                               "untouched: move it aside, or choose another --out / --storage") from None
        stored = self.study.user_attrs
        if not stored:
            self.study.set_user_attr("settings", settings)
            self.study.set_user_attr("upsamplekit_version", version)
            return
        differences = [f"{k}: stored {stored['settings'].get(k)!r}, now {v!r}"
                       for k, v in settings.items() if stored["settings"].get(k) != v]
        if stored.get("upsamplekit_version") != version:
            differences.append(f"upsamplekit version: stored {stored.get('upsamplekit_version')!r}, now {version!r}")
        if differences:
            raise SettingsMismatchError(
                f"study {study_name!r} in {_describe(storage)} was made with other settings, so its trials cannot be "
                f"reused: {'; '.join(differences)}. Use the stored settings, or another --out / --study-name")

    # ------------------------------------------------------------------------------ reading
    def _trials(self, *states: Any) -> list[Any]:
        return self.study.get_trials(deepcopy=False, states=states)

    def results(self) -> list[TrialResult]:
        done: dict[tuple[str, int], TrialResult] = {}
        for trial in self._trials(self._optuna.trial.TrialState.COMPLETE):
            result = TrialResult.from_dict(trial.user_attrs["result"])
            done.setdefault((result.candidate.key, result.seed), result)
        return list(done.values())

    def failures(self) -> list[TrialFailure]:
        finished = {(r.candidate.key, r.seed) for r in self.results()}
        out: dict[tuple[str, int], TrialFailure] = {}
        for trial in self._trials(self._optuna.trial.TrialState.FAIL):
            key = (trial.user_attrs.get("candidate"), trial.user_attrs.get("seed"))
            if "error" in trial.user_attrs and key not in finished and None not in key:
                out[key] = TrialFailure(TrialSpec(Candidate.from_key(key[0]), key[1]), trial.user_attrs["error"])
        return list(out.values())

    # ------------------------------------------------------------------------------ running
    def _fail_leftovers(self) -> None:
        """Trials left RUNNING or WAITING by a process that died: one process owns this storage,
        so none of them is in flight any more; mark them failed so that they are run again."""
        state = self._optuna.trial.TrialState
        for trial in self._trials(state.RUNNING, state.WAITING):
            self._storage.set_trial_user_attr(trial._trial_id, "interrupted", True)
            self._storage.set_trial_state_values(trial._trial_id, state.FAIL)

    def run(self, todo: list[TrialSpec], evaluate: Callable[[TrialSpec], TrialResult],
            on_done: Callable[[TrialResult | TrialFailure], None] | None = None) -> None:
        self._fail_leftovers()
        finished = {(r.candidate.key, r.seed) for r in self.results()}
        pending = [s for s in todo if (s.candidate.key, s.seed) not in finished]
        with _quiet_optuna():
            for spec in pending:
                self.study.enqueue_trial({}, user_attrs={"candidate": spec.candidate.key, "seed": spec.seed})
            for _ in pending:
                trial = self.study.ask()
                spec = TrialSpec(Candidate.from_key(trial.user_attrs["candidate"]), int(trial.user_attrs["seed"]))
                outcome: TrialResult | TrialFailure
                try:
                    result = evaluate(spec)
                except KeyboardInterrupt:
                    trial.set_user_attr("interrupted", True)
                    self.study.tell(trial, state=self._optuna.trial.TrialState.FAIL)
                    self._fail_leftovers()
                    raise
                except Exception as error:  # stored, reported, and the study goes on
                    outcome = TrialFailure(spec, f"{type(error).__name__}: {error}")
                    trial.set_user_attr("error", outcome.message)
                    self.study.tell(trial, state=self._optuna.trial.TrialState.FAIL)
                else:
                    outcome = result
                    trial.set_user_attr("result", result.to_dict())
                    self.study.tell(trial, [result.psnr, result.macs, result.latency_ms, result.peak_memory_bytes])
                if on_done is not None:
                    on_done(outcome)


def _engine_kwargs(url: str) -> dict[str, Any]:
    return {"connect_args": {"timeout": 30}} if url.startswith("sqlite") else {}


def _describe(url: str) -> str:
    if url.startswith("sqlite:///"):
        return repr(str(Path(url[len("sqlite:///"):])))
    return repr(url.split("@")[-1])
