"""What every autoencoder shares: parameters, encode/decode, the loss hook and ``fit``.

A model is an ``encoder`` and a ``decoder`` (both ``Sequential``). A subclass builds them in
``__init__`` (so a learner can inspect and gradient-check an untrained model) and says what
its loss is in ``_forward_backward``; everything else (mini-batches, the optimiser, history,
the divergence guard) lives here once. The backward pass of the whole model is the chain rule
of ``docs/01-dense-and-activations.md`` one level up; the fused sigmoid + BCE is derived in
``docs/02-losses.md``.
"""

from __future__ import annotations

import inspect

import numpy as np

from .._validation import check_array, check_dtype, check_random_state
from ..layers import Sequential, Sigmoid
from ..losses import LOSSES, bce_with_logits
from ..optim import Optimizer
from ..penalties import l2_weight_decay


class BaseAutoencoder:
    """Shared machinery of the autoencoders (not used directly).

    Subclasses set ``self.encoder``, ``self.decoder``, ``self.n_features``, ``self.loss``
    and ``self.weight_decay`` and may override :meth:`_forward_backward`.
    """

    encoder: Sequential
    decoder: Sequential
    n_features: int
    loss: str
    weight_decay: float = 0.0

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

    @property
    def grads(self) -> dict[str, np.ndarray]:
        """Gradients from the last backward pass, keys as in :attr:`params`."""
        return {f"{prefix}.{k}": v for prefix, net in self._networks().items() for k, v in net.grads.items()}

    def get_params(self) -> dict:
        """The constructor arguments (scikit-learn style), used by ``save``."""
        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return {name: getattr(self, name) for name in names}

    def n_parameters(self) -> int:
        """How many scalars the model trains."""
        return int(sum(p.size for p in self.params.values()))

    def train(self) -> BaseAutoencoder:
        for net in self._networks().values():
            net.train()
        return self

    def eval(self) -> BaseAutoencoder:
        for net in self._networks().values():
            net.eval()
        return self

    # ------------------------------------------------------------------ inference
    def _check_X(self, X, name: str = "X") -> np.ndarray:
        """``X`` as an array of shape (N, n_features) in the model's dtype."""
        X = check_array(X, name, ndim=2, dtype=self.dtype)
        if X.shape[1] != self.n_features:
            raise ValueError(f"{name} must have {self.n_features} features (columns), got shape {X.shape}")
        return X

    def _batched(self, net: Sequential, X: np.ndarray, batch_size: int = 4096) -> np.ndarray:
        """Forward ``X`` through ``net`` in eval mode, in chunks to bound memory."""
        self.eval()
        try:
            return np.concatenate([net.forward(X[i:i + batch_size]) for i in range(0, len(X), batch_size)])
        finally:
            self.train()

    def encode(self, X) -> np.ndarray:
        """Codes ``h = encoder(X)``, shape (N, code_size)."""
        return self._batched(self.encoder, self._check_X(X))

    def decode(self, H) -> np.ndarray:
        """Reconstructions ``decoder(H)``, shape (N, n_features)."""
        code_size = self.decoder.layers[0].in_features
        H = check_array(H, "H", ndim=2, dtype=self.dtype)
        if H.shape[1] != code_size:
            raise ValueError(f"H must have {code_size} columns (the code size), got shape {H.shape}")
        return self._batched(self.decoder, H)

    def reconstruct(self, X) -> np.ndarray:
        """``decoder(encoder(X))``, shape (N, n_features)."""
        return self.decode(self.encode(X))

    def score(self, X) -> float:
        """Mean reconstruction loss of ``X`` (the model's ``loss``; lower is better)."""
        X = self._check_targets(self._check_X(X))
        return LOSSES[self.loss](self.reconstruct(X), X)[0]

    def _check_targets(self, X: np.ndarray, name: str = "X") -> np.ndarray:
        """With ``loss="bce"`` the data are the targets of a cross-entropy: they must lie in [0, 1]."""
        if getattr(self, "loss", None) == "bce":
            check_array(X, name, finite=False, value_range=(0.0, 1.0))
        return X

    # ------------------------------------------------------------------ the loss
    def _decoder_loss(self, h: np.ndarray, target: np.ndarray) -> tuple[float, np.ndarray]:
        """Decode ``h``, compare with ``target``, backpropagate: return ``(loss, dL/dh)``.

        ``h`` is (N, code), ``target`` (N, n_features); the returned ``dL/dh`` is (N, code).
        With ``loss="bce"`` the final sigmoid is folded into the loss (``bce_with_logits``):
        the gradient with respect to the logits is simply ``(sigmoid(l) - x) / size``, which
        stays finite and does not vanish when the sigmoid saturates (``docs/02-losses.md``).
        """
        layers = self.decoder.layers
        fused = self.loss == "bce" and isinstance(layers[-1], Sigmoid)
        body = layers[:-1] if fused else layers
        out = h
        for layer in body:
            out = layer.forward(out)
        if fused:
            value, dout = bce_with_logits(out, target)
        else:
            value, dout = LOSSES[self.loss](out, target)
        for layer in reversed(body):
            dout = layer.backward(dout)
        return value, dout

    def _code_penalties(self, h: np.ndarray) -> dict[str, tuple[float, np.ndarray]]:
        """Penalties on the code ``h``: name -> (value, dvalue/dh). None by default."""
        return {}

    def _encoder_input(self, X: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """What the encoder sees in training: ``X`` itself (a denoising model: a corrupted copy)."""
        return X

    def _forward_backward(self, X: np.ndarray, rng: np.random.Generator) -> dict[str, float]:
        """One forward and backward pass on a batch; leaves the gradients in the layers.

        Returns the loss terms (their sum is the loss). The default is a plain autoencoder
        plus the code penalties of :meth:`_code_penalties`: ``h = encoder(x_in)`` with
        ``x_in = _encoder_input(X, rng)``, the decoder and loss against the clean ``X`` give
        ``dh``, each penalty adds its ``dOmega/dh`` (the derivative of a sum is the sum of the
        derivatives), and ``encoder.backward(dh)`` sets the encoder's gradients.
        """
        h = self.encoder.forward(self._encoder_input(X, rng))  # (N, code)
        rec, dh = self._decoder_loss(h, X)  # the target is always the clean X
        terms = {"reconstruction": rec}
        for name, (value, dh_penalty) in self._code_penalties(h).items():
            terms[name] = value
            dh = dh + dh_penalty
        self.encoder.backward(dh, input_grad=False)  # dL/dX is not needed: skip it
        return terms

    def loss_and_grads(self, X, rng: np.random.Generator | None = None
                       ) -> tuple[float, dict[str, float], dict[str, np.ndarray]]:
        """The training objective on a batch, its terms and its gradient.

        Returns ``(loss, terms, grads)``: ``loss = sum(terms.values())`` and ``grads`` has the
        keys of :attr:`params`. ``rng`` drives any randomness (noise, sampling).
        """
        X = self._check_targets(self._check_X(X))
        rng = self.rng_ if rng is None else check_random_state(rng, "rng")
        terms = self._forward_backward(X, rng)
        grads = self.grads
        if self.weight_decay:
            value, wd_grads = l2_weight_decay(self.params, self.weight_decay)
            terms["weight_decay"] = value
            for k, g in wd_grads.items():
                grads[k] = grads[k] + g
        return float(sum(terms.values())), terms, grads

    # ------------------------------------------------------------------ training
    def fit(self, X, epochs: int = 10, batch_size: int = 128, optimizer: Optimizer | None = None,
            shuffle: bool = True, random_state=None, validation_data=None, verbose: int | bool = False,
            patience: int | None = None, min_delta: float = 0.0, restore_best: bool = True,
            schedule=None, checkpoint=None, every: int = 1, resume=None):
        """Train with mini-batches; return ``self``. The loop is :func:`npae.training.fit_model`.

        Parameters
        ----------
        X : array_like, shape (N, n_features)
            An array, or a ``np.memmap`` / any array-like with ``__len__`` and ``__getitem__``
            over index arrays (and slices), read one batch at a time (data larger than memory).
        epochs : int
            Passes over the data (0 is allowed and does nothing). With ``resume``, the total
            of the run: training continues from the checkpoint's epoch up to ``epochs``.
        batch_size : int
        optimizer : Optimizer, optional
            Default ``Adam(lr=1e-3)``. Its state persists across calls to ``fit``
            (``self.optimizer_``) and is saved with the model.
        shuffle : bool
            Reshuffle the examples every epoch.
        random_state : int, Generator or None
            Overrides the model's generator for shuffling and noise in this call.
        validation_data : array_like, optional
            Scored with :meth:`score` after every epoch (``history_["val_loss"]``).
        verbose : bool or {0, 1, 2}
            1 (True): a progress bar on stderr (batches, samples/s, running loss, time left) and
            one line per epoch on stdout with every loss term; 2: the lines only.
        patience : int, optional
            Early stopping: stop when ``val_loss`` (``loss`` without validation data) has not
            improved by more than ``min_delta`` for ``patience`` epochs; with ``restore_best``
            the best epoch's weights are put back (``best_epoch_``, ``stopped_epoch_``).
        schedule : callable, "step" or "cosine", optional
            ``lr = schedule(epoch, base_lr, epochs)`` set at the start of each epoch
            (:mod:`npae.schedules`).
        checkpoint : path, optional
            Write a checkpoint every ``every`` epochs (and at the end): the model file plus the
            run's state (optimiser, random stream, epochs done, early-stopping state).
        resume : path, optional
            Continue the run saved in this checkpoint; the result is bit-identical to a run
            that was never interrupted.

        ``history_`` gets per-epoch lists: ``loss`` and each term (means over batches),
        ``val_loss`` with validation data, ``lr`` and ``time`` (seconds). A NaN or Inf loss or
        gradient raises :class:`npae.training.DivergenceError` naming the term, epoch and batch;
        the model keeps the weights from before that batch.
        """
        from ..training import fit_model

        return fit_model(self, X, epochs=epochs, batch_size=batch_size, optimizer=optimizer, shuffle=shuffle,
                         random_state=random_state, validation_data=validation_data, verbose=verbose,
                         patience=patience, min_delta=min_delta, restore_best=restore_best,
                         schedule=schedule, checkpoint=checkpoint, every=every, resume=resume)

    # ------------------------------------------------------------------ saving
    def save(self, path, optimizer: bool = True):
        """Write the model to one ``.npz`` (weights, arguments, optimiser state); see :mod:`npae.io`."""
        from ..io import save

        return save(self, path, optimizer=optimizer)

    @classmethod
    def load(cls, path):
        """Rebuild a model saved with :meth:`save`; refuses a file holding another class."""
        from ..io import load

        return load(path, expected=None if cls is BaseAutoencoder else cls)
