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

``--penalty l1`` trains the same network with the L1 activity penalty ``beta_L1 * (1/N) sum_nj |h_nj|``
in place of the KL term (``--l1-beta``, default 0.01 on patches, 0.1 on MNIST); ``--penalty both``
trains the two side by side from the same initial weights and also saves ``kl_vs_l1.png``: the two
filter mosaics, the histogram of the hidden activations and every unit's mean activation. On a
sigmoid code h > 0, so the L1 term is ``beta_L1 * sum_j rho_hat_j``: linear in each unit's mean, it
charges every unit the same price for activity and cannot say how the activity is shared. Measured
(``docs/03-sparsity.md``): the KL model holds every unit's mean near rho and its units fire
(h > 0.1) on a minority of the inputs each (1.7% of the patches, 20.5% of the MNIST images); the L1
model switches most units off for every input (22 of 25 on the patches, 110 of 196 on MNIST), their
filters all pointing against the mean input, and runs the others on 98% and 46% of the inputs,
with unit means 200 to 500 times apart.

Run::

    python examples/sparse_kl.py                       # natural patches, offline, ~6 s
    python examples/sparse_kl.py --penalty both        # KL and L1 side by side, ~20 s
    python examples/sparse_kl.py --data mnist --data-dir /path/to/mnist
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

import npae
from npae.datasets import SAMPLE_PHOTOS, available_photos, natural_patches
from npae.gradcheck import numerical_gradient, rel_error
from npae.metrics import dead_units
from npae.optim import Adam, lbfgs
from npae.plotting import filter_mosaic, loss_curves, pyplot, save_figure, tile_images, write_metrics
from npae.scripts import (
    DEFAULT_N_TRAIN,
    existing_folder,
    load_mnist_or_exit,
    n_images,
    new_folder,
    nonnegative_int,
    positive_float,
    positive_int,
)

# UFLDL's settings for the two versions of the exercise.
# "n" is the default number of training examples (as every MNIST example, 8,000 images).
# "l1_beta" is the weight of the L1 penalty of --penalty l1/both (not UFLDL's): on the patches,
# 0.02 and above switches every unit off for good (the decoder outputs the mean patch), 0.01
# ends at a mean activation of 0.05; on MNIST, 0.1 ends at 0.12, near the KL model's 0.11.
SETTINGS = {
    "patches": {"sizes": (64, 25), "rho": 0.01, "beta": 3.0, "weight_decay": 1e-4, "shape": (8, 8),
                "n": 10000, "l1_beta": 0.01},
    "mnist": {"sizes": (784, 196), "rho": 0.1, "beta": 3.0, "weight_decay": 3e-3, "shape": (28, 28),
              "n": DEFAULT_N_TRAIN, "l1_beta": 0.1},
}
#: A unit "fires" on an input when its activation exceeds this; one that never does is silent.
FIRES = 0.1


