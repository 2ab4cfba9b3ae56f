"""Privacy: the one place that decides what may be shown (DESIGN §6).

Every aggregate that leaves the library for a person (report, dashboard, CLI,
export of aggregates) passes through this module:

* **Minimum group size** ``k`` (the cohort's ``min_group_size``, default 5): a cell
  with fewer than ``k`` respondents is *suppressed*: it keeps its ``n`` and gets
  ``suppressed = True``, its estimates become NaN (null in JSON).
* **Derivable values** (one value minus another isolating fewer than ``k`` people) are
  decided by the release API and its planner (:mod:`.release`, :mod:`.plan`), not here.
* **Paired change** is shown only with at least ``k`` matched pairs (use
  :func:`suppress` with ``n="n_pairs"``).
* **Free text** is shown only for groups with at least ``k`` respondents.

Example
-------
>>> df = pd.DataFrame({"authority": ["A", "B"], "n": [12, 3], "mean": [3.2, 4.1]})
>>> suppress(df, k=5).to_dict("records")
[{'authority': 'A', 'n': 12, 'mean': 3.2, 'suppressed': False}, {'authority': 'B', 'n': 3, 'mean': nan, 'suppressed': True}]
"""

from __future__ import annotations

import logging
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..exceptions import DataError, PrivacyError

__all__ = [
    "DEFAULT_K",
    "SUPPRESSED_NOTE",
    "resolve_k",
    "estimate_columns",
    "suppress",
    "group_summary",
    "visible_texts",
]

log = logging.getLogger("toolkit")

DEFAULT_K = 5
SUPPRESSED_NOTE = {
    "de": "zu wenige Antworten, um dies anonym darzustellen",
    "en": "too few responses to show this anonymously",
}


def resolve_k(store: Any = None, override: int | None = None) -> int:
    """The minimum group size to apply.

    Parameters
    ----------
    store
        A :class:`~toolkit.store.Store` (its cohort setting counts), the cohort's
        ``min_group_size`` as a number (e.g. from a report's cached cohort data), or None.
    override
        A stricter threshold for one output (e.g. a report's ``min_group_size``
        parameter); None uses the cohort's setting.

    Returns
    -------
    int
        ``override`` if given, else the cohort's ``min_group_size``, else 5.

    Raises
    ------
    PrivacyError
        If ``override`` is below 1 or below the cohort's setting: the cohort's
        threshold is the agreed minimum; change it deliberately with
        ``Store.set_min_group_size`` instead.

    Example
    -------
    >>> resolve_k(None), resolve_k(None, 8), resolve_k(7)
    (5, 8, 7)
    """
    if store is None:
        base = DEFAULT_K
    elif isinstance(store, (int, np.integer)) and not isinstance(store, bool):
        base = int(store)
    else:
        base = int(store.min_group_size)
    if override is None:
        return base
    try:
        k = int(override)
    except (TypeError, ValueError):
        raise PrivacyError(f"min_group_size must be a whole number, not {override!r}") from None
    if k != override or k < 1:
        raise PrivacyError(f"min_group_size must be a whole number of at least 1, not {override!r}")
    if store is not None and k < base:
        raise PrivacyError(
            f"min_group_size {k} is below the cohort's setting {base}; the cohort's threshold is the agreed minimum. "
            "Use a value of at least that, or change the cohort setting with Store.set_min_group_size()"
        )
    return k


def _check_k(k: Any) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise PrivacyError(f"k (the minimum group size) must be a whole number of at least 1, not {k!r}; use resolve_k()")
    return int(k)


def estimate_columns(df: pd.DataFrame, *, n: str = "n", keys: Sequence[str] = ()) -> list[str]:
    """The columns :func:`suppress` hides by default.

    All numeric, non-boolean columns except ``n``, counts (names starting with
    ``n_``), ``suppressed`` and the given grouping ``keys``.

    Example
    -------
    >>> estimate_columns(pd.DataFrame({"wave": ["t0"], "n": [3], "n_items": [3], "mean": [1.0], "rank": [1]}))
    ['mean', 'rank']
    """
    out = []
    for col in df.columns:
        if col in (n, "suppressed") or col in keys or str(col).startswith("n_"):
            continue
        dtype = df[col].dtype
        if pd.api.types.is_bool_dtype(dtype) or not pd.api.types.is_numeric_dtype(dtype):
            continue
        out.append(col)
    return out


