"""Overcomplete autoencoders: how close a plain one comes to copying its input, beside a DAE and a sparse AE.

A code wider than the input (784-1000-784) lets an autoencoder copy: with a leaky-ReLU code,
h_i = x_i for i < 784 and x_hat = h[:784] is the identity exactly, since pixels are >= 0. The
script trains three autoencoders of that shape from the same initial weights (leaky-ReLU code,
linear output, MSE, Adam, no weight decay):

- AE: the reconstruction error only, nothing stops it from copying;
- DAE: it sees x + N(0, sigma^2) and must output the clean x (Gaussian noise, sigma 0.3);
- sparse AE: reconstruction + beta * (1/N) sum_nj |h_nj| (the L1 activity penalty, beta 3e-4).

On held-out images it measures how close each one is to the identity:

1. the *gain* along the training images' principal directions u_i (PCA): how much of a small
   step eps * u_i from a test image comes out, g_i = u_i . (f(x + eps u_i) - f(x - eps u_i)) / (2 eps),
   averaged over test images. The identity has g_i = 1 along every direction; a map that keeps
   some features and drops the rest has g_i near 0 along the directions it drops;
2. the reconstruction error of *noise images*, drawn from a Gaussian with the training images'
   mean and covariance (clipped to [0, 1]): no strokes, only the pixels' second-order statistics.
   An identity copies them as well as it copies digits.

Measured with the defaults (``docs/06-denoising.md``, "Overcomplete: copying or features"):

- MNIST: the AE is a near-identity along the top 100 principal directions (mean gain 0.99; they
  hold 92% of the variance), and falls off beyond, where the digits hardly vary (0.33 at the
  200th); the DAE's mean gain there is 0.47, the sparse AE's 0.53.
- Fashion-MNIST: the AE is closer to the identity than the other two (mean gain 0.83 against 0.21
  and 0.33) but not a near-identity: about 0.9 along the first 40 directions, falling after.
- Both: the AE reconstructs the noise images best, losing 6% (MNIST) and 11% (Fashion-MNIST) of
  their variance, 2.3 to 4.8 times less than the DAE and the sparse AE.

The 1,000 filters are mostly still their random initial weights in all three models after 10
epochs (cosine 0.89 to 0.94 between the trained and the initial encoder matrix), so ``filters.png``
shows the 64 units whose activation varies most over the test images: the DAE's are digit parts
and templates (garment outlines on Fashion-MNIST), the AE's look like noise, the sparse AE's
mostly noise with faint strokes.

Like every MNIST example it trains on the first 8,000 training images and evaluates on 2,000 test
images (``--n-train``, ``--n-test``); any MNIST-format folder works (Fashion-MNIST too).

Run::

    python examples/overcomplete.py --data-dir /path/to/mnist     # about 55 CPU seconds

Writes ``filters.png`` (the three models side by side), ``gain.png`` (the gain against the
principal direction), ``reconstructions.png`` (test images and noise images through each model)
and ``metrics.json`` to ``--out`` (default ``npae-out/overcomplete``).
"""

from __future__ import annotations

import os
import time

import numpy as np

import npae
from npae import plotting
from npae.metrics import reconstruction_gains
from npae.optim import Adam
from npae.scripts import example_parser, load_mnist_or_exit, positive_float, positive_int

#: The principal directions whose mean gain summarises how close a model is to the identity.
TOP = 100


def relative_error(model, X: np.ndarray, mean: np.ndarray) -> float:
    """``||f(X) - X||^2 / ||X - mean||^2``: the share of the images' variance the model fails to reproduce."""
    return float(np.sum((model.reconstruct(X) - X) ** 2, dtype=np.float64)
                 / np.sum((X - mean) ** 2, dtype=np.float64))


def cosine(A: np.ndarray, B: np.ndarray) -> float:
    """``<A, B> / (||A|| ||B||)`` of two matrices taken as vectors: 1 when training left A where B was."""
    return float(np.sum(A * B, dtype=np.float64) / (np.linalg.norm(A) * np.linalg.norm(B)))


def most_varied_filters(model, X: np.ndarray, n: int) -> np.ndarray:
    """The encoder rows (n, D) of the ``n`` units whose activation varies most over ``X``."""
    order = np.argsort(model.encode(X).std(axis=0))[::-1]  # (hidden,), the most varied unit first
    return model.encoder.layers[0].params["W"][order[:n]]  # (n, D)


