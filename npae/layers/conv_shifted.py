r"""A fast kernel for one case: stride-1 convolutions to fewer channels, without im2col.

**What it is.** ``Conv2D`` computes a convolution by the route that ``docs/10-convolutions.md``
teaches (``conv.py``): im2col, one GEMM, col2im. im2col copies the input kH*kW times into
``cols`` (C*kH*kW, N*H_out*W_out). When the output has fewer channels than the input (O < C,
e.g. the last layer of the Keras-style denoising network, Conv 32->1 at 28x28), that copy is
many times larger than everything else the layer touches, and so is col2im's ``W^T dY``.
This module computes the same numbers without either. Lay the padded input out flat per
channel, batch last, ``q = (h W_p + w) N + n``; then the kernel offset ``(i, j)`` is a shift of
``q`` by ``(i W_p + j) N``, and

.. math::
    Y[o, q] = \sum_{i, j} \sum_c W[o, c, i, j]\; \mathrm{flat}[c, q + (i W_p + j) N], \qquad
    dW[o, c, i, j] = \sum_q dY[o, q]\; \mathrm{flat}[c, q + (i W_p + j) N]

are kH*kW GEMMs each, on contiguous column slices of ``flat`` (views, no copy). Positions ``q``
whose window runs off the right or bottom edge are computed and dropped (``dY`` is zero there).
The input gradient is the stride-1 convolution of ``dy``, zero-padded by ``k-1-p``, with the
flipped kernel ``W[o, c, kH-1-i, kW-1-j]`` read as (C, O, kH, kW) (for a stride of 1, this is
the rule "the input gradient is a transposed convolution" of ``docs/10-convolutions.md``); its
shifted slices are stacked into a matrix of only O*kH*kW rows, then one GEMM.

**When it runs.** ``Conv2D.forward`` takes this route when ``npae.layers.conv.FAST_STRIDE1`` is
True (the default) and :func:`runs_for` the layer: stride 1, ``O < C``, padding smaller than
the kernel; ``Conv2D.backward`` follows the route its forward pass took. Everything else,
and every layer when ``FAST_STRIDE1 = False``, runs the taught route. It stays because it pays:
it about halves a training step of ``ConvDenoisingAutoencoder()`` (``docs/benchmarks.md``,
``benchmarks/conv_routes.py``). For ``O >= C`` it was measured too and does not pay (no gain at
``O = C``; at ``O > C`` its kH*kW passes over the larger output lose to im2col's small copy).
``tests/test_conv.py`` asserts that both routes give the same ``y``, ``dx``, ``dW`` and ``db``.
"""

from __future__ import annotations

import numpy as np


def runs_for(w_shape: tuple[int, int, int, int], stride: tuple[int, int], padding: tuple[int, int]) -> bool:
    """True for a Conv2D with weights ``w_shape`` (O, C, kH, kW) that this kernel computes."""
    o, c, kh, kw = w_shape
    return stride == (1, 1) and o < c and padding[0] < kh and padding[1] < kw


def _shifts(kh: int, kw: int, wp: int, n: int) -> list[tuple[tuple[int, int], int]]:
    """Every kernel offset ``(i, j)`` (row-major) with its shift ``(i*W_p + j)*N`` of the flat index."""
    return [((i, j), (i * wp + j) * n) for i in range(kh) for j in range(kw)]


def _flat_canvas(c: int, n: int, hp: int, wp: int, kernel: tuple[int, int], dtype
                 ) -> tuple[np.ndarray, np.ndarray]:
    """A zeroed (C, H_p*W_p*N + span) buffer and its first H_p*W_p*N columns as a (C, H_p, W_p, N) canvas.

    The ``span = ((kH-1)*W_p + kW-1)*N`` extra zero columns let every shifted slice
    ``flat[:, s: s + H_p*W_p*N]`` exist.
    """
    size = hp * wp * n
    flat = np.zeros((c, size + ((kernel[0] - 1) * wp + kernel[1] - 1) * n), dtype=dtype)
    return flat, flat[:, :size].reshape(c, hp, wp, n)  # (C, H_p, W_p, N), a view


