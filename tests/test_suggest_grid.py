"""scripts/suggest_grid.py at its --tiny size: the results file it writes holds, per experiment,
the grid's runs, the metric of every run and the suggestion with how it was called."""
import importlib.util
import json
from dataclasses import replace
from pathlib import Path

import pytest
import torch

import fbssm
from fbssm.experiments import denoising, find_run, lra, moving_mnist

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "suggest_grid.py"


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("suggest_grid", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def written(script, tmp_path_factory):
    out = tmp_path_factory.mktemp("grid")
    path = script.main(["--tiny", "--out", str(out)])
    return path, json.loads(path.read_text())


def test_the_file_is_where_asked_and_is_current(written):
    path, results = written
    assert path.name == "suggest-grid.json" and results["experiment"] == "suggest-grid"
    assert results["scale"] == "tiny" and results["seeds"] == [0, 1]
    assert results["meta"]["code"]["module"] == "fbssm.suggest" and fbssm.is_current(results)
    assert fbssm.stored_result("suggest-grid", folder=path.parent, current=True) == results


NAMES = ["waves", "denoising", "lra-listops", "lra-pathfinder", "moving-mnist"]
IN_GRID = ["lra-listops", "lra-pathfinder", "moving-mnist"]


@pytest.mark.parametrize("name", NAMES)
def test_each_experiment_holds_its_grid_metric_and_suggestion(script, written, name):
    part = written[1][name]
    runs = part["results"]["runs"]
    assert part["results"]["experiment"] == name and fbssm.is_current(part["results"])
    in_grid = part["grid"]["suggested_in_grid"]
    assert in_grid is (name in IN_GRID)
    labels = part["grid"]["labels"] + ([] if in_grid else [part["grid"]["suggested_label"]])
    assert (part["grid"]["suggested_label"] in part["grid"]["labels"]) is in_grid
    assert sorted({(r["setting"], r["seed"]) for r in runs}) == sorted((l, s) for l in labels for s in (0, 1))
    assert len(runs) == 2 * len(labels)
    assert all(r["beta"] == 0.0 and r["trainable_beta"] is False for r in runs)
    assert [find_run(runs, label)["alpha"] for label in part["grid"]["labels"]] \
        == part["grid"]["alphas"]
    metric = part["metric"]
    assert metric["lower_is_better"] is script.METRICS[name][3]
    assert metric["lower_is_better"] is (not name.startswith("lra-"))
    assert [(m["setting"], m["seed"]) for m in metric["runs"]] == [(r["setting"], r["seed"]) for r in runs]
    assert [m["value"] for m in metric["runs"]] == [script.METRICS[name][2](r) for r in runs]
    suggestion = part["suggestion"]
    assert suggestion["alpha"] == find_run(runs, "suggested")["alpha"] > 0
    assert suggestion["call"]["dt"] > 0 and suggestion["inputs"]


@pytest.mark.parametrize("name", ["denoising", *IN_GRID])
def test_the_stored_call_recomputes_the_suggestion(script, written, name):
    part = written[1][name]
    module, config, _ = script.plans(tiny=True)[name]
    u, dt, modes, _ = script.training_inputs(name, config, script.load_data(name, module, config))
    call = {k: v for k, v in part["suggestion"]["call"].items() if k != "function"}
    again = fbssm.suggest_alpha(u, **call)
    assert again.alpha == pytest.approx(part["suggestion"]["alpha"]) and again.beta == part["suggestion"]["beta"]
    assert call["dt"] == dt and call["modes"] == modes


def test_the_metrics_read_the_records(script):
    assert script.waves_metric({"per_wave_mse": [0.1, 0.4, 0.2]}) == 0.4
    record = {"vertical": {"mse_to_clean": 0.1}, "horizontal": {"mse_to_clean": 0.3}}
    assert script.denoising_metric(record) == pytest.approx(0.2)
    with pytest.raises(KeyError, match="per_wave_mse"):
        script.waves_metric({})
    assert script.accuracy_metric({"test_accuracy": 0.75}) == 0.75
    video = {"horizon": {"mse": {"red": [0.1, 0.3], "blue": [0.0, 0.2]}}}
    assert script.video_metric(video) == pytest.approx(0.15)
    with pytest.raises(KeyError, match="horizon"):
        script.video_metric({"next_frame": {}})


def test_the_lra_and_video_steps_are_the_geometric_mean_of_the_range(script):
    plans = script.plans()
    for name in IN_GRID:
        config = plans[name][1]
        assert script.geometric_step(config) == pytest.approx((config.dt_min * config.dt_max) ** 0.5)


def test_token_indicators_do_not_depend_on_the_labelling(script):
    ids = torch.tensor([[0, 3, 3, 1, 0, 3], [1, 1, 0, 3, 3, 0]])
    u, kept = script.one_hot_tokens(ids, 5)
    assert kept == [0, 1, 3] and u.shape == (2, 6, 3) and u.dtype == torch.float64
    relabelled, _ = script.one_hot_tokens(torch.tensor([4, 2, 1, 0, 3])[ids], 5)
    first = fbssm.suggest_alpha(u, 0.01, modes=4)
    again = fbssm.suggest_alpha(relabelled, 0.01, modes=4)
    assert again.alpha == pytest.approx(first.alpha) and again.beta == first.beta


def test_pixel_series_keep_the_pixels_that_change(script):
    frames = torch.zeros(2, 5, 3, 4, 4)
    frames[0, :, 0, 1, 2] = torch.arange(5.0)
    frames[1, 2, 2, 0, 0] = 1.0
    frames[1, :, 1, 3, 3] = 0.5                       # constant: no power
    series = script.pixel_series(frames)
    assert series.shape == (2, 5, 1)
    assert sorted(series[..., 0].tolist()) == [[0, 0, 1, 0, 0], [0, 1, 2, 3, 4]]


def test_the_grids_hold_the_experiments_own_alphas(script):
    quick = script.plans()
    assert quick["waves"][2] == (0.1, 1.0, 3.0, 10.0, 30.0, 100.0)
    assert set(denoising.ALPHAS) <= set(quick["denoising"][2])
    assert len(quick["denoising"][2]) >= 5
    assert all(config.seeds == (0, 1) for _, config, _ in quick.values())
    for task in ("listops", "pathfinder"):
        config, alphas = quick[f"lra-{task}"][1:]
        assert config == replace(lra.config_for_task(task, "quick"), data="offline", seeds=(0, 1))
        assert {1.0, config.alpha} <= set(alphas) and len(alphas) + 1 >= 5
    config, alphas = quick["moving-mnist"][1:]
    assert config == replace(moving_mnist.QUICK, seeds=(0, 1))
    assert {1.0, moving_mnist.TUNED_ALPHA} <= set(alphas) and len(alphas) + 1 >= 5


def test_the_estimates_cover_every_part(script):
    estimates = script.estimated_minutes()
    assert set(estimates) == set(NAMES)
    assert all(minutes is None or minutes > 0 for minutes in estimates.values())
