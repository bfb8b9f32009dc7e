"""The basic/deep autoencoder and the sparse autoencoder (L1 or KL)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .._validation import check_bool, check_choice, check_float, check_int
from ..init import init_for_activation
from ..layers import ACTIVATIONS, Dense, Sequential, TiedDense, get_activation
from ..losses import check_loss, get_loss
from ..penalties import kl_sparsity, l1_activity
from .base import BaseAutoencoder

LOSS_NAMES = ("mse", "mae", "sse", "bce")


def check_sizes(sizes: Sequence[int]) -> tuple[int, ...]:
    """``sizes`` as a tuple of at least two positive ints."""
    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Sequence) or len(sizes) < 2:
        raise ValueError(f"sizes must be a sequence of at least two ints (input, ..., code), got {sizes!r}")
    return tuple(check_int(s, f"sizes[{i}]", 1) for i, s in enumerate(sizes))


def check_network_args(activation: str, code_activation: str | None, output_activation: str,
                       loss: str) -> tuple[str, str | None, str, str]:
    """The activation and loss arguments of the (non-variational) autoencoders, checked.

    Returns ``(activation, code_activation, output_activation, loss)``; ``code_activation`` stays
    None when not given. ``loss="bce"`` needs ``output_activation="sigmoid"``: the decoder then
    outputs the logits, the loss is ``bce_with_logits`` and ``reconstruct`` applies the sigmoid.
    """
    check_choice(activation, "activation", tuple(ACTIVATIONS))
    if code_activation is not None:
        check_choice(code_activation, "code_activation", tuple(ACTIVATIONS))
    check_choice(output_activation, "output_activation", tuple(ACTIVATIONS))
    check_loss(loss)  # a registered name (npae.losses.register_loss adds one) or a function
    if loss == "bce" and output_activation != "sigmoid":
        raise ValueError(f"loss='bce' needs output_activation='sigmoid', got {output_activation!r}")
    return activation, code_activation, output_activation, loss


def mlp(sizes: Sequence[int], activation: str, last_activation: str | None, rng: np.random.Generator,
        dtype, tied_to: Sequential | None = None) -> Sequential:
    """Dense layers ``sizes[0] -> ... -> sizes[-1]``, ``activation`` between, ``last_activation`` after.

    ``last_activation=None`` ends on the last Dense layer (its output: logits). Each Dense
    layer's initialiser suits the activation that follows it (He for ReLU, Glorot otherwise).
    With ``tied_to`` (an encoder built by ``mlp(sizes[::-1], ...)``), each layer is instead a
    :class:`~npae.layers.TiedDense` on the transpose of the mirrored encoder layer's weights
    (``W_dec = W_enc^T``), and nothing is drawn from ``rng``.
    """
    shared = None if tied_to is None else [la for la in tied_to.layers if isinstance(la, Dense)][::-1]
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        act = last_activation if i == len(sizes) - 2 else activation
        layers.append(TiedDense(shared[i]) if shared else
                      Dense(n_in, n_out, init=init_for_activation(act or "identity"), rng=rng, dtype=dtype))
        if act is not None:
            layers.append(get_activation(act))
    return Sequential(*layers)


def decoder_output(output_activation: str, loss: str) -> str | None:
    """The decoder's last activation: none for ``loss="bce"`` (logits out), else ``output_activation``."""
    return None if loss == "bce" else output_activation


