"""S4D forward + backward against its floor: time ratio and peak memory, under both libgomp wait policies.

    python benchmarks/kernel.py [--lengths 1024 4096 16384] [--repeats 5] [--long-repeats 3]

The floor (`KernelFloor`) is the same layer with its kernel already computed: the FFT convolution
with a fixed kernel spectrum, the D skip, GELU and the 1×1 convolution + GLU, in plain autograd.
The input carries a gradient, as in a layer inside a model. OMP_WAIT_POLICY is read when torch
loads libgomp, so each policy (PASSIVE, and libgomp's default) runs in its own process; there the
layer and its floor alternate, and the table shows medians. Peak memory is the growth of the
process's peak RSS over one step (glibc made to return freed blocks, the peak reset before each step).
"""
import argparse
import json
import os
import subprocess
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

SHAPES = ((16, 128, 32), (4, 64, 64))  # (B, H, N)
POLICIES = ("PASSIVE", "default")


class KernelFloor(nn.Module):
    """`layer` with its kernel spectrum computed once: irfft(rfft(u, 2L)·K̂)[:L] + D·u, GELU, output."""

    def __init__(self, layer, L):
        super().__init__()
        self.layer, self.L = layer, L
        with torch.no_grad():
            self.register_buffer("spectrum", layer.kernel_spectrum(L).detach().clone())

    def forward(self, u):
        n = 2 * self.L
        x = u.transpose(1, 2)
        y = torch.fft.irfft(torch.fft.rfft(x, n=n) * self.spectrum, n=n)[..., :self.L]
        y = y + x * self.layer.D.unsqueeze(-1)
        y = self.layer.output(self.layer.dropout(F.gelu(y)))
        return y.transpose(1, 2)


def _rss_mib(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field):
                return int(line.split()[1]) / 1024
    return float("nan")


def step(module, u):
    """Seconds and peak RSS growth (MiB) of one forward + backward."""
    module.zero_grad(set_to_none=True)
    u.grad = None
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")  # resets the peak RSS to the current RSS
    base = _rss_mib("VmRSS")
    start = time.perf_counter()
    module(u).sum().backward()
    return time.perf_counter() - start, _rss_mib("VmHWM") - base


def measure(B, H, N, L, repeats):
    import fbssm
    torch.manual_seed(0)
    layer = fbssm.S4D(H, N)
    floor = KernelFloor(layer, L)
    u = torch.randn(B, L, H, requires_grad=True)
    step(layer, u), step(floor, u)  # warm-up
    runs = {"fbssm": [], "floor": []}
    for _ in range(repeats):
        runs["fbssm"].append(step(layer, u))
        runs["floor"].append(step(floor, u))
    median = lambda values: sorted(values)[len(values) // 2]
    return {name: (median([t for t, _ in r]), max(m for _, m in r)) for name, r in runs.items()}


def worker(args):
    torch.set_num_threads(args.threads) if args.threads else None
    for L in args.lengths:
        repeats = args.long_repeats if L >= 16384 else args.repeats
        for B, H, N in SHAPES:
            result = measure(B, H, N, L, repeats)
            print(json.dumps({"L": L, "shape": [B, H, N], "repeats": repeats, **result}), flush=True)


def run_policy(policy, args):
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    if policy != "default":
        env["OMP_WAIT_POLICY"] = policy
    env["MALLOC_MMAP_THRESHOLD_"] = "65536"  # large blocks are mmap'd and go back to the system when freed
    command = [sys.executable, __file__, "--worker", "--lengths", *map(str, args.lengths),
               "--repeats", str(args.repeats), "--long-repeats", str(args.long_repeats)]
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True) as process:
        for line in process.stdout:
            yield json.loads(line)
    if process.returncode:
        raise RuntimeError(f"benchmark worker for OMP_WAIT_POLICY={policy} failed (exit {process.returncode})")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", type=int, nargs="+", default=[1024, 4096, 16384])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--long-repeats", type=int, default=3, help="repeats at L >= 16384")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args)
    print(f"S4D forward+backward vs its floor (kernel precomputed), CPU, {os.cpu_count()} CPUs, "
          f"torch {torch.__version__}; medians of alternating runs, peak = max RSS growth of a step")
    print(f"{'policy':>8} {'L':>6} {'B, H, N':>12} | {'fbssm ms':>9} {'floor ms':>9} {'ratio':>6} | "
          f"{'fbssm MiB':>9} {'floor MiB':>9}")
    for policy in POLICIES:
        for row in run_policy(policy, args):
            (t, m), (t0, m0) = row["fbssm"], row["floor"]
            shape = ", ".join(map(str, row["shape"]))
            print(f"{policy:>8} {row['L']:>6} {shape:>12} | {1e3 * t:>9.1f} {1e3 * t0:>9.1f} {t / t0:>5.2f}x | "
                  f"{m:>9.0f} {m0:>9.0f}", flush=True)


if __name__ == "__main__":
    main()
