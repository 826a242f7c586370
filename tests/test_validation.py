"""Bad input raises ValueError naming the argument."""
import math

import pytest
import torch

import fbssm

A = fbssm.diagonal_init("lin", 4)
C = torch.randn(4, dtype=torch.complex64)


@pytest.mark.parametrize("alpha", [0, -1.0, math.inf, math.nan, "big"])
def test_bad_alpha(alpha):
    with pytest.raises(ValueError, match="alpha"):
        fbssm.diagonal_init("lin", 4, alpha=alpha)
    with pytest.raises(ValueError, match="alpha"):
        fbssm.S4D(2, 4, alpha=alpha)


@pytest.mark.parametrize("beta", [math.inf, -math.inf, math.nan, torch.tensor([0.0, math.nan])])
def test_bad_beta(beta):
    with pytest.raises(ValueError, match="beta"):
        fbssm.sobolev_weight(16, beta)
    if not torch.is_tensor(beta):
        with pytest.raises(ValueError, match="beta"):
            fbssm.S4D(2, 4, beta=beta)


def test_unknown_names():
    with pytest.raises(ValueError, match="kind"):
        fbssm.diagonal_init("hippo", 4)
    with pytest.raises(ValueError, match="method"):
        fbssm.ssm_kernel(A, C, 0.1, 8, method="euler")
    with pytest.raises(ValueError, match="init"):
        fbssm.S4D(2, 4, init="fourier")
    with pytest.raises(ValueError, match="normalization"):
        fbssm.sobolev_weight(16, 1.0, "hertz")
    with pytest.raises(ValueError, match="dt"):
        fbssm.sobolev_weight(16, 1.0, "angular")


@pytest.mark.parametrize("L", [0, -3, 2.5, True])
def test_bad_length(L):
    with pytest.raises(ValueError, match="L"):
        fbssm.ssm_kernel(A, C, 0.1, L)


def test_bad_shapes_and_types():
    with pytest.raises(ValueError, match="A"):
        fbssm.ssm_kernel(A.real, C, 0.1, 8)
    with pytest.raises(ValueError, match="modes"):
        fbssm.ssm_kernel(A, C[:3], 0.1, 8)
    with pytest.raises(ValueError, match="dt"):
        fbssm.ssm_kernel(A, C, -0.1, 8)
    layer = fbssm.S4D(3, 4)
    with pytest.raises(ValueError, match="u must have shape"):
        layer(torch.randn(2, 10, 5))  # wrong channel count
    with pytest.raises(ValueError, match="u must have shape"):
        layer(torch.randn(10, 3))  # wrong rank
    with pytest.raises(ValueError, match="d_state"):
        fbssm.S4D(3, 0)
    with pytest.raises(ValueError, match="dt_max"):
        fbssm.S4D(3, 4, dt_min=0.1, dt_max=0.01)


def test_scale_switch(monkeypatch):
    monkeypatch.setenv("FBSSM_SCALE", "paper")
    assert fbssm.current_scale() == "paper"
    assert fbssm.current_scale("quick") == "quick"
    monkeypatch.setenv("FBSSM_SCALE", "huge")
    with pytest.raises(ValueError, match="FBSSM_SCALE"):
        fbssm.current_scale()


def test_cpu_threads_restores_the_setting_and_rejects_bad_counts():
    import torch
    from fbssm.device import cpu_threads
    before = torch.get_num_threads()
    with cpu_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with pytest.raises(ValueError, match="threads"):
        with cpu_threads(0):
            pass
