"""The tuning claims of ``examples/tuning.py``, asserted on MNIST-format data that are not digits.

The example decides two claims of the lecture notes by explicit rules on what it measures (its
docstring, ``docs/03-sparsity.md#tuning-rho-and-beta`` and
``docs/12-pca-and-linear-autoencoders.md#how-big-should-the-code-be``). Its grid and its rules
were chosen on MNIST; these tests run it on the claims tests' two other folders (``conftest.
nondigit_folder``: letters and symbols, and photo crops; 3,000 training and 300 held-out images,
trained as many updates as on MNIST) and assert the verdicts that held there when the pages were
written:

- the sparse autoencoder needs careful tuning of rho and beta: "holds" on both;
- a balanced code size (too small is blurry, too large copies) does not hold on both: it holds
  with a qualification on the letters, and does not hold on the photo crops, where the plain
  autoencoder with 512 numbers is not near the identity (gain 0.50 against the rule's 0.9). So
  only what held on both is asserted: the smallest code is blurry (at least twice the largest's
  error, less than half its detail), and the held-out error is lowest at the largest code (the
  error alone never says the code is too large).

The code-size sweep runs at five of the example's nine sizes and the denoising autoencoder at the
largest only: the verdict reads the smallest and the largest size and where the error is lowest,
and each model trains the same whichever others are swept. About 45 CPU seconds per folder.
Marked ``claims``: ``python -m pytest -m claims`` runs them.
"""

from __future__ import annotations

import pytest
from example_scripts import load_example

pytestmark = pytest.mark.claims

#: The example's defaults, with fewer code sizes (the smallest and the largest kept).
OPTIONS = ("--ks", "2", "8", "32", "128", "512", "--dae-ks", "512")


@pytest.fixture(scope="session")
def tuning_run(nondigit_folder, tmp_path_factory) -> dict:
    """``examples/tuning.py``'s metrics on this non-digit folder (one run per folder)."""
    out = tmp_path_factory.mktemp("tuning")
    return load_example("tuning").main(["--data-dir", str(nondigit_folder), "--out", str(out), *OPTIONS])


def test_the_sparse_autoencoder_needs_careful_tuning_of_rho_and_beta(tuning_run):
    v = tuning_run["verdicts"]["sparsity"]
    assert v["verdict"] == "holds", v["because"]
    n = len(tuning_run["sparsity"]["cells"])
    assert 0 < len(v["good_cells"]) <= n / 2, v["because"]
    assert sum(count > 0 for count in v["failures"].values()) >= 2, v["failures"]


def test_the_smallest_code_is_blurry_and_the_error_falls_to_the_largest(tuning_run):
    v = tuning_run["verdicts"]["code_size"]
    assert v["small_end_blurry"], v["because"]
    assert v["best_k"] == 512 and not v["error_rises_at_large_end"], v["because"]
