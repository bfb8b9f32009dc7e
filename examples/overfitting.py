"""Overfitting and robustness: plain, sparse, denoising and contractive autoencoders side by side.

The lecture notes make four claims that need a measurement, not a derivation:

1. basic autoencoders generalise poorly and overfit;
2. the regularisers help: a sparse code "avoids trivial mappings, better generalization, reduced
   overfitting", the contractive penalty "prevents overfitting" (and weight decay, early stopping
   and input noise are the usual remedies too);
3. the contractive and the denoising autoencoder are robust to noise in their input;
4. a denoising autoencoder "requires sufficient training data".

One network for every model, over-parameterised on purpose: 784-256-784 (402,448 parameters,
about 1,600 for each of the 250 images of the small set), sigmoid units, sigmoid
output, trained with BCE by Adam for the same number of updates (--steps of --batch-size images),
from the same initial weights:

- AE: the reconstruction only (no weight decay);
- AE + weight decay: (lambda / 2) sum ||W||^2 added (--weight-decay);
- DAE: sees x + N(0, sigma^2) clipped to [0, 1], must output the clean x (--sigma);
- sparse AE: the KL penalty pushing each unit's mean activation to rho (--rho, --beta);
- CAE: lam * mean ||dh/dx||_F^2 (--lam).

Each model is trained twice: on a small training set (the first --small images, a few hundred) and
on the large one (--n-train, 8,000 like every MNIST example), with the same number of updates.
Every --eval-every updates it measures the error (MSE per pixel between a clean image and its
reconstruction) on the training images and on the first --curve-n held-out images: the learning
curves. Early stopping
is read off the plain AE's curve (the update of its best held-out error). At the end, on all the
held-out images: the error when the input carries Gaussian noise of each level in --noise-levels
(clipped to [0, 1]; the target is the clean image), and the mean Frobenius norm of the encoder
Jacobian. Then the plain AE and the DAE are trained on every size of --sizes for the
training-set-size curve. Each claim gets a verdict, "holds", "holds with a qualification" or "does
not hold here", from explicit rules (the functions ``verdict_*`` below) applied to those numbers;
nothing is tuned on the held-out images.

Like every MNIST example it trains on the first 8,000 training images and evaluates on the first
2,000 test images (--n-train, --n-test); a --data-dir holding only the test set gives its first
8,000 images to train and the last 2,000 to evaluate. It prints which data it read. Any
MNIST-format folder works (Fashion-MNIST too).

Figures written to --out: learning_curves.png (training and held-out error against the epoch, small
and large set), regularisers.png (what each one does on the small set), noise_robustness.png (held-out
error against the input noise), training_set_size.png (AE and DAE against the number of training
images) and reconstructions.png; the numbers and the verdicts go to metrics.json.
Math: docs/17-overfitting-and-robustness.md.

Run::

    python examples/overfitting.py --data-dir /path/to/mnist     # about a minute on 2 cores
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

import npae
from npae import plotting
from npae.metrics import mean_jacobian_norm
from npae.noise import corrupt
from npae.optim import Adam
from npae.scripts import (
    argument_type,
    example_parser,
    load_mnist_or_exit,
    nonnegative_float,
    positive_float,
    positive_int,
)

#: The models, in the order of every table and figure.
MODELS = ("AE", "AE + weight decay", "DAE", "sparse AE", "CAE")
#: A held-out error "rises" when its last value is this much above its minimum (relative).
RISE = 0.02
#: Two errors count as different when they differ by more than this (relative).
TOLERANCE = 0.02

#: A target mean activation of the KL penalty: strictly between 0 and 1.
open_fraction = argument_type(float, lambda v: 0 < v < 1, "a number between 0 and 1, both excluded")

HOLDS, QUALIFIED, FAILS = "holds", "holds with a qualification", "does not hold here"


def number_list(kind: type, low: float, what: str):
    """An argparse ``type``: ``"0,0.1,0.2"`` -> ``[0.0, 0.1, 0.2]``, every number >= ``low``."""
    def parse(text: str) -> list:
        try:
            values = [kind(t) for t in text.split(",")]
        except ValueError:
            values = []
        if not values or any(not np.isfinite(v) or v < low for v in values):
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return values
    parse.__name__ = what
    return parse


def build(name: str, args: argparse.Namespace):
    """The model ``name`` of :data:`MODELS`; every one has the same network and initial weights."""
    common = dict(sizes=(784, args.hidden), activation="sigmoid", output_activation="sigmoid", loss="bce",
                  random_state=args.seed)
    if name == "AE":
        return npae.Autoencoder(**common)
    if name == "AE + weight decay":
        return npae.Autoencoder(weight_decay=args.weight_decay, **common)
    if name == "DAE":
        return npae.DenoisingAutoencoder(noise="gaussian", noise_level=args.sigma, clip=(0.0, 1.0), **common)
    if name == "sparse AE":
        return npae.SparseAutoencoder(sparsity="kl", rho=args.rho, beta=args.beta, weight_decay=0.0, **common)
    return npae.ContractiveAutoencoder(lam=args.lam, **common)


def error(model, X: np.ndarray, inputs: np.ndarray | None = None) -> float:
    """MSE per pixel between clean rows ``X`` (N, 784) and the reconstruction of ``inputs`` (default X)."""
    X_hat = model.reconstruct(X if inputs is None else inputs)  # (N, 784)
    return float(np.mean((X_hat - X) ** 2, dtype=np.float64))


def train(model, X: np.ndarray, steps: int, batch_size: int, lr: float, every: int, rng: np.random.Generator,
          X_check: np.ndarray | None = None, X_held: np.ndarray | None = None) -> dict[str, list]:
    """``steps`` Adam updates of ``batch_size`` rows of ``X``; the errors every ``every`` updates.

    The rows are taken in order from a stream of permutations of ``X`` (one per epoch), ``every``
    batches at a time, so every run makes the same number of updates whatever ``len(X)``. After
    each chunk, the error on ``X_check`` (training rows) and ``X_held`` (held-out rows) is recorded,
    unless they are None. Returns ``{"updates": [...], "epochs": [...], "train": [...], "held_out": [...]}``.
    """
    optimizer = Adam(lr=lr)
    order = np.concatenate([rng.permutation(len(X)) for _ in range(-(-steps * batch_size // len(X)))])
    curve: dict[str, list] = {"updates": [], "epochs": [], "train": [], "held_out": []}
    done = 0
    while done < steps:
        chunk = min(every, steps - done)
        rows = order[done * batch_size:(done + chunk) * batch_size]  # (chunk * batch_size,)
        model.fit(X[rows], epochs=1, batch_size=batch_size, optimizer=optimizer, shuffle=False)
        done += chunk
        if X_check is not None and X_held is not None:
            curve["updates"].append(done)
            curve["epochs"].append(done * batch_size / len(X))
            curve["train"].append(error(model, X_check))
            curve["held_out"].append(error(model, X_held))
    return curve


def summary(curve: dict[str, list]) -> dict[str, float]:
    """The numbers a verdict reads from one learning curve."""
    held, tr = np.array(curve["held_out"]), np.array(curve["train"])
    best = int(np.argmin(held))
    return {"train": float(tr[-1]), "held_out": float(held[-1]), "gap": float(held[-1] - tr[-1]),
            "ratio": float(held[-1] / tr[-1]), "best_held_out": float(held[best]),
            "best_update": int(curve["updates"][best]), "best_epoch": float(curve["epochs"][best]),
            "gap_at_best": float(held[best] - tr[best]), "rise": float(held[-1] / held[best] - 1)}


# ---------------------------------------------------------------------------- the verdicts
def verdict_basic_overfits(small: dict, large: dict) -> dict:
    """Claim 1, from the plain AE's summaries on the small and the large set.

    It overfits when, on the small set, its held-out error is at least twice its training error and
    that ratio is more than twice the large set's (the gap comes from the few images, not from the
    network). "holds" if its held-out error also rises (last value more than :data:`RISE` above the
    best); "holds with a qualification" if only the gap says so; else "does not hold here".
    """
    gap = small["ratio"] >= 2 and small["ratio"] > 2 * large["ratio"]
    rises = small["rise"] > RISE
    verdict = HOLDS if gap and rises else QUALIFIED if gap else FAILS
    why = (f"small set: held-out error {small['held_out']:.4f} = {small['ratio']:.1f} x the training error "
           f"{small['train']:.4f} (large set: {large['ratio']:.2f} x); the held-out error "
           + (f"rose {small['rise']:.0%} above its best ({small['best_held_out']:.4f} at epoch "
              f"{small['best_epoch']:.0f})" if rises else
              f"is within {RISE:.0%} of its best at the end ({small['rise']:+.1%}): the gap grew, the error "
              f"on new images did not rise"))
    return {"verdict": verdict, "why": why, "gap": gap, "rises": rises}


def regulariser_effect(plain: dict, model: dict) -> dict:
    """What a regulariser did on the small set, against the plain AE: smaller gap? lower held-out error?"""
    return {"gap_smaller": model["gap"] < plain["gap"] * (1 - TOLERANCE),
            "held_out_lower": model["held_out"] < plain["held_out"] * (1 - TOLERANCE),
            "gap_ratio": model["gap"] / plain["gap"], "held_out_ratio": model["held_out"] / plain["held_out"]}


def verdict_regulariser(name: str, plain: dict, model: dict) -> dict:
    """Claim 2 for one regulariser: "reduced overfitting" (a smaller train/held-out gap than the plain
    AE's on the small set) and "better generalization" (a lower held-out error). Both: "holds"; one
    of the two: "holds with a qualification"; neither: "does not hold here"."""
    e = regulariser_effect(plain, model)
    verdict = HOLDS if e["gap_smaller"] and e["held_out_lower"] else \
        QUALIFIED if e["gap_smaller"] or e["held_out_lower"] else FAILS
    why = (f"{name} on the small set: gap {model['gap']:.4f} against the AE's {plain['gap']:.4f} "
           f"({e['gap_ratio']:.2f} x), held-out error {model['held_out']:.4f} against "
           f"{plain['held_out']:.4f} "
           f"({e['held_out_ratio']:.2f} x)")
    return {"verdict": verdict, "why": why, **e}


def verdict_robust(name: str, robustness: dict[str, dict[str, list[float]]], levels: list[float],
                   jacobian: dict[str, dict[str, float]]) -> dict:
    """Claim 3 for one model: a lower held-out error than the plain AE's at every noise level > 0 on
    both training sets: "holds"; at the largest level on both sets, or at every level on one set:
    "holds with a qualification"; else "does not hold here". The Jacobian norms are reported beside."""
    wins = {}
    for size, r in robustness.items():
        wins[size] = [m < a * (1 - TOLERANCE)
                      for m, a, s in zip(r[name], r["AE"], levels, strict=True) if s > 0]
    everywhere = all(all(w) for w in wins.values())
    partly = all(w[-1] for w in wins.values()) or any(all(w) for w in wins.values())
    verdict = HOLDS if everywhere else QUALIFIED if partly else FAILS
    noisy = [i for i, s in enumerate(levels) if s > 0]
    parts = []
    for size, r in robustness.items():
        won = sum(wins[size])
        parts.append(f"{size} set: lower error than the AE at {won} of {len(noisy)} noise levels (at s = "
                     f"{levels[-1]:g}: {r[name][-1]:.4f} against {r['AE'][-1]:.4f}), mean ||J||_F "
                     f"{jacobian[size][name]:.2f} against {jacobian[size]['AE']:.2f}")
    return {"verdict": verdict, "why": f"{name}: " + "; ".join(parts), "wins": wins}


def verdict_training_data(sizes: list[int], ae: list[float], dae: list[float], sigma: float) -> dict:
    """Claim 4: the DAE's advantage over the AE (AE error / DAE error on held-out images with the noise
    it was trained on) against the number of training images. "holds" if the DAE does not beat the
    AE on the fewest images but does on the most; "holds with a qualification" if it beats it
    everywhere but its advantage grows by more than :data:`TOLERANCE`; else "does not hold here"."""
    advantage = [a / d for a, d in zip(ae, dae, strict=True)]
    first, last = advantage[0] > 1 + TOLERANCE, advantage[-1] > 1 + TOLERANCE
    grows = advantage[-1] > advantage[0] * (1 + TOLERANCE)
    verdict = HOLDS if not first and last else QUALIFIED if first and grows else FAILS
    why = (f"AE error / DAE error on held-out images with noise sigma {sigma:g}: "
           + ", ".join(f"{a:.2f} at {n:,}" for n, a in zip(sizes, advantage, strict=True))
           + (" images: the DAE beats the AE even on the fewest images, and gains more from more data"
              if verdict == QUALIFIED else " images"))
    return {"verdict": verdict, "why": why, "advantage": advantage}


# ---------------------------------------------------------------------------- figures
def plot_learning_curves(curves: dict[str, dict[str, dict]], path: str, labels: dict[str, str]) -> None:
    plt = plotting.pyplot()
    fig, axes = plt.subplots(1, len(curves), figsize=(6.2 * len(curves), 4.6), squeeze=False)
    colours = dict(zip(MODELS, plt.rcParams["axes.prop_cycle"].by_key()["color"], strict=False))
    for ax, (size, by_model) in zip(axes[0], curves.items(), strict=True):
        for name, c in by_model.items():
            ax.plot(c["epochs"], c["held_out"], color=colours[name], label=f"{name}, held-out")
            ax.plot(c["epochs"], c["train"], color=colours[name], ls="--", lw=1)
        best = summary(by_model["AE"])
        ax.axvline(best["best_epoch"], color="grey", ls=":", lw=1)
        ax.set_yscale("log")
        ax.set_xlabel(f"epoch ({by_model['AE']['updates'][-1]} updates of every model)")
        ax.set_ylabel("error, MSE per pixel (dashed: training images)")
        ax.set_title(labels[size])
        ax.grid(alpha=0.3, which="both")
    axes[0][0].legend(fontsize=8)
    plotting.save_figure(fig, path)


def plot_regularisers(small: dict[str, dict], early: dict, path: str) -> None:
    plt = plotting.pyplot()
    rows = {**{name: small[name] for name in MODELS}, "AE, early stopping": early}
    names = list(rows)
    x = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(9, 4.2))
    ax.bar(x - 0.2, [rows[n]["train"] for n in names], 0.4, label="training images")
    ax.bar(x + 0.2, [rows[n]["held_out"] for n in names], 0.4, label="held-out images")
    for i, n in enumerate(names):
        ax.text(i + 0.2, rows[n]["held_out"], f"{rows[n]['held_out']:.4f}", ha="center", va="bottom",
                fontsize=8)
    ax.set_xticks(x, [n.replace(" + ", "\n+ ").replace(", ", ",\n") for n in names], fontsize=9)
    ax.set_ylabel("error at the end, MSE per pixel")
    ax.set_title("small training set: what each regulariser does to the gap")
    ax.legend()
    plotting.save_figure(fig, path)


def plot_robustness(robustness: dict[str, dict[str, list[float]]], levels: list[float], path: str,
                    labels: dict[str, str]) -> None:
    plt = plotting.pyplot()
    fig, axes = plt.subplots(1, len(robustness), figsize=(6.2 * len(robustness), 4.4), squeeze=False)
    for ax, (size, r) in zip(axes[0], robustness.items(), strict=True):
        for name in MODELS:
            ax.plot(levels, r[name], marker="o", ms=3, label=name)
        ax.set_yscale("log")
        ax.set_xlabel("Gaussian noise s added to the held-out input")
        ax.set_ylabel("error against the clean image, MSE per pixel")
        ax.set_title(labels[size])
        ax.grid(alpha=0.3, which="both")
    axes[0][0].legend(fontsize=8)
    plotting.save_figure(fig, path)


def plot_sizes(sizes: list[int], table: dict[str, list[float]], path: str) -> None:
    plt = plotting.pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    for name, values in table.items():
        ax.plot(sizes, values, marker="o", ls="--" if "noisy" in name else "-", label=name,
                color="C0" if name.startswith("AE") else "C2")
    ax.set_xscale("log")
    ax.minorticks_off()  # only the sizes themselves on the axis
    ax.set_xticks(sizes, [f"{n:,}" for n in sizes])
    ax.set_xlabel("training images")
    ax.set_ylabel("held-out error, MSE per pixel")
    ax.set_title("how much training data")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    plotting.save_figure(fig, path)


# ---------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> dict:
    parser = example_parser(__doc__, "overfitting", batch_size=25, lr=5e-3)
    parser.add_argument("--hidden", type=positive_int, default=256, help="hidden width (default %(default)s)")
    parser.add_argument("--small", type=positive_int, default=250,
                        help="images of the small training set (default %(default)s)")
    parser.add_argument("--sizes", type=number_list(int, 1, "integers >= 1 like 250,1000,4000,8000"),
                        default="250,1000,4000,8000",
                        help="training-set sizes of the AE/DAE curve (default %(default)s)")
    parser.add_argument("--steps", type=positive_int, default=600,
                        help="updates of every model on every training set (default %(default)s)")
    parser.add_argument("--eval-every", type=positive_int, default=30,
                        help="updates between two points of the learning curves (default %(default)s)")
    parser.add_argument("--curve-n", type=positive_int, default=500,
                        help="held-out (and training) images scored along the learning curves "
                             "(default %(default)s)")
    parser.add_argument("--weight-decay", type=positive_float, default=1e-5,
                        help="lambda of the weight-decay model (default %(default)s)")
    parser.add_argument("--sigma", type=positive_float, default=0.3,
                        help="Gaussian noise of the DAE (default %(default)s)")
    parser.add_argument("--rho", type=open_fraction, default=0.05,
                        help="target mean activation of the sparse AE (default %(default)s)")
    parser.add_argument("--beta", type=positive_float, default=1e-3,
                        help="weight of the sparse AE's KL penalty (default %(default)s)")
    parser.add_argument("--lam", type=nonnegative_float, default=0.01,
                        help="weight of the contractive penalty (default %(default)s)")
    parser.add_argument("--noise-levels", type=number_list(float, 0.0, "numbers >= 0 like 0,0.1,0.2"),
                        default="0,0.1,0.2,0.3,0.5", help="test-time noise levels (default %(default)s)")
    args = parser.parse_args(argv)  # every argument checked before any data is read
    levels = sorted(set(args.noise_levels))
    if args.n_train is not None and args.small >= args.n_train:
        parser.error(f"argument --small: {args.small} images, not fewer than the {args.n_train} of --n-train")

    # 1. Data: pixels in [0, 1]; the small set is the first --small training images.
    X_train, _, X_test, _, source = load_mnist_or_exit(parser, args)
    if args.small >= len(X_train):
        parser.error(f"argument --small: {args.small} images, not fewer than the {len(X_train)} training "
                     f"images read")
    sets = {"small": X_train[:args.small], "large": X_train}
    sizes = sorted({min(n, len(X_train)) for n in args.sizes} | {args.small, len(X_train)})
    X_curve = X_test[:args.curve_n]  # held-out images scored along the curves
    labels = {k: f"{len(v):,} training images" for k, v in sets.items()}
    print(f"network: {build('AE', args)}; Adam lr {args.lr}, {args.steps} updates of {args.batch_size} "
          f"images for every model; weight decay {args.weight_decay:g}, DAE sigma {args.sigma:g}, "
          f"sparse AE rho "
          f"{args.rho:g} beta {args.beta:g}, CAE lam {args.lam:g}")

    # 2. Every model on the small and the large set, the same updates, the learning curves.
    start = time.perf_counter()
    models: dict[str, dict] = {size: {} for size in sets}
    curves: dict[str, dict] = {size: {} for size in sets}
    for size, X in sets.items():
        for name in MODELS:
            model = build(name, args)
            rng = np.random.default_rng(args.seed)  # the same batches for every model
            curves[size][name] = train(model, X, args.steps, args.batch_size, args.lr, args.eval_every, rng,
                                       X[:args.curve_n], X_curve)
            models[size][name] = model
            s = summary(curves[size][name])
            print(f"  {size:5s} {name:18s} train {s['train']:.5f}  held-out {s['held_out']:.5f}  "
                  f"(best {s['best_held_out']:.5f} at epoch {s['best_epoch']:.1f})")
    summaries = {size: {name: summary(c) for name, c in by_model.items()}
                 for size, by_model in curves.items()}

    # 3. Robustness on all the held-out images: error under input noise, encoder Jacobian norm.
    robustness: dict[str, dict[str, list[float]]] = {size: {} for size in sets}
    jacobian: dict[str, dict[str, float]] = {size: {} for size in sets}
    for size in sets:
        for name, model in models[size].items():
            robustness[size][name] = [
                error(model, X_test, corrupt(X_test, "gaussian", s, np.random.default_rng(args.seed + 1 + j),
                                             clip=(0.0, 1.0)) if s > 0 else X_test)
                for j, s in enumerate(levels)]
            jacobian[size][name] = mean_jacobian_norm(model, X_test[:500], batch_size=50)

    # 4. The training-set-size curve: AE and DAE on every size (the small and large runs reused).
    noisy_test = corrupt(X_test, "gaussian", args.sigma, np.random.default_rng(args.seed + 100),
                         clip=(0.0, 1.0))
    size_runs = {}
    for n in sizes:
        for name in ("AE", "DAE"):
            reuse = {args.small: "small", len(X_train): "large"}.get(n)
            if reuse:
                model = models[reuse][name]
            else:
                model = build(name, args)
                train(model, X_train[:n], args.steps, args.batch_size, args.lr, args.steps,
                      np.random.default_rng(args.seed))
            size_runs[(name, n)] = (error(model, X_test), error(model, X_test, noisy_test))
    train_time = time.perf_counter() - start
    size_table = {
        "AE, clean input": [size_runs[("AE", n)][0] for n in sizes],
        "DAE, clean input": [size_runs[("DAE", n)][0] for n in sizes],
        f"AE, noisy input (sigma {args.sigma:g})": [size_runs[("AE", n)][1] for n in sizes],
        f"DAE, noisy input (sigma {args.sigma:g})": [size_runs[("DAE", n)][1] for n in sizes],
    }

    # 5. The verdicts, from the numbers above.
    small, large = summaries["small"], summaries["large"]
    early = {"train": curves["small"]["AE"]["train"][int(np.argmin(curves["small"]["AE"]["held_out"]))],
             "held_out": small["AE"]["best_held_out"], "gap": small["AE"]["gap_at_best"],
             "epoch": small["AE"]["best_epoch"]}
    effects = {name: verdict_regulariser(name, small["AE"], small[name]) for name in MODELS[1:]}
    effects["AE, early stopping"] = verdict_regulariser("early stopping", small["AE"], early)
    verdicts = {
        "basic autoencoders overfit": verdict_basic_overfits(small["AE"], large["AE"]),
        "sparse: better generalization, reduced overfitting": effects["sparse AE"],
        "contractive: prevents overfitting": effects["CAE"],
        "contractive: robust to noise": verdict_robust("CAE", robustness, levels, jacobian),
        "denoising: improves robustness to noise": verdict_robust("DAE", robustness, levels, jacobian),
        "denoising: requires sufficient training data": verdict_training_data(
            sizes, size_table[f"AE, noisy input (sigma {args.sigma:g})"],
            size_table[f"DAE, noisy input (sigma {args.sigma:g})"], args.sigma),
    }

    # 6. Figures.
    plot_learning_curves(curves, os.path.join(args.out, "learning_curves.png"), labels)
    plot_regularisers(small, early, os.path.join(args.out, "regularisers.png"))
    plot_robustness(robustness, levels, os.path.join(args.out, "noise_robustness.png"), labels)
    plot_sizes(sizes, size_table, os.path.join(args.out, "training_set_size.png"))
    noisy = corrupt(X_test[:10], "gaussian", levels[-1], np.random.default_rng(args.seed + 200),
                    clip=(0.0, 1.0))
    rows = {"clean": X_test[:10], "noisy": noisy}
    for size, X in sets.items():  # short labels on two lines: they are drawn left of the pictures
        rows.update({f"{name}\n{len(X):,}": models[size][name].reconstruct(noisy)
                     for name in ("AE", "DAE", "CAE")})
    plotting.image_grid(rows, os.path.join(args.out, "reconstructions.png"),
                        title=f"held-out images with noise s = {levels[-1]:g}, reconstructed by the models "
                              f"trained on {len(sets['small']):,} and {len(sets['large']):,} images")

    # 7. The tables and the verdicts.
    for size in sets:
        print(f"\n{labels[size]}: {'train':>9s} {'held-out':>9s} {'gap':>9s} {'best':>9s} {'at epoch':>9s} "
              f"{'||J||_F':>8s}   held-out error at noise " + " ".join(f"{s:g}" for s in levels))
        for name in MODELS:
            s = summaries[size][name]
            print(f"  {name:18s} {s['train']:9.5f} {s['held_out']:9.5f} {s['gap']:9.5f} "
                  f"{s['best_held_out']:9.5f} {s['best_epoch']:9.1f} {jacobian[size][name]:8.2f}   "
                  + " ".join(f"{v:.4f}" for v in robustness[size][name]))
    print("\ntraining images: " + "  ".join(f"{n:>7,}" for n in sizes))
    for name, values in size_table.items():
        print(f"  {name:30s} " + "  ".join(f"{v:7.4f}" for v in values))
    print()
    for claim, v in verdicts.items():
        print(f"{claim}: {v['verdict'].upper()}\n    {v['why']}")
    print(f"\ntraining time {train_time:.1f}s; figures in {args.out}")
    metrics = {"data": source, "n_train": len(X_train), "n_small": args.small, "n_test": len(X_test),
               "hidden": args.hidden, "steps": args.steps, "batch_size": args.batch_size, "lr": args.lr,
               "weight_decay": args.weight_decay, "sigma": args.sigma, "rho": args.rho, "beta": args.beta,
               "lam": args.lam, "noise_levels": levels, "curves": curves, "summaries": summaries,
               "early_stopping": early, "regularisers": effects, "robustness": robustness,
               "mean_jacobian_norm": jacobian, "sizes": sizes, "size_curve": size_table, "verdicts": verdicts,
               "train_seconds": train_time}
    plotting.write_metrics(args.out, metrics)
    return metrics


if __name__ == "__main__":
    main()
