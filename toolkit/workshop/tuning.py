"""Solara's per-page costs cut for ``upo workshop``: applied once in the server process, before anyone joins.

Profiled in the server (py-spy, 10-60 protocol clients, ``bench/bench_workshop_live.py``), one
server process spent its core on three things Solara does for every page and every widget
message, none of which the form needs:

* **The page's shell** (a virtual kernel's ``SolaraInteractiveShell``, ≈ 36 ms): more than
  half of it built IPython's ``%%bash``/``%%perl``/… script magics (eight argument parsers
  whose help text is formatted on creation), only so that Solara could unregister their exit
  hook. :func:`light_shell` unregisters the hook only when the magics were loaded (they load
  on first use), everything else about the shell is unchanged.
* **A kernel per page, created when the page connects**: :class:`KernelPool` keeps
  ``size`` kernels created ahead in a background thread while the server is quiet (the
  meaning ``--pool`` keeps), so a burst of joins takes ready ones; a page never gets a
  kernel another page used (a pooled kernel is new, and handed out once), and the page's
  thread gets the shell's per-thread display hook when it takes one (:func:`_adopt`).
* **The page's HTML** (``read_root``: Solara's Jinja template rendered for every page request,
  with file lookups, content hashes and an escape of every embedded script, ≈ 2 ms of CPU per
  request measured in-process): :func:`cached_root` renders it once per distinct
  request path and settings; it holds nothing of a person (the session cookie is set
  outside it, by Solara's ``root`` handler, per request).
* **Solara's page frame** (a third of a page's widgets, each a message): its router wraps every
  page in a column box with a ``Navigator`` (client-side navigation between routes, three
  widgets), and its page renderer in two more boxes with a ``Title`` (three widgets, which set
  the tab's title to "No title": the workshop's routes have no label). The workshop's pages
  are separate addresses loaded by the browser, and their title is in the page's HTML;
  :func:`lean_frame` renders a page's component directly (routes with a nested layout or
  no component are rendered as Solara does).
* **The page's theme** (three widgets and an update, a tenth of a join's messages): the
  browser sends Solara its Vuetify colours and Solara sends them back as a ``Theme`` widget
  for every page, so that Python code could read them; the workshop's pages never do (their
  look is the form's own style sheet). :func:`theme_on_demand` keeps what the browser sent
  and makes the widget only when Python code first reads the theme.
* **First-time work in a room's first join**: the websocket's first page imported anyio's
  asyncio backend (tens of milliseconds of that join), and every page looked for the
  optional ``ipyreact`` package on disk again (a failed import is not remembered);
  :func:`imports_ahead` does both before the server says it is ready.
* **Every page's websocket** had its handler's signature inspected by ``websockets`` (≈ 0.2 ms):
  :func:`direct_ws_handler` wraps uvicorn's known handler directly.
* **Every widget message** created a ``FakeIPython`` with a fresh ``MagicMock`` for the
  ``pre_execute``/``post_execute`` events (≈ 10 % of the CPU of answering the form):
  :func:`cached_ipython` keeps one per page with a no-op event hub.

The websocket writes go straight from the page's thread to the socket
(``SOLARA_SERVER_SYNC_WS_WRITE``, with uvicorn's ``websockets`` implementation, see
:mod:`toolkit.workshop.server`) instead of a task on the event loop per message.
uvicorn marks that implementation deprecated (its warning is filtered) in favour of
``websockets-sansio``, which is not used: Solara's writer hooks only the protocol object of
``websockets.legacy`` (``sync_ws_write._find_websockets_protocol``); under ``websockets-sansio``
it finds none and falls back to one event-loop task per message, the cost this module removed.
:func:`safe_sync_writes` closes a gap of that writer: it writes to the socket's file
descriptor number, and once the event loop has closed a connection that number can belong
to the next participant's connection; a late write of a page could then reach another
person's browser. The writer now stops before the loop closes the socket (the protocol's
``connection_lost`` runs first and waits for a write in progress, which gives up at once).

Example
-------
>>> _NoEvents().trigger("pre_execute"); _NoEvents().register("post_execute", print)
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any, Callable

__all__ = ["KernelPool", "apply", "busy", "cached_ipython", "cached_root", "direct_ws_handler", "expect", "imports_ahead", "joined", "lean_frame",
           "light_shell", "make_ahead",
           "pages_ahead", "safe_sync_writes", "take_ahead", "theme_on_demand"]

log = logging.getLogger("toolkit")

_applied = False


class _NoEvents:
    """IPython's event hub as the form needs it: nothing listens to a widget message's pre/post-execute."""

    def trigger(self, event: str, *args: Any, **kwargs: Any) -> None:
        return None

    def register(self, event: str, function: Callable) -> None:
        return None

    def unregister(self, event: str, function: Callable) -> None:
        return None


def light_shell() -> None:
    """Solara's shell without building the script magics it never uses (they still load on first use)."""
    import atexit

    from IPython.core.interactiveshell import InteractiveShell
    from solara.server import shell

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        InteractiveShell.__init__(self, *args, **kwargs)
        atexit.unregister(self.atexit_operations)
        registry = self.magics_manager.registry if self.magics_manager else {}
        if "ScriptMagics" in registry:  # a dict lookup: does not load the lazy magics
            atexit.unregister(registry["ScriptMagics"].kill_bg_processes)

    shell.SolaraInteractiveShell.__init__ = __init__


