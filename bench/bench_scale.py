"""Benchmark: report batches of a large cohort, Dask LocalCluster vs the built-in pool, and a projection.

Builds the synthetic large cohort (``upo demo --authorities 1000``: 1,000 units in 50 groups,
20 people each, three waves) and one of half the size, then measures in the same run:

- the cohort-wide step at N/2 and N units, in its parts (CPU and wall seconds each): reading the
  answers (``_load``), the shared analyses, the disclosure planner's change decisions (its
  preparation in the parent and each dimension's decisions, which a batch decides in parallel on
  its workers), minimising the batch cache, and the command-line aggregates of the batch's audit
  (computed in a thread beside the rendering);
- the first R unit reports (default 200) rendered twice: the built-in pool with 2 workers and a
  Dask ``LocalCluster`` with 2 workers (both without the audit, which is measured apart);
  c = the CPU seconds one report costs in its worker and kernel (from the kernels, this run);
- ``--audit``: full audited batches of cohorts of M/2 and M units (``--audit-units``, default
  R/2 and R): the parent's CPU joining each shipped record as it arrives (beside the rendering,
  per report: a), and after the last report (the tail T: the rest of the join, the parent's own
  releases, the cross-report check).

Projection for 11,000 reports on 16 workers (critical path; X(11000) = X(n) × (11000/n)^e with
e = log2(X(n)/X(n/2)), the growth measured per part; a negative e, noise, counts as 1):

    before the first report:  read + P_prep + max(analyses, P_dim) + minimise + plan warm-up + pickle
        (the planner's dimensions run on the workers beside the analyses; P_dim = the largest dimension;
        the warm-up and the pickling are what cache_payload does, timed on the minimised copy)
    rendering:                max((11000 × c + 16 × F) / 16, 11000 × a + CLI)
        (c: a kernel's later reports, F: the extra CPU of a kernel's first report (it loads the batch cache),
        grown linearly with the cohort; from the Dask run; the parent joins each record and computes the
        command-line aggregates while the workers render)
    after the last report:    T
    plus S = cluster start, scatter and waiting (the Dask run's wall − the parent's steps − the rendering, this run)
The projection prints every step it adds up with the measurements it came from.

Run:  .venv/bin/python bench/bench_scale.py [--reports 200] [--authorities 1000] [--audit [--audit-units 100 200]]
      [--keep FOLDER] [--skip-dask] [--standalone-cli]
      .venv/bin/python bench/bench_scale.py --decompose 10 --keep DIR   (only c in parts, see kernel_decomposition)
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import pickle
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _timed(fn, *args):  # noqa: ANN001, ANN202
    w, c = time.perf_counter(), time.process_time()
    out = fn(*args)
    return out, time.perf_counter() - w, time.process_time() - c


def cli_part(data: Any, db: Path, k: int, *, standalone: bool) -> dict[str, tuple[float, float]]:
    """(wall, CPU) seconds of the audit's command-line aggregates as a batch computes them (``cli``: from the cohort data
    in memory, after the shared analyses, where the toolkit has that path; else from the store) and, with ``standalone``,
    as ``upo audit`` computes them from the store (``cli (upo audit)``)."""
    from toolkit.reports import audit

    fast = getattr(audit, "cli_outputs_of_data", None)
    out = {"cli": tuple(_timed(fast, data, k)[1:]) if fast is not None else tuple(_timed(audit.cli_outputs, db, k)[1:])}
    if standalone:
        out["cli (upo audit)"] = tuple(_timed(audit.cli_outputs, db, k)[1:])
    return out


def cohort_step(db: Path, *, standalone_cli: bool = False) -> dict[str, tuple[float, float]]:
    """(wall, CPU) seconds of the parts of the cohort-wide step for one database."""
    from toolkit.privacy import change_plan_all
    from toolkit.reports import context
    from toolkit.reports.context import _MEMO, _load, _minimised

    warm_report_plans = getattr(context, "warm_report_plans", None)
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

    dims: list[tuple[float, float]] = []

    def timed_map(fn, work):  # (serial, each dimension timed: what a worker spends on it)
        out = []
        for args in work:
            part, w, c = _timed(fn, *args)
            dims.append((w, c))
            out.append(part)
        return out

    def planner() -> None:
        change_plan_all(data.scores(), k=k, instrument=comp.id, waves=data.wave_labels(), pmap=timed_map)
        for j, b in enumerate(waves):
            for a in waves[:j]:
                data.change_decisions(a, b, k)  # from the planner's memo, as in a batch

    _, *ana = _timed(analyses)
    _, *plan = _timed(planner)
    data.precompute("de")  # anything left (nothing, normally)
    small, *mini = _timed(_minimised, data)
    warm = pick = (0.0, 0.0)
    if warm_report_plans is not None:  # what cache_payload does after minimising: the sections' plans, then the bytes
        _, *warm = _timed(warm_report_plans, small)
    _, *pick = _timed(pickle.dumps, small, pickle.HIGHEST_PROTOCOL)
    del small
    _MEMO[(data.db, data.fingerprint)] = data
    cli = cli_part(data, db, k, standalone=standalone_cli)
    _MEMO.clear()
    dim_max = max(dims, key=lambda x: x[1]) if dims else (0.0, 0.0)
    prep = (plan[0] - sum(w for w, _ in dims), plan[1] - sum(c for _, c in dims))
    return {"read": tuple(read), "analyses": tuple(ana), "planner": tuple(plan), "planner prep": prep,
            "planner dim max": dim_max, "minimise": tuple(mini), "plan warm-up": tuple(warm), "pickle": tuple(pick), **cli,
            "dims": len(dims)}


def print_tail_parts(small: Any, big: Any, m2: int, m1: int) -> None:
    """The audit tail's steps (parent CPU) at both sizes with their growth, where the toolkit reports them."""
    parts = getattr(big, "tail_parts", None) or {}
    for name, cpu in parts.items():
        c2 = getattr(small, "tail_parts", {}).get(name, 0.0)
        e = math.log2(cpu / c2) if c2 > 0 and cpu > 0 else float("nan")
        print(f"    {name:<44}{c2:>8.2f} s{cpu:>8.2f} s   e {e:5.2f}")


