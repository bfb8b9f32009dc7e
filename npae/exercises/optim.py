"""Exercises of lesson 04: one step of SGD with momentum, and one step of Adam.

An update rule has no gradient to check by central differences; it is graded against npae's own
(``npae.optim.sgd_momentum_update``, ``npae.optim.adam_update``, which ``SGD.step`` and
``Adam.step`` call) on the same state, one step at a time, and against an independent form run
for five steps on the learner's own state: the unrolled sum of the momentum buffer, and PyTorch's
arrangement of Adam's arithmetic. The step ``p_new - p`` is compared rather than ``p_new``, so
that a wrong step cannot hide behind the size of ``p``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..optim import adam_update, sgd_momentum_update
from .grading import Exercise, Grader, Mistake, _as_array

PAGE = "docs/04-optimisers.md"


def _npae_sgd(p, *rest):
    """npae's step on a copy of ``p`` (npae's updates ``p`` in place: it is the model's live array)."""
    return sgd_momentum_update(p.copy(), *rest)


def _npae_adam(p, *rest):
    """npae's Adam step on a copy of ``p``."""
    return adam_update(p.copy(), *rest)

# ---------------------------------------------------------------------------- SGD with momentum
SGD_SKELETON = f'''"""Exercise `sgd_momentum` ({PAGE}#sgd).

Write one step of SGD with momentum, in PyTorch's convention (npae's).
    npae exercise check sgd_momentum
"""

import numpy as np


def sgd_momentum_update(p, g, v, lr, momentum):
    """One update of a parameter array p from its gradient g and its velocity buffer v.

    The buffer v is a decaying sum of the gradients: each step multiplies it by `momentum`
    and adds the new gradient. The learning rate stays out of the buffer (PyTorch's
    convention): p then moves against the new buffer, scaled by lr. The buffer starts at
    zero, so the first step's buffer is g itself. Derive what v becomes under a constant
    gradient, and the effective step size, from {PAGE}#sgd.

    Parameters
    ----------
    p : ndarray, any shape          the parameter
    g : ndarray, p's shape          its gradient dL/dp
    v : ndarray, p's shape          the velocity buffer from the previous step (zeros at first)
    lr : float > 0                  the learning rate
    momentum : float in [0, 1)      the buffer's decay mu

    Returns
    -------
    p_new : ndarray, p's shape      the parameter after the step (a new array, or p itself
                                    updated in place, as npae's does)
    v_new : ndarray, p's shape      the buffer after the step
    """
    raise NotImplementedError
'''


def _sgd_classical(p, g, v, lr, mu):
    u = mu * v - lr * g
    return p + u, u


def _sgd_ema(p, g, v, lr, mu):
    v = mu * v + (1 - mu) * g
    return p - lr * v, v


def _sgd_stale(p, g, v, lr, mu):
    return p - lr * v, mu * v + g


def _sgd_on_p(p, g, v, lr, mu):
    v = mu * p + g
    return p - lr * v, v


SGD_MISTAKES: dict[str, Callable] = {
    "the buffer has lr inside (the classical u = mu u - lr g, p = p + u): npae's (PyTorch's) buffer "
    "keeps lr out, v = mu v + g, p = p - lr v, so the v it is given is a sum of gradients": _sgd_classical,
    "the buffer is an average, v = mu v + (1 - mu) g (dampening): npae's is a sum, v = mu v + g, "
    "so its steps are 1/(1 - mu) times larger": _sgd_ema,
    "p moves with the old buffer: update v first (v = mu v + g), then step with the new v": _sgd_stale,
    "the momentum multiplies the parameter p instead of the velocity: v = mu v + g": _sgd_on_p,
}

#: (shape, lr, momentum, first step?): a first step from v = 0, later steps, a vector, mu = 0.
SGD_CASES = (((4, 3), 0.1, 0.9, True), ((4, 3), 0.05, 0.9, False), ((6,), 0.3, 0.5, False),
             ((2, 5), 0.2, 0.0, False))


def _step(new, p: np.ndarray):
    """``new - p`` (the step) when ``new`` is an array of ``p``'s shape; ``new`` unchanged otherwise."""
    a = _as_array(new)
    return a - p if a is not None and a.shape == p.shape else new


