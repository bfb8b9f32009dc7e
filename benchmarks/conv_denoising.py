"""Benchmark: training throughput of the Keras blog's denoising conv autoencoder, npae vs PyTorch.

The network is ``npae.ConvDenoisingAutoencoder()``'s defaults (the Keras blog's tutorial):
Conv(1->32, 3, p1) - ReLU - MaxPool(2) - Conv(32->32, 3, p1) - ReLU - MaxPool(2), then
Conv(32->32) - ReLU - UpSampling(2) - Conv(32->32) - ReLU - UpSampling(2) - Conv(32->1) and a
sigmoid output, binary cross-entropy (on the logits, the stable form both use), Gaussian noise
of factor 0.5 clipped to [0, 1] drawn afresh for every batch, Adam (lr 1e-3), mini-batches of
128 MNIST images (N, 1, 28, 28), float32. Every convolution has stride 1: the last one (32 -> 1
channels) runs npae's shifted-GEMM kernel (``npae/layers/conv_shifted.py``), the others im2col.
One *step* is a whole training step (corrupt, forward, loss, backward, Adam update). Both
frameworks train on the same batches, cycled in the same order, and are timed in interleaved
rounds by ``harness.py``; the script prints samples/s for each and the ratio npae/torch.

Run it (PyTorch is optional; without it only npae is timed)::

    python benchmarks/conv_denoising.py --data-dir /path/to/mnist            # a minute or two
    python benchmarks/conv_denoising.py --data-dir /path/to/mnist --quick    # under a minute

A step here costs about 35 times one of ``dense_ae.py`` (one thread), so the script's defaults are 9 rounds
of 20 steps after 5 warm-up steps (the others' are 11 rounds of 50 after 10): 23,040 images per
framework, under a minute of timed training each at one thread (43 s on a busy machine).
``--data-dir`` defaults to ``$NPAE_DATA_DIR``. Results are recorded in docs/benchmarks.md.
"""

from __future__ import annotations

import numpy as np

import npae

from harness import main_for, npae_adam_step, torch_adam_step

NETWORK = ("Conv(1-32)-ReLU-MaxPool-Conv(32-32)-ReLU-MaxPool-Conv(32-32)-ReLU-Up-Conv(32-32)-ReLU-Up-"
           "Conv(32-1)-Sigmoid")


def npae_step_fn(batches: list[np.ndarray], seed: int):
    """A closure running one npae training step on the next batch (cycling through ``batches``)."""
    return npae_adam_step(npae.ConvDenoisingAutoencoder(random_state=seed), batches, seed)


def torch_step_fn(torch, batches: list[np.ndarray], seed: int):
    """The same network, corruption, loss and optimiser in PyTorch."""
    nn = torch.nn
    torch.manual_seed(seed)

    def conv(c_in: int, c_out: int):
        return nn.Conv2d(c_in, c_out, 3, padding=1)

    net = nn.Sequential(
        conv(1, 32), nn.ReLU(), nn.MaxPool2d(2), conv(32, 32), nn.ReLU(), nn.MaxPool2d(2),
        conv(32, 32), nn.ReLU(), nn.Upsample(scale_factor=2), conv(32, 32), nn.ReLU(),
        nn.Upsample(scale_factor=2), conv(32, 1))  # logits; the sigmoid is inside the loss
    return torch_adam_step(torch, net, batches, loss_fn=nn.BCEWithLogitsLoss(),
                           corrupt=lambda xb: (xb + 0.5 * torch.randn_like(xb)).clamp_(0.0, 1.0))


def main(argv: list[str] | None = None) -> None:
    main_for(__doc__, "conv DAE (Keras blog, 1-32-32)", f"{NETWORK}, BCE, Gaussian noise 0.5, Adam lr 1e-3, "
             "float32", npae_step_fn, torch_step_fn, target=0.3, batch_shape=(1, 28, 28),  # (B, 1, 28, 28)
             loss_name="final training loss (BCE per pixel)", defaults=(9, 20, 5), argv=argv)


if __name__ == "__main__":
    main()
