"""The command line with a learner's own classes: --import anywhere, the hints, resume by checkpoint,
a model with a constraint in ``gradcheck``; and ``fit(..., drop_last=True)``."""

from __future__ import annotations

import sys
import textwrap

import numpy as np
import pytest

from npae import Autoencoder, cli
from npae.layers import BatchNorm1d, Sequential

MODULE = textwrap.dedent('''
    import numpy as np
    from npae import Autoencoder
    from npae.layers import BatchNorm1d, Layer, Sequential


    class TopK(Layer):
        def __init__(self, k=2):
            super().__init__()
            self.k = k

        def forward(self, x):
            self._mask = x >= np.sort(x, axis=1)[:, -self.k][:, None]
            return x * self._mask

        def backward(self, dy):
            return dy * self._mask


    class CliKSparse(Autoencoder):
        def __init__(self, sizes=(12, 8), k=5, random_state=None, dtype=np.float32):
            if k > sizes[-1]:
                raise ValueError(f"k must be at most the code size {sizes[-1]}, got {k}")
            super().__init__(sizes, activation="tanh", random_state=random_state, dtype=dtype)
            self.k = k
            self.encoder = Sequential(*self.encoder.layers, TopK(k))


    class CliNormed(Autoencoder):
        def __init__(self, sizes=(64, 8), random_state=None, dtype=np.float32):
            super().__init__(sizes, activation="tanh", random_state=random_state, dtype=dtype)
            first, *rest = self.encoder.layers
            self.encoder = Sequential(first, BatchNorm1d(sizes[1], dtype=self.dtype), *rest)


    class NormForgetsGamma(BatchNorm1d):
        def backward(self, dy, input_grad=True):
            gamma = self.params["gamma"].copy()
            self.params["gamma"][:] = 1.0  # the bug: dx computed as if gamma were 1
            try:
                dx = super().backward(dy, input_grad)
            finally:
                self.params["gamma"][:] = gamma
            return dx


    class CliBadNorm(Autoencoder):
        def __init__(self, sizes=(12, 6, 3), activation="tanh", random_state=None, dtype=np.float32):
            super().__init__(sizes, activation=activation, random_state=random_state, dtype=dtype)
            first, *rest = self.encoder.layers
            self.encoder = Sequential(first, NormForgetsGamma(sizes[1], dtype=self.dtype), *rest)
''')


@pytest.fixture
def user_module(tmp_path, monkeypatch):
    (tmp_path / "cli_user_models.py").write_text(MODULE)
    monkeypatch.chdir(tmp_path)
    yield "cli_user_models"
    sys.modules.pop("cli_user_models", None)


