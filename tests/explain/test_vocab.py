"""The vocabulary's registry: every callee's method names are its convention's, each framework module
and explain needs none of the study extra's packages."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest

from upsamplekit import Resampling
from upsamplekit.explainer.parse import Constant
from upsamplekit.explainer.vocab import SIGNATURES, Signature
from upsamplekit.explainer.vocab.opencv import interpolation
from upsamplekit.explainer.vocab.pillow import resample_filter
from upsamplekit.explainer.vocab.jax import CONSTANTS as JAX_CONSTANTS
from upsamplekit.explainer.vocab.tensorflow import CONSTANTS as TF_CONSTANTS
from upsamplekit.explainer.vocab.tensorflow import TF1_OPS

# The option that names the method, and the convention its values belong to.
_METHOD_OPTIONS = {"torch": ("mode", "torch"), "keras": ("interpolation", "keras"), "tf.resize": ("method", "tf"),
                   "jax": ("method", "jax"), "upsamplekit.resize": ("method", "torch"),
                   "upsamplekit.Interpolate": ("method", "torch")}


def _method_option(sig: Signature) -> tuple[str, str] | None:
    return _METHOD_OPTIONS.get(sig.key) or _METHOD_OPTIONS.get(sig.framework)


@pytest.mark.parametrize("sig", [s for s in SIGNATURES.values() if _method_option(s) and s.choices],
                         ids=lambda s: s.key)
def test_every_method_choice_is_a_method_of_its_convention(sig: Signature) -> None:
    found = _method_option(sig)
    assert found is not None
    option, convention = found
    for method in sig.choices.get(option, ()):
        assert isinstance(Resampling.preset(convention, method), Resampling)


@pytest.mark.parametrize("value, convert", [
    *[(Constant(f"cv2.{name}"), interpolation) for name in ("INTER_NEAREST", "INTER_LINEAR", "INTER_CUBIC",
                                                              "INTER_AREA", "INTER_LANCZOS4", "INTER_NEAREST_EXACT")],
    *[(Constant(f"Image.{name}"), resample_filter) for name in ("NEAREST", "BOX", "BILINEAR", "HAMMING", "BICUBIC",
                                                                 "LANCZOS")],
])
def test_framework_constants_name_methods_of_the_convention(value: Constant, convert: Callable[[Any], str]) -> None:
    convention = "opencv" if str(value).startswith("cv2") else "pillow"
    assert isinstance(Resampling.preset(convention, convert(value)), Resampling)


def test_tf_and_jax_constants_name_methods_of_the_convention() -> None:
    for method in TF_CONSTANTS.values():
        Resampling.preset("tf", method)
    for method in TF1_OPS.values():
        Resampling.preset("tf1", method)
    for method in JAX_CONSTANTS.values():
        Resampling.preset("jax", method)


def test_every_signature_has_its_framework_and_a_unique_key() -> None:
    assert all(key == sig.key for key, sig in SIGNATURES.items())
    assert len({sig.key for sig in SIGNATURES.values()}) == len(SIGNATURES)
    assert all(set(sig.choices) <= set(sig.params) | set(sig.defaults) for sig in SIGNATURES.values()
               if not sig.varkw), "a fix-search option the callee does not take"


_WITHOUT_EXTRAS = """
import sys
BLOCKED = ("matplotlib", "skimage", "PIL", "optuna", "tqdm")
for name in BLOCKED:  # as if not installed: import raises ModuleNotFoundError, importlib.util.find_spec gives None
    sys.modules[name] = None
from upsamplekit.errors import MissingDependencyError
from upsamplekit.explainer import explain
e = explain("torch: nn.Upsample(scale_factor=2)", "keras: UpSampling2D(size=2)")
assert e.equivalent
try:
    e.plot("unused.png")
except MissingDependencyError as error:
    assert "upsamplekit[study]" in str(error), error
else:
    raise SystemExit("plot() ran without matplotlib")
assert not set(BLOCKED) & {m.split(".")[0] for m, module in sys.modules.items() if module is not None}
"""


def test_explain_runs_with_only_torch_numpy_and_click() -> None:
    done = subprocess.run([sys.executable, "-c", _WITHOUT_EXTRAS], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr

