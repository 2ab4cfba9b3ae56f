"""A throwaway local PostgreSQL cluster: for the tests, the benchmarks and trying the toolkit out.

:class:`LocalCluster` runs Debian's (or any) ``initdb`` in a temporary folder and
``pg_ctl`` on a free port of 127.0.0.1 with trust authentication for local
connections only, and removes everything on :meth:`LocalCluster.stop`.
PostgreSQL refuses to run as root, so as root the binaries run as an
unprivileged user (``postgres`` if it exists, else ``nobody``) via ``runuser``.

Example
-------
>>> import shutil
>>> if find_binaries() is not None:  # doctest: +SKIP
...     with LocalCluster() as pg:
...         url = pg.create_database("cohort")
"""

from __future__ import annotations

import glob
import logging
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

__all__ = ["LocalCluster", "find_binaries"]

log = logging.getLogger("toolkit")


def find_binaries() -> Path | None:
    """The folder with ``initdb`` and ``pg_ctl`` (PATH, then ``/usr/lib/postgresql/*/bin``), or None."""
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(os.path.realpath(initdb)).parent
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(folder, "initdb").exists() and Path(folder, "pg_ctl").exists():
            return Path(folder)
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalCluster:
    """A PostgreSQL cluster in a temporary folder, on a random port of 127.0.0.1.

    Parameters
    ----------
    bindir
        Where ``initdb``/``pg_ctl`` are (default: :func:`find_binaries`).
    max_connections
        The server's connection limit (60 writers plus readers need more than the default 100).
    durable
        ``False`` (default) turns ``fsync`` off: fast, and a killed *client* still
        loses nothing committed; only a crash of the whole machine would.
    """

    def __init__(self, bindir: str | Path | None = None, *, max_connections: int = 200, durable: bool = False):
        found = Path(bindir) if bindir else find_binaries()
        if found is None:
            raise RuntimeError("PostgreSQL's initdb/pg_ctl were not found (Debian: apt-get install postgresql)")
        self.bindir = found
        self.max_connections = max_connections
        self.durable = durable
        self.port = _free_port()
        self.user = "upo"
        self.folder = Path(tempfile.mkdtemp(prefix="upo-pg-"))
        self.data = self.folder / "data"
        self._runas: list[str] = []
        self.running = False

    # ---------------------------------------------------------------- life cycle
    def _os_user(self) -> str | None:
        if os.geteuid() != 0:
            return None
        for name in ("postgres", "nobody"):
            try:
                pwd.getpwnam(name)
                return name
            except KeyError:
                continue
        raise RuntimeError("running as root and no unprivileged user (postgres, nobody) to run PostgreSQL as")

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        cmd = self._runas + [str(self.bindir / args[0]), *args[1:]]
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if res.returncode != 0:
            raise RuntimeError(f"{args[0]} failed ({res.returncode}): {(res.stderr or res.stdout).strip()[-800:]}")
        return res

    def start(self) -> "LocalCluster":
        user = self._os_user()
        if user is not None:
            info = pwd.getpwnam(user)
            os.chmod(self.folder, 0o755)
            os.chown(self.folder, info.pw_uid, info.pw_gid)
            self._runas = ["runuser", "-u", user, "--"]
        self._run("initdb", "-D", str(self.data), "-U", self.user, "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
        opts = (f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories={self.folder} "
                f"-c max_connections={self.max_connections} -c shared_buffers=64MB")
        if not self.durable:
            opts += " -c fsync=off -c full_page_writes=off"
        self._run("pg_ctl", "-D", str(self.data), "-o", opts, "-l", str(self.folder / "server.log"), "-w", "-t", "60", "start")
        self.running = True
        log.info("PostgreSQL cluster on 127.0.0.1:%d in %s", self.port, self.folder)
        return self

    def stop(self) -> None:
        if self.running:
            try:
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
            except Exception:  # stopping must not hide the test result
                log.warning("could not stop the PostgreSQL cluster in %s", self.folder, exc_info=True)
            self.running = False
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> "LocalCluster":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---------------------------------------------------------------- databases
    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, name: str | None = None) -> str:
        """Create an empty database and return its URL."""
        import psycopg

        name = name or f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)
