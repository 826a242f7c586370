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
import warnings
from dataclasses import asdict
from importlib import resources
from pathlib import Path

import torch

from ._files import atomic_write, locked
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


# What names a results file moved aside by `save_results`; `stored_results` passes over them.
REPLACED = "replaced-"


def save_results(path, results):
    """Write a results dict (JSON-serialisable) to `path` and return the path.

    Under `locked(path)`, a file already there that `mergeable` finds of the same sweep is merged
    with `results` (`merge_results`); any other file, or one that is not valid JSON, is moved
    aside to ``<stem>.replaced-<UTC time>.json`` with a warning, never deleted. A results dict
    without "runs" (a derived file: a benchmark, a script's summary) replaces the file at `path`:
    its writer regenerates it whole. The write is atomic (`atomic_write`). Under torchrun only
    process 0 writes (every process holds the same results).
    """
    path = Path(path)
    if not is_main_process():
        return path
    new = json.loads(json.dumps(results, default=_jsonable))
    with locked(path):
        old = _readable(path)
        if old is not None and mergeable(old, new):
            new = merge_results(old, new)
        elif path.exists() and "runs" in new:
            what = "was not valid JSON" if old is None else "held the results of another sweep"
            warnings.warn(f"{path} {what}: moved it to {_move_aside(path)} and wrote the new results "
                          f"to {path}", stacklevel=2)
        text = json.dumps(new, indent=1).encode()
        atomic_write(path, lambda file: file.write(text))
    return path


def run_key(record):
    """What names a run inside a results file: (record["setting"], record["seed"])."""
    for key in ("setting", "seed"):
        if key not in record:
            raise ValueError(f"a results record must carry {key!r}, got one with keys {sorted(record)}")
    return record["setting"], record["seed"]


def mergeable(old, new):
    """Whether two results dicts hold runs of one sweep, so that their records can share a file:
    same experiment, scale and code fingerprint, the same configuration apart from the seeds
    (`same_config`'s comparison, both ways), equal values for every other top-level key but
    "runs" and "meta", and every record named by `run_key` (a string setting, an integer seed)."""
    if not all(isinstance(r, dict) and isinstance(r.get("runs"), list) and isinstance(r.get("config"), dict)
               for r in (old, new)):
        return False
    others = (old.keys() | new.keys()) - {"runs", "meta", "config"}
    fingerprint = _fingerprint(old)
    return (all(old.get(key, _MISSING) == new.get(key, _MISSING) for key in others)
            and fingerprint is not None and fingerprint == _fingerprint(new)
            and _agrees(old["config"], new["config"]) and _agrees(new["config"], old["config"])
            and all(_named(record) for record in old["runs"] + new["runs"]))


def merge_results(old, new):
    """`old`'s records in order, each one `new` also holds (same `run_key`) replaced in place by
    `new`'s, then `new`'s other records; config.seeds is the sorted union of the runs' seeds and
    meta is `new`'s."""
    runs = list(old["runs"])
    where = {run_key(record): i for i, record in enumerate(runs)}
    for record in new["runs"]:
        key = run_key(record)
        if key in where:
            runs[where[key]] = record
        else:
            where[key] = len(runs)
            runs.append(record)
    config = {**new["config"], "seeds": sorted({record["seed"] for record in runs})}
    return {**old, **new, "config": config, "runs": runs}


_MISSING = object()


def _fingerprint(results):
    meta = results.get("meta")
    code = meta.get("code") if isinstance(meta, dict) else None
    return code.get("fingerprint") if isinstance(code, dict) else None


def _named(record):
    return (isinstance(record, dict) and isinstance(record.get("setting"), str)
            and isinstance(record.get("seed"), int) and not isinstance(record["seed"], bool))


def _readable(path):
    """The JSON in `path`, or None when there is no file or it is not valid JSON."""
    try:
        return json.loads(Path(path).read_text())
    except (FileNotFoundError, ValueError):  # UnicodeDecodeError is a ValueError
        return None


def _move_aside(path):
    """Rename `path` to ``<stem>.replaced-<UTC time>.json`` beside it (a free name) and return it."""
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    aside, n = path.with_name(f"{path.stem}.{REPLACED}{stamp}.json"), 1
    while aside.exists():
        n += 1
        aside = path.with_name(f"{path.stem}.{REPLACED}{stamp}-{n}.json")
    os.replace(path, aside)
    return aside


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
    of the same name; files `save_results` moved aside left out), in name order."""
    names = {r.name[:-5] for r in stored_folder().iterdir() if r.name.startswith(prefix) and r.name.endswith(".json")}
    if folder is not None and Path(folder).is_dir():
        names |= {p.stem for p in Path(folder).glob(f"{prefix}*.json") if f".{REPLACED}" not in p.name}
    return {name: stored_result(name, folder) for name in sorted(names)}


def same_config(stored, config, ignore=("seeds",)):
    """Whether a stored run's configuration (its results' "config") is `config` (a dataclass),
    fields in `ignore` aside; a field the library added since the run counts when it keeps its
    default, i.e. only the fields the stored run records are compared."""
    return _agrees(stored, json.loads(json.dumps(asdict(config), default=_jsonable)), ignore)


def _agrees(old, new, ignore=("seeds",)):
    """Whether every field of the configuration dict `old` (nested ones too), those in `ignore`
    aside, has the same value in `new`."""
    if isinstance(old, dict):
        return isinstance(new, dict) and all(k in ignore or (k in new and _agrees(v, new[k], ignore))
                                             for k, v in old.items())
    return old == new


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
