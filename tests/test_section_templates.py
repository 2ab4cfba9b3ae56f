"""One test per section template of the authority report: rendered on a small hand-made fixture
(no database), checked for structure, escaping of user text and the reasons of hidden values."""

from __future__ import annotations

import math

import pandas as pd

from toolkit.reports.registry import SectionData
from toolkit.reports.sec_summary import NextStep, SummaryData

NAN = math.nan
EVIL = "<script>alert(1)</script>"
SAFE = "&lt;script&gt;alert(1)&lt;/script&gt;"


def render(template: str, id: str = "x", title: str = "Titel", lang: str = "de", **data) -> str:
    html = SectionData(id, title, f"sections/{template}.html.j2", data, lang=lang).html()
    assert "<script>" not in html
    return html


def test_note_template():
    html = render("_note", text=EVIL, kind="suppressed")
    assert html == f'<section class="upo-section" id="x"><div class="keep-with"><h2>Titel</h2><div class="note suppressed">{SAFE}</div></div></section>'


def test_profile_template_marks_hidden_values_and_names_the_reason():
    prof = pd.DataFrame([{"dimension": "a", "title": EVIL, "mean": 3.456, "ci_low": 3.1, "ci_high": 3.8, "ministry_mean": NAN, "cohort_mean": 3.0, "percentile": 50.0},
                         {"dimension": "b", "title": "B", "mean": NAN, "ci_low": NAN, "ci_high": NAN, "ministry_mean": 2.0, "cohort_mean": 2.5, "percentile": NAN}])
    html = render("profile", id="profile", wave="t1", n=7, profile=prof, ministry_label="Ressort", cohort_label="Kohorte", figure=None, caption="c",
                  reasons=[("weniger als 5 Antworten", ["B (Behörde)", "A (Ressort)"])])
    assert '<td class="num">3,46 [3,10; 3,80]</td>' in html and '<td class="num sup">–</td>' in html and SAFE in html
    assert "<figure" not in html  # no figure in the audit
    assert '<div class="note suppressed">' in html and "B (Behörde), A (Ressort): weniger als 5 Antworten." in html
    assert html.index('<div class="keep-with"><h2>') < html.index("<table")


def test_needs_template_bars_and_signed_gaps():
    nt = pd.DataFrame([{"rank": 1.0, "title": EVIL, "ist": 2.0, "soll": 4.5, "gap": 2.5, "importance": 4.0, "needs": 10.0, "bar": 1.0},
                       {"rank": 2.0, "title": "B", "ist": 3.0, "soll": 2.6, "gap": -0.4, "importance": 3.0, "needs": 5.0, "bar": 0.5}])
    html = render("needs", id="needs", wave="t1", n=8, needs=nt, reasons=[])
    assert '<div class="bar" style="width:8.00rem"></div>' in html and '<div class="bar" style="width:4.00rem"></div>' in html
    assert "+2,50" in html and "\u22120,40" in html and "<strong>10,00</strong>" in html and SAFE in html
    assert 'style="background' not in html  # colours live in the report CSS


def test_items_template_diverging_bars_and_hidden_statement_reason():
    lk = {"dimensions": [{"title": EVIL, "items": [
        {"text": "Aussage", "reverse": True, "hidden": None, "n": 9, "offset": 25.0,
         "segments": [{"width": 25.0, "css": "neg3", "label": "50", "title": "nein: 50 %"}, {"width": 25.0, "css": "pos3", "label": "50", "title": "ja: 50 %"}]},
        {"text": "Versteckt", "reverse": False, "hidden": "weniger als 5 gültige Antworten", "n": 0, "offset": 50.0, "segments": []}]},
        {"title": "Zweites Feld", "items": []}],
        "legend": [("nein", "neg3"), ("ja", "pos3")], "reverse_note": True}
    html = render("items", id="items", wave="t1", n=9, likert=lk, shares=None, hidden={})
    assert '<tbody class="lk-dim"><tr class="dim"><th colspan="3">' + SAFE in html
    # heading, intro, legend and the first dimension are one block (never a heading alone at a page's end); one table per dimension
    keep = html[html.index('<div class="keep-with">'):html.index("</div>", html.index("</table>"))]
    assert "<h2>Titel</h2>" in keep and "lk-legend" in keep and SAFE in keep and "Zweites Feld" not in keep
    assert html.count('<table class="upo likert">') == 2 and html.count('<col class="lk-text">') == 2
    assert '<div class="lk-track" style="left:25.000%"><span class="lk-neg3" style="width:25.000%" title="nein: 50 %">50</span>' in html
    assert '<td class="lk-cell sup small">weniger als 5 gültige Antworten</td>' in html
    assert '<i class="lk-neg3"></i>nein' in html and "n\u202f=\u202f9" in html and "gewerteten Richtung" in html


