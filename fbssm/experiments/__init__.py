"""Experiments: one module per family, each with `QUICK` and `PAPER` configurations and a `run`.

`run(config, settings=None, device=None, out=None, progress=True)` trains every (α, β) setting
(default: the experiment's `SETTINGS`) and returns a results dict (also written to `out` as
JSON when given). The CLI (`python -m fbssm run <name>`) is a thin wrapper around it.

A module that serves a family of tasks (`lra`: one experiment "lra-<task>" per task) has
`config_for_task(task, scale)` instead of `QUICK` and `PAPER`; the task is the part of the
experiment's name after its first "-".
"""
import importlib

from ..device import current_scale

# experiment name → module in this package; one entry per line
EXPERIMENTS = {
    "waves": "waves",
    "denoising": "denoising",
    "scifar": "scifar",
    "lra-listops": "lra",
    "lra-text": "lra",
    "lra-retrieval": "lra",
    "lra-image": "lra",
    "lra-pathfinder": "lra",
    "lra-pathx": "lra",
    "moving-mnist": "moving_mnist",
}


def experiment(name):
    """The module of experiment `name` (see EXPERIMENTS)."""
    if name not in EXPERIMENTS:
        raise ValueError(f"experiment must be one of {sorted(EXPERIMENTS)}, got {name!r}")
    return importlib.import_module(f".{EXPERIMENTS[name]}", __name__)


def task_of(name):
    """The task of a family experiment: "lra-listops" → "listops"."""
    return name.split("-", 1)[1]


def config_for(name, scale=None):
    """The QUICK or PAPER configuration of an experiment (scale from $FBSSM_SCALE by default)."""
    module = experiment(name)
    scale = current_scale(scale)
    if hasattr(module, "config_for_task"):
        return module.config_for_task(task_of(name), scale)
    return module.PAPER if scale == "paper" else module.QUICK
