"""Exercises of lesson 01: the Dense layer's forward and backward, and three activations' backward.

Each ``_grade_*`` function draws inputs (a batch of 1, non-square and square matrices), calls the
learner's functions through the :class:`~npae.exercises.grading.Grader` and compares them with npae's
(``npae.layers.dense.dense_forward``/``dense_backward``, the activations' ``derivative``) and with
central differences of npae's forward.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import numpy as np

from ..datasets import natural_patches
from ..layers import ReLU, Sigmoid, Tanh
from ..layers.dense import dense_backward, dense_forward
from ..models import Autoencoder
from ..optim import Adam
from ..plotting import image_grid
from .grading import Exercise, Grader, Mistake, side_by_side

PAGE = "docs/01-dense-and-activations.md"

# ---------------------------------------------------------------------------- dense
DENSE_SKELETON = f'''"""Exercise `dense` ({PAGE}#dense-y--x--wt--b).

Write the forward and the backward pass of a fully connected layer on a batch of rows.
    npae exercise check dense          grades it
    npae exercise check dense --run    trains an autoencoder with your layer, beside npae's
"""

import numpy as np


def dense_forward(x, W, b):
    """y = x W^T + b, for every row of x at once.

    Parameters
    ----------
    x : ndarray, shape (N, in)      a batch of N input rows
    W : ndarray, shape (out, in)    the weights (one row per output unit)
    b : ndarray, shape (out,)       the biases

    Returns
    -------
    y : ndarray, shape (N, out)
    """
    raise NotImplementedError


def dense_backward(dy, x, W):
    """The gradients of the loss L with respect to x, W and b, given dy = dL/dy.

    Start from one entry, y[n, k] = sum_i x[n, i] W[k, i] + b[k], apply the chain rule
    dL/dW[k, i] = sum_n dL/dy[n, k] dy[n, k]/dW[k, i], then write each sum as a matrix product.
    The shapes tell you where the transposes go. (The layer does not average over the batch:
    any 1/N belongs to the loss, which is already inside dy.)

    Parameters
    ----------
    dy : ndarray, shape (N, out)    dL/dy
    x : ndarray, shape (N, in)      the input that forward was given
    W : ndarray, shape (out, in)

    Returns
    -------
    dx : ndarray, shape (N, in)
    dW : ndarray, shape (out, in)
    db : ndarray, shape (out,)
    """
    raise NotImplementedError
'''

DENSE_CASES = ((4, 3, 5), (1, 6, 2), (7, 4, 4))  # (N, in, out): non-square, a batch of 1, a square W


def _grade_dense(g: Grader, rng: np.random.Generator) -> None:
    for N, n_in, n_out in DENSE_CASES:
        x, W, b = rng.normal(size=(N, n_in)), rng.normal(size=(n_out, n_in)), rng.normal(size=n_out)
        dy = rng.normal(size=(N, n_out))
        shapes = f"N={N}, in={n_in}, out={n_out}"
        y = g.call("dense_forward", x, W, b)
        g.compare(f"dense_forward, {shapes}", y, dense_forward(x, W, b), "y",
                  mistakes={"y is missing the bias b": x @ W.T})
        dx, dW, db = g.call("dense_backward", dy, x, W, n_outputs=3)
        ref_dx, ref_dW, ref_db = dense_backward(dy, x, W)
        batch = {float(N): f"N = {N} times too large", 1.0 / N: f"N = {N} times too small: the layer "
                 "does not average over the batch (the loss's 1/N is already in dy)"} if N > 1 else {}
        g.compare(f"dx against npae, {shapes}", dx, ref_dx, "dx", factors=batch)
        g.compare(f"dW against npae, {shapes}", dW, ref_dW, "dW", factors=batch)
        g.compare(f"db against npae, {shapes}", db, ref_db, "db", factors=batch,
                  mistakes={"db is the mean of dy over the batch: it is the sum, db = sum_n dy_n":
                            dy.mean(axis=0)})

        def loss(x=x, W=W, b=b, dy=dy) -> float:  # L = sum(y * dy), so dL/dy = dy
            return float(np.sum(dense_forward(x, W, b) * dy))

        g.numeric(f"dx, {shapes}", dx, loss, x, "dx", factors=batch)
        g.numeric(f"dW, {shapes}", dW, loss, W, "dW", factors=batch)
        g.numeric(f"db, {shapes}", db, loss, b, "db", factors=batch)


def _run_dense(module: ModuleType, out_dir: Path) -> str:
    """A 64-25-64 sigmoid autoencoder (MSE, Adam) on 2,000 natural-image patches, with each Dense."""
    X = natural_patches(2000, rng=0)  # (2000, 64) float32, offline
    X_test = X[1600:]

    def train() -> dict[str, float]:
        model = Autoencoder((64, 25), activation="sigmoid", output_activation="identity", loss="mse",
                            random_state=0)
        model.fit(X[:1600], epochs=50, batch_size=100, optimizer=Adam(lr=1e-2), verbose=False)
        image_grid({"held-out patches": X_test[:16], "reconstructed": model.reconstruct(X_test[:16])},
                   out_dir / "reconstructions.png", shape=(8, 8))  # the last run's: yours
        return {"training MSE": model.score(X[:1600]), "held-out MSE": model.score(X_test)}

    def backward(dy, x, W, input_grad=True):  # the library's signature; yours always returns dx
        return module.dense_backward(dy, x, W)

    out_dir.mkdir(parents=True, exist_ok=True)
    table = side_by_side("A 64-25-64 autoencoder, 50 epochs of Adam on 1,600 natural-image patches:",
                         train, {("npae.layers.dense", "dense_forward"): module.dense_forward,
                                 ("npae.layers.dense", "dense_backward"): backward})
    return f"{table}\nHeld-out patches and your model's reconstructions: {out_dir / 'reconstructions.png'}"


# ---------------------------------------------------------------------------- activations
ACTIVATION_SKELETON = '''"""Exercise `{name}` ({page}#{anchor}).

Write the backward pass of the {title} activation, element by element.
    npae exercise check {name}
"""

import numpy as np


def {name}(dy, {arg}):
    """dx = dL/dx from dy = dL/dy, for y = {forward} applied element-wise.

    The Jacobian of an element-wise map is diagonal, so dx = dy * f'(x). Write f'(x) {using}.

    Parameters
    ----------
    dy : ndarray, any shape        dL/dy
    {arg} : ndarray, dy's shape       {arg_doc}

    Returns
    -------
    dx : ndarray, dy's shape
    """
    raise NotImplementedError
'''


def _activation_skeleton(name, title, anchor, arg, forward, using, arg_doc) -> str:
    return ACTIVATION_SKELETON.format(name=name, page=PAGE, title=title, anchor=anchor, arg=arg,
                                      forward=forward, using=using, arg_doc=arg_doc)


def _grade_relu(g: Grader, rng: np.random.Generator) -> None:
    for shape in ((5, 7), (1, 3)):
        x = rng.normal(size=shape)
        x[np.abs(x) < 0.1] = 0.5  # central differences are valid away from the kink
        x.flat[0] = 0.0  # and one entry at it, where npae (as PyTorch) takes the subgradient 0
        dy = rng.normal(size=shape)
        dx = g.call("relu_backward", dy, x)
        kink = x == 0
        g.compare(f"dx against npae, shape {shape}", dx, dy * (x > 0), "dx",
                  mistakes={"dx is dy where dy > 0: the mask must come from the input x, not from dy":
                            dy * (dy > 0),
                            "dx is the mask 1[x > 0] alone: multiply it by dy (the chain rule)":
                            (x > 0).astype(float)},
                  masks={"at x == 0, the kink: take the subgradient 0 there (x > 0, not x >= 0)": kink})
        x_away = np.where(kink, 0.5, x)
        dx_away = g.call("relu_backward", dy, x_away)
        g.numeric(f"dx away from the kink, shape {shape}", dx_away,
                  lambda x=x_away, dy=dy: float(np.sum(ReLU.function(x) * dy)), x_away, "dx")


def _smooth_grader(name: str, cls, mistakes_of):
    def grade(g: Grader, rng: np.random.Generator) -> None:
        for shape in ((5, 7), (1, 3)):
            x = rng.normal(scale=2.0, size=shape)
            y = cls.function(x)
            dy = rng.normal(size=shape)
            dx = g.call(name, dy, y)
            g.compare(f"dx against npae, shape {shape}", dx, dy * cls.derivative(x, y), "dx",
                      mistakes=mistakes_of(x, y, dy))
            g.numeric(f"dx, shape {shape}", dx, lambda x=x, dy=dy: float(np.sum(cls.function(x) * dy)),
                      x, "dx")
    return grade


def _sigmoid_mistakes(x, y, dy):
    return {"dx uses sigmoid(y): y already is sigmoid(x), so f'(x) = y (1 - y)":
            dy * Sigmoid.function(y) * (1 - Sigmoid.function(y)),
            "dx is f'(x) alone: multiply by dy (the chain rule)": y * (1 - y),
            "dx = dy * y: the factor (1 - y) is missing": dy * y}


def _tanh_mistakes(x, y, dy):
    return {"dx uses 1 - y: the derivative of tanh is 1 - y^2": dy * (1 - y),
            "dx is f'(x) alone: multiply by dy (the chain rule)": 1 - y * y,
            "dx uses 1 - tanh(y)^2: y already is tanh(x), so f'(x) = 1 - y^2": dy * (1 - np.tanh(y) ** 2)}


# ---------------------------------------------------------------------------- the catalogue
MISSING_BACKWARD = '''
def dense_forward(x, W, b):
    return x @ W.T + b
'''

EXERCISES = (
    Exercise(
        name="dense", lesson=f"{PAGE}#dense-y--x--wt--b",
        summary="the Dense layer: y = x W^T + b and its backward (dx, dW, db)",
        skeleton=DENSE_SKELETON, functions=("dense_forward", "dense_backward"),
        solution={"dense_forward": "npae.layers.dense.dense_forward",
                  "dense_backward": "npae.layers.dense.dense_backward"},
        grade=_grade_dense, run=_run_dense,
        reference="from npae.layers.dense import dense_backward as _backward, dense_forward\n\n"
                  "def dense_backward(dy, x, W):\n    return _backward(dy, x, W)\n",
        mistakes=(
            Mistake("dW transposed", MISSING_BACKWARD + '''
def dense_backward(dy, x, W):
    return dy @ W, x.T @ dy, dy.sum(axis=0)
''', "transposed", "the most common shape slip: x.T @ dy has shape (in, out), the weights (out, in)",
                    "dL/dW[k, i] = sum_n dy[n, k] x[n, i]: the row index of dW is the output unit k"),
            Mistake("dW divided by N", MISSING_BACKWARD + '''
def dense_backward(dy, x, W):
    N = len(x)
    return dy @ W, dy.T @ x / N, dy.sum(axis=0) / N
''', "does not average over the batch", "averaging twice: a mean loss's 1/N is already in dy",
                    "the layer's gradient is a plain sum over the batch; the loss decides the scale"),
            Mistake("db as a mean", MISSING_BACKWARD + '''
def dense_backward(dy, x, W):
    return dy @ W, dy.T @ x, dy.mean(axis=0)
''', "db is the mean of dy", "a bias gradient written as np.mean instead of np.sum",
                    "b is added to every row, so its gradient collects every row's dy: a sum"),
        )),
    Exercise(
        name="relu_backward", lesson=f"{PAGE}#relu-and-leakyrelu",
        summary="ReLU's backward: dx = dy * 1[x > 0]",
        skeleton=_activation_skeleton("relu_backward", "ReLU", "relu-and-leakyrelu", "x", "max(x, 0)",
                                      "from the input x", "the input of the forward pass"),
        functions=("relu_backward",), solution={"relu_backward": "npae.layers.ReLU.backward"},
        grade=_grade_relu,
        reference="from npae.layers import ReLU\n\ndef relu_backward(dy, x):\n"
                  "    return dy * ReLU.derivative(x, None)\n",
        mistakes=(
            Mistake("mask from dy", '''
import numpy as np

def relu_backward(dy, x):
    return dy * (dy > 0)
''', "the mask must come from the input x", "copying the forward's max(., 0) into the backward",
                    "whether the unit was active is decided by its input x; dy may have either sign"),
            Mistake("subgradient 1 at the kink", '''
import numpy as np

def relu_backward(dy, x):
    return dy * (x >= 0)
''', "at x == 0, the kink", "x >= 0 in place of x > 0",
                    "any value in [0, 1] is a subgradient at 0; npae and PyTorch take 0, and the check "
                    "compares with them"),
        )),
    Exercise(
        name="sigmoid_backward", lesson=f"{PAGE}#sigmoid",
        summary="the sigmoid's backward from its output: dx = dy * y (1 - y)",
        skeleton=_activation_skeleton("sigmoid_backward", "sigmoid", "sigmoid", "y", "1 / (1 + exp(-x))",
                                      "from the output y alone (no second exp)",
                                      "the output of the forward pass"),
        functions=("sigmoid_backward",),
        solution={"sigmoid_backward": "npae.layers.Sigmoid.derivative (times dy)"},
        grade=_smooth_grader("sigmoid_backward", Sigmoid, _sigmoid_mistakes),
        reference="from npae.layers import Sigmoid\n\ndef sigmoid_backward(dy, y):\n"
                  "    return dy * Sigmoid.derivative(None, y)\n",
        mistakes=(
            Mistake("sigmoid applied twice", '''
import numpy as np

def sigmoid_backward(dy, y):
    s = 1 / (1 + np.exp(-y))
    return dy * s * (1 - s)
''', "y already is sigmoid(x)", "the derivative formula s (1 - s) fed with the output instead of the input",
                    "y = sigmoid(x) is cached, so f'(x) = y (1 - y) with no further sigmoid"),
        )),
    Exercise(
        name="tanh_backward", lesson=f"{PAGE}#tanh",
        summary="tanh's backward from its output: dx = dy * (1 - y^2)",
        skeleton=_activation_skeleton("tanh_backward", "tanh", "tanh", "y", "tanh(x)",
                                      "from the output y alone", "the output of the forward pass"),
        functions=("tanh_backward",), solution={"tanh_backward": "npae.layers.Tanh.derivative (times dy)"},
        grade=_smooth_grader("tanh_backward", Tanh, _tanh_mistakes),
        reference="from npae.layers import Tanh\n\ndef tanh_backward(dy, y):\n"
                  "    return dy * Tanh.derivative(None, y)\n",
        mistakes=(
            Mistake("1 - y", '''
def tanh_backward(dy, y):
    return dy * (1 - y)
''', "1 - y^2", "confusing tanh' = 1 - tanh^2 with the sigmoid's y (1 - y)",
                    "d tanh(x)/dx = 1 - tanh(x)^2 = 1 - y^2"),
        )),
)
