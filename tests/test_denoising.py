"""Tests of DenoisingAutoencoder: whole-loss gradient checks (noise held fixed), behaviour, arguments."""

import numpy as np
import pytest

from npae import Autoencoder, DenoisingAutoencoder
from npae.gradcheck import check_model
from npae.noise import corrupt


@pytest.mark.parametrize("noise, level, loss", [("gaussian", 0.3, "mse"), ("masking", 0.4, "bce"),
                                                ("salt_and_pepper", 0.2, "mse")])
def test_whole_loss_gradient(noise, level, loss):
    model = DenoisingAutoencoder((12, 6, 4), activation="tanh", noise=noise, noise_level=level, loss=loss,
                                 weight_decay=0.01, random_state=0, dtype=np.float64)
    X = np.random.default_rng(1).random((5, 12))
    errors = check_model(model, X)
    assert set(errors) == set(model.params)
    assert max(errors.values()) < 1e-7, errors


def test_loss_is_the_clean_target_reconstruction_of_the_corrupted_input():
    model = DenoisingAutoencoder((10, 4), activation="sigmoid", noise="masking", noise_level=0.5,
                                 random_state=0, dtype=np.float64)
    X = np.random.default_rng(2).random((8, 10))
    loss, terms, _ = model.loss_and_grads(X, np.random.default_rng(5))
    X_tilde = corrupt(X, "masking", 0.5, np.random.default_rng(5))
    expected = np.mean((model.reconstruct(X_tilde) - X) ** 2)
    assert loss == pytest.approx(expected, rel=1e-12)
    # and it differs from the plain autoencoder's loss on clean input
    assert abs(loss - model.score(X)) > 1e-6


def test_zero_noise_equals_plain_autoencoder():
    kw = dict(sizes=(10, 4), activation="tanh", random_state=3, dtype=np.float64)
    dae = DenoisingAutoencoder(noise="gaussian", noise_level=0.0, **kw)
    ae = Autoencoder(**kw)
    X = np.random.default_rng(4).random((6, 10))
    l1, _, g1 = dae.loss_and_grads(X, np.random.default_rng(0))
    l2, _, g2 = ae.loss_and_grads(X, np.random.default_rng(0))
    assert l1 == pytest.approx(l2, rel=1e-12)
    for k in g1:
        np.testing.assert_allclose(g1[k], g2[k], rtol=1e-12, atol=1e-15)


def test_fit_reduces_denoising_loss_and_params_are_plain():
    X = np.random.default_rng(0).random((64, 16)).astype(np.float32)
    model = DenoisingAutoencoder((16, 8), noise="gaussian", noise_level=0.2, clip=(0, 1), random_state=0)
    model.fit(X, epochs=15, batch_size=16)
    assert model.history_["loss"][-1] < model.history_["loss"][0]
    params = model.get_params()
    assert params["noise"] == "gaussian" and params["noise_level"] == 0.2 and params["clip"] == (0.0, 1.0)
    clone = DenoisingAutoencoder(**{**params, "clip": list(params["clip"])})  # as after a JSON round trip
    assert clone.clip == (0.0, 1.0)


@pytest.mark.parametrize("kwargs, match", [({"noise": "gaussian", "noise_level": -1.0}, "noise_level"),
                                           ({"noise": "masking", "noise_level": 1.2}, "noise_level"),
                                           ({"noise": "speckle"}, "noise"),
                                           ({"clip": (1, 0)}, "clip")])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DenoisingAutoencoder((8, 3), **kwargs)


def test_corruption_hook_drives_corrupt_and_the_objective():
    """A subclass overriding only ``_corrupt`` (as the colourisation and watermark examples do)
    changes both :meth:`corrupt` and the training objective; the conv DAE shares the same step."""
    from npae.models import ConvDenoisingAutoencoder

    class Zeroing(DenoisingAutoencoder):
        def _corrupt(self, X, rng):
            return np.zeros_like(X)

    kw = dict(sizes=(10, 4), activation="tanh", random_state=3, dtype=np.float64)
    model = Zeroing(**kw)
    X = np.random.default_rng(4).random((6, 10))
    np.testing.assert_array_equal(model.corrupt(X, np.random.default_rng(0)), 0)
    loss = model.loss_and_grads(X, np.random.default_rng(0))[0]
    assert loss == pytest.approx(np.mean((model.reconstruct(np.zeros_like(X)) - X) ** 2), rel=1e-12)
    assert ConvDenoisingAutoencoder._forward_backward is DenoisingAutoencoder._forward_backward
