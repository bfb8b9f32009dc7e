"""What the example scripts share: their standard arguments and loading MNIST with a clear error.

Every MNIST example in ``examples/`` starts the same way::

    parser = example_parser(__doc__, "denoising", epochs=5, lr=2e-3)
    parser.add_argument("--hidden", type=int, default=256)   # the example's own options
    args = parser.parse_args(argv)
    X_train, y_train, X_test, y_test, source = load_mnist_or_exit(parser, args)

:func:`example_parser` adds ``--data-dir`` (default ``$NPAE_DATA_DIR``), ``--out`` (default
``npae-out/<name>``), ``--n-train``, ``--seed`` and, when the example gives them a default,
``--epochs``, ``--batch-size`` and ``--lr``. :func:`load_mnist_or_exit` reads the data with
:func:`npae.datasets.mnist_split`, prints which data it used and turns a missing folder or a
bad file into a usage error (exit status 2) instead of a traceback.
"""

from __future__ import annotations

import argparse
import os

import numpy as np

from .datasets import DataError, mnist_split

#: The usage error when neither ``--data-dir`` nor ``$NPAE_DATA_DIR`` names a folder.
NO_DATA_MESSAGE = "no MNIST folder: pass --data-dir DIR or set NPAE_DATA_DIR"


def example_parser(doc: str, name: str, *, epochs: int | None = None, batch_size: int | None = None,
                   lr: float | None = None, n_train: int | None = None,
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
    lr : float or None
        Default of ``--lr`` (the Adam learning rate); None leaves the option out.
    n_train : int or None
        Default of ``--n-train`` (use only the first N training images); None means all of them.
    formatter_class : argparse.HelpFormatter subclass
        How ``--help`` is laid out (default: the description's line breaks are kept).

    Returns
    -------
    argparse.ArgumentParser
        Add the example's own options to it, then call ``parse_args``. ``--data-dir`` defaults
        to ``$NPAE_DATA_DIR`` as it is when this function is called (None if unset).
    """
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0], formatter_class=formatter_class)
    parser.add_argument("--data-dir", default=os.environ.get("NPAE_DATA_DIR"),
                        help="folder with the MNIST IDX files (default $NPAE_DATA_DIR, now %(default)s)")
    parser.add_argument("--out", default=f"npae-out/{name}",
                        help="where figures and metrics.json go (default %(default)s)")
    if epochs is not None:
        parser.add_argument("--epochs", type=int, default=epochs,
                            help="passes over the training images (default %(default)s)")
    if batch_size is not None:
        parser.add_argument("--batch-size", type=int, default=batch_size,
                            help="images per optimiser step (default %(default)s)")
    if lr is not None:
        parser.add_argument("--lr", type=float, default=lr, help="Adam learning rate (default %(default)s)")
    parser.add_argument("--n-train", type=int, default=n_train,
                        help="use only the first N training images (default %(default)s; None: all)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seeds the weights, the batches and the noise (default %(default)s)")
    return parser


def load_mnist_or_exit(parser: argparse.ArgumentParser, args: argparse.Namespace,
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, str]:
    """MNIST as :func:`npae.datasets.mnist_split` gives it, or a usage error naming the problem.

    Prints ``data: <sentence saying which images train and which evaluate>``.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The parser that made ``args`` (its ``error`` prints the usage and exits with status 2).
    args : argparse.Namespace
        Parsed arguments with ``data_dir`` and optionally ``n_train`` (None or missing: all).

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
        The sentence that was printed (with the two image counts), for ``metrics.json``.
    """
    if not args.data_dir:
        parser.error(NO_DATA_MESSAGE)
    try:
        X_train, y_train, X_test, y_test, source = mnist_split(args.data_dir,
                                                               n_train=getattr(args, "n_train", None))
    except DataError as exc:
        parser.error(str(exc))
    print(f"data: {source}")
    print(f"training on {len(X_train)} images, evaluating on {len(X_test)}")
    return X_train, y_train, X_test, y_test, source


__all__ = ["NO_DATA_MESSAGE", "example_parser", "load_mnist_or_exit"]
