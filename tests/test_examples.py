"""The example scripts as a new user meets them: bad arguments refused before any data is read,
and the data that was read named in the output and in metrics.json."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from example_scripts import load_example

from npae.datasets import available_photos, sample_photo
from npae.datasets import mnist as mnist_module

from idx_files import write_mnist

example = load_example


@pytest.fixture(scope="module")
def mnist_dir(tmp_path_factory) -> Path:
    """60 training and 30 test random 28x28 images in MNIST's IDX format (every label present)."""
    folder = tmp_path_factory.mktemp("idx")
    rng = np.random.default_rng(0)
    for stem, n in (("train", 60), ("t10k", 30)):
        write_mnist(folder, stem, (rng.uniform(size=(n, 28, 28)) < 0.2) * 255, np.arange(n) % 10)
    return folder


# One bad argument per example: the shared ones and each script's own.
BAD_ARGUMENTS = [
    ("anomaly_detection", ("--code", "0"), "argument --code: expected an integer from 1 to 784, got '0'"),
    ("anomaly_detection", ("--digit", "10"), "argument --digit: invalid choice: 10"),
    ("contractive", ("--lam", "-1"), "argument --lam: expected a number >= 0, got '-1'"),
    ("conv_ae", ("--steps", "-1"), "argument --steps: expected an integer >= 1, got '-1'"),
    ("conv_denoising", ("--noise-factor", "nan"),
     "argument --noise-factor: expected a number >= 0, got 'nan'"),
    ("denoising", ("--n-train", "0"), "argument --n-train: expected an integer >= 1 or 'all', got '0'"),
    ("inpainting", ("--hidden", "0"), "argument --hidden: expected an integer >= 1, got '0'"),
    ("inpainting", ("--n-test", "some"), "argument --n-test: expected an integer >= 1 or 'all', got 'some'"),
    ("pca_vs_autoencoder", ("--deep-ks", "8", "1000"),
     "argument --deep-ks: expected an integer from 1 to 784, got '1000'"),
    ("sparse_kl", ("--data", "mnist", "--n", "-5"),
     "argument --n: expected an integer >= 1 or 'all', got '-5'"),
    ("sparse_kl", ("--n", "all"), "argument --n: 'all' is for --data mnist"),
    ("sparse_kl", ("--l1-beta", "0"), "argument --l1-beta: expected a number > 0, got '0'"),
    ("sparse_kl", ("--penalty", "l2"), "argument --penalty: invalid choice: 'l2'"),
    ("overcomplete", ("--hidden", "0"), "argument --hidden: expected an integer >= 1, got '0'"),
    ("overcomplete", ("--sigma", "-0.1"), "argument --sigma: expected a number > 0, got '-0.1'"),
    ("vae", ("--batch-size", "0"), "argument --batch-size: expected an integer >= 1, got '0'"),
    ("watermark_removal", ("--opacity", "1.5"),
     "argument --opacity: expected a number > 0 and <= 1, got '1.5'"),
    ("colorization", ("--n-patches", "-1"), "argument --n-patches: expected an integer >= 1, got '-1'"),
    ("colorization", ("--photo", "lena"), "argument --photo: invalid choice: 'lena'"),
    ("sparse_kl", ("--photo", "lena"), "argument --photo: invalid choice: 'lena'"),
    # combinations and sizes that once failed only after the data was read, with a traceback
    ("vae", ("--learn-sigma",), "--learn-sigma needs --likelihood gaussian"),
    ("anomaly_detection", ("--code", "1000"),
     "argument --code: expected an integer from 1 to 784, got '1000'"),
    ("pca_vs_autoencoder", ("--k", "300", "--n-train", "100"),
     "--n-train 100 is fewer than the 300 principal directions fitted"),
    ("colorization", ("--patch", "200"), "--patch 200 is larger than --square 64"),
    ("colorization", ("--square", "1"), "--patch 8 is larger than --square 1"),
    ("colorization", ("--patch", "64", "--square", "8"), "--patch 64 is larger than --square 8"),
    ("colorization", ("--square", "300"), "argument --square: expected an integer from 1 to 256, got '300'"),
    ("colorization", ("--photo", "present", "--square", "65"),
     "--square 65 is more than half the present photo's shorter side (128 pixels)"),
    ("watermark_removal", ("--opacity", "0"), "argument --opacity: expected a number > 0 and <= 1, got '0'"),
    ("conv_ae", ("--code-size", "3000000"),
     "argument --code-size: expected an integer from 1 to 784, got '3000000'"),
    ("notes_network", ("--code", "0"), "argument --code: expected an integer from 1 to 784, got '0'"),
    ("notes_network", ("--code", "64", "--n-train", "40"),
     "--n-train 40 is fewer than the 64 principal directions PCA fits"),
]


