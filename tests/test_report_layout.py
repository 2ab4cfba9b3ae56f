"""Reports as presentable documents (issue 14, figures, pages and wording): each finding as a test.

Figures: radar legend clear of the labels and no entry for an undrawn line, change charts on the
scale's full range, a heat map without grey cells and with named, grouped rows, a stakeholder grid
that never moves a point across a quadrant line, SVG figures. Pages: running header and page
numbers, headings kept with what follows. Wording: one catalogue, federal German forms.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import yaml

from toolkit import i18n, plots
from toolkit.instruments import resolve_instrument
from toolkit.plots.stakeholder_grid import _spread
from toolkit.reports.html import figure_html, fmt_num, keep_with_next, section, table

COMP = resolve_instrument("competence_reflection")
DIMS = [d.id for d in COMP.dimensions if d.scored_items]
SURVEYS = Path(__file__).resolve().parent.parent / "surveys"


def _texts(fig) -> list[str]:
    return [t.get_text() for t in fig.findobj(matplotlib.text.Text) if t.get_text()]


# ----------------------------------------------------------------------------- radar
def _radar(ministry_missing: bool) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    rows = [{"dimension": d, "group": g, "score": float(rng.uniform(2, 4.5))} for g in ("Behörde", "Ressort", "Kohorte") for d in DIMS]
    df = pd.DataFrame(rows)
    if ministry_missing:
        df.loc[df["group"] == "Ressort", "score"] = np.nan
    return df


def test_radar_has_no_legend_entry_for_an_undrawn_line_and_names_it():
    ax = plots.plot_profile_radar(_radar(ministry_missing=True), instrument=COMP)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Behörde", "Kohorte"]
    assert any("Ressort" in t for t in _texts(ax.figure) if "anonym" in t)  # said why it is missing


def test_radar_legend_is_centred_below_and_clear_of_the_dimension_labels():
    fig = plt.figure(figsize=(6.4, 5.6))
    ax = fig.add_subplot(projection="polar")
    plots.plot_profile_radar(_radar(ministry_missing=False), instrument=COMP, ax=ax)
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    legend = ax.get_legend().get_window_extent(r)
    for lab in ax.get_xticklabels():
        assert not legend.overlaps(lab.get_window_extent(r)), lab.get_text()
    axes = ax.get_window_extent(r)
    assert legend.y1 <= axes.y0 + 1 and abs((legend.x0 + legend.x1) / 2 - (axes.x0 + axes.x1) / 2) < 2
    # labels right of the circle grow rightwards, left ones leftwards: none runs into the chart
    for lab in ax.get_xticklabels():
        box = lab.get_window_extent(r)
        centre = (axes.x0 + axes.x1) / 2
        assert box.x1 <= centre + 1 or box.x0 >= centre - 1 or lab.get_horizontalalignment() == "center"


def test_embedded_figures_are_svg_and_never_cut_at_the_edge():
    fig = plt.figure(figsize=(3, 2))
    ax = fig.add_subplot()
    ax.set_ylabel("Veränderung und Innovation " * 3)  # far wider than the figure
    html = figure_html(fig, "x")
    svg = __import__("base64").b64decode(re.search(r"data:image/svg\+xml;base64,([^\"]+)", html).group(1)).decode()
    width = float(re.search(r'width="([0-9.]+)pt"', svg).group(1))
    assert width > 3 * 72  # cropped to what is drawn, not to the 3-inch figure
    assert "<script" not in svg


# ----------------------------------------------------------------------------- change charts
def test_change_charts_use_the_full_scale_in_every_report():
    lims = []
    for base in (2.5, 3.6):
        d = pd.DataFrame({"dimension": DIMS[:3] * 2, "wave": ["t0"] * 3 + ["t1"] * 3, "mean": [base, base + .1, base + .2, base + .2, base, base + .3]})
        lims.append(plots.plot_change(d, instrument=COMP).get_xlim())
    assert lims[0] == lims[1]
    assert lims[0][0] <= 1 and lims[0][1] >= 5


# ----------------------------------------------------------------------------- heat map
def _heat() -> pd.DataFrame:
    rng = np.random.default_rng(4)
    rows = [{"authority": a, "ministry": m, "dimension": d, "mean": float(rng.uniform(2, 4.5)), "suppressed": a == "JKI"}
            for a, m in (("BVA", "BMI"), ("BAMF", "BMI"), ("JKI", "BMEL"), ("BLE", "BMEL")) for d in DIMS]
    df = pd.DataFrame(rows)
    df.loc[df["suppressed"], "mean"] = np.nan
    return df


def test_heatmap_colours_are_never_grey_like_suppressed_cells():
    ax = plots.plot_heatmap(_heat(), instrument=COMP)
    cmap = ax.images[0].get_cmap()
    rgb = np.array([cmap(x)[:3] for x in np.linspace(0, 1, 101)])
    chroma, lightness = rgb.max(axis=1) - rgb.min(axis=1), rgb.mean(axis=1)
    assert not ((chroma < 0.1) & (lightness > 0.15) & (lightness < 0.85)).any()  # no mid grey anywhere (cividis' middle is one)
    from matplotlib.patches import Rectangle

    hatched = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_hatch()]
    assert len(hatched) == len(DIMS) and all(p.get_facecolor()[:3] == (1, 1, 1) for p in hatched)
    assert sum(t.get_text() == "×" for t in ax.texts) == len(DIMS)  # labelled, not only hatched


def test_heatmap_rows_have_names_and_are_grouped_by_ministry():
    names = {"BVA": "Bundesverwaltungsamt (BVA)", "BAMF": "Bundesamt für Migration und Flüchtlinge (BAMF)",
             "JKI": "Julius Kühn-Institut (JKI)", "BLE": "Bundesanstalt für Landwirtschaft und Ernährung (BLE)"}
    df = _heat().sort_values(["ministry", "authority"])
    ax = plots.plot_heatmap(df, instrument=COMP, row_labels=names, group="ministry")
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["BMEL", names["BLE"], names["JKI"], "BMI", names["BAMF"], names["BVA"]]
    assert [t.get_fontweight() for t in ax.get_yticklabels()][0] == "bold"


def test_cohort_heatmap_section_names_the_authorities(demo_db):
    from toolkit.reports import cohort_sections as C

    sec = C.heatmap(C.cohort_context(demo_db))
    assert sec.data["figure"] is not None and "nach Ressort gruppiert" in sec.data["intro"]
    assert list(sec.data["frame"]["ministry"]) == sorted(sec.data["frame"]["ministry"])  # rows grouped by ministry
    assert "data:image/svg+xml;base64," in sec.html()


# ----------------------------------------------------------------------------- stakeholder grid
def _quadrant(x: float, y: float, mid: float = 3.0) -> tuple[bool, bool]:
    return x > mid, y > mid  # a value exactly on the midpoint counts as low


@pytest.mark.parametrize("x, y, n", [(3.0, 4.0, 3), (4.0, 3.0, 2), (3.0, 3.0, 4), (3.1, 3.9, 5), (2.9, 1.0, 2), (4.5, 4.5, 6)])
def test_de_overlapping_never_moves_a_point_into_another_quadrant(x, y, n):
    pos = pd.DataFrame({"x": [x] * n, "y": [y] * n})
    out = _spread(pos, mid=(3.0, 3.0))
    assert all(_quadrant(a, b) == _quadrant(x, y) for a, b in zip(out["x"], out["y"]))
    pts = out.to_numpy()
    dist = np.sqrt(((pts[:, None] - pts[None]) ** 2).sum(-1))[np.triu_indices(n, 1)]
    assert dist.min() > 0.1  # and still apart


def test_the_stakeholder_key_shows_long_names_whole():
    long = "Beauftragte für die Belange von Menschen mit Behinderungen in der Bundesverwaltung"
    rows = [{"stakeholder": f"s{i}", "label": long if i == 0 else f"Gruppe {i}", "influence": 1.0 + i % 5, "interest": 1.0 + i % 4,
             "attitude": 0.0, "disagreement": False} for i in range(10)]
    ax = plots.plot_power_interest(pd.DataFrame(rows))
    text = " ".join(" ".join(_texts(ax.figure)).split())
    assert long in text and "…" not in text


# ----------------------------------------------------------------------------- pages
def test_headings_and_intros_are_kept_with_the_figure_or_short_table():
    html = section("x", "Titel", "<p>Einleitung</p>", '<figure class="upo">f</figure>', "<h3>Teil</h3>", table([[1]], ["n"]))
    assert html.count('<div class="keep-with">') == 2
    assert re.search(r'<div class="keep-with"><h2>Titel</h2><p>Einleitung</p><figure', html)
    long = table([[i] for i in range(40)], ["n"])
    assert keep_with_next(["<h3>Lang</h3>", long]) == ["<h3>Lang</h3>", long]  # a long table may start under its heading
    assert 'class="upo keep"' in table([[1]], ["n"]) and "keep" not in long[:30]


def test_running_header_names_authority_wave_and_date(demo_db):
    from toolkit.reports import cohort_sections as C
    from toolkit.reports import sections as S

    ctx = S.authority_context(demo_db, "BVA")
    head = S.running_header(ctx)
    assert head.startswith("Bundesverwaltungsamt (BVA) · Welle t") and "Datenstand" in head
    assert f'data-upo-header="{head}"' in S.footer(ctx).html()
    assert S.running_header(C.cohort_context(demo_db, lang="en")).startswith("Cohort report ")


def _pdf_pages(pdf: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return text.split("\f")


def _print_pages(tmp_path: Path, body: str) -> list[str]:
    """``body`` printed as a report page with the report CSS; the text of each PDF page."""
    from concurrent.futures import ThreadPoolExecutor

    from toolkit.reports.html import CSS
    from toolkit.reports.pdf import PdfPrinter

    html = tmp_path / "r.html"
    html.write_text(f'<!DOCTYPE html><html lang="de"><head><meta charset="utf-8"><style>{CSS}</style></head>'
                    f'<body><main class="upo-report">{body}</main></body></html>', encoding="utf-8")

    def run() -> Path:
        with PdfPrinter() as printer:
            return printer.print(html, tmp_path / "r.pdf")

    with ThreadPoolExecutor(max_workers=1) as pool:  # the test's main thread may hold another test's loop
        return [p for p in _pdf_pages(pool.submit(run).result(timeout=120)) if p.strip()]


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) reads the PDF's text")
def test_pdf_has_running_header_page_numbers_and_no_stranded_heading(tmp_path):
    from toolkit.reports.pdf import chromium_path

    if chromium_path() is None:
        pytest.skip("Chromium is not installed")
    intro = "<p>" + "Ein einleitender Satz, der über zwei Zeilen läuft und zur Abbildung gehört. " * 3 + "</p>"
    fig = '<figure class="upo"><div style="height:140mm;background:#9cf"></div></figure>'
    body = ('<div class="cell"><div style="height:200mm"></div></div><div class="cell"><div class="output">'
            + section("profile", "Kompetenzprofil", intro, fig) + "</div></div>"
            + '<footer class="upo" data-upo-header="Bundesverwaltungsamt (BVA) · Welle t2 · Datenstand 15.09.2026">x</footer>')
    pages = _print_pages(tmp_path, body)
    assert len(pages) == 2
    for i, page in enumerate(pages, 1):
        assert "Bundesverwaltungsamt (BVA) · Welle t2 · Datenstand 15.09.2026" in page
        assert f"Seite {i} von 2" in page
    assert "Kompetenzprofil" not in pages[0] and "Kompetenzprofil" in pages[1]  # heading moved with its figure
    assert "einleitender" not in pages[0]


# ----------------------------------------------------------------------------- wording
def test_every_text_exists_in_both_languages_and_formats_alike():
    de, en = i18n.CATALOGUE["de"], i18n.CATALOGUE["en"]
    assert set(de) == set(en)
    fields = re.compile(r"{(\w+)}")
    for key in de:
        assert de[key].strip() and en[key].strip(), key
        assert set(fields.findall(de[key])) == set(fields.findall(en[key])), key
    with pytest.raises(KeyError, match="catalogue"):
        i18n.t("no.such.key")


def _german_strings(node) -> list[str]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == "de" and isinstance(v, str)] + [s for v in node.values() for s in _german_strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in _german_strings(v)]
    return []


GENDER_STAR = re.compile(r"\w[*:_]in(nen)?\b|\w\*r\b|\w\*e\b|\wInnen\b")


@pytest.mark.parametrize("path", sorted(SURVEYS.glob("*.yaml")), ids=lambda p: p.name)
def test_instruments_use_federal_forms_not_gender_stars(path):
    texts = _german_strings(yaml.safe_load(path.read_text(encoding="utf-8")))
    assert texts
    bad = [t for t in texts if GENDER_STAR.search(t)]
    assert not bad, bad
    assert not [t for t in texts if "Realitätscheck" in t or "Nutzenden" in t]


def test_one_german_term_for_each_thing():
    german = " ".join(i18n.CATALOGUE["de"].values())
    assert not GENDER_STAR.search(german)
    assert "verschlüsselt gespeichert" not in german and "HMAC" in german
    assert "95 %-" not in german and "95-%-" in german
    assert "Realitätscheck" not in german and "Nutzenden" not in german
    assert fmt_num(-0.39, 2, signed=True) == "\u22120,39" and fmt_num(0.39, 2, signed=True) == "+0,39"


def test_cohort_cover_and_index_read_as_prose(demo_db, tmp_path):
    from toolkit.reports import cohort_sections as C
    from toolkit.reports.index import write_index
    from toolkit.reports.manifest import Manifest
    from toolkit.store import Store

    cover = C.title_page(C.cohort_context(demo_db)).html()
    assert "Behörde / Ressort" not in cover and re.search(r"\d+ Behörden aus \d+ Ressorts", cover)
    page = write_index(tmp_path, Manifest(tmp_path), db=demo_db).read_text(encoding="utf-8")
    with Store(demo_db) as store:
        name = store.cohort()["name"]
    assert f'<p class="subtitle">{name}</p>' in page and Path(demo_db).name not in page


def test_reverse_keyed_statements_are_coloured_by_the_scored_direction():
    from toolkit.reports.sec_competence import LIKERT_CLASS, _likert_colours, likert_bars_html, likert_rows

    rev = next(i for i in COMP.items if i.type == "likert" and i.reverse)
    fwd = next(i for d in COMP.dimensions if rev in d.items for i in d.items if i.type == "likert" and not i.reverse)
    shares = pd.DataFrame([{"item": it.id, "n": 10, "point": 5.0, "count": 10, "share": 1.0} for it in (rev, fwd)])
    cols = _likert_colours(5)
    rows = {it["text"]: it for d in likert_rows(shares, COMP, "de")["dimensions"] for it in d["items"]}
    assert rows[fwd.text.get("de")]["segments"][0]["css"] == LIKERT_CLASS[cols[-1]]  # full agreement, positive statement: the "good" end
    assert rows[rev.text.get("de")]["segments"][0]["css"] == LIKERT_CLASS[cols[0]]  # full agreement, negative statement: the "bad" end
    html = likert_bars_html(shares, COMP, "de")
    row = html[html.index(rev.text.get("de")[:30]):]
    assert re.search(r'<span class="lk-(\w+)"', row).group(1) == LIKERT_CLASS[cols[0]]
    assert f".lk-{LIKERT_CLASS[cols[0]]} {{ background:{cols[0]}; }}" in __import__("toolkit.reports.html", fromlist=["x"]).CSS
    assert "gewerteten Richtung" in html


def _page_of(pages: list[str], text: str) -> int:
    found = [i for i, p in enumerate(pages) if text in p]
    assert found, f"{text!r} not in the PDF"
    return found[0]


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) reads the PDF's text")
def test_pdf_never_strands_the_items_heading_or_one_change_row(tmp_path):
    from toolkit.reports.pdf import chromium_path
    from toolkit.reports.registry import SectionData

    if chromium_path() is None:
        pytest.skip("Chromium is not installed")
    item = {"text": "Eine Aussage, die über zwei Zeilen läuft, weil sie lang genug dafür ist.", "reverse": False, "hidden": None, "n": 9,
            "offset": 25.0, "segments": [{"width": 50.0, "css": "pos2", "label": "100", "title": "ja"}]}
    lk = {"dimensions": [{"title": f"Feld {i}", "items": [item] * 3} for i in ("Eins", "Zwei", "Drei")], "legend": [("ja", "pos2")], "reverse_note": False}
    items = SectionData("items", "Antworten im Einzelnen", "sections/items.html.j2", {"wave": "t1", "n": 9, "likert": lk, "shares": None, "hidden": {}})
    def change(b: str, label: str) -> str:
        rows = [{"title": f"{label}{i}", "n_pairs": 30, "mean_from": 3.0, "mean_to": 3.2, "mean_diff": 0.2, "ci_low": 0.1, "ci_high": 0.3, "d_z": 0.3,
                 "p_holm": 0.01, "suppressed": False, "wording": "gesicherte Verbesserung", "badge": "up"} for i in range(10)]
        tables = [{"a": "t0", "b": b, "frame": pd.DataFrame(rows), "all_hidden": False, "hidden_reason": None, "reasons": [("ein Grund", [f"Hinweis{label}"])]}]
        return SectionData("change", "Veränderung", "sections/change.html.j2",
                           {"waves": ["t0", b], "figure": None, "caption": "c", "tables": tables, "any_shown": True, "suppressed": "S."}).html()

    # page 1: room for the items heading and intro, not for its first dimension; page 3: room for a few change rows;
    # page 5: room for the change table's heading and header row, not for its first rows
    page = '<div style="break-before:page;height:{}mm"></div>'
    body = '<div style="height:222mm"></div>' + items.html() + page.format(140) + change("t1", "Feld") + page.format(170) + change("t2", "Zeile")
    pages = _print_pages(tmp_path, body)
    assert _page_of(pages, "Antworten im Einzelnen") == _page_of(pages, "Feld Eins")  # the heading moved with its first statements
    start, end = _page_of(pages, "Veränderung t0 → t1"), _page_of(pages, "HinweisFeld")
    assert start < end  # the table ran on to the next page instead of leaving this one half empty
    assert _page_of(pages, "Feld0") == _page_of(pages, "Feld2") == start  # the heading with the first three rows
    assert _page_of(pages, "Feld8") == _page_of(pages, "Feld9") == end  # the last two rows and the note together
    assert _page_of(pages, "Veränderung t0 → t2") == _page_of(pages, "Zeile0")  # never a table heading alone at a page's end


def test_de_overlapping_moves_only_points_that_share_a_position_and_keeps_the_frame():
    """Points alone at their position (and rows without one) stay exactly where they are; the frame keeps its
    index, columns and other values; points sharing a position are moved apart, each group on its own circle."""
    pos = pd.DataFrame({"x": [2.0, 4.0, 2.0, np.nan, 1.0, 4.0, 2.0], "y": [2.0, 4.5, 2.0, 3.0, 5.0, 4.5, 2.0],
                        "other": list("abcdefg")}, index=[10, 11, 12, 13, 14, 15, 16])
    out = _spread(pos)
    assert list(out.index) == list(pos.index) and list(out.columns) == list(pos.columns) and out["other"].equals(pos["other"])
    assert (out.loc[14, "x"], out.loc[14, "y"]) == (1.0, 5.0) and np.isnan(out.loc[13, "x"]) and out.loc[13, "y"] == 3.0
    for rows, centre in (([10, 12, 16], (2.0, 2.0)), ([11, 15], (4.0, 4.5))):
        moved = out.loc[rows, ["x", "y"]].to_numpy()
        assert len({tuple(p) for p in moved}) == len(rows)  # apart
        assert np.allclose(np.hypot(moved[:, 0] - centre[0], moved[:, 1] - centre[1]), 0.2)  # on a circle around it
