"""Save/load: exact round trips for every model class, and every kind of bad file refused clearly."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

import npae
from npae import io as npae_io
from npae.cli import example_input, small_model
from npae.io import ModelFileError
from npae.models import Autoencoder, BaseAutoencoder

# the package's own models (test modules define subclasses of their own, which load too)
CLASSES = sorted((n, c) for n, c in npae_io.model_classes().items() if c.__module__.startswith("npae."))


def trained(cls, seed=0, dtype=np.float32):
    """A small model of ``cls`` after one short epoch (so the optimiser has state)."""
    model = small_model(cls, dtype=dtype, random_state=seed)
    X = example_input(model, 24, np.random.default_rng(seed))
    model.fit(X, epochs=1, batch_size=8)
    return model, X


def rewrite(path: Path, change) -> None:
    """Rewrite an .npz after ``change(dict_of_arrays)`` (a tampered file for the tests)."""
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    change(arrays)
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def edit_meta(path: Path, change) -> None:
    def go(arrays):
        meta = json.loads(str(arrays["meta"]))
        change(meta)
        arrays["meta"] = np.array(json.dumps(meta))
    rewrite(path, go)


@pytest.mark.parametrize("name,cls", CLASSES, ids=[n for n, _ in CLASSES])
def test_round_trip_is_exact_for_every_model_class(tmp_path, name, cls):
    model, X = trained(cls)
    path = model.save(tmp_path / "m.npz")
    loaded = npae.load(path)
    assert type(loaded) is cls
    assert npae_io.to_json(loaded.get_params()) == npae_io.to_json(model.get_params())
    assert loaded.params.keys() == model.params.keys()
    for k, p in model.params.items():
        assert loaded.params[k].dtype == p.dtype
        np.testing.assert_array_equal(loaded.params[k], p)
    np.testing.assert_array_equal(loaded.reconstruct(X), model.reconstruct(X))
    np.testing.assert_array_equal(loaded.encode(X), model.encode(X))
    # the optimiser (class, hyper-parameters, moments, step count) and the random stream come back
    assert type(loaded.optimizer_) is type(model.optimizer_) and loaded.optimizer_.t == model.optimizer_.t
    for k, v in model.optimizer_.state_dict().items():
        np.testing.assert_array_equal(loaded.optimizer_.state_dict()[k], v)
    assert loaded.rng_.random() == model.rng_.random()
    assert loaded.history_ == model.history_


def test_float64_model_and_classmethod_load(tmp_path):
    model, X = trained(Autoencoder, dtype=np.float64)
    model.save(tmp_path / "m.npz")
    loaded = Autoencoder.load(tmp_path / "m.npz")
    assert loaded.dtype == np.float64
    np.testing.assert_array_equal(loaded.reconstruct(X), model.reconstruct(X))
    assert isinstance(BaseAutoencoder.load(tmp_path / "m.npz"), Autoencoder)


def test_training_continues_identically_after_save_and_load(tmp_path):
    a, X = trained(Autoencoder, seed=3)
    a.save(tmp_path / "a.npz")
    b = npae.load(tmp_path / "a.npz")
    a.fit(X, epochs=2, batch_size=8)
    b.fit(X, epochs=2, batch_size=8)
    for k, p in a.params.items():
        np.testing.assert_array_equal(b.params[k], p)


def test_file_for_another_class_is_refused(tmp_path):
    model, _ = trained(Autoencoder)
    model.save(tmp_path / "m.npz")
    other = next(c for c in npae_io.model_classes().values() if not issubclass(c, Autoencoder)
                 and not issubclass(Autoencoder, c))
    with pytest.raises(ModelFileError, match=r"m\.npz.*holds a Autoencoder, not a " + other.__name__):
        other.load(tmp_path / "m.npz")


def test_interrupted_save_leaves_the_old_file_intact(tmp_path, monkeypatch):
    good, X = trained(Autoencoder, seed=1)
    path = tmp_path / "m.npz"
    good.save(path)
    before = path.read_bytes()

    def half_then_crash(f, arrays):  # the process dies in the middle of writing the archive
        f.write(b"PK\x03\x04 half an archive")
        raise KeyboardInterrupt

    monkeypatch.setattr(npae_io, "_write_npz", half_then_crash)
    other, _ = trained(Autoencoder, seed=2)
    with pytest.raises(KeyboardInterrupt):
        other.save(path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.npz"]  # no temporary file left behind
    np.testing.assert_array_equal(npae.load(path).reconstruct(X), good.reconstruct(X))


def test_truncated_file_is_refused(tmp_path):
    model, _ = trained(Autoencoder)
    path = model.save(tmp_path / "m.npz")
    data = path.read_bytes()
    for cut in (0, 10, len(data) // 2, len(data) - 30):
        path.write_bytes(data[:cut])
        with pytest.raises(ModelFileError, match=r"m\.npz"):
            npae.load(path)


def test_corrupted_bytes_are_detected(tmp_path):
    model, _ = trained(Autoencoder)
    path = model.save(tmp_path / "m.npz")
    data = bytearray(path.read_bytes())
    with np.load(path) as z:
        w = z["param/encoder.0.W"]
    start = bytes(data).find(w.tobytes()[:64])  # the weight's bytes inside the (uncompressed) zip
    assert start > 0
    data[start + 5] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match=r"m\.npz.*(corrupted|CRC)"):
        npae.load(path)


def test_tampered_array_fails_its_checksum(tmp_path):
    model, _ = trained(Autoencoder)
    path = model.save(tmp_path / "m.npz")

    def change(arrays):
        arrays["param/encoder.0.W"] = arrays["param/encoder.0.W"] + 1

    rewrite(path, change)
    with pytest.raises(ModelFileError, match=r"encoder\.0\.W.*SHA-256"):
        npae.load(path)


def test_wrong_version_and_format_are_refused(tmp_path):
    model, _ = trained(Autoencoder)
    path = model.save(tmp_path / "m.npz")
    edit_meta(path, lambda m: m.update(format_version=99))
    with pytest.raises(ModelFileError, match=r"m\.npz: unsupported format version 99.*newer"):
        npae.load(path)
    edit_meta(path, lambda m: m.update(format_version=1, format="something-else"))
    with pytest.raises(ModelFileError, match="not an npae model file"):
        npae.load(path)


def test_weights_that_do_not_fit_the_stored_arguments_are_refused(tmp_path):
    model, _ = trained(Autoencoder)
    path = model.save(tmp_path / "m.npz")
    edit_meta(path, lambda m: m["params"].update(sizes={"__tuple__": [12, 7, 3]}))
    with pytest.raises(ModelFileError, match=r"wrong model: weight 'encoder\.0\.W'"):
        npae.load(path)


def test_unknown_class_and_missing_entry(tmp_path):
    model, _ = trained(Autoencoder)
    path = model.save(tmp_path / "m.npz")
    edit_meta(path, lambda m: m.update({"class": "NoSuchModel"}))
    with pytest.raises(ModelFileError, match="unknown class 'NoSuchModel'"):
        npae.load(path)
    path = model.save(tmp_path / "m.npz")
    rewrite(path, lambda a: a.pop("param/decoder.0.b"))
    with pytest.raises(ModelFileError, match=r"missing entries \['param/decoder\.0\.b'\]"):
        npae.load(path)


class Boom:
    """Unpickling this would create a file: the proof that nothing in a refused file runs."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_pickled_and_object_arrays_are_refused_without_running_anything(tmp_path):
    marker = tmp_path / "executed"
    evil = np.array([Boom(marker)], dtype=object)
    # 1. an .npz carrying an object array next to a valid-looking meta
    model, _ = trained(Autoencoder)
    path = model.save(tmp_path / "m.npz")

    def add_object(arrays):
        arrays["param/encoder.0.W"] = evil

    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    add_object(arrays)
    with open(path, "wb") as f:
        np.savez(f, allow_pickle=True, **arrays)
    with pytest.raises(ModelFileError, match=r"m\.npz: refused, entry 'param/encoder\.0\.W' is an "
                                              "object array"):
        npae.load(path)
    # 2. a bare pickle (np.save of an object array is a pickle inside an .npy)
    bare = tmp_path / "bare.npz"
    with open(bare, "wb") as f:
        np.save(f, evil, allow_pickle=True)
    with pytest.raises(ModelFileError, match=r"bare\.npz: (refused|not an npae model file)"):
        npae.load(bare)
    assert not marker.exists()


