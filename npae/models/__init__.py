"""Autoencoder models: each exposes encoder, decoder, encode, decode, reconstruct, fit, score."""

from .autoencoder import Autoencoder, SparseAutoencoder
from .base import BaseAutoencoder
from .contractive import ContractiveAutoencoder
from .denoising import DenoisingAutoencoder
from .vae import VAE

__all__ = ["Autoencoder", "BaseAutoencoder", "ContractiveAutoencoder", "DenoisingAutoencoder",
           "SparseAutoencoder"]
__all__ += ["VAE"]
from .conv import ConvAutoencoder, ConvDenoisingAutoencoder, ConvVAE  # noqa: E402

__all__ += ["ConvAutoencoder", "ConvDenoisingAutoencoder", "ConvVAE"]
