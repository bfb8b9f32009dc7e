"""Natural images: the photographs matplotlib ships (offline), whitened, cut into patches.

:func:`sample_photo` reads a colour photograph from matplotlib's sample data;
:func:`natural_patches` cuts the whitened, UFLDL-normalised patches of the sparse
autoencoder exercise from it.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .._validation import check_choice, check_dtype, check_float, check_int, check_random_state
from .idx import DataError

#: Images from matplotlib's sample data: name -> (file, what it is).
SAMPLE_PHOTOS = {
    "grace_hopper": ("grace_hopper.jpg", "photograph of Rear Admiral Grace Hopper, 600 x 512, colour"),
    "present": ("Minduka_Present_Blue_Pack.png", "drawing of a blue gift box, 128 x 128, colour on white"),
}


def _sample_path(filename: str) -> Path | None:
    """Path of a file in matplotlib's sample data, or None when this matplotlib lacks it."""
    import matplotlib

    path = Path(matplotlib.get_data_path()) / "sample_data" / filename
    return path if path.is_file() else None


def available_photos() -> list[str]:
    """Names accepted by :func:`sample_photo` that this matplotlib installation ships."""
    return [name for name, (filename, _) in SAMPLE_PHOTOS.items() if _sample_path(filename) is not None]


@functools.lru_cache(maxsize=4)
def _read_photo(name: str) -> np.ndarray:
    import matplotlib.image

    path = _sample_path(SAMPLE_PHOTOS[name][0])
    if path is None:
        raise DataError(f"matplotlib's sample data has no {SAMPLE_PHOTOS[name][0]} (photo {name!r}); "
                        f"available here: {available_photos()}")
    img = np.asarray(matplotlib.image.imread(path))
    if img.dtype == np.uint8:
        img = img / 255.0
    img = img.astype(np.float64)
    if img.ndim == 2:
        img = np.repeat(img[:, :, None], 3, axis=2)  # (H, W, 3)
    if img.shape[2] == 4:  # composite RGBA on white
        alpha = img[:, :, 3:]
        img = img[:, :, :3] * alpha + (1.0 - alpha)
    img = np.clip(img, 0.0, 1.0)
    img.flags.writeable = False
    return img


def sample_photo(name: str = "grace_hopper") -> np.ndarray:
    """A colour image from matplotlib's sample data (works offline).

    Parameters
    ----------
    name : str
        One of :data:`SAMPLE_PHOTOS` (``"grace_hopper"``: the only true photograph; ``"present"``:
        a drawing); :func:`available_photos` lists what this installation has.

    Returns
    -------
    ndarray, shape (H, W, 3), float64 in [0, 1]
        A fresh copy (an alpha channel is composited on white).
    """
    check_choice(name, "name", tuple(SAMPLE_PHOTOS))
    return _read_photo(name).copy()


def to_grey(rgb: np.ndarray) -> np.ndarray:
    """Luma ``0.299 R + 0.587 G + 0.114 B`` of an image of shape (H, W, 3) -> (H, W)."""
    return rgb @ np.array([0.299, 0.587, 0.114], dtype=rgb.dtype)


def whiten_image(grey: np.ndarray, f0: float = 0.4) -> np.ndarray:
    r"""Flatten the 1/f amplitude spectrum of a grey image (Olshausen and Field, 1996/97).

    Natural images have an amplitude spectrum falling roughly like ``1/f``; multiplying the
    Fourier transform by a ramp ``f`` makes it roughly flat ("white"), and the factor
    ``exp(-(f/f0)^4)`` cuts the highest frequencies where noise and aliasing live:

    .. math::
        \hat g_{white}(f_x, f_y) = \hat g(f_x, f_y)\; f\, e^{-(f/f_0)^4}, \qquad
        f = \sqrt{f_x^2 + f_y^2}

    with frequencies in cycles per pixel (Nyquist 0.5; Olshausen's ``0.4 N`` cycles per
    picture is ``f0 = 0.4`` here). The ramp removes the mean (``f = 0``); the result is
    scaled to unit variance. The FFT treats the image as periodic, so the borders carry
    artefacts: :func:`natural_patches` keeps away from them. See ``docs/03-sparsity.md``.

    Parameters
    ----------
    grey : ndarray, shape (H, W)
    f0 : float
        Cut-off, cycles per pixel.

    Returns
    -------
    ndarray, shape (H, W), float64, mean 0 and standard deviation 1
    """
    grey = np.asarray(grey, dtype=np.float64)
    f0 = check_float(f0, "f0", 0.0, low_inclusive=False)
    fy = np.fft.fftfreq(grey.shape[0])[:, None]  # (H, 1)
    fx = np.fft.fftfreq(grey.shape[1])[None, :]  # (1, W)
    f = np.sqrt(fx * fx + fy * fy)  # (H, W)
    white = np.real(np.fft.ifft2(np.fft.fft2(grey - grey.mean()) * (f * np.exp(-((f / f0) ** 4)))))
    return white / white.std()


