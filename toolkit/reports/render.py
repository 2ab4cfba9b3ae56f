"""Rendering of report sections: one Jinja environment, number filters, figures, shared macros.

Templates live in ``toolkit/reports/templates/sections/`` (one per section, shared macros in
``_macros.html.j2``); autoescape is on, so every text from users is escaped, and undefined
names fail (``StrictUndefined``). Numbers are formatted only here, in the report language:

Example
-------
>>> fmt(-0.391, "num2s", lang="de"), fmt(0.456, "pct", lang="en"), fmt(float("nan"), "num2")
('−0,39', '46%', '–')
>>> render_string("{{ x|num(1) }} · {{ x|num(2, signed=True) }}", lang="de", x=-1.25)
'−1,2 · −1,25'
>>> render_string("{{ x|num(1) }}", lang="en", x=-1.25)
'−1.2'
>>> render_string("{{ name }}", lang="de", name="<b>")
'&lt;b&gt;'
"""

from __future__ import annotations

import base64
import io
import math
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup, escape

from .html import fmt_int, fmt_num, fmt_p

__all__ = ["TEMPLATE_DIR", "environment", "render", "render_string", "fmt", "figure_src", "FIGURE_FORMAT", "FIGURE_DPI", "rows_of", "svg_tight"]

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
FIGURE_FORMAT = "svg"  # vector figures: sharp in print at any zoom, and faster to write than a 200-ppi PNG
FIGURE_DPI = 200  # PNG figures (fmt="png") are never below 200 ppi
PAD_INCHES = 0.08  # white margin around a cropped figure
KEEP_ROWS = 16  # tables of at most this many rows are printed on one page


def _missing(x: Any) -> bool:
    if x is None:
        return True
    try:
        import pandas as pd

        if x is pd.NA or x is pd.NaT:
            return True
    except ImportError:  # pragma: no cover
        pass
    return isinstance(x, float) and math.isnan(x)


def pct(x: Any, lang: str = "de") -> str:
    """A share (0–1) as a whole-number percentage ('–' when missing): "46 %" in German with a narrow
    no-break space, "46%" in English (:func:`toolkit.i18n.percent`)."""
    from ..i18n import percent

    return "–" if _missing(x) else percent(x, lang)


def fmt(x: Any, spec: str = "text", *, lang: str = "de") -> str:
    """Format one value by a short spec: ``text``, ``int``, ``num0``…``num3`` (``s`` suffix: signed), ``pct``, ``p``."""
    if spec == "text":
        return "" if _missing(x) else str(x)
    if spec == "int":
        return fmt_int(x)
    if spec == "pct":
        return pct(x, lang)
    if spec == "p":
        return fmt_p(x, lang=lang)
    if spec.startswith("num"):
        signed = spec.endswith("s")
        digits = int(spec[3:-1] if signed else spec[3:] or 2)
        return fmt_num(x, digits, lang=lang, signed=signed)
    raise ValueError(f"unknown number format {spec!r}")


def figure_src(fig: Any, *, fmt: str = FIGURE_FORMAT, dpi: int = FIGURE_DPI) -> str:
    """A matplotlib figure as a data URI (SVG by default, else a PNG of at least 200 ppi); the figure is closed.

    A string is taken as an already rendered SVG document. The figure is cropped to what is
    drawn, so no label, legend or note is cut at its edge; SVG text is drawn as paths (the same
    on every machine) and carries no date (same data, same bytes). An SVG is drawn once: the
    crop box is measured during that draw and set as the document's view box
    (:func:`svg_tight`), where ``bbox_inches="tight"`` would draw the figure twice.
    """
    if isinstance(fig, str):
        if fig.startswith("data:"):
            return fig
        return "data:image/svg+xml;base64," + base64.b64encode(fig.encode("utf-8")).decode("ascii")
    import matplotlib.pyplot as plt

    try:
        if fmt == "svg":
            body = svg_tight(fig).encode("utf-8")
        else:
            import matplotlib

            buf = io.BytesIO()
            with matplotlib.rc_context({"svg.hashsalt": "upo"}):
                fig.savefig(buf, format=fmt, dpi=max(dpi, FIGURE_DPI), bbox_inches="tight", pad_inches=PAD_INCHES, facecolor="white")
            body = buf.getvalue()
    finally:
        plt.close(fig)
    mime = "image/svg+xml" if fmt == "svg" else f"image/{fmt}"
    return f"data:{mime};base64,{base64.b64encode(body).decode('ascii')}"


_SVG_BOX = re.compile(r'width="([0-9.]+)pt" height="([0-9.]+)pt" viewBox="0 0 ([0-9.]+) ([0-9.]+)"')


