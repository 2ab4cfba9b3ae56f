"""The :class:`Store`: connection, creation, migrations and the write side."""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
import threading
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

import pandas as pd

from .. import codes as _codes
from ..exceptions import DataError, StoreError
from ..instruments import Instrument, parse_instrument, resolve_instrument
from .answers import Submission, _validate_answers
from .dialect import WRITE_LOCK, DatabaseURL, PgConnection, is_url, key_path_for_url, read_sql
from .reads import ReadsMixin
from .schema import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION, _now, migration_statements

__all__ = ["Store", "open_store"]

log = logging.getLogger("toolkit")


class Store(ReadsMixin):
    """A cohort database: a SQLite file or a PostgreSQL database.

    Parameters
    ----------
    path
        The SQLite file, or a ``postgresql://user@host:port/dbname`` URL; it must
        exist and hold the toolkit's schema (create it with :meth:`Store.init`).
    key_path
        The code key file; default ``<path>.key`` beside a SQLite file, for
        PostgreSQL ``<user data folder>/upo-toolkit/keys/<host>_<port>_<db>.key``.
    timeout
        Seconds to wait for a lock held by another writer.
    """

    def __init__(self, path: str | Path, *, key_path: str | Path | None = None, timeout: float = 30.0):
        self.dialect = "postgresql" if is_url(path) else "sqlite"
        self.path = DatabaseURL(path) if self.dialect == "postgresql" else Path(path)
        default_key = key_path_for_url(self.path) if self.dialect == "postgresql" else _codes.key_path_for(self.path)
        self.key_path = Path(key_path) if key_path else default_key
        self._timeout = timeout
        self._local = threading.local()
        self._key: bytes | None = None
        if self.dialect == "postgresql":
            self._check_database()
            self._migrate()
            return
        if not self.path.exists():
            raise StoreError(f"{self.path}: no database here; create one with 'upo init {self.path}'")
        if self.path.is_dir():
            raise StoreError(f"{self.path}: is a folder, not a database file")
        self._check_file()
        self._migrate()

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

    @contextlib.contextmanager
    def atomic(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (``BEGIN IMMEDIATE``); nested calls join the outer one."""
        conn = self.conn
        if conn.in_transaction:
            yield conn
            return
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
        known = {name for name, _ in MIGRATIONS}
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

    # ------------------------------------------------------------------ creation
    @classmethod
    def init(cls, path: str | Path, *, cohort: str = "Kohorte", min_group_size: int = 5, languages: str = "de,en") -> "Store":
        """Create a new database file and its code key file.

        Raises
        ------
        StoreError
            If the file exists already.
        """
        if min_group_size < 1:
            raise DataError(f"min_group_size must be at least 1, not {min_group_size}")
        if is_url(path):
            return cls._init_postgresql(DatabaseURL(path), cohort=cohort, min_group_size=min_group_size, languages=languages)
        path = Path(path)
        if path.exists():
            raise StoreError(f"{path}: exists already; choose another file name or open it instead of creating it")
        path.parent.mkdir(parents=True, exist_ok=True)
        key_path = _codes.key_path_for(path)
        conn = sqlite3.connect(path)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        conn.commit()
        conn.close()
        if not key_path.exists():
            _codes.create_key(key_path)
        store = cls(path)
        store._insert_cohort(cohort, min_group_size, languages)
        return store

    def _insert_cohort(self, cohort: str, min_group_size: int, languages: str) -> None:
        with self.atomic() as c:
            c.execute(
                "INSERT INTO cohorts (name, min_group_size, languages, created_at) VALUES (?, ?, ?, ?)",
                (cohort, int(min_group_size), languages, _now()),
            )

    @classmethod
    def _init_postgresql(cls, url: DatabaseURL, *, cohort: str | None, min_group_size: int = 5, languages: str = "de,en") -> "Store":
        """Create the schema in an empty PostgreSQL database (``cohort=None``: no cohort row, for ``upo migrate``)."""
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
        key_path = key_path_for_url(url)
        if not key_path.exists():
            key_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            _codes.create_key(key_path)
        store = cls(url)
        if cohort is not None:
            store._insert_cohort(cohort, min_group_size, languages)
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
        if int(k) < 1:
            raise DataError(f"min_group_size must be at least 1, not {k}")
        with self.atomic() as c:
            c.execute("UPDATE cohorts SET min_group_size = ? WHERE id = ?", (int(k), self.cohort_id))

    @property
    def key(self) -> bytes:
        if self._key is None:
            self._key = _codes.read_key(self.key_path)
        return self._key

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
        return read_sql(
            "SELECT code AS authority, name, ministry FROM authorities WHERE cohort_id = ? ORDER BY ministry, code",
            self.conn,
            params=(self.cohort_id,),
        )

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
        return read_sql(
            "SELECT label AS wave, date, position FROM waves WHERE cohort_id = ? ORDER BY position",
            self.conn,
            params=(self.cohort_id,),
        )

    def require_wave(self, wave: str) -> None:
        """Raise a :class:`DataError` naming the known waves and the fix if ``wave`` is not in the cohort."""
        waves = list(self.waves()["wave"])
        if wave not in waves:
            raise DataError(
                f"wave {wave!r} is not in {self.path.name}; known waves: {', '.join(waves) or 'none'} "
                f"(add it with 'upo wave add {self.path.name} {wave}' or an import)"
            )

    def require_authority(self, authority: str) -> None:
        """Raise a :class:`DataError` naming the known authorities and the fix if ``authority`` is not in the cohort."""
        codes = sorted(self.authorities()["authority"])
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
        instruments: dict[Any, tuple[Instrument, int]] = {}
        ids: list[int] = []
        with self.atomic() as c:
            authorities = self._id_map("authorities", "code")
            waves = self._id_map("waves", "label")
            for sub in subs:
                if sub.token is not None:
                    row = c.execute("SELECT id FROM submissions WHERE token = ?", (sub.token,)).fetchone()
                    if row is not None:
                        ids.append(row[0])
                        continue
                ikey = sub.instrument if isinstance(sub.instrument, str) else sub.instrument.hash
                if ikey not in instruments:
                    inst = self.instrument(sub.instrument) if isinstance(sub.instrument, str) else sub.instrument
                    instruments[ikey] = (inst, self._instrument_pk(inst))
                inst, ipk = instruments[ikey]
                if sub.authority not in authorities:
                    if not create_missing:
                        raise DataError(
                            f"authority {sub.authority!r} is not in the cohort; known: {', '.join(sorted(authorities)) or 'none'}"
                        )
                    self.add_authority(sub.authority)
                    authorities = self._id_map("authorities", "code")
                if sub.wave not in waves:
                    if not create_missing:
                        raise DataError(f"wave {sub.wave!r} is not in the cohort; known: {', '.join(waves) or 'none'}")
                    self.add_wave(sub.wave)
                    waves = self._id_map("waves", "label")
                aid = authorities[sub.authority]
                rows = _validate_answers(inst, sub)
                hashes = _codes.hash_elements(key, sub.code)
                pcode = _codes.pseudonym(key, hashes)
                c.execute(
                    "INSERT INTO participants (authority_id, code, elements, created_at) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (authority_id, code) DO NOTHING",
                    (aid, pcode, ".".join(hashes), _now()),
                )
                pid = c.execute("SELECT id FROM participants WHERE authority_id = ? AND code = ?", (aid, pcode)).fetchone()[0]
                cur = c.execute(
                    "INSERT INTO submissions (participant_id, wave_id, instrument_pk, instrument_id, source, token, submitted_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (pid, waves[sub.wave], ipk, inst.id, sub.source, sub.token, sub.submitted_at or _now()),
                )
                sid = cur.lastrowid
                stake_ids = self._stakeholder_ids(c, aid, inst, {s for _, s, _, _ in rows if s is not None})
                c.executemany(
                    "INSERT INTO answers (submission_id, item, stakeholder_id, value, text) VALUES (?, ?, ?, ?, ?)",
                    [(sid, item, stake_ids.get(s) if s is not None else None, v, t) for item, s, v, t in rows],
                )
                ids.append(sid)
        return ids

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
    def erase(self, participant: str) -> int:
        """Remove every submission of a participant (all waves, linked records included).

        Records that an erasure happened (time and count, not who). Idempotent:
        erasing an unknown or already erased code removes nothing and returns 0.
        """
        links = self.links()
        persons = set(links.loc[links["participant"] == participant, "person"]) | {participant}
        records = set(links.loc[links["person"].isin(persons), "participant"]) | {participant}
        marks = ",".join("?" * len(records))
        self.conn.execute("PRAGMA secure_delete = ON")  # overwrite erased content instead of leaving it in free pages
        with self.atomic() as c:
            pids = [r[0] for r in c.execute(f"SELECT id FROM participants WHERE code IN ({marks})", tuple(records))]
            # rejected import rows keep the participant only as pseudonym (toolkit.io); they go too
            qids = [r[0] for r in c.execute(
                f"SELECT id FROM quarantine WHERE (CASE WHEN json_valid(raw) THEN json_extract(raw, '$.participant') END) IN ({marks})",
                tuple(records),
            )]
            if not pids and not qids:
                return 0
            sids: list[int] = []
            if pids:
                pmarks = ",".join("?" * len(pids))
                sids = [r[0] for r in c.execute(f"SELECT id FROM submissions WHERE participant_id IN ({pmarks})", pids)]
            if sids:
                smarks = ",".join("?" * len(sids))
                c.execute(f"DELETE FROM answers WHERE submission_id IN ({smarks})", sids)
                c.execute(f"DELETE FROM submissions WHERE id IN ({smarks})", sids)
            if pids:
                c.execute(f"DELETE FROM participants WHERE id IN ({pmarks})", pids)
            if qids:
                c.execute(f"DELETE FROM quarantine WHERE id IN ({','.join('?' * len(qids))})", qids)
            c.execute("INSERT INTO erasures (erased_at, n_submissions) VALUES (?, ?)", (_now(), len(sids)))
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # and out of the write-ahead log
        if self.dialect == "postgresql":  # remove the dead rows now, not at the next autovacuum
            self.conn.execute("VACUUM answers, submissions, participants, quarantine")
        return len(sids)

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