def kernel_decomposition(db: Path, units: list[str]) -> dict[str, float]:
    """CPU seconds per report of one warm report kernel and its worker, in parts (``--decompose``).

    One :class:`~toolkit.reports.worker.KernelRunner` (what a pool worker or a Dask worker plugin owns)
    renders ``units`` (the first one warms up, not counted) from a batch cache written here; measured:
    the kernel's main thread (the notebook's cells, the reset, the shipped record) and its other
    threads (ZMQ, IOPub, heartbeat), the worker's papermill/nbclient execution and its HTML export,
    and the same reports rendered in this process (:func:`~toolkit.reports.inprocess.render_in_process`:
    the sections' own work).
    """
    import secrets

    import papermill

    from toolkit.paths import NOTEBOOKS_DIR
    from toolkit.reports.context import (
        _MEMO,
        CACHE_ENV,
        CACHE_KEY_ENV,
        write_cohort_cache,
    )
    from toolkit.reports.inprocess import render_in_process
    from toolkit.reports.worker import KernelRunner, Task

    cache = Path(tempfile.mkdtemp(prefix="bench-decompose-"))
    cache.chmod(0o700)
    secret = secrets.token_bytes(32)
    write_cohort_cache(db, cache, secret=secret)
    _MEMO.clear()
    env = {CACHE_ENV: str(cache), CACHE_KEY_ENV: secret.hex()}
    runner = KernelRunner(env)
    notebook = str(NOTEBOOKS_DIR / "report_authority.ipynb")
    parts = {"papermill": 0.0, "export": 0.0}

    def timed(name: str, fn: Any) -> Any:
        def call(*args: Any, **kw: Any) -> Any:
            c = time.process_time()
            try:
                return fn(*args, **kw)
            finally:
                parts[name] += time.process_time() - c
        return call

    execute, export = papermill.execute_notebook, runner.exporter.from_notebook_node
    papermill.execute_notebook, runner.exporter.from_notebook_node = timed("papermill", execute), timed("export", export)

    def threads(pid: int) -> dict[str, float]:
        out = {}
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/stat", encoding="ascii") as fh:
                f = fh.read().rsplit(")", 1)[1].split()
            out[tid] = (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
        return out

    try:
        def task(u: str) -> Task:
            return Task(u, notebook, {"db": str(db), "authority": u, "lang": "de", "min_group_size": None},
                        str(cache / f"{u}.html"), u)

        runner.run(task(units[0]))
        parts.update(papermill=0.0, export=0.0)
        pid = runner.km.provisioner.process.pid  # type: ignore[union-attr]
        k0, w0, c0 = threads(pid), time.process_time(), 0.0
        for u in units[1:]:
            res = runner.run(task(u))
            c0 += res.cpu
        k1, w1 = threads(pid), time.process_time() - w0
    finally:
        papermill.execute_notebook = execute
        runner.close()
    m = max(1, len(units) - 1)
    main_tid = str(pid)

    def in_process(u: str) -> None:  # each report into a fresh kernel record, as in a kernel (not one record growing
        try:  # over every report: its masks would grow with the reports rendered)
            from toolkit.reports.releases import kernel_start
        except ImportError:
            pass
        else:
            kernel_start()
        render_in_process(db, u)

    in_process(units[0])
    c = time.process_time()
    for u in units[1:]:
        in_process(u)
    floor = time.process_time() - c
    _MEMO.clear()
    return {"c": c0 / m, "kernel main thread": (k1[main_tid] - k0.get(main_tid, 0.0)) / m,
            "kernel other threads": sum(v - k0.get(t, 0.0) for t, v in k1.items() if t != main_tid) / m,
            "worker": w1 / m, "worker papermill": parts["papermill"] / m, "worker export": parts["export"] / m,
            "in-process floor": floor / m}


def _grow(small: float, big: float, n: int) -> tuple[float, float]:
    """``big`` extrapolated to 11000 units with the growth measured between n/2 and n units; a growth below 0
    (the part measured smaller at the larger size: noise, e.g. under load) counts as linear, never as shrinking."""
    e = math.log2(big / small) if small > 0 and big > 0 else 1.0
    e = e if e >= 0 else 1.0
    return big * (11000 / n) ** e, e


def _cohort(path: Path, n: int) -> Any:
    """The synthetic cohort of ``n`` units at ``path``, built unless a previous run (``--keep``) left it there."""
    from toolkit.demo_large import build_large_demo
    from toolkit.store import Store

    if path.exists():
        store = Store(path)
        if len(store.authorities()) == n:
            return store
        store.close()
        path.unlink()
    return build_large_demo(path, n_authorities=n)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reports", type=int, default=200)
    ap.add_argument("--authorities", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--audit", action="store_true", help="also measure the batch's audit on full audited batches")
    ap.add_argument("--audit-units", type=int, nargs=2, metavar=("M2", "M"), help="sizes of the audited batches (default R/2 R)")
    ap.add_argument("--keep", type=Path, help="folder for the cohorts: reused by the next run with the same folder (built once)")
    ap.add_argument("--skip-render", action="store_true", help="no pool/Dask runs (c and S then come from the audited batches)")
    ap.add_argument("--skip-dask", action="store_true", help="only the built-in pool's run (no Dask ratio; S counts as 0)")
    ap.add_argument("--standalone-cli", action="store_true", help="also time the command-line aggregates as `upo audit` computes them")
    ap.add_argument("--decompose", type=int, metavar="N", help="only: one warm kernel's CPU per report in parts, over N reports "
                    "of the N-unit cohort (kernel threads, worker papermill/export, the same reports in-process)")
    a = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    from toolkit.reports import render_reports
    from toolkit.reports.context import _MEMO

    load = [os.getloadavg()[0]]
    tmp = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    cohorts = a.keep or tmp
    cohorts.mkdir(parents=True, exist_ok=True)
    db, half = cohorts / f"large-{a.authorities}.sqlite", cohorts / f"large-{max(2, a.authorities // 2)}.sqlite"
    t = time.perf_counter()
    store = _cohort(db, a.authorities)
    build = time.perf_counter() - t
    units = list(store.authorities()["authority"])[: a.reports]
    store.close()
    if a.decompose:
        parts = kernel_decomposition(db, units[: a.decompose + 1])
        print(f"one warm kernel, {a.decompose} reports of the {a.authorities}-unit cohort, CPU s per report "
              f"(load average {os.getloadavg()[0]:.1f}):")
        for name, v in parts.items():
            print(f"  {name:<24}{v:8.3f}")
        return 0
    _cohort(half, max(2, a.authorities // 2)).close()
    steps = {"half": cohort_step(half, standalone_cli=a.standalone_cli), "full": cohort_step(db, standalone_cli=a.standalone_cli)}
    load.append(os.getloadavg()[0])

    runs = {}
    for name, kw in (() if a.skip_render else (("pool", {"jobs": a.workers}), ("dask", {"scheduler": f"local:{a.workers}"}))[:1 if a.skip_dask else 2]):
        t = time.perf_counter()
        res = render_reports(db, authorities=units, out=tmp / name, progress=False, audit=False, **kw)
        runs[name] = (time.perf_counter() - t, res)
        _MEMO.clear()
        load.append(os.getloadavg()[0])
        if not res.ok:
            print(res.summary_text(), file=sys.stderr)
    audits = {}
    if a.audit:
        for m in sorted(a.audit_units or (max(2, a.reports // 2), a.reports)):
            small = cohorts / f"large-{m}.sqlite"
            _cohort(small, m).close()
            t = time.perf_counter()
            res = render_reports(small, out=tmp / f"audit-{m}", jobs=a.workers, progress=False, cohort=True, force=True)
            _MEMO.clear()
            audits[m] = (res.audit, res, time.perf_counter() - t)
            load.append(os.getloadavg()[0])

    print(f"bench_scale: {os.cpu_count()} cores, {a.authorities} units × 20 people × 3 waves (built or reused in {build:.1f} s), "
          f"{a.reports} unit reports, {a.workers} workers; load average {' / '.join(f'{x:.1f}' for x in load)}\n")
    n2, n = max(2, a.authorities // 2), a.authorities
    print(f"{'cohort-wide step (CPU)':<24}{f'{n2} units cpu':>16}{'wall':>8}{f'{n} units cpu':>16}{'wall':>8}{'growth e':>10}{'at 11000':>10}")
    big = {}
    for part in ("read", "analyses", "planner", "planner prep", "planner dim max", "minimise", "plan warm-up", "pickle", "cli",
                 *(["cli (upo audit)"] if a.standalone_cli else [])):
        (w2, c2), (w1, c1) = steps["half"][part], steps["full"][part]
        big[part], e = _grow(c2, c1, n)
        print(f"{part:<24}{c2:>16.2f}{w2:>8.2f}{c1:>16.2f}{w1:>8.2f}{e:>10.2f}{big[part]:>10.1f}")
    print(f"  (planner = planner prep + {steps['full']['dims']} dimensions decided on their own; 'plan warm-up' = "
          f"warm_report_plans on the minimised copy, 'pickle' = its bytes, both as cache_payload makes them; "
          f"'cli' = the command-line aggregates of the batch's audit, as the batch computes them)\n")

    per_report = float("nan")
    startup = 0.0
    if runs:
        print(f"{'run':<6}{'reports':>8}{'seconds':>10}{'wall s/report (median)':>24}{'cpu s/report (mean)':>22}")
        for name, (secs, res) in runs.items():
            per = sorted(r.seconds for r in res.rendered)
            cpu = [r.cpu for r in res.rendered]
            print(f"{name:<6}{len(res.rendered):>8}{secs:>10.1f}{(per[len(per) // 2] if per else float('nan')):>24.2f}"
                  f"{(sum(cpu) / len(cpu) if cpu else float('nan')):>22.2f}")
        t_pool, res_pool = runs["pool"]
        t_dask, res = runs.get("dask", (None, None))
        if res is not None:
            print(f"dask / pool: {t_dask / t_pool:.2f}× (target ≤ 1.2×)")
        cpus = [r.cpu for r in res_pool.rendered] + ([r.cpu for r in res.rendered] if res is not None else [])
        per_report = sum(cpus) / max(1, len(cpus))
        first, per_steady = first_reports({"dask": runs["dask"]} if "dask" in runs else runs, a.workers)  # what the projection is for
        d_wall = sum(steps["full"][p][0] for p in ("read", "analyses", "planner", "minimise", "plan warm-up", "pickle"))
        for name, (secs, r) in runs.items():
            rest = secs - sum(x.seconds for x in r.rendered) / a.workers - d_wall
            print(f"{name}: {secs:.1f} s = the parent's steps before the first report (wall, cohort step above) {d_wall:.1f} s "
                  f"+ rendering (the workers' report seconds / {a.workers}) {sum(x.seconds for x in r.rendered) / a.workers:.1f} s "
                  f"+ the rest (start, scatter, waiting) {rest:.1f} s")
        if res is not None:
            render_wall = sum(r.seconds for r in res.rendered) / a.workers
            startup = max(0.0, t_dask - render_wall - d_wall)
    tail = per_join = 0.0
    if a.audit:
        (m2, (r2, _, s2)), (m1, (r1, res1, s1)) = sorted(audits.items())
        tail, e_t = _grow(r2.cpu, r1.cpu, m1)
        per_join = r1.beside_cpu / max(1, len(r1.from_kernels))
        print(f"\nbatch audit, full audited batches ({len(r1.from_kernels)} of {m1 + 1} reports from their kernels' records; "
              f"{len(r1.record)} releases, {len(r1.violations)} violations; batch wall {s2:.0f} / {s1:.0f} s):")
        print(f"  joined as they arrive (parent CPU, beside the rendering): {r2.beside_cpu:.2f} s for {m2} units, "
              f"{r1.beside_cpu:.2f} s for {m1} units = a = {per_join * 1000:.1f} ms per report")
        print(f"  command-line aggregates (thread beside the rendering): {r2.cli_cpu:.2f} s / {r1.cli_cpu:.2f} s")
        print(f"  tail after the last report (parent CPU T): {r2.cpu:.2f} s for {m2} units, {r1.cpu:.2f} s for {m1} units "
              f"(wall {r2.seconds:.2f} / {r1.seconds:.2f} s), e_T = {e_t:.2f} → {tail:.1f} s at 11000")
        print_tail_parts(r2, r1, m2, m1)
        if not runs:
            cpu = [r.cpu for r in res1.rendered]
            per_report = sum(cpu) / max(1, len(cpu))

    print_projection(big, steps, n2, n, per_report=per_report, first=first if runs else None,
                     per_steady=per_steady if runs else None, per_join=per_join, tail=tail, startup=startup,
                     audit=a.audit, audit_units=sorted(audits) if a.audit else None, dask="dask" in runs)
    return 0


def first_reports(runs: dict[str, Any], workers: int) -> tuple[float, float]:
    """(extra CPU seconds of a kernel's first report over a later one, CPU seconds of a later report), over the render runs.

    A kernel's first report loads the batch cache and builds the process's indexes (several CPU seconds, growing with
    the cohort); the others do not. The ``workers`` costliest reports of each run are taken as its kernels' first
    reports (no kernel restarts within R reports: RESTART_EVERY is larger)."""
    firsts, rest = [], []
    for _, res in runs.values():
        cpu = sorted((r.cpu for r in res.rendered), reverse=True)
        firsts += cpu[:workers]
        rest += cpu[workers:]
    steady = sum(rest) / max(1, len(rest))
    return (sum(firsts) / max(1, len(firsts)) - steady if firsts else 0.0), steady


def print_projection(big: dict[str, float], steps: dict[str, Any], n2: int, n: int, *, per_report: float, first: float | None,
                     per_steady: float | None, per_join: float, tail: float, startup: float, audit: bool,
                     audit_units: list[int] | None, dask: bool) -> float:
    """Print the projection for 11000 reports on 16 workers with every step it adds up and where each came from;
    returns it in seconds."""
    def cpu(part: str) -> str:
        return f"{steps['half'][part][1]:.2f} / {steps['full'][part][1]:.2f} s at {n2} / {n} units"

    ana = "analyses" if big["analyses"] >= big["planner dim max"] else "planner dim max"
    before = [("reading the answers", big["read"], cpu("read")),
              ("planner preparation", big["planner prep"], cpu("planner prep")),
              (f"max(shared analyses {big['analyses']:.1f}, largest planner dimension {big['planner dim max']:.1f})",
               big[ana], cpu(ana) + f" ({ana})"),
              ("minimising the batch cache", big["minimise"], cpu("minimise")),
              ("plan warm-up (warm_report_plans)", big["plan warm-up"], cpu("plan warm-up")),
              ("pickling the batch cache", big["pickle"], cpu("pickle"))]
    rows: list[tuple[str, float, str]] = [(f"  {name}", v, src) for name, v, src in before]
    t_before = sum(v for _, v, _ in before)
    rows.append(("before the first report (parent, serial)", t_before, "sum of the above, each X(n) × (11000/n)^e"))
    if first is not None and per_steady is not None:
        first_11k = first * 11000 / n  # linear in the cohort: the cache it loads grows with it
        render = (11000 * per_steady + 16 * first_11k) / 16
        how = (f"(11000 × c {per_steady:.3f} s + 16 kernels × first report's extra {first:.1f} s × 11000/{n} (linear) "
               f"= {first_11k:.1f} s) / 16; c from the {'Dask' if dask else 'pool'} run's kernels, this run")
    else:
        render = 11000 * per_report / 16
        how = f"11000 × c {per_report:.3f} s / 16 (c from the audited batches)"
    beside = 11000 * per_join + big["cli"]
    rows.append(("  rendering on 16 workers", render, how))
    rows.append(("  parent beside it: joining records + CLI aggregates", beside,
                 f"11000 × a {per_join * 1000:.1f} ms + cli {big['cli']:.1f} s ({cpu('cli')})" if audit else "not measured (--audit)"))
    during = max(render, beside)
    rows.append(("while the workers render: max of the two", during, ""))
    rows.append(("after the last report: audit tail T", tail,
                 f"full audited batches of {audit_units[0]} / {audit_units[1]} units, growth e_T" if audit and audit_units
                 else "not measured (--audit)"))
    rows.append(("cluster start, scatter, waiting: S", startup,
                 "this run's LocalCluster: its wall − the parent's steps − the rendering" if dask else "0: no Dask run"))
    total = t_before + during + tail + startup
    print(f"\nprojected 11000 reports on 16 workers (critical path): {total / 60:.1f} min ({total:.0f} s; goal < 15 min)")
    for name, v, src in rows:
        print(f"  {name:<58}{v:>8.1f} s   {src}")
    return total


if __name__ == "__main__":
    raise SystemExit(main())
