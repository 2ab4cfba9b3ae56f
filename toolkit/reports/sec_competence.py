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


def competence_profile(ctx: Any) -> Any:
    """Radar and table: the authority's dimension means against ministry and cohort (with percentile rank)."""
    from ..privacy import group_summary
    from ..stats import benchmark

    comp = ctx.data.competence
    title = ctx.t("profile")
    wave, n = profile_wave(ctx)
    if comp is None or wave is None:
        return _html(section("profile", title, note(ctx.t("no_data"))))
    if n < ctx.k:
        return _html(section("profile", title, suppressed_note(ctx.lang, ctx.t("profile"))))
    all_w = ctx.data.scores()
    all_w = all_w[all_w["wave"] == wave]
    bm = benchmark(all_w, ctx.authority, k=ctx.k)
    own = group_summary(_scores(ctx, wave), "dimension", "score", k=ctx.k).set_index("dimension")
    rows, classes = [], []
    for _, r in bm.iterrows():
        d = r["dimension"]
        o = own.loc[d] if d in own.index else None
        if o is None or bool(o["suppressed"]):
            a = "–"
        else:
            a = f"{fmt_num(o['mean'], 2, lang=ctx.lang)} [{fmt_num(o['ci_low'], 2, lang=ctx.lang)}; {fmt_num(o['ci_high'], 2, lang=ctx.lang)}]"
        rows.append([ctx.dim_title(comp, d), a, fmt_num(r["ministry_mean"], 2, lang=ctx.lang), fmt_num(r["cohort_mean"], 2, lang=ctx.lang),
                     fmt_num(r["percentile_rank"], 0, lang=ctx.lang)])
        classes.append(["", "" if a != "–" else "sup", "", "", ""])
    header = [ctx.t("dimension"), f"{ctx.t('group_authority')}: {ctx.t('mean_ci')}", ctx.t("group_ministry"), ctx.t("group_cohort"), ctx.t("percentile")]
    parts = [f"<p>{esc(ctx.t('profile_intro', wave=wave, n=n))}</p>"]
    radar = pd.concat(
        [
            pd.DataFrame({"dimension": bm["dimension"], "group": ctx.t("group_authority"), "score": bm["authority_mean"]}),
            pd.DataFrame({"dimension": bm["dimension"], "group": ctx.t("group_ministry"), "score": bm["ministry_mean"]}),
            pd.DataFrame({"dimension": bm["dimension"], "group": ctx.t("group_cohort"), "score": bm["cohort_mean"]}),
        ],
        ignore_index=True,
    )
    parts.append(_plot(lambda ax: _plots().plot_profile_radar(radar, instrument=comp, group="group", value="score", lang=ctx.lang, ax=ax),
                       ctx.t("profile_caption", wave=wave), polar=True, size=(6.4, 5.6)))
    parts.append(table(rows, header, numeric=[1, 2, 3, 4], cell_classes=classes))
    if bm["ministry_mean"].isna().any():
        parts.append(note(tr("methods_privacy", ctx.lang, k=ctx.k).split(";")[0] + ".", "suppressed"))
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
    """The authority's needs ranking in the profile wave, suppressed below k (None without data)."""
    from ..privacy import suppress
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
    return suppress(nr, k=ctx.k, n="n", estimates=["ist", "soll", "gap", "importance", "needs", "rank"])


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
    if nt["suppressed"].any():
        parts.append(suppressed_note(L, ", ".join(ctx.dim_title(comp, d) for d in nt.loc[nt["suppressed"], "dimension"])))
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


def likert_bars_html(shares: pd.DataFrame, instrument: Any, lang: str = "de") -> str:
    """Diverging stacked bars per agreement item as plain HTML/CSS (crisp in print, no image).

    ``shares`` is the frame of :func:`toolkit.plots.likert_shares` (``item, n, point, count, share``);
    disagreement extends left of the centre line, agreement right, the middle point is split.
    """
    rows = []
    legend_scale = None
    for dim in instrument.dimensions:
        items = [it for it in dim.items if it.type == "likert" and it.id in set(shares["item"])]
        if not items:
            continue
        rows.append(f'</tbody><tbody class="lk-dim"><tr class="dim"><th colspan="3">{esc(dim.title.get(lang))}</th></tr>')  # one block per dimension
        for it in items:
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
    r = ctx.data.rsp(comp)
    r = r[(r["authority"] == ctx.authority) & (r["wave"] == wave)]
    shares = likert_shares(r, comp)
    parts = [f"<p>{esc(ctx.t('items_intro', wave=wave, n=n))}</p>", likert_bars_html(shares, comp, ctx.lang)]
    return _html(section("items", title, *parts))


