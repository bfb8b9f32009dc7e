"""Flatten and Reshape: shapes, exact round trips, gradient checks, constructor errors."""

import numpy as np
import pytest

from npae.gradcheck import check_layer
from npae.layers import Flatten, Reshape


def test_flatten_is_row_major_and_inverts():
    x = np.arange(2 * 3 * 4 * 5.0).reshape(2, 3, 4, 5)
    layer = Flatten()
    y = layer.forward(x)
    assert y.shape == (2, 60)
    np.testing.assert_array_equal(y[1], x[1].ravel())
    np.testing.assert_array_equal(layer.backward(y), x)


def test_reshape_round_trip():
    x = np.arange(2 * 12.0).reshape(2, 12)
    layer = Reshape((3, 2, 2))
    y = layer.forward(x)
    assert y.shape == (2, 3, 2, 2)
    np.testing.assert_array_equal(y[1, 2], x[1, 8:].reshape(2, 2))
    np.testing.assert_array_equal(layer.backward(y), x)


def test_gradients():
    rng = np.random.default_rng(0)
    assert check_layer(Flatten(), rng.standard_normal((2, 3, 2, 2)), rng)["x"] < 1e-7
    assert check_layer(Reshape((2, 3)), rng.standard_normal((3, 6)), rng)["x"] < 1e-7


def test_constructor_errors():
    with pytest.raises(TypeError):
        Reshape(7)
    with pytest.raises(ValueError):
        Reshape((0, 3))


@pytest.mark.parametrize("layer, x_shape", [(Flatten(), (2, 3, 2, 2)), (Reshape((3, 2, 2)), (2, 12))])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_backward_moves_nan_and_inf_with_their_entry(layer, x_shape, bad):
    """A reshape only relabels: a bad dy entry lands, unchanged, on the input entry it came from."""
    x = np.zeros(x_shape)
    dy = np.ones(layer.forward(x).shape)
    dy.reshape(-1)[7] = bad
    dx = layer.backward(dy)
    assert dx.shape == x_shape
    expected = np.ones(x_shape)
    expected.reshape(-1)[7] = bad
    np.testing.assert_array_equal(dx, expected)
