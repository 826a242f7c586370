"""Check `fbssm.suggest_alpha` against a grid of α, for Chapter 10: train the quick configurations
of the waves, the denoising, LRA ListOps and Pathfinder (generated data, as Chapter 7) and Moving
MNIST at β = 0 fixed over a grid of α (seeds 0 and 1), with the α the rule suggests from each
experiment's training inputs, rank the runs by a test metric, and store it all in
fbssm/stored/suggest-grid.json.

    .venv/bin/python scripts/suggest_grid.py                 # prints its estimate per part first
    .venv/bin/python scripts/suggest_grid.py --tiny --out results   # a smoke test in seconds

The waves and the denoising grids are fixed and the suggested α is trained beside them. On
ListOps, Pathfinder and Moving MNIST the suggested α is the fifth point of the grid, beside four
fixed ones around the experiment's own α (`FIXED_ALPHAS`): the regret is then read at the
suggestion itself, and a separate run is saved (a Moving MNIST run takes about a minute).

The inputs the rule reads, and its Δ: the waves' and the faces' fixed steps; for Pathfinder the
pixel sequences, for Moving MNIST every pixel's intensity over the T frames of the training
videos (each pixel and colour one sequence, those that never change left out: they hold no power),
both with the geometric mean of the model's Δ range, √(dt_min·dt_max). ListOps' inputs are token
ids, whose order means nothing: the rule reads their one-hot indicators instead (one channel per
token that occurs), a real signal that relabelling the tokens only permutes; the model's embedding
is a linear map of it. Every part's "suggestion" says what it read.

What is stored, per experiment ("waves", "denoising", "lra-listops", "lra-pathfinder",
"moving-mnist"):
  results     what `run(config, settings=..., progress=False)` returned: config, runs (the records,
              the grid's and the "suggested" setting's), data, meta (with that module's fingerprint);
  grid        the α of the grid, in order, the settings' labels, the suggested run's label and
              whether that run is a point of the grid;
  metric      its name, definition, whether lower is better, and its value for every run;
  suggestion  what `suggest_alpha` returned (α, β, band edge, share of power above the default
              top mode, the reason for β) and every argument it was called with, including which
              tensor it read and the step Δ.
The top-level meta fingerprints fbssm.suggest; each experiment's results carry their own.
--tiny shrinks every size (and the grids to two fixed α) and writes scale "tiny": a smoke test only.
"""
import argparse
import json
import math
import statistics
import time
from dataclasses import replace
from pathlib import Path

import torch

from fbssm import suggest_alpha
from fbssm.data import lra as lra_data
from fbssm.data import waves_step
from fbssm.data.stripes import DIRECTIONS
from fbssm.experiments import Setting, denoising, lra, moving_mnist, waves
from fbssm.results import run_metadata, save_results

STORED = Path(__file__).resolve().parent.parent / "fbssm" / "stored"
NAME = "suggest-grid"
SEEDS = (0, 1)
ENERGY = 0.95        # suggest_alpha's default: the band [0, ω_hi] holds 95 % of the power
HEADROOM = 0.98      # suggest_alpha's default: the top mode stays at or below 0.98·π
WAVES_ALPHAS = (0.1, 1.0, 3.0, 10.0, 30.0, 100.0)
# The denoising experiment's own α (1/3, 1, 10 and "flip", 30 at the quick scale) and 3, 100.
DENOISING_ALPHAS = (1 / 3, 1.0, 3.0, 10.0, denoising.FLIP, 100.0)
SUGGESTED = "suggested"   # the label of the run at the suggested α (β = 0)
LRA_TASKS = ("listops", "pathfinder")
# Beside the suggestion: plain S4D's α = 1 and the paper's 3 (ListOps, Pathfinder), Moving MNIST's
# default 1 and tuned 10; with the suggestions of the quick data (about 6.5, 12.5 and 33) the
# grids bracket them.
FIXED_ALPHAS = {"lra-listops": (1.0, 3.0, 10.0, 30.0), "lra-pathfinder": (1.0, 3.0, 10.0, 30.0),
                "moving-mnist": (1.0, 3.0, moving_mnist.TUNED_ALPHA, 100.0)}
CHAPTER_TIMES = STORED / "chapter-times.json"
CHAPTERS = {"waves": "05_waves", "denoising": "06_denoising", "lra-listops": "07_lra",
            "lra-pathfinder": "07_lra", "moving-mnist": "09_moving_mnist"}


def waves_metric(record):
    """The worst wave's test MSE: a model is as good as the wave it reads worst (lower is better)."""
    return max(record["per_wave_mse"])


