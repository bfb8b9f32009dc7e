"""Tests of npae.models.vae: gradients, the reparameterisation, the KL, the bounds, importance-weighted
training, warm-up and free bits, the Gaussian likelihood's sigma and beta, binarisation, active units,
generation, errors."""

from __future__ import annotations

import numpy as np
import pytest
from example_scripts import load_example
from hypothesis import given
from hypothesis import strategies as st
from profiles import examples
from scipy.special import expit

from npae import latent
from npae.binarize import bernoulli_draw, binarize
from npae.gradcheck import check_model, numerical_gradient, rel_error
from npae.models import VAE, ConvVAE
from npae.models.vae import gaussian_kl

from idx_files import write_mnist

D, H, L = 6, 5, 3


def small_vae(**kw) -> VAE:
    args = dict(sizes=(D, H), latent_dim=L, random_state=1, dtype=np.float64)
    args.update(kw)
    return VAE(**args)


def set_log_var(model: VAE, values) -> None:
    """Make the encoder's log_var head output exactly ``values`` (zero weights, bias = values)."""
    last = model.encoder.layers[-2]  # the Dense before the final Identity
    last.params["W"][L:] = 0.0
    last.params["b"][L:] = values


# ---------------------------------------------------------------------------- gradients
@pytest.mark.parametrize("kw", [
    dict(),
    dict(activation="tanh", beta=0.3),
    dict(activation="softplus", beta=4.0, weight_decay=0.01),
    dict(likelihood="gaussian"),
    dict(likelihood="gaussian", decoder_sigma=0.5, learn_decoder_sigma=True, activation="tanh"),
    dict(sizes=(D, 7, H), activation="sigmoid"),
])
def test_whole_negative_elbo_gradient(kw):
    model = small_vae(**kw)
    X = np.random.default_rng(2).random((5, D))
    errors = check_model(model, X)
    assert set(errors) == set(model.params)
    if kw.get("learn_decoder_sigma"):
        assert "likelihood.log_var" in errors
    assert max(errors.values()) < 1e-7, errors


@examples(8)
@given(d=st.integers(1, 5), h=st.integers(1, 4), latent=st.integers(1, 3), n=st.integers(1, 4),
       likelihood=st.sampled_from(["bernoulli", "gaussian"]), seed=st.integers(0, 2**16))
def test_whole_negative_elbo_gradient_any_shape(d, h, latent, n, likelihood, seed):
    """Any shape, down to one unit everywhere and one example.

    Random tiny networks sometimes give a parameter whose whole gradient is near 0 (say 2e-5,
    by cancellation); there central differences carry their rounding error, about
    eps * loss / h = 1e-11, which is a relative error above 1e-7 without any bug. So each
    parameter must pass the relative test OR agree to 1e-9 in absolute terms.
    """
    model = VAE(sizes=(d, h), latent_dim=latent, activation="tanh", likelihood=likelihood, random_state=seed,
                dtype=np.float64)
    X = np.random.default_rng(seed).random((n, d))

    def loss() -> float:
        return model.loss_and_grads(X, np.random.default_rng(seed))[0]

    _, _, grads = model.loss_and_grads(X, np.random.default_rng(seed))
    grads = {k: g.copy() for k, g in grads.items()}
    for name, p in model.params.items():
        numeric = numerical_gradient(loss, p, 1e-5)
        err = rel_error(grads[name], numeric)
        assert err < 1e-7 or np.abs(grads[name] - numeric).max() < 1e-9, (name, err)


def test_loss_terms_match_a_direct_computation():
    """reconstruction = summed BCE per image averaged over the batch; kl from the closed form."""
    model = small_vae()
    X = np.random.default_rng(3).random((4, D))
    _, terms, _ = model.loss_and_grads(X, np.random.default_rng(7))
    out = model.encoder.forward(X)
    mu, log_var = out[:, :L], out[:, L:]
    eps = np.random.default_rng(7).standard_normal((4, L))
    p = expit(model.decoder.forward(mu + np.exp(0.5 * log_var) * eps))
    bce = -(X * np.log(p) + (1 - X) * np.log(1 - p)).sum(axis=1).mean()
    kl = np.mean([-0.5 * np.sum(1 + lv - m ** 2 - np.exp(lv)) for m, lv in zip(mu, log_var, strict=True)])
    assert terms["reconstruction"] == pytest.approx(bce, rel=1e-12)
    assert terms["kl"] == pytest.approx(kl, rel=1e-12)


