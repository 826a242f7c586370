"""tasks.py, the README's two commands: options, the cell timeout, and the few lines a failed chapter gets."""
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
import tasks  # noqa: E402
from tests.nbval_cache import failure_summary  # noqa: E402

TIMEOUT_LOG = """\
\x1b[91m{path}: WARNING: Executing notebook failed: CellTimeoutError
Traceback (most recent call last):
nbclient.exceptions.CellTimeoutError: A cell timed out while it was being executed, after 1800 seconds.
The message was: Cell execution timed out.
Here is a preview of the cell contents:
-------------------
{source}
-------------------
 [mystnb.exec]
Sphinx error: ... please report this bug
"""
ERROR_LOG = """\
{path}: WARNING: Executing notebook failed: CellExecutionError
An error occurred while executing the following cell:
------------------
{source}
------------------


---------------------------------------------------------------------------
ValueError                                Traceback (most recent call last)
Cell In[2], line 3
ValueError: alpha must be positive, got -1.0

 [mystnb.exec]
"""


def test_the_cell_timeout_is_the_one_in_config():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert tasks.cell_timeout() == config["execute"]["timeout"] >= 1200
    assert config["execute"]["run_in_temp"] is True


@pytest.mark.parametrize("task", sorted(tasks.TASKS))
@pytest.mark.parametrize("flags", [[], ["--strict"], ["--fresh"], ["--strict", "--fresh"]])
def test_every_option_goes_with_every_task(task, flags):
    args = tasks.parser().parse_args([task, *flags])
    assert args.task == task and args.strict == ("--strict" in flags) and args.fresh == ("--fresh" in flags)


def test_help_names_the_options():
    out = subprocess.run([sys.executable, str(ROOT / "tasks.py"), "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "--strict" in out.stdout and "--fresh" in out.stdout


def chapter(tmp_path, sources):
    path = tmp_path / "05_waves.ipynb"
    cells = [{"cell_type": "markdown", "source": ["# title"], "metadata": {}}]
    cells += [{"cell_type": "code", "source": [s], "metadata": {}, "outputs": []} for s in sources]
    path.write_text(json.dumps({"cells": cells}))
    return path


def test_a_timed_out_chapter_is_named_with_its_cell_and_the_setting(tmp_path):
    path = chapter(tmp_path, ["import fbssm", "results = waves.run(config)"])
    lines = tasks.book_failure(TIMEOUT_LOG.format(path=path, source="results = waves.run(config)"), 1800)
    assert len(lines) <= 5
    assert "05_waves.ipynb" in lines[0] and "code cell 1" in lines[0] and "waves.run(config)" in lines[0]
    assert any("1800 s" in line for line in lines) and any("execute.timeout" in line for line in lines)


def test_a_chapter_that_raised_is_named_with_its_error(tmp_path):
    path = chapter(tmp_path, ["x = 1", "fbssm.diagonal_init('lin', 4, alpha=-1.0)"])
    lines = tasks.book_failure(ERROR_LOG.format(path=path, source="fbssm.diagonal_init('lin', 4, alpha=-1.0)"), 1800)
    assert "code cell 1" in lines[0] and "ValueError: alpha must be positive, got -1.0" in lines[1]


def test_a_build_without_a_failed_chapter_has_no_summary():
    assert tasks.book_failure("build succeeded.\n", 1800) is None


def test_nbval_failure_summary_says_what_to_do():
    timed_out = failure_summary("book/05_waves.ipynb", 12, "# train\nresults = waves.run(config)",
                                "Timeout of 1800 seconds exceeded while executing cell.", 1800)
    assert timed_out[0] == "book/05_waves.ipynb, code cell 12: `results = waves.run(config)`"
    assert "execute.timeout" in timed_out[2]
    raised = failure_summary("book/07_lra.ipynb", 3, "x()", "\x1b[31mValueError\x1b[39m: bad\n", 1800)
    assert raised[1].strip() == "ValueError: bad" and "top to bottom" in raised[2]


def test_each_notebook_is_copied_alone(tmp_path):
    copies = tasks.standalone_copies(tmp_path)
    assert len(copies) == len(list((ROOT / "book").glob("*.ipynb")))
    assert all(list(c.parent.iterdir()) == [c] for c in copies)


def test_busy_passes_options_before_the_command():
    script = Path(__file__).resolve().parent.parent / "benchmarks" / "busy.py"
    done = subprocess.run([sys.executable, str(script), "1", "--seconds", "30", "--", sys.executable, "-c",
                           "import sys; sys.exit(3)"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 3, done.stderr
    assert "beside 1 busy processes" in done.stdout
