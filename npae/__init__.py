"""npae: autoencoders from scratch in NumPy, every gradient written by hand and checked."""

from . import gradcheck, init, layers, losses, models, optim, penalties
from .models import Autoencoder, SparseAutoencoder

__version__ = "0.1.0"

__all__ = ["Autoencoder", "SparseAutoencoder", "gradcheck", "init", "layers", "losses", "models", "optim",
           "penalties"]
from .models import VAE  # noqa: E402

__all__ += ["VAE"]
