"""Watermark removal: a denoising autoencoder trained to erase semi-transparent marks.

Every training batch gets fresh random watermarks from :mod:`npae.watermark` (the text
"npae" or a stroked ring / box / line / cross, at a random place, blended with opacity
``alpha``: ``x_tilde = (1 - alpha m) x + alpha m``), and the autoencoder learns to map the
marked digit back to the clean one. This is a denoising autoencoder whose noise is
structured: the model below is an :class:`npae.DenoisingAutoencoder` whose corruption hook
``_corrupt`` draws a watermark instead of Gaussian noise (the gradient is the plain
autoencoder's with ``x_tilde`` at the encoder's input and ``x`` as the target).

The test images get their own marks (a separate seed, never seen in training); PSNR and
SSIM (``npae.metrics``) against the clean digits are reported before and after removal.
Derivation: ``docs/13-applications.md``.

Run::

    python examples/watermark_removal.py --data-dir /path/to/mnist   # or set NPAE_DATA_DIR

Writes ``watermark_removal.png`` (marked / cleaned / clean) and ``metrics.json`` to ``--out``
(default ``npae-out/watermark_removal``).
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from npae import Autoencoder, DenoisingAutoencoder
from npae.metrics import psnr, ssim
from npae.optim import Adam
from npae.plotting import image_grid, write_metrics
from npae.scripts import example_parser, fraction, load_mnist_or_exit
from npae.watermark import KINDS, add_watermark


class WatermarkRemover(DenoisingAutoencoder):
    """A denoising autoencoder whose corruption is a random semi-transparent watermark."""

    def __init__(self, sizes=(784, 256, 64), kind: str = "text", opacity: float = 0.5, random_state=None,
                 dtype=np.float32) -> None:
        self.kind, self.opacity = kind, opacity  # stored under their own names: save/load finds them
        super().__init__(sizes, activation="relu", output_activation="sigmoid", loss="mse",
                         random_state=random_state, dtype=dtype)

    def watermark(self, X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """``X`` (N, 784) with one fresh random mark per image, same shape and dtype."""
        marked, _ = add_watermark(X.reshape(-1, 28, 28), rng, self.kind, self.opacity)  # (N, 28, 28)
        return marked.reshape(X.shape)

    def _corrupt(self, X, rng):
        """The DAE's corruption hook, called on every training batch: the encoder sees the marked digit."""
        return self.watermark(X, rng)

    __repr__ = Autoencoder.__repr__  # the network only: the DAE's noise settings are not used here


def main(argv: list[str] | None = None) -> None:
    parser = example_parser(__doc__, "watermark_removal", epochs=40,
                            formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--kind", choices=KINDS, default="text", help="what the watermarks are")
    parser.add_argument("--opacity", type=fraction, default=0.5, help="alpha of the blend")
    args = parser.parse_args(argv)
    X_train, _, X_test, _, source = load_mnist_or_exit(parser, args)

    model = WatermarkRemover((784, 256, 64), args.kind, args.opacity, random_state=args.seed)
    start = time.perf_counter()
    model.fit(X_train, epochs=args.epochs, batch_size=64, optimizer=Adam(1e-3))
    print(f"trained {model!r} on {args.kind} watermarks, opacity {args.opacity}, {args.epochs} epochs "
          f"({time.perf_counter() - start:.0f}s)")

    # Held-out digits with held-out marks (their own generator).
    marked = model.watermark(X_test, np.random.default_rng(args.seed + 12345))
    cleaned = model.reconstruct(marked)
    clean = X_test.reshape(-1, 28, 28)  # (N, 28, 28) for the image metrics
    before = {"psnr_db": psnr(marked.reshape(-1, 28, 28), clean),
              "ssim": ssim(marked.reshape(-1, 28, 28), clean)}
    after = {"psnr_db": psnr(cleaned.reshape(-1, 28, 28), clean),
             "ssim": ssim(cleaned.reshape(-1, 28, 28), clean)}
    print(f"test set, {len(X_test)} marked digits: PSNR {before['psnr_db']:.2f} -> {after['psnr_db']:.2f} "
          f"dB, SSIM {before['ssim']:.3f} -> {after['ssim']:.3f}")

    show = slice(0, 12)
    image_grid({"marked": marked[show], "cleaned": cleaned[show], "clean": X_test[show]},
               os.path.join(args.out, "watermark_removal.png"),
               title=f"Watermark removal: PSNR {before['psnr_db']:.1f} -> {after['psnr_db']:.1f} dB, "
                     f"SSIM {before['ssim']:.2f} -> {after['ssim']:.2f} (held-out digits and marks)")
    write_metrics(args.out, {"data": source, "kind": args.kind, "opacity": args.opacity,
                             "epochs": args.epochs, "before": before, "after": after})
    print(f"figure and metrics.json written to {args.out}")


if __name__ == "__main__":
    main()
