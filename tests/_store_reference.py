"""The tidy read of answers as it was before the columnar read (verbatim, for tests/test_store_reads.py).

``old_read(store, column, ...)`` builds the frame the way ``ReadsMixin._read`` did: fetch rows, merge with
the submissions and items with pandas, sort on the string columns.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from toolkit.store.dialect import read_sql
from toolkit.store.schema import TIDY_COLUMNS


def old_read(self: Any, column: str, *, instrument: str | None = None, wave: Any = None, authority: Any = None, latest: bool = True,
             linked: bool = True) -> pd.DataFrame:
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
    items = read_sql("SELECT instrument_pk, item, dimension, position AS item_pos FROM instrument_items", self.conn)
    df = ans.merge(meta, on="submission", how="inner").merge(items, on=["instrument_pk", "item"], how="left")
    stake = dict(self.conn.execute("SELECT id, key FROM stakeholders"))
    df["stakeholder"] = df["stakeholder_id"].map(stake).astype(object).where(df["stakeholder_id"].notna(), None)
    df = df.sort_values(["wave_pos", "authority", "participant", "instrument", "item_pos", "stakeholder"], kind="stable", na_position="first")
    out = df[cols].reset_index(drop=True)
    out["wave"] = pd.Categorical(out["wave"], categories=list(self.waves()["wave"]), ordered=True)
    if not text:
        out["value"] = out["value"].astype(float)
    return out
