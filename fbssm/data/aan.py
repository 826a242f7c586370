"""LRA Retrieval: pairs of ACL Anthology Network papers; label 1 when one cites the other.

Files of the official LRA release (lra_release.gz):

    <root>/tsv_data/new_aan_pairs.{train,eval,test}.tsv      (or the files directly in <root>)

root = the argument, else $FBSSM_DATA/aan. Rows have NO header (a reader that takes the first
row for a header silently loses the first pair) and five tab-separated columns
label, id1, id2, text1, text2; fields are never quoted. The texts are Python bytes literals,
`b'...'` with escapes such as `\\n` and `\\xc3\\xa9`. With decode=True (default) a literal becomes
its bytes; decode=False keeps the literal's own characters (`b`, quotes, backslashes), which is
what the LRA and S4 reference pipelines feed their models. Either way byte b → token b + 1
(0 = padding), each document cut to l_max = 4000.
"""
import ast

import numpy as np
import torch

from .._checks import check_choice, check_length
from ._file_errors import LRA_ARCHIVE, extract_again, file_error
from ._paths import LRA_HOW_TO_GET, dataset_root, find_folder
from .errors import DatasetNotFound
from .sequences import BYTE_VOCAB_SIZE, TokenSequences, byte_tokens, integer_dtype, pad_rows

SPLITS = {"train": "train", "val": "eval", "test": "test"}
COLUMNS = ("label", "id1", "id2", "text1", "text2")
L_MAX = 4000
REMEDY = extract_again(LRA_ARCHIVE)


def decode_bytes_literal(field):
    """`b'caf\\xc3\\xa9\\n'` → b'caf\\xc3\\xa9\\n' (the bytes), evaluated with ast.literal_eval."""
    text = field.strip()
    if len(text) < 3 or text[0] not in "bB" or text[1] not in "'\"" or text[-1] != text[1]:
        raise ValueError(f"expected a Python bytes literal b'...', got {field[:40]!r}")
    try:
        value = ast.literal_eval(text)  # literals only: nothing in the file is executed
    except (ValueError, SyntaxError):
        value = None
    if not isinstance(value, bytes):
        raise ValueError(f"expected a Python bytes literal b'...', got {field[:40]!r}")
    return value


def read_aan_rows(path, n=None):
    """Yield (line number, [label, id1, id2, text1, text2]) of every row, as strings; the first
    line is data. A malformed file is a ValueError naming the file (and the line)."""
    number = 0
    with open(path, encoding="utf-8", newline="") as file:
        try:
            for number, line in enumerate(file, start=1):
                if n is not None and number > n:
                    break
                line = line.rstrip("\r\n")
                if not line:
                    continue
                fields = line.split("\t")
                if len(fields) != len(COLUMNS):
                    raise file_error(path, f"expected 5 tab-separated fields (label, id1, id2, text1, "
                                     f"text2), got {len(fields)}", REMEDY, number)
                yield number, fields
        except UnicodeDecodeError as error:
            raise file_error(path, f"not UTF-8 text after line {number} ({error.reason})",
                             REMEDY) from error


def _label(text, where):
    try:
        value = float(text)  # the release writes 0/1 (read as floats by LRA)
    except ValueError:
        value = None
    if value not in (0.0, 1.0):
        raise ValueError(f"{where}: label must be 0 or 1, got {text[:20]!r}. {REMEDY}")
    return int(value)


def aan_folder(root=None):
    """The folder holding new_aan_pairs.train.tsv; DatasetNotFound names the layout when absent."""
    root = dataset_root(root, "aan")
    folder = find_folder(root, "tsv_data", "new_aan_pairs.train.tsv")
    if folder is None:
        raise DatasetNotFound("LRA Retrieval (AAN)", root / "tsv_data" / "new_aan_pairs.train.tsv",
                              "Expected <root>/tsv_data/new_aan_pairs.{train,eval,test}.tsv. "
                              + LRA_HOW_TO_GET.format(name="aan"))
    return folder


def load_aan(root=None, split="train", l_max=L_MAX, decode=True, n=None, dtype=torch.long):
    """One split ("train", "val" = the eval file, "test") as TokenSequences with inputs
    (n, 2, l_max): the two documents of each pair, byte ids (byte + 1, 0 = padding); lengths (n, 2).

    n: read only the first n rows. decode: see the module doc.
    """
    check_choice("split", split, SPLITS)
    l_max = check_length("l_max", l_max)
    path = aan_folder(root) / f"new_aan_pairs.{SPLITS[split]}.tsv"
    if not path.is_file():
        raise DatasetNotFound(f"LRA Retrieval split {split!r}", path, LRA_HOW_TO_GET.format(name="aan"))
    firsts, seconds, labels = [], [], []
    for number, (label, _, _, text1, text2) in read_aan_rows(path, n):
        where = f"{path}:{number}"
        documents = []
        for text in (text1, text2):
            try:
                data = decode_bytes_literal(text) if decode else text.encode("utf-8")
            except ValueError as error:
                raise ValueError(f"{where}: {error}; pass decode=False to read the field as it is") from error
            documents.append(byte_tokens(data[:l_max + 1]))  # +1: still see truncation
        firsts.append(documents[0])
        seconds.append(documents[1])
        labels.append(_label(label, where))
    numpy_dtype = integer_dtype(dtype, BYTE_VOCAB_SIZE)
    inputs = np.zeros((len(labels), 2, l_max), numpy_dtype)
    lengths = np.zeros((len(labels), 2), np.int64)
    truncated = 0
    for side, rows in enumerate((firsts, seconds)):
        _, lengths[:, side], count = pad_rows(rows, l_max, numpy_dtype, out=inputs[:, side])
        truncated += count
    return TokenSequences(torch.from_numpy(inputs), torch.from_numpy(lengths),
                          torch.tensor(labels, dtype=torch.long), BYTE_VOCAB_SIZE, int(truncated),
                          None, f"LRA Retrieval {path}: {len(labels)} pairs, texts "
                                + ("decoded from bytes literals" if decode else "as written"))
