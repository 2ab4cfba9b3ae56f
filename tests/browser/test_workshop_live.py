"""The live workshop as participants and facilitator see it: two Solara form processes behind one address, headless Chromium.

Session: reality check, wave t0, authority BVA, join code; 4 earlier submissions and k = 5, so
the participant's submission is the one that releases the presenter view's result.
Covers: join with code, reload mid-form and continue, network drop and reconnect, submit,
presenter view update (the presenter page and the phone are served by different form processes),
English switch, no request to any other host, ``kill -9`` of the server with a page open (restart
with the same command: the page comes back with its draft), and ``kill -9`` of the page's form process.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from toolkit.store import Store
from toolkit.widgets import FormState
from toolkit.workshop import WorkshopProcess

from .conftest import save_shot

pytestmark = [pytest.mark.browser, pytest.mark.timeout(400)]

CODE = {"mother": "Zo", "birthday": "3", "birthplace": "W", "street": "Li"}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
PROJECTOR = {"viewport": {"width": 1920, "height": 1080}}


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("live") / "cohort.sqlite"
    store = Store.init(path, cohort="Live")
    store.add_instrument("reality_check")
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
    return path


# two form processes whatever the machine's cores: the presenter page and the phone land on different ones
ARGS = ["--authority", "BVA", "--join-code", "K7Q2", "--processes", "2"]


@pytest.fixture(scope="module")
def server(db):
    srv = WorkshopProcess(db, "reality_check", "t0", ARGS).start()
    yield srv
    srv.stop()


def _hosts(context) -> list[str]:
    seen: list[str] = []
    context.on("request", lambda r: seen.append(r.url.split("/")[2]))
    return seen


def _join(page, url: str, code: str = "K7Q2") -> None:
    page.goto(url, timeout=90_000)
    page.locator(".upo-join-input input").fill(code, timeout=60_000)
    page.locator(".upo-join-button").click()
    page.wait_for_selector(".upo-submit", timeout=30_000)


def _answer_page(page, dim, skip=()) -> None:
    for item in dim.items:
        if item.id not in skip:
            page.locator(f".upo-item-{item.id}").get_by_role("button", name="ja", exact=True).click()


def test_join_reload_drop_submit_and_presenter(browser, server, db, artifacts: Path):
    dims = Store(db).instrument("reality_check").dimensions
    pres_ctx = browser.new_context(**PROJECTOR)
    pres_hosts = _hosts(pres_ctx)
    pres = pres_ctx.new_page()
    pres.goto(server.presenter_url, timeout=90_000)
    pres.locator(".upo-count[data-n='4']").wait_for(timeout=60_000)
    assert pres.locator(".upo-dash table").count() == 0  # below k: the count only
    assert pres.locator(".upo-join-code").inner_text() == "K7Q2"

    ctx = browser.new_context(**PHONE)
    hosts = _hosts(ctx)
    page = ctx.new_page()
    page.goto(server.url, timeout=90_000)
    page.locator(".upo-join-input input").wait_for(timeout=60_000)
    page.locator(".upo-join-input input").fill("XXXX")
    page.locator(".upo-join-button").click()
    page.get_by_text("Dieser Code stimmt nicht").wait_for(timeout=15_000)
    page.locator(".upo-join-input input").fill("k7q2")
    page.locator(".upo-join-button").click()
    page.wait_for_selector(".upo-submit", timeout=30_000)
    assert len(_processes_with_pages(server)) == 2  # the presenter page in one form process, the phone in the other
    assert page.evaluate("document.documentElement.scrollWidth") <= 392  # no sideways scrolling on a phone
    save_shot(page, artifacts, "workshop_form_phone.png", full_page=False)
    for eid, value in CODE.items():
        page.locator(f".upo-code-{eid} input").fill(value)
    page.locator(".upo-next").click()
    page.locator("[data-page='1']").wait_for(timeout=15_000)
    _answer_page(page, dims[0])
    time.sleep(0.5)

    page.reload()  # mid-form: no join code again, same page, same answers
    page.locator("[data-page='1']").wait_for(timeout=60_000)
    page.get_by_text("wiederhergestellt").wait_for(timeout=10_000)
    assert page.locator(".upo-join-input").count() == 0
    first = dims[0].items[0].id
    assert page.locator(f".upo-item-{first} .mod-active").inner_text() == "ja"

    ctx.set_offline(True)  # the phone loses the Wi-Fi
    page.locator("#upo-offline").get_by_text("Keine Verbindung").wait_for(timeout=30_000)
    save_shot(page, artifacts, "workshop_form_offline.png", full_page=False, docs=False)
    ctx.set_offline(False)
    page.locator("#upo-offline").wait_for(state="hidden", timeout=60_000)
    page.locator("[data-page='1']").wait_for(timeout=60_000)  # still on the same page with its answers

    for pos, dim in enumerate(dims[1:], start=2):
        page.locator(".upo-next").click()
        page.locator(f"[data-page='{pos}']").wait_for(timeout=15_000)
        _answer_page(page, dim)
    page.locator("[data-open='0']").wait_for(timeout=15_000)
    page.locator(".upo-submit").click()
    t_click = time.monotonic()
    page.locator(".upo-result").get_by_text("Vielen Dank").wait_for(timeout=20_000)
    page.locator(".upo-submit").click()  # a second click: still one submission
    pres.locator(".upo-count[data-n='5']").wait_for(timeout=20_000)
    assert time.monotonic() - t_click < 10
    pres.locator(".upo-dash table").get_by_text("Ziele und Umfang").wait_for(timeout=10_000)
    pres.wait_for_function("() => { const i = document.querySelector('.upo-dash img'); return i && i.naturalWidth > 0; }", timeout=30_000)
    assert Store(db).count_submissions("reality_check") == 5 and len(Store(db).submissions()) == 5
    save_shot(pres, artifacts, "workshop_presenter_1080p.png", full_page=False)
    origin = server.url.split("/")[2]
    assert set(hosts) == {origin} and set(pres_hosts) == {origin}  # nobody but the server (no CDN, no telemetry)
    ctx.close()
    pres_ctx.close()


def test_solaras_own_messages_are_in_the_forms_language(browser, server):
    """Solara's "Could not restore session" (and its other connection messages) were English only."""
    page = browser.new_context(**PHONE).new_page()
    page.goto(server.url)
    page.wait_for_selector(".upo-join-input input", timeout=60_000)
    add = "t => { const d = document.createElement('div'); d.className = 'upo-test-msg'; d.textContent = t; document.body.appendChild(d); }"
    page.evaluate(add, "Could not restore session. Please refresh the page.")
    page.wait_for_function("() => document.querySelector('.upo-test-msg').textContent.startsWith('Die Sitzung konnte nicht')", timeout=5_000)
    page.evaluate("() => { document.querySelector('.upo-test-msg').remove(); const e = document.createElement('span'); e.className = 'upo-lang-en'; document.body.appendChild(e); }")
    page.evaluate(add, "Could not restore session. Please refresh.")
    page.wait_for_function("() => document.querySelector('.upo-test-msg').textContent.startsWith('Could not restore the session. Please reload')", timeout=5_000)
    page.context.close()


