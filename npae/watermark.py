r"""Semi-transparent watermarks at random places: the corruption of the watermark-removal example.

A watermark is a coverage mask ``m`` in [0, 1] (1 where the mark is opaque ink) blended
into the image with an opacity ``alpha`` and an ink colour ``c``:

.. math::
    \tilde x = (1 - \alpha m) \odot x + \alpha m\, c

Seen from a denoising autoencoder, this is one more corruption ``q(x_tilde | x)``: structured
(strokes, letters) rather than independent per pixel, and different in every image because
shape, size and place are drawn from a ``np.random.Generator``. See ``docs/13-applications.md``.

Two families of marks, both vectorised over the batch (no loop over images or pixels):

- ``"shapes"``: a ring, a box outline, a line or a cross, drawn from a distance field
  ``d`` (pixels from the stroke's centre line) with a one-pixel soft edge,
  ``m = clip(thickness / 2 - d + 1/2, 0, 1)``;
- ``"text"``: a string rendered from the outline of the DejaVu font matplotlib ships
  (offline), anti-aliased by supersampling, pasted at a random place.
"""

from __future__ import annotations

import numpy as np

from ._validation import check_array, check_choice, check_float, check_generator, check_int

KINDS = ("shapes", "text")
SHAPES = ("ring", "box", "line", "cross")


def _check_image_shape(image_shape) -> tuple[int, int]:
    if not isinstance(image_shape, (tuple, list)) or len(image_shape) != 2:
        raise ValueError(f"image_shape must be a pair (H, W), got {image_shape!r}")
    return check_int(image_shape[0], "image_shape[0]", 4), check_int(image_shape[1], "image_shape[1]", 4)


def text_mask(text: str, height: int, weight: str = "bold", supersample: int = 4) -> np.ndarray:
    r"""Render ``text`` as a coverage mask ``height`` pixels tall (cap height to descender).

    The glyph outlines come from matplotlib's ``TextPath``, flattened to polygons; a point is
    inside the text if it lies inside an odd number of polygons (even-odd rule, so the holes
    of "a", "e", "o" stay empty). Each pixel's value is the fraction of its
    ``supersample**2`` sub-pixel centres that are inside.

    Returns
    -------
    mask : ndarray, shape (height, width), float64 in [0, 1]; row 0 is the top.
    """
    from matplotlib.font_manager import FontProperties
    from matplotlib.path import Path
    from matplotlib.textpath import TextPath

    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"text must be a non-empty string, got {text!r}")
    height = check_int(height, "height", 3)
    s = check_int(supersample, "supersample", 1)
    path = TextPath((0, 0), text, size=100, prop=FontProperties(family="DejaVu Sans", weight=weight))
    polygons = path.to_polygons(closed_only=True)
    verts = np.concatenate(polygons)  # (V, 2) font units, y up
    lo, hi = verts.min(axis=0), verts.max(axis=0)
    scale = (height - 1) / (hi[1] - lo[1])  # font units -> pixels, 1/2 pixel margin top and bottom
    width = int(np.ceil((hi[0] - lo[0]) * scale)) + 1
    # Sub-pixel centres in font units, rows from the top: (height*s, width*s) grids.
    sub = (np.arange(height * s) + 0.5) / s - 0.5  # pixel coordinates of sub-pixel centres
    sub_x = (np.arange(width * s) + 0.5) / s - 0.5
    ys = hi[1] - sub / scale  # top row is the highest y
    xs = lo[0] + sub_x / scale
    points = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2)  # (height*s*width*s, 2)
    inside = np.zeros(len(points), dtype=bool)
    for poly in polygons:  # one polygon per glyph contour (a handful), not per pixel
        inside ^= Path(poly).contains_points(points)
    inside = inside.reshape(height, s, width, s)  # (H, s, W, s)
    return inside.mean(axis=(1, 3))


