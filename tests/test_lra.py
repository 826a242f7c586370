"""Long Range Arena: the paper's configurations, the models' shapes, the data choices and the CLI."""
import json
import math
from dataclasses import replace

import pytest
import torch

from fbssm import S4D, diagonal_init, param_groups
from fbssm.__main__ import main
from fbssm.data import DatasetNotFound
from fbssm.data import lra as lra_data
from fbssm.experiments import EXPERIMENTS, Setting, config_for, experiment, lra, runs_of
from fbssm.experiments.classification import loss_fn, model_inputs
from lra_fixtures import MAX_2_9, NESTED, write_aan, write_imdb, write_listops, write_pathfinder_images
from test_cifar_mnist_data import write_cifar

# The authors' config files (configs/experiment/lra/bias-s4-<task>.yaml), written out here, not read
# back; ListOps' N = 2 is the paper's text (its file: 64). SSM lr is the files' lr of A, α their
# `freqscale`, shared a_j their `n_ssm: 1`, steps / warm-up the cosine schedule's.
# task: (L, H, norm, prenorm, dropout, lr, SSM lr, batch, WD, α, Δ min, steps, warm-up, N, shared a_j)
TABLE = {
    "listops": (2048, 128, "batch", True, 0.0, 0.008, 0.004, 32, 0.03, 3, 1e-3, 150_000, 5_000, 2, True),
    "text": (4096, 256, "batch", True, 0.0, 0.01, 0.001, 32, 0.05, 5, 1e-3, 20_000, 2_000, 64, True),
    "retrieval": (4000, 128, "batch", True, 0.0, 0.004, 0.001, 64, 0.03, 3, 1e-3, 100_000, 5_000, 64, True),
    "image": (1024, 512, "layer", False, 0.1, 0.01, 0.001, 50, 0.01, 3, 1e-3, 180_000, 18_000, 64, False),
    "pathfinder": (1024, 256, "batch", True, 0.0, 0.004, 0.001, 50, 0.03, 3, 1e-3, 800_000, 150_000, 64,
                   True),
    "pathx": (16384, 128, "batch", True, 0.0, 0.001, 0.001, 20, 0.03, 5, 1e-4, 1_250_000, 200_000, 64, False),
}
CLASSES = {"listops": 10, "text": 2, "retrieval": 2, "image": 10, "pathfinder": 2, "pathx": 2}
# The files' trainer.max_epochs, and Δ's learning rate (`lr: {dt: null}` = the optimiser's lr on
# the token tasks, `lr: 0.001` for Δ and A together on the pixel tasks).
MAX_EPOCHS = {"listops": 160, "text": 200, "retrieval": 40, "image": 1200, "pathfinder": 300, "pathx": 150}
DT_LR = {"listops": 0.008, "text": 0.01, "retrieval": 0.004, "image": 0.001, "pathfinder": 0.001,
         "pathx": 0.001}
# Training rows the official loaders give (Image: CIFAR-10's 50,000 less the 5,000 held out).
TRAIN_ROWS = {"listops": 96_000, "text": 25_000, "retrieval": 147_086, "image": 45_000,
              "pathfinder": 160_000, "pathx": 160_000}


def tiny(task, **changes):
    """The quick configuration shrunk to a unit-test size."""
    config = lra.config_for_task(task, "quick")
    return replace(config, **{"l_max": min(config.l_max, 64), "d_model": 8, "n_layers": 2, "d_state": 4,
                              **changes})


