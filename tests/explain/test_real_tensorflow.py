"""explain's verdicts against TensorFlow and Keras 3 (TensorFlow backend): seed 004's pairs and TF's
own knobs. Slow only because importing TensorFlow takes seconds.

Tolerances (probes are float32 in [0, 1]):

* ``F32`` (1e-5): TensorFlow's float32 weights and sums against upsamplekit's float64 weights.
* ``TABLE`` (2e-3): ``tf.image.resize(method='bicubic')`` reads its weights from a 1024-entry
  table (the fractional offset rounded to 1/1024); a value in [0, 1] errs by up to ~1.9e-3
  (see ``tests/parity/test_tensorflow.py``). explain states this in a note.
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np
import pytest

from upsamplekit.explainer import explain
from upsamplekit.explainer.compare import probes, resolve_requests

from tests.explain.real import run_real

pytestmark = pytest.mark.slow
pytest.importorskip("tensorflow")
pytest.importorskip("keras")

F32 = 1e-5
TABLE = 2e-3


def _real(a: object, b: object, sizes: list[tuple[int, int]]) -> tuple[float, list[tuple[tuple, tuple]]]:
    ra, rb = resolve_requests(a, b)  # type: ignore[arg-type]
    worst, shapes = 0.0, []
    for size in sizes:
        x = probes(size).numpy()
        ya, yb = run_real(a, x, ra), run_real(b, x, rb)  # type: ignore[arg-type]
        shapes.append((ya.shape[2:], yb.shape[2:]))
        if ya.shape == yb.shape:
            worst = max(worst, float(np.abs(ya.astype(np.float64) - yb).max()))
    return worst, shapes


@pytest.mark.parametrize("a, b, equivalent, tolerance", [
    # seed 004: Keras's default nearest against the torch bicubic of its example 2.
    ("keras: UpSampling2D(size=(2, 2), interpolation='nearest')",
     "torch: nn.Upsample(scale_factor=2, mode='bicubic', align_corners=False)", False, F32),
    ("keras: UpSampling2D((2, 2), interpolation='bilinear')", "torch: nn.Upsample(scale_factor=2, mode='bilinear')",
     True, F32),
    ("keras: UpSampling2D(size=(2, 2), interpolation='bicubic')", "torch: nn.Upsample(scale_factor=2, mode='bicubic')",
     False, TABLE),
    ("tf: tf.compat.v1.image.resize_bilinear(x, (16, 16))", "torch: nn.Upsample(scale_factor=2, mode='bilinear')",
     False, F32),
    ("tf: tf.image.resize(x, (16, 16), method=tf.image.ResizeMethod.LANCZOS3)",
     "jax: jax.image.resize(x, shape, 'lanczos3')", True, F32),
    ("keras: Resizing(16, 16, interpolation='bicubic', antialias=True)",
     "pillow: img.resize((16, 16), Image.BICUBIC)", True, F32),
])
def test_tensorflow_and_keras_verdicts(a: str, b: str, equivalent: bool, tolerance: float) -> None:
    e = explain(a, b, sizes=[(8, 8)])
    assert e.equivalent == equivalent, str(e)
    real, shapes = _real(e.a, e.b, [(8, 8)])
    assert shapes == [(c.output_a, c.output_b) for c in e.comparisons]
    if equivalent:
        assert real <= tolerance, f"tolerance {tolerance}: real max diff {real}"
        return
    assert real == pytest.approx(e.max_diff, abs=tolerance), f"explain {e.max_diff}, real {real}"
    assert e.fix is not None, str(e)
    after, _ = _real(*e.fix.apply(e.a, e.b), [(8, 8)])
    assert after <= tolerance, f"the fix {e.fix.words()} leaves {after} in the real libraries"


def test_seed004_fix_and_knobs() -> None:
    e = explain("keras: UpSampling2D(size=(2, 2), interpolation='nearest')",
                "torch: nn.Upsample(scale_factor=2, mode='bicubic', align_corners=False)")
    kernel = [k for k in e.knobs if k.name == "kernel"]
    assert kernel and kernel[0].aligned_max_diff == 0.0
    assert e.fix.b == "torch: nn.Upsample(scale_factor=2, mode='nearest')"
    assert any(k.name == "layout" for k in e.knobs)
