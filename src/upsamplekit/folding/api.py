"""`fold`: rewrite a model so that its upsample -> convolution pairs run on the low-resolution input."""

from __future__ import annotations

import copy
import itertools
import math
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple, overload

import torch
from torch import nn
from torch.nn.parameter import is_lazy
from torch.utils._pytree import tree_flatten

from ..errors import InvalidArgumentError, InvalidTypeError, UpsampleError
from ..nn import Interpolate, ResizeConv
from .devices import tolerance
from .graph import Rewriter
from .timing import time_at_shape
from .transposed import is_transposed

__all__ = ["fold", "FoldReport", "Folded", "LeftAlone", "relative_difference"]


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
    round-off). The timing runs on the example's device (on CUDA each call synchronised).
    Without it, every exact rewrite that saves work is made on a CPU; on CUDA, where the folded
    form measured slower (launch-bound), none is (the report says so), and transposed
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
        raise InvalidTypeError(f"fold: report must be True or False (a bool), but got {report!r}")
    _check_initialised(model)
    inputs = None if example_input is None else _as_inputs(example_input, model)
    # Under torch.inference_mode() the copy would be made of inference tensors, which no later
    # forward pass that needs gradients (training, input gradients) may use: fold outside it.
    with torch.inference_mode(False):
        folded, rewriter = _fold(model, inputs)
    if not report:
        return folded
    return folded, FoldReport(tuple(Folded(*f) for f in rewriter.folded),
                              tuple(LeftAlone(*a) for a in rewriter.left),
                              tuple(rewriter.traced), tuple(rewriter.fallbacks))


def _fold(model: nn.Module, inputs: tuple[Any, ...] | None) -> tuple[nn.Module, Rewriter]:
    work = copy.deepcopy(model)
    modes = [(m, m.training) for m in work.modules()]  # references: ids of replaced modules get reused
    seen: dict[int, tuple[tuple[int, ...], torch.dtype, torch.device]] = {}
    expected = None
    if inputs is not None:
        expected = _example_run(work, inputs, seen)
        _float_leaves(expected)  # checked before any timing
    rewriter = Rewriter(seen, time_at_shape, measured=inputs is not None)
    folded = rewriter.walk(work)
    if folded is not work:
        folded.training = model.training  # a new root (a GraphModule, a FoldedConv): the model's mode
    for m, flag in modes:
        m.training = flag  # the example run switched to eval mode; new layers took their conv's
    if inputs is not None:
        _verify(folded, inputs, expected)
    return folded, rewriter


def _check_initialised(model: nn.Module) -> None:
    """Lazy modules (``nn.LazyConv2d``...) have no weights to fold until a forward pass makes them."""
    for kind, named in (("parameter", model.named_parameters()), ("buffer", model.named_buffers())):
        for name, tensor in named:
            if is_lazy(tensor):
                raise InvalidArgumentError(
                    f"fold: model must have initialised parameters, but {kind} {name!r} is uninitialised (a lazy "
                    "module such as nn.LazyConv2d): run the model once on an input, model(x), so that its shapes "
                    "are known, then fold it")


def _as_inputs(example: Any, model: nn.Module) -> tuple[Any, ...]:
    """``example`` as positional inputs (a tuple is several, anything else one), checked: it holds
    tensors, none of them empty or on the meta device, all on the model's device."""
    items = example if isinstance(example, tuple) else (example,)
    tensors = [t for t in tree_flatten(items)[0] if isinstance(t, torch.Tensor)]
    if not tensors:
        hint = "; convert it with torch.from_numpy" if type(example).__module__ == "numpy" else ""
        raise InvalidTypeError(f"fold: example_input must be a tensor or a tuple of inputs holding tensors, but "
                               f"got {type(example).__name__}{hint}")
    for t in tensors:
        if t.device.type == "meta":
            raise InvalidArgumentError(f"fold: example_input must hold real values (fold runs the model on it, times "
                                       f"it and compares outputs), but got a meta tensor of shape {tuple(t.shape)}")
        if t.numel() == 0:
            raise InvalidArgumentError(f"fold: example_input must not be empty (fold times the rewrites on it and "
                                       f"compares outputs), but got a tensor of shape {tuple(t.shape)}; give at "
                                       "least one sample")
    devices = {p.device for p in itertools.chain(model.parameters(), model.buffers())}
    if len(devices) == 1:
        device = devices.pop()
        for t in tensors:
            if t.device != device:
                raise InvalidArgumentError(f"fold: example_input must be on the model's device ({device}), but got a "
                                           f"tensor on {t.device}; move it with .to({str(device)!r})")
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
                                   f"{error}{_dtype_hint(model, inputs)}") from error
    except Exception as error:  # the user's model: any failure is the example not fitting it
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise InvalidArgumentError(f"fold: example_input of shape {_shapes(inputs)} does not fit the model: "
                                   f"{type(error).__name__}: {first}{_dtype_hint(model, inputs)}") from error
    finally:
        for hook in hooks:
            hook.remove()
        for m, flag in training:
            m.training = flag


