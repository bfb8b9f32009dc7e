"""The training loop behind ``model.fit``: batches, early stopping, checkpoints, the guard.

One epoch, in order:

1. the learning rate of this epoch is set from the schedule (``npae.schedules``);
2. the examples are shuffled with the run's generator ``rng`` (one permutation per epoch);
3. for each mini-batch: read the rows (an in-memory array, a ``np.memmap`` or any array-like
   with ``__len__`` and ``__getitem__``), compute ``loss, terms, grads = model.loss_and_grads``,
   check that the loss and every gradient are finite (the *divergence guard*: otherwise stop with
   a :class:`DivergenceError` naming the term or parameter, the epoch and the batch, and keep the
   weights from before this batch), then ``optimizer.step``; the weights themselves are checked
   when the guard fires and at the end of the epoch (an overflowing update puts back the
   epoch's starting weights);
4. record the epoch's means in ``model.history_``, score the validation data, print a line;
5. early stopping: stop when the monitored loss has not improved for ``patience`` epochs and put
   back the best weights;
6. every ``every`` epochs, write a checkpoint (the model file of ``npae.io`` plus the run's
   state: epochs done, the generator's state, the base learning rate, early-stopping counters
   and best weights), from which ``fit(..., resume=path)`` continues bit for bit.

See ``docs/11-training-and-saving.md``.
"""

from __future__ import annotations

import math
import os
import time
from typing import Any

import numpy as np

from . import io as npae_io
from ._validation import NonFiniteError, check_float, check_int, check_random_state
from .optim import Adam, Optimizer
from .progress import ProgressBar
from .schedules import get_schedule


class DivergenceError(FloatingPointError):
    """Training produced a NaN or Inf loss, gradient or weight.

    Attributes ``epoch`` and ``batch`` (from 1) and ``bad`` (the names of the terms or parameters
    that were not finite) say where; the model keeps its last good weights.
    """

    def __init__(self, message: str, epoch: int, batch: int, bad: list[str]) -> None:
        super().__init__(message)
        self.epoch, self.batch, self.bad = epoch, batch, bad


# ---------------------------------------------------------------------------- data
def _is_lazy(X: Any) -> bool:
    """Read batch by batch: memmaps, and array-likes that are not arrays, lists or convertible."""
    if isinstance(X, np.memmap):
        return True
    if isinstance(X, (np.ndarray, list, tuple, dict, str, bytes)) or hasattr(X, "__array__"):
        return False
    return hasattr(X, "__len__") and hasattr(X, "__getitem__")


class BatchSource:
    """Rows of the training (or validation) data, validated by the model's ``_check_X``.

    An in-memory array is checked once (shape, dtype, finite). A memmap or another array-like
    is read one batch at a time (``X[rows]`` with the batch's rows sorted, so a file is read
    in increasing order) and each batch is checked as it is read, so data larger than memory
    can be streamed.
    """

    def __init__(self, X: Any, name: str, check) -> None:
        self.name, self.check = name, check
        self.lazy = _is_lazy(X)
        if self.lazy:
            try:
                n = len(X)
            except TypeError as exc:
                raise TypeError(f"{name} must have a length (__len__), got {type(X).__name__}") from exc
            if n < 1:
                raise ValueError(f"{name} must have at least 1 sample(s), got length {n}")
            self.data = X
            self.n = int(n)
            try:
                first = X[0:1]
            except (TypeError, KeyError, IndexError) as exc:
                raise TypeError(f"{name} must be an array or an array-like indexable by slices and index "
                                f"arrays, got {type(X).__name__} ({exc})") from exc
            check(np.asarray(first), f"{name}[0:1]")  # the feature shape, before any training
        else:
            self.data = check(X, name)
            self.n = len(self.data)

    def __len__(self) -> int:
        return self.n

    def take(self, rows: np.ndarray, contiguous: bool, label: str) -> np.ndarray:
        """The batch ``X[rows]`` (``rows`` sorted increasing; a slice when ``contiguous``)."""
        if not self.lazy:
            return self.data[rows]
        key = slice(int(rows[0]), int(rows[-1]) + 1) if contiguous else rows
        try:
            batch = self.data[key]
        except (TypeError, IndexError) as exc:
            raise TypeError(f"{self.name} could not be indexed with "
                            f"{'a slice' if contiguous else 'an index array'} "
                            f"({exc}); an array-like must accept X[index_array] (or use shuffle=False, which "
                            f"reads slices)") from exc
        return self.check(np.asarray(batch), f"{self.name} {label}")

    def chunks(self, size: int = 1024):
        for i in range(0, self.n, size):
            rows = np.arange(i, min(i + size, self.n))
            yield self.take(rows, True, f"rows {i}:{rows[-1] + 1}")


