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

import functools
import html
import logging
import math
from typing import Any

import ipywidgets as w

from ..instruments import Item
from ._texts import t
from .form_state import FormState, SubmitResult, role_label

__all__ = ["ParticipantForm", "FORM_CSS"]

log = logging.getLogger("toolkit")

FORM_CSS = """
<style>
.upo-form { max-width: 760px; margin: 0 auto; font-size: 16px; line-height: 1.4; }
.upo-form .widget-html-content, .upo-form .widget-html { font-size: 16px; line-height: 1.45; }
.upo-card { border: 1px solid #d0d7de; border-radius: 8px; padding: 10px 12px; margin: 6px 0; background: #fff; }
.upo-card.upo-missing { border: 2px solid #b35806; background: #fff7ec; }
.upo-section { margin-top: 18px; }
.upo-choice { display: flex !important; flex-wrap: wrap; gap: 6px; width: 100% !important; }
.upo-choice .widget-toggle-button { width: auto !important; flex: 1 1 auto; min-width: 3.2em; height: auto !important;
  min-height: 36px; white-space: normal; padding: 6px 10px; font-size: 15px; line-height: 1.2; border-radius: 6px; }
.upo-choice .widget-toggle-button.mod-active { background: #1f5fa8 !important; color: #fff !important; }
.upo-missing-opt .widget-toggle-button:last-child { font-style: italic; }
.upo-form .widget-text input, .upo-form textarea { font-size: 16px !important; }
.upo-form .widget-text, .upo-form .widget-textarea { width: 100% !important; }
.upo-submit { height: 48px !important; font-size: 17px !important; width: 100% !important; border-radius: 8px; }
.upo-status { color: #444; }
.upo-problems { color: #8a3b00; }
.upo-ok { background: #e8f5e9; border-left: 4px solid #1b7f3b; padding: 10px 12px; border-radius: 4px; font-size: 17px; }
.upo-help { color: #555; font-size: 14px; }
.upo-anchor { color: #1f5fa8; font-weight: 600; min-height: 1.4em; }
.upo-form .widget-slider { width: 100% !important; }
.upo-form .widget-selection-slider .widget-readout { min-width: 2em; }
.upo-bar { height: 12px; border-radius: 3px; display: inline-block; vertical-align: middle; }
@media (max-width: 520px) {
  .upo-form { font-size: 15px; }
  .upo-card { padding: 8px; }
  .upo-choice .widget-toggle-button { flex: 1 1 40%; }
}
</style>
"""


@functools.lru_cache(maxsize=None)
def _full() -> w.Layout:
    """One shared 100 %-width layout: fewer widget models to send to the browser."""
    return w.Layout(width="100%")


@functools.lru_cache(maxsize=None)
def _html_style() -> Any:
    from ipywidgets.widgets.widget_string import HTMLStyle

    return HTMLStyle()


@functools.lru_cache(maxsize=None)
def _toggle_style() -> Any:
    from ipywidgets.widgets.widget_selection import ToggleButtonsStyle

    return ToggleButtonsStyle()


def _html(text: str, cls: str | None = None) -> w.HTML:
    widget = w.HTML(text, layout=_full(), style=_html_style())
    if cls:
        widget.add_class(cls)
    return widget


def _esc(text: str) -> str:
    return html.escape(text, quote=False)


