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
    from ..privacy.release import current_record

    if memo is not None and memo.get("stakeholder_record") is not current_record():
        memo.pop("stakeholder_frame", None)  # released again into a new record (e.g. the audit)
    if memo is not None and "stakeholder_frame" in memo:
        return memo["stakeholder_frame"]
    result = _stakeholder_frame(ctx)
    if memo is not None:
        memo["stakeholder_frame"] = result
        memo["stakeholder_record"] = current_record()
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
    from ..privacy import Level, release

    raters = _raters(r)
    ok = [release(Level(inst.id, f"stakeholder:{sid}", str(wave)), raters.get(str(sid), frozenset()), k=ctx.k,
                  output=f"report:{ctx.authority}", cell=f"stakeholders/{sid}").shown for sid in mine["stakeholder"]]
    mine = mine[ok]  # a stakeholder (or free entry) rated by fewer than k raters is not shown
    if mine.empty:
        return None, n, wave
    return mine.reset_index(drop=True), n, wave


def _raters(r: pd.DataFrame) -> dict[str, frozenset]:
    """Stakeholder -> the raters (respondent ids) who rated it."""
    v = r[r["stakeholder"].notna() & r["value"].notna()]
    ids = v["authority"].astype(str) + "|" + v["participant"].astype(str)
    return {str(s): frozenset(g) for s, g in ids.groupby(v["stakeholder"].astype(str))}


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
    """Readiness per area (share fulfilled) against the cohort (over the shown authorities), with simple bars."""
    inst = ctx.data.checklist
    title = ctx.t("readiness")
    rd, n, wave = _readiness_rows(ctx)
    if rd is None:
        return _html(section("readiness", title, note(ctx.t("no_data"))))
    if n < ctx.k:
        return _html(section("readiness", title, suppressed_note(ctx.lang, title)))
    from ..privacy import Level, release
    from .sec_competence import _output, comparison_levels, reasons_note

    rd = rd.assign(wave=rd["wave"].astype(str), dimension=rd["dimension"].astype(str))
    ministry = rd.loc[rd["authority"] == ctx.authority, "ministry"].iloc[0]
    mine, _, cohort = comparison_levels(ctx, rd, instrument=inst.id, wave=str(wave), ministry=ministry)
    person = rd[rd["authority"] == ctx.authority].groupby("participant")["score"].mean().dropna()
    r_all = release(Level(inst.id, "overall", str(wave)), [f"{ctx.authority}|{p}" for p in person.index],
                    float(person.mean()) if len(person) else None, k=ctx.k, output=_output(ctx), cell="readiness/overall")
    overall = pd.DataFrame([{"n": r_all.n, "mean": r_all.value if r_all.shown else float("nan")}])
    c_label = ctx.t("group_cohort_shown", k=ctx.k) if (cohort["n_excluded"] > 0).any() else ctx.t("group_cohort")
    hidden = []
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
        c_mean = cohort.loc[dim.id, "mean"] if dim.id in cohort.index else float("nan")
        rows.append([esc(dim.title.get(ctx.lang)), esc(fmt_int(a["n"])), esc(pct(share, ctx.lang)), bar, esc(pct(c_mean, ctx.lang))])
        if bool(a["suppressed"]):
            hidden.append((dim.title.get(ctx.lang), a["reason"]))
        if pd.isna(c_mean):
            hidden.append((f"{dim.title.get(ctx.lang)} ({ctx.t('group_cohort')})", cohort.loc[dim.id, "reason"] if dim.id in cohort.index else "no_data"))
    if not overall.empty:
        o = overall.iloc[0]
        rows.append([f"<strong>{esc(ctx.t('overall'))}</strong>", esc(fmt_int(o["n"])), f"<strong>{esc(pct(o['mean'], ctx.lang))}</strong>", "", ""])
    header = [ctx.t("area"), "n", ctx.t("readiness_share"), "", c_label]
    parts = [f"<p>{esc(ctx.t('readiness_intro', n=n, wave=wave))}</p>", table(rows, header, numeric=[1, 2, 4], raw=True), reasons_note(ctx, hidden)]
    return _html(section("readiness", title, *parts))


