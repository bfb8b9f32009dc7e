"""The computation graph of each model, drawn from the model object: ``docs/images/graph_<model>.png``.

One picture per model of :data:`GRAPHS`: a box per layer (read from ``model.encoder.layers`` and
``model.decoder.layers``, its output shape from a forward pass), the step's other operations
(loss, penalty, corruption, sampling) as the model's ``_forward_backward`` does them, forward
arrows labelled with the step's tensors and backward arrows with its gradients. Each PNG carries
the graph's text (:meth:`Graph.describe`) in its metadata, so ``python docs/figures.py --check``
(and ``tests/test_figures.py``) notice a picture that no longer matches its model.

``python docs/figures.py --graphs`` draws them all (:func:`draw_graphs`); ``figures.py`` imports
this module from the folder they share.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numpy as np

import npae
from npae.losses import RECONSTRUCTION_LOSSES
from npae.models import VAE, ContractiveAutoencoder, DenoisingAutoencoder, SparseAutoencoder
from npae.models.vae import reparameterize
from npae.penalties.contractive import is_one_layer

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent


class Box(NamedTuple):
    """An operation: ``op`` (what the code calls), ``shape`` (its output), in column ``col`` (0: the
    main chain, 1: a side input or penalty) and row ``row``."""
    key: str
    op: str
    shape: str
    col: int
    row: int
    kind: str = "op"  # "layer", "op", "data" or "loss": the colour of the box


class Edge(NamedTuple):
    """Data flowing from ``src`` to ``dst``: ``fwd`` is the forward tensor, ``bwd`` the gradient the
    backward pass sends back along it (None: nothing flows back)."""
    src: str
    dst: str
    fwd: str
    bwd: str | None


class Graph:
    """The boxes and edges of one model's step, and notes printed under the picture."""

    def __init__(self, title: str) -> None:
        self.title = title
        self.boxes: list[Box] = []
        self.edges: list[Edge] = []
        self.notes: list[str] = []

    def box(self, key: str, op: str, shape: str, col: int = 0, kind: str = "op",
            row: int | None = None) -> str:
        """Add a box (in the main column: below the last one) and return its key."""
        if row is None:
            row = 1 + max((b.row for b in self.boxes if b.col == 0), default=-1)
        self.boxes.append(Box(key, op, shape, col, row, kind))
        return key

    def edge(self, src: str, dst: str, fwd: str = "", bwd: str | None = None) -> None:
        self.edges.append(Edge(src, dst, fwd, bwd))

    def row(self, key: str) -> int:
        return next(b.row for b in self.boxes if b.key == key)

    def describe(self) -> str:
        """The graph as text: what the picture shows, one line per box and per edge."""
        lines = [self.title]
        lines += [f"box {b.key}: {b.op} -> {b.shape}" for b in self.boxes]
        lines += [f"edge {e.src} -> {e.dst}: {e.fwd} / {e.bwd}" for e in self.edges]
        return "\n".join(lines + self.notes)


def _shape(a: np.ndarray, what: str = "") -> str:
    """``(N, 16, 14, 14)``: the shape with the batch axis named."""
    return "(" + ", ".join(["N", *map(str, a.shape[1:])]) + ")" + what


def _op(layer) -> str:
    """A layer's constructor call, shortened: ``Conv2D(1, 16, k3, s2, p1)``."""
    text = repr(layer)
    for long, short in [("kernel_size=", "k"), ("output_padding=", "op"), ("padding=", "p"),
                        ("stride=", "s"), ("size=", ""), ("negative_slope=", "")]:
        text = text.replace(long, short)
    return re.sub(r"\((\d+), \1\)", r"\1", text)  # (3, 3) -> 3


def _layers(g: Graph, seq, x: np.ndarray, src: str, fwd: str, bwd: str | None,
            name: str) -> tuple[np.ndarray, str]:
    """A box per layer of ``seq`` (a ``Sequential``), fed from box ``src``; returns the output and the
    last box. Inside, each layer's ``backward(dy)`` returns ``dx``, the ``dy`` of the layer above."""
    rng = np.random.default_rng(0)
    for i, layer in enumerate(seq.layers):
        x = layer.forward(x, rng) if layer.stochastic else layer.forward(x)
        key = g.box(f"{name}.{i}", f"{name}[{i}]  {_op(layer)}", _shape(x), kind="layer")
        g.edge(src, key, fwd if i == 0 else "", bwd if i == 0 else "dx")
        src = key
    return x, src


