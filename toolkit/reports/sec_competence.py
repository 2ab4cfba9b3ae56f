"""Authority report sections on the competence self-assessment: profile, needs, items, change.

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

from .html import badge, esc, figure_html, fmt_int, fmt_num, fmt_p, note, section, suppressed_note, table
from .texts import tr

__all__ = ["competence_profile", "gaps_needs", "needs_table", "item_distributions", "likert_bars_html", "change", "change_wording", "change_badge_kind",
           "profile_wave", "reliability_table"]

log = logging.getLogger("toolkit")


def _html(s: str) -> Any:
    from .sections import Html

    return Html(s)


def profile_wave(ctx: Any) -> tuple[str | None, int]:
    """The latest wave in which the authority reached the threshold (and its n), else (last wave, n)."""
    comp = ctx.data.competence
    n = ctx.counts(comp.id if comp else None)
    if not n:
        return None, 0
    ok = [w for w, v in n.items() if v >= ctx.k]
    w = ok[-1] if ok else list(n)[-1]
    return w, n[w]


def _scores(ctx: Any, wave: str | None = None, mine: bool = True) -> pd.DataFrame:
    s = ctx.data.scores()
    if mine:
        s = s[s["authority"] == ctx.authority]
    if wave is not None:
        s = s[s["wave"] == wave]
    return s


def _output(ctx: Any) -> str:
    """The record name of this report's releases."""
    return f"report:{getattr(ctx, 'authority', None) or 'cohort'}"


def reasons_note(ctx: Any, hidden: list[tuple[str, str | None]]) -> str:
    """One note naming each hidden value with its true reason ('' if nothing is hidden)."""
    from ..privacy import reason_text

    hidden = [(label, r) for label, r in hidden if r]
    if not hidden:
        return ""
    by_reason: dict[str, list[str]] = {}
    for label, r in hidden:
        by_reason.setdefault(reason_text(r, ctx.lang, k=ctx.k), []).append(label)
    text = "; ".join(f"{', '.join(labels)}: {why}" for why, labels in by_reason.items())
    return note(f"{ctx.t('hidden_because')} – {text}.", "suppressed")


