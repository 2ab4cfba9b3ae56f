"""The workshop session: validation, the environment passed to the pages, URLs, QR code, ports."""

from __future__ import annotations

import contextlib
import logging
import socket
from pathlib import Path
from typing import IO, Any, Mapping

from ..exceptions import DataError, ToolkitError
from ..paths import NOTEBOOKS_DIR

__all__ = [
    "NOTEBOOKS_DIR", "FORM_NOTEBOOK", "DASHBOARD_NOTEBOOK", "WorkshopError", "validate_session", "session_env",
    "free_port", "lan_address", "write_qr",
]

log = logging.getLogger("toolkit")

FORM_NOTEBOOK = NOTEBOOKS_DIR / "workshop_form.ipynb"
DASHBOARD_NOTEBOOK = NOTEBOOKS_DIR / "workshop_dashboard.ipynb"


class WorkshopError(ToolkitError):
    """The workshop server could not be started."""


def free_port(host: str = "127.0.0.1") -> int:
    """A free TCP port on ``host`` (for tests and ``--port 0``)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def lan_address() -> str:
    """This machine's address in the local network (the interface of the default route); ``127.0.0.1`` if none."""
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect(("192.0.2.1", 9))  # TEST-NET address: no packet is sent for a UDP connect
        return str(s.getsockname()[0])
    return "127.0.0.1"


def _port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False


# --------------------------------------------------------------------------- the session
def validate_session(db: str | Path, instrument: str, wave: str, authority: str | None = None) -> dict[str, Any]:
    """Check that the session can run; returns ``db`` (absolute), ``instrument`` id, ``title``, ``wave``, ``authority``, ``n_authorities``.

    An instrument given as a shipped id or YAML path that is not stored yet is stored.

    Raises
    ------
    StoreError, DataError
        One line saying what is wrong and how to fix it.
    """
    from ..instruments import resolve_instrument
    from ..store import Store

    path = Path(db).expanduser().resolve()
    with Store(path) as store:
        store.check_integrity()  # a damaged file fails here, not in the room when participants submit
        try:
            inst = store.instrument(str(instrument))
        except DataError:
            try:
                inst = store.add_instrument(resolve_instrument(instrument))
            except ToolkitError:
                known = ", ".join(sorted(set(store.instruments()["instrument"]))) or "none"
                raise DataError(f"instrument {instrument!r} is neither stored in {path.name} (stored: {known}) nor a shipped id or YAML path") from None
            log.info("stored instrument %s %s in %s", inst.id, inst.version, path.name)
        store.require_wave(wave)
        codes = list(store.authorities()["authority"])
        if authority is not None:
            store.require_authority(authority)
        if not codes:
            raise DataError(f"{path.name} has no authorities yet; add them first (Store.add_authority or an import)")
        store.key  # noqa: B018 - fails early with a clear message when the key file is missing
    return {"db": str(path), "instrument": inst.id, "title": inst.title.get("de"), "wave": wave, "authority": authority, "n_authorities": len(codes)}


def session_env(session: Mapping[str, Any], *, kiosk: bool = False, lang: str = "de") -> dict[str, str]:
    """The environment variables that carry a session to the workshop notebooks."""
    return {
        "UPO_DB": str(session["db"]),
        "UPO_INSTRUMENT": str(session["instrument"]),
        "UPO_WAVE": str(session["wave"]),
        "UPO_AUTHORITY": str(session.get("authority") or ""),
        "UPO_KIOSK": "1" if kiosk else "0",
        "UPO_LANG": lang,
    }


def write_qr(url: str, png_path: Path, out: IO[str] | None = None) -> Path:
    """Write the join URL as a QR code PNG (and as text art to ``out``)."""
    import qrcode

    qr = qrcode.QRCode(border=2)
    qr.add_data(url)
    qr.make(fit=True)
    if out is not None:
        qr.print_ascii(out=out, invert=True)
    qr.make_image().save(str(png_path))
    return png_path


