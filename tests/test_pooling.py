"""MaxPool2D and UpSampling2D: loop references, gradient checks, PyTorch's winners, errors."""

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


def test_constructor_errors():
    with pytest.raises(ValueError, match="padding must be at most half"):
        MaxPool2D(2, padding=2)
    with pytest.raises(ValueError, match="kernel_size"):
        MaxPool2D(0)
    with pytest.raises(TypeError, match="size"):
        UpSampling2D(1.5)


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


# ---------------------------------------------------------------- PyTorch's winner at NaN and -inf
# Values measured with PyTorch 2.13.0 (CPU; float32 and float64, NCHW and channels-last alike):
# torch.nn.functional.max_pool2d(x, k, s, p) then backward(ones).
NAN, INF = np.nan, np.inf
TORCH_NAN_WINDOWS = [  # one 2x2 window (kernel 2): x, then the gradient torch gives x
    ([[1.0, NAN], [NAN, 2.0]], [[0, 0], [1, 0]]),
    ([[NAN, 1.0], [2.0, NAN]], [[0, 0], [0, 1]]),
    ([[NAN, NAN], [NAN, NAN]], [[0, 0], [0, 1]]),
    ([[5.0, NAN], [3.0, 1.0]], [[0, 1], [0, 0]]),
    ([[INF, NAN], [INF, 1.0]], [[0, 1], [0, 0]]),
]
TORCH_ALL_MINUS_INF = [  # x = -inf everywhere, shape (1, 1, 4, 4): (kernel, stride, padding) -> grad of x
    ((2, 2, 1), [[1, 1, 0, 1], [1, 1, 0, 1], [0, 0, 0, 0], [1, 1, 0, 1]]),
    ((3, 2, 1), [[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]),
    ((3, 1, 1), [[4, 2, 2, 0], [2, 1, 1, 0], [2, 1, 1, 0], [0, 0, 0, 0]]),
    (((3, 2), (2, 1), (1, 1)), [[2, 1, 1, 1], [2, 1, 1, 1], [0, 0, 0, 0], [0, 0, 0, 0]]),
]


def pool_gradient(x, k, s=None, p=0):
    layer = MaxPool2D(k, s, p)
    y = layer.forward(np.asarray(x, dtype=np.float64)[None, None])
    return y, layer.backward(np.ones_like(y))[0, 0]


@pytest.mark.parametrize("x, torch_grad", TORCH_NAN_WINDOWS)
def test_maxpool_nan_window_gives_its_gradient_to_the_last_nan(x, torch_grad):
    y, dx = pool_gradient(x, 2)
    assert np.isnan(y).all()  # the maximum of a window holding NaN is NaN, as in PyTorch
    np.testing.assert_array_equal(dx, torch_grad)


@pytest.mark.parametrize("ksp, torch_grad", TORCH_ALL_MINUS_INF)
def test_maxpool_all_minus_inf_window_gives_its_gradient_to_its_first_entry_inside(ksp, torch_grad):
    y, dx = pool_gradient(np.full((4, 4), -np.inf), *ksp)
    assert (y == -np.inf).all()
    np.testing.assert_array_equal(dx, torch_grad)


def test_maxpool_winners_match_pytorch_on_random_special_values():
    """Optional cross-check against PyTorch itself (skipped when it is not installed)."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    values = np.array([0.0, 1.0, -1.0, NAN, -INF, INF])
    for _ in range(200):
        k = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
        s = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
        p = (int(rng.integers(0, k[0] // 2 + 1)), int(rng.integers(0, k[1] // 2 + 1)))
        x = rng.choice(values, size=(2, 2, int(rng.integers(k[0], 7)), int(rng.integers(k[1], 7))))
        layer = MaxPool2D(k, s, p)
        y = layer.forward(x)
        dy = rng.standard_normal(y.shape)
        xt = torch.tensor(x, requires_grad=True)
        yt = torch.nn.functional.max_pool2d(xt, k, s, p)
        yt.backward(torch.tensor(dy))
        np.testing.assert_array_equal(y, yt.detach().numpy())
        np.testing.assert_allclose(layer.backward(dy), xt.grad.numpy(), rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------- non-finite upstream gradients
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_maxpool_backward_propagates_nan_and_inf(bad):
    """dy * (winner == k): the winner gets dy, the other entries of the window dy * 0, which is
    NaN for a NaN or an Inf dy (IEEE), without a warning; other windows are untouched."""
    x = np.array([[[[1.0, 5.0, 0.0, 0.0], [3.0, 2.0, 0.0, 0.0]]]])  # windows: max 5 at (0, 1); zeros
    layer = MaxPool2D(2)
    dy = np.ones(layer.forward(x).shape)
    dy[0, 0, 0, 0] = bad
    dx = layer.backward(dy)
    assert dx.shape == x.shape
    expected = np.array([[NAN, bad, 1.0, 0.0], [NAN, NAN, 0.0, 0.0]])
    np.testing.assert_array_equal(dx[0, 0], expected)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_upsampling_backward_propagates_nan_and_inf(bad):
    """A block's sum is NaN/Inf where its dy is; +Inf and -Inf in one block give NaN, no warning."""
    layer = UpSampling2D(2)
    dy = np.ones(layer.forward(np.zeros((1, 1, 2, 2))).shape)  # (1, 1, 4, 4)
    dy[0, 0, 0, 1] = bad
    dy[0, 0, 2, 2], dy[0, 0, 3, 3] = np.inf, -np.inf
    dx = layer.backward(dy)
    assert dx.shape == (1, 1, 2, 2)
    np.testing.assert_array_equal(dx[0, 0], [[bad, 4.0], [4.0, NAN]])
