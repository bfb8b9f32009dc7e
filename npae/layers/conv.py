r"""2-D convolution and transposed convolution, forward and backward by im2col and one GEMM.

Derivation, output sizes and a picture of im2col: ``docs/10-convolutions.md``.

Both layers take and return NCHW arrays (PyTorch's layout). Internally the work is done in a
*channel-major, batch-last* layout (C, H, W, N): there, im2col is one strided copy whose
innermost run is the whole batch (N contiguous numbers, not a row of a few pixels), the matrix
product ``W (out, C*kH*kW) @ cols (C*kH*kW, H_out*W_out*N)`` is a single GEMM over the whole
batch, and its result (out, H_out*W_out*N) is already the output in (out, H_out, W_out, N)
order. The layers return it as an NCHW *view* (a transpose, no copy); the next layer's
element-wise functions and its own transpose back to (C, H, W, N) then cost nothing extra.

The two layers are adjoint to each other: the input gradient of a convolution is a transposed
convolution of ``dy`` with the same weights, and the input gradient of a transposed convolution
is a convolution. Both share the two helpers below, :func:`im2col` (gather every kernel window
into a column) and :func:`col2im` (its adjoint: scatter-add the columns back).

The math of each pass is a plain function of arrays (:func:`conv2d_forward`,
:func:`conv2d_backward`, :func:`conv2d_transpose_forward`, :func:`conv2d_transpose_backward`)
that the layers call.

One fast kernel sits beside this route: stride-1 ``Conv2D`` layers with fewer output than input
channels run ``conv_shifted.py`` (the same numbers without im2col's copy) while
:data:`FAST_STRIDE1` is True; ``Conv2D.forward`` makes that choice, in one ``if``.
"""

from __future__ import annotations

import numbers

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .._validation import check_dtype, check_int, check_random_state
from ..init import Initializer, get_initializer
from . import conv_shifted
from .base import Layer

#: True: stride-1 Conv2D layers with O < C run the fast kernel of ``conv_shifted.py``
#: (``conv_shifted.runs_for``); False: every layer runs the im2col route below.
FAST_STRIDE1 = True

Pair = int | tuple[int, int]


def _pair(value: Pair, name: str, minimum: int) -> tuple[int, int]:
    """``value`` as a pair of ints ``>= minimum`` (an int ``k`` means ``(k, k)``)."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (value, value)
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise TypeError(f"{name} must be an int or a pair of ints, got {value!r}")
    return (check_int(value[0], f"{name}[0]", minimum), check_int(value[1], f"{name}[1]", minimum))


def conv_output_size(size: int, kernel: int, stride: int, padding: int) -> int:
    """Output length of a convolution along one axis: ``(size + 2*padding - kernel) // stride + 1``."""
    return (size + 2 * padding - kernel) // stride + 1


def window_counts(h: int, w: int, kernel: tuple[int, int], stride: tuple[int, int],
                  padding: tuple[int, int]) -> tuple[int, int]:
    """(H_out, W_out): how many windows (kernel, stride, padding) fit along each axis of an H x W input."""
    return tuple(conv_output_size(*a) for a in zip((h, w), kernel, stride, padding, strict=True))


def conv_transpose_output_size(size: int, kernel: int, stride: int, padding: int,
                               output_padding: int = 0) -> int:
    """Output length of a transposed convolution.

    ``(size - 1)*stride - 2*padding + kernel + output_padding``
    """
    return (size - 1) * stride - 2 * padding + kernel + output_padding


