"""Train the knobs on other diagonal SSMs and the Fourier-grid poles at the quick scale, for
Chapter 10, and store the runs in fbssm/stored/other-ssms.json (see `fbssm.experiments.other_ssms`).

    .venv/bin/python scripts/other_ssms.py                         # about 17 min on 2 cores
    .venv/bin/python scripts/other_ssms.py --tiny --out /tmp/o.json  # a smoke test in seconds

Runs, seeds 0 and 1 each:
  waves   S5 and LRU at α = 1 and α = 100, β = 0;
          S4D from the Fourier grid, and S4D-Lin (the waves model's) at the α whose top mode is the grid's;
  ListOps S4D-Lin at α = 1, at the quick scale's α = 3 and at α = 1/(N·Δ̄) (Δ̄ = √(dt_min·dt_max)),
          and S4D from each channel's Fourier grid — every one with per-channel eigenvalues.
The stored S4D waves runs at (1, 0) are in waves-quick.json.
"""
import argparse
import math
import time
from dataclasses import asdict, replace
from pathlib import Path

from fbssm.data import lra as lra_data
from fbssm.experiments import other_ssms, waves
from fbssm.results import run_metadata, save_results

OUT = Path(__file__).resolve().parent.parent / "fbssm" / "stored" / "other-ssms.json"
SEEDS = (0, 1)
KNOB_ALPHAS = (1.0, 100.0)


def configs(tiny):
    wave_config, lra_config = waves.QUICK, other_ssms.lra_config("listops")
    if tiny:
        wave_config = replace(wave_config, scale="tiny", length=257, frequencies=(1, 16, 64, 120),
                              n_train=32, n_test=16, train=replace(wave_config.train, epochs=1))
        lra_config = replace(lra_config, scale="tiny", n_train=64, n_val=32, n_test=32,
                             train=replace(lra_config.train, epochs=1))
    return wave_config, lra_config


def timed(label, run):
    start = time.time()
    record = run()
    metric = record.get("per_wave_mse", record.get("test_accuracy"))
    print(f"{label}: {metric}  [{time.time() - start:.0f} s]", flush=True)
    return record


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="a smoke test: tiny sizes, scale 'tiny'")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    wave_config, lra_config = configs(args.tiny)
    wave_data = waves.load_data(wave_config)
    waves_runs = []
    for seed in SEEDS:
        for kind in other_ssms.KINDS:
            for alpha in KNOB_ALPHAS:
                waves_runs.append(timed(f"waves {kind} α = {alpha:g} seed {seed}", lambda: other_ssms.knob_run(
                    wave_config, kind, alpha, seed, wave_data)))
        waves_runs.append(timed(f"waves DFouT seed {seed}", lambda: other_ssms.dfout_waves_run(
            wave_config, seed, wave_data)))
        matched = other_ssms.dfout_matched_alpha(wave_config)
        record = timed(f"waves S4D-Lin α = {matched:.4g} seed {seed}", lambda: waves.run_setting(
            wave_config, (matched, 0.0), seed, wave_data, progress=False))
        waves_runs.append({"kind": "S4D", "alpha": matched, "beta": 0.0, "seed": seed, **record})
    task = lra_data.load_task_data(lra_config)
    dt_mean = math.sqrt(lra_config.dt_min * lra_config.dt_max)
    lin_alphas = (1.0, lra_config.alpha, 1 / (lra_config.d_state * dt_mean))
    lra_runs = []
    for seed in SEEDS:
        for init, alpha in [("lin", a) for a in lin_alphas] + [("dfout", None)]:
            lra_runs.append(timed(f"ListOps {init} α = {alpha} seed {seed}", lambda: other_ssms.dfout_lra_run(
                lra_config, init, alpha, seed, task)))
    save_results(args.out, {
        "experiment": "other-ssms", "scale": wave_config.scale, "seeds": list(SEEDS),
        "waves": {"config": asdict(wave_config), "data": waves.DATA, "runs": waves_runs,
                  "dfout_matched_alpha": other_ssms.dfout_matched_alpha(wave_config),
                  "lru_radii": list(other_ssms.LRU_RADII)},
        "lra-listops": {"config": asdict(lra_config), "data": task.source, "runs": lra_runs,
                        "lin_alphas": list(lin_alphas)},
        "meta": run_metadata(module="fbssm.experiments.other_ssms")})
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
