"""Checkpoints that resume only their own run: identities, restart, unreadable files, atomic writes."""
from dataclasses import replace

import pytest
import torch
import torch.multiprocessing as mp

import fbssm
from fbssm.train import CheckpointMismatch, History, TrainConfig, train
from test_distributed import Interrupted, crash_after, mse

CONFIG = TrainConfig(epochs=2, batch_size=8, lr=1e-2, ssm_lr=5e-3, warmup_steps=2, seed=3,
                     log_eigenvalues_every=3, checkpoint_every=2)
IDENTITY = {"experiment": "tiny", "config": {"length": 16, "modes": 4}, "seed": 3}


def tiny_data(n=24, L=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, L, 1, generator=g)
    return x, x.cumsum(1)[:, -1] * 0.1


def tiny_model(seed=0):
    torch.manual_seed(seed)
    return fbssm.SequenceModel(1, d_input=1, d_model=4, n_layers=1, d_state=4, dropout=0.1)


def interrupted_run(checkpoint, calls=5, identity=IDENTITY):
    """A run stopped in step 6, after its checkpoint at step 4."""
    with pytest.raises(Interrupted):
        train(tiny_model(), tiny_data(), crash_after(calls), CONFIG, checkpoint=checkpoint,
              progress=False, identity=identity)


def test_resume_after_an_interruption_gives_the_same_losses(tmp_path):
    reference = train(tiny_model(), tiny_data(), mse, CONFIG, progress=False)
    checkpoint = tmp_path / "run.pt"
    interrupted_run(checkpoint)
    assert torch.load(checkpoint, weights_only=True)["step"] == 4
    resumed = train(tiny_model(seed=99), tiny_data(), mse, CONFIG, checkpoint=checkpoint,
                    progress=False, identity=IDENTITY)
    assert resumed.step_loss == pytest.approx(reference.step_loss, rel=1e-6)
    assert resumed.eigenvalue_steps == reference.eigenvalue_steps == [0, 3, 6]
    assert [e["train_loss"] for e in resumed.epochs] == pytest.approx(
        [e["train_loss"] for e in reference.epochs], rel=1e-6)


@pytest.mark.parametrize("change, fields", [
    (dict(config=replace(CONFIG, max_steps=5)), ["train.max_steps"]),
    (dict(config=replace(CONFIG, lr=2e-2)), ["train.lr"]),
    (dict(data=tiny_data(seed=1)), ["data.fingerprint"]),
    (dict(identity={**IDENTITY, "config": {"length": 32, "modes": 4}}), ["config.length"]),
    (dict(identity={**IDENTITY, "setting": "tuned"}), ["setting"]),
    (dict(identity=None), ["experiment", "config.length", "config.modes", "seed"]),
])
def test_resume_of_another_run_is_refused(tmp_path, change, fields):
    checkpoint = tmp_path / "run.pt"
    interrupted_run(checkpoint)
    before = checkpoint.read_bytes()
    arguments = dict(config=CONFIG, data=tiny_data(), identity=IDENTITY) | change
    with pytest.raises(CheckpointMismatch) as error:
        train(tiny_model(), arguments["data"], mse, arguments["config"], checkpoint=checkpoint,
              progress=False, identity=arguments["identity"])
    message = str(error.value)
    assert isinstance(error.value, ValueError) and "\n" not in message
    assert str(checkpoint) in message and "restart=True" in message and "--out" in message
    for name in fields:
        assert f"{name} " in message
    assert "data.rows" not in message and "train.seed" not in message  # only what differs
    assert checkpoint.read_bytes() == before  # refused before any step


def test_mismatch_names_old_and_new_values(tmp_path):
    checkpoint = tmp_path / "run.pt"
    interrupted_run(checkpoint)
    with pytest.raises(CheckpointMismatch, match="train.max_steps None → 5"):
        train(tiny_model(), tiny_data(), mse, replace(CONFIG, max_steps=5), checkpoint=checkpoint,
              progress=False, identity=IDENTITY)