def cached_ipython() -> None:
    """One ``get_ipython()`` object per page (Solara builds a new one, with a ``MagicMock``, per widget message)."""
    import IPython
    import ipywidgets.widgets.widget as widget_mod
    from solara.server import kernel_context, patch

    original = patch.get_ipython_original

    def get_ipython() -> Any:
        if not kernel_context.has_current_context():
            return original()
        context = kernel_context.get_current_context()
        ip = getattr(context, "_upo_ipython", None)  # kept on the page's context: goes with it
        if ip is None or ip.kernel is not context.kernel:
            ip = patch.FakeIPython(context)
            ip.events = _NoEvents()
            context._upo_ipython = ip
        return ip

    patch.get_ipython = get_ipython
    widget_mod.get_ipython = get_ipython
    IPython.get_ipython = get_ipython


def cached_root(max_entries: int = 16) -> None:
    """Solara's page HTML rendered once per request path and settings (it was rendered from its template per request).

    The page is the same for every participant: the template's inputs are the path, the root
    paths, the theme's settings (title, ...), the installed assets, the client version and the
    template's globals (the app's head), all fixed for the server's lifetime; the key holds
    the ones that can change while it runs.
    A path that is no page (``None``) is not kept, and the cache holds at most ``max_entries``
    pages, so requests for made-up paths cannot fill the memory.
    """
    from solara.server import app as solara_app
    from solara.server import server, settings

    if getattr(server.read_root, "_upo_cached", False):
        return
    original = server.read_root
    pages: dict[tuple, str] = {}
    lock = threading.Lock()
    version = solara_app.client_version()
    env: list = []

    def _template_globals() -> tuple:
        """What the app adds to the template (the page's head), by identity; the environment exists once the app is loaded."""
        if not env:
            try:
                env.append(server.get_jinja_env(app_name="__default__"))
            except KeyError:  # no app yet: its first page request loads it
                return ()
        return tuple((k, id(v)) for k, v in env[0].globals.items())

    def read_root(path: str, root_path: str = "", jupyter_root_path: str | None = None, render_kwargs: dict | None = None,
                  use_nbextensions: bool = True, ssg_data: Any = None) -> str | None:
        if render_kwargs or ssg_data is not None or settings.ssg.enabled:  # a page of its own: as Solara renders it
            return original(path, root_path, jupyter_root_path, render_kwargs or {}, use_nbextensions, ssg_data)
        key = (path, root_path, jupyter_root_path, use_nbextensions, repr(settings.theme.dict()), settings.main.mode, repr(settings.assets.dict()),
               version, _template_globals())
        page = pages.get(key)
        if page is None:
            page = original(path, root_path, jupyter_root_path, {}, use_nbextensions, None)
            if page is not None:
                with lock:
                    if len(pages) >= max_entries:
                        pages.clear()
                    pages[key] = page
        return page

    read_root._upo_cached = True  # type: ignore[attr-defined]
    server.read_root = read_root


