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
>>> from toolkit.reports.base import authority_context
>>> ctx = authority_context(db, "BAMF")
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

from .base import once, section_data
from .html import esc
from .registry import SectionData

__all__ = ["SummaryData", "summary_data", "summary", "uncertain_html", "NextStep", "next_steps_data", "next_steps", "agreed_measures"]

log = logging.getLogger("toolkit")
TOP = 3


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
    from .sec_competence import change_frame, comparison_levels, needs_table, profile_wave
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
        ministry = ctx.rows(scores)["ministry"]
        ministry = ministry.iloc[0] if len(ministry) else ctx.ministry
        own, _, cohort = comparison_levels(ctx, scores, instrument=comp.id, wave=str(wave), ministry=ministry)
        if n >= ctx.k:
            out["own"] = own.reset_index()
            out["needs"] = needs_table(ctx)
        out["cohort"] = cohort.reset_index()
        waves = ctx.waves_with(comp.id)
        if len(waves) >= 2:
            out["change_waves"] = (waves[0], waves[-1])
            out["change"] = change_frame(ctx, waves[0], waves[-1])
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
    """Compute the summary of one authority's report from the released values (once per report and record:
    the summary and the next steps read it)."""
    return once(ctx, "summary_data", lambda: _summary_data(ctx))


def _summary_data(ctx: Any) -> SummaryData:
    from ..privacy.release import records
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
        d.strengths = [(ctx.dim_title(comp, r["dimension"]), float(r["mean"])) for r in records(own.head(TOP))]
    nt = rel["needs"]
    if nt is not None and not nt.empty:
        nt = nt[~nt["suppressed"] & nt["needs"].notna() & (nt["needs"] > 0)].sort_values(["rank", "dimension"])
        d.needs = [(r["dimension"], ctx.dim_title(comp, r["dimension"]), float(r["needs"]), float(r["gap"])) for r in records(nt.head(TOP))]
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
        for r in records(shown):  # the rows as dicts, the values iterrows gives (the verdict reads them by name)
            title = ctx.dim_title(comp, r["dimension"])
            if verdict_of(r).certain:
                d.certain.append((title, change_wording(r, ctx.lang)))
            else:
                d.uncertain.append(title)
    op = rel["open"]
    if op is not None and not op.empty:
        d.open_points = [(r["text"], int(r["n_open"]), int(r["n_valid"])) for r in records(op.head(TOP))]
    if small and rel["cohort"] is not None:
        c = rel["cohort"][~rel["cohort"]["suppressed"].astype(bool) & rel["cohort"]["mean"].notna()].copy()
        c["_o"] = c["dimension"].map(order)
        d.cohort_profile = [(ctx.dim_title(comp, r["dimension"]), float(r["mean"])) for r in records(c.sort_values("_o"))]
        d.cohort_excluded = bool((c["n_excluded"] > 0).any()) if "n_excluded" in c else False
    return d


# ---------------------------------------------------------------------------------------------- render
def summary(ctx: Any) -> SectionData:
    """The first page: participation, three strengths, three largest needs, certain changes, what to do next (``data["summary"]``)."""
    d = summary_data(ctx)
    return section_data(ctx, "summary", "sections/summary.html.j2", summary=d, name=ctx.name, authority=ctx.authority, ministry=ctx.ministry,
                        k=ctx.k, small_n=max(d.n.values()) if d.n else 0, small_steps=ctx.t("small_steps", k=ctx.k).split("\n"))


def uncertain_html(t: Any, names: list[str], *, limit: int = 3) -> str:
    """The fields without a certain change: named when few, else counted (the change section has the details)."""
    if not names:
        return ""
    if len(names) > limit:
        return f"<p class='small'>{esc(t('sum_uncertain_n', n=len(names)))}</p>"
    return f"<p class='small'>{esc(t('sum_uncertain'))}: {esc(', '.join(names))}</p>"


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
    from .sec_competence import change_frame, change_wording

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
                pc = change_frame(ctx, w, latest)
                row = pc[pc["dimension"] == dim_id]
                if not row.empty:
                    change = change_wording(row.iloc[0], ctx.lang)
            agreed.append({"text": m["text"], "wave": w, "change": change})
        out.append(NextStep(dim_id, title, v, [x.get(ctx.lang) for x in comp.dimension(dim_id).measures], agreed))
    return out


def next_steps(ctx: Any) -> SectionData:
    """"Nächste Schritte": per largest need the suggested kinds of measures and room for the agreed measures (``data["steps"]``)."""
    d = summary_data(ctx)
    if d.small or not d.n:
        return section_data(ctx, "next_steps", "sections/_note.html.j2", text=ctx.t("next_steps_small"), kind="info")
    steps = next_steps_data(ctx)
    if not steps:
        return section_data(ctx, "next_steps", "sections/_note.html.j2", text=ctx.t("sum_no_needs"), kind="info")
    return section_data(ctx, "next_steps", "sections/next_steps.html.j2", steps=steps)
