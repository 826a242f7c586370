"""Crash-safe writes and file locks: what results files and checkpoints are written with."""
import contextlib
import os
import tempfile
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; writes stay atomic
    fcntl = None


def atomic_write(path, write):
    """Call write(file) on a fresh temporary file beside `path` (a unique name, so that two
    processes never share one), flush and fsync it, then rename it onto `path`: a crash leaves
    the old file or the new one, never half of one. Returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


@contextlib.contextmanager
def locked(path):
    """Hold an exclusive lock on `.<name>.lock` beside `path` (created if needed, and left there)
    for the block: processes that read, change and write one file take turns."""
    path = Path(path)
    lock = path.with_name(f".{path.name}.lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a+b") as file:
        if fcntl is not None:
            fcntl.flock(file.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            if fcntl is not None:
                fcntl.flock(file.fileno(), fcntl.LOCK_UN)


def check_writable_folder(path, name="out"):
    """`path` as a Path once it is (or can be made) a writable folder; else a ValueError naming
    the argument, the path and what is wrong, before any work is done."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ValueError(f"{name} must be a folder, but {path} is a file")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ValueError(f"{name}: cannot create the folder {path} ({error.strerror})") from None
    try:
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as error:
        raise ValueError(f"{name}: cannot write in the folder {path} ({error.strerror})") from None
    return path
