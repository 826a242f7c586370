import json
import math

import pytest
import torch

from fbssm.__main__ import main
from fbssm.data.waves import wave_amplitudes, waves_dataset, waves_step
from fbssm.experiments import config_for, experiment, waves


def test_waves_are_cosines_with_the_given_amplitudes():
    u, a = waves_dataset(3, 1001, (1, 16, 256), "random", seed=0)
    assert u.shape == (3, 1001, 1) and a.shape == (3, 3)
    spectrum = torch.fft.rfft(u[..., 0].double()).abs() * 2 / 1001
    for k, f in enumerate((1, 16, 256)):  # one 2π window: wave f sits exactly on bin f
        torch.testing.assert_close(spectrum[:, f], a[:, k].double(), rtol=1e-4, atol=1e-4)
    assert math.isclose(waves_step(1001), 2 * math.pi / 1001)


def test_grid_amplitudes_are_distinct_grid_points():
    a = wave_amplitudes(500, 4, "grid", seed=1)
    assert len({tuple(row.tolist()) for row in a}) == 500
    assert torch.allclose(a * 10, (a * 10).round()) and a.min() >= 0.1 and a.max() <= 1.0
    assert wave_amplitudes(10 ** 2, 2, "grid").shape == (100, 2)


def test_bad_lengths_and_kinds():
    with pytest.raises(ValueError, match="Nyquist"):
        waves_dataset(2, 8192, (1, 4096))
    with pytest.raises(ValueError, match="kind"):
        wave_amplitudes(2, 4, "uniform")


def test_configs_and_registry(monkeypatch):
    assert config_for("waves", "paper").length == 62_832
    assert config_for("waves", "quick").length % 2 == 1  # odd: no false success on the top wave
    monkeypatch.setenv("FBSSM_SCALE", "paper")
    assert config_for("waves").scale == "paper"
    with pytest.raises(ValueError, match="experiment"):
        experiment("nope")


def test_initial_modes_follow_alpha():
    a = waves.initial_eigenvalues(4, 10.0)
    torch.testing.assert_close(a.imag, 10 * math.pi * (1.3 + torch.arange(4.0)))
    assert (a.real == -0.5).all()


def test_cli_runs_a_tiny_waves_experiment(tmp_path, monkeypatch):
    from dataclasses import replace
    tiny = replace(waves.QUICK, length=601, frequencies=(1, 16, 64), n_train=40, n_test=20,
                   train=replace(waves.QUICK.train, epochs=1, batch_size=20))
    monkeypatch.setattr(waves, "QUICK", tiny)
    assert main(["run", "waves", "--alpha", "10", "--beta", "0.5", "--out", str(tmp_path),
                 "--no-progress"]) == 0
    results = json.loads((tmp_path / "waves-quick.json").read_text())
    (run,) = results["runs"]
    assert (run["alpha"], run["beta"]) == (10.0, 0.5) and len(run["per_wave_mse"]) == 3
    assert results["meta"]["hardware"]["torch"]
    assert list((tmp_path / "checkpoints").glob("*.pt"))
    with pytest.raises(SystemExit):
        main(["run", "waves", "--alpha", "10"])