def im2col(xp: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int],
           out_size: tuple[int, int]) -> np.ndarray:
    r"""Gather every kernel window of a channel-major array into the columns of a matrix.

    .. math:: \mathrm{cols}[(c, i, j), (h, w, n)] = xp[c, i + s_H h, j + s_W w, n]

    Parameters
    ----------
    xp : ndarray, shape (C, H_p, W_p, N)
        The (already padded) input, channel-major and batch-last.
    kernel, stride : (kH, kW), (sH, sW)
    out_size : (H_out, W_out)
        Number of window positions along each axis.

    Returns
    -------
    cols : ndarray, shape (C*kH*kW, H_out*W_out*N)
        A fresh contiguous array (one strided copy; no Python loop).
    """
    (kh, kw), (sh, sw), (ho, wo) = kernel, stride, out_size
    c, n = xp.shape[0], xp.shape[3]
    windows = sliding_window_view(xp, (kh, kw), axis=(1, 2))  # (C, H_p-kH+1, W_p-kW+1, N, kH, kW), a view
    windows = windows[:, : sh * (ho - 1) + 1: sh, : sw * (wo - 1) + 1: sw]  # (C, H_out, W_out, N, kH, kW)
    windows = windows.transpose(0, 4, 5, 1, 2, 3)  # (C, kH, kW, H_out, W_out, N), still a view
    return windows.reshape(c * kh * kw, ho * wo * n)  # (C*kH*kW, H_out*W_out*N), the one copy


def col2im(cols: np.ndarray, shape: tuple[int, int, int, int], kernel: tuple[int, int],
           stride: tuple[int, int], out_size: tuple[int, int]) -> np.ndarray:
    r"""The adjoint of :func:`im2col`: scatter-add every column back to its window.

    .. math:: xp[c, i + s_H h, j + s_W w, n] \mathrel{+}= \mathrm{cols}[(c, i, j), (h, w, n)]

    Windows overlap when the stride is smaller than the kernel, so the additions cannot be one
    assignment; they are done as one slicing add per kernel offset ``(i, j)`` (kH*kW adds, each
    over the whole batch and every channel).

    Parameters
    ----------
    cols : ndarray, shape (C*kH*kW, H_out*W_out*N)
    shape : (C, H_p, W_p, N)
        Shape of the channel-major, batch-last result.

    Returns
    -------
    xp : ndarray, shape (C, H_p, W_p, N)
    """
    (kh, kw), (sh, sw), (ho, wo) = kernel, stride, out_size
    c, n = shape[0], shape[3]
    xp = np.zeros(shape, dtype=cols.dtype)
    cols6 = cols.reshape(c, kh, kw, ho, wo, n)  # (C, kH, kW, H_out, W_out, N), a view
    for i in range(kh):
        for j in range(kw):
            xp[:, i: i + sh * (ho - 1) + 1: sh, j: j + sw * (wo - 1) + 1: sw] += cols6[:, i, j]
    return xp


def conv2d_cols(x: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int],
                padding: tuple[int, int], dtype=None) -> np.ndarray:
    r"""Pad ``x`` with zeros and gather its windows: the ``cols`` of :func:`conv2d_forward`.

    .. math:: \mathrm{cols}[(c, i, j), (h, w, n)] = xp[n, c, s_H h + i, s_W w + j]

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    kernel, stride, padding : (kH, kW), (sH, sW), (pH, pW)
    dtype : dtype, optional
        Of the padded copy (default ``x.dtype``).

    Returns
    -------
    cols : ndarray, shape (C*kH*kW, H_out*W_out*N)
    """
    n, c, h, w = x.shape
    ph, pw = padding
    dtype = x.dtype if dtype is None else dtype
    xp = np.zeros((c, h + 2 * ph, w + 2 * pw, n), dtype=dtype)  # (C, H_p, W_p, N)
    xp[:, ph: ph + h, pw: pw + w] = x.transpose(1, 2, 3, 0)  # (C, H, W, N)
    return im2col(xp, kernel, stride, window_counts(h, w, kernel, stride, padding))  # (C*kH*kW, Ho*Wo*N)


