"""All benchmarks in one run (``make bench``): one table of measured value, baseline, ratio and target.

Runs each benchmark script of this folder in its own process (so one cannot slow or
break the next), reads the numbers from its printed table and prints one summary
table. Every baseline is measured in the same run as the value it is compared with
(see each script's docstring); nothing is compared with numbers from another day.

Sizes (default / ``--quick``):

=================  ================================  ================================
benchmark          default                           --quick
=================  ================================  ================================
analysis           20,000 participants × 3 waves      5,000
reports            31 reports of the demo cohort,     the same, naive loop on 2
                   naive loop on 4 (extrapolated)
workshop           60 participants, burst and 20 s    20 participants, 5 s spread
                   spread (no Voilà page loads)
workshop_live      Solara: 60 protocol clients + 10     20 clients + 4 pages, pool 4
                   Chromium; Voilà --pool 10 baseline
concurrency        60 processes × 10 submissions       20 processes
import / export    2,000 participants                 500
stakeholders       100 authorities × 8 raters         30 authorities
=================  ================================  ================================

Targets: the report-batch targets are those printed by ``bench_reports.py``; 0 lost and
0 duplicated submissions come from the hardening issue; "within seconds" on the dashboard
is read as a p95 of at most 3 s; elsewhere the target is only to beat the naive baseline.
The exit code is 1 when a target is missed.

Run:  .venv/bin/python bench/run_all.py [--quick] [--only analysis,reports,...] [--verbose]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

HERE = Path(__file__).resolve().parent
NUM = r"([0-9][0-9,]*\.?[0-9]*)"


@dataclass
class Row:
    benchmark: str
    measured: str
    baseline: str
    ratio: float | None
    target: str
    met: bool | None


def _f(x: str) -> float:
    return float(x.replace(",", ""))


def _run(script: str, args: list[str], verbose: bool, timeout: float = 1800) -> tuple[str, float]:
    t = time.perf_counter()
    env = {**os.environ, "MPLBACKEND": "Agg", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.run([sys.executable, str(HERE / script), *args], capture_output=True, text=True, timeout=timeout, env=env)
    out = proc.stdout
    if verbose:
        sys.stderr.write(f"\n===== {script} {' '.join(args)}\n{out}{proc.stderr[-2000:]}\n")
    if proc.returncode != 0:
        raise RuntimeError(f"{script} exited with {proc.returncode}: {proc.stderr.strip().splitlines()[-1:] or ''}")
    return out, time.perf_counter() - t


def _line(out: str, pattern: str) -> re.Match:
    m = re.search(pattern, out, re.MULTILINE)
    if m is None:
        raise RuntimeError(f"could not find {pattern!r} in the output")
    return m


# --------------------------------------------------------------------------- one function per benchmark
def analysis(quick: bool, verbose: bool) -> list[Row]:
    n = 5_000 if quick else 20_000
    out, _ = _run("bench_analysis.py", ["--participants", str(n), "--baseline", "500"], verbose)
    m = _line(out, rf"^total\s+{NUM}\s+{NUM}\s+{NUM}\s+{NUM}x")
    sec, base = _f(m.group(1)), _f(m.group(3))
    return [Row(f"analysis: score, alpha, change ({n:,} people × 3 waves)", f"{sec:.2f} s", f"{base:.1f} s naive", base / sec, "faster than naive", base / sec > 1)]


def reports(quick: bool, verbose: bool) -> list[Row]:
    jobs = str(os.cpu_count() or 2)
    base = os.environ.get("UPO_BENCH_BASELINE_REV")  # e.g. the commit before issue 14, measured in the same run
    out, _ = _run("bench_reports.py", ["--jobs", jobs, "--naive", "2" if quick else "4", "--one", "4" if quick else "8"]
                  + (["--baseline-rev", base] if base else []), verbose)
    naive = _f(_line(out, rf"^\(a\) naive.*?\s{NUM}\s+{NUM}\s").group(1))
    upo = _f(_line(out, rf"^\(b\) upo report.*?\s{NUM}\s+{NUM}\s").group(1))
    rerun = _f(_line(out, rf"^\(b'\) no-change.*?\s{NUM}\s+{NUM}\s").group(1))
    cli = _f(_line(out, rf"^\(b''\) no-change.*?\s{NUM}\s+{NUM}\s").group(1))
    floor = _f(_line(out, rf"^\(c\) in-process floor.*?\s{NUM}\s+{NUM}\s").group(1))
    rows = [
        Row(f"reports: 31 reports, {jobs} workers vs naive CLI loop", f"{upo:.1f} s", f"{naive:.1f} s naive", naive / upo, "≥ 8× naive", naive / upo >= 8),
        Row("reports: batch vs in-process floor (no kernels)", f"{upo:.1f} s", f"{floor:.1f} s floor", upo / floor, "≤ 1.5× floor", upo / floor <= 1.5),
        Row("reports: no-change re-run (in-process / command)", f"{rerun:.2f} s / {cli:.2f} s", f"{upo:.1f} s full", upo / cli, "command ≤ 1 s", cli <= 1),
    ]
    audit = _f(_line(out, rf"^\(e\) disclosure audit.*?\s{NUM}\s+{NUM}\s").group(1))
    rows.append(Row("reports: disclosure audit of the demo (once per data fingerprint)", f"{audit:.1f} s", "–", None, "–", None))
    one = _line(out, rf"^\(d\) one report.*?\s{NUM}\s")
    t_one = _f(one.group(1))
    m = re.search(rf"^\(d0\) the same, baseline.*?\s{NUM}\s*$", out, re.MULTILINE)
    t_base = _f(m.group(1)) if m else None
    rows.append(Row("reports: one report in-process (render_in_process)", f"{t_one:.2f} s", f"{t_base:.2f} s baseline" if t_base else "–",
                    t_base / t_one if t_base else None, "≤ 0.5 s", t_one <= 0.5))
    return rows


def workshop(quick: bool, verbose: bool) -> list[Row]:
    n, spread = (20, 5) if quick else (60, 20)
    out, _ = _run("bench_workshop.py", ["--participants", str(n), "--spread", str(spread), "--skip-voila"], verbose)
    pat = rf"^{{name}}\s+(\d+)\s+(\d+)\s+(\d+)\s+{NUM}s\s+{NUM}s\s+{NUM}s\s+{NUM}s\s+{NUM}s\s+{NUM}"
    base = _line(out, pat.format(name="baseline"))
    rows = []
    for name in ("burst", "spread"):
        m = _line(out, pat.format(name=name))
        lost, p95, b95 = int(m.group(3)), _f(m.group(7)), _f(base.group(7))
        ok = lost == 0 and p95 <= 3.0
        rows.append(Row(f"workshop: {n} submit, dashboard visible p95 ({name})", f"{p95:.2f} s, lost {lost}", f"{b95:.2f} s alone", p95 / b95,
                        "≤ 3 s, 0 lost", ok))
    return rows


def workshop_live(quick: bool, verbose: bool) -> list[Row]:
    clients, pages = (20, 4) if quick else (60, 10)
    out, _ = _run("bench_workshop_live.py", ["--clients", str(clients), "--pages", str(pages), "--baseline-pool", "4" if quick else "10"], verbose)
    row = rf"^{{name}}\s+{NUM}s\s+{NUM}G\s+{NUM}G\s+{NUM}s\s+{NUM}s\s+{NUM}s"
    s = _line(out, row.format(name=re.escape(f"solara: all {clients + pages}")))
    b = _line(out, row.format(name=re.escape(f"solara: {pages} Chromium pages")))
    c = _line(out, row.format(name=re.escape(f"solara: {clients} protocol clients")))
    v = _line(out, row.format(name=re.escape(f"voila --pool {4 if quick else 10}: {pages} Chromium")))
    stored = _line(out, rf"^solara: stored (\d+) / (\d+); submit -> presenter view p95 {NUM} s, after the last submit {NUM} s")
    cap = _line(out, r"a 4-core server .*= (\d+) participants")
    s95, b95, v95, speak, vpeak = _f(s.group(5)), _f(b.group(5)), _f(v.group(5)), _f(s.group(3)), _f(v.group(3))
    n_ok, n_all, p95, last = int(stored.group(1)), int(stored.group(2)), _f(stored.group(3)), _f(stored.group(4))
    return [
        Row(f"workshop live: {clients} protocol + {pages} Chromium at once, usable form p95", f"{s95:.2f} s", f"{v95:.2f} s Voilà ({pages} Chromium)",
            v95 / s95, "≤ 2 s", s95 <= 2),
        Row(f"workshop live: the {clients} protocol clients alone, usable p95", f"{_f(c.group(5)):.2f} s", "–", None, "≤ 2 s", _f(c.group(5)) <= 2),
        Row(f"workshop live: the {pages} Chromium pages alone, usable p95", f"{b95:.2f} s", f"{v95:.2f} s Voilà", v95 / b95, "–", None),
        Row("workshop live: server memory peak", f"{speak:.2f} GB", f"{vpeak:.2f} GB Voilà", vpeak / speak, "≤ 1.5 GB", speak <= 1.5),
        Row(f"workshop live: {clients} submits at once, stored / presenter p95 / after last", f"{n_ok}/{n_all}, {p95:.2f} s, {last:.2f} s", "–", None,
            f"{n_all}/{n_all}, ≤ 2 s", n_ok == n_all and last <= 2),
        Row("workshop live: participants one 4-core server holds (from per-participant CPU/memory)", cap.group(1), "–", None, "300", int(cap.group(1)) >= 300),
    ]


def concurrency(quick: bool, verbose: bool) -> list[Row]:
    n = 20 if quick else 60
    out, _ = _run("bench_concurrency.py", ["--processes", str(n), "--postgresql"], verbose)
    pat = rf"^{{name}}\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+{NUM}\s+{NUM}\s+{NUM}\s+{NUM}"
    b = _line(out, pat.format(name="baseline"))
    m = _line(out, pat.format(name="concurrent"))
    lost, dup = int(m.group(3)), int(m.group(4))
    thr, bthr = _f(m.group(7)), _f(b.group(7))
    rows = [Row(f"concurrency: {n} processes × 10 form submits", f"{thr:.0f} subm./s, lost {lost}, dup {dup}", f"{bthr:.0f} subm./s alone",
                thr / bthr, "0 lost, 0 duplicated", lost == 0 and dup == 0)]
    if re.search(r"^pg-concurrent", out, re.M):
        pg = _line(out, pat.format(name="pg-concurrent"))
        plost, pdup = int(pg.group(3)), int(pg.group(4))
        pthr = _f(pg.group(7))
        rows.append(Row(f"concurrency on PostgreSQL: {n} × 10 form submits", f"{pthr:.0f} subm./s, p95 {_f(pg.group(9)):.2f} s, lost {plost}, dup {pdup}",
                        f"SQLite {thr:.0f} subm./s, p95 {_f(m.group(9)):.2f} s", pthr / thr, "0 lost, 0 duplicated", plost == 0 and pdup == 0))
    return rows


def scale(quick: bool, verbose: bool) -> list[Row]:
    n = 40 if quick else 200
    out, _ = _run("bench_scale.py", ["--reports", str(n)], verbose, timeout=3600)
    pool = _line(out, rf"^pool\s+(\d+)\s+{NUM}\s+{NUM}")
    dask = _line(out, rf"^dask\s+(\d+)\s+{NUM}\s+{NUM}")
    proj = _line(out, rf"^projected 11000 reports on 16 workers: {NUM} min")
    ratio = _f(dask.group(2)) / _f(pool.group(2))
    done = f"{dask.group(1)}/{pool.group(1)} of {n}" if int(dask.group(1)) < n or int(pool.group(1)) < n else str(n)
    return [Row(f"scale: {done} reports of the 1,000-unit cohort, Dask LocalCluster (2) vs pool (2)", f"{_f(dask.group(2)):.0f} s",
                f"{_f(pool.group(2)):.0f} s pool", ratio, "≤ 1.2× the pool", ratio <= 1.2),
            Row("scale: 11,000 reports on 16 workers (projected)", f"{_f(proj.group(1)):.1f} min", "–", None, "< 15 min", _f(proj.group(1)) < 15)]


def io(quick: bool, verbose: bool) -> list[Row]:
    n = 500 if quick else 2000
    out, _ = _run("bench_io.py", ["--participants", str(n)], verbose)
    rows = []
    for step, target in (("import wide CSV", None), ("export xlsx", None), ("export parquet", None)):
        m = _line(out, rf"^{re.escape(step)}.*?\s(\d+)\s+{NUM}\s+{NUM}\s+{NUM}\s*$")
        t, b = _f(m.group(2)), _f(m.group(3))
        rows.append(Row(f"io: {step} ({n:,} people)", f"{t:.2f} s", f"{b:.2f} s bare", t / b,
                        f"≤ {target:.0f}× bare" if target else "–", (t / b <= target) if target else None))
    return rows


def stakeholders(quick: bool, verbose: bool) -> list[Row]:
    a = 30 if quick else 100
    out, _ = _run("bench_stakeholders.py", ["--authorities", str(a), "--repeat", "1"], verbose)
    rows = []
    for step in ("aggregate_ratings", "rater_reliability"):
        m = _line(out, rf"^{step}\s+{NUM}\s+{NUM}\s+{NUM}×")
        t, b = _f(m.group(1)), _f(m.group(2))
        rows.append(Row(f"stakeholders: {step} ({a} authorities × 8 raters)", f"{t:.3f} s", f"{b:.2f} s naive", b / t, "faster than naive", b / t > 1))
    return rows


BENCHMARKS: dict[str, Callable[[bool, bool], list[Row]]] = {
    "analysis": analysis,
    "reports": reports,
    "workshop": workshop,
    "workshop_live": workshop_live,
    "concurrency": concurrency,
    "io": io,
    "stakeholders": stakeholders,
    "scale": scale,
}


def table(rows: list[Row]) -> str:
    head = ["benchmark", "measured", "baseline", "ratio", "target", "met?"]
    cells = [[r.benchmark, r.measured, r.baseline, "–" if r.ratio is None else f"{r.ratio:.2f}", r.target,
              "–" if r.met is None else ("yes" if r.met else "NO")] for r in rows]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *cells)]
    line = lambda xs: "| " + " | ".join(str(x).ljust(w) for x, w in zip(xs, widths)) + " |"  # noqa: E731
    return "\n".join([line(head), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, cells)])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes (a few minutes in all)")
    ap.add_argument("--only", default=",".join(BENCHMARKS), help=f"comma-separated subset of {', '.join(BENCHMARKS)}")
    ap.add_argument("--verbose", action="store_true", help="also print each benchmark's own table (to stderr)")
    a = ap.parse_args(argv)
    names = [n.strip() for n in a.only.split(",") if n.strip()]
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        ap.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    rows: list[Row] = []
    t0, load0 = time.perf_counter(), os.getloadavg()[0]
    for name in names:
        t = time.perf_counter()
        try:
            rows.extend(BENCHMARKS[name](a.quick, a.verbose))
        except Exception as exc:  # one broken benchmark must not hide the others
            rows.append(Row(name, f"failed: {exc}", "–", None, "–", False))
        print(f"{name}: {time.perf_counter() - t:.0f} s", file=sys.stderr, flush=True)
    print(f"upo-toolkit benchmarks{' (--quick)' if a.quick else ''}: {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.platform(terse=True)}, load average before/after {load0:.1f}/{os.getloadavg()[0]:.1f}, total {time.perf_counter() - t0:.0f} s\n")
    print(table(rows))
    return 0 if all(r.met is not False for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
