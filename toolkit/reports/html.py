"""HTML building blocks of the reports: escaping, number formats, tables, figures, notes.

Everything a report shows is built here from analysis frames. All text that
comes from users (authority names, free stakeholder entries, free-text answers)
passes :func:`esc`; numbers are rounded only here (presentation).

Example
-------
>>> esc("<script>alert(1)</script>")
'&lt;script&gt;alert(1)&lt;/script&gt;'
>>> fmt_num(3.14159, 2, lang="de")
'3,14'
>>> fmt_num(-0.39, 2, lang="de", signed=True)
'\u22120,39'
>>> fmt_num(float("nan"))
'–'
"""

from __future__ import annotations

import html as _html
import math
from typing import Any, Iterable, Sequence

import pandas as pd

__all__ = [
    "CSS",
    "esc",
    "fmt_num",
    "fmt_p",
    "fmt_int",
    "table",
    "figure_html",
    "note",
    "section",
    "badge",
    "suppressed_note",
]

# Okabe-Ito based palette, colour-blind safe; used for highlights in tables.
CSS = """
:root { --ink:#1d2733; --muted:#5b6775; --line:#d5dbe3; --soft:#f3f5f8; --accent:#0b5394; --warn:#9a6700; --ok:#1a7f37; }
@page { size: A4; }  /* margins, running header and page numbers: pdf.PdfPrinter */
html { font-size: 15px; }
body { margin:0; color:var(--ink); background:#fff;
  font-family: "Source Sans 3","Source Sans Pro","Noto Sans","DejaVu Sans","Liberation Sans",Arial,sans-serif;
  line-height:1.5; -webkit-print-color-adjust:exact; print-color-adjust:exact; }
main.upo-report { max-width: 60rem; margin: 0 auto; padding: 2rem 2.2rem 3rem; }
h1 { font-size:2rem; line-height:1.2; margin:0 0 .3rem; color:var(--accent); font-weight:650; }
h2 { font-size:1.35rem; margin:2.2rem 0 .6rem; padding-bottom:.25rem; border-bottom:2px solid var(--accent); font-weight:600; }
h3 { font-size:1.08rem; margin:1.4rem 0 .4rem; font-weight:600; }
p { margin:.4rem 0 .7rem; orphans:3; widows:3; }
li { orphans:2; widows:2; }
.subtitle { font-size:1.15rem; color:var(--muted); margin:0 0 1.2rem; }
.lead { font-size:1.05rem; }
.upo-section { break-inside:auto; }
/* headings and the sentence introducing a table or figure stay with what follows */
h1, h2, h3, caption, .upo-section > p:first-of-type, p:has(+ figure), p:has(+ table), p:has(+ .lk-legend) { break-after:avoid; }
h2, h3 { break-inside:avoid; }
.keep-with { break-inside:avoid; }
table.upo { border-collapse:collapse; width:100%; margin:.5rem 0 1rem; font-size:.9rem; font-variant-numeric: tabular-nums; }
table.upo caption { caption-side:top; text-align:left; font-weight:600; padding:.2rem 0 .4rem; color:var(--ink); }
table.upo th, table.upo td { padding:.32rem .5rem; border-bottom:1px solid var(--line); vertical-align:top; text-align:left; }
table.upo thead th { background:var(--soft); border-bottom:2px solid #aab4c0; font-weight:600; }
table.upo td.num { text-align:right; white-space:nowrap; }
table.upo th.num { text-align:right; }
table.upo tr { break-inside:avoid; }
table.upo caption, table.upo thead { break-after:avoid; }  /* a table's heading moves with its first rows (kept in a tbody) */
table.upo.keep { break-inside:avoid; }  /* short tables never leave a row on the next page */
table.upo thead { display:table-header-group; }
table.upo td.sup { color:var(--muted); font-style:italic; }
table.kv { width:auto; min-width:55%; }
table.kv th { background:none; width:16rem; font-weight:600; }
figure.upo { margin:.8rem 0 1.2rem; text-align:center; break-inside:avoid; }
figure.upo img { max-width:100%; height:auto; }
@media print { figure.upo img { max-height:225mm; width:auto; } }  /* a figure always fits on one page */
figure.upo figcaption { font-size:.85rem; color:var(--muted); margin-top:.3rem; text-align:left; }
.note { background:var(--soft); border-left:4px solid #aab4c0; padding:.55rem .8rem; margin:.6rem 0 1rem; font-size:.92rem; break-inside:avoid; }
.note.suppressed { border-left-color: var(--warn); }
.note.info { border-left-color: var(--accent); }
.badge { display:inline-block; padding:.05rem .45rem; border-radius:.6rem; font-size:.8rem; background:var(--soft); border:1px solid var(--line); white-space:nowrap; }
.badge.up { background:#e6f4ea; border-color:#9fd3ad; color:#11632b; }
.badge.down { background:#fdecea; border-color:#f1aeb5; color:#8a1c26; }
.badge.flag { background:#fff4d6; border-color:#e8c766; color:#6b4d00; }
table.upo td .badge { white-space:normal; }
table.upo td { overflow-wrap:break-word; }
table.likert td, table.likert th { border-bottom:1px solid #edf0f4; padding:.22rem .4rem; }
tbody.lk-dim, table.likert { break-inside:avoid; }  /* a dimension's statements stay with its heading */
table.upo.likert { table-layout:fixed; margin:0; }  /* one table per dimension, all with the same columns */
table.likert col.lk-text { width:48%; } table.likert col.lk-cell { width:40%; } table.likert col.lk-n { width:12%; }
table.likert tr.dim th { background:none; border-bottom:1px solid #aab4c0; padding-top:.7rem; font-size:.92rem; }
td.lk-text { width:48%; font-size:.85rem; }
td.lk-cell { width:42%; }
.lk-bar { position:relative; overflow:hidden; height:1.05rem; background:linear-gradient(to right, transparent calc(50% - .5px), #333 calc(50% - .5px), #333 calc(50% + .5px), transparent calc(50% + .5px)); }
.lk-bar::after { content:""; position:absolute; left:50%; top:0; bottom:0; border-left:1.5px solid #222; }
.lk-track { position:absolute; top:0; bottom:0; width:100%; display:flex; }
.lk-track span { display:block; flex:none; height:100%; font-size:.68rem; line-height:1.05rem; text-align:center; color:#111; overflow:hidden; }
.lk-legend span { margin-right:1rem; white-space:nowrap; }
/* agreement colours (Okabe-Ito, colour-blind safe), darkest at both ends: sec_competence.LIKERT_CLASS */
.lk-neg3 { background:#D55E00; } .lk-neg2 { background:#E69F00; } .lk-neg1 { background:#F5CB8C; } .lk-mid { background:#BBBBBB; }
.lk-pos1 { background:#A9D4F0; } .lk-pos2 { background:#56B4E9; } .lk-pos3 { background:#0072B2; }
/* simple bars in tables (needs index, readiness share); the width is the value */
.bar { background:#0072B2; height:.7rem; border-radius:.15rem; }
.bar-track { background:#e6eaf0; height:.7rem; width:10rem; border-radius:.2rem; } .bar-track .bar { border-radius:.2rem; }
.lk-legend i { display:inline-block; width:.8rem; height:.8rem; margin-right:.3rem; vertical-align:-.1rem; }
.cover { border-bottom:1px solid var(--line); padding-bottom:1rem; margin-bottom:1rem; }
.cover .meta { color:var(--muted); font-size:.92rem; }
.muted { color:var(--muted); }
.small { font-size:.85rem; }
ul.compact { margin:.3rem 0 .8rem 1.2rem; padding:0; }
ul.compact li { margin:.15rem 0; }
footer.upo { break-before:avoid; margin-top:3rem; padding-top:.6rem; border-top:1px solid var(--line); font-size:.8rem; color:var(--muted); }
.sum-grid { display:grid; grid-template-columns:minmax(0,1fr) minmax(0,1fr); gap:.7rem 1rem; }
.sum-box { box-sizing:border-box; min-width:0; border:1px solid var(--line); border-top:3px solid var(--accent); border-radius:.25rem; padding:.4rem .8rem .5rem; break-inside:avoid; }
.sum-box h3 { margin:.2rem 0 .3rem; font-size:1rem; }
.sum-box.good { border-top-color:var(--ok); } .sum-box.need { border-top-color:var(--warn); } .sum-box.todo { grid-column:1 / -1; }
#summary { break-after:page; } .sum-lead { margin:0 0 .6rem; }
table.stakeholders { font-size:.84rem; } table.stakeholders tr.quad td { background:var(--soft); padding-top:.45rem; }
table.stakeholders tbody.quad-block { break-inside:avoid; }  /* a quadrant's heading row stays with its first rows */
.step { break-inside:avoid; margin-bottom:1rem; }
table.upo tbody.keep-block { break-inside:avoid; }  /* first rows stay with the caption, the last row with the "… and N more" line */
table.open-points caption, table.change caption { font-weight:normal; } table.change caption h3 { margin:1.4rem 0 .4rem; }
table.open-points caption { font-weight:normal; } table.open-points caption h3 { margin-top:1rem; } table.open-points caption p { margin:.2rem 0 .5rem; }
table.upo tr.more td { border-bottom:none; padding-top:.5rem; }
.write-in { border-bottom:1px solid #aab4c0; height:1.6rem; }
.nowrap, table.upo td.num.nowrap { white-space:nowrap; }
/* the cohort change table: the field name and the verdict get the width; numbers never break inside */
table.upo.change th:first-child { width:26%; } table.upo.change th:last-child { width:24%; }
table.upo.change td.num { white-space:nowrap; } table.upo.change td.ci { white-space:normal; }  /* difference, then its interval below */
table.upo.change td { padding-top:.18rem; padding-bottom:.18rem; line-height:1.35; }  /* both wave pairs' tables fit one page */
/* the cohort's stakeholder patterns: small count headers leave the names (Informationssicherheitsbeauftragte) a whole line */
table.upo.patterns thead th { font-size:.78rem; } table.upo.patterns td:first-child:not(.num) { min-width:15rem; overflow-wrap:normal; }
@media print { main.upo-report { padding:0; max-width:none; } h2 { break-before:auto; } a { color:inherit; text-decoration:none; }
  /* every table fits the A4 column (Chromium would otherwise shrink the whole page to the widest one) */
  html { font-size:13.5px; }
  table.upo { font-size:.86rem; }
  table.upo th, table.upo td { padding:.28rem .35rem; hyphens:auto; }
  /* long single words (Informationssicherheitsbeauftragte) may break in the name column, which keeps a readable width */
  table.upo td:first-child:not(.num) { overflow-wrap:anywhere; }
  table.upo td:first-child:not(.num) { min-width:7.5rem; }
  table.upo td.num { white-space:normal; }
  table.upo td.num, table.upo th.num { overflow-wrap:normal; hyphens:manual; }  /* numbers break only at spaces */
  table.upo td .badge { font-size:.75rem; }
  footer.upo { margin-top:1.2rem; }  /* the closing line fits under the last table instead of a page of its own */
  /* the summary ("Auf einen Blick") is one page at the print size: tighter boxes, lists and table rows */
  #summary { font-size:.93rem; }
  #summary .sum-grid { gap:.5rem .8rem; }
  #summary .sum-box { padding:.3rem .65rem .4rem; }
  #summary h3 { margin:.15rem 0 .25rem; }
  #summary ul.compact { margin:.15rem 0 .35rem 1.1rem; }
  #summary ul.compact li { margin:.08rem 0; }
  #summary p { margin:.25rem 0; }
  #summary table.upo th, #summary table.upo td { padding:.1rem .35rem; } }
"""


