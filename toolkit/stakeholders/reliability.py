"""Reliability of the raters across stakeholders: ICC(2,1), ICC(2,k) and Krippendorff's alpha."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import DataError
from ..instruments import STAKEHOLDER_ROLES, Instrument
from .ratings import _ratings

__all__ = ["icc2", "rater_reliability"]


def _complete_block(m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of the largest complete targets × raters block (most cells; ties: more targets).

    Exhaustive over rater subsets of at least 2 raters for up to 16 raters; beyond that a
    greedy deletion (drop the row or column with the largest share missing)."""
    obs = ~np.isnan(m)
    n, k = m.shape
    if n == 0 or k < 2:
        return np.arange(0), np.arange(0)
    if not obs.all() and k <= 16:
        masks = (obs.astype(np.int64) << np.arange(k, dtype=np.int64)).sum(axis=1)
        subsets = np.arange(1, 1 << k, dtype=np.int64)
        size = ((subsets[:, None] >> np.arange(k, dtype=np.int64)) & 1).sum(axis=1)
        subsets, size = subsets[size >= 2], size[size >= 2]
        n_complete = ((masks[None, :] & subsets[:, None]) == subsets[:, None]).sum(axis=1)
        best = np.lexsort((-n_complete, -(n_complete * size)))[0]
        cols = np.flatnonzero((int(subsets[best]) >> np.arange(k)) & 1)
        return np.flatnonzero(obs[:, cols].all(axis=1)), cols
    rows, cols = np.arange(n), np.arange(k)
    sub = m
    while sub.size and np.isnan(sub).any():
        miss = np.isnan(sub)
        r_share, c_share = miss.mean(axis=1), miss.mean(axis=0)
        if r_share.max() >= c_share.max():
            rows = np.delete(rows, int(r_share.argmax()))
        else:
            cols = np.delete(cols, int(c_share.argmax()))
        sub = m[np.ix_(rows, cols)]
    return rows, cols


def icc2(ratings: Any) -> tuple[float, float]:
    """ICC(2,1) and ICC(2,k) (Shrout & Fleiss 1979): two-way random effects, absolute agreement.

    Parameters
    ----------
    ratings
        Targets × raters matrix (array or wide DataFrame); must be complete (no NaN).

    Returns
    -------
    tuple of float
        ``(icc_2_1, icc_2_k)``; NaN with fewer than 2 targets or 2 raters or zero variance.
        R equivalent: ``psych::ICC(x)$results$ICC[c(2, 5)]``.

    Example
    -------
    >>> sf = [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]]
    >>> [f"{v:.2f}" for v in icc2(sf)]  # Shrout & Fleiss (1979), Table 2
    ['0.29', '0.62']
    """
    x = np.asarray(ratings, dtype=float)
    if x.ndim != 2 or np.isnan(x).any():
        raise DataError("icc2 needs a complete targets × raters matrix; drop incomplete rows first")
    n, k = x.shape
    if n < 2 or k < 2:
        return (np.nan, np.nan)
    grand = x.mean()
    ss_rows = k * ((x.mean(axis=1) - grand) ** 2).sum()
    ss_cols = n * ((x.mean(axis=0) - grand) ** 2).sum()
    ss_err = ((x - grand) ** 2).sum() - ss_rows - ss_cols
    msr, msc, mse = ss_rows / (n - 1), ss_cols / (k - 1), ss_err / ((n - 1) * (k - 1))
    den1 = msr + (k - 1) * mse + k * (msc - mse) / n
    den_k = msr + (msc - mse) / n
    icc_1 = (msr - mse) / den1 if den1 > 0 else np.nan
    icc_k = (msr - mse) / den_k if den_k > 0 else np.nan
    return (float(icc_1), float(icc_k))


def _kripp(matrix: np.ndarray, domain: list[float]) -> float:
    import krippendorff

    pairable = (np.sum(~np.isnan(matrix), axis=0) >= 2).sum()
    values = matrix[~np.isnan(matrix)]
    if pairable < 1 or np.unique(values).size < 2:
        return np.nan
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return float(krippendorff.alpha(reliability_data=matrix, value_domain=domain, level_of_measurement="ordinal"))


