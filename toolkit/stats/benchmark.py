"""Benchmarks: one authority against its ministry and the cohort, within the privacy threshold."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..exceptions import DataError

__all__ = ["benchmark"]


def benchmark(scores: pd.DataFrame, authority: str, *, k: int, value: str = "score") -> pd.DataFrame:
    """Compare one authority with its ministry and the whole cohort, per dimension.

    Parameters
    ----------
    scores
        The frame of :func:`toolkit.scoring.dimension_scores` for **one** wave.
    authority
        The authority's code.
    k
        Minimum group size (see :func:`toolkit.privacy.resolve_k`).
    value
        The score column.

    Returns
    -------
    DataFrame
        ``dimension, authority_mean, ministry_mean, cohort_mean, diff_ministry,
        diff_cohort, percentile_rank, n_authority, n_ministry, n_cohort, suppressed``.
        Means are over participants with a valid score; ``n_*`` count them. A mean is
        NaN when its group has fewer than ``k`` participants, and the ministry (or
        cohort) mean is also hidden when it differs from the authority by fewer than
        ``k`` participants, or when the authorities below ``k`` in it have fewer than
        ``k`` participants together (:func:`toolkit.privacy.scores_plan`; else the rest
        could be recovered by subtraction from the authorities' own reports).
        ``percentile_rank`` (0–100) places the authority's mean among the means of
        all authorities with at least ``k`` participants: ``100 · (below + ½ · equal) / N``.

    Example
    -------
    >>> s = pd.DataFrame({"authority": ["A"] * 5 + ["B"] * 5, "ministry": "M", "participant": list("abcdefghij"),
    ...     "wave": "t0", "dimension": "x", "score": [3.0] * 5 + [4.0] * 5})
    >>> benchmark(s, "A", k=5)[["authority_mean", "ministry_mean", "percentile_rank"]].to_dict("records")
    [{'authority_mean': 3.0, 'ministry_mean': 3.5, 'percentile_rank': 25.0}]
    """
    need = ["authority", "ministry", "participant", "dimension", value]
    missing = [c for c in need if c not in scores.columns]
    if missing:
        raise DataError(f"the scores frame lacks column(s) {', '.join(missing)}; give the frame of dimension_scores()")
    if "wave" in scores.columns and scores["wave"].astype(str).nunique() > 1:
        raise DataError("benchmark compares one wave; filter the scores to one wave first (scores[scores.wave == 't0'])")
    valid = scores[scores[value].notna()]
    if authority not in set(scores["authority"]):
        raise DataError(f"authority {authority!r} has no scores; present: {', '.join(sorted(map(str, scores['authority'].unique())))}")
    ministry = scores.loc[scores["authority"] == authority, "ministry"].iloc[0]
    per_auth = valid.groupby(["dimension", "authority"], observed=True).agg(mean=(value, "mean"), n=("participant", "nunique"))
    cohort = valid.groupby("dimension", observed=True).agg(mean=(value, "mean"), n=("participant", "size"))
    mvalid = valid[valid["ministry"] == ministry]
    mins = mvalid.groupby("dimension", observed=True).agg(mean=(value, "mean"), n=("participant", "size"))
    dims = list(dict.fromkeys(scores["dimension"]))
    from ..privacy import scores_plan  # the cohort-wide rule: no total with a small remainder under the shown authorities

    plan = scores_plan(scores, k=k, value=value, cell=("dimension",))
    m_plan = plan[(plan["level"] == "ministry") & (plan["group"].astype(str) == str(ministry))].set_index("dimension")["shown"]
    c_plan = plan[plan["level"] == "total"].set_index("dimension")["shown"]
    rows = []
    for dim in dims:
        a = per_auth.loc[(dim, authority)] if (dim, authority) in per_auth.index else None
        n_a = int(a["n"]) if a is not None else 0
        n_m = int(mins.loc[dim, "n"]) if dim in mins.index else 0
        n_c = int(cohort.loc[dim, "n"]) if dim in cohort.index else 0
        a_mean = float(a["mean"]) if a is not None and n_a >= k else np.nan
        hide_m = n_m < k or 0 < n_m - n_a < k or 0 < n_c - n_m < k
        hide_c = n_c < k or 0 < n_c - n_a < k
        hide_m = hide_m or not bool(m_plan.get(dim, False))
        hide_c = hide_c or not bool(c_plan.get(dim, False))
        m_mean = np.nan if hide_m else float(mins.loc[dim, "mean"])
        c_mean = np.nan if hide_c else float(cohort.loc[dim, "mean"])
        others = per_auth.loc[dim] if dim in per_auth.index.get_level_values(0) else per_auth.iloc[0:0]
        means = others.loc[others["n"] >= k, "mean"].to_numpy(dtype=float)
        pct = np.nan
        if np.isfinite(a_mean) and means.size:
            pct = 100 * (np.sum(means < a_mean) + 0.5 * np.sum(means == a_mean)) / means.size
        rows.append({"dimension": dim, "authority_mean": a_mean, "ministry_mean": m_mean, "cohort_mean": c_mean,
                     "diff_ministry": a_mean - m_mean, "diff_cohort": a_mean - c_mean, "percentile_rank": pct,
                     "n_authority": n_a, "n_ministry": n_m, "n_cohort": n_c, "suppressed": n_a < k})
    return pd.DataFrame(rows, columns=["dimension", "authority_mean", "ministry_mean", "cohort_mean", "diff_ministry",
                                       "diff_cohort", "percentile_rank", "n_authority", "n_ministry", "n_cohort", "suppressed"])
