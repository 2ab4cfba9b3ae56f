"""A form process of ``upo workshop``: Solara's server for the connections the front hands it.

Started by :class:`toolkit.workshop.front.Front` as ``python -m toolkit.workshop.worker``
with two Unix sockets: over ``--conn-fd`` it receives connections (the socket's file
descriptor and the bytes the front read of the first request) and reports that it is ready
and how many pages it has open; over ``--live-fd`` it asks the front for the session's
shared live release state (:class:`SharedLiveRelease`). A connection becomes one of
uvicorn's own connections on this process's event loop, exactly as if uvicorn had accepted
it (the bytes read by the front are fed first). The process also listens on a port of
its own on 127.0.0.1 (its warm-up request; nothing else uses it).

It ignores Ctrl-C (the front stops it: SIGTERM), writes the drafts that wait to be saved,
and ends by itself when the front's socket closes (the front was killed). Also here: what the
process puts around Solara's app (:class:`GzipOnce`, no CDN, the warm-up before it says ready).

Example
-------
>>> SharedLiveRelease(("db", "i", "t0", None), 5, channel=None).k
5
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import pickle
import re
import signal
import socket
import sys
import threading
import time
import urllib.request
from typing import Any, Hashable

from ..privacy.live import LiveRelease
from .front import (
    PAGE_KEY_HEADERS,
    PROBE_HEADER,
    SID_MARK,
    decoded,
    frame,
    local_get,
    parse_frames,
    walk_page_files,
)

__all__ = ["SharedLiveRelease", "GzipOnce", "main"]

log = logging.getLogger("toolkit")


class _Channel:
    """Blocking request/answer calls to the front over the live socket (one at a time)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.lock = threading.Lock()
        self.buf = bytearray()

    def call(self, request: tuple) -> Any:
        with self.lock:
            self.sock.sendall(frame(b"Q", pickle.dumps(request, protocol=pickle.HIGHEST_PROTOCOL)))
            while True:
                got = parse_frames(self.buf)
                if got:
                    return pickle.loads(got[0][1])
                data = self.sock.recv(1 << 20)
                if not data:
                    raise ConnectionError("the workshop's front has gone")
                self.buf += data


class SharedLiveRelease(LiveRelease):
    """A :class:`toolkit.privacy.LiveRelease` whose decisions are made by the front, for every form process alike.

    The release itself (the record of what was shown) stays in this process, as before; only the
    last released state per quantity is shared.
    """

    def __init__(self, session: Hashable, k: int, channel: _Channel | None) -> None:
        super().__init__(k)
        self.session, self.channel = session, channel

    def _settle(self, key: Hashable, people: frozenset, value: Any) -> tuple[bool, tuple[frozenset, Any] | None]:
        fresh, last = self.channel.call(("step", self.session, self.k, key, people, value))
        return fresh, last

    def released(self, key: Hashable) -> tuple[frozenset, Any] | None:
        return self.channel.call(("get", self.session, self.k, key))