@pytest.mark.parametrize("task", lra.TASKS)
def test_paper_configs_are_the_papers_table(task):
    L, H, norm, prenorm, dropout, lr, ssm_lr, batch, wd, alpha, dt_min, steps, warmup, N, shared = TABLE[task]
    c = lra.config_for_task(task, "paper")
    assert (c.l_max, c.d_model, c.norm, c.prenorm, c.dropout) == (L, H, norm, prenorm, dropout)
    assert (c.train.lr, c.train.ssm_lr, c.batch_size, c.train.weight_decay) == (lr, ssm_lr, batch, wd)
    assert (c.alpha, c.dt_min, c.dt_max) == (alpha, dt_min, 0.1)
    assert (c.train.max_steps, c.train.warmup_steps) == (steps, warmup)
    assert (c.d_state, c.shared_eigenvalues) == (N, shared)
    assert lra.LRA_TRAIN_SIZES[task] == TRAIN_ROWS[task]
    per_epoch = math.ceil(TRAIN_ROWS[task] / batch)
    assert (c.train.epochs - 1) * per_epoch < steps <= c.train.epochs * per_epoch  # the schedule is run whole
    assert (c.n_layers, c.bidirectional, c.train.beta_lr, len(c.seeds)) == (6, True, 0.01, 5)
    assert c.init == "lin"  # the files say `init: legs`; their diagonal kernel builds S4D-Lin × α
    assert c.pooling == ("last" if task == "listops" else "mean")
    assert c.data == "lra" and c.n_classes == CLASSES[task]
    assert config_for(f"lra-{task}", "paper") == c and EXPERIMENTS[f"lra-{task}"] == "lra"
    assert (lra.CONFIG_FILE_MAX_EPOCHS[task], lra.CONFIG_FILE_DT_LR[task]) == (MAX_EPOCHS[task], DT_LR[task])


def test_only_the_confirmed_average_of_table_3_is_kept():
    assert lra.PAPER_LRA_AVERAGE == 88.26  # the abstract of arXiv 2410.02035
    assert not hasattr(lra, "PAPER_TABLE_3") and not hasattr(lra, "PEER_AVERAGES")


@pytest.mark.parametrize("task", lra.TASKS)
def test_quick_configs_keep_what_the_departure_table_says(task):
    paper, quick = lra.config_for_task(task, "paper"), lra.config_for_task(task, "quick")
    kept = ("alpha", "init", "norm", "prenorm", "dropout", "dt_min", "dt_max", "shared_eigenvalues",
            "bidirectional")
    assert all(getattr(quick, k) == getattr(paper, k) for k in kept)
    assert quick.pooling == "mean"  # ListOps' paper configuration reads the last step
    assert (quick.train.weight_decay, quick.train.beta_lr) == (paper.train.weight_decay, 0.01)
    assert math.isclose(quick.train.ssm_lr / quick.train.lr, paper.train.ssm_lr / paper.train.lr)
    assert quick.train.warmup_steps == 10 and quick.train.max_steps is None and len(quick.seeds) == 3


def test_legs_init_is_offered_and_pooling_last_reads_the_last_real_step():
    config = tiny("pathfinder", init="legs")
    model = lra.build_model(config, config.alpha)
    expected = diagonal_init("legs", config.d_state, config.alpha)
    for layer in (m for m in model.modules() if isinstance(m, S4D)):
        torch.testing.assert_close(layer.A[0], expected)
    listops = replace(tiny("listops"), pooling=lra.config_for_task("listops", "paper").pooling)
    assert listops.pooling == "last"
    torch.manual_seed(0)
    model = lra.build_model(listops, listops.alpha).eval()
    tokens, _, _ = lra.example_batch(listops, batch_size=3)
    lengths = torch.tensor([64, 20, 7])
    with torch.no_grad():
        features = model.encode(tokens)
        torch.testing.assert_close(model(tokens, lengths), model.decoder(features[torch.arange(3), lengths - 1]))


def test_listops_offers_the_config_files_64_modes():
    assert lra.config_for_task("listops", "paper", d_state=64).d_state == 64
    assert lra.config_for_task("listops", "paper").d_state == 2


