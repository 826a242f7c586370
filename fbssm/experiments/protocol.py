"""The one plan every experiment follows.

An experiment is a module that declares its configurations (`QUICK`, `GPU` and `PAPER`, or
`config_for_task(task, scale)` for a family of tasks), its `SETTINGS`, a `run_setting` that
trains one setting and seed, a `run` that sweeps them through `sweep` and writes them with
`results_of`, and its `departures` from the authors' configuration. `check_experiment` holds a
module to that plan when the registry imports it.

A `Setting` is one point of the (α, β) grid, validated once here. Every record that `sweep`
returns starts with the same keys, `RECORD_KEYS`: the setting's label, α, β, whether β trains,
and the seed. `runs_of` and `find_run` read any experiment's records.
"""
import hashlib
import inspect
import json
from dataclasses import asdict, dataclass, replace

import numpy as np

from .._checks import check_finite, check_positive
from .._files import check_writable_folder
from ..device import cpu_threads
from ..results import run_metadata, save_results

RECORD_KEYS = ("setting", "alpha", "beta", "trainable_beta", "seed")


@dataclass(frozen=True)
class Setting:
    """One (α, β) point. alpha: a number > 0, a name the experiment resolves (e.g. "flip"), or
    None for the configuration's own α; beta: the Sobolev exponent (its initial value when
    trainable_beta); name: a short label (default: built from α and β)."""
    alpha: float | str | None = 1.0
    beta: float = 0.0
    trainable_beta: bool = False
    name: str | None = None

    def __post_init__(self):
        if isinstance(self.alpha, str):
            if not self.alpha.isidentifier():
                raise ValueError(f"alpha must be a number > 0 or a name, got {self.alpha!r}")
        elif self.alpha is not None:
            object.__setattr__(self, "alpha", check_positive("alpha", self.alpha))
        object.__setattr__(self, "beta", check_finite("beta", self.beta))
        if not isinstance(self.trainable_beta, bool):
            raise TypeError(f"trainable_beta must be True or False, got {self.trainable_beta!r}")
        if self.name is not None and (not isinstance(self.name, str) or not self.name
                                      or not self.name.replace("-", "_").replace(".", "_").isidentifier()):
            raise ValueError(f"name must be a short label (letters, digits, -, ., _), got {self.name!r}")

    @property
    def label(self):
        """The name, else "a<α>-b<β>" (+ "-trained" when β trains): one token, safe in a file name."""
        if self.name is not None:
            return self.name
        alpha = "cfg" if self.alpha is None else self.alpha if isinstance(self.alpha, str) else f"{self.alpha:g}"
        return f"a{alpha}-b{self.beta:g}" + ("-trained" if self.trainable_beta else "")

    def with_alpha(self, alpha):
        """This setting with α filled in (for alpha=None: the configuration's α)."""
        return self if self.alpha is not None else replace(self, alpha=alpha)


def as_setting(value, trainable_beta=False):
    """A Setting from a Setting, or from an (α, β) or (α, β, trainable_beta) tuple."""
    if isinstance(value, Setting):
        return value
    if isinstance(value, (tuple, list)) and len(value) in (2, 3):
        return Setting(*value) if len(value) == 3 else Setting(value[0], value[1], trainable_beta)
    raise TypeError(f"setting must be a Setting or an (alpha, beta) pair, got {value!r}")


def as_settings(values, trainable_beta=False):
    """A non-empty tuple of Settings, with no label twice."""
    settings = tuple(as_setting(v, trainable_beta) for v in values)
    if not settings:
        raise ValueError("settings must hold at least one setting")
    labels = [s.label for s in settings]
    twice = sorted({label for label in labels if labels.count(label) > 1})
    if twice:
        raise ValueError(f"settings must differ, got {', '.join(twice)} more than once")
    return settings


def run_identity(name, config, setting, seed, data=None):
    """What a run is: the experiment, its configuration (seeds aside), the setting, the seed and
    the data's source. A checkpoint records it, and resumes only a run with the same."""
    config = json.loads(json.dumps(asdict(config), default=str))
    config.pop("seeds", None)
    return {"experiment": name, "config": config, "setting": asdict(setting), "seed": seed,
            "data_source": data}


def _short_hash(value):
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:8]


def checkpoint_path(out, identity):
    """out/checkpoints/<experiment>-<scale>-<label>-s<seed>-<hash>.pt (None without out). The hash
    covers what the model and data are (the configuration without its training fields, the
    setting, the data source): a run that changes only how it trains finds its old checkpoint
    and is refused by `train` with the fields that differ, rather than silently starting over."""
    if out is None:
        return None
    config = identity["config"]
    shape = {k: v for k, v in config.items() if k != "train"}
    tag = _short_hash([identity["experiment"], shape, identity["setting"], identity["data_source"]])
    label = Setting(**identity["setting"]).label
    return f"{out}/checkpoints/{identity['experiment']}-{config['scale']}-{label}-s{identity['seed']}-{tag}.pt"


