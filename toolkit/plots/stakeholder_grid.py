"""The power–interest grid (Mendelow) of a stakeholder map."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import DataError
from ..i18n import t
from ._common import OKABE_ITO, add_note, cap, check_columns, check_lang, line_segments, safe_text, tr, wrap

__all__ = ["plot_power_interest", "attitude_cmap"]


def attitude_cmap() -> Any:
    """Diverging colour map for attitude: vermillion (opposed) – light grey – blue (supportive)."""
    from matplotlib.colors import LinearSegmentedColormap

    return LinearSegmentedColormap.from_list("toolkit_attitude", [OKABE_ITO["vermillion"], "#EDEDED", OKABE_ITO["blue"]])


def _spread(positions: pd.DataFrame, radius: float = 0.2, mid: tuple[float, float] | None = None) -> pd.DataFrame:
    """Move points that share the same position onto a small arc around it (deterministic).

    With ``mid`` (the quadrant lines, x and y), no point is moved across a line: a point on a
    line (which counts as low) moves only to the low side, a point near one only away from it,
    so every marker stays in the quadrant its medians put it in.
    """
    xs, ys = positions["x"].to_numpy(float).copy(), positions["y"].to_numpy(float).copy()
    groups: dict[tuple[float, float], list[int]] = {}  # same position -> its rows, in order (a pandas groupby costs more than the spreading)
    for n, key in enumerate(zip(xs.tolist(), ys.tolist())):
        if not (math.isnan(key[0]) or math.isnan(key[1])):
            groups.setdefault(key, []).append(n)
    for (x0, y0), idx in groups.items():
        if len(idx) < 2:
            continue
        r = radius * (1 + 0.15 * max(0, len(idx) - 4))
        lo_a, hi_a = 0.0, 2 * np.pi  # allowed directions (radians, counter-clockwise from +x)
        sector = False
        if mid is not None:
            allowed = np.ones(360, bool)
            deg = np.deg2rad(np.arange(360))
            for value, line, comp in ((x0, mid[0], np.cos(deg)), (y0, mid[1], np.sin(deg))):
                if value <= line and line - value < r * 1.05:
                    allowed &= comp < -0.2  # on or just below the line: stay below (a value on it counts as low)
                elif value > line and value - line < r * 1.05:
                    allowed &= comp > 0.2
            if not allowed.all():
                sector = True
                ok = np.flatnonzero(allowed)
                if ok.size == 0:
                    continue
                # the allowed directions form one arc; find its start (after a gap) to spread along it
                start = next((int(a) for a in ok if not allowed[(a - 1) % 360]), int(ok[0]))
                length = int(ok.size)
                lo_a, hi_a = np.deg2rad(start), np.deg2rad(start + length - 1)
        if sector:
            angles = lo_a + (np.arange(len(idx)) + 0.5) * (hi_a - lo_a) / len(idx)  # centred on the arc, clear of the line
            r = max(r, radius * 0.9 * (len(idx) - 1) / max(hi_a - lo_a, 0.3))  # keep the markers apart on a short arc
        else:
            angles = np.pi / 2 + 2 * np.pi * np.arange(len(idx)) / len(idx)
        xs[idx] += r * np.cos(angles)
        ys[idx] += r * np.sin(angles)
    out = positions.copy()
    out["x"], out["y"] = xs, ys
    return out


def plot_power_interest(
    stakeholder_map_df: pd.DataFrame,
    *,
    lang: str = "de",
    ax: Any = None,
    authority: str | None = None,
    scale: tuple[float, float] = (1, 5),
    attitude_range: tuple[float, float] = (-2, 2),
    label_width: int = 20,
    labels: str = "auto",
) -> Any:
    """Power–interest grid: each stakeholder at its median interest (x) and influence (y).

    Lines through a point span the middle 50 % of the ratings (interquartile range) on both
    axes; colour and marker show the median attitude (▼ opposed, ● neutral, ▲ supportive, so it
    reads in greyscale too); a dashed ring and "!" mark disagreement among raters. The quadrants
    carry the strategy names (eng einbinden, zufriedenstellen, informieren, beobachten). Points
    sharing a position are spread on a small circle. Stakeholder names are shown as plain text
    (no markup or mathtext is interpreted).

    Parameters
    ----------
    stakeholder_map_df
        The frame of :func:`toolkit.stakeholders.stakeholder_map` for one authority. Rows with a
        true ``suppressed`` column or without influence/interest medians are listed in a note.
    lang
        "de" (default) or "en".
    ax
        Axes to draw on (a new figure if None).
    authority
        Select one authority when the frame holds several.
    scale
        Range of the influence and interest scales (midpoint = quadrant boundary).
    attitude_range
        Range of the attitude scale (colour map limits).
    label_width
        Characters per line of the stakeholder labels.
    labels
        "names" next to the points, "numbers" with a key beside the plot, or "auto"
        (names for up to 8 stakeholders, else numbers).

    Returns
    -------
    matplotlib.axes.Axes

    Example
    -------
    >>> d = pd.DataFrame({"authority": "BVA", "stakeholder": ["personalrat"], "label": ["Personalrat"],
    ...                   "influence": [4.0], "interest": [4.5], "attitude": [-1.0], "disagreement": [True]})
    >>> ax = plot_power_interest(d)
    >>> ax.get_xlabel().split(" (")[0], ax.get_ylabel().split(" (")[0]
    ('Interesse', 'Einfluss')
    """
    check_lang(lang)
    check_columns(stakeholder_map_df, ["stakeholder", "influence", "interest"], "plot_power_interest")
    df = stakeholder_map_df
    if "authority" in df.columns:
        if authority is not None:
            df = df.loc[df["authority"] == authority]
        elif df["authority"].nunique() > 1:
            raise DataError(
                f"plot_power_interest shows one authority; the frame has {df['authority'].nunique()}: pass authority= "
                f"(one of {', '.join(map(str, sorted(df['authority'].unique())[:8]))}, ...)"
            )
    if "label" not in df.columns:  # (no copy of the whole frame otherwise: it is only read)
        df = df.assign(label=df["stakeholder"])
    hidden_flag = df["suppressed"].fillna(False).astype(bool) if "suppressed" in df.columns else pd.Series(False, index=df.index)
    invalid = df["influence"].isna() | df["interest"].isna()
    shown = df.loc[~hidden_flag & ~invalid]
    ax = new_axes_square(ax)
    lo, hi = scale
    mid = (lo + hi) / 2
    pad = 0.5
    ax.set_xlim(lo - pad, hi + pad)
    ax.set_ylim(lo - pad, hi + pad)
    ax.axvline(mid, color="#888888", linestyle="--", linewidth=1)
    ax.axhline(mid, color="#888888", linestyle="--", linewidth=1)
    corners = {
        "manage_closely": (hi + pad - 0.08, hi + pad - 0.08, "right", "top"),
        "keep_satisfied": (lo - pad + 0.08, hi + pad - 0.08, "left", "top"),
        "keep_informed": (hi + pad - 0.08, lo - pad + 0.08, "right", "bottom"),
        "monitor": (lo - pad + 0.08, lo - pad + 0.08, "left", "bottom"),
    }
    for q, (x, y, ha, va) in corners.items():
        ax.text(x, y, t(f"stakeholder.quadrant.{q}", lang).upper(), ha=ha, va=va, fontsize=9,
                color="#6A6A6A", fontweight="bold", in_layout=False)
    cmap = attitude_cmap()
    import matplotlib as mpl
    from matplotlib.lines import Line2D

    norm = mpl.colors.Normalize(*attitude_range)
    pos = _spread(pd.DataFrame({"x": shown["interest"].to_numpy(float), "y": shown["influence"].to_numpy(float)}, index=shown.index),
                  mid=(mid, mid))
    attitude = shown["attitude"] if "attitude" in shown.columns else pd.Series(np.nan, index=shown.index)
    disagree = shown["disagreement"].fillna(False).astype(bool) if "disagreement" in shown.columns else pd.Series(False, index=shown.index)
    use_numbers = labels == "numbers" or (labels == "auto" and len(shown) > 8)
    numbers = {i: n + 1 for n, i in enumerate(shown.index)}
    # markers are collected and drawn with one scatter call per kind, the lines with one collection per kind
    # (one artist each, not one per point: faster; drawn as the single lines were, in the same order)
    dots: list[tuple[float, float]] = []
    points: dict[str, list[tuple[float, float, Any]]] = {}
    rings: list[tuple[float, float]] = []
    spans: list[list[tuple[float, float]]] = []  # the IQR lines
    leaders: list[list[tuple[float, float]]] = []
    px, py = pos["x"].to_numpy(float), pos["y"].to_numpy(float)
    cx, cy = shown["interest"].to_numpy(float), shown["influence"].to_numpy(float)

    def column(name: str) -> np.ndarray:
        return shown[name].to_numpy(float) if name in shown.columns else np.full(len(shown), np.nan)

    iq1, iq3, fq1, fq3 = column("interest_q1"), column("interest_q3"), column("influence_q1"), column("influence_q3")
    att_values = attitude.to_numpy(float)
    disagree_values = disagree.to_numpy(bool)
    labels_of = shown["label"].tolist()
    for n in range(len(shown)):
        x, y = px[n], py[n]
        dx, dy = x - cx[n], y - cy[n]
        if np.isfinite(iq1[n]) and np.isfinite(iq3[n]):
            spans.append([(iq1[n] + dx, y), (iq3[n] + dx, y)])
        if np.isfinite(fq1[n]) and np.isfinite(fq3[n]):
            spans.append([(x, fq1[n] + dy), (x, fq3[n] + dy)])
        if abs(dx) > 1e-9 or abs(dy) > 1e-9:  # moved apart from others at the same place: a leader to the true position
            leaders.append([(cx[n], cy[n]), (x, y)])
            dots.append((cx[n], cy[n]))
        att = att_values[n]
        if not np.isfinite(att):
            marker, colour = "s", "#BDBDBD"
        else:
            marker = "v" if att < 0 else ("^" if att > 0 else "o")
            colour = cmap(norm(att))
        points.setdefault(marker, []).append((x, y, colour))
        if disagree_values[n]:
            rings.append((x, y))
        if use_numbers:
            text = f"{n + 1}" + ("!" if disagree_values[n] else "")
            ax.annotate(text, xy=(x, y), xytext=(6, 4), textcoords="offset points", fontsize=8, fontweight="bold",
                        color="#1A1A1A", zorder=5, in_layout=False)
        else:
            text = wrap(labels_of[n], label_width, 2) + (" !" if disagree_values[n] else "")
            ax.annotate(text, xy=(x, y), xytext=(7, 5), textcoords="offset points", fontsize=7.5, color="#1A1A1A", zorder=5, in_layout=False)
    if spans:
        ax.add_collection(line_segments(spans, color="#9E9E9E", linewidth=0.9, alpha=0.8, zorder=2))
    if leaders:
        ax.add_collection(line_segments(leaders, color="#555555", linewidth=0.7, zorder=3))
    if dots:
        ax.scatter(*zip(*dots), s=9, color="#333333", zorder=3, linewidths=0)
    if rings:
        ax.scatter(*zip(*rings), s=330, marker="o", facecolors="none", edgecolors="black", linewidths=1.1,
                   linestyle=(0, (2, 1.5)), zorder=3)
    for marker, pts in points.items():
        xs, ys, colours = zip(*pts)
        ax.scatter(xs, ys, s=95, marker=marker, c=list(colours), edgecolors="black", linewidths=0.8, zorder=4)
    ticks = np.arange(lo, hi + 1)
    ax.set_xticks(ticks)
    ax.set_yticks(ticks)
    ax.set_xlabel(f"{tr('interest', lang)} ({tr('median_iqr', lang)})")
    ax.set_ylabel(f"{tr('influence', lang)} ({tr('median_iqr', lang).split(',')[0]})")
    ax.spines[["top", "right"]].set_visible(False)
    handles = [
        Line2D([], [], marker="v", linestyle="", markersize=8, markerfacecolor=cmap(norm(attitude_range[0] * 0.75)),
               markeredgecolor="black", label=tr("opposed", lang)),
        Line2D([], [], marker="o", linestyle="", markersize=8, markerfacecolor=cmap(norm(0)), markeredgecolor="black",
               label=tr("neutral", lang)),
        Line2D([], [], marker="^", linestyle="", markersize=8, markerfacecolor=cmap(norm(attitude_range[1] * 0.75)),
               markeredgecolor="black", label=tr("supportive", lang)),
        Line2D([], [], marker="o", linestyle="", markersize=14, markerfacecolor="none", markeredgecolor="black",
               label=f"{tr('disagreement', lang)} (!)"),
    ]
    first = ax.legend(handles=handles, title=f"{tr('attitude', lang)} (Median)", loc="upper left", bbox_to_anchor=(1.02, 1.0),
                      frameon=False, fontsize=8, title_fontsize=8.5)
    if use_numbers and len(shown):
        ax.add_artist(first)
        key = [Line2D([], [], linestyle="", marker="")] * len(shown)  # no handle is drawn: one invisible line for all rows
        # whole names, wrapped (never cut), continuation lines indented under the name
        names = [f"{numbers[i]:>2}  " + wrap(shown.at[i, "label"], 34, 6).replace("\n", "\n      ") + ("  (!)" if disagree.at[i] else "")
                 for i in shown.index]
        ax.legend(key, names, title=tr("key", lang), loc="upper left", bbox_to_anchor=(1.02, 0.74), frameon=False, fontsize=7.5,
                  title_fontsize=8.5, handlelength=0, handletextpad=0, alignment="left", handler_map={Line2D: _NoHandle()})
    notes = [tr("midpoint_rule", lang)]
    if hidden_flag.any():
        notes.append(f"{cap(tr('suppressed', lang))}: {', '.join(safe_text(v) for v in df.loc[hidden_flag, 'label'])}.")
    if (invalid & ~hidden_flag).any():
        notes.append(f"{cap(tr('not_shown', lang))}: {', '.join(safe_text(v) for v in df.loc[invalid & ~hidden_flag, 'label'])}.")
    add_note(ax, " ".join(notes), width=95)
    return ax


class _NoHandle:
    """A legend handler that draws nothing in the (empty, zero-width) handle box: a key of text rows
    (what an invisible line's handler draws, without its two invisible lines per row)."""

    def legend_artist(self, legend: Any, orig_handle: Any, fontsize: float, handlebox: Any) -> None:
        return None


def new_axes_square(ax: Any) -> Any:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(10.0, 8.0), layout="constrained")
    return fig.add_subplot()