def rater_reliability(responses: pd.DataFrame, instrument: Instrument, *, authority: str | None = None) -> pd.DataFrame:
    """Reliability of the raters across stakeholders, per authority and role.

    Targets are the stakeholders an authority rated, raters its participants.

    * ``icc_2_1``, ``icc_2_k``: ICC(2,1) and ICC(2,k) (Shrout & Fleiss 1979; R ``psych::ICC``).
      The ICC needs a complete matrix: it is computed on the largest complete block of
      stakeholders × raters (most ratings; ties: more stakeholders), like psych's listwise
      deletion but choosing which raters to keep; ``icc_n_stakeholders``, ``icc_n_raters``
      give the size of that block.
    * ``kripp_alpha``: Krippendorff's alpha for ordinal data on all ratings, missing values
      allowed (``krippendorff`` package, value domain = the scale points).

    Parameters
    ----------
    responses
        Tidy responses of the stakeholder instrument.
    instrument
        The stakeholder instrument.
    authority
        Only this authority (default: every authority in ``responses``).

    Returns
    -------
    DataFrame
        ``authority, role, icc_2_1, icc_2_k, kripp_alpha, n_raters, n_stakeholders,
        icc_n_raters, icc_n_stakeholders``; one row per authority × role.

    Example
    -------
    >>> from toolkit.instruments import resolve_instrument
    >>> inst = resolve_instrument("stakeholder_analysis")
    >>> vals = {"haushalt": [1, 2, 1], "personalrat": [4, 5, 5], "vergabe": [2, 2, 3]}
    >>> resp = pd.DataFrame([(s, p, "sh_influence", v) for s, vs in vals.items() for p, v in zip("abc", vs)],
    ...                     columns=["stakeholder", "participant", "item", "value"]).assign(authority="BVA")
    >>> rater_reliability(resp, inst)[["role", "n_raters", "n_stakeholders"]].to_dict("records")
    [{'role': 'influence', 'n_raters': 3, 'n_stakeholders': 3}]
    """
    df = _ratings(responses, instrument)
    if authority is not None:
        if authority not in set(df["authority"]):
            raise DataError(f"no stakeholder ratings for authority {authority!r}; known: {', '.join(sorted(set(df['authority'])))}")
        df = df.loc[df["authority"] == authority]
    domains = {i.role: list(instrument.scales[i.scale].points) for i in instrument.items if i.type == "rating_grid" and i.scale}
    df = df.dropna(subset=["value"])
    a_codes, a_names = pd.factorize(df["authority"], sort=True)
    r_codes, r_names = pd.factorize(df["role"], sort=True)
    s_codes = pd.factorize(df["stakeholder"], sort=True)[0]
    p_codes = pd.factorize(df["participant"], sort=True)[0]
    values = df["value"].to_numpy(dtype=float)
    group = a_codes.astype(np.int64) * max(1, len(r_names)) + r_codes
    order = np.argsort(group, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(group[order]) != 0]) if len(order) else np.array([], dtype=int)
    records = []
    for lo, hi in zip(starts, np.r_[starts[1:], len(order)]):
        idx = order[lo:hi]
        auth, role = a_names[a_codes[idx[0]]], r_names[r_codes[idx[0]]]
        targets, t_inv = np.unique(s_codes[idx], return_inverse=True)
        raters, r_inv = np.unique(p_codes[idx], return_inverse=True)
        m = np.full((len(targets), len(raters)), np.nan)
        m[t_inv, r_inv] = values[idx]  # stakeholders × raters (participant codes are unique per authority)
        keep_t, keep_r = _complete_block(m)
        n_t, n_r = len(keep_t), len(keep_r)
        i1, ik = icc2(m[np.ix_(keep_t, keep_r)]) if n_t >= 2 and n_r >= 2 else (np.nan, np.nan)
        records.append(
            {
                "authority": auth, "role": role, "icc_2_1": i1, "icc_2_k": ik,
                "kripp_alpha": _kripp(m.T, domains[role]),
                "n_raters": m.shape[1], "n_stakeholders": m.shape[0], "icc_n_raters": n_r, "icc_n_stakeholders": n_t,
            }
        )
    out = pd.DataFrame(records, columns=["authority", "role", "icc_2_1", "icc_2_k", "kripp_alpha", "n_raters", "n_stakeholders",
                                      "icc_n_raters", "icc_n_stakeholders"])
    out["_r"] = out["role"].map({r: i for i, r in enumerate(STAKEHOLDER_ROLES)})
    return out.sort_values(["authority", "_r"], kind="stable").drop(columns="_r").reset_index(drop=True)
