import math
from dataclasses import replace

import pytest
import torch

import fbssm
from fbssm.train import TrainConfig, cosine_with_warmup, train


def regression_data(n=48, L=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, L, 1, generator=g)
    y = x.cumsum(1)[:, -1] * 0.1
    return x, y


def small_model(seed=0):
    torch.manual_seed(seed)
    return fbssm.SequenceModel(1, d_input=1, d_model=4, n_layers=1, d_state=4, dropout=0.1,
                               trainable_beta=True)


def mse(model, batch):
    x, y = batch
    return torch.nn.functional.mse_loss(model(x), y)


CONFIG = TrainConfig(epochs=3, batch_size=8, lr=1e-2, ssm_lr=5e-3, warmup_steps=2, seed=3,
                     log_eigenvalues_every=4, checkpoint_every=5)


def test_training_reduces_loss_and_logs_eigenvalues():
    history = train(small_model(), regression_data(), mse, CONFIG, progress=False,
                    evaluate=lambda m: {"val": 1.0})
    assert len(history.step_loss) == 3 * 6
    assert sum(history.step_loss[-6:]) < sum(history.step_loss[:6])
    steps, A = history.eigenvalue_log()
    assert steps[0] == 0 and steps[-1] == 18 and A.shape == (len(steps), 4, 4)
    assert [e["epoch"] for e in history.epochs] == [1, 2, 3] and history.epochs[0]["val"] == 1.0


def test_resumed_run_matches_uninterrupted_run(tmp_path):
    reference_model = small_model()
    reference = train(reference_model, regression_data(), mse, CONFIG, progress=False)

    calls = {"n": 0}

    def crashing(model, batch):
        calls["n"] += 1
        if calls["n"] == 13:  # dies mid-epoch 3, after the checkpoint at step 10
            raise KeyboardInterrupt
        return mse(model, batch)

    checkpoint = tmp_path / "run.pt"
    with pytest.raises(KeyboardInterrupt):
        train(small_model(), regression_data(), crashing, CONFIG, checkpoint=checkpoint, progress=False)
    assert checkpoint.exists() and not checkpoint.with_suffix(".pt.tmp").exists()
    resumed_model = small_model(seed=99)  # weights come from the checkpoint, not from this init
    resumed = train(resumed_model, regression_data(), mse, CONFIG, checkpoint=checkpoint, progress=False)

    assert resumed.step_loss == pytest.approx(reference.step_loss, rel=1e-6)
    assert [e["train_loss"] for e in resumed.epochs] == pytest.approx(
        [e["train_loss"] for e in reference.epochs], rel=1e-6)
    for (name, a), b in zip(reference_model.state_dict().items(), resumed_model.state_dict().values()):
        torch.testing.assert_close(a, b, msg=name)


def test_nan_loss_stops_with_a_message():
    def poisoned(model, batch):
        return mse(model, batch) * float("nan")
    with pytest.raises(FloatingPointError, match="loss became nan at epoch 1, step 0"):
        train(small_model(), regression_data(), poisoned, CONFIG, progress=False)


def test_cosine_schedule_shape():
    f = cosine_with_warmup(100, 10)
    assert f(0) == pytest.approx(0.1) and f(9) == pytest.approx(1.0)
    assert f(55) == pytest.approx(0.5) and f(100) == pytest.approx(0.0, abs=1e-12)


def test_results_file_roundtrip(tmp_path):
    from fbssm.results import load_results, run_metadata, save_results
    meta = run_metadata()
    assert {"date", "fbssm", "hardware"} <= meta.keys()
    path = save_results(tmp_path / "r.json", {"meta": meta, "x": torch.tensor([1.0, 2.0])})
    assert load_results(path)["x"] == [1.0, 2.0]


# --- gradient accumulation, mixed precision, torch.compile ---------------------------------------

def deterministic_model(seed=0):
    """small_model without dropout: its masks depend on how a batch is split."""
    torch.manual_seed(seed)
    return fbssm.SequenceModel(1, d_input=1, d_model=4, n_layers=2, d_state=4, trainable_beta=True)


def assert_same_state(a, b, rtol=1e-5):
    for (name, x), y in zip(a.state_dict().items(), b.state_dict().values()):
        torch.testing.assert_close(y, x, rtol=rtol, atol=1e-7, msg=name)


def test_accumulated_micro_batches_take_the_whole_batch_step():
    # 21 rows in batches of 8: micro-batches of 3 + 3 + 2 rows, and 2 + 2 + 1 for the last batch
    config = TrainConfig(epochs=2, batch_size=8, lr=1e-2, ssm_lr=5e-3, warmup_steps=2, seed=3)
    data = regression_data(n=21)
    whole, accumulated = deterministic_model(), deterministic_model()
    expected = train(whole, data, mse, config, progress=False)
    sizes = []

    def recording(model, batch):
        sizes.append(len(batch[0]))
        return mse(model, batch)
    history = train(accumulated, data, recording, replace(config, accumulate=3), progress=False)
    assert sizes == [3, 3, 2, 3, 3, 2, 2, 2, 1] * 2
    assert history.step_loss == pytest.approx(expected.step_loss, rel=1e-5)
    assert_same_state(whole, accumulated)


