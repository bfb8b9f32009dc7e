"""Benchmark: training throughput of the strided convolutional autoencoder, npae vs PyTorch.

The network is ``npae.ConvAutoencoder((1, 28, 28), "strided", (16, 32), 3)``:
Conv(1->16, 3, s2, p1) - ReLU - Conv(16->32, 3, s2, p1) - ReLU - ConvT(32->16, 3, s2, p1, op1) -
ReLU - ConvT(16->1, 3, s2, p1, op1) - Sigmoid, MSE loss, Adam (lr 1e-3), mini-batches of 128
MNIST images (N, 1, 28, 28), float32. One *step* is a whole training step (forward, loss,
backward, Adam update). Both frameworks train on the same batches, cycled in the same order,
and are timed in interleaved rounds by ``harness.py``; the script prints samples/s for each and
the ratio npae/torch (target: at least 0.3).

Run it (PyTorch is optional; without it only npae is timed)::

    python benchmarks/conv_ae.py --data-dir /path/to/mnist            # about a minute
    python benchmarks/conv_ae.py --data-dir /path/to/mnist --quick    # a few seconds
    python benchmarks/conv_ae.py --data-dir /path/to/mnist --profile  # where npae's time goes

``--profile`` splits an npae step into im2col, col2im, GEMM, the rest of the convolution layers
(padding copies, transposes, bias), element-wise work (activations, loss, Adam) and the rest,
and reports the GEMMs' GFLOP/s. Every layer of this strided network takes the im2col route of
``npae/layers/conv.py``; the fast kernel of ``conv_shifted.py`` (stride-1 layers with fewer
output than input channels) never runs here, so the split does not know it. ``--data-dir``
defaults to ``$NPAE_DATA_DIR``. Results are recorded in docs/benchmarks.md.
"""

from __future__ import annotations

import time
from collections import defaultdict

import numpy as np

import npae
from npae.layers import Activation, Conv2D, Conv2DTranspose, conv

from harness import main_for, npae_adam_step, torch_adam_step

NETWORK = "Conv(1-16,s2)-ReLU-Conv(16-32,s2)-ReLU-ConvT(32-16,s2)-ReLU-ConvT(16-1,s2)-Sigmoid"


def npae_step_fn(batches: list[np.ndarray], seed: int):
    """A closure running one npae training step on the next batch (cycling through ``batches``)."""
    model = npae.ConvAutoencoder((1, 28, 28), "strided", (16, 32), 3, activation="relu",
                                 output_activation="sigmoid", loss="mse", random_state=seed)
    return npae_adam_step(model, batches, seed)


def torch_step_fn(torch, batches: list[np.ndarray], seed: int):
    """The same network, loss and optimiser in PyTorch."""
    nn = torch.nn
    torch.manual_seed(seed)
    net = nn.Sequential(
        nn.Conv2d(1, 16, 3, stride=2, padding=1), nn.ReLU(),
        nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.ReLU(),
        nn.ConvTranspose2d(32, 16, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),
        nn.ConvTranspose2d(16, 1, 3, stride=2, padding=1, output_padding=1), nn.Sigmoid())
    return torch_adam_step(torch, net, batches)


# ---------------------------------------------------------------- where the time goes
def _timed(fn, bucket: str, times: dict[str, float]):
    """Wrap ``fn`` so that its wall time is added to ``times[bucket]``."""
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            times[bucket] += time.perf_counter() - start
    return wrapper


def _gemm_shapes(model, batch: np.ndarray) -> list[tuple[int, int, int]]:
    """(m, k, n) of every matrix product of one training step, layer by layer."""
    shapes = []
    x_shape = batch.shape
    layers = model.encoder.layers + model.decoder.layers
    for i, layer in enumerate(layers):
        if isinstance(layer, (Conv2D, Conv2DTranspose)):
            n, c, h, w = x_shape
            out = layer.output_shape(x_shape)
            kk = layer.kernel_size[0] * layer.kernel_size[1]
            o = layer.out_channels
            if isinstance(layer, Conv2D):
                p = n * out[2] * out[3]
                shapes += [(o, c * kk, p), (o, p, c * kk)]  # forward, dW
                if i > 0:
                    shapes.append((c * kk, o, p))  # dcols = W^T dY
            else:
                p = n * h * w
                shapes += [(o * kk, c, p), (c, p, o * kk), (c, o * kk, p)]  # forward, dW, dX
            x_shape = out
    return shapes


def profile(step, state, batch: np.ndarray, steps: int) -> None:
    """Print how one npae step's time splits between im2col, col2im, GEMM and the rest."""
    model, opt = state["model"], state["opt"]
    times: dict[str, float] = defaultdict(float)
    # 1. instrument: the im2col/col2im helpers, every layer, the loss and the optimiser
    conv.im2col = _timed(conv.im2col, "im2col (strided copy)", times)
    conv.col2im = _timed(conv.col2im, "col2im (kH*kW slicing adds)", times)
    for layer in model.encoder.layers + model.decoder.layers:
        bucket = "activations" if isinstance(layer, Activation) else "conv layers"
        layer.forward = _timed(layer.forward, bucket, times)
        layer.backward = _timed(layer.backward, bucket, times)
    opt.step = _timed(opt.step, "Adam step", times)
    for _ in range(5):
        step()
    times.clear()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    total = (time.perf_counter() - start) / steps
    per = {k: v / steps for k, v in times.items()}
    # 2. the GEMMs, replayed alone with the step's exact shapes
    shapes = _gemm_shapes(model, batch)
    rng = np.random.default_rng(0)
    mats = [(rng.standard_normal((m, k), dtype=np.float32), rng.standard_normal((k, n), dtype=np.float32))
            for m, k, n in shapes]
    for a, b in mats:
        a @ b
    start = time.perf_counter()
    for _ in range(steps):
        for a, b in mats:
            a @ b
    gemm = (time.perf_counter() - start) / steps
    flops = sum(2 * m * k * n for m, k, n in shapes)
    im2col, col2im = per["im2col (strided copy)"], per["col2im (kH*kW slicing adds)"]
    rows = {"GEMM (replayed alone)": gemm, "im2col (strided copy)": im2col,
            "col2im (kH*kW slicing adds)": col2im,
            "conv: pad copies, transposes, bias": per.pop("conv layers") - im2col - col2im - gemm,
            "activations (ReLU, sigmoid)": per["activations"], "Adam step": per["Adam step"]}
    rows["rest (loss, batch checks, Python)"] = total - sum(rows.values())
    print(f"one step of {len(batch)} images: {total * 1e3:.2f} ms ({len(batch) / total:,.0f} samples/s)")
    for name, t in rows.items():
        print(f"  {name:<38} {t * 1e3:7.2f} ms  {100 * t / total:5.1f} %")
    print(f"GEMMs: {len(shapes)} products, {flops / 1e6:.0f} MFLOP per step, "
          f"{flops / gemm / 1e9:.1f} GFLOP/s alone, {flops / total / 1e9:.1f} GFLOP/s over the whole step")
    print("  shapes (m, k, n): " + ", ".join(str(s) for s in shapes))


def main(argv: list[str] | None = None) -> None:
    main_for(__doc__, "conv AE (strided, 1-16-32)", f"{NETWORK}, MSE, Adam lr 1e-3, float32",
             npae_step_fn, torch_step_fn, target=0.3, batch_shape=(1, 28, 28),  # (B, 1, 28, 28) batches
             profile=lambda step, state, batches: profile(step, state, batches[0], 100),
             profile_help="split 100 npae steps into im2col, col2im, GEMM, element-wise and the rest",
             argv=argv)


if __name__ == "__main__":
    main()
