"""The gradient checker itself: it must pass right gradients and FAIL wrong ones.

A checker that always says "fine" would make every other gradient test worthless, so here each
checker entry point (``check_layer``, ``check_function``, ``check_model``) is shown a backward
with a typical bug (a forgotten transpose, a missing factor, a dropped term) and must report a
large error, while the correct version passes below 1e-7. A LayerNorm whose ``dx`` forgets
``gamma`` shows why parameters that start at 1 are randomised first; layers that draw random
numbers show that the checker holds a stochastic layer's mask fixed and refuses a loss that
changes between two evaluations at the same point.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from profiles import examples

from npae import Autoencoder, SparseAutoencoder
from npae.gradcheck import (
    TOL,
    ArrayCheck,
    GradientReport,
    assert_gradients,
    check_function,
    check_layer,
    check_model,
    numerical_gradient,
    randomize_params,
    rel_error,
)
from npae.layers import BatchNorm1d, Dense, Dropout, Layer, LayerNorm, Sequential, Sigmoid, Tanh
from npae.losses import mse
from npae.models import BaseAutoencoder
from npae.penalties import kl_sparsity

WRONG = 1e-3  # a buggy backward is off by O(1); anything above this is unmistakably wrong


# ---------------------------------------------------------------- deliberately wrong backwards
class DenseForgetsTranspose(Dense):
    """dW = x^T dy instead of dy^T x: same shape for a square layer, wrong values."""

    def backward(self, dy, input_grad=True):
        dx = super().backward(dy)
        self.grads["W"] = self._x.T @ dy  # (in, N) @ (N, out): the transpose of the right answer
        return dx


class DenseForgetsTransposeInDx(Dense):
    """dx = dy W^T instead of dy W (square layer)."""

    def backward(self, dy, input_grad=True):
        super().backward(dy)
        return dy @ self.params["W"].T


class DenseMeanBias(Dense):
    """db = mean of dy over the batch instead of the sum: a missing factor N."""

    def backward(self, dy, input_grad=True):
        dx = super().backward(dy)
        self.grads["b"] = dy.mean(axis=0)
        return dx


class SigmoidForgetsFactor(Sigmoid):
    """f'(x) = y instead of y (1 - y)."""

    @staticmethod
    def derivative(x, y):
        return y


class LayerNormForgetsGamma(LayerNorm):
    """dx from g = dy instead of g = dy * gamma: right by accident wherever gamma = 1."""

    def backward(self, dy, input_grad=True):
        super().backward(dy, input_grad=False)  # dgamma and dbeta are right
        g, xhat = dy, self._xhat  # the bug: g = dy * gamma
        gx_mean = (g * xhat).mean(axis=-1, keepdims=True)
        return (g - g.mean(axis=-1, keepdims=True) - xhat * gx_mean) / self._sigma


class DropoutIgnoresRng(Dropout):
    """Draws its mask from its own generator even when given one: every forward a new mask."""

    def forward(self, x, rng=None):
        return super().forward(x, self.rng)


class OwnNoise(Layer):
    """Not marked stochastic, yet adds noise from a generator it holds: y = x + 0.1 * e."""

    def __init__(self):
        super().__init__()
        self.rng = np.random.default_rng(0)

    def forward(self, x):
        return x + 0.1 * self.rng.standard_normal(x.shape)

    def backward(self, dy):
        return dy


def _square_dense(cls, rng):
    layer = cls(4, 4, rng=rng, dtype=np.float64)
    layer.params["b"][:] = rng.standard_normal(4)
    return layer


@pytest.mark.parametrize(("cls", "bad_key"), [(DenseForgetsTranspose, "W"), (DenseForgetsTransposeInDx, "x"),
                                              (DenseMeanBias, "b")])
def test_check_layer_fails_on_wrong_dense_backward(cls, bad_key):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4))
    errors = check_layer(_square_dense(cls, rng), x, rng=np.random.default_rng(1))
    assert errors[bad_key] > WRONG, errors
    # and the same check passes the correct layer
    right = check_layer(_square_dense(Dense, np.random.default_rng(0)), x, rng=np.random.default_rng(1))
    assert max(right.values()) < TOL, right


def test_assert_gradients_names_the_wrong_array_of_a_wrong_backward():
    rng = np.random.default_rng(0)
    errors = check_layer(_square_dense(DenseMeanBias, rng), rng.standard_normal((3, 4)), rng=1)
    with pytest.raises(AssertionError, match=r"check failed: 'b' has relative error 5\.0e-01 and "):
        assert_gradients(errors)  # db = mean instead of sum over N = 3: (N - 1) / (N + 1) = 1/2