def test_page_title_is_the_instruments_and_no_vue_template_compiler(browser, server, db):
    """Solara's route Title set the tab to "No title"; it and Solara's router were Vue templates that made every phone load and run
    Vue's template compiler (jupyter-vue's nodeps-vue-sfc.js, 0.24 MB compressed) for nothing."""
    ctx = browser.new_context(**PHONE)
    urls: list[str] = []
    ctx.on("request", lambda r: urls.append(r.url))
    page = ctx.new_page()
    page.goto(server.url)
    page.wait_for_selector(".upo-join-input input", timeout=60_000)
    page.wait_for_load_state("load")
    time.sleep(2)  # what the page loads after the form is shown
    assert page.title() == Store(db).instrument("reality_check").title.get("de")
    assert [u for u in urls if "vue-sfc" in u] == []
    assert any("solara-vuetify" in u for u in urls)  # the page loaded (and was watched) at all
    ctx.close()


def test_english_form_and_presenter(browser, db, artifacts: Path):
    store = Store(db)
    while store.count_submissions("reality_check") < 5:  # when run alone: the released view needs k = 5
        form = FormState(store, "reality_check", "t0", authority="BVA")
        form.set_code(mother="Ex", birthday="9", birthplace="E", street="En")
        for item in form.simple_items:
            form.set_answer(item.id, 1.0)
        assert form.submit().ok
    srv = WorkshopProcess(db, "reality_check", "t0", [*ARGS, "--lang", "en"]).start()
    try:
        ctx = browser.new_context(**PHONE)
        page = ctx.new_page()
        page.goto(srv.url, timeout=90_000)
        page.get_by_text("Please enter the join code").wait_for(timeout=60_000)
        page.get_by_role("button", name="Deutsch", exact=True).click()
        page.get_by_text("Teilnahme-Code ein").wait_for(timeout=15_000)
        page.get_by_role("button", name="English", exact=True).click()
        page.get_by_text("Please enter the join code").wait_for(timeout=15_000)
        page.locator(".upo-join-input input").fill("K7Q2")
        page.locator(".upo-join-button").click()
        page.get_by_text("personal code").first.wait_for(timeout=30_000)
        page.get_by_text("Part 1 of").wait_for(timeout=15_000)
        page.locator(".upo-submit").click()
        page.get_by_text("Please complete").wait_for(timeout=15_000)
        page.get_by_role("button", name="Deutsch", exact=True).click()  # every text switches, messages too
        page.get_by_text("Bitte ergänzen Sie noch").wait_for(timeout=15_000)
        page.get_by_text("Ihr persönlicher Code").first.wait_for(timeout=15_000)
        page.get_by_role("button", name="English", exact=True).click()
        page.get_by_text("Please complete").wait_for(timeout=15_000)
        page.evaluate("window.scrollTo(0, 0)")
        save_shot(page, artifacts, "workshop_form_phone_en.png", full_page=False)
        pres = browser.new_page(**PROJECTOR)
        pres.goto(srv.presenter_url, timeout=90_000)
        pres.get_by_text("Live results").wait_for(timeout=60_000)
        pres.locator(".upo-dash table").get_by_text("Goals and scope").wait_for(timeout=30_000)
        pres.wait_for_function("() => { const i = document.querySelector('.upo-dash img'); return i && i.naturalWidth > 0; }", timeout=30_000)
        save_shot(pres, artifacts, "workshop_presenter_1080p_en.png", full_page=False)
        pres.close()
        ctx.close()
    finally:
        srv.stop()


