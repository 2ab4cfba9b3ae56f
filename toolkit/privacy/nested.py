"""Totals over nested groups and paired subsets that leave no small remainder to subtract.

Reports, dashboard and command line together show the same statistic for nested
groups: every authority with at least ``k`` respondents (in its own report), its
ministry and the whole cohort. A total minus the shown groups inside it is the sum of
the groups that are not shown; if those have fewer than ``k`` respondents together,
they are recovered by subtraction. Since an authority's own report always shows its
own figures, it is the *total* that is hidden in that case (:func:`nested_plan`).

Likewise a paired change (people who answered both waves) next to the wave means of
the same group reveals the people who answered only one wave unless they are none or
at least ``k`` together (:func:`paired_visible`).

Example
-------
>>> cells = pd.DataFrame({"ministry": ["M1", "M1", "M2", "M2"], "authority": ["A", "B", "C", "D"], "n": [12, 3, 9, 8]})
>>> plan = nested_plan(cells, k=5, levels=["ministry", "authority"])
>>> plan[["level", "group", "n", "residual", "shown"]].to_dict("records")[-3:]
[{'level': 'ministry', 'group': 'M1', 'n': 15, 'residual': 3, 'shown': False}, {'level': 'ministry', 'group': 'M2', 'n': 17, 'residual': 0, 'shown': True}, {'level': 'total', 'group': None, 'n': 32, 'residual': 3, 'shown': False}]
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from ..exceptions import DataError
from .core import _check_k

__all__ = ["nested_plan", "plan_shown", "paired_visible", "scores_plan", "change_plan"]


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
    carry: Sequence[str] = (),
    veto: Callable[[pd.DataFrame], np.ndarray] | None = None,
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
    carry, veto
        Further count columns summed up the hierarchy, and a function of a level's frame
        (``n``, the ``carry`` columns) returning which groups may be shown at all (e.g.
        :func:`paired_visible` on ``n_from``, ``n_to``), applied at every level.

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
    carry = list(carry)
    cur = counts[[*cell, *levels, *carry]].copy()
    cur["n"] = pd.to_numeric(counts[n], errors="coerce").fillna(0).astype(np.int64).to_numpy()
    leaf_ok = cur["n"].to_numpy() >= k
    if shown:
        leaf_ok &= counts[shown].fillna(False).to_numpy(dtype=bool)
    if veto is not None:
        leaf_ok &= np.asarray(veto(cur), dtype=bool)
    cur["residual"] = np.where(leaf_ok, 0, cur["n"].to_numpy())
    cur["shown"] = leaf_ok
    cur["_contrib"] = np.where(leaf_ok, cur["n"], 0)
    for c in carry:  # the residual's own counts: hidden leaves that add to it (n > 0); a smaller sum is the stricter test
        cur[f"_r_{c}"] = np.where(leaf_ok | (cur["n"].to_numpy() == 0), 0, cur[c].to_numpy())
    parts = [cur.assign(level=levels[-1], group=cur[levels[-1]].astype(object))]
    for depth in range(len(levels) - 1, -1, -1):
        keys = [*cell, *levels[:depth]]
        sums = {"n": ("n", "sum"), "_cov": ("_contrib", "sum"), "_res": ("residual", "sum"),
                **{c: (c, "sum") for c in carry}, **{f"_r_{c}": (f"_r_{c}", "sum") for c in carry}}
        if keys:
            g = cur.groupby(keys, dropna=False, observed=True, sort=False).agg(**sums).reset_index()
        else:
            g = pd.DataFrame({name: [cur[col].sum()] for name, (col, _) in sums.items()})
        residual, ok = _safe(g["n"].to_numpy(), g["_cov"].to_numpy(), k)
        if veto is not None:
            ok &= np.asarray(veto(g), dtype=bool)
            # the residual is what the total reveals beyond the shown groups: it must pass the veto too
            rest = pd.DataFrame({"n": residual, **{c: g[f"_r_{c}"].to_numpy() for c in carry}})
            ok &= (residual == 0) | np.asarray(veto(rest), dtype=bool)
        g["residual"], g["shown"] = residual, ok
        g["_contrib"] = np.where(ok, g["n"], g["_cov"])
        for c in carry:
            g[f"_r_{c}"] = np.where(ok, 0, g[f"_r_{c}"])
        name = levels[depth - 1] if depth else "total"
        parts.append(g.assign(level=name, group=g[name].astype(object) if depth else None))
        cur = g.drop(columns=["_cov", "_res"])
    out = pd.concat(parts, ignore_index=True)
    out["shown"] = out["shown"].astype(bool)
    return out[[*cell, "level", "group", "n", *carry, "residual", "shown"]]


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


def paired_visible(n_pairs: Any, n_from: Any, n_to: Any, *, k: int, separate: bool = False) -> np.ndarray:
    """Whether a paired change may be shown next to the wave means of all respondents of the same group.

    The two wave means and the mean paired difference together give the sum of those
    who answered only the later wave minus the sum of those who answered only the
    first; so besides ``n_pairs >= k``, these unpaired respondents must be none or at
    least ``k`` together. Showing the *paired* means of each wave as well (``separate``)
    needs each wave's unpaired respondents to be none or at least ``k``.

    Example
    -------
    >>> paired_visible([12, 12, 6], [12, 14, 20], [13, 19, 6], k=5).tolist()
    [False, True, True]
    >>> paired_visible([12, 12, 6], [12, 14, 20], [13, 19, 6], k=5, separate=True).tolist()
    [False, False, True]
    """
    k = _check_k(k)
    p = np.asarray(n_pairs, dtype=float)
    u0 = np.asarray(n_from, dtype=float) - p
    u1 = np.asarray(n_to, dtype=float) - p
    small = lambda u: (u > 0) & (u < k)  # noqa: E731
    if separate:
        return (p >= k) & ~small(u0) & ~small(u1)
    return (p >= k) & ~small(u0 + u1)


def scores_plan(scores: pd.DataFrame, *, k: int, value: str = "score", cell: Sequence[str] = ("wave", "dimension")) -> pd.DataFrame:
    """:func:`nested_plan` of a tidy scores frame: authority ⊂ ministry ⊂ cohort, per wave and dimension.

    ``n`` counts participants with a valid ``value`` (as :func:`~toolkit.privacy.group_summary` does).

    Example
    -------
    >>> s = pd.DataFrame({"authority": ["A"] * 6 + ["B"] * 2, "ministry": "M", "participant": list("abcdefgh"),
    ...                   "wave": "t0", "dimension": "x", "score": 3.0})
    >>> [(r.level, r.group, r.shown) for r in scores_plan(s, k=5).itertuples()]
    [('authority', 'A', True), ('authority', 'B', False), ('ministry', 'M', False), ('total', None, False)]
    """
    cell = [c for c in cell if c in scores.columns]
    need = ["authority", "ministry", "participant", value]
    missing = [c for c in need if c not in scores.columns]
    if missing:
        raise DataError(f"scores_plan: the frame lacks column(s) {', '.join(missing)}")
    valid = scores.loc[scores[value].notna(), [*cell, "ministry", "authority", "participant"]]
    counts = valid.drop_duplicates().groupby([*cell, "ministry", "authority"], observed=True, dropna=False).size().rename("n").reset_index()
    return nested_plan(counts, k=k, levels=["ministry", "authority"], cell=cell)


def change_plan(scores: pd.DataFrame, from_wave: str, to_wave: str, *, k: int, value: str = "score") -> pd.DataFrame:
    """Which paired changes (per dimension, for each authority, ministry and the cohort) may be shown.

    Pairs are participants (linked records) with a valid ``value`` in both waves of
    the same authority. A group's change is shown when :func:`paired_visible` allows
    it for its own pairs and wave counts *and* its pairs leave no small remainder
    under the shown groups inside it (:func:`nested_plan` on the pairs).

    Returns
    -------
    DataFrame
        ``dimension, level, group, n (pairs), n_from, n_to, residual, shown``.

    Example
    -------
    >>> s = pd.DataFrame({"authority": "A", "ministry": "M", "participant": list("abcdef") * 2,
    ...                   "wave": ["t0"] * 6 + ["t1"] * 6, "dimension": "x", "score": 3.0})
    >>> change_plan(s, "t0", "t1", k=5)["shown"].tolist()
    [True, True, True]
    """
    waves = scores["wave"].astype(str)
    valid = scores.loc[scores[value].notna(), ["dimension", "ministry", "authority", "participant"]].assign(_w=waves[scores[value].notna()])
    keys = ["dimension", "ministry", "authority"]
    a = valid[valid["_w"] == str(from_wave)].drop(columns="_w").drop_duplicates()
    b = valid[valid["_w"] == str(to_wave)].drop(columns="_w").drop_duplicates()
    n_from = a.groupby(keys, observed=True, dropna=False).size().rename("n_from")
    n_to = b.groupby(keys, observed=True, dropna=False).size().rename("n_to")
    pairs = a.merge(b, on=[*keys, "participant"]).groupby(keys, observed=True, dropna=False).size().rename("n")
    counts = pd.concat([pairs, n_from, n_to], axis=1).fillna(0).astype(np.int64).reset_index()
    return nested_plan(counts, k=k, levels=["ministry", "authority"], cell=["dimension"], carry=["n_from", "n_to"],
                       veto=lambda g: paired_visible(g["n"], g["n_from"], g["n_to"], k=k))