@pytest.mark.parametrize("name, argv, message", BAD_ARGUMENTS)
def test_a_bad_argument_is_refused_before_any_data_is_read(monkeypatch, capsys, tmp_path, mnist_dir,
                                                           name, argv, message):
    module = example(name)
    reads = []

    def refuse(*args, **kwargs):
        reads.append(args)
        raise AssertionError("data read before the arguments were checked")

    for reader in ("load_mnist", "read_idx", "identify"):  # what mnist_split calls
        monkeypatch.setattr(mnist_module, reader, refuse)
    for reader in ("natural_patches", "sample_photo"):  # the offline examples' data
        if hasattr(module, reader):
            monkeypatch.setattr(module, reader, refuse)
    with pytest.raises(SystemExit) as info:
        module.main(["--data-dir", str(mnist_dir), "--out", str(tmp_path), *argv])
    err = capsys.readouterr().err
    assert info.value.code == 2 and f"error: {message}" in err and reads == []


def test_the_output_and_metrics_name_the_folder_and_the_counts(capsys, tmp_path, mnist_dir):
    out = tmp_path / "out"
    example("denoising").main(["--data-dir", str(mnist_dir), "--out", str(out), "--steps", "1",
                               "--hidden", "8", "--code", "4", "--n-train", "50", "--n-test", "all"])
    source = ("unidentified MNIST-format data (MD5s not those of the MNIST or Fashion-MNIST files npae "
              f"knows) in {mnist_dir}: training on the first 50 of 60 training images, evaluating on all "
              "30 test images")
    assert capsys.readouterr().out.startswith(f"data: {source}\n")
    assert json.loads((out / "metrics.json").read_text())["data"] == source


def test_the_watermark_removers_gated_backward_matches_central_differences():
    """x_hat = g x_tilde + (1 - g) y: the hand-written da, db (docs/13) against central differences."""
    from npae.gradcheck import check_model

    module = example("watermark_removal")
    remover = module.WatermarkRemover(sizes=(16, 6, 4), random_state=0, dtype=np.float64)
    remover._corrupt = lambda X, rng: X * rng.uniform(size=X.shape)  # any fixed-seed corruption of 16 pixels
    X = np.random.default_rng(1).uniform(size=(3, 16))
    assert max(check_model(remover, X).values()) < 1e-7
    assert remover.decoder.layers[-1].params["b"].shape == (32,)  # the logits [a, b] of the gate and content
    plain = example("watermark_removal").WatermarkRemover(sizes=(64, 16, 8), gated=False, random_state=0)
    assert plain.decoder.layers[-2].params["b"].shape == (64,)  # --plain: 64 pixels, then a sigmoid


def test_the_watermark_remover_starts_near_copying_its_input():
    remover = example("watermark_removal").WatermarkRemover(sizes=(784, 32, 8), random_state=0)
    X = np.random.default_rng(0).uniform(size=(8, 784)).astype(np.float32)
    out = remover.reconstruct(X)
    assert out.shape == X.shape and np.abs(out - X).mean() < 0.15 * np.abs(0.5 - X).mean() + 0.1


def test_the_inpainting_dae_trains_on_scattered_and_square_holes():
    dae = example("inpainting").InpaintingDAE(sizes=(784, 16, 8), random_state=0)
    X = np.ones((400, 784), dtype=np.float32)
    holes = (dae._corrupt(X, np.random.default_rng(0)) == 0).reshape(400, 28, 28)  # True: missing

    def is_square(h):
        rows, cols = h.any(axis=1).sum(), h.any(axis=0).sum()
        return rows == cols and h.sum() == rows * cols

    squares = [h for h in holes if is_square(h)]
    assert 0.3 < len(squares) / 400 < 0.7  # about half the rows get one square hole
    sides = {int(h.any(axis=1).sum()) for h in squares}
    assert len(sides) == 1 and 8 <= sides.pop() <= 16  # one side per batch, from 8 to 16
    scattered = [h for h in holes if not is_square(h)]
    assert 0.25 <= np.mean(scattered) <= 0.75  # the rest: a random fraction of pixels


EXAMPLES = sorted(p.stem for p in (Path(__file__).parents[1] / "examples").glob("*.py"))


@pytest.mark.parametrize("name", EXAMPLES)
def test_an_output_folder_that_cannot_be_written_is_refused_before_any_data_is_read(
        monkeypatch, capsys, tmp_path, mnist_dir, name):
    import time

    module = example(name)
    reads = []

    def refuse(*args, **kwargs):
        reads.append(args)
        raise AssertionError("data read before the output folder was checked")

    for reader in ("load_mnist", "read_idx", "identify"):
        monkeypatch.setattr(mnist_module, reader, refuse)
    for reader in ("natural_patches", "sample_photo"):
        if hasattr(module, reader):
            monkeypatch.setattr(module, reader, refuse)
    a_file = tmp_path / "a_file"
    a_file.write_text("not a folder")
    for out, message in ((a_file, "is a file, not a folder"), (a_file / "sub", "is not a folder"),
                         ("/proc/npae-out", "cannot write in the folder '/proc'"), ("", "is empty")):
        tic = time.perf_counter()
        with pytest.raises(SystemExit) as info:
            module.main(["--data-dir", str(mnist_dir), "--out", str(out)])
        assert time.perf_counter() - tic < 2
        err = capsys.readouterr().err
        assert info.value.code == 2 and "argument --out: expected a folder to write into" in err, err
        assert message in err
    assert reads == [] and a_file.read_text() == "not a folder"


