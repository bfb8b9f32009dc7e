"""A variational autoencoder on MNIST: the ELBO, its reconstruction/KL split, a tighter likelihood bound,
samples from the prior, interpolations, attribute vectors and (with --latent-dim 2) the latent space.

The network is pytorch/examples' VAE: encoder 784-400 (ReLU) -> mu, log_var (20 each), decoder
20-400 (ReLU) -> 784 Bernoulli logits, Adam (lr 1e-3), mini-batches of 128. Like every MNIST
example it trains on the first 8,000 training images and evaluates on the first 2,000 test
images (--n-train all, --n-test all: every one); a --data-dir holding only the test set gives
its first 8,000 images to train and the last 2,000 to evaluate. It prints which data it read.
Everything is in nats per image:

- the test ELBO (one sample of z per image) and its two terms, the reconstruction -log p(x | z)
  (BCE summed over the 784 pixels) and KL(q(z | x) || N(0, I));
- the importance-weighted bound with k = 100 samples (Burda et al. 2015), a tighter lower bound
  on log p(x).

Figures written to --out: loss curves, test reconstructions, 64 samples from the prior, an
interpolation strip between test digits, an attribute-vector picture (codes moved from one digit
class towards another), and with --latent-dim 2 the manifold grid and the labelled scatter of
the test codes. Math: docs/09-vae.md.

Run::

    python examples/vae.py --data-dir /path/to/mnist                 # about a minute on 2 cores
    python examples/vae.py --data-dir /path/to/mnist --latent-dim 2  # the 2-D latent pictures
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

import npae
from npae import latent, plotting
from npae.optim import Adam
from npae.scripts import example_parser, load_mnist_or_exit, nonnegative_float, positive_int


def main(argv: list[str] | None = None) -> dict:
    class Formatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
        pass  # keep the description's line breaks and show every default

    parser = example_parser(__doc__, "vae", epochs=30, batch_size=128, lr=1e-3,
                            formatter_class=Formatter)
    parser.add_argument("--latent-dim", type=positive_int, default=20,
                        help="dimension of z (2 draws the maps)")
    parser.add_argument("--hidden", type=positive_int, default=400, help="hidden width")
    parser.add_argument("--beta", type=nonnegative_float, default=1.0,
                        help="weight of the KL term (1 = the ELBO)")
    parser.add_argument("--k", type=positive_int, default=100,
                        help="importance samples for the likelihood bound")
    args = parser.parse_args(argv)

    # 1. Data: pixels in [0, 1], treated as Bernoulli probabilities.
    X_train, y_train, X_test, y_test, source = load_mnist_or_exit(parser, args)

    # 2. The model and its training: minimise the negative ELBO, reconstruction + beta * KL.
    model = npae.VAE(sizes=(784, args.hidden), latent_dim=args.latent_dim, activation="relu",
                     likelihood="bernoulli", beta=args.beta, random_state=args.seed)
    print(f"model: {model}, {model.n_parameters():,} parameters; Adam lr {args.lr}, batch {args.batch_size}")
    start = time.perf_counter()
    model.fit(X_train, epochs=args.epochs, batch_size=args.batch_size, optimizer=Adam(lr=args.lr),
              validation_data=X_test, verbose=True)
    train_time = time.perf_counter() - start

    # 3. Evaluation on the held-out images, in nats per image.
    rng = np.random.default_rng(args.seed + 1)
    terms = model.elbo_terms(X_test, rng=rng)
    iw = model.log_likelihood(X_test, k=args.k, rng=rng)
    print(f"test ELBO {terms['elbo']:.2f} nats/image = -(reconstruction {terms['reconstruction']:.2f} "
          f"+ KL {terms['kl']:.2f})  [negative ELBO {-terms['elbo']:.2f}]")
    print(f"importance-weighted bound, k={args.k}: log p(x) >= {iw:.2f} nats/image "
          f"({iw - terms['elbo']:.2f} tighter than the ELBO)")

    # 4. Pictures.
    out = args.out
    plotting.loss_curves({k: model.history_[k] for k in ("loss", "val_loss", "reconstruction", "kl")},
                         os.path.join(out, "loss_curves.png"), title="negative ELBO per image (nats)")
    show = X_test[:16]
    plotting.image_grid({"test": show, "reconstruction": model.reconstruct(show)},
                        os.path.join(out, "reconstructions.png"), title="decoded posterior means")
    plotting.image_mosaic(model.sample(64, rng=rng), os.path.join(out, "samples.png"), n_cols=8,
                          title="64 samples: z ~ N(0, I), decoded (pixel probabilities)")
    pairs = [(0, 1), (2, 3), (4, 5), (6, 7)]
    firsts = [np.flatnonzero(y_test == d)[0] for d in range(10)]
    plotting.image_grid({f"{a} -> {b}": latent.interpolate(model, X_test[firsts[a]], X_test[firsts[b]])
                         for a, b in pairs}, os.path.join(out, "interpolation.png"),
                        title="straight lines between the codes of two test digits")
    # attribute vectors: mean code of one class minus another, added to codes of the second class
    amounts = [0.0, 0.25, 0.5, 0.75, 1.0, 1.25]
    rows = {}
    for a, b in [(1, 7), (4, 9), (3, 8)]:
        vec = latent.attribute_vector(model, X_train, y_train, to_label=b, from_label=a)
        x_a = X_test[np.flatnonzero(y_test == a)[:2]]
        moved = latent.add_attribute(model, x_a, vec, amounts)  # (amounts, 2, 784)
        for i in range(len(x_a)):
            rows[f"{a} + t({b} - {a}) #{i + 1}"] = moved[:, i]
    plotting.image_grid(rows, os.path.join(out, "attribute_vectors.png"),
                        title=f"mu(x) + t * (mean code of b - mean code of a), t = {amounts}")
    if args.latent_dim == 2:
        plotting.image_mosaic(latent.manifold(model, n=20), os.path.join(out, "manifold.png"), n_cols=20,
                              extent=(0.05, 0.95, 0.05, 0.95),
                              axis_labels=("prior quantile of z[0]", "prior quantile of z[1]"),
                              title="decoded 20 x 20 grid over the prior's quantiles")
        plotting.latent_scatter(model.encode(X_test), y_test, os.path.join(out, "latent_scatter.png"),
                                title="test codes mu(x), coloured by digit")

    metrics = {"data": source, "n_train": len(X_train), "n_test": len(X_test), "epochs": args.epochs,
               "latent_dim": args.latent_dim, "hidden": args.hidden, "beta": args.beta, "seed": args.seed,
               "test_elbo": terms["elbo"], "test_reconstruction": terms["reconstruction"],
               "test_kl": terms["kl"], "test_negative_elbo": -terms["elbo"],
               f"test_iw_bound_k{args.k}": iw, "train_seconds": train_time,
               "final_train_loss": model.history_["loss"][-1]}
    path = plotting.write_metrics(out, metrics)
    print(f"figures and {path} written to {out}/")
    return metrics


if __name__ == "__main__":
    main()
