"""Optional dependencies: imported when a feature needs them, with one clear error when missing.

``pip install upsamplekit`` brings torch, numpy and click: enough for ``resize``, the layers,
the shape arithmetic, ``explain`` and ``fold``. The study, the pictures and the bundled
photographs need the ``study`` extra (``pip install 'upsamplekit[study]'``).

>>> require("math", "study", "the study").pi > 3
True
>>> require("no_such_module_here", "study", "the study")
Traceback (most recent call last):
...
upsamplekit.errors.MissingDependencyError: the study needs the Python package 'no_such_module_here', which is not installed: pip install 'upsamplekit[study]'
"""

from __future__ import annotations

import importlib
from types import ModuleType

from .errors import MissingDependencyError

__all__ = ["require", "DISTRIBUTIONS"]

#: The name pip knows a module by, where it differs from the module's.
DISTRIBUTIONS = {"skimage": "scikit-image", "PIL": "Pillow", "yaml": "pyyaml"}


def require(module: str, extra: str, feature: str) -> ModuleType:
    """Import ``module`` (dotted names allowed) for ``feature``, or say which extra installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        top = module.split(".")[0]
        if error.name is not None and error.name.split(".")[0] != top:
            raise  # the package is there but broken: its own error says more than ours
        package = DISTRIBUTIONS.get(top, top)
        raise MissingDependencyError(
            f"{feature} needs the Python package {package!r}, which is not installed: "
            f"pip install 'upsamplekit[{extra}]'") from None
