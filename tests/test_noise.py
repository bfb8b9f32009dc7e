"""Tests of npae.noise: statistics of each corruption (fixed seeds, stated tolerances) and argument checks."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from profiles import examples

from npae.noise import (
    block_mask,
    check_noise_level,
    corrupt,
    gaussian_noise,
    masking_noise,
    random_mask,
    salt_and_pepper,
)


def test_gaussian_noise_mean_and_std():
    # 200,000 draws: the std of the sample std is about sigma / sqrt(2n) = 0.0005, so 0.005 is 10 sigma.
    x = np.full((200, 1000), 0.5, dtype=np.float32)
    out = gaussian_noise(x, 0.3, np.random.default_rng(0))
    assert out.dtype == np.float32 and out.shape == x.shape
    assert abs(float((out - x).mean())) < 0.005
    assert abs(float((out - x).std()) - 0.3) < 0.005
    assert np.all(x == 0.5)  # the input is not modified


def test_gaussian_noise_clip_and_zero_sigma():
    x = np.random.default_rng(1).random((50, 20))
    out = gaussian_noise(x, 2.0, np.random.default_rng(0), clip=(0.0, 1.0))
    assert out.min() >= 0 and out.max() <= 1
    assert 0 < np.mean(out == 0) < 1  # clipping happened, but not everywhere
    np.testing.assert_array_equal(gaussian_noise(x, 0.0, np.random.default_rng(0)), x)


def test_masking_noise_fraction_and_values():
    x = np.random.default_rng(2).random((100, 1000)) + 1.0  # no zeros in the clean data
    out = masking_noise(x, 0.25, np.random.default_rng(0))
    zeroed = out == 0
    # 100,000 Bernoulli(0.25): std of the mean 0.0014; tolerance 0.01 is 7 std.
    assert abs(zeroed.mean() - 0.25) < 0.01
    np.testing.assert_array_equal(out[~zeroed], x[~zeroed])  # the rest is untouched


def test_salt_and_pepper_fractions():
    x = np.full((100, 1000), 0.5)
    out = salt_and_pepper(x, 0.4, np.random.default_rng(0))
    assert abs(np.mean(out == 0.0) - 0.2) < 0.01
    assert abs(np.mean(out == 1.0) - 0.2) < 0.01
    assert abs(np.mean(out == 0.5) - 0.6) < 0.01


def test_same_rng_same_noise_and_fresh_noise_otherwise():
    x = np.random.default_rng(3).random((4, 10))
    a = corrupt(x, "gaussian", 0.1, np.random.default_rng(7))
    b = corrupt(x, "gaussian", 0.1, np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)
    rng = np.random.default_rng(7)
    assert not np.array_equal(corrupt(x, "masking", 0.5, rng), corrupt(x, "masking", 0.5, rng))


def test_block_mask_is_one_square_per_image():
    mask = block_mask(50, (28, 28), 10, np.random.default_rng(0))
    assert mask.shape == (50, 784) and mask.dtype == bool
    assert np.all(mask.sum(axis=1) == 100)
    img = mask.reshape(50, 28, 28)
    rows, cols = img.any(axis=2), img.any(axis=1)
    assert np.all(rows.sum(axis=1) == 10) and np.all(cols.sum(axis=1) == 10)


@examples(20)
@given(st.floats(0.0, 1.0), st.integers(0, 2**31))
def test_random_mask_extremes_and_dtype(fraction, seed):
    m = random_mask((3, 7), fraction, np.random.default_rng(seed))
    assert m.shape == (3, 7) and m.dtype == bool
    if fraction == 0.0:
        assert not m.any()
    if fraction == 1.0:
        assert m.all()


@pytest.mark.parametrize("noise, level", [("gaussian", -0.1), ("masking", 1.5), ("masking", -0.01),
                                          ("salt_and_pepper", 2.0)])
def test_bad_levels_raise(noise, level):
    x = np.zeros((2, 3))
    with pytest.raises(ValueError, match="must be in"):
        corrupt(x, noise, level, np.random.default_rng(0))
    with pytest.raises(ValueError, match="noise_level"):
        check_noise_level(noise, level)


def test_bad_arguments_raise():
    x = np.zeros((2, 3))
    with pytest.raises(ValueError, match="noise"):
        corrupt(x, "poisson", 0.1, np.random.default_rng(0))
    with pytest.raises(TypeError, match="rng"):
        gaussian_noise(x, 0.1, 0)
    with pytest.raises(ValueError, match="clip"):
        gaussian_noise(x, 0.1, np.random.default_rng(0), clip=(1.0, 0.0))
    with pytest.raises(ValueError, match="block"):
        block_mask(2, (5, 5), 6, np.random.default_rng(0))
