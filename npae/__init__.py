"""npae: autoencoders from scratch in NumPy, every gradient written by hand and checked."""

from . import gradcheck, init, layers, losses, metrics, models, noise, optim, penalties
from .models import Autoencoder, ContractiveAutoencoder, DenoisingAutoencoder, SparseAutoencoder

__version__ = "0.1.0"

__all__ = ["Autoencoder", "SparseAutoencoder", "gradcheck", "init", "layers", "losses", "models", "optim",
           "penalties"]
__all__ += ["ContractiveAutoencoder", "DenoisingAutoencoder", "metrics", "noise"]
from .models import VAE  # noqa: E402

__all__ += ["VAE"]
from . import pca, watermark  # noqa: E402
from .pca import PCA  # noqa: E402

__all__ += ["PCA", "pca", "watermark"]
from . import io, schedules, training  # noqa: E402
from .io import load  # noqa: E402

__all__ += ["io", "load", "schedules", "training"]
from .models import ConvAutoencoder, ConvDenoisingAutoencoder, ConvVAE  # noqa: E402

__all__ += ["ConvAutoencoder", "ConvDenoisingAutoencoder", "ConvVAE"]
from . import datasets  # noqa: E402

__all__ += ["datasets"]
