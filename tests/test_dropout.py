"""Dropout: the gradient with the step's generator, the expected value, eval mode, and Sequential's rng.

The layer is ``npae/layers/dropout.py``; the derivation is in
``docs/01-dense-and-activations.md`` (Dropout).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from profiles import examples

from npae import Autoencoder
from npae.gradcheck import assert_gradients, check_layer, check_model
from npae.layers import Dense, Dropout, LayerNorm, ReLU, Sequential, Tanh


# ---------------------------------------------------------------- gradient checks (float64)
@examples(15)
@given(rate=st.floats(0.0, 0.9), seed=st.integers(0, 2**16),
       shape=st.sampled_from([(4, 6), (3, 2, 5), (2, 3, 4, 4)]))
def test_dropout_gradient(rate, seed, shape):
    rng = np.random.default_rng(seed)
    errors = check_layer(Dropout(rate), rng.standard_normal(shape), rng, rng_seed=seed)
    assert_gradients(errors)


def test_dropout_gradient_inside_a_sequential_gets_the_check_generator():
    # check_layer sees Sequential.stochastic and passes its generator down to the Dropout
    rng = np.random.default_rng(0)
    net = Sequential(Dense(5, 8, rng=rng, dtype=np.float64), Tanh(), Dropout(0.5),
                     Dense(8, 3, rng=rng, dtype=np.float64))
    errors = check_layer(net, rng.standard_normal((6, 5)), rng, rng_seed=7)
    assert_gradients(errors)
    mask = net[2]._mask
    assert 0 < np.count_nonzero(mask) < mask.size  # the check ran with a real mask


def test_dropout_backward_uses_the_forward_mask():
    rng = np.random.default_rng(1)
    layer = Dropout(0.3)
    x = rng.standard_normal((50, 40))
    y = layer.forward(x, rng)
    mask = layer._mask
    np.testing.assert_array_equal(np.unique(mask), [0.0, 1 / 0.7])  # dropped, or kept and scaled
    np.testing.assert_array_equal(y, x * mask)
    dy = rng.standard_normal(x.shape)
    np.testing.assert_array_equal(layer.backward(dy), dy * mask)


# ---------------------------------------------------------------- forward values
@pytest.mark.parametrize("rate", [0.1, 0.5, 0.9])
def test_dropout_keeps_the_expected_value(rate):
    """E[mask] = 1, so mean(y) estimates mean(x); Var(y_i) = x_i^2 rate / (1 - rate).

    The tolerance is five standard deviations of ``mean(y) - mean(x)`` over n entries,
    ``sqrt(sum(x^2) rate / (1 - rate)) / n`` (a seeded draw, so the test is deterministic).
    """
    rng = np.random.default_rng(2)
    x = rng.uniform(0.5, 1.5, (1000, 100))
    y = Dropout(rate).forward(x, rng)
    sd = np.sqrt(np.sum(x ** 2) * rate / (1 - rate)) / x.size
    assert abs(y.mean() - x.mean()) < 5 * sd
    dropped = np.mean(y == 0)
    assert abs(dropped - rate) < 5 * np.sqrt(rate * (1 - rate) / x.size)


def test_rate_zero_is_the_identity_in_training():
    x = np.random.default_rng(3).standard_normal((20, 7))
    np.testing.assert_array_equal(Dropout(0.0).forward(x), x)


def test_eval_mode_is_the_identity_and_draws_nothing():
    rng = np.random.default_rng(4)
    layer = Dropout(0.5, rng=np.random.default_rng(5)).eval()
    x = rng.standard_normal((8, 3))
    state, own_state = rng.bit_generator.state, layer.rng.bit_generator.state
    assert layer.forward(x, rng) is x
    assert layer.forward(x) is x
    assert rng.bit_generator.state == state and layer.rng.bit_generator.state == own_state
    dy = rng.standard_normal(x.shape)
    np.testing.assert_array_equal(layer.backward(dy), dy)
    layer.train()  # back in training mode it drops again
    assert np.any(layer.forward(x, rng) == 0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dropout_keeps_dtype(dtype):
    x = np.ones((4, 5), dtype=dtype)
    layer = Dropout(0.25)
    assert layer.forward(x).dtype == dtype
    assert layer.backward(np.ones_like(x)).dtype == dtype


def test_without_rng_the_layer_draws_from_its_own_generator():
    x = np.ones((10, 10))
    a, b = Dropout(0.5, rng=np.random.default_rng(6)), Dropout(0.5, rng=np.random.default_rng(6))
    first = a.forward(x)
    np.testing.assert_array_equal(first, b.forward(x))  # same seed, same mask
    assert not np.array_equal(first, a.forward(x))  # the own generator advances


# ---------------------------------------------------------------- Sequential passes the step's rng
def _net(seed: int = 0) -> Sequential:
    rng = np.random.default_rng(seed)
    return Sequential(Dense(6, 32, rng=rng), ReLU(), Dropout(0.5), Dense(32, 4, rng=rng))


def test_sequential_is_stochastic_when_any_layer_is():
    assert _net().stochastic
    assert not Sequential(Dense(3, 2), ReLU()).stochastic
    assert Sequential(Dense(3, 2), Sequential(ReLU(), Dropout(0.1))).stochastic  # nested
    assert not Sequential(LayerNorm(3)).stochastic


def test_sequential_same_seed_same_output_other_seed_other_mask():
    net = _net()
    x = np.random.default_rng(1).standard_normal((16, 6)).astype(np.float32)
    a = net.forward(x, np.random.default_rng(10))
    mask_a = net[2]._mask.copy()
    b = net.forward(x, np.random.default_rng(10))
    np.testing.assert_array_equal(a, b)
    net.forward(x, np.random.default_rng(11))
    assert not np.array_equal(mask_a, net[2]._mask)


def test_sequential_passes_rng_only_to_stochastic_layers():
    # Dense.forward takes no rng: a Sequential that passed it to every layer would raise TypeError.
    net = Sequential(Dense(4, 4), Sequential(Tanh(), Dropout(0.5)))
    x = np.ones((3, 4), dtype=np.float32)
    np.testing.assert_array_equal(net.forward(x, np.random.default_rng(0)),
                                  net.forward(x, np.random.default_rng(0)))


def test_sequential_eval_turns_dropout_off():
    net = _net()
    x = np.random.default_rng(2).standard_normal((5, 6)).astype(np.float32)
    net.eval()
    a = net.forward(x, np.random.default_rng(0))
    b = net.forward(x, np.random.default_rng(1))
    np.testing.assert_array_equal(a, b)
    assert not net[2].training
    net.train()
    assert net[2].training


def test_a_model_with_dropout_in_its_encoder_passes_check_model():
    model = Autoencoder((8, 6, 3), activation="tanh", random_state=0, dtype=np.float64)
    dense, act, *rest = model.encoder.layers
    model.encoder = Sequential(dense, act, Dropout(0.3, rng=np.random.default_rng(0)), *rest)
    assert_gradients(check_model(model, np.random.default_rng(1).random((5, 8))))


# ---------------------------------------------------------------- the constructor checks its arguments
@pytest.mark.parametrize("rate", [1.0, -0.1, 1.5, float("nan"), "0.5", None, True])
def test_dropout_bad_rate(rate):
    with pytest.raises((ValueError, TypeError), match=r"\brate\b"):
        Dropout(rate)


def test_dropout_bad_rng():
    with pytest.raises(TypeError, match=r"\brng\b"):
        Dropout(0.5, rng="seed")