def _change_frame(suppressed: bool) -> pd.DataFrame:
    return pd.DataFrame([{"title": EVIL, "n_pairs": 6 if not suppressed else 4, "mean_from": 3.0, "mean_to": 3.4, "mean_diff": 0.4, "ci_low": 0.1, "ci_high": 0.7,
                          "d_z": 0.6, "p_holm": 0.0004, "suppressed": suppressed, "wording": "weniger als 5 Paare" if suppressed else "gesicherte Verbesserung",
                          "badge": "" if suppressed else "up"}])


def test_change_template_table_badges_and_one_sentence_for_an_all_hidden_comparison():
    tables = [{"a": "t0", "b": "t1", "frame": _change_frame(False), "all_hidden": False, "hidden_reason": None,
               "reasons": [("weniger als 5 Antworten", ["vorher/nachher A"])]},
              {"a": "t0", "b": "t2", "frame": _change_frame(True), "all_hidden": True, "hidden_reason": "weniger als 5 Paare", "reasons": []}]
    html = render("change", id="change", waves=["t0", "t1", "t2"], figure=None, caption="c", tables=tables, any_shown=True, suppressed="S.")
    assert "<h3>Veränderung t0 → t1</h3>" in html and '<span class="badge up">gesicherte Verbesserung</span>' in html
    # the interval goes under the difference as a whole, never broken after its semicolon
    assert '<span class="nowrap">+0,40</span> <span class="nowrap">[0,10; 0,70]</span>' in html
    assert "<\u202f0,001" not in html and "&lt;\u202f0,001" in html and SAFE in html
    assert "<th class=num>vorher</th><th class=num>nachher</th>" in html and '<td class="num">3,00</td><td class="num">3,40</td>' in html
    # the note on hidden values is the table's last row (kept on the page of the last rows)
    assert '<tr class="more"><td colspan="8"><div class="note suppressed">Nicht gezeigt – vorher/nachher A: weniger als 5 Antworten.</div>' in html
    assert "Veränderung t0 → t2: in keinem Kompetenzfeld darstellbar – weniger als 5 Paare." in html
    assert html.count("<table") == 1  # the hidden comparison is one sentence, not a table of dashes


def test_change_template_drops_before_after_columns_hidden_in_every_row():
    rows = [{"title": f"F{i}", "n_pairs": 30, "mean_from": NAN, "mean_to": NAN, "mean_diff": 0.1 * i, "ci_low": -0.2, "ci_high": 0.4, "d_z": 0.1,
             "p_holm": 1.0, "suppressed": False, "wording": "keine gesicherte Veränderung", "badge": ""} for i in range(10)]
    reason = "Vorher/Nachher der Paare verborgen, weil sonst die nur einmal Teilnehmenden berechenbar wären"
    tables = [{"a": "t0", "b": "t1", "frame": pd.DataFrame(rows), "all_hidden": False, "hidden_reason": None,
               "reasons": [(reason, ["vorher/nachher " + ", ".join(r["title"] for r in rows)])]}]
    html = render("change", id="change", waves=["t0", "t1"], figure=None, caption="c", tables=tables, any_shown=True, suppressed="S.")
    assert "<th class=num>vorher</th>" not in html and html.count("<td") == 10 * 6 + 1  # six columns, and the note's cell
    assert f"Nicht gezeigt – vorher/nachher (alle Kompetenzfelder): {reason}." in html and "F0, F1" not in html
    # a long table runs on: its heading with the first three rows, the last two rows with the note; never one row alone
    table = html[html.index('<table class="upo change"><caption><h3>Veränderung t0 → t1</h3></caption>'):]
    blocks = table.split("<tbody")[1:]
    assert [b.count("<tr>") for b in blocks] == [3, 5, 2] and blocks[0].startswith(' class="keep-block"') and blocks[2].startswith(' class="keep-block"')
    assert '<tr class="more"><td colspan="6">' in blocks[2]


