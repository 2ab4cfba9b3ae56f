"""Sections of the cohort report for programme coordination: data first, HTML in the templates.

Each section is a build function registered in :data:`toolkit.reports.registry.COHORT`
(its order is the report's order: the notebook iterates it, the table of contents is built
from it). A build function returns :class:`~toolkit.reports.registry.SectionData`: the
released frames, figures and localised notes the section shows; the Jinja template
``templates/sections/cohort_<id>.html.j2`` renders it. Every number is released through
:mod:`toolkit.privacy`; the slides (:mod:`toolkit.reports.slides`) show the same data.

Participation across authorities, a heatmap authority × dimension, cohort-wide change, a
ministry comparison, needs and reality-check overviews, stakeholder patterns across
authorities and the reliabilities.

Example
-------
>>> import tempfile, pathlib
>>> from toolkit.demo import build_demo
>>> db = pathlib.Path(tempfile.mkdtemp()) / "d.sqlite"
>>> build_demo(db, n_authorities=2, seed=1).close()
>>> ctx = cohort_context(db)
>>> part = participation(ctx)
>>> list(part.data["table"]["authority"]), "BAMF" in part.html()
(['BAMF', 'BDBOS'], True)
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .._version import __version__
from ..exceptions import ReportError
from .cohort_summary import _release_cohort, cohort_summary_data, needs_overview_frame, readiness_open_points, readiness_overview_frame
from .context import CohortData, cohort_data
from .base import date_text, draw_figure, instrument_rows, plots, running_header, wave_text
from .registry import COHORT, SectionData
from .sec_competence import change_wording, reliability_frame
from .texts import tr

__all__ = ["CohortContext", "cohort_context", "report", "summary", "title_page", "participation", "heatmap", "cohort_change", "ministries",
           "needs_overview", "readiness_overview", "stakeholder_patterns", "reliabilities", "footer", "heatmap_frame",
           "cohort_means_frame", "cohort_change_frame", "ministries_frame", "change_waves", "below_k"]


@dataclass
class CohortContext:
    """What the cohort report's sections need."""

    data: CohortData
    lang: str
    k: int
    memo: dict[str, Any] = field(default_factory=dict, repr=False)

    def t(self, key: str, **kw: Any) -> str:
        return tr(key, self.lang, **kw)

    def dim_title(self, instrument: Any, dim_id: str) -> str:
        try:
            return instrument.dimension(dim_id).title.get(self.lang)
        except KeyError:
            return dim_id


def cohort_context(db: str | Path, *, lang: str = "de", min_group_size: int | None = None) -> CohortContext:
    """Load the cohort report context (cohort data from the batch cache if present)."""
    if lang not in ("de", "en"):
        raise ReportError(f"unknown report language {lang!r}; use de or en")
    from ..privacy import resolve_k

    data = cohort_data(db)
    k = resolve_k(int(data.cohort["min_group_size"]), min_group_size)  # never below the cohort's setting
    return CohortContext(data, lang, k)


def report(ctx: CohortContext) -> list[SectionData]:
    """Every section of the cohort report, in the registry's order (the notebook displays them)."""
    return COHORT.build_all(ctx)


def _section(ctx: CohortContext, id: str, title: str, name: str | None = None, *, toc: bool = True, **data: Any) -> SectionData:
    """The section ``id`` rendered by ``sections/cohort_<name or id>.html.j2``; ``data`` also carries ``k``."""
    return SectionData(id, title, f"sections/cohort_{name or id}.html.j2", {"k": ctx.k, **data}, toc=toc, lang=ctx.lang)


def _latest_wave(ctx: CohortContext, instrument_id: str) -> str | None:
    c = ctx.data.counts[ctx.data.counts["instrument"] == instrument_id]
    waves = [w for w in ctx.data.wave_labels() if w in set(c["wave"])]
    return waves[-1] if waves else None


def change_waves(ctx: CohortContext) -> list[str]:
    """The waves in which the cohort answered the competence instrument."""
    comp = ctx.data.competence
    if comp is None:
        return []
    c = ctx.data.counts
    return [w for w in ctx.data.wave_labels() if w in set(c.loc[c["instrument"] == comp.id, "wave"])]


