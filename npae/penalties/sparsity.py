r"""Penalties on hidden activations and weights. Derivations: ``docs/03-sparsity.md``."""

from __future__ import annotations

import numpy as np

from .._validation import check_array, check_float, checked_by


def _check_codes(h, value_range: tuple[float, float] | None = None) -> np.ndarray:
    """``h`` as a finite float array of shape (N, K) (integers become float64), inside ``value_range``."""
    h = check_array(h, "h", ndim=2, value_range=value_range)
    return h if h.dtype.kind == "f" else h.astype(np.float64)


def _check_l1(h) -> tuple[np.ndarray]:
    return (_check_codes(h),)


def _check_kl(h, rho: float) -> tuple[np.ndarray, float]:
    rho = check_float(rho, "rho", 0.0, 1.0, low_inclusive=False, high_inclusive=False)
    return _check_codes(h, (0.0, 1.0)), rho


@checked_by(_check_l1)
def l1_activity(h) -> tuple[float, np.ndarray]:
    r"""L1 activity penalty: the batch mean of each example's summed absolute activation.

    For ``h`` of shape (N, K):

    .. math::
        \Omega = \frac{1}{N} \sum_n \sum_j |h_{nj}|, \qquad
        \frac{\partial \Omega}{\partial h_{nj}} = \frac{1}{N}\,\mathrm{sign}(h_{nj})

    Returns ``(value, dh)``; ``dh`` has ``h``'s shape (N, K) and dtype. The subgradient 0 is
    taken at ``h == 0``. Derivation: ``docs/03-sparsity.md``.
    """
    s = 1.0 / h.shape[0]  # a Python float: s * sign(h) keeps h's dtype
    return float(np.sum(np.abs(h), dtype=np.float64)) * s, s * np.sign(h)


@checked_by(_check_kl)
def kl_sparsity(h, rho: float) -> tuple[float, np.ndarray]:
    r"""KL sparsity penalty of Ng's sparse autoencoder.

    For activations ``h`` in (0, 1) of shape (N, K), ``rho_hat_j`` is the batch mean of
    unit j and every unit is pushed towards the target mean ``rho``:

    .. math::
        \hat\rho_j = \frac{1}{N}\sum_n h_{nj}, \qquad
        \Omega = \sum_j \rho \log\frac{\rho}{\hat\rho_j}
                 + (1 - \rho) \log\frac{1 - \rho}{1 - \hat\rho_j}

        \frac{\partial \Omega}{\partial h_{nj}} = \frac{1}{N}
            \Big(-\frac{\rho}{\hat\rho_j} + \frac{1 - \rho}{1 - \hat\rho_j}\Big)

    Every example of the batch gets the same gradient row, since each ``h_nj`` enters
    ``rho_hat_j`` with weight ``1/N``. ``rho_hat`` is clipped to ``[eps, 1 - eps]`` so the logs
    stay finite. Returns ``(value, dh)``; ``dh`` has ``h``'s shape (N, K) and dtype.
    Derivation: ``docs/03-sparsity.md``.
    """
    eps = np.finfo(h.dtype).eps
    rho_hat = np.clip(h.mean(axis=0), eps, 1 - eps)  # (K,)
    value = np.sum(rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat)))
    d_rho_hat = (-rho / rho_hat + (1 - rho) / (1 - rho_hat)) / h.shape[0]  # (K,)
    dh = np.broadcast_to(d_rho_hat.astype(h.dtype), h.shape).copy()  # (N, K)
    return float(value), dh


def _check_decay(params: dict[str, np.ndarray], lam: float) -> tuple[dict[str, np.ndarray], float]:
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict of arrays, got {type(params).__name__}")
    return params, check_float(lam, "lam", 0.0)


@checked_by(_check_decay)
def l2_weight_decay(params: dict[str, np.ndarray], lam: float) -> tuple[float, dict[str, np.ndarray]]:
    r"""L2 weight decay on the weight matrices (keys ending in ``"W"``), biases excluded.

    .. math::
        \Omega = \frac{\lambda}{2} \sum_{W} \sum_{ij} W_{ij}^2, \qquad
        \frac{\partial \Omega}{\partial W} = \lambda W

    ``params`` maps names (``"0.W"``, ``"encoder.0.W"``, ...) to arrays of any shape; ``lam``
    is ``lambda``. Returns ``(value, grads)`` where ``grads`` has one entry per weight matrix,
    of that matrix's shape. Derivation: ``docs/03-sparsity.md``.
    """
    weights = {k: v for k, v in params.items() if k.split(".")[-1] == "W"}
    value = 0.5 * lam * sum(float(np.sum(np.square(w), dtype=np.float64)) for w in weights.values())
    return value, {k: w.dtype.type(lam) * w for k, w in weights.items()}


def add_weight_decay(grads: dict[str, np.ndarray], params: dict[str, np.ndarray], lam: float) -> float:
    """Add ``lam * W`` to the gradient of every weight matrix of ``params``, in place; return the value.

    ``grads`` (keys of ``params``) holds the layers' own gradient arrays, and each weight's array
    gets ``grads[k] += lam * W``: the one way every extra term joins the gradient (the contractive
    penalty does the same), so after a step ``model.grads`` is the gradient ``loss_and_grads``
    returned. The value is :func:`l2_weight_decay`'s, the term a model's ``loss_and_grads``
    reports as ``"weight_decay"``. Trusts its arguments (a model's step calls it).
    """
    value, decay = l2_weight_decay.math(params, lam)
    for k, g in decay.items():
        grads[k] += g  # the layer's own array: model.grads reads it back
    return value