def score_source(model, source: BatchSource) -> float:
    """``model.score`` of all the rows: at once in memory, else the row-weighted mean over chunks."""
    if not source.lazy:
        return float(model.score(source.data))
    total = 0.0
    for chunk in source.chunks():
        total += float(model.score(chunk)) * len(chunk)
    return total / source.n


# ---------------------------------------------------------------------------- the guard
def _not_finite(arrays: dict[str, np.ndarray]) -> list[str]:
    """Names of the gradients or weights holding NaN or Inf.

    ``np.isfinite(a).all()`` is one pass; it is as fast as a sum in float64 and twice as fast in
    float32 (NumPy's pairwise summation), so no sum is tried first.
    """
    return [name for name, a in arrays.items() if not np.isfinite(a).all()]


def check_step(loss: float, terms: dict[str, float], grads: dict[str, np.ndarray], epoch: int,
               batch: int) -> None:
    """Raise :class:`DivergenceError` if the loss or a gradient is not finite."""
    where = f"training diverged at epoch {epoch}, batch {batch}"
    keep = "the model keeps the weights from before this batch; try a smaller learning rate"
    if not math.isfinite(loss):
        bad = [k for k, v in terms.items() if not math.isfinite(v)] or ["loss"]
        values = ", ".join(f"{k} = {terms.get(k, loss)}" for k in bad)
        raise DivergenceError(f"{where}: the loss term(s) {values} are not finite; {keep}", epoch, batch, bad)
    bad = _not_finite(grads)
    if bad:
        raise DivergenceError(f"{where}: the gradient of {', '.join(bad)} holds NaN/Inf (loss "
                              f"{loss:.6g}); {keep}",
                              epoch, batch, bad)


# ---------------------------------------------------------------------------- the loop
def _overflow_error(params: dict[str, np.ndarray], start: dict[str, np.ndarray], epoch: int,
                    batch: int) -> DivergenceError | None:
    """None if every weight is finite; else put back the epoch's starting weights and say so.

    A finite but huge gradient times the learning rate can overflow a weight to Inf. The weights
    are not checked after every update (that would read them all once more per batch); a NaN/Inf
    weight makes the next loss NaN, and the guard then calls this, as it does once per epoch.
    """
    bad = _not_finite(params)
    if not bad:
        return None
    _put_params(params, start)
    return DivergenceError(
        f"training diverged at epoch {epoch}, before batch {batch}: an update made {', '.join(bad)} NaN/Inf; "
        f"the weights are put back to those at the start of epoch {epoch}; try a smaller learning rate",
        epoch, batch, bad)


def _copy_params(params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k: p.copy() for k, p in params.items()}


def _put_params(params: dict[str, np.ndarray], values: dict[str, np.ndarray]) -> None:
    for k, p in params.items():
        np.copyto(p, values[k])


def _resume(model, path, optimizer, random_state, batch_size, shuffle):
    """Load a checkpoint into ``model``; return the run's state."""
    meta, arrays = npae_io.read(path)
    if meta.get("class") != type(model).__name__:
        raise npae_io.ModelFileError(f"{path}: checkpoint of a {meta.get('class')}, cannot resume a "
                                     f"{type(model).__name__}")
    mine = npae_io.to_json(model.get_params())
    theirs = meta.get("params") or {}
    differ = sorted(k for k in set(mine) | set(theirs)
                    if k != "random_state" and mine.get(k) != theirs.get(k))
    if differ:
        raise npae_io.ModelFileError(f"{path}: checkpoint of a model built with other arguments ({differ}); "
                                     f"build the model as it was or use npae.load")
    tr = meta.get("training")
    if not isinstance(tr, dict) or "epoch" not in tr:
        raise npae_io.ModelFileError(f"{path}: not a training checkpoint (no training state); write one with "
                                     f"fit(..., checkpoint=path)")
    if tr["batch_size"] != batch_size or tr["shuffle"] != shuffle:
        raise ValueError(f"resume: batch_size={batch_size}, shuffle={shuffle} differ from the checkpoint's "
                         f"batch_size={tr['batch_size']}, shuffle={tr['shuffle']}; a resumed run must "
                         f"use the same")
    npae_io.restore(model, meta, arrays, path, optimizer=True)
    saved_opt = getattr(model, "optimizer_", None)
    if optimizer is not None and saved_opt is not None:
        if type(optimizer) is not type(saved_opt):
            raise ValueError(f"resume: optimizer is a {type(optimizer).__name__}, the checkpoint's is a "
                             f"{type(saved_opt).__name__}")
        optimizer.load_state_dict(saved_opt.state_dict())
        model.optimizer_ = optimizer
    rng = npae_io.rng_from_state(tr["rng"])
    if random_state is None:
        model.rng_ = rng
    best = {k[len("best/"):]: v for k, v in arrays.items() if k.startswith("best/")} or None
    return tr, rng, best


