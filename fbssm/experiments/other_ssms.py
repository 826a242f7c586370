"""The two knobs trained on other diagonal SSMs, and poles on the Fourier grid (Chapter 10).

Three comparisons at the quick scale, all this library's own (the paper trains S4D only):

* `knob_run`: the waves task of Chapter 5 with its S4D layer replaced by an S5-style or an
  LRU-style layer (`fbssm.S5`, `fbssm.LRU`) at a given α, β = 0. S5 starts from the waves
  model's eigenvalues −1/2 + iπ(1.3 + j)·α on the waves' step Δ = 2π/L, Δ frozen; the LRU draws
  its phases in [0, α·θ_max] with θ_max = Δπ(1.3 + N − 1), the waves model's top mode at α = 1,
  and its radii in `LRU_RADII`. Every parameter of these layers trains at the waves' one rate
  (`fbssm.optim.param_groups` gives its own rate to S4D's Im(a_j) only).
* `dfout_waves_run`: the waves model of Chapter 5 with its modes on the Fourier grid,
  y_j = ω_j/Δ with ω_j from `fbssm.init.dfout_imaginary_parts(N, Δ, L)`; Im(a_j) trains at the rate
  the waves' rule gives the α whose top mode is the grid's (`dfout_matched_alpha`).
* `dfout_lra_run`: ListOps at the quick scale with per-channel eigenvalues, S4D-Lin at α or every
  channel's modes on the Fourier grid of length 2N for its own Δ_h (y_hj = πj/(N·Δ_h)).
"""
import math
import time
from dataclasses import replace

import torch
import torch.nn as nn

from .. import init as initialisations
from ..data.waves import waves_step
from ..diagonal import LRU, S5, diagonal_mimo_kernel
from ..layers import S4D
from ..train import train
from ..transfer import folded_frequency
from . import lra, waves
from .classification import accuracy, loss_fn

KINDS = ("S5", "LRU")
LRU_RADII = (0.999, 0.9999)   # |λ_j| drawn on this ring: narrow resonances, like S4D's at Δ = 2π/L


class KnobWavesModel(nn.Module):
    """Linear(1→H) → S5 or LRU layer (H channels, N modes) → GELU → Linear(H→n_waves) → mean over time."""

    def __init__(self, config, kind, alpha):
        super().__init__()
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        dt, H, N = waves_step(config.length), config.channels, config.modes
        self.encoder = nn.Linear(1, H)
        if kind == "S5":
            self.ssm = S5(H, N, alpha=alpha, dt_min=dt, dt_max=dt)
            with torch.no_grad():
                self.ssm.A_imag.copy_(waves.initial_eigenvalues(N, alpha).imag)
            self.ssm.log_dt.requires_grad_(False)
        else:
            self.ssm = LRU(H, N, alpha=alpha, theta_max=dt * math.pi * (1.3 + N - 1),
                           r_min=LRU_RADII[0], r_max=LRU_RADII[1])
        self.decoder = nn.Linear(H, len(config.frequencies))

    def forward(self, u):
        """decoder(mean_t GELU(layer(encoder(u)))), using that encoder(u) = w·u + b has rank one:
        [w, b] is contracted into the modes' weights first, so the layer's H × H kernel is never
        formed (equal to `forward_reference`, which the tests check)."""
        L, H = u.shape[1], self.encoder.out_features
        w, b = self.encoder.weight[:, 0], self.encoder.bias
        weights = self.ssm.mode_weights()
        W = torch.einsum("oij,ic->ocj", weights, torch.stack((w, b), -1).to(weights.dtype))
        K = diagonal_mimo_kernel(W, self.ssm.log_poles(), L, self.ssm.rho)            # (H, 2, L)
        K_hat = torch.fft.rfft(K, n=2 * L)
        ones_hat = torch.fft.rfft(torch.ones_like(u[0, :, 0]), n=2 * L)
        y_hat = K_hat[:, 0] * torch.fft.rfft(u[..., 0], n=2 * L)[:, None] + K_hat[:, 1] * ones_hat
        y = torch.fft.irfft(y_hat, n=2 * L)[..., :L] + (self.ssm.D * w)[:, None] * u[..., 0][:, None] \
            + (self.ssm.D * b)[:, None]
        return self.decoder(nn.functional.gelu(y).transpose(1, 2)).mean(1)

    def forward_reference(self, u):
        return self.decoder(nn.functional.gelu(self.ssm(self.encoder(u)))).mean(1)

    def wave_gains(self, config):
        """|Σ_i (H(e^{iω}) − D)_{o,i}·w_i| at each wave, (H, n_waves): each output channel's gain on each
        wave through the encoder w, the skip term left out, kernel cut to L lags."""
        omega = torch.tensor([f * waves_step(config.length) for f in config.frequencies])
        with torch.no_grad():
            T = self.ssm.transfer(omega, length=config.length)
            T = T - torch.diag_embed(self.ssm.D.to(T.dtype)).unsqueeze(-1)
            return (T * self.encoder.weight[:, 0].to(T.dtype)[None, :, None]).sum(1).abs()


