"""The presenter view: the live dashboard at projector size, the join details, and the measures the group agrees on.

``upo workshop`` serves it on a second URL with a secret in it (printed only in the
facilitator's terminal). It is the JupyterLab dashboard's view (:class:`toolkit.widgets.Dashboard`
over the same :class:`toolkit.widgets.DashboardState`) with larger type, plus a panel to
record measures (what, who, by when, per dimension or stakeholder) into the cohort database.

Example
-------
>>> import tempfile, pathlib
>>> from toolkit.store import Store
>>> db = Store.init(pathlib.Path(tempfile.mkdtemp()) / "c.sqlite")
>>> db.add_authority("BVA"); db.add_wave("t0"); _ = db.add_instrument("competence_reflection")
>>> view = PresenterView(DashboardState(db, "competence_reflection", "t0", authority="BVA"), autostart=False)
>>> view.what_input.value = "Schulung Datenschutz"; view.field_input.value = "data_protection_security"
>>> view.add_measure() is not None, len(db.measures())
(True, 1)
"""

from __future__ import annotations

import html
import logging
from typing import Any

import ipywidgets as w

from ..exceptions import DataError
from ..widgets._texts import t
from ..widgets.dashboard import Dashboard
from ..widgets.dashboard_state import DashboardState

__all__ = ["PresenterView", "PRESENTER_CSS"]

log = logging.getLogger("toolkit")

PRESENTER_CSS = """
<style>
.upo-presenter { max-width: 1800px; margin: 0 auto; padding: 12px 24px; font-size: 22px; }
.upo-presenter .upo-dash { max-width: none; font-size: 22px; }
.upo-presenter .upo-dash h2 { font-size: 38px; }
.upo-presenter .upo-count { font-size: 110px; line-height: 1; }
.upo-presenter .upo-dash table { font-size: 22px; }
.upo-presenter .upo-dash th, .upo-presenter .upo-dash td { padding: 6px 14px; }
.upo-presenter .upo-dash img { max-width: 1000px !important; }
.upo-presenter .widget-button, .upo-presenter .widget-toggle-button { height: 44px; font-size: 18px; width: auto !important; min-width: 200px; padding: 0 18px; }
.upo-presenter .upo-muted { font-size: 20px; }
.upo-presenter .widget-html-content { font-size: 22px; }
.upo-presenter .widget-label, .upo-presenter .widget-label-basic { font-size: 18px; }
.upo-measures h3 { font-size: 28px; margin: 0.3em 0; }
.upo-join { font-size: 30px; background: #eef3f9; border-radius: 8px; padding: 10px 18px; }
.upo-join b { color: #1f5fa8; }
.upo-measures { margin-top: 18px; border-top: 2px solid #d0d7de; padding-top: 10px; }
.upo-measures table { border-collapse: collapse; font-size: 20px; width: 100%; }
.upo-measures td, .upo-measures th { text-align: left; padding: 4px 10px; border-bottom: 1px solid #e2e2e2; }
.upo-measures input, .upo-measures select { font-size: 18px !important; height: 38px !important; }
</style>
"""


def _esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