def theme_on_demand() -> None:
    """The page's ``Theme`` widget made when Python code first reads ``solara.lab.theme``, not for every page.

    What the browser sent (its colours, dark or not) is kept on the page's context and given to
    the theme when it is made, so code that reads the theme sees the same as before.
    """
    from solara.lab.components import theming
    from solara.server import app as solara_app
    from solara.server import kernel_context

    if getattr(solara_app.load_themes, "_upo_lazy", False):
        return
    eager = solara_app.load_themes
    storage = theming.theme._instance._storage  # the per-page theme, made by its factory on first use
    make = storage.factory

    def made_with_what_the_browser_sent() -> Any:
        new = make()
        context = kernel_context.get_current_context() if kernel_context.has_current_context() else None
        if context is not None:
            context._upo_theme_made = True
        sent = getattr(context, "_upo_theme", None)
        if sent is not None:
            themes, dark = sent
            for kind, values in (themes or {}).items():
                target = getattr(new.themes, kind)
                with target.hold_trait_notifications():
                    for name, value in values.get("colors", values).items():
                        setattr(target, name, value)
            new.dark_effective = dark
        return new

    def load_themes(themes: Any, dark: Any) -> None:
        context = kernel_context.get_current_context() if kernel_context.has_current_context() else None
        if context is None or getattr(context, "_upo_theme_made", False):  # no page, or its theme exists: as Solara does
            eager(themes, dark)
            return
        context._upo_theme = (themes, dark)

    storage.factory = made_with_what_the_browser_sent
    load_themes._upo_lazy = True  # type: ignore[attr-defined]
    solara_app.load_themes = load_themes


def imports_ahead() -> None:
    """Imports a page would otherwise pay for: anyio's asyncio backend (first websocket), and a missing ``ipyreact`` marked missing."""
    import importlib.util
    import sys

    from anyio._core._eventloop import get_async_backend

    get_async_backend("asyncio")  # imports the backend module once, as the first websocket did
    if "ipyreact" not in sys.modules and importlib.util.find_spec("ipyreact") is None:
        sys.modules["ipyreact"] = None  # type: ignore[assignment] - ``import ipyreact`` fails at once (ModuleNotFoundError), as Solara expects


def lean_frame() -> None:
    """Solara's router and page renderer without the widgets of client-side navigation and the tab title.

    The routing state (the path, the router and location contexts that ``solara.use_route``
    and links read) is provided as before; what is left out is the ``Navigator`` widget and
    the column box of the router, and the two boxes and the ``Title`` widget of the page
    renderer. A route that needs more (several levels, a markdown file, no component) is
    rendered by Solara's own renderer.
    """
    import reacton.core
    import solara
    from solara import autorouting, routing

    if getattr(autorouting.RenderPage, "_upo_lean", False):
        return
    full_page = autorouting.RenderPage

    @solara.component
    def RoutingProvider(children: list = [], routes: list = [], pathname: str = "") -> Any:  # noqa: B006 - Solara's signature
        path, set_path = solara.use_state(pathname, key="solara-context-path")

        def set_path_with_redirect(new: str) -> None:
            set_path(autorouting._redirects.get(new, new))

        solara.provide_cross_filter()
        routing._location_context.provide(routing._Location(path, set_path_with_redirect))
        routing.router_context.provide(routing.Router(path, routes=routes, set_path=set_path_with_redirect))
        return children[0] if len(children) == 1 else solara.Column(children=children)

    @solara.component
    def RenderPage(main_name: str = "Page") -> Any:
        router = solara.use_context(routing.router_context)
        found = router.path_routes
        if len(found) == 1 and len(router.parts) <= 1 and isinstance(found[0].component, reacton.core.ComponentFunction):
            return found[0].component()
        return full_page(main_name)

    RenderPage._upo_lean = True  # type: ignore[attr-defined]
    autorouting.RenderPage = RenderPage
    autorouting.RoutingProvider = RoutingProvider
    solara.RoutingProvider = RoutingProvider


def direct_ws_handler() -> None:
    """uvicorn's websocket handler given to the ``websockets`` protocol without inspecting its signature per connection.

    ``websockets.legacy`` checks every new connection's handler with ``inspect.signature`` (twice,
    raising and catching a ``TypeError``) and warns that its second argument is deprecated, only to
    wrap it in the same two-argument call each time: ≈ 0.2 ms of every page's websocket. uvicorn's
    handler is known to take ``(protocol, path)``; it gets that wrapper directly, any other as before.
    """
    from uvicorn.protocols.websockets.websockets_impl import WebSocketProtocol
    from websockets.legacy import server as legacy

    if getattr(legacy.remove_path_argument, "_upo_direct", False):
        return
    original = legacy.remove_path_argument
    uvicorn_handler = WebSocketProtocol.ws_handler

    def remove_path_argument(ws_handler: Any) -> Any:
        if getattr(ws_handler, "__func__", None) is not uvicorn_handler:
            return original(ws_handler)

        async def _ws_handler(websocket: Any) -> Any:  # as websockets' own wrapper for a two-argument handler
            return await ws_handler(websocket, websocket.path)

        return _ws_handler

    remove_path_argument._upo_direct = True  # type: ignore[attr-defined]
    legacy.remove_path_argument = remove_path_argument


