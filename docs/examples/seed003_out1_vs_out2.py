"""Seed 003: "can anyone comment on why out1 and out2 are different?"

The forum thread upsamples the 2x2 grid [[1, 2], [3, 4]] twice: out1 with F.upsample(x, None, 2,
'bilinear') and out2 with a transposed convolution whose weights are Caffe/FCN's bilinear filler
(make_bilinear_weights(4, 1), stride 2, padding 1). Nobody in the thread explains the difference;
one reply says the filler "is probably incorrect", another that ConvTranspose2d is "more powerful
because it is learnable". This script reproduces both outputs and lets upsamplekit.explain answer:

1. out1 printed in the thread is align_corners=True, F.upsample's behaviour in 2017; since
   PyTorch 0.4 bilinear defaults to align_corners=False (pixel centres).
2. Against today's default, out2 differs only in the border ring: the filler is right, but a
   transposed convolution treats the outside of the image as zeros.
3. Replicating the edge pixel before the transposed convolution (and cropping the extra output)
   makes out2 equal to out1 everywhere: the fix explain finds, checked here in plain torch.

Run: python docs/examples/seed003_out1_vs_out2.py
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from upsamplekit import explain


def make_bilinear_weights(size: int, num_channels: int) -> torch.Tensor:
    """The thread's filler, as written there (Python 3)."""
    factor = (size + 1) // 2
    center = factor - 1 if size % 2 == 1 else factor - 0.5
    og = np.ogrid[:size, :size]
    filt = (1 - abs(og[0] - center) / factor) * (1 - abs(og[1] - center) / factor)
    w = torch.zeros(num_channels, 1, size, size)
    for i in range(num_channels):
        w[i, 0] = torch.from_numpy(filt)
    return w


def show(name: str, t: torch.Tensor) -> None:
    print(f"{name}:")
    for row in t[0, 0].tolist():
        print("  " + " ".join(f"{v:7.4f}" for v in row))


def main() -> None:
    x = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    out1_2017 = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=True)
    out1_today = F.interpolate(x, scale_factor=2, mode="bilinear")
    out2 = F.conv_transpose2d(x, make_bilinear_weights(4, 1), stride=2, padding=1, groups=1)
    show("out1 as printed in the thread (align_corners=True, F.upsample's 2017 default)", out1_2017)
    show("out1 with today's default (align_corners=False)", out1_today)
    show("out2 (transposed convolution, bilinear filler)", out2)

    diff = (out1_today - out2).abs()[0, 0]
    print(f"\ntoday's out1 - out2: max {float(diff.max()):.4f} on the border ring, "
          f"{float(diff[1:-1, 1:-1].max()):.1e} inside")
    print(f"2017's out1 - out2: max {float((out1_2017 - out2).abs().max()):.4f}, everywhere")
    print("(explain's probe images hold values in [0, 1], the thread's grid goes up to 4: its numbers scale by 4)\n")

    a = "torch: F.upsample(x, None, 2, 'bilinear')"
    b = "torch: F.conv_transpose2d(x, make_bilinear_weights(4, 1), stride=2, padding=1, groups=c)"
    today = explain(a, b, sizes=[(2, 2), (8, 8)])
    print(today)
    print()
    print(explain("torch: F.upsample(x, None, 2, 'bilinear', align_corners=True)", b, sizes=[(2, 2), (8, 8)]))

    # The fix in plain torch: replicate the edge, then crop `stride` more outputs per side.
    fixed = F.conv_transpose2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), make_bilinear_weights(4, 1),
                               stride=2, padding=1 + 2)
    print(f"\nafter the fix ({today.fix.words()}): max |out1 - out2| = "
          f"{float((fixed - out1_today).abs().max()):.1e}")
    show("fixed out2", fixed)
    if not torch.allclose(fixed, out1_today, atol=1e-6):
        raise SystemExit("the fix does not hold")


if __name__ == "__main__":
    main()
