"""The batch cache minimising step as it was before (verbatim, for tests/test_context_speed.py)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pandas as pd

from toolkit.reports.context import CohortData


def _first(column: pd.Series) -> Any:
    """The first non-missing value of a column (None if there is none)."""
    for x in column:
        if x is not None and not (isinstance(x, float) and x != x):
            return x
    return None


def _minimised(data: CohortData) -> CohortData:
    """A copy for the report kernels: per-batch numbers instead of pseudonyms, free text only of groups of k or more."""
    k = int(data.cohort["min_group_size"])
    seen: dict[Any, str] = {}
    for frame in [*data.responses.values(), *data.texts.values()]:
        for p in pd.unique(frame["participant"]):
            seen.setdefault(p, f"R{len(seen) + 1}")

    def recode_id(p: Any) -> Any:  # a participant, or "authority|participant" as the disclosure planner names people
        if p in seen:
            return seen[p]
        if isinstance(p, str) and "|" in p:
            authority, who = p.rsplit("|", 1)
            return f"{authority}|{seen.get(who, who)}"
        return p

    def recode_set(people: Any) -> Any:
        return frozenset(recode_id(p) for p in people)

    def recode(df: Any) -> Any:
        if not isinstance(df, pd.DataFrame) or not seen:
            return df
        sets = [c for c in df.columns if df[c].dtype == object and isinstance(_first(df[c]), (set, frozenset))]
        if "participant" in df.columns or sets:
            df = df.copy()
        if "participant" in df.columns:
            df["participant"] = df["participant"].map(seen).fillna(df["participant"])
        for c in sets:  # respondent sets (e.g. the planner's pairs): the same numbers as the answers
            df[c] = [recode_set(x) if isinstance(x, (set, frozenset)) else x for x in df[c]]
        return df

    texts = {}
    for inst_id, frame in data.texts.items():
        frame = recode(frame)
        resp = recode(data.responses.get(inst_id, pd.DataFrame(columns=["authority", "wave", "participant"])))
        n_resp = resp.groupby(["authority", "wave"], observed=True)["participant"].nunique()
        n_text = frame.groupby(["authority", "wave"], observed=True)["participant"].nunique()
        keys = list(zip(frame["authority"], frame["wave"]))
        n = [n_resp.get(key, 0) or n_text.get(key, 0) for key in keys]
        frame.loc[[x < k for x in n], "text"] = None  # the row stays (the report still sees the wave), the words go
        texts[inst_id] = frame
    return dataclasses.replace(
        data,
        responses={i: recode(r) for i, r in data.responses.items()},
        texts=texts,
        _derived={name: recode(v) for name, v in data._derived.items()},
    )