def denoising_metric(record):
    """Mean over the two stripe directions of the test MSE to the clean face (lower is better).
    Not the noise-energy fraction: a layer that outputs nothing passes no noise. The MSE to the
    clean face counts the noise let through and the face lost, which is what a denoiser trades."""
    return statistics.fmean(record[d]["mse_to_clean"] for d in DIRECTIONS)


def accuracy_metric(record):
    """LRA: the test accuracy (higher is better)."""
    return record["test_accuracy"]


def video_metric(record):
    """Moving MNIST: the autoregressive horizon's MSE, averaged over its frames and over the red
    (fast) and blue (slow) digit, as Chapter 9 reads horizon["mse"] (lower is better)."""
    return statistics.fmean(statistics.fmean(record["horizon"]["mse"][c]) for c in moving_mnist.COLOURS)


# name → (title, definition, function, lower is better)
METRICS = {
    "waves": ("worst per-wave test MSE", "max over the waves of per_wave_mse", waves_metric, True),
    "denoising": ("mean test MSE to the clean face", "mean over vertical, horizontal of mse_to_clean",
                  denoising_metric, True),
    "lra-listops": ("test accuracy", "test_accuracy", accuracy_metric, False),
    "lra-pathfinder": ("test accuracy", "test_accuracy", accuracy_metric, False),
    "moving-mnist": ("mean horizon MSE, red and blue",
                     "mean over red, blue of the mean over the horizon's frames of horizon.mse",
                     video_metric, True),
}


def tiny_waves(config):
    """Waves small enough for a test: L = 1025 (odd), waves at s = 1, 8, 64, 256, one epoch."""
    return replace(config, scale="tiny", length=1025, frequencies=(1, 8, 64, 256), n_train=64,
                   n_test=32, channels=4, train=replace(config.train, epochs=1, batch_size=16))


def tiny_denoising(config):
    """Faces of 32 × 8 with 4 modes, the quick scale's relations kept (Δ = 1/(W(n − 1)), flip α)."""
    width, modes = 8, 4
    dt = denoising.scaled_step(width, modes)
    return replace(config, scale="tiny", height=32, width=width, modes=modes, dt=dt, filter_scale=1 / dt,
                   flip_alpha=denoising.harmonic_alpha(width, dt), n_train=8, n_test=4,
                   train=replace(config.train, epochs=1, batch_size=4))


def tiny_lra(config):
    """A few dozen examples, one block of width 4 and one epoch; the task's length and data."""
    return replace(config, scale="tiny", d_model=4, n_layers=1, d_state=4, n_train=32, n_val=16,
                   n_test=16, eval_batch_size=16,
                   train=replace(config.train, epochs=1, batch_size=16, warmup_steps=1))


def tiny_moving_mnist(config):
    """Videos of 6 frames of 16 × 16 (8-px digits at 4 and 0.4 px/frame), a one-block model."""
    return replace(config, scale="tiny", size=16, digit_size=8, speeds=(4.0, 0.4), length=6, context=3,
                   n_train=8, n_test=4, d_hidden=8, d_latent=8, n_layers=1, eval_batch_size=4,
                   train=replace(config.train, epochs=1, batch_size=4, warmup_steps=1))


def lra_config(task):
    """The quick configuration of an LRA task on the generated data (as Chapter 7), seeds 0 and 1."""
    return replace(lra.config_for_task(task, "quick"), data="offline", seeds=SEEDS)


def plans(tiny=False):
    """name → (module, config, α grid): the quick configurations with seeds 0 and 1, or tiny ones.
    The grids of the parts in FIXED_ALPHAS are their fixed α (the suggestion joins them)."""
    plan = {"waves": (waves, replace(waves.QUICK, seeds=SEEDS), WAVES_ALPHAS),
            "denoising": (denoising, replace(denoising.QUICK, seeds=SEEDS), DENOISING_ALPHAS),
            **{f"lra-{task}": (lra, lra_config(task), FIXED_ALPHAS[f"lra-{task}"]) for task in LRA_TASKS},
            "moving-mnist": (moving_mnist, replace(moving_mnist.QUICK, seeds=SEEDS),
                             FIXED_ALPHAS["moving-mnist"])}
    if tiny:
        plan = {"waves": (waves, tiny_waves(plan["waves"][1]), (1.0, 10.0)),
                "denoising": (denoising, tiny_denoising(plan["denoising"][1]), (1.0, denoising.FLIP)),
                **{f"lra-{task}": (lra, tiny_lra(plan[f"lra-{task}"][1]), (1.0, 3.0)) for task in LRA_TASKS},
                "moving-mnist": (moving_mnist, tiny_moving_mnist(plan["moving-mnist"][1]), (1.0, 10.0))}
    return plan