def _dtype_hint(model: nn.Module, inputs: tuple[Any, ...]) -> str:
    """Why an example may not fit: its floating dtype is not the model's parameters', or a list
    was meant as several inputs."""
    if any(isinstance(item, list) for item in inputs):
        return " (a list is one input: pass a tuple for several positional inputs)"
    wanted = {p.dtype for p in model.parameters() if p.is_floating_point()}
    given = {t.dtype for t in tree_flatten(inputs)[0] if isinstance(t, torch.Tensor)}
    if len(wanted) == 1 and given and given != wanted:
        return (f" (example_input is {', '.join(sorted(map(str, given)))}, the model's parameters are "
                f"{wanted.pop()})")
    return ""


def relative_difference(got: Any, expected: Any) -> float:
    """The largest difference between two outputs (a tensor, or tuples, lists and dicts of them)
    over the largest magnitude of ``expected``, taken over their floating-point tensors.

    An error when the two differ in structure or shape, or when ``expected`` holds no
    floating-point tensor to compare (fold needs one to check the folded model against).

    >>> relative_difference((torch.tensor([1.0, 2.0]), 3), (torch.tensor([1.0, 4.0]), 3))
    0.5
    """
    errors = [error for error, _, _ in _differences(got, expected)]
    return math.nan if any(math.isnan(e) for e in errors) else max(errors, default=0.0)


def _differences(got: Any, expected: Any) -> list[tuple[float, torch.dtype, torch.device]]:
    """Per floating-point tensor of ``expected``: the relative difference of ``got``'s, the dtype and the device."""
    got_leaves, got_spec = tree_flatten(got)
    leaves, spec = tree_flatten(expected)
    _float_leaves(expected)
    if got_spec != spec:
        raise UpsampleError(f"fold: the folded model returns {_kind(got)} where the original returns "
                            f"{_kind(expected)}; this is a bug in upsamplekit.fold, please report it")
    errors = []
    for a, b in zip(got_leaves, leaves):
        if not (isinstance(b, torch.Tensor) and b.is_floating_point()):
            continue
        if not isinstance(a, torch.Tensor) or a.shape != b.shape:
            raise UpsampleError(f"fold: the folded model returns {_kind(a)} where the original returns {_kind(b)}; "
                                "this is a bug in upsamplekit.fold, please report it")
        a = a.to(b.dtype)
        same = (a == b) | (a.isnan() & b.isnan())  # equal infinities and NaNs in the same places agree
        finite = b[b.isfinite()]
        scale = float(finite.abs().max()) if finite.numel() else 0.0
        largest = float(torch.where(same, 0.0, (a - b).abs()).max()) if b.numel() else 0.0
        errors.append((largest / (scale or 1.0), b.dtype, b.device))
    return errors


def _float_leaves(output: Any) -> list[torch.Tensor]:
    """The floating-point tensors of a model's output; an error when there is none."""
    leaves = [b for b in tree_flatten(output)[0] if isinstance(b, torch.Tensor) and b.is_floating_point()]
    if not leaves:
        raise InvalidTypeError(
            "fold: the model's output must be a floating-point tensor, or a tuple, list or dict holding one, for fold "
            f"to check the folded model against it, but the model returns {_kind(output)}")
    return leaves


def _kind(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        return f"a {value.dtype} tensor of shape {tuple(value.shape)}"
    if isinstance(value, (tuple, list, dict)):
        return f"a {type(value).__name__} of {len(value)}"
    return f"{type(value).__name__} {value!r}"[:80]


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
    for error, dtype, device in _differences(got, expected):
        limit = tolerance(dtype, device)
        if error <= limit:
            continue
        raise UpsampleError(f"fold: the folded model differs from the original on example_input by {error:.2e} "
                            f"(relative to the largest output), more than {limit:g} ({dtype} round-off); this is a bug "
                            "in upsamplekit.fold, please report it")