def test_settings_are_plain_s4d_and_the_tuned_one():
    config = tiny("pathfinder")
    plain = lra.build_model(config, 1.0, 0.0, trainable_beta=False)
    tuned = lra.build_model(config, config.alpha, 0.0, trainable_beta=True)
    n = torch.arange(config.d_state, dtype=torch.float32)
    for model, alpha in ((plain, 1.0), (tuned, config.alpha)):
        layers = [m for m in model.modules() if isinstance(m, S4D)]
        assert len(layers) == config.n_layers
        for layer in layers:
            assert layer.A.shape == (1, config.d_state)  # shared on Pathfinder
            torch.testing.assert_close(layer.A.imag[0], alpha * math.pi * n)
    assert not any(m.beta.requires_grad for m in plain.modules() if isinstance(m, S4D))
    betas = [m.beta for m in tuned.modules() if isinstance(m, S4D)]
    assert all(b.requires_grad and b.shape == (config.d_model,) and (b == 0).all() for b in betas)
    groups = {g["name"]: g for g in param_groups(tuned, config.train.lr, config.train.weight_decay,
                                                   config.train.ssm_lr, config.train.beta_lr)}
    assert (groups["beta"]["lr"], groups["beta"]["weight_decay"]) == (0.01, 0.0)
    assert (groups["ssm"]["lr"], groups["ssm"]["weight_decay"]) == (config.train.ssm_lr, 0.0)
    image = lra.build_model(tiny("image"), 3.0)
    assert next(m for m in image.modules() if isinstance(m, S4D)).A.shape == (8, 4)  # per channel
    assert lra.TUNED == Setting(None, 0.0, True, name="tuned") and lra.TUNED.with_alpha(config.alpha).alpha == 3.0
    assert lra.PLAIN == Setting(1.0, 0.0, False, name="plain") and lra.PLAIN.with_alpha(config.alpha).alpha == 1.0


@pytest.mark.parametrize("task", lra.TASKS)
def test_models_give_one_logit_per_class(task):
    config = tiny(task)
    torch.manual_seed(0)
    model = lra.build_model(config, config.alpha)
    batch = lra.example_batch(config, batch_size=3)
    if task in ("listops", "text"):
        assert batch[0].shape == (3, config.l_max) and batch[0].dtype == torch.long
    elif task == "retrieval":
        assert batch[0].shape == (3, 2, config.l_max) and batch[1].shape == (3, 2)
    else:
        assert batch[0].shape == (3, config.l_max, 1) and batch[0].dtype == torch.float32
    (x, lengths), labels = model_inputs(batch)
    assert model(x, lengths).shape == (3, CLASSES[task]) and labels.shape == (3,)
    loss = loss_fn(model, batch)
    loss.backward()
    assert math.isfinite(loss.item())


def test_retrieval_encodes_each_document_alone_and_swaps_sensibly():
    config = tiny("retrieval")
    torch.manual_seed(0)
    model = lra.build_model(config, 3.0).eval()
    tokens, _, _ = lra.example_batch(config, batch_size=4)
    lengths = torch.tensor([[64, 10], [30, 64], [5, 7], [64, 64]])
    tokens = tokens * (torch.arange(64) < lengths.unsqueeze(-1))  # padding after each length
    with torch.no_grad():
        features = model.features(tokens, lengths)
        swapped = model.features(tokens.flip(1), lengths.flip(1))
        alone = model.encoder(tokens[:, 1], lengths[:, 1])
    H = config.d_model
    x1, x2, product, difference = features.split(H, -1)
    torch.testing.assert_close(x2, alone)                    # the same encoder, each document alone
    torch.testing.assert_close(swapped, torch.cat([x2, x1, product, -difference], -1))
    assert model(tokens, lengths).shape == (4, 2)
    with pytest.raises(ValueError, match="x must have shape"):
        model(tokens[:, 0], lengths[:, 0])


