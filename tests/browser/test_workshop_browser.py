"""A participant fills the real Voilà form in headless Chromium; the real dashboard page updates.

Session: reality check, wave t0, authority BVA fixed; 4 earlier submissions, k = 5,
so the participant's submission is the one that makes the dashboard show results.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from toolkit.store import Store
from toolkit.widgets import FormState
from toolkit.workshop import DASHBOARD_NOTEBOOK, FORM_NOTEBOOK, session_env, validate_session

from .conftest import save_shot, serve_notebook

pytestmark = [pytest.mark.browser, pytest.mark.timeout(400)]

CODE = {"mother": "Zo", "birthday": "3", "birthplace": "W", "street": "Li"}


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("workshop") / "cohort.sqlite"
    store = Store.init(path, cohort="Browser")
    for inst in ("reality_check", "competence_reflection"):
        store.add_instrument(inst)
    store.add_authority("BVA", name="Bundesverwaltungsamt", ministry="BMI")
    store.add_wave("t0")
    rng = np.random.default_rng(7)
    for i in range(4):
        form = FormState(store, "reality_check", "t0", authority="BVA")
        form.set_code(mother="A" + "bcde"[i], birthday=str(i + 1), birthplace="B", street="Cd")
        for item in form.simple_items:
            form.set_answer(item.id, float(rng.choice([0, 1, 2])))
        assert form.submit().ok
    store.close()
    return validate_session(path, "reality_check", "t0", "BVA")


@pytest.fixture(scope="module")
def servers(session):
    env = session_env(session)
    form = serve_notebook(FORM_NOTEBOOK, env, pool_size=1)
    try:
        dash = serve_notebook(DASHBOARD_NOTEBOOK, env, preheat=False)
    except Exception:
        form.stop()
        raise
    yield form, dash
    import psutil

    kernels = form.kernel_pids() + dash.kernel_pids()
    assert kernels  # pre-heated and page kernels were running
    dash.stop()
    form.stop()
    assert not [p for p in kernels if psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE]


def _count(page) -> tuple[int, int]:
    el = page.locator(".upo-count")
    return int(el.get_attribute("data-n")), int(el.get_attribute("data-visible"))


def test_participant_submits_and_dashboard_shows_the_group(browser, servers, session, artifacts: Path):
    form_srv, dash_srv = servers
    dash = browser.new_page(viewport={"width": 1200, "height": 1000})
    dash.goto(dash_srv.url, timeout=90_000)
    dash.wait_for_selector(".upo-count", timeout=90_000)
    assert _count(dash) == (4, 0)  # below k: only the count
    assert dash.locator(".upo-dash table").count() == 0

    ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, device_scale_factor=2)
    page = ctx.new_page()
    page.goto(form_srv.url, timeout=90_000)
    page.wait_for_selector(".upo-submit", timeout=90_000)
    assert page.locator("text=Reality-Check").first.is_visible()
    assert page.locator("body").inner_text().count("import ") == 0  # no code visible
    save_shot(page, artifacts, "workshop_form_phone_voila.png", full_page=False, docs=False)  # the docs image comes from test_workshop_live.py

    for eid, value in CODE.items():
        page.locator(f".upo-code-{eid} input").fill(value)
    dims = Store(session["db"]).instrument("reality_check").dimensions
    items = [i.id for d in dims for i in d.items if i.type == "checklist"]
    for pos, dim in enumerate(dims, start=1):  # one page per area
        page.locator(".upo-next").click()
        page.locator(f"[data-page='{pos}']").wait_for(timeout=15_000)
        for item in dim.items:
            if item.id not in items[-3:]:
                page.locator(f".upo-item-{item.id}").get_by_role("button", name="ja", exact=True).click()
    page.locator(".upo-submit").click()
    problems = page.locator(".upo-problems")
    problems.get_by_text("Bitte ergänzen").wait_for(timeout=15_000)
    assert problems.locator("li").count() == 3
    page.locator(f".upo-item-{items[-3]}.upo-missing").scroll_into_view_if_needed()
    save_shot(page, artifacts, "workshop_form_missing.png", full_page=False)
    assert Store(session["db"]).count_submissions("reality_check") == 4  # nothing stored yet

    for item_id in items[-3:]:
        page.locator(f".upo-item-{item_id}").get_by_role("button", name="ja", exact=True).click()
    page.locator("[data-open='0']").wait_for(timeout=15_000)
    page.locator(".upo-submit").click()
    t_click = time.monotonic()
    page.locator(".upo-result").get_by_text("Vielen Dank").wait_for(timeout=20_000)
    page.locator(".upo-result").scroll_into_view_if_needed()
    save_shot(page, artifacts, "workshop_form_done.png", full_page=False)

    store = Store(session["db"])
    assert store.count_submissions("reality_check") == 5
    last = store.submissions().iloc[-1]
    resp = store.responses("reality_check", linked=False)
    mine = resp[resp["participant"] == last["participant"]]
    assert last["source"] == "workshop" and len(mine) == len(items) and (mine["value"] == 2).all()

    dash.locator(".upo-count[data-n='5']").wait_for(timeout=20_000)
    seen_after = time.monotonic() - t_click
    # the live count has its own loop; the released result (data-visible) follows with the recompute
    dash.locator(".upo-count[data-n='5'][data-visible='1']").wait_for(timeout=20_000)
    assert _count(dash) == (5, 1)
    dash.locator(".upo-dash table").get_by_text("Ziele und Umfang").wait_for(timeout=10_000)
    dash.locator(".upo-dash img").first.wait_for(state="visible", timeout=20_000)  # the figure follows the table
    assert seen_after < 10  # generous here; bench/bench_workshop.py measures the latency properly
    save_shot(dash, artifacts, "workshop_dashboard.png")
    ctx.close()
    dash.close()
