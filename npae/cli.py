"""The command line: ``python -m npae`` (installed as ``npae``).

::

    npae models                                         # the model classes and their arguments
    npae train MODEL --data-dir D --epochs E --out model.npz [--ARG VALUE ...]
    npae evaluate model.npz --data-dir D                # the model's metrics on held-out images
    npae reconstruct model.npz --data-dir D --out grid.png
    npae sample model.npz --n 64 --out samples.png     # VAEs
    npae gradcheck MODEL [--ARG VALUE ...]              # every parameter's error and norms, the worst first
    npae train --resume CHECKPOINT --data-dir D --out model.npz   # the checkpoint names the model
    npae ... --import MODULE                            # anywhere: a module of your own model classes
    npae exercise list | start NAME | check NAME [--run]  # write a backward pass, get it graded

``MODEL`` is a model class name, any case, with or without dashes (``autoencoder``,
``sparse-autoencoder``, ``vae``, ``conv-vae``...). Every subclass of ``BaseAutoencoder``
that exists when the command runs is available, and its constructor arguments are options:
``--sizes 784,256,32 --activation relu --loss bce``. Values are read as Python literals
(``784,256,32`` is a tuple, ``none`` is None, ``true``/``false`` are booleans), anything else
as a string. Every argument is checked before any file is read: a bad option value is a usage
error (status 2, the same message as the examples give, e.g. ``argument --epochs: expected an
integer >= 1, got '-1'``), every path to write (``--out``, ``--checkpoint``) must name a file in a
folder where one can be created (``npae._validation.check_output_file``), and the model is built from
its arguments before the data is loaded.
Any other error prints one line and exits with status 1 (``--debug`` shows the traceback).
"""

from __future__ import annotations

import argparse
import ast
import importlib
import inspect
import os
import sys
from collections.abc import Sequence

import numpy as np

from .exercises import command as exercise_command
from .scripts import (
    argument_type,
    existing_folder,
    n_images,
    new_file,
    new_png,
    nonnegative_float,
    nonnegative_int,
    positive_float,
    positive_int,
)

#: Small arguments for ``gradcheck`` (and the generic tests): applied when the class takes them.
#: tanh is smooth, so central differences are valid everywhere. With ReLU a pre-activation at
#: the kink makes a correct gradient look wrong: in a small conv net, a window of a ReLU'd,
#: upsampled map that is all zeros gives a pre-activation of exactly ``0 + b = 0`` (biases start
#: at 0), whatever ``h``. Pass ``--activation relu`` to check it anyway.
SMALL_ARGS = {"sizes": (12, 6, 3), "latent_dim": 2, "input_shape": (1, 8, 8), "channels": (2, 3),
              "activation": "tanh"}
#: Per-class overrides of SMALL_ARGS (a VAE's sizes end before its latent layer; KL sparsity
#: needs a sigmoid code).
SMALL_ARGS_BY_CLASS = {"VAE": {"sizes": (12, 6)}, "ConvVAE": {"channels": (2,)},
                       "SparseAutoencoder": {"activation": "sigmoid"}}
#: The most samples ``sample`` draws: a mosaic of 100 x 100 images (10**7 would need 31 GB of pixels).
MAX_SAMPLES = 10_000
#: The input width of each ``--data`` choice: ``train`` builds the model before it reads the data.
DATA_WIDTH = {"mnist": 784, "patches": 64}


class CLIError(ValueError):
    """A user mistake on the command line (printed as one line)."""


# ---------------------------------------------------------------------------- models by name
def _key(name: str) -> str:
    return name.lower().replace("-", "").replace("_", "")


def _kebab(name: str) -> str:
    out = ""
    for i, ch in enumerate(name):
        if ch.isupper() and i and (name[i - 1].islower() or (i + 1 < len(name) and name[i + 1].islower())):
            out += "-"
        out += ch.lower()
    return out


