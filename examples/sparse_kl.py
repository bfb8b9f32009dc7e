"""The UFLDL sparse autoencoder exercise: oriented edge detectors learned from natural images.

A 64-25-64 sigmoid autoencoder is trained on 10,000 8x8 patches of a whitened photograph with
UFLDL's cost

    J = (1/N) sum_n 1/2 ||x_n - x_hat_n||^2  +  beta sum_j KL(rho || rho_hat_j)  +  lambda/2 sum ||W||^2

(rho = 0.01, beta = 3, lambda = 1e-4), which is exactly ``npae.SparseAutoencoder(sizes=(64, 25),
loss="sse", sparsity="kl", rho=0.01, beta=3.0, weight_decay=1e-4)``. The script

1. checks the hand-written gradient of that cost against central differences (a float64 copy of
   the untrained model, on a few examples) and prints the relative difference (UFLDL: below 1e-9);
2. trains it with full-batch L-BFGS (SciPy, as UFLDL's minFunc) or, with ``--optimizer adam``,
   with mini-batch Adam;
3. prints the loss terms and each hidden unit's mean activation next to rho;
4. saves the 25 learned filters (rows of the first weight matrix), which look like oriented
   edge detectors, the loss curve and ``metrics.json``.

``--data mnist --data-dir D`` runs the MNIST version (784-196, rho 0.1, lambda 3e-3, beta 3),
whose filters look like pen strokes. The derivation is in ``docs/03-sparsity.md``.

Run::

    python examples/sparse_kl.py                       # natural patches, offline, ~15 s
    python examples/sparse_kl.py --data mnist --data-dir /path/to/mnist
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

import npae
from npae.datasets import natural_patches
from npae.gradcheck import numerical_gradient, rel_error
from npae.optim import Adam, lbfgs
from npae.plotting import filter_mosaic, loss_curves, write_metrics
from npae.scripts import (
    DEFAULT_N_TRAIN,
    existing_folder,
    load_mnist_or_exit,
    n_images,
    nonnegative_int,
    positive_float,
    positive_int,
)

# UFLDL's settings for the two versions of the exercise.
# "n" is the default number of training examples (as every MNIST example, 8,000 images).
SETTINGS = {
    "patches": {"sizes": (64, 25), "rho": 0.01, "beta": 3.0, "weight_decay": 1e-4, "shape": (8, 8),
                "n": 10000},
    "mnist": {"sizes": (784, 196), "rho": 0.1, "beta": 3.0, "weight_decay": 3e-3, "shape": (28, 28),
              "n": DEFAULT_N_TRAIN},
}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--data", choices=("patches", "mnist"), default="patches",
                   help="natural image patches (offline) or MNIST digits (needs --data-dir)")
    p.add_argument("--data-dir", type=existing_folder, default=os.environ.get("NPAE_DATA_DIR"),
                   help="folder with the MNIST IDX files (default $NPAE_DATA_DIR); only for --data mnist")
    p.add_argument("--out", default="npae-out/sparse_kl", help="folder for the figures and metrics.json")
    p.add_argument("--seed", type=nonnegative_int, default=0)
    p.add_argument("--optimizer", choices=("lbfgs", "adam"), default="lbfgs")
    p.add_argument("--max-iter", type=positive_int, default=400, help="L-BFGS iterations (UFLDL: 400)")
    p.add_argument("--epochs", type=positive_int, default=500, help="Adam epochs")
    p.add_argument("--batch-size", type=positive_int, default=500,
                   help="Adam mini-batch (rho_hat is per batch)")
    p.add_argument("--lr", type=positive_float, default=1e-2, help="Adam learning rate")
    p.add_argument("--n", dest="n_train", type=n_images, default=argparse.SUPPRESS,
                   help="number of training examples (default: 10,000 patches / the first 8,000 MNIST "
                        "training images; 'all': every MNIST training image)")
    p.add_argument("--no-whiten", action="store_true", help="cut patches from the raw (unwhitened) photo")
    p.add_argument("--check-coords", type=positive_int, default=None,
                   help="gradient check: random entries per parameter array (default: all for patches, "
                        "100 for MNIST)")
    p.add_argument("--dtype", choices=("float32", "float64"), default="float32",
                   help="training precision (the gradient check always runs in float64)")
    return p


def gradient_check(model, X: np.ndarray, n_coords: int | None, rng: np.random.Generator,
                   h: float = 1e-4) -> float:
    """Relative difference ||g_num - g|| / (||g_num|| + ||g||) of the model's whole cost on ``X``.

    The check runs on a float64 copy of ``model`` (same weights). ``n_coords`` random entries
    of each parameter array are perturbed (all of them when None); central differences:
    g_num = (J(theta + h e_i) - J(theta - h e_i)) / (2h). h = 1e-4 is UFLDL's EPSILON: with J of
    10 to 300 the rounding error eps * J / h stays near 1e-10 (measured on the patches: 5e-11
    with h = 1e-4, 2.6e-10 with h = 1e-5).
    """
    copy = type(model)(**{**model.get_params(), "dtype": np.float64})
    for name, p in copy.params.items():
        p[...] = model.params[name]
    X = X.astype(np.float64)
    _, _, grads = copy.loss_and_grads(X)
    analytic, numeric = [], []
    for name, p in copy.params.items():
        idx = np.arange(p.size) if n_coords is None or n_coords >= p.size else \
            rng.choice(p.size, n_coords, replace=False)  # flat indices into p
        analytic.append(grads[name].reshape(-1)[idx])
        numeric.append(numerical_gradient(lambda: copy.loss_and_grads(X)[0], p, h, indices=idx))
    return rel_error(np.concatenate(analytic), np.concatenate(numeric))


def main(argv=None) -> dict:
    parser = build_parser()
    args = parser.parse_args(argv)
    cfg = SETTINGS[args.data]
    args.n_train = getattr(args, "n_train", cfg["n"])  # --n, else this data's default
    if args.n_train is None and args.data == "patches":
        parser.error("argument --n: 'all' is for --data mnist; patches are drawn at random, give a number")
    rng = np.random.default_rng(args.seed)
    # float32 trains well with L-BFGS too: the same final J as float64 to 3 digits, and each
    # evaluation is 2 to 5 times cheaper (docs/benchmarks.md).
    dtype = np.dtype(args.dtype)

    # 1. The data.
    if args.data == "patches":
        X = natural_patches(args.n_train, size=8, rng=rng, dtype=dtype, whiten=not args.no_whiten)
        source = (f"{len(X)} random 8x8 patches of matplotlib's grace_hopper.jpg (grey, halved to 300x256, "
                  f"{'not whitened' if args.no_whiten else 'whitened'}; UFLDL normalisation to [0.1, 0.9])")
        print(f"data: {source}")
    else:
        X, _, _, _, source = load_mnist_or_exit(parser, args)  # the first --n training images; prints them
        X = X.astype(dtype)

    # 2. The model: UFLDL's cost J, exactly.
    model = npae.SparseAutoencoder(sizes=cfg["sizes"], loss="sse", sparsity="kl", rho=cfg["rho"],
                                   beta=cfg["beta"], weight_decay=cfg["weight_decay"],
                                   random_state=args.seed, dtype=dtype)
    print(f"model: {model}, rho {cfg['rho']}, beta {cfg['beta']}, lambda {cfg['weight_decay']}, "
          f"{model.n_parameters()} parameters")

    # 3. Gradient check of the cost (float64 copy of the initial model, a few examples).
    n_check, n_coords = (10, None) if args.data == "patches" else (20, 100)
    n_coords = args.check_coords or n_coords
    start = time.perf_counter()
    err = gradient_check(model, X[:n_check], n_coords, rng)
    what = "every parameter" if n_coords is None else f"{n_coords} random entries of each parameter array"
    print(f"gradient check (float64 copy, {n_check} examples, {what}): relative difference {err:.2e} "
          f"({'OK' if err < 1e-9 else 'ABOVE 1e-9'}, {time.perf_counter() - start:.1f}s)")

    # 4. Training.
    start = time.perf_counter()
    if args.optimizer == "lbfgs":
        history = lbfgs(model, X, max_iter=args.max_iter, verbose=True)
        print(f"L-BFGS: {history['n_iter']} iterations, {history['n_evals']} evaluations: "
              f"{history['message']}")
        xlabel = "L-BFGS iteration"
    else:
        # Adam sits for ~100 epochs on the plateau where every unit is off and the decoder outputs
        # the mean patch, then finds the edges; L-BFGS leaves that plateau in ~50 iterations.
        model.fit(X, epochs=args.epochs, batch_size=args.batch_size, optimizer=Adam(lr=args.lr),
                  random_state=rng)
        history = model.history_
        xlabel = "epoch"
    seconds = time.perf_counter() - start

    # 5. Final numbers: the whole cost on all of X, and the mean activation of each hidden unit.
    loss, terms, _ = model.loss_and_grads(X)
    rho_hat = model.encode(X).mean(axis=0)  # (n_hidden,)
    shown_terms = " + ".join(f"{k} {v:.5f}" for k, v in terms.items())
    print(f"trained in {seconds:.1f}s: J = {loss:.5f} = {shown_terms}")
    print(f"mean hidden activation {rho_hat.mean():.4f} (rho = {cfg['rho']}); "
          f"per unit from {rho_hat.min():.4f} to {rho_hat.max():.4f}")

    # 6. Pictures and metrics.
    W1 = model.params["encoder.0.W"]  # (n_hidden, n_features): row j is hidden unit j's filter
    filters = filter_mosaic(W1, os.path.join(args.out, "filters.png"), shape=cfg["shape"],
                            title=f"{len(W1)} filters (rows of W1), {args.data}")
    curves = loss_curves(history, os.path.join(args.out, "loss.png"), xlabel=xlabel, log=True,
                         keys=tuple(k for k in ("loss", "reconstruction", "sparsity", "weight_decay")
                                    if k in history), title=f"UFLDL cost J, {args.optimizer}")
    initial = history["loss"][0] if args.optimizer == "lbfgs" else None
    metrics = {"data": source, "optimizer": args.optimizer, "gradient_check_rel_diff": err,
               "initial_loss": initial, "loss": loss, **terms, "rho": cfg["rho"],
               "mean_activation": float(rho_hat.mean()), "min_unit_activation": float(rho_hat.min()),
               "max_unit_activation": float(rho_hat.max()), "train_seconds": seconds, "n_examples": len(X)}
    print(f"saved {filters}, {curves}, {write_metrics(args.out, metrics)}")
    return metrics


if __name__ == "__main__":
    main()
