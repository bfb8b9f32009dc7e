"""MNIST and Fashion-MNIST: their files, downloaded with a checksum, loaded, and split for the examples.

MNIST is read from a directory given as an argument or by the ``NPAE_DATA_DIR`` environment
variable (gzipped or plain IDX files); when files are missing, :func:`load_mnist` downloads
them to that folder (or to ``~/.cache/npae/mnist``), checks their MD5 and writes them
atomically. :func:`load_fashion_mnist` does the same for Fashion-MNIST (cache
``~/.cache/npae/fashion-mnist``); one private loop, :func:`_download`, serves both.
The IDX format itself (read, memory-map, write) is :mod:`npae.datasets.idx`. Nothing here
depends on where the project happens to keep its data.
"""

from __future__ import annotations

import http.client
import os
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np

from .._validation import check_bool, check_choice, check_int, check_path
from ..io import atomic_write
from .identity import FASHION_MNIST_MD5, MNIST_MD5, identify, identify_file, md5
from .idx import DataError, read_idx

MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


#: Mirrors tried in order (Yann LeCun's original site now often refuses scripted downloads).
MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)

#: Fashion-MNIST's mirrors, tried in order: the address its authors' README links under "Get the
#: Data" (github.com/zalandoresearch/fashion-mnist), then the ``data/fashion`` folder of that
#: repository, which the README also names. Plain http: the MD5 check vouches for the bytes.
FASHION_MNIST_MIRRORS = (
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
)


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


def default_cache_dir(dataset: str = "MNIST") -> Path:
    """Where downloads go when no folder is given: ``~/.cache/npae/mnist`` or ``~/.cache/npae/fashion-mnist``.

    Parameters
    ----------
    dataset : {"MNIST", "Fashion-MNIST"}

    Returns
    -------
    Path
        ``~/.cache/npae/<dataset in lower case>`` (not created here).
    """
    check_choice(dataset, "dataset", ("MNIST", "Fashion-MNIST"))
    return Path.home() / ".cache" / "npae" / dataset.lower()


def _open_url(url: str, timeout: float = 30.0):
    """Open ``url`` for reading (a seam: the tests replace it with a fake opener)."""
    return urllib.request.urlopen(url, timeout=timeout)


def _check_mirrors(mirrors) -> tuple[str, ...]:
    """``mirrors`` as a non-empty tuple of base URLs, each ending in ``/`` (the file name is appended)."""
    if isinstance(mirrors, str) or not isinstance(mirrors, (tuple, list)):
        raise TypeError(f"mirrors must be a tuple of base URLs (str), got {type(mirrors).__name__} "
                        f"({mirrors!r})")
    if not mirrors:
        raise ValueError("mirrors must hold at least one base URL, got an empty sequence")
    for i, base in enumerate(mirrors):
        if not isinstance(base, str):
            raise TypeError(f"mirrors[{i}] must be a str, got {type(base).__name__} ({base!r})")
        if not base.endswith("/"):
            raise ValueError(f"mirrors[{i}] must end in '/' (the file name is appended to it), got {base!r}")
    return tuple(mirrors)


def _download(directory: Path, kind: str, name: str, files: dict[str, tuple[str, str]],
              md5_table: dict[str, str], mirrors: tuple[str, ...]) -> Path:
    """Fetch the gzipped files of ``kind`` that ``directory`` lacks: the one download loop of every data set.

    ``name`` is the data set as messages spell it ("MNIST"); ``files`` maps ``kind`` to the
    file names without ``.gz`` (:data:`MNIST_FILES`); ``md5_table`` maps each gzipped name to
    its published MD5. A file already in the folder (gzipped or not) is kept as it is.

    1. Each missing file is fetched from the first mirror that answers with the published MD5;
       a mirror that fails or serves other bytes is noted and the next one is tried.
    2. The verified bytes are written atomically (never a half-written file).
    3. When every mirror fails, a :class:`DataError` names the files, the folder and each failure.
    """
    wanted = [stem + ".gz" for stem in files[kind] if _find(directory, stem) is None]
    if not wanted:
        return directory
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(f"cannot create the {name} folder {directory}: {exc}") from exc
    for file in wanted:
        failures = []
        for base in mirrors:
            url = base + file
            try:
                with _open_url(url) as response:
                    data = response.read()
            except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
                failures.append(f"{url}: {getattr(exc, 'reason', exc)}")
                continue
            digest = md5(data)
            if digest != md5_table[file]:
                failures.append(f"{url}: MD5 {digest} != expected {md5_table[file]} ({len(data)} bytes)")
                continue
            atomic_write(directory / file, lambda f, data=data: f.write(data))  # never half-written
            break
        else:
            every = ", ".join(stem + ".gz" for stem in files[kind])
            raise DataError(f"could not download {file} (offline?). Put the {name} {kind} files ({every}) "
                            f"in {directory}, or pass data_dir to a folder holding them. "
                            f"Tried: " + "; ".join(failures))
    return directory


