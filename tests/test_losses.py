"""Losses: values of both reductions against closed forms, gradients checked in float64 (< 1e-7),
float32 stability, dtype, bad input, and PyTorch's reduction semantics when torch is importable."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from profiles import examples

from npae import losses, penalties
from npae.gradcheck import check_function
from npae.losses import bce, bce_with_logits, mae, mse, sse

TOL = 1e-7
REDUCTIONS = ("mean", "sum")
shapes = st.tuples(st.integers(1, 4), st.integers(1, 6))


def _data(shape, seed):
    """pred and target in (0.05, 0.95), never equal (MAE's kink), logits in [-4, 4]."""
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.05, 0.95, shape)
    t = rng.uniform(0.0, 1.0, shape)
    t = np.where(np.abs(p - t) < 1e-3, t + 2e-3, t)
    return p, t, rng.uniform(-4, 4, shape)


# ---------------------------------------------------------------- values against closed forms
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_values_closed_forms(reduction):
    p, t, logits = _data((3, 5), 0)
    agg = np.mean if reduction == "mean" else np.sum
    elem_mse = [(a - b) ** 2 for a, b in zip(p.ravel(), t.ravel(), strict=True)]
    elem_mae = [abs(a - b) for a, b in zip(p.ravel(), t.ravel(), strict=True)]
    elem_bce = [-(b * np.log(a) + (1 - b) * np.log(1 - a)) for a, b in zip(p.ravel(), t.ravel(), strict=True)]
    s = 1 / (1 + np.exp(-logits))
    elem_bcel = -(t * np.log(s) + (1 - t) * np.log(1 - s))
    assert mse(p, t, reduction)[0] == pytest.approx(agg(elem_mse), rel=1e-12)
    assert mae(p, t, reduction)[0] == pytest.approx(agg(elem_mae), rel=1e-12)
    assert bce(p, t, reduction)[0] == pytest.approx(agg(elem_bce), rel=1e-12)
    assert bce_with_logits(logits, t, reduction)[0] == pytest.approx(agg(elem_bcel), rel=1e-12)
    # sse: half the squared error summed per example, then averaged (mean) or summed over examples
    per_example = 0.5 * ((p - t) ** 2).sum(axis=1)
    expected_sse = per_example.mean() if reduction == "mean" else per_example.sum()
    assert sse(p, t, reduction)[0] == pytest.approx(expected_sse, rel=1e-12)


@pytest.mark.parametrize("loss", [mse, mae, bce, bce_with_logits])
def test_sum_is_size_times_mean(loss):
    p, t, logits = _data((4, 3), 1)
    x = logits if loss is bce_with_logits else p
    vm, gm = loss(x, t, "mean")
    vs, gs = loss(x, t, "sum")
    assert vs == pytest.approx(vm * x.size, rel=1e-12)
    assert np.allclose(gs, gm * x.size, rtol=1e-12)


def test_gradient_closed_forms():
    p, t, logits = _data((2, 3), 2)
    n = p.size
    assert np.allclose(mse(p, t)[1], 2 * (p - t) / n)
    assert np.allclose(mae(p, t)[1], np.sign(p - t) / n)
    assert np.allclose(sse(p, t)[1], (p - t) / p.shape[0])
    assert np.allclose(bce(p, t)[1], (-t / p + (1 - t) / (1 - p)) / n)
    assert np.allclose(bce_with_logits(logits, t)[1], (1 / (1 + np.exp(-logits)) - t) / n)


def test_bce_with_logits_equals_bce_of_sigmoid():
    _, t, logits = _data((3, 4), 3)
    p = 1 / (1 + np.exp(-logits))
    assert bce_with_logits(logits, t)[0] == pytest.approx(bce(p, t)[0], rel=1e-12)
    # chain rule: dL/dl = dL/dp * p (1 - p)
    assert np.allclose(bce_with_logits(logits, t)[1], bce(p, t)[1] * p * (1 - p))


def test_losses_are_zero_at_the_target():
    t = np.random.default_rng(4).uniform(0.2, 0.8, (3, 3))
    assert mse(t, t)[0] == 0 and mae(t, t)[0] == 0 and sse(t, t)[0] == 0
    # BCE is minimal (not zero) at p = t: its minimum is the entropy of t
    entropy = -(t * np.log(t) + (1 - t) * np.log(1 - t)).mean()
    assert bce(t, t)[0] == pytest.approx(entropy, rel=1e-12)
    assert np.allclose(bce(t, t)[1], 0, atol=1e-12)


# ---------------------------------------------------------------- gradient checks
@pytest.mark.parametrize("loss", [mse, mae, sse, bce, bce_with_logits], ids=lambda f: f.__name__)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@examples(10)
@given(shape=shapes, seed=st.integers(0, 2**16))
def test_loss_gradient(loss, reduction, shape, seed):
    p, t, logits = _data(shape, seed)
    x = logits if loss is bce_with_logits else p
    err = check_function(loss, x, t, reduction=reduction)
    assert err < TOL, err


