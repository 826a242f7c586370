"""LRA Text: IMDB movie reviews as UTF-8 bytes, sentiment 0 (neg) / 1 (pos).

Files of Stanford's Large Movie Review Dataset (aclImdb_v1.tar.gz):

    <root>/aclImdb/{train,test}/{pos,neg}/<id>_<rating>.txt     (or <root>/{train,test}/... directly)

root = the argument, else $FBSSM_DATA/imdb. Each review is read as raw bytes (HTML such as `<br />`
kept, as in LRA), byte b becomes token b + 1 so that 0 is padding (257 ids), and it is cut to
l_max = 4096 bytes. The `unsup` folder is not used. LRA evaluates on the test split.
"""
import torch

from .._checks import check_choice, check_length
from ._file_errors import extract_again, file_error
from ._paths import dataset_root, find_folder
from .errors import DatasetNotFound
from .sequences import BYTE_VOCAB_SIZE, TokenSequences, byte_tokens, integer_dtype, pad_rows

SPLITS = ("train", "test")
LABELS = {"neg": 0, "pos": 1}
L_MAX = 4096
HOW_TO_GET = ("Expected <root>/aclImdb/{train,test}/{pos,neg}/*.txt. Run `fbssm fetch imdb`, or "
              "download aclImdb_v1.tar.gz from Stanford's Large Movie Review Dataset page "
              "(https://ai.stanford.edu/~amaas/data/sentiment/), extract it with `tar xzf "
              "aclImdb_v1.tar.gz`, and pass root=<the folder holding aclImdb> or set FBSSM_DATA so that "
              "$FBSSM_DATA/imdb is that folder.")
REMEDY = extract_again("aclImdb_v1.tar.gz (https://ai.stanford.edu/~amaas/data/sentiment/)")


def _review_order(path):
    """<id>_<rating>.txt in numeric id order (then by name)."""
    head = path.stem.split("_")[0]
    return (int(head) if head.isdigit() else float("inf"), path.name)


def _review_bytes(path, limit):
    """The first `limit` bytes of one review; ValueError naming the file when it cannot be read."""
    try:
        with open(path, "rb") as file:
            return file.read(limit)
    except OSError as error:
        raise file_error(path, f"cannot read the review ({error.strerror or error})", REMEDY) from error


def imdb_folder(root=None):
    """The aclImdb folder; DatasetNotFound names the layout when absent."""
    root = dataset_root(root, "imdb")
    folder = find_folder(root, "aclImdb", "train/pos")
    if folder is None:
        raise DatasetNotFound("IMDB (aclImdb)", root / "aclImdb" / "train" / "pos", HOW_TO_GET)
    return folder


def load_imdb(root=None, split="train", l_max=L_MAX, n_per_class=None, dtype=torch.long):
    """One split as TokenSequences: inputs (n, l_max) byte ids (byte + 1, 0 = padding), lengths,
    labels (neg 0 first, then pos 1). n_per_class: only the first reviews of each class."""
    check_choice("split", split, SPLITS)
    l_max = check_length("l_max", l_max)
    folder = imdb_folder(root)
    rows, labels = [], []
    for name, label in LABELS.items():
        directory = folder / split / name
        if not directory.is_dir():
            raise DatasetNotFound(f"IMDB split {split!r}", directory, HOW_TO_GET)
        files = sorted(directory.glob("*.txt"), key=_review_order)
        if not files:
            raise file_error(directory, "holds no <id>_<rating>.txt reviews",
                             "The folder is incomplete: extract aclImdb_v1.tar.gz again.")
        if n_per_class is not None:
            files = files[:check_length("n_per_class", n_per_class)]
        rows += [byte_tokens(_review_bytes(f, l_max + 1)) for f in files]  # +1: still see truncation
        labels += [label] * len(files)
    inputs, lengths, truncated = pad_rows(rows, l_max, integer_dtype(dtype, BYTE_VOCAB_SIZE))
    return TokenSequences(torch.from_numpy(inputs), torch.from_numpy(lengths),
                          torch.tensor(labels, dtype=torch.long), BYTE_VOCAB_SIZE, int(truncated),
                          None, f"IMDB {folder / split}: {len(labels)} reviews as bytes")
