"""MNIST-format data sets that are not digits, built inside the tests: photo crops and glyphs.

The examples were tuned on MNIST. A claim they make ("the denoising autoencoder beats the plain
one", "a linear autoencoder spans PCA's subspace") should also hold on 28 x 28 grey images they
were not tuned on. Each writer here fills a folder with the four files MNIST is published as
(``train-images-idx3-ubyte.gz``, ``train-labels-idx1-ubyte.gz``, ``t10k-images-idx3-ubyte.gz``,
``t10k-labels-idx1-ubyte.gz``; uint8, written by :func:`npae.datasets.write_idx`), so every
loader reads it: ``npae.datasets.mnist_split(folder)``, ``load_mnist(folder)``, an example's
``--data-dir folder``. The same seed gives the same bytes; nothing is downloaded.

- :func:`write_photo_crops`: 28 x 28 crops of the photographs matplotlib ships, at random
  positions and scales; label = which photograph. Training crops come from the left half of each
  photograph and test crops from the right half, so no test pixel was seen in training.
- :func:`write_glyphs`: letters and symbols (no digits) in the DejaVu and STIX fonts matplotlib
  ships, white on black, size-normalised and centred on their centre of mass as MNIST's digits
  are, with random sizes, small rotations and offsets; label = the character's index in
  :data:`GLYPHS`. Training and test images are drawn independently (new sizes, angles, offsets).

Import them as ``from nondigit import write_glyphs`` (``tests/`` is on the path, as for
``profiles``).
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from npae.datasets import MNIST_FILES, available_photos, block_mean, sample_photo, to_grey, write_idx

#: Side of an image, in pixels (MNIST's).
SIDE = 28

#: The characters of :func:`write_glyphs`; label ``i`` is ``GLYPHS[i]``. Ten, like MNIST's classes,
#: none a digit, and none easily taken for one (no O, I, l, S, Z, B, g, q).
GLYPHS = "AEKMRWeh?&"

#: The fonts of :func:`write_glyphs`: files in matplotlib's ``mpl-data/fonts/ttf`` (all ship with
#: matplotlib, so the images are the same on every machine). Sans, serif and monospace, each
#: regular, bold, slanted and bold slanted.
FONTS = ("DejaVuSans", "DejaVuSans-Bold", "DejaVuSans-Oblique", "DejaVuSans-BoldOblique",
         "DejaVuSerif", "DejaVuSerif-Bold", "DejaVuSerif-Italic", "DejaVuSerif-BoldItalic",
         "DejaVuSansMono", "DejaVuSansMono-Bold", "DejaVuSansMono-Oblique", "DejaVuSansMono-BoldOblique",
         "STIXGeneral", "STIXGeneralBol", "STIXGeneralItalic", "STIXGeneralBolIta")

#: Photo crops: block-mean downsampling factors (1 = the photograph's own pixels).
CROP_SCALES = (1, 2, 3)

#: Photo crops: a scale is used for a photograph only if each half of it has at least this many
#: crop positions (the 128 x 128 drawing halved twice has 185: its crops would repeat).
MIN_POSITIONS = 1000

#: Photo crops: a crop whose grey levels vary less than this (std, on [0, 1]) is drawn again, so
#: the white background of a drawing does not give blank images.
MIN_CROP_STD = 0.05


def write_mnist_folder(folder: str | Path, train: tuple[np.ndarray, np.ndarray],
                       test: tuple[np.ndarray, np.ndarray]) -> Path:
    """Write ``(images, labels)`` pairs under MNIST's four official names (gzipped) in ``folder``.

    ``images`` (N, 28, 28) uint8, ``labels`` (N,) uint8. The folder is created if needed.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for kind, (images, labels) in (("train", train), ("test", test)):
        image_stem, label_stem = MNIST_FILES[kind]
        write_idx(folder / (image_stem + ".gz"), images)
        write_idx(folder / (label_stem + ".gz"), labels)
    return folder


