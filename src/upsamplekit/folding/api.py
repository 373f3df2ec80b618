"""`fold`: rewrite a model so that its upsample -> convolution pairs run on the low-resolution input."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple, overload

import torch
from torch import nn
from torch.utils._pytree import tree_flatten

from ..errors import InvalidArgumentError, InvalidTypeError, UpsampleError
from ..nn import Interpolate, ResizeConv
from .graph import Rewriter
from .timing import time_at_shape
from .transposed import is_transposed

__all__ = ["fold", "FoldReport", "Folded", "LeftAlone"]


class Folded(NamedTuple):
    """One rewrite: where in the model (module paths) and what it became."""

    where: str
    what: str


class LeftAlone(NamedTuple):
    """An upsampler :func:`fold` did not rewrite: where, what it is, and why."""

    where: str
    what: str
    why: str


@dataclass(frozen=True)
class FoldReport:
    """What :func:`fold` did: the rewrites, the upsamplers it left alone (with the reason),
    the modules it rewrote through ``torch.fx`` and those fx could not trace (folded module
    by module instead)."""

    folded: tuple[Folded, ...]
    left_alone: tuple[LeftAlone, ...]
    traced: tuple[str, ...]
    fallbacks: tuple[tuple[str, str], ...]

    def __str__(self) -> str:
        lines = [f"folded {len(self.folded)}, left alone {len(self.left_alone)}"]
        lines += [f"  folded {f.where}: {f.what}" for f in self.folded]
        lines += [f"  left alone {a.where} {a.what}: {a.why}" for a in self.left_alone]
        lines += [f"  rewritten through torch.fx: {t}" for t in self.traced]
        lines += [f"  not traceable, folded module by module: {where} ({why})" for where, why in self.fallbacks]
        return "\n".join(lines)


@overload
def fold(model: nn.Module, example_input: Any = None, report: Literal[False] = False) -> nn.Module: ...
@overload
def fold(model: nn.Module, example_input: Any = None, *, report: Literal[True]) -> tuple[nn.Module, FoldReport]: ...
@overload
def fold(model: nn.Module, example_input: Any, report: Literal[True]) -> tuple[nn.Module, FoldReport]: ...


def fold(model: nn.Module, example_input: Any = None, report: bool = False) -> nn.Module | tuple[nn.Module, FoldReport]:
    """A copy of ``model`` that computes the same function with its upsample -> convolution
    pairs folded into convolutions on the low-resolution input (``model`` is not changed).

    Rewritten (see docs/fold.md for the arithmetic and the measured speed):

    * fixed upsampling followed by an ``nn.Conv1d/2d/3d`` of stride 1 (any kernel size,
      dilation, groups, bias; padding ``zeros``, ``replicate``, ``circular``, ``reflect``):
      ``nn.Upsample``, ``F.interpolate`` and :class:`~upsamplekit.nn.Interpolate` with nearest
      (torch ``nearest`` and ``nearest-exact``, other conventions' nearest) or linear
      interpolation with half-pixel centres, at integer scales (one per axis allowed), where
      the folded convolution has no more multiply-adds than the original; border samples that
      no padding of the low-resolution input reproduces (linear interpolation then zero
      padding) are recomputed exactly;
    * :class:`~upsamplekit.nn.ResizeConv` (the same rule);
    * transposed convolutions (``nn.ConvTranspose*``, :class:`~upsamplekit.nn.TransposedConv`)
      into sub-pixel convolution, only where that measures faster (it saves no multiply-adds).

    ``example_input`` (a tensor, or a tuple of positional inputs) is run through the model: an
    input that does not fit is a clear error; every candidate rewrite is then timed against
    the original at its own input shape and kept only where it is faster (3% or more); and the
    folded model's output is compared with the original's (an error if they differ beyond float
    round-off). Without it, every exact rewrite that saves work is made, and transposed
    convolutions are left alone. Everything else is left as it is; ``report=True`` also
    returns a :class:`FoldReport` with the reason for every upsampler left alone.

    Each rewrite is a :class:`FoldedConv` holding the original convolution's parameters, so
    gradients are those of the original model. Containers keep their type (``nn.Sequential``,
    :class:`~upsamplekit.decoder.Decoder`: the upsampler becomes ``nn.Identity`` and the convolution a
    ``FoldedConv`` with the same ``state_dict`` keys); other models are rewritten with
    ``torch.fx`` (a ``GraphModule`` comes back), or, when fx cannot trace them, module by module
    with a warning that says why.

    >>> import torch
    >>> from upsamplekit import fold
    >>> from upsamplekit.decoder import Decoder
    >>> decoder = Decoder(3, 3, scale=4, schedule=[2, 2], upsampler="nearest", channels=8)
    >>> folded, rep = fold(decoder, report=True)
    >>> [f.where for f in rep.folded]
    ['upsamplers.0 + refine.0.0', 'upsamplers.1 + refine.1.0']
    >>> x = torch.randn(2, 3, 9, 7)
    >>> bool((folded(x) - decoder(x)).abs().max() < 1e-5)
    True
    """
    if not isinstance(model, nn.Module):
        raise InvalidTypeError(f"fold: model must be a torch.nn.Module, but got {type(model).__name__}")
    if not isinstance(report, bool):
        raise InvalidTypeError(f"fold: report must be True or False, but got {report!r}")
    inputs = None if example_input is None else _as_inputs(example_input)
    work = copy.deepcopy(model)
    modes = [(m, m.training) for m in work.modules()]  # references: ids of replaced modules get reused
    seen: dict[int, tuple[tuple[int, ...], torch.dtype, torch.device]] = {}
    expected = None
    if inputs is not None:
        expected = _example_run(work, inputs, seen)
    rewriter = Rewriter(seen, time_at_shape, measured=inputs is not None)
    folded = rewriter.walk(work)
    if folded is not work:
        folded.training = model.training  # a new root (a GraphModule, a FoldedConv): the model's mode
    for m, flag in modes:
        m.training = flag  # the example run switched to eval mode; new layers took their conv's
    if inputs is not None and expected is not None:
        _verify(folded, inputs, expected)
    if not report:
        return folded
    return folded, FoldReport(tuple(Folded(*f) for f in rewriter.folded),
                              tuple(LeftAlone(*a) for a in rewriter.left),
                              tuple(rewriter.traced), tuple(rewriter.fallbacks))


def _as_inputs(example: Any) -> tuple[Any, ...]:
    items = example if isinstance(example, tuple) else (example,)
    if not any(isinstance(t, torch.Tensor) for t in tree_flatten(items)[0]):
        raise InvalidTypeError(f"fold: example_input must be a tensor or a tuple of inputs holding tensors, but "
                               f"got {type(example).__name__}")
    return items


def _shapes(inputs: tuple[Any, ...]) -> str:
    return ", ".join(str(tuple(t.shape)) for t in tree_flatten(inputs)[0] if isinstance(t, torch.Tensor))


def _example_run(model: nn.Module, inputs: tuple[Any, ...],
                 seen: dict[int, tuple[tuple[int, ...], torch.dtype, torch.device]]) -> Any:
    """Run ``model`` (eval mode, no gradients) on the example, recording every module's first
    input; a model the input does not fit is an error that names the shape."""
    watched = (nn.Upsample, Interpolate, ResizeConv, nn.Conv1d, nn.Conv2d, nn.Conv3d)

    def record(module: nn.Module, args: tuple[Any, ...]) -> None:
        if args and isinstance(args[0], torch.Tensor) and id(module) not in seen:
            seen[id(module)] = (tuple(args[0].shape), args[0].dtype, args[0].device)

    hooks = [m.register_forward_pre_hook(record) for m in model.modules() if is_transposed(m) or isinstance(m, watched)]
    training = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        with torch.no_grad():
            return model(*inputs)
    except UpsampleError as error:
        raise InvalidArgumentError(f"fold: example_input of shape {_shapes(inputs)} does not fit the model: "
                                   f"{error}") from error
    except (RuntimeError, ValueError, TypeError, IndexError) as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise InvalidArgumentError(f"fold: example_input of shape {_shapes(inputs)} does not fit the model: "
                                   f"{type(error).__name__}: {first}") from error
    finally:
        for hook in hooks:
            hook.remove()
        for m, flag in training:
            m.training = flag


def _verify(folded: nn.Module, inputs: tuple[Any, ...], expected: Any) -> None:
    """The folded model must give the original's output on the example (float round-off aside)."""
    training = [(m, m.training) for m in folded.modules()]
    folded.eval()
    try:
        with torch.no_grad():
            got = folded(*inputs)
    finally:
        for m, flag in training:
            m.training = flag
    for a, b in zip(tree_flatten(got)[0], tree_flatten(expected)[0]):
        if not isinstance(b, torch.Tensor) or not b.is_floating_point():
            continue
        if a.shape != b.shape:
            raise UpsampleError(f"fold: the folded model returns shape {tuple(a.shape)} where the original returns "
                                f"{tuple(b.shape)}; this is a bug in upsamplekit.fold, please report it")
        scale = float(b.abs().max()) or 1.0
        error = float((a.to(b.dtype) - b).abs().max()) / scale
        limit = 1e-9 if b.dtype == torch.float64 else 1e-4
        if not error <= limit:
            raise UpsampleError(f"fold: the folded model differs from the original on example_input by {error:.2e} "
                                f"(relative to the largest output), more than {limit:g}; this is a bug in "
                                "upsamplekit.fold, please report it")
