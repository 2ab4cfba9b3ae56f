"""The store on PostgreSQL: what differs from a file (creation, foreign databases, URLs), change
notifications for live views (LISTEN/NOTIFY), and ``upo migrate`` from SQLite with verification.

The shared behaviour (round trips, corrections, tokens, erasure, crashes, 60 writers) is tested
on both backends in the store, import, erase, crash and concurrency modules.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import psycopg
import pytest

from toolkit.cli import main
from toolkit.exceptions import StoreError
from toolkit.store import MIGRATIONS, SCHEMA_VERSION, Store, Submission
from toolkit.store.schema import KEYED_MIGRATIONS
from toolkit.codes import key_dir

CODE = ("Ma", "07", "K", "Ha")


@pytest.fixture
def pg_url(pg_cluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    return pg_cluster.create_database()


def test_init_creates_schema_key_and_cohort_and_refuses_a_second_init(pg_url: str, tmp_path: Path):
    store = Store.init(pg_url, cohort="Kohorte 1", min_group_size=7)
    assert store.dialect == "postgresql" and store.cohort()["name"] == "Kohorte 1" and store.min_group_size == 7
    assert store.key_path.parent == key_dir() and store.key_path.stat().st_mode & 0o777 == 0o600
    applied = [r[0] for r in store.conn.execute("SELECT name FROM schema_migrations ORDER BY name")]
    assert applied == sorted([name for name, _ in MIGRATIONS] + list(KEYED_MIGRATIONS))
    assert store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    with pytest.raises(StoreError, match="holds a toolkit database already"):
        Store.init(pg_url)


def test_empty_foreign_newer_and_unreachable_databases_give_one_line_errors(pg_cluster, pg_url: str, capsys):
    with pytest.raises(StoreError, match="no toolkit schema in this database; create it with 'upo init"):
        Store(pg_url)
    foreign = pg_cluster.create_database()
    with psycopg.connect(foreign, autocommit=True) as con:
        con.execute("CREATE TABLE kunden (id int)")
    with pytest.raises(StoreError, match=r"not created by the toolkit \(tables: kunden\)"):
        Store(foreign)
    with pytest.raises(StoreError, match="not empty"):
        Store.init(foreign)
    store = Store.init(pg_url)
    with store.atomic() as c:
        c.execute("INSERT INTO schema_migrations VALUES ('9999_future', 'now')")
    store.close()
    with pytest.raises(StoreError, match="newer toolkit"):
        Store(pg_url)
    secret = f"postgresql://upo:geheim@127.0.0.1:{pg_cluster.port}/nosuchdb"
    assert main(["scores", secret, "--instrument", "reality_check"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot connect to PostgreSQL" in err and "geheim" not in err and "***" in err


def test_a_waiting_live_view_is_told_of_a_submission_by_notify(pg_url: str):
    store = Store.init(pg_url)
    store.add_instrument("reality_check")
    store.add_authority("BVA")
    store.add_wave("t0")
    assert store.notifies_changes
    assert store.wait_for_change(0.2) is False  # nothing happened: the wait times out
    writer = Store(pg_url)
    threading.Timer(0.3, lambda: writer.submit(Submission("BVA", CODE, "t0", "reality_check", {"go1": 2}))).start()
    t0 = time.perf_counter()
    assert store.wait_for_change(10.0) is True
    assert time.perf_counter() - t0 < 5.0
    assert store.data_version() == 1
    writer.close()
    store.close()


def test_the_dashboard_poller_on_postgresql_refreshes_on_notification_not_by_polling(pg_url: str):
    from toolkit.widgets.dashboard_state import DashboardState, Poller

    store = Store.init(pg_url, min_group_size=1)
    store.add_instrument("reality_check")
    store.add_authority("BVA")
    store.add_wave("t0")
    state = DashboardState(store, "reality_check", "t0", authority="BVA")
    calls: list[float] = []
    refresh = state.refresh
    state.refresh = lambda force=False: calls.append(time.perf_counter()) or refresh(force)  # type: ignore[method-assign]
    changed = threading.Event()
    poller = Poller(state, interval=0.05, on_change=lambda s: changed.set()).start()
    try:
        assert changed.wait(10)  # the first refresh
        changed.clear()
        time.sleep(1.5)
        assert len(calls) == 1  # idle: no refresh at all (SQLite would have polled ~30 times)
        Store(pg_url).submit(Submission("BVA", CODE, "t0", "reality_check", {"go1": 2}))
        assert changed.wait(10) and state.n == 1
    finally:
        poller.stop()
        store.close()


def test_migrate_copies_everything_and_verifies(demo_copy: Path, pg_url: str, capsys):
    with Store(demo_copy) as src:
        src.quarantine([{"source": "x.csv", "row": 3, "column": "go1", "value": 9, "reason": "out of scale", "raw": {"go1": "9"}}])
        src.save_outcome("workshop_profile", {"n": 7}, authority="BVA", wave="t0")
        victim = src.submissions()["participant"].iloc[0]
        src.erase(victim)
        expected = {
            "fp": src.fingerprint(), "version": src.data_version(), "subs": src.submissions(),
            "responses": src.responses("competence_reflection"), "history": len(src.responses(latest=False)),
            "quarantine": src.quarantined(), "instruments": src.instruments(), "links": src.linking_summary(),
        }
    assert main(["migrate", str(demo_copy), pg_url]) == 0
    out = capsys.readouterr().out
    assert "verified: row counts" in out and "fingerprint" in out
    dst = Store(pg_url)
    assert dst.fingerprint() == expected["fp"] and dst.data_version() == expected["version"]
    assert dst.submissions().equals(expected["subs"])
    assert dst.responses("competence_reflection").equals(expected["responses"])
    assert len(dst.responses(latest=False)) == expected["history"]
    assert dst.quarantined().equals(expected["quarantine"]) and dst.instruments().equals(expected["instruments"])
    assert dst.linking_summary().equals(expected["links"])  # same key: the same people are linked
    assert len(dst.outcomes("workshop_profile")) == 1 and dst.conn.execute("SELECT COUNT(*) FROM erasures").fetchone()[0] == 1
    # the copy is a working store: new ids continue after the copied ones, the counter counts on
    sid = dst.submit(Submission("BVA", CODE, "t1", "reality_check", {"go1": 2}))
    assert sid > int(expected["subs"]["submission"].max()) and dst.data_version() == expected["version"] + 1
    assert main(["migrate", str(demo_copy), pg_url]) == 1  # never over an existing cohort
    assert "holds a toolkit database already" in capsys.readouterr().err