def released_reliability(ctx: Any, inst: Any, wave: str) -> pd.DataFrame:
    """The cohort's reliability per dimension (one wave), released over the respondents behind each alpha."""
    from ..privacy import Level, release_frame, respondents

    rel = ctx.data.reliability(inst.id, wave).copy()
    s = ctx.data.scores()
    s = s[s["wave"].astype(str) == str(wave)]
    sets = respondents(s.assign(dimension=s["dimension"].astype(str)), "dimension", "score")
    rel["who"] = [sets.get(str(d), frozenset()) for d in rel["dimension"]]
    return release_frame(rel.drop(columns=["suppressed"], errors="ignore"), quantity=lambda r: Level(inst.id, f"reliability:{r['dimension']}", str(wave)),
                         people="who", k=ctx.k, output=f"report:{getattr(ctx, 'authority', None) or 'cohort'}",
                         cell=lambda r: f"reliability/{r['dimension']}", estimates=["alpha", "ci_low", "ci_high", "omega"])


def methods(ctx: Any) -> Any:
    """Methods appendix: reliabilities, tests used, rater agreement, suppression rules."""
    L = ctx.lang
    parts = [f"<p>{esc(tr('methods_scores', L))}</p>", f"<p>{esc(tr('methods_change', L))}</p>",
             f"<p>{esc(tr('methods_stakeholders', L))}</p>", f"<p>{esc(tr('methods_privacy', L, k=ctx.k))}</p>"]
    comp = ctx.data.competence
    if comp is not None:
        first = ctx.data.first_wave(comp.id)
        if first is not None:
            rel = released_reliability(ctx, comp, first)
            rows = [[ctx.dim_title(comp, r["dimension"]),
                     f"{fmt_num(r['alpha'], 2, lang=L)} [{fmt_num(r['ci_low'], 2, lang=L)}; {fmt_num(r['ci_high'], 2, lang=L)}]",
                     fmt_num(r["omega"], 2, lang=L), fmt_int(r["n_items"]), fmt_int(r["n"])]
                    for _, r in rel.iterrows() if not r["suppressed"]]
            parts.append(f"<h3>{esc(ctx.t('reliability'))}</h3><p>{esc(ctx.t('reliability_intro', wave=first))}</p>")
            parts.append(table(rows, [ctx.t("dimension"), "α [95 %-KI]" if L == "de" else "α [95 % CI]", "ω", ctx.t("items_n"), "n"], numeric=[1, 2, 3, 4]))
    sh = ctx.data.stakeholder
    if sh is not None and hasattr(ctx, "authority"):
        m, n, wave = stakeholder_frame(ctx)
        if m is not None:
            from ..stakeholders import rater_reliability

            from ..privacy import Level, release

            r = ctx.data.rsp(sh)
            r = r[(r["authority"] == ctx.authority) & (r["wave"] == wave)]
            r = r[r["stakeholder"].astype(str).isin(set(m["stakeholder"].astype(str)))]  # only the stakeholders shown
            rr = rater_reliability(r, sh, authority=ctx.authority)
            raters = frozenset().union(*_raters(r).values()) if len(r) else frozenset()
            rr = rr[[release(Level(sh.id, f"agreement:{role}", str(wave)), raters, k=ctx.k, output=f"report:{ctx.authority}",
                             cell=f"methods/agreement/{role}").shown for role in rr["role"]]]
            rows = [[_ROLES.get(r2["role"], (r2["role"], r2["role"]))[L == "en"], fmt_num(r2["icc_2_1"], 2, lang=L), fmt_num(r2["icc_2_k"], 2, lang=L), fmt_num(r2["kripp_alpha"], 2, lang=L),
                     fmt_int(r2["n_raters"]), fmt_int(r2["n_stakeholders"])] for _, r2 in rr.iterrows()]
            parts.append(f"<h3>{esc(ctx.t('rater_reliability'))}</h3>")
            parts.append(table(rows, [ctx.t("role"), "ICC(2,1)", "ICC(2,k)", "α (Krippendorff)", ctx.t("raters"), ctx.t("stakeholders_n")], numeric=[1, 2, 3, 4, 5]))
    return _html(section("methods", ctx.t("methods"), *parts))
