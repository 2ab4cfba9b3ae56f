"""Authority report sections: stakeholder map, reality-check readiness and the methods appendix.

Stakeholder names typed by users (free entries) are escaped like every other cell.

Example
-------
>>> from toolkit.reports.sec_stakeholders import pct
>>> pct(0.456, "de"), pct(0.456, "en")
('46\\u202f%', '46%')
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..privacy.release import records
from .base import draw_figure, once, output_name, plots, reasons, section_data
from .html import fmt_num
from .registry import SectionData
from .render import pct
from .sec_competence import _by_index, _note_section, reliability_frame, suppressed_text
from .texts import tr

__all__ = ["stakeholder_section", "readiness_section", "methods", "pct", "stakeholder_frame", "open_points", "stakeholder_table", "released_reliability"]

def _role(role: str, lang: str) -> str:
    """The name of a rated property (influence, interest, ...) from the catalogue; the id if unknown."""
    try:
        return tr("role." + role, lang)
    except KeyError:
        return role


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
    r = ctx.rows(ctx.data.rsp(inst))
    r = r[r["wave"] == wave]
    n = int(r["participant"].nunique())
    if n < ctx.k:
        return None, n, wave
    maps = ctx.data.stakeholder_maps(ctx.lang)  # all authorities in one pass (batch cache)
    mine = ctx.rows(maps)
    mine = mine[mine["wave"].astype(str) == str(wave)]
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


def stakeholder_section(ctx: Any) -> SectionData:
    """Power-interest grid and a priority table: one block per quadrant with its strategy stated once,
    the values the order is based on (influence, interest, legitimacy, urgency, engagement gap, priority),
    grid numbers in the table, and how many stakeholders are not shown.

    ``data["table"]``: the shown stakeholders in table order (:func:`stakeholder_table`); ``data["quadrants"]``:
    ``[{"label", "strategy", "rows"}]`` with the engagement levels as scale labels.
    """
    from ..stakeholders import STRATEGIES

    m, n, wave = stakeholder_frame(ctx)
    if wave is None:
        return _note_section(ctx, "stakeholders", ctx.t("no_data"))
    if m is None:
        return _note_section(ctx, "stakeholders", suppressed_text(ctx, ctx.t("stakeholders")), "suppressed")
    L = ctx.lang
    tbl = stakeholder_table(ctx, m)
    fig = draw_figure(lambda ax: plots().plot_power_interest(tbl, lang=L, ax=ax, labels="numbers"), size=(7.0, 6.0))
    inst = ctx.data.stakeholder
    table_rows = records(tbl)  # plain dicts from whole columns (a Series per row costs more than the table)
    by_quadrant: dict[Any, list[dict[str, Any]]] = {}
    for r in table_rows:  # the quadrants in order of appearance, as groupby(sort=False)
        if not pd.isna(r["quadrant"]):
            by_quadrant.setdefault(r["quadrant"], []).append(r)
    quads = []
    for q, grp in by_quadrant.items():
        strategy = STRATEGIES.get(q, {}).get("en" if L == "en" else "de", "")
        strategy = strategy.split(":", 1)[1].strip() if ":" in strategy else strategy
        rows = []
        for r in grp:
            rows.append({**r, "free": bool(r.get("free")), "disagreement": bool(r["disagreement"]),
                         "engagement_text": f"{_engagement(r['engagement_current'], inst, L)} → {_engagement(r['engagement_desired'], inst, L)}"})
        quads.append({"label": grp[0]["quadrant_label"] or q, "strategy": strategy, "rows": rows})
    hidden = int(ctx.memo.get("stakeholders_not_shown", 0)) if getattr(ctx, "memo", None) is not None else 0
    disagreements = [f"{int(r['number'])} {r['label']}: {r['disagreement_reason']}" for r in table_rows
                     if bool(r["disagreement"]) and r.get("disagreement_reason")]
    return section_data(ctx, "stakeholders", "sections/stakeholders.html.j2", n=n, wave=wave, figure=fig, caption=ctx.t("stakeholder_caption"),
                        table=tbl, quadrants=quads, not_shown=hidden, disagreements=disagreements, k=ctx.k)


def _readiness_rows(ctx: Any) -> tuple[pd.DataFrame | None, int, str | None]:
    inst = ctx.data.checklist
    if inst is None:
        return None, 0, None
    waves = ctx.waves_with(inst.id)
    if not waves:
        return None, 0, None
    wave = waves[-1]
    rd = ctx.data.readiness()
    # the wave's rows, as the comparison levels read them; once per process (the same frame for every report)
    rd = ctx.data.local(("readiness", wave), lambda: rd[rd["wave"] == wave].pipe(
        lambda w: w.assign(wave=w["wave"].astype(str), dimension=w["dimension"].astype(str))))
    return rd, int(ctx.rows(rd)["participant"].nunique()), wave


def _cohort_overall(ctx: Any, rd: pd.DataFrame, inst: Any, wave: str) -> pd.Series | None:
    """The cohort's overall share fulfilled (per person over all points), over the shown authorities, released."""
    from .sec_competence import released_plan

    out = released_plan(ctx, overall_plan(ctx.data, rd, inst, wave, ctx.k), None, None, instrument=inst.id, output=output_name(ctx))
    return out.loc["overall"] if "overall" in out.index else None


