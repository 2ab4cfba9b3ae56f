"""Privacy-applied aggregates for the command line, dashboards and reports.

Each function reads from a :class:`~toolkit.store.Store`, computes with
:mod:`toolkit.scoring` / :mod:`toolkit.stats`, and passes the result through
:mod:`toolkit.privacy` with the cohort's minimum group size: every record carries
``n`` and ``suppressed``, and a suppressed record has its estimates as NaN (null
in JSON). Grouped summaries (``by="authority"`` or ``"ministry"``) also get
secondary suppression, so no hidden cell can be recovered by subtraction from the
ministry or cohort totals.

Example
-------
>>> import tempfile, pathlib
>>> from toolkit.demo import build_demo
>>> store = build_demo(pathlib.Path(tempfile.mkdtemp()) / "d.sqlite", n_authorities=2, seed=1)
>>> list(reliability_summary(store, "competence_reflection", wave="t0").columns)
['wave', 'dimension', 'alpha', 'ci_low', 'ci_high', 'omega_total', 'omega', 'n_items', 'n', 'method', 'negative_items', 'suppressed']
"""

from __future__ import annotations

import logging
from typing import Any, Sequence

import numpy as np
import pandas as pd

from .exceptions import DataError
from .privacy import change_plan, group_summary, plan_shown, resolve_k, scores_plan, suppress, suppress_secondary
from .scoring import dimension_scores
from .stats import paired_change, reliability

__all__ = ["score_summary", "reliability_summary", "change_summary"]

log = logging.getLogger("toolkit")

_BY = ("authority", "ministry")


def _check(store: Any, instrument_id: str, waves: Sequence[str | None], by: str | None) -> Any:
    inst = store.instrument(instrument_id)
    known = list(store.waves()["wave"])
    for w in waves:
        if w is not None and w not in known:
            raise DataError(f"wave {w!r} is not in the cohort; known waves: {', '.join(known) or 'none'}")
    if by is not None and by not in _BY:
        raise DataError(f"by must be one of {', '.join(_BY)} or None, not {by!r}")
    return inst


def _order_dimensions(df: pd.DataFrame, inst: Any) -> pd.DataFrame:
    order = {d.id: i for i, d in enumerate(inst.dimensions)}
    keys = [c for c in ("wave", "authority", "ministry") if c in df.columns]
    df = df.assign(dimension=df["dimension"].astype(str))
    df = df.assign(_pos=df["dimension"].map(order))
    if "wave" in df.columns:
        df["wave"] = df["wave"].astype(str)
        wave_pos = {w: i for i, w in enumerate(pd.unique(df["wave"]))}
        df = df.assign(_wpos=df["wave"].map(wave_pos))
        keys = ["_wpos", *[k for k in keys if k != "wave"]]
    df = df.sort_values([*keys, "_pos"], kind="stable")
    return df.drop(columns=[c for c in ("_pos", "_wpos") if c in df.columns]).reset_index(drop=True)


def _secondary(df: pd.DataFrame, store: Any, *, k: int, by: str | None, cell: Sequence[str], n: str) -> pd.DataFrame:
    """Secondary suppression of by-cells within ministry and cohort totals (until stable)."""
    if by is None or df.empty:
        return df
    extra_cols: list[str] = []
    if by == "authority":
        ministries = store.authorities().set_index("authority")["ministry"]
        df = df.assign(_ministry=df["authority"].map(ministries).fillna("–"))
        extra_cols = ["_ministry"]
    keys = [c for c in df.columns if c in (*cell, by, "_ministry", n, "suppressed")]
    estimates = [c for c in df.columns if c not in keys and pd.api.types.is_numeric_dtype(df[c])
                 and not pd.api.types.is_bool_dtype(df[c]) and not str(c).startswith("n_") and c != "n"]
    for _ in range(10):
        before = df["suppressed"].to_numpy().copy()
        if by == "authority":
            df = suppress_secondary(df, k=k, group=[*cell, "_ministry"], n=n, estimates=estimates)
        df = suppress_secondary(df, k=k, group=list(cell), n=n, estimates=estimates)
        if (df["suppressed"].to_numpy() == before).all():
            break
    return df.drop(columns=extra_cols)