def safe_sync_writes() -> None:
    """Solara's synchronous frame writer never writes after its connection was lost (the fd may be reused)."""
    from solara.server import sync_ws_write

    cls = sync_ws_write.SyncFrameWriter
    if getattr(cls, "_upo_safe", False):
        return
    original_init, original_write = cls.__init__, cls._write_frame_sync

    def __init__(self: Any, protocol: Any, sock_fd: int) -> None:
        original_init(self, protocol, sock_fd)
        self._upo_closing = self._upo_closed = False
        lost = protocol.connection_lost

        def connection_lost(exc: Any) -> None:  # the event loop, before it closes the socket
            self._upo_closing = True  # a write waiting for a full socket buffer gives up
            with self.lock:  # a write in progress ends first
                self._upo_closed = True
            lost(exc)

        protocol.connection_lost = connection_lost

    def _write_frame_sync(self: Any, fin: bool, opcode: int, data: bytes) -> None:
        if self._upo_closing:
            raise OSError("websocket connection closed")
        original_write(self, fin, opcode, data)

    def _os_write(self: Any, data: bytes) -> None:  # called with self.lock held
        if self._upo_closed or self._upo_closing:
            raise OSError("websocket connection closed")
        view = memoryview(data)
        while view:
            try:
                n = os.write(self.fd, view)
                view = view[n:]
            except BlockingIOError:
                if self._upo_closing:
                    raise OSError("websocket connection closed") from None
                time.sleep(0.0005)  # socket buffer full: the page's thread waits (backpressure), not the event loop
            except InterruptedError:
                continue

    cls.__init__, cls._write_frame_sync, cls._os_write = __init__, _write_frame_sync, _os_write
    cls._upo_safe = True


class KernelPool:
    """Virtual kernels created ahead, in a background thread while no page is joining.

    ``take()`` returns a ready kernel (or creates one when the pool is empty); the thread
    refills the pool one kernel at a time once no page has joined or been built (:meth:`busy`)
    for ``quiet`` seconds and no join is pending, so a burst of joins is not slowed down by the refill.
    A join is *pending* from its page request (:meth:`expect`, the device's session id) until its
    page is built (:meth:`joined`), at most :attr:`pending_for` seconds: a room's phones ask for the
    page at once but open their websockets only once their browser has loaded the page's scripts,
    which on a busy phone (or a busy 2-core laptop) takes longer than ``quiet``; the refill (its
    pages are built holding the interpreter lock) then ran in the middle of those joins.
    ``prepare`` (set with :meth:`set_prepare`, e.g. once the app is loaded) is called with each
    kernel before it counts as ready, also with those made before it was set.
    """

    def __init__(self, factory: Callable[[], Any], size: int, quiet: float = 1.0, on_take: Callable[[Any], None] | None = None,
                 prepare: Callable[[Any], None] | None = None, pending_for: float = 30.0) -> None:
        self.factory, self.size, self.quiet, self.on_take = factory, max(0, int(size)), quiet, on_take
        self.pending_for = pending_for
        self._pending: dict[str, tuple[int, float]] = {}  # session id -> (page requests not yet built, when last requested)
        self.prepare = prepare
        self._unprepared: list[Any] = []  # made before ``prepare`` was set
        self._ready: list[Any] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._last_take = 0.0
        self.taken = self.made_ahead = 0
        self._thread = threading.Thread(target=self._fill, name="upo-kernel-pool", daemon=True)
        if self.size:
            self._thread.start()

    def take(self) -> Any:
        with self._lock:
            self._last_take = time.monotonic()
            self.taken += 1
            kernel = self._ready.pop() if self._ready else self._unprepared.pop() if self._unprepared else None
        self._wake.set()
        if kernel is None:
            return self.factory()
        if self.on_take is not None:  # made in another thread: what the page's thread needs
            self.on_take(kernel)
        return kernel

    def busy(self) -> None:
        """A page is being built: refill later (called by the form page; a take counts too)."""
        with self._lock:
            self._last_take = time.monotonic()

    def expect(self, key: str) -> None:
        """A device asked for a page (``key``: its session id): its join is pending until :meth:`joined`."""
        with self._lock:
            n, _t = self._pending.get(key, (0, 0.0))
            self._pending[key] = (n + 1, time.monotonic())

    def joined(self, key: str) -> None:
        """The device's page is built (its join is no longer pending); the quiet time starts now."""
        with self._lock:
            self._last_take = time.monotonic()
            n, t = self._pending.pop(key, (0, 0.0))
            if n > 1:
                self._pending[key] = (n - 1, t)

    def pending(self) -> int:
        """Joins pending: pages requested whose page is not built yet (requested within :attr:`pending_for` s)."""
        with self._lock:
            return self._pending_locked(time.monotonic())

    def _pending_locked(self, now: float) -> int:
        stale = [k for k, (_n, t) in self._pending.items() if now - t > self.pending_for]
        for k in stale:  # a page never opened (a closed tab, a bot): not waited for any longer
            del self._pending[k]
        return sum(n for n, _t in self._pending.values())

    def set_prepare(self, prepare: Callable[[Any], None]) -> None:
        """From now on every kernel is prepared before it is handed out (those ready now too, while quiet)."""
        with self._lock:
            if self.prepare is None:
                self._unprepared, self._ready = self._ready, []
            self.prepare = prepare
        self._wake.set()

    def ready(self) -> int:
        with self._lock:
            return len(self._ready)

    def _fill(self) -> None:
        while True:
            with self._lock:
                missing = self.size - len(self._ready)
                now = time.monotonic()
                wait = self._last_take + self.quiet - now
                if wait <= 0 and self._pending_locked(now):
                    wait = min(self.quiet, 0.1) or 0.1  # a join is on its way: look again shortly
                prepare = self.prepare
                kernel = self._unprepared.pop() if prepare is not None and self._unprepared and missing > 0 and wait <= 0 else None
            if missing <= 0:
                self._wake.wait()
                self._wake.clear()
                continue
            if wait > 0:
                time.sleep(wait)
                continue
            try:
                if kernel is None:
                    kernel = self.factory()
                if prepare is not None:
                    prepare(kernel)
            except Exception:  # a kernel that cannot be made ahead is made at the join instead
                log.exception("could not create a kernel ahead")
                time.sleep(5)
                continue
            with self._lock:
                if prepare is None and self.prepare is not None:  # set meanwhile: this one is prepared next
                    self._unprepared.append(kernel)
                else:
                    self._ready.append(kernel)
                    self.made_ahead += 1
            time.sleep(0.002)  # let a page that arrives now have the interpreter


