"""Statistics: reliability, item-total correlations, paired change, Friedman, benchmarks.

Each function documents its R equivalent; the tests compare against R (base R and
``psych``) with the reference scripts in ``tests/reference/``. Nothing is rounded.

Reliability is computed per dimension on the observation × item matrix of the
scored items (reverse keyed, missing codes as NaN; one row per participant × wave,
so filter ``responses`` to one wave first).

Example
-------
>>> s = pd.DataFrame({"authority": "A", "participant": list("pqrstu") * 2, "wave": ["t0"] * 6 + ["t1"] * 6,
...     "dimension": "x", "score": [1.0, 2, 3, 2, 4, 3, 2, 2, 4, 4, 5, 3]})
>>> r = paired_change(s, "t0", "t1")
>>> r[["n_pairs", "mean_diff", "w_stat"]].to_dict("records")
[{'n_pairs': 6, 'mean_diff': 0.8333333333333334, 'w_stat': 10.0}]
"""

from __future__ import annotations

import logging
from itertools import combinations
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats as _st

from .exceptions import DataError
from .instruments import Instrument
from .scoring import item_matrix

__all__ = ["reliability", "item_total", "paired_change", "friedman", "friedman_posthoc", "benchmark", "holm", "omega_total"]

log = logging.getLogger("toolkit")

_TIE_DECIMALS = 9  # differences equal to 9 decimals count as ties (floating-point noise of means)


