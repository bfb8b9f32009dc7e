"""Two tuning claims, measured: the sparse AE's rho and beta, and the size of the code.

The lecture notes say a sparse autoencoder "needs careful tuning of the sparsity parameter" and
that an autoencoder "requires a good balance of latent space size": too small and the
reconstructions are blurry, too large (without a regulariser) and it learns to copy. This script
sweeps both and decides each claim by explicit rules on what it measured (``verdict_sparsity``,
``verdict_code_size``): "holds", "holds with a qualification" or "does not hold here".

1. **rho x beta** (KL sparsity, ``npae.SparseAutoencoder``, 784-64 sigmoid code, sigmoid output,
   UFLDL's cost with weight decay lambda 3e-3; npae calls the sparsity weight ``beta``, the notes
   call it lambda). For each cell: the held-out MSE, the mean activation rho_hat next to rho, the
   fraction of the inputs each unit fires on (h > 0.1), dead units (never fire) and always-on
   units (fire on more than 90% of the inputs). beta = 0 is one model (rho plays no part). A cell
   *misses* its target when rho_hat is more than 25% away from rho, *loses units* when 10% or more
   are dead, *costs* when its held-out MSE is more than 1.5 times the beta = 0 model's; a cell
   that does none of the three is *good*. The claim holds when good cells exist, at least two
   kinds of failure occur, and the good cells are at most half of the swept ones.
2. **Code size** k = 2, 4, ..., 512 (784-k-784, leaky-ReLU code, linear output, MSE, as
   ``examples/overcomplete.py``): a plain AE at every k and a denoising AE (Gaussian noise,
   sigma 0.3) at a few. For each model: held-out and training MSE; how much fine detail the
   reconstructions keep (mean squared difference of neighbouring pixels, reconstruction over
   input: 1 keeps it all, a blur is well below 1); and two measures of copying: the *gain* along
   the training images' top 100 principal directions (``overcomplete.py``: the identity has 1)
   and the share of the variance of *quarter-turned* held-out images the model reproduces (images
   with the data's pixels but not its shapes: a model that copies reproduces them as well as
   the held-out images). The small end is *blurry* when the smallest code keeps less than half
   the detail of the largest and has at least twice its error; the large end *copies* when the
   plain AE's gain is at least 0.9 and it reproduces at least 80% of the turned images' variance;
   the regulariser *stops it* when the DAE's gain at that size is at most 0.75 times the plain
   AE's. The claim holds when both ends show and the held-out error itself rises again at the
   large end; when the error keeps falling to the largest code, "too large" shows only as
   copying, and the claim holds with that qualification.

Like every MNIST example it trains on the first 8,000 training images and evaluates on 2,000
held-out images (``--n-train``, ``--n-test``); training lengths are counted in updates
(``--sparse-steps``, ``--steps``), so a smaller folder trains as long. Any MNIST-format folder
works (Fashion-MNIST, or the letters and photo crops of the tests). Derivations and measured
figures: ``docs/03-sparsity.md`` ("Tuning rho and beta") and
``docs/12-pca-and-linear-autoencoders.md`` ("How big should the code be").

Run::

    python examples/tuning.py --data-dir /path/to/mnist      # about a minute of CPU

Writes ``sparsity_heatmaps.png``, ``sparsity_filters.png``, ``code_size.png``,
``code_size_reconstructions.png`` and ``metrics.json`` to ``--out`` (default ``npae-out/tuning``).
"""

from __future__ import annotations

import os
import time

import numpy as np

import npae
from npae import plotting
from npae.metrics import reconstruction_gains
from npae.optim import Adam
from npae.scripts import (
    argument_type,
    code_size,
    epochs_for,
    example_parser,
    load_mnist_or_exit,
    nonnegative_float,
    positive_float,
    positive_int,
)

#: A unit "fires" on an input when its activation exceeds this (as in ``sparse_kl.py``).
FIRES = 0.1
#: A unit that fires on more than this share of the inputs is "always on".
ALWAYS_ON = 0.9
#: The rules of the sparsity verdict: a cell misses its target when |rho_hat - rho| > MISS * rho,
#: loses units when at least DEAD of them never fire, costs when its MSE exceeds COSTLY x beta=0's.
MISS, DEAD, COSTLY = 0.25, 0.10, 1.5
#: The rules of the code-size verdict (see the module docstring).
BLUR_DETAIL, BLUR_ERROR = 0.5, 2.0
COPY_GAIN, COPY_SHARE, STOPPED = 0.9, 0.8, 0.75
#: The principal directions along which the gain is averaged (as ``overcomplete.py``).
TOP = 100