def test_restart_trains_from_scratch(tmp_path):
    checkpoint = tmp_path / "run.pt"
    interrupted_run(checkpoint)
    changed = replace(CONFIG, lr=2e-2)
    fresh = train(tiny_model(), tiny_data(), mse, changed, progress=False)
    restarted = train(tiny_model(), tiny_data(), mse, changed, checkpoint=checkpoint, progress=False,
                      identity=IDENTITY, restart=True)
    assert restarted.step_loss == pytest.approx(fresh.step_loss, rel=1e-6)
    state = torch.load(checkpoint, weights_only=True)
    assert state["identity"]["train"]["lr"] == 2e-2 and state["step"] == len(fresh.step_loss)
    # the rewritten checkpoint now belongs to the new run, which resumes from it
    again = train(tiny_model(seed=5), tiny_data(), mse, changed, checkpoint=checkpoint, progress=False,
                  identity=IDENTITY)
    assert again.step_loss == restarted.step_loss


@pytest.mark.parametrize("damage", ["truncated", "garbage", "wrong keys"])
def test_unreadable_checkpoint_names_the_file(tmp_path, damage):
    checkpoint = tmp_path / "run.pt"
    interrupted_run(checkpoint)
    if damage == "truncated":
        checkpoint.write_bytes(checkpoint.read_bytes()[:300])
    elif damage == "garbage":
        checkpoint.write_bytes(b"not a checkpoint at all")
    else:
        torch.save({"model": {}, "weights": torch.zeros(2)}, checkpoint)
    with pytest.raises(ValueError) as error:
        train(tiny_model(), tiny_data(), mse, CONFIG, checkpoint=checkpoint, progress=False,
              identity=IDENTITY)
    message = str(error.value)
    assert not isinstance(error.value, CheckpointMismatch)
    assert str(checkpoint) in message and "not a readable checkpoint" in message
    assert "delete it" in message and "restart=True" in message and "\n" not in message
    history = train(tiny_model(), tiny_data(), mse, CONFIG, checkpoint=checkpoint, progress=False,
                    identity=IDENTITY, restart=True)
    assert torch.load(checkpoint, weights_only=True)["step"] == len(history.step_loss)


@pytest.mark.parametrize("pickled_history", [True, False])
def test_checkpoint_without_identity_is_refused(tmp_path, pickled_history):
    checkpoint = tmp_path / "old.pt"
    interrupted_run(checkpoint)
    state = torch.load(checkpoint, weights_only=True)
    del state["identity"]
    if pickled_history:  # how checkpoints were written before they carried identities
        state["history"] = History(**state["history"])
    torch.save(state, checkpoint)
    with pytest.raises(CheckpointMismatch, match="before checkpoints carried") as error:
        train(tiny_model(), tiny_data(), mse, CONFIG, checkpoint=checkpoint, progress=False,
              identity=IDENTITY)
    assert str(checkpoint) in str(error.value) and "restart=True" in str(error.value)


def test_checkpoint_loads_without_pickled_classes(tmp_path):
    checkpoint = tmp_path / "run.pt"
    history = train(tiny_model(), tiny_data(), mse, CONFIG, checkpoint=checkpoint, progress=False,
                    identity=IDENTITY, evaluate=lambda m: {"val": torch.tensor(0.5).numpy().mean()})
    state = torch.load(checkpoint, weights_only=True)
    assert state["history"]["step_loss"] == history.step_loss
    assert state["history"]["epochs"][0]["val"] == 0.5 and type(state["history"]["epochs"][0]["val"]) is float
    assert state["history"]["eigenvalues"][0][0].is_complex()
    identity = state["identity"]
    assert {k: identity[k] for k in IDENTITY} == IDENTITY
    assert identity["train"]["max_steps"] is None and identity["train"]["lr"] == CONFIG.lr
    assert identity["data"]["rows"] == 24 and len(identity["data"]["fingerprint"]) == 16
    assert identity["fbssm"] == fbssm.__version__
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.pt"]  # no temporary files left


