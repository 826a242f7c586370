"""pytest plugin for the notebooks under nbval (loaded by `python3 tasks.py test` with -p).

`tasks.py test` copies each chapter alone into an empty temporary folder and nbval executes it
there, as Colab or a downloaded notebook would. This plugin ties those copies to the book:

- a chapter whose code is already in the book's execution cache (_build/.jupyter_cache, the path
  _config.yml names) is not executed again: its cells are skipped, naming the cache. The cache is
  fresh: tasks.py drops it whenever the library changed, and a match is on the notebook's code;
- when every cell of a chapter passes, its outputs are stored in that cache, so a following
  `jupyter-book build` reuses them instead of executing the chapter a second time;
- a chapter that fails is summarised at the end in a few lines: the notebook, the cell, the error
  and what to do.

FBSSM_NB_CACHE=0 turns the cache off (every chapter executes, nothing is stored).
"""
import copy
import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
CACHE = ROOT / "_build" / ".jupyter_cache"
_cells = {}  # notebook file node -> list of (item, passed, seconds)


def _enabled():
    return os.environ.get("FBSSM_NB_CACHE", "1") != "0"


def source_of(notebook_file):
    """The chapter in book/ that a temporary copy stands for (same file name)."""
    return BOOK / Path(str(notebook_file.path)).name


def _cache():
    from jupyter_cache import get_cache
    return get_cache(str(CACHE))


def _is_cached(cache, nb):
    try:
        cache.match_cache_notebook(nb)
        return True
    except KeyError:
        return False


def pytest_collection_modifyitems(session, config, items):
    if not _enabled() or not CACHE.exists():
        return
    cache, seen = _cache(), {}
    for item in items:
        notebook_file = item.parent
        if not hasattr(item, "test_outputs"):
            continue
        if notebook_file not in seen:
            seen[notebook_file] = _is_cached(cache, notebook_file.nb)
        if seen[notebook_file]:
            item.add_marker(pytest.mark.skip(
                reason=f"{source_of(notebook_file).name} ran already with this code and library "
                       f"(outputs in {CACHE.relative_to(ROOT)}); --fresh executes it again"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not hasattr(item, "test_outputs") or report.when != "call":
        return
    _cells.setdefault(item.parent, []).append((item, report.passed, report.duration, report))


def _ends_with_semicolon(source):
    lines = [line.split("#")[0].rstrip() for line in source.splitlines()]
    lines = [line for line in lines if line]
    return bool(lines) and lines[-1].endswith(";")


def _executed_notebook(notebook_file, cells):
    nb = copy.deepcopy(notebook_file.nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    for count, (cell, (item, *_)) in enumerate(zip(code, cells), start=1):
        cell.outputs = item.test_outputs or []
        if _ends_with_semicolon(cell.source):
            # nbval executes without history, so IPython cannot see the trailing ';' that
            # hides a cell's value in Jupyter; drop the value as Jupyter would.
            cell.outputs = [o for o in cell.outputs if o.output_type != "execute_result"]
        cell.execution_count = count
        for output in cell.outputs:
            if output.output_type == "execute_result":
                output.execution_count = count
    return nb


def pytest_sessionfinish(session):
    if not _enabled() or not _cells:
        return
    from jupyter_cache.base import CacheBundleIn

    cache = _cache()
    for notebook_file, cells in _cells.items():
        n_code = sum(c.cell_type == "code" for c in notebook_file.nb.cells)
        if len(cells) != n_code or not all(passed for _, passed, *_ in cells):
            continue
        nb = _executed_notebook(notebook_file, cells)
        seconds = sum(duration for _, _, duration, _ in cells)
        cache.cache_notebook_bundle(
            CacheBundleIn(nb, str(source_of(notebook_file)), data={"execution_seconds": seconds}),
            check_validity=False, overwrite=True)


def failure_summary(notebook, cell_number, source, report_text, timeout):
    """A few lines for a failed chapter cell: where (code cells counted from 0, as nbval and
    tasks.py's book summary count them), what, and what to do."""
    first = next((line for line in source.splitlines() if line.strip() and not line.startswith("#")), "")
    report_text = re.sub(r"\x1b\[[0-9;]*m", "", report_text)
    lines = [line for line in report_text.splitlines() if line.strip()]
    timed_out = "Timeout" in report_text or "timed out" in report_text
    error = next((line.strip() for line in reversed(lines) if "Error" in line or "Exception" in line),
                 lines[-1].strip() if lines else "")
    todo = (f"the cell ran past the cell timeout ({timeout} s, `execute.timeout` in _config.yml): raise it "
            "there, or run the chapter on a less busy machine" if timed_out else
            "open the notebook and run it top to bottom to see the whole traceback")
    return [f"{notebook}, code cell {cell_number}: `{first[:70]}`",
            f"  {'timed out' if timed_out else error[:200]}", f"  what to do: {todo}"]


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    timeout = config.getoption("nbval_cell_timeout", default=None)
    blocks = []
    for notebook_file, cells in _cells.items():
        for item, passed, _, report in cells:
            if passed or report.skipped:
                continue
            number = item.name.replace("Cell ", "")
            source = getattr(item, "cell", {}).get("source", "")
            blocks.append(failure_summary(source_of(notebook_file).relative_to(ROOT), number, source,
                                          str(report.longrepr), timeout))
            break  # the first failed cell of a chapter; later ones follow from it
    if blocks:
        terminalreporter.section("chapters that failed")
        for block in blocks:
            for line in block:
                terminalreporter.write_line(line)
