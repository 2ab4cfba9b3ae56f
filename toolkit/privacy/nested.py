"""Totals over nested groups and paired subsets that leave no small remainder to subtract.

Reports, dashboard and command line together show the same statistic for nested
groups: every authority with at least ``k`` respondents (in its own report), its
ministry and the whole cohort. A total minus the shown groups inside it is the sum of
the groups that are not shown; if those have fewer than ``k`` respondents together,
they are recovered by subtraction. Since an authority's own report always shows its
own figures, it is the *total* that is hidden in that case (:func:`nested_plan`).

Likewise a paired change (people who answered both waves) next to the wave means of
the same group reveals the people who answered only one wave unless they are none or
at least ``k`` (:func:`paired_visible`).

Example
-------
>>> cells = pd.DataFrame({"ministry": ["M1", "M1", "M2", "M2"], "authority": ["A", "B", "C", "D"], "n": [12, 3, 9, 8]})
>>> plan = nested_plan(cells, k=5, levels=["ministry", "authority"])
>>> plan[["level", "group", "n", "residual", "shown"]].to_dict("records")[-3:]
[{'level': 'ministry', 'group': 'M1', 'n': 15, 'residual': 3, 'shown': False}, {'level': 'ministry', 'group': 'M2', 'n': 17, 'residual': 0, 'shown': True}, {'level': 'total', 'group': None, 'n': 32, 'residual': 3, 'shown': False}]
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..exceptions import DataError
from .core import _check_k

__all__ = ["nested_plan", "plan_shown", "paired_visible"]


def _safe(n: np.ndarray, covered: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    residual = n - covered
    return residual, (n >= k) & ~((residual > 0) & (residual < k))


def nested_plan(
    counts: pd.DataFrame,
    *,
    k: int,
    levels: Sequence[str],
    cell: Sequence[str] = (),
    n: str = "n",
    shown: str | None = None,
) -> pd.DataFrame:
    """Which totals of a hierarchy (e.g. authority ⊂ ministry ⊂ cohort) may be shown.

    A leaf group (the last of ``levels``) is shown with at least ``k`` respondents. A
    total is shown when it has at least ``k`` respondents and its *residual* — its
    respondents not inside a shown group below it — is 0 or at least ``k``: then no
    combination of shown numbers isolates fewer than ``k`` people.

    Parameters
    ----------
    counts
        One row per leaf group and cell: the ``cell`` columns (e.g. ``wave, dimension``),
        the ``levels`` columns and the count ``n`` (respondents with a valid value).
    k
        Minimum group size.
    levels
        Grouping columns from the outermost to the leaf, e.g. ``["ministry", "authority"]``.
        The whole (per cell) is the level ``"total"``.
    cell
        Columns that separate independent tables (each wave × dimension on its own).
    n
        The count column.
    shown
        Optional boolean column: leaves hidden for other reasons (e.g. a paired change
        hidden by :func:`paired_visible`); a leaf is shown only if it is True and ``n >= k``.

    Returns
    -------
    DataFrame
        ``<cell...>, level, group, n, residual, shown`` for every leaf, every inner group
        and the total (``group`` None), leaves first.
    """
    k = _check_k(k)
    cell, levels = list(cell), list(levels)
    if not levels:
        raise DataError("nested_plan needs at least one level, e.g. levels=['ministry', 'authority']")
    missing = [c for c in [*cell, *levels, n, *([shown] if shown else [])] if c not in counts.columns]
    if missing:
        raise DataError(f"nested_plan: column(s) {', '.join(missing)} not in the counts frame (columns: {', '.join(map(str, counts.columns))})")
    cur = counts[[*cell, *levels]].copy()
    cur["n"] = pd.to_numeric(counts[n], errors="coerce").fillna(0).astype(np.int64).to_numpy()
    leaf_ok = cur["n"].to_numpy() >= k
    if shown:
        leaf_ok &= counts[shown].fillna(False).to_numpy(dtype=bool)
    cur["residual"] = np.where(leaf_ok, 0, cur["n"].to_numpy())
    cur["shown"] = leaf_ok
    cur["_contrib"] = np.where(leaf_ok, cur["n"], 0)
    parts = [cur.assign(level=levels[-1], group=cur[levels[-1]].astype(object))]
    for depth in range(len(levels) - 1, -1, -1):
        keys = [*cell, *levels[:depth]]
        if keys:
            g = cur.groupby(keys, dropna=False, observed=True, sort=False).agg(n=("n", "sum"), _cov=("_contrib", "sum")).reset_index()
        else:
            g = pd.DataFrame({"n": [int(cur["n"].sum())], "_cov": [int(cur["_contrib"].sum())]})
        residual, ok = _safe(g["n"].to_numpy(), g["_cov"].to_numpy(), k)
        g["residual"], g["shown"] = residual, ok
        g["_contrib"] = np.where(ok, g["n"], g["_cov"])
        name = levels[depth - 1] if depth else "total"
        parts.append(g.assign(level=name, group=g[name].astype(object) if depth else None))
        cur = g.drop(columns="_cov")
    out = pd.concat(parts, ignore_index=True)
    out["shown"] = out["shown"].astype(bool)
    return out[[*cell, "level", "group", "n", "residual", "shown"]]


def plan_shown(plan: pd.DataFrame, level: str, frame: pd.DataFrame, *, cell: Sequence[str] = (), group: str | None = None) -> np.ndarray:
    """For each row of ``frame``: is its ``level`` total shown in ``plan``? (False where the plan has no entry.)

    ``group`` names the frame's column holding the group key (default: ``level``; none for ``"total"``).

    Example
    -------
    >>> cells = pd.DataFrame({"ministry": ["M1", "M1"], "authority": ["A", "B"], "n": [12, 3]})
    >>> plan = nested_plan(cells, k=5, levels=["ministry", "authority"])
    >>> plan_shown(plan, "ministry", pd.DataFrame({"ministry": ["M1"]})).tolist()
    [False]
    """
    cell = list(cell)
    sub = plan[plan["level"] == level]
    col = None if level == "total" else (group or level)
    keys = [*cell, *([col] if col else [])]
    right = sub[[*cell, *(["group"] if col else []), "shown"]].rename(columns={"group": col} if col else {})
    if not keys:
        return np.full(len(frame), bool(right["shown"].iloc[0]) if len(right) else False)
    left = frame[keys].copy()
    for c in keys:  # compare as text: categoricals and objects mix otherwise
        left[c] = left[c].astype(object).where(left[c].notna(), None).astype(str)
        right = right.assign(**{c: right[c].astype(object).where(right[c].notna(), None).astype(str)})
    merged = left.merge(right.drop_duplicates(keys), on=keys, how="left")
    return merged["shown"].fillna(False).to_numpy(dtype=bool)


def paired_visible(n_pairs: Any, n_from: Any, n_to: Any, *, k: int) -> np.ndarray:
    """Whether a paired change may be shown next to the wave means of the same group.

    The wave mean of all respondents minus the mean of the paired ones gives the sum of
    those who answered only that wave; so besides ``n_pairs >= k``, the unpaired
    respondents of each wave must be none or at least ``k``.

    Example
    -------
    >>> paired_visible([12, 12, 6], [12, 14, 20], [13, 19, 6], k=5).tolist()
    [False, False, True]
    """
    k = _check_k(k)
    p = np.asarray(n_pairs, dtype=float)
    u0 = np.asarray(n_from, dtype=float) - p
    u1 = np.asarray(n_to, dtype=float) - p
    small = lambda u: (u > 0) & (u < k)  # noqa: E731
    return (p >= k) & ~small(u0) & ~small(u1)
