"""The two knobs on other diagonal SSMs: an S5-style MIMO layer and an LRU-style recurrence.

Both share one diagonal state of N complex modes across all H channels, with input matrix
B ∈ C^{N×H} and output matrix C ∈ C^{H×N}. With W_j = C_{:,j} B̄_{j,:} (an H × H matrix per mode)
and discrete poles λ_j, the kernel and the discrete transfer function are

    K[l] = ρ·Re Σ_j W_j λ_j^l,
    H(e^{iω}) = (ρ/2)·Σ_j [W_j/(1 - λ_j e^{-iω}) + conj(W_j)/(1 - conj(λ_j) e^{-iω})] + D,

with ρ = 2 for S5 (the conjugate partners are implicit, as in fbssm's S4D) and ρ = 1 for the LRU
(its readout is Re(C x)). K[l] is an (H_out, H_in) matrix; a layer convolves with it by FFTs of
length 2L. α scales where the modes sit (Im of the eigenvalues for S5, the phase range for the
LRU); β is the Sobolev filter (1 + |f|)^β on the kernel's spectrum (`fbssm.sobolev`).
These are the linear cores of the two models (no nonlinearity, no mixing after them).
"""
import math

import torch
import torch.nn as nn

from ._checks import check_choice, check_finite, check_length, check_positive
from .init import DIAGONAL_INIT_KINDS, diagonal_init
from .kernel import vandermonde
from .sobolev import sobolev_weight

FILTER_NORMALIZATIONS = ("cycles", "bins")  # "angular" needs one Δ per channel, which these layers lack


def diagonal_mimo_kernel(W, log_lambda, L, rho=2.0):
    """K (H_out, H_in, L) = ρ·Re Σ_j W_j λ_j^l for W (H_out, H_in, N) and log λ (N,)."""
    return rho * vandermonde(W, log_lambda, check_length("L", L))


def diagonal_mimo_transfer(W, log_lambda, omega, rho=2.0, D=None, length=None):
    """H(e^{iω}) (H_out, H_in, S) of the kernel ρ·Re Σ_j W_j λ_j^l, at ω (S,) in rad/sample.

    length=None sums the infinite kernel; length=L sums lags 0..L-1 only (the exact DTFT of the
    kernel a layer uses): each term gains the factor 1 - (λ e^{-iω})^L.
    """
    omega = torch.as_tensor(omega, dtype=log_lambda.real.dtype, device=W.device).to(log_lambda.dtype)
    H = 0
    for weight, log_pole in ((W, log_lambda), (W.conj(), log_lambda.conj())):
        log_z = log_pole.unsqueeze(-1) - 1j * omega  # log(λ_j e^{-iω}), (N, S)
        gain = 1 / -torch.expm1(log_z)
        if length is not None:
            gain = gain * -torch.expm1(check_length("length", length) * log_z)
        H = H + (weight.unsqueeze(-1) * gain).sum(-2)
    H = rho / 2 * H
    if D is not None:
        H = H + torch.diag_embed(D.to(H.dtype)).unsqueeze(-1)
    return H


def mimo_fft_convolution(u, K_spectrum, D):
    """y = IFFT(K̂ û)[:L] + D·u for u (batch, L, H_in), K̂ (H_out, H_in, L + 1) on the grid of 2L."""
    L = u.shape[1]
    u_hat = torch.fft.rfft(u.transpose(1, 2), n=2 * L)  # (B, H_in, L + 1)
    y_hat = torch.einsum("oif,bif->bof", K_spectrum, u_hat)
    y = torch.fft.irfft(y_hat, n=2 * L)[..., :L].transpose(1, 2)
    return y + u * D


def _check_input(u, channels, dtype):
    if not torch.is_tensor(u) or not u.is_floating_point():
        raise TypeError("u must be a real floating-point tensor, got "
                        + (f"dtype {u.dtype}" if torch.is_tensor(u) else type(u).__name__))
    if u.dim() != 3 or u.shape[-1] != channels or u.shape[1] == 0:
        raise ValueError(f"u must have shape (batch, length >= 1, {channels}), got {tuple(u.shape)}")
    return u.to(dtype)


