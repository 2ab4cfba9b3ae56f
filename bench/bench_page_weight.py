"""What one participant's page costs the phone: requests, bytes and Chromium's CPU for the workshop form, one page at a time.

``upo workshop`` (one form process) serves the competence-reflection form; Chromium (Playwright,
Debian's chromium, a 390x844 viewport, a fresh browser context per page: nothing cached, as a
phone that opens the form for the first time) opens it ``--pages`` times one after another, so
no page competes with another. Per page: the requests and their bytes as sent (compressed) and
as the page's code (decoded), the time to a usable form (the submit button rendered), and from
Chromium's ``Performance.getMetrics`` the renderer process's CPU seconds (``ProcessTime``), its
main thread's (``ThreadTime``) and the script time (``ScriptDuration``), until the form is usable and 3 s
later (what the page still loads and runs after that counts for the phone too). ``--reload`` adds a
reload of the same context (the cache warm: what a participant's reload costs).

CPU seconds, not wall time, are what compare two trees on a busy machine: run it once per tree.
``--block`` refuses the requests for some files (what they cost the page: the form may look different then).

Run from the tree to measure (``upo workshop`` imports the ``toolkit`` of the current folder first):
``cd <tree> && PYTHONPATH=<tree> .venv/bin/python bench/bench_page_weight.py [--pages 3] [--reload] [--url-list] [--block fonts.css]``
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_workshop_live import ARGS, CHROMIUM, INSTRUMENT, make_db  # noqa: E402

from toolkit.workshop import WorkshopProcess  # noqa: E402


SETTLE = 3.0  # seconds after the form is usable until the page's metrics are read


def one_page(browser, url: str, reload: bool, block: list[str]) -> list[dict]:
    ctx = browser.new_context(viewport={"width": 390, "height": 844})
    if block:
        ctx.route(lambda u: any(b in u for b in block), lambda route: route.abort())
    page = ctx.new_page()
    cdp = ctx.new_cdp_session(page)
    cdp.send("Performance.enable")
    cdp.send("Network.enable")
    sizes: dict[str, list] = {}

    def done(event: dict) -> None:
        sizes.setdefault(event["requestId"], [None, 0.0])[1] = float(event.get("encodedDataLength", 0))

    def response(event: dict) -> None:
        r = event["response"]
        sizes.setdefault(event["requestId"], [None, 0.0])[0] = (r["url"], bool(r.get("fromDiskCache") or r.get("fromPrefetchCache")))

    cdp.on("Network.loadingFinished", done)
    cdp.on("Network.responseReceived", response)
    out = []
    for step in ("first", "reload")[: 2 if reload else 1]:
        sizes.clear()
        before = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
        t0 = time.perf_counter()
        if step == "first":
            page.goto(url, wait_until="commit")
        else:
            page.reload(wait_until="commit")
        page.wait_for_selector(".upo-submit", timeout=120_000)
        usable = time.perf_counter() - t0
        at_usable = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
        time.sleep(SETTLE)  # what the page still loads and runs after the form is usable counts too
        after = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
        decoded = page.evaluate("() => performance.getEntriesByType('resource').concat(performance.getEntriesByType('navigation'))"
                                ".reduce((s, e) => s + (e.decodedBodySize || 0), 0)")
        rows = [(u, c, n) for (u, c), n in ((v[0], v[1]) for v in sizes.values() if v[0] is not None) if not u.startswith(("blob:", "data:"))]
        out.append({"step": step, "usable": usable, "requests": len(rows), "cached": sum(1 for _u, c, _n in rows if c),
                    "sent": sum(n for _u, _c, n in rows), "decoded": float(decoded), "urls": rows,
                    # ProcessTime counts the renderer process (kept on a reload), the others the document (new on a reload)
                    "cpu_usable": at_usable.get("ProcessTime", 0.0) - (before.get("ProcessTime", 0.0) if step == "reload" else 0.0),
                    "ProcessTime": after.get("ProcessTime", 0.0) - (before.get("ProcessTime", 0.0) if step == "reload" else 0.0),
                    **{k: after.get(k, 0.0) for k in ("ThreadTime", "ScriptDuration", "RecalcStyleDuration", "LayoutDuration")},
                    "heap": after.get("JSHeapUsedSize", 0.0), "title": page.title()})
    ctx.close()
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=3, help="pages opened one after another, each in a fresh browser context")
    ap.add_argument("--reload", action="store_true", help="also reload each page once (its cache warm)")
    ap.add_argument("--url-list", action="store_true", help="print every request of the first page")
    ap.add_argument("--block", action="append", default=[], help="refuse requests whose URL contains this (repeatable): what a file costs the page")
    a = ap.parse_args(argv)
    from playwright.sync_api import sync_playwright

    tmp = Path(tempfile.mkdtemp(prefix="bench-page-"))
    db = make_db(tmp)
    srv = WorkshopProcess(db, INSTRUMENT, "t1", ["--authority", "BVA", "--processes", "1"]).start()
    results: list[dict] = []
    try:
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            b.new_page().set_content("<p>warm-up</p>")
            for _ in range(a.pages):
                results += one_page(b, srv.url, a.reload, a.block)
            b.close()
    finally:
        srv.stop()
    load = os.getloadavg()
    print(f"bench_page_weight: {ROOT}; {a.pages} pages one at a time{'; refused: ' + ', '.join(a.block) if a.block else ''}; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"{'page':<8}{'requests':>9}{'sent':>9}{'decoded':>9}{'usable':>8}{'CPU@usable':>11}{'CPU':>7}{'main':>7}{'script':>8}{'style':>7}{'layout':>7}{'heap':>7}")
    for step in ("first", "reload"):
        rs = [r for r in results if r["step"] == step]
        if not rs:
            continue
        med = {k: float(np.median([r[k] for r in rs])) for k in ("requests", "sent", "decoded", "usable", "cpu_usable", "ProcessTime", "ThreadTime", "ScriptDuration",
                                                                   "RecalcStyleDuration", "LayoutDuration", "heap")}
        print(f"{step:<8}{med['requests']:>9.0f}{med['sent'] / 1e6:>8.2f}M{med['decoded'] / 1e6:>8.2f}M{med['usable']:>7.2f}s{med['cpu_usable']:>10.2f}s{med['ProcessTime']:>6.2f}s"
              f"{med['ThreadTime']:>6.2f}s{med['ScriptDuration']:>7.2f}s{med['RecalcStyleDuration']:>6.2f}s{med['LayoutDuration']:>6.2f}s{med['heap'] / 1e6:>6.1f}M")
    print(f"(medians; sent = bytes over the network incl. headers, decoded = the bodies as the page uses them; CPU@usable = Chromium's renderer "
          f"process until the form was usable, the other columns until {SETTLE:.0f} s later: CPU = the renderer process, main = its main thread, "
          "script/style/layout = main-thread time in each; heap = JS heap in use)")
    print(f"page title: {results[0]['title']!r}" if results else "")
    if a.url_list and results:
        for u, cached, n in sorted(results[0]["urls"], key=lambda x: -x[2]):
            print(f"  {n / 1e3:>8.1f} kB {'cache ' if cached else ''}{u.split('//', 1)[-1].split('/', 1)[-1][:110]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
