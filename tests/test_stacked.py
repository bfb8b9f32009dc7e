"""StackedAutoencoder: greedy layer-wise pretraining puts each autoencoder's encoder in the stack,
layer k learns from the codes of the layers below, and the fine-tuned stack's whole gradient
passes the float64 check (< 1e-7)."""

from __future__ import annotations

import numpy as np
import pytest

import npae
from npae.gradcheck import assert_gradients, check_model
from npae.models import StackedAutoencoder
from npae.models.stacked import PRETRAINING


def data(n=48, d=9, c=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(0.05, 0.95, (n, d)), rng.integers(0, c, n)


@pytest.mark.parametrize("pretraining", sorted(PRETRAINING))
def test_pretraining_stacks_each_layers_encoder(pretraining):
    X, _ = data()
    model = StackedAutoencoder((9, 6, 4, 3), pretraining=pretraining, random_state=0)
    model.pretrain(X, epochs=2, batch_size=16)
    assert model.pretrained_
    H = X.astype(np.float32)
    for ae, dense in zip(model.autoencoders, model.hidden_layers(), strict=True):
        assert isinstance(ae, PRETRAINING[pretraining]) and len(ae.history_["loss"]) == 2
        np.testing.assert_array_equal(dense.params["W"], ae.encoder.layers[0].params["W"])
        np.testing.assert_array_equal(dense.params["b"], ae.encoder.layers[0].params["b"])
        assert ae.n_features == H.shape[1]  # layer k's autoencoder reads the codes below it
        H = ae.encode(H)
    np.testing.assert_allclose(model.encode(X), H, rtol=1e-6)  # the stacked encoders' codes


def test_deeper_layers_reconstruct_sigmoid_codes_with_bce_others_with_mse():
    sig = StackedAutoencoder((9, 6, 4, 3), activation="sigmoid", random_state=0)
    assert [ae.loss for ae in sig.autoencoders] == ["bce", "bce"]
    relu = StackedAutoencoder((9, 6, 4, 3), activation="relu", pretraining="plain", random_state=0)
    assert [ae.loss for ae in relu.autoencoders] == ["bce", "mse"]
    assert relu.autoencoders[1].output_activation == "identity"
    own = StackedAutoencoder((9, 6, 3), layer_args={"loss": "mse", "output_activation": "identity"},
                             random_state=0)
    assert own.autoencoders[0].loss == "mse"


def test_layer_args_reach_each_layer_and_the_tie():
    model = StackedAutoencoder((9, 6, 4, 3), tied=True, random_state=0,
                               layer_args=[{"noise": "masking", "noise_level": 0.1},
                                           {"noise": "masking", "noise_level": 0.2}])
    assert [ae.noise_level for ae in model.autoencoders] == [0.1, 0.2]
    assert all(ae.tied and ae.noise == "masking" for ae in model.autoencoders)


@pytest.mark.parametrize("pretraining", ["denoising", "contractive"])
def test_the_fine_tuned_stack_passes_the_gradient_check(pretraining):
    X, y = data()
    model = StackedAutoencoder((9, 6, 4, 3), pretraining=pretraining, tied=True, weight_decay=1e-3,
                               random_state=0, dtype=np.float64)
    model.pretrain(X, epochs=3, batch_size=16)
    assert_gradients(check_model(model, X[:10], y=y[:10]))
    model.fit(X, y, epochs=2, batch_size=16)  # fine-tuning moves every layer, the pretrained ones too
    assert_gradients(check_model(model, X[:10], y=y[:10]))


def test_fine_tuning_moves_the_pretrained_layers_and_the_same_seed_gives_the_same_start():
    X, y = data()
    a = StackedAutoencoder((9, 6, 3), random_state=5)
    b = StackedAutoencoder((9, 6, 3), random_state=5)
    assert all(np.array_equal(a.params[k], b.params[k]) for k in a.params)  # the random-init baseline
    a.pretrain(X, epochs=2, batch_size=16)
    pretrained = {k: p.copy() for k, p in a.params.items()}
    assert not np.array_equal(pretrained["network.0.W"], b.params["network.0.W"])
    np.testing.assert_array_equal(pretrained["network.2.W"], b.params["network.2.W"])  # softmax: untouched
    a.fit(X, y, epochs=2, batch_size=16)
    assert all(not np.array_equal(a.params[k], pretrained[k]) for k in a.params)


def test_an_optimizer_is_copied_for_each_layer():
    X, _ = data()
    opt = npae.optim.Adam(lr=1e-2)
    model = StackedAutoencoder((9, 6, 4, 3), pretraining="plain", random_state=0)
    model.pretrain(X, epochs=1, batch_size=16, optimizer=opt)  # layers of other shapes: no shared state
    first, second = (ae.optimizer_ for ae in model.autoencoders)
    assert first is not second and first is not opt and first.lr == 1e-2


@pytest.mark.parametrize("kwargs, error, match", [
    ({"sizes": (9, 3)}, ValueError, "at least one hidden layer"),
    ({"pretraining": "pca"}, ValueError, "pretraining"),
    ({"tied": "yes"}, TypeError, "tied"),
    ({"layer_args": "noise"}, TypeError, "layer_args"),
    ({"layer_args": [{}, {}, {}]}, ValueError, r"layer_args must have one dict per hidden layer \(2\)"),
    ({"layer_args": {"sizes": (9, 2)}}, ValueError, r"layer_args\[0\] sets \['sizes'\]"),
    ({"layer_args": {"noise_level": -1.0}}, ValueError, "noise_level"),  # the autoencoder's own check
    ({"activation": "relu", "pretraining": "sparse"}, ValueError, "sparsity='kl' needs a code in"),
])
def test_bad_arguments_are_refused_by_the_constructor(kwargs, error, match):
    with pytest.raises(error, match=match):
        StackedAutoencoder(**{"sizes": (9, 6, 4, 3), **kwargs})
