"""Benchmark: report batches of a large cohort, Dask LocalCluster vs the built-in pool, and a projection.

Builds the synthetic large cohort (``upo demo --authorities 1000``: 1,000 units in 50 groups,
20 people each, three waves) and one of half the size, then measures in the same run:

- the cohort-wide step at N/2 and N units, in its parts: reading the answers (``_load``), the
  shared analyses, the disclosure planner's change decisions, minimising the batch cache
  (CPU and wall seconds each);
- the first R unit reports (default 200) rendered twice: the built-in pool with 2 workers and a
  Dask ``LocalCluster`` with 2 workers (both without the audit, which is measured apart);
  c = the CPU seconds one report costs in its worker and kernel (from the kernels, this run);
- ``--audit``: the batch's disclosure audit as it now runs (the kernels ship each report's
  release record; the parent merges them with its own releases and checks the record), measured
  on full audited batches of cohorts of R and R/2 units: A = the parent's CPU after rendering.

Projection for 11,000 reports on 16 workers:

    projected = D(11000) + P(11000) + A(11000) + S + 11000 × c / 16

    X(11000) = X(N) × (11000 / N) ** e,  e = log2(X(N) / X(N/2))   (measured growth, per part)
    D = read + analyses + minimise (CPU), P = planner (CPU), A = audit (parent CPU),
    S = cluster and kernel start (T_dask − D − P − the rendering's wall time).

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


def _timed(fn, *args):  # noqa: ANN001, ANN202
    w, c = time.perf_counter(), time.process_time()
    out = fn(*args)
    return out, time.perf_counter() - w, time.process_time() - c


def cohort_step(db: Path) -> dict[str, tuple[float, float]]:
    """(wall, CPU) seconds of the parts of the cohort-wide step for one database."""
    from toolkit.reports.context import _MEMO, _load, _minimised

    data, *read = _timed(_load, db)
    comp = data.competence
    waves = [w for w in data.wave_labels() if w in set(data.counts.loc[data.counts["instrument"] == comp.id, "wave"])]
    k = int(data.cohort["min_group_size"])

    def analyses() -> None:
        data.scores()
        data.gaps()
        data.reliability(comp.id, waves[0])
        for later in waves[1:]:
            data.change_by_authority(waves[0], later)
        if data.checklist is not None:
            data.readiness()
        if data.stakeholder is not None and not data.rsp(data.stakeholder).empty:
            data.stakeholder_maps("de")

    def planner() -> None:
        for j, b in enumerate(waves):
            for a in waves[:j]:
                data.change_decisions(a, b, k)

    _, *ana = _timed(analyses)
    _, *plan = _timed(planner)
    data.precompute("de")  # anything left (nothing, normally)
    _, *mini = _timed(_minimised, data)
    _MEMO.clear()
    return {"read": tuple(read), "analyses": tuple(ana), "planner": tuple(plan), "minimise": tuple(mini)}


def _grow(small: float, big: float, n: int) -> tuple[float, float]:
    e = math.log2(big / small) if small > 0 and big > 0 else 1.0
    return big * (11000 / n) ** e, e


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reports", type=int, default=200)
    ap.add_argument("--authorities", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--audit", action="store_true", help="also measure the batch's audit on full batches of R and R/2 units")
    a = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    from toolkit.demo_large import build_large_demo
    from toolkit.reports import render_reports
    from toolkit.reports.context import _MEMO

    load = [os.getloadavg()[0]]
    tmp = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    db, half = tmp / "large.sqlite", tmp / "half.sqlite"
    t = time.perf_counter()
    store = build_large_demo(db, n_authorities=a.authorities)
    build = time.perf_counter() - t
    units = list(store.authorities()["authority"])[: a.reports]
    store.close()
    build_large_demo(half, n_authorities=max(2, a.authorities // 2)).close()
    steps = {"half": cohort_step(half), "full": cohort_step(db)}
    load.append(os.getloadavg()[0])

    runs = {}
    for name, kw in (("pool", {"jobs": a.workers}), ("dask", {"scheduler": f"local:{a.workers}"})):
        t = time.perf_counter()
        res = render_reports(db, authorities=units, out=tmp / name, progress=False, audit=False, **kw)
        runs[name] = (time.perf_counter() - t, res)
        _MEMO.clear()
        load.append(os.getloadavg()[0])
        if not res.ok:
            print(res.summary_text(), file=sys.stderr)
    audits = {}
    if a.audit:
        for m in (max(2, a.reports // 2), a.reports):
            small = tmp / f"audit-{m}.sqlite"
            build_large_demo(small, n_authorities=m).close()
            res = render_reports(small, out=tmp / f"audit-{m}", jobs=a.workers, progress=False, cohort=True)
            _MEMO.clear()
            audits[m] = res.audit
            load.append(os.getloadavg()[0])

    print(f"bench_scale: {os.cpu_count()} cores, {a.authorities} units × 20 people × 3 waves (built in {build:.1f} s), "
          f"{a.reports} unit reports, {a.workers} workers; load average {' / '.join(f'{x:.1f}' for x in load)}\n")
    n2, n = max(2, a.authorities // 2), a.authorities
    print(f"{'cohort-wide step':<22}{f'{n2} units cpu':>16}{'wall':>8}{f'{n} units cpu':>16}{'wall':>8}{'growth e':>10}")
    proj = {}
    for part in ("read", "analyses", "minimise", "planner"):
        (w2, c2), (w1, c1) = steps["half"][part], steps["full"][part]
        big, e = _grow(c2, c1, n)
        proj[part] = (big, e)
        print(f"{part:<22}{c2:>16.2f}{w2:>8.2f}{c1:>16.2f}{w1:>8.2f}{e:>10.2f}")
    d_n = sum(steps["full"][p][1] for p in ("read", "analyses", "minimise"))
    d_half = sum(steps["half"][p][1] for p in ("read", "analyses", "minimise"))
    d_big, e_d = _grow(d_half, d_n, n)
    p_n = steps["full"]["planner"][1]
    p_big, e_p = proj["planner"]
    print(f"{'D = read+analyses+min':<22}{d_half:>16.2f}{'':>8}{d_n:>16.2f}{'':>8}{e_d:>10.2f}\n")

    print(f"{'run':<6}{'reports':>8}{'seconds':>10}{'wall s/report (median)':>24}{'cpu s/report (mean)':>22}")
    for name, (secs, res) in runs.items():
        per = sorted(r.seconds for r in res.rendered)
        cpu = [r.cpu for r in res.rendered]
        print(f"{name:<6}{len(res.rendered):>8}{secs:>10.1f}{(per[len(per) // 2] if per else float('nan')):>24.2f}"
              f"{(sum(cpu) / len(cpu) if cpu else float('nan')):>22.2f}")
    t_pool, res_pool = runs["pool"]
    t_dask, res = runs["dask"]
    print(f"dask / pool: {t_dask / t_pool:.2f}× (target ≤ 1.2×)")
    cpus = [r.cpu for r in res.rendered] + [r.cpu for r in res_pool.rendered]
    per_report = sum(cpus) / max(1, len(cpus))
    render_wall = sum(r.seconds for r in res.rendered) / a.workers
    startup = max(0.0, t_dask - render_wall - d_n - p_n)
    a_big = 0.0
    if a.audit:
        (m2, r2), (m1, r1) = sorted(audits.items())
        a_big, e_a = _grow(r2.cpu, r1.cpu, m1)
        print(f"\nbatch audit (parent CPU after rendering; {len(r1.from_kernels)} of {m1 + 1} reports from their kernels' records): "
              f"{r2.cpu:.2f} s for {m2} units, {r1.cpu:.2f} s for {m1} units (wall {r2.seconds:.2f} / {r1.seconds:.2f} s), "
              f"e_A = {e_a:.2f}, {len(r1.record)} releases, {len(r1.violations)} violations")
    projected = d_big + p_big + a_big + startup + 11000 * per_report / 16
    print(f"\nprojected 11000 reports on 16 workers: {projected / 60:.1f} min "
          f"(= D {d_n:.1f} s × {11000 / n:.1f}^{e_d:.2f} + P {p_n:.1f} s × {11000 / n:.1f}^{e_p:.2f} + "
          + (f"A {a_big:.1f} s" if a.audit else "audit not measured (--audit)") + f" + S {startup:.1f} s + 11000 × {per_report:.2f} s / 16)")
    print(f"  of which cohort-wide data {d_big / 60:.1f} min, planner {p_big / 60:.1f} min, audit {a_big / 60:.1f} min, "
          f"rendering {11000 * per_report / 16 / 60:.1f} min (c = CPU per report in worker and kernel)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
