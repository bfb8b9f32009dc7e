"""Autoencoder models: each exposes encoder, decoder, encode, decode, reconstruct, fit, score."""

from .autoencoder import Autoencoder, SparseAutoencoder
from .base import BaseAutoencoder
from .contractive import ContractiveAutoencoder
from .conv import ConvAutoencoder, ConvDenoisingAutoencoder, ConvVAE
from .denoising import DenoisingAutoencoder
from .vae import VAE

__all__ = ["Autoencoder", "BaseAutoencoder", "ContractiveAutoencoder", "ConvAutoencoder",
           "ConvDenoisingAutoencoder", "ConvVAE", "DenoisingAutoencoder", "SparseAutoencoder", "VAE"]
