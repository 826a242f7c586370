"""tune(model, alpha, beta) on fbssm's layers and on a layer in the state-spaces S4D layout."""
import copy
import math

import pytest
import torch
import torch.nn as nn

import fbssm
from fbssm.diagonal import LRU, S5

H, N, L = 4, 6, 128


class LayoutKernel(nn.Module):
    """A kernel module with the state-spaces S4D parameter layout, written from its formula
    K[l] = 2·Re Σ_n C_n (exp(Δa_n) - 1)/a_n · exp(Δa_n·l)."""

    def __init__(self, channels, modes):
        super().__init__()
        self.log_dt = nn.Parameter(torch.linspace(math.log(1e-2), math.log(5e-2), channels))
        self.C = nn.Parameter(torch.view_as_real(torch.randn(channels, modes, dtype=torch.cfloat) * 0.7))
        self.log_A_real = nn.Parameter(torch.log(0.5 * torch.ones(channels, modes)))
        self.A_imag = nn.Parameter(math.pi * torch.arange(modes, dtype=torch.float32).repeat(channels, 1))

    def forward(self, length):
        dt = torch.exp(self.log_dt).unsqueeze(-1)
        A = torch.complex(-torch.exp(self.log_A_real), self.A_imag)
        C = torch.view_as_complex(self.C) * torch.expm1(dt * A) / A
        powers = torch.exp((dt * A).unsqueeze(-1) * torch.arange(length))
        return 2 * torch.einsum("hn,hnl->hl", C, powers).real


class LayoutS4D(nn.Module):
    """The host layer: y = K ∗ u + D·u on (batch, channels, length), FFTs of length 2L."""

    def __init__(self, channels=H, modes=N):
        super().__init__()
        self.kernel = LayoutKernel(channels, modes)
        self.D = nn.Parameter(torch.randn(channels))

    def forward(self, u):
        n = u.shape[-1]
        k = self.kernel(n)
        y = torch.fft.irfft(torch.fft.rfft(k, n=2 * n) * torch.fft.rfft(u, n=2 * n), n=2 * n)[..., :n]
        return y + u * self.D.unsqueeze(-1)


