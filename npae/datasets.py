"""Data: MNIST-format IDX files and natural-image patches.

MNIST is read from a directory given as an argument or by the ``NPAE_DATA_DIR`` environment
variable (gzipped or plain IDX files); when files are missing, :func:`load_mnist` downloads
them to that folder (or to ``~/.cache/npae/mnist``), checks their MD5 and writes them
atomically. :func:`open_idx` memory-maps an uncompressed IDX file, for data larger than
memory. Nothing here depends on where the project happens to keep its data.

Natural images come from the photographs that matplotlib ships in its sample data
(:func:`sample_photo`), so :func:`natural_patches` works offline.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.client
import os
import urllib.error
import urllib.request
import zlib
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ._validation import check_choice, check_dtype, check_float, check_int, check_random_state
from .io import atomic_write

#: IDX element types: type code -> (NumPy dtype, big-endian).
_IDX_TYPES = {0x08: np.dtype(np.uint8), 0x09: np.dtype(np.int8), 0x0B: np.dtype(">i2"),
              0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}

MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


#: MD5 of the official gzipped files (the digests torchvision and the MNIST mirrors publish).
MNIST_MD5 = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}

#: Mirrors tried in order (Yann LeCun's original site now often refuses scripted downloads).
MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)


class DataError(ValueError):
    """A data file is missing, malformed or fails its checksum."""


def _idx_layout(head: bytes, size: int, name: str) -> tuple[np.dtype, tuple[int, ...], int]:
    """Check an IDX header and the file size it implies: return ``(dtype, shape, header_bytes)``.

    ``head`` holds at least the first 4 bytes (more is fine: the ``d`` sizes are read from it
    when present), ``size`` is the length of the whole file in bytes.
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
    expected = header + int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if size != expected:
        raise DataError(f"{name}: truncated or oversized file: {size} bytes, "
                        f"header says {expected} for shape {shape}")
    return dtype, shape, header


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
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
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


def default_cache_dir() -> Path:
    """Where :func:`load_mnist` downloads to when no folder is given: ``~/.cache/npae/mnist``."""
    return Path.home() / ".cache" / "npae" / "mnist"


def _open_url(url: str, timeout: float = 30.0):
    """Open ``url`` for reading (a seam: the tests replace it with a fake opener)."""
    return urllib.request.urlopen(url, timeout=timeout)


def _md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def download_mnist(data_dir: str | os.PathLike | None = None, kind: str = "train",
                   mirrors: tuple[str, ...] = MNIST_MIRRORS) -> Path:
    """Download the two gzipped MNIST files of ``kind`` that ``data_dir`` does not have yet.

    Each file is fetched from the first mirror that answers, its MD5 is compared with
    :data:`MNIST_MD5`, and it is written atomically. Offline, or when every mirror fails,
    a :class:`DataError` says which files to put where.

    Parameters
    ----------
    data_dir : path, optional
        Target folder (created); default :func:`default_cache_dir`.
    kind : {"train", "test"}
    mirrors : tuple of str
        Base URLs, each ending in ``/``.

    Returns
    -------
    Path
        The folder holding the files.
    """
    check_choice(kind, "kind", ("train", "test"))
    directory = Path(data_dir) if data_dir is not None else default_cache_dir()
    wanted = [stem + ".gz" for stem in MNIST_FILES[kind] if _find(directory, stem) is None]
    if not wanted:
        return directory
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"cannot create the MNIST folder {directory}: {exc}") from exc
    for name in wanted:
        failures = []
        for base in mirrors:
            url = base + name
            try:
                with _open_url(url) as response:
                    data = response.read()
            except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
                failures.append(f"{url}: {getattr(exc, 'reason', exc)}")
                continue
            digest = _md5(data)
            if digest != MNIST_MD5[name]:
                failures.append(f"{url}: MD5 {digest} != expected {MNIST_MD5[name]} ({len(data)} bytes)")
                continue
            atomic_write(directory / name, lambda f, data=data: f.write(data))  # never half-written
            break
        else:
            every = ", ".join(stem + ".gz" for stem in MNIST_FILES[kind])
            raise DataError(f"could not download {name} (offline?). Put the MNIST {kind} files ({every}) "
                            f"in {directory}, or pass data_dir / set NPAE_DATA_DIR to a folder holding "
                            f"them. Tried: " + "; ".join(failures))
    return directory