def test_gaussian_decoder_reconstruction_is_the_gaussian_nll():
    model = small_vae(likelihood="gaussian", decoder_sigma=0.3)
    X = np.random.default_rng(3).normal(size=(4, D)) * 3  # any real values are allowed
    _, terms, _ = model.loss_and_grads(X, np.random.default_rng(7))
    out = model.encoder.forward(X)
    eps = np.random.default_rng(7).standard_normal((4, L))
    m = model.decoder.forward(out[:, :L] + np.exp(0.5 * out[:, L:]) * eps)
    nll = (0.5 * np.log(2 * np.pi * 0.09) + (X - m) ** 2 / (2 * 0.09)).sum(axis=1).mean()
    assert terms["reconstruction"] == pytest.approx(nll, rel=1e-12)


def test_float32_training_step_keeps_float32():
    model = VAE(sizes=(D, H), latent_dim=L, random_state=0)
    X = np.random.default_rng(0).random((8, D)).astype(np.float32)
    loss, _, grads = model.loss_and_grads(X)
    assert np.isfinite(loss)
    assert all(g.dtype == np.float32 for g in grads.values())
    assert model.encode(X).dtype == np.float32 and model.sample(3, 0).dtype == np.float32


# ---------------------------------------------------------------------------- reparameterisation
def check_posterior_moments(model: VAE, x: np.ndarray, n: int = 40_000, seed: int = 0) -> None:
    """Samples of z for one x have mean mu and variance exp(log_var).

    Tolerances: 5 standard errors per coordinate. The mean's standard error is
    sqrt(var / n); the sample variance's is var * sqrt(2 / (n - 1)) (Gaussian z), about 0.7 % of
    var at n = 40,000. A false failure has probability below 1e-5 per coordinate.
    """
    mu, log_var = model.encode_distribution(x)
    z = model.sample_posterior(x, n, rng=seed)[:, 0]  # (n, L)
    var = np.exp(log_var[0])
    np.testing.assert_array_less(np.abs(z.mean(axis=0) - mu[0]), 5 * np.sqrt(var / n))
    np.testing.assert_array_less(np.abs(z.var(axis=0, ddof=1) - var), 5 * var * np.sqrt(2 / (n - 1)))


def test_posterior_samples_have_mean_mu_and_variance_exp_log_var():
    model = small_vae()
    set_log_var(model, [-1.0, 0.7, 1.5])
    check_posterior_moments(model, np.random.default_rng(1).random((1, D)))


def test_the_sigma_squared_variant_fails_the_moment_test(monkeypatch):
    import npae.models.vae

    def sigma_squared(mu, log_var, eps):
        return mu + np.exp(log_var) * eps  # sigma^2 * eps: the classic mistake

    monkeypatch.setattr(npae.models.vae, "reparameterize", sigma_squared)  # where every VAE method looks
    model = VAE(sizes=(D, H), latent_dim=L, random_state=1, dtype=np.float64)
    set_log_var(model, [-1.0, 0.7, 1.5])
    with pytest.raises(AssertionError):
        check_posterior_moments(model, np.random.default_rng(1).random((1, D)))


# ---------------------------------------------------------------------------- KL
def test_kl_closed_form_agrees_with_monte_carlo():
    rng = np.random.default_rng(4)
    mu = rng.normal(size=(3, 4))
    log_var = rng.uniform(-1.5, 1.0, size=(3, 4))
    kl, _, _ = gaussian_kl(mu, log_var)
    n = 200_000
    eps = rng.standard_normal((n, 3, 4))
    z = mu + np.exp(0.5 * log_var) * eps
    log_q = -0.5 * np.sum(np.log(2 * np.pi) + log_var + eps ** 2, axis=2)  # (n, 3)
    log_p = -0.5 * np.sum(np.log(2 * np.pi) + z ** 2, axis=2)
    diff = log_q - log_p
    stderr = diff.std(axis=0) / np.sqrt(n)
    # 5 standard errors of the Monte-Carlo mean
    np.testing.assert_array_less(np.abs(diff.mean(axis=0) - kl), 5 * stderr)


def test_kl_is_zero_at_the_prior_and_its_gradient_checks():
    kl, dmu, dlv = gaussian_kl(np.zeros((2, 3)), np.zeros((2, 3)))
    np.testing.assert_array_equal(kl, 0)
    np.testing.assert_array_equal(dmu, 0)
    np.testing.assert_array_equal(dlv, 0)
    from npae.gradcheck import check_function

    rng = np.random.default_rng(5)
    mu, lv = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    assert check_function(lambda m, v: (gaussian_kl(m, v)[0].sum(), gaussian_kl(m, v)[1]), mu, lv) < 1e-9
    assert check_function(lambda m, v: (gaussian_kl(m, v)[0].sum(), gaussian_kl(m, v)[2]), mu, lv,
                          wrt=1) < 1e-9


