"""Item widgets of the participant form (a mixin of :class:`~toolkit.widgets.form.ParticipantForm`).

Item type → widget: likert, importance and checklist items are toggle buttons with the
scale's labels (plus the "cannot judge" code); levels are sliders with the anchor label of
the chosen step; per-stakeholder items are a panel per stakeholder with one button row per role.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as w

from ..instruments import Item
from ._style import _auto, _checkbox_style, _esc, _full, _html, _plain, _slider_style, _text_style, _toggle_style
from ._texts import t
from .form_state import FREE_NAME_MAX, TEXT_MAX, role_label

__all__: list[str] = []


class _ItemWidgets:
    """Builders of the item widgets; the form class provides ``state``, ``inputs``, ``cards`` and the ``_on_*`` handlers."""

    state: Any
    inputs: dict[Any, w.Widget]
    cards: dict[Any, w.Widget]
    _syncing: bool

    def _choice(self, item: Item, value: Any, question: str = "", classes: tuple[str, ...] = ()) -> w.ToggleButtons:
        """The scale's buttons; ``question`` (HTML): shown above them as the widget's own label (no text widget and box of its own)."""
        lang = self.state.lang
        scale = self.state.instrument.scales[item.scale]  # type: ignore[index]
        labels = scale.labels.en if lang == "en" else scale.labels.de
        options = [(lbl, float(p)) for lbl, p in zip(labels, scale.points)]
        options += [(scale.missing_label.get(lang) if scale.missing_label else "?", float(m)) for m in scale.missing]
        classes = ("upo-choice", *(("upo-missing-opt",) if scale.missing else ()), *(("upo-q",) if question else ()), *classes)
        widget = w.ToggleButtons(options=options, value=value, layout=_full(), style=_toggle_style(), _dom_classes=classes,
                                 description=question, description_allow_html=bool(question), **({"tooltip": ""} if question else {}))
        return widget

    def _item_card(self, item: Item) -> w.Widget:
        s, lang = self.state, self.state.lang
        required = "" if item.is_required else f" <span class='upo-help'>({_esc(t('optional', lang))})</span>"
        head = f"<b>{s.number[item.id]}.</b> {_esc(item.text.get(lang))}{required}"
        value = s.answers.get(item.id)
        if item.help:  # a label holds only inline markup (the style shows the help on a line of its own)
            head += f"<span class='upo-help'>{_esc(item.help.get(lang))}</span>" if item.type != "text" else f"<div class='upo-help'>{_esc(item.help.get(lang))}</div>"
        card_classes = ("upo-card", f"upo-item-{item.id}")
        if item.type not in ("text", "level"):  # a choice: one widget, the question as its label (the card is the widget)
            widget = card = self._choice(item, value, question=head, classes=card_classes)
            widget.observe(lambda ch, i=item.id: self._on_answer(i, ch["new"]), names="value")
            self.inputs[item.id] = self.cards[item.id] = widget
            return card
        children: list[w.Widget] = [] if item.type == "level" else [_html(head)]  # a level's question is its slider's label
        if item.type == "text":
            widget: w.Widget = w.Textarea(value=value or "", rows=3, layout=_full(), style=_text_style())
            counter = self._counter(value or "", TEXT_MAX)

            def on_text(ch: dict, i: str = item.id, c: w.HTML = counter) -> None:
                self._count_chars(c, ch["new"], TEXT_MAX)
                self._on_answer(i, ch["new"])

            widget.observe(on_text, names="value")
            children += [widget, counter]
        else:
            widget, extra = self._level(item, value, head)
            children += extra
        self.inputs[item.id] = widget
        card = w.VBox(children, layout=_full(), _dom_classes=card_classes)
        self.cards[item.id] = card
        return card

    def _counter(self, text: str, limit: int) -> w.HTML:
        """A visible character counter; over the limit it asks to shorten (nothing is ever cut)."""
        return _html(self._chars_html(text, limit), "upo-counter")

    def _count_chars(self, counter: w.HTML, text: str, limit: int) -> None:
        counter.value = self._chars_html(text, limit)

    def _chars_html(self, text: str, limit: int) -> str:
        n, lang = len(text or ""), self.state.lang
        over = n > limit
        msg = t("chars_over", lang, n=n, max=limit) if over else t("chars", lang, n=n, max=limit)
        return f"<div class='upo-help' data-chars='{n}' data-over='{int(over)}' style='text-align:right{';color:#b35806;font-weight:600' if over else ''}'>{_esc(msg)}</div>"

    def _level(self, item: Item, value: Any, question: str = "") -> tuple[w.Widget, list[w.Widget]]:
        lang = self.state.lang
        scale = self.state.instrument.scales[item.scale]  # type: ignore[index]
        labels = scale.labels.en if lang == "en" else scale.labels.de
        options = [(t("level_unset", lang), "")] + [(f"{p:g}", f"{p:g}") for p in scale.points]
        is_missing = value is not None and value in scale.missing
        start = f"{value:g}" if value is not None and not is_missing else ""
        slider = w.SelectionSlider(options=options, value=start, layout=_full(), style=_slider_style(), continuous_update=False,
                                   description=question, description_allow_html=bool(question), _dom_classes=("upo-q",) if question else (),
                                   **({"tooltip": ""} if question else {}))
        # the chosen step's label and the scale's two ends in one field (one widget less per level item)
        ends = f"<div class='upo-help' style='display:flex;justify-content:space-between;gap:1em'><span>1 = {_esc(labels[0])}</span><span style='text-align:right'>{len(labels)} = {_esc(labels[-1])}</span></div>"
        missing = None
        if scale.missing and scale.missing_label is not None:
            missing = w.Checkbox(value=is_missing, description=scale.missing_label.get(lang), indent=False, layout=_plain(), style=_checkbox_style())

        def text() -> str:
            v = slider.value
            if missing is not None and missing.value:
                shown = _esc(scale.missing_label.get(lang))  # type: ignore[union-attr]
            elif v == "":
                shown = f"<span class='upo-help'>{_esc(t('level_pick', lang))}</span>"
            else:
                shown = f"{v} – {_esc(labels[scale.points.index(float(v))])}"
            return f"<div class='upo-anchor'>{shown}</div>{ends}"

        anchor = _html(text(), "upo-level-text")

        def show() -> None:
            anchor.value = text()

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
        extra: list[w.Widget] = [slider, anchor]
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
            box = w.Checkbox(value=s.included.get(key, False), description=s.instrument.stakeholder_name(key, lang), indent=False, layout=_auto(), style=_checkbox_style())
            box.observe(lambda ch, k=key: self._on_include(k, ch["new"]), names="value")
            self.include_inputs[key] = box
            checks.append(box)
        self.free_inputs: list[w.Text] = []
        for i in range(s.free_entries):
            box = w.Text(value=s.free[i], placeholder=t("free_placeholder", lang), layout=_full(), style=_text_style(), continuous_update=False)
            counter = self._counter(s.free[i], FREE_NAME_MAX)

            def on_free(ch: dict, i: int = i, c: w.HTML = counter) -> None:
                self._count_chars(c, ch["new"], FREE_NAME_MAX)
                self._on_free(i, ch["new"])

            box.observe(on_free, names="value")
            self.free_inputs.append(box)
            checks += [_html(_esc(t("free_entry", lang, i=i + 1))), box, counter]
        select = w.VBox([_html(f"<b>{_esc(t('stakeholder_select', lang))}</b><div class='upo-help'>{_esc(t('stakeholder_select_help', lang))}</div>")] + checks, layout=_plain())
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
            # one widget per role: the role and its explanation are the buttons' label (as for a question)
            head = f"<b>{_esc(role_label(item, lang))}</b><span class='upo-help'>{_esc(item.text.get(lang).partition(':')[2].strip() or '')}</span>"
            widget = self._choice(item, s.ratings.get((item.id, key)), question=head, classes=("upo-card",))
            widget.observe(lambda ch, i=item.id, k=key: self._on_rating(i, k, ch["new"]), names="value")
            self.inputs[(item.id, key)] = self.cards[(item.id, key)] = widget
            rows.append(widget)
        panel.children = rows
        return panel

    # ------------------------------------------------------------------ events
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
