"""Live workshop at event scale: ``upo workshop`` (form processes behind one address) vs one process and Voilà, same run.

Solara (``upo workshop``, its default ``--processes``: one form process per core, here
``--processes`` of this script; and ``--processes 1``, the single-process server, as a second
baseline in the same run): N participants simulated at the protocol level (``bench/solara_client.py``:
the page request, Solara's websocket, the ``solara.control`` comm and the widgets' comm messages,
what the browser's JavaScript does) plus P real Chromium pages (Playwright, Debian's chromium)
open the competence-reflection form at the same moment. *Usable* = the form's submit button and
the shown page's questions have arrived (protocol: their widget states; Chromium: the button is
rendered). The N simulated
participants then answer every question through the widgets (page by page, as a person does),
and all click "Absenden" at the same moment while the presenter view is open in Chromium:
*presenter* = for each submission, from its "Vielen Dank" to the presenter page's count
including it (p95), and from the last one to the final count. *Stored* counts distinct
submissions in the database. The server's memory (RSS of the process and its children) is
sampled every 0.2 s (*idle* before the first page, *peak* the maximum) and its CPU time is read
per phase, which gives the per-participant cost and the capacity estimate printed at the end.

CPU is read per process (the front, each form process) and for the clients: the protocol
clients run in this script's process, the Chromium pages in their own; on a small machine all
of them compete for the same cores, and the table says how busy the cores were. Chromium's
CPU is sampled per process every 0.25 s while it runs (a process that exits keeps its last
sample, so the closed pages' renderers are counted), and each page's own CPU seconds until it
was usable are its renderer process's ``ProcessTime`` (Chromium's ``Performance.getMetrics``).

**Two browser modes, both printed** (``--browser-priority both``, the default): the Chromium
pages stand in for phones but run on the server's cores. *normal*: Chromium at the same
priority as the server, as before: the pages' own CPU (parsing and running the page's
JavaScript, layout) competes with the server's, and with 10 pages on 2 cores it dominates the
pages' time to a usable form. *nice 19*: every Chromium process at the lowest CPU priority
(``nice -n 19``), so the server gets the cores first: this models that every phone brings its
own CPU, and shows the server's share of a page's time. The Chromium pages' p50/p95 are in the
table for both modes; the server, the protocol clients and the page are the same.

**The protocol clients' own cost.** The N simulated participants run in this script's process
(one core, one interpreter lock shared with the Playwright thread): a participant is *usable*
when this process has read its widgets, so whatever the client spends delays every later
participant as if their phones shared one CPU. Until 2026-12-02 the page request went through
``httpx`` (a connection pool shared by all participants, anyio per request, its imports in the
first request of the burst) and cost the clients more CPU than the server (1.5 against 1.4 s for
60 joins); it is now one plain HTTP/1.1 ``GET`` per device over asyncio streams, and the client's
one-time imports are done before the burst (``solara_client.warm_up``): 0.37 against 0.70–0.93 s
of client CPU for 60 joins, measured side by side with the server's CPU unchanged. The server
gets the same requests and messages and *usable* is the same state (``bench/solara_client.py``).

Baseline (same run; a Voilà page not usable within 300 s is left out of its row, which says how
many of the P were, instead of ending the run): the Voilà design (a Jupyter kernel per page, ``--pool``) with the same
P Chromium pages (its protocol differs; the issue's 60-client Voilà figures came from an older
script). On a 2-core machine the Chromium pages compete with the server for the CPU.

Run: ``.venv/bin/python bench/bench_workshop_live.py [--clients 60] [--pages 10] [--baseline-pool 10] [--processes N] [--skip-single] [--skip-voila]
[--browser-priority normal|low|both]`` (the single-process and Voilà baselines run with Chromium at normal priority)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from toolkit.store import Store  # noqa: E402
from toolkit.workshop import FORM_NOTEBOOK, VoilaServer, WorkshopProcess, free_port, session_env, validate_session  # noqa: E402
from toolkit.workshop.front import default_processes  # noqa: E402

INSTRUMENT = "competence_reflection"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run", "--disable-component-update", "--disable-sync"]


CHROMIUM = "/usr/bin/chromium"


def chromium_executable(low_priority: bool) -> str:
    """Debian's chromium, or a wrapper that starts it at the lowest CPU priority (its child processes inherit it)."""
    if not low_priority:
        return CHROMIUM
    path = Path(tempfile.mkdtemp(prefix="bench-chromium-")) / "chromium-nice"
    path.write_text(f'#!/bin/sh\nexec nice -n 19 {CHROMIUM} "$@"\n')
    path.chmod(0o755)
    return str(path)