def _hide(df: pd.DataFrame, hide: np.ndarray, estimates: Sequence[str]) -> None:
    for col in estimates:
        if not pd.api.types.is_float_dtype(df[col].dtype):
            df[col] = df[col].astype(float)
        df.loc[hide, col] = np.nan


def suppress(
    df: pd.DataFrame,
    *,
    k: int,
    n: str = "n",
    estimates: Sequence[str] | None = None,
    keys: Sequence[str] = (),
) -> pd.DataFrame:
    """Primary suppression: hide the estimates of every row with ``n < k``.

    Parameters
    ----------
    df
        One row per cell with a count column.
    k
        Minimum group size (see :func:`resolve_k`).
    n
        The count column (respondents; ``n_pairs`` for paired change). A missing
        count counts as too small.
    estimates
        Columns to hide (default: :func:`estimate_columns`).
    keys
        Numeric grouping columns never to hide (only needed with the default estimates).

    Returns
    -------
    DataFrame
        A copy with ``suppressed`` (bool; rows already marked stay suppressed) and the
        estimate columns set to NaN where suppressed; ``n`` stays.

    Example
    -------
    >>> suppress(pd.DataFrame({"n_pairs": [4, 9], "mean_diff": [0.2, 0.3]}), k=5, n="n_pairs")["mean_diff"].tolist()
    [nan, 0.3]
    """
    k = _check_k(k)
    if n not in df.columns:
        raise DataError(f"cannot suppress: the frame has no count column {n!r} (columns: {', '.join(map(str, df.columns))})")
    out = df.copy()
    cols = list(estimates) if estimates is not None else estimate_columns(df, n=n, keys=keys)
    missing = [c for c in cols if c not in out.columns]
    if missing:
        raise DataError(f"cannot suppress: estimate column(s) {', '.join(missing)} not in the frame")
    counts = pd.to_numeric(out[n], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    hide = ~(counts >= k)
    if "suppressed" in out.columns:
        hide |= out["suppressed"].fillna(True).to_numpy(dtype=bool)
    _hide(out, hide, cols)
    out["suppressed"] = hide
    return out


def _by_list(by: str | Sequence[str] | None) -> list[str]:
    if by is None:
        return []
    return [by] if isinstance(by, str) else list(by)


def group_summary(df: pd.DataFrame, by: str | Sequence[str] | None, value: str = "score", *, k: int) -> pd.DataFrame:
    """Descriptive statistics per group, with primary suppression applied.

    Parameters
    ----------
    df
        Tidy frame with a ``participant`` column and the ``value`` column (e.g. the
        frame of :func:`toolkit.scoring.dimension_scores`). Rows are observations;
        filter to one wave or put ``wave`` into ``by``.
    by
        Grouping columns (``()``/None: one row for the whole frame).
    value
        The column to describe.
    k
        Minimum group size.

    Returns
    -------
    DataFrame
        ``<by...>, n, mean, sd, median, q1, q3, ci_low, ci_high, suppressed`` where
        ``n`` counts distinct participants with a valid value (within authorities),
        ``sd`` has ddof 1, quartiles are linearly interpolated (R type 7), and the 95 %
        CI of the mean is t-based. Suppressed rows (n < k) have NaN estimates.

    Example
    -------
    >>> d = pd.DataFrame({"g": ["a"] * 5 + ["b"] * 2, "participant": list("pqrstuv"), "score": [1.0, 2, 3, 4, 5, 1, 2]})
    >>> group_summary(d, "g", k=5)[["g", "n", "mean", "suppressed"]].to_dict("records")
    [{'g': 'a', 'n': 5, 'mean': 3.0, 'suppressed': False}, {'g': 'b', 'n': 2, 'mean': nan, 'suppressed': True}]
    """
    by = _by_list(by)
    for col in [*by, value, "participant"]:
        if col not in df.columns:
            raise DataError(f"group_summary: the frame has no column {col!r} (columns: {', '.join(map(str, df.columns))})")
    cols = [*by, "n", "mean", "sd", "median", "q1", "q3", "ci_low", "ci_high"]
    data = df.loc[df[value].notna()]
    who = ["authority", "participant"] if "authority" in data.columns else ["participant"]
    if by:
        grouped = data.groupby(by, sort=True, observed=True, dropna=False)
        stats = grouped[value].agg(["size", "mean", "std", "median"])
        stats["q1"] = grouped[value].quantile(0.25)
        stats["q3"] = grouped[value].quantile(0.75)
        if who == ["participant"]:
            stats["n"] = grouped["participant"].nunique()
        else:
            stats["n"] = data.drop_duplicates([*by, *who]).groupby(by, sort=True, observed=True, dropna=False).size()
        stats = stats.reset_index()
    else:
        v = data[value]
        stats = pd.DataFrame([{
            "size": len(v), "mean": v.mean(), "std": v.std(), "median": v.median(),
            "q1": v.quantile(0.25), "q3": v.quantile(0.75), "n": len(data.drop_duplicates(who)),
        }])
    stats = stats.rename(columns={"std": "sd"})
    size = stats["size"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        from scipy import stats as _st  # imported when needed: `upo report` with nothing to do never loads scipy

        half = _st.t.ppf(0.975, size - 1) * stats["sd"].to_numpy(dtype=float) / np.sqrt(size)
    stats["ci_low"] = stats["mean"] - half
    stats["ci_high"] = stats["mean"] + half
    stats["n"] = stats["n"].astype(np.int64)
    return suppress(stats[cols], k=k, keys=by)


def visible_texts(
    texts_df: pd.DataFrame,
    by: str | Sequence[str] | None,
    *,
    k: int,
    respondents: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Free-text answers of the groups with at least ``k`` respondents.

    Parameters
    ----------
    texts_df
        The frame of :meth:`Store.texts`.
    by
        Grouping columns (e.g. ``["authority", "wave"]``); None: the whole frame.
    k
        Minimum group size.
    respondents
        Optional frame of everyone who answered (e.g. :meth:`Store.responses`) to
        count respondents per group; default: the participants who wrote text
        (stricter).

    Returns
    -------
    DataFrame
        The rows of visible groups, sorted by group, item and text (not in
        submission order, so the order reveals nothing).

    Example
    -------
    >>> t = pd.DataFrame({"authority": ["A"] * 2 + ["B"] * 5, "participant": list("pqrstuv"), "item": "x",
    ...                   "text": list("abcdefg")})
    >>> visible_texts(t, "authority", k=5)["authority"].unique().tolist()
    ['B']
    """
    k = _check_k(k)
    by = _by_list(by)
    who = ["authority", "participant"] if "authority" in texts_df.columns else ["participant"]
    source = texts_df if respondents is None else respondents
    for col in [*by, *who]:
        if col not in source.columns or col not in texts_df.columns:
            raise DataError(f"visible_texts: column {col!r} missing in the texts or respondents frame")
    if by:
        counts = source.drop_duplicates([*by, *who]).groupby(by, observed=True, dropna=False).size()
        ok_groups = counts[counts >= k].index
        key = pd.MultiIndex.from_frame(texts_df[by]) if len(by) > 1 else pd.Index(texts_df[by[0]])
        keep = key.isin(ok_groups)
        out = texts_df.loc[keep]
    else:
        out = texts_df if len(source.drop_duplicates(who)) >= k else texts_df.iloc[0:0]
    hidden = len(texts_df) - len(out)
    if hidden:
        log.info("visible_texts: %d text(s) withheld (groups below %d respondents)", hidden, k)
    sort = [c for c in [*by, "item", "text"] if c in out.columns]
    return out.sort_values(sort, kind="stable").reset_index(drop=True) if sort else out.reset_index(drop=True)