# --------------------------------------------------------------------------- reliability
def _pairwise_cov(x: np.ndarray, *, cor: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Covariance (or correlation) from pairwise-complete observations and the pair counts.

    As R's ``cov(x, use = "pairwise")`` / ``cor(x, use = "pairwise")``: every entry uses
    the rows where both items are valid, with that subset's means (and SDs for ``cor``).
    """
    valid = ~np.isnan(x)
    v = valid.astype(float)
    x0 = np.where(valid, x, 0.0)
    n = v.T @ v
    s_i = x0.T @ v  # s_i[i, j]: sum of x_i over rows where x_j is valid too
    s_ij = x0.T @ x0
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = (s_ij - s_i * s_i.T / n) / (n - 1)
        if cor:
            q_i = (x0 * x0).T @ v
            var_i = (q_i - s_i**2 / n) / (n - 1)  # var of x_i over rows where x_j is valid
            cov = cov / np.sqrt(var_i * var_i.T)
            np.fill_diagonal(cov, 1.0)
    return cov, n


def _alpha_from_cov(c: np.ndarray) -> float:
    k = c.shape[0]
    total = c.sum()
    if k < 2 or not np.isfinite(total) or total <= 0:
        return float("nan")
    return float(k / (k - 1) * (1 - np.trace(c) / total))


def _feldt(alpha: float, n: int, k: int, level: float = 0.95) -> tuple[float, float]:
    if not np.isfinite(alpha) or n < 2 or k < 2:
        return float("nan"), float("nan")
    g = 1 - level
    df1, df2 = n - 1, (n - 1) * (k - 1)
    return 1 - (1 - alpha) * _st.f.ppf(1 - g / 2, df1, df2), 1 - (1 - alpha) * _st.f.ppf(g / 2, df1, df2)


def omega_total(r: np.ndarray, *, tol: float = 1e-12, max_iter: int = 10_000) -> float:
    """McDonald's omega total from a correlation matrix with a one-factor model.

    The loadings λ come from an unweighted least squares (minres) one-factor fit,
    found by iterated principal axis factoring from squared multiple correlations
    until the communalities change by less than ``tol`` (communalities are capped at
    0.995 as psych bounds uniquenesses at 0.005). Then, as ``psych::omega(x,
    nfactors=1)``: ``omega_t = 1 − Σ(1 − λ²) / ΣR`` (ΣR = sum of all correlations).

    Parameters
    ----------
    r
        A correlation matrix of at least 3 items.

    Returns
    -------
    float
        Omega total (NaN for fewer than 3 items or an invalid matrix).

    Example
    -------
    >>> r = np.array([[1, .5, .4], [.5, 1, .45], [.4, .45, 1]])
    >>> round(omega_total(r), 4)  # psych::omega(r, nfactors = 1)$omega.tot: 0.7134990
    0.7135
    """
    r = np.asarray(r, dtype=float)
    k = r.shape[0]
    if k < 3 or not np.isfinite(r).all():
        return float("nan")
    try:
        h2 = 1 - 1 / np.diag(np.linalg.inv(r))
    except np.linalg.LinAlgError:
        h2 = np.full(k, 0.5)
    h2 = np.clip(h2, 0.005, 0.995)
    for _ in range(max_iter):
        rr = r.copy()
        np.fill_diagonal(rr, h2)
        vals, vecs = np.linalg.eigh(rr)
        lam = vecs[:, -1] * np.sqrt(max(vals[-1], 0.0))
        new = np.clip(lam**2, 0.005, 0.995)
        if np.max(np.abs(new - h2)) < tol:
            h2 = new
            break
        h2 = new
    return float(1 - np.sum(1 - h2) / r.sum())


def _dimension_blocks(responses: pd.DataFrame, instrument: Instrument):
    dims = [d for d in instrument.dimensions if d.scored_items]
    items = [i.id for d in dims for i in d.scored_items]
    _, m = item_matrix(responses, instrument, items)
    start = 0
    for dim in dims:
        k = len(dim.scored_items)
        yield dim, [i.id for i in dim.scored_items], m[:, start : start + k]
        start += k


def _prepare(block: np.ndarray, method: str) -> np.ndarray:
    if method == "listwise":
        return block[~np.isnan(block).any(axis=1)]
    if method == "pairwise":
        return block[(~np.isnan(block)).any(axis=1)]
    raise DataError(f"method must be 'pairwise' or 'listwise', not {method!r}")


def _cov(x: np.ndarray, method: str) -> np.ndarray:
    if method == "listwise":
        return np.cov(x, rowvar=False, ddof=1) if len(x) > 1 else np.full((x.shape[1],) * 2, np.nan)
    return _pairwise_cov(x)[0]


def reliability(responses: pd.DataFrame, instrument: Instrument, *, method: str = "pairwise") -> pd.DataFrame:
    """Cronbach's alpha with a Feldt confidence interval and omega total per dimension.

    Parameters
    ----------
    responses
        Tidy responses of one wave (raw codes).
    instrument
        The instrument.
    method
        ``"pairwise"`` (default, as ``psych::alpha``: item covariances from
        pairwise-complete observations, so a skipped item does not drop the whole
        answer sheet) or ``"listwise"`` (only observations with every item valid).

    Returns
    -------
    DataFrame
        ``dimension, alpha, ci_low, ci_high, omega, n_items, n``: raw alpha
        ``k/(k−1)·(1 − tr C / ΣC)`` from the item covariance matrix C; the 95 % Feldt
        CI ``1 − (1 − α)·F(df1 = n − 1, df2 = (n − 1)(k − 1))`` (``psych::alpha.ci``);
        omega total from a one-factor minres model on the item correlations
        (pairwise: R's ``cor(use = "pairwise")``, as ``psych::omega``; see
        :func:`omega_total`; NaN for fewer than 3 items). ``n`` = observations with
        at least one valid item (pairwise) or with all items valid (listwise).
        Dimensions with fewer than 2 scored items are left out.

    Example
    -------
    >>> from toolkit.instruments import resolve_instrument
    >>> inst = resolve_instrument("competence_reflection")
    >>> rng = np.random.default_rng(1); t = rng.normal(size=50)
    >>> resp = pd.DataFrame([{"authority": "A", "participant": f"p{i}", "wave": "t0", "item": it,
    ...     "value": float(np.clip(np.rint(3 + t[i] + rng.normal(0, .7)), 1, 5))}
    ...     for i in range(50) for it in ("dt1", "dt2", "dt3")])
    >>> rel = reliability(resp, inst)
    >>> rel.loc[rel.dimension == "digital_tools", ["n_items", "n"]].to_dict("records")
    [{'n_items': 3, 'n': 50}]
    """
    rows = []
    for dim, items, block in _dimension_blocks(responses, instrument):
        k = len(items)
        if k < 2:
            continue
        x = _prepare(block, method)
        n = len(x)
        c = _cov(x, method) if n > 1 else np.full((k, k), np.nan)
        alpha = _alpha_from_cov(c)
        lo, hi = _feldt(alpha, n, k)
        if method == "pairwise":
            r = _pairwise_cov(x, cor=True)[0] if n > 1 else c
        else:
            with np.errstate(invalid="ignore", divide="ignore"):
                sd = np.sqrt(np.diag(c))
                r = c / np.outer(sd, sd)
        rows.append({"dimension": dim.id, "alpha": alpha, "ci_low": lo, "ci_high": hi, "omega": omega_total(r),
                     "n_items": k, "n": n})
    return pd.DataFrame(rows, columns=["dimension", "alpha", "ci_low", "ci_high", "omega", "n_items", "n"])


def item_total(responses: pd.DataFrame, instrument: Instrument, *, method: str = "pairwise") -> pd.DataFrame:
    """Corrected item-total correlations and alpha if an item is deleted.

    Parameters
    ----------
    responses
        Tidy responses of one wave.
    instrument
        The instrument.
    method
        ``"pairwise"`` (default) or ``"listwise"``, as in :func:`reliability`.

    Returns
    -------
    DataFrame
        ``dimension, item, r_corrected, alpha_if_deleted, n``: ``r_corrected`` is the
        correlation of the item with the sum of the other items of its dimension,
        computed from the covariance matrix C as ``psych::alpha``'s ``r.drop``:
        ``(Σ_j C_ij − C_ii) / sqrt(C_ii · ΣC_without i)``; ``alpha_if_deleted`` is raw
        alpha of the remaining items (NaN when only one would remain); ``n`` the
        valid answers to the item.

    Example
    -------
    >>> from toolkit.instruments import resolve_instrument
    >>> inst = resolve_instrument("reality_check")
    >>> resp = pd.DataFrame([{"authority": "A", "participant": f"p{i}", "wave": "t1", "item": it,
    ...     "value": float((i + j) % 3)} for i in range(9) for j, it in enumerate(["go1", "go2", "go3"])])
    >>> item_total(resp, inst)["item"].tolist()[:3]
    ['go1', 'go2', 'go3']
    """
    rows = []
    for dim, items, block in _dimension_blocks(responses, instrument):
        k = len(items)
        if k < 2:
            continue
        x = _prepare(block, method)
        c = _cov(x, method) if len(x) > 1 else np.full((k, k), np.nan)
        n_valid = (~np.isnan(x)).sum(axis=0)
        for i, item_id in enumerate(items):
            rest = [j for j in range(k) if j != i]
            c_drop = c[:, i].sum() - c[i, i]
            v_drop = c[np.ix_(rest, rest)].sum()
            with np.errstate(invalid="ignore", divide="ignore"):
                r_drop = c_drop / np.sqrt(c[i, i] * v_drop)
            a_drop = _alpha_from_cov(c[np.ix_(rest, rest)]) if k > 2 else float("nan")
            rows.append({"dimension": dim.id, "item": item_id, "r_corrected": float(r_drop),
                         "alpha_if_deleted": a_drop, "n": int(n_valid[i])})
    return pd.DataFrame(rows, columns=["dimension", "item", "r_corrected", "alpha_if_deleted", "n"])


# --------------------------------------------------------------------------- change
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
        wilcoxon_exact, p_holm_wilcoxon``. Pairs are the same participant (same
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
        * ``p_holm``: Holm-adjusted ``p_t`` across the dimensions within each
          by-group (``p_holm_wilcoxon`` likewise for ``p_wilcoxon``).

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
        out["p_holm"] = grp["p_t"].transform(holm)
        out["p_holm_wilcoxon"] = grp["p_wilcoxon"].transform(holm)
    else:
        out["p_holm"] = holm(out["p_t"])
        out["p_holm_wilcoxon"] = holm(out["p_wilcoxon"])
    out["n_pairs"] = out["n_pairs"].astype(np.int64)
    out["n_nonzero"] = out["n_nonzero"].astype(np.int64)
    cols = [*keys, "n_pairs", "mean_from", "mean_to", "mean_diff", "ci_low", "ci_high", "t", "p_t", "d_z",
            "w_stat", "p_wilcoxon", "r_rb", "p_holm", "sd_diff", "n_nonzero", "wilcoxon_exact", "p_holm_wilcoxon"]
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


# --------------------------------------------------------------------------- benchmark
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
        ``k`` participants (else the rest could be recovered by subtraction).
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
    rows = []
    for dim in dims:
        a = per_auth.loc[(dim, authority)] if (dim, authority) in per_auth.index else None
        n_a = int(a["n"]) if a is not None else 0
        n_m = int(mins.loc[dim, "n"]) if dim in mins.index else 0
        n_c = int(cohort.loc[dim, "n"]) if dim in cohort.index else 0
        a_mean = float(a["mean"]) if a is not None and n_a >= k else np.nan
        hide_m = n_m < k or 0 < n_m - n_a < k or 0 < n_c - n_m < k
        hide_c = n_c < k or 0 < n_c - n_a < k
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
