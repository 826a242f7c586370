#!/usr/bin/env python3
"""Build the book and run the tests on a machine with only Python 3 (stdlib only).

    python3 tasks.py book      # create .venv if needed, install, execute the notebooks, write _build/html
    python3 tasks.py test      # unit tests + nbval on every notebook, each alone in an empty folder
    python3 tasks.py browser   # drive Chromium over every page of the built book

Options (each works with every command):
    --strict   warnings are errors: Sphinx's for the book; pytest's strict markers and configuration
               for the tests and the browser suite (CI builds the book with --strict)
    --fresh    forget the notebooks' execution cache first, so that every chapter executes again

The book and the tests share one execution cache (_build/.jupyter_cache): whichever runs first
executes a chapter, the other reuses it while neither the chapter's code nor the library changed.
The cell timeout is `execute.timeout` in _config.yml, for both.

Environment: FBSSM_VENV (default .venv); FBSSM_TORCH, the pip arguments that install torch first
(default "torch==2.13.0"; e.g. add "--index-url https://download.pytorch.org/whl/cpu" for a CPU build).
"""
import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("FBSSM_VENV", ROOT / ".venv")).resolve()
TORCH = os.environ.get("FBSSM_TORCH", "torch==2.13.0")
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
CACHE = ROOT / "_build" / ".jupyter_cache"
LOG = ROOT / "_build" / "book.log"


def run(*command, check=True):
    print("+", " ".join(str(c) for c in command), flush=True)
    return subprocess.run([str(c) for c in command], cwd=ROOT, check=check)


def ensure_environment():
    """Create the virtual environment and install the project when its metadata changed."""
    if not PYTHON.exists():
        venv.EnvBuilder(with_pip=True).create(VENV)
    stamp = VENV / "fbssm-install.stamp"
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + TORCH.encode()
                            + version().encode()).hexdigest()
    if stamp.exists() and stamp.read_text() == wanted:
        return
    run(PYTHON, "-m", "pip", "install", "--quiet", *TORCH.split())
    run(PYTHON, "-m", "pip", "install", "--quiet", "-e", ".[book,test]")
    stamp.write_text(wanted)


def version():
    """fbssm.__version__, read as text (the package imports torch)."""
    text = (ROOT / "fbssm" / "__init__.py").read_text()
    return re.search(r'^__version__ = "([^"]+)"', text, re.M).group(1)


def cell_timeout():
    """`execute.timeout` in _config.yml (seconds per cell), the one place it is set."""
    config = (ROOT / "_config.yml").read_text()
    block = config[config.index("\nexecute:"):]
    return int(re.search(r"^\s+timeout:\s*(\d+)", block, re.M).group(1))