def test_stakeholders_template_quadrant_blocks_numbers_and_not_shown_note():
    row = {"number": 1, "label": EVIL, "free": True, "disagreement": True, "influence": 5.0, "interest": 4.0, "legitimacy": 4.5, "urgency": 3.0,
           "attitude": 0.5, "attitude_min": -1.0, "attitude_max": 2.0, "engagement_text": "informieren → einbinden", "engagement_gap": 1.0, "priority": 4.2}
    quads = [{"label": "Eng einbinden", "strategy": "regelmäßig beteiligen", "rows": [row, {**row, "number": 2, "free": False, "disagreement": False},
                                                                                     {**row, "number": 3, "free": False, "disagreement": False}]}]
    html = render("stakeholders", id="stakeholders", n=6, wave="t1", figure=None, caption="c", table=None, quadrants=quads, not_shown=2,
                  disagreements=["1 X: uneinig"], k=5)
    assert '<tbody class="quad-block"><tr class="quad"><td colspan="8"><strong>Eng einbinden</strong>' in html
    assert html.count("regelmäßig beteiligen") == 1  # the strategy once per quadrant
    assert "</tbody><tbody>" in html  # the third row may run on to the next page
    assert "5,0 / 4,0" in html and "+0,5" in html and "(\u22121…+2)" in html and SAFE in html
    assert '<span class="badge flag">' in html and '<div class="note suppressed">' in html and "uneinig" in html
    assert "<p class='small muted keep-with'>" in html and "1 X: uneinig" in html  # the disagreement paragraph is never split across pages


def test_readiness_template_bars_overall_and_open_points_kept_with_the_more_line():
    areas = pd.DataFrame([{"area": "a", "title": EVIL, "n": 6, "share": 0.5, "cohort_share": NAN, "bar": 0.5},
                          {"area": "overall", "title": "Gesamt", "n": 6, "share": 0.6, "cohort_share": 0.7, "bar": None}])
    op = pd.DataFrame([{"text": f"Punkt {i}", "area_title": "A", "n_no": 1, "n_partly": 2, "n_open": 3, "n_valid": 6} for i in range(14)])
    html = render("readiness", id="readiness", n=6, wave="t1", areas=areas, cohort_label="Kohorte", reasons=[("weniger als 5 Antworten", ["A (Kohorte)"])],
                  open=op, limit=12, k=5)
    assert '<div class="bar-track"><div class="bar" style="width:5.00rem"></div></div>' in html and "<strong>60\u202f%</strong>" in html
    assert "A (Kohorte): weniger als 5 Antworten." in html and SAFE in html
    assert html.count("Punkt ") == 12 and "… und 2 weitere Punkte" in html
    table = html[html.index('<table class="upo open-points"><caption><h3>Offene Punkte'):]  # the heading is part of the table
    tail = table[table.rindex('<tbody class="keep-block">'):]
    assert tail.count("<tr>") == 2 and '<tr class="more"><td colspan="5" class="small muted">… und 2 weitere' in tail  # kept with the last two rows
    head = table[:table.index("</tbody>")]
    assert head.count("<tr><td>") == 2  # the heading stays with the first two rows


def test_methods_template_reliability_and_agreement_tables():
    rel = pd.DataFrame([{"title": EVIL, "alpha": 0.81, "ci_low": 0.7, "ci_high": 0.88, "omega_total": 0.84, "n_items": 4, "n": 40, "note": ""}])
    agr = pd.DataFrame([{"role_title": "Einfluss", "icc_2_1": 0.5, "icc_2_k": 0.8, "kripp_alpha": 0.45, "n_raters": 6, "n_stakeholders": 12}])
    html = render("methods", id="methods", lang="en", k=5, reliability=rel, reliability_wave="t0", agreement=agr)
    assert '<td class="num">0.81 [0.70; 0.88]</td>' in html and "<th>Role</th>" in html or "Einfluss" in html
    assert SAFE in html and html.count("<table") == 2
    none = render("methods", id="methods", k=5, reliability=None, reliability_wave=None, agreement=None)
    assert "<table" not in none


def _summary(**kw) -> SummaryData:
    base = dict(small=False, wave="t1", n={"t0": 8, "t1": 7}, n_other=[("Stakeholder", "t1", 6)], strengths=[(EVIL, 4.1)], needs=[("a", "A", 9.5, 1.0)],
                change_waves=("t0", "t1"), certain=[("B", "gesicherte Verbesserung")], uncertain=["C", "D", "E", "F"], open_points=[("Punkt", 3, 6)],
                todo=[("A", "Schulung")])
    base.update(kw)
    return SummaryData(**base)


