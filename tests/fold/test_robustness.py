"""`fold` never silently wrong and never a raw traceback (issue 16).

* The folded kernel follows every edit of the parameters a :class:`FoldedConv` holds (``.data``
  edits, which bypass the version counter a cache could be keyed on; ``copy_`` under
  ``no_grad``; ``load_state_dict``; a new ``.data``; an optimiser step): the reference is the
  unfolded model with the same parameters loaded (``load_state_dict``, same keys), compared in
  float64 (1e-12 relative to the largest output: only summation order differs).
* ``fold`` under ``torch.inference_mode()`` (with and without an example input, a Decoder), and
  the folded model then used with gradients (frozen parameters and input gradients, training):
  gradients against torch's autograd through the original model, float64, 1e-10.
* Bad example inputs, lazy modules and outputs fold cannot check: an :class:`UpsampleError`
  that names the argument, the rule and the value.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from upsamplekit.decoder import Decoder
from upsamplekit.errors import InvalidArgumentError, InvalidTypeError, OutputTooLargeError, UpsampleError
from upsamplekit.folding import FoldedConv, fold
from upsamplekit.folding.api import relative_difference
from upsamplekit.folding.factory import load_model, parse_shape
from upsamplekit.nn import Interpolate, ResizeConv

torch.set_num_threads(1)
F64 = torch.float64


def rel(a: torch.Tensor, b: torch.Tensor) -> float:
    assert a.shape == b.shape
    return float((a - b).abs().max() / b.abs().max())


def build(kind: str) -> nn.Module:
    """Float64 models with one FoldedConv each when folded (every forward path of the layer)."""
    torch.manual_seed(0)
    if kind == "nearest":  # no border bands
        return nn.Sequential(nn.Upsample(scale_factor=2), nn.Conv2d(3, 4, 3, padding=1, dtype=F64))
    if kind == "bilinear":  # border bands recomputed from the weight too
        return nn.Sequential(nn.Upsample(scale_factor=2, mode="bilinear"), nn.Conv2d(3, 4, 3, padding=1, dtype=F64))
    if kind == "groups3d":
        return nn.Sequential(nn.Upsample(scale_factor=(1, 2, 3)), nn.Conv3d(4, 6, 3, padding=1, groups=2, dtype=F64))
    if kind == "transposed":
        return nn.Sequential(nn.ConvTranspose2d(3, 4, 4, stride=2, padding=1, dtype=F64))
    if kind == "resizeconv":
        return nn.Sequential(ResizeConv(3, 4, scale=2, method="nearest", dtype=F64))
    if kind == "interpolate_proj":
        return nn.Sequential(Interpolate(scale_factor=2, method="nearest", in_channels=3, out_channels=5, dtype=F64),
                             nn.Conv2d(5, 4, 3, padding=1, dtype=F64))
    if kind == "decoder":
        return Decoder(3, 3, scale=4, schedule=[2, 2], upsampler="nearest", channels=8).to(F64)
    raise AssertionError(kind)


KINDS = ["nearest", "bilinear", "groups3d", "transposed", "resizeconv", "interpolate_proj", "decoder"]


def folded_of(kind: str) -> tuple[nn.Module, nn.Module]:
    original = build(kind).eval()
    if kind == "transposed":
        from upsamplekit.folding.transposed import fold_transposed
        folded: nn.Module = nn.Sequential(fold_transposed(original[0]))
    else:
        folded = fold(original)
    assert any(isinstance(m, FoldedConv) for m in folded.modules()), kind
    assert sorted(unfolded_keys(folded.state_dict())) == sorted(original.state_dict())
    return original, folded.eval()


def unfolded_keys(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The folded model's state_dict under the original's keys: the same, except for an
    Interpolate's projection, which the FoldedConv holds as ``pre``."""
    return {k.replace("1.pre.", "0.proj."): v for k, v in state.items()}


def example(kind: str) -> torch.Tensor:
    shape = (2, 4, 3, 4, 5) if kind == "groups3d" else (2, 3, 5, 6)
    return torch.randn(shape, dtype=F64, generator=torch.Generator().manual_seed(1))


def _scale(t: torch.Tensor) -> torch.Tensor:
    return t * -1.5 + 0.25


def _data_mul(p: nn.Parameter) -> None:
    p.data.mul_(2.0)


def _data_copy(p: nn.Parameter) -> None:
    p.data.copy_(_scale(p.detach()))


def _data_assign(p: nn.Parameter) -> None:
    p.data = _scale(p.detach().clone())


def _copy_no_grad(p: nn.Parameter) -> None:
    with torch.no_grad():
        p.copy_(_scale(p))


def _mul_no_grad(p: nn.Parameter) -> None:
    with torch.no_grad():
        p.mul_(-3.0)


