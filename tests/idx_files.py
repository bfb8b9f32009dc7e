"""MNIST-format IDX files for the tests, written independently of npae (which only reads them).

Layout (the one :func:`npae.datasets.parse_idx` documents): two zero bytes, a type code, the
number of dimensions ``d``, ``d`` big-endian uint32 sizes, then the elements, big-endian.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

TYPE_CODES = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09, np.dtype(">i2"): 0x0B,
              np.dtype(">i4"): 0x0C, np.dtype(">f4"): 0x0D, np.dtype(">f8"): 0x0E}


def idx_bytes(a: np.ndarray) -> bytes:
    """Encode ``a`` (a dtype of :data:`TYPE_CODES`, any byte order) as an IDX file."""
    big = a.astype(a.dtype.newbyteorder(">")) if a.dtype.itemsize > 1 else a
    dims = b"".join(int(s).to_bytes(4, "big") for s in a.shape)
    header = bytes([0, 0, TYPE_CODES[big.dtype], a.ndim]) + dims
    return header + big.tobytes()


def write_mnist(folder: Path, stem: str, images, labels, gz: bool = True) -> None:
    """Write ``<stem>-images-idx3-ubyte[.gz]`` and ``<stem>-labels-idx1-ubyte[.gz]`` as uint8.

    ``stem`` is ``"train"`` or ``"t10k"`` (MNIST's test set); ``images`` (N, 28, 28), ``labels`` (N,).
    """
    suffix = ".gz" if gz else ""
    for name, a in ((f"{stem}-images-idx3-ubyte", images), (f"{stem}-labels-idx1-ubyte", labels)):
        data = idx_bytes(np.asarray(a).astype(np.uint8))
        (Path(folder) / (name + suffix)).write_bytes(gzip.compress(data) if gz else data)