def shape_masks(n: int, image_shape: tuple[int, int], rng: np.random.Generator,
                size: tuple[float, float] = (0.2, 0.4), thickness: float | None = None,
                shapes: tuple[str, ...] = SHAPES) -> np.ndarray:
    r"""``n`` masks, each one stroked shape of random kind, size, orientation and place.

    For pixel centres ``p = (x, y)`` and a shape of centre ``c`` and radius ``r``
    (``r = size * min(H, W)``, ``size`` uniform in the given range):

    - ring: ``d = | ||p - c|| - r |``;
    - box outline (half sides ``r`` and ``a r``, ``a`` in [0.5, 1]):
      ``q = |p - c| - half``, ``d = | ||max(q, 0)|| + min(max(q_x, q_y), 0) |``;
    - line: distance to the segment ``c +- r u`` (``u`` a random unit vector);
    - cross: the smaller distance to two perpendicular such segments.

    Then ``m = clip(thickness / 2 - d + 1/2, 0, 1)``.

    Returns
    -------
    masks : ndarray, shape (n, H, W), float64 in [0, 1]
    """
    n = check_int(n, "n", 0)
    H, W = _check_image_shape(image_shape)
    rng = check_generator(rng)
    lo, hi = (check_float(size[0], "size[0]", 0.0, 0.5), check_float(size[1], "size[1]", 0.0, 0.5))
    if lo > hi:
        raise ValueError(f"size must be (low, high) with low <= high, got {size!r}")
    for name in shapes:
        check_choice(name, "shapes[...]", SHAPES)
    if not shapes:
        raise ValueError("shapes must name at least one shape, got ()")
    side = min(H, W)
    thickness = max(1.5, 0.08 * side) if thickness is None else check_float(thickness, "thickness", 0.0)
    which = rng.integers(0, len(shapes), n)  # (n,)
    r = rng.uniform(lo, hi, n) * side  # (n,)
    cx = rng.uniform(r, W - r)  # (n,): shapes stay inside the frame
    cy = rng.uniform(r, H - r)
    phi = rng.uniform(0, np.pi, n)
    aspect = rng.uniform(0.5, 1.0, n)
    # Pixel-centre coordinates relative to each shape's centre: (n, H, W).
    px = (np.arange(W) + 0.5)[None, None, :] - cx[:, None, None]
    py = (np.arange(H) + 0.5)[None, :, None] - cy[:, None, None]
    r3, ux, uy = r[:, None, None], np.cos(phi)[:, None, None], np.sin(phi)[:, None, None]

    def segment_distance(ux, uy):
        t = np.clip(px * ux + py * uy, -r3, r3)  # projection on the segment, clamped to its ends
        return np.hypot(px - t * ux, py - t * uy)

    dist = {}
    if "ring" in shapes:
        dist["ring"] = np.abs(np.hypot(px, py) - r3)
    if "box" in shapes:
        qx, qy = np.abs(px) - r3, np.abs(py) - aspect[:, None, None] * r3
        outside = np.hypot(np.maximum(qx, 0), np.maximum(qy, 0))
        dist["box"] = np.abs(outside + np.minimum(np.maximum(qx, qy), 0))  # |signed distance to the box|
    if "line" in shapes:
        dist["line"] = segment_distance(ux, uy)
    if "cross" in shapes:
        dist["cross"] = np.minimum(segment_distance(ux, uy), segment_distance(-uy, ux))
    d = np.choose(which[:, None, None], [dist[name] for name in shapes])  # (n, H, W)
    return np.clip(thickness / 2 - d + 0.5, 0.0, 1.0)


