"""Flatten and Reshape: shapes, exact round trips, gradient checks, errors."""

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


def test_errors():
    with pytest.raises(ValueError, match=r"Reshape\(\(3, 3\)\).*9 entries.*\(2, 8\)"):
        Reshape((3, 3)).forward(np.zeros((2, 8)))
    with pytest.raises(ValueError, match=r"Flatten.*\(5,\)"):
        Flatten().forward(np.zeros(5))
    with pytest.raises(TypeError):
        Reshape(7)
    with pytest.raises(ValueError):
        Reshape((0, 3))