def esc(value: Any) -> str:
    """HTML-escape any value (``None`` and NaN become an empty string)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return _html.escape(str(value), quote=True)


def _isnan(x: Any) -> bool:
    try:
        return x is None or x is pd.NA or (isinstance(x, (float, int)) and math.isnan(float(x)))
    except (TypeError, ValueError):
        return False


def fmt_num(x: Any, digits: int = 2, *, lang: str = "de", signed: bool = False) -> str:
    """A number for reading: fixed decimals, German decimal comma by default, '–' for missing."""
    if _isnan(x):
        return "–"
    s = f"{float(x):+.{digits}f}" if signed else f"{float(x):.{digits}f}"
    if s.lstrip("+-").strip("0.,") == "" and s[0] in "+-":
        s = s[1:] if not signed else "±" + s[1:]
    s = s.replace("-", "\u2212")  # a real minus sign, as wide as the plus beside it
    return s.replace(".", ",") if lang == "de" else s


def fmt_int(x: Any) -> str:
    """An integer count, '–' for missing."""
    return "–" if _isnan(x) else str(int(x))


def fmt_p(p: Any, *, lang: str = "de") -> str:
    """A p-value: three decimals, '< 0,001' below."""
    if _isnan(p):
        return "–"
    if float(p) < 0.001:
        from ..i18n import UNIT_SPACE  # narrow no-break space: never split in a cell

        return f"<{UNIT_SPACE}0,001" if lang == "de" else f"<{UNIT_SPACE}0.001"
    return fmt_num(p, 3, lang=lang)


KEEP_ROWS = 16


def table(
    rows: Iterable[Sequence[Any]],
    header: Sequence[str],
    *,
    numeric: Sequence[int] = (),
    caption: str | None = None,
    css: str = "upo",
    raw: bool = False,
    cell_classes: Sequence[Sequence[str]] | None = None,
) -> str:
    """An HTML table. Cells are escaped unless ``raw`` (then the caller escaped them).

    Example
    -------
    >>> table([["<b>", 1]], ["Name", "n"], numeric=[1])[:45]
    '<table class="upo keep"><thead><tr><th>Name</'
    """
    num = set(numeric)
    rows = list(rows)
    if len(rows) <= KEEP_ROWS and css.split()[0] == "upo":
        css += " keep"  # printed on one page: no single row left over on the next
    out = [f'<table class="{esc(css)}">']
    if caption:
        out.append(f"<caption>{esc(caption)}</caption>")
    out.append("<thead><tr>" + "".join(f'<th{" class=num" if i in num else ""}>{esc(h)}</th>' for i, h in enumerate(header)) + "</tr></thead><tbody>")
    for r_idx, row in enumerate(rows):
        cells = []
        for i, v in enumerate(row):
            classes = ["num"] if i in num else []
            if cell_classes is not None and cell_classes[r_idx][i]:
                classes.append(cell_classes[r_idx][i])
            cls = f' class="{" ".join(classes)}"' if classes else ""
            cells.append(f"<td{cls}>{v if raw else esc(v)}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


FIGURE_FORMAT = "svg"  # vector figures: sharp in print at any zoom, and faster to write than a 200-ppi PNG


def figure_html(fig: Any, caption: str | None = None, *, fmt: str = FIGURE_FORMAT, dpi: int = 200, alt: str = "") -> str:
    """Embed a matplotlib figure as a data URI (SVG by default, else a ``dpi`` PNG) and close it.

    The figure is cropped to what is drawn (``bbox_inches="tight"``), so no tick label,
    legend or note is cut at its edge. Text in the SVG is drawn as paths: it looks the
    same on every machine, whatever fonts are installed. No external files.
    """
    from .render import figure_src

    src = figure_src(fig, fmt=fmt, dpi=dpi)
    cap = f"<figcaption>{esc(caption)}</figcaption>" if caption else ""
    return f'<figure class="upo"><img alt="{esc(alt or caption or "")}" src="{src}"/>{cap}</figure>'


def note(text: str, kind: str = "info", *, raw: bool = False) -> str:
    """A highlighted note box (``kind``: info, suppressed)."""
    return f'<div class="note {esc(kind)}">{text if raw else esc(text)}</div>'


def suppressed_note(lang: str = "de", what: str | None = None) -> str:
    """The standard note for content hidden by the minimum group size."""
    from ..privacy import SUPPRESSED_NOTE

    base = SUPPRESSED_NOTE.get(lang, SUPPRESSED_NOTE["de"])
    text = f"{what}: {base}" if what else base[:1].upper() + base[1:]
    return note(text + ".", "suppressed")


def badge(text: str, kind: str = "") -> str:
    """A small inline label (``kind``: up, down, flag or empty)."""
    return f'<span class="badge {esc(kind)}">{esc(text)}</span>'


def section(anchor: str, title: str, *parts: str) -> str:
    """A report section: heading plus already-built HTML parts.

    Headings and introducing sentences are kept on one page with the figure, note or short
    table that follows them (:func:`keep_with_next`).
    """
    body = "".join(keep_with_next([f"<h2>{esc(title)}</h2>", *parts]))
    return f'<section class="upo-section" id="{esc(anchor)}">{body}</section>'


_LEADS = ("<h2", "<h3", "<p>", "<p ")
_KEEPABLE = ("<figure", '<table class="upo keep', '<table class="upo kv keep', '<div class="note')


def keep_with_next(parts: Sequence[str]) -> list[str]:
    """Group headings and intro paragraphs with the next figure, note or short table in an
    unbreakable block.

    Chromium's printer ignores ``break-after: avoid`` on a heading whose section box
    starts on the page (it splits the next paragraph instead, or strands the heading at the
    page's end); a block with ``break-inside: avoid`` around heading and content is moved
    to the next page whole. Long tables are not wrapped: they may start under their heading
    and continue on the next page (rows stay whole, the header row repeats).

    Example
    -------
    >>> keep_with_next(["<h2>T</h2>", "<p>x</p>", "<figure>f</figure>", "<p>y</p>"])
    ['<div class="keep-with">', '<h2>T</h2>', '<p>x</p>', '<figure>f</figure>', '</div>', '<p>y</p>']
    """
    out: list[str] = []
    leads: list[str] = []
    for part in parts:
        if part.startswith(_LEADS) and len(part) < 2000 and not part.rstrip().endswith("</table>"):
            leads.append(part)
            continue
        if leads and part.startswith(_KEEPABLE):
            out += ['<div class="keep-with">', *leads, part, "</div>"]
        else:
            out += [*leads, part]
        leads = []
    return out + leads