# ---------------------------------------------------------------------------------------------- released frames
def _released_levels(ctx: CohortContext, s: pd.DataFrame, by: str | None, key: str) -> pd.DataFrame:
    """:func:`toolkit.privacy.levels` of the competence scores ``s`` (computed once per cohort), released into the cohort report."""
    from ..privacy import levels, recording, release_levels

    comp = ctx.data.competence
    s = s.assign(wave=s["wave"].astype(str), dimension=s["dimension"].astype(str))

    def compute() -> pd.DataFrame:
        with recording():  # decisions only; the cohort report records its own rows
            return levels(s, by, k=ctx.k, instrument=comp.id, output="plan")

    frame = ctx.data.derived(f"cohort_levels:{key}:{by}:{ctx.k}", compute)
    return release_levels(frame, by=by, k=ctx.k, instrument=comp.id, output="report:cohort").drop(columns=["who"])


def heatmap_frame(ctx: CohortContext, wave: str) -> pd.DataFrame:
    """Mean score per authority × dimension as the authorities' own reports release it (n ≥ k).

    Ministry and cohort values are computed over shown authorities only, so no cell needs to be
    hidden beyond its own threshold (:func:`toolkit.privacy.levels`).
    """
    s = ctx.data.scores()
    s = s[s["wave"] == wave]
    gs = _released_levels(ctx, s, "authority", wave)
    ministry = dict(zip(s["authority"].astype(str), s["ministry"]))
    gs.insert(0, "ministry", gs["authority"].astype(str).map(ministry))
    return gs


def cohort_means_frame(ctx: CohortContext) -> pd.DataFrame:
    """Cohort mean per wave and dimension over the shown authorities, released (:func:`toolkit.privacy.levels`)."""
    return _released_levels(ctx, ctx.data.scores(), None, "all")


def cohort_change_frame(ctx: CohortContext, a: str, b: str) -> pd.DataFrame:
    """Cohort-wide paired change a → b per dimension (instrument order), released with the true reason where hidden.

    The pairs are those of the authorities whose own change is shown; the auditor decides
    (:func:`toolkit.privacy.change_levels`, computed once per cohort, recorded per output).
    """
    from ..privacy import change_levels, recording, release_changes

    comp = ctx.data.competence

    def compute() -> pd.DataFrame:
        s = ctx.data.scores()
        s = s.assign(wave=s["wave"].astype(str), dimension=s["dimension"].astype(str))
        with recording():  # decisions only; the cohort report records its own rows
            return change_levels(s, a, b, by=None, k=ctx.k, instrument=comp.id, output="plan", waves=ctx.data.wave_labels())

    frame = ctx.data.derived(f"cohort_change:{a}:{b}:{ctx.k}", compute)
    pc = release_changes(frame, instrument=comp.id, a=a, b=b, k=ctx.k, output="report:cohort").assign(k=ctx.k)
    order = {d.id: i for i, d in enumerate(comp.dimensions)}
    return pc.sort_values("dimension", key=lambda x: x.map(order)).reset_index(drop=True)


def ministries_frame(ctx: CohortContext, wave: str) -> pd.DataFrame:
    """Mean score per ministry and dimension in ``wave`` over the ministry's shown authorities, released
    (``dimension, ministry, n, mean, ci_low, ci_high, ..., suppressed, reason, n_excluded``)."""
    s = ctx.data.scores()
    return _released_levels(ctx, s[s["wave"] == wave], "ministry", str(wave))


def below_k(ctx: CohortContext, wave: str) -> list[str]:
    """Authorities with fewer than k participants in a wave (named without values)."""
    c = ctx.data.counts
    c = c[(c["instrument"] == ctx.data.competence.id) & (c["wave"] == wave) & (c["n"] < ctx.k)]
    names = dict(zip(ctx.data.authorities["authority"], ctx.data.authorities["name"]))
    return [f"{names.get(a) or a} ({a})" for a in sorted(c["authority"].astype(str))]


def _short(text: str, width: int) -> str:
    """One line of at most ``width`` characters, cut at a word with an ellipsis."""
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1].rsplit(" ", 1)[0].rstrip(" ,-") + " …"


# ---------------------------------------------------------------------------------------------- the sections, in report order
@COHORT.section("summary")
def summary(ctx: CohortContext) -> SectionData:
    """The first page: participation, where the cohort stands, what moved, the largest needs, which ministries differ
    (:func:`toolkit.reports.cohort_summary.cohort_summary_data`)."""
    return _section(ctx, "summary", ctx.t("summary"), report_title=ctx.t("cohort_report_title"), cohort=str(ctx.data.cohort["name"]),
                    summary=cohort_summary_data(ctx), ministries_shown=4)


