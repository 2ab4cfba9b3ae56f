"""Rendering the report notebooks with papermill in worker kernels: content, escaping, index, PDF,
incremental skipping and failure isolation. A handful of authorities only; ``make demo`` renders all 30."""

from __future__ import annotations

import os
import re
import shutil
import time

import nbformat
import pytest

from toolkit.cli import main as cli_main
from toolkit.privacy import SUPPRESSED_NOTE
from toolkit.paths import NOTEBOOKS_DIR
from toolkit.reports import render_reports
from toolkit.reports.pdf import chromium_path, pdf_page_count
from toolkit.store import Store, Submission

pytestmark = pytest.mark.slow

SCRIPT = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def batch(tmp_path_factory, demo_db):
    """BVA (with a free stakeholder entry named like a script), JKI (below the threshold) and the cohort report."""
    base = tmp_path_factory.mktemp("reports")
    db = base / "demo.sqlite"
    with Store(demo_db) as src:
        src.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copy(demo_db, db)
    with Store(db) as store:
        inst = store.instrument("stakeholder_analysis")
        answers = {(item.id, SCRIPT): 4 for item in inst.items if item.type == "rating_grid" and item.role in ("influence", "interest")}
        answers.update({(item.id, SCRIPT): 3 for item in inst.items if item.type == "rating_grid" and item.role not in ("influence", "interest", "attitude")})
        answers.update({(item.id, SCRIPT): 1 for item in inst.items if item.role == "attitude"})
        for i in range(store.min_group_size):  # named by k raters: shown (fewer would not be)
            store.submit(Submission("BVA", ("Zz", str(i + 1), "Q", "Xy"), "t0", "stakeholder_analysis", answers, source="test"))
    formats = ["html", "pdf"] if chromium_path() else ["html"]
    out = base / "out"
    t0 = time.perf_counter()
    result = render_reports(db, ["BVA", "JKI"], out=out, formats=formats, jobs=2, cohort=True, progress=False)
    return {"db": db, "out": out, "result": result, "formats": formats, "seconds": time.perf_counter() - t0}


def _html(batch, name):
    return (batch["out"] / name).read_text(encoding="utf-8")


def test_batch_renders_all_requested_reports(batch):
    res = batch["result"]
    assert res.ok, res.summary_text()
    assert sorted(r.report_id for r in res.rendered) == ["authority:BVA", "authority:JKI", "cohort"]


def test_reports_are_self_contained_without_code(batch):
    for name in ("BVA.html", "JKI.html", "cohort.html", "index.html"):
        html = _html(batch, name)
        assert not re.search(r"<script", html, re.I), name  # no scripts at all: no require.js, no MathJax
        assert not re.search(r"<(link|img|script|iframe)[^>]+(href|src)=[\"']?https?:", html, re.I), name
        assert "from toolkit" not in html and "authority_context(" not in html, name  # no code cells
    assert "data:image/svg+xml;base64," in _html(batch, "BVA.html")


def test_authority_report_sections_in_order(batch):
    html = _html(batch, "BVA.html")
    ids = ["summary", "participation", "profile", "needs", "next_steps", "items", "change", "stakeholders", "readiness", "texts", "methods"]
    pos = [html.find(f'<section class="upo-section" id="{i}">') for i in ids]
    assert all(p > 0 for p in pos) and pos == sorted(pos)
    for text in ("Bundesverwaltungsamt", "competence_reflection", "Mindestgruppengröße", "Cronbachs α", "gesicherte Verbesserung"):
        assert text in html, text


def test_report_numbers_match_the_store(batch):
    html = _html(batch, "BVA.html")
    with Store(batch["db"]) as store:
        n = {w: store.count_submissions("competence_reflection", wave=w, authority="BVA") for w in ("t0", "t1", "t2")}
        inst = store.instrument("competence_reflection")
    assert f"t0: {n['t0']} · t1: {n['t1']} · t2: {n['t2']}" in html
    assert inst.short_hash in html


def test_small_authority_is_suppressed_gracefully(batch):
    html = _html(batch, "JKI.html")
    assert html.count(SUPPRESSED_NOTE["de"]) >= 4
    assert "data:image/" not in html  # no profile, needs, items or stakeholder figures for a group below k


def test_user_text_is_escaped(batch):
    html = _html(batch, "BVA.html")
    assert SCRIPT not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_index_lists_reports_with_key_figures(batch):
    html = _html(batch, "index.html")
    for name in ("BVA.html", "JKI.html", "cohort.html"):
        assert f'href="{name}"' in html
    with Store(batch["db"]) as store:
        n_bva = store.count_submissions("competence_reflection", wave="t0", authority="BVA")
    row = html.split('href="BVA.html"')[1].split("</tr>")[0]
    assert f">{n_bva}<" in row
    jki = html.split('href="JKI.html"')[1].split("</tr>")[0]
    assert jki.count(">–<") >= 2  # headline figures suppressed


