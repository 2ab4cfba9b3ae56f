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
from .sec_competence import reliability_table
from .texts import tr

__all__ = ["stakeholder_section", "readiness_section", "methods", "pct", "stakeholder_frame", "open_points", "open_points_html", "stakeholder_table"]

def _role(role: str, lang: str) -> str:
    """The name of a rated property (influence, interest, ...) from the catalogue; the id if unknown."""
    try:
        return tr("role." + role, lang)
    except KeyError:
        return role


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
    if getattr(ctx, "memo", None) is not None:
        ctx.memo["stakeholders_not_shown"] = len(ok) - sum(ok)
    mine = mine[ok]  # a stakeholder (or free entry) rated by fewer than k raters is not shown
    if mine.empty:
        return None, n, wave
    return mine.reset_index(drop=True), n, wave


def stakeholder_table(ctx: Any, m: pd.DataFrame) -> pd.DataFrame:
    """The shown stakeholders in table order, numbered as in the grid.

    Grouped by quadrant (manage closely, keep satisfied, keep informed, monitor), within a
    quadrant by priority (descending), then name. ``number`` is the row's number in the
    table and in the grid (the grid is drawn from this frame in this order).
    """
    from ..stakeholders import QUADRANTS

    qorder = {q: i for i, q in enumerate(QUADRANTS)}
    t = m.assign(_q=m["quadrant"].map(qorder).fillna(len(QUADRANTS)))
    t = t.sort_values(["_q", "priority", "label"], ascending=[True, False, True], kind="stable").drop(columns="_q").reset_index(drop=True)
    t["number"] = range(1, len(t) + 1)
    return t


def _raters(r: pd.DataFrame) -> dict[str, frozenset]:
    """Stakeholder -> the raters (respondent ids) who rated it."""
    v = r[r["stakeholder"].notna() & r["value"].notna()]
    ids = v["authority"].astype(str) + "|" + v["participant"].astype(str)
    return {str(s): frozenset(g) for s, g in ids.groupby(v["stakeholder"].astype(str))}


def stakeholder_section(ctx: Any) -> Any:
    """Power-interest grid and a priority table: one block per quadrant with its strategy stated once,
    the values the order is based on (influence, interest, legitimacy, urgency, engagement gap, priority),
    grid numbers in the table, and how many stakeholders are not shown."""
    from ..stakeholders import STRATEGIES
    from .sec_competence import _plot, _plots

    title = ctx.t("stakeholders")
    m, n, wave = stakeholder_frame(ctx)
    if wave is None:
        return _html(section("stakeholders", title, note(ctx.t("no_data"))))
    if m is None:
        return _html(section("stakeholders", title, suppressed_note(ctx.lang, title)))
    L = ctx.lang
    tbl = stakeholder_table(ctx, m)
    parts = [f"<p>{esc(ctx.t('stakeholder_intro', n=n, wave=wave))}</p>"]
    parts.append(_plot(lambda ax: _plots().plot_power_interest(tbl, lang=L, ax=ax, labels="numbers"), ctx.t("stakeholder_caption"), size=(7.0, 6.0)))
    inst = ctx.data.stakeholder
    header = ["Nr.", ctx.t("stakeholder"), ctx.t("influence_interest"), ctx.t("legitimacy_urgency"), ctx.t("attitude"),
              ctx.t("engagement"), ctx.t("gap"), ctx.t("priority")]
    numeric = {0, 2, 3, 6, 7}
    body = []
    for q, grp in tbl.groupby("quadrant", sort=False):
        label = grp["quadrant_label"].iloc[0] or q
        strategy = STRATEGIES.get(q, {}).get("en" if L == "en" else "de", "")
        strategy = strategy.split(":", 1)[1].strip() if ":" in strategy else strategy
        body.append(f'<tbody class="quad-block"><tr class="quad"><td colspan="{len(header)}"><strong>{esc(label)}</strong> <span class="small">– {esc(strategy)}</span></td></tr>')
        for i, (_, r) in enumerate(grp.iterrows()):
            if i == 2:  # the quadrant's heading row stays with its first two stakeholders; the rest may run on
                body.append("</tbody><tbody>")
            name = esc(r["label"]) + (f' <span class="small muted">({esc(ctx.t("free_entry"))})</span>' if bool(r.get("free")) else "")
            if bool(r["disagreement"]):
                name += f" {badge(ctx.t('disagree_badge'), 'flag')}"
            attitude = (f"{fmt_num(r['attitude'], 1, lang=L, signed=True)} <span class='small muted'>({fmt_num(r['attitude_min'], 0, lang=L, signed=True)}"
                        f"…{fmt_num(r['attitude_max'], 0, lang=L, signed=True)})</span>")
            eng = esc(f"{_engagement(r['engagement_current'], inst, L)} → {_engagement(r['engagement_desired'], inst, L)}")
            cells = [esc(fmt_int(r["number"])), name,
                     esc(f"{fmt_num(r['influence'], 1, lang=L)} / {fmt_num(r['interest'], 1, lang=L)}"),
                     esc(f"{fmt_num(r['legitimacy'], 1, lang=L)} / {fmt_num(r['urgency'], 1, lang=L)}"),
                     attitude, eng, esc(fmt_num(r["engagement_gap"], 1, lang=L, signed=True)), f"<strong>{esc(fmt_num(r['priority'], 1, lang=L))}</strong>"]
            body.append("<tr>" + "".join(f'<td{" class=num" if i in numeric else ""}>{c}</td>' for i, c in enumerate(cells)) + "</tr>")
        body.append("</tbody>")
    head = "".join(f'<th{" class=num" if i in numeric else ""}>{esc(h)}</th>' for i, h in enumerate(header))
    parts.append(f"<h3>{esc(ctx.t('priority_list'))}</h3><p class='small'>{esc(ctx.t('priority_basis'))}</p>")
    parts.append(f'<table class="upo stakeholders"><thead><tr>{head}</tr></thead>{"".join(body)}</table>')
    hidden = int(ctx.memo.get("stakeholders_not_shown", 0)) if getattr(ctx, "memo", None) is not None else 0
    if hidden:
        parts.append(note(ctx.t("stakeholders_not_shown", n=hidden, k=ctx.k), "suppressed"))
    if tbl["disagreement"].astype(bool).any():
        reasons = [f"{fmt_int(r['number'])} {r['label']}: {r['disagreement_reason']}" for _, r in tbl.iterrows() if bool(r["disagreement"]) and r.get("disagreement_reason")]
        if reasons:
            parts.append(f"<p class='small muted'>{esc(ctx.t('disagreement'))}: {esc('; '.join(reasons))}</p>")
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