def overall_plan(data: Any, rd: pd.DataFrame, inst: Any, wave: str, k: int) -> pd.DataFrame:
    """The cohort's overall share fulfilled in ``wave`` as a :func:`~toolkit.privacy.levels` plan (not recorded), once per
    cohort (in ``data.derived``): what :func:`_cohort_overall` releases into each report."""
    from ..privacy import levels
    from ..privacy.release import unrecorded

    def compute() -> pd.DataFrame:
        person = rd.groupby(["authority", "ministry", "participant"], observed=True)["score"].mean().rename("score").reset_index()
        with unrecorded():  # decisions only; each report records its own row
            return levels(person.assign(wave=str(wave), dimension="overall"), None, k=k, instrument=inst.id, output="plan")

    return data.derived(f"levels:{inst.id}:{wave}:overall:{k}", compute)


def report_plans(ctx: Any) -> None:
    """The cohort-wide plans the readiness section of ``ctx``'s report keeps in ``ctx.data.derived``, without the report
    (see :func:`toolkit.reports.context.warm_report_plans`): the same conditions as :func:`readiness_section`."""
    from .sec_competence import level_plan

    rd, n, wave = _readiness_rows(ctx)
    if rd is None or n < ctx.k:
        return
    inst = ctx.data.checklist
    for by in ("authority", "ministry", None):
        level_plan(ctx.data, rd, instrument=inst.id, wave=str(wave), by=by, k=ctx.k)
    overall_plan(ctx.data, rd, inst, str(wave), ctx.k)


def open_points(ctx: Any) -> pd.DataFrame:
    """Checklist points of the authority's latest wave answered "no" or "partly", with how many said so.

    Only items with at least k valid answers (the "don't know" code is not valid) are listed.
    Columns ``dimension, item, text, n_valid, n_no, n_partly, n_open, share_open``, sorted by
    ``share_open`` (descending), then the instrument's order; empty without data or below k.
    Released once per report (the summary and the readiness section list them); callers must not change it.
    """
    return once(ctx, "open_points", lambda: _open_points(ctx))