class ChromiumCpu:
    """CPU seconds of this script's child processes outside the server (Playwright's driver, every Chromium process).

    Sampled per process every 0.25 s; a process that has exited keeps its last sample, so the
    renderers of closed pages stay counted (at most 0.25 s of each one's CPU is missed).
    """

    def __init__(self, server_pid: int) -> None:
        self.server_pid = server_pid
        self.seen: dict[tuple[int, float], tuple[str, float]] = {}
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def sample(self) -> float:
        import psutil

        try:
            server = {p.pid for p in psutil.Process(self.server_pid).children(recursive=True)} | {self.server_pid}
        except psutil.Error:
            server = {self.server_pid}
        for p in psutil.Process().children(recursive=True):
            if p.pid in server:
                continue
            try:
                with p.oneshot():
                    t = p.cpu_times()
                    self.seen[(p.pid, p.create_time())] = (p.name(), t.user + t.system)
            except psutil.Error:
                pass
        return sum(c for name, c in self.seen.values() if not name.startswith("node"))

    def driver(self) -> float:
        """CPU seconds of Playwright's driver (node), not counted as Chromium's."""
        return sum(c for name, c in self.seen.values() if name.startswith("node"))  # "node-MainThread"

    def _loop(self) -> None:
        while not self._stop.wait(0.25):
            self.sample()

    def start(self) -> "ChromiumCpu":
        self.sample()
        self.thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(2)


def pct(values, q):
    return float(np.percentile(values, q)) if values else float("nan")


def make_db(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "live.sqlite"
    s = Store.init(path, cohort="Bench")
    s.add_instrument(INSTRUMENT)
    s.add_authority("BVA", name="Bundesverwaltungsamt", ministry="BMI")
    s.add_wave("t1")
    s.close()
    return path


class Sampler:
    def __init__(self, pid: int) -> None:
        import psutil

        self.proc = psutil.Process(pid)
        self.peak = 0
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def rss(self) -> int:
        import psutil

        total = 0
        for p in [self.proc, *self.proc.children(recursive=True)]:
            try:
                total += p.memory_info().rss
            except psutil.Error:
                pass
        return total

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.rss())
            self._stop.wait(0.2)

    def start(self) -> "Sampler":
        self.thread.start()
        return self

    def stop(self) -> int:
        self._stop.set()
        self.thread.join(2)
        return self.peak


def warm_browser() -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        b.new_page().set_content("<p>warm-up</p>")
        b.close()


def open_pages(url: str, n: int, join_code: str | None = None) -> list[float]:
    from playwright.sync_api import sync_playwright

    out: list[float] = []
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        pages = [b.new_context(viewport={"width": 390, "height": 844}).new_page() for _ in range(n)]
        t0 = time.perf_counter()
        for pg in pages:
            pg.goto(url, wait_until="commit", timeout=300_000)
        deadline = t0 + 300
        for pg in pages:  # a page not usable within 300 s of the start is left out (the table says how many were)
            usable = True
            try:
                pg.wait_for_selector(".upo-submit", timeout=max(1.0, deadline - time.perf_counter()) * 1000)
            except Exception:  # noqa: BLE001 - Playwright's TimeoutError, or the page crashed: not usable
                usable = False
            if usable:
                out.append(time.perf_counter() - t0)
        b.close()
    return out


