"""Schema of the cohort database: named migrations, applied in order and recorded."""

from __future__ import annotations

import datetime as _dt
import sqlite3
from typing import Iterator

__all__ = ["TIDY_COLUMNS", "APPLICATION_ID", "MIGRATIONS", "KEYED_MIGRATIONS", "PG_MIGRATIONS", "SCHEMA_VERSION"]

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
    (
        "0003_cohort_key",
        """
        ALTER TABLE cohorts ADD COLUMN uid TEXT;
        ALTER TABLE cohorts ADD COLUMN key_check TEXT;
        CREATE TABLE report_folders (folder TEXT PRIMARY KEY, updated_at TEXT NOT NULL);
        """,
    ),
    (
        # measures a workshop group agrees on (recorded by the facilitator in the presenter view);
        # plain types and no SQLite-only syntax, so the PostgreSQL store runs the same statement
        "0005_workshop_measures",
        """
        CREATE TABLE measures (
            id INTEGER PRIMARY KEY,
            cohort_id INTEGER NOT NULL REFERENCES cohorts(id),
            authority_id INTEGER REFERENCES authorities(id),
            wave_id INTEGER NOT NULL REFERENCES waves(id),
            instrument_id TEXT NOT NULL,
            dimension TEXT,
            stakeholder TEXT,
            what TEXT NOT NULL,
            who TEXT,
            due TEXT,
            recorded_at TEXT NOT NULL
        );
        CREATE INDEX measures_session ON measures (cohort_id, wave_id, instrument_id);
        """,
    ),
]
SCHEMA_VERSION = len(MIGRATIONS)
# migrations done in Python because they need the code key (recorded in schema_migrations like the others)
KEYED_MIGRATIONS = ("0004_authority_pseudonyms",)

# PostgreSQL texts of the migrations whose SQLite text cannot be translated by
# ``dialect.pg_ddl`` (triggers); every other migration runs translated.
PG_MIGRATIONS: dict[str, list[str]] = {
    "0002_change_counter": [
        "CREATE TABLE change_counter (n BIGINT NOT NULL)",
        "INSERT INTO change_counter (n) SELECT COUNT(*) FROM submissions",
        # the counter also tells listening dashboards (LISTEN upo_changes) at commit
        "CREATE FUNCTION upo_count_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN UPDATE change_counter SET n = n + 1; PERFORM pg_notify('upo_changes', ''); RETURN NULL; END $$",
        "CREATE TRIGGER submissions_inserted AFTER INSERT ON submissions FOR EACH ROW EXECUTE FUNCTION upo_count_change()",
        "CREATE TRIGGER submissions_deleted AFTER DELETE ON submissions FOR EACH ROW EXECUTE FUNCTION upo_count_change()",
    ],
}


def migration_statements(name: str, sql: str, dialect: str) -> list[str]:
    """The statements of one migration for ``"sqlite"`` or ``"postgresql"``."""
    if dialect == "sqlite":
        return list(_statements(sql))
    if name in PG_MIGRATIONS:
        return list(PG_MIGRATIONS[name])
    from .dialect import pg_ddl

    return [pg_ddl(s) for s in _statements(sql)]


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
