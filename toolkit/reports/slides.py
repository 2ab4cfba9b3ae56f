"""Slides of the cohort report for coordinators presenting to ministries (python-pptx).

One slide each: title, summary, heat map, change and ministry comparison, built from the
same released data as the cohort report (:mod:`toolkit.reports.cohort_summary` and the data
functions of :mod:`toolkit.reports.cohort_sections`). Figures are PNGs at 200 ppi.

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

from .html import fmt_num

__all__ = ["write_cohort_slides", "SLIDE_KEYS"]

log = logging.getLogger("toolkit")
SLIDE_KEYS = ("cohort_report_title", "summary", "heatmap", "change", "ministries")


def _png(draw: Any, size: tuple[float, float], dpi: int = 200) -> io.BytesIO:
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=size, layout="constrained")
    ax = fig.add_subplot(111)
    try:
        draw(ax)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi, facecolor="white")
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

    from .. import plots
    from .cohort_sections import change_waves, cohort_context, cohort_means_frame, heatmap_frame, ministries_frame
    from .cohort_summary import cohort_summary_data
    from .sections import _date

    ctx = cohort_context(db, lang=lang, min_group_size=min_group_size)
    t, L = ctx.t, lang
    comp = ctx.data.competence
    d = cohort_summary_data(ctx)
    prs = Presentation()
    prs.slide_width, prs.slide_height = Inches(13.333), Inches(7.5)
    title_layout, content_layout, only_title = prs.slide_layouts[0], prs.slide_layouts[1], prs.slide_layouts[5]

    s = prs.slides.add_slide(title_layout)
    _title(s, t("cohort_report_title"))
    s.placeholders[1].text = f"{ctx.data.cohort['name']} · {t('data_date')} {_date(ctx.data.data_date, L) or '–'}"

    s = prs.slides.add_slide(content_layout)
    _title(s, t("summary"))
    body = s.placeholders[1]
    body.left, body.top, body.width, body.height = Inches(0.6), Inches(1.3), prs.slide_width - Inches(1.2), prs.slide_height - Inches(1.6)
    lines: list[tuple[int, str]] = [(0, f"{t('csum_authorities', a=d.n_authorities, m=d.n_ministries)}; "
                                        + " · ".join(f"{w}: {n}" for w, n in d.n_by_wave.items()))]
    if d.wave:
        lines.append((0, t("csum_stands", wave=d.wave)))
        lines.append((1, f"{t('csum_high')}: " + ", ".join(f"{x} ({fmt_num(v, 2, lang=L)})" for x, v in d.high)))
        lines.append((1, f"{t('csum_low')}: " + ", ".join(f"{x} ({fmt_num(v, 2, lang=L)})" for x, v in d.low)))
    if d.change_waves:
        lines.append((0, f"{t('csum_moved')} ({d.change_waves[0]} → {d.change_waves[1]})"))
        lines += [(1, f"{x}: {w}") for x, w in d.moved] or [(1, t("sum_no_certain"))]
    if d.ministries:
        lines.append((0, t("csum_ministries", wave=d.wave)))
        lines += [(1, t(f"csum_min_{side}", ministry=mi, dim=dim, mean=fmt_num(m, 2, lang=L), cohort=fmt_num(c, 2, lang=L)))
                  for mi, dim, side, m, c in d.ministries[:3]]
    _bullets(s, body, lines, size=18)

    s = prs.slides.add_slide(only_title)
    _title(s, t("heatmap"))
    if comp is not None and change_waves(ctx):
        first = ctx.data.first_wave(comp.id)
        hm = heatmap_frame(ctx, first)
        hm["authority"] = hm["authority"].astype(str)
        _picture(s, _png(lambda ax: plots.plot_heatmap(hm, row="authority", col="dimension", value="mean", suppressed="suppressed",
                                                       instrument=comp, lang=L, ax=ax), (11.0, 6.2)), prs)

    s = prs.slides.add_slide(only_title)
    _title(s, t("change"))
    if comp is not None and len(change_waves(ctx)) >= 2:
        means = cohort_means_frame(ctx)
        _picture(s, _png(lambda ax: plots.plot_change(means[["dimension", "wave", "mean", "ci_low", "ci_high"]], instrument=comp, lang=L, ax=ax),
                         (11.0, 5.6)), prs)

    s = prs.slides.add_slide(only_title)
    waves = change_waves(ctx)
    _title(s, t("ministries") + (f" ({waves[-1]})" if waves else ""))
    if comp is not None and waves:
        gs = ministries_frame(ctx, waves[-1])
        wide = gs.pivot(index="dimension", columns="ministry", values="mean")
        dims = [x.id for x in comp.dimensions if x.id in wide.index]
        mins = list(wide.columns)
        shape = s.shapes.add_table(len(dims) + 1, len(mins) + 1, Inches(0.4), Inches(1.3), prs.slide_width - Inches(0.8), Inches(5.6))
        tb = shape.table
        tb.columns[0].width = Inches(3.6)
        for j in range(1, len(mins) + 1):
            tb.columns[j].width = int((prs.slide_width - Inches(0.8) - Inches(3.6)) / max(1, len(mins)))
        tb.cell(0, 0).text = t("dimension")
        for j, m in enumerate(mins, 1):
            tb.cell(0, j).text = str(m)
        for i, dim in enumerate(dims, 1):
            tb.cell(i, 0).text = ctx.dim_title(comp, dim)
            for j, m in enumerate(mins, 1):
                tb.cell(i, j).text = fmt_num(wide.loc[dim, m], 2, lang=L)
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