def model_class(name: str) -> type:
    """The model class called ``name`` (``"sparse-autoencoder"``, ``"SparseAutoencoder"``, ``"vae"``)."""
    from .io import model_classes

    classes = model_classes()
    found = {_key(n): c for n, c in classes.items()}.get(_key(name))
    if found is None:
        raise CLIError(f"unknown model {name!r}; choose one of: "
                       f"{', '.join(sorted(_kebab(n) for n in classes))}; for a class of your own, add "
                       f"--import MODULE (the module that defines it)")
    return found


def constructor_args(cls: type) -> dict[str, inspect.Parameter]:
    return {n: p for n, p in inspect.signature(cls.__init__).parameters.items() if n != "self"}


def parse_value(text: str):
    """A command-line value: a Python literal when it is one (``784,32`` -> (784, 32)), else the string."""
    low = text.strip().lower()
    if low in ("none", "null"):
        return None
    if low in ("true", "false"):
        return low == "true"
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def parse_model_args(cls: type, extra: Sequence[str]) -> dict:
    """``["--sizes", "784,32", "--loss=bce"]`` -> ``{"sizes": (784, 32), "loss": "bce"}``, names checked."""
    allowed = constructor_args(cls)
    out, i = {}, 0
    extra = list(extra)
    while i < len(extra):
        item = extra[i]
        if not item.startswith("--"):
            raise CLIError(f"unexpected argument {item!r} (model arguments are --name value)")
        name, eq, value = item[2:].partition("=")
        if not eq:
            if i + 1 >= len(extra):
                raise CLIError(f"--{name} needs a value")
            value, i = extra[i + 1], i + 1
        i += 1
        key = name.replace("-", "_")
        if key not in allowed or key == "random_state":  # the seed is --seed
            opts = ", ".join("--" + n.replace("_", "-") for n in allowed if n != "random_state")
            raise CLIError(f"{cls.__name__} has no argument --{name}; its arguments: {opts}")
        out[key] = parse_value(value)
    return out


def small_model(cls: type, dtype=np.float64, random_state=0, **overrides):
    """A small instance of ``cls`` for gradient checks and tests (``SMALL_ARGS`` it accepts)."""
    allowed = constructor_args(cls)
    small = {**SMALL_ARGS, **SMALL_ARGS_BY_CLASS.get(cls.__name__, {}), **getattr(cls, "gradcheck_args", {})}
    args = {k: v for k, v in small.items() if k in allowed}
    args.update(overrides)
    if "dtype" in allowed:
        args["dtype"] = dtype
    if "random_state" in allowed:
        args["random_state"] = random_state
    return cls(**args)


