"""Save/load: exact round trips for every model class, and every kind of bad file refused clearly."""

from __future__ import annotations

import json
import os
import re
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


# ---------------------------------------------------------------------------- validated before allocating
def put_array(path: Path, key: str, value) -> None:
    """Replace (or add) an array and record it in meta as save would: a crafted but consistent file."""
    import hashlib

    value = np.asarray(value)

    def go(arrays):
        arrays[key] = value
        meta = json.loads(str(arrays["meta"]))
        meta["arrays"][key] = {"shape": list(value.shape), "dtype": value.dtype.str,
                               "sha256": hashlib.sha256(np.ascontiguousarray(value).tobytes()).hexdigest()}
        arrays["meta"] = np.array(json.dumps(meta))
    rewrite(path, go)


def test_a_small_file_declaring_a_huge_model_is_refused_fast_and_small(tmp_path):
    import time
    import tracemalloc

    model, _ = trained(Autoencoder)
    path = model.save(tmp_path / "m.npz", optimizer=False)
    for sizes in ([20000, 20000], [16, 2**36], [2**40, 3]):
        edit_meta(path, lambda m, s=sizes: m["params"].update(sizes={"__tuple__": s}))
        assert path.stat().st_size < 20_000
        tracemalloc.start()
        tic = time.perf_counter()
        with pytest.raises(ModelFileError, match=r"m\.npz: cannot rebuild Autoencoder .*more than the "
                                                 r"[\d,]+ values the file holds"):
            npae.load(path)
        seconds = time.perf_counter() - tic
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert seconds < 1 and peak < 100 * 2**20, (sizes, seconds, peak)


def test_an_npy_header_declaring_more_than_its_bytes_is_refused_before_reading(tmp_path):
    import tracemalloc
    import zipfile

    model, _ = trained(Autoencoder)
    path = model.save(tmp_path / "m.npz", optimizer=False)
    with zipfile.ZipFile(path) as z:
        entries = {i.filename: z.read(i) for i in z.infolist()}
    header = np.lib.format.header_data_from_array_1_0(np.zeros(3, np.float32))
    header["shape"] = (2**40,)
    import io as _io
    buf = _io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, header)
    entries["param/encoder.0.W.npy"] = buf.getvalue() + b"\0" * 12
    with zipfile.ZipFile(path, "w") as z:
        for name, data in entries.items():
            z.writestr(name, data)
    tracemalloc.start()
    with pytest.raises(ModelFileError, match=r"m\.npz: corrupted entry 'param/encoder\.0\.W': its header "
                                             r"says float32\[1099511627776\], which does not fit"):
        npae.load(path)
    assert tracemalloc.get_traced_memory()[1] < 10 * 2**20
    tracemalloc.stop()
    entries["param/encoder.0.W.npy"] = b"\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, data in entries.items():
            z.writestr(name, data)
    with pytest.raises(ModelFileError, match="compressed; npae reads the uncompressed"):
        npae.load(path)


def test_deeply_nested_json_is_a_model_file_error(tmp_path):
    model, _ = trained(Autoencoder)
    path = model.save(tmp_path / "m.npz", optimizer=False)

    def nest(depth):
        def change(arrays):
            meta = json.loads(str(arrays["meta"]))
            text = json.dumps(meta)[:-1] + ', "deep": ' + "[" * depth + "]" * depth + "}"
            arrays["meta"] = np.array(text)
        rewrite(path, change)

    nest(100_000)  # RecursionError inside json
    with pytest.raises(ModelFileError, match=r"m\.npz: corrupted 'meta' entry \(RecursionError"):
        npae.load(path)
    path = model.save(tmp_path / "m.npz", optimizer=False)
    nest(50)
    with pytest.raises(ModelFileError, match=r"m\.npz: corrupted 'meta' entry \(nested more than 32 deep\)"):
        npae.load(path)


def _zip_layout(path: Path) -> tuple[list[tuple[int, int]], tuple[int, int]]:
    """The byte ranges of the zip's local headers with each .npy header, and of the central directory."""
    import zipfile

    data = path.read_bytes()
    ranges = []
    with zipfile.ZipFile(path) as z:
        infos = z.infolist()
        for info in infos:
            start = info.header_offset
            name_len = int.from_bytes(data[start + 26:start + 28], "little")
            extra_len = int.from_bytes(data[start + 28:start + 30], "little")
            body = start + 30 + name_len + extra_len
            npy_header = 10 + int.from_bytes(data[body + 8:body + 10], "little")
            ranges.append((start, body + npy_header))
        end_of_data = max(i.header_offset for i in infos)
    central = data.rfind(b"PK\x01\x02", 0, len(data))
    first_central = data.find(b"PK\x01\x02", end_of_data)
    return ranges, (first_central, len(data)) if central >= 0 else (len(data), len(data))


@pytest.mark.parametrize("offset, value, raw", [(6, 99, "NotImplementedError"), (8, 1, "RuntimeError")],
                         ids=["zip version 9.9", "encrypted flag"])
def test_zip_headers_flipped_to_unsupported_or_encrypted_are_model_file_errors(tmp_path, offset, value, raw):
    model, _ = trained(Autoencoder)
    path = model.save(tmp_path / "m.npz", optimizer=False)
    data = bytearray(path.read_bytes())
    _, (central, _) = _zip_layout(path)
    data[central + offset:central + offset + 2] = value.to_bytes(2, "little")  # the first directory record
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match=r"m\.npz: corrupted or not an npae model file \(" + raw):
        npae.load(path)


