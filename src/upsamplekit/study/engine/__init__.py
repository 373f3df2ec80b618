"""Engines: where trials are stored and how pending ones are handed out.

The core never imports an engine; :func:`upsamplekit.study.runner.run_study` picks one. An
engine implements :class:`~upsamplekit.study.engine.base.Engine`.
"""

from .base import Engine, TrialFailure, TrialSpec

__all__ = ["Engine", "TrialFailure", "TrialSpec"]
