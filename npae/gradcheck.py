r"""Numerical gradient checking: compare a hand-written backward with central differences.

This module is public because it is teaching material: every backward pass in npae is tested
with it. Run it in float64; a correct backward gives a relative error around 1e-9 or less,
a wrong one something near 1. See ``docs/05-gradient-checking.md``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ._validation import check_array, check_random_state


def rel_error(a: np.ndarray, b: np.ndarray) -> float:
    r"""Relative difference ``||a - b|| / (||a|| + ||b||)`` in [0, 1] (0 when both are zero).

    Norms over the whole arrays (any shape, ``a`` and ``b`` alike). Scale-free, and it does
    not blow up on individual entries that are zero up to rounding (as an element-wise ratio
    would). UFLDL divides by ``||a + b||`` instead, the same to first order when a ~ b. If
    ``a = c b`` it is ``|c - 1| / (|c| + 1)``: a wrong factor 2 gives 1/3, a wrong sign 1.
    See ``docs/05-gradient-checking.md``.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    denom = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if denom == 0 else float(np.linalg.norm(a - b) / denom)


def numerical_gradient(f: Callable[[], float], x: np.ndarray, h: float = 1e-6,
                       indices: np.ndarray | None = None) -> np.ndarray:
    r"""Central differences of a scalar function with respect to the array ``x``.

    .. math:: \frac{\partial f}{\partial x_i} \approx \frac{f(x + h e_i) - f(x - h e_i)}{2h}

    ``f`` takes no arguments and reads ``x``, which is perturbed in place, one entry at a
    time, and restored (any memory layout: entries are addressed by index, never through a
    reshaped copy). The truncation error is O(h^2); the rounding error O(eps / h); h = 1e-6 in
    float64 balances them. Two calls of ``f`` per entry. See ``docs/05-gradient-checking.md``.

    Returns an array of ``x``'s shape; with ``indices`` (flat, C-order indices into ``x``), only
    those entries are perturbed and a 1-D array of their partial derivatives is returned (a
    spot check of a large parameter array).
    """
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        got = getattr(x, "dtype", type(x).__name__)
        raise TypeError(f"x must be a float64 ndarray for a gradient check, got {got}")
    if not x.flags.writeable:
        raise ValueError("x must be writeable: the check perturbs it in place")
    if indices is None:
        entries = list(np.ndindex(x.shape))
    else:
        flat = check_array(indices, "indices", ndim=1, min_samples=0)
        if flat.dtype.kind not in "iu" or (flat.size and (flat.min() < 0 or flat.max() >= x.size)):
            raise ValueError(f"indices must be integers in [0, {x.size}), got {flat!r}")
        entries = list(zip(*np.unravel_index(flat, x.shape), strict=True))
    partials = np.zeros(len(entries))
    for k, i in enumerate(entries):
        old = x[i]
        x[i] = old + h
        f_plus = f()
        x[i] = old - h
        f_minus = f()
        x[i] = old
        partials[k] = (f_plus - f_minus) / (2 * h)
    return partials.reshape(x.shape) if indices is None else partials


def check_layer(layer, x: np.ndarray, rng=None, h: float = 1e-6) -> dict[str, float]:
    r"""Relative error of a layer's backward for its input and every parameter.

    The scalar checked is ``L = sum(forward(x) * dy)`` for a fixed random upstream gradient
    ``dy``, so ``dL/dy = dy`` and ``backward(dy)`` must return ``dL/dx``.

    Parameters
    ----------
    layer : Layer
        Built with ``dtype=np.float64``.
    x : array_like
        The input, of the shape the layer expects (e.g. (N, in_features)); copied to float64.
    rng : int, Generator or None
        Draws ``dy`` (shape of ``forward(x)``, standard normal).
    h : float
        Step of the central differences.

    Returns ``{"x": err, "W": err, ...}``: :func:`rel_error` for the input and for every key
    of ``layer.params``. A correct backward gives about 1e-9 or less, a wrong one about 0.1-1.
    See ``docs/05-gradient-checking.md``.
    """
    rng = check_random_state(rng, "rng")
    x = np.array(x, dtype=np.float64)
    dy = rng.standard_normal(layer.forward(x).shape)  # the forward also caches what backward needs
    dx = layer.backward(dy)

    def loss() -> float:
        return float(np.sum(layer.forward(x) * dy))

    analytic = {"x": dx, **{k: g.copy() for k, g in layer.grads.items()}}
    errors = {"x": rel_error(analytic["x"], numerical_gradient(loss, x, h))}
    for name, p in layer.params.items():
        errors[name] = rel_error(analytic[name], numerical_gradient(loss, p, h))
    return errors


def check_function(f: Callable[..., tuple[float, np.ndarray]], *args: np.ndarray, h: float = 1e-6,
                   wrt: int = 0, **kwargs) -> float:
    """Relative error of ``f(*args) -> (value, grad)``'s gradient with respect to ``args[wrt]``.

    Array arguments are copied to float64; ``grad`` must have the shape of ``args[wrt]``;
    ``kwargs`` are passed to ``f``. Used for the losses and penalties; see
    ``docs/05-gradient-checking.md``.
    """
    args = [np.array(a, dtype=np.float64) if isinstance(a, np.ndarray) else a for a in args]
    _, analytic = f(*args, **kwargs)
    analytic = np.array(analytic, copy=True)
    numeric = numerical_gradient(lambda: f(*args, **kwargs)[0], args[wrt], h)
    return rel_error(analytic, numeric)


def check_model(model, X: np.ndarray, rng_seed: int = 0, h: float = 1e-5) -> dict[str, float]:
    """Relative error of a model's whole-loss gradient for every parameter.

    ``model.loss_and_grads(X, rng)`` must be deterministic given ``rng``; a fresh generator
    seeded with ``rng_seed`` is passed on every call so noise (denoising, sampling) is held
    fixed. The model must have been built with ``dtype=np.float64``. ``h = 1e-5`` suits a
    whole loss (its value is O(1), so rounding error eps * L / h stays near 1e-11).

    ``X`` has shape (N, n_features) (or what the model's ``loss_and_grads`` accepts). Returns
    ``{param_name: rel_error}`` with the keys of ``model.params``. See
    ``docs/05-gradient-checking.md``.
    """
    X = model.check_batch(np.asarray(X, dtype=np.float64))

    def loss() -> float:
        return model.loss_and_grads(X, np.random.default_rng(rng_seed))[0]

    _, _, grads = model.loss_and_grads(X, np.random.default_rng(rng_seed))
    grads = {k: g.copy() for k, g in grads.items()}
    return {name: rel_error(grads[name], numerical_gradient(loss, p, h))
            for name, p in model.params.items()}
