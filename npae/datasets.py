"""Data: MNIST-format IDX files and natural-image patches.

MNIST is read from a directory given as an argument or by the ``NPAE_DATA_DIR`` environment
variable (gzipped or plain IDX files). Nothing here depends on where the project happens to
keep its data.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np

from ._validation import check_choice

#: IDX element types: type code -> (NumPy dtype, big-endian).
_IDX_TYPES = {0x08: np.dtype(np.uint8), 0x09: np.dtype(np.int8), 0x0B: np.dtype(">i2"),
              0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}

MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


class DataError(ValueError):
    """A data file is missing, malformed or fails its checksum."""


def parse_idx(data: bytes, name: str = "<bytes>") -> np.ndarray:
    """Decode the bytes of an IDX file into an array.

    Layout: two zero bytes, a type code, the number of dimensions ``d``, ``d`` big-endian
    uint32 sizes, then the elements. Images have magic 2051 (0x00000803: uint8, 3 dims),
    labels 2049 (0x00000801: uint8, 1 dim).
    """
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise DataError(f"{name}: not an IDX file (bad magic number {data[:4].hex() or 'empty'})")
    type_code, ndim = data[2], data[3]
    if type_code not in _IDX_TYPES:
        raise DataError(f"{name}: unknown IDX element type 0x{type_code:02x}")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(f"{name}: truncated header ({len(data)} bytes, need {header})")
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    dtype = _IDX_TYPES[type_code]
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) != expected:
        raise DataError(f"{name}: truncated or oversized file: {len(data)} bytes, "
                        f"header says {expected} for shape {shape}")
    return np.frombuffer(data, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (``.gz`` or plain) into an array; a malformed file raises ``DataError``."""
    path = Path(path)
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
    except (OSError, EOFError) as exc:
        raise DataError(f"{path}: cannot read: {exc}") from exc
    return parse_idx(raw, str(path))


def data_dir_from(data_dir: str | os.PathLike | None) -> Path | None:
    """The data directory: the argument, else ``$NPAE_DATA_DIR``, else None."""
    if data_dir is not None:
        return Path(data_dir)
    env = os.environ.get("NPAE_DATA_DIR")
    return Path(env) if env else None


def _find(directory: Path, stem: str) -> Path | None:
    for name in (stem, stem + ".gz"):
        if (directory / name).is_file():
            return directory / name
    return None


def load_mnist(data_dir: str | os.PathLike | None = None, kind: str = "train",
               ) -> tuple[np.ndarray, np.ndarray]:
    """Load MNIST images as float32 rows in [0, 1] and their labels.

    Parameters
    ----------
    data_dir : path, optional
        Folder with the IDX files (``t10k-images-idx3-ubyte[.gz]`` and so on); defaults to
        ``$NPAE_DATA_DIR``.
    kind : {"train", "test"}

    Returns
    -------
    X : ndarray, shape (N, 784), float32 in [0, 1]
    y : ndarray, shape (N,), int64
    """
    check_choice(kind, "kind", ("train", "test"))
    directory = data_dir_from(data_dir)
    image_stem, label_stem = MNIST_FILES[kind]
    if directory is None:
        raise DataError(f"no MNIST data directory: pass data_dir (--data-dir) or set NPAE_DATA_DIR to a "
                        f"folder holding {image_stem}.gz and {label_stem}.gz")
    paths = [_find(directory, stem) for stem in (image_stem, label_stem)]
    if None in paths:
        raise DataError(f"MNIST {kind} files not found in {directory}: expected {image_stem}[.gz] and "
                        f"{label_stem}[.gz]")
    images, labels = read_idx(paths[0]), read_idx(paths[1])
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise DataError(f"{paths[0]}: expected images (N, H, W) and labels (N,), got {images.shape} "
                        f"and {labels.shape}")
    X = images.reshape(len(images), -1).astype(np.float32) / 255.0  # (N, 784)
    return X, labels.astype(np.int64)


def mnist_split(data_dir: str | os.PathLike | None = None, n_train: int | None = None,
                n_test: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, str]:
    """Training and evaluation data for the examples, and a sentence saying where it came from.

    Uses the 60,000-image training set and the test set when the folder has both; with only
    the test set, the first 8,000 test images train and the last 2,000 evaluate.
    ``n_train``/``n_test`` keep the first that many of each.

    Returns ``X_train, y_train, X_test, y_test, source``.
    """
    directory = data_dir_from(data_dir)
    X_test, y_test = load_mnist(directory, "test")
    try:
        X_train, y_train = load_mnist(directory, "train")
        source = f"MNIST training set ({len(X_train)} images) / test set ({len(X_test)} images)"
    except DataError:
        X_train, y_train = X_test[:8000], y_test[:8000]
        X_test, y_test = X_test[8000:], y_test[8000:]
        source = "MNIST test set only: first 8,000 images train, last 2,000 evaluate"
    X_train, y_train = X_train[:n_train], y_train[:n_train]
    X_test, y_test = X_test[:n_test], y_test[:n_test]
    return X_train, y_train, X_test, y_test, source
