r"""Corruptions for denoising autoencoders. Derivations and pictures: ``docs/06-denoising.md``.

Every function takes the clean batch ``x`` (any shape, e.g. (N, D) rows or (N, C, H, W)
images) and a ``np.random.Generator`` and returns a new corrupted array of ``x``'s shape and
dtype; ``x`` itself is never modified. A denoising autoencoder draws fresh noise for every
batch:

- :func:`gaussian_noise`: ``x_tilde = x + sigma * eps``, ``eps ~ N(0, I)``, optionally
  clipped back to the data range.
- :func:`masking_noise`: each entry is set to 0 with probability ``fraction`` (Vincent et
  al. 2008's "masking noise"; the imputation / inpainting case).
- :func:`salt_and_pepper`: each entry is, with probability ``fraction``, replaced by the
  minimum or the maximum of the data range (one or the other with probability 1/2).

:func:`random_mask` and :func:`block_mask` return the boolean masks themselves (True =
missing), so the error on the missing entries can be measured; :func:`corrupt` dispatches
on a noise name.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ._validation import check_array, check_choice, check_float, check_generator, check_int, checked_by

NOISES = ("gaussian", "masking", "salt_and_pepper")


def _check_x(x) -> np.ndarray:
    x = check_array(x, "x", min_samples=0)
    return x if x.dtype.kind == "f" else x.astype(np.float64)


def _check_clip(clip) -> tuple[float, float] | None:
    if clip is None:
        return None
    if isinstance(clip, (str, bytes)) or not isinstance(clip, Sequence) or len(clip) != 2:
        raise ValueError(f"clip must be None or a pair (low, high), got {clip!r}")
    low = check_float(clip[0], "clip[0]")
    high = check_float(clip[1], "clip[1]")
    if not low < high:
        raise ValueError(f"clip must satisfy low < high, got {clip!r}")
    return low, high


def _check_gaussian(x, sigma: float, rng, clip=None) -> tuple:
    return _check_x(x), check_float(sigma, "sigma", 0.0), check_generator(rng), _check_clip(clip)


@checked_by(_check_gaussian)
def gaussian_noise(x, sigma: float, rng: np.random.Generator,
                   clip: tuple[float, float] | None = None) -> np.ndarray:
    r"""Additive isotropic Gaussian noise.

    .. math:: \tilde x = \mathrm{clip}(x + \sigma\,\varepsilon), \qquad \varepsilon \sim N(0, I)

    Parameters
    ----------
    x : array_like, any shape
    sigma : float >= 0
        Standard deviation of the noise, in the units of ``x`` (0 returns a copy).
    rng : np.random.Generator
    clip : (low, high), optional
        Clip the result to the data range (e.g. ``(0, 1)`` for images in [0, 1]).

    Returns
    -------
    ndarray, ``x``'s shape and float dtype
    """
    out = rng.standard_normal(x.shape, dtype=x.dtype)
    out *= x.dtype.type(sigma)
    out += x
    if clip is not None:
        np.clip(out, clip[0], clip[1], out=out)
    return out


def _check_fraction(fraction: float, rng) -> tuple[float, np.random.Generator]:
    return check_float(fraction, "fraction", 0.0, 1.0), check_generator(rng)


def _check_mask(shape: tuple[int, ...], fraction: float, rng) -> tuple:
    return (shape, *_check_fraction(fraction, rng))


def _check_masking(x, fraction: float, rng) -> tuple:
    return (_check_x(x), *_check_fraction(fraction, rng))


def _check_salt_and_pepper(x, fraction: float, rng, low: float = 0.0, high: float = 1.0) -> tuple:
    return (_check_x(x), *_check_fraction(fraction, rng), *_check_clip((low, high)))


@checked_by(_check_mask)
def random_mask(shape: tuple[int, ...], fraction: float, rng: np.random.Generator) -> np.ndarray:
    """Boolean mask of ``shape``: each entry is True (missing) independently with probability ``fraction``."""
    return rng.random(shape, dtype=np.float32) < fraction


@checked_by(_check_masking)
def masking_noise(x, fraction: float, rng: np.random.Generator) -> np.ndarray:
    r"""Masking noise: every entry is set to 0 independently with probability ``fraction``.

    .. math:: \tilde x_i = m_i\, x_i, \qquad m_i \sim \mathrm{Bernoulli}(1 - \mathrm{fraction})

    Parameters
    ----------
    x : array_like, any shape
    fraction : float in [0, 1]
        Expected fraction of entries destroyed.
    rng : np.random.Generator
    """
    missing = random_mask.math(x.shape, fraction, rng)
    return np.where(missing, x.dtype.type(0), x)


@checked_by(_check_salt_and_pepper)
def salt_and_pepper(x, fraction: float, rng: np.random.Generator,
                    low: float = 0.0, high: float = 1.0) -> np.ndarray:
    r"""Salt-and-pepper noise: a ``fraction`` of the entries set to ``low`` or ``high``.

    One uniform draw ``u_i`` per entry decides:

    .. math::
        \tilde x_i = \begin{cases} low & u_i < \mathrm{fraction}/2 \\
                                   high & \mathrm{fraction}/2 \le u_i < \mathrm{fraction} \\
                                   x_i & \text{otherwise} \end{cases}

    Parameters
    ----------
    x : array_like, any shape
    fraction : float in [0, 1]
        Expected fraction of entries replaced (half by ``low``, half by ``high``).
    rng : np.random.Generator
    low, high : float
        The "pepper" and "salt" values (the data range's ends).
    """
    u = rng.random(x.shape, dtype=np.float32)
    out = np.where(u < fraction / 2, x.dtype.type(low), x)
    out[(u >= fraction / 2) & (u < fraction)] = high
    return out


def block_mask(n: int, image_shape: tuple[int, int], block: int, rng: np.random.Generator) -> np.ndarray:
    """One random square hole per image: a mask of shape (n, H*W), True inside a ``block`` x ``block`` square.

    The square's top-left corner is uniform over the positions where it fits entirely.
    Vectorised: the mask is ``(rows in [r, r+block)) & (cols in [c, c+block))``.
    """
    n = check_int(n, "n", 1)
    block = check_int(block, "block", 1)
    if len(image_shape) != 2:
        raise ValueError(f"image_shape must be (H, W), got {image_shape!r}")
    H, W = (check_int(s, "image_shape", 1) for s in image_shape)
    if block > min(H, W):
        raise ValueError(f"block must be <= min(H, W) = {min(H, W)}, got {block}")
    rng = check_generator(rng)
    r = rng.integers(0, H - block + 1, size=n)[:, None, None]  # (n, 1, 1)
    c = rng.integers(0, W - block + 1, size=n)[:, None, None]
    rows = np.arange(H)[None, :, None]  # (1, H, 1)
    cols = np.arange(W)[None, None, :]  # (1, 1, W)
    mask = (rows >= r) & (rows < r + block) & (cols >= c) & (cols < c + block)  # (n, H, W)
    return mask.reshape(n, H * W)  # (n, H*W)


def _check_corrupt(x, noise: str, level: float, rng, clip=None) -> tuple:
    level = check_noise_level(noise, level, "level")
    return _check_x(x), noise, level, check_generator(rng), _check_clip(clip)


@checked_by(_check_corrupt)
def corrupt(x, noise: str, level: float, rng: np.random.Generator,
            clip: tuple[float, float] | None = None) -> np.ndarray:
    """Apply the corruption named ``noise`` at ``level``.

    ``noise="gaussian"``: ``level`` is ``sigma`` (and ``clip`` applies); ``"masking"`` and
    ``"salt_and_pepper"``: ``level`` is the fraction of entries destroyed (salt and pepper use
    ``clip``'s ends as their values, default (0, 1)).
    """
    if noise == "gaussian":
        return gaussian_noise.math(x, level, rng, clip)
    if noise == "masking":
        return masking_noise.math(x, level, rng)
    low, high = (0.0, 1.0) if clip is None else clip
    return salt_and_pepper.math(x, level, rng, low, high)


def check_noise_level(noise: str, level: float, name: str = "noise_level") -> float:
    """Validate ``level`` for ``noise``: sigma >= 0 for Gaussian noise, a fraction in [0, 1] otherwise."""
    check_choice(noise, "noise", NOISES)
    if noise == "gaussian":
        return check_float(level, name, 0.0)
    return check_float(level, name, 0.0, 1.0)


__all__ = ["NOISES", "block_mask", "check_noise_level", "corrupt", "gaussian_noise", "masking_noise",
           "random_mask", "salt_and_pepper"]
