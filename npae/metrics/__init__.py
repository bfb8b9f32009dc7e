"""Evaluation metrics: reconstruction error, image quality, sparsity, sensitivity, detection.

Each submodule holds one family; import the names from here.
"""
