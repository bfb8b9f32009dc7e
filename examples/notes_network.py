"""The Keras blog's "simplest possible autoencoder", 784-32-784, trained and measured against PCA.

The one piece of code in the lecture notes this library was built from is the Keras blog's first
network: Dense(32, ReLU) then Dense(784, sigmoid), trained with binary cross-entropy and Adam. It
is npae's default ``npae.Autoencoder()`` (sizes (784, 32), ReLU, sigmoid output) with
``loss="bce"``. The blog trains it for 50 epochs of MNIST's 60,000 training images in batches of
256, 11,750 updates; this script makes the same number of updates (``--steps``) with Adam at
Keras's default learning rate 1e-3, on the first 8,000 training images (``--n-train``), so the
network sees each image about 370 times instead of 50. Two things differ from Keras by design:
npae starts ReLU layers from He's initialisation where Keras uses Glorot's, and it computes the
BCE from the logits (``docs/02-losses.md``) where Keras clips probabilities.

On the held-out images it reports, per pixel, the binary cross-entropy (and the lowest BCE any
model could reach, the entropy of the grey levels themselves), the MSE, the PSNR (dB) and the SSIM
(``npae.metrics``), for the network and for two baselines a reader can place them against:

- PCA with as many components as the code has numbers (``npae.PCA``: the best *linear*
  autoencoder of that size, ``docs/12-pca-and-linear-autoencoders.md``), its reconstructions
  clipped to [0, 1] as pixel values must be;
- the mean training image, the same output for every input (what a network that learnt nothing
  about the input would give).

It writes reconstructions.png (held-out images, the network's reconstructions, PCA's), the
training curves (training_loss.png) and metrics.json to --out. It also counts the pixels that hold
one value in every training image (MNIST's border), where a decoder with a variance of its own per
pixel would make the likelihood unbounded. Page: docs/18-what-the-notes-claim.md.

Run::

    python examples/notes_network.py --data-dir /path/to/mnist     # about 30 s of CPU time
"""

from __future__ import annotations

import os
import time

import numpy as np

import npae
from npae import plotting
from npae.metrics import binary_cross_entropy, mean_squared_error, psnr, ssim
from npae.optim import Adam
from npae.scripts import code_size, epochs_for, example_parser, load_mnist_or_exit

#: The updates of the Keras blog's run: 50 epochs of 60,000 images in batches of 256 (235 per epoch).
KERAS_UPDATES = 50 * 235


def quality(X: np.ndarray, R: np.ndarray) -> dict[str, float]:
    """Per-pixel BCE and MSE, PSNR (dB) and SSIM of reconstructions ``R`` of the rows ``X`` (N, 784)."""
    images, recon = X.reshape(-1, 28, 28), R.reshape(-1, 28, 28)  # (N, 28, 28)
    return {"bce": binary_cross_entropy(X, R), "mse": mean_squared_error(X, R),
            "psnr_db": psnr(images, recon), "ssim": ssim(images, recon)}