def test_not_an_npz_missing_file_and_bad_arguments(tmp_path):
    (tmp_path / "text.npz").write_text("hello, I am not a model")
    with pytest.raises(ModelFileError, match=r"text\.npz"):
        npae.load(tmp_path / "text.npz")
    with pytest.raises(ModelFileError, match="no such model file"):
        npae.load(tmp_path / "missing.npz")
    with pytest.raises(TypeError, match="path"):
        npae.load(3)
    with pytest.raises(TypeError, match="model"):
        npae_io.save("not a model", tmp_path / "x.npz")
    model, _ = trained(Autoencoder)
    with pytest.raises(ModelFileError, match="does not exist"):
        model.save(tmp_path / "no" / "such" / "m.npz")


def test_json_helpers_round_trip_and_refuse_objects():
    value = {"a": (1, 2.5, None), "b": [np.float32(1.5), np.int64(3)], "d": np.dtype("float32"),
             "arr": np.arange(3, dtype=np.uint32)}
    back = npae_io.from_json(json.loads(json.dumps(npae_io.to_json(value))))
    assert back["a"] == (1, 2.5, None) and back["b"] == [1.5, 3] and back["d"] == np.float32
    np.testing.assert_array_equal(back["arr"], value["arr"])
    with pytest.raises(TypeError, match="x of type object"):
        npae_io.to_json(object(), "x")
    for kind in (np.random.PCG64, np.random.MT19937, np.random.Philox, np.random.SFC64):
        rng = np.random.Generator(kind(5))
        rng.random(7)
        copy = npae_io.rng_from_state(json.loads(json.dumps(npae_io.rng_state(rng))))
        np.testing.assert_array_equal(copy.random(5), rng.random(5))
    with pytest.raises(ValueError, match="unknown bit generator"):
        npae_io.rng_from_state({"bit_generator": "os.system", "state": {}})


