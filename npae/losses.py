r"""Reconstruction losses: ``value, dpred = loss(pred, target, reduction="mean")``.

``reduction="mean"`` averages over every element (PyTorch's default), ``"sum"`` sums. The
gradient ``dpred`` has ``pred``'s shape and dtype; the value is accumulated in float64.
Each public loss checks its arguments; ``loss.math`` is the same function without the checks,
what a model's step calls. The conventions are public helpers for a loss of your own:
:func:`check_pair` (the argument check), :func:`reduction_scale` (``s``) and :func:`sum64`
(float64 accumulation); :func:`register_loss` makes it a name a model's ``loss=`` accepts.
Derivations: ``docs/02-losses.md``; writing one: ``docs/14-extending.md`` (Write a loss).
"""

from __future__ import annotations

import numpy as np

from ._validation import check_array, check_choice, check_float, check_labels, check_same_shape, checked_by
from .layers.activations import exp_neg_abs, sigmoid

REDUCTIONS = ("mean", "sum")


def check_pair(pred_range: tuple[float, float] | None = None,
               target_range: tuple[float, float] | None = None):
    """The check of a public loss's ``(pred, target, reduction)``, for :func:`checked_by`.

    ``pred`` and ``target`` must be real arrays of one shape, finite, not empty, inside the given
    ranges; ``reduction`` one of ``REDUCTIONS``. Integer arrays become float64, ``target`` takes
    ``pred``'s dtype.
    """
    def check(pred, target, reduction: str = "mean") -> tuple[np.ndarray, np.ndarray, str]:
        check_choice(reduction, "reduction", REDUCTIONS)
        pred = check_array(pred, "pred", value_range=pred_range, min_samples=0)
        if pred.dtype.kind != "f":
            pred = pred.astype(np.float64)
        target = check_array(target, "target", value_range=target_range, min_samples=0, dtype=pred.dtype)
        check_same_shape(pred, target, "pred", "target")
        if pred.size == 0:
            raise ValueError(f"pred must not be empty, got shape {pred.shape}")
        return pred, target, reduction
    return check


def reduction_scale(pred: np.ndarray, reduction: str) -> float:
    """``s = 1/size`` for ``"mean"`` (an average over every element), ``1`` for ``"sum"``.

    A Python float: NumPy 2 keeps a float32 array float32 when multiplied by it.
    """
    return 1.0 / pred.size if reduction == "mean" else 1.0


def sum64(a: np.ndarray) -> float:
    """The sum of ``a``, accumulated in float64 (in float32, 1e7 terms are off by ~3e-8 relative
    in NumPy's pairwise sum, ~3e-5 in a BLAS dot, ~2e-2 added one by one: docs/02-losses.md)."""
    return float(np.sum(a, dtype=np.float64))


@checked_by(check_pair())
def mse(pred, target, reduction: str = "mean") -> tuple[float, np.ndarray]:
    r"""Mean squared error.

    .. math::
        L = s \sum_i (pred_i - target_i)^2, \qquad
        \frac{\partial L}{\partial pred_i} = 2 s\,(pred_i - target_i)

    with ``s = 1/size`` for ``"mean"`` and ``1`` for ``"sum"``.

    Parameters
    ----------
    pred, target : array_like, the same shape (any shape, usually (N, D))
        Predictions and targets.
    reduction : {"mean", "sum"}

    Returns
    -------
    value : float
    dpred : ndarray, ``pred``'s shape and dtype
        ``d value / d pred``.

    Derivation: ``docs/02-losses.md`` (MSE).
    """
    s = reduction_scale(pred, reduction)
    diff = pred - target
    return sum64(np.square(diff)) * s, (2 * s) * diff


@checked_by(check_pair())
def mae(pred, target, reduction: str = "mean") -> tuple[float, np.ndarray]:
    r"""Mean absolute error.

    .. math::
        L = s \sum_i |pred_i - target_i|, \qquad
        \frac{\partial L}{\partial pred_i} = s\,\mathrm{sign}(pred_i - target_i)

    (the subgradient 0 is taken where pred equals target); ``s`` as in :func:`mse`.

    Parameters
    ----------
    pred, target : array_like, the same shape (any shape, usually (N, D))
        Predictions and targets.
    reduction : {"mean", "sum"}

    Returns
    -------
    value : float
    dpred : ndarray, ``pred``'s shape and dtype
        ``d value / d pred``.

    Derivation: ``docs/02-losses.md`` (MAE).
    """
    s = reduction_scale(pred, reduction)
    diff = pred - target
    return sum64(np.abs(diff)) * s, s * np.sign(diff)


