"""Shared fixtures: seeded rng, temporary databases, the demo cohort, Agg backend, figure cleanup."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from toolkit.demo import build_demo  # noqa: E402
from toolkit.store import Store  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"


@pytest.fixture(scope="session", autouse=True)
def _private_data_dirs(tmp_path_factory: pytest.TempPathFactory):
    """Code keys and other user data go to a temporary folder for the whole session, never into the real home.

    Set in ``os.environ`` (not monkeypatched per test), so CLI subprocesses, report kernels and
    ``upo workshop`` servers started by tests inherit it and find the keys the same way.
    """
    base = tmp_path_factory.getbasetemp()
    saved = {k: os.environ.get(k) for k in ("XDG_DATA_HOME", "UPO_KEY_DIR", "UPO_KEY_FILE")}
    os.environ["XDG_DATA_HOME"] = str(base / "xdg-data")
    os.environ.pop("UPO_KEY_DIR", None)
    os.environ.pop("UPO_KEY_FILE", None)
    from toolkit.codes import key_dir

    assert str(key_dir()).startswith(str(base)), key_dir()
    yield
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture
def store(tmp_path: Path) -> Store:
    """An empty cohort database with the shipped instruments, authority BVA (BMI) and waves t0, t1."""
    s = Store.init(tmp_path / "cohort.sqlite", cohort="Test")
    for inst in ("competence_reflection", "stakeholder_analysis", "reality_check"):
        s.add_instrument(inst)
    s.add_authority("BVA", name="Bundesverwaltungsamt", ministry="BMI")
    s.add_wave("t0")
    s.add_wave("t1")
    yield s
    s.close()


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The full demo cohort (30 authorities), built once per test process. Do not write to it: copy it."""
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    build_demo(path).close()
    return path


@pytest.fixture
def demo_copy(demo_db: Path, tmp_path: Path) -> Path:
    """A private, writable copy of the demo cohort (same cohort id, so it finds the same key)."""
    dst = tmp_path / "demo.sqlite"
    with Store(demo_db) as src:  # checkpoint the WAL so the copy is complete
        src.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copy(demo_db, dst)
    return dst


@pytest.fixture
def artifacts() -> Path:
    """Folder for test artefacts (screenshots, rendered reports) kept after the run."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(autouse=True)
def _jupyter_paths(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Keep Jupyter's runtime files (kernel connection files, secrets) out of the user's home."""
    base = tmp_path_factory.getbasetemp() / "jupyter"
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(base / "runtime"))
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(base / "data"))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
