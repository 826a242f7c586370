"""The gpu scale: one configuration per experiment for one consumer GPU, chosen by the same
switch as quick and paper; each builds its model and trains on a batch of its shapes; its
departures from the paper have reasons; its time is an estimate from a stored measurement."""
import copy

import pytest
import torch

import fbssm
from fbssm.__main__ import parser
from fbssm.experiments import EXPERIMENTS, config_for, experiment
from fbssm.experiments.cases import CONSUMER_GPU, estimate_minutes, gpu_cases
from fbssm.experiments.departures import departure_table
from fbssm.optim import param_groups

CASES = {case.name: case for case in gpu_cases()}
# Rows per smoke batch: the full batch of a gpu configuration takes seconds to minutes per step on
# a CPU, so the step runs on 2 rows of the configuration's shapes (sequence length, width, depth).
SMOKE_ROWS = 2


def test_every_experiment_has_a_gpu_configuration():
    assert "gpu" in fbssm.SCALES
    for name in EXPERIMENTS:
        config = config_for(name, "gpu")
        assert config.scale == "gpu"
        assert config != config_for(name, "quick") and config != config_for(name, "paper")
    assert sorted(CASES) == sorted(EXPERIMENTS)


def test_the_environment_switch_selects_the_gpu_scale(monkeypatch):
    monkeypatch.setenv("FBSSM_SCALE", "gpu")
    assert fbssm.current_scale() == "gpu" and config_for("waves").scale == "gpu"
    monkeypatch.setenv("FBSSM_SCALE", "laptop")
    with pytest.raises(ValueError, match="FBSSM_SCALE.*'laptop'"):
        config_for("waves")


@pytest.mark.parametrize("name", sorted(EXPERIMENTS))
def test_departures_from_the_paper_have_reasons(name):
    rows = experiment(name).departures(config_for(name, "gpu"))
    assert all(row.reason for row in rows if row.departs)
    assert "| setting |" in departure_table(rows)


@pytest.mark.parametrize("name", ["denoising", "scifar", "moving-mnist"] + [f"lra-{t}" for t in
                                  ("listops", "text", "retrieval", "image", "pathfinder", "pathx")])
def test_the_gpu_scale_reads_real_data(name):
    assert config_for(name, "gpu").data in ("celeba", "cifar", "mnist", "lra")


@pytest.mark.parametrize("name", sorted(EXPERIMENTS))
def test_two_optimiser_steps_on_a_batch_of_the_gpu_shapes(name):
    case = CASES[name]
    torch.manual_seed(0)
    model = case.build()
    optimizer = torch.optim.AdamW(param_groups(model, 1e-3, 0.01))
    batch = case.batch(SMOKE_ROWS)
    before = [p.detach().clone() for p in model.parameters() if p.requires_grad]
    for _ in range(2):
        optimizer.zero_grad(set_to_none=True)
        loss = case.loss(model, batch)
        loss.backward()
        optimizer.step()
        assert torch.isfinite(loss)
    after = [p.detach() for p in model.parameters() if p.requires_grad]
    assert any(not torch.equal(a, b) for a, b in zip(before, after))


def test_scifar_refuses_a_stand_in_at_the_gpu_scale():
    from dataclasses import replace
    from fbssm.experiments import scifar
    with pytest.raises(ValueError, match="data must be 'cifar' at the gpu scale"):
        replace(scifar.GPU, data="auto")


def _benchmark(case, seconds=1.0, batch=4):
    record = {"name": case.name, **case.shapes, "cpu_roofline": {"matmul_gflops": 81.0, "copy_gbps": 16.0},
              "runs": [{"precision": "float32", "measurements": [
                  {"batch": batch, "seconds": [seconds, 2 * seconds], "operators": 100}]}]}
    return {"configurations": [record]}


def test_estimate_follows_the_stated_basis():
    case = CASES["waves"]
    # the GPU is faster by min(8100/81, 320/16) = 20; the step at B is the measured one × B / batch
    step = 1.0 * case.batch_size / 4 / 20
    expected = case.runs * (case.total_steps * step + case.eval_rows * step / case.batch_size / 3) / 60
    assert estimate_minutes(case, _benchmark(case)) == pytest.approx(expected)
    faster = dict(CONSUMER_GPU, memory_gbps=640)
    assert estimate_minutes(case, _benchmark(case), faster) == pytest.approx(expected / 2)


def test_estimate_refuses_a_measurement_of_other_shapes():
    case = CASES["waves"]
    benchmark = _benchmark(case)
    with pytest.raises(ValueError, match="benchmark has no measurement of denoising"):
        estimate_minutes(CASES["denoising"], benchmark)
    moved = copy.deepcopy(benchmark)
    moved["configurations"][0]["l_max"] = 62_832
    with pytest.raises(ValueError, match="waves was measured at other shapes.*--scale gpu --only waves"):
        estimate_minutes(case, moved)


def test_the_stored_measurement_gives_every_experiment_an_estimate():
    benchmarks = fbssm.stored_results("gpu-scale-")
    assert benchmarks, "no gpu-scale-*.json in fbssm/stored: run benchmarks/paper_scale.py --scale gpu"
    benchmark = next(iter(benchmarks.values()))
    assert benchmark["scale"] == "gpu"
    for case in CASES.values():
        assert estimate_minutes(case, benchmark) > 0


def test_the_cli_accepts_the_gpu_scale(capsys):
    args = parser().parse_args(["run", "lra-image", "--scale", "gpu"])
    assert args.scale == "gpu" and config_for(args.experiment, args.scale).l_max == 1024
    with pytest.raises(SystemExit) as raised:
        parser().parse_args(["run", "waves", "--scale", "laptop"])
    assert raised.value.code == 2 and "--scale" in capsys.readouterr().err