def _hints(mistakes: dict[str, Callable], args: tuple, index: int) -> dict[str, np.ndarray]:
    """Each known mistake's output number ``index`` on the same inputs (the step ``p_new - p`` for 0)."""
    out = {}
    for message, wrong in mistakes.items():
        with np.errstate(all="ignore"):
            value = wrong(*args)[index]
        out[message] = value - args[0] if index == 0 else value
    return out


def _grade_sgd(g: Grader, rng: np.random.Generator) -> None:
    for shape, lr, mu, first in SGD_CASES:
        p, grad = rng.normal(size=shape), rng.normal(size=shape)
        v = np.zeros(shape) if first else rng.normal(size=shape)
        what = f"{'first step (v = 0)' if first else 'a later step'}, shape {shape}, lr={lr}, momentum={mu}"
        args = (p, grad, v, lr, mu)
        p_new, v_new = g.call("sgd_momentum_update", *args, n_outputs=2)
        ref_p, ref_v = _npae_sgd(*args)
        g.compare(f"the step p_new - p, {what}", _step(p_new, p), ref_p - p, "p_new - p",
                  mistakes=_hints(SGD_MISTAKES, args, 0))
        g.compare(f"v_new, {what}", v_new, ref_v, "v_new", mistakes=_hints(SGD_MISTAKES, args, 1))

    if not all(c.passed for c in g.checks):
        return
    # five steps on your own buffer, against the unrolled sum v_t = sum_i mu^(t-i) g_i
    lr, mu, shape = 0.1, 0.8, (3, 2)
    p0, grads = rng.normal(size=shape), rng.normal(size=(5, *shape))
    v_t = [sum(mu ** (t - i) * grads[i] for i in range(t + 1)) for t in range(5)]
    expected_p, expected_v = p0 - lr * sum(v_t), v_t[-1]

    def five_steps(fn) -> tuple[np.ndarray, np.ndarray]:
        p, v = p0, np.zeros(shape)
        for gt in grads:
            p, v = fn(p, gt, v, lr, mu)
            p, v = np.asarray(p, dtype=np.float64), np.asarray(v, dtype=np.float64)
        return p, v

    def learners(p, gt, v, lr, mu):
        return g.call("sgd_momentum_update", p, gt, v, lr, mu, n_outputs=2)

    p5, v5 = five_steps(learners)
    g.compare("five steps from v = 0 on your own buffer: p_5 - p_0 against -lr sum_t v_t, "
              "v_t = sum_i mu^(t-i) g_i", p5 - p0, expected_p - p0, "p_5 - p_0")
    g.compare("five steps: v_5 against the unrolled sum", v5, expected_v, "v_5")


SGD_REFERENCE = "from npae.optim import sgd_momentum_update  # noqa: F401\n"

# ---------------------------------------------------------------------------- Adam
ADAM_SKELETON = f'''"""Exercise `adam` ({PAGE}#adam).

Write step t of Adam, with the bias correction.
    npae exercise check adam
"""

import numpy as np


def adam_update(p, g, m, v, t, lr, beta1, beta2, eps):
    """Step number t (1, 2, ...) of Adam on a parameter array p, from its gradient g.

    m and v are exponential moving averages of g and of g * g (element-wise), with decays
    beta1 and beta2; both start at zero, which biases them towards zero in the first
    steps. Divide each by the factor that removes that bias (derive it by unrolling the
    average from zero: {PAGE}#adam) to get m_hat and v_hat.
    The step is lr times m_hat over the square root of v_hat, with eps added to the square
    root (PyTorch's convention, npae's).

    Parameters
    ----------
    p : ndarray, any shape          the parameter
    g : ndarray, p's shape          its gradient dL/dp
    m : ndarray, p's shape          the average of the gradients after step t - 1 (zeros at t = 1)
    v : ndarray, p's shape          the average of the squared gradients after step t - 1
    t : int >= 1                    this step's number
    lr : float > 0                  the learning rate
    beta1, beta2 : float in [0, 1)  the decays of m and v
    eps : float >= 0                keeps the division finite

    Returns
    -------
    p_new : ndarray, p's shape      the parameter after the step (a new array, or p itself
                                    updated in place, as npae's does)
    m_new : ndarray, p's shape      the averages after the step (what the next step is given)
    v_new : ndarray, p's shape
    """
    raise NotImplementedError
'''


