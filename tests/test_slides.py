"""Cohort slides (pptx): one slide each for title, summary, heat map, change and ministries, from the released data."""

from __future__ import annotations


import pytest
from pptx import Presentation

from toolkit.cli import main
from toolkit.reports import cohort_sections as C
from toolkit.reports.cohort_summary import cohort_summary_data
from toolkit.reports.slides import write_cohort_slides

TITLES = ["Kohortenbericht für die Programmkoordination", "Auf einen Blick", "Kompetenzen nach Behörde",
          "Veränderung über die Wellen", "Ressortvergleich"]


@pytest.fixture(scope="module")
def deck(demo_db, tmp_path_factory):
    path = write_cohort_slides(demo_db, tmp_path_factory.mktemp("slides") / "cohort.pptx")
    return Presentation(str(path))


def test_slide_count_and_titles(deck):
    titles = [s.shapes.title.text for s in deck.slides]
    assert len(titles) == 5
    assert [t.split(" (")[0] for t in titles] == TITLES
    assert sum(1 for s in deck.slides for sh in s.shapes if sh.shape_type == 13) == 2  # heat map and change as pictures


def test_summary_and_ministries_come_from_the_released_data(deck, demo_db):
    ctx = C.cohort_context(demo_db)
    d = cohort_summary_data(ctx)
    text = "\n".join(p.text for sh in deck.slides[1].shapes if sh.has_text_frame for p in sh.text_frame.paragraphs)
    for title, wording in d.moved:
        assert f"{title}: {wording}" in text
    table = next(sh for sh in deck.slides[4].shapes if sh.has_table).table
    wave = C.change_waves(ctx)[-1]
    mf = C.ministries_frame(ctx, wave)
    header = [table.cell(0, j).text for j in range(len(table.columns))]
    dims = {ctx.dim_title(ctx.data.competence, x): x for x in mf["dimension"].unique()}
    for i in range(1, len(table.rows)):
        dim = dims[table.cell(i, 0).text]
        for j, ministry in enumerate(header[1:], 1):
            row = mf[(mf["ministry"] == ministry) & (mf["dimension"] == dim)].iloc[0]
            shown = table.cell(i, j).text
            if bool(row["suppressed"]):
                assert shown == "–"  # never a value the section hides
            else:
                assert shown == f"{row['mean']:.2f}".replace(".", ",")


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