def _cohort_overall(ctx: Any, rd: pd.DataFrame, inst: Any, wave: str) -> pd.Series | None:
    """The cohort's overall share fulfilled (per person over all points), over the shown authorities, released."""
    from ..privacy import levels, recording, release_levels
    from .sec_competence import _output

    def compute() -> pd.DataFrame:
        person = rd.groupby(["authority", "ministry", "participant"], observed=True)["score"].mean().rename("score").reset_index()
        with recording():  # decisions only; each report records its own row
            return levels(person.assign(wave=str(wave), dimension="overall"), None, k=ctx.k, instrument=inst.id, output="plan")

    frame = ctx.data.derived(f"levels:{inst.id}:{wave}:overall:{ctx.k}", compute)
    out = release_levels(frame, by=None, k=ctx.k, instrument=inst.id, output=_output(ctx)).set_index("dimension")
    return out.loc["overall"] if "overall" in out.index else None


def open_points(ctx: Any) -> pd.DataFrame:
    """Checklist points of the authority's latest wave answered "no" or "partly", with how many said so.

    Only items with at least k valid answers (the "don't know" code is not valid) are listed.
    Columns ``dimension, item, text, n_valid, n_no, n_partly, n_open, share_open``, sorted by
    ``share_open`` (descending), then the instrument's order; empty without data or below k.
    """
    cols = ["dimension", "item", "text", "n_valid", "n_no", "n_partly", "n_open", "share_open"]
    inst = ctx.data.checklist
    if inst is None:
        return pd.DataFrame(columns=cols)
    waves = ctx.waves_with(inst.id)
    if not waves:
        return pd.DataFrame(columns=cols)
    from ..privacy import Level, release
    from .sec_competence import _output

    wave = str(waves[-1])
    r = ctx.data.rsp(inst)
    r = r[(r["authority"] == ctx.authority) & (r["wave"].astype(str) == wave)]
    rows = []
    for pos, it in enumerate(inst.items):
        if it.type != "checklist":
            continue
        scale = inst.scale_of(it.id)
        sub = r[(r["item"] == it.id) & r["value"].isin(list(scale.points))]
        v = sub["value"]
        n_valid = int(len(v))
        # the disclosure rule for single items: k valid answers (released and recorded with the people behind them)
        people = sub["authority"].astype(str) + "|" + sub["participant"].astype(str)
        if not release(Level(inst.id, it.id, wave), people, k=ctx.k, output=_output(ctx), cell=f"readiness/open/{it.id}").shown:
            continue
        lo, hi = scale.min, scale.max
        n_no = int((v == lo).sum())
        n_partly = int(((v > lo) & (v < hi)).sum())
        if n_no + n_partly == 0:
            continue
        rows.append([inst.dimension_of(it.id).id, it.id, it.text.get(ctx.lang), n_valid, n_no, n_partly, n_no + n_partly,
                     (n_no + n_partly) / n_valid, pos])
    out = pd.DataFrame(rows, columns=cols + ["_pos"])
    return out.sort_values(["share_open", "_pos"], ascending=[False, True], kind="stable").drop(columns="_pos").reset_index(drop=True)


