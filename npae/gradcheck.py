r"""Numerical gradient checking: compare a hand-written backward with central differences.

This module is public because it is teaching material: every backward pass in npae is tested
with it. Run it in float64; a correct backward gives a relative error around 1e-9 or less,
a wrong one something near 1. See ``docs/05-gradient-checking.md``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from ._validation import check_array, check_float, check_random_state

#: npae's verdict: a correct float64 backward scores 1e-9 or less, a wrong one 0.1 to 1.
TOL = 1e-7
#: The absolute tolerance beside it: a difference ``||analytic - numeric||`` this small is the
#: rounding noise of central differences (about eps * |L| / h per entry), whatever the norms.
ATOL = 1e-8


class ArrayCheck(NamedTuple):
    """What the checker measured for one array: the figures the verdict is made of.

    ``rel_error`` is :func:`rel_error` of the two gradients, ``abs_error`` the norm of their
    difference ``||analytic - numeric||``, and ``analytic_norm`` / ``numeric_norm`` their norms
    (a correct gradient that is zero reads ``0`` beside a numeric norm of about 1e-13; a wrong
    sign reads two equal norms and a relative error of 1).
    """

    rel_error: float
    abs_error: float
    analytic_norm: float
    numeric_norm: float

    def passes(self, rtol: float = TOL, atol: float = ATOL) -> bool:
        r"""The verdict: ``||a - n|| <= atol + rtol (||a|| + ||n||)`` (NaN fails).

        As ``np.allclose`` and ``torch.autograd.gradcheck`` judge, with norms over the whole
        array: the relative part judges a gradient of any size, the absolute part accepts a
        gradient that is zero (or nearly) where the differences give rounding noise.
        """
        return bool(self.abs_error <= atol + rtol * (self.analytic_norm + self.numeric_norm))

    def badness(self, rtol: float = TOL, atol: float = ATOL) -> float:
        """``||a - n|| / (atol + rtol (||a|| + ||n||))``: above 1 fails; ranks the worst array first."""
        if np.isnan(self.abs_error):
            return np.inf
        return self.abs_error / (atol + rtol * (self.analytic_norm + self.numeric_norm))


class GradientReport(dict):
    """``{name: rel_error}`` as the checkers always returned, with each array's :class:`ArrayCheck`.

    A plain dict of relative errors (``report["W"]`` is a float), so existing code reading it keeps
    working; ``report.arrays[name]`` holds the norms beside the error, which
    :func:`assert_gradients` uses for its verdict and its message.
    """

    def __init__(self, arrays: dict[str, ArrayCheck]) -> None:
        super().__init__({k: c.rel_error for k, c in arrays.items()})
        self.arrays = dict(arrays)

    def failed(self, rtol: float = TOL, atol: float = ATOL) -> list[str]:
        """The names of the arrays that fail the verdict, the worst first."""
        return [k for k in self.worst_first(rtol, atol) if not self.arrays[k].passes(rtol, atol)]

    def worst_first(self, rtol: float = TOL, atol: float = ATOL) -> list[str]:
        """Every array's name, the one furthest from passing first."""
        return sorted(self.arrays, key=lambda k: -self.arrays[k].badness(rtol, atol))

    def table(self, rtol: float = TOL, atol: float = ATOL) -> str:
        """One line per array, the worst first: relative error, ``||a - n||``, both norms, verdict."""
        lines = [f"{'array':28s} {'rel_error':>9s} {'|a - n|':>9s} {'|analytic|':>10s} {'|numeric|':>10s}"]
        for k in self.worst_first(rtol, atol):
            c = self.arrays[k]
            lines.append(f"{k:28s} {c.rel_error:9.1e} {c.abs_error:9.1e} {c.analytic_norm:10.2e} "
                         f"{c.numeric_norm:10.2e}  {'ok' if c.passes(rtol, atol) else 'FAILED'}")
        return "\n".join(lines)


def compare(analytic: np.ndarray, numeric: np.ndarray) -> ArrayCheck:
    """The figures of one array's check: relative error, ``||a - n||`` and the two norms."""
    a = np.asarray(analytic, dtype=np.float64)
    n = np.asarray(numeric, dtype=np.float64)
    return ArrayCheck(rel_error(a, n), float(np.linalg.norm(a - n)), float(np.linalg.norm(a)),
                      float(np.linalg.norm(n)))


@contextlib.contextmanager
def buffers_kept(owner):
    """Put every array of ``owner.buffers`` (a layer's or model's running statistics) back on exit.

    The checkers run hundreds of forwards; in training mode a BatchNorm updates its running
    statistics on each one. They are not what is checked (they have no gradient) and the check
    must leave the layer or model as it found it.
    """
    saved = {k: v.copy() for k, v in getattr(owner, "buffers", {}).items()}
    try:
        yield
    finally:
        live = getattr(owner, "buffers", {})
        for k, v in saved.items():
            np.copyto(live[k], v)


