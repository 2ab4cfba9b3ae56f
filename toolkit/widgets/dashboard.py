"""The facilitator dashboard as ipywidgets: a thin view over :class:`DashboardState`.

A background :class:`Poller` checks ``Store.data_version()`` twice a second and
re-renders (count, figure, table) only when something changed, so the kernel stays
free for the facilitator's own cells. Figures are drawn with matplotlib's object API
(no pyplot state) and sent as PNG into an ``Image`` widget.

Example
-------
>>> import tempfile, pathlib
>>> from toolkit.store import Store
>>> db = Store.init(pathlib.Path(tempfile.mkdtemp()) / "c.sqlite")
>>> db.add_authority("BVA"); db.add_wave("t0"); _ = db.add_instrument("reality_check")
>>> dash = Dashboard(DashboardState(db, "reality_check", "t0", authority="BVA"), autostart=False)
>>> dash.render(); dash.count_html.value.count("data-n='0'")
1
"""

from __future__ import annotations

import html
import io
import logging
import threading
from types import SimpleNamespace
from typing import Any

import ipywidgets as w
import pandas as pd

from ._texts import t
from .dashboard_state import DashboardState, Poller

__all__ = ["Dashboard", "render_figure", "render_table", "warm_up"]

log = logging.getLogger("toolkit")

DASH_CSS = """
<style>
.upo-dash { max-width: 1100px; font-size: 15px; }
.upo-count { font-size: 44px; font-weight: 700; color: #1f5fa8; }
.upo-dash table { border-collapse: collapse; font-size: 14px; }
.upo-dash th, .upo-dash td { padding: 3px 8px; border-bottom: 1px solid #e2e2e2; text-align: right; }
.upo-dash th:first-child, .upo-dash td:first-child { text-align: left; }
.upo-flag { color: #b35806; font-weight: 600; }
.upo-muted { color: #666; }
</style>
"""


def _esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _num(v: Any, digits: int = 1, lang: str = "de") -> str:
    """A number in the view's language (decimal comma in German, point in English)."""
    from ..i18n import number

    return number(v, digits, lang)


