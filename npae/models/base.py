"""What every autoencoder shares: parameters, the public door (encode/decode/fit) and one step.

A model is an ``encoder`` and a ``decoder`` (both ``Sequential``). A subclass builds them in
``__init__`` (so a learner can inspect and gradient-check an untrained model) and writes its
training step, top to bottom, in ``_forward_backward``: forward, loss, penalties, backward.
The plain autoencoder's step is here; the sparse, denoising, contractive and variational
models write their own. Data are checked once, at the public door (``fit``, ``encode``,
``decode``, ``reconstruct``, ``score``); the step trusts them. With ``loss="bce"`` the decoder
outputs logits (it has no final sigmoid layer), the step scores them with ``bce_with_logits``
and ``decode``/``reconstruct`` apply the sigmoid. The backward pass of the whole model is the
chain rule of ``docs/01-dense-and-activations.md`` one level up; BCE from logits is derived in
``docs/02-losses.md``.
"""

from __future__ import annotations

import contextlib
import inspect

import numpy as np

from .. import io
from .._validation import check_array, check_dtype, check_random_state
from ..layers import Sequential
from ..layers.activations import sigmoid
from ..losses import get_loss
from ..penalties import add_weight_decay
from ..training import fit_model


def _repr_with_own_args(self) -> str:
    """The parent class's ``repr`` followed by the arguments this class's ``__init__`` added.

    ``ScaledAutoencoder(20-8-4-8-20, activation='tanh', loss='mse', scale_init=0.5)``: given to a
    model subclass that writes its own ``__init__`` but no ``__repr__``.
    """
    cls = type(self)
    owner = next(c for c in cls.__mro__ if "__init__" in c.__dict__)
    parent = next((c for c in owner.__mro__[1:] if c is not object and "__repr__" in c.__dict__
                   and c.__dict__["__repr__"] is not _repr_with_own_args), None)
    base = parent.__repr__(self) if parent is not None else f"{cls.__name__}()"
    inherited = set()
    for c in owner.__mro__[1:]:
        if "__init__" in c.__dict__ and c is not object:
            inherited |= set(inspect.signature(c.__init__).parameters)
    own = [n for n in inspect.signature(owner.__init__).parameters
           if n not in inherited and n != "self" and hasattr(self, n)]
    if not own:
        return base
    extra = ", ".join(f"{n}={getattr(self, n)!r}" for n in own)
    if base.endswith("()") or not base.endswith(")"):
        return f"{cls.__name__}({extra})"
    return f"{base[:-1]}, {extra})"


