"""The plain functions behind the sgd_momentum, adam and tied_weights exercises are the ones npae
calls: SGD.step, Adam.step and TiedDense.backward go through them (so a learner's function put in
their place by ``substituted`` changes training), and the refactor kept the optimisers' semantics."""

from __future__ import annotations

import numpy as np
import pytest

from npae.exercises import substituted
from npae.layers import Dense, TiedDense
from npae.layers.tied import tied_dense_backward
from npae.optim import SGD, Adam, adam_update, sgd_momentum_update


def _spy(fn, calls: list):
    def wrapped(*args):
        calls.append(args)
        return fn(*args)
    return wrapped


@pytest.mark.parametrize(("make", "name", "fn", "n_calls"),
                         [(lambda: SGD(0.1, momentum=0.9), "sgd_momentum_update", sgd_momentum_update, 2),
                          (lambda: SGD(0.1, momentum=0.9, nesterov=True), "sgd_momentum_update",
                           sgd_momentum_update, 0),
                          (lambda: Adam(0.01), "adam_update", adam_update, 2)],
                         ids=["sgd-momentum", "sgd-nesterov", "adam"])
def test_step_calls_the_plain_function(make, name, fn, n_calls):
    opt = make()
    rng = np.random.default_rng(0)
    params = {"W": rng.normal(size=(3, 2)).astype(np.float32), "b": np.zeros(3, np.float32)}
    live = dict(params)
    calls: list = []
    with substituted({("npae.optim", name): _spy(fn, calls)}):
        opt.step(params, {k: rng.normal(size=p.shape).astype(np.float32) for k, p in params.items()})
    assert len(calls) == n_calls  # Nesterov's step is not the exercise's: it stays inline
    assert all(params[k] is live[k] and params[k].dtype == np.float32 for k in params)  # in place


def test_a_learners_update_changes_training():
    params = {"w": np.ones(4)}
    def minus_one(p, g, m, v, *rest):  # updates p in place, as npae's adam_update does
        return np.subtract(p, 1.0, out=p), m, v

    with substituted({("npae.optim", "adam_update"): minus_one}):
        Adam(1e-3).step(params, {"w": np.ones(4)})
    np.testing.assert_array_equal(params["w"], 0.0)


def test_sgd_first_buffer_is_a_copy_of_the_gradient():
    g = np.array([1.0, -2.0, 3.0])
    params = {"w": np.zeros(3)}
    opt = SGD(0.5, momentum=0.9)
    opt.step(params, {"w": g})
    v = opt.state["w"]["v"]
    np.testing.assert_array_equal(v, g)  # v_0 = 0, so v_1 = g
    g[0] = 100.0  # the caller reuses its gradient array: the state must not change with it
    assert v[0] == 1.0
    np.testing.assert_array_equal(params["w"], -0.5 * np.array([1.0, -2.0, 3.0]))


def test_the_plain_functions_by_hand():
    p, v = np.array([1.0]), np.array([3.0])
    p_new, v_new = sgd_momentum_update(p, np.array([2.0]), v, 0.1, 0.5)
    np.testing.assert_allclose(v_new, [3.5])
    np.testing.assert_allclose(p_new, [1.0 - 0.35])
    assert p_new is p and v_new is not v and v[0] == 3.0  # p in place (the live array, no copy); v new
    # Adam's first step: m_hat = g, v_hat = g^2, so the step is lr g / (|g| + eps)
    p = np.zeros(2)
    p_new, m_new, v_new = adam_update(p, np.array([1e-3, -5.0]), np.zeros(2), np.zeros(2), 1,
                                      0.01, 0.9, 0.999, 1e-8)
    assert p_new is p
    np.testing.assert_allclose(p_new, -0.01 * np.array([1e-3, -5.0]) / (np.array([1e-3, 5.0]) + 1e-8))
    np.testing.assert_allclose(m_new, [1e-4, -0.5])
    np.testing.assert_allclose(v_new, [1e-9, 0.025])


def test_tied_dense_backward_is_what_the_layer_uses():
    rng = np.random.default_rng(0)
    layer = TiedDense(Dense(5, 3, rng=rng, dtype=np.float64))
    x, dy = rng.normal(size=(4, 3)), rng.normal(size=(4, 5))
    layer.forward(x)
    calls: list = []
    with substituted({("npae.layers.tied", "tied_dense_backward"): _spy(tied_dense_backward, calls)}):
        dx = layer.backward(dy)
    assert len(calls) == 1
    W = layer.tied_to.params["W"]  # (3, 5)
    np.testing.assert_allclose(dx, dy @ W.T)
    np.testing.assert_allclose(layer.shared_grad, x.T @ dy)  # (3, 5), W's layout: dW_dec^T
    np.testing.assert_allclose(layer.grads["b"], dy.sum(axis=0))