def filter_spread(W: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    r"""How localised each filter is: the spread of its energy in the image, 1 for energy spread evenly.

    Filter j's squared weights, normalised, are a distribution over the pixels,
    ``p_j(y, x) = W_j(y, x)^2 / sum W_j^2``; its spread is the root mean squared distance of the
    pixels from their centre ``c_j``, weighted by ``p_j``, divided by the same for even energy
    (the uniform distribution over an ``h x w`` image: ``sqrt((h^2 - 1)/12 + (w^2 - 1)/12)``):

    .. math::
        s_j = \sqrt{\frac{\sum_{y,x} p_j(y, x)\,\lVert (y, x) - c_j \rVert^2}{(h^2 - 1)/12 + (w^2 - 1)/12}},
        \qquad c_j = \sum_{y,x} p_j(y, x)\,(y, x).

    0 for a single pixel, 1 for a filter whose weights are all the same size (random weights: near 1),
    small for a localised edge, above 1 (at most sqrt(3)) for energy in opposite corners.
    ``docs/03-sparsity.md``.

    Parameters
    ----------
    W : ndarray, shape (n_filters, h * w)
        One filter per row (the rows of the first weight matrix), pixels in row-major order.
    shape : (h, w)

    Returns
    -------
    ndarray, shape (n_filters,)
    """
    h, w = shape
    p = (W * W).reshape(len(W), h, w)  # (n, h, w)
    p = p / p.sum(axis=(1, 2), keepdims=True)  # (n, h, w): each filter's energy, sums to 1
    y = np.arange(h)[None, :, None]  # (1, h, 1)
    x = np.arange(w)[None, None, :]  # (1, 1, w)
    cy = (p * y).sum(axis=(1, 2), keepdims=True)  # (n, 1, 1)
    cx = (p * x).sum(axis=(1, 2), keepdims=True)  # (n, 1, 1)
    var = (p * ((y - cy) ** 2 + (x - cx) ** 2)).sum(axis=(1, 2))  # (n,)
    return np.sqrt(var / ((h * h - 1) / 12 + (w * w - 1) / 12))


def filter_coherence(W: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    r"""How oriented each filter is: the coherence of its structure tensor, 1 for parallel edges.

    With ``g = (g_y, g_x)`` the filter's gradient at each pixel (``np.gradient``: central
    differences), the structure tensor sums ``g g^T`` over the pixels; its eigenvalues
    ``l1 >= l2`` say how much the filter changes along its main direction and across it:

    .. math::
        T_j = \sum_{y,x} \begin{pmatrix} g_y^2 & g_y g_x \\ g_y g_x & g_x^2 \end{pmatrix}, \qquad
        \mathrm{coh}_j = \frac{l_1 - l_2}{l_1 + l_2}
        = \frac{\sqrt{(T_{yy} - T_{xx})^2 + 4 T_{yx}^2}}{T_{yy} + T_{xx}}.

    1 when every gradient points one way (straight parallel edges, an oriented filter), 0 when no
    direction is preferred (a round blob; random weights: near 0). ``docs/03-sparsity.md``.

    Parameters
    ----------
    W : ndarray, shape (n_filters, h * w)
        One filter per row, pixels in row-major order.
    shape : (h, w)

    Returns
    -------
    ndarray, shape (n_filters,)
    """
    F = W.reshape(len(W), *shape)  # (n, h, w)
    gy, gx = np.gradient(F, axis=(1, 2))  # each (n, h, w)
    tyy, txx, tyx = (gy * gy).sum(axis=(1, 2)), (gx * gx).sum(axis=(1, 2)), (gy * gx).sum(axis=(1, 2))  # (n,)
    return np.sqrt((tyy - txx) ** 2 + 4 * tyx ** 2) / (tyy + txx)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--data", choices=("patches", "mnist"), default="patches",
                   help="natural image patches (offline) or MNIST digits (needs --data-dir)")
    p.add_argument("--data-dir", type=existing_folder, default=os.environ.get("NPAE_DATA_DIR"),
                   help="folder with the MNIST IDX files (default $NPAE_DATA_DIR); only for --data mnist")
    p.add_argument("--out", type=new_folder, default="npae-out/sparse_kl",
                   help="folder for the figures and metrics.json")
    p.add_argument("--seed", type=nonnegative_int, default=0)
    p.add_argument("--penalty", choices=("kl", "l1", "both"), default="kl",
                   help="the sparsity penalty: UFLDL's KL, L1 activity, or both side by side")
    p.add_argument("--l1-beta", type=positive_float, default=None,
                   help="weight of the L1 penalty (default: 0.01 for patches, 0.1 for MNIST)")
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
    p.add_argument("--photo", choices=available_photos(), default=None,
                   help="which of matplotlib's sample images to cut the patches from (default grace_hopper)")
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
    with h = 1e-4, 2.6e-10 with h = 1e-5). The L1 model's cost starts near 1 (no KL term), and its
    truncation error, O(h^2), is what remains: 6e-10 with h = 1e-4 on the patches and on MNIST.
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


