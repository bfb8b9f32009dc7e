r"""A classifier: Dense layers and a softmax, trained by hand with npae's optimisers and loop.

What the autoencoders' codes are for is measured with it: a linear probe is this classifier
with no hidden layer on frozen codes (:mod:`npae.metrics.probes`), the stacked autoencoder is
this classifier with pretrained hidden layers (:mod:`npae.models.stacked`), and the Frechet
distance of :mod:`npae.metrics.frechet` reads its penultimate layer. The softmax cross-entropy
and its gradient ``(softmax(logits) - onehot(y)) / N`` are derived in
``docs/15-feature-learning.md``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

import numpy as np

from .._validation import (
    check_array,
    check_choice,
    check_dtype,
    check_float,
    check_labels,
    check_random_state,
)
from ..layers import ACTIVATIONS, Sequential
from ..losses import softmax, softmax_cross_entropy
from ..penalties import add_weight_decay
from ..training import fit_model
from .autoencoder import check_sizes, mlp


class Classifier:
    r"""A fully connected network whose ``C = sizes[-1]`` outputs are the logits of a softmax.

    .. math::
        l = f(x) \ (N, C), \qquad p = \mathrm{softmax}(l), \qquad
        J = -\frac{1}{N}\sum_n \log p_{n, y_n} + \frac{\lambda}{2}\sum_W \lVert W \rVert_F^2

    Backward (:meth:`_forward_backward`): ``dlogits = (p - onehot(y)) / N`` (N, C), then the
    network's backward (the chain rule, ``docs/01-dense-and-activations.md``) sets every layer's
    gradient; weight decay adds ``lambda * W``. With ``sizes=(D, C)`` (no hidden layer) it is
    multinomial logistic regression, the linear probe of :mod:`npae.metrics.probes`.
    Derivation: ``docs/15-feature-learning.md``.

    Labels are integer class ids ``0 .. C-1``, checked at the door (``fit``, ``score``): a
    negative id, one ``>= C``, a non-integer or a wrong length is refused naming ``y``. It trains
    with npae's loop and optimisers, ``fit(X, y, **options)`` with the options of
    :func:`npae.training.fit_model` (no ``validation_data``; ``checkpoint``/``resume`` and
    ``npae.save`` are for the autoencoders only).

    Parameters
    ----------
    sizes : sequence of int
        ``(n_features, hidden..., n_classes)``, e.g. ``(784, 10)`` or ``(784, 256, 10)``;
        at least 2 classes.
    activation : str
        Hidden activation (see ``npae.layers.ACTIVATIONS``); the last Dense layer outputs logits.
    weight_decay : float
        ``lambda`` of the L2 penalty on the weight matrices, part of the objective.
    random_state : int, Generator or None
        Seeds the weights and, continuing, the shuffling of ``fit``.
    dtype : float32 (default) or float64

    Attributes
    ----------
    network : Sequential
        Dense layers and activations; its output is the logits (N, C).
    history_ : dict of lists
        Per-epoch ``loss``, ``cross_entropy`` (and ``weight_decay``), ``lr``, ``time``.
    """

    def __init__(self, sizes: Sequence[int] = (784, 10), activation: str = "relu", weight_decay: float = 0.0,
                 random_state=None, dtype=np.float32) -> None:
        self.sizes = check_sizes(sizes)
        if self.sizes[-1] < 2:
            raise ValueError(f"sizes must end with the number of classes (at least 2), got {self.sizes}")
        self.activation = check_choice(activation, "activation", tuple(ACTIVATIONS))
        self.weight_decay = check_float(weight_decay, "weight_decay", 0.0)
        self.random_state = random_state
        self.dtype = check_dtype(dtype)
        self.rng_ = check_random_state(random_state)
        self.history_: dict[str, list[float]] = {}
        self.n_features, self.n_classes = self.sizes[0], self.sizes[-1]
        self.network = mlp(self.sizes, self.activation, None, self.rng_, self.dtype)  # logits out

    # ------------------------------------------------------------------ parameters and mode
    @property
    def params(self) -> dict[str, np.ndarray]:
        """The live parameters, ``"network.0.W"``-style keys."""
        return {f"network.{k}": v for k, v in self.network.params.items()}

    @property
    def grads(self) -> dict[str, np.ndarray]:
        """Gradients from the last backward pass, keys as in :attr:`params`."""
        return {f"network.{k}": v for k, v in self.network.grads.items()}

    @property
    def buffers(self) -> dict[str, np.ndarray]:
        """The network's state that is not trained (running statistics), keys as in :attr:`params`."""
        return {f"network.{k}": v for k, v in self.network.buffers.items()}

    def n_parameters(self) -> int:
        """How many scalars the model trains."""
        return int(sum(p.size for p in self.params.values()))

    @contextlib.contextmanager
    def mode(self, training: bool):
        """Training (``True``) or eval mode inside a ``with`` block; the network's mode is put back after."""
        before = self.network.training
        self.network.train() if training else self.network.eval()
        try:
            yield self
        finally:
            self.network.train() if before else self.network.eval()

    # ------------------------------------------------------------------ the door
    def check_batch(self, X, name: str = "X") -> np.ndarray:
        """``X`` as an array (N, n_features) in the model's dtype, or an error naming ``name``."""
        X = check_array(X, name, ndim=2, dtype=self.dtype)
        if X.shape[1] != self.n_features:
            raise ValueError(f"{name} must have {self.n_features} features (columns), got shape {X.shape}")
        return X

    def check_labels(self, y, n_samples: int, name: str = "y") -> np.ndarray:
        """``y`` as int64 class ids (n_samples,) in ``[0, n_classes)``, or an error naming ``name``."""
        return check_labels(y, name, n_samples, self.n_classes)

    # ------------------------------------------------------------------ the step
    def _forward_backward(self, X: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> dict[str, float]:
        """The step on a batch: forward, softmax cross-entropy, backward; the gradients stay in the layers."""
        # 1. forward: the logits
        logits = self.network.forward(X, rng)  # (N, C); rng reaches any dropout layer
        # 2. the loss and its gradient: dlogits = (softmax(logits) - onehot(y)) / N
        ce, dlogits = softmax_cross_entropy.math(logits, y)  # dlogits: (N, C)
        # 3. backward through the network (dL/dX is not needed: skipped)
        self.network.backward(dlogits, input_grad=False)
        return {"cross_entropy": ce}

    def loss_and_grads(self, X: np.ndarray, y: np.ndarray, rng: np.random.Generator | None = None
                       ) -> tuple[float, dict[str, float], dict[str, np.ndarray]]:
        """The training objective on a batch, its terms and its gradient (keys of :attr:`params`).

        ``X`` and ``y`` are trusted (as :meth:`check_batch` and :meth:`check_labels` return them;
        ``fit`` checks its data once). ``rng`` (default: the model's) reaches any dropout layer.
        """
        terms = self._forward_backward(X, y, self.rng_ if rng is None else rng)
        if self.weight_decay:  # (lambda / 2) sum ||W||^2 adds lambda W to each weight's gradient, in place
            terms["weight_decay"] = add_weight_decay(self.grads, self.params, self.weight_decay)
        grads = self.grads  # read after every term: model.grads is this until the next step
        return float(sum(terms.values())), terms, grads

    # ------------------------------------------------------------------ training and inference
    def fit(self, X, y, **options) -> Classifier:
        """Train on rows ``X`` (N, n_features) with labels ``y`` (N,); return ``self``.

        The options (``epochs``, ``batch_size``, ``optimizer``, ``random_state``, ``verbose``,
        ``patience``, ``schedule``, ...) are those of :func:`npae.training.fit_model`.
        """
        if y is None:  # fit_model would take the data as unlabelled
            raise TypeError("y must be the class labels of X (a Classifier learns from labels), got None")
        for name in ("checkpoint", "resume"):  # npae.io's model files are for the autoencoders
            if options.get(name) is not None:
                raise TypeError(f"{name}: a Classifier is not saved by npae.io, so it cannot be checkpointed")
        with self.mode(training=True):
            return fit_model(self, X, y=y, **options)

    def _forward(self, X: np.ndarray, layers: Sequential, batch_size: int = 4096) -> np.ndarray:
        """``layers`` applied to checked rows ``X`` in eval mode, in chunks to bound memory."""
        with self.mode(training=False):
            return np.concatenate([layers.forward(X[i:i + batch_size]) for i in range(0, len(X), batch_size)])

    def logits(self, X) -> np.ndarray:
        """The network's outputs ``l = f(X)``, shape (N, n_classes)."""
        return self._forward(self.check_batch(X), self.network)

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities ``softmax(f(X))``, shape (N, n_classes); rows sum to 1."""
        return softmax(self.logits(X))

    def predict(self, X) -> np.ndarray:
        """The most probable class of each row, shape (N,) int64."""
        return np.argmax(self.logits(X), axis=1)

    def score(self, X, y) -> float:
        """Accuracy: the fraction of rows of ``X`` whose predicted class is ``y``."""
        X = self.check_batch(X)
        y = self.check_labels(y, len(X))
        return float(np.mean(self.predict(X) == y))

    def features(self, X) -> np.ndarray:
        """The penultimate layer's activations (the input of the last Dense layer), shape (N, sizes[-2]).

        With no hidden layer this is ``X`` itself. The Frechet distance of
        :mod:`npae.metrics.frechet` fits its Gaussians to these features.
        """
        return self._forward(self.check_batch(X), Sequential(*self.network.layers[:-1]))

    def __repr__(self) -> str:
        widths = "-".join(str(s) for s in self.sizes)
        return f"{type(self).__name__}({widths}, activation={self.activation!r})"


__all__ = ["Classifier"]
