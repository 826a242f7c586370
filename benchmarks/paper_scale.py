"""Steps per second and peak memory of one training step at each paper configuration's shapes.

    python benchmarks/paper_scale.py [--only lra-image waves ...] [--batch B] [--precision float32 bfloat16]
                                     [--compile] [--repeats 3] [--threads T] [--device D] [--out fbssm/stored]
                                     [--scale paper|gpu]

A training step is forward + backward + AdamW step, with the library's `param_groups` and, for
bfloat16, the autocast `fbssm.train` uses. Each (configuration, precision, batch) runs in a fresh
process, so that its peak memory — CUDA: torch.cuda.max_memory_allocated; CPU: growth of the
peak resident set (VmHWM, reset after the set-up) — is its own. Step times are the best of `repeats`
after one warm-up step.

On a GPU the step runs at the paper's batch B and at B/8, the per-GPU batch of 8 GPUs. On a CPU a
paper step takes seconds to minutes, so it runs at batch 1 and at the batch whose step takes about
CPU_STEP_SECONDS; at B, memory follows the line through the two (a fixed part — kernel, optimiser,
parameters — plus a part per row) and time is proportional to the batch from the larger one (an
upper bound). The output and the JSON say which numbers are extrapolated. On a CPU the JSON also carries a GPU ESTIMATE (see `gpu_estimate`), with its basis.

Writes <out>/benchmark-<hardware>.json (default out: fbssm/stored, shipped with the package) (…-compiled.json with --compile); the runbook page renders its
tables from these files. With --only, the configurations named replace theirs in an existing file
(each configuration keeps the date and CPU rates of its own measurement). `--derive FILE` recomputes
the numbers that follow from the measurements.

--scale gpu measures the gpu configurations (`fbssm.experiments.cases.gpu_cases`) instead and
writes <out>/gpu-scale-<hardware>.json, from which `cases.estimate_minutes` estimates each
experiment's time on one consumer GPU.
"""
import argparse
import contextlib
import json
import math
import multiprocessing as mp
import os
import re
import resource
import sys
import time
from pathlib import Path
from queue import Empty

import torch
from torch.utils._python_dispatch import TorchDispatchMode

import fbssm
from fbssm.optim import param_groups
from fbssm.experiments.cases import gpu_cases, paper_cases
from fbssm.results import cpu_name, run_metadata, save_results
from fbssm.train import PRECISIONS

STORED = Path(__file__).resolve().parent.parent / "fbssm" / "stored"
# Reference GPU of the estimates made on a CPU (vendor data sheet, dense FP32 without tensor cores).
REFERENCE_GPU = {"name": "NVIDIA A100-SXM4-80GB", "fp32_tflops": 19.5, "memory_gbps": 2039,
                 "memory_gib": 80, "nvlink_gbps": 300}
LAUNCH_SECONDS = 10e-6   # per operator in eager PyTorch on a GPU (launch + dispatch): an assumption
GPUS = (1, 8)
CPU_STEP_SECONDS = 3.0   # on a CPU: the second measured batch takes about this long per step (at least 2 rows)


def all_cases(scale="paper"):
    """The cases of one scale: the paper configurations, or with "gpu" the gpu configurations."""
    return gpu_cases() if scale == "gpu" else paper_cases()


class OperatorCount(TorchDispatchMode):
    """Counts the aten operators a step dispatches (forward and backward): on a GPU, kernel launches."""

    def __init__(self):
        super().__init__()
        self.count = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.count += 1
        return func(*args, **(kwargs or {}))


