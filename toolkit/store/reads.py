"""Reads of the cohort database: tidy frames, participant links, counts, fingerprints."""

from __future__ import annotations

import json
import sqlite3
from typing import TYPE_CHECKING, Any, Sequence

from .. import codes as _codes
from .dialect import read_sql
from .schema import TIDY_COLUMNS

if TYPE_CHECKING:  # pandas is imported where a frame is built: opening a store needs only sqlite3
    import pandas as pd

__all__ = ["ReadsMixin"]


def _take(column: pd.Series, rows: Any) -> Any:
    """``column.array.take(rows)`` through the column's distinct values (a small contiguous array: fast for Arrow strings)."""
    import pandas as pd

    codes, uniques = pd.factorize(column, use_na_sentinel=True)
    if (codes < 0).any():  # a missing value: take as it is
        return column.array.take(rows)
    return uniques.array.take(codes[rows])


class ReadsMixin:
    """The read side of :class:`~toolkit.store.Store` (all SQL stays in this package)."""

    conn: sqlite3.Connection
    cohort_id: int

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
        meta = read_sql(
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
        """The tidy frame of numeric answers (``value``) or free text (``text``), sorted by wave, authority,
        participant, instrument, item position and stakeholder."""
        return self._read_many((column,), instrument=instrument, wave=wave, authority=authority, latest=latest, linked=linked)[column]

    def _read_many(self, columns: Sequence[str], *, instrument: str | None, wave: Any, authority: Any, latest: bool,
                   linked: bool) -> dict[str, pd.DataFrame]:
        """:meth:`_read` of ``value`` and/or ``text`` from one pass over the answers.

        Columnar: the answers come as plain columns (submission id, item, stakeholder id, value or
        text); everything per submission (authority, ministry, participant, wave, instrument) is
        looked up by the submission's row in the small ``meta`` frame, the sort runs on integer ranks
        instead of strings, and the string columns are built once at the end from those rows.
        """
        import gc

        import numpy as np
        import pandas as pd

        meta = self._meta(instrument, wave, authority, latest, linked)
        if meta.empty:
            out = {}
            for column in columns:
                frame = pd.DataFrame({c: pd.Series(dtype=object) for c in TIDY_COLUMNS[:-1] + [column]})
                frame["wave"] = pd.Categorical([], categories=self.wave_labels(), ordered=True)
                if column == "value":
                    frame["value"] = frame["value"].astype(float)
                out[column] = frame
            return out
        both = len(set(columns)) > 1
        if both:
            what, kind = "ans.value, ans.text", "1 = 1"
        else:
            what, kind = f"ans.{columns[0]}", "ans.text IS NOT NULL" if columns[0] == "text" else "ans.text IS NULL"
        ids = meta["submission"].to_numpy(dtype=np.int64)
        lo, hi = int(ids.min()), int(ids.max())
        scan = getattr(self, "dialect", "sqlite") == "sqlite" and len(ids) * 4 >= hi - lo + 1
        if scan:  # most submissions in the range: one pass over the table in rowid order beats an index seek per submission
            cur = self.conn.execute(
                f"""SELECT ans.submission_id, ans.item, ans.stakeholder_id, {what} FROM answers ans NOT INDEXED
                    WHERE ans.submission_id BETWEEN ? AND ? AND {kind}""", (lo, hi))
        else:
            cur = self.conn.execute(
                f"""SELECT ans.submission_id, ans.item, ans.stakeholder_id, {what} FROM answers ans
                    WHERE ans.submission_id IN (SELECT value FROM json_each(?)) AND {kind}""",
                (json.dumps(ids.tolist()),),
            )
        enabled = gc.isenabled()
        gc.disable()  # millions of short-lived row tuples: the cyclic collector would scan them again and again
        try:
            rows = cur.fetchall()
            n = len(rows)
            fetched = list(zip(*rows)) if n else [() for _ in range(5 if both else 4)]
            del rows
            sub = np.fromiter(fetched[0], dtype=np.int64, count=n)
            items = np.array(fetched[1], dtype=object) if n else np.empty(0, object)
            stake = np.array(fetched[2], dtype=float) if n else np.empty(0)
            if both:
                texts = np.array(fetched[4], dtype=object)
                is_text = np.not_equal(texts, None) if n else np.zeros(0, bool)
                parts = {"value": (~is_text, np.array(fetched[3], dtype=float) if n else np.empty(0)), "text": (is_text, texts)}
            elif columns[0] == "text":
                parts = {"text": (None, np.array(fetched[3], dtype=object))}
            else:
                parts = {"value": (None, np.array(fetched[3], dtype=float) if n else np.empty(0))}
            del fetched
        finally:
            if enabled:
                gc.enable()
        if scan:  # the range also held other submissions (other instruments, corrections): keep those of meta
            wanted = np.isin(sub, ids)
            if not wanted.all():
                sub, items, stake = sub[wanted], items[wanted], stake[wanted]
                parts = {c: (m if m is None else m[wanted], v[wanted]) for c, (m, v) in parts.items()}
        out = {}
        for column, (mask, values) in parts.items():
            if mask is None:
                out[column] = self._frame(meta, column, sub, items, stake, values)
            else:
                out[column] = self._frame(meta, column, sub[mask], items[mask], stake[mask], values[mask])
        return out

    def _frame(self, meta: pd.DataFrame, column: str, sub: Any, item_col: Any, stake_id: Any, values: Any) -> pd.DataFrame:
        """The sorted tidy frame of fetched answer columns (see :meth:`_read_many`)."""
        import numpy as np
        import pandas as pd

        text = column == "text"
        cols = TIDY_COLUMNS[:-1] + [column]
        n = len(sub)
        item_codes, item_names = pd.factorize(item_col) if n else (np.empty(0, np.int64), np.empty(0, object))
        # each answer's submission: its row in meta (every fetched submission is in meta)
        msub = meta["submission"].to_numpy(dtype=np.int64)
        morder = np.argsort(msub, kind="stable")
        row = morder[np.searchsorted(msub, sub, sorter=morder)]
        # item -> dimension and position, per instrument version of the submission
        items = read_sql("SELECT instrument_pk, item, dimension, position AS item_pos FROM instrument_items", self.conn)
        pks = meta["instrument_pk"].to_numpy(dtype=np.int64)
        pk_codes, pk_values = pd.factorize(pks)
        lookup = pd.MultiIndex.from_arrays([pd.Index(pk_values).get_indexer(items["instrument_pk"].to_numpy()),
                                            pd.Index(item_names).get_indexer(items["item"].astype(object).to_numpy())])
        keep = (lookup.codes[0] >= 0) if len(items) else np.zeros(0, bool)
        table = np.full((len(pk_values), len(item_names)), -1, dtype=np.int64)  # -> row of items, -1: unknown item
        li = lookup.get_level_values(0).to_numpy()
        lj = lookup.get_level_values(1).to_numpy()
        ok = keep & (li >= 0) & (lj >= 0)
        table[li[ok], lj[ok]] = np.flatnonzero(ok)
        irow = table[pk_codes[row], item_codes] if n else np.empty(0, np.int64)
        ipos = items["item_pos"].to_numpy(dtype=float)
        item_pos = np.where(irow >= 0, ipos[np.maximum(irow, 0)] if len(ipos) else np.nan, np.nan)
        stake = dict(self.conn.execute("SELECT id, key FROM stakeholders"))
        # the sort of the tidy frame, on integer ranks: wave, authority, participant, instrument, item position, stakeholder
        mkey = meta[["wave_pos", "authority", "participant", "instrument"]].copy()
        mrank = np.empty(len(meta), dtype=np.int64)
        mrank[np.lexsort([pd.factorize(mkey[c], sort=True)[0] for c in reversed(mkey.columns)])] = np.arange(len(meta))
        keys = sorted(set(stake.values()))
        key_rank = {key: i for i, key in enumerate(keys)}
        srank = np.array([key_rank[stake[int(s)]] if s == s and int(s) in stake else -1 for s in np.unique(stake_id)], dtype=np.int64) \
            if n else np.empty(0, np.int64)
        s_unique, s_inv = np.unique(stake_id, return_inverse=True) if n else (np.empty(0), np.empty(0, np.int64))
        stake_rank = srank[s_inv] if n else s_inv
        pos_rank = np.where(np.isnan(item_pos), -1.0, item_pos)
        order = np.lexsort([stake_rank, pos_rank, mrank[row]]) if n else np.empty(0, np.int64)  # stable: ties keep the fetch order
        r = row[order]
        out = pd.DataFrame({c: _take(meta[c], r) for c in ("authority", "ministry", "participant", "instrument")})
        wave_labels = self.wave_labels()
        wave_codes = pd.Index(wave_labels).get_indexer(meta["wave"].astype(object).to_numpy())
        out.insert(3, "wave", pd.Categorical.from_codes(wave_codes[r], categories=wave_labels, ordered=True))
        out["dimension"] = items["dimension"].array.take(irow[order], allow_fill=True) if n else items["dimension"].array.take(np.empty(0, np.int64))
        out["item"] = pd.Series(pd.array(np.asarray(item_names, dtype=object), dtype="str").take(item_codes[order]) if n else np.empty(0, object),
                                dtype="str" if n else object)
        s_keys = np.array([stake.get(int(s)) if s == s else None for s in s_unique], dtype=object)
        out["stakeholder"] = pd.Series(s_keys[s_inv[order]] if n else np.empty(0, object), dtype=object)
        if text:
            out[column] = pd.Series(values[order], dtype="str" if n else object)
        else:
            out[column] = values[order]
        return out[cols]

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

    def responses_and_texts(self, instrument: str | None = None, *, linked: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
        """``(responses(instrument), texts(instrument))`` from one pass over the stored answers (the latest submissions)."""
        both = self._read_many(("value", "text"), instrument=instrument, wave=None, authority=None, latest=True, linked=linked)
        return both["value"], both["text"]

    def participant_codes(self) -> pd.DataFrame:
        """Participant records with the waves they answered: ``authority, participant, wave, elements``."""
        return read_sql(
            """
            SELECT a.code AS authority, p.code AS participant, w.label AS wave, p.elements AS elements
            FROM submissions s JOIN participants p ON p.id = s.participant_id
            JOIN authorities a ON a.id = p.authority_id JOIN waves w ON w.id = s.wave_id
            WHERE a.cohort_id = ? GROUP BY a.code, p.id, p.code, p.elements, w.position, w.label
            ORDER BY a.code, w.position, p.id
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
        import pandas as pd

        recs = self.participant_codes()
        recs["wave"] = pd.Categorical(recs["wave"], categories=self.wave_labels(), ordered=True)
        return _codes.linking_summary(recs, _codes.link_codes(recs))

    def submissions(self, *, latest: bool = False) -> pd.DataFrame:
        """Submission metadata: ``submission, authority, participant, wave, instrument, version, source, submitted_at``."""
        latest_sql = " AND s.id IN (SELECT MAX(id) FROM submissions GROUP BY participant_id, wave_id, instrument_id)" if latest else ""
        return read_sql(
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

    def latest_submitted_at(self) -> str | None:
        """The latest ``submitted_at`` of the latest submissions (``submissions(latest=True)["submitted_at"].max()``,
        None without any), from the database instead of the whole table."""
        row = self.conn.execute(
            """SELECT MAX(s.submitted_at) FROM submissions s JOIN participants p ON p.id = s.participant_id
               JOIN authorities a ON a.id = p.authority_id
               WHERE a.cohort_id = ? AND s.id IN (SELECT MAX(id) FROM submissions GROUP BY participant_id, wave_id, instrument_id)""",
            (self.cohort_id,),
        ).fetchone()
        return None if row is None or row[0] is None else str(row[0])

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

    def outcomes(self, kind: str | None = None) -> pd.DataFrame:
        """Frozen results: ``id, kind, authority, wave, instrument, created_at, payload`` (payload parsed)."""
        df = read_sql(
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
        from .fingerprint import data_fingerprint

        return data_fingerprint(self.conn, self.cohort_id, authority)
