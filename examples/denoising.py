"""Denoising autoencoders on MNIST: a plain autoencoder vs denoising autoencoders, same network.

The plain autoencoder learns to copy clean images. Each denoising autoencoder (Vincent et al.
2008) sees a corrupted image, with fresh noise every batch, and is trained to output the clean
one. On held-out images corrupted with the same noise we compare, against the clean images:

- the noisy input itself,
- the plain autoencoder's reconstruction of the noisy input,
- the denoising autoencoder's output,

by PSNR (dB, higher is better) and SSIM (1 is a perfect match), for additive Gaussian noise
(clipped to [0, 1]) and masking noise (a fraction of the pixels set to 0) at two levels each.
The Gaussian DAEs are also scored at noise levels they were not trained on: PSNR against
sigma from 0.05 to 0.8, one curve per model.

The network is sized for more than digits: 784-512-256-512-784, trained for 630 updates
(10 epochs of 8,000 images; more epochs on a smaller folder, fewer on a larger one). With a 64-number
code and 5 epochs (the old defaults) the DAE beat the noisy input on digits, but on letters a
64-number code cannot carry a character's detail, and at masking 0.25 the DAE's output was
worse than the noisy input it was given. A DAE needs no narrow code to learn something: the
noise already stops it from copying. Like every MNIST example it trains on the first 8,000
training images and evaluates on the first 2,000 test images (--n-train all, --n-test all:
every one); a --data-dir holding only the test set gives its first 8,000 images to train and
the last 2,000 to evaluate. It prints which data it read.

Figures written to --out: one picture per noise setting with rows noisy / plain AE / DAE /
clean, the training curves and psnr_vs_sigma.png; the table and the curves go to
metrics.json. Math: docs/06-denoising.md.

Run::

    python examples/denoising.py --data-dir /path/to/mnist     # about a minute on 2 cores
"""

from __future__ import annotations

import os
import time

import numpy as np

import npae
from npae import plotting
from npae.metrics import psnr, ssim
from npae.noise import corrupt
from npae.optim import Adam
from npae.scripts import epochs_for, example_parser, load_mnist_or_exit, positive_int

#: (noise, level) pairs: Gaussian sigma in pixel units, masking fraction of pixels zeroed.
SETTINGS = [("gaussian", 0.3), ("gaussian", 0.5), ("masking", 0.25), ("masking", 0.5)]
#: Test-time Gaussian sigmas of the PSNR-against-sigma curve.
SIGMAS = [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8]


def quality(clean: np.ndarray, images: np.ndarray) -> dict[str, float]:
    """PSNR and SSIM of a batch of rows (N, 784) against the clean rows, as 28x28 images."""
    a, b = clean.reshape(-1, 28, 28), images.reshape(-1, 28, 28)  # (N, 28, 28)
    return {"psnr": psnr(a, b), "ssim": ssim(a, b)}


