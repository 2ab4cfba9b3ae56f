"""The :class:`Store`: connection, creation, migrations and the write side."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import sqlite3
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Mapping

from .. import codes as _codes
from ..exceptions import DataError, StoreError
from ..instruments import Instrument, parse_instrument, resolve_instrument
from .answers import Submission, _validate_answers
from .dialect import WRITE_LOCK, DatabaseURL, PgConnection, is_url, read_sql
from .measures import MeasuresMixin
from .reads import ReadsMixin
from .schema import APPLICATION_ID, KEYED_MIGRATIONS, MIGRATIONS, SCHEMA_VERSION, _now, migration_statements

if TYPE_CHECKING:  # frames come from read_sql, which imports pandas: store-only commands start without it
    import pandas as pd

__all__ = ["Store", "open_store"]

log = logging.getLogger("toolkit")

MAX_GROUP_SIZE = 100_000
# LimeSurvey columns older versions kept in rejected rows (access token, IP address, referrer, times): scrubbed once
_OLD_META = {"id", "submitdate", "lastpage", "startlanguage", "seed", "token", "startdate", "datestamp", "ipaddr", "refurl",
             "interviewtime"}
_TABLES = ("cohorts", "authorities", "waves", "participants", "instruments", "instrument_items", "stakeholders",
           "submissions", "answers", "quarantine", "erasures", "outcomes")


def _check_group_size(k: object) -> int:
    """``min_group_size`` as an int in 1 .. MAX_GROUP_SIZE, or a DataError naming the range."""
    try:
        value = int(k)  # type: ignore[call-overload]
        ok = not isinstance(k, bool) and value == k and 1 <= value <= MAX_GROUP_SIZE
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok:
        raise DataError(f"min_group_size must be a whole number from 1 to {MAX_GROUP_SIZE:,}, not {k}")
    return value


def _install_key(target: Path, key: bytes | None, uid: str, made: list[Path]) -> bytes:
    """Create (or install the given) code key for cohort ``uid`` at ``target``; new files are appended to ``made``."""
    if key is None:
        key = _codes.create_key(target, cohort=uid)
        made.append(target)
    elif not target.exists():
        _codes.write_key(target, key, cohort=uid)
        made.append(target)
    elif _codes.read_key(target) != key:
        raise StoreError(f"{target}: another key is installed for cohort id {uid}; remove it first if it is unused")
    return key


_AUTHORITIES_SQL = "SELECT code AS authority, name, ministry FROM authorities WHERE cohort_id = ? ORDER BY ministry, code"
_WAVES_SQL = "SELECT label AS wave, date, position FROM waves WHERE cohort_id = ? ORDER BY position"


class Store(ReadsMixin, MeasuresMixin):
    """A cohort database: a SQLite file or a PostgreSQL database.

    Parameters
    ----------
    path
        The SQLite file, or a ``postgresql://user@host:port/dbname`` URL; it must
        exist and hold the toolkit's schema (create it with :meth:`Store.init`).
    key_path
        The code key file; default ``$UPO_KEY_FILE`` if set, else the cohort's key in the
        user's data directory (:func:`toolkit.codes.key_path_for`). A key left beside the
        database by an older version (``<db>.key``) is moved there once, with a notice.
    timeout
        Seconds to wait for a lock held by another writer.
    """

    def __init__(self, path: str | Path, *, key_path: str | Path | None = None, timeout: float = 30.0):
        self.dialect = "postgresql" if is_url(path) else "sqlite"
        self.path = DatabaseURL(path) if self.dialect == "postgresql" else Path(path)  # type: ignore[assignment]
        explicit = key_path or os.environ.get(_codes.KEY_FILE_ENV) or None
        self._explicit_key = Path(explicit).expanduser() if explicit else None
        self._write_checked = False
        self._timeout = timeout
        self._local = threading.local()
        self._key: bytes | None = None
        if self.dialect == "postgresql":
            self._check_database()
            self._migrate()
            if self._has_cohort():
                self._ensure_uid()
                self._migrate_keyed()
            return
        if not self.path.exists():
            raise StoreError(f"{self.path}: no database here; create one with 'upo init {self.path}'")
        if self.path.is_dir():
            raise StoreError(f"{self.path}: is a folder, not a database file")
        self._check_file()
        self._migrate()
        if self._has_cohort():
            self._ensure_uid()
            if self._explicit_key is None:
                self._adopt_legacy_key()
            self._migrate_keyed()

    # ------------------------------------------------------------------ connection
    @property
    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None and self.dialect == "postgresql":
            self._local.conn = conn = _pg_connect(self.path, self._timeout)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=self._timeout, isolation_level=None, check_same_thread=False)
            try:
                conn.execute(f"PRAGMA busy_timeout = {int(self._timeout * 1000)}")
                conn.execute("PRAGMA foreign_keys = ON")
                conn.execute("PRAGMA synchronous = NORMAL")
            except sqlite3.DatabaseError as exc:
                conn.close()
                raise StoreError(f"{self.path}: not a toolkit database ({exc}); give the file created by 'upo init'") from None
            self._local.conn = conn
        return conn

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
        listener = getattr(self, "_listener", None)
        if listener is not None:
            self._listener = None
            listener.close()

    # ------------------------------------------------------------------ change notifications
    @property
    def notifies_changes(self) -> bool:
        """True if :meth:`wait_for_change` is told about changes by the server (PostgreSQL LISTEN/NOTIFY).

        On SQLite a live view polls :meth:`data_version` instead (a cheap one-row read).
        """
        return self.dialect == "postgresql"

    def wait_for_change(self, timeout: float) -> bool:
        """Wait until a submission is stored or erased by anyone, at most ``timeout`` seconds.

        Returns True when told of a change (PostgreSQL: a ``NOTIFY upo_changes`` sent by
        the change counter's trigger at commit), False after the timeout. On SQLite it
        compares :meth:`data_version` before and after sleeping ``timeout`` seconds.
        """
        if self.dialect != "postgresql":
            before = self.data_version()
            threading.Event().wait(timeout)
            return self.data_version() != before
        from .dialect import NOTIFY_CHANNEL

        if getattr(self, "_listener", None) is None:
            listener = _pg_connect(self.path, self._timeout)
            listener.execute(f"LISTEN {NOTIFY_CHANNEL}")
            self._listener = listener
        for _ in self._listener.raw.notifies(timeout=timeout, stop_after=1):
            return True
        return False

    def check_integrity(self) -> None:
        """Read every page once (``PRAGMA quick_check``); for long-running sessions that must not fail later.

        Raises
        ------
        StoreError
            If the file is damaged (e.g. a copy cut short or overwritten pages).
        """
        try:
            rows = [r[0] for r in self.conn.execute("PRAGMA quick_check(3)")]
        except sqlite3.DatabaseError as exc:
            rows = [str(exc)]
        if rows != ["ok"]:
            detail = " ".join("; ".join(rows).split())
            raise StoreError(f"{self.path}: the database file is damaged ({detail}); restore it from a backup")
        self._write_checked = True

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _check_database(self) -> None:
        """A PostgreSQL database must hold the toolkit's schema (or nothing, then ``upo init`` creates it)."""
        conn: PgConnection = self.conn  # type: ignore[assignment]
        if conn.has_table("schema_migrations"):
            return
        tables = conn.tables()
        self.close()
        if tables:
            raise StoreError(f"{self.path.name}: this database was not created by the toolkit "
                             f"(tables: {', '.join(tables[:10])}); create a database with 'upo init' in an empty database")
        raise StoreError(f"{self.path.name}: no toolkit schema in this database; create it with 'upo init {self.path.name}'")

    def _check_file(self) -> None:
        try:
            app_id = self.conn.execute("PRAGMA application_id").fetchone()[0]
            tables = {r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        except sqlite3.DatabaseError as exc:
            self.close()
            raise StoreError(f"{self.path}: not a toolkit database ({exc}); give the file created by 'upo init'") from None
        if app_id != APPLICATION_ID:
            self.close()
            raise StoreError(
                f"{self.path}: this SQLite file was not created by the toolkit "
                f"(tables: {', '.join(sorted(tables)) or 'none'}); create a database with 'upo init'"
            )
        missing = [t for t in _TABLES if t not in tables]
        if "schema_migrations" in tables and missing:
            self.close()
            raise StoreError(
                f"{self.path}: the database lacks the table(s) {', '.join(missing)} (damaged or edited by hand); "
                "restore it from a backup"
            )

    @contextlib.contextmanager
    def atomic(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (``BEGIN IMMEDIATE``); nested calls join the outer one.

        The first write of a :class:`Store` checks the file (``PRAGMA quick_check``) and
        refuses to write into a damaged database.
        """
        conn = self.conn
        if conn.in_transaction:
            yield conn
            return
        if not self._write_checked:
            try:
                self.check_integrity()
            except StoreError as exc:
                raise StoreError(f"{exc}; nothing was written") from None
            self._write_checked = True
        try:
            if self.dialect == "postgresql":
                _pg_begin(conn)  # type: ignore[arg-type]
            else:
                conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise StoreError(f"{self.path}: the database is locked by another writer ({exc}); try again") from None
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        else:
            conn.execute("COMMIT")

    def _migrate(self) -> None:
        conn = self.conn
        applied = {r[0] for r in conn.execute("SELECT name FROM schema_migrations")} if self._has_table("schema_migrations") else set()
        known = {name for name, _ in MIGRATIONS} | set(KEYED_MIGRATIONS)
        unknown = applied - known
        if unknown:
            raise StoreError(
                f"{self.path}: written by a newer toolkit (migrations {', '.join(sorted(unknown))}); upgrade upo-toolkit"
            )
        pending = [(n, sql) for n, sql in MIGRATIONS if n not in applied]
        if not pending:
            return
        with self.atomic() as c:
            c.execute("CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
            applied = {r[0] for r in c.execute("SELECT name FROM schema_migrations")}
            for name, sql in pending:
                if name in applied:
                    continue
                for stmt in migration_statements(name, sql, self.dialect):
                    c.execute(stmt)
                c.execute("INSERT INTO schema_migrations VALUES (?, ?)", (name, _now()))
                log.info("applied migration %s", name)
            c.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _has_table(self, name: str) -> bool:
        if self.dialect == "postgresql":
            return self.conn.has_table(name)  # type: ignore[attr-defined]
        return self.conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (name,)).fetchone() is not None

    def _has_cohort(self) -> bool:
        return self.conn.execute("SELECT 1 FROM cohorts LIMIT 1").fetchone() is not None

    # ------------------------------------------------------------------ the code key
    def _ensure_uid(self) -> None:
        """Give every cohort its random id (names its key file); older files get one on first open."""
        rows = [r[0] for r in self.conn.execute("SELECT id FROM cohorts WHERE uid IS NULL")]
        if rows:
            with self.atomic() as c:
                for cid in rows:
                    c.execute("UPDATE cohorts SET uid = ? WHERE id = ? AND uid IS NULL", (secrets.token_hex(16), cid))

    @property
    def cohort_uid(self) -> str:
        """The cohort's random id (hexadecimal); its code key is ``<key dir>/<cohort_uid>.key``."""
        return str(self.conn.execute("SELECT uid FROM cohorts WHERE id = ?", (self.cohort_id,)).fetchone()[0])

    @property
    def key_path(self) -> Path:
        """The code key file in use (``--key FILE`` / ``$UPO_KEY_FILE``, else the user's data directory)."""
        return self._explicit_key or _codes.key_path_for(self.cohort_uid)

    def _adopt_legacy_key(self) -> None:
        """Move a ``<db>.key`` of an older version into the user's data directory (one notice in the log)."""
        legacy = _codes.legacy_key_path(self.path)
        if not legacy.is_file():
            return
        try:
            key, _ = _codes.parse_key(legacy.read_text(), source=str(legacy))
        except (OSError, UnicodeDecodeError) as exc:
            raise StoreError(f"{legacy}: the old key file cannot be read ({exc})") from None
        target = self.key_path
        if target.exists():
            if _codes.read_key(target) != key:
                raise StoreError(f"{legacy}: differs from the cohort's key installed at {target}; move the wrong one away")
            legacy.unlink()
            log.warning("removed %s: the same key is installed at %s", legacy, target)
            return
        _codes.write_key(target, key, cohort=self.cohort_uid)
        legacy.unlink()
        log.warning("moved the code key %s to %s (keys no longer travel with the database; hand it over with 'upo key export')",
                    legacy, target)

    @property
    def key(self) -> bytes:
        """The cohort's code key (read once; checked against the database's key check value)."""
        if self._key is None:
            key = _codes.read_key(self.key_path, cohort=self.cohort_uid, what=f" of {self.path.name}")
            check = _codes.key_check(key)
            stored = self.conn.execute("SELECT key_check FROM cohorts WHERE id = ?", (self.cohort_id,)).fetchone()[0]
            if stored is None:
                with self.atomic() as c:
                    c.execute("UPDATE cohorts SET key_check = ? WHERE id = ?", (check, self.cohort_id))
            elif stored != check:
                raise StoreError(f"{self.key_path}: not the code key of {self.path.name} (the check value differs); "
                                 "install the cohort's key with 'upo key import FILE' or give it with --key FILE")
            self._key = key
        return self._key

    def pseudonym(self, authority: str, code: tuple[str, ...] | list[str]) -> str:
        """The pseudonym of a participant code in one authority (authority-specific, see :mod:`toolkit.codes`)."""
        return _codes.pseudonym(self.key, _codes.hash_elements(self.key, code, authority=authority))

    def _migrate_keyed(self) -> None:
        """0004: scope element hashes and pseudonyms to the authority (needs the key once, for older files)."""
        name = KEYED_MIGRATIONS[0]
        if self.conn.execute("SELECT 1 FROM schema_migrations WHERE name = ?", (name,)).fetchone():
            return
        has = self.conn.execute("SELECT 1 FROM participants LIMIT 1").fetchone() is not None
        key = self.key if has else b""
        self.conn.execute("PRAGMA secure_delete = ON")  # scrubbed values do not stay in free pages
        with self.atomic() as c:
            if c.execute("SELECT 1 FROM schema_migrations WHERE name = ?", (name,)).fetchone():
                return
            mapping: dict[str, set[str]] = {}
            rows = c.execute("SELECT p.id, p.code, p.elements, a.code FROM participants p JOIN authorities a ON a.id = p.authority_id").fetchall()
            for pid, old, elements, authority in rows:
                scoped = [_codes._scoped(key, authority, h) for h in elements.split(".")]
                new = _codes.pseudonym(key, scoped)
                c.execute("UPDATE participants SET code = ?, elements = ? WHERE id = ?", (new, ".".join(scoped), pid))
                mapping.setdefault(old, set()).add(new)
            for qid, raw in c.execute("SELECT id, raw FROM quarantine WHERE raw IS NOT NULL").fetchall():
                try:
                    rec = json.loads(raw)
                except ValueError:
                    continue
                if not isinstance(rec, dict):
                    continue
                for name in [n for n in rec if n.casefold() in _OLD_META or n.casefold().startswith("grouptime")]:
                    del rec[name]
                if rec.get("participant"):
                    new_codes = mapping.get(rec["participant"], set())
                    rec["participant"] = next(iter(new_codes)) if len(new_codes) == 1 else None  # unscoped ids do not stay
                c.execute("UPDATE quarantine SET raw = ? WHERE id = ?", (json.dumps(rec, ensure_ascii=False), qid))
            c.execute("INSERT INTO schema_migrations VALUES (?, ?)", (name, _now()))
        if rows:
            log.warning("%s: participant pseudonyms are now specific to each authority (%d records converted)", self.path.name, len(rows))

    # ------------------------------------------------------------------ creation
    @classmethod
    def init(
        cls,
        path: str | Path,
        *,
        cohort: str = "Kohorte",
        min_group_size: int = 5,
        languages: str = "de,en",
        key_path: str | Path | None = None,
        key: bytes | None = None,
        uid: str | None = None,
    ) -> "Store":
        """Create a new database file and the cohort's code key (in the user's data directory).

        Parameters
        ----------
        key_path
            Reuse this existing key file on purpose (it is checked: long enough, readable
            only by you) instead of creating a new key; a copy is installed for the cohort.
        key, uid
            A given key and cohort id (synthetic data only: the demo derives both from its seed).

        Raises
        ------
        StoreError
            If the file exists already, a key file of an earlier database lies beside it
            (never reused silently) or the given key file is unfit.
        DataError
            A minimum group size outside 1 .. 100,000. Nothing is created on any error.
        """
        k = _check_group_size(min_group_size)
        if key_path is not None:
            if not Path(key_path).is_file():
                raise StoreError(f"{key_path}: no key file here; leave out --key to create a new key for the new cohort")
            key = _codes.read_key(key_path)
        if is_url(path):
            return cls._init_postgresql(DatabaseURL(path), cohort=cohort, min_group_size=k, languages=languages, key=key, uid=uid)
        path = Path(path)
        if path.exists():
            raise StoreError(f"{path}: exists already; choose another file name or open it instead of creating it")
        legacy = _codes.legacy_key_path(path)
        if legacy.exists() and key is None and key_path is None:
            raise StoreError(
                f"{legacy}: the code key of an earlier database lies beside {path.name} and is never reused silently; "
                f"delete or move it, or reuse it on purpose with --key {legacy}"
            )
        uid = uid or secrets.token_hex(16)
        target = _codes.key_path_for(uid)
        made: list[Path] = []
        store = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            made += [path, Path(f"{path}-wal"), Path(f"{path}-shm")]
            conn = sqlite3.connect(path)
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.commit()
            conn.close()
            key = _install_key(target, key, uid, made)
            store = cls(path)
            store._insert_cohort(cohort, k, languages, uid, key)
        except BaseException:
            if store is not None:
                store.close()
            for p in made:
                p.unlink(missing_ok=True)
            raise
        return store

    def _insert_cohort(self, cohort: str, k: int, languages: str, uid: str, key: bytes) -> None:
        with self.atomic() as c:
            c.execute(
                "INSERT INTO cohorts (name, min_group_size, languages, created_at, uid, key_check) VALUES (?, ?, ?, ?, ?, ?)",
                (cohort, k, languages, _now(), uid, _codes.key_check(key)),
            )
            c.executemany("INSERT INTO schema_migrations VALUES (?, ?)", [(n, _now()) for n in KEYED_MIGRATIONS])

    @classmethod
    def _init_postgresql(cls, url: DatabaseURL, *, cohort: str | None, min_group_size: int = 5, languages: str = "de,en",
                         key: bytes | None = None, uid: str | None = None) -> "Store":
        """Create the schema in an empty PostgreSQL database (``cohort=None``: no cohort row, for ``upo migrate``).

        The cohort's code key lives in the user's data directory like a SQLite cohort's, named by its id.
        """
        from .dialect import PG_FUNCTIONS

        conn = _pg_connect(url, 30.0)
        try:
            if conn.has_table("schema_migrations") or conn.has_table("cohorts"):
                raise StoreError(f"{url.name}: holds a toolkit database already; open it instead of creating it")
            tables = conn.tables()
            if tables:
                raise StoreError(f"{url.name}: the database is not empty (tables: {', '.join(tables[:10])}); "
                                 "create an empty database (createdb NAME) for the cohort")
            for stmt in PG_FUNCTIONS:
                conn.execute(stmt)
            conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
        finally:
            conn.close()
        store = cls(url)
        if cohort is not None:
            uid = uid or secrets.token_hex(16)
            made: list[Path] = []
            try:
                key = _install_key(_codes.key_path_for(uid), key, uid, made)
                store._insert_cohort(cohort, min_group_size, languages, uid, key)
            except BaseException:
                for p in made:
                    p.unlink(missing_ok=True)
                raise
        return store

    # ------------------------------------------------------------------ cohort settings
    def _cohort_row(self) -> sqlite3.Row:
        row = self.conn.execute("SELECT id, name, min_group_size, languages, created_at FROM cohorts ORDER BY id LIMIT 1").fetchone()
        if row is None:
            raise StoreError(f"{self.path}: the database has no cohort; recreate it with 'upo init'")
        return row

    @property
    def cohort_id(self) -> int:
        return self._cohort_row()[0]

    def cohort(self) -> dict[str, Any]:
        """Cohort settings: ``name``, ``min_group_size``, ``languages``, ``created_at``."""
        cid, name, k, langs, created = self._cohort_row()
        return {"name": name, "min_group_size": k, "languages": langs.split(","), "created_at": created}

    @property
    def min_group_size(self) -> int:
        return int(self._cohort_row()[2])

    def set_min_group_size(self, k: int) -> None:
        k = _check_group_size(k)
        with self.atomic() as c:
            c.execute("UPDATE cohorts SET min_group_size = ? WHERE id = ?", (k, self.cohort_id))

    # ------------------------------------------------------------------ authorities, waves
    def add_authority(self, code: str, *, name: str | None = None, ministry: str | None = None) -> None:
        """Add an authority (or update its name and ministry)."""
        code = str(code).strip()
        if not code:
            raise DataError("an authority needs a non-empty code")
        with self.atomic() as c:
            c.execute(
                "INSERT INTO authorities (cohort_id, code, name, ministry) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (cohort_id, code) DO UPDATE SET name = COALESCE(excluded.name, authorities.name), "
                "ministry = COALESCE(excluded.ministry, authorities.ministry)",
                (self.cohort_id, code, name, ministry),
            )

    def authorities(self) -> pd.DataFrame:
        """Columns ``authority, name, ministry``, sorted by ministry and code."""
        return read_sql(_AUTHORITIES_SQL, self.conn, params=(self.cohort_id,))

    def authority_rows(self) -> tuple[list[str], list[tuple[Any, ...]]]:
        """:meth:`authorities` as column names and plain rows (no pandas: for the CLI's list)."""
        return self._rows(_AUTHORITIES_SQL, (self.cohort_id,))

    def authority_codes(self) -> list[str]:
        """The authorities' codes, sorted."""
        return sorted(row[0] for row in self.authority_rows()[1])

    def add_wave(self, label: str, *, date: str | None = None) -> None:
        """Add a wave; waves are ordered by the order they were added."""
        label = str(label).strip()
        if not label:
            raise DataError("a wave needs a non-empty label")
        with self.atomic() as c:
            c.execute(
                "INSERT INTO waves (cohort_id, label, date, position) VALUES (?, ?, ?, "
                "(SELECT COALESCE(MAX(position), 0) + 1 FROM waves WHERE cohort_id = ?)) "
                "ON CONFLICT (cohort_id, label) DO UPDATE SET date = COALESCE(excluded.date, waves.date)",
                (self.cohort_id, label, date, self.cohort_id),
            )

    def waves(self) -> pd.DataFrame:
        """Columns ``wave, date, position`` in wave order."""
        return read_sql(_WAVES_SQL, self.conn, params=(self.cohort_id,))

    def wave_rows(self) -> tuple[list[str], list[tuple[Any, ...]]]:
        """:meth:`waves` as column names and plain rows (no pandas: for the CLI's list)."""
        return self._rows(_WAVES_SQL, (self.cohort_id,))

    def wave_labels(self) -> list[str]:
        """The waves' labels in wave order (``list(waves()["wave"])`` without a frame)."""
        return [row[0] for row in self.wave_rows()[1]]

    def _rows(self, sql: str, params: tuple[Any, ...]) -> tuple[list[str], list[tuple[Any, ...]]]:
        cur = self.conn.execute(sql, params)
        return [d[0] for d in cur.description], [tuple(r) for r in cur.fetchall()]

    def require_wave(self, wave: str) -> None:
        """Raise a :class:`DataError` naming the known waves and the fix if ``wave`` is not in the cohort."""
        waves = self.wave_labels()
        if wave not in waves:
            raise DataError(
                f"wave {wave!r} is not in {self.path.name}; known waves: {', '.join(waves) or 'none'} "
                f"(add it with 'upo wave add {self.path.name} {wave}' or an import)"
            )

    def require_authority(self, authority: str) -> None:
        """Raise a :class:`DataError` naming the known authorities and the fix if ``authority`` is not in the cohort."""
        codes = self.authority_codes()
        if authority not in codes:
            raise DataError(
                f"authority {authority!r} is not in {self.path.name}; known: {', '.join(codes) or 'none'} "
                f"(add it with 'upo authority add {self.path.name} {authority}' or an import)"
            )

    def _id_map(self, table: str, col: str) -> dict[str, int]:
        return {k: v for k, v in self.conn.execute(f"SELECT {col}, id FROM {table} WHERE cohort_id = ?", (self.cohort_id,))}

    # ------------------------------------------------------------------ instruments
    def add_instrument(self, instrument: Instrument | str | Path) -> Instrument:
        """Store an instrument (given as object, shipped id or YAML path); idempotent by content hash."""
        if not isinstance(instrument, Instrument):
            instrument = resolve_instrument(instrument)
        with self.atomic() as c:
            row = c.execute("SELECT pk FROM instruments WHERE hash = ?", (instrument.hash,)).fetchone()
            if row is None:
                cur = c.execute(
                    "INSERT INTO instruments (id, version, hash, source_text, stored_at) VALUES (?, ?, ?, ?, ?)",
                    (instrument.id, instrument.version, instrument.hash, instrument.source_text, _now()),
                )
                pk = cur.lastrowid
                c.executemany(
                    "INSERT INTO instrument_items VALUES (?, ?, ?, ?, ?)",
                    [(pk, it.id, instrument.dimension_of(it.id).id, it.type, pos) for pos, it in enumerate(instrument.items)],
                )
        return instrument

    def instrument(self, instrument_id: str, version: str | None = None) -> Instrument:
        """The latest stored version of an instrument (or the given version)."""
        sql = "SELECT source_text FROM instruments WHERE id = ?"
        params: list[Any] = [instrument_id]
        if version is not None:
            sql += " AND version = ?"
            params.append(version)
        row = self.conn.execute(sql + " ORDER BY pk DESC LIMIT 1", params).fetchone()
        if row is None:
            known = [r[0] for r in self.conn.execute("SELECT DISTINCT id FROM instruments ORDER BY id")]
            raise DataError(
                f"instrument {instrument_id!r}{' version ' + version if version else ''} is not in {self.path.name}; "
                f"stored: {', '.join(known) or 'none'} (store one with --instrument PATH on import, or add_instrument())"
            )
        return parse_instrument(row[0], source=f"{self.path.name}:{instrument_id}")

    def _instrument_pk(self, instrument: Instrument) -> int:
        row = self.conn.execute("SELECT pk FROM instruments WHERE hash = ?", (instrument.hash,)).fetchone()
        if row is None:
            self.add_instrument(instrument)
            row = self.conn.execute("SELECT pk FROM instruments WHERE hash = ?", (instrument.hash,)).fetchone()
        return row[0]

    def instruments(self) -> pd.DataFrame:
        """Columns ``instrument, version, hash, stored_at``."""
        return read_sql(
            "SELECT id AS instrument, version, hash, stored_at FROM instruments ORDER BY id, pk", self.conn
        )

    # ------------------------------------------------------------------ submissions
    def submit(self, submission: Submission) -> int:
        """Store one submission in one transaction and return its id.

        A submission whose ``token`` is already stored is not stored again; the
        earlier id is returned.

        Raises
        ------
        DataError
            Unknown authority, wave or item; a value outside the item's scale; a
            missing or unexpected stakeholder.
        """
        return self.submit_many([submission])[0]

    def submit_many(self, submissions: Iterable[Submission], *, create_missing: bool = False) -> list[int]:
        """Store several submissions in one transaction (all or nothing).

        Parameters
        ----------
        create_missing
            Create authorities and waves that do not exist yet (imports do; the
            workshop form does not, so a typo cannot create a new authority).
        """
        subs = list(submissions)
        key = self.key
        # Everything that needs no lock happens before the write transaction: parsing the
        # instrument, validating the answers, hashing the codes. The writer lock (an advisory
        # lock on PostgreSQL, BEGIN IMMEDIATE on SQLite) is then held for the inserts only.
        instruments: dict[Any, tuple[Instrument, int]] = {}
        prepared = []
        for sub in subs:
            ikey = sub.instrument if isinstance(sub.instrument, str) else sub.instrument.hash
            if ikey not in instruments:
                inst = self._instrument_cached(sub.instrument) if isinstance(sub.instrument, str) else sub.instrument
                instruments[ikey] = (inst, self._instrument_pk(inst))
            inst, ipk = instruments[ikey]
            rows = _validate_answers(inst, sub)
            hashes = _codes.hash_elements(key, sub.code, authority=sub.authority)
            prepared.append((sub, inst, ipk, rows, hashes, _codes.pseudonym(key, hashes)))
        authorities = self._id_map("authorities", "code")
        waves = self._id_map("waves", "label")
        ids: list[int] = []
        with self.atomic() as c:
            for sub, inst, ipk, rows, hashes, pcode in prepared:
                if sub.token is not None:
                    row = c.execute("SELECT id FROM submissions WHERE token = ?", (sub.token,)).fetchone()
                    if row is not None:
                        ids.append(row[0])
                        continue
                if sub.authority not in authorities:
                    authorities = self._id_map("authorities", "code")  # another writer may have added it
                    if sub.authority not in authorities:
                        if not create_missing:
                            raise DataError(
                                f"authority {sub.authority!r} is not in the cohort; known: {', '.join(sorted(authorities)) or 'none'}"
                            )
                        self.add_authority(sub.authority)
                        authorities = self._id_map("authorities", "code")
                if sub.wave not in waves:
                    waves = self._id_map("waves", "label")
                    if sub.wave not in waves:
                        if not create_missing:
                            raise DataError(f"wave {sub.wave!r} is not in the cohort; known: {', '.join(waves) or 'none'}")
                        self.add_wave(sub.wave)
                        waves = self._id_map("waves", "label")
                aid = authorities[sub.authority]
                row = c.execute(
                    "INSERT INTO participants (authority_id, code, elements, created_at) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (authority_id, code) DO NOTHING RETURNING id",
                    (aid, pcode, ".".join(hashes), _now()),
                ).fetchone()
                pid = row[0] if row is not None else \
                    c.execute("SELECT id FROM participants WHERE authority_id = ? AND code = ?", (aid, pcode)).fetchone()[0]
                sid = c.execute(
                    "INSERT INTO submissions (participant_id, wave_id, instrument_pk, instrument_id, source, token, submitted_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                    (pid, waves[sub.wave], ipk, inst.id, sub.source, sub.token, sub.submitted_at or _now()),
                ).fetchone()[0]
                stake_ids = self._stakeholder_ids(c, aid, inst, {s for _, s, _, _ in rows if s is not None})
                c.executemany(
                    "INSERT INTO answers (submission_id, item, stakeholder_id, value, text) VALUES (?, ?, ?, ?, ?)",
                    [(sid, item, stake_ids.get(s) if s is not None else None, v, t) for item, s, v, t in rows],
                )
                ids.append(sid)
        return ids

    def _instrument_cached(self, instrument_id: str) -> Instrument:
        """:meth:`instrument` (latest version) with the parsed instrument kept per stored text."""
        row = self.conn.execute("SELECT source_text FROM instruments WHERE id = ? ORDER BY pk DESC LIMIT 1", (instrument_id,)).fetchone()
        if row is None:
            return self.instrument(instrument_id)  # raises the one-line error
        cache = self.__dict__.setdefault("_parsed_instruments", {})
        if row[0] not in cache:
            if len(cache) >= 16:
                cache.clear()
            cache[row[0]] = parse_instrument(row[0], source=f"{self.path.name}:{instrument_id}")
        return cache[row[0]]

    def _stakeholder_ids(self, c: sqlite3.Connection, aid: int, inst: Instrument, keys: set[str]) -> dict[str, int]:
        if not keys:
            return {}
        catalogue = {e.id for e in inst.stakeholders.catalogue} if inst.stakeholders else set()
        c.executemany(
            "INSERT INTO stakeholders (authority_id, key, free) VALUES (?, ?, ?) ON CONFLICT (authority_id, key) DO NOTHING",
            [(aid, k, int(k not in catalogue)) for k in keys],
        )
        marks = ",".join("?" * len(keys))
        return {k: i for k, i in c.execute(f"SELECT key, id FROM stakeholders WHERE authority_id = ? AND key IN ({marks})", (aid, *keys))}

    # ------------------------------------------------------------------ quarantine
    def quarantine(self, rows: Iterable[Mapping[str, Any]]) -> int:
        """Keep rejected input rows: each mapping has ``source, row, column, value, reason, raw``."""
        rows = list(rows)
        if not rows:
            return 0
        with self.atomic() as c:
            c.executemany(
                'INSERT INTO quarantine (created_at, source, row, "column", value, reason, raw) VALUES (?, ?, ?, ?, ?, ?, ?)',
                [
                    (
                        _now(),
                        str(r.get("source", "")),
                        r.get("row"),
                        r.get("column"),
                        None if r.get("value") is None else str(r.get("value")),
                        str(r["reason"]),
                        json.dumps(r.get("raw"), ensure_ascii=False, default=str) if r.get("raw") is not None else None,
                    )
                    for r in rows
                ],
            )
        return len(rows)

    def quarantined(self) -> pd.DataFrame:
        """Rejected rows: ``id, created_at, source, row, column, value, reason, raw``."""
        return read_sql('SELECT id, created_at, source, row, "column", value, reason, raw FROM quarantine ORDER BY id', self.conn)

    # ------------------------------------------------------------------ erasure
    def erase(self, participant: str, *, wait: float = 10.0) -> int:
        """Remove every submission of a participant (all waves, linked records included).

        Records that an erasure happened (time and count, not who). Idempotent:
        erasing an unknown or already erased code removes nothing and returns 0.
        See :meth:`erase_details` for what else is removed and for ``wait``.
        """
        return int(self.erase_details(participant, wait=wait)["n_submissions"])

    def erase_details(self, participant: str, *, wait: float = 10.0) -> dict[str, Any]:
        """Erase a participant and say what was affected: ``n_submissions`` and ``authorities``.

        Besides submissions and answers, the participant's rejected import rows and free
        stakeholder names typed only by this person go too. Deleted content is overwritten
        (``secure_delete``) and the write-ahead log is checkpointed into the file and
        truncated, so the text is gone from the disk, not only from queries.

        Parameters
        ----------
        wait
            Seconds to wait for other connections that hold a read open (they keep old
            copies of the pages alive in the log).

        Raises
        ------
        StoreError
            If readers still hold the database after ``wait`` seconds: the erasure is
            stored, but its remains are still in the log; close the other programs and
            run the erasure again (it then only finishes the clean-up).
        """
        links = self.links()
        persons = set(links.loc[links["participant"] == participant, "person"]) | {participant}
        records = set(links.loc[links["person"].isin(persons), "participant"]) | {participant}
        marks = ",".join("?" * len(records))
        self.conn.execute("PRAGMA secure_delete = ON")  # overwrite erased content instead of leaving it in free pages
        sids: list[int] = []
        authorities: list[str] = []
        with self.atomic() as c:
            prow = c.execute(f"SELECT p.id, p.authority_id, a.code FROM participants p JOIN authorities a ON a.id = p.authority_id "
                             f"WHERE p.code IN ({marks})", tuple(records)).fetchall()
            pids = [r[0] for r in prow]
            aids = sorted({r[1] for r in prow})
            authorities = sorted({r[2] for r in prow})
            # rejected import rows keep the participant only as pseudonym (toolkit.io); they go too
            qids = [r[0] for r in c.execute(
                f"SELECT id FROM quarantine WHERE (CASE WHEN json_valid(raw) THEN json_extract(raw, '$.participant') END) IN ({marks})",
                tuple(records),
            )]
            if pids or qids:
                if pids:
                    pmarks = ",".join("?" * len(pids))
                    sids = [r[0] for r in c.execute(f"SELECT id FROM submissions WHERE participant_id IN ({pmarks})", pids)]
                if sids:
                    smarks = ",".join("?" * len(sids))
                    c.execute(f"DELETE FROM answers WHERE submission_id IN ({smarks})", sids)
                    c.execute(f"DELETE FROM submissions WHERE id IN ({smarks})", sids)
                if pids:
                    c.execute(f"DELETE FROM participants WHERE id IN ({pmarks})", pids)
                if aids:  # free stakeholder names nobody else gave
                    c.execute(
                        f"DELETE FROM stakeholders WHERE free = 1 AND authority_id IN ({','.join('?' * len(aids))}) "
                        "AND id NOT IN (SELECT stakeholder_id FROM answers WHERE stakeholder_id IS NOT NULL)",
                        aids,
                    )
                if qids:
                    c.execute(f"DELETE FROM quarantine WHERE id IN ({','.join('?' * len(qids))})", qids)
                c.execute("INSERT INTO erasures (erased_at, n_submissions) VALUES (?, ?)", (_now(), len(sids)))
        self._checkpoint(wait)
        return {"n_submissions": len(sids), "authorities": authorities}

    def _checkpoint(self, wait: float) -> None:
        """Copy the write-ahead log into the file and truncate it; fail if readers keep it alive.

        On PostgreSQL the dead rows are removed at once (``VACUUM``), not at the next autovacuum.
        """
        conn = self.conn
        if self.dialect == "postgresql":
            conn.execute("VACUUM answers, submissions, participants, quarantine, stakeholders")
            return
        deadline = time.monotonic() + max(0.0, wait)
        conn.execute(f"PRAGMA busy_timeout = {int(max(0.0, wait) * 1000)}")
        try:
            while True:
                busy, _log, _done = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
                if not busy:
                    return
                if time.monotonic() >= deadline:
                    raise StoreError(
                        f"{self.path}: the erasure is stored, but another program still reads the database (workshop, "
                        "notebook, dashboard), so erased text remains in its log file; close it and run the erasure again"
                    )
                time.sleep(0.1)
        finally:
            conn.execute(f"PRAGMA busy_timeout = {int(self._timeout * 1000)}")

    def record_report_folder(self, folder: str | Path) -> None:
        """Remember a report output folder, so an erasure can remove the reports that show the person."""
        with self.atomic() as c:
            c.execute("INSERT INTO report_folders (folder, updated_at) VALUES (?, ?) "
                      "ON CONFLICT (folder) DO UPDATE SET updated_at = excluded.updated_at", (str(Path(folder).resolve()), _now()))

    def report_folders(self) -> list[Path]:
        """The report output folders recorded by :meth:`record_report_folder`."""
        return [Path(r[0]) for r in self.conn.execute("SELECT folder FROM report_folders ORDER BY folder")]

    # ------------------------------------------------------------------ outcomes (frozen workshop results)
    def save_outcome(self, kind: str, payload: Mapping[str, Any], *, authority: str | None = None, wave: str | None = None, instrument: str | None = None) -> int:
        """Store a frozen result (e.g. a workshop's aggregated profile) as JSON."""
        with self.atomic() as c:
            aid = self._id_map("authorities", "code").get(authority) if authority else None
            wid = self._id_map("waves", "label").get(wave) if wave else None
            cur = c.execute(
                "INSERT INTO outcomes (kind, authority_id, wave_id, instrument_id, created_at, payload) VALUES (?, ?, ?, ?, ?, ?)",
                (kind, aid, wid, instrument, _now(), json.dumps(payload, ensure_ascii=False, default=str)),
            )
            return int(cur.lastrowid)


def open_store(path: str | Path) -> Store:
    """Open an existing database file or PostgreSQL URL (alias of ``Store(path)``)."""
    return Store(path)


def _pg_connect(url: DatabaseURL, timeout: float) -> PgConnection:
    import psycopg

    try:
        return PgConnection(url, timeout=timeout)
    except psycopg.OperationalError as exc:
        detail = " ".join(str(exc).split())
        raise StoreError(f"{url.name}: cannot connect to PostgreSQL ({detail}); check the URL, that the server runs "
                         "and that the user may connect (passwords in ~/.pgpass)") from None


def _pg_begin(conn: PgConnection) -> None:
    """``BEGIN`` plus the per-database writer lock (what ``BEGIN IMMEDIATE`` is on SQLite)."""
    import psycopg

    try:
        conn.execute(f"BEGIN; SELECT pg_advisory_xact_lock({WRITE_LOCK})")  # one round trip
    except psycopg.errors.LockNotAvailable as exc:
        conn.execute("ROLLBACK")
        raise StoreError(f"{conn.url.name}: the database is locked by another writer ({exc}); try again") from None
