"""Long Range Arena (paper §4.3, Table 3): six classification tasks whose answer depends on inputs
thousands of steps apart, solved by a deep bidirectional S4D, plain or with its frequency bias tuned.

  listops     nested MIN/MAX/MED/SM expressions as tokens → their value 0–9       L = 2048
  text        an IMDB review as bytes → its sentiment                             L = 4096
  retrieval   two ACL papers as bytes → does one cite the other?                  L = 4000 each
  image       a gray CIFAR-10 image, pixel by pixel → its class                   L = 1024
  pathfinder  a 32 × 32 picture, pixel by pixel → are the two dots joined?        L = 1024
  pathx       the same at 128 × 128                                               L = 16384

Model: token embedding or Linear(1 → H) → n_layers residual blocks of a bidirectional S4D
(GELU, 1×1 conv to 2H, GLU) → masked mean over the real length → Linear(H → classes). Retrieval
encodes both documents with the same network, pools each over its own length and classifies
[x1, x2, x1·x2, x1 − x2] with an MLP.

Settings: `PLAIN` is S4D-Lin with α = 1 and β = 0 fixed; `TUNED` scales Im(a_j) by the task's α
(`LRAConfig.alpha`, `freqscale` in the authors' config files) and trains β per channel from 0 with
its own learning rate (`TrainConfig.beta_lr`, 0.01) and no weight decay, on the LRA filter
(1 + k/M)^β. The authors' files say `init: legs`, but their diagonal kernel builds
a_n = −1/2 + i·α·π·n whatever `init` says, so the published code starts from S4D-Lin scaled by α:
`LRAConfig.init` is "lin", and init="legs" (S4D-LegS scaled by α) is offered as a variant.

Scales: `config_for_task(task, "paper")` is the paper's configuration (`PAPER`), on the official
files; a missing dataset raises DatasetNotFound. `"quick"` (`QUICK`) is CPU minutes: small models
and few steps; ListOps and Pathfinder come from the offline generators (short expressions, easy
contours) unless the official files are found; Text, Retrieval, Image and Path-X use the official
files when found and otherwise a small synthetic stand-in of the same shapes, which the results'
"data" field names as such (`fbssm.data.lra.STAND_IN`). The data, official or offline, come from
`fbssm.data.lra.load_task_data`; this module holds the configurations, models, training and
results, and follows the plan of `protocol` (settings, sweep, records).
"""
import math
import time
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import torch
import torch.nn as nn

from .._checks import check_choice, check_finite, check_length, check_positive
from ..data import lra as lra_data
from ..data.sequences import BYTE_VOCAB_SIZE
from ..device import current_scale
from ..layers import S4D, SequenceModel
from ..results import stored_result
from ..train import TrainConfig, train
from .classification import accuracy, loss_fn, majority_rate
from .protocol import Setting, as_setting, as_settings, results_of, sweep

TASKS = ("listops", "text", "retrieval", "image", "pathfinder", "pathx")
N_CLASSES = {"listops": 10, "text": 2, "retrieval": 2, "image": 10, "pathfinder": 2, "pathx": 2}
TOKEN_TASKS = ("listops", "text", "retrieval")
# Training-split sizes of the official data as these loaders read them (to turn steps into epochs):
# Image trains on 45,000 of CIFAR-10's 50,000 (the PAPER configuration holds 5,000 out for
# validation, as the authors' val_split 0.1 does); Pathfinder and Path-X on the 80 % train part
# of 200,000 images.
LRA_TRAIN_SIZES = {"listops": 96_000, "text": 25_000, "retrieval": 147_086, "image": 45_000,
                   "pathfinder": 160_000, "pathx": 160_000}
# The tuned S4D's average test accuracy (%) over the six tasks, as the abstract of arXiv
# 2410.02035 states it. The per-task values and the other models' rows of the paper's Table 3
# are not kept here: they could not be confirmed from the paper's text.
PAPER_LRA_AVERAGE = 88.26
# What the authors' config files (configs/experiment/lra/bias-s4-<task>.yaml) also set and the
# PAPER configurations do not follow. trainer.max_epochs: the PAPER configurations train for the
# schedule's num_training_steps instead (with these loaders' split sizes max_epochs runs past it on
# four tasks and stops short of it on Retrieval and Path-X; how long the paper's runs were is not
# stated). Δ's learning rate: the token
# tasks give Δ the optimiser's lr (`lr: {dt: null, A: …}`) and A the SSM lr (`CONFIG_FILE_DT_LR`
# below); fbssm's `param_groups` trains Δ with A at the SSM lr.
CONFIG_FILE_MAX_EPOCHS = {"listops": 160, "text": 200, "retrieval": 40, "image": 1200,
                          "pathfinder": 300, "pathx": 150}


