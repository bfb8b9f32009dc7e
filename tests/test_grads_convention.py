"""One convention for a term's gradient: every term adds into the layers' own arrays, in place.

So after a step ``model.grads`` is exactly the gradient ``loss_and_grads`` returned, for every
model, weight decay, tied weights and the contractive penalty included (``docs/14-extending.md``).
"""

from __future__ import annotations

import numpy as np
import pytest

from npae import Autoencoder, Classifier, ContractiveAutoencoder
from npae.cli import small_model
from npae.io import model_classes
from npae.optim import SGD
from npae.penalties import l2_weight_decay

OWN = sorted(n for n, c in model_classes().items() if c.__module__.startswith("npae."))


def _same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("name", OWN)
def test_model_grads_is_what_loss_and_grads_returned(name):
    cls = model_classes()[name]
    kwargs = {"weight_decay": 0.1} if "weight_decay" in cls.__init__.__code__.co_varnames else {}
    model = small_model(cls, **kwargs)
    X = np.random.default_rng(0).uniform(0.05, 0.95, (5, model.n_features))
    _, terms, grads = model.loss_and_grads(model.check_batch(X), np.random.default_rng(0))
    assert _same(grads, model.grads)


@pytest.mark.parametrize("model", [
    Autoencoder((6, 4, 3), activation="tanh", weight_decay=0.1, random_state=0, dtype=np.float64),
    Autoencoder((6, 4, 3), activation="tanh", weight_decay=0.1, tied=True, random_state=0, dtype=np.float64),
    ContractiveAutoencoder((6, 3), activation="sigmoid", lam=0.5, weight_decay=0.1, random_state=0,
                           dtype=np.float64),
], ids=["plain", "tied", "contractive"])
def test_weight_decay_is_in_model_grads_after_a_step(model):
    X = np.random.default_rng(0).random((5, 6))
    _, terms, grads = model.loss_and_grads(X)
    assert "weight_decay" in terms
    SGD(lr=0.01).step(model.params, grads)
    assert _same(grads, model.grads)
    # and lambda W is in it: without the decay the W gradients differ by exactly that
    no_decay = type(model)(**{**model.get_params(), "weight_decay": 0.0})
    for k, p in no_decay.params.items():
        np.copyto(p, model.params[k])
    _, _, g0 = no_decay.loss_and_grads(X)
    _, _, g1 = model.loss_and_grads(X)
    _, decay = l2_weight_decay(model.params, 0.1)
    for k in decay:
        np.testing.assert_allclose(g1[k] - g0[k], decay[k], rtol=1e-12, atol=1e-15)


def test_a_classifier_with_weight_decay_too():
    model = Classifier((6, 4, 3), weight_decay=0.1, random_state=0, dtype=np.float64)
    X = np.random.default_rng(0).random((5, 6))
    _, _, grads = model.loss_and_grads(X, np.array([0, 1, 2, 0, 1]))
    assert _same(grads, model.grads)
