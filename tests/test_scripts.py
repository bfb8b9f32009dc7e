"""Tests of npae.scripts: the example scripts' shared arguments and MNIST loading."""

from __future__ import annotations

import numpy as np
import pytest

from npae.scripts import NO_DATA_MESSAGE, example_parser, load_mnist_or_exit

from idx_files import write_mnist


def write_fake_mnist(folder, n_train: int = 30, n_test: int = 20, seed: int = 0) -> np.ndarray:
    """Random 28x28 uint8 'digits' in MNIST's gzipped IDX files; returns the test images (n_test, 28, 28)."""
    rng = np.random.default_rng(seed)
    test_images = None
    for kind, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        write_mnist(folder, kind, images, np.arange(n) % 10)
        test_images = images
    return test_images


def test_parser_defaults_and_optional_options(monkeypatch):
    monkeypatch.delenv("NPAE_DATA_DIR", raising=False)
    parser = example_parser("Title.\n\nMore.", "demo", epochs=7, batch_size=64, lr=3e-3, n_train=500)
    args = parser.parse_args([])
    assert vars(args) == {"data_dir": None, "out": "npae-out/demo", "epochs": 7, "batch_size": 64, "lr": 3e-3,
                          "n_train": 500, "seed": 0}
    bare = example_parser("Title.", "demo").parse_args([])
    assert vars(bare) == {"data_dir": None, "out": "npae-out/demo", "n_train": None, "seed": 0}
    parser = example_parser("Title.", "demo", epochs=3)
    parser.add_argument("--hidden", type=int, default=16)  # an example's own option
    args = parser.parse_args(["--epochs", "2", "--seed", "5", "--hidden", "8", "--out", "o"])
    assert (args.epochs, args.seed, args.hidden, args.out) == (2, 5, 8, "o")
    assert parser.description == "Title."
    with pytest.raises(SystemExit):  # no --lr when the example gives none
        parser.parse_args(["--lr", "0.1"])


def test_data_dir_defaults_to_the_environment_variable(monkeypatch, tmp_path):
    monkeypatch.setenv("NPAE_DATA_DIR", str(tmp_path))
    assert example_parser("T.", "demo").parse_args([]).data_dir == str(tmp_path)
    assert example_parser("T.", "demo").parse_args(["--data-dir", "elsewhere"]).data_dir == "elsewhere"


def test_no_folder_is_a_usage_error(monkeypatch, capsys):
    monkeypatch.delenv("NPAE_DATA_DIR", raising=False)
    parser = example_parser("T.", "demo")
    with pytest.raises(SystemExit) as info:
        load_mnist_or_exit(parser, parser.parse_args([]))
    assert info.value.code == 2
    assert NO_DATA_MESSAGE in capsys.readouterr().err


def test_missing_or_empty_folder_is_a_usage_error(tmp_path, capsys):
    parser = example_parser("T.", "demo")
    for folder in (tmp_path / "does-not-exist", tmp_path):
        with pytest.raises(SystemExit) as info:
            load_mnist_or_exit(parser, parser.parse_args(["--data-dir", str(folder)]))
        assert info.value.code == 2
        err = capsys.readouterr().err
        assert "error:" in err and "Traceback" not in err


def test_loads_a_fake_mnist_and_prints_its_source(tmp_path, capsys):
    test_images = write_fake_mnist(tmp_path, n_train=30, n_test=20)
    parser = example_parser("T.", "demo", n_train=12)
    X_train, y_train, X_test, y_test, source = load_mnist_or_exit(parser, parser.parse_args(["--data-dir",
                                                                                             str(tmp_path)]))
    assert X_train.shape == (12, 784) and y_train.shape == (12,)
    assert X_test.shape == (20, 784) and y_test.shape == (20,)
    np.testing.assert_array_equal(y_train, np.arange(12) % 10)
    np.testing.assert_allclose(X_test, test_images.reshape(20, 784) / 255.0, atol=1e-6)
    assert capsys.readouterr().out == f"data: {source}\ntraining on 12 images, evaluating on 20\n"
    assert "30" in source and "20" in source  # the sentence names both sets' sizes
