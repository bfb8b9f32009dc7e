"""Saving and loading models: one ``.npz`` file, no pickle, atomic writes.

A model file is a NumPy ``.npz`` archive (a zip of ``.npy`` arrays) holding

* ``meta``: a JSON text (a 0-d unicode array) with the format name and version, the model's
  class, its constructor arguments (``model.get_params()``), the optimiser's class and
  hyper-parameters, the random generator's state, ``history_``, and for every other array its
  shape, dtype and SHA-256;
* ``param/<name>``: every weight, under the names of ``model.params`` (``encoder.0.W``, ...);
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

import hashlib
import inspect
import json
import os
import stat
import tempfile
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from ._validation import check_output_file
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
    """Every network's layers as text (``repr`` of each: its type and configuration), by network name."""
    return {name: [repr(layer) for layer in net.layers] for name, net in model._networks().items()}


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
        More arrays to store (names must not start with ``param/``, ``optim/`` or be ``meta``).
    """
    if type(model) not in _MODELS:
        raise TypeError(f"model must be an npae model (a BaseAutoencoder), got {type(model).__name__}")
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    check_rebuildable(model)
    arrays = {f"param/{k}": np.asarray(v) for k, v in model.params.items()}
    opt = getattr(model, "optimizer_", None) if optimizer else None
    if opt is not None:
        arrays.update({f"optim/{k}": np.asarray(v) for k, v in opt.state_dict().items()})
    for k, v in (extra_arrays or {}).items():
        if k == "meta" or k.startswith(("param/", "optim/")):
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
def read(path: str | os.PathLike) -> tuple[dict, dict[str, np.ndarray]]:
    """Read and verify a model file: return ``(meta, arrays)`` or raise :class:`ModelFileError`.

    Checks, in order: the file opens as a zip of ``.npy`` arrays without pickle, it has a
    ``meta`` entry of the right format and version, and every array listed there is present
    with the recorded shape, dtype and SHA-256 (and none is unlisted).
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: no such model file")
    try:
        loaded = np.load(path, allow_pickle=False)
    except ValueError as exc:
        if "pickle" in str(exc):
            raise ModelFileError(f"{path}: refused, the file holds pickled data (npae never unpickles; "
                                 f"nothing in it was executed)") from exc
        raise ModelFileError(f"{path}: not an npae model file ({exc})") from exc
    except (OSError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise ModelFileError(f"{path}: truncated or not an .npz model file "
                             f"({exc or type(exc).__name__})") from exc
    if not isinstance(loaded, np.lib.npyio.NpzFile):
        raise ModelFileError(f"{path}: not an npae model file (a single .npy array, not an .npz archive)")
    arrays: dict[str, np.ndarray] = {}
    with loaded:
        for key in loaded.files:
            try:
                arrays[key] = loaded[key]
            except ValueError as exc:
                if "allow_pickle" in str(exc) or "Object arrays" in str(exc):
                    raise ModelFileError(f"{path}: refused, entry {key!r} is an object array (it would need "
                                         f"pickle; nothing in it was executed)") from exc
                raise ModelFileError(f"{path}: entry {key!r} is corrupted ({exc})") from exc
            except (OSError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
                raise ModelFileError(f"{path}: entry {key!r} is truncated or corrupted ({exc})") from exc
    if "meta" not in arrays:
        raise ModelFileError(f"{path}: not an npae model file (no 'meta' entry; entries: "
                             f"{sorted(arrays)[:5]})")
    meta_arr = arrays.pop("meta")
    try:
        if meta_arr.dtype.kind != "U" or meta_arr.ndim != 0:
            raise ValueError(f"meta is a {meta_arr.dtype} array of shape {meta_arr.shape}")
        meta = json.loads(str(meta_arr))
        if not isinstance(meta, dict):
            raise ValueError("meta is not a JSON object")
    except ValueError as exc:
        raise ModelFileError(f"{path}: corrupted 'meta' entry ({exc})") from exc
    if meta.get("format") != FORMAT:
        raise ModelFileError(f"{path}: not an npae model file (format {meta.get('format')!r}, expected "
                             f"{FORMAT!r})")
    version = meta.get("format_version")
    if version != FORMAT_VERSION:
        raise ModelFileError(f"{path}: unsupported format version {version!r}: this npae reads version "
                             f"{FORMAT_VERSION}" + (" (the file is from a newer npae)"
                                                     if isinstance(version, int) and version > FORMAT_VERSION
                                                     else ""))
    listed = meta.get("arrays")
    if not isinstance(listed, dict):
        raise ModelFileError(f"{path}: corrupted 'meta' entry (no array list)")
    missing = sorted(set(listed) - set(arrays))
    unlisted = sorted(set(arrays) - set(listed))
    if missing or unlisted:
        raise ModelFileError(f"{path}: corrupted: missing entries {missing[:5]}, unexpected entries "
                             f"{unlisted[:5]}")
    for key, info in listed.items():
        a = arrays[key]
        if list(a.shape) != info.get("shape") or a.dtype.str != info.get("dtype"):
            raise ModelFileError(f"{path}: corrupted entry {key!r}: shape {a.shape} dtype {a.dtype.str}, "
                                 f"meta says {info.get('shape')} {info.get('dtype')}")
        if _checksum(a) != info.get("sha256"):
            raise ModelFileError(f"{path}: corrupted entry {key!r}: its SHA-256 does not match the one "
                                 f"recorded")
    return meta, arrays


def _build(path: Path, meta: dict, expected: type | None):
    name, module = meta.get("class"), meta.get("module")
    cls = _find_class(_MODELS, str(name), module)
    if cls is None:
        known = sorted(model_classes())
        raise ModelFileError(f"{path}: holds a model of unknown class {name!r} (module {module!r}); known "
                             f"classes: {known}; import the module that defines it before loading")
    if expected is not None and not issubclass(cls, expected):
        raise ModelFileError(f"{path}: holds a {name}, not a {expected.__name__}")
    params = {_RENAMED_ARGUMENTS.get(k, k): v for k, v in from_json(meta.get("params") or {}).items()}
    try:
        return cls(**params)
    except (TypeError, ValueError) as exc:
        raise ModelFileError(f"{path}: cannot rebuild {name} from its stored arguments {params}: "
                             f"{exc}") from exc


def restore(model, meta: dict, arrays: dict[str, np.ndarray], path: str | os.PathLike = "<model file>",
            optimizer: bool = True) -> None:
    """Copy the weights (and optimiser, random state, history) from a read file into ``model``.

    The file's weights must match ``model.params`` exactly in names, shapes and dtypes;
    otherwise the file is for another model and :class:`ModelFileError` says what differs.
    """
    live = model.params
    stored = {_RENAMED_WEIGHTS.get(k[len("param/"):], k[len("param/"):]): v
              for k, v in arrays.items() if k.startswith("param/")}
    if stored.keys() != live.keys():
        only_file = sorted(set(stored) - set(live))[:4]
        only_model = sorted(set(live) - set(stored))[:4]
        raise ModelFileError(f"{path}: wrong model: weights only in the file {only_file}, only in "
                             f"{type(model).__name__} {only_model}")
    for k, p in live.items():
        if stored[k].shape != p.shape or stored[k].dtype != p.dtype:
            raise ModelFileError(f"{path}: wrong model: weight {k!r} is "
                                 f"{stored[k].dtype}{list(stored[k].shape)} "
                                 f"in the file, {p.dtype}{list(p.shape)} in the model")
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
            opt.load_state_dict({k[len("optim/"):]: v for k, v in arrays.items() if k.startswith("optim/")})
            opt.initial_lr = float(opt_meta.get("initial_lr", opt.lr))  # files of npae 0.1 lack it
        except (TypeError, ValueError, KeyError) as exc:
            raise ModelFileError(f"{path}: cannot rebuild the optimiser {opt_meta.get('class')}: "
                                 f"{exc}") from exc
        model.optimizer_ = opt


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
    model = _build(Path(path), meta, expected)
    restore(model, meta, arrays, path, optimizer)
    return model


__all__ = ["FORMAT_VERSION", "ModelFileError", "atomic_write", "load", "model_classes", "read", "restore",
           "rng_from_state", "rng_state", "save"]
