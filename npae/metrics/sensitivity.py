r"""How sensitive an encoder is to its input. Definitions: ``docs/07-contractive.md``, ``docs/08-metrics.md``.

- :func:`jacobian_norms` / :func:`mean_jacobian_norm`: the Frobenius norm of the explicit
  Jacobian ``||dh/dx||_F`` per example, and its mean (the quantity a contractive
  autoencoder penalises, squared);
- :func:`contraction_ratio`: Rifai et al. 2011's contraction curve, the mean of
  ``||f(x1) - f(x2)|| / ||x1 - x2||`` for pairs at distance ``r`` in input space, as a
  function of ``r``. Here ``x1`` is a data point and ``x2 = x1 + r u`` with ``u`` drawn
  uniformly on the unit sphere (an isotropic direction). For small ``r`` the ratio tends to
  ``E ||J u||`` (about ``||J||_F / sqrt(D)``); the smaller it is, the more the encoder
  contracts its neighbourhood;
- :func:`reconstruction_gains`: how much of a small step along a direction ``u`` comes out of the
  whole autoencoder, ``u . (f(x + eps u) - f(x - eps u)) / (2 eps)``; the identity gives 1, a map
  that drops the direction gives 0 (``docs/06-denoising.md``, overcomplete autoencoders).

The first three take an encoder (a ``Sequential``) or any model with an ``encoder`` attribute;
:func:`reconstruction_gains` any model with a ``reconstruct`` method.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_array, check_float, check_generator, check_int
from ..layers import Sequential
from ..penalties.contractive import jacobian


def _encoder(model) -> Sequential:
    enc = getattr(model, "encoder", model)
    if not isinstance(enc, Sequential):
        raise TypeError(f"model must be a Sequential encoder or have an .encoder, got {type(model).__name__}")
    return enc


def _dtype(enc: Sequential):
    return next(iter(enc.params.values())).dtype


def jacobian_norms(model, X, batch_size: int = 256) -> np.ndarray:
    """``||J(x_n)||_F`` for every row of ``X`` (N, D), shape (N,); computed in chunks of ``batch_size``."""
    enc = _encoder(model)
    X = check_array(X, "X", ndim=2, dtype=_dtype(enc))
    batch_size = check_int(batch_size, "batch_size", 1)
    norms = []
    for i in range(0, len(X), batch_size):
        J = jacobian(enc, X[i:i + batch_size])  # (B, latent, D)
        norms.append(np.sqrt(np.einsum("nij,nij->n", J, J, dtype=np.float64)))  # sum of squares, no copy of J
    return np.concatenate(norms)


def mean_jacobian_norm(model, X, batch_size: int = 256) -> float:
    r"""Mean Frobenius norm of the encoder Jacobian on ``X``, :math:`\frac1N\sum_n \lVert J_n \rVert_F`."""
    return float(jacobian_norms(model, X, batch_size).mean())


def reconstruction_gains(model, X, directions, eps: float = 0.05) -> np.ndarray:
    r"""Mean gain of ``model.reconstruct`` along each direction, by central differences.

    .. math:: g_k = \frac1N \sum_n u_k \cdot \frac{f(x_n + \epsilon u_k) - f(x_n - \epsilon u_k)}{2\epsilon}

    For a linear map ``f(x) = A x`` it is ``u_k^T A u_k`` exactly; the identity gives 1 along
    every unit direction.

    Parameters
    ----------
    model : object with ``reconstruct(X)``, (M, D) -> (M, D)
    X : array, shape (N, D)
    directions : array, shape (K, D)
        The directions ``u_k`` (unit rows for a gain; any rows for ``u_k . J u_k``).
    eps : float > 0

    Returns
    -------
    gains : ndarray, shape (K,), float64
    """
    if not callable(getattr(model, "reconstruct", None)):
        raise TypeError(f"model must have a reconstruct method, got {type(model).__name__}")
    X = check_array(X, "X", ndim=2)
    directions = check_array(directions, "directions", ndim=2)
    if directions.shape[1] != X.shape[1]:
        raise ValueError(f"directions must have X's {X.shape[1]} columns, got shape {directions.shape}")
    eps = check_float(eps, "eps", 0.0, low_inclusive=False)
    K, N = len(directions), len(X)
    steps = eps * directions[:, None, :]  # (K, 1, D)
    plus = model.reconstruct((X[None] + steps).reshape(K * N, -1)).reshape(K, N, -1)  # (K, N, D)
    minus = model.reconstruct((X[None] - steps).reshape(K * N, -1)).reshape(K, N, -1)  # (K, N, D)
    return np.einsum("knd,kd->k", plus - minus, directions, dtype=np.float64) / (2 * eps * N)


def contraction_ratio(model, X, distances, rng: np.random.Generator) -> np.ndarray:
    r"""Mean contraction ratio at each distance ``r`` (Rifai et al. 2011, figure 2).

    .. math:: \mathrm{ratio}(r) = \frac1N \sum_n \frac{\lVert f(x_n + r u_n) - f(x_n)\rVert}{r},
              \qquad u_n = \frac{g_n}{\lVert g_n \rVert},\; g_n \sim N(0, I)

    Parameters
    ----------
    model : Sequential or model with ``encoder``
    X : array_like, shape (N, D)
        The points ``x1``.
    distances : sequence of float > 0
        Input-space distances ``r``.
    rng : np.random.Generator
        Draws one direction per point and distance.

    Returns
    -------
    ndarray, shape (len(distances),)
    """
    enc = _encoder(model)
    X = check_array(X, "X", ndim=2, dtype=_dtype(enc))
    distances = check_array(distances, "distances", ndim=1, dtype=np.float64)
    if np.any(distances <= 0):
        raise ValueError(f"distances must be > 0, got min {distances.min():g}")
    check_generator(rng)
    h1 = enc.forward(X).astype(np.float64)  # (N, latent)
    ratios = np.empty(len(distances))
    for i, r in enumerate(distances):  # a handful of distances; everything inside is batched
        u = rng.standard_normal(X.shape)  # (N, D)
        u /= np.linalg.norm(u, axis=1, keepdims=True)
        h2 = enc.forward((X + r * u).astype(X.dtype)).astype(np.float64)
        ratios[i] = np.mean(np.linalg.norm(h2 - h1, axis=1)) / r
    return ratios


__all__ = ["contraction_ratio", "jacobian_norms", "mean_jacobian_norm", "reconstruction_gains"]
