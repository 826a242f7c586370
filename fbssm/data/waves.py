"""The waves task (paper §4.1): a sum of cosines at low → high frequencies; the targets are the amplitudes.

On one 2π window sampled with L points (Δ = 2π/L), u[l] = Σ_k a_k cos(f_k · l·Δ). Frequencies f_k
are angular frequencies s, so wave k sits at ω = f_k·Δ rad/sample and needs L > 2·max f_k.
"""
import math
import numbers

import torch

from .._checks import check_length


def waves_step(length):
    """Δ = 2π/L: the L samples cover one 2π window."""
    return 2 * math.pi / check_length("length", length)


def wave_amplitudes(n, n_waves, kind="grid", seed=0):
    """(n, n_waves) amplitudes: "grid" draws n distinct points of {0.1, ..., 1.0}^n_waves
    (all of them when n = 10^n_waves), "random" draws U[0, 1)."""
    n, n_waves = check_length("n", n), check_length("n_waves", n_waves)
    g = torch.Generator().manual_seed(seed)
    if kind == "random":
        return torch.rand(n, n_waves, generator=g)
    if kind != "grid":
        raise ValueError(f"kind must be 'grid' or 'random', got {kind!r}")
    levels = torch.arange(1, 11) / 10
    size = 10 ** n_waves
    if n > size:
        raise ValueError(f"n must be at most {size} for the grid, got {n}")
    index = torch.randperm(size, generator=g)[:n]
    digits = torch.stack([(index // 10 ** k) % 10 for k in range(n_waves)], -1)
    return levels[digits]


def waves_dataset(n, length, frequencies=(1, 16, 256, 4096), amplitudes="grid", seed=0):
    """Inputs (n, length, 1) and targets (n, n_waves): the amplitudes of the cosines."""
    length = check_length("length", length)
    frequencies = tuple(frequencies)
    if not frequencies or not all(isinstance(f, numbers.Real) and 0 <= f < math.inf for f in frequencies):
        raise ValueError(f"frequencies must be a non-empty sequence of finite numbers >= 0, "
                         f"got {frequencies!r}")
    if 2 * max(frequencies) >= length:
        raise ValueError(f"length must exceed 2·max(frequencies) = {2 * max(frequencies)} (Nyquist), "
                         f"got {length}")
    a = wave_amplitudes(n, len(frequencies), amplitudes, seed)
    t = torch.arange(length, dtype=torch.float64) * waves_step(length)
    waves = torch.cos(torch.tensor(frequencies, dtype=torch.float64)[:, None] * t)  # (n_waves, L)
    return (a.double() @ waves).float().unsqueeze(-1), a.float()
