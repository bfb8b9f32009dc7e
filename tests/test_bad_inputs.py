"""Random bad inputs to every public entry point: a clean error naming the argument, or a correct result.

"Clean" means a ``ValueError`` or ``TypeError`` whose message names the argument that was
wrong (the checks in ``npae/_validation.py`` also say what was expected and what came), and
never another exception (IndexError, AttributeError, ZeroDivisionError, a NumPy broadcasting or
matmul error, a RuntimeWarning turned into an error by pytest's configuration) from deep inside
NumPy. Inputs that turn out to be acceptable (an int array where floats are expected) must give
a finite result of the right shape.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from profiles import examples

import npae
from npae import gradcheck, latent, layers, losses, optim, penalties
from npae.cli import example_input, small_model
from npae.io import model_classes

EXAMPLES = examples(25)
ARRAY_KINDS = ("ndim_less", "ndim_more", "width", "nan", "inf", "empty", "object", "string", "complex",
               "none",
               "dict", "ragged", "int")


def bad_array(kind: str, shape: tuple[int, ...], rng: np.random.Generator):
    """A value of the given kind built around a good ``shape``."""
    good = rng.uniform(0.1, 0.9, size=shape)
    if kind == "ndim_less":
        return good[0] if len(shape) > 1 else np.float64(0.5)
    if kind == "ndim_more":
        return good[..., None]
    if kind == "width":
        return rng.uniform(0.1, 0.9, size=shape[:-1] + (shape[-1] + int(rng.integers(1, 4)),))
    if kind in ("nan", "inf"):
        good.flat[int(rng.integers(good.size))] = np.nan if kind == "nan" else -np.inf
        return good
    if kind == "empty":
        return np.zeros((0,) + shape[1:])
    if kind == "object":
        return np.array([object()] * shape[0], dtype=object)
    if kind == "string":
        return np.full(shape, "a")
    if kind == "complex":
        return good + 1j
    if kind == "none":
        return None
    if kind == "dict":
        return {"x": good}
    if kind == "ragged":
        return [[0.5, 0.5], [0.5]]
    if kind == "int":  # acceptable for most: converted
        return rng.integers(0, 2, size=shape)
    raise AssertionError(kind)


def check_clean(call, argname, kind: str = "", ok=None):
    """Run ``call()``: a clean error naming ``argname`` (or one of a tuple of names), or (if ``ok``
    says the input was valid) a result."""
    names = argname if isinstance(argname, tuple) else (argname,)
    try:
        result = call()
    except (ValueError, TypeError) as exc:
        msg = str(exc)
        assert any(re.search(rf"(?<![A-Za-z_]){re.escape(n)}(?![A-Za-z_])", msg) for n in names), \
            f"{kind}: {type(exc).__name__} does not name {argname!r}: {msg}"
        return exc
    assert ok is not None and ok(result), f"{kind}: no error for a bad {argname}, result {result!r:.200}"
    return result


def finite(result) -> bool:
    arrays = result if isinstance(result, tuple) else (result,)
    return all(np.all(np.isfinite(np.asarray(a, dtype=np.float64))) for a in arrays
               if isinstance(a, (np.ndarray, float, np.floating)))


BAD_SCALARS = (-1, -0.5, float("nan"), float("inf"), "3", None, True, [1], object())
BAD_DTYPES = ("int32", np.int64, "float16", "banana", 3, object)


# ---------------------------------------------------------------------------- layers
# Layers trust their inputs (the models check data at their door), so garbage given to a layer's
# forward is not tested here. What is tested is the one contract for non-finite values: a NaN or
# Inf in x or dy propagates by IEEE arithmetic, with the right shape and without a RuntimeWarning
# (pytest turns those into errors).
ACTIVATION_LAYERS = tuple(layers.ACTIVATIONS.values())


@EXAMPLES
@given(kind=st.sampled_from(("nan", "inf")), seed=st.integers(0, 2**16))
def test_dense_propagates_non_finite(kind, seed):
    rng = np.random.default_rng(seed)
    dense = layers.Dense(4, 3, rng=rng, dtype=np.float64)
    with np.errstate(invalid="ignore"):  # the forward of Inf * 0 is NumPy's to report, not the layer's
        assert dense.forward(bad_array(kind, (5, 4), rng)).shape == (5, 3)
    dense.forward(rng.standard_normal((5, 4)))
    dy = bad_array(kind, (5, 3), rng)
    dx = dense.backward(dy)
    assert dx.shape == (5, 4) and not np.isfinite(dx).all()
    assert not np.isfinite(dense.grads["W"]).all() and dense.grads["b"].shape == (3,)
    assert dense.backward(dy, input_grad=False) is None


@EXAMPLES
@given(kind=st.sampled_from(("nan", "inf")), seed=st.integers(0, 2**16),
       cls=st.sampled_from(ACTIVATION_LAYERS))
def test_activation_backward_propagates_non_finite(kind, seed, cls):
    rng = np.random.default_rng(seed)
    act = cls()
    x = rng.standard_normal((5, 4))
    x[0, 0] = -1.0  # ReLU's mask is 0 there: Inf * 0 = NaN, silently
    act.forward(x)
    dy = bad_array(kind, (5, 4), rng)
    dy[0, 0] = -np.inf if kind == "inf" else np.nan
    dx = act.backward(dy)
    assert dx.shape == (5, 4) and not np.isfinite(dx[0, 0])
    finite = np.isfinite(dy)
    assert np.isfinite(dx[finite]).all()  # a finite dy gives a finite dx


@EXAMPLES
@given(value=st.sampled_from(BAD_SCALARS + (0,)), which=st.sampled_from(("in_features", "out_features")))
def test_dense_constructor(value, which):
    kwargs = {"in_features": 3, "out_features": 2, which: value}
    check_clean(lambda: layers.Dense(**kwargs), which, repr(value))


@EXAMPLES
@given(dtype=st.sampled_from(BAD_DTYPES), name=st.sampled_from(("relu", "swish", "", 3, None)))
def test_dense_dtype_and_activation_names(dtype, name):
    check_clean(lambda: layers.Dense(3, 2, dtype=dtype), "dtype", repr(dtype))
    if name != "relu":
        check_clean(lambda: layers.get_activation(name), "activation", repr(name))
    check_clean(lambda: layers.LeakyReLU(negative_slope=-1.0), "negative_slope")
    check_clean(lambda: layers.Dense(3, 2, rng="seed"), "rng")
    check_clean(lambda: layers.Dense(3, 2, init="banana"), "init")


# ---------------------------------------------------------------------------- losses
LOSS_FUNCS = [losses.mse, losses.mae, losses.sse, losses.bce, losses.bce_with_logits]


@EXAMPLES
@given(kind=st.sampled_from(ARRAY_KINDS + ("out_of_range",)), seed=st.integers(0, 2**16),
       f=st.sampled_from(LOSS_FUNCS), which=st.sampled_from(("pred", "target")))
def test_losses(kind, seed, f, which):
    rng = np.random.default_rng(seed)
    good = {"pred": rng.uniform(0.1, 0.9, (4, 3)), "target": rng.uniform(0.1, 0.9, (4, 3))}
    if kind == "out_of_range":
        bad = good[which] + 2.0
        ranged = f is losses.bce or (f is losses.bce_with_logits and which == "target")
        ok = None if ranged else finite
    else:
        bad = bad_array(kind, (4, 3), rng)
        ok = finite if kind == "int" else None
        if kind in ("width", "ndim_less", "ndim_more", "empty"):  # a shape mismatch names both
            check_clean(lambda: call(f, good, which, bad), which, kind)
            return
    check_clean(lambda: call(f, good, which, bad), which, kind, ok=ok)


def call(f, good, which, bad):
    """``f(pred, target)`` with one of them bad (positional: bce_with_logits calls pred ``logits``)."""
    args = {**good, which: bad}
    return f(args["pred"], args["target"])


@EXAMPLES
@given(reduction=st.sampled_from(("avg", "", None, 0, "none ")), f=st.sampled_from(LOSS_FUNCS))
def test_loss_reduction(reduction, f):
    x = np.full((2, 2), 0.5)
    check_clean(lambda: f(x, x, reduction=reduction), "reduction", repr(reduction))


# ---------------------------------------------------------------------------- penalties
@EXAMPLES
@given(kind=st.sampled_from(ARRAY_KINDS + ("out_of_range",)), seed=st.integers(0, 2**16),
       rho=st.sampled_from((0.05, 0.0, 1.0, -0.1, 2.0, float("nan"), "0.1", None)))
def test_penalties(kind, seed, rho):
    rng = np.random.default_rng(seed)
    h = rng.uniform(0.1, 0.9, (4, 3)) + (2.0 if kind == "out_of_range" else 0.0)
    if kind != "out_of_range":
        h = bad_array(kind, (4, 3), rng)
    if kind not in ("width", "out_of_range"):
        check_clean(lambda: penalties.l1_activity(h), "h", kind, ok=finite if kind == "int" else None)
    if rho == 0.05:
        check_clean(lambda: penalties.kl_sparsity(h, rho), "h", kind,
                    ok=finite if kind in ("width", "int") else None)
    else:
        check_clean(lambda: penalties.kl_sparsity(np.full((3, 2), 0.5), rho), "rho", repr(rho))
    check_clean(lambda: penalties.l2_weight_decay({"W": np.ones((2, 2))}, rho), "lam", repr(rho),
                ok=finite if rho in (0.05, 0.0, 1.0, 2.0) else None)


# ---------------------------------------------------------------------------- optimisers
@EXAMPLES
@given(value=st.sampled_from(BAD_SCALARS + (0,)),
       which=st.sampled_from(("SGD.lr", "SGD.momentum", "SGD.weight_decay", "Adam.lr", "Adam.eps",
                              "Adam.weight_decay", "Adam.betas")))
def test_optimizer_hyper_parameters(value, which):
    cls_name, arg = which.split(".")
    cls = getattr(optim, cls_name)
    kwargs = {"lr": 0.1, arg: value}
    if arg == "betas":
        kwargs["betas"] = (value, 0.999)
        arg = "betas"
    valid_zero = value == 0 and arg in ("momentum", "weight_decay", "eps", "betas")
    check_clean(lambda: cls(**kwargs), arg, repr(value), ok=(lambda r: True) if valid_zero else None)


@EXAMPLES
@given(kind=st.sampled_from(("missing_key", "extra_key", "shape", "not_dict", "none_grad", "list_grad")),
       cls=st.sampled_from((optim.SGD, optim.Adam)))
def test_optimizer_step(kind, cls):
    params = {"W": np.ones((2, 3)), "b": np.zeros(2)}
    grads = {"W": np.ones((2, 3)), "b": np.ones(2)}
    if kind == "missing_key":
        grads.pop("b")
    elif kind == "extra_key":
        grads["c"] = np.ones(1)
    elif kind == "shape":
        grads["W"] = np.ones((3, 2))
    elif kind == "not_dict":
        grads = [np.ones((2, 3)), np.ones(2)]
    elif kind == "none_grad":
        grads["W"] = None
    elif kind == "list_grad":
        grads["b"] = [1.0, 2.0]
    name = "grads" if kind != "shape" else r"grads['W']"
    before = {k: v.copy() for k, v in params.items()}
    check_clean(lambda: cls(lr=0.1).step(params, grads), name.split("[")[0], kind)
    if kind != "list_grad":  # refused before any parameter changed
        assert all(np.array_equal(params[k], before[k]) for k in params)


# ---------------------------------------------------------------------------- models
MODELS = sorted((n, c) for n, c in model_classes().items() if c.__module__.startswith("npae."))


@pytest.fixture(scope="module")
def fitted():
    out = {}
    for name, cls in MODELS:
        model = small_model(cls, dtype=np.float32, random_state=0)
        X = example_input(model, 16, np.random.default_rng(0))
        model.fit(X, epochs=1, batch_size=8)
        out[name] = (model, X)
    return out


@pytest.mark.parametrize("name", [n for n, _ in MODELS])
@examples(15)
@given(kind=st.sampled_from(ARRAY_KINDS + ("out_of_range",)), seed=st.integers(0, 2**16),
       method=st.sampled_from(("fit", "encode", "score", "reconstruct", "validation_data")))
def test_model_methods(fitted, name, kind, seed, method):
    model, X = fitted[name]
    rng = np.random.default_rng(seed)
    bad = X + 3.0 if kind == "out_of_range" else bad_array(kind, X.shape, rng)
    bounded = model.loss == "bce" or getattr(model, "likelihood", None) == "bernoulli"
    no_loss = method in ("encode", "reconstruct")  # out-of-range values only matter to a bounded loss
    acceptable = (kind == "int" or (kind == "out_of_range" and (not bounded or no_loss))
                  or (kind == "none" and method == "validation_data"))  # None: no validation data
    if kind == "ndim_more" and len(getattr(model, "example_shape", (0,))) == 3:
        bad = bad[:, None, :]  # (N, 1, D): still the wrong shape for an image model
    call = {"fit": lambda: model.fit(bad, epochs=1, batch_size=8),
            "encode": lambda: model.encode(bad),
            "score": lambda: model.score(bad),
            "reconstruct": lambda: model.reconstruct(bad),
            "validation_data": lambda: model.fit(X, epochs=1, validation_data=bad)}[method]
    argname = "validation_data" if method == "validation_data" else "X"
    snapshot = {k: p.copy() for k, p in model.params.items()}
    check_clean(call, argname, f"{name}.{method}({kind})", ok=(lambda r: True) if acceptable else None)
    if not acceptable and method in ("fit", "validation_data"):  # refused before training started
        assert all(np.array_equal(model.params[k], snapshot[k]) for k in snapshot)


@pytest.mark.parametrize("name", [n for n, _ in MODELS])
@examples(10)
@given(kind=st.sampled_from(ARRAY_KINDS), seed=st.integers(0, 2**16))
def test_model_decode(fitted, name, kind, seed):
    model, X = fitted[name]
    H = model.encode(X[:4])
    bad = bad_array(kind, H.shape, np.random.default_rng(seed))
    check_clean(lambda: model.decode(bad), ("Z" if hasattr(model, "latent_dim") else "H"), kind,
                ok=(lambda r: len(r) == 4) if kind in ("int", "nan", "inf") else None)


@pytest.mark.parametrize("name,cls", MODELS)
@examples(12)
@given(value=st.sampled_from(BAD_SCALARS + BAD_DTYPES), data=st.data())
def test_model_constructor_arguments(name, cls, value, data):
    import inspect

    args = [n for n, p in inspect.signature(cls.__init__).parameters.items()
            if n != "self" and p.default is not inspect.Parameter.empty
            and (p.default is None or isinstance(p.default, (int, float, str, tuple)))]
    arg = data.draw(st.sampled_from(args))
    if arg == "random_state" and value in (None, 3):
        return
    if arg == "dtype" and value not in BAD_DTYPES:
        return
    if arg != "dtype" and value in BAD_DTYPES[:-1] and not isinstance(value, str):
        return
    default = inspect.signature(cls.__init__).parameters[arg].default
    if isinstance(default, bool) and value in (True,):
        return
    if value is None and (isinstance(default, bool) or not isinstance(default, (int, float))):
        return  # None is a meaningful value of many str/tuple/None-default arguments (no clip, same as...)
    if isinstance(value, list) and isinstance(default, tuple):
        return  # a list is as good a sequence as a tuple
    small = small_model(cls)
    kwargs = {k: v for k, v in small.get_params().items() if k != arg}
    check_clean(lambda: cls(**kwargs, **{arg: value}), arg, f"{name}({arg}={value!r})")


# ---------------------------------------------------------------------------- fit arguments
@EXAMPLES
@given(value=st.sampled_from(BAD_SCALARS + (0,)),
       arg=st.sampled_from(("epochs", "batch_size", "patience", "every", "min_delta", "verbose", "shuffle")))
def test_fit_arguments(value, arg):
    model = npae.Autoencoder(sizes=(6, 3), random_state=0)
    X = np.full((8, 6), 0.5, dtype=np.float32)
    valid = (arg in ("epochs", "min_delta", "verbose") and value == 0) \
        or (arg == "verbose" and value is True) or (arg == "shuffle" and value is True) \
        or (arg == "patience" and value is None)
    check_clean(lambda: model.fit(X, epochs=1, **{arg: value}), arg, repr(value),
                ok=(lambda r: True) if valid else None)


# ---------------------------------------------------------------------------- tools
@EXAMPLES
@given(path=st.sampled_from((3, None, 2.5, ["a"], b"\x00")))
def test_io_paths(path):
    check_clean(lambda: npae.load(path), "path", repr(path))
    check_clean(lambda: npae.Autoencoder(sizes=(4, 2)).save(path), "path", repr(path))


def test_gradcheck_wants_float64():
    x = np.ones(3, dtype=np.float32)
    check_clean(lambda: gradcheck.numerical_gradient(lambda: 0.0, x), "x")
    with pytest.raises(TypeError, match="float64"):  # a float32 model cannot be checked
        gradcheck.check_model(npae.Autoencoder(sizes=(4, 2), random_state=0), np.ones((2, 4)))


def test_datasets(tmp_path):
    from npae import datasets

    for blob, what in ((b"", "magic"), (b"\x00\x00\x08\x03\x00", "header"), (b"\x00\x00\x99\x01", "type"),
                       (b"\x00\x00\x08\x01\x00\x00\x00\x05abc", "truncated")):
        (tmp_path / "f").write_bytes(blob)
        check_clean(lambda: datasets.read_idx(tmp_path / "f"), "f", what)
    check_clean(lambda: datasets.load_mnist(tmp_path, kind="validation"), "kind")
    if hasattr(datasets, "natural_patches"):
        for n in (0, -3, 2.5, "10"):
            check_clean(lambda n=n: datasets.natural_patches(n=n), "n", repr(n))


# ---------------------------------------------------------------------------- the other modules
def _entries():
    """(id, call(value) -> result, argument name, good shape, kinds whose result is acceptable).

    Built lazily and defensively: a module or name that does not exist is skipped.
    """
    import importlib

    def get(module, name):
        try:
            return getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            return None

    rng = np.random.default_rng(0)
    ok_any = ("int",)
    any_shape = ("int", "empty", "ndim_less", "ndim_more", "width")  # functions of arrays of any shape
    out = []

    def add(id_, fn, arg, shape, ok=ok_any):
        if fn is not None:
            out.append((id_, fn, arg, shape, ok))

    for name in ("gaussian_noise", "masking_noise", "salt_and_pepper"):
        f = get("npae.noise", name)
        level = 0.1 if name == "gaussian_noise" else 0.3
        add(f"noise.{name}", f and (lambda v, f=f, level=level: f(v, level, np.random.default_rng(0))), "x",
            (4, 6), any_shape)
    for name, shape in (("psnr", (2, 8, 8)), ("ssim", (2, 16, 16))):
        f = get("npae.metrics", name)
        good = rng.uniform(0, 1, shape)
        add(f"metrics.{name}.a", f and (lambda v, f=f, g=good: f(v, g)), "a", shape)
        add(f"metrics.{name}.b", f and (lambda v, f=f, g=good: f(g, v)), "b", shape)
    for name in ("mean_squared_error", "mean_absolute_error"):
        f = get("npae.metrics", name)
        good = rng.uniform(0, 1, (4, 6))
        add(f"metrics.{name}", f and (lambda v, f=f, g=good: f(v, g)), "x", (4, 6))
        add(f"metrics.{name}.x_hat", f and (lambda v, f=f, g=good: f(g, v)), "x_hat", (4, 6))
    for name in ("mean_activation", "sparsity_stats", "fraction_active", "dead_units"):
        f = get("npae.metrics", name)
        add(f"metrics.{name}", f, "h", (6, 4), ("int", "width"))
    f = get("npae.metrics", "roc_auc")
    labels = np.array([0, 1] * 5)
    add("metrics.roc_auc.scores", f and (lambda v, f=f: f(v, labels)), "scores", (10,))
    PCA = get("npae.pca", "PCA")
    X_pca = rng.uniform(0, 1, (20, 6))
    add("pca.fit", PCA and (lambda v: PCA(3).fit(v)), "X", (20, 6), ("int", "width"))
    fitted_pca = PCA(3).fit(X_pca) if PCA else None
    add("pca.transform", PCA and (lambda v: fitted_pca.transform(v)), "X", (20, 6))
    angles = get("npae.pca", "principal_angles")
    add("pca.principal_angles", angles and (lambda v: angles(v, X_pca[:, :3])), "A", (20, 3),
        ("int", "width"))
    jac = get("npae.penalties", "jacobian")
    enc = npae.Autoencoder(sizes=(6, 3), activation="sigmoid", random_state=0, dtype=np.float64).encoder
    add("penalties.jacobian", jac and (lambda v: jac(enc, v)), "x", (4, 6))
    con = get("npae.penalties", "contractive")
    add("penalties.contractive", con and (lambda v: con(enc, v)), "x", (4, 6))
    # (The conv, pooling and reshape layers are not here: a layer's forward and backward trust their
    # arguments, which the models check at their door; their NaN/Inf contract is in their own tests.)

    def gen():
        return np.random.default_rng(0)

    wm = get("npae.watermark", "add_watermark")
    # (N, H, W) or (N, C, H, W): an extra axis is read as channels, and then W = 1 is too small
    add("watermark.add_watermark", wm and (lambda v: wm(v, gen())), ("images", "image_shape"), (3, 12, 12),
        ("int", "width"))
    for name in ("binary_cross_entropy", "reconstruction_errors"):
        f = get("npae.metrics", name)
        good = rng.uniform(0.1, 0.9, (4, 6))
        add(f"metrics.{name}", f and (lambda v, f=f, g=good: f(v, g)), "x", (4, 6))
        add(f"metrics.{name}.mask", f and (lambda v, f=f, g=good: f(g, g, mask=v)), "mask", (4, 6),
            ("none",))  # None: no mask
    for name in ("roc_auc", "roc_curve"):
        f = get("npae.metrics", name)
        scores = rng.uniform(0, 1, 10)
        add(f"metrics.{name}.labels", f and (lambda v, f=f, scores=scores: f(scores, v)), "labels", (10,),
            ("int",))
    jn = get("npae.metrics", "jacobian_norms")
    dense_ae = npae.Autoencoder(sizes=(6, 3), activation="sigmoid", random_state=0, dtype=np.float64)
    add("metrics.jacobian_norms", jn and (lambda v: jn(dense_ae, v)), ("X", "x"), (4, 6))
    lbfgs = get("npae.optim", "lbfgs")
    add("optim.lbfgs", lbfgs and (lambda v: lbfgs(npae.Autoencoder(sizes=(6, 3), random_state=0,
                                                                   dtype=np.float64), v, max_iter=2)),
        "X", (4, 6))
    basis = get("npae.pca", "orthonormal_basis")
    add("pca.orthonormal_basis", basis, "A", (8, 3), ("int", "width"))
    corrupt = get("npae.noise", "corrupt")
    add("noise.corrupt", corrupt and (lambda v: corrupt(v, "gaussian", 0.1, gen())), "x", (4, 6),
        ("int", "empty", "ndim_less", "ndim_more", "width"))
    apply_wm = get("npae.watermark", "apply_watermark")
    imgs = rng.uniform(0, 1, (3, 8, 8))
    add("watermark.apply_watermark.masks", apply_wm and (lambda v: apply_wm(imgs, v)), "masks", (3, 8, 8),
        ("int",))
    VAE = get("npae.models", "VAE")
    if VAE is not None:
        vae = VAE(sizes=(6, 4), latent_dim=2, random_state=0)
        add("VAE.elbo", lambda v: vae.elbo(v, rng=gen()), "X", (4, 6))
        add("VAE.log_likelihood", lambda v: vae.log_likelihood(v, k=3, rng=gen()), "X", (4, 6))
        add("VAE.interpolate", lambda v: latent.interpolate(vae, v, np.full(6, 0.5)), "x_a", (6,))
    return out


ENTRIES = _entries()


@pytest.mark.parametrize("entry", ENTRIES, ids=[e[0] for e in ENTRIES])
@examples(20)
@given(kind=st.sampled_from(ARRAY_KINDS), seed=st.integers(0, 2**16))
def test_other_modules_array_arguments(entry, kind, seed):
    id_, fn, arg, shape, ok_kinds = entry
    bad = bad_array(kind, shape, np.random.default_rng(seed))
    if kind == "ndim_less" and len(shape) == 1:
        bad = np.float64(0.5)
    check_clean(lambda: fn(bad), arg, f"{id_}({kind})", ok=(lambda r: True) if kind in ok_kinds else None)


@examples(30)
@given(value=st.sampled_from(BAD_SCALARS),
       which=st.sampled_from(("noise.sigma", "noise.fraction", "noise.noise", "vae.k", "vae.n", "vae.steps",
                              "pca.n_components", "metrics.data_range", "datasets.name", "lbfgs.max_iter")))
def test_other_modules_scalar_arguments(value, which):
    import importlib

    rng = np.random.default_rng(0)
    x = np.full((3, 4), 0.5)
    module, arg = which.split(".")
    try:
        if module == "noise" and arg == "noise":
            corrupt = importlib.import_module("npae.noise").corrupt
            call = lambda: corrupt(x, value, 0.1, rng)  # noqa: E731
        elif module == "noise":
            noise = importlib.import_module("npae.noise")
            f = noise.gaussian_noise if arg == "sigma" else noise.masking_noise
            call = lambda: f(x, value, rng)  # noqa: E731
        elif module == "datasets":
            sample_photo = importlib.import_module("npae.datasets").sample_photo
            call = lambda: sample_photo(value)  # noqa: E731
        elif module == "lbfgs":
            lbfgs = importlib.import_module("npae.optim").lbfgs
            model = npae.Autoencoder(sizes=(4, 2), random_state=0, dtype=np.float64)
            call = lambda: lbfgs(model, x, max_iter=value)  # noqa: E731
        elif module == "vae":
            vae = npae.VAE(sizes=(4, 3), latent_dim=2, random_state=0)
            call = {"k": lambda: vae.log_likelihood(x, k=value, rng=rng),
                    "n": lambda: vae.sample(value, rng=rng),
                    "steps": lambda: latent.interpolate(vae, x[0], x[1], steps=value)}[arg]
        elif module == "pca":
            call = lambda: npae.PCA(value)  # noqa: E731
        else:
            from npae.metrics import psnr
            call = lambda: psnr(x, x * 0.9, data_range=value)  # noqa: E731
    except (ImportError, AttributeError):
        pytest.skip(f"{which} not available")
    check_clean(call, arg, f"{which}={value!r}")


# ---------------------------------------------------------------------------- array subclasses at the door
@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")  # np.matrix's own warning
def test_a_matrix_is_taken_as_a_plain_array_and_gives_the_same_results():
    from npae._validation import check_array

    X = np.random.default_rng(0).uniform(0.1, 0.9, size=(6, 6))
    assert type(check_array(np.matrix(X), "X")) is np.ndarray
    model = npae.VAE(sizes=(6, 4), latent_dim=2, random_state=0, dtype=np.float64)
    model.fit(X, epochs=1, batch_size=3, random_state=0)
    expected = model.score(X, rng=np.random.default_rng(1))
    assert model.score(np.matrix(X), rng=np.random.default_rng(1)) == expected


def test_a_masked_array_with_masked_values_is_refused_and_one_without_is_its_data():
    X = np.random.default_rng(0).uniform(0.1, 0.9, size=(8, 6))
    hidden = X.copy()
    hidden[2, 3] = np.nan
    model = npae.Autoencoder(sizes=(6, 3), random_state=0)
    with pytest.raises(ValueError, match=r"X is a masked array with 1 masked value\(s\)"):
        model.fit(np.ma.masked_invalid(hidden), epochs=1)
    plain = npae.Autoencoder(sizes=(6, 3), random_state=0).fit(X, epochs=1, random_state=0)
    masked = npae.Autoencoder(sizes=(6, 3), random_state=0).fit(np.ma.masked_array(X, mask=False),
                                                                   epochs=1, random_state=0)
    np.testing.assert_array_equal(plain.reconstruct(X), masked.reconstruct(X))


# ---------------------------------------------------------------------------- learning rates
@pytest.mark.parametrize("returned", [-1.0, 0.0, 0, float("nan"), float("inf"), "0.1", None, True,
                                      np.array(0.1)])
def test_a_schedule_returning_no_valid_learning_rate_is_refused_naming_the_epoch(returned):
    model = npae.Autoencoder(sizes=(6, 3), random_state=0)
    X = np.random.default_rng(0).uniform(0.1, 0.9, size=(8, 6))

    def schedule(epoch, base_lr, epochs):
        return 1e-3 if epoch < 2 else returned

    with pytest.raises(ValueError, match=r"schedule .* returned the learning rate .* for epoch 3 \(base_lr "
                                         r"0\.001\); a learning rate must be a finite number > 0"):
        model.fit(X, epochs=4, schedule=schedule, optimizer=optim.Adam(lr=1e-3))
    assert len(model.history_["loss"]) == 2  # two epochs ran, the third was refused before its first step


@pytest.mark.parametrize("value, error", [(-5, ValueError), (0, ValueError), (float("nan"), ValueError),
                                          ("0.1", TypeError)])
def test_an_optimizer_learning_rate_set_by_hand_is_checked(value, error):
    for opt in (optim.SGD(lr=0.1), optim.Adam()):
        with pytest.raises(error, match="lr must be"):
            opt.lr = value
        opt.lr = 0.5
        assert opt.lr == 0.5


# ---------------------------------------------------------------------------- work in bounded chunks
def test_log_likelihood_memory_does_not_grow_with_k_and_the_chunks_give_the_same_estimate():
    import tracemalloc

    from scipy.special import logsumexp

    model = npae.VAE(sizes=(16, 8), latent_dim=8, random_state=0, dtype=np.float64)
    x = np.random.default_rng(1).uniform(0.05, 0.95, size=(1, 16))
    k = 20_000  # three chunks of samples: 8192, 8192, 3616
    got = model.log_likelihood(x, k=k, rng=np.random.default_rng(2))
    # the reference: the k samples in one array, log w_i = log p(x|z_i) + log p(z_i) - log q(z_i|x)
    mu, log_var = model.encode_distribution(x)  # (1, L)
    eps = np.random.default_rng(2).standard_normal((k,) + mu.shape)  # (k, 1, L)
    z = mu + np.exp(0.5 * log_var) * eps
    p = model.decode(z.reshape(k, -1))  # (k, 16)
    log_px = np.sum(x * np.log(p) + (1 - x) * np.log1p(-p), axis=1)
    log_pz = -0.5 * np.sum(np.log(2 * np.pi) + z[:, 0] ** 2, axis=1)
    log_qz = -0.5 * np.sum(np.log(2 * np.pi) + log_var + eps[:, 0] ** 2, axis=1)
    assert abs(got - (logsumexp(log_px + log_pz - log_qz) - np.log(k))) < 1e-6
    tracemalloc.start()
    model.log_likelihood(x, k=300_000, rng=np.random.default_rng(2))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 10 * 2**20, peak  # a (k, 1, L) eps alone would be 19 MB, with z and the log terms ~100 MB


# ---------------------------------------------------------------------------- smaller silent results
def test_max_pooling_an_input_smaller_than_its_window_is_an_error_not_an_empty_output():
    with pytest.raises(ValueError, match=r"input spatial size \(1, 1\) .* smaller than the kernel \(2, 2\)"):
        layers.MaxPool2D(2).forward(np.zeros((1, 1, 1, 1)))


def test_restore_best_must_be_a_bool():
    model = npae.Autoencoder(sizes=(6, 3), random_state=0)
    X = np.random.default_rng(0).uniform(0.1, 0.9, size=(8, 6))
    with pytest.raises(TypeError, match=r"restore_best must be a bool, got str \('x'\)"):
        model.fit(X, epochs=1, patience=1, restore_best="x")


# ---------------------------------------------------------------------------- the lower-level API
def test_latent_tools_on_a_model_without_a_latent_space_are_type_errors():
    ae = npae.Autoencoder(sizes=(6, 3), random_state=0)
    x = np.full(6, 0.5)
    with pytest.raises(TypeError, match="model: interpolate needs a variational autoencoder .* Autoencoder"):
        latent.interpolate(ae, x, x)
    with pytest.raises(TypeError, match="model: manifold needs a variational autoencoder"):
        latent.manifold(ae)


def test_lbfgs_and_check_model_on_a_classifier_and_a_zero_step():
    X = np.random.default_rng(0).uniform(0.1, 0.9, size=(8, 6))
    clf = npae.models.Classifier((6, 4, 3), random_state=0, dtype=np.float64)
    with pytest.raises(TypeError, match="model: lbfgs minimises a loss of X alone .* Classifier learns from"):
        optim.lbfgs(clf, X, max_iter=2)
    with pytest.raises(TypeError, match="y: a Classifier learns from labels"):
        gradcheck.check_model(clf, X)
    with pytest.raises(ValueError, match=r"h must be in \(0, inf\], got 0"):
        gradcheck.check_model(npae.Autoencoder((6, 3), dtype=np.float64, random_state=0), X, h=0)


def test_stacked_layer_args_name_the_argument_the_pretraining_model_lacks():
    with pytest.raises(TypeError, match=r"layer_args\[0\]: .* unexpected keyword argument 'bogus'"):
        npae.StackedAutoencoder((6, 4, 3), layer_args={"bogus": 1})


def test_gradcheck_refuses_a_dtype(capsys):
    from npae import cli

    assert cli.main(["gradcheck", "autoencoder", "--dtype", "float32"]) == 1
    assert "--dtype float32: a gradient check runs in float64" in capsys.readouterr().err


def test_fit_names_an_unknown_option():
    model = npae.Autoencoder(sizes=(6, 3), random_state=0)
    with pytest.raises(TypeError, match=r"fit got unknown option\(s\) \['foo'\]; the options are \['y'"):
        model.fit(np.full((4, 6), 0.5), foo=1)


def test_finite_data_whose_squares_overflow_is_refused_not_scored_as_inf():
    model = npae.Autoencoder(sizes=(6, 3), loss="mse", output_activation="identity", random_state=0)
    with pytest.raises(ValueError, match=r"X holds values up to 1e\+30 in magnitude, beyond 1\.84e\+16, "
                                         r"where squares overflow float32"):
        model.score(np.full((4, 6), 1e30))
    with pytest.raises(ValueError, match="validation_data holds values up to 1e"):
        model.fit(np.full((4, 6), 0.5), epochs=1, validation_data=np.full((4, 6), -1e30))
    assert np.isfinite(model.score(np.full((4, 6), 1e15)))