def test_generated_and_stand_in_data_are_labelled(monkeypatch, tmp_path):
    monkeypatch.setenv("FBSSM_DATA", str(tmp_path))
    for task in lra.TASKS:
        config = tiny(task, n_train=8, n_val=4, n_test=4, l_max=lra.config_for_task(task, "quick").l_max,
                      offline={**lra.config_for_task(task, "quick").offline})
        data = lra_data.load_task_data(config)
        assert data.sizes() == {"train": 8, "val": 4, "test": 4}
        assert "official files not found" in data.source
        assert data.synthetic == (task not in ("listops", "pathfinder"))
        assert (lra_data.STAND_IN in data.source) == data.synthetic
        x = data.train[0]
        assert x.shape[-1 if task not in ("image", "pathfinder", "pathx") else -2] == config.l_max
    words = lra_data.clue_text(50, 40, seed=3)
    for tokens, label in zip(words[0], words[2]):
        text = bytes((tokens - 1).tolist()).decode()
        assert (" good " in text) == (label == 0) and (" bad " in text) == (label == 1)
    pairs, _, labels = lra_data.cited_pairs(200, 30, key_bytes=3, seed=1)
    assert 0.3 < labels.float().mean() < 0.7


def test_quick_run_records_curves_steps_and_learned_beta(tmp_path):
    config = tiny("listops", n_train=64, n_val=16, n_test=16, seeds=(0, 1), data="offline",
                  train=replace(lra.config_for_task("listops", "quick").train, epochs=2, batch_size=16))
    results = lra.run(config, out=tmp_path, progress=False)
    stored = json.loads((tmp_path / "lra-listops-quick.json").read_text())
    assert stored["data"].startswith("generated ListOps") and stored["synthetic"] is False
    assert [(r["setting"], r["seed"]) for r in stored["runs"]] == [("plain", 0), ("plain", 1),
                                                                   ("tuned", 0), ("tuned", 1)]
    for entry in stored["runs"]:
        assert entry["steps"] == 8 and len(entry["epochs"]) == 2
        assert 0 <= entry["test_accuracy"] <= 1 and len(entry["learned_beta"]) == config.n_layers
        assert all(len(b) == config.d_model for b in entry["learned_beta"])
    plain, tuned = runs_of(results, "plain")[0], runs_of(results, "tuned")[0]
    assert all(b == 0 for layer in plain["learned_beta"] for b in layer)        # fixed
    assert any(b != 0 for layer in tuned["learned_beta"] for b in layer)        # trained from 0
    assert tuned["alpha"] == 3.0 and stored["settings"][1]["trainable_beta"] is True


@pytest.mark.parametrize("task", lra.TASKS)
def test_paper_scale_needs_the_official_files(task, tmp_path, monkeypatch):
    monkeypatch.setenv("FBSSM_DATA", str(tmp_path))
    with pytest.raises(DatasetNotFound):
        lra_data.load_task_data(lra.config_for_task(task, "paper"))
    with pytest.raises(ValueError, match="data must be 'lra' at the paper scale"):
        lra_data.load_task_data(lra.config_for_task(task, "paper", data="auto"))


def test_bad_task_names():
    for bad in ("nope", "LISTOPS", ""):
        with pytest.raises(ValueError, match="task"):
            lra.config_for_task(bad)
    with pytest.raises(ValueError, match="experiment"):
        experiment("lra-nope")
    with pytest.raises(SystemExit):
        main(["run", "lra-nope"])
    with pytest.raises(ValueError, match="data"):
        lra_data.load_task_data(tiny("text", data="files"))


def write_fixtures(root):
    """Every LRA dataset in its official layout under root (= $FBSSM_DATA)."""
    rows = [(MAX_2_9, 9), (NESTED, 2), ("( ( ( [SM 7 ) 5 ) ] )", 2)]
    write_listops(root / "listops", {"train": rows, "val": rows[:2], "test": rows[1:]})
    write_imdb(root / "imdb", per_class=2)
    write_aan(root / "aan")
    write_cifar(root / "cifar10")
    write_pathfinder_images(root / "pathfinder", 32, n=20)
    write_pathfinder_images(root / "pathfinder", 128, n=20)


