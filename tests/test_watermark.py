"""The watermark generator: masks in [0, 1], random placement from a Generator, the blend formula."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from profiles import examples

from npae.watermark import add_watermark, apply_watermark, shape_masks, text_mask, text_masks, watermark_masks


def test_text_mask_letters_and_holes():
    m = text_mask("o", 20, supersample=4)
    assert m.shape[0] == 20 and m.min() >= 0 and m.max() == 1.0
    h, w = m.shape
    # "o" is ink around a hole: the centre pixel is empty, the ring through it is not.
    assert m[h * 2 // 3, w // 2] == 0.0
    assert m[h * 2 // 3, :].max() == 1.0
    # Anti-aliased: some pixels partly covered (a multiple of 1/16 with supersample=4).
    partial = m[(m > 0) & (m < 1)]
    assert partial.size > 0 and np.allclose(partial * 16, np.round(partial * 16))
    # Wider text, wider stamp.
    assert text_mask("npae npae", 12).shape[1] > text_mask("npae", 12).shape[1]


@examples(15)
@given(seed=st.integers(0, 2**31), kind=st.sampled_from(["shapes", "text"]),
       H=st.integers(16, 40), W=st.integers(28, 40))
def test_masks_are_valid_and_reproducible(seed, kind, H, W):
    masks = watermark_masks(6, (H, W), np.random.default_rng(seed), kind)
    assert masks.shape == (6, H, W)
    assert masks.min() >= 0 and masks.max() <= 1
    ink = masks.sum(axis=(1, 2))
    assert (ink > 2).all()  # every image gets a visible mark
    assert (ink < 0.6 * H * W).all()  # a stroke, not a filled image
    np.testing.assert_array_equal(masks, watermark_masks(6, (H, W), np.random.default_rng(seed), kind))


@pytest.mark.parametrize("kind", ["shapes", "text"])
def test_zero_masks(kind):
    assert watermark_masks(0, (28, 28), np.random.default_rng(0), kind).shape == (0, 28, 28)


def test_placement_is_random():
    rng = np.random.default_rng(0)
    for kind in ("shapes", "text"):
        masks = watermark_masks(200, (28, 28), rng, kind)
        # Centre of mass of the ink varies from image to image, over much of the frame.
        ys, xs = np.mgrid[0:28, 0:28]
        cy = (masks * ys).sum(axis=(1, 2)) / masks.sum(axis=(1, 2))
        cx = (masks * xs).sum(axis=(1, 2)) / masks.sum(axis=(1, 2))
        assert cy.std() > 2.0, kind
        assert np.ptp(cy) > 8 and (kind == "text" or np.ptp(cx) > 8)
        assert len(np.unique(np.round(cy, 3))) > 20


def test_all_four_shapes_drawn():
    """A ring has an empty centre; a line has ink at its centre; each kind alone works."""
    rng = np.random.default_rng(1)
    ring = shape_masks(20, (32, 32), rng, size=(0.3, 0.4), shapes=("ring",))
    line = shape_masks(20, (32, 32), rng, size=(0.3, 0.4), shapes=("line",))
    cross = shape_masks(20, (32, 32), rng, size=(0.3, 0.4), shapes=("cross",))
    box = shape_masks(20, (32, 32), rng, size=(0.3, 0.4), shapes=("box",))
    # Ink per shape roughly perimeter * thickness (thickness 2.56 px here, radius 9.6-12.8 px).
    t = 0.08 * 32
    assert np.all(np.abs(ring.sum((1, 2)) / (2 * np.pi * 11.2 * t) - 1) < 0.3)
    assert np.all(np.abs(line.sum((1, 2)) / (2 * 11.2 * t) - 1) < 0.3)
    assert np.all(cross.sum((1, 2)) > 1.5 * line.sum((1, 2)).min())
    assert box.sum((1, 2)).min() > line.sum((1, 2)).max()
    mixed = shape_masks(400, (32, 32), rng)
    assert len(np.unique(np.round(mixed.sum((1, 2)), 1))) > 300


def test_apply_watermark_closed_form():
    rng = np.random.default_rng(2)
    x = rng.uniform(0, 1, (5, 10, 12))
    m = rng.uniform(0, 1, (5, 10, 12))
    np.testing.assert_allclose(apply_watermark(x, m, 0.4, 0.9), (1 - 0.4 * m) * x + 0.4 * m * 0.9)
    np.testing.assert_array_equal(apply_watermark(x, m, 0.0), x)
    np.testing.assert_allclose(apply_watermark(x, np.ones_like(m), 1.0, 0.25), 0.25)
    # Colour images (N, C, H, W): the same mask on every channel, one ink value per channel.
    xc = rng.uniform(0, 1, (5, 3, 10, 12))
    out = apply_watermark(xc, m, 0.5, [1.0, 0.0, 0.5])
    np.testing.assert_allclose(out[:, 1], (1 - 0.5 * m) * xc[:, 1])
    np.testing.assert_allclose(out[:, 2], (1 - 0.5 * m) * xc[:, 2] + 0.25 * m)
    assert apply_watermark(x.astype(np.float32), m, 0.5).dtype == np.float32


def test_add_watermark_keeps_range_and_changes_only_the_mark():
    rng = np.random.default_rng(3)
    x = rng.uniform(0, 1, (16, 28, 28)).astype(np.float32)
    marked, masks = add_watermark(x, rng, "text", opacity=0.6)
    assert marked.dtype == np.float32 and marked.shape == x.shape
    assert marked.min() >= 0 and marked.max() <= 1
    np.testing.assert_array_equal(marked[masks == 0], x[masks == 0])
    assert np.all(marked[masks == 1] >= x[masks == 1])  # white ink brightens


def test_bad_arguments():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="kind"):
        watermark_masks(2, (28, 28), rng, "logo")
    with pytest.raises(TypeError, match="rng"):
        shape_masks(2, (28, 28), 0)
    with pytest.raises(ValueError, match="image_shape"):
        shape_masks(2, (28,), rng)
    with pytest.raises(ValueError, match="size"):
        shape_masks(2, (28, 28), rng, size=(0.4, 0.2))
    with pytest.raises(ValueError, match="opacity"):
        apply_watermark(np.zeros((1, 4, 4)), np.zeros((1, 4, 4)), 1.5)
    with pytest.raises(ValueError, match="masks must have shape"):
        apply_watermark(np.zeros((1, 4, 4)), np.zeros((1, 4, 5)))
    with pytest.raises(ValueError, match="masks must lie in"):
        apply_watermark(np.zeros((1, 4, 4)), np.full((1, 4, 4), 2.0))
    with pytest.raises(ValueError, match="color"):
        apply_watermark(np.zeros((1, 3, 4, 4)), np.zeros((1, 4, 4)), 0.5, [1.0, 1.0])
    with pytest.raises(ValueError, match="does not fit"):
        text_masks(1, (8, 8), rng, text="a long watermark")
    with pytest.raises(ValueError, match="text"):
        text_mask("", 10)
