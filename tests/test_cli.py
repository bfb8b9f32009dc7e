"""The command line: every command on a tiny MNIST-format folder, errors as one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import npae
from npae import cli
from npae.datasets import mnist as mnist_module
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
    assert (f"data: unidentified MNIST-format data (MD5s not those of the MNIST or Fashion-MNIST files npae "
            f"knows) in {mnist_dir}: training on all 48 training images, evaluating on all 16 test images\n"
            in out) and "epoch 2/2" in out and "test loss" in out
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
             (("train", "autoencoder", "--data-dir", mnist_dir, "--out", tmp_path / "x.npz", "--sizes",
               "64,8"), "the data has 784 features per example, the model takes 64"),
             (("evaluate", tmp_path / "missing.npz", "--data-dir", mnist_dir), "no such model file")]
    for argv, message in cases:
        code, out, err = run(capsys, *argv)
        assert code == 1 and message in err and err.count("\n") == 1 and "Traceback" not in err, err
    with pytest.raises(ValueError):
        cli.main(["--debug", "evaluate", str(tmp_path / "missing.npz"), "--data-dir", str(mnist_dir)])
    with pytest.raises(ValueError):
        cli.main(["gradcheck", "no-such-model", "--debug"])


@pytest.fixture
def reads(monkeypatch) -> list:
    """Every way npae reads a data folder, replaced by one that records the call and fails."""
    calls = []

    def refuse(*args, **kwargs):
        calls.append(args)
        raise AssertionError("data read before the arguments were checked")

    for name in ("load_mnist", "read_idx", "identify"):  # what mnist_split and load_mnist call
        monkeypatch.setattr(mnist_module, name, refuse)
    monkeypatch.setattr(npae.datasets, "natural_patches", refuse)
    return calls


BAD_OPTIONS = [(("--epochs", "-1"), "argument --epochs: expected an integer >= 1, got '-1'"),
               (("--batch-size", "0"), "argument --batch-size: expected an integer >= 1, got '0'"),
               (("--lr", "-0.5"), "argument --lr: expected a number > 0, got '-0.5'"),
               (("--momentum", "1.5"), "argument --momentum: expected a number >= 0 and < 1, got '1.5'"),
               (("--patience", "0"), "argument --patience: expected an integer >= 1, got '0'"),
               (("--n-train", "0"), "argument --n-train: expected an integer >= 1 or 'all', got '0'"),
               (("--seed", "-3"), "argument --seed: expected an integer >= 0, got '-3'"),
               (("--every", "x"), "argument --every: expected an integer >= 1, got 'x'")]


@pytest.mark.parametrize("option, message", BAD_OPTIONS)
def test_a_bad_option_is_refused_before_any_data_is_read(capsys, tmp_path, mnist_dir, reads, option, message):
    with pytest.raises(SystemExit) as info:
        cli.main(["train", "autoencoder", "--data-dir", str(mnist_dir), "--out", str(tmp_path / "m.npz"),
                  *option])
    err = capsys.readouterr().err
    assert info.value.code == 2 and f"npae train: error: {message}\n" in err and reads == []


def test_bad_paths_and_model_arguments_are_refused_before_data_is_read(capsys, tmp_path, mnist_dir, reads):
    train = ("train", "autoencoder", "--data-dir", mnist_dir)
    usage_errors = [((*train, "--out", tmp_path / "no-such-folder" / "m.npz"),
                     "argument --out: expected a file in an existing folder"),
                    (("train", "autoencoder", "--data-dir", tmp_path / "no-such-folder", "--out", "m.npz"),
                     "argument --data-dir: expected an existing folder"),
                    (("evaluate", "m.npz", "--data-dir", mnist_dir, "--n-test", "-2"),
                     "argument --n-test: expected an integer >= 1 or 'all', got '-2'"),
                    (("reconstruct", "m.npz", "--data-dir", mnist_dir, "--n", "0", "--out", "g.png"),
                     "argument --n: expected an integer >= 1, got '0'")]
    for argv, message in usage_errors:
        with pytest.raises(SystemExit) as info:
            cli.main([str(a) for a in argv])
        assert info.value.code == 2 and message in capsys.readouterr().err
    model_errors = [(("--activation", "swish"), "activation must be one of"),
                    (("--foo", "3"), "Autoencoder has no argument --foo")]
    for option, message in model_errors:  # the model is built before the data is read
        code, _, err = run(capsys, *train, "--out", tmp_path / "m.npz", *option)
        assert code == 1 and message in err
    assert reads == []


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


def test_a_model_class_of_the_users_own_module_opens_with_import(tmp_path, mnist_dir):
    """A file holding a class from the user's module: refused without it, evaluated with --import."""
    (tmp_path / "my_models.py").write_text(
        "import npae\n\n\nclass WideAE(npae.Autoencoder):\n"
        "    def __init__(self, sizes=(784, 8), random_state=None):\n"
        "        super().__init__(sizes, activation='tanh', random_state=random_state)\n")
    make = ("import my_models\nmy_models.WideAE(random_state=0).save('wide.npz')\n")
    subprocess.run([sys.executable, "-c", make], cwd=tmp_path, check=True, timeout=120)
    args = [sys.executable, "-m", "npae", "evaluate", "wide.npz", "--data-dir", str(mnist_dir)]
    refused = subprocess.run(args, capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert refused.returncode == 1 and "unknown class 'WideAE'" in refused.stderr
    opened = subprocess.run(args[:3] + ["--import", "my_models"] + args[3:], capture_output=True, text=True,
                            cwd=tmp_path, timeout=120)
    assert opened.returncode == 0, opened.stderr
    assert "score" in opened.stdout
    missing = subprocess.run(args[:3] + ["--import", "no_such_module"] + args[3:], capture_output=True,
                             text=True, cwd=tmp_path, timeout=120)
    assert missing.returncode == 1 and "--import no_such_module: cannot import it" in missing.stderr


def test_output_paths_are_refused_before_any_data_is_read(capsys, tmp_path, mnist_dir, reads):
    """--out a folder, '', a place nothing can be written, a FIFO; --checkpoint too; a PNG's --out."""
    import time

    (tmp_path / "outdir").mkdir()
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    train = ("train", "autoencoder", "--data-dir", mnist_dir, "--epochs", "1000")
    expected_file = "argument --out: expected a file in an existing folder, got "
    png = "argument --out: expected a file name ending in .png"
    cases = [((*train, "--out", tmp_path / "outdir"), f"{expected_file}'{tmp_path / 'outdir'}' (path "),
             ((*train, "--out", ""), f"{expected_file}'' (path is empty"),
             ((*train, "--out", "/proc/x"), f"{expected_file}'/proc/x' (path '/proc/x': cannot write in the "
                                            f"folder '/proc'"),
             ((*train, "--out", fifo), "device, FIFO or socket"),
             ((*train, "--out", str(tmp_path / "m") + "/"), "ends with a path separator"),
             ((*train, "--out", tmp_path / "m.npz", "--checkpoint", tmp_path / "outdir"),
              "argument --checkpoint: expected a file in an existing folder"),
             (("sample", "m.npz", "--out", tmp_path / "outdir"), png),
             (("sample", "m.npz", "--out", tmp_path / "s"), png),
             (("reconstruct", "m.npz", "--data-dir", mnist_dir, "--out", tmp_path / "outdir"), png),
             (("sample", "m.npz", "--out", tmp_path / "dir.png" / "x.png"), "does not exist")]
    for argv, message in cases:
        tic = time.perf_counter()
        with pytest.raises(SystemExit) as info:
            cli.main([str(a) for a in argv])
        assert time.perf_counter() - tic < 2
        err = capsys.readouterr().err
        assert info.value.code == 2 and message in err, (argv, err)
    assert reads == [] and sorted(os.listdir(tmp_path)) == ["fifo", "outdir"]
    assert os.listdir(tmp_path / "outdir") == []


def test_fit_refuses_a_checkpoint_it_could_not_write_before_training(tmp_path):
    model = cli.small_model(npae.Autoencoder)
    X = cli.example_input(model, 8, np.random.default_rng(0))
    before = {k: v.copy() for k, v in model.params.items()}
    with pytest.raises(ValueError, match="checkpoint .* is a folder"):
        model.fit(X, epochs=2, checkpoint=tmp_path)
    with pytest.raises(ValueError, match="checkpoint '/proc/ck.npz': cannot write in the folder '/proc'"):
        model.fit(X, epochs=2, checkpoint="/proc/ck.npz")
    assert all(np.array_equal(v, before[k]) for k, v in model.params.items())  # nothing trained


def test_sample_n_is_bounded_before_the_model_is_read(capsys, tmp_path):
    with pytest.raises(SystemExit) as info:
        cli.main(["sample", str(tmp_path / "missing.npz"), "--n", "10000000", "--out",
                  str(tmp_path / "s.png")])
    assert info.value.code == 2
    assert "argument --n: expected an integer from 1 to 10000, got '10000000'" in capsys.readouterr().err


def test_resume_refuses_another_model_name_and_a_new_optimizer(capsys, tmp_path, mnist_dir):
    train = ("train", "autoencoder", "--data-dir", mnist_dir, "--epochs", 1, "--batch-size", 16, "--sizes",
             "784,8", "--quiet", "--no-val")
    code, _, err = run(capsys, *train, "--out", tmp_path / "m.npz", "--checkpoint", tmp_path / "ck.npz")
    assert code == 0, err
    resume = ("--epochs", 2, "--batch-size", 16, "--out", tmp_path / "m2.npz", "--resume",
              tmp_path / "ck.npz", "--quiet")
    for argv, message in (((*resume, "--lr", "0.5"), "--lr cannot be changed when resuming"),
                          ((*resume, "--optimizer", "sgd"), "--optimizer cannot be changed when resuming"),):
        code, _, err = run(capsys, "train", "autoencoder", "--data-dir", mnist_dir, *argv)
        assert code == 1 and message in err, err
    code, _, err = run(capsys, "train", "vae", "--data-dir", mnist_dir, *resume)
    assert code == 1 and "is a checkpoint of Autoencoder, not of vae; drop the model name" in err, err
    assert not (tmp_path / "m2.npz").exists()


def test_an_imported_module_that_exits_does_not_end_npae(capsys, tmp_path, monkeypatch):
    (tmp_path / "exits_at_import.py").write_text("import sys\nsys.exit(0)\n")
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "models", "--import", "exits_at_import")
    assert code == 1 and "called sys.exit(0)" in err, err