def test_cli_runs_every_task_on_the_official_formats(tmp_path, monkeypatch, capsys):
    data = tmp_path / "data"
    write_fixtures(data)
    monkeypatch.setenv("FBSSM_DATA", str(data))
    for task in lra.TASKS:
        out = tmp_path / "out"
        assert main(["run", f"lra-{task}", "--seed", "0", "--max-steps", "2", "--out", str(out),
                     "--no-progress"]) == 0
        stored = json.loads((out / f"lra-{task}-quick.json").read_text())
        assert str(data) in stored["data"] and stored["synthetic"] is False
        assert [(r["setting"], r["steps"]) for r in stored["runs"]] == [("plain", 2), ("tuned", 2)]
        assert stored["config"]["train"]["max_steps"] == 2
        assert stored["config"]["train"]["checkpoint_every"] == 0
        assert f"data: {stored['data']}" in capsys.readouterr().err
    with pytest.warns(UserWarning, match="held the results of another sweep"):  # kept aside, not lost
        assert main(["run", "lra-text", "--alpha", "2", "--beta", "0.5", "--seed", "3", "--max-steps", "1",
                     "--checkpoint-every", "1", "--out", str(out), "--no-progress"]) == 0
    stored = json.loads((out / "lra-text-quick.json").read_text())
    assert stored["config"]["train"]["checkpoint_every"] == 1
    (entry,) = stored["runs"]
    assert (entry["alpha"], entry["beta"], entry["trainable_beta"]) == (2.0, 0.5, True)
    assert main(["list"]) == 0
    listing = capsys.readouterr().out
    assert all(f"lra-{task}: settings plain" in listing for task in lra.TASKS)