def comparison_levels(ctx: Any, values: pd.DataFrame, *, instrument: str, wave: str, ministry: Any) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Released own, ministry and cohort values per dimension (comparison values over shown authorities only).

    The ministry and cohort frames are computed once per batch and released again into each report.
    """
    from ..privacy import levels, recording, release_levels

    out = _output(ctx)
    v = values[values["wave"].astype(str) == str(wave)].assign(wave=str(wave), dimension=lambda d: d["dimension"].astype(str))

    def cached(by: str | None, group: Any) -> pd.DataFrame:
        def compute() -> pd.DataFrame:
            with recording():
                part = v if by is None else v[v["ministry"] == group]
                return levels(part, by, k=ctx.k, instrument=instrument, output="plan")

        frame = ctx.data.derived(f"levels:{instrument}:{wave}:{by}:{group}:{ctx.k}", compute)
        return release_levels(frame, by=by, k=ctx.k, instrument=instrument, output=out).set_index("dimension")

    own = levels(v[v["authority"] == ctx.authority], "authority", k=ctx.k, instrument=instrument, output=out).set_index("dimension")
    return own, cached("ministry", ministry), cached(None, None)


def _shown_authority_means(ctx: Any, wave: str) -> pd.DataFrame:
    """Means of every authority shown in its own report (dimension × authority), for percentile positions."""
    from ..privacy import group_summary

    def compute() -> pd.DataFrame:
        s = ctx.data.scores()
        s = s[s["wave"] == wave]
        gs = group_summary(s, ["dimension", "authority"], "score", k=ctx.k)
        return gs[~gs["suppressed"]][["dimension", "authority", "mean"]]

    return ctx.data.derived(f"shown_means:{wave}:{ctx.k}", compute)


def competence_profile(ctx: Any) -> Any:
    """Radar and table: the authority's dimension means against ministry and cohort (with percentile rank).

    Ministry and cohort values are over the authorities that are shown themselves
    (:func:`toolkit.privacy.levels`); the percentile places the authority among shown values only.
    """
    from ..privacy import percentile_shown

    comp = ctx.data.competence
    title = ctx.t("profile")
    wave, n = profile_wave(ctx)
    if comp is None or wave is None:
        return _html(section("profile", title, note(ctx.t("no_data"))))
    if n < ctx.k:
        return _html(section("profile", title, suppressed_note(ctx.lang, ctx.t("profile"))))
    scores = ctx.data.scores()
    ministry = scores.loc[scores["authority"] == ctx.authority, "ministry"]
    ministry = ministry.iloc[0] if len(ministry) else ctx.ministry
    own, mins, coh = comparison_levels(ctx, scores, instrument=comp.id, wave=wave, ministry=ministry)
    shown_means = _shown_authority_means(ctx, wave)
    L = ctx.lang
    rows, classes, hidden, bm = [], [], [], []
    m_label = ctx.t("group_ministry_shown", k=ctx.k) if (mins["n_excluded"] > 0).any() else ctx.t("group_ministry")
    c_label = ctx.t("group_cohort_shown", k=ctx.k) if (coh["n_excluded"] > 0).any() else ctx.t("group_cohort")
    for dim in comp.dimensions:
        d = dim.id
        if d not in own.index:
            continue
        o, m, c = own.loc[d], mins.loc[d] if d in mins.index else None, coh.loc[d] if d in coh.index else None
        a_mean = np.nan if bool(o["suppressed"]) else float(o["mean"])
        m_mean = np.nan if m is None or bool(m["suppressed"]) else float(m["mean"])
        c_mean = np.nan if c is None or bool(c["suppressed"]) else float(c["mean"])
        pct = percentile_shown(a_mean, shown_means.loc[shown_means["dimension"] == d, "mean"].tolist()) if np.isfinite(a_mean) else np.nan
        label = ctx.dim_title(comp, d)
        a = "–" if not np.isfinite(a_mean) else f"{fmt_num(o['mean'], 2, lang=L)} [{fmt_num(o['ci_low'], 2, lang=L)}; {fmt_num(o['ci_high'], 2, lang=L)}]"
        rows.append([label, a, fmt_num(m_mean, 2, lang=L), fmt_num(c_mean, 2, lang=L), fmt_num(pct, 0, lang=L)])
        classes.append(["", "" if a != "–" else "sup", "" if np.isfinite(m_mean) else "sup", "" if np.isfinite(c_mean) else "sup", ""])
        hidden += [(f"{label} ({ctx.t('group_authority')})", o["reason"] if bool(o["suppressed"]) else None),
                   (f"{label} ({ctx.t('group_ministry')})", (m["reason"] if m is not None else "no_data") if not np.isfinite(m_mean) else None),
                   (f"{label} ({ctx.t('group_cohort')})", (c["reason"] if c is not None else "no_data") if not np.isfinite(c_mean) else None)]
        bm.append({"dimension": d, "authority_mean": a_mean, "ministry_mean": m_mean, "cohort_mean": c_mean})
    bm = pd.DataFrame(bm, columns=["dimension", "authority_mean", "ministry_mean", "cohort_mean"])
    header = [ctx.t("dimension"), f"{ctx.t('group_authority')}: {ctx.t('mean_ci')}", m_label, c_label, ctx.t("percentile")]
    parts = [f"<p>{esc(ctx.t('profile_intro', wave=wave, n=n))}</p>"]
    radar = pd.concat(
        [
            pd.DataFrame({"dimension": bm["dimension"], "group": ctx.t("group_authority"), "score": bm["authority_mean"]}),
            pd.DataFrame({"dimension": bm["dimension"], "group": m_label, "score": bm["ministry_mean"]}),
            pd.DataFrame({"dimension": bm["dimension"], "group": c_label, "score": bm["cohort_mean"]}),
        ],
        ignore_index=True,
    )
    parts.append(_plot(lambda ax: _plots().plot_profile_radar(radar, instrument=comp, group="group", value="score", lang=ctx.lang, ax=ax),
                       ctx.t("profile_caption", wave=wave), polar=True, size=(6.4, 5.6)))
    parts.append(table(rows, header, numeric=[1, 2, 3, 4], cell_classes=classes))
    parts.append(reasons_note(ctx, hidden))
    return _html(section("profile", title, *parts))


def _plots() -> Any:
    from .. import plots

    return plots


def _plot(draw: Any, caption: str, *, polar: bool = False, size: tuple[float, float] = (7.0, 4.2), tight: bool = False) -> str:
    """Draw with a plot function onto a fresh Axes and embed it (SVG; figures are closed).

    No layout engine: :func:`~toolkit.reports.html.figure_html` crops the figure to what is
    drawn, so labels reaching beyond the axes (the heatmap's rotated labels, the radar's
    dimension names, notes under a plot) are never cut, at the cost of one layout pass instead
    of constrained layout's several. ``tight`` is kept for callers; every figure is cropped.
    """
    from ..privacy.release import current_record

    if getattr(current_record(), "no_figures", False):  # the audit renders every section, not the pictures of its numbers
        return ""
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=size)
    ax = fig.add_subplot(111, projection="polar" if polar else None)
    try:
        draw(ax)
    except Exception:
        plt.close(fig)
        raise
    return figure_html(fig, caption)


def needs_table(ctx: Any) -> pd.DataFrame | None:
    """The authority's needs ranking in the profile wave, released per dimension (None without data).

    Ranks are over the shown dimensions only, so a hidden dimension leaves no gap in them.
    """
    from ..privacy import Level, rank_shown, release_frame, respondents
    from ..scoring import needs_ranking

    comp = ctx.data.competence
    wave, _ = profile_wave(ctx)
    if comp is None or wave is None:
        return None
    g = ctx.data.gaps()
    g = g[(g["authority"] == ctx.authority) & (g["wave"] == wave)]
    if g.empty:
        return None
    nr = needs_ranking(g, by=("authority",))
    sets = respondents(g, "dimension", "needs")
    nr["who"] = [sets.get(d, frozenset()) for d in nr["dimension"]]
    out = release_frame(nr, quantity=lambda r: Level(comp.id, f"needs:{r['dimension']}", str(wave)), people="who", k=ctx.k,
                        output=_output(ctx), cell=lambda r: f"needs/{r['dimension']}", estimates=["ist", "soll", "gap", "importance", "needs", "rank"])
    out["rank"] = rank_shown(out, "needs")
    out["n"] = out["who"].map(len)
    return out.drop(columns="who")


def gaps_needs(ctx: Any) -> Any:
    """Ist/Soll gaps and the ranked development needs of the authority."""
    comp = ctx.data.competence
    title = ctx.t("needs")
    nt = needs_table(ctx)
    wave, n = profile_wave(ctx)
    if nt is None:
        return _html(section("needs", title, note(ctx.t("no_data"))))
    if n < ctx.k or nt["suppressed"].all():
        return _html(section("needs", title, suppressed_note(ctx.lang, title)))
    nt = nt.sort_values(["rank", "dimension"], na_position="last")
    L = ctx.lang
    top = float(nt["needs"].max()) if nt["needs"].notna().any() else 0.0
    rows = []
    for _, r in nt.iterrows():
        width = 0.0 if pd.isna(r["needs"]) or top <= 0 else max(0.0, float(r["needs"])) / top * 8
        bar = f'<div style="background:#0072B2;height:.7rem;width:{width:.2f}rem;border-radius:.15rem"></div>'
        rows.append([esc(fmt_num(r["rank"], 0, lang=L)), esc(ctx.dim_title(comp, r["dimension"])), esc(fmt_num(r["ist"], 2, lang=L)),
                     esc(fmt_num(r["soll"], 2, lang=L)), esc(fmt_num(r["gap"], 2, lang=L, signed=True)), esc(fmt_num(r["importance"], 2, lang=L)),
                     f"<strong>{esc(fmt_num(r['needs'], 2, lang=L))}</strong>", bar])
    header = [ctx.t("rank"), ctx.t("dimension"), ctx.t("ist"), ctx.t("soll"), ctx.t("gap"), ctx.t("importance"), ctx.t("needs_index"), ""]
    parts = [f"<p>{esc(ctx.t('needs_intro', wave=wave, n=n))}</p>"]
    parts.append(table(rows, header, numeric=[0, 2, 3, 4, 5, 6], raw=True, caption=ctx.t("needs_caption", wave=wave)))
    parts.append(reasons_note(ctx, [(ctx.dim_title(comp, r["dimension"]), r["reason"]) for _, r in nt[nt["suppressed"]].iterrows()]))
    return _html(section("needs", title, *parts))


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


def likert_bars_html(shares: pd.DataFrame, instrument: Any, lang: str = "de", hidden: dict[str, str] | None = None) -> str:
    """Diverging stacked bars per agreement item as plain HTML/CSS (crisp in print, no image).

    ``shares`` is the frame of :func:`toolkit.plots.likert_shares` (``item, n, point, count, share``);
    disagreement extends left of the centre line, agreement right, the middle point is split.
    ``hidden`` maps items whose distribution is not released to the reason shown in their row.
    """
    hidden = hidden or {}
    rows = []
    legend_scale = None
    for dim in instrument.dimensions:
        items = [it for it in dim.items if it.type == "likert" and (it.id in set(shares["item"]) or it.id in hidden)]
        if not items:
            continue
        rows.append(f'</tbody><tbody class="lk-dim"><tr class="dim"><th colspan="3">{esc(dim.title.get(lang))}</th></tr>')  # one block per dimension
        for it in items:
            if it.id in hidden:
                rows.append(f'<tr><td class="lk-text">{esc(it.text.get(lang))}</td><td class="lk-cell sup small">{esc(hidden[it.id])}</td><td></td></tr>')
                continue
            sh = shares[shares["item"] == it.id].sort_values("point")
            scale = instrument.scale_of(it.id)
            legend_scale = legend_scale or scale
            pts = list(scale.points)
            cols = _likert_colours(len(pts))
            if it.reverse:  # coloured by the scored direction: agreeing with a negative statement is the "bad" colour
                cols = cols[::-1]
            share = dict(zip(sh["point"], sh["share"]))
            n = int(sh["n"].iloc[0]) if len(sh) else 0
            mid = (len(pts) - 1) / 2
            left = sum(share.get(p, 0.0) for i, p in enumerate(pts) if i < mid) + (share.get(pts[int(mid)], 0.0) / 2 if len(pts) % 2 else 0)
            segs = []
            for i, p in enumerate(pts):
                w = 50 * share.get(p, 0.0)
                if w <= 0:
                    continue
                label = f"{100 * share.get(p, 0.0):.0f}" if w >= 4 else ""
                segs.append(f'<span style="width:{w:.3f}%;background:{cols[i]}" title="{esc(scale.label(p, lang))}: {100 * share.get(p, 0.0):.0f} %">{label}</span>')
            offset = 50 - 50 * left
            bar = f'<div class="lk-bar"><div class="lk-track" style="left:{offset:.3f}%">{"".join(segs)}</div></div>'
            text = esc(it.text.get(lang)) + (f' <span class="muted small">({esc(tr("reverse_keyed", lang))})</span>' if it.reverse else "")
            rows.append(f'<tr><td class="lk-text">{text}</td><td class="lk-cell">{bar}</td><td class="num small">n = {n}</td></tr>')
    legend = ""
    if legend_scale is not None:
        cols = _likert_colours(len(legend_scale.points))
        legend = '<p class="lk-legend small">' + " ".join(
            f'<span><i style="background:{c}"></i>{esc(legend_scale.label(p, lang))}</span>' for p, c in zip(legend_scale.points, cols)) + "</p>"
    if any(it.reverse for it in instrument.items if it.type == "likert" and it.id in set(shares["item"])):
        legend += f'<p class="small muted">{esc(tr("reverse_colours", lang))}</p>'
    return f'{legend}<table class="upo likert"><tbody>{"".join(rows)}</tbody></table>'


def item_distributions(ctx: Any) -> Any:
    """Diverging stacked bars of every agreement item (profile wave), built as HTML from ``likert_shares``."""
    from ..plots import likert_shares

    comp = ctx.data.competence
    title = ctx.t("items")
    wave, n = profile_wave(ctx)
    if comp is None or wave is None:
        return _html(section("items", title, note(ctx.t("no_data"))))
    if n < ctx.k:
        return _html(section("items", title, suppressed_note(ctx.lang, title)))
    from ..privacy import Level, reason_text, release

    r = ctx.data.rsp(comp)
    r = r[(r["authority"] == ctx.authority) & (r["wave"] == wave)]
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
        ok = release(Level(comp.id, it.id, str(wave)), people, k=ctx.k, output=_output(ctx), cell=f"items/{it.id}")
        if not ok.shown:
            hidden[it.id] = reason_text("too_few_item" if ok.reason == "too_few" else ok.reason, ctx.lang, k=ctx.k)
    shares = shares[~shares["item"].isin(list(hidden))]
    parts = [f"<p>{esc(ctx.t('items_intro', wave=wave, n=n))}</p>", likert_bars_html(shares, comp, ctx.lang, hidden=hidden)]
    return _html(section("items", title, *parts))


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


def reliability_table(ctx: Any, comp: Any, rel: pd.DataFrame) -> str:
    """The reliability table (α with Feldt CI, ω total, items, n, a note on negatively loading items) of the released rows."""
    L = ctx.lang
    rows = []
    for _, r in rel.iterrows():
        if bool(r["suppressed"]) if "suppressed" in r else int(r["n"]) < ctx.k:  # released rows (toolkit.privacy)
            continue
        neg = r.get("negative_items")
        hint = tr("rel_negative_many" if "," in neg else "rel_negative_one", L, items=neg) if isinstance(neg, str) and neg else ""
        rows.append([ctx.dim_title(comp, r["dimension"]),
                     f"{fmt_num(r['alpha'], 2, lang=L)} [{fmt_num(r['ci_low'], 2, lang=L)}; {fmt_num(r['ci_high'], 2, lang=L)}]",
                     fmt_num(r["omega_total"], 2, lang=L), fmt_int(r["n_items"]), fmt_int(r["n"]), hint])
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


def _change_frame(ctx: Any, a: str, b: str) -> pd.DataFrame:
    from ..privacy import release_changes

    allpc = change_decisions(ctx, a, b)
    mine = allpc[allpc["authority"].astype(str) == str(ctx.authority)].drop(columns=["authority"]).reset_index(drop=True)
    out = release_changes(mine, instrument=ctx.data.competence.id, a=a, b=b, k=ctx.k, output=_output(ctx))
    return out.assign(k=ctx.k)


def change(ctx: Any) -> Any:
    """Change between the first and each later wave: table with CIs, effect sizes and wording, and a slope plot."""
    from ..privacy import levels

    comp = ctx.data.competence
    title = ctx.t("change")
    waves = ctx.waves_with(comp.id if comp else None)
    if comp is None or not waves:
        return _html(section("change", title, note(ctx.t("no_data"))))
    if len(waves) < 2:
        return _html(section("change", title, note(ctx.t("one_wave"))))
    L = ctx.lang
    parts = [f"<p>{esc(ctx.t('change_intro'))} {esc(ctx.t('verdict_rule'))}</p>"]
    own = _scores(ctx)
    means = levels(own.assign(wave=own["wave"].astype(str), dimension=own["dimension"].astype(str)), "authority", k=ctx.k,
                   instrument=comp.id, output=_output(ctx))
    if not means["suppressed"].all():
        parts.append(_plot(lambda ax: _plots().plot_change(means[["dimension", "wave", "mean", "ci_low", "ci_high"]], instrument=comp, lang=L, ax=ax),
                           ctx.t("change_caption"), size=(7.6, 4.8)))
    any_shown = False
    for b in waves[1:]:
        pc = _change_frame(ctx, waves[0], b)
        if pc.empty:
            continue
        order = {d.id: i for i, d in enumerate(comp.dimensions)}
        pc = pc.sort_values("dimension", key=lambda s: s.map(order))
        any_shown |= not pc["suppressed"].all()
        rows, classes = [], []
        for _, r in pc.iterrows():
            word = change_wording(r, L)
            kind = change_badge_kind(r)
            sup = bool(r["suppressed"])
            rows.append([
                esc(ctx.dim_title(comp, r["dimension"])), esc(int(r["n_pairs"])), esc(fmt_num(r["mean_from"], 2, lang=L)), esc(fmt_num(r["mean_to"], 2, lang=L)),
                esc(f"{fmt_num(r['mean_diff'], 2, lang=L, signed=True)} [{fmt_num(r['ci_low'], 2, lang=L)}; {fmt_num(r['ci_high'], 2, lang=L)}]") if not sup else "–",
                esc(fmt_num(r["d_z"], 2, lang=L)), esc(fmt_p(r["p_holm"], lang=L)), badge(word, kind) if not sup else esc(word),
            ])
            classes.append(["", "", "", "", "sup" if sup else "", "", "", "sup" if sup else ""])
        header = [ctx.t("dimension"), ctx.t("pairs"), ctx.t("before"), ctx.t("after"), ctx.t("diff_ci"), "d_z", ctx.t("p_holm"), ctx.t("assessment")]
        parts.append(f"<h3>{esc(ctx.t('change_table', a=waves[0], b=b))}</h3>")
        parts.append(table(rows, header, numeric=[1, 2, 3, 4, 5, 6], raw=True, cell_classes=classes))
        means_hidden = pc[~pc["suppressed"] & pc["means_reason"].notna()]
        if len(means_hidden):
            parts.append(reasons_note(ctx, [(f"{ctx.t('before')}/{ctx.t('after')} " + ", ".join(ctx.dim_title(comp, d) for d in means_hidden["dimension"]),
                                              means_hidden["means_reason"].iloc[0])]))
    if not any_shown:
        parts.append(suppressed_note(L, title))
    return _html(section("change", title, *parts))
