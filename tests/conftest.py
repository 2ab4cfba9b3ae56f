"""Shared fixtures: seeded rng, temporary databases, the demo cohort, Agg backend, figure cleanup."""

from __future__ import annotations

import contextlib
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


@contextlib.contextmanager
def _shared(tmp_path_factory: pytest.TempPathFactory, name: str):
    """A folder all xdist workers of this run see, held under a lock while the block runs (None alone or without fcntl).

    The first worker to get the lock builds what the folder lacks; the others wait, then use what it built. The folder
    is in this run's base temporary folder (``pytest-N``, the parent of the workers' ``popen-gwX``), so nothing is
    shared between runs: every run builds from the code it tests.
    """
    try:
        import fcntl
    except ImportError:  # Windows: every worker builds its own
        fcntl = None
    if fcntl is None or not os.environ.get("PYTEST_XDIST_WORKER"):
        yield None
        return
    folder = tmp_path_factory.getbasetemp().parent / "shared"
    folder.mkdir(exist_ok=True)
    with open(folder / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield folder
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The full demo cohort (30 authorities), built once per test run (one worker builds it, the others use it, with
    its code key installed in their own key folder). Do not write to it: copy it."""
    from toolkit.codes import key_path_for

    with _shared(tmp_path_factory, "demo") as shared:
        if shared is None:
            path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
            build_demo(path).close()
            return path
        path, key_copy = shared / "demo.sqlite", shared / "demo.key"
        if not path.exists():
            building = shared / "demo.building.sqlite"
            for left in shared.glob("demo.building.sqlite*"):  # of a worker that died while building
                left.unlink()
            with build_demo(building) as store:
                store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                shutil.copy(key_path_for(store.cohort_uid), key_copy)
            building.rename(path)  # the key copy first: a demo.sqlite that exists is complete
        with Store(path) as store:
            key = key_path_for(store.cohort_uid)
        if not key.exists():  # the same file the builder's build_demo wrote (0600, folder 0700)
            key.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            shutil.copy(key_copy, key)
            key.chmod(0o600)
        return path


def _pickle_audit(result, path: Path) -> None:
    """Write an :class:`AuditResult` (its record's lock is not picklable: a fresh one is made on loading)."""
    import _thread
    import copyreg
    import pickle
    import threading

    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as f:
        pickler = pickle.Pickler(f)
        pickler.dispatch_table = {**copyreg.dispatch_table, _thread.LockType: lambda _lock: (threading.Lock, ())}
        pickler.dump(result)
    tmp.rename(path)


@pytest.fixture(scope="session")
def demo_audit(demo_db: Path, tmp_path_factory: pytest.TempPathFactory):
    """The disclosure audit of the unchanged demo cohort (``cohort_audit``, the cohort's k), computed once per test
    run (by the first worker that needs it; the others load its pickle) and shared by the tests that audit the demo
    as it is built. Do not change it."""
    import pickle

    from toolkit.reports.audit import cohort_audit

    with _shared(tmp_path_factory, "demo-audit") as shared:
        if shared is None:
            return cohort_audit(demo_db)
        saved = shared / "demo-audit.pickle"
        if not saved.exists():
            _pickle_audit(cohort_audit(demo_db), saved)
        with open(saved, "rb") as f:
            return pickle.load(f)


def seed_demo_audit(out: Path, db: Path, demo_db: Path, request: pytest.FixtureRequest) -> bool:
    """Before a batch of ``db`` into the report folder ``out``: if ``db`` is still the demo as built (same data fingerprint
    as ``demo_db``), remember the session's passed audit of it in ``out`` (``demo_audit``, the audit the batch runs
    itself, with the same data, toolkit and k), as a second batch of unchanged data finds it. Changed data (an erasure,
    a new answer) have another fingerprint: nothing is written (False) and the batch audits them in full."""
    from toolkit.privacy import resolve_k
    from toolkit.reports.batch import audit_stamp

    with Store(db) as now, Store(demo_db) as built:
        fingerprint, k = now.fingerprint(), resolve_k(now, None)
        if fingerprint != built.fingerprint():
            return False
    result = request.getfixturevalue("demo_audit")
    assert result.ok and result.k == k, result.text(limit=5)
    stamp = audit_stamp(Path(out), fingerprint, k)
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(result.text(limit=0) + "\n", encoding="utf-8")
    return True


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


# --------------------------------------------------------------------------- scheduling on `pytest -n 2`
# `make test` runs `pytest -n 2` with `--dist loadgroup --no-loadscope-reorder` (pyproject.toml). Two things
# decide its wall time on 2 cores: work done twice (a module-scoped fixture, e.g. a rendered report batch or a
# started server, is set up once per worker that runs one of the module's tests) and the tail (one worker
# still running a slow test started last while the other is idle). So:
# - the tests of a module with a module- or class-scoped fixture go to one worker (an xdist group), except the
#   modules in SPLIT, whose fixture is cheap and whose tests are each slow (spreading them is worth more);
# - on the workers, the slowest work goes first (COST, seconds measured with `--durations` on a busy 2-core
#   machine; only their order matters; the guides' entries are scaled by the CPU their `upo report` no longer
#   spends on the demo audit it finds in `demo_audit`), then every other `slow`/`browser` test, then the rest;
# - the demo cohort and its audit (`demo_db`, `demo_audit`) are built once per run, by the first worker that needs
#   them, and loaded by the other (`_shared`): the second worker no longer spends ~15 s building the demo and
#   ~40 s auditing it.
# A single-process run keeps the collected order.
SPLIT = {"tests/test_batch_audit.py", "tests/test_reports_dask.py"}
COST = {
    "tests/test_guides.py::test_every_block_in_the_guide_runs[facilitator-guide.md]": 290,
    "tests/test_packaging.py::test_the_wheel_installs_and_runs_outside_the_checkout": 240,  # 4 demo authorities, not 30
    "tests/test_guides.py::test_every_block_in_the_guide_runs[researcher-guide.md]": 230,
    "tests/browser/test_workshop_live.py": 310,
    "tests/test_notebooks_reports.py": 280,  # the failing-report batch finds the batch's audit
    "tests/test_guides.py::test_every_block_in_the_guide_runs[facilitator-guide.en.md]": 165,
    "tests/test_batch_audit.py::test_the_batch_audits_the_kernels_records_and_they_equal_the_in_memory_audit": 160,
    "tests/test_hardening_anonymity.py::test_no_output_reveals_fewer_than_k_people": 150,
    "tests/test_disclosure.py::test_demo_audits_clean_with_change_and_benchmarks": 150,
    "tests/test_audit_parallel.py::test_parallel_audit_records_what_the_serial_one_records": 120,
    "tests/test_batch_audit.py::test_a_violation_planted_in_a_kernels_record_refuses_the_batch": 110,
    "tests/test_privacy_scaling.py": 180,
    "tests/test_slides.py": 120,
    "tests/test_index_key_figures.py": 100,
    "tests/test_report_slices.py": 80,
    "tests/test_summaries.py": 40,
    "tests/test_reports_dask.py::test_a_local_cluster_renders_the_same_reports_as_the_built_in_pool": 115,  # one restarting kernel
    "tests/test_reports_dask.py::test_a_worker_killed_during_the_batch_loses_no_report_and_the_summary_says_so": 90,
    "tests/test_batch_audit.py::test_a_report_whose_record_is_missing_is_rendered_by_the_audit_not_passed": 86,
    "tests/browser/test_workshop_browser.py": 80,
    "tests/test_report_rerun.py": 52,
    "tests/browser/test_report_screenshot.py": 30,  # finds the session's demo audit
    "tests/test_batch_audit.py::test_a_violation_in_the_first_record_is_found_while_later_reports_render_and_refuses_the_batch": 60,
    "tests/test_guides.py::test_every_block_in_the_guide_runs[instrument-guide.md]": 55,
    "tests/test_data_at_rest.py::test_erasure_leaves_no_trace_in_file_log_reports_or_caches": 50,
    "tests/test_guides.py::test_every_block_in_the_guide_runs[workshop.md]": 40,
}
SLOW_DEFAULT = 30  # any other test marked slow or browser


def _module_of(item: pytest.Item) -> str:
    return item.nodeid.split("::", 1)[0]


def _has_module_fixture(item: pytest.Item) -> bool:
    info = getattr(item, "_fixtureinfo", None)
    return info is not None and any(defs and defs[-1].scope in ("module", "class") for defs in info.name2fixturedefs.values())


def _cost(item: pytest.Item) -> float:
    if item.nodeid in COST:
        return COST[item.nodeid]
    return SLOW_DEFAULT if (item.get_closest_marker("slow") or item.get_closest_marker("browser")) else 0


def _name_groups(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Append ``@group`` to the node ids of grouped tests on a worker: the scope ``--dist loadgroup`` sends to one worker.

    pytest-xdist does this itself by assigning ``item._nodeid``, which pytest 9 no longer reads (the id is
    ``item._id``): without this every test was its own scope, a module's tests went to both workers and its
    module fixture (a rendered batch, a built cohort, a started server) was set up on each.
    """
    if not getattr(config.option, "loadgroup", False) or not hasattr(pytest.Item, "_id"):
        return
    from _pytest.nodeid import NodeId

    for item in items:
        nodeid = item.nodeid
        if "@" not in nodeid.rsplit("]", 1)[-1]:
            group = "_".join(sorted({str(m.args[0]) for m in item.iter_markers("xdist_group")}))
            item._id = NodeId.parse(f"{nodeid}@{group}")


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook turns the xdist_group marks into scopes
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    grouped = {_module_of(i) for i in items if _module_of(i) not in SPLIT and _has_module_fixture(i)}
    units = []  # (unit, item) in collected order: a unit is a grouped module or a single test
    for item in items:
        module = _module_of(item)
        if module in grouped:
            item.add_marker(pytest.mark.xdist_group(module))
        units.append((module if module in grouped else item.nodeid, item))
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return
    cost: dict[str, float] = {}  # a unit's cost: its own entry, else the sum of its tests'
    first: dict[str, int] = {}
    for n, (unit, item) in enumerate(units):
        cost[unit] = cost.get(unit, 0) + _cost(item)
        first.setdefault(unit, n)
    cost = {unit: COST.get(unit, total) for unit, total in cost.items()}
    order = sorted(range(len(units)), key=lambda n: (-cost[units[n][0]], first[units[n][0]], n))
    items[:] = [units[n][1] for n in order]
    _name_groups(config, [item for unit, item in units if unit in grouped])  # last: COST is looked up by the plain ids
