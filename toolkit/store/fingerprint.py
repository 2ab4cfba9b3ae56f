"""Data fingerprints for incremental reports, with the standard library only.

:func:`data_fingerprint` is what :meth:`Store.fingerprint` returns. :func:`quick_report_state`
reads what ``upo report`` needs to decide "nothing changed" from a SQLite file opened
read-only, without pandas (so the no-change re-run does not pay pandas' import time);
it answers ``None`` whenever opening the file as a :class:`Store` could do more than read
(a pending migration, a cohort without its random id, an old key beside the file, a damaged
file, another toolkit's file), and the caller then takes the full path.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Any

from .schema import APPLICATION_ID, KEYED_MIGRATIONS, MIGRATIONS

__all__ = ["data_fingerprint", "quick_report_state"]


def data_fingerprint(conn: Any, cohort_id: int, authority: str | None = None) -> str:
    """A hash of everything stored for one authority (or the whole cohort) that a report shows.

    Covers the (authority's) submissions and their instrument versions, every instrument's hash,
    the cohort settings, the authorities (names, ministries), the waves, the number of erasures
    and the agreed measures (of the authority, or all).
    """
    where, params = "a.cohort_id = ?", [cohort_id]
    if authority is not None:
        where, params = where + " AND a.code IN (?)", [cohort_id, authority]
    h = hashlib.sha256()
    for row in conn.execute(
        f"""SELECT s.id, s.instrument_pk FROM submissions s JOIN participants p ON p.id = s.participant_id
            JOIN authorities a ON a.id = p.authority_id JOIN waves w ON w.id = s.wave_id
            WHERE {where} ORDER BY s.id""",
        params,
    ):
        h.update(f"{row[0]}:{row[1]};".encode())
    for row in conn.execute("SELECT hash FROM instruments ORDER BY pk"):
        h.update(row[0].encode())
    _, name, k, langs, created = conn.execute(
        "SELECT id, name, min_group_size, languages, created_at FROM cohorts WHERE id = ?", (cohort_id,)).fetchone()
    cohort = {"name": name, "min_group_size": k, "languages": langs.split(","), "created_at": created}
    h.update(json.dumps(cohort, sort_keys=True, default=str).encode())
    for sql in ("SELECT code, name, ministry FROM authorities WHERE cohort_id = ? ORDER BY ministry, code",
                "SELECT label, date, position FROM waves WHERE cohort_id = ? ORDER BY position"):
        h.update(json.dumps([list(r) for r in conn.execute(sql, (cohort_id,))], default=str).encode())
    h.update(str(conn.execute("SELECT COUNT(*) FROM erasures").fetchone()[0]).encode())
    m_where, m_params = "m.cohort_id = ?", [cohort_id]
    if authority is not None:
        m_where, m_params = m_where + " AND a.code IN (?)", [cohort_id, authority]
    measures = conn.execute(
        f"""SELECT a.code, a.ministry, w.label, m.instrument_id, m.dimension, m.stakeholder, m.what, m.who, m.due, m.recorded_at
            FROM measures m JOIN waves w ON w.id = m.wave_id LEFT JOIN authorities a ON a.id = m.authority_id
            WHERE {m_where} ORDER BY m.id""",
        m_params,
    )
    h.update(json.dumps([list(r) for r in measures], default=str).encode())  # agreed measures appear in the reports
    return h.hexdigest()


def quick_report_state(path: str | Path, authorities: list[str] | None = None) -> dict[str, Any] | None:
    """What the report planner needs, read from a SQLite file without opening it as a :class:`Store`.

    Returns
    -------
    dict or None
        ``name``, ``min_group_size``, ``authorities`` (``[(code, name, ministry)]`` in the store's order),
        ``folders`` (the recorded report folders), ``fingerprint`` (the cohort's) and ``fingerprints``
        (per authority code, for ``authorities`` or all). ``None`` if the file is not a current,
        intact toolkit database with a cohort (the caller then opens it as a :class:`Store`).
    """
    path = Path(path)
    legacy = path.with_name(path.name + ".key")  # an old key beside the file is moved by Store(): not a read
    if not path.is_file() or legacy.exists():
        return None
    try:
        conn = sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True, timeout=5.0)
    except sqlite3.Error:
        return None
    try:
        if conn.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
            return None
        applied = {r[0] for r in conn.execute("SELECT name FROM schema_migrations")}
        if applied != {name for name, _ in MIGRATIONS} | set(KEYED_MIGRATIONS):
            return None
        if [r[0] for r in conn.execute("PRAGMA quick_check(3)")] != ["ok"]:
            return None
        row = conn.execute("SELECT id, name, min_group_size, uid FROM cohorts ORDER BY id LIMIT 1").fetchone()
        if row is None or row[3] is None:
            return None
        cid = row[0]
        known = [tuple(r) for r in conn.execute(
            "SELECT code, name, ministry FROM authorities WHERE cohort_id = ? ORDER BY ministry, code", (cid,))]
        codes = [c for c, _, _ in known] if authorities is None else list(authorities)
        return {
            "name": row[1],
            "min_group_size": int(row[2]),
            "authorities": known,
            "folders": {r[0] for r in conn.execute("SELECT folder FROM report_folders")},
            "fingerprint": data_fingerprint(conn, cid),
            "fingerprints": {code: data_fingerprint(conn, cid, code) for code in codes},
        }
    except sqlite3.Error:
        return None
    finally:
        conn.close()
