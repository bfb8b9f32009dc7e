"""Tools for a trained VAE's latent space: interpolation, attribute vectors, the 2-D manifold, active units.

They use only a model's public ``encode`` (the posterior mean ``mu``) and ``decode`` (the mean of
``p(x | z)``), so they work for :class:`~npae.models.VAE` and :class:`~npae.models.ConvVAE` alike
(``example_shape`` tells one example's shape). Background: ``docs/09-vae.md``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.special import ndtri  # N(0, 1) quantile = norm.ppf; scipy.stats takes 2 s to import

from ._validation import check_array, check_float, check_int


def _check_latent_model(model, function: str) -> None:
    """Refuse a model without a latent space of ``latent_dim`` codes (a VAE's): a clear TypeError."""
    if not all(hasattr(model, a) for a in ("latent_dim", "example_shape", "encode", "decode")):
        raise TypeError(f"model: {function} needs a variational autoencoder (a model with latent_dim, such "
                        f"as npae.VAE or npae.ConvVAE), got {type(model).__name__}")


def interpolate(model, x_a, x_b, steps: int = 10) -> np.ndarray:
    r"""Decode the straight line between the codes (``mu``) of two inputs.

    ``z_t = (1 - t) mu_a + t mu_b`` for ``t`` in ``linspace(0, 1, steps)``; returns
    (steps, ...) decoded means. ``x_a``, ``x_b`` are single examples (with or without the
    batch axis).
    """
    _check_latent_model(model, "interpolate")
    steps = check_int(steps, "steps", 2)
    pair = []
    for name, x in (("x_a", x_a), ("x_b", x_b)):
        x = check_array(x, name, finite=False, min_samples=0)  # a clean error for non-arrays
        if x.shape == model.example_shape:
            x = x[None]
        pair.append(model._check_X(x, name))
        if len(pair[-1]) != 1:
            raise ValueError(f"{name} must be one example, got shape {x.shape}")
    mu = model.encode(np.concatenate(pair))  # (2, L)
    t = np.linspace(0.0, 1.0, steps, dtype=model.dtype)[:, None]  # (steps, 1)
    return model.decode((1 - t) * mu[0] + t * mu[1])


def attribute_vector(model, X, labels, to_label, from_label) -> np.ndarray:
    """Mean code of the examples labelled ``to_label`` minus that of ``from_label``, shape (latent_dim,).

    The "smile vector" idea: adding it to a code moves the decoded example towards the
    ``to_label`` group (on MNIST, for instance, from one digit class to another).
    """
    labels = check_array(labels, "labels", ndim=1)
    mu = model.encode(X)
    if len(labels) != len(mu):
        raise ValueError(f"labels must have one entry per row of X ({len(mu)}), got {len(labels)}")
    groups = {}
    for name, lab in (("to_label", to_label), ("from_label", from_label)):
        mask = labels == lab
        if not mask.any():
            raise ValueError(f"{name}={lab!r} matches no entry of labels")
        groups[name] = mu[mask].mean(axis=0)
    return groups["to_label"] - groups["from_label"]


def add_attribute(model, X, vector, amounts: Sequence[float] = (0.0, 0.5, 1.0, 1.5)) -> np.ndarray:
    """Decode ``mu(x) + a * vector`` for every ``a`` in ``amounts``: shape (len(amounts), N, ...)."""
    vector = check_array(vector, "vector", ndim=1, dtype=model.dtype)
    if vector.shape[0] != model.latent_dim:
        raise ValueError(f"vector must have shape ({model.latent_dim},), got {vector.shape}")
    a = check_array(amounts, "amounts", ndim=1, dtype=model.dtype)
    mu = model.encode(X)  # (N, L)
    z = mu[None] + a[:, None, None] * vector  # (A, N, L)
    out = model.decode(z.reshape(-1, model.latent_dim))  # (A*N, ...)
    return out.reshape((len(a), len(mu)) + out.shape[1:])  # (A, N, ...)


def manifold(model, n: int = 20, quantiles: tuple[float, float] = (0.05, 0.95)) -> np.ndarray:
    """Decode a grid over a 2-D latent: ``n x n`` codes at the prior's quantiles.

    The grid points are ``ndtri(linspace(q_lo, q_hi, n))``, the N(0, 1) quantiles, on each axis
    (equal prior mass between neighbours, as in Kingma & Welling's figure 4). Rows go from high
    ``z[1]`` (top) to low, columns from low ``z[0]`` to high. Returns (n*n, ...) images in
    row-major order, ready for a mosaic of ``n`` columns.
    """
    _check_latent_model(model, "manifold")
    if model.latent_dim != 2:
        raise ValueError(f"manifold needs latent_dim=2, got latent_dim={model.latent_dim}")
    n = check_int(n, "n", 2)
    lo = check_float(quantiles[0], "quantiles[0]", 0.0, 1.0, low_inclusive=False, high_inclusive=False)
    hi = check_float(quantiles[1], "quantiles[1]", lo, 1.0, low_inclusive=False, high_inclusive=False)
    grid = ndtri(np.linspace(lo, hi, n))
    z0, z1 = np.meshgrid(grid, grid[::-1])  # (n, n) each: columns vary z[0], rows z[1]
    Z = np.stack([z0.ravel(), z1.ravel()], axis=1).astype(model.dtype)  # (n*n, 2)
    return model.decode(Z)


def active_units(model, X, threshold: float = 1e-2) -> tuple[int, np.ndarray]:
    r"""How many latent dimensions the model uses (Burda et al. 2016): ``Var_x(E_q[z_d]) > threshold``.

    .. math:: A_d = \mathrm{Var}_{x}\big(\mathbb{E}_{q(z \mid x)}[z_d]\big) = \mathrm{Var}_n(mu_{nd})

    A dimension whose posterior mean hardly moves with ``x`` carries no information about
    ``x``: its ``q(z_d | x)`` has collapsed to (nearly) the prior, whatever its KL says at the
    decimal. Burda et al. count a unit as active when ``A_d > 10^-2`` (the prior's variance is 1).

    Parameters
    ----------
    model : VAE or ConvVAE
        Anything with ``encode(X) -> mu`` (N, latent_dim).
    X : array_like
        The inputs (e.g. the held-out images).
    threshold : float
        The activity threshold (default 0.01).

    Returns
    -------
    n_active : int
    variances : ndarray, shape (latent_dim,)
        ``A_d`` for every dimension (float64), to plot or sort.
    """
    threshold = check_float(threshold, "threshold", 0.0)
    mu = model.encode(X).astype(np.float64)  # (N, L)
    variances = mu.var(axis=0)  # (L,)
    return int(np.count_nonzero(variances > threshold)), variances


__all__ = ["active_units", "add_attribute", "attribute_vector", "interpolate", "manifold"]
