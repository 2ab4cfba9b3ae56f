"""Measures a workshop group agrees on: what, who, by when, per dimension or stakeholder.

The facilitator records them in the presenter view of ``upo workshop``; reports show
them beside the results of that field (and, in the next wave, beside its change).

Example
-------
>>> import tempfile, pathlib
>>> from toolkit.store import Store
>>> db = Store.init(pathlib.Path(tempfile.mkdtemp()) / "c.sqlite")
>>> db.add_authority("BVA"); db.add_wave("t0"); _ = db.add_instrument("competence_reflection")
>>> mid = db.add_measure("Schulung Datenschutz", instrument="competence_reflection", wave="t0",
...                      authority="BVA", dimension="data_protection_security", who="Referat Z2", due="2027-03-31")
>>> db.measures()[["authority", "dimension", "what", "who", "due"]].to_dict("records")
[{'authority': 'BVA', 'dimension': 'data_protection_security', 'what': 'Schulung Datenschutz', 'who': 'Referat Z2', 'due': '2027-03-31'}]
"""

from __future__ import annotations

import datetime as _dt
import sqlite3
from typing import TYPE_CHECKING, Any, Sequence

from ..exceptions import DataError
from .schema import _now

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["MeasuresMixin", "MEASURE_COLUMNS", "WHAT_MAX"]

MEASURE_COLUMNS = ["id", "authority", "ministry", "wave", "instrument", "dimension", "stakeholder", "what", "who", "due", "recorded_at"]
WHAT_MAX = 500  # characters of a measure's text (checked, never cut)


class MeasuresMixin:
    """Writes and reads of the ``measures`` table (a part of :class:`~toolkit.store.Store`)."""

    conn: sqlite3.Connection
    cohort_id: int

    def add_measure(
        self,
        what: str,
        *,
        instrument: str,
        wave: str,
        authority: str | None = None,
        dimension: str | None = None,
        stakeholder: str | None = None,
        who: str | None = None,
        due: str | _dt.date | None = None,
    ) -> int:
        """Record one agreed measure; returns its id.

        Parameters
        ----------
        what
            The measure (required, at most :data:`WHAT_MAX` characters).
        instrument, wave, authority
            The workshop session it belongs to (``authority`` None: the whole session).
        dimension, stakeholder
            The field it addresses: a dimension id of the instrument, or a stakeholder key/name.
        who, due
            Who takes it on, and by when (an ISO date ``YYYY-MM-DD``).

        Raises
        ------
        DataError
            Empty or too long text, unknown wave, authority, instrument or dimension, or a due date that is no date.
        """
        text = " ".join(str(what or "").split())
        if not text:
            raise DataError("a measure needs a text (what is to be done)")
        for label, value, limit in (("what", text, WHAT_MAX), ("who", who, 200), ("stakeholder", stakeholder, 200)):
            if value is not None and len(str(value)) > limit:
                raise DataError(f"measure {label!r}: {len(str(value))} characters, at most {limit} are allowed; shorten it")
        due_text = None
        if due not in (None, ""):
            try:
                due_text = (due if isinstance(due, _dt.date) else _dt.date.fromisoformat(str(due).strip())).isoformat()
            except ValueError:
                raise DataError(f"measure due date {due!r} is not a date; give it as YYYY-MM-DD, e.g. 2027-03-31") from None
        inst = self.instrument(instrument)  # type: ignore[attr-defined]
        if dimension is not None and dimension not in {d.id for d in inst.dimensions}:
            known = ", ".join(d.id for d in inst.dimensions)
            raise DataError(f"dimension {dimension!r} is not in instrument {inst.id!r}; known: {known}")
        self.require_wave(wave)  # type: ignore[attr-defined]
        if authority is not None:
            self.require_authority(authority)  # type: ignore[attr-defined]
        with self.atomic() as c:  # type: ignore[attr-defined]
            aid = c.execute("SELECT id FROM authorities WHERE cohort_id = ? AND code = ?", (self.cohort_id, authority)).fetchone() if authority else None
            wid = c.execute("SELECT id FROM waves WHERE cohort_id = ? AND label = ?", (self.cohort_id, wave)).fetchone()
            cur = c.execute(
                "INSERT INTO measures (cohort_id, authority_id, wave_id, instrument_id, dimension, stakeholder, what, who, due, recorded_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (self.cohort_id, aid[0] if aid else None, wid[0], inst.id, dimension, " ".join(str(stakeholder).split()) if stakeholder else None,
                 text, " ".join(str(who).split()) if who else None, due_text, _now()),
            )
            return int(cur.lastrowid)

    def delete_measure(self, measure_id: int) -> bool:
        """Remove a measure recorded by mistake; returns whether it existed."""
        with self.atomic() as c:  # type: ignore[attr-defined]
            cur = c.execute("DELETE FROM measures WHERE id = ? AND cohort_id = ?", (int(measure_id), self.cohort_id))
            return cur.rowcount > 0

    def measures(
        self,
        *,
        instrument: str | None = None,
        wave: str | Sequence[str] | None = None,
        authority: str | Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """The recorded measures as a tidy frame.

        Returns
        -------
        DataFrame
            ``id, authority, ministry, wave, instrument, dimension, stakeholder, what, who, due, recorded_at``,
            one row per measure in the order recorded; ``authority`` is None for a measure of a whole
            session across authorities. Filters take one value or a list.
        """
        import pandas as pd

        clauses, params = ["m.cohort_id = ?"], [self.cohort_id]
        for col, val in (("m.instrument_id", instrument), ("w.label", wave), ("a.code", authority)):
            if val is None:
                continue
            vals = [val] if isinstance(val, str) else list(val)
            clauses.append(f"{col} IN ({','.join('?' * len(vals))})")
            params.extend(vals)
        rows: list[Any] = self.conn.execute(
            f"""SELECT m.id, a.code, a.ministry, w.label, m.instrument_id, m.dimension, m.stakeholder, m.what, m.who, m.due, m.recorded_at
                FROM measures m JOIN waves w ON w.id = m.wave_id LEFT JOIN authorities a ON a.id = m.authority_id
                WHERE {' AND '.join(clauses)} ORDER BY m.id""",
            params,
        ).fetchall()
        return pd.DataFrame([tuple(r) for r in rows], columns=MEASURE_COLUMNS).astype({"id": "int64"})
