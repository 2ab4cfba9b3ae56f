"""Bulk loading of generated cohorts (the synthetic large cohort): batched inserts, one transaction.

Validation per answer is the generator's job here (it draws only valid values);
the regular write path is :meth:`Store.submit_many`.
"""

from __future__ import annotations

from typing import Any, Sequence

import pandas as pd

from .schema import _now

__all__ = ["bulk_load"]


def _insert(store: Any, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    if not rows:
        return
    if store.dialect == "postgresql":
        store.conn.copy_rows(table, columns, rows)
    else:
        marks = ", ".join("?" * len(columns))
        store.conn.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)


def bulk_load(store: Any, participants: pd.DataFrame, submissions: pd.DataFrame, answers: pd.DataFrame) -> int:
    """Insert generated participants, submissions and answers in one transaction.

    Parameters
    ----------
    participants
        ``authority, code, elements`` (pseudonym and element hashes, as :mod:`toolkit.codes` makes them).
    submissions
        ``sub, authority, code, wave, instrument_hash, instrument, submitted_at``; ``sub`` is a
        running number 0..n-1 the answers refer to.
    answers
        ``sub, item, value`` (numeric answers only).

    Returns
    -------
    int
        The number of submissions stored.
    """
    with store.atomic() as c:
        auth = store._id_map("authorities", "code")
        waves = store._id_map("waves", "label")
        now = _now()
        _insert(store, "participants", ["authority_id", "code", "elements", "created_at"],
                list(zip(participants["authority"].map(auth).astype(int).tolist(), participants["code"].tolist(),
                         participants["elements"].tolist(), [now] * len(participants))))
        pid = {(a, code): i for a, code, i in c.execute(
            "SELECT a.code, p.code, p.id FROM participants p JOIN authorities a ON a.id = p.authority_id WHERE a.cohort_id = ?",
            (store.cohort_id,))}
        ipk = {h: pk for h, pk in c.execute("SELECT hash, pk FROM instruments")}
        base = int(c.execute("SELECT COALESCE(MAX(id), 0) FROM submissions").fetchone()[0]) + 1
        sub_ids = submissions["sub"].astype(int) + base
        _insert(store, "submissions", ["id", "participant_id", "wave_id", "instrument_pk", "instrument_id", "source", "submitted_at"],
                list(zip(sub_ids.tolist(),
                         [pid[(a, p)] for a, p in zip(submissions["authority"], submissions["code"])],
                         submissions["wave"].map(waves).astype(int).tolist(),
                         submissions["instrument_hash"].map(ipk).astype(int).tolist(),
                         submissions["instrument"].tolist(), ["demo"] * len(submissions), submissions["submitted_at"].tolist())))
        _insert(store, "answers", ["submission_id", "item", "value"],
                list(zip((answers["sub"].astype(int) + base).tolist(), answers["item"].tolist(), answers["value"].astype(float).tolist())))
        if store.dialect == "postgresql":
            c.execute("SELECT setval(pg_get_serial_sequence('submissions', 'id'), (SELECT MAX(id) FROM submissions))")
    return len(submissions)
