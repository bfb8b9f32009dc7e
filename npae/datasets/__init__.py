"""Data: the IDX file format (:mod:`npae.datasets.idx`), MNIST and Fashion-MNIST
(:mod:`npae.datasets.mnist`), which data set a folder holds (:mod:`npae.datasets.identity`, by
MD5) and natural-image patches from the photographs matplotlib ships
(:mod:`npae.datasets.images`, offline). Import the names from here.
"""

from .identity import DECOMPRESSED_MD5, FASHION_MNIST_MD5, MNIST_MD5, identify, identify_file
from .idx import DataError, ScaledRows, open_idx, parse_idx, read_idx, write_idx
from .images import (
    SAMPLE_PHOTOS,
    available_photos,
    block_mean,
    natural_patches,
    normalize_patches,
    sample_photo,
    to_grey,
    whiten_image,
)
from .mnist import (
    FASHION_MNIST_MIRRORS,
    MNIST_FILES,
    MNIST_MIRRORS,
    TEST_ONLY_SPLIT,
    data_dir_from,
    default_cache_dir,
    download_fashion_mnist,
    download_mnist,
    load_fashion_mnist,
    load_mnist,
    mnist_split,
)

__all__ = [
    "available_photos",
    "block_mean",
    "data_dir_from",
    "DataError",
    "DECOMPRESSED_MD5",
    "default_cache_dir",
    "download_fashion_mnist",
    "download_mnist",
    "FASHION_MNIST_MD5",
    "FASHION_MNIST_MIRRORS",
    "identify",
    "identify_file",
    "load_fashion_mnist",
    "load_mnist",
    "MNIST_FILES",
    "MNIST_MD5",
    "MNIST_MIRRORS",
    "mnist_split",
    "natural_patches",
    "normalize_patches",
    "open_idx",
    "parse_idx",
    "read_idx",
    "sample_photo",
    "ScaledRows",
    "SAMPLE_PHOTOS",
    "TEST_ONLY_SPLIT",
    "to_grey",
    "whiten_image",
    "write_idx",
]
