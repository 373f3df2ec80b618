"""Seed 002: "How can transposed convolution be used for upsampling in PyTorch?"

The seed's three examples build nn.ConvTranspose2d layers on a 16x16 input and print their output
shapes. Example 2 (kernel 3, stride 2, padding 1, output_padding 1) claims torch.Size([1, 3, 33, 33])
and calls 33x33 "slightly odd"; torch gives 32x32. This script runs the examples, computes each
size with upsamplekit's formula, and shows what the seed leaves unexplained:

1. out = (in - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1: 32, not 33.
2. Kernel 3 at stride 2 overlaps unevenly: on a constant input with all-ones weights the interior
   takes the values {1, 2, 4}, the checkerboard pattern; kernel 4 (a multiple of the stride) is even.
3. "Method 2" (insert zeros, then convolve) is exact: a transposed convolution equals a stride-1
   convolution of the zero-inserted input with the flipped kernel. The zeros are not "often
   nearest-neighbour or bilinear interpolation", as the seed says.
4. Which settings reach 32 from 16 without a checkerboard: upsamplekit.solve_conv_transpose.

Run: python docs/examples/seed002_transposed_shapes.py
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from upsamplekit import conv_transpose_output_size, solve_conv_transpose


def main() -> None:
    torch.manual_seed(0)
    x = torch.randn(1, 3, 16, 16)
    examples = [
        ("example 1", dict(kernel_size=2, stride=2), 32),
        ("example 2", dict(kernel_size=3, stride=2, padding=1, output_padding=1), 33),
        ("example 3", dict(kernel_size=2, stride=2, padding=0), 32),
    ]
    wrong = []
    for name, settings, claimed in examples:
        layer = nn.ConvTranspose2d(3, 3, **settings)
        real = layer(x).shape[-1]
        formula = conv_transpose_output_size(16, **settings)
        mark = "" if real == claimed else f"   <- the seed says {claimed}"
        print(f"{name}: ConvTranspose2d({', '.join(f'{k}={v}' for k, v in settings.items())}) on 16x16 -> "
              f"torch {real}x{real}, formula {formula}{mark}")
        if real != claimed:
            wrong.append(name)
        if real != formula:
            raise SystemExit(f"{name}: the formula disagrees with torch")
    print(f"  (in - 1) * stride - 2 * padding + (kernel - 1) + output_padding + 1 = 15 * 2 - 2 + 2 + 1 + 1 = 32\n")

    ones = torch.ones(1, 1, 8, 8)
    for kernel in (3, 4):
        padding, output_padding = (1, 1) if kernel == 3 else (1, 0)
        y = F.conv_transpose2d(ones, torch.ones(1, 1, kernel, kernel), stride=2, padding=padding,
                               output_padding=output_padding)
        interior = sorted({int(v) for v in y[0, 0, 2:-2, 2:-2].flatten().tolist()})
        print(f"kernel {kernel}, stride 2, constant input, all-ones weights: interior values {interior}"
              + ("  <- uneven overlap: a checkerboard" if len(interior) > 1 else "  (even overlap)"))

    # Method 2: zero insertion + stride-1 convolution with the flipped kernel equals conv_transpose2d.
    w = torch.randn(1, 1, 3, 3)
    small = torch.randn(1, 1, 5, 5)
    direct = F.conv_transpose2d(small, w, stride=2)
    zeros = torch.zeros(1, 1, 9, 9)
    zeros[..., ::2, ::2] = small
    via_zeros = F.conv2d(F.pad(zeros, (2, 2, 2, 2)), w.flip(-1, -2))
    print(f"\nzero insertion + convolution vs conv_transpose2d: max difference "
          f"{float((direct - via_zeros).abs().max()):.1e} (the inserted samples are zeros, not interpolated)")

    print("\nsettings that take 16 to 32 without a checkerboard (kernel a multiple of the stride):")
    even = [s for s in solve_conv_transpose(16, 32) if s.kernel_size % s.stride == 0]
    for s in even[:6]:
        print(f"  kernel_size={s.kernel_size}, stride={s.stride}, padding={s.padding}, "
              f"output_padding={s.output_padding}")
    print(f"\nwhat the seed got wrong: {', '.join(wrong) or 'nothing'} (33x33 is 32x32)")


if __name__ == "__main__":
    main()
