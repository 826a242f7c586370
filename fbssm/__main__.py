"""Command line: run an experiment outside the notebooks and write its results JSON.

`fbssm` (the console script) and `python -m fbssm` are the same program.

    fbssm --version
    python -m fbssm list
    python -m fbssm run waves [--scale quick|paper] [--alpha A --beta B] [--seed S] [--device D]
                              [--out DIR] [--max-steps N] [--restart] [--traceback]
    python -m fbssm run lra-listops --scale paper --device cuda --max-steps 20000
    fbssm fetch cifar10 [--root DIR] [--no-progress]       (download a real dataset; --list: all of them)
    torchrun --nproc_per_node=8 -m fbssm run lra-image --scale paper [--precision bfloat16] [--accumulate K]
"""
import argparse
import json
import sys
from dataclasses import replace

from . import __version__, experiments
from ._checks import check_count, check_finite, check_length, check_positive
from ._files import check_writable_folder
from .data.errors import DownloadFailed
from .data.fetch import REGISTRY, describe, fetch
from .device import SCALES, check_device, is_main_process
from .train import PRECISIONS


class Parser(argparse.ArgumentParser):
    """argparse, but a mistake on the command line is one line: ``fbssm: error: <message>``."""

    def error(self, message):
        fail(message)


def fail(message):
    """Print ``fbssm: error: <message>`` (one line) to stderr and exit with status 2."""
    print(f"fbssm: error: {' '.join(str(message).split())}", file=sys.stderr)
    raise SystemExit(2)


def parser():
    p = Parser(prog="fbssm", description="fbssm experiments.")
    p.add_argument("--version", action="version", version=f"fbssm {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the experiments and their (α, β) settings")
    run = sub.add_parser("run", help="run one experiment and write <out>/<experiment>-<scale>.json",
                         description="Experiments: " + ", ".join(sorted(experiments.EXPERIMENTS)))
    run.add_argument("experiment", choices=sorted(experiments.EXPERIMENTS))
    run.add_argument("--scale", choices=SCALES, default=None,
                     help="quick (CPU minutes, default), gpu (one consumer GPU, the real data) or paper "
                          "(the paper's configuration); "
                          "default: $FBSSM_SCALE or quick")
    run.add_argument("--alpha", type=float, help="α: scale of Im(a_j) at initialisation (with --beta: "
                                                 "run this one setting instead of the paper's settings)")
    run.add_argument("--beta", type=float, help="β: Sobolev filter exponent (lra-*: its initial value; "
                                                "β is trained, as in the paper's LRA runs)")
    run.add_argument("--seed", type=int, action="append",
                     help="seed, an integer >= 0 (repeatable); default: the config's")
    run.add_argument("--device", default=None, help="cpu, cuda, cuda:N or mps (default: the best available)")
    run.add_argument("--out", default="results",
                     help="folder for the results JSON and checkpoints (default: results)")
    run.add_argument("--max-steps", type=int, default=None,
                     help="stop every run after this many optimiser steps (the schedule shrinks to "
                          "match); the results record the steps run")
    run.add_argument("--precision", choices=PRECISIONS, default=None,
                     help="bfloat16: mixed precision (autocast; the SSM kernel and FFTs stay float32)")
    run.add_argument("--accumulate", type=int, default=None,
                     help="micro-batches per optimiser step (the global batch stays the config's)")
    run.add_argument("--checkpoint-every", type=int, default=None,
                     help="also checkpoint every N optimiser steps (default: at the end of each epoch)")
    run.add_argument("--no-progress", action="store_true", help="no progress bars")
    run.add_argument("--restart", action="store_true",
                     help="start every run from scratch, even where a checkpoint exists")
    run.add_argument("--traceback", action="store_true",
                     help="on an error, show the full traceback instead of one line")
    add_fetch_parser(sub)
    return p


