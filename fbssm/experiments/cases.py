"""Every experiment's configuration at a scale as one training step to measure: its model, a batch
of its shapes, its loss, and what an epoch and a run are. `benchmarks/paper_scale.py` times these
steps (`paper_cases`, and with --scale gpu `gpu_cases`); the runbook checks its stored
measurements against them, and `estimate_minutes` turns a measurement into an ESTIMATE of a
chapter's time on one consumer GPU."""
import math
from dataclasses import dataclass

import torch

# The consumer GPU of the gpu scale (data sheet: fp32 without tensor cores, memory bandwidth).
CONSUMER_GPU = {"name": "NVIDIA T4 (Colab)", "fp32_tflops": 8.1, "memory_gbps": 320, "memory_gib": 16}
LAUNCH_SECONDS = 10e-6   # per operator in eager PyTorch on a GPU (launch + dispatch): an assumption
FORWARD_SHARE = 1 / 3    # an evaluated row costs this share of a trained row (forward only): an assumption
# Official validation and test sizes of the LRA splits (to count what a run evaluates).
LRA_EVAL_SIZES = {"listops": (2_000, 2_000), "text": (25_000, 25_000), "retrieval": (18_090, 17_437),
                  "image": (5_000, 10_000), "pathfinder": (20_000, 20_000), "pathx": (20_000, 20_000)}


@dataclass
class Case:
    """One configuration: how to build its model, a batch and its loss."""
    name: str
    config: object
    shapes: dict
    batch_size: int          # the configuration's global batch B
    train_size: int          # training examples per epoch
    total_steps: int
    build: object            # () -> model
    batch: object            # (b) -> tuple of tensors
    loss: object             # (model, batch) -> scalar
    runs: int = 1            # trainings the experiment makes: settings × seeds
    eval_rows: int = 0       # rows each training evaluates (forward only)

    @property
    def steps_per_epoch(self):
        return math.ceil(self.train_size / self.batch_size)


def _steps(train_config, steps_per_epoch):
    total = train_config.epochs * steps_per_epoch
    return min(total, train_config.max_steps) if train_config.max_steps else total


def _lra_sizes(config):
    """(train, val, test) examples of an LRA configuration."""
    from .lra import LRA_TRAIN_SIZES
    if config.task in ("pathfinder", "pathx") and config.n_train is not None:
        total = config.n_train + config.n_val + config.n_test      # the loader's 80/10/10 split
        return round(0.8 * total), round(0.1 * total), round(0.1 * total)
    val, test = LRA_EVAL_SIZES[config.task]
    test = config.n_test or test
    val = test if config.task == "text" else config.n_val or val   # Text validates on its test split
    return config.n_train or LRA_TRAIN_SIZES[config.task], val, test


def lra_cases(scale="paper"):
    from . import lra
    from .classification import loss_fn
    cases = []
    for task in lra.TASKS:
        config = lra.config_for_task(task, scale)
        size, val, test = _lra_sizes(config)
        steps = _steps(config.train, math.ceil(size / config.batch_size))
        epochs = math.ceil(steps / math.ceil(size / config.batch_size))
        cases.append(Case(
            f"lra-{task}", config,
            {"l_max": config.l_max, "d_model": config.d_model, "n_layers": config.n_layers,
             "d_state": config.d_state, "inputs": 2 if task == "retrieval" else 1},
            config.batch_size, size, steps,
            lambda config=config: lra.build_model(config, config.alpha, 0.0, trainable_beta=True),
            lambda b, config=config: lra.example_batch(config, b), loss_fn,
            runs=len(lra.SETTINGS) * len(config.seeds),
            eval_rows=((2 if task == "retrieval" else 1) * (epochs * val + test))))
    return cases


def waves_case(config=None):
    from . import waves
    config = config or waves.PAPER
    B = config.train.batch_size

    def batch(b):
        return torch.randn(b, config.length, 1), torch.rand(b, len(config.frequencies))
    return Case("waves", config, {"l_max": config.length, "d_model": config.channels, "n_layers": 1,
                                  "d_state": config.modes, "inputs": 1},
                B, config.n_train, _steps(config.train, math.ceil(config.n_train / B)),
                lambda: waves.WavesModel(config, 10.0, 0.5), batch, waves._mse,
                runs=len(waves.SETTINGS) * len(config.seeds), eval_rows=config.n_test)


def denoising_case(config=None):
    from ..data.celeba import SPLIT_BOUNDS
    from . import denoising
    config = config or denoising.PAPER
    B = config.train.batch_size
    first, last = SPLIT_BOUNDS["train"]
    size = config.n_train or last - first + 1

    def batch(b):
        return (torch.rand(b, config.height * config.width, config.channels) * 2 - 1,)
    return Case("denoising", config, {"l_max": config.height * config.width, "d_model": config.channels,
                                      "n_layers": 1, "d_state": config.modes, "inputs": 1},
                B, size, _steps(config.train, math.ceil(size / B)),
                lambda: denoising.DenoisingModel(config, "flip", 0.5), batch, denoising._mse,
                runs=len(denoising.SETTINGS) * len(config.seeds),
                eval_rows=3 * config.n_test)   # clean, vertical and horizontal stripes


def scifar_case(config):
    """The sCIFAR grid at `config` (one training per grid cell and seed)."""
    from .classification import loss_fn
    from . import scifar
    B = config.train.batch_size
    size = config.n_train or 50_000
    L = 1024

    def batch(b):
        return torch.randn(b, L, 1), torch.randint(scifar.N_CLASSES, (b,))
    return Case("scifar", config, {"l_max": L, "d_model": config.d_model, "n_layers": config.n_layers,
                                   "d_state": config.d_state, "inputs": 1},
                B, size, _steps(config.train, math.ceil(size / B)),
                lambda: scifar.build_model(config, 2.0, -0.5), batch, loss_fn,
                runs=len(config.grid) * len(config.seeds), eval_rows=config.n_test or 10_000)


