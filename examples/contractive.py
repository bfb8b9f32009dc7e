"""Contractive vs denoising vs plain autoencoder on MNIST: how much each encoder contracts its input.

Three autoencoders with the same network (Rifai et al. 2011's setting: one sigmoid hidden
layer, here 784-128-784 with a sigmoid output and BCE):

- AE: reconstruction only;
- DAE: reconstruction of clean digits from Gaussian-corrupted ones (sigma 0.3);
- CAE: reconstruction + lam * mean ||dh/dx||_F^2, the explicit Jacobian penalty.

On held-out digits it reports the reconstruction error, the mean Frobenius norm of the
encoder Jacobian ||dh/dx||_F (smaller = locally more invariant), the fraction of saturated
hidden activations (within 0.05 of 0 or 1: the CAE saturates its units to flatten h), and
the contraction curve of Rifai et al.: the mean of ||f(x + r u) - f(x)|| / r over test points
x and random unit directions u, as a function of the input-space distance r. Like every MNIST
example it trains on the first 8,000 training images and evaluates on the first 2,000 test
images (--n-train all, --n-test all: every one); a --data-dir holding only the test set gives
its first 8,000 images to train and the last 2,000 to evaluate. It prints which data it read.

Figures written to --out: the contraction curves, test reconstructions of the three models
and their encoder filters; numbers in metrics.json. Math: docs/07-contractive.md.

Run::

    python examples/contractive.py --data-dir /path/to/mnist     # about a minute on 2 cores
"""

from __future__ import annotations

import os
import time

import numpy as np

import npae
from npae import plotting
from npae.metrics import (
    binary_cross_entropy,
    contraction_ratio,
    mean_jacobian_norm,
    mean_squared_error,
    saturation_fraction,
)
from npae.optim import Adam
from npae.scripts import example_parser, load_mnist_or_exit, nonnegative_float, positive_int


def main(argv: list[str] | None = None) -> dict:
    parser = example_parser(__doc__, "contractive", epochs=5, batch_size=128, lr=2e-3)
    parser.add_argument("--hidden", type=positive_int, default=128, help="hidden (code) width (default 128)")
    parser.add_argument("--lam", type=nonnegative_float, default=0.01,
                        help="weight of the contractive penalty")
    parser.add_argument("--sigma", type=nonnegative_float, default=0.3, help="Gaussian noise of the DAE")
    args = parser.parse_args(argv)

    # 1. Data: pixels in [0, 1].
    X_train, _, X_test, _, source = load_mnist_or_exit(parser, args)

    # 2. Three models, one architecture, one initialisation (same random_state).
    common = dict(sizes=(784, args.hidden), activation="sigmoid", output_activation="sigmoid", loss="bce",
                  random_state=args.seed)
    models = {
        "AE": npae.Autoencoder(**common),
        "DAE": npae.DenoisingAutoencoder(noise="gaussian", noise_level=args.sigma, clip=(0.0, 1.0), **common),
        "CAE": npae.ContractiveAutoencoder(lam=args.lam, **common),
    }
    print(f"network: {models['AE']}; DAE sigma {args.sigma}, CAE lam {args.lam}; Adam lr {args.lr}, "
          f"batch {args.batch_size}, {args.epochs} epochs each")
    start = time.perf_counter()
    for name, model in models.items():
        model.fit(X_train, epochs=args.epochs, batch_size=args.batch_size, optimizer=Adam(lr=args.lr))
        terms = "  ".join(f"{k} {v[-1]:.4f}" for k, v in model.history_.items() if k not in ("time", "lr"))
        print(f"  trained {name}: {terms}")
    train_time = time.perf_counter() - start

    # 3. Sensitivity of each encoder on the test digits.
    distances = np.geomspace(0.1, 100.0, 13)  # input-space distances r (a digit has norm about 9)
    results, curves = {}, {}
    for i, (name, model) in enumerate(models.items()):
        X_hat = model.reconstruct(X_test)
        H = model.encode(X_test)  # (N, hidden)
        curves[name] = contraction_ratio(model, X_test, distances, np.random.default_rng(args.seed + 1 + i))
        results[name] = {"bce": binary_cross_entropy(X_test, np.clip(X_hat, 0, 1)),
                         "mse": mean_squared_error(X_test, X_hat),
                         "mean_jacobian_norm": mean_jacobian_norm(model, X_test, batch_size=64),
                         "saturated_fraction": saturation_fraction(H, 0.0, 1.0, margin=0.05),
                         "contraction_ratio": dict(zip([f"{r:.3g}" for r in distances], curves[name],
                                                       strict=True))}

    # 4. Figures: the contraction curves, reconstructions, filters.
    plt = plotting.pyplot()  # matplotlib's pyplot, headless when there is no display
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, ratios in curves.items():
        ax.plot(distances, ratios, marker="o", label=name)
    ax.set_xscale("log")
    ax.set_xlabel("distance r = ||x1 - x2|| in input space")
    ax.set_ylabel("||f(x1) - f(x2)|| / ||x1 - x2||")
    ax.set_title("contraction ratio (lower = more contractive)")
    ax.grid(alpha=0.3)
    ax.legend()
    plotting.save_figure(fig, os.path.join(args.out, "contraction_curves.png"))
    rows = {"clean": X_test[:12], **{name: m.reconstruct(X_test[:12]) for name, m in models.items()}}
    plotting.image_grid(rows, os.path.join(args.out, "reconstructions.png"), title="test digits and models")
    for name, model in models.items():
        W = model.encoder.layers[0].params["W"]  # (hidden, 784): one filter per row
        plotting.filter_mosaic(W[:64], os.path.join(args.out, f"filters_{name}.png"), shape=(28, 28),
                               title=f"{name}: first 64 encoder filters")

    # 5. The table.
    print(f"\n{'model':6s} {'test BCE':>9s} {'test MSE':>9s} {'mean ||J||_F':>13s} {'saturated':>10s} "
          f"{'ratio r=0.1':>12s} {'r=' + format(distances[-1], '.0f'):>8s}")
    for name, r in results.items():
        print(f"{name:6s} {r['bce']:9.4f} {r['mse']:9.4f} {r['mean_jacobian_norm']:13.3f} "
              f"{r['saturated_fraction']:10.3f} {curves[name][0]:12.4f} {curves[name][-1]:8.4f}")
    smallest = min(results, key=lambda k: results[k]["mean_jacobian_norm"])
    print(f"\nsmallest mean Jacobian norm: {smallest}")
    print(f"training time {train_time:.1f}s for 3 models; figures in {args.out}")
    metrics = {"data": source, "n_train": len(X_train), "n_test": len(X_test), "epochs": args.epochs,
               "lam": args.lam, "sigma": args.sigma, "results": results, "smallest_jacobian_norm": smallest,
               "train_seconds": train_time}
    plotting.write_metrics(args.out, metrics)
    return metrics


if __name__ == "__main__":
    main()