def _code_then_page_two(page, url: str) -> None:
    """Join, enter the code, go on to the second page and let its draft be saved."""
    _join(page, url)
    for eid, value in CODE.items():
        page.locator(f".upo-code-{eid} input").fill(value)
    page.locator(".upo-next").click()
    page.locator("[data-page='1']").wait_for(timeout=15_000)
    time.sleep(0.5)


def _mark_document(page) -> None:
    """Mark the page's current document, so that a test can wait for the document the page reloads into."""
    page.evaluate("window.__upoOldDocument = true")


def _wait_for_the_reloaded_draft(page, timeout: float = 90_000) -> None:
    """Wait until the page has reloaded (Solara reloads a page whose session the server does not know) and shows its
    draft's page 1 with the connection up: the old document's page 1 is still visible, and its banner may hide for a
    moment while Solara's new socket opens and before it learns that the session is gone, so a click there is lost."""
    page.wait_for_function(
        "() => window.__upoOldDocument === undefined && document.querySelector(\"[data-page='1']\")"
        " && !document.body.classList.contains('upo-is-offline')", timeout=timeout)


def test_kill_9_mid_workshop_and_restart_keeps_submissions_and_drafts(browser, db, tmp_path):
    before = len(Store(db).submissions())
    srv = WorkshopProcess(db, "reality_check", "t0", ARGS).start()
    ctx = browser.new_context(**PHONE)
    page = ctx.new_page()
    try:
        _code_then_page_two(page, srv.url)
        _mark_document(page)
        srv.kill()  # kill -9: the laptop's server process dies mid-workshop
        page.locator("#upo-offline").get_by_text("Keine Verbindung").wait_for(timeout=30_000)
        again = WorkshopProcess(db, "reality_check", "t0", ARGS, port=srv.port).start()  # the same command
        try:
            # the page reconnects (Solara reloads it, the server does not know it) and has its draft
            _wait_for_the_reloaded_draft(page)
            page.locator("#upo-offline").wait_for(state="hidden", timeout=30_000)
            page.locator(".upo-prev").click()
            page.locator("[data-page='0']").wait_for(timeout=15_000)
            assert page.locator(".upo-code-mother input").input_value() == "Zo"
            assert len(Store(db).submissions()) == before  # every committed submission is there, nothing new
            Store(db).check_integrity()
        finally:
            again.stop()
    finally:
        srv.kill()
        ctx.close()


def _connections(child, port: int) -> int:
    import psutil

    try:
        return sum(1 for c in child.net_connections(kind="tcp") if c.laddr and c.laddr.port == port and c.status == psutil.CONN_ESTABLISHED)
    except psutil.Error:
        return 0


def _processes_with_pages(srv: WorkshopProcess) -> list:
    import psutil

    return [c for c in psutil.Process(srv.pid).children() if _connections(c, srv.port)]


def _form_process_of_the_page(srv: WorkshopProcess):
    """The form process that holds the page's connections (the front handed them over: their local port is the session's)."""
    import psutil

    counts = [(_connections(c, srv.port), c) for c in psutil.Process(srv.pid).children()]
    n, child = max(counts, key=lambda x: x[0], default=(0, None))
    return child if n else None


def test_kill_9_of_a_form_process_the_page_comes_back_with_its_draft(browser, db):
    """Several form processes: the one serving the page dies; the front starts it again and the page returns to its draft."""
    srv = WorkshopProcess(db, "reality_check", "t0", ARGS).start()
    ctx = browser.new_context(**PHONE)
    page = ctx.new_page()
    try:
        _code_then_page_two(page, srv.url)
        victim = _form_process_of_the_page(srv)
        assert victim is not None
        _mark_document(page)
        victim.kill()  # kill -9 of the page's form process; the front and the other process keep running
        page.locator("#upo-offline").get_by_text("Keine Verbindung").wait_for(timeout=30_000)
        _wait_for_the_reloaded_draft(page)
        page.locator("#upo-offline").wait_for(state="hidden", timeout=90_000)
        page.locator(".upo-prev").click()
        page.locator("[data-page='0']").wait_for(timeout=15_000)
        assert page.locator(".upo-code-mother input").input_value() == "Zo"
        assert "starting it again" in "".join(srv.output)
    finally:
        ctx.close()
        srv.stop()
