"""Hardening: SIGKILL during a real file import, and bad database files given to every command.

* A writer importing a CSV of a few hundred rows through :func:`toolkit.io.import_file`
  is killed (a) at the moment before its transaction commits and (b) at a few points in
  time: the import is all or nothing (submissions, answers, quarantine rows, created
  authorities and waves), the file passes ``PRAGMA integrity_check``, and the next
  import of the same file works without manual repair.
* Every command that takes a database answers a corrupt, truncated, foreign, non-SQLite
  or empty file with one line on stderr and exit code 1, never a traceback.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import shutil
import signal
import sqlite3
import time
from pathlib import Path

import numpy as np
import pytest

from toolkit import cli
from toolkit.instruments import resolve_instrument
from toolkit.io import import_file
from toolkit.store import Store

pytestmark = pytest.mark.both_backends

N_ROWS, N_BAD = 300, 12


def _write_csv(path: Path, seed: int = 7) -> None:
    """A wide CSV: code elements, one column per reality-check item; N_BAD rows carry an off-scale value."""
    rng = np.random.default_rng(seed)
    items = [i.id for i in resolve_instrument("reality_check").items]
    lines = [";".join(["mother", "birthday", "birthplace", "street", *items])]
    bad = set(rng.choice(N_ROWS, N_BAD, replace=False).tolist())
    for r in range(N_ROWS):
        values = [str(v) for v in rng.integers(0, 3, len(items))]
        if r in bad:
            values[r % len(items)] = "7"
        lines.append(";".join([f"M{r}", str(r % 28 + 1), "K", f"S{r}", *values]))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


class _HangBeforeCommit(Store):
    """Signals the parent and hangs when the import writes its quarantine rows: the last step before COMMIT."""

    ready = None

    def quarantine(self, rows):
        self.ready.set()
        time.sleep(600)
        return super().quarantine(rows)


def _import_hanging(db: str, csv: str, ready) -> None:
    _HangBeforeCommit.ready = ready
    import_file(_HangBeforeCommit(db), csv, instrument="reality_check", wave="t2", authority="NEW")


def _import_plain(db: str, csv: str, started) -> None:
    started.set()
    import_file(Store(db), csv, instrument="reality_check", wave="t2", authority="NEW")


def _state(db: Path) -> dict[str, int]:
    store = Store(db)
    con = store.conn
    try:
        q = lambda sql: con.execute(sql).fetchone()[0]  # noqa: E731
        return {
            "integrity_ok": int(q("PRAGMA integrity_check") == "ok"),
            "submissions": q("SELECT COUNT(*) FROM submissions"),
            "answers": q("SELECT COUNT(*) FROM answers"),
            "quarantine": q("SELECT COUNT(*) FROM quarantine"),
            "authority_new": q("SELECT COUNT(*) FROM authorities WHERE code = 'NEW'"),
            "wave_t2": q("SELECT COUNT(*) FROM waves WHERE label = 't2'"),
        }
    finally:
        store.close()


def _kill(proc) -> None:
    try:
        os.kill(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.join(30)


def _assert_all_or_nothing(db: Path, before: dict[str, int], n_items: int) -> str:
    after = _state(db)
    assert after["integrity_ok"] == 1
    if after["submissions"] == before["submissions"]:  # nothing of the killed import is there
        assert after == before
        return "nothing"
    # the import committed before the kill: all of it is there
    assert after["submissions"] == before["submissions"] + N_ROWS - N_BAD
    assert after["answers"] == before["answers"] + (N_ROWS - N_BAD) * n_items
    assert after["quarantine"] == before["quarantine"] + N_BAD
    assert after["authority_new"] == 1 and after["wave_t2"] == 1
    return "all"


def _next_import_works(db: Path, csv: Path, n_items: int) -> None:
    """No manual repair: the next run opens the file, imports the rest, and a re-import changes nothing."""
    store = Store(db)
    res = import_file(store, csv, instrument="reality_check", wave="t2", authority="NEW")
    assert res.n_imported + res.n_unchanged == N_ROWS - N_BAD and res.n_quarantined == N_BAD
    state = _state(db)
    assert state["quarantine"] == N_BAD  # quarantine rows are kept once, not per attempt
    again = import_file(store, csv, instrument="reality_check", wave="t2", authority="NEW")
    assert again.n_imported == 0 and again.n_unchanged == N_ROWS - N_BAD
    assert _state(db) == state
    assert store.count_submissions("reality_check", wave="t2", authority="NEW") == N_ROWS - N_BAD
    per_sub = store.conn.execute("SELECT COUNT(*) FROM answers GROUP BY submission_id").fetchall()
    assert {n for (n,) in per_sub} == {n_items}


def test_import_killed_just_before_commit_leaves_nothing_and_the_next_import_works(store: Store, tmp_path: Path):
    csv = tmp_path / "antworten.csv"
    _write_csv(csv)
    n_items = len(resolve_instrument("reality_check").items)
    store.close()
    before = _state(store.path)
    ctx = mp.get_context("spawn")
    ready = ctx.Event()
    proc = ctx.Process(target=_import_hanging, args=(str(store.path), str(csv), ready))
    proc.start()
    assert ready.wait(120), "the import never reached its quarantine step"
    _kill(proc)
    assert proc.exitcode == -signal.SIGKILL
    assert _assert_all_or_nothing(store.path, before, n_items) == "nothing"
    _next_import_works(store.path, csv, n_items)


@pytest.mark.parametrize("delay", [0.5, 1.5, 3.0])
def test_import_killed_at_any_moment_is_all_or_nothing(store: Store, tmp_path: Path, delay: float):
    csv = tmp_path / "antworten.csv"
    _write_csv(csv, seed=int(delay * 10))
    n_items = len(resolve_instrument("reality_check").items)
    store.close()
    before = _state(store.path)
    ctx = mp.get_context("fork")  # the toolkit is imported already: the import starts at once
    started = ctx.Event()
    proc = ctx.Process(target=_import_plain, args=(str(store.path), str(csv), started))
    proc.start()
    assert started.wait(60)
    time.sleep(delay)
    _kill(proc)
    assert proc.exitcode in (-signal.SIGKILL, 0)
    _assert_all_or_nothing(store.path, before, n_items)
    _next_import_works(store.path, csv, n_items)


# --------------------------------------------------------------------------- bad database files
def _bad_files(folder: Path, good: Path) -> dict[str, Path]:
    folder.mkdir()
    files = {}
    files["empty"] = folder / "empty.sqlite"
    files["empty"].write_bytes(b"")
    files["text"] = folder / "notes.sqlite"
    files["text"].write_text("Protokoll der Sitzung\n" * 200, encoding="utf-8")
    files["foreign"] = folder / "foreign.sqlite"
    con = sqlite3.connect(files["foreign"])
    con.execute("CREATE TABLE kunden (id INTEGER PRIMARY KEY, name TEXT)")
    con.commit()
    con.close()
    with Store(good) as s:
        s.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw = good.read_bytes()
    files["corrupt"] = folder / "corrupt.sqlite"  # intact header and schema page, garbage after it
    garbage = np.random.default_rng(3).integers(0, 256, len(raw) - 4096, dtype=np.uint8).tobytes()
    files["corrupt"].write_bytes(raw[:4096] + garbage)
    files["pages"] = folder / "pages.sqlite"  # schema intact, the last 40 % of the pages (answers) overwritten
    cut = (len(raw) // 4096 * 6 // 10) * 4096
    files["pages"].write_bytes(raw[:cut] + garbage[: len(raw) - cut])
    files["truncated"] = folder / "truncated.sqlite"
    files["truncated"].write_bytes(raw[: len(raw) // 3])
    files["dropped"] = folder / "dropped.sqlite"  # issue 13: a table dropped by hand (sqlite3.OperationalError before)
    shutil.copy(good, files["dropped"])
    con = sqlite3.connect(files["dropped"])
    con.execute("DROP TABLE answers")
    con.commit()
    con.close()
    return files  # the copies keep the cohort id, so they find the same key


def _commands(db: str, tmp: Path) -> dict[str, list[str]]:
    csv = tmp / "in.csv"
    csv.write_text("participant;go1\nA1;1\n", encoding="utf-8")
    return {
        "scores": ["scores", db, "--instrument", "competence_reflection"],
        "reliability": ["reliability", db, "--instrument", "competence_reflection", "--format", "json"],
        "change": ["change", db, "--instrument", "competence_reflection", "--from", "t0", "--to", "t1"],
        "report": ["report", db, "--authority", "BVA", "--out", str(tmp / "reports")],
        "export": ["export", db, "--out", str(tmp / "x.csv")],
        "erase": ["erase", db, "--participant", "P-123456"],
        "import": ["import", db, str(csv), "--instrument", "reality_check", "--wave", "t0", "--authority", "BVA"],
        "workshop": ["workshop", db, "--instrument", "reality_check", "--wave", "t0", "--port", "0"],
    }


def test_every_db_command_answers_bad_files_with_one_line_and_exit_1(demo_copy: Path, tmp_path: Path, capsys, monkeypatch):
    import toolkit.workshop as workshop

    def _no_server(*a, **kw):  # if validation ever let a bad file through, fail instead of serving
        raise AssertionError("the workshop server was started for a bad database file")

    monkeypatch.setattr(workshop, "VoilaServer", _no_server)
    files = _bad_files(tmp_path / "bad", demo_copy)
    failures = []
    for kind, path in files.items():
        for name, argv in _commands(str(path), tmp_path).items():
            try:
                code = cli.main(argv)
            except BaseException as exc:  # a traceback would reach the user
                failures.append(f"{kind}/{name}: {type(exc).__name__}: {exc}")
                continue
            err = capsys.readouterr().err.strip()
            if code != 1 or len(err.splitlines()) != 1 or not err.startswith("error: ") or "Traceback" in err:
                failures.append(f"{kind}/{name}: exit {code}, stderr {err!r}")
            elif str(path.name) not in err:
                failures.append(f"{kind}/{name}: the message does not name the file: {err!r}")
    assert not failures, "\n".join(failures)
