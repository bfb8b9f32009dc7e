"""Evaluation metrics: reconstruction error, image quality, sparsity, sensitivity, detection.

Each submodule holds one family; import the names from here.
"""

from .detection import average_ranks, roc_auc, roc_curve  # noqa: F401
from .image import gaussian_window, psnr, ssim  # noqa: F401
from .reconstruction import (  # noqa: F401
    binary_cross_entropy,
    mean_absolute_error,
    mean_squared_error,
    reconstruction_errors,
)
from .sensitivity import contraction_ratio, jacobian_norms, mean_jacobian_norm  # noqa: F401
from .sparsity import dead_units, fraction_active, mean_activation, saturation_fraction, sparsity_stats  # noqa: F401