def _check_float64(x, name: str, hint: str = "") -> None:
    """Refuse anything but a float64 ndarray: float32 rounding would drown a small bug."""
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        got = x.dtype if isinstance(x, np.ndarray) else f"a {type(x).__name__}"
        raise TypeError(f"{name} must be float64 for a gradient check{hint}, got {got}")


def _check_params_float64(params: dict[str, np.ndarray], owner: str) -> None:
    """Every parameter of ``owner`` ("layer" or "model") float64, or an error naming the first that is not."""
    for name, p in params.items():
        _check_float64(p, f"parameter {name!r}", f" (build the {owner} with dtype=np.float64)")


def _require_deterministic(first: float, second: float, advice: str) -> None:
    """Two evaluations of the loss at the same point must agree to the bit, else differences measure noise."""
    if not np.array_equal(first, second, equal_nan=True):
        raise RuntimeError(f"the loss is not deterministic: two evaluations at the same point gave {first!r} "
                           f"and {second!r}, so central differences would measure the noise. {advice}")


def rel_error(a: np.ndarray, b: np.ndarray) -> float:
    r"""Relative difference ``||a - b|| / (||a|| + ||b||)`` in [0, 1] (0 when both are zero).

    Norms over the whole arrays (any shape, ``a`` and ``b`` alike). Scale-free, and it does
    not blow up on individual entries that are zero up to rounding (as an element-wise ratio
    would). UFLDL divides by ``||a + b||`` instead, the same to first order when a ~ b. If
    ``a = c b`` it is ``|c - 1| / (|c| + 1)``: a wrong factor 2 gives 1/3, a wrong sign 1.
    See ``docs/05-gradient-checking.md``.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    denom = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if denom == 0 else float(np.linalg.norm(a - b) / denom)


def numerical_gradient(f: Callable[[], float], x: np.ndarray, h: float = 1e-6,
                       indices: np.ndarray | None = None, name: str = "x") -> np.ndarray:
    r"""Central differences of a scalar function with respect to the array ``x``.

    .. math:: \frac{\partial f}{\partial x_i} \approx \frac{f(x + h e_i) - f(x - h e_i)}{2h}

    ``f`` takes no arguments and reads ``x``, which is perturbed in place, one entry at a
    time, and restored (any memory layout: entries are addressed by index, never through a
    reshaped copy). The truncation error is O(h^2); the rounding error O(eps / h); h = 1e-6 in
    float64 balances them. Two calls of ``f`` per entry. See ``docs/05-gradient-checking.md``.

    Returns an array of ``x``'s shape; with ``indices`` (flat, C-order indices into ``x``), only
    those entries are perturbed and a 1-D array of their partial derivatives is returned (a
    spot check of a large parameter array). ``name`` is how an error message calls ``x``
    (``check_layer`` passes ``"parameter 'gamma'"``).
    """
    _check_float64(x, name)
    if not x.flags.writeable:
        raise ValueError(f"{name} must be writeable: the check perturbs it in place")
    if indices is None:
        entries = list(np.ndindex(x.shape))
    else:
        flat = check_array(indices, "indices", ndim=1, min_samples=0)
        if flat.dtype.kind not in "iu" or (flat.size and (flat.min() < 0 or flat.max() >= x.size)):
            raise ValueError(f"indices must be integers in [0, {x.size}), got {flat!r}")
        entries = list(zip(*np.unravel_index(flat, x.shape), strict=True))
    partials = np.zeros(len(entries))
    for k, i in enumerate(entries):
        old = x[i]
        x[i] = old + h
        f_plus = f()
        x[i] = old - h
        f_minus = f()
        x[i] = old
        partials[k] = (f_plus - f_minus) / (2 * h)
    return partials.reshape(x.shape) if indices is None else partials


def check_layer(layer, x: np.ndarray, rng=None, h: float = 1e-6, rng_seed: int = 0) -> GradientReport:
    r"""Relative error of a layer's backward for its input and every parameter.

    The scalar checked is ``L = sum(forward(x) * dy)`` for a fixed random upstream gradient
    ``dy``, so ``dL/dy = dy`` and ``backward(dy)`` must return ``dL/dx``. A stochastic layer
    (``layer.stochastic``, e.g. Dropout) is given a fresh ``np.random.default_rng(rng_seed)`` on
    every forward, so every evaluation (the analytic one and both sides of each difference)
    sees the same mask.

    Parameters
    ----------
    layer : Layer
        Built with ``dtype=np.float64``. Parameters that start at 0 or 1 (biases, a gain
        ``gamma``) should be randomised first: at ``gamma = 1`` a backward that forgets the
        factor ``gamma`` is right by accident.
    x : array_like
        The input, of the shape the layer expects (e.g. (N, in_features)); copied to float64.
    rng : int, Generator or None
        Draws ``dy`` (shape of ``forward(x)``, standard normal).
    h : float
        Step of the central differences.
    rng_seed : int
        Seed of the generator passed to a stochastic layer's every forward.

    Returns ``{"x": err, "W": err, ...}``: :func:`rel_error` for the input and for every key
    of ``layer.params`` (not its ``buffers``, which have no gradient), as a :class:`GradientReport`
    whose ``arrays`` also hold the norms. A correct backward gives about 1e-9 or less, a wrong one
    about 0.1-1; :func:`assert_gradients` turns that into a verdict. The layer's ``buffers`` (running
    statistics a training-mode forward updates) are put back as they were. Raises ``TypeError``
    naming a parameter
    that is not float64, and ``RuntimeError`` ("the loss is not deterministic") when two
    forwards at the same point differ. See ``docs/05-gradient-checking.md``.
    """
    rng = check_random_state(rng, "rng")
    _check_params_float64(layer.params, "layer")
    x = np.array(x, dtype=np.float64)
    with buffers_kept(layer):
        return _check_layer(layer, x, rng, h, rng_seed)


def _check_layer(layer, x: np.ndarray, rng: np.random.Generator, h: float, rng_seed: int) -> GradientReport:
    """:func:`check_layer` once its arguments are checked (and the buffers saved)."""

    def forward() -> np.ndarray:
        if layer.stochastic:  # the same seed on every call: the same mask
            return layer.forward(x, np.random.default_rng(rng_seed))
        return layer.forward(x)

    y = forward()  # also caches what backward needs
    dy = rng.standard_normal(y.shape)
    dx = layer.backward(dy)

    def loss() -> float:
        return float(np.sum(forward() * dy))

    _require_deterministic(float(np.sum(y * dy)), loss(),
                           "A layer that draws random numbers must set stochastic = True and draw from the "
                           "rng its forward(x, rng) is given (check_layer passes the same seed every time).")
    analytic = {"x": dx, **{k: g.copy() for k, g in layer.grads.items()}}
    checks = {"x": compare(analytic["x"], numerical_gradient(loss, x, h))}
    for name, p in layer.params.items():
        checks[name] = compare(analytic[name], numerical_gradient(loss, p, h, name=f"parameter {name!r}"))
    return GradientReport(checks)


def check_function(f: Callable[..., tuple[float, np.ndarray]], *args: np.ndarray, h: float = 1e-6,
                   wrt: int = 0, **kwargs) -> float:
    """Relative error of ``f(*args) -> (value, grad)``'s gradient with respect to ``args[wrt]``.

    Array arguments are copied to float64; ``grad`` must have the shape of ``args[wrt]``;
    ``kwargs`` are passed to ``f``. Used for the losses and penalties; see
    ``docs/05-gradient-checking.md``.
    """
    args = [np.array(a, dtype=np.float64) if isinstance(a, np.ndarray) else a for a in args]
    _, analytic = f(*args, **kwargs)
    analytic = np.array(analytic, copy=True)
    numeric = numerical_gradient(lambda: f(*args, **kwargs)[0], args[wrt], h)
    return rel_error(analytic, numeric)


def check_model(model, X: np.ndarray, rng_seed: int = 0, h: float = 1e-5, y=None) -> GradientReport:
    """Relative error of a model's whole-loss gradient for every parameter.

    ``model.loss_and_grads(X, rng)`` must be deterministic given ``rng``; a fresh generator
    seeded with ``rng_seed`` is passed on every call so noise (denoising, sampling) is held
    fixed. The model must have been built with ``dtype=np.float64``. ``h = 1e-5`` suits a
    whole loss (its value is O(1), so rounding error eps * L / h stays near 1e-11).

    ``X`` has shape (N, n_features) (or what the model's ``loss_and_grads`` accepts); a model that
    learns from labels (a ``Classifier``) is given them as ``y`` (N,) and checked through
    ``loss_and_grads(X, y, rng)``. Returns
    ``{param_name: rel_error}`` with the keys of ``model.params`` (a :class:`GradientReport`, norms
    in its ``arrays``); ``model.buffers`` are not checked and are put back as they were. Raises
    ``TypeError`` naming a parameter that is not float64, and ``RuntimeError`` ("the loss is not
    deterministic") when two evaluations with the same seed differ. See ``docs/05-gradient-checking.md``.
    """
    h = check_float(h, "h", 0.0, low_inclusive=False)
    if y is None and hasattr(model, "check_labels"):
        raise TypeError(f"y: a {type(model).__name__} learns from labels; pass them as y (N,) to check it")
    _check_params_float64(model.params, "model")
    X = model.check_batch(np.asarray(X, dtype=np.float64))
    batch = (X,) if y is None else (X, model.check_labels(y, len(X)))
    with buffers_kept(model):
        return _check_model(model, batch, rng_seed, h)


def _check_model(model, batch: tuple, rng_seed: int, h: float) -> GradientReport:
    """:func:`check_model` once its arguments are checked (and the buffers saved)."""

    def loss() -> float:
        return model.loss_and_grads(*batch, np.random.default_rng(rng_seed))[0]

    value, _, grads = model.loss_and_grads(*batch, np.random.default_rng(rng_seed))
    grads = {k: g.copy() for k, g in grads.items()}
    _require_deterministic(value, loss(),
                           "Every random draw of loss_and_grads(X, rng) must come from its rng (check_model "
                           "passes the same seed every time); a layer drawing from its own generator "
                           "advances it on every call.")
    return GradientReport({name: compare(grads[name], numerical_gradient(loss, p, h,
                                                                         name=f"parameter {name!r}"))
                           for name, p in model.params.items()})


def randomize_params(params: dict[str, np.ndarray], rng=None, scale: float = 0.5) -> list[str]:
    """Move every parameter array whose entries are all equal (a bias at 0, a gain at 1) off that value.

    Each such array gets ``rng.uniform(-scale, scale)`` added entry by entry, in place (``params``
    are the live arrays of a layer or a model); arrays already random (weight matrices) are left
    alone. At a bias of 0 or a ``gamma`` of 1 a backward that forgets the term is right by accident;
    here it fails. Returns the names of the arrays moved. See ``docs/05-gradient-checking.md``.
    """
    rng = check_random_state(rng, "rng")
    scale = check_float(scale, "scale", 0.0, low_inclusive=False)
    moved = []
    for name, p in params.items():
        if p.size and np.all(p == p.flat[0]):
            p += rng.uniform(-scale, scale, p.shape).astype(p.dtype)
            moved.append(name)
    return moved


def assert_gradients(errors: dict[str, float], tol: float = TOL, atol: float = ATOL) -> None:
    r"""Pass silently if every array passes the verdict; else raise AssertionError naming the worst.

    ``errors`` is what :func:`check_layer` or :func:`check_model` returns (a :class:`GradientReport`).
    An array passes when ``||a - n|| <= atol + tol (||a|| + ||n||)`` (:meth:`ArrayCheck.passes`):
    below the relative tolerance, or a difference so small it is the differences' own rounding
    noise (a gradient that is exactly zero, e.g. a bias in front of a batch normalisation). The
    message lists every array, the worst first, with its relative error, ``||a - n||`` and both
    norms, so "right but zero" (``|analytic| 0``) and "wrong" (two similar norms, error near 1)
    read differently. A plain dict ``{name: rel_error}`` is judged on the relative error alone
    (``rel_error < tol``), the worst (a NaN counts as the worst) named, e.g.
    ``gradient check failed: 'x' has relative error 3.3e-01 > tol 1e-07 (x 3.3e-01, gamma 8.1e-11)``.
    Raised explicitly, so it also works under ``python -O``. See ``docs/05-gradient-checking.md``.
    """
    tol = check_float(tol, "tol", 0.0, low_inclusive=False)
    atol = check_float(atol, "atol", 0.0)
    if not errors:
        raise ValueError("errors must name at least one checked array, got an empty dict")
    if isinstance(errors, GradientReport):
        failed = errors.failed(tol, atol)
        if failed:
            c = errors.arrays[failed[0]]
            raise AssertionError(
                f"gradient check failed: {failed[0]!r} has relative error {c.rel_error:.1e} and "
                f"|analytic - numeric| {c.abs_error:.1e} > atol {atol:g} + tol {tol:g} * (|analytic| "
                f"{c.analytic_norm:.1e} + |numeric| {c.numeric_norm:.1e}); every array, the worst first:\n"
                f"{errors.table(tol, atol)}")
        return
    worst = max(errors, key=lambda k: np.inf if np.isnan(errors[k]) else errors[k])
    if not errors[worst] < tol:
        every = ", ".join(f"{k} {e:.1e}" for k, e in errors.items())
        raise AssertionError(f"gradient check failed: {worst!r} has relative error {errors[worst]:.1e} > tol "
                             f"{tol:g} ({every})")
