"""CIFAR-10 as sequences: sequential CIFAR (LRA Image, the sCIFAR ablation).

Files of the "CIFAR-10 python version" (cifar-10-python.tar.gz):

    <root>/cifar-10-batches-py/{data_batch_1..5, test_batch}     (or the files directly in <root>)

root = the argument, else $FBSSM_DATA/cifar10. Each batch is a Python 2 pickle of a dict with
b'data' (10000 × 3072 uint8) and b'labels'; a row holds the red 32×32 plane, then green, then
blue, each row-major. An image becomes 1024 steps, pixel (r, c) at step 32·r + c.

gray=True (the LRA Image task) uses ITU-R 601-2 luma with PIL's integer rounding,
Y = (19595 R + 38470 G + 7471 B + 2^15) >> 16 (what PIL's convert("L"), and so torchvision's
Grayscale, computes), giving inputs (n, 1024, 1). gray=False gives (n, 1024, 3).
normalize="standard" subtracts a fixed mean and divides by a fixed std: gray 122.6 and 61.0 on
the 0–255 scale (the constants of the public S4/S5 sequential-CIFAR loaders); RGB the
CIFAR-10 training-set channel means (0.4914, 0.4822, 0.4465) and stds (0.2470, 0.2435, 0.2616)
on the 0–1 scale. normalize="unit" gives values in [0, 1].
"""
import pickle

import numpy as np
import torch

from .._checks import check_choice, check_length
from ._file_errors import extract_again, file_error
from ._paths import dataset_root, find_folder
from .errors import DatasetNotFound
from .sequences import ImageSequences

FOLDER = "cifar-10-batches-py"
SPLIT_FILES = {"train": [f"data_batch_{i}" for i in range(1, 6)], "test": ["test_batch"]}
SIDE = 32
GRAY_MEAN, GRAY_STD = 122.6 / 255, 61.0 / 255
RGB_MEAN, RGB_STD = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)
LUMA_WEIGHTS = (19595, 38470, 7471)  # ITU-R 601-2 (0.299, 0.587, 0.114) in 16-bit fixed point
NORMALIZATIONS = ("standard", "unit")
REMEDY = extract_again("cifar-10-python.tar.gz (https://www.cs.toronto.edu/~kriz/cifar.html)")
HOW_TO_GET = ("Expected <root>/cifar-10-batches-py/{data_batch_1..5,test_batch}. Run `fbssm fetch "
              "cifar10`, or download the 'CIFAR-10 python version' (cifar-10-python.tar.gz) from Alex "
              "Krizhevsky's page (https://www.cs.toronto.edu/~kriz/cifar.html), extract it with `tar xzf "
              "cifar-10-python.tar.gz`, and pass root=<the folder holding cifar-10-batches-py> or set "
              "FBSSM_DATA so that $FBSSM_DATA/cifar10 is that folder.")


def read_cifar_batch(path):
    """One pickled batch → images (n, 32, 32, 3) uint8 (channels last) and labels (n,) int64.

    A file that does not unpickle to such a batch is a ValueError naming the file."""
    batch = _unpickle_batch(path)
    try:
        data = np.asarray(batch["data"], dtype=np.uint8)
        labels = np.asarray(batch["labels"], dtype=np.int64)
    except (ValueError, TypeError, OverflowError) as error:
        raise file_error(path, f"'data' and 'labels' must be arrays of integers ({error})",
                         REMEDY) from error
    if data.ndim != 2 or data.shape[1] != 3 * SIDE * SIDE:
        raise file_error(path, f"'data' must have shape (n, 3072), got {data.shape}", REMEDY)
    if labels.shape != data.shape[:1]:
        raise file_error(path, f"'labels' must have shape ({len(data)},), one per row of 'data', "
                         f"got {labels.shape}", REMEDY)
    if labels.size and not (labels.min() >= 0 and labels.max() <= 9):
        raise file_error(path, f"labels must be classes 0–9, got {labels.min()}..{labels.max()}", REMEDY)
    images = data.reshape(-1, 3, SIDE, SIDE).transpose(0, 2, 3, 1)  # R, G, B planes → channels last
    return np.ascontiguousarray(images), labels


