"""Benchmark: the size and cost of the command-line aggregates' release record on a large cohort (issue 16).

For one cohort database (e.g. ``upo demo --authorities 1000``, as ``bench/bench_scale.py --keep`` leaves it)
prints one JSON line: the record's entries and respondents, its pickled size, the summed size of its masks,
and the CPU seconds of building it (``cli_outputs_of_data``), pickling it, joining it into a batch record
(``BatchRecord.add_parent``), joining its sets as a kernel's shipped record (``BatchRecord.resolve``) and
auditing the joined record. Written to run in any checkout (integer masks before, :class:`Mask` after), so
a base and a branch can be run one after the other on the same cohort.

With ``--authorities N M`` it builds (or, with ``--keep DIR``, reuses) the synthetic cohorts of N and M units
(``toolkit.demo_large``, as ``bench/bench_scale.py`` builds them) and prints one table row per size and the
growth exponent of each quantity, e = log2(X(M) / X(N)) for M = 2N: 1 is linear, 2 the square of the cohort
(the whole-cohort bit masks before the sparse :class:`toolkit.privacy.mask.Mask`).

Run:  PYTHONPATH=TREE TREE/.venv/bin/python bench/bench_masks.py COHORT.sqlite
      .venv/bin/python bench/bench_masks.py --authorities 500 1000 [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import math
import pickle
import sys
import tempfile
import time
from pathlib import Path


def _cpu(fn, *args):
    c = time.process_time()
    out = fn(*args)
    return out, round(time.process_time() - c, 3)


def _size(m) -> int:
    return sys.getsizeof(m.bits) + sys.getsizeof(m) if hasattr(m, "bits") else sys.getsizeof(m)


def main(db: Path) -> dict:
    from toolkit.privacy import audit
    from toolkit.reports.audit import cli_outputs_of_data
    from toolkit.reports.context import _load
    from toolkit.reports.releases import BatchRecord

    data = _load(db)
    k = int(data.cohort["min_group_size"])
    data.scores()
    (rec, _), t_cli = _cpu(cli_outputs_of_data, data, k)
    raw, t_pickle = _cpu(pickle.dumps, rec.entries, pickle.HIGHEST_PROTOCOL)
    _, t_unpickle = _cpu(pickle.loads, raw)
    batch = BatchRecord(k=k, token="t", recode=lambda p: "#" + str(p))
    _, t_join = _cpu(batch.add_parent, rec)
    # the same sets as a kernel's shipped record (entries by digest, the sets' members once)
    inv = list(rec.ids)
    payload_sets, payload_entries, seen = {}, [], {}
    for e in rec.entries:
        d = seen.get(e.mask)
        if d is None:
            d = seen[e.mask] = f"s{len(seen)}"
            bits = e.mask.positions() if hasattr(e.mask, "positions") else None
            if bits is None:
                from toolkit.reports.releases import _bits

                bits = _bits(e.mask) if e.mask else []
            payload_sets[d] = sorted("@" + str(inv[b]) for b in list(bits))
        payload_entries.append(["cli", e.cell, ["L", "i", "v", "w"], d, False])
    shipped = BatchRecord(k=k, token="t", recode=lambda p: p)
    shipped.add_shipped("x", {"numbering": "t", "entries": payload_entries, "sets": payload_sets})
    _, t_resolve = _cpu(shipped.resolve)
    violations, t_audit = _cpu(audit, batch.record)
    return {"db": db.name, "entries": len(rec.entries), "respondents": len(rec.ids), "pickled_MB": round(len(raw) / 1e6, 3),
            "masks_MB": round(sum(_size(e.mask) for e in rec.entries) / 1e6, 3), "cli_s": t_cli, "pickle_s": t_pickle,
            "unpickle_s": t_unpickle, "join_s": t_join, "resolve_s": t_resolve, "audit_s": t_audit, "violations": len(violations)}


def _cohorts(sizes: list[int], keep: Path | None) -> list[Path]:
    """The synthetic cohorts of these sizes (built unless ``keep`` holds them from an earlier run)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_scale import _cohort

    folder = keep or Path(tempfile.mkdtemp(prefix="bench-masks-"))
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for n in sizes:
        path = folder / f"large-{n}.sqlite"
        _cohort(path, n).close()
        out.append(path)
    return out


COLUMNS = ("entries", "pickled_MB", "masks_MB", "join_s", "resolve_s", "audit_s")


def table(results: list[dict], sizes: list[int]) -> str:
    lines = ["bench_masks: the audit's command-line aggregates' release record (CPU s)",
             f"{'units':>6}  " + "  ".join(f"{c:>10}" for c in COLUMNS) + "  violations"]
    for n, r in zip(sizes, results):
        lines.append(f"{n:>6}  " + "  ".join(f"{r[c]:>10}" for c in COLUMNS) + f"  {r['violations']:>10}")
    if len(results) == 2 and sizes[1] > sizes[0]:
        g = math.log(sizes[1] / sizes[0])
        e = [math.log(results[1][c] / results[0][c]) / g if results[0][c] and results[1][c] else float("nan") for c in COLUMNS]
        lines.append(f"{'e':>6}  " + "  ".join(f"{x:>10.2f}" for x in e))
    return "\n".join(lines)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("db", nargs="?", type=Path, help="one cohort database: one JSON line")
    ap.add_argument("--authorities", type=int, nargs=2, metavar=("N", "M"), help="build the N- and M-unit cohorts, print a table")
    ap.add_argument("--keep", type=Path, help="folder for the cohorts, reused by the next run")
    a = ap.parse_args()
    if a.db is not None:
        print(json.dumps(main(a.db)), flush=True)
    elif a.authorities:
        sizes = sorted(a.authorities)
        print(table([main(p) for p in _cohorts(sizes, a.keep)], sizes), flush=True)
    else:
        ap.error("give a cohort database or --authorities N M")
