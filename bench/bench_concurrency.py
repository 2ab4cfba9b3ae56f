"""Benchmark: submission throughput of many processes writing one database through the form's submit path.

P processes (default 60, started at once from a forkserver) each make 10 ``submit()``
calls of :class:`toolkit.widgets.FormState` for the reality check (43 items):
new participants, corrections and a double click. Throughput = stored submissions per
second of wall time from the common start to the last commit. Baseline: one process
making the same 10 calls alone, in the same run. Also prints lost / duplicated counts
(must be 0) and how often a participant had to click again because the database was busy.

With ``--postgresql`` the same 60 × 10 run is repeated against a PostgreSQL database
(a throwaway local cluster, :mod:`toolkit.store.cluster`) in the same run, beside SQLite;
p95 is the 95th percentile of one ``submit()`` call's latency (retries included).

Run:  .venv/bin/python bench/bench_concurrency.py [--processes 60] [--postgresql]
Prints a table; not a test (the correctness checks are in tests/test_hardening_concurrency.py).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CALLS = 10


def _worker(db: str, proc: int, go, out) -> None:
    from toolkit.widgets.form_state import FormState

    form = FormState(db, "reality_check", "t0", authority=f"A{proc % 6}")
    go.wait(300)
    t0 = time.time()
    stored, busy, latencies = [], 0, []

    def fill(person: int, corrected: bool) -> None:
        form.reset()
        form.set_code({"mother": f"{chr(65 + proc % 26)}{chr(65 + proc // 26 % 26)}", "birthday": str(person + 1), "birthplace": "K", "street": "Sx"})
        for i, item in enumerate(form.instrument.items):
            form.set_answer(item.id, (2 if i == 0 else 0) if corrected else 1)

    def submit() -> None:
        nonlocal busy
        t = time.perf_counter()
        for _ in range(100):
            res = form.submit()
            if res.ok:
                stored.append((res.submission_id, res.duplicate))
                latencies.append(time.perf_counter() - t)
                return
            busy += 1
        raise RuntimeError("submit kept failing")

    for person in range(6):
        fill(person, False)
        submit()
    for person in (0, 1):
        fill(person, True)
        submit()
    fill(6, False)
    submit()
    submit()  # double click
    out.put((proc, t0, time.time(), stored, busy, latencies))


def run(n_proc: int, folder: Path, db: str | None = None) -> dict:
    from toolkit.store import Store

    folder.mkdir(parents=True, exist_ok=True)
    db = db or str(folder / "room.sqlite")
    store = Store.init(db)
    store.add_instrument("reality_check")
    store.add_wave("t0")
    for i in range(6):
        store.add_authority(f"A{i}", ministry="BMI")
    store.close()
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["toolkit.widgets.form_state"])
    go, out = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(str(db), p, go, out)) for p in range(n_proc)]
    for p in procs:
        p.start()
    time.sleep(min(30.0, 0.5 + 0.1 * n_proc))  # let every process import and open the form
    start = time.time()
    go.set()
    results = [out.get(timeout=600) for _ in procs]
    for p in procs:
        p.join(60)
    end = max(r[2] for r in results)
    calls = [s for r in results for s in r[3]]
    ids = {sid for sid, _ in calls}
    with Store(db) as s:
        in_db = {r[0] for r in s.conn.execute("SELECT id FROM submissions")}
    n_stored = len(in_db)
    return {
        "processes": n_proc,
        "calls": len(calls),
        "stored": n_stored,
        "expected": n_proc * (CALLS - 1),
        "lost": len(ids - in_db) + max(0, n_proc * (CALLS - 1) - n_stored),
        "duplicated": max(0, n_stored - len(ids)),
        "busy_retries": sum(r[4] for r in results),
        "seconds": end - start,
        "throughput": n_stored / (end - start),
        "p95": float(np.percentile([x for r in results for x in r[5]], 95)),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--processes", type=int, default=60)
    ap.add_argument("--postgresql", action="store_true", help="also run against PostgreSQL (a throwaway local cluster)")
    a = ap.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="bench-concurrency-"))
    os.environ.setdefault("XDG_DATA_HOME", str(tmp / "xdg"))  # the PostgreSQL cohort's code key
    base = run(1, tmp / "base")
    many = run(a.processes, tmp / "many")
    scenarios = [("baseline", base), ("concurrent", many)]
    if a.postgresql:
        from toolkit.store.cluster import LocalCluster

        with LocalCluster(durable=True) as pg:  # fsync on: the same durability as the SQLite file
            scenarios.append(("pg-baseline", run(1, tmp / "pgb", pg.create_database())))
            scenarios.append(("pg-concurrent", run(a.processes, tmp / "pgm", pg.create_database())))
    print(f"bench_concurrency: {os.cpu_count()} cores, reality check (43 items), {CALLS} submit() calls per process\n")
    print(f"{'scenario':<14}{'processes':>10}{'stored':>8}{'lost':>6}{'dup':>5}{'busy retries':>14}{'seconds':>9}{'subm./s':>9}{'x base':>8}"
          f"{'p95 s':>8}")
    for name, r in scenarios:
        print(f"{name:<14}{r['processes']:>10}{r['stored']:>8}{r['lost']:>6}{r['duplicated']:>5}{r['busy_retries']:>14}{r['seconds']:>9.2f}"
              f"{r['throughput']:>9.1f}{r['throughput'] / base['throughput']:>8.2f}{r['p95']:>8.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
