"""The participant form as ipywidgets: a thin view over :class:`FormState`.

Every widget is built from the instrument YAML (item type → widget), so a new
instrument needs no form code. Item types map to widgets like this:

=============================  ==================================================
likert, importance, checklist  toggle buttons with the scale's labels (+ "cannot judge")
level                          slider with the anchor label of the chosen step
rating_grid                    a panel per stakeholder with one button row per role
text                           a text area
=============================  ==================================================

Example
-------
>>> import tempfile, pathlib
>>> from toolkit.store import Store
>>> db = Store.init(pathlib.Path(tempfile.mkdtemp()) / "c.sqlite")
>>> db.add_authority("BVA"); db.add_wave("t0"); _ = db.add_instrument("reality_check")
>>> view = ParticipantForm(FormState(db, "reality_check", "t0", authority="BVA"))
>>> view.submit().ok
False
"""

from __future__ import annotations

import logging
import math
from typing import Any

import ipywidgets as w

from ..i18n import number
from ._style import FORM_CSS, _button_style, _esc, _full, _html, _plain, _text_style, _toggle_style
from ._texts import t
from .form_items import _ItemWidgets
from .form_state import FormState, SubmitResult

__all__ = ["ParticipantForm", "FORM_CSS"]

log = logging.getLogger("toolkit")


class _FormBox(w.VBox):
    """The form's outer box, with a short ``repr``: IPython's display (Solara, a notebook, a log line) writes a text
    repr of the whole widget tree first (every child's every trait); the workshop shows this box as the page."""

    def __repr__(self) -> str:
        return f"<upo form {self.model_id}>"


