"""Cohort slides (pptx): one slide each for title, summary, heat map, change and ministries, from the cohort
report's own section data (toolkit.reports.registry.COHORT)."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from pptx import Presentation

from toolkit.cli import main
from toolkit.reports import cohort_sections as C
from toolkit.reports.html import fmt_int, fmt_num
from toolkit.reports.slides import SLIDE_SECTIONS, write_cohort_slides

TITLES = ["Kohortenbericht für die Programmkoordination", "Auf einen Blick", "Kompetenzen nach Behörde",
          "Veränderung über die Wellen", "Ressortvergleich"]


@pytest.fixture(scope="module")
def deck(demo_db, tmp_path_factory):
    path = write_cohort_slides(demo_db, tmp_path_factory.mktemp("slides") / "cohort.pptx")
    return Presentation(str(path))


@pytest.fixture(scope="module")
def sections(demo_db):
    import matplotlib.pyplot as plt

    ctx = C.cohort_context(demo_db)
    sec = {i: C.COHORT.build(i, ctx) for i in SLIDE_SECTIONS}
    yield ctx, sec
    for s in sec.values():
        if s.data.get("figure") is not None:
            plt.close(s.data["figure"])


def _texts(slide) -> list[str]:
    return [p.text for sh in slide.shapes if sh.has_text_frame and sh != slide.shapes.title for p in sh.text_frame.paragraphs]


def test_slide_count_and_titles_are_the_sections(deck, sections):
    _, sec = sections
    titles = [s.shapes.title.text for s in deck.slides]
    assert [t.split(" (")[0] for t in titles] == TITLES
    assert titles[1:] == [sec["summary"].title, sec["heatmap"].title, sec["change"].title,
                          f"{sec['ministries'].title} ({sec['ministries'].data['wave']})"]


def test_summary_slide_is_the_summary_section_data(deck, sections):
    _, sec = sections
    d = sec["summary"].data["summary"]
    text = _texts(deck.slides[1])
    assert text[0] == f"{d.n_authorities} Behörden aus {d.n_ministries} Ressorts; " + " · ".join(f"{w}: {n}" for w, n in d.n_by_wave.items())
    assert text[2] == "Am stärksten: " + ", ".join(f"{x} ({fmt_num(v, 2)})" for x, v in d.high)
    assert text[3] == "Am schwächsten: " + ", ".join(f"{x} ({fmt_num(v, 2)})" for x, v in d.low)
    moved = [f"{x}: {w}" for x, w in d.moved]
    assert moved and text[5:5 + len(moved)] == moved
    assert len(d.ministries) >= 3 and all(f"{mi}: {dim}" in " ".join(text) for mi, dim, *_ in d.ministries[:3])


def test_heat_map_and_change_slides_picture_the_section_figures(deck, sections):
    _, sec = sections
    for slide, key in ((deck.slides[2], "heatmap"), (deck.slides[3], "change")):
        pics = [sh for sh in slide.shapes if sh.shape_type == 13]
        assert len(pics) == 1
        img = Image.open(io.BytesIO(pics[0].image.blob))
        fig = sec[key].data["figure"]
        w, h = fig.get_size_inches()
        assert img.size[0] / img.size[1] == pytest.approx(w / h, rel=0.25)  # the section's figure (cropped), not another drawing
        assert img.size[0] >= 200 * w * 0.8  # at least 200 ppi


def test_ministry_slide_is_the_ministry_section_table(deck, sections):
    ctx, sec = sections
    m = sec["ministries"].data
    table = next(sh for sh in deck.slides[4].shapes if sh.has_table).table
    cells = [[table.cell(i, j).text for j in range(len(table.columns))] for i in range(len(table.rows))]
    assert cells[0] == ["Kompetenzfeld", *m["ministries"]]
    assert cells[1] == ["n", *[fmt_int(m["n"][x]) for x in m["ministries"]]]
    rows = m["table"].to_dict("records")
    assert [r[0] for r in cells[2:]] == [r["title"] for r in rows]
    for shown, r in zip(cells[2:], rows):
        assert shown[1:] == [fmt_num(r[x], 2) for x in m["ministries"]]  # hidden means are "–" on the slide as in the section
    hidden = m["frame"][m["frame"]["suppressed"].astype(bool)]
    for _, h in hidden.iterrows():  # never a value the section hides
        row = next(i for i, r in enumerate(rows) if r["dimension"] == h["dimension"])
        assert cells[2 + row][1 + m["ministries"].index(str(h["ministry"]))] == "–"


def test_cli_writes_the_slides_for_the_cohort_only(demo_db, tmp_path, capsys):
    assert main(["report", str(demo_db), "--cohort", "--format", "pptx", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "cohort.pptx").exists()
    assert "slides:" in capsys.readouterr().out
    assert not list(tmp_path.glob("*.html"))  # pptx alone: only the slides
    assert main(["report", str(demo_db), "--authority", "BVA", "--format", "pptx", "--out", str(tmp_path)]) == 1
    assert "add --cohort" in capsys.readouterr().err


def test_english_slides(demo_db, tmp_path):
    deck = Presentation(str(write_cohort_slides(demo_db, tmp_path / "c.en.pptx", lang="en")))
    assert [s.shapes.title.text.split(" (")[0] for s in deck.slides][:2] == ["Cohort report for programme coordination", "At a glance"]
