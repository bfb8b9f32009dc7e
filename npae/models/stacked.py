r"""Greedy layer-wise pretraining of a deep classifier (Bengio et al. 2007; Vincent et al. 2010).

Each hidden layer is first trained as the encoder of an autoencoder (plain, sparse, denoising or
contractive) on the codes of the layer below, without labels; the encoders are then stacked, a
softmax layer goes on top, and the whole network is fine-tuned with the labels by backprop.
Derivation and discussion: ``docs/16-stacked-autoencoders.md``.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence

import numpy as np

from .._validation import check_bool, check_choice
from ..layers import Dense
from .autoencoder import Autoencoder, SparseAutoencoder
from .base import BaseAutoencoder
from .classifier import Classifier
from .contractive import ContractiveAutoencoder
from .denoising import DenoisingAutoencoder

#: The autoencoder that pretrains each hidden layer, by the name ``pretraining`` takes.
PRETRAINING = {"plain": Autoencoder, "sparse": SparseAutoencoder, "denoising": DenoisingAutoencoder,
               "contractive": ContractiveAutoencoder}

#: Arguments the stack sets itself for every layer's autoencoder (the stack's layer must be its encoder).
_FIXED = ("sizes", "activation", "code_activation", "random_state", "dtype", "tied")


class StackedAutoencoder(Classifier):
    r"""A deep classifier whose hidden layers are pretrained, one at a time, as autoencoders.

    ``sizes = (D, h_1, ..., h_K, C)``: K hidden layers and C classes. Pretraining
    (:meth:`pretrain`, unlabelled data) trains for ``k = 1..K`` the autoencoder
    ``h_{k-1} -> h_k -> h_{k-1}`` of kind ``pretraining`` on the codes ``H_{k-1}`` of the layers
    below (``H_0 = X``), copies its encoder's ``W, b`` into hidden layer k and computes
    ``H_k = act(H_{k-1} W_k^T + b_k)``. Fine-tuning (:meth:`fit`, labels) trains the whole network,
    the stacked encoders and a softmax layer on top, on the softmax cross-entropy: the step and
    its backward are :class:`Classifier`'s (``dlogits = (p - onehot(y)) / N``, then the chain rule
    down through every pretrained layer). Without :meth:`pretrain`, :meth:`fit` trains the same
    network from its random initial weights: the comparison the example makes.

    Parameters
    ----------
    sizes : sequence of int
        ``(n_features, hidden_1, ..., hidden_K, n_classes)`` with K >= 1, e.g. ``(784, 256, 64, 10)``.
    activation : str
        Activation of every hidden layer, in the stack and in each layer's autoencoder (default
        sigmoid, as in the papers: its codes in (0, 1) are the next autoencoder's BCE targets).
    pretraining : {"plain", "sparse", "denoising", "contractive"}
        The autoencoder of every layer (:data:`PRETRAINING`).
    layer_args : dict or sequence of dicts, optional
        More arguments of each layer's autoencoder: one dict for all layers, or one per hidden layer
        (e.g. the Theano tutorial's corruption ``[{"noise_level": 0.1}, {"noise_level": 0.2}, ...]``
        with ``noise="masking"``). The stack sets ``sizes``, ``activation``, ``code_activation``,
        ``tied``, ``random_state`` and ``dtype`` itself. By default the first autoencoder reconstructs
        its input with BCE (data in [0, 1]), and a deeper one its sigmoid codes with BCE (other
        activations: MSE and a linear output); ``{"loss": ..., "output_activation": ...}`` overrides it.
    tied : bool
        Tied weights in every layer's autoencoder (``W_dec = W_enc^T``, as the Theano tutorial's dA).
    weight_decay, random_state, dtype
        As in :class:`Classifier` (``weight_decay`` applies to the fine-tuning objective).

    Attributes
    ----------
    autoencoders : list of autoencoders
        Layer k's autoencoder, built with the stack (its errors are raised by the constructor) and
        trained by :meth:`pretrain`; its ``history_`` keeps the pretraining losses.
    pretrained_ : bool
        Whether :meth:`pretrain` has run.
    """

    def __init__(self, sizes: Sequence[int] = (784, 256, 64, 10), activation: str = "sigmoid",
                 pretraining: str = "denoising", layer_args: Mapping | Sequence[Mapping] | None = None,
                 tied: bool = False, weight_decay: float = 0.0, random_state=None, dtype=np.float32) -> None:
        self.pretraining = check_choice(pretraining, "pretraining", tuple(PRETRAINING))
        self.tied = check_bool(tied, "tied")
        super().__init__(sizes, activation, weight_decay, random_state, dtype)
        n_hidden = len(self.sizes) - 2
        if n_hidden < 1:
            raise ValueError(f"sizes must have at least one hidden layer (n_features, hidden..., n_classes), "
                             f"got {self.sizes}")
        self.layer_args = _check_layer_args(layer_args, n_hidden)
        self.autoencoders: list[BaseAutoencoder] = [self._layer_autoencoder(k) for k in range(n_hidden)]
        self.pretrained_ = False

    def _layer_autoencoder(self, k: int) -> BaseAutoencoder:
        """The autoencoder ``sizes[k] -> sizes[k + 1] -> sizes[k]`` that pretrains hidden layer k (from 0)."""
        bce = k == 0 or self.activation == "sigmoid"  # inputs in [0, 1]: pixels, or sigmoid codes
        args = {"loss": "bce" if bce else "mse", "output_activation": "sigmoid" if bce else "identity",
                **self.layer_args[k]}
        cls = PRETRAINING[self.pretraining]
        try:
            return cls(sizes=(self.sizes[k], self.sizes[k + 1]), activation=self.activation, tied=self.tied,
                       random_state=self.rng_, dtype=self.dtype, **args)
        except TypeError as exc:  # an argument the pretraining class does not take, named at this door
            raise TypeError(f"layer_args[{k}]: {exc}") from exc

    def hidden_layers(self) -> list[Dense]:
        """The Dense layers of the hidden layers, bottom to top (the softmax layer's is not among them)."""
        return [layer for layer in self.network.layers if isinstance(layer, Dense)][:-1]

    def pretrain(self, X, **options) -> StackedAutoencoder:
        """Greedy layer-wise pretraining on unlabelled rows ``X`` (N, n_features); return ``self``.

        ``options`` go to every layer's ``fit`` (``epochs``, ``batch_size``, ``optimizer``, ...,
        see :func:`npae.training.fit_model`); an ``optimizer`` is copied for each layer, so the layers
        share no optimiser state. Layer k's autoencoder learns from the codes of layers 1..k-1.
        """
        H = self.check_batch(X)
        for ae, dense in zip(self.autoencoders, self.hidden_layers(), strict=True):
            layer_options = {**options, "optimizer": copy.deepcopy(options.get("optimizer"))}
            # 1. train this layer's autoencoder on the codes of the layer below (the data, first)
            ae.fit(H, **layer_options)
            # 2. its encoder becomes the stack's hidden layer: copy W (out, in) and b (out,)
            first = ae.encoder.layers[0]
            np.copyto(dense.params["W"], first.params["W"])
            np.copyto(dense.params["b"], first.params["b"])
            # 3. the codes of this layer are the data of the next
            H = ae.encode(H)  # (N, sizes[k + 1])
        self.pretrained_ = True
        return self

    def encode(self, X) -> np.ndarray:
        """The top hidden layer's codes, shape (N, sizes[-2]): the stacked encoders (:meth:`features`)."""
        return self.features(X)

    def __repr__(self) -> str:
        widths = "-".join(str(s) for s in self.sizes)
        return (f"{type(self).__name__}({widths}, activation={self.activation!r}, "
                f"pretraining={self.pretraining!r}, tied={self.tied})")


def _check_layer_args(layer_args, n_hidden: int) -> list[dict]:
    """``layer_args`` as one dict per hidden layer, refusing the arguments the stack sets itself."""
    if layer_args is None:
        return [{} for _ in range(n_hidden)]
    if isinstance(layer_args, Mapping):
        layer_args = [layer_args] * n_hidden
    if isinstance(layer_args, (str, bytes)) or not isinstance(layer_args, Sequence) \
            or not all(isinstance(a, Mapping) for a in layer_args):
        raise TypeError(f"layer_args must be a dict or a sequence of dicts, got {layer_args!r}")
    if len(layer_args) != n_hidden:
        raise ValueError(f"layer_args must have one dict per hidden layer ({n_hidden}), got "
                         f"{len(layer_args)}")
    for k, args in enumerate(layer_args):
        fixed = sorted(set(args) & set(_FIXED))
        if fixed:
            raise ValueError(f"layer_args[{k}] sets {fixed}, which the stack sets itself "
                             f"(use the StackedAutoencoder's own arguments)")
    return [dict(a) for a in layer_args]


__all__ = ["PRETRAINING", "StackedAutoencoder"]