def _adam_parts(g, m, v, beta1, beta2):
    return beta1 * m + (1 - beta1) * g, beta2 * v + (1 - beta2) * g * g


def _adam_no_m_correction(p, g, m, v, t, lr, beta1, beta2, eps):
    m, v = _adam_parts(g, m, v, beta1, beta2)
    return p - lr * m / (np.sqrt(v / (1 - beta2 ** t)) + eps), m, v


def _adam_no_correction(p, g, m, v, t, lr, beta1, beta2, eps):
    m, v = _adam_parts(g, m, v, beta1, beta2)
    return p - lr * m / (np.sqrt(v) + eps), m, v


def _adam_no_v_correction(p, g, m, v, t, lr, beta1, beta2, eps):
    m, v = _adam_parts(g, m, v, beta1, beta2)
    return p - lr * m / (1 - beta1 ** t) / (np.sqrt(v) + eps), m, v


def _adam_eps_inside(p, g, m, v, t, lr, beta1, beta2, eps):
    m, v = _adam_parts(g, m, v, beta1, beta2)
    return p - lr * (m / (1 - beta1 ** t)) / np.sqrt(v / (1 - beta2 ** t) + eps), m, v


def _adam_swapped(p, g, m, v, t, lr, beta1, beta2, eps):
    return _npae_adam(p, g, m, v, t, lr, beta2, beta1, eps)


def _adam_t_plus_one(p, g, m, v, t, lr, beta1, beta2, eps):
    return _npae_adam(p, g, m, v, t + 1, lr, beta1, beta2, eps)


def _adam_v_of_g(p, g, m, v, t, lr, beta1, beta2, eps):
    m, v = beta1 * m + (1 - beta1) * g, beta2 * v + (1 - beta2) * g
    return p - lr * m / (1 - beta1 ** t) / (np.sqrt(v / (1 - beta2 ** t)) + eps), m, v


def _adam_stores_hats(p, g, m, v, t, lr, beta1, beta2, eps):
    m, v = _adam_parts(g, m, v, beta1, beta2)
    m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
    return p - lr * m_hat / (np.sqrt(v_hat) + eps), m_hat, v_hat


ADAM_MISTAKES: dict[str, Callable] = {
    "the first steps are too small: m_hat = m / (1 - beta1^t) is missing (m starts at 0 and is "
    "biased towards it by the factor 1 - beta1^t)": _adam_no_m_correction,
    "the first steps are too large: both bias corrections are missing, m_hat = m / (1 - beta1^t) "
    "and v_hat = v / (1 - beta2^t) (with the default betas the first step is 3.16 lr per "
    "coordinate, not lr)": _adam_no_correction,
    "the first steps are too large: v_hat = v / (1 - beta2^t) is missing": _adam_no_v_correction,
    "eps is inside the square root: npae (as PyTorch) adds it outside, sqrt(v_hat) + eps; "
    "the two differ where the gradients are about sqrt(eps) or smaller": _adam_eps_inside,
    "beta1 and beta2 are swapped: beta1 (0.9) averages the gradient into m, beta2 (0.999) its "
    "square into v": _adam_swapped,
    "m_new and v_new are the corrected m_hat and v_hat: store the raw averages m and v, and correct "
    "them afresh at every step (the factor depends on t)": _adam_stores_hats,
    "the bias corrections use t + 1: t is already this step's number, 1 at the first step": _adam_t_plus_one,
    "v averages the gradient g: it is the average of its square, g * g": _adam_v_of_g,
}

#: (label, shape, lr, betas, eps, gradient scale): PyTorch's defaults, other betas, a tiny gradient.
ADAM_CASES = (("the default betas", (4, 3), 1e-2, (0.9, 0.999), 1e-8, 1.0),
              ("betas (0.8, 0.99)", (7,), 0.1, (0.8, 0.99), 1e-8, 1.0),
              ("a tiny gradient (|g| ~ 1e-8, where eps matters)", (2, 5), 1e-2, (0.9, 0.999), 1e-8, 1e-8),
              ("a single number (shape (1,)), eps = 1e-3", (1,), 1e-3, (0.9, 0.999), 1e-3, 0.05))


