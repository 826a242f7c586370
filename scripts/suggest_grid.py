"""Check `fbssm.suggest_alpha` against a grid of α, for Chapter 10: train the waves and the
denoising quick configurations at β = 0 over a grid of α (seeds 0 and 1), and once more at the
α the rule suggests from each experiment's training inputs, rank the runs by a test metric, and
store it all in fbssm/stored/suggest-grid.json.

    .venv/bin/python scripts/suggest_grid.py                 # about 25 minutes on 2 CPU cores
    .venv/bin/python scripts/suggest_grid.py --tiny --out results   # a smoke test in seconds

What is stored, per experiment ("waves", "denoising"):
  results     what `run(config, settings=..., progress=False)` returned: config, runs (the records,
              the grid's and the "suggested" setting's), data, meta (with that module's fingerprint);
  grid        the α of the grid, in order, and the settings' labels;
  metric      its name, definition, whether lower is better, and its value for every run;
  suggestion  what `suggest_alpha` returned (α, β, band edge, share of power above the default
              top mode, the reason for β) and every argument it was called with, including which
              tensor it read and the step Δ.
The top-level meta fingerprints fbssm.suggest; each experiment's results carry their own.
--tiny shrinks every size (and the grids to two α) and writes scale "tiny": a smoke test only.
"""
import argparse
import statistics
import time
from dataclasses import replace
from pathlib import Path

from fbssm import suggest_alpha
from fbssm.data import waves_step
from fbssm.data.stripes import DIRECTIONS
from fbssm.experiments import Setting, denoising, waves
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


def waves_metric(record):
    """The worst wave's test MSE: a model is as good as the wave it reads worst (lower is better)."""
    return max(record["per_wave_mse"])


def denoising_metric(record):
    """Mean over the two stripe directions of the test MSE to the clean face (lower is better).
    Not the noise-energy fraction: a layer that outputs nothing passes no noise. The MSE to the
    clean face counts the noise let through and the face lost, which is what a denoiser trades."""
    return statistics.fmean(record[d]["mse_to_clean"] for d in DIRECTIONS)


METRICS = {
    "waves": ("worst per-wave test MSE", "max over the waves of per_wave_mse", waves_metric),
    "denoising": ("mean test MSE to the clean face", "mean over vertical, horizontal of mse_to_clean",
                  denoising_metric),
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


def plans(tiny=False):
    """name → (module, config, α grid): the quick configurations with seeds 0 and 1, or tiny ones."""
    plan = {"waves": (waves, replace(waves.QUICK, seeds=SEEDS), WAVES_ALPHAS),
            "denoising": (denoising, replace(denoising.QUICK, seeds=SEEDS), DENOISING_ALPHAS)}
    if tiny:
        plan = {"waves": (waves, tiny_waves(plan["waves"][1]), (1.0, 10.0)),
                "denoising": (denoising, tiny_denoising(plan["denoising"][1]), (1.0, denoising.FLIP))}
    return plan


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
    u = data[0]
    return u, config.dt, config.modes, (
        f"denoising.load_data(config)[0]: the {len(u)} clean training faces flattened row by row, shape "
        f"{tuple(u.shape)} ({data[2]}); Δ = config.dt = 1/(W(n − 1)); the model's modes are S4D-Lin's π·j·α")


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
    """Train one experiment's grid and its suggested α; the part of the results file it fills.
    progress: print one line when the experiment is done (training itself prints nothing)."""
    module, config, alphas = plans(tiny)[name]
    data = module.load_data(config)
    u, dt, modes, what = training_inputs(name, config, data)
    suggestion = suggest_alpha(u, dt, energy=ENERGY, modes=modes, init="lin", headroom=HEADROOM)
    grid = [Setting(alpha, 0.0) for alpha in alphas]
    settings = grid + [Setting(suggestion.alpha, 0.0, name=SUGGESTED)]
    start = time.time()
    results = module.run(config, settings=settings, progress=False, data=data)
    title, definition, metric = METRICS[name]
    values = [{"setting": r["setting"], "alpha": r["alpha"], "seed": r["seed"], "value": metric(r)}
              for r in results["runs"]]
    if progress:
        print(f"{name}: {len(values)} runs in {time.time() - start:.0f} s; suggested α = "
              f"{suggestion.alpha:.4g}, β = {suggestion.beta:+g}", flush=True)
    resolved = [denoising.resolve_alpha(config, a) if name == "denoising" else a for a in alphas]
    return {"results": results,
            "grid": {"alphas": resolved, "labels": [s.label for s in grid], "beta": 0.0,
                     "suggested_label": SUGGESTED},
            "metric": {"name": title, "definition": definition, "lower_is_better": True, "runs": values},
            "suggestion": suggestion_record(suggestion, dt, modes, what)}


def grid_results(tiny=False, progress=False):
    """The results dict of the whole check (both experiments)."""
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
    results = grid_results(args.tiny, progress=True)
    path = save_results(out / f"{NAME}.json", results)
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    main()
