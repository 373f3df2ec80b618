"""Finding the upsample -> convolution pairs of a model and rewriting them.

Two ways, chosen per module: containers whose forward pass is known are rewritten module by
module, keeping their type (``nn.Sequential``: an upsampling layer and the ``nn.Conv`` right
after it; :class:`~upsamplekit.decoder.Decoder`: each stage's upsampler and the convolution of its
refinement; ``nn.ModuleList``/``nn.ModuleDict``: their children). Any other module is traced
with ``torch.fx`` (upsamplekit's layers are leaves: their settings are read, not traced
through), and the graph is rewritten wherever an upsampling node's only user is an
``nn.Conv`` call; a module fx cannot trace is folded module by module instead, with a warning
that says why. Layers that hold their own convolution (:class:`~upsamplekit.nn.ResizeConv`,
transposed convolutions) are replaced wherever they are found.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.fx
from torch import nn

from ..decoder import Decoder
from ..nn import functional as UF
from .devices import untimed_decline
from .interp import ConvInfo, Upsampling, conv_info, fold_conv
from .module import FoldedConv
from .sources import INTERPOLATE_FUNCTIONS, fold_layer, interpolate_call, other_upsampler, upsampler_of
from .transposed import is_transposed

__all__ = ["Rewriter"]

Timer = Callable[[Callable[[torch.Tensor], Any], FoldedConv, tuple[int, ...], torch.dtype, torch.device],
                 tuple[float, float, float]]
Seen = tuple[tuple[int, ...], torch.dtype, torch.device]
# A rewrite is kept when it measures at least this much faster than the original (the example's shape).
FASTER = 0.97


def _device_of(folded: FoldedConv) -> torch.device:
    """The device the folded layer would run on: its (the original convolution's) weight's."""
    return folded.weight.device


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _what(module: nn.Module) -> str:
    text = module.extra_repr()
    text = text if len(text) <= 60 else text[:57] + "..."
    return f"{type(module).__name__}({text})"


class _Tracer(torch.fx.Tracer):
    """Treats every upsamplekit layer (and a FoldedConv) as a leaf: their settings decide."""

    def is_leaf_module(self, m: nn.Module, module_qualified_name: str) -> bool:
        if type(m).__module__.startswith("upsamplekit.nn") or isinstance(m, FoldedConv):
            return True
        return super().is_leaf_module(m, module_qualified_name)


@dataclass
class Rewriter:
    """Walks a model (a private copy), folds what it can and records what it leaves and why.

    ``inputs`` maps ``id(module)`` to the (shape, dtype, device) of the module's first input
    in the example run; ``measured`` says whether there was one. With an example every rewrite
    is timed against the original at its own input shape (``timer``: median times in ms and the
    median ratio of paired rounds, on the example's device) and kept only where it is faster;
    without one, the rewrites that save multiply-adds or an upsampling pass are kept on a CPU and
    declined on CUDA (where the folded form measured slower, see
    :func:`~upsamplekit.folding.devices.untimed_decline`), and transposed convolutions (which
    save neither) are left alone.
    """

    inputs: dict[int, Seen]
    timer: Timer
    measured: bool = False
    folded: list[tuple[str, str]] = field(default_factory=list)
    left: list[tuple[str, str, str]] = field(default_factory=list)
    traced: list[str] = field(default_factory=list)
    fallbacks: list[tuple[str, str]] = field(default_factory=list)

    def leave(self, where: str, what: str, why: str) -> None:
        self.left.append((where or "(model)", what, why))

    # ------------------------------------------------------------------ module level
    def walk(self, module: nn.Module, path: str = "") -> nn.Module:
        """``module`` with what folds folded (a new module when it is replaced, else itself)."""
        if isinstance(module, FoldedConv):
            return module
        layer = self.layer(module, path)
        if layer is not None:
            return layer
        if isinstance(module, nn.Sequential) and type(module).forward is nn.Sequential.forward:
            self.sequence(module, path)
            return module
        if isinstance(module, Decoder) and type(module).forward is Decoder.forward:
            self.decoder(module, path)
            return module
        if isinstance(module, (nn.ModuleList, nn.ModuleDict)):
            self.children(module, path)
            return module
        if type(module).__module__.startswith(("torch.nn", "upsamplekit.nn")):
            self.lone(module, path)
            return module
        traced = self.graph(module, path)
        if traced is not None:
            return traced
        self.children(module, path)
        return module

    def children(self, module: nn.Module, path: str) -> None:
        for name, child in list(module.named_children()):
            new = self.walk(child, _join(path, name))
            if new is not child:
                setattr(module, name, new)

    def layer(self, module: nn.Module, path: str) -> nn.Module | None:
        """A ResizeConv or transposed convolution: folded, or itself when left alone (None: not one)."""
        if is_transposed(module):
            return self.transposed(module, path)
        folded = fold_layer(module)
        if folded is None:
            return None
        if isinstance(folded, str):
            self.leave(path, _what(module), folded)
            return module
        if not self.decide(path or "(model)", _what(module), module, folded, self.inputs.get(id(module))):
            return module
        folded.train(module.training)
        return folded

    def decide(self, where: str, what: str, original: Callable[[torch.Tensor], Any], folded: FoldedConv,
               seen: Seen | None, required: bool = False) -> bool:
        """Keep ``folded`` (and record it) or leave the original (and say why): timed at the input
        shape of the example run when there is one. ``required``: keep it only if timed faster."""
        if seen is None:
            if required:
                self.leave(where, what, "its input was not seen in the example run, so it was not timed" if
                           self.measured else "a transposed convolution is folded only where the sub-pixel form "
                           "measures faster: pass example_input so that it is timed at its input shape")
                return False
            declined = untimed_decline(_device_of(folded), measured=self.measured)
            if declined is not None:  # on CUDA the folded form measured slower: not made untimed
                self.leave(where, what, declined)
                return False
            note = "; not timed (its input was not seen in the example run)" if self.measured else ""
            self.folded.append((where, folded.spec.description + note))
            return True
        shape, dtype, device = seen
        before, after, ratio = self.timer(original, folded, shape, dtype, device)
        if ratio * FASTER > 1.0:
            self.folded.append((where, f"{folded.spec.description}; measured {ratio:.2f}x faster at input "
                                       f"{shape} ({before:.3g} -> {after:.3g} ms)"))
            return True
        self.leave(where, what, f"measured not faster at input {shape}: {before:.3g} ms as it is, {after:.3g} ms "
                                f"folded ({folded.spec.description})")
        return False

    def transposed(self, module: nn.Module, path: str) -> nn.Module:
        folded = fold_layer(module)
        if folded is None or isinstance(folded, str):
            self.leave(path, _what(module), folded or "not a transposed convolution this fold knows")
            return module
        if self.decide(path or "(model)", _what(module), module, folded, self.inputs.get(id(module)), required=True):
            folded.train(module.training)
            return folded
        return module

    def lone(self, module: nn.Module, path: str) -> None:
        """A leaf layer reached on its own: an upsampler here has no convolution we can see."""
        other = other_upsampler(module)
        if other is not None:
            self.leave(path, _what(module), other)
        elif upsampler_of(module, 2) is not None:
            self.leave(path, _what(module), "no nn.Conv follows it where module-level folding looks (the next "
                       "layer of an nn.Sequential, or a Decoder stage's refinement)")

    def pair(self, up_module: nn.Module, conv: nn.Module | None, where: str, conv_where: str) -> FoldedConv | None:
        """Fold ``conv(up_module(x))``, or record why not (the upsampler is known to be one)."""
        if conv is None:
            info: ConvInfo | str = "nothing follows it"
            original: Callable[[torch.Tensor], Any] = up_module  # not timed: nothing folds
        else:
            info = conv_info(conv)
            original = lambda x: conv(up_module(x))  # noqa: E731
        dims = info.dims if not isinstance(info, str) else 2
        up = upsampler_of(up_module, dims) or "not an upsampler"
        folded = self._pair(up, info, where, conv_where, _what(up_module), original, self.inputs.get(id(up_module)))
        if folded is not None and conv is not None:
            folded.train(conv.training)
        return folded

    def _pair(self, up: Upsampling | str, info: ConvInfo | str, where: str, conv_where: str, what: str,
              original: Callable[[torch.Tensor], Any], seen: Seen | None) -> FoldedConv | None:
        if isinstance(up, str):
            self.leave(where, what, up)
            return None
        if isinstance(info, str):
            self.leave(where, what, info)
            return None
        folded = fold_conv(up, info)
        if isinstance(folded, str):
            self.leave(where, what, folded)
            return None
        if not self.decide(f"{where or '(model)'} + {conv_where}", what, original, folded, seen):
            return None
        return folded

    def sequence(self, seq: nn.Sequential, path: str) -> None:
        names = list(seq._modules)
        i = 0
        while i < len(names):
            module = seq._modules[names[i]]
            where = _join(path, names[i])
            if module is not None and upsampler_of(module, 2) is not None:
                following = seq._modules[names[i + 1]] if i + 1 < len(names) else None
                folded = self.pair(module, following, where, _join(path, names[i + 1]) if following else "")
                if folded is not None:
                    seq._modules[names[i]] = nn.Identity().train(module.training)
                    seq._modules[names[i + 1]] = folded
                    i += 2
                    continue
            elif module is not None:
                new = self.walk(module, where)
                if new is not module:
                    seq._modules[names[i]] = new
            i += 1

    def decoder(self, decoder: Decoder, path: str) -> None:
        for i, (up, refine) in enumerate(zip(decoder.upsamplers, decoder.refine)):
            where = _join(path, f"upsamplers.{i}")
            if upsampler_of(up, decoder.dims) is None:
                new = self.walk(up, where)
                if new is not up:
                    decoder.upsamplers[i] = new
                continue
            if not isinstance(refine, nn.Sequential):  # Decoder builds each refinement as one
                self.leave(where, _what(up), f"the refinement after it is a {type(refine).__name__}, not the "
                           "nn.Sequential a Decoder builds")
                continue
            folded = self.pair(up, refine[0], where, _join(path, f"refine.{i}.0"))
            if folded is not None:
                decoder.upsamplers[i] = nn.Identity().train(up.training)
                refine[0] = folded

    # ------------------------------------------------------------------ torch.fx
    def graph(self, module: nn.Module, path: str) -> nn.Module | None:
        """``module`` traced and rewritten (itself when nothing folds), or None when fx cannot trace it."""
        tracer = _Tracer()
        try:
            graph = tracer.trace(module)
        except Exception as error:  # fx raises many kinds (TraceError, TypeError, RuntimeError, ...)
            reason = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}".rstrip(": ")
            self.fallbacks.append((path or "(model)", reason))
            warnings.warn(
                f"fold: torch.fx cannot trace {path or 'the model'} ({type(module).__name__}): {reason}; folding its "
                "submodules one by one instead (nn.Sequential neighbours, Decoder stages, ResizeConv and transposed "
                "convolutions)", UserWarning, stacklevel=4)
            return None
        gm = torch.fx.GraphModule(tracer.root, graph, type(module).__name__)
        changed = False
        for node in list(gm.graph.nodes):
            if node.op == "call_module":
                changed |= self._module_node(gm, node, path)
            elif node.op == "call_function" and node.target in INTERPOLATE_FUNCTIONS:
                changed |= self._function_node(gm, node, path)
        if not changed:
            return module
        gm.graph.lint()
        gm.delete_all_unused_submodules()
        gm.recompile()
        self.traced.append(path or "(model)")
        return gm

    def _module_node(self, gm: torch.fx.GraphModule, node: torch.fx.Node, path: str) -> bool:
        target, sub = _called(gm, node)
        where = _join(path, target)
        if isinstance(sub, FoldedConv):
            return False
        if is_transposed(sub) or fold_layer(sub) is not None:
            if len(node.args) != 1 or node.kwargs:
                self.leave(where, _what(sub), "it is called with more than its input (output_size=?)")
                return False
            new = self.layer(sub, where)
            if new is None or new is sub:
                return False
            _set_submodule(gm, target, new)
            return True
        other = other_upsampler(sub)
        if other is not None:
            self.leave(where, _what(sub), other)
            return False
        if upsampler_of(sub, 2) is None:
            return False
        return self._graph_pair(gm, node, node.args[0] if node.args else None, where, _what(sub),
                                lambda dims: upsampler_of(sub, dims), path)

    def _function_node(self, gm: torch.fx.GraphModule, node: torch.fx.Node, path: str) -> bool:
        bound = {**dict(zip(("input",), node.args)), **node.kwargs}
        what = f"F.{getattr(node.target, '__name__', 'interpolate')}({', '.join(map(repr, node.args[1:]))}" + \
            "".join(f", {k}={v!r}" for k, v in node.kwargs.items()) + ")"
        return self._graph_pair(gm, node, bound.get("input"), _join(path, node.name), what,
                                lambda dims: interpolate_call(node.args, node.kwargs, dims), path)

    def _graph_pair(self, gm: torch.fx.GraphModule, node: torch.fx.Node, source: Any, where: str, what: str,
                    make: Callable[[int], Upsampling | str | None], path: str) -> bool:
        users = list(node.users)
        if len(users) != 1:
            self.leave(where, what, f"its output is used {len(users)} times: the upsampled tensor is needed anyway"
                       if users else "its output is not used")
            return False
        user = users[0]
        if user.op != "call_module" or user.args != (node,) or user.kwargs:
            self.leave(where, what, f"its output goes to {_describe(user)}, not straight into an nn.Conv")
            return False
        target, conv = _called(gm, user)
        info = conv_info(conv)
        up = make(info.dims if not isinstance(info, str) else 2) or "not an upsampler"
        seen = _low_resolution(self.inputs.get(id(conv)), up)
        original = (lambda x: conv(_resize(x, up))) if not isinstance(up, str) else conv
        folded = self._pair(up, info, where, _join(path, target), what, original, seen)
        if folded is None or not isinstance(source, torch.fx.Node):
            return False
        folded.train(conv.training)
        calls = sum(1 for n in gm.graph.nodes if n.op == "call_module" and n.target == target)
        if calls == 1:
            _set_submodule(gm, target, folded)
        else:  # the convolution is shared: keep it, add the folded one beside it
            name = f"{target.replace('.', '_')}_folded_{node.name}"
            gm.add_submodule(name, folded)
            user.target = name
        user.args = (source,)
        gm.graph.erase_node(node)
        return True


def _low_resolution(seen: Seen | None, up: Upsampling | str) -> Seen | None:
    """The upsampler's input, from the convolution's (the upsampled tensor), when it divides."""
    if seen is None or isinstance(up, str):
        return None
    shape, dtype, device = seen
    spatial = shape[2:]
    if len(spatial) != len(up.scales) or any(n % s for n, s in zip(spatial, up.scales)):
        return None
    return (*shape[:2], *(n // s for n, s in zip(spatial, up.scales))), dtype, device


def _resize(x: torch.Tensor, up: Upsampling) -> torch.Tensor:
    method, convention, options = up.call
    return UF.interpolate(x, scale_factor=list(up.scales), method=method, convention=convention, **dict(options))


def _describe(node: torch.fx.Node) -> str:
    if node.op == "call_module":
        return f"module {node.target}"
    if node.op == "output":
        return "the model's output"
    return f"{node.op} {getattr(node.target, '__name__', node.target)}"


def _called(gm: torch.fx.GraphModule, node: torch.fx.Node) -> tuple[str, nn.Module]:
    """The qualified name and the module a ``call_module`` node calls (fx keeps that target a name)."""
    if not isinstance(node.target, str):
        raise TypeError(f"a call_module node's target is a module name, but got {node.target!r}")
    return node.target, gm.get_submodule(node.target)


def _set_submodule(root: nn.Module, target: str, module: nn.Module) -> None:
    parent, _, name = target.rpartition(".")
    setattr(root.get_submodule(parent) if parent else root, name, module)