def test_folders_the_examples_cannot_use_are_usage_errors_not_tracebacks(capsys, tmp_path):
    rng = np.random.default_rng(0)
    cases = []
    big = tmp_path / "32x32"
    big.mkdir()
    write_mnist(big, "t10k", (rng.uniform(size=(40, 32, 32)) < 0.2) * 255, np.arange(40) % 10)
    cases.append(("denoising", big, (), "holds 32x32 images; the examples take MNIST's 28x28 (784 pixels)"))
    no_five = tmp_path / "no_five"
    no_five.mkdir()
    labels = np.arange(40) % 10
    labels[labels == 5] = 4
    write_mnist(no_five, "t10k", (rng.uniform(size=(40, 28, 28)) < 0.2) * 255, labels)
    cases.append(("anomaly_detection", no_five, (),
                  "hold 0 of digit 5: PCA with --code 16 needs at least 16"))
    labels_255 = tmp_path / "labels_255"
    labels_255.mkdir()
    write_mnist(labels_255, "t10k", (rng.uniform(size=(40, 28, 28)) < 0.2) * 255, np.full(40, 255))
    cases.append(("feature_learning", labels_255, (), "the training labels run from 255 to 255; the examples "
                                                      "take MNIST's class ids 0 to 9"))
    for name, folder, argv, message in cases:
        with pytest.raises(SystemExit) as info:
            example(name).main(["--data-dir", str(folder), "--out", str(tmp_path / "out"), *argv])
        err = capsys.readouterr().err
        assert info.value.code == 2 and message in err, (name, err)


@pytest.mark.parametrize("name, argv, message", [
    ("sparse_kl", ("--l1-beta", "0.05"),
     "argument --l1-beta: the L1 penalty is used with --penalty l1 or both"),
    ("sparse_kl", ("--data", "mnist", "--photo", "present"),
     "argument --photo: the photo is for --data patches; --data mnist reads --data-dir"),
    ("feature_learning", ("--k", "100000"),
     "argument --k: 100000 neighbours, more than the 100 labelled images"),
])
def test_options_that_would_be_ignored_or_misreported_are_refused(capsys, tmp_path, mnist_dir, name, argv,
                                                                  message):
    with pytest.raises(SystemExit) as info:
        example(name).main(["--data-dir", str(mnist_dir), "--out", str(tmp_path), *argv])
    assert info.value.code == 2 and message in capsys.readouterr().err


def test_colorization_knows_half_the_shorter_side_of_every_photo():
    half_side = example("colorization").HALF_SIDE
    assert set(half_side) >= set(available_photos())
    for name in available_photos():
        assert half_side[name] == min(sample_photo(name).shape[:2]) // 2, name


def test_sparse_kl_says_every_parameter_when_check_coords_exceeds_every_array(capsys, tmp_path):
    example("sparse_kl").main(["--n", "300", "--max-iter", "1", "--check-coords", "100000000", "--out",
                               str(tmp_path)])
    out = capsys.readouterr().out
    assert "10 examples, every parameter)" in out and "100000000 random entries" not in out


def test_the_notes_network_example_trains_the_default_network_and_scores_it_against_pca(tmp_path, mnist_dir):
    """examples/notes_network.py: the notes' 784-32-784 with BCE, a few updates on random images; every
    measure of the network, PCA and the mean image in metrics.json, the pictures written."""
    out = tmp_path / "notes"
    m = example("notes_network").main(["--data-dir", str(mnist_dir), "--out", str(out), "--steps", "4",
                                       "--batch-size", "16"])
    assert m["network"] == "Autoencoder(784-32-784, activation='relu', loss='bce')"
    assert m["n_parameters"] == 50992 and m["epochs"] == 1 and m["n_train"] == 60 and m["n_test"] == 30
    assert set(m["results"]) == {"network", "PCA 32", "mean image"}
    for r in m["results"].values():
        assert set(r) == {"bce", "mse", "psnr_db", "ssim"} and all(np.isfinite(v) for v in r.values())
        assert r["bce"] > m["bce_floor"]  # no reconstruction goes below the images' own entropy
    assert 0 <= m["constant_pixels"] <= 784
    assert json.loads((out / "metrics.json").read_text())["beats_pca"] == m["beats_pca"]
    assert (out / "reconstructions.png").is_file() and (out / "training_loss.png").is_file()
