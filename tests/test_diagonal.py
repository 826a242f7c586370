"""S5- and LRU-style layers: kernel vs transfer function, layer vs direct convolution and recurrence,
the variation bound, the knobs α and β, and the band of the DFouT-style initialisation."""
import math

import pytest
import torch

import fbssm
from fbssm.diagonal import LRU, S5
from fbssm.theory import total_variation, variation_bound

H, N, L = 3, 8, 256


def s5(**kwargs):
    torch.manual_seed(0)
    return S5(H, N, dt_min=0.1, dt_max=0.3, **kwargs).double()


def lru(**kwargs):
    torch.manual_seed(0)
    return LRU(H, N, r_max=0.95, **kwargs).double()


LAYERS = {"S5": s5, "LRU": lru}


@pytest.mark.parametrize("make", LAYERS.values(), ids=LAYERS.keys())
def test_kernel_dft_is_the_transfer_function(make):
    layer = make()
    with torch.no_grad():
        M = 2 * L
        omega = 2 * math.pi * torch.arange(M, dtype=torch.float64) / M
        dft = torch.fft.fft(layer.kernel(L), n=M)
        transfer = layer.transfer(omega, length=L) - torch.diag_embed(layer.D).unsqueeze(-1)
        torch.testing.assert_close(dft, transfer, rtol=1e-9, atol=1e-9)
        # the kernel has decayed by lag L, so the infinite sum agrees too
        torch.testing.assert_close(layer.transfer(omega), layer.transfer(omega, length=L), rtol=0, atol=1e-4)


