"""The training loop behind ``model.fit``: one epoch, and the helpers around it.

:func:`train_epoch` is the loop a learner reads: for each mini-batch, the model's step
(``loss, terms, grads = model.loss_and_grads(batch, rng)``: forward, loss, backward; a classifier's
batch is the rows and their labels, ``loss_and_grads(X_b, y_b, rng)``), the
divergence guard, and the optimiser's update. :func:`fit_model` runs it for every epoch and
adds, each in a small named helper:

1. the learning rate of the epoch, from the schedule (``npae.schedules``), always computed from
   the optimiser's *initial* rate, so a second ``fit`` starts the schedule again (PyTorch keeps
   ``initial_lr`` the same way);
2. the *divergence guard* (:func:`check_step`, :func:`weights_error`): a NaN or Inf loss or
   gradient stops training with a :class:`DivergenceError` naming the term or parameter, the
   epoch and the batch, and the model keeps the weights from before that batch; an update that
   overflows a weight puts back the epoch's starting weights;
3. the epoch's means in ``model.history_``, the validation score, a printed line (and a
   :class:`~npae.progress.ProgressBar` with ``verbose=1``);
4. early stopping (:class:`EarlyStopping`): stop when the monitored loss has not improved for
   ``patience`` epochs and put back the best weights;
5. checkpoints: every ``every`` epochs, the model file of ``npae.io`` plus the run's state
   (epochs done, the generator's state, the base learning rate, early-stopping state), from
   which ``fit(..., resume=path)`` continues bit for bit.

See ``docs/11-training-and-saving.md``.
"""

from __future__ import annotations

import math
import numbers
import os
import time
from typing import Any

import numpy as np

from . import io as npae_io
from ._validation import (
    check_bool,
    check_float,
    check_int,
    check_mapped_file,
    check_output_file,
    check_random_state,
)
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
        check_mapped_file(self.data, self.name)  # a memmap of a truncated file would crash Python
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
    """Names of the gradients or weights holding NaN or Inf (``np.isfinite(a).all()``: one pass each)."""
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


