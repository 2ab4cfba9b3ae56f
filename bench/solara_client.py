"""A participant of ``upo workshop`` at the protocol level: what the browser's JavaScript does, without a browser.

The steps are those of Solara's page script (``solara/server/static/main-vuetify.js``):

1. ``GET /`` (the page; it sets the ``solara-session-id`` cookie);
2. a websocket to ``/jupyter/api/kernels/<new uuid>/channels?session_id=<new uuid>`` with that
   cookie (Solara creates the page's virtual kernel on connect);
3. ``comm_open`` of a ``solara.control`` comm and a ``comm_msg`` ``{"method": "run"}`` (Solara
   renders the app; every widget arrives as a ``comm_open`` of ``jupyter.widget`` with its state,
   later changes as ``comm_msg`` ``update``; ``{"method": "finished"}`` ends the run).

*Usable* is the moment the form's submit button (a ``ButtonModel`` with the class ``upo-submit``)
and the shown page (a ``VBox`` with the class ``upo-section``, sent after all its widgets) have
arrived: the submit button alone comes before the page's questions. :meth:`Participant.fill` then answers like a person through the widgets
(``update`` of a text's ``value``, a toggle's or a slider's ``index``; ``custom`` ``click``
of a button), and :meth:`Participant.submit` clicks "Absenden" and waits for the thanks.

**The client's own cost.** Sixty participants run in one Python process of the bench, on the
same cores as the server, and everything a participant's phone would do with its own CPU is
done here one after another: what the client spends delays every later participant's
*usable* moment although the server has long sent its widgets. Measured (cProfile, 60 joins,
2 form processes) the client spent more CPU than the server (1.5 against 1.4 s), most of it
in ``httpx``: a connection pool shared by 60 concurrent requests (its assignment loop is
quadratic), anyio's task groups and cancel scopes per request, and the imports of its first
request (httpcore's backends, ≈ 0.8 s in the first milliseconds of the burst). The page
request is now what a browser sends on its own connection (:class:`PageClient`: one HTTP/1.1
``GET`` with ``Accept-Encoding: gzip`` over asyncio streams, the response read, decompressed
and its ``solara-session-id`` cookie taken), the websocket skips ``websockets``' proxy lookup
in the environment (≈ 1.6 ms per connection; a browser resolves its proxy settings once),
and :func:`warm_up` does the client's one-time imports and first-use work before the burst
(as the bench's ``warm_browser`` does for Chromium). The server sees the same requests as
before: the same page ``GET`` (now one connection per device, as from phones, instead of
connections reused across participants by the shared pool), the same websocket and
messages, and *usable* is the same state.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
import zlib
from datetime import datetime, timezone
from typing import Any

import websockets
import websockets.asyncio.client  # imported here, not in the first websocket of a burst

__all__ = ["PageClient", "Participant", "new_http", "warm_up"]


def _msg(msg_type: str, content: dict, session: str) -> dict:
    return {
        "header": {"msg_id": uuid.uuid4().hex, "msg_type": msg_type, "username": "bench", "session": session,
                   "date": datetime.now(timezone.utc).isoformat(), "version": "5.3"},
        "parent_header": {}, "metadata": {}, "content": content, "channel": "shell", "buffers": [],
    }


class PageResponse:
    """What :class:`PageClient` read: the status, the headers (lower-case names, in order), the decoded body, the cookies set."""

    def __init__(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body
        self.cookies: dict[str, str] = {}
        for name, value in headers:
            if name == "set-cookie":
                k, _, v = value.split(";", 1)[0].strip().partition("=")
                self.cookies[k] = v.strip('"')

    def raise_for_status(self) -> None:
        if self.status != 200:
            raise ConnectionError(f"HTTP {self.status}")


class PageClient:
    """The page request as a browser makes it: its own connection, one ``GET``, the gzip-compressed answer decoded.

    Keeps no cookies (each participant is a device of its own). ``timeout``: seconds for the whole request.
    """

    def __init__(self, timeout: float = 120) -> None:
        self.timeout = timeout

    async def get(self, url: str, headers: dict[str, str] | None = None) -> PageResponse:
        return await asyncio.wait_for(self._get(url, headers or {}), self.timeout)

    async def _get(self, url: str, headers: dict[str, str]) -> PageResponse:
        from urllib.parse import urlsplit

        u = urlsplit(url)
        host, port = u.hostname or "127.0.0.1", u.port or 80
        target = (u.path or "/") + (f"?{u.query}" if u.query else "")
        head = {"Host": u.netloc, "User-Agent": "upo-bench", "Accept": "text/html,*/*", "Accept-Encoding": "gzip",
                "Connection": "close", **headers}
        reader, writer = await asyncio.open_connection(host, port)
        try:
            writer.write((f"GET {target} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in head.items()) + "\r\n").encode("latin-1"))
            raw = await reader.read()  # Connection: close: the answer ends with the connection
        finally:
            writer.close()
        top, _, body = raw.partition(b"\r\n\r\n")
        lines = top.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        hdrs = [(k.strip().lower(), v.strip()) for k, _, v in (line.partition(":") for line in lines[1:])]
        names = dict(hdrs)
        if names.get("transfer-encoding", "").lower() == "chunked":
            body = _unchunk(body)
        elif "content-length" in names:
            body = body[:int(names["content-length"])]
        if names.get("content-encoding", "").lower() == "gzip":
            body = zlib.decompress(body, 16 + zlib.MAX_WBITS)
        return PageResponse(status, hdrs, body)

    async def aclose(self) -> None:
        return None


def _unchunk(data: bytes) -> bytes:
    out, i = bytearray(), 0
    while True:
        j = data.index(b"\r\n", i)
        n = int(data[i:j].split(b";", 1)[0], 16)
        if n == 0:
            return bytes(out)
        out += data[j + 2:j + 2 + n]
        i = j + 2 + n + 2


def new_http() -> PageClient:
    """The page client the simulated participants share (it keeps no connection and no cookie between them)."""
    return PageClient()


async def warm_up(base_url: str) -> None:
    """The client's one-time work before a burst: a request to the server's health check (no page, no session)."""
    with contextlib.suppress(OSError, ValueError, asyncio.TimeoutError):
        await PageClient(30).get(base_url.rstrip("/") + "/readyz")
    json.loads(json.dumps(_msg("status", {}, "warm")))


class Participant:
    """One participant's page over Solara's websocket protocol (asyncio; ``websockets`` and :class:`PageClient`)."""

    def __init__(self, base_url: str, join_code: str | None = None) -> None:
        self.base = base_url.rstrip("/") + "/"
        self.join_code = join_code
        self.models: dict[str, dict[str, Any]] = {}
        self.session = uuid.uuid4().hex
        self.t_page = self.t_socket = self.t_first = self.t_usable = self.t_finished = float("nan")
        self.t_submitted = float("nan")
        self.error: str | None = None
        self._seen_submit = self._seen_page = False
        self._idle: dict[str, asyncio.Event] = {}
        self._changed = asyncio.Event()
        self._ws: Any = None
        self._reader: asyncio.Task | None = None

    # ------------------------------------------------------------------ the wire
    async def _send(self, msg_type: str, content: dict) -> str:
        m = _msg(msg_type, content, self.session)
        self._idle[m["header"]["msg_id"]] = asyncio.Event()
        await self._ws.send(json.dumps(m))
        return m["header"]["msg_id"]

    async def _read(self) -> None:
        async for raw in self._ws:
            if self.t_first != self.t_first:  # the server's first message (the app runs: the page's widgets follow)
                self.t_first = time.perf_counter()
            if isinstance(raw, bytes):  # binary frame: offsets, then the JSON part
                import struct

                n = struct.unpack("!i", raw[:4])[0]
                offs = struct.unpack("!" + "I" * n, raw[4:4 * (n + 1)])
                raw = raw[offs[0]:offs[1] if n > 1 else None]
            msg = json.loads(raw)
            kind, content = msg["msg_type"] if "msg_type" in msg else msg["header"]["msg_type"], msg.get("content", {})
            if kind == "comm_open" and content.get("target_name") == "jupyter.widget":
                self.models[content["comm_id"]] = dict(content["data"].get("state", {}))
                self._check_usable(content["comm_id"])
            elif kind == "comm_msg":
                data = content.get("data", {})
                if data.get("method") == "update" and content["comm_id"] in self.models:
                    self.models[content["comm_id"]].update(data.get("state", {}))
                    self._check_usable(content["comm_id"])
                elif data.get("method") == "finished":
                    self.t_finished = time.perf_counter()
            elif kind == "comm_close":
                self.models.pop(content.get("comm_id"), None)
            elif kind == "status" and content.get("execution_state") == "idle":
                ev = self._idle.get(msg.get("parent_header", {}).get("msg_id", ""))
                if ev is not None:
                    ev.set()
            self._changed.set()

    def _check_usable(self, comm_id: str) -> None:
        classes = self.models[comm_id].get("_dom_classes", ())
        if "upo-submit" in classes:
            self._seen_submit = True
        if "upo-section" in classes:
            self._seen_page = True
        if self.t_usable != self.t_usable and self._seen_submit and self._seen_page:
            self.t_usable = time.perf_counter()

    async def _wait(self, msg_id: str, timeout: float = 120) -> None:
        await asyncio.wait_for(self._idle[msg_id].wait(), timeout)
        self._idle.pop(msg_id, None)

    async def _widget(self, comm_id: str, data: dict) -> None:
        await self._wait(await self._send("comm_msg", {"comm_id": comm_id, "data": data}))

    async def _until(self, pred, timeout: float = 120) -> None:
        deadline = time.perf_counter() + timeout
        while not pred():
            if self._reader is not None and self._reader.done():
                self._reader.result()  # the connection ended: its error, or
                raise ConnectionError("the server closed the connection")
            self._changed.clear()
            left = deadline - time.perf_counter()
            if left <= 0:
                raise TimeoutError("the server did not send the expected widgets")
            try:
                await asyncio.wait_for(self._changed.wait(), left)
            except asyncio.TimeoutError:
                pass

    # ------------------------------------------------------------------ the steps
    async def join(self, t0: float, http: Any = None) -> float:
        """Open the page and the websocket, run the app until the submit button has arrived; returns seconds since ``t0``.

        ``http``: a :class:`PageClient` shared by the simulated participants (:func:`new_http`).
        """
        own = http is None
        http = http or new_http()
        try:
            r = await http.get(self.base, headers={"Accept-Encoding": "gzip"})
            r.raise_for_status()
            cookie = r.cookies.get("solara-session-id")
        finally:
            if own:
                await http.aclose()
        self.t_page = time.perf_counter()
        ws_url = self.base.replace("http", "ws", 1) + f"jupyter/api/kernels/{uuid.uuid4()}/channels?session_id={uuid.uuid4()}"
        # proxy=None: no look-up of proxy variables in the environment per connection (the server is on this network)
        self._ws = await websockets.connect(ws_url, additional_headers={"Cookie": f"solara-session-id={cookie}"}, max_size=None, open_timeout=120,
                                            ping_interval=None, proxy=None)
        self.t_socket = time.perf_counter()
        self._reader = asyncio.create_task(self._read())
        control = uuid.uuid4().hex
        await self._send("comm_open", {"comm_id": control, "target_name": "solara.control", "data": {}})
        await self._send("comm_msg", {"comm_id": control, "data": {"method": "run", "args": {"path": "/", "appName": None, "dark": False, "themes": None}}})
        if self.join_code:
            await self._until(lambda: self._find("upo-join-input") is not None)
            await self._widget(self._child(self._find("upo-join-input"), "TextModel", self_ok=True), {"method": "update", "state": {"value": self.join_code}, "buffer_paths": []})
        await self._until(lambda: self.t_usable == self.t_usable)
        return self.t_usable - t0

    def _find(self, cls: str, model: str | None = None) -> str | None:
        for cid, st in self.models.items():
            if cls in st.get("_dom_classes", ()) and (model is None or st.get("_model_name") == model):
                return cid
        return None

    def _child(self, cid: str, model: str, self_ok: bool = False) -> str:
        if self_ok and self.models[cid].get("_model_name") == model:
            return cid
        for ref in self.models[cid].get("children", ()):
            kid = ref.removeprefix("IPY_MODEL_")
            if self.models.get(kid, {}).get("_model_name") == model:
                return kid
        raise KeyError(f"no {model} in {cid}")

    async def fill(self, code: tuple[str, str, str, str], seed: int = 0) -> int:
        """Answer every required question through the widgets, page by page; returns the number of widget messages sent."""
        sent, done = 0, set()
        for eid, value in zip(("mother", "birthday", "birthplace", "street"), code):
            card = self._find(f"upo-code-{eid}")
            if card is not None:
                await self._widget(self._child(card, "TextModel", self_ok=True), {"method": "update", "state": {"value": value}, "buffer_paths": []})
                sent += 1
        while True:
            for cid in [c for c, st in list(self.models.items()) if any(k.startswith("upo-item-") for k in st.get("_dom_classes", ()))]:
                if cid in done:
                    continue
                done.add(cid)
                for model, index in (("ToggleButtonsModel", seed % 3), ("SelectionSliderModel", 1 + seed % 3)):
                    try:
                        kid = self._child(cid, model, self_ok=True)  # the card itself (a question that is one widget) or its child
                    except KeyError:
                        continue
                    await self._widget(kid, {"method": "update", "state": {"index": index}, "buffer_paths": []})
                    sent += 1
            nxt = self._find("upo-next", "ButtonModel")
            if nxt is None or self._layout_hidden(nxt):
                break
            await self._widget(nxt, {"method": "custom", "content": {"event": "click"}})
            sent += 1
        return sent

    def _layout_hidden(self, cid: str) -> bool:
        if "upo-hidden" in self.models[cid].get("_dom_classes", ()):
            return True
        lay = self.models.get(str(self.models[cid].get("layout", "")).removeprefix("IPY_MODEL_"), {})
        return lay.get("visibility") == "hidden"

    async def submit(self) -> bool:
        """Click "Absenden" and wait for the thanks (``upo-ok``) in the result field."""
        button = self._find("upo-submit", "ButtonModel")
        await self._widget(button, {"method": "custom", "content": {"event": "click"}})
        # the result field may be made only now (the form makes it when it first has something to say)
        await self._until(lambda: "upo-ok" in str(self.models.get(self._find("upo-result", "HTMLModel") or "", {}).get("value", "")), timeout=60)
        self.t_submitted = time.perf_counter()
        return True

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            self._reader.cancel()