rho_value = argument_type(float, lambda v: 0 < v < 1, "a number strictly between 0 and 1")


# ---------------------------------------------------------------------------- measurements
def unit_stats(H: np.ndarray) -> dict:
    """What a sigmoid code ``H`` (N, K) does: mean activation, each unit's firing share, dead/always-on."""
    rho_hat = H.mean(axis=0)  # (K,) each unit's mean activation
    fires = (H > FIRES).mean(axis=0)  # (K,) the share of inputs each unit fires on
    return {"mean_activation": float(rho_hat.mean()), "min_unit_activation": float(rho_hat.min()),
            "max_unit_activation": float(rho_hat.max()), "fires_on_mean": float(fires.mean()),
            "fires_on_min": float(fires.min()), "fires_on_max": float(fires.max()),
            "dead_units": int(np.sum(fires == 0)), "always_on_units": int(np.sum(fires > ALWAYS_ON))}


def mse(model, X: np.ndarray) -> float:
    """Mean squared error per pixel of ``model.reconstruct`` on ``X`` (N, D)."""
    return float(np.mean((model.reconstruct(X) - X) ** 2, dtype=np.float64))


def detail(X: np.ndarray) -> float:
    """Mean squared difference of neighbouring pixels of 28x28 images ``X`` (N, 784): fine detail."""
    img = X.reshape(-1, 28, 28).astype(np.float64)  # (N, 28, 28)
    return float(np.mean(np.diff(img, axis=1) ** 2) + np.mean(np.diff(img, axis=2) ** 2))


def reproduced(model, X: np.ndarray, mean: np.ndarray) -> float:
    """``1 - ||f(X) - X||^2 / ||X - mean||^2``: the share of the images' variance the model reproduces."""
    lost = np.sum((model.reconstruct(X) - X) ** 2, dtype=np.float64)
    return float(1.0 - lost / np.sum((X - mean) ** 2, dtype=np.float64))


def mean_gain(model, X: np.ndarray, directions: np.ndarray) -> float:
    """The mean over ``directions`` (K, D) of :func:`npae.metrics.reconstruction_gains` on ``X`` (N, D):
    1 for the identity, about 0 for a map that drops every direction (``overcomplete.py``)."""
    return float(np.mean(reconstruction_gains(model, X, directions)))


def quarter_turned(X: np.ndarray) -> np.ndarray:
    """The 28x28 images ``X`` (N, 784) turned by 90 degrees, (N, 784): the data's pixels, not its shapes."""
    return np.rot90(X.reshape(-1, 28, 28), axes=(1, 2)).reshape(len(X), 784).copy()  # (N, 784)


# ---------------------------------------------------------------------------- the verdicts
def cell_faults(cell: dict, dense_mse: float, n_units: int) -> list[str]:
    """The ways a (rho, beta > 0) cell fails: "misses" its rho, "loses units", "costs" error."""
    faults = []
    if abs(cell["mean_activation"] - cell["rho"]) > MISS * cell["rho"]:
        faults.append("misses")
    if cell["dead_units"] >= DEAD * n_units:
        faults.append("loses units")
    if cell["test_mse"] > COSTLY * dense_mse:
        faults.append("costs")
    return faults