def conv2d_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray, stride: tuple[int, int],
                   padding: tuple[int, int], cols: np.ndarray | None = None) -> np.ndarray:
    r"""The convolution ``y = conv(x, W) + b`` by im2col and one GEMM (``docs/10-convolutions.md``).

    .. math::
        y[n, o, h, w] = b[o] + \sum_{c, i, j} W[o, c, i, j]\; xp[n, c, s_H h + i, s_W w + j],
        \qquad Y = W_2\, \mathrm{cols} + b\, \mathbf{1}^T

    with ``W_2 = W.reshape(O, C*kH*kW)`` and ``cols`` = :func:`conv2d_cols` of ``x``.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    W : ndarray, shape (O, C, kH, kW)
    b : ndarray, shape (O,)
    stride, padding : (sH, sW), (pH, pW)
    cols : ndarray, shape (C*kH*kW, H_out*W_out*N), optional
        ``conv2d_cols(x, ...)`` if the caller has it already (:class:`Conv2D` keeps it for the backward pass).

    Returns
    -------
    y : ndarray, shape (N, O, H_out, W_out)
        An NCHW view of (C, H, W, N) memory (see the module docstring).
    """
    n, _, h, w = x.shape
    o, kernel = W.shape[0], W.shape[2:]
    ho, wo = window_counts(h, w, kernel, stride, padding)
    if cols is None:
        cols = conv2d_cols(x, kernel, stride, padding, np.result_type(x, W))  # (C*kH*kW, H_out*W_out*N)
    y = W.reshape(o, -1) @ cols  # (O, C*kH*kW) @ (C*kH*kW, H_out*W_out*N) -> (O, H_out*W_out*N)
    y += b[:, None]
    return y.reshape(o, ho, wo, n).transpose(3, 0, 1, 2)  # (N, O, H_out, W_out), a view


def conv2d_backward(dy: np.ndarray, x: np.ndarray, W: np.ndarray, stride: tuple[int, int],
                    padding: tuple[int, int], cols: np.ndarray | None = None, input_grad: bool = True
                    ) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    r"""``(dx, dW, db)`` of :func:`conv2d_forward`, given ``dy = dL/dy`` (``docs/10-convolutions.md``).

    With ``dY`` = ``dy`` as the matrix (O, H_out*W_out*N) (the Dense layer's rule, ``cols`` in the
    role of the input):

    .. math::
        dW_2 = dY\, \mathrm{cols}^T, \qquad db[o] = \sum_{n, h, w} dy[n, o, h, w], \qquad
        dx = \mathrm{crop}_p\big(\mathrm{col2im}(W_2^T\, dY)\big)

    ``col2im`` adds up the windows that overlap (stride < kernel), and the crop removes the padding.

    Parameters
    ----------
    dy : ndarray, shape (N, O, H_out, W_out)
    x : ndarray, shape (N, C, H, W)
        The input of the forward pass.
    W : ndarray, shape (O, C, kH, kW)
    stride, padding : (sH, sW), (pH, pW)
    cols : ndarray, shape (C*kH*kW, H_out*W_out*N), optional
        The forward pass's ``conv2d_cols(x, ...)`` (computed from ``x`` if None).
    input_grad : bool
        False skips ``dx`` (returned as None): a GEMM and a col2im.

    Returns
    -------
    dx : ndarray, shape (N, C, H, W), or None
    dW : ndarray, shape (O, C, kH, kW)
    db : ndarray, shape (O,)
    """
    n, c, h, w = x.shape
    o, ho, wo = dy.shape[1:]
    (ph, pw), kernel = padding, W.shape[2:]
    if cols is None:
        cols = conv2d_cols(x, kernel, stride, padding, np.result_type(x, W))  # (C*kH*kW, H_out*W_out*N)
    dY = dy.transpose(1, 2, 3, 0).reshape(o, ho * wo * n)  # (O, H_out*W_out*N), free if (O, H, W, N) memory
    dW = (dY @ cols.T).reshape(W.shape)  # (O, C*kH*kW) -> (O, C, kH, kW)
    db = dY.sum(axis=1)  # (O,)
    if not input_grad:
        return None, dW, db
    dcols = W.reshape(o, -1).T @ dY  # (C*kH*kW, H_out*W_out*N)
    dxp = col2im(dcols, (c, h + 2 * ph, w + 2 * pw, n), kernel, stride, (ho, wo))  # (C, H_p, W_p, N)
    dx = dxp[:, ph: ph + h, pw: pw + w]  # (C, H_p, W_p, N) -> (C, H, W, N), a view
    return dx.transpose(3, 0, 1, 2), dW, db  # dx (N, C, H, W), a view


