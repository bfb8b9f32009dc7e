r"""The contractive autoencoder (Rifai et al. 2011). Derivation: ``docs/07-contractive.md``."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .._validation import check_float
from ..penalties.contractive import contractive
from .autoencoder import Autoencoder


class ContractiveAutoencoder(Autoencoder):
    r"""An autoencoder whose encoder is penalised for being sensitive to its input.

    .. math::
        h = f_{enc}(x), \qquad \hat x = f_{dec}(h), \qquad
        J = \mathrm{loss}(\hat x, x) + \mathrm{lam}\,\frac{1}{N}\sum_n
            \Big\lVert \frac{\partial h^{(n)}}{\partial x^{(n)}} \Big\rVert_F^2
            + \frac{\lambda}{2}\sum_W \lVert W \rVert_F^2

    The gradient of the reconstruction term is the plain autoencoder's; the penalty's comes
    from :func:`npae.penalties.contractive` (explicit Jacobian, chain rule with the
    activations' second derivatives) and is added to the encoder's gradients.

    Parameters
    ----------
    sizes, activation, code_activation, output_activation, loss, weight_decay, random_state, dtype
        As in :class:`~npae.models.Autoencoder`; the default is Rifai et al.'s one sigmoid
        hidden layer. The penalty needs smooth activations to do anything beyond ReLU's
        on/off pattern (ReLU's second derivative is 0).
    lam : float >= 0
        Weight of the contractive penalty.
    """

    def __init__(self, sizes: Sequence[int] = (784, 64), activation: str = "sigmoid",
                 code_activation: str | None = None, output_activation: str = "sigmoid",
                 loss: str = "mse", lam: float = 0.1, weight_decay: float = 0.0,
                 random_state=None, dtype=np.float32) -> None:
        self.lam = check_float(lam, "lam", 0.0)
        super().__init__(sizes, activation, code_activation, output_activation, loss, weight_decay,
                         random_state, dtype)

    def _forward_backward(self, X: np.ndarray, rng: np.random.Generator) -> dict[str, float]:
        terms = super()._forward_backward(X, rng)  # reconstruction; encoder grads set
        if self.lam:
            value, pen_grads = contractive(self.encoder, X)
            terms["contractive"] = self.lam * value
            grads = self.encoder.grads  # the layers' own arrays: add in place
            lam = X.dtype.type(self.lam)
            for key, g in pen_grads.items():
                grads[key] += lam * g
        return terms

    def __repr__(self) -> str:
        widths = "-".join(str(s) for s in self.sizes + self.sizes[-2::-1])
        return (f"{type(self).__name__}({widths}, activation={self.activation!r}, loss={self.loss!r}, "
                f"lam={self.lam})")


__all__ = ["ContractiveAutoencoder"]