@examples(30)
@given(st.lists(st.floats(-5, 5), min_size=2, max_size=2), st.lists(st.floats(-5, 5), min_size=2, max_size=2))
def test_kl_is_non_negative(mu, log_var):
    kl, _, _ = gaussian_kl(np.array([mu]), np.array([log_var]))
    assert kl[0] >= -1e-12


# ---------------------------------------------------------------------------- bounds
def linear_gaussian_vae(sigma: float = 0.7) -> tuple[VAE, np.ndarray, np.ndarray]:
    """A linear-Gaussian VAE whose encoder is the exact posterior; returns (model, W, b).

    Decoder: x = W z + b + sigma * noise with W's columns orthogonal, so the posterior
    N(A (x - b), S) has a diagonal covariance S = (I + W^T W / sigma^2)^-1, A = S W^T / sigma^2,
    which the (linear) encoder represents exactly. Then p(x) = N(b, W W^T + sigma^2 I).
    """
    d, h, latent = 4, 3, 2
    m = VAE(sizes=(d, h), latent_dim=latent, activation="identity", likelihood="gaussian",
            decoder_sigma=sigma, random_state=0, dtype=np.float64)
    q, _ = np.linalg.qr(np.random.default_rng(6).normal(size=(d, d)))
    W = q[:, :latent] * np.array([1.5, 0.6])  # (d, latent), orthogonal columns
    b = np.array([0.3, -0.2, 0.1, 0.5])
    dec1, dec2 = m.decoder.layers[0], m.decoder.layers[2]
    dec1.params["W"][:] = np.vstack([np.eye(latent), np.zeros((h - latent, latent))])  # (h, latent)
    dec1.params["b"][:] = 0
    dec2.params["W"][:] = np.hstack([W, np.zeros((d, h - latent))])  # (d, h)
    dec2.params["b"][:] = b
    s = 1.0 / (1.0 + np.sum(W ** 2, axis=0) / sigma ** 2)  # (latent,) posterior variances
    A = s[:, None] * W.T / sigma ** 2  # (latent, d)
    enc1, enc2 = m.encoder.layers[0], m.encoder.layers[2]
    enc1.params["W"][:] = np.vstack([A, np.zeros((h - latent, d))])  # (h, d)
    enc1.params["b"][:] = np.concatenate([-A @ b, np.zeros(h - latent)])
    enc2.params["W"][:] = 0
    enc2.params["W"][:latent, :latent] = np.eye(latent)
    enc2.params["b"][:] = np.concatenate([np.zeros(latent), np.log(s)])
    return m, W, b


def exact_log_px(X, W, b, sigma):
    cov = W @ W.T + sigma ** 2 * np.eye(len(b))
    diff = X - b
    _, logdet = np.linalg.slogdet(cov)
    mahalanobis = np.einsum("ni,ij,nj->n", diff, np.linalg.inv(cov), diff)  # (N,)
    return -0.5 * (len(b) * np.log(2 * np.pi) + logdet + mahalanobis)


def test_importance_weights_are_exact_when_q_is_the_true_posterior():
    """With q = p(z | x) every weight equals p(x): L_k = log p(x) for every k and every draw."""
    model, W, b = linear_gaussian_vae()
    X = np.random.default_rng(7).normal(size=(6, 4))
    truth = exact_log_px(X, W, b, 0.7)
    for k in (1, 7):
        np.testing.assert_allclose(model.log_likelihood(X, k=k, rng=k, reduction="none"), truth, rtol=1e-10)
    # the single-sample ELBO is log p(x) only on average (its KL term is exact, its reconstruction noisy)
    elbo = np.mean([model.elbo(X, rng=s, reduction="none") for s in range(400)], axis=0)
    np.testing.assert_allclose(elbo, truth, atol=0.15)


def test_importance_weighted_bound_is_above_the_elbo_and_increases_with_k():
    """With a poor q, the bound tightens with k towards the exact log p(x) (Burda et al. 2015, thm 1).

    Every estimate is averaged over 50 examples x 1,000 independent draws; the tolerances are 5
    standard errors of those means (each about 0.01 nats), while the gaps tested are 0.1-1 nats.
    """
    model, W, b = linear_gaussian_vae()
    model.encoder.layers[2].params["b"][2:] += 1.0  # q too wide: no longer the exact posterior
    model.encoder.layers[0].params["W"][:] *= 0.5  # and its mean shrunk
    X = np.random.default_rng(8).normal(size=(50, 4))
    truth = exact_log_px(X, W, b, 0.7).mean()
    X_rep = np.tile(X, (1000, 1))  # (50,000, 4): 1,000 independent estimates per example

    def mean_and_se(values):
        return values.mean(), values.std() / np.sqrt(values.size)

    elbo, se_elbo = mean_and_se(model.elbo(X_rep, rng=0, reduction="none"))
    bounds = {k: mean_and_se(model.log_likelihood(X_rep, k=k, rng=k, reduction="none")) for k in (1, 5, 50)}
    (l1, se1), (l5, se5), (l50, se50) = bounds[1], bounds[5], bounds[50]
    # L_1 is an unbiased single-sample ELBO: the same expectation as elbo (closed-form KL)
    assert abs(l1 - elbo) < 5 * np.hypot(se1, se_elbo)
    assert l5 - elbo > 5 * np.hypot(se5, se_elbo)
    assert l5 - l1 > 5 * np.hypot(se5, se1)
    assert l50 - l5 > 5 * np.hypot(se50, se5)
    assert l50 < truth + 5 * se50


