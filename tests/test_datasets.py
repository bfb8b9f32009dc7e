"""npae.datasets: IDX parsing, writing and memory maps, MNIST and Fashion-MNIST download (fake opener),
natural patches."""

import gzip
import hashlib
import io
import os
import urllib.error
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from profiles import examples

from npae import datasets
from npae.datasets import (
    DataError,
    ScaledRows,
    available_photos,
    identity,
    load_mnist,
    mnist_split,
    natural_patches,
    normalize_patches,
    open_idx,
    parse_idx,
    read_idx,
    sample_photo,
    whiten_image,
)
from npae.datasets import mnist as mnist_module  # the module whose globals the download code reads
from npae.io import atomic_write

from idx_files import TYPE_CODES, idx_bytes


def fake_mnist(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n).astype(np.uint8)


# ---------------------------------------------------------------- IDX files
@examples(25)
@given(dtype=st.sampled_from(list(TYPE_CODES)), shape=st.lists(st.integers(0, 5), min_size=1, max_size=3),
       seed=st.integers(0, 2**16))
def test_parse_idx_round_trip(dtype, shape, seed):
    a = (np.random.default_rng(seed).standard_normal(shape) * 50).astype(dtype.newbyteorder("="))
    out = parse_idx(idx_bytes(a))
    assert out.shape == a.shape and out.dtype.isnative
    np.testing.assert_array_equal(out, a)


@examples(20)
@given(cut=st.integers(1, 40))
def test_parse_idx_truncated_raises(cut):
    data = idx_bytes(np.arange(30, dtype=np.uint8).reshape(5, 6))
    with pytest.raises(DataError, match="truncated"):
        parse_idx(data[:-cut])


