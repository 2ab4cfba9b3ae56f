"""Benchmark: the cohort-wide disclosure rules at scale, indexed vs all-pairs, in the same run.

For synthetic large cohorts (``upo demo --authorities N``: N units in N/20 groups (at most 50),
20 people each, three waves) it times

* ``plan``:  :func:`toolkit.privacy.change_plan_all` (every paired change of the cohort decided
  at once; what the competence sections call through ``change_levels``) for the competence
  reflection, against the reference copy of the old all-pairs planner
  (``tests/_privacy_reference.py``), and checks that both decide the same;
* ``audit``: :func:`toolkit.privacy.audit` on a record of the plan's kind of releases (levels by
  authority, group and cohort at every wave; paired changes by authority, group and cohort for
  every wave pair) against the old all-pairs audit, and checks the violations are the same.

The old versions run only up to ``--old-max`` units (they grow 4-5x per doubling). With
``--report-record N`` the audit is also timed on the record of everything the reports of an
N-unit cohort release (``upo audit``'s record; rendering it takes minutes).

Run:  .venv/bin/python bench/bench_privacy.py [--units 50 100 200 1000] [--old-max 100] [--report-record 100]
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def _cohort(tmp: Path, n: int):
    from toolkit.demo_large import build_large_demo
    from toolkit.privacy import resolve_k
    from toolkit.scoring.scores import dimension_scores

    db = tmp / f"c{n}.sqlite"
    store = build_large_demo(db, n_authorities=n)
    inst = store.instrument("competence_reflection")
    scores = dimension_scores(store.responses(inst.id), inst)
    waves = [str(w) for w in store.waves()["wave"]]
    k = resolve_k(store)
    store.close()
    return db, scores, waves, inst.id, k


def _plan_record(scores, waves, inst: str, k: int):
    from toolkit.privacy import change_levels, levels, recording

    with recording(k=k) as rec:
        for w in waves:
            s = scores[scores["wave"].astype(str) == w]
            s = s.assign(wave=w, dimension=s["dimension"].astype(str))
            for by in ("authority", "ministry", None):
                levels(s, by, k=k, instrument=inst, output=f"levels:{by}")
        for j, b in enumerate(waves):
            for a in waves[:j]:
                for by in ("authority", "ministry", None):
                    change_levels(scores, a, b, by=by, k=k, instrument=inst, output=f"change:{by}", waves=waves)
    return rec


def _report_record(db: Path):
    """The record ``upo audit`` checks (every report section, the cohort report, the CLI aggregates)."""
    import toolkit.reports.audit as A

    real = A.audit
    A.audit = lambda rec, k=None: []  # collect only; the audit is timed below
    try:
        res = A.cohort_audit(db)
    finally:
        A.audit = real
    return res.record, res.k


def _time(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--units", type=int, nargs="+", default=[50, 100, 200, 1000])
    ap.add_argument("--old-max", type=int, default=100, help="largest cohort the old all-pairs versions run on")
    ap.add_argument("--report-record", type=int, default=0, help="also audit the reports' record of a cohort of this size")
    a = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    from _privacy_reference import audit_ref, change_plan_all_ref
    from toolkit.privacy import audit, change_plan_all
    from toolkit.privacy.plan import _PLAN_MEMO

    tmp = Path(tempfile.mkdtemp(prefix="bench-privacy-"))
    rows = []
    load = [os.getloadavg()[0]]
    cohorts = {}
    for n in a.units:
        db, scores, waves, inst, k = cohorts[n] = _cohort(tmp, n)
        _PLAN_MEMO.clear()
        t_new, new = _time(lambda: change_plan_all(scores, k=k, instrument=inst, waves=waves))
        t_old, same = float("nan"), "-"
        if n <= a.old_max:
            t_old, old = _time(lambda: change_plan_all_ref(scores, k=k, instrument=inst, waves=waves))
            same = "yes" if old == new else "NO"
        rows.append(("plan", n, f"{len(new)} decisions", t_old, t_new, same))
        rec = _plan_record(scores, waves, inst, k)
        t_new, new_v = _time(lambda: audit(rec, k=k))
        t_old, same = float("nan"), "-"
        if n <= a.old_max:
            t_old, old_v = _time(lambda: audit_ref(rec, k=k))
            same = "yes" if old_v == new_v else "NO"
        rows.append(("audit", n, f"{len(rec)} releases, {len(new_v)} violations", t_old, t_new, same))
        load.append(os.getloadavg()[0])
    if a.report_record:
        n = a.report_record
        db = cohorts[n][0] if n in cohorts else _cohort(tmp, n)[0]
        rec, k = _report_record(db)
        t_new, new_v = _time(lambda: audit(rec, k=k))
        t_old, old_v = _time(lambda: audit_ref(rec, k=k))
        rows.append(("audit (reports)", n, f"{len(rec)} releases, {len(new_v)} violations", t_old, t_new, "yes" if old_v == new_v else "NO"))
        load.append(os.getloadavg()[0])
    print(f"bench_privacy: {os.cpu_count()} cores; cohorts of N units × 20 people × 3 waves; old = all-pairs reference "
          f"(up to {a.old_max} units); load average {' / '.join(f'{x:.1f}' for x in load)}\n")
    print(f"{'what':<16}{'units':>6}  {'size':<34}{'old s':>9}{'new s':>9}{'old/new':>9}  same")
    for what, n, size, t_old, t_new, same in rows:
        ratio = t_old / t_new if t_old == t_old and t_new > 0 else float("nan")
        print(f"{what:<16}{n:>6}  {size:<34}{t_old:>9.2f}{t_new:>9.2f}{ratio:>9.1f}  {same}")
    return 0 if all(r[5] != "NO" for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
