r"""Optimisers: PyTorch's names and semantics, state kept here and not in the layers.

``opt.step(params, grads)`` updates every array of ``params`` in place; ``params`` and
``grads`` are dicts with the same keys. State (momentum buffers, Adam moments) is keyed by the
parameter names. Derivations: ``docs/04-optimisers.md``.
"""

from __future__ import annotations

import time

import numpy as np

from ._validation import check_float, check_int, check_random_state


def sgd_momentum_update(p: np.ndarray, g: np.ndarray, v: np.ndarray, lr: float, momentum: float
                        ) -> tuple[np.ndarray, np.ndarray]:
    r"""One step of SGD with momentum, PyTorch's convention: ``(p_new, v_new)``.

    .. math::
        v_{new} = \mu\, v + g, \qquad p_{new} = p - lr\; v_{new}

    with ``mu = momentum``. ``v`` starts at zero, so the first step's buffer is ``g`` itself.
    :meth:`SGD.step` calls it for every parameter (without Nesterov). ``p`` is updated in place and
    returned (``p_new is p``: it is the model's live array, and a copy would cost a pass over it);
    ``v_new`` is a new array. Derivation: ``docs/04-optimisers.md`` (SGD).

    Parameters
    ----------
    p, g, v : ndarray, one shape
        The parameter, its gradient (weight decay already added) and the velocity buffer.
    lr, momentum : float
    """
    v = momentum * v + g  # v <- mu v + g: a decaying sum of the gradients
    p -= lr * v  # in place
    return p, v


