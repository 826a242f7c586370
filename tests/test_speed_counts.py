"""The S4D hot path: hand-written gradients equal plain autograd, few ATen calls, no host syncs, eval cache."""
import importlib.util
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch.profiler import profile

import fbssm
from fbssm.kernel import fast_length, fft_convolve, layer_kernel

BENCHMARK = Path(__file__).resolve().parent.parent / "benchmarks" / "kernel.py"


def kernel_floor():
    spec = importlib.util.spec_from_file_location("kernel_benchmark", BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.KernelFloor


def plain_lti(layer, u):
    """The layer's LTI part in plain autograd on the 2L grid (the reference)."""
    L = u.shape[1]
    K = fbssm.ssm_kernel(layer.A, torch.view_as_complex(layer.C), layer.dt, L, layer.method, fast=False)
    k = F.pad(K[0], (0, L)) + F.pad(K[1].flip(-1), (L, 0)) if layer.bidirectional else K[0]
    spectrum = torch.fft.rfft(k, n=2 * L)
    if layer.beta.requires_grad or float(layer.beta) != 0:
        log_gain = torch.log1p(fbssm.filter_frequencies(2 * L, layer.filter_normalization, None,
                                                        layer.filter_scale)).to(u.dtype)
        spectrum = spectrum * torch.exp(layer.beta.unsqueeze(-1) * log_gain)
        if layer.causal_filter:
            spectrum = torch.fft.rfft(torch.fft.irfft(spectrum, n=2 * L)[..., :L], n=2 * L)
    x = u.transpose(1, 2)
    y = torch.fft.irfft(torch.fft.rfft(x, n=2 * L) * spectrum, n=2 * L)[..., :L] + x * layer.D.unsqueeze(-1)
    return y.transpose(1, 2)


@pytest.mark.parametrize("L", [7, 8])
@pytest.mark.parametrize("options", [dict(), dict(bidirectional=True), dict(beta=0.7, causal_filter=True),
                                     dict(beta=-0.5, trainable_beta=True, method="bilinear"),
                                     dict(shared_eigenvalues=True, bidirectional=True, beta=1.0)])
def test_layer_gradients_equal_plain_autograd_in_float64(L, options):
    torch.manual_seed(0)
    layer = fbssm.S4D(3, 4, alpha=3.0, glu=False, **options).double()
    u = torch.randn(2, L, 3, dtype=torch.float64, requires_grad=True)
    weights = torch.randn(2, L, 3, dtype=torch.float64)
    params = [u] + [p for p in layer.parameters()]
    fast = torch.autograd.grad((layer.lti(u) * weights).sum(), params)
    plain = torch.autograd.grad((plain_lti(layer, u) * weights).sum(), params)
    torch.testing.assert_close(layer.lti(u), plain_lti(layer, u), rtol=1e-10, atol=1e-10)
    for a, b in zip(fast, plain):
        torch.testing.assert_close(a, b, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("L", [7, 8])
def test_gradcheck_of_the_kernel_and_the_convolution(L):
    torch.manual_seed(0)
    d = torch.float64
    log_dt = (-3 * torch.rand(3, dtype=d)).requires_grad_()
    log_A_real, A_imag = torch.randn(3, 4, dtype=d).requires_grad_(), torch.randn(1, 4, dtype=d).requires_grad_()
    C = torch.randn(2, 3, 4, 2, dtype=d, requires_grad=True)
    for method in fbssm.METHODS:
        assert torch.autograd.gradcheck(lambda *p: layer_kernel(*p, L, method), (log_dt, log_A_real, A_imag, C))
    u = torch.randn(2, 3, L, dtype=d, requires_grad=True)
    k, skip = torch.randn(3, L, dtype=d, requires_grad=True), torch.randn(3, dtype=d, requires_grad=True)
    for n in (2 * L - 1, 2 * L):
        weight = (torch.rand(3, n // 2 + 1, dtype=d) + 0.5).requires_grad_()
        assert torch.autograd.gradcheck(lambda *a: fft_convolve(*a[:2], n, *a[2:]), (u, k, weight, skip))
        assert torch.autograd.gradcheck(lambda u, k, s: fft_convolve(u, k, n, None, s), (u, k, skip))


def test_fast_length_is_the_smallest_5_smooth_size():
    assert [fast_length(n) for n in (1, 7, 13, 127, 2047, 2049)] == [1, 8, 15, 128, 2048, 2160]
    with pytest.raises(ValueError, match="n must be an integer"):
        fast_length(0)


def aten_calls(step):
    step()
    with profile() as prof:
        step()
    return sum(1 for event in prof.events() if event.name.startswith("aten::"))


def test_one_step_makes_few_aten_calls_against_the_floor():
    torch.manual_seed(0)
    B, L, H, N = 4, 64, 8, 16
    layer = fbssm.S4D(H, N)
    floor = kernel_floor()(layer, L)
    u = torch.randn(B, L, H, requires_grad=True)
    ours = aten_calls(lambda: layer(u).sum().backward())
    naive = aten_calls(lambda: floor(u).sum().backward())
    assert ours <= 2.25 * naive, (ours, naive)


def refuse(self, *args):
    raise RuntimeError("host read of a tensor value")


@pytest.mark.parametrize("options", [dict(), dict(beta=0.5), dict(trainable_beta=True, bidirectional=True),
                                     dict(filter_normalization="angular", beta=1.0, causal_filter=True)])
def test_forward_reads_no_tensor_value(options):
    torch.manual_seed(0)
    layer = fbssm.S4D(4, 8, **options)
    model = fbssm.SequenceModel(3, d_input=2, d_model=4, n_layers=2, d_state=8, **options)
    u, x = torch.randn(2, 20, 4, requires_grad=True), torch.randn(2, 20, 2, requires_grad=True)
    with pytest.MonkeyPatch.context() as patch:
        for name in ("item", "__bool__", "__float__", "__int__", "tolist"):
            patch.setattr(torch.Tensor, name, refuse)
        (layer(u).sum() + model(x).sum()).backward()
    with pytest.raises(RuntimeError, match="host read"):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(torch.Tensor, "__bool__", refuse)
            bool(torch.ones(1))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_forward_and_backward_never_synchronise():
    torch.manual_seed(0)
    model = fbssm.SequenceModel(3, d_input=2, d_model=8, n_layers=2, d_state=8, beta=0.5).cuda()
    x = torch.randn(2, 32, 2, device="cuda", requires_grad=True)
    model(x).sum().backward()
    torch.cuda.set_sync_debug_mode("error")
    try:
        model(x).sum().backward()
    finally:
        torch.cuda.set_sync_debug_mode("default")


def test_eval_cache_reuses_the_kernel_until_a_parameter_changes():
    torch.manual_seed(0)
    layer = fbssm.S4D(4, 8).eval()
    with torch.no_grad():
        first = layer.kernel(30)
        assert layer.kernel(30) is first
        assert layer.kernel(31) is not first
        y = layer(torch.randn(1, 30, 4))
        layer.C.add_(1.0)  # an optimiser step: an in-place update
        changed = layer.kernel(30)
    assert changed is not first and not torch.equal(changed, first)
    layer.load_state_dict(layer.state_dict())
    with torch.no_grad():
        assert layer.kernel(30) is not changed
    layer.train()
    with torch.no_grad():
        assert layer.kernel(30) is not layer.kernel(30)
    assert y.shape == (1, 30, 4)
    layer.eval()
    assert layer.kernel(30).requires_grad  # with gradients wanted, nothing is reused
