"""The kernel-per-page design: a Voilà server for a workshop notebook (the benchmark baseline).

``upo workshop`` serves the form from Solara form processes behind one address (:mod:`toolkit.workshop.server`).
:class:`VoilaServer` stays for the benchmark's baseline (``bench/bench_workshop.py``),
and for anyone who wants to serve ``notebooks/workshop_form.ipynb`` with Voilà: each
page then gets its own Jupyter kernel (≈ 150 MB), pre-heated in a pool, culled when idle,
with Jupyter's runtime files in a private temporary folder.

Example
-------
>>> VoilaServer(Path("form.ipynb"), port=9999).url
'http://127.0.0.1:9999/'
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from .session import WorkshopError

__all__ = ["VoilaServer", "running"]

log = logging.getLogger("toolkit")


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
            "--HistoryManager.enabled=False",  # kernels must not share IPython's history database ("database is locked")
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


@contextlib.contextmanager
def running(notebook: Path, env: Mapping[str, str], **kw: Any) -> Iterator[VoilaServer]:
    """A started and ready :class:`VoilaServer` (for tests and benchmarks)."""
    server = VoilaServer(notebook, env=env, **kw).start()
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()