def test_a_bug_hidden_by_gamma_1_is_found_once_gamma_is_randomised():
    """docs/05: randomise parameters that start at 0 or 1 before checking."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 6))
    wrong = LayerNormForgetsGamma(6, dtype=np.float64)
    assert_gradients(check_layer(wrong, x, rng=1))  # gamma = 1: g = dy is right by accident
    wrong.params["gamma"][:] = rng.uniform(0.5, 2.0, 6)
    wrong.params["beta"][:] = rng.standard_normal(6)
    errors = check_layer(wrong, x, rng=1)
    assert errors["x"] > WRONG and errors["gamma"] < TOL and errors["beta"] < TOL, errors
    with pytest.raises(AssertionError, match="'x'"):
        assert_gradients(errors)
    # the right layer passes at the same randomised point
    right = LayerNorm(6, dtype=np.float64)
    for k in right.params:
        right.params[k][:] = wrong.params[k]
    assert_gradients(check_layer(right, x, rng=1))


def test_check_layer_fails_on_wrong_activation_derivative():
    x = np.random.default_rng(2).standard_normal((3, 5))
    assert check_layer(SigmoidForgetsFactor(), x, rng=np.random.default_rng(0))["x"] > WRONG
    assert check_layer(Sigmoid(), x, rng=np.random.default_rng(0))["x"] < TOL


def test_check_function_fails_on_a_missing_factor():
    def mse_forgets_the_2(pred, target, reduction="mean"):
        value, grad = mse(pred, target, reduction)
        return value, grad / 2

    rng = np.random.default_rng(3)
    p, t = rng.random((4, 3)), rng.random((4, 3))
    assert check_function(mse, p, t) < TOL
    # ||g/2 - g|| / (||g/2|| + ||g||) = 1/3 exactly
    assert check_function(mse_forgets_the_2, p, t) == pytest.approx(1 / 3, rel=1e-6)


class SparseAEDropsPenaltyGradient(SparseAutoencoder):
    """Adds the sparsity penalty to the loss but forgets its gradient."""

    def _forward_backward(self, X, rng):
        terms = BaseAutoencoder._forward_backward(self, X, rng)  # the plain step: no beta * dOmega/dh
        terms["sparsity"] = self.beta * kl_sparsity(self.encoder.forward(X), self.rho)[0]
        return terms


def test_check_model_fails_on_a_dropped_term():
    X = np.random.default_rng(4).random((6, 5))
    kwargs = dict(sizes=(5, 3), beta=3.0, rho=0.1, random_state=0, dtype=np.float64)
    assert max(check_model(SparseAutoencoder(**kwargs), X).values()) < TOL
    errors = check_model(SparseAEDropsPenaltyGradient(**kwargs), X)
    assert errors["encoder.0.W"] > WRONG and errors["encoder.0.b"] > WRONG, errors
    assert errors["decoder.0.W"] < TOL  # the decoder never sees the code penalty


# ---------------------------------------------------------------- the pieces
def test_rel_error_properties():
    a = np.array([1.0, -2.0, 3.0])
    assert rel_error(a, a) == 0.0
    assert rel_error(np.zeros(3), np.zeros(3)) == 0.0
    assert rel_error(a, -a) == 1.0
    assert rel_error(a, 2 * a) == pytest.approx(1 / 3)
    assert rel_error(a, a + 1e-3) == pytest.approx(rel_error(1e6 * a, 1e6 * (a + 1e-3)))  # scale-free
    assert rel_error(a, a + 0.1) == rel_error(a + 0.1, a)  # symmetric


@examples(10)
@given(shape=st.tuples(st.integers(1, 4), st.integers(1, 4)), seed=st.integers(0, 2**16))
def test_numerical_gradient_of_known_functions(shape, seed):
    x = np.random.default_rng(seed).uniform(-2, 2, shape)
    before = x.copy()
    g = numerical_gradient(lambda: float(np.sum(x ** 3 + np.sin(x))), x)
    assert rel_error(g, 3 * x ** 2 + np.cos(x)) < 1e-8
    assert np.array_equal(x, before)  # every perturbation was undone


def test_numerical_gradient_refuses_float32():
    with pytest.raises(TypeError, match="^x must be float64 for a gradient check, got float32$"):
        numerical_gradient(lambda: 0.0, np.zeros(3, dtype=np.float32))
    with pytest.raises(TypeError, match="^w must be float64 for a gradient check, got a list$"):
        numerical_gradient(lambda: 0.0, [0.0], name="w")


def test_check_layer_names_the_parameter_that_is_not_float64():
    # x is always copied to float64: a float32 layer used to be reported as "x must be float64"
    message = (r"^parameter 'gamma' must be float64 for a gradient check \(build the layer with "
               r"dtype=np\.float64\), got float32$")
    with pytest.raises(TypeError, match=message):
        check_layer(LayerNorm(4), np.ones((2, 4)))
    with pytest.raises(TypeError, match=r"parameter '1\.gamma'.*build the layer"):
        check_layer(Sequential(Dense(3, 4, dtype=np.float64), LayerNorm(4)), np.ones((2, 3)))


def test_check_model_names_the_parameter_that_is_not_float64():
    model = Autoencoder(sizes=(4, 2), random_state=0)  # float32
    with pytest.raises(TypeError, match=r"^parameter 'encoder\.0\.W' must be float64 .*build the model"):
        check_model(model, np.ones((2, 4)))


# ---------------------------------------------------------------- stochastic layers and determinism
def test_check_layer_holds_a_dropout_mask_fixed():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((5, 6))
    assert_gradients(check_layer(Dropout(0.5), x, rng=1, rng_seed=3))
    # the same layer drawing from its own generator: every evaluation has another mask
    with pytest.raises(RuntimeError, match="the loss is not deterministic"):
        check_layer(DropoutIgnoresRng(0.5, rng=np.random.default_rng(0)), x, rng=1)


def test_check_layer_refuses_a_layer_with_hidden_noise():
    with pytest.raises(RuntimeError, match=r"the loss is not deterministic.*stochastic = True"):
        check_layer(Sequential(Tanh(), OwnNoise()), np.ones((2, 3)))


def test_check_model_refuses_a_loss_that_changes_between_evaluations():
    X = np.random.default_rng(5).random((4, 5))
    model = Autoencoder(sizes=(5, 3), activation="tanh", random_state=0, dtype=np.float64)
    model.encoder = Sequential(OwnNoise(), *model.encoder.layers)
    with pytest.raises(RuntimeError, match=r"the loss is not deterministic.*its own generator"):
        check_model(model, X)


# ---------------------------------------------------------------- the verdict
def test_assert_gradients_passes_below_tol_and_names_the_worst_above():
    assert_gradients({"x": 1e-10, "W": 3e-9})
    assert_gradients({"x": 1e-6}, tol=1e-5)
    message = r"'W' has relative error 2\.0e-03 > tol 1e-07 \(x 1\.0e-10, W 2\.0e-03, b 5\.0e-06\)"
    with pytest.raises(AssertionError, match=message):
        assert_gradients({"x": 1e-10, "W": 2e-3, "b": 5e-6})
    with pytest.raises(AssertionError, match="'b' has relative error nan"):  # NaN is the worst there is
        assert_gradients({"x": 0.9, "b": float("nan")})
    with pytest.raises(AssertionError, match="'x'"):  # tol itself fails: "below", strictly
        assert_gradients({"x": 1e-7})


@pytest.mark.parametrize(("errors", "tol", "name"), [({}, TOL, "errors"), ({"x": 0.0}, 0.0, "tol"),
                                                     ({"x": 0.0}, "1e-7", "tol"), ({"x": 0.0}, -1.0, "tol")])
def test_assert_gradients_bad_arguments(errors, tol, name):
    with pytest.raises((ValueError, TypeError), match=rf"^{name}\b"):
        assert_gradients(errors, tol)


def test_check_model_passes_a_right_model_and_restores_weights():
    X = np.random.default_rng(5).random((4, 6))
    model = Autoencoder((6, 4, 2), activation="tanh", random_state=1, dtype=np.float64)
    before = {k: v.copy() for k, v in model.params.items()}
    errors = check_model(model, X)
    assert set(errors) == set(model.params)
    assert max(errors.values()) < TOL
    assert all(np.array_equal(model.params[k], before[k]) for k in before)


def test_numerical_gradient_perturbs_a_non_contiguous_array_in_place():
    # A transposed (Fortran-ordered) view: a reshape(-1) would silently perturb a copy.
    base = np.random.default_rng(0).standard_normal((3, 4))
    x = base.T
    assert not x.flags.c_contiguous
    target = np.arange(12.0).reshape(4, 3)
    grad = numerical_gradient(lambda: float(np.sum(x * target)), x)
    np.testing.assert_allclose(grad, target, rtol=1e-8)
    np.testing.assert_array_equal(x, base.T)  # restored


def test_numerical_gradient_at_chosen_indices_matches_the_full_one():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 5))
    target = rng.standard_normal((4, 5))

    def f() -> float:
        return float(np.sum(np.sin(x) * target))

    full = numerical_gradient(f, x)
    idx = np.array([0, 7, 19, 3])
    np.testing.assert_array_equal(numerical_gradient(f, x, indices=idx), full.reshape(-1)[idx])
    np.testing.assert_allclose(full, np.cos(x) * target, rtol=1e-8, atol=1e-9)
    with pytest.raises(ValueError, match="indices"):
        numerical_gradient(f, x, indices=np.array([20]))


# ---------------------------------------------------------------- a zero gradient is not a wrong one
class DenseThenCentre(Layer):
    """Dense then subtract the batch mean: the bias's gradient is exactly zero (it cancels)."""

    def __init__(self, rng):
        super().__init__()
        self.dense = Dense(4, 3, rng=rng, dtype=np.float64)
        self.params = self.dense.params

    def forward(self, x):
        y = self.dense.forward(x)
        return y - y.mean(axis=0)

    def backward(self, dy):
        dx = self.dense.backward(dy - dy.mean(axis=0))
        self.grads = self.dense.grads
        return dx