def train(penalty: str, X: np.ndarray, cfg: dict, args: argparse.Namespace, rng: np.random.Generator):
    """Steps 2 to 5 for one penalty: build, check, train and measure the model; print as it goes.

    Returns ``(model, results, history, xlabel)``: ``results`` holds the numbers of ``metrics.json``.
    """
    # 2. The model: UFLDL's cost J, exactly (with --penalty l1: the L1 term in place of the KL term).
    if penalty == "kl":
        model = npae.SparseAutoencoder(sizes=cfg["sizes"], loss="sse", sparsity="kl", rho=cfg["rho"],
                                       beta=cfg["beta"], weight_decay=cfg["weight_decay"],
                                       random_state=args.seed, dtype=X.dtype)
        what = f"rho {cfg['rho']}, beta {cfg['beta']}"
    else:
        model = npae.SparseAutoencoder(sizes=cfg["sizes"], loss="sse", sparsity="l1", beta=args.l1_beta,
                                       weight_decay=cfg["weight_decay"], random_state=args.seed,
                                       dtype=X.dtype)
        what = f"L1 activity penalty, beta {args.l1_beta}"
    print(f"model: {model}, {what}, lambda {cfg['weight_decay']}, {model.n_parameters()} parameters")

    # 3. Gradient check of the cost (float64 copy of the initial model, a few examples).
    n_check, n_coords = (10, None) if args.data == "patches" else (20, 100)
    n_coords = args.check_coords or n_coords
    if n_coords is not None and n_coords >= max(p.size for p in model.params.values()):
        n_coords = None  # as many as the largest array holds: every entry is checked, and said so
    start = time.perf_counter()
    err = gradient_check(model, X[:n_check], n_coords, rng)
    what = "every parameter" if n_coords is None else f"{n_coords} random entries of each parameter array"
    print(f"gradient check (float64 copy, {n_check} examples, {what}): relative difference {err:.2e} "
          f"({'OK' if err < 1e-9 else 'ABOVE 1e-9'}, {time.perf_counter() - start:.1f}s)")

    # 4. Training (the initial filters kept: the filter statistics of step 5 compare with them).
    W1_init = model.params["encoder.0.W"].copy()  # (n_hidden, n_features)
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
    H = model.encode(X)  # (N, n_hidden)
    rho_hat = H.mean(axis=0)  # (n_hidden,)
    shown_terms = " + ".join(f"{k} {v:.5f}" for k, v in terms.items())
    print(f"trained in {seconds:.1f}s: J = {loss:.5f} = {shown_terms}")
    target = f" (rho = {cfg['rho']})" if penalty == "kl" else ""
    print(f"mean hidden activation {rho_hat.mean():.4f}{target}; "
          f"per unit from {rho_hat.min():.4f} to {rho_hat.max():.4f}")
    fires = (H > FIRES).mean(axis=0)  # (n_hidden,): the fraction of inputs each unit fires on
    silent = len(dead_units(H, FIRES))  # units that never fire on any input
    firing_rate = float(fires[fires > 0].mean()) if silent < len(fires) else 0.0
    # a silent unit's filter against the mean input: cos(W1_j, -mean(x)), median over the silent units
    W1 = model.params["encoder.0.W"]  # (n_hidden, n_features)
    x_mean = X.mean(axis=0)  # (n_features,)
    cos = -(W1 @ x_mean) / (np.linalg.norm(W1, axis=1) * np.linalg.norm(x_mean))  # (n_hidden,)
    silent_cos = float(np.median(cos[fires == 0])) if silent else None
    # the filters' shape: localised (small spread) and oriented (high coherence), against the initial ones
    shape = cfg["shape"]
    spread = {"": filter_spread(W1, shape), "initial_": filter_spread(W1_init, shape)}  # (n_hidden,) each
    coherence = {"": filter_coherence(W1, shape), "initial_": filter_coherence(W1_init, shape)}
    print(f"filters (median over units): spread {np.median(spread['']):.3f} (initial "
          f"{np.median(spread['initial_']):.3f}; 1 = energy spread evenly), coherence "
          f"{np.median(coherence['']):.3f} (initial {np.median(coherence['initial_']):.3f}; "
          f"1 = parallel edges)")
    if args.penalty == "both":
        print(f"{silent} of {len(fires)} units never above {FIRES} on any input; each of the others is "
              f"above it on {firing_rate:.1%} of the inputs (mean)")
        if silent:
            print(f"the silent units' filters against the mean input: median cos(W1_j, -mean x) "
                  f"{silent_cos:.3f}")
    initial = history["loss"][0] if args.optimizer == "lbfgs" else None
    results = {"penalty": penalty, "beta": model.beta, "gradient_check_rel_diff": err,
               "initial_loss": initial, "loss": loss, **terms, "mean_activation": float(rho_hat.mean()),
               "min_unit_activation": float(rho_hat.min()), "max_unit_activation": float(rho_hat.max()),
               "silent_units": silent, "fraction_above_0.1": float(fires.mean()),
               "largest_firing_rate": float(fires.max()),
               "firing_rate_of_the_others": firing_rate, "silent_filters_cosine_to_minus_mean": silent_cos,
               **{f"{when}filter_spread_median": float(np.median(v)) for when, v in spread.items()},
               **{f"{when}filter_coherence_median": float(np.median(v)) for when, v in coherence.items()},
               "train_seconds": seconds}
    return model, results, history, xlabel


