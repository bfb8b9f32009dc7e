"""The lesson-10 exercises beyond the generic tests: the conv layers call the plain functions a learner's
replace; the cases are chosen so that each catalogue mistake shows where it should (an overwriting
col2im only where windows overlap, a tie rule only where a window has a tie)."""

from __future__ import annotations

import numpy as np

from npae.exercises import EXERCISES, check_file, substituted
from npae.exercises.conv import CONV2D_CASES, _coverage
from npae.layers import Conv2D, Conv2DTranspose, conv
from npae.layers.conv import conv_output_size


def test_conv_layers_call_the_plain_functions():
    rng = np.random.default_rng(0)
    layer = Conv2D(2, 3, 3, 2, 1, rng=rng, dtype=np.float64)  # stride 2: the im2col route
    x = rng.normal(size=(2, 2, 5, 5))
    dy = np.ones(layer.output_shape(x.shape))
    zeros = (np.zeros(x.shape), np.zeros((3, 2, 3, 3)), np.zeros(3))
    with substituted({("npae.layers.conv", "conv2d_forward"): lambda *a, **k: np.zeros(dy.shape),
                      ("npae.layers.conv", "conv2d_backward"): lambda *a, **k: zeros}):
        assert np.all(layer.forward(x) == 0) and np.all(layer.backward(dy) == 0)
        assert np.all(layer.grads["W"] == 0)
    assert np.any(layer.forward(x) != 0) and np.any(layer.backward(dy) != 0)

    up = Conv2DTranspose(3, 2, 3, 2, 1, 1, rng=rng, dtype=np.float64)
    z = rng.normal(size=(2, 3, 3, 3))
    dz = np.ones(up.output_shape(z.shape))
    up.forward(z)
    with substituted({("npae.layers.conv", "conv2d_transpose_backward"):
                      lambda *a, **k: (np.zeros(z.shape), np.zeros((3, 2, 3, 3)), np.zeros(2))}):
        assert np.all(up.backward(dz) == 0) and np.all(up.grads["b"] == 0)
    assert np.any(up.backward(dz) != 0)
    assert conv.conv2d_forward.__module__ == "npae.layers.conv"


def test_conv2d_transpose_keeps_a_batch_last_input_without_a_copy():
    """Conv2DTranspose keeps x as a view of (C, H, W, N) memory: no copy when it is one already
    (after a conv)."""
    rng = np.random.default_rng(1)
    up = Conv2DTranspose(3, 2, 3, 2, 1, 1, rng=rng)
    channel_major = rng.normal(size=(3, 5, 5, 4)).astype(np.float32)  # (C, H, W, N) memory
    x = channel_major.transpose(3, 0, 1, 2)  # (N, C, H, W) view
    up.forward(x)
    assert np.shares_memory(up._cache, channel_major)


def test_the_cases_have_overlapping_and_non_overlapping_windows():
    overlaps = []
    for n, c, _o, (h, w), k, s, p in CONV2D_CASES:
        out = conv_output_size(h, k[0], s[0], p[0]), conv_output_size(w, k[1], s[1], p[1])
        counts = _coverage((n, c, h, w), k, s, p, out)
        overlaps.append(bool(np.any(counts > 1)))
        assert np.any(counts == 1)  # some pixels in one window only: there the overwrite is right
    assert overlaps == [True, True, False]


def test_an_overwriting_col2im_fails_only_the_cases_where_windows_overlap(tmp_path):
    ex = EXERCISES["conv2d"]
    path = tmp_path / "conv2d.py"
    path.write_text(next(m for m in ex.mistakes if m.title == "col2im overwrites").code)
    report = check_file(ex, path)
    failed = [c for c in report.checks if not c.passed]
    assert failed and all(c.label.startswith("dx") and "stride (2, 2), padding (0, 0)" not in c.label
                          for c in failed), report.text()
    assert all(c.passed for c in report.checks if "stride (2, 2), padding (0, 0)" in c.label)


def test_giving_dy_to_every_tied_maximum_fails_only_the_case_with_ties(tmp_path):
    ex = EXERCISES["maxpool_backward"]
    path = tmp_path / "maxpool_backward.py"
    path.write_text(next(m for m in ex.mistakes if m.title == "every tied maximum").code)
    report = check_file(ex, path)
    assert [c.passed for c in report.checks] == [True, True, True, True, False], report.text()