def main(argv: list[str] | None = None) -> dict:
    parser = example_parser(__doc__, "denoising", steps=630, batch_size=128, lr=2e-3)
    parser.add_argument("--hidden", type=positive_int, default=512, help="hidden width (default 512)")
    parser.add_argument("--code", type=positive_int, default=256, help="code size (default 256)")
    args = parser.parse_args(argv)

    # 1. Data: pixels in [0, 1].
    X_train, _, X_test, _, source = load_mnist_or_exit(parser, args)
    epochs = epochs_for(args.steps, len(X_train), args.batch_size)  # 10 on 8,000 images

    # 2. The same network for every model: 784-hidden-code-hidden-784, ReLU, sigmoid output, BCE.
    common = dict(sizes=(784, args.hidden, args.code), activation="relu", output_activation="sigmoid",
                  loss="bce", random_state=args.seed)
    models = {"plain": npae.Autoencoder(**common)}
    for noise, level in SETTINGS:
        models[f"{noise} {level}"] = npae.DenoisingAutoencoder(noise=noise, noise_level=level,
                                                               clip=(0.0, 1.0), **common)
    print(f"network: {models['plain']}, {models['plain'].n_parameters():,} parameters; "
          f"Adam lr {args.lr}, batch {args.batch_size}, {epochs} epochs each ({args.steps} updates)")
    start = time.perf_counter()
    for name, model in models.items():
        model.fit(X_train, epochs=epochs, batch_size=args.batch_size, optimizer=Adam(lr=args.lr))
        print(f"  trained {name:15s} final training loss {model.history_['loss'][-1]:.4f}")
    train_time = time.perf_counter() - start

    # 3. Evaluation: the same noisy test set for the plain AE and the DAE of each setting.
    plain = models["plain"]
    results = {"clean input, plain AE": quality(X_test, plain.reconstruct(X_test))}
    rows = []
    for i, (noise, level) in enumerate(SETTINGS):
        name = f"{noise} {level}"
        noisy = corrupt(X_test, noise, level, np.random.default_rng(args.seed + 1 + i), clip=(0.0, 1.0))
        outputs = {"noisy": noisy, "plain AE": plain.reconstruct(noisy),
                   "DAE": models[name].reconstruct(noisy)}
        results[name] = {k: quality(X_test, v) for k, v in outputs.items()}
        rows.append((name, results[name]))
        plotting.image_grid({**{k: v[:12] for k, v in outputs.items()}, "clean": X_test[:12]},
                            os.path.join(args.out, f"denoise_{noise}_{level}.png"),
                            title=f"{noise} noise, level {level}: noisy / plain AE / DAE / clean")
    plotting.loss_curves({name: m.history_["loss"] for name, m in models.items()},
                         os.path.join(args.out, "training_loss.png"), title="training loss (BCE per pixel)")
    # Noise levels the models were not trained on: PSNR of each output against sigma.
    curve_models = {"plain AE": plain, **{f"DAE, trained at {level}": models[f"gaussian {level}"]
                                          for noise, level in SETTINGS if noise == "gaussian"}}
    curves = {"noisy input": [], **{name: [] for name in curve_models}}
    for j, sigma in enumerate(SIGMAS):
        rng = np.random.default_rng(args.seed + 100 + j)
        noisy = corrupt(X_test, "gaussian", sigma, rng, clip=(0.0, 1.0))
        curves["noisy input"].append(quality(X_test, noisy)["psnr"])
        for name, model in curve_models.items():
            curves[name].append(quality(X_test, model.reconstruct(noisy))["psnr"])
    plt = plotting.pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, values in curves.items():
        ax.plot(SIGMAS, values, marker="o", ms=3, label=name, ls="--" if name == "noisy input" else "-")
    ax.set_xlabel("Gaussian noise sigma at test time")
    ax.set_ylabel("PSNR against the clean images (dB)")
    ax.set_title("denoising at noise levels not trained on")
    ax.legend()
    plotting.save_figure(fig, os.path.join(args.out, "psnr_vs_sigma.png"))

    # 4. The table.
    print(f"\nplain AE on clean test images: PSNR {results['clean input, plain AE']['psnr']:.2f} dB, "
          f"SSIM {results['clean input, plain AE']['ssim']:.3f}")
    print(f"\n{'noise':16s} {'PSNR noisy':>10s} {'plain AE':>9s} {'DAE':>7s}   {'SSIM noisy':>10s} "
          f"{'plain AE':>9s} {'DAE':>7s}")
    for name, r in rows:
        print(f"{name:16s} {r['noisy']['psnr']:10.2f} {r['plain AE']['psnr']:9.2f} {r['DAE']['psnr']:7.2f}   "
              f"{r['noisy']['ssim']:10.3f} {r['plain AE']['ssim']:9.3f} {r['DAE']['ssim']:7.3f}")
    wins = all(r["DAE"]["psnr"] > max(r["noisy"]["psnr"], r["plain AE"]["psnr"]) for _, r in rows)
    print(f"\nDAE output has the highest PSNR at every setting: {wins}")
    print(f"training time {train_time:.1f}s for {len(models)} models; figures in {args.out}")
    metrics = {"data": source, "n_train": len(X_train), "n_test": len(X_test), "steps": args.steps,
               "epochs": epochs, "hidden": args.hidden, "code": args.code, "results": results,
               "dae_best_psnr_everywhere": wins,
               "psnr_vs_sigma": {"sigma": SIGMAS, **curves}, "train_seconds": train_time}
    plotting.write_metrics(args.out, metrics)
    return metrics


if __name__ == "__main__":
    main()