class ParticipantForm(_ItemWidgets):
    """The form view: build with a :class:`FormState`, show ``.widget``.

    Tests drive it like a participant: set the ``.value`` of the widgets in
    :attr:`inputs` (keyed by item id, or ``(item, stakeholder)``), :attr:`code_inputs`
    and :attr:`authority_input`, then call :meth:`submit` (what the button does).
    """

    def __init__(self, state: FormState, *, on_change: Any = None, page: int = 0) -> None:
        self.state = state
        self.page_index = page  # the page shown first (a restored draft: where the participant was)
        #: called after every change of the answers, page or language (the workshop server keeps the draft)
        self.on_change = on_change
        self.widget: w.VBox | None = None
        self._build()

    # ------------------------------------------------------------------ building
    def _build(self) -> None:
        """Build the form around its shown page.

        Every widget gets its final value when it is created, so joining sends each widget once
        (a value set afterwards is one more message each); what only a submitted form needs
        (the own-profile button) is made when it is first needed.
        """
        s, lang = self.state, self.state.lang
        self.inputs: dict[Any, w.Widget] = {}
        self.cards: dict[Any, w.Widget] = {}
        self._syncing = False
        inst = s.instrument
        header = f"{FORM_CSS}<h2 style='margin:0.2em 0'>{_esc(inst.title.get(lang))}</h2>"
        if inst.description:
            header += f"<p>{_esc(inst.description.get(lang))}</p>"
        if s.kiosk:
            header += f"<p class='upo-help'>{_esc(t('kiosk_badge', lang))}</p>"
        # the full-width layout (.upo-choice is full width anyway): no layout model of its own at a join
        self.lang_input = w.ToggleButtons(options=[("Deutsch", "de"), ("English", "en")], value=lang, layout=_full(), style=_toggle_style(), _dom_classes=("upo-choice",))
        self.lang_input.observe(self._on_lang, names="value")
        # one page per dimension, built when first shown: a phone gets few widgets at a time
        self._dims = list(inst.dimensions)
        self._page_cache: dict[int, list[w.Widget]] = {}
        index = max(0, min(int(self.page_index), self.n_pages - 1))
        self.page_index = index
        self.progress = _html(self._progress_html(index), "upo-progress")
        self.page_box = w.VBox(self._page(index), layout=_full(), _dom_classes=("upo-section",))  # holds the shown page's widgets
        half = _full()  # side by side at 48 % each: the style sheet's .upo-nav rule (a layout model less per join)
        self.prev_button = w.Button(description=t("back", lang), icon="arrow-left", disabled=index == 0, layout=half, style=_button_style(), _dom_classes=("upo-prev",))
        self.next_button = w.Button(description=t("next", lang), icon="arrow-right", button_style="info", layout=half, style=_button_style(),
                                    _dom_classes=("upo-next",) + (("upo-hidden",) if index == self.n_pages - 1 else ()))  # hidden on the last page
        self.prev_button.on_click(lambda _b: self.show_page(self.page_index - 1, scroll=True))
        self.next_button.on_click(lambda _b: self.show_page(self.page_index + 1, scroll=True))
        nav = w.HBox([self.prev_button, self.next_button], layout=_full(), _dom_classes=("upo-nav",))
        self.status = _html(self._status_html(s.open_count()), "upo-status")
        self.submit_button = w.Button(description=t("submit", lang), button_style="primary", layout=_full(), style=_button_style(), _dom_classes=("upo-submit",))
        self.submit_button.on_click(lambda _b: self.submit())
        # the fields for problems and the result are made when they first have something to say
        # (two widgets fewer per join: a room's joins are the server's busiest moment)
        self._problems: w.HTML | None = None
        self._result: w.HTML | None = None
        self.profile_button: w.Button | None = None  # made after a submission (_offer_profile)
        self.profile_html: w.HTML | None = None
        self._head = [_html(header), self.lang_input, self.progress, self.page_box, nav, self.status]
        classes = ("upo-form", f"upo-lang-{lang}")
        if self.widget is None:
            self.widget = _FormBox(self._parts(), layout=_full(), _dom_classes=classes)
        else:  # a new language or a cleared kiosk form: the same outer box, new contents
            self.widget.children = self._parts()
            self.widget._dom_classes = classes
        self._changed()

    def _parts(self) -> list[w.Widget]:
        """The outer box's children, in their order (the fields made so far)."""
        parts = [*self._head, self._problems, self.submit_button, self._result, self.profile_button, self.profile_html]
        return [p for p in parts if p is not None]

    def _message_field(self, name: str, cls: str) -> w.HTML:
        field = getattr(self, name)
        if field is None:
            field = _html("", cls)
            setattr(self, name, field)
            if self.widget is not None:
                self.widget.children = self._parts()
        return field

    @property
    def problems_html(self) -> w.HTML:
        """What is missing (after a failed submission); made on first use."""
        return self._message_field("_problems", "upo-problems")

    @property
    def result_html(self) -> w.HTML:
        """The thanks after a submission, or that a draft was restored; made on first use."""
        return self._message_field("_result", "upo-result")

    def _clear_problems(self) -> None:
        if self._problems is not None and self._problems.value:
            self._problems.value = ""

    def _progress_html(self, index: int, scroll: int = 0) -> str:
        lang = self.state.lang
        title = t("code_title", lang) if index == 0 else self._dims[index - 1].title.get(lang)
        bar = int(100 * (index + 1) / self.n_pages)
        html = (
            f"<div class='upo-help' data-page='{index}'>{_esc(t('page_of', lang, i=index + 1, n=self.n_pages))}: <b>{_esc(title)}</b></div>"
            f"<div style='background:#e3e8ee;height:6px;border-radius:3px'><div style='background:#1f5fa8;width:{bar}%;height:6px;border-radius:3px'></div></div>"
        )
        if scroll:  # the browser scrolls to the new page's start (a 1-pixel image's onload runs it)
            html += (
                f"<img alt='' data-n='{scroll}' style='display:none' src='data:image/gif;base64,R0lGODlhAQABAAAAACH5BAEKAAEALAAAAAABAAEAAAICTAEAOw==' "
                "onload=\"var p=document.querySelector('.upo-progress'); if (p) p.scrollIntoView({block: 'start'});\">"
            )
        return html

    def _status_html(self, n: int) -> str:
        lang = self.state.lang
        if n == 0:
            return f"<p data-open='0'>{_esc(t('all_done', lang))}</p>"
        return f"<p data-open='{n}'><b>{_esc(t('open_count_one', lang) if n == 1 else t('open_count', lang, n=n))}</b></p>"

    # ------------------------------------------------------------------ pages
    @property
    def n_pages(self) -> int:
        return 1 + len(self._dims)

    def _page(self, index: int) -> list[w.Widget]:
        """The widgets of page ``index`` (built when first shown, then kept)."""
        if index not in self._page_cache:
            if index == 0:
                box = self._first_page()
            else:
                dim, lang = self._dims[index - 1], self.state.lang
                simple = [i for i in dim.items if not i.item_type.per_stakeholder]
                head = f"<h3 style='margin:0.4em 0 0.1em'>{_esc(dim.title.get(lang))}</h3>"
                if dim.description:
                    head += f"<p class='upo-help'>{_esc(dim.description.get(lang))}</p>"
                box = [_html(head)]
                box += [self._item_card(item) for item in simple]
                if any(i.item_type.per_stakeholder for i in dim.items):
                    box.append(self._stakeholder_section())
            self._page_cache[index] = box
        return self._page_cache[index]

    def build_all(self) -> None:
        """Build every page (tests set all widgets; the browser builds pages as they are shown)."""
        for index in range(self.n_pages):
            self._page(index)
        self._refresh_status()

    def show_page(self, index: int, *, scroll: bool = False) -> None:
        """Show page ``index`` (0: authority and code; then one page per dimension); ``scroll``: to its top."""
        index = max(0, min(int(index), self.n_pages - 1))
        if scroll:
            self._scroll_count = getattr(self, "_scroll_count", 0) + 1
        self.page_index = index
        self.page_box.children = self._page(index)
        self.progress.value = self._progress_html(index, self._scroll_count if scroll else 0)
        self.prev_button.disabled = index == 0
        if index == self.n_pages - 1:
            self.next_button.add_class("upo-hidden")
        else:
            self.next_button.remove_class("upo-hidden")
        self._refresh_status()

    def page_of(self, problem: Any) -> int:
        """The page holding a problem's question."""
        if problem.section in ("authority", "code"):
            return 0
        for pos, dim in enumerate(self._dims, start=1):
            if problem.section == "stakeholder" and any(i.item_type.per_stakeholder for i in dim.items):
                return pos
            if any(i.id == problem.key for i in dim.items):
                return pos
        return 0

    def _first_page(self) -> list[w.Widget]:
        """Page 1: the authority (a line when fixed, else a picker) and the code fields."""
        s, lang = self.state, self.state.lang
        head = f"<h3 style='margin:0.4em 0 0.1em'>{_esc(t('code_title', lang))}</h3><p class='upo-help'>{_esc(s.code_explanation())}</p>"
        rows: list[w.Widget] = []
        if s.fixed_authority is not None:
            label = dict((c, lbl) for lbl, c in s.authority_options()).get(s.fixed_authority, s.fixed_authority)
            self.authority_input = None
            head = f"<p><b>{_esc(t('authority', lang))}:</b> {_esc(label)}</p>" + head
        else:
            self.authority_input = w.Dropdown(options=[(t("authority_pick", lang), None)] + s.authority_options(), value=s.authority, layout=_full())
            self.authority_input.observe(self._on_authority, names="value")
            card = w.VBox([_html(f"<b>{_esc(t('authority', lang))}</b>"), self.authority_input], layout=_plain(), _dom_classes=("upo-card",))
            self.cards["authority"] = card
            rows.append(card)
        rows.append(_html(head))
        self.code_inputs: dict[str, w.Text] = {}
        for eid, prompt, placeholder in s.code_elements():
            # one widget per element: the prompt is the field's own label, shown above it (upo-q)
            box = w.Text(value=s.code.get(eid, ""), placeholder=placeholder, description=prompt, layout=_full(), style=_text_style(), continuous_update=True,
                         _dom_classes=("upo-card", "upo-q", f"upo-code-{eid}"))
            box.observe(lambda ch, eid=eid: self._on_code(eid, ch["new"]), names="value")
            self.code_inputs[eid] = self.cards[eid] = box
            rows.append(box)
        return rows

    def _on_lang(self, change: dict) -> None:
        self.state.set_language(change["new"])
        shown = self.state.last_result
        self._build()
        # the messages already on screen are shown again in the new language
        if shown is not None and shown.ok:
            self._show_done(self._done_message())
        elif shown is not None and shown.problems and self.state.problems():
            self._show_problems(tuple(self.state.problems()))

    def _changed(self) -> None:
        if self.on_change is not None:
            try:
                self.on_change(self)
            except Exception:  # a failing draft save must not break the form
                log.exception("form change hook failed")

    def _on_authority(self, change: dict) -> None:
        self.state.set_authority(change["new"])
        self._answered("authority")

    def _on_code(self, eid: str, value: str) -> None:
        self.state.set_code({eid: value})
        self._answered(eid)

    def _on_answer(self, item_id: str, value: Any) -> None:
        if self._syncing:
            return
        self.state.set_answer(item_id, value)
        self._answered(item_id)

    def _answered(self, key: Any) -> None:
        """After one answer: the open counter (counted, no messages written) and nothing else, unless that question was marked as missing."""
        card = self.cards.get(key)
        if card is not None and "upo-missing" in card._dom_classes:
            self._refresh_status()  # after a failed submission: the marks follow every answer
            return
        n = self.state.open_count()
        self.status.value = self._status_html(n)
        if n == 0:
            self._clear_problems()
        self._changed()

    def _refresh_status(self, mark: bool = False) -> None:
        """The full check (a page change, a submission, a stakeholder change): counter and the marks of missing questions."""
        probs = self.state.problems()
        n = len(probs)
        self.status.value = self._status_html(n)
        open_keys = {p.key if p.stakeholder is None else (p.key, p.stakeholder) for p in probs}
        for key, card in self.cards.items():
            if key in open_keys and (mark or "upo-missing" in card._dom_classes):
                card.add_class("upo-missing")
            else:
                card.remove_class("upo-missing")
        if n == 0:
            self._clear_problems()
        self._changed()

    # ------------------------------------------------------------------ actions
    def _pristine(self) -> bool:
        """Nothing entered since the form was (re)started: no code, no answer, no rating."""
        return not any(v.strip() for v in self.state.code.values()) and not self.state.answers and not self.state.ratings

    def _done_message(self) -> str:
        lang = self.state.lang
        return t("thanks_kiosk", lang) if self.state.kiosk else t("thanks", lang) + " " + t("thanks_correct", lang)

    def _show_done(self, message: str) -> None:
        self._clear_problems()
        self.result_html.value = f"<div class='upo-ok' role='status'>✓ {_esc(message)}</div>"
        if any(d.scored_items for d in self.state.instrument.dimensions) and not self.state.kiosk:
            self._offer_profile()

    def _offer_profile(self) -> None:
        """The own-profile button and its field, below the form (made after the first submission)."""
        if self.profile_button is not None or self.widget is None:
            return
        self.profile_button = w.Button(description=t("show_profile", self.state.lang), layout=_full(), style=_button_style(), _dom_classes=("upo-profile",))
        self.profile_button.on_click(lambda _b: self.show_profile())
        self.profile_html = _html("")
        self.widget.children = self._parts()

    def _show_problems(self, problems: tuple) -> None:
        lang = self.state.lang
        lines = "".join(f"<li>{_esc(p.message)}</li>" for p in problems[:12])
        more = f"<li>{_esc(t('more', lang, n=len(problems) - 12))}</li>" if len(problems) > 12 else ""
        self.problems_html.value = f"<p><b>{_esc(t('problems_title', lang))}</b></p><ul>{lines}{more}</ul>"

    def submit(self) -> SubmitResult:
        """What the submit button does: validate, store, confirm (and clear in kiosk mode)."""
        lang = self.state.lang
        last = self.state.last_result
        if self.state.kiosk and last is not None and last.ok and self._pristine():
            # a second click on a just-cleared kiosk form (double click): still "thank you", not "please complete"
            self._show_done(last.message)
            return last
        self.submit_button.disabled = True
        self.submit_button.description = t("submitting", lang)
        try:
            result = self.state.submit()
        finally:
            self.submit_button.disabled = False
            self.submit_button.description = t("submit", lang)
        if not result.ok:
            if result.problems:
                self._show_problems(result.problems)
            else:
                self.problems_html.value = f"<p><b>{_esc(result.message)}</b></p>"
            if self._result is not None:
                self._result.value = ""
            if result.problems:
                self.show_page(self.page_of(result.problems[0]), scroll=True)
            self._refresh_status(mark=True)
            return result
        if self.state.kiosk:
            self.page_index = 0
            self._build()
        self._show_done(result.message)
        self._refresh_status()
        return result

    def show_profile(self) -> str:
        """Show the participant's own profile next to the group (group only at ≥ k); returns the HTML."""
        lang = self.state.lang
        self._offer_profile()
        prof = self.state.own_profile()
        if prof.empty:
            self.profile_html.value = f"<p>{_esc(t('no_profile', lang))}</p>"
            return self.profile_html.value
        inst = self.state.instrument
        scored = [d for d in inst.dimensions if d.scored_items]
        lo = min(inst.scales[d.scored_items[0].scale].min for d in scored)  # type: ignore[index]
        hi = max(inst.scales[d.scored_items[0].scale].max for d in scored)  # type: ignore[index]
        rows = []
        for rec in prof.itertuples(index=False):
            def bar(v: float, colour: str) -> str:
                if v is None or (isinstance(v, float) and math.isnan(v)):
                    return "<span class='upo-help'>–</span>"
                pct = 100 * (v - lo) / (hi - lo) if hi > lo else 0
                return f"<span class='upo-bar' style='width:{max(pct, 2):.0f}%;background:{colour}'></span> {number(v, 1, lang)}"
            rows.append(
                f"<tr><td style='padding:4px 6px'>{_esc(rec.label)}</td><td style='width:35%'>{bar(rec.own, '#1f5fa8')}</td>"
                f"<td style='width:35%'>{bar(rec.group, '#e08214')}</td></tr>"
            )
        n_max = int(prof["n"].max())
        from ..privacy import resolve_k

        k = resolve_k(self.state.store)
        note = "" if not prof["suppressed"].all() else f"<p class='upo-help'>{_esc(t('group_too_small', lang, n=n_max, k=k))}</p>"
        table = (
            f"<table style='width:100%;border-collapse:collapse'><tr><th></th><th style='text-align:left'>{_esc(t('profile_own', lang))}</th>"
            f"<th style='text-align:left'>{_esc(t('profile_group', lang))}</th></tr>{''.join(rows)}</table>"
        )
        self.profile_html.value = note + table
        return self.profile_html.value
