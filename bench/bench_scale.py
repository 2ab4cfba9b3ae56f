"""Benchmark: report batches of a large cohort, Dask LocalCluster vs the built-in pool, and a projection.

Builds the synthetic large cohort (``upo demo --authorities 1000``: 1,000 units in 50 groups,
20 people each, three waves), then renders the first N unit reports (default 200) twice in
the same run: the built-in pool with 2 workers, and a Dask ``LocalCluster`` with 2 workers.
Both times include everything (planning, the cohort-wide data computed once, kernel start,
rendering, manifest, index). From the measured numbers it projects 11,000 reports on 16
workers:

    projected = fixed + 11000 × per_report / 16

    per_report = (T_dask − fixed) × 2 / N     the worker seconds one report costs
    fixed      = 11 × D + (F − D)             F: T_dask minus the rendering; D: the cohort-wide
                                              data for 1,000 units, measured alone (it grows with the
                                              cohort: 11× for 11,000 units), F − D: cluster and kernel start

Run:  .venv/bin/python bench/bench_scale.py [--reports 200] [--authorities 1000]
"""

from __future__ import annotations

import argparse
import logging
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
    t = time.perf_counter()
    shared_cohort_data(db)
    data_s = time.perf_counter() - t
    _MEMO.clear()
    load = [os.getloadavg()[0]]
    runs = {}
    for name, kw in (("pool", {"jobs": a.workers}), ("dask", {"scheduler": f"local:{a.workers}"})):
        t = time.perf_counter()
        res = render_reports(db, authorities=units, out=tmp / name, progress=False, **kw)
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
    fixed = 11 * data_s + startup
    projected = fixed + 11000 * per_report / 16
    print(f"\ncohort-wide data for {a.authorities} units: {data_s:.1f} s; cluster and kernel start {startup:.1f} s; "
          f"per report {per_report:.2f} worker-seconds")
    print(f"projected 11000 reports on 16 workers: {projected / 60:.1f} min "
          f"(= 11 × {data_s:.1f} s + {startup:.1f} s + 11000 × {per_report:.2f} s / 16)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