def _torch_order(p, g, m, v, t, lr, beta1, beta2, eps):
    """PyTorch's arithmetic: the same step, in another order (docs/04-optimisers.md, Adam)."""
    m, v = _adam_parts(g, m, v, beta1, beta2)
    denom = np.sqrt(v) / np.sqrt(1 - beta2 ** t) + eps
    return p - lr / (1 - beta1 ** t) * m / denom, m, v


def _grade_adam(g: Grader, rng: np.random.Generator) -> None:
    for label, shape, lr, (b1, b2), eps, scale in ADAM_CASES:
        p, grads = rng.normal(size=shape), scale * rng.normal(size=(5, *shape))
        m, v = np.zeros(shape), np.zeros(shape)
        got: list[list[np.ndarray]] = [[], [], []]
        ref: list[list[np.ndarray]] = [[], [], []]
        hints: list[dict[str, list]] = [{k: [] for k in ADAM_MISTAKES} for _ in range(3)]
        for t, gt in enumerate(grads, start=1):  # npae's state at every step: each step graded alone
            args = (p, gt, m, v, t, lr, b1, b2, eps)
            outs = g.call("adam_update", *args, n_outputs=3)
            right = _npae_adam(*args)
            for i in range(3):
                got[i].append(_step(outs[i], p) if i == 0 else outs[i])
                ref[i].append(right[i] - p if i == 0 else right[i])
                for message, value in _hints(ADAM_MISTAKES, args, i).items():
                    hints[i][message].append(value)
            p, m, v = right
        what = f"t = 1..5 (index [t - 1, ...]), {label}"
        for i, name in enumerate(("p_new - p", "m_new", "v_new")):
            try:
                mine = np.stack([np.asarray(a, dtype=np.float64) for a in got[i]])  # (5, *shape)
            except (TypeError, ValueError):  # not arrays, or shapes that change from step to step
                mine = got[i][0]
            g.compare(f"{'the steps ' if i == 0 else ''}{name}, {what}", mine, np.stack(ref[i]), name,
                      mistakes={k: np.stack(h) for k, h in hints[i].items()})

    if not all(c.passed for c in g.checks):
        return
    # five steps on your own state, against PyTorch's order of the same arithmetic
    shape, lr, (b1, b2), eps = (3, 4), 1e-2, (0.9, 0.999), 1e-8
    p0, grads = rng.normal(size=shape), rng.normal(size=(5, *shape))

    def five_steps(fn) -> np.ndarray:
        p, m, v = p0, np.zeros(shape), np.zeros(shape)
        for t, gt in enumerate(grads, start=1):
            p, m, v = (np.asarray(a, dtype=np.float64) for a in fn(p, gt, m, v, t, lr, b1, b2, eps))
        return p

    def learners(*args):
        return g.call("adam_update", *args, n_outputs=3)

    g.compare("five steps on your own m and v: p_5 - p_0 against PyTorch's arrangement "
              "(lr / (1 - beta1^t)) m / (sqrt(v) / sqrt(1 - beta2^t) + eps)", five_steps(learners) - p0,
              five_steps(_torch_order) - p0, "p_5 - p_0")


ADAM_REFERENCE = "from npae.optim import adam_update  # noqa: F401\n"

