"""save_results merges the runs of one sweep into one file, moves any other file aside, and loses
no record when two processes write the same file at once."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from fbssm.results import load_results, merge_results, mergeable, run_key, save_results, stored_results

ROOT = Path(__file__).resolve().parent.parent


def results(*runs, seeds=None, fingerprint="f00d", lr=0.01, **extra):
    """A small results dict of the sweep "waves"/"quick" holding `runs` ((setting, seed, mse) each)."""
    records = [{"setting": setting, "seed": seed, "mse": mse} for setting, seed, mse in runs]
    seeds = sorted({seed for _, seed, _ in runs}) if seeds is None else seeds
    return {"experiment": "waves", "scale": "quick", "config": {"seeds": seeds, "train": {"lr": lr}},
            **extra, "runs": records, "meta": {"code": {"module": "fbssm.experiments.waves",
                                                        "fingerprint": fingerprint}}}


def records(path):
    return [(r["setting"], r["seed"], r["mse"]) for r in load_results(path)["runs"]]


def test_run_key_names_the_missing_key():
    assert run_key({"setting": "plain", "seed": 3, "mse": 1.0}) == ("plain", 3)
    for record, missing in (({"seed": 0}, "setting"), ({"setting": "plain"}, "seed")):
        with pytest.raises(ValueError, match=repr(missing)):
            run_key(record)


def test_a_record_of_the_same_key_is_replaced_in_place_and_new_keys_appended(tmp_path):
    path = tmp_path / "waves-quick.json"
    save_results(path, results(("plain", 0, 1.0), ("tuned", 0, 2.0), ("plain", 1, 3.0)))
    save_results(path, results(("tuned", 0, 20.0), ("tuned", 1, 40.0)))
    assert records(path) == [("plain", 0, 1.0), ("tuned", 0, 20.0), ("plain", 1, 3.0), ("tuned", 1, 40.0)]
    assert list(tmp_path.glob("*.replaced-*")) == []


def test_seeds_become_the_union_and_meta_the_new_runs(tmp_path):
    path = tmp_path / "waves-quick.json"
    save_results(path, results(("plain", 0, 1.0), ("plain", 2, 1.0)))
    newer = results(("plain", 1, 1.0), ("plain", 5, 1.0))
    newer["meta"]["date"] = "later"
    save_results(path, newer)
    merged = load_results(path)
    assert merged["config"]["seeds"] == [0, 1, 2, 5]
    assert merged["meta"]["date"] == "later" and merged["config"]["train"] == {"lr": 0.01}


def test_merge_results_keeps_the_inputs():
    old, new = results(("plain", 0, 1.0)), results(("plain", 0, 2.0), ("plain", 1, 3.0))
    merged = merge_results(old, new)
    assert [r["mse"] for r in merged["runs"]] == [2.0, 3.0] and merged["config"]["seeds"] == [0, 1]
    assert [r["mse"] for r in old["runs"]] == [1.0] and old["config"]["seeds"] == [0]
    with pytest.raises(ValueError, match="'seed'"):
        merge_results(old, {**new, "runs": [{"setting": "plain"}]})


@pytest.mark.parametrize("change", [
    {"fingerprint": "beef"},            # other code
    {"lr": 0.1},                        # another configuration
    {"data": "elsewhere"},              # another top-level value
])
def test_another_sweep_moves_the_old_file_aside(tmp_path, change):
    path = tmp_path / "waves-quick.json"
    save_results(path, results(("plain", 0, 1.0), data="here"))
    kept = path.read_text()
    other = results(("plain", 0, 2.0), **{"data": "here", **change})
    assert not mergeable(load_results(path), other)
    with pytest.warns(UserWarning, match="another sweep") as caught:
        save_results(path, other)
    (aside,) = tmp_path.glob("waves-quick.replaced-*.json")
    assert aside.read_text() == kept and records(path) == [("plain", 0, 2.0)]
    message = str(caught[0].message)
    assert str(path) in message and str(aside) in message


def test_another_experiment_or_scale_is_not_mergeable():
    old = results(("plain", 0, 1.0))
    assert mergeable(old, results(("plain", 1, 1.0), seeds=[7]))
    assert not mergeable(old, {**old, "experiment": "scifar"})
    assert not mergeable(old, {**old, "scale": "paper"})
    assert not mergeable(old, {**old, "runs": [{"seed": 0}]})


def test_a_corrupt_old_file_is_moved_aside(tmp_path):
    path = tmp_path / "waves-quick.json"
    path.write_text('{"experiment": "waves", "runs": [')
    with pytest.warns(UserWarning, match="not valid JSON") as caught:
        save_results(path, results(("plain", 0, 1.0)))
    (aside,) = tmp_path.glob("waves-quick.replaced-*.json")
    assert aside.read_text() == '{"experiment": "waves", "runs": ['
    assert records(path) == [("plain", 0, 1.0)]
    assert str(aside) in str(caught[0].message)


def test_two_replacements_keep_both_old_files(tmp_path):
    path = tmp_path / "waves-quick.json"
    save_results(path, results(("plain", 0, 1.0), fingerprint="a"))
    for fingerprint in ("b", "c"):
        with pytest.warns(UserWarning, match="another sweep"):
            save_results(path, results(("plain", 0, 1.0), fingerprint=fingerprint))
    assert len(list(tmp_path.glob("waves-quick.replaced-*.json"))) == 2
    found = stored_results("waves-", folder=tmp_path)
    assert "waves-quick" in found and not any("replaced" in name for name in found)


WRITER = """
import sys, time
from pathlib import Path
from fbssm.results import save_results
path, name, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
(path.parent / f"ready-{name}").touch()
while len(list(path.parent.glob("ready-*"))) < 2:
    time.sleep(0.01)
for seed in range(count):
    save_results(path, {"experiment": "waves", "scale": "quick", "config": {"seeds": [seed]},
                        "runs": [{"setting": name, "seed": seed}], "meta": {"code": {"fingerprint": "f"}}})
"""


def test_two_processes_writing_one_file_lose_no_record(tmp_path):
    path, count = tmp_path / "waves-quick.json", 40
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), name, str(count)], cwd=ROOT,
                                stderr=subprocess.PIPE, text=True) for name in ("plain", "tuned")]
    for writer in writers:
        assert writer.wait(timeout=300) == 0, writer.stderr.read()
    merged = load_results(path)
    assert {run_key(r) for r in merged["runs"]} == {(n, s) for n in ("plain", "tuned") for s in range(count)}
    assert len(merged["runs"]) == 2 * count and merged["config"]["seeds"] == list(range(count))
    assert list(tmp_path.glob("*.replaced-*")) == [] and list(tmp_path.glob(".*.tmp")) == []
    assert json.loads(path.read_text()) == merged
