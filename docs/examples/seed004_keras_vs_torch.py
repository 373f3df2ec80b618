"""Seed 004: "Which is more effective, Keras's UpSampling2D or PyTorch's Upsample?"

The answer in the seed compares Keras's default (nearest) with PyTorch's bicubic and concludes that
PyTorch "offers a wider range of interpolation methods" and "potential performance advantages".
This script runs the seed's three examples with upsamplekit (Keras 3 semantics on the TensorFlow
backend, torch semantics for nn.Upsample) and shows with upsamplekit.explain what the seed leaves
out:

1. The seed compares two different methods: Keras nearest against PyTorch bicubic. The layers
   themselves agree exactly when given the same method: nearest equals nearest, bilinear equals
   bilinear (both sample pixel centres and repeat the edge pixel).
2. Bicubic is where they really differ: Keras (tf.image.resize) uses Keys' a = -0.5 and drops the
   taps outside the image, torch a = -0.75 and repeats the edge pixel. Neither is "better"; the
   smallest change that makes them equal is found and run.
3. Keras UpSampling2D is not limited to nearest and bilinear: it takes bicubic, lanczos3,
   lanczos5 and area too, and Keras 3 has no Theano backend (TensorFlow, JAX, torch).

``--with-keras`` also runs the real Keras layers (importing TensorFlow takes a while) and prints
their difference from upsamplekit's Keras preset.

Run: python docs/examples/seed004_keras_vs_torch.py [--with-keras]
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from upsamplekit import explain, resize


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--with-keras", action="store_true", help="also run the real Keras layers")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    nhwc = rng.random((1, 32, 32, 3), dtype=np.float32)  # the seed's Keras input shape
    nchw = torch.from_numpy(nhwc.transpose(0, 3, 1, 2).copy())  # the seed's torch shape (1, 3, 32, 32)

    # Example 1: UpSampling2D(size=(2, 2), interpolation='nearest'); example 3: interpolation='bilinear'.
    keras_nearest = resize(nhwc, scale_factor=2, method="nearest", convention="keras", channels_last=True)
    keras_bilinear = resize(nhwc, scale_factor=2, method="bilinear", convention="keras", channels_last=True)
    # Example 2: nn.Upsample(scale_factor=2, mode='bicubic', align_corners=False).
    torch_bicubic = torch.nn.Upsample(scale_factor=2, mode="bicubic", align_corners=False)(nchw)
    print(f"example 1 (Keras nearest): {keras_nearest.shape}; example 2 (torch bicubic): "
          f"{tuple(torch_bicubic.shape)}; example 3 (Keras bilinear): {keras_bilinear.shape}")
    seed_gap = np.abs(keras_nearest.transpose(0, 3, 1, 2) - torch_bicubic.numpy()).max()
    print(f"the seed's comparison, Keras nearest vs torch bicubic: max difference {seed_gap:.3f} "
          f"(a different method, not a different layer)\n")

    pairs = [
        ("keras: UpSampling2D(size=(2, 2), interpolation='nearest')",
         "torch: nn.Upsample(scale_factor=2, mode='bicubic', align_corners=False)"),
        ("keras: UpSampling2D(size=(2, 2), interpolation='nearest')", "torch: nn.Upsample(scale_factor=2)"),
        ("keras: UpSampling2D((2, 2), interpolation='bilinear')",
         "torch: nn.Upsample(scale_factor=2, mode='bilinear')"),
        ("keras: UpSampling2D(size=(2, 2), interpolation='bicubic')",
         "torch: nn.Upsample(scale_factor=2, mode='bicubic', align_corners=False)"),
    ]
    summary = []
    for a, b in pairs:
        e = explain(a, b)
        print(e)
        print("-" * 100)
        summary.append((a, b, e))

    print("\nsummary (max |Keras - torch| on the probes):")
    for a, b, e in summary:
        verdict = "equal" if e.equivalent else f"differ by {e.max_diff:.4f} ({e.where})"
        fix = f"; fix: {e.fix.words()}" if e.fix else ""
        print(f"  {a.split(': ', 1)[1]:<62} vs {b.split(': ', 1)[1]:<70} {verdict}{fix}")
    print("\nKeras UpSampling2D interpolations (Keras 3): nearest, bilinear, bicubic, lanczos3, lanczos5, area;"
          " torch nn.Upsample on images: nearest, nearest-exact, bilinear, bicubic, area")

    if args.with_keras:
        import os

        os.environ.setdefault("KERAS_BACKEND", "tensorflow")
        import keras

        for interpolation in ("nearest", "bilinear", "bicubic"):
            real = np.asarray(keras.layers.UpSampling2D(size=(2, 2), interpolation=interpolation)(nhwc))
            ours = resize(nhwc, scale_factor=2, method=interpolation, convention="keras", channels_last=True)
            print(f"real Keras {interpolation}: max |Keras - upsamplekit| = {np.abs(real - ours).max():.2e}"
                  + (" (TensorFlow's 1024-entry bicubic table)" if interpolation == "bicubic" else ""))


if __name__ == "__main__":
    main()
