"""scripts/suggest_grid.py at its --tiny size: the results file it writes holds, per experiment,
the grid's runs, the metric of every run and the suggestion with how it was called."""
import importlib.util
import json
from pathlib import Path

import pytest

import fbssm
from fbssm.experiments import denoising, find_run

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


@pytest.mark.parametrize("name", ["waves", "denoising"])
def test_each_experiment_holds_its_grid_metric_and_suggestion(script, written, name):
    part = written[1][name]
    runs = part["results"]["runs"]
    assert part["results"]["experiment"] == name and fbssm.is_current(part["results"])
    labels = part["grid"]["labels"] + [part["grid"]["suggested_label"]]
    assert sorted({(r["setting"], r["seed"]) for r in runs}) == sorted((l, s) for l in labels for s in (0, 1))
    assert all(r["beta"] == 0.0 for r in runs)
    assert [find_run(runs, label)["alpha"] for label in part["grid"]["labels"]] \
        == part["grid"]["alphas"]
    metric = part["metric"]
    assert metric["lower_is_better"] is True
    assert [(m["setting"], m["seed"]) for m in metric["runs"]] == [(r["setting"], r["seed"]) for r in runs]
    assert [m["value"] for m in metric["runs"]] == [script.METRICS[name][2](r) for r in runs]
    suggestion = part["suggestion"]
    assert suggestion["alpha"] == find_run(runs, "suggested")["alpha"] > 0
    assert suggestion["call"]["dt"] > 0 and suggestion["inputs"]


def test_the_stored_call_recomputes_the_suggestion(script, written):
    part = written[1]["denoising"]
    module, config, _ = script.plans(tiny=True)["denoising"]
    u, dt, modes, _ = script.training_inputs("denoising", config, module.load_data(config))
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


def test_the_grids_hold_the_experiments_own_alphas(script):
    quick = script.plans()
    assert quick["waves"][2] == (0.1, 1.0, 3.0, 10.0, 30.0, 100.0)
    assert set(denoising.ALPHAS) <= set(quick["denoising"][2])
    assert len(quick["denoising"][2]) >= 5
    assert all(config.seeds == (0, 1) for _, config, _ in quick.values())