@checked_by(check_pair())
def sse(pred, target, reduction: str = "mean") -> tuple[float, np.ndarray]:
    r"""Half the sum of squared errors per example (the UFLDL / Ng convention).

    For ``pred`` of shape (N, ...):

    .. math::
        L = \frac{1}{N} \sum_n \tfrac12 \lVert pred_n - target_n \rVert^2, \qquad
        \frac{\partial L}{\partial pred_n} = \frac{1}{N} (pred_n - target_n)

    Here ``"mean"`` averages over the N examples (not over elements) and ``"sum"`` sums them.

    Parameters
    ----------
    pred, target : array_like, the same shape (any shape, usually (N, D))
        Predictions and targets; axis 0 indexes the examples.
    reduction : {"mean", "sum"}

    Returns
    -------
    value : float
    dpred : ndarray, ``pred``'s shape and dtype
        ``d value / d pred``.

    Derivation: ``docs/02-losses.md`` (SSE).
    """
    s = 1.0 / pred.shape[0] if reduction == "mean" and pred.ndim else 1.0
    diff = pred - target
    return 0.5 * sum64(np.square(diff)) * s, s * diff


@checked_by(check_pair((0.0, 1.0), (0.0, 1.0)))
def bce(pred, target, reduction: str = "mean") -> tuple[float, np.ndarray]:
    r"""Binary cross-entropy on probabilities ``pred`` in [0, 1], targets in [0, 1].

    .. math::
        L = -s \sum_i \big[t_i \log p_i + (1 - t_i) \log(1 - p_i)\big], \qquad
        \frac{\partial L}{\partial p_i} = s\,\frac{p_i - t_i}{p_i (1 - p_i)}

    with ``p = pred``, ``t = target`` and ``s`` as in :func:`mse`. ``p`` is clipped to
    ``[eps, 1 - eps]`` (``eps`` the dtype's machine epsilon) so the logs and the division stay
    finite: each term is at most ``-log(eps)``. Prefer :func:`bce_with_logits` after a sigmoid.

    Parameters
    ----------
    pred, target : array_like, the same shape (any shape, usually (N, D))
        Probabilities ``pred`` and targets, both in [0, 1].
    reduction : {"mean", "sum"}

    Returns
    -------
    value : float
    dpred : ndarray, ``pred``'s shape and dtype
        ``d value / d pred``.

    Derivation: ``docs/02-losses.md`` (BCE).
    """
    s = reduction_scale(pred, reduction)
    eps = np.finfo(pred.dtype).eps
    p = np.clip(pred, eps, 1 - eps)
    value = -sum64(target * np.log(p) + (1 - target) * np.log1p(-p))
    return value * s, s * (p - target) / (p * (1 - p))


