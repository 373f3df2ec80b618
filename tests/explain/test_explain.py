"""``explain``: verdicts, locations, knobs, fixes, text, JSON and plot, on upsamplekit's own engine.

The real libraries are in ``test_real_frameworks.py`` / ``test_real_tensorflow.py``; here the
references are torch itself (seed 003's construction and ``F.interpolate``) and the seed's
printed numbers.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from upsamplekit import Resampling, resize
from upsamplekit.errors import InvalidArgumentError, InvalidTypeError
from upsamplekit.explainer import explain, parse_call
from upsamplekit.explainer.calls import Transposed
from upsamplekit.explainer.compare import PROBES, probes

from tests.explain.real import make_bilinear_weights

SEED003_A = "torch: F.upsample(x, None, 2, 'bilinear')"
SEED003_B = "out2 = F.conv_transpose2d(x, Variable(make_bilinear_weights(4, 1)), stride=2, padding=1, groups=c)"
GRID = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]], dtype=torch.float64)


@pytest.fixture(scope="module")
def seed003() -> object:
    return explain(SEED003_A, SEED003_B, sizes=[(2, 2), (8, 8), (5, 7)])


def test_seed003_out2_is_the_transposed_convolution_printed_in_the_thread() -> None:
    out2 = parse_call(SEED003_B).transposed.run(GRID)
    printed = [[0.5625, 0.9375, 1.3125, 1.1250], [1.1250, 1.7500, 2.2500, 1.8750],
               [1.8750, 2.7500, 3.2500, 2.6250], [1.6875, 2.4375, 2.8125, 2.2500]]
    np.testing.assert_allclose(out2[0, 0].numpy(), printed, atol=0)
    torch_out2 = F.conv_transpose2d(GRID, torch.from_numpy(make_bilinear_weights(4, 1)), stride=2, padding=1)
    assert torch.equal(out2, torch_out2)


def test_seed003_is_a_border_ring_difference_fixed_by_replicating_the_edge(seed003: object) -> None:
    e = seed003
    assert not e.equivalent and e.where == "border ring"
    assert all(c.where == "border ring" and c.ring_width == 1 for c in e.comparisons)
    # The number explain reports is the real torch difference on the probes.
    for c in e.comparisons:
        x = probes(c.input_size).double()
        out1 = F.interpolate(x, scale_factor=2, mode="bilinear")
        out2 = F.conv_transpose2d(x, torch.from_numpy(make_bilinear_weights(4, 1)), stride=2, padding=1)
        assert c.max_diff == pytest.approx(float((out1 - out2).abs().max()), abs=1e-6)  # float32 probes
        inner = (out1 - out2)[..., 1:-1, 1:-1].abs().max()
        assert float(inner) < 1e-12  # interior equal: only the ring differs
    borders = [k for k in e.knobs if k.name == "borders"]
    assert borders and borders[0].aligned_max_diff < 1e-6
    assert e.fix.words() == "B: border='replicate' (was 'zero')"
    assert e.fix.call == "convtranspose: bilinear(kernel=4, stride=2, padding=1, border='replicate')"
    fixed = explain(SEED003_A, e.fix.call, sizes=[(2, 2), (8, 8), (5, 7)], fix=False)
    assert fixed.equivalent


@pytest.mark.parametrize("border", ["zero", "replicate"])
@pytest.mark.parametrize("kernel, stride, padding, output_padding, coordinates", [
    (4, 2, 1, 0, "half_pixel"), (3, 2, 1, 1, "asymmetric"), (6, 3, 2, 1, None), (5, 3, 1, 0, "half_pixel"),
    (8, 4, 2, 0, "half_pixel"),
])
def test_transposed_effective_spec_is_what_the_convolution_computes(kernel: int, stride: int, padding: int,
                                                                   output_padding: int, coordinates: str | None,
                                                                   border: str) -> None:
    t = Transposed.bilinear(kernel, stride, padding, output_padding, border)  # type: ignore[arg-type]
    spec = t.effective_spec()
    if coordinates is None:  # K = 6 at stride 3: FCN's triangle is wider than the stride, not interpolation
        assert spec is None
        return
    assert spec == Resampling(kernel="linear", coordinates=coordinates, border=border)  # type: ignore[arg-type]
    x = torch.rand(2, 3, 5, 7, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    np.testing.assert_allclose(t.run(x).numpy(), resize(x, scale_factor=stride, spec=spec).numpy(), atol=1e-12)


def test_equivalent_pair_reports_no_difference_and_no_fix() -> None:
    e = explain("torch: nn.Upsample(scale_factor=2, mode='bilinear')",
                "keras: UpSampling2D(size=(2, 2), interpolation='bilinear')")
    assert e.equivalent and e.where == "nowhere" and e.max_diff <= 1e-6
    assert e.fix is None
    text = str(e)
    assert "verdict: EQUIVALENT" in text
    assert "layout: A takes (N, C, H, W), B takes (N, H, W, C)" in text


def test_different_output_sizes_are_reported_first() -> None:
    e = explain("torch: F.interpolate(x, size=(56, 56), mode='bilinear')",
                "cv2: cv2.resize(x, (56, 48), interpolation=cv2.INTER_LINEAR)")
    assert e.where == "output size" and e.max_diff is None and not e.equivalent
    assert e.comparisons[0].input_size == (28, 28)
    assert (e.comparisons[0].output_a, e.comparisons[0].output_b) == ((56, 56), (48, 56))
    lines = str(e).splitlines()
    assert lines[2].startswith("verdict: DIFFERENT: the output sizes differ")
    assert lines[3].startswith("where: the output sizes differ")
    assert lines[4].strip().startswith("- output sizes differ: at input 28x28, A gives 56x56 and B gives 48x56")
    assert e.knobs[0].name == "output size"
    assert e.fix.call == "cv2: cv2.resize(x, dsize=(56, 56), interpolation=cv2.INTER_LINEAR)"
    assert "size order: A writes sizes as (height, width), B writes sizes as (width, height)" in str(e)


def test_sizes_that_differ_only_at_some_inputs() -> None:
    # floor vs round of 7 * 1.5 = 10.5: the same at 8x8, not at 5x7.
    e = explain("torch: nn.Upsample(scale_factor=1.5, mode='bilinear')",
                "cv2: cv2.resize(x, None, fx=1.5, fy=1.5, interpolation=cv2.INTER_LINEAR)", sizes=[(8, 8), (5, 7)])
    assert [c.where for c in e.comparisons][1] == "output size"
    assert e.comparisons[1].output_a == (7, 10) and e.comparisons[1].output_b == (8, 10)
    assert e.where == "output size"


def test_phase_pattern_of_nearest_and_nearest_exact() -> None:
    e = explain("torch: F.interpolate(x, scale_factor=1.5, mode='nearest')",
                "torch: F.interpolate(x, scale_factor=1.5, mode='nearest-exact')", sizes=(8, 8))
    c = e.comparisons[0]
    assert c.where == "phase" and c.period == (3, 3)
    x = probes((8, 8))
    diff = (F.interpolate(x, scale_factor=1.5, mode="nearest") -
            F.interpolate(x, scale_factor=1.5, mode="nearest-exact")).abs().amax(dim=(0, 1))
    # floor(i / 1.5) and floor((i + 0.5) / 1.5) agree at output phases 0 and 2 of every 3, per axis.
    real = {(a, b): float(diff[a::3, b::3].max()) for a in range(3) for b in range(3)}
    assert {p for p, v in real.items() if v == 0} == {(0, 0), (0, 2), (2, 0), (2, 2)}
    assert {(a, b) for a in range(3) for b in range(3) if c.phases[a][b] == 0} == {(0, 0), (0, 2), (2, 0), (2, 2)}
    assert e.fix is not None and e.fix.words() == "B: mode='nearest' (was 'nearest-exact')"


def test_knob_that_accounts_for_the_difference_is_measured() -> None:
    e = explain("torch: nn.Upsample(scale_factor=2, mode='bilinear', align_corners=True)",
                "torch: nn.Upsample(scale_factor=2, mode='bilinear')")
    assert [k.name for k in e.knobs] == ["coordinates"]
    assert e.knobs[0].aligned_max_diff == 0.0 and e.knobs[0].a == "align_corners"
    assert e.where == "everywhere"
    assert e.fix.words() == "B: align_corners=True (was None)"


def test_no_fix_within_two_changes_shows_the_closest() -> None:
    e = explain("torch: nn.Upsample(scale_factor=2, mode='nearest')",
                "pillow: img.resize((16, 16), Image.HAMMING)", sizes=(8, 8))
    assert not e.equivalent
    if e.fix is None:
        assert "no change of one or two options" in str(e)
    else:
        assert explain(*e.fix.apply(e.a, e.b), sizes=(8, 8)).equivalent


def test_fix_moves_to_the_callee_that_has_the_knob() -> None:
    e = explain("torch: nn.Upsample(scale_factor=2, mode='bicubic')",
                "pillow: img.resize((16, 16), Image.BICUBIC)")
    assert e.fix.call == "torch: F.interpolate(x, scale_factor=2, mode='bicubic', antialias=True)"
    assert e.fix.words() == "A: F.interpolate instead of nn.Upsample, antialias=True (was unset)"


def test_json_has_every_field(seed003: object) -> None:
    data = json.loads(seed003.to_json())
    assert data["equivalent"] is False and data["where"] == "border ring"
    assert data["probes"] == list(PROBES)
    assert data["a"]["framework"] == "torch" and data["b"]["transposed"].startswith("bilinear transposed")
    assert data["sizes"][0]["input"] == [2, 2] and data["sizes"][0]["ring_width"] == 1
    assert data["fix"]["side"] == "B" and data["fix"]["changes"] == [
        {"side": "B", "option": "border", "old": "zero", "new": "replicate"}]
    assert {k["name"] for k in data["knobs"]} >= {"borders"}


def test_plot_writes_a_png(seed003: object, tmp_path: object) -> None:
    path = seed003.plot(str(tmp_path) + "/explain.png")
    with open(path, "rb") as handle:
        assert handle.read(8) == b"\x89PNG\r\n\x1a\n"


def test_plot_of_different_sizes(tmp_path: object) -> None:
    e = explain("torch: F.interpolate(x, size=(8, 8))", "torch: F.interpolate(x, size=(8, 6))", fix=False)
    with open(e.plot(str(tmp_path) + "/sizes.png"), "rb") as handle:
        assert handle.read(4) == b"\x89PNG"


@pytest.mark.parametrize("sizes, words", [
    (0, "sizes must be input sizes"), ([(2, 2, 2)], "sizes must be input sizes"), ([], "at least one"),
])
def test_bad_sizes(sizes: object, words: str) -> None:
    with pytest.raises(InvalidArgumentError, match=words):
        explain("torch: nn.Upsample(scale_factor=2)", "torch: nn.Upsample(scale_factor=2)", sizes=sizes)


def test_bad_atol_and_seed() -> None:
    with pytest.raises(InvalidArgumentError, match="atol must be a finite number >= 0"):
        explain("torch: nn.Upsample(scale_factor=2)", "torch: nn.Upsample(scale_factor=2)", atol=-1)
    with pytest.raises(InvalidTypeError, match="seed must be an int"):
        explain("torch: nn.Upsample(scale_factor=2)", "torch: nn.Upsample(scale_factor=2)", seed=1.5)  # type: ignore


def test_parse_errors_name_the_side() -> None:
    with pytest.raises(InvalidArgumentError, match=r"^A: "):
        explain("torch: nn.Upsample(scale=2)", "torch: nn.Upsample(scale_factor=2)")
    with pytest.raises(InvalidArgumentError, match=r"^B: "):
        explain("torch: nn.Upsample(scale_factor=2)", "torch: nn.Conv2d(3, 3, 3)")


def test_a_call_without_a_size_takes_the_others() -> None:
    e = explain("onnx: Resize(mode='linear')", "torch: nn.Upsample(scale_factor=3, mode='bilinear')")
    assert e.equivalent
    assert all(c.output_a == tuple(3 * s for s in c.input_size) for c in e.comparisons)
    assert "A: no scales or sizes given: the other call's output size is used" in e.notes
