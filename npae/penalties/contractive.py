r"""The contractive penalty: the squared Frobenius norm of the encoder's explicit Jacobian.

Derivation (with the second-derivative terms): ``docs/07-contractive.md``.

The encoder is a chain of ``K`` layers, each a ``Dense`` (``u_k = u_{k-1} W_k^T + b_k``) or an
element-wise activation (``u_k = f(u_{k-1})``), with ``u_0 = x`` and ``u_K = h``. Each layer
has a local Jacobian ``J_k = du_k/du_{k-1}``: ``W_k`` for a Dense layer, ``diag(f'(u_{k-1}))``
for an activation. The encoder's Jacobian is their product (chain rule),

.. math:: J = J_K J_{K-1} \cdots J_1 \qquad (\text{latent} \times \text{input, per example})

and the penalty is :math:`\Omega = \frac1N \sum_n \lVert J^{(n)} \rVert_F^2`.

For the gradient write ``J = Q_k J_k P_{k-1}`` with the suffix ``Q_k = J_K ... J_{k+1}``
(``Q_K = I``) and the prefix ``P_{k-1} = J_{k-1} ... J_1`` (``P_0 = I``). With
``G = dOmega/dJ = (2/N) J``:

.. math::
    \frac{\partial \Omega}{\partial J_k} = Q_k^T G P_{k-1}^T = Q_k^T R_{k-1}, \qquad
    R_0 = G,\quad R_k = R_{k-1} J_k^T

- a Dense layer's ``J_k`` *is* ``W_k``: that product is one part of ``dOmega/dW_k``;
- an activation's ``J_k = diag(f'(a))`` (``a = u_{k-1}``) depends on the forward value
  ``a``: ``dOmega/da_i = (Q_k^T R_{k-1})_{ii} f''(a_i)``, which then flows down through
  the ordinary backward pass (``delta``) to the parameters of the layers below, exactly
  like a loss gradient injected at ``a``.

Every array is batched: ``Q_k`` is (N, latent, dim_k), ``R_k`` is (N, latent, dim_k), so
the cost is a few (N*latent) x dim_{k-1} x dim_k matrix products per layer; nothing larger
than the Jacobian itself, (N, latent, input), is formed and there is no finite difference
anywhere. For a one-layer encoder (one Dense, one activation) everything collapses to Rifai et
al.'s closed form, :func:`contractive_one_layer`, which never forms ``J``.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_array, check_choice
from ..layers import Activation, Dense, Sequential


def _layers(encoder: Sequential) -> list:
    """The encoder's layers, checked to be Dense or element-wise activations."""
    if not isinstance(encoder, Sequential):
        raise TypeError(f"encoder must be an npae.layers.Sequential, got {type(encoder).__name__}")
    layers = list(encoder.layers)
    for i, layer in enumerate(layers):
        if not isinstance(layer, (Dense, Activation)):
            raise TypeError(f"encoder.layers[{i}] must be Dense or an element-wise Activation, "
                            f"got {type(layer).__name__}")
    if not any(isinstance(layer, Dense) for layer in layers):
        raise ValueError("encoder must contain at least one Dense layer")
    return layers


def _check_input(encoder: Sequential, x) -> tuple[list, np.ndarray]:
    layers = _layers(encoder)
    first = next(layer for layer in layers if isinstance(layer, Dense))
    x = check_array(x, "x", ndim=2, dtype=first.params["W"].dtype)
    if x.shape[1] != first.in_features:
        raise ValueError(f"x must have shape (N, {first.in_features}), got {x.shape}")
    return layers, x


def _forward(layers: list, x: np.ndarray) -> list[np.ndarray]:
    """Inputs of every layer, ``us[k]`` = input of ``layers[k]`` (no layer caches are touched)."""
    us = [x]
    for layer in layers:
        u = us[-1]
        if isinstance(layer, Dense):
            us.append(u @ layer.params["W"].T + layer.params["b"])  # (N, out)
        else:
            us.append(layer.function(u))
    return us


def _suffixes(layers: list, us: list[np.ndarray]) -> list[np.ndarray]:
    """``Q[k]`` = d(output)/d(input of layers[k]) for every k, shape (N, latent, dim of that input).

    Built from the output down: ``Q_K = I`` and ``Q_{k-1} = Q_k J_k``. ``Q[0]`` is the Jacobian.
    """
    n, latent = us[-1].shape
    Q = np.broadcast_to(np.eye(latent, dtype=us[0].dtype), (n, latent, latent))  # Q_K = I
    suffixes = [Q]
    for k in range(len(layers) - 1, -1, -1):
        layer = layers[k]
        if isinstance(layer, Dense):
            Q = Q @ layer.params["W"]  # (N, latent, out) @ (out, in) -> (N, latent, in)
        else:
            d = layer.derivative(us[k], us[k + 1])  # (N, dim): f'(a)
            Q = Q * d[:, None, :]  # Q diag(f'(a)), (N, latent, dim)
        suffixes.append(Q)
    return suffixes[::-1]  # suffixes[k] = Q after layers[k:] (input side k), suffixes[K] = I