# ---------------------------------------------------------------------------- the catalogue
EXERCISES = (
    Exercise(
        name="sgd_momentum", lesson=f"{PAGE}#sgd",
        summary="one step of SGD with momentum: v = mu v + g, p = p - lr v (PyTorch's convention)",
        skeleton=SGD_SKELETON, functions=("sgd_momentum_update",),
        solution={"sgd_momentum_update": "npae.optim.sgd_momentum_update (SGD.step calls it)"},
        grade=_grade_sgd, reference=SGD_REFERENCE,
        mistakes=(
            Mistake("lr inside the buffer", '''
def sgd_momentum_update(p, g, v, lr, momentum):
    v = momentum * v - lr * g
    return p + v, v
''', "the buffer has lr inside", "the classical form of Sutskever et al. and of many course notes, "
                    "u = mu u - lr g, p = p + u",
                    "the same trajectory only if the buffer was kept that way from the start and lr never "
                    "changes; given npae's buffer, a sum of gradients, it steps wrongly"),
            Mistake("an average, not a sum", '''
def sgd_momentum_update(p, g, v, lr, momentum):
    v = momentum * v + (1 - momentum) * g
    return p - lr * v, v
''', "the buffer is an average", "the exponentially weighted average of popular deep-learning "
                    "course notes (PyTorch's dampening = momentum)",
                    "an average of the gradients makes steps 1/(1 - mu) times smaller than npae's sum"),
            Mistake("the old buffer", '''
def sgd_momentum_update(p, g, v, lr, momentum):
    p_new = p - lr * v
    v_new = momentum * v + g
    return p_new, v_new
''', "p moves with the old buffer", "the two lines of the update written in the wrong order",
                    "the step then lags one gradient behind, and the first step (v = 0) does not move p"),
            Mistake("momentum on p", '''
def sgd_momentum_update(p, g, v, lr, momentum):
    v = momentum * p + g
    return p - lr * v, v
''', "multiplies the parameter p", "a slip of one letter, p for v",
                    "mu p acts as a weight decay of strength mu instead of a memory of past gradients"),
        )),
    Exercise(
        name="adam", lesson=f"{PAGE}#adam",
        summary="one step of Adam with bias correction (eps added to sqrt(v_hat))",
        skeleton=ADAM_SKELETON, functions=("adam_update",),
        solution={"adam_update": "npae.optim.adam_update (Adam.step calls it)"},
        grade=_grade_adam, reference=ADAM_REFERENCE,
        mistakes=(
            Mistake("no correction of m", '''
import numpy as np

def adam_update(p, g, m, v, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    v_hat = v / (1 - beta2 ** t)
    return p - lr * m / (np.sqrt(v_hat) + eps), m, v
''', "the first steps are too small: m_hat = m / (1 - beta1^t) is missing",
                    "a bias correction applied to v only, in hand-written optimisers",
                    "m_1 = (1 - beta1) g, so the first step is a tenth of lr with the default beta1"),
            Mistake("no bias correction", '''
import numpy as np

def adam_update(p, g, m, v, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    return p - lr * m / (np.sqrt(v) + eps), m, v
''', "both bias corrections are missing", "Adam as RMSprop with momentum, in tutorials that skip "
                    "the correction as a detail",
                    "v is biased towards 0 far longer than m, so the uncorrected steps are up to 3.16 "
                    "times too large for the first hundreds of steps"),
            Mistake("eps inside the square root", '''
import numpy as np

def adam_update(p, g, m, v, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    m_hat = m / (1 - beta1 ** t)
    v_hat = v / (1 - beta2 ** t)
    return p - lr * m_hat / np.sqrt(v_hat + eps), m, v
''', "eps is inside the square root", "a convention of some other libraries' RMSprop and Adam variants",
                    "sqrt(v_hat + eps) bounds the denominator by sqrt(eps) = 1e-4, not eps: tiny "
                    "gradients then take tiny steps instead of steps of about lr"),
            Mistake("betas swapped", '''
import numpy as np

def adam_update(p, g, m, v, t, lr, beta1, beta2, eps):
    m = beta2 * m + (1 - beta2) * g
    v = beta1 * v + (1 - beta1) * g * g
    m_hat = m / (1 - beta2 ** t)
    v_hat = v / (1 - beta1 ** t)
    return p - lr * m_hat / (np.sqrt(v_hat) + eps), m, v
''', "beta1 and beta2 are swapped", "reading betas=(0.9, 0.999) as (decay of v, decay of m)",
                    "m then forgets slowly and v quickly: the step direction lags while its scale jitters"),
            Mistake("the corrected averages stored", '''
import numpy as np

def adam_update(p, g, m, v, t, lr, beta1, beta2, eps):
    m = (beta1 * m + (1 - beta1) * g) / (1 - beta1 ** t)
    v = (beta2 * v + (1 - beta2) * g * g) / (1 - beta2 ** t)
    return p - lr * m / (np.sqrt(v) + eps), m, v
''', "store the raw averages m and v", "correcting in place, m /= 1 - beta1 ** t, to save a variable",
                    "the next step corrects an already corrected average again"),
        )),
)
