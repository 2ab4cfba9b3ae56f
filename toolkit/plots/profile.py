"""Competence profile plots: radar profile, change over waves, needs ranking."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import DataError
from ..instruments import Instrument
from ._common import (
    MARKERS,
    LINESTYLES,
    OKABE_ITO,
    SERIES_COLORS,
    SUPPRESSED_EDGE,
    SUPPRESSED_FACE,
    SUPPRESSED_HATCH,
    add_note,
    cap,
    check_columns,
    check_lang,
    decimal_comma,
    dimension_order,
    dimension_title,
    fmt,
    line_segments,
    new_axes,
    ordered_values,
    safe_text,
    scale_range,
    tr,
)

__all__ = ["plot_profile_radar", "plot_change", "plot_needs", "prepare_radar"]

_RADAR_READY = "_toolkit_radar_ready"  # set on a polar Axes that prepare_radar set up


def prepare_radar(ax: Any) -> Any:
    """Set up a polar Axes as :func:`plot_profile_radar` draws on it (what does not depend on the data:
    direction, label padding, grid style); an Axes prepared once, e.g. a copied blank figure
    (:func:`toolkit.reports.base.blank_figure`), is not set up again (setting every tick's
    padding and grid costs more than the rest of the chart's setup)."""
    if getattr(ax, _RADAR_READY, False):
        return ax
    ax.set_theta_offset(np.pi / 2)
    ax.set_theta_direction(-1)
    ax.tick_params(axis="x", pad=6)
    ax.grid(color="#BBBBBB", linewidth=0.6)
    setattr(ax, _RADAR_READY, True)
    return ax


def plot_profile_radar(
    data: pd.DataFrame,
    *,
    instrument: Instrument,
    group: str = "group",
    value: str = "score",
    lang: str = "de",
    ax: Any = None,
    vmin: float | None = None,
    vmax: float | None = None,
) -> Any:
    """Competence profile as a radar chart, one closed line per group.

    Parameters
    ----------
    data
        ``dimension, <group>, <value>``, one row per dimension and group (e.g. groups
        "Behörde", "Ressort", "Kohorte" or "Ist", "Soll"). NaN values (suppressed or
        missing) leave a gap in the line and are listed in a note under the plot.
    instrument
        Gives the dimension order and titles, and the scale range of the axis.
    group, value
        Column names.
    lang
        "de" (default) or "en".
    ax
        A polar Axes (``fig.add_subplot(projection="polar")``); a new figure if None.
    vmin, vmax
        Radial range (default: the range of the dimensions' likert scale, else of the data).

    Returns
    -------
    matplotlib.axes.Axes

    Example
    -------
    >>> from toolkit.instruments import resolve_instrument
    >>> inst = resolve_instrument("competence_reflection")
    >>> d = pd.DataFrame({"dimension": ["data", "communication", "data", "communication", "digital_tools", "digital_tools"],
    ...                   "group": ["Ist", "Ist", "Soll", "Soll", "Ist", "Soll"], "score": [2.5, 3.0, 4.0, 3.5, 3.0, 4.5]})
    >>> ax = plot_profile_radar(d, instrument=inst)
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['Ist', 'Soll']
    """
    check_lang(lang)
    check_columns(data, ["dimension", group, value], "plot_profile_radar")
    ax = new_axes(ax, (7.0, 6.6), polar=True)
    if getattr(ax, "name", "") != "polar":
        raise DataError("plot_profile_radar needs a polar Axes: create it with fig.add_subplot(projection='polar')")
    dims = dimension_order(instrument, data["dimension"])
    if len(dims) < 3:
        raise DataError(f"plot_profile_radar needs at least 3 dimensions, got {len(dims)}; use plot_change or a bar chart instead")
    rng = (vmin, vmax)
    if vmin is None or vmax is None:
        default = scale_range(instrument, dims) or (float(np.nanmin(data[value])), float(np.nanmax(data[value])))
        rng = (default[0] if vmin is None else vmin, default[1] if vmax is None else vmax)
    angles = np.linspace(0, 2 * np.pi, len(dims), endpoint=False)
    prepare_radar(ax)
    gaps: list[str] = []
    empty: list[str] = []
    for i, g in enumerate(ordered_values(data[group])):
        sub = data.loc[data[group] == g].drop_duplicates("dimension", keep="last").set_index("dimension")[value]
        vals = sub.reindex(dims).to_numpy(dtype=float)
        if np.isnan(vals).all():
            empty.append(safe_text(g))  # nothing to draw: no line, no legend entry, named in the note
            continue
        closed_a = np.append(angles, angles[0])
        closed_v = np.append(vals, vals[0])
        colour, marker, ls = SERIES_COLORS[i % len(SERIES_COLORS)], MARKERS[i % len(MARKERS)], LINESTYLES[i % len(LINESTYLES)]
        ax.plot(closed_a, closed_v, color=colour, linestyle=ls, linewidth=2, marker=marker, markersize=6, label=safe_text(g))
        if not np.isnan(vals).any():
            ax.fill(angles, vals, color=colour, alpha=0.08)
        gaps += [f"{safe_text(g)}: {dimension_title(instrument, d, lang, 200, 1)}" for d, v in zip(dims, vals) if np.isnan(v)]
    ax.set_xticks(angles)
    labels = ax.set_xticklabels([dimension_title(instrument, d, lang, 18) for d in dims], fontsize=8.5)
    for a, lab in zip(angles, labels):  # labels grow away from the circle, so none runs into it (or off the figure)
        x = np.sin(a)
        lab.set_horizontalalignment("center" if abs(x) < 0.15 else ("left" if x > 0 else "right"))
    ax.set_ylim(rng[0], rng[1])
    ticks = np.arange(np.ceil(rng[0]), np.floor(rng[1]) + 1)
    ax.set_yticks(ticks)
    ax.set_yticklabels([fmt(t, lang, 0) for t in ticks], fontsize=7, color="#555555")
    ax.set_rlabel_position(180 / len(dims))
    handles, names = ax.get_legend_handles_labels()
    if handles:  # centred under the chart, clear of the dimension labels
        ax.legend(handles, names, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=min(3, len(handles)), frameon=False, fontsize=9)
    notes = []
    if gaps:
        notes.append(f"{tr('gaps', lang)} ({tr('suppressed', lang)}): " + "; ".join(gaps) + ".")
    if empty:
        notes.append(f"{cap(tr('suppressed', lang))}: " + ", ".join(empty) + ".")
    if notes:
        width = max(40, int(ax.figure.get_figwidth() * ax.get_position().width * 14))  # ≈ characters of 8-pt text across the axes
        add_note(ax, " ".join(notes), y=-0.1, below=22 if handles else 4, width=width)
    return ax


def _change_long(data: pd.DataFrame, lang: str, from_label: str | None, to_label: str | None) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Per-wave means from a long frame, or from a paired-change frame (mean_from, mean_to)."""
    if {"mean_from", "mean_to"} <= set(data.columns):
        check_columns(data, ["dimension"], "plot_change")
        a, b = from_label or tr("before", lang), to_label or tr("after", lang)
        rows = []
        for _, r in data.iterrows():
            rows.append({"dimension": r["dimension"], "wave": a, "mean": r["mean_from"], "ci_low": np.nan, "ci_high": np.nan})
            rows.append({"dimension": r["dimension"], "wave": b, "mean": r["mean_to"], "ci_low": np.nan, "ci_high": np.nan})
        long = pd.DataFrame(rows)
        long["wave"] = pd.Categorical(long["wave"], categories=[a, b], ordered=True)
        return long, data
    check_columns(data, ["dimension", "wave", "mean"], "plot_change")
    long = data.copy()
    for c in ("ci_low", "ci_high"):
        if c not in long.columns:
            long[c] = np.nan
    return long, None


def _means_with_ci(ax: Any, x: np.ndarray, y: np.ndarray, err: np.ndarray | None, marker: str, colour: str, label: str) -> Any:
    """What ``ax.errorbar(x, y, xerr=err, fmt=marker, color=colour, markersize=7, capsize=3, elinewidth=1.2,
    markeredgecolor="white", label=label, zorder=3)`` draws, made directly: the same artists with the same
    properties, added in the same order, and the same legend entry (an ``ErrorbarContainer``), so the figure
    is the same, without errorbar's argument handling, unit conversion and its ``hlines`` (≈ a third of the
    chart's drawing code)."""
    from matplotlib.collections import LineCollection
    from matplotlib.container import ErrorbarContainer
    from matplotlib.lines import Line2D

    points = Line2D(x, y, linestyle="None", marker=marker, color=colour, markersize=7, markeredgecolor="white",
                    label="_nolegend_", zorder=3.1)  # errorbar lifts its markers 0.1 above the bars
    ax.add_line(points)
    caps: tuple = ()
    bars: tuple = ()
    if err is not None:
        if np.any(err < 0):
            raise ValueError("'xerr' must not contain negative values")
        low, high = x - err[0], x + err[1]
        segments = np.empty((len(y), 2, 2))
        segments[:, 0, 0], segments[:, 0, 1], segments[:, 1, 0], segments[:, 1, 1] = low, y, high, y
        bar = LineCollection(segments, colors=colour, linestyles="solid", label="_nolegend_", linewidth=1.2, zorder=3)
        ax.add_collection(bar, autolim=False)
        if len(y):
            ax.update_datalim(((np.nanmin(segments[..., 0]), np.nanmin(segments[..., 1])),
                               (np.nanmax(segments[..., 0]), np.nanmax(segments[..., 1]))))
        caps = tuple(Line2D(ends, y, marker="|", color=colour, linestyle="none", markersize=6, markeredgecolor=colour,
                            label="_nolegend_", zorder=3) for ends in (low, high))
        for line in caps:
            ax.add_line(line)
        bars = (bar,)
    ax._request_autoscale_view()
    container = ErrorbarContainer((points, caps, bars), has_xerr=err is not None, has_yerr=False, label=label)
    ax.add_container(container)
    return container


def plot_change(
    data: pd.DataFrame,
    *,
    instrument: Instrument | None = None,
    lang: str = "de",
    ax: Any = None,
    from_label: str | None = None,
    to_label: str | None = None,
) -> Any:
    """Change over waves as a dumbbell chart: one row per dimension, one marker per wave.

    Parameters
    ----------
    data
        Per-wave means ``dimension, wave, mean[, ci_low, ci_high, suppressed]`` (wave order:
        categorical order, else order of appearance) — or the frame of
        :func:`toolkit.stats.paired_change` (``mean_from, mean_to, mean_diff, ci_low, ci_high``),
        then the CI of the mean difference is written next to each row.
        Rows with NaN means (suppressed) are left out and listed in a note.
    instrument
        Dimension order, titles and the scale range.
    lang
        "de" (default) or "en".
    ax
        Axes to draw on (a new figure if None).
    from_label, to_label
        Wave names for a paired-change frame (default "vorher"/"nachher").

    Returns
    -------
    matplotlib.axes.Axes

    Example
    -------
    >>> d = pd.DataFrame({"dimension": ["data", "data"], "wave": ["t0", "t1"], "mean": [3.1, 3.6],
    ...                   "ci_low": [2.9, 3.4], "ci_high": [3.3, 3.8]})
    >>> plot_change(d).get_xlabel()
    'Mittelwert mit 95-%-Konfidenzintervall'
    """
    check_lang(lang)
    long, change = _change_long(data, lang, from_label, to_label)
    ax = new_axes(ax, (9.0, 0.55 * max(3, long["dimension"].nunique()) + 1.6))
    if "suppressed" in long.columns:
        long.loc[long["suppressed"].fillna(False).astype(bool), ["mean", "ci_low", "ci_high"]] = np.nan
    dims = dimension_order(instrument, long["dimension"])
    waves = ordered_values(long["wave"])
    y = {d: len(dims) - 1 - i for i, d in enumerate(dims)}
    has_ci = bool(np.isfinite(long[["ci_low", "ci_high"]].to_numpy(dtype=float)).any())
    offsets = np.linspace(-0.18, 0.18, len(waves)) if len(waves) > 1 and has_ci else np.zeros(len(waves))
    hidden: list[str] = []
    by_cell: dict[tuple[Any, Any], Any] = {}  # (dimension, wave) -> mean, one pass (not one filter per dimension)
    unique = not long.duplicated(["dimension", "wave"]).any()
    if unique:
        by_cell = dict(zip(zip(long["dimension"], long["wave"]), long["mean"].to_numpy(dtype=float)))
    links: list[list[tuple[float, float]]] = []  # one line per dimension through its waves, drawn as one collection
    for d in dims:
        if unique:
            xs = [by_cell.get((d, w), np.nan) for w in waves]
        else:
            sub = long.loc[long["dimension"] == d].set_index("wave")
            xs = [sub["mean"].get(w, np.nan) for w in waves]
        ys = [y[d] + o for o in offsets]
        ok = [i for i, v in enumerate(xs) if np.isfinite(v)]
        if len(ok) >= 2:
            links.append([(xs[i], ys[i]) for i in ok])
        hidden += [f"{dimension_title(instrument, d, lang, 200, 1)} ({safe_text(w)})" for i, w in enumerate(waves) if i not in ok]
    if links:
        ax.add_collection(line_segments(links, color="#9A9A9A", linewidth=1.5, zorder=1))
    if unique:  # the rows of each wave from plain columns, once (no frame filtered per wave: no duplicates to drop)
        wave_of, dim_of = long["wave"].tolist(), long["dimension"].tolist()
        mean_all = long["mean"].to_numpy(dtype=float)
        lo_all = mean_all - long["ci_low"].to_numpy(dtype=float)
        hi_all = long["ci_high"].to_numpy(dtype=float) - mean_all
        shown = np.isfinite(mean_all) & long["dimension"].isin(dims).to_numpy()
    for j, w in enumerate(waves):
        if unique:
            rows = [i for i, v in enumerate(wave_of) if v == w and shown[i]]
            means = mean_all[rows]
            ys = np.array([y[dim_of[i]] for i in rows], dtype=float) + offsets[j]
            lo, hi = lo_all[rows], hi_all[rows]
        else:
            sub = long.loc[long["wave"] == w].drop_duplicates("dimension", keep="last")
            sub = sub.loc[np.isfinite(sub["mean"].to_numpy(dtype=float)) & sub["dimension"].isin(dims)]
            means = sub["mean"].to_numpy(dtype=float)
            ys = sub["dimension"].map(y).to_numpy(dtype=float) + offsets[j]
            lo = (sub["mean"] - sub["ci_low"]).to_numpy(dtype=float)
            hi = (sub["ci_high"] - sub["mean"]).to_numpy(dtype=float)
        err = None if np.isnan(lo).all() else np.vstack([np.nan_to_num(lo), np.nan_to_num(hi)])
        _means_with_ci(ax, means, ys, err, MARKERS[j % len(MARKERS)], SERIES_COLORS[j % len(SERIES_COLORS)],
                       safe_text(w))
    if change is not None and {"mean_diff", "ci_low", "ci_high"} <= set(change.columns):
        for _, r in change.iterrows():
            if r["dimension"] in y and np.isfinite(r["mean_diff"]):
                txt = f"Δ {fmt(r['mean_diff'], lang, 2, sign=True)} [{fmt(r['ci_low'], lang, 2)}; {fmt(r['ci_high'], lang, 2)}]"
                ax.annotate(txt, xy=(1.01, y[r["dimension"]]), xycoords=("axes fraction", "data"), va="center", fontsize=8)
    ax.set_yticks(list(y.values()))
    ax.set_yticklabels([dimension_title(instrument, d, lang, 30, 2) for d in y], fontsize=9)
    ax.set_ylim(-0.6, len(dims) - 0.4)
    lim = scale_range(instrument, dims)
    if lim is not None:  # always the scale's full range: the same axis in every report, no exaggerated differences
        pad = 0.03 * (lim[1] - lim[0])
        ax.set_xlim(lim[0] - pad, lim[1] + pad)
        ax.set_xticks(np.arange(np.ceil(lim[0]), np.floor(lim[1]) + 1))
    ax.set_xlabel(tr("mean_delta", lang) if change is not None else (tr("mean_ci", lang) if has_ci else tr("mean", lang)))
    decimal_comma(ax.xaxis, lang)
    ax.grid(axis="x", color="#DDDDDD", linewidth=0.6)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=max(1, len(waves)), frameon=False, fontsize=9)
    if hidden:
        add_note(ax, f"{cap(tr('suppressed', lang))}: " + "; ".join(hidden))
    return ax


