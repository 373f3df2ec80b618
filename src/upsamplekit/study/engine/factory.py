"""The one place an engine is chosen: :func:`get_engine` opens the study in a storage URL.

Every storage kind (:func:`~upsamplekit.study.engine.storage.storage_kind`) is served by the
Optuna engine today; it is imported here, when a study is opened, so that the ``study`` extra
is needed only then.
"""

from __future__ import annotations

from ...optional import require
from .base import Engine
from .storage import storage_kind

__all__ = ["get_engine"]


def get_engine(url: str, study_name: str, *, create: bool, heartbeat: int | None = None,
               worker: bool = False) -> Engine:
    """The engine on the study ``study_name`` in the storage ``url``.

    ``create=True`` creates the study or opens it for more work; ``create=False`` opens an
    existing one (:class:`~upsamplekit.study.engine.base.StudyNotFoundError` otherwise).
    ``heartbeat`` seconds (shared storages) turns on heartbeats and the retry of trials whose
    worker died; ``worker=True`` refuses storages one process owns (SQLite). A bad URL raises
    :class:`~upsamplekit.errors.InvalidArgumentError`, a missing ``study`` extra
    :class:`~upsamplekit.errors.MissingDependencyError`.
    """
    storage_kind(url)  # a bad URL is the first thing to say
    require("optuna", "study", "the study's trial storage")
    from .optuna import OptunaEngine

    return OptunaEngine(url, study_name, create=create, heartbeat=heartbeat, worker=worker)