@COHORT.section("about", toc=False)
def title_page(ctx: CohortContext) -> SectionData:
    """Cover of the cohort report: cohort, waves, authorities, dates, threshold, instruments and the table of contents."""
    d = ctx.data
    facts = [
        (ctx.t("cohort"), d.cohort["name"]),
        (ctx.t("waves"), wave_text(ctx)),
        (ctx.t("authorities_ministries"), ctx.t("authorities_in_ministries", a=len(d.authorities), m=d.authorities["ministry"].nunique())),
        (ctx.t("data_date"), date_text(d.data_date, ctx.lang) or "–"),
        (ctx.t("generated"), date_text(_dt.date.today().isoformat(), ctx.lang)),
        (ctx.t("threshold"), ctx.t("threshold_text", k=ctx.k)),
    ]
    instruments = pd.DataFrame(instrument_rows(ctx), columns=["title", "instrument", "version", "hash"])
    toc = [(i, ctx.t(i)) for i in COHORT.toc_ids()]  # the section ids are their headings' text keys
    return _section(ctx, "about", ctx.t("about_report"), "title_page", toc=False, facts=facts, instruments=instruments, contents=toc)


@COHORT.section("participation")
def participation(ctx: CohortContext) -> SectionData:
    """Participants per authority and wave (competence reflection) plus the other instruments' counts;
    the authorities below k in the first wave are named."""
    d = ctx.data
    waves = d.wave_labels()
    comp, sh, ch = d.competence, d.stakeholder, d.checklist
    c = d.counts
    rows = []
    for _, a in d.authorities.iterrows():
        mine = c[c["authority"] == a["authority"]]
        row: dict[str, Any] = {"authority": a["authority"], "name": f"{a['name'] or a['authority']} ({a['authority']})", "ministry": a["ministry"] or "–"}
        for w in waves:
            v = mine[(mine["instrument"] == (comp.id if comp else None)) & (mine["wave"] == w)]["n"]
            row[f"n:{w}"] = int(v.iloc[0]) if len(v) else None
        for key, inst in (("stakeholder", sh), ("readiness", ch)):
            v = mine[mine["instrument"] == (inst.id if inst else None)]["n"]
            row[key] = int(v.max()) if len(v) else None
        rows.append(row)
    table = pd.DataFrame(rows, columns=["authority", "name", "ministry", *[f"n:{w}" for w in waves], "stakeholder", "readiness"])
    small = [r["name"] for r in rows if waves and r[f"n:{waves[0]}"] is not None and r[f"n:{waves[0]}"] < ctx.k]
    return _section(ctx, "participation", ctx.t("participation"), table=table, waves=waves, small=small,
                    small_note=ctx.t("below_k_wave", w=waves[0]) if waves else "")


@COHORT.section("heatmap")
def heatmap(ctx: CohortContext) -> SectionData:
    """Heatmap of mean scores authority × dimension in the first wave (grouped by ministry); hidden cells are marked."""
    comp = ctx.data.competence
    title = ctx.t("heatmap")
    if comp is None or _latest_wave(ctx, comp.id) is None:
        return _section(ctx, "heatmap", title, "note", note=ctx.t("no_data"))
    first = ctx.data.first_wave(comp.id)
    hm = heatmap_frame(ctx, first)
    hm["authority"] = hm["authority"].astype(str)
    hm["ministry"] = hm["ministry"].astype(str)
    hm = hm.sort_values(["ministry", "authority"], kind="stable").reset_index(drop=True)  # grouped by ministry, as the programme reads it
    n_rows = hm["authority"].nunique() + hm["ministry"].nunique()
    names = {str(a): f"{_short(n or a, 44)} ({a})" for a, n in zip(ctx.data.authorities["authority"], ctx.data.authorities["name"])}
    fig = draw_figure(lambda ax: plots().plot_heatmap(hm, row="authority", col="dimension", value="mean", suppressed="suppressed", instrument=comp,
                                                   lang=ctx.lang, ax=ax, row_labels=names, group="ministry"),
                  size=(10.0, 0.2 * n_rows + 2.0))
    return _section(ctx, "heatmap", title, wave=first, frame=hm, figure=fig, intro=ctx.t("heatmap_intro", w=first, k=ctx.k),
                    caption=f"{title} ({first})")


