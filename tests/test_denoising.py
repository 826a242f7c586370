"""The denoising experiment: its scaled configuration, a tiny end-to-end run, and the CLI."""
import json
import math
from dataclasses import replace

import pytest
import torch

import fbssm
from fbssm.__main__ import main
from fbssm.experiments import EXPERIMENTS, config_for, denoising, find_run
from fbssm.train import TrainConfig

TINY = replace(denoising.QUICK, height=16, width=8, modes=4, dt=denoising.scaled_step(8, 4),
               filter_scale=1 / denoising.scaled_step(8, 4),
               flip_alpha=denoising.harmonic_alpha(8, denoising.scaled_step(8, 4)),
               n_train=6, n_test=4, data="lfw", eval_batch_size=3, seeds=(0,),
               train=TrainConfig(epochs=1, batch_size=3, lr=1e-2))


def test_registered_and_scaled_like_the_paper():
    assert EXPERIMENTS["denoising"] == "denoising"
    assert config_for("denoising", "paper") is denoising.PAPER
    paper, quick = denoising.PAPER, denoising.QUICK
    assert (paper.height, paper.width, paper.modes, paper.dt, paper.filter_scale) == (2048, 128, 64, 1e-4, 1e4)
    assert paper.kappa == pytest.approx(61 * math.pi / 64)
    assert paper.flip_alpha * math.pi == pytest.approx(490.52)
    assert denoising.harmonic_alpha(128, 1e-4) == pytest.approx(paper.flip_alpha, rel=1e-3)
    # quick: the default modes' top edge at π/W, the flip puts mode j on row harmonic j, 1/Δ scale
    j = torch.arange(quick.modes)
    assert (quick.modes - 1) * math.pi * quick.dt == pytest.approx(math.pi / quick.width)
    torch.testing.assert_close(quick.flip_alpha * math.pi * j * quick.dt, 2 * math.pi * j / quick.width)
    assert quick.filter_scale == pytest.approx(1 / quick.dt)
    assert [a for a, b in denoising.SETTINGS if b == 0] == [1 / 3, 1.0, 10.0, "flip"]
    assert [b for a, b in denoising.SETTINGS if a == 1.0] == [0.0, -1.0, -0.5, 0.5, 1.0]


def test_model_is_frozen_without_skip():
    model = denoising.DenoisingModel(TINY, "flip", 0.5)
    trainable = {name for name, p in model.named_parameters() if p.requires_grad}
    assert not any(name.endswith(("log_A_real", "A_imag", "log_dt", ".D")) for name in trainable)
    assert model.ssm.D.abs().sum() == 0
    torch.testing.assert_close(model.ssm.A.real[:, 1:], torch.full((3, 3), -3.0))
    torch.testing.assert_close(model.ssm.A.real[:, 0], torch.full((3,), -math.exp(-5)))  # the authors' mode 0
    torch.testing.assert_close(model.ssm.A.imag[0], TINY.flip_alpha * math.pi * torch.arange(4.0))


def test_the_moving_modes_variant_trains_the_eigenvalues_and_rebuilds_them(tmp_path):
    variant = replace(TINY, train_A=True, train=replace(TINY.train, imag_lr=1.0))
    trainable = {name for name, p in denoising.DenoisingModel(variant, 1.0, 0.0).named_parameters()
                 if p.requires_grad}
    assert {"ssm.log_A_real", "ssm.A_imag"} <= trainable and "ssm.log_dt" not in trainable
    run = denoising.run(variant, ((1.0, 0.0),), progress=False)["runs"][0]
    start = denoising.DenoisingModel(variant, 1.0, 0.0).ssm.A_imag
    moved = denoising.model_from_run(variant, run).ssm.A_imag
    assert (moved - start).abs().max() > 0.1        # at rate 1 for two steps, Adam moves y_j by about 2


def test_the_authors_model_is_linear_with_their_initialisation():
    paper = denoising.PAPER
    assert (paper.head, paper.c_init, paper.amplitude, paper.per_channel) == ("conv", "authors", 0.5, True)
    assert paper.mode0_real == pytest.approx(-math.exp(-5)) and paper.real_part == -3.0
    torch.manual_seed(0)
    model = denoising.DenoisingModel(TINY, 10.0, 0.0)
    C = torch.view_as_complex(model.ssm.C.detach())[0]                 # (channels, modes)
    assert (C[:, 0] == 0).all() and (C[:, 1:] != 0).all()               # mode 0 (y_0 = 0) starts at 0
    # |c_j| grows with |ω_j| = Δ·|y_j|: the ratio to 10·|ω_j| is a complex normal's modulus
    omega = TINY.dt * model.ssm.A.imag.detach()[0, 1:]
    ratio = C[:, 1:].abs() / (10 * omega)
    assert 0.05 < ratio.mean() < 3
    # linear: f(a·u + b·w) = a·f(u) + b·f(w) once the bias of the 1×1 conv is taken out
    u, w = torch.randn(2, 2, TINY.height * TINY.width, 3)
    f = lambda x: model(x) - model(torch.zeros_like(x))
    torch.testing.assert_close(f(2 * u - 3 * w), 2 * f(u) - 3 * f(w), rtol=1e-4, atol=1e-5)
    assert isinstance(model.mix, torch.nn.Conv1d) and model.mix.kernel_size == (1,)


