"""The live workshop: ``upo workshop`` serves the participant form and the presenter view.

Solara form processes behind one address serve the participants (a light virtual kernel per
page, not a Jupyter kernel per page; :mod:`toolkit.workshop.server`, :mod:`toolkit.workshop.front`,
:mod:`toolkit.workshop.worker`); the pages are the project's
widgets (:mod:`toolkit.workshop.pages`, :mod:`toolkit.workshop.presenter`); drafts
survive a reload, a dropped connection and a restarted server (:mod:`toolkit.workshop.drafts`).
The kernel-per-page Voilà design stays as the benchmark's baseline (:mod:`toolkit.workshop.voila`).
"""

from __future__ import annotations

from .session import (
    DASHBOARD_NOTEBOOK,
    FORM_NOTEBOOK,
    NOTEBOOKS_DIR,
    WorkshopError,
    free_port,
    lan_address,
    session_env,
    validate_session,
    write_qr,
)
from .server import WorkshopProcess, serve
from .voila import VoilaServer, running

__all__ = [
    "NOTEBOOKS_DIR",
    "FORM_NOTEBOOK",
    "DASHBOARD_NOTEBOOK",
    "WorkshopError",
    "VoilaServer",
    "WorkshopProcess",
    "validate_session",
    "session_env",
    "serve",
    "running",
    "free_port",
    "lan_address",
    "write_qr",
]
