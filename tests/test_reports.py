"""Report building blocks without kernels: wording, escaping, keys, manifest, sections on the demo cohort."""

from __future__ import annotations


import pandas as pd
import pytest

from toolkit.exceptions import ReportError
from toolkit.privacy import SUPPRESSED_NOTE, group_summary
from toolkit.reports import cohort_sections as C
from toolkit.reports import render_reports
from toolkit.reports import sections as S
from toolkit.reports.html import esc, fmt_num, table
from toolkit.reports.manifest import Manifest, report_key
from toolkit.reports.pdf import pdf_page_count
from toolkit.stats import benchmark


def test_tables_escape_cells_and_headers():
    html = table([["<script>alert(1)</script>", 1.5]], ["<b>x</b>", "n"], numeric=[1])
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert esc('"onload="x') == "&quot;onload=&quot;x"


@pytest.mark.parametrize("x, digits, lang, signed, out", [(3.14159, 2, "de", False, "3,14"), (3.14159, 1, "en", False, "3.1"),
                                                          (0.5, 2, "de", True, "+0,50"), (-0.004, 2, "de", True, "±0,00"), (None, 2, "de", False, "–")])
def test_number_format(x, digits, lang, signed, out):
    assert fmt_num(x, digits, lang=lang, signed=signed) == out


def test_report_key_changes_with_every_input():
    base = dict(notebook_digest="nb", toolkit="0.1:abc", parameters={"authority": "BVA", "lang": "de", "k": 5}, data=["own", "cohort"])
    key = report_key(**base)
    for name, value in [("notebook_digest", "nb2"), ("toolkit", "0.2:abc"), ("parameters", {"authority": "BVA", "lang": "en", "k": 5}),
                        ("parameters", {"authority": "BVA", "lang": "de", "k": 6}), ("data", ["own", "cohort2"]), ("data", ["own2", "cohort"])]:
        assert report_key(**{**base, name: value}) != key, name


def test_manifest_roundtrip_and_damaged_file(tmp_path):
    m = Manifest(tmp_path)
    m.reports["authority:BVA"] = {"key": "abc", "html": "BVA.html"}
    m.save()
    (tmp_path / "BVA.html").write_text("x")
    again = Manifest(tmp_path)
    assert again.is_current("authority:BVA", "abc", ["BVA.html"])
    assert not again.is_current("authority:BVA", "abd", ["BVA.html"])
    assert not again.is_current("authority:BVA", "abc", ["BVA.html", "BVA.pdf"])  # a missing output re-renders
    (tmp_path / "manifest.json").write_text("{not json")
    assert Manifest(tmp_path).reports == {}


def test_pdf_page_count_ignores_the_pages_node():
    assert pdf_page_count(b"<< /Type /Pages /Kids [] >> << /Type /Page >> << /Type/Page >>") == 2


def test_bad_arguments_raise_report_errors(demo_db, tmp_path, monkeypatch):
    with pytest.raises(ReportError, match="unknown report format 'docx'"):
        render_reports(demo_db, ["BVA"], out=tmp_path, formats=["docx"])
    with pytest.raises(ReportError, match="language"):
        render_reports(demo_db, ["BVA"], out=tmp_path, lang="fr")
    monkeypatch.setattr("toolkit.reports.pdf.chromium_path", lambda: None)
    with pytest.raises(ReportError, match="Chromium"):
        render_reports(demo_db, ["BVA"], out=tmp_path, formats=["html", "pdf"])


def test_unknown_authority_fails_only_that_report_and_names_the_known_codes(store, tmp_path):
    # a cohort of one authority (BVA): with nothing to render the batch still audits the whole cohort,
    # which on the 30-authority demo cost minutes of a 2-core suite and is not what this test is about
    res = render_reports(store.path, ["NOPE"], out=tmp_path, progress=False)
    assert not res.ok
    assert [r.report_id for r in res.failed] == ["authority:NOPE"]
    assert "BVA" in res.failed[0].error and "NOPE" in res.summary_text()
    assert (tmp_path / "index.html").exists()


# ----------------------------------------------------------------------------- sections in-process
@pytest.fixture(scope="module")
def bva(demo_db):
    return S.authority_context(demo_db, "BVA")


def test_profile_numbers_equal_the_analysis_api(bva):
    part = S.competence_profile(bva)
    prof = part.data["profile"].set_index("dimension")
    scores = bva.data.scores()
    from toolkit.reports.sec_competence import profile_wave

    wave, n = profile_wave(bva)
    assert part.data["wave"] == wave and part.data["n"] == n
    mine = scores[(scores["authority"] == "BVA") & (scores["wave"] == wave)]
    gs = group_summary(mine, "dimension", "score", k=bva.k).set_index("dimension")
    bm = benchmark(scores[scores["wave"] == wave], "BVA", k=bva.k).set_index("dimension")
    for dim in ("data", "communication"):
        for col in ("mean", "ci_low", "ci_high"):
            assert prof.loc[dim, col] == pytest.approx(gs.loc[dim, col])
        assert prof.loc[dim, "cohort_mean"] == pytest.approx(bm.loc[dim, "cohort_mean"])
    assert part.data["figure"] is not None
    html = part.html()
    assert f"{fmt_num(gs.loc['data', 'mean'], 2)} [{fmt_num(gs.loc['data', 'ci_low'], 2)}; {fmt_num(gs.loc['data', 'ci_high'], 2)}]" in html
    assert "data:image/svg+xml;base64," in html  # the radar is embedded (SVG: sharp in print)