class Browsers(threading.Thread):
    """P Chromium participants and the presenter view, driven from one thread (Playwright's sync API)."""

    def __init__(self, url: str, presenter_url: str, pages: int, low_priority: bool = False) -> None:
        super().__init__(daemon=True)
        self.url, self.presenter_url, self.n = url, presenter_url, pages
        self.executable = chromium_executable(low_priority)
        self.page_cpu: list[float] = []  # each page's renderer CPU seconds until it was usable
        self.ready, self.go, self.watch = threading.Event(), threading.Event(), threading.Event()
        self.joined = threading.Event()
        self.times: list[float] = []
        self.seen: dict[int, float] = {}  # presenter count -> first perf_counter it was shown
        self.expected = 0
        self.error: str | None = None
        self.t0 = 0.0

    def run(self) -> None:
        from playwright.sync_api import sync_playwright

        try:
            with sync_playwright() as p:
                b = p.chromium.launch(executable_path=self.executable, args=ARGS)
                pres = b.new_page(viewport={"width": 1920, "height": 1080})
                pres.goto(self.presenter_url, timeout=120_000)
                pres.wait_for_selector(".upo-count", timeout=120_000)
                ctxs = [b.new_context(viewport={"width": 390, "height": 844}) for _ in range(self.n)]
                pages = [c.new_page() for c in ctxs]
                cdps = [c.new_cdp_session(pg) for c, pg in zip(ctxs, pages)]
                for cdp in cdps:
                    cdp.send("Performance.enable")
                self.ready.set()
                self.go.wait()
                for pg in pages:
                    pg.goto(self.url, wait_until="commit", timeout=300_000)
                for pg, cdp in zip(pages, cdps):
                    pg.wait_for_selector(".upo-submit", timeout=300_000)
                    self.times.append(time.perf_counter() - self.t0)
                    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
                    self.page_cpu.append(float(metrics.get("ProcessTime", float("nan"))))
                for c in ctxs:
                    c.close()
                self.joined.set()
                self.watch.wait()
                deadline = time.perf_counter() + 120
                while time.perf_counter() < deadline:
                    n = int(pres.evaluate("() => +(document.querySelector('.upo-count') || {dataset: {n: 0}}).dataset.n || 0"))
                    now = time.perf_counter()
                    for k in range(1, n + 1):
                        self.seen.setdefault(k, now)
                    if n >= self.expected:
                        break
                    time.sleep(0.05)
                b.close()
        except Exception as e:  # reported in the table, not a traceback in another thread
            self.error = f"{type(e).__name__}: {e}"
            self.ready.set()
            self.joined.set()


def cpu_seconds(pid: int) -> float:
    return sum(cpu_by_process(pid).values())


def cpu_by_process(pid: int) -> dict[int, float]:
    """CPU seconds (user + system) of a process and each of its descendants, by pid."""
    import psutil

    out: dict[int, float] = {}
    root = psutil.Process(pid)
    for p in [root, *root.children(recursive=True)]:
        try:
            t = p.cpu_times()
            out[p.pid] = t.user + t.system
        except psutil.Error:
            pass
    return out


def client_cpu(chromium: ChromiumCpu) -> tuple[float, float]:
    """CPU seconds so far of the protocol clients (this process) and of the browsers (its other descendants, exited ones included)."""
    import psutil

    t = psutil.Process().cpu_times()
    return t.user + t.system, chromium.sample()


def _delta(after: dict[int, float], before: dict[int, float]) -> dict[int, float]:
    return {pid: after[pid] - before.get(pid, 0.0) for pid in after}


async def _protocol_run(url: str, clients: int, browsers: Browsers, pid: int, chromium: ChromiumCpu) -> dict:
    from solara_client import Participant, new_http, warm_up

    http = new_http()
    await warm_up(url)  # the client's one-time imports, not in the burst (see bench/solara_client.py)
    ps = [Participant(url) for _ in range(clients)]
    per0, cl0 = cpu_by_process(pid), client_cpu(chromium)
    cpu0 = sum(per0.values())
    t0 = time.perf_counter()
    browsers.t0 = t0
    browsers.go.set()
    res = await asyncio.gather(*(p.join(t0, http) for p in ps), return_exceptions=True)
    usable = [r for r in res if isinstance(r, float)]
    errors = [repr(r) for r in res if not isinstance(r, float)]
    await asyncio.get_running_loop().run_in_executor(None, browsers.joined.wait, 600)
    t_join = time.perf_counter() - t0
    per1, cl1 = cpu_by_process(pid), client_cpu(chromium)
    cpu_join = sum(per1.values()) - cpu0
    join_by_process = _delta(per1, per0)
    clients_cpu, browsers_cpu = cl1[0] - cl0[0], cl1[1] - cl0[1]
    ok = [p for p, r in zip(ps, res) if isinstance(r, float)]
    steps = {"page": [p.t_page - t0 for p in ok], "socket": [p.t_socket - t0 for p in ok], "first": [p.t_first - t0 for p in ok]}
    cpu1 = cpu_seconds(pid)
    t1 = time.perf_counter()
    filled = await asyncio.gather(*(p.fill((f"{chr(65 + i % 26)}{chr(65 + i // 26 % 26)}", str(i % 28 + 1), "B", "Xy"), i) for i, p in enumerate(ok)),
                                  return_exceptions=True)
    errors += [repr(r) for r in filled if not isinstance(r, int)]
    t_fill = time.perf_counter() - t1
    ok = [p for p, r in zip(ok, filled) if isinstance(r, int)]
    browsers.expected = len(ok)
    browsers.watch.set()
    t2 = time.perf_counter()
    sub = await asyncio.gather(*(p.submit() for p in ok), return_exceptions=True)
    errors += [repr(r) for r in sub if r is not True]
    cpu_fill = cpu_seconds(pid) - cpu1
    acks = sorted(p.t_submitted for p, r in zip(ok, sub) if r is True)
    await asyncio.get_running_loop().run_in_executor(None, browsers.join, 180)
    lat = [browsers.seen[k + 1] - a for k, a in enumerate(acks) if k + 1 in browsers.seen]
    last = (browsers.seen[len(acks)] - acks[-1]) if acks and len(acks) in browsers.seen else float("nan")
    await asyncio.gather(*(p.close() for p in ps), return_exceptions=True)
    await http.aclose()
    return {"usable": usable, "steps": steps, "errors": errors, "t_join": t_join, "cpu_join": cpu_join, "t_fill": t_fill, "cpu_fill": cpu_fill,
            "join_by_process": join_by_process, "clients_cpu": clients_cpu, "browsers_cpu": browsers_cpu, "driver_cpu": chromium.driver(),
            "messages": sum(r for r in filled if isinstance(r, int)), "submit_span": (acks[-1] - t2) if acks else float("nan"),
            "presenter": lat, "presenter_last": last}


