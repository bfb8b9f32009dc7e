"""The command line: every command on a tiny MNIST-format folder, errors as one line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import npae
from npae import cli
from npae.io import model_classes

from idx_files import write_mnist


@pytest.fixture(scope="module")
def mnist_dir(tmp_path_factory) -> Path:
    """A folder with MNIST-format IDX files: 48 training and 16 test 28x28 images of blobs."""
    folder = tmp_path_factory.mktemp("mnist")
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:28, :28]
    for stem, n in (("train", 48), ("t10k", 16)):
        centres = rng.uniform(8, 20, size=(n, 2))
        images = 255 * np.exp(-((yy - centres[:, :1, None]) ** 2 + (xx - centres[:, 1:, None]) ** 2) / 20)
        write_mnist(folder, stem, images, rng.integers(0, 10, n), gz=False)  # images (n, 28, 28)
    return folder


def run(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


OWN = sorted(n for n, c in model_classes().items() if c.__module__.startswith("npae."))  # not the tests' own


@pytest.mark.parametrize("name", OWN)
def test_gradcheck_every_model(capsys, name):
    code, out, err = run(capsys, "gradcheck", cli._kebab(name))
    assert code == 0, out + err
    assert "max relative error" in out and "OK" in out
    model = cli.small_model(model_classes()[name])
    for key in model.params:
        assert key in out


def test_train_evaluate_reconstruct(capsys, tmp_path, mnist_dir):
    path = tmp_path / "ae.npz"
    code, out, err = run(capsys, "train", "autoencoder", "--data-dir", mnist_dir, "--epochs", 2,
                         "--batch-size", 16, "--sizes", "784,16", "--loss", "bce", "--out", path,
                         "--checkpoint", tmp_path / "ck.npz")
    assert code == 0, err
    assert "data: MNIST training set (48 images)" in out and "epoch 2/2" in out and "test loss" in out
    model = npae.load(path)
    assert model.sizes == (784, 16) and model.loss == "bce" and len(model.history_["loss"]) == 2
    code, out, err = run(capsys, "train", "autoencoder", "--data-dir", mnist_dir, "--epochs", 3,
                         "--batch-size", 16,
                         "--out", path, "--resume", tmp_path / "ck.npz", "--quiet")
    assert code == 0, err
    assert len(npae.load(path).history_["loss"]) == 3
    code, out, err = run(capsys, "evaluate", path, "--data-dir", mnist_dir)
    assert code == 0, err
    values = dict(line.split() for line in out.splitlines() if len(line.split()) == 2)
    assert {"score", "mse", "mae", "psnr_db", "ssim"} <= set(values)
    code, out, err = run(capsys, "reconstruct", path, "--data-dir", mnist_dir, "--out", tmp_path / "grid.png")
    assert code == 0 and (tmp_path / "grid.png").stat().st_size > 1000


def model_data(folder):
    return npae.datasets.load_mnist(folder, "test")[0]


def test_evaluate_prints_the_model_loss(capsys, tmp_path, mnist_dir):
    model = npae.Autoencoder(sizes=(784, 8), random_state=0)
    model.save(tmp_path / "m.npz")
    code, out, _ = run(capsys, "evaluate", tmp_path / "m.npz", "--data-dir", mnist_dir)
    values = dict(line.split() for line in out.splitlines() if len(line.split()) == 2)
    X = model_data(mnist_dir)
    assert code == 0
    assert float(values["score"]) == pytest.approx(model.score(X), rel=1e-5)
    assert float(values["mse"]) == pytest.approx(np.mean((model.reconstruct(X) - X) ** 2), rel=1e-5)


def test_sample_from_a_vae_and_not_from_an_autoencoder(capsys, tmp_path, mnist_dir):
    code, _, err = run(capsys, "train", "vae", "--data-dir", mnist_dir, "--epochs", 1, "--sizes", "784,16",
                       "--latent-dim", 2, "--out", tmp_path / "vae.npz", "--quiet", "--no-val")
    assert code == 0, err
    code, out, err = run(capsys, "sample", tmp_path / "vae.npz", "--n", 16, "--out", tmp_path / "s.png")
    assert code == 0 and (tmp_path / "s.png").stat().st_size > 1000, err
    npae.Autoencoder(sizes=(784, 8)).save(tmp_path / "ae.npz")
    code, out, err = run(capsys, "sample", tmp_path / "ae.npz", "--out", tmp_path / "t.png")
    assert code == 1 and err.count("\n") == 1 and "cannot sample" in err and "Traceback" not in err


def test_errors_are_one_line_without_traceback_unless_debug(capsys, tmp_path, mnist_dir):
    cases = [(("gradcheck", "no-such-model"), "unknown model 'no-such-model'; choose one of"),
             (("train", "autoencoder", "--data-dir", mnist_dir, "--out", tmp_path / "x.npz", "--foo", 3),
              "Autoencoder has no argument --foo"),
             (("train", "autoencoder", "--data-dir", mnist_dir, "--out", tmp_path / "x.npz", "--activation",
               "swish"), "activation must be one of"),
             (("train", "autoencoder", "--data-dir", mnist_dir, "--out", tmp_path / "x.npz", "--epochs", -1),
              "epochs must be >= 0"),
             (("evaluate", tmp_path / "missing.npz", "--data-dir", mnist_dir), "no such model file")]
    for argv, message in cases:
        code, out, err = run(capsys, *argv)
        assert code == 1 and message in err and err.count("\n") == 1 and "Traceback" not in err, err
    with pytest.raises(ValueError):
        cli.main(["--debug", "evaluate", str(tmp_path / "missing.npz"), "--data-dir", str(mnist_dir)])
    with pytest.raises(ValueError):
        cli.main(["gradcheck", "no-such-model", "--debug"])


def test_parse_value_and_model_args():
    assert cli.parse_value("784,256,32") == (784, 256, 32)
    assert cli.parse_value("none") is None and cli.parse_value("true") is True
    assert cli.parse_value("0.5") == 0.5 and cli.parse_value("relu") == "relu"
    args = cli.parse_model_args(npae.Autoencoder, ["--sizes", "784,32", "--code-activation=sigmoid"])
    assert args == {"sizes": (784, 32), "code_activation": "sigmoid"}
    assert cli.model_class("Sparse_Autoencoder") is npae.SparseAutoencoder
    assert cli.model_class("sparse-autoencoder") is npae.SparseAutoencoder


def test_python_dash_m_help():
    root = Path(npae.__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-m", "npae", "--help"], capture_output=True, text=True, cwd=root,
                          timeout=120)
    assert done.returncode == 0 and "gradcheck" in done.stdout and "train" in done.stdout
