"""SGD and Adam: hand-computed update sequences, an independent reference written from the update
equations, PyTorch's optimisers when torch is importable, in-place updates, state, bad input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from profiles import examples

from npae.optim import SGD, Adam

STEPS = 6


def _run(opt, p0: float, grads: list[float]) -> list[float]:
    """Apply ``opt`` to a one-element parameter with the given gradient sequence; the trajectory."""
    p = {"w": np.array([p0])}
    out = []
    for g in grads:
        opt.step(p, {"w": np.array([g])})
        out.append(float(p["w"][0]))
    return out


# ---------------------------------------------------------------- worked by hand
def test_sgd_by_hand():
    # p = 1, constant g = 0.5, lr = 0.1
    assert _run(SGD(0.1), 1.0, [0.5] * 3) == pytest.approx([0.95, 0.90, 0.85])
    # momentum 0.9: v = 0.5, 0.95, 1.355 -> p = 0.95, 0.855, 0.7195
    assert _run(SGD(0.1, momentum=0.9), 1.0, [0.5] * 3) == pytest.approx([0.95, 0.855, 0.7195])
    # Nesterov: step with g + 0.9 v: 0.5 + 0.45 = 0.95, then 0.5 + 0.9 * 0.95 = 1.355
    assert _run(SGD(0.1, momentum=0.9, nesterov=True), 1.0, [0.5] * 2) == pytest.approx([0.905, 0.7695])
    # weight decay 0.1 and zero gradient: p <- p - lr * 0.1 p = 0.99 p
    assert _run(SGD(0.1, weight_decay=0.1), 1.0, [0.0] * 2) == pytest.approx([0.99, 0.9801])


def test_adam_by_hand_bias_correction():
    # With a constant gradient, m_hat = g and v_hat = g^2 at every step (that is what the bias
    # correction is for), so every step moves p by lr * g / (|g| + eps) ~ lr.
    traj = _run(Adam(lr=0.1), 1.0, [0.5] * 4)
    assert traj == pytest.approx([0.9, 0.8, 0.7, 0.6], abs=1e-7)
    # Without the correction the first step would be lr * (0.1 g) / sqrt(0.001 g^2) = 3.16 lr.
    # A sign change: step 2 has m = 0.9*0.05 - 0.05 = -0.005, m_hat = -0.005/0.19,
    # v = 0.999*0.00025 + 0.00025 = 0.00049975, v_hat = 0.00049975/0.001999 = 0.25
    m_hat, v_hat = -0.005 / 0.19, 0.00049975 / (1 - 0.999 ** 2)
    p1 = 1.0 - 0.1 * 0.5 / (0.5 + 1e-8)  # step 1, eps included
    expected = p1 - 0.1 * m_hat / (np.sqrt(v_hat) + 1e-8)
    assert _run(Adam(lr=0.1), 1.0, [0.5, -0.5])[1] == pytest.approx(expected, rel=1e-12)


def test_adam_weight_decay_by_hand():
    # zero gradient, weight_decay 0.5: g = 0.5 p = 0.5 at step 1 -> the step is still ~lr
    assert _run(Adam(lr=0.01, weight_decay=0.5), 1.0, [0.0])[0] == pytest.approx(0.99, abs=1e-7)


# ---------------------------------------------------------------- an independent reference
def _reference(kind: str, hp: dict, p0: np.ndarray, grads: list[np.ndarray]) -> np.ndarray:
    """The update equations of PyTorch's documentation, one scalar at a time (slow, obvious)."""
    p = [float(v) for v in p0.ravel()]
    buf: list[float | None] = [None] * len(p)
    m = [0.0] * len(p)
    v = [0.0] * len(p)
    for t, grad in enumerate(grads, start=1):
        for i, g in enumerate(grad.ravel()):
            g = float(g) + hp.get("weight_decay", 0.0) * p[i]
            if kind == "sgd":
                mu = hp.get("momentum", 0.0)
                if mu:
                    buf[i] = g if buf[i] is None else mu * buf[i] + g
                    g = g + mu * buf[i] if hp.get("nesterov") else buf[i]
                p[i] -= hp["lr"] * g
            else:
                b1, b2 = hp.get("betas", (0.9, 0.999))
                m[i] = b1 * m[i] + (1 - b1) * g
                v[i] = b2 * v[i] + (1 - b2) * g * g
                m_hat, v_hat = m[i] / (1 - b1 ** t), v[i] / (1 - b2 ** t)
                p[i] -= hp["lr"] * m_hat / (v_hat ** 0.5 + hp.get("eps", 1e-8))
    return np.array(p).reshape(p0.shape)