class _DiagonalMIMO(nn.Module):
    """Shared parts: B, C, D, β and the FFT convolution of the (filtered) kernel."""

    rho = 2.0

    def _init_io(self, d_model, d_state, beta, filter_normalization, filter_scale, b_scale, c_scale):
        self.d_model, self.d_state = check_length("d_model", d_model), check_length("d_state", d_state)
        self.filter_normalization = check_choice("filter_normalization", filter_normalization,
                                                 FILTER_NORMALIZATIONS)
        self.filter_scale = check_positive("filter_scale", filter_scale)
        self.B = nn.Parameter(torch.view_as_real(
            torch.randn(self.d_state, self.d_model, dtype=torch.cfloat) * b_scale))
        self.C = nn.Parameter(torch.view_as_real(
            torch.randn(self.d_model, self.d_state, dtype=torch.cfloat) * c_scale))
        self.D = nn.Parameter(torch.randn(self.d_model))
        self.register_buffer("beta", torch.tensor(float(check_finite("beta", beta))))

    def mode_weights(self):
        """W (H_out, H_in, N): W_j = C_{:,j} B̄_{j,:}."""
        raise NotImplementedError

    def log_poles(self):
        """log λ_j (N,), complex."""
        raise NotImplementedError

    def kernel(self, L):
        """K (H_out, H_in, L): H²·L numbers, so these layers suit a modest H."""
        return diagonal_mimo_kernel(self.mode_weights(), self.log_poles(), L, self.rho)

    def transfer(self, omega, length=None):
        """H(e^{iω}) (H_out, H_in, S) at ω (S,) rad/sample, the skip D on the diagonal; length=L for
        the DTFT of the kernel cut to L lags (what `kernel(L)` holds), None for the infinite kernel."""
        return diagonal_mimo_transfer(self.mode_weights(), self.log_poles(), omega, self.rho,
                                      self.D, length)

    def kernel_spectrum(self, L):
        """W_β·K̂ on the rfft grid of 2L, (H_out, H_in, L + 1)."""
        spectrum = torch.fft.rfft(self.kernel(L), n=2 * L)
        if float(self.beta) == 0.0:
            return spectrum
        return spectrum * sobolev_weight(2 * L, float(self.beta), self.filter_normalization,
                                         None, self.filter_scale).to(spectrum.device)

    def forward(self, u):
        """y (batch, L, H) = IFFT(W_β·K̂·û) + D·u; the skip term is not filtered."""
        u = _check_input(u, self.d_model, self.D.dtype)
        return mimo_fft_convolution(u, self.kernel_spectrum(u.shape[1]), self.D)


class S5(_DiagonalMIMO):
    """S5-style MIMO diagonal SSM: one state of N complex modes a_j = x_j + i y_j shared by all
    H channels, B ∈ C^{N×H}, C ∈ C^{H×N}, one Δ_j per mode, ZOH (λ_j = e^{Δ_j a_j},
    B̄_j = (λ_j - 1)/a_j · B_j), kernel 2·Re (conjugate partners implicit).

    init: a kind of `fbssm.diagonal_init`; alpha scales Im(a_j) (the paper's α); beta is the
    Sobolev exponent on the kernel's spectrum, filter_normalization "cycles" or "bins".
    The S5 paper's own initialisation (HiPPO-N, block-diagonal) is not reproduced here.
    """

    SSM_PARAMETERS = ("log_dt", "log_A_real", "A_imag")

    def __init__(self, d_model, d_state=64, init="lin", alpha=1.0, beta=0.0, dt_min=1e-3,
                 dt_max=1e-1, filter_normalization="cycles", filter_scale=1.0):
        super().__init__()
        self._init_io(d_model, d_state, beta, filter_normalization, filter_scale,
                      math.sqrt(0.5 / check_length("d_model", d_model)), math.sqrt(0.5))
        dt_min, dt_max = check_positive("dt_min", dt_min), check_positive("dt_max", dt_max)
        if dt_max < dt_min:
            raise ValueError(f"dt_max must be >= dt_min, got dt_min={dt_min}, dt_max={dt_max}")
        A = diagonal_init(check_choice("init", init, DIAGONAL_INIT_KINDS), self.d_state, alpha)
        self.log_A_real = nn.Parameter(torch.log(-A.real.float()))
        self.A_imag = nn.Parameter(A.imag.float().clone())
        self.log_dt = nn.Parameter(torch.rand(self.d_state) * (math.log(dt_max) - math.log(dt_min))
                                   + math.log(dt_min))

    @property
    def A(self):
        """Continuous eigenvalues a_j (N,)."""
        return torch.complex(-torch.exp(self.log_A_real), self.A_imag)

    @property
    def dt(self):
        return torch.exp(self.log_dt)

    def log_poles(self):
        """log λ_j = Δ_j a_j (ZOH)."""
        return self.A * self.dt

    def mode_weights(self):
        B_bar = torch.expm1(self.A * self.dt).unsqueeze(-1) / self.A.unsqueeze(-1) * torch.view_as_complex(self.B)
        return torch.view_as_complex(self.C).unsqueeze(1) * B_bar.transpose(0, 1).unsqueeze(0)

    def continuous_system(self):
        """(A, C_io): the continuous G(is) of every channel pair, Σ_j C_io[o, i, j]/(is - a_j) plus
        the partners — the form `fbssm.theory` takes. C_io[o, i, j] = C_{o,j} B_{j,i}."""
        C_io = torch.view_as_complex(self.C).unsqueeze(1) * torch.view_as_complex(self.B).transpose(0, 1).unsqueeze(0)
        return self.A.expand(C_io.shape), C_io

    def mode_frequencies(self):
        """Where the modes act, ω_j = Δ_j·y_j in rad/sample (N,)."""
        return self.dt * self.A_imag


