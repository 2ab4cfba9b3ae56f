"""Sections of the cohort report for programme coordination.

Participation across authorities, a heatmap authority × dimension (primary and
secondary suppression within each ministry), cohort-wide change, a ministry
comparison, reliabilities and stakeholder patterns across authorities.

Example
-------
>>> import tempfile, pathlib
>>> from toolkit.demo import build_demo
>>> db = pathlib.Path(tempfile.mkdtemp()) / "d.sqlite"
>>> build_demo(db, n_authorities=2, seed=1).close()
>>> ctx = cohort_context(db)
>>> "BAMF" in participation(ctx).html
True
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..exceptions import ReportError
from .context import CohortData, cohort_data
from .html import esc, fmt_int, fmt_num, fmt_p, note, section, suppressed_note, table
from .sec_competence import _plot, _plots, change_wording, reliability_table
from .sections import Html, _date, _wave_text, footer, instrument_rows
from .texts import tr

__all__ = ["CohortContext", "cohort_context", "title_page", "participation", "heatmap", "cohort_change", "ministries",
           "reliabilities", "stakeholder_patterns", "footer", "heatmap_frame",
           "summary", "needs_overview", "readiness_overview", "cohort_means_frame", "cohort_change_frame", "ministries_frame", "change_waves"]


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


def _latest_wave(ctx: CohortContext, instrument_id: str) -> str | None:
    c = ctx.data.counts[ctx.data.counts["instrument"] == instrument_id]
    waves = [w for w in ctx.data.wave_labels() if w in set(c["wave"])]
    return waves[-1] if waves else None


def title_page(ctx: CohortContext) -> Html:
    """Cover of the cohort report."""
    d = ctx.data
    kv = [
        [ctx.t("cohort"), d.cohort["name"]],
        [ctx.t("waves"), _wave_text(ctx)],
        [ctx.t("authorities_ministries"), ctx.t("authorities_in_ministries", a=len(d.authorities), m=d.authorities["ministry"].nunique())],
        [ctx.t("data_date"), _date(d.data_date, ctx.lang) or "–"],
        [ctx.t("generated"), _date(_dt.date.today().isoformat(), ctx.lang)],
        [ctx.t("threshold"), ctx.t("threshold_text", k=ctx.k)],
    ]
    body = "".join(f"<tr><th>{esc(a)}</th><td>{esc(b)}</td></tr>" for a, b in kv)
    return Html(
        '<div class="cover">'
        f"<h2 id='about'>{esc(ctx.t('about_report'))}</h2>"
        f'<table class="upo kv"><tbody>{body}</tbody></table>'
        + table(instrument_rows(ctx), [ctx.t("instrument"), "ID", ctx.t("version"), ctx.t("hash")], caption=ctx.t("instruments"))
        + "</div>"
    )


def participation(ctx: CohortContext) -> Html:
    """Participants per authority and wave (competence reflection) plus the other instruments' counts."""
    d = ctx.data
    waves = d.wave_labels()
    comp, sh, ch = d.competence, d.stakeholder, d.checklist
    c = d.counts
    rows = []
    for _, a in d.authorities.iterrows():
        mine = c[c["authority"] == a["authority"]]
        row = [f"{a['name'] or a['authority']} ({a['authority']})", a["ministry"] or "–"]
        for w in waves:
            v = mine[(mine["instrument"] == (comp.id if comp else None)) & (mine["wave"] == w)]["n"]
            row.append(fmt_int(v.iloc[0]) if len(v) else "–")
        for inst in (sh, ch):
            v = mine[mine["instrument"] == (inst.id if inst else None)]["n"]
            row.append(fmt_int(v.max()) if len(v) else "–")
        rows.append(row)
    header = [tr("authority", ctx.lang), tr("ministry", ctx.lang)] + [f"n {w}" for w in waves]
    header += [ctx.t("stakeholder_n_col"), ctx.t("readiness_n_col")]
    small = [r[0] for r in rows if r[2] != "–" and int(r[2]) < ctx.k]
    parts = [table(rows, header, numeric=list(range(2, len(header))), caption=ctx.t("participants_by_wave"))]
    if small:
        parts.append(note(ctx.t("below_k_wave", w=waves[0]) + ": " + ", ".join(small), "suppressed"))
    return Html(section("participation", ctx.t("participation"), *parts))


