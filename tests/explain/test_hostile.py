"""Hostile input to explain's public functions (issue 16): every bad value is an ``UpsampleError`` that
names the argument, the rule and the value, never a silent misread, a RecursionError or a MemoryError.

References: Python itself (what ``compile`` refuses, explain refuses), OpenCV (``dsize`` is (width,
height), so a cv2 call must never be read as another framework's (height, width)), torch (it refuses a
string ``align_corners`` too), and resize's output guard (the same limit, the same error class).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from upsamplekit.errors import InvalidArgumentError, InvalidTypeError, OutputTooLargeError, UpsampleError
from upsamplekit.explainer import CallParseError, compare_images, explain, load_image, parse_call
from upsamplekit.explainer.calls import MAX_TAPS
from upsamplekit.explainer.parse import MAX_CALL_LENGTH, MAX_NESTING
from upsamplekit.resample import api as resample_api

UP = "torch: nn.Upsample(scale_factor=2)"
KERAS = "keras: UpSampling2D(size=2)"


# --------------------------------------------------------------------------- a call of another framework
@pytest.mark.parametrize("text, prefix, owner", [
    ("tf: cv2.resize(x, (16, 8))", "tf", "cv2"),
    ("pillow: cv2.resize(x, (16, 8))", "pillow", "cv2"),
    ("torch: cv2.resize(x, (16, 8))", "torch", "cv2"),
    ("jax: tf.image.resize(x, (16, 16))", "jax", "tf"),
    ("keras: tf.image.resize(x, (16, 16))", "keras", "tf"),
    ("cv2: F.interpolate(x, scale_factor=2)", "cv2", "torch"),
    ("onnx: torch.nn.functional.interpolate(x, scale_factor=2)", "onnx", "torch"),
    ("upsamplekit: F.interpolate(x, scale_factor=2)", "upsamplekit", "torch"),
    ("convtranspose: F.conv_transpose2d(x, make_bilinear_weights(4, 1), stride=2, padding=1)", "convtranspose",
     "torch"),
    ("tf: jax.image.resize(x, (1, 16, 16, 1), 'linear')", "tf", "jax"),
    ("tensorflow: keras.layers.UpSampling2D(size=2)", "tf", "keras"),
])
def test_a_call_of_another_framework_is_refused_naming_both(text: str, prefix: str, owner: str) -> None:
    with pytest.raises(CallParseError) as caught:
        parse_call(text)
    message = str(caught.value)
    assert f"'{prefix}:'" in message and f"'{owner}:'" in message, message
    assert caught.value.column == text.index(":") + 2  # the caret is on the callee


def test_cv2_dsize_is_width_height_as_opencv_reads_it() -> None:
    cv2 = pytest.importorskip("cv2")
    real = cv2.resize(np.zeros((4, 4), np.float32), (16, 8))
    call = parse_call("cv2: cv2.resize(x, (16, 8))")
    assert call.request == ("size", tuple(float(v) for v in real.shape)) or call.request == ("size", real.shape)
    assert real.shape == (8, 16)
    with pytest.raises(CallParseError, match="belongs to OpenCV"):  # never tf.image.resize(size=(16, 8))
        explain("tf: cv2.resize(x, (16, 8))", "cv2: cv2.resize(x, (16, 8))")


def test_numpy_resize_is_not_read_as_an_image_resize() -> None:
    with pytest.raises(CallParseError, match="not an upsampling call of jax"):  # jnp.resize repeats the array
        parse_call("jax: jnp.resize(x, (1, 16, 16, 1))")


def test_calls_of_their_own_framework_still_read() -> None:
    assert parse_call("keras: tf.keras.layers.UpSampling2D(size=2)").function == "UpSampling2D"
    assert parse_call("keras: keras.layers.experimental.preprocessing.Resizing(8, 8)").function == "Resizing"
    assert parse_call("tf1: tf.compat.v1.image.resize_bilinear(x, (8, 8))").framework == "tf"
    assert parse_call("pillow: Image.open(path).resize((8, 8), Image.BICUBIC)").request == ("size", (8, 8))


# --------------------------------------------------------------------------- what Python refuses
@pytest.mark.parametrize("text", [
    "torch: nn.Upsample(scale_factor=2, scale_factor=3)",
    "torch: F.interpolate(x, size=4, mode='nearest', mode='bilinear')",
    "onnx: Resize(mode='linear', scales=(1, 1, 2, 2), mode='cubic')",
    "torch: F.conv_transpose2d(x, make_bilinear_weights(size=4, size=6), stride=2, padding=1)",
])
def test_a_repeated_keyword_is_refused_as_python_refuses_it(text: str) -> None:
    body = text.split(": ", 1)[1]
    with pytest.raises(SyntaxError, match="repeated"):
        compile(body, "<call>", "eval")  # the reference: Python
    with pytest.raises(CallParseError, match="keyword argument repeated") as caught:
        parse_call(text)
    name = str(caught.value).split("'")[1]
    assert caught.value.column == text.rindex(f"{name}=")  # the caret is on the second one


@pytest.mark.parametrize("text, option", [
    ("torch: nn.Upsample(scale_factor=2, mode='bilinear', align_corners='yes')", "align_corners"),
    ("torch: F.interpolate(x, scale_factor=2, mode='bilinear', antialias='False')", "antialias"),
    ("torch: F.interpolate(x, scale_factor=2, mode='bilinear', antialias=1)", "antialias"),
    ("torch: F.interpolate(x, scale_factor=2.5, recompute_scale_factor='True')", "recompute_scale_factor"),
    ("tf: tf.image.resize(x, (16, 16), antialias='False')", "antialias"),
    ("tf: tf.compat.v1.image.resize_bilinear(x, (8, 8), align_corners='no')", "align_corners"),
    ("tf: tf.compat.v1.image.resize_bilinear(x, (8, 8), half_pixel_centers=1.0)", "half_pixel_centers"),
    ("keras: Resizing(8, 8, antialias='True')", "antialias"),
    ("jax: jax.image.resize(x, (1, 8, 8, 1), 'linear', antialias='False')", "antialias"),
    ("upsamplekit: Resampling(kernel='linear', antialias='yes')", "antialias"),
    ("upsamplekit: Resampling.preset('torch', 'bilinear', align_corners='yes')", "align_corners"),
    ("upsamplekit: resize(x, scale_factor=2, method='linear', antialias='no')", "antialias"),
    ("upsamplekit: TransposedConv(3, 3, 2, init='bilinear', exact_borders='yes')", "exact_borders"),
    ("upsamplekit: TransposedConv(3, 3, 2, init='bilinear', bias='False')", "bias"),
])
def test_a_string_or_number_flag_is_refused_not_truthy(text: str, option: str) -> None:
    with pytest.raises(CallParseError, match=f"{option} must be True or False") as caught:
        parse_call(text)
    assert caught.value.column is not None and text[caught.value.column:] != ""


def test_torch_refuses_a_string_align_corners_too() -> None:
    x = torch.zeros(1, 1, 2, 2)
    with pytest.raises((TypeError, RuntimeError)):
        torch.nn.functional.interpolate(x, scale_factor=2, mode="bilinear", align_corners="yes")


@pytest.mark.parametrize("value", ["no", "False", 0, 1, None, np.bool_(True)])
def test_fix_must_be_a_bool(value: object) -> None:
    with pytest.raises(InvalidTypeError, match=r"fix must be True or False, but got"):
        explain(UP, KERAS, fix=value)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- bounded before ast.parse
@pytest.mark.parametrize("text", [
    "a" * 100_000,
    "(" * 10_000,
    "torch: F.interpolate(x, scale_factor=" + "-" * 5000 + "2)",
    "torch: nn.Upsample(scale_factor=2)" + " " * MAX_CALL_LENGTH,
])
def test_a_long_call_is_refused_before_parsing(text: str) -> None:
    with pytest.raises(CallParseError) as caught:
        explain(text, UP)
    message = str(caught.value)
    assert message.startswith("A: ") and str(MAX_CALL_LENGTH) in message and f"{len(text)} characters" in message
    assert len(message) < 400  # the text itself is not echoed


@pytest.mark.parametrize("text", [
    "torch: F.interpolate(x, scale_factor=" + "(" * 40 + "2" + ",)" * 40 + ")",
    "torch: F.interpolate(x, scale_factor=" + "-" * 40 + "2)",
    "torch: F.interpolate(x, scale_factor=" + "not " * 40 + "2)",
    "f(" + "[" * 500 + "]" * 500 + ")",
    "(" * 1500,
])
def test_a_deep_call_is_refused_before_parsing(text: str) -> None:
    with pytest.raises(CallParseError, match=f"at most {MAX_NESTING} levels") as caught:
        explain(UP, text)
    assert str(caught.value).startswith("B: ")


def test_nesting_at_the_limit_still_reads() -> None:
    signs = "-" * (MAX_NESTING - 2)  # inside the call's parentheses: one level
    assert parse_call(f"torch: F.interpolate(x, scale_factor={signs}2)").request == ("scale", (2.0, 2.0))
    with pytest.raises(CallParseError, match="nest"):
        parse_call(f"torch: F.interpolate(x, scale_factor={signs}--2)")
    # brackets inside string literals are not nesting
    with pytest.raises(CallParseError, match="mode must be one of"):
        parse_call("torch: nn.Upsample(scale_factor=2, mode='" + "(" * 200 + "')")


@pytest.mark.parametrize("text", [
    "torch: F.interpolate(x, scale_factor=" + "1+" * 900 + "1)",
    "torch: " + "a()." * 450 + "f(x)",
    "torch: F.interpolate(x, scale_factor=a" + ".b" * 900 + ")",
])
def test_long_flat_chains_within_the_length_give_an_upsample_error(text: str) -> None:
    assert len(text) <= MAX_CALL_LENGTH
    with pytest.raises(UpsampleError):
        parse_call(text)


# --------------------------------------------------------------------------- the output guard
@pytest.mark.parametrize("sizes", [10**9, (100_000, 100_000), [(8, 8), (40_000, 40_000)]])
def test_sizes_are_bounded_by_the_output_guard(sizes: object) -> None:
    with pytest.raises(OutputTooLargeError, match=r"^sizes: the probes at input .* more than the output guard "
                                                   r"max_output_bytes="):
        explain(UP, KERAS, sizes=sizes)


def test_default_sizes_are_bounded_too() -> None:
    with pytest.raises(OutputTooLargeError, match=r"^sizes \(the default"):
        explain("torch: F.interpolate(x, size=(1000000000, 1000000000))", UP)


def test_the_guard_is_resize_s_own(monkeypatch: pytest.MonkeyPatch) -> None:
    # the limit explain applies is resize's DEFAULT_MAX_OUTPUT_BYTES, read when explain runs
    monkeypatch.setattr(resample_api, "DEFAULT_MAX_OUTPUT_BYTES", 2 * 5 * 16 * 16 * 8)
    explain(UP, KERAS, sizes=(8, 8), fix=False)  # both 5 x 16 x 16 outputs in float64: just at the limit
    with pytest.raises(OutputTooLargeError, match="sizes: the probes at input 23x23"):
        explain(UP, KERAS, sizes=(23, 23), fix=False)  # 5 x 23 x 23 float64 probes: 21160 bytes
    with pytest.raises(OutputTooLargeError, match=r"^A \(torch: nn.Upsample\(scale_factor=4\)\) cannot run"):
        explain("torch: nn.Upsample(scale_factor=4)", "keras: UpSampling2D(size=4)", sizes=(9, 9), fix=False)
    with pytest.raises(OutputTooLargeError, match="the transposed convolution"):
        explain("convtranspose: bilinear(stride=8)", "convtranspose: bilinear(stride=8)", sizes=(9, 9), fix=False)


def test_a_huge_scale_in_a_call_hits_the_guard() -> None:
    with pytest.raises(OutputTooLargeError):
        explain("torch: F.interpolate(x, scale_factor=1e308)", UP, sizes=(2, 2), fix=False)
    with pytest.raises(CallParseError, match="finite"):
        parse_call("torch: F.interpolate(x, scale_factor=1e999)")  # the literal is inf
    with pytest.raises(CallParseError, match="finite"):
        parse_call("torch: F.interpolate(x, size=1e999)")


@pytest.mark.parametrize("text", [
    "convtranspose: bilinear(stride=1000000000)",
    f"convtranspose: bilinear(kernel={MAX_TAPS + 1}, stride=2)",
    "torch: F.conv_transpose2d(x, make_bilinear_weights(1000000000, 1), stride=2)",
    "upsamplekit: TransposedConv(3, 3, 1000000000, init='bilinear')",
])
def test_an_absurd_kernel_is_refused_before_allocating(text: str) -> None:
    with pytest.raises(CallParseError, match=f"at most {MAX_TAPS}|at most {MAX_TAPS // 2}"):
        parse_call(text)


# --------------------------------------------------------------------------- the other arguments
@pytest.mark.parametrize("kwargs, error, words", [
    ({"atol": float("nan")}, InvalidArgumentError, "atol must be a finite number >= 0, but got nan"),
    ({"atol": float("inf")}, InvalidArgumentError, "atol must be a finite number"),
    ({"atol": -1e-5}, InvalidArgumentError, "atol must be a finite number >= 0"),
    ({"atol": "1e-5"}, InvalidArgumentError, "atol must be a finite number"),
    ({"atol": True}, InvalidArgumentError, "atol must be a finite number"),
    ({"seed": -1}, InvalidArgumentError, "seed must be an integer >= 0"),
    ({"seed": 1.5}, InvalidTypeError, "seed must be an int"),
    ({"seed": True}, InvalidTypeError, "seed must be an int"),
    ({"sizes": []}, InvalidArgumentError, "sizes must hold at least one input size"),
    ({"sizes": "8"}, InvalidArgumentError, "sizes must be input sizes"),
    ({"sizes": (8, 0)}, InvalidArgumentError, "sizes must be input sizes"),
    ({"sizes": (8.0, 8.0)}, InvalidArgumentError, "sizes must be input sizes"),
    ({"sizes": [(8, 8, 8)]}, InvalidArgumentError, "sizes must be input sizes"),
    ({"sizes": True}, InvalidArgumentError, "sizes must be input sizes"),
    ({"sizes": {8: 8}}, InvalidArgumentError, "sizes must be input sizes"),
])
def test_explain_arguments(kwargs: dict[str, object], error: type[Exception], words: str) -> None:
    with pytest.raises(error, match=words.replace("(", r"\(")):
        explain(UP, KERAS, **kwargs)  # type: ignore[arg-type]


def test_numpy_numbers_are_numbers() -> None:
    e = explain(UP, KERAS, sizes=(np.int64(8), np.int64(8)), atol=np.float32(1e-5), seed=np.int64(3))
    assert e.equivalent and e.comparisons[0].input_size == (8, 8) and type(e.atol) is float


@pytest.mark.parametrize("a, b, name", [(3, UP, "a"), (UP, b"keras: UpSampling2D(size=2)", "b"), (None, UP, "a")])
def test_calls_must_be_strings(a: object, b: object, name: str) -> None:
    with pytest.raises(InvalidTypeError, match=f"^{name} must be an upsampling call"):
        explain(a, b)  # type: ignore[arg-type]


def test_parse_call_refuses_a_non_string() -> None:
    with pytest.raises(InvalidTypeError, match="an upsampling call must be a string"):
        parse_call(["torch: nn.Upsample(scale_factor=2)"])  # type: ignore[arg-type]


# --------------------------------------------------------------------------- compare_images and load_image
IMAGE = torch.rand(3, 24, 24, generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize("kwargs, error, words", [
    ({"methods": []}, InvalidArgumentError, "methods must be a non-empty list"),
    ({"methods": ()}, InvalidArgumentError, "methods must be a non-empty list"),
    ({"methods": "nearest"}, InvalidArgumentError, "methods must be a non-empty list"),
    ({"methods": None}, InvalidArgumentError, "methods must be a non-empty list"),
    ({"methods": iter(["nearest"])}, InvalidArgumentError, "methods must be a non-empty list"),
    ({"methods": [""]}, InvalidArgumentError, "each method must be a non-empty string"),
    ({"methods": [3]}, InvalidArgumentError, "each method must be a non-empty string"),
    ({"scale": True}, InvalidArgumentError, "scale must be an integer >= 2, but got True"),
    ({"scale": 2.0}, InvalidArgumentError, "scale must be an integer >= 2"),
    ({"scale": 1}, InvalidArgumentError, "scale must be an integer >= 2"),
    ({"train_steps": -1}, InvalidArgumentError, "train_steps must be an integer >= 0"),
    ({"train_steps": False}, InvalidArgumentError, "train_steps must be an integer >= 0"),
    ({"seed": -1}, InvalidArgumentError, "seed must be an integer in"),
    ({"seed": float("nan")}, InvalidArgumentError, "seed must be an integer in"),
    ({"zoom": (0, 0, 25)}, InvalidArgumentError, "zoom .* must lie inside the image"),
    ({"zoom": (24, 0, 1)}, InvalidArgumentError, "zoom .* must lie inside the image"),
    ({"zoom": (-1, 0, 4)}, InvalidArgumentError, "zoom must be"),
    ({"zoom": (0, 0, 0)}, InvalidArgumentError, "zoom must be"),
    ({"zoom": (0, 0)}, InvalidArgumentError, "zoom must be"),
    ({"zoom": (0.0, 0, 4)}, InvalidArgumentError, "zoom must be"),
    ({"on_method": 3}, InvalidTypeError, "on_method must be a function"),
    ({"name": 3}, InvalidTypeError, "name must be a string"),
])
def test_compare_images_arguments(kwargs: dict[str, object], error: type[Exception], words: str) -> None:
    options: dict[str, object] = {"scale": 2, "methods": ["nearest"], "train_steps": 0, **kwargs}
    with pytest.raises(error, match=words):
        compare_images(IMAGE, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize("image, words", [
    (torch.full((3, 24, 24), float("nan")), "finite values in \\[0, 1\\]"),
    (IMAGE * 255, "finite values in \\[0, 1\\]"),
    (IMAGE.to(torch.uint8), "must be float"),
    (IMAGE[None], "must be float \\(3, H, W\\)"),
])
def test_compare_images_refuses_a_bad_tensor(image: torch.Tensor, words: str) -> None:
    with pytest.raises(InvalidArgumentError, match=words):
        compare_images(image, scale=2, methods=["nearest"], train_steps=0)


def test_compare_images_accepts_a_zoom_at_the_edge_and_numpy_ints() -> None:
    result = compare_images(IMAGE, scale=np.int64(2), methods=["nearest"], train_steps=0, zoom=(12, 12, 12))
    assert result.zoom == (12, 12, 12) and type(result.scale) is int
    assert result.to_dict()["scale"] == 2


@pytest.mark.parametrize("image, error", [(3, InvalidTypeError), (b"camera", InvalidTypeError),
                                          (None, InvalidTypeError), ("not-an-image", InvalidArgumentError)])
def test_load_image_arguments(image: object, error: type[Exception]) -> None:
    with pytest.raises(error, match="image must be"):
        load_image(image)  # type: ignore[arg-type]


def test_load_image_of_a_missing_or_unreadable_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("PIL")
    (tmp_path / "x.png").write_bytes(b"not a png")
    for path in (tmp_path / "x.png", tmp_path / "missing.png", tmp_path):
        with pytest.raises(InvalidArgumentError, match="cannot be read"):
            load_image(path)
