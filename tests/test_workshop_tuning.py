"""Issue 15b: Solara's per-page costs cut in the workshop server (toolkit.workshop.tuning), behaviour unchanged."""

from __future__ import annotations

import time

import pytest

pytest.importorskip("solara.server.app")

from _async import run_async

from toolkit.workshop import tuning  # noqa: E402


def test_a_page_shell_does_not_build_the_script_magics():
    """Solara built IPython's eight %%script magics (argument parsers) for every page, only to unregister their exit hook."""
    tuning.apply(pool_size=0)
    from solara.server.shell import SolaraInteractiveShell

    shell = SolaraInteractiveShell()
    assert "ScriptMagics" not in shell.magics_manager.registry  # not loaded: a dict lookup does not load it
    assert shell.magics_manager.registry["ScriptMagics"] is not None  # still there when someone uses it
    assert shell.display_pub is not None and shell.display_formatter is not None


def test_one_ipython_object_per_page_with_no_op_events():
    """Every widget message made a FakeIPython with a MagicMock (which also records every call)."""
    tuning.apply(pool_size=0)
    import IPython
    from solara.server import kernel, kernel_context

    ctx = kernel_context.VirtualKernelContext(id="k-test", kernel=kernel.Kernel(), session_id="s-test", control_sockets=[], widgets={}, templates={})
    try:
        with ctx:
            first, second = IPython.get_ipython(), IPython.get_ipython()
            assert first is second and first.kernel is ctx.kernel
            first.events.trigger("pre_execute")  # what comm's handle_msg calls around each message
    finally:
        ctx.close()
    assert IPython.get_ipython() is not first  # outside the page: not the page's object


def test_kernel_pool_hands_each_kernel_out_once_and_refills_when_quiet():
    made = []

    def factory():
        made.append(object())
        return made[-1]

    pool = tuning.KernelPool(factory, 3, quiet=0.2)
    deadline = time.monotonic() + 5
    while pool.ready() < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert pool.ready() == 3
    taken = [pool.take() for _ in range(5)]  # a burst larger than the pool: the rest made on the spot
    assert len({id(k) for k in taken}) == 5
    assert pool.ready() == 0
    time.sleep(0.1)
    assert pool.ready() == 0  # not refilled during the burst
    deadline = time.monotonic() + 5
    while pool.ready() < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert pool.ready() == 3 and not {id(k) for k in taken} & {id(k) for k in pool._ready}


def test_a_kernel_made_ahead_gets_the_display_hook_in_the_page_thread():
    """Found while building the pool: the shell's display hook is per thread, so a kernel made in the pool's
    thread showed no form in a browser (display() went out as output instead of into the page's widgets)."""
    tuning.apply(pool_size=0)
    from solara.server import kernel

    pool = tuning.KernelPool(kernel.Kernel, 1, quiet=0.0, on_take=tuning._adopt)
    deadline = time.monotonic() + 10
    while pool.ready() < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    k = pool.take()
    shell = k.shell
    assert shell.display_in_reacton_hook in shell.display_pub._hooks  # in this (the page's) thread
    pool.size = 0
    k.close()


@pytest.mark.filterwarnings("ignore:websockets.legacy is deprecated")
def test_the_synchronous_writer_never_writes_after_its_connection_was_lost():
    """Found in review of SOLARA_SERVER_SYNC_WS_WRITE: it writes to a file descriptor number, which the event loop
    reuses for the next connection once it closed this one: a late write could reach another participant."""
    import socket

    tuning.apply(pool_size=0)
    from solara.server.sync_ws_write import SyncFrameWriter

    class Protocol:
        is_client, extensions = False, []
        lost = []

        def connection_lost(self, exc):
            self.lost.append(exc)

    a, b = socket.socketpair()
    try:
        a.setblocking(False)
        proto = Protocol()
        writer = SyncFrameWriter(proto, a.fileno())
        writer.send_text("hello")
        assert b"hello" in b.recv(100)
        proto.connection_lost(None)  # what asyncio calls before it closes the socket
        assert proto.lost == [None]
        with pytest.raises(OSError):
            writer.send_text("late")
        b.setblocking(False)
        with pytest.raises(BlockingIOError):
            b.recv(100)  # nothing went out after the loss
    finally:
        a.close()
        b.close()