def jacobian(encoder: Sequential, x) -> np.ndarray:
    r"""The explicit Jacobian ``J[n] = dh/dx`` of the encoder at every row of ``x``.

    .. math:: J = J_K \cdots J_1, \qquad J_k = W_k \text{ (Dense)}, \quad
              J_k = \mathrm{diag}(f'(a)) \text{ (activation at its input } a)

    Parameters
    ----------
    encoder : Sequential
        Dense layers and element-wise activations.
    x : array_like, shape (N, input)

    Returns
    -------
    J : ndarray, shape (N, latent, input)
    """
    layers, x = _check_input(encoder, x)
    us = _forward(layers, x)
    return np.ascontiguousarray(_suffixes(layers, us)[0])


def is_one_layer(layers: list) -> bool:
    """True for an encoder ``[Dense, activation]``, where the closed form applies."""
    return len(layers) == 2 and isinstance(layers[0], Dense) and isinstance(layers[1], Activation)


def layer_inputs(encoder: Sequential) -> list[np.ndarray]:
    """``[u_0, ..., u_K]``: the input of every layer as its last forward cached it, then the output.

    ``u_0 = x`` and ``u_K = h``; for ``[Dense, activation]`` that is ``[x, a, h]``. Lets a model's
    step reuse the activations of its forward pass instead of running the encoder again.
    """
    return [layer._x for layer in encoder.layers] + [encoder.layers[-1]._y]


def contractive(encoder: Sequential, x, method: str = "auto") -> tuple[float, dict[str, np.ndarray]]:
    r"""The contractive penalty and its gradient with respect to every encoder parameter.

    .. math::
        \Omega = \frac{1}{N} \sum_n \lVert J^{(n)} \rVert_F^2
               = \frac{1}{N} \sum_n \sum_{i,j} \Big(\frac{\partial h^{(n)}_i}{\partial x^{(n)}_j}\Big)^2

    The public entry point: checks ``encoder`` and ``x``, runs the encoder's forward map (without
    touching its caches) and calls :func:`contractive_chain_rule` or, for one Dense layer and one
    activation, :func:`contractive_closed_form` (``method="auto"``, which costs
    O(N * hidden * input) instead of O(N * hidden^2 * input)).

    Parameters
    ----------
    encoder : Sequential
        Dense layers and element-wise activations.
    x : array_like, shape (N, input)
    method : {"auto", "chain", "closed_form"}

    Returns
    -------
    value : float
    grads : dict
        Same keys and shapes as ``encoder.params`` (``"0.W"``, ``"0.b"``, ...).
    """
    layers, x = _check_input(encoder, x)
    check_choice(method, "method", ("auto", "chain", "closed_form"))
    one_layer = is_one_layer(layers)
    if method == "closed_form" and not one_layer:
        raise ValueError(f"method='closed_form' needs one Dense and one activation, got layers {layers}")
    us = _forward(layers, x)  # us[k]: input of layers[k]; us[K] = h
    if method != "chain" and one_layer:
        return contractive_closed_form(layers[0], layers[1], *us)
    return contractive_chain_rule(layers, us)


