"""A loss a learner can add: Huber built in, the registry, a callable, the public conventions.

See ``docs/14-extending.md`` (Write a loss) and ``docs/02-losses.md`` (Huber).
"""

from __future__ import annotations

import numpy as np
import pytest

import npae
from npae import Autoencoder
from npae.gradcheck import TOL, assert_gradients, check_function, check_model, randomize_params
from npae.losses import (
    LOSSES,
    RECONSTRUCTION_LOSSES,
    check_pair,
    checked_by,
    get_loss,
    huber,
    mse,
    reduction_scale,
    register_loss,
    sum64,
)


def _both_branches(delta, seed=0):
    rng = np.random.default_rng(seed)
    target = rng.standard_normal((6, 5))
    u = rng.uniform(0.1, 3 * delta, (6, 5)) * rng.choice([-1, 1], (6, 5))
    u[np.abs(np.abs(u) - delta) < 0.05 * delta] *= 1.2  # no residual within the step of the kink
    return target + u, target


@pytest.mark.parametrize("delta", [0.3, 1.0, 2.5])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_huber_gradient_on_both_branches(delta, reduction):
    pred, target = _both_branches(delta)
    u = pred - target
    assert (np.abs(u) < delta).any() and (np.abs(u) > delta).any()  # both branches exercised
    assert check_function(huber, pred, target, delta=delta, reduction=reduction) < TOL


def test_huber_values_match_its_two_branches():
    value, grad = huber(np.array([0.5, -3.0]), np.zeros(2), delta=1.0, reduction="sum")
    assert value == 0.5 * 0.25 + 1.0 * (3.0 - 0.5)
    np.testing.assert_array_equal(grad, [0.5, -1.0])
    with pytest.raises(ValueError, match="delta"):
        huber(np.ones(2), np.ones(2), delta=0.0)


def test_a_huber_that_forgets_the_linear_branch_passes_only_when_no_residual_reaches_it():
    def wrong(pred, target, delta=1.0, reduction="mean"):
        s = reduction_scale(pred, reduction)
        return huber.math(pred, target, delta, reduction)[0], s * (pred - target)  # quadratic's gradient

    rng = np.random.default_rng(0)
    small = rng.uniform(-0.5, 0.5, (4, 3))
    assert check_function(wrong, small, np.zeros((4, 3)), delta=1.0) < TOL  # no |u| > delta: hidden
    pred, target = _both_branches(1.0)
    assert check_function(wrong, pred, target, delta=1.0) > 1e-3  # both branches: found


def test_a_model_trains_and_scores_with_huber():
    X = np.random.default_rng(0).random((32, 6))
    model = Autoencoder((6, 3), activation="tanh", loss="huber", random_state=0)
    model.fit(X, epochs=1, batch_size=8)
    out = model._batched(model.decoder, model._batched(model.encoder, model._check_X(X)))
    assert model.score(X) == huber(out, model._check_X(X))[0]


@checked_by(check_pair())
def log_cosh(pred, target, reduction: str = "mean"):
    """``L = s sum log(cosh(u))``, ``dL/dpred = s tanh(u)``, ``u = pred - target``."""
    s = reduction_scale(pred, reduction)
    u = pred - target
    return sum64(np.logaddexp(u, -u) - np.log(2.0)) * s, s * np.tanh(u)


@pytest.fixture
def registered():
    register_loss("log_cosh_test", log_cosh)
    yield "log_cosh_test"
    RECONSTRUCTION_LOSSES.pop("log_cosh_test")
    LOSSES.pop("log_cosh_test")


def test_a_registered_loss_trains_scores_saves_and_loads(registered, tmp_path):
    X = np.random.default_rng(0).random((32, 6))
    assert get_loss(registered) is log_cosh.math
    model = Autoencoder((6, 3), activation="tanh", loss=registered, random_state=0, dtype=np.float64)
    randomize_params(model.params, 0)
    assert_gradients(check_model(model, X[:5]))
    model.fit(X, epochs=1, batch_size=8)
    R = model.reconstruct(X)
    assert model.score(X) == log_cosh(R, X)[0]  # score uses the model's own loss, not MSE
    assert model.score(X) != mse(R, X)[0]
    model.save(tmp_path / "m.npz")
    again = npae.load(tmp_path / "m.npz")
    assert again.loss == registered and again.score(X) == model.score(X)


def test_a_callable_loss_is_used_by_the_step_and_by_score():
    X = np.random.default_rng(0).random((16, 6))
    model = Autoencoder((6, 3), activation="tanh", loss=log_cosh, random_state=0)
    value, terms, _ = model.loss_and_grads(model.check_batch(X))
    R = model.reconstruct(X)
    assert model.score(X) == log_cosh(R, X)[0]
    assert terms["reconstruction"] == value


def test_register_loss_refuses_a_name_taken_and_get_loss_lists_the_names():
    with pytest.raises(ValueError, match="already a registered loss"):
        register_loss("mse", log_cosh)
    with pytest.raises(ValueError, match=r"loss must be one of \[.*'huber'"):
        Autoencoder((6, 3), loss="no-such-loss")
    with pytest.raises(TypeError, match="callable"):
        register_loss("x", 3)
