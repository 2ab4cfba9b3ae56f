"""``upo migrate SQLITE_FILE postgresql://...``: copy a cohort into PostgreSQL and verify the copy.

Everything is copied with its ids (so the data fingerprint, the report manifest
and the change counter carry over): cohort settings, authorities, waves,
participants, instruments with their full text, every submission (history and
corrections), answers, stakeholders, quarantine, the erasure record, frozen
outcomes and any table a later migration adds. The code key is copied to the
PostgreSQL database's key location (the user's data folder). The copy runs in
one transaction (``COPY``), then is verified by row counts per table and by
:meth:`Store.fingerprint` of the whole cohort and of every authority.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from ..exceptions import StoreError
from .core import Store
from .dialect import DatabaseURL, is_url
from .schema import KEYED_MIGRATIONS, _now

__all__ = ["migrate_to_postgresql", "MigrationResult"]

log = logging.getLogger("toolkit")

# parents before children (foreign keys); tables a later migration adds follow in name order
_ORDER = ["cohorts", "authorities", "waves", "participants", "instruments", "instrument_items", "stakeholders",
          "submissions", "answers", "quarantine", "erasures", "outcomes"]
_NOT_COPIED = {"schema_migrations", "change_counter"}
_CHUNK = 20_000


@dataclass
class MigrationResult:
    """Row counts per table (source = target after verification) and the verified fingerprint."""

    source: str
    target: str
    counts: dict[str, int] = field(default_factory=dict)
    fingerprint: str = ""

    def summary_text(self) -> str:
        shown = ", ".join(f"{n} {t}" for t, n in self.counts.items() if n)
        return (f"copied {self.source} into {self.target}: {shown}\n"
                f"verified: row counts of {len(self.counts)} tables and the data fingerprint {self.fingerprint[:16]} match")


def migrate_to_postgresql(source: str | Path, target: str) -> MigrationResult:
    """Copy a SQLite cohort database into an empty PostgreSQL database and verify the copy.

    Raises
    ------
    StoreError
        The source is not a toolkit SQLite file, the target is not a URL, not empty,
        has another code key, or the verification found a difference.
    """
    if is_url(str(source)):
        raise StoreError(f"{DatabaseURL(str(source)).name}: the source must be a SQLite file (the cohort to copy)")
    if not is_url(target):
        raise StoreError(f"{target}: the target must be a PostgreSQL URL, e.g. postgresql://user@host:5432/dbname")
    url = DatabaseURL(target)
    src = Store(source)
    try:
        # the code key is found by the cohort's id, which the copy keeps: nothing to copy for it
        src.key  # noqa: B018 - a source whose key is missing or wrong fails here, before anything is written
        dst = Store._init_postgresql(url, cohort=None)
        try:
            result = MigrationResult(str(source), url.name)
            _copy(src, dst, result)
            _verify(src, dst, result)
        finally:
            dst.close()
    finally:
        src.close()
    log.info("migrated %s to %s", source, url.name)
    return result


def _tables(src: Store) -> list[str]:
    names = {r[0] for r in src.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")}
    names -= _NOT_COPIED
    return [t for t in _ORDER if t in names] + sorted(names - set(_ORDER))


def _copy(src: Store, dst: Store, result: MigrationResult) -> None:
    pg = dst.conn
    with dst.atomic():
        pg.execute("ALTER TABLE submissions DISABLE TRIGGER USER")  # the counter is copied, not recounted
        for table in _tables(src):
            if not pg.has_table(table):  # type: ignore[attr-defined]
                raise StoreError(f"table {table} of {src.path.name} has no counterpart in PostgreSQL; upgrade upo-toolkit")
            cols = [r[1] for r in src.conn.execute(f'PRAGMA table_info("{table}")')]
            cur = src.conn.execute(f"SELECT {', '.join(chr(34) + c + chr(34) for c in cols)} FROM \"{table}\"")
            n = 0
            while True:
                rows = cur.fetchmany(_CHUNK)
                if not rows:
                    break
                pg.copy_rows(table, cols, rows)  # type: ignore[attr-defined]
                n += len(rows)
            result.counts[table] = n
        pg.execute("ALTER TABLE submissions ENABLE TRIGGER USER")
        applied = {r[0] for r in src.conn.execute("SELECT name FROM schema_migrations")}
        for name in KEYED_MIGRATIONS:  # the copied pseudonyms are converted already: never convert them twice
            if name in applied:
                pg.execute("INSERT INTO schema_migrations VALUES (?, ?)", (name, _now()))
        pg.execute("UPDATE change_counter SET n = ?", (src.data_version(),))
        for table, col in pg.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND is_identity = 'YES'"
        ).fetchall():
            pg.execute(f"SELECT setval(pg_get_serial_sequence('{table}', '{col}'), COALESCE((SELECT MAX({col}) FROM {table}), 0) + 1, false)")


def _verify(src: Store, dst: Store, result: MigrationResult) -> None:
    for table, n in result.counts.items():
        got = dst.conn.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]
        if got != n:
            raise StoreError(f"verification failed: {table} has {got} rows in {dst.path.name}, {n} in {src.path.name}")
    fp = src.fingerprint()
    if dst.fingerprint() != fp or dst.data_version() != src.data_version():
        raise StoreError(f"verification failed: the data fingerprint of {dst.path.name} differs from {src.path.name}")
    for code in src.authorities()["authority"]:
        if dst.fingerprint(code) != src.fingerprint(code):
            raise StoreError(f"verification failed: the data of authority {code} differs between the copies")
    result.fingerprint = fp
