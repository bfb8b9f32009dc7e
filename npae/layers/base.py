"""The layer contract and the container that chains layers.

Every layer has ``params`` (name -> live ndarray) and ``grads`` (same keys and shapes);
``forward(x)`` caches what ``backward`` needs, ``backward(dy)`` returns dL/dx and *overwrites*
``grads`` (it never accumulates). ``buffers`` (name -> live ndarray, empty by default) hold state
that is not trained but is part of the layer, such as a batch normalisation's running
statistics: saved and loaded with the model, never seen by an optimiser or a gradient check.
See ``docs/01-dense-and-activations.md`` and ``docs/14-extending.md``.

Layers trust their inputs: the models check data once at their public door (``fit``, ``encode``,
...) and the math inside does not re-check it. A NaN or Inf in ``dy`` flows into ``dx`` and
``grads`` by IEEE arithmetic (``Inf * 0 = NaN``) without a warning: every ``backward`` runs
under ``np.errstate(invalid="ignore")``, and the training loop's divergence guard reports it.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator

import numpy as np


class Layer:
    """Base class: a differentiable map ``y = f(x; params)``.

    Subclasses set ``self.params`` and ``self.grads`` in ``__init__`` and implement
    ``forward(x) -> y`` (caching what backward needs) and ``backward(dy) -> dx``, where
    ``dy = dL/dy`` has ``y``'s shape and ``dx = dL/dx`` has ``x``'s shape; ``backward`` also
    *assigns* ``grads[name] = dL/dparams[name]`` (same shape as the parameter). ``training``
    is True after ``train()`` and False after ``eval()``; layers whose behaviour differs
    between the two read it. A layer that draws random numbers sets ``stochastic = True`` and
    its forward is ``forward(x, rng=None)``: it draws from the Generator ``rng``, or from its own
    ``self.rng`` when ``rng`` is None. ``buffers`` holds arrays that are state but not trained
    (running statistics): the forward pass may update them in place, the optimisers never see
    them, ``save`` keeps them. See ``docs/01-dense-and-activations.md`` and
    ``docs/14-extending.md``.
    """

    #: True for a layer whose ``forward(x, rng=None)`` draws random numbers (Dropout);
    #: ``Sequential.forward(x, rng)`` passes its ``rng`` to such layers only.
    stochastic = False

    #: True when ``backward(dy, input_grad=False)`` is accepted: it sets ``grads`` and skips
    #: ``dx`` (returns None). ``Sequential.backward`` uses it for the first layer of a network.
    skips_input_grad = False

    def __init__(self) -> None:
        self.params: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.buffers: dict[str, np.ndarray] = {}  # state that is not trained (running statistics)
        self.training = True

    def forward(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward(self, dy: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)

    def train(self) -> Layer:
        self.training = True
        return self

    def eval(self) -> Layer:
        self.training = False
        return self

    def zero_grads(self) -> None:
        """Set every gradient to zeros (useful before the first backward)."""
        self.grads = {k: np.zeros_like(v) for k, v in self.params.items()}

    def __init_subclass__(cls, **kwargs) -> None:
        """A subclass with its own ``__init__`` but no ``__repr__`` of its own gets the generic one.

        Otherwise it would show its parent's ``repr``, hiding the arguments it added.
        """
        super().__init_subclass__(**kwargs)
        if "__init__" in cls.__dict__ and "__repr__" not in cls.__dict__:
            cls.__repr__ = Layer.__repr__

    def get_config(self) -> dict:
        """The constructor's arguments as a dict, read back from the attributes of the same names.

        Like Keras's ``get_config``: ``Dense(4, 3).get_config()`` is ``{"in_features": 4,
        "out_features": 3, "init": "glorot_uniform", "dtype": float32}``. The generator ``rng``
        (it only draws initial weights or noise) is left out. ``save`` compares the configs of a
        model's layers with those its constructor builds (:func:`npae.io.check_rebuildable`), so a
        setting changed after construction is caught. An argument that ``__init__`` does not keep
        under its own name cannot be read back and is left out (keep each one, or override this:
        ``docs/14-extending.md``).
        """
        names = [n for n, p in inspect.signature(type(self).__init__).parameters.items()
                 if n not in ("self", "rng") and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        # an argument not kept as self.<name> cannot be read back, so it is not in the config
        return {n: getattr(self, n) for n in names if hasattr(self, n)}

    def __repr__(self) -> str:
        return describe(self)  # "Scale(features=5, init=1.0, dtype=float32)", from get_config


def describe(layer: Layer) -> str:
    """A layer's type and configuration as one line, ``"Dense(in_features=4, out_features=3, ...)"``.

    What ``save`` compares between a model and the one its constructor builds. A layer argument
    (a ``TiedDense``'s ``tied_to``) is shown by its own description.
    """
    def show(v) -> str:
        if isinstance(v, Layer):
            return describe(v)
        if isinstance(v, np.dtype) or (isinstance(v, type) and issubclass(v, np.generic)):
            return np.dtype(v).name
        return repr(v)
    return f"{type(layer).__name__}({', '.join(f'{k}={show(v)}' for k, v in layer.get_config().items())})"


class Sequential(Layer):
    """Layers applied one after the other: ``y = f_L(... f_2(f_1(x)))``.

    Backward is the chain rule run in reverse: ``dx = f_1'^T (... f_L'^T dy)``, each layer's
    ``backward`` applying its transposed Jacobian to the gradient of the layer after it.
    ``params``, ``grads`` and ``buffers`` are flattened as ``"{index}.{name}"``; the arrays are the layers'
    own, so an optimiser updating ``params`` in place updates the layers. Derivation:
    ``docs/01-dense-and-activations.md`` (Sequential: the chain rule).
    """

    skips_input_grad = True

    def __init__(self, *layers: Layer) -> None:
        super().__init__()
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise TypeError(f"layers[{i}] must be a Layer, got {type(layer).__name__}")
        self.layers: list[Layer] = list(layers)

    @property
    def params(self) -> dict[str, np.ndarray]:  # type: ignore[override]
        return {f"{i}.{k}": v for i, layer in enumerate(self.layers) for k, v in layer.params.items()}

    @params.setter
    def params(self, value: dict) -> None:  # Layer.__init__ assigns {}; the layers own the arrays
        if value:
            raise AttributeError("Sequential.params is derived from its layers; set the layers' params")

    @property
    def grads(self) -> dict[str, np.ndarray]:  # type: ignore[override]
        return {f"{i}.{k}": v for i, layer in enumerate(self.layers) for k, v in layer.grads.items()}

    @grads.setter
    def grads(self, value: dict) -> None:
        if value:
            raise AttributeError("Sequential.grads is derived from its layers")

    @property
    def buffers(self) -> dict[str, np.ndarray]:  # type: ignore[override]
        """The layers' buffers (state that is not trained), flattened as ``"{index}.{name}"``."""
        return {f"{i}.{k}": v for i, layer in enumerate(self.layers)
                for k, v in getattr(layer, "buffers", {}).items()}

    @buffers.setter
    def buffers(self, value: dict) -> None:
        if value:
            raise AttributeError("Sequential.buffers is derived from its layers; set the layers' buffers")

    @property
    def stochastic(self) -> bool:  # type: ignore[override]
        """True when any of the layers draws random numbers (then ``forward`` needs an ``rng``)."""
        return any(layer.stochastic for layer in self.layers)

    def forward(self, x: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
        """Run the layers in order; ``rng`` goes to every stochastic layer (``layer.forward(x, rng)``).

        With ``rng`` None a stochastic layer draws from its own generator. A training step passes
        its own Generator, so one seed fixes every dropout mask of the step.
        """
        for layer in self.layers:
            x = layer.forward(x, rng) if layer.stochastic else layer.forward(x)
        return x

    def backward(self, dy: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        """Chain rule in reverse, returning ``dx``.

        ``input_grad=False`` sets the parameter gradients only and returns None: the pass stops
        at the first layer that has parameters (the layers before it have none to set), which
        skips its own ``dx`` too if it can (``skips_input_grad``: Dense, the convolutions, a
        nested Sequential).
        """
        if input_grad:
            for layer in reversed(self.layers):
                dy = layer.backward(dy)
            return dy
        first = next((i for i, layer in enumerate(self.layers) if layer.params), None)
        if first is None:
            return None
        for layer in reversed(self.layers[first + 1:]):
            dy = layer.backward(dy)
        layer = self.layers[first]
        if layer.skips_input_grad:
            layer.backward(dy, input_grad=False)
        else:
            layer.backward(dy)
        return None

    def train(self) -> Sequential:
        self.training = True
        for layer in self.layers:
            layer.train()
        return self

    def eval(self) -> Sequential:
        self.training = False
        for layer in self.layers:
            layer.eval()
        return self

    def zero_grads(self) -> None:
        for layer in self.layers:
            layer.zero_grads()

    def get_config(self) -> dict:
        """``{"layers": [describe(layer), ...]}``: every layer's type and configuration, in order."""
        return {"layers": [describe(layer) for layer in self.layers]}

    def __iter__(self) -> Iterator[Layer]:
        return iter(self.layers)

    def __len__(self) -> int:
        return len(self.layers)

    def __getitem__(self, i: int) -> Layer:
        return self.layers[i]

    def __repr__(self) -> str:
        inner = ",\n  ".join(repr(layer) for layer in self.layers)
        return f"Sequential(\n  {inner}\n)"