def _detach_edit(p: nn.Parameter) -> None:
    p.detach().add_(0.5)  # a detached view shares storage (and, in torch, the version counter)


EDITS: dict[str, Callable[[nn.Parameter], None]] = {
    "data.mul_": _data_mul, "data.copy_": _data_copy, "data = new": _data_assign,
    "copy_ under no_grad": _copy_no_grad, "mul_ under no_grad": _mul_no_grad, "detach().add_": _detach_edit}


def check_follows(original: nn.Module, folded: nn.Module, x: torch.Tensor) -> None:
    reference = copy.deepcopy(original)
    reference.load_state_dict(unfolded_keys(folded.state_dict()))
    with torch.no_grad():
        assert rel(folded(x), reference(x)) <= 1e-12
    with torch.inference_mode():
        assert rel(folded(x), reference(x)) <= 1e-12


@pytest.mark.parametrize("edit", list(EDITS))
@pytest.mark.parametrize("kind", KINDS)
def test_the_folded_model_follows_every_edit_of_its_parameters(kind: str, edit: str) -> None:
    """The issue's case: after ``folded[1].weight.data.mul_(2)`` the output did not change
    (relative error 0.49). Forward passes run first in each mode a cache would have served."""
    original, folded = folded_of(kind)
    x = example(kind)
    with torch.no_grad():
        before = folded(x)
        assert rel(before, original(x)) <= 1e-12
    with torch.inference_mode():
        folded(x)
    for name, p in folded.named_parameters():
        EDITS[edit](p)
    check_follows(original, folded, x)
    with torch.no_grad():
        assert rel(folded(x), before) > 1e-3  # the edit did change the output


@pytest.mark.parametrize("kind", KINDS)
def test_the_folded_model_follows_load_state_dict_and_an_optimiser(kind: str) -> None:
    original, folded = folded_of(kind)
    x = example(kind)
    with torch.no_grad():
        folded(x)
    torch.manual_seed(5)
    state = {k: torch.randn_like(v) for k, v in folded.state_dict().items()}
    folded.load_state_dict(state)
    check_follows(original, folded, x)
    optimiser = torch.optim.SGD(folded.parameters(), lr=0.1)
    folded(x).square().mean().backward()
    optimiser.step()
    check_follows(original, folded, x)


def test_only_the_weight_or_only_the_bias_edited() -> None:
    original, folded = folded_of("bilinear")
    x = example("bilinear")
    with torch.no_grad():
        folded(x)
    folded[1].bias.data.add_(1.0)
    check_follows(original, folded, x)
    folded[1].weight.data[0, 0, 1, 1] += 2.0  # one tap
    check_follows(original, folded, x)


def test_the_model_passed_in_is_not_linked_to_the_fold() -> None:
    """fold works on a copy: edits of the model passed in do not reach the folded model (the
    documented contract; fold again, or load its state_dict)."""
    original, folded = folded_of("nearest")
    x = example("nearest")
    with torch.no_grad():
        want = folded(x)
        original[1].weight.data.mul_(2.0)
        assert torch.equal(folded(x), want)
    folded.load_state_dict(original.state_dict())
    check_follows(original, folded, x)


# ---------------------------------------------------------------------- inference mode
def _grads(model: nn.Module, x: torch.Tensor, grad: torch.Tensor) -> list[torch.Tensor | None]:
    x = x.detach().clone().requires_grad_(True)
    model.zero_grad()
    model(x).backward(grad)
    return [x.grad, *(p.grad for p in model.parameters() if p.requires_grad)]


def check_gradients(original: nn.Module, folded: nn.Module, x: torch.Tensor) -> None:
    out = original(x)
    grad = torch.randn(out.shape, dtype=out.dtype, generator=torch.Generator().manual_seed(2))
    want, got = _grads(original, x, grad), _grads(folded, x, grad)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g is not None and w is not None
        assert float((g - w).abs().max()) <= 1e-10 * float(w.abs().max())


