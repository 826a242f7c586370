import pytest
import torch

import fbssm


def test_beta_zero_is_the_identity_filter():
    torch.manual_seed(0)
    plain = fbssm.S4D(4, 8, beta=0.0)
    tuned = fbssm.S4D(4, 8, beta=0.0, trainable_beta=True)
    state = {k: v for k, v in plain.state_dict().items() if k != "beta"}
    tuned.load_state_dict(state, strict=False)
    u = torch.randn(2, 30, 4)
    assert plain.filter_weight(60) is None
    torch.testing.assert_close(tuned(u), plain(u), rtol=0, atol=0)


def test_nonzero_beta_changes_the_output():
    torch.manual_seed(0)
    plain, tuned = fbssm.S4D(4, 8), fbssm.S4D(4, 8, beta=1.0)
    tuned.load_state_dict({k: v for k, v in plain.state_dict().items() if k != "beta"}, strict=False)
    u = torch.randn(2, 30, 4)
    assert (tuned(u) - plain(u)).abs().max() > 1e-3


def test_gradients_reach_beta_and_ssm_parameters():
    layer = fbssm.S4D(4, 8, trainable_beta=True)
    layer(torch.randn(2, 30, 4)).square().sum().backward()
    for name in ("beta", "log_dt", "log_A_real", "A_imag", "C", "D"):
        grad = getattr(layer, name).grad
        assert grad is not None and grad.abs().sum() > 0, name


def test_causal_and_bidirectional():
    torch.manual_seed(0)
    u = torch.randn(1, 40, 4)
    future = u.clone()
    future[:, 30:] += 1.0  # change only the future of step 20
    causal = fbssm.S4D(4, 8)
    torch.testing.assert_close(causal(u)[:, :30], causal(future)[:, :30])
    both = fbssm.S4D(4, 8, bidirectional=True)
    assert both.kernel(40).shape == (2, 4, 40)
    assert both(u).shape == (1, 40, 4)
    assert (both(u)[:, :30] - both(future)[:, :30]).abs().max() > 1e-4


def test_causal_filter_keeps_a_filtered_layer_causal():
    torch.manual_seed(0)
    u = torch.randn(1, 40, 4)
    future = u.clone()
    future[:, 30:] += 1.0
    product = fbssm.S4D(4, 8, alpha=5.0, beta=1.0, trainable_beta=True)  # W_β on W_β·K̂·û
    kernel = fbssm.S4D(4, 8, alpha=5.0, beta=1.0, trainable_beta=True, causal_filter=True)
    kernel.load_state_dict(product.state_dict())
    assert (product(u)[:, :30] - product(future)[:, :30]).abs().max() > 1e-5
    torch.testing.assert_close(kernel(u)[:, :30], kernel(future)[:, :30])
    # same filter on the causal part: W_β·K̂ cut to lags ≥ 0 differs from W_β·K̂ only by the leak
    assert (kernel(u) - product(u)).abs().max() < 0.1 * product(u).abs().max()
    kernel(u).square().sum().backward()
    assert kernel.beta.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="causal_filter"):
        fbssm.S4D(4, 8, bidirectional=True, causal_filter=True)


def test_frozen_and_shared_eigenvalues():
    layer = fbssm.S4D(6, 4, shared_eigenvalues=True, train_A=False, train_dt=False)
    names = {n for n, _ in layer.named_parameters()}
    assert not names & set(fbssm.S4D.SSM_PARAMETERS)
    assert layer.A.shape == (1, 4)
    assert layer.kernel(10).shape == (1, 6, 10)


def test_custom_eigenvalues_and_alpha():
    a = torch.complex(torch.full((4,), -0.5), torch.tensor([1.3, 2.3, 3.3, 4.3]))
    layer = fbssm.S4D(2, 4, init=a, alpha=10.0)
    torch.testing.assert_close(layer.A[0].imag, 10 * a.imag)


def test_param_groups_give_ssm_and_beta_their_own_settings():
    model = fbssm.SequenceModel(3, d_input=2, d_model=8, n_layers=2, d_state=4, trainable_beta=True)
    groups = {g["name"]: g for g in fbssm.param_groups(model, lr=1e-2, weight_decay=0.05,
                                                        ssm_lr=1e-3, beta_lr=1e-2)}
    assert groups["ssm"]["lr"] == 1e-3 and groups["ssm"]["weight_decay"] == 0.0
    assert groups["beta"]["weight_decay"] == 0.0 and len(groups["beta"]["params"]) == 2
    assert len(groups["ssm"]["params"]) == 2 * 3
    every = [id(p) for g in groups.values() for p in g["params"]]
    assert sorted(every) == sorted(id(p) for p in model.parameters())
    split = {g["name"]: g for g in fbssm.param_groups(model, lr=1e-2, ssm_lr=1e-3, imag_lr=0.5)}
    assert split["imag"]["lr"] == 0.5 and split["imag"]["weight_decay"] == 0.0
    assert all(p.shape[-1] == 4 for p in split["imag"]["params"]) and len(split["imag"]["params"]) == 2
    assert len(split["ssm"]["params"]) == 2 * 2


@pytest.mark.parametrize("norm,prenorm", [("layer", True), ("batch", True), ("layer", False), ("batch", False)])
def test_sequence_model_shapes(norm, prenorm):
    model = fbssm.SequenceModel(5, d_input=3, d_model=8, n_layers=2, d_state=4, norm=norm, prenorm=prenorm)
    assert model(torch.randn(2, 16, 3)).shape == (2, 5)
    seq = fbssm.SequenceModel(5, d_input=3, d_model=8, n_layers=1, d_state=4, pooling="none")
    assert seq(torch.randn(2, 16, 3)).shape == (2, 16, 5)


def test_token_model_masks_padding():
    torch.manual_seed(0)
    model = fbssm.SequenceModel(2, vocab_size=10, d_model=8, n_layers=1, d_state=4).eval()
    x = torch.randint(1, 10, (1, 12))
    padded = torch.cat([x, torch.zeros(1, 5, dtype=torch.long)], 1)
    torch.testing.assert_close(model(x), model(padded, lengths=torch.tensor([12])))


def test_lti_is_the_linear_part_of_forward():
    torch.manual_seed(0)
    layer = fbssm.S4D(3, 8, beta=0.5, glu=False)
    u = torch.randn(2, 40, 3)
    torch.testing.assert_close(layer(u), torch.nn.functional.gelu(layer.lti(u)))
    y = layer.lti(u)  # linear: superposition holds
    torch.testing.assert_close(layer.lti(2 * u) - layer.lti(u), y, rtol=1e-5, atol=1e-5)
