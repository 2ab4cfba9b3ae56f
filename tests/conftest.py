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


BACKENDS = ("sqlite", "postgresql")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests marked ``both_backends`` run once per backend (through the ``backend`` fixture)."""
    if "backend" in metafunc.fixturenames and metafunc.definition.get_closest_marker("both_backends"):
        metafunc.parametrize("backend", BACKENDS, indirect=True)


def _no_postgres(reason: str) -> None:
    if os.environ.get("UPO_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"UPO_REQUIRE_POSTGRES=1 but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def pg_cluster():
    """A throwaway PostgreSQL cluster (temporary folder, random port on 127.0.0.1), stopped at the end."""
    from toolkit.store.cluster import LocalCluster, find_binaries

    if find_binaries() is None:
        _no_postgres("PostgreSQL is not installed (no initdb/pg_ctl on PATH or in /usr/lib/postgresql; "
                     "Debian: apt-get install postgresql)")
    try:
        cluster = LocalCluster().start()
    except Exception as exc:
        cluster = None
        _no_postgres(f"the throwaway PostgreSQL cluster did not start: {exc}")
    yield cluster
    cluster.stop()


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """``sqlite`` (default) or ``postgresql`` (tests marked ``both_backends`` get both)."""
    return getattr(request, "param", "sqlite")


@pytest.fixture
def db_location(backend: str, tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch):
    """Where a new cohort database goes: a file in ``tmp_path`` or a fresh, empty PostgreSQL database."""
    if backend == "sqlite":
        return tmp_path / "cohort.sqlite"
    cluster = request.getfixturevalue("pg_cluster")
    return cluster.create_database()


@pytest.fixture
def store(db_location) -> Store:
    """An empty cohort database with the shipped instruments, authority BVA (BMI) and waves t0, t1."""
    s = Store.init(db_location, cohort="Test")
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
