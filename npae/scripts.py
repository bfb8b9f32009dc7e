"""What the example scripts and the command line share: checked arguments and loading MNIST.

Every MNIST example in ``examples/`` starts the same way::

    parser = example_parser(__doc__, "denoising", steps=630, lr=2e-3)
    parser.add_argument("--hidden", type=positive_int, default=512)   # the example's own options
    args = parser.parse_args(argv)
    X_train, y_train, X_test, y_test, source = load_mnist_or_exit(parser, args)
    epochs = epochs_for(args.steps, len(X_train), args.batch_size)   # as long on any folder

:func:`example_parser` adds ``--data-dir`` (default ``$NPAE_DATA_DIR``), ``--out`` (default
``npae-out/<name>``), ``--n-train`` and ``--n-test`` (default :data:`DEFAULT_N_TRAIN` and
:data:`DEFAULT_N_TEST`, ``all`` for every image), ``--seed`` and, when the example gives them a
default, ``--epochs`` (or ``--steps``, a length in updates: :func:`epochs_for`), ``--batch-size``
and ``--lr``. :func:`load_mnist_or_exit` reads the data with :func:`npae.datasets.mnist_split`,
prints what it read and turns a missing folder or a bad file into a usage error (exit status 2)
instead of a traceback.

Arguments are checked at the door: every number goes through a type below (``positive_int``,
``fraction``...), so ``parse_args`` refuses ``--epochs -1`` with ``argument --epochs: expected an
integer >= 1, got '-1'`` before any file is read.
"""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Callable

import numpy as np

from ._validation import check_output_file, check_output_folder
from .datasets import DataError, mnist_split

#: The usage error when neither ``--data-dir`` nor ``$NPAE_DATA_DIR`` names a folder.
NO_DATA_MESSAGE = "no MNIST folder: pass --data-dir DIR or set NPAE_DATA_DIR"

#: The images an example trains and evaluates on unless given ``--n-train``/``--n-test`` (a number
#: or ``all``): what a folder holding only MNIST's 10,000 test images gives (the first 8,000 train,
#: see :data:`npae.datasets.TEST_ONLY_SPLIT`, the last 2,000 evaluate), so that every example costs
#: the same, about a minute on two cores, whether the folder holds 10,000 images or 70,000.
DEFAULT_N_TRAIN = 8000
DEFAULT_N_TEST = 2000


# ---------------------------------------------------------------------------- argument types
def argument_type(kind: type, test: Callable[[float], bool], expected: str) -> Callable[[str], int | float]:
    """An argparse ``type``: ``kind(text)`` when it is finite and passes ``test``, else a usage error.

    ``argument_type(int, lambda v: v >= 1, "an integer >= 1")`` turns ``"-1"`` into the message
    ``argument --epochs: expected an integer >= 1, got '-1'`` (argparse adds the option's name).
    """
    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or not math.isfinite(value) or not test(value):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        return value

    parse.__name__ = expected  # what argparse calls the type in its own messages
    return parse


positive_int = argument_type(int, lambda v: v >= 1, "an integer >= 1")
nonnegative_int = argument_type(int, lambda v: v >= 0, "an integer >= 0")
positive_float = argument_type(float, lambda v: v > 0, "a number > 0")
nonnegative_float = argument_type(float, lambda v: v >= 0, "a number >= 0")
fraction = argument_type(float, lambda v: 0 <= v <= 1, "a number from 0 to 1")
#: A code size for MNIST's 784 pixels: at most one unit per pixel.
code_size = argument_type(int, lambda v: 1 <= v <= 784, "an integer from 1 to 784")