@pytest.mark.parametrize("make", LAYERS.values(), ids=LAYERS.keys())
def test_layer_is_the_direct_convolution(make):
    layer = make()
    u = torch.randn(2, 64, H, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        y, K = layer(u), layer.kernel(64)
        for t in (0, 7, 63):
            direct = torch.einsum("oil,bli->bo", K[..., :t + 1].flip(-1), u[:, :t + 1]) + layer.D * u[:, t]
            torch.testing.assert_close(y[:, t], direct)


def test_lru_layer_is_its_recurrence():
    layer = lru()
    u = torch.randn(2, 40, H, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        lam = torch.exp(layer.log_poles())
        gB = torch.exp(layer.gamma_log).unsqueeze(-1) * torch.view_as_complex(layer.B)
        C = torch.view_as_complex(layer.C)
        x = torch.zeros(2, N, dtype=torch.complex128)
        outputs = []
        for k in range(u.shape[1]):
            x = lam * x + u[:, k].to(torch.complex128) @ gB.T
            outputs.append((x @ C.T).real + layer.D * u[:, k])
        torch.testing.assert_close(layer(u), torch.stack(outputs, 1))


def test_lru_is_the_zoh_of_its_continuous_system():
    layer = lru()
    with torch.no_grad():
        A, C_io = layer.continuous_system()
        torch.testing.assert_close(fbssm.ssm_kernel(A, C_io, 1.0, L), layer.kernel(L))


@pytest.mark.parametrize("make", LAYERS.values(), ids=LAYERS.keys())
def test_variation_bound_holds_for_every_channel_pair(make):
    with torch.no_grad():
        A, C_io = make().continuous_system()
    top = float(A.imag.abs().max())
    for B in (top + 0.2, 2 * top + 1, 10 * top):
        for o in range(H):
            for i in range(H):
                a, c = A[o, i].to(torch.complex128), C_io[o, i].to(torch.complex128)
                measured = total_variation(a, c, (B, math.inf)).item()
                finite = total_variation(a, c, (B, 3 * B)).item()
                tight, lemma = variation_bound(a, c, B, form="arctan").item(), variation_bound(a, c, B).item()
                assert 0 < finite <= measured <= tight * (1 + 1e-9) <= lemma * (1 + 1e-9)


def test_s5_discrete_transfer_approaches_the_continuous_one_for_small_steps():
    layer = s5()
    with torch.no_grad():
        layer.log_dt.fill_(math.log(1e-4))  # small Δ|a_j|: H(e^{iω}) ≈ G(iω/Δ) (paper §1)
        A, C_io = layer.continuous_system()
        omega = torch.tensor([0.0, 1e-4, 5e-4], dtype=torch.float64)
        G = fbssm.transfer_function(A, C_io, omega / 1e-4)
        discrete = layer.transfer(omega) - torch.diag_embed(layer.D).unsqueeze(-1)
        torch.testing.assert_close(discrete, G, rtol=1e-3, atol=1e-6)


def test_alpha_scales_the_modes_and_nothing_else():
    base, scaled = s5(), s5(alpha=3.0)
    torch.testing.assert_close(scaled.A_imag, 3 * base.A_imag)
    torch.testing.assert_close(scaled.A.real, base.A.real)
    torch.testing.assert_close(scaled.A_imag, fbssm.diagonal_init("lin", N, 3.0).imag.double())
    one, two = lru(), lru(alpha=2.0)
    torch.testing.assert_close(two.theta, 2 * one.theta)
    torch.testing.assert_close(two.nu_log, one.nu_log)
    assert float(two.theta.detach().max()) <= 2 * math.pi


def test_lru_ring_and_normalisation():
    torch.manual_seed(3)
    layer = LRU(H, 512, r_min=0.5, r_max=0.8, theta_max=0.3)
    radius = torch.exp(layer.log_poles()).abs().detach()
    assert float(radius.min()) >= 0.5 - 1e-6 and float(radius.max()) <= 0.8 + 1e-6
    assert 0 < float(layer.theta.detach().min()) and float(layer.theta.detach().max()) <= 0.3 + 1e-6
    torch.testing.assert_close(torch.exp(layer.gamma_log).detach(), torch.sqrt(1 - radius ** 2))
    # uniform in area on the ring: the median radius² sits half way between r_min² and r_max²
    assert float(torch.median(radius ** 2)) == pytest.approx((0.25 + 0.64) / 2, abs=0.03)


@pytest.mark.parametrize("make", LAYERS.values(), ids=LAYERS.keys())
def test_beta_filters_the_kernel_spectrum_not_the_skip(make):
    plain, filtered = make(), make(beta=0.8)
    u = torch.randn(2, 50, H, dtype=torch.float64, generator=torch.Generator().manual_seed(4))
    with torch.no_grad():
        weight = fbssm.sobolev_weight(100, 0.8).double()
        expected = torch.fft.irfft(torch.einsum("oif,bif->bof", torch.fft.rfft(plain.kernel(50), n=100) * weight,
                                                torch.fft.rfft(u.transpose(1, 2), n=100)), n=100)[..., :50]
        torch.testing.assert_close(filtered(u), expected.transpose(1, 2) + plain.D * u)
        assert not torch.allclose(filtered(u), plain(u))


def test_bad_arguments_name_the_argument():
    with pytest.raises(ValueError, match="filter_normalization"):
        S5(H, N, filter_normalization="angular")
    with pytest.raises(ValueError, match="r_min"):
        LRU(H, N, r_min=0.9, r_max=0.5)
    with pytest.raises(ValueError, match="alpha"):
        LRU(H, N, alpha=0.0)
    with pytest.raises(ValueError, match="init"):
        S5(H, N, init="hippo")
    with pytest.raises(ValueError, match="u must have shape"):
        S5(H, N)(torch.randn(2, 10, H + 1))
    with pytest.raises(TypeError, match="u must be a real"):
        LRU(H, N)(torch.ones(2, 10, H, dtype=torch.long))


# --- the DFouT-style initialisation against α-scaled S4D-Lin ---

def test_dfout_modes_sit_on_dft_bins_across_the_whole_band():
    n, dt, length = 16, 0.01, 1000
    omega = dt * fbssm.diagonal_init("dfout", n, dt=dt, length=length).imag.double()
    bins = omega * length / (2 * math.pi)
    torch.testing.assert_close(bins, torch.round(bins), rtol=0, atol=1e-3)
    assert float(omega[0]) == 0 and float(omega.max()) < math.pi
    assert float(omega.max()) == pytest.approx(math.pi * (n - 1) / n, abs=2 * math.pi / length)


def test_dfout_alpha_scales_imaginary_parts_only_and_checks_its_arguments():
    base = fbssm.diagonal_init("dfout", 16, dt=0.1, length=200)
    scaled = fbssm.diagonal_init("dfout", 16, 0.5, dt=0.1, length=200)
    torch.testing.assert_close(scaled.real, base.real)
    torch.testing.assert_close(scaled.imag, 0.5 * base.imag)
    assert "dfout" in fbssm.DIAGONAL_INIT_KINDS and "dfout" not in fbssm.INIT_KINDS  # the paper's three
    with pytest.raises(ValueError, match="length"):
        fbssm.diagonal_init("dfout", 16, length=0)
    with pytest.raises(ValueError, match="dt"):
        fbssm.diagonal_init("dfout", 16, dt=-1.0)


def test_dfout_covers_the_band_that_lin_covers_only_at_a_large_alpha():
    n, dt = 16, 0.01
    dfout = dt * fbssm.diagonal_init("dfout", n, dt=dt).imag.double()
    lin = dt * fbssm.diagonal_init("lin", n).imag.double()
    assert float(lin.max()) < math.pi / 6 < 5 * math.pi / 6 < float(dfout.max())  # S4D-Lin: low band only
    matching = 1 / (n * dt)  # with L = 2n, dfout is S4D-Lin at α = 1/(nΔ)
    torch.testing.assert_close(dfout, dt * fbssm.diagonal_init("lin", n, matching).imag.double(),
                               rtol=1e-5, atol=1e-5)
    assert matching > 1