def change_wording(row: Any, lang: str = "de") -> str:
    """Plain-language reading of one paired change, from :func:`toolkit.stats.verdict_of` (the one verdict rule)."""
    from ..stats.verdict import verdict_of

    v = verdict_of(row)
    if v.suppressed:
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
    """The reliability table (α with Feldt CI, ω total, items, n, a note on negatively loading items), rows with n ≥ k."""
    L = ctx.lang
    rows = []
    for _, r in rel.iterrows():
        if int(r["n"]) < ctx.k:
            continue
        neg = r.get("negative_items")
        hint = tr("rel_negative_many" if "," in neg else "rel_negative_one", L, items=neg) if isinstance(neg, str) and neg else ""
        rows.append([ctx.dim_title(comp, r["dimension"]),
                     f"{fmt_num(r['alpha'], 2, lang=L)} [{fmt_num(r['ci_low'], 2, lang=L)}; {fmt_num(r['ci_high'], 2, lang=L)}]",
                     fmt_num(r["omega_total"], 2, lang=L), fmt_int(r["n_items"]), fmt_int(r["n"]), hint])
    header = [ctx.t("dimension"), ctx.t("alpha_ci"), "ω", ctx.t("items_n"), "n", ctx.t("rel_note")]
    return table(rows, header, numeric=[1, 2, 3, 4])


def _change_frame(ctx: Any, a: str, b: str) -> pd.DataFrame:
    from ..privacy import suppress
    from ..stats import paired_change

    allpc = ctx.data.change_by_authority(a, b)
    pc = allpc[allpc["authority"] == ctx.authority].drop(columns=["authority"]).reset_index(drop=True)
    if pc.empty:
        pc = paired_change(_scores(ctx), a, b)
    from ..privacy import change_plan, paired_visible, plan_shown

    plan = ctx.data.derived(f"change_plan:{a}:{b}:{ctx.k}", lambda: change_plan(ctx.data.scores(), a, b, k=ctx.k))
    ok = plan_shown(plan, "authority", pc.assign(authority=ctx.authority), cell=["dimension"])
    est = [c for c in pc.columns if c not in ("dimension", "n_pairs")]
    out = suppress(pc.assign(suppressed=~ok), k=ctx.k, n="n_pairs", estimates=est)
    mine = plan[(plan["level"] == "authority") & (plan["group"].astype(str) == str(ctx.authority))].set_index("dimension").reindex(out["dimension"])
    sep = paired_visible(out["n_pairs"], mine["n_from"].fillna(0).to_numpy(), mine["n_to"].fillna(0).to_numpy(), k=ctx.k, separate=True)
    out.loc[~sep, ["mean_from", "mean_to"]] = np.nan  # the paired means would reveal the few who answered one wave only
    return out


def change(ctx: Any) -> Any:
    """Change between the first and each later wave: table with CIs, effect sizes and wording, and a slope plot."""
    from ..privacy import group_summary

    comp = ctx.data.competence
    title = ctx.t("change")
    waves = ctx.waves_with(comp.id if comp else None)
    if comp is None or not waves:
        return _html(section("change", title, note(ctx.t("no_data"))))
    if len(waves) < 2:
        return _html(section("change", title, note(ctx.t("one_wave"))))
    L = ctx.lang
    parts = [f"<p>{esc(ctx.t('change_intro'))} {esc(ctx.t('verdict_rule'))}</p>"]
    means = group_summary(_scores(ctx), ["wave", "dimension"], "score", k=ctx.k)
    means["wave"] = means["wave"].astype(str)
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
    if not any_shown:
        parts.append(suppressed_note(L, title))
    return _html(section("change", title, *parts))