def test_an_exactly_zero_gradient_passes_the_verdict_but_not_the_relative_error_alone():
    rng = np.random.default_rng(0)
    layer = DenseThenCentre(rng)
    layer.params["b"][:] = rng.standard_normal(3)
    report = check_layer(layer, rng.standard_normal((5, 4)), rng)
    b = report.arrays["b"]
    assert b.analytic_norm < 1e-13 and b.abs_error < 1e-9  # zero up to rounding, on both sides
    assert report["b"] > 1e-3  # the relative error of two noises reads "wrong"
    with pytest.raises(AssertionError):
        assert_gradients(dict(report))  # judged on the relative error alone
    assert_gradients(report)  # the absolute tolerance sees rounding noise


def test_the_verdict_message_gives_norms_and_the_worst_array_first():
    rng = np.random.default_rng(0)
    layer = _square_dense(DenseForgetsTranspose, rng)
    report = check_layer(layer, rng.standard_normal((3, 4)), rng=1)
    assert report.worst_first()[0] == "W" and report.failed() == ["W"]
    with pytest.raises(AssertionError) as info:
        assert_gradients(report)
    lines = str(info.value).splitlines()
    assert "|analytic|" in lines[0] and "|numeric|" in lines[0]
    assert lines[2].startswith("W ") and lines[2].endswith("FAILED")  # the table, the worst first
    wrong_sign = GradientReport({"W": ArrayCheck(1.0, 2.0, 1.0, 1.0)})
    with pytest.raises(AssertionError, match="relative error 1.0e"):
        assert_gradients(wrong_sign)


def test_array_check_is_allclose_on_norms():
    zero = ArrayCheck(1.0, 3e-13, 0.0, 3e-13)
    assert zero.passes() and not zero.passes(atol=0.0)
    assert ArrayCheck(5e-8, 1e-7, 1.0, 1.0).passes(atol=0.0)
    assert not ArrayCheck(float("nan"), float("nan"), 1.0, float("nan")).passes()


def test_check_layer_leaves_buffers_as_they_were_and_does_not_check_them():
    rng = np.random.default_rng(0)
    layer = BatchNorm1d(3, dtype=np.float64)
    randomize_params(layer.params, rng)
    before = {k: v.copy() for k, v in layer.buffers.items()}
    report = check_layer(layer, rng.standard_normal((6, 3)), rng)
    assert set(report) == {"x", "gamma", "beta"}
    assert all(np.array_equal(layer.buffers[k], before[k]) for k in before)


def test_randomize_params_moves_constant_arrays_only():
    layer = Dense(3, 2, rng=0, dtype=np.float64)
    W = layer.params["W"].copy()
    assert randomize_params(layer.params, 0) == ["b"]
    assert np.array_equal(layer.params["W"], W) and np.all(layer.params["b"] != 0)