def moving_mnist_case(config=None):
    """The coloured Moving MNIST configuration (ConvSSM over time, tuned α and β)."""
    from . import moving_mnist
    config = config or moving_mnist.PAPER
    B = config.train.batch_size
    shapes = {"l_max": config.length, "d_model": config.d_latent, "n_layers": config.n_layers,
              "d_state": config.d_state, "frame": config.size, "latent_grid": config.size // config.patch}
    return Case("moving-mnist", config, shapes, B, config.n_train,
                _steps(config.train, math.ceil(config.n_train / B)),
                lambda: moving_mnist.build_model(config, moving_mnist.TUNED_ALPHA, moving_mnist.TUNED_BETA),
                lambda b: (moving_mnist.example_batch(config, b),), moving_mnist.next_frame_loss,
                runs=len(moving_mnist.SETTINGS) * len(config.seeds),
                eval_rows=config.n_test * (1 + config.horizon))   # next frame, then each rollout step


def paper_cases():
    """The Case of every paper configuration: the six LRA tasks, waves, denoising, Moving MNIST."""
    cases = lra_cases() + [waves_case(), denoising_case()]
    return cases + [moving_mnist_case()]


def gpu_cases():
    """The Case of every gpu configuration: the six LRA tasks, waves, denoising, sCIFAR, Moving MNIST."""
    from . import denoising, moving_mnist, scifar, waves
    return lra_cases("gpu") + [waves_case(waves.GPU), denoising_case(denoising.GPU), scifar_case(scifar.GPU),
                               moving_mnist_case(moving_mnist.GPU)]


def _cpu_step_seconds(record, batch):
    """The float32 step at `batch` from a record's CPU measurements: a measured batch's best time,
    else the largest measured batch's, proportional to the batch (benchmarks/paper_scale.py's rule
    beyond the largest; an upper bound)."""
    run = next((r for r in record["runs"] if r["precision"] == "float32" and r["measurements"]), None)
    if run is None:
        raise ValueError(f"benchmark: {record['name']} has no float32 measurement")
    by_batch = {m["batch"]: m for m in run["measurements"]}
    if batch in by_batch:
        return min(by_batch[batch]["seconds"]), by_batch[batch]["operators"]
    largest = by_batch[max(by_batch)]
    return min(largest["seconds"]) * batch / largest["batch"], largest["operators"]


def estimate_minutes(case, benchmark, gpu=CONSUMER_GPU):
    """ESTIMATE, not a measurement: minutes for every training of `case` (settings × seeds) and
    its evaluation on `gpu`, from the CPU measurement of the case's step in `benchmark` (a
    `benchmarks/paper_scale.py` file measured at the case's shapes).

    Basis (benchmarks/paper_scale.py's): the step keeps the same share of either machine's
    roofline, so the GPU is faster by min(GPU/CPU fp32 rate, GPU/CPU memory bandwidth), with the
    CPU rates measured beside the steps and the GPU's from its data sheet; a step takes at least
    LAUNCH_SECONDS per operator; an evaluated row costs FORWARD_SHARE of a trained one."""
    record = next((r for r in benchmark["configurations"] if r["name"] == case.name), None)
    if record is None:
        raise ValueError(f"benchmark has no measurement of {case.name}: run benchmarks/paper_scale.py")
    if {key: record.get(key) for key in case.shapes} != case.shapes:
        raise ValueError(f"benchmark: {case.name} was measured at other shapes than {case.shapes}: "
                         f"run benchmarks/paper_scale.py --scale {case.config.scale} --only {case.name}")
    roofline = record.get("cpu_roofline", benchmark.get("cpu_roofline"))
    factor = min(gpu["fp32_tflops"] * 1e3 / roofline["matmul_gflops"], gpu["memory_gbps"] / roofline["copy_gbps"])
    cpu_seconds, operators = _cpu_step_seconds(record, case.batch_size)
    step = max(cpu_seconds / factor, operators * LAUNCH_SECONDS)
    evaluation = case.eval_rows * FORWARD_SHARE * step / case.batch_size
    return case.runs * (case.total_steps * step + evaluation) / 60


def gpu_benchmark(folder=None):
    """The stored CPU measurement of the gpu configurations (gpu-scale-<hardware>.json, written
    by `benchmarks/paper_scale.py --scale gpu`; `folder`'s copy first), or None."""
    from ..results import stored_results
    found = [b for b in stored_results("gpu-scale-", folder).values() if b is not None]
    return found[0] if found else None


def gpu_cost(names, benchmark=None):
    """One line for a chapter: the ESTIMATE of its gpu-scale time (the experiments `names`, every
    setting and seed) on CONSUMER_GPU, with its basis; or that no measurement is stored."""
    benchmark = benchmark or gpu_benchmark()
    if benchmark is None:
        return "Cost at the gpu scale: not estimated (benchmarks/paper_scale.py --scale gpu)."
    cases = {case.name: case for case in gpu_cases()}
    minutes = sum(estimate_minutes(cases[name], benchmark) for name in names)
    cpu = benchmark["meta"]["hardware"]["cpu"]
    return (f"Cost at the gpu scale: about {minutes:.0f} min on one {CONSUMER_GPU['name']}, an ESTIMATE "
            f"(not a measurement) from one training step measured on a CPU ({cpu}, "
            f"{benchmark['meta']['date'][:10]}) scaled by the data sheets' rates (cases.estimate_minutes).")
