"""Privacy-applied aggregates for the command line, dashboards and reports.

Each function reads from a :class:`~toolkit.store.Store`, computes with
:mod:`toolkit.scoring` / :mod:`toolkit.stats`, and passes the result through
:mod:`toolkit.privacy` with the cohort's minimum group size: every record carries
``n`` and ``suppressed``, and a suppressed record has its estimates as NaN (null
in JSON), and a ``reason`` when it is suppressed. Ministry and cohort values are
computed over the authorities that are shown themselves (see
:func:`toolkit.privacy.levels`), so no hidden cell can be recovered by subtraction.
The decisions live in :mod:`toolkit.privacy`; this module only reads and computes.

Example
-------
>>> import tempfile, pathlib
>>> from toolkit.demo import build_demo
>>> store = build_demo(pathlib.Path(tempfile.mkdtemp()) / "d.sqlite", n_authorities=2, seed=1)
>>> list(reliability_summary(store, "competence_reflection", wave="t0").columns)
['wave', 'dimension', 'alpha', 'ci_low', 'ci_high', 'omega_total', 'omega', 'n_items', 'n', 'method', 'negative_items', 'suppressed', 'reason']
"""

from __future__ import annotations

import logging
from typing import Any, Sequence

import numpy as np
import pandas as pd

from .exceptions import DataError
from .privacy import Level, change_levels, levels, release_frame, resolve_k, respondents
from .scoring import dimension_scores
from .stats import reliability

__all__ = ["score_summary", "reliability_summary", "change_summary", "score_summary_of", "reliability_summary_of", "change_summary_of"]

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


def score_summary(
    store: Any,
    instrument_id: str,
    *,
    wave: str | None = None,
    by: str | None = None,
    min_group_size: int | None = None,
) -> pd.DataFrame:
    """Dimension scores aggregated per wave (and authority or ministry), released by :mod:`toolkit.privacy`.

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
        suppressed, reason, n_excluded``; ``n`` = participants with a valid dimension
        score. Ministry and cohort values are computed over the authorities that are
        shown themselves (``n_excluded`` authorities below k left out), so no hidden
        authority can be recovered by subtraction.

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
    return score_summary_of(dimension_scores(store.responses(instrument_id, wave=wave), inst), inst, by=by, k=k)


def score_summary_of(scores: pd.DataFrame, inst: Any, *, by: str | None, k: int) -> pd.DataFrame:
    """:func:`score_summary` of dimension scores already computed (``dimension_scores`` of the answers it would read)."""
    keys = ["wave", *([by] if by else []), "dimension"]
    cols = [*keys, "n", "mean", "sd", "median", "q1", "q3", "ci_low", "ci_high", "suppressed", "reason", "n_excluded"]
    if scores.empty:
        return pd.DataFrame(columns=cols)
    scores = scores.assign(wave=scores["wave"].astype(str), dimension=scores["dimension"].astype(str))
    out = levels(scores, by, k=k, instrument=inst.id, output=f"cli:scores:{by or 'cohort'}")
    return _order_dimensions(out[cols], inst)


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
        method, negative_items, suppressed, reason`` (see :func:`toolkit.stats.reliability`;
        ``omega`` is ``omega_total`` under its earlier name), released over the respondents
        behind each alpha.
    """
    if missing not in ("pairwise", "listwise"):
        raise DataError(f"missing must be pairwise or listwise, not {missing!r}")
    inst = _check(store, instrument_id, [wave], None)
    k = resolve_k(store, min_group_size)
    waves = [wave] if wave is not None else list(store.waves()["wave"])
    return reliability_summary_of([(w, store.responses(instrument_id, wave=w)) for w in waves],
                                  lambda: dimension_scores(store.responses(instrument_id, wave=wave), inst), inst, k=k, missing=missing)


