"""Command line: run an experiment outside the notebooks and write its results JSON.

`fbssm` (the console script) and `python -m fbssm` are the same program.

    fbssm --version
    python -m fbssm list
    python -m fbssm run waves [--scale quick|paper] [--alpha A --beta B] [--seed S] [--device D]
                              [--out DIR] [--max-steps N]
    python -m fbssm run lra-listops --scale paper --device cuda --max-steps 20000
    torchrun --nproc_per_node=8 -m fbssm run lra-image --scale paper [--precision bfloat16] [--accumulate K]
"""
import argparse
import json
import sys
from dataclasses import replace

from . import __version__, experiments
from ._checks import check_finite, check_length, check_positive
from .device import SCALES, is_main_process
from .train import PRECISIONS


def parser():
    p = argparse.ArgumentParser(prog="fbssm", description="fbssm experiments.")
    p.add_argument("--version", action="version", version=f"fbssm {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the experiments and their (α, β) settings")
    run = sub.add_parser("run", help="run one experiment and write <out>/<experiment>-<scale>.json",
                         description="Experiments: " + ", ".join(sorted(experiments.EXPERIMENTS)))
    run.add_argument("experiment", choices=sorted(experiments.EXPERIMENTS))
    run.add_argument("--scale", choices=SCALES, default=None,
                     help="quick (CPU minutes, default) or paper (the paper's configuration); "
                          "default: $FBSSM_SCALE or quick")
    run.add_argument("--alpha", type=float, help="α: scale of Im(a_j) at initialisation (with --beta: "
                                                 "run this one setting instead of the paper's settings)")
    run.add_argument("--beta", type=float, help="β: Sobolev filter exponent (lra-*: its initial value; "
                                                "β is trained, as in the paper's LRA runs)")
    run.add_argument("--seed", type=int, action="append", help="seed (repeatable); default: the config's")
    run.add_argument("--device", default=None, help="cuda, mps or cpu (default: the best available)")
    run.add_argument("--out", default="results", help="folder for the results JSON and checkpoints")
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
    return p


def settings_text(name):
    module = experiments.experiment(name)
    if hasattr(module, "describe_settings"):
        return module.describe_settings(experiments.task_of(name))
    return f"(α, β) {list(module.SETTINGS)}"


def main(argv=None):
    args = parser().parse_args(argv)
    if args.command == "list":
        for name in sorted(experiments.EXPERIMENTS):
            print(f"{name}: settings {settings_text(name)}")
        return 0
    module = experiments.experiment(args.experiment)
    config = experiments.config_for(args.experiment, args.scale)
    options = {}  # no --alpha/--beta: the module's own settings for this configuration
    if (args.alpha is None) != (args.beta is None):
        parser().error("give both --alpha and --beta, or neither")
    if args.alpha is not None:
        options["settings"] = ((check_positive("alpha", args.alpha), check_finite("beta", args.beta)),)
    if args.seed:
        config = replace(config, seeds=tuple(args.seed))
    if args.max_steps is not None:
        config = replace(config, train=replace(config.train, max_steps=check_length("max_steps",
                                                                                    args.max_steps)))
    if args.checkpoint_every is not None:
        config = replace(config, train=replace(config.train, checkpoint_every=check_length(
            "checkpoint_every", args.checkpoint_every)))
    for option in ("precision", "accumulate"):
        if getattr(args, option) is not None:
            config = replace(config, train=replace(config.train, **{option: getattr(args, option)}))
    results = module.run(config, device=args.device, out=args.out, progress=not args.no_progress,
                         **options)
    if is_main_process():  # under torchrun every process holds the results; one reports them
        print(json.dumps({k: results[k] for k in ("experiment", "scale")}), f"→ {args.out}/", file=sys.stderr)
        if "data" in results:
            print(f"data: {results['data']}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
