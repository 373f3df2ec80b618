"""The one image loader: every Pillow mode scaled by its real range (never clipped), checked against
float64 references computed from the values written; bad files refused with one clear error."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

from upsamplekit.cli import app
from upsamplekit.errors import InvalidArgumentError
from upsamplekit.images import read_image_file, to_rgb_tensor
from upsamplekit.study.data import DataError, load_split

F32 = 2 ** -24  # float32 rounding of values in [0, 1]


def rgb(reference: np.ndarray) -> np.ndarray:
    """A float64 (H, W) or (H, W, 3) reference as (3, H, W)."""
    if reference.ndim == 2:
        reference = np.repeat(reference[:, :, None], 3, axis=2)
    return reference.transpose(2, 0, 1)


def check(got: torch.Tensor, reference: np.ndarray, atol: float = F32) -> None:
    assert got.dtype == torch.float32
    np.testing.assert_allclose(got.numpy().astype(np.float64), rgb(reference), rtol=0, atol=atol)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def raw_png(path: Path, samples: np.ndarray, color_type: int, depth: int = 16) -> Path:
    """A PNG written byte by byte (IHDR, one IDAT, IEND), so the file holds exactly these samples."""
    height, width = samples.shape[:2]
    dtype = ">u2" if depth == 16 else "u1"
    rows = b"".join(b"\x00" + samples[i].astype(dtype).tobytes() for i in range(height))

    header = struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(rows))
                     + _chunk(b"IEND", b""))
    return path


@pytest.fixture
def wide(rng: np.random.Generator) -> np.ndarray:
    """16-bit grey values over the whole range, most of them above 255 (Pillow's RGB conversion clipped them)."""
    values = rng.integers(0, 65536, (12, 17)).astype(np.uint16)
    values[0, :3] = (0, 1, 65535)
    return values


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(16)


def test_sixteen_bit_grey_png_is_divided_by_65535(tmp_path: Path, wide: np.ndarray) -> None:
    Image.fromarray(wide).save(tmp_path / "g16.png")
    with Image.open(tmp_path / "g16.png") as handle:
        assert handle.mode == "I;16"
    got = read_image_file(tmp_path / "g16.png")
    check(got, wide / 65535.0)
    assert float((got == 1).float().mean()) < 0.01  # was 98% white
    # The same samples written byte by byte: Pillow's own writer is not what is being trusted.
    check(read_image_file(raw_png(tmp_path / "raw16.png", wide, color_type=0)), wide / 65535.0)


@pytest.mark.parametrize("mode", ["I;16", "I;16B"])
def test_sixteen_bit_tiff_in_either_byte_order(tmp_path: Path, wide: np.ndarray, mode: str) -> None:
    array = wide if mode == "I;16" else wide.astype(">u2")
    Image.fromarray(array).save(tmp_path / "g.tif")
    with Image.open(tmp_path / "g.tif") as handle:
        assert handle.mode == mode
    check(read_image_file(tmp_path / "g.tif"), wide / 65535.0)


def test_sixteen_bit_pgm_read_as_mode_i_is_divided_by_65535(tmp_path: Path, wide: np.ndarray) -> None:
    path = tmp_path / "g.pgm"
    path.write_bytes(b"P5 %d %d 65535\n" % (wide.shape[1], wide.shape[0]) + wide.astype(">u2").tobytes())
    with Image.open(path) as handle:
        assert handle.mode == "I"  # Pillow widens it; its range is still 16 bits
    check(read_image_file(path), wide / 65535.0)


def test_int32_tiff_is_divided_by_the_int32_range_and_negatives_are_refused(tmp_path: Path,
                                                                             rng: np.random.Generator) -> None:
    values = rng.integers(0, 2 ** 31, (9, 10)).astype(np.int32)
    values[0, 0] = 2 ** 31 - 1
    Image.fromarray(values).save(tmp_path / "i.tif")
    check(read_image_file(tmp_path / "i.tif"), values / (2.0 ** 31 - 1))
    values[1, 1] = -5
    Image.fromarray(values).save(tmp_path / "neg.tif")
    with pytest.raises(InvalidArgumentError, match=r"negative values \(down to -5\).*refused rather than clipped"):
        read_image_file(tmp_path / "neg.tif")


def test_float_tiff_is_taken_by_value_and_out_of_range_refused(tmp_path: Path, rng: np.random.Generator) -> None:
    values = rng.random((8, 11)).astype(np.float32)
    Image.fromarray(values).save(tmp_path / "f.tif")
    check(read_image_file(tmp_path / "f.tif"), values.astype(np.float64), atol=0)
    Image.fromarray(values * 255).save(tmp_path / "f255.tif")
    with pytest.raises(InvalidArgumentError, match=r"float values in \[.*\], but a float image must hold values in "
                                                   r"\[0, 1\]"):
        read_image_file(tmp_path / "f255.tif")
    values[2, 3] = np.nan
    Image.fromarray(values).save(tmp_path / "nan.tif")
    with pytest.raises(InvalidArgumentError, match="NaN or infinite"):
        read_image_file(tmp_path / "nan.tif")


def test_sixteen_bit_colour_png_is_read_at_8_bits_by_pillow(tmp_path: Path, rng: np.random.Generator) -> None:
    """Accepted on purpose (docs/errors.md): Pillow keeps the high byte of 16-bit RGB; scaled right, 8-bit precise."""
    samples = rng.integers(0, 65536, (6, 7, 3)).astype(np.uint16)
    got = read_image_file(raw_png(tmp_path / "rgb16.png", samples, color_type=2))
    check(got, (samples >> 8) / 255.0)
    np.testing.assert_allclose(got.numpy().transpose(1, 2, 0), samples / 65535.0, atol=1 / 255)


def test_palette_grey_alpha_cmyk_and_one_bit(tmp_path: Path, rng: np.random.Generator) -> None:
    # Palette: each index looked up in the palette written.
    palette = rng.integers(0, 256, (256, 3)).astype(np.uint8)
    index = rng.integers(0, 256, (5, 9)).astype(np.uint8)
    image = Image.frombytes("P", (9, 5), index.tobytes())
    image.putpalette(palette.ravel().tolist())
    image.save(tmp_path / "p.png")
    check(read_image_file(tmp_path / "p.png"), palette[index] / 255.0)
    # Grey and alpha: the grey repeated, the alpha dropped.
    la = rng.integers(0, 256, (5, 9, 2)).astype(np.uint8)
    Image.fromarray(la, mode="LA").save(tmp_path / "la.png")
    check(read_image_file(tmp_path / "la.png"), la[:, :, 0] / 255.0)
    # CMYK (a TIFF keeps it exact): R = (1 - C)(1 - K), rounded to 8 bits by Pillow.
    cmyk = rng.integers(0, 256, (5, 9, 4)).astype(np.uint8)
    Image.fromarray(cmyk, mode="CMYK").save(tmp_path / "c.tif")
    reference = (1 - cmyk[:, :, :3] / 255.0) * (1 - cmyk[:, :, 3:] / 255.0)
    check(read_image_file(tmp_path / "c.tif"), reference, atol=0.5 / 255 + F32)
    # 1-bit: 0 or 1.
    bits = rng.random((5, 9)) > 0.5
    Image.fromarray(bits).save(tmp_path / "b.png")
    check(read_image_file(tmp_path / "b.png"), bits.astype(np.float64), atol=0)


def test_arrays_are_scaled_by_their_dtype() -> None:
    check(to_rgb_tensor(np.array([[0, 65535, 257]], dtype=np.uint16)), np.array([[0.0, 1.0, 257 / 65535]]))
    check(to_rgb_tensor(np.array([[0, 255]], dtype=np.uint8)), np.array([[0.0, 1.0]]))
    grey_alpha = np.array([[[0.25, 1.0]]])
    check(to_rgb_tensor(grey_alpha), np.array([[0.25]]))
    with pytest.raises(InvalidArgumentError, match=r"values in \[0, 1\]"):
        to_rgb_tensor(np.array([[0.0, 2.0]]))
    with pytest.raises(InvalidArgumentError, match="C in 1, 2, 3 or 4"):
        to_rgb_tensor(np.zeros((2, 2, 5)))


def _claim(path: Path, side: int) -> Path:
    """A PNG that claims ``side`` x ``side`` pixels (Pillow refuses it at open, before decoding)."""

    rows = zlib.compress(b"\x00" * (side + 1) * 4)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0))
                     + _chunk(b"IDAT", rows) + _chunk(b"IEND", b""))
    return path


