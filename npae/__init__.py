"""npae: autoencoders from scratch in NumPy, every gradient written by hand and checked."""

from . import (
    datasets,
    gradcheck,
    init,
    io,
    latent,
    layers,
    losses,
    metrics,
    models,
    noise,
    optim,
    pca,
    penalties,
    schedules,
    training,
    validation,
    watermark,
)
from .io import load
from .models import (
    VAE,
    Autoencoder,
    Classifier,
    ContractiveAutoencoder,
    ConvAutoencoder,
    ConvDenoisingAutoencoder,
    ConvVAE,
    DenoisingAutoencoder,
    SparseAutoencoder,
    StackedAutoencoder,
)
from .pca import PCA

__version__ = "0.1.0"

__all__ = [
    # models
    "PCA", "VAE", "Autoencoder", "ContractiveAutoencoder", "ConvAutoencoder", "ConvDenoisingAutoencoder",
    "ConvVAE", "DenoisingAutoencoder", "SparseAutoencoder",
    "Classifier", "StackedAutoencoder",
    "load",
    # modules
    "datasets", "gradcheck", "init", "io", "latent", "layers", "losses", "metrics", "models", "noise",
    "optim", "pca", "penalties", "schedules", "training", "validation", "watermark",
]
