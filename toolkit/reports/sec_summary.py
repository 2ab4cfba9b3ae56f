"""The authority report's first page (summary) and its "Nächste Schritte" (next steps).

Each section computes its data first (:func:`summary_data`, :func:`next_steps_data`) and
renders it second (:func:`summary`, :func:`next_steps`). Every number comes from the values
the other sections release: :func:`_release_summary` is the one place this module asks the
disclosure layer, so the release API can replace it in one spot.

Authorities below the minimum group size get a summary that is still useful: participation,
why values are hidden (in plain words), the cohort's reference profile and what they can do.

Example
-------
>>> import tempfile, pathlib
>>> from toolkit.demo import build_demo
>>> db = pathlib.Path(tempfile.mkdtemp()) / "d.sqlite"
>>> build_demo(db, n_authorities=2, seed=1).close()
>>> ctx = __import__("toolkit.reports.sections", fromlist=["x"]).authority_context(db, "BAMF")
>>> d = summary_data(ctx)
>>> d.small, len(d.strengths), len(d.needs)
(False, 3, 3)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .html import esc, fmt_num, note, section

__all__ = ["SummaryData", "summary_data", "summary", "uncertain_html", "NextStep", "next_steps_data", "next_steps", "agreed_measures"]

log = logging.getLogger("toolkit")
TOP = 3


def _html(s: str) -> Any:
    from .sections import Html

    return Html(s)


# ---------------------------------------------------------------------------------------------- measures of the authority
def agreed_measures(db: str | Path, authority: str) -> list[dict[str, Any]]:
    """Measures the authority agreed on (recorded in the workshop's presenter view), oldest first.

    Each is ``{"dimension", "text", "wave", "who", "due"}`` for a measure of one field
    (:meth:`toolkit.store.Store.measures`); measures of a stakeholder belong to the stakeholder section.
    """
    from ..store import Store

    with Store(db) as st:
        df = st.measures(authority=authority)
    out = []
    for _, r in df[df["dimension"].notna()].iterrows():
        out.append({"dimension": r["dimension"], "text": str(r["what"]), "wave": str(r["wave"]),
                    "who": None if pd.isna(r["who"]) else str(r["who"]), "due": None if pd.isna(r["due"]) else str(r["due"])})
    return out


# ---------------------------------------------------------------------------------------------- release (disclosure layer)
def _release_summary(ctx: Any) -> dict[str, Any]:
    """Everything the summary and the next steps show, as the other sections release it (:mod:`toolkit.privacy`).

    ``own``: the authority's dimension means in the profile wave and ``cohort``: the cohort's
    reference profile over the shown authorities (both from
    :func:`~toolkit.reports.sec_competence.comparison_levels`, released into this report);
    ``needs``: the needs ranking (ranks over shown dimensions); ``change``: the paired change
    from the first to the latest wave as the change section releases it; ``open``: the reality
    check's open points (items released with their k valid answers).
    """
    from .sec_competence import _change_frame, comparison_levels, needs_table, profile_wave
    from .sec_stakeholders import open_points

    memo = ctx.memo
    from ..privacy.release import current_record

    if memo.get("summary_record") is current_record() and "summary_release" in memo:
        return memo["summary_release"]
    comp = ctx.data.competence
    wave, n = profile_wave(ctx)
    out: dict[str, Any] = {"wave": wave, "n": n, "own": None, "needs": None, "change": None, "change_waves": None,
                           "open": open_points(ctx), "cohort": None}
    if comp is not None and wave is not None:
        scores = ctx.data.scores()
        ministry = scores.loc[scores["authority"] == ctx.authority, "ministry"]
        ministry = ministry.iloc[0] if len(ministry) else ctx.ministry
        own, _, cohort = comparison_levels(ctx, scores, instrument=comp.id, wave=str(wave), ministry=ministry)
        if n >= ctx.k:
            out["own"] = own.reset_index()
            out["needs"] = needs_table(ctx)
        out["cohort"] = cohort.reset_index()
        waves = ctx.waves_with(comp.id)
        if len(waves) >= 2:
            out["change_waves"] = (waves[0], waves[-1])
            out["change"] = _change_frame(ctx, waves[0], waves[-1])
    memo["summary_release"] = out
    memo["summary_record"] = current_record()  # released again into a new record (e.g. the audit)
    return out


# ---------------------------------------------------------------------------------------------- data
@dataclass
class SummaryData:
    """What the first page says (all values already released)."""

    small: bool
    wave: str | None
    n: dict[str, int]
    n_other: list[tuple[str, str, int]]  # (instrument title, wave, n)
    strengths: list[tuple[str, float]] = field(default_factory=list)  # (dimension title, mean)
    needs: list[tuple[str, str, float, float]] = field(default_factory=list)  # (dimension id, title, needs index, gap)
    change_waves: tuple[str, str] | None = None
    certain: list[tuple[str, str]] = field(default_factory=list)  # (dimension title, wording)
    uncertain: list[str] = field(default_factory=list)  # dimension titles
    change_hidden: bool = False
    open_points: list[tuple[str, int, int]] = field(default_factory=list)  # (text, n_open, n_valid)
    todo: list[tuple[str, str]] = field(default_factory=list)  # (need title, suggested kind of measure)
    cohort_profile: list[tuple[str, float]] = field(default_factory=list)  # for small authorities
    cohort_excluded: bool = False  # the reference profile leaves out authorities below k


def summary_data(ctx: Any) -> SummaryData:
    """Compute the summary of one authority's report from the released values."""
    from ..stats.verdict import verdict_of
    from .sec_competence import change_wording

    comp = ctx.data.competence
    rel = _release_summary(ctx)
    n = ctx.counts(comp.id if comp else None)
    others = []
    for inst, label in ((ctx.data.stakeholder, "stakeholders"), (ctx.data.checklist, "reality_check")):
        if inst is None:
            continue
        c = ctx.counts(inst.id)
        if c:
            w = list(c)[-1]
            others.append((ctx.t(label), w, c[w]))
    small = bool(n) and rel["n"] < ctx.k
    d = SummaryData(small=small, wave=rel["wave"], n=n, n_other=others)
    if comp is None:
        return d
    order = {dim.id: i for i, dim in enumerate(comp.dimensions)}
    if rel["own"] is not None:
        own = rel["own"][~rel["own"]["suppressed"]].copy()
        own["_o"] = own["dimension"].map(order)
        own = own.sort_values(["mean", "_o"], ascending=[False, True])
        d.strengths = [(ctx.dim_title(comp, r["dimension"]), float(r["mean"])) for _, r in own.head(TOP).iterrows()]
    nt = rel["needs"]
    if nt is not None and not nt.empty:
        nt = nt[~nt["suppressed"] & nt["needs"].notna() & (nt["needs"] > 0)].sort_values(["rank", "dimension"])
        d.needs = [(r["dimension"], ctx.dim_title(comp, r["dimension"]), float(r["needs"]), float(r["gap"])) for _, r in nt.head(TOP).iterrows()]
    for dim_id, title, _, _ in d.needs:
        m = comp.dimension(dim_id).measures
        if m:
            d.todo.append((title, m[0].get(ctx.lang)))
    pc = rel["change"]
    if pc is not None:
        d.change_waves = rel["change_waves"]
        pc = pc.assign(_o=pc["dimension"].map(order)).sort_values("_o")
        shown = pc[~pc["suppressed"].astype(bool)]
        d.change_hidden = shown.empty
        for _, r in shown.iterrows():
            title = ctx.dim_title(comp, r["dimension"])
            if verdict_of(r).certain:
                d.certain.append((title, change_wording(r, ctx.lang)))
            else:
                d.uncertain.append(title)
    op = rel["open"]
    if op is not None and not op.empty:
        d.open_points = [(r["text"], int(r["n_open"]), int(r["n_valid"])) for _, r in op.head(TOP).iterrows()]
    if small and rel["cohort"] is not None:
        c = rel["cohort"][~rel["cohort"]["suppressed"].astype(bool) & rel["cohort"]["mean"].notna()].copy()
        c["_o"] = c["dimension"].map(order)
        d.cohort_profile = [(ctx.dim_title(comp, r["dimension"]), float(r["mean"])) for _, r in c.sort_values("_o").iterrows()]
        d.cohort_excluded = bool((c["n_excluded"] > 0).any()) if "n_excluded" in c else False
    return d


# ---------------------------------------------------------------------------------------------- render
def _box(title: str, body: str, css: str = "") -> str:
    return f'<div class="sum-box {css}"><h3>{esc(title)}</h3>{body}</div>'


def _ul(items: list[str]) -> str:
    return "<ul class='compact'>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>"


def summary(ctx: Any) -> Any:
    """The first page: participation, three strengths, three largest needs, certain changes, what to do next."""
    d = summary_data(ctx)
    L = ctx.lang
    t = ctx.t
    head = (f'<div class="cover sum-head"><h1>{esc(t("authority_report_title"))}</h1>'
            f'<p class="subtitle">{esc(ctx.name)} ({esc(ctx.authority)}){" · " + esc(ctx.ministry) if ctx.ministry else ""}</p></div>')
    n_text = " · ".join(f"{esc(w)}: {v}" for w, v in d.n.items()) or "–"
    part = [f"<p>{esc(t('sum_participants'))}: <strong>{n_text}</strong></p>"]
    if d.n_other:
        part.append("<p class='small'>" + " · ".join(f"{esc(title)} ({esc(w)}): {v}" for title, w, v in d.n_other) + "</p>")
    boxes = [_box(t("participation"), "".join(part))]
    if not d.n:
        return _html(head + section("summary", t("summary"), *boxes, note(t("no_data"))))
    if d.small:
        return _html(head + section("summary", t("summary"), *boxes, _small_html(ctx, d)))
    boxes.append(_box(t("sum_strengths", wave=d.wave),
                      f"<p class='small muted'>{esc(t('sum_scale'))}</p>" + _ul([f"{esc(title)} <span class='muted'>({esc(fmt_num(m, 1, lang=L))})</span>" for title, m in d.strengths])
                      if d.strengths else f"<p>{esc(t('sum_none'))}</p>", "good"))
    boxes.append(_box(t("sum_needs", wave=d.wave),
                      _ul([f"{esc(title)} <span class='muted'>({esc(t('needs_index'))} {esc(fmt_num(v, 1, lang=L))})</span>" for _, title, v, _ in d.needs])
                      if d.needs else f"<p>{esc(t('sum_no_needs'))}</p>", "need"))
    if d.change_waves is None:
        ch = f"<p>{esc(t('one_wave'))}</p>"
    elif d.change_hidden:
        ch = f"<p>{esc(t('sum_change_hidden', k=ctx.k))}</p>"
    else:
        a, b = d.change_waves
        ch = f"<p class='small muted'>{esc(t('change_table', a=a, b=b))}</p>"
        ch += _ul([f"<strong>{esc(title)}</strong>: {esc(word)}" for title, word in d.certain]) if d.certain else f"<p>{esc(t('sum_no_certain'))}</p>"
        ch += uncertain_html(t, d.uncertain)
    boxes.append(_box(t("sum_change"), ch))
    todo = [f"<strong>{esc(title)}</strong>: {esc(m)}" for title, m in d.todo]
    if d.open_points:
        todo.append(esc(t("sum_open_points", text=d.open_points[0][0], n=d.open_points[0][1], of=d.open_points[0][2])))
    todo.append(esc(t("sum_agree")))
    boxes.append(_box(t("next_steps"), _ul(todo), "todo"))
    return _html(head + section("summary", t("summary"), '<div class="sum-grid">' + "".join(boxes) + "</div>"))


def uncertain_html(t: Any, names: list[str], *, limit: int = 3) -> str:
    """The fields without a certain change: named when few, else counted (the change section has the details)."""
    if not names:
        return ""
    if len(names) > limit:
        return f"<p class='small'>{esc(t('sum_uncertain_n', n=len(names)))}</p>"
    return f"<p class='small'>{esc(t('sum_uncertain'))}: {esc(', '.join(names))}</p>"


def _small_html(ctx: Any, d: SummaryData) -> str:
    """The summary of an authority below the minimum group size: why, the cohort's profile, what to do."""
    L = ctx.lang
    t = ctx.t
    parts = [note(t("small_why", k=ctx.k, n=max(d.n.values()) if d.n else 0), "suppressed")]
    if d.open_points:
        parts.append(f"<h3>{esc(t('open_points_rc'))}</h3>" + _ul([esc(t("open_point_line", text=x, n=n, of=of)) for x, n, of in d.open_points]))
    parts.insert(1, f"<h3>{esc(t('small_what'))}</h3>" + _ul([esc(x) for x in t("small_steps", k=ctx.k).split("\n")]))
    if d.cohort_profile:
        rows = "".join(f"<tr><td>{esc(title)}</td><td class='num'>{esc(fmt_num(m, 2, lang=L))}</td></tr>" for title, m in d.cohort_profile)
        parts.insert(2, f"<h3>{esc(t('small_reference', wave=d.wave))}</h3><p>{esc(t('small_reference_intro'))}</p>"
                     f"<table class='upo'><thead><tr><th>{esc(t('dimension'))}</th><th class='num'>{esc(t('group_cohort_shown', k=ctx.k) if d.cohort_excluded else t('group_cohort'))}</th></tr></thead>"
                     f"<tbody>{rows}</tbody></table>")
    return "".join(parts)


# ---------------------------------------------------------------------------------------------- next steps
@dataclass
class NextStep:
    """One largest need with suggested kinds of measures and what the authority agreed on."""

    dimension: str
    title: str
    needs: float
    suggestions: list[str]
    agreed: list[dict[str, Any]]  # {"text", "wave", "change"}: change = wording of the change since that wave


def next_steps_data(ctx: Any) -> list[NextStep]:
    """Per largest need: the instrument's suggested measures and the measures recorded for the field."""
    from .sec_competence import _change_frame, change_wording

    comp = ctx.data.competence
    d = summary_data(ctx)
    if comp is None or not d.needs:
        return []
    measures = agreed_measures(ctx.data.db, ctx.authority)
    waves = ctx.waves_with(comp.id)
    latest = waves[-1] if waves else None
    out = []
    for dim_id, title, v, _ in d.needs:
        agreed = []
        for m in measures:
            if m.get("dimension") != dim_id:
                continue
            change = None
            w = m.get("wave")
            if w and latest and w in waves and w != latest:
                pc = _change_frame(ctx, w, latest)
                row = pc[pc["dimension"] == dim_id]
                if not row.empty:
                    change = change_wording(row.iloc[0], ctx.lang)
            agreed.append({"text": m["text"], "wave": w, "change": change})
        out.append(NextStep(dim_id, title, v, [x.get(ctx.lang) for x in comp.dimension(dim_id).measures], agreed))
    return out


def next_steps(ctx: Any) -> Any:
    """"Nächste Schritte": per largest need the suggested kinds of measures and room for the agreed measures."""
    t = ctx.t
    title = t("next_steps")
    d = summary_data(ctx)
    if d.small or not d.n:
        return _html(section("next_steps", title, note(t("next_steps_small"))))
    steps = next_steps_data(ctx)
    if not steps:
        return _html(section("next_steps", title, note(t("sum_no_needs"))))
    parts = [f"<p>{esc(t('next_steps_intro'))}</p>"]
    for i, s in enumerate(steps, 1):
        body = [f"<h3>{i}. {esc(s.title)} <span class='muted small'>({esc(t('needs_index'))} {esc(fmt_num(s.needs, 1, lang=ctx.lang))})</span></h3>"]
        if s.suggestions:
            body.append(f"<p class='small'><strong>{esc(t('suggested_measures'))}:</strong></p>" + _ul([esc(x) for x in s.suggestions]))
        body.append(f"<p class='small'><strong>{esc(t('agreed_measures'))}:</strong></p>")
        if s.agreed:
            body.append(_ul([esc(a["text"]) + (f" <span class='muted small'>({esc(a['wave'])})</span>" if a["wave"] else "")
                             + (f" – {esc(t('change_since', wave=a['wave']))}: <strong>{esc(a['change'])}</strong>" if a["change"] else "")
                             for a in s.agreed]))
        else:
            body.append(f"<p class='muted'>{esc(t('no_measures_yet'))}</p>")
        body.append('<div class="write-in"></div><div class="write-in"></div>')
        parts.append('<div class="step">' + "".join(body) + "</div>")
    return _html(section("next_steps", title, *parts))
