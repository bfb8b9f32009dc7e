r"""Max pooling and nearest-neighbour up-sampling of NCHW images.

Derivations: ``docs/10-convolutions.md`` (section "Pooling and up-sampling").
"""

from __future__ import annotations

import numpy as np

from .base import Layer
from .conv import Pair, _check_input, _pair, _window_output_size


class MaxPool2D(Layer):
    r"""Maximum over each ``kernel_size`` window, windows ``stride`` apart.

    Forward, with ``xp`` the input padded by ``padding`` with ``-inf``:

    .. math:: y[n, c, h, w] = \max_{i, j}\; xp[n, c, s_H h + i, s_W w + j]

    Backward: the maximum is locally the identity on its arg-max and constant in the other
    entries, so each ``dy`` goes to the one input that won its window (the first one on ties,
    as in PyTorch); inputs in several windows (stride < kernel) add up what they won:

    .. math:: dx[n, c, s_H h + i^*, s_W w + j^*] \mathrel{+}= dy[n, c, h, w]

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

    def forward(self, x: np.ndarray) -> np.ndarray:
        _check_input(self, x)
        n, c, h, w = x.shape
        ph, pw = self.padding
        ho, wo = _window_output_size(self, x.shape)
        if ph or pw:
            xp = np.full((n, c, h + 2 * ph, w + 2 * pw), -np.inf, dtype=x.dtype)
            xp[:, :, ph: ph + h, pw: pw + w] = x
        else:
            xp = x
        # the max over the window, as kH*kW element-wise maxima of strided views of the whole batch
        # (a reduction over a short last axis of a (..., kH*kW) copy is several times slower)
        y = self._offset_view(xp, 0, 0, ho, wo).copy(order="K")  # (N, C, H_out, W_out)
        for i, j in self._offsets()[1:]:
            np.maximum(y, self._offset_view(xp, i, j, ho, wo), out=y)
        self._cache = (x.shape, xp, y)
        return y

    def _offsets(self) -> list[tuple[int, int]]:
        """Kernel offsets (i, j) in row-major order (the order that breaks ties)."""
        return [(i, j) for i in range(self.kernel_size[0]) for j in range(self.kernel_size[1])]

    def _offset_view(self, xp: np.ndarray, i: int, j: int, ho: int, wo: int) -> np.ndarray:
        """``xp[n, c, s_H h + i, s_W w + j]`` for every output (h, w): a strided view (N, C, H_out, W_out)."""
        (sh, sw) = self.stride
        return xp[:, :, i: i + sh * (ho - 1) + 1: sh, j: j + sw * (wo - 1) + 1: sw]

    def backward(self, dy: np.ndarray) -> np.ndarray:
        if self._cache is None:
            raise RuntimeError(f"{self!r}: backward called before forward")
        (n, c, h, w), xp, y = self._cache
        ph, pw = self.padding
        ho, wo = y.shape[2:]
        dxp = np.zeros_like(xp, dtype=dy.dtype)  # (N, C, H_p, W_p), the memory layout of x
        claimed = np.zeros(y.shape, dtype=bool)  # windows whose winner has been found
        finite = np.isfinite(dy).all()  # dy * won is exact (and ~10x faster than np.where) unless dy has Inf
        # one masked, strided add per kernel offset (kH*kW of them), each over the whole batch:
        # the first offset (row-major) holding the maximum wins, as np.argmax and PyTorch do
        for i, j in self._offsets():
            won = self._offset_view(xp, i, j, ho, wo) == y  # (N, C, H_out, W_out)
            won &= ~claimed
            claimed |= won
            self._offset_view(dxp, i, j, ho, wo)[...] += dy * won if finite else np.where(won, dy, 0)
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
        self._shape: tuple[int, ...] | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        _check_input(self, x)
        n, c, h, w = x.shape
        sh, sw = self.size
        self._shape = x.shape
        if x.strides[1] > x.strides[0]:  # x is a channel-major view (from a convolution): keep that order
            y = np.empty((c, n, h * sh, w * sw), dtype=x.dtype).transpose(1, 0, 2, 3)  # (N, C, H*sH, W*sW)
        else:
            y = np.empty((n, c, h * sh, w * sw), dtype=x.dtype)
        for i in range(sh):  # sH*sW strided copies of the whole batch (faster than a broadcast reshape)
            for j in range(sw):
                y[:, :, i::sh, j::sw] = x
        return y

    def backward(self, dy: np.ndarray) -> np.ndarray:
        if self._shape is None:
            raise RuntimeError(f"{self!r}: backward called before forward")
        n, c, h, w = self._shape
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