def example_input(model, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` random rows in (0.05, 0.95) of the model's input width (valid for every loss)."""
    return rng.uniform(0.05, 0.95, size=(n, model.n_features)).astype(model.dtype)


# ---------------------------------------------------------------------------- data and images
def load_data(args) -> tuple[np.ndarray, np.ndarray, str]:
    """Training rows, held-out rows and a sentence saying what they are."""
    from . import datasets

    if args.data == "patches":
        X = datasets.natural_patches(n=args.n_train or 10000, rng=args.seed)
        n_test = max(len(X) // 5, 1)
        return X[n_test:], X[:n_test], f"{len(X)} 8x8 natural-image patches ({n_test} held out)"
    X_train, _, X_test, _, source = datasets.mnist_split(args.data_dir, n_train=args.n_train,
                                                         n_test=args.n_test)
    return X_train, X_test, source


def image_shape(model) -> tuple[int, int]:
    shape = getattr(model, "input_shape", None)
    if shape is not None and shape[0] == 1:
        return tuple(shape[1:])
    side = int(round(np.sqrt(model.n_features)))
    if side * side != model.n_features:
        raise CLIError(f"cannot draw inputs of {model.n_features} features as square images")
    return side, side


# ---------------------------------------------------------------------------- commands
def cmd_models(args) -> int:
    from .io import model_classes

    for name, cls in sorted(model_classes().items()):
        sig = ", ".join(f"{n}={p.default!r}" for n, p in constructor_args(cls).items()
                        if n not in ("random_state", "dtype"))
        print(f"{_kebab(name):24s} {sig}")
    return 0


def _optimizer(args):
    from .optim import SGD, Adam

    if args.optimizer in (None, "adam"):  # None: not given, Adam
        return Adam(lr=args.lr if args.lr is not None else 1e-3, weight_decay=args.optim_weight_decay)
    return SGD(lr=args.lr if args.lr is not None else 0.1, momentum=args.momentum,
               weight_decay=args.optim_weight_decay)


def new_model(args, extra):
    """The model ``train`` asked for, built from its arguments (before any data is read)."""
    cls = model_class(args.model)
    margs = parse_model_args(cls, extra)
    allowed = constructor_args(cls)
    width = DATA_WIDTH[args.data]
    sizes_default = allowed["sizes"].default if "sizes" in allowed else None
    if "sizes" not in margs and sizes_default is not None and sizes_default[0] != width:
        margs["sizes"] = (width,) + tuple(sizes_default[1:])
        print(f"note: --sizes {','.join(map(str, margs['sizes']))} (the default's input width set to the "
              f"data's {width} features)")
    if "random_state" in allowed:
        margs["random_state"] = args.seed
    try:
        return cls(**margs)
    except (TypeError, ValueError) as exc:
        raise CLIError(f"{cls.__name__}: {exc}") from exc


def cmd_train(args, extra) -> int:
    from .io import load

    if extra and args.resume:
        raise CLIError("model arguments cannot be changed when resuming: drop " + " ".join(extra))
    if args.resume:
        given = [f"--{name}" for name in ("lr", "optimizer") if getattr(args, name) is not None]
        if given:  # the checkpoint's optimiser and its state continue the run
            raise CLIError(f"{' and '.join(given)} cannot be changed when resuming: the checkpoint's "
                           f"optimiser continues; drop {' '.join(given)}")
        model = load(args.resume)
        if args.model is not None and model_class(args.model) is not type(model):
            raise CLIError(f"--resume {args.resume} is a checkpoint of {type(model).__name__}, not of "
                           f"{args.model}; drop the model name (the checkpoint names its model)")
        print(f"resuming {model!r} from {args.resume}")
    elif args.model is None:
        raise CLIError("train needs a model name (see `npae models`), or --resume CHECKPOINT")
    else:
        model = new_model(args, extra)
    X_train, X_test, source = load_data(args)
    if X_train.shape[1] != model.n_features:
        raise CLIError(f"the data has {X_train.shape[1]} features per example, the model takes "
                       f"{model.n_features}: pass --sizes (or --input-shape) to match")
    print(f"data: {source}")
    buffers = model.n_buffer_values() if hasattr(model, "n_buffer_values") else 0
    print(f"model: {model!r}, {model.n_parameters():,} parameters"
          + (f" (and {buffers:,} values kept but not trained)" if buffers else ""))
    model.fit(X_train, epochs=args.epochs, batch_size=args.batch_size,
              optimizer=None if args.resume else _optimizer(args),
              validation_data=None if args.no_val else X_test, verbose=0 if args.quiet else 1,
              patience=args.patience, schedule=args.schedule, checkpoint=args.checkpoint, every=args.every,
              resume=args.resume, drop_last=args.drop_last)
    model.save(args.out)
    print(f"test loss {model.score(X_test):.6g}  (saved to {args.out})")
    return 0


def metrics_of(model, X: np.ndarray, rng: np.random.Generator) -> dict[str, float]:
    """What ``evaluate`` prints: the model's loss and, where they apply, MSE, MAE, PSNR, SSIM, ELBO."""
    from . import metrics

    R = model.reconstruct(X).reshape(len(X), -1)  # (N, n_features)
    Xf = X.reshape(len(X), -1)
    out = {"score": float(model.score(X)), "mse": metrics.mean_squared_error(Xf, R),
           "mae": metrics.mean_absolute_error(Xf, R)}
    if Xf.min() >= 0 and Xf.max() <= 1 and R.min() >= 0 and R.max() <= 1:
        try:
            shape = image_shape(model)
            out["psnr_db"] = float(metrics.psnr(R.reshape((-1,) + shape), Xf.reshape((-1,) + shape)))
            if min(shape) >= 11:
                out["ssim"] = float(metrics.ssim(R.reshape((-1,) + shape), Xf.reshape((-1,) + shape)))
        except CLIError:
            pass
    if hasattr(model, "elbo"):
        out["elbo_nats"] = float(model.elbo(X, rng=rng))
    return out


def cmd_evaluate(args) -> int:
    from .io import load

    model = load(args.model_file)
    _, X_test, source = load_data(args)
    print(f"data: {source}; evaluating on {len(X_test)} held-out examples")
    print(f"model: {model!r}")
    for k, v in metrics_of(model, X_test, np.random.default_rng(args.seed)).items():
        print(f"{k:10s} {v:.6g}")
    return 0


def cmd_reconstruct(args) -> int:
    from .io import load
    from .metrics import mean_squared_error
    from .plotting import image_grid

    model = load(args.model_file)
    _, X_test, source = load_data(args)
    X = X_test[:args.n]
    R = model.reconstruct(X).reshape(len(X), -1)
    image_grid({"input": X, "reconstruction": R}, args.out, shape=image_shape(model),
               title=f"{type(model).__name__}: {len(X)} held-out examples")
    print(f"data: {source}\nsaved {args.out}: {len(X)} inputs and reconstructions, mse "
          f"{mean_squared_error(X, R):.5g}")
    return 0


def cmd_sample(args) -> int:
    from .io import load
    from .plotting import image_mosaic

    model = load(args.model_file)
    if not hasattr(model, "sample"):
        raise CLIError(f"{type(model).__name__} cannot sample: only the VAEs (VAE, ConvVAE) have a prior")
    images = np.asarray(model.sample(args.n, rng=np.random.default_rng(args.seed)))
    image_mosaic(images.reshape((-1,) + image_shape(model)), args.out,  # (n, H, W)
                 title=f"{args.n} samples from the prior, {type(model).__name__}")
    print(f"saved {args.out}: {args.n} samples from the prior")
    return 0


def gradcheck_model(cls: type, seed: int, extra: Sequence[str]):
    """The float64 model ``gradcheck`` checks: small arguments (``SMALL_ARGS``, the class's own
    ``gradcheck_args``, then the command line's), or an error saying which argument to pass."""
    given = parse_model_args(cls, extra)
    if "dtype" in given:
        raise CLIError(f"--dtype {given['dtype']}: a gradient check runs in float64 (central differences in "
                       f"float32 are too coarse for a relative error of 1e-7); drop --dtype")
    try:
        return small_model(cls, np.float64, seed, **given)
    except (TypeError, ValueError) as exc:
        allowed = constructor_args(cls)
        small = {k: v for k, v in {**SMALL_ARGS, **SMALL_ARGS_BY_CLASS.get(cls.__name__, {}),
                                   **getattr(cls, "gradcheck_args", {})}.items()
                 if k in allowed and k not in given}
        swapped = " ".join(f"--{k.replace('_', '-')} {_literal(v)}" for k, v in small.items())
        raise CLIError(f"{cls.__name__} cannot be built with the check's small arguments ({swapped}): {exc}; "
                       f"pass the argument(s) it needs on the command line, or give the class a "
                       f"gradcheck_args dict (docs/14-extending.md)") from exc


def _literal(value) -> str:
    """A value as the command line writes it: ``(12, 6, 3)`` -> ``12,6,3``."""
    return ",".join(map(str, value)) if isinstance(value, tuple) else str(value)


def cmd_gradcheck(args, extra) -> int:
    from .gradcheck import check_model, randomize_params

    cls = model_class(args.model)
    model = gradcheck_model(cls, args.seed, extra)
    rng = np.random.default_rng(args.seed)
    moved = randomize_params(model.params, rng)  # biases and gains off 0 and 1
    X = example_input(model, args.n, rng)
    report = check_model(model, X, rng_seed=args.seed)
    print(f"{model!r}, float64, {len(X)} random inputs, central differences (h = 1e-5)")
    if moved:
        print(f"moved off their constant starting values: {', '.join(moved)}")
    print(report.table(args.tol, args.atol))
    failed = report.failed(args.tol, args.atol)
    verdict = "FAILED: " + ", ".join(failed) if failed else "OK"
    print(f"max relative error {max(report.values()):.2e}: {verdict} "
          f"(an array passes when |a - n| <= atol {args.atol:g} + tol {args.tol:g} * (|a| + |n|))")
    return 1 if failed else 0


# ---------------------------------------------------------------------------- the parser
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="npae", description="Autoencoders from scratch in NumPy: train, "
                                "evaluate, reconstruct, sample, gradient-check.")
    p.add_argument("--debug", action="store_true", help="show the traceback of an error")
    p.add_argument("--import", dest="imports", action="append", default=[], metavar="MODULE",
                   help="import MODULE first (repeatable): a module of your own model classes, so that their "
                        "files can be opened and their names trained (docs/14-extending.md)")
    sub = p.add_subparsers(dest="command", required=True)

    def data_args(q, held_out: str):
        q.add_argument("--data-dir", type=existing_folder, default=None,
                       help="folder of the MNIST-format IDX files (default $NPAE_DATA_DIR)")
        q.add_argument("--data", choices=tuple(DATA_WIDTH), default="mnist",
                       help="MNIST-format files, or 8x8 natural-image patches (offline)")
        q.add_argument("--n-train", type=n_images, default=None,
                       help="keep the first N training examples (default: all)")
        q.add_argument("--n-test", type=n_images, default=None,
                       help=f"keep the first N {held_out} examples (default: all)")
        q.add_argument("--seed", type=nonnegative_int, default=0)

    sub.add_parser("models", help="list the model classes and their arguments")
    t = sub.add_parser("train", help="train MODEL and save it; model arguments as --name value",
                       epilog="Any constructor argument of the model is an option, e.g. --sizes 784,256,32 "
                              "--activation relu --loss bce (see `npae models`).")
    from .io import model_classes

    names = ", ".join(sorted(_kebab(n) for n in model_classes()))
    t.add_argument("model", nargs="?", default=None,
                   help=f"one of: {names} (not needed with --resume: the checkpoint names it)")
    data_args(t, "validation")
    t.add_argument("--epochs", type=positive_int, default=10)
    t.add_argument("--batch-size", type=positive_int, default=128)
    t.add_argument("--optimizer", choices=("adam", "sgd"), default=None, help="default adam")
    t.add_argument("--lr", type=positive_float, default=None, help="learning rate (Adam 1e-3, SGD 0.1)")
    t.add_argument("--momentum", type=argument_type(float, lambda v: 0 <= v < 1, "a number >= 0 and < 1"),
                   default=0.9, help="SGD momentum")
    t.add_argument("--optim-weight-decay", type=nonnegative_float, default=0.0,
                   help="the optimiser's L2 weight decay")
    t.add_argument("--patience", type=positive_int, default=None,
                   help="early stopping on the validation loss")
    t.add_argument("--schedule", choices=("step", "cosine"), default=None)
    t.add_argument("--checkpoint", type=new_file, default=None,
                   help="checkpoint file written every --every epochs")
    t.add_argument("--every", type=positive_int, default=1)
    t.add_argument("--resume", default=None, help="continue the run saved in this checkpoint")
    t.add_argument("--no-val", action="store_true", help="no validation loss per epoch")
    t.add_argument("--drop-last", action="store_true",
                   help="skip a last batch shorter than --batch-size (models with batch normalisation)")
    t.add_argument("--quiet", action="store_true", help="no progress bar and epoch lines")
    t.add_argument("--out", type=new_file, required=True, help="the model file to write (.npz)")
    for name, help_ in (("evaluate", "print the metrics of a saved model on held-out data"),
                        ("reconstruct", "save a grid of held-out inputs and their reconstructions")):
        q = sub.add_parser(name, help=help_)
        q.add_argument("model_file")
        data_args(q, "evaluation")
        if name == "reconstruct":
            q.add_argument("--n", type=positive_int, default=12, help="how many examples")
            q.add_argument("--out", type=new_png, required=True, help="the PNG to write")
    s = sub.add_parser("sample", help="save a grid of samples from a VAE's prior")
    s.add_argument("model_file")
    n_samples = argument_type(int, lambda v: 1 <= v <= MAX_SAMPLES, f"an integer from 1 to {MAX_SAMPLES}")
    s.add_argument("--n", type=n_samples, default=64,
                   help=f"how many samples (at most {MAX_SAMPLES:,}: one picture)")
    s.add_argument("--seed", type=nonnegative_int, default=0)
    s.add_argument("--out", type=new_png, required=True, help="the PNG to write")
    g = sub.add_parser("gradcheck", help="relative error of every parameter's gradient, small float64 model")
    g.add_argument("model", help=f"one of: {names}")
    g.add_argument("--n", type=positive_int, default=4, help="number of random inputs")
    g.add_argument("--seed", type=nonnegative_int, default=0)
    g.add_argument("--tol", type=positive_float, default=1e-7, help="relative tolerance")
    g.add_argument("--atol", type=nonnegative_float, default=1e-8,
                   help="absolute tolerance on |analytic - numeric| (a zero gradient's rounding noise)")
    exercise_command.add_parser(sub)
    return p


def import_user_modules(names: list[str]) -> None:
    """Import each module named with ``--import``: defining a model class registers it with npae.io.

    The current folder is searched first, as ``python -m`` does (the ``npae`` script alone would not).
    """
    if names and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    for name in names:
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise ValueError(f"--import {name}: cannot import it ({exc}); give a module name importable "
                             f"from the current folder or the Python path") from exc
        except SystemExit as exc:  # a script's top level, not a module: npae must not exit with its status
            raise ValueError(f"--import {name}: importing it called sys.exit({exc.code!r}); a module given "
                             f"to --import must define classes, not run a program (guard it with "
                             f"if __name__ == '__main__':)") from None


def take_imports(argv: list[str], parser: argparse.ArgumentParser) -> tuple[list[str], list[str]]:
    """``argv`` without its ``--import MODULE`` / ``--import=MODULE`` pairs, and the modules named.

    So ``npae train mymodels.Net --import mymodels ...`` works as well as ``npae --import mymodels
    train ...``: the modules are imported before the model name is looked up.
    """
    rest, modules, i = [], [], 0
    while i < len(argv):
        item = argv[i]
        if item == "--import":
            if i + 1 >= len(argv):
                parser.error("argument --import: expected one argument (a module name)")
            modules.append(argv[i + 1])
            i += 2
            continue
        if item.startswith("--import="):
            modules.append(item[len("--import="):])
        else:
            rest.append(item)
        i += 1
    return rest, modules


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (0 ok, 1 error, 130 interrupted)."""
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv  # accepted anywhere on the line, not only before the command
    argv = [a for a in argv if a != "--debug"]
    argv, imports = take_imports(argv, parser)  # --import MODULE is accepted anywhere too
    args, extra = parser.parse_known_args(argv)
    args.debug = debug
    args.imports = args.imports + imports
    if extra and args.command not in ("train", "gradcheck"):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        import_user_modules(args.imports)
        if args.command == "models":
            return cmd_models(args)
        if args.command == "train":
            return cmd_train(args, extra)
        if args.command == "gradcheck":
            return cmd_gradcheck(args, extra)
        commands = {"evaluate": cmd_evaluate, "reconstruct": cmd_reconstruct, "sample": cmd_sample,
                    "exercise": exercise_command.run}
        return commands[args.command](args)
    except KeyboardInterrupt:
        print("npae: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # one clear line, the traceback only with --debug
        if args.debug:
            raise
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"npae {args.command}: error: {msg}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
