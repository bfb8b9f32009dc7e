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
        norm = BatchNorm1d(self.sizes[1], momentum=momentum, dtype=self.dtype)
        self.encoder = Sequential(first, norm, *rest)


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
    for _ in range(4):  # record what every epoch ends with, one epoch at a time
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


# ---------------------------------------------------------------- configs, not reprs
from npae.layers import Layer  # noqa: E402


class KSparse(Layer):
    """Keep the k largest entries of each row (k_eval of them in eval mode); no __repr__ of its own."""

    def __init__(self, k=3, k_eval=None):
        super().__init__()
        self.k, self.k_eval = k, k if k_eval is None else k_eval

    def forward(self, x):
        k = self.k if self.training else self.k_eval
        self._mask = x >= np.sort(x, axis=1)[:, -k][:, None]
        return x * self._mask

    def backward(self, dy):
        return dy * self._mask


class KSparseAutoencoder(Autoencoder):
    def __init__(self, sizes=(10, 6), k=3, k_eval=None, random_state=None, dtype=np.float32):
        super().__init__(sizes, activation="relu", random_state=random_state, dtype=dtype)
        self.k, self.k_eval = k, k_eval
        self.encoder = Sequential(*self.encoder.layers, KSparse(k, k_eval))


def test_save_compares_layer_configs_so_a_setting_changed_after_construction_is_refused(tmp_path):
    model = KSparseAutoencoder(k=3, k_eval=4, random_state=0)
    assert model.encoder[-1].get_config() == {"k": 3, "k_eval": 4}
    model.save(tmp_path / "ok.npz")
    model.encoder[-1].k_eval = 2  # changed after construction: load would build k_eval=4
    with pytest.raises(ValueError, match=r"layer 2 is KSparse\(k=3, k_eval=2\).*KSparse\(k=3, k_eval=4\)"):
        model.save(tmp_path / "changed.npz")


def test_a_subclass_repr_shows_its_own_arguments():
    assert repr(KSparse(3, 5)) == "KSparse(k=3, k_eval=5)"
    text = repr(KSparseAutoencoder(k=2, random_state=0))
    assert text.startswith("KSparseAutoencoder(10-6-10, ") and text.endswith(", k=2, k_eval=None)")
    assert repr(BatchNormAutoencoder(momentum=0.2)).endswith("momentum=0.2)")


def test_every_layer_has_a_config_of_its_constructor_arguments():
    from npae.layers import Conv2D, Dense, Dropout, LayerNorm, MaxPool2D

    assert Dense(4, 3, dtype=np.float64).get_config() == {"in_features": 4, "out_features": 3,
                                                          "init": "glorot_uniform", "dtype": np.float64}
    assert Conv2D(1, 2, 3).get_config()["kernel_size"] == (3, 3)
    assert Dropout(0.2).get_config() == {"rate": 0.2}
    assert LayerNorm(5).get_config()["normalized_shape"] == 5
    assert MaxPool2D(2).get_config() == {"kernel_size": (2, 2), "stride": (2, 2), "padding": (0, 0)}
    assert BatchNorm1d(4, momentum=0.3).get_config() == {"num_features": 4, "eps": 1e-5, "momentum": 0.3,
                                                        "dtype": np.float32}


# ---------------------------------------------------------------- BatchNorm2d in a conv model
from npae import ConvAutoencoder  # noqa: E402
from npae.layers import BatchNorm2d  # noqa: E402


class NormedConvAutoencoder(ConvAutoencoder):
    """A ConvAutoencoder with a BatchNorm2d after the first convolution."""

    def __init__(self, input_shape=(1, 8, 8), channels=(2, 3), activation="tanh", random_state=None,
                 dtype=np.float32):
        super().__init__(input_shape, channels=channels, activation=activation, random_state=random_state,
                         dtype=dtype)
        first, *rest = self.encoder.layers
        self.encoder = Sequential(first, BatchNorm2d(channels[0], dtype=self.dtype), *rest)


def test_batchnorm2d_in_a_conv_model_checks_saves_and_loads(tmp_path):
    X = np.random.default_rng(0).random((12, 64))
    model = NormedConvAutoencoder(random_state=0, dtype=np.float64)
    randomize_params(model.params, 0)
    before = _buffers(model)
    assert_gradients(check_model(model, X[:4]))
    assert all(np.array_equal(model.buffers[k], v) for k, v in before.items())
    model.fit(X, epochs=2, batch_size=4)
    model.save(tmp_path / "conv.npz")
    again = npae.load(tmp_path / "conv.npz")
    assert np.array_equal(again.buffers["encoder.1.running_var"], model.buffers["encoder.1.running_var"])
    assert np.array_equal(again.encode(X), model.encode(X))


def test_a_file_without_the_models_buffers_is_refused_before_any_weight_is_written(tmp_path):
    from npae.io import ModelFileError, read, restore

    model = BatchNormAutoencoder(random_state=0)
    model.save(tmp_path / "bn.npz")
    meta, arrays = read(tmp_path / "bn.npz")
    arrays = {k: v for k, v in arrays.items() if not k.startswith("buffer/")}
    other = BatchNormAutoencoder(random_state=1)
    W = other.params["encoder.0.W"].copy()
    with pytest.raises(ModelFileError, match=r"buffers only in the file \[\], only in BatchNormAutoencoder"):
        restore(other, meta, arrays)
    assert np.array_equal(other.params["encoder.0.W"], W)


def test_with_a_real_bug_elsewhere_the_report_names_it_first_not_the_zero_bias():
    from npae.layers import Dense

    class DenseMeanBias(Dense):
        def backward(self, dy, input_grad=True):
            dx = super().backward(dy, input_grad)
            self.grads["b"] = dy.mean(axis=0)  # the bug: a mean where the forward sums
            return dx

    model = BatchNormAutoencoder(random_state=0, dtype=np.float64)
    last = model.decoder.layers[-2]
    wrong = DenseMeanBias(last.in_features, last.out_features, dtype=np.float64)
    np.copyto(wrong.params["W"], last.params["W"])
    model.decoder.layers[-2] = wrong
    randomize_params(model.params, 0)
    report = check_model(model, _X(8))
    assert report.failed() == [f"decoder.{len(model.decoder.layers) - 2}.b"]
    assert report.worst_first()[0] == report.failed()[0]
    assert report["encoder.0.b"] > 0.5  # a relative error of about 1 ...
    assert report.arrays["encoder.0.b"].passes()  # ... that the verdict sees as rounding noise
