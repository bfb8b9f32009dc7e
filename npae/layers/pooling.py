r"""Max pooling and nearest-neighbour up-sampling of NCHW images.

Derivations: ``docs/10-convolutions.md`` (section "Pooling, up-sampling, reshapes").
"""

from __future__ import annotations

import numpy as np

from .base import Layer
from .conv import Pair, _pair, _window_output_size


class MaxPool2D(Layer):
    r"""Maximum over each ``kernel_size`` window, windows ``stride`` apart.

    Forward, with ``xp`` the input padded by ``padding`` with ``-inf``:

    .. math:: y[n, c, h, w] = \max_{i, j}\; xp[n, c, s_H h + i, s_W w + j]

    Backward: the maximum is locally the identity on the entry that won its window and constant
    in the others, so each ``dy`` goes to its window's winner ``(i*, j*)``; inputs in several
    windows (stride < kernel) add up what they won:

    .. math:: dx[n, c, s_H h + i^*, s_W w + j^*] \mathrel{+}= dy[n, c, h, w]

    The winner is PyTorch's (its ``max_pool2d`` scans each window in row-major order, starting at
    the window's first entry inside the image, and moves on to every entry that is larger than
    the best so far or is NaN). The forward pass runs the same scan over the whole batch, one
    kernel offset at a time, and keeps each window's winner for the backward pass. So the winner is

    - the first entry holding the maximum (on ties, e.g. the zeros of a ReLU, the first one);
    - in a window holding NaN (its ``y`` is NaN), the last NaN;
    - in a window that is all ``-inf`` (``y = -inf``), its first entry inside the image: the
      padding never wins.

    Parameters
    ----------
    kernel_size : int or (int, int)
    stride : int or (int, int), optional
        Default ``kernel_size`` (non-overlapping windows).
    padding : int or (int, int)
        ``-inf`` added on each side, at most half the kernel (so no window is all padding).

    Output size along each axis: ``(H + 2*padding - k) // stride + 1``; rows that do not fill a
    window are dropped, as in PyTorch.
    """

    def __init__(self, kernel_size: Pair = 2, stride: Pair | None = None, padding: Pair = 0) -> None:
        super().__init__()
        self.kernel_size = _pair(kernel_size, "kernel_size", 1)
        self.stride = self.kernel_size if stride is None else _pair(stride, "stride", 1)
        self.padding = _pair(padding, "padding", 0)
        if any(2 * p > k for p, k in zip(self.padding, self.kernel_size, strict=True)):
            raise ValueError(f"padding must be at most half of kernel_size, got padding={self.padding}, "
                             f"kernel_size={self.kernel_size}")
        self._cache: tuple | None = None

    def _offsets(self) -> list[tuple[int, int]]:
        """Kernel offsets (i, j) in row-major order, the order of PyTorch's scan; offset k is the k-th."""
        return [(i, j) for i in range(self.kernel_size[0]) for j in range(self.kernel_size[1])]

    def _offset_view(self, xp: np.ndarray, i: int, j: int, ho: int, wo: int) -> np.ndarray:
        """``xp[n, c, s_H h + i, s_W w + j]`` for every output (h, w): a strided view (N, C, H_out, W_out)."""
        (sh, sw) = self.stride
        return xp[:, :, i: i + sh * (ho - 1) + 1: sh, j: j + sw * (wo - 1) + 1: sw]

    def forward(self, x: np.ndarray) -> np.ndarray:
        n, c, h, w = x.shape
        (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
        ho, wo = _window_output_size(self, x.shape)  # smaller than a window: an error, not (N, C, 0, 0)
        if ph or pw:
            xp = np.full((n, c, h + 2 * ph, w + 2 * pw), -np.inf, dtype=x.dtype)
            xp[:, :, ph: ph + h, pw: pw + w] = x
        else:
            xp = x
        # the scan, vectorised: one step per kernel offset k, each over the whole batch
        # (kH*kW element-wise passes; a reduction over a short last axis of a (..., kH*kW) copy is
        # several times slower). y and winner keep x's memory order ((C, H, W, N) after a conv).
        first = self._offset_view(xp, 0, 0, ho, wo)
        y = np.full_like(first, -np.inf)  # (N, C, H_out, W_out): the best so far
        i0 = np.maximum(ph - sh * np.arange(ho), 0)  # (H_out,): each window's first row inside the image
        j0 = np.maximum(pw - sw * np.arange(wo), 0)  # (W_out,)
        winner = np.empty_like(first, dtype=np.min_scalar_type(kh * kw - 1))  # offset number k of the best
        winner[...] = i0[:, None] * kw + j0  # (H_out, W_out) broadcast: the first entry inside the image
        takes = np.empty_like(first, dtype=bool)
        for k, (i, j) in enumerate(self._offsets()):
            v = self._offset_view(xp, i, j, ho, wo)  # (N, C, H_out, W_out)
            np.greater(v, y, out=takes)
            takes |= np.isnan(v)  # larger than the best so far, or NaN
            # winner = k where it takes: a taker is inside the image, so k is larger than the
            # current winner and a maximum does it (np.copyto(..., where=takes): ~30x slower)
            np.maximum(winner, takes * winner.dtype.type(k), out=winner)
            np.maximum(y, v, out=y)  # the new best (np.maximum propagates NaN, as the scan does)
        self._cache = (x.shape[2:], xp, winner)
        return y

    @np.errstate(invalid="ignore")  # NaN/Inf in dy propagate by IEEE arithmetic (Inf*0 = NaN), no warning
    def backward(self, dy: np.ndarray) -> np.ndarray:
        (h, w), xp, winner = self._cache
        ph, pw = self.padding
        ho, wo = dy.shape[2:]
        dxp = np.zeros_like(xp, dtype=dy.dtype)  # (N, C, H_p, W_p), the memory order of x
        # one masked, strided add per kernel offset k, each over the whole batch
        for k, (i, j) in enumerate(self._offsets()):
            dxp_k = self._offset_view(dxp, i, j, ho, wo)  # (N, C, H_out, W_out), a view
            dxp_k += dy * (winner == k)
        return dxp[:, :, ph: ph + h, pw: pw + w]  # (N, C, H, W)

    def __repr__(self) -> str:
        return f"MaxPool2D(kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding})"


class UpSampling2D(Layer):
    r"""Nearest-neighbour up-sampling: every pixel becomes a ``size`` block of copies.

    .. math:: y[n, c, s_H h + i, s_W w + j] = x[n, c, h, w], \qquad 0 \le i < s_H,\ 0 \le j < s_W

    Backward: each input feeds every pixel of its block, so its gradient is the block's sum

    .. math:: dx[n, c, h, w] = \sum_{i, j} dy[n, c, s_H h + i, s_W w + j]

    Parameters
    ----------
    size : int or (int, int)
        Up-sampling factor along (H, W).
    """

    def __init__(self, size: Pair = 2) -> None:
        super().__init__()
        self.size = _pair(size, "size", 1)

    def forward(self, x: np.ndarray) -> np.ndarray:
        n, c, h, w = x.shape
        sh, sw = self.size
        if x.strides[0] < x.strides[3]:  # a view of (C, H, W, N) memory (from a convolution): keep that order
            y = np.empty((c, h * sh, w * sw, n), dtype=x.dtype).transpose(3, 0, 1, 2)  # (N, C, H*sH, W*sW)
        else:
            y = np.empty((n, c, h * sh, w * sw), dtype=x.dtype)
        for i in range(sh):  # sH*sW strided copies of the whole batch (faster than a broadcast reshape)
            for j in range(sw):
                y[:, :, i::sh, j::sw] = x
        return y

    @np.errstate(invalid="ignore")  # NaN/Inf in dy propagate by IEEE arithmetic (Inf - Inf = NaN), no warning
    def backward(self, dy: np.ndarray) -> np.ndarray:
        sh, sw = self.size
        # the block sums as sH*sW strided adds (a sum over the short axes of
        # dy.reshape(N, C, H, sH, W, sW) gives the same numbers, ~10x slower)
        dx = dy[:, :, ::sh, ::sw].copy(order="K")  # (N, C, H, W)
        for i in range(sh):
            for j in range(sw):
                if i or j:
                    dx += dy[:, :, i::sh, j::sw]
        return dx

    def __repr__(self) -> str:
        return f"UpSampling2D(size={self.size})"


__all__ = ["MaxPool2D", "UpSampling2D"]
