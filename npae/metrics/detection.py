r"""Detection metrics: the ROC curve and the area under it, ties handled.

An anomaly detector gives every example a score (for an autoencoder, its reconstruction
error) and calls it anomalous above a threshold. The ROC AUC summarises all thresholds at
once: it is the probability that a random anomaly scores higher than a random normal example,
ties counting one half (the Mann-Whitney U statistic divided by ``n_pos * n_neg``):

.. math::
    \mathrm{AUC} = \frac{1}{n_+ n_-} \sum_{i \in +} \sum_{j \in -}
        \left( [s_i > s_j] + \tfrac12 [s_i = s_j] \right)
    = \frac{R_+ - n_+ (n_+ + 1)/2}{n_+ n_-}

where ``R_+`` is the sum of the positives' ranks in the pooled scores, tied scores sharing
the mean of their ranks. Sorting makes this O(n log n) instead of the O(n_+ n_-) pair count.
Derivation: ``docs/13-applications.md``.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_array, check_same_shape


def _check_scores_labels(scores, labels) -> tuple[np.ndarray, np.ndarray]:
    scores = check_array(scores, "scores", ndim=1, dtype=np.float64)
    labels = check_array(labels, "labels", ndim=1, finite=True)
    check_same_shape(scores, labels, "scores", "labels")
    if not np.isin(labels, (0, 1)).all():
        bad = np.unique(labels[~np.isin(labels, (0, 1))])[:5]
        raise ValueError(f"labels must be 0/1 or bool (1 = positive, e.g. anomaly), "
                         f"got values {bad.tolist()}")
    labels = labels.astype(bool)
    n_pos = int(labels.sum())
    if n_pos == 0 or n_pos == len(labels):
        raise ValueError(f"labels must contain both classes to define an ROC curve, got {n_pos} positive(s) "
                         f"out of {len(labels)}")
    return scores, labels


def average_ranks(x) -> np.ndarray:
    """Ranks 1..n of ``x`` (1-D), tied values sharing the mean of their ranks (float64, shape (n,)).

    A tie group occupying sorted positions ``a+1 .. a+c`` gets rank ``a + (c + 1) / 2``.
    """
    x = check_array(x, "x", ndim=1, min_samples=0)
    _, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    starts = np.cumsum(counts) - counts  # (n_unique,) sorted positions before each group
    group_rank = starts + (counts + 1) / 2.0  # (n_unique,)
    return group_rank[inverse.reshape(-1)]


def roc_auc(scores, labels) -> float:
    r"""Area under the ROC curve: P(score of a positive > score of a negative), ties 1/2.

    .. math:: \mathrm{AUC} = \frac{R_+ - n_+ (n_+ + 1)/2}{n_+ n_-}

    Parameters
    ----------
    scores : array_like, shape (n,)
        Higher means "more likely positive" (for anomaly detection: the reconstruction error).
    labels : array_like of 0/1 or bool, shape (n,)
        1 marks a positive (an anomaly); both classes must be present.

    Returns
    -------
    float in [0, 1]
        1 separates perfectly, 0.5 is chance (or all scores equal), 0 is perfectly inverted.
    """
    scores, labels = _check_scores_labels(scores, labels)
    n_pos = int(labels.sum())
    n_neg = len(labels) - n_pos
    rank_sum = float(average_ranks(scores)[labels].sum())
    return (rank_sum - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg)


def roc_curve(scores, labels) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""False and true positive rates at every distinct threshold.

    Calling ``score >= t`` positive for each distinct score ``t`` (descending) gives

    .. math::
        \mathrm{TPR}(t) = \frac{\#\{i \in +: s_i \ge t\}}{n_+}, \qquad
        \mathrm{FPR}(t) = \frac{\#\{j \in -: s_j \ge t\}}{n_-}

    The curve starts at (0, 0) (threshold ``+inf``) and ends at (1, 1); tied scores move it
    diagonally, which is why the trapezoid area under it equals :func:`roc_auc`.

    Returns
    -------
    fpr, tpr, thresholds : ndarray, shape (n_distinct + 1,)
    """
    scores, labels = _check_scores_labels(scores, labels)
    order = np.argsort(-scores, kind="stable")
    s, y = scores[order], labels[order]
    last_of_group = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]  # end index of each tie group
    tp = np.cumsum(y)[last_of_group]
    fp = (last_of_group + 1) - tp
    tpr = np.r_[0.0, tp / tp[-1]]
    fpr = np.r_[0.0, fp / fp[-1]]
    thresholds = np.r_[np.inf, s[last_of_group]]
    return fpr, tpr, thresholds


__all__ = ["average_ranks", "roc_auc", "roc_curve"]