def _title(model) -> str:
    """``"DenoisingAutoencoder: one training step, DenoisingMixin._forward_backward"``."""
    return f"{type(model).__name__}: one training step, {type(model)._forward_backward.__qualname__}"


def _input(g: Graph, model) -> tuple[np.ndarray, str]:
    shape = getattr(model, "input_shape", (model.n_features,))  # (C, H, W) images or (D,) rows
    x = np.zeros((2, *shape), dtype=model.dtype)  # two examples: the shapes, not values
    return x, g.box("x", "input X", _shape(x), kind="data")


def _loss(g: Graph, model, out: np.ndarray, src: str, bwd: str = "dout", op: str = "",
          shape: str = "rec (scalar)") -> str:
    """The reconstruction loss box, fed by ``out`` and by the target ``X`` beside it."""
    op = op or f"{RECONSTRUCTION_LOSSES[model.loss].__qualname__.split('.')[0]}(out, X)"
    key = g.box("loss", op, shape, kind="loss")
    g.edge(src, key, "out " + _shape(out), bwd)
    g.edge(g.box("target", "target X", _shape(out), col=1, kind="data", row=g.row(key)), key, "X")
    return key


def autoencoder_graph(model, title: str = "") -> Graph:
    """The graph of an ``Autoencoder``, ``SparseAutoencoder``, ``DenoisingAutoencoder``,
    ``ContractiveAutoencoder`` or ``ConvAutoencoder``: each model's ``_forward_backward`` step."""
    g = Graph(title or _title(model))
    x, src = _input(g, model)
    first = ("X", None)  # nothing flows back into the data: the first layer skips its dx
    if isinstance(model, DenoisingAutoencoder):
        src_x = src
        what = f"corrupt: X_tilde ~ q(X_tilde | X), {model.noise} {model.noise_level:g}"
        src = g.box("corrupt", what, _shape(x))
        g.edge(src_x, src, "X", None)
        first = ("X_tilde", None)
        g.notes.append("The noise is a constant of the backward pass: nothing flows back into it.")
    h, enc_last = _layers(g, model.encoder, x, src, *first, "encoder")
    dh = "dh"
    if isinstance(model, SparseAutoencoder):
        what = f"kl_sparsity.math(h, rho={model.rho:g})" if model.sparsity == "kl" else "l1_activity.math(h)"
        side = g.box("omega", what, "omega (scalar)", col=1, kind="loss", row=g.row(enc_last))
        g.edge(enc_last, side, "h", "beta * domega_dh")
        dh = "dh (+ beta * domega_dh)"
        g.notes.append("dh = decoder.backward(dout) + beta * domega_dh, then encoder.backward(dh).")
    if isinstance(model, ContractiveAutoencoder):
        how = "contractive_closed_form" if is_one_layer(model.encoder.layers) else "contractive_chain_rule"
        side = g.box("omega", f"{how}(...)", "omega = mean_n ||dh/dx||_F^2", col=1, kind="loss",
                     row=g.row("encoder.0"))
        g.edge("encoder.0", side, "u = [X, ..., h] (cached)", "lam * domega (into grads)")
        g.notes.append("lam * domega[key] is added to the encoder's weight gradients after its backward.")
    out, dec_last = _layers(g, model.decoder, h, enc_last, "h " + _shape(h), dh, "decoder")
    _loss(g, model, out, dec_last)
    return g


