"""Scoring: missing codes, reverse keying, dimension scores, Ist/Soll gaps, needs, readiness.

Every function takes the tidy responses frame of :meth:`toolkit.store.Store.responses`
(columns ``authority, ministry, participant, wave, instrument, dimension, item,
stakeholder, value``) and the :class:`~toolkit.instruments.Instrument`, and returns a
tidy frame. Nothing is rounded; the input is never changed.

Rules (DESIGN §3):

* A missing code of the item's scale ("cannot judge", e.g. 0) and any value outside
  the scale's range count as missing (NaN).
* A reverse-keyed item is scored as ``(min + max) − value``.
* A dimension score is the mean of the valid scored items (``likert``, ``checklist``)
  and needs at least ``min_valid`` valid items (default: all but one); otherwise NaN.
* One observation is one participant in one wave (``authority, participant, wave``;
  participant codes are unique within an authority). If a frame holds several
  answers to the same item of one observation (``latest=False``), the last one wins.

The work is vectorised: each function reshapes the long frame into an
observation × item matrix once (:func:`item_matrix`) and computes with NumPy.

Example
-------
>>> from toolkit.instruments import resolve_instrument
>>> inst = resolve_instrument("competence_reflection")
>>> resp = pd.DataFrame({"authority": "BVA", "ministry": "BMI", "participant": "P-1", "wave": "t0",
...     "instrument": inst.id, "dimension": "data", "item": ["da1", "da2", "da3"], "stakeholder": None,
...     "value": [4.0, 0.0, 2.0]})
>>> dimension_scores(resp, inst).query("dimension == 'data'")[["score", "n_valid", "n_items"]].to_dict("records")
[{'score': 4.0, 'n_valid': 2, 'n_items': 3}]
"""

from __future__ import annotations

import logging
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from .exceptions import DataError
from .instruments import Instrument

__all__ = [
    "OBS_KEYS",
    "score_items",
    "item_matrix",
    "dimension_scores",
    "gaps",
    "needs_ranking",
    "readiness",
    "overall_readiness",
]

log = logging.getLogger("toolkit")

OBS_KEYS = ["authority", "ministry", "participant", "wave", "instrument"]
"""Columns that identify one observation (participant × wave) in the output frames."""

_REQUIRED = ["authority", "participant", "wave", "item", "value"]


# --------------------------------------------------------------------------- helpers
def _check_columns(df: pd.DataFrame, cols: Iterable[str], what: str = "responses") -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise DataError(
            f"the {what} frame lacks the column(s) {', '.join(missing)}; give the frame of Store.responses() "
            f"(columns: authority, ministry, participant, wave, instrument, dimension, item, stakeholder, value)"
        )


def _numeric_items(instrument: Instrument) -> list[str]:
    return [i.id for i in instrument.items if i.scale is not None and not i.item_type.per_stakeholder]