def _load(directory: Path, kind: str, download: bool, name: str, files: dict[str, tuple[str, str]],
          md5_table: dict[str, str], mirrors: tuple[str, ...], refuse_other_data_sets: bool,
          ) -> tuple[np.ndarray, np.ndarray]:
    """Read the images and labels of ``kind`` from ``directory``, downloading what is missing first.

    The arguments after ``download`` are those of :func:`_download`. Files already in the folder
    are read as they are, not checked against ``md5_table``: a copy whose gzip header was
    rewritten (Debian's) or that was gunzipped holds the same images under another MD5. With
    ``refuse_other_data_sets`` a labels file that :func:`identify_file` knows as another data
    set's (one hash of at most 60 kB) is refused, so a folder of the wrong data set is not read
    under this one's name.
    """
    image_stem, label_stem = files[kind]
    paths = [_find(directory, stem) for stem in (image_stem, label_stem)]
    if None in paths and download:
        _download(directory, kind, name, files, md5_table, mirrors)
        paths = [_find(directory, stem) for stem in (image_stem, label_stem)]
    if None in paths:
        hint = "" if download else " (download=True fetches them when online)"
        raise DataError(f"{name} {kind} files not found in {directory}: expected {image_stem}[.gz] and "
                        f"{label_stem}[.gz]{hint}")
    if refuse_other_data_sets:
        known = identify_file(paths[1])  # (data set, official name) or None
        if known is not None and known[0] != name:
            raise DataError(f"{paths[1]} is the {known[0]} file {known[1]} (by its MD5), not {name}: "
                            f"{directory} holds {known[0]}, pass the folder of the {name} files")
    images, labels = read_idx(paths[0]), read_idx(paths[1])
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise DataError(f"{paths[0]}: expected images (N, H, W) and labels (N,), got {images.shape} "
                        f"and {labels.shape}")
    if len(images) == 0:
        raise DataError(f"{paths[0]}: holds 0 images (shape {images.shape})")
    if labels.dtype.kind not in "iu":
        raise DataError(f"{paths[1]}: labels of type {labels.dtype}; class ids must be integers")
    return image_rows(images, paths[0]), labels.astype(np.int64)


def image_rows(images: np.ndarray, name: str | os.PathLike = "images") -> np.ndarray:
    """Images (N, H, W) read from an IDX file as float32 rows (N, H*W) in [0, 1], by their element type.

    * uint8 (MNIST's type): divided by 255, so 0..255 becomes 0..1;
    * float32 or float64: taken as they are, and must already lie in [0, 1] (no NaN);
    * any other integer type (int8, int16, int32) is refused: what its values mean is not known
      (0..255? -128..127? 12-bit?); convert the file to uint8 or to floats in [0, 1].

    Raises :class:`DataError` naming ``name`` and the values found.
    """
    if images.dtype == np.uint8:
        X = images.reshape(len(images), -1).astype(np.float32)  # (N, H*W)
        X /= 255.0  # in place: no second (N, H*W) array
        return X
    if images.dtype.kind != "f":
        raise DataError(f"{name}: images of type {images.dtype}; npae reads uint8 images (0..255, divided by "
                        f"255) or float images already in [0, 1]: convert them, e.g. write_idx(path, "
                        f"images.astype(np.uint8))")
    bad = images.size - np.count_nonzero(np.isfinite(images))
    if bad:
        raise DataError(f"{name}: float images hold {bad:,} NaN or infinite values")
    low, high = float(images.min()), float(images.max())
    if low < 0 or high > 1:
        raise DataError(f"{name}: float images must already be in [0, 1] (only uint8 images are divided by "
                        f"255), got values in [{low:g}, {high:g}]")
    return images.reshape(len(images), -1).astype(np.float32)  # (N, H*W)