class BaseAutoencoder:
    """Shared machinery of the autoencoders (not used directly).

    Subclasses set ``self.encoder``, ``self.decoder``, ``self.n_features``, ``self.loss``
    and ``self.weight_decay`` and may write their own :meth:`_forward_backward`. Every subclass
    is registered with :mod:`npae.io` under its class name, so ``npae.load`` can rebuild it.
    """

    encoder: Sequential
    decoder: Sequential
    n_features: int
    loss: str
    weight_decay: float = 0.0

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        io.register_model(cls)
        if "__init__" in cls.__dict__ and "__repr__" not in cls.__dict__:
            cls.__repr__ = _repr_with_own_args  # not the parent's repr alone: it hides the new arguments

    def _init_common(self, random_state, dtype) -> np.random.Generator:
        """Store ``random_state`` and ``dtype``; return the generator that builds the weights.

        The generator is kept in ``self.rng_`` and continues into ``fit`` (shuffling, noise), so
        two models built with the same integer ``random_state`` and fitted the same way end
        with bit-identical weights.
        """
        self.random_state = random_state
        self.dtype = check_dtype(dtype)
        self.rng_ = check_random_state(random_state)
        self.history_: dict[str, list[float]] = {}
        return self.rng_

    # ------------------------------------------------------------------ parameters
    def _networks(self) -> dict[str, Sequential]:
        """The sub-networks whose parameters are trained, by prefix."""
        return {"encoder": self.encoder, "decoder": self.decoder}

    @property
    def params(self) -> dict[str, np.ndarray]:
        """All live parameters, ``"encoder.0.W"``-style keys."""
        return {f"{prefix}.{k}": v for prefix, net in self._networks().items() for k, v in net.params.items()}

    def layer_grads(self) -> dict[str, np.ndarray]:
        """The layers' own gradient arrays (live: ``+=`` on one changes the layer's), ``"encoder.0.W"``-style.

        Where every extra term of the objective adds its gradient, in place, after the backward
        pass (weight decay, the contractive penalty, a learner's own term): then :attr:`grads`,
        which reads these arrays, is the gradient ``loss_and_grads`` returned.
        """
        return {f"{prefix}.{k}": v for prefix, net in self._networks().items() for k, v in net.grads.items()}

    #: Gradients from the last backward pass, keys as in :attr:`params` (a model that shares weights
    #: overrides it to sum the shared array's gradients).
    grads = property(layer_grads)

    @property
    def buffers(self) -> dict[str, np.ndarray]:
        """The networks' state that is not trained (running statistics), keys like :attr:`params`.

        Saved and loaded with the model, part of checkpoints and of early stopping's best state;
        never given to an optimiser, never counted by :meth:`n_parameters`, never gradient-checked.
        """
        return {f"{prefix}.{k}": v for prefix, net in self._networks().items()
                for k, v in getattr(net, "buffers", {}).items()}

    def get_params(self) -> dict:
        """The constructor arguments (scikit-learn style), used by ``save``.

        Each argument is read back from the attribute of the same name, so a subclass's
        ``__init__`` must store every argument it takes under its own name (``docs/14-extending.md``).
        """
        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        missing = [name for name in names if not hasattr(self, name)]
        if missing:
            raise AttributeError(f"{type(self).__name__} stores no attribute for its constructor "
                                 f"argument(s) {missing}: save rebuilds a model from its arguments, so "
                                 f"__init__ must keep each one as self.<name> (docs/14-extending.md)")
        return {name: getattr(self, name) for name in names}

    def n_parameters(self) -> int:
        """How many scalars the model trains (its :attr:`params`; :attr:`buffers` are not counted)."""
        return int(sum(p.size for p in self.params.values()))

    def n_buffer_values(self) -> int:
        """How many scalars the model keeps without training them (its :attr:`buffers`)."""
        return int(sum(b.size for b in self.buffers.values()))

    def train(self) -> BaseAutoencoder:
        for net in self._networks().values():
            net.train()
        return self

    def eval(self) -> BaseAutoencoder:
        for net in self._networks().values():
            net.eval()
        return self

    @contextlib.contextmanager
    def mode(self, training: bool):
        """Training (``True``) or eval mode inside a ``with`` block; each network's mode is put back after.

        ``fit`` trains in training mode; ``encode``, ``decode``, ``reconstruct`` and ``score`` run
        in eval mode (dropout off, for instance). Neither changes the mode the model was in.
        """
        before = {net: net.training for net in self._networks().values()}
        self.train() if training else self.eval()
        try:
            yield self
        finally:
            for net, was_training in before.items():
                net.train() if was_training else net.eval()

    # ------------------------------------------------------------------ inference
    def _check_X(self, X, name: str = "X") -> np.ndarray:
        """``X`` as an array of shape (N, n_features) in the model's dtype."""
        X = check_array(X, name, ndim=2, dtype=self.dtype)
        if X.shape[1] != self.n_features:
            raise ValueError(f"{name} must have {self.n_features} features (columns), got shape {X.shape}")
        return X

    def _batched(self, net: Sequential, X: np.ndarray, batch_size: int = 4096) -> np.ndarray:
        """Forward ``X`` through ``net`` in eval mode, in chunks to bound memory; the mode is put back."""
        with self.mode(training=False):
            return np.concatenate([net.forward(X[i:i + batch_size]) for i in range(0, len(X), batch_size)])

    def _output(self, out: np.ndarray) -> np.ndarray:
        """The decoder's output as a reconstruction: the sigmoid of the logits for ``loss="bce"``."""
        return sigmoid(out) if self.loss == "bce" else out

    def encode(self, X) -> np.ndarray:
        """Codes ``h = encoder(X)``, shape (N, code_size)."""
        return self._batched(self.encoder, self._check_X(X))

    def decode(self, H) -> np.ndarray:
        """Reconstructions ``decoder(H)`` (probabilities for ``loss="bce"``), shape (N, n_features)."""
        code_size = self.decoder.layers[0].in_features
        H = check_array(H, "H", ndim=2, dtype=self.dtype)
        if H.shape[1] != code_size:
            raise ValueError(f"H must have {code_size} columns (the code size), got shape {H.shape}")
        return self._output(self._batched(self.decoder, H))

    def reconstruct(self, X) -> np.ndarray:
        """``decoder(encoder(X))``, shape (N, n_features)."""
        return self.decode(self.encode(X))

    def score(self, X) -> float:
        """Mean reconstruction loss of ``X`` (the model's ``loss``, as in training; lower is better)."""
        X = self.check_batch(X)
        out = self._batched(self.decoder, self._batched(self.encoder, X))
        return get_loss(self.loss)(out, X)[0]

    def _check_targets(self, X: np.ndarray, name: str = "X") -> np.ndarray:
        """With ``loss="bce"`` the data are the targets of a cross-entropy: they must lie in [0, 1]."""
        if getattr(self, "loss", None) == "bce":
            check_array(X, name, finite=False, value_range=(0.0, 1.0))
        return X

    def check_batch(self, X, name: str = "X") -> np.ndarray:
        """The door of :meth:`loss_and_grads`: ``X`` checked and converted as ``fit`` does it."""
        return self._check_targets(self._check_X(X, name), name)

    # ------------------------------------------------------------------ the step
    def _forward_backward(self, X: np.ndarray, rng: np.random.Generator) -> dict[str, float]:
        """The plain autoencoder's step on a batch; leaves the gradients in the layers.

        Returns the loss terms (their sum is the loss). ``rng`` reaches every stochastic layer
        (dropout); the denoising and variational steps also draw their noise from it.
        """
        # 1. forward: the code and the decoder's output (logits for loss="bce")
        h = self.encoder.forward(X, rng)  # (N, code); rng reaches any dropout layer
        out = self.decoder.forward(h, rng)  # X's shape
        # 2. the reconstruction loss and its gradient with respect to the output
        rec, dout = get_loss(self.loss)(out, X)
        # 3. backward: decoder, then encoder (dL/dX is not needed: skipped)
        dh = self.decoder.backward(dout)  # (N, code)
        self.encoder.backward(dh, input_grad=False)
        return {"reconstruction": rec}

    def loss_and_grads(self, X: np.ndarray, rng: np.random.Generator | None = None
                       ) -> tuple[float, dict[str, float], dict[str, np.ndarray]]:
        """The training objective on a batch, its terms and its gradient.

        ``X`` is trusted: a batch as :meth:`check_batch` returns it (``fit`` checks its data once;
        call ``check_batch`` first on data of your own). Returns ``(loss, terms, grads)``:
        ``loss = sum(terms.values())`` and ``grads`` has the keys of :attr:`params`. ``rng``
        (default: the model's generator) drives any randomness (noise, sampling).
        """
        terms = self._forward_backward(X, self.rng_ if rng is None else rng)
        if self.weight_decay:  # (lambda / 2) sum ||W||^2 adds lambda W to each weight's gradient, in place
            terms["weight_decay"] = add_weight_decay(self.layer_grads(), self.params, self.weight_decay)
        grads = self.grads  # read after every term has been added: model.grads is this until the next step
        return float(sum(terms.values())), terms, grads

    # ------------------------------------------------------------------ training and saving
    def fit(self, X, **options):
        """Train with mini-batches; return ``self``.

        ``X`` is an array (N, n_features) or a ``np.memmap`` / array-like read one batch at a
        time. The options (``epochs``, ``batch_size``, ``optimizer``, ``validation_data``,
        ``patience``, ``schedule``, ``checkpoint``, ``resume``, ...) are those of
        :func:`npae.training.fit_model`, which documents them and runs the loop. The model trains
        in training mode and is put back in the mode it was in.
        """
        allowed = [n for n in inspect.signature(fit_model).parameters if n not in ("model", "X")]
        unknown = sorted(set(options) - set(allowed))
        if unknown:  # named here, not as an error of fit_model()
            raise TypeError(f"fit got unknown option(s) {unknown}; the options are {allowed}")
        with self.mode(training=True):
            return fit_model(self, X, **options)

    def save(self, path, optimizer: bool = True):
        """Write the model to one ``.npz`` (weights, arguments, optimiser state); see :mod:`npae.io`."""
        return io.save(self, path, optimizer=optimizer)

    @classmethod
    def load(cls, path):
        """Rebuild a model saved with :meth:`save`; refuses a file holding another class."""
        return io.load(path, expected=None if cls is BaseAutoencoder else cls)