def main(argv: list[str] | None = None) -> dict:
    parser = example_parser(__doc__, "overcomplete", epochs=10, batch_size=128, lr=1e-3)
    parser.add_argument("--hidden", type=positive_int, default=1000,
                        help="code width, wider than the 784 pixels (default %(default)s)")
    parser.add_argument("--sigma", type=positive_float, default=0.3,
                        help="standard deviation of the DAE's Gaussian noise (default %(default)s)")
    parser.add_argument("--beta", type=positive_float, default=3e-4,
                        help="weight of the sparse AE's L1 activity penalty (default %(default)s)")
    parser.add_argument("--n-directions", type=positive_int, default=300,
                        help="principal directions along which the gain is measured (default %(default)s)")
    args = parser.parse_args(argv)

    # 1. Data, and the principal directions of the training images.
    X_train, _, X_test, _, source = load_mnist_or_exit(parser, args)
    n_dir = min(args.n_directions, *X_train.shape)
    pca = npae.PCA(min(X_train.shape)).fit(X_train)  # every direction: the noise images need them all
    U = pca.components_[:n_dir]  # (n_dir, 784), unit rows, most variance first
    top = min(TOP, n_dir)
    print(f"{top} principal directions hold {pca.explained_variance_ratio_[:top].sum():.1%} of the training "
          f"images' variance")

    # 2. Noise images: Gaussian with the training images' mean and covariance, clipped to [0, 1].
    rng = np.random.default_rng(args.seed)
    z = rng.standard_normal((len(X_test), pca.n_components))  # (N, k)
    noise = np.clip(pca.mean_ + (z * np.sqrt(pca.explained_variance_)) @ pca.components_, 0, 1)  # (N, 784)
    noise = noise.astype(X_test.dtype)

    # 3. Three overcomplete autoencoders, one shape and one initialisation (same random_state).
    common = dict(sizes=(784, args.hidden), activation="leaky_relu", output_activation="identity",
                  loss="mse", weight_decay=0.0, random_state=args.seed)
    models = {
        "AE": npae.Autoencoder(**common),
        "DAE": npae.DenoisingAutoencoder(noise="gaussian", noise_level=args.sigma, **common),
        "sparse AE": npae.SparseAutoencoder(sparsity="l1", beta=args.beta, **common),
    }
    print(f"network: {models['AE']}; DAE sigma {args.sigma}, sparse AE L1 beta {args.beta}; "
          f"Adam lr {args.lr}, batch {args.batch_size}, {args.epochs} epochs each")
    W_init = models["AE"].encoder.layers[0].params["W"].copy()  # (hidden, 784), the same in all three
    start = time.process_time()
    for name, model in models.items():
        model.fit(X_train, epochs=args.epochs, batch_size=args.batch_size, optimizer=Adam(lr=args.lr))
        print(f"  trained {name}: loss {model.history_['loss'][-1]:.5f}")
    train_cpu = time.process_time() - start

    # 4. How close each is to the identity: gains along the principal directions, noise images.
    X_gain = X_test[:10]  # the gains are averages over these images
    results, curves = {}, {}
    for name, model in models.items():
        curves[name] = reconstruction_gains(model, X_gain, U)  # (n_dir,)
        results[name] = {
            "test_mse": float(np.mean((model.reconstruct(X_test) - X_test) ** 2)),
            "relative_error_test_images": relative_error(model, X_test, pca.mean_),
            "relative_error_noise_images": relative_error(model, noise, pca.mean_),
            f"mean_gain_top_{top}": float(curves[name][:top].mean()),
            "encoder_cosine_to_initial": cosine(model.encoder.layers[0].params["W"], W_init),
            "gain_at_direction": {str(i): float(curves[name][i - 1]) for i in (1, 10, 50, 100, 200, 300)
                                  if i <= n_dir},
        }

    # 5. Figures: filters side by side, the gain curves, test and noise images through each model.
    plt = plotting.pyplot()  # matplotlib's pyplot, headless when there is no display
    fig, axes = plt.subplots(1, len(models), figsize=(5 * len(models), 5.4))
    for ax, (name, model) in zip(axes, models.items(), strict=True):
        W = most_varied_filters(model, X_test, 64)  # (64, 784)
        ax.imshow(plotting.tile_images(W.reshape(-1, 28, 28), normalize="each"), cmap="gray")
        ax.set_title(f"{name}: the 64 most varied of {args.hidden} units")
        ax.axis("off")
    plotting.save_figure(fig, os.path.join(args.out, "filters.png"))
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, g in curves.items():
        ax.plot(np.arange(1, n_dir + 1), g, label=name)
    ax.axhline(1.0, color="grey", linestyle="--", label="identity")
    ax.axvline(top, color="grey", linestyle=":")
    ax.set_xscale("log")
    ax.set_xlabel("principal direction i of the training images (most variance first)")
    ax.set_ylabel("gain u_i . df/dx u_i")
    ax.set_title("how much of a step along u_i comes out")
    ax.grid(alpha=0.3)
    ax.legend()
    plotting.save_figure(fig, os.path.join(args.out, "gain.png"))
    rows = {"test image": X_test[:10]}
    rows.update({name: m.reconstruct(X_test[:10]) for name, m in models.items()})
    rows["noise image"] = noise[:10]
    rows.update({f"{name} ": m.reconstruct(noise[:10]) for name, m in models.items()})  # labels must differ
    plotting.image_grid(rows, os.path.join(args.out, "reconstructions.png"),
                        title="test images and noise images (same mean and covariance) through each model")

    # 6. The table.
    print(f"\n{'model':10s} {'test MSE':>9s} {'rel. error: test':>17s} {'noise images':>13s} "
          f"{'mean gain, top ' + str(top):>19s} {'cos(W, W_init)':>15s}")
    for name, r in results.items():
        print(f"{name:10s} {r['test_mse']:9.5f} {r['relative_error_test_images']:17.3f} "
              f"{r['relative_error_noise_images']:13.3f} {r[f'mean_gain_top_{top}']:19.3f} "
              f"{r['encoder_cosine_to_initial']:15.3f}")
    print(f"(the identity: relative errors 0, gain 1); training {train_cpu:.0f} CPU seconds; "
          f"figures in {args.out}")
    metrics = {"data": source, "n_train": len(X_train), "n_test": len(X_test), "hidden": args.hidden,
               "epochs": args.epochs, "sigma": args.sigma, "beta": args.beta, "top": top,
               "variance_in_top": float(pca.explained_variance_ratio_[:top].sum()), "results": results,
               "train_cpu_seconds": train_cpu}
    plotting.write_metrics(args.out, metrics)
    return metrics


if __name__ == "__main__":
    main()