class _Receiver:
    """On uvicorn's event loop: turns the connections the front sends into uvicorn connections."""

    def __init__(self, server: Any, ctrl: socket.socket, gone: threading.Event) -> None:
        self.server, self.ctrl, self.gone = server, ctrl, gone
        self.buf = bytearray()
        self.fds: list[int] = []
        self.loop: asyncio.AbstractEventLoop | None = None

    async def run(self, sockets: list[socket.socket]) -> None:
        self.loop = asyncio.get_running_loop()
        self.ctrl.setblocking(False)
        self.loop.add_reader(self.ctrl.fileno(), self._readable)
        await self.server.serve(sockets=sockets)  # not the main thread: uvicorn leaves the signals to us

    def send(self, kind: bytes, info: dict) -> None:
        """A message to the front (from any thread)."""
        if self.loop is not None and not self.loop.is_closed():
            data = frame(kind, pickle.dumps(info))
            asyncio.run_coroutine_threadsafe(self.loop.sock_sendall(self.ctrl, data), self.loop)

    def _readable(self) -> None:
        try:
            data, fds, _flags, _addr = socket.recv_fds(self.ctrl, 1 << 16, 16)
        except BlockingIOError:
            return
        except OSError:
            data, fds = b"", []
        self.fds.extend(fds)
        if not data:
            assert self.loop is not None
            self.loop.remove_reader(self.ctrl.fileno())
            self.gone.set()
            return
        self.buf += data
        for kind, payload in parse_frames(self.buf):
            if kind == ord("C"):
                self._connection(self.fds.pop(0), payload)
            elif kind == ord("E"):  # the front sent a new device this process's page itself: its websocket follows
                _expect(payload.decode("ascii"))

    def _connection(self, fd: int, prefix: bytes) -> None:
        server, config = self.server, self.server.config
        sock = socket.socket(fileno=fd)
        sock.setblocking(False)

        def protocol() -> asyncio.Protocol:  # as uvicorn's Server.startup makes them, with the bytes the front read first
            proto = config.http_protocol_class(config=config, server_state=server.server_state, app_state=server.lifespan.state)
            made = proto.connection_made

            def connection_made(transport: asyncio.BaseTransport) -> None:
                made(transport)
                proto.data_received(prefix)

            proto.connection_made = connection_made  # type: ignore[method-assign]
            return proto

        assert self.loop is not None
        task = self.loop.create_task(self.loop.connect_accepted_socket(protocol, sock))
        task.add_done_callback(lambda t: t.cancelled() or t.exception() is None or log.warning("connection not taken: %s", t.exception()))


def _no_cdn() -> None:
    """Make Solara's asset proxy serve only installed files: a file it lacks is an error, never a CDN request."""
    import solara.server.cdn_helper as cdn

    def refuse(url: str) -> bytes:
        log.error("asset %s is not installed (pip install solara-assets); the workshop never loads from a CDN", url)
        raise RuntimeError(f"offline: {url} is not installed")

    cdn.fetch_from_cdn = refuse


def _filter_warnings() -> None:
    import warnings

    warnings.filterwarnings("ignore", message="Cookies with samesite=none require https")  # plain http in the room's LAN
    warnings.filterwarnings("ignore", message="websockets.legacy is deprecated")  # uvicorn's "websockets" implementation
    warnings.filterwarnings("ignore", message="websockets.server.WebSocketServerProtocol is deprecated")
    warnings.filterwarnings("ignore", message="The `websockets` implementation is deprecated")  # see toolkit.workshop.tuning


def _buffered(done: Any) -> Any:
    """An ASGI ``send`` that collects a response and calls ``done(start_message, body_bytes)`` once it is complete."""
    start: dict = {}
    body: list[bytes] = []

    async def capture(message: dict) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
        elif message["type"] == "http.response.body":
            body.append(message.get("body", b""))
            if not message.get("more_body"):
                await done(start, b"".join(body))

    return capture


