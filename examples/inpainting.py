"""Inpainting MNIST digits with a masking-noise denoising autoencoder.

A denoising autoencoder trained to fill in missing pixels, its output replacing only the
missing ones (the observed pixels are kept), and the error measured on the missing pixels
only, for

- random masks (each pixel missing with probability 0.25, 0.5, 0.75),
- block masks (one square hole of 8, 12 or 16 pixels per image),

against three ways of filling the same holes: zeros (the masked input itself), the mean
training image, and a plain autoencoder of the same size trained on clean images.

The DAE is trained on the holes it will be asked to fill: every training batch, fresh, half
of the images get a random mask (a fraction drawn from [0.25, 0.75]) and half one square hole
(a side drawn from 8 to 16). A DAE trained on random masks alone (--train-holes random) fills
scattered pixels well (each has observed neighbours) but has never had to guess a whole region:
even on digits it loses to the mean image on the larger square holes (docs/06-denoising.md
gives the figures). What the model learns is what it is trained to undo. Like every
MNIST example it trains on the first 8,000 training images and evaluates on the first 2,000 test
images (--n-train all, --n-test all: every one); a --data-dir holding only the test set gives
its first 8,000 images to train and the last 2,000 to evaluate. It prints which data it read.

Figures written to --out: masked / plain AE / DAE / clean rows for a random and a block mask
(missing pixels drawn in grey); the table goes to metrics.json. Math: docs/06-denoising.md.

Run::

    python examples/inpainting.py --data-dir /path/to/mnist     # about a minute on 2 cores
"""

from __future__ import annotations

import os
import time

import numpy as np

import npae
from npae import plotting
from npae.metrics import mean_squared_error
from npae.noise import block_mask, random_mask
from npae.optim import Adam
from npae.scripts import epochs_for, example_parser, load_mnist_or_exit, positive_int

#: The training holes: random masks with a fraction in this range, square holes with a side in this range.
FRACTIONS, BLOCKS = (0.25, 0.75), (8, 16)


class InpaintingDAE(npae.DenoisingAutoencoder):
    """A denoising autoencoder whose corruption is a hole: random pixels or one square, set to 0."""

    #: The share of the training rows that get a square hole (the others get a random mask).
    square_share = 0.5

    def _corrupt(self, X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """``X`` (N, 784): a ``square_share`` of its rows get one square hole, the rest a random mask."""
        n = len(X)
        scattered = random_mask(X.shape, rng.uniform(*FRACTIONS), rng)  # (N, 784), True: missing
        square = block_mask(n, (28, 28), int(rng.integers(BLOCKS[0], BLOCKS[1] + 1)), rng)  # (N, 784)
        mask = np.where(rng.random((n, 1)) < 1 - self.square_share, scattered, square)  # one kind per row
        return np.where(mask, 0, X).astype(X.dtype)


def main(argv: list[str] | None = None) -> dict:
    parser = example_parser(__doc__, "inpainting", steps=630, batch_size=128, lr=2e-3)
    parser.add_argument("--hidden", type=positive_int, default=512, help="hidden width (default 512)")
    parser.add_argument("--code", type=positive_int, default=256, help="code size (default 256)")
    parser.add_argument("--train-holes", choices=("both", "random"), default="both",
                        help="the DAE's training holes: random masks and square holes (default), or "
                             "random masks alone")
    args = parser.parse_args(argv)

    # 1. Data: pixels in [0, 1].
    X_train, _, X_test, _, source = load_mnist_or_exit(parser, args)
    epochs = epochs_for(args.steps, len(X_train), args.batch_size)  # 10 on 8,000 images

    # 2. A DAE trained on holes and a plain AE of the same size.
    common = dict(sizes=(784, args.hidden, args.code), activation="relu", output_activation="sigmoid",
                  loss="bce", random_state=args.seed)
    dae = InpaintingDAE(**common)
    dae.square_share = 0.5 if args.train_holes == "both" else 0.0
    ae = npae.Autoencoder(**common)
    print(f"network: {dae}; Adam lr {args.lr}, batch {args.batch_size}, "
          f"{epochs} epochs ({args.steps} updates)")
    start = time.perf_counter()
    for name, model in (("DAE", dae), ("plain AE", ae)):
        model.fit(X_train, epochs=epochs, batch_size=args.batch_size, optimizer=Adam(lr=args.lr))
        print(f"  trained {name}: final training loss {model.history_['loss'][-1]:.4f}")
    train_time = time.perf_counter() - start
    mean_image = X_train.mean(axis=0)  # (784,): the "average digit" baseline

    # 3. Fill the holes; measure the error on the missing pixels only.
    rng = np.random.default_rng(args.seed + 1)
    n = len(X_test)
    masks = {f"random {f}": random_mask(X_test.shape, f, rng) for f in (0.25, 0.5, 0.75)}
    masks.update({f"block {b}x{b}": block_mask(n, (28, 28), b, rng) for b in (8, 12, 16)})
    results, pictures = {}, {}
    for name, mask in masks.items():
        observed = np.where(mask, 0.0, X_test).astype(np.float32)  # (N, 784): missing pixels are 0
        fills = {"zeros": observed,
                 "mean image": np.broadcast_to(mean_image, X_test.shape),
                 "plain AE": ae.reconstruct(observed),
                 "DAE": dae.reconstruct(observed)}
        results[name] = {}
        for method, fill in fills.items():
            inpainted = np.where(mask, fill, X_test)  # keep what was observed
            mse = mean_squared_error(X_test, inpainted, mask)  # over the missing pixels only
            # The same error in dB (data range 1): 10 log10(1 / MSE). Per-image PSNR would be
            # infinite for a hole that falls on blank background and is filled with zeros.
            results[name][method] = {"mse_missing": mse, "psnr_missing": 10 * np.log10(1.0 / mse)}
            if name in ("random 0.5", "block 12x12"):
                pictures.setdefault(name, {"masked": np.where(mask, 0.5, X_test)[:12]})  # holes in grey
                if method in ("plain AE", "DAE"):
                    pictures[name][method] = inpainted[:12]
    for name, rows in pictures.items():
        rows["clean"] = X_test[:12]
        plotting.image_grid(rows, os.path.join(args.out, f"inpaint_{name.split()[0]}.png"),
                            title=f"{name} mask: masked (holes grey) / plain AE / DAE / clean")

    # 4. The table: MSE on the missing pixels (lower is better) and the same in dB (higher is better).
    methods = list(next(iter(results.values())))
    print("\nMSE on the missing pixels only (as PSNR, dB)")
    print(f"{'mask':13s}" + "".join(f"{m:>22s}" for m in methods))
    for name, r in results.items():
        cells = (f"{r[m]['mse_missing']:13.4f} ({r[m]['psnr_missing']:5.2f})" for m in methods)
        print(f"{name:13s}" + "".join(cells))
    best = {name: min(r, key=lambda m: r[m]["mse_missing"]) for name, r in results.items()}
    print(f"\nlowest error on the missing pixels: {best}")
    print(f"training time {train_time:.1f}s for 2 models; figures in {args.out}")
    metrics = {"data": source, "n_train": len(X_train), "n_test": n, "steps": args.steps, "epochs": epochs,
               "hidden": args.hidden, "code": args.code, "train_holes": args.train_holes,
               "results": results, "best": best,
               "dae_best_everywhere": all(b == "DAE" for b in best.values()), "train_seconds": train_time}
    plotting.write_metrics(args.out, metrics)
    return metrics


if __name__ == "__main__":
    main()
