"""Engines: where trials are stored and how pending ones are handed out.

The core never imports an engine. :mod:`.base` is the contract (:class:`Engine`, the data it
exchanges, its errors), :mod:`.storage` reads storage URLs, :func:`get_engine`
(:mod:`.factory`) opens the engine for a URL, and :mod:`.optuna` is the one engine today
(imported only when a study is opened: it needs the ``study`` extra).
"""

from .base import Engine, TrialFailure, TrialSpec
from .factory import get_engine

__all__ = ["Engine", "TrialFailure", "TrialSpec", "get_engine"]