PLAIN = Setting(1.0, 0.0, False, name="plain")
TUNED = Setting(None, 0.0, True, name="tuned")    # alpha=None: the task's α (`LRAConfig.alpha`)
SETTINGS = (PLAIN, TUNED)


def _resolved(settings, config):
    """Settings of an LRA run: Settings, or (α, β) pairs read the LRA way (β trainable from β),
    with alpha=None resolved to the task's α."""
    return tuple(s.with_alpha(config.alpha) for s in as_settings(settings, trainable_beta=True))


def describe(setting, config=None):
    """A setting in words: "tuned (α = 3, β trainable from 0)"; alpha=None reads as the task's α
    (its value when `config` is given)."""
    setting = as_setting(setting, trainable_beta=True)
    alpha = setting.alpha
    if alpha is None:
        alpha = "the task's α" if config is None else f"{config.alpha:g}"
    elif not isinstance(alpha, str):
        alpha = f"{alpha:g}"
    beta = f"β trainable from {setting.beta:g}" if setting.trainable_beta else f"β = {setting.beta:g} fixed"
    return f"{setting.label} (α = {alpha}, {beta})"


@dataclass(frozen=True)
class LRAConfig:
    """One task at one scale. batch_size is global (all devices together): train.batch_size."""
    task: str
    scale: str
    l_max: int                       # sequence length (Retrieval: per document)
    d_model: int                     # H
    n_layers: int
    d_state: int                     # N complex modes per channel
    alpha: float                     # the tuned setting's α
    norm: str                        # "batch" | "layer"
    prenorm: bool
    dropout: float
    dt_min: float
    dt_max: float
    shared_eigenvalues: bool         # one set of a_j per layer (Δ and C stay per channel)
    train: TrainConfig
    seeds: tuple
    bidirectional: bool = True
    n_train: int | None = None       # None: the whole split
    n_val: int | None = None
    n_test: int | None = None
    data: str = "lra"                # "lra" official files | "offline" generator/stand-in | "auto"
    offline: dict = field(default_factory=dict)   # knobs of the generator or stand-in
    data_seed: int = 1234            # generated data is the same for every model seed
    eval_batch_size: int = 64
    threads: int | None = None       # CPU threads while running (None: torch's setting)
    init: str = "lin"                # the a_j before α: "lin" (what the authors' code builds) | "legs" | "inv"
    pooling: str = "mean"            # "mean" over the real length | "last" real step (ListOps' file)

    @property
    def batch_size(self):
        return self.train.batch_size

    @property
    def n_classes(self):
        return N_CLASSES[self.task]

    @property
    def vocab_size(self):
        """Token vocabulary (ListOps 17, bytes 257), None for pixel tasks."""
        return {"listops": lra_data.LISTOPS_VOCAB_SIZE, "text": BYTE_VOCAB_SIZE,
                "retrieval": BYTE_VOCAB_SIZE}.get(self.task)


def _paper(task, l_max, d_model, norm, prenorm, dropout, lr, ssm_lr, batch, wd, alpha, dt_min, steps,
           warmup, shared, d_state=64, pooling="mean"):
    """One task of the authors' config files: 6 layers, bidirectional, AdamW, cosine with warm-up
    per step, S4D-Lin scaled by α, β trainable from 0 at learning rate 0.01 (`lr_s`), 5 seeds.
    ssm_lr is the files' lr of A; shared is `n_ssm: 1` (one set of a_j per layer)."""
    epochs = math.ceil(steps / math.ceil(LRA_TRAIN_SIZES[task] / batch))
    return LRAConfig(task=task, scale="paper", l_max=l_max, d_model=d_model, n_layers=6,
                     d_state=d_state, alpha=alpha, norm=norm, prenorm=prenorm, dropout=dropout,
                     dt_min=dt_min, dt_max=0.1, shared_eigenvalues=shared, seeds=(0, 1, 2, 3, 4),
                     data="lra", n_val=5_000 if task == "image" else None, pooling=pooling,
                     train=TrainConfig(epochs=epochs, max_steps=steps, batch_size=batch, lr=lr,
                                       weight_decay=wd, ssm_lr=ssm_lr, beta_lr=0.01,
                                       warmup_steps=warmup))


