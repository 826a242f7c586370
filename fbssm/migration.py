"""Mode migration: how far can training move a mode y_j, and does β help it travel?

One S4D layer (S4D-Lin modes, fixed Δ) is trained, through its linear part `S4D.lti` only, to
reproduce a linear filter on white-noise inputs. The filter has resonances among the layer's
modes and one at `target_frequency`, above every mode. AdamW moves a parameter by about its
learning rate per step, so `learning_rate_budget` (Σ_t lr_t) bounds how far any y_j can travel.
"""
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch

from .kernel import fft_convolution, ssm_kernel
from .layers import S4D
from .train import TrainConfig, cosine_with_warmup, train


@dataclass(frozen=True)
class MigrationConfig:
    modes: int = 8                        # N, S4D-Lin: y_j = πj, top mode 7π ≈ 22
    dt: float = 0.01                      # Δ, fixed: modes at ω = Δ·πj ≤ 0.22 rad/sample
    length: int = 1024                    # L
    sequences: int = 512                  # white-noise inputs; the targets are the filter's outputs
    low_resonances: tuple = (4.0, 11.0)   # resonances among the layer's modes (x = -1/2, gain 1)
    target_frequency: float = 40.0        # s_T: the resonance above every mode (x = -1)
    target_gain: float = 5.0
    epochs: int = 32                      # 32 epochs × 32 batches = 1,024 AdamW steps, cosine schedule
    batch_size: int = 16
    lr: float = 1e-2                      # C and D
    ssm_lr: float = 1e-3                  # A (x_j and y_j): the paper's SSM rate on most LRA tasks
    imag_lr: float | None = None          # y_j in its own group at this rate (None: ssm_lr)
    beta_lr: float = 1e-2                 # β, when it is trained (the paper's LRA setting)
    log_every: int = 16                   # eigenvalue log: every 16 steps
    seed: int = 0

    def train_config(self):
        return TrainConfig(epochs=self.epochs, batch_size=self.batch_size, lr=self.lr, ssm_lr=self.ssm_lr,
                           imag_lr=self.imag_lr, beta_lr=self.beta_lr, seed=self.seed,
                           log_eigenvalues_every=self.log_every)


class Migration(NamedTuple):
    """What one run did: logged steps, y_j trajectories (logs, N), final loss (mean of the last
    32 steps) and final β (mean over channels)."""
    steps: torch.Tensor
    y: torch.Tensor
    loss: float
    beta: float


def training_data(config):
    """White-noise inputs u and the target filter's outputs y = T ∗ u, batch-first (sequences, L, 1)."""
    u = torch.randn(config.sequences, config.length, 1, generator=torch.Generator().manual_seed(config.seed))
    poles = [complex(-0.5, y) for y in config.low_resonances] + [complex(-1.0, config.target_frequency)]
    gains = [1.0] * len(config.low_resonances) + [config.target_gain]
    K = ssm_kernel(torch.tensor(poles, dtype=torch.complex128), torch.tensor(gains, dtype=torch.complex128),
                   config.dt, config.length)
    return u, fft_convolution(u.transpose(1, 2), K.float()).transpose(1, 2)


def filter_loss(layer, batch):
    u, y = batch
    return torch.nn.functional.mse_loss(layer.lti(u), y)


def migrate(config, beta=0.0, normalization="cycles", scale=1.0, trainable_beta=False):
    """Train one layer of `config` with the Sobolev filter (β, its normalisation and scale)."""
    torch.manual_seed(config.seed)
    layer = S4D(1, config.modes, init="lin", dt_min=config.dt, dt_max=config.dt, train_dt=False, glu=False,
                beta=beta, trainable_beta=trainable_beta, filter_normalization=normalization,
                filter_scale=scale)
    history = train(layer, training_data(config), filter_loss, config.train_config(), progress=False)
    steps, eigenvalues = history.eigenvalue_log()
    return Migration(steps, eigenvalues[:, 0].imag, float(np.mean(history.step_loss[-32:])),
                     layer.beta.detach().mean().item())


def learning_rate_budget(config):
    """Σ_t lr_t of y_j over the run: about the furthest AdamW can move a y_j."""
    total = config.epochs * -(-config.sequences // config.batch_size)
    rate = config.imag_lr if config.imag_lr is not None else config.ssm_lr
    factor = cosine_with_warmup(total, 0)
    return rate * sum(factor(t) for t in range(total))
