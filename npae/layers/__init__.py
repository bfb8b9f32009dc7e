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
from .conv import Conv2D, Conv2DTranspose
from .dense import Dense
from .dropout import Dropout
from .normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from .pooling import MaxPool2D, UpSampling2D
from .reshape import Flatten, Reshape
from .tied import TiedDense

__all__ = [
    "ACTIVATIONS", "Activation", "Dense", "Identity", "Layer", "LeakyReLU", "ReLU", "Sequential",
    "Sigmoid", "Softplus", "Tanh", "get_activation",
    "Conv2D", "Conv2DTranspose", "Flatten", "MaxPool2D", "Reshape", "UpSampling2D",
    "BatchNorm1d", "BatchNorm2d", "Dropout", "LayerNorm",
    "TiedDense",
]