def render_figure(state: DashboardState) -> bytes | None:
    """PNG of the dashboard's figure for the state's current result (``None`` while hidden)."""
    if not state.visible:
        return None
    try:
        from matplotlib.figure import Figure

        from .. import plots
    except ImportError:  # plots not available: table only
        log.warning("toolkit.plots is not available; the dashboard shows tables only")
        return None
    lang, inst = state.lang, state.instrument
    fig = Figure(figsize=(7.5, 6.0), dpi=100, layout="constrained")
    if state.kind == "stakeholders":
        if state.stakeholders.empty:
            return None
        shown = state.stakeholders[~state.stakeholders["suppressed"]]
        if shown.empty:
            return None
        plots.plot_power_interest(shown, lang=lang, ax=fig.add_subplot())
    else:
        data = _radar_data(state)
        if data is None:
            return None
        limits = {"vmin": 0.0, "vmax": 1.0} if state.kind == "readiness" else {}
        plots.plot_profile_radar(data, instrument=inst, group="group", value="value", lang=lang, ax=fig.add_subplot(projection="polar"), **limits)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def warm_up() -> None:
    """Draw one small figure so the first live figure does not pay matplotlib's start-up (fonts) cost."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(2, 2), dpi=50)
    fig.add_subplot(projection="polar").plot([0, 1], [0, 1], label="x")
    fig.savefig(io.BytesIO(), format="png")


def _radar_data(state: DashboardState) -> pd.DataFrame | None:
    lang = state.lang
    if state.kind == "gaps" and not state.gaps.empty:
        g = state.gaps
        return pd.concat(
            [
                pd.DataFrame({"dimension": g["dimension"], "group": t("col_ist", lang), "value": g["ist"]}),
                pd.DataFrame({"dimension": g["dimension"], "group": t("col_soll", lang), "value": g["soll"]}),
            ],
            ignore_index=True,
        )
    if not state.profile.empty:
        p = state.profile
        return pd.DataFrame({"dimension": p["dimension"], "group": t("profile_group", lang), "value": p["mean"]})
    return None


def render_table(state: DashboardState) -> str:
    """HTML table of the shown (privacy-applied) result."""
    lang = state.lang
    if not state.visible:
        return ""
    if state.kind == "stakeholders":
        df = state.stakeholders
        if df.empty:
            return ""
        head = [t(c, lang) for c in ("col_stakeholder", "col_raters", "col_influence", "col_interest", "col_attitude", "col_spread", "col_flag", "col_strategy")]
        rows = []
        for r in df.itertuples(index=False):
            flag = f"<span class='upo-flag' title='{_esc(r.disagreement_reason or '')}'>⚠ {_esc(t('yes', lang))}</span>" if r.disagreement is True else _esc(t("no", lang)) if r.disagreement is False else "–"
            spread = f"{_num(r.influence_iqr, lang=lang)} / {_num(r.interest_iqr, lang=lang)} / {_num(r.attitude_iqr, lang=lang)}"
            strategy = _esc(r.strategy).split(":")[0] if isinstance(r.strategy, str) else "–"
            rows.append(
                f"<tr><td>{_esc(r.label)}</td><td>{r.n_raters}</td><td>{_num(r.influence, lang=lang)}</td><td>{_num(r.interest, lang=lang)}</td>"
                f"<td>{_num(r.attitude, lang=lang)}</td><td>{spread}</td><td>{flag}</td><td style='text-align:left'>{strategy}</td></tr>"
            )
        hidden = t("dash_hidden_group_one", lang) if state.hidden_groups == 1 else t("dash_hidden_groups", lang, n=state.hidden_groups)
        note = f"<p class='upo-muted'>{_esc(hidden)}</p>" if state.hidden_groups else ""
        return _table(head, rows) + note
    df = state.profile
    if df.empty:
        return ""
    gaps = state.gaps.set_index("dimension") if not state.gaps.empty else None
    head = [t("col_dimension", lang), t("col_n", lang), t("col_mean", lang)]
    if gaps is not None:
        head += [t("col_ist", lang), t("col_soll", lang), t("col_gap", lang), t("col_needs", lang)]
    rows = []
    digits = 2 if state.kind == "readiness" else 1
    for r in df.itertuples(index=False):
        cells = [_esc(r.label), str(int(r.n)), _num(r.mean, digits, lang)]
        if gaps is not None:
            g = gaps.loc[r.dimension] if r.dimension in gaps.index else None
            cells += [_num(g[c], lang=lang) if g is not None else "–" for c in ("ist", "soll", "gap", "needs")]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return _table(head, rows)


def _table(head: list[str], rows: list[str]) -> str:
    return "<table><tr>" + "".join(f"<th>{_esc(h)}</th>" for h in head) + "</tr>" + "".join(rows) + "</table>"


class Dashboard:
    """The live dashboard view; show ``.widget``. Polling starts at once unless ``autostart=False``.

    Tests call :meth:`render`, :meth:`pause`, :meth:`resume` and :meth:`freeze`
    (what the buttons do) without a browser.
    """

    def __init__(self, state: DashboardState, *, interval: float = 0.3, autostart: bool = True) -> None:
        self.state = state
        lang = state.lang
        inst = state.instrument
        where = f" · {_esc(state.authority)}" if state.authority else ""
        title = f"<h2 style='margin:0.2em 0'>{_esc(t('dash_title', lang))}: {_esc(inst.title.get(lang))}</h2><p class='upo-muted'>{_esc(inst.id)} {_esc(inst.version)} ({_esc(inst.short_hash)}) · {_esc(state.wave)}{where}</p>"
        self.count_html = w.HTML()
        self.status_html = w.HTML()
        self.pause_button = w.ToggleButton(value=False, description=t("dash_pause", lang), icon="pause")
        self.pause_button.observe(lambda ch: self.pause() if ch["new"] else self.resume(), names="value")
        self.freeze_button = w.Button(description=t("dash_freeze", lang), icon="lock", button_style="info")
        self.freeze_button.on_click(lambda _b: self.freeze())
        self.message_html = w.HTML()
        self.image = w.Image(format="png", layout=w.Layout(max_width="760px", width="100%"))
        self.table_html = w.HTML()
        controls: list[w.Widget] = [self.pause_button, self.freeze_button]
        self.authority_input: w.Dropdown | None = None
        if state.kind == "stakeholders" and state.authority is None:
            codes = list(state.store.authorities()["authority"])
            self.authority_input = w.Dropdown(options=[(t("dash_all", lang), None)] + [(c, c) for c in codes], value=None, description=t("dash_authority", lang))
            self.authority_input.observe(lambda ch: self._on_authority(ch["new"]), names="value")
            controls.append(self.authority_input)
        self.widget = w.VBox(
            [w.HTML(DASH_CSS), w.HTML(title), self.count_html, self.status_html, w.HBox(controls), self.message_html, self.image, self.table_html]
        )
        self.widget.add_class("upo-dash")
        self.poller = Poller(state, interval=interval, on_change=lambda _s: self.render())
        self.renders = 0
        self.figure_n = -1
        self._closed = threading.Event()
        self._figure_wanted = threading.Event()
        self._figure_thread: threading.Thread | None = None
        self._count_lock = threading.Lock()
        self._count_shown: tuple = (-1, -1, False)  # (data version, n, result shown) on screen
        self._count_thread: threading.Thread | None = None
        if autostart:
            self._figure_thread = threading.Thread(target=self._figure_loop, name="upo-dashboard-figure", daemon=True)
            self._figure_thread.start()
            # the count has its own cheap loop: it never waits for the result's recompute (≈ 0.4 s for 60
            # submissions, longer while they arrive), so the room sees each submission within the interval
            self._count_thread = threading.Thread(target=self._count_loop, args=(interval,), name="upo-dashboard-count", daemon=True)
            self._count_thread.start()
            self.poller.start()
        else:
            state.refresh()

    def _show_count(self, version: int, n: int, visible: bool) -> None:
        with self._count_lock:
            if version < self._count_shown[0] or (version, n, visible) == self._count_shown:
                return  # never step back to an older count
            self._count_shown = (version, n, visible)
            label = _esc(t("dash_count", self.state.lang, n="").strip())
            self.count_html.value = f"<span class='upo-count' data-n='{n}' data-visible='{int(visible)}'>{n}</span> {label}"

    def _count_loop(self, interval: float) -> None:
        s = self.state
        while not self._closed.wait(interval):
            if self.poller.paused:
                continue
            try:
                version = s.store.data_version()
                if version > self._count_shown[0]:
                    n = s.store.count_submissions(s.instrument.id, wave=s.wave, authority=s.authority)
                    self._show_count(version, n, s.visible)
            except Exception:  # the result's poller reports errors; the count just tries again
                log.debug("live count failed", exc_info=True)

    def render(self) -> None:
        """Update every widget from the state (called by the poller after each change)."""
        s, lang = self.state, self.state.lang
        self._show_count(s.version if isinstance(s.version, int) else -1, s.n, s.visible)
        when = s.updated_at.strftime("%H:%M:%S") if s.updated_at else "–"
        state_txt = t("dash_paused", lang) if self.poller.paused else t("dash_updated", lang, time=when)
        info = t("dash_threshold", lang, k=s.k)
        if not s.visible:
            info += " " + t("dash_waiting", lang, m=s.k - s.n)
        self.status_html.value = f"<p class='upo-muted'>{_esc(info)} · {_esc(state_txt)}</p>"
        self.table_html.value = render_table(s)  # count and table first: they are cheap
        self.renders += 1
        if self._figure_thread is not None:
            self._figure_wanted.set()  # the figure is drawn by its own thread: polling never waits for it
        else:
            self._draw_figure()

    def _snapshot(self) -> SimpleNamespace:
        s = self.state
        with s._lock:
            return SimpleNamespace(
                visible=s.visible, kind=s.kind, lang=s.lang, instrument=s.instrument, n=s.n,
                profile=s.profile, gaps=s.gaps, stakeholders=s.stakeholders,
            )

    def _draw_figure(self) -> None:
        snap = self._snapshot()
        png = None
        try:
            png = render_figure(snap)  # type: ignore[arg-type]
        except Exception:
            log.exception("dashboard figure failed")
        self.figure_n = snap.n
        self.image.value = png or b""
        self.image.layout.display = None if png else "none"

    def _figure_loop(self) -> None:
        warm_up()
        while not self._closed.is_set():
            if self._figure_wanted.wait(0.5):
                self._figure_wanted.clear()
                self._draw_figure()

    def _on_authority(self, code: str | None) -> None:
        self.state.set_view_authority(code)
        self.render()

    def pause(self) -> None:
        self.poller.pause()
        self.pause_button.description = t("dash_resume", self.state.lang)
        self.render()

    def resume(self) -> None:
        self.poller.resume()
        self.pause_button.description = t("dash_pause", self.state.lang)

    def freeze(self) -> int | None:
        """Save the shown result into the cohort as the session's outcome; returns the outcome id."""
        oid = self.state.freeze()
        lang = self.state.lang
        self.message_html.value = f"<p>{_esc(t('dash_nothing', lang) if oid is None else t('dash_frozen', lang, id=oid, n=self.state.n))}</p>"
        return oid

    def close(self) -> None:
        self.poller.stop()
        self._closed.set()
        if self._count_thread is not None:
            self._count_thread.join(timeout=5)
        if self._figure_thread is not None:
            self._figure_thread.join(timeout=5)