@pytest.mark.parametrize("side", [10_000, 20_000])  # over the warning limit, over the error limit (2x)
def test_a_decompression_bomb_is_refused(tmp_path: Path, side: int) -> None:
    assert side * side > Image.MAX_IMAGE_PIXELS
    with pytest.raises(InvalidArgumentError, match="refused as a possible decompression bomb.*MAX_IMAGE_PIXELS"):
        read_image_file(_claim(tmp_path / "bomb.png", side))


def test_a_study_folder_with_a_bomb_or_a_broken_file_is_one_error(tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    Image.fromarray(np.zeros((40, 40), dtype=np.uint8)).save(folder / "a.png")
    _claim(folder / "b.png", 20_000)
    result = CliRunner().invoke(app, ["study", "--images", str(folder), "--out", str(tmp_path / "out"),
                                      "--no-progress"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.stderr.strip().splitlines()[-1].startswith("Error: image ")
    assert "decompression bomb" in result.stderr
    (folder / "b.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    with pytest.raises(DataError, match="cannot be read with Pillow"):
        load_split(str(folder))


def test_a_folder_of_sixteen_bit_pngs_reads_its_real_values(tmp_path: Path, rng: np.random.Generator) -> None:
    folder = tmp_path / "gray16"
    folder.mkdir()
    written = {}
    for i in range(3):
        written[f"g{i}.png"] = rng.integers(0, 65536, (40, 41)).astype(np.uint16)
        Image.fromarray(written[f"g{i}.png"]).save(folder / f"g{i}.png")
    split = load_split(str(folder), 0.34, min_side=32)
    for image in split.train + split.val:
        check(image.pixels, written[image.name] / 65535.0)


def test_compare_scores_a_sixteen_bit_png_as_its_real_values(tmp_path: Path, rng: np.random.Generator) -> None:
    from upsamplekit.explainer.images import compare_images

    values = (rng.random((48, 48)) * 65535).astype(np.uint16)
    Image.fromarray(values).save(tmp_path / "g16.png")
    result = CliRunner().invoke(app, ["compare", str(tmp_path / "g16.png"), "--methods", "bicubic", "--train-steps",
                                      "0", "--json", "--out", str(tmp_path / "grid.png")])
    assert result.exit_code == 0, result.output
    tile = json.loads(result.stdout)["tiles"][0]
    reference = torch.from_numpy(rgb(values / 65535.0).astype(np.float32))
    expected = compare_images(reference, methods=["bicubic"], train_steps=0).tiles[0]
    assert tile["psnr"] == pytest.approx(expected.psnr, abs=1e-4) and tile["ssim"] == pytest.approx(expected.ssim,
                                                                                                    abs=1e-6)
