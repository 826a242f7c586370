"""LRA Pathfinder and Path-X: are the two marked dots joined by one dashed path? (label 1/0)

Files of the official LRA release (lra_release.gz):

    <root>/pathfinder{32,64,128,256}/<difficulty>/imgs/<k>/sample_<j>.png
    <root>/pathfinder{32,64,128,256}/<difficulty>/metadata/<k>.npy

root = the argument, else $FBSSM_DATA/pathfinder (a root that is itself pathfinder32/ works too).
difficulty is curv_baseline, curv_contour_length_9 or curv_contour_length_14 (LRA uses the
last: Pathfinder = pathfinder32, Path-X = pathfinder128). Despite the suffix, the metadata files
are plain text: one line per image with 11 space-separated fields,
`imgs/<k> sample_<j>.png <…> <label> <…>` — the label is the 4th field. They are read in the
numeric order of <k>. Images that are missing, empty (zero bytes; the S4 loader lists one,
pathfinder32/curv_baseline/imgs/0/sample_172.png) or unreadable are skipped and listed in `skipped`.

Pixels (grayscale PNGs, 0–255) become a sequence row after row, (n, H·W, 1), normalised to
[−1, 1] by (x/255 − 0.5)/0.5 (normalize="symmetric") or to [0, 1] ("unit").
"""
from pathlib import Path

import numpy as np
import torch

from .._checks import check_choice, check_length
from ._file_errors import LRA_ARCHIVE, extract_again, file_error
from ._paths import LRA_HOW_TO_GET, dataset_root
from .errors import DatasetNotFound
from .sequences import ImageSequences

DIFFICULTIES = ("curv_baseline", "curv_contour_length_9", "curv_contour_length_14")
RESOLUTIONS = (32, 64, 128, 256)
SPLITS = ("all", "train", "val", "test")
NORMALIZATIONS = ("symmetric", "unit")
METADATA_FIELDS = 11
LABEL_FIELD = 3  # the 4th field
REMEDY = extract_again(LRA_ARCHIVE)


def read_pathfinder_metadata(path):
    """[(image path relative to the difficulty folder, label)] of one metadata file; a malformed
    file is a ValueError naming the file (and the line)."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as error:
        raise file_error(path, f"not a text metadata file ({error.reason})", REMEDY) from error
    samples = []
    for number, line in enumerate(lines, start=1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != METADATA_FIELDS:
            raise file_error(path, f"expected {METADATA_FIELDS} space-separated fields "
                             f"(imgs/<k> <file> … <label> …), got {len(fields)}: {line[:80]!r}",
                             REMEDY, number)
        label = fields[LABEL_FIELD]
        if not (label.isdigit() and int(label) in (0, 1)):
            raise file_error(path, f"the 4th field (label) must be 0 or 1, got {label[:20]!r}",
                             REMEDY, number)
        samples.append((Path(fields[0]) / fields[1], int(label)))
    return samples


def _metadata_order(path):
    return (int(path.stem) if path.stem.isdigit() else float("inf"), path.name)


def pathfinder_folder(root=None, resolution=32, difficulty="curv_contour_length_14"):
    """The <difficulty> folder holding metadata/ and imgs/; DatasetNotFound names the layout."""
    check_choice("resolution", resolution, RESOLUTIONS)
    check_choice("difficulty", difficulty, DIFFICULTIES)
    root = dataset_root(root, "pathfinder")
    for folder in (root / f"pathfinder{resolution}" / difficulty, root / difficulty):
        if (folder / "metadata").is_dir() and any((folder / "metadata").glob("*.npy")):
            return folder
    raise DatasetNotFound(
        f"LRA Pathfinder ({resolution}×{resolution}, {difficulty})",
        root / f"pathfinder{resolution}" / difficulty / "metadata",
        f"Expected <root>/pathfinder{resolution}/{difficulty}/{{imgs/<k>/sample_<j>.png, metadata/<k>.npy}}. "
        + LRA_HOW_TO_GET.format(name="pathfinder"))


def split_indices(n, split, seed=42, val_fraction=0.1, test_fraction=0.1):
    """Indices of one split of n samples: a seeded permutation cut into train | val | test,
    with ⌊0.1·n⌋ each for val and test."""
    check_choice("split", split, SPLITS)
    if split == "all":
        return torch.arange(n)
    n_val, n_test = int(val_fraction * n), int(test_fraction * n)
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    start = {"train": 0, "val": n - n_val - n_test, "test": n - n_test}[split]
    stop = {"train": n - n_val - n_test, "val": n - n_test, "test": n}[split]
    return order[start:stop]


def read_png(path, side):
    """A grayscale PNG → (side, side) uint8; ValueError if unreadable or of another size."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            pixels = np.asarray(image.convert("L"))
    except (OSError, UnidentifiedImageError, SyntaxError) as error:
        raise ValueError(f"unreadable ({type(error).__name__})") from None
    if pixels.shape != (side, side):
        raise ValueError(f"size {pixels.shape[1]}×{pixels.shape[0]}, expected {side}×{side}")
    return pixels


def pixel_sequences(pixels, normalize="symmetric"):
    """(n, H, W) values 0–255 → (n, H·W, 1) float32, row after row."""
    check_choice("normalize", normalize, NORMALIZATIONS)
    x = torch.as_tensor(np.asarray(pixels), dtype=torch.float32) / 255
    if normalize == "symmetric":
        x = (x - 0.5) / 0.5
    return x.reshape(x.shape[0], x.shape[1] * x.shape[2], 1)


def load_pathfinder(root=None, resolution=32, difficulty="curv_contour_length_14", split="all", n=None,
               normalize="symmetric", seed=42):
    """Pathfinder images as ImageSequences: inputs (n, H·W, 1), labels 0/1, `skipped` images.

    split: "all", or "train"/"val"/"test" of a seeded 80/10/10 permutation (`split_indices`)
    of the images listed, after dropping missing and zero-byte files. n: use only the first n
    images listed (before splitting). Path-X (resolution 128) holds 16,384 floats per image.
    """
    n = None if n is None else check_length("n", n)
    folder = pathfinder_folder(root, resolution, difficulty)
    samples = []
    for metadata in sorted((folder / "metadata").glob("*.npy"), key=_metadata_order):
        samples += read_pathfinder_metadata(metadata)
        if n is not None and len(samples) >= n:
            break
    samples = samples[:n]
    skipped, present = [], []
    for relative, label in samples:
        path = folder / relative
        if not path.is_file():
            skipped.append((str(path), "missing"))
        elif path.stat().st_size == 0:
            skipped.append((str(path), "empty file"))
        else:
            present.append((path, label))
    chosen = [present[i] for i in split_indices(len(present), split, seed).tolist()]
    pixels, labels = [], []
    for path, label in chosen:
        try:
            pixels.append(read_png(path, resolution))
        except ValueError as error:
            skipped.append((str(path), str(error)))
            continue
        labels.append(label)
    pixels = np.stack(pixels) if pixels else np.zeros((0, resolution, resolution), np.uint8)
    return ImageSequences(pixel_sequences(pixels, normalize), torch.tensor(labels, dtype=torch.long),
                          f"LRA Pathfinder {folder} ({split}): {len(labels)} images, "
                          f"{len(skipped)} skipped", skipped)
