r"""The contractive autoencoder (Rifai et al. 2011). Derivation: ``docs/07-contractive.md``."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .._validation import check_float
from ..losses import get_loss
from ..penalties.contractive import (
    contractive_chain_rule,
    contractive_closed_form,
    is_one_layer,
    layer_inputs,
)
from .autoencoder import Autoencoder


class ContractiveAutoencoder(Autoencoder):
    r"""An autoencoder whose encoder is penalised for being sensitive to its input.

    .. math::
        h = f_{enc}(x), \qquad \hat x = f_{dec}(h), \qquad
        J = \mathrm{loss}(\hat x, x) + \mathrm{lam}\,\frac{1}{N}\sum_n
            \Big\lVert \frac{\partial h^{(n)}}{\partial x^{(n)}} \Big\rVert_F^2
            + \frac{\lambda}{2}\sum_W \lVert W \rVert_F^2

    The gradient of the reconstruction term is the plain autoencoder's; the penalty's is added
    to the encoder's gradients. It is computed from the activations the forward pass cached:
    by Rifai et al.'s closed form for one hidden layer
    (:func:`~npae.penalties.contractive.contractive_closed_form`), else by the chain rule through
    the explicit Jacobian with the activations' second derivatives
    (:func:`~npae.penalties.contractive.contractive_chain_rule`).

    Parameters
    ----------
    sizes, activation, code_activation, output_activation, loss, weight_decay, random_state, dtype, tied
        As in :class:`~npae.models.Autoencoder`; the default is Rifai et al.'s one sigmoid
        hidden layer. The penalty needs smooth activations to do anything beyond ReLU's
        on/off pattern (ReLU's second derivative is 0).
    lam : float >= 0
        Weight of the contractive penalty. It multiplies a per-example mean of ``||J||_F^2`` while
        ``loss="mse"`` or ``"bce"`` is a mean over every element, so the lambda of Rifai et al.,
        whose reconstruction error sums over the D inputs, is ``D * lam``
        (``docs/18-what-the-notes-claim.md``).
    """

    def __init__(self, sizes: Sequence[int] = (784, 64), activation: str = "sigmoid",
                 code_activation: str | None = None, output_activation: str = "sigmoid",
                 loss: str = "mse", lam: float = 0.1, weight_decay: float = 0.0,
                 random_state=None, dtype=np.float32, tied: bool = False) -> None:
        self.lam = check_float(lam, "lam", 0.0)
        super().__init__(sizes, activation, code_activation, output_activation, loss, weight_decay,
                         random_state, dtype, tied)

    def _forward_backward(self, X: np.ndarray, rng: np.random.Generator) -> dict[str, float]:
        # 1. forward (every layer caches its input: the penalty reuses them)
        h = self.encoder.forward(X, rng)
        out = self.decoder.forward(h, rng)
        # 2. the reconstruction loss; 3. backward through the decoder and the encoder
        rec, dout = get_loss(self.loss)(out, X)
        self.encoder.backward(self.decoder.backward(dout), input_grad=False)
        if not self.lam:
            return {"reconstruction": rec}
        # 4. the penalty Omega = mean_n ||dh/dx||_F^2 from the cached activations u = [x, ..., h]
        layers, u = self.encoder.layers, layer_inputs(self.encoder)
        if is_one_layer(layers):
            omega, domega = contractive_closed_form(layers[0], layers[1], *u)
        else:
            omega, domega = contractive_chain_rule(layers, u)
        # 5. lam * dOmega/dtheta joins the encoder's gradients (the layers' own arrays, in place)
        grads = self.encoder.grads  # the layers' own arrays: every term adds in place (docs/14)
        for key, g in domega.items():
            grads[key] += X.dtype.type(self.lam) * g
        return {"reconstruction": rec, "contractive": self.lam * omega}

    def __repr__(self) -> str:
        widths = "-".join(str(s) for s in self.sizes + self.sizes[-2::-1])
        return (f"{type(self).__name__}({widths}, activation={self.activation!r}, loss={self.loss!r}, "
                f"lam={self.lam})")


__all__ = ["ContractiveAutoencoder"]