def readiness_section(ctx: Any) -> Any:
    """Readiness per area (share fulfilled) against the cohort (over the shown authorities), with simple bars, and the open points."""
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
    co = _cohort_overall(ctx, rd, inst, str(wave))
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
        c_o = float("nan") if co is None or bool(co["suppressed"]) else co["mean"]
        if co is not None and bool(co["suppressed"]):
            hidden.append((f"{ctx.t('overall')} ({ctx.t('group_cohort')})", co["reason"]))
        rows.append([f"<strong>{esc(ctx.t('overall'))}</strong>", esc(fmt_int(o["n"])), f"<strong>{esc(pct(o['mean'], ctx.lang))}</strong>", "",
                     f"<strong>{esc(pct(c_o, ctx.lang))}</strong>"])
    header = [ctx.t("area"), "n", ctx.t("readiness_share"), "", c_label]
    parts = [f"<p>{esc(ctx.t('readiness_intro', n=n, wave=wave))}</p>", table(rows, header, numeric=[1, 2, 4], raw=True), reasons_note(ctx, hidden)]
    parts.append(open_points_html(ctx, open_points(ctx)))
    return _html(section("readiness", title, *parts))


def open_points_html(ctx: Any, op: pd.DataFrame, *, limit: int = 12) -> str:
    """The open points as a short table: most open first, at most ``limit`` rows, the rest counted."""
    head = f"<h3>{esc(ctx.t('open_points'))}</h3><p>{esc(ctx.t('open_points_intro', k=ctx.k))}</p>"
    if op.empty:
        return head + note(ctx.t("open_points_none"))
    inst = ctx.data.checklist
    rows = [[esc(r["text"]), esc(ctx.dim_title(inst, r["dimension"])), esc(fmt_int(r["n_no"])), esc(fmt_int(r["n_partly"])),
             esc(f"{fmt_int(r['n_open'])} / {fmt_int(r['n_valid'])}")] for _, r in op.head(limit).iterrows()]
    out = head + table(rows, [ctx.t("open_point"), ctx.t("area"), ctx.t("answer_no"), ctx.t("answer_partly"), ctx.t("open_of_valid")],
                       numeric=[2, 3, 4], raw=True)
    if len(op) > limit:
        out += f"<p class='small muted'>{esc(ctx.t('open_points_more', n=len(op) - limit))}</p>"
    return out


def released_reliability(ctx: Any, inst: Any, wave: str) -> pd.DataFrame:
    """The cohort's reliability per dimension (one wave), released over the respondents behind each alpha."""
    from ..privacy import Level, release_frame, respondents

    rel = ctx.data.reliability(inst.id, wave).copy()
    s = ctx.data.scores()
    s = s[s["wave"].astype(str) == str(wave)]
    sets = respondents(s.assign(dimension=s["dimension"].astype(str)), "dimension", "score")
    rel["who"] = [sets.get(str(d), frozenset()) for d in rel["dimension"]]
    out = release_frame(rel.drop(columns=["suppressed"], errors="ignore"), quantity=lambda r: Level(inst.id, f"reliability:{r['dimension']}", str(wave)),
                         people="who", k=ctx.k, output=f"report:{getattr(ctx, 'authority', None) or 'cohort'}",
                         cell=lambda r: f"reliability/{r['dimension']}", estimates=["alpha", "ci_low", "ci_high", "omega_total", "omega"])
    if "negative_items" in out.columns:  # the loading diagnostic is an estimate of the hidden cell too
        out["negative_items"] = out["negative_items"].astype(object).where(~out["suppressed"].to_numpy(dtype=bool), None)
    return out


def methods(ctx: Any) -> Any:
    """Methods appendix: reliabilities, tests used, rater agreement, suppression rules."""
    L = ctx.lang
    parts = [f"<p>{esc(tr('methods_scores', L))}</p>", f"<p>{esc(tr('methods_change', L))} {esc(tr('verdict_rule', L))}</p>",
             f"<p>{esc(tr('methods_stakeholders', L))}</p>", f"<p>{esc(tr('methods_privacy', L, k=ctx.k))}</p>"]
    comp = ctx.data.competence
    if comp is not None:
        first = ctx.data.first_wave(comp.id)
        if first is not None:
            rel = released_reliability(ctx, comp, first)
            parts.append(f"<h3>{esc(ctx.t('reliability'))}</h3><p>{esc(ctx.t('reliability_intro', wave=first))}</p>")
            parts.append(reliability_table(ctx, comp, rel))
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
            rows = [[_role(r2["role"], L), fmt_num(r2["icc_2_1"], 2, lang=L), fmt_num(r2["icc_2_k"], 2, lang=L), fmt_num(r2["kripp_alpha"], 2, lang=L),
                     fmt_int(r2["n_raters"]), fmt_int(r2["n_stakeholders"])] for _, r2 in rr.iterrows()]
            parts.append(f"<h3>{esc(ctx.t('rater_reliability'))}</h3>")
            parts.append(table(rows, [ctx.t("role"), "ICC(2,1)", "ICC(2,k)", "α (Krippendorff)", ctx.t("raters"), ctx.t("stakeholders_n")], numeric=[1, 2, 3, 4, 5]))
    return _html(section("methods", ctx.t("methods"), *parts))
