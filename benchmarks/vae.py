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

import numpy as np

import npae

from harness import main_for, npae_adam_step

HIDDEN, LATENT = 400, 20


def npae_step_fn(batches: list[np.ndarray], seed: int):
    """A closure running one npae training step on the next batch (cycling through ``batches``)."""
    model = npae.VAE(sizes=(784, HIDDEN), latent_dim=LATENT, activation="relu", likelihood="bernoulli",
                     random_state=seed, dtype=np.float32)
    return npae_adam_step(model, batches, seed)


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
    main_for(__doc__, f"VAE 784-{HIDDEN}-{LATENT}",
             f"VAE 784-{HIDDEN}-{LATENT} ReLU, Bernoulli decoder (BCE with logits) + KL, Adam lr 1e-3, "
             "float32",
             npae_step_fn, torch_step_fn, target=0.8,
             loss_name="final training loss (negative ELBO per image, nats)", loss_format=".2f", argv=argv)


if __name__ == "__main__":
    main()
