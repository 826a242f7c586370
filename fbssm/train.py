"""The training loop every experiment uses.

Seeds, device selection, `param_groups` with a cosine schedule and warm-up stepped per
iteration, progress bars, a metrics history, the eigenvalue log (every S4D layer's a_j every
few steps), atomic checkpoints with exact resume, and a clear stop on a NaN/inf loss. Options:
gradient accumulation, bfloat16 autocast, torch.compile.

The same call trains data-parallel under torchrun (`torchrun --nproc_per_node=N -m fbssm run ...`):
every process holds the whole model, wrapped in DistributedDataParallel. Step t takes the same
global batch of `batch_size` rows as a one-process run; each process trains on its shard of it
(in `accumulate` micro-batches), and DDP averages the gradients. The logged loss is the global
batch's mean, evaluate()'s metrics are averaged over processes, only process 0 shows progress and
writes the checkpoint, and the checkpoint holds the plain model's state: it resumes with any
number of processes.
"""
import contextlib
import math
import os
import random
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist

from ._checks import check_choice, check_length
from .device import init_distributed, select_device
from .layers import S4D
from .optim import param_groups

PRECISIONS = ("float32", "bfloat16")


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings. lr/ssm_lr/beta_lr and weight_decay follow `param_groups`.

    batch_size is the global batch of one optimiser step, however many processes and
    micro-batches (`accumulate`) share it. precision="bfloat16" runs the forward pass under
    bfloat16 autocast (CUDA or CPU); the SSM kernel, its FFTs and the Sobolev filter stay float32.
    compile=True trains through torch.compile(model); a string names torch.compile's backend.
    """
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
    accumulate: int = 1                 # micro-batches per optimiser step (per process)
    precision: str = "float32"          # "float32" or "bfloat16" (autocast)
    compile: bool | str = False         # torch.compile the model for the training steps

    def __post_init__(self):
        check_length("batch_size", self.batch_size)
        if check_length("accumulate", self.accumulate) > self.batch_size:
            raise ValueError(f"accumulate must be between 1 and batch_size ({self.batch_size}), "
                             f"got {self.accumulate}")
        check_choice("precision", self.precision, PRECISIONS)
        if not isinstance(self.compile, (bool, str)):
            raise ValueError(f"compile must be True, False or a torch.compile backend name, "
                             f"got {self.compile!r}")


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


def _batch_indices(n, batch_size, seed, epoch):
    """The epoch's global batches (row indices) in a permutation fixed by (seed, epoch): a resumed
    run, with any number of processes, sees the same."""
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed * 100003 + epoch))
    return order.split(batch_size)


def _shard(index, rank, world_size, accumulate):
    """This process's micro-batches of one global batch, as (rows, weight).

    The rows are split into `world_size` contiguous shards and each shard into `accumulate`
    parts. weight = rows/len(index)·world_size: DDP averages gradients over processes, so
    Σ weight·(mean loss of the rows), averaged over processes, is the global batch's mean loss
    even when the shards are unequal. A process left without rows (a last batch smaller than
    world_size) makes one zero-weight pass, so that every process takes part in the gradient
    reduction.
    """
    parts = [part for part in index.tensor_split(world_size)[rank].tensor_split(accumulate) if len(part)]
    if not parts:
        return [(index[:1], 0.0)]
    return [(part, len(part) * world_size / len(index)) for part in parts]


def _autocast(precision, device):
    if precision == "float32":
        return contextlib.nullcontext()
    if not torch.amp.is_autocast_available(device.type):
        raise ValueError(f"precision={precision!r} needs a CUDA or CPU device, got {device}")
    return torch.autocast(device.type, dtype=torch.bfloat16)


def _step_model(model, device, world_size, compile_model):
    """What the loss function calls: the model, wrapped in DDP for several processes, compiled if asked."""
    if world_size > 1:
        model = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None)
    if compile_model is True:
        return torch.compile(model)
    return torch.compile(model, backend=compile_model) if compile_model else model


def _mean_over_processes(metrics, world_size):
    """evaluate()'s metrics averaged over processes (numbers in dicts and lists; anything else as
    process 0 has it)."""
    if world_size == 1:
        return metrics
    gathered = [None] * world_size
    dist.all_gather_object(gathered, metrics)
    return _average(gathered)


def _average(values):
    first = values[0]
    if isinstance(first, dict):
        return {key: _average([v[key] for v in values]) for key in first}
    if isinstance(first, (list, tuple)):
        return type(first)(_average(list(items)) for items in zip(*values))
    if isinstance(first, (int, float)) and not isinstance(first, bool):
        return first if all(v == first for v in values) else sum(values) / len(values)
    return first


def _sync_buffers(model, world_size):
    """Process 0's buffers (e.g. batch-norm statistics, which each process updates on its own
    shard) to every process: evaluation and the saved state then agree everywhere."""
    if world_size > 1:
        for buffer in model.buffers():
            dist.broadcast(buffer, 0)


def _rank_seed(seed, rank, step):
    """The torch seed of process `rank` > 0 (its own dropout masks), fresh after a resume at `step`."""
    return (seed * 1_000_003 + rank * 7_919 + step) % 2 ** 63


def _rng_state(device):
    cuda = torch.cuda.get_rng_state(device) if device.type == "cuda" else None
    return torch.get_rng_state(), cuda


def _load(checkpoint, device, rank, world_size):
    """The checkpoint's state if there is one (process 0 reads it and sends it to the others)."""
    if world_size == 1:
        if checkpoint is not None and Path(checkpoint).exists():
            return torch.load(checkpoint, map_location=device, weights_only=False)
        return None
    state = [None]
    if rank == 0 and checkpoint is not None and Path(checkpoint).exists():
        state = [torch.load(checkpoint, map_location="cpu", weights_only=False)]
    dist.broadcast_object_list(state, 0)
    return state[0]