def load_data(name, module, config):
    """The data `module.run` takes for this part (LRA: a TaskData)."""
    return lra_data.load_task_data(config) if module is lra else module.load_data(config)


def geometric_step(config):
    """√(dt_min·dt_max): the one Δ the rule takes for a layer that draws Δ log-uniformly."""
    return math.sqrt(config.dt_min * config.dt_max)


def one_hot_tokens(ids, vocab_size):
    """(n, L, V') float one-hot indicators of token ids (n, L), one channel per token that occurs
    and changes along some sequence (a constant channel holds no power); and the kept token ids."""
    indicators = torch.nn.functional.one_hot(ids.long(), vocab_size).double()
    kept = (indicators.amax(1) > indicators.amin(1)).any(0)
    return indicators[..., kept], kept.nonzero().flatten().tolist()


def pixel_series(frames):
    """(m, T, 1): every pixel's and colour's intensity over the T frames of videos (n, T, C, S, S),
    the m series that change (a constant one holds no power once its mean is removed)."""
    series = frames.movedim(1, -1).reshape(-1, frames.shape[1])
    return series[series.amax(1) > series.amin(1)].unsqueeze(-1)


def training_inputs(name, config, data):
    """(u, Δ, modes, what u is) for suggest_alpha: the training inputs the model sees and its step."""
    if name == "waves":
        u = data[0][0]
        return u, waves_step(config.length), config.modes, (
            f"waves.load_data(config)[0][0]: the {len(u)} training sequences (the amplitude grid), "
            f"shape {tuple(u.shape)}; Δ = waves_step(L) = 2π/{config.length}. The waves model's modes are "
            f"π(1.3 + j)·α, which suggest_alpha does not know: it was asked for S4D-Lin ('lin', π·j·α) with "
            f"the same number of modes, so the model's top mode sits (0.3 + n)/(n - 1) = "
            f"{(0.3 + config.modes) / (config.modes - 1):.4g} times higher than the rule's")
    if name == "denoising":
        u = data[0]
        return u, config.dt, config.modes, (
            f"denoising.load_data(config)[0]: the {len(u)} clean training faces flattened row by row, "
            f"shape {tuple(u.shape)} ({data[2]}); Δ = config.dt = 1/(W(n − 1)); the model's modes are "
            f"S4D-Lin's π·j·α")
    return special_inputs(name, config, data)


def special_inputs(name, config, data):
    """training_inputs for the LRA and Moving MNIST parts (Δ: the geometric mean of the range)."""
    dt = geometric_step(config)
    step = f"Δ = √(dt_min·dt_max) = √({config.dt_min:g}·{config.dt_max:g}), the geometric mean of the " \
           f"model's log-uniform Δ range; the model's modes are S4D-Lin's π·j·α"
    if name == "lra-listops":
        u, kept = one_hot_tokens(data.train[0], config.vocab_size)
        return u, dt, config.d_state, (
            f"the {len(u)} training expressions' token ids (fbssm.data.lra.load_task_data(config).train[0], "
            f"{data.source}) as one-hot indicators, shape {tuple(u.shape)}: one channel per token id that "
            f"occurs ({len(kept)} of {config.vocab_size}: ids {kept}; the padding id 0 included, the "
            f"model reads it); token ids are "
            f"not a signal, their indicators are, and the model's embedding is a linear map of them; {step}")
    if name == "lra-pathfinder":
        u = data.train[0]
        return u, dt, config.d_state, (
            f"fbssm.data.lra.load_task_data(config).train[0]: the {len(u)} training pictures as pixel "
            f"sequences, shape {tuple(u.shape)} ({data.source}); {step}")
    u = pixel_series(data[0].frames)
    return u, dt, config.d_state, (
        f"moving_mnist.load_data(config)[0].frames, shape {tuple(data[0].frames.shape)} "
        f"({data[0].source}): every pixel's and colour's intensity over the {config.length} frames, "
        f"one sequence each, the {len(u)} that change, shape {tuple(u.shape)} (the model reads the frames "
        f"through its encoder; its S4D runs over time); {step}")


