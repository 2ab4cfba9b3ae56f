"""Aggregation over raters, agreement (r_wg), Mendelow quadrant, salience, engagement gap, priority."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from ..exceptions import DataError
from ..i18n import LANGUAGES, t
from ..instruments import STAKEHOLDER_ROLES, Instrument

__all__ = ["QUADRANTS", "QUADRANT_LABELS", "STRATEGIES", "SALIENCE_LABELS", "aggregate_ratings", "stakeholder_map"]

log = logging.getLogger("toolkit")

QUADRANTS = ("manage_closely", "keep_satisfied", "keep_informed", "monitor")
# the texts live in toolkit/i18n.py; these tables are views of it, per key and language
QUADRANT_LABELS = {q: {lang: t(f"stakeholder.quadrant.{q}", lang) for lang in LANGUAGES} for q in QUADRANTS}
STRATEGIES = {q: {lang: t(f"stakeholder.strategy.{q}", lang) for lang in LANGUAGES} for q in QUADRANTS}
SALIENCE_LABELS = {c: {lang: t(f"stakeholder.salience.{c}", lang) for lang in LANGUAGES} for c in ("none", "latent", "expectant", "definitive")}
# Mitchell, Agle & Wood (1997), Fig. 2: the seven types by (power, legitimacy, urgency)
_SALIENCE_TYPES = {
    (False, False, False): "none",
    (True, False, False): "dormant",
    (False, True, False): "discretionary",
    (False, False, True): "demanding",
    (True, True, False): "dominant",
    (True, False, True): "dangerous",
    (False, True, True): "dependent",
    (True, True, True): "definitive",
}
_SALIENCE_CLASS = {0: "none", 1: "latent", 2: "expectant", 3: "definitive"}
_QUADRANT_WEIGHT = {"manage_closely": 3, "keep_satisfied": 2, "keep_informed": 1, "monitor": 0}
_REASONS = {r: {lang: t(f"stakeholder.reason.{r}", lang) for lang in LANGUAGES}
            for r in ("iqr_influence", "iqr_interest", "iqr_attitude", "rwg_attitude", "attitude_both_sides")}
_MAP_COLUMNS = [
    "authority", "stakeholder", "label", "free", "n_raters", *STAKEHOLDER_ROLES,
    "influence_iqr", "interest_iqr", "attitude_iqr", "attitude_min", "attitude_max", "rwg_attitude",
    "disagreement", "disagreement_reason", "quadrant", "strategy", "salience", "salience_label",
    "engagement_gap", "priority", "ministry", "wave", "influence_q1", "influence_q3", "interest_q1",
    "interest_q3", "quadrant_label", "salience_type", "disagreement_codes", "priority_rank",
    ]
_AGG_COLUMNS = ["authority", "stakeholder", "role", "n", "median", "mean", "q1", "q3", "iqr", "sd", "rwg", "ministry", "wave"]
_KEYS = ["authority", "stakeholder", "role"]
_REQUIRED = ("authority", "participant", "stakeholder", "item", "value")


def _ratings(responses: pd.DataFrame, instrument: Instrument) -> pd.DataFrame:
    """Long ratings of the rating_grid items: missing codes → NaN, latest wave per authority."""
    missing = [c for c in _REQUIRED if c not in responses.columns]
    if missing:
        raise DataError(
            f"the responses frame lacks the column(s) {', '.join(missing)}; pass the frame of "
            f"Store.responses({instrument.id!r}) (columns {', '.join(_REQUIRED)}, ...)"
        )
    if "instrument" in responses.columns:
        other = sorted(set(responses["instrument"].dropna().astype(str)) - {instrument.id})
        if other:
            raise DataError(f"the responses contain instrument(s) {', '.join(other)}, not {instrument.id!r}; filter them first")
    grid = {i.id: i for i in instrument.items if i.type == "rating_grid"}
    if not grid:
        raise DataError(f"instrument {instrument.id!r} has no rating_grid items; stakeholder functions need a stakeholder instrument")
    df = responses.loc[responses["item"].isin(list(grid)) & responses["stakeholder"].notna()].copy()
    df["role"] = df["item"].map({k: v.role for k, v in grid.items()})
    df["value"] = pd.to_numeric(df["value"], errors="coerce").astype(float)
    for item_id, codes in instrument.missing_codes().items():
        if item_id in grid and codes:
            df.loc[(df["item"] == item_id) & df["value"].isin(codes), "value"] = np.nan
    if "wave" in df.columns and df["wave"].nunique() > 1:
        waves = df["wave"]
        order = list(waves.cat.categories) if isinstance(waves.dtype, pd.CategoricalDtype) else sorted(waves.dropna().unique())
        rank = waves.map({w: i for i, w in enumerate(order)}).astype(float)
        latest = rank.groupby(df["authority"]).transform("max")
        log.info("stakeholder ratings from several waves: using the latest wave per authority")
        df = df.loc[rank == latest]
    if "wave" not in df.columns:
        df["wave"] = pd.NA
    if "ministry" not in df.columns:
        df["ministry"] = pd.NA
    df["stakeholder"] = df["stakeholder"].astype(str)
    df["authority"] = df["authority"].astype(str)
    return df[["authority", "ministry", "wave", "participant", "stakeholder", "role", "item", "value"]]


def _stakeholder_order(instrument: Instrument, keys: pd.Series) -> pd.Series:
    catalogue = [e.id for e in instrument.stakeholders.catalogue] if instrument.stakeholders else []
    pos = {k: i for i, k in enumerate(catalogue)}
    uniq = pd.unique(keys)
    order = sorted(uniq, key=lambda k: (pos.get(k, len(pos)), "" if k in pos else str(k).casefold()))
    return keys.map({k: i for i, k in enumerate(order)})


def _rwg(var: pd.Series, n: pd.Series, options: pd.Series) -> pd.Series:
    sigma_eu = (options**2 - 1) / 12.0
    out = (1.0 - var / sigma_eu).clip(lower=0.0, upper=1.0)
    return out.where(n >= 2)


def aggregate_ratings(responses: pd.DataFrame, instrument: Instrument) -> pd.DataFrame:
    """Aggregate the raters' ratings per authority × stakeholder × role.

    Parameters
    ----------
    responses
        Tidy responses (``Store.responses(instrument.id)``); missing codes are set to NaN here.
    instrument
        The stakeholder instrument (it names the roles, scales and missing codes).

    Returns
    -------
    DataFrame
        One row per authority × stakeholder × role: ``authority, stakeholder, role, n, median,
        mean, q1, q3, iqr, sd, rwg`` plus ``ministry, wave``. ``n`` counts valid ratings;
        quartiles are linear-interpolated (R type 7); ``sd`` uses n − 1. ``rwg`` is the
        single-item within-group agreement of James, Demaree & Wolf (1984),
        ``1 − s² / σ²_EU`` with the uniform null ``σ²_EU = (A² − 1) / 12`` for A scale points,
        truncated to [0, 1] as the authors recommend; NaN with fewer than 2 ratings.
        R equivalent: ``multilevel::rwg(x, grpid, ranvar = (A^2 - 1) / 12)``.

    Example
    -------
    >>> from toolkit.instruments import resolve_instrument
    >>> inst = resolve_instrument("stakeholder_analysis")
    >>> resp = pd.DataFrame({"authority": "BVA", "participant": ["a", "b", "c"],
    ...                      "stakeholder": "haushalt", "item": "sh_attitude", "value": [-2.0, 0.0, 2.0]})
    >>> aggregate_ratings(resp, inst)[["n", "mean", "sd", "rwg"]].to_dict("records")
    [{'n': 3, 'mean': 0.0, 'sd': 2.0, 'rwg': 0.0}]
    """
    return _aggregate(_ratings(responses, instrument), instrument)


def _aggregate(df: pd.DataFrame, instrument: Instrument) -> pd.DataFrame:
    """:func:`aggregate_ratings` on the frame of :func:`_ratings`."""
    if df.empty:
        return pd.DataFrame({c: pd.Series(dtype=float if c not in ("authority", "stakeholder", "role", "ministry", "wave") else object)
                             for c in _AGG_COLUMNS}).astype({"n": int})
    options = {i.role: len(instrument.scales[i.scale].points) for i in instrument.items if i.type == "rating_grid" and i.scale}
    g = df.groupby(_KEYS, sort=False, observed=True)["value"]
    quart = g.quantile([0.25, 0.5, 0.75]).unstack()
    out = pd.DataFrame(
        {
            "n": g.count(),
            "median": quart[0.5],
            "mean": g.mean(),
            "q1": quart[0.25],
            "q3": quart[0.75],
            "sd": g.std(ddof=1),
            "var": g.var(ddof=1),
        }
    ).reset_index()
    out["iqr"] = out["q3"] - out["q1"]
    out["rwg"] = _rwg(out["var"], out["n"], out["role"].map(options).astype(float))
    first = df.groupby("authority", sort=False)[["ministry", "wave"]].first()
    out = out.join(first, on="authority")
    out["_s"] = _stakeholder_order(instrument, out["stakeholder"])
    out["_r"] = out["role"].map({r: i for i, r in enumerate(STAKEHOLDER_ROLES)})
    out = out.sort_values(["authority", "_s", "_r"], kind="stable").reset_index(drop=True)
    out["n"] = out["n"].astype(int)
    return out[_AGG_COLUMNS]


def _midpoint(instrument: Instrument, role: str) -> float:
    for item in instrument.items:
        if item.type == "rating_grid" and item.role == role and item.scale:
            scale = instrument.scales[item.scale]
            return (scale.min + scale.max) / 2.0
    return 3.0


def stakeholder_map(
    responses: pd.DataFrame, instrument: Instrument, *, lang: str = "de", salience_threshold: float = 4.0
) -> pd.DataFrame:
    """One row per authority × stakeholder with medians, spread, quadrant, salience and priority.

    Rules (all on the raters' medians):

    * **Quadrant** (Mendelow 1991): influence and interest are *high* when the median is
      strictly above the scale midpoint (3 on 1–5); a median exactly on the midpoint counts
      as *low* (a group must be rated above "mittel" to count as high). high/high
      ``manage_closely`` ("eng einbinden"), high influence/low interest ``keep_satisfied``
      ("zufriedenstellen"), low/high ``keep_informed`` ("informieren"), low/low ``monitor``
      ("beobachten"). NaN when either median is missing.
    * **Salience** (Mitchell, Agle & Wood 1997): power (= influence), legitimacy and urgency are
      present when the median ≥ ``salience_threshold`` (4); 0 attributes ``none``,
      1 ``latent``, 2 ``expectant``, 3 ``definitive``; ``salience_type`` names the seven types
      (dormant, discretionary, demanding, dominant, dangerous, dependent, definitive).
    * **Engagement gap** = desired − current engagement (PMBOK engagement matrix); > 0 means
      the group must be moved towards more engagement.
    * **Disagreement** (needs ≥ 2 ratings): the IQR of influence, interest or attitude is
      ≥ 2 scale points, or r_wg of attitude < 0.5, or attitude ratings lie on both sides
      (at least one rater below the attitude midpoint 0 and at least one above).
      ``disagreement_codes`` lists the rules that fired, ``disagreement_reason`` says it in words.
    * **Priority** = quadrant weight (manage closely 3, keep satisfied 2, keep informed 1,
      monitor 0) + number of salience attributes (0–3) + max(engagement gap, 0) (0–4);
      missing parts count 0, range 0–10, higher = act first. ``priority_rank`` ranks within
      the authority (1 = first).

    Parameters
    ----------
    responses
        Tidy responses of the stakeholder instrument.
    instrument
        The stakeholder instrument.
    lang
        Language of ``label``, ``strategy``, ``salience_label`` and ``disagreement_reason``.
    salience_threshold
        Median from which a salience attribute counts as present.

    Returns
    -------
    DataFrame
        ``authority, stakeholder, label, free, n_raters, <one median column per role>,
        influence_iqr, interest_iqr, attitude_iqr, attitude_min, attitude_max, rwg_attitude,
        disagreement, disagreement_reason, quadrant, strategy, salience, salience_label,
        engagement_gap, priority`` plus ``ministry, wave, influence_q1, influence_q3,
        interest_q1, interest_q3, quadrant_label, salience_type, disagreement_codes, priority_rank``.

    Example
    -------
    >>> from toolkit.instruments import resolve_instrument
    >>> inst = resolve_instrument("stakeholder_analysis")
    >>> rows = [(p, it, v) for p in "abc" for it, v in
    ...         [("sh_influence", 5), ("sh_interest", 4), ("sh_legitimacy", 4), ("sh_urgency", 2)]]
    >>> resp = pd.DataFrame(rows, columns=["participant", "item", "value"]).assign(authority="BVA", stakeholder="personalrat")
    >>> stakeholder_map(resp, inst)[["label", "quadrant", "salience", "strategy"]].iloc[0].tolist()[:3]
    ['Personalrat', 'manage_closely', 'expectant']
    """
    raw = _ratings(responses, instrument)
    agg = _aggregate(raw, instrument)
    if agg.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in _MAP_COLUMNS})
    base = agg.drop_duplicates(["authority", "stakeholder"])[["authority", "stakeholder", "ministry", "wave"]]
    wide = agg.pivot_table(index=["authority", "stakeholder"], columns="role", values=["median", "iqr", "q1", "q3", "rwg"],
                           aggfunc="first", dropna=False, observed=True)
    out = base.set_index(["authority", "stakeholder"])
    for role in STAKEHOLDER_ROLES:
        out[role] = wide[("median", role)] if ("median", role) in wide.columns else np.nan
    for role in ("influence", "interest", "attitude"):
        out[f"{role}_iqr"] = wide[("iqr", role)] if ("iqr", role) in wide.columns else np.nan
    for role in ("influence", "interest"):
        for q in ("q1", "q3"):
            out[f"{role}_{q}"] = wide[(q, role)] if (q, role) in wide.columns else np.nan
    out["rwg_attitude"] = wide[("rwg", "attitude")] if ("rwg", "attitude") in wide.columns else np.nan
    att = raw.loc[raw["role"] == "attitude"].groupby(["authority", "stakeholder"])["value"]
    att_mid = _midpoint(instrument, "attitude")
    out["attitude_min"] = att.min()
    out["attitude_max"] = att.max()
    n_att = att.count().reindex(out.index).fillna(0)
    out["n_raters"] = raw.dropna(subset=["value"]).groupby(["authority", "stakeholder"])["participant"].nunique()
    out = out.reset_index()
    out["n_raters"] = out["n_raters"].fillna(0).astype(int)

    codes = pd.DataFrame(index=out.index)
    n_att = n_att.to_numpy()
    for role in ("influence", "interest", "attitude"):
        codes[f"iqr_{role}"] = out[f"{role}_iqr"].ge(2.0)
    codes["rwg_attitude"] = out["rwg_attitude"].lt(0.5) & (n_att >= 2)
    codes["attitude_both_sides"] = out["attitude_min"].lt(att_mid) & out["attitude_max"].gt(att_mid) & (n_att >= 2)
    out["disagreement"] = codes.any(axis=1)
    names = list(codes.columns)
    fired = [[c for c, hit in zip(names, row) if hit] for row in codes.to_numpy(dtype=bool)]
    out["disagreement_codes"] = [",".join(cs) for cs in fired]
    out["disagreement_reason"] = ["; ".join(_REASONS[c][_lang(lang)] for c in cs) for cs in fired]

    hi_inf = out["influence"].gt(_midpoint(instrument, "influence"))
    hi_int = out["interest"].gt(_midpoint(instrument, "interest"))
    quad = np.select(
        [hi_inf & hi_int, hi_inf & ~hi_int, ~hi_inf & hi_int, ~hi_inf & ~hi_int],
        list(QUADRANTS), default="",
    )
    out["quadrant"] = pd.Series(quad, index=out.index).where(out["influence"].notna() & out["interest"].notna())
    out["quadrant_label"] = out["quadrant"].map(lambda q: QUADRANT_LABELS[q][_lang(lang)] if isinstance(q, str) else None)
    out["strategy"] = out["quadrant"].map(lambda q: STRATEGIES[q][_lang(lang)] if isinstance(q, str) else None)

    power = out["influence"].ge(salience_threshold)
    legit = out["legitimacy"].ge(salience_threshold)
    urgent = out["urgency"].ge(salience_threshold)
    n_attr = power.astype(int) + legit.astype(int) + urgent.astype(int)
    out["salience"] = n_attr.map(_SALIENCE_CLASS)
    out["salience_label"] = out["salience"].map(lambda s: SALIENCE_LABELS[s][_lang(lang)])
    out["salience_type"] = [_SALIENCE_TYPES[(bool(p), bool(lg), bool(u))] for p, lg, u in zip(power, legit, urgent)]
    out["engagement_gap"] = out["engagement_desired"] - out["engagement_current"]
    out["priority"] = (
        out["quadrant"].map(_QUADRANT_WEIGHT).fillna(0).astype(float) + n_attr.astype(float) + out["engagement_gap"].clip(lower=0).fillna(0)
    )
    out["priority_rank"] = out.groupby("authority")["priority"].rank(method="min", ascending=False).astype(int)
    out["label"] = out["stakeholder"].map(lambda k: instrument.stakeholder_name(k, _lang(lang)))
    catalogue = {e.id for e in instrument.stakeholders.catalogue} if instrument.stakeholders else set()
    out["free"] = ~out["stakeholder"].isin(catalogue)
    return out[_MAP_COLUMNS]


def _lang(lang: str) -> str:
    return "en" if lang == "en" else "de"
