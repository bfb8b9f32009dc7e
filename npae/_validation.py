"""Argument checks shared by every public entry point.

Each helper raises ``TypeError`` (wrong kind of object) or ``ValueError`` (right kind, wrong
value) with a message that names the argument, what was expected and what was received, so a
learner's mistake is reported where it was made and not deep inside NumPy.
"""

from __future__ import annotations

import functools
import numbers
import os
import stat
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

RandomState = int | np.random.Generator | None


class NonFiniteError(ValueError):
    """An array or number holds NaN or Inf where finite values are required.

    A ``ValueError`` like every other bad-argument error; its own type lets the training loop
    tell a NaN that appeared inside the model (divergence) from any other mistake.
    """


def check_random_state(random_state: RandomState, name: str = "random_state") -> np.random.Generator:
    """Turn ``random_state`` into a ``np.random.Generator`` (scikit-learn style).

    ``None`` gives a fresh, unseeded generator; an ``int`` seeds a new one; a ``Generator`` is
    returned as is, so the caller's stream advances. NumPy's global state is never used.
    """
    if random_state is None:
        return np.random.default_rng()
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        if random_state < 0:
            raise ValueError(f"{name} must be a non-negative int, got {random_state}")
        return np.random.default_rng(int(random_state))
    raise TypeError(
        f"{name} must be None, an int or a np.random.Generator, got {type(random_state).__name__}"
    )


def check_generator(rng: Any, name: str = "rng") -> np.random.Generator:
    """Check that ``rng`` is a ``np.random.Generator`` (no int, no None: the caller owns the stream)."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"{name} must be a np.random.Generator (e.g. np.random.default_rng(0)), "
                        f"got {type(rng).__name__}")
    return rng


def check_dtype(dtype: Any, name: str = "dtype") -> np.dtype:
    """Return ``np.dtype(dtype)`` if it is a floating type (float32 or float64)."""
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        raise TypeError(f"{name} must be a NumPy floating dtype, got {dtype!r}") from exc
    if dt not in (np.float32, np.float64):
        raise TypeError(f"{name} must be float32 or float64, got {dt}")
    return dt


def check_int(value: Any, name: str, minimum: int | None = None) -> int:
    """Check that ``value`` is an integer (not a bool) no smaller than ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} ({value!r})")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def check_float(
    value: Any,
    name: str,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
) -> float:
    """Check that ``value`` is a finite real number inside the given interval."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} ({value!r})")
    value = float(value)
    if not np.isfinite(value):
        raise NonFiniteError(f"{name} must be finite, got {value}")
    lo_bad = low is not None and (value < low if low_inclusive else value <= low)
    hi_bad = high is not None and (value > high if high_inclusive else value >= high)
    if lo_bad or hi_bad:
        lb = "[" if low_inclusive else "("
        hb = "]" if high_inclusive else ")"
        lo = "-inf" if low is None else f"{low:g}"
        hi = "inf" if high is None else f"{high:g}"
        raise ValueError(f"{name} must be in {lb}{lo}, {hi}{hb}, got {value:g}")
    return value


def check_choice(value: Any, name: str, choices: tuple[str, ...]) -> str:
    """Check that ``value`` is one of the strings in ``choices``."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}")
    return value


