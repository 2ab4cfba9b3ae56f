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


def heatmap(ctx: CohortContext) -> Html:
    """Heatmap of mean scores authority × dimension in the first wave; hidden cells are marked."""
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
    intro = ctx.t("heatmap_intro", w=first, k=ctx.k)
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


def cohort_change(ctx: CohortContext) -> Html:
    """Cohort-wide paired change from the first to each later wave, with wording and the true reason where hidden."""
    from ..privacy import reason_text

    comp = ctx.data.competence
    title = ctx.t("change")
    if comp is None:
        return Html(section("change", title, note(ctx.t("no_data"))))
    waves = change_waves(ctx)
    if len(waves) < 2:
        return Html(section("change", title, note(ctx.t("one_wave"))))
    L = ctx.lang
    means = cohort_means_frame(ctx)
    label = ctx.t("group_cohort_shown", k=ctx.k) if (means["n_excluded"] > 0).any() else ctx.t("group_cohort")
    parts = [f"<p>{esc(ctx.t('change_intro'))} {esc(ctx.t('change_group', group=label))} {esc(ctx.t('verdict_rule'))}</p>",
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
        mh = pc[~pc["suppressed"] & pc["means_reason"].notna()]
        if len(mh):
            parts.append(note(f"{ctx.t('before')}/{ctx.t('after')}: {reason_text(mh['means_reason'].iloc[0], L, k=ctx.k)}.", "suppressed"))
    return Html(section("change", title, *parts))


def ministries_frame(ctx: CohortContext, wave: str) -> pd.DataFrame:
    """Mean score per ministry and dimension in ``wave`` over the ministry's shown authorities, released
    (``dimension, ministry, n, mean, ci_low, ci_high, ..., suppressed, reason, n_excluded``)."""
    s = ctx.data.scores()
    return _released_levels(ctx, s[s["wave"] == wave], "ministry", str(wave))


def ministries(ctx: CohortContext) -> Html:
    """Mean score per ministry and dimension (latest wave, as in the summary) over the ministry's shown authorities;
    those below k are named."""
    comp = ctx.data.competence
    title = ctx.t("ministries")
    if comp is None or not change_waves(ctx):
        return Html(section("ministries", title, note(ctx.t("no_data"))))
    wave = change_waves(ctx)[-1]
    gs = ministries_frame(ctx, wave)
    wide = gs.pivot(index="dimension", columns="ministry", values="mean")
    n = gs.groupby("ministry", observed=True)["n"].max()
    dims = [d.id for d in comp.dimensions if d.id in wide.index]
    ministries_ = list(wide.columns)
    rows = [["n"] + [fmt_int(n.get(m)) for m in ministries_]]
    rows += [[ctx.dim_title(comp, d)] + [fmt_num(wide.loc[d, m], 2, lang=ctx.lang) for m in ministries_] for d in dims]
    header = [ctx.t("dimension")] + [str(m) for m in ministries_]
    parts = [f"<p>{esc(ctx.t('ministries_intro', w=wave, k=ctx.k))}</p>", table(rows, header, numeric=list(range(1, len(header))))]
    small = below_k(ctx, str(wave))
    if small:
        parts.append(note(f"{ctx.t('below_k_authorities', k=ctx.k)}: {', '.join(small)}.", "suppressed"))
    return Html(section("ministries", title, *parts))


def reliabilities(ctx: CohortContext) -> Html:
    """Reliability of every scale in the first wave, whole cohort."""
    comp = ctx.data.competence
    title = ctx.t("reliability")
    if comp is None:
        return Html(section("reliability", title, note(ctx.t("no_data"))))
    first = ctx.data.first_wave(comp.id)
    L = ctx.lang
    from .sec_stakeholders import released_reliability

    rel = released_reliability(ctx, comp, first)
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
    from ..privacy import Level, release
    from .sec_stakeholders import _raters

    rs = r[r["authority"].isin(ok)]
    for (sid, w), g in m.groupby(["stakeholder", m["wave"].astype(str)], sort=False):
        sub = rs[(rs["wave"].astype(str) == w) & rs["authority"].isin(set(g["authority"]))]
        release(Level(inst.id, f"stakeholder:{sid}", w), _raters(sub).get(str(sid), frozenset()), k=ctx.k, output="report:cohort",
                cell=f"stakeholder_patterns/{sid}")
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