class PresenterView:
    """The presenter page; show ``.widget``. Tests call :meth:`add_measure` and read :attr:`dashboard`."""

    def __init__(self, state: DashboardState, *, join_url: str | None = None, join_code: str | None = None,
                 interval: float = 0.3, autostart: bool = True) -> None:
        self.state = state
        lang = state.lang
        self.dashboard = Dashboard(state, interval=interval, autostart=autostart)
        join = ""
        if join_url:
            join = f"{_esc(t('pres_join', lang))} <b>{_esc(join_url)}</b>"
            if join_code:
                join += f" · {_esc(t('pres_code', lang))}: <b class='upo-join-code'>{_esc(join_code)}</b>"
        self.join_html = w.HTML(f"<div class='upo-join'>{join}</div>" if join else "")
        inst = state.instrument
        if inst.is_stakeholder_instrument and inst.stakeholders:
            fields = [(inst.stakeholder_name(e.id, lang), f"sh:{e.id}") for e in inst.stakeholders.catalogue]
        else:
            fields = [(d.title.get(lang), d.id) for d in inst.dimensions]
        self.field_input = w.Dropdown(options=[(t("measure_field_all", lang), "")] + fields, value="", description=t("measure_field", lang),
                                      layout=w.Layout(width="32%"), style={"description_width": "initial"})
        self.what_input = w.Text(placeholder=t("measure_what", lang), description=t("measure_what", lang), layout=w.Layout(width="100%"),
                                 style={"description_width": "initial"})
        self.who_input = w.Text(description=t("measure_who", lang), layout=w.Layout(width="30%"), style={"description_width": "initial"})
        self.due_input = w.Text(placeholder="2027-03-31", description=t("measure_due", lang), layout=w.Layout(width="30%"),
                                style={"description_width": "initial"})
        self.add_button = w.Button(description=t("measure_add", lang), button_style="primary", icon="check")
        self.add_button.add_class("upo-add-measure")
        self.add_button.on_click(lambda _b: self.add_measure())
        self.measure_msg = w.HTML()
        self.measures_html = w.HTML()
        self.render_measures()
        panel = w.VBox([
            w.HTML(f"<h3>{_esc(t('measure_title', lang))}</h3>"), self.what_input,
            w.HBox([self.field_input, self.who_input, self.due_input]), w.HBox([self.add_button, self.measure_msg]), self.measures_html,
        ])
        panel.add_class("upo-measures")
        self.widget = w.VBox([w.HTML(PRESENTER_CSS), self.join_html, self.dashboard.widget, panel], layout=w.Layout(width="100%"))
        self.widget.add_class("upo-presenter")

    def _measure_authority(self) -> str | None:
        s = self.state
        return s.authority or (s.view_authority if s.kind == "stakeholders" else None)

    def add_measure(self) -> int | None:
        """What the button does: store the measure in the cohort database; returns its id (None with the reason shown)."""
        lang, field = self.state.lang, self.field_input.value
        dimension = field if field and not str(field).startswith("sh:") else None
        stakeholder = str(field)[3:] if field and str(field).startswith("sh:") else None
        try:
            mid = self.state.store.add_measure(
                self.what_input.value, instrument=self.state.instrument.id, wave=self.state.wave, authority=self._measure_authority(),
                dimension=dimension, stakeholder=stakeholder, who=self.who_input.value or None, due=self.due_input.value or None,
            )
        except DataError as exc:
            self.measure_msg.value = f"<span class='upo-flag'>{_esc(exc)}</span>"
            return None
        self.measure_msg.value = f"<span>{_esc(t('measure_saved', lang, id=mid))}</span>"
        self.what_input.value = self.who_input.value = self.due_input.value = ""
        self.render_measures()
        return mid

    def render_measures(self) -> None:
        s, lang = self.state, self.state.lang
        df = s.store.measures(instrument=s.instrument.id, wave=s.wave)
        if s.authority is not None:
            df = df[df["authority"] == s.authority]
        if df.empty:
            self.measures_html.value = f"<p class='upo-muted'>{_esc(t('measure_none', lang))}</p>"
            return
        titles = {d.id: d.title.get(lang) for d in s.instrument.dimensions}
        rows = []
        for r in df.itertuples(index=False):
            field = titles.get(r.dimension, r.dimension) if r.dimension else (s.instrument.stakeholder_name(r.stakeholder, lang) if r.stakeholder else t("measure_field_all", lang))
            rows.append(f"<tr data-measure='{int(r.id)}'><td>{_esc(field)}</td><td>{_esc(r.what)}</td><td>{_esc(r.who or '–')}</td><td>{_esc(r.due or '–')}</td></tr>")
        head = "".join(f"<th>{_esc(t(k, lang))}</th>" for k in ("measure_field", "measure_what", "measure_who", "measure_due"))
        self.measures_html.value = f"<table><tr>{head}</tr>{''.join(rows)}</table>"

    def close(self) -> None:
        self.dashboard.close()