def run_solara(folder: Path, clients: int, pages: int, processes: int, low_priority: bool = False) -> dict:
    db = make_db(folder)
    srv = WorkshopProcess(db, INSTRUMENT, "t1", ["--authority", "BVA", "--processes", str(processes)]).start()
    chromium = ChromiumCpu(srv.pid)
    try:
        sampler = Sampler(srv.pid)
        browsers = Browsers(srv.url, srv.presenter_url, pages, low_priority)
        chromium.start()
        browsers.start()
        browsers.ready.wait(300)
        time.sleep(1)
        idle = sampler.rss()
        idle_front = sampler.proc.memory_info().rss
        sampler.start()
        r = asyncio.run(_protocol_run(srv.url, clients, browsers, srv.pid, chromium))
        peak = sampler.stop()
        ready = float("".join(srv.output).split("Ready after ")[1].split(" s")[0])
    finally:
        chromium.stop()
        srv.stop()
    stored = Store(db).count_submissions(INSTRUMENT)
    return {**r, "ready": ready, "idle": idle, "idle_front": idle_front, "peak": peak, "times": browsers.times, "stored": stored,
            "browser_error": browsers.error, "processes": processes, "front_pid": srv.pid, "page_cpu": browsers.page_cpu,
            "low_priority": low_priority}


def run_voila(folder: Path, pages: int, pool: int) -> dict:
    db = make_db(folder)
    env = session_env(validate_session(db, INSTRUMENT, "t1", "BVA"))
    server = VoilaServer(FORM_NOTEBOOK, env=env, port=free_port(), pool_size=pool)
    server.start()
    try:
        ready = server.wait_ready(300)
        time.sleep(min(60, 3 * pool))  # let the pool fill
        sampler = Sampler(server.proc.pid)  # type: ignore[union-attr]
        idle = sampler.rss()
        sampler.start()
        times = open_pages(server.url, pages)
        peak = sampler.stop()
    finally:
        server.stop()
    return {"ready": ready, "idle": idle, "peak": peak, "times": times}


