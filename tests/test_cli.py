"""The command line: every mistake is one line naming the option, status 2, no traceback (unless
--traceback); --out is checked before any work; --restart reaches the experiment's run."""
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from fbssm import experiments
from fbssm.__main__ import main, parser
from fbssm.device import check_device, select_device
from fbssm.experiments import waves

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def calls(monkeypatch):
    """The keyword arguments of every call of waves.run (which trains nothing here)."""
    seen = []

    def fake_run(config, settings=None, device=None, out=None, progress=True, data=None, restart=False,
                 **options):
        seen.append({"config": config, "settings": settings, "device": device, "out": out, **options,
                     **({"restart": restart} if restart else {})})
        return {"experiment": "waves", "scale": config.scale}

    monkeypatch.setattr(waves, "run", fake_run)
    return seen


def one_line_error(capsys, argv):
    """Run the CLI on argv, expecting a user error: its exit status 2 and its one-line message."""
    with pytest.raises(SystemExit) as stop:
        main(argv)
    err = capsys.readouterr().err
    assert stop.value.code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("fbssm: error: ") and "Traceback" not in err, err
    return lines[0]


def test_an_unknown_experiment(capsys):
    line = one_line_error(capsys, ["run", "nope"])
    assert "experiment" in line and "'nope'" in line


@pytest.mark.parametrize("alpha", ["0", "-1", "nan"])
def test_a_bad_alpha(capsys, calls, tmp_path, alpha):
    line = one_line_error(capsys, ["run", "waves", "--alpha", alpha, "--beta", "0.5", "--out", str(tmp_path)])
    assert "--alpha" in line and alpha in line and calls == []


def test_beta_alone(capsys, calls, tmp_path):
    line = one_line_error(capsys, ["run", "waves", "--beta", "0.5", "--out", str(tmp_path)])
    assert "--alpha" in line and "--beta" in line and calls == []


def test_out_pointing_at_a_file(capsys, calls, tmp_path):
    (tmp_path / "taken").write_text("")
    line = one_line_error(capsys, ["run", "waves", "--out", str(tmp_path / "taken")])
    assert "--out" in line and str(tmp_path / "taken") in line and calls == []


def test_out_in_a_folder_that_cannot_be_created(capsys, calls, tmp_path):
    (tmp_path / "taken").write_text("")
    line = one_line_error(capsys, ["run", "waves", "--out", str(tmp_path / "taken" / "results")])
    assert "--out" in line and "cannot create" in line and calls == []


def test_out_is_checked_before_the_experiment_is_loaded(capsys, monkeypatch, tmp_path):
    def never(*args, **kwargs):
        raise AssertionError("the experiment was loaded before --out was checked")
    monkeypatch.setattr(experiments, "experiment", never)
    monkeypatch.setattr(experiments, "config_for", never)
    (tmp_path / "taken").write_text("")
    assert "--out" in one_line_error(capsys, ["run", "waves", "--out", str(tmp_path / "taken")])


def test_out_defaults_to_the_ignored_results_folder():
    assert parser().parse_args(["run", "waves"]).out == "results"
    assert "results/" in (ROOT / ".gitignore").read_text().splitlines()


@pytest.mark.parametrize("device", ["tpu", "cuda:7", "mps:3"])
def test_an_unknown_or_absent_device(capsys, calls, tmp_path, device):
    line = one_line_error(capsys, ["run", "waves", "--device", device, "--out", str(tmp_path)])
    assert f"--device '{device}'" in line and "available: cpu" in line and calls == []


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_on_a_machine_without_it(capsys, calls, tmp_path):
    line = one_line_error(capsys, ["run", "waves", "--device", "cuda", "--out", str(tmp_path)])
    assert "--device 'cuda'" in line and "available: cpu" in line and calls == []


def test_the_library_checks_devices_the_same_way():
    assert check_device("cpu") == torch.device("cpu") == select_device("cpu")
    with pytest.raises(ValueError, match="device 'tpu' is not available here; available: cpu"):
        select_device("tpu")


@pytest.mark.parametrize("argv,option", [
    (["--max-steps", "0"], "--max-steps"), (["--accumulate", "0"], "--accumulate"),
    (["--checkpoint-every", "-2"], "--checkpoint-every"), (["--seed", "-1"], "--seed"),
    (["--seed", "one"], "--seed"), (["--scale", "huge"], "--scale"),
])
def test_bad_numbers_and_choices(capsys, calls, tmp_path, argv, option):
    line = one_line_error(capsys, ["run", "waves", *argv, "--out", str(tmp_path)])
    assert option in line and calls == []


def test_errors_inside_the_run_are_one_line_too(capsys, monkeypatch, tmp_path):
    class CheckpointMismatch(Exception):
        pass

    for error in (CheckpointMismatch("checkpoint x.pt holds another run"), KeyError("no run of setting 'plain'"),
                  FileNotFoundError("data/listops not found"), TypeError("settings must be pairs")):
        def failing(config, settings=None, device=None, out=None, progress=True, data=None, restart=False):
            raise error
        monkeypatch.setattr(waves, "run", failing)
        line = one_line_error(capsys, ["run", "waves", "--out", str(tmp_path)])
        assert line == f"fbssm: error: {error.args[0]}"


def test_a_bug_is_not_a_user_error(monkeypatch, tmp_path):
    def broken(config, settings=None, device=None, out=None, progress=True, data=None, restart=False):
        raise RuntimeError("a bug")
    monkeypatch.setattr(waves, "run", broken)
    with pytest.raises(RuntimeError, match="a bug"):
        main(["run", "waves", "--out", str(tmp_path)])


def test_traceback_shows_the_error_itself(calls, tmp_path):
    with pytest.raises(ValueError, match="--alpha"):
        main(["run", "waves", "--alpha", "0", "--beta", "0.5", "--out", str(tmp_path), "--traceback"])


def test_restart_reaches_run_only_when_asked(calls, tmp_path):
    assert main(["run", "waves", "--out", str(tmp_path), "--seed", "0", "--seed", "3"]) == 0
    assert main(["run", "waves", "--out", str(tmp_path), "--restart", "--alpha", "10", "--beta", "0.5"]) == 0
    assert "restart" not in calls[0] and calls[0]["config"].seeds == (0, 3)
    assert calls[1]["restart"] is True and calls[1]["settings"] == ((10.0, 0.5),)
    assert calls[0]["out"] == str(tmp_path)


def test_the_installed_command_says_one_line_or_with_traceback_the_trace(tmp_path):
    command = [sys.executable, "-m", "fbssm", "run", "waves", "--device", "tpu", "--out", str(tmp_path)]
    plain = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert plain.returncode == 2 and "Traceback" not in plain.stderr
    assert plain.stderr.strip().splitlines() == [plain.stderr.strip()]
    assert plain.stderr.startswith("fbssm: error: --device 'tpu' is not available here")
    traced = subprocess.run(command + ["--traceback"], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert traced.returncode == 1 and "Traceback" in traced.stderr and "ValueError: --device 'tpu'" in traced.stderr
