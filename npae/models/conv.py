r"""Convolutional autoencoder, denoising autoencoder and VAE for NCHW images.

All reuse the dense models' machinery: :class:`ConvAutoencoder` is a
:class:`~npae.models.base.BaseAutoencoder` (same loss hook, ``fit``, history, divergence guard)
whose networks are convolutional, :class:`ConvDenoisingAutoencoder` mixes in the
:class:`~npae.models.DenoisingAutoencoder`'s objective
(:class:`~npae.models.denoising.DenoisingMixin`), and :class:`ConvVAE` is the
:class:`~npae.models.vae.VAE` (same sampling, KL, ELBO and backward through the
reparameterisation) with convolutional networks plugged into its ``_build_networks`` hook. What
they add is the image plumbing: inputs may be (N, C, H, W) images or (N, C*H*W) rows
(reshaped), and codes may be feature maps.

Layers and derivations: :mod:`npae.layers.conv`, ``docs/10-convolutions.md``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .._validation import check_array, check_choice, check_float, check_int
from ..init import init_for_activation
from ..layers import (
    ACTIVATIONS,
    Conv2D,
    Conv2DTranspose,
    Dense,
    Flatten,
    MaxPool2D,
    Reshape,
    Sequential,
    UpSampling2D,
    get_activation,
)
from ..layers.conv import conv_output_size
from .autoencoder import check_network_args, decoder_output
from .base import BaseAutoencoder
from .denoising import DenoisingMixin
from .vae import VAE

ARCHITECTURES = ("strided", "pooling")


def check_input_shape(input_shape: Sequence[int]) -> tuple[int, int, int]:
    """``input_shape`` as a ``(C, H, W)`` tuple of positive ints."""
    if (isinstance(input_shape, (str, bytes)) or not isinstance(input_shape, Sequence)
            or len(input_shape) != 3):
        raise ValueError(f"input_shape must be (channels, height, width), got {input_shape!r}")
    c, h, w = (check_int(s, f"input_shape[{i}]", 1) for i, s in enumerate(input_shape))
    return c, h, w


def check_channels(channels: Sequence[int]) -> tuple[int, ...]:
    """``channels`` as a non-empty tuple of positive ints (one entry per down-sampling stage)."""
    if isinstance(channels, (str, bytes)) or not isinstance(channels, Sequence) or not channels:
        raise ValueError(f"channels must be a non-empty sequence of ints, got {channels!r}")
    return tuple(check_int(c, f"channels[{i}]", 1) for i, c in enumerate(channels))


def check_kernel_size(kernel_size: int) -> int:
    """``kernel_size`` as an odd positive int (the convolutions use "same" padding ``kernel_size // 2``)."""
    kernel_size = check_int(kernel_size, "kernel_size", 1)
    if kernel_size % 2 == 0:
        raise ValueError(f"kernel_size must be odd (for 'same' padding), got {kernel_size}")
    return kernel_size


def conv_networks(input_shape: tuple[int, int, int], architecture: str, channels: tuple[int, ...],
                  kernel_size: int, activation: str, code_activation: str, output_activation: str | None,
                  code_size: int | None, rng: np.random.Generator, dtype,
                  decoder_code_size: int | None = None) -> tuple[Sequential, Sequential, tuple[int, ...]]:
    """Build a convolutional encoder, the mirrored decoder and the per-example code shape.

    ``"strided"``: each stage is ``Conv2D(k, stride 2, padding k//2) - act``; the decoder undoes
    each with ``Conv2DTranspose(k, stride 2, padding k//2, output_padding)``, the output padding
    chosen so every stage gets back exactly the size it came from (1 for even sizes, 0 for odd).

    ``"pooling"`` (the Keras blog's network): each stage is ``Conv2D(k, padding k//2) - act -
    MaxPool2D(2)``; the decoder is ``Conv2D - act - UpSampling2D(2)`` per stage and a last
    ``Conv2D`` to the input's channels. Sizes must be divisible by ``2**len(channels)``.

    With ``code_size`` the feature map is flattened and a ``Dense`` layer makes a code vector
    of that size (``code_activation`` after it) and the decoder starts with a ``Dense`` from
    ``decoder_code_size`` (default ``code_size``; the VAE's decoder takes ``latent_dim`` while
    its encoder gives ``2 * latent_dim``); otherwise the last feature map is the code (and
    ``code_activation`` is applied to it). ``output_activation=None`` ends the decoder on its last
    convolution (logits, for ``loss="bce"``).
    """
    c_in, h, w = input_shape
    stages = len(channels)
    pad = kernel_size // 2

    def layer(kind, a: int, b: int, act: str | None, **kw) -> list:
        """A convolution (or Dense) initialised for the activation after it, then that activation (if any)."""
        made = kind(a, b, init=init_for_activation(act or "identity"), rng=rng, dtype=dtype, **kw)
        return [made] if act is None else [made, get_activation(act)]

    enc: list = []
    dec: list = []
    if architecture == "strided":
        sizes = [(h, w)]
        for i, (a, b) in enumerate(zip((c_in,) + channels[:-1], channels, strict=True)):
            act = code_activation if i == stages - 1 and code_size is None else activation
            enc += layer(Conv2D, a, b, act, kernel_size=kernel_size, stride=2, padding=pad)
            sizes.append(tuple(conv_output_size(s, kernel_size, 2, pad) for s in sizes[-1]))
        outs = (c_in,) + channels[:-1]
        for i in reversed(range(stages)):
            act = output_activation if i == 0 else activation
            (ho, wo), (hi, wi) = sizes[i], sizes[i + 1]
            # output_padding: what the transposed convolution's size formula falls short of sizes[i]
            op = (ho - ((hi - 1) * 2 - 2 * pad + kernel_size), wo - ((wi - 1) * 2 - 2 * pad + kernel_size))
            dec += layer(Conv2DTranspose, channels[i], outs[i], act, kernel_size=kernel_size, stride=2,
                         padding=pad, output_padding=op)
        fmap = (channels[-1], *sizes[-1])
    else:
        factor = 2 ** stages
        if h % factor or w % factor:
            raise ValueError(f"architecture='pooling' with {stages} stages needs height and width divisible "
                             f"by {factor}, got input_shape={input_shape}")
        for i, (a, b) in enumerate(zip((c_in,) + channels[:-1], channels, strict=True)):
            act = code_activation if i == stages - 1 and code_size is None else activation
            enc += layer(Conv2D, a, b, act, kernel_size=kernel_size, padding=pad) + [MaxPool2D(2)]
        prev = channels[-1]
        for b in channels[::-1]:  # e.g. channels (16, 8): Conv(8->8) - up - Conv(8->16) - up - Conv(16->1)
            dec += layer(Conv2D, prev, b, activation, kernel_size=kernel_size, padding=pad)
            dec.append(UpSampling2D(2))
            prev = b
        dec += layer(Conv2D, prev, c_in, output_activation, kernel_size=kernel_size, padding=pad)
        fmap = (channels[-1], h // factor, w // factor)
    if code_size is None:
        return Sequential(*enc), Sequential(*dec), fmap
    flat = int(np.prod(fmap))
    enc += [Flatten()] + layer(Dense, flat, code_size, code_activation)  # (N, C*h*w) -> (N, code_size)
    dec = layer(Dense, decoder_code_size or code_size, flat, activation) + [Reshape(fmap)] + dec
    return Sequential(*enc), Sequential(*dec), (code_size,)


class _ImageInput:
    """Accept (N, C, H, W) images or (N, C*H*W) rows for a model with ``input_shape``.

    Mixed in before the model class: :meth:`reconstruct` wraps the model's own (``decoder(encoder(X))``
    for the autoencoders, the decoded posterior mean for the VAE) to give rows back for rows.
    """

    input_shape: tuple[int, int, int]
    dtype: np.dtype

    def _check_images(self, X, name: str = "X") -> np.ndarray:
        """``X`` as images of shape (N, C, H, W) in the model's dtype (rows are reshaped, no copy)."""
        X = check_array(X, name, ndim=(2, 4), dtype=self.dtype)
        c, h, w = self.input_shape
        if X.ndim == 2 and X.shape[1] == c * h * w:
            return X.reshape(len(X), c, h, w)  # (N, C*H*W) -> (N, C, H, W)
        if X.ndim == 4 and X.shape[1:] == (c, h, w):
            return X
        raise ValueError(f"{name} must have shape (N, {c}, {h}, {w}) or (N, {c * h * w}) rows, "
                         f"got shape {X.shape}")

    @property
    def example_shape(self) -> tuple[int, ...]:
        """Shape of one input example, ``(C, H, W)``."""
        return self.input_shape

    def reconstruct(self, X) -> np.ndarray:
        """The model's reconstruction as images (N, C, H, W), or as rows (N, C*H*W) if ``X`` was rows."""
        out = super().reconstruct(X)  # (N, C, H, W)
        return out.reshape(len(out), -1) if np.ndim(X) == 2 else out  # (N, C*H*W) for row input


class ConvAutoencoder(_ImageInput, BaseAutoencoder):
    r"""A convolutional autoencoder: strided Conv/Conv2DTranspose or Conv/MaxPool/UpSampling.

    .. math::
        h = f_{enc}(x), \qquad \hat x = f_{dec}(h), \qquad
        J = \mathrm{loss}(\hat x, x) + \frac{\lambda}{2}\sum_W \lVert W \rVert_F^2

    with convolutional ``f_enc``/``f_dec`` built by :func:`conv_networks`. The defaults are the
    benchmark network of ``benchmarks/conv_ae.py``: Conv(1->16, 3, s2, p1) - ReLU -
    Conv(16->32, 3, s2, p1) - ReLU - ConvT(32->16, 3, s2, p1, op1) - ReLU -
    ConvT(16->1, 3, s2, p1, op1) - Sigmoid, MSE loss; its code is the 32x7x7 feature map.

    Parameters
    ----------
    input_shape : (C, H, W)
    architecture : {"strided", "pooling"}
    channels : sequence of int
        Channels of each encoder stage (each halves the height and width).
    kernel_size : int
        Odd kernel size of every convolution ("same" padding ``kernel_size // 2``).
    activation : str
        Hidden activation.
    code_activation : str, optional
        Activation of the code (default: ``activation``).
    output_activation : str
        Activation of the reconstruction (``"sigmoid"`` for images in [0, 1]).
    code_size : int, optional
        Add a Dense bottleneck of this size after the last feature map (and its mirror in the
        decoder); ``None`` keeps the feature map as the code.
    loss : {"mse", "mae", "sse", "bce"}
    weight_decay : float
    random_state : int, Generator or None
    dtype : float32 (default) or float64

    ``X`` may be images (N, C, H, W) or rows (N, C*H*W); ``reconstruct`` returns the same form.
    """

    def __init__(self, input_shape: Sequence[int] = (1, 28, 28), architecture: str = "strided",
                 channels: Sequence[int] = (16, 32), kernel_size: int = 3, activation: str = "relu",
                 code_activation: str | None = None, output_activation: str = "sigmoid",
                 code_size: int | None = None, loss: str = "mse", weight_decay: float = 0.0,
                 random_state=None, dtype=np.float32) -> None:
        self.input_shape = check_input_shape(input_shape)
        self.architecture = check_choice(architecture, "architecture", ARCHITECTURES)
        self.channels = check_channels(channels)
        self.kernel_size = check_kernel_size(kernel_size)
        self.activation, self.code_activation, self.output_activation, self.loss = check_network_args(
            activation, code_activation, output_activation, loss)
        self.code_size = None if code_size is None else check_int(code_size, "code_size", 1)
        self.weight_decay = check_float(weight_decay, "weight_decay", 0.0)
        rng = self._init_common(random_state, dtype)
        self.n_features = int(np.prod(self.input_shape))
        self.encoder, self.decoder, self.code_shape = conv_networks(
            self.input_shape, self.architecture, self.channels, self.kernel_size, self.activation,
            self.code_activation or self.activation, decoder_output(self.output_activation, self.loss),
            self.code_size, rng, self.dtype)

    def _check_X(self, X, name: str = "X") -> np.ndarray:
        return self._check_images(X, name)

    def decode(self, H) -> np.ndarray:
        """Reconstructions ``decoder(H)`` (probabilities for ``loss="bce"``), shape (N, C, H, W);
        ``H`` of shape (N, *code_shape)."""
        H = check_array(H, "H", ndim=1 + len(self.code_shape), dtype=self.dtype)
        if H.shape[1:] != self.code_shape:
            shape = ", ".join(map(str, self.code_shape))
            raise ValueError(f"H must have shape (N, {shape}) (the code shape), got shape {H.shape}")
        return self._output(self._batched(self.decoder, H))

    def __repr__(self) -> str:
        return (f"ConvAutoencoder(input_shape={self.input_shape}, architecture={self.architecture!r}, "
                f"channels={self.channels}, code_shape={self.code_shape}, loss={self.loss!r})")


class ConvDenoisingAutoencoder(DenoisingMixin, ConvAutoencoder):
    r"""A convolutional denoising autoencoder: it sees a corrupted ``x_tilde`` and must output ``x``.

    .. math::
        \tilde x \sim q(\tilde x \mid x), \qquad \hat x = f_{dec}(f_{enc}(\tilde x)), \qquad
        J = \mathrm{loss}(\hat x, x) + \frac{\lambda}{2}\sum_W \lVert W \rVert_F^2

    The objective and its gradient are :class:`~npae.models.DenoisingAutoencoder`'s, from the
    same :class:`~npae.models.denoising.DenoisingMixin` (fresh noise for every batch from the
    passed generator, the noise a constant of the backward pass, the clean ``x`` as target); the
    networks are :class:`ConvAutoencoder`'s. The defaults are the Keras blog's denoising network:
    Conv(1->32) - ReLU - MaxPool - Conv(32->32) - ReLU - MaxPool, then Conv - ReLU - UpSampling
    twice and Conv(32->1) - Sigmoid, binary cross-entropy, Gaussian noise of ``sigma = 0.5``
    clipped to [0, 1]. ``encode``/``reconstruct``/``score`` use their input as given: to
    denoise, pass the noisy images. Derivation: ``docs/06-denoising.md``.

    Parameters
    ----------
    input_shape, architecture, channels, kernel_size, activation, code_activation, output_activation
        As in :class:`ConvAutoencoder`.
    code_size, loss, weight_decay, random_state, dtype
        As in :class:`ConvAutoencoder`.
    noise, noise_level, clip
        As in :class:`~npae.models.DenoisingAutoencoder`.
    """

    def __init__(self, input_shape: Sequence[int] = (1, 28, 28), architecture: str = "pooling",
                 channels: Sequence[int] = (32, 32), kernel_size: int = 3, activation: str = "relu",
                 code_activation: str | None = None, output_activation: str = "sigmoid",
                 code_size: int | None = None, loss: str = "bce", noise: str = "gaussian",
                 noise_level: float = 0.5, clip: tuple[float, float] | None = (0.0, 1.0),
                 weight_decay: float = 0.0, random_state=None, dtype=np.float32) -> None:
        self._set_noise(noise, noise_level, clip)
        super().__init__(input_shape, architecture, channels, kernel_size, activation, code_activation,
                         output_activation, code_size, loss, weight_decay, random_state, dtype)

    def __repr__(self) -> str:
        return (f"ConvDenoisingAutoencoder(input_shape={self.input_shape}, "
                f"architecture={self.architecture!r}, channels={self.channels}, noise={self.noise!r}, "
                f"noise_level={self.noise_level})")


class ConvVAE(_ImageInput, VAE):
    r"""A VAE with a convolutional encoder and a transposed-convolution decoder.

    Encoder: strided ``Conv2D - act`` stages, ``Flatten``, ``Dense -> 2*latent_dim``
    (``[mu, log_var]``). Decoder: ``Dense(latent_dim -> C*h*w) - act - Reshape`` then
    ``Conv2DTranspose - act`` stages, the last one giving the logits (Bernoulli) or the mean
    (Gaussian) of ``p(x | z)`` with the input's shape. Everything else (reparameterisation
    ``z = mu + exp(0.5 * log_var) * eps``, closed-form KL, ELBO, its gradient, sampling) is the
    :class:`~npae.models.vae.VAE`'s, unchanged:

    .. math:: \mathrm{loss} = \mathrm{mean}_n\big[-\log p(x_n \mid z_n) + \beta\,
              \mathrm{KL}(q(z \mid x_n)\,\|\,N(0, I))\big]

    Parameters
    ----------
    input_shape : (C, H, W)
    channels : sequence of int
        Channels of each strided stage (each halves the height and width).
    kernel_size : int
        Odd kernel size ("same" padding).
    latent_dim, activation, likelihood, decoder_sigma, learn_decoder_sigma, beta, weight_decay
        As in :class:`~npae.models.vae.VAE`.
    random_state, dtype
        As in :class:`~npae.models.vae.VAE`.
    """

    def __init__(self, input_shape: Sequence[int] = (1, 28, 28), channels: Sequence[int] = (32, 64),
                 kernel_size: int = 3, latent_dim: int = 16, activation: str = "relu",
                 likelihood: str = "bernoulli", decoder_sigma: float = 1.0, learn_decoder_sigma: bool = False,
                 beta: float = 1.0, weight_decay: float = 0.0, random_state=None, dtype=np.float32) -> None:
        self.input_shape = check_input_shape(input_shape)
        self.channels = check_channels(channels)
        self.kernel_size = check_kernel_size(kernel_size)
        self.activation = check_choice(activation, "activation", tuple(ACTIVATIONS))
        self.n_features = int(np.prod(self.input_shape))
        self._setup(latent_dim, likelihood, decoder_sigma, learn_decoder_sigma, beta, weight_decay,
                    random_state, dtype)

    def _build_networks(self, rng: np.random.Generator) -> tuple[Sequential, Sequential]:
        return conv_networks(self.input_shape, "strided", self.channels, self.kernel_size, self.activation,
                             "identity", "identity", 2 * self.latent_dim, rng, self.dtype,
                             decoder_code_size=self.latent_dim)[:2]

    def _check_X(self, X, name: str = "X") -> np.ndarray:
        return self._check_values(self._check_images(X, name), name)

    def __repr__(self) -> str:
        return (f"ConvVAE(input_shape={self.input_shape}, channels={self.channels}, "
                f"latent_dim={self.latent_dim}, likelihood={self.likelihood!r}, beta={self.beta:g})")


__all__ = ["ARCHITECTURES", "ConvAutoencoder", "ConvDenoisingAutoencoder", "ConvVAE", "conv_networks"]
