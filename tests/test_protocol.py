"""The one experiment plan: settings, the sweep, the record schema, finding runs, the registry check."""
import math
import types
from dataclasses import dataclass, field

import pytest

from fbssm.experiments import EXPERIMENTS, Setting, experiment, find_run, runs_of
from fbssm.experiments.protocol import (RECORD_KEYS, as_setting, as_settings, check_experiment, checkpoint_path,
                                        run_identity, sweep)
from fbssm.train import TrainConfig


@dataclass(frozen=True)
class Toy:
    scale: str = "quick"
    width: int = 4
    train: TrainConfig = TrainConfig()
    seeds: tuple = (0, 1)
    threads: int | None = None


@pytest.mark.parametrize("fields, name", [
    (dict(alpha=0.0), "alpha"), (dict(alpha=-1.0), "alpha"), (dict(alpha=math.nan), "alpha"),
    (dict(alpha="not a name"), "alpha"), (dict(beta=math.inf), "beta"), (dict(beta="x"), "beta"),
    (dict(name="two words"), "name"), (dict(name=""), "name"),
])
def test_a_bad_setting_is_refused_once_naming_the_field(fields, name):
    with pytest.raises(ValueError, match=name):
        Setting(**fields)


def test_trainable_beta_must_be_a_bool():
    with pytest.raises(TypeError, match="trainable_beta"):
        Setting(1.0, 0.0, "yes")


def test_labels_are_one_token_and_settings_convert():
    assert Setting(1.0, 0.0).label == "a1-b0"
    assert Setting("flip", -0.5).label == "aflip-b-0.5"
    assert Setting(2.0, 0.5, True).label == "a2-b0.5-trained"
    assert Setting(None, 0.0, True, name="tuned").label == "tuned"
    assert as_setting((10, 1)) == Setting(10.0, 1.0)
    assert as_setting((1.0, 0.0), trainable_beta=True).trainable_beta
    assert Setting(None, 0.0, name="tuned").with_alpha(3.0).alpha == 3.0
    with pytest.raises(TypeError, match="setting"):
        as_setting(1.0)
    with pytest.raises(ValueError, match="more than once"):
        as_settings([(1.0, 0.0), (1, 0)])
    with pytest.raises(ValueError, match="at least one"):
        as_settings([])


def test_sweep_leads_every_record_with_the_shared_keys_and_one_checkpoint_per_run(tmp_path):
    calls = []

    def run_one(setting, seed, checkpoint, identity):
        calls.append(checkpoint)
        return {"alpha": 7.0 if setting.alpha == "flip" else setting.alpha, "loss": seed}

    records = sweep("toy", Toy(), [(1.0, 0.0), ("flip", 0.5)], run_one, out=tmp_path, data="toy data")
    assert [tuple(r)[:len(RECORD_KEYS)] for r in records] == [RECORD_KEYS] * 4
    assert [(r["setting"], r["seed"]) for r in records] == [("a1-b0", 0), ("a1-b0", 1), ("aflip-b0.5", 0),
                                                            ("aflip-b0.5", 1)]
    assert records[2]["alpha"] == 7.0 and records[0]["loss"] == 0 and records[1]["loss"] == 1
    assert len(set(calls)) == 4 and all(c.startswith(f"{tmp_path}/checkpoints/toy-quick-") for c in calls)


def test_sweep_checks_out_before_anything_trains(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match="out"):
        sweep("toy", Toy(), [(1.0, 0.0)], lambda *a: pytest.fail("trained"), out=tmp_path / "file")
    with pytest.raises(ValueError, match="alpha"):
        sweep("toy", Toy(), [Setting(None, 0.0, name="tuned")], lambda *a: pytest.fail("trained"))


def test_checkpoint_names_change_with_the_model_not_with_how_it_trains():
    base = run_identity("toy", Toy(), Setting(1.0, 0.0), 0, "data A")
    name = checkpoint_path("out", base)
    assert name.startswith("out/checkpoints/toy-quick-a1-b0-s0-") and name.endswith(".pt")
    assert checkpoint_path("out", run_identity("toy", Toy(seeds=(5,)), Setting(1.0, 0.0), 0, "data A")) == name
    longer = Toy(train=TrainConfig(max_steps=300))
    assert checkpoint_path("out", run_identity("toy", longer, Setting(1.0, 0.0), 0, "data A")) == name
    for other in (run_identity("toy", Toy(width=8), Setting(1.0, 0.0), 0, "data A"),
                  run_identity("toy", Toy(), Setting(1.0, 0.0), 0, "data B"),
                  run_identity("toy", Toy(), Setting(1.0, 0.0, True), 0, "data A")):
        assert checkpoint_path("out", other) != name
    assert checkpoint_path(None, base) is None
    assert "seeds" not in base["config"] and base["config"]["train"]["max_steps"] is None


RESULTS = {"runs": [
    {"setting": "a1-b0", "alpha": 1.0, "beta": 0.0, "trainable_beta": False, "seed": 1, "x": 1},
    {"setting": "a1-b0", "alpha": 1.0, "beta": 0.0, "trainable_beta": False, "seed": 0, "x": 0},
    {"setting": "aflip-b0", "alpha": 156.25, "beta": 0.0, "trainable_beta": False, "seed": 0, "x": 2},
    {"setting": "tuned", "alpha": 3.0, "beta": 0.0, "trainable_beta": True, "seed": 0, "x": 3},
]}


def test_runs_of_and_find_run_read_every_experiment_alike():
    assert [r["x"] for r in runs_of(RESULTS, (1.0, 0.0))] == [0, 1]
    assert [r["x"] for r in runs_of(RESULTS, "a1-b0")] == [0, 1]
    assert find_run(RESULTS, ("flip", 0.0))["x"] == 2
    assert find_run(RESULTS, "tuned")["x"] == 3
    assert find_run(RESULTS, Setting(1.0, 0.0), seed=1)["x"] == 1
    with pytest.raises(KeyError, match="a1-b0"):
        find_run(RESULTS, (2.0, 0.0))


@pytest.mark.parametrize("name", sorted(EXPERIMENTS))
def test_every_registered_experiment_follows_the_protocol(name):
    module = experiment(name)
    assert check_experiment(module) is module
    assert as_settings(module.SETTINGS)


def test_the_registry_check_names_what_a_module_lacks():
    module = types.SimpleNamespace(__name__="fbssm.experiments.half", SETTINGS=(), run=lambda config: None,
                                   QUICK=None, PAPER=None)
    with pytest.raises(TypeError, match="half lacks run_setting.*departures.*run\\(\\) parameters settings"):
        check_experiment(module)
    with pytest.raises(TypeError, match="QUICK, GPU and PAPER"):
        check_experiment(types.SimpleNamespace(__name__="m", SETTINGS=(), run=None, run_setting=None,
                                               departures=None))