@pytest.mark.parametrize("field, value", [
    ("accumulate", 0), ("accumulate", 9), ("precision", "float16"), ("compile", 1), ("batch_size", 0),
    ("epochs", 0), ("epochs", 1.5), ("epochs", True), ("batch_size", 2.0), ("lr", 0), ("lr", float("nan")),
    ("lr", None), ("weight_decay", -0.1), ("weight_decay", float("inf")), ("ssm_lr", 0.0),
    ("beta_lr", -1e-3), ("imag_lr", float("inf")), ("warmup_steps", -1), ("warmup_steps", 2.0),
    ("max_steps", 0), ("max_steps", False), ("grad_clip", 0), ("grad_clip", -1.0), ("seed", -1),
    ("seed", 1.0), ("log_eigenvalues_every", -2), ("checkpoint_every", None), ("checkpoint_every", True)])
def test_config_rejects_bad_options(field, value):
    with pytest.raises(ValueError, match=field):
        replace(TrainConfig(batch_size=8), **{field: value})


def test_config_accepts_its_edge_values():
    config = TrainConfig(epochs=1, batch_size=1, lr=1e-9, weight_decay=0, ssm_lr=None, beta_lr=1e-3,
                         imag_lr=0.1, warmup_steps=0, max_steps=1, grad_clip=0.5, seed=0,
                         log_eigenvalues_every=0, checkpoint_every=0)
    assert config.max_steps == 1 and config.weight_decay == 0


@pytest.mark.parametrize("train_data, named", [
    ((), "train_data"), ([], "train_data"), (torch.zeros(4, 3), "train_data"),
    ((torch.zeros(4, 3), [1, 2, 3, 4]), "train_data"), ((torch.zeros(4, 3), torch.zeros(5)), r"\[4, 5\]"),
    ((torch.zeros(0, 3),), r"lengths \[0\]"), ((torch.tensor(1.0),), "train_data")])
def test_train_checks_its_data(train_data, named):
    with pytest.raises(ValueError, match=named):
        train(small_model(), train_data, mse, CONFIG, progress=False)


def test_train_checks_loss_fn_and_config():
    with pytest.raises(TypeError, match="loss_fn"):
        train(small_model(), regression_data(), "mse", CONFIG, progress=False)
    with pytest.raises(TypeError, match="config"):
        train(small_model(), regression_data(), mse, {"epochs": 1}, progress=False)
    with pytest.raises(TypeError, match="restart"):
        train(small_model(), regression_data(), mse, CONFIG, progress=False, restart="yes")


def test_kernel_and_ffts_stay_float32_under_bfloat16_autocast():
    torch.manual_seed(0)
    layer = fbssm.S4D(8, 16, bidirectional=True, beta=0.5, trainable_beta=True)
    u = torch.randn(2, 100, 8)
    plain = layer.lti(u)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        mixed = layer.lti(u)
        from_bf16 = layer.lti(u.bfloat16())
        assert layer.output(torch.randn(2, 8, 5)).dtype == torch.bfloat16  # autocast is on
    assert mixed.dtype == from_bf16.dtype == torch.float32
    torch.testing.assert_close(mixed, plain, rtol=0, atol=0)  # the same float32 arithmetic
    torch.testing.assert_close(from_bf16, layer.lti(u.bfloat16().float()), rtol=0, atol=0)
    # fft_convolution promotes half-precision inputs; L = 100 is not a power of two
    k = torch.randn(8, 100)
    y = fbssm.fft_convolution(u.transpose(1, 2).bfloat16(), k.bfloat16())
    assert y.dtype == torch.float32
    torch.testing.assert_close(y, fbssm.fft_convolution(u.transpose(1, 2).bfloat16().float(),
                                                        k.bfloat16().float()))


def test_bfloat16_training_follows_float32_training():
    data = regression_data()
    config = replace(CONFIG, checkpoint_every=0, log_eigenvalues_every=0)
    plain = train(deterministic_model(), data, mse, config, progress=False)
    mixed = train(deterministic_model(), data, mse, replace(config, precision="bfloat16"), progress=False)
    assert sum(mixed.step_loss[-6:]) < sum(mixed.step_loss[:6])
    # bfloat16 keeps about 3 significant digits in the linear layers
    assert mixed.step_loss == pytest.approx(plain.step_loss, rel=0.05)
    assert mixed.step_loss != plain.step_loss


@pytest.mark.skipif(not torch.cuda.is_available(), reason="bfloat16 autocast on CUDA needs a GPU")
def test_bfloat16_on_cuda_keeps_the_ssm_path_float32():
    torch.manual_seed(0)
    layer = fbssm.S4D(8, 16).cuda()
    u = torch.randn(2, 1000, 8, device="cuda")  # not a power of two: a half-precision cuFFT would fail
    with torch.autocast("cuda", dtype=torch.bfloat16):
        assert layer.lti(u).dtype == torch.float32 and layer(u).dtype == torch.bfloat16
    history = train(deterministic_model(), regression_data(), mse,
                    replace(CONFIG, precision="bfloat16", checkpoint_every=0), device="cuda", progress=False)
    assert sum(history.step_loss[-6:]) < sum(history.step_loss[:6])


def test_compiled_training_takes_the_same_steps(tmp_path):
    # backend "eager": the compiled-graph path without building kernels (inductor takes minutes on a CPU)
    config = replace(CONFIG, checkpoint_every=0, log_eigenvalues_every=0, epochs=1)
    plain, compiled = deterministic_model(), deterministic_model()
    expected = train(plain, regression_data(), mse, config, progress=False)
    history = train(compiled, regression_data(), mse, replace(config, compile="eager"),
                    checkpoint=tmp_path / "c.pt", progress=False)
    assert history.step_loss == pytest.approx(expected.step_loss, rel=1e-5)
    assert_same_state(plain, compiled)
    assert set(torch.load(tmp_path / "c.pt", weights_only=False)["model"]) == set(plain.state_dict())
