"""The cohort report's templates, each rendered on a small hand-made SectionData, and the registry that orders them.

Each template test checks what the reader sees (headings, numbers in the report language, hidden values as "–",
notes), so a template that drops or misformats a field fails here without building a cohort.
"""

from __future__ import annotations

import html as html_
import json
import re
from pathlib import Path

import matplotlib
import pandas as pd
import pytest

matplotlib.use("Agg")

from toolkit.reports import cohort_sections as C  # noqa: E402
from toolkit.reports.cohort_summary import CohortSummary  # noqa: E402
from toolkit.reports.registry import COHORT, SectionData  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
NAN = float("nan")


def _render(name: str, data: dict, *, id: str = "x", title: str = "Titel", lang: str = "de") -> str:
    return SectionData(id, title, f"sections/cohort_{name}.html.j2", {"k": 5, **data}, lang=lang).html()


def _cells(html: str) -> list[list[str]]:
    rows = re.findall(r"<tr>(.*?)</tr>", html)
    return [[html_.unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", r)] for r in rows]


def test_registry_order_is_the_report_order_and_every_section_has_its_template():
    assert COHORT.ids() == ["summary", "about", "participation", "heatmap", "change", "ministries", "needs_overview",
                            "readiness_overview", "stakeholder_patterns", "reliability", "footer"]
    assert COHORT.toc_ids() == [i for i in COHORT.ids() if i not in ("about", "footer")]
    templates = ROOT / "toolkit" / "reports" / "templates" / "sections"
    for i in COHORT.ids():
        name = {"about": "title_page"}.get(i, i)
        assert (templates / f"cohort_{name}.html.j2").exists(), i


def test_notebook_iterates_the_registry_without_outputs():
    nb = json.loads((ROOT / "notebooks" / "report_cohort.ipynb").read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert "parameters" in code[0]["metadata"].get("tags", [])
    assert len(code) == 2 and "C.report(ctx)" in "".join(code[1]["source"])  # no cell per section: the order is the registry's
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code)


def test_note_template():
    html = _render("note", {"note": "Keine Daten <b>", "kind": "suppressed"}, id="heatmap", title="Kompetenzen")
    assert html == ('<section class="upo-section" id="heatmap"><div class="keep-with"><h2>Kompetenzen</h2>'
                    '<div class="note suppressed">Keine Daten &lt;b&gt;</div></div></section>')


def _summary(**kw) -> CohortSummary:
    base = dict(n_authorities=3, n_ministries=2, n_by_wave={"t0": 40, "t1": 35}, small=["JKI"], wave="t1",
                high=[("Daten", 3.456)], low=[("Kommunikation", 2.9)], change_waves=("t0", "t1"), moved=[("Daten", "gesicherte Verbesserung")],
                not_moved=["A", "B", "C", "D"], ministries=[("BMI", "Daten", "above", 3.9, 3.1)] * 5, needs=[("Kommunikation", 3.64, 2)])
    return CohortSummary(**{**base, **kw})


def test_summary_template():
    html = _render("summary", {"report_title": "Kohortenbericht", "cohort": "K <1>", "summary": _summary(), "ministries_shown": 4},
                   id="summary", title="Auf einen Blick")
    assert html.startswith('<div class="cover sum-head"><h1>Kohortenbericht</h1><p class="subtitle">K &lt;1&gt;</p></div>')
    assert "<strong>t0: 40 · t1: 35</strong>" in html and "JKI" in html
    assert "Daten <span class=\"muted\">(3,46)</span>" in html and "(2,90)" in html
    assert "<strong>Daten</strong>: gesicherte Verbesserung" in html and "In den übrigen 4 Feldern" in html
    assert "Bedarfsindex 3,6" in html and html.count("<li>BMI: Daten über der Kohorte (3,90 gegenüber 3,10)</li>") == 4
    assert "und 1 weitere" in html
    one = _render("summary", {"report_title": "R", "cohort": "K", "summary": _summary(change_waves=None, ministries=[], needs=[]),
                              "ministries_shown": 4}, id="summary")
    assert "Nur eine Welle" in one or "eine Welle" in one
    none = _render("summary", {"report_title": "R", "cohort": "K", "summary": _summary(wave=None), "ministries_shown": 4}, id="summary")
    assert "sum-grid" not in none and 'class="note info"' in none


def test_title_page_template():
    html = _render("title_page", {"facts": [("Kohorte", "K & Co")], "contents": [("summary", "Auf einen Blick"), ("change", "Veränderung")],
                                  "instruments": pd.DataFrame([{"title": "Kompetenz", "instrument": "cr", "version": "1.0", "hash": "abc"}])},
                   id="about", title="Angaben zum Bericht")
    assert '<h2 id="about">Angaben zum Bericht</h2>' in html and "<th>Kohorte</th><td>K &amp; Co</td>" in html
    assert ["Kompetenz", "cr", "1.0", "abc"] in _cells(html)
    assert '<li><a href="#summary">Auf einen Blick</a></li><li><a href="#change">Veränderung</a></li>' in html and "Inhalt" in html


def test_participation_template():
    table = pd.DataFrame([{"authority": "A", "name": "Amt (A)", "ministry": "M", "n:t0": 12, "n:t1": None, "stakeholder": 3, "readiness": None}])
    html = _render("participation", {"table": table, "waves": ["t0", "t1"], "small": ["Amt (A)"], "small_note": "Unter 5 in t0"})
    assert _cells(html)[0] == ["Behörde", "Ressort", "n t0", "n t1", "Stakeholder (n)", "Reality-Check (n)"]
    assert _cells(html)[1] == ["Amt (A)", "M", "12", "–", "3", "–"]
    assert '<div class="note suppressed">Unter 5 in t0: Amt (A)</div>' in html


def test_heatmap_template():
    svg = '<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"></svg>'
    html = _render("heatmap", {"intro": "Mittelwerte", "figure": svg, "caption": "Kompetenzen (t0)", "wave": "t0", "frame": None})
    assert '<div class="keep-with"><h2>Titel</h2><p>Mittelwerte</p><figure class="upo"><img alt="Kompetenzen (t0)" src="data:image/svg+xml;base64,' in html
    assert "<figcaption>Kompetenzen (t0)</figcaption>" in html
    assert "<figure" not in _render("heatmap", {"intro": "M", "figure": None, "caption": "c", "wave": "t0", "frame": None})  # the audit draws nothing


def test_change_template_keeps_seven_columns_and_whole_numbers():
    frame = pd.DataFrame([{"title": "Datenschutz und Informationssicherheit", "n_pairs": 300, "mean_from": 3.02, "mean_to": 3.03, "mean_diff": 0.01,
                           "ci_low": -0.06, "ci_high": 0.08, "d_z": 0.01, "r_rb": 0.014, "p_holm": 0.0004, "wording": "keine gesicherte Veränderung"},
                          {"title": "Kommunikation", "n_pairs": 3, "mean_from": NAN, "mean_to": NAN, "mean_diff": NAN, "ci_low": NAN, "ci_high": NAN,
                           "d_z": NAN, "r_rb": NAN, "p_holm": NAN, "wording": "weniger als 5 Paare"}])
    html = _render("change", {"intro": "Veränderung", "figure": None, "caption": "c", "means": None,
                              "pairs": [{"a": "t0", "b": "t1", "frame": frame, "means_note": "vorher/nachher: verborgen."}]})
    cells = _cells(html)
    assert cells[0] == ["Kompetenzfeld", "Paare", "vorher → nachher", "Differenz [95-%-KI]", "d_z · r_rb", "p (Holm)", "Einschätzung"]
    assert cells[1] == ["Datenschutz und Informationssicherheit", "300", "3,02 → 3,03", "+0,01 [−0,06; 0,08]", "0,01 · 0,01", "<\u202f0,001",
                        "keine gesicherte Veränderung"]
    assert cells[2][1:] == ["3", "– → –", "– [–; –]", "– · –", "–", "weniger als 5 Paare"]
    # the table may run on to the next page: heading with the first rows, the last two rows and the note together
    assert '<table class="upo change"><caption><h3>Veränderung t0 → t1</h3></caption>' in html and " keep" not in html.split("<tbody")[0]
    tail = html[html.rindex('<tbody class="keep-block">'):]
    assert tail.count("<tr>") == 2 and '<tr class="more"><td colspan="7"><div class="note suppressed">vorher/nachher: verborgen.</div>' in tail
    assert '<span class="nowrap">[−0,06; 0,08]</span>' in html  # the interval never breaks inside
    assert '<div class="note suppressed">vorher/nachher: verborgen.</div>' in html


def test_ministries_template():
    table = pd.DataFrame([{"dimension": "d", "title": "Daten", "BMI": 3.456, "BMF": NAN}])
    html = _render("ministries", {"intro": "Je Ressort", "table": table, "ministries": ["BMI", "BMF"], "n": {"BMI": 12, "BMF": None},
                                  "small": ["Amt (A)"], "wave": "t1", "frame": None})
    assert _cells(html) == [["Kompetenzfeld", "BMI", "BMF"], ["n", "12", "–"], ["Daten", "3,46", "–"]]
    assert '<td class="num sup">–</td>' in html and "Amt (A)." in html


def test_needs_overview_template():
    frame = pd.DataFrame([{"dimension": "d", "title": "Kommunikation", "n": 40, "gap": 0.82, "needs": 3.64, "top3": 12, "n_authorities": 26}])
    html = _render("needs_overview", {"intro": "Lücke", "frame": frame, "wave": "t1"}, lang="en")
    assert _cells(html)[1] == ["Kommunikation", "+0.82", "3.64", "12 / 26"]


def test_readiness_overview_template():
    frame = pd.DataFrame([{"dimension": "a", "title": "Ziele", "n": 153, "share": 0.473, "n_authorities": 22, "below_half": 12}])
    op = pd.DataFrame([{"dimension": "a", "item": "i1", "text": "Zeitplan <x>", "n_valid": 142, "n_open": 125, "share_open": 0.88, "area": "Ziele"}])
    html = _render("readiness_overview", {"intro": "Anteil", "frame": frame, "wave": "t1", "open_points": op})
    cells = _cells(html)
    assert cells[1] == ["Ziele", "153", "47\u202f%", "12 / 22"] and cells[3] == ["Zeitplan <x>", "Ziele", "125 / 142", "88\u202f%"]
    assert "Zeitplan &lt;x&gt;" in html  # escaped
    assert "<h3>Am häufigsten offene Punkte</h3>" in html
    assert "offene Punkte" not in _render("readiness_overview", {"intro": "A", "frame": frame, "wave": "t1", "open_points": op.iloc[0:0]})


def test_stakeholder_patterns_template():
    quads = [("manage_closely", "eng einbinden"), ("keep_satisfied", "zufriedenstellen"), ("keep_informed", "informieren"), ("monitor", "beobachten")]
    frame = pd.DataFrame([{"stakeholder": "s", "label": "Personalrat", "n": 15, "manage_closely": 1, "keep_satisfied": 2, "keep_informed": 3,
                           "monitor": 9, "attitude_md": 0.5, "disagreement": 2, "gap_mean": -1.25}])
    html = _render("stakeholder_patterns", {"intro": "Über 17 Behörden", "frame": frame, "n_authorities": 17, "quadrants": quads})
    cells = _cells(html)
    assert cells[0][:6] == ["Stakeholder", "n", "eng einbinden", "zufriedenstellen", "informieren", "beobachten"]
    assert cells[1] == ["Personalrat", "15", "1", "2", "3", "9", "+0,5", "2", "−1,2"]
    assert 'class="upo patterns keep"' in html


def test_reliability_template():
    frame = pd.DataFrame([{"title": "Daten", "alpha": 0.754, "ci_low": 0.71, "ci_high": 0.79, "omega_total": 0.75, "n_items": 3, "n": 503,
                           "note": "da3 lädt negativ"}])
    html = _render("reliability", {"intro": "Cronbachs α", "frame": frame, "wave": "t0", "methods": ["Skalenwert: …", "Datenschutz: …"]})
    assert _cells(html)[1] == ["Daten", "0,75 [0,71; 0,79]", "0,75", "3", "503", "da3 lädt negativ"]
    assert html.endswith("<p>Skalenwert: …</p><p>Datenschutz: …</p></section>")


def test_footer_template():
    html = _render("footer", {"text": "Erstellt mit upo", "header": 'Kohorte "K"'}, id="footer", title="")
    assert html == '<footer class="upo" data-upo-header="Kohorte &#34;K&#34;">Erstellt mit upo</footer>'


@pytest.fixture(scope="module")
def small_cohort(tmp_path_factory):
    from toolkit.demo import build_demo

    db = tmp_path_factory.mktemp("c") / "d.sqlite"
    build_demo(db, n_authorities=4, seed=1).close()
    return C.cohort_context(db)


def test_every_section_of_a_small_cohort_renders_and_the_toc_names_them(small_cohort):
    parts = C.report(small_cohort)
    assert [p.id for p in parts] == COHORT.ids()
    html = "".join(p.html() for p in parts)
    about = next(p for p in parts if p.id == "about")
    assert about.data["contents"] == [(p.id, p.title) for p in parts if p.toc]  # the TOC's titles are the sections' headings
    for p in parts:
        if p.toc:
            assert f'id="{p.id}"' in html and f'href="#{p.id}"' in html
    assert "style=" not in html.replace('<style', '')  # no inline styles
