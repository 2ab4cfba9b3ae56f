"""The package works when installed: wheel and sdist carry the instruments and notebooks.

The slow test builds the sdist from a copy of the checkout, the wheel from that
sdist (so the sdist is complete), installs the wheel into a fresh virtual
environment outside the checkout and runs ``upo instrument validate`` and
``upo demo`` there (on the demo cohort's first four authorities, built by the installed package).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import tomllib
import venv
import zipfile
from pathlib import Path

import pytest

import toolkit
from toolkit.demo import AUTHORITIES
from toolkit.instruments import shipped_instruments
from toolkit.paths import NOTEBOOKS_DIR, SURVEYS_DIR

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
SHIPPED_YAML = sorted(p.name for p in (ROOT / "surveys").glob("*.yaml"))
SHIPPED_NOTEBOOKS = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
DEMO_AUTHORITIES = 4  # BAMF, BDBOS, ZITiS and BpB (4 people, below the minimum group size of 5)
DEMO_CODES = [code for code, *_ in AUTHORITIES[:DEMO_AUTHORITIES]]
_JUNK = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", "*.pyc", ".pytest_cache", ".hypothesis",
    "artifacts", "demo-out", "out", "*.sqlite", "*.sqlite-*", "*.key", ".ipynb_checkpoints",
)


def test_the_top_level_folders_are_the_single_source():
    assert SURVEYS_DIR.resolve() == (ROOT / "surveys").resolve()
    assert NOTEBOOKS_DIR.resolve() == (ROOT / "notebooks").resolve()
    assert sorted(f"{k}.yaml" for k in shipped_instruments()) == SHIPPED_YAML
    assert not (ROOT / "toolkit" / "surveys").exists() and not (ROOT / "toolkit" / "notebooks").exists()


def test_the_explicit_package_list_names_every_toolkit_subpackage():
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    on_disk = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "toolkit").rglob("__init__.py")}
    missing = sorted(on_disk - listed)
    assert not missing, f"add {missing} to [tool.setuptools] packages in pyproject.toml"
    assert listed - on_disk == {"toolkit.surveys", "toolkit.notebooks"}
    assert PYPROJECT["tool"]["setuptools"]["package-dir"] == {"toolkit.surveys": "surveys", "toolkit.notebooks": "notebooks"}


def test_environment_yml_installs_the_same_set():
    env = (ROOT / "environment.yml").read_text(encoding="utf-8")
    conda_names = {"build": "python-build"}
    project = PYPROJECT["project"]
    deps = project["dependencies"] + project["optional-dependencies"]["dev"]
    for dep in deps:
        name = re.split(r"[<>=\[ ;]", dep, maxsplit=1)[0]
        name = conda_names.get(name, name)
        assert re.search(rf"^\s*-\s*{re.escape(name)}\b", env, re.M), f"environment.yml lacks {name} ({dep})"


def test_metadata_is_complete():
    project = PYPROJECT["project"]
    for key in ("name", "description", "readme", "license", "license-files", "requires-python", "classifiers", "keywords", "authors"):
        assert project.get(key), key
    assert project["scripts"] == {"upo": "toolkit.cli:main"}


def _run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, capture_output=True, text=True, **kw)
    assert proc.returncode == 0, f"{cmd} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc


@pytest.mark.slow
def test_the_wheel_installs_and_runs_outside_the_checkout(tmp_path: Path):
    # 1. sdist from a clean copy of the checkout (the build writes build/ and *.egg-info beside the sources)
    src = tmp_path / "src"
    shutil.copytree(ROOT, src, ignore=_JUNK)
    dist = tmp_path / "dist"
    build = [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist)]
    _run([*build, "--sdist", str(src)])
    (sdist,) = dist.glob("upo_toolkit-*.tar.gz")
    with tarfile.open(sdist) as tar:
        names = tar.getnames()
        tar.extractall(tmp_path / "unpacked", filter="data")
    top = names[0].split("/")[0]
    for rel in ["pyproject.toml", "README.md", "LICENSE", "toolkit/paths.py", "environment.yml", "tests/conftest.py"]:
        assert f"{top}/{rel}" in names, rel
    assert {f"{top}/surveys/{n}" for n in SHIPPED_YAML} <= set(names)
    assert {f"{top}/notebooks/{n}" for n in SHIPPED_NOTEBOOKS} <= set(names)
    assert not [n for n in names if n.endswith((".key", ".sqlite", ".pyc"))]

    # 2. the wheel from the unpacked sdist: the sdist holds everything to rebuild
    _run([*build, "--wheel", str(tmp_path / "unpacked" / top)])
    (wheel,) = dist.glob("upo_toolkit-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        content = set(zf.namelist())
        meta = zf.read(next(n for n in content if n.endswith(".dist-info/METADATA"))).decode()
    assert {f"toolkit/surveys/{n}" for n in SHIPPED_YAML} <= content
    assert {f"toolkit/notebooks/{n}" for n in SHIPPED_NOTEBOOKS} <= content
    assert "toolkit/reports/templates/upo/index.html.j2" in content
    for field in ("Summary:", "License-Expression: MIT", "Requires-Python: >=3.11", "Classifier: ", "Description-Content-Type: text/markdown"):
        assert field in meta, field

    # 3. a fresh virtual environment outside the checkout. Installing every dependency from
    # PyPI would take minutes: a .pth file lends it the running interpreter's site-packages
    # (a .pth entry's own .pth files are not processed, so the checkout's editable finder
    # stays out), and the wheel itself is installed with --no-deps.
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False, symlinks=os.name != "nt")
    py = env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    probe = _run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip()
    lent = dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    (Path(probe) / "_upo_test_deps.pth").write_text("\n".join(lent) + "\n", encoding="utf-8")
    _run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "--no-index", "--quiet", str(wheel)])

    run_dir = tmp_path / "run"
    home = tmp_path / "home"
    run_dir.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV") and not k.startswith("UPO_")}
    env.update(
        HOME=str(home), XDG_DATA_HOME=str(home / "data"), XDG_CONFIG_HOME=str(home / "config"), XDG_CACHE_HOME=str(home / "cache"),
        JUPYTER_CONFIG_DIR=str(home / "jupyter"), IPYTHONDIR=str(home / "ipython"),
        # nbconvert's templates are data files under the lending interpreter's prefix
        JUPYTER_PATH=str(Path(sys.prefix) / "share" / "jupyter"),
    )
    bindir = py.parent
    where = _run(
        [str(py), "-c", "import sys, toolkit, toolkit.paths as p; "
         "print(toolkit.__file__); print(p.SURVEYS_DIR); print(p.NOTEBOOKS_DIR); "
         "print(any('__editable__' in getattr(f, '__module__', '') for f in sys.meta_path))"],
        cwd=run_dir, env=env,
    ).stdout.split("\n")
    installed = Path(probe).resolve() / "toolkit"
    assert Path(where[0]).resolve() == installed / "__init__.py"
    assert Path(where[1]).resolve() == installed / "surveys"
    assert Path(where[2]).resolve() == installed / "notebooks"
    assert where[3] == "False", "the checkout's editable finder is active in the fresh environment"
    assert Path(toolkit.__file__).resolve() != Path(where[0]).resolve()

    upo = str(bindir / "upo")
    out = _run([upo, "instrument", "validate", "competence_reflection", str(installed / "surveys" / "reality_check.yaml")], cwd=run_dir, env=env)
    assert out.stdout.count(": ok: ") == 2
    assert str(installed / "surveys" / "competence_reflection.yaml") in out.stdout

    # `upo demo` renders every report of the demo cohort in demo-out/ and builds the cohort first when it is absent.
    # The installed build_demo builds it here with its first DEMO_AUTHORITIES authorities (one of them below the
    # minimum group size): the same instruments, notebooks and templates from the wheel as the 30, a seventh of the time.
    (run_dir / "demo-out").mkdir()
    _run([str(py), "-c", f"from toolkit.demo import build_demo; build_demo('demo-out/demo.sqlite', n_authorities={DEMO_AUTHORITIES}).close()"],
         cwd=run_dir, env=env)
    out = _run([upo, "demo", "--out", "demo-out"], cwd=run_dir, env=env, timeout=900).stdout
    reports = run_dir / "demo-out" / "reports"
    assert f"{DEMO_AUTHORITIES + 1} rendered, 0 unchanged (skipped), 0 failed" in out, out
    assert (reports / "index.html").is_file()
    assert (reports / "cohort.html").is_file()
    assert (reports / "cohort.pptx").is_file()
    assert sorted(p.stem for p in reports.glob("*.html")) == sorted([*DEMO_CODES, "cohort", "index"])
