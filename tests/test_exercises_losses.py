"""The loss and penalty exercises beyond the generic tests of test_exercises.py: a learner's own right
solutions (not npae's code) pass, weight_decay's grads in either form, and kl_sparsity --run's stand-in
reaches SparseAutoencoder's step."""

from __future__ import annotations

import numpy as np
import pytest

from npae import SparseAutoencoder
from npae.exercises import EXERCISES, check_file, substituted
from npae.exercises.losses import _as_checked_function

#: Right solutions written the way a learner might, independently of npae's code.
OWN = {
    "mse": '''
import numpy as np

def mse(pred, target):
    d = pred - target
    return np.mean(d * d), 2 * d / d.size
''',
    "bce_with_logits": '''
import numpy as np

def bce_with_logits(logits, target):
    e = np.exp(-np.abs(logits))
    p = np.where(logits >= 0, 1 / (1 + e), e / (1 + e))
    return np.mean(np.logaddexp(0, logits) - logits * target), (p - target) / logits.size
''',
    "softmax_cross_entropy": '''
import numpy as np

def softmax_cross_entropy(logits, y):
    N, C = logits.shape
    z = logits - logits.max(axis=1, keepdims=True)
    lse = np.log(np.exp(z).sum(axis=1))
    p = np.exp(z - lse[:, None])
    return -np.mean(z[np.arange(N), y] - lse), (p - np.eye(C)[y]) / N
''',
    "kl_sparsity": '''
import numpy as np

def kl_sparsity(h, rho):
    rho_hat = h.mean(axis=0)
    value = np.sum(rho * np.log(rho / rho_hat) + (1 - rho) * np.log((1 - rho) / (1 - rho_hat)))
    return value, np.ones_like(h) * (-rho / rho_hat + (1 - rho) / (1 - rho_hat)) / len(h)
''',
    "weight_decay": '''
import numpy as np

def weight_decay(params, lam):
    value, grads = 0.0, {}
    for name, p in params.items():
        if name.endswith("W"):
            value += lam / 2 * np.sum(p ** 2)
            grads[name] = lam * p
        else:
            grads[name] = np.zeros_like(p)  # a bias: not decayed
    return value, grads
''',
}


@pytest.mark.parametrize("name", list(OWN))
def test_a_learners_own_right_solution_passes(name, tmp_path):
    path = tmp_path / f"{name}.py"
    path.write_text(OWN[name])
    report = check_file(EXERCISES[name], path)
    assert report.passed, report.text()


@pytest.mark.parametrize("grads, phrase", [
    ("[lam * W for W in params.values()]", "must return grads as a dict"),
    ("{'encoder.1.W': params['encoder.0.W']}", "not in params"),
    ("{k: (lam * p).ravel() for k, p in params.items() if k.endswith('W')}", "has shape"),
])
def test_weight_decay_grads_must_be_a_dict_of_params_shapes(grads, phrase, tmp_path):
    path = tmp_path / "weight_decay.py"
    path.write_text(f"def weight_decay(params, lam):\n    return 0.0, {grads}\n")
    report = check_file(EXERCISES["weight_decay"], path)
    assert not report.passed and phrase in report.text(), report.text()
    assert "Traceback" not in report.text()


def test_kl_stand_in_reaches_the_sparse_autoencoders_step():
    X = np.random.default_rng(0).uniform(0.1, 0.9, size=(20, 8))
    model = SparseAutoencoder(sizes=(8, 3), rho=0.05, beta=3.0, weight_decay=0.0, random_state=0,
                              dtype=np.float64)
    _, terms, grads = model.loss_and_grads(X)
    dW = grads["encoder.0.W"].copy()
    none = _as_checked_function(lambda h, rho: (0.0, np.zeros_like(h)))
    with substituted({("npae.models.autoencoder", "kl_sparsity"): none}):
        _, no_terms, no_grads = model.loss_and_grads(X)
        no_dW = no_grads["encoder.0.W"].copy()
    assert terms["sparsity"] > 0 and no_terms["sparsity"] == 0
    assert not np.allclose(dW, no_dW)
    assert model.loss_and_grads(X)[1]["sparsity"] == terms["sparsity"]  # npae's penalty is back
