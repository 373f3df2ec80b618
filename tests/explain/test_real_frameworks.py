"""explain's verdicts against the real libraries: torch, OpenCV, Pillow, onnxruntime and JAX.

For each pair: the real libraries, run on the same probes from the calls' own arguments
(``tests/explain/real.py``), give the output shapes explain reports; where explain calls the
pair equivalent their outputs agree within the stated tolerance; where it calls them
different, the largest real difference equals the one it reports; and its fix, applied to
the real call, makes the real outputs agree. TensorFlow and Keras are in
``test_real_tensorflow.py`` (slow to import).

Tolerances (probes are float32 in [0, 1]):

* ``F32``: float32 round-off of the libraries' own sums and weights (OpenCV's float32
  coefficients, JAX's float32 weights, onnxruntime's float32 arithmetic), 1e-5.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from upsamplekit.explainer import explain
from upsamplekit.explainer.compare import probes, resolve_requests

from tests.explain.real import run_real

F32 = 1e-5
WHY_F32 = "float32 round-off of the libraries' own weights and sums"


@dataclass(frozen=True)
class Pair:
    a: str
    b: str
    equivalent: bool
    where: str
    sizes: tuple[tuple[int, int], ...] | None = None


PAIRS = [
    # seed 003: nn.Upsample against the bilinear transposed convolution (today's default, then 2017's).
    Pair("torch: F.upsample(x, None, 2, 'bilinear')",
         "torch: F.conv_transpose2d(x, make_bilinear_weights(4, 1), stride=2, padding=1, groups=c)",
         False, "border ring", ((2, 2), (8, 8))),
    Pair("torch: F.interpolate(x, scale_factor=2, mode='bilinear', align_corners=True)",
         "torch: F.conv_transpose2d(x, make_bilinear_weights(4, 1), stride=2, padding=1, groups=c)",
         False, "everywhere", ((2, 2), (8, 8))),
    Pair("onnx: Resize(mode='linear', coordinate_transformation_mode='asymmetric')",
         "convtranspose: bilinear(kernel=3, stride=2, padding=1, output_padding=1)", False, "border ring"),
    Pair("torch: nn.Upsample(scale_factor=2, mode='bilinear')",
         "cv2: cv2.resize(x, None, fx=2, fy=2, interpolation=cv2.INTER_LINEAR)", True, "nowhere"),
    Pair("torch: nn.Upsample(scale_factor=2, mode='bicubic')",
         "cv2: cv2.resize(x, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)", True, "nowhere"),
    Pair("torch: nn.Upsample(scale_factor=1.5, mode='nearest')",
         "cv2: cv2.resize(x, None, fx=1.5, fy=1.5, interpolation=cv2.INTER_NEAREST)", True, "nowhere", ((8, 8),)),
    # Enlarging by an integer factor, torch's area (adaptive pooling) and OpenCV's INTER_AREA both repeat pixels.
    Pair("torch: nn.Upsample(scale_factor=2, mode='area')",
         "cv2: cv2.resize(x, None, fx=2, fy=2, interpolation=cv2.INTER_AREA)", True, "nowhere"),
    Pair("torch: F.interpolate(x, size=(56, 56), mode='bilinear')",
         "cv2: cv2.resize(x, (56, 48), interpolation=cv2.INTER_LINEAR)", False, "output size"),
    Pair("torch: nn.Upsample(scale_factor=2, mode='bicubic')", "pillow: img.resize((16, 16), Image.BICUBIC)",
         False, "everywhere"),
    Pair("torch: nn.Upsample(scale_factor=2, mode='bilinear')", "pillow: img.resize((16, 16), Image.BILINEAR)",
         True, "nowhere"),
    Pair("onnx: Resize(mode='cubic')", "torch: nn.Upsample(scale_factor=2, mode='bicubic')", True, "nowhere"),
    Pair("onnx: Resize(mode='nearest', scales=(1.5, 1.5))", "torch: F.interpolate(x, scale_factor=1.5, "
         "mode='nearest-exact')", False, "everywhere", ((8, 8), (5, 7))),
    Pair("jax: jax.image.resize(x, shape, method='lanczos3')", "pillow: img.resize((16, 16), Image.LANCZOS)",
         True, "nowhere"),
    Pair("jax: jax.image.resize(x, shape, method='linear')", "torch: nn.Upsample(scale_factor=3, mode='bilinear')",
         True, "nowhere"),
    Pair("jax: jax.image.resize(x, shape, method='nearest')", "torch: nn.Upsample(scale_factor=1.5)",
         False, "phase", ((8, 8), (6, 6))),
]


def _real_outputs(a: object, b: object, size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    ra, rb = resolve_requests(a, b)  # type: ignore[arg-type]
    x = probes(size).numpy()
    return run_real(a, x, ra), run_real(b, x, rb)  # type: ignore[arg-type]


def _real_max(a: object, b: object, sizes: list[tuple[int, int]]) -> float:
    worst = 0.0
    for size in sizes:
        ya, yb = _real_outputs(a, b, size)
        assert ya.shape == yb.shape, f"real shapes differ at {size}: {ya.shape} vs {yb.shape}"
        worst = max(worst, float(np.abs(ya.astype(np.float64) - yb).max()))
    return worst


@pytest.mark.parametrize("pair", PAIRS, ids=[f"{p.a.split('(')[0]}|{p.b.split('(')[0]}" for p in PAIRS])
def test_verdict_matches_the_real_libraries(pair: Pair) -> None:
    e = explain(pair.a, pair.b, sizes=list(pair.sizes) if pair.sizes else None)
    assert (e.equivalent, e.where) == (pair.equivalent, pair.where), str(e)
    for c in e.comparisons:
        ya, yb = _real_outputs(e.a, e.b, c.input_size)
        assert (ya.shape[2:], yb.shape[2:]) == (c.output_a, c.output_b)
        if c.max_diff is None:
            continue
        real = float(np.abs(ya.astype(np.float64) - yb).max())
        if pair.equivalent:
            assert real <= F32, f"{WHY_F32}: real max diff {real}"
        else:
            assert real == pytest.approx(c.max_diff, abs=F32), f"{WHY_F32}: explain {c.max_diff}, real {real}"
    if not pair.equivalent:
        assert e.fix is not None, str(e)
        fixed_a, fixed_b = e.fix.apply(e.a, e.b)
        sizes = [c.input_size for c in e.comparisons]
        assert _real_max(fixed_a, fixed_b, sizes) <= F32, f"the fix {e.fix.words()} does not hold in the real libraries"
