"""Compare upsamplers on one image: downsample it by the scale, upsample it back with each method,
and score each result against the original with PSNR and SSIM.

The image is a file (read with Pillow) or the name of an image bundled with scikit-image
(:data:`BUNDLED`, nothing is downloaded), cropped to a multiple of the scale. The low-resolution
input is the image shrunk with Pillow's antialiased bicubic filter (``resize(...,
method="bicubic", convention="pillow")``, the usual super-resolution degradation).

Methods are names of the upsampler registry (:func:`upsamplekit.list_upsamplers`) or
``CONVENTION:METHOD`` resize presets (``pillow:lanczos``, ``tf:bicubic``, ``torch:nearest-exact``).
Fixed registry methods (``nearest``, ``bilinear``, ``bicubic``) and presets are applied to the
low-resolution image as they are. Learned methods (``subpixel``, ``transposed``, ``carafe``, ...)
are decoders (:class:`~upsamplekit.decoder.Decoder`, 16 channels) trained with
:func:`upsamplekit.study.train.fit` for ``train_steps`` steps on random crops of the same image,
so their scores are optimistic (trained on the picture they are scored on); with
``train_steps=0`` they are skipped, with a note. The result is data (:class:`CompareResult`);
:func:`upsamplekit.explainer.plot.plot_compare` draws it.

>>> result = compare_images("camera", scale=4, methods=["nearest", "bicubic", "subpixel"], train_steps=0)
>>> [tile.name for tile in result.tiles], result.skipped
(['nearest', 'bicubic'], (('subpixel', 'learned: skipped with train_steps=0'),))
>>> result.tiles[1].psnr > result.tiles[0].psnr
True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..checks import is_integer
from ..errors import InvalidArgumentError, InvalidTypeError, closest
from ..images import bundled_image, read_image_file

__all__ = ["BUNDLED", "DEFAULT_METHODS", "Tile", "CompareResult", "load_image", "compare_images", "degrade"]

# scikit-image's images whose files ship with the package (the others are downloaded: not used).
BUNDLED = ("astronaut", "brick", "camera", "cell", "checkerboard", "chelsea", "clock", "coffee", "coins",
           "colorwheel", "grass", "gravel", "horse", "hubble_deep_field", "immunohistochemistry", "lfw_subset", "logo",
           "microaneurysms", "moon", "page", "retina", "rocket", "shepp_logan_phantom", "stereo_motorcycle", "text")
DEFAULT_METHODS = ("nearest", "bilinear", "bicubic", "pillow:lanczos", "subpixel", "transposed")
DEGRADATION = "Pillow's antialiased bicubic (resize(..., method='bicubic', convention='pillow'))"


@dataclass(frozen=True)
class Tile:
    """One method's result: the upsampled image (H, W, 3) in [0, 1], its scores, and a note."""

    name: str
    image: np.ndarray = field(repr=False)
    psnr: float
    ssim: float
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "psnr": self.psnr, "ssim": self.ssim, "note": self.note}


@dataclass(frozen=True)
class CompareResult:
    """Every method on one image: the reference (H, W, 3), its low-resolution input, the
    tiles in method order, methods skipped (name, reason), and the zoom window (top, left, size)."""

    image: str
    scale: int
    reference: np.ndarray = field(repr=False)
    low: np.ndarray = field(repr=False)
    tiles: tuple[Tile, ...]
    skipped: tuple[tuple[str, str], ...]
    zoom: tuple[int, int, int]
    train_steps: int

    def to_dict(self) -> dict[str, Any]:
        return {"image": self.image, "scale": self.scale, "size": list(self.reference.shape[:2]),
                "degradation": DEGRADATION, "zoom": list(self.zoom), "train_steps": self.train_steps,
                "tiles": [t.to_dict() for t in self.tiles],
                "skipped": [{"name": n, "reason": r} for n, r in self.skipped]}

    def table(self) -> str:
        """The scores as text, best PSNR first."""
        lines = [f"{self.image}: {self.reference.shape[1]}x{self.reference.shape[0]} downsampled x{self.scale} "
                 f"({DEGRADATION}) and upsampled back"]
        width = max([len(t.name) for t in self.tiles] + [6])
        lines.append(f"  {'method':<{width}}  {'PSNR dB':>8}  {'SSIM':>6}")
        for tile in sorted(self.tiles, key=lambda t: -t.psnr):
            note = f"  ({tile.note})" if tile.note else ""
            lines.append(f"  {tile.name:<{width}}  {tile.psnr:8.2f}  {tile.ssim:6.4f}{note}")
        lines.extend(f"  {name}: {reason}" for name, reason in self.skipped)
        return "\n".join(lines)