def comparison_figure(models: dict, X: np.ndarray, rho: float, shape: tuple[int, int], path: str):
    """KL and L1 side by side: the filter mosaics, the histogram of the activations, the unit means."""
    plt = pyplot()
    fig, axes = plt.subplots(2, 2, figsize=(11, 10))
    bins = np.linspace(0.0, 1.0, 51)
    for col, (penalty, model) in enumerate(models.items()):
        W1 = model.params["encoder.0.W"]  # (n_hidden, n_features): row j is hidden unit j's filter
        axes[0, col].imshow(tile_images(W1.reshape((-1,) + shape), normalize="each"), cmap="gray")
        axes[0, col].axis("off")
        axes[0, col].set_title(f"{penalty.upper()}: {len(W1)} filters (rows of W1)")
        H = model.encode(X)  # (N, n_hidden)
        axes[1, 0].hist(H.ravel(), bins=bins, histtype="step", linewidth=1.5, label=penalty.upper())
        rho_hat = np.sort(H.mean(axis=0))[::-1]  # (n_hidden,), most active unit first
        axes[1, 1].semilogy(np.arange(1, len(rho_hat) + 1), rho_hat, marker=".", label=penalty.upper())
    axes[1, 0].set_yscale("log")
    axes[1, 0].set_xlabel("activation h_nj (every unit, every input)")
    axes[1, 0].set_ylabel("count")
    axes[1, 0].set_title("histogram of the hidden activations")
    axes[1, 1].axhline(rho, color="grey", linestyle="--", label=f"rho = {rho}")
    axes[1, 1].set_xlabel("unit, most active first")
    axes[1, 1].set_ylabel("mean activation rho_hat_j")
    axes[1, 1].set_title("each unit's mean activation")
    for ax in axes[1]:
        ax.legend()
        ax.grid(alpha=0.3)
    return save_figure(fig, path)


