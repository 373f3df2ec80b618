"""The decoder study: which upsampler and which factor schedule is best for a decoder.

``upsamplekit study`` on the command line; from Python, build a :class:`StudyConfig` and call
:func:`run_study`. The core (:mod:`.core`, :mod:`.analysis`, :mod:`.results`) is engine-neutral;
:mod:`.engine.optuna` stores the trials. See docs/study.md.
"""

from .config import StudyConfig
from .results import Candidate, CandidateSummary, StudySummary, TrialResult
from .runner import StudyRun, run_study

__all__ = ["StudyConfig", "run_study", "StudyRun", "StudySummary", "CandidateSummary", "Candidate", "TrialResult"]