def test_log_likelihood_matches_a_per_example_reference_across_chunks():
    """The batched (k, n, L) computation equals a plain per-example one with the same draws.

    k = 3000 makes log_likelihood work in chunks of 2 examples (8192 // k), so 5 examples take
    3 chunks; the reference redraws eps chunk by chunk in the same order.
    """
    from scipy.stats import norm

    model = small_vae(activation="tanh")
    X = np.random.default_rng(11).random((5, D))
    k = 3000
    fast = model.log_likelihood(X, k=k, rng=12, reduction="none")
    rng = np.random.default_rng(12)
    mu_all, lv_all = model.encode_distribution(X)
    reference = []
    for start in range(0, 5, 2):
        eps_chunk = rng.standard_normal((k, min(2, 5 - start), L))
        for j in range(eps_chunk.shape[1]):
            i = start + j
            mu, sd = mu_all[i], np.exp(0.5 * lv_all[i])
            z = mu + sd * eps_chunk[:, j]  # (k, L)
            p = expit(model.decoder.forward(z))  # (k, D)
            log_px = np.sum(X[i] * np.log(p) + (1 - X[i]) * np.log(1 - p), axis=1)
            log_w = log_px + norm.logpdf(z).sum(1) - norm.logpdf(z, mu, sd).sum(1)
            top = log_w.max()
            reference.append(top + np.log(np.mean(np.exp(log_w - top))))
    np.testing.assert_allclose(fast, reference, rtol=1e-10)


def test_log_likelihood_is_stable_for_very_unlikely_inputs():
    model = small_vae()
    X = np.zeros((2, D))
    X[:, ::2] = 1.0
    model.decoder.layers[-2].params["b"][:] = -300.0  # log w around -900: exp would underflow
    value = model.log_likelihood(X, k=10, rng=0)
    assert np.isfinite(value) and value < -500


# ---------------------------------------------------------------------------- importance-weighted training
def step(model, X, seed: int):
    """``loss_and_grads`` with a fresh generator: (loss, terms, copies of the gradients)."""
    loss, terms, grads = model.loss_and_grads(X, np.random.default_rng(seed))
    return loss, terms, {k: g.copy() for k, g in grads.items()}


IWAE_CASES = [dict(), dict(likelihood="gaussian", decoder_sigma=0.5, learn_decoder_sigma=True),
              dict(beta=0.6, binarize="dynamic")]


@pytest.mark.parametrize("k", [1, 5, 50])
@pytest.mark.parametrize("kw", IWAE_CASES, ids=["bernoulli", "gaussian-learned-sigma", "beta-dynamic"])
def test_iwae_gradient(k, kw):
    """The hand-written IWAE gradient, every parameter, float64; check_model holds eps fixed."""
    model = small_vae(objective="iwae", k=k, activation="tanh", **kw)
    errors = check_model(model, np.random.default_rng(2).random((5, D)))
    assert set(errors) == set(model.params)
    assert max(errors.values()) < 1e-7, errors


def test_k_sample_elbo_gradient():
    model = small_vae(objective="elbo", k=5, activation="tanh")
    assert max(check_model(model, np.random.default_rng(2).random((5, D))).values()) < 1e-7


@pytest.mark.parametrize("kw", [dict(), dict(beta=0.3, free_bits=0.05), dict(binarize="dynamic"),
                                dict(likelihood="gaussian", learn_decoder_sigma=True, decoder_sigma=0.4)])
def test_iwae_with_one_sample_is_the_elbo_step(kw):
    """k = 1: the importance-weighted step gives the ELBO step's value, terms and gradient (same eps)."""
    X = np.random.default_rng(3).random((6, D))
    elbo = step(small_vae(**kw), X, seed=4)
    iwae = step(small_vae(objective="iwae", k=1, **kw), X, seed=4)
    assert iwae[0] == pytest.approx(elbo[0], rel=1e-12, abs=1e-12)
    assert iwae[1] == pytest.approx(elbo[1], rel=1e-12, abs=1e-12)
    for name, g in elbo[2].items():
        assert rel_error(iwae[2][name], g) < 1e-12, name


