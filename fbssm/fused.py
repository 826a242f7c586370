"""Fused frequency-domain paths beside the S4D layer, and the float32 region they run in.

`float32_region(device)`: autocast off, so the kernel, the filter and every FFT stay float32 under
mixed precision (the Vandermonde product and the FFTs lose accuracy in bfloat16, and half-precision
FFTs need power-of-two lengths on CUDA). `S4D.lti` and `mean_gelu_s4d` both run in it.

`mean_gelu_s4d(u, layer, weight, bias)`: mean_t GELU(S4D-LTI(u·w + b)) for a one-channel input,
the model of the waves experiment, through `mean_gelu_convolution`, whose gradient is written out
by hand (`MeanGeluConvolution`): one FFT of the data serves every channel, and the only
(batch, channels, time) tensors are one inverse FFT and its GELU.
"""
from contextlib import contextmanager

import torch
import torch.nn.functional as F


@contextmanager
def float32_region(device):
    """Autocast disabled on `device` (a torch.device or its name) for the block: what it computes
    from float32 tensors stays float32 under mixed precision. Inputs keep their dtype; cast them."""
    device_type = torch.device(device).type
    if not torch.amp.is_autocast_available(device_type):
        device_type = "cpu"
    with torch.autocast(device_type, enabled=False):
        yield


class MeanGeluConvolution(torch.autograd.Function):
    """mean_t GELU(irfft(X_b · T_h, 2L)[:L] + c_h): (B, F), (H, F), (H, L) → (B, H).

    Backward by hand: with g = ∂loss/∂z for z the pre-activation (B, H, L), the adjoint of
    irfft(·, n)[:L] is rfft(g, n)·w_k/n (w_k = 1 at DC and Nyquist, 2 elsewhere), and the
    product's gradient is Σ_b conj(X_b)·(that). X gets no gradient.
    """

    @staticmethod
    def forward(ctx, data, transfer, offset):
        L = offset.shape[-1]
        n = 2 * L
        z = torch.fft.irfft(data.unsqueeze(1) * transfer, n=n)[..., :L]
        z += offset                  # in place on the first half of the fresh inverse FFT
        ctx.save_for_backward(data, z)
        return F.gelu(z).mean(-1)

    @staticmethod
    def backward(ctx, grad_out):
        data, z = ctx.saved_tensors
        L = z.shape[-1]
        n = 2 * L
        padded = z.new_empty(z.shape[:-1] + (n,))                        # (B, H, 2L)
        padded[..., L:] = 0
        grad_z = padded[..., :L]
        torch.ops.aten.gelu_backward.grad_input(
            (grad_out / L).unsqueeze(-1).expand_as(z), z, grad_input=grad_z)
        grad_offset = grad_z.sum(0)
        G = torch.fft.rfft(padded)                                       # (B, H, F), no padding copy
        grad_transfer = (data.conj().unsqueeze(1) * G).sum(0)
        scale = torch.full((grad_transfer.shape[-1],), 2.0 / n, dtype=z.dtype, device=z.device)
        scale[0] = 1.0 / n
        if n % 2 == 0:
            scale[-1] = 1.0 / n
        return None, grad_transfer * scale, grad_offset


def mean_gelu_convolution(data_spectrum, transfer, offset):
    """mean over t < L of GELU(irfft(X_b · T_h, 2L)[t] + c_h), shape (B, H).

    data_spectrum X: (B, L + 1) complex, the rfft of the input on the padded length 2L (it gets
    no gradient); transfer T: (H, L + 1) complex on the same grid; offset c: (H, L) real, added
    at every time step. The gradient to T and c is written by hand (`MeanGeluConvolution`).
    """
    if data_spectrum.dim() != 2 or transfer.dim() != 2 or offset.dim() != 2:
        raise ValueError(f"data_spectrum, transfer and offset must be 2-D (B, L + 1), (H, L + 1), (H, L); got "
                         f"{tuple(data_spectrum.shape)}, {tuple(transfer.shape)}, {tuple(offset.shape)}")
    bins = offset.shape[-1] + 1
    if data_spectrum.shape[-1] != bins or transfer.shape != (offset.shape[0], bins):
        raise ValueError(f"data_spectrum and transfer must have L + 1 = {bins} bins and transfer "
                         f"{offset.shape[0]} rows like offset (H, L) = {tuple(offset.shape)}; got "
                         f"{tuple(data_spectrum.shape)} and {tuple(transfer.shape)}")
    return MeanGeluConvolution.apply(data_spectrum.detach(), transfer, offset)


def rank_one_transfer(spectrum, weight, skip):
    """T_h = w_h·(W_β·K̂_h + D_h), (H, F): what channel h's pre-activation does to a one-channel
    input u, for the encoder u·w + b (w (H,)) in front of an S4D layer with filtered kernel
    spectrum W_β·K̂ (H, F) and skip D (H,)."""
    return weight.unsqueeze(-1) * (spectrum + skip.unsqueeze(-1))


def mean_gelu_s4d(u, layer, weight, bias):
    """mean_t GELU(layer.lti(u·wᵀ + b)), shape (B, H), for a one-channel input u (B, L).

    layer: an `fbssm.S4D` (its GELU-free linear part is used; dropout and output mixing are not).
    weight w, bias b: (H,), the encoder Linear(1→H). Channel h of the layer's output is
    w_h·(K_h ∗ u + D_h·u) + b_h·(K_h ∗ 1 + D_h): the skip is a constant added to the filtered
    kernel's spectrum, so one FFT of u serves every channel. Runs in `float32_region`; u gets no
    gradient.
    """
    if u.dim() != 2:
        raise ValueError(f"u must have shape (batch, length), got {tuple(u.shape)}")
    L = u.shape[1]
    with float32_region(u.device):
        spectrum = layer.kernel_spectrum(L)
        ones = torch.fft.irfft(spectrum * torch.fft.rfft(torch.ones(L, device=u.device), n=2 * L),
                               n=2 * L)[..., :L]                         # K_h ∗ 1 (filtered)
        offset = bias.float().unsqueeze(-1) * (ones + layer.D.float().unsqueeze(-1))  # (H, L)
        data = torch.fft.rfft(u.float(), n=2 * L)                        # (B, L + 1)
        return mean_gelu_convolution(data, rank_one_transfer(spectrum, weight, layer.D), offset)
