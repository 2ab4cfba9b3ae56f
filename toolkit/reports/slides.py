"""Slides of the cohort report for coordinators presenting to ministries (python-pptx).

One slide each: title, summary, heat map, change and ministry comparison, from the cohort
report's own section data (:data:`toolkit.reports.registry.COHORT`: the same released values and
the same figures as the report). Figures are PNGs at 200 ppi.

Example
-------
>>> import tempfile, pathlib
>>> from toolkit.demo import build_demo
>>> tmp = pathlib.Path(tempfile.mkdtemp())
>>> build_demo(tmp / "d.sqlite", n_authorities=4, seed=1).close()
>>> p = write_cohort_slides(tmp / "d.sqlite", tmp / "cohort.pptx")
>>> from pptx import Presentation
>>> len(Presentation(str(p)).slides)
5
"""

from __future__ import annotations

import io
import logging
from pathlib import Path
from typing import Any

from .html import fmt_int, fmt_num

__all__ = ["write_cohort_slides", "SLIDE_KEYS", "SLIDE_SECTIONS", "summary_lines", "ministry_cells"]

log = logging.getLogger("toolkit")
SLIDE_KEYS = ("cohort_report_title", "summary", "heatmap", "change", "ministries")
#: the cohort sections (:data:`toolkit.reports.registry.COHORT`) whose data the slides show, one slide each
SLIDE_SECTIONS = ("summary", "heatmap", "change", "ministries")


def summary_lines(d: Any, t: Any, lang: str) -> list[tuple[int, str]]:
    """The summary slide's bullets (level, text) from the summary section's data (a ``CohortSummary``)."""
    lines: list[tuple[int, str]] = [(0, f"{t('csum_authorities', a=d.n_authorities, m=d.n_ministries)}; "
                                        + " · ".join(f"{w}: {n}" for w, n in d.n_by_wave.items()))]
    if d.wave:
        lines.append((0, t("csum_stands", wave=d.wave)))
        lines.append((1, f"{t('csum_high')}: " + ", ".join(f"{x} ({fmt_num(v, 2, lang=lang)})" for x, v in d.high)))
        lines.append((1, f"{t('csum_low')}: " + ", ".join(f"{x} ({fmt_num(v, 2, lang=lang)})" for x, v in d.low)))
    if d.change_waves:
        lines.append((0, f"{t('csum_moved')} ({d.change_waves[0]} → {d.change_waves[1]})"))
        lines += [(1, f"{x}: {w}") for x, w in d.moved] or [(1, t("sum_no_certain"))]
    if d.ministries:
        lines.append((0, t("csum_ministries", wave=d.wave)))
        lines += [(1, t(f"csum_min_{side}", ministry=mi, dim=dim, mean=fmt_num(m, 2, lang=lang), cohort=fmt_num(c, 2, lang=lang)))
                  for mi, dim, side, m, c in d.ministries[:3]]
    return lines


def ministry_cells(section: Any, t: Any, lang: str) -> list[list[str]]:
    """The ministry slide's table (header row, the n row, then one row per dimension) from the ministry section's data."""
    data = section.data
    rows = [[t("dimension")] + list(data["ministries"]), ["n"] + [fmt_int(data["n"][m]) for m in data["ministries"]]]
    for r in data["table"].to_dict("records"):
        rows.append([r["title"]] + [fmt_num(r[m], 2, lang=lang) for m in data["ministries"]])
    return rows