def sweep(name, config, settings, run_one, out=None, data=None):
    """[record of run_one(setting, seed, checkpoint, identity) for each setting × config.seeds],
    each record led by RECORD_KEYS, with config.threads CPU threads (if the configuration has that
    field). `out` is checked to be a writable folder before anything trains; data: the data's
    source, part of each run's identity."""
    if out is not None:
        check_writable_folder(out, "out")
    settings = as_settings(settings)
    unresolved = [s.label for s in settings if s.alpha is None]
    if unresolved:
        raise ValueError(f"settings {unresolved} need their alpha (Setting.with_alpha) before a sweep")
    records = []
    with cpu_threads(getattr(config, "threads", None)):
        for setting in settings:
            for seed in config.seeds:
                identity = run_identity(name, config, setting, seed, data)
                record = run_one(setting, seed, checkpoint_path(out, identity), identity)
                records.append(_record(setting, seed, record))
    return records


def _record(setting, seed, record):
    """A run's record with the shared keys first. Its α is the number the run used: run_one's
    record gives it where the setting names one ("flip"); the label keeps the name."""
    shared = {"setting": setting.label, "alpha": record.get("alpha", setting.alpha), "beta": setting.beta,
              "trainable_beta": setting.trainable_beta, "seed": seed}
    return shared | {k: v for k, v in record.items() if k not in shared}


def results_of(name, config, runs, *, module, device=None, out=None, **extra):
    """The results dict of a sweep (experiment, scale, config, `extra`, runs, meta: `module` is
    the experiment's module name, whose code the fingerprint covers), also merged into
    out/<name>-<scale>.json when `out` is given (see `save_results`)."""
    results = {"experiment": name, "scale": config.scale, "config": asdict(config), **extra,
               "runs": runs, "meta": run_metadata(device, module=module)}
    if out is not None:
        save_results(f"{out}/{name}-{config.scale}.json", results)
    return results


def _matches(record, setting):
    if isinstance(setting, str):
        return record["setting"] == setting
    setting = as_setting(setting)
    if setting.name is not None or not isinstance(setting.alpha, (int, float)):
        return record["setting"] == setting.label
    return (record["alpha"], record["beta"], record.get("trainable_beta", False)) == \
        (setting.alpha, setting.beta, setting.trainable_beta) or record.get("setting") == setting.label


def _records(results):
    return results["runs"] if isinstance(results, dict) else results


def runs_of(results, setting):
    """The records of one setting, in seed order. results: a results dict or its list of runs;
    setting: a label ("plain", "a1-b0"), a Setting, or an (α, β) pair (α as the experiment
    declares it, e.g. "flip")."""
    found = [r for r in _records(results) if _matches(r, setting)]
    return sorted(found, key=lambda r: r["seed"])


def per_seed(results, setting, *keys):
    """One quantity of every seed of a setting, as an array (seeds first): record[k1][k2]...,
    e.g. per_seed(results, (1.0, 0.0), "vertical", "noise_fraction")."""
    values = []
    for record in runs_of(results, setting):
        for key in keys:
            record = record[key]
        values.append(record)
    if not values:
        raise KeyError(f"no run of setting {setting!r} in the results")
    return np.array(values)


def setting_name(setting, alpha_text=None):
    """"α=1, β=0" (β trainable: "α=1, β from 0"); alpha_text replaces α's number (e.g. "flip (156)")."""
    setting = as_setting(setting)
    alpha = alpha_text or (setting.alpha if isinstance(setting.alpha, str) else f"{setting.alpha:g}")
    return f"α={alpha}, β{' from ' if setting.trainable_beta else '='}{setting.beta:g}"


def find_run(results, setting, seed=None):
    """The record of one setting and seed (default: the lowest seed); KeyError naming what exists."""
    for record in runs_of(results, setting):
        if seed is None or record["seed"] == seed:
            return record
    labels = sorted({(r["setting"], r["seed"]) for r in _records(results)})
    raise KeyError(f"no run of setting {setting!r}, seed {seed!r}; the results hold {labels}")


REQUIRED = {"SETTINGS": "its (α, β) settings", "run": "run(config, settings, device, out, progress, data, restart)",
            "run_setting": "run_setting(config, setting, seed, data, ...)",
            "departures": "departures(config): where it departs from the authors' configuration"}
RUN_PARAMETERS = ("config", "settings", "device", "out", "progress", "data", "restart")


def check_experiment(module):
    """`module` if it follows the plan above; else a TypeError naming what it lacks."""
    missing = [f"{key} ({what})" for key, what in REQUIRED.items() if not hasattr(module, key)]
    if not hasattr(module, "config_for_task") and not all(hasattr(module, s) for s in ("QUICK", "GPU", "PAPER")):
        missing.append("QUICK, GPU and PAPER configurations (or config_for_task(task, scale))")
    if callable(getattr(module, "run", None)):
        parameters = tuple(inspect.signature(module.run).parameters)
        absent = [p for p in RUN_PARAMETERS if p not in parameters]
        if absent:
            missing.append(f"run() parameters {', '.join(absent)}")
    if missing:
        raise TypeError(f"experiment module {module.__name__} lacks " + "; ".join(missing))
    return module