def test_conv_vae_iwae_gradient_and_one_sample():
    X = np.random.default_rng(0).random((3, 1, 8, 8))

    def conv(**kw):
        return ConvVAE((1, 8, 8), channels=(2,), latent_dim=2, activation="tanh", random_state=0,
                       dtype=np.float64, **kw)

    assert max(check_model(conv(objective="iwae", k=5), X).values()) < 1e-7
    elbo, iwae = step(conv(), X, seed=1), step(conv(objective="iwae", k=1), X, seed=1)
    assert iwae[0] == pytest.approx(elbo[0], rel=1e-12)
    for name, g in elbo[2].items():
        assert rel_error(iwae[2][name], g) < 1e-12, name


def test_iwae_loss_is_the_textbook_bound_with_the_closed_form_kl_swapped_in():
    """-loss = L_k - (r_bar + KL) draw by draw, L_k = log (1/k) sum_i w_i computed independently.

    ``r_bar + KL`` (the mean over the k samples of log p(z_i) - log q(z_i | x), plus the closed-form
    KL) has expectation 0, so the training value has the expectation of the IWAE bound.
    """
    from scipy.special import logsumexp
    from scipy.stats import norm

    k, n = 7, 4
    model = small_vae(objective="iwae", k=k, activation="tanh")
    X = np.random.default_rng(5).random((n, D))
    loss, terms, _ = model.loss_and_grads(X, np.random.default_rng(6))
    rng = np.random.default_rng(6)
    out = model.encoder.forward(X)
    mu, sd = out[:, :L], np.exp(0.5 * out[:, L:])
    z = mu + sd * rng.standard_normal((k, n, L))  # (k, n, L): the step's draws
    p = expit(model.decoder.forward(z.reshape(k * n, L))).reshape(k, n, D)
    log_px = np.sum(X * np.log(p) + (1 - X) * np.log(1 - p), axis=2)  # (k, n)
    r = norm.logpdf(z).sum(2) - norm.logpdf(z, mu, sd).sum(2)  # (k, n): log p(z_i) - log q(z_i | x)
    bound = logsumexp(log_px + r, axis=0) - np.log(k)  # (n,)
    kl = gaussian_kl(mu, np.log(sd ** 2))[0]
    assert -loss == pytest.approx(np.mean(bound - r.mean(axis=0) - kl), rel=1e-12)
    assert terms["kl"] == pytest.approx(kl.mean(), rel=1e-12)


def test_iwae_weights_matter():
    """Same eps, k = 5: the IWAE and the k-sample ELBO differ (value above, gradients apart)."""
    X = np.random.default_rng(3).random((6, D))
    iwae = step(small_vae(objective="iwae", k=5), X, seed=4)
    elbo = step(small_vae(objective="elbo", k=5), X, seed=4)
    assert iwae[0] < elbo[0] - 1e-3  # log-mean-exp >= mean (Jensen): the IWAE loss is lower
    assert max(rel_error(iwae[2][k], elbo[2][k]) for k in elbo[2]) > 1e-2


def test_k_sample_elbo_is_the_mean_of_single_sample_reconstructions():
    """objective="elbo", k: reconstruction = mean over the k samples of -log p(x | z_i); KL closed form."""
    k, n = 4, 3
    model = small_vae(objective="elbo", k=k)
    X = np.random.default_rng(8).random((n, D))
    _, terms, _ = model.loss_and_grads(X, np.random.default_rng(9))
    rng = np.random.default_rng(9)
    out = model.encoder.forward(X)
    z = out[:, :L] + np.exp(0.5 * out[:, L:]) * rng.standard_normal((k, n, L))
    p = expit(model.decoder.forward(z.reshape(k * n, L)))
    bce = -(np.tile(X, (k, 1)) * np.log(p) + (1 - np.tile(X, (k, 1))) * np.log(1 - p)).sum(axis=1).mean()
    assert terms["reconstruction"] == pytest.approx(bce, rel=1e-12)


# ---------------------------------------------------------------------------- warm-up and free bits
def test_warmup_schedule_and_the_history_shows_beta_per_epoch():
    model = small_vae(beta=2.0, warmup=4)
    assert [model.beta_at(e) for e in range(6)] == [0.0, 0.5, 1.0, 1.5, 2.0, 2.0]
    assert small_vae(beta=2.0).beta_at(0) == 2.0  # no warm-up
    X = np.random.default_rng(0).random((40, D))
    model.fit(X, epochs=6, batch_size=20)
    assert model.history_["beta"] == [0.0, 0.5, 1.0, 1.5, 2.0, 2.0]
    assert model.history_["kl"][0] == 0.0  # beta = 0 in the first epoch: no KL term
    model.fit(X, epochs=1, batch_size=20)  # a second fit starts the warm-up again
    assert model.history_["beta"][-1] == 0.0


