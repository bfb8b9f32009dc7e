r"""Max pooling and nearest-neighbour up-sampling of NCHW images.

Derivations: ``docs/10-convolutions.md`` (section "Pooling and up-sampling").
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .base import Layer, check_real, check_upstream
from .conv import Pair, _pair, conv_output_size


def _check_nchw(layer: Layer, x: np.ndarray) -> None:
    if not isinstance(x, np.ndarray) or x.ndim != 4:
        shape = getattr(x, "shape", type(x).__name__)
        raise ValueError(f"{layer!r}: x must be an NCHW array of shape (N, C, H, W), got {shape}")
    check_real(layer, x)


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
        _check_nchw(self, x)
        n, c, h, w = x.shape
        (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
        if h + 2 * ph < kh or w + 2 * pw < kw:
            raise ValueError(f"{self!r}: input spatial size ({h}, {w}) with padding ({ph}, {pw}) is smaller "
                             f"than the kernel ({kh}, {kw}); got x of shape {x.shape}")
        ho, wo = conv_output_size(h, kh, sh, ph), conv_output_size(w, kw, sw, pw)
        if ph or pw:
            xp = np.full((n, c, h + 2 * ph, w + 2 * pw), -np.inf, dtype=x.dtype)
            xp[:, :, ph: ph + h, pw: pw + w] = x
        else:
            xp = x
        windows = sliding_window_view(xp, (kh, kw), axis=(2, 3))  # (N, C, H_p-kH+1, W_p-kW+1, kH, kW)
        windows = windows[:, :, : sh * (ho - 1) + 1: sh, : sw * (wo - 1) + 1: sw]
        # (N, C, H_out, W_out, kH, kW), still a view
        windows = windows.reshape(n, c, ho, wo, kh * kw)  # (N, C, H_out, W_out, kH*kW), a copy
        arg = windows.argmax(axis=-1)  # (N, C, H_out, W_out): flat index i*kW + j of the winner
        y = np.take_along_axis(windows, arg[..., None], axis=-1)[..., 0]  # (N, C, H_out, W_out)
        self._cache = (x.shape, xp.shape, arg)
        return y

    def backward(self, dy: np.ndarray) -> np.ndarray:
        if self._cache is None:
            raise RuntimeError(f"{self!r}: backward called before forward")
        (n, c, h, w), xp_shape, arg = self._cache
        (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
        ho, wo = arg.shape[2:]
        check_upstream(self, dy, (n, c, ho, wo))
        dxp = np.zeros(xp_shape, dtype=dy.dtype)
        # one masked, strided add per kernel offset (kH*kW of them), each over the whole batch
        for i in range(kh):
            for j in range(kw):
                won = arg == i * kw + j  # (N, C, H_out, W_out)
                dxp[:, :, i: i + sh * (ho - 1) + 1: sh, j: j + sw * (wo - 1) + 1: sw] += np.where(won, dy, 0)
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
        _check_nchw(self, x)
        n, c, h, w = x.shape
        sh, sw = self.size
        self._shape = x.shape
        y = np.broadcast_to(x[:, :, :, None, :, None], (n, c, h, sh, w, sw))  # (N, C, H, sH, W, sW), a view
        return y.reshape(n, c, h * sh, w * sw)  # (N, C, H*sH, W*sW), a copy

    def backward(self, dy: np.ndarray) -> np.ndarray:
        if self._shape is None:
            raise RuntimeError(f"{self!r}: backward called before forward")
        n, c, h, w = self._shape
        sh, sw = self.size
        check_upstream(self, dy, (n, c, h * sh, w * sw))
        return dy.reshape(n, c, h, sh, w, sw).sum(axis=(3, 5))  # (N, C, H, W)

    def __repr__(self) -> str:
        return f"UpSampling2D(size={self.size})"


__all__ = ["MaxPool2D", "UpSampling2D"]
