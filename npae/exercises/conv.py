"""Exercises of lesson 10: the convolution's forward and backward by im2col, the transposed
convolution's backward, max pooling's backward.

Each ``_grade_*`` function draws inputs (a batch of 1, non-square kernels and strides, windows that
overlap and windows that do not, padding and ``output_padding``, tied maxima), calls the learner's
functions through the :class:`~npae.exercises.grading.Grader` and compares them with npae's
(``npae.layers.conv.conv2d_forward``/``conv2d_backward``/``conv2d_transpose_backward``,
``npae.layers.MaxPool2D``) and with central differences of npae's forward.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import numpy as np

from ..datasets import natural_patches
from ..layers import MaxPool2D
from ..layers.conv import (
    col2im,
    conv2d_backward,
    conv2d_forward,
    conv2d_transpose_backward,
    conv2d_transpose_forward,
    conv_transpose_output_size,
    window_counts,
)
from ..models import ConvAutoencoder
from ..optim import Adam
from ..plotting import image_grid
from .grading import Exercise, Grader, Mistake, side_by_side

PAGE = "docs/10-convolutions.md"


def _sizes(stride, padding) -> str:
    return f"stride {tuple(stride)}, padding {tuple(padding)}"


# ---------------------------------------------------------------------------- conv2d
CONV2D_SKELETON = f'''"""Exercise `conv2d` ({PAGE}#backward-of-the-convolution).

Write the forward and the backward pass of a 2-D convolution of NCHW images by im2col, as the lesson
teaches ({PAGE}#the-forward-pass-as-one-matrix-product-im2col).
    npae exercise check conv2d          grades it
    npae exercise check conv2d --run    trains a convolutional autoencoder with your functions, beside npae's

Only conv2d_forward and conv2d_backward are graded. The helpers im2col and col2im are the lesson's
route; write them and use them, or compute the same numbers your own way.
"""

import numpy as np


def im2col(xp, kernel, stride, out_size):
    """Every kernel window of the (already padded) input as a column of a matrix.

        cols[(c, i, j), (n, h, w)] = xp[n, c, sH*h + i, sW*w + j]

    (rows in (c, i, j) order and columns in (n, h, w) order: W.reshape(O, C*kH*kW) @ cols is then
    the convolution of every window at once.)

    Parameters
    ----------
    xp : ndarray, shape (N, C, H_p, W_p)    the input, zero-padded
    kernel : (kH, kW)
    stride : (sH, sW)
    out_size : (H_out, W_out)                the number of window positions along each axis

    Returns
    -------
    cols : ndarray, shape (C*kH*kW, N*H_out*W_out)
    """
    raise NotImplementedError


def col2im(cols, shape, kernel, stride, out_size):
    """The adjoint of im2col: <im2col(a), B> = <a, col2im(B)> for every a and B.

    im2col copied each entry of xp into every column whose window covers it. col2im sends each
    entry of B back to the entry of xp it was copied from. Think about what it must do when
    several columns were copied from the same entry (windows overlap when stride < kernel).

    Parameters
    ----------
    cols : ndarray, shape (C*kH*kW, N*H_out*W_out)
    shape : (N, C, H_p, W_p)                the shape of the result
    kernel, stride, out_size : as for im2col

    Returns
    -------
    xp : ndarray, shape (N, C, H_p, W_p)
    """
    raise NotImplementedError


def conv2d_forward(x, W, b, stride, padding):
    """y = conv(x, W) + b: a cross-correlation (the kernel is not flipped), as in every
    deep-learning library. With xp the input padded by padding zeros on each side:

        y[n, o, h, w] = b[o] + sum_(c, i, j) W[o, c, i, j] xp[n, c, sH*h + i, sW*w + j]

    As matrices: Y = W2 cols + b, with W2 = W.reshape(O, C*kH*kW), cols = im2col(xp), and Y
    the output as an (O, N*H_out*W_out) matrix.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    W : ndarray, shape (O, C, kH, kW)     (out channels, in channels, kernel height, kernel width)
    b : ndarray, shape (O,)
    stride : (sH, sW)
    padding : (pH, pW)                    zeros added on each side of each axis

    Returns
    -------
    y : ndarray, shape (N, O, H_out, W_out), with H_out = (H + 2 pH - kH) // sH + 1 (W_out alike)
    """
    raise NotImplementedError


def conv2d_backward(dy, x, W, stride, padding):
    """The gradients of the loss L with respect to x, W and b, given dy = dL/dy.

    Y = W2 cols + b is the Dense layer's y = x W^T + b with cols in the role of the input (one
    column per window): write dW2, db and dcols = dL/dcols with dY = dy as an (O, N*H_out*W_out)
    matrix, and reshape dW2 to W's shape. Then go back from dcols to the padded input (each
    entry of xp was copied into every window that covers it: col2im) and from the padded input
    to x. Check every reshape and transpose against the shapes below.

    Parameters
    ----------
    dy : ndarray, shape (N, O, H_out, W_out)    dL/dy
    x : ndarray, shape (N, C, H, W)             the input that forward was given
    W : ndarray, shape (O, C, kH, kW)
    stride : (sH, sW)
    padding : (pH, pW)

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
    dW : ndarray, shape (O, C, kH, kW)
    db : ndarray, shape (O,)
    """
    raise NotImplementedError
'''

#: (N, C, O, (H, W), kernel, stride, padding): windows overlapping in both axes with padding;
#: a batch of 1 with a non-square kernel and stride, overlapping along H only; a square W
#: (C == O) with windows that do not overlap and no padding.
CONV2D_CASES = ((2, 3, 4, (7, 6), (3, 3), (2, 2), (1, 1)),
                (1, 2, 3, (5, 7), (3, 2), (1, 2), (0, 1)),
                (2, 2, 2, (6, 4), (2, 2), (2, 2), (0, 0)))


def _coverage(shape: tuple[int, int, int, int], kernel, stride, padding, out_size) -> np.ndarray:
    """How many windows cover each input pixel: shape (N, C, H, W)."""
    n, c, h, w = shape
    (kh, kw), (ph, pw) = kernel, padding
    ones = np.ones((c * kh * kw, n * out_size[0] * out_size[1]))
    counts = col2im(ones, (c, h + 2 * ph, w + 2 * pw, n), kernel, stride, out_size)  # (C, H_p, W_p, N)
    return counts[:, ph: ph + h, pw: pw + w].transpose(3, 0, 1, 2)  # (N, C, H, W)


def _grade_conv2d(g: Grader, rng: np.random.Generator) -> None:
    for N, C, O, (H, Wd), k, s, p in CONV2D_CASES:
        x, W, b = rng.normal(size=(N, C, H, Wd)), rng.normal(size=(O, C, *k)), rng.normal(size=O)
        ho, wo = window_counts(H, Wd, k, s, p)
        dy = rng.normal(size=(N, O, ho, wo))
        shapes = f"x {x.shape}, W {W.shape}, {_sizes(s, p)}"
        y = g.call("conv2d_forward", x, W, b, s, p)
        flipped = conv2d_forward(x, W[:, :, ::-1, ::-1], b, s, p)
        g.compare(f"conv2d_forward, {shapes}", y, conv2d_forward(x, W, b, s, p), "y",
                  mistakes={"y is computed with the kernel flipped (a convolution as in signal processing): "
                            "deep-learning libraries compute a cross-correlation, W[o, c, i, j] times "
                            "xp[n, c, sH*h + i, sW*w + j] with no flip": flipped,
                            "y is missing the bias b": conv2d_forward(x, W, 0 * b, s, p)})

        dx, dW, db = g.call("conv2d_backward", dy, x, W, s, p, n_outputs=3)
        ref_dx, ref_dW, ref_db = conv2d_backward(dy, x, W, s, p)
        overlap = _coverage(x.shape, k, s, p, (ho, wo)) > 1
        dxp = _uncropped(dy, x, W, s, p)  # (N, C, H + 2 pH, W + 2 pW)
        dx_hints = dict(
            masks={"where windows overlap (the input pixels covered by more than one window): col2im must "
                   "add the overlapping windows' contributions (+=), not overwrite them (=)": overlap},
            mistakes={"dx is computed with the kernel flipped: the forward is a cross-correlation (no flip)":
                      conv2d_backward(dy, x, W[:, :, ::-1, ::-1], s, p)[0],
                      **({"dx is cropped at the top-left only: the padding was added on each side, so crop "
                          "pH rows and pW columns from both ends of the padded gradient":
                          dxp[:, :, :H, :Wd]} if any(p) else {}),
                      "dx still has the padding: crop pH rows and pW columns from each side of the padded "
                      "input's gradient (the padding is not an input)": dxp})
        dW2 = ref_dW.reshape(O, -1)  # (O, C*kH*kW)
        dW_hints = dict(
            mistakes={"dW holds the numbers of cols dY^T (shape (C*kH*kW, O)) reshaped to W's shape: the "
                      "reshape hid a transpose; dW2 = dY cols^T has shape (O, C*kH*kW), one row per output "
                      "channel, and reshapes to (O, C, kH, kW)": dW2.T.reshape(W.shape),
                      "dW has its first two axes swapped: Conv2D's W is (out, in, kH, kW)":
                      ref_dW.transpose(1, 0, 2, 3),
                      "dW is flipped in kH and kW: the forward is a cross-correlation (no flip), so "
                      "dW[o, c, i, j] pairs dy with xp at offset (i, j) itself": ref_dW[:, :, ::-1, ::-1],
                      "dW is the matrix dW2 (O, C*kH*kW): reshape it to W's shape (O, C, kH, kW)": dW2,
                      "dW is cols dY^T, shape (C*kH*kW, O): dW2 = dY cols^T (O, C*kH*kW), reshaped to "
                      "(O, C, kH, kW)": dW2.T})
        db_hints = dict(mistakes={
            "db is not summed over the spatial positions: b[o] is added at every (h, w) of every image, "
            "so db[o] = sum over n, h and w of dy[n, o, h, w]": dy.sum(axis=0),
            "db is summed over n and h but not over the positions w: db[o] sums dy over n, h and w":
            dy.sum(axis=(0, 2)),
            "db is summed over n and w but not over the positions h: db[o] sums dy over n, h and w":
            dy.sum(axis=(0, 3))})
        g.compare(f"dx against npae, {shapes}", dx, ref_dx, "dx", **dx_hints)
        g.compare(f"dW against npae, {shapes}", dW, ref_dW, "dW", **dW_hints)
        g.compare(f"db against npae, {shapes}", db, ref_db, "db", **db_hints)

        def loss(x=x, W=W, b=b, dy=dy, s=s, p=p) -> float:  # L = sum(y * dy), so dL/dy = dy
            return float(np.sum(conv2d_forward(x, W, b, s, p) * dy))

        g.numeric(f"dx, {shapes}", dx, loss, x, "dx", **dx_hints)
        g.numeric(f"dW, {shapes}", dW, loss, W, "dW", **dW_hints)
        g.numeric(f"db, {shapes}", db, loss, b, "db", **db_hints)


def _uncropped(dy, x, W, stride, padding) -> np.ndarray:
    """The gradient of the padded input, (N, C, H + 2 pH, W + 2 pW): dx before the crop."""
    ph, pw = padding
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    return conv2d_backward(dy, xp, W, stride, (0, 0))[0]


def _run_conv2d(module: ModuleType, out_dir: Path) -> str:
    """A strided conv autoencoder, Conv(1->8, s2) - Conv(8->8, s2) - ConvT - ConvT (the code: 8x2x2
    numbers for 64 pixels), MSE, Adam, on 2,000 8x8 natural-image patches, with each Conv2D."""

    X = natural_patches(2000, rng=0)  # (2000, 64) float32, offline

    def train() -> dict[str, float]:
        # float64: a learner's im2col in float64 (np.zeros' default) then agrees with npae to rounding
        model = ConvAutoencoder((1, 8, 8), "strided", channels=(8, 8), output_activation="sigmoid",
                                loss="mse", random_state=0, dtype=np.float64)
        model.fit(X[:1600], epochs=20, batch_size=100, optimizer=Adam(lr=1e-2), verbose=False)
        image_grid({"patches": X[1600:1612], "yours": model.reconstruct(X[1600:1612])},
                   out_dir / "reconstructions.png", shape=(8, 8))
        return {"training MSE": model.score(X[:1600]), "held-out MSE": model.score(X[1600:])}

    def forward(x, W, b, stride, padding, cols=None):  # the library's signature; yours computes its own cols
        return np.asarray(module.conv2d_forward(x, W, b, stride, padding), dtype=np.result_type(x, W))

    def backward(dy, x, W, stride, padding, cols=None, input_grad=True):
        dx, dW, db = module.conv2d_backward(dy, x, W, stride, padding)
        dtype = np.result_type(dy, W)
        return (np.asarray(dx, dtype=dtype) if input_grad else None,
                np.asarray(dW, dtype=dtype), np.asarray(db, dtype=dtype))

    out_dir.mkdir(parents=True, exist_ok=True)
    table = side_by_side("A conv autoencoder 8x8 -> 8x2x2 -> 8x8, 20 epochs of Adam on 1,600 natural-image "
                         "patches:", train,
                         {("npae.layers.conv", "conv2d_forward"): forward,
                          ("npae.layers.conv", "conv2d_backward"): backward,
                          # every Conv2D on the im2col route (this network has none the fast kernel takes)
                          ("npae.layers.conv", "FAST_STRIDE1"): False})
    return f"{table}\nYour model's reconstructions of 12 held-out patches: {out_dir / 'reconstructions.png'}"


# ---------------------------------------------------------------------------- conv2d_transpose_backward
TRANSPOSE_SKELETON = f'''"""Exercise `conv2d_transpose_backward` ({PAGE}#the-transposed-convolution).

Write the backward pass of the transposed convolution (Conv2DTranspose); its forward is given.
    npae exercise check conv2d_transpose_backward
"""

import numpy as np

# The forward pass, given: npae's own (read it in npae/layers/conv.py). For x (N, C, H, W) and
# W (C, O, kH, kW), every input pixel adds a copy of the kernel, scaled by its value, onto a
# canvas, the copies stride apart; overlaps add up; padding is cropped from each side of the
# canvas, output_padding rows/columns are kept at the bottom/right; the bias is added:
#
#     y_full[n, o, sH*h + i, sW*w + j] += sum_c x[n, c, h, w] W[c, o, i, j]
#     y = crop_padding(y_full) + b[o],   H_out = (H - 1) sH - 2 pH + kH + opH
#
# As matrices: cols = W2^T X (O*kH*kW, H*W*N) with W2 = W.reshape(C, O*kH*kW) and X = x as a
# (C, H*W*N) matrix (x.transpose(1, 2, 3, 0): batch last), then y_full = col2im(cols). You may
# use npae's helpers:
# npae.layers.conv.im2col(xp, kernel, stride, out_size) and col2im work on channel-major,
# batch-last arrays xp (C, H_p, W_p, N), cols[(c, i, j), (h, w, n)] = xp[c, sH*h + i, sW*w + j, n].
from npae.layers.conv import conv2d_transpose_forward, im2col  # noqa: F401


def conv2d_transpose_backward(dy, x, W, stride, padding):
    """The gradients of the loss L with respect to x, W and b, given dy = dL/dy.

    Go back through each step of the forward pass: the bias, the crop (which entries of the
    canvas did y keep?), col2im (its adjoint is im2col), and cols = W2^T X (the rule of a
    matrix product). The shapes below tell you where the transposes go. output_padding is not
    an argument: dy's shape tells how large the output was.

    Parameters
    ----------
    dy : ndarray, shape (N, O, H_out, W_out)    dL/dy
    x : ndarray, shape (N, C, H, W)             the input that forward was given
    W : ndarray, shape (C, O, kH, kW)           (in channels, out channels, kH, kW): the weight
                                                of the convolution it transposes
    stride : (sH, sW)
    padding : (pH, pW)

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
    dW : ndarray, shape (C, O, kH, kW)
    db : ndarray, shape (O,)
    """
    raise NotImplementedError
'''

#: (N, C, O, (H, W), kernel, stride, padding, output_padding): a decoder's stage; a batch of 1,
#: non-square, output_padding larger than the padding; a square W (C == O) at stride (2, 1).
TRANSPOSE_CASES = ((2, 3, 2, (4, 3), (3, 3), (2, 2), (1, 1), (1, 1)),
                   (1, 2, 3, (3, 4), (2, 3), (2, 3), (0, 1), (1, 2)),
                   (2, 3, 3, (3, 5), (3, 3), (2, 1), (1, 0), (0, 0)))


def _grade_conv2d_transpose(g: Grader, rng: np.random.Generator) -> None:
    for N, C, O, (H, Wd), k, s, p, op in TRANSPOSE_CASES:
        x, W, b = rng.normal(size=(N, C, H, Wd)), rng.normal(size=(C, O, *k)), rng.normal(size=O)
        ho = conv_transpose_output_size(H, k[0], s[0], p[0], op[0])
        wo = conv_transpose_output_size(Wd, k[1], s[1], p[1], op[1])
        dy = rng.normal(size=(N, O, ho, wo))
        shapes = f"x {x.shape}, W {W.shape}, {_sizes(s, p)}, output_padding {op}"
        dx, dW, db = g.call("conv2d_transpose_backward", dy, x, W, s, p, n_outputs=3)
        ref_dx, ref_dW, ref_db = conv2d_transpose_backward(dy, x, W, s, p)
        swapped = ("dW has its in and out axes swapped: Conv2DTranspose's W is (in, out, kH, kW), "
                   "in channels first")
        dW_hints = dict(mistakes={swapped: ref_dW.transpose(1, 0, 2, 3)})
        # dy without its last output_padding rows and columns (a size formula without output_padding)
        cut = dy.copy()
        cut[:, :, ho - op[0]:] = 0
        cut[:, :, :, wo - op[1]:] = 0
        cut_dx, cut_dW, cut_db = conv2d_transpose_backward(cut, x, W, s, p)
        without = ("{} uses dy without its last output_padding rows/columns: they are part of y (H_out = "
                   "(H - 1) sH - 2 pH + kH + opH), so their dy counts{}")
        reach = " (kernel copies reach the first pH of those rows, and pW of those columns)"
        dx_hints = dict(mistakes={without.format("dx", reach): cut_dx} if any(op) else {})
        dW_hints["mistakes"].update({without.format("dW", reach): cut_dW} if any(op) else {})
        db_hints = dict(mistakes={without.format("db", ": the bias b[o] is added at every position of y")
                                  : cut_db} if any(op) else {})
        g.compare(f"dx against npae, {shapes}", dx, ref_dx, "dx", **dx_hints)
        g.compare(f"dW against npae, {shapes}", dW, ref_dW, "dW", **dW_hints)
        g.compare(f"db against npae, {shapes}", db, ref_db, "db", **db_hints)

        def loss(x=x, W=W, b=b, dy=dy, s=s, p=p, op=op) -> float:  # L = sum(y * dy)
            return float(np.sum(conv2d_transpose_forward(x, W, b, s, p, op) * dy))

        g.numeric(f"dx, {shapes}", dx, loss, x, "dx", **dx_hints)
        g.numeric(f"dW, {shapes}", dW, loss, W, "dW", **dW_hints)
        g.numeric(f"db, {shapes}", db, loss, b, "db", **db_hints)


# ---------------------------------------------------------------------------- maxpool_backward
MAXPOOL_SKELETON = f'''"""Exercise `maxpool_backward` ({PAGE}#pooling-up-sampling-reshapes).

Write the backward pass of non-overlapping max pooling (npae.layers.MaxPool2D(size)).
    npae exercise check maxpool_backward
"""

import numpy as np


def maxpool_backward(dy, x, size):
    """dx = dL/dx from dy = dL/dy, for y the maximum over each size x size window of x:

        y[n, c, h, w] = max_(i, j) x[n, c, size*h + i, size*w + j],   0 <= i, j < size

    (the windows do not overlap: the stride is the size). Which entries of a window does y
    depend on, near x? When several entries tie for the maximum (the zeros of a ReLU, for
    instance), the max has no derivative; npae, like PyTorch, gives the gradient to the first
    of them in row-major order (the smallest i, then the smallest j), and so must you.

    Parameters
    ----------
    dy : ndarray, shape (N, C, H // size, W // size)    dL/dy
    x : ndarray, shape (N, C, H, W)                     the input of the forward pass; H and W
                                                        are multiples of size
    size : int

    Returns
    -------
    dx : ndarray, shape (N, C, H, W)
    """
    raise NotImplementedError
'''

#: (N, C, (H, W), size, ties): distinct values (central differences are valid), a batch of 1
#: with 3x3 windows, and values drawn from {0, 1, 2} (ties in most windows) with one window all 0.
MAXPOOL_CASES = ((2, 3, (4, 6), 2, False), (1, 2, (6, 9), 3, False), (2, 2, (4, 6), 2, True))


def _pooled(dy: np.ndarray, size: int) -> np.ndarray:
    """``dy`` (N, C, H', W') repeated over each window: (N, C, H' size, W' size)."""
    return np.repeat(np.repeat(dy, size, axis=2), size, axis=3)


def _grade_maxpool(g: Grader, rng: np.random.Generator) -> None:
    for N, C, (H, Wd), size, ties in MAXPOOL_CASES:
        if ties:
            x = rng.integers(0, 3, size=(N, C, H, Wd)).astype(np.float64)
            x[0, 0, :size, :size] = 0.0  # a window of a ReLU's zeros
        else:
            x = rng.permutation(N * C * H * Wd).reshape(N, C, H, Wd) / 7.0 + rng.uniform(-0.01, 0.01)
        dy = rng.normal(size=(N, C, H // size, Wd // size))
        pool = MaxPool2D(size)
        y = pool.forward(x)
        ref_dx = pool.backward(dy)
        at_max = x == _pooled(y, size)  # (N, C, H, W): every entry equal to its window's maximum
        n_max = at_max.reshape(N, C, H // size, size, Wd // size, size).sum(axis=(3, 5))  # (N, C, H', W')
        tied = _pooled(n_max > 1, size)  # (N, C, H, W): the pixels of the windows with a tie
        label = f"dx against npae, x {x.shape}, size {size}" + (", values in {0, 1, 2}: ties" if ties else "")
        dx = g.call("maxpool_backward", dy, x, size)
        hints = dict(
            mistakes={"dx gives dy to every entry of the window: only the maximum changes y, so only it gets "
                      "dy (the others get 0)": _pooled(dy, size),
                      "dx is the mask of the maxima alone: multiply it by dy (the chain rule)":
                      at_max.astype(float)},
            masks={"where a window has a tie (two or more equal maxima): give dy to one of them only, the "
                   "first in row-major order (npae's and PyTorch's rule)": tied})
        g.compare(label, dx, ref_dx, "dx", **hints)
        if not ties:
            g.numeric(f"dx, x {x.shape}, size {size}", dx,
                      lambda x=x, dy=dy, size=size: float(np.sum(MaxPool2D(size).forward(x) * dy)), x, "dx",
                      **hints)


# ---------------------------------------------------------------------------- the catalogue
IM2COL = '''
import numpy as np


def im2col(xp, kernel, stride, out_size):
    (kh, kw), (sh, sw), (ho, wo) = kernel, stride, out_size
    n, c = xp.shape[:2]
    cols = np.empty((c, kh, kw, n, ho, wo))
    for i in range(kh):
        for j in range(kw):
            window = xp[:, :, i: i + sh * (ho - 1) + 1: sh, j: j + sw * (wo - 1) + 1: sw]  # (N, C, Ho, Wo)
            cols[:, i, j] = window.transpose(1, 0, 2, 3)
    return cols.reshape(c * kh * kw, n * ho * wo)


def out_size(x, W, stride, padding):
    return tuple((x.shape[2 + a] + 2 * padding[a] - W.shape[2 + a]) // stride[a] + 1 for a in range(2))


def conv2d_forward(x, W, b, stride, padding):
    (ph, pw), o = padding, W.shape[0]
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    ho, wo = out_size(x, W, stride, padding)
    y = W.reshape(o, -1) @ im2col(xp, W.shape[2:], stride, (ho, wo)) + b[:, None]
    return y.reshape(o, len(x), ho, wo).transpose(1, 0, 2, 3)
'''

CONV2D_BACKWARD = '''

def col2im(cols, shape, kernel, stride, out_size):
    (kh, kw), (sh, sw), (ho, wo) = kernel, stride, out_size
    n, c = shape[:2]
    xp = np.zeros(shape)
    cols6 = cols.reshape(c, kh, kw, n, ho, wo)
    for i in range(kh):
        for j in range(kw):
            window = cols6[:, i, j].transpose(1, 0, 2, 3)  # (N, C, H_out, W_out)
            xp[:, :, i: i + sh * (ho - 1) + 1: sh, j: j + sw * (wo - 1) + 1: sw] {assign} window
    return xp


def conv2d_backward(dy, x, W, stride, padding):
    (ph, pw), (o, c, kh, kw) = padding, W.shape
    n, _, h, w = x.shape
    ho, wo = dy.shape[2:]
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    cols = im2col(xp, (kh, kw), stride, (ho, wo))
    dY = dy.transpose(1, 0, 2, 3).reshape(o, -1)
    dW = {dW}
    db = {db}
    dxp = col2im(W.reshape(o, -1).T @ dY, xp.shape, (kh, kw), stride, (ho, wo))
    dx = {dx}
    return dx, dW, db
'''


def _conv2d_file(assign="+=", dW="(dY @ cols.T).reshape(W.shape)", db="dY.sum(axis=1)",
                 dx="dxp[:, :, ph: ph + h, pw: pw + w]", forward=IM2COL) -> str:
    return forward + CONV2D_BACKWARD.format(assign=assign, dW=dW, db=db, dx=dx)


TRANSPOSE_FILE = '''
import numpy as np


def conv2d_transpose_backward(dy, x, W, stride, padding):
    (n, c, h, w), (_, o, kh, kw), (ph, pw) = x.shape, W.shape, padding
    ho, wo = dy.shape[2:]
    {crop}
    canvas = np.pad(dy, ((0, 0), (0, 0), (ph, ph), (pw, pw))).transpose(1, 0, 2, 3)  # (O, N, H_p, W_p)
    dcols = np.empty((o, kh, kw, n, h, w))
    for i in range(kh):
        for j in range(kw):
            dcols[:, i, j] = canvas[:, :, i: i + stride[0] * (h - 1) + 1: stride[0],
                                    j: j + stride[1] * (w - 1) + 1: stride[1]]
    dcols = dcols.reshape(o * kh * kw, n * h * w)
    X = x.transpose(1, 0, 2, 3).reshape(c, -1)
    dx = (W.reshape(c, -1) @ dcols).reshape(c, n, h, w).transpose(1, 0, 2, 3)
    dW = {dW}
    db = dy.sum(axis=(0, 2, 3))
    return dx, dW, db
'''


def _transpose_file(crop="", dW="(X @ dcols.T).reshape(W.shape)") -> str:
    return TRANSPOSE_FILE.format(crop=crop, dW=dW)


MAXPOOL_FILE = '''
import numpy as np


def maxpool_backward(dy, x, size):
    n, c, h, w = x.shape
    windows = x.reshape(n, c, h // size, size, w // size, size)
    y = windows.max(axis=(3, 5), keepdims=True)
    {body}
    return dx.reshape(n, c, h, w)
'''

EXERCISES = (
    Exercise(
        name="conv2d", lesson=f"{PAGE}#backward-of-the-convolution",
        summary="Conv2D by im2col: the forward y = W2 cols + b and its backward (dx, dW, db)",
        skeleton=CONV2D_SKELETON, functions=("conv2d_forward", "conv2d_backward"),
        solution={"conv2d_forward": "npae.layers.conv.conv2d_forward",
                  "conv2d_backward": "npae.layers.conv.conv2d_backward"},
        grade=_grade_conv2d, run=_run_conv2d,
        reference="from npae.layers.conv import conv2d_backward as _backward, conv2d_forward as _forward\n\n"
                  "def conv2d_forward(x, W, b, stride, padding):\n"
                  "    return _forward(x, W, b, stride, padding)\n\n"
                  "def conv2d_backward(dy, x, W, stride, padding):\n"
                  "    return _backward(dy, x, W, stride, padding)\n",
        mistakes=(
            Mistake("col2im overwrites", _conv2d_file(assign="="), "where windows overlap",
                    "a col2im written as the mirror image of im2col, with = where im2col reads",
                    "an input pixel in several windows was copied into several columns, so its gradient is "
                    "the sum of theirs; with = only the last window's share survives"),
            Mistake("dW transposed by a reshape", _conv2d_file(dW="(cols @ dY.T).reshape(W.shape)"),
                    "the reshape hid a transpose",
                    "the product written the wrong way round and forced into W's shape by reshape, which "
                    "succeeds because the sizes agree",
                    "dW2 = dY cols^T is (O, C*kH*kW); cols dY^T is its transpose, and reshaping it to "
                    "(O, C, kH, kW) scrambles the entries instead of failing"),
            Mistake("db per position", _conv2d_file(db="dy.sum(axis=0)"),
                    "db is not summed over the spatial positions",
                    "the Dense layer's db = dy.sum(axis=0) carried over to images unchanged",
                    "the same b[o] is added at every position of every image, so its gradient sums dy over "
                    "n, h and w"),
            Mistake("padding left in dx", _conv2d_file(dx="dxp"), "dx still has the padding",
                    "returning col2im's result directly: it is the gradient of the padded input",
                    "the zeros of the padding are not inputs: dx is the padded gradient with pH rows and pW "
                    "columns cropped from each side"),
            Mistake("flipped kernel",
                    _conv2d_file(dW="(dY @ cols.T).reshape(W.shape)[:, :, ::-1, ::-1]").replace(
                        "W.reshape(o, -1)", "W[:, :, ::-1, ::-1].reshape(o, -1)"),
                    "deep-learning libraries compute a cross-correlation",
                    "the convolution of signal processing (the kernel flipped), as textbooks define it",
                    "a network learns the same thing either way, but npae, PyTorch and TensorFlow do not "
                    "flip, so weights moved between them would be mirrored"),
        )),
    Exercise(
        name="conv2d_transpose_backward", lesson=f"{PAGE}#the-transposed-convolution",
        summary="Conv2DTranspose's backward (dx, dW, db); its forward is given",
        skeleton=TRANSPOSE_SKELETON, functions=("conv2d_transpose_backward",),
        solution={"conv2d_transpose_backward": "npae.layers.conv.conv2d_transpose_backward"},
        grade=_grade_conv2d_transpose,
        reference="from npae.layers.conv import conv2d_transpose_backward as _backward\n\n"
                  "def conv2d_transpose_backward(dy, x, W, stride, padding):\n"
                  "    return _backward(dy, x, W, stride, padding)\n",
        mistakes=(
            Mistake("dW (out, in)",
                    _transpose_file(dW="(dcols @ X.T).reshape(o, kh, kw, c).transpose(0, 3, 1, 2)"),
                    "dW has its in and out axes swapped",
                    "Conv2D's weight layout (out, in, kH, kW) carried over to the transposed layer",
                    "Conv2DTranspose's W is (in, out, kH, kW), the weight of the convolution it "
                    "transposes, so its gradient is too"),
            Mistake("output_padding cropped from dy",
                    _transpose_file(crop="dy = dy[:, :, : (h - 1) * stride[0] - 2 * ph + kh, "
                                         ": (w - 1) * stride[1] - 2 * pw + kw]  # no output_padding"),
                    "without its last output_padding rows/columns",
                    "recomputing the output size by the formula without output_padding and cutting dy to it",
                    "output_padding's rows and columns are part of y: the bias is added there, and kernel "
                    "copies reach the first p of them, so their dy counts in db, and in dx and dW"),
        )),
    Exercise(
        name="maxpool_backward", lesson=f"{PAGE}#pooling-up-sampling-reshapes",
        summary="non-overlapping max pooling's backward dx, tied maxima included",
        skeleton=MAXPOOL_SKELETON, functions=("maxpool_backward",),
        solution={"maxpool_backward": "npae.layers.MaxPool2D.backward (after its forward)"},
        grade=_grade_maxpool,
        reference="from npae.layers import MaxPool2D\n\ndef maxpool_backward(dy, x, size):\n"
                  "    pool = MaxPool2D(size)\n    pool.forward(x)\n    return pool.backward(dy)\n",
        mistakes=(
            Mistake("every tied maximum", MAXPOOL_FILE.format(
                body="dx = (windows == y) * dy[:, :, :, None, :, None]"),
                "where a window has a tie",
                "the mask x == max(window), the natural vectorised form (exact while a maximum is unique)",
                "at a tie the mask holds several ones, so dy is counted once per tied entry; npae and "
                "PyTorch give it to the first maximum only"),
            Mistake("whole window", MAXPOOL_FILE.format(
                body="dx = np.broadcast_to(dy[:, :, :, None, :, None], windows.shape)"),
                "dx gives dy to every entry of the window",
                "average pooling's backward without its 1/size^2, or up-sampling's, in place of the mask",
                "only the maximum changes y when the inputs move a little; the other entries get 0"),
            Mistake("mask without dy", MAXPOOL_FILE.format(
                body="dx = (windows == y).astype(float)"),
                "multiply it by dy",
                "the local derivative returned in place of the chain rule's product",
                "dx = dy * d y / d x: the mask is d y / d x, and dy must multiply it"),
        )),
)