def _png(fig: Any, dpi: int = 200) -> io.BytesIO:
    """A section's matplotlib figure as a PNG of ``dpi`` ppi, cropped to what is drawn (the figure is closed)."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", pad_inches=0.08, facecolor="white")
    finally:
        plt.close(fig)
    buf.seek(0)
    return buf


def _title(slide: Any, text: str) -> None:
    from pptx.util import Pt

    slide.shapes.title.text = text
    for p in slide.shapes.title.text_frame.paragraphs:
        for r in p.runs:
            r.font.size = Pt(28)


def _bullets(slide: Any, box: Any, lines: list[tuple[int, str]], size: int = 16) -> None:
    from pptx.util import Pt

    tf = box.text_frame
    tf.word_wrap = True
    first = True
    for level, text in lines:
        p = tf.paragraphs[0] if first else tf.add_paragraph()
        first = False
        p.text = text
        p.level = level
        for r in p.runs:
            r.font.size = Pt(size - 2 * level)


def _picture(slide: Any, png: io.BytesIO, prs: Any) -> None:
    from pptx.util import Emu, Inches

    top = Inches(1.3)
    max_w, max_h = prs.slide_width - Inches(0.8), prs.slide_height - top - Inches(0.3)
    pic = slide.shapes.add_picture(png, Inches(0.4), top)
    scale = min(max_w / pic.width, max_h / pic.height)
    pic.width, pic.height = Emu(int(pic.width * scale)), Emu(int(pic.height * scale))
    pic.left = int((prs.slide_width - pic.width) / 2)


def write_cohort_slides(db: str | Path, path: str | Path, *, lang: str = "de", min_group_size: int | None = None) -> Path:
    """Write the cohort slides (pptx) for ``db`` to ``path``.

    Parameters
    ----------
    db
        The cohort database.
    path
        The ``.pptx`` file to write (its folder is created).
    lang
        ``de`` (default) or ``en``.
    min_group_size
        A stricter threshold than the cohort's (None: the cohort's setting).

    Returns
    -------
    Path
        The file written.
    """
    from pptx import Presentation
    from pptx.util import Inches, Pt

    from .cohort_sections import cohort_context
    from .registry import COHORT
    from .base import date_text

    ctx = cohort_context(db, lang=lang, min_group_size=min_group_size)
    t, L = ctx.t, lang
    sec = {i: COHORT.build(i, ctx) for i in SLIDE_SECTIONS}  # the report's own section data, released once
    d = sec["summary"].data["summary"]
    prs = Presentation()
    prs.slide_width, prs.slide_height = Inches(13.333), Inches(7.5)
    title_layout, content_layout, only_title = prs.slide_layouts[0], prs.slide_layouts[1], prs.slide_layouts[5]

    s = prs.slides.add_slide(title_layout)
    _title(s, t("cohort_report_title"))
    s.placeholders[1].text = f"{ctx.data.cohort['name']} · {t('data_date')} {date_text(ctx.data.data_date, L) or '–'}"

    s = prs.slides.add_slide(content_layout)
    _title(s, sec["summary"].title)
    body = s.placeholders[1]
    body.left, body.top, body.width, body.height = Inches(0.6), Inches(1.3), prs.slide_width - Inches(1.2), prs.slide_height - Inches(1.6)
    _bullets(s, body, summary_lines(d, t, L), size=18)

    for key in ("heatmap", "change"):
        s = prs.slides.add_slide(only_title)
        _title(s, sec[key].title)
        fig = sec[key].data.get("figure")
        if fig is not None:
            _picture(s, _png(fig), prs)

    s = prs.slides.add_slide(only_title)
    m = sec["ministries"]
    _title(s, m.title + (f" ({m.data['wave']})" if "wave" in m.data else ""))
    if "table" in m.data:
        cells = ministry_cells(m, t, L)
        shape = s.shapes.add_table(len(cells), len(cells[0]), Inches(0.4), Inches(1.3), prs.slide_width - Inches(0.8), Inches(5.6))
        tb = shape.table
        tb.columns[0].width = Inches(3.6)
        for j in range(1, len(cells[0])):
            tb.columns[j].width = int((prs.slide_width - Inches(0.8) - Inches(3.6)) / max(1, len(cells[0]) - 1))
        for i, row in enumerate(cells):
            for j, text in enumerate(row):
                tb.cell(i, j).text = text
        for row in tb.rows:
            for cell in row.cells:
                for p in cell.text_frame.paragraphs:
                    for r in p.runs:
                        r.font.size = Pt(11)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    prs.save(str(out))
    log.info("slides written: %s", out)
    return out
