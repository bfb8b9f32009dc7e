"""Classifier: the whole-model gradient in float64 (< 1e-7), labels checked at the door, labels
travelling with their rows through fit_model's batches, and a model that learns."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from profiles import examples

import npae
from npae.gradcheck import assert_gradients, check_model
from npae.models import Classifier
from npae.optim import Adam


def blobs(n=200, d=5, c=3, seed=0, spread=0.5):
    """``c`` Gaussian clusters in ``d`` dimensions, labels 0..c-1 (separable for small ``spread``)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 3, (c, d))
    y = rng.integers(0, c, n)
    return (centres[y] + spread * rng.standard_normal((n, d))).astype(np.float32), y


@pytest.mark.parametrize("sizes, activation", [((5, 3), "relu"), ((5, 6, 3), "tanh"),
                                               ((5, 6, 4, 3), "sigmoid"), ((5, 7, 3), "softplus")])
@pytest.mark.parametrize("weight_decay", [0.0, 0.01])
def test_gradient_check(sizes, activation, weight_decay):
    rng = np.random.default_rng(1)
    model = Classifier(sizes, activation=activation, weight_decay=weight_decay, random_state=0,
                       dtype=np.float64)
    for p in model.params.values():  # biases start at 0: randomise them (docs/05)
        p[...] = rng.normal(0, 0.5, p.shape)
    X, y = rng.normal(size=(8, 5)), rng.integers(0, 3, 8)
    assert_gradients(check_model(model, X, y=y))


def test_a_wrong_backward_fails_the_check():
    class Wrong(Classifier):  # forgets the 1/N of the mean: the gradient is N times too large
        def _forward_backward(self, X, y, rng):
            terms = super()._forward_backward(X, y, rng)
            for layer in self.network.layers:
                for k in layer.grads:
                    layer.grads[k] = layer.grads[k] * len(X)
            return terms

    rng = np.random.default_rng(2)
    model = Wrong((4, 5, 3), activation="tanh", random_state=0, dtype=np.float64)
    errors = check_model(model, rng.normal(size=(6, 4)), y=rng.integers(0, 3, 6))
    assert min(errors.values()) > 0.1
    with pytest.raises(AssertionError, match="gradient check failed"):
        assert_gradients(errors)


def test_learns_separable_blobs_and_its_outputs():
    X, y = blobs()
    model = Classifier((5, 16, 3), random_state=0)
    model.fit(X, y, epochs=30, batch_size=32, optimizer=Adam(lr=1e-2))
    assert model.score(X, y) > 0.97
    assert model.history_["loss"][-1] < 0.3 * model.history_["loss"][0]
    P = model.predict_proba(X)
    assert P.shape == (200, 3) and np.allclose(P.sum(axis=1), 1.0, atol=1e-6)
    np.testing.assert_array_equal(model.predict(X), np.argmax(P, axis=1))
    assert model.predict(X).dtype == np.int64
    assert model.features(X).shape == (200, 16) and model.features(X).min() >= 0  # ReLU activations
    linear = Classifier((5, 3), random_state=0)
    np.testing.assert_array_equal(linear.features(X), X)  # no hidden layer: the input itself
    assert model.n_parameters() == 5 * 16 + 16 + 16 * 3 + 3
    assert repr(model) == "Classifier(5-16-3, activation='relu')"


def test_every_batch_gets_the_labels_of_its_rows():
    """The labels are gathered with the rows (shuffled, a short last batch): here y is the first column."""
    seen = []

    class Recording(Classifier):
        def loss_and_grads(self, X, y, rng=None):
            seen.append(len(X))
            np.testing.assert_array_equal(y, X[:, 0].astype(np.int64))
            return super().loss_and_grads(X, y, rng)

    rng = np.random.default_rng(3)
    y = rng.integers(0, 4, 50)
    X = np.column_stack([y, rng.normal(size=50)]).astype(np.float32)
    Recording((2, 4), random_state=0).fit(X, y, epochs=2, batch_size=16)
    assert seen == [16, 16, 16, 2] * 2