def test_asset_files_are_sent_from_memory_and_never_with_a_cookie():
    """Issue 15b: each phone's 15 script/style files were read from disk in chunks; now once per server (not a cookie)."""

    from toolkit.workshop.worker import GzipOnce

    calls = []

    async def app(scope, receive, send):
        calls.append(scope["path"])
        cookie = [(b"set-cookie", b"solara-session-id=abc")] if scope["path"].endswith("personal.js") else []
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/javascript"), *cookie]})
        await send({"type": "http.response.body", "body": b"x" * 10, "more_body": True})
        await send({"type": "http.response.body", "body": b"y" * 5})

    async def get(wrapped, path):
        out = []

        async def send(message):
            out.append(message)

        scope = {"type": "http", "method": "GET", "path": path, "query_string": b"", "headers": [(b"accept-encoding", b"gzip")]}
        await wrapped(scope, None, send)
        return out

    wrapped = GzipOnce(app)
    first = run_async(get(wrapped, "/_solara/cdn/app.js"))
    again = run_async(get(wrapped, "/_solara/cdn/app.js"))
    assert calls == ["/_solara/cdn/app.js"] and again == first
    assert first[1]["body"] == b"x" * 10 + b"y" * 5 and (b"content-length", b"15") in first[0]["headers"]
    run_async(get(wrapped, "/_solara/cdn/personal.js"))
    run_async(get(wrapped, "/_solara/cdn/personal.js"))
    assert calls.count("/_solara/cdn/personal.js") == 2  # a response with a cookie is not kept


def test_page_html_is_rendered_once_per_path_and_settings(monkeypatch):
    """Solara rendered its page template for every page request (a third of a join's CPU in the form process)."""
    from solara.server import server, settings

    calls: list[str] = []

    def render(path, root_path="", jupyter_root_path=None, render_kwargs={}, use_nbextensions=True, ssg_data=None):  # noqa: B006
        calls.append(path)
        return None if path == "/nothing" else f"<html>{path} {settings.theme.title} {len(calls)}</html>"

    monkeypatch.setattr(server, "read_root", render)
    monkeypatch.setattr(settings.theme, "title", "Kompetenzreflexion")
    tuning.cached_root(max_entries=3)
    cached = server.read_root
    assert cached is not render
    first = cached("/", "")
    assert cached("/", "") is first and calls == ["/"]  # every participant: the same page, rendered once
    assert cached("/nothing", "") is None and cached("/nothing", "") is None and calls.count("/nothing") == 2  # no page: not kept
    assert cached("/", "", render_kwargs={"x": 1}) != first  # a page of its own: as Solara renders it
    monkeypatch.setattr(settings.theme, "title", "Competence reflection")
    assert "Competence reflection" in cached("/", "")  # a setting that changes is part of the key
    for i in range(5):  # made-up paths cannot fill the memory
        cached(f"/p{i}", "")
    tuning.cached_root()
    assert server.read_root is cached  # applied once


