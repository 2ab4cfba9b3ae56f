"""``upo workshop``: Solara form processes serve every participant's form and the presenter view.

:func:`serve` validates the session, starts the front (:mod:`toolkit.workshop.front`: the one
host and port, routing each page to one of ``--processes`` form processes, one per core by
default, and restarting a form process that ends) and the form processes
(:mod:`toolkit.workshop.worker`: Solara's server, uvicorn, with the app
:mod:`toolkit.workshop.app`), prints the join URL, the QR code, the join code and the
presenter URL (with its secret: only in this terminal), and stops everything cleanly on
Ctrl-C or SIGTERM. Every page is a virtual kernel in its form process (a few MB), not a
Jupyter kernel (≈ 150 MB); ``--pool`` (default 60) is how many of these light sessions are
created ahead while the server is quiet (:mod:`toolkit.workshop.tuning`), spread over the processes.

Offline: the page's JavaScript and CSS come from the installed ``solara-assets`` package
through Solara's asset proxy; the server never fetches from a CDN (a missing file is an
error in the log, not a request to the internet), telemetry is off, and nothing is
loaded from another host.

:class:`WorkshopProcess` runs ``upo workshop`` as a child process for tests and benchmarks.

Example
-------
>>> _session_slug({"instrument": "reality_check", "wave": "t0", "authority": None}, 8866)
'reality_check-t0-all-8866'
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, Any, Mapping, Sequence

from .front import default_processes
from .session import WorkshopError, _port_in_use, free_port, lan_address, session_env, validate_session, write_qr

__all__ = ["serve", "WorkshopProcess", "solara_env", "new_join_code", "DEFAULT_POOL"]

log = logging.getLogger("toolkit")

DEFAULT_POOL = 60  # page sessions created ahead (the programme's largest events have 60 participants)

_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read from a projector


def new_join_code(n: int = 4) -> str:
    """A short random join code for the projector (``--join-code`` without a value)."""
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(n))


def _session_slug(session: Mapping[str, Any], port: int) -> str:
    raw = f"{session['instrument']}-{session['wave']}-{session.get('authority') or 'all'}-{port}"
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", raw)


def solara_env() -> dict[str, str]:
    """Solara settings of the workshop server (set before Solara is imported)."""
    return {
        "SOLARA_APP": "toolkit.workshop.app",
        "SOLARA_MODE": "production",
        "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",  # no usage statistics to a third party
        "SOLARA_THEME_SHOW_BANNER": "False",  # no badge over the form's buttons
        "SOLARA_THEME_LOADER": "plain",
        "SOLARA_THEME_FORCE_REFRESH": "True",  # a page the restarted server does not know reloads (and gets its draft back)
        "SOLARA_ASSETS_PROXY": "True",  # JS/CSS from this server (solara-assets), never from a CDN
        "SOLARA_KERNEL_CULL_TIMEOUT": "20m",  # a page gone longer than this is rebuilt from its draft on return
        "SOLARA_SESSION_SECRET_KEY": secrets.token_hex(16),
        "SOLARA_SERVER_HTTP_GZIP": "True",
        # widget messages written to the socket by the page's own thread, not one event-loop task each
        # (needs uvicorn's "websockets" implementation: see serve())
        "SOLARA_SERVER_SYNC_WS_WRITE": "True",
    }


def serve(
    db: str | Path,
    *,
    instrument: str,
    wave: str,
    authority: str | None = None,
    host: str = "127.0.0.1",
    port: int = 8866,
    kiosk: bool = False,
    join_code: str | None = None,
    lang: str = "de",
    pool_size: int | None = None,
    processes: int | None = None,
    out: IO[str] | None = None,
    ready_timeout: float = 120.0,
) -> int:
    """Serve the participant form and the presenter view until Ctrl-C.

    Parameters
    ----------
    db
        The cohort database.
    instrument, wave, authority
        The session: which instrument, which wave, and optionally one fixed authority
        (otherwise participants pick theirs from the cohort's list).
    host, port
        Where to listen; ``127.0.0.1`` (default) is this machine only, ``0.0.0.0``
        the room's network (the printed URL then carries the LAN address).
    kiosk
        Shared device: the form is cleared after each submission.
    join_code
        A short code participants enter once before the form opens (``""``: a random one).
    pool_size
        How many light page sessions (virtual kernels, well under a MB each) are created ahead
        while the server is quiet, so a room joining at once takes ready ones; default
        :data:`DEFAULT_POOL`, ``0``: each is created when its page connects; spread over the processes.
    processes
        How many form processes serve the pages behind the one address (default: one per usable
        core, :func:`toolkit.workshop.front.default_processes`); each page stays with its process.
    out
        Where the URLs and the QR code are written (default: stdout).

    Returns
    -------
    int
        0 after a clean stop (Ctrl-C / SIGTERM).

    Raises
    ------
    ToolkitError
        Invalid database, instrument, wave or authority, port in use, or the server failed to start.
    """
    out = out or sys.stdout
    session = validate_session(db, instrument, wave, authority)
    n_proc = default_processes() if processes is None else int(processes)
    if n_proc < 1:
        raise WorkshopError(f"--processes {n_proc}: give at least 1 (default: one per core, here {default_processes()})")
    if port == 0:
        port = free_port(host if host not in ("", "0.0.0.0") else "127.0.0.1")
    if _port_in_use(host, port):
        raise WorkshopError(f"port {port} on {host} is in use (another workshop still running?); choose another with --port")
    code = None if join_code is None else (join_code.strip().upper() or new_join_code())
    join_host = lan_address() if host in ("0.0.0.0", "") else ("127.0.0.1" if host == "localhost" else host)
    join_url = f"http://{join_host}:{port}/"
    secret = secrets.token_urlsafe(18)
    presenter_url = f"{join_url}presenter-{secret}"
    dbp = Path(session["db"])
    slug = _session_slug(session, port)
    drafts = dbp.with_name(f"{dbp.stem}.workshop-drafts") / slug
    env = {
        **session_env(session, kiosk=kiosk, lang=lang),
        "UPO_JOIN_CODE": code or "",
        "UPO_JOIN_URL": join_url,
        "UPO_PRESENTER_SECRET": secret,
        "UPO_DRAFTS": str(drafts),
        **{k: v for k, v in solara_env().items() if k not in os.environ or k == "SOLARA_SESSION_SECRET_KEY"},
    }
    os.environ.update(env)
    from .drafts import DraftStore

    pruned = DraftStore(drafts).prune()
    if pruned:
        log.info("removed %d drafts older than a day", pruned)
    started = time.monotonic()
    from .assets import missing_assets

    missing = missing_assets()
    if missing:
        raise WorkshopError(
            f"the page assets {', '.join(missing)} are not installed, and the workshop never loads them from the internet; "
            "install them once with 'python -m toolkit.workshop.assets' (or 'make workshop-assets')"
        )
    bind = "0.0.0.0" if host == "" else host
    from .front import Front

    front = Front(bind, port, n_proc, DEFAULT_POOL if pool_size is None else pool_size, os.environ)
    stop = {"flag": False}

    def _on_signal(signum: int, frame: Any) -> None:
        stop["flag"] = True

    old = {s: signal.signal(s, _on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    clean = False
    try:
        front.start()
        front.wait_ready(max(1.0, ready_timeout - (time.monotonic() - started)), cancelled=lambda: stop["flag"])
        waited = time.monotonic() - started
        png = dbp.with_name(f"{dbp.stem}.workshop-{slug}-qr.png")
        where = f" · {authority}" if authority else ""
        out.write(f"\nWorkshop: {session['title']} · wave {wave}{where}" + (" · kiosk" if kiosk else "") + "\n")
        out.write(f"Join URL: {join_url}\n")
        if code:
            out.write(f"Join code: {code}\n")
        if host in ("127.0.0.1", "localhost"):
            out.write("(only reachable on this computer; use --host 0.0.0.0 for the room's network)\n")
        write_qr(join_url, png, out)
        out.write(f"QR code: {png}\n")
        out.write(f"Presenter view (keep this address to yourself): {presenter_url}\n")
        auth = f", authority={authority!r}" if authority else ""
        out.write(f"JupyterLab dashboard: open notebooks/workshop_dashboard.ipynb with db={session['db']!r}, instrument={session['instrument']!r}, wave={wave!r}{auth}\n")
        out.write(f"{n_proc} form process{'es' if n_proc > 1 else ''} behind this address (--processes; one per core by default).\n")
        if pool_size != 0:
            out.write(f"{front.pool_ready()} page sessions created ahead (--pool; more are made while the server is quiet).\n")
        out.write(f"Ready after {waited:.1f} s. Stop with Ctrl-C.\n")
        out.flush()
        while not stop["flag"]:
            if front.failed:
                raise WorkshopError(front.failed)
            time.sleep(0.2)
        clean = True
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        out.write("Stopping the workshop server …\n")
        out.flush()
        front.stop()
        if clean:  # a clean end of the session: the drafts go with it (after a crash they stay for the restart)
            DraftStore(drafts).clear()
        out.write("Stopped.\n")
        out.flush()
    return 0


class WorkshopProcess:
    """``upo workshop`` as a child process (tests, benchmarks): start, read the printed URLs, stop or kill.

    Parameters
    ----------
    db, instrument, wave
        The session.
    args
        Further command-line options (``["--authority", "BVA", "--join-code", "K7Q2"]``).
    env
        Extra environment variables (a private ``HOME`` is set unless given).
    """

    def __init__(self, db: str | Path, instrument: str, wave: str, args: Sequence[str] = (), *, port: int | None = None,
                 env: Mapping[str, str] | None = None) -> None:
        self.port = port or free_port()
        self.cmd = [sys.executable, "-m", "toolkit", "workshop", str(db), "--instrument", instrument, "--wave", wave, "--port", str(self.port), *args]
        self.home = Path(tempfile.mkdtemp(prefix="upo-workshop-home-"))
        from ..codes import KEY_DIR_ENV, key_dir

        # a private HOME for Jupyter's and Solara's files, but the cohort's code key where the caller keeps it
        self.env = {**os.environ, KEY_DIR_ENV: str(key_dir()), "HOME": str(self.home), "XDG_DATA_HOME": str(self.home / "data"),
                    "MPLBACKEND": "Agg", "PYTHONUNBUFFERED": "1", **(env or {})}
        self.proc: subprocess.Popen | None = None
        self.output: list[str] = []
        self.url = self.presenter_url = self.join_code = None

    def start(self, timeout: float = 120.0) -> "WorkshopProcess":
        self.output = []
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=self.env, start_new_session=True)
        deadline = time.monotonic() + timeout
        assert self.proc.stdout is not None
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.output.append(line)
            if line.startswith("Join URL: "):
                self.url = line.split(": ", 1)[1].strip()
            elif line.startswith("Join code: "):
                self.join_code = line.split(": ", 1)[1].strip()
            elif line.startswith("Presenter view"):
                self.presenter_url = line.rsplit(" ", 1)[1].strip()
            elif line.startswith("Ready after"):
                threading.Thread(target=self._drain, daemon=True).start()
                return self
        self.kill()
        raise WorkshopError("upo workshop did not get ready:\n" + "".join(self.output[-30:]))

    def _drain(self) -> None:
        proc = self.proc
        if proc is None or proc.stdout is None:
            return
        for line in proc.stdout:
            self.output.append(line)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def rss(self) -> int:
        """Resident memory of the server process and its children, bytes."""
        import psutil

        p = psutil.Process(self.pid)
        return p.memory_info().rss + sum(c.memory_info().rss for c in p.children(recursive=True))

    def stop(self, timeout: float = 30.0) -> int:
        """Ctrl-C; returns the exit code."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGINT)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return -9

    def kill(self) -> None:
        """``kill -9`` (the crash of the facilitator's laptop process)."""
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def __enter__(self) -> "WorkshopProcess":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
