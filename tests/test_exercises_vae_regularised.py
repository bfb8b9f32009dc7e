"""What the VAE, denoising and contractive exercises rely on beyond the generic tests of test_exercises.py:
the VAE's steps look the sampling functions up where --run puts the learner's, the offline line images,
and an Inf answer graded without a warning."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from npae.exercises import substituted
from npae.exercises.grading import Grader
from npae.exercises.vae import line_images
from npae.models import VAE
from npae.models.vae import reparameterize, reparameterize_backward


def _grads(model: VAE, X: np.ndarray) -> dict[str, np.ndarray]:
    return {k: v.copy() for k, v in model.loss_and_grads(X, np.random.default_rng(3))[2].items()}


@pytest.mark.parametrize("kw", [{}, {"objective": "iwae", "k": 3}])
def test_both_steps_call_the_module_level_sampling_functions(kw):
    """A stand-in for npae.models.vae.reparameterize(_backward) changes the step; npae's own does not."""
    X = np.random.default_rng(0).random((5, 6))
    model = VAE(sizes=(6, 4), latent_dim=2, random_state=0, dtype=np.float64, **kw)
    before = _grads(model, X)
    with substituted({("npae.models.vae", "reparameterize"): reparameterize,
                      ("npae.models.vae", "reparameterize_backward"): reparameterize_backward}):
        same = _grads(model, X)
    with substituted({("npae.models.vae", "reparameterize_backward"):
                      lambda dz, log_var, eps: (dz, np.zeros_like(dz))}):
        no_dlog_var = _grads(model, X)
    with substituted({("npae.models.vae", "reparameterize"): lambda mu, log_var, eps: mu + 0 * eps}):
        no_noise = _grads(model, X)
    for name, g in before.items():
        np.testing.assert_array_equal(same[name], g)
    assert any(not np.allclose(no_dlog_var[n], g) for n, g in before.items() if n.startswith("encoder"))
    assert any(not np.allclose(no_noise[n], g) for n, g in before.items() if n.startswith("decoder"))


def test_reparameterize_backward_is_per_sample_and_the_iwae_step_sums_it():
    rng = np.random.default_rng(1)
    log_var, dz, eps = rng.normal(size=(4, 3)), rng.normal(size=(2, 4, 3)), rng.normal(size=(2, 4, 3))
    dmu, dlog_var = reparameterize_backward(dz, log_var, eps)
    assert dmu.shape == dlog_var.shape == (2, 4, 3)
    np.testing.assert_allclose(dlog_var, 0.5 * dz * np.exp(0.5 * log_var) * eps, rtol=1e-15)


def test_line_images_are_binary_lines():
    X = line_images(500, np.random.default_rng(0))
    assert X.shape == (500, 64) and X.dtype == np.float64
    assert set(np.unique(X)) == {0.0, 1.0}
    on = X.sum(axis=1)
    assert on.min() >= 4 and on.max() <= 24  # a line of width ~1.2 across an 8x8 square
    np.testing.assert_array_equal(X, line_images(500, np.random.default_rng(0)))


def test_an_infinite_answer_is_graded_without_a_warning(tmp_path):
    grader = Grader(module=None, path=tmp_path / "x.py", lesson="docs/09-vae.md")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not grader.compare("value", np.inf, 1.0, "value")
    assert "stable form" in grader.checks[0].diagnosis