def test_cli_says_when_it_used_a_stand_in(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("FBSSM_DATA", str(tmp_path / "empty"))
    monkeypatch.setitem(lra.QUICK, "text", replace(tiny("text"), n_train=16, n_val=8, n_test=8))
    assert main(["run", "lra-text", "--seed", "0", "--max-steps", "1", "--out", str(tmp_path),
                 "--no-progress"]) == 0
    assert lra_data.STAND_IN in capsys.readouterr().err
    stored = json.loads((tmp_path / "lra-text-quick.json").read_text())
    assert stored["synthetic"] is True and lra_data.STAND_IN in stored["data"]



def test_settings_are_described_and_pairs_train_beta():
    config = tiny("listops")
    assert lra.describe(lra.TUNED, config) == "tuned (α = 3, β trainable from 0)"
    assert lra.describe(lra.TUNED) == "tuned (α = the task's α, β trainable from 0)"
    assert lra.describe(lra.PLAIN, config) == "plain (α = 1, β = 0 fixed)"
    assert lra.describe((2.0, 0.5)) == "a2-b0.5-trained (α = 2, β trainable from 0.5)"
    assert lra.describe_settings("listops", "quick").startswith("plain (α = 1, β = 0 fixed), tuned (α = 3")
    with pytest.raises(ValueError, match="settings must differ"):
        lra.run(config, settings=[lra.PLAIN, lra.PLAIN], progress=False)
    with pytest.raises(ValueError, match="alpha must be a finite number > 0"):
        lra.run(config, settings=[(-1.0, 0.0)], progress=False)


def test_records_follow_the_protocol_and_checkpoints_know_their_run(tmp_path, monkeypatch):
    from fbssm.experiments.protocol import RECORD_KEYS
    from fbssm.train import CheckpointMismatch
    config = tiny("listops", n_train=32, n_val=8, n_test=8, seeds=(0,), data="offline",
                  train=replace(lra.config_for_task("listops", "quick").train, epochs=1, batch_size=16))
    data = lra_data.load_task_data(config)
    first = lra.run(config, settings=[(2.0, 0.5)], out=tmp_path, progress=False, data=data)
    (record,) = first["runs"]
    assert tuple(record)[:len(RECORD_KEYS)] == RECORD_KEYS
    assert (record["setting"], record["alpha"], record["beta"], record["trainable_beta"]) == \
        ("a2-b0.5-trained", 2.0, 0.5, True)
    assert first["settings"][0]["label"] == "a2-b0.5-trained (α = 2, β trainable from 0.5)"
    assert first["experiment"] == "lra-listops" and first["task"] == "listops"
    (checkpoint,) = (tmp_path / "checkpoints").glob("lra-listops-quick-a2-b0.5-trained-s0-*.pt")
    splits = []
    monkeypatch.setattr(lra, "accuracy", lambda model, split, *args: splits.append(split) or 0.5)
    again = lra.run(config, settings=[(2.0, 0.5)], out=tmp_path, progress=False, data=data)
    assert again["runs"][0]["epochs"] == record["epochs"]                  # resumed at its end:
    assert splits == [data.test]                                            # no epoch evaluated
    other = replace(config, train=replace(config.train, lr=0.002))
    with pytest.raises(CheckpointMismatch, match=str(checkpoint)):
        lra.run(other, settings=[(2.0, 0.5)], out=tmp_path, progress=False, data=data)
    with pytest.warns(UserWarning, match="held the results of another sweep"):
        fresh = lra.run(other, settings=[(2.0, 0.5)], out=tmp_path, progress=False, data=data, restart=True)
    assert splits[1:] == [data.val, data.test]                              # trained again
    assert fresh["runs"][0]["steps"] == 2 and fresh["config"]["train"]["lr"] == 0.002


@pytest.mark.parametrize("task", lra.TASKS)
def test_departures_name_every_change_from_the_paper_with_its_reason(task):
    from fbssm.experiments.departures import departure_table
    paper = lra.departures(lra.config_for_task(task, "paper"))
    assert not any(row.departs for row in paper)
    quick = {row.setting: row for row in lra.departures(lra.config_for_task(task, "quick"))}
    assert quick["H"].departs and quick["H"].authors == str(lra.config_for_task(task, "paper").d_model)
    assert quick["data"].ours == "the LRA files when found, else generated or stand-in"
    assert not quick["α (tuned)"].departs and all(row.reason for row in quick.values() if row.departs)
    assert "| H |" in departure_table(quick.values())
    with pytest.raises(ValueError, match="data must be one of"):
        lra.departures(tiny(task, data="files"))


class Echo(torch.nn.Module):
    """Logits = the inputs (batch, classes); counts its calls and the lengths it was given."""

    def __init__(self):
        super().__init__()
        self.calls, self.lengths = 0, []

    def forward(self, x, lengths=None):
        self.calls += 1
        self.lengths.append(lengths)
        return x


def test_accuracy_counts_every_row_in_batches_and_restores_the_mode():
    from fbssm.experiments.classification import accuracy, majority_rate
    logits = torch.eye(3)[torch.tensor([0, 1, 2, 0, 1, 2, 0])]
    labels = torch.tensor([0, 1, 0, 0, 2, 2, 1])                 # 4 of 7 right
    model = Echo().train()
    assert accuracy(model, (logits, labels), batch_size=3, device="cpu") == 4 / 7
    assert model.calls == 3 and model.training                  # 3 + 3 + 1 rows
    lengths = torch.arange(7)
    model = Echo().eval()
    assert accuracy(model, (logits, lengths, labels), batch_size=5, device="cpu") == 4 / 7
    assert [t.tolist() for t in model.lengths] == [[0, 1, 2, 3, 4], [5, 6]] and not model.training
    with pytest.raises(ValueError, match="split must hold at least one row"):
        accuracy(model, (logits[:0], labels[:0]), device="cpu")
    assert majority_rate(labels) == 3 / 7
    (x, no_lengths), _ = model_inputs((torch.ones(2, 4, dtype=torch.int16), labels[:2]))
    assert x.dtype == torch.long and no_lengths is None