def test_a_page_joins_without_solaras_navigation_and_title_widgets(store):
    """Solara's router and page renderer added 9 of a page's 39 widgets (Navigator, Title, three boxes); the tab said "No title"."""
    import re
    import sys
    import urllib.request
    from pathlib import Path

    from toolkit.workshop import WorkshopProcess

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
    from solara_client import Participant

    srv = WorkshopProcess(store.path, "competence_reflection", "t0", ["--authority", "BVA", "--pool", "2", "--processes", "1"]).start()
    try:
        pages, cookies = [], []
        for _ in range(2):
            with urllib.request.urlopen(srv.url, timeout=60) as resp:
                pages.append(resp.read())
                cookies.append(resp.headers.get("Set-Cookie"))
        assert pages[0] == pages[1] and cookies[0] != cookies[1]  # the same page for everyone, a cookie per device
        assert re.search(rb"<title>\s*Kompetenzreflexion", pages[0])  # the tab's title comes from the page

        async def go() -> tuple[list[str], bool]:
            p = Participant(srv.url)
            try:
                await p.join(time.perf_counter())
                names = [m.get("_model_name", "") for m in p.models.values()]
                await p.fill(("AB", "3", "B", "Xy"))
                return names, await p.submit()
            finally:
                await p.close()

        names, submitted = run_async(go())
    finally:
        srv.stop()
    assert "TemplateModel" not in names and "SheetModel" not in names, names  # no Navigator, no Title, no column box
    assert len(names) <= 31, names  # was 39
    assert submitted and store.count_submissions("competence_reflection") == 1