CONFIGS = [
    ("sgd", {"lr": 0.05}),
    ("sgd", {"lr": 0.05, "momentum": 0.9}),
    ("sgd", {"lr": 0.05, "momentum": 0.8, "nesterov": True}),
    ("sgd", {"lr": 0.05, "momentum": 0.5, "weight_decay": 0.1}),
    ("sgd", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    ("adam", {"lr": 0.01}),
    ("adam", {"lr": 0.003, "betas": (0.8, 0.99), "eps": 1e-6}),
    ("adam", {"lr": 0.01, "weight_decay": 0.1}),
]


def _make(kind, hp):
    return SGD(**hp) if kind == "sgd" else Adam(**hp)


@pytest.mark.parametrize(("kind", "hp"), CONFIGS)
@examples(5)
@given(seed=st.integers(0, 2**16))
def test_against_reference(kind, hp, seed):
    rng = np.random.default_rng(seed)
    p0 = rng.standard_normal((2, 3))
    grads = [rng.standard_normal((2, 3)) for _ in range(STEPS)]
    params = {"a": p0.copy()}
    opt = _make(kind, hp)
    for g in grads:
        opt.step(params, {"a": g})
    assert np.allclose(params["a"], _reference(kind, hp, p0, grads), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize(("kind", "hp"), CONFIGS)
def test_against_torch(kind, hp):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    p0 = rng.standard_normal((3, 4))
    grads = [rng.standard_normal((3, 4)) for _ in range(STEPS)]
    tp = torch.nn.Parameter(torch.tensor(p0))
    topt = (torch.optim.SGD if kind == "sgd" else torch.optim.Adam)([tp], **hp)
    params = {"a": p0.copy()}
    opt = _make(kind, hp)
    for g in grads:
        tp.grad = torch.tensor(g)
        topt.step()
        opt.step(params, {"a": g})
    assert np.allclose(params["a"], tp.detach().numpy(), rtol=1e-10, atol=1e-13)


# ---------------------------------------------------------------- in place, dtype, state
@pytest.mark.parametrize(("kind", "hp"), CONFIGS)
def test_updates_in_place_float32(kind, hp):
    rng = np.random.default_rng(1)
    W = rng.standard_normal((4, 3)).astype(np.float32)
    b = np.zeros(4, dtype=np.float32)
    params = {"W": W, "b": b}
    opt = _make(kind, hp)
    before = W.copy()
    for _ in range(3):
        opt.step(params, {"W": rng.standard_normal((4, 3)).astype(np.float32), "b": np.ones(4, np.float32)})
    assert params["W"] is W and params["b"] is b  # the same arrays, changed in place
    assert W.dtype == np.float32 and b.dtype == np.float32
    assert not np.array_equal(W, before)
    assert all(buf.dtype == np.float32 for st_ in opt.state.values() for buf in st_.values())


@pytest.mark.parametrize(("kind", "hp"), CONFIGS)
def test_state_dict_round_trip(kind, hp):
    rng = np.random.default_rng(2)
    grads = [{"w": rng.standard_normal(5)} for _ in range(6)]
    straight = {"w": np.ones(5)}
    opt = _make(kind, hp)
    for g in grads:
        opt.step(straight, g)
    resumed = {"w": np.ones(5)}
    first = _make(kind, hp)
    for g in grads[:3]:
        first.step(resumed, g)
    saved = first.state_dict()
    second = _make(kind, hp)
    second.load_state_dict(saved)
    for g in grads[3:]:
        second.step(resumed, g)
    assert np.array_equal(resumed["w"], straight["w"])  # bit-identical continuation


# ---------------------------------------------------------------- bad input
def test_bad_hyperparameters():
    for lr in (0.0, -0.1, np.inf):
        with pytest.raises(ValueError, match="lr"):
            SGD(lr)
        with pytest.raises(ValueError, match="lr"):
            Adam(lr)
    with pytest.raises(TypeError, match="lr"):
        SGD("0.1")
    with pytest.raises(ValueError, match="momentum"):
        SGD(0.1, momentum=1.0)
    with pytest.raises(ValueError, match="momentum"):
        SGD(0.1, momentum=-0.5)
    with pytest.raises(ValueError, match="nesterov"):
        SGD(0.1, nesterov=True)
    with pytest.raises(ValueError, match="weight_decay"):
        SGD(0.1, weight_decay=-1.0)
    with pytest.raises(ValueError, match="weight_decay"):
        Adam(weight_decay=-1.0)
    with pytest.raises(TypeError, match="betas"):
        Adam(betas=0.9)
    with pytest.raises(TypeError, match="betas"):
        Adam(betas=(0.9,))
    with pytest.raises(ValueError, match=r"betas\[0\]"):
        Adam(betas=(1.0, 0.999))
    with pytest.raises(ValueError, match=r"betas\[1\]"):
        Adam(betas=(0.9, -0.1))
    with pytest.raises(ValueError, match="eps"):
        Adam(eps=-1e-8)


@pytest.mark.parametrize("opt", [SGD(0.1, momentum=0.9), Adam()], ids=["SGD", "Adam"])
def test_bad_step_arguments(opt):
    params = {"W": np.ones((2, 2)), "b": np.ones(2)}
    with pytest.raises(ValueError, match="same keys"):
        opt.step(params, {"W": np.ones((2, 2))})
    with pytest.raises(ValueError, match="grads"):
        opt.step(params, {"W": np.ones((2, 3)), "b": np.ones(2)})


@pytest.mark.parametrize("kind", ["sgd", "adam"])
def test_later_step_checks_keys(kind):
    # the full check runs on the first call; later calls still compare the keys, before any change
    opt = SGD(0.1, momentum=0.9) if kind == "sgd" else Adam()
    params = {"W": np.ones((2, 2)), "b": np.ones(2)}
    opt.step(params, {"W": np.ones((2, 2)), "b": np.ones(2)})
    before = {k: v.copy() for k, v in params.items()}
    with pytest.raises(ValueError, match=r"same keys.*\['c'\]"):
        opt.step(params, {"W": np.ones((2, 2)), "b": np.ones(2), "c": np.ones(1)})
    assert opt.t == 1 and all(np.array_equal(params[k], before[k]) for k in params)
    with pytest.raises(TypeError, match="dicts"):
        Adam().step([np.ones(2)], [np.ones(2)])
