"""Session parameters for the workshop notebooks, read from the environment.

``upo workshop`` starts Voilà with these environment variables; every kernel Voilà
starts (pre-heated or not) inherits them. Query strings are not used on purpose:
pre-heated kernels run the notebook before any request, so they never see one.

=================  ===============================================  =========
variable           meaning                                          default
=================  ===============================================  =========
``UPO_DB``         path of the cohort database                      required
``UPO_INSTRUMENT`` id of an instrument stored in the database       required
``UPO_WAVE``       wave label                                       required
``UPO_AUTHORITY``  fixed authority code (empty: participants pick)  empty
``UPO_KIOSK``      ``1``: clear the form after each submission       ``0``
``UPO_LANG``       ``de`` or ``en``                                 ``de``
=================  ===============================================  =========

Example
-------
>>> session_params({"UPO_DB": "c.sqlite", "UPO_INSTRUMENT": "reality_check", "UPO_WAVE": "t1", "UPO_KIOSK": "1"})["kiosk"]
True
"""

from __future__ import annotations

import os
from typing import Any, Mapping

from ..exceptions import DataError

__all__ = ["ENV_VARS", "session_params", "form_app", "dashboard_app"]

ENV_VARS = {
    "db": "UPO_DB",
    "instrument": "UPO_INSTRUMENT",
    "wave": "UPO_WAVE",
    "authority": "UPO_AUTHORITY",
    "kiosk": "UPO_KIOSK",
    "lang": "UPO_LANG",
}


def session_params(env: Mapping[str, str] | None = None, **given: Any) -> dict[str, Any]:
    """Merge explicit parameters (notebook ``parameters`` cell) over environment variables.

    Raises
    ------
    DataError
        If the database, instrument or wave is given nowhere.
    """
    env = os.environ if env is None else env
    out: dict[str, Any] = {}
    for key, var in ENV_VARS.items():
        value = given.get(key)
        out[key] = env.get(var) or None if value is None else value
    missing = [ENV_VARS[k] for k in ("db", "instrument", "wave") if not out[k]]
    if missing:
        raise DataError(
            f"the workshop notebook needs {', '.join(missing)}; start it with 'upo workshop DB --instrument ID --wave W' "
            "or set the values in the notebook's parameters cell"
        )
    kiosk = out["kiosk"]
    out["kiosk"] = kiosk if isinstance(kiosk, bool) else str(kiosk or "0").strip().lower() in ("1", "true", "yes", "ja")
    out["lang"] = out["lang"] if out["lang"] in ("de", "en") else "de"
    return out


def form_app(**given: Any) -> Any:
    """The participant form widget for the session (parameters as in :func:`session_params`)."""
    from .form import ParticipantForm
    from .form_state import FormState

    p = session_params(**given)
    state = FormState(p["db"], p["instrument"], p["wave"], authority=p["authority"], lang=p["lang"], kiosk=p["kiosk"])
    return ParticipantForm(state)


def dashboard_app(*, interval: float = 0.3, k: int | None = None, **given: Any) -> Any:
    """The facilitator dashboard widget for the session (polling starts at once)."""
    from .dashboard import Dashboard
    from .dashboard_state import DashboardState

    p = session_params(**given)
    state = DashboardState(p["db"], p["instrument"], p["wave"], authority=p["authority"], k=k, lang=p["lang"])
    return Dashboard(state, interval=interval)