def test_what_a_first_join_imported_is_imported_before_ready():
    """The room's first websocket imported anyio's asyncio backend, and every page searched the disk for the optional ipyreact."""
    import subprocess
    import sys

    code = ("import sys\nfrom toolkit.workshop import tuning\ntuning.apply(pool_size=0)\n"
            "print('anyio._backends._asyncio' in sys.modules)\n"
            "try:\n    import ipyreact\n    print('installed')\nexcept ModuleNotFoundError:\n    print(sys.modules.get('ipyreact', 'searched'))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120).stdout.split()
    assert out[0] == "True"
    assert out[1] in ("None", "installed")  # missing: remembered as missing (None), not searched for on every page


def test_a_page_theme_is_made_when_read_with_what_the_browser_sent():
    """Solara made a Theme widget (three widgets, a tenth of a join's messages) for every page, which the form never reads."""
    tuning.apply(pool_size=0)
    from solara.lab.components import theming
    from solara.server import app as solara_app
    from solara.server import kernel, kernel_context

    ctx = kernel_context.VirtualKernelContext(id="k-theme", kernel=kernel.Kernel(), session_id="s-theme", control_sockets=[], widgets={}, templates={})
    try:
        with ctx:
            solara_app.load_themes({"light": {"primary": "#123456"}, "dark": {"colors": {"primary": "#654321"}}}, True)
            assert not [w for w in ctx.widgets.values() if type(w).__name__ in ("Theme", "ThemeColors")]  # nothing sent for the page
            assert theming.theme.themes.light.primary == "#123456" and theming.theme.themes.dark.primary == "#654321"  # read: made, as sent
            assert theming.theme.dark_effective is True
            solara_app.load_themes({"light": {"primary": "#abcdef"}}, False)  # it exists now: applied at once, as Solara does
            assert theming.theme.themes.light.primary == "#abcdef" and theming.theme.dark_effective is False
    finally:
        ctx.close()


def test_page_response_is_kept_once_and_sent_with_each_devices_own_cookie():
    """Issue 15 (measured): every page request ran Solara's page handler and its middleware; now once per page and host."""
    from toolkit.workshop.worker import GzipOnce

    calls = []
    page = b"<html>" + b"the form " * 200 + b"</html>"

    async def app(scope, receive, send):  # as Solara's page handler: the page, and the request's session id as its cookie
        calls.append(scope["path"])
        cookie = dict(scope["headers"]).get(b"cookie", b"")
        sid = cookie.partition(b"solara-session-id=")[2].split(b";")[0]
        hdrs = [(b"content-type", b"text/html; charset=utf-8")]
        if sid:
            hdrs += [(b"set-cookie", b"solara-session-id=" + sid + b"; expires=Fri, 01 Jan 2038 00:00:00 GMT; Path=/; SameSite=lax")]
        await send({"type": "http.response.start", "status": 404 if scope["path"] == "/nothing" else 200, "headers": hdrs})
        await send({"type": "http.response.body", "body": page})

    async def get(wrapped, path, sid=None, host=b"room:8866"):
        out = []

        async def send(message):
            out.append(message)

        headers = [(b"host", host), (b"accept-encoding", b"gzip")] + ([(b"cookie", b"a=1; solara-session-id=" + sid)] if sid else [])
        await wrapped({"type": "http", "method": "GET", "path": path, "query_string": b"", "scheme": "http", "headers": headers}, None, send)
        return out

    import gzip

    wrapped = GzipOnce(app)
    a = run_async(get(wrapped, "/", b"0f3c1a52-aaaa-4bbb-8ccc-000000000001"))
    b = run_async(get(wrapped, "/", b"0f3c1a52-aaaa-4bbb-8ccc-000000000002"))
    assert calls == ["/"]  # the second device: from memory
    cookies = [[v for k, v in r[0]["headers"] if k == b"set-cookie"] for r in (a, b)]
    assert cookies[0] == [b"solara-session-id=0f3c1a52-aaaa-4bbb-8ccc-000000000001; expires=Fri, 01 Jan 2038 00:00:00 GMT; Path=/; SameSite=lax"]
    assert cookies[1] == [cookies[0][0].replace(b"0001;", b"0002;")]  # each device its own session, never another's
    assert gzip.decompress(a[1]["body"]) == page and b[1]["body"] == a[1]["body"]
    assert [h for h in a[0]["headers"] if h[0] != b"set-cookie"] == [h for h in b[0]["headers"] if h[0] != b"set-cookie"]
    run_async(get(wrapped, "/", b"0f3c1a52-aaaa-4bbb-8ccc-000000000003", host=b"other:8866"))
    assert calls == ["/", "/"]  # another host (what Solara's handler reads): its own response
    run_async(get(wrapped, "/"))
    run_async(get(wrapped, "/"))
    run_async(get(wrapped, "/", b"not a plain id"))
    assert calls.count("/") == 5  # no session cookie of the usual form: the app every time
    run_async(get(wrapped, "/nothing", b"0f3c1a52-aaaa-4bbb-8ccc-000000000004"))
    run_async(get(wrapped, "/nothing", b"0f3c1a52-aaaa-4bbb-8ccc-000000000005"))
    assert calls.count("/nothing") == 2  # no page: not kept


def test_uvicorn_websocket_handler_is_wrapped_without_inspecting_it_per_connection(monkeypatch):
    """Issue 15 (measured): websockets inspected uvicorn's handler twice for every page's websocket (≈ 0.2 ms each)."""
    import inspect
    import types
    import warnings

    from uvicorn.protocols.websockets.websockets_impl import WebSocketProtocol
    from websockets.legacy import server as legacy

    tuning.direct_ws_handler()
    seen = []

    class Bound:  # stands in for a connection's bound ``WebSocketProtocol.ws_handler``
        __func__ = staticmethod(WebSocketProtocol.ws_handler)  # as a bound method has it

        async def __call__(self, protocol, path):
            seen.append((protocol, path))
            return "done"

    def no_inspection(*_a, **_k):
        raise AssertionError("inspected")

    ws = types.SimpleNamespace(path="/jupyter/api/kernels/k/channels")
    with monkeypatch.context() as m, warnings.catch_warnings():
        m.setattr(inspect, "signature", no_inspection)
        warnings.simplefilter("error")  # no deprecation warning per connection either
        wrapped = legacy.remove_path_argument(Bound())
        assert run_async(wrapped(ws)) == "done"
    assert seen == [(ws, "/jupyter/api/kernels/k/channels")]  # the same call websockets' own wrapper makes

    async def other(websocket):
        return websocket.path

    assert legacy.remove_path_argument(other) is other  # any other handler: as websockets does


class _Socket:
    """A page's websocket as Solara's kernel sends to it: what was sent, in order."""

    def __init__(self) -> None:
        self.sent: list = []

    def send(self, message) -> None:
        self.sent.append(message)


def _widgets_sent(frames: list) -> list:
    """The widgets a browser got (model, state), with comm ids replaced by their order: comparable between two pages."""
    import json
    import re

    msgs = [json.loads(f) for f in frames]
    ids = {m["content"]["comm_id"]: f"#{i}" for i, m in enumerate(m for m in msgs if m["msg_type"] == "comm_open")}
    out = []
    for m in msgs:
        assert m["msg_type"] != "comm_close"
        text = json.dumps(m["content"].get("data", {}), sort_keys=True)
        out.append((m["msg_type"], ids.get(m["content"]["comm_id"], "?"), re.sub(r"IPY_MODEL_(\w+)", lambda g: ids.get(g.group(1), "?"), text)))
    return out


def _page_context(kernel, name):
    from solara.server import kernel_context

    ctx = kernel_context.VirtualKernelContext(id=name, kernel=kernel, session_id=name, control_sockets=[], widgets={}, templates={})
    sock = _Socket()
    kernel.session.websockets.add(sock)
    return ctx, sock


@pytest.mark.parametrize("join_code", ["", "K7Q2"])
def test_a_page_made_ahead_sends_what_a_page_made_at_the_join_sends(store, tmp_path, join_code):
    """Sessions made ahead also hold the page of a new device (built while the server is quiet): a join only sends it.
    The browser must get the same widgets in the same order; a device with a draft gets its own page, and the page made
    ahead for it is dropped without a message to the browser."""
    tuning.apply(pool_size=0)
    from solara.server import kernel

    from toolkit.workshop.pages import FormPage, Runtime

    rt = Runtime({"UPO_DB": str(store.path), "UPO_INSTRUMENT": "competence_reflection", "UPO_WAVE": "t0", "UPO_AUTHORITY": "BVA",
                  "UPO_DRAFTS": str(tmp_path / "drafts"), "UPO_JOIN_CODE": join_code})
    made = kernel.Kernel()
    tuning.make_ahead(made, lambda: FormPage.ahead(rt))
    assert len(rt.drafts) == 0  # nobody's page yet: no draft written
    tuning._stop_collecting(made)  # what the pool does when a page takes the kernel
    ctx, ahead_sock = _page_context(made, "k-ahead")
    with ctx:
        page = tuning.take_ahead(lambda p: p.attach("device-1"))
    assert page is not None and page.session_id == "device-1"
    ctx2, join_sock = _page_context(kernel.Kernel(), "k-join")
    with ctx2:
        built = FormPage(rt, "device-2")
    assert _widgets_sent(ahead_sock.sent) == _widgets_sent(join_sock.sent)
    assert len(ahead_sock.sent) >= 10
    assert set(ctx.widgets) == {w.model_id for w in ctx.widgets.values()} and page.widget.model_id in ctx.widgets
    assert (rt.drafts.load("device-1") is None) == (rt.drafts.load("device-2") is None)  # the same first draft
    if not join_code:
        with ctx:  # the participant answers: the page's callbacks work in its own kernel
            page.form.code_inputs["mother"].value = "Ma"
        assert page.form.state.code["mother"] == "Ma" and built.form.state.code.get("mother", "") == ""

    # a reload of a device with a draft: the page made ahead is not used, and the browser hears nothing of it
    rt.drafts.save("device-3", {"lang": "en", "page": 0, "joined": True})
    other = kernel.Kernel()
    tuning.make_ahead(other, lambda: FormPage.ahead(rt))
    tuning._stop_collecting(other)
    ctx3, sock3 = _page_context(other, "k-reload")
    with ctx3:
        assert tuning.take_ahead(lambda p: p.attach("device-3")) is None
        assert not other.comm_manager.comms and not ctx3.widgets and sock3.sent == []
        again = FormPage(rt, "device-3")
    assert again.form is not None and again.form.state.lang == "en"
    for c in (ctx, ctx2, ctx3):
        c.close()


def test_a_refused_page_made_ahead_is_never_registered_with_the_page(store, tmp_path):
    """The page made ahead joins the page's widgets only once accepted: during the check, after a refusal and after a
    check that fails, the page's context holds none of them and the browser hears nothing of them."""
    tuning.apply(pool_size=0)
    from solara.server import kernel

    from toolkit.workshop.pages import FormPage, Runtime

    rt = Runtime({"UPO_DB": str(store.path), "UPO_INSTRUMENT": "competence_reflection", "UPO_WAVE": "t0", "UPO_AUTHORITY": "BVA",
                  "UPO_DRAFTS": str(tmp_path / "drafts")})
    during: list[set] = []

    def refuse(_page) -> bool:
        during.append(set(ctx.widgets))
        return False

    def fail(_page) -> bool:
        during.append(set(ctx.widgets))
        raise RuntimeError("drafts unreadable")

    for check in (refuse, fail):
        made = kernel.Kernel()
        tuning.make_ahead(made, lambda: FormPage.ahead(rt))
        tuning._stop_collecting(made)
        ctx, sock = _page_context(made, f"k-{check.__name__}")
        with ctx:
            if check is fail:
                with pytest.raises(RuntimeError, match="drafts unreadable"):
                    tuning.take_ahead(check)
            else:
                assert tuning.take_ahead(check) is None
            assert not ctx.widgets and not made.comm_manager.comms and sock.sent == []
            assert getattr(made, "_upo_ahead", None) is None  # taken once: a second page of the kernel builds its own
        ctx.close()
    assert during == [set(), set()]


def test_the_pages_files_are_fetched_once_before_anyone_joins():
    """A form process's first browser page asked for every file cold (read and compressed: ≈ 0.5 s of the process's core,
    in the middle of a room's joins). The warm-up asks for what the page names, the fonts its style sheets name, and the
    widget modules requirejs loads (with their hash, as the browser asks for them)."""
    import http.server
    import threading

    from toolkit.workshop.worker import _warm_assets

    page = ('<link href="/_solara/cdn/app/dist/main.css"><script src="/_solara/cdn/requirejs/require.js"></script>'
            '<script>theme = "static/assets/theme-light.css?v=9"; nbextensionHashes = {"jupyter-vue/extension": "abc"};'
            " map = {'jupyter-vue': 'nbextensions/jupyter-vue/nodeps'};</script>")
    files = {"/_solara/cdn/app/dist/main.css": b"@font-face{src:url(f1.woff2) format('woff2'),url(f1.woff)}",
             "/_solara/cdn/requirejs/require.js": b"x", "/static/assets/theme-light.css?v=9": b"body{}",
             "/jupyter/nbextensions/jupyter-vue/nodeps.js?abc": b"y", "/_solara/cdn/app/dist/f1.woff2": b"z"}
    asked: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # http.server's name for it
            asked.append(self.path)
            body = files.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        n = _warm_assets(f"http://127.0.0.1:{srv.server_address[1]}/", page)
    finally:
        srv.shutdown()
    assert sorted(asked) == sorted(files) and n == len(files)  # the woff (not loaded by browsers that take woff2) is not asked for


def test_kernels_made_before_the_app_loaded_get_their_page_ahead_too():
    """The pool starts before the app module is loaded (it says what a page is); the kernels made by then are prepared
    once it is, and a kernel is never handed out twice or half prepared."""

    class K:
        page = None

    pool = tuning.KernelPool(K, 3, quiet=0.0)
    deadline = time.monotonic() + 5
    while pool.ready() < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    early = list(pool._ready)
    pool.set_prepare(lambda k: setattr(k, "page", object()))
    deadline = time.monotonic() + 5
    while pool.ready() < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    pool.quiet = 60.0  # no refill between the takes
    taken = [pool.take() for _ in range(4)]
    assert all(k.page is not None for k in taken[:3]) and {id(k) for k in early} <= {id(k) for k in taken[:3]}
    assert len({id(k) for k in taken}) == 4 and taken[3].page is None  # the pool was empty: made on the spot, as before
    pool.size = 0


def test_the_pool_is_never_refilled_while_a_join_is_pending():
    """A room's phones ask for the page at once and open their websockets only once their browser has loaded it, often
    later than the pool's quiet time: the refill (pages built holding the interpreter lock) ran in the middle of those
    joins. A join is pending from its page request until its page is built; a page never opened stops counting."""
    made = []

    def factory():
        made.append(object())
        return made[-1]

    pool = tuning.KernelPool(factory, 2, quiet=0.05, pending_for=60.0)
    deadline = time.monotonic() + 5
    while pool.ready() < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    pool.expect("device-1")
    pool.expect("device-2")
    pool.expect("device-2")  # a second tab of the same device
    pool.take()
    pool.joined("device-1")
    time.sleep(0.5)  # ten quiet times
    assert pool.pending() == 2 and pool.ready() == 1  # device 2's pages are still on their way: no refill
    pool.joined("device-2")
    time.sleep(0.3)
    assert pool.pending() == 1 and pool.ready() == 1
    pool.joined("device-2")
    deadline = time.monotonic() + 5
    while pool.ready() < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert pool.pending() == 0 and pool.ready() == 2  # every page built: refilled once quiet
    pool.pending_for = 0.1
    pool.expect("closed-tab")  # its websocket never comes
    pool.take()
    deadline = time.monotonic() + 5
    while pool.ready() < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert pool.pending() == 0 and pool.ready() == 2
    pool.size = 0


def test_a_page_sent_to_a_device_makes_its_join_pending_until_its_page_is_built(monkeypatch):
    """The form process learns of a join at its page request (the device's session cookie), from memory or from Solara;
    a response that is no page (not found) announces nothing."""
    from toolkit.workshop import worker

    pool = tuning.KernelPool(object, 0)
    monkeypatch.setattr(tuning, "_pool", pool)
    page = b"<html>" + b"the form " * 200 + b"</html>"

    async def app(scope, receive, send):
        sid = dict(scope["headers"]).get(b"cookie", b"").partition(b"solara-session-id=")[2]
        await send({"type": "http.response.start", "status": 404 if scope["path"] == "/nothing" else 200,
                    "headers": [(b"content-type", b"text/html"), (b"set-cookie", b"solara-session-id=" + sid + b"; Path=/")]})
        await send({"type": "http.response.body", "body": page})

    async def get(wrapped, path, sid):
        async def send(message):
            pass

        headers = [(b"host", b"room"), (b"accept-encoding", b"gzip"), (b"cookie", b"solara-session-id=" + sid)]
        await wrapped({"type": "http", "method": "GET", "path": path, "query_string": b"", "scheme": "http", "headers": headers}, None, send)

    wrapped = worker.GzipOnce(app)
    run_async(get(wrapped, "/", b"0f3c1a52-aaaa-4bbb-8ccc-000000000001"))  # from Solara
    run_async(get(wrapped, "/", b"0f3c1a52-aaaa-4bbb-8ccc-000000000002"))  # from memory
    run_async(get(wrapped, "/nothing", b"0f3c1a52-aaaa-4bbb-8ccc-000000000003"))
    assert set(pool._pending) == {"0f3c1a52-aaaa-4bbb-8ccc-000000000001", "0f3c1a52-aaaa-4bbb-8ccc-000000000002"}
    tuning.joined("0f3c1a52-aaaa-4bbb-8ccc-000000000001")
    assert pool.pending() == 1


def test_a_ready_form_process_leaves_its_start_up_objects_out_of_full_collections():
    """A full garbage collection walked every object of the form process (≈ 65 ms holding the interpreter lock)."""
    import gc

    from toolkit.workshop import worker

    try:
        worker._freeze_start_up()
        assert gc.get_freeze_count() > 1000
    finally:
        gc.unfreeze()
