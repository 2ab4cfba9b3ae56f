"""Authority report sections: stakeholder map, reality-check readiness and the methods appendix.

Stakeholder names typed by users (free entries) are escaped like every other cell.

Example
-------
>>> from toolkit.reports.sec_stakeholders import pct
>>> pct(0.456, "de")
'46 %'
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from .html import badge, esc, fmt_int, fmt_num, note, section, suppressed_note, table
from .texts import tr

__all__ = ["stakeholder_section", "readiness_section", "methods", "pct", "stakeholder_frame"]

_ROLES = {
    "influence": ("Einfluss", "Influence"), "interest": ("Interesse", "Interest"), "attitude": ("Haltung", "Attitude"),
    "legitimacy": ("Legitimität", "Legitimacy"), "urgency": ("Dringlichkeit", "Urgency"),
    "engagement_current": ("aktuelle Einbindung", "current engagement"), "engagement_desired": ("gewünschte Einbindung", "desired engagement"),
    "confidence": ("Sicherheit der Einschätzung", "confidence"),
}


def _html(s: str) -> Any:
    from .sections import Html

    return Html(s)


def pct(x: Any, lang: str = "de") -> str:
    """A share (0–1) as a whole-number percentage."""
    if x is None or pd.isna(x):
        return "–"
    return f"{100 * float(x):.0f} %"


def _engagement(x: Any, inst: Any, lang: str) -> str:
    """The engagement level's label from the instrument's scale (medians between two points show both)."""
    if x is None or pd.isna(x):
        return "–"
    item = next((i for i in inst.items if i.role == "engagement_current"), None)
    scale = inst.scales.get(item.scale) if item is not None and item.scale else None
    if scale is None:
        return fmt_num(x, 1, lang=lang)
    v = float(x)
    if v in scale.points:
        return scale.label(v, lang)
    lo = max((p for p in scale.points if p < v), default=None)
    hi = min((p for p in scale.points if p > v), default=None)
    return "/".join(scale.label(p, lang) for p in (lo, hi) if p is not None)


def stakeholder_frame(ctx: Any) -> tuple[pd.DataFrame | None, int, str | None]:
    """The authority's stakeholder map (or None), the number of raters and the wave (computed once per context)."""
    memo = getattr(ctx, "memo", None)
    if memo is not None and "stakeholder_frame" in memo:
        return memo["stakeholder_frame"]
    result = _stakeholder_frame(ctx)
    if memo is not None:
        memo["stakeholder_frame"] = result
    return result


def _stakeholder_frame(ctx: Any) -> tuple[pd.DataFrame | None, int, str | None]:
    from ..stakeholders import stakeholder_map

    inst = ctx.data.stakeholder
    if inst is None:
        return None, 0, None
    waves = ctx.waves_with(inst.id)
    if not waves:
        return None, 0, None
    wave = waves[-1]
    r = ctx.data.rsp(inst)
    r = r[(r["authority"] == ctx.authority) & (r["wave"] == wave)]
    n = int(r["participant"].nunique())
    if n < ctx.k:
        return None, n, wave
    maps = ctx.data.stakeholder_maps(ctx.lang)  # all authorities in one pass (batch cache)
    mine = maps[(maps["authority"] == ctx.authority) & (maps["wave"].astype(str) == str(wave))]
    if mine.empty:
        mine = stakeholder_map(r, inst, lang=ctx.lang)
    mine = mine[mine["n_raters"] >= ctx.k]  # a stakeholder (or free entry) named by fewer than k raters is not shown
    if mine.empty:
        return None, n, wave
    return mine.reset_index(drop=True), n, wave