def test_read_idx_plain_and_gzip_and_bad_files(tmp_path):
    a = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    (tmp_path / "a").write_bytes(idx_bytes(a))
    (tmp_path / "a.gz").write_bytes(gzip.compress(idx_bytes(a)))
    np.testing.assert_array_equal(read_idx(tmp_path / "a"), a)
    np.testing.assert_array_equal(read_idx(tmp_path / "a.gz"), a)
    (tmp_path / "magic").write_bytes(b"\x01\x02\x08\x01" + idx_bytes(a)[4:])
    with pytest.raises(DataError, match="bad magic"):
        read_idx(tmp_path / "magic")
    (tmp_path / "type").write_bytes(b"\x00\x00\x07\x03" + idx_bytes(a)[4:])
    with pytest.raises(DataError, match="unknown IDX element type"):
        read_idx(tmp_path / "type")
    (tmp_path / "short").write_bytes(idx_bytes(a)[:-1])
    with pytest.raises(DataError, match="truncated"):
        read_idx(tmp_path / "short")
    gz = gzip.compress(idx_bytes(a))
    (tmp_path / "short.gz").write_bytes(gz[: len(gz) // 2])
    with pytest.raises(DataError, match="cannot read"):
        read_idx(tmp_path / "short.gz")
    with pytest.raises(DataError, match="cannot read"):
        read_idx(tmp_path / "missing")


def test_open_idx_memmap(tmp_path):
    a = (np.arange(60, dtype=np.int32) - 30).reshape(5, 3, 4)
    path = tmp_path / "a-idx3"
    path.write_bytes(idx_bytes(a))
    m = open_idx(path)
    assert isinstance(m, np.memmap) and m.shape == a.shape
    np.testing.assert_array_equal(m, a)
    np.testing.assert_array_equal(m[1:3], a[1:3])
    with pytest.raises(ValueError):
        m[0, 0, 0] = 1  # read-only
    np.testing.assert_array_equal(open_idx(path, mmap=False), a)


def test_open_idx_refuses_gzip_and_bad_files(tmp_path):
    a = np.arange(12, dtype=np.uint8).reshape(3, 4)
    (tmp_path / "a.gz").write_bytes(gzip.compress(idx_bytes(a)))
    with pytest.raises(DataError, match="gzip file cannot be memory-mapped.*gunzip.*mmap=False"):
        open_idx(tmp_path / "a.gz")
    np.testing.assert_array_equal(open_idx(tmp_path / "a.gz", mmap=False), a)
    (tmp_path / "short").write_bytes(idx_bytes(a)[:-3])
    with pytest.raises(DataError, match="truncated"):
        open_idx(tmp_path / "short")
    (tmp_path / "magic").write_bytes(b"\xff" + idx_bytes(a)[1:])
    with pytest.raises(DataError, match="bad magic"):
        open_idx(tmp_path / "magic")
    with pytest.raises(DataError, match="cannot read"):
        open_idx(tmp_path / "missing")


@pytest.mark.parametrize("gz", [False, True])
def test_write_idx_round_trip_labels_and_images(tmp_path, gz):
    images, labels = fake_mnist(5)
    suffix = ".gz" if gz else ""
    for name, a in (("labels", labels), ("images", images)):  # 1-D and 3-D uint8
        path = datasets.write_idx(tmp_path / (name + suffix), a)
        assert path == tmp_path / (name + suffix)
        assert (path.read_bytes()[:2] == b"\x1f\x8b") == gz
        out = read_idx(path)
        assert out.dtype == np.uint8 and out.shape == a.shape
        np.testing.assert_array_equal(out, a)
        raw = gzip.decompress(path.read_bytes()) if gz else path.read_bytes()
        assert raw == idx_bytes(a)  # the bytes the tests' own independent writer makes
    assert sorted(os.listdir(tmp_path)) == ["images" + suffix, "labels" + suffix]  # no temporary files


@examples(20)
@given(dtype=st.sampled_from(list(TYPE_CODES)), shape=st.lists(st.integers(0, 4), min_size=1, max_size=4),
       seed=st.integers(0, 2**16))
def test_write_idx_round_trip_every_element_type(tmp_path_factory, dtype, shape, seed):
    a = (np.random.default_rng(seed).standard_normal(shape) * 50).astype(dtype)  # native or big-endian
    path = datasets.write_idx(tmp_path_factory.mktemp("idx") / "a.gz", a)
    np.testing.assert_array_equal(read_idx(path), a)
    assert read_idx(path).dtype.isnative


def test_write_idx_is_deterministic(tmp_path):
    images, _ = fake_mnist(3)
    first = datasets.write_idx(tmp_path / "a.gz", images).read_bytes()
    assert datasets.write_idx(tmp_path / "b.gz", images).read_bytes() == first  # no time stamp in the header


def test_write_idx_bad_arguments(tmp_path):
    with pytest.raises(TypeError, match="path must be a str or an os.PathLike, got int"):
        datasets.write_idx(3, np.zeros(2, np.uint8))
    with pytest.raises(TypeError, match="array must be a NumPy array, got list"):
        datasets.write_idx(tmp_path / "a", [1, 2])
    with pytest.raises(TypeError, match=r"IDX element type.*got int64.*astype\(np.uint8\)"):
        datasets.write_idx(tmp_path / "a", np.arange(3))
    with pytest.raises(TypeError, match="got bool"):
        datasets.write_idx(tmp_path / "a", np.zeros(3, bool))
    with pytest.raises(ValueError, match=r"1 to 255 dimensions.*got shape \(\)"):
        datasets.write_idx(tmp_path / "a", np.array(7, np.uint8))
    with pytest.raises(DataError, match="folder .*missing does not exist"):
        datasets.write_idx(tmp_path / "missing" / "a.gz", np.zeros(2, np.uint8))
    assert os.listdir(tmp_path) == []


# ---------------------------------------------------------------- MNIST download, fake network
class FakeWeb:
    """Stands in for urllib: serves ``files`` (name -> bytes) or fails, and counts requests."""

    def __init__(self, files=None, fail=None):
        self.files = files or {}
        self.fail = fail
        self.requests = []

    def __call__(self, url, timeout=30.0):
        self.requests.append(url)
        if self.fail is not None:
            raise self.fail
        name = url.rsplit("/", 1)[1]
        if name not in self.files:
            raise urllib.error.HTTPError(url, 404, "Not Found", None, None)
        return io.BytesIO(self.files[name])


@pytest.fixture
def fake_test_set(monkeypatch):
    """Gzipped fake MNIST test files, with MNIST_MD5 pointing at their digests."""
    images, labels = fake_mnist(7)
    files = {"t10k-images-idx3-ubyte.gz": gzip.compress(idx_bytes(images)),
             "t10k-labels-idx1-ubyte.gz": gzip.compress(idx_bytes(labels))}
    for name, data in files.items():
        monkeypatch.setitem(datasets.MNIST_MD5, name, hashlib.md5(data).hexdigest())
    monkeypatch.delenv("NPAE_DATA_DIR", raising=False)
    return files, images, labels


def test_download_good_bytes(tmp_path, monkeypatch, fake_test_set):
    files, images, labels = fake_test_set
    web = FakeWeb(files)
    monkeypatch.setattr(mnist_module, "_open_url", web)
    X, y = load_mnist(tmp_path / "mnist", kind="test")
    np.testing.assert_allclose(X, images.reshape(7, 784) / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(y, labels)
    assert sorted(os.listdir(tmp_path / "mnist")) == sorted(files)  # no temporary files left
    n = len(web.requests)
    assert n == 2
    load_mnist(tmp_path / "mnist", kind="test")
    assert len(web.requests) == n  # cached: no second download


def test_download_tries_next_mirror(tmp_path, monkeypatch, fake_test_set):
    files, _, labels = fake_test_set

    def opener(url, timeout=30.0):
        if url.startswith(datasets.MNIST_MIRRORS[0]):
            raise urllib.error.URLError("connection refused")
        return io.BytesIO(files[url.rsplit("/", 1)[1]])

    monkeypatch.setattr(mnist_module, "_open_url", opener)
    _, y = load_mnist(tmp_path, kind="test")
    np.testing.assert_array_equal(y, labels)


def test_download_to_default_cache(tmp_path, monkeypatch, fake_test_set):
    files, _, _ = fake_test_set
    monkeypatch.setattr(mnist_module, "_open_url", FakeWeb(files))
    monkeypatch.setattr(mnist_module, "default_cache_dir", lambda: tmp_path / "cache")
    X, _ = load_mnist(kind="test")
    assert X.shape == (7, 784)
    assert (tmp_path / "cache" / "t10k-images-idx3-ubyte.gz").is_file()


def test_default_cache_dir():
    assert datasets.default_cache_dir() == Path.home() / ".cache" / "npae" / "mnist"


def test_download_interrupted_transfer(tmp_path, monkeypatch, fake_test_set):
    import http.client

    class Broken(io.BytesIO):
        def read(self, *args):
            raise http.client.IncompleteRead(b"partial")

    monkeypatch.setattr(mnist_module, "_open_url", lambda url, timeout=30.0: Broken())
    with pytest.raises(DataError, match="IncompleteRead|partial"):
        load_mnist(tmp_path, kind="test")
    assert os.listdir(tmp_path) == []


def test_download_bad_checksum(tmp_path, monkeypatch, fake_test_set):
    files, _, _ = fake_test_set
    corrupted = {k: v[:-1] + bytes([v[-1] ^ 1]) for k, v in files.items()}
    monkeypatch.setattr(mnist_module, "_open_url", FakeWeb(corrupted))
    with pytest.raises(DataError, match="MD5"):
        load_mnist(tmp_path, kind="test")
    assert os.listdir(tmp_path) == []  # nothing written, not even a temporary file


def test_download_offline(tmp_path, monkeypatch, fake_test_set):
    monkeypatch.setattr(mnist_module, "_open_url", FakeWeb(fail=urllib.error.URLError("no network")))
    with pytest.raises(DataError) as info:
        load_mnist(tmp_path / "here", kind="test")
    msg = str(info.value)
    assert "t10k-images-idx3-ubyte.gz" in msg and "t10k-labels-idx1-ubyte.gz" in msg
    assert str(tmp_path / "here") in msg and "no network" in msg


def test_no_download_when_disabled(tmp_path, monkeypatch, fake_test_set):
    web = FakeWeb(fake_test_set[0])
    monkeypatch.setattr(mnist_module, "_open_url", web)
    with pytest.raises(DataError, match="not found"):
        load_mnist(tmp_path, kind="test", download=False)
    with pytest.raises(DataError, match="NPAE_DATA_DIR"):
        load_mnist(None, kind="test", download=False)
    assert web.requests == []


def test_mnist_split_test_only_folder_does_not_download(tmp_path, monkeypatch):
    images, labels = fake_mnist(10)
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(idx_bytes(images))
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(labels)))
    web = FakeWeb(fail=AssertionError("must not download"))
    monkeypatch.setattr(mnist_module, "_open_url", web)
    X_train, y_train, X_test, y_test, source = mnist_split(tmp_path)
    assert web.requests == [] and "test set only" in source
    # "first 8,000 train, at most four fifths": with 10 images 8 train and 2 evaluate (never none).
    assert X_train.shape == (8, 784) and X_test.shape == (2, 784)
    np.testing.assert_array_equal(y_train, labels[:8])
    np.testing.assert_array_equal(y_test, labels[8:])


def write_test_set(folder: Path, n: int, gz: bool = True) -> dict[str, bytes]:
    """Fake MNIST-format test files in ``folder``; returns {official name without .gz: IDX bytes}."""
    images, labels = fake_mnist(n)
    files = {"t10k-images-idx3-ubyte": idx_bytes(images), "t10k-labels-idx1-ubyte": idx_bytes(labels)}
    for stem, data in files.items():
        (folder / (stem + ".gz" if gz else stem)).write_bytes(gzip.compress(data, mtime=0) if gz else data)
    return files


def test_known_digests_are_distinct_and_shared_with_the_download_code():
    assert datasets.MNIST_MD5 is mnist_module.MNIST_MD5  # one table: download checks what identify names
    # gzipped MNIST and Fashion-MNIST, decompressed MNIST test set and Fashion-MNIST: no digest twice
    assert len(identity.KNOWN_FILES) == 4 + 4 + 2 + 4
    known = identity.KNOWN_FILES
    assert known["bb300cfdad3c16e7a12a480ee83cd310"] == ("Fashion-MNIST", "t10k-labels-idx1-ubyte")
    assert known["9fb629c4189551a2d022fa330f9573f3"] == ("MNIST", "t10k-images-idx3-ubyte")


def test_identify_names_a_data_set_only_when_every_file_proves_it(tmp_path, monkeypatch):
    files = write_test_set(tmp_path, 10)
    paths = sorted(tmp_path.iterdir())
    assert datasets.identify(paths) is None  # random images: nobody's published files
    stored = {p.name.removesuffix(".gz"): hashlib.md5(p.read_bytes()).hexdigest() for p in paths}
    for stem, digest in stored.items():  # pretend these are Fashion-MNIST's published gzip files
        monkeypatch.setitem(identity.KNOWN_FILES, digest, ("Fashion-MNIST", stem))
    assert datasets.identify(paths) == "Fashion-MNIST"
    assert datasets.identify_file(paths[0]) == ("Fashion-MNIST", "t10k-images-idx3-ubyte")
    # the images file known under the labels' name: a renamed file proves nothing
    monkeypatch.setitem(identity.KNOWN_FILES, stored["t10k-images-idx3-ubyte"],
                        ("Fashion-MNIST", "t10k-labels-idx1-ubyte"))
    assert datasets.identify(paths) is None
    # one file of each data set: a mixed folder is unidentified
    monkeypatch.setitem(identity.KNOWN_FILES, stored["t10k-images-idx3-ubyte"],
                        ("MNIST", "t10k-images-idx3-ubyte"))
    assert datasets.identify(paths) is None
    # by the decompressed bytes: a gunzipped copy, and a copy re-compressed with another gzip header
    for stem, data in files.items():
        monkeypatch.setitem(identity.KNOWN_FILES, hashlib.md5(data).hexdigest(), ("MNIST", stem))
    plain, regz = tmp_path / "plain", tmp_path / "regz"
    for folder, gz in ((plain, False), (regz, True)):
        folder.mkdir()
        write_test_set(folder, 10, gz=gz)
    for p in regz.iterdir():  # another time stamp in the header: the file's own MD5 changes
        p.write_bytes(gzip.compress(gzip.decompress(p.read_bytes()), mtime=12345))
    assert datasets.identify(plain.iterdir()) == "MNIST" and datasets.identify(regz.iterdir()) == "MNIST"


def test_mnist_split_says_what_it_read(tmp_path, monkeypatch):
    write_test_set(tmp_path, 10)
    monkeypatch.setattr(mnist_module, "TEST_ONLY_SPLIT", 6)
    unidentified = ("unidentified MNIST-format data (MD5s not those of the MNIST or Fashion-MNIST files npae "
                    f"knows) in {tmp_path}")
    *_, source = mnist_split(tmp_path)
    assert source == (f"{unidentified}, test set only: training on the first 6 of 10 test images, "
                      "evaluating on the last 4 of 10 test images")
    *_, source = mnist_split(tmp_path, n_train=2, n_test=3)
    assert source.endswith("training on the first 2 of 10 test images, "
                           "evaluating on test images 7 to 9 of 10")
    for p in tmp_path.iterdir():
        monkeypatch.setitem(identity.KNOWN_FILES, hashlib.md5(p.read_bytes()).hexdigest(),
                            ("Fashion-MNIST", p.name.removesuffix(".gz")))
    *_, source = mnist_split(tmp_path)
    assert source.startswith(f"Fashion-MNIST (identified by the files' MD5s) in {tmp_path}, test set only:")
    images, labels = fake_mnist(30, seed=1)  # now a training set too: it is used, and not identified
    (tmp_path / "train-images-idx3-ubyte").write_bytes(idx_bytes(images))
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(idx_bytes(labels))
    X_train, _, X_test, _, source = mnist_split(tmp_path, n_train=25)
    assert (len(X_train), len(X_test)) == (25, 10)
    assert source == (f"{unidentified}: training on the first 25 of 30 training images, "
                      "evaluating on all 10 test images")


def test_mnist_split_refuses_a_broken_training_file(tmp_path):
    write_test_set(tmp_path, 10)
    (tmp_path / "train-images-idx3-ubyte").write_bytes(b"\x00\x00\x08\x03broken")
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(b"")
    with pytest.raises(DataError, match="train-images-idx3-ubyte"):  # not a silent fall-back to the test set
        mnist_split(tmp_path)


def test_real_mnist_test_set_is_named():
    folder = os.environ.get("NPAE_DATA_DIR")
    if not folder or not (Path(folder) / "t10k-images-idx3-ubyte.gz").is_file():
        pytest.skip("NPAE_DATA_DIR with the gzipped MNIST test set is not available")
    names = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
    assert datasets.identify(Path(folder) / name for name in names) == "MNIST"
    if not list(Path(folder).glob("train-*")):  # the test set alone, as in the shared folder
        *_, source = mnist_split(folder)
        assert source == (f"MNIST (identified by the files' MD5s) in {folder}, test set only: training on "
                          "the first 8,000 of 10,000 test images, evaluating on the last 2,000 of 10,000 "
                          "test images")


def test_download_write_keeps_old_file_on_failure(tmp_path, monkeypatch):
    target = tmp_path / "f.gz"
    target.write_bytes(b"good")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(mnist_module.os, "replace", broken_replace)
    with pytest.raises(ValueError, match=r"f\.gz: cannot save \(disk full\); the previous file is unchanged"):
        atomic_write(target, lambda f: f.write(b"new"))  # what download_mnist writes with
    assert target.read_bytes() == b"good" and os.listdir(tmp_path) == ["f.gz"]


def test_real_mnist_test_set_checksums():
    folder = os.environ.get("NPAE_DATA_DIR")
    if not folder or not (Path(folder) / "t10k-images-idx3-ubyte.gz").is_file():
        pytest.skip("NPAE_DATA_DIR with the gzipped MNIST test set is not available")
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        assert hashlib.md5((Path(folder) / name).read_bytes()).hexdigest() == datasets.MNIST_MD5[name]


# ---------------------------------------------------------------- Fashion-MNIST: the same code, its own table
class Mirrors:
    """Stands in for urllib with one file table per mirror (base URL -> {name: bytes}); counts requests."""

    def __init__(self, served):
        self.served = served
        self.requests = []

    def __call__(self, url, timeout=30.0):
        self.requests.append(url)
        base, name = url.rsplit("/", 1)
        files = self.served.get(base + "/", {})
        if name not in files:
            raise urllib.error.HTTPError(url, 404, "Not Found", None, None)
        return io.BytesIO(files[name])


@pytest.fixture
def fake_fashion(monkeypatch, tmp_path):
    """Gzipped fake test files, with FASHION_MNIST_MD5 pointing at their digests; the cache in tmp_path."""
    images, labels = fake_mnist(9, seed=3)
    files = {"t10k-images-idx3-ubyte.gz": gzip.compress(idx_bytes(images)),
             "t10k-labels-idx1-ubyte.gz": gzip.compress(idx_bytes(labels))}
    for name, data in files.items():
        monkeypatch.setitem(datasets.FASHION_MNIST_MD5, name, hashlib.md5(data).hexdigest())
    monkeypatch.setattr(mnist_module, "default_cache_dir",
                        lambda dataset="MNIST": tmp_path / "cache" / dataset.lower())
    monkeypatch.delenv("NPAE_DATA_DIR", raising=False)
    return files, images, labels


def test_fashion_download_skips_a_mirror_with_the_wrong_md5(tmp_path, monkeypatch, fake_fashion):
    files, images, labels = fake_fashion
    first, second = datasets.FASHION_MNIST_MIRRORS
    assert first == "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"  # the authors' README
    # the right names with other bytes (another data set, a stale copy): skipped, the next mirror tried
    wrong = {name: gzip.compress(idx_bytes(a)) for name, a in zip(files, fake_mnist(9, seed=4), strict=True)}
    web = Mirrors({first: wrong, second: files})
    monkeypatch.setattr(mnist_module, "_open_url", web)
    X, y = datasets.load_fashion_mnist(kind="test")  # into the default cache
    np.testing.assert_allclose(X, images.reshape(9, 784) / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(y, labels)
    assert X.dtype == np.float32 and y.dtype == np.int64
    assert web.requests == [base + name for name in files for base in (first, second)]
    cache = tmp_path / "cache" / "fashion-mnist"
    assert sorted(os.listdir(cache)) == sorted(files)  # the verified bytes only, no temporary files
    assert all((cache / name).read_bytes() == data for name, data in files.items())
    datasets.load_fashion_mnist(kind="test")
    assert len(web.requests) == 4  # cached: nothing fetched again


def test_fashion_download_checks_its_own_table(tmp_path, monkeypatch, fake_fashion):
    files, _, _ = fake_fashion
    for name, data in files.items():  # bytes that are MNIST's by MNIST_MD5 are not Fashion-MNIST's
        monkeypatch.setitem(datasets.MNIST_MD5, name, hashlib.md5(data).hexdigest())
        monkeypatch.setitem(datasets.FASHION_MNIST_MD5, name, "0" * 32)
    monkeypatch.setattr(mnist_module, "_open_url", FakeWeb(files))
    with pytest.raises(DataError, match="MD5 .* != expected 0{32}"):
        datasets.download_fashion_mnist(tmp_path, kind="test")
    assert os.listdir(tmp_path) == []
    assert datasets.download_mnist(tmp_path, kind="test") == tmp_path  # and MNIST's code still reads MNIST's


def test_fashion_download_offline_says_what_to_put_where(tmp_path, monkeypatch, fake_fashion):
    web = FakeWeb(fail=urllib.error.URLError("no network"))
    monkeypatch.setattr(mnist_module, "_open_url", web)
    with pytest.raises(DataError) as info:
        datasets.load_fashion_mnist(tmp_path / "here", kind="train")
    msg = str(info.value)
    assert "Fashion-MNIST train files" in msg and "no network" in msg and str(tmp_path / "here") in msg
    assert "train-images-idx3-ubyte.gz" in msg and "train-labels-idx1-ubyte.gz" in msg
    assert len(web.requests) == len(datasets.FASHION_MNIST_MIRRORS)  # each mirror once, then the error
    assert all(url.endswith("train-images-idx3-ubyte.gz") for url in web.requests)


def test_fashion_does_not_read_npae_data_dir(tmp_path, monkeypatch, fake_fashion):
    write_test_set(tmp_path, 5)  # the examples' folder, e.g. MNIST
    monkeypatch.setenv("NPAE_DATA_DIR", str(tmp_path))
    web = FakeWeb(fail=AssertionError("must not download"))
    monkeypatch.setattr(mnist_module, "_open_url", web)
    with pytest.raises(DataError, match=r"Fashion-MNIST test files not found in .*fashion-mnist.*download="):
        datasets.load_fashion_mnist(kind="test", download=False)
    assert web.requests == []
    assert datasets.load_fashion_mnist(tmp_path, kind="test", download=False)[0].shape == (5, 784)


def test_fashion_refuses_a_folder_of_known_mnist_files(tmp_path, monkeypatch):
    write_test_set(tmp_path, 5)
    labels = tmp_path / "t10k-labels-idx1-ubyte.gz"
    monkeypatch.setitem(identity.KNOWN_FILES, hashlib.md5(labels.read_bytes()).hexdigest(),
                        ("MNIST", "t10k-labels-idx1-ubyte"))
    with pytest.raises(DataError, match=r"is the MNIST file t10k-labels-idx1-ubyte .*not Fashion-MNIST"):
        datasets.load_fashion_mnist(tmp_path, kind="test", download=False)
    assert load_mnist(tmp_path, kind="test", download=False)[0].shape == (5, 784)  # the generic reader does


def test_default_cache_dirs():
    assert datasets.default_cache_dir("Fashion-MNIST") == Path.home() / ".cache" / "npae" / "fashion-mnist"
    assert datasets.default_cache_dir("MNIST") == datasets.default_cache_dir()
    with pytest.raises(ValueError, match="dataset must be one of"):
        datasets.default_cache_dir("fashion")


@pytest.mark.parametrize("function", ["load_fashion_mnist", "load_mnist", "download_fashion_mnist",
                                      "download_mnist"])
def test_data_functions_check_their_arguments(tmp_path, monkeypatch, function):
    monkeypatch.setattr(mnist_module, "_open_url", FakeWeb(fail=AssertionError("must not download")))
    f = getattr(datasets, function)
    with pytest.raises(TypeError, match="data_dir must be None, a str or an os.PathLike, got int"):
        f(3)
    with pytest.raises(ValueError, match=r"kind must be one of \['train', 'test'\], got 't10k'"):
        f(tmp_path, kind="t10k")
    if function.startswith("load"):
        with pytest.raises(TypeError, match="download must be a bool, got str"):
            f(tmp_path, download="yes")
        return
    with pytest.raises(TypeError, match="mirrors must be a tuple of base URLs"):
        f(tmp_path, mirrors="http://example.org/")
    with pytest.raises(ValueError, match="at least one base URL"):
        f(tmp_path, mirrors=())
    with pytest.raises(ValueError, match=r"mirrors\[1\] must end in '/'"):
        f(tmp_path, mirrors=("http://a.example/", "http://b.example"))
    with pytest.raises(TypeError, match=r"mirrors\[0\] must be a str"):
        f(tmp_path, mirrors=(None,))


DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")


def test_debian_fashion_mnist_is_read_as_it_is():
    """Debian's copy (``apt-get install dataset-fashion-mnist``): other gzip headers, the same images."""
    names = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
             "t10k-labels-idx1-ubyte.gz")
    if not all((DEBIAN_FASHION / name).is_file() for name in names):
        pytest.skip(f"Debian's Fashion-MNIST is not installed in {DEBIAN_FASHION}")
    stored = {name: hashlib.md5((DEBIAN_FASHION / name).read_bytes()).hexdigest() for name in names}
    assert all(stored[name] != datasets.FASHION_MNIST_MD5[name] for name in names)  # why nothing re-verifies
    assert datasets.identify(DEBIAN_FASHION / name for name in names) == "Fashion-MNIST"
    X, y = datasets.load_fashion_mnist(DEBIAN_FASHION, kind="test", download=False)
    assert X.shape == (10000, 784) and X.dtype == np.float32 and 0.0 <= X.min() and X.max() == 1.0
    assert 0.28 < X.mean() < 0.29  # Fashion-MNIST's mean pixel (MNIST's is 0.13)
    np.testing.assert_array_equal(np.bincount(y), np.full(10, 1000))
    np.testing.assert_array_equal(y[:5], [9, 2, 1, 1, 6])  # ankle boot, pullover, trouser, trouser, shirt
    assert datasets.download_fashion_mnist(DEBIAN_FASHION, kind="train") == DEBIAN_FASHION  # present: kept


def test_real_mnist_is_not_read_as_fashion_mnist():
    folder = Path(os.environ.get("NPAE_DATA_DIR") or "/nonexistent")
    if datasets.identify(sorted(folder.glob("t10k-*.gz"))) != "MNIST":
        pytest.skip("NPAE_DATA_DIR with the gzipped MNIST test set is not available")
    with pytest.raises(DataError, match="is the MNIST file t10k-labels-idx1-ubyte"):
        datasets.load_fashion_mnist(folder, kind="test", download=False)


# ---------------------------------------------------------------- photos and natural patches
def test_sample_photo():
    assert "grace_hopper" in available_photos()
    img = sample_photo("grace_hopper")
    assert img.shape == (600, 512, 3) and img.dtype == np.float64
    assert 0.0 <= img.min() and img.max() <= 1.0 and img.std() > 0.1
    img[:] = 0  # a copy: the next call is unaffected
    assert sample_photo().max() > 0
    for name in available_photos():
        assert sample_photo(name).shape[2] == 3
    with pytest.raises(ValueError, match="name must be one of"):
        sample_photo("lena")


def test_normalize_patches_closed_form():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((50, 16))
    out = normalize_patches(x)
    centred = x - x.mean(axis=1, keepdims=True)
    s = 3 * centred.std()
    expected = 0.1 + 0.4 * (np.clip(centred, -s, s) / s + 1)
    np.testing.assert_allclose(out, expected, rtol=1e-12)
    assert out.min() >= 0.1 and out.max() <= 0.9
    # Without clipping, each patch's mean maps to exactly 0.5.
    small = np.array([[0.0, 1.0, 2.0, 3.0], [5.0, 5.5, 6.0, 6.5]])
    np.testing.assert_allclose(normalize_patches(small).mean(axis=1), 0.5, rtol=1e-12)


def test_natural_patches():
    p = natural_patches(2000, size=8, rng=0)
    assert p.shape == (2000, 64) and p.dtype == np.float32
    assert p.min() >= 0.1 and p.max() <= 0.9
    # Most patches are not clipped, so their means sit near 0.5 (within 0.05 for 90% of them).
    assert np.mean(np.abs(p.mean(axis=1) - 0.5) < 0.05) > 0.9
    np.testing.assert_array_equal(p, natural_patches(2000, size=8, rng=0))
    assert not np.array_equal(p, natural_patches(2000, size=8, rng=1))
    assert natural_patches(5, size=12, rng=0, dtype=np.float64).shape == (5, 144)
    assert natural_patches(5, rng=0, dtype=np.float64).dtype == np.float64


def test_natural_patches_bad_arguments():
    with pytest.raises(ValueError, match="n must be >= 1"):
        natural_patches(0)
    with pytest.raises(TypeError, match="size must be an int"):
        natural_patches(10, size=2.5)
    with pytest.raises(ValueError, match="size must be at most"):
        natural_patches(10, size=1000)
    with pytest.raises(TypeError, match="dtype"):
        natural_patches(10, dtype=np.int32)
    with pytest.raises(TypeError, match="rng"):
        natural_patches(10, rng="seed")
    with pytest.raises(ValueError, match="photo must be one of"):
        natural_patches(10, photo="nope")
    with pytest.raises(ValueError, match="downsample must be >= 1"):
        natural_patches(10, downsample=0)


def test_block_mean_and_full_resolution_patches():
    img = np.arange(30.0).reshape(5, 6)
    np.testing.assert_array_equal(datasets.block_mean(img, 2), [[3.5, 5.5, 7.5], [15.5, 17.5, 19.5]])
    np.testing.assert_array_equal(datasets.block_mean(img, 1), img)
    assert natural_patches(50, size=8, rng=0, downsample=1).shape == (50, 64)
    with pytest.raises(ValueError, match="usable area"):
        natural_patches(5, size=300, rng=0)  # 300 x 256 after halving, 284 x 240 inside the margins


def neighbour_correlation(img: np.ndarray) -> float:
    return float(np.corrcoef(img[:, :-1].ravel(), img[:, 1:].ravel())[0, 1])


def test_whitening_decorrelates_neighbours():
    grey = datasets.to_grey(sample_photo())
    white = whiten_image(grey)
    assert abs(white.mean()) < 1e-10 and abs(white.std() - 1) < 1e-10
    # A photo's neighbouring pixels are almost identical; whitening removes much of that
    # redundancy. Measured on this photo: 0.97 before, 0.66 after (not 0: the JPEG photo falls
    # off faster than 1/f, and the exp(-(f/f0)^4) cut-off keeps some smoothing).
    assert neighbour_correlation(grey) > 0.95
    assert neighbour_correlation(white[8:-8, 8:-8]) < 0.75


def test_whitening_flattens_a_one_over_f_spectrum():
    # Synthetic 1/f noise: white noise with its amplitude spectrum divided by f.
    rng = np.random.default_rng(0)
    n = 128
    f = np.sqrt(np.fft.fftfreq(n)[:, None] ** 2 + np.fft.fftfreq(n)[None, :] ** 2)
    spectrum = np.fft.fft2(rng.standard_normal((n, n))) / np.where(f > 0, f, 1.0)
    img = np.real(np.fft.ifft2(spectrum))
    amp = np.abs(np.fft.fft2(whiten_image(img, f0=10.0)))  # f0 large: the ramp alone
    low, mid = amp[(f > 0.05) & (f < 0.1)].mean(), amp[(f > 0.3) & (f < 0.35)].mean()
    assert 0.8 < low / mid < 1.25  # flat to within 25% (it was 1/f: a factor of ~5 here)


# ---------------------------------------------------------------- element types, empty files, small folders
def write_typed_test_set(folder: Path, images: np.ndarray, labels: np.ndarray) -> None:
    """t10k files holding ``images`` and ``labels`` in their own IDX element types (not cast to uint8)."""
    (folder / "t10k-images-idx3-ubyte").write_bytes(idx_bytes(images))
    (folder / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(labels))


def test_float_images_are_taken_as_they_are_and_must_lie_in_0_1(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.uniform(size=(5, 28, 28)).astype(np.float32)
    write_typed_test_set(tmp_path, images, np.arange(5, dtype=np.uint8))
    X, y = datasets.load_mnist(tmp_path, "test", download=False)
    np.testing.assert_array_equal(X, images.reshape(5, -1))  # not divided by 255 (was a maximum of 0.0039)
    for bad, message in ((images * 2, r"must already be in \[0, 1\].*got values in \[0.*, 1\.99"),
                         (np.where(images > 0.5, np.nan, images).astype(np.float64), "hold 1,9.. NaN")):
        write_typed_test_set(tmp_path, bad, np.arange(5, dtype=np.uint8))
        with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte: float images " + message):
            datasets.load_mnist(tmp_path, "test", download=False)


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32])
def test_other_integer_images_are_refused(tmp_path, dtype):
    write_typed_test_set(tmp_path, np.full((3, 28, 28), 4, dtype=dtype), np.arange(3, dtype=np.uint8))
    with pytest.raises(DataError, match=rf"images of type {np.dtype(dtype).name}; npae reads uint8 images"):
        datasets.load_mnist(tmp_path, "test", download=False)