@COHORT.section("change")
def cohort_change(ctx: CohortContext) -> SectionData:
    """Cohort-wide paired change from the first to each later wave, with wording and the true reason where hidden."""
    from ..privacy import reason_text

    comp = ctx.data.competence
    title = ctx.t("change")
    if comp is None:
        return _section(ctx, "change", title, "note", note=ctx.t("no_data"))
    waves = change_waves(ctx)
    if len(waves) < 2:
        return _section(ctx, "change", title, "note", note=ctx.t("one_wave"))
    L = ctx.lang
    means = cohort_means_frame(ctx)
    label = ctx.t("group_cohort_shown", k=ctx.k) if (means["n_excluded"] > 0).any() else ctx.t("group_cohort")
    fig = draw_figure(lambda ax: plots().plot_change(means[["dimension", "wave", "mean", "ci_low", "ci_high"]], instrument=comp, lang=L, ax=ax),
                  size=(7.6, 4.8))
    pairs = []
    for b in waves[1:]:
        pc = cohort_change_frame(ctx, waves[0], b)
        pc["title"] = [ctx.dim_title(comp, x) for x in pc["dimension"]]
        pc["wording"] = [change_wording(r, L) for _, r in pc.iterrows()]
        mh = pc[~pc["suppressed"] & pc["means_reason"].notna()]
        means_note = f"{ctx.t('before')}/{ctx.t('after')}: {reason_text(mh['means_reason'].iloc[0], L, k=ctx.k)}." if len(mh) else None
        pairs.append({"a": waves[0], "b": b, "frame": pc, "means_note": means_note})
    intro = f"{ctx.t('change_intro')} {ctx.t('change_group', group=label)} {ctx.t('verdict_rule')}"
    return _section(ctx, "change", title, intro=intro, means=means, figure=fig, caption=ctx.t("change_caption"), pairs=pairs)


@COHORT.section("ministries")
def ministries(ctx: CohortContext) -> SectionData:
    """Mean score per ministry and dimension (latest wave, as in the summary) over the ministry's shown authorities;
    those below k are named."""
    comp = ctx.data.competence
    title = ctx.t("ministries")
    if comp is None or not change_waves(ctx):
        return _section(ctx, "ministries", title, "note", note=ctx.t("no_data"))
    wave = change_waves(ctx)[-1]
    gs = ministries_frame(ctx, wave)
    wide = gs.pivot(index="dimension", columns="ministry", values="mean")
    n = gs.groupby("ministry", observed=True)["n"].max()
    dims = [d.id for d in comp.dimensions if d.id in wide.index]
    names = [str(m) for m in wide.columns]
    table = pd.DataFrame([{"dimension": d, "title": ctx.dim_title(comp, d), **{str(m): wide.loc[d, m] for m in wide.columns}} for d in dims],
                         columns=["dimension", "title", *names])
    return _section(ctx, "ministries", title, wave=wave, frame=gs, table=table, ministries=names,
                    n={str(m): (None if pd.isna(n.get(m)) else int(n.get(m))) for m in wide.columns}, small=below_k(ctx, str(wave)),
                    intro=ctx.t("ministries_intro", w=wave, k=ctx.k))


@COHORT.section("needs_overview")
def needs_overview(ctx: CohortContext) -> SectionData:
    """Needs overview of the cohort: which fields need development most, and how widely
    (:func:`toolkit.reports.cohort_summary.needs_overview_frame`)."""
    title = ctx.t("needs_overview")
    ov = needs_overview_frame(ctx)
    if ov.empty:
        return _section(ctx, "needs_overview", title, "note", note=ctx.t("no_data"))
    wave = _release_cohort(ctx)["wave"]
    return _section(ctx, "needs_overview", title, frame=ov, wave=wave, intro=ctx.t("needs_overview_intro", wave=wave, k=ctx.k))


@COHORT.section("readiness_overview")
def readiness_overview(ctx: CohortContext) -> SectionData:
    """Reality-check overview of the cohort: readiness per area and the points most often open
    (:func:`toolkit.reports.cohort_summary.readiness_overview_frame`)."""
    title = ctx.t("readiness_overview")
    ov = readiness_overview_frame(ctx)
    if ov.empty:
        return _section(ctx, "readiness_overview", title, "note", note=ctx.t("no_data"))
    wave = _release_cohort(ctx)["readiness_wave"]
    op = readiness_open_points(ctx).head(10).copy()
    op["area"] = [ctx.dim_title(ctx.data.checklist, x) for x in op["dimension"]]
    return _section(ctx, "readiness_overview", title, frame=ov, wave=wave, open_points=op,
                    intro=ctx.t("readiness_overview_intro", wave=wave, k=ctx.k))