def load_mnist(data_dir: str | os.PathLike | None = None, kind: str = "train", download: bool = True,
               ) -> tuple[np.ndarray, np.ndarray]:
    """Load MNIST images as float32 rows in [0, 1] and their labels.

    Parameters
    ----------
    data_dir : path, optional
        Folder with the IDX files (``t10k-images-idx3-ubyte[.gz]`` and so on); defaults to
        ``$NPAE_DATA_DIR``, and to the cache ``~/.cache/npae/mnist`` when neither is set.
    kind : {"train", "test"}
    download : bool
        When the files are missing, fetch them into the folder (checked against their MD5,
        written atomically) with :func:`download_mnist`. Offline this raises a
        :class:`DataError` that says which files to put where.

    Returns
    -------
    X : ndarray, shape (N, 784), float32 in [0, 1]
    y : ndarray, shape (N,), int64
    """
    check_choice(kind, "kind", ("train", "test"))
    directory = data_dir_from(data_dir)
    image_stem, label_stem = MNIST_FILES[kind]
    if directory is None:
        if not download:
            raise DataError(f"no MNIST data directory: pass data_dir (--data-dir) or set NPAE_DATA_DIR to a "
                            f"folder holding {image_stem}.gz and {label_stem}.gz")
        directory = default_cache_dir()
    paths = [_find(directory, stem) for stem in (image_stem, label_stem)]
    if None in paths and download:
        download_mnist(directory, kind)
        paths = [_find(directory, stem) for stem in (image_stem, label_stem)]
    if None in paths:
        hint = "" if download else " (load_mnist(..., download=True) fetches them when online)"
        raise DataError(f"MNIST {kind} files not found in {directory}: expected {image_stem}[.gz] and "
                        f"{label_stem}[.gz]{hint}")
    images, labels = read_idx(paths[0]), read_idx(paths[1])
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise DataError(f"{paths[0]}: expected images (N, H, W) and labels (N,), got {images.shape} "
                        f"and {labels.shape}")
    X = images.reshape(len(images), -1).astype(np.float32)  # (N, 784)
    X /= 255.0  # in place: no second (N, 784) array
    return X, labels.astype(np.int64)


def mnist_split(data_dir: str | os.PathLike | None = None, n_train: int | None = None,
                n_test: int | None = None, download: bool = False,
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, str]:
    """Training and evaluation data for the examples, and a sentence saying where it came from.

    Uses the 60,000-image training set and the test set when the folder has both; with only
    the test set, the first 8,000 test images train and the last 2,000 evaluate.
    ``n_train``/``n_test`` keep the first that many of each. With ``download=True`` missing
    files are fetched (see :func:`load_mnist`); by default nothing is downloaded, so a folder
    holding only the test set is used as it is.

    Returns ``X_train, y_train, X_test, y_test, source``.
    """
    directory = data_dir_from(data_dir)
    X_test, y_test = load_mnist(directory, "test", download=download)
    try:
        X_train, y_train = load_mnist(directory, "train", download=download)
        source = f"MNIST training set ({len(X_train)} images) / test set ({len(X_test)} images)"
    except DataError:
        X_train, y_train = X_test[:8000], y_test[:8000]
        X_test, y_test = X_test[8000:], y_test[8000:]
        source = "MNIST test set only: first 8,000 images train, last 2,000 evaluate"
    X_train, y_train = X_train[:n_train], y_train[:n_train]
    X_test, y_test = X_test[:n_test], y_test[:n_test]
    return X_train, y_train, X_test, y_test, source


# ---------------------------------------------------------------------------- natural images
#: Images from matplotlib's sample data: name -> (file, what it is).
SAMPLE_PHOTOS = {
    "grace_hopper": ("grace_hopper.jpg", "photograph of Rear Admiral Grace Hopper, 600 x 512, colour"),
    "present": ("Minduka_Present_Blue_Pack.png", "drawing of a blue gift box, 128 x 128, colour on white"),
}


def _sample_path(filename: str) -> Path | None:
    """Path of a file in matplotlib's sample data, or None when this matplotlib lacks it."""
    import matplotlib

    path = Path(matplotlib.get_data_path()) / "sample_data" / filename
    return path if path.is_file() else None