class GzipOnce:
    """Compress each distinct page once, not on every request (ASGI wrapper around Solara's app).

    Every participant gets the same page HTML (only the cookie header differs), but the GZip
    middleware compressed it again at level 9 for each request: about 20 ms of the server's one
    core per join, most of the page request. HTML responses to a ``GET`` are now fetched
    uncompressed from the app, compressed once per distinct body (a small cache) and sent with
    their own headers; everything else (assets, websockets) passes through unchanged.
    """

    #: the page's script, style and font files: the same bytes for the server's lifetime (installed packages)
    ASSET_PREFIXES = ("/static/", "/_solara/cdn/", "/jupyter/nbextensions/")

    def __init__(self, app: Any, max_entries: int = 16, max_asset_bytes: int = 64 * 2**20) -> None:
        self.app = app
        self.max_entries = max_entries
        self.max_asset_bytes = max_asset_bytes
        self._cache: dict[bytes, bytes] = {}
        self._assets: dict[tuple, tuple[dict, bytes]] = {}
        self._asset_bytes = 0
        self._pages: dict[tuple, tuple[dict, bytes]] = {}

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        headers = dict(scope.get("headers") or ())
        path = scope.get("path", "")
        if scope.get("type") == "http" and scope.get("method") == "GET" and path.startswith(self.ASSET_PREFIXES) \
                and b"if-none-match" not in headers and b"if-modified-since" not in headers and b"range" not in headers:
            await self._asset(scope, receive, send, headers)
            return
        if scope.get("type") != "http" or scope.get("method") != "GET" or path.startswith(("/static", "/_solara", "/jupyter", "/api")):
            await self.app(scope, receive, send)
            return
        await self._page(scope, receive, send, headers)

    async def _page(self, scope: dict, receive: Any, send: Any, headers: dict) -> None:
        """A page request: the app's response once per page, then sent from memory with this device's session cookie.

        The response is the same for every device but for its session cookie (Solara sets the
        ``solara-session-id`` the request carried, which the front gave every new device): kept
        with the cookie's value as a placeholder, per path and the request's host, scheme and
        forwarded headers (what Solara's page handler reads); a request without a session cookie
        of the usual form, or a response that is no plain 200 page, goes to the app every time.
        Solara's page handler and the middleware around it were most of a page request's CPU.
        """
        gzip_ok = b"gzip" in headers.get(b"accept-encoding", b"")
        sid = _session_of(headers)
        key = (scope.get("path", ""), scope.get("query_string", b""), scope.get("scheme"), scope.get("root_path", ""), gzip_ok,
               *(headers.get(h) for h in PAGE_KEY_HEADERS))
        hit = self._pages.get(key) if sid is not None else None
        probe = PROBE_HEADER.encode() in headers  # the front learning the page (no device waits for it)
        if hit is not None:
            if not probe:
                _expect(sid)
            start, body = hit
            mine = sid.encode()  # type: ignore[union-attr]
            await send({**start, "headers": [(k, v.replace(SID_MARK, mine) if k == b"set-cookie" else v) for k, v in start["headers"]]})
            await send({"type": "http.response.body", "body": body})
            return
        inner = {**scope, "headers": [(k, v) for k, v in scope["headers"] if k != b"accept-encoding"]}

        async def done(start: dict, raw: bytes) -> None:
            if sid is not None and start.get("status") == 200 and _is_html(start) and not probe:
                _expect(sid)
            start, body = self._encoded(start, raw) if gzip_ok else (start, raw)
            if sid is not None:
                self._keep_page(key, start, body, sid)
            await send(start)
            await send({"type": "http.response.body", "body": body})

        await self.app(inner, receive, _buffered(done))

    def _keep_page(self, key: tuple, start: dict, body: bytes, sid: str) -> None:
        hdrs = list(start.get("headers") or ())
        cookies = [v for k, v in hdrs if k == b"set-cookie"]
        mine = sid.encode()
        if start.get("status") != 200 or not cookies or not all(mine in v for v in cookies) \
                or not _is_html(start) \
                or any(mine in v for k, v in hdrs if k != b"set-cookie") or mine in body:
            return  # not the plain page every device gets
        if len(self._pages) >= self.max_entries:
            self._pages.clear()
        self._pages[key] = ({**start, "headers": [(k, v.replace(mine, SID_MARK) if k == b"set-cookie" else v) for k, v in hdrs]}, body)

    async def _asset(self, scope: dict, receive: Any, send: Any, headers: dict) -> None:
        """An installed asset file: the app's 200 response (compressed once by Solara) kept in memory and sent in one piece.

        Every phone of a room joining at once fetches the same 15 files (≈ 1.7 MB compressed); the
        app answered each from disk in chunks, a worker-thread hop per chunk.
        """
        key = (scope["path"], scope.get("query_string", b""), b"gzip" in headers.get(b"accept-encoding", b""))
        hit = self._assets.get(key)
        if hit is not None:
            await send(hit[0])
            await send({"type": "http.response.body", "body": hit[1]})
            return
        async def done(start: dict, raw: bytes) -> None:
            hdrs = [(k, v) for k, v in start.get("headers") or () if k != b"content-length"] + [(b"content-length", str(len(raw)).encode())]
            head = {**start, "headers": hdrs}
            personal = any(k.lower() == b"set-cookie" for k, _ in hdrs)  # never hand one device's cookie to others
            if start.get("status") == 200 and not personal and self._asset_bytes + len(raw) <= self.max_asset_bytes:
                self._assets[key] = (head, raw)
                self._asset_bytes += len(raw)
            await send(head)
            await send({"type": "http.response.body", "body": raw})

        await self.app(scope, receive, _buffered(done))

    def _encoded(self, start: dict, raw: bytes) -> tuple[dict, bytes]:
        """An HTML response gzip-compressed (once per distinct body); anything else as it is."""
        hdrs = list(start.get("headers") or ())
        is_html = any(k == b"content-type" and v.startswith(b"text/html") for k, v in hdrs)
        if is_html and len(raw) >= 1000 and not any(k == b"content-encoding" for k, _ in hdrs):
            gz = self._cache.get(raw)
            if gz is None:
                import gzip

                gz = gzip.compress(raw, 6, mtime=0)
                if len(self._cache) >= self.max_entries:
                    self._cache.clear()
                self._cache[raw] = gz
            hdrs = [(k, v) for k, v in hdrs if k != b"content-length"] + [
                (b"content-encoding", b"gzip"), (b"content-length", str(len(gz)).encode()), (b"vary", b"Accept-Encoding")]
            raw = gz
        return {**start, "headers": hdrs}, raw


