"""ListOps (Long Range Arena): nested MIN/MAX/MED/SM expressions on digits; the label is the value 0–9.

Files of the official LRA release (lra_release.gz):

    <root>/listops-1000/basic_{train,val,test}.tsv      (or the three files directly in <root>)

root = the argument, else $FBSSM_DATA/listops. Each TSV starts with the header `Source<TAB>Target`.
A source gives every argument its own parenthesis pair, e.g. `( ( ( [MAX 2 ) 9 ) ] )` = max(2, 9).
Tokens: `]` → `X`, parentheses dropped, split on spaces — that source becomes `[MAX 2 9 X`.
The vocabulary is built from the training split: 0 = <pad>, 1 = <unk>, then the tokens by
decreasing count (ties alphabetical).
"""
from collections import Counter
from pathlib import Path

import torch

from .._checks import check_choice, check_length
from ._paths import LRA_HOW_TO_GET, dataset_root, find_folder
from ._file_errors import LRA_ARCHIVE, file_error
from .errors import DatasetNotFound
from .sequences import TokenSequences, integer_dtype, pad_rows

SPLITS = ("train", "val", "test")
L_MAX = 2048
PAD, UNK = "<pad>", "<unk>"
HEADER = ["Source", "Target"]
FOLDER = "listops-1000"
REMEDY = (f"The file looks truncated or corrupt: delete it and extract it again from {LRA_ARCHIVE}, "
          f"or write it again with write_listops_tsv if it was generated.")
_TRANSLATION = str.maketrans({"]": "X", "(": None, ")": None})


def tokenize_listops(source):
    """`( ( [MAX 2 ) 9 ) ] )` → ['[MAX', '2', '9', 'X']: `]` → `X`, parentheses dropped."""
    return source.translate(_TRANSLATION).split()


def listops_vocab(token_lists):
    """token → id: 0 <pad>, 1 <unk>, then tokens by decreasing count (ties alphabetical)."""
    counts = Counter()
    for tokens in token_lists:
        counts.update(tokens)
    ordered = sorted((t for t in counts if t not in (PAD, UNK)), key=lambda t: (-counts[t], t))
    return {PAD: 0, UNK: 1, **{token: i for i, token in enumerate(ordered, start=2)}}


def read_listops_tsv(path, n=None):
    """(sources, targets) of one split file; the header must be `Source<TAB>Target`, every row
    a source and a target 0–9. A malformed file is a ValueError naming the file and the line."""
    path = Path(path)
    sources, targets = [], []
    number = 1
    with open(path, encoding="utf-8", newline="") as file:
        try:
            header = file.readline().rstrip("\r\n").split("\t")
            if header != HEADER:
                raise file_error(path, f"first line must be the header 'Source<TAB>Target', got "
                                 f"{header!r}", REMEDY, 1)
            for number, line in enumerate(file, start=2):
                if n is not None and len(sources) >= n:
                    break
                row = _listops_row(path, number, line.rstrip("\r\n"))
                if row is not None:
                    sources.append(row[0])
                    targets.append(row[1])
        except UnicodeDecodeError as error:
            raise file_error(path, f"not UTF-8 text after line {number} ({error.reason})",
                             REMEDY) from error
    return sources, targets


def _listops_row(path, number, line):
    """(source, target) of one data line, None for a blank one."""
    if not line:
        return None
    fields = line.split("\t")
    if len(fields) != 2:
        raise file_error(path, f"expected 2 tab-separated fields (Source, Target), got {len(fields)}",
                         REMEDY, number)
    try:
        target = int(fields[1])
    except ValueError as error:
        raise file_error(path, f"the target must be an integer 0–9, got {fields[1][:20]!r}",
                         REMEDY, number) from error
    if not 0 <= target <= 9:
        raise file_error(path, f"the target must be an integer 0–9, got {target}", REMEDY, number)
    return fields[0], target


def encode_listops(sources, targets, vocab, l_max=L_MAX, dtype=torch.long, source=""):
    """Tokenise, map through vocab (unknown → 1), pad with 0 to l_max → TokenSequences."""
    l_max = check_length("l_max", l_max)
    unknown = vocab[UNK]
    rows = [[vocab.get(token, unknown) for token in tokenize_listops(s)] for s in sources]
    inputs, lengths, truncated = pad_rows(rows, l_max, integer_dtype(dtype, len(vocab)))
    return TokenSequences(torch.from_numpy(inputs), torch.from_numpy(lengths),
                          torch.tensor(targets, dtype=torch.long), len(vocab), int(truncated),
                          vocab, source)


def listops_folder(root=None):
    """The folder holding basic_train.tsv; DatasetNotFound names the layout when absent."""
    root = dataset_root(root, "listops")
    folder = find_folder(root, FOLDER, "basic_train.tsv")
    if folder is None:
        raise DatasetNotFound("LRA ListOps", root / FOLDER / "basic_train.tsv",
                              "Expected <root>/listops-1000/basic_{train,val,test}.tsv. "
                              + LRA_HOW_TO_GET.format(name="listops"))
    return folder


def load_listops(root=None, split="train", l_max=L_MAX, vocab=None, n=None, dtype=torch.long):
    """One ListOps split as TokenSequences (inputs (n, l_max), lengths, labels 0–9, vocab).

    vocab: reuse a vocabulary (e.g. the train split's `.vocab`); by default it is built from
    the training file. n: read only the first n rows. Sources longer than l_max are truncated
    (counted in `n_truncated`). dtype: torch.long, or a narrower integer type to save memory.
    """
    check_choice("split", split, SPLITS)
    folder = listops_folder(root)
    path = folder / f"basic_{split}.tsv"
    if not path.is_file():
        raise DatasetNotFound(f"LRA ListOps split {split!r}", path, LRA_HOW_TO_GET.format(name="listops"))
    sources, targets = read_listops_tsv(path, n)
    if vocab is None:
        train_sources = sources if split == "train" else read_listops_tsv(folder / "basic_train.tsv")[0]
        vocab = listops_vocab(map(tokenize_listops, train_sources))
    return encode_listops(sources, targets, vocab, l_max, dtype,
                          f"LRA ListOps {path}: {len(sources)} expressions")
