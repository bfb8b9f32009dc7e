"""One-class anomaly detection by reconstruction error: train on one digit, flag the others.

An autoencoder trained only on images of one digit learns to reconstruct that digit well and
everything else badly, so its reconstruction error is an anomaly score. This script trains
three detectors on the training images of ``--digit``:

- an autoencoder 784-128-16-128-784 (ReLU, sigmoid output, MSE);
- a denoising autoencoder of the same shape (masking noise), which generalises less to
  inputs it has never seen;
- PCA with 16 components (the linear baseline: its error is the distance to a 16-d subspace);

scores every test image by its per-pixel MSE, and reports the ROC AUC (``npae.metrics.roc_auc``:
the probability that a random anomaly scores higher than a random normal image) for every
other digit and for all of them together. Derivation: ``docs/13-applications.md``.

Run::

    python examples/anomaly_detection.py --data-dir /path/to/mnist --digit 5

With digit 5 as the normal class the detectors reach an AUC of about 0.98; the digits a five
is most often confused with share its strokes (3, 9). ``--all-digits`` repeats the experiment
with each digit as the normal class: 1 and 0 are easy, 2 and 8 the hardest (about 0.91-0.94).

Writes ``scores.png`` (score histograms and ROC curves), ``auc_per_class.png`` and
``metrics.json`` to ``--out`` (default ``npae-out/anomaly_detection``).
"""

from __future__ import annotations

import argparse
import os

import numpy as np

from npae import PCA, Autoencoder, DenoisingAutoencoder, plotting
from npae.metrics import roc_auc, roc_curve
from npae.optim import Adam
from npae.plotting import save_figure, write_metrics
from npae.scripts import code_size, example_parser, load_mnist_or_exit

plt = plotting.pyplot()  # matplotlib's pyplot, headless when there is no display


def per_image_mse(X: np.ndarray, X_hat: np.ndarray) -> np.ndarray:
    """Anomaly score: mean over pixels of (x - x_hat)^2, one per image, shape (N,)."""
    return np.mean((X - X_hat) ** 2, axis=1)


def fit_and_score(normal: np.ndarray, X_test: np.ndarray, code: int, epochs: int, seed: int
                  ) -> dict[str, np.ndarray]:
    """Fit the AE, the DAE and PCA on ``normal`` images; return each one's scores of ``X_test``, (N,)."""
    sizes = (784, 128, code)
    ae = Autoencoder(sizes, activation="relu", code_activation="identity", output_activation="sigmoid",
                     loss="mse", random_state=seed)
    dae = DenoisingAutoencoder(sizes, activation="relu", code_activation="identity",
                               output_activation="sigmoid", loss="mse", noise="masking", noise_level=0.3,
                               random_state=seed)
    for model in (ae, dae):
        model.fit(normal, epochs=epochs, batch_size=64, optimizer=Adam(1e-3))
    pca = PCA(code).fit(normal)
    return {"AE": per_image_mse(X_test, ae.reconstruct(X_test)),
            "DAE": per_image_mse(X_test, dae.reconstruct(X_test)),
            "PCA": pca.reconstruction_errors(X_test)}


