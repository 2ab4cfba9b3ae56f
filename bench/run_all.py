"""All benchmarks in one run (``make bench``): one table of measured value, baseline, ratio and target.

Runs each benchmark script of this folder in its own process (so one cannot slow or
break the next), reads the numbers from its printed table and prints one summary
table. Every baseline is measured in the same run as the value it is compared with
(see each script's docstring); nothing is compared with numbers from another day.

Sizes (default / ``--quick``) and what each needs besides the project's virtualenv
(``--list`` prints this and whether each need is met here; a benchmark whose needs are missing is
reported as skipped, with the reason, instead of failing):

=============  ==============================  ===========================  ==================================
benchmark      default                         --quick                      needs
=============  ==============================  ===========================  ==================================
analysis       20,000 participants × 3 waves   5,000                        –
reports        31 reports of the demo cohort,  the same, naive loop on 2    a Jupyter kernel (ipykernel), the
               naive loop on 4 (extrapolated)                               ``papermill`` and ``jupyter`` CLIs;
                                                                            git for UPO_BENCH_BASELINE_REV
workshop       60 participants, burst and      20 participants, 5 s         –
               20 s spread (no Voilà pages)    spread
workshop_live  Solara: 60 protocol clients +   20 clients + 4 pages,        Chromium (/usr/bin/chromium), the
               10 Chromium; Voilà --pool 10    pool 4                       Solara page assets (``make
                                                                            workshop-assets``), Voilà
concurrency    60 processes × 10 submissions   20 processes                 PostgreSQL's initdb and pg_ctl for
                                                                            its PostgreSQL row (else SQLite
                                                                            only)
io             2,000 participants              500                          –
stakeholders   100 authorities × 8 raters      30 authorities               –
participant    60 participants at once, this   20 participants              git (the baseline revision is
               code and a baseline revision                                 exported with ``git archive``)
privacy        planner and audit at 50, 100,   50 and 100 units, old at 50  a source checkout
               200, 1,000 units; old                                        (``tests/_privacy_reference.py``)
               all-pairs code up to 100
scale          200 reports of a 1,000-unit     40 reports                   ``dask[distributed]``, a Jupyter
               cohort, pool vs LocalCluster                                 kernel; about an hour (default)
masks          the audit aggregates' record    100 and 200 units            –
               at 500 and 1,000 units
=============  ==============================  ===========================  ==================================

Targets: the report-batch targets are those printed by ``bench_reports.py``; 0 lost and
0 duplicated submissions come from the hardening issue; "within seconds" on the dashboard
is read as a p95 of at most 3 s; elsewhere the target is only to beat the naive baseline.
The exit code is 1 when a target is missed.

Run:  .venv/bin/python bench/run_all.py [--quick] [--only analysis,reports,...] [--verbose] [--list]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # this checkout's toolkit (the needs checks import it)
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


def _children_cpu() -> float:
    """CPU seconds (user + system) of the finished benchmark processes so far."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


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
    pw, _ = _run("bench_page_weight.py", ["--pages", "2" if quick else "3"], verbose)  # one page alone: what it costs the phone
    w = _line(pw, rf"^first\s+(\d+)\s+{NUM}M\s+{NUM}M\s+{NUM}s\s+{NUM}s\s+{NUM}s")
    return [
        Row("workshop page: one Chromium form page alone (requests, sent, renderer CPU)", f"{w.group(1)}, {_f(w.group(2)):.2f} MB, {_f(w.group(6)):.2f} s",
            "–", None, "–", None),
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
    pg = _has_postgresql()
    out, _ = _run("bench_concurrency.py", ["--processes", str(n)] + (["--postgresql"] if pg else []), verbose)
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
    elif not pg:
        rows.append(Row("concurrency on PostgreSQL", "skipped: needs initdb and pg_ctl (PostgreSQL server)", "–", None, "–", None))
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


def participant(quick: bool, verbose: bool) -> list[Row]:
    n = 20 if quick else 60
    out, _ = _run("bench_participant_cost.py", ["--clients", str(n)], verbose)
    rows = []
    for label, target in (("join: server CPU per participant, to usable", "less than the baseline"),
                          ("answer+submit: server CPU per participant", "less than the baseline")):
        m = _line(out, rf"^{re.escape(label)}\s+{NUM}\s*ms\s+{NUM}\s*ms\s+{NUM}x")
        this, base = _f(m.group(1)), _f(m.group(2))
        rows.append(Row(f"participant: {label} ({n} at once)", f"{this:.1f} ms", f"{base:.1f} ms baseline rev", base / this if this else None,
                        target, this < base))
    return rows


def privacy(quick: bool, verbose: bool) -> list[Row]:
    units, old_max = (["50", "100"], "50") if quick else (["50", "100", "200", "1000"], "100")
    out, _ = _run("bench_privacy.py", ["--units", *units, "--old-max", old_max], verbose, timeout=3600)
    # what, units, size, old s ("nan" where the old code did not run), new s, ... same (yes / NO / -)
    pat = r"^{what}\s+(?P<units>\d+)\s+(?P<size>.*?)\s+(?P<old>nan|[0-9.,]+)\s+(?P<new>[0-9.,]+)\s.*?\s(?P<same>yes|NO|-)\s*$"
    rows = []
    for what, label, target in (("plan", "change planner (every paired change decided)", "same decisions, faster than all-pairs"),
                                ("audit", "audit of the planner's releases", "same violations as all-pairs")):
        found = [m for m in re.finditer(pat.format(what=what), out, re.MULTILINE)]
        if not found:
            raise RuntimeError(f"could not find the {what!r} rows in the output")
        compared = [m for m in found if m["old"] != "nan"]
        same = all(m["same"] != "NO" for m in found)
        if compared:
            m = compared[-1]
            old, new = _f(m["old"]), _f(m["new"])
            rows.append(Row(f"privacy: {label}, {int(m['units']):,} units", f"{new:.2f} s", f"{old:.2f} s all-pairs", old / new,
                            target, same and (old > new or what == "audit")))
        last = found[-1]
        if not compared or last is not compared[-1]:
            rows.append(Row(f"privacy: {label}, {int(last['units']):,} units ({last['size']})", f"{_f(last['new']):.2f} s", "–", None, "–", None))
    return rows


def masks(quick: bool, verbose: bool) -> list[Row]:
    sizes = ["100", "200"] if quick else ["500", "1000"]
    out, _ = _run("bench_masks.py", ["--authorities", *sizes], verbose, timeout=3600)
    row = _line(out, rf"^\s*{sizes[1]}\s+(\d+)\s+{NUM}\s+{NUM}")
    e = _line(out, r"^\s*e\s+(\S+)\s+(\S+)")
    grow = float(e.group(2))
    return [Row(f"masks: the audit aggregates' record at {int(sizes[1]):,} units ({int(row.group(1)):,} releases), pickled",
                f"{_f(row.group(2)):.1f} MB", "–", None, "grows < cohort^1.5 (e < 1.5)", grow < 1.5)]


BENCHMARKS: dict[str, Callable[[bool, bool], list[Row]]] = {
    "analysis": analysis,
    "reports": reports,
    "workshop": workshop,
    "workshop_live": workshop_live,
    "participant": participant,
    "concurrency": concurrency,
    "io": io,
    "stakeholders": stakeholders,
    "privacy": privacy,
    "scale": scale,
    "masks": masks,
}


def _has_postgresql() -> bool:
    from toolkit.store.cluster import find_binaries

    return find_binaries() is not None


def _missing_assets() -> list[str]:
    try:
        from toolkit.workshop.assets import missing_assets

        return missing_assets()
    except Exception as exc:  # solara not importable: the workshop needs it anyway
        return [f"solara ({exc})"]


def _kernel() -> bool:
    return importlib.util.find_spec("ipykernel") is not None


# what each benchmark needs beyond the virtualenv: (description, is it there?); hard needs skip the benchmark
NEEDS: dict[str, list[tuple[str, Callable[[], bool], bool]]] = {
    "reports": [("a Jupyter kernel (ipykernel)", _kernel, True),
                ("the papermill and jupyter CLIs (naive loop)", lambda: all(shutil.which(c, path=str(Path(sys.executable).parent) + os.pathsep
                                                                                        + os.environ.get("PATH", "")) for c in ("papermill", "jupyter")), True),
                ("git (only for UPO_BENCH_BASELINE_REV)", lambda: shutil.which("git") is not None, False)],
    "workshop_live": [("Chromium (/usr/bin/chromium)", lambda: Path("/usr/bin/chromium").exists(), True),
                      ("the Solara page assets (make workshop-assets)", lambda: not _missing_assets(), True),
                      ("Voilà (the baseline)", lambda: importlib.util.find_spec("voila") is not None, True)],
    "participant": [("git (the baseline revision)", lambda: shutil.which("git") is not None and (HERE.parent / ".git").exists(), True)],
    "concurrency": [("PostgreSQL initdb and pg_ctl (the PostgreSQL row only)", _has_postgresql, False)],
    "privacy": [("a source checkout (tests/_privacy_reference.py)", lambda: (HERE.parent / "tests" / "_privacy_reference.py").exists(), True)],
    "scale": [("dask[distributed]", lambda: importlib.util.find_spec("distributed") is not None, True), ("a Jupyter kernel (ipykernel)", _kernel, True)],
}


def missing_needs(name: str) -> list[str]:
    """The hard needs of benchmark ``name`` that this machine lacks (empty: it can run)."""
    return [what for what, present, hard in NEEDS.get(name, []) if hard and not present()]


def needs_listing() -> str:
    lines = []
    for name in BENCHMARKS:
        needs = NEEDS.get(name, [])
        if not needs:
            lines.append(f"{name:<14} the virtualenv only")
        for i, (what, present, hard) in enumerate(needs):
            state = "yes" if present() else ("MISSING (skipped)" if hard else "missing (optional)")
            lines.append(f"{name if i == 0 else '':<14} {what}: {state}")
    return "\n".join(lines)


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
    ap.add_argument("--list", action="store_true", help="list what each benchmark needs and whether it is there, then stop")
    a = ap.parse_args(argv)
    if a.list:
        print(needs_listing())
        return 0
    names = [n.strip() for n in a.only.split(",") if n.strip()]
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        ap.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    rows: list[Row] = []
    t0, load0 = time.perf_counter(), os.getloadavg()[0]
    spent: list[str] = []  # wall and CPU seconds of each benchmark's processes (the machine is shared: CPU is the steadier figure)
    for name in names:
        t, cpu = time.perf_counter(), _children_cpu()
        lacking = missing_needs(name)
        if lacking:
            rows.append(Row(name, f"skipped: needs {', '.join(lacking)}", "–", None, "–", None))
            continue
        try:
            rows.extend(BENCHMARKS[name](a.quick, a.verbose))
        except Exception as exc:  # one broken benchmark must not hide the others
            rows.append(Row(name, f"failed: {exc}", "–", None, "–", False))
        spent.append(f"{name} {time.perf_counter() - t:.0f} s wall / {_children_cpu() - cpu:.0f} s CPU")
        print(f"{name}: {spent[-1].split(' ', 1)[1]}", file=sys.stderr, flush=True)
    print(f"upo-toolkit benchmarks{' (--quick)' if a.quick else ''}: {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.platform(terse=True)}, load average before/after {load0:.1f}/{os.getloadavg()[0]:.1f}, total {time.perf_counter() - t0:.0f} s\n")
    print(table(rows))
    print(f"\nper benchmark (its processes): {'; '.join(spent)}")
    return 0 if all(r.met is not False for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
