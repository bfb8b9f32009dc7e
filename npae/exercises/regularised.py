"""Exercises of lessons 06 and 07: one training step of a denoising autoencoder, and the contractive penalty.

``denoising_step`` is graded against npae's own :class:`~npae.models.DenoisingAutoencoder` (a
one-hidden-layer sigmoid network with ``loss="bce"``, float64), whose ``loss_and_grads`` draws
``x_tilde`` from a seeded generator: the learner gets that same ``x_tilde``. ``contractive_penalty``
is graded against :func:`npae.penalties.contractive.contractive_one_layer` (Rifai's closed form) on a
Dense layer holding the learner's ``W`` and ``b``. Both also against central differences.
"""

from __future__ import annotations

import numpy as np

from ..layers import Dense, Sigmoid
from ..models import Autoencoder, DenoisingAutoencoder
from ..penalties.contractive import contractive_one_layer
from .grading import Exercise, Grader, Mistake

DAE_PAGE = "docs/06-denoising.md"
CAE_PAGE = "docs/07-contractive.md"
CAE_ANCHOR = "one-layer-rifais-closed-form-contractive_closed_form"

# ---------------------------------------------------------------------------- denoising_step
DAE_SKELETON = f'''"""Exercise `denoising_step` ({DAE_PAGE}#the-objective, {DAE_PAGE}#the-gradient).

Write one training step of a denoising autoencoder: the loss and the gradient of every parameter.
    npae exercise check denoising_step
"""

import numpy as np


def denoising_step(x, x_tilde, W1, b1, W2, b2):
    """The loss of a one-hidden-layer denoising autoencoder on a batch, and its gradients.

    The network of Vincent et al. (2008): a sigmoid code, a sigmoid output, the cross-entropy.
    The encoder sees the corrupted input x_tilde (drawn for you, e.g. with npae.noise):

        h = sigmoid(x_tilde W1^T + b1)            the code, shape (N, H)
        l = h W2^T + b2                           the output's logits, shape (N, D)
        x_hat = sigmoid(l)                        the reconstruction
        loss = mean over the N*D entries of  -[x log(x_hat) + (1 - x) log(1 - x_hat)]

    Write the loss from the logits, max(l, 0) - l x + log(1 + exp(-|l|)) per entry, so that it
    stays finite when the sigmoid saturates. Then derive dloss/dl and go back through the
    decoder and the encoder (the chain rule of docs/01 and docs/02). The corruption does not depend
    on the parameters: x_tilde is a constant of the backward pass.

    Parameters
    ----------
    x : ndarray, shape (N, D)         the clean inputs, in [0, 1]
    x_tilde : ndarray, shape (N, D)   their corrupted copies
    W1 : ndarray, shape (H, D)        encoder weights     b1 : ndarray, shape (H,)
    W2 : ndarray, shape (D, H)        decoder weights     b2 : ndarray, shape (D,)

    Returns
    -------
    loss : float
    dW1 : ndarray, shape (H, D)       db1 : ndarray, shape (H,)
    dW2 : ndarray, shape (D, H)       db2 : ndarray, shape (D,)
    """
    raise NotImplementedError
'''

DAE_CASES = ((5, 6, 3), (1, 4, 2), (4, 4, 4))  # (N, D, H): non-square, a batch of 1, square
DAE_NOISE, DAE_LEVEL = "masking", 0.3


def _dae_model(W1, b1, W2, b2) -> DenoisingAutoencoder:
    """npae's DAE with the learner's parameters: D-H-D, sigmoid code, sigmoid output, BCE, masking noise."""
    H, D = W1.shape
    model = DenoisingAutoencoder((D, H), activation="sigmoid", output_activation="sigmoid", loss="bce",
                                 noise=DAE_NOISE, noise_level=DAE_LEVEL, random_state=0, dtype=np.float64)
    _set(model, W1, b1, W2, b2)
    return model


def _set(model, W1, b1, W2, b2) -> None:
    for key, value in zip(("encoder.0.W", "encoder.0.b", "decoder.0.W", "decoder.0.b"), (W1, b1, W2, b2),
                          strict=True):
        model.params[key][...] = value


def _plain_step(X, W1, b1, W2, b2) -> tuple[float, list[np.ndarray]]:
    """The plain autoencoder's loss and gradients (input and target ``X``): npae's Autoencoder."""
    H, D = W1.shape
    model = Autoencoder((D, H), activation="sigmoid", output_activation="sigmoid", loss="bce", random_state=0,
                        dtype=np.float64)
    _set(model, W1, b1, W2, b2)
    loss, _, grads = model.loss_and_grads(X)
    return loss, [grads[k] for k in ("encoder.0.W", "encoder.0.b", "decoder.0.W", "decoder.0.b")]


