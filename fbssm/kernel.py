"""Discretisation and the convolution kernel K (paper §1).

With b_j = 1 folded into C, the discretised system has per-mode pole λ_j = exp(log λ_j) and
input gain B̄_j, and its kernel is the Vandermonde product

    K[l] = 2·Re Σ_j c_j B̄_j λ_j^l,   l = 0..L-1.                        (ZOH: log λ_j = Δ a_j)

The factor 2·Re adds each mode's implicit conjugate partner.
"""
import functools
import math

import torch
import torch.nn.functional as F
from torch.autograd.function import once_differentiable

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
    return _discretize(A, _as_dt(dt, A), method)


def _discretize(A, dt, method):
    """`discretize` for a checked dt (..., 1): no value checks, so no host synchronisation."""
    dtA = A * dt
    if method == "zoh":
        return dtA, torch.expm1(dtA) / A
    denominator = 1 - dtA / 2
    return torch.log((1 + dtA / 2) / denominator), dt / denominator


def _check_modes(A, C):
    check_complex("A", A)
    check_complex("C", C)
    if A.shape[-1] != C.shape[-1]:
        raise ValueError(f"A and C must have the same number of modes (last dimension), "
                         f"got A {tuple(A.shape)} and C {tuple(C.shape)}")


def fast_length(n):
    """The smallest 5-smooth integer (2^a·3^b·5^c) >= n: an FFT length pocketfft and cuFFT run fast."""
    n = check_length("n", n)
    return _fast_length(n)