def plot_needs(
    data: pd.DataFrame,
    *,
    instrument: Instrument | None = None,
    lang: str = "de",
    ax: Any = None,
    value: str = "needs",
    top: int | None = None,
) -> Any:
    """Development needs ranked: one horizontal bar per dimension, highest need on top.

    Parameters
    ----------
    data
        The frame of :func:`toolkit.scoring.needs_ranking` for one group (``dimension, ist, soll,
        gap, importance, needs[, rank, n, suppressed]``). Suppressed rows (``suppressed`` true or
        NaN needs) are drawn as hatched grey placeholders at the bottom.
    instrument
        Dimension titles.
    lang
        "de" (default) or "en".
    ax
        Axes to draw on (a new figure if None).
    value
        The column to rank by.
    top
        Show only the ``top`` highest needs.

    Returns
    -------
    matplotlib.axes.Axes

    Example
    -------
    >>> d = pd.DataFrame({"dimension": ["data", "communication"], "ist": [2.5, 3.0], "soll": [4.0, 3.2],
    ...                   "gap": [1.5, 0.2], "importance": [4.5, 3.0], "needs": [6.4, 0.9]})
    >>> [t.get_text() for t in plot_needs(d).get_yticklabels()]
    ['data', 'communication']
    """
    check_lang(lang)
    check_columns(data, ["dimension", value], "plot_needs")
    if data["dimension"].duplicated().any():
        raise DataError("plot_needs shows one group: the frame has several rows per dimension; filter it to one authority or group")
    df = data.copy()
    hidden = df[value].isna()
    if "suppressed" in df.columns:
        hidden |= df["suppressed"].fillna(True).astype(bool)
    df["_hidden"] = hidden
    df = df.sort_values(["_hidden", value], ascending=[True, False], kind="stable")
    if top is not None:
        df = df.head(top)
    ax = new_axes(ax, (9.0, 0.5 * max(3, len(df)) + 1.4))
    n = len(df)
    ys = np.arange(n)[::-1]
    shown = ~df["_hidden"].to_numpy()
    vals = df[value].to_numpy(dtype=float)
    xmax = float(np.nanmax(vals[shown])) if shown.any() and np.isfinite(vals[shown]).any() else 1.0
    xmax = max(xmax, 1e-9)
    ax.barh(ys[shown], vals[shown], color=OKABE_ITO["blue"], height=0.62, edgecolor="white")
    ax.barh(ys[~shown], [xmax] * int((~shown).sum()), color=SUPPRESSED_FACE, edgecolor=SUPPRESSED_EDGE, hatch=SUPPRESSED_HATCH,
            height=0.62, linewidth=0.6, label=f"{tr('hatched', lang)}: {tr('suppressed', lang)}")
    for yy, (_, r) in zip(ys, df.iterrows()):
        if r["_hidden"]:
            ax.text(xmax * 0.02, yy, tr("suppressed", lang), va="center", fontsize=8, color="#222222",
                    bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.5}, in_layout=False)
            continue
        parts = [fmt(r[value], lang, 1)]
        if {"ist", "soll"} <= set(df.columns):
            parts.append(f"{tr('ist', lang)} {fmt(r['ist'], lang)} → {tr('soll', lang)} {fmt(r['soll'], lang)}")
        if "importance" in df.columns:
            parts.append(f"{tr('importance', lang)} {fmt(r['importance'], lang)}")
        ax.text(r[value] + xmax * 0.015, yy, "  ·  ".join(parts), va="center", fontsize=8, color="#222222", in_layout=False)
    ax.set_yticks(ys)
    ax.set_yticklabels([dimension_title(instrument, d, lang, 30, 2) for d in df["dimension"]], fontsize=9)
    ax.set_xlim(0, xmax * 1.75)
    decimal_comma(ax.xaxis, lang)
    ax.set_xlabel(tr("needs_axis", lang) if value == "needs" else safe_text(value))
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="x", color="#DDDDDD", linewidth=0.6)
    ax.set_axisbelow(True)
    if (~shown).any():
        ax.legend(loc="lower right", frameon=False, fontsize=8)
    return ax
