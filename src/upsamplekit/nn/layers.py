"""Imports every built-in upsampler module so that its registry entries exist."""

from __future__ import annotations

from . import interpolate, resizeconv, subpixel, transposed  # noqa: F401
from . import carafe  # noqa: F401
from . import dysample  # noqa: F401