def test_the_step_uses_the_epochs_beta():
    """After start_epoch(e), the step's value and gradient are those of a model built with beta_at(e)."""
    X = np.random.default_rng(1).random((5, D))
    warm = small_vae(beta=2.0, warmup=4, objective="iwae", k=3)
    assert warm.start_epoch(1, 10) == {"beta": 0.5}
    plain = small_vae(beta=0.5, objective="iwae", k=3)
    a, b = step(warm, X, 2), step(plain, X, 2)
    assert a[0] == b[0]
    for name in a[2]:
        np.testing.assert_array_equal(a[2][name], b[2][name])


def test_warmup_run_resumes_bit_identically(tmp_path):
    X = np.random.default_rng(0).random((32, D)).astype(np.float32)
    kw = dict(batch_size=8)
    args = dict(sizes=(D, H), latent_dim=L, warmup=3, objective="iwae", k=2, binarize="dynamic")
    whole = VAE(random_state=0, **args).fit(X, epochs=4, **kw)
    half = VAE(random_state=0, **args).fit(X, epochs=2, checkpoint=tmp_path / "ck.npz", **kw)
    assert half.history_["beta"] == whole.history_["beta"][:2]
    resumed = VAE(random_state=7, **args).fit(X, epochs=4, resume=tmp_path / "ck.npz", **kw)
    assert resumed.history_["beta"] == whole.history_["beta"] == [0.0, 1 / 3, 2 / 3, 1.0]
    for name, p in whole.params.items():
        np.testing.assert_array_equal(resumed.params[name], p)


def test_free_bits_floors_each_dimension_and_stops_its_kl_gradient():
    """Dimension 0's batch-mean KL is below the floor: it counts as the floor and gets no gradient."""
    mu = np.array([[0.1, 2.0, -1.0], [-0.1, 1.0, 1.5]])  # (N=2, L=3)
    log_var = np.array([[0.05, -1.0, 0.3], [-0.05, 0.5, -0.2]])
    floor = 0.5
    kl_plain, dmu_plain, dlv_plain = gaussian_kl(mu, log_var)
    per_dim = (-0.5 * (1 + log_var - mu ** 2 - np.exp(log_var))).mean(axis=0)  # (L,)
    assert per_dim[0] < floor < per_dim[1:].min()
    kl, dmu, dlv = gaussian_kl(mu, log_var, free_bits=floor)
    assert kl.mean() == pytest.approx(np.maximum(per_dim, floor).sum(), rel=1e-12)
    np.testing.assert_array_equal(dmu[:, 0], 0.0)
    np.testing.assert_array_equal(dlv[:, 0], 0.0)
    np.testing.assert_array_equal(dmu[:, 1:], dmu_plain[:, 1:])
    np.testing.assert_array_equal(dlv[:, 1:], dlv_plain[:, 1:])
    assert kl_plain.mean() < kl.mean()


def test_free_bits_in_the_model():
    """A floor above every dimension's KL: the KL term is beta * L * floor, the gradient that of beta = 0."""
    X = np.random.default_rng(3).random((5, D))
    floored = step(small_vae(beta=1.5, free_bits=50.0), X, seed=1)
    no_kl = step(small_vae(beta=0.0), X, seed=1)
    assert floored[1]["kl"] == pytest.approx(1.5 * L * 50.0)
    for name, g in no_kl[2].items():
        np.testing.assert_array_equal(floored[2][name], g)
    # a floor between the dimensions' KLs: gradient check (away from the kink) passes
    model = small_vae(free_bits=0.02, activation="tanh")
    set_log_var(model, [0.0, -0.8, 0.6])  # dimension 0 has a small KL, the others larger
    assert max(check_model(model, X).values()) < 1e-7


# ---------------------------------------------------------------------------- sigma_x and beta
def test_sigma_x_squared_acts_like_beta():
    """SSE / (2 sigma^2) + beta KL is proportional to SSE / 2 + sigma^2 beta KL.

    So (sigma = 2, beta = 1) times 4 has the gradient of (sigma = 1, beta = 4), same eps.
    """
    X = np.random.default_rng(4).random((5, D))
    a = step(small_vae(likelihood="gaussian", decoder_sigma=2.0, beta=1.0), X, seed=3)
    b = step(small_vae(likelihood="gaussian", decoder_sigma=1.0, beta=4.0), X, seed=3)
    for name, g in b[2].items():
        np.testing.assert_allclose(4.0 * a[2][name], g, rtol=1e-12, atol=1e-15)
    # the wrong reading "sigma acts like 1/beta" would pair (sigma = 2) with beta = 1/2: not proportional
    c = step(small_vae(likelihood="gaussian", decoder_sigma=1.0, beta=0.5), X, seed=3)
    ga, gc = (np.concatenate([g.ravel() for g in grads.values()]) for grads in (a[2], c[2]))
    scale = (ga @ gc) / (ga @ ga)  # the best multiple of a's gradient is still far from c's
    assert np.linalg.norm(gc - scale * ga) > 0.05 * np.linalg.norm(gc)