def layout_model(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(LayoutS4D(), nn.GELU())


def continuous(kernel):
    return (torch.complex(-torch.exp(kernel.log_A_real), kernel.A_imag).detach(),
            torch.view_as_complex(kernel.C).detach(), torch.exp(kernel.log_dt).detach())


def test_alpha_moves_the_layout_layers_modes_by_alpha():
    model = layout_model()
    A, C, dt = continuous(model[0].kernel)
    report = fbssm.tune(model, alpha=3.0)
    predicted = fbssm.ssm_kernel(torch.complex(A.real, 3 * A.imag), C, dt, L)
    with torch.no_grad():
        torch.testing.assert_close(model[0].kernel(L), predicted, rtol=1e-4, atol=1e-4)
    change, = report.changes
    assert change.name == "0.kernel" and change.kind == "state-spaces S4D layout"
    assert change.modes_after[1] == pytest.approx(3 * change.modes_before[1], rel=1e-6)


def test_alpha_moves_a_resonance_peak():
    torch.manual_seed(1)
    layer = LayoutS4D(channels=1, modes=1)
    with torch.no_grad():
        layer.kernel.A_imag.fill_(20.0)
        layer.kernel.log_dt.fill_(math.log(0.01))  # the mode sits at ω = Δ·y = 0.2 rad/sample
    omega = torch.linspace(0.0, 1.0, 2001, dtype=torch.float64)

    def peak():
        A, C, dt = continuous(layer.kernel)
        return float(omega[fbssm.discrete_transfer_function(A, C, dt, omega).abs().argmax(-1)])

    assert peak() == pytest.approx(0.2, abs=0.005)
    fbssm.tune(layer, alpha=3.0)
    assert peak() == pytest.approx(0.6, abs=0.005)


def test_beta_on_the_layout_layer_is_the_causally_cut_filtered_kernel():
    model = layout_model()
    u = torch.randn(2, H, L, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        k = model[0].kernel(L)
    fbssm.tune(model, beta=0.7)
    weight = fbssm.sobolev_weight(2 * L, 0.7)
    cut = torch.fft.irfft(torch.fft.rfft(k, n=2 * L) * weight, n=2 * L)[..., :L]
    with torch.no_grad():
        expected = fbssm.fft_convolution(u, cut) + u * model[0].D.unsqueeze(-1)
        torch.testing.assert_close(model[0](u), expected, rtol=1e-5, atol=1e-5)
        assert not torch.allclose(model[0](u), fbssm.fft_convolution(u, k) + u * model[0].D.unsqueeze(-1),
                                  atol=1e-4)


def test_beta_on_the_layout_layer_equals_fbssm_s4d_with_a_causal_filter():
    model = layout_model()
    kernel = model[0].kernel
    ours = fbssm.S4D(H, N, beta=0.7, causal_filter=True, glu=False)
    with torch.no_grad():
        for name in ("log_dt", "log_A_real", "A_imag"):
            getattr(ours, name).copy_(getattr(kernel, name))
        ours.C[0].copy_(kernel.C)
        ours.D.copy_(model[0].D)
    fbssm.tune(model, beta=0.7)
    u = torch.randn(2, L, H, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        torch.testing.assert_close(model[0](u.transpose(1, 2)).transpose(1, 2), ours.lti(u),
                                   rtol=1e-4, atol=1e-4)


def test_tuning_twice_keeps_one_hook_and_the_last_beta_and_survives_deepcopy():
    model = layout_model()
    fbssm.tune(model, beta=0.5)
    report = fbssm.tune(model, beta=-0.5)
    kernel = model[0].kernel
    assert len(kernel._forward_hooks) == 1 and kernel.sobolev_beta == -0.5
    assert report.changes[0].beta_before == 0.5
    twin = copy.deepcopy(model)
    u = torch.randn(1, H, 32)
    with torch.no_grad():
        torch.testing.assert_close(twin(u), model(u))
    fbssm.tune(model, beta=0.0)
    with torch.no_grad():
        k = kernel(32)
        A, C, dt = continuous(kernel)
        torch.testing.assert_close(k, fbssm.ssm_kernel(A, C, dt, 32), rtol=1e-4, atol=1e-4)


def test_fbssm_model_layers_are_tuned_in_place():
    torch.manual_seed(4)
    model = fbssm.SequenceModel(2, d_input=1, d_model=H, n_layers=2, d_state=N, trainable_beta=True)
    before = [layer.A_imag.detach().clone() for layer in model.s4d_layers()]
    real = [layer.A.real.detach().clone() for layer in model.s4d_layers()]
    report = fbssm.tune(model, alpha=2.0, beta=-0.5)
    assert [c.name for c in report.changes] == ["blocks.0.layer", "blocks.1.layer"]
    for layer, old, re in zip(model.s4d_layers(), before, real):
        torch.testing.assert_close(layer.A_imag.detach(), 2 * old)
        torch.testing.assert_close(layer.A.real.detach(), re)
        assert isinstance(layer.beta, nn.Parameter) and (layer.beta == -0.5).all()
    assert "blocks.0.layer" in str(report) and "rad/sample" in str(report)


def test_s5_and_lru_are_tuned():
    torch.manual_seed(5)
    model = nn.Sequential(S5(H, N), LRU(H, N))
    y_s5, theta, radius = model[0].A_imag.detach().clone(), model[1].theta.detach().clone(), \
        model[1].log_poles().real.detach().clone()
    report = fbssm.tune(model, alpha=0.5, beta=1.0)
    torch.testing.assert_close(model[0].A_imag.detach(), 0.5 * y_s5)
    torch.testing.assert_close(model[1].theta.detach(), 0.5 * theta)
    torch.testing.assert_close(model[1].log_poles().real.detach(), radius)
    assert float(model[0].beta) == 1.0 and float(model[1].beta) == 1.0
    assert [c.kind for c in report.changes] == ["fbssm.S5", "fbssm.LRU"]


def test_bad_calls_name_the_argument():
    with pytest.raises(ValueError, match="alpha or beta"):
        fbssm.tune(layout_model())
    with pytest.raises(ValueError, match="alpha"):
        fbssm.tune(layout_model(), alpha=-1.0)
    with pytest.raises(ValueError, match="normalization"):
        fbssm.tune(layout_model(), beta=1.0, normalization="hz")
    with pytest.raises(ValueError, match="no diagonal SSM layer"):
        fbssm.tune(nn.Linear(2, 2), alpha=2.0)
    with pytest.raises(TypeError, match="model must be"):
        fbssm.tune("model", alpha=2.0)
