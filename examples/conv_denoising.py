"""Denoising MNIST digits with a convolutional autoencoder, as in the Keras blog's tutorial.

The corruption is the tutorial's: Gaussian noise of factor 0.5 (x + 0.5 * eps, eps ~ N(0, 1)),
clipped to [0, 1]. The network is its too: Conv(1->32, 3) - ReLU - MaxPool(2) - Conv(32->32, 3)
- ReLU - MaxPool(2) [a 32x7x7 code], then Conv - ReLU - UpSampling(2) twice and Conv(32->1, 3) -
Sigmoid, trained with binary cross-entropy and Adam. Unlike the tutorial, which corrupts the
training set once, npae.ConvDenoisingAutoencoder draws fresh noise for every batch.

It prints where the data came from and, on a fixed noisy copy of the held-out images, how close
the noisy and the denoised images are to the clean ones (PSNR in dB, SSIM), and writes to --out:
denoising.png (noisy / denoised / clean), loss_curves.png and metrics.json.
Math: docs/06-denoising.md (the objective), docs/10-convolutions.md (the layers).

Run::

    python examples/conv_denoising.py --data-dir /path/to/mnist   # about a minute on 2 idle cores
"""

from __future__ import annotations

import os
import time

import numpy as np

import npae
from npae import plotting
from npae.metrics import psnr, ssim
from npae.noise import gaussian_noise
from npae.optim import Adam
from npae.scripts import example_parser, load_mnist_or_exit, nonnegative_float, positive_int


def quality(images: np.ndarray, clean: np.ndarray) -> dict[str, float]:
    """PSNR (dB) and SSIM of ``images`` against ``clean``, both rows (N, 784)."""
    a, b = images.reshape(-1, 28, 28), clean.reshape(-1, 28, 28)  # (N, 28, 28)
    return {"psnr_db": psnr(a, b), "ssim": ssim(a, b)}


def main(argv: list[str] | None = None) -> dict:
    parser = example_parser(__doc__, "conv_denoising", epochs=5, batch_size=128)
    parser.add_argument("--noise-factor", type=nonnegative_float, default=0.5,
                        help="sigma of the Gaussian noise")
    parser.add_argument("--channels", type=positive_int, default=32,
                        help="channels of every conv layer (default 32)")
    args = parser.parse_args(argv)

    # 1. Data, and a fixed noisy copy of the held-out images to evaluate on.
    X_train, _, X_test, _, source = load_mnist_or_exit(parser, args)
    noisy_test = gaussian_noise(X_test, args.noise_factor, np.random.default_rng(args.seed + 1), clip=(0, 1))

    # 2. The model: the Keras blog's Conv/MaxPool/UpSampling network, trained on fresh noise per batch.
    model = npae.ConvDenoisingAutoencoder((1, 28, 28), "pooling", (args.channels, args.channels), loss="bce",
                                          noise="gaussian", noise_level=args.noise_factor, clip=(0, 1),
                                          random_state=args.seed)
    print(f"model: {model}, {model.n_parameters():,} parameters; BCE, Adam lr 1e-3, batch {args.batch_size}")
    start = time.perf_counter()
    model.fit(X_train, epochs=args.epochs, batch_size=args.batch_size, optimizer=Adam(lr=1e-3), verbose=True)
    train_time = time.perf_counter() - start

    # 3. How much closer to the clean digits are the denoised ones than the noisy ones?
    denoised = model.reconstruct(noisy_test)  # (N, 784): rows in, rows out
    scores = {"noisy": quality(noisy_test, X_test), "denoised": quality(denoised, X_test)}
    print(f"trained {args.epochs} epochs in {train_time:.1f} s")
    print(f"held-out ({len(X_test)} images), against the clean digits:")
    for name, s in scores.items():
        print(f"  {name:>8}: PSNR {s['psnr_db']:6.2f} dB   SSIM {s['ssim']:.4f}")

    # 4. Pictures.
    plotting.image_grid({"noisy": noisy_test[:12], "denoised": denoised[:12], "clean": X_test[:12]},
                        os.path.join(args.out, "denoising.png"),
                        title=f"Gaussian noise {args.noise_factor}, clipped: PSNR "
                              f"{scores['noisy']['psnr_db']:.1f} -> {scores['denoised']['psnr_db']:.1f} dB")
    plotting.loss_curves({"training BCE": model.history_["loss"]}, os.path.join(args.out, "loss_curves.png"),
                         title="per-pixel binary cross-entropy (noisy in, clean target)")
    metrics = {"data": source, "noise_factor": args.noise_factor, "epochs": args.epochs,
               "parameters": model.n_parameters(), "train_seconds": train_time, "test": scores}
    path = plotting.write_metrics(args.out, metrics)
    print(f"figures and {path.name} written to {args.out}")
    return metrics


if __name__ == "__main__":
    main()
