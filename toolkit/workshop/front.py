"""The front of ``upo workshop``: one address, several form processes behind it (``--processes N``).

One Solara process runs Python on one core (one interpreter lock), so a room joining at the
same moment waits for one core. The front listens on the session's host and port, reads the
head of the first request of each connection, picks a form process and hands it the
connection itself (the socket's file descriptor, with the bytes read so far, over a Unix
socket: ``SCM_RIGHTS``); from then on the process talks to the browser directly and the
front costs nothing more for that connection.

**Sticky by session.** A page's requests and websockets carry Solara's session cookie
(``solara-session-id``). A request without it that opens a page gets a new random session
id from the front (added as the request's cookie, so Solara sets exactly that cookie), and
the id is assigned to the least busy process (open pages it reported plus pages given to
it in the last seconds). Every later connection with that cookie (the websocket, a reload,
the page's close beacon) goes to the same process. Assets go to any process.

**The page of a new device.** A room's phones ask for the page at the same moment, while the
form processes build the first pages' forms. The first page request of a kind (its target and
the headers Solara's page handler reads: :func:`page_key`) goes to a form process; the front
then asks that process for the same page once more itself and keeps the answer if it is the
same for every device but for its session cookie (:func:`page_template`). Every later new
device (no cookie) gets that page from the front with its own new session id, which the front
gives to a process (as above) and tells it (so it expects the websocket: no pool refill
meanwhile); the page's websocket and every request of a device with a session (a reload, which
gets its draft) go to that process as before.

**What the processes share.** Submissions, measures, outcomes and the presenter's counts
live in the cohort database; drafts in the session's draft folder. The live release
state of :mod:`toolkit.privacy.live` (the last released aggregate per quantity, which the
presenter view and the form's group value step through) is kept here in the front and
asked for by every form process (:class:`toolkit.workshop.worker.SharedLiveRelease`), so
two screens served by two processes never show states that differ by fewer than k people.
It outlives a form process's restart, as it lived as long as the server before.

**Faults.** A form process that ends (``kill -9``, a crash) is started again at once; its
connections wait in the front while it starts (and the pages' drafts come back from the
draft folder as after a restart of the whole server). Stopping the front stops every
form process (SIGTERM, then SIGKILL after a grace period); a form process also ends when
its connection to the front closes (the front was killed).

Example
-------
>>> head = b"GET / HTTP/1.1\\r\\nHost: x\\r\\nCookie: a=1; solara-session-id=abc\\r\\n\\r\\n"
>>> request_target(head)
('GET', '/', 'abc', False)
>>> request_target(with_session_cookie(b"GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n", "s1"))
('GET', '/', 's1', False)
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import os
import pickle
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Callable, Mapping

from .session import WorkshopError

__all__ = ["Front", "default_processes", "request_target", "with_session_cookie", "split_pool"]

log = logging.getLogger("toolkit")

SESSION_COOKIES = ("solara-session-id", "solara-session-id-lax")  # Solara's server.get_session_id_cookie
ASSET_PREFIXES = ("/static/", "/_solara/cdn/", "/jupyter/nbextensions/", "/_solara/", "/readyz")
MAX_HEAD = 64 * 1024  # bytes of a request head (uvicorn's h11 parser accepts 16 KB)
HEAD_TIMEOUT = 60.0  # seconds a new connection may take to send its first request head
PENDING_TIMEOUT = 60.0  # seconds a connection waits for its restarting form process
RECENT = 3.0  # seconds a newly assigned page counts towards a process's load before its own report shows it
KEEP_ALIVE = 5.0  # seconds an open connection may wait for its next request after the front sent a file (uvicorn's default)
_HOP_HEADERS = {"date", "server", "connection", "keep-alive", "transfer-encoding"}  # the front writes its own
#: what Solara's page handler (and :class:`toolkit.workshop.worker.GzipOnce`'s page cache) reads of a request: the front's page key
PAGE_KEY_HEADERS = (b"host", b"x-forwarded-proto", b"x-forwarded-host", b"script-name", b"x-script-name")
PROBE_HEADER = "x-upo-front-probe"  # the front's own request for a page it learns (the form process expects no websocket for it)
SID_MARK = b"\x00upo-session\x00"  # where a kept page's set-cookie headers take the device's session id
_HDR = struct.Struct("!IB")  # frame: payload length, kind
#: How a form process is started (``python -P -c FORM_PROCESS --conn-fd …``): :func:`toolkit.workshop.worker.main`,
#: with pandas kept from loading pyarrow. pandas imports pyarrow whenever it is installed (≈ 34 MB of every
#: process's memory); the form and the presenter view never use it (their tables are small, their strings
#: work the same with pandas' own string storage), and the memory is what limits how many a server holds.
FORM_PROCESS = "import sys; sys.modules.setdefault('pyarrow', None); from toolkit.workshop.worker import main; main()"


_ASSET_IN_PAGE = re.compile(r"""["'](/?(?:static|_solara/cdn)/[^"'\s<>()]+)["']""")
_NBEXTENSION = re.compile(r"""'[\w-]+':\s*'nbextensions/(([\w-]+)/[\w./-]+)'""")
_NBEXTENSION_HASHES = re.compile(r"nbextensionHashes\s*=\s*(\{[^}]*\})")
_CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+?\.woff2(?:\?[^'")]*)?)['"]?\s*\)""")
MAX_WARM_ASSETS = 60