def verdict_sparsity(cells: list[dict], dense: dict, n_units: int) -> dict:
    """Does the sparse AE need careful tuning of rho and beta? The rule of the module docstring."""
    faults = {(c["rho"], c["beta"]): cell_faults(c, dense["test_mse"], n_units) for c in cells}
    good = [key for key, f in faults.items() if not f]
    kinds = {kind: sum(kind in f for f in faults.values()) for kind in ("misses", "loses units", "costs")}
    seen = [kind for kind, n in kinds.items() if n]
    n = len(cells)
    counts = ", ".join(f"{kind} {k}" for kind, k in kinds.items())
    because = (f"{len(good)} of {n} cells (beta > 0) are good (rho_hat within {MISS:.0%} of rho, fewer than "
               f"{DEAD:.0%} dead units, held-out MSE at most {COSTLY} x the beta = 0 model's "
               f"{dense['test_mse']:.4f}); failures: {counts}")
    if not seen:
        verdict = "does not hold here"
        because += "; every cell is good: rho and beta need no care on this data"
    elif not good:
        verdict = "holds with a qualification"
        because += "; no cell is good: no setting in the grid is right, so tuning within it is not enough"
    elif len(seen) >= 2 and len(good) <= n / 2:
        verdict = "holds"
        because += "; the good cells are a narrow window"
    else:
        verdict = "holds with a qualification"
        because += (f"; the good cells are {len(good)} of {n}, a wide window" if len(good) > n / 2 else
                    f"; only one kind of failure ({seen[0]})")
    window = {str(rho): [beta for (r, beta) in good if r == rho] for rho in sorted({c["rho"] for c in cells})}
    because += "; good betas by rho: " + ", ".join(f"{rho}: {', '.join(f'{b:g}' for b in betas) or 'none'}"
                                                   for rho, betas in window.items())
    return {"claim": "a sparse autoencoder needs careful tuning of the sparsity parameters (rho and beta)",
            "verdict": verdict, "because": because, "good_cells": [list(key) for key in good],
            "good_betas_by_rho": window, "failures": kinds,
            "faults": {f"rho={r:g}, beta={b:g}": f for (r, b), f in faults.items()}}


def verdict_code_size(plain: dict, dae: dict) -> dict:
    """Does an autoencoder need a balanced code size? The rule of the module docstring."""
    ks = sorted(plain, key=int)
    small, large = plain[ks[0]], plain[ks[-1]]
    best_k = min(ks, key=lambda k: plain[k]["test_mse"])
    blurry = (small["detail_ratio"] < BLUR_DETAIL * large["detail_ratio"]
              and small["test_mse"] >= BLUR_ERROR * large["test_mse"])
    copies = large["gain"] >= COPY_GAIN and large["turned_reproduced"] >= COPY_SHARE
    rises = best_k != ks[-1]
    numbers = (f"k = {ks[0]}: held-out MSE {small['test_mse']:.4f}, detail kept {small['detail_ratio']:.2f}; "
               f"k = {ks[-1]}: MSE {large['test_mse']:.4f}, detail {large['detail_ratio']:.2f}, gain "
               f"{large['gain']:.2f}, {large['turned_reproduced']:.0%} of the quarter-turned images' "
               f"variance reproduced; lowest held-out MSE at k = {best_k}")
    stopped = None
    if ks[-1] in dae:
        d = dae[ks[-1]]
        stopped = d["gain"] <= STOPPED * large["gain"]
        numbers += (f"; the DAE at k = {ks[-1]}: gain {d['gain']:.2f}, {d['turned_reproduced']:.0%} of the "
                    f"turned images, MSE {d['test_mse']:.4f}")
    if not (blurry and copies):
        verdict = "does not hold here"
        ends = (("small end is not blurry", not blurry), ("large end does not copy", not copies))
        because = "the " + " and the ".join(end for end, shown in ends if shown)
    elif rises:
        verdict, because = "holds", "both ends show, and the held-out error rises again at the large end"
    else:
        verdict = "holds with a qualification"
        because = ("both ends show, but the held-out error keeps falling to the largest code: 'too large' "
                   "shows as copying (a near-identity that reproduces turned images too), not as a worse "
                   "error")
    if stopped is not None and copies:
        because += ("; the denoising AE of the same size does not copy" if stopped else
                    "; the denoising AE of the same size is as close to the identity")
    return {"claim": "an autoencoder needs a balanced code size: too small is blurry, too large copies",
            "verdict": verdict, "because": f"{because} ({numbers})", "small_end_blurry": blurry,
            "large_end_copies": copies, "error_rises_at_large_end": rises, "best_k": int(best_k),
            "regulariser_stops_copying": stopped}