def _check_sizes(n_train: int, n_test: int, seed: int) -> None:
    for name, value, low in (("n_train", n_train, 1), ("n_test", n_test, 1), ("seed", seed, 0)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{name} must be an int >= {low}, got {value!r}")


def to_uint8(images: np.ndarray) -> np.ndarray:
    """Grey levels in [0, 1] -> uint8 0..255 (rounded), as MNIST stores them."""
    return np.round(np.clip(images, 0.0, 1.0) * 255.0).astype(np.uint8)


# ---------------------------------------------------------------- photo crops
@functools.lru_cache(maxsize=1)
def _photo_halves() -> tuple[tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]], ...]:
    """For each photograph: (left halves, right halves), one grey (H_s, W_s / 2) image per scale.

    A half is taken after downsampling, so at every scale the left half covers the left half of
    the photograph: training crops (left) and test crops (right) never share a pixel.
    """
    halves = []
    for name in available_photos():
        grey = to_grey(sample_photo(name))  # (H, W) in [0, 1]
        left, right = [], []
        for k in CROP_SCALES:
            small = block_mean(grey, k)  # (H // k, W // k)
            half = small.shape[1] // 2
            if (small.shape[0] - SIDE + 1) * (half - SIDE + 1) >= MIN_POSITIONS:  # enough crops per half
                left.append(small[:, :half])
                right.append(small[:, half:])
        halves.append((tuple(left), tuple(right)))
    return tuple(halves)