# ---------------------------------------------------------------------------- binarisation
def test_binarize_draws_bernoulli_pixels():
    X = np.random.default_rng(0).random((400, 50)).astype(np.float32)
    B = binarize(X, 1)
    assert B.dtype == np.float32 and set(np.unique(B)) <= {0.0, 1.0}
    np.testing.assert_array_equal(B, binarize(X, 1))  # fixed: the same seed, the same images
    assert not np.array_equal(B, binarize(X, 2))
    # P(B = 1) = X: the mean of B - X over 20,000 pixels is 0 within 5 standard errors
    se = np.sqrt(np.sum(X * (1 - X))) / X.size
    assert abs(float((B - X).mean())) < 5 * se
    assert np.array_equal(binarize(np.array([[0.0, 1.0]]), 0), [[0.0, 1.0]])
    with pytest.raises(ValueError, match=r"X must lie in \[0, 1\]"):
        binarize(X * 2, 0)


def test_dynamic_binarization_is_the_step_on_a_fresh_draw():
    """binarize="dynamic": the step on X is the plain step on bernoulli_draw(X, rng), rng continuing."""
    X = np.random.default_rng(5).random((6, D))
    dynamic = step(small_vae(binarize="dynamic"), X, seed=8)
    rng = np.random.default_rng(8)
    Xb = bernoulli_draw(X, rng)
    plain = small_vae().loss_and_grads(Xb, rng)
    assert dynamic[0] == plain[0]
    # two batches (two epochs) see two different binary images
    assert not np.array_equal(Xb, bernoulli_draw(X, rng))
    assert max(check_model(small_vae(binarize="dynamic", activation="tanh"), X).values()) < 1e-7


# ---------------------------------------------------------------------------- active units
def test_active_units_counts_dimensions_whose_mean_varies_with_x():
    model = small_vae()
    last = model.encoder.layers[-2]  # mu = W h + b: make mu_0 vary strongly, mu_1 barely, mu_2 not at all
    last.params["W"][:L] = 0.0
    last.params["W"][0] = 5.0
    last.params["W"][1] = 1e-3
    X = np.random.default_rng(0).random((200, D))
    n_active, variances = latent.active_units(model, X)
    assert n_active == 1 and variances.shape == (L,)
    np.testing.assert_allclose(variances, model.encode(X).var(axis=0))
    assert variances[0] > 1e-2 > variances[1] > variances[2] - 1e-30
    assert latent.active_units(model, X, threshold=0.0)[0] == 2


# ---------------------------------------------------------------------------- generation, latent space
def test_sample_decode_interpolate_and_attributes():
    model = small_vae()
    x = model.sample(5, rng=3)
    assert x.shape == (5, D) and np.all((x >= 0) & (x <= 1))
    np.testing.assert_array_equal(x, model.sample(5, rng=3))
    x2, z = model.sample(5, rng=3, return_latent=True)
    np.testing.assert_allclose(x2, model.decode(z))

    X = np.random.default_rng(9).random((10, D))
    path = latent.interpolate(model, X[0], X[1], steps=4)
    assert path.shape == (4, D)
    np.testing.assert_allclose(path[[0, -1]], model.reconstruct(X[:2]), rtol=1e-12)

    labels = np.array([0, 1] * 5)
    vec = latent.attribute_vector(model, X, labels, to_label=1, from_label=0)
    mu = model.encode(X)
    np.testing.assert_allclose(vec, mu[1::2].mean(0) - mu[::2].mean(0))
    moved = latent.add_attribute(model, X[:3], vec, amounts=[0.0, 1.0])
    assert moved.shape == (2, 3, D)
    np.testing.assert_allclose(moved[0], model.reconstruct(X[:3]))
    np.testing.assert_allclose(moved[1], model.decode(mu[:3] + vec))


def test_manifold_grid_follows_the_prior_quantiles():
    model = small_vae(latent_dim=2)
    grid = latent.manifold(model, n=3, quantiles=(0.1, 0.9))
    assert grid.shape == (9, D)
    q = 1.2815515655446004  # norm.ppf(0.9)
    np.testing.assert_allclose(grid[0], model.decode(np.array([[-q, q]]))[0])  # top left
    np.testing.assert_allclose(grid[8], model.decode(np.array([[q, -q]]))[0])  # bottom right
    np.testing.assert_allclose(grid[4], model.decode(np.zeros((1, 2)))[0], atol=1e-12)


