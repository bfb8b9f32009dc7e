"""Saving and loading models: one ``.npz`` file, no pickle, atomic writes.

A model file is a NumPy ``.npz`` archive (a zip of ``.npy`` arrays) holding

* ``meta``: a JSON text (a 0-d unicode array) with the format name and version, the model's
  class, its constructor arguments (``model.get_params()``), the optimiser's class and
  hyper-parameters, the random generator's state, ``history_``, and for every other array its
  shape, dtype and SHA-256;
* ``param/<name>``: every weight, under the names of ``model.params`` (``encoder.0.W``, ...);
* ``buffer/<name>``: every buffer (state that is not trained, such as a batch normalisation's
  running statistics), under the names of ``model.buffers``;
* ``optim/<name>/<buffer>`` and ``optim/t``: the optimiser state (``Optimizer.state_dict()``);
* in a training checkpoint, ``best/<name>`` (early stopping's best weights) and a ``training``
  entry in ``meta`` (epochs done, learning rate, early-stopping counters).

It is read with ``allow_pickle=False``, so a file carrying object arrays or pickled data is
refused before anything in it is executed. ``load`` rebuilds the class named in the file by
looking it up among the registered models (every subclass of ``BaseAutoencoder`` registers
itself when it is defined: :func:`register_model`), so models added later, a user's own
included, load without edits here; this module imports nothing from ``npae.models``. Writes go
to a temporary file in the same folder that is then renamed over the target (``os.replace`` is
atomic), so an interrupted save leaves the previous file intact. Format notes:
``docs/11-training-and-saving.md``.
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import json
import math
import os
import stat
import tempfile
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from ._validation import check_output_file
from .init import weight_budget
from .layers.base import describe
from .optim import Optimizer

FORMAT = "npae-model"
FORMAT_VERSION = 1
#: Bit generators a file may name (looked up in ``np.random``; nothing else is).
_BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")


class ModelFileError(ValueError):
    """A model file is missing, truncated, corrupted, of another version or of another model."""


# ---------------------------------------------------------------------------- JSON values
def to_json(value: Any, name: str = "value") -> Any:
    """A JSON-able copy of ``value``; tuples, dtypes and arrays are tagged so they come back.

    A ``np.random.Generator`` (a ``random_state`` argument) is stored as ``None``: the weights
    and the generator's state are saved separately, so it is not needed to rebuild the model.
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, tuple):
        return {"__tuple__": [to_json(v, f"{name}[{i}]") for i, v in enumerate(value)]}
    if isinstance(value, list):
        return [to_json(v, f"{name}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {str(k): to_json(v, f"{name}[{k!r}]") for k, v in value.items()}
    if isinstance(value, np.dtype) or (isinstance(value, type) and issubclass(value, np.generic)):
        return {"__dtype__": np.dtype(value).name}
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return {"__ndarray__": value.tolist(), "dtype": value.dtype.name}
    if isinstance(value, np.random.Generator):
        return None
    raise TypeError(f"{name} of type {type(value).__name__} cannot be saved as JSON: constructor arguments "
                    f"must be plain values (numbers, strings, tuples, lists, dicts, dtypes)")


def from_json(value: Any) -> Any:
    """Undo :func:`to_json`."""
    if isinstance(value, list):
        return [from_json(v) for v in value]
    if isinstance(value, dict):
        if set(value) == {"__tuple__"}:
            return tuple(from_json(v) for v in value["__tuple__"])
        if set(value) == {"__dtype__"}:
            return np.dtype(value["__dtype__"])
        if set(value) == {"__ndarray__", "dtype"}:
            return np.array(value["__ndarray__"], dtype=np.dtype(value["dtype"]))
        return {k: from_json(v) for k, v in value.items()}
    return value


def rng_state(rng: np.random.Generator) -> dict:
    """The generator's ``bit_generator.state`` as JSON (restore with :func:`rng_from_state`)."""
    return to_json(rng.bit_generator.state, "rng state")


def rng_from_state(state: dict) -> np.random.Generator:
    """A new Generator in exactly the saved state: it draws the same numbers the saved one would."""
    state = from_json(state)
    kind = state.get("bit_generator") if isinstance(state, dict) else None
    if kind not in _BIT_GENERATORS:
        raise ValueError(f"unknown bit generator {kind!r} in a saved random state (known: "
                         f"{list(_BIT_GENERATORS)})")
    bit_generator = getattr(np.random, kind)()
    bit_generator.state = state
    return np.random.Generator(bit_generator)


# ---------------------------------------------------------------------------- classes by name
_MODELS: list[type] = []  # every model class defined so far, in definition order

# What npae 0.1 wrote under names this version changed: read under the new names.
_RENAMED_ARGUMENTS = {"decoder": "likelihood"}  # the VAEs' constructor argument
_RENAMED_WEIGHTS = {"likelihood.0.log_var": "likelihood.log_var"}  # the learned decoder variance


def _all_subclasses(cls: type) -> list[type]:
    out, todo = [], [cls]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub not in out:
                out.append(sub)
                todo.append(sub)
    return out


def register_model(cls: type) -> None:
    """Record a model class so :func:`load` can rebuild it by name (``BaseAutoencoder`` calls this
    for each of its subclasses, a user's own included, when the class is defined)."""
    _MODELS.append(cls)


def model_classes() -> dict[str, type]:
    """Every model class defined so far, by class name (the last one defined wins a name)."""
    return {cls.__name__: cls for cls in _MODELS}


def _find_class(classes: list[type], name: str, module: str | None) -> type | None:
    """The class called ``name`` (from ``module`` if there is one from there), or None."""
    candidates = [c for c in classes if c.__name__ == name]
    exact = [c for c in candidates if c.__module__ == module]
    return (exact or candidates or [None])[-1]


# ---------------------------------------------------------------------------- writing
def _checksum(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


def _write_npz(f, arrays: dict[str, np.ndarray]) -> None:
    """Write the archive to the open file ``f`` (a separate function so a test can interrupt it)."""
    np.savez(f, **arrays)


def _umask() -> int:
    """The process's umask (read by setting it and setting it back: POSIX offers no read-only call)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write(path: str | os.PathLike, write) -> Path:
    """Call ``write(f)`` on a temporary file next to ``path``, then rename it to ``path``.

    ``os.replace`` within one folder is atomic: readers see the old file or the new one, never a
    half-written one. Only regular files are written (:func:`npae._validation.check_output_file`):
    a symlink is followed and its target replaced, a folder, device or FIFO is refused. An existing
    file keeps its permission bits; a new one gets ``0o666`` less the umask, as ``open`` would give.
    Whatever fails (``write`` raises, the disk is full, the folder is read-only, Ctrl-C), the
    temporary file is removed and ``path`` is untouched; a failure to write is a
    :class:`ModelFileError` naming ``path``.
    """
    target = check_output_file(path, "path", error=ModelFileError)
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)  # an existing file keeps its permissions
        existed = True
    except FileNotFoundError:
        mode, existed = 0o666 & ~_umask(), False
    kept = "the previous file is unchanged" if existed else "nothing was written"
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise ModelFileError(f"{path}: cannot save, cannot create a file in {str(target.parent)!r} "
                             f"({exc.strerror or exc}); {kept}") from exc
    renamed = False
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
        renamed = True
    except OSError as exc:  # a full disk (ENOSPC), a quota, an I/O error
        raise ModelFileError(f"{path}: cannot save ({exc.strerror or exc}); {kept}") from exc
    finally:
        if not renamed:  # every failure, KeyboardInterrupt included, removes the temporary file
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
    return Path(path)


def optimizer_meta(optimizer) -> dict:
    """The optimiser's class and constructor arguments (read back from its attributes)."""
    names = [p for p in inspect.signature(type(optimizer).__init__).parameters if p != "self"]
    args = {n: to_json(getattr(optimizer, n), f"optimizer.{n}") for n in names if hasattr(optimizer, n)}
    return {"class": type(optimizer).__name__, "args": args, "initial_lr": optimizer.initial_lr}


def _layers(model) -> dict[str, list[str]]:
    """Every network's layers as text (each one's type and ``get_config()``), by network name."""
    return {name: [describe(layer) for layer in net.layers] for name, net in model._networks().items()}


def check_rebuildable(model) -> None:
    """Refuse to save a model that ``load`` could not rebuild exactly, saying what differs.

    ``load`` calls the class with the stored constructor arguments and copies the weights in, so
    the layers must be the ones the constructor builds: a layer added, removed or replaced after
    construction (a Dropout put into ``model.encoder``) would be lost or misplaced. Such a model
    needs a subclass whose ``__init__`` builds those layers (``docs/14-extending.md``).
    """
    rebuilt = type(model)(**{**model.get_params(), "random_state": 0})
    mine, theirs = _layers(model), _layers(rebuilt)
    for name in mine:
        if mine[name] != theirs.get(name):
            i = next((i for i, (a, b) in enumerate(zip(mine[name], theirs[name], strict=False)) if a != b),
                     min(len(mine[name]), len(theirs[name])))
            has = mine[name][i] if i < len(mine[name]) else "nothing"
            built = theirs[name][i] if i < len(theirs[name]) else "nothing"
            cls = type(model).__name__
            raise ValueError(
                f"cannot save this {cls}: its {name} has {len(mine[name])} layers and layer {i} is {has}, "
                f"but {cls}(**get_params()) builds {len(theirs[name])} layers with {built} there, so load "
                f"could not rebuild it; build such layers in the __init__ of a subclass "
                f"(docs/14-extending.md)")


def save(model, path: str | os.PathLike, optimizer: bool = True, training: dict | None = None,
         extra_arrays: dict[str, np.ndarray] | None = None) -> Path:
    """Write ``model`` to ``path`` (one ``.npz``, atomically); return the path.

    Parameters
    ----------
    model : BaseAutoencoder
    path : str or path
        Written exactly as given (no ``.npz`` is appended).
    optimizer : bool
        Include the optimiser's hyper-parameters and state (``model.optimizer_``, set by ``fit``).
    training : dict, optional
        JSON-able training state (used by checkpoints).
    extra_arrays : dict, optional
        More arrays to store (names must not start with ``param/``, ``optim/``, ``buffer/`` or be
        ``meta``).
    """
    if type(model) not in _MODELS:
        raise TypeError(f"model must be an npae model (a BaseAutoencoder), got {type(model).__name__}")
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    check_rebuildable(model)
    arrays = {f"param/{k}": np.asarray(v) for k, v in model.params.items()}
    arrays.update(buffer_arrays(model))
    opt = getattr(model, "optimizer_", None) if optimizer else None
    if opt is not None:
        arrays.update({f"optim/{k}": np.asarray(v) for k, v in opt.state_dict().items()})
    for k, v in (extra_arrays or {}).items():
        if k == "meta" or k.startswith(("param/", "optim/", "buffer/")):
            raise ValueError(f"extra_arrays must not use the reserved name {k!r}")
        arrays[k] = np.asarray(v)
    rng = getattr(model, "rng_", None)
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "class": type(model).__name__,
        "module": type(model).__module__,
        "params": to_json(model.get_params(), "model argument"),
        "optimizer": None if opt is None else optimizer_meta(opt),
        "rng_state": None if rng is None else rng_state(rng),
        "history": to_json(getattr(model, "history_", {}), "history_"),
        "training": to_json(training, "training") if training is not None else None,
        "arrays": {k: {"shape": list(a.shape), "dtype": a.dtype.str, "sha256": _checksum(a)}
                   for k, a in arrays.items()},
    }
    arrays["meta"] = np.array(json.dumps(meta))
    return atomic_write(path, lambda f: _write_npz(f, arrays))


# ---------------------------------------------------------------------------- reading
#: How deep the JSON of ``meta`` may nest (a model file's nests about 6 deep: tuples in lists in dicts).
MAX_JSON_DEPTH = 32
#: Weights a rebuilt model may draw beyond those the file holds (a margin; none are expected).
WEIGHT_SLACK = 2**16
_HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}


@contextlib.contextmanager
def model_file_errors(path: str | os.PathLike):
    """Any failure inside the block becomes a :class:`ModelFileError` naming ``path``.

    A corrupted file can fail anywhere: a flipped bit in a zip header gives ``NotImplementedError``
    ("zip file version") or ``RuntimeError`` ("encrypted"), one in an ``.npy`` header a
    ``SyntaxError``, crafted JSON a ``RecursionError`` or a ``KeyError``. The reader says which file.
    """
    try:
        yield
    except ModelFileError:
        raise
    except Exception as exc:  # noqa: BLE001 - every way a bad file can fail, reported as one
        raise ModelFileError(f"{path}: corrupted or not an npae model file ({type(exc).__name__}: "
                             f"{str(exc)[:200]})") from exc


def _entry_headers(path: Path, zf: zipfile.ZipFile) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """Each entry's shape and dtype, read from its ``.npy`` header without reading its data.

    An entry must be an ``.npy`` array stored uncompressed (as ``np.savez`` writes), hold no
    objects, and be exactly as long as its header says, inside the file: so nothing a file
    declares can make :func:`read` allocate more than the file's own size.
    """
    size = path.stat().st_size
    out: dict[str, tuple[tuple[int, ...], np.dtype]] = {}
    for info in zf.infolist():
        key = info.filename[:-len(".npy")]
        if not info.filename.endswith(".npy"):
            raise ModelFileError(f"{path}: not an npae model file (entry {info.filename!r} is not an .npy "
                                 f"array)")
        if info.compress_type != zipfile.ZIP_STORED:
            raise ModelFileError(f"{path}: entry {key!r} is compressed; npae reads the uncompressed archives "
                                 f"it writes (np.savez, not np.savez_compressed)")
        if info.file_size != info.compress_size or info.compress_size > size:
            raise ModelFileError(f"{path}: corrupted entry {key!r}: it declares {info.file_size:,} bytes, "
                                 f"the file has {size:,}")
        with zf.open(info) as f:
            version = np.lib.format.read_magic(f)
            if version not in _HEADER_READERS:
                raise ModelFileError(f"{path}: entry {key!r} is an .npy array of version {version}, npae "
                                     f"reads versions 1.0 and 2.0")
            shape, _, dtype = _HEADER_READERS[version](f)
            header = f.tell()
        if dtype.hasobject:
            raise ModelFileError(f"{path}: refused, entry {key!r} is an object array (it would need pickle; "
                                 f"nothing in it was executed)")
        if header + math.prod(shape) * dtype.itemsize != info.file_size:
            raise ModelFileError(f"{path}: corrupted entry {key!r}: its header says {dtype}{list(shape)}, "
                                 f"which does not fit its {info.file_size:,} bytes")
        out[key] = (tuple(shape), dtype)
    return out


def _json_depth(value: Any) -> int:
    """How deep ``value`` nests (0 for a number or a string), counted without recursion."""
    deepest, todo = 0, [(value, 0)]
    while todo:
        v, depth = todo.pop()
        deepest = max(deepest, depth)
        if depth > MAX_JSON_DEPTH:
            break
        if isinstance(v, dict):
            todo.extend((x, depth + 1) for x in v.values())
        elif isinstance(v, list):
            todo.extend((x, depth + 1) for x in v)
    return deepest


def _check_meta(path: Path, meta: dict) -> None:
    """The entries of ``meta`` have the types ``save`` writes (a crafted file is refused here, clearly)."""
    def need(ok: bool, what: str) -> None:
        if not ok:
            raise ModelFileError(f"{path}: corrupted 'meta' entry: {what}")

    need(isinstance(meta.get("class"), str), f"'class' must be a string, got {meta.get('class')!r:.80}")
    need(isinstance(meta.get("module"), (str, type(None))), "'module' must be a string")
    need(isinstance(meta.get("params", {}), dict), f"'params' must be a JSON object, got "
                                                    f"{type(meta.get('params')).__name__}")
    history = meta.get("history") or {}
    need(isinstance(history, dict) and all(isinstance(v, list) for v in history.values()),
         "'history' must be an object of lists")
    need(all(isinstance(x, (int, float, type(None))) and not isinstance(x, bool)
             for v in history.values() for x in v), "'history' must hold numbers")
    opt = meta.get("optimizer")
    need(opt is None or (isinstance(opt, dict) and isinstance(opt.get("class"), str)
                         and isinstance(opt.get("args", {}), dict)),
         f"'optimizer' must be null or an object with a 'class' and 'args', got {opt!r:.80}")
    if isinstance(opt, dict) and "initial_lr" in opt:
        lr = opt["initial_lr"]
        need(isinstance(lr, (int, float)) and not isinstance(lr, bool) and math.isfinite(lr) and lr > 0,
             f"the optimiser's 'initial_lr' must be a number > 0, got {lr!r:.80}")
    for key in ("rng_state", "training"):
        need(meta.get(key) is None or isinstance(meta[key], dict), f"{key!r} must be null or an object")
    try:
        from_json(meta.get("params") or {})
        from_json(meta.get("optimizer") or {})
    except (TypeError, ValueError, KeyError) as exc:
        raise ModelFileError(f"{path}: corrupted 'meta' entry: a stored value cannot be read back "
                             f"({exc})") from exc


def read(path: str | os.PathLike) -> tuple[dict, dict[str, np.ndarray]]:
    """Read and verify a model file: return ``(meta, arrays)`` or raise :class:`ModelFileError`.

    Checks, in order, before any array is read: the file is a zip of uncompressed ``.npy`` arrays
    (no pickle, no object array), each as long as its header says; it has a ``meta`` entry of the
    right format and version, nesting at most :data:`MAX_JSON_DEPTH` deep, whose entries have the
    types ``save`` writes; every array listed there is present with the recorded shape and dtype
    (checked against the headers) and none is unlisted. Then the arrays are read: each must match
    its recorded SHA-256 and hold only finite numbers. Every failure is a :class:`ModelFileError`
    naming the file.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: no such model file")
    with model_file_errors(path):
        return _read(path)


def _read(path: Path) -> tuple[dict, dict[str, np.ndarray]]:
    with open(path, "rb") as f:
        start = f.read(6)
    if start == b"\x93NUMPY":
        raise ModelFileError(f"{path}: not an npae model file (a single .npy array, not an .npz archive)")
    if not start.startswith(b"PK\x03\x04"):
        raise ModelFileError(f"{path}: truncated or not an .npz model file (it does not start as a zip "
                             f"archive does)")
    try:
        loaded = np.load(path, allow_pickle=False)
    except (OSError, EOFError, zipfile.BadZipFile, zlib.error, ValueError) as exc:
        raise ModelFileError(f"{path}: truncated or not an .npz model file "
                             f"({exc or type(exc).__name__})") from exc
    with loaded:
        headers = _entry_headers(path, loaded.zip)  # 1. every entry's shape and dtype, no data read
        if "meta" not in headers:
            raise ModelFileError(f"{path}: not an npae model file (no 'meta' entry; entries: "
                                 f"{sorted(headers)[:5]})")
        shape, dtype = headers.pop("meta")
        if dtype.kind != "U" or shape != ():
            raise ModelFileError(f"{path}: corrupted 'meta' entry (a {dtype} array of shape {shape})")
        try:  # 2. the metadata
            meta = json.loads(str(loaded["meta"]))
        except (ValueError, RecursionError) as exc:
            raise ModelFileError(f"{path}: corrupted 'meta' entry ({type(exc).__name__}: {exc})") from exc
        if not isinstance(meta, dict):
            raise ModelFileError(f"{path}: corrupted 'meta' entry (not a JSON object)")
        if meta.get("format") != FORMAT:
            raise ModelFileError(f"{path}: not an npae model file (format {meta.get('format')!r:.80}, "
                                 f"expected {FORMAT!r})")
        version = meta.get("format_version")
        if version != FORMAT_VERSION:
            newer = isinstance(version, int) and version > FORMAT_VERSION
            newer = " (the file is from a newer npae)" if newer else ""
            raise ModelFileError(f"{path}: unsupported format version {version!r:.80}: this npae reads "
                                 f"version {FORMAT_VERSION}{newer}")
        if _json_depth(meta) > MAX_JSON_DEPTH:
            raise ModelFileError(f"{path}: corrupted 'meta' entry (nested more than {MAX_JSON_DEPTH} deep)")
        listed = meta.get("arrays")
        if not isinstance(listed, dict) or not all(isinstance(v, dict) for v in listed.values()):
            raise ModelFileError(f"{path}: corrupted 'meta' entry (no array list)")
        _check_meta(path, meta)
        missing = sorted(set(listed) - set(headers))
        unlisted = sorted(set(headers) - set(listed))
        if missing or unlisted:
            raise ModelFileError(f"{path}: corrupted: missing entries {missing[:5]}, unexpected entries "
                                 f"{unlisted[:5]}")
        for key, info in listed.items():  # 3. the headers against what meta declares
            shape, dtype = headers[key]
            if list(shape) != info.get("shape") or dtype.str != info.get("dtype"):
                raise ModelFileError(f"{path}: corrupted entry {key!r}: shape {shape} dtype {dtype.str}, "
                                     f"meta says {info.get('shape')!s:.80} {info.get('dtype')!s:.20}")
            if dtype.kind not in "biuf":
                raise ModelFileError(f"{path}: corrupted entry {key!r}: an array of {dtype}, not of numbers")
        arrays: dict[str, np.ndarray] = {}
        for key, info in listed.items():  # 4. the data, at most the file's size in all
            try:
                a = loaded[key]
            except (OSError, EOFError, zipfile.BadZipFile, zlib.error, ValueError) as exc:
                raise ModelFileError(f"{path}: entry {key!r} is truncated or corrupted ({exc})") from exc
            if _checksum(a) != info.get("sha256"):
                raise ModelFileError(f"{path}: corrupted entry {key!r}: its SHA-256 does not match the one "
                                     f"recorded")
            if a.dtype.kind == "f" and not np.isfinite(a).all():
                raise ModelFileError(f"{path}: entry {key!r} holds NaN or Inf: a model file holds finite "
                                     f"numbers only")
            arrays[key] = a
    return meta, arrays


def _build(path: Path, meta: dict, expected: type | None):
    name, module = meta.get("class"), meta.get("module")
    cls = _find_class(_MODELS, str(name), module)
    if cls is None:
        known = sorted(model_classes())
        raise ModelFileError(f"{path}: holds a model of unknown class {name!r} (module {module!r}); known "
                             f"classes: {known}; import the module that defines it before loading "
                             f"(on the command line: --import MODULE)")
    if expected is not None and not issubclass(cls, expected):
        raise ModelFileError(f"{path}: holds a {name}, not a {expected.__name__}")
    params = {_RENAMED_ARGUMENTS.get(k, k): v for k, v in from_json(meta.get("params") or {}).items()}
    held = sum(math.prod(info["shape"]) for k, info in meta["arrays"].items() if k.startswith("param/"))
    try:
        with weight_budget(held + WEIGHT_SLACK):  # arguments declaring a larger model fail before its weights
            return cls(**params)
    except (TypeError, ValueError) as exc:
        raise ModelFileError(f"{path}: cannot rebuild {name} from its stored arguments {params}: "
                             f"{exc}") from exc


def _check_optimizer_state(state: dict[str, np.ndarray], params: dict[str, np.ndarray]) -> None:
    """A stored optimiser state fits the model: a step count ``t >= 0``, each buffer its weight's shape."""
    t = state.get("t")
    if t is None or np.ndim(t) != 0 or t.dtype.kind not in "iu" or int(t) < 0:
        raise ValueError(f"its step count t must be an integer >= 0, got {t!r}")
    for key, v in state.items():
        if key == "t":
            continue
        name, _, buf = key.rpartition("/")
        if name not in params:
            raise ValueError(f"its buffer {key!r} belongs to no weight of the model")
        if v.shape != params[name].shape:
            raise ValueError(f"its buffer {key!r} has shape {v.shape}, the weight {name!r} "
                             f"{params[name].shape}")


def restore(model, meta: dict, arrays: dict[str, np.ndarray], path: str | os.PathLike = "<model file>",
            optimizer: bool = True) -> None:
    """Copy the weights (and optimiser, random state, history) from a read file into ``model``.

    The file's weights must match ``model.params`` exactly in names, shapes and dtypes;
    otherwise the file is for another model and :class:`ModelFileError` says what differs.
    """
    live = model.params
    stored = {_RENAMED_WEIGHTS.get(k[len("param/"):], k[len("param/"):]): v
              for k, v in arrays.items() if k.startswith("param/")}
    _check_same_arrays(path, model, "weight", stored, live)
    restore_buffers(model, arrays, path)  # checked (and copied) before any weight is written
    for k, p in live.items():
        np.copyto(p, stored[k])
    if meta.get("rng_state") is not None:
        try:
            model.rng_ = rng_from_state(meta["rng_state"])
        except (ValueError, TypeError, KeyError) as exc:
            raise ModelFileError(f"{path}: corrupted random state ({exc})") from exc
    model.history_ = {k: list(v) for k, v in from_json(meta.get("history") or {}).items()}
    opt_meta = meta.get("optimizer")
    if optimizer and opt_meta is not None:
        cls = _find_class(_all_subclasses(Optimizer), str(opt_meta.get("class")), None)
        if cls is None:
            raise ModelFileError(f"{path}: unknown optimiser class {opt_meta.get('class')!r}")
        try:
            opt = cls(**from_json(opt_meta.get("args") or {}))
            state = {k[len("optim/"):]: v for k, v in arrays.items() if k.startswith("optim/")}
            _check_optimizer_state(state, live)
            opt.load_state_dict(state)
            opt.initial_lr = float(opt_meta.get("initial_lr", opt.lr))  # files of npae 0.1 lack it
        except (TypeError, ValueError, KeyError) as exc:
            raise ModelFileError(f"{path}: cannot rebuild the optimiser {opt_meta.get('class')}: "
                                 f"{exc}") from exc
        model.optimizer_ = opt


def buffer_arrays(model) -> dict[str, np.ndarray]:
    """The model's buffers as the file stores them: ``{"buffer/<name>": array}``."""
    return {f"buffer/{k}": np.asarray(v) for k, v in getattr(model, "buffers", {}).items()}


def _check_same_arrays(path, model, kind: str, stored: dict[str, np.ndarray],
                       live: dict[str, np.ndarray]) -> None:
    """The file's ``kind`` arrays ("weight" or "buffer") have the model's names, shapes and dtypes."""
    if stored.keys() != live.keys():
        only_file, only_model = sorted(set(stored) - set(live))[:4], sorted(set(live) - set(stored))[:4]
        raise ModelFileError(f"{path}: wrong model: {kind}s only in the file {only_file}, only in "
                             f"{type(model).__name__} {only_model}")
    for k, a in live.items():
        if stored[k].shape != a.shape or stored[k].dtype != a.dtype:
            raise ModelFileError(f"{path}: wrong model: {kind} {k!r} is "
                                 f"{stored[k].dtype}{list(stored[k].shape)} in the file, "
                                 f"{a.dtype}{list(a.shape)} in the model")


def restore_buffers(model, arrays: dict[str, np.ndarray], path: str | os.PathLike = "<model file>") -> None:
    """Copy the file's ``buffer/<name>`` arrays into ``model.buffers``, bit for bit.

    Names, shapes and dtypes must match the model's buffers exactly, else :class:`ModelFileError`
    says what differs (a file without buffers for a model that has them is another model's).
    """
    live = getattr(model, "buffers", {})
    stored = {k[len("buffer/"):]: v for k, v in arrays.items() if k.startswith("buffer/")}
    _check_same_arrays(path, model, "buffer", stored, live)
    for k, b in live.items():
        np.copyto(b, stored[k])


def load(path: str | os.PathLike, expected: type | None = None, optimizer: bool = True):
    """Rebuild the model saved in ``path``: the right class, its arguments, weights and state.

    Parameters
    ----------
    path : str or path
    expected : type, optional
        Refuse a file holding a model that is not this class (or a subclass).
    optimizer : bool
        Also restore ``model.optimizer_`` (so ``fit`` continues with the same Adam moments).

    Raises
    ------
    ModelFileError
        (a ``ValueError``) naming the file and the problem: missing, truncated, corrupted, pickled
        or object arrays, wrong format version, unknown class, weights that do not fit the model.
    """
    meta, arrays = read(path)
    with model_file_errors(path):
        model = _build(Path(path), meta, expected)
        restore(model, meta, arrays, path, optimizer)
    return model


__all__ = ["FORMAT_VERSION", "MAX_JSON_DEPTH", "ModelFileError", "atomic_write", "buffer_arrays", "load",
           "model_classes", "model_file_errors", "read", "restore", "restore_buffers", "rng_from_state",
           "rng_state", "save"]