def vae_graph(model, title: str = "") -> Graph:
    """The graph of a ``VAE``: ``VAE._forward_backward`` (one sample per example)."""
    g = Graph(title or _title(model))
    x, src = _input(g, model)
    enc, enc_last = _layers(g, model.encoder, x, src, "X", None, "encoder")
    mu, log_var = model._split(enc)
    split = g.box("split", "_split: mu, log_var", _shape(mu, " each"))
    g.edge(enc_last, split, "", "dout_enc = [dmu, dlog_var]")
    kl = g.box("kl", f"gaussian_kl(mu, log_var), beta {model.beta:g}", "kl (N,)", col=1, kind="loss",
               row=g.row(split))
    g.edge(split, kl, "mu, log_var", "beta/N * dkl_dmu, dkl_dlog_var")
    z = reparameterize(mu, log_var, np.zeros_like(mu))
    rep = g.box("z", "reparameterize: z = mu + exp(0.5 log_var) * eps", _shape(z))
    g.edge(split, rep, "mu, log_var", "dmu, dlog_var")
    g.edge(g.box("eps", "eps ~ N(0, I) from rng", _shape(z), col=1, kind="data", row=g.row(rep)), rep, "eps")
    out, dec_last = _layers(g, model.decoder, z, rep, "z " + _shape(z), "dz", "decoder")
    _loss(g, model, out, dec_last, "dout * inv_n", "_nll(out, X): nll = -log p(X | z)", "rec = mean(nll)")
    g.notes += ["dmu = dz + beta/N * dkl_dmu;  dlog_var = 0.5 * dz * std * eps + beta/N * dkl_dlog_var",
                "(std = exp(0.5 log_var); nothing flows back into eps)."]
    return g


def model_graph(model, title: str = "") -> Graph:
    return vae_graph(model, title) if isinstance(model, VAE) else autoencoder_graph(model, title)


def _graph_models() -> dict[str, tuple[str, Callable[[], object]]]:
    """name -> (page, the model it draws): the networks of each page's example."""
    return {
        "autoencoder": ("01-dense-and-activations.md", lambda: npae.Autoencoder(
            (784, 256, 32), activation="relu", loss="mse", random_state=0)),
        "sparse": ("03-sparsity.md", lambda: npae.SparseAutoencoder(
            (64, 25), loss="sse", sparsity="kl", rho=0.01, beta=3.0, random_state=0)),
        "denoising": ("06-denoising.md", lambda: npae.DenoisingAutoencoder(
            (784, 512, 256), activation="relu", loss="bce", noise="gaussian", noise_level=0.5,
            clip=(0.0, 1.0), random_state=0)),
        "contractive": ("07-contractive.md", lambda: npae.ContractiveAutoencoder(
            (784, 128), activation="sigmoid", loss="bce", lam=0.01, random_state=0)),
        "vae": ("09-vae.md", lambda: npae.VAE((784, 400), latent_dim=20, random_state=0)),
        "conv_ae": ("10-convolutions.md", lambda: npae.ConvAutoencoder(
            (1, 28, 28), "strided", (32, 64), code_size=32, code_activation="identity", loss="mse",
            random_state=0)),
    }


#: The pictures: docs/images/graph_<name>.png, shown on the page named beside each model.
GRAPHS = _graph_models()
IMAGES = DOCS / "images"
_COLOURS = {"layer": "#dbe8f6", "op": "#f3f3f3", "data": "#fff4d6", "loss": "#f9dcdc"}