def _paired_means(out: pd.DataFrame, scores: pd.DataFrame, a: str, b: str, *, by: str | None, k: int) -> pd.DataFrame:
    """Hide ``mean_from``/``mean_to`` (means of the pairs) where a wave's unpaired respondents are few.

    Above the authority the pairs cut across the authorities' own wave means (shown in
    their reports), so ministry and cohort rows show the difference only.
    """
    from .privacy import paired_visible

    if out.empty:
        return out
    if by != "authority":
        return out.assign(mean_from=np.nan, mean_to=np.nan)
    keys = [*([by] if by else []), "dimension"]
    valid = scores[scores["score"].notna()].assign(wave=scores["wave"].astype(str))
    n = {w: valid[valid["wave"] == w].drop_duplicates([*keys, "authority", "participant"]).groupby(keys, observed=True).size() for w in (a, b)}
    idx = pd.MultiIndex.from_frame(out[keys].astype(object)) if len(keys) > 1 else pd.Index(out[keys[0]].astype(object))
    n_from = n[a].reindex(idx).fillna(0).to_numpy()
    n_to = n[b].reindex(idx).fillna(0).to_numpy()
    ok = paired_visible(out["n_pairs"].to_numpy(dtype=float), n_from, n_to, k=k, separate=True)
    out = out.copy()
    out.loc[~ok, ["mean_from", "mean_to"]] = np.nan
    return out


def score_summary(
    store: Any,
    instrument_id: str,
    *,
    wave: str | None = None,
    by: str | None = None,
    min_group_size: int | None = None,
) -> pd.DataFrame:
    """Dimension scores aggregated per wave (and authority or ministry), privacy applied.

    Parameters
    ----------
    store
        The cohort :class:`~toolkit.store.Store`.
    instrument_id
        A stored instrument.
    wave
        One wave (default: every wave, one block each).
    by
        ``"authority"``, ``"ministry"`` or None (the whole cohort).
    min_group_size
        A stricter threshold than the cohort's (see :func:`toolkit.privacy.resolve_k`).

    Returns
    -------
    DataFrame
        ``wave, <by>, dimension, n, mean, sd, median, q1, q3, ci_low, ci_high,
        suppressed``; ``n`` = participants with a valid dimension score.

    Example
    -------
    >>> import tempfile, pathlib
    >>> from toolkit.demo import build_demo
    >>> store = build_demo(pathlib.Path(tempfile.mkdtemp()) / "d.sqlite", n_authorities=2, seed=1)
    >>> score_summary(store, "competence_reflection", wave="t0")["suppressed"].any()
    np.False_
    """
    inst = _check(store, instrument_id, [wave], by)
    k = resolve_k(store, min_group_size)
    scores = dimension_scores(store.responses(instrument_id, wave=wave), inst)
    keys = ["wave", *([by] if by else []), "dimension"]
    if scores.empty:
        return pd.DataFrame(columns=[*keys, "n", "mean", "sd", "median", "q1", "q3", "ci_low", "ci_high", "suppressed"])
    out = group_summary(scores, keys, k=k)
    out = _secondary(out, store, k=k, by=by, cell=["wave", "dimension"], n="n")
    if by != "authority":  # a ministry or cohort total with a small remainder under the shown authorities is hidden
        ok = plan_shown(scores_plan(scores, k=k), by or "total", out, cell=["wave", "dimension"])
        out = suppress(out.assign(suppressed=out["suppressed"].to_numpy(dtype=bool) | ~ok), k=k,
                       estimates=["mean", "sd", "median", "q1", "q3", "ci_low", "ci_high"])
    return _order_dimensions(out, inst)


def reliability_summary(
    store: Any, instrument_id: str, *, wave: str | None = None, min_group_size: int | None = None, missing: str = "pairwise"
) -> pd.DataFrame:
    """Reliability per wave and dimension (cohort level), privacy applied.

    Parameters
    ----------
    store, instrument_id, min_group_size
        As :func:`score_summary`.
    wave
        One wave (default: each wave separately; waves are never pooled, as the same
        person answers several waves).
    missing
        ``"pairwise"`` (default) or ``"listwise"``: how missing answers enter (the
        ``method`` of :func:`toolkit.stats.reliability`).

    Returns
    -------
    DataFrame
        ``wave, dimension, alpha, ci_low, ci_high, omega_total, omega, n_items, n,
        method, negative_items, suppressed`` (see :func:`toolkit.stats.reliability`;
        ``omega`` is ``omega_total`` under its earlier name).
    """
    if missing not in ("pairwise", "listwise"):
        raise DataError(f"missing must be pairwise or listwise, not {missing!r}")
    inst = _check(store, instrument_id, [wave], None)
    k = resolve_k(store, min_group_size)
    waves = [wave] if wave is not None else list(store.waves()["wave"])
    parts = []
    for w in waves:
        resp = store.responses(instrument_id, wave=w)
        if resp.empty:
            continue
        rel = reliability(resp, inst, method=missing)
        rel.insert(0, "wave", w)
        parts.append(rel)
    cols = ["wave", "dimension", "alpha", "ci_low", "ci_high", "omega_total", "omega", "n_items", "n", "method", "negative_items", "suppressed"]
    if not parts:
        return pd.DataFrame(columns=cols)
    out = suppress(pd.concat(parts, ignore_index=True), k=k, estimates=["alpha", "ci_low", "ci_high", "omega_total", "omega"])
    out["negative_items"] = out["negative_items"].astype(object).where(~out["suppressed"].to_numpy(dtype=bool), None)
    return out[cols]


