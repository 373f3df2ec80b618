"""The decoder study: which upsampler and which factor schedule is best for a decoder.

``upsamplekit study`` on the command line; from Python, build a :class:`StudyConfig` and call
:func:`run_study`. The core (:mod:`.core`, :mod:`.analysis`, :mod:`.results`) is engine-neutral;
:mod:`.engine.optuna` stores the trials. See docs/study.md. The names below are resolved on
first use, so reading a :class:`StudyConfig` does not import the engine (optuna).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .config import StudyConfig
    from .results import Candidate, CandidateSummary, StudySummary, TrialResult
    from .runner import StudyRun, run_study

_LAZY = {
    "StudyConfig": "config",
    "run_study": "runner",
    "StudyRun": "runner",
    "StudySummary": "results",
    "CandidateSummary": "results",
    "Candidate": "results",
    "TrialResult": "results",
}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
