"""The loop every (α, β)-grid experiment shares: each setting × seed, one checkpoint per run."""
from ..device import cpu_threads


def checkpoint_path(out, name, config, alpha, beta, seed):
    """out/checkpoints/<name>-<scale>-a<α>-b<β>-s<seed>.pt (None without out); α may be a name."""
    if out is None:
        return None
    tag = alpha if isinstance(alpha, str) else f"{alpha:g}"
    return f"{out}/checkpoints/{name}-{config.scale}-a{tag}-b{beta:g}-s{seed}.pt"


def sweep(name, config, settings, run_one, out=None):
    """[run_one(α, β, seed, checkpoint) for (α, β) in settings for seed in config.seeds], with
    config.threads CPU threads (if the configuration has that field)."""
    with cpu_threads(getattr(config, "threads", None)):
        return [run_one(alpha, beta, seed, checkpoint_path(out, name, config, alpha, beta, seed))
                for alpha, beta in settings for seed in config.seeds]
