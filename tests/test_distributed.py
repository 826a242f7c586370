"""Data-parallel training on CPU (gloo on loopback): the same steps as one process, resume with
another process count, output from process 0 only, and the CLI under torchrun.

Every multi-process test starts two processes the way torchrun does (RANK, WORLD_SIZE, LOCAL_RANK,
MASTER_ADDR/PORT in the environment), so `fbssm.train.train` joins the group on its own.
"""
import json
import os
import socket
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp

import fbssm
from fbssm.results import save_results
from fbssm.train import TrainConfig, train

ROOT = Path(__file__).resolve().parent.parent
RTOL = 1e-5   # two processes vs one: the same arithmetic up to the order of float32 sums

# 21 rows in batches of 8: the last batch of an epoch (5 rows) splits unevenly over two processes
# (3 + 2 rows), and with accumulate=2 into micro-batches of 2 + 1 and 1 + 1 rows.
CONFIG = TrainConfig(epochs=2, batch_size=8, lr=1e-2, ssm_lr=5e-3, warmup_steps=2, seed=3,
                     log_eigenvalues_every=2, checkpoint_every=2)


def regression_data(n=21, L=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, L, 1, generator=g)
    return x, x.cumsum(1)[:, -1] * 0.1


def small_model(seed=0):
    """No dropout (its masks differ with the process count); Δ frozen as a buffer and one frozen
    parameter, which DDP must leave alone."""
    torch.manual_seed(seed)
    model = fbssm.SequenceModel(1, d_input=1, d_model=4, n_layers=2, d_state=4, trainable_beta=True,
                                train_dt=False)
    model.encoder.bias.requires_grad_(False)
    return model


def mse(model, batch):
    x, y = batch
    return torch.nn.functional.mse_loss(model(x), y)


def recording(seen):
    """mse, noting the targets (one distinct number per row) of every batch it is given."""
    def loss(model, batch):
        seen.append(sorted(batch[1].flatten().tolist()))
        return mse(model, batch)
    return loss


class Interrupted(Exception):
    pass


def crash_after(calls):
    """A loss that stops the run on its `calls`-th evaluation (on every process alike)."""
    count = {"n": 0}

    def loss(model, batch):
        count["n"] += 1
        if count["n"] > calls:
            raise Interrupted
        return mse(model, batch)
    return loss


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _torchrun_environment(rank, world_size, port):
    os.environ.update(RANK=str(rank), WORLD_SIZE=str(world_size), LOCAL_RANK=str(rank),
                      MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)


def _two_process_runs(rank, world_size, port, folder):
    """What one process of the two does; every file name but the shared checkpoint carries the
    rank, so the tests see which process wrote what.

    1. train with accumulation, evaluate, save results (compared with one process);
    2. a run whose loss is NaN on process 1 alone (both must stop);
    3. a run stopped mid-epoch after its checkpoint at step 4 (resumed by one process).
    """
    _torchrun_environment(rank, world_size, port)
    folder = Path(folder)
    with open(folder / f"stdout-{rank}.txt", "w") as out:
        sys.stdout = out
        os.environ["FBSSM_PROGRESS"] = "text"
        model, seen = small_model(), []
        history = train(model, regression_data(), recording(seen), replace(CONFIG, accumulate=2),
                        evaluate=lambda m: {"rank": float(fbssm.device.process_rank()), "fixed": 1.5},
                        checkpoint=folder / f"checkpoint-{rank}.pt", progress=True)
        save_results(folder / f"results-{rank}.json", {"rank": rank})
        sys.stdout.flush()
        sys.stdout = sys.__stdout__

    def poisoned(model, batch):
        loss = mse(model, batch)
        return loss * float("nan") if rank == 1 else loss
    try:
        train(small_model(), regression_data(), poisoned, CONFIG, progress=False)
        stopped = None
    except FloatingPointError as error:
        stopped = str(error)
    torch.save({"state": model.state_dict(), "step_loss": history.step_loss, "seen": seen,
                "epochs": history.epochs, "eigenvalue_steps": history.eigenvalue_steps,
                "stopped": stopped}, folder / f"run-{rank}.pt")

    try:
        train(small_model(), regression_data(), crash_after(5), CONFIG, checkpoint=folder / "run.pt",
              progress=False)
    except Interrupted:
        pass


@pytest.fixture(scope="module")
def reference():
    """The one-process run (no accumulation) every distributed run is compared with."""
    torch.set_num_threads(1)
    model, seen = small_model(), []
    history = train(model, regression_data(), recording(seen), CONFIG, evaluate=lambda m: {"fixed": 1.5},
                    progress=False)
    history.seen = seen
    return model.state_dict(), history