def _unpickle_batch(path):
    """The batch dict with str keys; ValueError naming the file when it is not one."""
    try:
        with open(path, "rb") as file:
            batch = pickle.load(file, encoding="latin1")  # Python 2 pickles; keys may be bytes or str
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, ImportError,
            IndexError, KeyError) as error:
        raise file_error(path, f"not a readable CIFAR-10 pickle ({type(error).__name__}: {error})",
                         REMEDY) from error
    if not isinstance(batch, dict):
        raise file_error(path, f"expected a pickled dict, got {type(batch).__name__}", REMEDY)
    batch = {(k.decode("latin1") if isinstance(k, bytes) else k): v for k, v in batch.items()}
    missing = [key for key in ("data", "labels") if key not in batch]
    if missing:
        raise file_error(path, f"missing key(s) {missing}; the batch has {sorted(map(str, batch))}",
                         REMEDY)
    return batch


def luma(images):
    """(…, 3) uint8 RGB → (…) uint8 gray, ITU-R 601-2 with PIL's rounding."""
    rgb = images.astype(np.uint32)
    weights = np.array(LUMA_WEIGHTS, dtype=np.uint32)
    return ((rgb * weights).sum(-1) + (1 << 15) >> 16).astype(np.uint8)


def image_sequences(images, gray=True, normalize="standard"):
    """(n, H, W, 3) uint8 → (n, H·W, 1 or 3) float32, row after row, normalised as in the module doc."""
    check_choice("normalize", normalize, NORMALIZATIONS)
    n, height, width, _ = images.shape
    if gray:
        x = luma(images).astype(np.float32)[..., None] / 255
        mean, std = np.float32(GRAY_MEAN), np.float32(GRAY_STD)
    else:
        x = images.astype(np.float32) / 255
        mean, std = np.array(RGB_MEAN, np.float32), np.array(RGB_STD, np.float32)
    if normalize == "standard":
        x = (x - mean) / std
    return torch.from_numpy(np.ascontiguousarray(x.reshape(n, height * width, -1)))


def cifar_folder(root=None):
    """The cifar-10-batches-py folder; DatasetNotFound names the layout when absent."""
    root = dataset_root(root, "cifar10")
    folder = find_folder(root, FOLDER, "data_batch_1")
    if folder is None:
        raise DatasetNotFound("CIFAR-10", root / FOLDER / "data_batch_1", HOW_TO_GET)
    return folder


def load_cifar10(root=None, split="train", gray=True, normalize="standard", n=None):
    """CIFAR-10 "train" (50,000) or "test" (10,000) as ImageSequences: inputs (n, 1024, 1)
    gray or (n, 1024, 3) RGB, labels 0–9. n: only the first n images."""
    check_choice("split", split, SPLIT_FILES)
    n = None if n is None else check_length("n", n)
    folder = cifar_folder(root)
    images, labels = [], []
    for name in SPLIT_FILES[split]:
        path = folder / name
        if not path.is_file():
            raise DatasetNotFound(f"CIFAR-10 {split} batch {name}", path, HOW_TO_GET)
        batch_images, batch_labels = read_cifar_batch(path)
        images.append(batch_images)
        labels.append(batch_labels)
        if n is not None and sum(map(len, labels)) >= n:
            break
    images, labels = np.concatenate(images)[:n], np.concatenate(labels)[:n]
    return ImageSequences(image_sequences(images, gray, normalize), torch.from_numpy(labels),
                          f"CIFAR-10 {folder} ({split}): {len(labels)} images, "
                          + ("gray (ITU-R 601-2 luma)" if gray else "RGB") + f", normalize={normalize!r}")
