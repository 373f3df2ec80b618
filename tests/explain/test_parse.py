"""The vocabulary: every accepted form parses to the spec its framework's preset gives, errors point
at the column of the problem, and calls that are not upsamplings say so. Nothing is evaluated."""

from __future__ import annotations

import pytest

from upsamplekit import Resampling
from upsamplekit.errors import InvalidArgumentError
from upsamplekit.explainer import CallParseError, parse_call
from upsamplekit.explainer.calls import Transposed
from upsamplekit.explainer.vocab import rebuild, render

P = Resampling.preset

# (text, expected spec, expected request, expected layout)
FORMS = [
    ("torch: nn.Upsample(scale_factor=2, mode='bilinear', align_corners=True)",
     P("torch", "bilinear", align_corners=True), ("scale", (2.0, 2.0)), "channels_first"),
    ("torch: nn.Upsample(None, 2, 'bicubic')", P("torch", "bicubic"), ("scale", (2.0, 2.0)), "channels_first"),
    ("torch: torch.nn.Upsample(size=(56, 48))", P("torch", "nearest"), ("size", (56, 48)), "channels_first"),
    ("torch: F.interpolate(x, size=(56, 56), mode='nearest')", P("torch", "nearest"), ("size", (56, 56)),
     "channels_first"),
    ("torch: F.interpolate(x, scale_factor=(2, 3), mode='bilinear', antialias=True)",
     P("torch", "bilinear", antialias=True), ("scale", (2.0, 3.0)), "channels_first"),
    ("torch: torch.nn.functional.interpolate(t, scale_factor=1.5, mode='nearest-exact', "
     "recompute_scale_factor=True)", P("torch", "nearest-exact", recompute_scale_factor=True),
     ("scale", (1.5, 1.5)), "channels_first"),
    ("out1 = F.upsample(x, None, 2, 'bilinear')", P("torch", "bilinear"), ("scale", (2.0, 2.0)), "channels_first"),
    ("torch: nn.UpsamplingBilinear2d(scale_factor=2)", P("torch", "bilinear", align_corners=True),
     ("scale", (2.0, 2.0)), "channels_first"),
    ("torch: nn.UpsamplingNearest2d(size=8)", P("torch", "nearest"), ("size", (8, 8)), "channels_first"),
    ("keras: UpSampling2D(size=(2, 2), interpolation='bilinear')", P("keras", "bilinear"), ("scale", (2.0, 2.0)),
     "channels_last"),
    ("keras: layers.UpSampling2D(3, data_format='channels_first')", P("keras", "nearest"), ("scale", (3.0, 3.0)),
     "channels_first"),
    ("keras: keras.layers.Resizing(64, 48, interpolation='bicubic', antialias=True)",
     P("keras", "bicubic", antialias=True), ("size", (64, 48)), "channels_last"),
    ("tf: tf.image.resize(x, (64, 64), method='bicubic', antialias=True)", P("tf", "bicubic", antialias=True),
     ("size", (64, 64)), "channels_last"),
    ("tf: tf.image.resize(x, [32, 16], method=tf.image.ResizeMethod.LANCZOS3)", P("tf", "lanczos3"),
     ("size", (32, 16)), "channels_last"),
    ("tf: tf.compat.v1.image.resize_bilinear(x, (8, 8), half_pixel_centers=True)",
     P("tf1", "bilinear", half_pixel_centers=True), ("size", (8, 8)), "channels_last"),
    ("tf: tf.compat.v1.image.resize_area(x, (8, 8), align_corners=True)", P("tf1", "area", align_corners=True),
     ("size", (8, 8)), "channels_last"),
    ("jax: jax.image.resize(x, shape, method='lanczos3')", P("jax", "lanczos3"), None, "channels_last"),
    ("jax: jax.image.resize(x, (1, 64, 32, 3), 'cubic', antialias=False)", P("jax", "cubic", antialias=False),
     ("size", (64, 32)), "channels_last"),
    ("jax: jax.image.resize(img, (64, 32), jax.image.ResizeMethod.LINEAR)", P("jax", "linear"), ("size", (64, 32)),
     "image"),
    ("onnx: Resize(mode='linear', coordinate_transformation_mode='asymmetric')",
     Resampling.from_onnx({"mode": "linear", "coordinate_transformation_mode": "asymmetric"}), None,
     "channels_first"),
    ("onnx: Resize(mode='cubic', cubic_coeff_a=-0.5, exclude_outside=1, scales=(1, 1, 2, 2))",
     Resampling.from_onnx({"mode": "cubic", "cubic_coeff_a": -0.5, "exclude_outside": 1}), ("scale", (2.0, 2.0)),
     "channels_first"),
    ("cv2: cv2.resize(x, (64, 48), interpolation=cv2.INTER_AREA)", P("opencv", "area"), ("size", (48, 64)),
     "channels_last"),
    ("cv2.resize(img, None, fx=2, fy=3, interpolation=cv2.INTER_NEAREST_EXACT)", P("opencv", "nearest-exact"),
     ("scale", (3.0, 2.0)), "channels_last"),
    ("cv2: cv2.resize(x, (32, 32), interpolation=2)", P("opencv", "cubic"), ("size", (32, 32)), "channels_last"),
    ("pillow: img.resize((64, 48), Image.BICUBIC)", P("pillow", "bicubic"), ("size", (48, 64)), "image"),
    ("pillow: Image.open(path).resize((64, 64), resample=Image.Resampling.LANCZOS)", P("pillow", "lanczos"),
     ("size", (64, 64)), "image"),
    ("pillow: im.resize((8, 8))", P("pillow", "bicubic"), ("size", (8, 8)), "image"),
    ("upsamplekit: Resampling(kernel='linear', border='zero')", Resampling(kernel="linear", border="zero"), None,
     "channels_first"),
    ("upsamplekit: Resampling.preset('tf', 'bicubic')", P("tf", "bicubic"), None, "channels_first"),
    ("upsamplekit: resize(x, scale_factor=2, method='cubic', convention='pillow')", P("pillow", "cubic"),
     ("scale", (2.0, 2.0)), "channels_first"),
    ("upsamplekit: Interpolate(scale_factor=2, method='linear', align_corners=True)",
     P("torch", "linear", align_corners=True), ("scale", (2.0, 2.0)), "channels_first"),
]


