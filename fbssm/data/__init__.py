"""Datasets: one module per dataset. Real loaders read the standard files when present and say
where they looked and how to get them when absent; generators need no download."""
from .errors import DatasetNotFound
from .sequences import ImageSequences, TokenSequences
from .listops import listops_vocab, load_listops, read_listops_tsv, tokenize_listops
from .listops_generator import evaluate_listops, generate_listops, write_listops_tsv
from .imdb import load_imdb
from .aan import decode_bytes_literal, load_aan
from .cifar import load_cifar10, luma, read_cifar_batch
from .pathfinder import load_pathfinder, read_pathfinder_metadata
from .pathfinder_generator import PathfinderImages, generate_pathfinder
from .mnist import Digits, load_mnist, mnist_offline, read_idx, read_mnist
from .moving_mnist import MovingDigits, bounce, coloured_moving_mnist, load_moving_mnist

__all__ = ["DatasetNotFound"]
__all__ += [
    "TokenSequences", "ImageSequences",
    "load_listops", "tokenize_listops", "listops_vocab", "read_listops_tsv",
    "generate_listops", "evaluate_listops", "write_listops_tsv",
    "load_imdb", "load_aan", "decode_bytes_literal",
    "load_cifar10", "read_cifar_batch", "luma",
    "load_pathfinder", "read_pathfinder_metadata", "generate_pathfinder", "PathfinderImages",
    "load_mnist", "read_mnist", "mnist_offline", "read_idx", "Digits",
    "coloured_moving_mnist", "bounce", "load_moving_mnist", "MovingDigits",
]