def _adopt(kernel: Any) -> None:
    """A kernel made ahead, taken by a page's thread: its display hook is per thread (``SolaraDisplayPublisher``).

    Without it, ``display()`` during the page's render would go to the frontend as output instead of
    into the page's widget tree (Solara registers the hook in the thread that creates the shell).
    """
    shell = kernel.shell
    if shell.display_in_reacton_hook not in shell.display_pub._hooks:
        shell.display_pub.register_hook(shell.display_in_reacton_hook)


class _Collector:
    """Stands in for a page's websocket while its page is made ahead: keeps what the page will be sent, in order."""

    def __init__(self) -> None:
        self.frames: list[Any] = []
        self.open = True

    def send(self, message: Any) -> None:
        if self.open:
            self.frames.append(message)


class _AheadContext:
    """What widget code reads of a page's context (Solara's ``VirtualKernelContext``) while a page is made ahead.

    The page's kernel (its comms), its own widget registry and the page's shared models
    (:func:`toolkit.widgets._style._page_models`); nothing of a person.
    """

    id = session_id = "upo-made-ahead"

    def __init__(self, kernel: Any) -> None:
        self.kernel = kernel
        self.widgets: dict[str, Any] = {}


class _Ahead:
    def __init__(self, page: Any, context: _AheadContext, collector: _Collector) -> None:
        self.page, self.context, self.collector = page, context, collector


def make_ahead(kernel: Any, build: Callable[[], Any]) -> None:
    """Build a page in ``kernel`` now (in this thread, e.g. the pool's while the server is quiet), for :func:`take_ahead`.

    The page's widgets are registered with the kernel as if its page were connected; the
    messages that would have gone to the browser (each widget's ``comm_open`` with its state)
    are kept, already serialised, and sent when a page takes the kernel.
    """
    from solara.server import kernel_context

    context, collector = _AheadContext(kernel), _Collector()
    kernel.session.websockets.add(collector)
    key = kernel_context.get_current_thread_key()
    previous = kernel_context.current_context.get(key)
    kernel_context.current_context[key] = context  # type: ignore[assignment]
    try:
        page = build()
    except BaseException:
        _close_quietly(context.widgets.values())
        kernel.session.websockets.discard(collector)
        raise
    finally:
        if previous is None:
            kernel_context.current_context.pop(key, None)
        else:
            kernel_context.current_context[key] = previous
    kernel._upo_ahead = _Ahead(page, context, collector)


