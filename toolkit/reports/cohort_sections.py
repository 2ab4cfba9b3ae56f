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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..exceptions import ReportError
from .context import CohortData, cohort_data
from .html import esc, fmt_int, fmt_num, fmt_p, note, section, suppressed_note, table
from .sec_competence import _plot, _plots, change_wording
from .sections import Html, _date, _wave_text, footer, instrument_rows
from .texts import tr

__all__ = ["CohortContext", "cohort_context", "title_page", "participation", "heatmap", "cohort_change", "ministries",
           "reliabilities", "stakeholder_patterns", "footer", "heatmap_frame"]


@dataclass
class CohortContext:
    """What the cohort report's sections need."""

    data: CohortData
    lang: str
    k: int

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
        [tr("authority", ctx.lang) + " / " + tr("ministry", ctx.lang), f"{len(d.authorities)} / {d.authorities['ministry'].nunique()}"],
        [ctx.t("data_date"), _date(d.data_date, ctx.lang) or "–"],
        [ctx.t("generated"), _date(_dt.date.today().isoformat(), ctx.lang)],
        [ctx.t("threshold"), ctx.t("threshold_text", k=ctx.k)],
    ]
    body = "".join(f"<tr><th>{esc(a)}</th><td>{esc(b)}</td></tr>" for a, b in kv)
    return Html(
        '<div class="cover">'
        f"<h1>{esc(ctx.t('cohort_report_title'))}</h1><p class='subtitle'>{esc(d.cohort['name'])}</p>"
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
    header += ["Stakeholder (n)", "Reality-Check (n)"]
    small = [r[0] for r in rows if r[2] != "–" and int(r[2]) < ctx.k]
    parts = [table(rows, header, numeric=list(range(2, len(header))), caption=ctx.t("participants_by_wave"))]
    if small:
        parts.append(note(("Unter der Mindestgruppengröße (Welle " if ctx.lang == "de" else "Below the minimum group size (wave ")
                          + f"{waves[0]}): " + ", ".join(small), "suppressed"))
    return Html(section("participation", ctx.t("participation"), *parts))


def heatmap_frame(ctx: CohortContext, wave: str) -> pd.DataFrame:
    """Mean score per authority × dimension as the authorities' own reports release it (n ≥ k).

    Ministry and cohort values are computed over shown authorities only, so no cell needs to be
    hidden beyond its own threshold (:func:`toolkit.privacy.levels`).
    """
    from ..privacy import levels

    s = ctx.data.scores()
    s = s[s["wave"] == wave]
    s = s.assign(wave=s["wave"].astype(str), dimension=s["dimension"].astype(str))
    gs = levels(s, "authority", k=ctx.k, instrument=ctx.data.competence.id, output="report:cohort")
    ministry = dict(zip(s["authority"].astype(str), s["ministry"]))
    gs.insert(0, "ministry", gs["authority"].astype(str).map(ministry))
    return gs.drop(columns=["who"])


def below_k(ctx: CohortContext, wave: str) -> list[str]:
    """Authorities with fewer than k participants in a wave (named without values)."""
    c = ctx.data.counts
    c = c[(c["instrument"] == ctx.data.competence.id) & (c["wave"] == wave) & (c["n"] < ctx.k)]
    names = dict(zip(ctx.data.authorities["authority"], ctx.data.authorities["name"]))
    return [f"{names.get(a) or a} ({a})" for a in sorted(c["authority"].astype(str))]


def heatmap(ctx: CohortContext) -> Html:
    """Heatmap of mean scores authority × dimension in the first wave; hidden cells are marked."""
    comp = ctx.data.competence
    title = ctx.t("heatmap")
    if comp is None or _latest_wave(ctx, comp.id) is None:
        return Html(section("heatmap", title, note(ctx.t("no_data"))))
    first = ctx.data.first_wave(comp.id)
    hm = heatmap_frame(ctx, first)
    hm["authority"] = hm["authority"].astype(str)
    n_rows = hm["authority"].nunique()
    intro = ("Mittelwerte je Behörde und Kompetenzfeld in Welle {w}; graue Felder beruhen auf weniger als {k} Antworten." if ctx.lang == "de" else
             "Mean per authority and dimension in wave {w}; grey cells rest on fewer than {k} responses.").format(w=first, k=ctx.k)
    parts = [f"<p>{esc(intro)}</p>",
             _plot(lambda ax: _plots().plot_heatmap(hm, row="authority", col="dimension", value="mean", suppressed="suppressed", instrument=comp, lang=ctx.lang, ax=ax),
                   ctx.t("heatmap") + f" ({first})", size=(9.0, max(5.0, 0.3 * n_rows + 2.0)), tight=True)]
    return Html(section("heatmap", title, *parts))


def cohort_change(ctx: CohortContext) -> Html:
    """Cohort-wide paired change from the first to each later wave, with wording and the true reason where hidden.

    The pairs are those of the authorities whose own change is shown; the auditor decides
    (:func:`toolkit.privacy.change_levels`).
    """
    from ..privacy import change_levels, levels, reason_text

    comp = ctx.data.competence
    title = ctx.t("change")
    if comp is None:
        return Html(section("change", title, note(ctx.t("no_data"))))
    c = ctx.data.counts
    waves = [w for w in ctx.data.wave_labels() if w in set(c.loc[c["instrument"] == comp.id, "wave"])]
    if len(waves) < 2:
        return Html(section("change", title, note(ctx.t("one_wave"))))
    L = ctx.lang
    s = ctx.data.scores()
    s = s.assign(wave=s["wave"].astype(str), dimension=s["dimension"].astype(str))
    means = levels(s, None, k=ctx.k, instrument=comp.id, output="report:cohort")
    label = ctx.t("group_cohort_shown", k=ctx.k) if (means["n_excluded"] > 0).any() else ctx.t("group_cohort")
    parts = [f"<p>{esc(ctx.t('change_intro'))} ({esc(label)})</p>",
             _plot(lambda ax: _plots().plot_change(means[["dimension", "wave", "mean", "ci_low", "ci_high"]], instrument=comp, lang=L, ax=ax),
                   ctx.t("change_caption"), size=(7.6, 4.8))]
    for b in waves[1:]:
        pc = change_levels(s, waves[0], b, by=None, k=ctx.k, instrument=comp.id, output="report:cohort",
                           waves=ctx.data.wave_labels()).assign(k=ctx.k)
        order = {d.id: i for i, d in enumerate(comp.dimensions)}
        pc = pc.sort_values("dimension", key=lambda x: x.map(order))
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


def ministries(ctx: CohortContext) -> Html:
    """Mean score per ministry and dimension (first wave) over the ministry's shown authorities; those below k are named."""
    from ..privacy import levels

    comp = ctx.data.competence
    title = ctx.t("ministries")
    if comp is None:
        return Html(section("ministries", title, note(ctx.t("no_data"))))
    first = ctx.data.first_wave(comp.id)
    s = ctx.data.scores()
    s = s[s["wave"] == first]
    s = s.assign(wave=s["wave"].astype(str), dimension=s["dimension"].astype(str))
    gs = levels(s, "ministry", k=ctx.k, instrument=comp.id, output="report:cohort")
    wide = gs.pivot(index="dimension", columns="ministry", values="mean")
    n = gs.groupby("ministry", observed=True)["n"].max()
    dims = [d.id for d in comp.dimensions if d.id in wide.index]
    ministries_ = list(wide.columns)
    rows = [["n"] + [fmt_int(n.get(m)) for m in ministries_]]
    rows += [[ctx.dim_title(comp, d)] + [fmt_num(wide.loc[d, m], 2, lang=ctx.lang) for m in ministries_] for d in dims]
    header = [ctx.t("dimension")] + [str(m) for m in ministries_]
    intro = (f"Mittelwerte je Ressort in Welle {first}, berechnet über die Behörden des Ressorts mit mindestens {ctx.k} Antworten "
             f"(Ressort, ohne Behörden unter {ctx.k})." if ctx.lang == "de"
             else f"Mean per ministry in wave {first}, computed over the ministry's authorities with at least {ctx.k} responses "
                  f"(ministry, without authorities below {ctx.k}).")
    parts = [f"<p>{esc(intro)}</p>", table(rows, header, numeric=list(range(1, len(header))))]
    small = below_k(ctx, str(first))
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
    rows = [[ctx.dim_title(comp, r["dimension"]), f"{fmt_num(r['alpha'], 2, lang=L)} [{fmt_num(r['ci_low'], 2, lang=L)}; {fmt_num(r['ci_high'], 2, lang=L)}]",
             fmt_num(r["omega"], 2, lang=L), fmt_int(r["n_items"]), fmt_int(r["n"])] for _, r in rel.iterrows() if not r["suppressed"]]
    return Html(section("reliability", title, f"<p>{esc(ctx.t('reliability_intro', wave=first))}</p>",
                        table(rows, [ctx.t("dimension"), "α [95 %-KI]" if L == "de" else "α [95 % CI]", "ω", ctx.t("items_n"), "n"], numeric=[1, 2, 3, 4]),
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
    qlab = {"de": ["eng einbinden", "zufriedenstellen", "informieren", "beobachten"], "en": ["manage closely", "keep satisfied", "keep informed", "monitor"]}
    rows = []
    for key, g in m.groupby("stakeholder", sort=False):
        counts = g["quadrant"].value_counts()
        rows.append([g["label"].iloc[0], fmt_int(len(g))] + [fmt_int(counts.get(q, 0)) for q in quads]
                    + [fmt_num(g["attitude"].median(), 1, lang=ctx.lang, signed=True), fmt_int(int(g["disagreement"].sum())),
                       fmt_num(g["engagement_gap"].mean(), 1, lang=ctx.lang, signed=True)])
    header = [ctx.t("stakeholder"), "n"] + qlab["en" if ctx.lang == "en" else "de"] + [
        "Haltung (Md)" if ctx.lang == "de" else "Attitude (md)", "uneinig" if ctx.lang == "de" else "disagree",
        "Lücke Ø" if ctx.lang == "de" else "Gap (mean)"]
    intro = (f"Über {len(ok)} Behörden mit mindestens {ctx.k} Einschätzenden (n): in wie vielen Behörden landet eine Gruppe in welchem "
             "Quadranten, wie ist die Haltung (Median über die Behörden), in wie vielen Behörden ist das Team uneinig, und wie groß ist "
             "die mittlere Einbindungslücke (gewünscht − aktuell)?" if ctx.lang == "de" else
             f"Across {len(ok)} authorities with at least {ctx.k} raters (n): in how many authorities does a group land in each quadrant, "
             "what is its attitude (median across authorities), in how many does the team disagree, and how large is the mean "
             "engagement gap (desired − current)?")
    return Html(section("stakeholder_patterns", title, f"<p>{esc(intro)}</p>", table(rows, header, numeric=list(range(1, len(header))))))
