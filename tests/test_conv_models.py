"""ConvAutoencoder and ConvVAE: whole-model gradient checks, shapes, input forms, training, save/load."""

import numpy as np
import pytest
from example_scripts import load_example

import npae
from npae.gradcheck import check_model
from npae.layers import Conv2D, Conv2DTranspose, MaxPool2D, UpSampling2D
from npae.models import ConvAutoencoder, ConvDenoisingAutoencoder, ConvVAE

from idx_files import write_mnist


def blobs(n: int, rng: np.random.Generator, size: int = 8) -> np.ndarray:
    """Images (n, 1, size, size) in [0, 1]: one Gaussian blob each at a random place."""
    yy, xx = np.mgrid[0:size, 0:size]
    cy, cx = rng.uniform(1, size - 2, (2, n, 1, 1))
    return np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / 3.0)[:, None]  # (n, 1, size, size)


# ---------------------------------------------------------------- gradient checks (float64, < 1e-7)
@pytest.mark.parametrize("kwargs", [
    dict(architecture="strided", loss="mse"),
    dict(architecture="strided", loss="bce", code_size=3, weight_decay=1e-2),
    dict(architecture="pooling", loss="mse"),
])
def test_conv_autoencoder_gradients(kwargs):
    rng = np.random.default_rng(0)
    model = ConvAutoencoder((1, 8, 8), channels=(2, 3), activation="tanh", random_state=0, dtype=np.float64,
                            **kwargs)
    errors = check_model(model, blobs(3, rng))
    assert len(errors) == len(model.params)
    assert max(errors.values()) < 1e-7, errors


def test_conv_denoising_gradients_and_clean_target():
    rng = np.random.default_rng(6)
    X = blobs(3, rng)
    model = ConvDenoisingAutoencoder((1, 8, 8), channels=(2, 3), activation="tanh", random_state=0,
                                     dtype=np.float64)
    errors = check_model(model, X)
    assert max(errors.values()) < 1e-7, errors
    # the noise enters the input only: with sigma = 0 the objective is the plain autoencoder's
    quiet = ConvDenoisingAutoencoder((1, 8, 8), channels=(2, 3), noise_level=0.0, random_state=0)
    plain = ConvAutoencoder((1, 8, 8), "pooling", (2, 3), loss="bce", random_state=0)
    X32 = X.astype(np.float32)
    assert quiet.loss_and_grads(X32, rng)[0] == pytest.approx(plain.loss_and_grads(X32, rng)[0], rel=1e-6)
    noisy = model.corrupt(X, np.random.default_rng(0))
    assert noisy.shape == X.shape and 0 <= noisy.min() and noisy.max() <= 1 and not np.allclose(noisy, X)


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
def test_conv_vae_gradients(likelihood):
    rng = np.random.default_rng(1)
    model = ConvVAE((1, 8, 8), channels=(2, 3), latent_dim=2, activation="tanh", likelihood=likelihood,
                    learn_decoder_sigma=likelihood == "gaussian", random_state=0, dtype=np.float64)
    errors = check_model(model, blobs(3, rng))
    assert len(errors) == len(model.params)
    assert max(errors.values()) < 1e-7, errors


# ---------------------------------------------------------------- networks and shapes
def test_default_is_the_benchmark_network():
    model = ConvAutoencoder()
    layers = model.encoder.layers + model.decoder.layers
    convs = [layer for layer in layers if isinstance(layer, (Conv2D, Conv2DTranspose))]
    assert [repr(c) for c in convs] == [
        "Conv2D(1, 16, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1))",
        "Conv2D(16, 32, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1))",
        "Conv2DTranspose(32, 16, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), output_padding=(1, 1))",
        "Conv2DTranspose(16, 1, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), output_padding=(1, 1))"]
    assert model.code_shape == (32, 7, 7)
    assert model.n_parameters() == (16 * 9 + 16) + (32 * 16 * 9 + 32) + (32 * 16 * 9 + 16) + (16 * 9 + 1)


