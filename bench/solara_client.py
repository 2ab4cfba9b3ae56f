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
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import datetime, timezone
from typing import Any

import httpx
import websockets

__all__ = ["Participant", "new_http"]


def _msg(msg_type: str, content: dict, session: str) -> dict:
    return {
        "header": {"msg_id": uuid.uuid4().hex, "msg_type": msg_type, "username": "bench", "session": session,
                   "date": datetime.now(timezone.utc).isoformat(), "version": "5.3"},
        "parent_header": {}, "metadata": {}, "content": content, "channel": "shell", "buffers": [],
    }


def new_http() -> Any:
    """An ``httpx.AsyncClient`` that keeps no cookies (each participant is a device of its own)."""
    import http.cookiejar

    client = httpx.AsyncClient(timeout=120)
    client.cookies.jar.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
    return client


class Participant:
    """One participant's page over Solara's websocket protocol (asyncio; ``websockets`` and ``httpx``)."""

    def __init__(self, base_url: str, join_code: str | None = None) -> None:
        self.base = base_url.rstrip("/") + "/"
        self.join_code = join_code
        self.models: dict[str, dict[str, Any]] = {}
        self.session = uuid.uuid4().hex
        self.t_page = self.t_socket = self.t_usable = self.t_finished = float("nan")
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

        ``http``: an ``httpx.AsyncClient`` shared by the simulated participants (one per
        participant costs the client, not the server, tens of milliseconds each).
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
        self._ws = await websockets.connect(ws_url, additional_headers={"Cookie": f"solara-session-id={cookie}"}, max_size=None, open_timeout=120, ping_interval=None)
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