def _transpose_canvas(h: int, w: int, out_size: tuple[int, int], kernel: tuple[int, int],
                      stride: tuple[int, int], padding: tuple[int, int]) -> tuple[int, int]:
    """Size of a transposed convolution's full (uncropped) output canvas: it must hold every
    kernel copy, ``(H - 1)*s + k``, and the crop, ``p + H_out``."""
    (kh, kw), (sh, sw), (ph, pw), (ho, wo) = kernel, stride, padding, out_size
    return max((h - 1) * sh + kh, ph + ho), max((w - 1) * sw + kw, pw + wo)


def conv2d_transpose_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray, stride: tuple[int, int],
                             padding: tuple[int, int], output_padding: tuple[int, int]) -> np.ndarray:
    r"""The transposed convolution (``docs/10-convolutions.md``): every input pixel scatters a scaled
    copy of the kernel, ``stride`` apart; overlaps add; ``padding`` is cropped, the bias added.

    .. math::
        y_{full}[n, o, s_H h + i, s_W w + j] \mathrel{+}= \sum_c x[n, c, h, w]\, W[c, o, i, j],
        \qquad y = \mathrm{crop}_p(y_{full}) + b[o]

    as matrices: ``cols = W_2^T X`` (``W_2 = W.reshape(C, O*kH*kW)``, ``X`` = ``x`` as (C, H*W*N)),
    then ``col2im``.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    W : ndarray, shape (C, O, kH, kW)
        (in, out, kH, kW): the weight of the convolution it transposes (O -> C channels).
    b : ndarray, shape (O,)
    stride, padding, output_padding : (sH, sW), (pH, pW), (opH, opW)

    Returns
    -------
    y : ndarray, shape (N, O, H_out, W_out), ``H_out = (H - 1)*sH - 2*pH + kH + opH``
        An NCHW view of (C, H, W, N) memory.
    """
    n, c, h, w = x.shape
    _, o, kh, kw = W.shape
    (ph, pw), (oph, opw) = padding, output_padding
    ho = conv_transpose_output_size(h, kh, stride[0], ph, oph)
    wo = conv_transpose_output_size(w, kw, stride[1], pw, opw)
    X = x.transpose(1, 2, 3, 0).reshape(c, h * w * n)  # (C, H*W*N); free if x is (C, H, W, N) memory
    # 1. one GEMM: every input pixel times the whole kernel
    cols = W.reshape(c, -1).T @ X  # (O*kH*kW, H*W*N)
    # 2. scatter-add the kernel copies onto the canvas, 3. crop the padding, add the bias
    canvas = col2im(cols, (o, *_transpose_canvas(h, w, (ho, wo), (kh, kw), stride, padding), n), (kh, kw),
                    stride, (h, w))  # (O, H_full, W_full, N)
    y = canvas[:, ph: ph + ho, pw: pw + wo]  # (O, H_out, W_out, N), a view
    y += b[:, None, None, None]
    return y.transpose(3, 0, 1, 2)  # (N, O, H_out, W_out), a view


