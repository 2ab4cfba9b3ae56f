"""The dialect layer under :class:`~toolkit.store.Store`: SQLite (the default) and PostgreSQL.

The store's statements are written once, in SQLite's SQL, where they are used
(``core.py``, ``reads.py``). On SQLite they run unchanged on a plain
``sqlite3`` connection: nothing is added per statement or per row. On
PostgreSQL they run on a :class:`PgConnection`, a thin psycopg 3 wrapper with
the same few methods the store uses (``execute``, ``executemany``,
``in_transaction``, ``cursor.lastrowid``) that rewrites the statements that
differ, once per distinct statement (cached):

- ``?`` placeholders become ``%s`` (values are bound client-side, as SQLite
  does, so ``? IS NULL`` needs no type);
- DDL: ``INTEGER PRIMARY KEY`` becomes an identity column, ``REAL`` ``DOUBLE
  PRECISION``; migrations whose SQLite text cannot be translated (triggers) have
  a PostgreSQL text in ``schema.PG_MIGRATIONS``;
- the few fragments in :data:`PG_FRAGMENTS` (``json_each``) are replaced;
  ``json_valid``/``json_extract`` exist as SQL functions on PostgreSQL;
- ``PRAGMA`` statements have no PostgreSQL meaning: the integrity checks answer
  ``ok`` (the server checks its own pages), ``user_version`` reads the number of
  recorded migrations, the rest (``secure_delete``, ``wal_checkpoint``, ...) do
  nothing;
- ``lastrowid`` reads ``lastval()`` of the session.

Writers are serialised per database by a transaction-level advisory lock, which
gives the same guarantees as SQLite's ``BEGIN IMMEDIATE`` (one submission is one
transaction; idempotency tokens are checked under the lock).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any, Iterable, Sequence
from urllib.parse import urlsplit, urlunsplit

import pandas as pd

__all__ = ["is_url", "resolve_location", "DatabaseURL", "PgConnection", "read_sql", "pg_ddl", "NOTIFY_CHANNEL", "PG_FRAGMENTS"]

NOTIFY_CHANNEL = "upo_changes"
WRITE_LOCK = 0x55504F31  # pg_advisory_xact_lock key: one writer at a time per database, like BEGIN IMMEDIATE

# SQLite fragment -> PostgreSQL fragment, for the statements that differ
PG_FRAGMENTS: dict[str, str] = {
    "(SELECT value FROM json_each(?))": "(SELECT value::bigint FROM json_array_elements_text(?::json))",
}

# functions SQLite has built in and the store's statements use; created with the schema on PostgreSQL
PG_FUNCTIONS = [
    """CREATE OR REPLACE FUNCTION json_valid(t text) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $$
       BEGIN PERFORM t::json; RETURN t IS NOT NULL; EXCEPTION WHEN others THEN RETURN false; END $$""",
    """CREATE OR REPLACE FUNCTION json_extract(t text, path text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
       SELECT t::json #>> string_to_array(regexp_replace(path, '^\\$\\.?', ''), '.') $$""",
]


def is_url(location: object) -> bool:
    """Whether a database location is a PostgreSQL URL (``postgresql://...``) rather than a file."""
    return isinstance(location, str) and location.startswith(("postgresql://", "postgres://"))


class DatabaseURL(str):
    """A PostgreSQL URL in the place of a file path: ``str()`` connects, ``.name`` is safe to show.

    Example
    -------
    >>> u = DatabaseURL("postgresql://upo:secret@db.example:5432/cohort")
    >>> u.name, u.exists()
    ('postgresql://upo:***@db.example:5432/cohort', True)
    """

    @property
    def name(self) -> str:
        parts = urlsplit(str(self))
        if parts.password:
            netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
            return urlunsplit(parts._replace(netloc=netloc))
        return str(self)

    def exists(self) -> bool:
        return True

    def is_dir(self) -> bool:
        return False

    def resolve(self) -> "DatabaseURL":
        return self

    def key_name(self) -> str:
        """A file name for this database's code key: ``host_port_dbname.key``."""
        parts = urlsplit(str(self))
        db = parts.path.lstrip("/") or "postgres"
        raw = f"{parts.hostname or 'localhost'}_{parts.port or 5432}_{db}"
        return re.sub(r"[^A-Za-z0-9._-]+", "_", raw) + ".key"


def resolve_location(location: str | Path) -> "DatabaseURL | Path":
    """A database location in its canonical form: a :class:`DatabaseURL`, or the absolute path of a file."""
    return DatabaseURL(location) if is_url(str(location)) else Path(location).resolve()


def key_path_for_url(url: DatabaseURL) -> Path:
    """Where the code key of a PostgreSQL database lives: the user's data folder (never in the database)."""
    import platformdirs

    return Path(platformdirs.user_data_dir("upo-toolkit")) / "keys" / url.key_name()


# ---------------------------------------------------------------------------------------------- statements
def _outside_quotes(sql: str, fn: Any) -> str:
    parts = re.split(r"('(?:[^']|'')*'|\"[^\"]*\")", sql)
    return "".join(p if i % 2 else fn(p) for i, p in enumerate(parts))