def test_fit_is_reproducible_and_trains_in_training_mode():
    X, y = blobs(60)
    a = Classifier((5, 8, 3), random_state=4).fit(X, y, epochs=3, batch_size=16)
    b = Classifier((5, 8, 3), random_state=4).fit(X, y, epochs=3, batch_size=16)
    assert all(np.array_equal(a.params[k], b.params[k]) for k in a.params)
    model = Classifier((5, 8, 3), random_state=0)
    model.network.eval()
    model.fit(X, y, epochs=1)
    assert model.network.training is False  # the mode it was in is put back


@pytest.mark.parametrize("y, error, match", [
    (lambda y: -y - 1, ValueError, r"y must hold class ids in \[0, 3\), got -\d+ at index 0"),
    (lambda y: y + 3, ValueError, r"y must hold class ids in \[0, 3\), got [345] at index 0"),
    (lambda y: y + 0.5, ValueError, r"y must hold integer class ids, got \d\.5 at index 0"),
    (lambda y: y[:-1], ValueError, "y must have one label per sample: length 60, got length 59"),
    (lambda y: y.astype(bool), TypeError, "y must hold integer class ids, got a bool array"),
    (lambda y: None, TypeError, "y must (hold real numbers|be the class labels)"),
    (lambda y: y[:, None], ValueError, "y must have 1 dimensions")])
def test_bad_labels_are_refused_before_training(y, error, match):
    X, labels = blobs(60)
    model = Classifier((5, 3), random_state=0)
    before = {k: p.copy() for k, p in model.params.items()}
    with pytest.raises(error, match=match):
        model.fit(X, y(labels), epochs=1)
    assert all(np.array_equal(model.params[k], before[k]) for k in before)
    with pytest.raises(error, match=match):
        model.score(X, y(labels))


def test_whole_number_floats_are_labels():
    X, y = blobs(40)
    model = Classifier((5, 3), random_state=0).fit(X, y.astype(np.float64), epochs=1)
    assert model.score(X, y.astype(np.float32)) == model.score(X, y)


def test_labels_reach_only_a_model_that_learns_from_them():
    X, y = blobs(40)
    with pytest.raises(TypeError, match="y: a Autoencoder learns without labels"):
        npae.Autoencoder((5, 2), random_state=0).fit(X, y=y, epochs=1)
    with pytest.raises(ValueError, match="validation_data is not supported with labels y"):
        Classifier((5, 3), random_state=0).fit(X, y, epochs=1, validation_data=X)
    with pytest.raises(TypeError, match="checkpoint: a Classifier is not saved by npae.io"):
        Classifier((5, 3), random_state=0).fit(X, y, epochs=1, checkpoint="c.npz")


@examples(20)
@given(kind=st.sampled_from(("ndim_less", "ndim_more", "width", "nan", "inf", "empty", "string", "none")),
       method=st.sampled_from(("fit", "score", "predict", "predict_proba", "features")))
def test_bad_X_is_refused_naming_X(kind, method):
    X, y = blobs(20)
    bad = {"ndim_less": X[0], "ndim_more": X[..., None], "width": X[:, :4], "nan": np.where(X > 1, np.nan, X),
           "inf": np.where(X > 1, np.inf, X), "empty": X[:0], "string": np.full(X.shape, "a"),
           "none": None}[kind]
    model = Classifier((5, 3), random_state=0)
    call = {"fit": lambda: model.fit(bad, y, epochs=1), "score": lambda: model.score(bad, y)}.get(
        method, lambda: getattr(model, method)(bad))
    with pytest.raises((ValueError, TypeError), match=r"\bX\b"):
        call()


@pytest.mark.parametrize("kwargs, error, match", [({"sizes": (5, 1)}, ValueError, "at least 2"),
                                                  ({"sizes": (5,)}, ValueError, "sizes"),
                                                  ({"activation": "banana"}, ValueError, "activation"),
                                                  ({"weight_decay": -1.0}, ValueError, "weight_decay"),
                                                  ({"dtype": np.int32}, TypeError, "dtype")])
def test_bad_constructor_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        Classifier(**{"sizes": (5, 3), **kwargs})