def _restore_rng(state, config, device, rank, world_size):
    if world_size == 1:
        torch.set_rng_state(state["rng"])
        if "cuda_rng" in state and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["cuda_rng"])
        return
    saved = state.get("rng_ranks", [])
    if rank < len(saved):  # the same process count: each process continues its own stream
        cpu, cuda = saved[rank]
        torch.set_rng_state(cpu)
        if cuda is not None and device.type == "cuda":
            torch.cuda.set_rng_state(cuda, device)
    elif rank == 0:
        torch.set_rng_state(state["rng"])
    else:
        torch.manual_seed(_rank_seed(config.seed, rank, state["step"]))


def _save_atomic(state, path):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)  # a crash mid-write never leaves a broken checkpoint


def train(model, train_data, loss_fn, config, evaluate=None, checkpoint=None, device=None,
          progress=True):
    """Train `model` on `train_data`, a tuple of equally long tensors (inputs, targets, ...).

    loss_fn(model, batch) -> the mean loss over the batch's rows, where batch is that tuple's
    rows on the device; it must call model(...) (under torchrun that is the DDP wrapper).
    evaluate(model) -> dict of metrics, called after every epoch (in eval mode, no grad).
    checkpoint: a file path; if it exists the run resumes from it, and it is rewritten
    atomically every `checkpoint_every` steps and after every epoch.
    Under torchrun every process makes this call with the same arguments.
    Returns the History. Raises FloatingPointError on a NaN/inf loss.
    """
    rank, world_size = init_distributed()
    device = select_device(device)
    seed_everything(config.seed)
    if rank > 0:
        torch.manual_seed(_rank_seed(config.seed, rank, 0))
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

    state = _load(checkpoint, device, rank, world_size)
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        history, step, epoch = state["history"], state["step"], state["epoch"]
        running = state["running"]
        _restore_rng(state, config, device, rank, world_size)
    step_model = _step_model(model, device, world_size, config.compile)
    progress = progress and rank == 0

    def save():
        if checkpoint is None:
            return
        rng_ranks = None
        if world_size > 1:  # every process takes part; process 0 writes
            rng_ranks = [None] * world_size
            dist.all_gather_object(rng_ranks, _rng_state(device))
        if rank == 0:
            _save_atomic({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                          "scheduler": scheduler.state_dict(), "history": history, "step": step,
                          "epoch": epoch, "running": running, "rng": torch.get_rng_state(),
                          **({"cuda_rng": torch.cuda.get_rng_state_all()} if torch.cuda.is_available() else {}),
                          **({"rng_ranks": rng_ranks} if rng_ranks else {}),
                          "world_size": world_size, "config": asdict(config)}, checkpoint)

    def log_eigenvalues():
        if config.log_eigenvalues_every and (not history.eigenvalue_steps
                                             or history.eigenvalue_steps[-1] != step):
            history.eigenvalue_steps.append(step)
            history.eigenvalues.append(eigenvalues(model))

    def optimizer_step(index):
        """One optimiser step on the global batch `index`; returns the batch's mean loss."""
        optimizer.zero_grad(set_to_none=True)
        micro_batches = _shard(index, rank, world_size, config.accumulate)
        loss_sum = torch.zeros((), device=device)
        for position, (rows, weight) in enumerate(micro_batches):
            batch = tuple(t[rows].to(device) for t in train_data)
            last = position == len(micro_batches) - 1
            reduce_now = contextlib.nullcontext() if last or world_size == 1 else step_model.no_sync()
            with reduce_now:
                with _autocast(config.precision, device):
                    loss = loss_fn(step_model, batch)
                (loss * weight).backward()
            loss_sum += loss.detach().float() * (weight / world_size)
        if world_size > 1:
            dist.all_reduce(loss_sum)
        loss = loss_sum.item()
        if not math.isfinite(loss):
            save_note = f"; the last checkpoint is {checkpoint}" if checkpoint else ""
            raise FloatingPointError(
                f"training stopped: the loss became {loss} at epoch {epoch + 1}, step {step}"
                f" (lr {scheduler.get_last_lr()[0]:.3g}){save_note}. Lower the learning rate or "
                f"check the data for non-finite values.")
        if config.grad_clip:
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimizer.step()
        scheduler.step()
        return loss

    while epoch < config.epochs and step < total:
        model.train()
        skip = step - epoch * steps_per_epoch  # batches of this epoch already done before a resume
        batches = _batch_indices(n, config.batch_size, config.seed, epoch)
        bar = _progress(batches, steps_per_epoch, f"epoch {epoch + 1}/{config.epochs}", progress)
        for index_in_epoch, index in enumerate(bar):
            if index_in_epoch < skip:
                continue
            if step >= total:
                break
            if config.log_eigenvalues_every and step % config.log_eigenvalues_every == 0:
                log_eigenvalues()
            loss = optimizer_step(index)
            step += 1
            history.step_loss.append(loss)
            running.append(loss)
            if hasattr(bar, "set_postfix") and step % 10 == 0:
                bar.set_postfix(loss=f"{np.mean(running[-10:]):.4g}")
            if config.checkpoint_every and step % config.checkpoint_every == 0:
                save()
        if hasattr(bar, "close"):
            bar.close()
        record = {"epoch": epoch + 1, "step": step,
                  "train_loss": float(np.mean(running)) if running else float("nan")}
        if evaluate is not None:
            _sync_buffers(model, world_size)
            model.eval()
            with torch.no_grad():
                record.update(_mean_over_processes(evaluate(model), world_size))
        history.epochs.append(record)
        epoch, running = epoch + 1, []
        save()
    _sync_buffers(model, world_size)
    log_eigenvalues()
    save()
    return history
