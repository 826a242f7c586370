"""The environment files agree; the version and the repository's address are written once and
everything that names them agrees; the wheel carries what the chapters read; CI's workflows are valid."""
import ast
import json
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
import yaml

import fbssm

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb"))
REPOSITORY = PROJECT["urls"]["Repository"]


def pyproject_requirements():
    """Every requirement of the core and the extras, the extras' references to fbssm's own left out."""
    extras = PROJECT["optional-dependencies"]
    everything = set(PROJECT["dependencies"]).union(*map(set, extras.values()))
    return {r for r in everything if not r.startswith("fbssm[")}


def environment_requirements():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    return {line for line in pip if not line.startswith("-")}


def test_environment_yml_lists_the_pyproject_dependencies():
    assert environment_requirements() == pyproject_requirements()


def test_workflows_pass_actionlint():
    workflows = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
    assert workflows
    actionlint = shutil.which("actionlint") or str(Path(sys.executable).parent / "actionlint")
    result = subprocess.run([actionlint, *map(str, workflows)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_readme_commands_are_what_ci_runs():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    for command in ("python3 tasks.py test", "python3 tasks.py book"):
        assert command in readme and command in ci


def install_cell(path):
    return "".join(json.loads(path.read_text())["cells"][0]["source"])


def test_the_version_is_written_once():
    assert PROJECT["dynamic"] == ["version"] and "version" not in PROJECT
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert setuptools["dynamic"]["version"] == {"attr": "fbssm.__version__"}
    assert re.fullmatch(r"\d+\.\d+\.\d+", fbssm.__version__)


def test_config_readme_citation_and_cli_agree_with_the_project():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["repository"]["url"] == REPOSITORY == PROJECT["urls"]["Homepage"]
    assert PROJECT["urls"]["Issues"] == REPOSITORY + "/issues"
    readme = (ROOT / "README.md").read_text()
    assert f"{REPOSITORY}@v{fbssm.__version__}" in readme
    teaching = (ROOT / "book" / "teaching.md").read_text()  # the install lines a class copies
    releases = set(re.findall(re.escape(REPOSITORY) + r"(?:@v|/archive/refs/tags/v)([\d.]+\d)", teaching))
    assert releases == {fbssm.__version__}
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    assert citation["version"] == fbssm.__version__ and citation["repository-code"] == REPOSITORY
    assert citation["preferred-citation"]["title"] == "Tuning Frequency Bias of State Space Models"
    out = subprocess.run([sys.executable, "-m", "fbssm", "--version"], capture_output=True, text=True)
    assert out.stdout.strip() == f"fbssm {fbssm.__version__}"
    assert PROJECT["scripts"]["fbssm"] == "fbssm.__main__:main"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_install_cell_installs_this_release_with_what_the_chapter_imports(path):
    source = install_cell(path)
    assert f'FBSSM, NEEDS = "{fbssm.__version__}", ' in source
    assert f'"fbssm[notebooks] @ git+{REPOSITORY}@v{{FBSSM}}"' in source
    needs = ast.literal_eval(re.search(r"NEEDS = [^,]+, (\(.*?\))\n", source).group(1))
    # each module it checks for comes with the extra the cell installs
    provided = {"skimage": "scikit-image", "mlxtend": "mlxtend", "pandas": "pandas"}
    extra = {re.split(r"[<>=]", r)[0] for r in PROJECT["optional-dependencies"]["notebooks"]}
    assert {provided[m] for m in needs} <= extra
    # and a chapter that imports one of them at the top level checks for it
    code = "\n".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"]
                     if c["cell_type"] == "code" and not "".join(c["source"]).lstrip().startswith("%"))
    imported = {alias.name.split(".")[0] for node in ast.walk(ast.parse(code))
                if isinstance(node, (ast.Import, ast.ImportFrom))
                for alias in (node.names if isinstance(node, ast.Import) else [ast.alias(node.module or "")])}
    assert imported & set(provided) <= set(needs), f"{path.name} imports {imported & set(provided)}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_chapter_reads_outside_its_folder(path):
    code = [("".join(c["source"])) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
    assert not [c for c in code if "../" in c or "..\\" in c], f"{path.name} reads ../: a chapter must run alone"


def test_the_wheel_carries_every_stored_result(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp_path), str(ROOT)], check=True, capture_output=True)
    wheel, = tmp_path.glob("fbssm-*.whl")
    assert wheel.name.startswith(f"fbssm-{fbssm.__version__}-")
    names = set(zipfile.ZipFile(wheel).namelist())
    stored = sorted(p.name for p in (ROOT / "fbssm" / "stored").glob("*.json"))
    assert stored and {f"fbssm/stored/{name}" for name in stored} <= names
    assert "fbssm/experiments/cases.py" in names
    metadata = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("METADATA"))).decode()
    assert "Provides-Extra: notebooks" in metadata and f"Project-URL: Repository, {REPOSITORY}" in metadata
    entry_points = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "fbssm = fbssm.__main__:main" in entry_points


