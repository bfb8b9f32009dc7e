"""tests/nondigit.py: MNIST-format folders of photo crops and glyphs that every npae loader reads."""

import time

import numpy as np
import pytest
from nondigit import GLYPHS, MIN_CROP_STD, write_glyphs, write_photo_crops

from npae import datasets

WRITERS = {"photo_crops": write_photo_crops, "glyphs": write_glyphs}
#: Classes of each writer's labels: the photographs, the characters.
N_CLASSES = {"photo_crops": len(datasets.available_photos()), "glyphs": len(GLYPHS)}
OFFICIAL = sorted(stem + ".gz" for kind in ("train", "test") for stem in datasets.MNIST_FILES[kind])


@pytest.fixture(scope="module", params=sorted(WRITERS))
def written(request, tmp_path_factory):
    """(writer name, folder, seconds it took) for 3,000 training and 600 test images."""
    folder = tmp_path_factory.mktemp(request.param)
    start = time.perf_counter()
    assert WRITERS[request.param](folder, n_train=3000, n_test=600, seed=0) == folder
    return request.param, folder, time.perf_counter() - start


def test_the_loaders_read_the_folder(written):
    name, folder, seconds = written
    assert sorted(p.name for p in folder.iterdir()) == OFFICIAL  # MNIST's four names, nothing else
    X_train, y_train, X_test, y_test, source = datasets.mnist_split(folder)
    for X, y, n in ((X_train, y_train, 3000), (X_test, y_test, 600)):
        assert X.shape == (n, 784) and X.dtype == np.float32 and y.shape == (n,)
        assert 0.0 <= X.min() and X.max() <= 1.0
        assert set(np.unique(y)) == set(range(N_CLASSES[name]))  # every class, no other label
        assert np.bincount(y).min() >= 0.7 * n / N_CLASSES[name]  # roughly balanced
    X, y = datasets.load_mnist(folder, kind="train", download=False)
    np.testing.assert_array_equal(X, X_train)
    np.testing.assert_array_equal(y, y_train)
    assert source.startswith(f"unidentified MNIST-format data (MD5s not those of the MNIST or Fashion-MNIST "
                             f"files npae knows) in {folder}: training on all 3,000 training images")
    assert seconds < 5.0, f"{name}: {seconds:.1f} s for 3,600 images (about 1 s expected on two cores)"


def test_the_images_are_not_trivial(written):
    name, folder, _ = written
    X_train, _, X_test, _, _ = datasets.mnist_split(folder)
    for X in (X_train, X_test):
        assert X.std(axis=1).min() > MIN_CROP_STD - 0.005  # no blank or nearly uniform image
        assert len(np.unique(X, axis=0)) > 0.8 * len(X)  # not a few images repeated
        assert np.abs(X - X.mean(axis=0)).mean() > 0.1  # images differ from their mean image
    train_rows = {row.tobytes() for row in X_train}
    assert not any(row.tobytes() in train_rows for row in X_test)  # no test image was a training image


def test_identify_reports_them_unidentified(written):
    _, folder, _ = written
    assert datasets.identify(folder.iterdir()) is None


@pytest.mark.parametrize("name", sorted(WRITERS))
def test_the_seed_decides_every_byte(tmp_path, name):
    def files(seed, where):
        WRITERS[name](tmp_path / where, n_train=40, n_test=10, seed=seed)
        return {f: (tmp_path / where / f).read_bytes() for f in OFFICIAL}

    first = files(0, "a")
    assert files(0, "b") == first
    other = files(1, "c")
    assert all(other[f] != first[f] for f in OFFICIAL if "images" in f)


@pytest.mark.parametrize("written", ["glyphs"], indirect=True)
def test_glyphs_look_like_mnist(written):
    _, folder, _ = written
    X, _ = datasets.load_mnist(folder, kind="train", download=False)
    images = X.reshape(-1, 28, 28)
    frame = np.ones((28, 28), bool)
    frame[3:-3, 3:-3] = False
    assert images[:, frame].mean() < 0.01  # black background: white ink inside a 3-pixel border
    grid = np.arange(28)
    mass = images.sum(axis=(1, 2))
    rows = images.sum(axis=2) @ grid / mass
    cols = images.sum(axis=1) @ grid / mass
    assert np.all(np.abs(rows - 13.5) < 2.5) and np.all(np.abs(cols - 13.5) < 2.5)  # centred by mass
    assert 0.08 < X.mean() < 0.25  # ink covers about as much as MNIST's (mean pixel 0.13)


@pytest.mark.parametrize("written", ["photo_crops"], indirect=True)
def test_photo_crops_share_the_photographs_equally(written):
    name, folder, _ = written
    _, y = datasets.load_mnist(folder, kind="test", download=False)
    assert np.all(np.bincount(y) == 600 // N_CLASSES[name])  # the photographs share the crops equally


@pytest.mark.parametrize("name", sorted(WRITERS))
@pytest.mark.parametrize("bad", [{"n_train": 0}, {"n_test": -1}, {"seed": -1}, {"n_train": 2.5},
                                 {"seed": True}])
def test_bad_sizes_are_refused(tmp_path, name, bad):
    args = {"n_train": 5, "n_test": 5, "seed": 0, **bad}
    key = next(iter(bad))
    with pytest.raises(ValueError, match=f"{key} must be an int"):
        WRITERS[name](tmp_path, **args)
    assert list(tmp_path.iterdir()) == []