def test_needs_ranking_in_report_matches_api(bva):
    from toolkit.scoring import needs_ranking
    from toolkit.reports.sec_competence import profile_wave

    wave, _ = profile_wave(bva)
    g = bva.data.gaps()
    nr = needs_ranking(g[(g["authority"] == "BVA") & (g["wave"] == wave)])
    top = nr.sort_values("rank").iloc[0]
    nt = S.gaps_needs(bva).data["needs"]
    first = nt.iloc[0]
    assert first["dimension"] == top["dimension"] and first["rank"] == 1
    assert first["needs"] == pytest.approx(top["needs"]) and first["bar"] == 1.0


def test_small_authority_gets_suppression_notes_not_numbers(demo_db):
    ctx = S.authority_context(demo_db, "JKI")
    assert max(ctx.counts(ctx.data.competence.id).values()) < ctx.k  # the demo keeps JKI below the threshold
    for fn in (S.competence_profile, S.gaps_needs, S.item_distributions):
        html = fn(ctx).html()
        assert SUPPRESSED_NOTE["de"] in html
        assert "data:image/" not in html
    figures = __import__('toolkit.reports.index', fromlist=['x']).key_figures(ctx)
    assert all(h["value"] == "–" for h in figures["headline"])


def test_english_sections(demo_db):
    ctx = S.authority_context(demo_db, "JKI", lang="en")
    assert SUPPRESSED_NOTE["en"] in S.competence_profile(ctx).html()
    assert "Participation" in S.participation(ctx).html()


def test_cohort_heatmap_hides_exactly_the_cells_below_k(demo_db):
    # comparison values are over shown authorities, so no secondary suppression is needed (issue 12, finding 7)
    ctx = C.cohort_context(demo_db)
    hm = C.heatmap_frame(ctx, "t0")
    primary = hm["n"] < ctx.k
    assert primary.any()
    assert (hm["suppressed"] == primary).all()
    assert set(hm.loc[hm["suppressed"], "reason"]) == {"too_few"}
    assert hm.loc[hm["suppressed"], "mean"].isna().all()


def test_report_kernels_run_this_interpreter():
    import sys

    from toolkit.reports.worker import _spec_manager

    spec = _spec_manager().get_kernel_spec("python3")
    assert spec.argv[0] == sys.executable  # the venv's Python, whatever kernelspecs are installed elsewhere
    assert spec.argv[1:3] == ["-m", "ipykernel_launcher"]


def test_shared_batch_analyses_equal_per_authority_calls(bva):
    """The batch computes stakeholder maps and paired change for all authorities at once; it must not change results."""
    from toolkit.reports.sec_stakeholders import stakeholder_frame
    from toolkit.stakeholders import stakeholder_map
    from toolkit.stats import paired_change

    shared, n, wave = stakeholder_frame(bva)
    inst = bva.data.stakeholder
    r = bva.data.rsp(inst)
    own = stakeholder_map(r[(r["authority"] == "BVA") & (r["wave"] == wave)], inst)
    own = own[own["n_raters"] >= bva.k]  # stakeholders named by fewer than k raters are not shown
    pd.testing.assert_frame_equal(shared.reset_index(drop=True), own.reset_index(drop=True), check_dtype=False, check_categorical=False)
    allpc = bva.data.change_by_authority("t0", "t2")
    mine = allpc[allpc["authority"] == "BVA"].drop(columns=["authority"]).reset_index(drop=True)
    s = bva.data.scores()
    pd.testing.assert_frame_equal(mine, paired_change(s[s["authority"] == "BVA"], "t0", "t2"), check_dtype=False)


def test_reliability_tables_flag_negatively_loading_items(demo_copy):
    import sqlite3

    with sqlite3.connect(demo_copy) as con:  # answers to the reverse-keyed da3 turned round: da3 loads negatively
        con.execute("UPDATE answers SET value = 6 - value WHERE item = 'da3' AND value BETWEEN 1 AND 5")
    rel = C.reliabilities(C.cohort_context(demo_copy))
    hints = [h for h in rel.data["frame"]["note"] if h]
    assert hints == ["da3 lädt negativ – fehlt eine Umpolung?"]
    assert rel.html().count("lädt negativ") == 1
    authority = S.methods(S.authority_context(demo_copy, "BVA", lang="en")).html()
    assert "da3 loads negatively – is a reverse key missing?" in authority