def suggestion_record(suggestion, dt, modes, what):
    """What suggest_alpha returned and how it was called (enough to call it again)."""
    return {"alpha": suggestion.alpha, "beta": suggestion.beta, "band_edge": suggestion.pooled_band_edge,
            "high_share": suggestion.high_share, "reason": suggestion.reason,
            "top_mode_before": float(suggestion.modes_before.max()),
            "top_mode_after": float(suggestion.modes_after.max()),
            "call": {"function": "fbssm.suggest_alpha", "dt": dt, "energy": suggestion.energy,
                     "modes": modes, "init": suggestion.init, "headroom": HEADROOM},
            "inputs": what}


def run_experiment(name, tiny=False, progress=False):
    """Train one experiment's grid and its suggested α (β = 0 fixed); the part of the results
    file it fills. progress: print one line when the experiment is done (training prints nothing)."""
    module, config, alphas = plans(tiny)[name]
    data = load_data(name, module, config)
    u, dt, modes, what = training_inputs(name, config, data)
    suggestion = suggest_alpha(u, dt, energy=ENERGY, modes=modes, init="lin", headroom=HEADROOM)
    suggested = Setting(suggestion.alpha, 0.0, False, name=SUGGESTED)
    in_grid = name in FIXED_ALPHAS
    grid = [Setting(alpha, 0.0, False) for alpha in alphas] + ([suggested] if in_grid else [])
    settings = grid if in_grid else grid + [suggested]
    start = time.time()
    results = module.run(config, settings=settings, progress=False, data=data)
    title, definition, metric, lower = METRICS[name]
    values = [{"setting": r["setting"], "alpha": r["alpha"], "seed": r["seed"], "value": metric(r)}
              for r in results["runs"]]
    if progress:
        print(f"{name}: {len(values)} runs in {time.time() - start:.0f} s; suggested α = "
              f"{suggestion.alpha:.4g}, β = {suggestion.beta:+g}", flush=True)
    resolved = [denoising.resolve_alpha(config, s.alpha) if name == "denoising" else s.alpha for s in grid]
    return {"results": results,
            "grid": {"alphas": resolved, "labels": [s.label for s in grid], "beta": 0.0,
                     "trainable_beta": False, "suggested_label": SUGGESTED, "suggested_in_grid": in_grid},
            "metric": {"name": title, "definition": definition, "lower_is_better": lower, "runs": values},
            "suggestion": suggestion_record(suggestion, dt, modes, what)}


def estimated_minutes(tiny=False):
    """name → estimated minutes of this part: its runs times the seconds per run of its chapter,
    read from chapter-times.json as the slowest cell (the training) over the chapter's runs; the
    two LRA tasks share Chapter 7's average. None where the file holds no such measurement."""
    times = json.loads(CHAPTER_TIMES.read_text()) if CHAPTER_TIMES.exists() else {"runs": {}}
    estimates = {}
    for name, (module, config, alphas) in plans(tiny).items():
        pages = [run["chapters"].get(CHAPTERS[name]) for run in times["runs"].values()]
        seconds = [page["slowest_seconds"] for page in pages if page and page.get("slowest_seconds")]
        runs = (len(alphas) + 1) * len(config.seeds)
        per_run = min(seconds) / chapter_runs(name) if seconds else None
        estimates[name] = None if per_run is None else runs * per_run / 60
    return estimates


def chapter_runs(name):
    """The number of runs the chapter of `name` trains at the quick scale (its training cell)."""
    if name.startswith("lra-"):
        return len(LRA_TASKS) * len(lra.SETTINGS) * len(lra.QUICK["listops"].seeds)
    module = {"waves": waves, "denoising": denoising, "moving-mnist": moving_mnist}[name]
    return len(module.SETTINGS) * len(module.QUICK.seeds)


def grid_results(tiny=False, progress=False):
    """The results dict of the whole check (every experiment)."""
    parts = {name: run_experiment(name, tiny, progress) for name in plans(tiny)}
    return {"experiment": NAME, "scale": "tiny" if tiny else "quick", "seeds": list(SEEDS), **parts,
            "meta": run_metadata(module="fbssm.suggest")}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="a smoke test: every size shrunk")
    parser.add_argument("--out", type=Path, default=None,
                        help="folder for suggest-grid.json (default: fbssm/stored, or results with --tiny)")
    args = parser.parse_args(argv)
    out = args.out or (Path("results") if args.tiny else STORED)
    out.mkdir(parents=True, exist_ok=True)
    if not args.tiny:
        for name, minutes in estimated_minutes().items():
            print(f"{name}: about {minutes:.0f} minutes" if minutes is not None else
                  f"{name}: no estimate ({CHAPTER_TIMES.name} holds no time of its chapter)", flush=True)
    results = grid_results(args.tiny, progress=True)
    path = save_results(out / f"{NAME}.json", results)
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    main()
