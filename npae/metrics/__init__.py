"""Evaluation metrics: reconstruction error, image quality, sparsity, sensitivity, detection.

Each submodule holds one family; import the names from here.
"""

from .detection import average_ranks, roc_auc, roc_curve  # noqa: F401