def reliability_summary_of(answers: Sequence[tuple[str, pd.DataFrame]], scores: Any, inst: Any, *, k: int,
                           missing: str = "pairwise") -> pd.DataFrame:
    """:func:`reliability_summary` of answers already read: ``answers`` the ``(wave, answers of that wave)`` it would read,
    ``scores`` a function giving the dimension scores of the waves asked for (called only if there are answers)."""
    parts = []
    for w, resp in answers:
        if resp.empty:
            continue
        rel = reliability(resp, inst, method=missing)
        rel.insert(0, "wave", w)
        parts.append(rel)
    cols = ["wave", "dimension", "alpha", "ci_low", "ci_high", "omega_total", "omega", "n_items", "n", "method", "negative_items", "suppressed", "reason"]
    if not parts:
        return pd.DataFrame(columns=cols)
    rel = pd.concat(parts, ignore_index=True)
    # the people behind an alpha: respondents with a valid score of the dimension in that wave
    scores = scores()
    sets = respondents(scores.assign(wave=scores["wave"].astype(str), dimension=scores["dimension"].astype(str)), ["wave", "dimension"], "score")
    rel["who"] = [sets.get((str(w), str(d)), frozenset()) for w, d in zip(rel["wave"], rel["dimension"])]
    out = release_frame(rel, quantity=lambda r: Level(inst.id, f"reliability:{r['dimension']}", str(r["wave"])),
                        people="who", k=k, output="cli:reliability", cell=lambda r: f"{r['wave']}/{r['dimension']}",
                        estimates=["alpha", "ci_low", "ci_high", "omega_total", "omega"])
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
    """Change between two waves on linked participants, released by :mod:`toolkit.privacy`.

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
        p_wilcoxon, r_rb, p_holm, n, suppressed, mean_from, mean_to, reason,
        means_reason`` plus ``p_t_holm, p_wilcoxon_holm, n_nonzero, exact``; ``n`` =
        ``n_pairs`` (matched pairs); ``p_holm`` = ``p_t_holm`` (its earlier name);
        ``n_nonzero``: pairs with a non-zero difference (the Wilcoxon n); ``exact``: whether
        ``p_wilcoxon`` is the exact p. A change needs ``k`` pairs and the auditor's consent
        (:func:`toolkit.privacy.change_levels`); ministry and cohort rows use the pairs of the
        authorities whose change is shown; a hidden change hides ``n_nonzero`` and ``exact``
        too. See :func:`toolkit.stats.paired_change` for the methods.
    """
    inst = _check(store, instrument_id, [from_wave, to_wave], by)
    if from_wave == to_wave:
        raise DataError(f"--from and --to name the same wave {from_wave!r}; give two different waves")
    k = resolve_k(store, min_group_size)
    # every wave: paired changes are decided for all wave pairs together (toolkit.privacy.change_plan_all)
    return change_summary_of(dimension_scores(store.responses(instrument_id), inst), inst, from_wave, to_wave, by=by, k=k,
                             waves=list(store.waves()["wave"]))


def change_summary_of(scores: pd.DataFrame, inst: Any, from_wave: str, to_wave: str, *, by: str | None, k: int,
                      waves: Sequence[str], paired: pd.DataFrame | None = None) -> pd.DataFrame:
    """:func:`change_summary` of dimension scores already computed (of every wave), ``waves`` the cohort's wave order;
    ``paired``: ``paired_change(scores, from_wave, to_wave, by="authority")`` if already computed (``by="authority"``)."""
    head = [*([by] if by else []), "dimension"]
    cols = [*head, "n_pairs", "mean_diff", "ci_low", "ci_high", "t", "p_t", "d_z", "w_stat", "p_wilcoxon", "r_rb",
            "p_holm", "n", "suppressed", "mean_from", "mean_to", "reason", "means_reason", "p_t_holm", "p_wilcoxon_holm", "n_nonzero", "exact"]
    if scores.empty or not {from_wave, to_wave} <= {str(w) for w in pd.unique(scores["wave"])}:
        return pd.DataFrame(columns=cols)
    out = change_levels(scores, from_wave, to_wave, by=by, k=k, instrument=inst.id, output=f"cli:change:{by or 'cohort'}",
                        waves=list(waves), paired=paired if by == "authority" else None)
    out["exact"] = out["wilcoxon_exact"] if "wilcoxon_exact" in out.columns else None
    hidden = out["suppressed"].to_numpy(dtype=bool)  # the Wilcoxon n and flag are estimates of the hidden cell too
    for col in ("p_t_holm", "p_wilcoxon_holm"):
        out[col] = out[col].where(~hidden) if col in out.columns else np.nan
    for col, cast in (("n_nonzero", int), ("exact", bool)):
        vals = out[col] if col in out.columns else [None] * len(out)
        out[col] = pd.Series([None if h or pd.isna(v) else cast(v) for h, v in zip(hidden, vals)], index=out.index, dtype=object)
    out = _order_dimensions(out, inst)
    return out[cols]