def _is_html(start: dict) -> bool:
    return any(k == b"content-type" and v.startswith(b"text/html") for k, v in start.get("headers") or ())


def _expect(sid: str) -> None:
    """A page was sent to the device ``sid``: its websocket follows once its browser has loaded it (no pool refill meanwhile)."""
    from .tuning import expect

    expect(sid)


_SID_FORM = re.compile(r"[A-Za-z0-9_-]{8,64}")  # session ids as the front and Solara make them (uuid4)


def _session_of(headers: dict) -> str | None:
    """The request's Solara session cookie, as Solara reads it, if it has the usual form (else None)."""
    raw = headers.get(b"cookie")
    if not raw:
        return None
    from solara.server.server import get_session_id_cookie
    from starlette.requests import cookie_parser

    sid = get_session_id_cookie(cookie_parser(raw.decode("latin-1")))
    return sid if sid and _SID_FORM.fullmatch(sid) else None


def _wait_pool(pool: Any, timeout: float) -> None:
    """Wait (at most ``timeout`` s) until the page sessions created ahead are ready: "Ready" means a room can join."""
    deadline = time.monotonic() + timeout
    while pool.ready() < pool.size and time.monotonic() < deadline:
        time.sleep(0.05)


def _warm_assets(base: str, html: str) -> int:
    """Fetch the page's asset files once, so that :class:`GzipOnce` holds them before anyone joins; returns how many.

    A process's first browser page asked for every file cold (read from the installed packages
    and compressed): about half a second of the process's core, in the middle of a room's joins.
    ``base``: the process's own address on 127.0.0.1 (``http://127.0.0.1:<port>/``).
    """
    from urllib.parse import urlsplit

    port = urlsplit(base).port or 80

    def fetch(path: str) -> bytes | None:
        with contextlib.suppress(Exception):  # a file the page names but the server lacks: the browser gets the same answer
            status, headers, body = local_get(port, path)
            return decoded(headers, body) if status == 200 else None
        return None

    return walk_page_files(html, fetch)


def _warm_up(url: str) -> None:
    """One page request so the app module, the store and the instrument are loaded before anyone joins; then the page's files."""
    html = ""
    with contextlib.suppress(Exception), urllib.request.urlopen(url, timeout=60) as resp:
        html = resp.read().decode("utf-8", "replace")
    with contextlib.suppress(Exception):
        _warm_assets(url, html)
    with contextlib.suppress(Exception):
        from . import app

        rt = app.runtime()
        from ..widgets.form import ParticipantForm

        ParticipantForm(rt.new_state())  # imports and first-call costs of the widgets, outside any page
        from ..widgets.dashboard import warm_up

        warm_up()