def fit_model(model, X, epochs: int = 10, batch_size: int = 128, optimizer: Optimizer | None = None,
              shuffle: bool = True, random_state=None, validation_data=None, verbose: int | bool = False,
              patience: int | None = None, min_delta: float = 0.0, restore_best: bool = True, schedule=None,
              checkpoint: str | os.PathLike | None = None, every: int = 1,
              resume: str | os.PathLike | None = None):
    """The loop of :meth:`BaseAutoencoder.fit` (its docstring describes the arguments)."""
    # 1. arguments
    epochs = check_int(epochs, "epochs", 0)
    batch_size = check_int(batch_size, "batch_size", 1)
    every = check_int(every, "every", 1)
    if patience is not None:
        patience = check_int(patience, "patience", 1)
    min_delta = check_float(min_delta, "min_delta", 0.0)
    if not isinstance(verbose, (bool, int)) or verbose not in (0, 1, 2):
        raise ValueError(f"verbose must be False/0, True/1 (bar and lines) or 2 (lines only), got "
                         f"{verbose!r}")
    if not isinstance(shuffle, (bool, np.bool_)):
        raise TypeError(f"shuffle must be a bool, got {type(shuffle).__name__}")
    for arg, name in ((checkpoint, "checkpoint"), (resume, "resume")):
        if arg is not None and not isinstance(arg, (str, os.PathLike)):
            raise TypeError(f"{name} must be a path (str or os.PathLike), got {type(arg).__name__}")
    schedule = get_schedule(schedule)

    def check(A, name):  # the model's own checks: shape, dtype, finite, and the loss's range (BCE targets)
        return model._check_targets(model._check_X(A, name), name)

    data = BatchSource(X, "X", check)
    val = None if validation_data is None else BatchSource(validation_data, "validation_data", check)
    if optimizer is not None and not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer must be an npae.optim.Optimizer, got {type(optimizer).__name__}")
    # without random_state the run draws from model.rng_ itself (so it advances; _resume puts the
    # checkpoint's generator there), else from its own generator, leaving model.rng_ untouched
    rng = model.rng_ if random_state is None else check_random_state(random_state)

    # 2. a fresh run, or the state of an interrupted one
    start_epoch, best_value, best_epoch, wait, best_weights, stopped = 0, math.inf, 0, 0, None, False
    if resume is not None:
        tr, rng, best_weights = _resume(model, resume, optimizer, random_state, batch_size, bool(shuffle))
        optimizer = model.optimizer_
        start_epoch, base_lr, stopped = int(tr["epoch"]), float(tr["base_lr"]), bool(tr.get("stopped", False))
        best_value, best_epoch, wait = float(tr["best_value"]), int(tr["best_epoch"]), int(tr["wait"])
    else:
        optimizer = optimizer or getattr(model, "optimizer_", None) or Adam(lr=1e-3)
        base_lr = optimizer.lr
    model.optimizer_ = optimizer
    params = model.params
    history = model.history_
    n, n_batches = len(data), -(-len(data) // batch_size)
    monitor = "val_loss" if val is not None else "loss"

    def save_checkpoint(done: int) -> None:
        state = {"epoch": done, "epochs": epochs, "batch_size": batch_size, "shuffle": bool(shuffle),
                 "base_lr": base_lr, "rng": npae_io.rng_state(rng), "monitor": monitor,
                 "best_value": best_value, "best_epoch": best_epoch, "wait": wait, "stopped": stopped,
                 "schedule": repr(schedule)}
        extra = {f"best/{k}": v for k, v in best_weights.items()} if best_weights else None
        npae_io.save(model, checkpoint, training=state, extra_arrays=extra)

    # 3. the epochs
    epoch = start_epoch
    while epoch < epochs and not stopped:
        tic = time.perf_counter()
        if schedule is not None:
            optimizer.lr = float(schedule(epoch, base_lr, epochs))
        order = rng.permutation(n) if shuffle else np.arange(n)
        bar = ProgressBar(n_batches, f"epoch {epoch + 1}/{epochs} ") if verbose == 1 else None
        sums: dict[str, float] = {}
        seen = 0
        epoch_start_weights = _copy_params(params)
        try:
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                for b in range(n_batches):
                    rows = np.sort(order[b * batch_size:(b + 1) * batch_size])
                    xb = data.take(rows, not shuffle, f"(batch {b + 1}, rows {rows[0]}..{rows[-1]})")
                    try:
                        loss, terms, grads = model.loss_and_grads(xb, rng)
                    except NonFiniteError as exc:  # the batch was valid: a NaN/Inf made inside the model
                        inside = DivergenceError(
                            f"training diverged at epoch {epoch + 1}, batch {b + 1}: a NaN/Inf appeared "
                            f"inside the model ({exc}); the model keeps the weights from before this batch; "
                            f"try a smaller learning rate", epoch + 1, b + 1, ["forward"])
                        overflow = _overflow_error(params, epoch_start_weights, epoch + 1, b + 1)
                        raise (overflow or inside) from exc
                    try:
                        check_step(loss, terms, grads, epoch + 1, b + 1)
                    except DivergenceError as exc:
                        overflow = _overflow_error(params, epoch_start_weights, epoch + 1, b + 1)
                        raise (overflow or exc) from None
                    optimizer.step(params, grads)
                    m = len(xb)
                    seen += m
                    for k, v in terms.items():
                        sums[k] = sums.get(k, 0.0) + float(v) * m
                    sums["loss"] = sums.get("loss", 0.0) + loss * m
                    if bar is not None:
                        bar.update(b + 1, seen, sums["loss"] / seen)
                # the epoch's last update, which no later loss has checked
                error = _overflow_error(params, epoch_start_weights, epoch + 1, n_batches + 1)
                if error is not None:
                    raise error
        finally:
            if bar is not None:
                bar.close()
        elapsed = time.perf_counter() - tic
        record = {"loss": sums.pop("loss", 0.0) / n, **{k: v / n for k, v in sums.items()}}
        if val is not None:
            record["val_loss"] = score_source(model, val)
        record["lr"] = float(optimizer.lr)
        record["time"] = elapsed
        for k, v in record.items():
            history.setdefault(k, []).append(v)
        epoch += 1

        # 4. early stopping
        value = record[monitor]
        if value < best_value - min_delta:
            best_value, best_epoch, wait = value, epoch, 0
            if patience is not None:
                best_weights = _copy_params(params)
        else:
            wait += 1
            stopped = patience is not None and wait >= patience
        if verbose:
            shown = "  ".join(f"{k} {v:.5g}" for k, v in record.items() if k not in ("time", "lr"))
            note = f"  (stopping: no improvement of {monitor} for {wait} epochs)" if stopped else ""
            print(f"epoch {epoch}/{epochs}  {shown}  lr {record['lr']:.3g}  {elapsed:.1f}s "
                  f"({n / max(elapsed, 1e-9):,.0f} samples/s){note}", flush=True)
        if checkpoint is not None and (epoch % every == 0 or epoch == epochs or stopped):
            save_checkpoint(epoch)

    # 5. the best weights back
    if patience is not None:
        model.best_epoch_ = best_epoch
        model.stopped_epoch_ = epoch if stopped else None
        if restore_best and best_weights is not None:
            _put_params(params, best_weights)
            if verbose:
                print(f"restored the weights of epoch {best_epoch} ({monitor} {best_value:.5g})", flush=True)
    return model


__all__ = ["BatchSource", "DivergenceError", "check_step", "fit_model",
           "score_source"]