def _grade_denoising_step(g: Grader, rng: np.random.Generator) -> None:
    names = ("dW1", "db1", "dW2", "db2")
    for i, (N, D, H) in enumerate(DAE_CASES + ((3, 5, 2),)):
        extreme = i == len(DAE_CASES)  # decoder weights so large that the logits reach about +-500
        x = rng.uniform(0.0, 1.0, size=(N, D))
        W1, b1 = rng.normal(size=(H, D)), rng.normal(size=H)
        W2, b2 = rng.normal(size=(D, H)) * (300.0 if extreme else 1.0), rng.normal(size=D)
        model = _dae_model(W1, b1, W2, b2)
        seed = int(rng.integers(2 ** 31))
        x_tilde = model.corrupt(x, np.random.default_rng(seed))  # the draw loss_and_grads makes
        ref_loss, _, grads = model.loss_and_grads(x, np.random.default_rng(seed))
        ref = [grads[k].copy() for k in ("encoder.0.W", "encoder.0.b", "decoder.0.W", "decoder.0.b")]
        shapes = f"N={N}, D={D}, H={H}" + (", logits of about +-500" if extreme else "")
        got = g.call("denoising_step", x, x_tilde, W1, b1, W2, b2, n_outputs=5)

        # the wrong answers: the target x_tilde, the encoder fed x, dW1 from x instead of x_tilde
        noisy_target = _plain_step(x_tilde, W1, b1, W2, b2)
        plain = _plain_step(x, W1, b1, W2, b2)
        h = 1.0 / (1.0 + np.exp(-(x_tilde @ W1.T + b1)))  # (N, H)
        delta = _encoder_delta(x, x_tilde, h, W2, b2)  # (N, H): dloss/d(pre-activation of the code)
        messages = {
            "target": "the loss compares the reconstruction with the corrupted x_tilde: compare with the "
                      "clean "
                      "x (the network must undo the noise, not reproduce it)",
            "input": "the encoder was fed the clean x: the code is computed from the corrupted x_tilde "
                     "(this is the plain autoencoder's step)"}
        batch = {float(D): f"the cross-entropy is summed over the pixels (D = {D}): npae's loss='bce' "
                 "averages over all N*D entries",
                 float(N * D): f"the cross-entropy is summed over all N*D = {N * D} entries: average it"}
        g.compare(f"loss against npae, {shapes}", got[0], ref_loss, "loss", factors=batch,
                  mistakes={messages["target"]: noisy_target[0], messages["input"]: plain[0]})
        hints = []
        for k, (name, value, expected) in enumerate(zip(names, got[1:], ref, strict=True)):
            mistakes = {messages["target"]: noisy_target[1][k], messages["input"]: plain[1][k]}
            if name == "dW1":
                mistakes[f"{name} uses the clean x: the encoder's input was x_tilde, so dW1 = delta1^T "
                         "x_tilde "
                         "(delta1 = dloss/d(x_tilde W1^T + b1))"] = delta.T @ x
            hints.append({"mistakes": mistakes, "factors": batch})
            g.compare(f"{name} against npae, {shapes}", value, expected, name, **hints[-1])
        if extreme:
            continue
        params = (W1, b1, W2, b2)
        for name, value, p, hint in zip(names, got[1:], params, hints, strict=True):
            def loss(params=params, x=x, seed=seed) -> float:
                m = _dae_model(*params)
                return m.loss_and_grads(x, np.random.default_rng(seed))[0]

            g.numeric(f"{name}, {shapes}", value, loss, p, name, **hint)


def _encoder_delta(x, x_tilde, h, W2, b2) -> np.ndarray:
    """``dloss/da1`` (N, H) of the denoising loss, ``a1 = x_tilde W1^T + b1``: for the dW1-from-x mistake."""
    logits = h @ W2.T + b2  # (N, D)
    dl = (1.0 / (1.0 + np.exp(-logits)) - x) / x.size  # (N, D): BCE averaged over N*D entries
    return (dl @ W2) * h * (1.0 - h)  # (N, H)


