"""Datasets: one module per dataset. Real loaders read the standard files when present and say
where they looked and how to get them when absent; generators need no download."""
from .errors import DatasetNotFound
from .sequences import ImageSequences, TokenSequences
from .listops import listops_vocab, load_listops, read_listops_tsv, tokenize_listops
from .listops_generator import evaluate_listops, evaluate_tree, generate_listops, random_tree, to_source, write_listops_tsv
from .imdb import load_imdb
from .aan import decode_bytes_literal, load_aan
from .cifar import load_cifar10, luma, read_cifar_batch
from .pathfinder import load_pathfinder, read_pathfinder_metadata
from .pathfinder_generator import PathfinderImages, generate_pathfinder
from .mnist import Digits, load_mnist, mnist_offline, read_idx, read_mnist
from .moving_mnist import CHANNELS, MovingDigits, bounce, coloured_moving_mnist, load_moving_mnist
from .celeba import load_faces, to_image
from .stripes import (DIRECTIONS, noise_frequency, row_harmonics, stripe_harmonic, stripe_pattern,
                      stripe_strengths)
from .waves import waves_dataset, waves_step

__all__ = ["DatasetNotFound"]
__all__ += [
    "TokenSequences", "ImageSequences",
    "load_listops", "tokenize_listops", "listops_vocab", "read_listops_tsv",
    "generate_listops", "evaluate_listops", "write_listops_tsv", "evaluate_tree", "random_tree", "to_source",
    "load_imdb", "load_aan", "decode_bytes_literal",
    "load_cifar10", "read_cifar_batch", "luma",
    "load_pathfinder", "read_pathfinder_metadata", "generate_pathfinder", "PathfinderImages",
    "load_mnist", "read_mnist", "mnist_offline", "read_idx", "Digits",
    "coloured_moving_mnist", "bounce", "load_moving_mnist", "MovingDigits", "CHANNELS",
    "load_faces", "to_image",
    "DIRECTIONS", "noise_frequency", "row_harmonics", "stripe_harmonic", "stripe_pattern", "stripe_strengths",
    "waves_dataset", "waves_step",
]
