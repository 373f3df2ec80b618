"""Seed 001: "How to use Upsample for upsampling with PyTorch": an MNIST digit, 28x28 -> 56x56.

The tutorial upsamples a 28x28 MNIST digit with nn.Upsample(size=(56, 56), mode='nearest'),
shows it before and after, and concludes "the image pretty much stayed the same - but it became
bigger". MNIST cannot be downloaded here, so this script uses a 28x28 picture made from an image
bundled with scikit-image (the camera man, shrunk from a 56x56 crop with Pillow's antialiased
bicubic), which also gives the true 56x56 image to score against. It draws the before/after
picture (and the other methods) and prints what the tutorial leaves unexplained:

1. Nearest at exactly x2 adds nothing: each pixel becomes a 2x2 block (np.repeat), so the picture
   "stays the same" by construction. Against the true 56x56 image, bilinear and bicubic score
   higher (PSNR / SSIM printed).
2. torch's 'nearest' is the legacy, shifted rule: at 28 -> 56 it equals 'nearest-exact', at
   28 -> 42 (x1.5) it does not; explain says where.
3. align_corners=True (the tutorial says it keeps "the corner points") stretches the whole grid:
   it changes every pixel, not only the corners.

Run: python docs/examples/seed001_before_after.py [--out DIR]   (pictures go to a temporary folder
by default, never into the repository)
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import torch

from upsamplekit import explain, resize
from upsamplekit.explainer import compare_images, load_image
from upsamplekit.explainer.images import degrade
from upsamplekit.explainer.plot import plot_compare


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None, help="folder for the pictures (default: a new temporary folder)")
    args = parser.parse_args()
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="upsamplekit-seed001-"))
    out.mkdir(parents=True, exist_ok=True)

    camera = load_image("camera")[:1]  # grey: one channel, like MNIST
    face = camera[:, 60:284, 160:384]  # the camera man's head and shoulders, 224x224
    truth = resize(face[None], size=(56, 56), method="box", convention="pillow")[0]  # the "true" 56x56
    digit = degrade(truth[None].expand(1, 3, -1, -1), 2)[:, :1]  # the 28x28 input (1, 1, 28, 28)
    print(f"input {tuple(digit.shape)}, true 56x56 image {tuple(truth.shape)}")

    # The tutorial's layer.
    after = torch.nn.Upsample(size=(56, 56), mode="nearest")(digit)
    repeated = digit.repeat_interleave(2, dim=2).repeat_interleave(2, dim=3)
    print(f"nn.Upsample(size=(56, 56), mode='nearest') == each pixel repeated 2x2: {torch.equal(after, repeated)}")

    result = compare_images(truth.expand(3, -1, -1).contiguous(), scale=2,
                            methods=["nearest", "bilinear", "bicubic", "pillow:lanczos"], train_steps=0,
                            zoom=(16, 16, 24), name="camera 56x56 (an MNIST-sized stand-in)")
    nearest_tile = result.tiles[0].image[..., 0]
    if not np.allclose(nearest_tile, after[0, 0].numpy(), atol=1e-6):
        raise SystemExit("the 'nearest' tile is not the tutorial's nn.Upsample output")
    print("\nagainst the true 56x56 image (higher is better):")
    print(result.table())
    picture = plot_compare(result, out / "seed001_before_after.png", columns=3)
    print(f"\nbefore/after picture: {picture}")

    for a, b, sizes in (
        ("torch: nn.Upsample(size=(56, 56), mode='nearest')", "torch: nn.Upsample(size=(56, 56), mode='nearest-exact')",
         [(28, 28)]),
        ("torch: nn.Upsample(size=(42, 42), mode='nearest')", "torch: nn.Upsample(size=(42, 42), mode='nearest-exact')",
         [(28, 28)]),
        ("torch: nn.Upsample(size=(56, 56), mode='bilinear')",
         "torch: nn.Upsample(size=(56, 56), mode='bilinear', align_corners=True)", [(28, 28)]),
    ):
        e = explain(a, b, sizes=sizes)
        verdict = "equal" if e.equivalent else f"differ by up to {e.max_diff:.3f}, {e.where}"
        print(f"\n{a.split(': ')[1]} vs {b.split(': ')[1]} at 28x28: {verdict}")
        if not e.equivalent:
            print("  " + e.comparisons[0].words)
            print("  " + "; ".join(k.words for k in e.knobs if k.name in ("coordinates", "kernel")))
    a_out = torch.nn.functional.interpolate(digit, size=(56, 56), mode="bilinear")
    b_out = torch.nn.functional.interpolate(digit, size=(56, 56), mode="bilinear", align_corners=True)
    corners = (slice(None), slice(None), [0, 0, -1, -1], [0, -1, 0, -1])
    gap = (a_out - b_out).abs()
    print(f"  on the picture: the four corner pixels differ by {float(gap[corners].max()):.1e} (both keep them), "
          f"the other pixels by up to {float(gap.max()):.3f} (mean {float(gap.mean()):.4f}): align_corners moves "
          f"the whole grid, not only the corners")
    e.plot(str(out / "seed001_align_corners.png"))
    print(f"\nalign_corners picture: {out / 'seed001_align_corners.png'}")


if __name__ == "__main__":
    main()
