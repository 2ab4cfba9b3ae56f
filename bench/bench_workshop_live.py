"""Live workshop at event scale: the one-process Solara server vs the kernel-per-page Voilà baseline, same run.

For each server: N real Chromium pages (Playwright, Debian's chromium, one browser, a context
each) open the competence-reflection form at the same moment; *usable* = the form's submit
button is rendered (the page can be filled). The server's memory (RSS of the process and its
children) is sampled every 0.2 s; *idle* is before the first page, *peak* the maximum.
Then M participants (separate processes, the form's state class: the code path of the
submit button) submit in the same second while the presenter view is open in Chromium:
*visible* = time from the last submit to the presenter page showing the new count.
*Stored* counts distinct submissions in the database.

Not measured here (said plainly): websocket clients at the protocol level; the 2-core
machine's browsers compete with the server for the CPU, so join times are an upper bound.

Run: ``.venv/bin/python bench/bench_workshop_live.py [--pages 10] [--submits 60] [--baseline-pool 10] [--skip-voila]``
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from toolkit.store import Store  # noqa: E402
from toolkit.widgets import FormState  # noqa: E402
from toolkit.workshop import FORM_NOTEBOOK, VoilaServer, WorkshopProcess, free_port, session_env, validate_session  # noqa: E402

INSTRUMENT = "competence_reflection"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run", "--disable-component-update", "--disable-sync"]


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


def open_pages(url: str, n: int, join_code: str | None = None) -> list[float]:
    from playwright.sync_api import sync_playwright

    out: list[float] = []
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        pages = [b.new_context(viewport={"width": 390, "height": 844}).new_page() for _ in range(n)]
        t0 = time.perf_counter()
        for pg in pages:
            pg.goto(url, wait_until="commit", timeout=300_000)
        for pg in pages:
            pg.wait_for_selector(".upo-submit", timeout=300_000)
            out.append(time.perf_counter() - t0)
        b.close()
    return out


def _participant(db: str, i: int, go, out) -> None:
    rng = np.random.default_rng(i)
    form = FormState(db, INSTRUMENT, "t1", authority="BVA")
    form.set_code(mother=f"{chr(65 + i % 26)}{chr(65 + i // 26 % 26)}", birthday=str(i % 28 + 1), birthplace="B", street="Xy")
    for item in form.simple_items:
        if item.type != "text":
            form.set_answer(item.id, float(rng.choice(form.instrument.scales[item.scale].points)))
    go.wait(120)
    r = form.submit()
    out.put((r.ok, time.time()))


def submit_and_watch(db: Path, presenter_url: str, m: int) -> tuple[int, float]:
    from playwright.sync_api import sync_playwright

    ctx = mp.get_context("fork")
    go, out = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_participant, args=(str(db), i, go, out), daemon=True) for i in range(m)]
    for p in procs:
        p.start()
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        pres = b.new_page(viewport={"width": 1920, "height": 1080})
        pres.goto(presenter_url, timeout=120_000)
        pres.wait_for_selector(".upo-count", timeout=120_000)
        time.sleep(1)
        go.set()
        done = [out.get(timeout=180) for _ in range(m)]
        last = max(t for _, t in done)
        n_ok = sum(1 for ok, _ in done if ok)
        try:
            pres.wait_for_function(f"() => {{ const e = document.querySelector('.upo-count'); return e && +e.dataset.n >= {n_ok}; }}", timeout=60_000)
            visible = time.time() - last
        except Exception:
            visible = float("nan")
            print("presenter shows:", pres.locator(".upo-count").get_attribute("data-n"), "ok:", n_ok, file=sys.stderr)
        b.close()
    for p in procs:
        p.join(5)
    return Store(db).count_submissions(INSTRUMENT), visible


def run_solara(folder: Path, pages: int, submits: int) -> dict:
    db = make_db(folder)
    srv = WorkshopProcess(db, INSTRUMENT, "t1", ["--authority", "BVA"]).start()
    try:
        sampler = Sampler(srv.pid)
        idle = sampler.rss()
        sampler.start()
        times = open_pages(srv.url, pages)
        stored, visible = submit_and_watch(db, srv.presenter_url, submits) if submits else (0, float("nan"))
        peak = sampler.stop()
        ready = float("".join(srv.output).split("Ready after ")[1].split(" s")[0])
    finally:
        srv.stop()
    return {"ready": ready, "idle": idle, "peak": peak, "times": times, "stored": stored, "visible": visible}


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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=10, help="Chromium pages opening the form at once")
    ap.add_argument("--submits", type=int, default=60, help="participants submitting in the same second")
    ap.add_argument("--baseline-pool", type=int, default=10, help="Voilà pre-heated kernels (≈ 150 MB each)")
    ap.add_argument("--skip-voila", action="store_true")
    a = ap.parse_args(argv)
    os.environ.setdefault("MPLBACKEND", "Agg")
    tmp = Path(tempfile.mkdtemp(prefix="bench-live-"))
    print(f"bench_workshop_live: {os.cpu_count()} cores, {a.pages} Chromium pages at once, {a.submits} submits in one second\n")
    s = run_solara(tmp / "solara", a.pages, a.submits)
    rows = [("solara (upo workshop)", s)]
    if not a.skip_voila:
        rows.append((f"voila --pool {a.baseline_pool} (baseline)", run_voila(tmp / "voila", a.pages, a.baseline_pool)))
    print(f"{'server':<28}{'ready':>7}{'idle':>9}{'peak':>9}{'usable p50':>12}{'p95':>8}{'per page':>10}")
    for name, r in rows:
        per = (r["peak"] - r["idle"]) / max(1, a.pages) / 2**20
        print(f"{name:<28}{r['ready']:>6.1f}s{r['idle'] / 2**30:>8.2f}G{r['peak'] / 2**30:>8.2f}G{pct(r['times'], 50):>11.2f}s{pct(r['times'], 95):>7.2f}s{per:>8.1f}MB")
    print(f"\nsolara: stored {s['stored']} / {a.submits}; presenter view shows the last submit after {s['visible']:.2f} s")
    per = max(1.0, (s["peak"] - s["idle"]) / max(1, a.pages + a.submits * 0) / 2**20)
    print(f"solara per page {per:.1f} MB: memory for 300 participants ≈ {s['idle'] / 2**20 + 300 * per:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