class MyAutoencoder(Autoencoder):
    """A model defined outside npae (here, in a test module): it loads once its module is imported."""

    def __init__(self, sizes=(12, 6, 3), scale: float = 2.0, random_state=None, dtype=np.float32) -> None:
        self.scale = scale
        super().__init__(sizes=sizes, activation="tanh", random_state=random_state, dtype=dtype)


def test_a_model_class_defined_later_loads_without_edits(tmp_path):
    model = MyAutoencoder(scale=3.5, random_state=0)
    model.save(tmp_path / "mine.npz")
    loaded = npae.load(tmp_path / "mine.npz")
    assert type(loaded) is MyAutoencoder and loaded.scale == 3.5 and loaded.sizes == (12, 6, 3)
    assert all(np.array_equal(loaded.params[k], p) for k, p in model.params.items())


def test_save_refuses_a_model_whose_layers_the_constructor_does_not_build(tmp_path):
    """A Dropout put into model.encoder after construction: load would lose it (appended) or fail on
    the weight names (inserted). Save refuses both, naming the network, the layer and what differs."""
    from npae.layers import Dropout, Sequential

    model = npae.Autoencoder((8, 6, 3), activation="tanh", random_state=0)
    model.encoder = Sequential(*model.encoder.layers, Dropout(0.2))
    with pytest.raises(ValueError, match=r"encoder has 5 layers and layer 4 is Dropout.*builds 4 layers"):
        model.save(tmp_path / "appended.npz")
    model = npae.Autoencoder((8, 6, 3), activation="tanh", random_state=0)
    dense, act, *rest = model.encoder.layers
    model.encoder = Sequential(dense, act, Dropout(0.2), *rest)
    with pytest.raises(ValueError, match=r"layer 2 is Dropout"):
        model.save(tmp_path / "inserted.npz")
    assert not (tmp_path / "appended.npz").exists() and not (tmp_path / "inserted.npz").exists()


