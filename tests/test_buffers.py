"""State that is not trained: buffers (a BatchNorm's running statistics) in a model subclass.

Saved and loaded, part of checkpoints (a resumed run is bit-identical, buffers included) and of
early stopping's best state; never touched by an optimiser, weight decay or L-BFGS; not counted by
``n_parameters``; left exactly as they were by the gradient checker. See ``docs/14-extending.md``.
"""

from __future__ import annotations

import numpy as np
import pytest

import npae
from npae import Autoencoder
from npae.gradcheck import assert_gradients, check_model, randomize_params
from npae.layers import BatchNorm1d, Sequential
from npae.optim import SGD, Adam, lbfgs


class BatchNormAutoencoder(Autoencoder):
    """An Autoencoder with a BatchNorm1d after the first encoder layer (as docs/14 writes it)."""

    def __init__(self, sizes=(10, 6, 3), activation="tanh", momentum=0.1, random_state=None,
                 dtype=np.float32):
        super().__init__(sizes, activation=activation, random_state=random_state, dtype=dtype)
        self.momentum = momentum
        first, *rest = self.encoder.layers
        self.encoder = Sequential(first, BatchNorm1d(self.sizes[1], momentum=momentum, dtype=self.dtype), *rest)


def _X(n=64, seed=0):
    return np.random.default_rng(seed).random((n, 10))


def _buffers(model):
    return {k: v.copy() for k, v in model.buffers.items()}


def test_buffers_are_not_parameters():
    model = BatchNormAutoencoder(random_state=0)
    assert set(model.buffers) == {"encoder.1.running_mean", "encoder.1.running_var"}
    assert not set(model.buffers) & set(model.params)
    assert model.n_parameters() == sum(p.size for p in model.params.values())
    assert model.n_buffer_values() == 12


def test_save_and_load_keep_the_running_statistics(tmp_path):
    X = _X()
    model = BatchNormAutoencoder(random_state=0).fit(X, epochs=2, batch_size=16)
    assert not np.array_equal(model.buffers["encoder.1.running_var"], np.ones(6))  # they moved
    model.save(tmp_path / "bn.npz")
    again = npae.load(tmp_path / "bn.npz")
    for k, v in model.buffers.items():
        assert np.array_equal(again.buffers[k], v)
    assert np.array_equal(again.encode(X), model.encode(X))
    assert again.score(X) == model.score(X)


def test_a_resumed_checkpoint_is_bit_identical_buffers_included(tmp_path):
    X = _X()
    whole = BatchNormAutoencoder(random_state=0).fit(X, epochs=4, batch_size=16)
    ck = tmp_path / "ck.npz"
    BatchNormAutoencoder(random_state=0).fit(X, epochs=2, batch_size=16, checkpoint=ck)
    resumed = BatchNormAutoencoder(random_state=0).fit(X, epochs=4, batch_size=16, resume=ck)
    for k in whole.params:
        assert np.array_equal(resumed.params[k], whole.params[k]), k
    for k in whole.buffers:
        assert np.array_equal(resumed.buffers[k], whole.buffers[k]), k
    assert np.array_equal(resumed.encode(X), whole.encode(X))


def test_restore_best_puts_back_the_statistics_of_the_best_epoch():
    X, V = _X(), _X(32, seed=1)
    model = BatchNormAutoencoder(random_state=0)
    states = []
    for epoch in range(4):  # record what every epoch ends with, one epoch at a time
        model.fit(X, epochs=1, batch_size=16, optimizer=getattr(model, "optimizer_", None) or Adam(lr=0.05))
        states.append((model.score(V), {k: v.copy() for k, v in model.params.items()}, _buffers(model)))
    best = int(np.argmin([s[0] for s in states]))
    fitted = BatchNormAutoencoder(random_state=0).fit(X, epochs=4, batch_size=16, optimizer=Adam(lr=0.05),
                                                     validation_data=V, patience=10)
    assert fitted.best_epoch_ == best + 1
    for k, v in states[best][2].items():
        assert np.array_equal(fitted.buffers[k], v), k


@pytest.mark.parametrize("optimizer", [Adam(lr=1e-2, weight_decay=0.1), SGD(lr=0.1, weight_decay=0.1)],
                         ids=["adam", "sgd"])
def test_weight_decay_never_touches_the_buffers(optimizer):
    model = BatchNormAutoencoder(random_state=0).eval()  # eval: the forward leaves the buffers alone
    before = _buffers(model)
    _, _, grads = model.loss_and_grads(_X())
    for _ in range(20):
        optimizer.step(model.params, grads)
    for k, v in before.items():
        assert np.array_equal(model.buffers[k], v), k


def test_lbfgs_leaves_the_running_statistics_to_the_forward_passes():
    model = BatchNormAutoencoder(random_state=0, dtype=np.float64)
    model.eval()  # eval: no forward updates them, so any change would be L-BFGS's
    before = _buffers(model)
    lbfgs(model, _X(), max_iter=5)
    for k, v in before.items():
        assert np.array_equal(model.buffers[k], v), k


def test_check_model_leaves_the_buffers_and_passes_the_zero_bias_gradient():
    model = BatchNormAutoencoder(random_state=0, dtype=np.float64)
    randomize_params(model.params, np.random.default_rng(0))
    model.fit(_X(), epochs=1, batch_size=16)  # statistics off their starting values
    before = _buffers(model)
    score = model.score(_X())
    report = check_model(model, _X(8))
    assert set(report) == set(model.params)  # the buffers are not checked
    assert report.arrays["encoder.0.b"].analytic_norm < 1e-12  # a Dense bias before BatchNorm: zero
    assert_gradients(report)
    for k, v in before.items():
        assert np.array_equal(model.buffers[k], v), k
    assert model.score(_X()) == score
