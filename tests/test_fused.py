"""The fused mean–GELU–convolution, the float32 region and the layer's filtered kernel spectrum."""
import pytest
import torch
import torch.nn.functional as F

import fbssm
from fbssm.fused import float32_region, mean_gelu_convolution, mean_gelu_s4d, rank_one_transfer


def test_float32_region_turns_autocast_off_inside_only():
    a, b = torch.randn(4, 4), torch.randn(4, 4)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert torch.mm(a, b).dtype == torch.bfloat16
        with float32_region("cpu"):
            assert torch.mm(a, b).dtype == torch.float32
        with float32_region(torch.device("cpu")):
            assert torch.mm(a, b).dtype == torch.float32
        assert torch.mm(a, b).dtype == torch.bfloat16


def direct(data, transfer, offset):
    L = offset.shape[-1]
    z = torch.fft.irfft(data.unsqueeze(1) * transfer, n=2 * L)[..., :L] + offset
    return F.gelu(z).mean(-1)


@pytest.mark.parametrize("L", [7, 8])
def test_mean_gelu_convolution_matches_autograd_of_the_direct_formula(L):
    torch.manual_seed(0)
    data = torch.randn(3, L + 1, dtype=torch.complex128)
    transfer = torch.randn(5, L + 1, dtype=torch.complex128, requires_grad=True)
    offset = torch.randn(5, L, dtype=torch.float64, requires_grad=True)
    weights = torch.randn(3, 5, dtype=torch.float64)
    grads = []
    for f in (mean_gelu_convolution, direct):
        out = f(data, transfer, offset)
        assert out.shape == (3, 5)
        grads.append((out, *torch.autograd.grad((out * weights).sum(), (transfer, offset))))
    for fused, plain in zip(*grads):
        torch.testing.assert_close(fused, plain, rtol=1e-10, atol=1e-12)


def test_mean_gelu_convolution_names_the_bad_argument():
    data, transfer, offset = torch.zeros(2, 5, dtype=torch.cfloat), torch.zeros(3, 5, dtype=torch.cfloat), torch.zeros(3, 4)
    with pytest.raises(ValueError, match="transfer"):
        mean_gelu_convolution(data, transfer[:, :4], offset)
    with pytest.raises(ValueError, match="data_spectrum"):
        mean_gelu_convolution(data[0], transfer, offset)
    with pytest.raises(ValueError, match="u must have shape"):
        mean_gelu_s4d(torch.zeros(2, 4, 1), fbssm.S4D(3, 2), torch.zeros(3), torch.zeros(3))


@pytest.mark.parametrize("options", [dict(beta=0.5), dict(beta=1.0, causal_filter=True),
                                     dict(bidirectional=True, beta=-0.5, trainable_beta=True)])
def test_mean_gelu_s4d_is_mean_gelu_of_the_layer_after_a_rank_one_encoder(options):
    torch.manual_seed(0)
    layer = fbssm.S4D(4, 6, alpha=3.0, glu=False, **options)
    w, b = torch.randn(4), torch.randn(4)
    u = torch.randn(2, 50)
    expected = F.gelu(layer.lti(u.unsqueeze(-1) * w + b)).mean(1)
    torch.testing.assert_close(mean_gelu_s4d(u, layer, w, b), expected, rtol=1e-4, atol=1e-6)


def test_kernel_spectrum_is_the_filtered_kernel_and_causal_when_asked():
    torch.manual_seed(0)
    layer = fbssm.S4D(3, 4, alpha=5.0, beta=1.0)
    L = 20
    weight = fbssm.sobolev_weight(2 * L, 1.0)
    torch.testing.assert_close(layer.kernel_spectrum(L), torch.fft.rfft(layer.kernel(L)[0], n=2 * L) * weight)
    causal = fbssm.S4D(3, 4, alpha=5.0, beta=1.0, causal_filter=True)
    causal.load_state_dict(layer.state_dict())
    k = torch.fft.irfft(causal.kernel_spectrum(L), n=2 * L)
    assert k[..., L:].abs().max() < 1e-6 < k[..., :L].abs().max()
    transfer = rank_one_transfer(layer.kernel_spectrum(L), torch.full((3,), 2.0), layer.D)
    torch.testing.assert_close(transfer, 2 * (layer.kernel_spectrum(L) + layer.D[:, None]))
