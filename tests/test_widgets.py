"""Workshop widgets without a browser: form state, form view, dashboard state and view."""

from __future__ import annotations

import math
import time

import numpy as np
import pandas as pd
import pytest

from toolkit.exceptions import DataError
from toolkit.scoring import dimension_scores
from toolkit.widgets import Dashboard, DashboardState, FormState, ParticipantForm, Poller, session_params
from toolkit.widgets.dashboard import render_table

CODE = {"mother": "Ma", "birthday": "07", "birthplace": "K", "street": "Ha"}


def _code(i: int) -> dict[str, str]:
    return {"mother": "M" + "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[i % 26], "birthday": str(i % 28 + 1), "birthplace": "K", "street": "H" + "abcdefghij"[i // 26]}


def fill(form: FormState, rng: np.random.Generator, *, missing_share: float = 0.0) -> dict:
    """Answer every required item with random valid values; returns what was set."""
    inst = form.instrument
    given = {}
    for item in form.simple_items:
        if item.type == "text":
            continue
        scale = inst.scales[item.scale]
        value = float(scale.missing[0]) if scale.missing and rng.random() < missing_share else float(rng.choice(scale.points))
        form.set_answer(item.id, value)
        given[item.id] = value
    for key, _, _ in form.stakeholders():
        for item in form.rating_items:
            value = float(rng.choice(inst.scales[item.scale].points))
            form.set_answer(item.id, value, stakeholder=key)
            given[(item.id, key)] = value
    return given


def submit_n(store, instrument: str, n: int, rng, *, wave: str = "t0", start: int = 0) -> None:
    for i in range(start, start + n):
        form = FormState(store, instrument, wave, authority="BVA")
        form.set_code(_code(i))
        fill(form, rng)
        assert form.submit().ok


# --------------------------------------------------------------------------- form state
def test_new_form_lists_every_missing_piece(store):
    form = FormState(store, "reality_check", "t0")
    probs = form.problems()
    sections = pd.Series([p.section for p in probs]).value_counts()
    n_required = sum(1 for i in form.instrument.items if i.is_required)
    assert sections["authority"] == 1
    assert sections["code"] == 4
    assert sections["item"] == n_required
    assert form.problems()[0].message == "Ihre Behörde"  # German by default
    result = form.submit()
    assert not result.ok and "Bitte ergänzen" in result.message
    assert store.count_submissions() == 0


def test_submit_stores_exactly_the_answers(store, rng):
    form = FormState(store, "competence_reflection", "t0", authority="BVA")
    form.set_code(CODE)
    given = fill(form, rng, missing_share=0.2)
    form.set_answer("rf_next", "Agile Methoden üben")
    assert form.problems() == []
    result = form.submit()
    assert result.ok and result.submission_id is not None
    resp = store.responses("competence_reflection", wave="t0")
    stored = dict(zip(resp["item"], resp["value"]))
    assert stored == given  # including the "cannot judge" codes
    texts = store.texts("competence_reflection")
    assert list(texts["text"]) == ["Agile Methoden üben"]
    me = store.pseudonym("BVA", tuple(CODE.values()))
    assert set(resp["participant"]) == {me}
    assert set(store.submissions()["source"]) == {"workshop"}


def test_double_click_stores_once_and_correction_is_a_new_submission(store, rng):
    form = FormState(store, "reality_check", "t0", authority="BVA")
    form.set_code(CODE)
    fill(form, rng)
    first = form.submit()
    again = form.submit()  # a second click on the same attempt
    assert again.ok and again.duplicate and again.submission_id == first.submission_id
    assert len(store.submissions()) == 1
    form.set_answer("go1", 0)  # a correction after submitting starts a new attempt
    corrected = form.submit()
    assert corrected.submission_id != first.submission_id
    assert len(store.submissions()) == 2
    latest = store.responses("reality_check").set_index("item")["value"]
    assert latest["go1"] == 0
    assert store.count_submissions("reality_check") == 1  # still one participant


def test_invalid_values_and_codes_are_rejected(store):
    form = FormState(store, "competence_reflection", "t0", authority="BVA")
    with pytest.raises(DataError, match="not on scale"):
        form.set_answer("dt1", 7)
    with pytest.raises(DataError, match="no item"):
        form.set_answer("nope", 1)
    with pytest.raises(DataError, match="fixed"):
        form.set_authority("BAMF")
    form.set_code(CODE | {"birthday": "45"})
    assert any(p.key == "birthday" and "1 bis 31" in p.message for p in form.problems())
    form.set_code(birthday="  ")
    assert any(p.key == "birthday" for p in form.problems())
    with pytest.raises(DataError, match="wave 't9'"):
        FormState(store, "reality_check", "t9")
    with pytest.raises(DataError, match="authority 'XYZ'"):
        FormState(store, "reality_check", "t0", authority="XYZ")


def test_optional_text_is_not_required_and_english_messages(store, rng):
    form = FormState(store, "competence_reflection", "t0", authority="BVA", lang="en")
    form.set_code(CODE)
    fill(form, rng)
    assert form.problems() == []  # rf_next / rf_support are optional
    form.set_answer("dt1", None)
    (prob,) = form.problems()
    assert prob.key == "dt1" and prob.message.startswith("Question 1:")


def test_kiosk_mode_resets_after_each_submission(store, rng):
    form = FormState(store, "reality_check", "t0", authority="BVA", kiosk=True)
    for i in range(3):
        form.set_code(_code(i))
        fill(form, rng)
        token = form.token
        assert form.submit().ok
        assert form.answers == {} and form.code == {} and form.token != token
        assert form.authority == "BVA"
    assert store.count_submissions("reality_check") == 3
    assert form.own_profile().empty  # the next person must not see the last one's profile


def test_picking_the_authority(store, rng):
    store.add_authority("BAMF", name="Bundesamt für Migration und Flüchtlinge", ministry="BMI")
    form = FormState(store, "reality_check", "t0")
    assert [c for _, c in form.authority_options()] == ["BAMF", "BVA"]  # sorted by name
    with pytest.raises(DataError, match="not in the cohort"):
        form.set_authority("XYZ")
    form.set_authority("BAMF")
    form.set_code(CODE)
    fill(form, rng)
    assert form.submit().ok
    assert store.responses("reality_check")["authority"].unique().tolist() == ["BAMF"]


def test_stakeholder_form_include_exclude_and_free_entries(store, rng):
    form = FormState(store, "stakeholder_analysis", "t0", authority="BVA")
    assert form.free_entries == 3 and form.stakeholders() == []  # nothing ticked: 16 groups x 8 ratings would be required
    for key in form.catalogue[:2]:
        form.include_stakeholder(key, True)
    form.set_free_entry(0, "  Externe   Beratung ")
    with pytest.raises(DataError, match="3 free entries"):
        form.set_free_entry(3, "zu viel")
    keys = [k for k, _, _ in form.stakeholders()]
    assert keys == form.catalogue[:2] + ["Externe Beratung"]
    form.set_code(CODE)
    form.set_answer("sh_influence", 5, stakeholder=form.catalogue[5])  # excluded: never stored
    fill(form, rng)
    form.set_answer("sh_attitude", None, stakeholder="Externe Beratung")
    missing = [p for p in form.problems() if p.stakeholder]
    assert [(p.key, p.stakeholder) for p in missing] == [("sh_attitude", "Externe Beratung")]
    assert "Haltung" in missing[0].message
    form.set_answer("sh_attitude", -2, stakeholder="Externe Beratung")
    assert form.submit().ok
    resp = store.responses("stakeholder_analysis")
    assert sorted(resp["stakeholder"].unique()) == sorted(keys)
    assert len(resp) == len(keys) * len(form.rating_items)
    form.set_free_entry(1, "externe beratung")
    assert any("doppelt" in p.message for p in form.problems())


def test_stakeholder_form_needs_at_least_one_group(store):
    form = FormState(store, "stakeholder_analysis", "t0", authority="BVA")
    for key in form.catalogue:
        form.include_stakeholder(key, False)
    assert any(p.section == "stakeholder" and p.key == "" for p in form.problems())


def test_own_profile_shows_group_only_from_k(store, rng):
    submit_n(store, "competence_reflection", 3, rng)
    form = FormState(store, "competence_reflection", "t0", authority="BVA")
    form.set_code(_code(50))
    fill(form, rng)
    assert form.submit().ok
    prof = form.own_profile()
    assert len(prof) == 10 and prof["suppressed"].all() and prof["group"].isna().all()
    assert (prof["n"] == 4).all()
    # own scores equal the scoring module's result for this participant
    scores = dimension_scores(store.responses("competence_reflection", linked=False), form.instrument)
    me = store.pseudonym("BVA", tuple(_code(50).values()))
    mine = scores[scores["participant"] == me].set_index("dimension")["score"]
    assert np.allclose(prof.set_index("dimension")["own"].loc[mine.index], mine, equal_nan=True)
    # at n = k the group value would give the other k - 1 people's mean: still hidden (issue 12, scenario 4)
    submit_n(store, "competence_reflection", 1, rng, start=60)
    prof = form.own_profile()
    assert prof["suppressed"].all() and prof["group"].isna().all()
    # the next released state comes k submissions later; then k others are in it
    submit_n(store, "competence_reflection", 5, rng, start=70)
    prof = form.own_profile()
    assert not prof["suppressed"].any()
    all_scores = dimension_scores(store.responses("competence_reflection", linked=False), form.instrument)
    expected = all_scores.groupby("dimension")["score"].mean()
    assert np.allclose(prof.set_index("dimension")["group"], expected.loc[prof["dimension"]])


# --------------------------------------------------------------------------- form view
def test_view_submits_what_the_widgets_say(store, rng):
    view = ParticipantForm(FormState(store, "competence_reflection", "t0", authority="BVA"))
    view.build_all()
    for eid, value in CODE.items():
        view.code_inputs[eid].value = value
    for item in view.state.simple_items:
        widget = view.inputs[item.id]
        if item.type == "text":
            widget.value = "mehr Zeit"
        elif item.type == "level":
            widget.value = "4"
        else:
            widget.value = widget.options[1][1]
    view.inputs[("dt1_ist" if False else "da_ist", "missing")].value = True  # "cannot judge" for one level item
    view.submit_button.click()
    assert "Vielen Dank" in view.result_html.value
    resp = store.responses("competence_reflection").set_index("item")["value"]
    assert resp["da_ist"] == 0 and resp["dt_ist"] == 4 and resp["dt1"] == 2
    assert view.profile_button.layout.display is None  # profile offered after submitting


def test_view_marks_missing_cards_and_switches_language(store):
    view = ParticipantForm(FormState(store, "reality_check", "t0", authority="BVA"))
    assert view.n_pages == 10 and "go1" not in view.inputs  # pages are built when shown
    view.next_button.click()
    assert view.page_index == 1 and "go1" in view.inputs
    view.inputs["go1"].value = 2.0
    view.show_page(3)
    result = view.submit()
    assert not result.ok
    assert view.page_index == 0  # jumped to the first open question (the code)
    assert "upo-missing" in view.cards["go2"]._dom_classes
    assert "upo-missing" not in view.cards["go1"]._dom_classes
    assert "Noch" in view.status.value
    view.lang_input.value = "en"
    view.show_page(1)
    assert view.state.answers == {"go1": 2.0}
    assert view.inputs["go1"].value == 2.0  # rebuilt widgets keep the answers
    assert "Submit" in view.submit_button.description


def test_view_stakeholder_panels_are_built_when_opened(store, rng):
    view = ParticipantForm(FormState(store, "stakeholder_analysis", "t0", authority="BVA"))
    view.show_page(1)
    assert len(view.accordion.children) == 0  # the form opens with no group ticked
    for key in view.state.catalogue[:3]:
        view.include_inputs[key].value = True
    n = 3
    assert len(view.accordion.children) == n and not any(p.children for p in view.accordion.children)
    view.include_inputs[view.state.catalogue[0]].value = False
    assert len(view.accordion.children) == n - 1
    view.free_inputs[0].value = "Landesbehörden"
    assert len(view.accordion.children) == n
    view.accordion.selected_index = n - 1
    panel = view.accordion.children[-1]
    assert len(panel.children) == len(view.state.rating_items)
    view.inputs[("sh_influence", "Landesbehörden")].value = 4.0
    assert view.state.ratings[("sh_influence", "Landesbehörden")] == 4.0
    assert "7" in view.accordion.titles[-1]  # 7 of 8 roles still open


def test_view_kiosk_clears_widgets(store, rng):
    view = ParticipantForm(FormState(store, "reality_check", "t0", authority="BVA", kiosk=True))
    view.build_all()
    for eid, value in CODE.items():
        view.code_inputs[eid].value = value
    for item in view.state.simple_items:
        view.inputs[item.id].value = 1.0
    assert view.submit().ok
    view.build_all()
    assert view.page_index == 0 and view.code_inputs["mother"].value == "" and view.inputs["go1"].value is None
    assert "nächste Person" in view.result_html.value
    assert store.count_submissions("reality_check") == 1


# --------------------------------------------------------------------------- dashboard
def test_dashboard_hides_everything_below_k(store, rng):
    dash = DashboardState(store, "competence_reflection", "t0", authority="BVA")
    assert dash.k == 5
    submit_n(store, "competence_reflection", 4, rng)
    assert dash.refresh() and dash.n == 4 and not dash.visible
    assert dash.profile.empty and dash.gaps.empty
    assert dash.freeze() is None and store.outcomes().empty
    assert render_table(dash) == ""


def test_dashboard_profile_and_gaps_from_k(store, rng):
    dash = DashboardState(store, "competence_reflection", "t0", authority="BVA")
    submit_n(store, "competence_reflection", 5, rng)
    assert dash.refresh()
    assert not dash.refresh()  # unchanged data: no recompute
    assert dash.visible and dash.n == 5
    resp = store.responses("competence_reflection", wave="t0")
    scores = dimension_scores(resp, dash.instrument)
    expected = scores.groupby("dimension")["score"].mean()
    got = dash.profile.set_index("dimension")["mean"]
    assert list(dash.profile["dimension"]) == [d.id for d in dash.instrument.dimensions if d.scored_items]
    assert np.allclose(got, expected.loc[got.index])
    ist = resp[resp["item"].str.endswith("_ist")].groupby("dimension")["value"].apply(lambda v: v[v > 0].mean())
    gaps = dash.gaps.set_index("dimension")
    assert np.allclose(gaps["ist"], ist.loc[gaps.index])
    oid = dash.freeze()
    out = store.outcomes()
    assert out["id"].tolist() == [oid] and out["kind"].iloc[0] == "workshop:competence_reflection"
    payload = out["payload"].iloc[0]
    assert payload["n"] == 5 and payload["k"] == 5 and len(payload["profile"]) == 10
    assert out["authority"].iloc[0] == "BVA" and out["wave"].iloc[0] == "t0"


def test_dashboard_stakeholders_hides_small_free_entries(store, rng):
    for i in range(5):
        form = FormState(store, "stakeholder_analysis", "t0", authority="BVA")
        form.set_code(_code(i))
        for key in form.catalogue:  # these raters assess every group
            form.include_stakeholder(key)
        if i == 0:
            form.set_free_entry(0, "Herr Müllers Referat")  # one rater's free text
            form.include_stakeholder("vergabe", False)
        fill(form, rng)
        assert form.submit().ok
    dash = DashboardState(store, "stakeholder_analysis", "t0", authority="BVA")
    dash.refresh()
    smap = dash.stakeholders
    assert "Herr Müllers Referat" not in set(smap["stakeholder"]) and dash.hidden_groups == 1
    row = smap.set_index("stakeholder").loc["vergabe"]  # rated by 4 < 5 raters
    assert row["suppressed"] and math.isnan(row["influence"]) and row["strategy"] is None and row["quadrant"] is None
    shown = smap[~smap["suppressed"]]
    assert len(shown) == len(form.catalogue) - 1 and (shown["n_raters"] == 5).all()
    resp = store.responses("stakeholder_analysis")
    med = resp[(resp["item"] == "sh_influence") & (resp["stakeholder"] == "personalrat")]["value"].median()
    assert shown.set_index("stakeholder").loc["personalrat", "influence"] == med
    html = render_table(dash)
    assert "Personalrat" in html and "Herr Müller" not in html and "1 weitere Gruppe hat" in html


def test_poller_sees_a_new_submission_within_two_seconds(store, rng):
    dash = DashboardState(store, "reality_check", "t0", authority="BVA")
    seen: list[float] = []
    poller = Poller(dash, interval=0.2, on_change=lambda s: seen.append(time.monotonic())).start()
    try:
        deadline = time.monotonic() + 5
        while not seen and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(seen) == 1  # the first refresh
        submit_n(store, "reality_check", 1, rng)
        t_submit = time.monotonic()
        while len(seen) < 2 and time.monotonic() < t_submit + 5:
            time.sleep(0.05)
        assert len(seen) == 2 and dash.n == 1
        assert seen[1] - t_submit < 2.0
        poller.pause()
        submit_n(store, "reality_check", 1, rng, start=1)
        time.sleep(0.6)
        assert len(seen) == 2 and dash.n == 1  # paused: no refresh
        poller.resume()
        deadline = time.monotonic() + 5
        while len(seen) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert dash.n == 2
    finally:
        poller.stop()
    assert poller.errors == 0


def test_dashboard_view_renders_count_figure_and_freezes(store, rng):
    submit_n(store, "reality_check", 5, rng)
    view = Dashboard(DashboardState(store, "reality_check", "t0", authority="BVA"), autostart=False)
    view.render()
    assert "data-n='5'" in view.count_html.value and "data-visible='1'" in view.count_html.value
    assert view.image.value[:4] == b"\x89PNG"
    assert "Ziele und Umfang" in view.table_html.value
    oid = view.freeze()
    assert oid is not None and f"Nr. {oid}" in view.message_html.value
    view.close()


def test_session_params_from_environment():
    env = {"UPO_DB": "/x/c.sqlite", "UPO_INSTRUMENT": "reality_check", "UPO_WAVE": "t1", "UPO_AUTHORITY": "", "UPO_KIOSK": "1"}
    p = session_params(env)
    assert p == {"db": "/x/c.sqlite", "instrument": "reality_check", "wave": "t1", "authority": None, "kiosk": True, "lang": "de"}
    assert session_params(env, wave="t2", kiosk=False)["wave"] == "t2"
    with pytest.raises(DataError, match="UPO_WAVE"):
        session_params({"UPO_DB": "c", "UPO_INSTRUMENT": "i"})


def test_dashboard_numbers_follow_the_language(store, rng):
    """Finding (#15): the English view showed decimal commas; numbers are formatted per language."""
    import re

    submit_n(store, "competence_reflection", 5, rng)
    de = DashboardState(store, "competence_reflection", "t0", authority="BVA")
    en = DashboardState(store, "competence_reflection", "t0", authority="BVA", lang="en")
    assert de.refresh() and en.refresh()
    html_de, html_en = render_table(de), render_table(en)
    assert re.search(r"<td>\d,\d</td>", html_de) and not re.search(r"<td>\d\.\d</td>", html_de)
    assert re.search(r"<td>\d\.\d</td>", html_en) and not re.search(r"<td>\d,\d</td>", html_en)


def test_widget_texts_live_in_the_one_catalogue():
    """The form's, presenter's and dashboard's texts are ``ui.*`` keys of toolkit/i18n.py, in both languages."""
    import inspect

    from toolkit import i18n
    from toolkit.widgets import _texts

    ui = {k for k in i18n.DE if k.startswith("ui.")}
    assert len(ui) > 100 and ui == {k for k in i18n.EN if k.startswith("ui.")}
    assert _texts.t("submit") == i18n.DE["ui.submit"] and _texts.t("submit", "en") == i18n.EN["ui.submit"]
    assert "_TEXTS" not in inspect.getsource(_texts)  # no second table
    assert i18n.number(2.25, 2, "en") == "2.25" and i18n.number(2.25, 2) == "2,25"


def test_live_count_does_not_wait_for_the_result_recompute(store, rng):
    """Finding (#15 bench): the presenter's count appeared only after the whole result was recomputed
    (≈ 0.4 s per refresh for 60 submissions, seconds while they arrive); the count has its own loop now."""
    import threading

    submit_n(store, "competence_reflection", 5, rng)
    state = DashboardState(store, "competence_reflection", "t0", authority="BVA")
    release = threading.Event()
    computing = threading.Event()
    real = state._compute

    def slow() -> None:
        computing.set()
        release.wait(30)
        real()

    state._compute = slow  # type: ignore[method-assign]
    dash = Dashboard(state, interval=0.05)
    try:
        assert computing.wait(30)  # the first result is being computed and does not finish
        submit_n(store, "competence_reflection", 1, rng, start=5)
        deadline = time.monotonic() + 30
        while "data-n='6'" not in dash.count_html.value and time.monotonic() < deadline:
            time.sleep(0.02)
        assert "data-n='6'" in dash.count_html.value and not release.is_set()
    finally:
        release.set()
        dash.close()
