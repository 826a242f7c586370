"""The mode-migration experiment: its data, one short run, and the learning-rate budget."""
from dataclasses import replace

import pytest
import torch

from fbssm import migration

TINY = replace(migration.MigrationConfig(), sequences=32, length=256, epochs=2, batch_size=8, log_every=2)


def test_training_data_is_the_target_filter_applied_to_white_noise():
    u, y = migration.training_data(TINY)
    assert u.shape == y.shape == (32, 256, 1)
    again = migration.training_data(TINY)
    assert torch.equal(u, again[0]) and torch.equal(y, again[1])   # the seed fixes the inputs
    assert y.std() > 0.1 * u.std()


def test_a_run_logs_every_mode_and_no_mode_outruns_its_budget():
    config = replace(TINY, ssm_lr=1e-2)
    result = migration.migrate(config)
    assert result.y.shape == (len(result.steps), config.modes) and result.steps[-1] == 8
    moved = (result.y[-1] - result.y[0]).abs().max().item()
    assert 0 < moved <= 1.05 * migration.learning_rate_budget(config)   # AdamW: |step| ≲ lr
    assert result.beta == 0.0 and result.loss > 0


def test_the_budget_is_the_sum_of_the_cosine_schedule():
    steps = TINY.epochs * 4
    budget = migration.learning_rate_budget(TINY)
    assert TINY.ssm_lr * steps / 2 <= budget <= TINY.ssm_lr * steps
    assert migration.learning_rate_budget(replace(TINY, imag_lr=0.1)) == pytest.approx(budget * 100)