def change_summary(
    store: Any,
    instrument_id: str,
    from_wave: str,
    to_wave: str,
    *,
    by: str | None = None,
    min_group_size: int | None = None,
) -> pd.DataFrame:
    """Change between two waves on linked participants, privacy applied.

    Parameters
    ----------
    store, instrument_id, by, min_group_size
        As :func:`score_summary`.
    from_wave, to_wave
        The waves to compare (difference ``to − from``).

    Returns
    -------
    DataFrame
        ``<by>, dimension, n_pairs, mean_diff, ci_low, ci_high, t, p_t, d_z, w_stat,
        p_wilcoxon, r_rb, p_holm, n, suppressed`` plus ``mean_from, mean_to, p_t_holm,
        p_wilcoxon_holm, n_nonzero, exact``; ``n`` = ``n_pairs`` (matched pairs);
        ``p_holm`` = ``p_t_holm`` (its earlier name); ``n_nonzero``: pairs with a
        non-zero difference (the Wilcoxon n); ``exact``: whether ``p_wilcoxon`` is the
        exact p. A record with fewer than ``k`` pairs is suppressed (``n_nonzero`` and
        ``exact`` are then null too). See :func:`toolkit.stats.paired_change`.
    """
    inst = _check(store, instrument_id, [from_wave, to_wave], by)
    if from_wave == to_wave:
        raise DataError(f"--from and --to name the same wave {from_wave!r}; give two different waves")
    k = resolve_k(store, min_group_size)
    scores = dimension_scores(store.responses(instrument_id, wave=[from_wave, to_wave]), inst)
    head = [*([by] if by else []), "dimension"]
    cols = [*head, "n_pairs", "mean_diff", "ci_low", "ci_high", "t", "p_t", "d_z", "w_stat", "p_wilcoxon", "r_rb",
            "p_holm", "n", "suppressed", "mean_from", "mean_to", "p_t_holm", "p_wilcoxon_holm", "n_nonzero", "exact"]
    if scores.empty or set(scores["wave"].astype(str)) != {from_wave, to_wave}:
        return pd.DataFrame(columns=cols)
    res = paired_change(scores, from_wave, to_wave, by=by)
    res["n"] = res["n_pairs"]
    res["exact"] = res["wilcoxon_exact"]
    estimates = ["mean_diff", "ci_low", "ci_high", "t", "p_t", "d_z", "w_stat", "p_wilcoxon", "r_rb", "p_holm",
                 "mean_from", "mean_to", "sd_diff", "p_holm_wilcoxon", "p_t_holm", "p_wilcoxon_holm", "n_nonzero",
                 "exact", "wilcoxon_exact"]
    estimates = [c for c in estimates if c in res.columns]
    # pairs next to the wave means: the unpaired must not be few (privacy.change_plan), nor the remainder under shown groups
    ok = plan_shown(change_plan(scores, from_wave, to_wave, k=k), by or "total", res, cell=["dimension"])
    out = suppress(res.assign(suppressed=~ok), k=k, n="n_pairs", estimates=estimates)
    out = _secondary(out, store, k=k, by=by, cell=["dimension"], n="n_pairs")
    hidden = out["suppressed"].to_numpy(dtype=bool)  # the Wilcoxon n and flag are estimates of the hidden cell too
    for col, cast in (("n_nonzero", int), ("exact", bool)):
        out[col] = pd.Series([None if h or pd.isna(v) else cast(v) for h, v in zip(hidden, out[col])], index=out.index, dtype=object)
    out = _paired_means(out, scores, from_wave, to_wave, by=by, k=k)
    out = _order_dimensions(out, inst)
    return out[cols]