def add_fetch_parser(sub):
    """`fbssm fetch <dataset> [--root DIR]` and `fbssm fetch --list`."""
    command = sub.add_parser("fetch", help="download a real dataset into the folder its loader reads",
                             description="Datasets: " + ", ".join(REGISTRY))
    command.add_argument("dataset", nargs="?", choices=list(REGISTRY))
    command.add_argument("--root", default=None,
                         help="the folder to put it in (default: where its loader looks, "
                              "$FBSSM_DATA/<dataset>; for listops, aan and pathfinder $FBSSM_DATA, "
                              "which gets lra_release/)")
    command.add_argument("--list", action="store_true",
                         help="list the datasets with each file's URL, size and checksum")
    command.add_argument("--no-progress", action="store_true", help="no progress bars or messages")


def settings_text(name):
    module = experiments.experiment(name)
    if hasattr(module, "describe_settings"):
        return module.describe_settings(experiments.task_of(name))
    return f"(α, β) {list(module.SETTINGS)}"


# What a user can get wrong (an option, a file, a checkpoint of another run): one line, status 2.
USER_ERRORS = (ValueError, TypeError, FileNotFoundError, KeyError)


def main(argv=None):
    args = parser().parse_args(argv)
    if args.command == "list":
        for name in sorted(experiments.EXPERIMENTS):
            print(f"{name}: settings {settings_text(name)}")
        return 0
    if args.command == "fetch":
        return fetch_dataset(args)
    try:
        return run_experiment(args)
    except Exception as error:
        if args.traceback or not is_user_error(error):
            raise
        fail(error.args[0] if isinstance(error, KeyError) and error.args else error)


def is_user_error(error):
    """Whether `error` is one of `USER_ERRORS` or a CheckpointMismatch (a checkpoint of another run)."""
    return isinstance(error, USER_ERRORS) or any(kind.__name__ == "CheckpointMismatch"
                                                 for kind in type(error).__mro__)


def fetch_dataset(args):
    """`fbssm fetch`: print the downloads (--list), or fetch one dataset and print its folder; a
    failure (no network, a checksum mismatch, an unwritable --root) is one line."""
    if args.list:
        if args.dataset is not None:
            fail("give a dataset or --list, not both")
        print(describe())
        return 0
    if args.dataset is None:
        fail("give the dataset to fetch, or --list to see them")
    try:
        folder = fetch(args.dataset, args.root, progress=not args.no_progress)
    except (DownloadFailed, *USER_ERRORS) as error:
        fail(error)
    print(folder)
    return 0


def run_experiment(args):
    """`fbssm run`: check the options and --out, then run the experiment and report where its
    results went."""
    options = run_options(args)
    check_writable_folder(args.out, "--out")
    module = experiments.experiment(args.experiment)
    config = configured(experiments.config_for(args.experiment, args.scale), args)
    results = module.run(config, device=args.device, out=args.out, progress=not args.no_progress,
                         **options)
    if is_main_process():  # under torchrun every process holds the results; one reports them
        print(json.dumps({k: results[k] for k in ("experiment", "scale")}), f"→ {args.out}/", file=sys.stderr)
        if "data" in results:
            print(f"data: {results['data']}", file=sys.stderr)
    return 0


def run_options(args):
    """The options of `run` besides the configuration, every one checked: settings (from --alpha
    and --beta; none: the module's own for this configuration) and restart."""
    if (args.alpha is None) != (args.beta is None):
        raise ValueError("give both --alpha and --beta, or neither")
    for seed in args.seed or ():
        check_count("--seed", seed)
    for option in ("max_steps", "accumulate", "checkpoint_every"):
        if getattr(args, option) is not None:
            check_length(f"--{option.replace('_', '-')}", getattr(args, option))
    if args.device is not None:
        check_device(args.device, "--device")
    options = {}
    if args.alpha is not None:
        options["settings"] = ((check_positive("--alpha", args.alpha), check_finite("--beta", args.beta)),)
    if args.restart:
        options["restart"] = True
    return options


def configured(config, args):
    """`config` with the command line's --seed, --max-steps, --checkpoint-every, --precision and
    --accumulate (already checked by `run_options`)."""
    if args.seed:
        config = replace(config, seeds=tuple(args.seed))
    options = ("max_steps", "checkpoint_every", "precision", "accumulate")
    train = {option: getattr(args, option) for option in options if getattr(args, option) is not None}
    return replace(config, train=replace(config.train, **train)) if train else config


if __name__ == "__main__":
    sys.exit(main())
