"""Item and cohort overviews: diverging stacked Likert bars and the authority × dimension heatmap."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ..instruments import Instrument
from ..privacy import suppress
from ._common import (
    DIVERGING,
    add_note,
    SUPPRESSED_EDGE,
    SUPPRESSED_FACE,
    SUPPRESSED_HATCH,
    check_columns,
    check_lang,
    decimal_comma,
    dimension_order,
    dimension_title,
    fmt,
    new_axes,
    ordered_values,
    safe_text,
    shorten,
    tr,
    wrap,
)

__all__ = ["plot_likert_bars", "plot_heatmap", "likert_shares"]


def likert_shares(responses: pd.DataFrame, instrument: Instrument, items: Sequence[str] | None = None) -> pd.DataFrame:
    """Share of each scale point per item (missing codes and invalid values left out).

    Returns
    -------
    DataFrame
        ``item, n, point, count, share`` for every item × point of the item's scale
        (raw answers as worded: reverse-keyed items are not recoded).

    Example
    -------
    >>> from toolkit.instruments import resolve_instrument
    >>> inst = resolve_instrument("competence_reflection")
    >>> r = pd.DataFrame({"item": ["dt1", "dt1", "dt1"], "value": [4.0, 5.0, 0.0]})
    >>> likert_shares(r, inst).query("count > 0")[["point", "count", "share"]].to_dict("records")
    [{'point': 4.0, 'count': 1, 'share': 0.5}, {'point': 5.0, 'count': 1, 'share': 0.5}]
    """
    check_columns(responses, ["item", "value"], "likert_shares")
    wanted = list(items) if items is not None else [i.id for i in instrument.items if i.type == "likert"]
    present = set(responses["item"])
    at = responses.groupby(responses["item"], observed=True, sort=False).indices if len(responses) else {}  # one pass, not one per item
    values = pd.to_numeric(responses["value"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    rows = []
    for item_id in wanted:
        if item_id not in present and items is None:
            continue
        scale = instrument.scale_of(item_id)
        if scale is None:
            continue
        vals = values[at.get(item_id, np.array([], dtype=np.intp))]
        vals = vals[np.isin(vals, np.asarray(list(scale.points), dtype=float))]
        n = int(len(vals))
        for p in scale.points:
            c = int((vals == p).sum())
            rows.append({"item": item_id, "n": n, "point": float(p), "count": c, "share": c / n if n else np.nan})
    return pd.DataFrame(rows, columns=["item", "n", "point", "count", "share"])


def plot_likert_bars(
    responses: pd.DataFrame,
    *,
    instrument: Instrument,
    items: Sequence[str] | None = None,
    lang: str = "de",
    ax: Any = None,
    k: int | None = None,
    wrap_width: int = 55,
) -> Any:
    """Diverging stacked bars per Likert item, centred on the neutral middle, sorted by agreement.

    Disagreement goes left of zero (hatched, for greyscale print), agreement right; the neutral
    category is split half and half at zero. Items are sorted by the share of agreement (top:
    most). Answers are shown as worded (reverse-keyed items are not recoded); missing codes
    ("kann ich nicht beurteilen") are left out of the shares.

    Parameters
    ----------
    responses
        Tidy responses (``item, value``; further columns ignored) of one group.
    instrument
        Item texts and scales.
    items
        Items to show (default: every ``likert`` item present).
    lang
        "de" (default) or "en".
    ax
        Axes to draw on (a new figure if None).
    k
        Minimum group size: items with fewer than ``k`` valid answers are not drawn
        (:func:`toolkit.privacy.suppress`) but named as suppressed. None: no check (the caller
        has already made sure the group is large enough).
    wrap_width
        Characters per line of the item texts.

    Returns
    -------
    matplotlib.axes.Axes

    Example
    -------
    >>> from toolkit.instruments import resolve_instrument
    >>> inst = resolve_instrument("competence_reflection")
    >>> r = pd.DataFrame({"item": ["dt1"] * 5 + ["dt2"] * 5, "value": [4.0, 5, 3, 2, 4, 1, 2, 2, 3, 5]})
    >>> plot_likert_bars(r, instrument=inst).get_xlabel()
    'Anteil der gültigen Antworten in %'
    """
    check_lang(lang)
    shares = likert_shares(responses, instrument, items)
    per_item = shares.drop_duplicates("item")[["item", "n"]].reset_index(drop=True)
    if k is not None:
        per_item = suppress(per_item.assign(_x=0.0), k=k, estimates=["_x"])
    else:
        per_item["suppressed"] = per_item["n"] == 0
    item_ids = list(per_item["item"])
    ax = new_axes(ax, (11.0, 0.46 * max(2, len(item_ids)) + 2.0))
    if not item_ids:
        ax.set_axis_off()
        add_note(ax, tr("no_data", lang), y=0.5, below=0)
        return ax
    agreement = {}
    for item_id in item_ids:
        s = shares.loc[shares["item"] == item_id]
        mid = (s["point"].min() + s["point"].max()) / 2
        agreement[item_id] = s.loc[s["point"] > mid, "share"].sum()
    hidden = dict(zip(per_item["item"], per_item["suppressed"]))
    order = sorted(item_ids, key=lambda i: (hidden[i], -agreement[i] if not hidden[i] else 0, item_ids.index(i)))
    ys = {item_id: len(order) - 1 - pos for pos, item_id in enumerate(order)}
    legend_done: set[float] = set()
    for item_id in order:
        y = ys[item_id]
        s = shares.loc[shares["item"] == item_id].sort_values("point")
        if hidden[item_id]:
            ax.barh(y, 200, left=-100, color=SUPPRESSED_FACE, edgecolor=SUPPRESSED_EDGE, hatch=SUPPRESSED_HATCH, height=0.7, linewidth=0.5)
            ax.text(0, y, tr("suppressed", lang), ha="center", va="center", fontsize=8, color="#222222",
                    bbox={"facecolor": "white", "edgecolor": "none", "pad": 1.5}, in_layout=False)
            continue
        points = s["point"].to_numpy()
        pct = s["share"].to_numpy(dtype=float) * 100
        mid = (points.min() + points.max()) / 2
        colours = DIVERGING.get(len(points), DIVERGING[5])
        left = -(pct[points < mid].sum() + pct[points == mid].sum() / 2)
        scale = instrument.scale_of(item_id)
        for p, w, colour in zip(points, pct, colours):
            label = None
            if p not in legend_done:
                label = safe_text(scale.label(p, lang)) if scale is not None else fmt(p, lang, 0)
                legend_done.add(p)
            ax.barh(y, w, left=left, color=colour, edgecolor="white", linewidth=0.6, height=0.7,
                    hatch="//" if p < mid else None, label=label)
            if w >= 7:
                ax.text(left + w / 2, y, f"{w:.0f}", ha="center", va="center", fontsize=7, color="#111111",
                        bbox={"facecolor": "white", "alpha": 0.75, "edgecolor": "none", "pad": 0.6, "boxstyle": "round"}, in_layout=False)
            left += w
        ax.text(101, y, f"n = {int(s['n'].iloc[0])}", va="center", fontsize=7.5, color="#444444")
    ax.axvline(0, color="#333333", linewidth=0.9)
    ax.set_yticks(list(ys.values()))
    reversed_note = f" ({tr('negatively_worded', lang)})"
    ax.set_yticklabels([wrap(instrument.item(i).text.get(lang) + (reversed_note if instrument.item(i).reverse else ""), wrap_width, 3)
                        for i in ys], fontsize=8.5)
    ax.set_xlim(-100, 100)
    ax.set_ylim(-0.6, len(order) - 0.4)
    ticks = np.arange(-100, 101, 25)
    ax.set_xticks(ticks)
    ax.set_xticklabels([f"{abs(t)}" for t in ticks])
    ax.set_xlabel(tr("share", lang))
    ax.spines[["top", "right", "left"]].set_visible(False)
    ax.tick_params(axis="y", length=0)
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        ax.legend(handles, labels, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=len(handles), frameon=False, fontsize=8.5)
    return ax


def _luminance(rgba: Sequence[float]) -> float:
    r, g, b = rgba[:3]
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _diverging_map() -> Any:
    """ColorBrewer RdYlBu (colour-blind safe): red low, light yellow at the scale's middle, blue high.

    No grey anywhere, so no cell can be mistaken for a suppressed (hatched) one.
    """
    import matplotlib as mpl

    return mpl.colormaps["RdYlBu"]


def plot_heatmap(
    df: pd.DataFrame,
    *,
    row: str = "authority",
    col: str = "dimension",
    value: str = "mean",
    suppressed: str = "suppressed",
    instrument: Instrument | None = None,
    lang: str = "de",
    ax: Any = None,
    cmap: str | None = None,
    vmin: float | None = None,
    vmax: float | None = None,
    annotate: bool = True,
    row_labels: Mapping[Any, str] | None = None,
    group: str | None = None,
    center: float | None = None,
) -> Any:
    """Cohort heatmap (e.g. authority × dimension); suppressed cells are hatched and labelled.

    Parameters
    ----------
    df
        Tidy ``<row>, <col>, <value>[, <suppressed>, <group>]`` (e.g. :func:`toolkit.privacy.group_summary`
        by authority and dimension). Suppressed cells (flag true) are drawn white with dark
        hatching and the mark "×", and explained above the plot; cells without data show "–".
    row, col, value, suppressed
        Column names (``suppressed`` may be absent).
    instrument
        Dimension titles and order when ``col`` holds dimension ids; its scale's middle is the
        colour map's centre.
    lang
        "de" (default) or "en".
    ax
        Axes to draw on (a new figure if None).
    cmap, vmin, vmax, center
        Colour map (default: ColorBrewer RdYlBu, diverging, colour-blind safe, no grey) and its
        range (default: symmetric around ``center``, the scale's middle, wide enough for the data).
    annotate
        Write the (rounded) value into each cell.
    row_labels
        Readable names of the rows (e.g. authority code → "Name (code)"); default the values.
    group
        A column grouping the rows (e.g. ``ministry``): rows are grouped under a bold header
        row per group, in order of first appearance.

    Returns
    -------
    matplotlib.axes.Axes

    Example
    -------
    >>> d = pd.DataFrame({"authority": ["A", "A", "B", "B"], "dimension": ["x", "y", "x", "y"],
    ...                   "mean": [3.2, 2.8, None, 4.0], "suppressed": [False, False, True, False]})
    >>> ax = plot_heatmap(d)
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['A', 'B']
    """
    check_lang(lang)
    check_columns(df, [row, col, value] + ([group] if group else []), "plot_heatmap")
    data = df.drop_duplicates([row, col], keep="last")
    rows = ordered_values(data[row])
    entries: list[tuple[bool, Any]] = [(False, r) for r in rows]  # (is group header, key)
    if group is not None:
        by_row = data.drop_duplicates(row).set_index(row)[group]
        entries = []
        for g in ordered_values(data[group]):
            entries.append((True, g))
            entries += [(False, r) for r in rows if by_row.get(r) == g]
        entries += [(False, r) for r in rows if by_row.get(r) not in set(data[group].dropna())]
    cols = dimension_order(instrument, ordered_values(data[col])) if instrument is not None else ordered_values(data[col])
    row_keys = [k for is_head, k in entries if not is_head]
    grid = data.pivot(index=row, columns=col, values=value).reindex(index=row_keys, columns=cols).astype(float)
    if suppressed in data.columns:
        flags = data.pivot(index=row, columns=col, values=suppressed).reindex(index=row_keys, columns=cols)
        hidden_rows = flags.fillna(False).astype(bool).to_numpy()
    else:
        hidden_rows = np.zeros(grid.shape, bool)
    pos = {k: i for i, k in enumerate(row_keys)}
    n = len(entries)
    vals = np.full((n, len(cols)), np.nan)
    hidden = np.zeros((n, len(cols)), bool)
    header = np.zeros(n, bool)
    for i, (is_head, k) in enumerate(entries):
        if is_head:
            header[i] = True
            continue
        vals[i] = np.where(hidden_rows[pos[k]], np.nan, grid.to_numpy()[pos[k]])
        hidden[i] = hidden_rows[pos[k]]
    ax = new_axes(ax, (1.05 * len(cols) + 3.5, 0.36 * n + 2.6))
    import matplotlib as mpl
    from matplotlib.patches import Patch, Rectangle

    cm = (mpl.colormaps[cmap] if cmap else _diverging_map()).with_extremes(bad="white")
    finite = vals[np.isfinite(vals)]
    if center is None and instrument is not None and cols:
        from ._common import scale_range

        rng = scale_range(instrument, cols)
        center = None if rng is None else (rng[0] + rng[1]) / 2
    if center is not None and vmin is None and vmax is None:
        half = float(np.abs(finite - center).max()) if finite.size else 1.0
        half = max(0.5, np.ceil(half * 4) / 4)
        lo, hi = center - half, center + half
    else:
        lo = vmin if vmin is not None else (float(finite.min()) if finite.size else 0.0)
        hi = vmax if vmax is not None else (float(finite.max()) if finite.size else 1.0)
    if hi <= lo:
        hi = lo + 1.0
    img = ax.imshow(np.ma.masked_invalid(vals), cmap=cm, vmin=lo, vmax=hi, aspect="auto", interpolation="nearest")
    norm = mpl.colors.Normalize(lo, hi)
    for i in range(n):
        if header[i]:
            continue
        for j in range(len(cols)):
            if hidden[i, j]:
                ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, facecolor="white", edgecolor=SUPPRESSED_EDGE,
                                       hatch=SUPPRESSED_HATCH, linewidth=0.4))
                ax.text(j, i, "×", ha="center", va="center", fontsize=8, color="#333333",
                        bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.8}, in_layout=False)
            elif not np.isfinite(vals[i, j]):
                ax.text(j, i, "–", ha="center", va="center", fontsize=8, color="#777777", in_layout=False)
            elif annotate:
                colour = "black" if _luminance(cm(norm(vals[i, j]))) > 0.45 else "white"
                ax.text(j, i, fmt(vals[i, j], lang, 1), ha="center", va="center", fontsize=7.5, color=colour, in_layout=False)
    ax.set_xticks(range(len(cols)))
    labels = [dimension_title(instrument, c, lang, 22, 3) if instrument is not None else wrap(c, 22, 3) for c in cols]
    ax.set_xticklabels(labels, rotation=40, ha="right", rotation_mode="anchor", fontsize=8)
    ax.set_yticks(range(n))
    names = row_labels or {}
    ylabels = ax.set_yticklabels([shorten(k, 30) if head or k not in names else shorten(names[k], 64) for head, k in entries], fontsize=8)
    for lab, head in zip(ylabels, header):
        if head:
            lab.set_fontweight("bold")
    for i in np.flatnonzero(header):
        if i > 0:
            ax.axhline(i - 0.5, color="#444444", linewidth=1.0)
    ax.set_xticks(np.arange(-0.5, len(cols)), minor=True)
    ax.set_yticks(np.arange(-0.5, n), minor=True)
    ax.grid(which="minor", color="white", linewidth=1.2)
    ax.tick_params(which="minor", length=0)
    ax.tick_params(axis="y", length=0)
    ax.spines[:].set_visible(False)
    label = tr(value, lang) if value in ("mean", "score", "needs") else safe_text(value)
    cbar = ax.figure.colorbar(img, ax=ax, label=label, shrink=0.8 if n > 8 else 1.0, pad=0.02, fraction=0.04)
    decimal_comma(cbar.ax.yaxis, lang)
    handles = []
    if hidden.any():
        handles.append(Patch(facecolor="white", edgecolor=SUPPRESSED_EDGE, hatch=SUPPRESSED_HATCH,
                             label=f"×  {tr('suppressed', lang)}"))
    if (~hidden & ~np.isfinite(vals) & ~header[:, None]).any():
        handles.append(Patch(facecolor="white", edgecolor="#999999", label=f"–  {tr('no_data', lang)}"))
    if handles:
        ax.legend(handles=handles, loc="lower left", bbox_to_anchor=(0, 1.0), ncol=len(handles), frameon=False, fontsize=8)
    return ax
