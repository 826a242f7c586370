"""The training loop every experiment uses.

Seeds, device selection, `param_groups` with a cosine schedule and warm-up stepped per
iteration, progress bars, a metrics history, the eigenvalue log (every S4D layer's a_j every
few steps), atomic checkpoints with exact resume, and a clear stop on a NaN/inf loss. Options:
gradient accumulation, bfloat16 autocast, torch.compile.

A checkpoint records the run's identity (the caller's `identity`, the TrainConfig, the data's
rows and fingerprint, the fbssm version) and resumes only a run with the same identity: another
one raises CheckpointMismatch naming the fields that differ (restart=True trains from scratch).
Checkpoints hold tensors, dicts, lists, numbers and strings only, and load with weights_only=True.

The same call trains data-parallel under torchrun (`torchrun --nproc_per_node=N -m fbssm run ...`):
every process holds the whole model, wrapped in DistributedDataParallel. Step t takes the same
global batch of `batch_size` rows as a one-process run; each process trains on its shard of it
(in `accumulate` micro-batches), and DDP averages the gradients. The logged loss is the global
batch's mean, evaluate()'s metrics are averaged over processes, only process 0 shows progress and
writes the checkpoint, and the checkpoint holds the plain model's state: it resumes with any
number of processes.
"""
import contextlib
import hashlib
import json
import math
import os
import random
import sys
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist

from ._checks import check_choice, check_count, check_length, check_nonnegative, check_positive
from ._files import atomic_write
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
        check_length("epochs", self.epochs)
        check_length("batch_size", self.batch_size)
        check_positive("lr", self.lr)
        check_nonnegative("weight_decay", self.weight_decay)
        for name in ("ssm_lr", "beta_lr", "imag_lr", "grad_clip"):
            if getattr(self, name) is not None:
                check_positive(name, getattr(self, name))
        for name in ("warmup_steps", "seed", "log_eigenvalues_every", "checkpoint_every"):
            check_count(name, getattr(self, name))
        if self.max_steps is not None:
            check_length("max_steps", self.max_steps)
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


# --- the run's identity and its checkpoint --------------------------------------------------------

class CheckpointMismatch(ValueError):
    """The checkpoint to resume from was written by another run: its identity differs from this one's."""


WHAT_TO_DO = "pass restart=True (CLI: --restart) to train from scratch, or use another --out"
RESERVED = ("train", "data", "fbssm")   # the identity's keys that train() fills in itself
CHECKPOINT_KEYS = ("model", "optimizer", "scheduler", "history", "step", "epoch", "running", "rng")
_ABSENT = object()


def _check_arguments(train_data, loss_fn, config, evaluate, identity, restart):
    """train()'s arguments checked before any work; returns the caller's identity as plain JSON."""
    if (not isinstance(train_data, (tuple, list)) or not train_data
            or not all(torch.is_tensor(t) for t in train_data)):
        kinds = ([type(t).__name__ for t in train_data] if isinstance(train_data, (tuple, list))
                 else type(train_data).__name__)
        raise ValueError(f"train_data must be a non-empty tuple or list of tensors, got {kinds}")
    lengths = [t.shape[0] if t.dim() else "scalar" for t in train_data]
    if any(length == "scalar" or length < 1 for length in lengths) or len(set(lengths)) > 1:
        raise ValueError(f"train_data's tensors must share one first length >= 1, got lengths {lengths}")
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable, got {type(loss_fn).__name__}")
    if evaluate is not None and not callable(evaluate):
        raise TypeError(f"evaluate must be callable or None, got {type(evaluate).__name__}")
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, got {type(config).__name__}")
    if not isinstance(restart, bool):
        raise TypeError(f"restart must be True or False, got {restart!r}")
    return _plain_identity(identity)


def _plain_identity(identity):
    if identity is None:
        return {}
    if not isinstance(identity, dict):
        raise TypeError(f"identity must be a dict or None, got {type(identity).__name__}")
    clash = [key for key in RESERVED if key in identity]
    if clash:
        raise ValueError(f"identity must not hold the keys {clash}: train() adds them "
                         f"(its TrainConfig, the data's rows and fingerprint, the fbssm version)")
    try:
        return json.loads(json.dumps(identity))
    except (TypeError, ValueError) as error:
        raise TypeError(f"identity must be JSON-serialisable ({error})") from None


