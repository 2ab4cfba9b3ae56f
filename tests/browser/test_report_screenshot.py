"""One authority report (BVA, demo cohort) in Chromium: first screen and stakeholder section.

The screenshots go to tests/artifacts/ and docs/img/report_*.png, where the facilitator
guides embed them: they are produced from a real rendered report, not drawn by hand.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from toolkit.reports import render_reports
from toolkit.store import Store

from .conftest import save_shot

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def report(demo_db: Path, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Path:
    from conftest import seed_demo_audit

    folder = tmp_path_factory.mktemp("report_shot")
    db = folder / "demo.sqlite"
    with Store(demo_db) as src:  # checkpoint the WAL so the copy is complete
        src.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copy(demo_db, db)
    # the demo as built: the session's passed audit of it, not the whole cohort's releases again for one report
    assert seed_demo_audit(folder / "reports", db, demo_db, request)
    result = render_reports(db, ["BVA"], out=folder / "reports", jobs=1, progress=False)
    assert result.ok, result.summary_text()
    html = folder / "reports" / "BVA.html"
    assert html.exists(), sorted(p.name for p in (folder / "reports").iterdir())
    return html


def test_report_first_screen_and_stakeholder_section(browser, report: Path, artifacts: Path):
    ctx = browser.new_context(viewport={"width": 1200, "height": 860}, device_scale_factor=1)
    page = ctx.new_page()
    outside: list[str] = []
    page.on("request", lambda req: outside.append(req.url) if not req.url.startswith(("file:", "data:")) else None)
    page.goto(report.as_uri(), wait_until="load", timeout=60_000)

    # the first screen names the report and the authority, and shows no code
    title = page.locator("h1").first
    assert title.is_visible()
    assert "Bericht" in title.inner_text()
    assert "Bundesverwaltungsamt" in page.locator("body").inner_text() or "BVA" in page.locator("body").inner_text()
    assert page.locator(".jp-InputArea, .input_area, .jp-InputPrompt").count() == 0, "the report shows code cells"
    assert outside == [], f"the report is not self-contained; it loaded {outside[:3]}"
    save_shot(page, artifacts, "report_first_screen.png", full_page=False)

    # the stakeholder section: heading, a drawn figure (the power-interest grid) and the priority table
    section = page.locator(".upo-section", has=page.locator("h2", has_text="Stakeholder-Analyse")).first
    section.scroll_into_view_if_needed()
    assert section.is_visible()
    images = section.locator("img")
    assert images.count() >= 1, "the stakeholder section has no figure"
    widths = images.evaluate_all("imgs => imgs.map(i => i.complete ? i.naturalWidth : 0)")
    assert all(w > 100 for w in widths), f"a stakeholder figure did not load: natural widths {widths}"
    assert section.locator("table").count() >= 1, "the stakeholder section has no priority table"
    # clip: heading, figure and the first rows of the priority table (the whole table is ~3000 px tall)
    box = section.bounding_box()
    table_box = section.locator("table").first.bounding_box()
    assert box is not None and table_box is not None
    width = max(box["width"], table_box["width"]) + 40
    height = min(box["height"], table_box["y"] - box["y"] + 560) + 20
    scroll_y = page.evaluate("window.scrollY")
    shot = artifacts / "report_stakeholders.png"
    page.screenshot(path=str(shot), full_page=True,
                    clip={"x": box["x"] - 20, "y": box["y"] + scroll_y - 10, "width": width, "height": height})
    assert shot.stat().st_size > 20_000, "the stakeholder screenshot is nearly empty"
    docs_img = Path(__file__).resolve().parents[2] / "docs" / "img"
    docs_img.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, docs_img / shot.name)
    ctx.close()
