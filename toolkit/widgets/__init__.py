"""Live workshop widgets: the participant form and the facilitator dashboard.

State classes (:class:`FormState`, :class:`DashboardState`) hold all logic and are
tested without a browser; the views (:class:`ParticipantForm`, :class:`Dashboard`)
only wire ipywidgets to them. :func:`form_app` and :func:`dashboard_app` build the
views from the session parameters that ``upo workshop`` passes to Voilà as
environment variables (see :func:`session_params`).
"""

from __future__ import annotations

from .dashboard import Dashboard
from .dashboard_state import DashboardState, Poller, dashboard_kind
from .form import ParticipantForm
from .form_state import FormState, Problem, SubmitResult
from .session import ENV_VARS, dashboard_app, form_app, session_params

__all__ = [
    "FormState",
    "Problem",
    "SubmitResult",
    "ParticipantForm",
    "DashboardState",
    "Poller",
    "Dashboard",
    "dashboard_kind",
    "ENV_VARS",
    "session_params",
    "form_app",
    "dashboard_app",
]