@pytest.mark.parametrize("kind", ["nearest", "bilinear", "resizeconv", "decoder"])
@pytest.mark.parametrize("with_example", [False, True])
def test_fold_under_inference_mode(kind: str, with_example: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """The issue: ``Inference tensors do not track version counter`` with an example input.
    The folded model is made of ordinary tensors: it trains and gives gradients afterwards."""
    monkeypatch.setattr("upsamplekit.folding.graph.FASTER", float("inf"))  # keep every rewrite, whatever the timing
    original = build(kind).eval()
    x = example(kind)
    with torch.inference_mode():
        inference_x = x.clone()
        folded, report = fold(original, inference_x if with_example else None, report=True)
        assert rel(folded(inference_x), original(inference_x)) <= 1e-12
    assert report.folded
    assert not any(t.is_inference() for t in [*folded.parameters(), *folded.buffers()])
    check_gradients(original, folded, x)


def test_a_model_built_under_inference_mode_folds() -> None:
    with torch.inference_mode():
        original = build("nearest").eval()
        x = example("nearest")
    folded = fold(original, x)
    with torch.no_grad():
        assert rel(folded(x), original(x)) <= 1e-12


@pytest.mark.parametrize("kind", ["nearest", "bilinear", "decoder"])
@pytest.mark.parametrize("under_inference", [False, True])
def test_frozen_parameters_then_input_gradients(kind: str, under_inference: bool,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("upsamplekit.folding.graph.FASTER", float("inf"))
    original = build(kind).eval().requires_grad_(False)
    x = example(kind)
    if under_inference:
        with torch.inference_mode():
            folded = fold(original, x.clone())
    else:
        folded = fold(original)
    assert any(isinstance(m, FoldedConv) for m in folded.modules())
    with torch.no_grad():
        folded(x)  # a forward pass without gradients first
    check_gradients(original, folded, x)
    assert all(p.grad is None for p in folded.parameters())


def test_a_folded_layer_used_in_and_out_of_inference_mode() -> None:
    original, folded = folded_of("bilinear")
    x = example("bilinear")
    with torch.inference_mode():
        folded(x)
    folded.train()
    check_gradients(original.train(), folded, x)


# ---------------------------------------------------------------------- refused clearly
def pair() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Upsample(scale_factor=2), nn.Conv2d(3, 4, 3, padding=1))


@pytest.mark.parametrize(("value", "message"), [
    (torch.zeros(0, 3, 8, 8), r"example_input must not be empty .* but got a tensor of shape \(0, 3, 8, 8\)"),
    (torch.zeros(1, 3, 0, 8), r"example_input must not be empty .* shape \(1, 3, 0, 8\)"),
    (torch.zeros(1, 3, 8, 8, device="meta"),
     r"example_input must hold real values .* but got a meta tensor of shape \(1, 3, 8, 8\)"),
    ((torch.zeros(1, 3, 8, 8, device="meta"),), r"example_input must hold real values"),
])
def test_empty_and_meta_examples_are_refused(value: object, message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        fold(pair(), value)


def test_an_example_on_another_device_than_the_model() -> None:
    model = pair().to("meta")
    with pytest.raises(InvalidArgumentError, match=r"example_input must be on the model's device \(meta\), but got a "
                                                    r"tensor on cpu; move it with .to\('meta'\)"):
        fold(model, torch.zeros(1, 3, 8, 8))


@pytest.mark.parametrize(("value", "error", "message"), [
    (np.zeros((1, 3, 8, 8), np.float32), InvalidTypeError,
     ("example_input must be a tensor or a tuple of inputs holding tensors, but got ndarray; convert it with "
      "torch.from_numpy")),
    ("x", InvalidTypeError, "example_input must be a tensor .* but got str"),
    ([torch.zeros(1, 3, 8, 8)], InvalidArgumentError,
     (r"example_input of shape \(1, 3, 8, 8\) does not fit the model: AttributeError: .*a list is one input: pass a "
      "tuple for several positional inputs")),
    (torch.zeros(1, 3, 8, 8, dtype=F64), InvalidArgumentError,
     (r"example_input of shape \(1, 3, 8, 8\) does not fit the model: RuntimeError: .*\(example_input is "
      r"torch.float64, the model's parameters are torch.float32\)")),
    (torch.zeros(1, 3, 8, 8, dtype=torch.int64), InvalidArgumentError,
     r"does not fit the model: .*\(example_input is torch.int64, the model's parameters are torch.float32\)"),
])
def test_an_example_of_the_wrong_type_or_dtype(value: object, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        fold(pair(), value)


def test_a_model_that_raises_anything_is_the_example_not_fitting() -> None:
    class Raises(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            raise KeyError("missing")

    with pytest.raises(InvalidArgumentError, match="does not fit the model: KeyError: 'missing'"):
        fold(Raises(), torch.zeros(1))


@pytest.mark.parametrize("with_example", [False, True])
def test_lazy_modules_are_refused_until_initialised(with_example: bool) -> None:
    model = nn.Sequential(nn.Upsample(scale_factor=2), nn.LazyConv2d(4, 3, padding=1))
    x = torch.randn(1, 3, 6, 6)
    with pytest.raises(InvalidArgumentError, match=r"model must have initialised parameters, but parameter "
                                                    r"'1.weight' is uninitialised .*run the model once"):
        fold(model, x if with_example else None)
    with torch.no_grad():
        model(x)
    folded = fold(model, x)
    with torch.no_grad():
        assert rel(folded(x), model(x)) <= 1e-5


@pytest.mark.parametrize("value", [1, 0, "yes", "False", None, np.bool_(True), 1.0])
def test_report_must_be_a_bool(value: object) -> None:
    with pytest.raises(InvalidTypeError, match=r"fold: report must be True or False \(a bool\), but got"):
        fold(pair(), report=value)  # type: ignore[call-overload]


@pytest.mark.parametrize("value", [None, "model", nn.Conv2d, lambda x: x])
def test_model_must_be_a_module(value: object) -> None:
    with pytest.raises(InvalidTypeError, match="fold: model must be a torch.nn.Module, but got"):
        fold(value)  # type: ignore[call-overload]


# ---------------------------------------------------------------------- outputs
class TupleOut(nn.Module):
    def __init__(self, kind: str = "tuple") -> None:
        super().__init__()
        torch.manual_seed(0)
        self.kind = kind
        self.up = nn.Upsample(scale_factor=2)
        self.conv = nn.Conv2d(3, 4, 3, padding=1)

    def forward(self, x: torch.Tensor) -> object:
        y = self.conv(self.up(x))
        if self.kind == "tuple":
            return y, x.shape[-1]
        if self.kind == "dict":
            return {"image": y, "mask": y > 0}
        if self.kind == "none":
            return None
        return (y > 0).long()  # an integer tensor: nothing fold can compare within round-off


@pytest.mark.parametrize("kind", ["tuple", "dict"])
def test_tuple_and_dict_outputs_are_folded_and_checked(kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("upsamplekit.folding.graph.FASTER", float("inf"))  # keep the rewrite, whatever the timing
    model = TupleOut(kind)
    x = torch.randn(1, 3, 6, 6)
    folded, report = fold(model, x, report=True)
    with torch.no_grad():
        got, want = folded(x), model(x)
    assert relative_difference(got, want) <= 1e-5 and len(report.folded) == 1
    from upsamplekit.folding import module
    real = module._fold_parameters
    monkeypatch.setattr(module, "_fold_parameters", lambda *a: (real(*a)[0] * 1.01, real(*a)[1]))
    with pytest.raises(UpsampleError, match="differs from the original on example_input"):
        fold(model, x)


@pytest.mark.parametrize(("kind", "shown"), [("none", "NoneType None"), ("long", "a torch.int64 tensor")])
def test_an_output_fold_cannot_check_is_a_clear_error(kind: str, shown: str) -> None:
    with pytest.raises(InvalidTypeError, match=f"the model's output must be a floating-point tensor, or a tuple, list "
                                               f"or dict holding one, .* but the model returns {shown}"):
        fold(TupleOut(kind), torch.randn(1, 3, 6, 6))
    fold(TupleOut(kind))  # without an example nothing is compared: it folds


def test_relative_difference() -> None:
    a = torch.tensor([1.0, float("inf"), float("nan"), -2.0])
    assert relative_difference(a, a.clone()) == 0.0
    assert relative_difference({"y": a + torch.tensor([0, 0, 0, 0.5])}, {"y": a}) == 0.25
    assert np.isnan(relative_difference(torch.tensor([float("nan")]), torch.tensor([1.0])))
    with pytest.raises(UpsampleError, match="bug in upsamplekit.fold"):
        relative_difference((a,), (a, a))
    with pytest.raises(UpsampleError, match=r"returns a torch.float32 tensor of shape \(3,\) where the original"):
        relative_difference(a[:3], a)


# ---------------------------------------------------------------------- the CLI's helpers
def test_a_factory_module_that_raises_at_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "fold_raises_at_import.py").write_text("1 / 0\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(InvalidArgumentError, match="factory: importing module 'fold_raises_at_import' raised "
                                                   "ZeroDivisionError: division by zero"):
        load_model("fold_raises_at_import:build")


@pytest.mark.parametrize("text", ["1,3,٣,3", "1,3,-2", "", "1,,3", "1.5,3"])
def test_parse_shape_refuses(text: str) -> None:
    with pytest.raises(InvalidArgumentError, match="input shape must be positive integers"):
        parse_shape(text)


def test_parse_shape_is_bounded_by_the_output_guard() -> None:
    with pytest.raises(OutputTooLargeError, match=r"input shape \(65536, 65536, 65536\) is a float32 tensor"):
        parse_shape("65536,65536,65536")


@pytest.mark.parametrize("backend", ["aot_eager"])  # eager too passes; one keeps the suite quick
def test_a_compiled_folded_model_follows_data_edits(backend: str) -> None:
    """torch.compile must not bake the folded kernel in as a constant either."""
    torch._dynamo.reset()
    original, folded = folded_of("bilinear")
    x = example("bilinear")
    compiled = torch.compile(folded, backend=backend)
    with torch.no_grad():
        assert rel(compiled(x), original(x)) <= 1e-12
        folded[1].weight.data.mul_(-2.0)
        original[1].weight.data.mul_(-2.0)
        assert rel(compiled(x), original(x)) <= 1e-12