# ListOps: n = 2 modes as the paper's text says; the published config file has 64
# (config_for_task("listops", "paper", d_state=64)). Its file keeps the pipeline's decoder, the
# output at the last real step; the other five pool over the length.
PAPER = {
    "listops": _paper("listops", 2048, 128, "batch", True, 0.0, 0.008, 0.004, 32, 0.03, 3.0, 1e-3,
                      150_000, 5_000, True, d_state=2, pooling="last"),
    "text": _paper("text", 4096, 256, "batch", True, 0.0, 0.01, 0.001, 32, 0.05, 5.0, 1e-3,
                   20_000, 2_000, True),
    "retrieval": _paper("retrieval", 4000, 128, "batch", True, 0.0, 0.004, 0.001, 64, 0.03, 3.0, 1e-3,
                        100_000, 5_000, True),
    "image": _paper("image", 1024, 512, "layer", False, 0.1, 0.01, 0.001, 50, 0.01, 3.0, 1e-3,
                    180_000, 18_000, False),
    "pathfinder": _paper("pathfinder", 1024, 256, "batch", True, 0.0, 0.004, 0.001, 50, 0.03, 3.0, 1e-3,
                         800_000, 150_000, True),
    "pathx": _paper("pathx", 16384, 128, "batch", True, 0.0, 0.001, 0.001, 20, 0.03, 5.0, 1e-4,
                    1_250_000, 200_000, False),
}

# Δ's learning rate in the config files: the optimiser's lr on the token tasks, A's elsewhere.
CONFIG_FILE_DT_LR = {task: c.train.lr if task in TOKEN_TASKS else c.train.ssm_lr
                     for task, c in PAPER.items()}


def _quick(task, l_max, n_train, n_test, epochs, batch, lr, offline=None, d_model=32, n_layers=2,
           d_state=16, n_val=None, **changes):
    """A CPU-minutes version of the paper's row: same architecture, α, optimiser groups and ratio
    of SSM to other learning rate; smaller model, data and schedule, one CPU thread, three seeds."""
    paper = PAPER[task]
    return replace(paper, scale="quick", l_max=l_max, d_model=d_model, n_layers=n_layers,
                   d_state=d_state, n_train=n_train, n_val=n_val, n_test=n_test, data="auto",
                   offline=offline or {}, seeds=(0, 1, 2), threads=1, eval_batch_size=100,
                   train=replace(paper.train, epochs=epochs, max_steps=None, batch_size=batch, lr=lr,
                                 ssm_lr=lr * paper.train.ssm_lr / paper.train.lr, warmup_steps=10),
                   **changes)


# ListOps averages over the length here, not the paper's last step: from a few hundred steps the
# two-layer model learns more from the mean (pooling="last" is the file's choice).
QUICK = {
    "listops": _quick("listops", 64, 2_000, 400, 6, 32, 0.01, n_val=400, pooling="mean",
                      offline=dict(max_depth=4, max_args=4, min_length=6, max_length=60)),
    "text": _quick("text", 512, 400, 200, 2, 16, 0.01, n_val=200, offline=dict(clue_words=("good", "bad"))),
    "retrieval": _quick("retrieval", 256, 400, 200, 2, 16, 0.01, n_val=200, offline=dict(key_bytes=4)),
    "image": _quick("image", 1024, 800, 200, 2, 32, 0.01, n_val=200),
    "pathfinder": _quick("pathfinder", 1024, 2_400, 300, 4, 16, 0.01, n_val=300, d_model=16, d_state=8,
                         offline=dict(n_paths=2, segments=3)),
    "pathx": _quick("pathx", 16384, 64, 32, 1, 8, 0.01, d_model=16, n_layers=1, d_state=8, n_val=32,
                    offline=dict(n_paths=2, segments=8)),
}


