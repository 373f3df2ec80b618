"""Run a parsed call with the real library it names, from the call's own arguments.

This is the independent path the explain tests check against: it reads the literal options
the user wrote (``call.option_dict``), not upsamplekit's spec, and calls torch, OpenCV,
Pillow, onnxruntime, JAX, TensorFlow or Keras with them. Inputs and outputs are (N, C, H, W)
float32 NumPy arrays; each library gets its own layout. Heavy libraries are imported on use.
"""

from __future__ import annotations

import math
import os
import warnings
from typing import Any

import numpy as np

from upsamplekit.explainer.calls import Call, Request
from upsamplekit.explainer.parse import Constant, Nested, Symbol

os.environ.setdefault("KERAS_BACKEND", "tensorflow")


def make_bilinear_weights(size: int, num_channels: int) -> np.ndarray:
    """Seed 003's filler, verbatim (numpy), as a (C, 1, K, K) array."""
    factor = (size + 1) // 2
    center = factor - 1 if size % 2 == 1 else factor - 0.5
    og = np.ogrid[:size, :size]
    filt = (1 - abs(og[0] - center) / factor) * (1 - abs(og[1] - center) / factor)
    w = np.zeros((num_channels, 1, size, size))
    for i in range(num_channels):
        w[i, 0] = filt
    return w


def _hw(values: Any) -> tuple[int, int]:
    return (int(values[0]), int(values[1]))


def _pair(value: Any) -> tuple[int, int]:
    return (int(value[0]), int(value[1])) if isinstance(value, tuple) else (int(value), int(value))


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    return value


def run_real(call: Call, x: np.ndarray, request: Request | None = None) -> np.ndarray:
    """``call`` run by its own library on ``x`` (N, C, h, w); ``request`` for calls that give no size."""
    kind = call.signature
    o = {k: _plain(v) for k, v in call.option_dict.items()}
    if kind.startswith("torch.") or kind == "convtranspose.bilinear":
        return _torch(kind, o, x)
    if kind == "cv2.resize":
        return _cv2(o, x)
    if kind == "pillow.resize":
        return _pillow(o, x)
    if kind == "onnx.Resize":
        return _onnx(o, x, request)
    if kind == "jax.resize":
        return _jax(o, x, request)
    if kind.startswith("tf") or kind.startswith("keras"):
        return _tensorflow(kind, o, x, request)
    raise NotImplementedError(kind)


# ------------------------------------------------------------------------------------- torch
def _torch(kind: str, o: dict[str, Any], x: np.ndarray) -> np.ndarray:
    import torch
    import torch.nn.functional as F

    t = torch.from_numpy(x)
    args = {k: v for k, v in o.items() if k not in ("input",)}
    if kind == "torch.Upsample":
        return torch.nn.Upsample(**args)(t).numpy()
    if kind == "torch.interpolate":
        return F.interpolate(t, **args).numpy()
    if kind == "torch.upsample":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return F.upsample(t, **args).numpy()
    if kind in ("torch.UpsamplingBilinear2d", "torch.UpsamplingNearest2d"):
        layer = getattr(torch.nn, kind.split(".")[1])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return layer(**args)(t).numpy()
    if kind in ("torch.upsample_bilinear", "torch.upsample_nearest"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return getattr(F, kind.split(".")[1])(t, **args).numpy()
    c = x.shape[1]
    if kind == "torch.conv_transpose2d":
        weight = o["weight"]
        while isinstance(weight, Nested) and "bilinear" not in weight.callee:
            weight = weight.positional[0]
        w = torch.from_numpy(make_bilinear_weights(int(weight.positional[0]), c)).float()
        return F.conv_transpose2d(t, w, stride=o.get("stride", 1), padding=o.get("padding", 0),
                                  output_padding=o.get("output_padding", 0), groups=c).numpy()
    # convtranspose: bilinear(kernel, stride, padding, output_padding, border): Caffe's defaults
    stride = _pair(o["stride"])
    kernel = _pair(o["kernel"]) if o.get("kernel") is not None else tuple(2 * s - s % 2 for s in stride)
    padding = _pair(o["padding"]) if o.get("padding") is not None else tuple(math.ceil((s - 1) / 2) for s in stride)
    if kernel[0] != kernel[1]:
        raise NotImplementedError("square kernels only in this runner")
    w = torch.from_numpy(make_bilinear_weights(kernel[0], c)).float()
    if o.get("border", "zero") == "replicate":
        extra = kernel[0]  # replicate far more than the kernel reaches, and crop it off again
        t = F.pad(t, (extra, extra, extra, extra), mode="replicate")
        padding = tuple(p + extra * s for p, s in zip(padding, stride))
    return F.conv_transpose2d(t, w, stride=stride, padding=padding,
                              output_padding=_pair(o.get("output_padding", 0)), groups=c).numpy()


# -------------------------------------------------------------------------------------- cv2
def _cv2(o: dict[str, Any], x: np.ndarray) -> np.ndarray:
    import cv2

    interpolation = o.get("interpolation", Constant("cv2.INTER_LINEAR"))
    if isinstance(interpolation, str):
        interpolation = getattr(cv2, interpolation.split(".")[-1])
    dsize = o.get("dsize")
    images = []
    for image in x:
        hwc = np.ascontiguousarray(image.transpose(1, 2, 0))
        if dsize is not None and dsize != (0, 0):
            out = cv2.resize(hwc, _pair(dsize), interpolation=interpolation)
        else:
            out = cv2.resize(hwc, None, fx=float(o["fx"]), fy=float(o["fy"]), interpolation=interpolation)
        if out.ndim == 2:
            out = out[:, :, None]
        images.append(out.transpose(2, 0, 1))
    return np.stack(images).astype(np.float32)


# ----------------------------------------------------------------------------------- pillow
def _pillow(o: dict[str, Any], x: np.ndarray) -> np.ndarray:
    from PIL import Image

    resample = o.get("resample")
    if isinstance(resample, str):
        resample = getattr(Image.Resampling, resample.split(".")[-1])
    size = _pair(o["size"])
    out = np.stack([[np.asarray(Image.fromarray(np.ascontiguousarray(ch)).resize(size, resample=resample))
                     for ch in image] for image in x.astype(np.float32)])
    return out.astype(np.float32)


# ------------------------------------------------------------------------------------- onnx
def _onnx(o: dict[str, Any], x: np.ndarray, request: Request | None) -> np.ndarray:
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    attrs = {k: v for k, v in o.items() if k not in ("scales", "sizes")}
    attrs.setdefault("mode", "nearest")
    scales, sizes = o.get("scales"), o.get("sizes")
    if scales is None and sizes is None:
        assert request is not None
        scales, sizes = (request[1], None) if request[0] == "scale" else (None, request[1])
    initializers = []
    names = ["X", "", ""]
    if scales is not None:
        pair = scales if isinstance(scales, tuple) else (scales, scales)
        values = [1.0, 1.0, *[float(v) for v in pair[-2:]]]
        initializers.append(numpy_helper.from_array(np.asarray(values, np.float32), "scales"))
        names[2] = "scales"
    else:
        pair = sizes if isinstance(sizes, tuple) else (sizes, sizes)
        values = [x.shape[0], x.shape[1], *[int(v) for v in pair[-2:]]]
        initializers.append(numpy_helper.from_array(np.asarray(values, np.int64), "sizes"))
        names.append("sizes")
    node = helper.make_node("Resize", names, ["Y"], **attrs)
    graph = helper.make_graph([node], "resize", [helper.make_tensor_value_info("X", TensorProto.FLOAT, list(x.shape))],
                              [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)], initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19)])
    model.ir_version = 8
    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    return session.run(None, {"X": x.astype(np.float32)})[0]


