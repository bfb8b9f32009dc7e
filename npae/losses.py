r"""Reconstruction losses: ``value, dpred = loss(pred, target, reduction="mean")``.

``reduction="mean"`` averages over every element (PyTorch's default), ``"sum"`` sums. The
gradient ``dpred`` has ``pred``'s shape and dtype. Derivations: ``docs/02-losses.md``.
"""

from __future__ import annotations

import numpy as np

from ._validation import check_array, check_choice, check_same_shape
from .layers.activations import exp_neg_abs, sigmoid

REDUCTIONS = ("mean", "sum")


def _prepare(pred, target, reduction: str, pred_range=None, target_range=None):
    """Validate a (pred, target) pair; return them as arrays of pred's float dtype and the scale."""
    check_choice(reduction, "reduction", REDUCTIONS)
    pred = check_array(pred, "pred", value_range=pred_range, min_samples=0)
    if pred.dtype.kind != "f":
        pred = pred.astype(np.float64)
    target = check_array(target, "target", value_range=target_range, min_samples=0, dtype=pred.dtype)
    check_same_shape(pred, target, "pred", "target")
    if pred.size == 0:
        raise ValueError(f"pred must not be empty, got shape {pred.shape}")
    scale = 1.0 / pred.size if reduction == "mean" else 1.0
    return pred, target, pred.dtype.type(scale)


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
    pred, target, s = _prepare(pred, target, reduction)
    diff = pred - target
    return float(np.vdot(diff, diff)) * float(s), (2 * s) * diff


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
    pred, target, s = _prepare(pred, target, reduction)
    diff = pred - target
    return float(np.abs(diff).sum()) * float(s), s * np.sign(diff)


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
    pred, target, _ = _prepare(pred, target, reduction)
    s = pred.dtype.type(1.0 / pred.shape[0] if reduction == "mean" and pred.ndim else 1.0)
    diff = pred - target
    return 0.5 * float(np.vdot(diff, diff)) * float(s), s * diff


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
    pred, target, s = _prepare(pred, target, reduction, (0.0, 1.0), (0.0, 1.0))
    eps = np.finfo(pred.dtype).eps
    p = np.clip(pred, eps, 1 - eps)
    value = -(np.vdot(target, np.log(p)) + np.vdot(1 - target, np.log1p(-p)))
    return float(value) * float(s), s * (p - target) / (p * (1 - p))


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
    logits, target, s = _prepare(logits, target, reduction, None, (0.0, 1.0))
    e = exp_neg_abs(logits)  # exp(-|l|): for the log term and, reused, for sigma(l)
    value = (np.maximum(logits, 0) - logits * target + np.log1p(e)).sum()
    dlogits = sigmoid(logits, e)
    dlogits -= target
    dlogits *= s
    return float(value) * float(s), dlogits


LOSSES = {"mse": mse, "mae": mae, "sse": sse, "bce": bce}
