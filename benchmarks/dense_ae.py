"""Benchmark: training throughput of the dense autoencoder 784-256-32-256-784, npae vs PyTorch.

The network is the one of issue 2: ReLU hidden and code layers, sigmoid output, MSE loss,
Adam (lr 1e-3), mini-batches of 128 MNIST images, float32. One *step* is a whole training
step (forward, loss, backward, Adam update). Both frameworks train on the same batches, cycled
in the same order, and are timed in interleaved rounds by ``harness.py``; the script prints
samples/s for each and the ratio npae/torch (target: at least 0.8).

Run it (PyTorch is optional; without it only npae is timed)::

    python benchmarks/dense_ae.py --data-dir /path/to/mnist            # about a minute
    python benchmarks/dense_ae.py --data-dir /path/to/mnist --quick    # a few seconds
    python benchmarks/dense_ae.py --data-dir /path/to/mnist --profile  # where npae's time goes

``--data-dir`` defaults to ``$NPAE_DATA_DIR``. Results are recorded in docs/benchmarks.md.
"""

from __future__ import annotations

import numpy as np

import npae

from harness import main_for, npae_adam_step, torch_adam_step

SIZES = (784, 256, 32)  # encoder widths; the decoder mirrors them: 784-256-32-256-784


def npae_step_fn(batches: list[np.ndarray], seed: int):
    """A closure running one npae training step on the next batch (cycling through ``batches``)."""
    model = npae.Autoencoder(SIZES, activation="relu", output_activation="sigmoid", loss="mse",
                             random_state=seed, dtype=np.float32)
    return npae_adam_step(model, batches, seed)


def torch_step_fn(torch, batches: list[np.ndarray], seed: int):
    """The same network, loss and optimiser in PyTorch."""
    nn = torch.nn
    torch.manual_seed(seed)
    layers: list = []
    widths = SIZES + SIZES[-2::-1]  # 784, 256, 32, 256, 784
    for i, (n_in, n_out) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
        layers += [nn.Linear(n_in, n_out), nn.Sigmoid() if i == len(widths) - 2 else nn.ReLU()]
    net = nn.Sequential(*layers)
    return torch_adam_step(torch, net, batches)


def main(argv: list[str] | None = None) -> None:
    main_for(__doc__, "dense AE 784-256-32-256-784",
             "784-256-32-256-784 ReLU, sigmoid output, MSE, Adam lr 1e-3, float32",
             npae_step_fn, torch_step_fn, target=0.8, argv=argv)


if __name__ == "__main__":
    main()