class ParticipantForm:
    """The form view: build with a :class:`FormState`, show ``.widget``.

    Tests drive it like a participant: set the ``.value`` of the widgets in
    :attr:`inputs` (keyed by item id, or ``(item, stakeholder)``), :attr:`code_inputs`
    and :attr:`authority_input`, then call :meth:`submit` (what the button does).
    """

    def __init__(self, state: FormState) -> None:
        self.state = state
        self.widget = w.VBox(layout=_full())
        self.widget.add_class("upo-form")
        self._build()

    # ------------------------------------------------------------------ building
    def _build(self) -> None:
        s, lang = self.state, self.state.lang
        self.inputs: dict[Any, w.Widget] = {}
        self.cards: dict[Any, w.Widget] = {}
        self._syncing = False
        inst = s.instrument
        header = f"<h2 style='margin:0.2em 0'>{_esc(inst.title.get(lang))}</h2>"
        if inst.description:
            header += f"<p>{_esc(inst.description.get(lang))}</p>"
        self.lang_input = w.ToggleButtons(options=[("Deutsch", "de"), ("English", "en")], value=lang)
        self.lang_input.add_class("upo-choice")
        self.lang_input.observe(self._on_lang, names="value")
        parts: list[w.Widget] = [_html(FORM_CSS), self.lang_input, _html(header)]
        if s.kiosk:
            parts.append(_html(f"<p class='upo-help'>{_esc(t('kiosk_badge', lang))}</p>"))
        # one page per dimension, built when first shown: a phone gets few widgets at a time
        self._dims = list(inst.dimensions)
        self._page_cache: dict[int, w.Widget] = {}
        self.progress = _html("", "upo-progress")
        self.page_box = w.VBox(layout=_full())
        self.prev_button = w.Button(description=t("back", lang), icon="arrow-left", layout=w.Layout(width="48%"))
        self.next_button = w.Button(description=t("next", lang), icon="arrow-right", button_style="info", layout=w.Layout(width="48%"))
        self.prev_button.add_class("upo-prev")
        self.next_button.add_class("upo-next")
        self.prev_button.on_click(lambda _b: self.show_page(self.page_index - 1))
        self.next_button.on_click(lambda _b: self.show_page(self.page_index + 1))
        nav = w.HBox([self.prev_button, self.next_button], layout=w.Layout(width="100%", justify_content="space-between"))
        self.status = _html("", "upo-status")
        self.problems_html = _html("", "upo-problems")
        self.submit_button = w.Button(description=t("submit", lang), button_style="primary", layout=_full())
        self.submit_button.add_class("upo-submit")
        self.submit_button.on_click(lambda _b: self.submit())
        self.result_html = _html("", "upo-result")
        self.profile_button = w.Button(description=t("show_profile", lang), layout=w.Layout(width="100%", display="none"))
        self.profile_button.on_click(lambda _b: self.show_profile())
        self.profile_html = _html("")
        parts += [self.progress, self.page_box, nav, self.status, self.problems_html, self.submit_button, self.result_html, self.profile_button, self.profile_html]
        self.widget.children = parts
        self.show_page(getattr(self, "page_index", 0))

    # ------------------------------------------------------------------ pages
    @property
    def n_pages(self) -> int:
        return 1 + len(self._dims)

    def _page(self, index: int) -> w.Widget:
        if index not in self._page_cache:
            if index == 0:
                box = [self._authority_section(), self._code_section()]
            else:
                dim, lang = self._dims[index - 1], self.state.lang
                simple = [i for i in dim.items if not i.item_type.per_stakeholder]
                box = [_html(f"<h3 style='margin:0.4em 0 0.1em'>{_esc(dim.title.get(lang))}</h3>")]
                if dim.description:
                    box.append(_html(f"<p class='upo-help'>{_esc(dim.description.get(lang))}</p>"))
                box += [self._item_card(item) for item in simple]
                if any(i.item_type.per_stakeholder for i in dim.items):
                    box.append(self._stakeholder_section())
            page = w.VBox(box, layout=_full())
            page.add_class("upo-section")
            self._page_cache[index] = page
        return self._page_cache[index]

    def build_all(self) -> None:
        """Build every page (tests set all widgets; the browser builds pages as they are shown)."""
        for index in range(self.n_pages):
            self._page(index)
        self._refresh_status()

    def show_page(self, index: int) -> None:
        """Show page ``index`` (0: authority and code; then one page per dimension)."""
        index = max(0, min(int(index), self.n_pages - 1))
        self.page_index = index
        self.page_box.children = [self._page(index)]
        lang = self.state.lang
        title = t("code_title", lang) if index == 0 else self._dims[index - 1].title.get(lang)
        bar = int(100 * (index + 1) / self.n_pages)
        self.progress.value = (
            f"<div class='upo-help' data-page='{index}'>{_esc(t('page_of', lang, i=index + 1, n=self.n_pages))}: <b>{_esc(title)}</b></div>"
            f"<div style='background:#e3e8ee;height:6px;border-radius:3px'><div style='background:#1f5fa8;width:{bar}%;height:6px;border-radius:3px'></div></div>"
        )
        self.prev_button.disabled = index == 0
        self.next_button.layout.visibility = "hidden" if index == self.n_pages - 1 else "visible"
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

    def _authority_section(self) -> w.Widget:
        s, lang = self.state, self.state.lang
        if s.fixed_authority is not None:
            label = dict((c, lbl) for lbl, c in s.authority_options()).get(s.fixed_authority, s.fixed_authority)
            self.authority_input = None
            return _html(f"<p><b>{_esc(t('authority', lang))}:</b> {_esc(label)}</p>")
        self.authority_input = w.Dropdown(options=[(t("authority_pick", lang), None)] + s.authority_options(), value=s.authority, layout=_full())
        self.authority_input.observe(self._on_authority, names="value")
        card = w.VBox([_html(f"<b>{_esc(t('authority', lang))}</b>"), self.authority_input])
        card.add_class("upo-card")
        self.cards["authority"] = card
        return card

    def _code_section(self) -> w.Widget:
        s, lang = self.state, self.state.lang
        self.code_inputs: dict[str, w.Text] = {}
        rows: list[w.Widget] = [_html(f"<h3 style='margin:0.4em 0 0.1em'>{_esc(t('code_title', lang))}</h3><p class='upo-help'>{_esc(s.code_explanation())}</p>")]
        for eid, prompt, placeholder in s.code_elements():
            box = w.Text(value=s.code.get(eid, ""), placeholder=placeholder, layout=_full(), continuous_update=True)
            box.observe(lambda ch, eid=eid: self._on_code(eid, ch["new"]), names="value")
            self.code_inputs[eid] = box
            card = w.VBox([_html(_esc(prompt)), box])
            card.add_class("upo-card")
            card.add_class(f"upo-code-{eid}")
            self.cards[eid] = card
            rows.append(card)
        return w.VBox(rows)

    def _choice(self, item: Item, value: Any) -> w.ToggleButtons:
        lang = self.state.lang
        scale = self.state.instrument.scales[item.scale]  # type: ignore[index]
        labels = scale.labels.en if lang == "en" else scale.labels.de
        options = [(lbl, float(p)) for lbl, p in zip(labels, scale.points)]
        options += [(scale.missing_label.get(lang) if scale.missing_label else "?", float(m)) for m in scale.missing]
        widget = w.ToggleButtons(options=options, value=value, layout=_full(), style=_toggle_style())
        widget.add_class("upo-choice")
        if scale.missing:
            widget.add_class("upo-missing-opt")
        return widget

    def _item_card(self, item: Item) -> w.Widget:
        s, lang = self.state, self.state.lang
        required = "" if item.is_required else f" <span class='upo-help'>({_esc(t('optional', lang))})</span>"
        head = f"<b>{s.number[item.id]}.</b> {_esc(item.text.get(lang))}{required}"
        if item.help:
            head += f"<div class='upo-help'>{_esc(item.help.get(lang))}</div>"
        children: list[w.Widget] = [_html(head)]
        value = s.answers.get(item.id)
        if item.type == "text":
            widget: w.Widget = w.Textarea(value=value or "", rows=3, layout=_full())
            widget.observe(lambda ch, i=item.id: self._on_answer(i, ch["new"]), names="value")
            children.append(widget)
        elif item.type == "level":
            widget, extra = self._level(item, value)
            children += extra
        else:
            widget = self._choice(item, value)
            widget.observe(lambda ch, i=item.id: self._on_answer(i, ch["new"]), names="value")
            children.append(widget)
        self.inputs[item.id] = widget
        card = w.VBox(children, layout=_full())
        card.add_class("upo-card")
        card.add_class(f"upo-item-{item.id}")
        self.cards[item.id] = card
        return card

    def _level(self, item: Item, value: Any) -> tuple[w.Widget, list[w.Widget]]:
        lang = self.state.lang
        scale = self.state.instrument.scales[item.scale]  # type: ignore[index]
        labels = scale.labels.en if lang == "en" else scale.labels.de
        options = [(t("level_unset", lang), "")] + [(f"{p:g}", f"{p:g}") for p in scale.points]
        is_missing = value is not None and value in scale.missing
        start = f"{value:g}" if value is not None and not is_missing else ""
        slider = w.SelectionSlider(options=options, value=start, layout=_full(), continuous_update=False)
        anchor = _html("", "upo-anchor")
        ends = _html(f"<div class='upo-help' style='display:flex;justify-content:space-between;gap:1em'><span>1 = {_esc(labels[0])}</span><span style='text-align:right'>{len(labels)} = {_esc(labels[-1])}</span></div>")
        missing = None
        if scale.missing and scale.missing_label is not None:
            missing = w.Checkbox(value=is_missing, description=scale.missing_label.get(lang), indent=False)

        def show() -> None:
            v = slider.value
            if missing is not None and missing.value:
                anchor.value = _esc(scale.missing_label.get(lang))  # type: ignore[union-attr]
            elif v == "":
                anchor.value = f"<span class='upo-help'>{_esc(t('level_pick', lang))}</span>"
            else:
                anchor.value = f"{v} – {_esc(labels[scale.points.index(float(v))])}"

        def on_slider(ch: dict) -> None:
            if self._syncing:
                return
            if ch["new"] != "" and missing is not None and missing.value:
                self._syncing = True
                missing.value = False
                self._syncing = False
            self._on_answer(item.id, None if ch["new"] == "" else float(ch["new"]))
            show()

        def on_missing(ch: dict) -> None:
            if self._syncing:
                return
            if ch["new"]:
                self._syncing = True
                slider.value = ""
                self._syncing = False
                self._on_answer(item.id, float(scale.missing[0]))
            else:
                self._on_answer(item.id, None if slider.value == "" else float(slider.value))
            show()

        slider.observe(on_slider, names="value")
        show()
        extra: list[w.Widget] = [slider, anchor, ends]
        if missing is not None:
            missing.observe(on_missing, names="value")
            extra.append(missing)
            self.inputs[(item.id, "missing")] = missing
        return slider, extra

    # ------------------------------------------------------------------ stakeholders
    def _stakeholder_section(self) -> w.Widget:
        s, lang = self.state, self.state.lang
        self.include_inputs: dict[str, w.Checkbox] = {}
        checks: list[w.Widget] = []
        for key in s.catalogue:
            box = w.Checkbox(value=s.included.get(key, True), description=s.instrument.stakeholder_name(key, lang), indent=False, layout=w.Layout(width="auto"))
            box.observe(lambda ch, k=key: self._on_include(k, ch["new"]), names="value")
            self.include_inputs[key] = box
            checks.append(box)
        self.free_inputs: list[w.Text] = []
        for i in range(s.free_entries):
            box = w.Text(value=s.free[i], placeholder=t("free_placeholder", lang), layout=_full(), continuous_update=False)
            box.observe(lambda ch, i=i: self._on_free(i, ch["new"]), names="value")
            self.free_inputs.append(box)
            checks += [_html(_esc(t("free_entry", lang, i=i + 1))), box]
        select = w.VBox([_html(f"<b>{_esc(t('stakeholder_select', lang))}</b><div class='upo-help'>{_esc(t('stakeholder_select_help', lang))}</div>")] + checks)
        select.add_class("upo-card")
        self.accordion = w.Accordion(layout=_full())
        self.accordion.observe(self._on_panel, names="selected_index")
        self._panels: dict[str, w.VBox] = {}
        self._rebuild_panels()
        return w.VBox([select, _html(f"<b>{_esc(t('rate_groups', lang))}</b>"), self.accordion], layout=_full())

    def _rebuild_panels(self) -> None:
        rated = self.state.stakeholders()
        keys = [k for k, _, _ in rated]
        self._panel_keys = keys
        self._panels = {k: self._panels.get(k) or w.VBox(layout=_full()) for k in keys}
        self.accordion.children = [self._panels[k] for k in keys]
        self._refresh_titles()

    def _refresh_titles(self) -> None:
        lang = self.state.lang
        titles = []
        for key, label, _ in self.state.stakeholders():
            n_open = len(self.state.missing_ratings(key))
            titles.append(f"{'✓' if n_open == 0 else '○'} {label} – {t('group_done', lang) if n_open == 0 else t('group_open', lang, n=n_open)}")
        self.accordion.titles = tuple(titles)

    def _on_panel(self, change: dict) -> None:
        idx = change["new"]
        if idx is not None and 0 <= idx < len(self._panel_keys):
            self.build_panel(self._panel_keys[idx])

    def build_panel(self, key: str) -> w.VBox:
        """Fill the rating rows of one stakeholder's panel (built when first opened)."""
        panel = self._panels[key]
        if panel.children:
            return panel
        s, lang = self.state, self.state.lang
        rows: list[w.Widget] = []
        for item in s.rating_items:
            widget = self._choice(item, s.ratings.get((item.id, key)))
            widget.observe(lambda ch, i=item.id, k=key: self._on_rating(i, k, ch["new"]), names="value")
            self.inputs[(item.id, key)] = widget
            head = f"<b>{_esc(role_label(item, lang))}</b><div class='upo-help'>{_esc(item.text.get(lang).partition(':')[2].strip() or '')}</div>"
            card = w.VBox([_html(head), widget], layout=_full())
            card.add_class("upo-card")
            self.cards[(item.id, key)] = card
            rows.append(card)
        panel.children = rows
        return panel

    # ------------------------------------------------------------------ events
    def _on_lang(self, change: dict) -> None:
        self.state.set_language(change["new"])
        self._build()

    def _on_authority(self, change: dict) -> None:
        self.state.set_authority(change["new"])
        self._refresh_status()

    def _on_code(self, eid: str, value: str) -> None:
        self.state.set_code({eid: value})
        self._refresh_status()

    def _on_answer(self, item_id: str, value: Any) -> None:
        if self._syncing:
            return
        self.state.set_answer(item_id, value)
        self._refresh_status()

    def _on_rating(self, item_id: str, key: str, value: Any) -> None:
        self.state.set_answer(item_id, value, stakeholder=key)
        self._refresh_titles()
        self._refresh_status()

    def _on_include(self, key: str, value: bool) -> None:
        self.state.include_stakeholder(key, value)
        self._rebuild_panels()
        self._refresh_status()

    def _on_free(self, index: int, value: str) -> None:
        self.state.set_free_entry(index, value)
        self._rebuild_panels()
        self._refresh_status()

    def _refresh_status(self, mark: bool = False) -> None:
        probs = self.state.problems()
        lang = self.state.lang
        n = len(probs)
        self.status.value = (
            f"<p data-open='0'>{_esc(t('all_done', lang))}</p>"
            if n == 0
            else f"<p data-open='{n}'><b>{_esc(t('open_count_one', lang) if n == 1 else t('open_count', lang, n=n))}</b></p>"
        )
        open_keys = {p.key if p.stakeholder is None else (p.key, p.stakeholder) for p in probs}
        for key, card in self.cards.items():
            if key in open_keys and (mark or "upo-missing" in card._dom_classes):
                card.add_class("upo-missing")
            else:
                card.remove_class("upo-missing")
        if n == 0:
            self.problems_html.value = ""

    # ------------------------------------------------------------------ actions
    def submit(self) -> SubmitResult:
        """What the submit button does: validate, store, confirm (and clear in kiosk mode)."""
        lang = self.state.lang
        self.submit_button.disabled = True
        self.submit_button.description = t("submitting", lang)
        try:
            result = self.state.submit()
        finally:
            self.submit_button.disabled = False
            self.submit_button.description = t("submit", lang)
        if not result.ok:
            if result.problems:
                lines = "".join(f"<li>{_esc(p.message)}</li>" for p in result.problems[:12])
                more = f"<li>{_esc(t('more', lang, n=len(result.problems) - 12))}</li>" if len(result.problems) > 12 else ""
                self.problems_html.value = f"<p><b>{_esc(t('problems_title', lang))}</b></p><ul>{lines}{more}</ul>"
            else:
                self.problems_html.value = f"<p><b>{_esc(result.message)}</b></p>"
            self.result_html.value = ""
            if result.problems:
                self.show_page(self.page_of(result.problems[0]))
            self._refresh_status(mark=True)
            return result
        self.problems_html.value = ""
        if self.state.kiosk:
            self.page_index = 0
            self._build()
        self.result_html.value = f"<div class='upo-ok' role='status'>✓ {_esc(result.message)}</div>"
        has_profile = any(d.scored_items for d in self.state.instrument.dimensions) and not self.state.kiosk
        self.profile_button.layout.display = None if has_profile else "none"
        self._refresh_status()
        return result

    def show_profile(self) -> str:
        """Show the participant's own profile next to the group (group only at ≥ k); returns the HTML."""
        lang = self.state.lang
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
                return f"<span class='upo-bar' style='width:{max(pct, 2):.0f}%;background:{colour}'></span> {v:.1f}"
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