def conv2d_transpose_backward(dy: np.ndarray, x: np.ndarray, W: np.ndarray, stride: tuple[int, int],
                              padding: tuple[int, int], input_grad: bool = True
                              ) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    r"""``(dx, dW, db)`` of :func:`conv2d_transpose_forward` from ``dy`` (``docs/10-convolutions.md``).

    Back through the crop: pad ``dy`` with zeros to the full canvas; back through ``col2im``: its
    adjoint ``im2col``; then the rule of a matrix product for ``cols = W_2^T X``:

    .. math::
        d\mathrm{cols} = \mathrm{im2col}(\mathrm{pad}_p(dy)), \qquad
        dX = W_2\, d\mathrm{cols}, \qquad dW_2 = X\, d\mathrm{cols}^T, \qquad
        db[o] = \sum_{n, h, w} dy[n, o, h, w]

    ``dX`` is a convolution of ``dy`` with the same weights. ``output_padding`` is read off ``dy``'s
    shape: the rows and columns it adds are part of ``y`` like any other.

    Parameters
    ----------
    dy : ndarray, shape (N, O, H_out, W_out)
    x : ndarray, shape (N, C, H, W)
        The input of the forward pass (no copy is made if it is a view of (C, H, W, N) memory, as
        :class:`Conv2DTranspose` keeps it).
    W : ndarray, shape (C, O, kH, kW)
    stride, padding : (sH, sW), (pH, pW)
    input_grad : bool
        False skips ``dx`` (returned as None).

    Returns
    -------
    dx : ndarray, shape (N, C, H, W), or None
    dW : ndarray, shape (C, O, kH, kW)
    db : ndarray, shape (O,)
    """
    n, c, h, w = x.shape
    o, ho, wo = dy.shape[1:]
    (ph, pw), kernel = padding, W.shape[2:]
    X = x.transpose(1, 2, 3, 0).reshape(c, h * w * n)  # (C, H*W*N); free if x is (C, H, W, N) memory
    canvas = np.zeros((o, *_transpose_canvas(h, w, (ho, wo), kernel, stride, padding), n),
                      dtype=np.result_type(dy, W))  # (O, H_full, W_full, N)
    canvas[:, ph: ph + ho, pw: pw + wo] = dy.transpose(1, 2, 3, 0)  # (O, H_out, W_out, N)
    dcols = im2col(canvas, kernel, stride, (h, w))  # (O*kH*kW, H*W*N)
    dW = (X @ dcols.T).reshape(W.shape)  # (C, O*kH*kW) -> (C, O, kH, kW)
    db = dy.sum(axis=(0, 2, 3))  # (O,)
    if not input_grad:
        return None, dW, db
    dX = W.reshape(c, -1) @ dcols  # (C, H*W*N)
    return dX.reshape(c, h, w, n).transpose(3, 0, 1, 2), dW, db  # dx (N, C, H, W), a view


def _window_output_size(layer: Layer, input_shape: tuple[int, ...]) -> tuple[int, int]:
    """:func:`window_counts` of ``layer`` for an NCHW ``input_shape``, or a clear error when the padded input
    is smaller than one window (for ``output_shape``: a model's door, not the forward pass)."""
    h, w = input_shape[2:]
    (kh, kw), (ph, pw) = layer.kernel_size, layer.padding
    if h + 2 * ph < kh or w + 2 * pw < kw:
        raise ValueError(f"{layer!r}: input spatial size ({h}, {w}) with padding ({ph}, {pw}) is smaller "
                         f"than the kernel ({kh}, {kw}); got x of shape {tuple(input_shape)}")
    return window_counts(h, w, layer.kernel_size, layer.stride, layer.padding)


class _ConvBase(Layer):
    """Arguments, parameters and initialisation shared by the two convolutions.

    They differ only in the weight layout (PyTorch's): ``(out, in, kH, kW)`` for a
    convolution, ``(in, out, kH, kW)`` for a transposed one (``transposed = True``); both draw
    it with ``fan_in = C*kH*kW`` and ``fan_out = O*kH*kW``.
    """

    transposed = False

    skips_input_grad = True  # backward(dy, input_grad=False) skips dx: for Conv2D a GEMM and the col2im

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Pair, stride: Pair,
                 padding: Pair, init: str | Initializer, rng: np.random.Generator | None, dtype) -> None:
        super().__init__()
        c = self.in_channels = check_int(in_channels, "in_channels", 1)
        o = self.out_channels = check_int(out_channels, "out_channels", 1)
        kh, kw = self.kernel_size = _pair(kernel_size, "kernel_size", 1)
        self.stride = _pair(stride, "stride", 1)
        self.padding = _pair(padding, "padding", 0)
        self.init = init  # the initialiser of W (get_config)
        self.dtype = check_dtype(dtype)
        rng = check_random_state(rng, "rng")
        shape = (c, o, kh, kw) if self.transposed else (o, c, kh, kw)
        W = get_initializer(init)(shape, c * kh * kw, o * kh * kw, rng, self.dtype)
        self.params = {"W": np.ascontiguousarray(W, dtype=self.dtype),
                       "b": np.zeros(o, dtype=self.dtype)}
        self.zero_grads()
        self._cache: tuple | None = None

    def _describe(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}")