def available_photos() -> list[str]:
    """Names accepted by :func:`sample_photo` that this matplotlib installation ships."""
    return [name for name, (filename, _) in SAMPLE_PHOTOS.items() if _sample_path(filename) is not None]


@functools.lru_cache(maxsize=4)
def _read_photo(name: str) -> np.ndarray:
    import matplotlib.image

    path = _sample_path(SAMPLE_PHOTOS[name][0])
    if path is None:
        raise DataError(f"matplotlib's sample data has no {SAMPLE_PHOTOS[name][0]} (photo {name!r}); "
                        f"available here: {available_photos()}")
    img = np.asarray(matplotlib.image.imread(path))
    if img.dtype == np.uint8:
        img = img / 255.0
    img = img.astype(np.float64)
    if img.ndim == 2:
        img = np.repeat(img[:, :, None], 3, axis=2)  # (H, W, 3)
    if img.shape[2] == 4:  # composite RGBA on white
        alpha = img[:, :, 3:]
        img = img[:, :, :3] * alpha + (1.0 - alpha)
    img = np.clip(img, 0.0, 1.0)
    img.flags.writeable = False
    return img


def sample_photo(name: str = "grace_hopper") -> np.ndarray:
    """A colour image from matplotlib's sample data (works offline).

    Parameters
    ----------
    name : str
        One of :data:`SAMPLE_PHOTOS` (``"grace_hopper"``: the only true photograph; ``"present"``:
        a drawing); :func:`available_photos` lists what this installation has.

    Returns
    -------
    ndarray, shape (H, W, 3), float64 in [0, 1]
        A fresh copy (an alpha channel is composited on white).
    """
    check_choice(name, "name", tuple(SAMPLE_PHOTOS))
    return _read_photo(name).copy()


def to_grey(rgb: np.ndarray) -> np.ndarray:
    """Luma ``0.299 R + 0.587 G + 0.114 B`` of an image of shape (H, W, 3) -> (H, W)."""
    return rgb @ np.array([0.299, 0.587, 0.114], dtype=rgb.dtype)


def whiten_image(grey: np.ndarray, f0: float = 0.4) -> np.ndarray:
    r"""Flatten the 1/f amplitude spectrum of a grey image (Olshausen and Field, 1996/97).

    Natural images have an amplitude spectrum falling roughly like ``1/f``; multiplying the
    Fourier transform by a ramp ``f`` makes it roughly flat ("white"), and the factor
    ``exp(-(f/f0)^4)`` cuts the highest frequencies where noise and aliasing live:

    .. math::
        \hat g_{white}(f_x, f_y) = \hat g(f_x, f_y)\; f\, e^{-(f/f_0)^4}, \qquad
        f = \sqrt{f_x^2 + f_y^2}

    with frequencies in cycles per pixel (Nyquist 0.5; Olshausen's ``0.4 N`` cycles per
    picture is ``f0 = 0.4`` here). The ramp removes the mean (``f = 0``); the result is
    scaled to unit variance. The FFT treats the image as periodic, so the borders carry
    artefacts: :func:`natural_patches` keeps away from them. See ``docs/03-sparsity.md``.

    Parameters
    ----------
    grey : ndarray, shape (H, W)
    f0 : float
        Cut-off, cycles per pixel.

    Returns
    -------
    ndarray, shape (H, W), float64, mean 0 and standard deviation 1
    """
    grey = np.asarray(grey, dtype=np.float64)
    f0 = check_float(f0, "f0", 0.0, low_inclusive=False)
    fy = np.fft.fftfreq(grey.shape[0])[:, None]  # (H, 1)
    fx = np.fft.fftfreq(grey.shape[1])[None, :]  # (1, W)
    f = np.sqrt(fx * fx + fy * fy)  # (H, W)
    white = np.real(np.fft.ifft2(np.fft.fft2(grey - grey.mean()) * (f * np.exp(-((f / f0) ** 4)))))
    return white / white.std()