def _pg_plain(sql: str) -> str:
    for old, new in PG_FRAGMENTS.items():
        sql = sql.replace(old, new)
    return sql


@functools.lru_cache(maxsize=512)
def _pg_sql(sql: str) -> str:
    """A store statement in SQLite's SQL with ``?`` parameters, rewritten for PostgreSQL (cached per statement)."""
    return _outside_quotes(_pg_plain(sql), lambda p: p.replace("%", "%%").replace("?", "%s"))


def pg_ddl(statement: str) -> str:
    """A CREATE statement of a SQLite migration in PostgreSQL's types."""
    s = re.sub(r"\bINTEGER PRIMARY KEY\b", "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", statement)
    s = re.sub(r"\bINTEGER\b", "BIGINT", s)
    return re.sub(r"\bREAL\b", "DOUBLE PRECISION", s)


_VALUES = re.compile(r"^(INSERT INTO .*? VALUES\s*)(\([?,\s]*\))(.*)$", re.S | re.I)
_PRAGMA = re.compile(r"^\s*PRAGMA\s+(\w+)", re.I)


class _Rows:
    """The cursor of a PRAGMA answered without the server."""

    def __init__(self, rows: list[tuple[Any, ...]]):
        self._rows = rows
        self.description = [("value",)]
        self.lastrowid = None

    def fetchone(self) -> tuple[Any, ...] | None:
        return self._rows[0] if self._rows else None

    def fetchall(self) -> list[tuple[Any, ...]]:
        return list(self._rows)

    def __iter__(self):
        return iter(self._rows)


class PgConnection:
    """A psycopg 3 connection with the ``sqlite3.Connection`` methods the store uses.

    Parameters
    ----------
    url
        ``postgresql://user@host:port/dbname`` (libpq syntax; passwords best in ``~/.pgpass``).
    timeout
        Seconds a writer waits for another writer's transaction (``lock_timeout``).
    """

    def __init__(self, url: str, *, timeout: float = 30.0):
        import psycopg

        self._psycopg = psycopg
        self.url = DatabaseURL(url)
        self.raw = psycopg.connect(str(url), autocommit=True, cursor_factory=_cursor_class(), connect_timeout=max(1, int(timeout)))
        self.raw.execute(f"SET lock_timeout = {int(timeout * 1000)}")

    @property
    def in_transaction(self) -> bool:
        return self.raw.info.transaction_status != self._psycopg.pq.TransactionStatus.IDLE

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        m = _PRAGMA.match(sql)
        if m:
            return self._pragma(m.group(1).lower())
        if not params:
            return self.raw.execute(_pg_plain(sql))
        return self.raw.execute(_pg_sql(sql), tuple(params or ()))

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> Any:
        """Many rows in one round trip: ``INSERT ... VALUES (?, ?), (?, ?), ...`` (1,000 rows a statement)."""
        rows = [tuple(r) for r in rows]
        m = _VALUES.match(sql)
        cur = self.raw.cursor()
        if m is None:
            cur.executemany(_pg_sql(sql), rows)
            return cur
        head, one, tail = m.groups()
        for i in range(0, len(rows), 1000):
            chunk = rows[i : i + 1000]
            cur.execute(_pg_sql(head + ", ".join([one] * len(chunk)) + tail), [v for r in chunk for v in r])
        return cur

    def copy_rows(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        """Bulk insert with ``COPY ... FROM STDIN`` (the fast path for large loads)."""
        cols = ", ".join(f'"{c}"' for c in columns)
        with self.raw.cursor().copy(f"COPY {table} ({cols}) FROM STDIN") as cp:
            for r in rows:
                cp.write_row(r)

    def _pragma(self, name: str) -> Any:
        if name in ("quick_check", "integrity_check"):
            return _Rows([("ok",)])
        if name == "user_version":
            n = self.raw.execute("SELECT COUNT(*) FROM schema_migrations").fetchone()[0] if self.has_table("schema_migrations") else 0
            return _Rows([(int(n),)])
        return _Rows([])

    def has_table(self, name: str) -> bool:
        return self.raw.execute("SELECT to_regclass(%s) IS NOT NULL", (name,)).fetchone()[0]

    def tables(self) -> list[str]:
        return [r[0] for r in self.raw.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY 1")]

    def close(self) -> None:
        self.raw.close()


@functools.lru_cache(maxsize=1)
def _cursor_class() -> Any:
    import psycopg

    class _Cursor(psycopg.ClientCursor):
        @property
        def lastrowid(self) -> int:
            return int(self.connection.execute("SELECT lastval()").fetchone()[0])

    return _Cursor


def read_sql(sql: str, conn: Any, params: Sequence[Any] | None = None) -> pd.DataFrame:
    """``pandas.read_sql_query`` for either backend (the SQLite path is pandas' own)."""
    if not isinstance(conn, PgConnection):
        return pd.read_sql_query(sql, conn, params=params)
    cur = conn.execute(sql, params)
    cols = [d[0] for d in cur.description]
    return pd.DataFrame.from_records(cur.fetchall(), columns=cols, coerce_float=True)