def weights_error(params: dict[str, np.ndarray], start: dict[str, np.ndarray], epoch: int,
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


def model_state(model) -> dict[str, np.ndarray]:
    """The live arrays that make a model what it is: its ``params`` and its ``buffers`` (as
    ``"buffer/<name>"``). Early stopping copies them as the best state and puts them back together,
    so the running statistics always belong to the weights beside them."""
    return {**model.params, **{f"buffer/{k}": v for k, v in getattr(model, "buffers", {}).items()}}


# ---------------------------------------------------------------------------- one epoch
def train_epoch(model, data: BatchSource, optimizer: Optimizer, rng: np.random.Generator, batch_size: int,
                shuffle: bool, epoch: int, bar: ProgressBar | None = None,
                labels: np.ndarray | None = None, drop_last: bool = False) -> dict[str, float]:
    """One pass over the data in mini-batches; returns the epoch's mean loss and terms.

    ``epoch`` counts from 1 (for the messages). The model's weights change in place. With
    ``labels`` (N,), each batch's labels go to the step with its rows: ``loss_and_grads(X_b, y_b, rng)``.
    With ``drop_last`` a last batch shorter than ``batch_size`` is skipped (its rows, different
    ones each epoch when shuffled, wait for the next epoch) and the means are over the rows used.
    """
    params = model.params
    n = len(data)
    order = rng.permutation(n) if shuffle else np.arange(n)  # one permutation per epoch
    start = _copy_params(params)  # put back if an update overflows
    sums: dict[str, float] = {"loss": 0.0}
    n_batches = n // batch_size if drop_last else -(-n // batch_size)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # the guard reports NaN/Inf
        for b in range(n_batches):
            rows = np.sort(order[b * batch_size:(b + 1) * batch_size])  # sorted: a file is read forwards
            xb = data.take(rows, not shuffle, f"(batch {b + 1}, rows {rows[0]}..{rows[-1]})")
            batch = (xb,) if labels is None else (xb, labels[rows])  # labelled data: the rows' labels too
            # 1. the step: forward, loss, backward
            loss, terms, grads = model.loss_and_grads(*batch, rng)
            # 2. the guard: a NaN/Inf loss or gradient stops here, before the update
            try:
                check_step(loss, terms, grads, epoch, b + 1)
            except DivergenceError as exc:
                raise (weights_error(params, start, epoch, b + 1) or exc) from None
            # 3. the update
            optimizer.step(params, grads)
            for k, v in {"loss": loss, **terms}.items():
                sums[k] = sums.get(k, 0.0) + float(v) * len(xb)
            if bar is not None:
                seen = min((b + 1) * batch_size, n)  # only the last batch can be short
                bar.update(b + 1, seen, sums["loss"] / seen)
        error = weights_error(params, start, epoch, n_batches + 1)  # the last update, unchecked so far
        if error is not None:
            raise error
    used = min(n_batches * batch_size, n)  # n, or fewer rows with drop_last
    return {k: v / used for k, v in sums.items()}


# ---------------------------------------------------------------------------- early stopping
class EarlyStopping:
    """Watch the monitored loss: the best value and epoch, the epochs without improvement, the best weights.

    ``update(value, epoch, params)`` after each epoch; ``stopped`` becomes True when ``value`` has
    not improved by more than ``min_delta`` for ``patience`` epochs (never with ``patience=None``,
    which still records the best epoch). The state is saved in checkpoints (:meth:`state`).
    """

    def __init__(self, patience: int | None, min_delta: float, best_value: float = math.inf,
                 best_epoch: int = 0, wait: int = 0, stopped: bool = False,
                 best_weights: dict[str, np.ndarray] | None = None) -> None:
        self.patience, self.min_delta = patience, min_delta
        self.best_value, self.best_epoch, self.wait, self.stopped = best_value, best_epoch, wait, stopped
        self.best_weights = best_weights

    def update(self, value: float, epoch: int, params: dict[str, np.ndarray]) -> None:
        if value < self.best_value - self.min_delta:
            self.best_value, self.best_epoch, self.wait = value, epoch, 0
            if self.patience is not None:
                self.best_weights = _copy_params(params)
        else:
            self.wait += 1
            self.stopped = self.patience is not None and self.wait >= self.patience

    def state(self) -> dict:
        return {"best_value": self.best_value, "best_epoch": self.best_epoch, "wait": self.wait,
                "stopped": self.stopped}


# ---------------------------------------------------------------------------- checkpoints
def check_same_drop_last(tr: dict, drop_last: bool) -> None:
    """A resumed run must batch as the checkpointed one did (files without the entry did not drop)."""
    if bool(tr.get("drop_last", False)) != drop_last:
        raise ValueError(f"resume: drop_last={drop_last} differs from the checkpoint's "
                         f"drop_last={bool(tr.get('drop_last', False))}; a resumed run must use the same")


def _resume(model, path, optimizer, random_state, batch_size, shuffle, drop_last=False):
    """Load a checkpoint into ``model``; return the run's state, its generator and its best weights."""
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
    _check_training_state(path, tr, len((meta.get("history") or {}).get("loss") or []))
    check_same_drop_last(tr, drop_last)
    if tr["batch_size"] != batch_size or tr["shuffle"] != shuffle:
        raise ValueError(f"resume: batch_size={batch_size}, shuffle={shuffle} differ from the checkpoint's "
                         f"batch_size={tr['batch_size']}, shuffle={tr['shuffle']}; a resumed run must "
                         f"use the same")
    with npae_io.model_file_errors(path):
        npae_io.restore(model, meta, arrays, path, optimizer=True)
        rng = npae_io.rng_from_state(tr["rng"])
    saved_opt = getattr(model, "optimizer_", None)
    if optimizer is not None and saved_opt is not None:
        if type(optimizer) is not type(saved_opt):
            raise ValueError(f"resume: optimizer is a {type(optimizer).__name__}, the checkpoint's is a "
                             f"{type(saved_opt).__name__}")
        optimizer.load_state_dict(saved_opt.state_dict())
        model.optimizer_ = optimizer
    if random_state is None:
        model.rng_ = rng
    best = {k[len("best/"):]: v for k, v in arrays.items() if k.startswith("best/")} or None
    return tr, rng, best


def _check_training_state(path, tr: dict, epochs_in_history: int) -> None:
    """A checkpoint's training state has the entries and types ``_save_checkpoint`` writes, and its
    epoch is one the history records (0 to ``epochs_in_history``): a crafted epoch of 10**9 or -5 is
    refused rather than silently ending or repeating the run."""
    def whole(key: str, low: int) -> bool:
        v = tr.get(key)
        return isinstance(v, int) and not isinstance(v, bool) and v >= low

    def number(key: str) -> bool:
        v = tr.get(key)
        return isinstance(v, (int, float)) and not isinstance(v, bool) and not math.isnan(v)

    bad = [k for k, ok in (("epoch", whole("epoch", 0)), ("epochs", whole("epochs", 0)),
                           ("batch_size", whole("batch_size", 1)), ("best_epoch", whole("best_epoch", 0)),
                           ("wait", whole("wait", 0)), ("shuffle", isinstance(tr.get("shuffle"), bool)),
                           ("stopped", isinstance(tr.get("stopped", False), bool)),
                           ("base_lr", number("base_lr") and 0 < tr["base_lr"] < math.inf),
                           ("best_value", number("best_value")), ("rng", isinstance(tr.get("rng"), dict)))
           if not ok]
    if bad:
        values = ", ".join(f"{k}={tr.get(k)!r:.40}" for k in bad)
        raise npae_io.ModelFileError(f"{path}: corrupted checkpoint: training entries {bad} missing or of "
                                     f"the wrong type ({values})")
    if not tr["epoch"] <= min(tr["epochs"], epochs_in_history):
        raise npae_io.ModelFileError(f"{path}: corrupted checkpoint: epoch {tr['epoch']} of a run of "
                                     f"{tr['epochs']} with {epochs_in_history} epochs in its history")


def _save_checkpoint(model, path, epoch: int, epochs: int, batch_size: int, shuffle: bool, base_lr: float,
                     rng: np.random.Generator, monitor: str, stopping: EarlyStopping, schedule,
                     drop_last: bool = False) -> None:
    state = {"epoch": epoch, "epochs": epochs, "batch_size": batch_size, "shuffle": bool(shuffle),
             "base_lr": base_lr, "rng": npae_io.rng_state(rng), "monitor": monitor, **stopping.state(),
             "schedule": repr(schedule), "drop_last": bool(drop_last)}
    best = stopping.best_weights
    npae_io.save(model, path, training=state, extra_arrays={f"best/{k}": v for k, v in best.items()} if best
                 else None)


# ---------------------------------------------------------------------------- the loop
def _scheduled_lr(schedule, epoch: int, base_lr: float, epochs: int) -> float:
    """``schedule(epoch, base_lr, epochs)``, refused unless a finite number > 0 (a user's schedule may
    return anything; a negative rate would climb the loss without a word)."""
    lr = schedule(epoch, base_lr, epochs)
    number = isinstance(lr, numbers.Real) and not isinstance(lr, (bool, np.bool_))
    if not number or not math.isfinite(lr) or lr <= 0:
        raise ValueError(f"schedule {schedule!r} returned the learning rate {lr!r} for epoch {epoch + 1} "
                         f"(base_lr {base_lr:g}); a learning rate must be a finite number > 0")
    return float(lr)


def _check_options(epochs, batch_size, every, patience, min_delta, verbose, shuffle, checkpoint, resume,
                   optimizer) -> tuple[int, int, int, int | None, float]:
    """The options of :func:`fit_model`, checked before any data is read."""
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
    if checkpoint is not None:  # a folder, a device or an unwritable place is refused before training
        check_output_file(checkpoint, "checkpoint", probe=True)
    if optimizer is not None and not isinstance(optimizer, Optimizer):
        raise TypeError(f"optimizer must be an npae.optim.Optimizer, got {type(optimizer).__name__}")
    return epochs, batch_size, every, patience, min_delta


def _check_labels(model, y, n: int, validation_data) -> np.ndarray:
    """``y`` checked by the model that learns from labels (``model.check_labels``), before any training."""
    if not hasattr(model, "check_labels"):
        raise TypeError(f"y: a {type(model).__name__} learns without labels; fit it with X only")
    if validation_data is not None:
        raise ValueError("validation_data is not supported with labels y: score held-out data after fit "
                         "(model.score(X, y))")
    return model.check_labels(y, n)


def fit_model(model, X, y=None, epochs: int = 10, batch_size: int = 128, optimizer: Optimizer | None = None,
              shuffle: bool = True, random_state=None, validation_data=None, verbose: int | bool = False,
              patience: int | None = None, min_delta: float = 0.0, restore_best: bool = True, schedule=None,
              checkpoint: str | os.PathLike | None = None, every: int = 1,
              resume: str | os.PathLike | None = None, drop_last: bool = False):
    """Train ``model`` with mini-batches (``model.fit(X, **options)`` calls this); return ``model``.

    Parameters
    ----------
    X : array_like, shape (N, n_features)
        An array, or a ``np.memmap`` / any array-like with ``__len__`` and ``__getitem__``
        over index arrays (and slices), read one batch at a time (data larger than memory).
    y : array_like of int, shape (N,), optional
        Class labels, for a model that learns from them (``Classifier.fit(X, y)``): checked once
        by ``model.check_labels``, held in memory, and each batch's labels are passed to its
        step, ``model.loss_and_grads(X_b, y_b, rng)``. Not supported with ``validation_data``.
    epochs : int
        Passes over the data (0 is allowed and does nothing). With ``resume``, the total
        of the run: training continues from the checkpoint's epoch up to ``epochs``.
    batch_size : int
    optimizer : Optimizer, optional
        Default ``Adam(lr=1e-3)``. Its state persists across calls to ``fit``
        (``model.optimizer_``) and is saved with the model.
    shuffle : bool
        Reshuffle the examples every epoch.
    random_state : int, Generator or None
        Overrides the model's generator for shuffling and noise in this call.
    validation_data : array_like, optional
        Scored with ``model.score`` after every epoch (``history_["val_loss"]``).
    verbose : bool or {0, 1, 2}
        1 (True): a progress bar on stderr (batches, samples/s, running loss, time left) and
        one line per epoch on stdout with every loss term; 2: the lines only.
    patience : int, optional
        Early stopping: stop when ``val_loss`` (``loss`` without validation data) has not
        improved by more than ``min_delta`` for ``patience`` epochs; with ``restore_best``
        the best epoch's weights are put back (``best_epoch_``, ``stopped_epoch_``).
    schedule : callable, "step" or "cosine", optional
        ``lr = schedule(epoch, initial_lr, epochs)`` set at the start of each epoch
        (:mod:`npae.schedules`), from the optimiser's initial rate (``optimizer.initial_lr``).
    checkpoint : path, optional
        Write a checkpoint every ``every`` epochs (and at the end): the model file plus the
        run's state (optimiser, random stream, epochs done, early-stopping state).
    resume : path, optional
        Continue the run saved in this checkpoint; the result is bit-identical to a run
        that was never interrupted.
    drop_last : bool
        Skip a last batch shorter than ``batch_size`` in every epoch (a batch of one row would
        drag a BatchNorm's running variance towards 0, and a training-mode BatchNorm refuses it).

    ``model.history_`` gets per-epoch lists: ``loss`` and each term (means over batches),
    ``val_loss`` with validation data, ``lr`` and ``time`` (seconds). A model that defines
    ``start_epoch(epoch, epochs) -> dict`` (``epoch`` from 0) has it called before each epoch;
    the settings it returns are recorded too (the VAE's KL warm-up: ``beta``). A NaN or Inf loss or
    gradient raises :class:`DivergenceError` naming the term, epoch and batch; the model keeps
    the weights from before that batch.
    """
    # 1. the options and the data, checked once (the step trusts them)
    epochs, batch_size, every, patience, min_delta = _check_options(
        epochs, batch_size, every, patience, min_delta, verbose, shuffle, checkpoint, resume, optimizer)
    restore_best = check_bool(restore_best, "restore_best")
    schedule = get_schedule(schedule)
    if not isinstance(drop_last, (bool, np.bool_)):
        raise TypeError(f"drop_last must be a bool, got {type(drop_last).__name__}")
    drop_last = bool(drop_last)
    data = BatchSource(X, "X", model.check_batch)
    if drop_last and len(data) < batch_size:
        raise ValueError(f"drop_last=True with batch_size={batch_size} > the {len(data)} rows of X leaves no "
                         f"batch to train on; use a smaller batch_size")
    labels = None if y is None else _check_labels(model, y, len(data), validation_data)
    val = None
    if validation_data is not None:
        val = BatchSource(validation_data, "validation_data", model.check_batch)
    # without random_state the run draws from model.rng_ itself (so it advances; _resume puts the
    # checkpoint's generator there), else from its own generator, leaving model.rng_ untouched
    rng = model.rng_ if random_state is None else check_random_state(random_state)
    monitor = "val_loss" if val is not None else "loss"

    # 2. a fresh run, or the state of an interrupted one
    if resume is not None:
        tr, rng, best_weights = _resume(model, resume, optimizer, random_state, batch_size, bool(shuffle),
                                        drop_last)
        optimizer, start_epoch, base_lr = model.optimizer_, int(tr["epoch"]), float(tr["base_lr"])
        stopping = EarlyStopping(patience, min_delta, float(tr["best_value"]), int(tr["best_epoch"]),
                                 int(tr["wait"]), bool(tr.get("stopped", False)), best_weights)
    else:
        optimizer = optimizer or getattr(model, "optimizer_", None) or Adam(lr=1e-3)
        start_epoch, base_lr = 0, optimizer.initial_lr
        stopping = EarlyStopping(patience, min_delta)
    model.optimizer_ = optimizer

    # 3. the epochs
    epoch = start_epoch
    while epoch < epochs and not stopping.stopped:
        tic = time.perf_counter()
        if schedule is not None:
            optimizer.lr = _scheduled_lr(schedule, epoch, base_lr, epochs)
        # a model with settings that change per epoch (a VAE's KL warm-up) sets them here
        settings = model.start_epoch(epoch, epochs) if hasattr(model, "start_epoch") else {}
        n_batches = len(data) // batch_size if drop_last else -(-len(data) // batch_size)
        bar = ProgressBar(n_batches, f"epoch {epoch + 1}/{epochs} ") if verbose == 1 else None
        try:
            record = train_epoch(model, data, optimizer, rng, batch_size, bool(shuffle), epoch + 1, bar,
                                 labels, drop_last)
        finally:
            if bar is not None:
                bar.close()
        elapsed = time.perf_counter() - tic
        if val is not None:
            record["val_loss"] = score_source(model, val)
        record.update(settings)
        record["lr"], record["time"] = float(optimizer.lr), elapsed
        for k, v in record.items():
            model.history_.setdefault(k, []).append(v)
        epoch += 1
        stopping.update(record[monitor], epoch, model_state(model))  # 4. early stopping
        if verbose:
            _print_epoch(record, epoch, epochs, len(data), monitor, stopping)
        if checkpoint is not None and (epoch % every == 0 or epoch == epochs or stopping.stopped):
            _save_checkpoint(model, checkpoint, epoch, epochs, batch_size, shuffle, base_lr, rng, monitor,
                             stopping, schedule, drop_last)

    # 5. the best weights back
    if patience is not None:
        model.best_epoch_ = stopping.best_epoch
        model.stopped_epoch_ = epoch if stopping.stopped else None
        if restore_best and stopping.best_weights is not None:
            _put_params(model_state(model), stopping.best_weights)
            if verbose:
                print(f"restored the weights of epoch {stopping.best_epoch} ({monitor} "
                      f"{stopping.best_value:.5g})", flush=True)
    return model


def _print_epoch(record: dict[str, float], epoch: int, epochs: int, n: int, monitor: str,
                 stopping: EarlyStopping) -> None:
    shown = "  ".join(f"{k} {v:.5g}" for k, v in record.items() if k not in ("time", "lr"))
    note = f"  (stopping: no improvement of {monitor} for {stopping.wait} epochs)" if stopping.stopped else ""
    print(f"epoch {epoch}/{epochs}  {shown}  lr {record['lr']:.3g}  {record['time']:.1f}s "
          f"({n / max(record['time'], 1e-9):,.0f} samples/s){note}", flush=True)


__all__ = ["BatchSource", "DivergenceError", "EarlyStopping", "check_step", "fit_model", "score_source",
           "train_epoch", "weights_error"]