def _stop_collecting(kernel: Any) -> None:
    """The kernel is handed to a page: from now on its messages go to the page's websocket only."""
    ahead = getattr(kernel, "_upo_ahead", None)
    if ahead is not None:
        ahead.collector.open = False
        kernel.session.websockets.discard(ahead.collector)


def _close_quietly(widgets: Any) -> None:
    """Close widgets the browser never saw: no ``comm_close`` message for them."""
    for widget in list(widgets):
        comm = getattr(widget, "comm", None)
        if comm is not None:
            comm.kernel = None  # Comm.publish_msg sends nothing without a kernel
            widget.close()


def take_ahead(accept: Callable[[Any], bool]) -> Any:
    """The page made ahead in the current page's kernel, if any and ``accept(page)``; its messages are sent now.

    Called in the page's thread (its Solara context is current). A page that is not accepted
    (e.g. the device has a draft) is closed without a message and ``None`` returned: the
    caller builds the page as usual; its widgets are registered with the page only once it is
    accepted (an ``accept`` that raises closes them too, and the error goes on).
    """
    from solara.server import kernel_context
    from solara.server.kernel import send_websockets

    if not kernel_context.has_current_context():
        return None
    context = kernel_context.get_current_context()
    kernel = context.kernel
    ahead = getattr(kernel, "_upo_ahead", None)
    if ahead is None:
        return None
    kernel._upo_ahead = None
    _stop_collecting(kernel)
    try:
        accepted = accept(ahead.page)
    except BaseException:
        _close_quietly(ahead.context.widgets.values())
        raise
    if not accepted:  # its widgets were never the page's: closed without a message, never registered with the page
        _close_quietly(ahead.context.widgets.values())
        return None
    context.widgets.update(ahead.context.widgets)
    shared = getattr(ahead.context, "_upo_shared", None)
    if shared is not None:
        mine = getattr(context, "_upo_shared", None)
        context._upo_shared = shared if mine is None else {**shared, **mine}
    websockets = kernel.session.websockets
    for frame in ahead.collector.frames:
        send_websockets(websockets, frame)
    ahead.collector.frames.clear()
    return ahead.page


def _taken(kernel: Any) -> None:
    _adopt(kernel)
    _stop_collecting(kernel)


class _PooledKernel:
    """Stands in for ``solara.server.kernel_context.Kernel``: calling it takes a kernel from the pool."""

    def __init__(self, cls: type, pool: KernelPool) -> None:
        self._cls, self.pool = cls, pool

    def __call__(self) -> Any:
        return self.pool.take()

    def __getattr__(self, name: str) -> Any:  # Kernel.instance() and the like
        return getattr(self._cls, name)


_pool: KernelPool | None = None


def busy() -> None:
    """Tell the pool a page is being built, so it does not refill in the middle of a room joining."""
    if _pool is not None:
        _pool.busy()


def expect(session_id: str) -> None:
    """A device asked for a page: the pool is not refilled until its page is built (:func:`joined`)."""
    if _pool is not None:
        _pool.expect(session_id)


def joined(session_id: str) -> None:
    """The device's page is built (called by the app's pages, also when building failed)."""
    if _pool is not None:
        _pool.joined(session_id)


def pages_ahead(build: Callable[[], Any]) -> None:
    """Every kernel of the pool gets a page built ahead (``build()`` in the kernel's context; see :func:`make_ahead`)."""
    if _pool is not None:
        _pool.set_prepare(lambda kernel: make_ahead(kernel, build))


def apply(pool_size: int = 0) -> KernelPool | None:
    """Apply the cuts (once per process; after Solara's own patches, i.e. after importing its server)."""
    global _applied, _pool
    if _applied:
        return _pool
    import solara.server.app  # noqa: F401 - Solara's own patches first
    from solara.server import kernel, kernel_context

    light_shell()
    cached_ipython()
    cached_root()
    lean_frame()
    theme_on_demand()
    imports_ahead()
    safe_sync_writes()
    direct_ws_handler()
    if pool_size > 0:
        _pool = KernelPool(kernel.Kernel, pool_size, on_take=_taken)
        kernel_context.Kernel = _PooledKernel(kernel.Kernel, _pool)  # type: ignore[assignment, misc]
    _applied = True
    return _pool
