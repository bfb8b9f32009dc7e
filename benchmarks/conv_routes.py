"""Benchmark: does the fast stride-1 kernel (npae/layers/conv_shifted.py) pay for itself?

Times one whole training step (``loss_and_grads`` and an Adam update) of
``npae.ConvDenoisingAutoencoder()``, the Keras blog's stride-1 network with pooling (Conv 1->32,
MaxPool, Conv 32->32, MaxPool, Conv 32->32, Up, Conv 32->32, Up, Conv 32->1; BCE; float32), on
batches of 128 MNIST images, twice: with the fast kernel (``npae.layers.conv.FAST_STRIDE1 =
True``, the default) and with the im2col route only (``False``). The two run in interleaved
rounds (the order alternating), so that a change of load hits both alike; the script prints
the median time per step of each, the ratio of the medians and the median of the per-round
ratios. The rule it checks: a fast kernel stays only if it saves at least 10% of a step.
Results are recorded in docs/benchmarks.md. On a shared machine, fix the BLAS threads::

    OPENBLAS_NUM_THREADS=1 python benchmarks/conv_routes.py --data-dir /path/to/mnist
    OPENBLAS_NUM_THREADS=2 python benchmarks/conv_routes.py --data-dir /path/to/mnist --rounds 31
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

import npae
from npae.layers import conv

from harness import load_average, npae_adam_step, numpy_threads


def main(argv: list[str] | None = None) -> None:
    from npae.scripts import load_mnist_or_exit

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=os.environ.get("NPAE_DATA_DIR"),
                        help="folder with the MNIST IDX files (default: $NPAE_DATA_DIR)")
    parser.add_argument("--rounds", type=int, default=15, help="interleaved rounds (default 15)")
    parser.add_argument("--steps", type=int, default=3, help="training steps per round and route (default 3)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps of each route first (default 2)")
    args = parser.parse_args(argv)
    X, _, _, _, _ = load_mnist_or_exit(parser, args)  # prints "data: <which images>"
    batches = [X[i: i + 128].reshape(-1, 1, 28, 28) for i in range(0, 16 * 128, 128)]  # (128, 1, 28, 28)
    print(f"NumPy {np.__version__}, {numpy_threads()} BLAS thread(s), "
          f"{args.rounds} rounds x {args.steps} steps per route")

    # 1. one model per route, the same initial weights; each step sets the switch it is timed with
    steps = {}
    for fast in (True, False):
        step, _ = npae_adam_step(npae.ConvDenoisingAutoencoder(random_state=0), batches, seed=0)

        def routed(step=step, fast=fast) -> None:
            conv.FAST_STRIDE1 = fast
            step()
        steps[fast] = routed
        for _ in range(args.warmup):
            routed()
    # 2. interleaved rounds, seconds per step
    times: dict[bool, list[float]] = {True: [], False: []}
    load_before = load_average()
    for r in range(args.rounds):
        for fast in ((True, False) if r % 2 == 0 else (False, True)):
            start = time.perf_counter()
            for _ in range(args.steps):
                steps[fast]()
            times[fast].append((time.perf_counter() - start) / args.steps)
    conv.FAST_STRIDE1 = True
    # 3. medians and ratios (im2col / fast: how many times longer a step takes without the kernel)
    fast, slow = statistics.median(times[True]), statistics.median(times[False])
    rounds = [s / f for s, f in zip(times[False], times[True], strict=True)]
    print(f"load average (1 min) before / after: {load_before} / {load_average()}")
    print(f"one step, median: fast kernel {1e3 * fast:.1f} ms, im2col only {1e3 * slow:.1f} ms")
    print(f"im2col / fast: {slow / fast:.2f}x (median of round ratios {statistics.median(rounds):.2f}x, "
          f"rounds {min(rounds):.2f}x to {max(rounds):.2f}x)")
    verdict = "keep" if fast <= 0.9 * slow else "drop"
    print(f"the fast kernel saves {100 * (1 - fast / slow):.0f}% of a step: {verdict} (rule: >= 10%)")


if __name__ == "__main__":
    main()