def load_image(image: str | Path) -> torch.Tensor:
    """An image as float32 (3, H, W) in [0, 1]: a file read with Pillow, or a :data:`BUNDLED` name.

    Grey images are repeated to three channels and an alpha channel is dropped;
    ``lfw_subset`` is its first face (25 x 25) and ``stereo_motorcycle`` its left view.

    >>> load_image("camera").shape
    torch.Size([3, 512, 512])
    """
    if not isinstance(image, (str, Path)):
        raise InvalidTypeError(f"image must be a file path or a bundled image name, but got {type(image).__name__}")
    if isinstance(image, Path) or Path(image).is_file():
        return read_image_file(image)
    if image not in BUNDLED:
        suggestion = closest(image, BUNDLED)
        hint = f"; did you mean {suggestion!r}?" if suggestion else ""
        raise InvalidArgumentError(f"image must be an existing file or one of scikit-image's bundled images "
                                   f"({', '.join(BUNDLED)}), but got {image!r}{hint}")
    return bundled_image(image)


def degrade(hr: torch.Tensor, scale: int) -> torch.Tensor:
    """Shrink (N, 3, H, W) by ``scale`` with Pillow's antialiased bicubic, clamped to [0, 1]."""
    from ..resample import resize

    size = (hr.shape[-2] // scale, hr.shape[-1] // scale)
    return resize(hr, size=size, method="bicubic", convention="pillow").clamp(0, 1)


def _method(name: str) -> tuple[str, Any]:
    """("preset", (convention, method)) | ("fixed", name) | ("learned", name), validated."""
    from ..nn.registry import list_upsamplers, upsampler_info
    from ..resample import Resampling

    if not isinstance(name, str) or not name:
        raise InvalidArgumentError(f"each method must be a non-empty string, but got {name!r}")
    if ":" in name:
        convention, method = name.split(":", 1)
        Resampling.preset(convention, method)  # validates both, naming the closest choices
        return "preset", (convention, method)
    names = list_upsamplers()
    if name not in names:
        suggestion = closest(name, names)
        hint = f"; did you mean {suggestion!r}?" if suggestion else ""
        raise InvalidArgumentError(f"method must be an upsampler of the registry ({', '.join(names)}) or a resize "
                                   f"preset written CONVENTION:METHOD (pillow:lanczos), but got {name!r}{hint}")
    info = upsampler_info(name)
    if info.guided:
        return "guided", name
    return ("learned" if info.learned else "fixed"), name


def compare_images(
    image: str | Path | torch.Tensor,
    scale: int = 4,
    methods: Sequence[str] = DEFAULT_METHODS,
    train_steps: int = 100,
    seed: int = 0,
    zoom: tuple[int, int, int] | None = None,
    on_method: Callable[[str], None] | None = None,
    name: str | None = None,
) -> CompareResult:
    """Downsample ``image`` by ``scale`` and upsample it back with each method (see the module).

    ``image``: a path, a bundled name, or a float (3, H, W) tensor in [0, 1]. ``zoom``:
    (top, left, size) of the zoomed window in the full-resolution image; by default the
    window of a quarter of the shorter side with the most detail. ``on_method(name)`` is
    called before each method runs (progress). ``name`` labels the result (default: the file
    name, the bundled name, or ``tensor``).
    """
    _check_arguments(scale, methods, train_steps, seed, zoom, on_method, name)
    scale, train_steps, seed = int(scale), int(train_steps), int(seed)
    kinds = [(m, *_method(m)) for m in methods]
    if isinstance(image, torch.Tensor):
        if image.dim() != 3 or image.shape[0] not in (1, 3) or not image.is_floating_point():
            raise InvalidArgumentError(f"an image tensor must be float (3, H, W) or (1, H, W), but got shape "
                                       f"{tuple(image.shape)} and dtype {image.dtype}")
        pixels, label = image.detach().cpu().float().expand(3, -1, -1), "tensor"
        if pixels.numel() and not (bool(torch.isfinite(pixels).all()) and float(pixels.min()) >= 0
                                   and float(pixels.max()) <= 1):
            raise InvalidArgumentError(f"an image tensor must hold finite values in [0, 1], but got values from "
                                       f"{float(pixels.min())} to {float(pixels.max())}")
    elif isinstance(image, (str, Path)):
        pixels, label = load_image(image), Path(str(image)).name
    else:
        raise InvalidTypeError(f"image must be a file path, a bundled image name or a float (3, H, W) tensor, but "
                               f"got {type(image).__name__}")
    label = name or label
    h, w = (pixels.shape[1] // scale) * scale, (pixels.shape[2] // scale) * scale
    if min(h, w) < 11:
        raise InvalidArgumentError(f"the image must be at least 11 pixels on each side after cropping to a multiple "
                                   f"of scale={scale} (SSIM's window), but it is {w}x{h}")
    if zoom is not None:
        top, left, size = zoom
        if top + size > h or left + size > w:
            raise InvalidArgumentError(f"zoom (top, left, size) must lie inside the image ({w}x{h} after cropping to "
                                       f"a multiple of scale={scale}): top + size <= {h} and left + size <= {w}, "
                                       f"but got {tuple(zoom)!r}")
    hr = pixels[:, :h, :w][None].contiguous()
    lr = degrade(hr, scale)
    tiles: list[Tile] = []
    skipped: list[tuple[str, str]] = []
    for name, kind, detail in kinds:
        if on_method is not None:
            on_method(name)
        if kind == "guided":
            skipped.append((name, "needs a high-resolution guidance input: skipped"))
            continue
        if kind == "learned" and train_steps == 0:
            skipped.append((name, "learned: skipped with train_steps=0"))
            continue
        note = ""
        if kind == "preset":
            from ..resample import resize

            out = resize(lr, scale_factor=scale, method=detail[1], convention=detail[0])
        elif kind == "fixed":
            from ..nn.registry import build_upsampler

            out = build_upsampler(detail, 3, 3, scale)(lr)
        else:
            out = _train(detail, hr, scale, train_steps, seed)(lr)
            note = f"trained {train_steps} steps on crops of this image"
        out = out.detach().float().clamp(0, 1)
        tiles.append(_score(name, out, hr, note))
    window = (int(zoom[0]), int(zoom[1]), int(zoom[2])) if zoom is not None else _busiest(hr[0], max(8, min(h, w) // 4))
    return CompareResult(label, scale, _hwc(hr), _hwc(lr), tuple(tiles), tuple(skipped), window, train_steps)


def _check_arguments(scale: Any, methods: Any, train_steps: Any, seed: Any, zoom: Any, on_method: Any,
                     name: Any) -> None:
    """compare_images's arguments other than the image, each against its rule."""
    if not is_integer(scale) or int(scale) < 2:
        raise InvalidArgumentError(f"scale must be an integer >= 2, but got {scale!r}")
    if not is_integer(train_steps) or int(train_steps) < 0:
        raise InvalidArgumentError(f"train_steps must be an integer >= 0, but got {train_steps!r}")
    if not is_integer(seed) or not 0 <= int(seed) < 2**63:
        raise InvalidArgumentError(f"seed must be an integer in [0, 2**63), but got {seed!r}")
    if isinstance(methods, (str, bytes)) or not isinstance(methods, Sequence) or not methods:
        raise InvalidArgumentError(f"methods must be a non-empty list of method names, but got {methods!r}")
    if zoom is not None and not (isinstance(zoom, (tuple, list)) and len(zoom) == 3 and all(is_integer(v) for v in zoom)
                                 and zoom[0] >= 0 and zoom[1] >= 0 and zoom[2] >= 1):
        raise InvalidArgumentError(f"zoom must be (top, left, size): integers with top, left >= 0 and size >= 1, "
                                   f"but got {zoom!r}")
    if on_method is not None and not callable(on_method):
        raise InvalidTypeError(f"on_method must be a function of the method name or None, but got "
                               f"{type(on_method).__name__}")
    if name is not None and not isinstance(name, str):
        raise InvalidTypeError(f"name must be a string or None, but got {type(name).__name__}")


def _score(name: str, out: torch.Tensor, hr: torch.Tensor, note: str) -> Tile:
    from ..study.metrics import psnr, ssim

    return Tile(name, _hwc(out), float(psnr(out, hr)[0]), float(ssim(out, hr)[0]), note)


def _hwc(x: torch.Tensor) -> np.ndarray:
    return x[0].permute(1, 2, 0).detach().numpy().astype(np.float32)


def _train(name: str, hr: torch.Tensor, scale: int, steps: int, seed: int) -> torch.nn.Module:
    """A 16-channel decoder with upsampler ``name``, trained on random crops of ``hr``."""
    from ..decoder import Decoder
    from ..study.train import fit

    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    model = Decoder(3, 3, scale, upsampler=name, channels=16)
    crop = min(16 * scale, hr.shape[2], hr.shape[3]) // scale * scale

    def batch() -> tuple[torch.Tensor, torch.Tensor]:
        tops = torch.randint(hr.shape[2] - crop + 1, (8,), generator=generator).tolist()
        lefts = torch.randint(hr.shape[3] - crop + 1, (8,), generator=generator).tolist()
        target = torch.cat([hr[:, :, t:t + crop, s:s + crop] for t, s in zip(tops, lefts)])
        return degrade(target, scale), target

    fit(model, batch, steps, lr=3e-3)
    return model


def _busiest(hr: torch.Tensor, size: int) -> tuple[int, int, int]:
    """The (top, left, size) window with the most detail (largest sum of gradient magnitudes)."""
    grey = hr.mean(dim=0)
    h, w = grey.shape
    size = min(size, h, w)
    energy = torch.zeros_like(grey)
    energy[:, 1:] += (grey[:, 1:] - grey[:, :-1]).abs()
    energy[1:, :] += (grey[1:, :] - grey[:-1, :]).abs()
    pooled = torch.nn.functional.avg_pool2d(energy[None, None], size, stride=max(1, size // 4))[0, 0]
    index = int(pooled.argmax())
    top, left = divmod(index, pooled.shape[1])
    step = max(1, size // 4)
    return (top * step, left * step, size)
