"""Autoencoder models: each exposes encoder, decoder, encode, decode, reconstruct, fit, score."""

from .autoencoder import Autoencoder, SparseAutoencoder
from .base import BaseAutoencoder

__all__ = ["Autoencoder", "BaseAutoencoder", "SparseAutoencoder"]
