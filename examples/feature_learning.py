"""What the codes are for: classify with few labels, from raw pixels, PCA and five autoencoders' codes,
and a stacked denoising autoencoder fine-tuned against the same network from random weights.

1. Without labels, on the training images: PCA (--code components), four autoencoders with one
   hidden layer of --code sigmoid units (plain, sparse, denoising, contractive), a VAE 784-256-code
   (its code: the posterior mean mu), and the greedy layer-wise pretraining of a stacked denoising
   autoencoder (--stack hidden widths; masking noise 0.1, 0.2, ... layer by layer, as in the
   Theano tutorial).
2. With 100, 1,000 and all the training labels (--labels; the small sets are class-balanced,
   drawn with --seed): for each representation, the test accuracy of a linear probe (softmax
   regression on the frozen codes, centred and scaled) and of a 5-nearest-neighbour vote; then the
   stacked network, fine-tuned end to end with those labels, against the very same network trained
   from its random initial weights for as many updates. Before fine-tuning, the stack's top codes
   are probed like the others.

Like every MNIST example it trains on 8,000 images and evaluates on 2,000 (the first of each set,
or of the test set alone when the folder has no training set; --n-train all --n-test all for every
image: it prints what it read). Training lengths are counted in updates (--steps, --pretrain-steps,
--finetune-steps, --probe-steps), not epochs, so all 60,000 training images train about as long
as 8,000 (the k-NN votes over 60,000 images and the encodings take longer). Every hyper-parameter
is fixed in advance: nothing is tuned on the test images. Written to --out: accuracy_vs_labels.png
and metrics.json (every accuracy under a key containing "acc"; each fine-tuning's training loss in
its last epoch under "<network> train_loss"). Math: docs/15-feature-learning.md and
docs/16-stacked-autoencoders.md.

Run::

    python examples/feature_learning.py --data-dir /path/to/mnist     # about two minutes on 2 cores
    python examples/feature_learning.py --data-dir /path/to/fashion-mnist --n-train all --n-test all
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

import npae
from npae import plotting
from npae.metrics import knn_accuracy, linear_probe_accuracy
from npae.optim import Adam
from npae.scripts import epochs_for, example_parser, load_mnist_or_exit, positive_int


def balanced_subset(y: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of ``n`` labelled examples, ``n // n_classes`` per class (the rest drawn at random)."""
    classes = np.unique(y)
    per_class = [rng.permutation(np.flatnonzero(y == c))[:n // len(classes)] for c in classes]
    chosen = np.concatenate(per_class)
    rest = rng.permutation(np.setdiff1d(np.arange(len(y)), chosen))[:n - len(chosen)]
    return np.sort(np.concatenate([chosen, rest]))


def label_sizes(text: str) -> list[int | None]:
    """An argparse ``type``: ``"100,1000,all"`` -> ``[100, 1000, None]`` (None: every training label)."""
    try:
        sizes = [None if t.strip().lower() == "all" else int(t) for t in text.split(",")]
    except ValueError:
        sizes = []
    if not sizes or any(n is not None and n < 10 for n in sizes):
        raise argparse.ArgumentTypeError(f"expected numbers >= 10 or 'all', like 100,1000,all, got {text!r}")
    return sizes


def widths(text: str) -> tuple[int, ...]:
    """An argparse ``type``: ``"256,128"`` -> ``(256, 128)``, hidden widths >= 1."""
    try:
        out = tuple(int(t) for t in text.split(","))
    except ValueError:
        out = ()
    if not out or min(out) < 1:
        raise argparse.ArgumentTypeError(f"expected widths >= 1 like 256,128, got {text!r}")
    return out


ARGUMENTS = ("code", "steps", "pretrain_steps", "finetune_steps", "probe_steps", "k", "repeats")
STACK_RUNS = ("stack fine-tuned", "same network, random init")


def main(argv: list[str] | None = None) -> dict:
    parser = example_parser(__doc__, "feature_learning", batch_size=128, lr=1e-3)
    parser.add_argument("--code", type=positive_int, default=128, help="code size of every model and PCA")
    parser.add_argument("--steps", type=positive_int, default=1500, help="updates of each autoencoder")
    parser.add_argument("--stack", type=widths, default=(256, 128), help="hidden widths of the stacked AE")
    parser.add_argument("--pretrain-steps", type=positive_int, default=1500,
                        help="updates of each stacked layer")
    parser.add_argument("--finetune-steps", type=positive_int, default=1000, help="updates of fine-tuning")
    parser.add_argument("--probe-steps", type=positive_int, default=500, help="updates of each linear probe")
    parser.add_argument("--k", type=positive_int, default=5, help="neighbours of the k-NN vote")
    parser.add_argument("--labels", type=label_sizes, default="100,1000,all",
                        help="numbers of labelled training images, or all")
    parser.add_argument("--repeats", type=positive_int, default=3, help="draws of each smaller labelled set")
    args = parser.parse_args(argv)  # every argument checked before any data is read
    stack = args.stack
    given = [n for n in args.labels if n is not None]
    if given and args.k > min(given):
        parser.error(f"argument --k: {args.k} neighbours, more than the {min(given)} labelled images of the "
                     f"smallest --labels set")

    # 1. Data: pixels in [0, 1]; the training labels are not used before step 3.
    X_train, y_train, X_test, y_test, source = load_mnist_or_exit(parser, args)
    if any(n is not None and n > len(X_train) for n in args.labels):
        parser.error(f"argument --labels: more than the {len(X_train)} training images read, "
                     f"{[n for n in args.labels if n is not None and n > len(X_train)]}")
    sizes = sorted({len(X_train) if n is None else n for n in args.labels})
    if args.k > sizes[0]:  # a k-NN vote over fewer images than k would be reported as k-NN all the same
        parser.error(f"argument --k: {args.k} neighbours, more than the {sizes[0]} labelled images of the "
                     f"smallest --labels set")
    n_classes = int(max(y_train.max(), y_test.max())) + 1
    start = time.perf_counter()

    # 2. Without labels: PCA, five autoencoders, and the stacked autoencoder's layer-wise pretraining.
    c, bs = args.code, args.batch_size
    one_layer = dict(sizes=(784, c), activation="sigmoid", random_state=args.seed)
    models = {
        "AE": npae.Autoencoder(loss="bce", **one_layer),
        "sparse AE": npae.SparseAutoencoder(loss="sse", rho=0.1, beta=3.0, weight_decay=3e-3, **one_layer),
        "denoising AE": npae.DenoisingAutoencoder(loss="bce", noise="masking", noise_level=0.3, **one_layer),
        "contractive AE": npae.ContractiveAutoencoder(loss="bce", lam=0.01, **one_layer),
        "VAE": npae.VAE(sizes=(784, 256), latent_dim=c, random_state=args.seed),
    }
    pca = npae.PCA(c).fit(X_train)
    codes = {"raw pixels": (X_train, X_test), "PCA": (pca.transform(X_train), pca.transform(X_test))}
    epochs = epochs_for(args.steps, len(X_train), bs)
    for name, model in models.items():
        tic = time.perf_counter()
        model.fit(X_train, epochs=epochs, batch_size=bs, optimizer=Adam(lr=args.lr))
        codes[name] = (model.encode(X_train), model.encode(X_test))
        print(f"  {name:15s} {epochs} epochs, loss {model.history_['loss'][-1]:.4f} "
              f"({time.perf_counter() - tic:.1f}s)")

    def stacked() -> npae.StackedAutoencoder:  # one network, one initialisation, whenever it is built
        noise = [{"noise": "masking", "noise_level": 0.1 * (i + 1)} for i in range(len(stack))]
        return npae.StackedAutoencoder((784, *stack, n_classes), activation="sigmoid", layer_args=noise,
                                       pretraining="denoising", tied=True, random_state=args.seed)

    tic = time.perf_counter()
    pretrained = stacked().pretrain(X_train, epochs=epochs_for(args.pretrain_steps, len(X_train), bs),
                                    batch_size=bs, optimizer=Adam(lr=args.lr))
    codes["stack, not fine-tuned"] = (pretrained.encode(X_train), pretrained.encode(X_test))
    print(f"  stacked DAE     {stack} pretrained layer by layer ({time.perf_counter() - tic:.1f}s)")

    # 3. With labels: probes and k-NN on every code; the stack fine-tuned, or the same network from its
    #    random initial weights, for as many updates. Means over --repeats class-balanced draws.
    rng = np.random.default_rng(args.seed)
    results: dict[str, dict] = {}
    for n in sizes:
        if n < len(X_train):
            draws = [balanced_subset(y_train, n, rng) for _ in range(args.repeats)]
        else:
            draws = [np.arange(len(X_train))]  # all the labels: one draw
        accs: dict[str, list[float]] = {}
        for rows in draws:
            ys = y_train[rows]
            for name, (H, H_test) in codes.items():
                accs.setdefault(f"{name} probe_acc", []).append(linear_probe_accuracy(
                    H[rows], ys, H_test, y_test, n_classes, steps=args.probe_steps, random_state=args.seed))
                accs.setdefault(f"{name} knn_acc", []).append(
                    knn_accuracy(H[rows], ys, H_test, y_test, k=min(args.k, n)))
            for name in STACK_RUNS:
                net = stacked()
                if name == "stack fine-tuned":
                    for k, p in net.params.items():
                        np.copyto(p, pretrained.params[k])
                net.fit(X_train[rows], ys, epochs=epochs_for(args.finetune_steps, n, bs), batch_size=bs,
                        optimizer=Adam(lr=args.lr))
                accs.setdefault(f"{name} acc", []).append(net.score(X_test, y_test))
                accs.setdefault(f"{name} train_loss", []).append(float(net.history_["loss"][-1]))
        gains = np.subtract(*(accs[f"{name} acc"] for name in STACK_RUNS))
        results[str(n)] = {**{k: float(np.mean(v)) for k, v in accs.items()},
                           "pretraining gain acc": float(np.mean(gains)), "per draw": accs}
        print(f"  {n} labels, {len(draws)} draw(s): gain from pretraining "
              f"{', '.join(f'{100 * g:+.1f}' for g in gains)} points ({time.perf_counter() - start:.0f}s)")
    run_time = time.perf_counter() - start

    # 4. The table: test accuracy (%) against the number of labels.
    table = [(f"{name}, {'linear probe' if kind == 'probe' else f'{args.k}-NN'}", f"{name} {kind}_acc")
             for name in codes for kind in ("probe", "knn")]
    table += [(f"{name} ({'-'.join(map(str, stack))})", f"{name} acc") for name in STACK_RUNS]
    table += [("gain from pretraining (points)", "pretraining gain acc")]
    print(f"\ntest accuracy (%); {source}; labelled sets smaller than all: mean of {args.repeats} draws")
    print(f"{'labelled training images':44s}" + "".join(f"{n:>12,}" for n in sizes))
    for label, key in table:
        print(f"{label:44s}" + "".join(f"{100 * results[str(n)][key]:12.1f}" for n in sizes))
    print(f"\nrun time {run_time:.0f}s (after loading the data)")

    # 5. The plot: (a) the probes of every code, (b) the stack with and without pretraining, every draw.
    plt = plotting.pyplot()
    fig, (ax_a, ax_b) = plt.subplots(1, 2, figsize=(12, 5), sharey=True)
    for name in codes:
        ax_a.plot(sizes, [100 * results[str(n)][f"{name} probe_acc"] for n in sizes], marker="o",
                  label=name)
    ax_a.set_title("(a) linear probe on frozen codes")
    for name, colour in zip(STACK_RUNS, ("tab:red", "tab:blue"), strict=True):
        ax_b.plot(sizes, [100 * results[str(n)][f"{name} acc"] for n in sizes], color=colour,
                  marker="s", label=f"{name} (mean)")
        for n in sizes:
            draws = results[str(n)]["per draw"][f"{name} acc"]
            ax_b.scatter([n] * len(draws), [100 * a for a in draws], color=colour, s=12, alpha=0.6)
    ax_b.set_title(f"(b) {'-'.join(map(str, stack))} network, {args.finetune_steps} updates (dots: draws)")
    for ax in (ax_a, ax_b):
        ax.set_xscale("log")
        ax.set_xticks(sizes, [f"{n:,}" for n in sizes])
        ax.minorticks_off()
        ax.set_xlabel("labelled training images")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")
    ax_a.set_ylabel("test accuracy (%)")
    fig.suptitle(f"what the codes are worth ({len(X_train):,} unlabelled training images)")
    plotting.save_figure(fig, os.path.join(args.out, "accuracy_vs_labels.png"))

    metrics = {"data": source, "n_train": len(X_train), "n_test": len(X_test), "run_seconds": run_time,
               **{name: getattr(args, name) for name in ARGUMENTS}, "batch_size": bs, "stack": list(stack),
               "seed": args.seed,
               "accuracy": results}
    path = plotting.write_metrics(args.out, metrics)
    print(f"figure and {path} written to {args.out}/")
    return metrics


if __name__ == "__main__":
    main()