def _item_arrays(instrument: Instrument, items: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per item: scale min, max, reverse flag, missing codes (padded with NaN)."""
    lo = np.empty(len(items))
    hi = np.empty(len(items))
    rev = np.zeros(len(items), dtype=bool)
    miss_lists = []
    for j, item_id in enumerate(items):
        item = instrument.item(item_id)
        scale = instrument.scales[item.scale]  # type: ignore[index]
        lo[j], hi[j], rev[j] = scale.min, scale.max, item.reverse
        miss_lists.append(scale.missing)
    width = max([len(m) for m in miss_lists] + [1])
    miss = np.full((len(items), width), np.nan)
    for j, m in enumerate(miss_lists):
        miss[j, : len(m)] = m
    return lo, hi, rev, miss


def _score_values(values: np.ndarray, codes: np.ndarray, arrays: tuple[np.ndarray, ...]) -> np.ndarray:
    """Apply missing codes, range check and reverse keying; ``codes`` index the item arrays (−1: untouched)."""
    lo, hi, rev, miss = arrays
    known = codes >= 0
    c = np.where(known, codes, 0)
    v = values.astype(float, copy=True)
    bad = (v < lo[c]) | (v > hi[c])
    for col in range(miss.shape[1]):
        bad |= v == miss[c, col]
    v[bad & known] = np.nan
    flip = known & rev[c]
    v[flip] = lo[c[flip]] + hi[c[flip]] - v[flip]
    return v


def _item_codes(series: pd.Series, items: Sequence[str]) -> np.ndarray:
    return pd.Categorical(series, categories=list(items)).codes.astype(np.int64)


def _factor(series: pd.Series) -> tuple[np.ndarray, int]:
    """Integer codes ≥ 0 (NaN is a value of its own) and the number of levels."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        return series.cat.codes.to_numpy().astype(np.int64) + 1, len(series.cat.categories) + 1
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    return codes.astype(np.int64) + 1, len(uniques) + 1


def _instrument_rows(responses: pd.DataFrame, instrument: Instrument) -> np.ndarray | None:
    """Boolean mask of rows belonging to ``instrument`` (None: all rows)."""
    if "instrument" not in responses.columns:
        return None
    col = responses["instrument"]
    if isinstance(col.dtype, pd.CategoricalDtype):
        cats = list(col.cat.categories)
        if cats == [instrument.id]:
            return None
        if instrument.id not in cats:
            return np.zeros(len(col), dtype=bool)
        return col.cat.codes.to_numpy() == cats.index(instrument.id)
    mask = col.to_numpy() == instrument.id
    return None if mask.all() else mask


def item_matrix(
    responses: pd.DataFrame, instrument: Instrument, items: Sequence[str] | None = None
) -> tuple[pd.DataFrame, np.ndarray]:
    """Reshape scored answers into an observation × item matrix.

    Parameters
    ----------
    responses
        Tidy responses (raw codes).
    instrument
        The instrument the answers belong to.
    items
        The item ids to use as columns (default: every numeric, non-per-stakeholder item).

    Returns
    -------
    keys : DataFrame
        One row per observation (participant × wave) that answered any numeric item
        of the instrument: ``authority, ministry, participant, wave, instrument``,
        sorted by authority, participant and wave.
    matrix : ndarray
        ``len(keys) × len(items)`` floats, scored (missing codes NaN, reverse keyed).

    Example
    -------
    >>> from toolkit.instruments import resolve_instrument
    >>> inst = resolve_instrument("reality_check")
    >>> resp = pd.DataFrame({"authority": "A", "participant": ["p", "p", "q"], "wave": "t1",
    ...                      "item": ["go1", "go2", "go1"], "value": [2.0, 9.0, 1.0]})
    >>> keys, m = item_matrix(resp, inst, ["go1", "go2"])
    >>> m.tolist()
    [[2.0, nan], [1.0, nan]]
    """
    _check_columns(responses, _REQUIRED)
    all_items = _numeric_items(instrument)
    items = list(all_items if items is None else items)
    unknown = [i for i in items if i not in all_items]
    if unknown:
        raise DataError(f"items {unknown} are not numeric items of instrument {instrument.id!r}")
    codes_all = _item_codes(responses["item"], all_items)
    keep = codes_all >= 0
    inst_mask = _instrument_rows(responses, instrument)
    if inst_mask is not None:
        keep &= inst_mask
    everything = bool(keep.all())
    rows = None if everything else np.flatnonzero(keep)
    key_cols = [c for c in OBS_KEYS if c in responses.columns]
    if not everything and rows.size == 0:  # type: ignore[union-attr]
        return pd.DataFrame(columns=OBS_KEYS), np.empty((0, len(items)))

    def take(col: str) -> pd.Series:
        return responses[col] if rows is None else responses[col].iloc[rows]

    a, na = _factor(take("authority"))
    p, np_ = _factor(take("participant"))
    w, nw = _factor(take("wave"))
    key = (a * np_ + p) * nw + w
    del a, p, w
    group = _dense_groups(key, na * np_ * nw)
    del key
    n_groups = int(group.max()) + 1
    rep = np.empty(n_groups, dtype=np.int64)
    rep[group] = np.arange(group.size) if rows is None else rows
    keys = responses[key_cols].iloc[rep].reset_index(drop=True)
    for col in OBS_KEYS:
        if col not in keys.columns:
            keys[col] = instrument.id if col == "instrument" else None
    keys = keys[OBS_KEYS]
    # column of each item in the output matrix (−1: not requested)
    col_of = np.full(len(all_items) + 1, -1, dtype=np.int64)
    for j, item_id in enumerate(items):
        col_of[all_items.index(item_id)] = j
    cols = col_of[codes_all if rows is None else codes_all[rows]]
    values = responses["value"].to_numpy(dtype=float, na_value=np.nan)
    if rows is not None:
        values = values[rows]
    if not (cols >= 0).all():
        sel = cols >= 0
        group, cols, values = group[sel], cols[sel], values[sel]
    matrix = np.full((n_groups, len(items)), np.nan)
    matrix[group, cols] = values
    _score_matrix(matrix, _item_arrays(instrument, items))
    return keys, matrix


def _dense_groups(key: np.ndarray, space: int) -> np.ndarray:
    """Group ids 0..G−1 in sorted key order (dense lookup when the key space is small)."""
    if space <= 8 * key.size + 1024:
        present = np.zeros(space, dtype=bool)
        present[key] = True
        uniq = np.flatnonzero(present)
        ids = np.empty(space, dtype=np.int32)  # only the pages of present keys are touched
        ids[uniq] = np.arange(uniq.size, dtype=np.int32)
        return ids[key]
    return pd.factorize(key, sort=True)[0]


def _score_matrix(m: np.ndarray, arrays: tuple[np.ndarray, ...]) -> None:
    """Score an observation × item matrix in place, one item column at a time."""
    lo, hi, rev, miss = arrays
    for j in range(m.shape[1]):
        col = m[:, j]
        bad = (col < lo[j]) | (col > hi[j])
        for code in miss[j]:
            if not np.isnan(code):
                bad |= col == code
        col[bad] = np.nan
        if rev[j]:
            np.subtract(lo[j] + hi[j], col, out=col)


def _repeat_keys(keys: pd.DataFrame, n: int) -> pd.DataFrame:
    return keys.iloc[np.repeat(np.arange(len(keys)), n)].reset_index(drop=True)


# --------------------------------------------------------------------------- public API
def score_items(responses: pd.DataFrame, instrument: Instrument) -> pd.DataFrame:
    """Turn raw answer codes into item scores.

    Parameters
    ----------
    responses
        Tidy responses of :meth:`Store.responses` (raw codes).
    instrument
        The instrument the answers belong to.

    Returns
    -------
    DataFrame
        The same rows and columns; ``value`` is NaN for missing codes ("cannot judge")
        and values outside the scale's range, and ``(min + max) − value`` for
        reverse-keyed items. Rows of items the instrument does not know keep their value.

    Example
    -------
    >>> from toolkit.instruments import resolve_instrument
    >>> inst = resolve_instrument("competence_reflection")
    >>> resp = pd.DataFrame({"authority": "A", "participant": "p", "wave": "t0", "item": ["da1", "da3", "da2"],
    ...                      "value": [4.0, 4.0, 0.0]})
    >>> score_items(resp, inst)["value"].tolist()
    [4.0, 2.0, nan]
    """
    _check_columns(responses, ["item", "value"])
    items = _numeric_items(instrument)
    codes = _item_codes(responses["item"], items)
    inst_mask = _instrument_rows(responses, instrument)
    if inst_mask is not None:
        codes = np.where(inst_mask, codes, -1)
    out = responses.copy()
    values = responses["value"].to_numpy(dtype=float, na_value=np.nan)
    out["value"] = _score_values(values, codes, _item_arrays(instrument, items))
    return out


def _scores_for(
    responses: pd.DataFrame, instrument: Instrument, item_type: str | None, normalise: bool
) -> pd.DataFrame:
    dims = [d for d in instrument.dimensions if any(item_type in (None, i.type) for i in d.scored_items)]
    dim_items = [[i.id for i in d.scored_items if item_type in (None, i.type)] for d in dims]
    items = [i for its in dim_items for i in its]
    keys, m = item_matrix(responses, instrument, items)
    if normalise and m.size:
        lo, hi, _, _ = _item_arrays(instrument, items)
        m = (m - lo) / (hi - lo)
    n_obs, n_dims = len(keys), len(dims)
    score = np.full((n_obs, n_dims), np.nan)
    n_valid = np.zeros((n_obs, n_dims), dtype=np.int64)
    start = 0
    for d, (dim, its) in enumerate(zip(dims, dim_items)):
        block = m[:, start : start + len(its)]
        start += len(its)
        valid = ~np.isnan(block)
        n_valid[:, d] = valid.sum(axis=1)
        total = np.where(valid, block, 0.0).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = total / n_valid[:, d]
        score[:, d] = np.where(n_valid[:, d] >= dim.required_valid, mean, np.nan)
    out = _repeat_keys(keys, n_dims)
    out["dimension"] = pd.Categorical.from_codes(np.tile(np.arange(n_dims, dtype=np.int16), n_obs), [d.id for d in dims])
    out["score"] = score.ravel()
    out["n_valid"] = n_valid.ravel()
    out["n_items"] = np.tile(np.array([len(its) for its in dim_items], dtype=np.int64), n_obs)
    return out


def dimension_scores(responses: pd.DataFrame, instrument: Instrument) -> pd.DataFrame:
    """Dimension scores per participant × wave × dimension.

    Parameters
    ----------
    responses
        Tidy responses (raw codes) of one instrument.
    instrument
        The instrument.

    Returns
    -------
    DataFrame
        ``authority, ministry, participant, wave, instrument, dimension, score, n_valid,
        n_items``: one row per observation and dimension with scored items. ``score``
        is the mean of the valid scored items (after reverse keying); NaN when fewer
        than the dimension's ``min_valid`` items are valid. ``n_items`` is the number
        of scored items in the dimension. ``dimension`` is a categorical in the
        instrument's order.

    Example
    -------
    >>> from toolkit.instruments import resolve_instrument
    >>> inst = resolve_instrument("competence_reflection")
    >>> resp = pd.DataFrame({"authority": "A", "participant": "p", "wave": "t0",
    ...     "item": ["da1", "da2", "da3"], "value": [4.0, 5.0, 3.0]})
    >>> dimension_scores(resp, inst).query("dimension == 'data'")["score"].tolist()
    [4.0]
    """
    return _scores_for(responses, instrument, None, normalise=False)


def gaps(responses: pd.DataFrame, instrument: Instrument) -> pd.DataFrame:
    """Ist/Soll gap and needs index per participant × wave × dimension.

    Parameters
    ----------
    responses
        Tidy responses with the ``level`` items (role ``ist`` and ``soll``) and the
        ``importance`` item of each dimension.
    instrument
        The instrument.

    Returns
    -------
    DataFrame
        ``authority, ministry, participant, wave, dimension, ist, soll, gap, importance,
        needs`` with ``gap = soll − ist`` and ``needs = importance × max(gap, 0)``
        (NaN when a part is missing). Rows where ist, soll and importance are all
        missing are left out. Dimensions without an ist/soll pair are not listed.

    Example
    -------
    >>> from toolkit.instruments import resolve_instrument
    >>> inst = resolve_instrument("competence_reflection")
    >>> resp = pd.DataFrame({"authority": "A", "participant": "p", "wave": "t0",
    ...     "item": ["da_ist", "da_soll", "da_imp"], "value": [2.0, 4.0, 5.0]})
    >>> gaps(resp, inst)[["dimension", "gap", "needs"]].to_dict("records")
    [{'dimension': 'data', 'gap': 2.0, 'needs': 10.0}]
    """
    dims, items = [], []
    for dim in instrument.dimensions:
        ist = [i.id for i in dim.items if i.type == "level" and i.role == "ist"]
        soll = [i.id for i in dim.items if i.type == "level" and i.role == "soll"]
        imp = [i.id for i in dim.items if i.type == "importance"]
        if ist and soll:
            dims.append(dim.id)
            items.append((ist[0], soll[0], imp[0] if imp else None))
    cols = ["authority", "ministry", "participant", "wave", "dimension", "ist", "soll", "gap", "importance", "needs"]
    flat = [i for triple in items for i in triple if i is not None]
    keys, m = item_matrix(responses, instrument, flat)
    n_obs, n_dims = len(keys), len(dims)
    pos = {item_id: j for j, item_id in enumerate(flat)}
    ist = np.column_stack([m[:, pos[t[0]]] for t in items]) if items else np.empty((n_obs, 0))
    soll = np.column_stack([m[:, pos[t[1]]] for t in items]) if items else np.empty((n_obs, 0))
    imp = np.column_stack([m[:, pos[t[2]]] if t[2] else np.full(n_obs, np.nan) for t in items]) if items else np.empty((n_obs, 0))
    gap = soll - ist
    needs = imp * np.maximum(gap, 0.0)
    out = _repeat_keys(keys, n_dims).drop(columns="instrument")
    out["dimension"] = pd.Categorical.from_codes(np.tile(np.arange(n_dims, dtype=np.int16), n_obs), dims)
    out["ist"], out["soll"], out["gap"] = ist.ravel(), soll.ravel(), gap.ravel()
    out["importance"], out["needs"] = imp.ravel(), needs.ravel()
    any_valid = ~(np.isnan(ist) & np.isnan(soll) & np.isnan(imp)).ravel()
    return out.loc[any_valid, cols].reset_index(drop=True)


def _by_list(by: str | Sequence[str] | None) -> list[str]:
    if by is None:
        return []
    return [by] if isinstance(by, str) else list(by)


def needs_ranking(gaps: pd.DataFrame, by: str | Sequence[str] | None = ("authority",)) -> pd.DataFrame:
    """Ranked development priorities: mean gap and needs per group and dimension.

    Parameters
    ----------
    gaps
        The frame of :func:`gaps` (usually one wave).
    by
        Grouping columns (default per authority; ``()`` or None for the whole frame).

    Returns
    -------
    DataFrame
        ``<by...>, dimension, n, ist, soll, gap, importance, needs, rank``: means over
        the rows of the group (each mean over its valid values); ``n`` counts distinct
        participants with a valid needs value; ``rank`` 1 is the highest mean needs
        within the group (ties share the best rank; NaN needs get no rank).

    Example
    -------
    >>> g = pd.DataFrame({"authority": "A", "participant": ["p", "q", "p", "q"], "dimension": ["x", "x", "y", "y"],
    ...     "ist": [2.0, 3, 3, 3], "soll": [4.0, 4, 3, 4], "gap": [2.0, 1, 0, 1], "importance": [5.0, 4, 3, 3],
    ...     "needs": [10.0, 4, 0, 3]})
    >>> needs_ranking(g)[["dimension", "needs", "rank"]].to_dict("records")
    [{'dimension': 'x', 'needs': 7.0, 'rank': 1.0}, {'dimension': 'y', 'needs': 1.5, 'rank': 2.0}]
    """
    by = _by_list(by)
    _check_columns(gaps, [*by, "dimension", "participant", "ist", "soll", "gap", "importance", "needs"], "gaps")
    keys = [*by, "dimension"]
    grouped = gaps.groupby(keys, sort=False, observed=True, dropna=False)
    out = grouped[["ist", "soll", "gap", "importance", "needs"]].mean()
    valid = gaps[gaps["needs"].notna()]
    n = valid.groupby(keys, sort=False, observed=True, dropna=False)["participant"].nunique()
    out.insert(0, "n", n.reindex(out.index).fillna(0).astype(np.int64))
    out = out.reset_index()
    if by:
        out["rank"] = out.groupby(by, sort=False, observed=True, dropna=False)["needs"].rank(method="min", ascending=False)
    else:
        out["rank"] = out["needs"].rank(method="min", ascending=False)
    sort_keys = [*by, "rank"]
    return out.sort_values(sort_keys, kind="stable", na_position="last").reset_index(drop=True)[[*keys, "n", "ist", "soll", "gap", "importance", "needs", "rank"]]


def readiness(responses: pd.DataFrame, instrument: Instrument) -> pd.DataFrame:
    """Readiness per participant × wave × area of a checklist instrument.

    Parameters
    ----------
    responses
        Tidy responses with ``checklist`` items (e.g. ``reality_check``: no 0, partly 1, yes 2).
    instrument
        The instrument.

    Returns
    -------
    DataFrame
        ``authority, ministry, participant, wave, instrument, dimension, score, n_valid,
        n_items``: ``score`` is the share of the maximum, i.e. the mean over valid items
        of ``(value − min) / (max − min)`` (yes = 1, partly = 0.5, no = 0; "don't know" is
        missing); NaN with fewer than ``min_valid`` valid items.

    Example
    -------
    >>> from toolkit.instruments import resolve_instrument
    >>> inst = resolve_instrument("reality_check")
    >>> resp = pd.DataFrame({"authority": "A", "participant": "p", "wave": "t1",
    ...     "item": ["go1", "go2", "go3", "go4"], "value": [2.0, 1.0, 0.0, 9.0]})
    >>> readiness(resp, inst).query("dimension == 'goals'")[["score", "n_valid"]].to_dict("records")
    [{'score': 0.5, 'n_valid': 3}]
    """
    return _scores_for(responses, instrument, "checklist", normalise=True)


def overall_readiness(readiness_df: pd.DataFrame, by: str | Sequence[str] | None = ("authority",)) -> pd.DataFrame:
    """Overall readiness per group from the area scores of :func:`readiness`.

    Each participant's overall readiness is the mean of their valid area scores
    (every area weighs the same); the group value is the mean over participants.

    Parameters
    ----------
    readiness_df
        The frame of :func:`readiness`.
    by
        Grouping columns (default per authority; ``()`` or None for the whole frame).

    Returns
    -------
    DataFrame
        ``<by...>, n, score, sd, min, max`` with ``n`` = participants (× waves) with at
        least one valid area score.

    Example
    -------
    >>> r = pd.DataFrame({"authority": "A", "participant": ["p", "p", "q", "q"], "wave": "t1",
    ...     "dimension": ["x", "y", "x", "y"], "score": [1.0, 0.5, 0.0, float("nan")]})
    >>> overall_readiness(r)[["n", "score"]].to_dict("records")
    [{'n': 2, 'score': 0.375}]
    """
    by = _by_list(by)
    obs = [c for c in ("authority", "participant", "wave") if c in readiness_df.columns]
    _check_columns(readiness_df, [*by, "participant", "score"], "readiness")
    per_person = readiness_df.groupby(list(dict.fromkeys([*by, *obs])), sort=True, observed=True, dropna=False)["score"].mean()
    per_person = per_person.dropna().reset_index()
    if by:
        out = per_person.groupby(by, sort=True, observed=True, dropna=False)["score"].agg(["size", "mean", "std", "min", "max"])
        out = out.reset_index()
    else:
        s = per_person["score"]
        out = pd.DataFrame([{"size": len(s), "mean": s.mean(), "std": s.std(), "min": s.min(), "max": s.max()}])
    out = out.rename(columns={"size": "n", "mean": "score", "std": "sd"})
    out["n"] = out["n"].astype(np.int64)
    return out[[*by, "n", "score", "sd", "min", "max"]]