def _gpu(task, d_model, n_layers, steps, n_train=None, n_val=None, n_test=None):
    """One consumer GPU, about 15 minutes for plain and tuned on one seed: the official files, the
    paper's length, α, normalisation, pooling, optimiser groups, rates and warm-up share of the
    run; the paper's batch; a narrower and shallower model, far fewer steps (a fraction of an epoch), and, where a
    split would not fit a Colab machine's memory or the budget, its first examples."""
    paper = PAPER[task]
    batch = paper.train.batch_size
    train_size = n_train if task not in ("pathfinder", "pathx") else 0.8 * (n_train + n_val + n_test)
    epochs = math.ceil(steps / math.ceil((train_size or LRA_TRAIN_SIZES[task]) / batch))
    warmup = round(steps * paper.train.warmup_steps / paper.train.max_steps)
    return replace(paper, scale="gpu", d_model=d_model, n_layers=n_layers, n_train=n_train,
                   n_val=n_val if n_val is not None else paper.n_val, n_test=n_test, seeds=(0,),
                   eval_batch_size=100,
                   train=replace(paper.train, epochs=epochs, max_steps=steps, batch_size=batch,
                                 warmup_steps=warmup))


# Plain against tuned at this budget: a thousand-odd steps of the paper's recipe. ListOps and Image
# leave chance within them and can show the tuned model learning faster; Table 3's gaps (a few
# points after full training) are not expected to be resolved by one seed. Pathfinder and Path-X
# stay near chance for many epochs in the paper's runs too: on them this scale checks the pipeline
# on the official files, not the paper's effect.
GPU = {
    "listops": _gpu("listops", 128, 4, 900, n_val=1_000),
    "text": _gpu("text", 64, 4, 1_200, n_test=2_000),
    "retrieval": _gpu("retrieval", 64, 4, 400, n_train=20_000, n_val=1_000, n_test=2_000),
    "image": _gpu("image", 128, 4, 1_800),
    "pathfinder": _gpu("pathfinder", 64, 4, 2_400, n_train=40_000, n_val=5_000, n_test=5_000),
    "pathx": _gpu("pathx", 64, 2, 900, n_train=8_000, n_val=1_000, n_test=1_000),
}
CONFIGS = {"quick": QUICK, "gpu": GPU, "paper": PAPER}


def check_task(task):
    return check_choice("task", task, TASKS)


def config_for_task(task, scale=None, **changes):
    """The QUICK, GPU or PAPER configuration of `task` (scale from $FBSSM_SCALE by default);
    keyword arguments replace fields, e.g. d_state=64 for ListOps' published config file."""
    config = CONFIGS[current_scale(scale)][check_task(task)]
    return replace(config, **changes) if changes else config


def describe_settings(task, scale=None):
    """The settings of `task` in words (for `python -m fbssm list`)."""
    config = config_for_task(task, scale)
    return ", ".join(describe(setting, config) for setting in SETTINGS)


# ----------------------------------------------------------------------------- models

class RetrievalModel(nn.Module):
    """Both documents through one S4D encoder, each pooled over its own length, then
    MLP([x1, x2, x1·x2, x1 − x2]) → classes."""

    def __init__(self, encoder, d_model, n_classes):
        super().__init__()
        self.encoder = encoder
        self.head = nn.Sequential(nn.Linear(4 * d_model, d_model), nn.GELU(),
                                  nn.Linear(d_model, n_classes))

    def features(self, x, lengths=None):
        """[x1, x2, x1·x2, x1 − x2] of documents x (batch, 2, L) with lengths (batch, 2)."""
        if x.dim() != 3 or x.shape[1] != 2:
            raise ValueError(f"x must have shape (batch, 2, length), got {tuple(x.shape)}")
        pooled = self.encoder(x.flatten(0, 1), None if lengths is None else lengths.flatten())
        x1, x2 = pooled.view(x.shape[0], 2, -1).unbind(1)
        return torch.cat([x1, x2, x1 * x2, x1 - x2], -1)

    def forward(self, x, lengths=None):
        return self.head(self.features(x, lengths))


