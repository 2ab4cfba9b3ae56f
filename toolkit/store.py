"""The cohort store: one SQLite file, append-only submissions, tidy reads.

All SQL of the toolkit lives here. Writes happen in :meth:`Store.atomic`
transactions (``BEGIN IMMEDIATE``); one submission is one transaction, an import
is one transaction. Reads return tidy DataFrames with the contract columns
``authority, ministry, participant, wave, instrument, dimension, item, stakeholder, value``.

Example
-------
>>> import tempfile, pathlib
>>> db = Store.init(pathlib.Path(tempfile.mkdtemp()) / "c.sqlite", cohort="Demo")
>>> db.add_authority("BVA", name="Bundesverwaltungsamt", ministry="BMI")
>>> db.add_wave("t0")
>>> inst = db.add_instrument("reality_check")
>>> sid = db.submit(Submission("BVA", ("Ma", "7", "K", "Ha"), "t0", "reality_check", {"go1": 2, "go2": 1}))
>>> db.responses()[["authority", "wave", "item", "value"]].to_string(index=False)
'authority wave item  value\\n      BVA   t0  go1    2.0\\n      BVA   t0  go2    1.0'
>>> db.close()
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import logging
import sqlite3
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

import numpy as np
import pandas as pd

from . import codes as _codes
from .exceptions import DataError, StoreError
from .instruments import Instrument, parse_instrument, resolve_instrument

__all__ = ["Store", "Submission", "TIDY_COLUMNS", "SCHEMA_VERSION", "open_store"]

log = logging.getLogger("toolkit")

TIDY_COLUMNS = ["authority", "ministry", "participant", "wave", "instrument", "dimension", "item", "stakeholder", "value"]

APPLICATION_ID = 0x55504F31  # "UPO1": marks our files, so foreign SQLite files are recognised

MIGRATIONS: list[tuple[str, str]] = [
    (
        "0001_initial",
        """
        CREATE TABLE cohorts (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            min_group_size INTEGER NOT NULL DEFAULT 5 CHECK (min_group_size >= 1),
            languages TEXT NOT NULL DEFAULT 'de,en',
            created_at TEXT NOT NULL
        );
        CREATE TABLE authorities (
            id INTEGER PRIMARY KEY,
            cohort_id INTEGER NOT NULL REFERENCES cohorts(id),
            code TEXT NOT NULL,
            name TEXT,
            ministry TEXT,
            UNIQUE (cohort_id, code)
        );
        CREATE TABLE waves (
            id INTEGER PRIMARY KEY,
            cohort_id INTEGER NOT NULL REFERENCES cohorts(id),
            label TEXT NOT NULL,
            date TEXT,
            position INTEGER NOT NULL,
            UNIQUE (cohort_id, label)
        );
        CREATE TABLE participants (
            id INTEGER PRIMARY KEY,
            authority_id INTEGER NOT NULL REFERENCES authorities(id),
            code TEXT NOT NULL,
            elements TEXT NOT NULL,
            created_at TEXT NOT NULL,
            UNIQUE (authority_id, code)
        );
        CREATE TABLE instruments (
            pk INTEGER PRIMARY KEY,
            id TEXT NOT NULL,
            version TEXT NOT NULL,
            hash TEXT NOT NULL UNIQUE,
            source_text TEXT NOT NULL,
            stored_at TEXT NOT NULL
        );
        CREATE TABLE instrument_items (
            instrument_pk INTEGER NOT NULL REFERENCES instruments(pk),
            item TEXT NOT NULL,
            dimension TEXT NOT NULL,
            type TEXT NOT NULL,
            position INTEGER NOT NULL,
            PRIMARY KEY (instrument_pk, item)
        );
        CREATE TABLE stakeholders (
            id INTEGER PRIMARY KEY,
            authority_id INTEGER NOT NULL REFERENCES authorities(id),
            key TEXT NOT NULL,
            free INTEGER NOT NULL DEFAULT 0,
            UNIQUE (authority_id, key)
        );
        CREATE TABLE submissions (
            id INTEGER PRIMARY KEY,
            participant_id INTEGER NOT NULL REFERENCES participants(id),
            wave_id INTEGER NOT NULL REFERENCES waves(id),
            instrument_pk INTEGER NOT NULL REFERENCES instruments(pk),
            instrument_id TEXT NOT NULL,
            source TEXT NOT NULL,
            token TEXT UNIQUE,
            submitted_at TEXT NOT NULL
        );
        CREATE INDEX submissions_latest ON submissions (participant_id, wave_id, instrument_id, id);
        CREATE TABLE answers (
            submission_id INTEGER NOT NULL REFERENCES submissions(id) ON DELETE CASCADE,
            item TEXT NOT NULL,
            stakeholder_id INTEGER REFERENCES stakeholders(id),
            value REAL,
            text TEXT
        );
        CREATE INDEX answers_submission ON answers (submission_id);
        CREATE TABLE quarantine (
            id INTEGER PRIMARY KEY,
            created_at TEXT NOT NULL,
            source TEXT NOT NULL,
            row INTEGER,
            "column" TEXT,
            value TEXT,
            reason TEXT NOT NULL,
            raw TEXT
        );
        CREATE TABLE erasures (
            id INTEGER PRIMARY KEY,
            erased_at TEXT NOT NULL,
            n_submissions INTEGER NOT NULL
        );
        CREATE TABLE outcomes (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            authority_id INTEGER REFERENCES authorities(id),
            wave_id INTEGER REFERENCES waves(id),
            instrument_id TEXT,
            created_at TEXT NOT NULL,
            payload TEXT NOT NULL
        );
        """,
    ),
    (
        "0002_change_counter",
        """
        CREATE TABLE change_counter (n INTEGER NOT NULL);
        INSERT INTO change_counter (n) SELECT COUNT(*) FROM submissions;
        CREATE TRIGGER submissions_inserted AFTER INSERT ON submissions BEGIN UPDATE change_counter SET n = n + 1; END;
        CREATE TRIGGER submissions_deleted AFTER DELETE ON submissions BEGIN UPDATE change_counter SET n = n + 1; END;
        """,
    ),
]
SCHEMA_VERSION = len(MIGRATIONS)


def _statements(script: str) -> Iterator[str]:
    """Split a SQL script into complete statements (triggers contain inner semicolons)."""
    buf = ""
    for part in script.split(";"):
        buf += part + ";"
        if sqlite3.complete_statement(buf):
            if buf.strip(" \n;"):
                yield buf.strip()
            buf = ""


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class Submission:
    """One participant's answers to one instrument in one wave.

    Parameters
    ----------
    authority
        Authority code (e.g. ``"BVA"``).
    code
        The self-generated code elements as typed (e.g. ``("Ma", "07", "K", "Ha")``),
        or a one-element tuple with an imported participant id. Never a name.
    wave
        Wave label (e.g. ``"t0"``).
    instrument
        Instrument id (stored in the database) or an :class:`Instrument`.
    answers
        ``{item: value}`` or ``{(item, stakeholder): value}`` for per-stakeholder items;
        text items take strings. Unanswered items are simply absent.
    source
        Where it came from (``"form"``, ``"import:file.csv"``, ``"demo"``).
    token
        Idempotency key: a second submission with the same token is not stored again.
    """

    authority: str
    code: tuple[str, ...]
    wave: str
    instrument: str | Instrument
    answers: Mapping[Any, Any]
    source: str = "form"
    token: str | None = None
    submitted_at: str | None = None
    free_stakeholders: tuple[str, ...] = field(default=())


class Store:
    """A cohort database file.

    Parameters
    ----------
    path
        The SQLite file; it must exist (create it with :meth:`Store.init`).
    key_path
        The code key file; default ``<path>.key``.
    timeout
        Seconds to wait for a lock held by another writer.
    """

    def __init__(self, path: str | Path, *, key_path: str | Path | None = None, timeout: float = 30.0):
        self.path = Path(path)
        self.key_path = Path(key_path) if key_path else _codes.key_path_for(self.path)
        if not self.path.exists():
            raise StoreError(f"{self.path}: no database here; create one with 'upo init {self.path}'")
        if self.path.is_dir():
            raise StoreError(f"{self.path}: is a folder, not a database file")
        self._timeout = timeout
        self._local = threading.local()
        self._key: bytes | None = None
        self._check_file()
        self._migrate()

    # ------------------------------------------------------------------ connection
    @property
    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
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

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

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
                for stmt in _statements(sql):
                    c.execute(stmt)
                c.execute("INSERT INTO schema_migrations VALUES (?, ?)", (name, _now()))
                log.info("applied migration %s", name)
            c.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _has_table(self, name: str) -> bool:
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
        path = Path(path)
        if path.exists():
            raise StoreError(f"{path}: exists already; choose another file name or open it instead of creating it")
        if min_group_size < 1:
            raise DataError(f"min_group_size must be at least 1, not {min_group_size}")
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
        with store.atomic() as c:
            c.execute(
                "INSERT INTO cohorts (name, min_group_size, languages, created_at) VALUES (?, ?, ?, ?)",
                (cohort, int(min_group_size), languages, _now()),
            )
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
                "ON CONFLICT (cohort_id, code) DO UPDATE SET name = COALESCE(excluded.name, name), "
                "ministry = COALESCE(excluded.ministry, ministry)",
                (self.cohort_id, code, name, ministry),
            )

    def authorities(self) -> pd.DataFrame:
        """Columns ``authority, name, ministry``, sorted by ministry and code."""
        return pd.read_sql_query(
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
                "ON CONFLICT (cohort_id, label) DO UPDATE SET date = COALESCE(excluded.date, date)",
                (self.cohort_id, label, date, self.cohort_id),
            )

    def waves(self) -> pd.DataFrame:
        """Columns ``wave, date, position`` in wave order."""
        return pd.read_sql_query(
            "SELECT label AS wave, date, position FROM waves WHERE cohort_id = ? ORDER BY position",
            self.conn,
            params=(self.cohort_id,),
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
        return pd.read_sql_query(
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

    # ------------------------------------------------------------------ reads
    def _where(self, instrument: str | None, wave: str | Sequence[str] | None, authority: str | Sequence[str] | None) -> tuple[str, list[Any]]:
        clauses, params = ["a.cohort_id = ?"], [self.cohort_id]
        for col, val in (("s.instrument_id", instrument), ("w.label", wave), ("a.code", authority)):
            if val is None:
                continue
            vals = [val] if isinstance(val, str) else list(val)
            clauses.append(f"{col} IN ({','.join('?' * len(vals))})")
            params.extend(vals)
        return " AND ".join(clauses), params

    def _meta(self, instrument: str | None, wave: Any, authority: Any, latest: bool, linked: bool) -> pd.DataFrame:
        """One row per (latest) submission with its authority, participant, wave and instrument."""
        where, params = self._where(instrument, wave, authority)
        meta = pd.read_sql_query(
            f"""SELECT s.id AS submission, s.participant_id, s.wave_id, s.instrument_pk, a.code AS authority,
                       a.ministry AS ministry, p.code AS participant, w.label AS wave, w.position AS wave_pos,
                       s.instrument_id AS instrument
                FROM submissions s JOIN participants p ON p.id = s.participant_id
                JOIN authorities a ON a.id = p.authority_id JOIN waves w ON w.id = s.wave_id
                WHERE {where}""",
            self.conn,
            params=params,
        )
        if latest and not meta.empty:
            last = meta.groupby(["participant_id", "wave_id", "instrument"], sort=False)["submission"].transform("max")
            meta = meta[meta["submission"] == last]
        if linked and not meta.empty:
            links = self.links()
            meta = meta.merge(links[["authority", "participant", "person"]], on=["authority", "participant"], how="left")
            meta["participant"] = meta["person"].fillna(meta["participant"])
            meta = meta.drop(columns="person")
        return meta

    def _read(self, column: str, *, instrument: str | None, wave: Any, authority: Any, latest: bool, linked: bool) -> pd.DataFrame:
        text = column == "text"
        meta = self._meta(instrument, wave, authority, latest, linked)
        cols = TIDY_COLUMNS[:-1] + [column]
        if meta.empty:
            out = pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
            out["wave"] = pd.Categorical([], categories=list(self.waves()["wave"]), ordered=True)
            if not text:
                out["value"] = out["value"].astype(float)
            return out
        kind = "ans.text IS NOT NULL" if text else "ans.text IS NULL"
        rows = self.conn.execute(
            f"""SELECT ans.submission_id, ans.item, ans.stakeholder_id, ans.{column} FROM answers ans
                WHERE ans.submission_id IN (SELECT value FROM json_each(?)) AND {kind}""",
            (json.dumps(meta["submission"].astype(int).tolist()),),
        ).fetchall()
        ans = pd.DataFrame(rows, columns=["submission", "item", "stakeholder_id", column])
        items = pd.read_sql_query("SELECT instrument_pk, item, dimension, position AS item_pos FROM instrument_items", self.conn)
        df = ans.merge(meta, on="submission", how="inner").merge(items, on=["instrument_pk", "item"], how="left")
        stake = dict(self.conn.execute("SELECT id, key FROM stakeholders"))
        df["stakeholder"] = df["stakeholder_id"].map(stake).astype(object).where(df["stakeholder_id"].notna(), None)
        df = df.sort_values(["wave_pos", "authority", "participant", "instrument", "item_pos", "stakeholder"], kind="stable", na_position="first")
        out = df[cols].reset_index(drop=True)
        out["wave"] = pd.Categorical(out["wave"], categories=list(self.waves()["wave"]), ordered=True)
        if not text:
            out["value"] = out["value"].astype(float)
        return out

    def responses(
        self,
        instrument: str | None = None,
        *,
        wave: str | Sequence[str] | None = None,
        authority: str | Sequence[str] | None = None,
        latest: bool = True,
        linked: bool = True,
    ) -> pd.DataFrame:
        """Numeric answers as a tidy frame with the contract columns.

        Parameters
        ----------
        instrument, wave, authority
            Filters (``None``: all).
        latest
            Only the latest submission per participant, wave and instrument
            (corrections replace earlier answers); ``False`` returns the history.
        linked
            Replace each participant code by the code of the person it is linked
            to across waves (tolerant linking, see :mod:`toolkit.codes`).

        Returns
        -------
        DataFrame
            ``authority, ministry, participant, wave, instrument, dimension, item,
            stakeholder, value``; ``wave`` is an ordered categorical in wave order;
            ``value`` holds the raw codes (missing codes such as 0 = "cannot judge"
            included; scoring turns them into NaN).
        """
        return self._read("value", instrument=instrument, wave=wave, authority=authority, latest=latest, linked=linked)

    def texts(
        self,
        instrument: str | None = None,
        *,
        wave: str | Sequence[str] | None = None,
        authority: str | Sequence[str] | None = None,
        linked: bool = True,
    ) -> pd.DataFrame:
        """Free-text answers: the contract columns with ``text`` in place of ``value``.

        Free text may identify people: show it only through :mod:`toolkit.privacy`.
        """
        return self._read("text", instrument=instrument, wave=wave, authority=authority, latest=True, linked=linked)

    def participant_codes(self) -> pd.DataFrame:
        """Participant records with the waves they answered: ``authority, participant, wave, elements``."""
        return pd.read_sql_query(
            """
            SELECT DISTINCT a.code AS authority, p.code AS participant, w.label AS wave, p.elements AS elements
            FROM submissions s JOIN participants p ON p.id = s.participant_id
            JOIN authorities a ON a.id = p.authority_id JOIN waves w ON w.id = s.wave_id
            WHERE a.cohort_id = ? ORDER BY a.code, w.position, p.id
            """,
            self.conn,
            params=(self.cohort_id,),
        )

    def links(self) -> pd.DataFrame:
        """How participant records are linked into persons (see :func:`toolkit.codes.link_codes`).

        Cached until the next submission or erasure (:meth:`data_version`).
        """
        version = self.data_version()
        cached = getattr(self, "_links_cache", None)
        if cached is None or cached[0] != version:
            cached = (version, _codes.link_codes(self.participant_codes()))
            self._links_cache = cached
        return cached[1].copy()

    def linking_summary(self) -> pd.DataFrame:
        """Exact / tolerant / unlinked / ambiguous counts per authority and wave pair."""
        recs = self.participant_codes()
        recs["wave"] = pd.Categorical(recs["wave"], categories=list(self.waves()["wave"]), ordered=True)
        return _codes.linking_summary(recs, _codes.link_codes(recs))

    def submissions(self, *, latest: bool = False) -> pd.DataFrame:
        """Submission metadata: ``submission, authority, participant, wave, instrument, version, source, submitted_at``."""
        latest_sql = " AND s.id IN (SELECT MAX(id) FROM submissions GROUP BY participant_id, wave_id, instrument_id)" if latest else ""
        return pd.read_sql_query(
            f"""
            SELECT s.id AS submission, a.code AS authority, p.code AS participant, w.label AS wave,
                   s.instrument_id AS instrument, i.version AS version, s.source AS source, s.submitted_at AS submitted_at
            FROM submissions s JOIN participants p ON p.id = s.participant_id
            JOIN authorities a ON a.id = p.authority_id JOIN waves w ON w.id = s.wave_id
            JOIN instruments i ON i.pk = s.instrument_pk
            WHERE a.cohort_id = ?{latest_sql} ORDER BY s.id
            """,
            self.conn,
            params=(self.cohort_id,),
        )

    def count_submissions(self, instrument: str | None = None, *, wave: str | None = None, authority: str | None = None) -> int:
        """Number of distinct participants with a submission (cheap; for live counters)."""
        where, params = self._where(instrument, wave, authority)
        sql = f"""SELECT COUNT(DISTINCT s.participant_id) FROM submissions s
                  JOIN participants p ON p.id = s.participant_id JOIN authorities a ON a.id = p.authority_id
                  JOIN waves w ON w.id = s.wave_id WHERE {where}"""
        return int(self.conn.execute(sql, params).fetchone()[0])

    def data_version(self) -> int:
        """A number that grows with every stored submission (for cheap change polling)."""
        return int(self.conn.execute("SELECT n FROM change_counter").fetchone()[0])

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
        return pd.read_sql_query('SELECT id, created_at, source, row, "column", value, reason, raw FROM quarantine ORDER BY id', self.conn)

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

    def outcomes(self, kind: str | None = None) -> pd.DataFrame:
        """Frozen results: ``id, kind, authority, wave, instrument, created_at, payload`` (payload parsed)."""
        df = pd.read_sql_query(
            """SELECT o.id, o.kind, a.code AS authority, w.label AS wave, o.instrument_id AS instrument, o.created_at, o.payload
               FROM outcomes o LEFT JOIN authorities a ON a.id = o.authority_id LEFT JOIN waves w ON w.id = o.wave_id
               WHERE (? IS NULL OR o.kind = ?) ORDER BY o.id""",
            self.conn,
            params=(kind, kind),
        )
        df["payload"] = df["payload"].map(json.loads)
        return df

    def fingerprint(self, authority: str | None = None) -> str:
        """A hash of everything stored for one authority (or the whole cohort): for incremental reports."""
        where, params = self._where(None, None, authority)
        h = hashlib.sha256()
        for row in self.conn.execute(
            f"""SELECT s.id, s.instrument_pk FROM submissions s JOIN participants p ON p.id = s.participant_id
                JOIN authorities a ON a.id = p.authority_id JOIN waves w ON w.id = s.wave_id
                WHERE {where} ORDER BY s.id""",
            params,
        ):
            h.update(f"{row[0]}:{row[1]};".encode())
        for row in self.conn.execute("SELECT hash FROM instruments ORDER BY pk"):
            h.update(row[0].encode())
        h.update(json.dumps(self.cohort(), sort_keys=True, default=str).encode())
        h.update(self.authorities().to_json().encode())
        h.update(self.waves().to_json().encode())
        h.update(str(self.conn.execute("SELECT COUNT(*) FROM erasures").fetchone()[0]).encode())
        return h.hexdigest()


def _validate_answers(inst: Instrument, sub: Submission) -> list[tuple[str, str | None, float | None, str | None]]:
    """Turn a submission's answers into rows ``(item, stakeholder, value, text)``, validating each."""
    rows: list[tuple[str, str | None, float | None, str | None]] = []
    free_allowed = inst.stakeholders.free_entries if inst.stakeholders else 0
    catalogue = {e.id for e in inst.stakeholders.catalogue} if inst.stakeholders else set()
    free_seen: set[str] = set()
    for key, value in sub.answers.items():
        item_id, stakeholder = (key if isinstance(key, tuple) else (key, None))
        try:
            item = inst.item(item_id)
        except KeyError:
            raise DataError(f"item {item_id!r} is not in instrument {inst.id!r} {inst.version}") from None
        itype = item.item_type
        if itype.per_stakeholder:
            if stakeholder is None or not str(stakeholder).strip():
                raise DataError(f"item {item_id!r} is rated per stakeholder; give the answer as {{({item_id!r}, stakeholder): value}}")
            stakeholder = " ".join(str(stakeholder).split())
            if stakeholder not in catalogue:
                free_seen.add(stakeholder)
                if len(free_seen) > free_allowed:
                    raise DataError(
                        f"stakeholder {stakeholder!r} is not in the catalogue of {inst.id!r} and at most {free_allowed} free entries are allowed"
                    )
        elif stakeholder is not None:
            raise DataError(f"item {item_id!r} is not rated per stakeholder; give it without a stakeholder")
        if item.type == "text":
            if value is None or (isinstance(value, float) and np.isnan(value)):
                continue
            text = str(value).strip()
            if text:
                rows.append((item_id, None, None, text[:5000]))
            continue
        if value is None or (isinstance(value, float) and np.isnan(value)):
            continue
        try:
            num = float(value)
        except (TypeError, ValueError):
            raise DataError(f"item {item_id!r}: {value!r} is not a number") from None
        scale = inst.scales[item.scale]  # type: ignore[index]
        if not scale.is_valid(num):
            valid = [_fmt(p) for p in scale.points] + [f"{_fmt(m)} (missing)" for m in scale.missing]
            raise DataError(f"item {item_id!r}: {_fmt(num)} is not on scale {item.scale!r}; valid values: {', '.join(valid)}")
        rows.append((item_id, stakeholder, num, None))
    return rows


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def open_store(path: str | Path) -> Store:
    """Open an existing database file (alias of ``Store(path)``)."""
    return Store(path)