@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 7, 10), (2, 9, 9)])
def test_strided_decoder_restores_odd_and_even_sizes(shape):
    model = ConvAutoencoder(shape, channels=(2, 2, 2), random_state=0)
    X = np.random.default_rng(0).random((2, *shape)).astype(np.float32)
    assert model.reconstruct(X).shape == X.shape


def test_pooling_network_is_keras_style():
    model = ConvAutoencoder(architecture="pooling", channels=(16, 8), random_state=0)
    kinds = [type(layer) for layer in model.encoder.layers + model.decoder.layers]
    assert kinds.count(MaxPool2D) == 2 and kinds.count(UpSampling2D) == 2
    assert model.code_shape == (8, 7, 7)
    with pytest.raises(ValueError, match="divisible by 4"):
        ConvAutoencoder((1, 10, 10), architecture="pooling", channels=(4, 4))


def test_rows_and_images_are_the_same_input():
    rng = np.random.default_rng(2)
    model = ConvAutoencoder((1, 8, 8), channels=(2, 3), code_size=4, random_state=0)
    images = blobs(5, rng).astype(np.float32)
    rows = images.reshape(5, 64)
    assert model.encode(rows).shape == (5, 4)
    np.testing.assert_array_equal(model.reconstruct(rows), model.reconstruct(images).reshape(5, 64))
    assert model.reconstruct(images).shape == (5, 1, 8, 8)
    assert model.decode(model.encode(images)).shape == (5, 1, 8, 8)
    assert model.score(rows) == model.score(images)
    vae = ConvVAE((1, 8, 8), channels=(2,), latent_dim=2, random_state=0)
    assert vae.reconstruct(images).shape == (5, 1, 8, 8)
    np.testing.assert_array_equal(vae.reconstruct(rows), vae.reconstruct(images).reshape(5, 64))


def test_bad_inputs_name_the_shapes():
    model = ConvAutoencoder((1, 8, 8), channels=(2,), random_state=0)
    with pytest.raises(ValueError, match=r"\(N, 1, 8, 8\) or \(N, 64\) rows, got shape \(2, 3, 8, 8\)"):
        model.encode(np.zeros((2, 3, 8, 8)))
    with pytest.raises(ValueError, match=r"got shape \(2, 63\)"):
        model.encode(np.zeros((2, 63)))
    with pytest.raises(ValueError, match=r"code shape"):
        model.decode(np.zeros((2, 3, 4, 4)))
    with pytest.raises(ValueError, match="kernel_size must be odd"):
        ConvAutoencoder(kernel_size=4)
    with pytest.raises(ValueError, match="input_shape"):
        ConvAutoencoder(input_shape=(28, 28))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        ConvVAE((1, 8, 8), channels=(2,), random_state=0).encode(np.full((1, 1, 8, 8), 2.0))


# ---------------------------------------------------------------- training and persistence
def test_fit_learns_blobs():
    """Fixed seed: after 15 epochs the loss must be below half the untrained one (measured: 0.15x)."""
    rng = np.random.default_rng(3)
    X = blobs(256, rng, 12).astype(np.float32)
    model = ConvAutoencoder((1, 12, 12), channels=(8, 8), random_state=0)
    before = model.score(X)
    model.fit(X, epochs=15, batch_size=32, optimizer=npae.optim.Adam(lr=3e-3))
    assert model.score(X) < 0.5 * before
    assert len(model.history_["loss"]) == 15


def test_conv_vae_fit_improves_elbo_and_samples():
    """Fixed seed: after 10 epochs the negative ELBO must drop below 0.8x (measured: 0.40x)."""
    rng = np.random.default_rng(4)
    X = blobs(256, rng, 12).astype(np.float32)
    model = ConvVAE((1, 12, 12), channels=(4, 8), latent_dim=2, random_state=0)
    before = model.score(X, rng=np.random.default_rng(0))
    model.fit(X, epochs=10, batch_size=32, optimizer=npae.optim.Adam(lr=3e-3))
    assert model.score(X, rng=np.random.default_rng(0)) < 0.8 * before
    samples = model.sample(4, rng=np.random.default_rng(1))
    assert samples.shape == (4, 1, 12, 12) and 0 <= samples.min() and samples.max() <= 1