def build_model(config, alpha=1.0, beta=0.0, trainable_beta=None):
    """The task's S4D classifier for one (α, β); trainable_beta defaults to True unless the
    setting is plain S4D (α = 1, β = 0)."""
    alpha, beta = check_positive("alpha", alpha), check_finite("beta", beta)
    if trainable_beta is None:
        trainable_beta = (alpha, beta) != (1.0, 0.0)
    retrieval = config.task == "retrieval"
    inputs = dict(vocab_size=config.vocab_size) if config.task in TOKEN_TASKS else dict(d_input=1)
    encoder = SequenceModel(None if retrieval else config.n_classes, **inputs, d_model=config.d_model,
                            n_layers=config.n_layers, d_state=config.d_state, norm=config.norm,
                            prenorm=config.prenorm, dropout=config.dropout, pooling=config.pooling,
                            alpha=alpha, beta=beta, trainable_beta=trainable_beta,
                            bidirectional=config.bidirectional, dt_min=config.dt_min,
                            dt_max=config.dt_max, shared_eigenvalues=config.shared_eigenvalues,
                            filter_normalization="cycles", init=config.init)
    return RetrievalModel(encoder, config.d_model, config.n_classes) if retrieval else encoder


def example_batch(config, batch_size=None, seed=0):
    """Random tensors with the task's shapes and dtypes, full length: (inputs, [lengths,] labels).

    Tokens (B, L) long and lengths (B,) (Retrieval: (B, 2, L) and (B, 2)); pixels (B, L, 1) float32.
    """
    batch = check_length("batch_size", config.batch_size if batch_size is None else batch_size)
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(config.n_classes, (batch,), generator=g)
    if config.task not in TOKEN_TASKS:
        return torch.randn(batch, config.l_max, 1, generator=g), labels
    shape = (batch, 2) if config.task == "retrieval" else (batch,)
    tokens = torch.randint(1, config.vocab_size, (*shape, config.l_max), generator=g)
    return tokens, torch.full(shape, config.l_max, dtype=torch.long), labels


def learned_beta(model):
    """β of every S4D layer, a list (layers) of lists (channels; a fixed β repeated)."""
    return [m.beta.detach().cpu().expand(m.d_model).tolist() for m in model.modules() if isinstance(m, S4D)]


# ----------------------------------------------------------------------------- training

def run_setting(config, setting, seed, data, device=None, checkpoint=None, progress=True, identity=None,
                restart=False):
    """Train one setting and seed on `data` (a TaskData): per-epoch train loss, validation
    accuracy and mean β per layer; final test accuracy, "learned_beta" per layer and channel
    (the record's "beta" is the setting's), and the steps actually run. identity, restart: as
    `train` takes them (what the checkpoint is of; whether to ignore it)."""
    (setting,) = _resolved((setting,), config)
    torch.manual_seed(seed)
    model = build_model(config, setting.alpha, setting.beta, setting.trainable_beta)

    def evaluate(m):
        beta = learned_beta(m)
        return {"val_accuracy": accuracy(m, data.val, config.eval_batch_size, device),
                "beta_mean": [float(np.mean(b)) for b in beta]}

    start = time.time()
    history = train(model, data.train, loss_fn, replace(config.train, seed=seed), evaluate=evaluate,
                    checkpoint=checkpoint, device=device, progress=progress, identity=identity,
                    restart=restart)
    return {"steps": history.epochs[-1]["step"] if history.epochs else 0,
            "seconds": round(time.time() - start, 1),
            "test_accuracy": accuracy(model, data.test, config.eval_batch_size, device),
            "val_accuracy": history.epochs[-1]["val_accuracy"] if history.epochs else None,
            "epochs": history.epochs, "learned_beta": learned_beta(model)}


def run(config, settings=None, device=None, out=None, progress=True, data=None, restart=False):
    """Every setting (default: plain and tuned) × seed of `config`; results dict, also merged into
    out/lra-<task>-<scale>.json. settings: Settings, or (α, β) pairs (β trainable from β).
    data: a TaskData to reuse (default: `fbssm.data.lra.load_task_data(config)`); restart:
    ignore the checkpoints in `out`. A record's "beta" is β at initialisation when it trains."""
    settings = _resolved(SETTINGS if settings is None else settings, config)
    data = lra_data.load_task_data(config) if data is None else data
    name = f"lra-{config.task}"
    runs = sweep(name, config, settings, lambda setting, seed, checkpoint, identity: run_setting(
        config, setting, seed, data, device, checkpoint, progress, identity, restart), out, data=data.source)
    return results_of(name, config, runs, module=__name__, device=device, out=out, task=config.task,
                      data=data.source, synthetic=data.synthetic, sizes=data.sizes(),
                      majority_rate=majority_rate(data.test[-1]),
                      settings=[asdict(s) | {"label": describe(s, config)} for s in settings])


