"""The S5/LRU waves models and the Fourier-grid initialisations of `fbssm.experiments.other_ssms`."""
import math
from dataclasses import replace

import pytest
import torch

from fbssm.data import waves_step
from fbssm.experiments import lra, other_ssms, waves
from fbssm.layers import S4D

TINY = replace(waves.QUICK, scale="tiny", length=101, frequencies=(1, 4, 16, 40), n_train=16, n_test=8,
               train=replace(waves.QUICK.train, epochs=1, batch_size=8))


@pytest.mark.parametrize("kind", other_ssms.KINDS)
def test_rank_one_forward_equals_the_layer_in_value_and_gradient(kind):
    torch.manual_seed(0)
    model = other_ssms.KnobWavesModel(TINY, kind, 3.0).double()
    u = torch.randn(3, 50, 1, dtype=torch.float64)
    fast, plain = model(u), model.forward_reference(u)
    torch.testing.assert_close(fast, plain, rtol=1e-10, atol=1e-12)
    params = [p for p in model.parameters() if p.requires_grad]
    for a, b in zip(torch.autograd.grad(fast.square().sum(), params),
                    torch.autograd.grad(plain.square().sum(), params)):
        torch.testing.assert_close(a, b, rtol=1e-8, atol=1e-10)


def test_s5_starts_from_the_waves_eigenvalues_with_delta_frozen():
    model = other_ssms.KnobWavesModel(TINY, "S5", 10.0)
    torch.testing.assert_close(model.ssm.A_imag.detach(), waves.initial_eigenvalues(TINY.modes, 10.0).imag)
    assert not model.ssm.log_dt.requires_grad
    torch.testing.assert_close(model.ssm.dt, torch.full((TINY.modes,), waves_step(TINY.length)))


def test_lru_phases_lie_in_the_scaled_range():
    torch.manual_seed(0)
    for alpha in (1.0, 100.0):
        theta = other_ssms.KnobWavesModel(TINY, "LRU", alpha).ssm.theta
        top = alpha * waves_step(TINY.length) * math.pi * (1.3 + TINY.modes - 1)
        assert (theta > 0).all() and (theta <= top * (1 + 1e-6)).all()


def test_wave_gains_match_the_layer_response_through_the_encoder():
    torch.manual_seed(0)
    model = other_ssms.KnobWavesModel(TINY, "S5", 1.0).double()
    gains = model.wave_gains(TINY)
    assert gains.shape == (TINY.channels, len(TINY.frequencies))
    L, f = TINY.length, TINY.frequencies[1]
    t = torch.arange(L, dtype=torch.float64)
    u = torch.cos(f * waves_step(L) * t)[None, :, None]       # one steady tone: gain = output amplitude
    x = model.encoder(u) - model.encoder.bias                  # w·u only
    y = model.ssm(x) - x * model.ssm.D                         # the skip term left out
    tail = y[0, L // 2:, :]                                    # past the transient (|λ| < 1)
    assert torch.allclose(tail.abs().max(0).values, gains[:, 1], rtol=0.05)


def test_kind_is_checked():
    with pytest.raises(ValueError, match="kind must be one of"):
        other_ssms.KnobWavesModel(TINY, "S4", 1.0)
    with pytest.raises(ValueError, match="init must be"):
        other_ssms.dfout_lra_run(other_ssms.lra_config(), "legs", 1.0, 0, None)


def test_dfout_matched_alpha_puts_the_top_mode_on_the_grid():
    alpha = other_ssms.dfout_matched_alpha(TINY)
    top = waves.initial_eigenvalues(TINY.modes, alpha).imag.max()
    assert abs(float(top) - float(other_ssms.dfout_imag(TINY).max())) < 1e-3 * float(top)
    grid = waves_step(TINY.length) * other_ssms.dfout_imag(TINY)
    k = grid * TINY.length / (2 * math.pi)
    torch.testing.assert_close(k, k.round(), atol=1e-3, rtol=0)      # every mode on a DFT bin


def test_dfout_layers_put_every_channel_on_its_own_grid():
    torch.manual_seed(0)
    config = replace(other_ssms.lra_config(), n_layers=1)
    model = lra.build_model(config)
    other_ssms._dfout_layers(model)
    (layer,) = [m for m in model.modules() if isinstance(m, S4D)]
    assert layer.A_imag.shape == (config.d_model, config.d_state)
    discrete = layer.dt.detach()[:, None] * layer.A_imag.detach()
    grid = math.pi * torch.arange(config.d_state) / config.d_state
    torch.testing.assert_close(discrete, grid.expand_as(discrete), rtol=1e-5, atol=1e-6)


def test_a_tiny_knob_run_reports_modes_and_gains_before_and_after():
    data = waves.load_data(TINY)
    record = other_ssms.knob_run(TINY, "LRU", 1.0, 0, data)
    assert len(record["per_wave_mse"]) == len(TINY.frequencies)
    for when in ("before", "after"):
        assert len(record[when]["modes"]) == TINY.modes
        assert all(0 <= w <= math.pi for w in record[when]["modes"])
        assert len(record[when]["gains"]) == TINY.channels
    assert record["before"]["modes"] != record["after"]["modes"]       # training moved the phases
