"""Benchmark: training throughput of the VAE 784-400-20 (pytorch/examples' network), npae vs PyTorch.

Encoder 784-400 ReLU then 400 -> 2 x 20 (mu, log_var); decoder 20-400 ReLU then 400 -> 784
logits; Bernoulli likelihood (BCE with logits summed over pixels) + the closed-form KL, both
averaged over the batch; one reparameterised sample per image; Adam (lr 1e-3); mini-batches of
128 MNIST images; float32. One *step* is a whole training step (encode, sample, decode, loss,
backward through the sampling, Adam update). Both frameworks cycle through the same batches
and are timed in interleaved rounds by ``harness.py``; the script prints samples/s for each and
the ratio npae/torch (target: at least 0.8).

Run it (PyTorch is optional; without it only npae is timed)::

    python benchmarks/vae.py --data-dir /path/to/mnist            # about a minute
    python benchmarks/vae.py --data-dir /path/to/mnist --quick    # a few seconds
    python benchmarks/vae.py --data-dir /path/to/mnist --profile  # where npae's time goes

``--data-dir`` defaults to ``$NPAE_DATA_DIR``. Results are recorded in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys

import numpy as np
from harness import Workload, add_arguments, print_report, run, torch_or_none

try:
    import npae
except ImportError:  # run from a clone without installing: use the checkout's package
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
    import npae
from npae.datasets import mnist_split
from npae.optim import Adam

HIDDEN, LATENT = 400, 20


def npae_step_fn(batches: list[np.ndarray], seed: int):
    """A closure running one npae training step on the next batch (cycling through ``batches``)."""
    model = npae.VAE(sizes=(784, HIDDEN), latent_dim=LATENT, activation="relu", decoder="bernoulli",
                     random_state=seed, dtype=np.float32)
    opt = Adam(lr=1e-3)
    params = model.params  # the live arrays, updated in place by the optimiser
    rng = np.random.default_rng(seed)  # draws eps
    state = {"i": 0, "loss": 0.0}

    def step() -> None:
        xb = batches[state["i"] % len(batches)]
        state["i"] += 1
        loss, _, grads = model.loss_and_grads(xb, rng)
        opt.step(params, grads)
        state["loss"] = loss

    return step, state


def torch_step_fn(torch, batches: list[np.ndarray], seed: int):
    """The same network, objective and optimiser in PyTorch (as in pytorch/examples/vae)."""
    nn = torch.nn
    F = torch.nn.functional
    torch.manual_seed(seed)

    class TorchVAE(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc1 = nn.Linear(784, HIDDEN)
            self.fc2 = nn.Linear(HIDDEN, 2 * LATENT)  # [mu, log_var], like npae's single head
            self.fc3 = nn.Linear(LATENT, HIDDEN)
            self.fc4 = nn.Linear(HIDDEN, 784)

        def forward(self, x):
            mu, log_var = self.fc2(F.relu(self.fc1(x))).chunk(2, dim=1)
            z = mu + torch.exp(0.5 * log_var) * torch.randn_like(mu)
            return self.fc4(F.relu(self.fc3(z))), mu, log_var

    net = TorchVAE()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    tbatches = [torch.from_numpy(b) for b in batches]
    state = {"i": 0, "loss": 0.0}

    def step() -> None:
        xb = tbatches[state["i"] % len(tbatches)]
        state["i"] += 1
        opt.zero_grad(set_to_none=True)
        logits, mu, log_var = net(xb)
        rec = F.binary_cross_entropy_with_logits(logits, xb, reduction="sum")
        kl = -0.5 * torch.sum(1 + log_var - mu.pow(2) - log_var.exp())
        loss = (rec + kl) / xb.shape[0]
        loss.backward()
        opt.step()
        state["loss"] = loss.detach()

    return step, state


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=os.environ.get("NPAE_DATA_DIR"),
                        help="folder with the MNIST IDX files (default: $NPAE_DATA_DIR)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--n-batches", type=int, default=16, help="distinct batches cycled (default 16)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--profile", action="store_true",
                        help="profile 200 npae steps with cProfile instead of benchmarking")
    add_arguments(parser)
    args = parser.parse_args(argv)
    if not args.data_dir:
        parser.error("no MNIST folder: pass --data-dir DIR or set NPAE_DATA_DIR")

    X, _, _, _, source = mnist_split(args.data_dir)
    n = args.batch_size * args.n_batches
    if len(X) < n:
        parser.error(f"need {n} training images for {args.n_batches} batches of {args.batch_size}, "
                     f"have {len(X)}")
    batches = [np.ascontiguousarray(X[i:i + args.batch_size]) for i in range(0, n, args.batch_size)]
    print(f"data: {source}; {args.n_batches} batches of {args.batch_size} cycled")
    print(f"network: VAE 784-{HIDDEN}-{LATENT} ReLU, Bernoulli decoder (BCE with logits) + KL, Adam lr 1e-3, "
          f"float32; NumPy {np.__version__}")

    npae_step, npae_state = npae_step_fn(batches, args.seed)
    if args.profile:
        for _ in range(10):
            npae_step()
        prof = cProfile.Profile()
        prof.runcall(lambda: [npae_step() for _ in range(200)])
        pstats.Stats(prof, stream=sys.stdout).sort_stats("tottime").print_stats(20)
        return

    torch = torch_or_none(args)
    torch_step = torch_state = None
    if torch is not None:
        torch_step, torch_state = torch_step_fn(torch, batches, args.seed)
    results = run([Workload(f"VAE 784-{HIDDEN}-{LATENT}", npae_step, torch_step, args.batch_size)], args)
    print_report(results)
    final = f"final training loss (negative ELBO per image, nats): npae {npae_state['loss']:.2f}"
    if torch_state is not None:
        final += f", torch {float(torch_state['loss']):.2f}"
    print(final)
    ratio = results[0].ratio
    if ratio is not None:
        print(f"npae / PyTorch = {ratio:.2f} (target >= 0.80: {'met' if ratio >= 0.8 else 'NOT met'})")


if __name__ == "__main__":
    main()