def _train_waves(model, config, alpha, seed, data, progress):
    (train_data, (u_test, a_test)) = data
    train_config = config.train_config(alpha, seed)
    start = time.time()
    history = train(model, train_data, waves._mse, train_config, progress=progress)
    mse, mae = waves.per_wave_errors(model.eval(), u_test, a_test)
    return {"seconds": round(time.time() - start, 1), "imag_lr": train_config.imag_lr,
            "per_wave_mse": mse.tolist(), "per_wave_mae": mae.tolist(), "epochs": history.epochs}


def _folded(omega):
    """Mode frequencies (rad/sample) folded into [0, π], as a list."""
    return folded_frequency(omega.detach().double()).tolist()


def knob_run(config, kind, alpha, seed, data, progress=False):
    """Train the waves task with an S5 or LRU layer at α (β = 0): per-wave errors, the modes
    (rad/sample, folded) and the wave gains before and after."""
    torch.manual_seed(seed)
    model = KnobWavesModel(config, kind, alpha)
    before = {"modes": _folded(model.ssm.mode_frequencies()), "gains": model.wave_gains(config).tolist()}
    record = _train_waves(model, config, alpha, seed, data, progress)
    record["imag_lr"] = None   # param_groups gives S4D's Im(a_j) its own rate only
    return {"kind": kind, "alpha": alpha, "beta": 0.0, "seed": seed, **record, "before": before,
            "after": {"modes": _folded(model.ssm.mode_frequencies()), "gains": model.wave_gains(config).tolist()}}


def dfout_imag(config):
    """y_j = ω_j/Δ of the waves' modes on the DFT grid of the sequence length."""
    dt = waves_step(config.length)
    return initialisations.dfout_imaginary_parts(config.modes, dt, config.length).float()


def dfout_matched_alpha(config):
    """The α at which the waves model's top mode π(1.3 + N − 1)·α is the grid's top mode."""
    top = waves.initial_eigenvalues(config.modes, 1.0).imag.max()
    return float(dfout_imag(config).max() / top)


def dfout_waves_run(config, seed, data, progress=False):
    """Train the waves model (β = 0) from modes on the Fourier grid: per-wave errors and the modes."""
    torch.manual_seed(seed)
    model = waves.WavesModel(config, 1.0, 0.0)
    with torch.no_grad():
        model.ssm.A_imag.copy_(dfout_imag(config).expand_as(model.ssm.A_imag))
    alpha = dfout_matched_alpha(config)
    record = _train_waves(model, config, alpha, seed, data, progress)
    dt = waves_step(config.length)
    return {"kind": "dfout", "alpha": alpha, "beta": 0.0, "seed": seed, **record,
            "before": {"modes": _folded(dt * dfout_imag(config))},
            "after": {"modes": _folded(dt * model.ssm.A_imag.detach().flatten())}}


def lra_config(task="listops"):
    """The quick LRA configuration with one set of eigenvalues per channel (each has its own Δ_h)."""
    return replace(lra.config_for_task(task, "quick"), data="offline", shared_eigenvalues=False)


def _dfout_layers(model):
    """Put every channel's modes on the Fourier grid of length 2N for its own Δ_h: y_hj = πj/(N·Δ_h)."""
    for layer in model.modules():
        if isinstance(layer, S4D):
            grid = initialisations.dfout_imaginary_parts(layer.d_state)   # π·j/N at Δ = 1
            with torch.no_grad():
                layer.A_imag.copy_(grid[None, :].float() / layer.dt.detach()[:, None])


def dfout_lra_run(config, init, alpha, seed, data, progress=False):
    """Train an LRA task from S4D-Lin at α (init "lin") or from the Fourier grid (init "dfout", α
    unused); test and validation accuracy."""
    if init not in ("lin", "dfout"):
        raise ValueError(f"init must be 'lin' or 'dfout', got {init!r}")
    torch.manual_seed(seed)
    model = lra.build_model(config, alpha if init == "lin" else 1.0, 0.0)
    if init == "dfout":
        _dfout_layers(model)
    start = time.time()
    history = train(model, data.train, loss_fn, replace(config.train, seed=seed), progress=progress)
    return {"init": init, "alpha": alpha if init == "lin" else None, "seed": seed,
            "seconds": round(time.time() - start, 1),
            "test_accuracy": accuracy(model, data.test, config.eval_batch_size),
            "val_accuracy": accuracy(model, data.val, config.eval_batch_size)}
