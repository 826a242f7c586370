"""The training loop every experiment uses.

Seeds, device selection, `param_groups` with a cosine schedule and warm-up stepped per
iteration, progress bars, a metrics history, the eigenvalue log (every S4D layer's a_j every
few steps), atomic checkpoints with exact resume, and a clear stop on a NaN/inf loss.
"""
import math
import os
import random
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from .device import select_device
from .layers import S4D
from .optim import param_groups


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings. lr/ssm_lr/beta_lr and weight_decay follow `param_groups`."""
    epochs: int = 1
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 0.0
    ssm_lr: float | None = None
    beta_lr: float | None = None
    imag_lr: float | None = None        # own rate for Im(a_j) (see param_groups); None: ssm_lr
    warmup_steps: int = 0
    max_steps: int | None = None        # stop early after this many optimiser steps
    grad_clip: float | None = None
    seed: int = 0
    log_eigenvalues_every: int = 0      # 0: never; k: every k steps (and at steps 0 and last)
    checkpoint_every: int = 0           # steps between checkpoints (0: only at the end of epochs)


@dataclass
class History:
    """What a run produced: per-step losses, per-epoch metrics and the eigenvalue log."""
    step_loss: list = field(default_factory=list)
    epochs: list = field(default_factory=list)
    eigenvalue_steps: list = field(default_factory=list)
    eigenvalues: list = field(default_factory=list)  # per log: [complex tensor (H or 1, N) per S4D layer]

    def eigenvalue_log(self, layer=0):
        """(steps,), complex (logs, H, N) trajectories of one S4D layer's eigenvalues."""
        return (torch.tensor(self.eigenvalue_steps),
                torch.stack([entry[layer] for entry in self.eigenvalues]))


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed % 2 ** 32)
    torch.manual_seed(seed)


def cosine_with_warmup(total_steps, warmup_steps):
    """LambdaLR factor: linear warm-up, then cosine decay to 0 at total_steps."""
    def factor(step):
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
        return 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))
    return factor


def eigenvalues(model):
    """Current eigenvalues of every S4D layer in the model (detached, on the CPU)."""
    return [m.A.detach().cpu().clone() for m in model.modules() if isinstance(m, S4D)]


def _progress(iterable, total, description, enabled):
    if not enabled:
        return iterable
    if os.environ.get("FBSSM_PROGRESS", "auto") == "text":
        from tqdm import tqdm  # plain text: readable in executed notebooks and logs
        return tqdm(iterable, total=total, desc=description, file=sys.stdout, ascii=True,
                    mininterval=30, leave=True)
    from tqdm.auto import tqdm
    return tqdm(iterable, total=total, desc=description, leave=False)


def _batches(dataset, batch_size, seed, epoch, device):
    """The epoch's batches in a permutation fixed by (seed, epoch): a resumed run sees the same."""
    n = len(dataset[0])
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed * 100003 + epoch))
    for start in range(0, n, batch_size):
        index = order[start:start + batch_size]
        yield tuple(t[index].to(device) for t in dataset)


def _save_atomic(state, path):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)  # a crash mid-write never leaves a broken checkpoint


def train(model, train_data, loss_fn, config, evaluate=None, checkpoint=None, device=None,
          progress=True):
    """Train `model` on `train_data`, a tuple of equally long tensors (inputs, targets, ...).

    loss_fn(model, batch) -> scalar loss, where batch is that tuple's rows on the device.
    evaluate(model) -> dict of metrics, called after every epoch (in eval mode, no grad).
    checkpoint: a file path; if it exists the run resumes from it, and it is rewritten
    atomically every `checkpoint_every` steps and after every epoch.
    Returns the History. Raises FloatingPointError on a NaN/inf loss.
    """
    device = select_device(device)
    seed_everything(config.seed)
    model.to(device)
    optimizer = torch.optim.AdamW(param_groups(model, config.lr, config.weight_decay,
                                               config.ssm_lr, config.beta_lr, config.imag_lr))
    n = len(train_data[0])
    steps_per_epoch = math.ceil(n / config.batch_size)
    total = config.epochs * steps_per_epoch
    if config.max_steps is not None:
        total = min(total, config.max_steps)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, cosine_with_warmup(total, config.warmup_steps))
    history, step, epoch, running = History(), 0, 0, []

    if checkpoint is not None and Path(checkpoint).exists():
        state = torch.load(checkpoint, map_location=device, weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        history, step, epoch = state["history"], state["step"], state["epoch"]
        running = state["running"]
        torch.set_rng_state(state["rng"])
        if "cuda_rng" in state and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["cuda_rng"])

    def save():
        if checkpoint is not None:
            _save_atomic({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                          "scheduler": scheduler.state_dict(), "history": history, "step": step,
                          "epoch": epoch, "running": running, "rng": torch.get_rng_state(),
                          **({"cuda_rng": torch.cuda.get_rng_state_all()} if torch.cuda.is_available() else {}),
                          "config": asdict(config)}, checkpoint)

    def log_eigenvalues():
        if config.log_eigenvalues_every and (not history.eigenvalue_steps
                                             or history.eigenvalue_steps[-1] != step):
            history.eigenvalue_steps.append(step)
            history.eigenvalues.append(eigenvalues(model))

    while epoch < config.epochs and step < total:
        model.train()
        skip = step - epoch * steps_per_epoch  # batches of this epoch already done before a resume
        batches = _batches(train_data, config.batch_size, config.seed, epoch, device)
        bar = _progress(batches, steps_per_epoch, f"epoch {epoch + 1}/{config.epochs}", progress)
        for index, batch in enumerate(bar):
            if index < skip:
                continue
            if step >= total:
                break
            if config.log_eigenvalues_every and step % config.log_eigenvalues_every == 0:
                log_eigenvalues()
            loss = loss_fn(model, batch)
            if not torch.isfinite(loss):
                save_note = f"; the last checkpoint is {checkpoint}" if checkpoint else ""
                raise FloatingPointError(
                    f"training stopped: the loss became {loss.item()} at epoch {epoch + 1}, step {step}"
                    f" (lr {scheduler.get_last_lr()[0]:.3g}){save_note}. Lower the learning rate or "
                    f"check the data for non-finite values.")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if config.grad_clip:
                torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            optimizer.step()
            scheduler.step()
            step += 1
            history.step_loss.append(loss.item())
            running.append(loss.item())
            if hasattr(bar, "set_postfix") and step % 10 == 0:
                bar.set_postfix(loss=f"{np.mean(running[-10:]):.4g}")
            if config.checkpoint_every and step % config.checkpoint_every == 0:
                save()
        if hasattr(bar, "close"):
            bar.close()
        record = {"epoch": epoch + 1, "step": step,
                  "train_loss": float(np.mean(running)) if running else float("nan")}
        if evaluate is not None:
            model.eval()
            with torch.no_grad():
                record.update(evaluate(model))
        history.epochs.append(record)
        epoch, running = epoch + 1, []
        save()
    log_eigenvalues()
    save()
    return history