class Autoencoder(BaseAutoencoder):
    r"""A fully connected autoencoder of any depth; the decoder mirrors the encoder.

    .. math::
        h = f_{enc}(x), \qquad \hat x = f_{dec}(h), \qquad
        J = \mathrm{loss}(\hat x, x) + \frac{\lambda}{2}\sum_W \lVert W \rVert_F^2

    Backward (the step, ``BaseAutoencoder._forward_backward``): the loss gives ``d x_hat``, the
    decoder's backward turns it into ``dh`` (N, code), the encoder's backward sets the encoder's
    gradients, and weight decay adds ``lambda * W`` to each weight's gradient. ``x`` is
    (N, sizes[0]), ``h`` is (N, sizes[-1]). With ``loss="bce"`` the decoder ends on its last
    Dense layer (logits), ``x_hat = sigmoid(logits)`` is applied by ``reconstruct``. The chain
    rule: ``docs/01-dense-and-activations.md``; the losses and BCE from logits: ``docs/02-losses.md``.

    Parameters
    ----------
    sizes : sequence of int
        Encoder widths from the input to the code, e.g. ``(784, 32)`` (the Keras-style
        784-32-784 bottleneck) or ``(784, 256, 32)`` (784-256-32-256-784).
    activation : str
        Hidden activation (``"relu"``, ``"sigmoid"``, ``"tanh"``, ``"softplus"``,
        ``"leaky_relu"``, ``"identity"``).
    code_activation : str, optional
        Activation of the code layer (default: ``activation``).
    output_activation : str
        Activation of the reconstruction (``"sigmoid"`` for data in [0, 1]).
    loss : {"mse", "mae", "sse", "bce", "huber"}, a registered name, or a callable
        Reconstruction loss (see :mod:`npae.losses`); ``"bce"`` needs a sigmoid output and is
        computed from the logits. A name added with :func:`npae.losses.register_loss`, or a
        callable ``loss(pred, target) -> (value, dpred)``, is used by the step and by ``score``
        alike (``docs/14-extending.md``, Write a loss); only a name can be saved.
    weight_decay : float
        ``lambda`` of the L2 penalty on the weight matrices, part of the objective.
    random_state : int, Generator or None
    dtype : float32 (default) or float64
    tied : bool
        Tied weights (UFLDL, the Theano tutorial's dA): each decoder layer uses the transpose of
        its mirror encoder layer's matrix, ``W_dec = W_enc^T`` (a :class:`~npae.layers.TiedDense`
        with a bias of its own). The shared matrix is one parameter (stored and saved once) and its
        gradient is the sum of both uses, ``dW = dW_enc + dW_dec^T`` (:attr:`grads`). Derivation:
        ``docs/16-stacked-autoencoders.md``.
    """

    def __init__(self, sizes: Sequence[int] = (784, 32), activation: str = "relu",
                 code_activation: str | None = None, output_activation: str = "sigmoid",
                 loss: str = "mse", weight_decay: float = 0.0, random_state=None, dtype=np.float32,
                 tied: bool = False) -> None:
        self.sizes = check_sizes(sizes)
        self.activation, self.code_activation, self.output_activation, self.loss = check_network_args(
            activation, code_activation, output_activation, loss)
        self.weight_decay = check_float(weight_decay, "weight_decay", 0.0)
        self.tied = check_bool(tied, "tied")
        rng = self._init_common(random_state, dtype)
        self.n_features = self.sizes[0]
        code_activation = self.code_activation or self.activation
        self.encoder = mlp(self.sizes, self.activation, code_activation, rng, self.dtype)
        last = decoder_output(self.output_activation, self.loss)
        self.decoder = mlp(self.sizes[::-1], self.activation, last, rng, self.dtype,
                           tied_to=self.encoder if self.tied else None)

    @property
    def grads(self) -> dict[str, np.ndarray]:
        """Gradients from the last backward pass, keys as in :attr:`params`; with ``tied=True`` each
        shared matrix gets the sum of its two uses, ``dW = dW_enc + dW_dec^T`` (:meth:`_tied_sum`)."""
        return self._tied_sum(super().grads) if self.tied else super().grads

    def _tied_sum(self, grads: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Add each TiedDense layer's ``shared_grad`` (``dW_dec^T``) to its encoder matrix's gradient."""
        for layer in self.decoder.layers:
            if isinstance(layer, TiedDense):
                key = f"encoder.{self.encoder.layers.index(layer.tied_to)}.W"
                grads[key] = grads[key] + layer.shared_grad  # (out, in): dW_enc + dW_dec^T
        return grads

    def __repr__(self) -> str:
        widths = "-".join(str(s) for s in self.sizes + self.sizes[-2::-1])
        tied = ", tied=True" if self.tied else ""
        return f"{type(self).__name__}({widths}, activation={self.activation!r}, loss={self.loss!r}{tied})"


class SparseAutoencoder(Autoencoder):
    r"""An autoencoder whose code is pushed towards sparsity.

    .. math::
        J = \mathrm{loss}(\hat x, x) + \beta\,\Omega(h) + \frac{\lambda}{2}\sum_W \lVert W \rVert_F^2

    with ``Omega = kl_sparsity(h, rho)`` (every unit's mean activation pushed to ``rho``;
    needs a sigmoid code) or ``Omega = l1_activity(h)``. With ``loss="sse"``, sigmoid units,
    ``rho=0.01, beta=3, weight_decay=1e-4`` this is exactly the UFLDL sparse autoencoder.
    Backward: ``beta * dOmega/dh`` (N, code) is added to the ``dh`` coming back from the decoder
    before the encoder's backward. Derivation: ``docs/03-sparsity.md``.

    Parameters
    ----------
    sizes, activation, code_activation, output_activation, loss, weight_decay, random_state, dtype, tied
        As in :class:`Autoencoder`; the defaults here are UFLDL's (sigmoid units, ``"sse"``).
    sparsity : {"kl", "l1"}
    rho : float in (0, 1)
        Target mean activation (KL only).
    beta : float
        Weight of the sparsity penalty: UFLDL's beta, the lambda of notes that write
        ``L + lambda * Omega(h)`` (npae's lambda is ``weight_decay``; the notes' symbols against
        npae's arguments: ``docs/18-what-the-notes-claim.md``).
    """

    def __init__(self, sizes: Sequence[int] = (64, 25), activation: str = "sigmoid",
                 code_activation: str | None = None, output_activation: str = "sigmoid",
                 loss: str = "sse", sparsity: str = "kl", rho: float = 0.01, beta: float = 3.0,
                 weight_decay: float = 1e-4, random_state=None, dtype=np.float32, tied: bool = False) -> None:
        self.sparsity = check_choice(sparsity, "sparsity", ("kl", "l1"))
        self.rho = check_float(rho, "rho", 0.0, 1.0, low_inclusive=False, high_inclusive=False)
        self.beta = check_float(beta, "beta", 0.0)
        if code_activation is not None:  # named in its own error before the KL check below uses it
            check_choice(code_activation, "code_activation", tuple(ACTIVATIONS))
        code = code_activation or activation
        if sparsity == "kl" and code != "sigmoid":
            raise ValueError(f"sparsity='kl' needs a code in (0, 1): code activation 'sigmoid', got {code!r}")
        super().__init__(sizes, activation, code_activation, output_activation, loss, weight_decay,
                         random_state, dtype, tied)

    def _forward_backward(self, X: np.ndarray, rng: np.random.Generator) -> dict[str, float]:
        # 1. forward: the code and the decoder's output
        h = self.encoder.forward(X, rng)  # (N, code); rng reaches any dropout layer
        out = self.decoder.forward(h, rng)  # (N, D)
        # 2. the reconstruction loss and the sparsity penalty Omega(h) on the code
        rec, dout = get_loss(self.loss)(out, X)
        if self.sparsity == "kl":
            omega, domega_dh = kl_sparsity.math(h, self.rho)  # dOmega/dh: (N, code)
        else:
            omega, domega_dh = l1_activity.math(h)
        # 3. backward: dL/dh is the decoder's gradient plus beta * dOmega/dh, then the encoder
        dh = self.decoder.backward(dout) + h.dtype.type(self.beta) * domega_dh  # (N, code)
        self.encoder.backward(dh, input_grad=False)
        return {"reconstruction": rec, "sparsity": self.beta * omega}


__all__ = ["Autoencoder", "SparseAutoencoder", "check_network_args", "check_sizes", "decoder_output", "mlp"]
