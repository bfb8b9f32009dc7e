r"""The variational autoencoder (Kingma & Welling 2014): a Gaussian latent, a Bernoulli or Gaussian decoder.

The encoder gives the parameters of ``q(z | x) = N(mu, diag(exp(log_var)))``, a sample is
drawn with the reparameterisation ``z = mu + exp(0.5 * log_var) * eps`` (``eps ~ N(0, I)`` from
a passed Generator) and the decoder gives ``p(x | z)``. Training maximises the evidence lower
bound, i.e. minimises

.. math::
    -\mathrm{ELBO}(x) = \underbrace{-\log p(x \mid z)}_{\text{reconstruction}}
        + \beta\,\underbrace{\mathrm{KL}\big(q(z \mid x)\,\|\,N(0, I)\big)}_{\text{kl}}

per example. Every gradient is written out in :meth:`VAE._forward_backward`; the sampling step
and its backward are :func:`reparameterize` and :func:`reparameterize_backward`.
Derivation: ``docs/09-vae.md``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .._validation import check_array, check_choice, check_float, check_int, check_random_state
from ..binarize import bernoulli_draw
from ..layers import ACTIVATIONS, Sequential
from ..layers.activations import exp_neg_abs
from ..losses import bce_with_logits_elementwise
from .autoencoder import check_sizes, mlp
from .base import BaseAutoencoder

LOG_2PI = float(np.log(2.0 * np.pi))
LIKELIHOODS = ("bernoulli", "gaussian")
OBJECTIVES = ("elbo", "iwae")
BINARIZE = ("none", "dynamic")


def gaussian_kl(mu: np.ndarray, log_var: np.ndarray, free_bits: float = 0.0
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""KL divergence from ``N(mu, diag(exp(log_var)))`` to ``N(0, I)``, per example, and its gradient.

    .. math::
        \mathrm{KL}_{nj} = -\tfrac12 \big(1 + log\_var_{nj} - mu_{nj}^2 - e^{log\_var_{nj}}\big),
        \qquad \mathrm{KL}_n = \sum_j \mathrm{KL}_{nj}

    .. math::
        \frac{\partial \mathrm{KL}_n}{\partial mu_{nj}} = mu_{nj}, \qquad
        \frac{\partial \mathrm{KL}_n}{\partial log\_var_{nj}} = \tfrac12\big(e^{log\_var_{nj}} - 1\big)

    **Free bits** (Kingma et al. 2016), ``free_bits = lambda > 0``: each latent dimension ``j``
    whose batch-mean KL ``kl_j = mean_n KL_nj`` is at most ``lambda`` counts as ``lambda`` and
    gets no KL gradient, so the batch mean of the returned ``kl`` is
    ``sum_j max(kl_j, lambda)``; the other dimensions are unchanged. The optimiser then has no
    reason to push a dimension's KL below ``lambda`` nats (``docs/09-vae.md``, "KL warm-up and free bits").

    Parameters
    ----------
    mu, log_var : ndarray, shape (N, latent_dim)
    free_bits : float >= 0
        The floor ``lambda`` per dimension, in nats (0: none).

    Returns
    -------
    kl : ndarray, shape (N,)
    dmu, dlog_var : ndarray, shape (N, latent_dim)
        Gradients of ``sum(kl)``.
    """
    var = np.exp(log_var)
    kl = -0.5 * (1.0 + log_var - mu * mu - var)  # (N, L)
    dmu, dlog_var = mu, 0.5 * (var - 1.0)
    if free_bits:  # dimensions at or below the floor: KL counted as the floor, gradient 0
        above = kl.mean(axis=0) > free_bits  # (L,)
        kl, dmu, dlog_var = np.where(above, kl, free_bits), dmu * above, dlog_var * above
    return kl.sum(axis=1), dmu, dlog_var


def reparameterize(mu: np.ndarray, log_var: np.ndarray, eps: np.ndarray) -> np.ndarray:
    r"""The reparameterisation ``z = mu + exp(0.5 * log_var) * eps`` (``docs/09-vae.md``, section 5).

    .. math:: z = mu + std \odot eps, \qquad std = e^{\frac12 log\_var}

    With ``eps ~ N(0, I)``, ``z ~ N(mu, diag(exp(log_var)))``. (Writing ``exp(log_var) * eps``
    instead, as some notes do, gives variance ``exp(2 log_var)``: wrong, and
    ``tests/test_vae.py`` shows the statistical test catching it.) The backward is
    :func:`reparameterize_backward`.

    Parameters
    ----------
    mu, log_var : ndarray, shape (N, latent_dim)
    eps : ndarray, shape (N, latent_dim) or (k, N, latent_dim)
        Standard normal noise; extra leading axes give several samples per example (broadcasting).

    Returns
    -------
    z : ndarray, eps's shape
    """
    return mu + np.exp(0.5 * log_var) * eps


