"""`upsamplekit.fold` on whole models: what it rewrites, what it leaves alone (and says why),
that the result computes what the original computes, and its errors.

Outputs are compared on random inputs with the tolerances of the issue (relative to the largest
output: 1e-12 in float64, 1e-5 in float32; a decoder stacks several folded layers and ReLUs,
still within that in float32).

The central cases also compare on CUDA where there is a GPU (the ``device`` fixture): ``fold`` decides
on the CPU as here (on CUDA it declines untimed rewrites, see tests/fold/test_fold_device.py), then the
folded and the original model run on the device, with the same bounds (``no_cudnn_tf32``: float32
convolutions without TF32)."""

from __future__ import annotations

import copy
import warnings

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import upsamplekit
from upsamplekit.decoder import Decoder
from upsamplekit.errors import InvalidArgumentError, InvalidTypeError, UpsampleError
from upsamplekit.folding import FoldedConv, FoldReport, fold
from upsamplekit.nn import Interpolate, ResizeConv, TransposedConv

torch.set_num_threads(1)


def rel(a: torch.Tensor, b: torch.Tensor) -> float:
    assert a.shape == b.shape
    return float((a.double() - b.double()).abs().max() / b.double().abs().max())


def same(folded: nn.Module, original: nn.Module, x: torch.Tensor, device: str = "cpu") -> None:
    """The folded model computes what the original computes, on ``device``."""
    if device != "cpu":  # copies: the tests keep using their models on the CPU
        folded, original, x = copy.deepcopy(folded).to(device), copy.deepcopy(original).to(device), x.to(device)
    with torch.no_grad():
        error = rel(folded(x), original(x))
    assert error <= (1e-12 if x.dtype == torch.float64 else 1e-5), error


def pair(mode: str = "nearest", channels: int = 3, dtype: torch.dtype = torch.float32, **conv: object) -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Upsample(scale_factor=2, mode=mode),
                         nn.Conv2d(channels, 4, 3, **{"padding": 1, **conv}, dtype=dtype))  # type: ignore[arg-type]


def test_the_package_is_callable_and_the_function() -> None:
    model = pair()
    assert isinstance(upsamplekit.fold(model)[1], FoldedConv)
    assert upsamplekit.folding.fold is fold and "fold" in upsamplekit.__all__


def test_sequential_keeps_its_type_keys_and_the_original(device: str) -> None:
    model = pair(dtype=torch.float64)
    folded, report = fold(model, report=True)
    assert type(folded) is nn.Sequential and isinstance(folded[0], nn.Identity) and isinstance(folded[1], FoldedConv)
    assert isinstance(model[0], nn.Upsample) and isinstance(model[1], nn.Conv2d)  # the input is not changed
    assert list(folded.state_dict()) == list(model.state_dict())  # ['1.weight', '1.bias']
    assert folded[1].weight is not model[1].weight  # a copy
    assert [f.where for f in report.folded] == ["0 + 1"] and report.left_alone == ()
    assert "2.25x fewer multiply-adds" in report.folded[0].what
    same(folded, model, torch.randn(2, 3, 7, 5, dtype=torch.float64), device)


@pytest.mark.parametrize("name", ["nearest", "bilinear", "bicubic", "transposed", "subpixel", "resizeconv", "carafe",
                                  "dysample"])
@pytest.mark.parametrize("schedule", [[4], [2, 2]])
def test_study_decoders(name: str, schedule: list[int], device: str, no_cudnn_tf32: None) -> None:
    """Without an example every exact rewrite that saves work is made; with one, each is timed at
    its input shape and kept only where faster (so which ones is the machine's call)."""
    torch.manual_seed(1)
    decoder = Decoder(3, 3, scale=4, schedule=schedule, upsampler=name, channels=8).eval()
    folded, report = fold(decoder, report=True)
    assert type(folded) is Decoder and folded.schedule == schedule
    assert len(report.folded) + len(report.left_alone) == len(schedule)
    reasons = " ".join(a.why for a in report.left_alone)
    if name in ("nearest", "bilinear", "resizeconv"):
        assert len(report.folded) == len(schedule), str(report)
    elif name == "bicubic":
        assert "folding costs more" in reasons and "5x5 kernel" in reasons
    elif name == "subpixel":
        assert "sub-pixel convolution already" in reasons
    elif name in ("carafe", "dysample"):
        assert "content-aware" in reasons
    else:
        assert "pass example_input" in reasons
    x = torch.randn(1, 3, 12, 10)
    same(folded, decoder, torch.randn(2, 3, 9, 13), device)
    timed, report = fold(decoder, x, report=True)
    assert len(report.folded) + len(report.left_alone) == len(schedule)
    if name in ("nearest", "bilinear", "resizeconv", "transposed"):
        assert all("measured" in f.what for f in report.folded) and all("measured" in a.why for a in report.left_alone)
    same(timed, decoder, torch.randn(2, 3, 9, 13), device)


