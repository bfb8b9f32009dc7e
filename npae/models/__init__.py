"""Autoencoder models: each exposes encoder, decoder, encode, decode, reconstruct, fit, score.

Also the classifiers that use the codes: ``Classifier`` (Dense layers and a softmax) and
``StackedAutoencoder`` (greedy layer-wise pretraining, then fine-tuning).
"""

from .autoencoder import Autoencoder, SparseAutoencoder
from .base import BaseAutoencoder
from .classifier import Classifier
from .contractive import ContractiveAutoencoder
from .conv import ConvAutoencoder, ConvDenoisingAutoencoder, ConvVAE
from .denoising import DenoisingAutoencoder
from .stacked import StackedAutoencoder
from .vae import VAE

__all__ = ["Autoencoder", "BaseAutoencoder", "ContractiveAutoencoder", "ConvAutoencoder",
           "ConvDenoisingAutoencoder", "ConvVAE", "DenoisingAutoencoder", "SparseAutoencoder", "VAE",
           "Classifier", "StackedAutoencoder"]
