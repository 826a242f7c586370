"""Experiments: one module per family, each following the plan in `protocol`.

`run(config, settings=None, device=None, out=None, progress=True, data=None, restart=False)`
trains every setting (default: the experiment's `SETTINGS`) × seed and returns a results dict
(also merged into `out` as JSON when given). The CLI (`python -m fbssm run <name>`) is a thin
wrapper around it. The registry checks each module against the protocol when it imports it.

A module that serves a family of tasks (`lra`: one experiment "lra-<task>" per task) has
`config_for_task(task, scale)` instead of `QUICK` and `PAPER`; the task is the part of the
experiment's name after its first "-".
"""
import importlib

from ..device import current_scale
from .cases import paper_cases
from .departures import Departure, departure_table
from .protocol import Setting, check_experiment, find_run, per_seed, runs_of, setting_name

__all__ = ["EXPERIMENTS", "Departure", "Setting", "config_for", "departure_table", "experiment", "find_run",
           "paper_cases", "per_seed", "runs_of", "setting_name", "task_of"]

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
    return check_experiment(importlib.import_module(f".{EXPERIMENTS[name]}", __name__))


def task_of(name):
    """The task of a family experiment: "lra-listops" → "listops"."""
    return name.split("-", 1)[1]


def config_for(name, scale=None):
    """The QUICK, GPU or PAPER configuration of an experiment (scale from $FBSSM_SCALE by default)."""
    module = experiment(name)
    scale = current_scale(scale)
    if "config_for_task" in vars(module):
        return module.config_for_task(task_of(name), scale)
    return getattr(module, scale.upper())
