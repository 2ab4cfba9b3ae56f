"""The data of the cohort report's summary, needs overview and reality-check overview.

:func:`cohort_summary_data`, :func:`needs_overview_frame` and :func:`readiness_overview_frame`
compute what the sections show (:mod:`toolkit.reports.cohort_sections` wraps them in
:class:`~toolkit.reports.registry.SectionData`; the templates render them). :func:`_release_cohort` is the one
place these sections ask the disclosure layer (cohort totals from the nested plan,
ministry means as the ministry comparison releases them, per-authority values only for
authorities with at least k respondents), so the release API can replace it in one spot.
The slides (:mod:`toolkit.reports.slides`) use the same functions.

Example
-------
>>> import tempfile, pathlib
>>> from toolkit.demo import build_demo
>>> from toolkit.reports.cohort_sections import cohort_context
>>> db = pathlib.Path(tempfile.mkdtemp()) / "d.sqlite"
>>> build_demo(db, n_authorities=4, seed=1).close()
>>> d = cohort_summary_data(cohort_context(db))
>>> d.n_authorities
4
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

__all__ = ["CohortSummary", "cohort_summary_data", "needs_overview_frame", "readiness_overview_frame", "readiness_open_points"]

TOP = 3


def _latest(ctx: Any, inst: Any) -> str | None:
    if inst is None:
        return None
    c = ctx.data.counts[ctx.data.counts["instrument"] == inst.id]
    waves = [w for w in ctx.data.wave_labels() if w in set(c["wave"])]
    return waves[-1] if waves else None


# ---------------------------------------------------------------------------------------------- release (disclosure layer)
def _release_cohort(ctx: Any) -> dict[str, Any]:
    """The values the cohort summary, the overviews and the slides show, each released through :mod:`toolkit.privacy`.

    Cohort and ministry values are over the shown authorities (:func:`toolkit.privacy.levels`,
    as the change and ministry sections release them); an authority's needs are the releases of
    its own report (ranks over its shown dimensions), the cohort's needs index is computed over
    the shown authority cells; reality-check values per authority and for the cohort likewise,
    and the points most often open over the authorities whose point is released.
    """
    from ..privacy import levels
    from ..privacy.release import current_record
    from .cohort_sections import change_waves, cohort_change_frame, cohort_means_frame, ministries_frame

    memo = ctx.memo
    if memo.get("release_record") is current_record() and "release" in memo:
        return memo["release"]
    comp, chk = ctx.data.competence, ctx.data.checklist
    out: dict[str, Any] = {"wave": None, "means": None, "change": None, "change_waves": None, "ministries": None,
                           "needs": None, "readiness": None, "readiness_wave": None}
    if comp is not None:
        waves = change_waves(ctx)
        if waves:
            out["wave"] = waves[-1]
            out["means"] = cohort_means_frame(ctx)
            out["ministries"] = ministries_frame(ctx, waves[-1])
            out["needs"], out["needs_cohort"] = _released_needs(ctx, comp, waves[-1])
        if len(waves) >= 2:
            out["change_waves"] = (waves[0], waves[-1])
            out["change"] = cohort_change_frame(ctx, waves[0], waves[-1])
    w = _latest(ctx, chk)
    if w is not None:
        rd = ctx.data.readiness()
        rd = rd[rd["wave"].astype(str) == w]
        rd = rd.assign(wave=rd["wave"].astype(str), dimension=rd["dimension"].astype(str))
        out["readiness_wave"] = w
        out["readiness"] = levels(rd, "authority", k=ctx.k, instrument=chk.id, output="report:cohort").drop(columns=["who"])
        out["readiness_cohort"] = levels(rd, None, k=ctx.k, instrument=chk.id, output="report:cohort").drop(columns=["who"])
        out["readiness_items"] = _item_counts(ctx, chk, w)
    memo["release"] = out
    memo["release_record"] = current_record()  # released again into a new record (e.g. the audit)
    return out


def _released_needs(ctx: Any, comp: Any, wave: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Needs per authority (released and ranked over shown dimensions) and the cohort's needs over the shown cells."""
    from ..privacy import Level, rank_shown, release_frame, respondents
    from ..scoring import needs_ranking

    est = ["ist", "soll", "gap", "importance", "needs", "rank"]
    g = ctx.data.gaps()
    g = g[g["wave"].astype(str) == wave]
    per = needs_ranking(g, by=("authority",))
    sets = respondents(g, ["authority", "dimension"], "needs")
    per["who"] = [sets.get((a, d), frozenset()) for a, d in zip(per["authority"], per["dimension"])]
    per = release_frame(per, quantity=lambda r: Level(comp.id, f"needs:{r['dimension']}", wave), people="who", k=ctx.k,
                        output="report:cohort", cell=lambda r: f"needs/{r['authority']}/{r['dimension']}", estimates=est)
    per["rank"] = pd.concat([rank_shown(grp, "needs") for _, grp in per.groupby("authority", sort=False)]).reindex(per.index) if len(per) else per["rank"]
    shown = per.loc[~per["suppressed"].astype(bool), ["authority", "dimension"]].astype(str)
    key = pd.MultiIndex.from_frame(g[["authority", "dimension"]].astype(str))
    g_shown = g[key.isin(pd.MultiIndex.from_frame(shown))] if len(shown) else g.iloc[0:0]
    whole = needs_ranking(g_shown, by=None) if len(g_shown) else pd.DataFrame(columns=["dimension", "n", *est])
    wsets = respondents(g_shown, "dimension", "needs")
    whole["who"] = [wsets.get(d, frozenset()) for d in whole["dimension"]]
    whole = release_frame(whole, quantity=lambda r: Level(comp.id, f"needs:{r['dimension']}", wave), people="who", k=ctx.k,
                          output="report:cohort", cell=lambda r: f"needs/cohort/{r['dimension']}", estimates=est)
    return per.drop(columns=["who"]), whole.drop(columns=["who"])