def download_mnist(data_dir: str | os.PathLike | None = None, kind: str = "train",
                   mirrors: tuple[str, ...] = MNIST_MIRRORS) -> Path:
    """Download the two gzipped MNIST files of ``kind`` that ``data_dir`` does not have yet.

    Each file is fetched from the first mirror that answers, its MD5 is compared with
    :data:`MNIST_MD5`, and it is written atomically. Offline, or when every mirror fails,
    a :class:`DataError` says which files to put where.

    Parameters
    ----------
    data_dir : path, optional
        Target folder (created); default :func:`default_cache_dir` (``~/.cache/npae/mnist``).
    kind : {"train", "test"}
    mirrors : tuple of str
        Base URLs, each ending in ``/``.

    Returns
    -------
    Path
        The folder holding the files.
    """
    directory = check_path(data_dir, "data_dir", optional=True) or default_cache_dir()
    check_choice(kind, "kind", ("train", "test"))
    return _download(directory, kind, "MNIST", MNIST_FILES, MNIST_MD5, _check_mirrors(mirrors))


def download_fashion_mnist(data_dir: str | os.PathLike | None = None, kind: str = "train",
                           mirrors: tuple[str, ...] = FASHION_MNIST_MIRRORS) -> Path:
    """Download the two gzipped Fashion-MNIST files of ``kind`` that ``data_dir`` does not have yet.

    :func:`download_mnist` for Zalando's Fashion-MNIST (Xiao, Rasul and Vollgraf, 2017: 28 x 28
    grey images of ten kinds of clothing, 60,000 to train and 10,000 to test, in MNIST's format
    and under MNIST's file names). Each file is checked against :data:`FASHION_MNIST_MD5`, the
    digests its authors publish, and written atomically; offline, a :class:`DataError` says
    which files to put where.

    Parameters
    ----------
    data_dir : path, optional
        Target folder (created); default ``default_cache_dir("Fashion-MNIST")``
        (``~/.cache/npae/fashion-mnist``). Keep it apart from MNIST's: the names are the same.
    kind : {"train", "test"}
    mirrors : tuple of str
        Base URLs, each ending in ``/``.

    Returns
    -------
    Path
        The folder holding the files.
    """
    directory = check_path(data_dir, "data_dir", optional=True) or default_cache_dir("Fashion-MNIST")
    check_choice(kind, "kind", ("train", "test"))
    return _download(directory, kind, "Fashion-MNIST", MNIST_FILES, FASHION_MNIST_MD5,
                     _check_mirrors(mirrors))


def load_mnist(data_dir: str | os.PathLike | None = None, kind: str = "train", download: bool = True,
               ) -> tuple[np.ndarray, np.ndarray]:
    """Load MNIST images as float32 rows in [0, 1] and their labels.

    Reads whatever MNIST-format files the folder holds (Fashion-MNIST's and the test suite's
    too: :func:`mnist_split`, the examples and the command line read every such folder through
    it); files already there are read, not checked against their MD5.

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
    directory = data_dir_from(check_path(data_dir, "data_dir", optional=True))
    check_choice(kind, "kind", ("train", "test"))
    check_bool(download, "download")
    if directory is None:
        if not download:
            image_stem, label_stem = MNIST_FILES[kind]
            raise DataError(f"no MNIST data directory: pass data_dir (--data-dir) or set NPAE_DATA_DIR to a "
                            f"folder holding {image_stem}.gz and {label_stem}.gz")
        directory = default_cache_dir()
    return _load(directory, kind, download, "MNIST", MNIST_FILES, MNIST_MD5, MNIST_MIRRORS,
                 refuse_other_data_sets=False)


def load_fashion_mnist(data_dir: str | os.PathLike | None = None, kind: str = "train", download: bool = True,
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Load Fashion-MNIST images as float32 rows in [0, 1] and their labels (0 T-shirt/top ... 9 ankle boot).

    :func:`load_mnist` for Fashion-MNIST, with two differences. ``$NPAE_DATA_DIR`` is not
    consulted (it names the examples' folder, usually MNIST, and the file names are the same).
    A folder whose labels file is a known MNIST file is refused rather than read as Fashion-MNIST.
    Files already in the folder are read, not checked against :data:`FASHION_MNIST_MD5`: Debian's
    ``dataset-fashion-mnist`` (``/usr/share/datasets/fashion-mnist``) rewrites the gzip headers,
    which changes the files' MD5 but not the images (:func:`identify` still names it).

    Labels: 0 T-shirt/top, 1 trouser, 2 pullover, 3 dress, 4 coat, 5 sandal, 6 shirt, 7 sneaker,
    8 bag, 9 ankle boot.

    Parameters
    ----------
    data_dir : path, optional
        Folder with the IDX files (``t10k-images-idx3-ubyte[.gz]`` and so on); default the cache
        ``~/.cache/npae/fashion-mnist``.
    kind : {"train", "test"}
    download : bool
        When the files are missing, fetch them into the folder with :func:`download_fashion_mnist`.
        Offline this raises a :class:`DataError` that says which files to put where.

    Returns
    -------
    X : ndarray, shape (N, 784), float32 in [0, 1]
    y : ndarray, shape (N,), int64
    """
    directory = check_path(data_dir, "data_dir", optional=True) or default_cache_dir("Fashion-MNIST")
    check_choice(kind, "kind", ("train", "test"))
    check_bool(download, "download")
    return _load(directory, kind, download, "Fashion-MNIST", MNIST_FILES, FASHION_MNIST_MD5,
                 FASHION_MNIST_MIRRORS, refuse_other_data_sets=True)