def svg_tight(fig: Any, *, pad_inches: float = PAD_INCHES) -> str:
    """The figure as an SVG document cropped to what is drawn, in one draw (text as paths, no date).

    The same picture as ``savefig(..., bbox_inches="tight", pad_inches=pad_inches)``, which
    draws the figure once to measure it and again to write it: here the tight box is measured
    at the end of the one draw (the ``draw_event``, whose renderer has every text laid out),
    and the document's ``viewBox`` shows that box. A white rectangle under the drawing covers
    a box reaching past the figure's edge, as the tight crop's background would.
    """
    import matplotlib

    from ..plots._svg import BACKEND, layout_once

    box: dict[str, Any] = {}

    def measure(event: Any) -> None:
        box["bbox"] = fig.get_tightbbox(event.renderer)  # inches; the SVG renderer draws at 72 dpi

    buf = io.StringIO()
    cid = fig.canvas.mpl_connect("draw_event", measure)
    try:
        with matplotlib.rc_context({"svg.fonttype": "path", "svg.hashsalt": "upo"}), layout_once(fig):
            fig.savefig(buf, format="svg", facecolor="white", metadata={"Date": None}, backend=BACKEND)
    finally:
        fig.canvas.mpl_disconnect(cid)
    svg = buf.getvalue()
    m = _SVG_BOX.search(svg)
    if m is None or "bbox" not in box:  # pragma: no cover - a matplotlib that writes another header
        return svg
    height = float(m.group(4))
    b = box["bbox"].padded(pad_inches)
    x0, y0, w, h = 72 * b.x0, height - 72 * b.y1, 72 * b.width, 72 * b.height
    view = f'width="{w:.6g}pt" height="{h:.6g}pt" viewBox="{x0:.6g} {y0:.6g} {w:.6g} {h:.6g}"'
    svg = svg[: m.start()] + view + svg[m.end():]
    back = f'<rect x="{x0:.6g}" y="{y0:.6g}" width="{w:.6g}" height="{h:.6g}" style="fill: #ffffff"/>\n <g id="figure_1">'
    return svg.replace('<g id="figure_1">', back, 1)


def rows_of(frame: Any) -> list[dict[str, Any]]:
    """A frame (pandas DataFrame, list of dicts or None) as a list of row dicts."""
    if frame is None:
        return []
    if hasattr(frame, "to_dict"):
        import pandas as pd  # loaded already: the frame is one

        if isinstance(frame, pd.DataFrame):
            from ..privacy.release import records

            return records(frame)
        return frame.to_dict("records")
    return list(frame)


def _lang(ctx: Any) -> str:
    return ctx.get("lang", "de")


@jinja2.pass_context
def _num(ctx: Any, x: Any, digits: int = 2, signed: bool = False) -> str:
    return fmt_num(x, digits, lang=_lang(ctx), signed=signed)


@jinja2.pass_context
def _pct(ctx: Any, x: Any) -> str:
    return pct(x, _lang(ctx))


@jinja2.pass_context
def _p(ctx: Any, x: Any) -> str:
    return fmt_p(x, lang=_lang(ctx))


@jinja2.pass_context
def _fmt(ctx: Any, x: Any, spec: str = "text") -> Any:
    if spec == "html":  # a cell the build function marked up (Markup), or text to escape
        return x if isinstance(x, Markup) else escape("" if _missing(x) else x)
    return fmt(x, spec, lang=_lang(ctx))


def _t_for(lang: str):
    from .texts import tr

    def t(key: str, **kw: Any) -> str:
        return tr(key, lang, **kw)

    return t


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    """The one Jinja environment of the reports (templates from :data:`TEMPLATE_DIR`)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters.update(num=_num, int=fmt_int, pct=_pct, p=_p, fmt=_fmt, rows=rows_of, figure_src=figure_src, missing=_missing)
    env.tests["missing"] = _missing
    env.globals.update(KEEP_ROWS=KEEP_ROWS, UNIT_SPACE="\u202f")  # UNIT_SPACE: toolkit.i18n.UNIT_SPACE, "n = 33" on one line
    return env


def _strip(html: str) -> str:
    """Drop the blank lines and indentation the templates leave between tags (smaller, stable output)."""
    out: list[str] = []
    for line in html.splitlines():
        line = line.strip()
        if not line:
            continue
        if out and not (out[-1].endswith(">") or line.startswith("<")):
            out.append(" ")  # text that a template wrapped over two lines
        out.append(line)
    return "".join(out)


def render(section: Any, *, lang: str | None = None) -> str:
    """Render one :class:`~toolkit.reports.registry.SectionData` with its template."""
    lang = lang or getattr(section, "lang", "de")
    tpl = environment().get_template(section.template)
    return _strip(tpl.render(s=section, d=section.data, lang=lang, t=_t_for(lang)))


def render_string(source: str, *, lang: str = "de", **values: Any) -> str:
    """Render a template string in the report environment (for tests and doctests)."""
    return environment().from_string(source).render(lang=lang, t=_t_for(lang), **values)