@functools.lru_cache(maxsize=None)
def _fast_length(n):
    best = 1 << (n - 1).bit_length()
    power5 = 1
    while power5 < best:
        power35 = power5
        while power35 < best:
            size = power35 << max(0, (-(-n // power35) - 1).bit_length())  # times the least power of 2 reaching n
            best = min(best, size)
            power35 *= 3
        power5 *= 5
    return best


@functools.lru_cache(maxsize=64)
def _block_grid(L, device, dtype):
    """(m, blocks, exponents, steps) for l = q·m + r: exponents [r = 0..m-1, q·m for q < blocks],
    steps = l for l < L (the weights of the log-λ gradient); both real."""
    m = max(1, math.isqrt(L - 1) + 1)
    blocks = -(-L // m)
    exponents = torch.cat([torch.arange(m, dtype=dtype, device=device),
                           torch.arange(blocks, dtype=dtype, device=device) * m])
    return m, blocks, exponents, torch.arange(L, dtype=dtype, device=device)


def _exp_i(real, imag):
    """exp(real + i·imag) from real exp, cos and sin: on the CPU these are vectorised, where a
    complex exp is not (about 4× faster for the layer's powers)."""
    magnitude = torch.exp(real)
    return torch.complex(magnitude * torch.cos(imag), magnitude * torch.sin(imag))


def _sum_to(grad, shape):
    return grad if grad.shape == shape else grad.sum_to_size(shape)


def _vandermonde_forward(W, log_lambda, L):
    """(Re Σ_j W_j λ_j^l for l < L, the powers (..., N, m + blocks)) in blocks l = q·m + r."""
    m, blocks, exponents, _ = _block_grid(L, W.device, log_lambda.real.dtype)
    powers = _exp_i(log_lambda.real.unsqueeze(-1) * exponents,
                    log_lambda.imag.unsqueeze(-1) * exponents)          # λ^r, then λ^{qm}
    weighted = (W.unsqueeze(-1) * powers[..., m:]).transpose(-1, -2)    # (..., blocks, N)
    K = torch.view_as_real(weighted @ powers[..., :m])[..., 0]          # (..., blocks, m)
    return K.flatten(-2)[..., :L], powers


def _vandermonde_sums(grad_K, powers, L):
    """(Σ_l G_l λ^l, Σ_l l·G_l λ^l), each (..., N), by the same blocked product as the forward."""
    m, blocks, _, steps = _block_grid(L, grad_K.device, powers.real.dtype)
    G = torch.stack((grad_K, grad_K * steps))                            # (2, ..., L)
    G = F.pad(G, (0, m * blocks - L)).unflatten(-1, (blocks, m)).to(powers.dtype)
    partial = G @ powers[..., :m].transpose(-1, -2)                     # (2, ..., blocks, N)
    return (partial * powers[..., m:].transpose(-1, -2)).sum(-2).unbind(0)


class Vandermonde(torch.autograd.Function):
    """K[l] = Re Σ_j W_j λ_j^l (l < L) in blocks l = q·m + r, m ≈ √L, with its gradient by hand.

    Forward: λ^l = λ^{qm}·λ^r, so K is a complex matrix product of the weighted (N × L/m) outer
    powers with the (N × m) inner powers; every power is computed directly (`_exp_i`), never by a repeated product
    (float32 accuracy). Backward, for G = ∂loss/∂K: ∂W = conj(Σ_l G_l λ^l) and
    ∂log λ = conj(W·Σ_l l·G_l λ^l), both the same blocked Vandermonde product of (G, l·G).
    """

    @staticmethod
    def forward(ctx, W, log_lambda, L):
        K, powers = _vandermonde_forward(W, log_lambda, L)
        ctx.save_for_backward(W, powers)
        ctx.L, ctx.shapes = L, (W.shape, log_lambda.shape)
        return K

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_K):
        W, powers = ctx.saved_tensors
        S0, S1 = _vandermonde_sums(grad_K, powers, ctx.L)
        return _sum_to(S0.conj(), ctx.shapes[0]), _sum_to((W * S1).conj(), ctx.shapes[1]), None


class LayerKernel(torch.autograd.Function):
    """K (kernels, H, L) = 2·Re Σ_j C_j B̄_j λ_j^l from a layer's raw parameters, gradient by hand.

    a = −exp(log_A_real) + i·A_imag, Δ = exp(log_dt), z = Δa; zoh: log λ = z, B̄ = expm1(z)/a;
    bilinear: log λ = log((1 + z/2)/(1 − z/2)), B̄ = Δ/(1 − z/2). With the holomorphic gradients
    ḡ = 2∂loss/∂(·) of `Vandermonde` (ḡ_W = Σ G λ^l, ḡ_logλ = W·Σ l·G λ^l) and ḡ_B̄ = 2Σ C·ḡ_W:
    ḡ_a = ḡ_logλ·∂logλ/∂a + ḡ_B̄·∂B̄/∂a and, as B̄ = Δ·φ(Δa), ∂loss/∂log Δ = Σ_j Re(a·ḡ_a + B̄·ḡ_B̄).
    """

    @staticmethod
    def forward(ctx, log_dt, log_A_real, A_imag, C, L, method):
        dt = torch.exp(log_dt).unsqueeze(-1)                               # (H, 1)
        a_real = -torch.exp(log_A_real)
        a = torch.complex(a_real, A_imag)
        z = torch.complex(a_real * dt, A_imag * dt)                          # Δa, all real products
        if method == "zoh":
            log_lambda, B_bar = z, torch.expm1(z) / a
        else:
            half = z / 2
            log_lambda, B_bar = torch.log((1 + half) / (1 - half)), dt / (1 - half)
        C = torch.view_as_complex(C)
        W = C * B_bar
        W = W + W                                                           # 2·C·B̄
        K, powers = _vandermonde_forward(W, log_lambda, L)
        ctx.save_for_backward(a, z, B_bar, C, W, powers)
        ctx.L, ctx.method, ctx.shapes = L, method, (log_A_real.shape, A_imag.shape)
        return K

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_K):
        a, z, B_bar, C, W, powers = ctx.saved_tensors
        S0, S1 = _vandermonde_sums(grad_K, powers, ctx.L)                  # (kernels, H, N)
        S0 = S0 + S0                                                        # W = 2·C·B̄
        grad_C = torch.view_as_real((B_bar * S0).conj_physical())
        grad_B = (C * S0).sum(0)
        grad_log_lambda = (W * S1).sum(0)
        dt = z / a                                                          # Δ as a complex number
        if ctx.method == "zoh":   # ∂logλ/∂a = Δ, ∂B̄/∂a = (Δe^z − B̄)/a
            grad_a = dt * grad_log_lambda + grad_B * (dt * torch.exp(z) - B_bar) / a
        else:                     # ∂logλ/∂a = Δ/(1 − z²/4), ∂B̄/∂a = B̄²/2
            grad_a = dt * grad_log_lambda / (1 - z * z / 4) + grad_B * B_bar * B_bar / 2
        grad_log_dt = torch.view_as_real(a * grad_a + B_bar * grad_B)[..., 0].sum(-1)
        parts = torch.view_as_real(grad_a).unbind(-1)                       # ∂a_real, −∂a_imag
        grad_log_A_real = _sum_to(torch.view_as_real(a)[..., 0] * parts[0], ctx.shapes[0])
        grad_A_imag = _sum_to(-parts[1], ctx.shapes[1])
        return grad_log_dt, grad_log_A_real, grad_A_imag, grad_C, None, None


def vandermonde(W, log_lambda, L):
    """Re Σ_j W_j λ_j^l for l = 0..L-1, in blocks, with a hand-written gradient (`Vandermonde`).

    Write l = q·m + r with m ≈ √L. Then λ^l = λ^{qm}·λ^r, so the product is a matrix product of
    the (N × L/m) outer powers, weighted by W, with the (N × m) inner powers: O(N·√L) complex
    exponentials per channel instead of O(N·L), and no (N × L) tensor is ever formed. Every
    power is computed directly, never by repeated multiplication, so the result keeps float32
    accuracy. W and log λ (..., N) broadcast against each other.
    """
    return Vandermonde.apply(W, log_lambda, L)


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
    return product(2 * C * B_bar, log_lambda, L)


def layer_kernel(log_dt, log_A_real, A_imag, C, L, method="zoh"):
    """`ssm_kernel` (fast path) from a layer's raw parameters: Δ = exp(log_dt) (H,), A = −exp(log_A_real)
    + i·A_imag (H or 1, N), C (kernels, H, N, 2) as real pairs; `LayerKernel`'s gradient. L and
    method are not checked, and nothing waits for the device."""
    return LayerKernel.apply(log_dt, log_A_real, A_imag, C, L, method)


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
    or integer u or k is a TypeError, mismatched lengths a ValueError. The gradient is
    `FFTConvolution`'s.
    """
    _check_convolution(u, k, weight)
    dtype = torch.promote_types(torch.promote_types(u.dtype, k.dtype), torch.float32)
    u, k = u.to(dtype), k.to(dtype)
    L = u.shape[-1]
    if u.numel() == 0:  # an empty batch: FFT backends refuse zero-size transforms
        return u.new_zeros(torch.broadcast_shapes(u.shape[:-1], k.shape[:-1]) + (L,))
    return FFTConvolution.apply(u, k, weight, None, 2 * L)


def filtered_spectrum(k, n, weight=None, skip=None):
    """W·rfft(k, n) + D on the rfft grid of length n: the spectrum a convolution multiplies û by.
    weight W (..., n//2 + 1) real or None; skip D (...,) a lag-0 term the filter does not touch."""
    return _filter(torch.fft.rfft(k, n=n), weight, skip)


def _filter(spectrum, weight, skip):
    if weight is not None:
        spectrum = spectrum * weight
    if skip is not None:
        spectrum = spectrum + skip.unsqueeze(-1)
    return spectrum


@functools.lru_cache(maxsize=64)
def _hermitian_weights(n, device, dtype):
    """c_f/n on the rfft grid of length n (c = 1 at DC and at Nyquist for even n, 2 elsewhere):
    Σ_f c_f/n·Re X_f is lag 0 of irfft(X, n), and (c/n)·rfft is irfft's adjoint."""
    c = torch.full((n // 2 + 1,), 2.0 / n, dtype=dtype, device=device)
    c[0] = 1.0 / n
    if n % 2 == 0:
        c[-1] = 1.0 / n
    return c


def _batch_correlation(u_hat, g_hat, shape):
    """Σ conj(û)·ĝ over the dimensions that `shape` (..., F) broadcasts along. When those are the
    leading (batch) dimensions, a batched matrix product takes the conjugate inside its kernel:
    no conjugate copy of the (batch, ..., F) spectrum is made."""
    lead = u_hat.dim() - len(shape)
    if lead > 0 and u_hat.shape[lead:] == shape and g_hat.shape == u_hat.shape:
        size = math.prod(shape)
        rows = u_hat.reshape(-1, size).t().unsqueeze(1).conj()        # (∏shape, 1, batch)
        columns = g_hat.reshape(-1, size).t().unsqueeze(-1)          # (∏shape, batch, 1)
        return torch.bmm(rows, columns).view(shape)
    return (u_hat.conj() * g_hat).sum_to_size(shape)


class FFTConvolution(torch.autograd.Function):
    """y = irfft(rfft(u, n)·S, n)[..., :L], S = `filtered_spectrum(k, n, weight, skip)`, n >= L + len(k) - 1.

    Backward by hand, with ĝ = rfft(∂loss/∂y, n) and P = Σ_batch conj(û)·ĝ (one (..., F) tensor):
    ∂u = irfft(ĝ·conj(S), n)[:L] (a real transform), ∂k = irfft(W·P, n)[:len(k)],
    ∂W = Re(conj(rfft(k))·P)·c/n and ∂D = Σ_f Re(P_f)·c_f/n (`_hermitian_weights`). The filter
    multiplies the (..., F) kernel spectrum, never the batch's.
    """

    @staticmethod
    def forward(ctx, u, k, weight, skip, n):
        plain = torch.fft.rfft(k, n=n)
        spectrum = _filter(plain, weight, skip)
        u_hat = torch.fft.rfft(u, n=n)
        need_plain = weight is not None and ctx.needs_input_grad[2]
        ctx.save_for_backward(u_hat, spectrum, plain if need_plain else None, weight)
        ctx.n, ctx.shapes = n, (u.shape, k.shape, None if weight is None else weight.shape,
                                None if skip is None else skip.shape)
        return torch.fft.irfft(u_hat * spectrum, n=n)[..., :u.shape[-1]]

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_y):
        u_hat, spectrum, plain, weight = ctx.saved_tensors
        n, (u_shape, k_shape, weight_shape, skip_shape) = ctx.n, ctx.shapes
        need_u, need_k, need_weight, need_skip = ctx.needs_input_grad[:4]
        g_hat = torch.fft.rfft(grad_y, n=n)
        grads = [None] * 5
        if need_u:
            grads[0] = _sum_to(torch.fft.irfft(g_hat * spectrum.conj(), n=n)[..., :u_shape[-1]], u_shape)
        if not (need_k or need_weight or need_skip):
            return tuple(grads)
        P = _batch_correlation(u_hat, g_hat, spectrum.shape)
        lags = None
        if need_k or (need_skip and weight is None):
            lags = torch.fft.irfft(P if weight is None else P * weight, n=n)
            grads[1] = _sum_to(lags[..., :k_shape[-1]], k_shape) if need_k else None
        if need_skip:  # D is lag 0 of an unfiltered kernel: Σ_f Re(P_f)·c_f/n = irfft(P)[0]
            grads[3] = _sum_to(lags[..., 0] if weight is None else P.real @ _hermitian_weights(
                n, P.device, P.real.dtype), skip_shape)
        if need_weight:
            grads[2] = _sum_to((plain.conj() * P).real * _hermitian_weights(n, P.device, P.real.dtype),
                               weight_shape)
        return tuple(grads)


def fft_convolve(u, k, n, weight=None, skip=None):
    """`FFTConvolution` of real u (..., L) with k (..., ≤ n) on FFT length n >= L + len(k) - 1:
    y = irfft(rfft(u, n)·(W·rfft(k, n) + D), n)[..., :L]. The layer's path: no checks."""
    return FFTConvolution.apply(u, k, weight, skip, n)
