"""The suite's scheduling on `pytest -n 2` (tests/conftest.py): a module with a module fixture runs on one worker."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def _two_workers(tmp_path: Path, modules: dict[str, str], setups: Path) -> subprocess.CompletedProcess:
    """Run the ``modules`` (name: source, beside a copy of the suite's conftest) in one ``pytest -n 2`` run."""
    shutil.copy(HERE / "conftest.py", tmp_path / "conftest.py")
    for name, source in modules.items():
        (tmp_path / name).write_text(source, encoding="utf-8")
    return subprocess.run([sys.executable, "-m", "pytest", "-v", "-n", "2", "--dist", "loadgroup", "--no-loadscope-reorder",
                           "-p", "no:cacheprovider", "--rootdir", str(tmp_path), "-c", "/dev/null", str(tmp_path)],
                          cwd=tmp_path, env={**os.environ, "SETUPS": str(setups)},
                          capture_output=True, text=True, timeout=300, check=False)


def _passed(proc: subprocess.CompletedProcess, module: str) -> int:
    """How many of ``module``'s tests the ``-v`` run reports as passed."""
    return sum(1 for line in proc.stdout.splitlines() if f"PASSED {module}::" in line)


MODULE = '''
import os
import pytest


@pytest.fixture(scope="module")
def shared():
    with open(os.environ["SETUPS"], "a") as f:
        f.write("module " + os.environ.get("PYTEST_XDIST_WORKER", "-") + "\\n")


@pytest.mark.parametrize("n", range(8))
def test_uses_the_module_fixture(shared, n):
    pass
'''


DEMO_MODULE = '''
import functools
import os

import conftest
import pytest
import toolkit.reports.audit as audit

from toolkit.codes import key_path_for
from toolkit.store import Store


def _counted(what, fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with open(os.environ["SETUPS"], "a") as f:
            f.write(what + "\\n")
        return fn(*args, **kwargs)
    return wrapper


# before any fixture runs: a one-authority demo (cheap), each build and audit counted
conftest.build_demo = _counted("build", functools.partial(conftest.build_demo, n_authorities=1))
audit.cohort_audit = _counted("audit", audit.cohort_audit)


@pytest.mark.parametrize("n", range(6))
def test_uses_the_demo_and_its_audit(demo_db, demo_audit, n):
    with open(os.environ["SETUPS"], "a") as f:
        f.write("worker " + os.environ.get("PYTEST_XDIST_WORKER", "-") + "\\n")
    with Store(demo_db) as store:  # the worker finds the cohort's code key in its own key folder
        assert key_path_for(store.cohort_uid).is_file()
        assert store.authorities()["authority"].tolist() == ["BAMF"]
    assert demo_audit.ok and demo_audit.k == 5 and len(demo_audit.record) > 50
'''


@pytest.mark.slow
def test_a_module_fixture_and_the_demo_cohort_and_its_audit_are_set_up_once_on_two_workers(tmp_path: Path):
    """One ``pytest -n 2`` run (its start is most of the cost) with two modules:

    - a module fixture: pytest 9 reads a node's id from ``item._id``, not the ``item._nodeid`` pytest-xdist sets for
      ``--dist loadgroup``: the conftest names the groups itself, else each test is its own scope and both workers set
      up the module fixture;
    - `demo_db` and `demo_audit` are session fixtures: without sharing, each worker built the demo and audited it.
    """
    pytest.importorskip("xdist")
    setups = tmp_path / "setups.txt"
    proc = _two_workers(tmp_path, {"test_grouped.py": MODULE, "test_demo_shared.py": DEMO_MODULE}, setups)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "14 passed" in proc.stdout, proc.stdout
    assert _passed(proc, "test_grouped.py") == 8 and _passed(proc, "test_demo_shared.py") == 6, proc.stdout
    lines = setups.read_text().split("\n")
    assert len([line for line in lines if line.startswith("module ")]) == 1, lines  # the module fixture: once
    assert len({line for line in lines if line.startswith("worker ")}) == 2, lines  # both workers used the demo
    assert lines.count("build") == 1 and lines.count("audit") == 1, lines
