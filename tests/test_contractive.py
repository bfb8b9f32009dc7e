"""Tests of the explicit Jacobian, the contractive penalty and ContractiveAutoencoder."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from profiles import examples

from npae import ContractiveAutoencoder
from npae.gradcheck import check_model, numerical_gradient, rel_error
from npae.layers import Dense, ReLU, Sequential, get_activation
from npae.optim import Adam
from npae.penalties import contractive, jacobian


def encoder(sizes, activations, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    layers = []
    for n_in, n_out, act in zip(sizes[:-1], sizes[1:], activations, strict=True):
        layers += [Dense(n_in, n_out, rng=rng, dtype=dtype), get_activation(act)]
    return Sequential(*layers)


def numerical_jacobian(enc, x):
    """Central-difference Jacobian, one output unit at a time: (N, latent, input)."""
    x = x.copy()
    latent = enc.forward(x).shape[1]
    return np.stack([numerical_gradient(lambda i=i: float(enc.forward(x)[:, i].sum()), x)
                     for i in range(latent)], axis=1)


CASES = [((7, 5), ("sigmoid",)), ((7, 5), ("tanh",)), ((7, 5), ("softplus",)),
         ((8, 6, 4), ("sigmoid", "tanh")), ((8, 6, 4), ("softplus", "sigmoid")),
         ((8, 6, 5, 3), ("tanh", "softplus", "sigmoid")), ((8, 6, 5, 3), ("sigmoid", "sigmoid", "tanh"))]


@pytest.mark.parametrize("sizes, activations", CASES)
def test_jacobian_equals_finite_differences(sizes, activations):
    enc = encoder(sizes, activations)
    x = np.random.default_rng(1).standard_normal((4, sizes[0]))
    J = jacobian(enc, x)
    assert J.shape == (4, sizes[-1], sizes[0])
    assert rel_error(J, numerical_jacobian(enc, x)) < 1e-7


@pytest.mark.parametrize("method", ["chain", "auto"])
@pytest.mark.parametrize("sizes, activations", CASES)
def test_penalty_gradient_check(sizes, activations, method):
    # "chain" is the general computation; "auto" takes the closed form for the one-layer cases.
    enc = encoder(sizes, activations, seed=2)
    x = np.random.default_rng(3).standard_normal((5, sizes[0]))
    value, grads = contractive(enc, x, method=method)
    J = jacobian(enc, x)
    assert value == pytest.approx(np.mean(np.sum(J ** 2, axis=(1, 2))), rel=1e-12)
    assert set(grads) == set(enc.params)
    for name, p in enc.params.items():
        numeric = numerical_gradient(lambda: contractive(enc, x, method=method)[0], p)
        assert grads[name].shape == p.shape
        assert rel_error(grads[name], numeric) < 1e-7, name


@pytest.mark.parametrize("method", ["chain", "closed_form"])
def test_one_sigmoid_layer_matches_rifai_closed_form(method):
    # Rifai et al. 2011 (sigmoid encoder): ||J_f(x)||_F^2 = sum_i (h_i (1 - h_i))^2 sum_j W_ij^2, written out
    # here with NumPy; both the general chain-rule path and the library's closed form must agree.
    enc = encoder((9, 6), ("sigmoid",), seed=4)
    W, b = enc.params["0.W"], enc.params["0.b"]
    b[:] = np.random.default_rng(5).standard_normal(6)
    x = np.random.default_rng(6).standard_normal((10, 9))
    h = 1 / (1 + np.exp(-(x @ W.T + b)))
    closed = np.mean(np.sum((h * (1 - h)) ** 2 * np.sum(W ** 2, axis=1), axis=1))
    value, grads = contractive(enc, x, method=method)
    assert value == pytest.approx(closed, rel=1e-12)
    # closed-form gradient: dW_ij = (1/N) sum_n [2 s_ni^2 W_ij + 2 s_ni^2 (1 - 2 h_ni) w_i x_nj]
    s = h * (1 - h)  # (N, J)
    w = np.sum(W ** 2, axis=1)  # (J,)
    r = 2 * s ** 2 * (1 - 2 * h) * w / len(x)  # (N, J): dOmega/da
    dW = 2 * np.mean(s ** 2, axis=0)[:, None] * W + r.T @ x
    np.testing.assert_allclose(grads["0.W"], dW, rtol=1e-10)
    np.testing.assert_allclose(grads["0.b"], r.sum(axis=0), rtol=1e-10)


def test_linear_encoder_penalty_is_weight_norm():
    # Identity activations: J = W_2 W_1 for every example, and Omega = ||W_2 W_1||_F^2.
    enc = encoder((6, 5, 3), ("identity", "identity"))
    x = np.random.default_rng(0).standard_normal((4, 6))
    value, _ = contractive(enc, x)
    M = enc.params["2.W"] @ enc.params["0.W"]
    assert value == pytest.approx(np.sum(M ** 2), rel=1e-12)


@examples(10)
@given(st.integers(1, 6), st.integers(0, 1000))
def test_penalty_is_mean_over_batch(n, seed):
    enc = encoder((5, 4, 2), ("tanh", "sigmoid"), seed=seed)
    x = np.random.default_rng(seed).standard_normal((n, 5))
    per_example = [contractive(enc, x[i:i + 1])[0] for i in range(n)]
    assert contractive(enc, x)[0] == pytest.approx(np.mean(per_example), rel=1e-12)


def test_float32_runs_in_float32():
    enc = encoder((6, 3), ("sigmoid",), dtype=np.float32)
    value, grads = contractive(enc, np.ones((2, 6), dtype=np.float32))
    assert all(g.dtype == np.float32 for g in grads.values())
    assert np.isfinite(value)


@pytest.mark.parametrize("method", ["chain", "auto"])
def test_gradient_checker_catches_a_missing_second_derivative_term(monkeypatch, method):
    # Dropping the f'' term (a classic mistake) must give a large error: the test can fail.
    from npae.layers import Sigmoid
    enc = encoder((6, 4), ("sigmoid",))
    x = np.random.default_rng(0).standard_normal((3, 6))
    monkeypatch.setattr(Sigmoid, "second_derivative", staticmethod(lambda x, y: np.zeros_like(x)))
    _, grads = contractive(enc, x, method=method)
    monkeypatch.undo()
    numeric = numerical_gradient(lambda: contractive(enc, x, method=method)[0], enc.params["0.W"])
    assert rel_error(grads["0.W"], numeric) > 1e-3


@pytest.mark.parametrize("sizes", [(10, 5), (10, 6, 4)])  # closed-form and chain-rule penalty
@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "softplus"])
def test_whole_loss_gradient(activation, sizes):
    model = ContractiveAutoencoder(sizes, activation=activation, lam=0.5, weight_decay=0.01,
                                   random_state=0, dtype=np.float64)
    X = np.random.default_rng(1).random((6, 10))
    errors = check_model(model, X)
    assert set(errors) == set(model.params)
    assert max(errors.values()) < 1e-7, errors


def test_whole_loss_terms_and_lam_zero():
    X = np.random.default_rng(1).random((6, 10))
    model = ContractiveAutoencoder((10, 4), lam=2.0, random_state=0, dtype=np.float64)
    loss, terms, _ = model.loss_and_grads(X)
    assert terms["contractive"] == pytest.approx(2.0 * contractive(model.encoder, X)[0], rel=1e-12)
    assert loss == pytest.approx(terms["reconstruction"] + terms["contractive"], rel=1e-12)
    plain = ContractiveAutoencoder((10, 4), lam=0.0, random_state=0, dtype=np.float64)
    assert set(plain.loss_and_grads(X)[1]) == {"reconstruction"}


def test_training_contracts_the_encoder():
    # Same seed and data, lam = 0 vs lam = 0.1: the penalised encoder ends with a much smaller
    # Jacobian (measured: about 1.6 vs 0.002 with this seed; the test asks for a factor 10).
    X = np.random.default_rng(0).random((128, 20)).astype(np.float32)
    norms = {}
    for lam in (0.0, 0.1):
        m = ContractiveAutoencoder((20, 8), lam=lam, random_state=0)
        m.fit(X, epochs=20, batch_size=32, optimizer=Adam(lr=1e-2))
        norms[lam] = contractive(m.encoder, X)[0]
    assert norms[0.1] < 0.1 * norms[0.0], norms


def test_bad_arguments():
    enc = encoder((5, 3), ("sigmoid",))
    with pytest.raises(ValueError, match="x must have shape"):
        contractive(enc, np.zeros((2, 4)))
    with pytest.raises(TypeError, match="encoder"):
        jacobian(Dense(5, 3), np.zeros((2, 5)))
    with pytest.raises(TypeError, match="Dense or an element-wise"):
        jacobian(Sequential(Dense(5, 3), ReLU(), Sequential(Dense(3, 2))), np.zeros((2, 5)))
    with pytest.raises(ValueError, match="closed_form"):
        contractive(encoder((5, 4, 3), ("tanh", "tanh")), np.zeros((2, 5)), method="closed_form")
    with pytest.raises(ValueError, match="method"):
        contractive(enc, np.zeros((2, 5)), method="exact")
    with pytest.raises(ValueError, match="lam"):
        ContractiveAutoencoder((5, 3), lam=-1.0)


def test_lam_is_the_notes_lambda_divided_by_the_input_size():
    """Rifai et al.'s objective sums the reconstruction error over the D inputs and adds
    lambda ||J||_F^2; npae's loss="bce" is a per-element mean. With lam = lambda / D npae's objective
    and its gradient are the notes' divided by D (docs/18-what-the-notes-claim.md, the naming map)."""
    from npae.losses import bce
    from npae.penalties import jacobian as explicit_jacobian

    D, lam_notes = 12, 0.3
    X = np.random.default_rng(0).uniform(0.05, 0.95, size=(5, D))
    npae_model = ContractiveAutoencoder((D, 4), lam=lam_notes / D, loss="bce", random_state=1,
                                        dtype=np.float64)
    loss, _, grads = npae_model.loss_and_grads(X)
    grads = {k: v.copy() for k, v in grads.items()}

    def summed_bce(pred, target):  # the notes' error: summed over the D inputs, averaged over the examples
        value, dpred = bce(pred, target, reduction="sum")
        return value / len(pred), dpred / len(pred)

    notes_model = ContractiveAutoencoder((D, 4), lam=lam_notes, loss=summed_bce, random_state=1,
                                         dtype=np.float64)
    notes_loss, _, notes_grads = notes_model.loss_and_grads(X)
    # the notes' objective written out: (1/N) sum_n [sum_i BCE_ni + lambda ||J_n||_F^2]
    p = notes_model.reconstruct(X)
    per_example = -np.sum(X * np.log(p) + (1 - X) * np.log1p(-p), axis=1)
    J = explicit_jacobian(notes_model.encoder, X)  # (N, 4, D)
    notes_objective = np.mean(per_example + lam_notes * np.sum(J ** 2, axis=(1, 2)))
    assert notes_loss == pytest.approx(notes_objective, rel=1e-10)
    assert D * loss == pytest.approx(notes_loss, rel=1e-10)
    assert set(grads) == set(notes_grads)
    for key in grads:
        assert rel_error(D * grads[key], notes_grads[key]) < 1e-9, key
