"""Autoencoder and SparseAutoencoder: the whole training loss gradient-checked (float64, < 1e-7),
training and scoring agree, reproducibility, learning on real data, history_, bad input."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from profiles import examples

import npae
from npae import Autoencoder, SparseAutoencoder
from npae.gradcheck import assert_gradients, check_model
from npae.losses import bce, mae, mse, sse
from npae.optim import SGD, Adam

TOL = 1e-7
SMOOTH = ("sigmoid", "tanh", "softplus", "identity")


def _X(n=5, d=6, seed=0):
    return np.random.default_rng(seed).uniform(0.05, 0.95, (n, d))


# ---------------------------------------------------------------- whole-loss gradient checks
@examples(15)
@given(act=st.sampled_from(SMOOTH), data=st.data(), loss=st.sampled_from(["mse", "sse", "bce"]),
       wd=st.sampled_from([0.0, 0.05]), seed=st.integers(0, 999))
def test_autoencoder_any_depth_gradient(act, data, loss, wd, seed):
    # Up to 4 hidden layers for the zero-centred units; sigmoid and softplus stacks are kept to 2:
    # deeper, their first-layer gradients shrink (~1e-6, vanishing gradients) until the check's
    # own rounding error (~eps * loss / h ~ 1e-12) is no longer negligible against them, and the
    # relative error measures the finite differences, not the backward.
    depth = data.draw(st.integers(1, 4 if act in ("tanh", "identity") else 2))
    hidden = data.draw(st.lists(st.integers(3, 6), min_size=depth, max_size=depth))
    sizes = (7, *sorted(hidden, reverse=True))
    model = Autoencoder(sizes, activation=act, output_activation="sigmoid", loss=loss, weight_decay=wd,
                        random_state=seed, dtype=np.float64)
    errors = check_model(model, _X(d=7, seed=seed))
    assert set(errors) == set(model.params)
    assert_gradients(errors)


@pytest.mark.parametrize("kwargs", [
    dict(sizes=(6, 4, 3), activation="relu", output_activation="identity", loss="mse"),
    dict(sizes=(6, 4), activation="leaky_relu", output_activation="sigmoid", loss="mae", weight_decay=0.1),
    dict(sizes=(6, 5, 2), activation="tanh", code_activation="identity", loss="mae"),
], ids=["relu-mse", "leaky-mae-wd", "tanh-linear-code-mae"])
def test_autoencoder_kinked_configurations_gradient(kwargs):
    # ReLU and MAE have kinks; with these fixed seeds no pre-activation or residual lies
    # within the finite-difference step of one (checked below), so the check is exact
    model = Autoencoder(**kwargs, random_state=3, dtype=np.float64)
    X = _X(seed=3)
    h = model.encoder.forward(X)
    assert np.abs(model.decoder.forward(h) - X).min() > 1e-3
    errors = check_model(model, X)
    assert_gradients(errors)


@pytest.mark.parametrize("kwargs", [
    dict(sizes=(6, 4), sparsity="kl", rho=0.05, beta=3.0, weight_decay=1e-3),  # UFLDL's objective
    dict(sizes=(6, 5, 3), sparsity="kl", rho=0.2, beta=0.5, loss="bce", weight_decay=1e-2),
    dict(sizes=(6, 4), sparsity="l1", activation="softplus", beta=0.3, loss="mse", weight_decay=0.0),
    dict(sizes=(6, 5, 3), sparsity="l1", activation="tanh", code_activation="sigmoid", beta=1.0, loss="sse"),
], ids=["kl-sse-wd", "kl-bce-deep", "l1-softplus", "l1-tanh-deep"])
def test_sparse_autoencoder_gradient(kwargs):
    model = SparseAutoencoder(**kwargs, random_state=1, dtype=np.float64)
    loss, terms, _ = model.loss_and_grads(_X(seed=1))
    assert set(terms) >= {"reconstruction", "sparsity"} and terms["sparsity"] > 0
    errors = check_model(model, _X(seed=1))
    assert_gradients(errors)


# ---------------------------------------------------------------- the objective's value
@pytest.mark.parametrize(("loss", "fn"), [("mse", mse), ("mae", mae), ("sse", sse), ("bce", bce)])
def test_training_loss_equals_scored_loss(loss, fn):
    """The fused training path (BCE from logits) and the plain one give the loss of reconstruct()."""
    model = Autoencoder((6, 4, 3), activation="tanh", loss=loss, random_state=0, dtype=np.float64)
    X = _X(n=7)
    total, terms, grads = model.loss_and_grads(X)
    assert total == pytest.approx(fn(model.reconstruct(X), X)[0], rel=1e-12)
    assert total == sum(terms.values())
    assert grads.keys() == model.params.keys()
    assert model.score(X) == pytest.approx(total, rel=1e-12)


def test_sparse_objective_terms_closed_form():
    rho, beta, lam = 0.1, 3.0, 1e-3
    model = SparseAutoencoder((6, 4), rho=rho, beta=beta, weight_decay=lam, random_state=0, dtype=np.float64)
    X = _X(n=8)
    total, terms, _ = model.loss_and_grads(X)
    h = model.encode(X)
    r = h.mean(axis=0)
    kl = np.sum(rho * np.log(rho / r) + (1 - rho) * np.log((1 - rho) / (1 - r)))
    wd = 0.5 * lam * sum((W ** 2).sum() for k, W in model.params.items() if k.endswith("W"))
    rec = 0.5 * ((model.reconstruct(X) - X) ** 2).sum() / len(X)
    assert terms["sparsity"] == pytest.approx(beta * kl, rel=1e-12)
    assert terms["weight_decay"] == pytest.approx(wd, rel=1e-12)
    assert terms["reconstruction"] == pytest.approx(rec, rel=1e-12)
    assert total == pytest.approx(rec + beta * kl + wd, rel=1e-12)


# ---------------------------------------------------------------- inference
def test_encode_decode_reconstruct_shapes_and_dtype():
    model = Autoencoder((6, 4, 2), random_state=0)
    assert all(p.dtype == np.float32 for p in model.params.values())  # float32 by default
    X = _X(n=3).tolist()  # lists are accepted
    H = model.encode(X)
    assert H.shape == (3, 2) and H.dtype == np.float32
    R = model.decode(H)
    assert R.shape == (3, 6) and R.dtype == np.float32
    assert np.array_equal(model.reconstruct(X), R)
    assert ((R > 0) & (R < 1)).all()  # sigmoid output


# ---------------------------------------------------------------- training
def _fit(seed, **fit_kwargs):
    X = _X(n=40, d=8, seed=11).astype(np.float32)
    model = SparseAutoencoder((8, 5), random_state=seed)
    return model.fit(X, epochs=3, batch_size=16, optimizer=Adam(1e-2), **fit_kwargs)


def test_same_random_state_gives_bit_identical_weights():
    a, b, c = _fit(7), _fit(7), _fit(8)
    assert all(np.array_equal(a.params[k], b.params[k]) for k in a.params)
    assert a.history_["loss"] == b.history_["loss"]
    assert not np.array_equal(a.params["encoder.0.W"], c.params["encoder.0.W"])
    # the fit-time random_state also pins the shuffling
    d, e = _fit(7, random_state=1), _fit(7, random_state=1)
    assert all(np.array_equal(d.params[k], e.params[k]) for k in d.params)
    assert not np.array_equal(d.params["encoder.0.W"], a.params["encoder.0.W"])


def test_fit_learns_natural_patches():
    datasets = pytest.importorskip("npae.datasets")
    if not hasattr(datasets, "natural_patches"):
        pytest.skip("npae.datasets.natural_patches not available")
    X = datasets.natural_patches(2000, rng=np.random.default_rng(0))  # (2000, 64) in [0.1, 0.9]
    X_train, X_test = X[:1500], X[1500:]
    mean_predictor = float(((X_test - X_train.mean(axis=0)) ** 2).mean())
    model = Autoencoder((64, 32, 16), activation="relu", random_state=0)
    model.fit(X_train, epochs=10, batch_size=64, optimizer=Adam(1e-2))
    loss = model.history_["loss"]
    # measured with seeds 0..2: test MSE 0.62-0.69 of the mean predictor's, last/first epoch 0.55-0.64
    assert model.score(X_test) < 0.8 * mean_predictor
    assert loss[-1] < 0.75 * loss[0]


def test_fit_with_sgd_decreases_loss():
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((200, 3))
    X = 1 / (1 + np.exp(-Z @ rng.standard_normal((3, 10))))  # rank-3 structure squashed into (0, 1)
    model = Autoencoder((10, 3), activation="tanh", random_state=0)
    model.fit(X, epochs=15, batch_size=20, optimizer=SGD(0.5, momentum=0.9))
    assert model.history_["loss"][-1] < 0.5 * model.history_["loss"][0]


def test_history_keys_and_lengths():
    X = _X(n=30, d=8, seed=2)
    model = SparseAutoencoder((8, 4), weight_decay=1e-3, random_state=0)
    assert model.fit(X, epochs=2, batch_size=8, validation_data=X[:10]) is model
    h = model.history_
    assert {"loss", "reconstruction", "sparsity", "weight_decay", "val_loss", "time"} <= set(h)
    assert all(len(v) == 2 for v in h.values())
    assert h["loss"][-1] == pytest.approx(h["reconstruction"][-1] + h["sparsity"][-1] + h["weight_decay"][-1])
    model.fit(X, epochs=1)  # a second call appends
    assert all(len(v) == 3 for v in h.values() if v is not h.get("val_loss"))
    plain = Autoencoder((8, 4), random_state=0).fit(X, epochs=1)
    assert "sparsity" not in plain.history_ and "val_loss" not in plain.history_
    assert "weight_decay" not in plain.history_
    assert Autoencoder((8, 4), random_state=0).fit(X, epochs=0).history_.get("loss", []) == []


# ---------------------------------------------------------------- bad input
def test_constructor_bad_input():
    with pytest.raises(ValueError, match="sizes"):
        Autoencoder((784,))
    with pytest.raises(ValueError, match="sizes"):
        Autoencoder("784-32")
    with pytest.raises(ValueError, match=r"sizes\[1\]"):
        Autoencoder((784, 0))
    with pytest.raises(TypeError, match=r"sizes\[1\]"):
        Autoencoder((784, 3.5))
    with pytest.raises(ValueError, match="activation"):
        Autoencoder(activation="swish")
    with pytest.raises(ValueError, match="code_activation"):
        Autoencoder(code_activation="swish")
    with pytest.raises(ValueError, match="loss"):
        Autoencoder(loss="hubber")
    with pytest.raises(ValueError, match="output_activation"):
        Autoencoder(loss="bce", output_activation="identity")
    with pytest.raises(ValueError, match="weight_decay"):
        Autoencoder(weight_decay=-1.0)
    with pytest.raises(TypeError, match="dtype"):
        Autoencoder(dtype=np.int64)
    with pytest.raises(TypeError, match="random_state"):
        Autoencoder(random_state="seed")
    with pytest.raises(ValueError, match="sparsity"):
        SparseAutoencoder(sparsity="l2")
    with pytest.raises(ValueError, match="rho"):
        SparseAutoencoder(rho=0.0)
    with pytest.raises(ValueError, match="beta"):
        SparseAutoencoder(beta=-1.0)
    with pytest.raises(ValueError, match="sigmoid"):
        SparseAutoencoder(sparsity="kl", activation="relu")


def test_data_bad_input():
    model = Autoencoder((6, 3), random_state=0)
    X = _X()
    with pytest.raises(ValueError, match="X"):
        model.fit(X[:, :5])
    with pytest.raises(ValueError, match="X"):
        model.encode(X[0])
    nan = X.copy()
    nan[1, 2] = np.nan
    with pytest.raises(ValueError, match="X"):
        model.fit(nan)
    with pytest.raises(ValueError, match="X"):
        model.check_batch(nan)
    with pytest.raises(TypeError, match="X"):
        model.encode(np.array([["a"] * 6]))
    with pytest.raises(ValueError, match="H"):
        model.decode(np.ones((2, 4)))
    with pytest.raises(ValueError, match="validation_data"):
        model.fit(X, epochs=1, validation_data=X[:, :4])
    with pytest.raises(ValueError, match="epochs"):
        model.fit(X, epochs=-1)
    with pytest.raises(ValueError, match="batch_size"):
        model.fit(X, batch_size=0)
    with pytest.raises(TypeError, match="optimizer"):
        model.fit(X, optimizer="adam")
    with pytest.raises(TypeError, match="random_state"):
        model.fit(X, random_state=1.5)
    with pytest.raises(ValueError, match="X"):
        SparseAutoencoder((6, 3), loss="bce", sparsity="l1", activation="tanh", code_activation="sigmoid",
                          random_state=0).fit(X + 1.0)


@pytest.mark.parametrize("name", sorted(n for n, c in npae.io.model_classes().items()
                                        if c.__module__.startswith("npae.")))
def test_with_bce_the_decoder_outputs_logits_and_reconstruct_applies_the_sigmoid(name):
    """No Sigmoid layer is silently skipped: with loss="bce" the decoder ends without one (its output
    is the logits the loss reads), reconstruct gives probabilities, and score is the BCE of them."""
    from npae.cli import example_input, small_model
    from npae.layers import Sigmoid

    cls = npae.io.model_classes()[name]
    model = small_model(cls, dtype=np.float64, random_state=0)
    if "loss" in inspect.signature(cls).parameters:
        model = cls(**{**model.get_params(), "loss": "bce", "output_activation": "sigmoid"})
    if getattr(model, "loss", None) != "bce":
        pytest.skip(f"{name} has no loss='bce'")
    assert not isinstance(model.decoder.layers[-1], Sigmoid)
    X = example_input(model, 6, np.random.default_rng(0))
    rec = model.reconstruct(X)
    assert rec.min() >= 0 and rec.max() <= 1
    if not hasattr(model, "elbo"):
        assert model.score(X) == pytest.approx(npae.losses.bce(rec, X)[0], rel=1e-9)


def test_the_default_autoencoder_is_the_notes_keras_network():
    """npae.Autoencoder() is the lecture notes' (the Keras blog's) network: Dense(784 -> 32) and ReLU,
    then Dense(32 -> 784) and a sigmoid (docs/18-what-the-notes-claim.md); with the blog's loss="bce"
    the sigmoid moves into the loss, and reconstruct applies it."""
    from npae.layers import Dense, ReLU, Sigmoid

    model = Autoencoder()
    enc, dec = model.encoder.layers, model.decoder.layers
    assert [type(la) for la in enc] == [Dense, ReLU] and [type(la) for la in dec] == [Dense, Sigmoid]
    widths = (enc[0].in_features, enc[0].out_features, dec[0].in_features, dec[0].out_features)
    assert widths == (784, 32, 32, 784)
    assert model.n_parameters() == 784 * 32 + 32 + 32 * 784 + 784
    blog = Autoencoder(loss="bce", random_state=0)
    assert [type(la) for la in blog.decoder.layers] == [Dense]  # logits out: BCE computed from them
    X = np.random.default_rng(0).uniform(size=(3, 784)).astype(np.float32)
    logits = blog.decoder.forward(blog.encoder.forward(X))
    assert np.allclose(blog.reconstruct(X), 1 / (1 + np.exp(-logits)), atol=1e-6)