def block_mean(image: np.ndarray, k: int) -> np.ndarray:
    """Downsample an (H, W) image by averaging k x k blocks -> (H // k, W // k) (edges cropped)."""
    h, w = image.shape[0] // k * k, image.shape[1] // k * k
    return image[:h, :w].reshape(h // k, k, w // k, k).mean(axis=(1, 3))  # (H // k, W // k)


@functools.lru_cache(maxsize=8)
def _patch_source(photo: str, whiten: bool, downsample: int) -> np.ndarray:
    grey = block_mean(to_grey(_read_photo(photo)), downsample)
    return whiten_image(grey) if whiten else grey


def normalize_patches(patches: np.ndarray) -> np.ndarray:
    r"""UFLDL's ``normalizeData``: per-patch mean removed, +-3 std truncated, rescaled to [0.1, 0.9].

    .. math::
        x \leftarrow x - \mathrm{mean}_{pixels}(x), \qquad
        s = 3\,\mathrm{std}(\text{all } x), \qquad
        x \leftarrow 0.1 + 0.4\,\big(\mathrm{clip}(x, -s, s)/s + 1\big)

    The range [0.1, 0.9] suits a sigmoid output unit, which never reaches 0 or 1.

    Parameters
    ----------
    patches : ndarray, shape (n, D)

    Returns
    -------
    ndarray, shape (n, D), in [0.1, 0.9]
    """
    x = patches - patches.mean(axis=1, keepdims=True)  # (n, D)
    s = 3.0 * x.std()
    if s == 0:
        return np.full_like(x, 0.5)
    return 0.1 + 0.4 * (np.clip(x, -s, s) / s + 1.0)


def natural_patches(n: int = 10000, size: int = 8, rng=None, dtype=np.float32, whiten: bool = True,
                    photo: str = "grace_hopper", downsample: int = 2) -> np.ndarray:
    """Random square patches of a natural photograph, preprocessed as in the UFLDL exercise.

    1. The photo (matplotlib's sample data, so this works offline) is turned to grey and
       shrunk by averaging ``downsample x downsample`` blocks (default 2: the 600 x 512 JPEG
       becomes 300 x 256). This averages away the JPEG's 8 x 8 compression blocks, which
       whitening would otherwise amplify, and puts more structure inside an 8 x 8 patch.
    2. ``whiten=True`` (default): its spectrum is whitened with :func:`whiten_image`, as
       Olshausen and Field did for the images UFLDL ships (``IMAGES.mat``). The raw photo
       also gives edge detectors, but broader ones dominated by its large smooth regions;
       whitening gives the small, localised, oriented edges of the exercise.
    3. ``n`` patches of ``size x size`` pixels are cut at random positions at least 8 pixels
       from the border (the whitening's FFT wraps around there).
    4. :func:`normalize_patches`: each patch's mean removed, truncation to +-3 standard
       deviations, rescaling to [0.1, 0.9].

    Parameters
    ----------
    n : int
        Number of patches.
    size : int
        Side of a patch, in pixels.
    rng : int, Generator or None
        Picks the positions.
    dtype : float32 (default) or float64
    whiten : bool
    photo : str
        A name from :data:`SAMPLE_PHOTOS`.
    downsample : int
        Block-averaging factor applied before whitening (1 keeps full resolution).

    Returns
    -------
    ndarray, shape (n, size*size), in [0.1, 0.9]
        Each row is a patch in row-major order.

    Derivation and what the patches teach: ``docs/03-sparsity.md``.
    """
    n = check_int(n, "n", 1)
    size = check_int(size, "size", 1)
    rng = check_random_state(rng, "rng")
    dtype = check_dtype(dtype)
    check_choice(photo, "photo", tuple(SAMPLE_PHOTOS))
    downsample = check_int(downsample, "downsample", 1)
    image = _patch_source(photo, bool(whiten), downsample)  # (H // downsample, W // downsample)
    margin = 8
    inner = image[margin:-margin, margin:-margin]  # (H - 16, W - 16)
    if size > min(inner.shape):
        raise ValueError(f"size must be at most {min(inner.shape)} for photo {photo!r} "
                         f"(its usable area is {inner.shape}), got {size}")
    windows = sliding_window_view(inner, (size, size))  # (H-16-size+1, W-16-size+1, size, size), a view
    rows = rng.integers(0, windows.shape[0], n)
    cols = rng.integers(0, windows.shape[1], n)
    patches = windows[rows, cols].reshape(n, size * size)  # (n, size*size)
    return normalize_patches(patches).astype(dtype)