def test_every_single_bit_flip_in_the_headers_is_refused_or_harmless(tmp_path):
    """One flipped bit in each byte of every zip and .npy header: a ModelFileError or the same model."""
    model, X = trained(Autoencoder)
    path = model.save(tmp_path / "m.npz", optimizer=False)
    good = path.read_bytes()
    expected = model.reconstruct(X)
    ranges, central = _zip_layout(path)
    positions = ([p for a, b in ranges for p in range(a, b)] + list(range(*central)))[::3]  # a third: ~5 s
    assert len(positions) > 400
    for p in positions:
        data = bytearray(good)
        data[p] ^= 1 << (p % 8)
        path.write_bytes(bytes(data))
        try:
            loaded = npae.load(path)
        except ModelFileError:
            continue
        np.testing.assert_array_equal(loaded.reconstruct(X), expected)


CRAFTED_META = [
    ("params as a list", lambda m: m.update(params=[1, 2]), "'params' must be a JSON object"),
    ("unknown dtype", lambda m: m["params"].update(dtype={"__dtype__": "float99"}), "cannot be read back"),
    ("history a list", lambda m: m.update(history=[1, 2]), "'history' must be an object of lists"),
    ("history of numbers", lambda m: m.update(history={"loss": 3.0}), "'history' must be an object of lists"),
    ("history of text", lambda m: m.update(history={"loss": ["x"]}), "'history' must hold numbers"),
    ("optimizer a string", lambda m: m.update(optimizer="adam"), "'optimizer' must be null or an object"),
    ("initial_lr -1", lambda m: m["optimizer"].update(initial_lr=-1), "'initial_lr' must be a number > 0"),
    ("class a number", lambda m: m.update({"class": 3}), "'class' must be a string"),
]


@pytest.mark.parametrize("what, change, message", CRAFTED_META, ids=[c[0] for c in CRAFTED_META])
def test_crafted_metadata_is_refused(tmp_path, what, change, message):
    model, _ = trained(Autoencoder)
    path = model.save(tmp_path / "m.npz")
    edit_meta(path, change)
    with pytest.raises(ModelFileError, match=r"m\.npz: .*" + re.escape(message)):
        npae.load(path)


CRAFTED_ARRAYS = [
    ("NaN weight", "param/encoder.0.W", lambda a: np.full_like(a, np.nan), "holds NaN or Inf"),
    ("Adam moment of the wrong shape", "optim/encoder.0.W/m", lambda a: np.zeros((2, 2), a.dtype),
     "buffer 'encoder.0.W/m' has shape (2, 2)"),
    ("t = -5", "optim/t", lambda a: np.array(-5), "step count t must be an integer >= 0, got array(-5)"),
    ("t a float", "optim/t", lambda a: np.array(2.5), "step count t must be an integer >= 0"),
]


@pytest.mark.parametrize("what, key, change, message", CRAFTED_ARRAYS, ids=[c[0] for c in CRAFTED_ARRAYS])
def test_crafted_arrays_are_refused(tmp_path, what, key, change, message):
    model, _ = trained(Autoencoder)
    path = model.save(tmp_path / "m.npz")
    with np.load(path) as z:
        old = z[key]
    put_array(path, key, change(old))
    with pytest.raises(ModelFileError, match=r"m\.npz: .*" + re.escape(message)):
        npae.load(path)


CRAFTED_CHECKPOINTS = [
    ("no batch_size", lambda t: t.pop("batch_size"), "['batch_size'] missing or of the wrong type"),
    ("epoch 'x'", lambda t: t.update(epoch="x"), "['epoch'] missing or of the wrong type (epoch='x')"),
    ("epoch -5", lambda t: t.update(epoch=-5), "['epoch'] missing"),
    ("epoch 10**9", lambda t: t.update(epoch=10**9, epochs=10**9), "epoch 1000000000 of a run of 1000000000 "
                                                                    "with 2 epochs in its history"),
    ("base_lr NaN", lambda t: t.update(base_lr=float("nan")), "['base_lr']"),
    ("rng a string", lambda t: t.update(rng="pcg"), "['rng']"),
    ("rng unknown", lambda t: t.update(rng={"bit_generator": "Evil"}), "unknown bit generator 'Evil'"),
]


@pytest.mark.parametrize("what, change, message", CRAFTED_CHECKPOINTS,
                         ids=[c[0] for c in CRAFTED_CHECKPOINTS])
def test_crafted_checkpoints_are_refused(tmp_path, what, change, message):
    model = small_model(Autoencoder, random_state=0)
    X = example_input(model, 24, np.random.default_rng(0))
    model.fit(X, epochs=2, batch_size=8, checkpoint=tmp_path / "ck.npz")
    edit_meta(tmp_path / "ck.npz", lambda m: change(m["training"]))
    again = small_model(Autoencoder, random_state=0)
    with pytest.raises(ModelFileError, match=r"ck\.npz: .*" + re.escape(message)):
        again.fit(X, epochs=5, batch_size=8, resume=tmp_path / "ck.npz")
