"""Regularisers added to a reconstruction loss, each returning its value and gradient."""

from .contractive import contractive, jacobian
from .sparsity import kl_sparsity, l1_activity, l2_weight_decay

__all__ = ["contractive", "jacobian", "kl_sparsity", "l1_activity", "l2_weight_decay"]