def test_data_fingerprint_sees_values_shapes_and_dtypes():
    from fbssm.train import data_fingerprint
    x, y = tiny_data()
    base = data_fingerprint((x, y))
    assert data_fingerprint((x.clone(), y.clone())) == base
    assert data_fingerprint((x, y + 1e-6)) != base
    assert data_fingerprint((x.reshape(24, 1, 16), y)) != base
    assert data_fingerprint((x.double(), y)) != base
    assert data_fingerprint((y, x)) != base


def _train_beside_another(rank, folder):
    torch.set_num_threads(1)
    config = replace(CONFIG, checkpoint_every=1, epochs=3, batch_size=4)
    for checkpoint in (f"{folder}/shared.pt", f"{folder}/own-{rank}.pt"):
        train(tiny_model(), tiny_data(), mse, config, checkpoint=checkpoint, progress=False,
              identity=IDENTITY, restart=True)


def test_two_processes_write_checkpoints_into_one_folder(tmp_path):
    mp.spawn(_train_beside_another, args=(str(tmp_path),), nprocs=2, join=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["own-0.pt", "own-1.pt", "shared.pt"]
    for path in tmp_path.iterdir():
        state = torch.load(path, weights_only=True)
        assert state["step"] == 18 and state["identity"]["experiment"] == "tiny"


def poisoned(model, batch):
    return mse(model, batch) * float("nan")


def test_nan_at_step_0_names_no_checkpoint(tmp_path):
    checkpoint = tmp_path / "run.pt"
    with pytest.raises(FloatingPointError, match="loss became nan at epoch 1, step 0") as error:
        train(tiny_model(), tiny_data(), poisoned, CONFIG, checkpoint=checkpoint, progress=False)
    assert str(checkpoint) not in str(error.value) and "no checkpoint of this run" in str(error.value)
    assert not checkpoint.exists()
    interrupted_run(checkpoint)  # a file now exists, but a restarted run has written none
    with pytest.raises(FloatingPointError) as error:
        train(tiny_model(), tiny_data(), poisoned, CONFIG, checkpoint=checkpoint, progress=False,
              identity=IDENTITY, restart=True)
    assert str(checkpoint) not in str(error.value)


def test_nan_after_a_checkpoint_names_it(tmp_path):
    checkpoint = tmp_path / "run.pt"
    interrupted_run(checkpoint)
    with pytest.raises(FloatingPointError, match="step 4") as error:
        train(tiny_model(), tiny_data(), poisoned, CONFIG, checkpoint=checkpoint, progress=False,
              identity=IDENTITY)
    assert f"the last checkpoint (step 4) is {checkpoint}" in str(error.value)


@pytest.mark.parametrize("identity, error", [("tiny", TypeError), ({"x": object()}, TypeError),
                                             ({"data": "lfw"}, ValueError)])
def test_identity_must_be_a_plain_dict(tmp_path, identity, error):
    with pytest.raises(error, match="identity"):
        train(tiny_model(), tiny_data(), mse, CONFIG, checkpoint=tmp_path / "run.pt", progress=False,
              identity=identity)


def test_calls_without_identity_write_and_resume_checkpoints(tmp_path):
    reference = train(tiny_model(), tiny_data(), mse, CONFIG, progress=False)
    checkpoint = tmp_path / "run.pt"
    interrupted_run(checkpoint, identity=None)
    resumed = train(tiny_model(seed=99), tiny_data(), mse, CONFIG, checkpoint=checkpoint, progress=False)
    assert resumed.step_loss == pytest.approx(reference.step_loss, rel=1e-6)
    assert set(torch.load(checkpoint, weights_only=True)["identity"]) == {"train", "data", "fbssm"}
