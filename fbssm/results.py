"""Results files: what ran, on what, when — written by the CLI and read by the chapters."""
import ast
import datetime
import hashlib
import importlib.util
import inspect
import json
import os
import platform
import subprocess
from dataclasses import asdict
from importlib import resources
from pathlib import Path

import torch

from .device import is_main_process, select_device, world_size


def hardware(device=None):
    """A short description of the machine: CPU/GPU name and memory, threads, torch version, and
    the number of training processes (world_size: 1, or torchrun's WORLD_SIZE)."""
    info = {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
            "cpu": cpu_name(), "cpu_count": os.cpu_count(),
            "torch": torch.__version__, "threads": torch.get_num_threads(),
            "device": str(select_device(device)), "world_size": world_size()}
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
        info["gpu_count"] = torch.cuda.device_count()
        info["gpu_memory_gib"] = round(torch.cuda.get_device_properties(0).total_memory / 2 ** 30, 1)
    return info


def cpu_name():
    """The CPU's model name (Linux: /proc/cpuinfo), else what `platform` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def git_revision():
    try:
        root = Path(__file__).resolve().parent.parent
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True,
                             text=True, timeout=5)
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def run_metadata(device=None, module=None):
    """When and on what a run ran, and which code produced it: ``code`` holds the experiment module
    (default: the calling module) and its `code_fingerprint`."""
    from . import __version__
    module = module or inspect.currentframe().f_back.f_globals["__name__"]
    return {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "fbssm": __version__, "git": git_revision(), "hardware": hardware(device),
            "code": {"module": module, "fingerprint": code_fingerprint(module)}}


# What a fingerprint leaves out: the package's re-exports and this file, which only record results.
NOT_FINGERPRINTED = ("fbssm", "fbssm.results")


def code_fingerprint(module):
    """A hash of the code that `module` (an fbssm module name) runs: its source and that of every
    fbssm module it imports, directly or not, each read as a syntax tree without docstrings, so that
    comments, docstrings and layout do not count and any change to what runs does
    (`NOT_FINGERPRINTED` aside)."""
    seen, stack = {}, [module]
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
            raise ValueError(f"module must name an fbssm module with Python source, got {name!r}")
        source = Path(spec.origin).read_text()
        seen[name] = code_text(source)
        stack += _fbssm_imports(ast.parse(source), name, spec.submodule_search_locations is not None)
    digest = hashlib.sha256("".join(f"{n}\n{seen[n]}\n" for n in sorted(seen)).encode())
    return digest.hexdigest()[:16]


def code_text(source):
    """What of a Python source counts for a fingerprint: its syntax tree, docstrings removed."""
    return ast.dump(_without_docstrings(ast.parse(source)))


def _fbssm_imports(tree, name, is_package):
    """The fbssm modules a module's import statements name (relative imports resolved)."""
    package = name if is_package else name.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parent = ".".join(parts[:len(parts) - node.level + 1])
                base = f"{parent}.{base}" if base else parent
            found.append(base)
            found += [f"{base}.{alias.name}" for alias in node.names]  # `from . import layers`
    return [m for m in found if m.startswith("fbssm.") and m not in NOT_FINGERPRINTED and _is_module(m)]


def _is_module(name):
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, AttributeError, ValueError):
        return False   # a name imported from a module, not a module


def _without_docstrings(tree):
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                node.body = body[1:] or [ast.Pass()]
    return tree


def is_current(results):
    """Whether a results dict was written by the code installed now (its code fingerprint matches)."""
    code = (results.get("meta") or {}).get("code") or {}
    try:
        return bool(code.get("module")) and code.get("fingerprint") == code_fingerprint(code["module"])
    except ValueError:
        return False


def save_results(path, results):
    """Write a results dict (JSON-serialisable) atomically; returns the path.

    Under torchrun only process 0 writes (every process holds the same results).
    """
    path = Path(path)
    if not is_main_process():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(results, indent=1, default=_jsonable))
    tmp.replace(path)
    return path


def load_results(path):
    return json.loads(Path(path).read_text())


def stored_folder():
    """The results that ship inside the package (``fbssm/stored/``), as an importlib resource."""
    return resources.files("fbssm") / "stored"


def stored_result(name, folder=None, current=False):
    """The results file ``<name>.json``, or None: from ``folder`` when it holds one (a run of your
    own, e.g. the CLI's ``--out``), else the copy that ships with fbssm. A chapter reads every
    stored result through here, so it runs wherever fbssm is installed, with no repository beside it.
    current=True passes over a file that the installed code did not write (`is_current`)."""
    candidates = []
    if folder is not None and (Path(folder) / f"{name}.json").is_file():
        candidates.append(load_results(Path(folder) / f"{name}.json"))
    resource = stored_folder() / f"{name}.json"
    if resource.is_file():
        candidates.append(json.loads(resource.read_text()))
    for results in candidates:
        if not current or is_current(results):
            return results
    return None


def stored_results(prefix, folder=None):
    """name → results of every stored ``<prefix>*.json`` (``folder``'s files replace the package's
    of the same name), in name order."""
    names = {r.name[:-5] for r in stored_folder().iterdir() if r.name.startswith(prefix) and r.name.endswith(".json")}
    if folder is not None and Path(folder).is_dir():
        names |= {p.stem for p in Path(folder).glob(f"{prefix}*.json")}
    return {name: stored_result(name, folder) for name in sorted(names)}


def same_config(stored, config, ignore=("seeds",)):
    """Whether a stored run's configuration (its results' "config") is `config` (a dataclass),
    fields in `ignore` aside; a field the library added since the run counts when it keeps its
    default, i.e. only the fields the stored run records are compared."""
    mine = json.loads(json.dumps(asdict(config), default=_jsonable))

    def agrees(old, new):
        if isinstance(old, dict):
            return isinstance(new, dict) and all(k in ignore or (k in new and agrees(v, new[k])) for k, v in old.items())
        return old == new
    return agrees(stored, mine)


def _jsonable(value):
    if torch.is_tensor(value):
        return value.tolist()
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, complex):
        return [value.real, value.imag]
    raise TypeError(f"cannot store {type(value).__name__} in a results file")


def page_cost(page):
    """One line for the top of a book page: how long executing it took, as measured by
    ``scripts/standalone.py`` (the page alone in an empty folder, fbssm installed from a wheel) and
    stored in ``chapter-times.json``; or that it was not measured."""
    times = stored_result("chapter-times") or {"runs": {}}
    measured = [run for run in times["runs"].values() if (run["chapters"].get(page) or {}).get("seconds")]
    if not measured:
        return f"Cost of this page: not measured yet (scripts/standalone.py --only {page})."
    parts = []
    for run in sorted(measured, key=lambda run: run["load"]):
        chapter = run["chapters"][page]
        where = "idle" if run["load"] == 0 else f"beside {run['load']} busy processes"
        parts.append(f"{_duration(chapter['seconds'])} on {run['meta']['cpu_count']} CPU cores {where} "
                     f"({chapter['date'][:10]}, revision {chapter['git']})")
    return f"Cost of this page at the quick scale, executed top to bottom: {'; '.join(parts)}."


def _duration(seconds):
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"