def check_array(
    x: Any,
    name: str,
    ndim: int | tuple[int, ...] | None = None,
    dtype: Any = None,
    finite: bool = True,
    value_range: tuple[float, float] | None = None,
    min_samples: int = 1,
) -> np.ndarray:
    """Validate an array argument and return it as an ndarray.

    Parameters
    ----------
    x : array_like
        The value to check. Lists are converted; object, string and complex arrays are refused.
        Subclasses of ndarray become plain ndarrays (a ``np.matrix``, whose ``*`` is a matrix
        product, would change every result); a masked array with masked entries is refused (the
        mask would hide NaN from the finite check and be dropped by the math), one without is
        taken as its data.
    name : str
        The argument's name, used in the error message.
    ndim : int or tuple of int, optional
        Accepted numbers of dimensions.
    dtype : dtype, optional
        If given, the result is cast to it (no copy when it already has it).
    finite : bool
        Refuse NaN and Inf, and (for float arrays) magnitudes above ``sqrt(max) / 1e3`` of the
        dtype, float32 at least (1.8e16 in float32), whose squares would overflow to Inf in a loss.
    value_range : (low, high), optional
        Refuse values outside the closed interval.
    min_samples : int
        The first axis must have at least this many entries (0 disables the check).
    """
    if isinstance(x, np.ma.MaskedArray):
        masked = int(np.count_nonzero(np.ma.getmaskarray(x)))
        if masked:
            raise ValueError(f"{name} is a masked array with {masked} masked value(s): npae takes plain "
                             f"arrays; fill them (x.filled(value)) or drop those rows")
        arr = np.asarray(x.data)
    elif isinstance(x, np.ndarray):
        arr = x if type(x) is np.ndarray else np.asarray(x)  # np.matrix, memmap... -> a plain ndarray
    else:
        try:
            arr = np.asarray(x)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{name} must be array-like of numbers, got {type(x).__name__}") from exc
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got an array of dtype {arr.dtype}")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            want = " or ".join(str(a) for a in allowed)
            raise ValueError(f"{name} must have {want} dimensions, got shape {arr.shape}")
    if min_samples and arr.ndim >= 1 and arr.shape[0] < min_samples:
        raise ValueError(f"{name} must have at least {min_samples} sample(s), got shape {arr.shape}")
    if dtype is not None:
        arr = arr.astype(dtype, copy=False)
    if finite and arr.dtype.kind == "f" and arr.size:
        big = max(float(arr.max()), -float(arr.min()))  # the largest magnitude; NaN if any is NaN
        if not np.isfinite(big):
            bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
            raise NonFiniteError(f"{name} must be finite, got {bad} NaN/Inf value(s)")
        limit = np.sqrt(np.finfo(np.result_type(arr.dtype, np.float32)).max) / 1e3  # squares stay finite
        if big > limit:
            raise ValueError(f"{name} holds values up to {big:.3g} in magnitude, beyond {limit:.3g}, where "
                             f"squares overflow {arr.dtype} (a loss of finite data would be inf); scale the "
                             f"data (values of order 1 suit every model)")
    if value_range is not None and arr.size:
        lo, hi = value_range
        amin, amax = arr.min(), arr.max()
        if amin < lo or amax > hi:
            raise ValueError(
                f"{name} must lie in [{lo:g}, {hi:g}], got values in [{float(amin):g}, {float(amax):g}]"
            )
    return arr


def check_mapped_file(data: Any, name: str) -> None:
    """Refuse to read a ``np.memmap`` whose file has become shorter than the mapping.

    Reading a mapped page past the end of a file that was truncated after it was opened (a
    download restarted, a file rewritten in place) kills Python with SIGBUS, with no traceback;
    comparing the file's size with the mapping before each read turns that into a ``ValueError``.
    (A truncation between this check and the read can still crash: keep files in use unchanged.)
    """
    if not isinstance(data, np.memmap) or data.filename is None:
        return
    need = data.offset + data.nbytes
    try:
        size = os.stat(data.filename).st_size
    except OSError as exc:
        raise ValueError(f"{name}: its file {data.filename} cannot be read any more ({exc})") from exc
    if size < need:
        raise ValueError(f"{name}: its file {data.filename} is now {size:,} bytes, shorter than the "
                         f"{need:,} mapped when it was opened (truncated while in use?); reading it would "
                         f"crash Python")