def main(argv=None) -> dict:
    parser = build_parser()
    args = parser.parse_args(argv)
    cfg = SETTINGS[args.data]
    args.n_train = getattr(args, "n_train", cfg["n"])  # --n, else this data's default
    if args.n_train is None and args.data == "patches":
        parser.error("argument --n: 'all' is for --data mnist; patches are drawn at random, give a number")
    if args.l1_beta is not None and args.penalty == "kl":
        parser.error("argument --l1-beta: the L1 penalty is used with --penalty l1 or both, not kl")
    args.l1_beta = args.l1_beta or cfg["l1_beta"]
    if args.photo is not None and args.data == "mnist":
        parser.error("argument --photo: the photo is for --data patches; --data mnist reads --data-dir")
    photo = args.photo or "grace_hopper"
    rng = np.random.default_rng(args.seed)
    # float32 trains well with L-BFGS too: the same final J as float64 to 3 digits, and each
    # evaluation is 2 to 5 times cheaper (docs/benchmarks.md).
    dtype = np.dtype(args.dtype)

    # 1. The data.
    if args.data == "patches":
        X = natural_patches(args.n_train, size=8, rng=rng, dtype=dtype, whiten=not args.no_whiten,
                            photo=photo)
        halved = "halved to 300x256" if photo == "grace_hopper" else "halved"
        source = (f"{len(X)} random 8x8 patches of matplotlib's {SAMPLE_PHOTOS[photo][0]} (grey, {halved}, "
                  f"{'not whitened' if args.no_whiten else 'whitened'}; UFLDL normalisation to [0.1, 0.9])")
        print(f"data: {source}")
    else:
        X, _, _, _, source = load_mnist_or_exit(parser, args)  # the first --n training images; prints them
        X = X.astype(dtype)

    # 2 to 5, for each penalty (the same initial weights: random_state=args.seed).
    penalties = ("kl", "l1") if args.penalty == "both" else (args.penalty,)
    models, results = {}, {}
    for penalty in penalties:
        if args.penalty == "both":
            print(f"\n-- {penalty.upper()} penalty")
        models[penalty], results[penalty], history, xlabel = train(penalty, X, cfg, args, rng)

        # 6. Pictures: the filters and the loss curve (files of the L1 model end in _l1).
        W1 = models[penalty].params["encoder.0.W"]  # (n_hidden, n_features): row j is hidden unit j's filter
        suffix = "" if penalty == "kl" else "_l1"
        filters = filter_mosaic(W1, os.path.join(args.out, f"filters{suffix}.png"), shape=cfg["shape"],
                                title=f"{len(W1)} filters (rows of W1), {args.data}"
                                      + ("" if penalty == "kl" else ", L1 penalty"))
        curves = loss_curves(history, os.path.join(args.out, f"loss{suffix}.png"), xlabel=xlabel, log=True,
                             keys=tuple(k for k in ("loss", "reconstruction", "sparsity", "weight_decay")
                                        if k in history),
                             title=f"UFLDL cost J, {args.optimizer}" + ("" if penalty == "kl" else ", L1"))
        print(f"saved {filters}, {curves}")

    # 7. The comparison and metrics.json (one model: its numbers at the top level; both: one entry each).
    common = {"data": source, "optimizer": args.optimizer, "rho": cfg["rho"], "n_examples": len(X)}
    if args.penalty != "both":
        metrics = {**common, **results[args.penalty]}
    else:
        figure = comparison_figure(models, X, cfg["rho"], cfg["shape"],
                                   os.path.join(args.out, "kl_vs_l1.png"))
        kl, l1 = results["kl"], results["l1"]
        n_units = cfg["sizes"][-1]
        print(f"\n{'':4s} {'mean act':>9s} {'unit min':>9s} {'unit max':>9s} {'max/min':>8s} "
              f"{'silent units':>13s} {'h > ' + str(FIRES):>8s} {'each other unit fires on':>25s}")
        for name, r in results.items():
            spread = r["max_unit_activation"] / r["min_unit_activation"]
            print(f"{name.upper():4s} {r['mean_activation']:9.4f} {r['min_unit_activation']:9.4f} "
                  f"{r['max_unit_activation']:9.4f} {spread:8.0f} "
                  f"{r['silent_units']:>6d} of {n_units:<4d} {r['fraction_above_0.1']:8.1%} "
                  f"{r['firing_rate_of_the_others']:20.1%} of inputs")
        claim = "; ".join(
            f"{name.upper()}: unit means {r['min_unit_activation']:.4f} to {r['max_unit_activation']:.4f}, "
            f"{n_units - r['silent_units']} of {n_units} units fire (h > {FIRES}), each on "
            f"{r['firing_rate_of_the_others']:.1%} of the inputs" for name, r in results.items())
        print(f"{claim} (rho = {cfg['rho']})\nsaved {figure}")
        metrics = {**common, "penalty": "both", "claim": claim, "kl": kl, "l1": l1}
    print(f"saved {write_metrics(args.out, metrics)}")
    return metrics


if __name__ == "__main__":
    main()
