"""Shared look of the workshop widgets: CSS, shared layouts and small HTML helpers."""

from __future__ import annotations

import html
import sys
from typing import Any, Callable

import ipywidgets as w

__all__ = ["FORM_CSS"]

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
.upo-submit, .upo-join-button { height: 48px !important; font-size: 17px !important; width: 100% !important; border-radius: 8px; }
.upo-status { color: #444; }
.upo-problems { color: #8a3b00; }
.upo-ok { background: #e8f5e9; border-left: 4px solid #1b7f3b; padding: 10px 12px; border-radius: 4px; font-size: 17px; }
.upo-help { color: #555; font-size: 14px; }
.upo-anchor { color: #1f5fa8; font-weight: 600; min-height: 1.4em; }
.upo-form .widget-slider { width: 100% !important; }
.upo-form .widget-selection-slider .widget-readout { min-width: 2em; }
.upo-form .upo-q { flex-wrap: wrap; }
.upo-form .upo-q > .widget-label { display: block; flex: 0 0 100%; width: 100% !important; max-width: 100%; height: auto; line-height: 1.45;
  text-align: left; white-space: normal; overflow: visible; margin: 0 0 6px 0; font-size: 16px; }
.upo-form .upo-q > .widget-label .upo-help { display: block; }
.upo-form .upo-q > .widget-toggle-buttons-group, .upo-form .upo-q > .widget-toggle-buttons > div { flex: 1 1 100%; }
.upo-form .upo-q.widget-text input { flex: 1 1 100%; margin-left: 0; }
.upo-form .upo-q.widget-slider { height: auto !important; }
.upo-form .upo-q.widget-slider > .slider-container { flex: 1 1 auto; margin-left: 8px; }
.upo-nav { justify-content: space-between; }
.upo-form .upo-nav > .upo-prev, .upo-form .upo-nav > .upo-next { width: 48% !important; }
.upo-form .upo-hidden { visibility: hidden; }
.upo-bar { height: 12px; border-radius: 3px; display: inline-block; vertical-align: middle; }
@media (max-width: 520px) {
  .upo-form { font-size: 15px; }
  .upo-card { padding: 8px; }
  .upo-choice .widget-toggle-button { flex: 1 1 40%; }
}
</style>
"""


# Shared layout/style models: fewer widget models to send to the browser. They are shared
# within one page only: under Solara one process serves every page (a virtual kernel each),
# and a widget belongs to the kernel that created it, so the models are kept on the page's
# kernel context and go with it (one set per process under Voilà/Jupyter, where a process is
# one page). No process-wide lock: a page builds its widgets in its own thread, and a lock
# held while a model was created made the pages of a room joining at once wait for each other.
_SHARED: dict[str, w.Widget] = {}


def _page_models() -> dict[str, w.Widget]:
    kc = sys.modules.get("solara.server.kernel_context")
    if kc is not None and kc.has_current_context():  # else: no Solara page (plain kernel, tests)
        ctx = kc.get_current_context()
        if ctx is not None:
            models = getattr(ctx, "_upo_shared", None)
            if models is None:
                models = ctx._upo_shared = {}
            return models
    return _SHARED


def _shared(name: str, factory: Callable[[], w.Widget]) -> Any:
    models = _page_models()
    widget = models.get(name)
    if widget is None or getattr(widget, "comm", None) is None:  # closed with its page
        widget = models[name] = factory()
    return widget


def _full() -> w.Layout:
    """The page's shared 100 %-width layout."""
    return _shared("full", lambda: w.Layout(width="100%"))


def _html_style() -> Any:
    from ipywidgets.widgets.widget_string import HTMLStyle

    return _shared("html", HTMLStyle)


def _toggle_style() -> Any:
    from ipywidgets.widgets.widget_selection import ToggleButtonsStyle

    return _shared("toggle", ToggleButtonsStyle)


def _text_style() -> Any:
    """The page's shared style of text fields (each field would otherwise bring a style widget of its own)."""
    from ipywidgets.widgets.widget_string import TextStyle

    return _shared("text", TextStyle)


def _slider_style() -> Any:
    from ipywidgets.widgets.widget_int import SliderStyle

    return _shared("slider", SliderStyle)


def _checkbox_style() -> Any:
    from ipywidgets.widgets.widget_bool import CheckboxStyle

    return _shared("checkbox", CheckboxStyle)


def _auto() -> w.Layout:
    """The page's shared layout of widgets that size themselves (a check box would otherwise bring a layout of its own)."""
    return _shared("auto", lambda: w.Layout(width="auto"))


def _plain() -> w.Layout:
    """The page's shared layout without settings (what a widget made without ``layout=`` gets, one per widget)."""
    return _shared("plain", w.Layout)


def _button_style() -> Any:
    from ipywidgets.widgets.widget_button import ButtonStyle

    return _shared("button", ButtonStyle)


def _html(text: str, cls: str | None = None) -> w.HTML:
    # the class goes with the widget's first message (add_class afterwards is a second message per widget)
    return w.HTML(text, layout=_full(), style=_html_style(), _dom_classes=(cls,) if cls else ())


def _esc(text: str) -> str:
    return html.escape(text, quote=False)