def n_images(text: str) -> int | None:
    """An argparse ``type`` for a number of images: a positive integer, or ``all`` (None)."""
    if text.strip().lower() == "all":
        return None
    try:
        return positive_int(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1 or 'all', got {text!r}") from None


def existing_folder(text: str) -> str:
    """An argparse ``type`` for ``--data-dir``: an existing folder (its files are read later)."""
    if not os.path.isdir(text):
        raise argparse.ArgumentTypeError(f"expected an existing folder, got {text!r}")
    return text


def new_file(text: str) -> str:
    """An argparse ``type`` for a file to write, checked before any data is read or any training starts.

    The rules of :func:`npae._validation.check_output_file`: a regular file (or a symlink to one) or
    a new name, never a folder, a device, ``''`` or a name ending in ``/``, in an existing folder
    where a file can be created (probed with an empty temporary file, created and removed).
    """
    try:
        check_output_file(text, "path", error=ValueError, probe=True)
    except ValueError as exc:
        message = f"expected a file in an existing folder, got {text!r} ({exc})"
        raise argparse.ArgumentTypeError(message) from None
    return text


def new_png(text: str) -> str:
    """An argparse ``type`` for a picture to write: :func:`new_file`, and its name ends in ``.png``.

    matplotlib would otherwise add ``.png`` to a name without it (``--out grid`` writing
    ``grid.png``), so the file written would not be the file named.
    """
    if not text.lower().endswith(".png"):
        raise argparse.ArgumentTypeError(f"expected a file name ending in .png, got {text!r}")
    return new_file(text)


def new_folder(text: str) -> str:
    """An argparse ``type`` for an output folder (``--out`` of the examples), checked before any work.

    The folder may exist or not (it is created when the first figure is written), but it must not
    be a file, lie under a file, or be somewhere no file can be created
    (:func:`npae._validation.check_output_folder`).
    """
    try:
        check_output_folder(text, "path", error=ValueError)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a folder to write into, got {text!r} ({exc})") from None
    return text


# ---------------------------------------------------------------------------- the examples
def example_parser(doc: str, name: str, *, epochs: int | None = None, steps: int | None = None,
                   batch_size: int | None = None, lr: float | None = None,
                   formatter_class: type[argparse.HelpFormatter] = argparse.RawDescriptionHelpFormatter,
                   ) -> argparse.ArgumentParser:
    """The argument parser of an example script, with the options every example shares.

    Parameters
    ----------
    doc : str
        The script's module docstring; its first paragraph becomes the ``--help`` description.
    name : str
        The example's name: ``--out`` defaults to ``npae-out/<name>``.
    epochs, batch_size : int or None
        Defaults of ``--epochs`` and ``--batch-size``; None leaves the option out (for scripts
        that do not have it, or name it differently).
    steps : int or None
        Default of ``--steps``, a training length counted in updates instead of epochs (see
        :func:`epochs_for`), for an example whose claim must hold on a folder of any size;
        None leaves the option out.
    lr : float or None
        Default of ``--lr`` (the Adam learning rate); None leaves the option out.
    formatter_class : argparse.HelpFormatter subclass
        How ``--help`` is laid out (default: the description's line breaks are kept).

    Returns
    -------
    argparse.ArgumentParser
        Add the example's own options to it, then call ``parse_args``. ``--data-dir`` defaults
        to ``$NPAE_DATA_DIR`` as it is when this function is called (None if unset).
    """
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0], formatter_class=formatter_class)
    parser.add_argument("--data-dir", type=existing_folder, default=os.environ.get("NPAE_DATA_DIR"),
                        help="folder of the MNIST-format IDX files (default $NPAE_DATA_DIR, now %(default)s)")
    parser.add_argument("--out", type=new_folder, default=f"npae-out/{name}",
                        help="where figures and metrics.json go (default %(default)s)")
    if epochs is not None:
        parser.add_argument("--epochs", type=positive_int, default=epochs,
                            help="passes over the training images (default %(default)s)")
    if steps is not None:
        parser.add_argument("--steps", type=positive_int, default=steps,
                            help="updates of each model, whatever the number of training images "
                                 "(default %(default)s)")
    if batch_size is not None:
        parser.add_argument("--batch-size", type=positive_int, default=batch_size,
                            help="images per optimiser step (default %(default)s)")
    if lr is not None:
        parser.add_argument("--lr", type=positive_float, default=lr,
                            help="Adam learning rate (default %(default)s)")
    parser.add_argument("--n-train", type=n_images, default=DEFAULT_N_TRAIN,
                        help="train on the first N training images, or 'all' (default %(default)s)")
    parser.add_argument("--n-test", type=n_images, default=DEFAULT_N_TEST,
                        help="evaluate on the first N held-out images, or 'all' (default %(default)s)")
    parser.add_argument("--seed", type=nonnegative_int, default=0,
                        help="seeds the weights, the batches and the noise (default %(default)s)")
    return parser


def epochs_for(steps: int, n: int, batch_size: int) -> int:
    """Epochs that make at least ``steps`` updates of ``batch_size`` rows on ``n`` rows.

    A training length in updates means the same on every folder: 10 epochs are 630 updates on
    8,000 images but 240 on 3,000, too few for a model that needed 600 on digits.
    """
    return max(1, math.ceil(steps / math.ceil(n / batch_size)))


def load_mnist_or_exit(parser: argparse.ArgumentParser, args: argparse.Namespace,
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, str]:
    """MNIST as :func:`npae.datasets.mnist_split` gives it, or a usage error naming the problem.

    Prints ``data: <data set or "unidentified", folder, images used out of how many>``. Images that
    are not 28x28 or labels outside 0..9 are a usage error too: every example is written for them.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The parser that made ``args`` (its ``error`` prints the usage and exits with status 2).
    args : argparse.Namespace
        Parsed arguments with ``data_dir`` and optionally ``n_train`` and ``n_test`` (None or
        missing: all).

    Returns
    -------
    X_train : ndarray, shape (N_train, 784)
        Training images as rows, float32 in [0, 1].
    y_train : ndarray, shape (N_train,)
        Their labels.
    X_test : ndarray, shape (N_test, 784)
        Held-out images as rows.
    y_test : ndarray, shape (N_test,)
        Their labels.
    source : str
        The sentence that was printed, for ``metrics.json``.
    """
    if not args.data_dir:
        parser.error(NO_DATA_MESSAGE)
    try:
        X_train, y_train, X_test, y_test, source = mnist_split(args.data_dir,
                                                               n_train=getattr(args, "n_train", None),
                                                               n_test=getattr(args, "n_test", None))
    except DataError as exc:
        parser.error(str(exc))
    if X_train.shape[1] != 784:
        side = math.isqrt(X_train.shape[1])
        size = f"{side}x{side}" if side * side == X_train.shape[1] else f"{X_train.shape[1]}-pixel"
        parser.error(f"{args.data_dir} holds {size} images; the examples take MNIST's 28x28 (784 pixels)")
    for y, which in ((y_train, "training"), (y_test, "test")):
        if y.size and (y.min() < 0 or y.max() > 9):
            parser.error(f"{args.data_dir}: the {which} labels run from {y.min()} to {y.max()}; the examples "
                         f"take MNIST's class ids 0 to 9")
    print(f"data: {source}")
    return X_train, y_train, X_test, y_test, source


__all__ = ["DEFAULT_N_TEST", "DEFAULT_N_TRAIN", "NO_DATA_MESSAGE", "argument_type", "code_size", "epochs_for",
           "example_parser", "existing_folder", "fraction", "load_mnist_or_exit", "n_images", "new_file",
           "new_folder", "new_png",
           "nonnegative_float", "nonnegative_int", "positive_float", "positive_int"]