class Traced(nn.Module):
    """Functional interpolation and an nn.Upsample in a submodule: torch.fx sees both."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1, dtype=torch.float64)
        self.block = nn.ModuleDict({"up": nn.Upsample(scale_factor=(1, 2), mode="bilinear"),
                                    "conv": nn.Conv2d(4, 2, (1, 3), padding=(0, 1), padding_mode="replicate",
                                                      dtype=torch.float64)})

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(F.interpolate(x, scale_factor=2, mode="nearest"))
        return self.block["conv"](self.block["up"](torch.relu(y)))


def test_fx_rewrites_functional_and_module_calls() -> None:
    torch.manual_seed(2)
    model = Traced()
    folded, report = fold(model, report=True)
    assert isinstance(folded, torch.fx.GraphModule) and report.traced == ("(model)",)
    assert sorted(f.where for f in report.folded) == ["block.up + block.conv", "interpolate + conv"]
    assert sum(isinstance(m, FoldedConv) for m in folded.modules()) == 2
    same(folded, model, torch.randn(2, 3, 5, 6, dtype=torch.float64))


class Branchy(nn.Module):
    """Control flow on a tensor's value: torch.fx cannot trace it."""

    def __init__(self) -> None:
        super().__init__()
        self.body = pair(dtype=torch.float64)
        self.up = ResizeConv(4, 4, 2, dtype=torch.float64)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.body(x)
        return self.up(y) if y.sum() > 0 else -self.up(y)


def test_an_untraceable_model_is_folded_module_by_module_with_a_warning() -> None:
    model = Branchy()
    with pytest.warns(UserWarning, match=r"torch.fx cannot trace the model \(Branchy\).*TraceError"):
        folded, report = fold(model, report=True)
    assert type(folded) is Branchy and report.fallbacks and report.fallbacks[0][0] == "(model)"
    assert isinstance(folded.body[1], FoldedConv) and isinstance(folded.up, FoldedConv)
    x = torch.randn(1, 3, 4, 5, dtype=torch.float64)
    same(folded, model, x)
    same(folded, model, -x)


@pytest.mark.parametrize(("layer", "reason"), [
    (nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True), "align_corners=True"),
    (nn.Upsample(size=(8, 8)), "fixed output size"),
    (nn.Upsample(scale_factor=1.5), "not an integer"),
    (nn.Upsample(scale_factor=2, mode="bicubic"), "folding costs more"),
    (Interpolate(scale_factor=2, method="cubic", convention="tf"), "not the same stencil"),  # taps dropped at borders
])
def test_upsamplers_that_do_not_fold_say_why(layer: nn.Module, reason: str) -> None:
    """(Area upsampling at an integer scale copies one input per output, as nearest: it folds.)"""
    model = nn.Sequential(layer, nn.Conv2d(3, 3, 3, padding=1))
    folded, report = fold(model, report=True)
    assert report.folded == () and len(report.left_alone) == 1
    assert report.left_alone[0].where == "0" and reason in report.left_alone[0].why, report.left_alone[0].why
    assert isinstance(folded[0], type(layer))


@pytest.mark.parametrize(("following", "reason"), [
    (nn.ReLU(), "followed by ReLU"),
    (nn.Conv2d(3, 3, 3, stride=2), "stride (2, 2)"),
])
def test_what_follows_must_be_a_stride_1_convolution(following: nn.Module, reason: str) -> None:
    _, report = fold(nn.Sequential(nn.Upsample(scale_factor=2), following), report=True)
    assert reason in report.left_alone[0].why