def stored_results(folder="results", scale="paper"):
    """task → results of every lra-<task>-<scale>.json found in ``folder`` or shipped with fbssm."""
    found = {task: stored_result(f"lra-{task}-{scale}", folder) for task in TASKS}
    return {task: results for task, results in found.items() if results is not None}


def config_row(config):
    """One configuration as a row of the book's table: task, L, H, layers, N, ..., seeds."""
    t = config.train
    return {"task": config.task, "L": config.l_max, "H": config.d_model, "layers": config.n_layers,
            "N": config.d_state, "init": config.init, "pooling": config.pooling, "norm": config.norm,
            "prenorm": config.prenorm, "dropout": config.dropout, "lr": t.lr, "SSM lr": t.ssm_lr,
            "β lr": t.beta_lr, "batch": t.batch_size, "WD": t.weight_decay, "α (tuned)": config.alpha,
            "Δ range": f"{config.dt_min:g}–{config.dt_max:g}",
            "steps": t.max_steps if t.max_steps else f"{t.epochs} epoch{'s' if t.epochs > 1 else ''}",
            "warm-up": t.warmup_steps,
            "eigenvalues": "shared" if config.shared_eigenvalues else "per channel",
            "seeds": len(config.seeds)}


def config_table(scale="paper"):
    """One row per task of the configurations (for the book's table)."""
    return [config_row(config_for_task(task, scale)) for task in TASKS]


# Why the QUICK configurations depart from the paper's, per column of `config_row` (and the data).
QUICK_REASONS = {
    "L": "ListOps' generated expressions are short, Text and Retrieval are cut short; the pixel tasks "
         "keep their length",
    "H": "a narrow model trains in CPU minutes",
    "layers": "fewer blocks, for CPU minutes",
    "N": "one count for the narrow quick models, between ListOps' value in the paper's text and the files'",
    "pooling": "on ListOps the mean learns more from a few hundred steps than the last step alone "
               "(exercise below)",
    "lr": "one rate for every task, at the top of the authors' range: a run has hundreds of steps, not "
          "thousands",
    "SSM lr": "follows lr, keeping each task's ratio of SSM to other learning rate",
    "batch": "small data sets: smaller batches give more optimiser steps per epoch",
    "steps": "a few epochs of at most a few thousand examples",
    "warm-up": "in proportion to a run of a few hundred steps",
    "seeds": "three seeds for a CPU page; Table 3 takes the median of five",
    "data": "no download; ListOps and Pathfinder are generated, the others are stand-ins",
}
# Why the GPU configurations depart from the paper's (one consumer GPU, about 15 minutes a task).
GPU_REASONS = {
    "H": "a narrower model: the budget of one consumer GPU",
    "layers": "fewer blocks: the budget of one consumer GPU",
    "steps": "a thousand-odd steps of the paper's recipe: about 15 minutes with both settings",
    "warm-up": "the paper's share of the run",
    "seeds": "one seed in the budget; Table 3 takes the median of five",
    "examples": "the first examples of a split, where the whole would not fit a Colab machine's memory "
                "or the budget",
}
REASONS = {"quick": QUICK_REASONS, "gpu": GPU_REASONS}
DATA_WORDS = {"lra": "the LRA files", "offline": "generated or stand-in",
              "auto": "the LRA files when found, else generated or stand-in"}


def _shown(value):
    return f"{value:g}" if isinstance(value, float) else str(value)


def departures(config):
    """Where `config` departs from the authors' configuration of its task (`PAPER[task]`): one
    Departure per column of `config_row`, then the data; the reasons are `QUICK_REASONS`."""
    from .departures import Departure
    paper = PAPER[check_task(config.task)]
    ours, authors = config_row(config), config_row(paper)
    reasons = REASONS.get(config.scale, QUICK_REASONS)
    rows = [Departure(key, _shown(ours[key]), _shown(authors[key]), reasons.get(key, ""))
            for key in ours if key != "task"]
    if config.scale == "gpu":
        rows.append(Departure("examples (train / val / test)", _examples(config), _examples(paper),
                              reasons["examples"]))
    return rows + [Departure("data", DATA_WORDS[check_choice("data", config.data, tuple(DATA_WORDS))],
                             DATA_WORDS["lra"], QUICK_REASONS["data"])]


def _examples(config):
    return " / ".join("all" if n is None else f"{n:,}" for n in (config.n_train, config.n_val, config.n_test))
