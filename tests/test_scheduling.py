"""The suite's scheduling on `pytest -n 2` (tests/conftest.py): a module with a module fixture runs on one worker."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent

MODULE = '''
import os
import pytest


@pytest.fixture(scope="module")
def shared():
    with open(os.environ["SETUPS"], "a") as f:
        f.write(os.environ.get("PYTEST_XDIST_WORKER", "-") + "\\n")


@pytest.mark.parametrize("n", range(8))
def test_uses_the_module_fixture(shared, n):
    pass
'''


@pytest.mark.slow
def test_a_module_fixture_is_set_up_once_on_two_workers(tmp_path: Path):
    """pytest 9 reads a node's id from ``item._id``, not the ``item._nodeid`` pytest-xdist sets for ``--dist
    loadgroup``: the conftest names the groups itself, else each test is its own scope and both workers set up
    the module fixture."""
    pytest.importorskip("xdist")
    shutil.copy(HERE / "conftest.py", tmp_path / "conftest.py")
    (tmp_path / "test_grouped.py").write_text(MODULE, encoding="utf-8")
    setups = tmp_path / "setups.txt"
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-n", "2", "--dist", "loadgroup", "--no-loadscope-reorder",
                           "-p", "no:cacheprovider", "--rootdir", str(tmp_path), "-c", "/dev/null", str(tmp_path)],
                          cwd=tmp_path, env={**os.environ, "SETUPS": str(setups)},
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "8 passed" in proc.stdout, proc.stdout
    assert len(setups.read_text().split()) == 1, setups.read_text()