def main(argv: list[str] | None = None) -> None:
    parser = example_parser(__doc__, "anomaly_detection", epochs=40,
                            formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--digit", type=int, default=5, choices=range(10), help="the 'normal' class")
    parser.add_argument("--code", type=code_size, default=16,
                        help="code size of the AEs and number of PCA components")
    parser.add_argument("--all-digits", action="store_true",
                        help="also take every digit in turn as the normal class (ten times the work)")
    args = parser.parse_args(argv)
    X_train, y_train, X_test, y_test, source = load_mnist_or_exit(parser, args)
    normal = X_train[y_train == args.digit]  # (n_d, 784): the only thing the detectors see
    if len(normal) < args.code:
        parser.error(f"the {len(X_train)} training images hold {len(normal)} of digit {args.digit}: PCA with "
                     f"--code {args.code} needs at least {args.code}; pick another --digit or more --n-train")
    if (y_test == args.digit).all() or not (y_test == args.digit).any():
        parser.error(f"the {len(X_test)} test images need both digit {args.digit} and other digits to score "
                     f"a detector; they hold {int((y_test == args.digit).sum())} of digit {args.digit}")
    print(f"training on the {len(normal)} training images of digit {args.digit}; "
          f"scoring all {len(X_test)} test images")

    # 1-2. Three detectors fitted on normal images only; every test image scored by its
    # reconstruction error.
    scores = fit_and_score(normal, X_test, args.code, args.epochs, args.seed)
    is_anomaly = y_test != args.digit

    # 3. ROC AUC: all anomalies together, then each other digit the test images hold against the
    # normal ones (a folder may hold fewer than ten classes).
    others = [c for c in range(10) if c != args.digit and (y_test == c).any()]
    auc_all = {name: roc_auc(s, is_anomaly) for name, s in scores.items()}
    auc_class = {name: {} for name in scores}
    for c in others:
        keep = (y_test == c) | (y_test == args.digit)  # this digit vs the normal one
        for name, s in scores.items():
            auc_class[name][c] = roc_auc(s[keep], y_test[keep] == c)
    print(f"\nROC AUC, normal digit {args.digit} (1 = perfect, 0.5 = chance)")
    print("digit  " + "  ".join(f"{name:>6}" for name in scores))
    for c in others:
        print(f"{c:>5}  " + "  ".join(f"{auc_class[name][c]:6.3f}" for name in scores))
    print("  all  " + "  ".join(f"{auc_all[name]:6.3f}" for name in scores))

    # 4. Figures: histograms of the AE's scores and the three ROC curves; AUC per class.
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    s = scores["AE"]
    bins = np.logspace(np.log10(s.min()), np.log10(s.max()), 50)
    ax1.hist(s[~is_anomaly], bins=bins, alpha=0.6, density=True, label=f"digit {args.digit} (normal)")
    ax1.hist(s[is_anomaly], bins=bins, alpha=0.6, density=True, label="other digits (anomalies)")
    ax1.set_xscale("log")
    ax1.set_xlabel("AE reconstruction MSE (anomaly score)")
    ax1.set_ylabel("density")
    ax1.set_title(f"AE trained on digit {args.digit}")
    ax1.legend()
    for name, s in scores.items():
        fpr, tpr, _ = roc_curve(s, is_anomaly)
        ax2.plot(fpr, tpr, label=f"{name}, AUC {auc_all[name]:.3f}")
    ax2.plot([0, 1], [0, 1], "k:", lw=1)
    ax2.set_xlabel("false positive rate")
    ax2.set_ylabel("true positive rate")
    ax2.set_title("ROC: all other digits as anomalies")
    ax2.legend(loc="lower right")
    save_figure(fig, os.path.join(args.out, "scores.png"))

    fig, ax = plt.subplots(figsize=(7, 3.5))
    width = 0.27
    for i, name in enumerate(scores):
        ax.bar(np.arange(len(others)) + (i - 1) * width, [auc_class[name][c] for c in others], width,
               label=name)
    ax.set_xticks(np.arange(len(others)), [str(c) for c in others])
    ax.set_xlabel("anomalous digit")
    ax.set_ylabel("ROC AUC")
    lowest = min(min(d.values()) for d in auc_class.values())
    ax.set_ylim(min(0.5, lowest) - 0.05, 1.0)
    ax.axhline(0.5, color="k", ls=":", lw=1)  # chance
    ax.set_title(f"Detecting each digit as an anomaly (normal digit {args.digit})")
    ax.legend(loc="lower right")
    ax.grid(axis="y", alpha=0.3)
    save_figure(fig, os.path.join(args.out, "auc_per_class.png"))

    # 5. Optionally, every digit in turn as the normal class: the AUC of all other digits pooled.
    auc_by_digit = {}
    if args.all_digits:
        print("\nROC AUC, each digit as the normal class, all other digits as anomalies")
        print("normal " + "  ".join(f"{name:>6}" for name in scores))
        for d in range(10):
            s_d = fit_and_score(X_train[y_train == d], X_test, args.code, args.epochs, args.seed)
            auc_by_digit[str(d)] = {name: roc_auc(v, y_test != d) for name, v in s_d.items()}
            print(f"{d:>6} " + "  ".join(f"{auc_by_digit[str(d)][name]:6.3f}" for name in scores))
        means = {name: float(np.mean([a[name] for a in auc_by_digit.values()])) for name in scores}
        print("  mean " + "  ".join(f"{means[name]:6.3f}" for name in scores))
        auc_by_digit["mean"] = means

    write_metrics(args.out, {
        "data": source, "normal_digit": args.digit, "n_train_normal": len(normal),
        "auc_all": auc_all,
        "auc_per_class": {name: {str(c): v for c, v in d.items()} for name, d in auc_class.items()},
        "auc_all_by_normal_digit": auc_by_digit,
    })
    print(f"figures and metrics.json written to {args.out}")


if __name__ == "__main__":
    main()
