"""Figures: image grids, filter mosaics, loss curves, latent scatters. Headless (Agg) safe."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from ._validation import check_array


def pyplot():
    """matplotlib's ``pyplot``, on the headless Agg backend when there is no display to draw on.

    For figures this module does not draw; examples call it instead of choosing a backend.
    """
    import matplotlib

    if not os.environ.get("DISPLAY") and not os.environ.get("MPLBACKEND"):
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def tile_images(images, n_cols: int | None = None, pad: int = 1, normalize: str = "none") -> np.ndarray:
    """Tile images into one mosaic array.

    Parameters
    ----------
    images : array_like, shape (N, H, W), (N, H, W, 3) or (N, H*W) with square H = W
    n_cols : int, optional
        Columns of the mosaic (default: about sqrt(N)).
    pad : int
        Pixels of padding between tiles.
    normalize : {"none", "each"}
        ``"each"`` rescales every tile to [0, 1] on its own (for filters).

    Returns
    -------
    ndarray, shape (rows*(H+pad)+pad, cols*(W+pad)+pad[, 3])
    """
    images = check_array(images, "images", ndim=(2, 3, 4)).astype(np.float64)
    if images.ndim == 2:
        side = int(round(np.sqrt(images.shape[1])))
        if side * side != images.shape[1]:
            raise ValueError(f"images of shape (N, D) need a square D, got D={images.shape[1]}")
        images = images.reshape(-1, side, side)  # (N, H, W)
    if normalize == "each":
        lo = images.min(axis=tuple(range(1, images.ndim)), keepdims=True)
        hi = images.max(axis=tuple(range(1, images.ndim)), keepdims=True)
        images = (images - lo) / np.where(hi > lo, hi - lo, 1.0)
    n, h, w = images.shape[:3]
    n_cols = n_cols or int(np.ceil(np.sqrt(n)))
    n_rows = int(np.ceil(n / n_cols))
    fill = images.max() if normalize == "each" else 1.0
    mosaic = np.full((n_rows * (h + pad) + pad, n_cols * (w + pad) + pad) + images.shape[3:], fill)
    for k in range(n):
        r, c = divmod(k, n_cols)
        top, left = pad + r * (h + pad), pad + c * (w + pad)
        mosaic[top:top + h, left:left + w] = images[k]
    return mosaic


def image_grid(rows: dict[str, np.ndarray], path, shape: tuple[int, int] = (28, 28), title: str | None = None,
               cmap: str = "gray") -> Path:
    """Save a figure with one labelled row of images per entry of ``rows``.

    ``rows`` maps a label (e.g. ``"noisy"``, ``"denoised"``, ``"clean"``) to images of shape
    (n, H*W), (n, H, W) or (n, H, W, 3). Returns the saved path.
    """
    plt = pyplot()
    fig, axes = plt.subplots(len(rows), 1, figsize=(12, 1.3 * len(rows) + 0.4), squeeze=False)
    for ax, (label, imgs) in zip(axes[:, 0], rows.items(), strict=True):
        imgs = np.asarray(imgs)
        if imgs.ndim == 2:
            imgs = imgs.reshape((-1,) + tuple(shape))
        ax.imshow(np.clip(tile_images(imgs, n_cols=len(imgs)), 0, 1), cmap=cmap, vmin=0, vmax=1)
        ax.set_ylabel(label, rotation=0, ha="right", va="center")
        ax.set_xticks([])
        ax.set_yticks([])
    if title:
        fig.suptitle(title)
    return save_figure(fig, path)


def filter_mosaic(W, path, shape: tuple[int, int] | None = None, title: str | None = None) -> Path:
    """Save the rows of a weight matrix ``W`` (n_units, H*W) as a mosaic of filters.

    Each filter is rescaled to its own [min, max], as in the UFLDL visualisation.
    """
    plt = pyplot()
    W = check_array(W, "W", ndim=2)
    if shape is not None:
        W = W.reshape((-1,) + tuple(shape))
    mosaic = tile_images(W, normalize="each")
    fig, ax = plt.subplots(figsize=(6, 6))
    ax.imshow(mosaic, cmap="gray")
    ax.axis("off")
    if title:
        ax.set_title(title)
    return save_figure(fig, path)


def loss_curves(history: dict[str, list[float]], path, keys: tuple[str, ...] | None = None,
                title: str | None = None, log: bool = False, xlabel: str = "epoch") -> Path:
    """Save a plot of per-epoch curves from a model's ``history_`` (``xlabel`` names the x axis)."""
    plt = pyplot()
    keys = keys or tuple(k for k in history if k != "time")
    fig, ax = plt.subplots(figsize=(6, 4))
    for k in keys:
        ax.plot(np.arange(1, len(history[k]) + 1), history[k], label=k, marker=".")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("loss")
    if log:
        ax.set_yscale("log")
    ax.legend()
    ax.grid(alpha=0.3)
    if title:
        ax.set_title(title)
    return save_figure(fig, path)