def block_mean(image: np.ndarray, k: int) -> np.ndarray:
    """Downsample an (H, W) image by averaging k x k blocks -> (H // k, W // k) (edges cropped)."""
    h, w = image.shape[0] // k * k, image.shape[1] // k * k
    return image[:h, :w].reshape(h // k, k, w // k, k).mean(axis=(1, 3))  # (H // k, W // k)


@functools.lru_cache(maxsize=8)
def _patch_source(photo: str, whiten: bool, downsample: int) -> np.ndarray:
    grey = block_mean(to_grey(_read_photo(photo)), downsample)
    return whiten_image(grey) if whiten else grey


def normalize_patches(patches: np.ndarray) -> np.ndarray:
    r"""UFLDL's ``normalizeData``: per-patch mean removed, +-3 std truncated, rescaled to [0.1, 0.9].

    .. math::
        x \leftarrow x - \mathrm{mean}_{pixels}(x), \qquad
        s = 3\,\mathrm{std}(\text{all } x), \qquad
        x \leftarrow 0.1 + 0.4\,\big(\mathrm{clip}(x, -s, s)/s + 1\big)

    The range [0.1, 0.9] suits a sigmoid output unit, which never reaches 0 or 1.

    Parameters
    ----------
    patches : ndarray, shape (n, D)

    Returns
    -------
    ndarray, shape (n, D), in [0.1, 0.9]
    """
    x = patches - patches.mean(axis=1, keepdims=True)  # (n, D)
    s = 3.0 * x.std()
    if s == 0:
        return np.full_like(x, 0.5)
    return 0.1 + 0.4 * (np.clip(x, -s, s) / s + 1.0)


def natural_patches(n: int = 10000, size: int = 8, rng=None, dtype=np.float32, whiten: bool = True,
                    photo: str = "grace_hopper", downsample: int = 2) -> np.ndarray:
    """Random square patches of a natural photograph, preprocessed as in the UFLDL exercise.

    1. The photo (matplotlib's sample data, so this works offline) is turned to grey and
       shrunk by averaging ``downsample x downsample`` blocks (default 2: the 600 x 512 JPEG
       becomes 300 x 256). This averages away the JPEG's 8 x 8 compression blocks, which
       whitening would otherwise amplify, and puts more structure inside an 8 x 8 patch.
    2. ``whiten=True`` (default): its spectrum is whitened with :func:`whiten_image`, as
       Olshausen and Field did for the images UFLDL ships (``IMAGES.mat``). The raw photo
       also gives edge detectors, but broader ones dominated by its large smooth regions;
       whitening gives the small, localised, oriented edges of the exercise.
    3. ``n`` patches of ``size x size`` pixels are cut at random positions at least 8 pixels
       from the border (the whitening's FFT wraps around there).
    4. :func:`normalize_patches`: each patch's mean removed, truncation to +-3 standard
       deviations, rescaling to [0.1, 0.9].

    Parameters
    ----------
    n : int
        Number of patches.
    size : int
        Side of a patch, in pixels.
    rng : int, Generator or None
        Picks the positions.
    dtype : float32 (default) or float64
    whiten : bool
    photo : str
        A name from :data:`SAMPLE_PHOTOS`.
    downsample : int
        Block-averaging factor applied before whitening (1 keeps full resolution).

    Returns
    -------
    ndarray, shape (n, size*size), in [0.1, 0.9]
        Each row is a patch in row-major order.

    Derivation and what the patches teach: ``docs/03-sparsity.md``.
    """
    n = check_int(n, "n", 1)
    size = check_int(size, "size", 1)
    rng = check_random_state(rng, "rng")
    dtype = check_dtype(dtype)
    check_choice(photo, "photo", tuple(SAMPLE_PHOTOS))
    downsample = check_int(downsample, "downsample", 1)
    image = _patch_source(photo, bool(whiten), downsample)  # (H // downsample, W // downsample)
    margin = 8
    inner = image[margin:-margin, margin:-margin]  # (H - 16, W - 16)
    if size > min(inner.shape):
        raise ValueError(f"size must be at most {min(inner.shape)} for photo {photo!r} "
                         f"(its usable area is {inner.shape}), got {size}")
    windows = sliding_window_view(inner, (size, size))  # (H-16-size+1, W-16-size+1, size, size), a view
    rows = rng.integers(0, windows.shape[0], n)
    cols = rng.integers(0, windows.shape[1], n)
    patches = windows[rows, cols].reshape(n, size * size)  # (n, size*size)
    return normalize_patches(patches).astype(dtype)
