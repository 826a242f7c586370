"""Transfer functions: continuous G(is) and the discretised system's H(e^{iω}) (paper §1).

Conventions used everywhere in fbssm and the book:
  s  — angular frequency of the continuous system (rad per unit time);
  ω  — discrete frequency in rad/sample, ω = s·Δ, Nyquist at ω = π;
  an M-point FFT bin k sits at ω_k = 2πk/M, i.e. s_k = 2πk/(MΔ).
For small Δ|a_j| the DTFT of the ZOH kernel satisfies H(e^{iω}) ≈ G(iω/Δ).
"""
import math

import torch

from ._checks import check_length, check_positive
from .kernel import _check_modes, discretize


def transfer_function(A, C, s, D=0.0, conjugate_pairs=True):
    """G(is) = Σ_j c_j/(is - a_j) [+ conj(c_j)/(is - conj(a_j))] + D at angular frequencies s.

    A, C: complex (..., N); s: real (S,). Returns complex (..., S). With conjugate_pairs=True
    (the real S4D layer) each mode's conjugate partner is included, so resonances sit at ±y_j.
    """
    _check_modes(A, C)
    s = torch.as_tensor(s, dtype=A.real.dtype, device=A.device)
    i_s = (1j * s).to(A.dtype)[..., None, :]  # (1, S) against modes (N, 1)
    a, c = A.unsqueeze(-1), C.unsqueeze(-1)
    G = (c / (i_s - a)).sum(-2)
    if conjugate_pairs:
        G = G + (c.conj() / (i_s - a.conj())).sum(-2)
    return G + D


def discrete_transfer_function(A, C, dt, omega, method="zoh", D=0.0):
    """H(e^{iω}) = Σ_l K[l] e^{-iωl} + D of the discretised real system (infinite kernel).

    ω in rad/sample (..., S); equals Σ_j W_j/(1 - λ_j e^{-iω}) + conj terms, W_j = c_j B̄_j.
    """
    _check_modes(A, C)
    log_lambda, B_bar = discretize(A, dt, method)
    W = (C * B_bar).unsqueeze(-1)
    lam = torch.exp(log_lambda).unsqueeze(-1)
    omega = torch.as_tensor(omega, dtype=A.real.dtype, device=A.device)
    z_inv = torch.exp(-1j * omega.to(A.dtype))[..., None, :]
    H = (W / (1 - lam * z_inv)).sum(-2) + (W.conj() / (1 - lam.conj() * z_inv)).sum(-2)
    return H + D


def fft_frequencies(n_fft, dt=1.0):
    """Angular frequencies s_k = 2πk/(MΔ) of the rfft bins k = 0..M//2 (rad/sample when dt=1)."""
    n_fft = check_length("n_fft", n_fft)
    dt = check_positive("dt", dt)
    return 2 * math.pi * torch.arange(n_fft // 2 + 1, dtype=torch.float64) / (n_fft * dt)


def folded_frequency(omega):
    """Where a discrete mode at ω rad/sample acts: ω folded into [0, π] (a mode above Nyquist
    aliases to 2π − ω, and so on). Works on numbers, numpy arrays and tensors."""
    return abs((omega + math.pi) % (2 * math.pi) - math.pi)
