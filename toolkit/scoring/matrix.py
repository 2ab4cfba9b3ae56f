"""Observation × item matrices and item scores (missing codes, range, reverse keying)."""

from __future__ import annotations

import logging
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from ..exceptions import DataError
from ..instruments import Instrument

__all__ = ["OBS_KEYS", "item_matrix", "score_items"]

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
    if keep.size == 0 or (not everything and rows.size == 0):  # type: ignore[union-attr]  # no answers at all
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
    # item-major storage: each item's column is contiguous (fast column-wise scoring)
    item_major = np.full((len(items), n_groups), np.nan)
    item_major[cols, group] = values
    _score_matrix(item_major.T, _item_arrays(instrument, items))
    return keys, item_major.T


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