class Reused(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.up = nn.Upsample(scale_factor=2)
        self.conv = nn.Conv2d(3, 3, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.up(x)
        return self.conv(y) + y


class Shared(nn.Module):
    """One convolution applied twice: after an upsampling and on its own."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 3, padding=1, dtype=torch.float64)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(self.conv(x), scale_factor=2))


def test_an_upsampled_tensor_used_twice_is_left_alone() -> None:
    _, report = fold(Reused(), report=True)
    assert report.folded == () and "used 2 times" in report.left_alone[0].why


def test_a_shared_convolution_keeps_its_other_use() -> None:
    torch.manual_seed(3)
    model = Shared()
    folded, report = fold(model, report=True)
    assert len(report.folded) == 1 and isinstance(folded.conv, nn.Conv2d)
    same(folded, model, torch.randn(1, 3, 5, 4, dtype=torch.float64))


def test_interpolate_with_a_projection_folds_with_the_projection_first() -> None:
    torch.manual_seed(4)
    model = nn.Sequential(Interpolate(scale_factor=2, method="linear", in_channels=4, out_channels=6,
                                      dtype=torch.float64), nn.Conv2d(6, 5, 3, padding=1, dtype=torch.float64))
    folded = fold(model)
    assert folded[1].pre is not None
    same(folded, model, torch.randn(2, 4, 5, 6, dtype=torch.float64))


def test_keras_nearest_folds_and_keras_bilinear_before_a_float64_conv_does_not() -> None:
    torch.manual_seed(5)
    nearest = nn.Sequential(Interpolate(scale_factor=2, method="nearest", convention="keras"),
                            nn.Conv2d(3, 2, 3, padding=1))
    assert isinstance(fold(nearest)[1], FoldedConv)
    same(fold(nearest), nearest, torch.randn(1, 3, 6, 5))
    linear = nn.Sequential(Interpolate(scale_factor=2, method="bilinear", convention="keras"),
                           nn.Conv2d(3, 2, 3, padding=1, dtype=torch.float64))
    _, report = fold(linear, report=True)
    assert "returns float32" in report.left_alone[0].why


def test_three_dimensional_model(device: str) -> None:
    torch.manual_seed(6)
    model = nn.Sequential(nn.Upsample(scale_factor=(2, 1, 3), mode="trilinear"),
                          nn.Conv3d(2, 3, 3, padding=1, dtype=torch.float64))
    folded = fold(model)
    assert isinstance(folded[1], FoldedConv)
    same(folded, model, torch.randn(1, 2, 3, 4, 5, dtype=torch.float64), device)


def test_standalone_layers(device: str, no_cudnn_tf32: None) -> None:
    torch.manual_seed(7)
    layer = ResizeConv(3, 4, 2, dtype=torch.float64)
    folded = fold(layer)
    assert isinstance(folded, FoldedConv)
    same(folded, layer, torch.randn(1, 3, 5, 5, dtype=torch.float64), device)
    deconv = TransposedConv(3, 3, 2)
    kept, report = fold(deconv, report=True)
    assert isinstance(kept, TransposedConv) and "pass example_input" in report.left_alone[0].why
    timed, report = fold(deconv, torch.randn(1, 3, 8, 8), report=True)
    assert "measured" in str(report)
    same(timed, deconv, torch.randn(2, 3, 8, 8), device)


def test_training_flags_are_kept() -> None:
    model = pair().train()
    model[1].eval()
    folded = fold(model)
    assert folded.training and folded[0].training and not folded[1].training  # the conv's flag
    timed = fold(model, torch.randn(1, 3, 4, 4))  # the example runs in eval mode; the flags come back
    assert timed.training and [m.training for m in timed.modules()][-1] is False
    model.eval()
    assert not any(m.training for m in fold(model).modules())


def test_the_report_prints_every_entry() -> None:
    model = nn.Sequential(pair(), nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True),
                          nn.Conv2d(4, 4, 3, padding=1))
    _, report = fold(model, report=True)
    assert isinstance(report, FoldReport)
    text = str(report)
    assert text.splitlines()[0] == "folded 1, left alone 1"
    assert "folded 0.0 + 0.1: nearest x2 + Conv2d 3x3 zeros" in text
    assert "left alone 1 Upsample(" in text and "align_corners=True" in text


def test_bad_input() -> None:
    with pytest.raises(InvalidTypeError, match="model must be a torch.nn.Module, but got str"):
        fold("model")  # type: ignore[arg-type]
    with pytest.raises(InvalidTypeError, match="example_input must be a tensor"):
        fold(pair(), "x")
    with pytest.raises(InvalidArgumentError, match=r"example_input of shape \(1, 4, 8, 8\) does not fit the model: "
                                                   r"RuntimeError: .*to have 3 channels, but got 4"):
        fold(pair(), torch.zeros(1, 4, 8, 8))
    with pytest.raises(InvalidTypeError, match="report must be True or False"):
        fold(pair(), report="yes")  # type: ignore[arg-type]


def test_a_wrong_fold_is_caught_on_the_example(monkeypatch: pytest.MonkeyPatch) -> None:
    import upsamplekit.folding.module as module

    real = module._fold_parameters
    def wrong(*args: object) -> tuple[torch.Tensor, torch.Tensor | None]:
        weight, bias = real(*args)
        return weight * 1.01, bias

    monkeypatch.setattr(module, "_fold_parameters", wrong)
    monkeypatch.setattr("upsamplekit.folding.graph.FASTER", float("inf"))  # keep it whatever the timing
    with pytest.raises(UpsampleError, match="differs from the original on example_input"):
        fold(pair(), torch.randn(1, 3, 6, 6))


def test_folded_layer_errors_name_the_rule() -> None:
    folded = fold(pair(padding=3, padding_mode="reflect"))[1]
    with pytest.raises(InvalidArgumentError, match="reflect padding by 3 needs an upsampled length greater than 3"):
        folded(torch.zeros(1, 3, 1, 5))
    with pytest.raises(InvalidArgumentError, match=r"expects 3 input channels"):
        folded(torch.zeros(1, 2, 4, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        folded(torch.zeros(1, 3, 4, 4))
