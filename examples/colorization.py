"""Colourisation: an autoencoder that sees a grey patch and outputs the colour patch.

Colourisation is denoising with a particular corruption: the "noise" removes the colour,
``x_tilde = grey(x)``, and the network is trained to give back ``x``. So the model below is a
:class:`npae.DenoisingAutoencoder` whose corruption hook ``_corrupt`` returns the grey version
of each batch, which the encoder sees, while the decoder's output is compared with the colour
original (the gradient is the plain autoencoder's: the corruption is a constant of the backward pass).

The data is the colour photograph matplotlib ships (Grace Hopper; works offline; ``--photo present``
takes its other colour sample image, a drawing of a gift box, 128x128). The photo
is divided into a checkerboard of 64x64 squares: 8x8 training patches are cut at random from
the "white" squares only, and the "black" squares, never seen in training, are the test set.
The whole photo is colourised tile by tile (four shifted tilings averaged, to hide tile seams)
and compared with the truth by PSNR on the held-out squares. The baseline is the grey image
itself (each pixel's luma in all three channels), which already has the brightness right.
(Holding out one side of the photo instead fails instructively: the bright blue background on
the right has the luma of the skin and the flag's stripes on the left, and comes out orange.)
Derivation: ``docs/13-applications.md``.

Run::

    python examples/colorization.py

Writes ``colorization.png`` (grey / predicted / true) and ``metrics.json`` to ``--out``
(default ``npae-out/colorization``). ``--data-dir`` is accepted for symmetry with the other
examples but not needed.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from npae import Autoencoder, DenoisingAutoencoder, plotting
from npae.datasets import available_photos, sample_photo
from npae.metrics import psnr
from npae.optim import Adam
from npae.plotting import save_figure, write_metrics
from npae.scripts import argument_type, new_folder, nonnegative_int, positive_int

plt = plotting.pyplot()  # matplotlib's pyplot, headless when there is no display

LUMA = np.array([0.299, 0.587, 0.114])  # ITU-R BT.601 weights of R, G, B
#: Half the shorter side of each photo, in pixels: the largest --square (known before the photo is read).
HALF_SIDE = {"grace_hopper": 256, "present": 64}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--data-dir", default=os.environ.get("NPAE_DATA_DIR"),
                   help="unused (the photo ships with matplotlib)")
    p.add_argument("--out", type=new_folder, default="npae-out/colorization",
                   help="where the figure and metrics go")
    p.add_argument("--photo", choices=available_photos(), default="grace_hopper",
                   help="which of matplotlib's sample images to colourise")
    p.add_argument("--patch", type=positive_int, default=8, help="side of a patch in pixels")
    p.add_argument("--square", type=argument_type(int, lambda v: 1 <= v <= 256, "an integer from 1 to 256"),
                   default=64, help="side of the train/test checkerboard squares (at most half the photo)")
    p.add_argument("--n-patches", type=positive_int, default=30000)
    p.add_argument("--epochs", type=positive_int, default=40)
    p.add_argument("--seed", type=nonnegative_int, default=0)
    args = p.parse_args(argv)
    if args.patch > args.square:
        p.error(f"--patch {args.patch} is larger than --square {args.square}: a training patch must fit "
                f"inside one training square")
    if args.square > HALF_SIDE[args.photo]:
        p.error(f"--square {args.square} is more than half the {args.photo} photo's shorter side "
                f"({2 * HALF_SIDE[args.photo]} pixels): the checkerboard needs a training and a held-out "
                f"square across it")
    return args


def grey_rows(X: np.ndarray) -> np.ndarray:
    """Colour patches (N, p*p*3), channels last, -> their luma repeated in R, G and B, same shape."""
    rgb = X.reshape(len(X), -1, 3)  # (N, p*p, 3)
    y = rgb @ LUMA.astype(X.dtype)  # (N, p*p)
    return np.repeat(y[:, :, None], 3, axis=2).reshape(len(X), -1)  # (N, p*p*3)


class ColorizingAutoencoder(DenoisingAutoencoder):
    """A denoising autoencoder whose corruption is "drop the colour": grey in, colour out."""

    def _corrupt(self, X, rng):
        return grey_rows(X)  # (N, p*p*3): the encoder only sees luma; the target is the colour patch

    __repr__ = Autoencoder.__repr__  # the network only: the DAE's noise settings are not used here


def checkerboard(shape: tuple[int, int], square: int) -> np.ndarray:
    """Boolean (H, W): True on the held-out ("black") squares of a checkerboard of side ``square``."""
    iy = np.arange(shape[0])[:, None] // square  # (H, 1) square row of each pixel
    ix = np.arange(shape[1])[None, :] // square  # (1, W)
    return (iy + ix) % 2 == 1


def random_patches(img: np.ndarray, n: int, p: int, rng: np.random.Generator,
                   allowed: np.ndarray) -> np.ndarray:
    """``n`` random p x p patches of ``img`` (H, W, 3) lying entirely where ``allowed``: rows (n, p*p*3)."""
    H, W, _ = img.shape
    # A corner (y, x) is usable when the whole p x p window is allowed: a sliding-window minimum.
    windows = np.lib.stride_tricks.sliding_window_view(allowed, (p, p))  # (H-p+1, W-p+1, p, p)
    ok = np.flatnonzero(windows.all(axis=(2, 3)))
    corner = rng.choice(ok, n)
    y0, x0 = np.unravel_index(corner, windows.shape[:2])
    rows = (y0[:, None] + np.arange(p))[:, :, None]  # (n, p, 1)
    cols = (x0[:, None] + np.arange(p))[:, None, :]  # (n, 1, p)
    return img[rows, cols].reshape(n, -1)  # (n, p, p, 3) -> (n, p*p*3)


def colourise(model: Autoencoder, img: np.ndarray, p: int) -> np.ndarray:
    """Colourise ``img`` (H, W, 3) tile by tile; average four tilings shifted by p/2 (no seams)."""
    H, W, _ = img.shape
    total = np.zeros_like(img)
    count = np.zeros((H, W, 1))
    for dy in (0, p // 2):
        for dx in (0, p // 2):
            ny, nx = (H - dy) // p, (W - dx) // p
            crop = img[dy:dy + ny * p, dx:dx + nx * p]  # (ny*p, nx*p, 3)
            tiles = crop.reshape(ny, p, nx, p, 3).transpose(0, 2, 1, 3, 4)  # (ny, nx, p, p, 3)
            tiles = tiles.reshape(-1, p * p * 3)  # (ny*nx, p*p*3)
            out = model.reconstruct(grey_rows(tiles.astype(np.float32)))  # (ny*nx, p*p*3)
            out = out.reshape(ny, nx, p, p, 3).transpose(0, 2, 1, 3, 4)  # (ny, p, nx, p, 3)
            out = out.reshape(ny * p, nx * p, 3)  # back to an image
            total[dy:dy + ny * p, dx:dx + nx * p] += out
            count[dy:dy + ny * p, dx:dx + nx * p] += 1
    return total / np.maximum(count, 1)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    rng = np.random.default_rng(args.seed)
    p = args.patch
    photo = sample_photo(args.photo)  # (H, W, 3) in [0, 1]; Grace Hopper: (600, 512, 3)
    held_out = checkerboard(photo.shape[:2], args.square)  # (H, W) True = test pixels
    print(f"data: matplotlib's {args.photo} photo {photo.shape[:2]}; {args.n_patches} random {p}x{p} patches "
          f"from the training squares of a {args.square}-pixel checkerboard train, the other squares "
          f"({held_out.mean():.0%} of the pixels) evaluate")

    X = random_patches(photo, args.n_patches, p, rng, ~held_out).astype(np.float32)  # (n, p*p*3)
    model = ColorizingAutoencoder((p * p * 3, 256, 64), activation="relu", code_activation="relu",
                                  output_activation="sigmoid", loss="mse", random_state=args.seed)
    start = time.perf_counter()
    model.fit(X, epochs=args.epochs, batch_size=128, optimizer=Adam(1e-3))
    print(f"trained {model!r} for {args.epochs} epochs ({time.perf_counter() - start:.0f}s), "
          f"final training MSE {model.history_['loss'][-1]:.5f}")

    # Colourise the whole photo (trimmed so whole tiles cover it); score only the held-out squares.
    H, W = (photo.shape[0] // p) * p, (photo.shape[1] // p) * p
    true = photo[:H, :W]  # (H, W, 3)
    test = held_out[:H, :W]  # (H, W)
    grey = np.repeat((true @ LUMA)[:, :, None], 3, axis=2)  # (H, W, 3)
    pred = np.clip(colourise(model, true, p), 0, 1)
    # PSNR depends only on the MSE over all values: pass the held-out pixels as one (1, n*3) image.
    psnr_grey = psnr(grey[test].reshape(1, -1), true[test].reshape(1, -1))
    psnr_pred = psnr(pred[test].reshape(1, -1), true[test].reshape(1, -1))
    psnr_train = psnr(pred[~test].reshape(1, -1), true[~test].reshape(1, -1))
    print(f"held-out squares: PSNR grey baseline {psnr_grey:.2f} dB, colourised {psnr_pred:.2f} dB "
          f"({psnr_pred - psnr_grey:+.2f} dB); training squares: colourised {psnr_train:.2f} dB")

    fig, axes = plt.subplots(1, 3, figsize=(11, 4.8))
    titles = (f"grey input, {psnr_grey:.1f} dB", f"colourised, {psnr_pred:.1f} dB", "true colour")
    for ax, im, title in zip(axes, (grey, pred, true), titles, strict=True):
        ax.imshow(im)
        ax.set_title(title)
        ax.axis("off")
    fig.suptitle(f"Colourisation; PSNR on the held-out {args.square}-px checkerboard squares "
                 "(half the photo, never seen in training)")
    save_figure(fig, os.path.join(args.out, "colorization.png"))

    write_metrics(args.out, {"data": f"matplotlib sample photo {args.photo}", "patch": p,
                             "n_patches": args.n_patches, "epochs": args.epochs,
                             "psnr_grey_baseline_db": psnr_grey, "psnr_colourised_db": psnr_pred,
                             "psnr_colourised_training_squares_db": psnr_train})
    print(f"figure and metrics.json written to {args.out}")


if __name__ == "__main__":
    main()