def heatmap_frame(ctx: CohortContext, wave: str) -> pd.DataFrame:
    """Mean score per authority × dimension with primary and secondary suppression (within ministry × dimension)."""
    from ..privacy import group_summary, suppress_secondary

    s = ctx.data.scores()
    s = s[s["wave"] == wave]
    gs = group_summary(s, ["ministry", "authority", "dimension"], "score", k=ctx.k)
    tot = s[s["score"].notna()].groupby(["ministry", "dimension"], observed=True)["participant"].nunique()
    gs["ministry_n"] = [tot.get((m, d), 0) for m, d in zip(gs["ministry"], gs["dimension"])]
    est = ["mean", "sd", "median", "q1", "q3", "ci_low", "ci_high"]
    return suppress_secondary(gs, k=ctx.k, group=["ministry", "dimension"], total_n="ministry_n", estimates=est)


def _short(text: str, width: int) -> str:
    """One line of at most ``width`` characters, cut at a word with an ellipsis."""
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1].rsplit(" ", 1)[0].rstrip(" ,-") + " …"


def heatmap(ctx: CohortContext) -> Html:
    """Heatmap of mean scores authority × dimension in the latest wave; hidden cells are marked."""
    comp = ctx.data.competence
    title = ctx.t("heatmap")
    if comp is None or _latest_wave(ctx, comp.id) is None:
        return Html(section("heatmap", title, note(ctx.t("no_data"))))
    first = ctx.data.first_wave(comp.id)
    hm = heatmap_frame(ctx, first)
    hm["authority"] = hm["authority"].astype(str)
    hm["ministry"] = hm["ministry"].astype(str)
    hm = hm.sort_values(["ministry", "authority"], kind="stable")  # grouped by ministry, as the programme reads it
    n_rows = hm["authority"].nunique() + hm["ministry"].nunique()
    names = {str(a): f"{_short(n or a, 44)} ({a})" for a, n in zip(ctx.data.authorities["authority"], ctx.data.authorities["name"])}
    intro = ctx.t("heatmap_intro", w=first)
    parts = [f"<p>{esc(intro)}</p>",
             _plot(lambda ax: _plots().plot_heatmap(hm, row="authority", col="dimension", value="mean", suppressed="suppressed", instrument=comp,
                                                    lang=ctx.lang, ax=ax, row_labels=names, group="ministry"),
                   ctx.t("heatmap") + f" ({first})", size=(10.0, 0.2 * n_rows + 2.0))]
    return Html(section("heatmap", title, *parts))


def change_waves(ctx: CohortContext) -> list[str]:
    """The waves in which the cohort answered the competence instrument."""
    comp = ctx.data.competence
    if comp is None:
        return []
    c = ctx.data.counts
    return [w for w in ctx.data.wave_labels() if w in set(c.loc[c["instrument"] == comp.id, "wave"])]


def cohort_means_frame(ctx: CohortContext) -> pd.DataFrame:
    """Cohort mean per wave and dimension, as released (the nested plan's cohort totals)."""
    from ..privacy import group_summary, plan_shown, scores_plan

    s = ctx.data.scores()
    means = group_summary(s, ["wave", "dimension"], "score", k=ctx.k)
    means["wave"] = means["wave"].astype(str)
    means.loc[~plan_shown(scores_plan(s, k=ctx.k), "total", means, cell=["wave", "dimension"]), ["mean", "ci_low", "ci_high"]] = float("nan")
    return means


