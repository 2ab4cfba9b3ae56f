"""The workshop's pages without a browser: join code, drafts, the presenter's measures, and the form findings of issue 15."""

from __future__ import annotations

import threading

import pytest

from toolkit.exceptions import DataError
from toolkit.widgets import DashboardState, FormState, ParticipantForm
from toolkit.widgets import _style
from toolkit.workshop.drafts import DraftStore
from toolkit.workshop.pages import FormPage, Runtime
from toolkit.workshop.presenter import PresenterView

CODE = {"mother": "Ma", "birthday": "7", "birthplace": "K", "street": "Ha"}


def _runtime(store, tmp_path, **env):
    base = {"UPO_DB": str(store.path), "UPO_INSTRUMENT": "reality_check", "UPO_WAVE": "t0", "UPO_AUTHORITY": "BVA",
            "UPO_DRAFTS": str(tmp_path / "drafts")}
    return Runtime({**base, **env})


def test_join_code_is_asked_once_per_device(store, tmp_path):
    rt = _runtime(store, tmp_path, UPO_JOIN_CODE="K7Q2")
    page = FormPage(rt, "device-a")
    assert page.form is None and "upo-join-card" in page.widget.children[0]._dom_classes
    assert not page.join("XXXX") and "stimmt nicht" in page.join_msg.value and page.form is None
    assert page.join(" k7q2") and page.form is not None
    assert FormPage(rt, "device-a").form is not None  # a reload does not ask again
    assert FormPage(rt, "device-b").form is None  # another device does


def test_join_code_attempts_are_limited(store, tmp_path):
    page = FormPage(_runtime(store, tmp_path, UPO_JOIN_CODE="K7Q2"), "device-a")
    for _ in range(8):
        page.join("nope")
    assert not page.join("K7Q2") and "Zu viele Versuche" in page.join_msg.value


def test_join_card_switches_language(store, tmp_path):
    page = FormPage(_runtime(store, tmp_path, UPO_JOIN_CODE="K7Q2"), "device-a")
    page.lang_input.value = "en"
    assert "join code" in page.widget.children[0].children[2].children[0].value
    page.join("K7Q2")
    assert page.form.state.lang == "en"


def test_reload_restores_the_draft_with_page_and_token(store, tmp_path):
    rt = _runtime(store, tmp_path)
    page = FormPage(rt, "device-a")
    view = page.form
    view.build_all()
    for eid, value in CODE.items():
        view.code_inputs[eid].value = value
    first = view.state.simple_items[0].id
    view.inputs[first].value = 2.0
    view.show_page(2)
    token = view.state.token
    again = FormPage(rt, "device-a").form  # reload / reconnect after a restart: same cookie
    assert again.state.code == {**CODE} and again.state.answers == {first: 2.0}
    assert again.page_index == 2 and again.state.token == token
    assert "wiederhergestellt" in again.result_html.value
    assert FormPage(rt, "device-b").form.state.answers == {}  # drafts are per device


def test_back_after_submit_and_resend_store_once(store, tmp_path):
    rt = _runtime(store, tmp_path)
    view = FormPage(rt, "device-a").form
    view.build_all()
    for eid, value in CODE.items():
        view.code_inputs[eid].value = value
    for item in view.state.simple_items:
        view.inputs[item.id].value = 1.0
    assert view.submit().ok
    again = FormPage(rt, "device-a").form  # back button / reload after submitting
    assert again.submit().ok and again.submit().ok
    assert store.count_submissions("reality_check") == 1 and len(store.submissions()) == 1