def test_fit_lowers_the_negative_elbo():
    rng = np.random.default_rng(10)
    protos = (rng.random((3, 12)) > 0.5).astype(np.float32)
    X = protos[rng.integers(0, 3, 600)]
    model = VAE(sizes=(12, 16), latent_dim=2, random_state=0)
    before = model.score(X)
    model.fit(X, epochs=15, batch_size=32)
    assert model.score(X) < 0.5 * before
    assert set(model.history_) >= {"loss", "reconstruction", "kl"}


def test_get_params_rebuilds_an_identical_model():
    model = small_vae(likelihood="gaussian", beta=2.0)
    params = model.get_params()
    assert params["likelihood"] == "gaussian"
    again = VAE(**params)
    for k, v in model.params.items():
        np.testing.assert_array_equal(v, again.params[k])


# ---------------------------------------------------------------------------- bad input
def test_bad_input_raises_clear_errors():
    model = small_vae()
    X = np.random.default_rng(0).random((4, D))
    with pytest.raises(ValueError, match=rf"X must have {D} features"):
        model.elbo(X[:, :-1])
    with pytest.raises(ValueError, match=r"\[0, 1\].*bernoulli"):
        model.check_batch(X * 2)
    with pytest.raises(ValueError, match=r"\[0, 1\].*bernoulli"):
        model.log_likelihood(X - 0.5, k=3)
    with pytest.raises(ValueError, match="k must be >= 1"):
        model.log_likelihood(X, k=0)
    with pytest.raises(TypeError, match="k must be an int"):
        model.log_likelihood(X, k=2.5)
    with pytest.raises(ValueError, match="Z must have 3 columns"):
        model.decode(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="latent_dim=2"):
        latent.manifold(model, )
    with pytest.raises(ValueError, match="x_a must be one example"):
        latent.interpolate(model, X[:2], X[2])
    with pytest.raises(ValueError, match="matches no entry"):
        latent.attribute_vector(model, X, np.zeros(4), to_label=1, from_label=0)
    with pytest.raises(ValueError, match="likelihood must be one of"):
        VAE(likelihood="poisson")
    with pytest.raises(ValueError, match="learn_decoder_sigma"):
        VAE(learn_decoder_sigma=True)
    with pytest.raises(ValueError, match="latent_dim must be >= 1"):
        VAE(latent_dim=0)
    with pytest.raises(ValueError, match="objective must be one of"):
        VAE(objective="vae")
    with pytest.raises(ValueError, match="k must be >= 1"):
        VAE(k=0)
    with pytest.raises(ValueError, match="warmup must be >= 0"):
        VAE(warmup=-1)
    with pytest.raises(ValueError, match="free_bits must be in"):
        VAE(free_bits=-0.5)
    with pytest.raises(ValueError, match="binarize must be one of"):
        VAE(binarize="fixed")
    # the Gaussian decoder takes any real values
    assert np.isfinite(small_vae(likelihood="gaussian").elbo(X * 10 - 5, rng=0))


# ---------------------------------------------------------------------------- the example
def test_example_runs_on_a_tiny_fake_mnist(tmp_path):
    """examples/vae.py end to end on 200 + 100 random 28x28 images (every digit label present)."""
    import json

    rng = np.random.default_rng(0)
    for kind, n in (("train", 200), ("t10k", 100)):
        write_mnist(tmp_path, kind, (rng.uniform(size=(n, 28, 28)) < 0.2) * 255, np.arange(n) % 10)
    module = load_example("vae")
    out = tmp_path / "out"
    m = module.main(["--data-dir", str(tmp_path), "--out", str(out), "--epochs", "2", "--hidden", "16",
                     "--latent-dim", "2", "--eval-k", "3", "--objective", "iwae", "--k", "2",
                     "--binarize", "dynamic", "--warmup", "1"])
    assert m["n_train"] == 200 and m["n_test"] == 100
    assert m["test_negative_elbo"] == pytest.approx(m["test_reconstruction"] + m["test_kl"])
    assert np.isfinite(m["test_iw_bound"]) and m["eval_k"] == 3 and m["eval_n"] == 100
    assert 0 <= m["active_units"] <= 2 and len(m["unit_activity"]) == 2
    for name in ("loss_curves.png", "reconstructions.png", "samples.png", "interpolation.png",
                 "attribute_vectors.png", "active_units.png", "manifold.png", "latent_scatter.png"):
        assert (out / name).stat().st_size > 0, name
    assert json.loads((out / "metrics.json").read_text())["latent_dim"] == 2
