"""suggest_alpha on signals whose answer is known: tones, white noise, a low-pass signal."""
import math

import matplotlib
import pytest
import torch

import fbssm

matplotlib.use("Agg")

L, N = 1024, 16
DT = 0.5 / (N - 1)  # the default S4D-Lin top mode Δ·π·(N-1) sits at π/2


def tones(bins, batch=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(L, dtype=torch.float64)
    phases = 2 * math.pi * torch.rand(batch, len(bins), generator=g, dtype=torch.float64)
    waves = [torch.cos(2 * math.pi * k * t / L + phases[:, i, None]) for i, k in enumerate(bins)]
    return sum(waves).unsqueeze(-1).float()


def white_noise(channels=2, seed=1):
    return torch.randn(16, L, channels, generator=torch.Generator().manual_seed(seed))


def low_pass(seed=2, width=40):
    x = torch.randn(16, 1, L + width, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    y = torch.nn.functional.conv1d(x, torch.full((1, 1, width), 1.0 / width, dtype=torch.float64))
    return y[..., :L].transpose(1, 2).float()


def test_tones_put_the_top_mode_on_the_highest_tone():
    bins = (20, 60, 150)
    s = fbssm.suggest_alpha(tones(bins), DT, modes=N, energy=0.95)
    highest = 2 * math.pi * bins[-1] / L
    assert s.pooled_band_edge == pytest.approx(highest, abs=1e-9)
    assert float(s.modes_after.max()) == pytest.approx(highest, rel=1e-9)
    assert s.alpha == pytest.approx(highest / (DT * math.pi * (N - 1)), rel=1e-6)  # y_j are float32


def test_white_noise_spreads_modes_to_the_nyquist_limited_maximum():
    s = fbssm.suggest_alpha(white_noise(), DT, modes=N, energy=0.95)
    ceiling = 0.98 * math.pi / (DT * math.pi * (N - 1))  # the headroom cap
    assert 0.9 * ceiling <= s.alpha <= ceiling * (1 + 1e-12)
    assert float(s.modes_after.max()) <= 0.98 * math.pi + 1e-12
    assert s.high_share == pytest.approx(0.5, abs=0.05)  # half the power lies above π/2
    assert s.beta > 0


def test_low_pass_signal_gives_alpha_at_most_one_and_beta_not_positive():
    s = fbssm.suggest_alpha(low_pass(), DT, modes=N)
    assert s.alpha <= 1
    assert s.beta <= 0
    assert float(s.modes_after.max()) == pytest.approx(s.pooled_band_edge, rel=1e-9)


def test_the_cap_keeps_every_channel_below_nyquist():
    dt = torch.tensor([DT, 2 * DT])
    s = fbssm.suggest_alpha(white_noise(), dt, modes=N, energy=0.999, headroom=0.5)
    assert float(s.modes_after.max()) <= 0.5 * math.pi + 1e-12
    assert s.modes_after.shape == (2, N)
    torch.testing.assert_close(s.modes_after[1], 2 * s.modes_after[0].double(), check_dtype=False)


def test_per_channel_alpha_follows_each_channels_band():
    u = torch.cat([tones((30,)), tones((120,))], -1)
    s = fbssm.suggest_alpha(u, DT, modes=N, energy=0.9)
    ratio = s.alpha_per_channel[1] / s.alpha_per_channel[0]
    assert float(ratio) == pytest.approx(4.0, rel=1e-9)
    assert s.power.shape == (2, L // 2 + 1)
    torch.testing.assert_close(s.power.sum(-1), torch.ones(2, dtype=torch.float64))


def test_summary_and_plot():
    s = fbssm.suggest_alpha(low_pass(), DT, modes=N)
    text = str(s)
    assert f"{s.alpha:.4g}" in text and "heuristic" in text and "rad/sample" in text
    fig = s.plot()
    assert isinstance(fig, matplotlib.figure.Figure) and len(fig.axes) == 1
    assert "ω" in fig.axes[0].get_xlabel()


@pytest.mark.parametrize("kwargs, name", [
    (dict(energy=1.5), "energy"), (dict(headroom=0.0), "headroom"), (dict(init="hippo"), "init"),
    (dict(modes=0), "modes"), (dict(dt=torch.ones(3)), "dt"), (dict(dt=-1.0), "dt"),
])
def test_bad_arguments_name_the_argument(kwargs, name):
    arguments = dict(u=white_noise(), dt=DT, modes=N) | kwargs
    with pytest.raises(ValueError, match=name):
        fbssm.suggest_alpha(**arguments)


def test_bad_inputs_name_u():
    with pytest.raises(TypeError, match="u must"):
        fbssm.suggest_alpha(torch.ones(2, 8, 1, dtype=torch.long), DT)
    with pytest.raises(ValueError, match="u must have shape"):
        fbssm.suggest_alpha(torch.randn(8, 3), DT)
    with pytest.raises(ValueError, match="constant channel"):
        fbssm.suggest_alpha(torch.ones(2, 8, 1), DT)