def test_evaluation_noise_is_drawn_per_channel():
    strengths = fbssm.data.stripes.stripe_strengths(5, 0.5, seed=1, channels=3)
    assert strengths.shape == (5, 3) and (strengths >= 0).all() and (strengths < 0.5).all()
    assert strengths.std(1).min() > 0                                    # channels differ


def test_mode_response_is_the_kernel_response_with_unit_coefficients():
    model = denoising.DenoisingModel(TINY, 10.0, -0.5)
    model.ssm.C.data = torch.view_as_real(torch.ones(1, 3, 4, dtype=torch.cfloat))
    omega = torch.linspace(0.01, math.pi, 50)
    expected = denoising.kernel_response(model, omega, TINY.height * TINY.width)[0]
    torch.testing.assert_close(denoising.mode_response(TINY, 10.0, -0.5, omega), expected)


def test_linear_head_lets_through_what_its_response_says():
    """For the LTI head the vertical stripes' energy fraction is |response(κ)|² (a pure tone)."""
    config = replace(TINY, head="linear", height=64, n_test=3, per_channel=False)
    torch.manual_seed(0)
    model = denoising.DenoisingModel(config, 10.0, 0.5)
    test = fbssm.data.celeba.faces(3, config.shape)
    measured = denoising.evaluate(model, test, config)["vertical"]["noise_fraction"]
    response = denoising.kernel_response(model, torch.tensor([config.kappa]), config.height * config.width)
    assert measured == pytest.approx((response ** 2).mean().item(), rel=0.1)


def test_tiny_run_saves_results_that_rebuild_the_models(tmp_path):
    settings = (("flip", 0.0), (1.0, 0.5))
    results = denoising.run(TINY, settings, out=tmp_path, progress=False)
    stored = json.loads((tmp_path / "denoising-quick.json").read_text())
    assert stored["data"].startswith("LFW") and len(stored["runs"]) == 2
    for entry in stored["runs"]:
        for direction in ("vertical", "horizontal"):
            metrics = entry[direction]
            assert metrics["noisy_mse"] > 0 and math.isfinite(metrics["mse_to_clean"])
            assert metrics["noise_fraction"] >= 0
    flip = find_run(stored, ("flip", 0.0))
    assert flip["alpha"] == pytest.approx(TINY.flip_alpha)
    model = denoising.model_from_run(TINY, flip)
    assert denoising.evaluate(model, denoising.load_data(TINY)[1], TINY)["fit_mse"] == pytest.approx(flip["fit_mse"], rel=1e-5)
    assert results["frequencies"]["vertical"] == pytest.approx(TINY.kappa)
    assert list((tmp_path / "checkpoints").glob("denoising-quick-aflip-b0-s0-*.pt"))


def test_cli_runs_denoising(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(denoising, "QUICK", TINY)
    assert main(["run", "denoising", "--scale", "quick", "--out", str(tmp_path), "--no-progress",
                 "--alpha", "10", "--beta", "-0.5"]) == 0
    stored = json.loads((tmp_path / "denoising-quick.json").read_text())
    assert [(r["alpha"], r["beta"]) for r in stored["runs"]] == [(10.0, -0.5)]
    assert main(["list"]) == 0
    assert "denoising" in capsys.readouterr().out


def test_departures_from_the_authors_have_reasons():
    from fbssm.experiments.departures import departure_table
    rows = denoising.departures(denoising.QUICK)
    assert all(row.reason for row in rows if row.departs)
    departed = {row.setting for row in rows if row.departs}
    assert {"model", "real parts", "C at the start", "evaluation noise a·U", "training target"}.isdisjoint(departed)
    assert "faces" in departed and "modes n" in departed
    glu = {row.setting for row in denoising.departures(replace(denoising.QUICK, head="glu")) if row.departs}
    assert "model" in glu
    assert "| training target | the clean face (MSE) | same |" in departure_table(rows)