def cohort_change_frame(ctx: CohortContext, a: str, b: str) -> pd.DataFrame:
    """Cohort-wide paired change a → b per dimension, as released (instrument order)."""
    from ..privacy import change_plan, plan_shown, suppress
    from ..stats import paired_change

    comp = ctx.data.competence
    s = ctx.data.scores()
    pc = paired_change(s, a, b)
    plan = change_plan(s, a, b, k=ctx.k)
    pc = suppress(pc.assign(suppressed=~plan_shown(plan, "total", pc, cell=["dimension"])), k=ctx.k, n="n_pairs",
                  estimates=[x for x in pc.columns if x not in ("dimension", "n_pairs")])
    pc[["mean_from", "mean_to"]] = float("nan")  # paired means of the cohort cut across the authorities' own wave means
    order = {d.id: i for i, d in enumerate(comp.dimensions)}
    return pc.sort_values("dimension", key=lambda x: x.map(order)).reset_index(drop=True)


def cohort_change(ctx: CohortContext) -> Html:
    """Cohort-wide paired change from the first to each later wave, with wording."""
    comp = ctx.data.competence
    title = ctx.t("change")
    if comp is None:
        return Html(section("change", title, note(ctx.t("no_data"))))
    waves = change_waves(ctx)
    if len(waves) < 2:
        return Html(section("change", title, note(ctx.t("one_wave"))))
    L = ctx.lang
    means = cohort_means_frame(ctx)
    parts = [f"<p>{esc(ctx.t('change_intro'))} {esc(ctx.t('verdict_rule'))}</p>",
             _plot(lambda ax: _plots().plot_change(means[["dimension", "wave", "mean", "ci_low", "ci_high"]], instrument=comp, lang=L, ax=ax),
                   ctx.t("change_caption"), size=(7.6, 4.8))]
    for b in waves[1:]:
        pc = cohort_change_frame(ctx, waves[0], b)
        rows = [[ctx.dim_title(comp, r["dimension"]), fmt_int(r["n_pairs"]), fmt_num(r["mean_from"], 2, lang=L), fmt_num(r["mean_to"], 2, lang=L),
                 f"{fmt_num(r['mean_diff'], 2, lang=L, signed=True)} [{fmt_num(r['ci_low'], 2, lang=L)}; {fmt_num(r['ci_high'], 2, lang=L)}]",
                 fmt_num(r["d_z"], 2, lang=L), fmt_num(r["r_rb"], 2, lang=L), fmt_p(r["p_holm"], lang=L), change_wording(r, L)]
                for _, r in pc.iterrows()]
        parts.append(f"<h3>{esc(ctx.t('change_table', a=waves[0], b=b))}</h3>")
        parts.append(table(rows, [ctx.t("dimension"), ctx.t("pairs"), ctx.t("before"), ctx.t("after"), ctx.t("diff_ci"), "d_z", "r_rb",
                                  ctx.t("p_holm"), ctx.t("assessment")], numeric=[1, 2, 3, 4, 5, 6, 7]))
    return Html(section("change", title, *parts))


def ministries_frame(ctx: CohortContext, wave: str) -> pd.DataFrame:
    """Mean score per ministry and dimension in ``wave`` as released (``ministry, dimension, n, mean, ci_low, ci_high, ...``)."""
    from ..privacy import group_summary, plan_shown, scores_plan

    s = ctx.data.scores()
    s = s[s["wave"] == wave]
    gs = group_summary(s, ["ministry", "dimension"], "score", k=ctx.k)
    hide = ~plan_shown(scores_plan(s, k=ctx.k, cell=("dimension",)), "ministry", gs, cell=["dimension"])
    gs.loc[hide, ["mean", "sd", "median", "q1", "q3", "ci_low", "ci_high"]] = float("nan")
    gs.loc[hide, "suppressed"] = True
    return gs


