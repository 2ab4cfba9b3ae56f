"""Change between waves: paired t, Wilcoxon signed-rank, effect sizes, Holm; Friedman for three or more waves."""

from __future__ import annotations

import logging
from itertools import combinations
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats as _st

from ..exceptions import DataError

__all__ = ["holm", "paired_change", "friedman", "friedman_posthoc"]

log = logging.getLogger("toolkit")

_TIE_DECIMALS = 9  # differences equal to 9 decimals count as ties (floating-point noise of means)


def holm(p: pd.Series | np.ndarray) -> np.ndarray:
    """Holm-adjusted p-values (as R's ``p.adjust(p, "holm")``; NaN stays NaN and is not counted).

    Example
    -------
    >>> holm(np.array([0.01, 0.04, 0.03, np.nan])).tolist()
    [0.03, 0.06, 0.06, nan]
    """
    p = np.asarray(p, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    m = ok.size
    if m == 0:
        return out
    order = ok[np.argsort(p[ok], kind="stable")]
    adj = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    out[order] = adj
    return out


def _signrank_exact_p(v: float, n: int) -> float:
    """Two-sided exact p of the signed-rank statistic V (as R's ``psignrank``)."""
    size = n * (n + 1) // 2
    counts = np.zeros(size + 1)
    counts[0] = 1.0
    for i in range(1, n + 1):
        counts[i:] = counts[i:] + counts[: size + 1 - i].copy()
    cdf = np.cumsum(counts) / 2.0**n
    vi = int(round(v))
    if v > size / 2:
        p = 1 - cdf[vi - 1]
    else:
        p = cdf[vi]
    return float(min(1.0, 2 * p))


def _by_list(by: str | Sequence[str] | None) -> list[str]:
    if by is None:
        return []
    return [by] if isinstance(by, str) else list(by)


def _codes(series: pd.Series) -> tuple[np.ndarray, int]:
    if isinstance(series.dtype, pd.CategoricalDtype):
        return series.cat.codes.to_numpy().astype(np.int64) + 1, len(series.cat.categories) + 1
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    return codes.astype(np.int64) + 1, len(uniques) + 1


def _wave_labels(series: pd.Series) -> set[str]:
    if isinstance(series.dtype, pd.CategoricalDtype):
        present = np.unique(series.cat.codes.to_numpy())
        return {str(series.cat.categories[c]) for c in present if c >= 0}
    return {str(w) for w in pd.unique(series)}


def _last_per_key(idx: np.ndarray, key: np.ndarray) -> np.ndarray:
    """Rows of ``idx`` keeping the last row per key, in sorted key order."""
    rev = idx[::-1]
    _, first = np.unique(key[rev], return_index=True)
    return rev[first]


def _pairs(scores: pd.DataFrame, from_wave: str, to_wave: str, by: list[str], value: str) -> pd.DataFrame:
    need = ["authority", "participant", "wave", "dimension", value, *by]
    missing = [c for c in dict.fromkeys(need) if c not in scores.columns]
    if missing:
        raise DataError(f"the scores frame lacks column(s) {', '.join(missing)}; give the frame of dimension_scores()")
    waves = _wave_labels(scores["wave"])
    for w in (from_wave, to_wave):
        if w not in waves:
            raise DataError(f"wave {w!r} has no scores; waves present: {', '.join(sorted(waves)) or 'none'}")
    ids = ["authority", "participant", "dimension"]
    extra = [c for c in by if c not in ids]
    v = scores[value].to_numpy(dtype=float, na_value=np.nan)
    a, _ = _codes(scores["authority"])
    p, n_p = _codes(scores["participant"])
    d, n_d = _codes(scores["dimension"])
    key = (a * n_p + p) * n_d + d
    ok = ~np.isnan(v)
    wave = scores["wave"]
    f_idx = _last_per_key(np.flatnonzero(ok & (wave == from_wave).to_numpy()), key)
    t_idx = _last_per_key(np.flatnonzero(ok & (wave == to_wave).to_numpy()), key)
    _, i_f, i_t = np.intersect1d(key[f_idx], key[t_idx], assume_unique=True, return_indices=True)
    rows_f, rows_t = f_idx[i_f], t_idx[i_t]
    pairs = scores[[*ids, *extra]].iloc[rows_f].reset_index(drop=True)
    pairs["x_from"] = v[rows_f]
    pairs["x_to"] = v[rows_t]
    return pairs


def paired_change(
    scores: pd.DataFrame,
    from_wave: str,
    to_wave: str,
    *,
    by: str | Sequence[str] | None = None,
    value: str = "score",
) -> pd.DataFrame:
    """Change between two waves on linked participants, per dimension.

    Parameters
    ----------
    scores
        The frame of :func:`toolkit.scoring.dimension_scores` (or any frame with
        ``authority, participant, wave, dimension`` and ``value``).
    from_wave, to_wave
        Wave labels; the difference is ``to − from``.
    by
        Optional grouping columns (e.g. ``"authority"`` or ``"ministry"``).
    value
        The score column.

    Returns
    -------
    DataFrame
        ``<by...>, dimension, n_pairs, mean_from, mean_to, mean_diff, ci_low, ci_high,
        t, p_t, d_z, w_stat, p_wilcoxon, r_rb, p_holm`` and ``sd_diff, n_nonzero,
        wilcoxon_exact, p_holm_wilcoxon, p_t_holm, p_wilcoxon_holm``. Pairs are the same participant (same
        authority) with a valid score in both waves.

        * ``mean_diff`` with a 95 % t confidence interval; ``t``, ``p_t``: paired t-test
          (R: ``t.test(to, from, paired = TRUE)``); NaN when the differences do not vary.
        * ``d_z = mean_diff / sd_diff`` (Cohen's d for paired data).
        * Wilcoxon signed-rank test as R's ``wilcox.test(to, from, paired = TRUE)`` with
          its defaults: **zero differences are dropped** (Wilcoxon's method) before
          ranking, ties get average ranks; exact p when fewer than 50 non-zero
          differences and no ties or zeros, otherwise the normal approximation with
          tie correction and continuity correction. ``w_stat`` is R's ``V``: the sum of
          the ranks of the positive differences. Differences equal to 9 decimals are ties.
        * ``r_rb``: matched-pairs rank-biserial correlation ``(W+ − W−) / (W+ + W−)``
          over the non-zero differences (Kerby 2014); between −1 and 1.
        * ``p_t_holm``: Holm-adjusted ``p_t`` across the dimensions within each
          by-group (``p_wilcoxon_holm`` likewise for ``p_wilcoxon``); ``p_holm`` and
          ``p_holm_wilcoxon`` are the same values under their earlier names.
        * ``n_nonzero``: pairs with a non-zero difference (the Wilcoxon test's n);
          ``wilcoxon_exact``: whether ``p_wilcoxon`` is exact.

        To reproduce ``w_stat`` in R, round the differences to 9 decimals first:
        ``wilcox.test(round(to - from, 9))``; otherwise floating-point noise of means
        (11/3 − 7/3 against 2 − 2/3) breaks ties that the toolkit counts.

    Example
    -------
    >>> s = pd.DataFrame({"authority": "A", "participant": list("pqrst") * 2, "wave": ["t0"] * 5 + ["t1"] * 5,
    ...     "dimension": "x", "score": [1.0, 2, 3, 4, 5, 2, 3, 3, 5, 7]})
    >>> paired_change(s, "t0", "t1")[["n_pairs", "n_nonzero", "r_rb"]].to_dict("records")
    [{'n_pairs': 5, 'n_nonzero': 4, 'r_rb': 1.0}]
    """
    by = _by_list(by)
    pairs = _pairs(scores, from_wave, to_wave, by, value)
    keys = [*by, "dimension"]
    pairs["d"] = pairs["x_to"] - pairs["x_from"]
    pairs["absd"] = pairs["d"].abs().round(_TIE_DECIMALS)
    pairs["nz"] = pairs["absd"] > 0
    g = pairs.groupby(keys, sort=True, observed=True, dropna=False)
    out = g.agg(n_pairs=("d", "size"), mean_from=("x_from", "mean"), mean_to=("x_to", "mean"),
                mean_diff=("d", "mean"), sd_diff=("d", "std"), n_nonzero=("nz", "sum"))
    n = out["n_pairs"].to_numpy(dtype=float)
    sd = out["sd_diff"].to_numpy(dtype=float)
    md = out["mean_diff"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        se = np.where(sd > 0, sd / np.sqrt(n), np.nan)
        tval = md / se
        half = _st.t.ppf(0.975, n - 1) * se
        out["d_z"] = np.where(sd > 0, md / sd, np.nan)
    out["ci_low"], out["ci_high"] = md - half, md + half
    out["t"] = tval
    out["p_t"] = 2 * _st.t.sf(np.abs(tval), n - 1)
    # Wilcoxon signed-rank on the non-zero differences
    nz = pairs[pairs["nz"]].copy()
    gnz = nz.groupby(keys, sort=True, observed=True, dropna=False)
    nz["rank"] = gnz["absd"].rank(method="average")
    nz["rpos"] = np.where(nz["d"] > 0, nz["rank"], 0.0)
    nz["rneg"] = np.where(nz["d"] < 0, nz["rank"], 0.0)
    sums = nz.groupby(keys, sort=True, observed=True, dropna=False)[["rpos", "rneg"]].sum()
    tie_sizes = nz.groupby([*keys, "absd"], sort=True, observed=True, dropna=False).size()
    tie_term = (tie_sizes.astype(float) ** 3 - tie_sizes).groupby(level=list(range(len(keys))), observed=True).sum()
    n_ties = (tie_sizes > 1).groupby(level=list(range(len(keys))), observed=True).sum()
    if len(keys) == 1:
        tie_term.index = tie_term.index.get_level_values(0)
        n_ties.index = n_ties.index.get_level_values(0)
    sums = sums.reindex(out.index, fill_value=0.0)
    tie_term = tie_term.reindex(out.index, fill_value=0.0).to_numpy(dtype=float)
    has_ties = n_ties.reindex(out.index, fill_value=0).to_numpy() > 0
    m = out["n_nonzero"].to_numpy(dtype=float)
    v = sums["rpos"].to_numpy(dtype=float)
    wneg = sums["rneg"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = v - m * (m + 1) / 4
        sigma = np.sqrt(m * (m + 1) * (2 * m + 1) / 24 - tie_term / 48)
        zc = (z - np.sign(z) * 0.5) / sigma
        p_norm = 2 * np.minimum(_st.norm.cdf(zc), _st.norm.sf(zc))
        out["r_rb"] = np.where(m > 0, (v - wneg) / (v + wneg), np.nan)
    zeros = out["n_nonzero"].to_numpy() < out["n_pairs"].to_numpy()
    exact = (m > 0) & (m < 50) & ~has_ties & ~zeros
    p_w = np.where(m > 0, p_norm, np.nan)
    for i in np.flatnonzero(exact):
        p_w[i] = _signrank_exact_p(v[i], int(m[i]))
    out["w_stat"] = np.where(m > 0, v, 0.0)
    out["p_wilcoxon"] = p_w
    out["wilcoxon_exact"] = exact
    out = out.reset_index()
    if by:
        grp = out.groupby(by, sort=False, observed=True, dropna=False)
        out["p_t_holm"] = grp["p_t"].transform(holm)
        out["p_wilcoxon_holm"] = grp["p_wilcoxon"].transform(holm)
    else:
        out["p_t_holm"] = holm(out["p_t"])
        out["p_wilcoxon_holm"] = holm(out["p_wilcoxon"])
    out["p_holm"], out["p_holm_wilcoxon"] = out["p_t_holm"], out["p_wilcoxon_holm"]
    out["n_pairs"] = out["n_pairs"].astype(np.int64)
    out["n_nonzero"] = out["n_nonzero"].astype(np.int64)
    cols = [*keys, "n_pairs", "mean_from", "mean_to", "mean_diff", "ci_low", "ci_high", "t", "p_t", "d_z",
            "w_stat", "p_wilcoxon", "r_rb", "p_holm", "sd_diff", "n_nonzero", "wilcoxon_exact", "p_holm_wilcoxon",
            "p_t_holm", "p_wilcoxon_holm"]
    return out[cols]


def _complete_blocks(scores: pd.DataFrame, waves: Sequence[str], value: str) -> pd.DataFrame:
    waves = [str(w) for w in waves]
    if len(waves) < 2:
        raise DataError(f"give at least two waves, not {waves}")
    need = ["authority", "participant", "wave", "dimension", value]
    missing = [c for c in need if c not in scores.columns]
    if missing:
        raise DataError(f"the scores frame lacks column(s) {', '.join(missing)}; give the frame of dimension_scores()")
    s = scores.loc[scores[value].notna() & scores["wave"].astype(str).isin(waves), need].copy()
    s["wave"] = s["wave"].astype(str)
    s = s.drop_duplicates(["dimension", "authority", "participant", "wave"], keep="last")
    wide = s.set_index(["dimension", "authority", "participant", "wave"])[value].unstack("wave")
    return wide.reindex(columns=waves).dropna()


def friedman(scores: pd.DataFrame, waves: Sequence[str], *, value: str = "score") -> pd.DataFrame:
    """Friedman test across three or more waves on participants present in all of them.

    Parameters
    ----------
    scores
        The frame of :func:`toolkit.scoring.dimension_scores`.
    waves
        The waves to compare (in order).
    value
        The score column.

    Returns
    -------
    DataFrame
        ``dimension, n, chi2, p, kendall_w``: ``n`` complete blocks (participants with
        a valid score in every wave); ``chi2`` with tie correction exactly as R's
        ``friedman.test``; ``kendall_w = chi2 / (n (k − 1))``. Follow up with
        :func:`friedman_posthoc`.

    Example
    -------
    >>> s = pd.DataFrame({"authority": "A", "participant": list("pqrs") * 3, "wave": [w for w in ("a", "b", "c") for _ in range(4)],
    ...     "dimension": "x", "score": [1.0, 2, 1, 2, 2, 3, 3, 3, 3, 4, 5, 4]})
    >>> friedman(s, ["a", "b", "c"])[["n", "chi2", "kendall_w"]].to_dict("records")
    [{'n': 4, 'chi2': 8.0, 'kendall_w': 1.0}]
    """
    wide = _complete_blocks(scores, waves, value)
    k = len(waves)
    rows = []
    for dim, block in wide.groupby(level="dimension", sort=False):
        x = block.to_numpy(dtype=float)
        n = len(x)
        if n < 2:
            rows.append({"dimension": dim, "n": n, "chi2": np.nan, "p": np.nan, "kendall_w": np.nan})
            continue
        ranks = _st.rankdata(x, axis=1)
        t = (x[:, :, None] == x[:, None, :]).sum(axis=2)
        ties = float((t**2 - 1).sum())
        denom = n * k * (k + 1) - ties / (k - 1)
        chi2 = 12 * np.sum((ranks.sum(axis=0) - n * (k + 1) / 2) ** 2) / denom if denom > 0 else np.nan
        rows.append({"dimension": dim, "n": n, "chi2": chi2, "p": _st.chi2.sf(chi2, k - 1), "kendall_w": chi2 / (n * (k - 1))})
    return pd.DataFrame(rows, columns=["dimension", "n", "chi2", "p", "kendall_w"])


def friedman_posthoc(scores: pd.DataFrame, waves: Sequence[str], *, value: str = "score") -> pd.DataFrame:
    """Pairwise Wilcoxon follow-ups between the waves of a Friedman test.

    Uses the same complete blocks as :func:`friedman`; Holm correction across the
    wave pairs within each dimension.

    Returns
    -------
    DataFrame
        ``dimension, from_wave, to_wave, n_pairs, mean_diff, w_stat, p_wilcoxon, r_rb, p_holm``.

    Example
    -------
    >>> s = pd.DataFrame({"authority": "A", "participant": list("pqrs") * 3, "wave": [w for w in ("a", "b", "c") for _ in range(4)],
    ...     "dimension": "x", "score": [1.0, 2, 1, 2, 2, 3, 3, 3, 3, 4, 5, 4]})
    >>> friedman_posthoc(s, ["a", "b", "c"])[["from_wave", "to_wave"]].values.tolist()
    [['a', 'b'], ['a', 'c'], ['b', 'c']]
    """
    wide = _complete_blocks(scores, waves, value)
    long = wide.stack().rename(value).reset_index()
    parts = []
    for w0, w1 in combinations([str(w) for w in waves], 2):
        res = paired_change(long, w0, w1, value=value)
        res.insert(1, "from_wave", w0)
        res.insert(2, "to_wave", w1)
        parts.append(res)
    out = pd.concat(parts, ignore_index=True)
    out["p_holm"] = out.groupby("dimension", sort=False)["p_wilcoxon"].transform(holm)
    cols = ["dimension", "from_wave", "to_wave", "n_pairs", "mean_diff", "w_stat", "p_wilcoxon", "r_rb", "p_holm"]
    return out.sort_values(["dimension", "from_wave", "to_wave"], kind="stable").reset_index(drop=True)[cols]