def data_fingerprint(tensors):
    """A short sha256 of the tensors' bytes, in order, with their shapes and dtypes."""
    digest = hashlib.sha256()
    for tensor in tensors:
        tensor = tensor.detach().cpu().contiguous()
        digest.update(f"{tuple(tensor.shape)} {tensor.dtype};".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy())
    return digest.hexdigest()[:16]


def _run_identity(identity, config, train_data):
    """Everything a checkpoint must match to be resumed by this run."""
    from . import __version__
    return {**identity, "train": json.loads(json.dumps(asdict(config))),
            "data": {"rows": len(train_data[0]), "fingerprint": data_fingerprint(train_data)},
            "fbssm": __version__}


def _flatten(tree, prefix=""):
    """{dotted name: value} of nested dicts (e.g. "train.max_steps")."""
    flat = {}
    for key, value in tree.items():
        if isinstance(value, dict) and value:
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _short(value, width=40):
    text = "(absent)" if value is _ABSENT else repr(value)
    return text if len(text) <= width else text[:width - 1] + "…"


def _check_same_run(path, saved, identity, shown=6):
    """Raise CheckpointMismatch naming every field where the saved identity differs from this run's."""
    old, new = _flatten(saved), _flatten(identity)
    names = list(new) + [name for name in old if name not in new]
    differ = [name for name in names
              if not _same(old.get(name, _ABSENT), new.get(name, _ABSENT))]
    if differ:
        listed = ", ".join(f"{name} {_short(old.get(name, _ABSENT))} → {_short(new.get(name, _ABSENT))}"
                            for name in differ[:shown])
        more = f" and {len(differ) - shown} more" if len(differ) > shown else ""
        raise CheckpointMismatch(f"checkpoint {path} belongs to another run ({listed}{more}); {WHAT_TO_DO}")


def _same(a, b):
    if a is _ABSENT or b is _ABSENT:
        return a is b
    return a == b or json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def _first_line(error, width=120):
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= width else text[:width - 1] + "…"


def _pre_identity(path):
    return CheckpointMismatch(f"checkpoint {path} was written before checkpoints carried their run's "
                              f"identity, so it cannot be matched to this run; {WHAT_TO_DO}")


def _read_checkpoint(path):
    """The checkpoint's state (tensors on the CPU, no pickled classes); a ValueError naming the file
    if it is not one, CheckpointMismatch if it predates identities."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # truncated, garbage, or pickled classes: all unreadable here
        if "fbssm." in str(error):
            raise _pre_identity(path) from None
        raise ValueError(f"{path} is not a readable checkpoint ({_first_line(error)}): delete it "
                         f"or pass restart=True (CLI: --restart) to train from scratch") from None
    problem = _checkpoint_problem(state)
    if problem:
        raise ValueError(f"{path} is not a readable checkpoint ({problem}): delete it "
                         f"or pass restart=True (CLI: --restart) to train from scratch")
    if "identity" not in state:
        raise _pre_identity(path)
    return state


def _checkpoint_problem(state):
    """What is wrong with a loaded checkpoint's layout, or None."""
    if not isinstance(state, dict):
        return f"it holds a {type(state).__name__}, not a dict of training state"
    missing = [key for key in CHECKPOINT_KEYS if key not in state]
    if missing:
        return f"no {', '.join(missing)}"
    history = state["history"]
    if not isinstance(history, dict) or set(history) != {f.name for f in fields(History)}:
        return "its history is not a History's fields"
    if "identity" in state and not isinstance(state["identity"], dict):
        return "its identity is not a dict"
    return None