def test_summary_template_boxes_and_the_small_authority_variant():
    html = render("summary", id="summary", title="Auf einen Blick", summary=_summary(), name=EVIL, authority="X", ministry="BMI", k=5, small_n=7,
                  small_steps=["eins"])
    assert html.startswith('<div class="cover sum-head"><h1>') and f"{SAFE} (X) · BMI" in html
    assert '<div class="sum-grid">' in html and html.count('<div class="sum-box') == 5
    assert "t0: 8 · t1: 7" in html and "(4,1)" in html and "9,5" in html and "4 weitere" not in html or "4" in html
    small = render("summary", id="summary", title="Auf einen Blick", summary=_summary(small=True, cohort_profile=[("A", 3.2)], cohort_excluded=True),
                   name="N", authority="X", ministry=None, k=5, small_n=3, small_steps=["Mit einer Nachbarbehörde", "zwei"])
    assert '<div class="note suppressed">' in small and "<li>Mit einer Nachbarbehörde</li>" in small and "3,20" in small
    assert "sum-grid" not in small


def test_next_steps_template_lists_suggestions_and_agreed_measures_with_their_change():
    steps = [NextStep("a", EVIL, 9.5, ["Schulung"], [{"text": "Workshop", "wave": "t0", "change": "gesicherte Verbesserung"}]),
             NextStep("b", "B", 5.0, [], [])]
    html = render("next_steps", id="next_steps", steps=steps)
    assert f"<h3>1. {SAFE}" in html and "<li>Schulung</li>" in html and "<strong>gesicherte Verbesserung</strong>" in html
    assert html.count('<div class="step">') == 2 and html.count('<div class="write-in">') == 4
    # the heading and the intro stay on one page with the first step, the second step may go on
    keep = html[html.index('<div class="keep-with">'):html.index('<div class="step"><h3>2.')]
    assert "<h2>Titel</h2>" in keep and "<h3>1. " in keep and keep.count("<div") == keep.count("</div>")
    assert render("next_steps", id="next_steps", steps=[]).count("<div") == render("next_steps", id="next_steps", steps=[]).count("</div>")


def test_title_page_template_kv_instruments_and_contents_from_the_registry():
    ins = pd.DataFrame([{"title": EVIL, "instrument": "cr", "version": "1", "hash": "abc"}])
    html = render("title_page", id="about", title="Über diesen Bericht", kv=[("Behörde", EVIL)], n={}, instruments=ins,
                  contents=[("summary", "Auf einen Blick"), ("profile", "Profil")])
    assert html.startswith('<div class="cover"><h2 id="about">Über diesen Bericht</h2><table class="upo kv">')
    assert '<li><a href="#summary">Auf einen Blick</a></li><li><a href="#profile">Profil</a></li>' in html and html.count(SAFE) == 2


def test_participation_template_counts_and_linked_people():
    part = pd.DataFrame([{"instrument": EVIL, "t0": 8, "t1": None}])
    html = render("participation", id="participation", waves=["t0", "t1"], participants=part, linked=pd.DataFrame([{"waves": "t0 → t1", "n": 5}]))
    assert '<td class="num">8</td><td class="num">–</td>' in html and "t0 → t1" in html and SAFE in html
    empty = render("participation", id="participation", waves=["t0"], participants=pd.DataFrame(columns=["instrument", "t0"]), linked=pd.DataFrame())
    assert '<div class="note info">' in empty


def test_texts_template_keeps_the_intro_with_the_first_question():
    blocks = [{"question": "Was fehlt?", "wave": "t1", "texts": [EVIL, "b"]}, {"suppressed": "Zu wenige Antworten."}]
    html = render("texts", id="texts", blocks=blocks, k=5)
    keep = html[html.index('<div class="keep-with">'):html.index("</div>")]
    assert "<p>" in keep and "<h3>Was fehlt? (t1)</h3>" in keep and f"<li>{SAFE}</li>" in keep
    assert '<div class="note suppressed">Zu wenige Antworten.</div>' in html


def test_footer_template_carries_the_running_header():
    html = render("footer", id="footer", title="", text="upo-toolkit", header='A "B" · Welle t1')
    assert html == '<footer class="upo" data-upo-header="A &#34;B&#34; · Welle t1">upo-toolkit</footer>'


TESTED = {"_note", "profile", "needs", "items", "_likert", "change", "stakeholders", "readiness", "methods", "summary", "next_steps", "title_page",
          "participation", "texts", "footer"}


def test_every_section_template_has_a_test_here():
    from toolkit.reports.render import TEMPLATE_DIR

    names = {p.name.removesuffix(".html.j2") for p in (TEMPLATE_DIR / "sections").glob("*.html.j2")} - {"_macros"}
    cohort = {n for n in names if n.startswith("cohort")}  # the cohort report's templates are tested with it
    assert names - cohort - TESTED == set()
