r"""Binarised MNIST: grey levels read as Bernoulli probabilities, and one draw of each pixel.

The likelihoods published for VAEs on MNIST (Burda et al. 2016, and most papers since) are on
*binarised* images: each pixel is 1 with probability equal to its grey level, so that the
Bernoulli likelihood ``p(x | z)`` is a real probability of a real binary image. Two protocols:

- **fixed** binarisation (Larochelle & Murray 2011): one draw, seeded, made once; the model
  sees the same binary image every epoch. :func:`binarize` makes it.
- **dynamic** binarisation (Burda et al. 2016): a fresh draw every time an image is used, so
  the model never sees the same binary image twice and overfits less. The VAE does it inside
  its training step (``VAE(binarize="dynamic")``), with :func:`bernoulli_draw` and the step's
  Generator (the run's), once per batch: every image is in one batch per epoch, so that is one
  fresh draw of every image every epoch. The held-out images are binarised once (fixed, seeded)
  so that every model is scored on the same binary test set.

.. math::
    x_{\text{bin}, i} = [\,u_i < x_i\,], \qquad u_i \sim U[0, 1), \qquad
    P(x_{\text{bin}, i} = 1) = x_i

Background: ``docs/09-vae.md`` (binarised MNIST).
"""

from __future__ import annotations

import numpy as np

from ._validation import check_array, check_random_state, checked_by


def _check_binarize(X, random_state) -> tuple[np.ndarray, np.random.Generator]:
    X = check_array(X, "X", value_range=(0.0, 1.0), min_samples=0)
    X = X if X.dtype.kind == "f" else X.astype(np.float64)
    return X, check_random_state(random_state)


@checked_by(_check_binarize)
def binarize(X, random_state) -> np.ndarray:
    r"""One Bernoulli draw of every entry: ``X_bin = (u < X)``, ``u ~ U[0, 1)``, in ``X``'s dtype and shape.

    Fixed binarisation: call it once, with a seed, on the training and on the held-out images.

    Parameters
    ----------
    X : array_like, any shape, values in [0, 1]
        Probabilities (MNIST grey levels scaled to [0, 1]).
    random_state : int, Generator or None
        Draws ``u``; an int gives the same binary images every time.

    Returns
    -------
    ndarray, shape of ``X``
        Zeros and ones, in ``X``'s floating dtype.
    """
    return bernoulli_draw(X, random_state)


def bernoulli_draw(X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The math of :func:`binarize`, unchecked (a model's step calls it on a batch it trusts)."""
    return (rng.random(X.shape, dtype=X.dtype) < X).astype(X.dtype)


__all__ = ["bernoulli_draw", "binarize"]
