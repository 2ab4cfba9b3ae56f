"""Authority report sections on the competence self-assessment: profile, needs, items, change.

Each section is a build function returning :class:`~toolkit.reports.registry.SectionData`
(released frames, figures, notes); its template ``sections/<id>.html.j2`` renders it.

Example
-------
>>> import pandas as pd
>>> row = pd.Series({"suppressed": False, "ci_low": 0.2, "ci_high": 0.9, "p_holm": 0.01, "d_z": 0.8})
>>> change_wording(row, "de")
'gesicherte Verbesserung (großer Effekt)'
>>> change_wording(row.replace({0.2: -0.1}), "de")
'nicht gesichert (Tendenz zur Verbesserung, großer Effekt)'
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from ..i18n import percent
from .base import draw_figure, once, output_name, plots, profile_wave, reasons, section_data
from .html import figure_html, fmt_int, fmt_num, table
from .registry import SectionData
from .texts import tr

__all__ = ["competence_profile", "gaps_needs", "needs_table", "item_distributions", "likert_rows", "change", "change_wording", "change_badge_kind",
           "profile_wave", "reliability_frame", "reliability_table", "comparison_levels", "change_frame", "change_decisions"]

log = logging.getLogger("toolkit")
_output = output_name  # older name
_plots = plots  # older name (cohort report)


def _scores(ctx: Any, wave: str | None = None, mine: bool = True) -> pd.DataFrame:
    s = ctx.data.scores()
    if mine:
        s = ctx.rows(s)
    if wave is not None:
        s = s[s["wave"] == wave]
    return s


def _plot(draw: Any, caption: str, *, polar: bool = False, size: tuple[float, float] = (7.0, 4.2), tight: bool = False) -> str:
    """A drawn figure as HTML (the cohort report's parts; authority sections put the Figure into their data)."""
    fig = draw_figure(draw, polar=polar, size=size)
    return "" if fig is None else figure_html(fig, caption)


def _note_section(ctx: Any, id: str, text: str, kind: str = "info") -> SectionData:
    return section_data(ctx, id, "sections/_note.html.j2", text=text, kind=kind)


def suppressed_text(ctx: Any, what: str | None = None) -> str:
    """The standard sentence for content hidden by the minimum group size."""
    from ..privacy import SUPPRESSED_NOTE

    base = SUPPRESSED_NOTE.get(ctx.lang, SUPPRESSED_NOTE["de"])
    return (f"{what}: {base}" if what else base[:1].upper() + base[1:]) + "."


def comparison_levels(ctx: Any, values: pd.DataFrame, *, instrument: str, wave: str, ministry: Any) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Released own, ministry and cohort values per dimension (comparison values over shown authorities only).

    The ministry and cohort frames are computed once per batch and released again into each report;
    the three frames are released once per report (:func:`~toolkit.reports.base.once`: the summary and
    the profile show the same values), and the authority's own rows are its slice of ``values``
    (``values`` must be a frame ``ctx.data`` keeps, see :meth:`~toolkit.reports.context.CohortData.rows_of`).
    """
    return once(ctx, ("comparison_levels", instrument, str(wave), ministry),
                lambda: _comparison_levels(ctx, values, instrument=instrument, wave=wave, ministry=ministry))


def _comparison_levels(ctx: Any, values: pd.DataFrame, *, instrument: str, wave: str, ministry: Any) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    from ..privacy import release_levels

    out = output_name(ctx)

    def cached(by: str | None, group: Any) -> pd.DataFrame:
        # a ministry's values are over its own shown authorities only, so all ministries at once give each one's rows
        plan = level_plan(ctx.data, values, instrument=instrument, wave=wave, by=by, k=ctx.k)
        return released_plan(ctx, plan, by, group, instrument=instrument, output=out)

    # each authority's own values depend on its rows only: decided once for all
    mine = ctx.data.rows_of(level_plan(ctx.data, values, instrument=instrument, wave=wave, by="authority", k=ctx.k), ctx.authority)
    own = release_levels(mine, by="authority", k=ctx.k, instrument=instrument, output=out)
    return own.set_index("dimension"), cached("ministry", ministry), cached(None, None)


def released_plan(ctx: Any, plan: pd.DataFrame, by: str | None, group: Any, *, instrument: str, output: str) -> pd.DataFrame:
    """The rows of a cohort-wide :func:`level_plan` (``by``: the rows of ``group``; None: all) released (and recorded)
    into this report under ``output``, indexed by dimension.

    The same frame for every report of the cohort: its slice, released frame and index are made once per process
    (kept in ``ctx.data.local`` with the plan, so another cohort or plan makes them again), and each report records
    its rows (:func:`~toolkit.privacy.release_levels` with a ``memo``). Callers must not change it.
    """
    from ..privacy import release_levels

    memo = ctx.data.local(("released_plan", id(plan), by, group, ctx.k, instrument), dict)
    if memo.get("plan") is not plan:  # the id of a plan no longer kept, reused
        memo.clear()
        memo["plan"] = plan
        memo["frame"] = plan if by is None else ctx.data.rows_of(plan, group, column=by)
    released = release_levels(memo["frame"], by=by, k=ctx.k, instrument=instrument, output=output, memo=memo)
    if memo.get("released") is not released:
        memo["released"], memo["indexed"] = released, released.set_index("dimension")
    return memo["indexed"]


def _by_index(frame: pd.DataFrame) -> dict[Any, dict[str, Any]]:
    """The rows of a frame with a unique index as ``{index label: {column: value}}``."""
    from ..privacy.release import records

    return dict(zip(frame.index.tolist(), records(frame)))


def level_plan(data: Any, values: pd.DataFrame, *, instrument: str, wave: str, by: str | None, k: int) -> pd.DataFrame:
    """The cohort-wide :func:`~toolkit.privacy.levels` plan of ``values`` in ``wave`` by ``by`` (``"authority"``,
    ``"ministry"``: every ministry in one pass, or None: the cohort), decided once per cohort and kept in
    ``data.derived`` (the batch cache): what :func:`comparison_levels` releases into each report (not recorded).
    ``values`` must be a frame ``data`` keeps (its wave's rows are found once per process)."""
    from ..privacy import levels
    from ..privacy.release import unrecorded

    def compute() -> pd.DataFrame:
        v = data.local(("in_wave", instrument, str(wave)), lambda: values[values["wave"].astype(str) == str(wave)].assign(
            wave=str(wave), dimension=lambda d: d["dimension"].astype(str)))
        with unrecorded():  # decisions only; each report records its own rows
            return levels(v, by, k=k, instrument=instrument, output="plan")

    name = f"levels:{instrument}:{wave}:authority:{k}" if by == "authority" else f"levels:{instrument}:{wave}:{by}:{'*' if by else None}:{k}"
    return data.derived(name, compute)


def own_levels(ctx: Any, name: str, every_authority: Any, *, instrument: str) -> pd.DataFrame:
    """This authority's rows of a :func:`~toolkit.privacy.levels` frame ``by="authority"`` over every authority
    (``every_authority()``, computed once per cohort under ``name`` as a plan), released into this report: the same
    rows, values and records as ``levels`` over this authority's rows alone, which group by authority too."""
    from ..privacy import release_levels

    mine = ctx.data.rows_of(ctx.data.derived(name, every_authority), ctx.authority)
    return release_levels(mine, by="authority", k=ctx.k, instrument=instrument, output=output_name(ctx))


def _shown_authority_means(ctx: Any, wave: str) -> pd.DataFrame:
    """Means of every authority shown in its own report (dimension × authority), for percentile positions."""
    return shown_means_plan(ctx.data, wave, ctx.k)


def shown_means_plan(data: Any, wave: str, k: int) -> pd.DataFrame:
    """:func:`_shown_authority_means` of every report, computed once per cohort (in ``data.derived``)."""
    from ..privacy import group_summary

    def compute() -> pd.DataFrame:
        s = data.scores()
        s = s[s["wave"] == wave]
        gs = group_summary(s, ["dimension", "authority"], "score", k=k)
        return gs[~gs["suppressed"]][["dimension", "authority", "mean"]]

    return data.derived(f"shown_means:{wave}:{k}", compute)


def competence_profile(ctx: Any) -> SectionData:
    """Radar and table: the authority's dimension means against ministry and cohort (with percentile rank).

    Ministry and cohort values are over the authorities that are shown themselves
    (:func:`toolkit.privacy.levels`); the percentile places the authority among shown values only.
    ``data["profile"]``: one row per dimension (``dimension, title, mean, ci_low, ci_high,
    ministry_mean, cohort_mean, percentile``; hidden values are NaN).
    """
    from ..privacy import percentile_shown

    comp = ctx.data.competence
    wave, n = profile_wave(ctx)
    if comp is None or wave is None:
        return _note_section(ctx, "profile", ctx.t("no_data"))
    if n < ctx.k:
        return _note_section(ctx, "profile", suppressed_text(ctx, ctx.t("profile")), "suppressed")
    scores = ctx.data.scores()
    ministry = ctx.rows(scores)["ministry"]
    ministry = ministry.iloc[0] if len(ministry) else ctx.ministry
    own, mins, coh = comparison_levels(ctx, scores, instrument=comp.id, wave=wave, ministry=ministry)
    shown_means = _shown_authority_means(ctx, wave)
    rows, hidden = [], []
    m_label = ctx.t("group_ministry_shown", k=ctx.k) if (mins["n_excluded"] > 0).any() else ctx.t("group_ministry")
    c_label = ctx.t("group_cohort_shown", k=ctx.k) if (coh["n_excluded"] > 0).any() else ctx.t("group_cohort")
    # each frame's rows as dicts by dimension (its index, unique): the values ``frame.loc[d]`` gives, without a Series per row
    own_rows, min_rows, coh_rows = (_by_index(f) for f in (own, mins, coh))
    for dim in comp.dimensions:
        d = dim.id
        if d not in own_rows:
            continue
        o, m, c = own_rows[d], min_rows.get(d), coh_rows.get(d)
        a_mean = np.nan if bool(o["suppressed"]) else float(o["mean"])
        m_mean = np.nan if m is None or bool(m["suppressed"]) else float(m["mean"])
        c_mean = np.nan if c is None or bool(c["suppressed"]) else float(c["mean"])
        # the dimension's rows found through the kept frame's index (not a scan of every authority's means per dimension)
        pct = percentile_shown(a_mean, ctx.data.rows_of(shown_means, d, column="dimension")["mean"].to_numpy()) if np.isfinite(a_mean) else np.nan
        label = ctx.dim_title(comp, d)
        shown = np.isfinite(a_mean)
        rows.append({"dimension": d, "title": label, "mean": a_mean, "ci_low": float(o["ci_low"]) if shown else np.nan,
                     "ci_high": float(o["ci_high"]) if shown else np.nan, "ministry_mean": m_mean, "cohort_mean": c_mean, "percentile": pct})
        hidden += [(f"{label} ({ctx.t('group_authority')})", o["reason"] if bool(o["suppressed"]) else None),
                   (f"{label} ({ctx.t('group_ministry')})", (m["reason"] if m is not None else "no_data") if not np.isfinite(m_mean) else None),
                   (f"{label} ({ctx.t('group_cohort')})", (c["reason"] if c is not None else "no_data") if not np.isfinite(c_mean) else None)]
    prof = pd.DataFrame(rows, columns=["dimension", "title", "mean", "ci_low", "ci_high", "ministry_mean", "cohort_mean", "percentile"])
    a_label = ctx.t("group_authority")
    radar = pd.concat(
        [
            pd.DataFrame({"dimension": prof["dimension"], "group": a_label, "score": prof["mean"]}),
            pd.DataFrame({"dimension": prof["dimension"], "group": m_label, "score": prof["ministry_mean"]}),
            pd.DataFrame({"dimension": prof["dimension"], "group": c_label, "score": prof["cohort_mean"]}),
        ],
        ignore_index=True,
    )
    fig = draw_figure(lambda ax: plots().plot_profile_radar(radar, instrument=comp, group="group", value="score", lang=ctx.lang, ax=ax),
                      polar=True, size=(6.4, 5.6), prepare=plots().prepare_radar)
    return section_data(ctx, "profile", "sections/profile.html.j2", wave=wave, n=n, profile=prof, ministry_label=m_label, cohort_label=c_label,
                        figure=fig, caption=ctx.t("profile_caption", wave=wave), reasons=reasons(ctx, hidden))


def needs_table(ctx: Any) -> pd.DataFrame | None:
    """The authority's needs ranking in the profile wave, released per dimension (None without data).

    Ranks are over the shown dimensions only, so a hidden dimension leaves no gap in them.
    Released once per report (:func:`~toolkit.reports.base.once`); callers must not change the frame.
    """
    return once(ctx, "needs_table", lambda: _needs_table(ctx))


def _needs_table(ctx: Any) -> pd.DataFrame | None:
    from ..privacy import Level, rank_shown, release_frame, respondents

    comp = ctx.data.competence
    wave, _ = profile_wave(ctx)
    if comp is None or wave is None:
        return None
    g = ctx.rows(ctx.data.gaps())
    g = g[g["wave"] == wave]
    if g.empty:
        return None
    nr = _needs_ranking_of(ctx, g, wave)
    sets = respondents(g, "dimension", "needs")
    nr["who"] = [sets.get(d, frozenset()) for d in nr["dimension"]]
    out = release_frame(nr, quantity=lambda r: Level(comp.id, f"needs:{r['dimension']}", str(wave)), people="who", k=ctx.k,
                        output=output_name(ctx), cell=lambda r: f"needs/{r['dimension']}", estimates=["ist", "soll", "gap", "importance", "needs", "rank"])
    out["rank"] = rank_shown(out, "needs")
    out["n"] = out["who"].map(len)
    return out.drop(columns="who")


def _needs_ranking_of(ctx: Any, g: pd.DataFrame, wave: str) -> pd.DataFrame:
    """``needs_ranking(g, by=("authority",))`` of this authority's gaps ``g`` in ``wave``, sliced from the ranking of
    every authority and wave (computed once per cohort, in the batch cache): the same rows, order and values, as
    each group's means and ranks depend on its own rows only (unreleased: :func:`_needs_table` releases them)."""
    from ..scoring import needs_ranking

    every = needs_ranking_plan(ctx.data)
    if every is None:
        return needs_ranking(g, by=("authority",))
    mine = ctx.data.rows_of(every, ctx.authority)
    mine = mine[mine["wave"] == wave]
    return mine.drop(columns="wave").reset_index(drop=True)


def needs_ranking_plan(data: Any) -> pd.DataFrame | None:
    """The needs ranking of every authority and wave (unreleased), once per cohort (in ``data.derived``); None where
    the gaps have no wave, authority or dimension column."""
    from ..scoring import needs_ranking

    gaps = data.gaps()
    if "wave" not in gaps.columns or not {"authority", "dimension"} <= set(gaps.columns):
        return None
    return data.derived("needs_ranking:authority:wave", lambda: needs_ranking(gaps, by=("authority", "wave")))


def gaps_needs(ctx: Any) -> SectionData:
    """Ist/Soll gaps and the ranked development needs of the authority (``data["needs"]``: the released ranking, by rank)."""
    comp = ctx.data.competence
    title = ctx.t("needs")
    nt = needs_table(ctx)
    wave, n = profile_wave(ctx)
    if nt is None:
        return _note_section(ctx, "needs", ctx.t("no_data"))
    if n < ctx.k or nt["suppressed"].all():
        return _note_section(ctx, "needs", suppressed_text(ctx, title), "suppressed")
    nt = nt.sort_values(["rank", "dimension"], na_position="last").reset_index(drop=True)
    top = float(nt["needs"].max()) if nt["needs"].notna().any() else 0.0
    nt["title"] = [ctx.dim_title(comp, d) for d in nt["dimension"]]
    nt["bar"] = [0.0 if pd.isna(v) or top <= 0 else max(0.0, float(v)) / top for v in nt["needs"]]  # bar length, 0–1
    hidden = [(r["title"], r["reason"]) for _, r in nt[nt["suppressed"]].iterrows()]
    return section_data(ctx, "needs", "sections/needs.html.j2", wave=wave, n=n, needs=nt, reasons=reasons(ctx, hidden))


_LIKERT_COLOURS = ["#D55E00", "#E69F00", "#BBBBBB", "#56B4E9", "#0072B2"]  # Okabe-Ito, colour-blind safe


def _likert_colours(n_points: int) -> list[str]:
    """Diverging colours: darkest at both ends, grey in the middle of an odd scale."""
    if n_points == 5:
        return _LIKERT_COLOURS
    half = n_points // 2
    left = ["#D55E00", "#E69F00", "#F5CB8C"][-half:] if half <= 3 else ["#D55E00"] * (half - 2) + ["#E69F00", "#F5CB8C"]
    right = ["#A9D4F0", "#56B4E9", "#0072B2"][:half] if half <= 3 else ["#A9D4F0", "#56B4E9"] + ["#0072B2"] * (half - 2)
    if half < 3:
        left, right = ["#D55E00", "#E69F00"][-half:], ["#56B4E9", "#0072B2"][:half]
    return left + (["#BBBBBB"] if n_points % 2 else []) + right


LIKERT_CLASS = {"#D55E00": "neg3", "#E69F00": "neg2", "#F5CB8C": "neg1", "#BBBBBB": "mid", "#A9D4F0": "pos1", "#56B4E9": "pos2", "#0072B2": "pos3"}


def likert_rows(shares: pd.DataFrame, instrument: Any, lang: str = "de", hidden: dict[str, str] | None = None) -> dict[str, Any]:
    """Diverging stacked bars per agreement item, as data for ``sections/items.html.j2`` (crisp HTML/CSS in print).

    ``shares`` is the frame of :func:`toolkit.plots.likert_shares` (``item, n, point, count, share``);
    disagreement extends left of the centre line, agreement right, the middle point is split.
    ``hidden`` maps items whose distribution is not released to the reason shown in their row.
    Returns ``{"dimensions": [{"title", "items": [...]}], "legend": [(label, css class)], "reverse_note": bool}``;
    each item has ``text, reverse, hidden`` (reason or None), ``n``, ``offset`` (percent) and ``segments``
    (``width`` percent, ``css``, ``label``, ``title``).
    """
    hidden = hidden or {}
    dims = []
    legend_scale = None
    present = set(shares["item"])
    # per item its points' shares and its n, from whole columns in one pass (a frame per item costs more than its bars)
    by_item: dict[Any, tuple[dict[Any, Any], int]] = {}
    for item_id, point, value, n_item in zip(shares["item"].tolist(), shares["point"].tolist(), shares["share"].tolist(), shares["n"].tolist()):
        entry = by_item.setdefault(item_id, ({}, int(n_item)))
        entry[0][point] = value
    for dim in instrument.dimensions:
        items = [it for it in dim.items if it.type == "likert" and (it.id in present or it.id in hidden)]
        if not items:
            continue
        out = []
        for it in items:
            row = {"text": it.text.get(lang), "reverse": bool(it.reverse), "hidden": hidden.get(it.id), "n": 0, "offset": 50.0, "segments": []}
            out.append(row)
            if it.id in hidden:
                continue
            share, row["n"] = by_item.get(it.id, ({}, 0))
            scale = instrument.scale_of(it.id)
            legend_scale = legend_scale or scale
            pts = list(scale.points)
            cols = _likert_colours(len(pts))
            if it.reverse:  # coloured by the scored direction: agreeing with a negative statement is the "bad" colour
                cols = cols[::-1]
            mid = (len(pts) - 1) / 2
            left = sum(share.get(p, 0.0) for i, p in enumerate(pts) if i < mid) + (share.get(pts[int(mid)], 0.0) / 2 if len(pts) % 2 else 0)
            for i, p in enumerate(pts):
                w = 50 * share.get(p, 0.0)
                if w <= 0:
                    continue
                pc = f"{100 * share.get(p, 0.0):.0f}"
                row["segments"].append({"width": round(w, 3), "css": LIKERT_CLASS[cols[i]], "label": pc if w >= 4 else "",
                                        "title": f"{scale.label(p, lang)}: {percent(share.get(p, 0.0), lang)}"})
            row["offset"] = round(50 - 50 * left, 3)
        dims.append({"title": dim.title.get(lang), "items": out})
    legend = []
    if legend_scale is not None:
        legend = [(legend_scale.label(p, lang), LIKERT_CLASS[c]) for p, c in zip(legend_scale.points, _likert_colours(len(legend_scale.points)))]
    reverse_note = any(it.reverse for it in instrument.items if it.type == "likert" and it.id in present)
    return {"dimensions": dims, "legend": legend, "reverse_note": reverse_note}


def likert_bars_html(shares: pd.DataFrame, instrument: Any, lang: str = "de", hidden: dict[str, str] | None = None) -> str:
    """The diverging bars of :func:`likert_rows` rendered alone (legend and table)."""
    from .render import render_string

    src = '{% import "sections/_likert.html.j2" as L with context %}{{ L.head(lk) }}{% for dim in lk.dimensions %}{{ L.dimension(dim) }}{% endfor %}'
    return render_string(src, lang=lang, lk=likert_rows(shares, instrument, lang, hidden))


def item_distributions(ctx: Any) -> SectionData:
    """Diverging stacked bars of every agreement item (profile wave), from ``likert_shares``.

    ``data["shares"]``: the released shares (items with k valid answers); ``data["hidden"]``: item -> reason.
    """
    from ..plots import likert_shares

    comp = ctx.data.competence
    title = ctx.t("items")
    wave, n = profile_wave(ctx)
    if comp is None or wave is None:
        return _note_section(ctx, "items", ctx.t("no_data"))
    if n < ctx.k:
        return _note_section(ctx, "items", suppressed_text(ctx, title), "suppressed")
    from ..privacy import Level, reason_text, release

    r = ctx.rows(ctx.data.rsp(comp))
    r = r[r["wave"] == wave]
    shares = likert_shares(r, comp)
    hidden: dict[str, str] = {}
    ids = (r["authority"].astype(str) + "|" + r["participant"].astype(str)).to_numpy()
    rows_of = r.groupby(r["item"].astype(str), observed=True).indices
    values = r["value"].to_numpy()
    present = set(shares["item"])
    for it in comp.items:  # a single statement's distribution needs k valid answers to that statement
        if it.type != "likert" or it.id not in present:
            continue
        idx = rows_of.get(it.id, [])
        points = set(comp.scale_of(it.id).points)
        people = [ids[i] for i in idx if values[i] in points]
        ok = release(Level(comp.id, it.id, str(wave)), people, k=ctx.k, output=output_name(ctx), cell=f"items/{it.id}")
        if not ok.shown:
            hidden[it.id] = reason_text("too_few_item" if ok.reason == "too_few" else ok.reason, ctx.lang, k=ctx.k)
    shares = shares[~shares["item"].isin(list(hidden))]
    return section_data(ctx, "items", "sections/items.html.j2", wave=wave, n=n, shares=shares, hidden=hidden,
                        likert=likert_rows(shares, comp, ctx.lang, hidden=hidden))


def change_wording(row: Any, lang: str = "de") -> str:
    """Plain-language reading of one paired change, from :func:`toolkit.stats.verdict_of` (the one verdict rule);
    a hidden change names its true reason (:mod:`toolkit.privacy`)."""
    from ..stats.verdict import verdict_of

    v = verdict_of(row)
    if v.suppressed:
        reason = row.get("reason")
        if isinstance(reason, str) and reason:
            from ..privacy import reason_text

            return reason_text(reason, lang, k=int(row.get("k", 5)) if pd.notna(row.get("k", 5)) else 5)
        return tr("too_few_pairs", lang)
    if v.direction == "none" or (not v.certain and v.band in (None, "negligible")):
        return tr("no_change", lang)
    return tr(f"verdict_{v.key}", lang, band=tr(f"band_{v.band}", lang) if v.band else "?")


def change_badge_kind(row: Any) -> str:
    """CSS class of a change's badge: ``up``/``down`` only for certain changes."""
    from ..stats.verdict import verdict_of

    v = verdict_of(row)
    return v.direction if v.certain else ""




def reliability_frame(ctx: Any, comp: Any, rel: pd.DataFrame) -> pd.DataFrame:
    """The released reliability rows (α with Feldt CI, ω total, items, n) with the note on negatively loading items."""
    L = ctx.lang
    rows = []
    for _, r in rel.iterrows():
        if bool(r["suppressed"]) if "suppressed" in r else int(r["n"]) < ctx.k:  # released rows (toolkit.privacy)
            continue
        neg = r.get("negative_items")
        hint = tr("rel_negative_many" if "," in neg else "rel_negative_one", L, items=neg) if isinstance(neg, str) and neg else ""
        rows.append({"dimension": r["dimension"], "title": ctx.dim_title(comp, r["dimension"]), "alpha": r["alpha"], "ci_low": r["ci_low"],
                     "ci_high": r["ci_high"], "omega_total": r["omega_total"], "n_items": r["n_items"], "n": r["n"], "note": hint})
    return pd.DataFrame(rows, columns=["dimension", "title", "alpha", "ci_low", "ci_high", "omega_total", "n_items", "n", "note"])


def reliability_table(ctx: Any, comp: Any, rel: pd.DataFrame) -> str:
    """The reliability table as HTML (the cohort report's part; authority sections render :func:`reliability_frame`)."""
    L = ctx.lang
    f = reliability_frame(ctx, comp, rel)
    rows = [[r["title"], f"{fmt_num(r['alpha'], 2, lang=L)} [{fmt_num(r['ci_low'], 2, lang=L)}; {fmt_num(r['ci_high'], 2, lang=L)}]",
             fmt_num(r["omega_total"], 2, lang=L), fmt_int(r["n_items"]), fmt_int(r["n"]), r["note"]] for _, r in f.iterrows()]
    header = [ctx.t("dimension"), ctx.t("alpha_ci"), "ω", ctx.t("items_n"), "n", ctx.t("rel_note")]
    return table(rows, header, numeric=[1, 2, 3, 4])


def change_decisions(ctx: Any, a: str, b: str) -> pd.DataFrame:
    """Paired change of every authority with the auditor's decisions, computed once per cohort (not recorded)."""
    from ..privacy import change_levels, recording

    def compute() -> pd.DataFrame:
        with recording():  # decisions only; each report records its own rows
            return change_levels(ctx.data.scores(), a, b, by="authority", k=ctx.k, instrument=ctx.data.competence.id, output="plan",
                                 paired=ctx.data.change_by_authority(a, b), waves=ctx.data.wave_labels())

    return ctx.data.derived(f"change_levels:{a}:{b}:{ctx.k}", compute)


def change_frame(ctx: Any, a: str, b: str) -> pd.DataFrame:
    """This authority's paired change from wave ``a`` to ``b``, released into this report (once per report:
    the summary, the next steps and the change section show the same frame; callers must not change it)."""
    return once(ctx, ("change_frame", a, b), lambda: _released_change(ctx, a, b))


def _released_change(ctx: Any, a: str, b: str) -> pd.DataFrame:
    from ..privacy import release_changes

    allpc = change_decisions(ctx, a, b)
    keyed = ctx.data.local(("change_decisions", a, b, ctx.k), lambda: allpc.assign(authority=allpc["authority"].astype(str)))
    mine = ctx.data.rows_of(keyed, str(ctx.authority)).drop(columns=["authority"]).reset_index(drop=True)
    out = release_changes(mine, instrument=ctx.data.competence.id, a=a, b=b, k=ctx.k, output=output_name(ctx))
    return out.assign(k=ctx.k)


_change_frame = change_frame  # older name


def all_waves_plan(data: Any, k: int) -> pd.DataFrame:
    """Every authority's dimension means in every wave as a :func:`~toolkit.privacy.levels` plan (not recorded): what the
    change section's plot releases of each authority, decided once per cohort (kept under
    ``levels:<instrument>:all_waves:authority:<k>`` by :func:`own_levels`)."""
    from ..privacy import levels
    from ..privacy.release import unrecorded

    s = data.scores()
    with unrecorded():
        return levels(s.assign(wave=s["wave"].astype(str), dimension=s["dimension"].astype(str)), "authority", k=k,
                      instrument=data.competence.id, output="plan")


def change(ctx: Any) -> SectionData:
    """Change between the first and each later wave: table with CIs, effect sizes and wording, and a slope plot.

    ``data["tables"]``: per later wave ``{"a", "b", "frame", "all_hidden", "hidden_reason", "reasons"}``; a
    frame whose every change is hidden is said in one sentence (``hidden_reason``) instead of a table of dashes.
    """
    from ..privacy import reason_text
    from ..privacy.release import records

    comp = ctx.data.competence
    waves = ctx.waves_with(comp.id if comp else None)
    if comp is None or not waves:
        return _note_section(ctx, "change", ctx.t("no_data"))
    if len(waves) < 2:
        return _note_section(ctx, "change", ctx.t("one_wave"))
    L = ctx.lang
    means = own_levels(ctx, f"levels:{comp.id}:all_waves:authority:{ctx.k}", lambda: all_waves_plan(ctx.data, ctx.k), instrument=comp.id)
    fig = None
    if not means["suppressed"].all():
        fig = draw_figure(lambda ax: plots().plot_change(means[["dimension", "wave", "mean", "ci_low", "ci_high"]], instrument=comp, lang=L, ax=ax),
                          size=(7.6, 4.8))
    tables = []
    any_shown = False
    order = {d.id: i for i, d in enumerate(comp.dimensions)}
    for b in waves[1:]:
        pc = change_frame(ctx, waves[0], b)
        if pc.empty:
            continue
        pc = pc.sort_values("dimension", key=lambda s: s.map(order)).reset_index(drop=True)
        shown = ~pc["suppressed"].astype(bool)
        any_shown |= bool(shown.any())
        pc["title"] = [ctx.dim_title(comp, d) for d in pc["dimension"]]
        rows = records(pc)  # the rows as dicts, the values iterrows gives (the verdict reads them by name)
        pc["wording"] = [change_wording(r, L) for r in rows]
        pc["badge"] = [change_badge_kind(r) for r in rows]
        entry: dict[str, Any] = {"a": waves[0], "b": b, "frame": pc, "all_hidden": not bool(shown.any()), "hidden_reason": None, "reasons": []}
        if entry["all_hidden"]:
            why = sorted(set(pc["wording"]))
            entry["hidden_reason"] = "; ".join(why)
            entry["max_pairs"] = int(pc["n_pairs"].max()) if len(pc) else 0
        means_hidden = pc[shown & pc["means_reason"].notna()]
        if len(means_hidden):
            entry["reasons"] = [(reason_text(means_hidden["means_reason"].iloc[0], L, k=ctx.k),
                                 [f"{ctx.t('before')}/{ctx.t('after')} " + ", ".join(means_hidden["title"])])]
        tables.append(entry)
    return section_data(ctx, "change", "sections/change.html.j2", waves=waves, figure=fig, caption=ctx.t("change_caption"), tables=tables,
                        any_shown=any_shown, suppressed=suppressed_text(ctx, ctx.t("change")))


def report_plans(ctx: Any) -> None:
    """The cohort-wide plans the competence sections (summary, profile, needs, change) of ``ctx``'s report keep in
    ``ctx.data.derived``, without building the report (see :func:`toolkit.reports.context.warm_report_plans`): the same
    plans under the same conditions as the sections, nothing released, no figure."""
    comp = ctx.data.competence
    wave, n = profile_wave(ctx)
    if comp is None or wave is None:
        return
    scores = ctx.data.scores()
    for by in ("authority", "ministry", None):  # the summary's and the profile's comparison levels
        level_plan(ctx.data, scores, instrument=comp.id, wave=str(wave), by=by, k=ctx.k)
    g = ctx.rows(ctx.data.gaps())
    if not g[g["wave"] == wave].empty:  # the needs table
        needs_ranking_plan(ctx.data)
    if n >= ctx.k:  # the profile's percentile positions
        shown_means_plan(ctx.data, wave, ctx.k)
    waves = ctx.waves_with(comp.id)
    if len(waves) >= 2:  # the change section's plot and tables
        ctx.data.derived(f"levels:{comp.id}:all_waves:authority:{ctx.k}", lambda: all_waves_plan(ctx.data, ctx.k))
        for b in waves[1:]:
            change_decisions(ctx, waves[0], b)
