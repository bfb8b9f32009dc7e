"""Conv2D and Conv2DTranspose against plain-loop references, the adjoint identity, gradient checks;
the fast stride-1 kernel (conv_shifted.py) against the taught im2col route and the loop."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from profiles import examples

from npae.gradcheck import check_layer
from npae.layers import Conv2D, Conv2DTranspose, Sequential, conv, conv_shifted
from npae.layers.conv import col2im, conv_output_size, conv_transpose_output_size, im2col


# ---------------------------------------------------------------- slow, obvious references
def conv2d_loop(x, W, b, stride, padding):
    """y[n, o, h, w] = b[o] + sum_{c,i,j} W[o, c, i, j] * xp[n, c, s*h + i, s*w + j], one output at a time."""
    n_, c_, h_, w_ = x.shape
    o_, _, kh, kw = W.shape
    (sh, sw), (ph, pw) = stride, padding
    xp = np.zeros((n_, c_, h_ + 2 * ph, w_ + 2 * pw))
    xp[:, :, ph:ph + h_, pw:pw + w_] = x
    ho, wo = (h_ + 2 * ph - kh) // sh + 1, (w_ + 2 * pw - kw) // sw + 1
    y = np.zeros((n_, o_, ho, wo))
    for n in range(n_):
        for o in range(o_):
            for h in range(ho):
                for w in range(wo):
                    y[n, o, h, w] = b[o] + np.sum(W[o] * xp[n, :, h * sh:h * sh + kh, w * sw:w * sw + kw])
    return y


def conv_transpose2d_loop(x, W, b, stride, padding, output_padding):
    """Each input pixel adds x[n, c, h, w] * W[c] at (s*h, s*w) of a canvas; crop padding; add b."""
    n_, c_, h_, w_ = x.shape
    _, o_, kh, kw = W.shape
    (sh, sw), (ph, pw), (oph, opw) = stride, padding, output_padding
    ho = (h_ - 1) * sh - 2 * ph + kh + oph
    wo = (w_ - 1) * sw - 2 * pw + kw + opw
    canvas = np.zeros((n_, o_, max((h_ - 1) * sh + kh, ph + ho), max((w_ - 1) * sw + kw, pw + wo)))
    for n in range(n_):
        for c in range(c_):
            for h in range(h_):
                for w in range(w_):
                    canvas[n, :, h * sh:h * sh + kh, w * sw:w * sw + kw] += x[n, c, h, w] * W[c]
    return canvas[:, :, ph:ph + ho, pw:pw + wo] + b[None, :, None, None]


# ---------------------------------------------------------------- random configurations
@st.composite
def conv_config(draw):
    k = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    s = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    p = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    hw = tuple(draw(st.integers(max(1, k[a] - 2 * p[a]), 9)) for a in range(2))
    return dict(n=draw(st.integers(1, 3)), c=draw(st.integers(1, 3)), o=draw(st.integers(1, 3)),
                hw=hw, k=k, s=s, p=p, seed=draw(st.integers(0, 2**16)))


@examples(60)
@given(conv_config())
def test_conv2d_matches_loop_reference(cfg):
    rng = np.random.default_rng(cfg["seed"])
    layer = Conv2D(cfg["c"], cfg["o"], cfg["k"], cfg["s"], cfg["p"], rng=rng, dtype=np.float64)
    layer.params["b"][:] = rng.standard_normal(cfg["o"])
    x = rng.standard_normal((cfg["n"], cfg["c"], *cfg["hw"]))
    y = layer.forward(x)
    expected = conv2d_loop(x, layer.params["W"], layer.params["b"], cfg["s"], cfg["p"])
    assert y.shape == expected.shape == layer.output_shape(x.shape)
    np.testing.assert_allclose(y, expected, rtol=1e-10, atol=1e-12)


@examples(60)
@given(conv_config(), st.data())
def test_conv_transpose2d_matches_loop_reference(cfg, data):
    rng = np.random.default_rng(cfg["seed"])
    op = tuple(data.draw(st.integers(0, s - 1)) for s in cfg["s"])
    layer = Conv2DTranspose(cfg["c"], cfg["o"], cfg["k"], cfg["s"], cfg["p"], op, rng=rng, dtype=np.float64)
    layer.params["b"][:] = rng.standard_normal(cfg["o"])
    # inputs large enough that the output is not empty
    hw = tuple(max(h, 1 + 2 * p) for h, p in zip(cfg["hw"], cfg["p"], strict=True))
    x = rng.standard_normal((cfg["n"], cfg["c"], *hw))
    y = layer.forward(x)
    expected = conv_transpose2d_loop(x, layer.params["W"], layer.params["b"], cfg["s"], cfg["p"], op)
    assert y.shape == expected.shape == layer.output_shape(x.shape)
    np.testing.assert_allclose(y, expected, rtol=1e-10, atol=1e-12)


@examples(40)
@given(conv_config())
def test_adjoint_identity(cfg):
    """<conv(x), y> = <x, conv_T(y)> with the same weights, zero bias and matching output_padding."""
    rng = np.random.default_rng(cfg["seed"])
    conv = Conv2D(cfg["c"], cfg["o"], cfg["k"], cfg["s"], cfg["p"], rng=rng, dtype=np.float64)
    x = rng.standard_normal((cfg["n"], cfg["c"], *cfg["hw"]))
    cx = conv.forward(x)
    # the output_padding that takes conv's output size back to the input size
    op = tuple((h + 2 * p - k) % s
               for h, p, k, s in zip(cfg["hw"], cfg["p"], cfg["k"], cfg["s"], strict=True))
    convT = Conv2DTranspose(cfg["o"], cfg["c"], cfg["k"], cfg["s"], cfg["p"], op, dtype=np.float64)
    convT.params["W"][...] = conv.params["W"]  # (O, C, kH, kW) is (in, out, kH, kW) of the transpose
    y = rng.standard_normal(cx.shape)
    cty = convT.forward(y)
    assert cty.shape == x.shape
    lhs, rhs = np.vdot(cx, y), np.vdot(x, cty)
    assert abs(lhs - rhs) <= 1e-10 * (1 + abs(lhs))


@examples(30)
@given(conv_config())
def test_col2im_is_adjoint_of_im2col(cfg):
    rng = np.random.default_rng(cfg["seed"])
    hp, wp = (h + 2 * p for h, p in zip(cfg["hw"], cfg["p"], strict=True))
    out = (conv_output_size(cfg["hw"][0], cfg["k"][0], cfg["s"][0], cfg["p"][0]),
           conv_output_size(cfg["hw"][1], cfg["k"][1], cfg["s"][1], cfg["p"][1]))
    xp = rng.standard_normal((cfg["c"], hp, wp, cfg["n"]))  # (C, H_p, W_p, N)
    cols = im2col(xp, cfg["k"], cfg["s"], out)
    other = rng.standard_normal(cols.shape)
    back = col2im(other, xp.shape, cfg["k"], cfg["s"], out)
    np.testing.assert_allclose(np.vdot(cols, other), np.vdot(xp, back), rtol=1e-10)


# ---------------------------------------------------------------- gradients (float64, < 1e-7)
@pytest.mark.parametrize("k, s, p", [(3, 1, 0), (3, 2, 1), ((2, 3), (2, 1), (0, 1))])
def test_conv2d_gradients(k, s, p):
    rng = np.random.default_rng(0)
    layer = Conv2D(2, 3, k, s, p, rng=rng, dtype=np.float64)
    layer.params["b"][:] = rng.standard_normal(3)
    errors = check_layer(layer, rng.standard_normal((2, 2, 5, 6)), rng)
    assert set(errors) == {"x", "W", "b"}
    assert max(errors.values()) < 1e-7, errors


@pytest.mark.parametrize("c, o, k, p", [(3, 2, 3, 1), (4, 1, (2, 3), (1, 0))])
def test_fast_stride1_kernel_gradients(c, o, k, p):
    """Stride 1 with O < C runs conv_shifted.py; its gradients pass the same check."""
    rng = np.random.default_rng(6)
    layer = Conv2D(c, o, k, 1, p, rng=rng, dtype=np.float64)
    layer.params["b"][:] = rng.standard_normal(o)
    errors = check_layer(layer, rng.standard_normal((2, c, 5, 4)), rng)
    assert layer._fast
    assert set(errors) == {"x", "W", "b"}
    assert max(errors.values()) < 1e-7, errors


@pytest.mark.parametrize("k, s, p, op", [(3, 1, 0, 0), (3, 2, 1, 1), ((2, 3), (2, 3), (0, 1), (1, 2))])
def test_conv_transpose2d_gradients(k, s, p, op):
    rng = np.random.default_rng(1)
    layer = Conv2DTranspose(2, 3, k, s, p, op, rng=rng, dtype=np.float64)
    layer.params["b"][:] = rng.standard_normal(3)
    errors = check_layer(layer, rng.standard_normal((2, 2, 4, 3)), rng)
    assert set(errors) == {"x", "W", "b"}
    assert max(errors.values()) < 1e-7, errors


def test_gradient_check_catches_a_wrong_backward():
    """The check must fail when the input gradient forgets the overlap of stride-1 windows."""
    rng = np.random.default_rng(2)
    layer = Conv2D(1, 1, 3, 1, 0, rng=rng, dtype=np.float64)
    good = layer.backward
    layer.backward = lambda dy: 0.5 * good(dy)
    assert check_layer(layer, rng.standard_normal((1, 1, 5, 5)), rng)["x"] > 0.1


def test_backward_overwrites_grads_and_chains_through_views():
    rng = np.random.default_rng(3)
    net = Sequential(Conv2D(1, 4, 3, 2, 1, rng=rng), Conv2DTranspose(4, 1, 3, 2, 1, 1, rng=rng))
    x = rng.standard_normal((3, 1, 8, 8)).astype(np.float32)
    y = net.forward(x)
    assert y.shape == x.shape and y.dtype == np.float32
    dy = rng.standard_normal(y.shape).astype(np.float32)
    net.backward(dy)
    first = {k: g.copy() for k, g in net.grads.items()}
    net.forward(x)
    net.backward(dy)
    for k, g in net.grads.items():
        np.testing.assert_array_equal(g, first[k])


# ---------------------------------------------------------------- sizes and errors
def test_output_size_formulas():
    assert conv_output_size(28, 3, 2, 1) == 14
    assert conv_output_size(7, 3, 2, 1) == 4
    assert conv_transpose_output_size(7, 3, 2, 1, 1) == 14
    assert conv_transpose_output_size(14, 3, 2, 1, 1) == 28
    assert Conv2D(1, 16, 3, 2, 1).output_shape((5, 1, 28, 28)) == (5, 16, 14, 14)
    assert Conv2DTranspose(32, 16, 3, 2, 1, 1).output_shape((5, 32, 7, 7)) == (5, 16, 14, 14)


def test_weight_layouts_follow_pytorch():
    assert Conv2D(3, 5, (2, 4)).params["W"].shape == (5, 3, 2, 4)
    assert Conv2DTranspose(3, 5, (2, 4)).params["W"].shape == (3, 5, 2, 4)
    assert Conv2D(3, 5, 2).params["b"].shape == Conv2DTranspose(3, 5, 2).params["b"].shape == (5,)


def test_output_shape_refuses_an_input_smaller_than_the_kernel():
    """The size check sits in output_shape (a model's door), not in the forward pass."""
    msg = r"Conv2D\(1, 8, kernel_size=\(5, 5\).*\(3, 3\).*smaller than the kernel"
    with pytest.raises(ValueError, match=msg):
        Conv2D(1, 8, 5).output_shape((2, 1, 3, 3))
    with pytest.raises(ValueError, match=r"Conv2DTranspose.*empty output"):
        Conv2DTranspose(1, 1, 1, padding=1).output_shape((1, 1, 2, 2))


@pytest.mark.parametrize("kwargs, error", [
    (dict(kernel_size=0), ValueError), (dict(kernel_size=(3,)), TypeError),
    (dict(kernel_size=2.5), TypeError),
    (dict(kernel_size=3, stride=0), ValueError), (dict(kernel_size=3, padding=-1), ValueError),
])
def test_bad_arguments(kwargs, error):
    with pytest.raises(error):
        Conv2D(1, 2, **kwargs)


def test_output_padding_must_be_smaller_than_stride():
    with pytest.raises(ValueError, match="output_padding must be smaller than stride"):
        Conv2DTranspose(1, 1, 3, stride=2, output_padding=2)


@pytest.mark.parametrize("cls, args", [(Conv2D, (2, 3, 3, 2, 1)), (Conv2DTranspose, (2, 3, 3, 2, 1, 1))])
def test_input_grad_false_gives_the_same_parameter_gradients(cls, args):
    rng = np.random.default_rng(4)
    layer = cls(*args, rng=rng, dtype=np.float64)
    x = rng.standard_normal((2, 2, 5, 5))
    dy = rng.standard_normal(layer.forward(x).shape)
    assert layer.backward(dy) is not None
    full = {k: g.copy() for k, g in layer.grads.items()}
    assert layer.backward(dy, input_grad=False) is None
    for k, g in layer.grads.items():
        np.testing.assert_array_equal(g, full[k])


# ---------------------------------------------------------------- the fast stride-1 kernel
@st.composite
def fast_config(draw):
    """Layers that conv_shifted.py computes: stride 1, fewer output than input channels, padding < kernel."""
    k = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    p = tuple(draw(st.integers(0, k[a] - 1)) for a in range(2))
    c = draw(st.integers(2, 5))
    hw = tuple(draw(st.integers(max(1, k[a] - 2 * p[a]), 8)) for a in range(2))
    return dict(n=draw(st.integers(1, 3)), c=c, o=draw(st.integers(1, c - 1)), hw=hw, k=k, s=(1, 1), p=p,
                seed=draw(st.integers(0, 2**16)))


@examples(40)
@given(fast_config())
def test_fast_stride1_kernel_equals_the_taught_route_and_the_loop(cfg):
    """y, dx, dW and db of conv_shifted.py equal those of the im2col route; y equals the loop."""
    rng = np.random.default_rng(cfg["seed"])
    layer = Conv2D(cfg["c"], cfg["o"], cfg["k"], 1, cfg["p"], rng=rng, dtype=np.float64)
    layer.params["b"][:] = rng.standard_normal(cfg["o"])
    assert conv_shifted.runs_for(layer.params["W"].shape, layer.stride, layer.padding)
    x = rng.standard_normal((cfg["n"], cfg["c"], *cfg["hw"]))
    dy = rng.standard_normal(layer.output_shape(x.shape))
    routes = {}
    for fast in (True, False):
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(conv, "FAST_STRIDE1", fast)
            y = layer.forward(x)
            assert layer._fast is fast
            dx = layer.backward(dy)
        routes[fast] = (y, dx, layer.grads["W"], layer.grads["b"])
    expected = conv2d_loop(x, layer.params["W"], layer.params["b"], (1, 1), cfg["p"])
    np.testing.assert_allclose(routes[True][0], expected, rtol=1e-10, atol=1e-12)
    for fast, taught in zip(routes[True], routes[False], strict=True):
        np.testing.assert_allclose(fast, taught, rtol=1e-10, atol=1e-12)


@examples(40)
@given(conv_config())
def test_conv2d_backward_matches_the_im2col_formulas(cfg):
    """Whatever path a shape takes (im2col, shifted GEMMs, dx as a convolution), the gradients are
    dW = dY cols^T, db = sum dY and dx = conv_transpose(dy) with the same weights."""
    rng = np.random.default_rng(cfg["seed"])
    n, c, o, (h, w), k, s, p = cfg["n"], cfg["c"], cfg["o"], cfg["hw"], cfg["k"], cfg["s"], cfg["p"]
    layer = Conv2D(c, o, k, s, p, rng=rng, dtype=np.float64)
    x = rng.standard_normal((n, c, h, w))
    dy = rng.standard_normal(layer.forward(x).shape)
    dx = layer.backward(dy)
    xp = np.zeros((c, h + 2 * p[0], w + 2 * p[1], n))  # (C, H_p, W_p, N)
    xp[:, p[0]:p[0] + h, p[1]:p[1] + w] = x.transpose(1, 2, 3, 0)
    cols = im2col(xp, k, s, dy.shape[2:])  # (C*kH*kW, H_out*W_out*N)
    dY = dy.transpose(1, 2, 3, 0).reshape(o, -1)  # (O, H_out*W_out*N)
    np.testing.assert_allclose(layer.grads["W"], (dY @ cols.T).reshape(o, c, *k), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(layer.grads["b"], dY.sum(axis=1), rtol=1e-10, atol=1e-10)
    op = tuple((size + 2 * pp - kk) % ss for size, pp, kk, ss in zip((h, w), p, k, s, strict=True))
    convT = Conv2DTranspose(o, c, k, s, p, op, dtype=np.float64)
    convT.params["W"][...] = layer.params["W"]
    np.testing.assert_allclose(dx, convT.forward(dy), rtol=1e-10, atol=1e-10)


# ---------------------------------------------------------------- non-finite upstream gradients
@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_conv2d_backward_propagates_nan_and_inf(bad, fast, monkeypatch):
    """One bad dy[1, o, 2, 2] reaches, by plain arithmetic and without a warning: the 3x3 window it
    came from in every channel of dx[1], all of dW[o] and db[o]; NaN stays NaN, Inf stays Inf
    (nothing multiplies it by 0 here: the window lies inside the image)."""
    monkeypatch.setattr(conv, "FAST_STRIDE1", fast)
    rng = np.random.default_rng(7)
    layer = Conv2D(3, 2, 3, 1, 1, rng=rng, dtype=np.float64)  # stride 1, O < C: the fast kernel if on
    x = rng.standard_normal((2, 3, 5, 5))
    dy = rng.standard_normal(layer.forward(x).shape)
    assert layer._fast is fast
    dy[1, 1, 2, 2] = bad
    dx = layer.backward(dy)
    assert dx.shape == x.shape
    window = np.zeros(x.shape, dtype=bool)
    window[1, :, 1:4, 1:4] = True
    kind = np.isnan if np.isnan(bad) else np.isinf
    np.testing.assert_array_equal(kind(dx), window)
    np.testing.assert_array_equal(np.isfinite(dx), ~window)
    assert kind(layer.grads["W"][1]).all() and np.isfinite(layer.grads["W"][0]).all()
    assert kind(layer.grads["b"][1]) and np.isfinite(layer.grads["b"][0])


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_conv_transpose2d_backward_propagates_nan_and_inf(bad):
    """dy[1, 2, 1, 1] (canvas row and column 2 = 2*h + i) comes from the inputs h, w in {0, 1} with
    kernel offsets i, j in {2, 0}: those inputs of dx[1] in every channel and W[:, 2, ::2, ::2]."""
    rng = np.random.default_rng(8)
    layer = Conv2DTranspose(2, 3, 3, 2, 1, 1, rng=rng, dtype=np.float64)
    x = rng.standard_normal((2, 2, 3, 3))
    dy = rng.standard_normal(layer.forward(x).shape)  # (2, 3, 6, 6)
    dy[1, 2, 1, 1] = bad
    dx = layer.backward(dy)
    assert dx.shape == x.shape
    kind = np.isnan if np.isnan(bad) else np.isinf
    expected = np.zeros(x.shape, dtype=bool)
    expected[1, :, :2, :2] = True
    np.testing.assert_array_equal(kind(dx), expected)
    np.testing.assert_array_equal(np.isfinite(dx), ~expected)
    expected = np.zeros(layer.params["W"].shape, dtype=bool)
    expected[:, 2, ::2, ::2] = True
    np.testing.assert_array_equal(kind(layer.grads["W"]), expected)
    np.testing.assert_array_equal(np.isfinite(layer.grads["W"]), ~expected)
    np.testing.assert_array_equal(np.isfinite(layer.grads["b"]), [True, True, False])