def adam_update(p: np.ndarray, g: np.ndarray, m: np.ndarray, v: np.ndarray, t: int, lr: float,
                beta1: float, beta2: float, eps: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Step ``t`` (1, 2, ...) of Adam with bias correction: ``(p_new, m_new, v_new)``.

    .. math::
        m_{new} = \beta_1 m + (1 - \beta_1) g, \qquad v_{new} = \beta_2 v + (1 - \beta_2) g^2

        \hat m = \frac{m_{new}}{1 - \beta_1^t}, \qquad \hat v = \frac{v_{new}}{1 - \beta_2^t}, \qquad
        p_{new} = p - lr\, \frac{\hat m}{\sqrt{\hat v} + \epsilon}

    ``eps`` is added to ``sqrt(v_hat)``, outside the root (as PyTorch). :meth:`Adam.step` calls it
    for every parameter. ``p`` is updated in place and returned (``p_new is p``: it is the model's
    live array); the moments are new arrays. Derivation: ``docs/04-optimisers.md`` (Adam).

    Parameters
    ----------
    p, g, m, v : ndarray, one shape
        The parameter, its gradient (weight decay already added) and the two moving averages
        (zero before the first step).
    t : int >= 1
        The step's number, counted from 1.
    lr, beta1, beta2, eps : float
    """
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    m_hat = m / (1 - beta1 ** t)
    v_hat = v / (1 - beta2 ** t)
    p -= lr * m_hat / (np.sqrt(v_hat) + eps)  # in place
    return p, m, v


class Optimizer:
    """Base class: per-parameter state dict, learning rate ``lr``, step counter ``t``."""

    def __init__(self, lr: float) -> None:
        self.lr = check_float(lr, "lr", 0.0, low_inclusive=False)
        self.initial_lr = self.lr  # what a schedule starts from, whatever lr a previous fit left
        self.state: dict[str, dict[str, np.ndarray]] = {}
        self.t = 0

    @property
    def lr(self) -> float:
        """The learning rate of the next step; setting it (by hand or by a schedule) checks it is > 0."""
        return self._lr

    @lr.setter
    def lr(self, value: float) -> None:
        self._lr = check_float(value, "lr", 0.0, low_inclusive=False)  # a negative rate would ascend

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        """Update every ``params[name]`` in place from ``grads[name]``; count the step in ``t``.

        Validated at the door: the first call (``t == 0``), where the optimiser first meets the
        parameters, checks both dicts fully (equal keys, each gradient of its parameter's shape).
        Later calls, one per batch from the training loop with the gradients the layers made,
        only compare the two key sets, and run the full check to report a mismatch.
        """
        if self.t == 0 or params.keys() != grads.keys():
            _check_step_arguments(params, grads)
        self.t += 1
        for name, p in params.items():
            self._update(name, p, grads[name])

    def _update(self, name: str, p: np.ndarray, g: np.ndarray) -> None:
        raise NotImplementedError

    def state_dict(self) -> dict[str, np.ndarray]:
        """The state as a flat dict of arrays (``"{param}/{buffer}"``) plus ``"t"``."""
        flat = {f"{name}/{k}": v for name, bufs in self.state.items() for k, v in bufs.items()}
        flat["t"] = np.array(self.t)
        return flat

    def load_state_dict(self, flat: dict[str, np.ndarray]) -> None:
        """Restore what :meth:`state_dict` returned (arrays are copied)."""
        self.t = int(flat["t"])
        self.state = {}
        for key, v in flat.items():
            if key == "t":
                continue
            name, buf = key.rsplit("/", 1)
            self.state.setdefault(name, {})[buf] = np.array(v, copy=True)


def _check_step_arguments(params, grads) -> None:
    """The door of :meth:`Optimizer.step`: two dicts, the same keys, each gradient ``p``'s shape."""
    if not isinstance(params, dict) or not isinstance(grads, dict):
        raise TypeError(f"params and grads must be dicts of arrays, got {type(params).__name__} and "
                        f"{type(grads).__name__}")
    if params.keys() != grads.keys():
        raise ValueError(f"params and grads must have the same keys; these differ: "
                         f"{sorted(set(params) ^ set(grads))}")
    for name, p in params.items():
        g = grads[name]
        if not isinstance(g, np.ndarray) or g.shape != p.shape:
            got = g.shape if isinstance(g, np.ndarray) else type(g).__name__
            raise ValueError(f"grads[{name!r}] must be an array of shape {p.shape}, got {got}")


class SGD(Optimizer):
    r"""Stochastic gradient descent with optional (Nesterov) momentum and weight decay.

    With ``g = grad + weight_decay * p`` and buffer ``v`` (``v = g`` on the first step):

    .. math::
        v \leftarrow \mu v + g, \qquad
        p \leftarrow p - lr \cdot \begin{cases} g + \mu v & \text{nesterov} \\
                                                 v & \text{otherwise} \end{cases}

    and plain ``p <- p - lr * g`` when ``momentum == 0``. The Nesterov form stores the
    look-ahead point ``p + mu * u`` of the classical ``u <- mu u - lr grad(p + mu u)``; both it
    and the buffer convention are PyTorch's (``torch.optim.SGD``, dampening 0).

    Parameters
    ----------
    lr : float > 0
    momentum : float in [0, 1)
        ``mu``.
    nesterov : bool
        Needs ``momentum > 0``.
    weight_decay : float >= 0
        L2 coefficient added to the gradient of every parameter (biases included).

    ``step(params, grads)`` takes two dicts of equal keys; each ``p`` is updated in place and
    ``v`` (``state[name]["v"]``) has ``p``'s shape. The momentum step without Nesterov is
    :func:`sgd_momentum_update`. Derivation: ``docs/04-optimisers.md``.
    """

    def __init__(self, lr: float, momentum: float = 0.0, nesterov: bool = False,
                 weight_decay: float = 0.0) -> None:
        super().__init__(lr)
        self.momentum = check_float(momentum, "momentum", 0.0, 1.0, high_inclusive=False)
        self.weight_decay = check_float(weight_decay, "weight_decay", 0.0)
        if nesterov and self.momentum == 0:
            raise ValueError("nesterov=True needs momentum > 0, got momentum=0")
        self.nesterov = bool(nesterov)

    def _update(self, name, p, g):
        if self.weight_decay:
            g = g + self.weight_decay * p                   # g = grad + lambda p
        if not self.momentum:
            p -= self.lr * g                                # p <- p - lr g
            return
        if name not in self.state:                          # v_0 = 0, so the first step's v is g
            self.state[name] = {"v": np.zeros_like(p)}
        st = self.state[name]
        if self.nesterov:                                   # v <- mu v + g; p <- p - lr (g + mu v)
            v = st["v"] = self.momentum * st["v"] + g
            p -= self.lr * (g + self.momentum * v)
        else:                                               # v <- mu v + g; p <- p - lr v
            _, st["v"] = sgd_momentum_update(p, g, st["v"], self.lr, self.momentum)  # p in place


class Adam(Optimizer):
    r"""Adam with bias correction (Kingma and Ba 2015), PyTorch's L2-style ``weight_decay``.

    With ``g = grad + weight_decay * p`` and step count ``t``:

    .. math::
        m \leftarrow \beta_1 m + (1 - \beta_1) g, \qquad
        v \leftarrow \beta_2 v + (1 - \beta_2) g^2

        \hat m = \frac{m}{1 - \beta_1^t}, \qquad \hat v = \frac{v}{1 - \beta_2^t}, \qquad
        p \leftarrow p - lr\, \frac{\hat m}{\sqrt{\hat v} + \epsilon}

    ``m`` and ``v`` (``state[name]["m"]``, ``["v"]``) have ``p``'s shape and start at zero. The
    bias correction makes the first step ``lr * g / (|g| + eps)``, about ``lr`` per coordinate.
    The code is these equations line for line (:func:`adam_update`, ``p`` updated in place).
    Folding the corrections into scalars and writing every pass into a scratch buffer each saved
    about 4% of a dense autoencoder's training step, under npae's 10% bar for a faster form
    (``docs/benchmarks.md``).

    Parameters
    ----------
    lr : float > 0
    betas : (float, float) in [0, 1)
        ``beta_1``, ``beta_2``: decay of the two moving averages.
    eps : float >= 0
        Added to ``sqrt(v_hat)``.
    weight_decay : float >= 0
        Coupled L2 (as ``torch.optim.Adam``, not ``AdamW``): added to the gradient.

    Derivation of the bias correction: ``docs/04-optimisers.md``.
    """

    def __init__(self, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0) -> None:
        super().__init__(lr)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(f"betas must be a pair of floats, got {betas!r}")
        self.betas = (check_float(betas[0], "betas[0]", 0.0, 1.0, high_inclusive=False),
                      check_float(betas[1], "betas[1]", 0.0, 1.0, high_inclusive=False))
        self.eps = check_float(eps, "eps", 0.0)
        self.weight_decay = check_float(weight_decay, "weight_decay", 0.0)

    def _update(self, name, p, g):
        b1, b2 = self.betas
        if self.weight_decay:
            g = g + self.weight_decay * p                   # g = grad + lambda p
        if name not in self.state:                          # m_0 = v_0 = 0
            self.state[name] = {"m": np.zeros_like(p), "v": np.zeros_like(p)}
        st = self.state[name]  # p is updated in place; the moments are replaced
        _, st["m"], st["v"] = adam_update(p, g, st["m"], st["v"], self.t, self.lr, b1, b2, self.eps)


# ---------------------------------------------------------------------------- L-BFGS (full batch)
def lbfgs(model, X, max_iter: int = 400, tol: float = 1e-9, callback=None, random_state=None,
          verbose: bool = False) -> dict:
    r"""Minimise a model's whole objective on the full batch ``X`` with L-BFGS (through SciPy).

    This is how the UFLDL exercises train (``minFunc`` with L-BFGS): the objective
    ``J(theta)`` is the model's :meth:`loss_and_grads` on all of ``X``, with every parameter
    array flattened into one float64 vector ``theta``. L-BFGS keeps the last ``m`` pairs

    .. math::
        s_k = \theta_{k+1} - \theta_k, \qquad y_k = \nabla J(\theta_{k+1}) - \nabla J(\theta_k)

    and applies an approximate inverse Hessian ``H_k`` built from them (the two-loop
    recursion) to pick the direction ``d_k = -H_k \nabla J(\theta_k)``; a line search on
    ``J(theta_k + t d_k)`` chooses the step. There is no learning rate. See
    ``docs/04-optimisers.md``.

    The objective must be deterministic for the line search to make sense: a model whose
    loss draws random numbers (noise, sampling) gets a generator re-seeded with the same seed
    at every evaluation, so its noise is frozen for the whole run. A float32 model works
    (SciPy still iterates in float64; the UFLDL exercise reaches the same final cost as in
    float64 to three digits), but its rounding noise (about 1e-7 of J) stops the line search
    before a tight ``tol`` is met: use float64 to converge fully (the returned ``message``
    says why it stopped).

    Parameters
    ----------
    model : BaseAutoencoder
        Anything with a ``params`` dict of live arrays and ``loss_and_grads(X, rng)``.
    X : array_like, shape (N, n_features)
    max_iter : int
        Maximum number of L-BFGS iterations (each needs one or a few evaluations).
    tol : float
        Stop when the relative decrease of ``J`` or the largest gradient entry falls below it
        (SciPy's ``ftol`` and ``gtol``).
    callback : callable, optional
        ``callback(iteration, loss, terms)`` after every iteration; returning ``True`` stops.
    random_state : int, Generator or None
        Seeds the frozen noise (default: drawn from the model's generator).
    verbose : bool
        Print the loss every 25 iterations.

    Returns
    -------
    dict
        ``loss``: the objective after each iteration (the first entry is the starting point),
        one list per loss term under its name, ``n_iter``, ``n_evals``, ``success``,
        ``message`` and ``time`` (seconds). The optimum is written into ``model.params`` in
        place.
    """
    from scipy.optimize import minimize  # here, not at the top: only L-BFGS needs scipy.optimize

    if hasattr(model, "check_labels"):  # a Classifier's loss_and_grads(X, y, rng) needs the labels
        raise TypeError(f"model: lbfgs minimises a loss of X alone (an autoencoder's); a "
                        f"{type(model).__name__} learns from labels, train it with fit(X, y)")
    max_iter = check_int(max_iter, "max_iter", 1)
    tol = check_float(tol, "tol", 0.0, low_inclusive=False)
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable or None, got {type(callback).__name__}")
    X = model._check_X(X) if hasattr(model, "_check_X") else np.asarray(X)
    if random_state is None:
        seed = int(model.rng_.integers(2**63)) if hasattr(model, "rng_") else 0
    else:
        seed = int(check_random_state(random_state).integers(2**63))

    params = model.params  # live arrays, written in place
    keys = list(params)
    sizes = [params[k].size for k in keys]
    offsets = np.cumsum([0] + sizes)

    def unpack(theta: np.ndarray) -> None:
        for k, a, b in zip(keys, offsets[:-1], offsets[1:], strict=True):
            p = params[k]
            p[...] = theta[a:b].reshape(p.shape)  # cast to the model's dtype

    def pack(arrays: dict[str, np.ndarray]) -> np.ndarray:
        return np.concatenate([np.asarray(arrays[k], dtype=np.float64).ravel() for k in keys])

    last = {"theta": None, "loss": None, "terms": None}
    n_evals = 0

    def fun(theta: np.ndarray) -> tuple[float, np.ndarray]:
        nonlocal n_evals
        n_evals += 1
        unpack(theta)
        loss, terms, grads = model.loss_and_grads(X, np.random.default_rng(seed))
        if not np.isfinite(loss):
            bad = [k for k, v in terms.items() if not np.isfinite(v)]
            raise FloatingPointError(f"L-BFGS: loss term(s) {bad} are not finite at evaluation {n_evals}; "
                                     f"the weights are those of the last completed iteration")
        last.update(theta=theta.copy(), loss=float(loss), terms=dict(terms))
        return float(loss), pack(grads)

    history: dict[str, list] = {"loss": []}

    def record(theta: np.ndarray) -> None:
        if last["theta"] is None or not np.array_equal(theta, last["theta"]):
            fun(theta)
        history["loss"].append(last["loss"])
        for k, v in last["terms"].items():
            history.setdefault(k, []).append(v)

    theta0 = pack(params)
    accepted = theta0.copy()
    record(theta0)

    def on_iteration(intermediate_result) -> None:
        theta = intermediate_result.x
        accepted[...] = theta
        record(theta)
        it = len(history["loss"]) - 1
        if verbose and it % 25 == 0:
            print(f"L-BFGS iteration {it:4d}  loss {history['loss'][-1]:.6g}")
        if callback is not None and callback(it, history["loss"][-1], dict(last["terms"])):
            raise StopIteration

    start = time.perf_counter()
    try:
        res = minimize(fun, theta0, jac=True, method="L-BFGS-B", callback=on_iteration,
                       options={"maxiter": max_iter, "ftol": tol, "gtol": tol})
    except FloatingPointError:
        unpack(accepted)
        raise
    unpack(res.x)
    history.update(n_iter=int(res.nit), n_evals=n_evals, success=bool(res.success), message=str(res.message),
                   time=time.perf_counter() - start)
    return history