def test_index_key_figures_are_the_values_the_reports_release(batch):
    """The index's need is the report's rank 1; a hidden figure shows "–" with the true reason of its suppression."""
    from toolkit.privacy.release import reason_text
    from toolkit.reports import sections as S
    from toolkit.reports.html import esc
    from toolkit.reports.index import key_values

    html = _html(batch, "index.html")
    ctx = S.authority_context(batch["db"], "BVA")
    top = ctx.dim_title(ctx.data.competence, S.gaps_needs(ctx).data["needs"].iloc[0]["dimension"])
    row = html.split('href="BVA.html"')[1].split("</tr>")[0]
    assert f">{esc(top)} (" in row and esc(top) in _html(batch, "BVA.html")
    jki_ctx = S.authority_context(batch["db"], "JKI")
    truth = key_values(jki_ctx)
    jki = html.split('href="JKI.html"')[1].split("</tr>")[0]
    assert f'title="{esc(reason_text(truth["score"]["reason"], "de", k=jki_ctx.k))}">–<' in jki


def test_pdf_has_pages(batch):
    if "pdf" not in batch["formats"]:
        if os.environ.get("UPO_REQUIRE_BROWSER") == "1":
            pytest.fail("UPO_REQUIRE_BROWSER=1 but /usr/bin/chromium is missing")
        pytest.skip("no Chromium at /usr/bin/chromium: PDF output not testable here")
    data = (batch["out"] / "BVA.pdf").read_bytes()
    assert data.startswith(b"%PDF")
    assert pdf_page_count(data) > 1


def test_unchanged_inputs_are_skipped_and_changes_rerender(batch):
    db, out = batch["db"], batch["out"]
    t0 = time.perf_counter()
    code = cli_main(["report", str(db), "--authority", "BVA", "JKI", "--cohort", "--out", str(out), "--format", ",".join(batch["formats"])])
    assert code == 0
    again = render_reports(db, ["BVA", "JKI"], out=out, formats=batch["formats"], cohort=True, progress=False)
    assert not again.rendered and len(again.skipped) == 3
    assert time.perf_counter() - t0 < 20  # two no-change runs (the bench measures this properly)
    before = (out / "JKI.html").stat().st_mtime_ns
    # a new answer in BVA changes the cohort means every report shows: all re-render
    with Store(db) as store:
        answers = {item.id: 4 for item in store.instrument("competence_reflection").items if item.type == "likert"}
        store.submit(Submission("BVA", ("Qq", "2", "R", "Zz"), "t2", "competence_reflection", answers, source="test"))
    third = render_reports(db, ["JKI"], out=out, formats=batch["formats"], progress=False)
    assert third.ok, third.summary_text()
    assert [r.report_id for r in third.rendered] == ["authority:JKI"]  # JKI's own data did not change, the cohort's did
    assert (out / "JKI.html").stat().st_mtime_ns > before
    # the reports not asked for are stale now: a dry run lists what the next run would render
    plan = render_reports(db, ["BVA", "JKI"], out=out, formats=batch["formats"], cohort=True, dry_run=True)
    assert {r.report_id: r.status for r in plan.results} == {"authority:BVA": "stale", "authority:JKI": "skipped", "cohort": "stale"}


def test_a_failing_report_does_not_stop_the_batch(batch, tmp_path):
    nb = nbformat.read(NOTEBOOKS_DIR / "report_authority.ipynb", as_version=4)
    nb.cells.insert(3, nbformat.v4.new_code_cell('if authority == "JKI":\n    raise ValueError("kaputt")'))
    broken = tmp_path / "broken.ipynb"
    nbformat.write(nb, broken)
    # the batch's passed audit of this data (its stamp, named by the data's fingerprint, toolkit and k), as a second
    # batch into the same folder finds it: the audit does not render every other report of the cohort again in memory
    shutil.copytree(batch["out"] / ".audit", tmp_path / "out" / ".audit")
    # one worker: JKI fails first, the kernel restarts, BVA still renders
    res = render_reports(batch["db"], ["JKI", "BVA", "NOPE"], out=tmp_path / "out", jobs=1, authority_notebook=broken, progress=False)
    assert not res.ok
    assert {r.report_id: r.status for r in res.results} == {"authority:JKI": "failed", "authority:BVA": "rendered", "authority:NOPE": "failed"}
    jki = next(r for r in res.failed if r.authority == "JKI")
    assert "ValueError: kaputt" in jki.error
    assert "FAILED authority:JKI" in res.summary_text()
    assert not (tmp_path / "out" / "JKI.html").exists()
    assert "nicht erstellt" in (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