# ---------------------------------------------------------------- stability and dtype
def test_bce_with_logits_stable_at_1000_in_float32():
    logits = np.array([[-1000.0, 1000.0, -1000.0, 1000.0]], dtype=np.float32)
    target = np.array([[0.0, 1.0, 1.0, 0.0]], dtype=np.float32)
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        value, grad = bce_with_logits(logits, target, "sum")
    # right answers: 0, 0, 1000, 1000 (log(1 + e^1000) = 1000 in float32)
    assert value == pytest.approx(2000.0, rel=1e-6)
    assert grad.dtype == np.float32
    assert np.array_equal(grad, [[0.0, 0.0, -1.0, 1.0]])


def test_bce_clips_probabilities_0_and_1():
    p = np.array([[0.0, 1.0, 0.0, 1.0]], dtype=np.float32)
    t = np.array([[0.0, 1.0, 1.0, 0.0]], dtype=np.float32)
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        value, grad = bce(p, t, "sum")
    assert np.isfinite(value) and np.isfinite(grad).all()
    # a confident wrong answer costs -log(eps) = 15.9 each in float32
    assert value == pytest.approx(-2 * np.log(np.finfo(np.float32).eps), rel=1e-3)


@pytest.mark.parametrize("loss", [mse, mae, sse, bce, bce_with_logits], ids=lambda f: f.__name__)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gradient_keeps_dtype(loss, dtype):
    p, t, _ = _data((2, 3), 5)
    value, grad = loss(p.astype(dtype), t.astype(dtype))
    assert isinstance(value, float)
    assert grad.dtype == dtype and grad.shape == p.shape


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize("loss", [mse, mae, sse, bce, bce_with_logits], ids=lambda f: f.__name__)
def test_bad_input(loss):
    p, t, _ = _data((2, 3), 6)
    with pytest.raises(ValueError, match="same shape"):
        loss(p, t[:, :2])
    bad = p.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="pred"):
        loss(bad, t)
    with pytest.raises(ValueError, match="target"):
        loss(p, np.where(t > 0.5, np.inf, t))
    with pytest.raises(ValueError, match="reduction"):
        loss(p, t, reduction="avg")
    with pytest.raises(TypeError, match="pred"):
        loss(np.array([["a", "b"]]), t[:1, :2])
    with pytest.raises(ValueError, match="pred"):
        loss(np.zeros((0, 3)), np.zeros((0, 3)))


def test_bce_values_outside_0_1():
    p, t, _ = _data((2, 3), 7)
    with pytest.raises(ValueError, match="pred"):
        bce(p + 1.0, t)
    with pytest.raises(ValueError, match="pred"):
        bce(p - 1.0, t)
    with pytest.raises(ValueError, match="target"):
        bce(p, t + 1.5)
    with pytest.raises(ValueError, match="target"):
        bce_with_logits(p, -t - 0.1)


# ---------------------------------------------------------------- PyTorch semantics
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_matches_torch(reduction):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    p, t, logits = _data((3, 4), 8)
    tp, tt, tl = (torch.tensor(a, requires_grad=True) for a in (p, t, logits))
    pairs = [(mse, F.mse_loss, p, tp), (mae, F.l1_loss, p, tp), (bce, F.binary_cross_entropy, p, tp),
             (bce_with_logits, F.binary_cross_entropy_with_logits, logits, tl)]
    for ours, theirs, x, tx in pairs:
        tx.grad = None
        ref = theirs(tx, tt.detach(), reduction=reduction)
        ref.backward()
        value, grad = ours(x, t, reduction)
        assert value == pytest.approx(ref.item(), rel=1e-12), ours.__name__
        assert np.allclose(grad, tx.grad.numpy(), rtol=1e-10, atol=1e-15), ours.__name__


@pytest.mark.parametrize("name", ["mse", "mae", "sse", "bce", "bce_with_logits"])
def test_loss_values_are_accumulated_in_float64(name):
    """A float32 mean of 1e6 entries is off by 1e-8 to 4e-8 relative here (1e-4 at 1e7); the value must
    be as accurate as float64 rounding allows (the gradient stays float32)."""
    rng = np.random.default_rng(0)
    pred = rng.uniform(0.05, 0.95, 10**6).astype(np.float32)
    target = rng.uniform(0.0, 1.0, 10**6).astype(np.float32)
    value, grad = getattr(losses, name)(pred, target)
    reference = getattr(losses, name)(pred.astype(np.float64), target.astype(np.float64))[0]
    assert grad.dtype == np.float32
    assert value == pytest.approx(reference, rel=5e-9)  # here 2.6e-9 at most; float32 sums: 9.6e-9 to 3.8e-8


def test_penalty_values_are_accumulated_in_float64():
    rng = np.random.default_rng(1)
    W = {"W": rng.standard_normal((1000, 2000)).astype(np.float32)}  # float32 sums: 1.8e-8 off
    value = penalties.l2_weight_decay(W, 1.0)[0]
    assert value == pytest.approx(0.5 * np.sum(W["W"].astype(np.float64) ** 2), rel=1e-9)
    h = rng.standard_normal((1000, 2000)).astype(np.float32)  # float32 sum: 2.0e-8 off
    assert penalties.l1_activity(h)[0] == pytest.approx(np.abs(h.astype(np.float64)).sum() / 1000, rel=1e-12)