def stakeholder_section(ctx: Any) -> Any:
    """Power-interest grid and a priority table with rater spread, disagreement, engagement gap and strategy."""
    from .sec_competence import _plot, _plots

    title = ctx.t("stakeholders")
    m, n, wave = stakeholder_frame(ctx)
    if wave is None:
        return _html(section("stakeholders", title, note(ctx.t("no_data"))))
    if m is None:
        return _html(section("stakeholders", title, suppressed_note(ctx.lang, title)))
    L = ctx.lang
    parts = [f"<p>{esc(ctx.t('stakeholder_intro', n=n, wave=wave))}</p>"]
    parts.append(_plot(lambda ax: _plots().plot_power_interest(m, lang=L, ax=ax), ctx.t("stakeholder_caption"), size=(7.0, 6.0)))
    order = m.sort_values(["priority", "label"], ascending=[False, True]) if "priority" in m else m
    rows = []
    inst = ctx.data.stakeholder
    for _, r in order.iterrows():
        name = esc(r["label"]) + (f' <span class="small muted">({esc(ctx.t("free_entry"))})</span>' if bool(r.get("free")) else "")
        strategy = f"<strong>{esc(r.get('quadrant_label') or r['quadrant'])}</strong><br><span class='small'>{esc(r['strategy'])}</span>"
        attitude = f"{fmt_num(r['attitude'], 1, lang=L, signed=True)}<br><span class='small muted'>{fmt_num(r['attitude_min'], 0, lang=L, signed=True)} … {fmt_num(r['attitude_max'], 0, lang=L, signed=True)}</span>"
        eng = esc(f"{_engagement(r['engagement_current'], inst, L)} → {_engagement(r['engagement_desired'], inst, L)}")
        if pd.notna(r.get("engagement_gap")) and float(r["engagement_gap"]) >= 1:
            eng += f" {badge(fmt_num(r['engagement_gap'], 1, lang=L, signed=True), 'flag')}"
        dis = (f"{badge('uneinig' if L == 'de' else 'disagree', 'flag')}<br><span class='small'>{esc(r.get('disagreement_reason') or '')}</span>"
               if bool(r["disagreement"]) else "")
        rows.append([name, strategy, esc(fmt_num(r["influence"], 1, lang=L)), esc(fmt_num(r["interest"], 1, lang=L)), attitude, eng, dis])
    header = [ctx.t("stakeholder"), ctx.t("strategy"), ctx.t("influence"), ctx.t("interest"), ctx.t("attitude"), ctx.t("engagement"), ctx.t("disagreement")]
    parts.append(f"<h3>{esc(ctx.t('priority_list'))}</h3>")
    parts.append(table(rows, header, numeric=[2, 3], raw=True))
    return _html(section("stakeholders", title, *parts))


def _readiness_rows(ctx: Any) -> tuple[pd.DataFrame | None, int, str | None]:
    inst = ctx.data.checklist
    if inst is None:
        return None, 0, None
    waves = ctx.waves_with(inst.id)
    if not waves:
        return None, 0, None
    wave = waves[-1]
    rd = ctx.data.readiness()
    rd = rd[rd["wave"] == wave]
    return rd, int(rd.loc[rd["authority"] == ctx.authority, "participant"].nunique()), wave