class LRU(_DiagonalMIMO):
    """LRU-style discrete diagonal recurrence x_k = λ ⊙ x_{k-1} + γ ⊙ (B u_k), y_k = Re(C x_k) + D u_k.

    λ_j = ν_j e^{iθ_j} with ν_j = exp(-exp(nu_log_j)) drawn uniformly on the ring
    r_min ≤ |λ| ≤ r_max (uniform in area) and θ_j = exp(theta_log_j) uniform in [0, α·theta_max]:
    α scales the phase range, the LRU's counterpart of the paper's α. γ_j = exp(gamma_log_j),
    initialised at sqrt(1 - ν_j²), normalises each mode's gain. The LRU paper draws phases over the
    full circle by default; theta_max = π here, since for a Re readout a phase θ and 2π - θ act at the
    same |ω|. beta: the Sobolev exponent on the kernel's spectrum.
    """

    rho = 1.0
    SSM_PARAMETERS = ("nu_log", "theta_log", "gamma_log")

    def __init__(self, d_model, d_state=64, r_min=0.9, r_max=0.999, theta_max=math.pi, alpha=1.0,
                 beta=0.0, filter_normalization="cycles", filter_scale=1.0):
        super().__init__()
        if not 0 <= r_min < r_max < 1:
            raise ValueError(f"r_min and r_max must satisfy 0 <= r_min < r_max < 1, got {r_min}, {r_max}")
        span = check_positive("alpha", alpha) * check_positive("theta_max", theta_max)
        self._init_io(d_model, d_state, beta, filter_normalization, filter_scale,
                      math.sqrt(1 / (2 * check_length("d_model", d_model))),
                      math.sqrt(1 / check_length("d_state", d_state)))
        u1, u2 = 1 - torch.rand(self.d_state), 1 - torch.rand(self.d_state)  # in (0, 1]
        nu = torch.sqrt(u1 * (r_max ** 2 - r_min ** 2) + r_min ** 2)
        self.nu_log = nn.Parameter(torch.log(-torch.log(nu)))
        self.theta_log = nn.Parameter(torch.log(span * u2))
        self.gamma_log = nn.Parameter(torch.log(torch.sqrt(1 - nu ** 2)))

    @property
    def theta(self):
        return torch.exp(self.theta_log)

    def log_poles(self):
        return torch.complex(-torch.exp(self.nu_log), self.theta)

    def mode_weights(self):
        gB = torch.exp(self.gamma_log).unsqueeze(-1) * torch.view_as_complex(self.B)  # (N, H_in)
        return torch.view_as_complex(self.C).unsqueeze(1) * gB.transpose(0, 1).unsqueeze(0)

    def continuous_system(self):
        """(A, C_io) of the continuous system whose ZOH at Δ = 1 is this recurrence: a_j = log λ_j,
        C_io = W_j·a_j/(2(λ_j - 1)) (B̄ = (e^a - 1)/a, and the factor 1/2 turns 2·Re into Re), in
        the form `fbssm.theory` and `fbssm.ssm_kernel(A, C_io, 1.0, L)` take."""
        a = self.log_poles()
        C_io = self.mode_weights() * (a / (2 * torch.expm1(a)))
        return a.expand(C_io.shape), C_io

    def mode_frequencies(self):
        """Where the modes act, ω_j = θ_j in rad/sample (N,)."""
        return self.theta