# ---------------------------------------------------------------------------- contractive_penalty
CAE_SKELETON = f'''"""Exercise `contractive_penalty` ({CAE_PAGE}#{CAE_ANCHOR}).

Write the contractive penalty of one sigmoid layer in Rifai's closed form, and its gradient.
    npae exercise check contractive_penalty
"""

import numpy as np


def contractive_penalty(x, W, b):
    """Omega = (1/N) sum_n ||dh/dx||_F^2 for the code h = sigmoid(x W^T + b), and its gradient.

    For one example the Jacobian of the code is J = diag(s) W with s = h (1 - h), the sigmoid's
    derivative, so
        ||J||_F^2 = sum_j s_j^2 sum_i W[j, i]^2 = sum_j (h_j (1 - h_j))^2 ||W[j, :]||^2
    and Omega is its mean over the N examples of the batch.

    Omega depends on W twice: through the row norms ||W[j, :]||^2, and through s, which depends on
    the pre-activation a = x W^T + b. Differentiate both (the product rule); ds/da is the sigmoid's
    second derivative. b enters only through a.

    Parameters
    ----------
    x : ndarray, shape (N, D)    a batch of inputs
    W : ndarray, shape (H, D)    the encoder's weights
    b : ndarray, shape (H,)      the encoder's biases

    Returns
    -------
    value : float                Omega
    dW : ndarray, shape (H, D)   dOmega/dW
    db : ndarray, shape (H,)     dOmega/db
    """
    raise NotImplementedError
'''

CAE_CASES = ((5, 4, 3), (1, 6, 2), (4, 3, 3))  # (N, D, H): non-square, a batch of 1, a square W


