"""Start a live workshop: a Voilà server for the participant form, join URL and QR code.

:func:`serve` is what ``upo workshop`` runs. It validates the session (database,
instrument, wave, authority), starts Voilà for ``notebooks/workshop_form.ipynb``
with the session passed as environment variables (``UPO_DB``, ``UPO_INSTRUMENT``,
``UPO_WAVE``, ``UPO_AUTHORITY``, ``UPO_KIOSK``; see :mod:`toolkit.widgets.session`),
prints the join URL and a QR code, and stops cleanly on Ctrl-C (Voilà and every
kernel it started are ended).

Voilà is configured for a room (see ``docs/workshop.md``):

* **pre-heated kernels** (``--preheat_kernel``, pool of ``pool_size``): the form is
  already executed when a participant opens the page, so a room joining at once
  does not wait for kernels to start;
* **idle culling**: a participant's kernel (≈ 100 MB) is shut down
  ``cull_idle_timeout`` seconds after the page was closed;
* Jupyter's runtime files (connection files, secrets) go to a private temporary
  folder, not to the user's home.

Example
-------
>>> free_port() > 1024
True
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Iterator, Mapping, Sequence

from .exceptions import DataError, ToolkitError
from .paths import NOTEBOOKS_DIR

__all__ = [
    "FORM_NOTEBOOK",
    "DASHBOARD_NOTEBOOK",
    "VoilaServer",
    "validate_session",
    "session_env",
    "serve",
    "free_port",
    "lan_address",
    "write_qr",
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


@dataclass
class VoilaServer:
    """A Voilà process serving one notebook, with private Jupyter folders.

    Parameters
    ----------
    notebook
        The notebook to serve.
    env
        Extra environment variables for Voilà and its kernels (the session).
    host, port
        Where to listen.
    preheat, pool_size
        Pre-heated kernels: ``pool_size`` kernels run the notebook ahead of requests.
    cull_idle_timeout, cull_interval
        Seconds after which a kernel without an open page is shut down, and how often to check.
        Pre-heated kernels waiting in the pool are never culled.
    fill_delay
        Seconds before a used pre-heated kernel is replaced: a burst of people joining is
        served before the replacements compete for the CPU.
    """

    notebook: Path
    env: Mapping[str, str] = field(default_factory=dict)
    host: str = "127.0.0.1"
    port: int = 8866
    preheat: bool = True
    pool_size: int = 4
    cull_idle_timeout: int = 120
    cull_interval: int = 30
    fill_delay: float = 10.0
    extra_args: Sequence[str] = ()
    proc: subprocess.Popen | None = None
    workdir: Path | None = None

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self.port}/"

    @property
    def log_path(self) -> Path | None:
        return self.workdir / "voila.log" if self.workdir else None

    def command(self) -> list[str]:
        return [
            sys.executable, "-m", "voila", str(self.notebook),
            "--no-browser",
            f"--Voila.ip={self.host}",
            f"--port={self.port}",
            "--Voila.port_retries=0",
            "--strip_sources=True",
            "--show_tracebacks=False",
            "--theme=light",
            f"--preheat_kernel={self.preheat}",
            f"--pool_size={self.pool_size if self.preheat else 0}",
            f"--VoilaKernelManager.fill_delay={self.fill_delay}",
            f"--MappingKernelManager.cull_idle_timeout={self.cull_idle_timeout}",
            f"--MappingKernelManager.cull_interval={self.cull_interval}",
            "--MappingKernelManager.cull_connected=False",
            f"--Voila.connection_dir_root={self.workdir}",
            "--VoilaExecutor.iopub_timeout=30",
            # idle culling must spare the pre-heated kernels waiting in the pool (they have no page yet)
            "--VoilaConfiguration.multi_kernel_manager_class=toolkit._voila_kernels.PoolSafeKernelManager",  # a busy machine may need more than 4 s to flush the widget messages
            *self.extra_args,
        ]

    def start(self) -> "VoilaServer":
        """Start Voilà in its own session (Ctrl-C in the terminal reaches only us)."""
        self.workdir = Path(tempfile.mkdtemp(prefix="upo-workshop-"))
        for sub in ("runtime", "data", "config", "home"):
            (self.workdir / sub).mkdir()
        env = dict(os.environ)
        env.update(
            JUPYTER_RUNTIME_DIR=str(self.workdir / "runtime"),
            JUPYTER_DATA_DIR=str(self.workdir / "data"),
            JUPYTER_CONFIG_DIR=str(self.workdir / "config"),
            JUPYTER_PLATFORM_DIRS="1",
            IPYTHONDIR=str(self.workdir / "home" / ".ipython"),
            MPLCONFIGDIR=str(self.workdir / "home" / "mpl"),
            MPLBACKEND="Agg",
            PYDEVD_DISABLE_FILE_VALIDATION="1",
            PYTHONUNBUFFERED="1",
        )
        env.update({k: str(v) for k, v in self.env.items()})
        logf = open(self.log_path, "wb")  # noqa: SIM115 - kept open for the child
        self.proc = subprocess.Popen(self.command(), env=env, stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        logf.close()
        log.info("started voila (pid %s) for %s on %s", self.proc.pid, self.notebook.name, self.url)
        return self

    def log_tail(self, lines: int = 15) -> str:
        if not self.log_path or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def wait_ready(self, timeout: float = 90.0) -> float:
        """Wait until the page answers ``GET /`` (Voilà answers ``HEAD`` with 405); returns the seconds waited."""
        start = time.monotonic()
        while time.monotonic() - start < timeout:
            if self.proc is None or self.proc.poll() is not None:
                raise WorkshopError(f"Voilà stopped during start-up (exit {self.proc.returncode if self.proc else '?'}):\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.url, timeout=30) as resp:
                    if resp.status == 200:
                        return time.monotonic() - start
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            time.sleep(0.3)
        raise WorkshopError(f"Voilà did not answer on {self.url} within {timeout:.0f} s:\n{self.log_tail()}")

    def kernel_pids(self) -> list[int]:
        """Process ids of the running kernels (all live descendants of the Voilà process)."""
        import psutil

        if self.proc is None:
            return []
        try:
            children = psutil.Process(self.proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []
        alive = []
        for child in children:
            with contextlib.suppress(psutil.NoSuchProcess):
                if child.status() != psutil.STATUS_ZOMBIE:
                    alive.append(child.pid)
        return alive

    def stop(self, timeout: float = 15.0) -> None:
        """Stop Voilà (SIGTERM, it shuts its kernels down), then end any kernel left over, and remove the temp folder."""
        import psutil

        if self.proc is not None and self.proc.poll() is None:
            children = []
            with contextlib.suppress(psutil.NoSuchProcess):
                children = psutil.Process(self.proc.pid).children(recursive=True)
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                log.warning("voila did not stop within %s s; killing it", timeout)
                self.proc.kill()
                self.proc.wait(timeout=5)
            alive = [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]
            for c in alive:
                with contextlib.suppress(psutil.NoSuchProcess):
                    c.terminate()
            _, alive = psutil.wait_procs(alive, timeout=5)
            for c in alive:
                with contextlib.suppress(psutil.NoSuchProcess):
                    c.kill()
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    def __enter__(self) -> "VoilaServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --------------------------------------------------------------------------- the session
def validate_session(db: str | Path, instrument: str, wave: str, authority: str | None = None) -> dict[str, Any]:
    """Check that the session can run; returns ``db`` (absolute), ``instrument`` id, ``title``, ``wave``, ``authority``, ``n_authorities``.

    An instrument given as a shipped id or YAML path that is not stored yet is stored.

    Raises
    ------
    StoreError, DataError
        One line saying what is wrong and how to fix it.
    """
    from .instruments import resolve_instrument
    from .store import Store

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


def serve(
    db: str | Path,
    *,
    instrument: str,
    wave: str,
    authority: str | None = None,
    host: str = "127.0.0.1",
    port: int = 8866,
    kiosk: bool = False,
    pool_size: int = 8,
    cull_idle_timeout: int = 120,
    out: IO[str] | None = None,
    ready_timeout: float = 120.0,
) -> int:
    """Serve the participant form for a live workshop until Ctrl-C.

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
    pool_size, cull_idle_timeout
        Pre-heated kernels kept ready; seconds before an abandoned participant kernel is ended.
    out
        Where the join URL and QR code are written (default: stdout).

    Returns
    -------
    int
        0 after a clean stop (Ctrl-C / SIGTERM).

    Raises
    ------
    ToolkitError
        Invalid database, instrument, wave or authority, port in use, or Voilà failed to start.
    """
    out = out or sys.stdout
    session = validate_session(db, instrument, wave, authority)
    if not FORM_NOTEBOOK.exists():
        raise WorkshopError(f"{FORM_NOTEBOOK}: the workshop form notebook is missing; reinstall upo-toolkit from the repository")
    if port == 0:
        port = free_port(host if host not in ("", "0.0.0.0") else "127.0.0.1")
    if _port_in_use(host, port):
        raise WorkshopError(f"port {port} on {host} is in use (another workshop still running?); choose another with --port")
    server = VoilaServer(FORM_NOTEBOOK, env=session_env(session, kiosk=kiosk), host=host, port=port, pool_size=pool_size, cull_idle_timeout=cull_idle_timeout)
    join_host = lan_address() if host in ("0.0.0.0", "") else ("127.0.0.1" if host == "localhost" else host)
    join_url = f"http://{join_host}:{port}/"
    stop = {"flag": False}

    def _on_term(signum: int, frame: Any) -> None:
        stop["flag"] = True

    old_term = signal.signal(signal.SIGTERM, _on_term)
    try:
        server.start()
        waited = server.wait_ready(ready_timeout)
        png = Path(session["db"]).with_suffix(".workshop-qr.png")
        out.write(f"\nWorkshop: {session['title']} · wave {wave}" + (f" · {authority}" if authority else "") + (" · kiosk" if kiosk else "") + "\n")
        out.write(f"Join URL: {join_url}\n")
        if host in ("127.0.0.1", "localhost"):
            out.write("(only reachable on this computer; use --host 0.0.0.0 for the room's network)\n")
        write_qr(join_url, png, out)
        out.write(f"QR code: {png}\n")
        out.write(f"Facilitator dashboard: open {DASHBOARD_NOTEBOOK} in JupyterLab with db={session['db']!r}, instrument={session['instrument']!r}, wave={wave!r}\n")
        out.write(f"Ready after {waited:.1f} s. Stop with Ctrl-C.\n")
        out.flush()
        while not stop["flag"]:
            if server.proc is not None and server.proc.poll() is not None:
                raise WorkshopError(f"Voilà stopped unexpectedly (exit {server.proc.returncode}):\n{server.log_tail()}")
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, old_term)
        out.write("Stopping the workshop server …\n")
        out.flush()
        server.stop()
        out.write("Stopped.\n")
    return 0


@contextlib.contextmanager
def running(notebook: Path, env: Mapping[str, str], **kw: Any) -> Iterator[VoilaServer]:
    """A started and ready :class:`VoilaServer` (for tests and benchmarks)."""
    server = VoilaServer(notebook, env=env, **kw).start()
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()