def test_a_subclass_that_does_not_store_an_argument_gets_a_clear_error(tmp_path):
    class AE2(npae.Autoencoder):
        def __init__(self, sizes=(8, 3), dropout=0.1, random_state=None):
            super().__init__(sizes, random_state=random_state)  # dropout is never stored

    with pytest.raises(AttributeError, match=r"AE2 stores no attribute for its constructor argument\(s\) "
                                             r"\['dropout'\]"):
        AE2(random_state=0).save(tmp_path / "ae2.npz")


# ---------------------------------------------------------------------------- what a save may write
def test_save_through_a_symlink_writes_its_target(tmp_path):
    model, X = trained(Autoencoder)
    target = tmp_path / "real.npz"
    target.write_bytes(b"old")
    link = tmp_path / "link.npz"
    link.symlink_to(target)
    model.save(link)
    assert link.is_symlink() and os.readlink(link) == str(target)  # the link stays a link
    np.testing.assert_array_equal(npae.load(target).reconstruct(X), model.reconstruct(X))


def test_save_refuses_a_folder_a_fifo_a_device_and_a_trailing_separator(tmp_path):
    model, _ = trained(Autoencoder)
    (tmp_path / "d").mkdir()
    with pytest.raises(ModelFileError, match="is a folder"):
        model.save(tmp_path / "d")
    fifo = tmp_path / "f"
    os.mkfifo(fifo)
    with pytest.raises(ModelFileError, match="device, FIFO or socket"):
        model.save(fifo)
    assert fifo.is_fifo()
    with pytest.raises(ModelFileError, match="device, FIFO or socket"):
        model.save("/dev/null")
    assert Path("/dev/null").is_char_device()
    with pytest.raises(ModelFileError, match="names a folder"):
        model.save(str(tmp_path / "x") + os.sep)
    with pytest.raises(ModelFileError, match="empty"):
        model.save("")
    assert sorted(os.listdir(tmp_path)) == ["d", "f"]


def test_save_keeps_permissions_and_respects_the_umask(tmp_path):
    model, _ = trained(Autoencoder)
    path = tmp_path / "m.npz"
    path.write_bytes(b"old")
    os.chmod(path, 0o600)
    model.save(path)
    assert path.stat().st_mode & 0o777 == 0o600
    old = os.umask(0o077)
    try:
        model.save(tmp_path / "new.npz")
    finally:
        os.umask(old)
    assert (tmp_path / "new.npz").stat().st_mode & 0o777 == 0o600
    old = os.umask(0o002)
    try:
        model.save(tmp_path / "shared.npz")
    finally:
        os.umask(old)
    assert (tmp_path / "shared.npz").stat().st_mode & 0o777 == 0o664


@pytest.mark.parametrize("where", ["write", "fsync", "replace", "mkstemp"])
def test_full_disk_or_read_only_folder_is_a_clear_error_and_the_old_file_survives(tmp_path, monkeypatch,
                                                                                  where):
    import errno

    good, X = trained(Autoencoder, seed=1)
    path = tmp_path / "m.npz"
    good.save(path)
    before = path.read_bytes()
    code = errno.EROFS if where == "mkstemp" else errno.ENOSPC

    def fail(*args, **kwargs):
        raise OSError(code, os.strerror(code))

    if where == "write":
        monkeypatch.setattr(npae_io, "_write_npz", fail)
    elif where == "fsync":
        monkeypatch.setattr(npae_io.os, "fsync", fail)
    elif where == "replace":
        monkeypatch.setattr(npae_io.os, "replace", fail)
    else:
        monkeypatch.setattr(npae_io.tempfile, "mkstemp", fail)
    other, _ = trained(Autoencoder, seed=2)
    with pytest.raises(ModelFileError, match=r"m\.npz: cannot save.*" + os.strerror(code)
                       + ".*previous file is unchanged"):
        other.save(path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.npz"]  # no temporary file left behind
