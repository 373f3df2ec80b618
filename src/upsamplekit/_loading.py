"""Import a user's ``MODULE:NAME`` callable (a decoder factory, a model factory), with the current
directory on the path as ``python -m`` has it; every failure is one clear error."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any

from .errors import InvalidArgumentError, InvalidTypeError, closest

__all__ = ["import_callable", "first_line"]


def import_callable(target: str, argument: str) -> Callable[..., Any]:
    """The callable that ``target`` (``"module:name"``, dotted names allowed) names.

    ``argument`` names the setting in error messages.

    >>> import_callable("torch.nn:Identity", "factory")
    <class 'torch.nn.modules.linear.Identity'>
    >>> import_callable("torch.nn:Identty", "factory")
    Traceback (most recent call last):
    ...
    upsamplekit.errors.InvalidArgumentError: factory: module 'torch.nn' has no attribute 'Identty'; did you mean 'Identity'?
    """
    module_name, sep, attribute = str(target).partition(":")
    if not sep or not module_name or not attribute:
        raise InvalidArgumentError(f"{argument} must be written MODULE:FACTORY (for example mymodels:build), but got "
                                   f"{target!r}")
    if "" not in sys.path and "." not in sys.path:
        sys.path.insert(0, "")
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as error:
        raise InvalidArgumentError(f"{argument} {target!r}: cannot import module {module_name!r}: module "
                                   f"{module_name!r} cannot be imported from the current directory or the installed "
                                   f"packages ({error})") from None
    except (Exception, SystemExit) as error:  # the user's module raised while being imported: one line
        raise InvalidArgumentError(f"{argument}: importing module {module_name!r} raised "
                                   f"{type(error).__name__}: {first_line(error)}") from error
    for part in attribute.split("."):
        if not hasattr(obj, part):
            suggestion = closest(part, [n for n in dir(obj) if not n.startswith("_")])
            hint = f"; did you mean {suggestion!r}?" if suggestion else ""
            raise InvalidArgumentError(f"{argument}: module {module_name!r} has no attribute {attribute!r}{hint}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise InvalidTypeError(f"{argument}: {target} must be callable, but it is a {type(obj).__name__}")
    return obj


def first_line(error: BaseException) -> str:
    """The first line of an exception's message, for one-line errors about the user's own code.

    >>> first_line(ValueError("bad\\nmore"))
    'bad'
    """
    text = str(error).strip()
    return text.splitlines()[0] if text else "(no message)"