def _status_mib(field):
    match = re.search(rf"^{field}:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.MULTILINE)
    return int(match.group(1)) / 1024


def start_rss_peak():
    """Reset the peak resident set to the current one (Linux); returns the current RSS in MiB."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return _status_mib("VmRSS")
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # peak so far (Linux: KiB)


def rss_peak_mib():
    try:
        return _status_mib("VmHWM")
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(name, precision, batch, repeats, device, compile_model, threads, queue, scale="paper"):
    """One configuration in this (fresh) process: times, peak memory, operator count."""
    try:
        torch.set_num_threads(threads)
        case = next(c for c in all_cases(scale) if c.name == name)
        torch.manual_seed(0)
        inputs = tuple(t.to(device) for t in case.batch(batch))
        cuda = device.type == "cuda"
        sync = torch.cuda.synchronize if cuda else (lambda: None)
        if cuda:
            torch.cuda.reset_peak_memory_stats()
            base = torch.cuda.memory_allocated() / 2 ** 20
        else:
            base = start_rss_peak()
        model = case.build().to(device)
        optimizer = torch.optim.AdamW(param_groups(model, 1e-3, 0.01))
        step_model = torch.compile(model) if compile_model else model
        autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bfloat16")

        counter = OperatorCount()

        def step(count=False):
            optimizer.zero_grad(set_to_none=True)
            with counter if count else contextlib.nullcontext():
                with autocast:
                    loss = case.loss(step_model, inputs)
                loss.backward()
            optimizer.step()

        times = []
        for repeat in range(repeats + 1):  # the first step is a warm-up (it compiles, or counts operators)
            sync()
            start = time.perf_counter()
            step(count=repeat == 0 and not compile_model)
            sync()
            times.append(time.perf_counter() - start)
        peak = (torch.cuda.max_memory_allocated() / 2 ** 20 if cuda else rss_peak_mib()) - base
        if compile_model:  # count the eager operators
            with counter, autocast:
                case.loss(model, inputs).backward()
        queue.put({"seconds": times[1:], "first_step_seconds": times[0], "peak_mib": peak,
                   "operators": counter.count,
                   "parameters": sum(p.numel() for p in model.parameters() if p.requires_grad)})
    except Exception as error:  # reported in the parent, which goes on with the next configuration
        queue.put({"error": f"{type(error).__name__}: {error}"})


def run_isolated(name, precision, batch, args, device):
    context = mp.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=measure, args=(name, precision, batch, args.repeats, device,
                                                     args.compile, args.threads, queue, args.scale))
    process.start()
    while True:
        try:
            result = queue.get(timeout=5)
            break
        except Empty:
            if not process.is_alive():
                result = {"error": f"the process ended with exit code {process.exitcode} (out of memory?)"}
                break
    process.join()
    return result


def cpu_roofline(threads, repeats=3):
    """This CPU's fp32 matrix-product rate (GFLOP/s) and copy bandwidth (GB/s, read + write)."""
    torch.set_num_threads(threads)
    a = torch.randn(2048, 2048)
    best = min(_timed(lambda: a @ a) for _ in range(repeats))
    x = torch.empty(64 * 2 ** 20)  # 256 MiB
    y = torch.empty_like(x)
    copy = min(_timed(lambda: y.copy_(x)) for _ in range(repeats))
    return {"matmul_gflops": 2 * 2048 ** 3 / best / 1e9, "copy_gbps": 2 * x.numel() * 4 / copy / 1e9}


def _timed(function):
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def predict(measurements, batch):
    """(seconds per step, peak MiB) at `batch` from the measurements (at least one).

    A measured batch gives its own numbers. Otherwise memory follows the line through the smallest
    and the largest measured batch (a fixed part — parameters, optimiser state, kernel — plus a part
    per row; memory is not noisy), and time between them too; beyond the largest it is proportional
    to the batch from the largest: an upper bound when part of the step is fixed, and robust to the
    timing noise of a shared machine, which makes the slope of two short measurements unreliable.
    """
    by_batch = {m["batch"]: m for m in measurements}
    if batch in by_batch:
        return min(by_batch[batch]["seconds"]), by_batch[batch]["peak_mib"]
    small, large = by_batch[min(by_batch)], by_batch[max(by_batch)]
    t0, t1, m0, m1 = min(small["seconds"]), min(large["seconds"]), small["peak_mib"], large["peak_mib"]
    if small is large:
        return t1 * batch / large["batch"], m1 * batch / large["batch"]
    position = (batch - small["batch"]) / (large["batch"] - small["batch"])
    seconds = t1 * batch / large["batch"] if position > 1 else t0 + (t1 - t0) * position
    memory = m0 + max(m1 - m0, 0.0) * position  # flat when the part per row is below the resolution
    return seconds, memory


def at_batch(record, measurements, batch, extra_seconds=0.0):
    """A configuration's step at `batch`: time per step, epoch and run, and peak memory."""
    seconds, peak = predict(measurements, batch)
    seconds += extra_seconds
    return {"batch": batch, "seconds_per_step": seconds, "steps_per_second": 1 / seconds,
            "seconds_per_epoch": seconds * record["steps_per_epoch"],
            "hours_total": seconds * record["total_steps"] / 3600,
            "peak_gib": peak / 1024, "measured": batch in {m["batch"] for m in measurements}}


def all_reduce_seconds(parameters, n):
    """Ring all-reduce of float32 gradients over NVLink: 2(n−1)/n × 4 bytes per parameter."""
    return 0.0 if n == 1 else 2 * (n - 1) / n * 4 * parameters / (REFERENCE_GPU["nvlink_gbps"] * 1e9)


def on_gpus(record, measurements):
    """Measured on this GPU: 1 GPU at the paper's batch; 8 GPUs as one GPU's step at B/8 plus the
    gradient all-reduce (estimated)."""
    return {str(n): at_batch(record, measurements, math.ceil(record["batch_size"] / n),
                             all_reduce_seconds(record["parameters"], n)) for n in GPUS}


def gpu_estimate(record, measurements, roofline):
    """ESTIMATE of the step on REFERENCE_GPU from the CPU measurements.

    Basis: the step keeps the same share of each machine's roofline, so it is faster on the GPU by
    min(GPU/CPU fp32 rate, GPU/CPU memory bandwidth) (the smaller ratio: the estimate leans slow);
    it takes at least one launch (LAUNCH_SECONDS) per operator; with n GPUs each trains on B/n
    rows, and the gradients' ring all-reduce adds on. Memory: the same tensors as on the CPU.
    """
    factor = min(REFERENCE_GPU["fp32_tflops"] * 1e3 / roofline["matmul_gflops"],
                 REFERENCE_GPU["memory_gbps"] / roofline["copy_gbps"])
    floor = measurements[-1]["operators"] * LAUNCH_SECONDS
    result = {"speedup_factor": factor, "launch_floor_seconds": floor}
    for n in GPUS:
        cpu = at_batch(record, measurements, math.ceil(record["batch_size"] / n))
        compute = cpu["seconds_per_step"] / factor
        seconds = max(compute, floor) + all_reduce_seconds(record["parameters"], n)
        result[str(n)] = {"batch_per_gpu": cpu["batch"], "seconds_per_step": seconds,
                          "seconds_per_epoch": seconds * record["steps_per_epoch"],
                          "hours_total": seconds * record["total_steps"] / 3600,
                          "peak_gib_per_gpu": cpu["peak_gib"], "launch_bound": compute < floor}
    return result


def refresh_configuration(record, scale="paper"):
    """Take a record's epoch and step counts from the library's configuration as it is now
    (they are configuration, not measurement); its shapes and batch must still be the measured ones."""
    case = {c.name: c for c in all_cases(scale)}[record["name"]]
    if {key: record[key] for key in case.shapes} != case.shapes or record["batch_size"] != case.batch_size:
        raise SystemExit(f"{record['name']} was measured at other shapes or another batch than the library's paper "
                         f"configuration now has: measure it again (--only {record['name']})")
    record.update(train_size=case.train_size, steps_per_epoch=case.steps_per_epoch, total_steps=case.total_steps)


def derive(results):
    """Fill in what follows from the measurements: each run at the paper's batch, and on 1 and 8
    GPUs (measured on a GPU, an ESTIMATE from a CPU), with the epoch and step counts of the library's
    paper configurations. Recomputable with --derive."""
    for record in results["configurations"]:
        refresh_configuration(record, results.get("scale", "paper"))
    results["extrapolation"] = (
        "at a batch between or beyond the measured ones: memory along the line through the smallest and the "
        "largest (a fixed part plus a part per row); time between them along that line, beyond the largest "
        "proportional to the batch (an upper bound, robust to timing noise)")
    for record in results["configurations"]:
        roofline = record.get("cpu_roofline", results.get("cpu_roofline"))
        for run in record["runs"]:
            measurements = run["measurements"]
            if not measurements:
                continue
            run["at_paper_batch"] = at_batch(record, measurements, record["batch_size"])
            if roofline is None:
                run["gpus"] = on_gpus(record, measurements)
            else:
                run["gpu_estimate"] = gpu_estimate(record, measurements, roofline)
    if "cpu_roofline" in results:
        results["reference_gpu"] = REFERENCE_GPU
        results["gpu_estimate_basis"] = (
            f"ESTIMATE, not a measurement: the CPU step time divided by min(GPU/CPU fp32 rate, GPU/CPU "
            f"memory bandwidth), from the {REFERENCE_GPU['name']}'s data-sheet numbers and this CPU's measured "
            f"rates (so the step is assumed to use the same share of either machine); at least "
            f"{LAUNCH_SECONDS * 1e6:.0f} µs per operator for kernel launches; plus the gradient all-reduce "
            f"over NVLink for 8 GPUs; peak memory as on the CPU")
    return results


def hardware_slug(device):
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu-" + cpu_name()
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", help="configuration names (default: all)")
    parser.add_argument("--batch", type=int, nargs="+", default=None,
                        help="measured batches (default: B/8 and the paper's B on a GPU; on a CPU 1 and the "
                             "batch of a step of about CPU_STEP_SECONDS, at least 2)")
    parser.add_argument("--precision", nargs="+", default=["float32", "bfloat16"], choices=list(PRECISIONS))
    parser.add_argument("--compile", action="store_true", help="torch.compile the model (inductor)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--device", default=None)
    parser.add_argument("--out", default=str(STORED), help="folder of the JSON (default: fbssm/stored, the package data the runbook reads)")
    parser.add_argument("--scale", choices=("paper", "gpu"), default="paper",
                        help="the configurations measured (default: the paper's)")
    parser.add_argument("--derive", metavar="FILE", help="only recompute the derived numbers of a benchmark file")
    args = parser.parse_args()
    if args.derive:
        save_results(args.derive, derive(json.loads(Path(args.derive).read_text())))
        print(f"→ {args.derive}")
        return 0
    device = fbssm.select_device(args.device)
    cases = [c for c in all_cases(args.scale) if not args.only or c.name in args.only]
    if args.only and len(cases) != len(args.only):
        parser.error(f"--only must name configurations among {[c.name for c in all_cases(args.scale)]}")
    on_gpu = device.type == "cuda"
    load_before = os.getloadavg()[0]
    roofline = None if on_gpu else cpu_roofline(args.threads)
    print(f"paper-scale training steps on {device} ({hardware_slug(device)}), torch {torch.__version__}, "
          f"{args.threads} threads, load average {load_before:.1f}; best of {args.repeats}"
          + (", compiled" if args.compile else ""))
    if roofline:
        print(f"CPU roofline: {roofline['matmul_gflops']:.0f} GFLOP/s fp32 matmul, "
              f"{roofline['copy_gbps']:.1f} GB/s copy")
    results = {"benchmark": "paper_scale", "scale": args.scale, "device": str(device), "threads": args.threads,
               "method": "forward + backward + AdamW step; best of repeats after a warm-up step; " + (
                   "measured at B/8 (the per-GPU batch of 8 GPUs) and at the paper's batch B" if on_gpu else
                   "measured at batch 1 and at the batch of a step of a few seconds"),
               "configurations": [], **({"cpu_roofline": roofline} if roofline else {})}
    for case in cases:
        batches = args.batch or ([math.ceil(case.batch_size / 8), case.batch_size] if on_gpu else [1, None])
        record = {"name": case.name, **case.shapes, "batch_size": case.batch_size,
                  "train_size": case.train_size, "steps_per_epoch": case.steps_per_epoch,
                  "total_steps": case.total_steps, "date": run_metadata(device, module="fbssm.experiments.cases")["date"],
                  **({"cpu_roofline": roofline} if roofline else {}), "runs": []}
        for precision in args.precision:
            measurements = []
            for batch in batches:
                if batch is None:  # the second CPU batch: as large as a step of about CPU_STEP_SECONDS allows
                    if not measurements:
                        break
                    batch = max(2, round(CPU_STEP_SECONDS / min(measurements[0]["seconds"])))
                batch = min(batch, case.batch_size)
                if any(m["batch"] == batch for m in measurements):
                    continue
                measured = {"batch": batch, **run_isolated(case.name, precision, batch, args, device)}
                print(_line(case, precision, measured), flush=True)
                if "error" not in measured:
                    record["parameters"] = measured["parameters"]
                    measurements.append(measured)
            record["runs"].append({"precision": precision, "compiled": args.compile, "measurements": measurements})
        results["configurations"].append(record)
    results["load_average"] = {"before": load_before, "after": os.getloadavg()[0]}
    results["meta"] = run_metadata(device, module="fbssm.experiments.cases")
    derive(results)
    for record in results["configurations"]:
        for run in record["runs"]:
            if "at_paper_batch" in run:
                print(_summary(record, run))
    prefix = "gpu-scale" if args.scale == "gpu" else "benchmark"
    path = Path(args.out) / f"{prefix}-{hardware_slug(device)}{'-compiled' if args.compile else ''}.json"
    if args.only and path.exists():  # re-measured configurations replace theirs; the others stay
        fresh = {record["name"]: record for record in results["configurations"]}
        before = json.loads(path.read_text())
        kept = [{"cpu_roofline": before["cpu_roofline"], **r} if "cpu_roofline" in before else r
                for r in before["configurations"]]
        results["configurations"] = [fresh.pop(r["name"], r) for r in kept] + list(fresh.values())
        derive(results)
    save_results(path, results)
    print(f"→ {path}")
    return 0


def _line(case, precision, measured):
    head = f"{case.name:16} {precision:9} batch {measured['batch']:>3}:"
    if "error" in measured:
        return f"{head} {measured['error']}"
    return f"{head} {min(measured['seconds']):8.3f} s/step, peak {measured['peak_mib']:8.0f} MiB"


def _summary(record, run):
    at = run["at_paper_batch"]
    text = (f"{record['name']:16} {run['precision']:9} at B = {record['batch_size']:>3}: "
            f"{at['seconds_per_step']:8.2f} s/step, "
            f"peak {at['peak_gib']:6.2f} GiB" + ("" if at["measured"] else " (extrapolated)"))
    if "gpu_estimate" in run:
        one = run["gpu_estimate"]["1"]
        text += f" | {REFERENCE_GPU['name']} ESTIMATE {one['seconds_per_step'] * 1e3:.1f} ms/step"
    return text


if __name__ == "__main__":
    sys.exit(main())