def _plain(value):
    """`value` with numpy scalars and arrays as Python numbers and lists (a weights-only load
    reads no numpy objects)."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        items = [_plain(item) for item in value]
        return items if isinstance(value, list) else tuple(items)
    return value.tolist() if isinstance(value, (np.generic, np.ndarray)) else value


def _history_state(history):
    """The History as a plain dict (its eigenvalues stay tensors)."""
    return {"step_loss": list(history.step_loss), "epochs": _plain(history.epochs),
            "eigenvalue_steps": list(history.eigenvalue_steps), "eigenvalues": list(history.eigenvalues)}


# --- the run --------------------------------------------------------------------------------------

class _Run:
    """One call of train(): the model, its optimiser and schedule, and where the run stands."""

    def __init__(self, model, train_data, loss_fn, config, checkpoint, device):
        self.rank, self.world_size = init_distributed()
        self.device = select_device(device)
        seed_everything(config.seed)
        if self.rank > 0:
            torch.manual_seed(_rank_seed(config.seed, self.rank, 0))
        model.to(self.device)
        self.model, self.train_data, self.loss_fn, self.config = model, train_data, loss_fn, config
        self.checkpoint = checkpoint
        self.optimizer = torch.optim.AdamW(param_groups(model, config.lr, config.weight_decay,
                                                        config.ssm_lr, config.beta_lr, config.imag_lr))
        self.n = len(train_data[0])
        self.steps_per_epoch = math.ceil(self.n / config.batch_size)
        self.total = config.epochs * self.steps_per_epoch
        if config.max_steps is not None:
            self.total = min(self.total, config.max_steps)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, cosine_with_warmup(self.total, config.warmup_steps))
        self.history, self.step, self.epoch, self.running = History(), 0, 0, []
        self.identity = None      # the run's identity (on process 0, which writes checkpoints)
        self.saved_step = None    # the step of the checkpoint last written or resumed from
        self.step_model = model

    def resume(self, identity, restart):
        """Continue from the checkpoint if there is one (unless restart), refusing one of another
        run; then wrap the model for the steps (DDP, compile)."""
        if self.checkpoint is not None and self.rank == 0:
            self.identity = _run_identity(identity, self.config, self.train_data)
        if self.checkpoint is not None and not restart:
            state = self._load()
            if state is not None:
                self._restore(state)
        self.step_model = _step_model(self.model, self.device, self.world_size, self.config.compile)

    def _load(self):
        """The checkpoint's state, or None without one: process 0 reads and checks it and sends
        the state, or the error, to the others."""
        outcome = (None, None)
        if self.rank == 0 and Path(self.checkpoint).exists():
            try:
                state = _read_checkpoint(self.checkpoint)
                _check_same_run(self.checkpoint, state["identity"], self.identity)
                outcome = (state, None)
            except ValueError as error:
                outcome = (None, error)
        if self.world_size > 1:
            box = [outcome]
            dist.broadcast_object_list(box, 0)
            outcome = box[0]
        state, error = outcome
        if error is not None:
            raise error
        return state

    def _restore(self, state):
        try:
            self.model.load_state_dict(state["model"])
        except RuntimeError as error:
            raise ValueError(f"checkpoint {self.checkpoint} does not fit this model "
                             f"({_first_line(error)}); {WHAT_TO_DO}") from None
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.history = History(**state["history"])
        self.step, self.epoch, self.running = state["step"], state["epoch"], state["running"]
        self.saved_step = self.step
        _restore_rng(state, self.config, self.device, self.rank, self.world_size)

    def save(self):
        """Write the checkpoint atomically (process 0; every process gives its RNG state)."""
        if self.checkpoint is None:
            return
        rng_ranks = None
        if self.world_size > 1:
            rng_ranks = [None] * self.world_size
            dist.all_gather_object(rng_ranks, _rng_state(self.device))
        if self.rank == 0:
            state = self._state(rng_ranks)
            atomic_write(self.checkpoint, lambda file: torch.save(state, file))
        self.saved_step = self.step

    def _state(self, rng_ranks):
        """What a checkpoint holds: tensors, dicts, lists, numbers and strings only."""
        cuda = {"cuda_rng": torch.cuda.get_rng_state_all()} if torch.cuda.is_available() else {}
        return {"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict(), "history": _history_state(self.history),
                "step": self.step, "epoch": self.epoch, "running": list(self.running),
                "rng": torch.get_rng_state(), **cuda, **({"rng_ranks": rng_ranks} if rng_ranks else {}),
                "world_size": self.world_size, "config": asdict(self.config), "identity": self.identity}

    def log_eigenvalues(self):
        steps = self.history.eigenvalue_steps
        if self.config.log_eigenvalues_every and (not steps or steps[-1] != self.step):
            steps.append(self.step)
            self.history.eigenvalues.append(eigenvalues(self.model))

    def optimizer_step(self, index):
        """One optimiser step on the global batch `index`; returns the batch's mean loss."""
        self.optimizer.zero_grad(set_to_none=True)
        loss = self._backward(index)
        if not math.isfinite(loss):
            raise FloatingPointError(self._stop_message(loss))
        if self.config.grad_clip:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.config.grad_clip)
        self.optimizer.step()
        self.scheduler.step()
        return loss

    def _backward(self, index):
        """Forward and backward passes over this process's micro-batches of `index`; the global
        batch's mean loss."""
        micro_batches = _shard(index, self.rank, self.world_size, self.config.accumulate)
        loss_sum = torch.zeros((), device=self.device)
        for position, (rows, weight) in enumerate(micro_batches):
            batch = tuple(t[rows].to(self.device) for t in self.train_data)
            last = position == len(micro_batches) - 1
            reduce_now = (contextlib.nullcontext() if last or self.world_size == 1
                          else self.step_model.no_sync())
            with reduce_now:
                with _autocast(self.config.precision, self.device):
                    loss = self.loss_fn(self.step_model, batch)
                (loss * weight).backward()
            loss_sum += loss.detach().float() * (weight / self.world_size)
        if self.world_size > 1:
            dist.all_reduce(loss_sum)
        return loss_sum.item()

    def _stop_message(self, loss):
        if self.saved_step is not None:
            note = f"; the last checkpoint (step {self.saved_step}) is {self.checkpoint}"
        else:
            note = "; no checkpoint of this run was written" if self.checkpoint is not None else ""
        return (f"training stopped: the loss became {loss} at epoch {self.epoch + 1}, step {self.step}"
                f" (lr {self.scheduler.get_last_lr()[0]:.3g}){note}. Lower the learning rate or "
                f"check the data for non-finite values.")

    def train_epoch(self, evaluate, progress):
        """The epoch's steps not yet taken, then its record and a checkpoint."""
        self.model.train()
        skip = self.step - self.epoch * self.steps_per_epoch  # batches done before a resume
        batches = _batch_indices(self.n, self.config.batch_size, self.config.seed, self.epoch)
        bar = _progress(batches, self.steps_per_epoch, f"epoch {self.epoch + 1}/{self.config.epochs}",
                        progress)
        for index_in_epoch, index in enumerate(bar):
            if index_in_epoch < skip:
                continue
            if self.step >= self.total:
                break
            self._train_step(index, bar)
        if hasattr(bar, "close"):
            bar.close()
        self._end_epoch(evaluate)

    def _train_step(self, index, bar):
        every = self.config.log_eigenvalues_every
        if every and self.step % every == 0:
            self.log_eigenvalues()
        loss = self.optimizer_step(index)
        self.step += 1
        self.history.step_loss.append(loss)
        self.running.append(loss)
        if hasattr(bar, "set_postfix") and self.step % 10 == 0:
            bar.set_postfix(loss=f"{np.mean(self.running[-10:]):.4g}")
        if self.config.checkpoint_every and self.step % self.config.checkpoint_every == 0:
            self.save()

    def _end_epoch(self, evaluate):
        record = {"epoch": self.epoch + 1, "step": self.step,
                  "train_loss": float(np.mean(self.running)) if self.running else float("nan")}
        if evaluate is not None:
            _sync_buffers(self.model, self.world_size)
            self.model.eval()
            with torch.no_grad():
                record.update(_mean_over_processes(evaluate(self.model), self.world_size))
        self.history.epochs.append(record)
        self.epoch, self.running = self.epoch + 1, []
        self.save()

    def finish(self):
        _sync_buffers(self.model, self.world_size)
        self.log_eigenvalues()
        self.save()
        return self.history


