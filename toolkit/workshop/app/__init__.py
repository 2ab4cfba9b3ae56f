"""The Solara app of ``upo workshop`` (``SOLARA_APP=toolkit.workshop.app``): form on ``/``, presenter view on ``/presenter-<secret>``.

Solara runs this module once per server process and the components once per page,
each page in its own virtual kernel. The pages are plain widget classes
(:class:`toolkit.workshop.pages.FormPage`, :class:`toolkit.workshop.presenter.PresenterView`)
that share one :class:`toolkit.workshop.pages.Runtime`; this module only displays them.
The session comes from the environment that :func:`toolkit.workshop.server.serve` sets.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

import ipywidgets as widgets
import solara
from markupsafe import Markup

from ...widgets._style import _full
from ..pages import FormPage, Runtime, connection_js

__all__ = ["routes", "runtime"]

log = logging.getLogger("toolkit")

_lock = threading.Lock()
_runtime: Runtime | None = None


def runtime() -> Runtime:
    """The process-wide shared part (store, instrument, drafts), created on first use."""
    global _runtime
    with _lock:
        if _runtime is None:
            _runtime = Runtime()
        return _runtime


def _install_head() -> None:
    try:  # the template (toolkit/workshop/templates/index.html.j2) places this in every page's head
        from solara.server import server as _server

        _server.get_jinja_env(app_name="__default__").globals["upo_head"] = Markup(connection_js())
    except Exception:  # not under solara-server (e.g. imported by a test)
        log.debug("no solara server: page head not installed")
        return
    _one_view_per_page()
    try:  # the page's <title>: in the page's HTML, not a Title component per page (three widgets and their messages each)
        from solara.server import settings

        rt = runtime()
        settings.theme.title = rt.instrument.title.get(rt.params["lang"])
    except Exception:  # the session is not readable here: the form page reports it
        log.debug("page title not set", exc_info=True)


def _one_view_per_page() -> None:
    """No echo of a participant's own changes (ipywidgets 8 sends every received value back, "echo_update").

    The echo serves several views of one kernel (two notebook tabs); a workshop page is one
    browser view of its own virtual kernel, and the widget manager applies ordinary updates
    whether or not it waited for an echo. One message fewer per answer.
    """
    import ipywidgets.widgets.widget as widget_module

    widget_module.JUPYTER_WIDGETS_ECHO = False


def _build_page(session_id: str) -> FormPage:
    from ..tuning import busy, joined, take_ahead

    busy()  # the sessions created ahead are not refilled while a room is joining
    try:
        page = take_ahead(lambda made: made.attach(session_id))  # a new device: its page was made while the server was quiet
        if page is None:
            page = FormPage(runtime(), session_id)
    finally:
        joined(session_id)  # its join, pending since its page request, is done
    return page


def _pages_ahead() -> None:
    """The page sessions created ahead (``--pool``) each get the page of a new device built in them."""
    from ..tuning import pages_ahead

    pages_ahead(lambda: FormPage.ahead(runtime()))


@solara.component
def Form() -> None:
    session_id = solara.get_session_id()
    page = solara.use_memo(lambda: _build_page(session_id), [])
    # the page as a child of a box element: solara.display() would route it through IPython's
    # formatters into an Output widget (one widget and its layout more, and a repr of the tree)
    return widgets.VBox.element(children=[page.widget], layout=_full())


@solara.component
def Presenter() -> None:
    from ..presenter import PresenterView
    from ..tuning import joined, take_ahead

    session_id = solara.get_session_id()

    def build() -> Any:
        try:
            take_ahead(lambda _form: False)  # the page session made ahead holds a form page: closed unseen, the presenter's is its own
            rt = runtime()
            return PresenterView(rt.dashboard_state(), join_url=rt.join_url, join_code=rt.join_code or None)
        finally:
            joined(session_id)

    view = solara.use_memo(build, [])
    solara.use_effect(lambda: view.close, [])
    solara.Title("Live")
    solara.display(view.widget)


@solara.component
def Layout(children: list = []) -> Any:  # noqa: B006 - Solara's signature
    """The page as it is (its box is full width): no box around it, one widget fewer per join."""
    if len(children) == 1:
        return children[0]
    return solara.Div(children=children, style={"width": "100%"})


_install_head()
_pages_ahead()
_secret = os.environ.get("UPO_PRESENTER_SECRET", "")
routes = [solara.Route(path="/", component=Form, layout=Layout)]
if _secret:
    routes.append(solara.Route(path=f"presenter-{_secret}", component=Presenter, layout=Layout))
