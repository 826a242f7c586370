"""S4D forward + backward under libgomp's two wait policies, idle and beside busy processes.

    python benchmarks/threads.py [--busy 2] [--repeats 5]

OMP_WAIT_POLICY is read when torch loads libgomp, so each (policy, load) runs in a fresh process.
Prints the median time per step for three shapes (B, H, N, L): ACTIVE (threads spin between
parallel regions), PASSIVE (they sleep), and libgomp's default (spin a while, then sleep).
"""
import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from busy import busy  # noqa: E402

SHAPES = ((16, 128, 32, 1024), (4, 64, 64, 1024), (8, 32, 32, 256))

STEP = """
import json, sys, time, torch, fbssm
repeats = int(sys.argv[1])
torch.manual_seed(0)
medians = []
for B, H, N, L in %r:
    layer, x = fbssm.S4D(d_model=H, d_state=N), torch.randn(B, L, H)
    for _ in range(3):
        layer(x).sum().backward()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(5):
            layer(x).sum().backward()
        times.append((time.perf_counter() - start) / 5)
    medians.append(sorted(times)[len(times) // 2])
print(json.dumps(medians))
""" % (SHAPES,)


def measure(policy, repeats):
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    if policy != "default":
        env["OMP_WAIT_POLICY"] = policy
    out = subprocess.run([sys.executable, "-c", STEP, str(repeats)], env=env, capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--busy", type=int, default=2, help="busy processes for the loaded rows (default 2)")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs; ms per S4D forward + backward, median of {args.repeats}")
    print(f"{'policy':10}{'load':>8}" + "".join(f"{f'B{b} H{h} N{n} L{l}':>22}" for b, h, n, l in SHAPES))
    for load in (0, args.busy):
        for policy in ("ACTIVE", "PASSIVE", "default"):
            with busy(load):
                medians = measure(policy, args.repeats)
            print(f"{policy:10}{load:>8}" + "".join(f"{1e3 * m:>22.1f}" for m in medians), flush=True)


if __name__ == "__main__":
    main()
