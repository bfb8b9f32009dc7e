"""Regularisers added to a reconstruction loss, each returning its value and gradient."""

from .contractive import contractive, jacobian
from .sparsity import add_weight_decay, kl_sparsity, l1_activity, l2_weight_decay

__all__ = ["add_weight_decay", "contractive", "jacobian", "kl_sparsity", "l1_activity", "l2_weight_decay"]
