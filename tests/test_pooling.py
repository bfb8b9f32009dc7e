"""MaxPool2D and UpSampling2D: loop references, gradient checks, errors."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from profiles import examples

from npae.gradcheck import check_layer
from npae.layers import MaxPool2D, UpSampling2D


def maxpool_loop(x, k, s, p):
    n_, c_, h_, w_ = x.shape
    xp = np.full((n_, c_, h_ + 2 * p[0], w_ + 2 * p[1]), -np.inf)
    xp[:, :, p[0]:p[0] + h_, p[1]:p[1] + w_] = x
    ho, wo = (h_ + 2 * p[0] - k[0]) // s[0] + 1, (w_ + 2 * p[1] - k[1]) // s[1] + 1
    y = np.empty((n_, c_, ho, wo))
    for n in range(n_):
        for c in range(c_):
            for h in range(ho):
                for w in range(wo):
                    y[n, c, h, w] = xp[n, c, h * s[0]:h * s[0] + k[0], w * s[1]:w * s[1] + k[1]].max()
    return y


@examples(50)
@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(0, 1), st.integers(0, 2**16))
def test_maxpool_matches_loop_reference(k, s, n, p, seed):
    p = min(p, k // 2)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 2, k + 3, k + 4))
    layer = MaxPool2D(k, s, p)
    np.testing.assert_array_equal(layer.forward(x), maxpool_loop(x, (k, k), (s, s), (p, p)))


@pytest.mark.parametrize("k, s, p", [(2, None, 0), (3, 2, 1), ((2, 3), (1, 2), (1, 0))])
def test_maxpool_gradients(k, s, p):
    rng = np.random.default_rng(0)
    x = rng.permutation(2 * 3 * 6 * 7).reshape(2, 3, 6, 7) * 0.1  # distinct values: no ties, no kinks at h
    errors = check_layer(MaxPool2D(k, s, p), x, rng)
    assert errors["x"] < 1e-7, errors


def test_maxpool_routes_gradient_to_the_winner():
    x = np.array([[[[1.0, 5.0], [3.0, 2.0]]]])
    layer = MaxPool2D(2)
    assert layer.forward(x)[0, 0, 0, 0] == 5.0
    np.testing.assert_array_equal(layer.backward(np.array([[[[7.0]]]])), [[[[0.0, 7.0], [0.0, 0.0]]]])


def test_upsampling_forward_and_backward():
    x = np.arange(4.0).reshape(1, 1, 2, 2)
    layer = UpSampling2D((2, 3))
    y = layer.forward(x)
    assert y.shape == (1, 1, 4, 6)
    np.testing.assert_array_equal(y[0, 0], np.kron(x[0, 0], np.ones((2, 3))))
    dy = np.arange(24.0).reshape(1, 1, 4, 6)
    expected = [[dy[0, 0, 2 * h:2 * h + 2, 3 * w:3 * w + 3].sum() for w in range(2)] for h in range(2)]
    np.testing.assert_array_equal(layer.backward(dy)[0, 0], expected)


def test_upsampling_gradient():
    rng = np.random.default_rng(1)
    assert check_layer(UpSampling2D(2), rng.standard_normal((2, 3, 3, 4)), rng)["x"] < 1e-7


def test_errors_name_layer_and_shapes():
    with pytest.raises(ValueError, match=r"MaxPool2D.*\(1, 1\).*smaller than the kernel.*\(2, 3, 1, 1\)"):
        MaxPool2D(2).forward(np.zeros((2, 3, 1, 1)))
    with pytest.raises(ValueError, match=r"UpSampling2D.*NCHW.*\(2, 3\)"):
        UpSampling2D().forward(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="padding must be at most half"):
        MaxPool2D(2, padding=2)


def test_maxpool_ties_go_to_the_first_offset():
    """All-equal windows (ReLU zeros): the gradient goes to the first entry in row-major order only."""
    x = np.zeros((1, 1, 4, 4))
    layer = MaxPool2D(2)
    layer.forward(x)
    dx = layer.backward(np.ones((1, 1, 2, 2)))
    np.testing.assert_array_equal(dx[0, 0], np.kron(np.ones((2, 2)), [[1.0, 0.0], [0.0, 0.0]]))
    # overlapping windows (stride 1): each window still gives its dy to exactly one input
    layer = MaxPool2D(2, stride=1)
    layer.forward(x)
    assert layer.backward(np.ones((1, 1, 3, 3))).sum() == 9.0