@pytest.mark.parametrize("text, spec, request_, layout", FORMS, ids=[f[0][:48] for f in FORMS])
def test_each_form_parses_to_its_framework_preset(text: str, spec: Resampling, request_: object, layout: str) -> None:
    call = parse_call(text)
    assert call.spec == spec
    assert call.request == request_
    assert call.layout == layout
    again = parse_call(call.text)  # the canonical text reads back to the same call
    assert (again.spec, again.request, again.layout) == (call.spec, call.request, call.layout)


TRANSPOSED = [
    ("convtranspose: bilinear(kernel=4, stride=2, padding=1)", Transposed.bilinear(4, 2, 1)),
    ("convtranspose: bilinear(stride=3)", Transposed.bilinear(5, 3, 1)),  # Caffe: K = 2f - f%2, pad ceil((f-1)/2)
    ("deconv: bilinear(3, 2, 1, 1, border='replicate')", Transposed.bilinear(3, 2, 1, 1, "replicate")),
    ("out2 = F.conv_transpose2d(x, Variable(make_bilinear_weights(4, 1)), stride=2, padding=1, groups=c)",
     Transposed.bilinear(4, 2, 1)),
    ("torch: F.conv_transpose2d(x, get_upsampling_weight(3, 3, 8), stride=4, padding=2)",
     Transposed.bilinear(8, 4, 2)),
    ("upsamplekit: TransposedConv(3, 3, 2, init='bilinear', exact_borders=True)",
     Transposed.upsamplekit(2, exact_borders=True)),
]


@pytest.mark.parametrize("text, expected", TRANSPOSED, ids=[t[0][:40] for t in TRANSPOSED])
def test_transposed_forms(text: str, expected: Transposed) -> None:
    call = parse_call(text)
    assert call.spec is None
    assert (call.transposed.taps, call.transposed.stride, call.transposed.crop_start, call.transposed.crop_end,
            call.transposed.border) == (expected.taps, expected.stride, expected.crop_start, expected.crop_end,
                                        expected.border)


def test_rebuild_changes_one_option_in_the_users_words() -> None:
    call = parse_call("torch: nn.Upsample(scale_factor=2, mode='bilinear', align_corners=True)")
    assert rebuild(call, {"align_corners": None}).text == "torch: nn.Upsample(scale_factor=2, mode='bilinear')"
    moved = rebuild(call, {"antialias": True}, signature="torch.interpolate")
    assert moved.text == "torch: F.interpolate(x, scale_factor=2, mode='bilinear', align_corners=True, antialias=True)"
    seed = parse_call("torch: F.conv_transpose2d(x, make_bilinear_weights(4, 1), stride=2, padding=1)")
    assert rebuild(seed, {"border": "replicate"}).text == \
        "convtranspose: bilinear(kernel=4, stride=2, padding=1, border='replicate')"
    assert render(parse_call("pillow: img.resize((64, 48), Image.BICUBIC)")) == \
        "pillow: img.resize(size=(64, 48), resample=Image.BICUBIC)"
    with pytest.raises(InvalidArgumentError, match="align_corners"):
        rebuild(call, {"mode": "nearest"})  # torch rejects align_corners with nearest