#: With only the test set in the folder, the examples train on this many of its first images,
#: at most four fifths of them, and evaluate on the rest (MNIST's 10,000 test images: 8,000 and 2,000).
TEST_ONLY_SPLIT = 8000


def _which(n: int, start: int, total: int, what: str) -> str:
    """Which rows of a set of ``total`` were kept: ``n`` from index ``start``, in words."""
    if n == total:
        return f"all {total:,} {what}"
    if start == 0:
        return f"the first {n:,} of {total:,} {what}"
    if start + n == total:
        return f"the last {n:,} of {total:,} {what}"
    return f"{what} {start + 1:,} to {start + n:,} of {total:,}"


def mnist_split(data_dir: str | os.PathLike | None = None, n_train: int | None = None,
                n_test: int | None = None, download: bool = False,
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, str]:
    """Training and evaluation data for the examples, and a sentence saying what was read.

    Uses the training set and the test set when the folder has both; with only the test set,
    its first :data:`TEST_ONLY_SPLIT` images, and at most four fifths of them, train and the rest
    evaluate (5,000 images: 4,000 and 1,000), so the evaluation set is never empty; a test set of
    fewer than 2 images is refused. ``n_train``/``n_test`` keep the first that many of each (None:
    all; else an int >= 1). With ``download=True`` missing MNIST files
    are fetched first (see :func:`download_mnist`; offline, the folder is used as it is); by
    default nothing is downloaded.

    The sentence names the folder, the images used out of how many, and the data set, which
    :func:`npae.datasets.identity.identify` tells from the files' MD5s ("unidentified" when they
    match no published files), e.g. ``"Fashion-MNIST (identified by the files' MD5s) in D:
    training on the first 8,000 of 60,000 training images, evaluating on all 10,000 test images"``.

    Returns ``X_train, y_train, X_test, y_test, source``.
    """
    for value, arg in ((n_train, "n_train"), (n_test, "n_test")):
        if value is not None:
            check_int(value, arg, 1)
    check_bool(download, "download")
    directory = data_dir_from(check_path(data_dir, "data_dir", optional=True))
    if download:
        directory = directory or default_cache_dir()
        try:
            download_mnist(directory, "train")
        except DataError:
            pass  # offline: split the test set below
    X_test, y_test = load_mnist(directory, "test", download=download)
    kinds = ("train", "test") if all(_find(directory, stem) for stem in MNIST_FILES["train"]) else ("test",)
    name = identify(_find(directory, stem) for kind in kinds for stem in MNIST_FILES[kind])
    label = (f"{name} (identified by the files' MD5s)" if name else
             "unidentified MNIST-format data (MD5s not those of the MNIST or Fashion-MNIST files npae knows)")
    n_test_set = len(X_test)
    if kinds == ("train", "test"):
        X_train, y_train = load_mnist(directory, "train", download=False)
        train_set, test_start, where = (len(X_train), "training images"), 0, ""
    else:  # the test set only: its first TEST_ONLY_SPLIT images (at most four fifths) train
        if n_test_set < 2:
            raise DataError(f"{directory} holds only a test set of {n_test_set} image, too few to split into "
                            f"training and evaluation images")
        split = min(TEST_ONLY_SPLIT, n_test_set - max(1, n_test_set // 5))
        X_train, y_train = X_test[:split], y_test[:split]
        X_test, y_test = X_test[split:], y_test[split:]
        train_set, where = (n_test_set, "test images"), ", test set only"
        test_start = n_test_set - len(X_test)
    X_train, y_train = X_train[:n_train], y_train[:n_train]
    X_test, y_test = X_test[:n_test], y_test[:n_test]
    source = (f"{label} in {directory}{where}: training on {_which(len(X_train), 0, *train_set)}, "
              f"evaluating on {_which(len(X_test), test_start, n_test_set, 'test images')}")
    return X_train, y_train, X_test, y_test, source