# ---------------------------------------------------------------------------- the two sweeps
def sparsity_sweep(args, X_train: np.ndarray, X_test: np.ndarray) -> tuple[dict, list[dict], dict]:
    """Train the beta = 0 model and every (rho, beta) cell; returns (dense, cells, models)."""
    epochs = epochs_for(args.sparse_steps, len(X_train), args.batch_size)
    models, cells = {}, []
    settings = [(args.rhos[0], 0.0)] + [(rho, beta) for rho in args.rhos for beta in args.betas]
    for rho, beta in settings:
        start = time.process_time()
        model = npae.SparseAutoencoder(sizes=(784, args.hidden), loss="sse", sparsity="kl", rho=rho,
                                       beta=beta, weight_decay=args.weight_decay, random_state=args.seed)
        model.fit(X_train, epochs=epochs, batch_size=args.batch_size, optimizer=Adam(args.sparse_lr))
        r = {"rho": rho, "beta": beta, "test_mse": mse(model, X_test), **unit_stats(model.encode(X_test)),
             "cpu_seconds": time.process_time() - start}
        r["rho_miss"] = abs(r["mean_activation"] - rho) / rho
        key = "dense" if beta == 0 else (rho, beta)
        models[key] = model
        if beta == 0:
            dense = {k: v for k, v in r.items() if k not in ("rho", "rho_miss")}
            print(f"  beta = 0 (no sparsity): held-out MSE {r['test_mse']:.4f}, mean activation "
                  f"{r['mean_activation']:.3f}, {r['always_on_units']} units always on")
        else:
            cells.append(r)
            print(f"  rho {rho:<5g} beta {beta:<5g} MSE {r['test_mse']:.4f}  rho_hat "
                  f"{r['mean_activation']:.4f} ({r['rho_miss']:.0%} off)  fires on {r['fires_on_mean']:.1%}  "
                  f"dead {r['dead_units']:>2d}  always on {r['always_on_units']:>2d}  "
                  f"{r['cpu_seconds']:.1f}s")
    return dense, cells, models


def code_size_sweep(args, X_train: np.ndarray, X_test: np.ndarray) -> tuple[dict, dict, dict, float]:
    """Train the plain AE at every k and the DAE at ``--dae-ks``; returns (plain, dae, models, variance)."""
    epochs = epochs_for(args.steps, len(X_train), args.batch_size)
    top = min(TOP, *X_train.shape)
    pca = npae.PCA(top).fit(X_train)
    U = pca.components_.astype(X_train.dtype)  # (top, 784), unit rows, most variance first
    mean = X_train.mean(axis=0)  # (784,)
    turned = quarter_turned(X_test)  # (N_test, 784)
    X_gain = X_test[:10]  # the gains are averages over these images
    input_detail = detail(X_test)
    plain, dae, models = {}, {}, {}
    for k in args.ks:
        for kind in ("AE", "DAE") if k in args.dae_ks else ("AE",):
            start = time.process_time()
            common = dict(sizes=(784, k), activation="leaky_relu", output_activation="identity", loss="mse",
                          random_state=args.seed)
            model = (npae.Autoencoder(**common) if kind == "AE" else
                     npae.DenoisingAutoencoder(noise="gaussian", noise_level=args.sigma, **common))
            model.fit(X_train, epochs=epochs, batch_size=args.batch_size, optimizer=Adam(args.lr))
            r = {"test_mse": mse(model, X_test), "train_mse": mse(model, X_train),
                 "detail_ratio": detail(model.reconstruct(X_test)) / input_detail,
                 "gain": mean_gain(model, X_gain, U), "test_reproduced": reproduced(model, X_test, mean),
                 "turned_reproduced": reproduced(model, turned, mean),
                 "cpu_seconds": time.process_time() - start}
            (plain if kind == "AE" else dae)[k] = r
            models[kind, k] = model
            print(f"  {kind:3s} k = {k:<4d} MSE {r['test_mse']:.4f} (train {r['train_mse']:.4f})  detail "
                  f"{r['detail_ratio']:.2f}  gain {r['gain']:.2f}  reproduced: held-out "
                  f"{r['test_reproduced']:.0%}, turned {r['turned_reproduced']:.0%}  {r['cpu_seconds']:.1f}s")
    return plain, dae, models, float(pca.explained_variance_ratio_.sum())