class Conv2D(_ConvBase):
    r"""2-D convolution (cross-correlation, as in every deep-learning library) of NCHW images.

    Forward, for ``x`` of shape (N, C, H, W) zero-padded by ``padding`` into ``xp``:

    .. math::
        y[n, o, h, w] = b[o] + \sum_{c, i, j} W[o, c, i, j]\; xp[n, c, s_H h + i, s_W w + j]

    computed as ``y = W.reshape(O, C*kH*kW) @ cols + b`` with ``cols = im2col(xp)``
    (:func:`conv2d_forward`; the backward below is :func:`conv2d_backward`).

    Backward, given ``dy = dL/dy`` of shape (N, O, H_out, W_out), written ``dY`` as the matrix
    (O, H_out*W_out*N):

    .. math::
        dW = dY\, \mathrm{cols}^T, \qquad db[o] = \sum_{n, h, w} dy[n, o, h, w], \qquad
        dx = \mathrm{crop}\big(\mathrm{col2im}(W^T dY)\big)

    ``dx`` is the transposed convolution of ``dy`` with the same ``W``
    (see ``docs/10-convolutions.md``).

    With stride 1 and ``O < C`` (and ``padding < kernel_size``), while :data:`FAST_STRIDE1` is
    True, the same numbers come from the fast kernel in ``conv_shifted.py`` instead (no im2col
    copy); ``tests/test_conv.py`` asserts that both routes agree.

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size, stride : int or (int, int)
    padding : int or (int, int)
        Zeros added on each side of both spatial axes.
    init : str or callable
        ``"glorot_uniform"`` (default) or ``"he_normal"``, with ``fan_in = C*kH*kW`` and
        ``fan_out = O*kH*kW``. The bias starts at zero.
    rng : np.random.Generator, optional
    dtype : float32 (default) or float64

    Attributes
    ----------
    params : {"W": (out_channels, in_channels, kH, kW), "b": (out_channels,)}

    Output size along each axis: ``(H + 2*padding - kH) // stride + 1``.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Pair, stride: Pair = 1,
                 padding: Pair = 0, init: str | Initializer = "glorot_uniform",
                 rng: np.random.Generator | None = None, dtype=np.float32) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, init, rng, dtype)

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        """(N, O, H_out, W_out) for an input of shape (N, C, H, W), or a clear error."""
        return (input_shape[0], self.out_channels, *_window_output_size(self, input_shape))

    def forward(self, x: np.ndarray) -> np.ndarray:
        W, b = self.params["W"], self.params["b"]
        self._fast = FAST_STRIDE1 and conv_shifted.runs_for(W.shape, self.stride, self.padding)
        if self._fast:  # the fast kernel: the same y without im2col (stride 1, O < C)
            y, self._cache = conv_shifted.forward(x, W, b, self.padding)
            return y
        cols = conv2d_cols(x, self.kernel_size, self.stride, self.padding, np.result_type(x, W))  # kept
        self._cache = (x, cols)
        return conv2d_forward(x, W, b, self.stride, self.padding, cols)  # (N, O, H_out, W_out)

    @np.errstate(invalid="ignore")  # NaN/Inf in dy propagate by IEEE arithmetic (Inf*0 = NaN), no warning
    def backward(self, dy: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        W = self.params["W"]
        if self._fast:  # the forward pass took the fast kernel
            dx, dW, db = conv_shifted.backward(dy, W, self.padding, self._cache, input_grad)
        else:
            x, cols = self._cache
            dx, dW, db = conv2d_backward(dy, x, W, self.stride, self.padding, cols, input_grad)
        self.grads = {"W": dW, "b": db}
        return dx

    def __repr__(self) -> str:
        return f"Conv2D({self._describe()})"


class Conv2DTranspose(_ConvBase):
    r"""2-D transposed convolution ("deconvolution"): the adjoint of :class:`Conv2D`.

    Every input pixel scatters a copy of the kernel, scaled by its value, into the output, the
    copies ``stride`` apart; overlaps add up; ``padding`` is then cropped from each side and
    ``output_padding`` extra rows/columns are kept at the bottom/right:

    .. math::
        y_{full}[n, o, s_H h + i, s_W w + j] \mathrel{+}= \sum_c x[n, c, h, w]\, W[c, o, i, j],
        \qquad y = \mathrm{crop}_{padding}(y_{full}) + b[o]

    computed as ``cols = W.reshape(C, O*kH*kW).T @ X`` (X the input as a (C, H*W*N) matrix)
    followed by ``col2im`` (:func:`conv2d_transpose_forward`; the backward below is
    :func:`conv2d_transpose_backward`).

    Backward, given ``dy`` of shape (N, O, H_out, W_out): pad ``dy`` back to the full canvas
    and gather its windows, ``dcols = im2col(pad(dy))`` of shape (O*kH*kW, H*W*N); then

    .. math::
        dx = W\, \mathrm{dcols} \;\text{(a convolution of } dy\text{)}, \qquad
        dW = X\, \mathrm{dcols}^T, \qquad db[o] = \sum_{n, h, w} dy[n, o, h, w]

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size, stride : int or (int, int)
    padding : int or (int, int)
        Rows/columns cropped from each side of the full output.
    output_padding : int or (int, int)
        Extra rows/columns at the bottom/right, smaller than ``stride`` (it picks one of the
        ``stride`` input sizes a strided convolution maps to the same output size).
    init : str or callable
        With ``fan_in = C*kH*kW`` and ``fan_out = O*kH*kW``; the bias starts at zero.
    rng : np.random.Generator, optional
    dtype : float32 (default) or float64

    Attributes
    ----------
    params : {"W": (in_channels, out_channels, kH, kW), "b": (out_channels,)}

    Output size along each axis: ``(H - 1)*stride - 2*padding + kH + output_padding``.
    """

    transposed = True

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Pair, stride: Pair = 1,
                 padding: Pair = 0, output_padding: Pair = 0, init: str | Initializer = "glorot_uniform",
                 rng: np.random.Generator | None = None, dtype=np.float32) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, init, rng, dtype)
        self.output_padding = _pair(output_padding, "output_padding", 0)
        for axis in range(2):
            if self.output_padding[axis] >= self.stride[axis]:
                raise ValueError(f"output_padding must be smaller than stride along each axis, got "
                                 f"output_padding={self.output_padding}, stride={self.stride}")

    def _output_size(self, h: int, w: int) -> tuple[int, int]:
        """(H_out, W_out) by :func:`conv_transpose_output_size` along each axis."""
        (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
        oph, opw = self.output_padding
        return conv_transpose_output_size(h, kh, sh, ph, oph), conv_transpose_output_size(w, kw, sw, pw, opw)

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        """(N, O, H_out, W_out) for an input of shape (N, C, H, W), or a clear error."""
        n, _, h, w = input_shape
        ho, wo = self._output_size(h, w)
        if ho < 1 or wo < 1:
            raise ValueError(f"{self!r}: input spatial size ({h}, {w}) gives an empty output ({ho}, {wo}): "
                             f"padding {self.padding} crops more than the kernel adds; "
                             f"got x of shape {tuple(input_shape)}")
        return (n, self.out_channels, ho, wo)

    def forward(self, x: np.ndarray) -> np.ndarray:
        # x as a view of (C, H, W, N) memory (a copy only if it is not one already): its (C, H*W*N)
        # matrix is then free in the forward pass and again in the backward pass
        x = np.ascontiguousarray(x.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)  # (N, C, H, W)
        self._cache = x
        return conv2d_transpose_forward(x, self.params["W"], self.params["b"], self.stride, self.padding,
                                        self.output_padding)  # (N, O, H_out, W_out)

    @np.errstate(invalid="ignore")  # NaN/Inf in dy propagate by IEEE arithmetic (Inf*0 = NaN), no warning
    def backward(self, dy: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        dx, dW, db = conv2d_transpose_backward(dy, self._cache, self.params["W"], self.stride, self.padding,
                                               input_grad)
        self.grads = {"W": dW, "b": db}
        return dx

    def __repr__(self) -> str:
        return f"Conv2DTranspose({self._describe()}, output_padding={self.output_padding})"


__all__ = ["FAST_STRIDE1", "Conv2D", "Conv2DTranspose", "col2im", "conv2d_backward", "conv2d_cols",
           "conv2d_forward", "conv2d_transpose_backward", "conv2d_transpose_forward", "conv_output_size",
           "conv_transpose_output_size", "im2col", "window_counts"]