def test_two_submits_at_once_store_once(store, tmp_path):
    view = FormPage(_runtime(store, tmp_path), "device-a").form
    view.build_all()
    for eid, value in CODE.items():
        view.code_inputs[eid].value = value
    for item in view.state.simple_items:
        view.inputs[item.id].value = 1.0
    go = threading.Barrier(2)
    results = []

    def click():
        go.wait()
        results.append(view.state.submit())

    threads = [threading.Thread(target=click) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert all(r.ok for r in results) and len(store.submissions()) == 1


def test_drafts_are_private_files_and_cleared(tmp_path):
    drafts = DraftStore(tmp_path / "d")
    drafts.save("secret-cookie", {"code": CODE})
    files = list((tmp_path / "d").glob("*.json"))
    assert len(files) == 1 and "secret-cookie" not in files[0].name and oct(files[0].stat().st_mode)[-3:] == "600"
    drafts.clear()
    assert not (tmp_path / "d").exists()


# --------------------------------------------------------------------------- findings of issue 15
def test_widget_caches_are_per_page_not_per_process():
    """Finding 10: one shared Layout per process crashed every page after the first under Solara."""
    a = _style._full()
    a.close()  # the page that owned it is gone
    b = _style._full()
    assert b is not a and b.comm is not None


def test_long_answers_are_counted_and_never_cut(store):
    """Finding 7: 18,000 characters were stored as 5,000, names cut to 80, code fields took 5,000."""
    sh = FormState(store, "stakeholder_analysis", "t0", authority="BVA")
    sh.set_free_entry(0, "x" * 120)
    assert sh.free[0] == "x" * 120  # not cut
    assert any("120 Zeichen" in p.message for p in sh.problems())
    view = ParticipantForm(FormState(store, "competence_reflection", "t0", authority="BVA"))
    view.build_all()
    text_items = [i for i in view.state.simple_items if i.type == "text"]
    assert text_items
    box = view.inputs[text_items[0].id]
    box.value = "y" * 18_000
    counter = view.cards[text_items[0].id].children[-1]
    assert "data-over='1'" in counter.value and "18000 von 5000" in counter.value
    assert any(p.key == text_items[0].id and "kürzen" in p.message for p in view.state.problems())
    view.code_inputs["mother"].value = "x" * 5000
    assert any(p.key == "mother" and "höchstens 2" in p.message for p in view.state.problems())


def test_kiosk_double_click_keeps_the_thanks(store):
    """Finding 8: the second click validated the just-emptied form ("Bitte ergänzen Sie noch:" and 13 items)."""
    view = ParticipantForm(FormState(store, "reality_check", "t0", authority="BVA", kiosk=True))
    view.build_all()
    for eid, value in CODE.items():
        view.code_inputs[eid].value = value
    for item in view.state.simple_items:
        view.inputs[item.id].value = 1.0
    assert view.submit().ok
    second = view.submit()
    assert second.ok and "Vielen Dank" in view.result_html.value and view.problems_html.value == ""
    assert store.count_submissions("reality_check") == 1


def test_stakeholder_form_opens_with_no_group_ticked(store):
    """Finding 9: all 16 groups were ticked, i.e. 128 required ratings before anyone chose."""
    view = ParticipantForm(FormState(store, "stakeholder_analysis", "t0", authority="BVA"))
    view.show_page(1)
    assert not any(box.value for box in view.include_inputs.values()) and view.state.stakeholders() == []
    assert len([p for p in view.state.problems() if p.stakeholder]) == 0


def test_language_switch_translates_code_explanation_and_messages(store):
    view = ParticipantForm(FormState(store, "reality_check", "t0", authority="BVA"))
    view.submit()
    assert "Bitte ergänzen" in view.problems_html.value
    view.lang_input.value = "en"
    def texts_of(widget):  # every text on the page, however the widgets nest
        own = [str(getattr(widget, a, "")) for a in ("value", "description", "placeholder")]
        return " ".join(own + [texts_of(c) for c in getattr(widget, "children", ())])

    texts = " ".join(texts_of(widget) for widget in view._page(0))
    assert "personal code" in texts and "Please complete" in view.problems_html.value


# --------------------------------------------------------------------------- measures
def test_measures_are_stored_and_read_as_a_tidy_frame(store):
    mid = store.add_measure("  Schulung   Datenschutz ", instrument="competence_reflection", wave="t0", authority="BVA",
                            dimension="data_protection_security", who="Referat Z2", due="2027-03-31")
    store.add_measure("Personalrat früh einbinden", instrument="stakeholder_analysis", wave="t0", stakeholder="personalrat")
    df = store.measures()
    assert list(df.columns) == ["id", "authority", "ministry", "wave", "instrument", "dimension", "stakeholder", "what", "who", "due", "recorded_at"]
    assert df["id"].tolist()[0] == mid and df["what"].iloc[0] == "Schulung Datenschutz"
    assert store.measures(instrument="stakeholder_analysis")["stakeholder"].tolist() == ["personalrat"]
    assert store.measures(authority="BVA")["id"].tolist() == [mid]
    assert store.delete_measure(mid) and len(store.measures()) == 1


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"what": " "}, "needs a text"),
        ({"due": "31.03.2027"}, "YYYY-MM-DD"),
        ({"dimension": "nope"}, "dimension 'nope'"),
        ({"wave": "t9"}, "wave 't9'"),
        ({"what": "x" * 501}, "at most 500"),
    ],
)
def test_bad_measures_are_refused_with_the_fix(store, kw, message):
    args = {"what": "Schulung", "instrument": "competence_reflection", "wave": "t0", **kw}
    with pytest.raises(DataError, match=message):
        store.add_measure(args.pop("what"), **args)