# ---------------------------------------------------------------------------- figures
def heatmaps(dense: dict, cells: list[dict], rhos: list[float], betas: list[float], path: str):
    """Held-out MSE and |rho_hat - rho| / rho over the grid (beta = 0: one model, repeated in each row)."""
    plt = plotting.pyplot()
    columns = [0.0] + list(betas)
    by = {(c["rho"], c["beta"]): c for c in cells}
    fig, axes = plt.subplots(1, 2, figsize=(13, 1.1 * len(rhos) + 2.2))
    for ax, (what, title) in zip(axes, (("test_mse", "held-out MSE per pixel"),
                                         ("rho_miss", "|rho_hat - rho| / rho   (dead units)")), strict=True):
        dense_value = {rho: dense["test_mse"] if what == "test_mse" else
                       abs(dense["mean_activation"] - rho) / rho for rho in rhos}
        grid = np.array([[dense_value[rho] if beta == 0 else by[rho, beta][what] for beta in columns]
                         for rho in rhos])  # (n_rho, n_beta + 1)
        shown = grid if what == "test_mse" else np.log10(np.maximum(grid, 1e-3))
        im = ax.imshow(shown, cmap="viridis", aspect="auto")
        for i, rho in enumerate(rhos):
            for j, beta in enumerate(columns):
                text = f"{grid[i, j]:.4f}" if what == "test_mse" else f"{grid[i, j]:.2f}"
                if what != "test_mse" and beta > 0 and by[rho, beta]["dead_units"]:
                    text += f"\n({by[rho, beta]['dead_units']} dead)"
                ax.text(j, i, text, ha="center", va="center", fontsize=9,
                        color="white" if shown[i, j] < shown.mean() else "black")
        ax.set_xticks(range(len(columns)), [f"{b:g}" for b in columns])
        ax.set_yticks(range(len(rhos)), [f"{r:g}" for r in rhos])
        ax.set_xlabel("beta (weight of the KL term; 0: no sparsity)")
        ax.set_ylabel("rho (target mean activation)")
        ax.set_title(title + ("" if what == "test_mse" else ", colour: log10"))
        fig.colorbar(im, ax=ax, shrink=0.8)
    return plotting.save_figure(fig, path)


