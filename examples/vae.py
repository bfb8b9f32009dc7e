"""A variational autoencoder on MNIST: the ELBO or the importance-weighted bound (IWAE) as the training
objective, grey or binarised images, a tighter likelihood bound, active units, samples, interpolations,
attribute vectors and (with --latent-dim 2) the latent space.

The network is pytorch/examples' VAE: encoder 784-400 (ReLU) -> mu, log_var (20 each), decoder
20-400 (ReLU) -> 784 Bernoulli logits, Adam (lr 1e-3), mini-batches of 128. Like every MNIST
example it trains on the first 8,000 training images and evaluates on the first 2,000 test
images (--n-train all, --n-test all: every one); a --data-dir holding only the test set gives
its first 8,000 images to train and the last 2,000 to evaluate. It prints which data it read.
The options follow the literature:

- --objective iwae --k 5: train on the importance-weighted bound with 5 samples per image
  (Burda et al. 2016); --objective elbo --k 5 averages the ELBO over 5 samples instead;
- --binarize dynamic: a fresh Bernoulli draw of every training image every epoch (fixed: one
  seeded draw); the held-out images are then binarised once (seed 0), the published protocol;
- --warmup E: beta rises linearly from 0 over the first E epochs; --free-bits: a KL floor per
  latent dimension;
- --likelihood gaussian: the "MSE + KL" form, with a fixed --decoder-sigma or --learn-sigma.

Everything is in nats per image: the test ELBO (one sample of z per image) and its two terms,
the reconstruction -log p(x | z) and KL(q(z | x) || N(0, I)); the importance-weighted bound with
--eval-k 5000 samples (Burda et al.), a tighter lower bound on log p(x), on the first --eval-n 500
held-out images (it decodes 5,000 samples of each: about 40 s of one core; --eval-n all for every
one); and the active units (latent dimensions whose posterior mean varies with x: Var_x(mu_d) > 0.01).

Figures written to --out: loss curves, test reconstructions, 64 samples from the prior, an
interpolation strip between test digits, an attribute-vector picture (codes moved from one digit
class towards another), the activity of every latent dimension, and with --latent-dim 2 the
manifold grid and the labelled scatter of the test codes. Math: docs/09-vae.md.

Run::

    python examples/vae.py --data-dir /path/to/mnist                 # the ELBO, grey images
    python examples/vae.py --data-dir /path/to/mnist --objective iwae --k 5 --binarize dynamic
    python examples/vae.py --data-dir /path/to/mnist --likelihood gaussian --learn-sigma
    python examples/vae.py --data-dir /path/to/mnist --latent-dim 2  # the 2-D latent pictures
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

import npae
from npae import latent, plotting
from npae.binarize import binarize
from npae.metrics import classifier_frechet_distance, train_feature_classifier
from npae.optim import Adam
from npae.scripts import (
    example_parser,
    load_mnist_or_exit,
    n_images,
    nonnegative_float,
    nonnegative_int,
    positive_float,
    positive_int,
)


def main(argv: list[str] | None = None) -> dict:
    class Formatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
        pass  # keep the description's line breaks and show every default

    parser = example_parser(__doc__, "vae", epochs=30, batch_size=128, lr=1e-3,
                            formatter_class=Formatter)
    parser.add_argument("--latent-dim", type=positive_int, default=20,
                        help="dimension of z (2 draws the maps)")
    parser.add_argument("--hidden", type=positive_int, default=400, help="hidden width")
    parser.add_argument("--objective", choices=("elbo", "iwae"), default="elbo",
                        help="training objective: the ELBO or the importance-weighted bound")
    parser.add_argument("--k", type=positive_int, default=1, help="samples of z per image in training")
    parser.add_argument("--likelihood", choices=("bernoulli", "gaussian"), default="bernoulli",
                        help="p(x | z): Bernoulli (BCE) or Gaussian (MSE)")
    parser.add_argument("--decoder-sigma", type=positive_float, default=0.1,
                        help="Gaussian likelihood: the fixed sigma_x (the initial one with --learn-sigma)")
    parser.add_argument("--learn-sigma", action="store_true", help="Gaussian likelihood: learn sigma_x")
    parser.add_argument("--beta", type=nonnegative_float, default=1.0,
                        help="weight of the KL term (1 = the ELBO)")
    parser.add_argument("--warmup", type=nonnegative_int, default=0,
                        help="epochs of linear KL warm-up (beta from 0)")
    parser.add_argument("--free-bits", type=nonnegative_float, default=0.0,
                        help="KL floor per latent dimension, nats")
    parser.add_argument("--binarize", choices=("none", "dynamic", "fixed"), default="none",
                        help="Bernoulli draws of the images: fresh every epoch, or once")
    parser.add_argument("--eval-k", type=positive_int, default=5000,
                        help="importance samples for the likelihood bound")
    parser.add_argument("--eval-n", type=n_images, default=500,
                        help="held-out images for the bound ('all': every one; each costs eval-k decodings)")
    args = parser.parse_args(argv)
    if args.learn_sigma and args.likelihood != "gaussian":
        parser.error("--learn-sigma needs --likelihood gaussian (a Bernoulli likelihood has no sigma)")

    # 1. Data: pixels in [0, 1], treated as Bernoulli probabilities.
    X_train, y_train, X_test, y_test, source = load_mnist_or_exit(parser, args)
    if args.binarize != "none":
        X_test = binarize(X_test, 0)  # one seeded draw: every run is scored on the same binary images
        how = "a fresh draw every epoch" if args.binarize == "dynamic" else f"one draw (seed {args.seed})"
        print(f"held-out images binarised once (seed 0); training images: {how}")
    if args.binarize == "fixed":
        X_train = binarize(X_train, args.seed)

    # 2. The model and its training: minimise the negative ELBO (or importance-weighted bound).
    model = npae.VAE(sizes=(784, args.hidden), latent_dim=args.latent_dim, activation="relu",
                     likelihood=args.likelihood, decoder_sigma=args.decoder_sigma,
                     learn_decoder_sigma=args.learn_sigma, beta=args.beta, warmup=args.warmup,
                     free_bits=args.free_bits, objective=args.objective, k=args.k,
                     binarize="dynamic" if args.binarize == "dynamic" else "none", random_state=args.seed)
    print(f"model: {model}, {model.n_parameters():,} parameters; Adam lr {args.lr}, batch {args.batch_size}")
    start, cpu = time.perf_counter(), time.process_time()  # CPU time: a fairer clock on a shared machine
    model.fit(X_train, epochs=args.epochs, batch_size=args.batch_size, optimizer=Adam(lr=args.lr),
              validation_data=X_test, verbose=True)
    train_time, train_cpu = time.perf_counter() - start, time.process_time() - cpu

    # 3. Evaluation on the held-out images, in nats per image (densities for a Gaussian likelihood).
    rng = np.random.default_rng(args.seed + 1)
    terms = model.elbo_terms(X_test, rng=rng)
    start, cpu = time.perf_counter(), time.process_time()
    X_bound = X_test[:args.eval_n]
    iw = model.log_likelihood(X_bound, k=args.eval_k, rng=rng)  # decodes eval_k samples of every image
    bound_time, bound_cpu = time.perf_counter() - start, time.process_time() - cpu
    n_active, activity = latent.active_units(model, X_test)
    print(f"test ELBO {terms['elbo']:.2f} nats/image = -(reconstruction {terms['reconstruction']:.2f} "
          f"+ KL {terms['kl']:.2f})  [negative ELBO {-terms['elbo']:.2f}]")
    print(f"importance-weighted bound, k={args.eval_k}, {len(X_bound)} images: log p(x) >= {iw:.2f} "
          f"nats/image ({bound_time:.0f} s, {bound_cpu:.0f} s CPU)")
    print(f"active units: {n_active} of {args.latent_dim} (Var_x(mu_d) > 0.01)")
    # Frechet distance in the features of an npae classifier trained on the training images (not FID:
    # docs/15), always between sets of half the test set: samples, reconstructions of the first half, and
    # the first half itself (the floor: two sets of real images) against the second half
    clf, half = train_feature_classifier(X_train, y_train, random_state=args.seed), len(X_test) // 2
    samples = model.sample(half, rng=np.random.default_rng(args.seed + 2))  # rng above left as it was
    frechet = {name: classifier_frechet_distance(clf, images, X_test[half:]) for name, images in
               (("samples", samples), ("reconstructions", model.reconstruct(X_test[:half])),
                ("test_half_vs_half", X_test[:half]))}
    print(f"Frechet distance to {len(X_test) - half} test images in an npae classifier's features: "
          + ", ".join(f"{k.replace('_', ' ')} {v:.2f}" for k, v in frechet.items()))

    # 4. Pictures.
    out = args.out
    plotting.loss_curves({k: model.history_[k] for k in ("loss", "val_loss", "reconstruction", "kl")},
                         os.path.join(out, "loss_curves.png"),
                         title=f"training loss ({args.objective}, k={args.k}); val_loss: held-out -ELBO")
    show = X_test[:16]
    plotting.image_grid({"test": show, "reconstruction": model.reconstruct(show)},
                        os.path.join(out, "reconstructions.png"), title="decoded posterior means")
    plotting.image_mosaic(model.sample(64, rng=rng), os.path.join(out, "samples.png"), n_cols=8,
                          title="64 samples: z ~ N(0, I), decoded (the mean of p(x | z))")
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
    # active units: how much each latent dimension's posterior mean moves with x
    plt = plotting.pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.bar(np.arange(args.latent_dim), np.sort(activity)[::-1])
    ax.axhline(0.01, color="red", lw=1, label="0.01: active above")
    ax.set_yscale("log")
    ax.set_xlabel("latent dimension, most active first")
    ax.set_ylabel("Var_x(mu_d)")
    ax.set_title(f"{n_active} active units of {args.latent_dim}")
    ax.legend()
    plotting.save_figure(fig, os.path.join(out, "active_units.png"))
    if args.latent_dim == 2:
        plotting.image_mosaic(latent.manifold(model, n=20), os.path.join(out, "manifold.png"), n_cols=20,
                              extent=(0.05, 0.95, 0.05, 0.95),
                              axis_labels=("prior quantile of z[0]", "prior quantile of z[1]"),
                              title="decoded 20 x 20 grid over the prior's quantiles")
        plotting.latent_scatter(model.encode(X_test), y_test, os.path.join(out, "latent_scatter.png"),
                                title="test codes mu(x), coloured by digit")

    metrics = {"data": source, "n_train": len(X_train), "n_test": len(X_test), "epochs": args.epochs,
               "latent_dim": args.latent_dim, "hidden": args.hidden, "seed": args.seed,
               "objective": args.objective, "k": args.k, "likelihood": args.likelihood,
               "binarize": args.binarize, "beta": args.beta, "warmup": args.warmup,
               "free_bits": args.free_bits,
               "test_elbo": terms["elbo"], "test_reconstruction": terms["reconstruction"],
               "test_kl": terms["kl"], "test_negative_elbo": -terms["elbo"],
               "eval_k": args.eval_k, "eval_n": len(X_bound), "test_iw_bound": iw,
               "active_units": n_active, "unit_activity": [float(a) for a in activity],
               "train_seconds": train_time, "train_cpu_seconds": train_cpu, "bound_seconds": bound_time,
               "bound_cpu_seconds": bound_cpu,
               "final_train_loss": model.history_["loss"][-1],
               **{f"frechet_{k}": v for k, v in frechet.items()}}
    if args.likelihood == "gaussian":
        metrics["decoder_sigma_final"] = float(np.exp(0.5 * model.decoder_log_var[0]))
    path = plotting.write_metrics(out, metrics)
    print(f"figures and {path} written to {out}/")
    return metrics


if __name__ == "__main__":
    main()