def check_same_shape(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    """Refuse two arrays whose shapes differ."""
    if a.shape != b.shape:
        raise ValueError(f"{name_a} and {name_b} must have the same shape, got {a.shape} and {b.shape}")


def check_bool(value: Any, name: str) -> bool:
    """Check that ``value`` is a bool (NumPy's too); 0 and 1 are refused, to catch a misplaced argument."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool, got {type(value).__name__} ({value!r})")
    return bool(value)


def check_path(value: Any, name: str, optional: bool = False) -> Path | None:
    """``value`` as a ``Path``: a ``str`` or ``os.PathLike`` (or None when ``optional``)."""
    if value is None and optional:
        return None
    if not isinstance(value, (str, os.PathLike)):
        allowed = "None, a str or an os.PathLike" if optional else "a str or an os.PathLike"
        raise TypeError(f"{name} must be {allowed}, got {type(value).__name__} ({value!r})")
    return Path(value)


def _probe_folder(folder: Path, what: str, error: type[Exception]) -> None:
    """Create and remove an empty temporary file in ``folder``: the one sure test that it can be written."""
    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".npae-probe.", suffix=".tmp")
    except OSError as exc:
        raise error(f"{what}: cannot write in the folder {str(folder)!r} ({exc.strerror or exc})") from exc
    os.close(fd)
    os.unlink(probe)


def check_output_file(path: Any, name: str = "path", error: type[Exception] = ValueError,
                      probe: bool = False) -> Path:
    """The regular file that writing ``path`` will create or replace, or ``error`` saying why it cannot.

    The rules every writer in npae follows (``docs/11-training-and-saving.md``, section 6): only a
    regular file is written. A symlink is followed to the file it points to (the link stays a link);
    a folder, a device, a FIFO or a socket is refused, as is ``''`` or a name ending in a separator
    (``"x/"`` names a folder). The folder the file goes into must exist; with ``probe`` a temporary
    file is created and removed in it, so an unwritable place (a read-only folder, ``/proc``) is
    refused before any work is done rather than after.

    Parameters
    ----------
    path : str or os.PathLike
    name : str
        The argument's name, for the message.
    error : exception class
        Raised with the message (``ModelFileError`` in ``npae.io``, ``argparse.ArgumentTypeError`` on
        the command line).
    probe : bool
        Also try to create a file in the folder.

    Returns
    -------
    Path
        The file to write: ``path``, or the target of the symlink ``path``.
    """
    check_path(path, name)
    raw = os.fspath(path)  # not Path(path), which drops a trailing separator
    if raw == "":
        raise error(f"{name} is empty: give the name of a file to write")
    if raw.endswith(tuple(s for s in (os.sep, os.altsep) if s)):
        raise error(f"{name} {raw!r} ends with a path separator, so it names a folder: give the name of a "
                    f"file to write")
    target = Path(os.path.realpath(raw)) if os.path.islink(raw) else Path(raw)
    try:
        st = os.stat(target)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise error(f"{name} {raw!r} cannot be examined ({exc.strerror or exc})") from exc
    if st is not None and not stat.S_ISREG(st.st_mode):
        kind = "a folder" if stat.S_ISDIR(st.st_mode) else "a device, FIFO or socket, not a regular file"
        raise error(f"{name} {raw!r} is {kind}: give the name of a file to write")
    folder = target.parent  # Path("m.npz").parent is Path(".")
    if not folder.is_dir():
        raise error(f"{name} {raw!r}: cannot save, folder {str(folder)!r} does not exist")
    if probe:
        _probe_folder(folder, f"{name} {raw!r}", error)
    return target


def check_output_folder(path: Any, name: str = "out", error: type[Exception] = ValueError) -> Path:
    """A folder that figures and files can be written into: it exists, or can be created, and is writable.

    Refused: ``''``, a path that is (or passes through) a file, and a place where no file can be
    created (the nearest existing folder is probed with a temporary file, created and removed).
    The folder itself is not created here: the caller creates it when it writes.
    """
    check_path(path, name)
    raw = os.fspath(path)
    if raw == "":
        raise error(f"{name} is empty: give a folder to write into")
    p = Path(raw)
    if p.exists() and not p.is_dir():
        raise error(f"{name} {raw!r} is a file, not a folder: give a folder to write into")
    existing = p
    while not existing.exists() and existing != existing.parent and not existing.is_symlink():
        existing = existing.parent  # the nearest existing folder on the way up ("." for a relative path)
    if not existing.is_dir():
        raise error(f"{name} {raw!r}: {str(existing)!r} is not a folder, so nothing can be created under it")
    _probe_folder(existing, f"{name} {raw!r}", error)
    return p


def check_labels(y: Any, name: str, n_samples: int, n_classes: int) -> np.ndarray:
    """Class labels ``y`` as an int64 array of shape (n_samples,), every entry in ``[0, n_classes)``.

    Integer arrays are accepted, and float arrays whose entries are whole numbers (labels read as
    floats); a label such as 2.5, NaN, a negative id or one ``>= n_classes`` is refused with its
    index and value.
    """
    arr = check_array(y, name, ndim=1, finite=True, min_samples=0)
    if arr.dtype.kind == "b":
        raise TypeError(f"{name} must hold integer class ids, got a bool array")
    if len(arr) != n_samples:
        raise ValueError(f"{name} must have one label per sample: length {n_samples}, got length {len(arr)}")
    if arr.dtype.kind == "f":
        bad = np.flatnonzero(arr != np.round(arr))
        if bad.size:
            raise ValueError(f"{name} must hold integer class ids, got {arr[bad[0]].item()} at index "
                             f"{bad[0]}")
    bad = np.flatnonzero((arr < 0) | (arr >= n_classes))
    if bad.size:
        raise ValueError(f"{name} must hold class ids in [0, {n_classes}), got {arr[bad[0]].item()} at index "
                         f"{bad[0]}")
    return arr.astype(np.int64, copy=False)


def checked_by(check):
    """Decorator: the public function checks its arguments with ``check``, then runs the math below it.

    ``check`` takes the public function's arguments and returns them checked (converted as
    needed), as a tuple in the math's positional order. The decorated function keeps the math's
    name, signature and docstring; ``function.math`` is the math alone, which a model's training
    step calls on data it has already checked at its own door (``fit``): validate once, trust inside.
    """
    def decorate(math):
        @functools.wraps(math)
        def public(*args, **kwargs):
            return math(*check(*args, **kwargs))
        public.math = math
        return public
    return decorate
