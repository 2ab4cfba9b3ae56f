"""Reliability per dimension: Cronbach's alpha (Feldt CI), omega total, item-total correlations."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from scipy import stats as _st

from ..exceptions import DataError
from ..instruments import Instrument
from ..scoring import item_matrix

__all__ = ["reliability", "item_total", "omega_total", "one_factor_loadings"]

log = logging.getLogger("toolkit")

RELIABILITY_COLUMNS = ["dimension", "alpha", "ci_low", "ci_high", "omega_total", "omega", "n_items", "n", "method", "negative_items"]


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


def one_factor_loadings(r: np.ndarray, *, tol: float = 1e-12, max_iter: int = 10_000) -> np.ndarray:
    """Loadings of a one-factor minres (unweighted least squares) solution of a correlation matrix.

    As ``psych::fa(r, nfactors = 1, fm = "minres")``: the loadings λ minimise the sum of
    squared off-diagonal residuals ``Σ_{i≠j} (r_ij − λ_i λ_j)²``; uniquenesses ``1 − λ²``
    are bounded to [0.005, 1] as psych's optimiser bounds them (so a communality is at
    most 0.995 and may be 0: there is **no** lower bound on communalities). Found by
    iterated principal axes from squared multiple correlations until the communalities
    change by less than ``tol`` (at convergence the minres solution). The sign is chosen
    as psych does: the loadings sum to a positive number.

    Parameters
    ----------
    r
        A correlation matrix.

    Returns
    -------
    ndarray
        One loading per item (NaN if the matrix is not finite).

    Example
    -------
    >>> r = np.array([[1, .5, -.4], [.5, 1, -.45], [-.4, -.45, 1]])
    >>> np.sign(one_factor_loadings(r)).tolist()
    [1.0, 1.0, -1.0]
    """
    r = np.asarray(r, dtype=float)
    k = r.shape[0]
    if not np.isfinite(r).all():
        return np.full(k, np.nan)
    try:
        h2 = 1 - 1 / np.diag(np.linalg.inv(r))
    except np.linalg.LinAlgError:
        h2 = np.full(k, 0.5)
    h2 = np.clip(h2, 0.0, 0.995)
    lam = np.zeros(k)
    for _ in range(max_iter):
        rr = r.copy()
        np.fill_diagonal(rr, h2)
        vals, vecs = np.linalg.eigh(rr)
        lam = vecs[:, -1] * np.sqrt(max(vals[-1], 0.0))
        new = np.clip(lam**2, 0.0, 0.995)
        done = np.max(np.abs(new - h2)) < tol
        h2 = new
        if done:
            break
    return -lam if lam.sum() < 0 else lam


def omega_total(r: np.ndarray, *, loadings: np.ndarray | None = None) -> float:
    """Omega total (McDonald) of a one-factor model: ``psych::omega(x, nfactors = 1)$omega.tot``.

    The one-factor minres loadings λ of the correlation matrix R
    (:func:`one_factor_loadings`); items that load negatively are flipped first, as
    psych does by default (``flip = TRUE``: R becomes ``diag(s) R diag(s)`` with
    ``s = sign(λ)``); then ``omega_t = (ΣR − Σ(1 − λ²)) / ΣR`` (ΣR = sum of all entries
    of the flipped R). A negative loading usually means a reverse key is missing:
    :func:`reliability` reports such items in ``negative_items``.

    Parameters
    ----------
    r
        A correlation matrix of at least 3 items.
    loadings
        The loadings of ``r`` if already computed.

    Returns
    -------
    float
        Omega total (NaN for fewer than 3 items or an invalid matrix).

    Example
    -------
    >>> r = np.array([[1, .5, .4], [.5, 1, .45], [.4, .45, 1]])
    >>> round(omega_total(r), 4)  # psych::omega(r, nfactors = 1)$omega.tot: 0.7134990
    0.7135
    >>> flipped = r * np.array([1, 1, -1])[:, None] * np.array([1, 1, -1])[None, :]
    >>> round(omega_total(flipped), 4)  # an unreversed item: psych flips it, so does this
    0.7135
    """
    r = np.asarray(r, dtype=float)
    k = r.shape[0]
    if k < 3 or not np.isfinite(r).all():
        return float("nan")
    lam = one_factor_loadings(r) if loadings is None else np.asarray(loadings, dtype=float)
    sign = np.where(lam < 0, -1.0, 1.0)
    total = float((r * np.outer(sign, sign)).sum())
    return float((total - np.sum(1 - lam**2)) / total)


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
        ``dimension, alpha, ci_low, ci_high, omega_total, omega, n_items, n, method,
        negative_items``: raw alpha ``k/(k−1)·(1 − tr C / ΣC)`` from the item
        covariance matrix C; the 95 % Feldt CI
        ``1 − (1 − α)·F(df1 = n − 1, df2 = (n − 1)(k − 1))`` (``psych::alpha.ci``);
        ``omega_total`` = ``psych::omega(x, nfactors = 1)$omega.tot`` from a one-factor
        minres solution on the item correlations (pairwise: R's
        ``cor(use = "pairwise")``, as psych; listwise: the complete cases), with
        negatively loading items flipped as psych does (see :func:`omega_total`; NaN
        for fewer than 3 items); ``omega`` is the same value under its earlier name.
        ``n`` = observations with at least one valid item (pairwise) or with all
        items valid (listwise); ``method`` says which. ``negative_items``: the items
        (comma-separated, after the instrument's reverse keys) whose loading on the
        one factor is negative, a hint that a reverse key is missing; None if there
        are none (or fewer than 3 items). Dimensions with fewer than 2 scored items
        are left out.

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
        lam = one_factor_loadings(r) if k >= 3 else np.full(k, np.nan)
        omega = omega_total(r, loadings=lam)
        negative = [item for item, load in zip(items, lam) if load < 0]
        rows.append({"dimension": dim.id, "alpha": alpha, "ci_low": lo, "ci_high": hi, "omega_total": omega, "omega": omega,
                     "n_items": k, "n": n, "method": method, "negative_items": ", ".join(negative) or None})
    return pd.DataFrame(rows, columns=RELIABILITY_COLUMNS)


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