def page_assets(html: str) -> list[str]:
    """The script, style and module files the page's HTML names (as the browser asks for them; no fonts: see :func:`css_fonts`).

    >>> page_assets('<link href="/static/a.css?v=1"><script>t = "static/assets/t.css?v=2"; '
    ...             'nbextensionHashes = {"jupyter-vue/extension": "h1"}; m = {' + "'jupyter-vue': 'nbextensions/jupyter-vue/nodeps'}</script>")
    ['/static/a.css?v=1', '/static/assets/t.css?v=2', '/jupyter/nbextensions/jupyter-vue/nodeps.js?h1']
    """
    import json

    out = ["/" + m.lstrip("/") for m in _ASSET_IN_PAGE.findall(html)]
    found = _NBEXTENSION_HASHES.search(html)
    hashes = {}
    with contextlib.suppress(ValueError):
        hashes = {name.split("/")[0]: h for name, h in json.loads(found.group(1)).items()} if found else {}
    for path, folder in _NBEXTENSION.findall(html):  # requirejs: baseUrl /jupyter, ".js" and the folder's hash added
        out.append(f"/jupyter/nbextensions/{path}.js" + (f"?{hashes[folder]}" if folder in hashes else ""))
    return list(dict.fromkeys(out))


def css_fonts(css_path: str, css: str) -> list[str]:
    """The woff2 fonts a style sheet names (what Chromium and phones load), as paths.

    >>> css_fonts("/_solara/cdn/fa/css/fa.min.css", "src:url('../fonts/f.woff2?v=4.5.0') format('woff2'),url(../fonts/f.woff)")
    ['/_solara/cdn/fa/fonts/f.woff2?v=4.5.0']
    """
    from urllib.parse import urljoin

    return list(dict.fromkeys(urljoin(css_path, u) for u in _CSS_URL.findall(css) if not u.startswith(("data:", "http:", "https:"))))


def walk_page_files(html: str, fetch: Callable[[str], bytes | None]) -> int:
    """``fetch(path)`` (the uncompressed body, or None) for every file the page names and every font their style sheets name; how many came."""
    n = 0
    todo = page_assets(html)[:MAX_WARM_ASSETS]
    while todo:
        path = todo.pop(0)
        body = fetch(path)
        if body is None:
            continue
        n += 1
        if path.split("?", 1)[0].endswith(".css") and n < MAX_WARM_ASSETS:
            todo += [p for p in css_fonts(path, body.decode("utf-8", "replace")) if p not in todo][:MAX_WARM_ASSETS - n]
    return n