def bce_with_logits_elementwise(logits: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r"""The binary cross-entropy of ``sigmoid(l)`` element by element, and its derivative.

    .. math::
        \ell_i = \max(l_i, 0) - l_i t_i + \log(1 + e^{-|l_i|}), \qquad
        \frac{\partial \ell_i}{\partial l_i} = \sigma(l_i) - t_i

    ``logits`` and ``target`` have one shape (any); both results have it too. The shared core of
    :func:`bce_with_logits` and the VAE's Bernoulli likelihood (``-log p(x | z)`` per example is
    the sum of ``ell`` over the pixels). ``e = exp(-|l|)`` is computed once, for the log term and
    for ``sigma(l)``. Derivation: ``docs/02-losses.md`` (BCE with logits).
    """
    e = exp_neg_abs(logits)  # exp(-|l|), in (0, 1]: no overflow
    ell = np.maximum(logits, 0) - logits * target + np.log1p(e)
    dlogits = sigmoid(logits, e)
    dlogits -= target
    return ell, dlogits


@checked_by(check_pair(target_range=(0.0, 1.0)))
def bce_with_logits(logits, target, reduction: str = "mean") -> tuple[float, np.ndarray]:
    r"""Binary cross-entropy of ``p = sigmoid(logits)``, computed from the logits ``l``.

    .. math::
        L = s \sum_i \big[\max(l_i, 0) - l_i t_i + \log(1 + e^{-|l_i|})\big], \qquad
        \frac{\partial L}{\partial l_i} = s\,(\sigma(l_i) - t_i)

    with ``l = logits``, ``t = target``, ``s`` as in :func:`mse`. This equals
    ``bce(sigmoid(l), t)`` but never takes the log of 0 nor overflows ``exp`` (its argument is
    ``-|l|``), and its gradient does not vanish when the sigmoid saturates.

    Parameters
    ----------
    logits, target : array_like, the same shape (any shape, usually (N, D))
        Logits (any real values) and targets in [0, 1].
    reduction : {"mean", "sum"}

    Returns
    -------
    value : float
    dlogits : ndarray, ``logits``'s shape and dtype
        ``d value / d logits``.

    Derivation: ``docs/02-losses.md`` (BCE with logits).
    """
    s = reduction_scale(logits, reduction)
    ell, dlogits = bce_with_logits_elementwise(logits, target)
    dlogits *= s
    return sum64(ell) * s, dlogits


def log_softmax(logits: np.ndarray) -> np.ndarray:
    r"""``log softmax(logits)`` row by row, without overflow: shape (N, C) in, (N, C) out.

    .. math::
        \log p_{nk} = z_{nk} - \log \sum_j e^{z_{nj}}, \qquad z_{nk} = l_{nk} - \max_j l_{nj}

    Subtracting the row's maximum changes nothing (it cancels between the two terms) but keeps
    every ``exp`` argument <= 0, so nothing overflows and the sum is at least 1 (its log is finite).
    Derivation: ``docs/15-feature-learning.md``.
    """
    z = logits - logits.max(axis=1, keepdims=True)  # (N, C), each row's largest entry is 0
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))  # (N, C) - (N, 1)


def softmax(logits: np.ndarray) -> np.ndarray:
    """Class probabilities ``exp(log_softmax(logits))``, shape (N, C); each row sums to 1."""
    return np.exp(log_softmax(logits))


def _check_logits_labels(logits, y, reduction: str = "mean") -> tuple[np.ndarray, np.ndarray, str]:
    """The check of :func:`softmax_cross_entropy`: ``logits`` (N, C) finite, ``y`` N ids in [0, C)."""
    check_choice(reduction, "reduction", REDUCTIONS)
    logits = check_array(logits, "logits", ndim=2)
    if logits.dtype.kind != "f":
        logits = logits.astype(np.float64)
    if logits.shape[1] < 2:
        raise ValueError(f"logits must have at least 2 columns (one per class), got shape {logits.shape}")
    return logits, check_labels(y, "y", len(logits), logits.shape[1]), reduction


@checked_by(_check_logits_labels)
def softmax_cross_entropy(logits, y, reduction: str = "mean") -> tuple[float, np.ndarray]:
    r"""Cross-entropy of the softmax of ``logits`` against integer class labels ``y``.

    .. math::
        p = \mathrm{softmax}(l), \qquad
        L = -s \sum_n \log p_{n, y_n}, \qquad
        \frac{\partial L}{\partial l_{nk}} = s\,(p_{nk} - [k = y_n])

    with ``s = 1/N`` for ``"mean"`` (an average over the N examples, as PyTorch's
    ``cross_entropy``; not over the N*C entries) and ``1`` for ``"sum"``. In matrix form
    ``dlogits = s * (softmax(logits) - onehot(y))``. The log-probabilities come from
    :func:`log_softmax`, so no ``exp`` overflows and no ``log(0)`` is taken.

    ``logits`` (N, C) are unnormalised class scores (any real values, C >= 2), ``y`` (N,) integer
    class ids in ``[0, C)``. Returns ``(value, dlogits)``: the loss (float) and ``d value / d logits``
    (``logits``'s shape and dtype). Derivation: ``docs/15-feature-learning.md`` (softmax cross-entropy).
    """
    n = len(logits)
    s = 1.0 / n if reduction == "mean" else 1.0
    log_p = log_softmax(logits)  # (N, C)
    value = -sum64(log_p[np.arange(n), y]) * s
    dlogits = np.exp(log_p)  # p, (N, C)
    dlogits[np.arange(n), y] -= 1  # p - onehot(y)
    dlogits *= s
    return value, dlogits


def _check_huber(pred, target, delta: float = 1.0, reduction: str = "mean"):
    """The check of :func:`huber`: :func:`check_pair`'s, and ``delta > 0``."""
    delta = check_float(delta, "delta", 0.0, low_inclusive=False)
    pred, target, reduction = check_pair()(pred, target, reduction)
    return pred, target, delta, reduction