def main(argv: list[str] | None = None) -> dict:
    parser = example_parser(__doc__, "notes_network", steps=KERAS_UPDATES, batch_size=256, lr=1e-3)
    parser.add_argument("--code", type=code_size, default=32,
                        help="code size of the network and number of PCA components (default 32)")
    args = parser.parse_args(argv)
    if args.n_train is not None and args.n_train < args.code:
        parser.error(f"--n-train {args.n_train} is fewer than the {args.code} principal directions PCA fits")

    # 1. Data: rows of 784 pixels in [0, 1].
    X_train, _, X_test, _, source = load_mnist_or_exit(parser, args)
    if len(X_train) < args.code:
        parser.error(f"{len(X_train)} training images are fewer than the {args.code} principal directions "
                     f"PCA fits")
    epochs = epochs_for(args.steps, len(X_train), args.batch_size)  # 367 on 8,000 images

    # 2. The notes' network: npae's default Autoencoder, 784-32-784, with the blog's loss.
    model = npae.Autoencoder(sizes=(784, args.code), activation="relu", output_activation="sigmoid",
                             loss="bce", random_state=args.seed)
    updates = epochs * -(-len(X_train) // args.batch_size)  # whole epochs of ceil(N / batch) batches
    print(f"network: {model}, {model.n_parameters():,} parameters; Adam lr {args.lr}, "
          f"batch {args.batch_size}, {epochs} epochs ({updates:,} updates)")
    start = time.perf_counter()
    model.fit(X_train, epochs=epochs, batch_size=args.batch_size, optimizer=Adam(lr=args.lr),
              validation_data=X_test)
    train_time = time.perf_counter() - start

    # 3. The baselines: PCA with as many components as the code, and the mean training image.
    pca = npae.PCA(args.code).fit(X_train)
    outputs = {"network": model.reconstruct(X_test),  # (N, 784)
               f"PCA {args.code}": np.clip(pca.reconstruct(X_test), 0.0, 1.0),  # (N, 784)
               "mean image": np.broadcast_to(X_train.mean(axis=0), X_test.shape)}  # (N, 784)
    results = {name: quality(X_test, R) for name, R in outputs.items()}
    bce_floor = binary_cross_entropy(X_test, X_test)  # the entropy of the grey levels: no model goes lower
    train_bce = quality(X_train[:len(X_test)], model.reconstruct(X_train[:len(X_test)]))["bce"]
    # Pixels with the same value in every training image (MNIST's border): where a decoder variance of
    # its own per pixel could shrink to 0 and the Gaussian likelihood grow without bound (docs/18).
    constant_pixels = int(np.sum(X_train.min(axis=0) == X_train.max(axis=0)))

    # 4. The table and the pictures.
    print(f"\ntrained in {train_time:.1f}s; held-out images ({len(X_test):,}), per pixel:")
    print(f"{'':12s} {'BCE':>7s} {'MSE':>8s} {'PSNR dB':>8s} {'SSIM':>6s}")
    for name, r in results.items():
        print(f"{name:12s} {r['bce']:7.4f} {r['mse']:8.5f} {r['psnr_db']:8.2f} {r['ssim']:6.3f}")
    print(f"lowest BCE possible (the images' own entropy): {bce_floor:.4f}; the network's BCE on as many "
          f"training images: {train_bce:.4f}")
    print(f"pixels with one value in every training image: {constant_pixels} of {X_train.shape[1]}")
    pca_name = f"PCA {args.code}"
    net, pca_r = results["network"], results[pca_name]
    beats = {key: (net[key] < pca_r[key]) if key in ("bce", "mse") else (net[key] > pca_r[key])
             for key in ("bce", "mse", "psnr_db", "ssim")}
    print(f"the network beats PCA with {args.code} components on: "
          f"{', '.join(k for k, v in beats.items() if v) or 'nothing'}")
    plotting.image_grid({"held-out": X_test[:12], f"784-{args.code}-784": outputs["network"][:12],
                         pca_name: outputs[pca_name][:12]},
                        os.path.join(args.out, "reconstructions.png"),
                        title=f"the notes' network and PCA, {args.code} numbers per image")
    plotting.loss_curves({"training": model.history_["loss"], "held-out": model.history_["val_loss"]},
                         os.path.join(args.out, "training_loss.png"), title="BCE per pixel")
    metrics = {"data": source, "n_train": len(X_train), "n_test": len(X_test), "code": args.code,
               "steps": args.steps, "epochs": epochs, "batch_size": args.batch_size, "lr": args.lr,
               "seed": args.seed, "network": repr(model), "n_parameters": model.n_parameters(),
               "results": results, "bce_floor": bce_floor, "train_bce": train_bce,
               "constant_pixels": constant_pixels,
               "final_train_loss": model.history_["loss"][-1],
               "final_val_loss": model.history_["val_loss"][-1],
               "beats_pca": beats, "train_seconds": train_time}
    plotting.write_metrics(args.out, metrics)
    print(f"figures and metrics.json written to {args.out}")
    return metrics


if __name__ == "__main__":
    main()