def train(model, train_data, loss_fn, config, evaluate=None, checkpoint=None, device=None,
          progress=True, identity=None, restart=False):
    """Train `model` on `train_data`, a tuple of equally long tensors (inputs, targets, ...).

    loss_fn(model, batch) -> the mean loss over the batch's rows, where batch is that tuple's
    rows on the device; it must call model(...) (under torchrun that is the DDP wrapper).
    evaluate(model) -> dict of metrics, called after every epoch (in eval mode, no grad).
    checkpoint: a file path; if it exists the run resumes from it, and it is rewritten
    atomically every `checkpoint_every` steps and after every epoch.
    identity: a JSON-serialisable dict naming the run (experiment, its configuration, setting,
    seed, data source). The checkpoint stores it with the TrainConfig, the data's rows and
    fingerprint and the fbssm version; resuming from a checkpoint whose identity differs raises
    CheckpointMismatch naming the fields. restart=True ignores an existing checkpoint.
    Under torchrun every process makes this call with the same arguments.
    Returns the History. Raises FloatingPointError on a NaN/inf loss.
    """
    identity = _check_arguments(train_data, loss_fn, config, evaluate, identity, restart)
    run = _Run(model, train_data, loss_fn, config, checkpoint, device)
    run.resume(identity, restart)
    progress = progress and run.rank == 0
    while run.epoch < config.epochs and run.step < run.total:
        run.train_epoch(evaluate, progress)
    return run.finish()
