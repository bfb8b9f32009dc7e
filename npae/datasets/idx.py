"""The IDX file format of MNIST and its kin: read, memory-map, write, and stream as float rows.

An IDX file is two zero bytes, a type code, the number of dimensions ``d``, ``d`` big-endian
uint32 sizes, then the elements, big-endian (LeCun's format, used by MNIST, Fashion-MNIST,
KMNIST, EMNIST...). :func:`parse_idx` and :func:`read_idx` read one (gzipped or plain),
:func:`open_idx` memory-maps an uncompressed one for data larger than memory, :func:`write_idx`
writes one, and :class:`ScaledRows` serves a stored array to ``fit`` as float rows. The data
sets themselves (file names, checksums, downloads) are in :mod:`npae.datasets.mnist`.
"""

from __future__ import annotations

import gzip
import math
import os
import zlib
from pathlib import Path

import numpy as np

from .._validation import check_dtype, check_float, check_mapped_file, check_path
from ..io import atomic_write

#: IDX element types: type code -> (NumPy dtype, big-endian).
_IDX_TYPES = {0x08: np.dtype(np.uint8), 0x09: np.dtype(np.int8), 0x0B: np.dtype(">i2"),
              0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}

class DataError(ValueError):
    """A data file is missing, malformed or fails its checksum."""


