"""Shared helpers of the plots: palette, safe text, wrapping, notes, translations."""

from __future__ import annotations

import math
import re
import textwrap
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

from ..exceptions import DataError
from ..instruments import Instrument
from ..i18n import t
from ..privacy import SUPPRESSED_NOTE

# Okabe & Ito (2008), "Color Universal Design": distinguishable with all common colour-vision deficiencies
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
}
SERIES_COLORS = [OKABE_ITO[c] for c in ("blue", "orange", "green", "purple", "vermillion", "sky_blue", "black")]
MARKERS = ["o", "s", "^", "D", "v", "P", "X"]
LINESTYLES = ["-", "--", ":", "-."]
SUPPRESSED_FACE = "#E0E0E0"
SUPPRESSED_EDGE = "#777777"
SUPPRESSED_HATCH = "///"
# ColorBrewer PuOr (colour-blind safe), orange = disagree, purple = agree
DIVERGING = {2: ["#E66101", "#5E3C99"], 3: ["#F1A340", "#F7F7F7", "#998EC3"], 4: ["#E66101", "#FDB863", "#B2ABD2", "#5E3C99"],
             5: ["#E66101", "#FDB863", "#D9D9D9", "#B2ABD2", "#5E3C99"],
             6: ["#B35806", "#F1A340", "#FEE0B6", "#D8DAEB", "#998EC3", "#542788"],
             7: ["#B35806", "#F1A340", "#FEE0B6", "#D9D9D9", "#D8DAEB", "#998EC3", "#542788"]}

def tr(key: str, lang: str) -> str:
    """The German or English text for ``key`` (from :mod:`toolkit.i18n`, keys ``plot.*``)."""
    if key == "suppressed":
        return SUPPRESSED_NOTE["en" if lang == "en" else "de"]
    return t("plot." + key, lang)


def check_lang(lang: str) -> str:
    if lang not in ("de", "en"):
        raise DataError(f"lang must be 'de' or 'en', got {lang!r}")
    return lang


def safe_text(value: Any) -> str:
    """User text made inert for matplotlib: ``$`` is escaped so mathtext never runs on it."""
    text = "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)
    text = re.sub(r"[\x00-\x08\x0b-\x1f\x7f]", "", text)
    return text.replace("\\", "\\\\").replace("$", r"\$")


def wrap(value: Any, width: int = 22, max_lines: int = 3) -> str:
    """Wrap to ``width`` characters per line, at most ``max_lines`` (ellipsis), made safe."""
    lines = textwrap.wrap(str(value), width=width, break_long_words=False, break_on_hyphens=True) or [""]
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: max(1, width - 1)].rstrip() + "…"
    return "\n".join(safe_text(line) for line in lines)


def shorten(value: Any, width: int = 40) -> str:
    """One line of at most ``width`` characters (ellipsis), made safe."""
    text = " ".join(str(value).split())
    return safe_text(text if len(text) <= width else text[: width - 1].rstrip() + "…")


def dimension_title(instrument: Instrument | None, dim_id: Any, lang: str, width: int = 22, max_lines: int = 3) -> str:
    """The instrument's title of a dimension (wrapped); the id if unknown."""
    title = str(dim_id)
    if instrument is not None:
        try:
            title = instrument.dimension(str(dim_id)).title.get(lang)
        except KeyError:
            pass
    return wrap(title, width, max_lines)


def dimension_order(instrument: Instrument | None, present: Iterable[Any]) -> list[Any]:
    """Dimensions in instrument order (unknown ones after, in order of appearance)."""
    present = list(dict.fromkeys(present))
    if instrument is None:
        return present
    order = [d.id for d in instrument.dimensions if d.id in present]
    return order + [d for d in present if d not in order]


def check_columns(df: pd.DataFrame, cols: Sequence[str], func: str) -> None:
    if not isinstance(df, pd.DataFrame):
        raise DataError(f"{func}: expected a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise DataError(f"{func}: the frame lacks the column(s) {', '.join(missing)} (columns: {', '.join(map(str, df.columns))})")


def ordered_values(series: pd.Series) -> list[Any]:
    """Distinct values: categorical order if categorical, else order of appearance."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        return [c for c in series.cat.categories if c in set(series.dropna())]
    return list(dict.fromkeys(series.dropna()))


def fmt(x: float, lang: str, digits: int = 1, sign: bool = False) -> str:
    """A number for display (the only place values are rounded); decimal comma in German."""
    if x is None or not np.isfinite(x):
        return "–"
    s = f"{x:+.{digits}f}" if sign else f"{x:.{digits}f}"
    return s.replace(".", ",").replace("-", "−") if lang != "en" else s.replace("-", "−")


def decimal_comma(axis: Any, lang: str, digits: int | None = None) -> None:
    """Tick labels with a decimal comma in German (``axis`` = ax.xaxis, ax.yaxis or a colorbar axis)."""
    if lang == "en":
        return
    from matplotlib.ticker import FuncFormatter

    def _f(x: float, _pos: Any) -> str:
        d = digits if digits is not None else (0 if float(x).is_integer() else len(f"{x:.6g}".split(".")[-1]))
        return fmt(x, lang, d)

    axis.set_major_formatter(FuncFormatter(_f))


def new_axes(ax: Any, figsize: tuple[float, float], polar: bool = False) -> Any:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=figsize, layout="constrained")
    return fig.add_subplot(projection="polar" if polar else None)


def line_segments(segments: list, **style: Any) -> Any:
    """Lines (each a list of points) as one LineCollection, drawn as ``ax.plot`` draws each line
    (square caps and round joins as the rc defaults of lines; one artist instead of one per line: faster)."""
    from matplotlib.collections import LineCollection

    return LineCollection(segments, capstyle="projecting", joinstyle="round", **style)


def cap(text: str) -> str:
    """First letter upper case, the rest unchanged (German nouns keep their capitals)."""
    return text[:1].upper() + text[1:]


def add_note(ax: Any, text: str, y: float = 0.0, width: int = 110, below: float = 40) -> None:
    """A note under the axes (e.g. why something is missing), ``below`` points under the axes'
    bottom edge at ``y`` (axes fraction), clear of tick labels and the axis label. ``text`` must
    already be safe (user parts passed through :func:`safe_text`); it is wrapped, not escaped again."""
    if text:
        body = "\n".join(textwrap.wrap(text, width=width, break_long_words=False))  # never cut: the figure is cropped to it
        ax.annotate(body, xy=(0, y), xycoords="axes fraction", xytext=(0, -below), textcoords="offset points",
                    va="top", ha="left", fontsize=8, color="#444444", annotation_clip=False, gid="toolkit-note")


def scale_range(instrument: Instrument | None, dims: Sequence[Any], item_types: Sequence[str] = ("likert",)) -> tuple[float, float] | None:
    """Min and max of the scales of the dimensions' items of the given types."""
    if instrument is None:
        return None
    lo, hi = [], []
    for d in dims:
        try:
            dim = instrument.dimension(str(d))
        except KeyError:
            continue
        for item in dim.items:
            if item.type in item_types and item.scale:
                lo.append(instrument.scales[item.scale].min)
                hi.append(instrument.scales[item.scale].max)
    return (min(lo), max(hi)) if lo else None
