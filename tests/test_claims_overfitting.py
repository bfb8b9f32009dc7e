"""The verdicts of examples/overfitting.py, asserted on MNIST-format data that are not digits.

The example was written on MNIST; these tests run it with its defaults on the two folders of
``conftest.nondigit_folder`` (letters and symbols in 16 fonts, crops of photographs; 3,000 training
and 300 held-out images, so its training-set-size curve is 250, 1,000 and 3,000 images) and assert
each verdict that is the same on both, with the rule's own numbers:

- basic autoencoders overfit: at least "holds with a qualification" (a held-out error several times
  the training error on 250 images, far more than on 3,000); the held-out error itself rises only
  on the photo crops;
- the contractive penalty shrinks the train/held-out gap ("prevents overfitting": at least "holds
  with a qualification");
- the contractive autoencoder is more robust to input noise than the plain one, with a qualification
  (it loses on clean or slightly noisy input somewhere), and its encoder Jacobian is far smaller;
- the sparse autoencoder's "better generalization, reduced overfitting" does not hold here: on
  250 images its gap and its held-out error are both larger than the plain autoencoder's;
- the DAE's "requires sufficient training data" does not hold here: its advantage over the plain
  AE on noisy held-out images does not grow from 250 to 3,000 images.

The DAE's "improves robustness to noise" differs between the folders (with a qualification on the
letters, not on the photo crops, where the plain AE is about as robust), so it is not asserted.
One run per folder (about half a minute of one core) serves every test; marked ``claims``, left out
of the default run (``python -m pytest -m claims``).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from example_scripts import load_example

pytestmark = pytest.mark.claims

EXAMPLE = load_example("overfitting")
_RUNS: dict[Path, dict] = {}


@pytest.fixture
def metrics(nondigit_folder, tmp_path_factory) -> dict:
    """The example's metrics on this non-digit folder (one run per folder, shared by the tests)."""
    if nondigit_folder not in _RUNS:
        out = tmp_path_factory.mktemp("overfitting")
        _RUNS[nondigit_folder] = EXAMPLE.main(["--data-dir", str(nondigit_folder), "--out", str(out)])
    return _RUNS[nondigit_folder]


def verdict(m: dict, claim: str) -> dict:
    return m["verdicts"][claim]


def test_the_plain_autoencoder_overfits_the_small_set(metrics):
    v = verdict(metrics, "basic autoencoders overfit")
    small, large = metrics["summaries"]["small"]["AE"], metrics["summaries"]["large"]["AE"]
    assert v["verdict"] in (EXAMPLE.HOLDS, EXAMPLE.QUALIFIED), v
    assert v["gap"] and small["ratio"] > 2 * large["ratio"], (small, large)


def test_the_contractive_penalty_shrinks_the_gap(metrics):
    v = verdict(metrics, "contractive: prevents overfitting")
    assert v["verdict"] in (EXAMPLE.HOLDS, EXAMPLE.QUALIFIED) and v["gap_smaller"], v


def test_the_contractive_autoencoder_is_more_robust_with_a_qualification(metrics):
    v = verdict(metrics, "contractive: robust to noise")
    assert v["verdict"] == EXAMPLE.QUALIFIED, v
    for size, norms in metrics["mean_jacobian_norm"].items():
        assert norms["CAE"] < 0.5 * norms["AE"], (size, norms)


def test_a_sparse_code_does_not_generalise_better_here(metrics):
    v = verdict(metrics, "sparse: better generalization, reduced overfitting")
    assert v["verdict"] == EXAMPLE.FAILS and not v["gap_smaller"] and not v["held_out_lower"], v


def test_the_daes_advantage_does_not_grow_with_the_training_set_here(metrics):
    v = verdict(metrics, "denoising: requires sufficient training data")
    assert metrics["sizes"] == [250, 1000, 3000]
    assert v["verdict"] == EXAMPLE.FAILS, v