def test_stored_results_are_read_from_the_package_or_a_folder(tmp_path):
    shipped = fbssm.stored_result("waves-quick")
    assert shipped["experiment"] == "waves" and fbssm.stored_result("no-such-run") is None
    (tmp_path / "waves-quick.json").write_text(json.dumps({"experiment": "mine"}))
    assert fbssm.stored_result("waves-quick", folder=tmp_path) == {"experiment": "mine"}
    assert fbssm.stored_result("waves-quick", folder=tmp_path / "missing")["experiment"] == "waves"
    benchmarks = fbssm.stored_results("benchmark-")
    assert benchmarks and all(b["benchmark"] == "paper_scale" for b in benchmarks.values())


def test_page_cost_reads_the_measured_times(monkeypatch):
    from fbssm import results
    times = {"runs": {"load2": {"load": 2, "meta": {"cpu_count": 2}, "chapters": {
                 "05_waves": {"seconds": 400.0, "date": "2026-12-07T03:00:00Z", "git": "abc1234"}}},
             "load0": {"load": 0, "meta": {"cpu_count": 2}, "chapters": {
                 "05_waves": {"seconds": 170.0, "date": "2026-12-07T02:00:00Z", "git": "abc1234"}}}}}
    monkeypatch.setattr(results, "stored_result", lambda name, folder=None: times if name == "chapter-times" else None)
    line = fbssm.page_cost("05_waves")
    assert line.index("2.8 min on 2 CPU cores idle") < line.index("6.7 min on 2 CPU cores beside 2 busy processes")
    assert "2026-12-07" in line and "abc1234" in line
    assert "not measured" in fbssm.page_cost("01_s4d")


def test_code_fingerprint_counts_what_runs_not_how_it_reads():
    from fbssm.results import code_text
    source = 'def f(x):\n    """Twice x."""\n    return 2 * x  # double\n'
    assert code_text(source) == code_text('def f(x):\n    """Two times x."""\n\n    return 2 * x\n')
    assert code_text(source) != code_text('def f(x):\n    """Twice x."""\n    return 3 * x\n')
    waves = fbssm.code_fingerprint("fbssm.experiments.waves")
    assert waves == fbssm.code_fingerprint("fbssm.experiments.waves") != fbssm.code_fingerprint("fbssm.experiments.scifar")
    with pytest.raises(ValueError, match="module"):
        fbssm.code_fingerprint("numpy.linalg.nope")


def test_stale_results_are_refused_when_current_is_asked(tmp_path):
    from fbssm.results import run_metadata
    fresh = {"experiment": "waves", "meta": run_metadata("cpu", module="fbssm.experiments.waves")}
    assert fresh["meta"]["code"]["module"] == "fbssm.experiments.waves" and fbssm.is_current(fresh)
    stale = json.loads(json.dumps(fresh))
    stale["meta"]["code"]["fingerprint"] = "0" * 16
    assert not fbssm.is_current(stale) and not fbssm.is_current({"meta": {}}) and not fbssm.is_current({})
    (tmp_path / "toy-run.json").write_text(json.dumps(stale))
    assert fbssm.stored_result("toy-run", folder=tmp_path) == stale          # shown when not asked,
    assert fbssm.stored_result("toy-run", folder=tmp_path, current=True) is None  # refused when asked
    (tmp_path / "toy-run.json").write_text(json.dumps(fresh))
    assert fbssm.stored_result("toy-run", folder=tmp_path, current=True) == fresh
    assert run_metadata("cpu")["code"]["module"] == __name__   # the caller's module by default


def test_same_config_compares_what_the_stored_run_recorded():
    from dataclasses import asdict, replace
    from fbssm.experiments import waves
    stored = json.loads(json.dumps(asdict(replace(waves.QUICK, seeds=(0, 1, 2)))))
    assert fbssm.same_config(stored, waves.QUICK)                      # seeds aside
    assert not fbssm.same_config(stored, replace(waves.QUICK, length=10_001))
    assert not fbssm.same_config(stored, replace(waves.QUICK, seeds=(5,)), ignore=())
    del stored["imag_lr_max"]                                           # a field added since the run
    assert fbssm.same_config(stored, waves.QUICK)