def _error(text: str) -> CallParseError:
    with pytest.raises(CallParseError) as info:
        parse_call(text, "B")
    return info.value


@pytest.mark.parametrize("text, pointed, words", [
    ("torch: nn.Upsample(scale_factor=2, mode='bilinear'", "(", "was never closed"),
    ("torch: nn.Upsample(scale=2)", "scale=2", "did you mean 'scale_factor'?"),
    ("torch: nn.Upsample(scale_factor=2, mode='bilenear')", "'bilenear'", "did you mean 'bilinear'?"),
    ("torch: nn.Upsample(scale_factor=s * 2)", "s * 2", "must be literals"),
    ("torch: nn.Upsample(scale_factor=factor)", "factor", "is a variable"),
    ("torch: nn.Upsample(scale_factor=__import__('os').getpid())", "__import__", "is a call"),
    ("torch: F.interpolate(x, scale_factor=2, mode='nearest', align_corners=True)", "True", "align_corners"),
    ("torch: F.interpolate(x, scale_factor=2, mode='linear')", "'linear'", "needs a 3-D input"),
    ("torch: nn.Upsample(scale_factor=(2, 2, 2))", "(2, 2, 2)", "2-D"),
    ("keras: UpSampling2D(size=2, interpolation='gaussian')", "'gaussian'", "must be one of"),
    ("cv2: cv2.resize(x, (64, 64), interpolation=cv2.INTER_LINEAR_EXACT)", "cv2.INTER_LINEAR_EXACT", "not reproduced"),
    ("pillow: img.resize((64, 64), Image.ANTIALIAS)", "Image.ANTIALIAS", "removed in Pillow 10"),
    ("onnx: Resize(mode='cubic', coordinate_transformation_mode='half_pixels')", "'half_pixels'", "half_pixel"),
    ("tf: tf.image.resize(x, (8, 8), preserve_aspect_ratio=True)", "True", "preserve_aspect_ratio"),
    ("tourch: nn.Upsample(scale_factor=2)", "tourch", "did you mean 'torch'?"),
])
def test_errors_point_at_the_problem(text: str, pointed: str, words: str) -> None:
    error = _error(text)
    assert error.column == text.rindex(pointed), str(error)
    message = str(error)
    assert message.startswith("B: ")
    assert words in message
    caret_line = message.splitlines()[2]
    assert caret_line.index("^") - 2 == error.column  # the caret sits under the column


def test_syntax_errors_list_the_accepted_forms() -> None:
    message = str(_error("torch: nn.Upsample(scale_factor=2"))
    assert "accepted forms:" in message
    for prefix in ("torch:", "keras:", "tf:", "jax:", "onnx:", "cv2:", "pillow:", "convtranspose:", "upsamplekit:"):
        assert f"\n  {prefix}" in message


@pytest.mark.parametrize("text, words", [
    ("torch: nn.Conv2d(3, 3, 3)", "nn.Conv2d is not an upsampling call: it is a convolution"),
    ("torch: nn.PixelShuffle(2)", "not an upsampling call: it is a pixel shuffle"),
    ("torch: nn.MaxPool2d(2)", "not an upsampling call: it is a pooling"),
    ("torch: nn.ConvTranspose2d(3, 3, 4, stride=2, padding=1)", "learned (random) weights"),
    ("keras: UpSampling3D(size=2)", "a 3-D upsampling"),
    ("torch: F.conv_transpose2d(x, w, stride=2)", "fixed upsampling only with known weights"),
    ("convtranspose: bilinear(kernel=3, stride=1, padding=1)", "stride 1 is not an upsampling"),
    ("upsamplekit: TransposedConv(3, 3, 2)", "not a fixed upsampling"),
    ("torch: torch.flip(x, dims=(2,))", "not an upsampling call of torch"),
    ("my_resize(x, 2)", "cannot tell which framework"),
])
def test_calls_that_are_not_upsamplings_say_so(text: str, words: str) -> None:
    assert words in str(_error(text))


def test_the_text_is_never_run(tmp_path: object) -> None:
    marker = __import__("pathlib").Path(str(tmp_path)) / "ran"
    text = f"torch: nn.Upsample(scale_factor=open({str(marker)!r}, 'w').write('x'))"
    _error(text)
    assert not marker.exists()


def test_a_non_string_call_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="must be a string"):
        parse_call(42)  # type: ignore[arg-type]