def assert_same_parameters(expected, actual):
    assert expected.keys() == actual.keys()
    for name, value in expected.items():
        torch.testing.assert_close(actual[name], value, rtol=RTOL, atol=1e-7, msg=name)


@pytest.fixture(scope="module")
def two_processes(tmp_path_factory):
    """The folder of one two-process run of `_two_process_runs`."""
    folder = tmp_path_factory.mktemp("two_processes")
    mp.spawn(_two_process_runs, args=(2, free_port(), str(folder)), nprocs=2, join=True)
    return folder


def test_two_processes_take_the_same_steps_as_one(two_processes, reference):
    expected_state, expected = reference
    runs = [torch.load(two_processes / f"run-{rank}.pt", weights_only=False) for rank in (0, 1)]
    # step t: each process trained on two micro-batches, together exactly the one-process batch
    assert all(len(run["seen"]) == 2 * len(expected.seen) for run in runs)
    for t, rows in enumerate(expected.seen):
        parts = [run["seen"][2 * t + i] for run in runs for i in (0, 1)]
        assert sorted(sum(parts, [])) == rows
        assert all(parts)  # nobody idle
    for run in runs:
        assert_same_parameters(expected_state, run["state"])
        assert run["step_loss"] == pytest.approx(expected.step_loss, rel=RTOL)
        assert run["eigenvalue_steps"] == expected.eigenvalue_steps == [0, 2, 4, 6]
        # evaluate()'s metrics are averaged over the processes
        assert [(e["rank"], e["fixed"]) for e in run["epochs"]] == [(0.5, 1.5), (0.5, 1.5)]
        assert [e["train_loss"] for e in run["epochs"]] == pytest.approx(
            [e["train_loss"] for e in expected.epochs], rel=RTOL)


def test_a_nan_on_one_process_stops_all(two_processes):
    for rank in (0, 1):
        stopped = torch.load(two_processes / f"run-{rank}.pt", weights_only=False)["stopped"]
        assert stopped is not None and "loss became nan at epoch 1, step 0" in stopped


def test_only_process_0_prints_and_writes(two_processes):
    tmp_path = two_processes
    assert (tmp_path / "checkpoint-0.pt").exists() and not (tmp_path / "checkpoint-1.pt").exists()
    assert (tmp_path / "results-0.json").exists() and not (tmp_path / "results-1.json").exists()
    assert "epoch 2/2" in (tmp_path / "stdout-0.txt").read_text()
    assert (tmp_path / "stdout-1.txt").read_text() == ""
    state = torch.load(tmp_path / "checkpoint-0.pt", weights_only=False)
    assert state["world_size"] == 2 and len(state["rng_ranks"]) == 2
    assert not any(name.startswith("module.") for name in state["model"])  # the plain model's state


def test_checkpoint_of_two_processes_resumes_in_one(two_processes, reference, tmp_path):
    expected_state, expected = reference
    checkpoint = tmp_path / "run.pt"
    checkpoint.write_bytes((two_processes / "run.pt").read_bytes())
    state = torch.load(checkpoint, weights_only=False)
    assert state["world_size"] == 2 and state["step"] == 4  # checkpoints at steps 2 and 4; stopped in step 6
    torch.set_num_threads(1)
    model = small_model(seed=99)  # the weights come from the checkpoint
    resumed = train(model, regression_data(), mse, CONFIG, evaluate=lambda m: {"fixed": 1.5},
                    checkpoint=checkpoint, progress=False)
    assert_same_parameters(expected_state, model.state_dict())
    assert resumed.step_loss == pytest.approx(expected.step_loss, rel=RTOL)
    assert torch.load(checkpoint, weights_only=False)["world_size"] == 1


def test_cli_runs_under_torchrun(tmp_path):
    environment = {**os.environ, "OMP_NUM_THREADS": "1", "FBSSM_PROGRESS": "text"}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
               "-m", "fbssm", "run", "denoising", "--scale", "quick", "--alpha", "1", "--beta", "0",
               "--seed", "0", "--max-steps", "2", "--accumulate", "2", "--precision", "bfloat16",
               "--out", str(tmp_path), "--no-progress"]
    result = subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    results = json.loads((tmp_path / "denoising-quick.json").read_text())
    assert results["meta"]["hardware"]["world_size"] == 2
    assert (results["config"]["train"]["accumulate"], results["config"]["train"]["precision"]) == (2, "bfloat16")
    run = results["runs"][0]
    assert run["epochs"][-1]["step"] == 2
    assert (result.stdout + result.stderr).count(f"→ {tmp_path}/") == 1  # process 0 alone reports
    (name,) = [p.name for p in (tmp_path / "checkpoints").iterdir()]
    assert name.startswith("denoising-quick-a1-b0-s0-") and name.endswith(".pt")
