"""Small timings the course pages quote, measured in one run and written to one JSON file.

    python benchmarks/kernels.py --json docs/metrics/bench_kernels.json
    python docs/figures.py            # puts the new figures into the pages

What is timed (float32, median over interleaved rounds of the best of a few calls; the two
sides of every comparison alternate, so a change of load hits both):

- ``sigmoid``: ``npae.layers.activations.sigmoid`` against ``scipy.special.expit`` on a
  128 x 784 batch, and the largest difference between the two in float32 ulps (docs/01);
- ``relu_backward``: ``ReLU.backward``'s ``dy * (x > 0)`` against ``np.where(x > 0, dy, 0)`` on
  a (128, 16, 14, 14) array (docs/01, docs/benchmarks.md);
- ``guard``: the training loop's check of every gradient (``npae.training._not_finite``)
  against one ``loss_and_grads`` of the 784-256-32 autoencoder, batch 128 (docs/11);
- ``contractive``: the chain-rule penalty against the closed form on a 784-128 sigmoid encoder,
  and a contractive step against a plain step for 784-128 and 784-256-64 (docs/07).

The JSON records when and where: the UTC time, the load average, the cores, NumPy's version and
the BLAS thread setting. On a shared machine the ratios are the figures to quote, not the times.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from datetime import UTC, datetime

import numpy as np
from scipy.special import expit

import npae
from npae.layers.activations import sigmoid
from npae.penalties.contractive import contractive_chain_rule, contractive_closed_form, layer_inputs
from npae.training import _not_finite


def best_time(fn, number: int) -> float:
    """Seconds per call: the best of three blocks of ``number`` calls."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - start) / number)
    return best


def compare(fns: dict, rounds: int, number: int) -> dict[str, float]:
    """Median over ``rounds`` interleaved rounds of each function's best time per call (seconds)."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    for fn in fns.values():
        fn()  # warm up
    for _ in range(rounds):
        for name, fn in fns.items():
            times[name].append(best_time(fn, number))
    return {name: statistics.median(t) for name, t in times.items()}


def max_ulps(a: np.ndarray, b: np.ndarray) -> float:
    """The largest ``|a - b|`` in units of ``b``'s last place (float32 spacing)."""
    return float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64)) / np.spacing(np.abs(b))))


def sigmoid_figures(rng, rounds: int) -> dict:
    x = (4 * rng.standard_normal((128, 784))).astype(np.float32)
    t = compare({"npae": lambda: sigmoid(x), "expit": lambda: expit(x)}, rounds, 50)
    grid = np.linspace(-100, 100, 200_001, dtype=np.float32)
    ref = expit(grid)
    keep = ref > np.finfo(np.float32).tiny
    return {"shape": [128, 784], "npae_us": t["npae"] * 1e6, "expit_us": t["expit"] * 1e6,
            "speedup": t["expit"] / t["npae"],
            "max_ulps_vs_float32_expit": max_ulps(sigmoid(grid)[keep], ref[keep]),
            "grid": "200,001 points in [-100, 100]"}


def relu_figures(rng, rounds: int) -> dict:
    x = rng.standard_normal((128, 16, 14, 14)).astype(np.float32)
    dy = rng.standard_normal(x.shape).astype(np.float32)
    t = compare({"mask": lambda: dy * (x > 0), "where": lambda: np.where(x > 0, dy, 0)}, rounds, 20)
    return {"shape": list(x.shape), "mask_us": t["mask"] * 1e6, "where_us": t["where"] * 1e6,
            "where_over_mask": t["where"] / t["mask"]}


def guard_figures(rng, rounds: int) -> dict:
    model = npae.Autoencoder(sizes=(784, 256, 32), random_state=0)
    X = rng.random((128, 784), dtype=np.float32)
    grads = model.loss_and_grads(X, rng)[2]
    t = compare({"step": lambda: model.loss_and_grads(X, rng), "guard": lambda: _not_finite(grads)},
                rounds, 10)
    return {"model": "Autoencoder 784-256-32-256-784, batch 128", "step_us": t["step"] * 1e6,
            "guard_us": t["guard"] * 1e6, "guard_share": t["guard"] / t["step"]}


def contractive_figures(rng, rounds: int) -> dict:
    X = rng.random((128, 784), dtype=np.float32)
    cae = npae.ContractiveAutoencoder(sizes=(784, 128), lam=0.01, random_state=0)
    cae.encoder.forward(X)
    layers, us = cae.encoder.layers, layer_inputs(cae.encoder)
    plain = npae.Autoencoder(sizes=(784, 128), activation="sigmoid", random_state=0)
    cae_deep = npae.ContractiveAutoencoder(sizes=(784, 256, 64), lam=0.01, random_state=0)
    plain_deep = npae.Autoencoder(sizes=(784, 256, 64), activation="sigmoid", random_state=0)
    t = compare({"chain": lambda: contractive_chain_rule(layers, us),
                 "closed": lambda: contractive_closed_form(layers[0], layers[1], *us),
                 "cae_step": lambda: cae.loss_and_grads(X, rng),
                 "plain_step": lambda: plain.loss_and_grads(X, rng),
                 "cae_deep_step": lambda: cae_deep.loss_and_grads(X, rng),
                 "plain_deep_step": lambda: plain_deep.loss_and_grads(X, rng)}, rounds, 3)
    return {"batch": 128, **{f"{k}_ms": v * 1e3 for k, v in t.items()},
            "chain_over_closed": t["chain"] / t["closed"],
            "cae_over_plain_784_128": t["cae_step"] / t["plain_step"],
            "cae_over_plain_784_256_64": t["cae_deep_step"] / t["plain_deep_step"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds (default 7)")
    parser.add_argument("--json", metavar="PATH", help="write the figures to this JSON file")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    load_before = os.getloadavg()[0]
    figures = {"sigmoid": sigmoid_figures(rng, args.rounds), "relu_backward": relu_figures(rng, args.rounds),
               "guard": guard_figures(rng, args.rounds), "contractive": contractive_figures(rng, args.rounds)}
    where = {"measured_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
             "load_average": [round(load_before, 1), round(os.getloadavg()[0], 1)],
             "cores": os.cpu_count(), "numpy": np.__version__,
             "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS", "default"), "rounds": args.rounds}
    result = {"where": where, **figures}
    print(json.dumps(result, indent=2))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