def contractive_chain_rule(layers: list, us: list[np.ndarray]) -> tuple[float, dict[str, np.ndarray]]:
    r"""The contractive penalty of any chain of Dense layers and activations, by the chain rule.

    ``us[k]`` is the input of ``layers[k]`` (N, dim_k) and ``us[-1] = h``. Backward
    (``docs/07-contractive.md``), with ``G = (2/N) J``, ``R_0 = G``, ``R_k = R_{k-1} J_k^T``
    and the suffixes ``Q_k``; ``delta`` is the ordinary backward signal (zero at the output:
    ``Omega`` does not depend on ``h`` itself):

    .. math::
        \text{activation } k:\quad c = \mathrm{diag}(Q_k^T R_{k-1}), \qquad
            \delta \leftarrow \delta \odot f'(a) + c \odot f''(a)

        \text{Dense } k:\quad \frac{\partial\Omega}{\partial W_k} = \sum_n Q_k^T R_{k-1}
            + \delta^T u_{k-1}, \qquad \frac{\partial\Omega}{\partial b_k} = \sum_n \delta,
            \qquad \delta \leftarrow \delta W_k

    Returns ``(value, grads)``, ``grads`` keyed ``"{k}.W"``, ``"{k}.b"`` like ``Sequential.params``.
    """
    n = us[0].shape[0]
    Q = _suffixes(layers, us)  # Q[k]: (N, latent, dim of us[k]); Q[0] = J
    J = Q[0]  # (N, latent, input)
    value = float(np.sum(np.square(J), dtype=np.float64)) / n

    # 1. Jacobian path, from the input up: R_0 = G = (2/N) J, R_k = R_{k-1} J_k^T.
    #    Here k counts from 0 (layers[k] is the docstring's layer k + 1): Dense k collects
    #    sum_n Q_{k+1}^T R_k (Q[k+1] is the suffix above layer k); activation k collects
    #    c = diag(Q_{k+1}^T R_k), dOmega/df'(a).
    R = (2.0 / n) * J  # (N, latent, input)
    jac_grad_W: dict[int, np.ndarray] = {}
    c: dict[int, np.ndarray] = {}
    latent = J.shape[1]
    for k, layer in enumerate(layers):
        Qk = Q[k + 1]  # (N, latent, dim_out of layer k)
        if isinstance(layer, Dense):
            # sum_n Q^T R: (out, N*latent) @ (N*latent, in) -> (out, in)
            jac_grad_W[k] = Qk.reshape(n * latent, -1).T @ R.reshape(n * latent, -1)
            R = R @ layer.params["W"].T  # (N, latent, in) @ (in, out) -> (N, latent, out)
        else:
            c[k] = np.einsum("nli,nli->ni", Qk, R)  # (N, dim): diagonal of Q^T R per example
            R = R * layer.derivative(us[k], us[k + 1])[:, None, :]  # R diag(f'(a))

    # 2. Ordinary backward from the top, with c * f''(a) injected at every activation.
    grads: dict[str, np.ndarray] = {}
    delta = np.zeros_like(us[-1])  # (N, latent): Omega does not depend on h directly
    for k in range(len(layers) - 1, -1, -1):
        layer = layers[k]
        a, y = us[k], us[k + 1]
        if isinstance(layer, Dense):
            grads[f"{k}.W"] = jac_grad_W[k] + delta.T @ a  # (out, in)
            grads[f"{k}.b"] = delta.sum(axis=0)  # (out,)
            delta = delta @ layer.params["W"]  # (N, in)
        else:
            delta = delta * layer.derivative(a, y) + c[k] * layer.second_derivative(a, y)
    return value, {key: g.astype(us[0].dtype, copy=False) for key, g in grads.items()}


def contractive_one_layer(dense: Dense, activation: Activation, x
                          ) -> tuple[float, dict[str, np.ndarray]]:
    """:func:`contractive_closed_form` for ``h = f(x W^T + b)`` at ``x`` (checked, forward run here)."""
    _, x = _check_input(Sequential(dense, activation), x)
    a = x @ dense.params["W"].T + dense.params["b"]  # (N, J)
    return contractive_closed_form(dense, activation, x, a, activation.function(a))


def contractive_closed_form(dense: Dense, activation: Activation, x: np.ndarray, a: np.ndarray,
                            h: np.ndarray) -> tuple[float, dict[str, np.ndarray]]:
    r"""Closed form for a one-layer encoder ``h = f(a)``, ``a = x W^T + b`` (Rifai et al. 2011).

    With ``s = f'(a)`` (N, J), ``t = f''(a)`` and the squared row norms ``w_i = sum_j W_ij^2``:

    .. math::
        \Omega = \frac1N \sum_n \sum_i s_{ni}^2 w_i, \qquad
        r_{ni} = \frac{\partial \Omega}{\partial a_{ni}} = \frac2N s_{ni} t_{ni} w_i

        \frac{\partial \Omega}{\partial W_{ij}} = \frac2N \sum_n s_{ni}^2 W_{ij} + \sum_n r_{ni} x_{nj},
        \qquad \frac{\partial \Omega}{\partial b_i} = \sum_n r_{ni}

    For the sigmoid ``s = h (1 - h)`` and ``t = s (1 - 2h)``: the penalty is
    ``(1/N) sum_n sum_i (h_i (1 - h_i))^2 sum_j W_ij^2``. ``x`` (N, D), ``a`` and ``h`` (N, J)
    are the forward pass's values. Cost O(N * J * D); no Jacobian is formed. Returns
    ``(value, {"0.W": (J, D), "0.b": (J,)})``.
    """
    n = x.shape[0]
    W = dense.params["W"]  # (J, D)
    s = activation.derivative(a, h)  # f'(a), (N, J)
    t = activation.second_derivative(a, h)  # f''(a), (N, J)
    w = np.sum(W * W, axis=1)  # (J,)
    s2_mean = np.mean(s * s, axis=0)  # (J,): (1/N) sum_n s_ni^2
    value = float(s2_mean @ w)
    r = (2.0 / n) * s * t * w  # (N, J): dOmega/da
    grads = {"0.W": 2 * s2_mean[:, None] * W + r.T @ x,  # (J, D)
             "0.b": r.sum(axis=0)}  # (J,)
    return value, {k: g.astype(x.dtype, copy=False) for k, g in grads.items()}


__all__ = ["contractive", "contractive_chain_rule", "contractive_closed_form", "contractive_one_layer",
           "is_one_layer", "jacobian", "layer_inputs"]
