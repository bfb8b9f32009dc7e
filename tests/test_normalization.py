"""LayerNorm: gradients (input and parameters, gamma and beta randomised), forward values, shapes.

The layer is ``npae/layers/normalization.py``; the derivation is in
``docs/01-dense-and-activations.md`` (LayerNorm).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from profiles import examples

from npae.gradcheck import assert_gradients, check_layer
from npae.layers import BatchNorm1d, BatchNorm2d, Dense, LayerNorm, Sequential, Tanh


def randomised(D: int, rng: np.random.Generator, **kwargs) -> LayerNorm:
    """A float64 LayerNorm with gamma and beta moved off their starting values (1 and 0).

    At gamma = 1 a backward that forgets the factor gamma is right by accident
    (``docs/05-gradient-checking.md``), so every check below randomises first.
    """
    layer = LayerNorm(D, dtype=np.float64, **kwargs)
    layer.params["gamma"][:] = rng.uniform(0.5, 2.0, D) * rng.choice([-1, 1], D)
    layer.params["beta"][:] = rng.standard_normal(D)
    return layer


# ---------------------------------------------------------------- gradient checks (float64)
@examples(15)
@given(shape=st.sampled_from([(4, 6), (1, 3), (3, 2, 5), (2, 3, 2, 4)]), seed=st.integers(0, 2**16),
       scale=st.sampled_from([0.1, 1.0, 30.0]))
def test_layernorm_gradient(shape, seed, scale):
    rng = np.random.default_rng(seed)
    x = scale * rng.standard_normal(shape) + rng.standard_normal()  # rows off-centre, of any spread
    assert_gradients(check_layer(randomised(shape[-1], rng), x, rng))


def test_layernorm_gradient_in_a_network():
    rng = np.random.default_rng(0)
    net = Sequential(Dense(5, 7, rng=rng, dtype=np.float64), randomised(7, rng), Tanh(),
                     Dense(7, 2, rng=rng, dtype=np.float64))
    assert_gradients(check_layer(net, rng.standard_normal((4, 5)), rng))


def test_dx_is_orthogonal_to_a_shift_of_the_row():
    # y does not change when a constant is added to a row, so sum_j dx_j = 0 for every row
    rng = np.random.default_rng(1)
    layer = randomised(8, rng)
    x = rng.standard_normal((5, 8)) + 3.0
    layer.forward(x)
    dx = layer.backward(rng.standard_normal((5, 8)))
    np.testing.assert_allclose(dx.sum(axis=-1), 0.0, atol=1e-12)


# ---------------------------------------------------------------- forward values
def test_rows_have_mean_0_and_variance_1_at_gamma_1_beta_0():
    """Every row of ``y`` has mean 0 and variance ``var / (var + eps)``: 1 within 1e-4 for unit-scale rows."""
    rng = np.random.default_rng(2)
    x = rng.uniform(-3, 7, (10, 50)) * rng.uniform(0.5, 3, (10, 1))
    y = LayerNorm(50, dtype=np.float64).forward(x)
    np.testing.assert_allclose(y.mean(axis=-1), 0.0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=-1), 1.0, rtol=1e-4)
    np.testing.assert_allclose(y.var(axis=-1), x.var(axis=-1) / (x.var(axis=-1) + 1e-5), rtol=1e-12)


def test_forward_matches_the_textbook_formula_on_any_leading_axes():
    rng = np.random.default_rng(3)
    layer = randomised(4, rng, eps=1e-3)
    x = rng.standard_normal((2, 3, 4))
    expected = (x - x.mean(-1, keepdims=True)) / np.sqrt(x.var(-1, keepdims=True) + 1e-3)
    expected = expected * layer.params["gamma"] + layer.params["beta"]
    np.testing.assert_allclose(layer.forward(x), expected, rtol=1e-12)


def test_a_constant_row_gives_beta():
    layer = randomised(3, np.random.default_rng(4))
    y = layer.forward(np.full((2, 3), 5.0))
    np.testing.assert_array_equal(y, np.broadcast_to(layer.params["beta"], (2, 3)))


def test_training_and_eval_compute_the_same():
    rng = np.random.default_rng(5)
    layer = randomised(6, rng)
    x = rng.standard_normal((3, 6))
    np.testing.assert_array_equal(layer.forward(x), layer.eval().forward(x))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_layernorm_dtype(dtype):
    layer = LayerNorm(5, dtype=dtype)
    assert layer.params["gamma"].dtype == dtype and layer.params["beta"].dtype == dtype
    x = np.random.default_rng(6).standard_normal((4, 5)).astype(dtype)
    y = layer.forward(x)
    assert y.dtype == dtype
    assert layer.backward(np.ones_like(y)).dtype == dtype
    assert all(g.dtype == dtype for g in layer.grads.values())
    np.testing.assert_array_equal(layer.params["gamma"], 1)
    np.testing.assert_array_equal(layer.params["beta"], 0)


# ---------------------------------------------------------------- the layer contract
def test_params_are_live_and_backward_overwrites():
    rng = np.random.default_rng(7)
    layer = LayerNorm(4, dtype=np.float64)
    x = rng.standard_normal((3, 4))
    layer.params["beta"] += 1.0  # an optimiser writes in place
    np.testing.assert_allclose(layer.forward(x).mean(axis=-1), 1.0)
    dy = rng.standard_normal((3, 4))
    layer.backward(dy)
    first = {k: g.copy() for k, g in layer.grads.items()}
    layer.backward(dy)
    for k in first:  # assigned again, not accumulated
        np.testing.assert_array_equal(layer.grads[k], first[k])
    np.testing.assert_allclose(layer.grads["beta"], dy.sum(axis=0))


def test_backward_without_input_grad():
    rng = np.random.default_rng(8)
    layer = randomised(5, rng)
    x, dy = rng.standard_normal((2, 3, 5)), rng.standard_normal((2, 3, 5))
    layer.forward(x)
    layer.backward(dy)
    full = {k: g.copy() for k, g in layer.grads.items()}
    assert layer.backward(dy, input_grad=False) is None
    for k in full:
        np.testing.assert_array_equal(layer.grads[k], full[k])
    # Sequential stops at it when it is the first layer with parameters
    net = Sequential(layer, Tanh())
    net.forward(x)
    assert net.backward(dy, input_grad=False) is None


@pytest.mark.parametrize(("kwargs", "name"), [
    ({"normalized_shape": 0}, "normalized_shape"), ({"normalized_shape": 2.5}, "normalized_shape"),
    ({"normalized_shape": "4"}, "normalized_shape"), ({"normalized_shape": True}, "normalized_shape"),
    ({"normalized_shape": 4, "eps": 0.0}, "eps"), ({"normalized_shape": 4, "eps": -1e-5}, "eps"),
    ({"normalized_shape": 4, "eps": float("nan")}, "eps"), ({"normalized_shape": 4, "eps": "1e-5"}, "eps"),
    ({"normalized_shape": 4, "dtype": np.int32}, "dtype"),
    ({"normalized_shape": 4, "dtype": "banana"}, "dtype"),
])
def test_layernorm_bad_arguments(kwargs, name):
    with pytest.raises((ValueError, TypeError), match=rf"\b{name}\b"):
        LayerNorm(**kwargs)


# ---------------------------------------------------------------- BatchNorm1d / BatchNorm2d
def batchnorm(cls, C: int, rng: np.random.Generator, **kwargs):
    """A float64 BatchNorm with gamma, beta and the running statistics moved off 1 and 0."""
    layer = cls(C, dtype=np.float64, **kwargs)
    layer.params["gamma"][:] = rng.uniform(0.5, 2.0, C) * rng.choice([-1, 1], C)
    layer.params["beta"][:] = rng.standard_normal(C)
    layer.buffers["running_mean"][:] = rng.standard_normal(C)
    layer.buffers["running_var"][:] = rng.uniform(0.5, 2.0, C)
    return layer


@pytest.mark.parametrize("training", [True, False], ids=["training", "eval"])
@pytest.mark.parametrize(("cls", "shape"), [(BatchNorm1d, (5, 3)), (BatchNorm1d, (2, 4)),
                                            (BatchNorm2d, (2, 3, 3, 2)), (BatchNorm2d, (1, 2, 2, 3))])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_batchnorm_gradient_in_both_modes(cls, shape, training, seed):
    rng = np.random.default_rng(seed)
    layer = batchnorm(cls, shape[1], rng)
    layer.train() if training else layer.eval()
    x = 3 * rng.standard_normal(shape) + rng.standard_normal()
    before = {k: v.copy() for k, v in layer.buffers.items()}
    assert_gradients(check_layer(layer, x, rng))
    assert all(np.array_equal(layer.buffers[k], before[k]) for k in before)  # the check put them back


def test_batchnorm_forward_matches_its_definition_and_pytorch_running_statistics():
    rng = np.random.default_rng(0)
    x = 2 * rng.standard_normal((8, 3)) + 5
    layer = BatchNorm1d(3, dtype=np.float64)
    y = layer.forward(x)
    np.testing.assert_allclose(y.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=0), x.var(axis=0) / (x.var(axis=0) + 1e-5), rtol=1e-12)
    np.testing.assert_allclose(layer.buffers["running_mean"], 0.1 * x.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(layer.buffers["running_var"], 0.9 + 0.1 * x.var(axis=0, ddof=1), rtol=1e-12)
    y_eval = layer.eval().forward(x)  # eval: the running statistics
    expected = (x - layer.buffers["running_mean"]) / np.sqrt(layer.buffers["running_var"] + 1e-5)
    np.testing.assert_allclose(y_eval, expected, rtol=1e-12)
    x4 = rng.standard_normal((2, 3, 4, 5))
    bn2 = BatchNorm2d(3, momentum=0.5, dtype=np.float64)
    bn2.forward(x4)
    np.testing.assert_allclose(bn2.buffers["running_var"], 0.5 + 0.5 * x4.transpose(1, 0, 2, 3).reshape(3, -1)
                               .var(axis=1, ddof=1), rtol=1e-12)


@pytest.mark.parametrize(("cls", "shape"), [(BatchNorm1d, (1, 4)), (BatchNorm2d, (1, 2, 1, 1))])
def test_batchnorm_refuses_one_value_per_channel_in_training(cls, shape):
    layer = cls(shape[1])
    with pytest.raises(ValueError, match=r"more than 1 value per channel.*shape \(1,"):
        layer.forward(np.ones(shape, dtype=np.float32))
    assert layer.eval().forward(np.ones(shape, dtype=np.float32)).shape == shape  # eval is fine


def test_a_dense_bias_before_batchnorm_has_a_zero_gradient_that_passes_the_verdict():
    rng = np.random.default_rng(0)
    dense = Dense(4, 3, rng=rng, dtype=np.float64)
    dense.params["b"][:] = rng.standard_normal(3)
    net = Sequential(dense, batchnorm(BatchNorm1d, 3, rng), Tanh())
    report = check_layer(net, rng.standard_normal((6, 4)), rng)
    assert report.arrays["0.b"].analytic_norm < 1e-12  # exactly zero up to rounding: the mean cancels it
    assert_gradients(report)


def test_batchnorm_buffers_are_separate_from_params_and_flattened_by_sequential():
    net = Sequential(Dense(4, 3, rng=0), BatchNorm1d(3))
    assert set(net.params) == {"0.W", "0.b", "1.gamma", "1.beta"}
    assert set(net.buffers) == {"1.running_mean", "1.running_var"}
    assert net.buffers["1.running_var"] is net.layers[1].buffers["running_var"]
