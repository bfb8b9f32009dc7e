"""Tied weights (W_dec = W_enc^T): the TiedDense layer, the summed gradient of the shared matrix
(checked in float64 < 1e-7, and a gradient with only one of its two terms must fail), one stored
array, and save/load/resume keeping the tie."""

from __future__ import annotations

import numpy as np
import pytest

import npae
from npae import io
from npae.gradcheck import assert_gradients, check_layer, check_model, numerical_gradient
from npae.layers import Dense, TiedDense
from npae.models import Autoencoder

DENSE_MODELS = [(npae.Autoencoder, {}), (npae.SparseAutoencoder, {"loss": "mse"}),
                (npae.DenoisingAutoencoder, {"noise": "masking", "noise_level": 0.3}),
                (npae.ContractiveAutoencoder, {"lam": 0.5})]


def _randomise_biases(model, rng):
    for k, p in model.params.items():  # biases start at 0 (docs/05)
        if k.endswith("b"):
            p[...] = rng.normal(0, 0.5, p.shape)


def test_tied_dense_layer_gradients():
    rng = np.random.default_rng(0)
    dense = Dense(6, 4, rng=rng, dtype=np.float64)
    layer = TiedDense(dense)
    layer.params["b"][...] = rng.normal(size=6)
    x = rng.normal(size=(5, 4))
    assert layer.forward(x).shape == (5, 6)
    assert_gradients(check_layer(layer, x, rng=1))  # dx and db
    # the shared matrix: d sum(forward(x) * dy) / dW, with W the *Dense* layer's array
    dy = rng.normal(size=(5, 6))
    layer.forward(x)
    layer.backward(dy)
    numeric = numerical_gradient(lambda: float(np.sum(layer.forward(x) * dy)), dense.params["W"])
    np.testing.assert_allclose(layer.shared_grad, numeric, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(layer.shared_grad, (dy.T @ x).T)  # dW_dec^T in W's (4, 6) layout
    assert layer.params.keys() == {"b"} and layer.grads.keys() == {"b"}
    assert layer.backward(dy, input_grad=False) is None
    with pytest.raises(TypeError, match="tied_to must be an npae.layers.Dense"):
        TiedDense(npae.layers.Sigmoid())


@pytest.mark.parametrize("cls, extra", DENSE_MODELS, ids=lambda v: getattr(v, "__name__", ""))
@pytest.mark.parametrize("sizes", [(7, 3), (7, 5, 3)])
def test_tied_models_pass_the_gradient_check(cls, extra, sizes):
    rng = np.random.default_rng(1)
    model = cls(sizes=sizes, activation="sigmoid", tied=True, weight_decay=0.01, random_state=0,
                dtype=np.float64, **extra)
    _randomise_biases(model, rng)
    errors = check_model(model, rng.uniform(0.05, 0.95, (8, 7)))
    assert_gradients(errors)
    assert not any(k.startswith("decoder") and k.endswith("W") for k in errors)  # one array per pair


class OnlyEncoderTerm(Autoencoder):
    """A wrong tied gradient: the shared matrix gets dW_enc only (the decoder's use forgotten)."""

    @property
    def grads(self):
        return super(Autoencoder, self).grads  # BaseAutoencoder's: no sum


class OnlyDecoderTerm(Autoencoder):
    """A wrong tied gradient: the shared matrix gets dW_dec^T only (the encoder's use forgotten)."""

    @property
    def grads(self):
        grads = super(Autoencoder, self).grads
        for layer in self.decoder.layers:
            if isinstance(layer, TiedDense):
                grads[f"encoder.{self.encoder.layers.index(layer.tied_to)}.W"] = layer.shared_grad
        return grads


@pytest.mark.parametrize("wrong", [OnlyEncoderTerm, OnlyDecoderTerm])
def test_a_tied_gradient_with_one_term_fails_the_check(wrong):
    rng = np.random.default_rng(2)
    X = rng.uniform(0.05, 0.95, (8, 7))
    model = wrong(sizes=(7, 3), activation="sigmoid", loss="bce", tied=True, random_state=0, dtype=np.float64)
    _randomise_biases(model, rng)
    errors = check_model(model, X)
    assert errors["encoder.0.W"] > 1e-2
    with pytest.raises(AssertionError, match="'encoder.0.W' has relative error"):
        assert_gradients(errors)
    right = Autoencoder(sizes=(7, 3), activation="sigmoid", loss="bce", tied=True, random_state=0,
                        dtype=np.float64)
    for k, p in right.params.items():
        p[...] = model.params[k]
    assert_gradients(check_model(right, X))  # the same point, the sum: passes


def test_the_decoder_reads_the_encoders_array():
    model = Autoencoder(sizes=(6, 4, 2), activation="tanh", tied=True, random_state=0)
    tied = [la for la in model.decoder.layers if isinstance(la, TiedDense)]
    assert [la.tied_to for la in tied] == [model.encoder.layers[2], model.encoder.layers[0]]
    assert [la.tied_to.params["W"].shape for la in tied] == [(2, 4), (4, 6)]
    assert set(model.params) == {"encoder.0.W", "encoder.0.b", "encoder.2.W", "encoder.2.b", "decoder.0.b",
                                 "decoder.2.b"}
    untied = Autoencoder(sizes=(6, 4, 2), activation="tanh", random_state=0)
    assert model.n_parameters() == untied.n_parameters() - 2 * 4 - 4 * 6
    X = np.random.default_rng(0).uniform(0, 1, (3, 6)).astype(np.float32)
    before = model.reconstruct(X)
    model.encoder.layers[0].params["W"] *= 2  # in place: the decoder follows
    assert not np.allclose(model.reconstruct(X), before)
    assert "tied=True" in repr(model)
    with pytest.raises(TypeError, match="tied must be a bool"):
        Autoencoder(sizes=(6, 2), tied=1)


def test_training_keeps_the_tie():
    rng = np.random.default_rng(3)
    X = rng.uniform(0, 1, (64, 8)).astype(np.float32)
    model = npae.DenoisingAutoencoder(sizes=(8, 3), activation="sigmoid", loss="bce", tied=True,
                                      random_state=0)
    model.fit(X, epochs=3, batch_size=16)
    assert model.decoder.layers[0].tied_to.params["W"] is model.encoder.layers[0].params["W"]
    assert model.history_["loss"][-1] < model.history_["loss"][0]


def test_save_load_keeps_the_tie(tmp_path):
    rng = np.random.default_rng(4)
    X = rng.uniform(0, 1, (32, 8)).astype(np.float32)
    model = npae.SparseAutoencoder(sizes=(8, 5, 3), tied=True, random_state=0)
    model.fit(X, epochs=2, batch_size=8)
    path = model.save(tmp_path / "tied.npz")
    meta, arrays = io.read(path)
    assert sorted(k for k in arrays if k.startswith("param/") and k.endswith("W")) == ["param/encoder.0.W",
                                                                                       "param/encoder.2.W"]
    loaded = npae.load(path)
    assert loaded.tied and meta["params"]["tied"] is True
    np.testing.assert_array_equal(loaded.reconstruct(X), model.reconstruct(X))
    dec = [la for la in loaded.decoder.layers if isinstance(la, TiedDense)]
    assert dec[-1].tied_to.params["W"] is loaded.encoder.layers[0].params["W"]  # sharing re-established
    loaded.encoder.layers[0].params["W"][...] = 0
    np.testing.assert_array_equal(dec[-1].forward(np.ones((1, 5), np.float32)), dec[-1].params["b"][None])


def test_resume_of_a_tied_model_is_bit_identical(tmp_path):
    rng = np.random.default_rng(5)
    X = rng.uniform(0, 1, (40, 8)).astype(np.float32)
    kw = dict(batch_size=8, optimizer=npae.optim.Adam(lr=1e-2))
    whole = Autoencoder(sizes=(8, 3), loss="bce", tied=True, random_state=7).fit(X, epochs=4, **kw)
    first = Autoencoder(sizes=(8, 3), loss="bce", tied=True, random_state=7)
    first.fit(X, epochs=2, checkpoint=tmp_path / "ck.npz", batch_size=8, optimizer=npae.optim.Adam(lr=1e-2))
    resumed = Autoencoder(sizes=(8, 3), loss="bce", tied=True, random_state=99)
    resumed.fit(X, epochs=4, resume=tmp_path / "ck.npz", batch_size=8)
    for k in whole.params:
        np.testing.assert_array_equal(resumed.params[k], whole.params[k])
    assert resumed.decoder.layers[0].tied_to is resumed.encoder.layers[0]
    with pytest.raises(Exception, match="tied"):  # an untied model cannot resume a tied run
        Autoencoder(sizes=(8, 3), loss="bce", random_state=7).fit(X, epochs=4, resume=tmp_path / "ck.npz",
                                                                  batch_size=8)
