"""Benchmark: report batches of a large cohort, Dask LocalCluster vs the built-in pool, and a projection.

Builds the synthetic large cohort (``upo demo --authorities 1000``: 1,000 units in 50 groups,
20 people each, three waves), then renders the first N unit reports (default 200) twice in
the same run: the built-in pool with 2 workers, and a Dask ``LocalCluster`` with 2 workers.
Both times include everything (planning, the cohort-wide data computed once, kernel start,
rendering, manifest, index) except the disclosure audit (measured apart, ``--audit``). From the
measured numbers it projects 11,000 reports on 16 workers:

    projected = D(11000) + A(11000) + S + 11000 × c / 16

    c        = the worker seconds one report costs (sum of the reports' kernel seconds / reports)
    S        = cluster and kernel start (T_dask − D(N) − the rendering's wall time)
    D(11000) = D(N) × (11000 / N) ** e    the cohort-wide data (read, analyses, disclosure planner),
                                          measured alone at N and N/2 units; e = log2(D(N) / D(N/2))
                                          is the measured growth (1 = linear; the planner is not)
    A(11000) = A(N) × (11000 / N) ** e_A  the disclosure audit the batch runs first (``--audit``:
                                          measured at N and N/2 the same way; otherwise left out
                                          and the line says so)

Run:  .venv/bin/python bench/bench_scale.py [--reports 200] [--authorities 1000] [--audit]
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reports", type=int, default=200)
    ap.add_argument("--authorities", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--audit", action="store_true", help="also measure the disclosure audit at N and N/2 units (slow)")
    a = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    from toolkit.demo_large import build_large_demo
    from toolkit.reports import render_reports
    from toolkit.reports.context import _MEMO, shared_cohort_data

    tmp = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    db = tmp / "large.sqlite"
    t = time.perf_counter()
    store = build_large_demo(db, n_authorities=a.authorities)
    build = time.perf_counter() - t
    units = list(store.authorities()["authority"])[: a.reports]
    store.close()
    half = tmp / "half.sqlite"
    build_large_demo(half, n_authorities=max(2, a.authorities // 2)).close()

    def timed(fn: object, *args: object) -> float:
        t = time.perf_counter()
        fn(*args)  # type: ignore[operator]
        _MEMO.clear()
        return time.perf_counter() - t

    data_half, data_s = timed(shared_cohort_data, half), timed(shared_cohort_data, db)
    audit_half = audit_s = float("nan")
    if a.audit:
        from toolkit.reports.audit import cohort_audit

        audit_half, audit_s = timed(cohort_audit, half), timed(cohort_audit, db)
    load = [os.getloadavg()[0]]
    runs = {}
    for name, kw in (("pool", {"jobs": a.workers}), ("dask", {"scheduler": f"local:{a.workers}"})):
        t = time.perf_counter()
        res = render_reports(db, authorities=units, out=tmp / name, progress=False, audit=False, **kw)
        runs[name] = (time.perf_counter() - t, res)
        _MEMO.clear()
        load.append(os.getloadavg()[0])
        if not res.ok:
            print(res.summary_text(), file=sys.stderr)
    print(f"bench_scale: {os.cpu_count()} cores, {a.authorities} units × 20 people × 3 waves (built in {build:.1f} s), "
          f"{a.reports} unit reports, {a.workers} workers; load average {' / '.join(f'{x:.1f}' for x in load)}\n")
    print(f"{'run':<6}{'reports':>8}{'seconds':>10}{'s/report (in kernel, median)':>30}")
    for name, (secs, res) in runs.items():
        per = sorted(r.seconds for r in res.rendered)
        print(f"{name:<6}{len(res.rendered):>8}{secs:>10.1f}{(per[len(per) // 2] if per else float('nan')):>30.2f}")
    t_dask, res = runs["dask"]
    render_s = sum(r.seconds for r in res.rendered) / a.workers
    startup = max(0.0, t_dask - render_s - data_s)
    per_report = render_s * a.workers / max(1, len(res.rendered))
    scale = 11000 / a.authorities
    e_d = math.log2(data_s / data_half) if data_half > 0 else 1.0
    d_big = data_s * scale ** e_d
    e_a = math.log2(audit_s / audit_half) if a.audit and audit_half > 0 else float("nan")
    a_big = audit_s * scale ** e_a if a.audit else 0.0
    projected = d_big + a_big + startup + 11000 * per_report / 16
    print(f"\ncohort-wide data: {data_half:.1f} s for {a.authorities // 2} units, {data_s:.1f} s for {a.authorities} units "
          f"(growth exponent e = {e_d:.2f}); cluster and kernel start {startup:.1f} s; per report {per_report:.2f} worker-seconds")
    if a.audit:
        print(f"disclosure audit: {audit_half:.1f} s for {a.authorities // 2} units, {audit_s:.1f} s for {a.authorities} units (e_A = {e_a:.2f})")
    print(f"projected 11000 reports on 16 workers: {projected / 60:.1f} min "
          f"(= {data_s:.1f} s × {scale:.1f}^{e_d:.2f} + " + (f"{audit_s:.1f} s × {scale:.1f}^{e_a:.2f}" if a.audit else "audit not measured (--audit)")
          + f" + {startup:.1f} s + 11000 × {per_report:.2f} s / 16)")
    print(f"  of which cohort-wide data {d_big / 60:.1f} min, audit {a_big / 60:.1f} min, rendering {11000 * per_report / 16 / 60:.1f} min")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
