"""Layers with hand-written forward and backward passes (the contract is in ``base``)."""

from .activations import (
    ACTIVATIONS,
    Activation,
    Identity,
    LeakyReLU,
    ReLU,
    Sigmoid,
    Softplus,
    Tanh,
    get_activation,
)
from .base import Layer, Sequential
from .dense import Dense

__all__ = [
    "ACTIVATIONS", "Activation", "Dense", "Identity", "Layer", "LeakyReLU", "ReLU", "Sequential",
    "Sigmoid", "Softplus", "Tanh", "get_activation",
]
