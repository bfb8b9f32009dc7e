"""Layers: gradient checks (float64, < 1e-7) on the input and every parameter, forward values
against closed forms, float32 stability at |x| = 1000, the params/grads contract, bad input."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from profiles import examples

from npae.gradcheck import assert_gradients, check_layer, numerical_gradient, rel_error
from npae.layers import (
    ACTIVATIONS,
    Dense,
    Identity,
    LeakyReLU,
    ReLU,
    Sequential,
    Sigmoid,
    Softplus,
    Tanh,
    get_activation,
)

TOL = 1e-7
ALL_ACTIVATIONS = [Identity(), ReLU(), LeakyReLU(0.1), Sigmoid(), Tanh(), Softplus()]
KINKED = (ReLU, LeakyReLU)  # not differentiable at 0: keep their inputs away from it

shapes = st.tuples(st.integers(1, 4), st.integers(1, 5))


def away_from_zero(draw_array: np.ndarray, margin: float = 1e-2) -> np.ndarray:
    """Push entries with |x| < margin out to +-margin (central differences step over 0 otherwise)."""
    return np.where(np.abs(draw_array) < margin, np.where(draw_array < 0, -margin, margin), draw_array)


# ---------------------------------------------------------------- activations: gradients
@pytest.mark.parametrize("act", ALL_ACTIVATIONS, ids=lambda a: type(a).__name__)
@examples(15)
@given(data=st.data())
def test_activation_gradient(act, data):
    shape = data.draw(shapes)
    # |x| <= 3: deep in saturation f'(x) is tiny and the check's rounding error (~eps |f| / h)
    # is no longer small relative to it, however right the backward is
    x = data.draw(hnp.arrays(np.float64, shape, elements=st.floats(-3, 3)))
    if isinstance(act, KINKED):
        x = away_from_zero(x)
    errors = check_layer(act, x, rng=np.random.default_rng(0))
    assert errors["x"] < TOL, errors


@pytest.mark.parametrize("act", ALL_ACTIVATIONS, ids=lambda a: type(a).__name__)
def test_derivative_and_second_derivative_match_central_differences(act):
    x = away_from_zero(np.linspace(-4, 4, 41))  # float64
    h = 1e-5
    f, d = act.function, act.derivative
    num_d = (f(x + h) - f(x - h)) / (2 * h)
    num_dd = (d(x + h, f(x + h)) - d(x - h, f(x - h))) / (2 * h)
    assert rel_error(d(x, f(x)), num_d) < 1e-9
    dd = act.second_derivative(x, f(x))
    assert dd.shape == x.shape
    assert np.allclose(dd, num_dd, atol=1e-8)


# ---------------------------------------------------------------- activations: values
def test_activation_forward_closed_forms():
    x = np.linspace(-8, 8, 33)
    assert np.array_equal(Identity().forward(x), x)
    assert np.array_equal(ReLU().forward(x), np.where(x > 0, x, 0.0))
    assert np.allclose(LeakyReLU(0.2).forward(x), np.where(x > 0, x, 0.2 * x))
    assert np.allclose(Sigmoid().forward(x), 1 / (1 + np.exp(-x)), rtol=1e-14, atol=0)
    assert np.allclose(Tanh().forward(x), (np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(-x)), rtol=1e-13)
    assert np.allclose(Softplus().forward(x), np.log(1 + np.exp(x)), rtol=1e-13)
    # the derivatives, by their textbook formulas
    s = 1 / (1 + np.exp(-x))
    assert np.allclose(Sigmoid.derivative(x, s), np.exp(-x) / (1 + np.exp(-x)) ** 2)
    assert np.allclose(Tanh.derivative(x, np.tanh(x)), 1 / np.cosh(x) ** 2)
    assert np.allclose(Softplus.derivative(x, None), s)


@pytest.mark.parametrize("act", ALL_ACTIVATIONS, ids=lambda a: type(a).__name__)
def test_activation_stable_at_1000_in_float32(act):
    x = np.array([[-1000.0, -88.0, -1.0, 0.5, 88.0, 1000.0]], dtype=np.float32)
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        y = act.forward(x)
        dx = act.backward(np.ones_like(y))
        d = act.derivative(x, y)
        dd = act.second_derivative(x, y)
    for arr in (y, dx, d, dd):
        assert arr.dtype == np.float32
        assert np.isfinite(arr).all()


def test_activation_limits_at_1000():
    x = np.array([-1000.0, 1000.0], dtype=np.float32)
    assert np.array_equal(Sigmoid().forward(x), [0.0, 1.0])
    assert np.array_equal(Tanh().forward(x), [-1.0, 1.0])
    assert np.array_equal(Softplus().forward(x), [0.0, 1000.0])


@pytest.mark.parametrize("act", ALL_ACTIVATIONS, ids=lambda a: type(a).__name__)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_activation_keeps_dtype(act, dtype):
    x = np.random.default_rng(1).standard_normal((3, 4)).astype(dtype)
    y = act.forward(x)
    assert y.dtype == dtype and y.shape == x.shape
    assert act.backward(np.ones_like(y)).dtype == dtype


def test_get_activation_and_registry():
    for name, cls in ACTIVATIONS.items():
        assert isinstance(get_activation(name), cls)
    with pytest.raises(ValueError, match="activation"):
        get_activation("gelu")


def test_activation_bad_input():
    with pytest.raises(ValueError, match="negative_slope"):
        LeakyReLU(-0.1)
    with pytest.raises(TypeError, match="negative_slope"):
        LeakyReLU("0.1")


# ---------------------------------------------------------------- Dense
@examples(20)
@given(n=st.integers(1, 5), n_in=st.integers(1, 6), n_out=st.integers(1, 6), seed=st.integers(0, 2**16),
       scale=st.floats(0.1, 10))
def test_dense_gradient(n, n_in, n_out, seed, scale):
    rng = np.random.default_rng(seed)
    layer = Dense(n_in, n_out, rng=rng, dtype=np.float64)
    layer.params["b"][:] = rng.standard_normal(n_out)  # a non-zero bias, so db is exercised
    x = scale * rng.standard_normal((n, n_in))
    # dW = dy^T x: an input of size 2.5e-4 (n = n_in = 1, found by the explore profile) makes dW
    # so small that the differences' rounding, eps |L| / h, is 1e-7 of it. Such an x checks nothing.
    assume(np.abs(x).max() > 0.05)
    errors = check_layer(layer, x, rng=rng)
    assert set(errors) == {"x", "W", "b"}
    assert_gradients(errors)


def test_dense_forward_and_backward_closed_forms():
    rng = np.random.default_rng(0)
    layer = Dense(3, 2, rng=rng, dtype=np.float64)
    W, b = layer.params["W"], layer.params["b"]
    assert W.shape == (2, 3) and b.shape == (2,)
    b[:] = [0.5, -1.0]
    x = rng.standard_normal((4, 3))
    y = layer.forward(x)
    expected = np.array([[sum(W[o, i] * x[n, i] for i in range(3)) + b[o] for o in range(2)]
                         for n in range(4)])
    assert np.allclose(y, expected)
    dy = rng.standard_normal((4, 2))
    dx = layer.backward(dy)
    assert np.allclose(layer.grads["W"], sum(np.outer(dy[n], x[n]) for n in range(4)))
    assert np.allclose(layer.grads["b"], dy.sum(axis=0))
    assert np.allclose(dx, np.array([W.T @ dy[n] for n in range(4)]))


def test_dense_backward_without_input_grad():
    rng = np.random.default_rng(0)
    layer = Dense(4, 3, rng=rng, dtype=np.float64)
    x, dy = rng.standard_normal((5, 4)), rng.standard_normal((5, 3))
    layer.forward(x)
    dx = layer.backward(dy)
    full = {k: g.copy() for k, g in layer.grads.items()}
    assert layer.backward(dy, input_grad=False) is None
    for k in full:
        assert np.array_equal(layer.grads[k], full[k])
    assert dx.shape == x.shape


def test_dense_params_are_live_and_backward_overwrites():
    rng = np.random.default_rng(0)
    layer = Dense(3, 2, rng=rng, dtype=np.float64)
    x = rng.standard_normal((4, 3))
    y0 = layer.forward(x)
    layer.params["b"] += 1.0  # in place: the layer must see it
    assert np.allclose(layer.forward(x), y0 + 1.0)
    dy = rng.standard_normal((4, 2))
    layer.backward(dy)
    first = {k: v.copy() for k, v in layer.grads.items()}
    layer.backward(dy)  # a second call must not accumulate
    for k in first:
        assert np.array_equal(layer.grads[k], first[k])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dense_dtype(dtype):
    layer = Dense(5, 3, rng=np.random.default_rng(0), dtype=dtype)
    assert layer.params["W"].dtype == dtype and layer.params["b"].dtype == dtype
    x = np.ones((2, 5), dtype=dtype)
    y = layer.forward(x)
    dx = layer.backward(np.ones_like(y))
    assert y.dtype == dtype and dx.dtype == dtype
    assert all(g.dtype == dtype for g in layer.grads.values())
    assert Dense(2, 2).params["W"].dtype == np.float32  # float32 by default


def test_dense_init_reproducible_and_scaled():
    a = Dense(400, 300, rng=np.random.default_rng(7))
    b = Dense(400, 300, rng=np.random.default_rng(7))
    assert np.array_equal(a.params["W"], b.params["W"])
    # Glorot uniform: Var(W) = 2 / (fan_in + fan_out); He normal: 2 / fan_in. 120,000 draws: the
    # sample variance is within 2% of the truth with overwhelming probability (sd ~ 0.4%).
    assert np.var(a.params["W"]) == pytest.approx(2 / 700, rel=0.02)
    he = Dense(400, 300, init="he_normal", rng=np.random.default_rng(7), dtype=np.float64)
    assert np.var(he.params["W"]) == pytest.approx(2 / 400, rel=0.02)


def test_dense_bad_input():
    with pytest.raises(ValueError, match="in_features"):
        Dense(0, 3)
    with pytest.raises(TypeError, match="out_features"):
        Dense(3, 2.5)
    with pytest.raises(TypeError, match="dtype"):
        Dense(3, 2, dtype=np.int32)
    with pytest.raises(ValueError, match="init"):
        Dense(3, 2, init="zeros-please")
    with pytest.raises(TypeError, match="rng"):
        Dense(3, 2, rng="seed")


# ---------------------------------------------------------------- Sequential
def _mlp64(rng, acts=(Tanh, Softplus, Sigmoid)):
    layers = []
    widths = (5, 4, 3, 4)
    for (n_in, n_out), act in zip(zip(widths[:-1], widths[1:], strict=True), acts, strict=True):
        layers += [Dense(n_in, n_out, rng=rng, dtype=np.float64), act()]
    return Sequential(*layers)


@examples(10)
@given(seed=st.integers(0, 2**16), n=st.integers(1, 4))
def test_sequential_gradient(seed, n):
    rng = np.random.default_rng(seed)
    net = _mlp64(rng)
    for layer in net:
        if "b" in layer.params:
            layer.params["b"][:] = 0.1 * rng.standard_normal(layer.params["b"].shape)
    x = rng.standard_normal((n, 5))
    errors = check_layer(net, x, rng=rng)
    assert set(errors) == {"x", "0.W", "0.b", "2.W", "2.b", "4.W", "4.b"}
    assert_gradients(errors)


def test_sequential_relu_gradient_away_from_kinks():
    rng = np.random.default_rng(3)
    net = Sequential(Dense(4, 6, rng=rng, dtype=np.float64), ReLU(), Dense(6, 3, rng=rng, dtype=np.float64),
                     LeakyReLU(0.05))
    x = rng.standard_normal((3, 4))
    z1 = net[0].forward(x)
    assert np.abs(z1).min() > 1e-4 and np.abs(net[2].forward(net[1].forward(z1))).min() > 1e-4
    assert_gradients(check_layer(net, x, rng=rng))


def test_sequential_params_contract():
    rng = np.random.default_rng(0)
    net = _mlp64(rng)
    assert list(net.params) == ["0.W", "0.b", "2.W", "2.b", "4.W", "4.b"]
    assert net.params["2.W"] is net[2].params["W"]  # the live arrays, not copies
    x = rng.standard_normal((2, 5))
    net.forward(x)
    net.backward(np.ones((2, 4)))
    assert net.grads.keys() == net.params.keys()
    assert all(net.grads[k].shape == net.params[k].shape for k in net.params)
    with pytest.raises(AttributeError):
        net.params = {"0.W": np.zeros((4, 5))}
    with pytest.raises(TypeError, match=r"layers\[1\]"):
        Sequential(Dense(2, 2), "relu")


def test_sequential_backward_without_input_grad_gives_same_param_grads():
    rng = np.random.default_rng(0)
    net = _mlp64(rng)
    x, dy = rng.standard_normal((3, 5)), rng.standard_normal((3, 4))
    net.forward(x)
    dx = net.backward(dy)
    full = {k: g.copy() for k, g in net.grads.items()}
    net.forward(x)
    assert net.backward(dy, input_grad=False) is None
    assert all(np.array_equal(net.grads[k], full[k]) for k in full)
    assert dx.shape == x.shape


def test_sequential_numerical_gradient_of_a_composite_scalar():
    """An independent route: d/dx of sum(net(x)**2) by central differences against backward."""
    rng = np.random.default_rng(5)
    net = _mlp64(rng)
    x = rng.standard_normal((2, 5))
    y = net.forward(x)
    dx = net.backward(2 * y)
    num = numerical_gradient(lambda: float(np.sum(net.forward(x) ** 2)), x)
    assert rel_error(dx, num) < TOL


# ---------------------------------------------------------------- the fast stable forms
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_and_softplus_match_reference_forms_everywhere(dtype):
    from scipy.special import expit

    from npae.layers.activations import sigmoid

    x = np.concatenate([np.linspace(-100, 100, 2001), [-1000.0, 1000.0, 0.0, -0.0]]).astype(dtype)
    ulp = np.finfo(dtype).eps
    y = sigmoid(x)
    assert y.dtype == dtype
    # full RELATIVE precision in both tails (a 0.5 * (1 + tanh(x / 2)) form would give 0 at -30)
    ref = expit(x.astype(np.float64))
    tiny = np.finfo(dtype).tiny
    mask = ref > tiny
    assert np.max(np.abs(y[mask] - ref[mask]) / ref[mask]) < 4 * ulp
    assert sigmoid(np.array([-30.0]))[0] == pytest.approx(1 / (1 + np.exp(30.0)), rel=1e-15)
    sp = Softplus().forward(x)
    ref_sp = np.logaddexp(0, x.astype(np.float64))
    mask = ref_sp > tiny
    assert np.max(np.abs(sp[mask] - ref_sp[mask]) / ref_sp[mask]) < 4 * ulp


def test_activations_accept_integer_input():
    x = np.array([[-2, -1, 0, 1, 2]])
    assert np.allclose(Sigmoid().forward(x), 1 / (1 + np.exp(-x)))
    assert np.allclose(Softplus().forward(x), np.log1p(np.exp(x)))
    act = LeakyReLU(0.25)
    assert np.allclose(act.forward(x), [[-0.5, -0.25, 0, 1, 2]])
    assert np.allclose(act.derivative(x, None), [[0.25, 0.25, 0.25, 1, 1]])


def test_sequential_input_grad_false_with_a_first_layer_that_cannot_skip():
    rng = np.random.default_rng(0)
    net = Sequential(Tanh(), Dense(3, 2, rng=rng, dtype=np.float64))
    x, dy = rng.standard_normal((4, 3)), rng.standard_normal((4, 2))
    net.forward(x)
    full = net.backward(dy)
    g = net.grads["1.W"].copy()
    net.forward(x)
    assert net.backward(dy, input_grad=False) is None  # Tanh has no parameters: not even run
    assert np.array_equal(net.grads["1.W"], g) and full.shape == x.shape
    assert Sequential().backward(dy) is dy  # an empty network is the identity


def test_sequential_input_grad_false_stops_at_the_first_layer_with_parameters():
    """Layers before the first parameterised one are not run; that layer (here a nested
    Sequential, whose own first layer is a Dense) skips its dx too; the gradients are unchanged."""
    calls = []

    class Spy(Tanh):
        def backward(self, dy):
            calls.append(type(self).__name__)
            return super().backward(dy)

    class SpyDense(Dense):
        def backward(self, dy, input_grad=True):
            calls.append(input_grad)
            return super().backward(dy, input_grad)

    rng = np.random.default_rng(1)
    inner = Sequential(SpyDense(3, 4, rng=rng, dtype=np.float64), Tanh())
    net = Sequential(Spy(), inner, Dense(4, 2, rng=rng, dtype=np.float64))
    x, dy = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    net.forward(x)
    assert net.backward(dy).shape == x.shape and calls == [True, "Spy"]
    full = {k: g.copy() for k, g in net.grads.items()}
    calls.clear()
    net.forward(x)
    assert net.backward(dy, input_grad=False) is None and calls == [False]
    assert all(np.array_equal(net.grads[k], full[k]) for k in full)
    assert Sequential(Tanh()).backward(dy, input_grad=False) is None  # nothing to set
