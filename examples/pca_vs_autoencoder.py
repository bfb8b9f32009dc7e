"""A linear autoencoder learns PCA's subspace; a non-linear one beats PCA's error.

Baldi and Hornik (1989): an autoencoder with linear encoder and decoder, trained on the
squared error, has at its optimum a decoder whose columns span the top-k principal subspace
(the same one PCA finds from the SVD), though not the principal axes themselves. This script:

1. fits PCA with k components (``npae.PCA``, from ``numpy.linalg.svd``) and reports its MSE;
2. trains a linear autoencoder 784-k-784 (identity activations, MSE) with Adam and reports its
   MSE and the principal angles between its subspaces and PCA's (all near zero);
3. trains a non-linear deep autoencoder 784-256-k-256-784 with the same code size k, which
   reconstructs better than PCA;
4. plots test error against k: PCA for every k, the deep autoencoder for a few.

Why a little weight decay on the linear AE: pixels that are 0 in every image (MNIST's border)
give their encoder weights no gradient, so without it the encoder rows keep random components
there and only the decoder's columns line up with PCA. Derivation:
``docs/12-pca-and-linear-autoencoders.md``.

Run::

    python examples/pca_vs_autoencoder.py --data-dir /path/to/mnist   # or set NPAE_DATA_DIR

Writes ``error_vs_k.png``, ``principal_angles.png``, ``reconstructions.png`` and
``metrics.json`` to ``--out`` (default ``npae-out/pca_vs_autoencoder``).
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from npae import PCA, Autoencoder, plotting
from npae.optim import Adam
from npae.pca import principal_angles
from npae.plotting import image_grid, save_figure, write_metrics
from npae.scripts import code_size, example_parser, load_mnist_or_exit, positive_int

plt = plotting.pyplot()  # matplotlib's pyplot, headless when there is no display


def main(argv: list[str] | None = None) -> None:
    parser = example_parser(__doc__, "pca_vs_autoencoder",
                            formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--k", type=code_size, default=32, help="code size / number of principal components")
    parser.add_argument("--linear-epochs", type=positive_int, default=120,
                        help="epochs of the linear AE (4 stages of lr)")
    parser.add_argument("--deep-epochs", type=positive_int, default=30, help="epochs of each deep AE")
    parser.add_argument("--deep-ks", type=code_size, nargs="*", default=[2, 4, 8, 16],
                        help="extra code sizes for the deep AE curve")
    args = parser.parse_args(argv)
    k_max = max([args.k, 64] + args.deep_ks)  # PCA fits k_max directions: it needs as many images
    if args.n_train is not None and args.n_train < k_max:
        parser.error(f"--n-train {args.n_train} is fewer than the {k_max} principal directions fitted "
                     f"(the largest of --k, --deep-ks and 64)")
    X_train, _, X_test, _, source = load_mnist_or_exit(parser, args)
    if len(X_train) < k_max:
        parser.error(f"{len(X_train)} training images are fewer than the {k_max} principal directions fitted")
    k = args.k

    # 1. PCA: centre, SVD, keep the top-k right singular vectors. One fit serves every smaller k.
    pca_full = PCA(k_max).fit(X_train)
    pca_mse_by_k = {j: pca_full.truncated(j).score(X_test) for j in range(1, k_max + 1)}  # test MSE per k
    pca = pca_full.truncated(k)
    pca_mse = pca_mse_by_k[k]
    print(f"PCA, k={k}: test MSE {pca_mse:.5f} (train {pca.score(X_train):.5f}), "
          f"{pca.explained_variance_ratio_.sum():.1%} of the variance")

    # 2. The linear autoencoder: x_hat = W_dec (W_enc x + b_enc) + b_dec, trained on the MSE.
    start = time.perf_counter()
    linear = Autoencoder((784, k), activation="identity", output_activation="identity", loss="mse",
                         weight_decay=1e-6, random_state=args.seed)
    for lr in (3e-3, 1e-3, 3e-4, 1e-4):  # a falling learning rate lets Adam settle into the minimum
        linear.fit(X_train, epochs=max(1, args.linear_epochs // 4), batch_size=128, optimizer=Adam(lr))
    linear_mse = linear.score(X_test)
    W_enc = linear.encoder.layers[0].params["W"]  # (k, 784)
    W_dec = linear.decoder.layers[0].params["W"]  # (784, k)
    V = pca.components_.T  # (784, k): PCA's orthonormal basis
    deg_dec = np.degrees(principal_angles(W_dec, V))
    deg_enc = np.degrees(principal_angles(W_enc.T, V))
    print(f"linear AE 784-{k}-784: test MSE {linear_mse:.5f} ({time.perf_counter() - start:.0f}s)")
    print(f"principal angles to PCA's subspace, degrees: decoder columns median {np.median(deg_dec):.3f}, "
          f"max {deg_dec.max():.3f}; encoder rows median {np.median(deg_enc):.3f}, max {deg_enc.max():.3f}")
    # The individual axes are NOT recovered: a linear AE is free to rotate inside the subspace.
    cos_axes = np.abs(pca.components_ @ (W_dec / np.linalg.norm(W_dec, axis=0)))  # (k, k)
    print(f"best |cos| between each PCA axis and a decoder column: median {np.median(cos_axes.max(1)):.2f} "
          "(1 would mean the axes themselves were learnt)")

    # 3. A non-linear deep autoencoder with the same code size.
    deep_mse = {}
    deep_models = {}
    for kk in sorted(set(args.deep_ks + [k])):
        start = time.perf_counter()
        deep = Autoencoder((784, 256, kk), activation="relu", code_activation="identity",
                           output_activation="sigmoid", loss="mse", random_state=args.seed)
        deep.fit(X_train, epochs=args.deep_epochs, batch_size=64, optimizer=Adam(1e-3))
        deep_mse[kk] = deep.score(X_test)
        deep_models[kk] = deep
        print(f"deep AE 784-256-{kk}-256-784: test MSE {deep_mse[kk]:.5f} "
              f"vs PCA {pca_mse_by_k[kk]:.5f} ({time.perf_counter() - start:.0f}s)")

    # 4. Figures.
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(list(pca_mse_by_k), list(pca_mse_by_k.values()), label="PCA (= optimal linear AE)")
    ax.plot([k], [linear_mse], "s", label=f"linear AE, k={k}")
    ax.plot(list(deep_mse), list(deep_mse.values()), "o-", label="deep AE 784-256-k")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("code size k")
    ax.set_ylabel("test MSE per pixel")
    ax.set_title("Reconstruction error against code size (MNIST)")
    ax.grid(alpha=0.3)
    ax.legend()
    save_figure(fig, os.path.join(args.out, "error_vs_k.png"))

    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(np.arange(1, k + 1), deg_dec, "o-", ms=3, label="decoder columns")
    ax.plot(np.arange(1, k + 1), deg_enc, "s-", ms=3, label="encoder rows")
    ax.set_xlabel("index of the principal angle")
    ax.set_ylabel("angle to PCA's subspace (degrees)")
    ax.set_title(f"Linear AE vs PCA, k={k}: principal angles")
    ax.grid(alpha=0.3)
    ax.legend()
    save_figure(fig, os.path.join(args.out, "principal_angles.png"))

    show = X_test[:12]
    image_grid({"input": show, f"PCA k={k}": pca.reconstruct(show),
                f"linear AE k={k}": linear.reconstruct(show),
                f"deep AE k={k}": deep_models[k].reconstruct(show)},
               os.path.join(args.out, "reconstructions.png"))

    write_metrics(args.out, {
        "data": source, "k": k, "pca_test_mse": pca_mse, "linear_ae_test_mse": linear_mse,
        "principal_angles_deg_decoder": {"median": np.median(deg_dec), "max": deg_dec.max()},
        "principal_angles_deg_encoder": {"median": np.median(deg_enc), "max": deg_enc.max()},
        "deep_ae_test_mse": {str(kk): v for kk, v in deep_mse.items()},
        "pca_test_mse_by_k": {str(kk): pca_mse_by_k[kk] for kk in deep_mse},
    })
    print(f"figures and metrics.json written to {args.out}")


if __name__ == "__main__":
    main()