@pytest.mark.parametrize("cls, kwargs", [(ConvAutoencoder, dict(channels=(2, 3), code_size=4)),
                                          (ConvDenoisingAutoencoder, dict(channels=(2, 3), noise="masking",
                                                                          noise_level=0.2)),
                                          (ConvVAE, dict(channels=(2, 3), latent_dim=2))])
def test_save_load_round_trip(tmp_path, cls, kwargs):
    rng = np.random.default_rng(5)
    X = blobs(8, rng).astype(np.float32)
    model = cls((1, 8, 8), random_state=0, **kwargs).fit(X, epochs=1, batch_size=4)
    path = tmp_path / "model.npz"
    model.save(path)
    loaded = npae.load(path)
    assert type(loaded) is cls and loaded.get_params() == model.get_params()
    np.testing.assert_array_equal(loaded.reconstruct(X), model.reconstruct(X))


# ---------------------------------------------------------------- the examples, end to end
def _fake_mnist(folder, rng: np.random.Generator) -> None:
    """200 training and 100 test random 28x28 'digits' in MNIST's IDX gzip format."""
    for kind, n in (("train", 200), ("t10k", 100)):
        write_mnist(folder, kind, (rng.uniform(size=(n, 28, 28)) < 0.2) * 255, np.arange(n) % 10)


def test_conv_examples_run_on_a_tiny_fake_mnist(tmp_path):
    _fake_mnist(tmp_path, np.random.default_rng(0))
    out = tmp_path / "conv_ae"
    m = load_example("conv_ae").main(["--data-dir", str(tmp_path), "--out", str(out), "--steps", "1"])
    assert set(m["test"]) == {"conv", "dense"} and m["parameters"]["conv"] < m["parameters"]["dense"]
    assert all(np.isfinite(s["psnr_db"]) and -1 <= s["ssim"] <= 1 for s in m["test"].values())
    assert {p.name for p in out.iterdir()} >= {"reconstructions.png", "loss_curves.png", "filters.png",
                                               "metrics.json"}
    out = tmp_path / "conv_denoising"
    m = load_example("conv_denoising").main(["--data-dir", str(tmp_path), "--out", str(out), "--epochs", "1",
                                         "--channels", "4"])
    assert set(m["test"]) == {"noisy", "denoised"} and (out / "denoising.png").exists()


# ---------------------------------------------------------------- BLAS threads do not change a number
RESUME_SCRIPT = """
import hashlib, sys
import numpy as np
import npae
X = np.random.default_rng(0).random((256, 1, 28, 28), dtype=np.float32)  # two batches of 128


def model():
    return npae.ConvAutoencoder((1, 28, 28), "strided", (16, 32), 3, activation="relu",
                                output_activation="sigmoid", loss="mse", random_state=0)


def digest(m):
    return hashlib.sha256(b"".join(np.ascontiguousarray(p).tobytes() for p in m.params.values())).hexdigest()


whole = model()
whole.fit(X, epochs=2, batch_size=128)
first = model()
first.fit(X, epochs=1, batch_size=128, checkpoint=sys.argv[1])
resumed = model()
resumed.fit(X, epochs=2, batch_size=128, resume=sys.argv[1])
print(digest(model()), digest(whole), digest(resumed))
"""


def test_a_resumed_conv_autoencoder_is_bit_identical_with_one_and_two_blas_threads(tmp_path):
    """Training at batch 128 (the size where BLAS splits its GEMMs over threads), uninterrupted and
    resumed from a checkpoint, with 1 and with 2 BLAS threads: the four weight sets are the same bits."""
    import os
    import subprocess
    import sys

    untrained, trained = set(), set()
    for threads in ("1", "2"):
        env = {**os.environ, "OPENBLAS_NUM_THREADS": threads, "OMP_NUM_THREADS": threads}
        start, whole, resumed = subprocess.run(
            [sys.executable, "-c", RESUME_SCRIPT, str(tmp_path / f"ckpt{threads}.npz")],
            env=env, capture_output=True, text=True, check=True).stdout.split()
        untrained.add(start)
        trained.update((whole, resumed))
    assert len(trained) == 1, trained
    assert untrained.isdisjoint(trained)  # the digest is of the weights: training changed it
