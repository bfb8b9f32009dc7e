"""Exercise of lesson 16: the backward pass of a tied autoencoder, whose decoder uses W^T.

The learner's ``tied_backward`` is the whole backward of a one-hidden-layer tied autoencoder
(sigmoid code, linear output). npae computes the same gradients in pieces: ``dense_backward``
for the encoder's use of ``W``, ``tied_dense_backward`` (which ``TiedDense.backward`` calls) for
the decoder's, and the sum of the two in ``Autoencoder._tied_sum``; the grader compares the
learner's answer with a float64 ``Autoencoder(tied=True)``'s gradients and with central
differences of that model's loss.
"""

from __future__ import annotations

import numpy as np

from ..layers import Sigmoid
from ..losses import mse
from ..models import Autoencoder
from .grading import Exercise, Grader, Mistake

PAGE = "docs/16-stacked-autoencoders.md"
ANCHOR = "the-gradient-is-the-sum-of-the-two-uses"

SKELETON = f'''"""Exercise `tied_weights` ({PAGE}#{ANCHOR}).

Write the backward pass of an autoencoder whose decoder uses the transpose of the encoder's matrix.
    npae exercise check tied_weights
"""

import numpy as np


def tied_backward(dl, x, h, W):
    """The gradients of the loss L with respect to W, b and c, given dl = dL/dl_hat.

    The forward pass, one hidden layer of sigmoid units and a linear output, with one matrix W
    used twice. A Dense layer computes y = x W_layer^T + b; the decoder's W_layer is W^T, so
    the decoder multiplies by W itself:

        a = x W^T + b           (N, H)   the encoder
        h = sigmoid(a)          (N, H)   the code
        l_hat = h W + c         (N, D)   the decoder, W_dec = W^T
        L = loss(l_hat, x)               dl = dL/dl_hat is given

    W reaches L along two paths. Work out the gradient each path gives (the decoder's first,
    then back through the sigmoid to the encoder's), in W's own (H, D) layout, and how the
    two combine. b and c are used once each.

    Parameters
    ----------
    dl : ndarray, shape (N, D)      dL/dl_hat
    x : ndarray, shape (N, D)       the input
    h : ndarray, shape (N, H)       the code sigmoid(x W^T + b) of the forward pass
    W : ndarray, shape (H, D)       the shared matrix

    Returns
    -------
    dW : ndarray, shape (H, D)
    db : ndarray, shape (H,)        the encoder's bias
    dc : ndarray, shape (D,)        the decoder's bias
    """
    raise NotImplementedError
'''

#: (N, D, H): a square W first (where a missing transpose gives numbers, not a shape error),
#: then an undercomplete code, and a batch of one.
CASES = ((5, 4, 4), (6, 7, 3), (1, 5, 2))


def _model(W: np.ndarray, b: np.ndarray, c: np.ndarray) -> Autoencoder:
    """A float64 tied autoencoder D-H-D (sigmoid code, linear output, MSE) holding W, b and c."""
    H, D = W.shape
    model = Autoencoder((D, H), activation="sigmoid", output_activation="identity", loss="mse",
                        tied=True, dtype=np.float64, random_state=0)
    for key, value in (("encoder.0.W", W), ("encoder.0.b", b), ("decoder.0.b", c)):
        model.params[key][...] = value
    return model