def _item_counts(ctx: Any, inst: Any, wave: str) -> pd.DataFrame:
    """Cohort-wide no/partly counts per checklist item, over the authorities whose own answers to it are released (k valid)."""
    from ..privacy import Level, release

    r = ctx.data.rsp(inst)
    r = r[r["wave"].astype(str) == wave]
    rows = []
    for pos, it in enumerate(inst.items):
        if it.type != "checklist":
            continue
        scale = inst.scale_of(it.id)
        sub = r[(r["item"] == it.id) & r["value"].isin(list(scale.points))]
        per_auth = sub.groupby("authority", observed=True)["participant"].nunique()
        sub = sub[sub["authority"].isin(list(per_auth[per_auth >= ctx.k].index))]  # authorities below k stay out, as in every comparison
        people = sub["authority"].astype(str) + "|" + sub["participant"].astype(str)
        if not release(Level(inst.id, it.id, wave), people, k=ctx.k, output="report:cohort", cell=f"readiness_overview/{it.id}").shown:
            continue
        v = sub["value"]
        n_open = int((v < scale.max).sum())
        rows.append({"dimension": inst.dimension_of(it.id).id, "item": it.id, "text": it.text.get(ctx.lang), "n_valid": int(len(v)),
                     "n_open": n_open, "share_open": n_open / len(v), "_pos": pos})
    df = pd.DataFrame(rows, columns=["dimension", "item", "text", "n_valid", "n_open", "share_open", "_pos"])
    return df.sort_values(["share_open", "_pos"], ascending=[False, True]).drop(columns="_pos").reset_index(drop=True)


# ---------------------------------------------------------------------------------------------- summary
@dataclass
class CohortSummary:
    n_authorities: int
    n_ministries: int
    n_by_wave: dict[str, int]
    small: list[str]  # authorities below k in the latest wave
    wave: str | None
    high: list[tuple[str, float]] = field(default_factory=list)  # (dimension title, cohort mean)
    low: list[tuple[str, float]] = field(default_factory=list)
    change_waves: tuple[str, str] | None = None
    moved: list[tuple[str, str]] = field(default_factory=list)  # (dimension title, wording) certain changes
    not_moved: list[str] = field(default_factory=list)
    ministries: list[tuple[str, str, str, float, float]] = field(default_factory=list)  # (ministry, dim title, above|below, mean, cohort)
    needs: list[tuple[str, float, int]] = field(default_factory=list)  # (dim title, cohort needs, authorities with it in their top 3)


