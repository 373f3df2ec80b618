"""The exact resampling core: coordinates, kernels, weight tables, application, presets."""

from __future__ import annotations

from .api import resize
from .spec import Resampling

__all__ = ["resize", "Resampling"]
