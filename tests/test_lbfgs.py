"""npae.optim.lbfgs: full-batch L-BFGS through SciPy, checked against closed forms."""

import numpy as np
import pytest

import npae
from npae.optim import lbfgs


def anisotropic_data(n=300, d=6, seed=0):
    """Gaussian data with distinct variances along random directions, non-zero mean."""
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    scales = np.array([3.0, 2.0, 1.0, 0.5, 0.3, 0.1])[:d]
    return rng.standard_normal((n, d)) * scales @ Q.T + rng.standard_normal(d)


def test_linear_autoencoder_reaches_pca_error():
    # A linear autoencoder with biases and MSE loss has the PCA subspace as its optimum:
    # the minimal loss is the sum of the discarded eigenvalues of the covariance over D.
    X = anisotropic_data()
    n, d = X.shape
    k = 2
    eig = np.linalg.eigvalsh(np.cov(X.T, bias=True))  # ascending
    closed_form = eig[: d - k].sum() / d
    model = npae.Autoencoder(sizes=(d, k), activation="identity", output_activation="identity", loss="mse",
                             random_state=0, dtype=np.float64)
    history = lbfgs(model, X, max_iter=500, tol=1e-12)
    assert history["loss"][-1] == pytest.approx(closed_form, rel=1e-6)
    assert model.score(X) == pytest.approx(closed_form, rel=1e-6)


def test_converges_to_a_stationary_point_with_weight_decay():
    # No simple closed form here: check the optimality condition instead (gradient ~ 0).
    X = anisotropic_data(n=100, d=4, seed=1)
    model = npae.Autoencoder(sizes=(4, 2), activation="identity", output_activation="identity", loss="mse",
                             weight_decay=0.05, random_state=1, dtype=np.float64)
    history = lbfgs(model, X, max_iter=1000, tol=1e-12)
    _, _, grads = model.loss_and_grads(X)
    assert max(np.abs(g).max() for g in grads.values()) < 1e-6
    # With weight decay the code shrinks: the loss is above the PCA error but below the
    # starting point.
    eig = np.linalg.eigvalsh(np.cov(X.T, bias=True))
    assert eig[:2].sum() / 4 < history["reconstruction"][-1] < history["reconstruction"][0]


def test_writes_into_live_params_and_history_decreases():
    X = np.random.default_rng(2).uniform(0.1, 0.9, (40, 9))
    model = npae.SparseAutoencoder(sizes=(9, 4), random_state=0, dtype=np.float64)
    live = model.params
    ids = {k: id(v) for k, v in live.items()}
    before = {k: v.copy() for k, v in live.items()}
    history = lbfgs(model, X, max_iter=30)
    assert {k: id(v) for k, v in model.params.items()} == ids  # the same arrays, updated in place
    assert any(not np.array_equal(before[k], live[k]) for k in live)
    loss = np.array(history["loss"])
    assert len(loss) == history["n_iter"] + 1
    assert np.all(np.diff(loss) <= 1e-12)  # every accepted L-BFGS step decreases J
    assert loss[-1] == pytest.approx(model.loss_and_grads(X)[0], rel=1e-12)  # final weights are in place
    assert set(history) >= {"reconstruction", "sparsity", "weight_decay", "n_evals", "success", "message"}


def test_float32_model_trains():
    X = np.random.default_rng(3).uniform(0.1, 0.9, (40, 9)).astype(np.float32)
    model = npae.SparseAutoencoder(sizes=(9, 4), random_state=0)
    history = lbfgs(model, X, max_iter=20)
    assert model.params["encoder.0.W"].dtype == np.float32
    assert history["loss"][-1] < 0.5 * history["loss"][0]


def test_callback_and_early_stop():
    X = anisotropic_data(n=50, d=6)
    model = npae.Autoencoder(sizes=(6, 2), activation="identity", output_activation="identity",
                             random_state=0, dtype=np.float64)
    seen = []

    def callback(iteration, loss, terms):
        seen.append((iteration, loss, set(terms)))
        return iteration >= 3

    history = lbfgs(model, X, max_iter=100, callback=callback)
    assert [s[0] for s in seen] == [1, 2, 3]
    assert seen[-1][1] == history["loss"][-1] and seen[0][2] == {"reconstruction"}
    assert history["n_iter"] == 3


def test_divergence_restores_last_accepted_weights(monkeypatch):
    X = np.random.default_rng(4).uniform(0.1, 0.9, (20, 9))
    model = npae.SparseAutoencoder(sizes=(9, 4), random_state=0, dtype=np.float64)
    real = model.loss_and_grads
    calls = {"n": 0, "accepted": None}

    def flaky(X, rng=None):
        calls["n"] += 1
        loss, terms, grads = real(X, rng)
        if calls["n"] > 8:
            terms = {**terms, "sparsity": float("nan")}
            return float("nan"), terms, grads
        return loss, terms, grads

    def remember(iteration, loss, terms):
        calls["accepted"] = {k: v.copy() for k, v in model.params.items()}

    monkeypatch.setattr(model, "loss_and_grads", flaky)
    with pytest.raises(FloatingPointError, match="sparsity"):
        lbfgs(model, X, max_iter=50, callback=remember)
    assert calls["accepted"] is not None
    for k, v in model.params.items():
        np.testing.assert_array_equal(v, calls["accepted"][k])


def test_frozen_noise_makes_objective_deterministic():
    # A model whose loss draws random numbers: the same seed is used at every evaluation.
    class Noisy(npae.Autoencoder):
        def _forward_backward(self, X, rng):
            return super()._forward_backward(X + 0.1 * rng.standard_normal(X.shape), rng)

    X = anisotropic_data(n=30, d=6)
    model = Noisy(sizes=(6, 2), activation="identity", output_activation="identity", random_state=0,
                  dtype=np.float64)
    history = lbfgs(model, X, max_iter=40, random_state=7)
    assert np.all(np.diff(history["loss"]) <= 1e-12)  # a consistent objective: monotone descent
    # The frozen noise is the stream of a generator seeded with one draw from random_state.
    seed = int(np.random.default_rng(7).integers(2**63))
    frozen = model.loss_and_grads(X, np.random.default_rng(seed))[0]
    assert frozen == history["loss"][-1]
    assert model.loss_and_grads(X, np.random.default_rng(seed + 1))[0] != frozen


def test_bad_arguments():
    model = npae.Autoencoder(sizes=(6, 2), dtype=np.float64, random_state=0)
    X = np.random.default_rng(0).uniform(size=(10, 6))
    with pytest.raises(ValueError, match="max_iter must be >= 1"):
        lbfgs(model, X, max_iter=0)
    with pytest.raises(TypeError, match="max_iter must be an int"):
        lbfgs(model, X, max_iter=2.5)
    with pytest.raises(ValueError, match="tol"):
        lbfgs(model, X, tol=-1.0)
    with pytest.raises(TypeError, match="callback"):
        lbfgs(model, X, callback="print")
    with pytest.raises(ValueError, match="6 features"):
        lbfgs(model, X[:, :5])
    with pytest.raises(ValueError, match="finite"):
        lbfgs(model, np.full((4, 6), np.nan))
