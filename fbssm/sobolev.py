"""The β knob: the Sobolev-norm filter (1 + |f|)^β on the transfer function (paper §3).

The layer computes ỹ = IFFT((1 + |f|)^β · K̂ · û) + D·u. What "f" is — the frequency
normalisation — is a real choice and the paper's experiments differ, so it is named:

  "cycles"  f = k/M, cycles/sample on an M-point FFT (the paper's LRA code; largest gain 1.5^β)
  "angular" f = |s_k|/scale, s_k = 2πk/(MΔ) the angular frequency (waves: scale = 10⁴)
  "bins"    f = k/scale, the raw FFT bin index (the waves/denoising scripts' (1 + k/10⁴))

The weight depends on |k| only, so the filter is symmetric in frequency and a real kernel
stays real.
"""
import functools
import math

import torch

from ._checks import check_choice, check_finite, check_length, check_positive

NORMALIZATIONS = ("cycles", "angular", "bins")


def filter_frequencies(n_fft, normalization="cycles", dt=None, scale=1.0):
    """The normalised frequency |f| (n_fft//2 + 1,) of each rfft bin under `normalization`.

    Bin k sits at s_k = 2πk/(MΔ); f is `normalized_frequency` there. Only "angular" needs Δ
    (a tensor Δ, one per channel, gives (..., n_fft//2 + 1)); for the others Δ cancels.
    """
    n_fft = check_length("n_fft", n_fft)
    check_choice("normalization", normalization, NORMALIZATIONS)
    k = torch.arange(n_fft // 2 + 1, dtype=torch.float64)
    if normalization != "angular":
        return normalized_frequency(2 * math.pi * k / n_fft, normalization, 1.0, scale, n_fft)
    if dt is None:
        raise ValueError("dt must be given for normalization='angular' (s_k = 2πk/(M·dt))")
    dt = _check_dt(dt)
    if dt.dim() > 0:
        dt = dt.detach().cpu().unsqueeze(-1)
    return normalized_frequency(2 * math.pi * k / (n_fft * dt), normalization, dt, scale, n_fft)


def normalized_frequency(s, normalization="cycles", dt=None, scale=1.0, n_fft=None):
    """|f| at angular frequencies s (rad per unit time) — the one table of what f is:
      "cycles"   f = |s|Δ/(2π)            (needs dt)
      "angular"  f = |s|/scale
      "bins"     f = |s|ΔM/(2π·scale)     (needs dt and n_fft = M)
    s and dt broadcast against each other."""
    check_choice("normalization", normalization, NORMALIZATIONS)
    scale = check_positive("scale", scale)
    s = torch.as_tensor(s, dtype=torch.float64).abs()
    if normalization == "angular":
        return s / scale
    if dt is None:
        raise ValueError(f"dt must be given for normalization={normalization!r} (f depends on Δ)")
    dt = _check_dt(dt)
    if normalization == "cycles":
        return s * dt / (2 * math.pi)
    if n_fft is None:
        raise ValueError("n_fft must be given for normalization='bins' (bin k sits at s = 2πk/(MΔ))")
    return s * dt * check_length("n_fft", n_fft) / (2 * math.pi * scale)


def _check_dt(dt):
    dt = torch.as_tensor(dt, dtype=torch.float64)
    if not torch.isfinite(dt).all() or (dt <= 0).any():
        raise ValueError(f"dt must be finite and > 0, got {dt.tolist() if dt.numel() < 5 else 'a tensor'}")
    return dt


def sobolev_weight(n_fft, beta, normalization="cycles", dt=None, scale=1.0):
    """(1 + |f|)^β on the rfft grid: shape (n_fft//2 + 1,) for a number β, (..., n_fft//2 + 1)
    for a tensor β (e.g. one trainable β per channel). β = 0 gives exactly 1."""
    check_finite("beta", beta)
    if normalization == "angular" or normalization not in NORMALIZATIONS:
        log_gain = torch.log1p(filter_frequencies(n_fft, normalization, dt, scale))
    else:
        log_gain = grid_log_gain(check_length("n_fft", n_fft), normalization, check_positive("scale", scale),
                                 torch.device("cpu"), torch.float64)
    if torch.is_tensor(beta):
        return torch.exp(beta.unsqueeze(-1) * log_gain.to(beta.dtype).to(beta.device))
    return torch.exp(beta * log_gain).float()


@functools.lru_cache(maxsize=64)
def grid_log_gain(n_fft, normalization, scale, device, dtype):
    """log(1 + |f|) (n_fft//2 + 1,) on the rfft grid, cached per (n_fft, normalization, scale,
    device, dtype). For "angular" it is log(1 + |f|) at Δ = 1 before the log: 2πk/(M·scale), which
    `angular_log_gain` divides by Δ. Arguments are not checked (see `sobolev_weight`)."""
    k = torch.arange(n_fft // 2 + 1, dtype=torch.float64)
    if normalization == "angular":
        return (2 * math.pi * k / (n_fft * scale)).to(device, dtype)
    frequency = k / n_fft if normalization == "cycles" else k / scale  # `normalized_frequency` at s_k
    return torch.log1p(frequency).to(device, dtype)


def angular_log_gain(n_fft, dt, scale):
    """log(1 + |s_k|/scale), s_k = 2πk/(M·Δ), for a tensor Δ (...,) of positive steps: (..., n_fft//2 + 1)
    on Δ's device and dtype, without gradient to Δ (as `filter_frequencies`) and without checks."""
    base = grid_log_gain(n_fft, "angular", scale, dt.device, dt.dtype)
    return torch.log1p(base / dt.detach().unsqueeze(-1))


def sobolev_gain(s, beta, normalization="cycles", dt=None, scale=1.0, n_fft=None):
    """The filter's gain (1 + |f|)^β at angular frequencies s (rad per unit time), f as in
    `normalized_frequency`: the continuous counterpart of `sobolev_weight`, for theory and
    plots; on the FFT bins s_k = 2πk/(MΔ) the two agree. s, dt and β broadcast."""
    check_finite("beta", beta)
    f = normalized_frequency(s, normalization, dt, scale, n_fft)
    beta = torch.as_tensor(beta, dtype=torch.float64)
    return torch.exp(beta * torch.log1p(f))