def _grade(g: Grader, rng: np.random.Generator) -> None:
    for N, D, H in CASES:
        x, W = rng.uniform(0, 1, size=(N, D)), rng.normal(scale=0.8, size=(H, D))
        b, c = rng.normal(scale=0.5, size=H), rng.normal(scale=0.5, size=D)
        model = _model(W, b, c)
        h = Sigmoid.function(x @ W.T + b)  # (N, H)
        _, dl = mse(h @ W + c, x)  # (N, D): the model's loss, so its gradients are for this dl
        _, _, grads = model.loss_and_grads(x)
        ref = {"dW": grads["encoder.0.W"], "db": grads["encoder.0.b"], "dc": grads["decoder.0.b"]}
        da = (dl @ W.T) * h * (1 - h)  # (N, H): back through the decoder and the sigmoid
        enc, dec = da.T @ x, h.T @ dl  # (H, D) each: the encoder's and the decoder's terms
        wrong_dW = {
            "dW is the encoder's term alone, wrong: the decoder's term h^T dl is missing (W is used "
            "twice, l_hat = h W + c too, and the chain rule adds both uses)": enc,
            "dW is the decoder's term alone: the encoder's term da^T x was overwritten (dW = ... in "
            "place of dW = dW + ...): the two uses add up": dec,
            "the encoder's term is missing the sigmoid's derivative: da = (dl W^T) * h (1 - h)":
                (dl @ W.T).T @ x + dec,
        }
        if D == H:  # the untransposed decoder term only has W's shape when W is square
            wrong_dW["the decoder's term is not transposed: in the untied layout it is dW_dec = dl^T h "
                     "(D, H); the shared W (H, D) gets its transpose, h^T dl"] = enc + dl.T @ h
        shapes = f"N={N}, D={D}, H={H}"
        dW, db, dc = g.call("tied_backward", dl, x, h, W, n_outputs=3)
        g.compare(f"dW against npae's tied Autoencoder, {shapes}", dW, ref["dW"], "dW", mistakes=wrong_dW)
        mean = {1.0 / N: f"N = {N} times too small: a bias's gradient is the sum over the batch, not the "
                "mean (the loss's 1/N is already in dl)"} if N > 1 else {}
        g.compare(f"db against npae, {shapes}", db, ref["db"], "db", factors=mean,
                  mistakes={"db is missing the sigmoid's derivative: db = sum_n da_n, da = (dl W^T) * "
                            "h (1 - h)": (dl @ W.T).sum(axis=0)})
        g.compare(f"dc against npae, {shapes}", dc, ref["dc"], "dc", factors=mean)

        def loss(model=model, x=x) -> float:
            return float(model.loss_and_grads(x)[0])

        g.numeric(f"dW, {shapes}", dW, loss, model.params["encoder.0.W"], "dW", mistakes=wrong_dW)
        g.numeric(f"db, {shapes}", db, loss, model.params["encoder.0.b"], "db", factors=mean)
        g.numeric(f"dc, {shapes}", dc, loss, model.params["decoder.0.b"], "dc", factors=mean)


REFERENCE = '''from npae.layers.dense import dense_backward
from npae.layers.tied import tied_dense_backward


def tied_backward(dl, x, h, W):
    dh, dW_dec_T, dc = tied_dense_backward(dl, h, W)  # the decoder's use: l_hat = h W + c
    _, dW_enc, db = dense_backward(dh * h * (1 - h), x, W, input_grad=False)  # the encoder's
    return dW_enc + dW_dec_T, db, dc  # as Autoencoder._tied_sum: dW = dW_enc + dW_dec^T
'''

EXERCISES = (
    Exercise(
        name="tied_weights", lesson=f"{PAGE}#{ANCHOR}",
        summary="a tied autoencoder's backward: dW = dW_enc + dW_dec^T, the sum of W's two uses",
        skeleton=SKELETON, functions=("tied_backward",),
        solution={"tied_backward": "npae.layers.dense.dense_backward (the encoder's use), "
                                   "npae.layers.tied.tied_dense_backward (the decoder's), summed in "
                                   "npae.models.Autoencoder._tied_sum"},
        grade=_grade, reference=REFERENCE,
        mistakes=(
            Mistake("the decoder's term missing", '''
def tied_backward(dl, x, h, W):
    da = (dl @ W.T) * h * (1 - h)
    return da.T @ x, da.sum(axis=0), dl.sum(axis=0)
''', "the decoder's term h^T dl is missing", "an untied autoencoder's backward reused after tying the "
                    "weights, so the encoder's gradient alone updates W",
                    "W is used twice; each use contributes a term, and the total derivative is their sum"),
            Mistake("the decoder's term not transposed", '''
def tied_backward(dl, x, h, W):
    da = (dl @ W.T) * h * (1 - h)
    dW_enc = da.T @ x
    dW_dec = dl.T @ h
    return dW_enc + dW_dec, da.sum(axis=0), dl.sum(axis=0)
''', "the decoder's term is not transposed", "the untied decoder's Dense gradient dl^T h added as it is",
                    "the decoder uses W^T, so its gradient must be transposed back to W's layout; with "
                    "D != H the shapes refuse to add, with D == H they add wrongly"),
            Mistake("the second use overwrites the first", '''
def tied_backward(dl, x, h, W):
    da = (dl @ W.T) * h * (1 - h)
    dW = da.T @ x
    dW = h.T @ dl
    return dW, da.sum(axis=0), dl.sum(axis=0)
''', "the encoder's term da^T x was overwritten", "a gradient buffer assigned by each use in turn "
                    "(grads[W] = ...) where the second use must add (+=)",
                    "the last use to run its backward wins and the other path's gradient is lost"),
        )),
)