def pick_cells(dense: dict, cells: list[dict], verdict: dict) -> dict[str, tuple]:
    """Cells to show filters of: no sparsity, beta too small, a good one, beta too large (by the rules)."""
    by = {(c["rho"], c["beta"]): c for c in cells}
    smallest, largest = min(c["beta"] for c in cells), max(c["beta"] for c in cells)
    rhos = sorted({c["rho"] for c in cells})
    middle = rhos[(len(rhos) - 1) // 2]
    shown = {"no sparsity (beta = 0)": "dense", f"beta too small (rho {middle:g}, beta {smallest:g})":
             (middle, smallest)}
    good = sorted((tuple(k) for k in verdict["good_cells"]), key=lambda k: (k[0], by[k]["test_mse"]))
    if good:
        shown[f"good (rho {good[0][0]:g}, beta {good[0][1]:g})"] = good[0]
    worst = max(((rhos[0], largest), (middle, largest)), key=lambda k: (by[k]["dead_units"], -k[0]))
    shown[f"beta too large (rho {worst[0]:g}, beta {worst[1]:g})"] = worst
    return shown


def filters_figure(shown: dict, models: dict, results: dict, path: str, n: int = 36):
    """The first ``n`` filters (rows of W1) of each shown model, with its numbers."""
    plt = plotting.pyplot()
    fig, axes = plt.subplots(1, len(shown), figsize=(4.2 * len(shown), 5.0))
    for ax, (label, key) in zip(np.atleast_1d(axes), shown.items(), strict=True):
        W = models[key].params["encoder.0.W"][:n]  # (n, 784): row j is unit j's filter
        ax.imshow(plotting.tile_images(W.reshape(-1, 28, 28), normalize="each"), cmap="gray")
        r = results[key]
        ax.set_title(f"{label}\nMSE {r['test_mse']:.4f}, rho_hat {r['mean_activation']:.3f}, "
                     f"dead {r['dead_units']}", fontsize=10)
        ax.axis("off")
    fig.suptitle(f"the first {n} filters (rows of W1, each scaled to its own range)")
    return plotting.save_figure(fig, path)


def image_rows(rows: dict[str, np.ndarray], path: str, title: str):
    """One labelled row of 28x28 images per entry of ``rows`` (label -> (n, 784)), labels kept whole."""
    plt = plotting.pyplot()
    fig, axes = plt.subplots(len(rows), 1, figsize=(12, 1.3 * len(rows) + 0.4), squeeze=False)
    for ax, (label, images) in zip(axes[:, 0], rows.items(), strict=True):
        tiles = plotting.tile_images(images.reshape(-1, 28, 28), n_cols=len(images))  # one row of tiles
        ax.imshow(np.clip(tiles, 0, 1), cmap="gray", vmin=0, vmax=1)
        ax.set_ylabel(label.strip(), rotation=0, ha="right", va="center")
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(title)
    fig.tight_layout()
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")  # the whole labels, which tight_layout alone cuts
    plt.close(fig)
    return path


def code_size_figure(plain: dict, dae: dict, top: int, path: str):
    """Held-out and training error against k; the gain and the turned images' share against k."""
    plt = plotting.pyplot()
    fig, (a, b) = plt.subplots(1, 2, figsize=(13, 4.6))
    for name, runs, style in (("plain AE", plain, "o-"), ("DAE", dae, "s-")):
        if not runs:
            continue
        ks = sorted(runs)
        a.plot(ks, [runs[k]["test_mse"] for k in ks], style, label=f"{name}, held-out")
        a.plot(ks, [runs[k]["train_mse"] for k in ks], style[0] + ":", label=f"{name}, training")
        b.plot(ks, [runs[k]["gain"] for k in ks], style, label=f"{name}: gain, top {top} directions")
        b.plot(ks, [runs[k]["turned_reproduced"] for k in ks], style[0] + "--",
               label=f"{name}: share of turned images reproduced")
    for ax in (a, b):
        ax.set_xscale("log", base=2)
        ax.set_xlabel("code size k")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    a.set_yscale("log")
    a.set_ylabel("MSE per pixel")
    a.set_title("error against code size")
    b.axhline(1.0, color="grey", linestyle="--")
    b.set_ylabel("1 = the identity")
    b.set_title("how close to copying")
    return plotting.save_figure(fig, path)


# ---------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> dict:
    parser = example_parser(__doc__, "tuning", batch_size=128, lr=1e-3)
    parser.add_argument("--rhos", type=rho_value, nargs="+", default=[0.01, 0.05, 0.1, 0.3],
                        help="target mean activations of the sweep (default %(default)s)")
    parser.add_argument("--betas", type=positive_float, nargs="+", default=[0.3, 3.0, 30.0],
                        help="KL weights of the sweep, besides beta = 0 (default %(default)s)")
    parser.add_argument("--hidden", type=positive_int, default=64,
                        help="sparse code width (default %(default)s)")
    parser.add_argument("--weight-decay", type=nonnegative_float, default=3e-3,
                        help="lambda of the sparse AEs (default %(default)s)")
    parser.add_argument("--sparse-steps", type=positive_int, default=940,
                        help="updates of each sparse AE (default %(default)s: 15 epochs of 8,000 images)")
    parser.add_argument("--sparse-lr", type=positive_float, default=1e-2,
                        help="Adam learning rate of the sparse AEs (default %(default)s)")
    parser.add_argument("--ks", type=code_size, nargs="+", default=[2 ** i for i in range(1, 10)],
                        help="code sizes of the plain AE (default %(default)s)")
    parser.add_argument("--dae-ks", type=code_size, nargs="*", default=[2, 8, 32, 128, 512],
                        help="code sizes of the denoising AE (default %(default)s)")
    parser.add_argument("--steps", type=positive_int, default=630,
                        help="updates of each code-size model (default %(default)s: 10 epochs of 8,000 "
                             "images)")
    parser.add_argument("--sigma", type=positive_float, default=0.3,
                        help="the DAE's Gaussian noise (default %(default)s)")
    args = parser.parse_args(argv)
    if len(args.ks) < 2:
        parser.error(f"argument --ks: the sweep needs at least two code sizes, got {args.ks}")
    if not set(args.dae_ks) <= set(args.ks):
        parser.error(f"argument --dae-ks: {sorted(set(args.dae_ks) - set(args.ks))} not among --ks {args.ks}")
    args.rhos, args.betas, args.ks = sorted(set(args.rhos)), sorted(set(args.betas)), sorted(set(args.ks))
    X_train, _, X_test, _, source = load_mnist_or_exit(parser, args)
    start = time.process_time()

    # 1. rho x beta
    print(f"\n1. sparse AE 784-{args.hidden}, KL sparsity, lambda {args.weight_decay}: rho {args.rhos} x "
          f"beta {[0.0] + args.betas}")
    dense, cells, sparse_models = sparsity_sweep(args, X_train, X_test)
    sparsity = verdict_sparsity(cells, dense, args.hidden)
    print(f"verdict: '{sparsity['claim']}' {sparsity['verdict'].upper()}: {sparsity['because']}")
    heatmaps(dense, cells, args.rhos, args.betas, os.path.join(args.out, "sparsity_heatmaps.png"))
    results = {"dense": dense, **{(c["rho"], c["beta"]): c for c in cells}}
    shown = pick_cells(dense, cells, sparsity)
    filters_figure(shown, sparse_models, results, os.path.join(args.out, "sparsity_filters.png"))

    # 2. code size
    print(f"\n2. code size: plain AE 784-k-784 at k = {args.ks}, DAE (sigma {args.sigma}) at k = "
          f"{args.dae_ks}")
    plain, dae, models, top_variance = code_size_sweep(args, X_train, X_test)
    code = verdict_code_size(plain, dae)
    print(f"verdict: '{code['claim']}' {code['verdict'].upper()}: {code['because']}")
    top = min(TOP, *X_train.shape)
    code_size_figure(plain, dae, top, os.path.join(args.out, "code_size.png"))
    show, turned = X_test[:10], quarter_turned(X_test[:10])
    k_lo, k_hi = args.ks[0], args.ks[-1]
    # "k=8": the plain AE with an 8-number code; "DAE": the denoising AE at the largest size
    rows = {"held-out": show, **{f"k={k}": models["AE", k].reconstruct(show) for k in args.ks[::2]}}
    if k_hi not in args.ks[::2]:
        rows[f"k={k_hi}"] = models["AE", k_hi].reconstruct(show)
    if ("DAE", k_hi) in models:
        rows["DAE"] = models["DAE", k_hi].reconstruct(show)
    rows["turned"] = turned
    rows[f"k={k_lo} "] = models["AE", k_lo].reconstruct(turned)  # labels must differ
    rows[f"k={k_hi} "] = models["AE", k_hi].reconstruct(turned)
    if ("DAE", k_hi) in models:
        rows["DAE "] = models["DAE", k_hi].reconstruct(turned)
    image_rows(rows, os.path.join(args.out, "code_size_reconstructions.png"),
               title=f"held-out images, then quarter-turned ones: k=N the plain AE with an N-number code, "
                     f"DAE the denoising AE with {k_hi}")
    cpu = time.process_time() - start
    print(f"\n{cpu:.0f} CPU seconds; figures and metrics.json in {args.out}")

    metrics = {
        "data": source, "n_train": len(X_train), "n_test": len(X_test),
        "sparsity": {"hidden": args.hidden, "weight_decay": args.weight_decay,
                     "sparse_steps": args.sparse_steps, "rhos": args.rhos, "betas": args.betas,
                     "dense": dense, "cells": cells,
                     "shown_filters": {label: "beta=0" if key == "dense" else
                                       f"rho={key[0]:g}, beta={key[1]:g}" for label, key in shown.items()}},
        "code_size": {"ks": args.ks, "dae_ks": sorted(set(args.dae_ks)), "steps": args.steps,
                      "sigma": args.sigma, "top": top, "variance_in_top": top_variance,
                      "plain": {str(k): v for k, v in plain.items()},
                      "dae": {str(k): v for k, v in dae.items()}},
        "verdicts": {"sparsity": sparsity, "code_size": code},
        "cpu_seconds": cpu,
    }
    plotting.write_metrics(args.out, metrics)
    return metrics


if __name__ == "__main__":
    main()
