"""Live workshop load benchmark: 60 participants, dashboard latency, Voilà page loads, kernel memory.

What it measures (all on loopback, bounded in count and time):

1. **Submissions** — N participant *processes* (default 60, forked) each build the
   form's state class (:class:`toolkit.widgets.FormState`) for the competence
   reflection, answer all 60 required items, and call ``submit()`` — the exact code
   path behind the form's submit button, without a browser. Two schedules: *burst*
   (everyone submits at the same moment) and *spread* (uniformly over ``--spread``
   seconds, like a room finishing at different times). Meanwhile this process runs
   the facilitator dashboard view (:class:`toolkit.widgets.Dashboard`: state, poller at
   its default 0.3 s interval, count and table first, figure in its own thread) on
   plain widgets without a kernel. *Lost* = submissions reported ok by a participant but not in the database.
   *Visible* = time from a participant's submit returning to the first dashboard
   update (count and aggregate table) that includes it; *figure* = to the first
   redrawn figure that includes it. Baseline: one participant alone.
2. **Page loads** — a real Voilà server for ``workshop_form.ipynb`` (``--page-loads``
   concurrent HTTP GETs of the form page, the request that allocates a participant's
   kernel and returns the executed form), with pre-heated kernels (the ``upo workshop``
   default, pool 4, and a larger pool) and without; memory per participant kernel
   (RSS and USS) measured with psutil.
3. **Browser** — ``--browser`` Chromium pages (Playwright, Debian's chromium) opened
   at once against the pre-heated server: time until the form's widgets are rendered.

Run: ``.venv/bin/python bench/bench_workshop.py`` (``--quick`` for a short run).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from toolkit.store import Store  # noqa: E402
from toolkit.widgets import DashboardState, FormState  # noqa: E402
from toolkit.widgets.dashboard import Dashboard  # noqa: E402
from toolkit.workshop import FORM_NOTEBOOK, VoilaServer, free_port, session_env, validate_session  # noqa: E402

INSTRUMENT = "competence_reflection"


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def make_db(folder: Path) -> Path:
    path = folder / "workshop.sqlite"
    s = Store.init(path, cohort="Bench")
    s.add_instrument(INSTRUMENT)
    s.add_authority("BVA", name="Bundesverwaltungsamt", ministry="BMI")
    s.add_wave("t1")
    s.close()
    return path


def _participant(db: str, i: int, go: mp.Event, delay: float, out: mp.Queue) -> None:
    try:
        rng = np.random.default_rng(i)
        form = FormState(db, INSTRUMENT, "t1", authority="BVA")
        form.set_code(mother=f"{chr(65 + i % 26)}{chr(65 + i // 26 % 26)}", birthday=str(i % 28 + 1), birthplace="B", street="Xy")
        for item in form.simple_items:
            if item.type != "text":
                form.set_answer(item.id, float(rng.choice(form.instrument.scales[item.scale].points)))
        go.wait(120)
        time.sleep(delay)
        t0 = time.time()
        result = form.submit()
        t1 = time.time()
        out.put((i, result.ok, result.submission_id, t0, t1, result.message if not result.ok else ""))
    except Exception as exc:  # report, never hang the bench
        out.put((i, False, None, time.time(), time.time(), repr(exc)))


def run_submissions(n: int, spread: float, folder: Path) -> dict:
    db = make_db(folder)
    ctx = mp.get_context("fork")
    go, out = ctx.Event(), ctx.Queue()
    rng = np.random.default_rng(1)
    delays = rng.uniform(0, spread, n) if spread > 0 else np.zeros(n)
    procs = [ctx.Process(target=_participant, args=(str(db), i, go, float(delays[i]), out), daemon=True) for i in range(n)]
    for p in procs:  # fork before any thread starts in this process
        p.start()
    state = DashboardState(db, INSTRUMENT, "t1", authority="BVA")
    # the real dashboard view (widgets work without a kernel); its updates are timed via observers
    dash = Dashboard(state)  # default poll interval
    renders: list[tuple[float, int]] = []
    figures: list[tuple[float, int]] = []
    dash.table_html.observe(lambda ch: renders.append((time.time(), state.n)), names="value")
    dash.count_html.observe(lambda ch: renders.append((time.time(), state.n)) if not state.visible else None, names="value")
    dash.image.observe(lambda ch: figures.append((time.time(), dash.figure_n)), names="value")
    time.sleep(1.0)
    go.set()
    results = []
    deadline = time.time() + spread + 180
    while len(results) < n and time.time() < deadline:
        try:
            results.append(out.get(timeout=1))
        except Exception:
            pass
    for p in procs:
        p.join(timeout=5)
        if p.is_alive():
            p.kill()
    wait_until = time.time() + 30
    while (not renders or renders[-1][1] < sum(r[1] for r in results)) and time.time() < wait_until:
        time.sleep(0.1)
    time.sleep(3)  # let the last figure finish
    dash.close()
    ok = [r for r in results if r[1]]
    stored = Store(db).count_submissions(INSTRUMENT)
    order = sorted(ok, key=lambda r: r[2])  # submission ids = commit order
    visible, figure = [], []
    for rank, r in enumerate(order, start=1):
        seen = next((t for t, cnt in renders if cnt >= rank and t >= r[4] - 1e-3), None)
        if seen is not None:
            visible.append(seen - r[4])
        drawn = next((t for t, cnt in figures if cnt >= rank and t >= r[4] - 1e-3), None)
        if drawn is not None and rank >= state.k:
            figure.append(drawn - r[4])
    errors = [r[5] for r in results if not r[1]]
    return {
        "n": n,
        "ok": len(ok),
        "stored": stored,
        "lost": len(ok) - stored if stored <= len(ok) else 0,
        "failed": len(results) - len(ok) + (n - len(results)),
        "errors": errors[:3],
        "submit": [r[4] - r[3] for r in ok],
        "visible": visible,
        "figure": figure,
        "missing_visible": len(ok) - len(visible),
        "renders": len(renders),
        "compute": state.compute_seconds,
    }


def _get(url: str) -> float:
    t0 = time.perf_counter()
    with urllib.request.urlopen(url, timeout=300) as resp:
        resp.read()
    return time.perf_counter() - t0


def _wait_pool(server: VoilaServer, n: int, timeout: float) -> float:
    """Seconds until at least ``n`` kernels exist and all are idle (pre-heated kernels have run the form notebook)."""
    import psutil

    t0 = time.monotonic()
    quiet = 0
    while time.monotonic() - t0 < timeout:
        procs = [psutil.Process(p) for p in server.kernel_pids()]
        busy = sum(p.cpu_percent(interval=None) for p in procs)
        time.sleep(0.5)
        busy = sum(p.cpu_percent(interval=None) for p in procs if p.is_running())
        quiet = quiet + 1 if len(procs) >= n and busy < 10 else 0
        if quiet >= 3:
            return time.monotonic() - t0
    return float("nan")


def kernel_memory(server: VoilaServer) -> tuple[int, float, float]:
    import psutil

    rss, uss = [], []
    for pid in server.kernel_pids():
        try:
            info = psutil.Process(pid).memory_full_info()
        except Exception:
            continue
        rss.append(info.rss)
        uss.append(info.uss)
    return len(rss), statistics.median(rss) / 2**20 if rss else float("nan"), statistics.median(uss) / 2**20 if uss else float("nan")


def run_page_loads(db: Path, n: int, *, preheat: bool, pool: int, browser: int = 0) -> dict:
    env = session_env(validate_session(db, INSTRUMENT, "t1", "BVA"))
    server = VoilaServer(FORM_NOTEBOOK, env=env, port=free_port(), preheat=preheat, pool_size=pool)
    server.start()
    try:
        ready = server.wait_ready(300)
        fill = _wait_pool(server, pool if preheat else 0, timeout=600)
        times = []
        if n:
            with ThreadPoolExecutor(max_workers=n) as ex:
                times = list(ex.map(lambda _i: _get(server.url), range(n)))
        n_k, rss, uss = kernel_memory(server)
        shots = run_browser(server.url, browser) if browser else []
        return {"ready": ready, "fill": fill, "times": times, "kernels": n_k, "rss": rss, "uss": uss, "browser": shots}
    finally:
        server.stop()


def run_browser(url: str, k: int) -> list[float]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return []
    if not Path("/usr/bin/chromium").exists():
        return []
    out: list[float] = []
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run", "--disable-component-update", "--disable-sync"])
        pages = [b.new_page(viewport={"width": 390, "height": 844}) for _ in range(k)]
        t0 = time.perf_counter()
        for pg in pages:
            pg.goto(url, wait_until="commit", timeout=300_000)
        for pg in pages:
            pg.wait_for_selector(".upo-submit", timeout=300_000)
            out.append(time.perf_counter() - t0)
        b.close()
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--participants", type=int, default=60)
    ap.add_argument("--spread", type=float, default=60.0, help="seconds over which the spread schedule submits")
    ap.add_argument("--page-loads", type=int, default=12)
    ap.add_argument("--pool", type=int, default=12, help="the larger pre-heated pool to compare")
    ap.add_argument("--browser", type=int, default=4)
    ap.add_argument("--quick", action="store_true", help="20 participants, 10 s spread, 6 page loads, 2 browser pages")
    ap.add_argument("--skip-voila", action="store_true")
    ap.add_argument("--skip-submissions", action="store_true")
    a = ap.parse_args(argv)
    if a.quick:
        a.participants, a.spread, a.page_loads, a.pool, a.browser = 20, 10.0, 6, 6, 2
    os.environ.setdefault("MPLBACKEND", "Agg")
    tmp = Path(tempfile.mkdtemp(prefix="bench-workshop-"))
    print(f"bench_workshop: {os.cpu_count()} cores, {a.participants} participants, spread {a.spread:.0f} s\n")

    if a.skip_submissions:
        return _voila_part(a, tmp)
    base = run_submissions(1, 0.0, tmp / "base")
    burst = run_submissions(a.participants, 0.0, tmp / "burst")
    spread = run_submissions(a.participants, a.spread, tmp / "spread")
    b_sub, b_vis = pct(base["submit"], 50), pct(base["visible"], 50)
    print("1) submissions (state-class submit path in separate processes) -> dashboard visible (poll + recompute + render)")
    print(f"{'scenario':<10}{'n':>4}{'ok':>5}{'lost':>6}{'submit p50':>12}{'p95':>8}{'visible p50':>13}{'p95':>8}{'max':>8}{'x base p95':>12}{'figure p50':>12}{'p95':>8}")
    for name, r in (("baseline", base), ("burst", burst), ("spread", spread)):
        print(
            f"{name:<10}{r['n']:>4}{r['ok']:>5}{r['lost']:>6}{pct(r['submit'], 50):>11.3f}s{pct(r['submit'], 95):>7.3f}s"
            f"{pct(r['visible'], 50):>12.3f}s{pct(r['visible'], 95):>7.3f}s{max(r['visible'] or [float('nan')]):>7.3f}s{pct(r['visible'], 95) / b_vis:>12.1f}"
            f"{pct(r['figure'], 50):>11.3f}s{pct(r['figure'], 95):>7.3f}s"
        )
        if r["errors"] or r["missing_visible"]:
            print(f"   errors: {r['errors']} not seen on dashboard: {r['missing_visible']}")
    print("   visible = count and aggregate table updated; figure = radar PNG redrawn (from the k-th submission on)")
    print(f"   baseline: one participant alone, submit {b_sub:.3f} s, visible {b_vis:.3f} s; dashboard recompute at n={a.participants}: {spread['compute']:.3f} s\n")

    if a.skip_voila:
        return 0
    return _voila_part(a, tmp)


def _voila_part(a: argparse.Namespace, tmp: Path) -> int:
    db = make_db(tmp / "voila")
    print(f"2) real Voilà page loads: {a.page_loads} concurrent GETs of the form page (each gets its own kernel)")
    print(f"{'config':<26}{'start':>7}{'pool filled':>12}{'p50':>8}{'p95':>8}{'max':>8}{'x preheat':>10}{'kernels':>9}{'RSS/kernel':>12}{'USS/kernel':>12}")
    rows = [("no preheat", False, 0, 0), ("preheat pool 8 (default)", True, 8, 0), (f"preheat pool {a.pool}", True, a.pool, 0)]
    results = {}
    for name, pre, pool, br in rows:
        results[name] = run_page_loads(db, a.page_loads, preheat=pre, pool=pool, browser=br)
    ref = pct(results[f"preheat pool {a.pool}"]["times"], 95)
    for name, *_ in rows:
        r = results[name]
        print(
            f"{name:<26}{r['ready']:>6.1f}s{r['fill']:>11.1f}s{pct(r['times'], 50):>7.2f}s{pct(r['times'], 95):>7.2f}s{max(r['times']):>7.2f}s"
            f"{pct(r['times'], 95) / ref:>10.1f}{r['kernels']:>9}{r['rss']:>10.0f}MB{r['uss']:>10.0f}MB"
        )
    shots = run_page_loads(db, 0, preheat=True, pool=max(4, a.browser), browser=a.browser)["browser"] if a.browser else []
    if shots:
        print(f"\n3) {len(shots)} Chromium pages opened at once (fresh server, pool {max(4, a.browser)}): widgets rendered after p50 {pct(shots, 50):.2f} s, max {max(shots):.2f} s")
    else:
        print("\n3) browser part skipped (no Chromium / playwright)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