def local_get(port: int, path: str, timeout: float = 60) -> tuple[int, list[tuple[str, str]], bytes]:
    """``GET path`` from a form process's own port on 127.0.0.1, gzip accepted: ``(status, headers, body as sent)``."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Accept-Encoding": "gzip"})
        resp = conn.getresponse()
        return resp.status, resp.getheaders(), resp.read()
    finally:
        conn.close()


def decoded(headers: list[tuple[str, str]], body: bytes) -> bytes:
    """A response body as the browser reads it (gzip undone when the headers say so)."""
    import gzip

    if any(k.lower() == "content-encoding" and v.strip().lower() == "gzip" for k, v in headers):
        return gzip.decompress(body)
    return body


def page_key(head: bytes) -> tuple[tuple, bool] | None:
    """The key of a page request of a new device (the front may answer it) and whether its connection stays open, else None.

    Only a plain ``GET`` over HTTP/1.1 that accepts gzip, of a page (no asset, no websocket), without any cookie (a device
    with a session has its page in its form process: a reload gets its draft there) and without a body or condition.

    >>> page_key(b"GET /?lang=en HTTP/1.1\\r\\nHost: h:1\\r\\nAccept-Encoding: gzip")
    ((b'/?lang=en', b'h:1', None, None, None, None), True)
    >>> page_key(b"GET / HTTP/1.1\\r\\nHost: h\\r\\nAccept-Encoding: gzip\\r\\nCookie: solara-session-id=s") is None
    True
    """
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ")
    if len(parts) != 3 or parts[0] != b"GET" or parts[2] != b"HTTP/1.1" or parts[1].startswith(tuple(p.encode() for p in ASSET_PREFIXES)) \
            or not parts[1].startswith(b"/"):
        return None
    fields: dict[bytes, bytes] = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name in (b"cookie", b"upgrade", b"if-none-match", b"if-modified-since", b"range", b"content-length", b"transfer-encoding",
                    PROBE_HEADER.encode()):
            return None
        fields.setdefault(name, value.strip())
    if b"gzip" not in fields.get(b"accept-encoding", b"").lower():
        return None
    keep_open = b"close" not in fields.get(b"connection", b"").lower()
    return (parts[1], *(fields.get(h) for h in PAGE_KEY_HEADERS)), keep_open


def page_template(status: int, headers: list[tuple[str, str]], body: bytes, sid: str) -> tuple[bytes, bytes] | None:
    """A form process's answer to a new device ``sid`` as the same for every device: ``(headers with the id marked, body)``, else None.

    Kept only if it is a complete gzip-compressed 200 HTML page whose only mention of ``sid`` is the session cookie it sets.

    >>> page_template(200, [("content-type", "text/html"), ("content-encoding", "gzip"), ("content-length", "2"),
    ...                     ("set-cookie", "solara-session-id=S1; Path=/"), ("server", "uvicorn")], b"..", "S1")
    (b'content-type: text/html\\r\\ncontent-encoding: gzip\\r\\ncontent-length: 2\\r\\nset-cookie: solara-session-id=\\x00upo-session\\x00; Path=/\\r\\n', b'..')
    """
    low = [(k.lower(), v) for k, v in headers]
    names = dict(low)
    cookies = [v for k, v in low if k == "set-cookie"]
    if status != 200 or not names.get("content-type", "").startswith("text/html") or names.get("content-encoding", "").lower() != "gzip" \
            or "content-length" not in names or "transfer-encoding" in names or not cookies or not all(sid in v for v in cookies) \
            or any(sid in v for k, v in low if k != "set-cookie") or sid.encode() in body:
        return None
    mark = SID_MARK.decode("latin-1")
    top = "".join(f"{k}: {v.replace(sid, mark) if k.lower() == 'set-cookie' else v}\r\n" for k, v in headers if k.lower() not in _HOP_HEADERS)
    return top.encode("latin-1"), body


def default_processes() -> int:
    """The number of cores this process may use (at least 1): one form process per core."""
    with contextlib.suppress(AttributeError, OSError):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def split_pool(pool: int, n: int) -> list[int]:
    """``--pool`` spread over ``n`` processes (``split_pool(5, 2) == [3, 2]``)."""
    return [pool // n + (i < pool % n) for i in range(n)]


def frame(kind: bytes, payload: bytes) -> bytes:
    return _HDR.pack(len(payload), kind[0]) + payload


def parse_frames(buf: bytearray) -> list[tuple[int, bytes]]:
    """Complete frames at the start of ``buf`` (removed from it): ``(kind, payload)``."""
    out = []
    while len(buf) >= _HDR.size:
        n, kind = _HDR.unpack_from(buf)
        if len(buf) < _HDR.size + n:
            break
        out.append((kind, bytes(buf[_HDR.size:_HDR.size + n])))
        del buf[:_HDR.size + n]
    return out


def request_target(head: bytes) -> tuple[str, str, str | None, bool]:
    """``(method, path, session id or None, websocket upgrade?)`` of a request head."""
    lines = head.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    parts = lines[0].split(b" ")
    method = parts[0].decode("latin-1") if parts else ""
    path = parts[1].decode("latin-1").split("?", 1)[0] if len(parts) > 1 else ""
    sid, upgrade = None, False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"cookie" and sid is None:
            cookies = {}
            for pair in value.decode("latin-1").split(";"):
                k, _, v = pair.strip().partition("=")
                cookies.setdefault(k, v.strip('"'))
            sid = next((cookies[c] for c in SESSION_COOKIES if cookies.get(c)), None)
        elif name == b"upgrade" and value.strip().lower() == b"websocket":
            upgrade = True
    return method, path, sid, upgrade


def with_session_cookie(buf: bytes, sid: str) -> bytes:
    """The request with Solara's session cookie set to ``sid`` (added to its ``Cookie`` header, or a new one)."""
    end = buf.find(b"\r\n\r\n")
    head, rest = buf[:end], buf[end:]
    lines = head.split(b"\r\n")
    add = f"{SESSION_COOKIES[0]}={sid}".encode()
    for i, line in enumerate(lines[1:], start=1):
        if line.split(b":", 1)[0].strip().lower() == b"cookie":
            lines[i] = line.rstrip() + b"; " + add
            break
    else:
        lines.insert(1, b"Cookie: " + add)
    return b"\r\n".join(lines) + rest


