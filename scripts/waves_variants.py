"""Variants of the waves experiment at the quick scale, stored for Chapter 5 in
fbssm/stored/waves-variants.json: other learning rates for Im(a_j), and β under a filter
normalisation where it matters at the waves' frequencies.

    .venv/bin/python scripts/waves_variants.py              # every variant, seeds 0, 1, 2 (about 20 min on 2 cores); the (1, 0) run they compare with is in waves-quick.json
    .venv/bin/python scripts/waves_variants.py --seed 0     # one seed

Variants (everything else is waves.QUICK):
  (10, 0.5) with Im(a_j) at the rate of every other parameter (0.03) and at 0.5 — the page's
      rule, min(0.2·α, 2), gives it 2, and that run is in waves-quick.json;
  (0.01, -1) with Im(a_j) at 2, the page's cap given to every α;
  (100, 1) with the page's rule uncapped, 0.2·α = 20;
  α = 1 with β = 1 and β = −1 under the filter (1 + |s|/100)^β ("angular", scale 100), whose gains at
      the waves s = 1, 16, 256, 4096 are 1.01, 1.16, 3.56 and 42 to the power β (the page's scale 10⁴
      gives 1, 1.002, 1.026, 1.41): does β > 0 let training move the modes up, and β < 0 hold them?
"""
import argparse
import time
from dataclasses import asdict, replace
from pathlib import Path

from fbssm.experiments import waves
from fbssm.results import run_metadata, save_results

OUT = Path(__file__).resolve().parent.parent / "fbssm" / "stored" / "waves-variants.json"
BETA_SCALE = 100.0


def variants(seeds):
    quick = replace(waves.QUICK, seeds=tuple(seeds))
    fixed = lambda rate: replace(quick, imag_lr_per_alpha=None, imag_lr_max=None,
                                 train=replace(quick.train, imag_lr=rate))
    return [
        ("one rate", (10.0, 0.5), replace(quick, imag_lr_per_alpha=None, imag_lr_max=None)),
        ("0.5", (10.0, 0.5), fixed(0.5)),
        ("2 at every α", (0.01, -1.0), fixed(2.0)),
        ("0.2·α uncapped", (100.0, 1.0), replace(quick, imag_lr_max=None)),
        ("β = 1, scale 100", (1.0, 1.0), replace(quick, filter_scale=BETA_SCALE)),
        ("β = -1, scale 100", (1.0, -1.0), replace(quick, filter_scale=BETA_SCALE)),
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, action="append", help="seed (repeatable); default 0, 1, 2")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    records = []
    for name, setting, config in variants(args.seed or (0, 1, 2)):
        start = time.time()
        runs = waves.run(config, settings=(setting,), progress=False)["runs"]
        records.append({"name": name, "alpha": setting[0], "beta": setting[1], "config": asdict(config),
                        "runs": runs})
        print(f"{name} {setting}: " + "; ".join(", ".join(f"{v:.1e}" for v in r["per_wave_mse"]) for r in runs)
              + f"  [{time.time() - start:.0f} s]", flush=True)
    save_results(args.out, {"experiment": "waves-variants", "variants": records,
                            "meta": run_metadata(module="fbssm.experiments.waves")})
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