def test_float_labels_and_empty_files_are_refused(tmp_path):
    images = np.zeros((3, 28, 28), np.uint8)
    write_typed_test_set(tmp_path, images, np.array([1.0, 2.5, 3.0], dtype=np.float32))
    with pytest.raises(DataError, match=r"labels of type >?float32; class ids must be integers"):
        datasets.load_mnist(tmp_path, "test", download=False)
    write_typed_test_set(tmp_path, np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.uint8))
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte: holds 0 images"):
        datasets.load_mnist(tmp_path, "test", download=False)


@pytest.mark.parametrize("n, n_train", [(5000, 4000), (8000, 6400), (8001, 6401), (2, 1), (10000, 8000)])
def test_a_test_only_folder_of_8000_or_fewer_images_is_split_four_to_one(tmp_path, n, n_train):
    write_typed_test_set(tmp_path, np.zeros((n, 28, 28), np.uint8), (np.arange(n) % 10).astype(np.uint8))
    X_train, _, X_test, _, source = datasets.mnist_split(tmp_path)
    assert (len(X_train), len(X_test)) == (n_train, n - n_train) and len(X_test) >= 1
    assert f"evaluating on the last {n - n_train:,} of {n:,} test images" in source
    write_typed_test_set(tmp_path, np.zeros((1, 28, 28), np.uint8), np.zeros(1, np.uint8))
    with pytest.raises(DataError, match="only a test set of 1 image, too few to split"):
        datasets.mnist_split(tmp_path)