def _freeze_start_up() -> None:
    """What the process holds once it is ready (modules, the app, the pages made ahead) is left out of the garbage collector's full passes.

    Each full collection walked every object of the process (≈ 150,000 after start-up, ≈ 65 ms
    holding the interpreter lock, so every page of the process waited) although almost all of them
    live as long as the process; ``gc.freeze()`` leaves them out and a full pass walks only what
    the pages made since. Reference counting still frees them; a cycle among them (a page made
    ahead and closed later) is kept until the process ends, at most the pages made ahead at start-up.
    """
    import gc

    gc.collect()
    gc.freeze()


def _pages() -> int:
    from solara.server import kernel_context

    return len(kernel_context.contexts)


def _flush_drafts() -> None:
    from . import app

    rt = getattr(app, "_runtime", None)
    if rt is not None:
        rt.saver.flush()


def run(conn_fd: int, live_fd: int, index: int, pool_size: int) -> int:
    """The form process: returns its exit code."""
    stop, gone = threading.Event(), threading.Event()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in the terminal: the front stops us
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    ctrl, live = socket.socket(fileno=conn_fd), socket.socket(fileno=live_fd)
    from ..privacy.live import share_live_state

    channel = _Channel(live)
    share_live_state(lambda key, k: SharedLiveRelease(key, k, channel))
    import uvicorn

    _filter_warnings()
    _no_cdn()
    from solara.server.starlette import app as solara_app

    from .tuning import apply

    pool = apply(pool_size)
    # ws="websockets": the implementation Solara's synchronous frame writer works with (SOLARA_SERVER_SYNC_WS_WRITE)
    # ws_per_message_deflate=False: compressing every widget message cost the form process about an eighth of its
    # CPU per participant (bench/bench_participant_cost.py), for about 0.4 MB saved per participant on the room's
    # Wi-Fi; the page itself and its assets stay gzip-compressed (GzipOnce).
    config = uvicorn.Config(GzipOnce(solara_app), host="127.0.0.1", port=0, log_level="warning", lifespan="on", ws="websockets",
                            ws_per_message_deflate=False, ws_ping_interval=10, ws_ping_timeout=20, timeout_graceful_shutdown=5)
    server = uvicorn.Server(config)
    own = socket.create_server(("127.0.0.1", 0))
    port = own.getsockname()[1]
    receiver = _Receiver(server, ctrl, gone)
    thread = threading.Thread(target=lambda: asyncio.run(receiver.run([own])), name="upo-workshop-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline or gone.is_set():
            log.error("form process %d: the server did not start", index)
            return 1
        time.sleep(0.05)
    _warm_up(f"http://127.0.0.1:{port}/")
    if pool is not None:
        _wait_pool(pool, 30.0)
    _freeze_start_up()
    receiver.send(b"R", {"port": port, "pool": pool.ready() if pool is not None else 0})
    last = -1
    while not stop.is_set() and not gone.is_set():
        if not thread.is_alive():
            log.error("form process %d: the server stopped unexpectedly", index)
            return 1
        pages = _pages()
        if pages != last:
            receiver.send(b"L", {"pages": pages})
            last = pages
        stop.wait(0.5)
    try:
        _flush_drafts()  # what waits to be written (at most a second of answers) is kept
    except Exception:
        log.exception("form process %d: drafts not written", index)
    server.should_exit = True
    thread.join(timeout=8)
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m toolkit.workshop.worker", description="a form process of upo workshop (started by it)")
    ap.add_argument("--conn-fd", type=int, required=True)
    ap.add_argument("--live-fd", type=int, required=True)
    ap.add_argument("--index", type=int, default=0)
    ap.add_argument("--pool", type=int, default=0)
    a = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format=f"%(levelname)s %(name)s [form {a.index}]: %(message)s")
    code = run(a.conn_fd, a.live_fd, a.index, a.pool)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # no waiting for Solara's and the page threads at interpreter exit


if __name__ == "__main__":
    main()
