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
        Means are over participants with a valid score; ``n_*`` count them. The
        authority's mean is NaN below ``k`` participants; the ministry and cohort means
        are computed over the authorities with at least ``k`` (:func:`toolkit.privacy.levels`),
        so no authority below ``k`` can be recovered by subtraction.
        ``percentile_rank`` (0–100) places the authority's mean among the means of
        all shown authorities (at least ``k`` participants): ``100 · (below + ½ · equal) / N``.

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
    if authority not in set(scores["authority"]):
        raise DataError(f"authority {authority!r} has no scores; present: {', '.join(sorted(map(str, scores['authority'].unique())))}")
    from ..privacy import levels, percentile_shown  # the decisions: comparison values over shown authorities only

    ministry = scores.loc[scores["authority"] == authority, "ministry"].iloc[0]
    v = scores.assign(wave=scores["wave"].astype(str) if "wave" in scores.columns else "",
                      dimension=scores["dimension"].astype(str), score=scores[value])
    common = dict(k=k, instrument=str(v["instrument"].iloc[0]) if "instrument" in v.columns and len(v) else "scores", output="benchmark")
    own = levels(v[v["authority"] == authority], "authority", **common).set_index("dimension")
    mins = levels(v[v["ministry"] == ministry], "ministry", **common).set_index("dimension")
    coh = levels(v, None, **common).set_index("dimension")
    every = levels(v, "authority", **common)
    rows = []
    for dim in dict.fromkeys(v["dimension"]):
        o = own.loc[dim] if dim in own.index else None
        a_mean = float(o["mean"]) if o is not None and not o["suppressed"] else np.nan
        m_mean = float(mins.loc[dim, "mean"]) if dim in mins.index and not mins.loc[dim, "suppressed"] else np.nan
        c_mean = float(coh.loc[dim, "mean"]) if dim in coh.index and not coh.loc[dim, "suppressed"] else np.nan
        shown = every[(every["dimension"] == dim) & ~every["suppressed"]]["mean"].tolist()
        pct = percentile_shown(a_mean, shown) if np.isfinite(a_mean) else np.nan
        rows.append({"dimension": dim, "authority_mean": a_mean, "ministry_mean": m_mean, "cohort_mean": c_mean,
                     "diff_ministry": a_mean - m_mean, "diff_cohort": a_mean - c_mean, "percentile_rank": pct,
                     "n_authority": int(o["n"]) if o is not None else 0, "n_ministry": int(mins.loc[dim, "n"]) if dim in mins.index else 0,
                     "n_cohort": int(coh.loc[dim, "n"]) if dim in coh.index else 0, "suppressed": o is None or bool(o["suppressed"])})
    return pd.DataFrame(rows, columns=["dimension", "authority_mean", "ministry_mean", "cohort_mean", "diff_ministry",
                                       "diff_cohort", "percentile_rank", "n_authority", "n_ministry", "n_cohort", "suppressed"])
