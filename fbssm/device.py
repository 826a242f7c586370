"""Device auto-selection, the quick/gpu/paper scale switch, and the process group under torchrun."""
import atexit
import contextlib
import os

import torch
import torch.distributed as dist

SCALES = ("quick", "gpu", "paper")   # CPU minutes; one consumer GPU, ~15 min a chapter; the paper's


def distributed_environment():
    """(rank, world_size, local_rank) as torchrun sets them, or None outside torchrun."""
    if "WORLD_SIZE" not in os.environ:
        return None
    return (int(os.environ.get("RANK", 0)), int(os.environ["WORLD_SIZE"]),
            int(os.environ.get("LOCAL_RANK", 0)))


def select_device(device=None):
    """torch.device: the one asked for, else cuda, then mps, then cpu.

    Under torchrun a CUDA device without an index is the process's own GPU, cuda:LOCAL_RANK, which
    also becomes the current CUDA device (so that tensors sent to "cuda" land there too).
    """
    if device in (None, "auto"):
        if torch.cuda.is_available():
            device = "cuda"
        elif _mps_available():
            device = "mps"
        else:
            device = "cpu"
    device = check_device(device)
    environment = distributed_environment()
    if device.type == "cuda" and device.index is None and environment is not None:
        device = torch.device("cuda", environment[2])
        torch.cuda.set_device(device)
    return device


def check_device(device, name="device"):
    """`device` (a name such as "cuda:1", or a torch.device) as a torch.device, once this machine
    has it; else a ValueError naming the argument, the device and the available ones."""
    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError):
        parsed = None
    if parsed is None or not _has(parsed):
        raise ValueError(f"{name} {str(device)!r} is not available here; available: "
                         f"{', '.join(available_devices())}")
    return parsed


def available_devices():
    """The device names this machine can run on: cpu, each CUDA GPU, mps."""
    names = ["cpu"]
    if torch.cuda.is_available():
        names += ["cuda"] + [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    if _mps_available():
        names.append("mps")
    return names


def _has(device):
    if device.type == "cpu":
        return device.index in (None, 0)
    if device.type == "cuda":
        return torch.cuda.is_available() and (device.index is None or device.index < torch.cuda.device_count())
    if device.type == "mps":
        return _mps_available() and device.index in (None, 0)
    return False


def _mps_available():
    return getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()


def init_distributed():
    """Join torchrun's process group (once) and return (rank, world_size); (0, 1) outside torchrun.

    The group uses NCCL for CUDA tensors and gloo for CPU tensors (gloo alone on a machine
    without CUDA). A single process (WORLD_SIZE=1) needs no group.
    """
    environment = distributed_environment()
    if environment is None or environment[1] == 1:
        return 0, 1
    if not dist.is_initialized():
        if torch.cuda.is_available():
            torch.cuda.set_device(environment[2])
            backend = "cpu:gloo,cuda:nccl"
        else:
            backend = "gloo"
        dist.init_process_group(backend)
        atexit.register(_leave_process_group)
    return dist.get_rank(), dist.get_world_size()


def _leave_process_group():
    if dist.is_initialized():
        dist.destroy_process_group()


def process_rank():
    """This process's rank: 0 outside torchrun."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank()
    environment = distributed_environment()
    return 0 if environment is None else environment[0]


def is_main_process():
    """True in the process that prints and writes files (rank 0, or the only process)."""
    return process_rank() == 0


def world_size():
    """Number of training processes: 1 outside torchrun."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_world_size()
    environment = distributed_environment()
    return 1 if environment is None else environment[1]


def current_scale(scale=None):
    """The experiment scale: `scale` if given, else $FBSSM_SCALE, else "quick"."""
    scale = scale or os.environ.get("FBSSM_SCALE", "quick")
    if scale not in SCALES:
        raise ValueError(f"scale (or FBSSM_SCALE) must be one of {SCALES}, got {scale!r}")
    return scale


@contextlib.contextmanager
def cpu_threads(threads):
    """Use `threads` CPU threads inside the block (None: leave torch's setting). Small FFTs run
    as fast on one thread as on two, and far faster when other processes compete for the cores."""
    before = torch.get_num_threads()
    if threads is not None:
        if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
            raise ValueError(f"threads must be a positive integer or None, got {threads!r}")
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)
