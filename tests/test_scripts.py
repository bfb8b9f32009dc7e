"""Tests of npae.scripts: the checked argument types, the example scripts' shared arguments, MNIST loading."""

from __future__ import annotations

import argparse

import numpy as np
import pytest

from npae.scripts import (
    DEFAULT_N_TEST,
    DEFAULT_N_TRAIN,
    NO_DATA_MESSAGE,
    argument_type,
    example_parser,
    existing_folder,
    fraction,
    load_mnist_or_exit,
    n_images,
    new_file,
    nonnegative_float,
    positive_int,
)

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


def test_argument_types_accept_good_values_and_name_the_expected_and_the_actual():
    assert positive_int("3") == 3 and nonnegative_float("0") == 0.0 and fraction("1") == 1.0
    assert n_images("all") is None and n_images("ALL") is None and n_images("12") == 12
    odd = argument_type(int, lambda v: v % 2 == 1, "an odd integer")
    assert odd("7") == 7
    cases = [(positive_int, "0", "expected an integer >= 1, got '0'"),
             (positive_int, "2.5", "expected an integer >= 1, got '2.5'"),
             (nonnegative_float, "-1e-3", "expected a number >= 0, got '-1e-3'"),
             (nonnegative_float, "nan", "expected a number >= 0, got 'nan'"),
             (nonnegative_float, "inf", "expected a number >= 0, got 'inf'"),
             (fraction, "1.5", "expected a number from 0 to 1, got '1.5'"),
             (n_images, "-5", "expected an integer >= 1 or 'all', got '-5'"),
             (odd, "4", "expected an odd integer, got '4'")]
    for parse, text, message in cases:
        with pytest.raises(argparse.ArgumentTypeError) as info:
            parse(text)
        assert str(info.value) == message


def test_path_types(tmp_path):
    assert existing_folder(str(tmp_path)) == str(tmp_path)
    assert new_file("model.npz") == "model.npz"  # the current folder
    assert new_file(str(tmp_path / "m.npz")) == str(tmp_path / "m.npz")
    with pytest.raises(argparse.ArgumentTypeError, match="expected an existing folder"):
        existing_folder(str(tmp_path / "nope"))
    with pytest.raises(argparse.ArgumentTypeError, match="expected a file in an existing folder"):
        new_file(str(tmp_path / "nope" / "m.npz"))


def test_parse_args_refuses_a_bad_value_with_the_option_name(capsys):
    parser = example_parser("T.", "demo", epochs=3)
    with pytest.raises(SystemExit) as info:
        parser.parse_args(["--epochs", "-1"])
    assert info.value.code == 2
    assert "error: argument --epochs: expected an integer >= 1, got '-1'" in capsys.readouterr().err


def test_parser_defaults_and_optional_options(monkeypatch):
    monkeypatch.delenv("NPAE_DATA_DIR", raising=False)
    parser = example_parser("Title.\n\nMore.", "demo", epochs=7, batch_size=64, lr=3e-3)
    args = parser.parse_args([])
    assert vars(args) == {"data_dir": None, "out": "npae-out/demo", "epochs": 7, "batch_size": 64, "lr": 3e-3,
                          "n_train": DEFAULT_N_TRAIN, "n_test": DEFAULT_N_TEST, "seed": 0}
    bare = example_parser("Title.", "demo").parse_args(["--n-train", "all", "--n-test", "all"])
    assert vars(bare) == {"data_dir": None, "out": "npae-out/demo", "n_train": None, "n_test": None,
                          "seed": 0}
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
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert example_parser("T.", "demo").parse_args(["--data-dir", str(elsewhere)]).data_dir == str(elsewhere)


def test_no_folder_is_a_usage_error(monkeypatch, capsys):
    monkeypatch.delenv("NPAE_DATA_DIR", raising=False)
    parser = example_parser("T.", "demo")
    with pytest.raises(SystemExit) as info:
        load_mnist_or_exit(parser, parser.parse_args([]))
    assert info.value.code == 2
    assert NO_DATA_MESSAGE in capsys.readouterr().err


def test_missing_or_empty_folder_is_a_usage_error(tmp_path, capsys):
    parser = example_parser("T.", "demo")
    with pytest.raises(SystemExit) as info:  # refused while parsing
        parser.parse_args(["--data-dir", str(tmp_path / "does-not-exist")])
    assert info.value.code == 2
    assert "argument --data-dir: expected an existing folder" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:  # a folder without the files
        load_mnist_or_exit(parser, parser.parse_args(["--data-dir", str(tmp_path)]))
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "error:" in err and "not found" in err and "Traceback" not in err


def test_loads_a_fake_mnist_and_prints_its_source(tmp_path, capsys):
    test_images = write_fake_mnist(tmp_path, n_train=30, n_test=20)
    parser = example_parser("T.", "demo")
    args = parser.parse_args(["--data-dir", str(tmp_path), "--n-train", "12"])
    X_train, y_train, X_test, y_test, source = load_mnist_or_exit(parser, args)
    assert X_train.shape == (12, 784) and y_train.shape == (12,)
    assert X_test.shape == (20, 784) and y_test.shape == (20,)
    np.testing.assert_array_equal(y_train, np.arange(12) % 10)
    np.testing.assert_allclose(X_test, test_images.reshape(20, 784) / 255.0, atol=1e-6)
    assert capsys.readouterr().out == f"data: {source}\n"
    assert source == (f"unidentified MNIST-format data (MD5s not those of the MNIST or Fashion-MNIST files "
                      f"npae knows) in {tmp_path}: training on the first 12 of 30 training images, "
                      f"evaluating on all 20 test images")


@pytest.mark.parametrize("steps, n, batch_size, epochs", [
    (630, 8000, 128, 10),   # 63 batches an epoch: 10 epochs make 630 updates
    (630, 3000, 128, 27),   # 24 batches an epoch: 27 epochs make 648 >= 630
    (630, 60000, 128, 2),   # 469 batches an epoch
    (1, 5, 128, 1),         # never fewer than one epoch
    (2500, 8000, 64, 20),
])
def test_epochs_for_makes_at_least_the_updates_asked(steps, n, batch_size, epochs):
    from npae.scripts import epochs_for

    assert epochs_for(steps, n, batch_size) == epochs
    assert epochs * -(-n // batch_size) >= steps > (epochs - 1) * -(-n // batch_size) or epochs == 1
