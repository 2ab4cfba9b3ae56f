"""Dimension scores, Ist/Soll gaps, needs ranking and readiness."""

from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from ..instruments import Instrument

from .matrix import _check_columns, _item_arrays, item_matrix, _repeat_keys

__all__ = ["dimension_scores", "gaps", "needs_ranking", "readiness", "overall_readiness"]


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
