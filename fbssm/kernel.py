"""Discretisation and the convolution kernel K (paper §1).

With b_j = 1 folded into C, the discretised system has per-mode pole λ_j = exp(log λ_j) and
input gain B̄_j, and its kernel is the Vandermonde product

    K[l] = 2·Re Σ_j c_j B̄_j λ_j^l,   l = 0..L-1.                        (ZOH: log λ_j = Δ a_j)

The factor 2·Re adds each mode's implicit conjugate partner.
"""
import math

import torch

from ._checks import check_choice, check_complex, check_length

METHODS = ("zoh", "bilinear")


def _as_dt(dt, like):
    dt = torch.as_tensor(dt, dtype=like.real.dtype, device=like.device)
    if not torch.isfinite(dt).all() or (dt <= 0).any():
        raise ValueError("dt must be finite and > 0")
    return dt.unsqueeze(-1)  # broadcast against the mode axis


def discretize(A, dt, method="zoh"):
    """(log λ, B̄) of the discretised diagonal system for step Δ = dt.

    zoh:      λ = exp(ΔA),                 B̄ = (exp(ΔA) - 1)/A
    bilinear: λ = (1 + ΔA/2)/(1 - ΔA/2),   B̄ = Δ/(1 - ΔA/2)
    dt is a number or a tensor broadcastable against A's leading dimensions.
    """
    check_complex("A", A)
    check_choice("method", method, METHODS)
    dtA = A * _as_dt(dt, A)
    if method == "zoh":
        return dtA, torch.expm1(dtA) / A
    denominator = 1 - dtA / 2
    return torch.log((1 + dtA / 2) / denominator), _as_dt(dt, A) / denominator


def _check_modes(A, C):
    check_complex("A", A)
    check_complex("C", C)
    if A.shape[-1] != C.shape[-1]:
        raise ValueError(f"A and C must have the same number of modes (last dimension), "
                         f"got A {tuple(A.shape)} and C {tuple(C.shape)}")


def _powers(log_lambda, exponents):
    """Real and imaginary parts of λ^e = exp(e·x)·(cos(e·y), sin(e·y)), shape (..., N, len(e))."""
    magnitude = torch.exp(log_lambda.real.unsqueeze(-1) * exponents)
    phase = log_lambda.imag.unsqueeze(-1) * exponents
    return magnitude * torch.cos(phase), magnitude * torch.sin(phase)


def vandermonde(W, log_lambda, L):
    """Re Σ_j W_j λ_j^l for l = 0..L-1, in real arithmetic and blocks.

    Write l = q·m + r with m ≈ √L. Then λ^l = λ^{qm}·λ^r, so the product is a real matrix
    product of the (N × L/m) outer powers, weighted by W, with the (N × m) inner powers:
    O(N·√L) real exp/cos/sin per channel instead of O(N·L) complex exponentials, and no
    (N × L) tensor is ever formed. Every power is computed directly, never by repeated
    multiplication, so the result keeps float32 accuracy.
    """
    m = max(1, math.isqrt(L - 1) + 1)
    blocks = -(-L // m)
    real_dtype = log_lambda.real.dtype
    inner = torch.arange(m, device=W.device, dtype=real_dtype)
    outer = torch.arange(blocks, device=W.device, dtype=real_dtype) * m
    outer_re, outer_im = _powers(log_lambda, outer)
    inner_re, inner_im = _powers(log_lambda, inner)
    weighted_re = W.real.unsqueeze(-1) * outer_re - W.imag.unsqueeze(-1) * outer_im
    weighted_im = W.real.unsqueeze(-1) * outer_im + W.imag.unsqueeze(-1) * outer_re
    K = weighted_re.transpose(-1, -2) @ inner_re - weighted_im.transpose(-1, -2) @ inner_im
    return K.flatten(-2)[..., :L]


def vandermonde_complex(W, log_lambda, L):
    """The same product in plain complex arithmetic (the reference the fast path is tested against)."""
    steps = torch.arange(L, device=W.device, dtype=log_lambda.real.dtype)
    return (W.unsqueeze(-1) * torch.exp(log_lambda.unsqueeze(-1) * steps)).sum(-2).real


def ssm_kernel(A, C, dt, L, method="zoh", fast=True):
    """Real convolution kernel K (..., L) of the diagonal SSM (A, B=1, C) sampled with step dt.

    A, C: complex (..., N) with broadcastable leading dimensions (e.g. channels H); dt: number
    or tensor over the leading dimensions. fast=False uses `vandermonde_complex`.
    """
    _check_modes(A, C)
    L = check_length("L", L)
    log_lambda, B_bar = discretize(A, dt, method)
    product = vandermonde if fast else vandermonde_complex
    return 2 * product(C * B_bar, log_lambda, L)


def _check_real(name, tensor):
    if not torch.is_tensor(tensor) or not tensor.is_floating_point():
        raise TypeError(f"{name} must be a real floating-point tensor, got "
                        + (f"dtype {tensor.dtype}" if torch.is_tensor(tensor) else type(tensor).__name__))
    if tensor.dim() < 1:
        raise ValueError(f"{name} must have a last (time) dimension, got a scalar")


def _check_convolution(u, k, weight):
    """Real u (..., L) ≥ 1 and k (..., L or 2L); weight with the L + 1 entries of the rfft grid."""
    _check_real("u", u)
    _check_real("k", k)
    L = u.shape[-1]
    if L < 1 or k.shape[-1] not in (L, 2 * L):
        raise ValueError(f"k must have last dimension L or 2L for u of length L >= 1, "
                         f"got u {tuple(u.shape)} and k {tuple(k.shape)}")
    if weight is not None and (not torch.is_tensor(weight) or weight.shape[-1:] != (L + 1,)):
        raise ValueError(f"weight must be a tensor (..., {L + 1}) on the rfft grid of length {2 * L}, "
                         f"got {tuple(weight.shape) if torch.is_tensor(weight) else type(weight).__name__}")


def fft_convolution(u, k, weight=None):
    """y = K ∗ u over the last axis via FFTs of length 2L (zero padding: linear, not circular).

    u (..., L), k (..., L) — or (..., 2L) for a two-sided kernel laid out as in a bidirectional
    layer; weight: optional filter on the rfft grid of length 2L (the Sobolev weight).
    Computed in float32 at least (half-precision inputs are promoted): half-precision FFTs need
    power-of-two lengths on CUDA and lose accuracy. An empty batch gives an empty output; complex
    or integer u or k is a TypeError, mismatched lengths a ValueError.
    """
    _check_convolution(u, k, weight)
    dtype = torch.promote_types(torch.promote_types(u.dtype, k.dtype), torch.float32)
    u, k = u.to(dtype), k.to(dtype)
    L = u.shape[-1]
    if u.numel() == 0:  # an empty batch: FFT backends refuse zero-size transforms
        return u.new_zeros(torch.broadcast_shapes(u.shape[:-1], k.shape[:-1]) + (L,))
    spectrum = torch.fft.rfft(u, n=2 * L) * torch.fft.rfft(k, n=2 * L)
    if weight is not None:
        spectrum = spectrum * weight
    return torch.fft.irfft(spectrum, n=2 * L)[..., :L]