def _idx_layout(head: bytes, size: int | None, name: str) -> tuple[np.dtype, tuple[int, ...], int]:
    """Check an IDX header and the file size it implies: return ``(dtype, shape, header_bytes)``.

    ``head`` holds at least the first 4 bytes (more is fine: the ``d`` sizes are read from it
    when present), ``size`` is the length of the whole file in bytes (None: not known yet, as
    when a gzip stream is read; :func:`_idx_size` gives the size the header implies).
    """
    if len(head) < 4:
        raise DataError(f"{name}: truncated: {len(head)} bytes, shorter than the 4-byte IDX magic number")
    if head[0] != 0 or head[1] != 0:
        raise DataError(f"{name}: not an IDX file (bad magic number {head[:4].hex()})")
    type_code, ndim = head[2], head[3]
    if type_code not in _IDX_TYPES:
        raise DataError(f"{name}: unknown IDX element type 0x{type_code:02x}")
    header = 4 + 4 * ndim
    if len(head) < header:
        raise DataError(f"{name}: truncated header ({len(head)} bytes, need {header})")
    shape = tuple(int.from_bytes(head[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    dtype = _IDX_TYPES[type_code]
    expected = _idx_size(dtype, shape, header)
    if size is not None and size != expected:
        raise DataError(f"{name}: truncated or oversized file: {size} bytes, "
                        f"header says {expected} for shape {shape}")
    return dtype, shape, header


def _idx_size(dtype: np.dtype, shape: tuple[int, ...], header: int) -> int:
    """The bytes of an IDX file of this header: the header, then prod(shape) elements."""
    return header + math.prod(shape) * dtype.itemsize


def _gunzip_idx(path: Path, chunk: int = 2**20) -> bytes:
    """Decompress a gzipped IDX file, reading its header first and then at most the size it declares.

    A small gzip can expand to gigabytes; reading in chunks up to the declared size (plus one
    byte, to tell an oversized file) bounds the work and the memory by what the header promises.
    """
    with gzip.open(path, "rb") as g:
        head = g.read(4)
        if len(head) == 4:
            head += g.read(4 * head[3])  # the d sizes
        dtype, shape, header = _idx_layout(head, None, str(path))
        left = _idx_size(dtype, shape, header) + 1 - len(head)
        parts = [head]
        while left > 0:
            part = g.read(min(chunk, left))
            if not part:
                break
            parts.append(part)
            left -= len(part)
    return b"".join(parts)


def parse_idx(data: bytes, name: str = "<bytes>") -> np.ndarray:
    """Decode the bytes of an IDX file into an array.

    Layout: two zero bytes, a type code, the number of dimensions ``d``, ``d`` big-endian
    uint32 sizes, then the elements. Images have magic 2051 (0x00000803: uint8, 3 dims),
    labels 2049 (0x00000801: uint8, 1 dim).
    """
    dtype, shape, header = _idx_layout(data, len(data), name)
    return np.frombuffer(data, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (``.gz`` or plain) into an array; a malformed file raises ``DataError``."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            gzipped = fh.read(2) == b"\x1f\x8b"
        raw = _gunzip_idx(path) if gzipped else path.read_bytes()
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"{path}: cannot read (a truncated or corrupt file?): {exc}") from exc
    return parse_idx(raw, str(path))


def open_idx(path: str | os.PathLike, mmap: bool = True) -> np.ndarray:
    """Open an IDX file, by default as a read-only memory map (for data larger than memory).

    With ``mmap=True`` the header is parsed and the elements are mapped from disk with
    ``np.memmap(mode="r")``: nothing is read until it is indexed, so ``X[i:i + 128]`` reads
    one batch. Only an uncompressed file can be mapped; decompress a ``.gz`` once with
    ``gunzip -k FILE`` (or pass ``mmap=False`` to read it whole with :func:`read_idx`).

    Parameters
    ----------
    path : path
        An IDX file, e.g. ``train-images-idx3-ubyte``.
    mmap : bool

    Returns
    -------
    ndarray or np.memmap, shape from the header (e.g. (N, 28, 28) uint8 for MNIST images)
    """
    path = Path(path)
    if not mmap:
        return read_idx(path)
    try:
        with open(path, "rb") as fh:
            head = fh.read(4)
            if head[:2] == b"\x1f\x8b":
                raise DataError(f"{path}: a gzip file cannot be memory-mapped; decompress it first "
                                f"(gunzip -k {path}) or pass mmap=False to read it into memory")
            if len(head) == 4:
                head += fh.read(4 * head[3])  # the d sizes
        size = path.stat().st_size
    except OSError as exc:
        raise DataError(f"{path}: cannot read: {exc}") from exc
    dtype, shape, header = _idx_layout(head, size, str(path))
    if size == header:  # np.memmap refuses empty files
        return np.zeros(shape, dtype=dtype)
    return np.memmap(path, dtype=dtype, mode="r", offset=header, shape=shape)


def write_idx(path: str | os.PathLike, array: np.ndarray) -> Path:
    """Write ``array`` as an IDX file, gzipped when ``path`` ends in ``.gz``: the inverse of :func:`read_idx`.

    The layout :func:`parse_idx` reads: two zero bytes, the type code, the number of dimensions
    ``d``, ``d`` big-endian uint32 sizes, then the elements in C order, big-endian. The file is
    written atomically, and the gzip header carries no time stamp, so one array always gives the
    same bytes (and the same MD5).

    Parameters
    ----------
    path : path
        E.g. ``train-images-idx3-ubyte.gz``; its folder must exist.
    array : ndarray, 1 to 255 dimensions, each below 2**32
        uint8 for MNIST's images (N, 28, 28) and labels (N,); the other IDX element types
        (int8, int16, int32, float32, float64) are stored big-endian. Any other dtype (int64
        labels, bool) is refused rather than silently cast: convert it, e.g. ``y.astype(np.uint8)``.

    Returns
    -------
    Path
        ``path``.
    """
    path = check_path(path, "path")
    if not isinstance(array, np.ndarray):
        raise TypeError(f"array must be a NumPy array, got {type(array).__name__}")
    codes = {dtype: code for code, dtype in _IDX_TYPES.items()}  # big-endian dtype -> type code
    big = array.dtype.newbyteorder(">") if array.dtype.kind in "iuf" else array.dtype
    if big not in codes:
        raise TypeError(f"array must have an IDX element type (uint8, int8, int16, int32, float32 or "
                        f"float64), got {array.dtype}; convert it first, e.g. array.astype(np.uint8)")
    if not 1 <= array.ndim <= 255 or max(array.shape) >= 2**32:
        raise ValueError(f"array must have 1 to 255 dimensions, each below 2**32, got shape {array.shape}")
    if not path.parent.is_dir():
        raise DataError(f"{path}: cannot write, folder {path.parent} does not exist")
    header = bytes([0, 0, codes[big], array.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    data = header + np.ascontiguousarray(array, dtype=big).tobytes()  # elements in C order, big-endian
    if path.name.endswith(".gz"):
        data = gzip.compress(data, compresslevel=6, mtime=0)  # gzip's default level; no time stamp
    return atomic_write(path, lambda f: f.write(data))


class ScaledRows:
    """Stored examples seen as float rows, read lazily: ``view[rows] = data[rows].reshape(B, -1) * scale``.

    Wraps e.g. the uint8 memmap of :func:`open_idx` (shape (N, 28, 28), values
    0..255) so that ``fit`` streams MNIST-format files from disk as (B, 784) float32 rows in
    [0, 1] without loading them whole::

        X = ScaledRows(open_idx("train-images-idx3-ubyte"), scale=1 / 255)
        model.fit(X, epochs=5)
    """

    def __init__(self, data, scale: float = 1 / 255, dtype=np.float32) -> None:
        if not (hasattr(data, "__len__") and hasattr(data, "__getitem__")):
            raise TypeError(f"data must support len() and indexing, got {type(data).__name__}")
        self.data = data
        self.scale = check_float(scale, "scale")
        self.dtype = check_dtype(dtype)  # an int dtype would turn every scaled value into 0

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, key) -> np.ndarray:
        check_mapped_file(self.data, "ScaledRows data")  # a truncated file would crash Python (SIGBUS)
        batch = np.asarray(self.data[key])
        if np.ndim(key) == 0 and not isinstance(key, slice):
            batch = batch[None]  # one example -> a batch of one
        rows = batch.reshape(len(batch), -1)  # (B, prod(example shape))
        return rows.astype(self.dtype) * self.dtype.type(self.scale)
