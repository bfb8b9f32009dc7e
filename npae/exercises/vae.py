"""Exercises of lesson 09: the VAE's reparameterisation (forward and backward) and its closed-form KL.

``reparameterize`` is graded against :func:`npae.models.vae.reparameterize` and
:func:`~npae.models.vae.reparameterize_backward` (the functions ``VAE``'s training step calls, so
``--run`` trains a VAE with the learner's), ``gaussian_kl`` against the batch mean of
:func:`npae.models.vae.gaussian_kl` (which returns one KL per example and the gradients of their
sum; the step multiplies them by ``beta / N``). Both also against central differences of npae's
forward.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import ModuleType

import numpy as np

from ..datasets import mnist_split
from ..datasets.idx import DataError
from ..models import VAE
from ..models.vae import gaussian_kl, reparameterize, reparameterize_backward
from ..optim import Adam
from ..plotting import image_grid
from .grading import Check, Exercise, Grader, Mistake, side_by_side

PAGE = "docs/09-vae.md"
REPARAM_ANCHOR = "5-the-reparameterisation-trick-and-its-gradient"
KL_ANCHOR = "4-the-kl-divergence-in-closed-form"

# ---------------------------------------------------------------------------- reparameterize
REPARAM_SKELETON = f'''"""Exercise `reparameterize` ({PAGE}#{REPARAM_ANCHOR}).

Write the VAE's sampling step z = mu + std * eps and its backward.
    npae exercise check reparameterize          grades it
    npae exercise check reparameterize --run    trains a VAE with your functions, beside npae's
"""

import numpy as np


def reparameterize(mu, log_var, eps):
    """A sample z of q(z | x) = N(mu, diag(exp(log_var))) from standard normal noise eps.

    log_var is log sigma^2 (the log of the variance), so the standard deviation is
    std = exp(0.5 * log_var), and

        z = mu + std * eps          (element by element)

    Parameters
    ----------
    mu : ndarray, shape (N, L)        the posterior means, one row per example
    log_var : ndarray, shape (N, L)   the posterior log-variances log sigma^2
    eps : ndarray, shape (N, L)       standard normal noise, eps ~ N(0, I)

    Returns
    -------
    z : ndarray, shape (N, L)
    """
    raise NotImplementedError


def reparameterize_backward(dz, log_var, eps):
    """The gradients of the loss L with respect to mu and log_var, given dz = dL/dz.

    Everything is element by element, so dmu = dz * dz/dmu and dlog_var = dz * dz/dlog_var.
    Derive dz/dlog_var from z = mu + exp(0.5 * log_var) * eps (the chain rule through exp).

    Parameters
    ----------
    dz : ndarray, shape (N, L)        dL/dz, from the decoder's backward
    log_var : ndarray, shape (N, L)   the forward's log_var
    eps : ndarray, shape (N, L)       the noise the forward used

    Returns
    -------
    dmu : ndarray, shape (N, L)
    dlog_var : ndarray, shape (N, L)
    """
    raise NotImplementedError
'''

REPARAM_CASES = ((5, 3), (1, 4), (4, 4))  # (N, L): non-square, a batch of 1, square


def _grade_reparameterize(g: Grader, rng: np.random.Generator) -> None:
    for i, (N, L) in enumerate(REPARAM_CASES + ((3, 2),)):
        extreme = i == len(REPARAM_CASES)  # log_var of +-50 and 0: a unit far from the prior
        mu, eps, dz = rng.normal(size=(N, L)), rng.normal(size=(N, L)), rng.normal(size=(N, L))
        log_var = np.array([[50.0, -50.0], [0.0, 50.0], [-50.0, 1.0]]) if extreme else \
            rng.uniform(-2.0, 2.0, size=(N, L))
        std, var = np.exp(0.5 * log_var), np.exp(log_var)
        shapes = f"N={N}, L={L}" + (", log_var of +-50" if extreme else "")
        z = g.call("reparameterize", mu, log_var, eps)
        g.compare(f"reparameterize, {shapes}", z, reparameterize(mu, log_var, eps), "z", mistakes={
            "z multiplies eps by the variance exp(log_var): it must be the standard deviation "
            "std = exp(0.5 log_var), or z has variance exp(2 log_var)": mu + var * eps,
            "z uses log_var as the standard deviation: std = exp(0.5 log_var)": mu + log_var * eps,
            "z multiplies eps by 0.5 exp(log_var): std = exp(0.5 log_var), the 0.5 belongs in the "
            "exponent": mu + 0.5 * var * eps})
        dmu, dlog_var = g.call("reparameterize_backward", dz, log_var, eps, n_outputs=2)
        ref_dmu, ref_dlog_var = reparameterize_backward(dz, log_var, eps)
        dmu_hints = {"mistakes": {"dmu is dz * std: z depends on mu with slope 1, so dmu = dz": dz * std}}
        dlv_hints = {"mistakes": {
            "dlog_var is missing the factor 0.5 of std = exp(0.5 log_var): d std/d log_var = 0.5 std":
                dz * std * eps,
            "dlog_var is missing eps: dz/dlog_var = 0.5 std * eps (the noise of this very sample)":
                0.5 * dz * std,
            "dlog_var is missing std = exp(0.5 log_var): dz/dlog_var = 0.5 std * eps (the chain rule "
            "through exp)": 0.5 * dz * eps,
            "dlog_var is the derivative of mu + exp(log_var) * eps: with std = exp(0.5 log_var), "
            "dz/dlog_var = 0.5 std * eps": dz * var * eps},
            "factors": {2.0: "dlog_var is missing the factor 0.5 of std = exp(0.5 log_var)"}}
        g.compare(f"dmu against npae, {shapes}", dmu, ref_dmu, "dmu", **dmu_hints)
        g.compare(f"dlog_var against npae, {shapes}", dlog_var, ref_dlog_var, "dlog_var", **dlv_hints)
        if extreme:
            continue

        def loss(mu=mu, log_var=log_var, eps=eps, dz=dz) -> float:  # L = sum(z * dz), so dL/dz = dz
            return float(np.sum(reparameterize(mu, log_var, eps) * dz))

        g.numeric(f"dmu, {shapes}", dmu, loss, mu, "dmu", **dmu_hints)
        g.numeric(f"dlog_var, {shapes}", dlog_var, loss, log_var, "dlog_var", **dlv_hints)


def line_images(n: int, rng: np.random.Generator, size: int = 8) -> np.ndarray:
    """``n`` binary ``size x size`` images of one straight line each, at a random angle and offset.

    Pixel ``p`` (centred coordinates) is on when ``|p . (cos t, sin t) - d| < 0.6``, with the angle
    ``t ~ U[0, pi)`` and the offset ``d ~ U[-2.5, 2.5]``: data on a 2-D manifold that a small VAE
    encodes in a few nats. Returns an array of shape (n, size*size), float64, values in {0, 1}.
    """
    theta, offset = rng.uniform(0.0, np.pi, n), rng.uniform(-2.5, 2.5, n)  # (n,) each
    c = np.arange(size) - (size - 1) / 2.0
    rows, cols = np.meshgrid(c, c, indexing="ij")  # (size, size) each
    dist = np.cos(theta)[:, None, None] * cols + np.sin(theta)[:, None, None] * rows - offset[:, None, None]
    return (np.abs(dist) < 0.6).reshape(n, -1).astype(np.float64)  # (n, size*size)


def _vae_data() -> tuple[np.ndarray, np.ndarray, tuple[int, int], str]:
    """MNIST (2,000 training and 500 held-out digits) if NPAE_DATA_DIR is set, else 8x8 line images."""
    if os.environ.get("NPAE_DATA_DIR"):

        try:
            X, _, X_test, _, _ = mnist_split(n_train=2000, n_test=500)
            return X.astype(np.float64), X_test.astype(np.float64), (28, 28), "MNIST digits"
        except (DataError, OSError):
            pass  # no MNIST files there: the offline data below
    X = line_images(4000, np.random.default_rng(0))  # (4000, 64)
    return X[:3000], X[3000:], (8, 8), "binary 8x8 images of lines"


def _run_reparameterize(module: ModuleType, out_dir: Path) -> str:
    """A small Bernoulli VAE (float64, Adam), trained with npae's sampling step, then with the learner's."""

    X, X_test, shape, what = _vae_data()
    d = X.shape[1]
    hidden, latent, epochs = (128, 8, 6) if d > 100 else (64, 4, 40)

    def train() -> dict[str, float]:
        model = VAE(sizes=(d, hidden), latent_dim=latent, random_state=0, dtype=np.float64)
        model.fit(X, epochs=epochs, batch_size=100, optimizer=Adam(lr=3e-3), verbose=False)
        image_grid({"held-out": X_test[:12], "reconstructed": model.reconstruct(X_test[:12]),
                    "samples": model.sample(12, rng=0)}, out_dir / "vae.png", shape=shape)
        return {"training -ELBO (nats)": model.score(X), "held-out -ELBO (nats)": model.score(X_test)}

    out_dir.mkdir(parents=True, exist_ok=True)
    table = side_by_side(f"A {d}-{hidden}-{latent} Bernoulli VAE, {epochs} epochs of Adam on {len(X):,} "
                         f"{what} (held out: {len(X_test):,}):", train,
                         {("npae.models.vae", "reparameterize"): module.reparameterize,
                          ("npae.models.vae", "reparameterize_backward"): module.reparameterize_backward})
    return f"{table}\nYour model's reconstructions and samples: {out_dir / 'vae.png'}"


# ---------------------------------------------------------------------------- gaussian_kl
KL_SKELETON = f'''"""Exercise `gaussian_kl` ({PAGE}#{KL_ANCHOR}).

Write the KL term of the VAE's loss, KL(N(mu, sigma^2) || N(0, I)) in closed form, and its gradient.
    npae exercise check gaussian_kl
"""

import numpy as np


def gaussian_kl(mu, log_var):
    """The KL divergence from q = N(mu, diag(exp(log_var))) to the prior N(0, I), averaged over the batch.

    For example n, summed over the L latent dimensions j (log_var is log sigma^2):

        KL_n = 0.5 * sum_j (mu[n, j]^2 + exp(log_var[n, j]) - 1 - log_var[n, j])

    and value = (1/N) sum_n KL_n, the KL term of the loss (the reconstruction term is a batch
    mean too). Derive dvalue/dmu and dvalue/dlog_var. Use log_var itself wherever the formula has
    log sigma^2: exp(log_var) may underflow to 0 for a unit the encoder has switched off hard.

    Parameters
    ----------
    mu : ndarray, shape (N, L)        the posterior means
    log_var : ndarray, shape (N, L)   the posterior log-variances log sigma^2

    Returns
    -------
    value : float                     (1/N) sum_n KL_n
    dmu : ndarray, shape (N, L)       dvalue/dmu
    dlog_var : ndarray, shape (N, L)  dvalue/dlog_var
    """
    raise NotImplementedError
'''

KL_CASES = ((6, 3), (1, 5), (4, 4))  # (N, L)


def _kl_mean(mu: np.ndarray, log_var: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """npae's ``gaussian_kl`` as the loss's KL term: the batch mean and its gradients."""
    kl, dmu, dlog_var = gaussian_kl(mu, log_var)
    n = len(mu)
    return float(kl.mean()), dmu / n, dlog_var / n


def _grade_gaussian_kl(g: Grader, rng: np.random.Generator) -> None:
    for i, (N, L) in enumerate(KL_CASES + ((3, 2),)):
        extreme = i == len(KL_CASES)
        mu = rng.normal(size=(N, L))
        log_var = np.array([[50.0, -50.0], [-800.0, 0.0], [1.0, -3.0]]) if extreme else \
            rng.uniform(-2.0, 2.0, size=(N, L))
        shapes = f"N={N}, L={L}" + (", log_var of 50, -50 and -800" if extreme else "")
        value, dmu, dlog_var = g.call("gaussian_kl", mu, log_var, n_outputs=3)
        ref_value, ref_dmu, ref_dlog_var = _kl_mean(mu, log_var)
        var = np.exp(log_var)
        per_entry = 0.5 * (mu * mu + var - 1.0 - log_var)  # (N, L)
        batch = {float(N): f"the KL is summed over the batch (N = {N}): average it; the reconstruction "
                 "is a batch mean, and summing one term while averaging the other multiplies beta by "
                 "the batch size"} if N > 1 else {}
        value_hints = {"mistakes": {
            "value has the wrong sign: KL = -0.5 sum(1 + log_var - mu^2 - exp(log_var)); without the "
            "minus in front it is -KL, and the loss would subtract the KL (pushing q away from the prior)":
                -ref_value,
            "value is averaged over the latent dimensions too: the KL of a diagonal Gaussian is the "
            "sum over its L dimensions, only the batch is averaged": float(per_entry.mean())},
            "factors": dict(batch)}
        if N > 1 and np.shape(value) == (N,):  # npae's per-example convention, not the loss's KL term
            g.checks.append(Check(f"value against npae, {shapes}", False, f"shape {(N,)}, expected ()",
                                  "value has one KL per example: return their mean over the batch, "
                                  "(1/N) sum_n KL_n, one number"))
        else:
            g.compare(f"value against npae, {shapes}", value, ref_value, "value", **value_hints)
        grad_factors = dict(batch)
        if L > 1:
            grad_factors[1.0 / L] = (f"averaged over the L = {L} latent dimensions too: the KL is "
                                     "their sum")
        g.compare(f"dmu against npae, {shapes}", dmu, ref_dmu, "dmu", factors=grad_factors)
        dlv_mistakes = {
            "dlog_var has the wrong sign: d/dlog_var of 0.5 (exp(log_var) - 1 - log_var) is "
            "+0.5 (exp(log_var) - 1)": -ref_dlog_var,
            "dlog_var is missing the factor 0.5 of the KL's 0.5 sum(...): "
            "dKL/dlog_var = 0.5 (exp(log_var) - 1)": 2 * ref_dlog_var}
        g.compare(f"dlog_var against npae, {shapes}", dlog_var, ref_dlog_var, "dlog_var",
                  mistakes=dlv_mistakes, factors=grad_factors)
        if extreme:
            continue

        def kl_value(mu=mu, log_var=log_var) -> float:
            return _kl_mean(mu, log_var)[0]

        g.numeric(f"dmu, {shapes}", dmu, kl_value, mu, "dmu", factors=grad_factors)
        g.numeric(f"dlog_var, {shapes}", dlog_var, kl_value, log_var, "dlog_var",
                  mistakes=dlv_mistakes, factors=grad_factors)


# ---------------------------------------------------------------------------- the catalogue
REPARAM_BACKWARD = '''
def reparameterize_backward(dz, log_var, eps):
    return dz, 0.5 * dz * np.exp(0.5 * log_var) * eps
'''
REPARAM_FORWARD = '''import numpy as np


def reparameterize(mu, log_var, eps):
    return mu + np.exp(0.5 * log_var) * eps
'''

KL_VALUE = '''import numpy as np


def gaussian_kl(mu, log_var):
    N = len(mu)
    value = -0.5 * np.sum(1 + log_var - mu ** 2 - np.exp(log_var)) / N
'''

EXERCISES = (
    Exercise(
        name="reparameterize", lesson=f"{PAGE}#{REPARAM_ANCHOR}",
        summary="the VAE's sampling step z = mu + exp(0.5 log_var) * eps and its backward (dmu, dlog_var)",
        skeleton=REPARAM_SKELETON, functions=("reparameterize", "reparameterize_backward"),
        solution={"reparameterize": "npae.models.vae.reparameterize",
                  "reparameterize_backward": "npae.models.vae.reparameterize_backward"},
        grade=_grade_reparameterize, run=_run_reparameterize,
        reference="from npae.models.vae import reparameterize as _forward\n"
                  "from npae.models.vae import reparameterize_backward as _backward"
                  "\n\ndef reparameterize(mu, log_var, eps):\n    return _forward(mu, log_var, eps)\n\n"
                  "def reparameterize_backward(dz, log_var, eps):\n    return _backward(dz, log_var, eps)\n",
        mistakes=(
            Mistake("eps times the variance", '''import numpy as np


def reparameterize(mu, log_var, eps):
    return mu + np.exp(log_var) * eps
''' + REPARAM_BACKWARD, "must be the standard deviation",
                    "tutorial code and lecture notes that write z = mu + sigma^2 * eps, copied widely",
                    "z then has variance exp(2 log_var): the model samples from another distribution than "
                    "the one its KL describes, and a gradient check of its own formula cannot see it; the "
                    "-ELBO it reports even looks better (10.5 nats against 14.2 on --run's line images), "
                    "because it is no longer a bound"),
            Mistake("dlog_var without the 0.5", REPARAM_FORWARD + '''

def reparameterize_backward(dz, log_var, eps):
    return dz, dz * np.exp(0.5 * log_var) * eps
''', "missing the factor 0.5", "differentiating exp(0.5 log_var) as if it were exp(log_var)",
                    "the chain rule through exp(0.5 log_var) brings down the 0.5 of the exponent"),
            Mistake("dlog_var without eps", REPARAM_FORWARD + '''

def reparameterize_backward(dz, log_var, eps):
    return dz, 0.5 * dz * np.exp(0.5 * log_var)
''', "dlog_var is missing eps", "taking d std/d log_var for dz/d log_var, forgetting std multiplies eps",
                    "z = mu + std * eps, so dz/dlog_var = (d std/d log_var) * eps = 0.5 std eps"),
            Mistake("dlog_var without std", REPARAM_FORWARD + '''

def reparameterize_backward(dz, log_var, eps):
    return dz, 0.5 * dz * eps
''', "dlog_var is missing std", "treating 0.5 log_var as the standard deviation when differentiating",
                    "d exp(u)/du = exp(u): the derivative of std = exp(0.5 log_var) keeps std as a factor"),
        )),
    Exercise(
        name="gaussian_kl", lesson=f"{PAGE}#{KL_ANCHOR}",
        summary="the VAE's KL term, 0.5 sum(mu^2 + exp(log_var) - 1 - log_var) per example, "
                "averaged over the batch, and its gradient",
        skeleton=KL_SKELETON, functions=("gaussian_kl",),
        solution={"gaussian_kl": "npae.models.vae.gaussian_kl (per example: the loss takes its batch mean)"},
        grade=_grade_gaussian_kl,
        reference="from npae.models.vae import gaussian_kl as _kl\n\n"
                  "def gaussian_kl(mu, log_var):\n    kl, dmu, dlog_var = _kl(mu, log_var)\n"
                  "    n = len(mu)\n    return kl.mean(), dmu / n, dlog_var / n\n",
        mistakes=(
            Mistake("the KL's sign flipped", '''import numpy as np


def gaussian_kl(mu, log_var):
    N = len(mu)
    value = 0.5 * np.sum(1 + log_var - mu ** 2 - np.exp(log_var)) / N
    return value, -mu / N, -0.5 * (np.exp(log_var) - 1) / N
''', "value has the wrong sign",
                    "copying -D_KL = 0.5 sum(1 + log sigma^2 - mu^2 - sigma^2), the form the VAE paper's "
                    "appendix gives, as the KL itself",
                    "the paper's expression is minus the KL; added to the loss it rewards moving q away "
                    "from the prior, and the KL term goes negative"),
            Mistake("KL summed over the batch", '''import numpy as np


def gaussian_kl(mu, log_var):
    value = 0.5 * np.sum(mu ** 2 + np.exp(log_var) - 1 - log_var)
    return value, mu, 0.5 * (np.exp(log_var) - 1)
''', "summed over the batch",
                    "a KL summed over the batch beside a reconstruction averaged over it, common in tutorial "
                    "code (the 1/N forgotten)",
                    "the missing 1/N makes the KL N times heavier than the reconstruction: a beta-VAE with "
                    "beta = N, whose code collapses to the prior"),
            Mistake("KL averaged over the latent dimensions", '''import numpy as np


def gaussian_kl(mu, log_var):
    N, L = mu.shape
    value = 0.5 * np.mean(mu ** 2 + np.exp(log_var) - 1 - log_var)
    return value, mu / (N * L), 0.5 * (np.exp(log_var) - 1) / (N * L)
''', "averaged over the latent dimensions too",
                    "a mean over the whole (N, L) array where a sum over the latent axis is meant (np.mean, "
                    "torch.mean or K.mean in place of a sum), as seen in tutorial snippets",
                    "the KL of a diagonal Gaussian adds over its dimensions; dividing by L weakens it L-fold "
                    "(a beta of 1/L)"),
            Mistake("dlog_var with the wrong sign", KL_VALUE + '''    dlog_var = 0.5 * (1 - np.exp(log_var))
    dlog_var = dlog_var / N
    return value, mu / N, dlog_var
''', "dlog_var has the wrong sign",
                    "differentiating -0.5 (1 + log_var - exp(log_var)) and losing the minus in front",
                    "d/dlog_var of -0.5 (log_var - exp(log_var)) is -0.5 (1 - exp(log_var)) = "
                    "0.5 (exp(log_var) - 1)"),
            Mistake("dlog_var without the 0.5", KL_VALUE + '''    dlog_var = (np.exp(log_var) - 1) / N
    return value, mu / N, dlog_var
''', "dlog_var is missing the factor 0.5",
                    "the KL's leading 0.5 applied to the value but not to the gradient",
                    "the 0.5 of 0.5 sum(...) multiplies every term's derivative, exp(log_var) - 1 included"),
            Mistake("the log of the variance", '''import numpy as np


def gaussian_kl(mu, log_var):
    N = len(mu)
    var = np.exp(log_var)
    value = 0.5 * np.sum(mu ** 2 + var - 1 - np.log(var)) / N
    return value, mu / N, 0.5 * (var - 1) / N
''', "use the stable form", "computing sigma^2 first and taking its log back, log(exp(log_var))",
                    "exp(-800) underflows to 0 and log(0) = -inf: the encoder's own log_var is exact"),
        )),
)