def capacity(s: dict, joined: int, filled: int, out=print, cores: int = 4) -> int:
    """Participants one server holds, from the measured per-participant CPU and memory (how: printed).

    The joins of a room spread over the form processes (new pages go to the least busy one), each
    on its own core, so P processes take P times the joins of one within the 2-s target; the
    front's own CPU per participant (routing) is serial and limits it too. Answering: half of
    each process's core over five minutes. Memory: the front and P processes idle, plus the
    measured memory per participant.
    """
    p = int(s["processes"])
    c_join = s["cpu_join"] / max(1, joined)
    c_fill = s["cpu_fill"] / max(1, filled)
    front_cpu = s["join_by_process"].get(s["front_pid"], 0.0) / max(1, joined)
    mem = max(1.0, (s["peak"] - s["idle"]) / max(1, joined)) / 2**20
    form_idle = (s["idle"] - s["idle_front"]) / max(1, p) / 2**20
    front_idle = s["idle_front"] / 2**20
    window = 300.0  # answering the form takes people about 5 minutes; each process may use half its core meanwhile

    def holds(n: int, say: bool) -> int:
        burst = int(n * 2.0 / c_join)  # all at once: each process's last page waits for that process's joins
        by_front = int(2.0 / front_cpu) if front_cpu > 0 else 10**6
        session = int(n * 0.5 * window / (c_join + c_fill))
        by_mem = int((1.5 * 1024 - front_idle - n * form_idle) / mem)
        best = min(burst, by_front, session, by_mem)
        if say:
            out(f"  joins at the same moment within 2 s: {n} x 2 s / {c_join * 1000:.0f} ms = {burst}"
                f" (the front's routing, {front_cpu * 1000:.2f} ms each, serial: {by_front})")
            out(f"  answering over {window / 60:.0f} min at half a core each: {n} x 0.5 x {window:.0f} s / {(c_join + c_fill) * 1000:.0f} ms = {session}")
            out(f"  memory within 1.5 GB: (1536 MB - {front_idle:.0f} MB front - {n} x {form_idle:.0f} MB idle) / {mem:.1f} MB = {by_mem}")
        return best

    out(f"\ncapacity, from this run ({p} form process{'es' if p > 1 else ''}): per participant {c_join * 1000:.0f} ms server CPU to join "
        f"(all processes together), {c_fill * 1000:.0f} ms CPU to answer and submit ({s['messages'] / max(1, filled):.0f} widget messages), {mem:.1f} MB")
    out("  each form process runs Python on one core (one interpreter lock); a page's joins and answers stay in its process")
    here = holds(p, True)
    out(f"  {p} process{'es' if p > 1 else ''} (this run): min = {here}")
    four = holds(cores, False)
    out(f"  a {cores}-core server (upo workshop, its default --processes {cores}), the same per-participant costs = {four} participants (goal 300)")
    return four


def _cpu_line(name: str, r: dict) -> str:
    forms = [v for pid, v in r["join_by_process"].items() if pid != r["front_pid"]]
    front = r["join_by_process"].get(r["front_pid"], 0.0)
    busy = (r["cpu_join"] + r["clients_cpu"] + r["browsers_cpu"]) / max(1e-9, r["t_join"])
    line = (f"{name}: joins took {r['t_join']:.1f} s wall; CPU: server {r['cpu_join']:.1f} s (front {front:.2f} s, form processes "
            f"{' / '.join(f'{v:.1f}' for v in sorted(forms, reverse=True))} s), protocol clients {r['clients_cpu']:.1f} s, Chromium "
            f"{r['browsers_cpu']:.1f} s = {busy:.1f} of {os.cpu_count()} cores busy; answering {r['t_fill']:.1f} s wall, {r['cpu_fill']:.1f} s server CPU")
    cpu = r.get("page_cpu") or []
    if cpu:
        line += (f"\n  each Chromium page's own CPU until usable (its renderer): p50 {pct(cpu, 50):.2f} s, max {max(cpu):.2f} s, "
                 f"sum {sum(cpu):.1f} s of the {r['browsers_cpu']:.1f} s all Chromium processes used (browser process, GPU and network "
                 f"processes, the presenter page); Playwright's driver {r['driver_cpu']:.1f} s in all; per page: {' '.join(f'{c:.2f}' for c in cpu)}")
    return line


