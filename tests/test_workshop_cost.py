"""What one participant's page costs the workshop server (issue 15): widgets and messages per join and per answer.

Each test fails on the form before this change (85630bc): the first page of the competence
reflection was 37 widgets and 9 later updates, every answer re-ran the full validation with its
messages, every page view was repr'd in full, and every page read the cohort's authorities.
The CPU itself is measured in ``bench/bench_participant_cost.py``, not here.
"""

from __future__ import annotations

import collections

import pytest
from ipywidgets.widgets.widget import Widget

from toolkit.widgets import FormState, ParticipantForm
from toolkit.workshop.pages import FormPage, Runtime


@pytest.fixture()
def sent(monkeypatch):
    """Widgets opened (one message each) and state updates sent, by widget type."""
    log = {"open": collections.Counter(), "update": collections.Counter()}
    open_, send_state = Widget.open, Widget.send_state

    def opened(self):
        log["open"][type(self).__name__] += 1
        return open_(self)

    def updated(self, key=None):
        log["update"][(type(self).__name__, str(key))] += 1
        return send_state(self, key)

    monkeypatch.setattr(Widget, "open", opened)
    monkeypatch.setattr(Widget, "send_state", updated)
    return log


def _runtime(store, tmp_path, instrument="competence_reflection"):
    return Runtime({"UPO_DB": str(store.path), "UPO_INSTRUMENT": instrument, "UPO_WAVE": "t0", "UPO_AUTHORITY": "BVA",
                    "UPO_DRAFTS": str(tmp_path / "drafts")})


def test_first_page_is_few_widgets_each_sent_once(store, tmp_path, sent):
    rt = _runtime(store, tmp_path)
    FormPage(rt, "warm")  # the page's shared styles
    sent["open"].clear()
    sent["update"].clear()
    page = FormPage(rt, "device-a")
    assert sum(sent["open"].values()) <= 20, sent["open"]  # was 37
    assert not sent["update"], sent["update"]  # every widget made with its final value (was 9 updates)
    assert page.form.code_inputs["mother"] is page.form.cards["mother"]  # a code field is one widget
    assert "Vornamens Ihrer Mutter" in page.form.code_inputs["mother"].description


def test_a_choice_question_is_one_widget_with_its_question_as_label(store):
    view = ParticipantForm(FormState(store, "competence_reflection", "t0", authority="BVA"))
    view.show_page(1)
    item = view.state.instrument.dimensions[0].items[0]
    assert view.cards[item.id] is view.inputs[item.id]
    assert item.text.get("de")[:30] in view.inputs[item.id].description
    assert "upo-item-" + item.id in view.inputs[item.id]._dom_classes


def test_an_answer_counts_what_is_open_without_writing_every_message(store, monkeypatch):
    view = ParticipantForm(FormState(store, "competence_reflection", "t0", authority="BVA"))
    view.show_page(1)
    full = []
    monkeypatch.setattr(view.state, "problems", lambda: full.append(1) or [])
    item = view.state.instrument.dimensions[0].items[0]
    before = view.status.value
    view.inputs[item.id].value = 2.0
    assert not full  # the full check (with a localised message per open question) waits for the next page or the submission
    assert view.status.value != before and f"data-open='{view.state.open_count()}'" in view.status.value


def test_open_count_matches_the_full_check(store):
    state = FormState(store, "competence_reflection", "t0", authority="BVA")
    assert state.open_count() == len(state.problems())
    state.set_code({"mother": "Ma", "birthday": "45", "birthplace": "K", "street": "H" * 40})
    for item in state.simple_items[:7]:
        state.set_answer(item.id, None if item.type == "text" else 2)
    assert state.open_count() == len(state.problems())
    stake = FormState(store, "stakeholder_analysis", "t0", authority="BVA")
    stake.include_stakeholder(stake.catalogue[0])
    assert stake.open_count() == len(stake.problems())


def test_a_marked_question_is_unmarked_by_its_answer(store):
    view = ParticipantForm(FormState(store, "reality_check", "t0", authority="BVA"))
    view.show_page(1)
    assert not view.submit().ok
    view.show_page(1)
    assert "upo-missing" in view.cards["go1"]._dom_classes
    view.inputs["go1"].value = 2.0
    assert "upo-missing" not in view.cards["go1"]._dom_classes and "upo-missing" in view.cards["go2"]._dom_classes


def test_page_repr_is_short(store, tmp_path):
    # Solara displays the page through IPython, which builds a text repr of the whole widget tree first
    page = FormPage(_runtime(store, tmp_path), "device-a")
    assert len(repr(page.widget)) < 80


def test_pages_share_the_authority_list(store, tmp_path, monkeypatch):
    rt = _runtime(store, tmp_path)
    calls = []
    real = type(rt.store).authorities
    monkeypatch.setattr(type(rt.store), "authorities", lambda self, *a, **k: calls.append(1) or real(self, *a, **k))
    for device in ("a", "b", "c"):
        FormPage(rt, device)
    assert len(calls) == 1


def test_widget_echo_is_off_in_the_workshop_app(monkeypatch):
    import ipywidgets.widgets.widget as widget_module

    from toolkit.workshop import app

    monkeypatch.setattr(widget_module, "JUPYTER_WIDGETS_ECHO", True)
    app._one_view_per_page()
    assert widget_module.JUPYTER_WIDGETS_ECHO is False


def test_profile_button_comes_after_the_submission(store):
    view = ParticipantForm(FormState(store, "reality_check", "t0", authority="BVA"))
    assert view.profile_button is None  # not sent with the first page
    view._show_done("ok")
    n = len(view.widget.children)
    assert view.profile_button is not None and tuple(view.widget.children[-2:]) == (view.profile_button, view.profile_html)
    view._show_done("ok")
    assert len(view.widget.children) == n  # once


def test_join_sends_no_empty_message_fields_and_they_come_when_needed(store):
    """Issue 15 (measured): the fields for problems and the result were two empty widgets of every join."""
    view = ParticipantForm(FormState(store, "reality_check", "t0", authority="BVA"))
    classes = [c for child in view.widget.children for c in child._dom_classes]
    assert "upo-submit" in classes and "upo-problems" not in classes and "upo-result" not in classes
    result = view.submit()  # nothing answered: what is missing is shown, in its place above the submit button
    assert not result.ok and "Bitte ergänzen" in view.problems_html.value
    order = [next(iter(child._dom_classes), "") for child in view.widget.children]
    assert order.index("upo-problems") == order.index("upo-submit") - 1 and "upo-result" not in order
    assert view.problems_html is view.problems_html  # made once