def test_mnist_split_refuses_bad_counts(tmp_path):
    write_typed_test_set(tmp_path, np.zeros((20, 28, 28), np.uint8), (np.arange(20) % 10).astype(np.uint8))
    for kwargs, error, message in (({"n_train": -5}, ValueError, "n_train must be >= 1, got -5"),
                                   ({"n_train": 0}, ValueError, "n_train must be >= 1, got 0"),
                                   ({"n_test": 2.5}, TypeError, r"n_test must be an int, got float \(2\.5\)"),
                                   ({"n_test": True}, TypeError, "n_test must be an int, got bool")):
        with pytest.raises(error, match=message):
            datasets.mnist_split(tmp_path, **kwargs)


def test_a_gzip_bomb_is_not_decompressed_whole(tmp_path, monkeypatch):
    """A 1 MB gzip of a valid header and then 1 GiB: only the declared size (plus one byte) is inflated."""
    import zlib

    header = idx_bytes(np.zeros((10, 28, 28), np.uint8))
    z = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: a gzip container
    parts = [z.compress(header)]
    block = bytes(2**20)
    for _ in range(1024):  # 1 GiB of zeros, compressed as it goes
        parts.append(z.compress(block))
    parts.append(z.flush())
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(b"".join(parts))
    assert path.stat().st_size < 2 * 2**20
    inflated = []
    import gzip as gzip_module

    class Counting(gzip_module.GzipFile):
        def read(self, size=-1):
            assert size != -1 and size is not None, "the whole stream was asked for"
            out = super().read(size)
            inflated.append(len(out))
            return out

    from npae.datasets import idx as idx_module
    monkeypatch.setattr(idx_module.gzip, "open", lambda p, mode="rb": Counting(p, mode))
    with pytest.raises(DataError, match=r"truncated or oversized file: 7857 bytes, header says 7856"):
        idx_module.read_idx(path)
    assert sum(inflated) == len(header) + 1