LOW = "solara, Chromium nice 19"
MODES = {"normal": "Chromium at normal priority: the pages' own CPU competes with the server's on the same cores",
         "low": "Chromium at nice 19: the server gets the cores first, as if every phone brought its own CPU"}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=60, help="participants simulated at the protocol level, opening the form at once")
    ap.add_argument("--pages", type=int, default=10, help="real Chromium pages opening the form at the same moment")
    ap.add_argument("--baseline-pool", type=int, default=10, help="Voilà pre-heated kernels (≈ 150 MB each)")
    ap.add_argument("--processes", type=int, default=None, help="form processes of the measured server (default: upo workshop's, one per core)")
    ap.add_argument("--skip-single", action="store_true", help="leave out the single-process baseline (--processes 1)")
    ap.add_argument("--skip-voila", action="store_true")
    ap.add_argument("--browser-priority", choices=("normal", "low", "both"), default="both",
                    help="Chromium's CPU priority for the measured server: normal (competes with the server), low (nice 19: models phones' own CPU), both (default)")
    a = ap.parse_args(argv)
    os.environ.setdefault("MPLBACKEND", "Agg")
    tmp = Path(tempfile.mkdtemp(prefix="bench-live-"))
    load = os.getloadavg()
    n = a.processes or default_processes()
    modes = ["normal", "low"] if a.browser_priority == "both" else [a.browser_priority]
    if not a.pages:
        modes = modes[:1]
    print(f"bench_workshop_live: {os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; "
          f"{a.clients} protocol clients + {a.pages} Chromium pages at once; upo workshop --processes {n}"
          + ("" if a.skip_single else ", and --processes 1 as a baseline") + "\n")
    if a.pages:
        warm_browser()  # the first Chromium launch of a run pays for cold caches: not in either measured run
        for m in modes:
            print(f"  {'solara' if m == 'normal' else LOW}: {MODES[m]}")
        print()
    runs: list[tuple[str, dict]] = []
    for m in modes:
        runs.append(("solara" if m == "normal" else LOW, run_solara(tmp / f"solara-{m}", a.clients, a.pages, n, low_priority=m == "low")))
    s = runs[0][1]
    one = None if a.skip_single or n == 1 else run_solara(tmp / "single", a.clients, a.pages, 1)
    if one is not None:
        runs.append(("solara --processes 1", one))
    v = None if a.skip_voila else run_voila(tmp / "voila", a.pages, a.baseline_pool)
    print(f"{'server':<48}{'ready':>7}{'idle':>8}{'peak':>8}{'usable p50':>12}{'p95':>8}{'max':>8}")
    rows = []
    for label, r in runs:
        rows += [(f"{label}: {a.clients} protocol clients", r, r["usable"])]
        if a.pages:
            rows += [(f"{label}: {a.pages} Chromium pages", r, r["times"]), (f"{label}: all {a.clients + a.pages}", r, r["usable"] + r["times"])]
    if v:
        rows.append((f"voila --pool {a.baseline_pool}: {len(v['times'])}/{a.pages} Chromium usable", v, v["times"]))
    for name, r, t in rows:
        print(f"{name:<48}{r['ready']:>6.1f}s{r['idle'] / 2**30:>7.2f}G{r['peak'] / 2**30:>7.2f}G{pct(t, 50):>11.2f}s{pct(t, 95):>7.2f}s{max(t, default=float('nan')):>7.2f}s")
    print(f"(solara = upo workshop --processes {n}, the default here" + (f"; {LOW} = the same with every Chromium process at nice 19" if len(modes) > 1 or modes[0] == "low" else "")
          + "; the single-process and Voilà baselines with Chromium at normal priority)")
    if one is not None:
        print(f"usable p95, {a.clients} protocol clients: --processes 1 / --processes {n} = {pct(one['usable'], 95) / pct(s['usable'], 95):.2f}x"
              + (f"; all {a.clients + a.pages}: {pct(one['usable'] + one['times'], 95) / pct(s['usable'] + s['times'], 95):.2f}x" if a.pages else ""))
    for label, r in runs:
        lat = r["presenter"]
        print(f"\n{label}: stored {r['stored']} / {a.clients}; submit -> presenter view p95 {pct(lat, 95):.2f} s, after the last submit {r['presenter_last']:.2f} s "
              f"({len(lat)} seen; all {a.clients} submits acknowledged within {r['submit_span']:.2f} s)")
        print(f"{label}: the {a.clients} protocol clients' steps from the start: page received p50 {pct(r['steps']['page'], 50):.2f} / p95 "
              f"{pct(r['steps']['page'], 95):.2f} s, websocket open {pct(r['steps']['socket'], 50):.2f} / {pct(r['steps']['socket'], 95):.2f} s, "
              f"first server message {pct(r['steps']['first'], 50):.2f} / {pct(r['steps']['first'], 95):.2f} s, "
              f"usable {pct(r['usable'], 50):.2f} / {pct(r['usable'], 95):.2f} s")
        print(_cpu_line(label, r))
        if r["errors"] or r["browser_error"]:
            print(f"errors: {len(r['errors'])} clients, browsers: {r['browser_error']}; first: {(r['errors'] or [''])[0][:300]}")
    capacity(s, a.clients + a.pages, len(s["usable"]))
    print(f"\nload average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
