"""Evaluation metrics: reconstruction error, image quality, sparsity, sensitivity, detection, and what
the codes are worth (linear probe, k nearest neighbours, a Frechet distance in classifier features).

Each submodule holds one family; import the names from here.
"""

from .detection import average_ranks, roc_auc, roc_curve  # noqa: F401
from .frechet import classifier_frechet_distance, frechet_distance, gaussian_fit, train_feature_classifier  # noqa: F401
from .image import gaussian_window, psnr, ssim  # noqa: F401
from .probes import knn_accuracy, knn_predict, linear_probe_accuracy  # noqa: F401
from .reconstruction import (  # noqa: F401
    binary_cross_entropy,
    mean_absolute_error,
    mean_squared_error,
    reconstruction_errors,
)
from .sensitivity import contraction_ratio, jacobian_norms, mean_jacobian_norm, reconstruction_gains  # noqa: F401
from .sparsity import dead_units, fraction_active, mean_activation, saturation_fraction, sparsity_stats  # noqa: F401
