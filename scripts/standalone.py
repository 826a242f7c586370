"""Execute every chapter as a reader meets it: alone in an empty folder, against a wheel of fbssm
installed in a fresh virtual environment with only what the install cell installs.

    .venv/bin/python scripts/standalone.py                    # every notebook, idle
    .venv/bin/python scripts/standalone.py --load 2           # beside two CPU-bound processes
    .venv/bin/python scripts/standalone.py --only 05_waves    # some notebooks

(run it with the project's environment, which `python3 tasks.py test` creates)
The fresh environment gets torch (FBSSM_TORCH, default torch==2.13.0), the wheel with its
`notebooks` extra — what each chapter's first cell installs from the repository — and a kernel
(ipykernel, nbclient) to execute with. Each notebook runs with the cell timeout of _config.yml.
After the last cell, the run reads which of the extra's modules the chapter imported and checks
them against the install cell's NEEDS. Prints one line per chapter and records the times (per
chapter, and its slowest cell) and the modules in fbssm/stored/chapter-times.json, which each page's
first cell reads (fbssm.page_cost). The thread policy is the reader's: OMP_WAIT_POLICY as set here.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
import tasks  # noqa: E402
from busy import busy  # noqa: E402
from fbssm.results import cpu_name  # noqa: E402

OPTIONAL = ("skimage", "mlxtend", "pandas")  # the modules of fbssm[notebooks]

EXECUTE = """
import json, sys, time
from pathlib import Path
import nbformat
from nbclient import NotebookClient
path, timeout, optional = Path(sys.argv[1]), int(sys.argv[2]), json.loads(sys.argv[3])
nb = nbformat.read(path, as_version=4)
nb.cells.append(nbformat.v4.new_code_cell(
    f"import json, sys\\nprint('MODULES', json.dumps(sorted(m for m in {optional!r} if m in sys.modules)))"))
code = [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"]
began, seconds = {}, {}
client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                        resources={"metadata": {"path": str(path.parent)}})
client.on_cell_execute = lambda cell, cell_index: began.__setitem__(cell_index, time.perf_counter())
client.on_cell_executed = lambda cell, cell_index, execute_reply: seconds.__setitem__(
    code.index(cell_index), time.perf_counter() - began[cell_index])
start, error = time.perf_counter(), None
try:
    client.execute()
except Exception as exc:
    error = type(exc).__name__ + ": " + (str(exc).strip().splitlines() or [""])[0][:300]
total = time.perf_counter() - start
modules = None
for output in nb.cells[-1].get("outputs", []):
    if output.get("name") == "stdout" and "MODULES" in output.get("text", ""):
        modules = json.loads(output["text"].split("MODULES", 1)[1])
seconds.pop(len(code) - 1, None)  # the probe
slowest = max(seconds, key=seconds.get) if seconds else None
print("RESULT", json.dumps({"seconds": total, "error": error, "modules": modules, "slowest_cell": slowest,
                            "slowest_seconds": seconds.get(slowest, 0.0)}))
"""


def make_environment(folder):
    wheels = Path(folder) / "wheels"
    subprocess.run([str(tasks.PYTHON), "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(wheels), str(ROOT)], check=True)
    wheel, = wheels.glob("fbssm-*.whl")
    env = Path(folder) / "venv"
    venv.EnvBuilder(with_pip=True).create(env)
    python = env / "bin" / "python"
    pip = [str(python), "-m", "pip", "install", "-q"]
    subprocess.run(pip + os.environ.get("FBSSM_TORCH", "torch==2.13.0").split(), check=True)
    subprocess.run(pip + [f"{wheel}[notebooks]", "ipykernel", "nbclient", "nbformat"], check=True)
    return python


def needs_of(notebook):
    source = "".join(json.loads(notebook.read_text())["cells"][0]["source"])
    return set(eval(re.search(r"NEEDS = [^,]+, (\(.*?\))\n", source).group(1)))  # a literal tuple


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--load", type=int, default=0, help="busy processes beside the run (default 0)")
    parser.add_argument("--only", nargs="+", help="notebook names without .ipynb (default: all)")
    args = parser.parse_args()
    notebooks = [p for p in sorted((ROOT / "book").glob("*.ipynb")) if not args.only or p.stem in args.only]
    timeout = tasks.cell_timeout()
    folder = Path(tempfile.mkdtemp(prefix="fbssm-standalone-"))
    report = {"load": args.load, "cell_timeout": timeout, "chapters": {}}
    try:
        started = time.perf_counter()
        python = make_environment(folder)
        print(f"fresh environment with the wheel in {time.perf_counter() - started:.0f} s", flush=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("FBSSM_SCALE", "PYTHONPATH"))}
        env.update(FBSSM_PROGRESS="text")
        with busy(args.load):
            for notebook in notebooks:
                alone = folder / "chapters" / notebook.stem
                alone.mkdir(parents=True)
                copy = Path(shutil.copy2(notebook, alone / notebook.name))
                out = subprocess.run([str(python), "-c", EXECUTE, str(copy), str(timeout), json.dumps(OPTIONAL)],
                                     cwd=alone, env=env,
                                     capture_output=True, text=True)
                line = next((l for l in out.stdout.splitlines() if l.startswith("RESULT ")), None)
                result = json.loads(line[7:]) if line else {"error": out.stderr[-500:], "seconds": None}
                needs = needs_of(notebook)
                result["needs"] = sorted(needs)
                result["needs_match"] = result.get("modules") is not None and set(result["modules"]) <= needs
                report["chapters"][notebook.stem] = result
                print(f"{notebook.stem:18} {result['seconds'] or 0:7.1f} s  slowest code cell "
                      f"{result.get('slowest_cell')} {result.get('slowest_seconds', 0):6.1f} s  imported "
                      f"{result.get('modules')} (NEEDS {sorted(needs)})  {result['error'] or 'ok'}", flush=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    report["meta"] = {"date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "cpu_count": os.cpu_count(),
                      "cpu": cpu_name(), "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "default"),
                      "git": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                            text=True).stdout.strip()}
    out = ROOT / "fbssm" / "stored" / "chapter-times.json"   # page_cost reads it on every page
    stored = json.loads(out.read_text()) if out.exists() else {"runs": {}}
    previous = stored["runs"].get(f"load{args.load}", {"chapters": {}})
    for result in report["chapters"].values():
        result.update(date=report["meta"]["date"], git=report["meta"]["git"])
    report["chapters"] = {**previous["chapters"], **report["chapters"]}  # --only replaces its own
    stored["runs"][f"load{args.load}"] = report
    out.write_text(json.dumps(stored, indent=1) + "\n")
    failed = [name for name, r in report["chapters"].items() if r["error"] or not r["needs_match"]]
    print(f"→ {out}; {len(report['chapters']) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
