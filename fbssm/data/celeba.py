"""Faces for the image-denoising experiment: CelebA, or a small offline stand-in.

CelebA (aligned faces, 178 wide × 218 tall) is read from the standard folder

    <root>/img_align_celeba/000001.jpg ... 202599.jpg   [+ <root>/list_eval_partition.txt]

with root = the argument, else $FBSSM_DATA/celeba ($FBSSM_DATA defaults to ./data). Each image is
centre-cropped to 178 × 178, resized to a tall shape (paper: H × W = 2048 × 128), mapped to
[−1, 1] and flattened row by row per channel: sequence index l = r·W + c for row r, column c.
The result has shape (n, H·W, 3).

Without CelebA, `faces` gives the 100 face images of scikit-image's LFW subset (25 × 25,
grayscale), resized to the same kind of tall shape and replicated to three identical channels.
`load_faces` picks one of the two and says which (its `source` string).
"""
from pathlib import Path

import numpy as np
import torch

from .._checks import check_choice, check_length
from . import _paths
from ._file_errors import extract_again, file_error
from .errors import DatasetNotFound

CELEBA_FOLDER = "img_align_celeba"
PARTITION_FILE = "list_eval_partition.txt"
SPLITS = {"train": 0, "valid": 1, "test": 2}
# CelebA's own numbering: images 1..162770 train, ..182637 valid, ..202599 test
# (what list_eval_partition.txt says; used when that file is absent)
SPLIT_BOUNDS = {"train": (1, 162_770), "valid": (162_771, 182_637), "test": (182_638, 202_599)}
HOW_TO_GET = ("Run `fbssm fetch celeba`, or download 'Align&Cropped Images' (img_align_celeba.zip, "
              "about 1.4 GB) and list_eval_partition.txt from "
              "https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html, unzip into <root>/img_align_celeba/, "
              "and pass root=<root> or set FBSSM_DATA so that $FBSSM_DATA/celeba is <root>.")
IMAGE_REMEDY = extract_again("img_align_celeba.zip (https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html)")
PARTITION_REMEDY = ("The file looks truncated or corrupt: delete it and download list_eval_partition.txt "
                    "again from https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html (without it the "
                    "splits follow CelebA's numbering).")
LFW_FACES = 100  # skimage.data.lfw_subset(): the first 100 of its 200 images are faces


def default_root():
    """$FBSSM_DATA/celeba ($FBSSM_DATA defaults to ./data)."""
    return _paths.default_root("celeba")


def _image_folder(root):
    root = _paths.dataset_root(root, "celeba")
    for folder in (root / CELEBA_FOLDER, root):
        if folder.is_dir() and any(folder.glob("*.jpg")):
            return folder
    raise DatasetNotFound("CelebA", root / CELEBA_FOLDER, HOW_TO_GET)


def _split_files(folder, split):
    """The split's image files, in CelebA's order."""
    files = sorted(folder.glob("*.jpg"))
    if split == "all":
        return files
    partition = folder.parent / PARTITION_FILE
    if partition.is_file():
        wanted, split_of = str(SPLITS[split]), read_partition(partition)
        return [f for f in files if split_of.get(f.name) == wanted]
    low, high = SPLIT_BOUNDS[split]
    return [f for f in files if f.stem.isdigit() and low <= int(f.stem) <= high]