def _open_points(ctx: Any) -> pd.DataFrame:
    cols = ["dimension", "item", "text", "n_valid", "n_no", "n_partly", "n_open", "share_open"]
    inst = ctx.data.checklist
    if inst is None:
        return pd.DataFrame(columns=cols)
    waves = ctx.waves_with(inst.id)
    if not waves:
        return pd.DataFrame(columns=cols)
    from ..privacy import Level, release
    
    wave = str(waves[-1])
    r = ctx.rows(ctx.data.rsp(inst))
    r = r[r["wave"].astype(str) == wave]
    at = r.groupby(r["item"], observed=True, sort=False).indices  # one pass over the rows, not one per item
    values = pd.to_numeric(r["value"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    ids = (r["authority"].astype(str) + "|" + r["participant"].astype(str)).to_numpy()
    rows = []
    for pos, it in enumerate(inst.items):
        if it.type != "checklist":
            continue
        scale = inst.scale_of(it.id)
        idx = at.get(it.id, np.array([], dtype=np.intp))
        valid = idx[np.isin(values[idx], np.asarray(list(scale.points), dtype=float))]
        v = values[valid]
        n_valid = int(len(v))
        # the disclosure rule for single items: k valid answers (released and recorded with the people behind them)
        people = ids[valid]
        if not release(Level(inst.id, it.id, wave), people, k=ctx.k, output=output_name(ctx), cell=f"readiness/open/{it.id}").shown:
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


def readiness_section(ctx: Any) -> SectionData:
    """Readiness per area (share fulfilled) against the cohort (over the shown authorities), with simple bars, and the open points.

    ``data["areas"]``: ``area, title, n, share, cohort_share`` per area and a last row ``overall``; ``data["open"]``:
    the open points (:func:`open_points`), of which the first ``limit`` are listed and the rest counted.
    """
    inst = ctx.data.checklist
    title = ctx.t("readiness")
    rd, n, wave = _readiness_rows(ctx)
    if rd is None:
        return _note_section(ctx, "readiness", ctx.t("no_data"))
    if n < ctx.k:
        return _note_section(ctx, "readiness", suppressed_text(ctx, title), "suppressed")
    from ..privacy import Level, release
    from .sec_competence import comparison_levels

    own_rows = ctx.rows(rd)  # rd: the wave's rows with wave and dimension as text (_readiness_rows)
    ministry = own_rows["ministry"].iloc[0]
    mine, _, cohort = comparison_levels(ctx, rd, instrument=inst.id, wave=str(wave), ministry=ministry)
    person = own_rows.groupby("participant")["score"].mean().dropna()
    r_all = release(Level(inst.id, "overall", str(wave)), [f"{ctx.authority}|{p}" for p in person.index],
                    float(person.mean()) if len(person) else None, k=ctx.k, output=output_name(ctx), cell="readiness/overall")
    c_label = ctx.t("group_cohort_shown", k=ctx.k) if (cohort["n_excluded"] > 0).any() else ctx.t("group_cohort")
    hidden = []
    co = _cohort_overall(ctx, rd, inst, str(wave))
    rows = []
    mine_rows, cohort_rows = _by_index(mine), _by_index(cohort)  # the values .loc gives, without a Series per row
    for dim in inst.dimensions:
        if dim.id not in mine_rows:
            continue
        a = mine_rows[dim.id]
        share = float("nan") if pd.isna(a["mean"]) else float(a["mean"])
        c_mean = cohort_rows[dim.id]["mean"] if dim.id in cohort_rows else float("nan")
        rows.append({"area": dim.id, "title": dim.title.get(ctx.lang), "n": int(a["n"]), "share": share, "cohort_share": c_mean,
                     "bar": None if pd.isna(share) else max(0.0, min(1.0, share))})
        if bool(a["suppressed"]):
            hidden.append((dim.title.get(ctx.lang), a["reason"]))
        if pd.isna(c_mean):
            hidden.append((f"{dim.title.get(ctx.lang)} ({ctx.t('group_cohort')})", cohort_rows[dim.id]["reason"] if dim.id in cohort_rows else "no_data"))
    c_o = float("nan") if co is None or bool(co["suppressed"]) else co["mean"]
    if co is not None and bool(co["suppressed"]):
        hidden.append((f"{ctx.t('overall')} ({ctx.t('group_cohort')})", co["reason"]))
    rows.append({"area": "overall", "title": ctx.t("overall"), "n": r_all.n, "share": r_all.value if r_all.shown else float("nan"),
                 "cohort_share": c_o, "bar": None})
    areas = pd.DataFrame(rows, columns=["area", "title", "n", "share", "cohort_share", "bar"])
    op = open_points(ctx)
    return section_data(ctx, "readiness", "sections/readiness.html.j2", n=n, wave=wave, areas=areas, cohort_label=c_label,
                        reasons=reasons(ctx, hidden), open=op.assign(area_title=[ctx.dim_title(inst, d) for d in op["dimension"]]), limit=12, k=ctx.k)


def released_reliability(ctx: Any, inst: Any, wave: str) -> pd.DataFrame:
    """The cohort's reliability per dimension (one wave), released over the respondents behind each alpha."""
    from ..privacy import Level, release_frame, respondents

    rel = ctx.data.reliability(inst.id, wave).copy()

    def who() -> dict:
        s = ctx.data.scores()
        s = s[s["wave"].astype(str) == str(wave)]
        return respondents(s.assign(dimension=s["dimension"].astype(str)), "dimension", "score")

    sets = ctx.data.local(("reliability_respondents", inst.id, str(wave)), who)  # the cohort's, once per process
    rel["who"] = [sets.get(str(d), frozenset()) for d in rel["dimension"]]
    out = release_frame(rel.drop(columns=["suppressed"], errors="ignore"), quantity=lambda r: Level(inst.id, f"reliability:{r['dimension']}", str(wave)),
                         people="who", k=ctx.k, output=f"report:{getattr(ctx, 'authority', None) or 'cohort'}",
                         cell=lambda r: f"reliability/{r['dimension']}", estimates=["alpha", "ci_low", "ci_high", "omega_total", "omega"])
    if "negative_items" in out.columns:  # the loading diagnostic is an estimate of the hidden cell too
        out["negative_items"] = out["negative_items"].astype(object).where(~out["suppressed"].to_numpy(dtype=bool), None)
    return out


def methods(ctx: Any) -> SectionData:
    """Methods appendix: reliabilities, tests used, rater agreement, suppression rules.

    ``data["reliability"]``: released reliability rows of the first wave (:func:`reliability_frame`);
    ``data["agreement"]``: rater agreement per rated property of the shown stakeholders (or None).
    """
    comp = ctx.data.competence
    rel, first = None, None
    if comp is not None:
        first = ctx.data.first_wave(comp.id)
        if first is not None:
            rel = reliability_frame(ctx, comp, released_reliability(ctx, comp, first))
    agreement = None
    sh = ctx.data.stakeholder
    if sh is not None and hasattr(ctx, "authority"):
        m, n, wave = stakeholder_frame(ctx)
        if m is not None:
            from ..privacy import Level, release
            from ..stakeholders import rater_reliability

            r = ctx.rows(ctx.data.rsp(sh))
            r = r[r["wave"] == wave]
            r = r[r["stakeholder"].astype(str).isin(set(m["stakeholder"].astype(str)))]  # only the stakeholders shown
            rr = rater_reliability(r, sh, authority=ctx.authority)
            raters = frozenset().union(*_raters(r).values()) if len(r) else frozenset()
            rr = rr[[release(Level(sh.id, f"agreement:{role}", str(wave)), raters, k=ctx.k, output=f"report:{ctx.authority}",
                             cell=f"methods/agreement/{role}").shown for role in rr["role"]]]
            agreement = rr.assign(role_title=[_role(x, ctx.lang) for x in rr["role"]]).reset_index(drop=True)
    return section_data(ctx, "methods", "sections/methods.html.j2", k=ctx.k, reliability=rel, reliability_wave=first, agreement=agreement)