@checked_by(_check_huber)
def huber(pred, target, delta: float = 1.0, reduction: str = "mean") -> tuple[float, np.ndarray]:
    r"""Huber loss: quadratic for residuals up to ``delta``, linear beyond (robust to outliers).

    With ``u = pred - target``:

    .. math::
        L = s \sum_i \begin{cases} \tfrac12 u_i^2 & |u_i| \le delta \\
                                   delta\,(|u_i| - \tfrac12 delta) & |u_i| > delta \end{cases},
        \qquad \frac{\partial L}{\partial pred_i} = s\,\mathrm{clip}(u_i, -delta, delta)

    ``s`` as in :func:`mse`. The two branches meet with the same value and slope at
    ``|u| = delta`` (the loss is once differentiable; its second derivative jumps there). PyTorch's
    ``HuberLoss(delta)``. A gradient check must see residuals on both branches: one that uses
    the quadratic branch everywhere passes when no ``|u|`` exceeds ``delta``
    (``docs/05-gradient-checking.md``).

    Parameters
    ----------
    pred, target : array_like, the same shape (any shape, usually (N, D))
    delta : float > 0
        Where the quadratic branch turns linear.
    reduction : {"mean", "sum"}

    Returns
    -------
    value : float
    dpred : ndarray, ``pred``'s shape and dtype

    Derivation: ``docs/02-losses.md`` (Huber).
    """
    s = reduction_scale(pred, reduction)
    u = pred - target
    a = np.abs(u)
    inside = a <= delta
    value = sum64(np.where(inside, 0.5 * u * u, delta * (a - 0.5 * delta)))
    return value * s, s * np.clip(u, -delta, delta)


LOSSES = {"mse": mse, "mae": mae, "sse": sse, "bce": bce, "huber": huber}

#: What a model's ``loss`` argument names, as the function its step calls (checked data, no re-check).
#: ``"bce"`` is computed from the decoder's logits: the decoder has no final sigmoid layer.
#: :func:`register_loss` adds to it.
RECONSTRUCTION_LOSSES = {"mse": mse.math, "mae": mae.math, "sse": sse.math, "bce": bce_with_logits.math,
                         "huber": huber.math}


def register_loss(name: str, loss, overwrite: bool = False) -> None:
    """Make ``loss`` a name that a model's ``loss=`` argument (and ``score``) accepts.

    ``loss(pred, target, reduction="mean") -> (value, dpred)``, the contract of every loss here
    (``value`` a float, ``dpred`` of ``pred``'s shape). A loss decorated with :func:`checked_by`
    is registered by its ``.math`` (a model's step calls it on data it has already checked). A
    registered name is saved with the model as a string, so ``load`` rebuilds it once the module
    that registers it is imported. ``name`` must be new unless ``overwrite``.
    See ``docs/14-extending.md`` (Write a loss).
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a non-empty str, got {name!r}")
    if not callable(loss):
        raise TypeError(f"loss must be callable as loss(pred, target, reduction='mean') -> (value, dpred), "
                        f"got {type(loss).__name__}")
    if name in RECONSTRUCTION_LOSSES and not overwrite and RECONSTRUCTION_LOSSES[name] is not getattr(
            loss, "math", loss):
        raise ValueError(f"name {name!r} is already a registered loss; pass overwrite=True to replace it")
    RECONSTRUCTION_LOSSES[name] = getattr(loss, "math", loss)
    LOSSES[name] = loss


def check_loss(loss):
    """``loss`` as a model's constructor takes it: a registered name or a callable, else ``ValueError``.

    A function (not a class) is used as it is (``loss(pred, target) -> (value, dpred)``); a name must
    be one of :data:`RECONSTRUCTION_LOSSES`. Checked once, at the door; the step trusts it.
    """
    named = isinstance(loss, str) and loss in RECONSTRUCTION_LOSSES
    if named or (callable(loss) and not isinstance(loss, type)):
        return loss
    raise ValueError(f"loss must be one of {sorted(RECONSTRUCTION_LOSSES)} (npae.losses.register_loss adds a "
                     f"name) or a function returning (value, dpred), got {loss!r}")


def get_loss(loss):
    """The function a model's step calls for its checked ``loss``: a registered name's, or ``loss`` itself."""
    return RECONSTRUCTION_LOSSES[loss] if isinstance(loss, str) else loss