def latent_scatter(Z, labels, path, title: str | None = None) -> Path:
    """Save a scatter of 2-D codes ``Z`` (N, 2) coloured by integer ``labels`` (N,)."""
    plt = pyplot()
    Z = check_array(Z, "Z", ndim=2)
    if Z.shape[1] != 2:
        raise ValueError(f"Z must have 2 columns for a scatter, got shape {Z.shape}")
    fig, ax = plt.subplots(figsize=(6, 5.5))
    sc = ax.scatter(Z[:, 0], Z[:, 1], c=np.asarray(labels), cmap="tab10", s=4, alpha=0.7)
    fig.colorbar(sc, ax=ax, ticks=range(10))
    ax.set_xlabel("z[0]")
    ax.set_ylabel("z[1]")
    if title:
        ax.set_title(title)
    return save_figure(fig, path)


def image_mosaic(images, path, n_cols: int | None = None, shape: tuple[int, int] = (28, 28),
                 title: str | None = None, extent: tuple[float, float, float, float] | None = None,
                 axis_labels: tuple[str, str] | None = None) -> Path:
    """Save images in [0, 1] as one mosaic (e.g. 64 VAE samples, or a VAE's 2-D manifold grid).

    ``images`` has shape (N, H*W) or (N, H, W), tiled row-major with ``n_cols`` columns
    (default about sqrt(N)). ``extent`` (left, right, bottom, top) and ``axis_labels`` put
    coordinates on the axes, as for a manifold decoded over a latent grid; otherwise the axes
    are hidden.
    """
    plt = pyplot()
    images = check_array(images, "images", ndim=(2, 3))
    if images.ndim == 2:
        images = images.reshape((-1,) + tuple(shape))  # (N, H, W)
    mosaic = np.clip(tile_images(images, n_cols=n_cols), 0, 1)
    fig, ax = plt.subplots(figsize=(7, 7 * mosaic.shape[0] / mosaic.shape[1] + 0.4))
    ax.imshow(mosaic, cmap="gray", vmin=0, vmax=1, extent=extent)
    if extent is None:
        ax.axis("off")
    if axis_labels is not None:
        ax.set_xlabel(axis_labels[0])
        ax.set_ylabel(axis_labels[1])
    if title:
        ax.set_title(title)
    return save_figure(fig, path)


def save_figure(fig, path) -> Path:
    """Save ``fig`` to ``path`` (folders created), close it, return the path."""
    plt = pyplot()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_metrics(out_dir, metrics: dict) -> Path:
    """Write ``metrics.json`` (floats rounded to 6 significant digits) into ``out_dir``."""
    def clean(v):
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [clean(x) for x in v]
        if isinstance(v, (np.floating, float)):
            return float(f"{float(v):.6g}")
        if isinstance(v, np.integer):
            return int(v)
        return v

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "metrics.json"
    path.write_text(json.dumps(clean(metrics), indent=2) + "\n")
    return path