def test_presenter_records_measures_and_shows_the_same_state_as_the_dashboard(store):
    state = DashboardState(store, "competence_reflection", "t0", authority="BVA")
    view = PresenterView(state, join_url="http://10.0.0.2:8866/", join_code="K7Q2", autostart=False)
    assert view.dashboard.state is state and "K7Q2" in view.join_html.value
    view.what_input.value = ""
    assert view.add_measure() is None and "needs a text" in view.measure_msg.value
    view.what_input.value, view.field_input.value, view.who_input.value, view.due_input.value = "Schulung", "data_protection_security", "Z2", "2027-03-31"
    mid = view.add_measure()
    assert mid is not None and f"data-measure='{mid}'" in view.measures_html.value and view.what_input.value == ""
    assert store.measures().iloc[0][["authority", "dimension", "who"]].tolist() == ["BVA", "data_protection_security", "Z2"]


def test_answers_write_the_draft_at_most_once_a_second_and_a_reload_loses_nothing(store, tmp_path, monkeypatch):
    """Issue 15b: a file write per widget message cost the server's core; the draft waits up to SAVE_EVERY, a reload first writes it."""
    import time

    from toolkit.workshop import pages

    rt = _runtime(store, tmp_path)
    writes = []
    save = rt.drafts.save
    monkeypatch.setattr(rt.drafts, "save", lambda sid, draft: (writes.append(sid), save(sid, draft)))
    view = FormPage(rt, "device-a").form
    view.build_all()
    n0 = len(writes)
    for eid, value in CODE.items():
        view.code_inputs[eid].value = value
    items = [i.id for i in view.state.simple_items[:6]]
    for item in items:
        view.inputs[item].value = 1.0
    assert len(writes) - n0 <= 1  # ten answers, not ten files
    again = FormPage(rt, "device-a").form  # reload right after answering (same server): nothing lost
    assert again.state.code == CODE and set(again.state.answers) == set(items)
    view.inputs[items[0]].value = 2.0  # and without a reload the timer writes it
    deadline = time.monotonic() + 5 * pages.SAVE_EVERY
    while rt.saver.pending() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert rt.drafts.load("device-a")["answers"][items[0]] == 2.0


def test_page_change_writes_the_draft_at_once(store, tmp_path):
    """A page change (and a submission, a language switch) is written at once: a kill -9 right after keeps it."""
    rt = _runtime(store, tmp_path)
    view = FormPage(rt, "device-a").form
    for eid, value in CODE.items():
        view.code_inputs[eid].value = value
    view.show_page(1)
    assert rt.drafts.load("device-a")["code"] == CODE and rt.drafts.load("device-a")["page"] == 1