def ministries(ctx: CohortContext) -> Html:
    """Mean score per ministry and dimension (latest wave, as in the summary) as a table; small ministries suppressed."""
    comp = ctx.data.competence
    title = ctx.t("ministries")
    if comp is None or not change_waves(ctx):
        return Html(section("ministries", title, note(ctx.t("no_data"))))
    wave = change_waves(ctx)[-1]
    s = ctx.data.scores()
    s = s[s["wave"] == wave]
    gs = ministries_frame(ctx, wave)
    wide = gs.pivot(index="dimension", columns="ministry", values="mean")
    n = s.groupby("ministry", observed=True)["participant"].nunique()
    dims = [d.id for d in comp.dimensions if d.id in wide.index]
    ministries_ = list(wide.columns)
    rows = [["n"] + [fmt_int(n.get(m)) for m in ministries_]]
    rows += [[ctx.dim_title(comp, d)] + [fmt_num(wide.loc[d, m], 2, lang=ctx.lang) for m in ministries_] for d in dims]
    header = [ctx.t("dimension")] + [str(m) for m in ministries_]
    intro = ctx.t("ministries_intro", w=wave)
    return Html(section("ministries", title, f"<p>{esc(intro)}</p>", table(rows, header, numeric=list(range(1, len(header))))))


def reliabilities(ctx: CohortContext) -> Html:
    """Reliability of every scale in the first wave, whole cohort."""
    comp = ctx.data.competence
    title = ctx.t("reliability")
    if comp is None:
        return Html(section("reliability", title, note(ctx.t("no_data"))))
    first = ctx.data.first_wave(comp.id)
    L = ctx.lang
    rel = ctx.data.reliability(comp.id, first)
    return Html(section("reliability", title, f"<p>{esc(ctx.t('reliability_intro', wave=first))}</p>",
                        reliability_table(ctx, comp, rel),
                        f"<p>{esc(tr('methods_scores', L))}</p><p>{esc(tr('methods_change', L))}</p><p>{esc(tr('methods_privacy', L, k=ctx.k))}</p>"))


def stakeholder_patterns(ctx: CohortContext) -> Html:
    """Per catalogue stakeholder: in how many authorities it lands in each quadrant, median attitude, disagreement."""
    from ..stakeholders import stakeholder_map

    inst = ctx.data.stakeholder
    title = ctx.t("stakeholder_patterns")
    r = ctx.data.rsp(inst)
    if inst is None or r.empty:
        return Html(section("stakeholder_patterns", title, note(ctx.t("no_data"))))
    raters = r.groupby("authority", observed=True)["participant"].nunique()
    ok = [a for a, n in raters.items() if n >= ctx.k]
    if not ok:
        return Html(section("stakeholder_patterns", title, suppressed_note(ctx.lang, title)))
    m = stakeholder_map(r[r["authority"].isin(ok)], inst, lang=ctx.lang)
    m = m[~m["free"].astype(bool) & (m["n_raters"] >= ctx.k)]  # free entries are authority-specific; fewer than k raters: not shown
    quads = ["manage_closely", "keep_satisfied", "keep_informed", "monitor"]
    rows = []
    for key, g in m.groupby("stakeholder", sort=False):
        counts = g["quadrant"].value_counts()
        rows.append([g["label"].iloc[0], fmt_int(len(g))] + [fmt_int(counts.get(q, 0)) for q in quads]
                    + [fmt_num(g["attitude"].median(), 1, lang=ctx.lang, signed=True), fmt_int(int(g["disagreement"].sum())),
                       fmt_num(g["engagement_gap"].mean(), 1, lang=ctx.lang, signed=True)])
    header = [ctx.t("stakeholder"), "n"] + [ctx.t(f"stakeholder.quadrant.{q}") for q in quads] + [
        ctx.t("attitude_md"), ctx.t("disagree_badge"), ctx.t("gap_mean")]
    intro = ctx.t("patterns_intro", n=len(ok), k=ctx.k)
    return Html(section("stakeholder_patterns", title, f"<p>{esc(intro)}</p>", table(rows, header, numeric=list(range(1, len(header))))))


# The summary and overviews live in their own module; the notebook imports them from here.
from .cohort_summary import cohort_summary as summary  # noqa: E402
from .cohort_summary import needs_overview, readiness_overview  # noqa: E402