QUADRANTS = ["manage_closely", "keep_satisfied", "keep_informed", "monitor"]


@COHORT.section("stakeholder_patterns")
def stakeholder_patterns(ctx: CohortContext) -> SectionData:
    """Per catalogue stakeholder: in how many authorities it lands in each quadrant, median attitude, disagreement."""
    from ..privacy import SUPPRESSED_NOTE, Level, release
    from ..stakeholders import stakeholder_map
    from .sec_stakeholders import _raters

    inst = ctx.data.stakeholder
    title = ctx.t("stakeholder_patterns")
    r = ctx.data.rsp(inst)
    if inst is None or r.empty:
        return _section(ctx, "stakeholder_patterns", title, "note", note=ctx.t("no_data"))
    raters = r.groupby("authority", observed=True)["participant"].nunique()
    ok = [a for a, n in raters.items() if n >= ctx.k]
    if not ok:
        return _section(ctx, "stakeholder_patterns", title, "note", note=f"{title}: {SUPPRESSED_NOTE.get(ctx.lang, SUPPRESSED_NOTE['de'])}.",
                        kind="suppressed")
    m = stakeholder_map(r[r["authority"].isin(ok)], inst, lang=ctx.lang)
    m = m[~m["free"].astype(bool) & (m["n_raters"] >= ctx.k)]  # free entries are authority-specific; fewer than k raters: not shown
    rs = r[r["authority"].isin(ok)]
    for (sid, w), g in m.groupby(["stakeholder", m["wave"].astype(str)], sort=False):
        sub = rs[(rs["wave"].astype(str) == w) & rs["authority"].isin(set(g["authority"]))]
        release(Level(inst.id, f"stakeholder:{sid}", w), _raters(sub).get(str(sid), frozenset()), k=ctx.k, output="report:cohort",
                cell=f"stakeholder_patterns/{sid}")
    rows = []
    for key, g in m.groupby("stakeholder", sort=False):
        counts = g["quadrant"].value_counts()
        rows.append({"stakeholder": str(key), "label": g["label"].iloc[0], "n": len(g), **{q: int(counts.get(q, 0)) for q in QUADRANTS},
                     "attitude_md": float(g["attitude"].median()), "disagreement": int(g["disagreement"].sum()),
                     "gap_mean": float(g["engagement_gap"].mean())})
    frame = pd.DataFrame(rows, columns=["stakeholder", "label", "n", *QUADRANTS, "attitude_md", "disagreement", "gap_mean"])
    return _section(ctx, "stakeholder_patterns", title, frame=frame, n_authorities=len(ok),
                    quadrants=[(q, ctx.t(f"stakeholder.quadrant.{q}")) for q in QUADRANTS], intro=ctx.t("patterns_intro", n=len(ok), k=ctx.k))


@COHORT.section("reliability")
def reliabilities(ctx: CohortContext) -> SectionData:
    """Reliability of every scale in the first wave, whole cohort (released rows only), and the methods in words."""
    from .sec_stakeholders import released_reliability

    comp = ctx.data.competence
    title = ctx.t("reliability")
    if comp is None:
        return _section(ctx, "reliability", title, "note", note=ctx.t("no_data"))
    first = ctx.data.first_wave(comp.id)
    L = ctx.lang
    rel = reliability_frame(ctx, comp, released_reliability(ctx, comp, first))  # the released rows, with the note on negative loadings
    methods = [tr("methods_scores", L), tr("methods_change", L), tr("methods_privacy", L, k=ctx.k)]
    return _section(ctx, "reliability", title, wave=first, frame=rel, intro=ctx.t("reliability_intro", wave=first),
                    methods=methods)


@COHORT.section("footer", toc=False)
def footer(ctx: CohortContext) -> SectionData:
    """Closing line: toolkit version, cohort, threshold; it carries the PDF's running header."""
    return _section(ctx, "footer", "", toc=False, text=ctx.t("footer", version=__version__, cohort=ctx.data.cohort["name"], k=ctx.k),
                    header=running_header(ctx))