@pytest.mark.parametrize("alpha,beta", [(1.0, 0.0), (10.0, 0.5), (100.0, 1.0)])
def test_fast_forward_equals_the_plain_composition(alpha, beta):
    from dataclasses import replace
    config = replace(waves.QUICK, length=1001, frequencies=(1, 16, 256))
    torch.manual_seed(0)
    model = waves.WavesModel(config, alpha, beta)
    u, _ = waves_dataset(3, 1001, (1, 16, 256), "random")
    torch.testing.assert_close(model(u), model.forward_reference(u), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("alpha,beta", [(1.0, 0.0), (100.0, 1.0)])
def test_fast_backward_equals_the_plain_composition(alpha, beta):
    # the fast path's gradient is written by hand: every parameter's must match autograd's
    from dataclasses import replace
    config = replace(waves.QUICK, length=1001, frequencies=(1, 16, 256))
    torch.manual_seed(0)
    model = waves.WavesModel(config, alpha, beta)
    u, a = waves_dataset(3, 1001, (1, 16, 256), "random")
    gradients = []
    for forward in (model.forward, model.forward_reference):
        model.zero_grad()
        ((forward(u) - a) ** 2).sum().backward()
        gradients.append({name: p.grad.clone() for name, p in model.named_parameters()})
    fast, plain = gradients
    for name, g in plain.items():
        torch.testing.assert_close(fast[name], g, rtol=1e-3, atol=1e-3 * g.abs().max().item(),
                                   msg=lambda m: f"{name}: {m}")


def test_imag_rate_follows_alpha():
    from dataclasses import replace
    config = replace(waves.QUICK, imag_lr_per_alpha=0.2, imag_lr_max=2.0)
    assert config.train_config(1.0, seed=3).imag_lr == pytest.approx(0.2)
    assert config.train_config(0.01, seed=3).imag_lr == pytest.approx(0.002)
    assert config.train_config(100.0, seed=3).imag_lr == pytest.approx(2.0)  # capped
    assert config.train_config(10.0, seed=3).seed == 3
    assert replace(config, imag_lr_per_alpha=None).train_config(10.0, 0).imag_lr is None
    assert waves.PAPER.imag_lr(10.0) == 0.1         # the authors' script: Im(a_j) at 0.1 at every α
    paper = waves.PAPER.train
    assert (paper.lr, paper.weight_decay, paper.ssm_lr, paper.epochs, paper.batch_size) == (1e-3, 0.0, None, 100, 64)
    with pytest.raises(ValueError, match="imag_lr_per_alpha"):
        replace(config, imag_lr_per_alpha=-1.0)
    with pytest.raises(ValueError, match="imag_lr_max"):
        replace(config, imag_lr_max=0.0)
    with pytest.raises(ValueError, match="not both"):
        replace(config, train=replace(config.train, imag_lr=0.5))


@pytest.mark.parametrize("alpha", [1.0, 10.0])
def test_first_adam_step_moves_modes_by_their_rate(alpha):
    # Adam's first step is lr·g/(|g| + ε): a mode moves by its rate whatever the gradient's size
    # (while |g| ≫ ε), so a rate proportional to α gives every α the same relative step
    from dataclasses import replace
    tiny = replace(waves.QUICK, length=601, frequencies=(1, 16, 64), n_train=8, imag_lr_per_alpha=0.2,
                   imag_lr_max=None, train=replace(waves.QUICK.train, epochs=1, batch_size=8))
    data = waves_dataset(8, 601, (1, 16, 64), "grid", seed=1), waves_dataset(4, 601, (1, 16, 64), "random")
    run = waves.run_setting(tiny, (alpha, 0.0), seed=0, data=data, progress=False)
    y = torch.tensor(run["eigenvalue_imag"])                        # (logs, H, modes)
    assert y.shape == (2, tiny.channels, tiny.modes) and run["imag_lr"] == pytest.approx(0.2 * alpha)
    mse, mae = torch.tensor(run["per_wave_mse"]), torch.tensor(run["per_wave_mae"])
    assert mse.shape == mae.shape == (3,) and (mae <= mse.sqrt() + 1e-7).all()   # mean |e| ≤ RMS e
    step = (y[1] - y[0]).abs() / (0.2 * alpha)
    assert (step <= 1 + 1e-4).all()               # never more than the rate,
    assert step.max() > 0.999                     # the full rate where |g| is far above Adam's ε = 1e-8


@pytest.mark.parametrize("beta", [0.0, 1.0])
def test_wave_gains_match_the_closed_form_response(beta):
    # strongly damped modes: the kernel of length L is the whole impulse response, so the FFT of the
    # model's kernel at the wave's bin equals the closed-form H(e^{iω}) of the discretised system
    from dataclasses import replace
    from fbssm import discrete_transfer_function
    config = replace(waves.QUICK, length=1001, frequencies=(1, 16, 256))
    torch.manual_seed(0)
    model = waves.WavesModel(config, 10.0, beta)
    with torch.no_grad():
        model.ssm.log_A_real.fill_(math.log(20.0))
    dt = waves_step(1001)
    omega = torch.tensor(config.frequencies, dtype=torch.float64) * dt
    C = torch.view_as_complex(model.ssm.C.detach())[0].to(torch.complex128)
    kernel_part = discrete_transfer_function(model.ssm.A.detach().to(torch.complex128), C, dt, omega)
    gain = (1 + omega / dt / config.filter_scale) ** beta
    expected = (model.encoder.weight[:, :1].double() * (gain * kernel_part + model.ssm.D[:, None].double())).abs()
    gains = model.wave_gains(1001, config.frequencies)
    assert gains.shape == (config.channels, 3)
    torch.testing.assert_close(gains.double(), expected.detach(), rtol=2e-3, atol=1e-5)


def test_fast_forward_keeps_the_kernel_float32_under_bfloat16_autocast():
    from dataclasses import replace
    config = replace(waves.QUICK, length=1001, frequencies=(1, 16, 256))
    torch.manual_seed(0)
    model = waves.WavesModel(config, 10.0, 0.5)
    u, _ = waves_dataset(3, 1001, (1, 16, 256), "random")
    with torch.autocast("cpu", dtype=torch.bfloat16):
        mixed = model(u)
    # only the decoder (a Linear) runs in bfloat16: the result stays within its rounding
    torch.testing.assert_close(mixed.float(), model(u), rtol=2e-2, atol=2e-2)


def test_departures_from_the_authors_are_listed_with_reasons():
    from fbssm.experiments.departures import departure_table
    rows = waves.departures(waves.QUICK)
    table = departure_table(rows)
    assert "0.1 at every α" in table and "min(0.2·α, 2)" in table and "| weight decay | 0 | same |" in table
    assert all(row.reason for row in rows if row.departs)
    paper = [row.setting for row in waves.departures(waves.PAPER) if row.departs]
    assert paper == ["schedule"]            # the paper scale is the authors' settings but for the stepping
    from fbssm.experiments.departures import Departure
    with pytest.raises(ValueError, match="reason"):
        departure_table([Departure("x", "1", "2")])