# ---------------------------------------------------------------- softmax cross-entropy
def _logits_labels(n, c, seed):
    rng = np.random.default_rng(seed)
    return rng.uniform(-4, 4, (n, c)), rng.integers(0, c, n)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_softmax_cross_entropy_against_a_loop(reduction):
    logits, y = _logits_labels(5, 4, 0)
    per_example = [-(l[t] - np.log(np.sum(np.exp(l)))) for l, t in zip(logits, y, strict=True)]
    value, dlogits = losses.softmax_cross_entropy(logits, y, reduction)
    expected = np.mean(per_example) if reduction == "mean" else np.sum(per_example)
    assert value == pytest.approx(expected, rel=1e-12)
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    onehot = np.eye(4)[y]
    scale = 1 / 5 if reduction == "mean" else 1.0
    np.testing.assert_allclose(dlogits, scale * (p - onehot), rtol=1e-12, atol=1e-15)


@examples(25)
@given(n=st.integers(1, 6), c=st.integers(2, 7), seed=st.integers(0, 2**16),
       reduction=st.sampled_from(REDUCTIONS))
def test_softmax_cross_entropy_gradient(n, c, seed, reduction):
    logits, y = _logits_labels(n, c, seed)
    err = check_function(losses.softmax_cross_entropy, logits, y, reduction=reduction)
    assert err < TOL


def test_softmax_cross_entropy_fails_the_check_without_the_onehot():
    """The checker must be able to fail: softmax(l) / N alone (the label term forgotten) is wrong."""
    logits, y = _logits_labels(6, 5, 1)

    def wrong(l, t):
        value, _ = losses.softmax_cross_entropy(l, t)
        return value, losses.softmax(l) / len(l)

    assert check_function(wrong, logits, y) > 0.1


def test_softmax_cross_entropy_stable_at_1000_in_float32():
    logits = np.array([[1000.0, 0.0, -1000.0], [-1000.0, 1000.0, 999.0]], dtype=np.float32)
    value, dlogits = losses.softmax_cross_entropy(logits, np.array([0, 2]))
    assert np.isfinite(value) and np.all(np.isfinite(dlogits)) and dlogits.dtype == np.float32
    # example 1 is right with certainty (loss 0), example 2 puts e/(1+e) on class 1 and 1/(1+e) on class 2
    assert value == pytest.approx(0.5 * np.log1p(np.e), rel=1e-6)
    np.testing.assert_allclose(losses.softmax(logits).sum(axis=1), 1.0, rtol=1e-6)


@pytest.mark.parametrize("y, match", [([0, -1, 2], r"y must hold class ids in \[0, 3\), got -1 at index 1"),
                                      ([0, 3, 2], r"class ids in \[0, 3\), got 3 at index 1"),
                                      ([0, 1.5, 2], "y must hold integer class ids, got 1.5 at index 1"),
                                      ([0, 1], "y must have one label per sample: length 3, got length 2"),
                                      ([[0], [1], [2]], "y must have 1 dimensions"),
                                      ([0, np.nan, 1], "y must be finite")])
def test_softmax_cross_entropy_bad_labels(y, match):
    logits, _ = _logits_labels(3, 3, 2)
    with pytest.raises(ValueError, match=match):
        losses.softmax_cross_entropy(logits, y)


def test_softmax_cross_entropy_bad_arguments():
    logits, y = _logits_labels(3, 3, 2)
    with pytest.raises(TypeError, match="y must hold integer class ids, got a bool array"):
        losses.softmax_cross_entropy(logits, np.array([True, False, True]))
    with pytest.raises(TypeError, match="y must hold real numbers"):
        losses.softmax_cross_entropy(logits, ["a", "b", "c"])
    with pytest.raises(ValueError, match="logits must have at least 2 columns"):
        losses.softmax_cross_entropy(logits[:, :1], [0, 0, 0])
    with pytest.raises(ValueError, match="logits must be finite"):
        losses.softmax_cross_entropy(np.full((3, 3), np.inf), y)
    as_floats = losses.softmax_cross_entropy(logits, y.astype(np.float32))[0]  # whole numbers as floats: fine
    assert as_floats == losses.softmax_cross_entropy(logits, y)[0]


def test_softmax_cross_entropy_matches_torch():
    torch = pytest.importorskip("torch")
    logits, y = _logits_labels(6, 4, 3)
    tl = torch.tensor(logits, requires_grad=True)
    ref = torch.nn.functional.cross_entropy(tl, torch.tensor(y))
    ref.backward()
    value, grad = losses.softmax_cross_entropy(logits, y)
    assert value == pytest.approx(ref.item(), rel=1e-12)
    np.testing.assert_allclose(grad, tl.grad.numpy(), rtol=1e-10, atol=1e-15)
