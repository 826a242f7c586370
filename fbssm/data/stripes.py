"""Stripe noise for the image-denoising experiment, and where it lands in frequency.

An H × W image flattened row by row is the sequence u[l], l = r·W + c. Because neighbouring rows
look alike, u is nearly periodic with period W, so its energy sits on the row harmonics
ω_m = 2πm/W rad/sample, m = 0..W/2. The noise is a·U·cos(κ·index), U ~ U[0, 1) per image:

  "vertical"   cos(κ·c), c the column: it changes along each row (vertical stripes). With
               κ = 2πm/W a harmonic, cos(κ·c) = cos(κ·l) exactly: one pure tone at ω = κ, near
               Nyquist for m near W/2 — high frequency.
  "horizontal" cos(κ·r), r = ⌊l/W⌋ the row: it changes once per row (horizontal stripes), a
               staircase whose main tone sits at ω = κ/W, between harmonics 0 and 1 — low frequency.

The paper uses W = 128 and κ = 61π/64 = 2π·61/128, the harmonic m = 61 (Nyquist is m = 64);
`stripe_harmonic` keeps that place, 61/64 of the way to Nyquist, for any width.
"""
import math

import torch

from .._checks import check_choice, check_finite, check_length

DIRECTIONS = ("vertical", "horizontal")


def stripe_harmonic(width, fraction=61 / 64):
    """The row harmonic m nearest fraction·(W/2), kept in 1..W/2 − 1 (paper: W = 128 → m = 61)."""
    width = check_length("width", width)
    if width < 4:
        raise ValueError(f"width must be at least 4 for a harmonic below Nyquist, got {width}")
    return min(width // 2 - 1, max(1, math.floor(fraction * width / 2 + 0.5)))


def stripe_kappa(width, fraction=61 / 64):
    """κ = 2π·m/W for m = stripe_harmonic(width): 61π/64 at W = 128, 15π/16 at W = 32."""
    return 2 * math.pi * stripe_harmonic(width, fraction) / width


def row_harmonics(width):
    """ω_m = 2πm/W, m = 0..W/2: where a row-flattened image keeps its energy (rad/sample)."""
    width = check_length("width", width)
    return 2 * math.pi * torch.arange(width // 2 + 1, dtype=torch.float64) / width


def noise_frequency(direction, width, kappa):
    """The frequency (rad/sample) the noise's main tone has in the row-major sequence."""
    check_choice("direction", direction, DIRECTIONS)
    return kappa if direction == "vertical" else kappa / check_length("width", width)


def stripe_pattern(shape, kappa, direction):
    """cos(κ·c) ("vertical") or cos(κ·r) ("horizontal") as a row-major sequence (H·W,)."""
    check_choice("direction", direction, DIRECTIONS)
    height, width = check_length("height", shape[0]), check_length("width", shape[1])
    check_finite("kappa", kappa)
    rows, columns = torch.meshgrid(torch.arange(height, dtype=torch.float64),
                                   torch.arange(width, dtype=torch.float64), indexing="ij")
    index = columns if direction == "vertical" else rows
    return torch.cos(kappa * index).reshape(-1).float()


def stripe_strengths(n, amplitude=1.0, seed=0, channels=None):
    """a·U for n images, U ~ U[0, 1) drawn from `seed`: shape (n,), or (n, channels) with one draw
    per image and channel (the authors' evaluation noise)."""
    n = check_length("n", n)
    check_finite("amplitude", amplitude)
    shape = (n,) if channels is None else (n, check_length("channels", channels))
    return amplitude * torch.rand(shape, generator=torch.Generator().manual_seed(seed))


def stripe_noise(n, shape, direction, amplitude=1.0, kappa=None, channels=3, seed=0):
    """Noise a·U·cos(κ·index), shape (n, H·W, channels); U ~ U[0, 1) per image, the same in
    every channel. kappa defaults to `stripe_kappa(W)`."""
    kappa = stripe_kappa(shape[1]) if kappa is None else kappa
    strength = stripe_strengths(n, amplitude, seed)[:, None, None]
    return strength * stripe_pattern(shape, kappa, direction)[None, :, None].expand(
        n, -1, check_length("channels", channels))
