r"""The denoising autoencoder (Vincent et al. 2008). Derivation: ``docs/06-denoising.md``."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .._validation import check_choice, check_generator
from ..losses import get_loss
from ..noise import NOISES, _check_clip, check_noise_level, corrupt
from .autoencoder import Autoencoder


class DenoisingMixin:
    r"""The denoising objective, for any autoencoder: put it before the model class in the bases.

    Holds the noise arguments, the corruption and the denoising training step; the networks
    and the input checks come from the other base (:class:`DenoisingAutoencoder` mixes it into
    the dense :class:`~npae.models.Autoencoder`, ``ConvDenoisingAutoencoder`` into
    ``ConvAutoencoder``). The step is the plain autoencoder's with the encoder's input replaced
    by ``x_tilde``: the noise is a constant of the backward pass (nothing flows into it), and the
    target stays the clean ``x``.
    """

    def _set_noise(self, noise: str, noise_level: float, clip: tuple[float, float] | None) -> None:
        """Check and store ``noise``, ``noise_level`` and ``clip`` (the constructor's arguments)."""
        self.noise = check_choice(noise, "noise", NOISES)
        self.noise_level = check_noise_level(noise, noise_level)
        self.clip = _check_clip(clip)

    def corrupt(self, X, rng: np.random.Generator) -> np.ndarray:
        """A corrupted copy of ``X`` drawn from the model's noise with ``rng`` (``X`` is checked first)."""
        return self._corrupt(self._check_X(X), check_generator(rng))

    def _corrupt(self, X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Draw ``x_tilde ~ q(x_tilde | x)`` for a checked batch ``X``: same shape and dtype.

        The hook a subclass overrides to train against another corruption (a watermark, dropping
        the colour, ...): :meth:`corrupt` and the training objective both go through it, and the
        gradient does not change, since nothing flows back into the corruption.
        """
        return corrupt.math(X, self.noise, self.noise_level, rng, self.clip)

    def _forward_backward(self, X: np.ndarray, rng: np.random.Generator) -> dict[str, float]:
        # 1. corrupt: x_tilde ~ q(x_tilde | x), fresh noise for every batch from rng
        X_tilde = self._corrupt(X, rng)  # X's shape
        # 2. forward from the corrupted input
        h = self.encoder.forward(X_tilde, rng)
        out = self.decoder.forward(h, rng)
        # 3. the loss against the clean X
        rec, dout = get_loss(self.loss)(out, X)
        # 4. backward: decoder, then encoder (nothing flows into the noise)
        dh = self.decoder.backward(dout)
        self.encoder.backward(dh, input_grad=False)
        return {"reconstruction": rec}


class DenoisingAutoencoder(DenoisingMixin, Autoencoder):
    r"""An autoencoder trained to undo a corruption: it sees ``x_tilde`` and must output ``x``.

    .. math::
        \tilde x \sim q(\tilde x \mid x), \qquad h = f_{enc}(\tilde x), \qquad
        \hat x = f_{dec}(h), \qquad
        J = \mathrm{loss}(\hat x, x) + \frac{\lambda}{2}\sum_W \lVert W \rVert_F^2

    The gradient is the plain autoencoder's with the encoder's input replaced by
    ``x_tilde``: the noise is a constant of the backward pass (nothing flows into it), and the
    target stays the clean ``x``. Fresh noise is drawn for every batch from the generator
    passed to :meth:`loss_and_grads` (``fit`` passes the model's), so a fixed generator
    gives a fixed noise sample (what a gradient check needs). :meth:`score`, ``encode`` and
    ``reconstruct`` use their input as given: to denoise, pass the noisy data.

    Parameters
    ----------
    sizes, activation, code_activation, output_activation, loss, weight_decay, random_state, dtype, tied
        As in :class:`~npae.models.Autoencoder`.
    noise : {"gaussian", "masking", "salt_and_pepper"}
        The corruption ``q`` (see :mod:`npae.noise`).
    noise_level : float
        ``sigma`` for Gaussian noise (>= 0); the fraction of corrupted inputs in [0, 1] for
        masking and salt-and-pepper noise.
    clip : (low, high) or None
        Data range: Gaussian noise is clipped to it, salt-and-pepper uses its ends (default
        (0, 1) for salt and pepper, no clipping for Gaussian).
    """

    def __init__(self, sizes: Sequence[int] = (784, 32), activation: str = "relu",
                 code_activation: str | None = None, output_activation: str = "sigmoid",
                 loss: str = "mse", noise: str = "gaussian", noise_level: float = 0.3,
                 clip: tuple[float, float] | None = None, weight_decay: float = 0.0,
                 random_state=None, dtype=np.float32, tied: bool = False) -> None:
        self._set_noise(noise, noise_level, clip)
        super().__init__(sizes, activation, code_activation, output_activation, loss, weight_decay,
                         random_state, dtype, tied)

    def __repr__(self) -> str:
        widths = "-".join(str(s) for s in self.sizes + self.sizes[-2::-1])
        return (f"{type(self).__name__}({widths}, activation={self.activation!r}, loss={self.loss!r}, "
                f"noise={self.noise!r}, noise_level={self.noise_level})")


__all__ = ["DenoisingAutoencoder", "DenoisingMixin"]
