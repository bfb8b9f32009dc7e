"""ROC AUC against a brute-force pair count (ties 1/2), and the ROC curve."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from profiles import examples

from npae.metrics import average_ranks, roc_auc, roc_curve


def brute_force_auc(scores, labels):
    """P(s_pos > s_neg) + 1/2 P(s_pos == s_neg) by counting every (positive, negative) pair."""
    pos = scores[labels == 1][:, None]
    neg = scores[labels == 0][None, :]
    return float(np.mean((pos > neg) + 0.5 * (pos == neg)))


@st.composite
def scored_labels(draw):
    n = draw(st.integers(2, 60))
    labels = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)))
    if labels.min() == labels.max():
        labels[0] = 1 - labels[0]
    # Few distinct values so that ties are common.
    scores = np.array(draw(st.lists(st.integers(-3, 3), min_size=n, max_size=n)), dtype=float)
    scale = draw(st.sampled_from([1.0, 0.1, 1e6]))
    return scores * scale, labels


@examples(150)
@given(scored_labels())
def test_roc_auc_equals_pair_count(data):
    scores, labels = data
    assert roc_auc(scores, labels) == pytest.approx(brute_force_auc(scores, labels), abs=1e-12)
    # Bool labels and flipping the score direction: AUC -> 1 - AUC.
    assert roc_auc(scores, labels.astype(bool)) == pytest.approx(roc_auc(scores, labels), abs=1e-12)
    assert roc_auc(-scores, labels) == pytest.approx(1 - roc_auc(scores, labels), abs=1e-12)


@examples(100)
@given(scored_labels())
def test_trapezoid_area_under_roc_curve_is_auc(data):
    scores, labels = data
    fpr, tpr, thr = roc_curve(scores, labels)
    assert fpr[0] == tpr[0] == 0 and fpr[-1] == tpr[-1] == 1
    assert np.all(np.diff(fpr) >= 0) and np.all(np.diff(tpr) >= 0) and np.all(np.diff(thr) < 0)
    area = float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))
    assert area == pytest.approx(roc_auc(scores, labels), abs=1e-12)


def test_roc_auc_known_values():
    assert roc_auc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1]) == 1.0
    assert roc_auc([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1]) == 0.0
    assert roc_auc([1.0, 1.0, 1.0, 1.0], [0, 1, 0, 1]) == 0.5  # all tied
    # Pairs: (0.5 vs 0.1) >, (0.5 vs 0.5) tie, (0.3 vs 0.1) >, (0.3 vs 0.5) <  -> 2.5 / 4
    assert roc_auc([0.5, 0.3, 0.1, 0.5], [1, 1, 0, 0]) == 0.625


def test_average_ranks():
    np.testing.assert_array_equal(average_ranks(np.array([10.0, 20.0, 10.0, 30.0, 10.0])),
                                  [2.0, 4.0, 2.0, 5.0, 2.0])
    assert average_ranks(np.array([])).shape == (0,)


def test_roc_auc_statistical():
    """Two Gaussians one standard deviation apart: AUC = Phi(1 / sqrt(2)) = 0.7602."""
    rng = np.random.default_rng(0)
    n = 20000
    scores = np.r_[rng.standard_normal(n), rng.standard_normal(n) + 1.0]
    labels = np.r_[np.zeros(n), np.ones(n)]
    # Standard error of the AUC here is about 0.0027; 0.01 is about four of them.
    assert roc_auc(scores, labels) == pytest.approx(0.760250, abs=0.01)


def test_roc_auc_bad_arguments():
    with pytest.raises(ValueError, match="both classes"):
        roc_auc([0.1, 0.2], [1, 1])
    with pytest.raises(ValueError, match="labels must be 0/1"):
        roc_auc([0.1, 0.2], [0, 2])
    with pytest.raises(ValueError, match="same shape"):
        roc_auc([0.1, 0.2, 0.3], [0, 1])
    with pytest.raises(ValueError, match="scores must be finite"):
        roc_auc([np.nan, 0.2], [0, 1])
    with pytest.raises(ValueError, match="1 dimensions"):
        roc_curve(np.ones((2, 2)), np.array([[0, 1], [0, 1]]))
