"""Diagonal initialisations of A and the α knob (paper §3).

Each returns the n complex eigenvalues a_j = x_j + i y_j with y_j >= 0; the conjugates
are implicit (a real S4D layer takes 2·Re of the kernel). α multiplies the imaginary
parts only: y_j <- α·y_j, x_j unchanged.
"""
import math

import torch

from ._checks import check_choice, check_length, check_positive

INIT_KINDS = ("lin", "inv", "legs")          # the paper's initialisations
DIAGONAL_INIT_KINDS = INIT_KINDS + ("dfout",)  # what diagonal_init accepts (dfout: beyond the paper)


def hippo_legs(n):
    """The (n, n) HiPPO-LegS state matrix (real, lower triangular)."""
    n = check_length("n", n)
    q = torch.sqrt(2 * torch.arange(n, dtype=torch.float64) + 1)
    A = -torch.tril(q[:, None] * q[None, :], diagonal=-1)
    return A - torch.diag(torch.arange(n, dtype=torch.float64) + 1)


def legs_imaginary_parts(n):
    """Imaginary parts y_j >= 0 of the normal part of HiPPO-LegS (size 2n), ascending.

    HiPPO-LegS = S - P Pᵀ with P_k = sqrt(k + 1/2) and S = -I/2 + (skew-symmetric).
    The skew part's eigenvalues come in ± pairs; S4D-LegS keeps the n positive ones.
    """
    n = check_length("n", n)
    A = hippo_legs(2 * n)
    p = torch.sqrt(torch.arange(2 * n, dtype=torch.float64) + 0.5)
    normal = A + p[:, None] * p[None, :]
    skew = 0.5 * (normal - normal.T)
    y = torch.linalg.eigvalsh(-1j * skew.to(torch.complex128))  # eigenvalues of skew are i·y
    return torch.sort(y[y > 0]).values[:n]


def dfout_imaginary_parts(n, dt=1.0, length=None):
    """Imaginary parts y_j = ω_j/Δ with ω_j = 2π·k_j/L on the DFT grid of length L, k_j = round(j·L/(2n)):
    the n modes spread evenly over the discrete band [0, π) and each sits on a DFT bin.

    The idea is S4D-DFouT's (Solozabal et al., "Uncovering the Spectral Bias in Diagonal State Space
    Models", arXiv 2508.20441): place the poles on the discrete Fourier domain. Only that idea is
    confirmed here; the paper's exact formula (its grid, real part and any scaling) was not found, so
    this grid and the real part -1/2 shared with the other kinds are this library's choice.
    length=None takes L = 2n, where ω_j = π·j/n exactly.
    """
    n = check_length("n", n)
    dt = check_positive("dt", dt)
    length = 2 * n if length is None else check_length("length", length)
    k = torch.round(torch.arange(n, dtype=torch.float64) * length / (2 * n))
    return 2 * math.pi * k / (length * dt)


def diagonal_init(kind, n, alpha=1.0, dt=1.0, length=None):
    """Complex eigenvalues a (n,) of a diagonal initialisation, imaginary parts scaled by α.

    kind "lin": S4D-Lin,   a_j = -1/2 + i·α·π·j
    kind "inv": S4D-Inv,   a_j = -1/2 + i·α·(2n/π)·(2n/(2j+1) - 1)   (2n = real state size)
    kind "legs": S4D-LegS, a_j = -1/2 + i·α·y_j, y_j from the diagonalised normal part of HiPPO-LegS
    kind "dfout": poles on the DFT grid (S4D-DFouT's idea), a_j = -1/2 + i·α·ω_j/Δ, ω_j as in
                  `dfout_imaginary_parts(n, dt, length)`; dt and length are used by this kind only.
    """
    check_choice("kind", kind, DIAGONAL_INIT_KINDS)
    n = check_length("n", n)
    alpha = check_positive("alpha", alpha)
    j = torch.arange(n, dtype=torch.float64)
    if kind == "lin":
        imag = math.pi * j
    elif kind == "inv":
        imag = 2 * n / math.pi * (2 * n / (2 * j + 1) - 1)
    elif kind == "dfout":
        imag = dfout_imaginary_parts(n, dt, length)
    else:
        imag = legs_imaginary_parts(n)
    return torch.complex(torch.full((n,), -0.5, dtype=torch.float64), alpha * imag).to(torch.complex64)