class _Worker:
    """What the front knows about one form process."""

    def __init__(self, index: int, pool: int) -> None:
        self.index, self.pool = index, pool
        self.proc: subprocess.Popen | None = None
        self.ctrl: socket.socket | None = None
        self.live: socket.socket | None = None
        self.ready = False
        self.port = 0
        self.pool_ready = 0
        self.pages = 0
        self.deaths: list[float] = []
        self.recent: collections.deque[float] = collections.deque()
        self.pending: list[tuple[float, socket.socket, bytes]] = []
        self.out: collections.deque[tuple[bytes, socket.socket | None, bytes]] = collections.deque()  # frame, connection, request bytes
        self.writing = False
        self.inbuf = bytearray()
        self.livebuf = bytearray()

    def load(self, now: float) -> int:
        while self.recent and now - self.recent[0] > RECENT:
            self.recent.popleft()
        return self.pages + len(self.recent)


class Front:
    """The listening socket, the form processes and the routing between them (an asyncio loop in a thread).

    Parameters
    ----------
    host, port
        Where participants connect.
    processes
        How many form processes (:mod:`toolkit.workshop.worker`).
    pool
        Page sessions created ahead, spread over the processes.
    env
        The form processes' environment (the session's variables).
    """

    def __init__(self, host: str, port: int, processes: int, pool: int, env: Mapping[str, str]) -> None:
        self.host, self.port, self.n = host, port, max(1, int(processes))
        self.env = dict(env)
        self.workers = [_Worker(i, p) for i, p in enumerate(split_pool(max(0, int(pool)), self.n))]
        self.sessions: dict[str, int] = {}
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="upo-workshop-front", daemon=True)
        self.stopping = False
        self.failed: str | None = None
        self.all_ready = threading.Event()
        self.lsock: socket.socket | None = None
        #: the page's files as a form process answers them (whole gzip responses), by request target; sent by the front itself
        self.files: dict[str, bytes] = {}
        self._files_asked = False
        #: the page itself as a form process answers a new device (its session cookie as a mark), by :func:`page_key`
        self.pages: dict[tuple, tuple[bytes, bytes]] = {}
        self._learning: set[tuple] = set()

    # ------------------------------------------------------------------ life cycle
    def start(self) -> "Front":
        if not hasattr(socket, "send_fds"):
            raise WorkshopError("the workshop server needs Linux or macOS (it hands connections to its form processes)")
        try:
            self.lsock = socket.create_server((self.host, self.port), backlog=1024)
        except OSError as exc:
            raise WorkshopError(f"cannot listen on {self.host}:{self.port} ({exc.strerror}); choose another with --port") from None
        self.lsock.setblocking(False)
        self.thread.start()
        self.loop.call_soon_threadsafe(self._begin)
        return self

    def wait_ready(self, timeout: float, cancelled: Callable[[], bool] = lambda: False) -> None:
        """Until every form process is ready (raises WorkshopError when one fails, after ``timeout`` s, or when ``cancelled()``)."""
        deadline = time.monotonic() + timeout
        while not self.all_ready.wait(0.05):
            if self.failed:
                raise WorkshopError(self.failed)
            if cancelled():
                raise WorkshopError("stopped before the workshop server was ready")
            if time.monotonic() > deadline:
                raise WorkshopError(f"the workshop server did not start within {timeout:.0f} s (see the log above)")

    def pool_ready(self) -> int:
        return sum(w.pool_ready for w in self.workers)

    def stop(self, grace: float = 10.0) -> None:
        """Stop accepting, stop every form process (SIGTERM, then SIGKILL), close the loop."""
        self.stopping = True
        if self.thread.is_alive():
            fut = asyncio.run_coroutine_threadsafe(self._close_listener(), self.loop)
            with contextlib.suppress(Exception):
                fut.result(5)
        procs = [w.proc for w in self.workers if w.proc is not None]
        for p in procs:
            if p.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    p.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        for p in procs:
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("form process %d did not stop within %.0f s: killed", p.pid, grace)
                with contextlib.suppress(ProcessLookupError):
                    p.kill()
                p.wait(5)
        if self.thread.is_alive():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(5)

    async def _close_listener(self) -> None:
        if self.lsock is not None:
            with contextlib.suppress(Exception):
                self.loop.remove_reader(self.lsock.fileno())
            self.lsock.close()
        for w in self.workers:
            for _t, conn, _b in w.pending:
                conn.close()
            w.pending.clear()
        me = asyncio.current_task()
        for task in asyncio.all_tasks(self.loop):
            if task is not me:
                task.cancel()
        await asyncio.sleep(0)

    def _begin(self) -> None:
        for w in self.workers:
            self._spawn(w)
        self.loop.create_task(self._accept())
        self.loop.create_task(self._supervise())

    # ------------------------------------------------------------------ form processes
    def _spawn(self, w: _Worker) -> None:
        ctrl, ctrl_child = socket.socketpair()
        live, live_child = socket.socketpair()
        root = str(Path(__file__).resolve().parents[2])  # the folder holding the toolkit package
        env = {**self.env, "PYTHONPATH": os.pathsep.join(p for p in (root, self.env.get("PYTHONPATH", "")) if p)}
        # -P: the toolkit comes from ``root`` (PYTHONPATH), the one the front runs; "-m" would put the current folder first
        cmd = [sys.executable, "-P", "-c", FORM_PROCESS, "--conn-fd", str(ctrl_child.fileno()),
               "--live-fd", str(live_child.fileno()), "--index", str(w.index), "--pool", str(w.pool)]
        w.proc = subprocess.Popen(cmd, pass_fds=(ctrl_child.fileno(), live_child.fileno()), env=env, stdin=subprocess.DEVNULL)
        ctrl_child.close()
        live_child.close()
        ctrl.setblocking(False)
        w.ctrl, w.live, w.ready, w.pages = ctrl, live, False, 0
        w.inbuf.clear()
        w.livebuf.clear()
        self.loop.add_reader(ctrl.fileno(), self._ctrl_readable, w)
        self.loop.add_reader(live.fileno(), self._live_readable, w)
        log.info("form process %d started (pid %d)", w.index, w.proc.pid)

    def _lost(self, w: _Worker) -> None:
        """The form process ended (its socket closed): start it again, its connections wait meanwhile."""
        for s in (w.ctrl, w.live):
            if s is not None:
                with contextlib.suppress(Exception):
                    self.loop.remove_reader(s.fileno())
                with contextlib.suppress(Exception):
                    self.loop.remove_writer(s.fileno())
                s.close()
        w.ctrl = w.live = None
        was_ready, w.ready, w.writing = w.ready, False, False
        w.pending[:0] = [(time.monotonic(), conn, raw) for _f, conn, raw in w.out if conn is not None]  # not handed over yet
        w.out.clear()
        if w.proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                w.proc.wait(2)
        code = w.proc.returncode if w.proc is not None else None
        if self.stopping:
            return
        if not self.all_ready.is_set() and not was_ready:
            self.failed = f"a form process of the workshop server did not start (exit code {code}; see the log above)"
            return
        now = time.monotonic()
        w.deaths = [t for t in w.deaths if now - t < 60] + [now]
        delay = 0.0 if len(w.deaths) <= 1 else min(10.0, 2.0 ** (len(w.deaths) - 2))
        log.warning("form process %d (pid %s) ended (exit code %s); starting it again%s", w.index, w.proc.pid if w.proc else "?", code,
                    f" in {delay:.0f} s" if delay else "")
        self.loop.call_later(delay, self._respawn, w)

    def _respawn(self, w: _Worker) -> None:
        if not self.stopping and w.ctrl is None:
            try:
                self._spawn(w)
            except OSError:
                log.exception("could not start form process %d", w.index)
                self.loop.call_later(5.0, self._respawn, w)

    async def _supervise(self) -> None:
        while not self.stopping:
            await asyncio.sleep(0.5)
            now = time.monotonic()
            for w in self.workers:
                if w.ctrl is not None and w.proc is not None and w.proc.poll() is not None:
                    self._lost(w)
                expired = [p for p in w.pending if now - p[0] > PENDING_TIMEOUT]
                for p in expired:
                    w.pending.remove(p)
                    p[1].close()

    def _ctrl_readable(self, w: _Worker) -> None:
        try:
            data = w.ctrl.recv(65536) if w.ctrl is not None else b""
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._lost(w)
            return
        w.inbuf += data
        for kind, payload in parse_frames(w.inbuf):
            if kind == ord("R"):  # ready: its own port and the sessions it made ahead
                info = pickle.loads(payload)
                w.port, w.pool_ready, w.ready = info["port"], info["pool"], True
                if not self._files_asked:  # the first ready process: its answers for the page's files, kept here
                    self._files_asked = True
                    threading.Thread(target=self._keep_files, args=(w.port,), name="upo-workshop-files", daemon=True).start()
                pending, w.pending = w.pending, []
                for _t, conn, buf in pending:
                    self._hand(w, conn, buf)
                if all(x.ready for x in self.workers):
                    self.all_ready.set()
            elif kind == ord("L"):  # load: open pages
                w.pages = int(pickle.loads(payload)["pages"])

    # ------------------------------------------------------------------ the shared live release state
    def _live_readable(self, w: _Worker) -> None:
        from ..privacy.live import live_state

        sock = w.live
        try:
            data = sock.recv(1 << 20) if sock is not None else b""
        except OSError:
            data = b""
        if not data:
            return  # the control socket reports the end of the process
        w.livebuf += data
        for _kind, payload in parse_frames(w.livebuf):
            op, session, k, key, *args = pickle.loads(payload)
            state = live_state(session, k)  # this process's own LiveRelease (the front shares none)
            if op == "step":
                reply = state._settle(key, frozenset(args[0]), args[1])
            else:
                reply = state.released(key)
            with contextlib.suppress(OSError):
                sock.sendall(frame(b"A", pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)))

    # ------------------------------------------------------------------ the page's files
    def _keep_files(self, port: int) -> None:
        """Ask a form process (its own port) for the page's files and keep its whole compressed answers (a thread)."""
        import http.client

        def keep(path: str) -> bytes | None:
            try:
                status, headers, body = local_get(port, path)
            except (OSError, http.client.HTTPException):
                return None
            names = {k.lower() for k, _ in headers}
            if status != 200 or "set-cookie" in names or "content-length" not in names or "transfer-encoding" in names:
                return None
            head = "".join(f"{k}: {v}\r\n" for k, v in headers if k.lower() not in _HOP_HEADERS)
            self.files[path] = head.encode("latin-1") + b"\r\n" + body
            with contextlib.suppress(OSError, EOFError):
                return decoded(headers, body)
            return None

        try:
            _status, headers, raw = local_get(port, "/")
            html = decoded(headers, raw).decode("utf-8", "replace")
            n = walk_page_files(html, keep)
            log.debug("front: %d page files kept", n)
        except Exception:  # without them every file goes to a form process, as before
            log.debug("front: page files not kept", exc_info=True)

    def _file_response(self, head: bytes) -> tuple[bytes, bool] | None:
        """The kept answer to a request for one of the page's files (and whether the connection stays open), else None."""
        lines = head.split(b"\r\n")
        parts = lines[0].split(b" ")
        if len(parts) != 3 or parts[0] != b"GET" or parts[2] != b"HTTP/1.1":
            return None
        body = self.files.get(parts[1].decode("latin-1"))
        if body is None:
            return None
        keep_open, gzip_ok = True, False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name, value = name.strip().lower(), value.strip().lower()
            if name in (b"if-none-match", b"if-modified-since", b"range", b"upgrade", b"content-length", b"transfer-encoding"):
                return None  # a form process answers these as before
            if name == b"accept-encoding":
                gzip_ok = b"gzip" in value
            elif name == b"connection" and b"close" in value:
                keep_open = False
        if not gzip_ok:
            return None
        from email.utils import formatdate

        date = f"date: {formatdate(usegmt=True)}\r\n".encode()
        return b"HTTP/1.1 200 OK\r\n" + date + (b"" if keep_open else b"connection: close\r\n") + body, keep_open

    # ------------------------------------------------------------------ the page for a new device
    def _learn_page(self, key: tuple, port: int) -> None:
        """Ask a form process (its own port) for the page as a new device with ``key`` gets it; keep it if it is the same for every device (a thread)."""
        import http.client

        probe = uuid.uuid4().hex
        headers = {name.decode(): value.decode("latin-1") for name, value in zip(PAGE_KEY_HEADERS, key[1:]) if value is not None}
        headers.update({"Accept-Encoding": "gzip", "Cookie": f"{SESSION_COOKIES[0]}={probe}", PROBE_HEADER: "1"})
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            try:
                conn.request("GET", key[0].decode("latin-1"), headers=headers)
                resp = conn.getresponse()
                status, got, body = resp.status, resp.getheaders(), resp.read()
            finally:
                conn.close()
        except (OSError, http.client.HTTPException):
            log.debug("front: page %r not learned", key[0], exc_info=True)
            self._learning.discard(key)
            return
        kept = page_template(status, got, body, probe)
        if kept is not None:
            self.pages[key] = kept
        # a page that differs per device is not kept and not asked for again: a form process answers it every time

    def _page_response(self, head: bytes) -> tuple[bytes, bool, str] | None:
        """The kept page for a new device (a fresh session id in its cookie; whether the connection stays open; the id), else None."""
        found = page_key(head)
        if found is None:
            return None
        key, keep_open = found
        kept = self.pages.get(key)
        if kept is None:
            if key not in self._learning:
                w = self._choose(None)
                if w.ready and w.port:
                    self._learning.add(key)
                    threading.Thread(target=self._learn_page, args=(key, w.port), name="upo-workshop-page", daemon=True).start()
            return None
        from email.utils import formatdate

        sid = str(uuid.uuid4())
        top, body = kept
        date = f"date: {formatdate(usegmt=True)}\r\n".encode()
        return (b"HTTP/1.1 200 OK\r\n" + date + (b"" if keep_open else b"connection: close\r\n") + top.replace(SID_MARK, sid.encode())
                + b"\r\n" + body), keep_open, sid

    def _tell_expected(self, w: _Worker, sid: str) -> None:
        """Tell the form process that a device got its page from the front (its websocket follows: no pool refill meanwhile)."""
        if w.ready and w.ctrl is not None:
            w.out.append((frame(b"E", sid.encode("ascii")), None, b""))
            self._flush(w)

    # ------------------------------------------------------------------ connections
    async def _accept(self) -> None:
        assert self.lsock is not None
        while not self.stopping:
            try:
                conn, _addr = await self.loop.sock_accept(self.lsock)
            except OSError:
                if self.stopping:
                    return
                await asyncio.sleep(0.05)  # e.g. too many open files: try again shortly
                continue
            self.loop.create_task(self._route(conn))

    async def _route(self, conn: socket.socket) -> None:
        conn.setblocking(False)
        buf = b""
        timeout = HEAD_TIMEOUT
        while True:
            deadline = self.loop.time() + timeout
            try:
                while b"\r\n\r\n" not in buf:
                    if len(buf) > MAX_HEAD:
                        await self.loop.sock_sendall(conn, b"HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                        conn.close()
                        return
                    chunk = await asyncio.wait_for(self.loop.sock_recv(conn, 65536), max(0.01, deadline - self.loop.time()))
                    if not chunk:
                        conn.close()
                        return
                    buf += chunk
            except (asyncio.TimeoutError, OSError):
                conn.close()
                return
            end = buf.index(b"\r\n\r\n") + 4
            answer = self._file_response(buf[:end - 4]) if self.files else None
            if answer is None:
                page = self._page_response(buf[:end - 4])
                if page is None:
                    break
                # a new device's page: sent from here, its session given to a form process (its websocket goes there)
                w = self._choose(page[2])
                self._tell_expected(w, page[2])
                answer = page[:2]
            # one of the page's files: sent from here (a form process would cost a connection hand-over and uvicorn)
            try:
                await self.loop.sock_sendall(conn, answer[0])
            except OSError:
                conn.close()
                return
            if not answer[1]:
                conn.close()
                return
            buf, timeout = buf[end:], KEEP_ALIVE  # the browser's next request on this connection
        method, path, sid, upgrade = request_target(buf)
        if sid is None and method == "GET" and not upgrade and not path.startswith(ASSET_PREFIXES):
            sid = str(uuid.uuid4())  # a new device opens a page: its session id, so the front knows where it lives
            buf = with_session_cookie(buf, sid)
        self._hand(self._choose(sid), conn, buf)

    def _choose(self, sid: str | None) -> _Worker:
        if sid is not None and sid in self.sessions:
            return self.workers[self.sessions[sid]]
        now = time.monotonic()
        live = [w for w in self.workers if w.ready] or self.workers
        w = min(live, key=lambda x: (x.load(now), x.index))
        if sid is not None:
            self.sessions[sid] = w.index
            w.recent.append(now)
        return w

    def _hand(self, w: _Worker, conn: socket.socket, buf: bytes) -> None:
        if not w.ready or w.ctrl is None:
            w.pending.append((time.monotonic(), conn, buf))
            return
        w.out.append((frame(b"C", buf), conn, buf))
        self._flush(w)

    def _flush(self, w: _Worker) -> None:
        while w.out and w.ctrl is not None:
            data, conn, raw = w.out[0]
            try:
                n = socket.send_fds(w.ctrl, [data], [conn.fileno()]) if conn is not None else w.ctrl.send(data)
            except BlockingIOError:
                if not w.writing:
                    w.writing = True
                    self.loop.add_writer(w.ctrl.fileno(), self._flush, w)
                return
            except OSError:
                return  # the process is gone: _lost() moves what was not handed over to its restart
            if conn is not None:
                conn.close()  # the form process has its own copy now
            if n < len(data):
                w.out[0] = (data[n:], None, raw)
            else:
                w.out.popleft()
        if w.writing and w.ctrl is not None:
            w.writing = False
            self.loop.remove_writer(w.ctrl.fileno())
