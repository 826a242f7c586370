"""Every experiment's paper configuration as one training step to measure: its model, a batch of
its shapes, its loss, and what an epoch and a run are. `benchmarks/paper_scale.py` times these
steps; the runbook checks its stored measurements against them."""
import math
from dataclasses import dataclass

import torch


@dataclass
class Case:
    """One paper configuration: how to build its model, a batch and its loss."""
    name: str
    config: object
    shapes: dict
    batch_size: int          # the paper's global batch B
    train_size: int          # training examples per epoch
    total_steps: int
    build: object            # () -> model
    batch: object            # (b) -> tuple of tensors
    loss: object             # (model, batch) -> scalar

    @property
    def steps_per_epoch(self):
        return math.ceil(self.train_size / self.batch_size)


def _steps(train_config, steps_per_epoch):
    total = train_config.epochs * steps_per_epoch
    return min(total, train_config.max_steps) if train_config.max_steps else total


def lra_cases():
    from . import lra
    from .classification import loss_fn
    cases = []
    for task in lra.TASKS:
        config = lra.config_for_task(task, "paper")
        size = lra.LRA_TRAIN_SIZES[task]
        cases.append(Case(
            f"lra-{task}", config,
            {"l_max": config.l_max, "d_model": config.d_model, "n_layers": config.n_layers,
             "d_state": config.d_state, "inputs": 2 if task == "retrieval" else 1},
            config.batch_size, size, _steps(config.train, math.ceil(size / config.batch_size)),
            lambda config=config: lra.build_model(config, config.alpha, 0.0, trainable_beta=True),
            lambda b, config=config: lra.example_batch(config, b), loss_fn))
    return cases


def waves_case():
    from . import waves
    config = waves.PAPER
    B = config.train.batch_size

    def batch(b):
        return torch.randn(b, config.length, 1), torch.rand(b, len(config.frequencies))
    return Case("waves", config, {"l_max": config.length, "d_model": config.channels, "n_layers": 1,
                                  "d_state": config.modes, "inputs": 1},
                B, config.n_train, _steps(config.train, math.ceil(config.n_train / B)),
                lambda: waves.WavesModel(config, 10.0, 0.5), batch, waves._mse)


def denoising_case():
    from ..data.celeba import SPLIT_BOUNDS
    from . import denoising
    config = denoising.PAPER
    B = config.train.batch_size
    first, last = SPLIT_BOUNDS["train"]
    size = config.n_train or last - first + 1

    def batch(b):
        return (torch.rand(b, config.height * config.width, config.channels) * 2 - 1,)
    return Case("denoising", config, {"l_max": config.height * config.width, "d_model": config.channels,
                                      "n_layers": 1, "d_state": config.modes, "inputs": 1},
                B, size, _steps(config.train, math.ceil(size / B)),
                lambda: denoising.DenoisingModel(config, "flip", 0.5), batch, denoising._mse)


def moving_mnist_case():
    """The coloured Moving MNIST paper configuration (ConvSSM over time, tuned α and β)."""
    from . import moving_mnist
    config = moving_mnist.PAPER
    B = config.train.batch_size
    shapes = {"l_max": config.length, "d_model": config.d_latent, "n_layers": config.n_layers,
              "d_state": config.d_state, "frame": config.size, "latent_grid": config.size // config.patch}
    return Case("moving-mnist", config, shapes, B, config.n_train,
                _steps(config.train, math.ceil(config.n_train / B)),
                lambda: moving_mnist.build_model(config, moving_mnist.TUNED_ALPHA, moving_mnist.TUNED_BETA),
                lambda b: (moving_mnist.example_batch(config, b),), moving_mnist.next_frame_loss)


def paper_cases():
    """The Case of every paper configuration: the six LRA tasks, waves, denoising, Moving MNIST."""
    cases = lra_cases() + [waves_case(), denoising_case()]
    return cases + [moving_mnist_case()]