def draw_graph(g: Graph, path: Path) -> None:
    """Draw ``g`` to the PNG ``path``; the PNG's ``Description`` is ``g.describe()``."""
    import matplotlib  # only the drawing needs matplotlib (and a backend without a window)

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch

    xs, width, height, step = (0.0, 9.0), (5.8, 4.6), 0.64, 1.3
    rows = 1 + max(b.row for b in g.boxes)
    fig = plt.figure(figsize=(10.5, 1.15 + 0.62 * rows + 0.22 * len(g.notes)))
    ax = fig.add_axes((0, 0, 1, 1))
    at = {b.key: b for b in g.boxes}
    for b in g.boxes:
        x0, y0 = xs[b.col] - width[b.col] / 2, -b.row * step - height / 2
        ax.add_patch(FancyBboxPatch((x0, y0), width[b.col], height, fc=_COLOURS[b.kind], ec="0.35", lw=0.9,
                                    boxstyle="round,pad=0.02,rounding_size=0.1"))
        ax.text(xs[b.col], -b.row * step + 0.12, b.op, ha="center", va="center", fontsize=8.5,
                family="monospace")
        ax.text(xs[b.col], -b.row * step - 0.16, b.shape, ha="center", va="center", fontsize=8, color="0.3",
                family="monospace")
    fwd_c, bwd_c = "#1f5fa8", "#b8321f"
    arrow = dict(arrowstyle="-|>", lw=1.1, mutation_scale=10)
    for e in g.edges:
        a, b = at[e.src], at[e.dst]
        if a.col == b.col:  # down the main column: forward on the left, backward on the right
            assert b.row == a.row + 1, f"edge {e.src} -> {e.dst} skips a row"
            top, bottom = -a.row * step - height / 2, -b.row * step + height / 2
            ax.annotate("", (xs[0] - 0.45, bottom), (xs[0] - 0.45, top),
                        arrowprops=dict(color=fwd_c, **arrow))
            ax.text(xs[0] - 0.6, (top + bottom) / 2, e.fwd, ha="right", va="center", fontsize=8, color=fwd_c,
                    family="monospace")
            if e.bwd:
                ax.annotate("", (xs[0] + 0.45, top), (xs[0] + 0.45, bottom),
                            arrowprops=dict(color=bwd_c, **arrow))
                ax.text(xs[0] + 0.6, (top + bottom) / 2, e.bwd, ha="left", va="center", fontsize=8,
                        color=bwd_c, family="monospace")
        else:  # across, on one row: forward above, backward below
            assert a.row == b.row, f"edge {e.src} -> {e.dst} is neither down nor across"
            y = -a.row * step
            ends = [xs[0] + width[0] / 2, xs[1] - width[1] / 2]
            start, end = ends if a.col == 0 else ends[::-1]
            mid = (start + end) / 2
            ax.annotate("", (end, y + 0.13), (start, y + 0.13), arrowprops=dict(color=fwd_c, **arrow))
            ax.text(mid, y + 0.22, e.fwd, ha="center", va="bottom", fontsize=8, color=fwd_c,
                    family="monospace")
            if e.bwd:
                ax.annotate("", (start, y - 0.13), (end, y - 0.13), arrowprops=dict(color=bwd_c, **arrow))
                ax.text(mid, y - 0.22, e.bwd, ha="center", va="top", fontsize=8, color=bwd_c,
                        family="monospace")
    bottom = -(rows - 1) * step - height / 2 - 0.35
    notes = ["blue: forward (the tensors of the step), red: backward (the gradients, by their names in the "
             "code)",
             "inside the encoder and the decoder each layer's backward(dy) returns dx, the dy of the layer "
             "above;",
             "the first layer with weights skips its dx (input_grad=False): no gradient flows into X",
             *g.notes]
    for i, line in enumerate(notes):
        ax.text(-3.0, bottom - 0.36 * i, line, ha="left", va="top", fontsize=8,
                color="0.25" if i > 2 or i == 0 else "0.4")
    ax.text(-3.0, height / 2 + 0.75, g.title, ha="left", va="bottom", fontsize=10, family="monospace")
    ax.set_xlim(-4.6, 11.6)
    ax.set_ylim(bottom - 0.36 * len(notes) - 0.2, height / 2 + 1.25)
    ax.axis("off")
    fig.savefig(path, dpi=100, metadata={"Description": g.describe()})
    plt.close(fig)


def graph_of(name: str) -> Graph:
    """The graph of the model :data:`GRAPHS` names ``name``, built now."""
    return model_graph(GRAPHS[name][1]())


def graph_path(name: str) -> Path:
    return IMAGES / f"graph_{name}.png"


def draw_graphs(names: list[str] | None = None) -> list[Path]:
    """Draw ``docs/images/graph_<name>.png`` for each model of :data:`GRAPHS` (all by default)."""
    paths = []
    for name in names or GRAPHS:
        draw_graph(graph_of(name), graph_path(name))
        paths.append(graph_path(name))
    return paths


def shown(path: Path) -> str:
    """``path`` as a page names it: relative to the project's root when it is inside it."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def stale_graphs(names: list[str] | None = None) -> list[str]:
    """The graph pictures (of ``names``, default all) that are missing or no longer show their model
    (their stored description differs)."""
    from PIL import Image

    stale = []
    for name in names or GRAPHS:
        path = graph_path(name)
        if not path.is_file():
            stale.append(f"{shown(path)} is missing: draw it with `python docs/figures.py --graphs`")
            continue
        with Image.open(path) as im:
            if im.text.get("Description") != graph_of(name).describe():
                stale.append(f"{shown(path)} no longer shows its model: `python docs/figures.py --graphs`")
    return stale