def reparameterize_backward(dz: np.ndarray, log_var: np.ndarray, eps: np.ndarray
                            ) -> tuple[np.ndarray, np.ndarray]:
    r"""The gradients of the loss with respect to ``mu`` and ``log_var`` through :func:`reparameterize`.

    .. math::
        \frac{\partial z}{\partial mu} = 1, \qquad
        \frac{\partial z}{\partial log\_var} = \tfrac12\, std \odot eps, \qquad
        dmu = dz, \qquad dlog\_var = \tfrac12\, dz \odot std \odot eps

    Element by element (``docs/09-vae.md``, section 5). With ``k`` samples per example (``dz``
    and ``eps`` of shape (k, N, latent_dim)) the results have that shape too, one gradient per
    sample: the caller sums them over the samples.

    Parameters
    ----------
    dz : ndarray, shape (N, latent_dim) or (k, N, latent_dim)
        dL/dz, from the decoder's backward.
    log_var : ndarray, shape (N, latent_dim)
    eps : ndarray, dz's shape
        The noise the forward used.

    Returns
    -------
    dmu, dlog_var : ndarray, dz's shape
    """
    return dz, (0.5 * dz) * (np.exp(0.5 * log_var) * eps)


class VAE(BaseAutoencoder):
    r"""Variational autoencoder with a Gaussian latent and a Bernoulli or Gaussian decoder.

    Forward, for a batch ``X`` (N, n_features):

    .. math::
        [mu, log\_var] = \mathrm{encoder}(X), \qquad
        z = mu + e^{\frac12 log\_var} \odot eps, \quad eps \sim N(0, I), \qquad
        out = \mathrm{decoder}(z)

    where ``out`` are the logits of ``p(x | z)`` (Bernoulli) or its mean (Gaussian). The loss is
    the negative ELBO per example, averaged over the batch:
    ``loss = reconstruction + beta * kl`` with ``reconstruction = mean_n(-log p(x_n | z_n))``
    (for Bernoulli: the BCE summed over pixels) and ``kl`` from :func:`gaussian_kl`, in nats per
    example; ``fit``'s ``history_`` records them as ``"reconstruction"`` and ``"kl"`` (the
    latter already multiplied by ``beta``).

    Backward through the sampling step (:func:`reparameterize_backward`; ``std = exp(0.5 * log_var)``,
    ``dz`` from the decoder):

    .. math::
        dmu = dz + \beta\, mu / N, \qquad
        dlog\_var = \tfrac12\, dz \odot std \odot eps + \tfrac{\beta}{2}\,(e^{log\_var} - 1) / N

    Derivation (ELBO, reparameterisation, closed-form KL, why ``log_var``, the importance-weighted
    bound): ``docs/09-vae.md``.

    **The objective**, chosen by ``objective`` and ``k`` (one place: the first line of
    :meth:`_forward_backward`): ``objective="elbo", k=1`` (the default) is the step above;
    ``objective="iwae"`` trains on the importance-weighted bound with ``k`` samples per example
    (Burda et al. 2016) and ``objective="elbo", k > 1`` on the ELBO averaged over ``k`` samples,
    both in :meth:`_forward_backward_iwae`. **beta** may rise linearly from 0 over ``warmup``
    epochs (:meth:`start_epoch`, which ``fit`` calls before each epoch; ``history_["beta"]``), and
    ``free_bits`` floors the KL of each latent dimension (:func:`gaussian_kl`).

    Parameters
    ----------
    sizes : sequence of int
        Widths from the input to the last hidden layer, e.g. ``(784, 400)``: the encoder is
        784-400-(2*latent_dim) and the decoder latent_dim-400-784.
    latent_dim : int
        Dimension of ``z``.
    activation : str
        Hidden activation (``"relu"``, ``"tanh"``, ``"softplus"``, ...).
    likelihood : {"bernoulli", "gaussian"}
        ``p(x | z)``: Bernoulli with logits (data in [0, 1], loss computed with the stable
        BCE-with-logits form) or Gaussian ``N(mean, sigma^2 I)`` with a linear mean.
    decoder_sigma : float
        Gaussian likelihood only: the fixed ``sigma``, or the initial one if learned.
    learn_decoder_sigma : bool
        Gaussian likelihood only: learn one scalar ``log sigma^2`` (the parameter
        ``"likelihood.log_var"``, the array ``decoder_log_var``).
    beta : float
        Weight of the KL term (beta-VAE; 1 is the ELBO).
    warmup : int
        KL warm-up: beta rises linearly from 0 to ``beta`` over the first ``warmup`` epochs of
        each ``fit`` (``beta * min(1, e / warmup)`` in epoch ``e = 0, 1, ...``); 0: no warm-up.
    free_bits : float
        Free bits (nats per latent dimension): a dimension whose batch-mean KL is below it
        counts as ``free_bits`` and gets no KL gradient (see :func:`gaussian_kl`); 0: none.
    objective : {"elbo", "iwae"}
        Train on the ELBO or on the importance-weighted bound ``log (1/k) sum_i w_i``.
    k : int
        Samples of ``z`` per example in the training step (IWAE's k; with ``"elbo"`` the
        ELBO is averaged over ``k`` samples). ``k = 1`` gives the same step for both objectives.
    binarize : {"none", "dynamic"}
        ``"dynamic"``: the step replaces each training batch by one Bernoulli draw of it
        (``x ~ Bernoulli(X)``, from the step's Generator), so every image is binarised afresh
        every epoch (:mod:`npae.binarize`; fixed binarisation is :func:`npae.binarize.binarize`,
        applied to the data once). Evaluation (``elbo``, ``log_likelihood``, ``score``) uses
        the data as given.
    weight_decay : float
        L2 penalty on the weight matrices (as in :class:`~npae.models.Autoencoder`).
    random_state : int, Generator or None
    dtype : float32 (default) or float64

    Notes
    -----
    **Extension point** (used by the convolutional VAE): the networks come from
    :meth:`_build_networks`, which subclasses override. It receives the weight generator and
    returns ``(encoder, decoder)``: the encoder maps a batch of inputs (any shape, e.g.
    (N, C, H, W)) to ``(N, 2 * latent_dim)`` = ``[mu, log_var]``; the decoder maps
    ``(N, latent_dim)`` to logits/means of the input's shape. A subclass sets its own
    attributes, then calls ``VAE.__init__`` (or :meth:`_setup`). Sampling, the KL, the ELBO, the
    importance-weighted bound and the latent-space tools of :mod:`npae.latent` work unchanged,
    because every per-example sum runs over all the non-batch axes. A subclass taking images
    overrides ``_check_X`` (call :meth:`_check_values` from it) and :attr:`example_shape`.
    """

    def __init__(self, sizes: Sequence[int] = (784, 400), latent_dim: int = 20, activation: str = "relu",
                 likelihood: str = "bernoulli", decoder_sigma: float = 1.0, learn_decoder_sigma: bool = False,
                 beta: float = 1.0, warmup: int = 0, free_bits: float = 0.0, objective: str = "elbo",
                 k: int = 1, binarize: str = "none", weight_decay: float = 0.0, random_state=None,
                 dtype=np.float32) -> None:
        self.sizes = check_sizes(sizes)
        self.activation = check_choice(activation, "activation", tuple(ACTIVATIONS))
        self.n_features = self.sizes[0]
        self._setup(latent_dim, likelihood, decoder_sigma, learn_decoder_sigma, beta, warmup, free_bits,
                    objective, k, binarize, weight_decay, random_state, dtype)

    def _setup(self, latent_dim, likelihood, decoder_sigma, learn_decoder_sigma, beta, warmup, free_bits,
               objective, k, binarize, weight_decay, random_state, dtype) -> None:
        """Check and store the VAE's own arguments, then build the networks."""
        self.latent_dim = check_int(latent_dim, "latent_dim", 1)
        self.likelihood = check_choice(likelihood, "likelihood", LIKELIHOODS)
        self.decoder_sigma = check_float(decoder_sigma, "decoder_sigma", 0.0, low_inclusive=False)
        if not isinstance(learn_decoder_sigma, bool):
            raise TypeError(f"learn_decoder_sigma must be a bool, got {type(learn_decoder_sigma).__name__}")
        if learn_decoder_sigma and self.likelihood != "gaussian":
            raise ValueError("learn_decoder_sigma=True needs likelihood='gaussian', got 'bernoulli'")
        self.learn_decoder_sigma = learn_decoder_sigma
        self.beta = check_float(beta, "beta", 0.0)
        self.warmup = check_int(warmup, "warmup", 0)
        self.free_bits = check_float(free_bits, "free_bits", 0.0)
        self.objective = check_choice(objective, "objective", OBJECTIVES)
        self.k = check_int(k, "k", 1)
        self.binarize = check_choice(binarize, "binarize", BINARIZE)
        self.beta_ = self.beta  # the beta the step uses: start_epoch lowers it during the warm-up
        self.weight_decay = check_float(weight_decay, "weight_decay", 0.0)
        self.loss = "bce" if self.likelihood == "bernoulli" else "gaussian_nll"
        rng = self._init_common(random_state, dtype)
        self.encoder, self.decoder = self._build_networks(rng)
        # log sigma_x^2 of the Gaussian likelihood (1,): a parameter when learned, else a constant
        self.decoder_log_var = np.full(1, 2.0 * np.log(self.decoder_sigma), dtype=self.dtype)
        self.decoder_log_var_grad = np.zeros(1, dtype=self.dtype)

    def _build_networks(self, rng: np.random.Generator) -> tuple[Sequential, Sequential]:
        """The encoder (input -> 2*latent_dim: ``[mu, log_var]``) and the decoder (latent -> logits/mean).

        Override in a subclass to use other networks; see the class Notes.
        """
        enc = mlp(self.sizes + (2 * self.latent_dim,), self.activation, "identity", rng, self.dtype)
        dec = mlp((self.latent_dim,) + self.sizes[::-1], self.activation, "identity", rng, self.dtype)
        return enc, dec

    def __repr__(self) -> str:
        widths = "-".join(str(s) for s in self.sizes)
        return (f"{type(self).__name__}({widths}-{self.latent_dim}, activation={self.activation!r}, "
                f"likelihood={self.likelihood!r}, beta={self.beta:g}{self._training_repr()})")

    def _training_repr(self) -> str:
        """The training options that differ from their defaults, as ``", objective='iwae', k=5"``."""
        defaults = {"warmup": 0, "free_bits": 0.0, "objective": "elbo", "k": 1, "binarize": "none"}
        return "".join(f", {name}={getattr(self, name)!r}" for name, default in defaults.items()
                       if getattr(self, name) != default)

    # ------------------------------------------------------------------ parameters
    @property
    def params(self) -> dict[str, np.ndarray]:
        """The networks' parameters, and ``"likelihood.log_var"`` when sigma_x is learned."""
        params = super().params
        if self.learn_decoder_sigma:
            params["likelihood.log_var"] = self.decoder_log_var
        return params

    @property
    def grads(self) -> dict[str, np.ndarray]:
        grads = super().grads
        if self.learn_decoder_sigma:
            grads["likelihood.log_var"] = self.decoder_log_var_grad
        return grads

    @property
    def example_shape(self) -> tuple[int, ...]:
        """Shape of one input example (``(n_features,)`` here; ``(C, H, W)`` for images)."""
        return (self.n_features,)

    # ------------------------------------------------------------------ checks
    def _check_values(self, X: np.ndarray, name: str = "X") -> np.ndarray:
        """Refuse values outside [0, 1] for the Bernoulli decoder (its likelihood needs them)."""
        if self.likelihood == "bernoulli" and X.size:
            lo, hi = X.min(), X.max()
            if lo < 0 or hi > 1:
                raise ValueError(f"{name} must lie in [0, 1] for likelihood='bernoulli', got values in "
                                 f"[{float(lo):g}, {float(hi):g}]; scale the data or use "
                                 f"likelihood='gaussian'")
        return X

    def _check_X(self, X, name: str = "X") -> np.ndarray:
        return self._check_values(super()._check_X(X, name), name)

    def _check_targets(self, X: np.ndarray, name: str = "X") -> np.ndarray:
        """Nothing more to check: :meth:`_check_X`, which always runs first, has checked the range."""
        return X

    def _check_Z(self, Z, name: str = "Z") -> np.ndarray:
        Z = check_array(Z, name, ndim=2, dtype=self.dtype)
        if Z.shape[1] != self.latent_dim:
            raise ValueError(f"{name} must have {self.latent_dim} columns (latent_dim), got shape {Z.shape}")
        return Z

    # ------------------------------------------------------------------ the pieces
    def _split(self, out: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Encoder output (N, 2*latent_dim) -> ``mu``, ``log_var``, each (N, latent_dim) (views)."""
        return out[:, :self.latent_dim], out[:, self.latent_dim:]

    def sample_posterior(self, X, n_samples: int = 1, rng=None) -> np.ndarray:
        """Draws ``z ~ q(z | x)`` for every example: shape (n_samples, N, latent_dim)."""
        n_samples = check_int(n_samples, "n_samples", 1)
        mu, log_var = self.encode_distribution(X)
        eps = self._rng(rng).standard_normal((n_samples,) + mu.shape, dtype=self.dtype)  # (S, N, L)
        return reparameterize(mu, log_var, eps)

    def _nll(self, out: np.ndarray, X: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
        r"""``-log p(x_n | z_n)`` per example and its gradient with respect to ``out``.

        Bernoulli (``out`` = logits ``l``: :func:`~npae.losses.bce_with_logits_elementwise`):

        .. math::
            -\log p(x \mid z) = \sum_i \big[\max(l_i, 0) - l_i x_i + \log(1 + e^{-|l_i|})\big],
            \qquad \frac{\partial}{\partial l_i} = \sigma(l_i) - x_i

        Gaussian (``out`` = mean ``m``, ``s = log sigma^2``, D values per example):

        .. math::
            -\log p(x \mid z) = \tfrac12 \sum_i \big[\log 2\pi + s + (x_i - m_i)^2 e^{-s}\big],
            \qquad \frac{\partial}{\partial m_i} = (m_i - x_i) e^{-s}, \qquad
            \frac{\partial}{\partial s} = \tfrac12 \sum_i \big[1 - (x_i - m_i)^2 e^{-s}\big]

        Returns ``nll`` (N,), ``dout`` (shape of ``out``, gradient of ``sum(nll)``) and ``ds``
        (N,): each example's derivative of its ``nll`` with respect to ``s`` (0 for Bernoulli).
        """
        n = out.shape[0]
        if self.likelihood == "bernoulli":
            ell, dout = bce_with_logits_elementwise(out, X)  # out's shape each
            return ell.reshape(n, -1).sum(axis=1), dout, 0.0  # nll: (N,)
        s = self.decoder_log_var
        inv_var = np.exp(-s)
        diff = out - X
        sq = (diff * diff).reshape(n, -1)  # (N, D)
        d = sq.shape[1]
        sse = sq.sum(axis=1)  # (N,)
        nll = 0.5 * (d * (LOG_2PI + s) + sse * inv_var)
        return nll, diff * inv_var, 0.5 * (d - sse * inv_var)

    def _forward_backward(self, X: np.ndarray, rng: np.random.Generator) -> dict[str, float]:
        if self.objective == "iwae" or self.k > 1:  # k samples per example: the other step
            return self._forward_backward_iwae(X, rng)
        n = X.shape[0]
        inv_n = self.dtype.type(1.0 / n)
        beta = self.dtype.type(self.beta_)  # beta of this epoch (lower during a warm-up)
        if self.binarize == "dynamic":  # 0. a fresh binary image x ~ Bernoulli(X) each time
            X = bernoulli_draw(X, rng)
        # 1. Encode: q(z | x) = N(mu, diag(exp(log_var))).
        mu, log_var = self._split(self.encoder.forward(X, rng))  # (N, L) each
        # 2. Reparameterise: z = mu + std * eps, with eps drawn from the rng passed in.
        eps = rng.standard_normal(mu.shape, dtype=self.dtype)  # (N, L)
        z = reparameterize(mu, log_var, eps)  # (N, L)
        # 3. Decode and score: reconstruction = mean over the batch of -log p(x | z).
        out = self.decoder.forward(z, rng)
        nll, dout, ds = self._nll(out, X)
        # 4. KL(q(z | x) || N(0, I)) in closed form (floored per dimension with free bits).
        kl, dkl_dmu, dkl_dlog_var = gaussian_kl(mu, log_var, self.free_bits)
        # 5. Backward: decoder, then through the sampling step (dz/dmu = 1, dz/dlog_var = std*eps/2).
        dz = self.decoder.backward(dout * inv_n)  # (N, L)
        dmu, dlog_var = reparameterize_backward(dz, log_var, eps)  # (N, L) each
        dmu = dmu + (beta * inv_n) * dkl_dmu
        dlog_var = dlog_var + (beta * inv_n) * dkl_dlog_var
        dout_enc = np.concatenate([dmu, dlog_var], axis=1)  # (N, 2L)
        self.encoder.backward(dout_enc, input_grad=False)  # dL/dX is not needed: skip it
        self.decoder_log_var_grad[0] = np.sum(ds) / n  # d loss / d log sigma_x^2 (a parameter if learned)
        return {"reconstruction": float(nll.mean()), "kl": float(beta) * float(kl.mean())}

    def _forward_backward_iwae(self, X: np.ndarray, rng: np.random.Generator) -> dict[str, float]:
        r"""The step with ``k`` samples of ``z`` per example: the importance-weighted bound, or the ELBO.

        With ``ell_i = log p(x | z_i)`` and ``r_i = log p(z_i) - log q(z_i | x)``, the loss per
        example is (``docs/09-vae.md``, "Training on the importance-weighted bound")

        .. math::
            \mathrm{loss} = -\log \frac1k \sum_{i=1}^k e^{a_i} + \beta\,\mathrm{KL}, \qquad
            a_i = ell_i + \beta\,(r_i - \bar r), \quad \bar r = \tfrac1k \textstyle\sum_i r_i

        which has the expectation of the IWAE loss ``-log (1/k) sum_i w_i`` (``beta = 1``):
        ``r_bar + KL`` has mean 0, so the sampled KL inside the weights is swapped for the
        closed-form one, and with ``k = 1`` this is the ELBO step exactly. Its gradient: the
        normalised importance weights ``w_tilde_i = softmax_i(a_i) = softmax_i(log w_i)``
        multiply each sample's gradient of ``ell_i``, ``(w_tilde_i - 1/k)`` that of ``beta r_i``:

        .. math::
            \partial\,\mathrm{loss} = -\sum_i \tilde w_i\, \partial ell_i
            - \beta \sum_i (\tilde w_i - \tfrac1k)\, \partial r_i + \beta\, \partial\mathrm{KL}

        ``objective="elbo"`` uses ``w_tilde_i = 1/k`` instead: the ELBO averaged over k samples.
        Shapes: ``k`` samples of ``N`` examples are decoded as one batch of ``k*N`` rows.
        """
        k, n = self.k, X.shape[0]
        inv_n = self.dtype.type(1.0 / n)
        beta = self.dtype.type(self.beta_)
        if self.binarize == "dynamic":  # 0. a fresh binary image x ~ Bernoulli(X) each time
            X = bernoulli_draw(X, rng)
        # 1. Encode once: q(z | x) = N(mu, diag(exp(log_var))).
        mu, log_var = self._split(self.encoder.forward(X, rng))  # (N, L) each
        # 2. k samples per example: z_i = mu + std * eps_i.
        eps = rng.standard_normal((k,) + mu.shape, dtype=self.dtype)  # (k, N, L)
        z = reparameterize(mu, log_var, eps)  # (k, N, L)
        # 3. Decode the k*N samples in one batch: ell_i = log p(x | z_i) = -nll_i.
        out = self.decoder.forward(z.reshape(k * n, -1), rng)  # (k*N, ...)
        x_rep = np.broadcast_to(X, (k,) + X.shape).reshape(out.shape)  # (k*N, ...): X repeated k times
        nll, dout, ds = self._nll(out, x_rep)  # nll: (k*N,)
        # 4. a_i = ell_i + beta (r_i - r_bar); r_i = log p(z_i) - log q(z_i | x) up to a term equal for all i
        r = 0.5 * np.sum(eps * eps - z * z, axis=2)  # (k, N)
        a = -nll.reshape(k, n) + beta * (r - r.mean(axis=0))  # (k, N)
        # 5. The normalised importance weights w_tilde = softmax over the k samples (stable: max first).
        top = a.max(axis=0)  # (N,)
        w = np.exp(a - top)  # (k, N)
        total = w.sum(axis=0)  # (N,)
        w /= total
        bound = np.log(total.astype(np.float64)) + top - np.log(k)  # (N,): log (1/k) sum_i e^{a_i}
        if self.objective == "elbo":  # the k-sample ELBO: every sample weighs 1/k
            w, bound = np.full_like(w, 1.0 / k), a.astype(np.float64).mean(axis=0)
        # 6. KL(q(z | x) || N(0, I)) in closed form (floored per dimension with free bits).
        kl, dkl_dmu, dkl_dlog_var = gaussian_kl(mu, log_var, self.free_bits)
        # 7. Backward: sample i's gradient of -ell_i times w_tilde_i, its r_i's (dr_i/dz_i = -z_i)
        #    times (w_tilde_i - 1/k); then through the sampling step as in the ELBO step.
        w_rows = w.reshape((k * n,) + (1,) * (dout.ndim - 1))  # (k*N, 1, ...)
        dz = self.decoder.backward(dout * (w_rows * inv_n)).reshape(k, n, -1)  # (k, N, L)
        dz += (beta * inv_n) * (w - self.dtype.type(1.0 / k))[:, :, None] * z
        dmu, dlog_var = reparameterize_backward(dz, log_var, eps)  # (k, N, L) each: one per sample
        dmu = dmu.sum(axis=0) + (beta * inv_n) * dkl_dmu  # (N, L)
        dlog_var = dlog_var.sum(axis=0) + (beta * inv_n) * dkl_dlog_var  # (N, L)
        self.encoder.backward(np.concatenate([dmu, dlog_var], axis=1), input_grad=False)
        self.decoder_log_var_grad[0] = np.sum(w.reshape(-1) * ds) / n  # each sample's d nll / d s, weighted
        return {"reconstruction": -float(bound.mean()), "kl": float(beta) * float(kl.mean())}

    # ------------------------------------------------------------------ the beta schedule
    def beta_at(self, epoch: int) -> float:
        """beta in epoch ``epoch`` (from 0) of a fit: ``beta * min(1, epoch / warmup)``, or ``beta``."""
        return self.beta * min(1.0, epoch / self.warmup) if self.warmup else self.beta

    def start_epoch(self, epoch: int, epochs: int) -> dict[str, float]:
        """Called by ``fit`` before epoch ``epoch`` (from 0) of ``epochs``: sets :attr:`beta_` (the warm-up).

        Returns ``{"beta": beta_}``, which ``fit`` records in ``history_``. A pure function of the
        epoch, so a second ``fit`` restarts the warm-up and a resumed run continues it exactly.
        """
        self.beta_ = self.beta_at(epoch)
        return {"beta": self.beta_}

    # ------------------------------------------------------------------ inference
    def _chunks(self, X: np.ndarray, size: int):
        for i in range(0, len(X), size):
            yield X[i:i + size]

    def encode_distribution(self, X) -> tuple[np.ndarray, np.ndarray]:
        """``mu`` and ``log_var`` of ``q(z | x)``, each of shape (N, latent_dim)."""
        out = self._batched(self.encoder, self._check_X(X))
        mu, log_var = self._split(out)
        return np.ascontiguousarray(mu), np.ascontiguousarray(log_var)

    def encode(self, X) -> np.ndarray:
        """The posterior mean ``mu`` of ``q(z | x)``, shape (N, latent_dim)."""
        return self.encode_distribution(X)[0]

    def decode(self, Z) -> np.ndarray:
        """The mean of ``p(x | z)`` (pixel probabilities for Bernoulli), shape (N, ...) like the input."""
        return self._output(self._batched(self.decoder, self._check_Z(Z)))  # sigmoid of Bernoulli logits

    def reconstruct(self, X) -> np.ndarray:
        """``decode(encode(X))``: decodes the posterior mean (no sampling)."""
        return self.decode(self.encode(X))

    def _terms_per_example(self, X: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """One-sample reconstruction ``-log p(x | z)`` and closed-form KL, each (N,)."""
        rec, kls = [], []
        with self.mode(training=False):
            for xb in self._chunks(X, 2048):
                mu, log_var = self._split(self.encoder.forward(xb))
                eps = rng.standard_normal(mu.shape, dtype=self.dtype)
                z = reparameterize(mu, log_var, eps)
                rec.append(self._nll(self.decoder.forward(z), xb)[0])
                kls.append(gaussian_kl(mu, log_var)[0])
        return np.concatenate(rec).astype(np.float64), np.concatenate(kls).astype(np.float64)

    def elbo(self, X, rng=None, reduction: str = "mean") -> float | np.ndarray:
        r"""The evidence lower bound in nats, one ``z`` sample per example (the KL in closed form).

        .. math:: \mathrm{ELBO}(x) = \log p(x \mid z) - \mathrm{KL}(q(z \mid x) \,\|\, N(0, I)),
                  \quad z \sim q(z \mid x)

        (always with ``beta = 1``: it is a bound on ``log p(x)``). Returns the mean over the
        examples (``reduction="mean"``) or the (N,) values (``"none"``). :meth:`elbo_terms`
        gives the reconstruction/KL split. ``rng`` draws the noise (default: the model's).
        """
        check_choice(reduction, "reduction", ("mean", "none"))
        rec, kl = self._terms_per_example(self._check_X(X), self._rng(rng))
        values = -(rec + kl)
        return float(values.mean()) if reduction == "mean" else values

    def elbo_terms(self, X, rng=None) -> dict[str, float]:
        """Mean ``elbo``, ``reconstruction`` (-log p(x | z)) and ``kl`` per example, in nats."""
        rec, kl = self._terms_per_example(self._check_X(X), self._rng(rng))
        return {"elbo": float(-(rec + kl).mean()), "reconstruction": float(rec.mean()),
                "kl": float(kl.mean())}

    def score(self, X, rng=None) -> float:
        """Negative ELBO per example in nats (lower is better).

        Without ``rng`` a generator seeded with 0 draws the noise, so repeated scores of the same
        model (e.g. the validation curve in ``fit``) use the same ``eps`` and are comparable.
        """
        return -self.elbo(X, np.random.default_rng(0) if rng is None else rng)

    def log_likelihood(self, X, k: int = 100, rng=None, reduction: str = "mean") -> float | np.ndarray:
        r"""Importance-weighted estimate of ``log p(x)`` (Burda et al. 2015), in nats.

        With ``z_i ~ q(z | x)``, ``i = 1..k``, and
        ``log w_i = log p(x | z_i) + log p(z_i) - log q(z_i | x)``:

        .. math::
            \mathcal{L}_k(x) = \log \frac1k \sum_{i=1}^k w_i
            = \mathrm{logsumexp}_i(\log w_i) - \log k

        computed with a stable log-sum-exp. ``k = 1`` is an (unbiased) single-sample ELBO; the
        bound tightens as ``k`` grows (``E L_1 <= E L_k <= E L_{k+1} <= log p(x)``).

        Parameters
        ----------
        X : array_like, shape (N, n_features)
        k : int >= 1
            Importance samples per example.
        rng : int, Generator or None
            Draws the samples (default: the model's generator).
        reduction : {"mean", "none"}
            The mean over examples, or the (N,) estimates.
        """
        k = check_int(k, "k", 1)
        check_choice(reduction, "reduction", ("mean", "none"))
        X = self._check_X(X)
        rng = self._rng(rng)
        rows = 8192  # decoded rows at once: each array is at most 8192 x 784 floats (25 MB in float32)
        results = []
        with self.mode(training=False):
            for xb in self._chunks(X, max(1, rows // k)):  # a few examples, or one when k is large
                n = xb.shape[0]
                mu, log_var = self._split(self.encoder.forward(xb))  # (n, L)
                # the k samples in chunks of at most rows // n, so memory does not grow with k: a running
                # log-sum-exp, top = max_i log w_i so far and total = sum_i exp(log w_i - top)
                top, total = np.full(n, -np.inf), np.zeros(n)  # (n,) each
                for start in range(0, k, max(1, rows // n)):
                    ks = min(max(1, rows // n), k - start)
                    eps = rng.standard_normal((ks,) + mu.shape, dtype=self.dtype)  # (ks, n, L)
                    z = reparameterize(mu, log_var, eps)  # (ks, n, L)
                    log_px = self._log_px(self.decoder.forward(z.reshape(-1, mu.shape[1])), xb)  # (ks, n)
                    log_pz = -0.5 * np.sum(LOG_2PI + z.astype(np.float64) ** 2, axis=2)  # (ks, n)
                    log_qz = -0.5 * np.sum(LOG_2PI + log_var.astype(np.float64) + eps.astype(np.float64) ** 2,
                                           axis=2)  # (ks, n)
                    log_w = log_px + log_pz - log_qz  # (ks, n)
                    new_top = np.maximum(top, log_w.max(axis=0))
                    total = total * np.exp(top - new_top) + np.exp(log_w - new_top).sum(axis=0)
                    top = new_top
                results.append(np.log(total) + top - np.log(k))  # (n,): logsumexp_i(log w_i) - log k
        values = np.concatenate(results)
        return float(values.mean()) if reduction == "mean" else values

    def _log_px(self, out: np.ndarray, xb: np.ndarray) -> np.ndarray:
        r"""``log p(x_n | z_sn)`` for ``s`` samples of each of ``n`` examples: (s, n), float64; no gradient.

        ``out`` (s*n, ...) decodes the samples sample-major (row ``i*n + j`` is sample ``i`` of
        example ``j``), ``xb`` (n, ...) holds the examples. The evaluation of
        :meth:`log_likelihood` runs this on millions of rows (k = 5000), so the Bernoulli case is
        written for speed, with the logits ``l``:

        .. math:: \log p(x \mid z) = \sum_i x_i l_i - \sum_i \mathrm{softplus}(l_i), \qquad
                  \mathrm{softplus}(l) = \max(l, 0) + \log(1 + e^{-|l|})

        The first sum is one matrix-vector product per example. The second uses ``log(1 + e)``
        rather than ``log1p(e)`` (``e = exp(-|l|)`` in (0, 1]): several times faster in NumPy,
        and its error (at most about 1e-7 per pixel in float32, where ``1 + e`` rounds) is far
        below that of the float32 sum over 784 pixels. The Gaussian case is :meth:`_nll`.
        """
        n = xb.shape[0]
        if self.likelihood == "gaussian":
            x_rep = np.broadcast_to(xb, (len(out) // n,) + xb.shape).reshape(out.shape)  # (s*n, ...)
            return -self._nll(out, x_rep)[0].astype(np.float64).reshape(-1, n)
        logits = out.reshape(-1, n, xb[0].size)  # (s, n, D)
        xl = np.einsum("snd,nd->sn", logits, xb.reshape(n, -1))  # (s, n): sum_i x_i l_i
        soft = exp_neg_abs(logits)  # (s, n, D): e = exp(-|l|)
        soft += 1.0
        np.log(soft, out=soft)
        soft += np.maximum(logits, 0.0)  # softplus(l)
        return xl.astype(np.float64) - soft.sum(axis=2, dtype=np.float64)

    def _rng(self, rng) -> np.random.Generator:
        return self.rng_ if rng is None else check_random_state(rng, "rng")

    # ------------------------------------------------------------------ generation
    def sample(self, n: int, rng=None, return_latent: bool = False):
        """Decode ``n`` draws ``z ~ N(0, I)`` from the prior: the mean of ``p(x | z)``, shape (n, ...).

        With ``return_latent`` also returns the ``z`` (n, latent_dim).
        """
        n = check_int(n, "n", 1)
        z = self._rng(rng).standard_normal((n, self.latent_dim), dtype=self.dtype)
        x = self.decode(z)
        return (x, z) if return_latent else x


__all__ = ["LIKELIHOODS", "VAE", "gaussian_kl", "reparameterize", "reparameterize_backward"]