def test_scaled_rows_refuses_an_integer_dtype():
    with pytest.raises(TypeError, match="dtype must be float32 or float64, got int64"):
        ScaledRows(np.zeros((2, 4), np.uint8), dtype=int)


MAPPED_SCRIPT = """
import os, sys
import numpy as np
import npae
from npae.datasets import ScaledRows, open_idx
path, rows = sys.argv[1], sys.argv[2]
X = ScaledRows(open_idx(path), scale=1 / 255)
model = npae.Autoencoder(sizes=(784, 8), random_state=0)
model.fit(X, epochs=1, batch_size=16)
os.truncate(path, 2000)  # the file shrinks while the model still maps it
try:
    model.fit(X, epochs=1, batch_size=16)
except ValueError as exc:
    print("refused:", exc)
np.save(rows, np.random.default_rng(0).uniform(size=(32, 6)).astype(np.float32))
R = np.load(rows, mmap_mode="r")  # a memmap given to fit as it is
model = npae.Autoencoder(sizes=(6, 3), random_state=0)
model.fit(R, epochs=1, batch_size=8)
os.truncate(rows, 200)
try:
    model.fit(R, epochs=1, batch_size=8)
except ValueError as exc:
    print("refused:", exc)
"""


def test_a_memory_mapped_file_truncated_during_training_is_refused_not_a_crash(tmp_path):
    """In a child process: before the check, reading the truncated mapping killed Python (SIGBUS)."""
    import subprocess
    import sys

    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(idx_bytes(np.random.default_rng(0).integers(0, 256, (64, 28, 28)).astype(np.uint8)))
    run = subprocess.run([sys.executable, "-c", MAPPED_SCRIPT, str(path), str(tmp_path / "rows.npy")],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, (run.returncode, run.stderr[-500:])  # -7: killed by SIGBUS
    refusals = [line for line in run.stdout.splitlines() if line.startswith("refused:")]
    assert len(refusals) == 2
    assert "ScaledRows data: its file" in refusals[0]
    assert "is now 2,000 bytes, shorter than the 50,192 mapped when it was opened" in refusals[0]
    assert "X: its file" in refusals[1] and "rows.npy is now 200 bytes, shorter than the 896" in refusals[1]