# -------------------------------------------------------------------------------------- jax
def _jax(o: dict[str, Any], x: np.ndarray, request: Request | None) -> np.ndarray:
    import jax
    import jax.numpy as jnp

    method = o["method"]
    if isinstance(method, str) and "." in method:
        method = jax.image.ResizeMethod[method.split(".")[-1]]
    shape = o["shape"]
    nhwc = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
    if isinstance(shape, Symbol):  # the shape the other call's request gives (floor of in * scale)
        assert request is not None
        h, w = _hw(request[1]) if request[0] == "size" else (
            math.floor(x.shape[2] * request[1][0]), math.floor(x.shape[3] * request[1][1]))
    elif len(shape) == 2:
        h, w = shape
    elif len(shape) == 3:
        h, w = shape[:2]
    else:
        h, w = shape[1:3]
    out = jax.image.resize(jnp.asarray(nhwc), (x.shape[0], h, w, x.shape[1]), method=method,
                           antialias=o.get("antialias", True))
    return np.asarray(out).transpose(0, 3, 1, 2).astype(np.float32)


# ------------------------------------------------------------------------------- tf / keras
def _tensorflow(kind: str, o: dict[str, Any], x: np.ndarray, request: Request | None) -> np.ndarray:
    import tensorflow as tf

    nhwc = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
    if kind.startswith("keras"):
        import keras

        args = {k: v for k, v in o.items()}
        if kind == "keras.UpSampling2D":
            layer = keras.layers.UpSampling2D(**args)
        else:
            layer = keras.layers.Resizing(**args)
        if args.get("data_format") == "channels_first":
            return np.asarray(layer(x)).astype(np.float32)
        return np.asarray(layer(nhwc)).transpose(0, 3, 1, 2).astype(np.float32)
    size = o.get("size")
    if size is None or isinstance(size, Symbol):
        assert request is not None and request[0] == "size"
        size = _hw(request[1])
    if kind == "tf.resize":
        method = o.get("method", "bilinear")
        if isinstance(method, str) and "." in method:
            method = getattr(tf.image.ResizeMethod, method.split(".")[-1])
        out = tf.image.resize(nhwc, size, method=method, antialias=o.get("antialias", False))
    else:
        op = getattr(tf.compat.v1.image, kind.split(".")[1])
        flags = {k: v for k, v in o.items() if k in ("align_corners", "half_pixel_centers")}
        out = op(nhwc, size, **flags)
    return np.asarray(out).transpose(0, 3, 1, 2).astype(np.float32)
