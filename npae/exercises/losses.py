"""Exercises of lessons 02, 03 and 15: three losses and two penalties, each a value and its gradient.

``mse``, ``bce_with_logits`` (docs/02-losses.md), ``kl_sparsity`` and ``weight_decay``
(docs/03-sparsity.md) and ``softmax_cross_entropy`` (docs/15-feature-learning.md). Each ``_grade_*``
function draws inputs (a batch of 1, non-square batches, logits of +-1000 where only the stable form
survives), calls the learner's function through the :class:`~npae.exercises.grading.Grader` and
compares its value and gradient with npae's (``npae.losses``, ``npae.penalties``) and the gradient
with central differences of npae's value. ``kl_sparsity --run`` trains UFLDL's sparse autoencoder
with the learner's penalty inside ``SparseAutoencoder``, beside npae's.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import numpy as np

from ..datasets import natural_patches
from ..layers import Sigmoid
from ..losses import bce_with_logits, mse, softmax, softmax_cross_entropy
from ..models import SparseAutoencoder
from ..optim import lbfgs
from ..penalties import kl_sparsity, l2_weight_decay
from ..plotting import filter_mosaic
from .grading import Exercise, Grader, LearnerError, Mistake, _as_array, side_by_side

LOSSES = "docs/02-losses.md"
SPARSITY = "docs/03-sparsity.md"
FEATURES = "docs/15-feature-learning.md"

# ---------------------------------------------------------------------------- mse
MSE_SKELETON = f'''"""Exercise `mse` ({LOSSES}#mse-mean-squared-error-mse).

Write the mean squared error and its gradient.
    npae exercise check mse
"""

import numpy as np


def mse(pred, target):
    """The mean squared error over every element, and its gradient with respect to pred.

        value = (1 / size) sum_i (pred_i - target_i)^2

    where the sum runs over all N*D elements and size = N*D (the mean is over every element,
    not over the rows: PyTorch's default, npae's reduction="mean").

    Derive dpred[n, d] = d value / d pred[n, d]: which terms of the sum contain pred[n, d]?

    Parameters
    ----------
    pred : ndarray, shape (N, D)      the predictions (an autoencoder's output)
    target : ndarray, shape (N, D)    the targets (an autoencoder's input)

    Returns
    -------
    value : float
    dpred : ndarray, shape (N, D)     d value / d pred
    """
    raise NotImplementedError
'''

MSE_CASES = ((4, 3), (1, 5), (3, 7))  # (N, D): non-square, a batch of 1


def _mean_factors(N: int, D: int, name: str) -> dict[float, str]:
    """The scale slips of an element-wise mean over (N, D): 1/(N*D) lost, or 1/N in its place."""
    factors = {float(N * D): f"N*D = {N * D} times too large: the mean divides by the number of elements"}
    if N > 1:
        factors[float(D)] = (f"D = {D} times too large: {name} divides by the N rows only; the mean is "
                             f"over all N*D elements")
    return factors


def _grade_mse(g: Grader, rng: np.random.Generator) -> None:
    for N, D in MSE_CASES:
        pred, target = rng.normal(size=(N, D)), rng.normal(size=(N, D))
        shapes = f"N={N}, D={D}"
        value, dpred = g.call("mse", pred, target, n_outputs=2)
        ref_value, ref_dpred = mse(pred, target)
        g.compare(f"value, {shapes}", value, ref_value, "value",
                  factors={**_mean_factors(N, D, "value"),
                           0.5: "half the mean squared error: there is no 1/2 in front here (that is sse's "
                                "convention)"})
        factors = {**_mean_factors(N, D, "dpred"), 0.5: "dpred is missing the factor 2 of d(u^2)/du = 2u"}
        g.compare(f"dpred against npae, {shapes}", dpred, ref_dpred, "dpred", factors=factors)
        g.numeric(f"dpred, {shapes}", dpred, lambda p=pred, t=target: mse(p, t)[0], pred, "dpred",
                  factors=factors)


# ---------------------------------------------------------------------------- bce_with_logits
BCE_ANCHOR = "bce-with-logits-fuse-the-sigmoid-into-the-loss-bce_with_logits"
BCE_SKELETON = f'''"""Exercise `bce_with_logits` ({LOSSES}#{BCE_ANCHOR}).

Write the binary cross-entropy of sigmoid(logits), computed from the logits, and its gradient.
    npae exercise check bce_with_logits
"""

import numpy as np


def bce_with_logits(logits, target):
    """Binary cross-entropy of p = sigmoid(logits) against target, and its gradient w.r.t. the logits.

        p_i = sigmoid(l_i) = 1 / (1 + exp(-l_i))
        value = (1 / size) sum_i -[t_i log(p_i) + (1 - t_i) log(1 - p_i)]

    with l = logits, t = target; the mean is over all size = N*D elements.

    It must stay finite for logits of +-1000, where sigmoid rounds to exactly 0 or 1 and log(0)
    is -inf, and where exp(1000) overflows. So first write log(p) and log(1 - p) in terms of l
    (with softplus(u) = log(1 + exp(u))), then compute log(1 + exp(u)) so that exp only ever
    sees a number <= 0.

    Derive dlogits_i = d value / d l_i: the chain rule through the sigmoid, whose derivative is
    p (1 - p).

    Parameters
    ----------
    logits : ndarray, shape (N, D)    any real numbers
    target : ndarray, shape (N, D)    in [0, 1]

    Returns
    -------
    value : float
    dlogits : ndarray, shape (N, D)   d value / d logits
    """
    raise NotImplementedError
'''


def _bce_cases(rng: np.random.Generator):
    """(label, logits, target): soft targets, a batch of 1 with 0/1 targets, and saturated logits."""
    yield "N=4, D=3", rng.normal(scale=3.0, size=(4, 3)), rng.uniform(size=(4, 3))
    yield "N=1, D=6", rng.normal(scale=3.0, size=(1, 6)), rng.integers(0, 2, size=(1, 6)).astype(float)
    extreme = np.array([[-1000.0, -40.0, 0.0, 40.0, 1000.0], [1000.0, 40.0, -3.0, -40.0, -1000.0]])
    target = np.array([[0.0, 1.0, 0.5, 0.0, 1.0], [0.0, 0.0, 1.0, 1.0, 1.0]])
    yield "logits of +-1000 and +-40", extreme, target


#: The epsilons a learner commonly clips probabilities with before a log (Keras's is 1e-7).
CLIP_EPS = (1e-7, 1e-8, 1e-10, 1e-12, 1e-15)


def _capped_bce(logits: np.ndarray, target: np.ndarray) -> tuple[dict[str, float], dict[str, np.ndarray]]:
    """The wrong values and dlogits of a BCE whose logs are capped: p clipped to [eps, 1 - eps], or each
    log clamped at -100 as PyTorch's BCELoss does. Finite at logits of +-1000, and wrong there."""
    p = Sigmoid.function(logits)  # (N, D)
    stable = ("at a logit of -1000 with target 1 the loss is 1000: compute it from the logits "
              "(the stable form)")
    values, dlogits = {}, {}
    with np.errstate(all="ignore"):
        for eps in CLIP_EPS:
            q = np.clip(p, eps, 1 - eps)  # (N, D)
            cap = f"caps each term at -log({eps:g}) = {-np.log(eps):.1f}"
            values[f"value clips p to [{eps:g}, 1 - {eps:g}], which {cap}; {stable}"] = \
                np.mean(-target * np.log(q) - (1 - target) * np.log(1 - q))
            dlogits[f"dlogits uses p clipped to [{eps:g}, 1 - {eps:g}]: (sigmoid(l) - t) / size needs no "
                    f"clipping"] = (q - target) / logits.size
        log_p, log_1mp = np.maximum(np.log(p), -100), np.maximum(np.log(1 - p), -100)  # (N, D) each
        clamped = f"value clamps each log at -100 (as PyTorch's BCELoss), so no term exceeds 100; {stable}"
        values[clamped] = np.mean(-target * log_p - (1 - target) * log_1mp)
    return values, dlogits


def _grade_bce(g: Grader, rng: np.random.Generator) -> None:
    for label, logits, target in _bce_cases(rng):
        N, D = logits.shape
        value, dlogits = g.call("bce_with_logits", logits, target, n_outputs=2)
        ref_value, ref_dlogits = bce_with_logits(logits, target)
        p = Sigmoid.function(logits)  # (N, D), the stable sigmoid
        with np.errstate(all="ignore"):
            dvalue_dp = (p - target) / (p * (1 - p)) / logits.size  # (N, D): dL/dp, not dL/dl
        capped_values, capped_dlogits = _capped_bce(logits, target)
        g.compare(f"value, {label}", value, ref_value, "value", factors=_mean_factors(N, D, "value"),
                  mistakes=capped_values)
        factors = _mean_factors(N, D, "dlogits")
        mistakes = {"dlogits is d value / dp, the gradient with respect to the probability p: chain it "
                    "through the sigmoid, whose p (1 - p) cancels the denominator": dvalue_dp,
                    **capped_dlogits}
        g.compare(f"dlogits against npae, {label}", dlogits, ref_dlogits, "dlogits", factors=factors,
                  mistakes=mistakes)
        g.numeric(f"dlogits, {label}", dlogits, lambda z=logits, t=target: bce_with_logits(z, t)[0], logits,
                  "dlogits", factors=factors, mistakes=mistakes)


# ---------------------------------------------------------------------------- softmax_cross_entropy
SOFTMAX_SKELETON = f'''"""Exercise `softmax_cross_entropy` ({FEATURES}#softmax-cross-entropy).

Write the cross-entropy of the softmax against integer labels, and its gradient w.r.t. the logits.
    npae exercise check softmax_cross_entropy
"""

import numpy as np


def softmax_cross_entropy(logits, y):
    """The mean over the batch of -log softmax(logits)[n, y[n]], and its gradient.

        p[n, k] = exp(logits[n, k]) / sum_j exp(logits[n, j])
        value = -(1 / N) sum_n log p[n, y[n]]

    The mean is over the N examples (as PyTorch's cross_entropy), not over the N*C entries.

    It must stay finite for logits of +-1000, where exp overflows to inf (or underflows to 0 in
    every entry of a row). What happens to p when the same number is subtracted from every
    entry of a row?

    Derive dlogits[n, k] = d value / d logits[n, k]. Start from
    log p[n, y[n]] = logits[n, y[n]] - log sum_j exp(logits[n, j]).

    Parameters
    ----------
    logits : ndarray, shape (N, C)    unnormalised class scores, any real numbers
    y : ndarray of int, shape (N,)    the class of each example, in [0, C)

    Returns
    -------
    value : float
    dlogits : ndarray, shape (N, C)   d value / d logits
    """
    raise NotImplementedError
'''


def _softmax_cases(rng: np.random.Generator):
    """(label, logits, y): non-square, a batch of 1, and rows shifted by +-1000."""
    yield "N=5, C=3", rng.normal(scale=2.0, size=(5, 3)), rng.integers(0, 3, size=5)
    yield "N=1, C=4", rng.normal(scale=2.0, size=(1, 4)), rng.integers(0, 4, size=1)
    logits = rng.normal(scale=2.0, size=(4, 7))
    logits[0] += 1000  # exp overflows to inf
    logits[1] -= 1000  # every exp underflows to 0
    logits[2, :2] = 1000, -1000  # a confident wrong answer: y[2] = 1 has log p = -2000
    yield "logits of +-1000", logits, np.array([3, 0, 1, 6])


def _capped_log_softmax(logits: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """The loss with log p computed from p plus (or clipped at) a small eps: finite, and wrong where
    p underflows to 0 (a confident wrong answer, log p = -2000 in the case of +-1000)."""
    p = softmax(logits)[np.arange(len(y)), y]  # (N,), the stable softmax
    stable = "compute log p as z - log sum exp(z) (log-softmax) instead of the log of p"
    capped = {}
    for eps in CLIP_EPS:
        capped[f"value takes log(p + {eps:g}), which caps each term at {-np.log(eps):.1f}; {stable}"] = \
            -np.mean(np.log(p + eps))
        capped[f"value clips p at {eps:g}, which caps each term at {-np.log(eps):.1f}; {stable}"] = \
            -np.mean(np.log(np.maximum(p, eps)))
    return capped


def _grade_softmax(g: Grader, rng: np.random.Generator) -> None:
    for label, logits, y in _softmax_cases(rng):
        N, C = logits.shape
        value, dlogits = g.call("softmax_cross_entropy", logits, y, n_outputs=2)
        ref_value, ref_dlogits = softmax_cross_entropy(logits, y)
        value_factors = {1.0 / C: f"C = {C} times too small: the mean is over the N examples, not the "
                                  f"N*C entries"}
        factors = dict(value_factors)
        if N > 1:
            value_factors[float(N)] = f"N = {N} times too large: the mean over the batch divides by N"
            factors[float(N)] = f"N = {N} times too large: the mean over the batch divides by N"
        mistakes = {"dlogits is softmax(logits) / N alone: subtract the one-hot of y, the derivative of "
                    "-logits[n, y[n]]": softmax(logits) / N}
        g.compare(f"value, {label}", value, ref_value, "value", factors=value_factors,
                  mistakes=_capped_log_softmax(logits, y))
        g.compare(f"dlogits against npae, {label}", dlogits, ref_dlogits, "dlogits", factors=factors,
                  mistakes=mistakes)
        g.numeric(f"dlogits, {label}", dlogits, lambda z=logits, y=y: softmax_cross_entropy(z, y)[0], logits,
                  "dlogits", factors=factors, mistakes=mistakes)


# ---------------------------------------------------------------------------- kl_sparsity
KL_SKELETON = f'''"""Exercise `kl_sparsity` ({SPARSITY}#kl-sparsity-penalty).

Write the KL sparsity penalty of the sparse autoencoder and its gradient.
    npae exercise check kl_sparsity          grades it
    npae exercise check kl_sparsity --run    trains UFLDL's sparse autoencoder with it, beside npae's
"""

import numpy as np


def kl_sparsity(h, rho):
    """The KL divergence of every unit's mean activation from rho, summed over the units, and dh.

        rho_hat[j] = (1 / N) sum_n h[n, j]          (unit j's mean activation over the batch)
        value = sum_j  rho log(rho / rho_hat[j]) + (1 - rho) log((1 - rho) / (1 - rho_hat[j]))

    Derive dh[n, j] = d value / d h[n, j] by the chain rule through rho_hat[j]: how does
    rho_hat[j] change when h[n, j] does? (The model multiplies the penalty by its weight beta;
    it is not your job here.)

    Parameters
    ----------
    h : ndarray, shape (N, K)    the code of a batch (K hidden units): sigmoid activations, in (0, 1)
    rho : float in (0, 1)        the target mean activation (UFLDL: 0.01)

    Returns
    -------
    value : float
    dh : ndarray, shape (N, K)   d value / d h
    """
    raise NotImplementedError
'''

KL_CASES = ((8, 5, 0.05), (1, 4, 0.2), (6, 6, 0.01))  # (N, K, rho): non-square, a batch of 1, square


def _kl_rows(rho_hat: np.ndarray, rho: float, N: int) -> np.ndarray:
    """(1/N) (-rho / rho_hat + (1 - rho) / (1 - rho_hat)), any shape: npae's dh row, or a wrong one's."""
    return (-rho / rho_hat + (1 - rho) / (1 - rho_hat)) / N


def _grade_kl(g: Grader, rng: np.random.Generator) -> None:
    for N, K, rho in KL_CASES:
        h = Sigmoid.function(rng.normal(-1.5, 1.5, size=(N, K)))  # (N, K) in (0, 1)
        label = f"N={N}, K={K}, rho={rho}"
        value, dh = g.call("kl_sparsity", h, rho, n_outputs=2)
        ref_value, ref_dh = kl_sparsity(h, rho)
        rho_hat = h.mean(axis=0)  # (K,)
        g.compare(f"value, {label}", value, ref_value, "value",
                  factors={1.0 / K: f"K = {K} times too small: the penalty sums over the units, it does "
                                    f"not average them"},
                  mistakes={"value is missing the (1 - rho) log((1 - rho) / (1 - rho_hat)) term: the KL "
                            "between two Bernoullis has two terms": np.sum(rho * np.log(rho / rho_hat))})
        factors = {float(N): f"N = {N} times too large: each h[n, j] enters rho_hat[j] with weight 1/N "
                             f"(the batch mean), so dh carries a 1/N"} if N > 1 else {}
        mistakes = {"dh is missing the (1 - rho) / (1 - rho_hat) term: differentiate the second log of the "
                    "KL, (1 - rho) log((1 - rho) / (1 - rho_hat)), too":
                    np.broadcast_to(-rho / rho_hat / N, h.shape),
                    "dh uses each h[n, j] in place of rho_hat[j]: the penalty depends on h only through "
                    "the batch means, so every row of dh is the same": _kl_rows(h, rho, N)}
        if N == K:  # a mean over the units (axis 1) broadcasts without an error only when N == K
            mistakes["rho_hat is a mean over the units (axis 1): it is each unit's mean over the batch, "
                     "h.mean(axis=0)"] = np.broadcast_to(_kl_rows(h.mean(axis=1), rho, N), h.shape)
        g.compare(f"dh against npae, {label}", dh, ref_dh, "dh", factors=factors, mistakes=mistakes)
        g.numeric(f"dh, {label}", dh, lambda h=h, rho=rho: kl_sparsity(h, rho)[0], h, "dh", factors=factors,
                  mistakes=mistakes)


# UFLDL's sparse autoencoder (examples/sparse_kl.py), small enough for a few seconds per run.
KL_RUN = {"sizes": (64, 25), "loss": "sse", "sparsity": "kl", "rho": 0.01, "beta": 3.0, "weight_decay": 1e-4}
KL_RUN_PATCHES, KL_RUN_ITERATIONS = 2000, 200


def _as_checked_function(fn):
    """``fn`` as the model finds npae's penalty: ``SparseAutoencoder`` calls ``kl_sparsity.math``
    (the math without the argument checks), so the stand-in carries the learner's function as ``.math``."""
    def public(h, rho):
        return fn(h, rho)
    public.math = fn
    return public


def _run_kl(module: ModuleType, out_dir: Path) -> str:
    """UFLDL's 64-25-64 sparse autoencoder, 200 L-BFGS iterations on 2,000 patches, with each penalty."""
    X = natural_patches(KL_RUN_PATCHES, rng=0, dtype=np.float64)  # (2000, 64), whitened, offline
    models = []

    def train() -> dict[str, float]:
        model = SparseAutoencoder(**KL_RUN, random_state=0, dtype=np.float64)
        lbfgs(model, X, max_iter=KL_RUN_ITERATIONS)
        _, terms, _ = model.loss_and_grads(X)
        H = model.encode(X)  # (N, 25)
        kl = KL_RUN["beta"] * kl_sparsity(H, KL_RUN["rho"])[0]  # npae's KL, whichever trained the model
        rho_hat = H.mean(axis=0)  # (25,)
        models.append(model)
        return {"cost J (npae's formula)": terms["reconstruction"] + kl + terms["weight_decay"],
                "reconstruction": terms["reconstruction"], "beta * KL": kl,
                "weight decay": terms["weight_decay"], "mean activation": float(rho_hat.mean()),
                "least active unit": float(rho_hat.min()), "most active unit": float(rho_hat.max())}

    out_dir.mkdir(parents=True, exist_ok=True)
    title = (f"UFLDL's sparse autoencoder (64-25-64, rho {KL_RUN['rho']}, beta {KL_RUN['beta']:g}, lambda "
             f"{KL_RUN['weight_decay']:g}), {KL_RUN_ITERATIONS} L-BFGS iterations on {KL_RUN_PATCHES:,} "
             f"whitened 8x8 patches:")
    yours = _as_checked_function(module.kl_sparsity)
    table = side_by_side(title, train, {("npae.models.autoencoder", "kl_sparsity"): yours})
    npae_png, yours_png = out_dir / "filters_npae.png", out_dir / "filters.png"
    for model, path, whose in ((models[0], npae_png, "npae's KL"), (models[1], yours_png, "your KL")):
        filter_mosaic(model.params["encoder.0.W"], path, shape=(8, 8),
                      title=f"25 filters (rows of W1), {whose}")
    return (f"{table}\nYour model's 25 filters (oriented edges, as UFLDL's): {yours_png}"
            f" (npae's: {npae_png})")


# ---------------------------------------------------------------------------- weight_decay
WD_SKELETON = f'''"""Exercise `weight_decay` ({SPARSITY}#l2-weight-decay).

Write L2 weight decay over a model's weight matrices, and its gradient.
    npae exercise check weight_decay
"""

import numpy as np


def weight_decay(params, lam):
    """(lam / 2) times the sum of the squares of every weight matrix's entries, and its gradient.

        value = (lam / 2) sum_W sum_ij W[i, j]^2

    params maps each parameter's name to its array, as model.params does: "encoder.0.W",
    "encoder.0.b", "decoder.0.W", ... The weight matrices are the names whose last part (after
    the last ".") is "W"; only they are decayed. The biases (last part "b") are not.

    Derive d value / d W for each weight matrix W.

    Parameters
    ----------
    params : dict of str -> ndarray    any shapes (a Dense W is (out, in), a convolution's W is
                                       (out, in, kh, kw), a bias is (out,))
    lam : float >= 0                   lambda, the weight of the penalty

    Returns
    -------
    value : float
    grads : dict of str -> ndarray     one entry per weight matrix, of that matrix's shape (the
                                       biases may be left out; an entry for a bias must be 0)
    """
    raise NotImplementedError
'''

WD_CASES = (  # (what, the parameters' shapes, lam)
    ("a 6-4-6 autoencoder's params", {"encoder.0.W": (4, 6), "encoder.0.b": (4,), "decoder.0.W": (6, 4),
                                      "decoder.0.b": (6,)}, 0.3),
    ("a convolution's W (3, 1, 2, 2) and a Dense W", {"0.W": (3, 1, 2, 2), "0.b": (3,), "3.W": (5, 12),
                                                      "3.b": (5,)}, 1e-3),
    ("params named W and b", {"W": (2, 2), "b": (2,)}, 3.0))


def _is_weight(name: str) -> bool:
    return name.split(".")[-1] == "W"


def _grade_weight_decay(g: Grader, rng: np.random.Generator) -> None:
    for what, shapes, lam in WD_CASES:
        sizes = [int(np.prod(s)) for s in shapes.values()]
        theta = rng.normal(size=sum(sizes))  # every parameter, flat, in the order of shapes
        ends = np.cumsum(sizes)
        params = {k: theta[end - size:end].reshape(shape)  # views into theta
                  for (k, shape), size, end in zip(shapes.items(), sizes, ends, strict=True)}
        label = f"{what}, lam={lam:g}"
        value, grads = g.call("weight_decay", {k: v.copy() for k, v in params.items()}, lam, n_outputs=2)
        if not isinstance(grads, dict):
            raise LearnerError(f"weight_decay must return grads as a dict (a parameter's name -> its "
                               f"gradient), got {type(grads).__name__}")
        unknown = sorted(set(grads) - set(params))
        if unknown:
            raise LearnerError(f"grads has the keys {unknown}, which are not in params {sorted(params)}")
        ref_value, ref_grads = l2_weight_decay(params, lam)
        g.compare(f"value, {label}", value, ref_value, "value",
                  factors={2.0: "twice too large: the penalty is (lam / 2) sum W^2",
                           1.0 / lam: "lam is never applied: the penalty is (lam / 2) sum W^2"},
                  mistakes={"value includes the biases: only the weight matrices (names ending in W) are "
                            "decayed": 0.5 * lam * float(theta @ theta)})
        wrong_shape = False
        for k, v in grads.items():
            got = _as_array(v)
            if got is None or got.shape != params[k].shape:
                g.compare(f"grads[{k!r}], {label}", v, ref_grads.get(k, np.zeros_like(params[k])),
                          f"grads[{k!r}]")
                wrong_shape = True
        if wrong_shape:
            continue
        flat = np.concatenate([np.asarray(grads.get(k, np.zeros(shape)), dtype=np.float64).reshape(-1)
                               for k, shape in shapes.items()])  # (total,), 0 where grads has no entry
        bias = np.concatenate([np.full(size, not _is_weight(k))
                               for k, size in zip(shapes, sizes, strict=True)])  # (total,)
        hints = {"factors": {2.0: "twice too large: the 1/2 of (lam / 2) W^2 cancels the 2 of d(W^2)/dW, "
                                  "so the gradient is lam W",
                             1.0 / lam: "lam is never applied: the gradient of (lam / 2) sum W^2 is lam W"},
                 "masks": {"at the biases: only the weight matrices (names ending in W) are decayed, the "
                           "biases are left alone": bias}}
        expected = np.concatenate([np.asarray(ref_grads.get(k, np.zeros(shape))).reshape(-1)
                                   for k, shape in shapes.items()])
        g.compare(f"grads against npae, {label}", flat, expected, "grads", **hints)
        g.numeric(f"grads, {label}", flat, lambda p=params, lam=lam: l2_weight_decay(p, lam)[0], theta,
                  "grads", **hints)


# ---------------------------------------------------------------------------- the catalogue
EXERCISES = (
    Exercise(
        name="mse", lesson=f"{LOSSES}#mse-mean-squared-error-mse",
        summary="the mean squared error over every element and its gradient dpred",
        skeleton=MSE_SKELETON, functions=("mse",), solution={"mse": "npae.losses.mse"}, grade=_grade_mse,
        reference="from npae.losses import mse as _mse\n\n\ndef mse(pred, target):\n"
                  "    return _mse(pred, target)\n",
        mistakes=(
            Mistake("dpred without the 1/size", '''
import numpy as np

def mse(pred, target):
    diff = pred - target
    return np.mean(diff ** 2), 2 * diff
''', "the mean divides by the number of elements",
                    "from-scratch tutorials that average the value with np.mean but return "
                    "2 * (pred - target) as its gradient",
                    "the value is a mean over N*D elements, so each element's share, and its gradient, "
                    "carries 1/(N*D)"),
            Mistake("the factor 2 lost", '''
import numpy as np

def mse(pred, target):
    diff = pred - target
    return np.mean(diff ** 2), diff / diff.size
''', "missing the factor 2", "the gradient of the 1/2-scaled squared error (sse, UFLDL's J) used for a loss "
                                  "without the 1/2",
                    "d(u^2)/du = 2u: only a 1/2 in front of the square cancels the 2"),
            Mistake("the mean over rows", '''
import numpy as np

def mse(pred, target):
    diff = pred - target
    N = len(pred)
    return np.sum(diff ** 2) / N, 2 * diff / N
''', "the mean is over all N*D elements", "dividing by the batch size, as for a per-example loss",
                    "npae's (and PyTorch's) mean runs over every element; a mean over the rows is D times "
                    "larger"),
        )),
    Exercise(
        name="bce_with_logits", lesson=f"{LOSSES}#{BCE_ANCHOR}",
        summary="binary cross-entropy computed from the logits, finite at +-1000, and dlogits",
        skeleton=BCE_SKELETON, functions=("bce_with_logits",),
        solution={"bce_with_logits": "npae.losses.bce_with_logits"}, grade=_grade_bce,
        reference="from npae.losses import bce_with_logits as _bce\n\n\n"
                  "def bce_with_logits(logits, target):\n    return _bce(logits, target)\n",
        mistakes=(
            Mistake("BCE on probabilities", '''
import numpy as np

def bce_with_logits(logits, target):
    p = 1 / (1 + np.exp(-logits))
    value = np.mean(-target * np.log(p) - (1 - target) * np.log(1 - p))
    return value, (p - target) / p.size
''', "use the stable form", "the textbook formula typed literally, as in many from-scratch logistic "
                                 "regression and autoencoder tutorials",
                    "at |l| = 40 or more, sigmoid(l) rounds to exactly 0 or 1: log(0) = -inf, and "
                    "0 * -inf = NaN"),
            Mistake("probabilities clipped", '''
import numpy as np

def bce_with_logits(logits, target):
    p = np.clip(1 / (1 + np.exp(-logits)), 1e-7, 1 - 1e-7)
    value = np.mean(-target * np.log(p) - (1 - target) * np.log(1 - p))
    return value, (p - target) / p.size
''', "caps each term at -log(1e-07)", "the clipping of a loss on probabilities (Keras clips to "
                                        "[1e-7, 1 - 1e-7], npae's bce to the dtype's eps) kept for logits",
                    "a clipped log is finite but wrong for a confident wrong answer; and the clipped p "
                    "also spoils the gradient there"),
            Mistake("the sign flipped", '''
import numpy as np

def bce_with_logits(logits, target):
    value = np.mean(np.logaddexp(0, logits) - logits * target)
    p = np.exp(-np.logaddexp(0, -logits))
    return value, (target - p) / p.size
''', "the sign is flipped", "t - sigmoid(l) is the gradient of the log-likelihood, which is maximised; "
                                 "the loss is its negative",
                    "d/dl [softplus(l) - l t] = sigmoid(l) - t"),
            Mistake("the gradient with respect to p", '''
import numpy as np

def bce_with_logits(logits, target):
    value = np.mean(np.logaddexp(0, logits) - logits * target)
    p = np.exp(-np.logaddexp(0, -logits))
    return value, (p - target) / (p * (1 - p)) / p.size
''', "the gradient with respect to the probability", "the BCE gradient of the unfused loss (on p) kept after "
                                                         "fusing the sigmoid into it",
                    "dL/dl = dL/dp * p (1 - p): the sigmoid's slope cancels the denominator"),
        )),
    Exercise(
        name="softmax_cross_entropy", lesson=f"{FEATURES}#softmax-cross-entropy",
        summary="softmax cross-entropy against integer labels, finite at +-1000, and dlogits",
        skeleton=SOFTMAX_SKELETON, functions=("softmax_cross_entropy",),
        solution={"softmax_cross_entropy": "npae.losses.softmax_cross_entropy"}, grade=_grade_softmax,
        reference="from npae.losses import softmax_cross_entropy as _ce\n\n\n"
                  "def softmax_cross_entropy(logits, y):\n    return _ce(logits, y)\n",
        mistakes=(
            Mistake("no max subtraction", '''
import numpy as np

def softmax_cross_entropy(logits, y):
    N = len(logits)
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    value = -np.mean(np.log(p[np.arange(N), y]))
    dlogits = p.copy()
    dlogits[np.arange(N), y] -= 1
    return value, dlogits / N
''', "use the stable form", "the softmax of the definition typed literally, a frequent first version in "
                                 "from-scratch classifiers",
                    "exp(1000) is inf and inf / inf is NaN; subtracting each row's maximum changes nothing "
                    "but keeps every exp argument <= 0"),
            Mistake("dlogits not divided by N", '''
import numpy as np

def softmax_cross_entropy(logits, y):
    N = len(logits)
    z = logits - logits.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    dlogits = np.exp(log_p)
    dlogits[np.arange(N), y] -= 1
    return -np.mean(log_p[np.arange(N), y]), dlogits
''', "the mean over the batch divides by N", "from-scratch classifiers that average the loss but return "
                                                  "p - onehot(y) as its gradient",
                    "the value is a mean over N examples, so each example's gradient carries 1/N"),
            Mistake("the one-hot forgotten", '''
import numpy as np

def softmax_cross_entropy(logits, y):
    N = len(logits)
    z = logits - logits.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return -np.mean(log_p[np.arange(N), y]), np.exp(log_p) / N
''', "subtract the one-hot of y", "differentiating only the log-sum-exp of log p = l_y - logsumexp(l)",
                    "-log p[n, y[n]] has the term -logits[n, y[n]], whose derivative is -1 at k = y[n]"),
        )),
    Exercise(
        name="kl_sparsity", lesson=f"{SPARSITY}#kl-sparsity-penalty",
        summary="the KL sparsity penalty sum_j KL(rho || rho_hat_j) and dh",
        skeleton=KL_SKELETON, functions=("kl_sparsity",),
        solution={"kl_sparsity": "npae.penalties.kl_sparsity"},
        grade=_grade_kl, run=_run_kl,
        reference="from npae.penalties import kl_sparsity as _kl\n\n\ndef kl_sparsity(h, rho):\n"
                  "    return _kl(h, rho)\n",
        mistakes=(
            Mistake("the (1 - rho) term missing from dh", '''
import numpy as np

def kl_sparsity(h, rho):
    N = len(h)
    rho_hat = h.mean(axis=0)
    value = np.sum(rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat)))
    dh = np.tile(-rho / rho_hat / N, (N, 1))
    return value, dh
''', "missing the (1 - rho) / (1 - rho_hat) term", "the KL remembered as rho log(rho / rho_hat) alone, its "
                                                       "second Bernoulli term dropped",
                    "without it dh is always negative: every unit is pushed up, none is ever told it is "
                    "too active"),
            Mistake("the 1/N missing from dh", '''
import numpy as np

def kl_sparsity(h, rho):
    N = len(h)
    rho_hat = h.mean(axis=0)
    value = np.sum(rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat)))
    dh = np.tile(-rho / rho_hat + (1 - rho) / (1 - rho_hat), (N, 1))
    return value, dh
''', "enters rho_hat[j] with weight 1/N", "UFLDL's hidden-layer delta, which adds beta (-rho/rho_hat + "
                                                "(1-rho)/(1-rho_hat)) per example and divides by m only at "
                                                "the end, copied into code whose other gradients already "
                                                "carry their 1/N",
                    "d value / d rho_hat[j] is the derivative with respect to the mean; d rho_hat[j] / "
                    "d h[n, j] = 1/N"),
            Mistake("each h in place of rho_hat", '''
import numpy as np

def kl_sparsity(h, rho):
    rho_hat = h.mean(axis=0)
    value = np.sum(rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat)))
    return value, (-rho / h + (1 - rho) / (1 - h)) / len(h)
''', "every row of dh is the same", "treating the penalty as per-example, as an L1 activity penalty is",
                    "the value depends on h only through the K batch means rho_hat"),
        )),
    Exercise(
        name="weight_decay", lesson=f"{SPARSITY}#l2-weight-decay",
        summary="L2 weight decay (lam / 2) sum ||W||^2 on the weight matrices (not the biases), and grads",
        skeleton=WD_SKELETON, functions=("weight_decay",),
        solution={"weight_decay": "npae.penalties.l2_weight_decay"}, grade=_grade_weight_decay,
        reference="from npae.penalties import l2_weight_decay\n\n\ndef weight_decay(params, lam):\n"
                  "    return l2_weight_decay(params, lam)\n",
        mistakes=(
            Mistake("the biases decayed too", '''
import numpy as np

def weight_decay(params, lam):
    value = lam / 2 * sum(np.sum(p ** 2) for p in params.values())
    return value, {k: lam * p for k, p in params.items()}
''', "except at the biases", "decaying every entry of the parameter dict, as an optimiser's weight_decay "
                                  "option does",
                    "UFLDL's J (and npae's) decays the weight matrices only: a bias does not scale the "
                    "input, so shrinking it does not make the map smoother"),
            Mistake("the factor 1/2 lost", '''
import numpy as np

def weight_decay(params, lam):
    weights = {k: p for k, p in params.items() if k.split(".")[-1] == "W"}
    value = lam / 2 * sum(np.sum(w ** 2) for w in weights.values())
    return value, {k: 2 * lam * w for k, w in weights.items()}
''', "the 1/2 of (lam / 2) W^2 cancels the 2", "d(W^2)/dW = 2W kept beside the 1/2 of the value, whose only "
                                                  "purpose is to cancel it",
                    "the gradient of (lam / 2) sum W^2 is lam W"),
            Mistake("lambda never applied", '''
import numpy as np

def weight_decay(params, lam):
    weights = {k: p for k, p in params.items() if k.split(".")[-1] == "W"}
    value = lam / 2 * sum(np.sum(w ** 2) for w in weights.values())
    return value, {k: w.copy() for k, w in weights.items()}
''', "lam is never applied", "a penalty's weight (lambda, beta) left out of its gradient: with a small "
                                  "lambda training still runs, with a decay 1/lambda times too strong",
                    "every term of the gradient of lam * f is lam times f's"),
        )),
)