def read_partition(path):
    """{image name: "0" | "1" | "2"} of list_eval_partition.txt (lines `<name> <split>`);
    a malformed file is a ValueError naming the file and the line."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as error:
        raise file_error(path, f"not a text file ({error.reason})", PARTITION_REMEDY) from error
    partition = {}
    for number, line in enumerate(lines, start=1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 2 or fields[1] not in ("0", "1", "2"):
            raise file_error(path, f"expected '<image name> <0|1|2>', got {line[:80]!r}",
                             PARTITION_REMEDY, number)
        partition[fields[0]] = fields[1]
    return partition


def to_sequence(pixels):
    """(n, H, W, C) pixels in [0, 1] → (n, H·W, C) in [−1, 1], rows one after another."""
    pixels = torch.as_tensor(np.asarray(pixels), dtype=torch.float32)
    n, height, width, channels = pixels.shape
    return (2 * pixels - 1).reshape(n, height * width, channels)


def to_image(sequence, height, width):
    """(…, H·W, C) sequence in [−1, 1] → (…, H, W, C) image in [0, 1] (for plotting)."""
    sequence = torch.as_tensor(sequence)
    return ((sequence.reshape(*sequence.shape[:-2], height, width, sequence.shape[-1]) + 1) / 2).clamp(0, 1)


def read_celeba_image(path, shape=(2048, 128), crop=178):
    """One CelebA file → (H, W, 3) float array in [0, 1]: centre crop crop×crop, resize to shape."""
    from PIL import Image, UnidentifiedImageError

    height, width = shape
    try:
        with Image.open(path) as image:
            image = image.convert("RGB")
    except (OSError, UnidentifiedImageError, SyntaxError) as error:
        raise file_error(path, f"not a readable image ({type(error).__name__}: {error})",
                         IMAGE_REMEDY) from error
    with image:
        w, h = image.size
        if min(w, h) < crop:
            raise ValueError(f"crop must be at most the image size {w}×{h}, got {crop} ({path})")
        left, top = (w - crop) // 2, (h - crop) // 2
        image = image.crop((left, top, left + crop, top + crop)).resize((width, height),
                                                                         Image.Resampling.BILINEAR)
        return np.asarray(image, dtype=np.float32) / 255.0


class CelebAImages:
    """A CelebA split read lazily: indexing (int, slice or index tensor) loads, crops and resizes.

    `len(images)` images; `images[index]` has shape (H·W, 3) or (k, H·W, 3), values in [−1, 1].
    Works as a dataset tensor for `fbssm.train.train`; `images.tensor()` loads all of them.
    """

    def __init__(self, files, shape=(2048, 128), crop=178):
        self.files, self.shape, self.crop = list(files), tuple(shape), crop

    def __len__(self):
        return len(self.files)

    def __getitem__(self, index):
        if isinstance(index, int):
            return to_sequence(read_celeba_image(self.files[index], self.shape, self.crop)[None])[0]
        picked = (self.files[index] if isinstance(index, slice)
                  else [self.files[int(i)] for i in torch.as_tensor(index).reshape(-1)])
        return to_sequence(np.stack([read_celeba_image(f, self.shape, self.crop) for f in picked]))

    def tensor(self):
        return self[:]


def celeba(root=None, shape=(2048, 128), split="train", n=None, crop=178):
    """CelebA images of one split ("train", "valid", "test" or "all") as a lazy `CelebAImages`.

    shape: (H, W) after the crop; paper 2048 × 128. n: the first n images of the split (all by
    default). Raises DatasetNotFound naming the folder looked at when the images are absent.
    """
    check_choice("split", split, (*SPLITS, "all"))
    height, width = check_length("height", shape[0]), check_length("width", shape[1])
    folder = _image_folder(root)
    files = _split_files(folder, split)
    if not files:
        raise DatasetNotFound(f"CelebA split {split!r}", folder, HOW_TO_GET)
    if n is not None:
        files = files[:check_length("n", n)]
    return CelebAImages(files, (height, width), crop)


def faces(n=LFW_FACES, shape=(256, 32)):
    """The LFW faces of scikit-image (offline), (n, H·W, 3) in [−1, 1], three equal channels.

    The 25 × 25 grayscale faces are resized (bilinear) to the tall shape H × W, so a face row
    becomes W contiguous samples, as in CelebA at 2048 × 128. n ≤ 100.
    """
    n = check_length("n", n)
    if n > LFW_FACES:
        raise ValueError(f"n must be at most {LFW_FACES} (the faces of the LFW subset), got {n}")
    height, width = check_length("height", shape[0]), check_length("width", shape[1])
    try:
        from skimage.data import lfw_subset
        from skimage.transform import resize
    except ImportError as error:
        raise ImportError("faces() needs scikit-image: pip install scikit-image") from error
    gray = lfw_subset()[:n]
    tall = np.stack([resize(face, (height, width), order=1, anti_aliasing=False) for face in gray])
    return to_sequence(np.repeat(tall[..., None], 3, axis=-1).clip(0, 1))


def load_faces(n_train, n_test, shape=(256, 32), data="auto", root=None, crop=178):
    """Train and test faces and a sentence saying which data they are.

    data: "celeba" (raise DatasetNotFound without it), "lfw" (the offline stand-in) or "auto"
    (CelebA if found, else LFW). Returns (train, test, source); train/test are tensors
    (n, H·W, 3), or lazy `CelebAImages` when n_train is None (the whole train split).
    """
    check_choice("data", data, ("auto", "celeba", "lfw"))
    if data != "lfw":
        try:
            train = celeba(root, shape, "train", n_train, crop)
            test = celeba(root, shape, "test", n_test, crop)
            if n_train is not None:
                train, test = train.tensor(), test.tensor()
            return train, test, (f"CelebA ({train_folder(root)}): {len(train)} train and {len(test)} "
                                 f"test faces, centre crop {crop}, resized to {shape[0]}×{shape[1]}")
        except DatasetNotFound:
            if data == "celeba":
                raise
    if n_train is None or n_train + n_test > LFW_FACES:
        raise ValueError(f"n_train + n_test must be at most {LFW_FACES} for the LFW faces, "
                         f"got {n_train} + {n_test}")
    images = faces(n_train + n_test, shape)
    return images[:n_train], images[n_train:], (
        f"LFW subset of scikit-image (CelebA not found at {default_root() if root is None else root}): "
        f"{n_train} train and {n_test} test faces, 25×25 grayscale resized to {shape[0]}×{shape[1]}, "
        f"the gray value copied to all three channels")


def train_folder(root=None):
    """The folder `celeba` reads images from (for messages)."""
    return _image_folder(root)