def cohort_summary_data(ctx: Any) -> CohortSummary:
    """Where the cohort stands, which fields moved, which ministries differ (from the released values)."""
    from ..stats.verdict import verdict_of
    from .sec_competence import change_wording

    d = ctx.data
    comp = d.competence
    rel = _release_cohort(ctx)
    c = d.counts[d.counts["instrument"] == (comp.id if comp else None)]
    n_by_wave = {w: int(c.loc[c["wave"] == w, "n"].sum()) for w in d.wave_labels() if w in set(c["wave"])}
    wave = rel["wave"]
    small = sorted(c.loc[(c["wave"] == wave) & (c["n"] < ctx.k), "authority"].astype(str)) if wave else []
    out = CohortSummary(len(d.authorities), int(d.authorities["ministry"].nunique()), n_by_wave, small, wave)
    if comp is None or wave is None:
        return out
    order = {x.id: i for i, x in enumerate(comp.dimensions)}
    m = rel["means"]
    m = m[(m["wave"] == wave) & m["mean"].notna()].copy()
    m["_o"] = m["dimension"].map(order)
    m = m.sort_values(["mean", "_o"], ascending=[False, True])
    out.high = [(ctx.dim_title(comp, r["dimension"]), float(r["mean"])) for _, r in m.head(TOP).iterrows()]
    out.low = [(ctx.dim_title(comp, r["dimension"]), float(r["mean"])) for _, r in m.tail(TOP).iloc[::-1].iterrows()]
    cohort_mean = dict(zip(m["dimension"], m["mean"]))
    if rel["change"] is not None:
        out.change_waves = rel["change_waves"]
        for _, r in rel["change"].iterrows():
            if bool(r["suppressed"]):
                continue
            (out.moved.append((ctx.dim_title(comp, r["dimension"]), change_wording(r, ctx.lang))) if verdict_of(r).certain
             else out.not_moved.append(ctx.dim_title(comp, r["dimension"])))
    mf = rel["ministries"]
    mf = mf[~mf["suppressed"].astype(bool) & mf["ci_low"].notna()]
    diffs = []
    for _, r in mf.iterrows():  # a ministry differs where the cohort mean lies outside its 95 % CI
        cm = cohort_mean.get(r["dimension"])
        if cm is None:
            continue
        if r["ci_low"] > cm or r["ci_high"] < cm:
            diffs.append((str(r["ministry"]), ctx.dim_title(comp, r["dimension"]), "above" if r["ci_low"] > cm else "below",
                          float(r["mean"]), float(cm), abs(float(r["mean"]) - cm)))
    diffs.sort(key=lambda x: (-x[5], x[0]))
    out.ministries = [x[:5] for x in diffs]
    ov = needs_overview_frame(ctx)
    out.needs = [(r["title"], float(r["needs"]), int(r["top3"])) for _, r in ov.head(TOP).iterrows()]
    return out


# ---------------------------------------------------------------------------------------------- needs overview
def needs_overview_frame(ctx: Any) -> pd.DataFrame:
    """Per dimension: the cohort's mean gap and needs index and in how many shown authorities it is a top-3 need.

    Columns ``dimension, title, n, gap, needs, top3, n_authorities`` sorted by ``needs`` (descending);
    ``n_authorities`` counts the authorities whose needs are shown (at least k respondents).
    """
    cols = ["dimension", "title", "n", "gap", "needs", "top3", "n_authorities"]
    comp = ctx.data.competence
    rel = _release_cohort(ctx)
    if comp is None or rel.get("needs") is None:
        return pd.DataFrame(columns=cols)
    per = rel["needs"]
    per = per[~per["suppressed"].astype(bool)]
    shown = per["authority"].nunique()
    top3 = per[per["rank"] <= TOP].groupby("dimension")["authority"].nunique()
    whole = rel["needs_cohort"]
    whole = whole[~whole["suppressed"].astype(bool)]
    rows = [[r["dimension"], ctx.dim_title(comp, r["dimension"]), int(r["n"]), float(r["gap"]), float(r["needs"]),
             int(top3.get(r["dimension"], 0)), int(shown)] for _, r in whole.iterrows()]
    return pd.DataFrame(rows, columns=cols).sort_values(["needs", "dimension"], ascending=[False, True]).reset_index(drop=True)


# ---------------------------------------------------------------------------------------------- reality-check overview
def readiness_overview_frame(ctx: Any) -> pd.DataFrame:
    """Per area: the cohort's share fulfilled and, over the authorities shown (k respondents), how many are below half.

    Columns ``dimension, title, n, share, n_authorities, below_half``.
    """
    cols = ["dimension", "title", "n", "share", "n_authorities", "below_half"]
    inst = ctx.data.checklist
    rel = _release_cohort(ctx)
    if inst is None or rel.get("readiness") is None:
        return pd.DataFrame(columns=cols)
    per = rel["readiness"]
    per = per[~per["suppressed"].astype(bool)]
    whole = rel["readiness_cohort"].set_index("dimension")
    rows = []
    for dim in inst.dimensions:
        if dim.id not in whole.index:
            continue
        w = whole.loc[dim.id]
        a = per[per["dimension"] == dim.id]
        rows.append([dim.id, dim.title.get(ctx.lang), int(w["n"]), w["mean"], int(a["authority"].nunique()), int((a["mean"] < 0.5).sum())])
    return pd.DataFrame(rows, columns=cols)


def readiness_open_points(ctx: Any) -> pd.DataFrame:
    """Cohort-wide checklist points most often answered no or partly (items with at least k valid answers)."""
    rel = _release_cohort(ctx)
    items = rel.get("readiness_items")
    return items if items is not None else pd.DataFrame(columns=["dimension", "item", "text", "n_valid", "n_open", "share_open"])
