"""The competence reflection form in Chromium at phone width: authority picker, levels, language."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolkit.store import Store
from toolkit.workshop import FORM_NOTEBOOK, session_env, validate_session

from .conftest import save_shot, serve_notebook

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("screens") / "cohort.sqlite"
    store = Store.init(path, cohort="Screens")
    store.add_instrument("competence_reflection")
    store.add_authority("BVA", name="Bundesverwaltungsamt", ministry="BMI")
    store.add_authority("ITZBund", name="Informationstechnikzentrum Bund", ministry="BMF")
    store.add_wave("t1")
    store.close()
    srv = serve_notebook(FORM_NOTEBOOK, session_env(validate_session(path, "competence_reflection", "t1")), pool_size=1)
    yield srv
    srv.stop()


def test_phone_form_levels_authority_and_english(browser, server, artifacts: Path):
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, device_scale_factor=2)
    page = ctx.new_page()
    page.goto(server.url, timeout=90_000)
    page.wait_for_selector(".upo-submit", timeout=90_000)
    # no horizontal scrolling on a phone
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 2
    # the participant picks the authority from the cohort's list
    options = page.locator(".upo-form select option").all_inner_texts()
    assert any("Bundesverwaltungsamt" in o for o in options) and any("ITZBund" in o for o in options)
    page.locator(".upo-form select").select_option(label="Bundesverwaltungsamt (BVA)")
    page.locator(".upo-next").click()
    page.locator("[data-page='1']").wait_for(timeout=15_000)
    # the next page starts at the top of the screen, not where the "Weiter" button was
    page.wait_for_function("Math.abs(document.querySelector('.upo-progress').getBoundingClientRect().top) < 60", timeout=10_000)
    card = page.locator(".upo-item-dt1")
    card.scroll_into_view_if_needed()
    card.get_by_role("button", name="trifft eher zu", exact=True).click()
    assert card.get_by_role("button", name="kann ich nicht beurteilen").is_visible()
    level = page.locator(".upo-item-dt_ist")
    level.scroll_into_view_if_needed()
    assert "bitte Stufe wählen" in level.inner_text()
    track = level.locator(".noUi-target, .slider").first
    box = track.bounding_box()
    assert box is not None, level.inner_html()
    x, y = box["x"] + box["width"] * 2 / 5, box["y"] + box["height"] / 2  # options: –, 1, 2, 3, 4, 5
    page.touchscreen.tap(x, y)  # a finger on a phone
    anchor = level.get_by_text("2 – Grundlagen – mit Anleitung")
    try:
        anchor.wait_for(timeout=5_000)
    except Exception:
        page.mouse.click(x, y)
        anchor.wait_for(timeout=15_000)  # the anchor label of level 2
    page.locator(".upo-item-dt1").scroll_into_view_if_needed()
    save_shot(page, artifacts, "workshop_form_items_phone.png", full_page=False)
    page.get_by_role("button", name="English", exact=True).click()
    page.get_by_text("Part 2 of 12").wait_for(timeout=15_000)  # same page, now in English
    assert page.locator(".upo-item-dt1").get_by_role("button", name="mostly true", exact=True).is_visible()
    ctx.close()
