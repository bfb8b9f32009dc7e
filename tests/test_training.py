"""fit: history, progress output, early stopping, schedules, checkpoint/resume, the divergence guard,
streaming from memmaps and array-likes."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest

import npae
from npae.datasets import ScaledRows, open_idx
from npae.io import ModelFileError
from npae.models import Autoencoder
from npae.optim import SGD, Adam
from npae.progress import ProgressBar
from npae.schedules import CosineLR
from npae.training import DivergenceError

from idx_files import idx_bytes

try:
    from npae.models import DenoisingAutoencoder as NoisyModel  # draws noise from the run's generator
except ImportError:  # pragma: no cover
    NoisyModel = Autoencoder


def data(n=64, d=12, seed=0):
    """Rows in (0.1, 0.9) lying near a 3-dimensional surface (something an autoencoder can learn)."""
    rng = np.random.default_rng(seed)
    Z, A = rng.standard_normal((n, 3)), np.random.default_rng(100).standard_normal((3, d))
    return (0.5 + 0.4 * np.tanh(Z @ A / 2)).astype(np.float32)


def small(cls=Autoencoder, seed=0, **kw):
    return cls(sizes=(12, 6, 3), activation="tanh", random_state=seed, **kw)


def same_weights(a, b):
    return all(np.array_equal(a.params[k], b.params[k]) for k in a.params)


def test_history_has_every_figure_per_epoch_and_the_loss_falls():
    X = data(128)
    model = small().fit(X, epochs=8, batch_size=16, validation_data=X[:32], optimizer=Adam(lr=1e-2))
    h = model.history_
    assert set(h) == {"loss", "reconstruction", "val_loss", "lr", "time"}
    assert all(len(v) == 8 for v in h.values())
    assert h["loss"][-1] < 0.5 * h["loss"][0]
    np.testing.assert_allclose(h["loss"], h["reconstruction"], rtol=1e-12)  # no other term here
    assert h["val_loss"][-1] == pytest.approx(model.score(X[:32]), rel=1e-6)


def test_sparse_model_records_its_sparsity_term():
    model = npae.SparseAutoencoder(sizes=(12, 5), random_state=0)
    model.fit(data(), epochs=2, batch_size=16)
    assert {"sparsity", "weight_decay", "reconstruction", "loss"} <= set(model.history_)
    total = np.add(np.add(model.history_["reconstruction"], model.history_["sparsity"]),
                   model.history_["weight_decay"])
    np.testing.assert_allclose(model.history_["loss"], total, rtol=1e-6)


class Terminal(io.StringIO):
    """A captured stream that says it is a terminal."""

    def isatty(self):
        return True


def test_verbose_prints_a_progress_bar_on_a_terminal_and_one_line_per_epoch(capsys, monkeypatch):
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    small().fit(data(), epochs=2, batch_size=16, validation_data=data(16, seed=1), verbose=True)
    out = capsys.readouterr().out
    lines = out.strip().splitlines()
    assert [line.split()[:2] for line in lines] == [["epoch", "1/2"], ["epoch", "2/2"]]
    assert all("reconstruction" in line and "val_loss" in line and "samples/s" in line for line in lines)
    err = terminal.getvalue()
    assert "epoch 1/2 [" in err and "4/4 batches" in err and "samples/s" in err and "left" in err
    assert err.endswith("\r") and "\n" not in err  # redrawn in place, then erased
    small().fit(data(), epochs=1, verbose=2)
    assert capsys.readouterr().out.startswith("epoch 1/1") and terminal.getvalue() == err  # no bar


def test_progress_bar_render_and_log_mode():
    f = Terminal()
    bar = ProgressBar(10, "epoch 1/3 ", file=f, width=10, min_interval=0.0)
    line = bar.render(done=4, samples=512, loss=0.25, elapsed=2.0)
    assert line == "epoch 1/3 [====>     ] 4/10 batches  256 samples/s  loss 0.25  0:03 left"
    bar.update(10, 1280, 0.125)
    bar.close()
    assert "10/10 batches" in f.getvalue() and f.getvalue().endswith("\r")
    log = io.StringIO()  # not a terminal: plain lines, none for a short epoch
    bar = ProgressBar(10, file=log)
    bar.update(10, 1280, 0.125)
    bar.close()
    assert log.getvalue() == ""
    bar = ProgressBar(10, file=log, min_interval=0.0)
    bar.update(3, 384, 0.5)
    value = log.getvalue()
    assert "] 3/10 batches" in value and value.endswith("left\n") and "\r" not in value


class ScriptedValidation(Autoencoder):
    """An Autoencoder whose validation score follows a script (to test early stopping exactly)."""

    script = [5.0, 4.0, 3.0, 3.5, 3.2, 3.1, 2.0, 1.0]

    def score(self, X):
        self.calls = getattr(self, "calls", 0) + 1
        return self.script[self.calls - 1]


def test_early_stopping_stops_after_patience_and_restores_the_best_weights():
    X = data()
    model = ScriptedValidation(sizes=(12, 6, 3), random_state=0)
    model.fit(X, epochs=8, batch_size=16, validation_data=X, patience=3)
    assert len(model.history_["loss"]) == 6  # best at epoch 3, then 3 epochs without improvement
    assert model.best_epoch_ == 3 and model.stopped_epoch_ == 6
    reference = ScriptedValidation(sizes=(12, 6, 3), random_state=0)
    reference.fit(X, epochs=3, batch_size=16, validation_data=X)
    assert same_weights(model, reference)
    # min_delta: an improvement smaller than it does not count
    model = ScriptedValidation(sizes=(12, 6, 3), random_state=0)
    model.script = [5.0, 4.95, 4.9, 4.85]
    model.fit(X, epochs=4, validation_data=X, patience=2, min_delta=0.1)
    assert model.stopped_epoch_ == 3 and model.best_epoch_ == 1


def test_schedule_sets_the_learning_rate_of_each_epoch():
    opt = Adam(lr=0.01)
    model = small().fit(data(), epochs=4, optimizer=opt, schedule="cosine")
    expected = [0.005 * (1 + math.cos(math.pi * e / 4)) for e in range(4)]
    np.testing.assert_allclose(model.history_["lr"], expected, rtol=1e-12)
    model = small().fit(data(), epochs=3, optimizer=SGD(lr=0.1), schedule=lambda e, lr0, n: lr0 / (e + 1))
    np.testing.assert_allclose(model.history_["lr"], [0.1, 0.05, 0.1 / 3])


def test_a_schedule_restarts_from_the_initial_rate_on_every_fit(tmp_path):
    """StepLR(1, 0.5) over two fits of two epochs: 0.01, 0.005, then 0.01, 0.005 again (not 0.005, 0.0025)."""
    opt = Adam(lr=0.01)
    model = small()
    model.fit(data(), epochs=2, optimizer=opt, schedule=npae.schedules.StepLR(1, 0.5))
    model.fit(data(), epochs=2, schedule=npae.schedules.StepLR(1, 0.5))  # the same optimiser, kept
    np.testing.assert_allclose(model.history_["lr"], [0.01, 0.005, 0.01, 0.005], rtol=1e-12)
    model.save(tmp_path / "m.npz")  # the initial rate survives a save, as the decayed one does
    again = npae.load(tmp_path / "m.npz")
    assert again.optimizer_.initial_lr == 0.01 and again.optimizer_.lr == 0.005


def test_fit_trains_in_training_mode_and_keeps_the_mode(tmp_path):
    """fit switches the networks to training mode (dropout on) and puts back the mode it found;
    encode, decode, reconstruct and score run in eval mode without changing it."""
    seen = []

    class Recording(npae.layers.Identity):
        def forward(self, x):
            seen.append(self.training)
            return super().forward(x)

    model = small()
    model.encoder.layers.append(Recording())
    model.eval()
    model.fit(data(), epochs=1, batch_size=16)
    assert all(seen) and seen  # trained in training mode although the model was in eval mode
    assert not model.encoder.training and not model.encoder.layers[-1].training  # and it is put back
    seen.clear()
    model.train()
    model.encode(data(8))
    model.reconstruct(data(8))
    model.score(data(8))
    assert seen and not any(seen)  # inference in eval mode
    assert model.encoder.training and model.decoder.training  # the mode it was in
    model.eval()
    model.encode(data(8))
    assert not model.encoder.training  # one encode does not flip an eval model back to training


class Interrupting:
    """An array-like that raises KeyboardInterrupt on its ``fail_at``-th batch read (a killed run)."""

    def __init__(self, X, fail_at=None):
        self.X, self.fail_at, self.reads = X, fail_at, 0

    def __len__(self):
        return len(self.X)

    def __getitem__(self, key):
        if isinstance(key, np.ndarray):
            self.reads += 1
            if self.reads == self.fail_at:
                raise KeyboardInterrupt
        return self.X[key]


def test_interrupted_and_resumed_run_ends_bit_identical_to_an_uninterrupted_one(tmp_path):
    X, X_val = data(48), data(16, seed=5)
    kw = dict(epochs=5, batch_size=8, validation_data=X_val, schedule=CosineLR(), patience=4)

    whole = small(NoisyModel, seed=7)
    whole.fit(Interrupting(X), optimizer=Adam(lr=3e-3), checkpoint=tmp_path / "a.npz", **kw)

    killed = small(NoisyModel, seed=7)
    with pytest.raises(KeyboardInterrupt):  # dies in epoch 3 (6 batches per epoch)
        killed.fit(Interrupting(X, fail_at=15), optimizer=Adam(lr=3e-3), checkpoint=tmp_path / "b.npz",
                   every=1, **kw)
    resumed = small(NoisyModel, seed=99)  # other initial weights and stream: all must come from the file
    resumed.fit(Interrupting(X), resume=tmp_path / "b.npz", checkpoint=tmp_path / "b.npz", **kw)

    assert same_weights(resumed, whole)
    assert resumed.optimizer_.t == whole.optimizer_.t
    for k in ("loss", "val_loss", "lr"):
        assert resumed.history_[k] == whole.history_[k]
    assert resumed.rng_.random() == whole.rng_.random()  # the random stream continues identically


def test_checkpoint_every_k_epochs_and_resume_checks(tmp_path):
    X = data()
    model = small()
    model.fit(X, epochs=3, batch_size=16, checkpoint=tmp_path / "c.npz", every=2)
    meta, _ = npae.io.read(tmp_path / "c.npz")
    assert meta["training"]["epoch"] == 3  # written at epoch 2 and at the end
    loaded = npae.load(tmp_path / "c.npz")  # a checkpoint is also a model file
    assert same_weights(loaded, model)
    with pytest.raises(ValueError, match="batch_size=8.*differ"):
        small().fit(X, epochs=4, batch_size=8, resume=tmp_path / "c.npz")
    with pytest.raises(ModelFileError, match="other arguments"):
        Autoencoder(sizes=(12, 5), random_state=0).fit(X, epochs=4, batch_size=16, resume=tmp_path / "c.npz")
    model.save(tmp_path / "plain.npz")
    with pytest.raises(ModelFileError, match="not a training checkpoint"):
        small().fit(X, epochs=4, batch_size=16, resume=tmp_path / "plain.npz")
    with pytest.raises(ModelFileError, match="no such model file"):
        small().fit(X, resume=tmp_path / "nope.npz")


class BadAt(Autoencoder):
    """Returns a NaN loss term (or a NaN gradient) on the ``bad_call``-th batch."""

    bad_call, what = 7, "term"

    def _forward_backward(self, X, rng):
        self.n_calls = getattr(self, "n_calls", 0) + 1
        terms = super()._forward_backward(X, rng)
        if self.n_calls == self.bad_call:
            self.before = {k: p.copy() for k, p in self.params.items()}
            if self.what == "term":
                terms["reconstruction"] = float("nan")
            else:
                self.decoder.layers[0].grads["W"][0, 0] = np.inf
        return terms


@pytest.mark.parametrize("what", ["term", "grad"])
def test_divergence_guard_names_term_epoch_batch_and_keeps_last_good_weights(what):
    model = BadAt(sizes=(12, 6, 3), random_state=0)
    model.what = what
    with pytest.raises(DivergenceError) as info:
        model.fit(data(64), epochs=3, batch_size=16)  # 4 batches per epoch: call 7 = epoch 2, batch 3
    msg = str(info.value)
    assert "epoch 2, batch 3" in msg and (info.value.epoch, info.value.batch) == (2, 3)
    assert ("reconstruction = nan" in msg) if what == "term" else ("decoder.0.W" in msg)
    assert all(np.array_equal(model.params[k], model.before[k]) for k in model.params)
    assert len(model.history_["loss"]) == 1  # the completed epoch is kept


def test_a_real_divergence_is_caught_not_warned_about():
    X = data(64) * 10
    model = Autoencoder(sizes=(12, 6), activation="identity", output_activation="identity", random_state=0)
    with pytest.raises(DivergenceError, match="training diverged at epoch"):
        model.fit(X, epochs=50, batch_size=16, optimizer=SGD(lr=50.0))
    assert all(np.isfinite(p).all() for p in model.params.values())


def test_memmap_and_array_like_give_the_same_training_as_an_array(tmp_path):
    X = data(40)
    np.save(tmp_path / "X.npy", X)
    mm = np.load(tmp_path / "X.npy", mmap_mode="r")
    assert isinstance(mm, np.memmap)

    class Rows:  # only __len__ and __getitem__
        def __len__(self):
            return len(X)

        def __getitem__(self, key):
            return X[key].tolist()

    runs = [small(seed=3).fit(source, epochs=2, batch_size=8, validation_data=source)
            for source in (X, mm, Rows())]
    assert same_weights(runs[0], runs[1]) and same_weights(runs[0], runs[2])
    assert runs[0].history_["val_loss"] == pytest.approx(runs[1].history_["val_loss"], rel=1e-6)
    unshuffled = [small(seed=3).fit(source, epochs=1, batch_size=16, shuffle=False) for source in (X, Rows())]
    assert same_weights(*unshuffled)


def test_streaming_an_idx_file_through_scaled_rows(tmp_path):
    images = np.random.default_rng(0).integers(0, 256, size=(30, 4, 3), dtype=np.uint8)
    (tmp_path / "imgs-idx3-ubyte").write_bytes(idx_bytes(images))
    view = ScaledRows(open_idx(tmp_path / "imgs-idx3-ubyte"))
    np.testing.assert_allclose(view[np.array([2, 5])], images[[2, 5]].reshape(2, 12) / 255, rtol=1e-6)
    a = small(seed=1).fit(view, epochs=2, batch_size=8)
    rows = images.reshape(30, 12).astype(np.float32) * np.float32(1 / 255)  # (N, H*W)
    b = small(seed=1).fit(rows, epochs=2, batch_size=8)
    assert same_weights(a, b)


def test_bad_batches_and_bad_arguments_are_named():
    X = data(32)
    bad = X.copy()
    bad[20, 3] = np.nan
    mm_like = Interrupting(bad)  # lazy: checked batch by batch
    with pytest.raises(ValueError, match=r"X \(batch \d, rows .*finite"):
        small().fit(mm_like, epochs=1, batch_size=8)
    with pytest.raises(ValueError, match="X must be finite"):
        small().fit(bad, epochs=1)
    with pytest.raises(ValueError, match=r"X\[0:1\] must have 12 features"):
        small().fit(Interrupting(data(8, d=5)), epochs=1)
    with pytest.raises(ValueError, match="at least 1 sample"):
        small().fit(Interrupting(X[:0]), epochs=1)
    for kw, exc, pattern in [({"batch_size": 0}, ValueError, "batch_size must be >= 1, got 0"),
                             ({"epochs": -1}, ValueError, "epochs must be >= 0, got -1"),
                             ({"epochs": 2.5}, TypeError, "epochs must be an int"),
                             ({"patience": 0}, ValueError, "patience must be >= 1"),
                             ({"every": 0}, ValueError, "every must be >= 1"),
                             ({"min_delta": -1.0}, ValueError, "min_delta"),
                             ({"verbose": 3}, ValueError, "verbose must be"),
                             ({"shuffle": "yes"}, TypeError, "shuffle must be a bool"),
                             ({"optimizer": "adam"}, TypeError, "optimizer must be an npae.optim.Optimizer"),
                             ({"schedule": "linear"}, ValueError, "schedule must be"),
                             ({"checkpoint": 5}, TypeError, "checkpoint must be a path"),
                             ({"validation_data": X[:, :5]}, ValueError, "validation_data must have 12"),
                             ({"random_state": "x"}, TypeError, "random_state")]:
        with pytest.raises(exc, match=pattern):
            small().fit(X, **kw)
    model = small().fit(X, epochs=0)
    assert model.history_ == {}


def test_history_plots_headless(tmp_path):
    """The loss curves of a run are drawn without a display (Agg) and saved as a PNG."""
    from npae.plotting import loss_curves

    X = data()
    model = small().fit(X, epochs=3, batch_size=16, validation_data=X[:16])
    from npae.plotting import filter_mosaic, image_grid, latent_scatter

    png = b"\x89PNG\r\n\x1a\n"
    path = loss_curves(model.history_, tmp_path / "curves.png", keys=("loss", "val_loss"))
    assert path.read_bytes()[:8] == png
    X16 = np.random.default_rng(0).uniform(0, 1, (4, 16))  # 4x4 "images"
    for path in (image_grid({"input": X16, "again": X16}, tmp_path / "grid.png", shape=(4, 4)),
                 filter_mosaic(X16, tmp_path / "filters.png", shape=(4, 4)),
                 latent_scatter(X16[:, :2], np.arange(4), tmp_path / "scatter.png")):
        assert path.read_bytes()[:8] == png
    import matplotlib

    assert matplotlib.get_backend().lower() == "agg"


def test_an_update_that_overflows_puts_back_the_weights_of_the_epoch_start():
    X = data(32) * 1e4
    for batch_size in (8, 32):  # found by the next batch's loss, or (one batch) by the end-of-epoch check
        model = Autoencoder(sizes=(12, 6), activation="identity", output_activation="identity",
                            random_state=0)
        start = {k: p.copy() for k, p in model.params.items()}
        with pytest.raises(DivergenceError, match=r"epoch 1, before batch 2: an update made .*NaN/Inf; the "
                                                  r"weights are put back to those at the start of epoch 1"):
            model.fit(X, epochs=1, batch_size=batch_size, optimizer=SGD(lr=1e36))  # finite gradient, huge lr
        assert all(np.array_equal(model.params[k], start[k]) for k in start)


def test_a_nan_made_inside_the_forward_pass_is_reported_by_the_guard():
    """Huge but finite weights make the forward pass overflow; the loss refuses the Inf: a divergence."""
    X = data(32)
    model = Autoencoder(sizes=(12, 6), activation="identity", output_activation="identity", random_state=0)
    model.encoder.layers[0].params["W"][:] = 3e38
    before = {k: p.copy() for k, p in model.params.items()}
    with pytest.raises(DivergenceError, match=r"epoch 1, batch 1: the loss term\(s\) reconstruction = nan"):
        model.fit(X, epochs=1, batch_size=8)
    assert all(np.array_equal(model.params[k], before[k]) for k in before)


OWN_CLASSES = sorted((n, c) for n, c in npae.io.model_classes().items() if c.__module__.startswith("npae."))


@pytest.mark.parametrize("name,cls", OWN_CLASSES, ids=[n for n, _ in OWN_CLASSES])
def test_resume_is_bit_identical_for_every_model_class(tmp_path, name, cls):
    from npae.cli import example_input, small_model

    X = example_input(small_model(cls), 24, np.random.default_rng(0))
    kw = dict(epochs=3, batch_size=8, validation_data=X[:8])
    whole = small_model(cls, dtype=np.float32, random_state=5).fit(Interrupting(X), **kw)
    killed = small_model(cls, dtype=np.float32, random_state=5)
    with pytest.raises(KeyboardInterrupt):  # dies in epoch 2 (3 batches per epoch)
        killed.fit(Interrupting(X, fail_at=5), checkpoint=tmp_path / "ck.npz", **kw)
    assert not same_weights(killed, whole)
    resumed = small_model(cls, dtype=np.float32, random_state=6)  # other weights: all must come from the file
    resumed.fit(Interrupting(X), resume=tmp_path / "ck.npz", **kw)
    assert same_weights(resumed, whole)
    assert resumed.history_["val_loss"] == whole.history_["val_loss"]


class DropoutLayerNormAE(Autoencoder):
    """An autoencoder whose encoder has LayerNorm and Dropout, built in __init__ (docs/14-extending.md)."""

    def __init__(self, sizes=(12, 6, 3), rate=0.3, random_state=None, dtype=np.float32):
        super().__init__(sizes, activation="tanh", random_state=random_state, dtype=dtype)
        self.rate = rate
        dense, act, *rest = self.encoder.layers
        self.encoder = npae.layers.Sequential(dense, npae.layers.LayerNorm(sizes[1], dtype=dtype), act,
                                              npae.layers.Dropout(rate), *rest)


def test_dropout_and_layernorm_check_and_resume_bit_identically(tmp_path):
    """The step's generator draws the dropout masks: the gradient check holds them fixed, and an
    interrupted run resumed from its checkpoint ends bit-identical to one never interrupted."""
    from npae.gradcheck import assert_gradients, check_model

    model64 = DropoutLayerNormAE(random_state=0, dtype=np.float64)
    for p in model64.params.values():  # LayerNorm's gamma = 1, beta = 0 would hide a missing factor
        p += np.random.default_rng(1).normal(0, 0.1, p.shape)
    assert_gradients(check_model(model64, data(10).astype(np.float64)), tol=1e-7)
    X = data(48)
    kw = dict(epochs=3, batch_size=8, validation_data=X[:8])
    whole = DropoutLayerNormAE(random_state=5).fit(Interrupting(X), **kw)
    killed = DropoutLayerNormAE(random_state=5)
    with pytest.raises(KeyboardInterrupt):
        killed.fit(Interrupting(X, fail_at=8), checkpoint=tmp_path / "ck.npz", **kw)
    resumed = DropoutLayerNormAE(random_state=6)
    resumed.fit(Interrupting(X), resume=tmp_path / "ck.npz", **kw)
    assert same_weights(resumed, whole)
    assert resumed.history_["val_loss"] == whole.history_["val_loss"]
    assert resumed.encoder.training  # fit put back the training mode it found