def text_masks(n: int, image_shape: tuple[int, int], rng: np.random.Generator, text: str = "npae",
               height: float = 0.3) -> np.ndarray:
    """``n`` masks with ``text`` pasted at a random place (the stamp shrinks to fit the width).

    ``height`` is the text height as a fraction of the image height.

    Returns
    -------
    masks : ndarray, shape (n, H, W), float64 in [0, 1]
    """
    n = check_int(n, "n", 0)
    H, W = _check_image_shape(image_shape)
    rng = check_generator(rng)
    height = check_float(height, "height", 0.0, 1.0, low_inclusive=False)
    h = max(3, int(round(height * H)))
    stamp = text_mask(text, h)
    while stamp.shape[1] > W and h > 3:  # too wide: make it smaller
        h -= 1
        stamp = text_mask(text, h)
    if stamp.shape[1] > W:
        raise ValueError(f"text {text!r} does not fit in an image {W} pixels wide")
    sh, sw = stamp.shape
    oy = rng.integers(0, H - sh + 1, n)  # (n,) top-left corners
    ox = rng.integers(0, W - sw + 1, n)
    masks = np.zeros((n, H, W))
    rows = (oy[:, None] + np.arange(sh))[:, :, None]  # (n, sh, 1)
    cols = (ox[:, None] + np.arange(sw))[:, None, :]  # (n, 1, sw)
    masks[np.arange(n)[:, None, None], rows, cols] = stamp
    return masks


def watermark_masks(n: int, image_shape: tuple[int, int], rng: np.random.Generator, kind: str = "shapes",
                    **options) -> np.ndarray:
    """Masks of ``kind`` ``"shapes"`` (:func:`shape_masks`) or ``"text"`` (:func:`text_masks`)."""
    check_choice(kind, "kind", KINDS)
    make = shape_masks if kind == "shapes" else text_masks
    return make(n, image_shape, rng, **options)


def apply_watermark(images, masks, opacity: float = 0.5, color=1.0) -> np.ndarray:
    r"""Blend masks into images: ``x_tilde = (1 - opacity * m) * x + opacity * m * color``.

    Parameters
    ----------
    images : array_like, shape (N, H, W) or (N, C, H, W)
    masks : array_like, shape (N, H, W), values in [0, 1]
    opacity : float in [0, 1]
        ``alpha``: 0 leaves the images unchanged, 1 paints the ink fully opaque.
    color : float or array_like of shape (C,)
        The ink ``c`` (1.0 is white for images in [0, 1]).

    Returns
    -------
    ndarray of ``images``' shape and (floating) dtype.
    """
    images = check_array(images, "images", ndim=(3, 4))
    if images.dtype.kind != "f":
        images = images.astype(np.float64)
    masks = check_array(masks, "masks", ndim=3, value_range=(0.0, 1.0)).astype(images.dtype, copy=False)
    if masks.shape != images.shape[:1] + images.shape[-2:]:
        raise ValueError(f"masks must have shape (N, H, W) = {images.shape[:1] + images.shape[-2:]}, "
                         f"got {masks.shape}")
    alpha = check_float(opacity, "opacity", 0.0, 1.0)
    c = check_array(color, "color", ndim=(0, 1), min_samples=0).astype(images.dtype)
    if images.ndim == 4:
        masks = masks[:, None]  # (N, 1, H, W): the same mark on every channel
        if c.ndim == 1:
            if c.shape[0] != images.shape[1]:
                raise ValueError(f"color must be a scalar or have {images.shape[1]} entries (one per "
                                 f"channel), got shape {c.shape}")
            c = c[None, :, None, None]  # (1, C, 1, 1)
    elif c.ndim != 0:
        raise ValueError(f"color must be a scalar for images of shape (N, H, W), got shape {c.shape}")
    am = images.dtype.type(alpha) * masks
    return (1 - am) * images + am * c


def add_watermark(images, rng: np.random.Generator, kind: str = "shapes", opacity: float = 0.5, color=1.0,
                  **options) -> tuple[np.ndarray, np.ndarray]:
    """Draw one random mark per image and blend it in; return ``(marked, masks)``.

    ``images`` has shape (N, H, W) or (N, C, H, W) (reshape flat MNIST rows first:
    ``X.reshape(-1, 28, 28)``); ``options`` go to :func:`shape_masks` or :func:`text_masks`.
    """
    images = check_array(images, "images", ndim=(3, 4))
    masks = watermark_masks(len(images), images.shape[-2:], rng, kind, **options)
    return apply_watermark(images, masks, opacity, color), masks


__all__ = ["KINDS", "SHAPES", "add_watermark", "apply_watermark", "shape_masks", "text_mask", "text_masks",
           "watermark_masks"]
