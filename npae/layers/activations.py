r"""Element-wise activations. Derivations: ``docs/01-dense-and-activations.md``.

Each class keeps the function and its derivative next to each other: ``function(x)`` is the
forward map and ``derivative(x, y)`` is ``f'(x)`` (given the input ``x`` and the output
``y = f(x)``, whichever is cheaper), so ``backward(dy) = dy * f'(x)``. ``second_derivative``
gives ``f''(x)``, used by the contractive penalty. All forms are stable: no overflow
warning at |x| = 1000 in float32.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_float
from .base import Layer


def _as_float(x: np.ndarray) -> np.ndarray:
    """``x`` itself if it is a float array, else a float64 copy (integer input is allowed)."""
    x = np.asarray(x)
    return x if x.dtype.kind == "f" else x.astype(np.float64)


def exp_neg_abs(x: np.ndarray) -> np.ndarray:
    """``exp(-|x|)``, in (0, 1]: the exponent is never positive, so never an overflow.

    The shared first step of :func:`sigmoid`, ``Softplus`` and ``losses.bce_with_logits``;
    ``x`` must be a float array. Returns a new array, even for 0-d ``x``.
    """
    e = np.empty_like(x)  # an array even for 0-d x (np.abs would give a scalar, which out= refuses)
    np.abs(x, out=e)
    np.negative(e, out=e)
    np.exp(e, out=e)
    return e


def sigmoid(x: np.ndarray, e: np.ndarray | None = None) -> np.ndarray:
    r"""The logistic function ``1 / (1 + exp(-x))``, stable and fast, in ``x``'s dtype.

    With ``e = exp(-|x|)`` (:func:`exp_neg_abs`):

    .. math:: \sigma(x) = \frac{1}{1 + e} \ (x \ge 0), \qquad \sigma(x) = \frac{e}{1 + e} \ (x < 0)

    The numerator is picked without a branch as ``max(e, 1[x >= 0])``; both cases keep full
    relative precision (``sigmoid(-30)`` is 9.4e-14, not 0). Within 4 machine epsilons (relative)
    of ``scipy.special.expit`` in float64, and faster than ``expit`` in float32 (NumPy's SIMD
    ``exp``; ``docs/01-dense-and-activations.md`` quotes the measurement).
    A caller that already has ``e = exp_neg_abs(x)`` passes it (it is overwritten) to save the
    ``exp``.
    """
    x = _as_float(x)
    if e is None:
        e = exp_neg_abs(x)
    y = np.maximum(e, x >= 0)  # 1 where x >= 0, e where x < 0
    e += 1
    y /= e
    return y


class Activation(Layer):
    r"""Base class of the element-wise activations.

    Forward ``y = f(x)``; backward ``dx = dy * f'(x)`` (the Jacobian is diagonal). ``x``,
    ``y``, ``dy`` and ``dx`` all have the same shape (any shape, usually (N, D)). ``forward``
    caches ``x`` and ``y`` so that ``derivative(x, y)`` can use whichever is cheaper.
    Derivations: ``docs/01-dense-and-activations.md``.
    """

    name = "activation"

    def __init__(self) -> None:
        super().__init__()
        self._x: np.ndarray | None = None
        self._y: np.ndarray | None = None

    @staticmethod
    def function(x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    @staticmethod
    def derivative(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    @staticmethod
    def second_derivative(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def forward(self, x: np.ndarray) -> np.ndarray:
        self._x = x
        self._y = self.function(x)
        return self._y

    @np.errstate(invalid="ignore")  # a NaN/Inf in dy propagates, silently (docs/01)
    def backward(self, dy: np.ndarray) -> np.ndarray:
        return dy * self.derivative(self._x, self._y)


class Identity(Activation):
    r"""``y = x``; ``f'(x) = 1``; ``f''(x) = 0``; backward ``dx = dy`` (any shape).

    See ``docs/01-dense-and-activations.md``.
    """

    name = "identity"

    @staticmethod
    def function(x):
        return x

    @staticmethod
    def derivative(x, y):
        return np.ones_like(x)

    @staticmethod
    def second_derivative(x, y):
        return np.zeros_like(x)

    def backward(self, dy: np.ndarray) -> np.ndarray:
        return dy


class ReLU(Activation):
    r"""``y = max(x, 0)``; ``f'(x) = 1[x > 0]``; ``f''(x) = 0`` (almost everywhere).

    Backward ``dx = dy * 1[x > 0]`` (any shape), written ``dy * (x > 0)``; at the
    kink ``x = 0`` the subgradient 0 is taken, as in PyTorch. (A multiply by the boolean mask,
    many times faster than ``np.where(x > 0, dy, 0)``, measured in ``docs/01-dense-and-activations.md``;
    an Inf in ``dy`` where ``x <= 0`` becomes NaN,
    ``Inf * 0``, which the training guard reports.) See
    ``docs/01-dense-and-activations.md`` (ReLU and LeakyReLU).
    """

    name = "relu"

    @staticmethod
    def function(x):
        return np.maximum(x, 0)

    @staticmethod
    def derivative(x, y):
        return (x > 0).astype(x.dtype)

    @staticmethod
    def second_derivative(x, y):
        return np.zeros_like(x)

    @np.errstate(invalid="ignore")
    def backward(self, dy: np.ndarray) -> np.ndarray:
        return dy * (self._x > 0)


class LeakyReLU(Activation):
    r"""``y = x`` if x > 0 else ``negative_slope * x``; ``f'(x) = 1`` or ``negative_slope``.

    Backward ``dx = dy * f'(x)`` (any shape); ``f''(x) = 0`` almost everywhere. See
    ``docs/01-dense-and-activations.md`` (ReLU and LeakyReLU).
    """

    name = "leaky_relu"

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = check_float(negative_slope, "negative_slope", 0.0, 1.0)

    def function(self, x):  # type: ignore[override]
        # max(x, a x) is x for x > 0 and a x otherwise because 0 <= a <= 1; branch-free, so
        # several times faster than np.where on a random sign pattern
        x = _as_float(x)
        return np.maximum(x, x * x.dtype.type(self.negative_slope))

    def derivative(self, x, y):  # type: ignore[override]
        a = self.negative_slope
        d = (x > 0).astype(_as_float(x).dtype)  # 1[x > 0]
        d *= 1 - a
        d += a  # 1 where x > 0, a elsewhere
        return d

    def second_derivative(self, x, y):  # type: ignore[override]
        return np.zeros_like(x)

    def __repr__(self) -> str:
        return f"LeakyReLU(negative_slope={self.negative_slope})"


class Sigmoid(Activation):
    r"""``y = 1 / (1 + exp(-x))``; ``f'(x) = y (1 - y)``; ``f''(x) = y (1 - y)(1 - 2y)``.

    Backward ``dx = dy * y * (1 - y)`` (any shape), from the cached output: no second ``exp``.
    Computed by :func:`sigmoid`, which evaluates ``exp(-|x|)`` only and so returns the exact
    limits 0 and 1 at ``|x| = 1000`` without a floating-point warning (a NumPy
    ``1 / (1 + np.exp(-x))`` warns of overflow there). Derivation:
    ``docs/01-dense-and-activations.md`` (Sigmoid).
    """

    name = "sigmoid"

    @staticmethod
    def function(x):
        return sigmoid(x)

    @staticmethod
    def derivative(x, y):
        return y * (1 - y)

    @staticmethod
    def second_derivative(x, y):
        return y * (1 - y) * (1 - 2 * y)


class Tanh(Activation):
    r"""``y = tanh(x)``; ``f'(x) = 1 - y^2``; ``f''(x) = -2 y (1 - y^2)``.

    Backward ``dx = dy * (1 - y^2)`` (any shape). See ``docs/01-dense-and-activations.md``.
    """

    name = "tanh"

    @staticmethod
    def function(x):
        return np.tanh(x)

    @staticmethod
    def derivative(x, y):
        return 1 - y * y

    @staticmethod
    def second_derivative(x, y):
        return -2 * y * (1 - y * y)


class Softplus(Activation):
    r"""``y = log(1 + exp(x))``; ``f'(x) = sigmoid(x)``; ``f''(x) = s (1 - s)``, s = sigmoid(x).

    Backward ``dx = dy * sigmoid(x)`` (any shape). Computed as
    ``logaddexp(0, x) = max(x, 0) + log1p(exp(-|x|))``: the exponent is never positive, so no
    overflow. Derivation: ``docs/01-dense-and-activations.md`` (Softplus).
    """

    name = "softplus"

    @staticmethod
    def function(x):
        x = _as_float(x)
        y = exp_neg_abs(x)
        np.log1p(y, out=y)  # log1p(exp(-|x|)), in (0, log 2]
        y += np.maximum(x, 0)  # (np.logaddexp(0, x) is the same number, ~10x slower)
        return y

    @staticmethod
    def derivative(x, y):
        return sigmoid(x)

    @staticmethod
    def second_derivative(x, y):
        s = sigmoid(x)
        return s * (1 - s)


ACTIVATIONS: dict[str, type[Activation]] = {
    cls.name: cls for cls in (Identity, ReLU, LeakyReLU, Sigmoid, Tanh, Softplus)
}


def get_activation(name: str) -> Activation:
    """A new activation layer from its name (``"relu"``, ``"sigmoid"``, ...)."""
    if name not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {list(ACTIVATIONS)}, got {name!r}")
    return ACTIVATIONS[name]()