def _cae(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """npae's closed form on a Dense layer holding ``W`` and ``b`` (the arrays themselves, not copies)."""
    dense = Dense(W.shape[1], W.shape[0], rng=np.random.default_rng(0), dtype=np.float64)
    dense.params["W"][...] = W
    dense.params["b"][...] = b
    value, grads = contractive_one_layer(dense, Sigmoid(), x)
    return value, grads["0.W"], grads["0.b"]


def _grade_contractive_penalty(g: Grader, rng: np.random.Generator) -> None:
    for N, D, H in CAE_CASES:
        x, W, b = rng.normal(size=(N, D)), rng.normal(size=(H, D)), rng.normal(size=H)
        shapes = f"N={N}, D={D}, H={H}"
        value, dW, db = g.call("contractive_penalty", x, W, b, n_outputs=3)
        ref_value, ref_dW, ref_db = _cae(x, W, b)
        h = 1.0 / (1.0 + np.exp(-(x @ W.T + b)))  # (N, H)
        s = h * (1.0 - h)  # (N, H): the sigmoid's derivative
        w = np.sum(W * W, axis=1)  # (H,): squared row norms
        direct = 2.0 * np.mean(s * s, axis=0)[:, None] * W  # (H, D): the term through ||W_j||^2
        r_first = (2.0 / N) * s * s * w  # (N, H): dOmega/da with h (1 - h) taken for ds/da
        r_unsquared = s * (1.0 - 2.0 * h) * w / N  # (N, H): d/da of the unsquared (1/N) sum_j s_j w_j
        unsquared = "uses h (1 - h) unsquared: ||J||_F^2 = sum_j (h_j (1 - h_j))^2 ||W_j||^2"
        batch = {float(N): f"Omega is the mean over the batch (N = {N}), not the sum"} \
            if N > 1 else {}
        g.compare(f"value against npae, {shapes}", value, ref_value, "value", factors=batch, mistakes={
            "value is ||W||_F^2 alone: the Jacobian is diag(h (1 - h)) W, so each row's squared norm is "
            "weighted by the sigmoid's derivative squared, (h_j (1 - h_j))^2": float(np.sum(W * W)),
            f"value {unsquared}": float(np.mean(s @ w))})
        dW_mistakes = {
            "dW has only the term through the row norms, 2 mean_n(s^2) W: Omega also depends on W through "
            "s = h (1 - h), i.e. through a = x W^T + b; add sum_n r_n^T x_n with r = dOmega/da": direct,
            "dW is 2 W, the gradient of ||W||_F^2: the penalty is weighted by (h (1 - h))^2": 2 * W,
            "dW takes h (1 - h) for ds/da: the derivative of s = h (1 - h) with respect to a is "
            "s (1 - 2h), the sigmoid's second derivative": direct + r_first.T @ x,
            f"dW {unsquared}": 2.0 * np.mean(s, axis=0)[:, None] * W + r_unsquared.T @ x}
        db_mistakes = {
            "db is zero: b moves the pre-activation a, hence s = h (1 - h); db = sum_n dOmega/da_n":
                np.zeros_like(b),
            "db takes h (1 - h) for ds/da: the derivative of s = h (1 - h) with respect to a is "
            "s (1 - 2h), the sigmoid's second derivative": r_first.sum(axis=0),
            f"db {unsquared}": r_unsquared.sum(axis=0)}
        if D == H:  # a square W: the second term transposed keeps the shape
            r = (2.0 / N) * s * s * (1.0 - 2.0 * h) * w  # (N, H): dOmega/da
            dW_mistakes["dW's term through a is transposed: dOmega/dW_ji = sum_n r_nj x_ni, i.e. r^T x of "
                        "shape (H, D), with r = dOmega/da"] = direct + x.T @ r
        g.compare(f"dW against npae, {shapes}", dW, ref_dW, "dW", factors=batch, mistakes=dW_mistakes)
        g.compare(f"db against npae, {shapes}", db, ref_db, "db", factors=batch, mistakes=db_mistakes)
        g.numeric(f"dW, {shapes}", dW, lambda x=x, W=W, b=b: _cae(x, W, b)[0], W, "dW", factors=batch,
                  mistakes=dW_mistakes)
        g.numeric(f"db, {shapes}", db, lambda x=x, W=W, b=b: _cae(x, W, b)[0], b, "db", factors=batch,
                  mistakes=db_mistakes)


# ---------------------------------------------------------------------------- the catalogue
DAE_HEAD = '''import numpy as np


def sigmoid(a):
    return 0.5 * (1 + np.tanh(0.5 * a))


def bce(logits, target):
    return np.mean(np.maximum(logits, 0) - logits * target + np.log1p(np.exp(-np.abs(logits))))


def denoising_step(x, x_tilde, W1, b1, W2, b2):
'''


def _dae_mistake(encoder_input: str, target: str, dW1_input: str, loss: str = "bce({l}, {t})",
                 scale: str = "x.size") -> str:
    return DAE_HEAD + f'''    h = sigmoid({encoder_input} @ W1.T + b1)
    logits = h @ W2.T + b2
    loss = {loss.format(l="logits", t=target)}
    dl = (sigmoid(logits) - {target}) / {scale}
    dW2, db2 = dl.T @ h, dl.sum(axis=0)
    da = (dl @ W2) * h * (1 - h)
    return loss, da.T @ {dW1_input}, da.sum(axis=0), dW2, db2
'''


CAE_HEAD = '''import numpy as np


def contractive_penalty(x, W, b):
    N = len(x)
    h = 1 / (1 + np.exp(-(x @ W.T + b)))
    s = h * (1 - h)
    w = np.sum(W ** 2, axis=1)
'''

EXERCISES = (
    Exercise(
        name="denoising_step", lesson=f"{DAE_PAGE}#the-gradient",
        summary="one step of a denoising autoencoder: the code from x_tilde, the loss against the clean x, "
                "the gradients",
        skeleton=DAE_SKELETON, functions=("denoising_step",),
        solution={"denoising_step": "npae.models.denoising.DenoisingMixin._forward_backward"},
        grade=_grade_denoising_step,
        reference='''import numpy as np

from npae.models import DenoisingAutoencoder


def denoising_step(x, x_tilde, W1, b1, W2, b2):
    model = DenoisingAutoencoder((x.shape[1], W1.shape[0]), activation="sigmoid", output_activation="sigmoid",
                                 loss="bce", dtype=np.float64)
    for key, value in zip(("encoder.0.W", "encoder.0.b", "decoder.0.W", "decoder.0.b"), (W1, b1, W2, b2)):
        model.params[key][...] = value
    model._corrupt = lambda X, rng: x_tilde  # npae's step, with the corruption already drawn
    loss, _, grads = model.loss_and_grads(x)
    return (loss, *(grads[k] for k in ("encoder.0.W", "encoder.0.b", "decoder.0.W", "decoder.0.b")))
''',
        mistakes=(
            Mistake("loss against x_tilde", _dae_mistake("x_tilde", "x_tilde", "x_tilde"),
                    "compare with the clean x",
                    "a denoising step written from a plain autoencoder's, where input and target are one "
                    "array",
                    "the network is then rewarded for reproducing the noise it was given: a plain "
                    "autoencoder of noisy data, which learns no denoising"),
            Mistake("dW1 from the clean x", _dae_mistake("x_tilde", "x", "x"), "dW1 uses the clean x",
                    "backward code that reuses the batch variable X for the encoder's input",
                    "the first layer's gradient is delta1^T times the input that layer saw, x_tilde"),
            Mistake("encoder fed the clean x", _dae_mistake("x", "x", "x"), "the encoder was fed the clean x",
                    "corrupting the batch and then passing the original array to the encoder",
                    "without the corruption on the way in, this is the plain autoencoder: nothing to "
                    "denoise"),
            Mistake("cross-entropy summed over the pixels", _dae_mistake(
                "x_tilde", "x", "x_tilde", loss="bce({l}, {t}) * x.shape[1]", scale="len(x)"),
                    "summed over the pixels", "the sum over pixels of a VAE's likelihood carried over to an "
                    "autoencoder whose loss is a mean", "the loss is D times larger than npae's mean over "
                    "N*D entries (with Adam this changes little; with SGD it is a D times larger step)"),
            Mistake("the cross-entropy from the probabilities", '''import numpy as np


def denoising_step(x, x_tilde, W1, b1, W2, b2):
    h = 1 / (1 + np.exp(-(x_tilde @ W1.T + b1)))
    x_hat = 1 / (1 + np.exp(-(h @ W2.T + b2)))
    loss = -np.mean(x * np.log(x_hat) + (1 - x) * np.log(1 - x_hat))
    dl = (x_hat - x) / x.size
    da = (dl @ W2) * h * (1 - h)
    return loss, da.T @ x_tilde, da.sum(axis=0), dl.T @ h, dl.sum(axis=0)
''', "use the stable form", "the textbook cross-entropy on x_hat = sigmoid(l), written as it reads",
                    "a saturated sigmoid gives x_hat = 1.0 exactly, and log(1 - x_hat) = -inf"),
        )),
    Exercise(
        name="contractive_penalty", lesson=f"{CAE_PAGE}#{CAE_ANCHOR}",
        summary="Rifai's closed-form contractive penalty of one sigmoid layer, mean_n ||dh/dx||_F^2, "
                "and its gradient",
        skeleton=CAE_SKELETON, functions=("contractive_penalty",),
        solution={"contractive_penalty": "npae.penalties.contractive.contractive_closed_form"},
        grade=_grade_contractive_penalty,
        reference='''import numpy as np

from npae.layers import Dense, Sigmoid
from npae.penalties.contractive import contractive_one_layer


def contractive_penalty(x, W, b):
    dense = Dense(W.shape[1], W.shape[0], dtype=np.float64)
    dense.params["W"][...], dense.params["b"][...] = W, b
    value, grads = contractive_one_layer(dense, Sigmoid(), x)
    return value, grads["0.W"], grads["0.b"]
''',
        mistakes=(
            Mistake("no activation derivative", '''import numpy as np


def contractive_penalty(x, W, b):
    return np.sum(W ** 2), 2 * W, np.zeros_like(b)
''', "value is ||W||_F^2 alone", "published code that penalises the weights' norm as the \"contractive\" "
                    "term, i.e. weight decay under another name",
                    "the Jacobian of h = sigmoid(a) is diag(h (1 - h)) W: without the activation's "
                    "derivative the penalty is independent of the data"),
            Mistake("dW without the term through h", CAE_HEAD + '''    value = np.sum(s ** 2 * w) / N
    dW = 2 * np.mean(s ** 2, axis=0)[:, None] * W
    return value, dW, np.zeros_like(b)
''', "dW has only the term through the row norms", "differentiating s_j^2 ||W_j||^2 as if s_j were a "
                    "constant",
                    "s = h (1 - h) depends on W through a = x W^T + b: the product rule gives a second term, "
                    "and b's whole gradient"),
            Mistake("the batch sum", CAE_HEAD + '''    t = s * (1 - 2 * h)
    r = 2 * s * t * w
    value = np.sum(s ** 2 * w)
    return value, 2 * np.sum(s ** 2, axis=0)[:, None] * W + r.T @ x, r.sum(axis=0)
''', "Omega is the mean over the batch", "a penalty summed over the batch beside a reconstruction "
                    "averaged over it",
                    "the 1/N missing makes the penalty's weight lam grow with the batch size"),
            Mistake("s not squared", CAE_HEAD + '''    t = s * (1 - 2 * h)
    r = t * w / N
    value = np.sum(s * w) / N
    return value, np.mean(s, axis=0)[:, None] * 2 * W + r.T @ x, r.sum(axis=0)
''', "h (1 - h) unsquared", "forgetting that each Jacobian entry s_j W_ji is squared, s_j included",
                    "||diag(s) W||_F^2 = sum_j s_j^2 ||W_j||^2"),
            Mistake("ds/da taken as h(1-h)", CAE_HEAD + '''    r = 2 * s * s * w / N
    value = np.sum(s ** 2 * w) / N
    return value, 2 * np.mean(s ** 2, axis=0)[:, None] * W + r.T @ x, r.sum(axis=0)
''', "the sigmoid's second derivative", "reusing the sigmoid's derivative where its derivative's derivative "
                    "is needed", "ds/da = d(h (1 - h))/da = (1 - 2h) h (1 - h) = s (1 - 2h)"),
        )),
)