def forward(x: np.ndarray, W: np.ndarray, b: np.ndarray, padding: tuple[int, int]
            ) -> tuple[np.ndarray, tuple]:
    """``y = conv(x, W) + b`` with stride 1, by kH*kW shifted GEMMs.

    x (N, C, H, W), W (O, C, kH, kW), b (O,). Returns ``y`` (N, O, H_out, W_out), an NCHW view
    of (C, H, W, N) memory as in ``conv.py``, and the cache for :func:`backward`.
    """
    n, c, h, w = x.shape
    o, _, kh, kw = W.shape
    hp, wp = h + 2 * padding[0], w + 2 * padding[1]
    size = hp * wp * n
    # 1. pad into a flat channel-major, batch-last canvas
    flat, xp = _flat_canvas(c, n, hp, wp, (kh, kw), np.result_type(x, W))
    xp[:, padding[0]: padding[0] + h, padding[1]: padding[1] + w] = x.transpose(1, 2, 3, 0)  # (C, H, W, N)
    # 2. one (O, C) @ (C, H_p*W_p*N) GEMM per kernel offset, on a shifted slice
    y = np.zeros((o, size), dtype=flat.dtype)
    for (i, j), shift in _shifts(kh, kw, wp, n):
        y += W[:, :, i, j] @ flat[:, shift: shift + size]  # (O, H_p*W_p*N)
    # 3. keep the positions whose window fits, add the bias
    y = y.reshape(o, hp, wp, n)[:, : hp - kh + 1, : wp - kw + 1]  # (O, H_out, W_out, N), a view
    y += b[:, None, None, None]
    return y.transpose(3, 0, 1, 2), (x.shape, flat)  # (N, O, H_out, W_out), a view


def backward(dy: np.ndarray, W: np.ndarray, padding: tuple[int, int], cache: tuple, input_grad: bool
             ) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """``(dx, dW, db)`` of :func:`forward` for ``dy`` (N, O, H_out, W_out); ``dx`` is None
    without ``input_grad``."""
    (n, c, h, w), flat = cache
    o, _, kh, kw = W.shape
    ho, wo = dy.shape[2:]
    hp, wp = h + 2 * padding[0], w + 2 * padding[1]
    size = hp * wp * n
    dtype = np.result_type(dy, W)
    dY = dy.transpose(1, 2, 3, 0)  # (O, H_out, W_out, N)
    db = dY.sum(axis=(1, 2, 3))  # (O,)
    # dW: dy on the zero (O, H_p, W_p, N) canvas of forward's positions, one GEMM per offset
    dYc = np.zeros((o, hp, wp, n), dtype=dtype)
    dYc[:, :ho, :wo] = dY
    dYc = dYc.reshape(o, size)  # (O, H_p*W_p*N)
    dW = np.empty(W.shape, dtype=dtype)
    for (i, j), shift in _shifts(kh, kw, wp, n):
        dW[:, :, i, j] = dYc @ flat[:, shift: shift + size].T  # (O, C)
    if not input_grad:
        return None, dW, db
    # dx: the stride-1 convolution of dy, padded by k-1-p, with the flipped kernel
    qh, qw = kh - 1 - padding[0], kw - 1 - padding[1]
    dhp, dwp = h + kh - 1, w + kw - 1  # the padded dy: H_out + 2*(kH-1-p_H) = H + kH - 1
    dsize = dhp * dwp * n
    dflat, dyp = _flat_canvas(o, n, dhp, dwp, (kh, kw), dtype)
    dyp[:, qh: qh + ho, qw: qw + wo] = dY  # (O, H_out, W_out, N)
    dcols = np.stack([dflat[:, s: s + dsize] for _, s in _shifts(kh, kw, dwp, n)],
                     axis=1)  # (O, kH*kW, dH*dW*N)
    W_flip = W[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)  # (C, O, kH, kW), the kernel flipped
    W_flip = W_flip.reshape(c, o * kh * kw)  # (C, O*kH*kW)
    dX = W_flip @ dcols.reshape(o * kh * kw, dsize)  # (C, dH*dW*N)
    dx = dX.reshape(c, dhp, dwp, n)[:, :h, :w]  # (C, H, W, N), a view
    return dx.transpose(3, 0, 1, 2), dW, db  # (N, C, H, W), a view


__all__ = ["backward", "forward", "runs_for"]