def run(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_import_is_accepted_after_the_command(capsys, user_module):
    code, out, err = run(capsys, "gradcheck", "cli-k-sparse", "--k", 2, "--import", user_module)
    assert code == 0, out + err
    assert "|analytic|" in out and "OK" in out


def test_import_equals_form_and_before_the_command(capsys, user_module):
    code, out, err = run(capsys, f"--import={user_module}", "models")
    assert code == 0 and "cli-k-sparse" in out, err


def test_unknown_model_suggests_import(capsys):
    code, out, err = run(capsys, "gradcheck", "cli-k-sparse-missing")
    assert code == 1 and "--import MODULE" in err


def test_gradcheck_says_which_argument_a_constrained_model_needs(capsys, user_module):
    code, out, err = run(capsys, "gradcheck", "cli-k-sparse", "--import", user_module)
    assert code == 1
    assert "k must be at most the code size 3" in err and "--sizes 12,6,3" in err
    assert "pass the argument" in err


def test_train_resume_takes_the_model_from_the_checkpoint(capsys, tmp_path):
    from npae.training import fit_model

    X = np.random.default_rng(0).random((40, 64))
    ck = tmp_path / "ck.npz"
    fit_model(Autoencoder((64, 8), random_state=0), X, epochs=1, batch_size=16, checkpoint=ck)
    code, out, err = run(capsys, "train", "--data", "patches", "--n-train", 50, "--epochs", 2,
                         "--batch-size", 16, "--resume", ck, "--out", tmp_path / "m.npz", "--quiet",
                         "--no-val")
    assert code == 0, err
    assert "resuming Autoencoder(64-8-64" in out
    code, out, err = run(capsys, "train", "vae", "--data", "patches", "--epochs", 2, "--batch-size", 16,
                         "--resume", ck, "--out", tmp_path / "n.npz")
    assert code == 1 and "checkpoint of Autoencoder, not of vae" in err
    code, out, err = run(capsys, "train", "--data", "patches", "--out", tmp_path / "o.npz")
    assert code == 1 and "needs a model name" in err


def test_fit_drop_last_skips_a_short_last_batch():
    class BN(Autoencoder):
        def __init__(self, sizes=(6, 4), random_state=None, dtype=np.float32):
            super().__init__(sizes, activation="tanh", random_state=random_state, dtype=dtype)
            first, *rest = self.encoder.layers
            self.encoder = Sequential(first, BatchNorm1d(4, dtype=self.dtype), *rest)

    X = np.random.default_rng(0).random((33, 6))  # 33 = 2 * 16 + 1: a last batch of one row
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        BN(random_state=0).fit(X, epochs=1, batch_size=16)
    model = BN(random_state=0).fit(X, epochs=2, batch_size=16, drop_last=True)
    assert len(model.history_["loss"]) == 2 and np.isfinite(model.history_["loss"]).all()
    with pytest.raises(ValueError, match="drop_last=True with batch_size=64"):
        BN(random_state=0).fit(X, batch_size=64, drop_last=True)
    with pytest.raises(TypeError, match="drop_last"):
        BN(random_state=0).fit(X, drop_last="yes")


def test_resume_refuses_another_drop_last(tmp_path):
    X = np.random.default_rng(0).random((33, 6))
    ck = tmp_path / "ck.npz"
    Autoencoder((6, 3), random_state=0).fit(X, epochs=1, batch_size=16, drop_last=True, checkpoint=ck)
    with pytest.raises(ValueError, match="drop_last=False differs"):
        Autoencoder((6, 3), random_state=0).fit(X, epochs=2, batch_size=16, resume=ck)
    whole = Autoencoder((6, 3), random_state=0).fit(X, epochs=2, batch_size=16, drop_last=True)
    resumed = Autoencoder((6, 3), random_state=0).fit(X, epochs=2, batch_size=16, drop_last=True, resume=ck)
    assert all(np.array_equal(whole.params[k], resumed.params[k]) for k in whole.params)


def test_train_drop_last_for_a_batchnorm_model(capsys, user_module, tmp_path):
    # 50 patches: 40 to train on, 10 held out; batches of 13 leave a last batch of one row
    argv = ["train", "cli-normed", "--import", user_module, "--data", "patches", "--n-train", 50,
            "--epochs", 1, "--batch-size", 13, "--quiet", "--out", tmp_path / "m.npz"]
    code, out, err = run(capsys, *argv)
    assert code == 1 and "more than 1 value per channel" in err
    code, out, err = run(capsys, *argv, "--drop-last")
    assert code == 0, err
    assert "values kept but not trained" in out


def test_gradcheck_passes_a_batchnorm_model_whose_dense_bias_gradient_is_zero(capsys, user_module):
    code, out, err = run(capsys, "gradcheck", "cli-normed", "--sizes", "12,6", "--import", user_module)
    assert code == 0, out + err
    bias = next(line for line in out.splitlines() if line.startswith("encoder.0.b "))
    assert bias.endswith(" ok") and float(bias.split()[3]) < 1e-12  # |analytic| zero, and still ok


def test_gradcheck_moves_gamma_off_1_and_finds_a_backward_that_forgets_it(capsys, user_module):
    code, out, err = run(capsys, "gradcheck", "cli-bad-norm", "--import", user_module)
    assert "encoder.1.gamma" in out.split("moved off their constant starting values:")[1].splitlines()[0]
    assert code == 1 and "FAILED" in out