def _crops(n: int, side: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` crops from one half of every photograph (0 left, 1 right): images (n, 28, 28) in [0, 1], labels.

    1. The photographs share the ``n`` crops equally (the label is the photograph).
    2. Each crop draws one of its photograph's scales and a position; half are mirrored left to right.
    3. Crops whose std is below :data:`MIN_CROP_STD` are discarded and drawn again.
    """
    halves = _photo_halves()
    images, labels = [], []
    for photo, (left, right) in enumerate(halves):
        scales = (left, right)[side]
        want = n // len(halves) + (photo < n % len(halves))
        kept = np.empty((0, SIDE, SIDE))
        while len(kept) < want:
            scale = rng.integers(0, len(scales), want)  # (want,) a scale for each candidate
            for s, source in enumerate(scales):
                windows = sliding_window_view(source, (SIDE, SIDE))  # (H-27, W-27, 28, 28), a view
                m = int(np.sum(scale == s))
                crops = windows[rng.integers(0, windows.shape[0], m), rng.integers(0, windows.shape[1], m)]
                flip = rng.random(m) < 0.5  # crops is a copy (fancy indexing): safe to write
                crops[flip] = crops[flip, :, ::-1]
                kept = np.concatenate([kept, crops[crops.std(axis=(1, 2)) >= MIN_CROP_STD]])
        images.append(kept[:want])
        labels.append(np.full(want, photo, dtype=np.uint8))
    order = rng.permutation(n)  # the photographs were made one after the other
    return np.concatenate(images)[order], np.concatenate(labels)[order]


def write_photo_crops(folder: str | Path, n_train: int = 3000, n_test: int = 600, seed: int = 0) -> Path:
    """Write an MNIST-format folder of 28 x 28 grey crops of matplotlib's sample photographs.

    Parameters
    ----------
    folder : path
        Created if needed; the four official MNIST file names are (over)written in it.
    n_train, n_test : int
        Images in the training and test files.
    seed : int
        The same seed gives the same files, byte for byte.

    Returns
    -------
    Path
        ``folder``. Its images: uint8 (N, 28, 28), crops at random positions and at those of the
        scales :data:`CROP_SCALES` (block means) that leave :data:`MIN_POSITIONS` positions (the
        photograph: 1, 2 and 3; the 128 x 128 drawing: 1), half of them mirrored, none nearly
        uniform (std at least :data:`MIN_CROP_STD`); training crops
        from the left half of each photograph, test crops from the right half. Labels (N,):
        the photograph's index in ``npae.datasets.available_photos()`` (0 ``grace_hopper``, 1
        ``present``), equally many of each (up to one).
    """
    _check_sizes(n_train, n_test, seed)
    rng = np.random.default_rng(seed)
    train_images, train_labels = _crops(n_train, 0, rng)
    test_images, test_labels = _crops(n_test, 1, rng)
    return write_mnist_folder(folder, (to_uint8(train_images), train_labels),
                              (to_uint8(test_images), test_labels))


# ---------------------------------------------------------------- glyphs
#: Glyph prototypes: side of a sheet cell when rendered, the font size in it (pixels), and the
#: block-mean factor that turns a cell into a prototype (112 / 2 = 56 = twice MNIST's side).
_CELL, _FONT_PX, _PROTO_DOWN = 112, 80, 2


@functools.lru_cache(maxsize=1)
def glyph_prototypes() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every (character, font) of :data:`GLYPHS` x :data:`FONTS` rendered once, white on black.

    All of them are drawn on one sheet by matplotlib's Agg canvas (about 0.3 s), one character
    per ``_CELL`` x ``_CELL`` cell; each cell is block-averaged to ``_CELL / _PROTO_DOWN`` pixels
    and smoothed (see the comment below).

    Returns
    -------
    protos : ndarray, shape (P, 56, 56), float64 in [0, 1]
        P = len(GLYPHS) * len(FONTS), font-major (prototype ``p`` shows ``GLYPHS[p % len(GLYPHS)]``).
    labels : ndarray, shape (P,), uint8
        The character's index in :data:`GLYPHS`.
    centre : ndarray, shape (P, 2)
        Each glyph's centre of mass (row, column), in prototype pixels.
    size : ndarray, shape (P,)
        The larger side of each glyph's bounding box, in prototype pixels.
    """
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties

    font_dir = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    cells = [(char, font) for font in FONTS for char in GLYPHS]
    cols = 16
    rows = -(-len(cells) // cols)
    dpi = 100  # so that 1 point = dpi / 72 pixels
    fig = Figure(figsize=(cols * _CELL / dpi, rows * _CELL / dpi), dpi=dpi, facecolor="black")
    canvas = FigureCanvasAgg(fig)
    for i, (char, font) in enumerate(cells):
        r, c = divmod(i, cols)
        fig.text((c + 0.5) / cols, 1 - (r + 0.5) / rows, char, color="white", ha="center", va="center",
                 fontproperties=FontProperties(fname=font_dir / f"{font}.ttf", size=_FONT_PX * 72 / dpi))
    canvas.draw()
    sheet = np.asarray(canvas.buffer_rgba())[:, :, 0] / 255.0  # (rows*_CELL, cols*_CELL), white = 1
    cut = sheet.reshape(rows, _CELL, cols, _CELL).transpose(0, 2, 1, 3).reshape(-1, _CELL, _CELL)
    protos = np.stack([block_mean(cell, _PROTO_DOWN) for cell in cut[: len(cells)]])  # (P, 56, 56)
    # Smooth with the [1, 2, 1] / 4 tent along rows and columns: :func:`_warp` shrinks them 1.4 to
    # 2.2 times with one sample per pixel, and the tent keeps that from aliasing.
    padded = np.pad(protos, ((0, 0), (1, 1), (1, 1)))  # (P, 58, 58)
    protos = (padded[:, :-2] + 2 * padded[:, 1:-1] + padded[:, 2:]) / 4  # (P, 56, 58)
    protos = (protos[:, :, :-2] + 2 * protos[:, :, 1:-1] + protos[:, :, 2:]) / 4  # (P, 56, 56)
    # Centre of mass and bounding box of each glyph (ink above 0.1 counts for the box).
    grid = np.arange(protos.shape[1], dtype=np.float64)
    mass = protos.sum(axis=(1, 2))  # (P,)
    centre = np.stack([(protos.sum(axis=2) @ grid) / mass, (protos.sum(axis=1) @ grid) / mass], axis=1)
    ink = protos > 0.1
    height = [np.ptp(np.flatnonzero(ink[p].any(axis=1))) + 1 for p in range(len(protos))]
    width = [np.ptp(np.flatnonzero(ink[p].any(axis=0))) + 1 for p in range(len(protos))]
    labels = np.array([GLYPHS.index(char) for char, _ in cells], dtype=np.uint8)
    return protos, labels, centre, np.maximum(height, width).astype(np.float64)


def _warp(protos: np.ndarray, which: np.ndarray, centre: np.ndarray, zoom: np.ndarray, angle: np.ndarray,
          shift: np.ndarray) -> np.ndarray:
    r"""Resample prototypes into 28 x 28 images: rotate by ``angle``, scale by ``zoom``, centre, shift.

    The centre of output pixel ``o`` (row, column) reads the prototype, bilinearly, at

    .. math::
        q = c_p + R(\text{angle})^{-1}\,(o - 13.5 - \text{shift}) / \text{zoom}

    (``c_p`` the glyph's centre of mass): the glyph's centre of mass lands at the image centre
    plus ``shift``, as MNIST centres its digits. Points outside the prototype read 0. One sample
    per pixel is enough because the prototypes were smoothed for this 1.4 to 2.2 times shrink.

    Parameters
    ----------
    protos : ndarray, shape (P, R, R)
    which : ndarray, shape (n,), int
        The prototype of each image.
    centre : ndarray, shape (P, 2)
    zoom, angle : ndarray, shape (n,)
        Output pixels per prototype pixel; radians, counter-clockwise as displayed.
    shift : ndarray, shape (n, 2)
        Offset of the centre of mass from the image centre, output pixels (row, column).

    Returns
    -------
    ndarray, shape (n, 28, 28), float32 in [0, 1]
    """
    padded = np.pad(protos, ((0, 0), (1, 1), (1, 1))).astype(np.float32)  # (P, R+2, R+2): zero border
    span = padded.shape[1]
    grid = np.arange(SIDE, dtype=np.float32) - (SIDE - 1) / 2  # (28,) pixel centres from the image centre
    dy = grid[None, :, None] - shift[:, 0, None, None].astype(np.float32)  # (n, 28, 1)
    dx = grid[None, None, :] - shift[:, 1, None, None].astype(np.float32)  # (n, 1, 28)
    cos = (np.cos(angle) / zoom).astype(np.float32)[:, None, None]  # (n, 1, 1)
    sin = (np.sin(angle) / zoom).astype(np.float32)[:, None, None]
    # Rows grow downwards, so a counter-clockwise turn on screen is R = [[cos, -sin], [sin, cos]]
    # acting on (row, column); its inverse is the transpose. +1: the zero border.
    qy = (centre[which, 0] + 1).astype(np.float32)[:, None, None] + cos * dy + sin * dx  # (n, 28, 28)
    qx = (centre[which, 1] + 1).astype(np.float32)[:, None, None] - sin * dy + cos * dx
    y0 = np.clip(np.floor(qy), 0, span - 2).astype(np.intp)  # out-of-range points land on the border
    x0 = np.clip(np.floor(qx), 0, span - 2).astype(np.intp)
    wy = np.clip(qy - y0, 0.0, 1.0)
    wx = np.clip(qx - x0, 0.0, 1.0)
    flat = padded.reshape(-1)
    base = which[:, None, None] * (span * span) + y0 * span + x0  # (n, 28, 28) index of the top-left
    top = flat[base] * (1 - wx) + flat[base + 1] * wx
    bottom = flat[base + span] * (1 - wx) + flat[base + span + 1] * wx
    return top * (1 - wy) + bottom * wy  # (n, 28, 28)


def _glyph_images(n: int, rng: np.random.Generator, chunk: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """``n`` glyph images (n, 28, 28) in [0, 1] and their labels, each drawn independently.

    1. A character (the label, uniformly) and one of its fonts.
    2. Its bounding box's larger side scaled to 16..22 pixels (MNIST fits digits in 20 x 20),
       turned by up to 15 degrees either way, its centre of mass put within 1.5 pixels of the centre.
    """
    protos, proto_labels, centre, size = glyph_prototypes()
    label = rng.integers(0, len(GLYPHS), n)  # (n,)
    which = rng.integers(0, len(FONTS), n) * len(GLYPHS) + label  # font-major prototype index
    zoom = rng.uniform(16.0, 22.0, n) / size[which]
    angle = np.deg2rad(rng.uniform(-15.0, 15.0, n))
    shift = rng.uniform(-1.5, 1.5, (n, 2))
    assert np.array_equal(proto_labels[which], label)
    images = np.concatenate([_warp(protos, which[i:i + chunk], centre, zoom[i:i + chunk], angle[i:i + chunk],
                                   shift[i:i + chunk]) for i in range(0, n, chunk)])
    return images, label.astype(np.uint8)


def write_glyphs(folder: str | Path, n_train: int = 3000, n_test: int = 600, seed: int = 0) -> Path:
    """Write an MNIST-format folder of 28 x 28 letters and symbols (no digits), white on black.

    Parameters
    ----------
    folder : path
        Created if needed; the four official MNIST file names are (over)written in it.
    n_train, n_test : int
        Images in the training and test files.
    seed : int
        The same seed gives the same files, byte for byte.

    Returns
    -------
    Path
        ``folder``. Its images: uint8 (N, 28, 28), one of :data:`GLYPHS` in one of :data:`FONTS`,
        sized, turned and placed at random (see :func:`_glyph_images`). Labels (N,): the
        character's index in :data:`GLYPHS`, about equally many of each.
    """
    _check_sizes(n_train, n_test, seed)
    rng = np.random.default_rng(seed)
    train = _glyph_images(n_train, rng)
    test = _glyph_images(n_test, rng)
    return write_mnist_folder(folder, (to_uint8(train[0]), train[1]), (to_uint8(test[0]), test[1]))
