"""Which data set a folder of IDX files holds, told by the files' MD5 checksums.

MNIST and Fashion-MNIST share one format and one set of file names
(``train-images-idx3-ubyte.gz`` ...), so only the bytes can tell them apart. :func:`identify`
names a data set only when every file's MD5 is one that data set's authors published, or the
MD5 of the decompressed bytes of such a file (for a folder someone ran ``gunzip`` on, or whose
gzip header was rewritten: Debian's ``dataset-fashion-mnist`` package strips the file name and
time stamp from the header, which changes the MD5 of the file but not of what it decompresses
to). Any other folder is "unidentified": npae then says what it read, never what it guesses.

Cost: one pass of MD5 over each file (about 0.05 s for the 26 MB training images), plus a
decompression for a re-compressed file. The small label files are hashed first, so a folder
that matches nothing costs one small hash.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from collections.abc import Iterable
from pathlib import Path

#: MD5 of the official gzipped MNIST files (the digests torchvision and the MNIST mirrors publish).
MNIST_MD5 = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}

#: MD5 of the gzipped Fashion-MNIST files, as its README publishes them. Checked against Debian's
#: copies: with the gzip header's file name and time stamp put back (2017-08-31 10:50:06 UTC for
#: the training files, 10:50:27 for the test files), each has exactly the published MD5.
FASHION_MNIST_MD5 = {
    "train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
    "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
    "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310",
}

#: MD5 of the decompressed IDX bytes of those files, computed from copies whose gzip matched
#: (so a gunzipped or re-compressed copy is recognised). The MNIST training files are missing:
#: no verified copy was at hand, and a digest that cannot be checked is not claimed.
DECOMPRESSED_MD5 = {
    "MNIST": {
        "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
        "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
    },
    "Fashion-MNIST": {
        "train-images-idx3-ubyte": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
        "train-labels-idx1-ubyte": "9018921c3c673c538a1fc5bad174d6f9",
        "t10k-images-idx3-ubyte": "8181f5470baa50b63fa0f6fddb340f0a",
        "t10k-labels-idx1-ubyte": "15d484375f8d13e6eb1aabb0c3f46965",
    },
}

#: Every known digest -> (data set, the file's name without ``.gz``).
KNOWN_FILES = {
    **{digest: (name, file.removesuffix(".gz"))
       for name, files in (("MNIST", MNIST_MD5), ("Fashion-MNIST", FASHION_MNIST_MD5))
       for file, digest in files.items()},
    **{digest: (name, file) for name, files in DECOMPRESSED_MD5.items() for file, digest in files.items()},
}


def md5(data: bytes) -> str:
    """The MD5 of ``data`` as 32 hex digits."""
    return hashlib.md5(data).hexdigest()


def identify_file(path: str | os.PathLike) -> tuple[str, str] | None:
    """``(data set, official file name without .gz)`` of a known file, or None.

    The file's own MD5 is looked up first; a gzip file that is not known as it is stored is
    decompressed and looked up again.
    """
    data = Path(path).read_bytes()
    found = KNOWN_FILES.get(md5(data))
    if found is None and data[:2] == b"\x1f\x8b":  # gzip magic: maybe a re-compressed known file
        try:
            found = KNOWN_FILES.get(md5(gzip.decompress(data)))
        except (OSError, EOFError):  # not a valid gzip stream after all: unknown
            return None
    return found


def identify(paths: Iterable[str | os.PathLike]) -> str | None:
    """The data set all ``paths`` belong to, each file under its own official name; else None.

    ``t10k-images-idx3-ubyte.gz`` must be that data set's test images, not its training images
    renamed, and a folder mixing two data sets is unidentified.
    """
    names = set()
    for path in sorted(map(Path, paths), key=lambda p: p.stat().st_size):  # small files first
        found = identify_file(path)
        if found is None or found[1] != path.name.removesuffix(".gz"):
            return None
        names.add(found[0])
    return names.pop() if len(names) == 1 else None


__all__ = ["DECOMPRESSED_MD5", "FASHION_MNIST_MD5", "KNOWN_FILES", "MNIST_MD5", "identify",
           "identify_file", "md5"]