def readiness_section(ctx: Any) -> Any:
    """Readiness per area (share fulfilled) against the cohort, with simple bars."""
    from ..privacy import group_summary

    inst = ctx.data.checklist
    title = ctx.t("readiness")
    rd, n, wave = _readiness_rows(ctx)
    if rd is None:
        return _html(section("readiness", title, note(ctx.t("no_data"))))
    if n < ctx.k:
        return _html(section("readiness", title, suppressed_note(ctx.lang, title)))
    mine = group_summary(rd[rd["authority"] == ctx.authority], "dimension", "score", k=ctx.k).set_index("dimension")
    cohort = group_summary(rd, "dimension", "score", k=ctx.k).set_index("dimension")
    person = rd[rd["authority"] == ctx.authority].groupby("participant")["score"].mean().rename("score").reset_index()
    overall = group_summary(person, None, "score", k=ctx.k)
    rows = []
    for dim in inst.dimensions:
        if dim.id not in mine.index:
            continue
        a = mine.loc[dim.id]
        share = a["mean"]
        bar = "" if pd.isna(share) else (
            f'<div style="background:#e6eaf0;height:.7rem;width:10rem;border-radius:.2rem">'
            f'<div style="background:#0072B2;height:.7rem;width:{max(0.0, min(1.0, float(share))) * 10:.2f}rem;border-radius:.2rem"></div></div>'
        )
        rows.append([esc(dim.title.get(ctx.lang)), esc(fmt_int(a["n"])), esc(pct(share, ctx.lang)), bar,
                     esc(pct(cohort.loc[dim.id, "mean"], ctx.lang) if dim.id in cohort.index else "–")])
    if not overall.empty:
        o = overall.iloc[0]
        rows.append([f"<strong>{esc(ctx.t('overall'))}</strong>", esc(fmt_int(o["n"])), f"<strong>{esc(pct(o['mean'], ctx.lang))}</strong>", "", ""])
    header = [ctx.t("area"), "n", ctx.t("readiness_share"), "", ctx.t("group_cohort")]
    parts = [f"<p>{esc(ctx.t('readiness_intro', n=n, wave=wave))}</p>", table(rows, header, numeric=[1, 2, 4], raw=True)]
    return _html(section("readiness", title, *parts))


def methods(ctx: Any) -> Any:
    """Methods appendix: reliabilities, tests used, rater agreement, suppression rules."""
    L = ctx.lang
    parts = [f"<p>{esc(tr('methods_scores', L))}</p>", f"<p>{esc(tr('methods_change', L))} {esc(tr('verdict_rule', L))}</p>",
             f"<p>{esc(tr('methods_stakeholders', L))}</p>", f"<p>{esc(tr('methods_privacy', L, k=ctx.k))}</p>"]
    comp = ctx.data.competence
    if comp is not None:
        first = ctx.data.first_wave(comp.id)
        if first is not None:
            rel = ctx.data.reliability(comp.id, first)
            rows = [[ctx.dim_title(comp, r["dimension"]),
                     f"{fmt_num(r['alpha'], 2, lang=L)} [{fmt_num(r['ci_low'], 2, lang=L)}; {fmt_num(r['ci_high'], 2, lang=L)}]",
                     fmt_num(r["omega"], 2, lang=L), fmt_int(r["n_items"]), fmt_int(r["n"])]
                    for _, r in rel.iterrows() if int(r["n"]) >= ctx.k]
            parts.append(f"<h3>{esc(ctx.t('reliability'))}</h3><p>{esc(ctx.t('reliability_intro', wave=first))}</p>")
            parts.append(table(rows, [ctx.t("dimension"), "α [95 %-KI]" if L == "de" else "α [95 % CI]", "ω", ctx.t("items_n"), "n"], numeric=[1, 2, 3, 4]))
    sh = ctx.data.stakeholder
    if sh is not None and hasattr(ctx, "authority"):
        m, n, wave = stakeholder_frame(ctx)
        if m is not None:
            from ..stakeholders import rater_reliability

            r = ctx.data.rsp(sh)
            rr = rater_reliability(r[(r["authority"] == ctx.authority) & (r["wave"] == wave)], sh, authority=ctx.authority)
            rows = [[_ROLES.get(r2["role"], (r2["role"], r2["role"]))[L == "en"], fmt_num(r2["icc_2_1"], 2, lang=L), fmt_num(r2["icc_2_k"], 2, lang=L), fmt_num(r2["kripp_alpha"], 2, lang=L),
                     fmt_int(r2["n_raters"]), fmt_int(r2["n_stakeholders"])] for _, r2 in rr.iterrows()]
            parts.append(f"<h3>{esc(ctx.t('rater_reliability'))}</h3>")
            parts.append(table(rows, [ctx.t("role"), "ICC(2,1)", "ICC(2,k)", "α (Krippendorff)", ctx.t("raters"), ctx.t("stakeholders_n")], numeric=[1, 2, 3, 4, 5]))
    return _html(section("methods", ctx.t("methods"), *parts))