def library_hash():
    """Jupyter Book's cache keys on notebook code only; this covers the library it imports."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "fbssm").rglob("*")):
        if path.is_file() and path.suffix in (".py", ".json"):
            digest.update(path.relative_to(ROOT).as_posix().encode() + path.read_bytes())
    return digest.hexdigest()


def prepare_cache(fresh):
    """Drop the cache when asked or when the library changed; returns the library's hash now, which
    mark_cache_fresh records after the run (an edit during the run then counts as a change)."""
    stamp, current = CACHE / "fbssm-library.stamp", library_hash()
    if CACHE.exists() and (fresh or not stamp.exists() or stamp.read_text() != current):
        print("executing every notebook again" if fresh else
              "fbssm changed since the notebooks were cached: executing them again")
        shutil.rmtree(CACHE)
    return current


def mark_cache_fresh(library):
    if CACHE.exists():
        (CACHE / "fbssm-library.stamp").write_text(library)


# ---------------------------------------------------------------------------------------------
# A failed chapter in a few lines (Sphinx buries it in a long traceback)

ANSI = re.compile(r"\x1b\[[0-9;]*m")
FAILED = re.compile(r"(\S+\.ipynb): WARNING: Executing notebook failed: (\w+)")
CELL = re.compile(r"(?:preview of the cell contents|while executing the following cell):\n-+\n(.*?)\n-+\n", re.S)


def cell_number(notebook, source):
    """The number of the code cell whose source is `source`, counted from 0 over code cells (as nbval)."""
    import json
    try:
        cells = json.loads(Path(notebook).read_text())["cells"]
    except (OSError, ValueError):
        return "?"
    code = ["".join(cell["source"]).strip() for cell in cells if cell["cell_type"] == "code"]
    return code.index(source.strip()) if source.strip() in code else "?"


def book_failure(log, timeout):
    """Lines naming the notebook, the cell, the error and what to do; None if no chapter failed."""
    log = ANSI.sub("", log)
    found = FAILED.search(log)
    if not found:
        return None
    path, error = found.groups()
    rest = log[found.end():]
    cell = CELL.search(rest)
    source = cell.group(1) if cell else ""
    first = next((line for line in source.splitlines() if line.strip() and not line.startswith("#")), "")
    try:
        shown = Path(path).resolve().relative_to(ROOT)
    except ValueError:
        shown = path
    lines = [f"The book stopped: {shown} failed in code cell {cell_number(path, source)} (`{first[:70]}`)."]
    if error == "CellTimeoutError":
        lines.append(f"  The cell ran past the cell timeout of {timeout} s.")
        lines.append("  What to do: raise `execute.timeout` in _config.yml, or build on a less busy machine.")
    else:
        tail = rest[cell.end():] if cell else rest
        message = next((line.strip() for line in tail.splitlines() if re.match(r"\w+(Error|Exception)\b.*:", line)),
                       error)
        lines.append(f"  {message[:200]}")
        lines.append(f"  What to do: run {shown} top to bottom in Jupyter to see the whole traceback.")
    lines.append(f"  The full output is in {LOG.relative_to(ROOT)}.")
    return lines


def run_logged(command):
    """Run `command`, showing and keeping its output (in LOG); returns (returncode, output)."""
    LOG.parent.mkdir(parents=True, exist_ok=True)
    print("+", " ".join(str(c) for c in command), flush=True)
    output = []
    with subprocess.Popen([str(c) for c in command], cwd=ROOT, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, errors="replace") as process, \
            LOG.open("w") as log:
        for line in process.stdout:
            sys.stdout.write(line)
            log.write(line)
            output.append(line)
    return process.returncode, "".join(output)


# ---------------------------------------------------------------------------------------------
# The tasks

def book(strict=False, fresh=False):
    library = prepare_cache(fresh)
    command = [BIN / "jupyter-book", "build", ".", "--path-output", "."]
    if strict:
        command += ["-W", "--keep-going"]
    returncode, output = run_logged(command)
    if returncode:
        summary = book_failure(output, cell_timeout())
        print("\n" + "\n".join(summary or [f"The book build failed; the output is in {LOG.relative_to(ROOT)}."]))
        return returncode
    mark_cache_fresh(library)
    print(f"The book is in {ROOT / '_build' / 'html' / 'index.html'}")
    return 0


def standalone_copies(folder):
    """Each notebook of book/ alone in an empty folder under `folder` (as Colab or a download
    would have it): nothing beside it, so a chapter that reads ../ or a repository file fails."""
    copies = []
    for notebook in sorted((ROOT / "book").glob("*.ipynb")):
        alone = Path(folder) / notebook.stem
        alone.mkdir()
        copies.append(Path(shutil.copy2(notebook, alone / notebook.name)))
    return copies


def pytest_strict(strict):
    return ["--strict-markers", "--strict-config"] if strict else []


def test(strict=False, fresh=False):
    library = prepare_cache(fresh)
    with tempfile.TemporaryDirectory(prefix="fbssm-notebooks-") as folder:
        notebooks = standalone_copies(folder)
        returncode = run(PYTHON, "-m", "pytest", "--rootdir", ROOT, "-c", ROOT / "pyproject.toml",
                         "-p", "tests.nbval_cache", "tests", *notebooks, "--ignore=tests/browser",
                         "--nbval-lax", "--nbval-current-env", f"--nbval-cell-timeout={cell_timeout()}",
                         *pytest_strict(strict), check=False).returncode
    if returncode == 0:
        mark_cache_fresh(library)  # every notebook passed under nbval (or was cached) and its outputs are stored
    return returncode


def browser(strict=False, fresh=False):
    del fresh  # the browser suite executes nothing
    return run(PYTHON, "-m", "pytest", "tests/browser", "-v", *pytest_strict(strict), check=False).returncode


TASKS = {"book": book, "test": test, "browser": browser}


def parser():
    p = argparse.ArgumentParser(prog="python3 tasks.py", description=__doc__.splitlines()[0],
                                epilog="\n".join(__doc__.splitlines()[2:]),
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("task", choices=TASKS)
    p.add_argument("--strict", action="store_true", help="warnings are errors")
    p.add_argument("--fresh", action="store_true", help="execute every notebook again")
    return p


def main(argv):
    args = parser().parse_args(argv)
    os.environ.setdefault("PYTHONHASHSEED", "0")
    os.environ.setdefault("FBSSM_PROGRESS", "text")  # progress bars as text lines in executed notebooks
    # libgomp's threads sleep instead of spinning between parallel regions (kernels inherit this).
    # Beside two busy processes on 2 cores, spinning made an S4D step up to 2x slower than sleeping;
    # on an idle machine sleeping costs up to 2x on small steps. A build must not time out on a
    # shared machine, so it sleeps (`python benchmarks/threads.py` measures both).
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    try:
        ensure_environment()
    except subprocess.CalledProcessError as error:
        sys.exit(f"tasks.py: installing the environment failed (exit {error.returncode}); see pip's output above")
    sys.exit(TASKS[args.task](strict=args.strict, fresh=args.fresh))


if __name__ == "__main__":
    main(sys.argv[1:])
