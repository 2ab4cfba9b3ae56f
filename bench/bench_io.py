"""Benchmark: import of a wide CSV and the export formats, against baselines in the same process.

Import: a wide CSV of N participants × the competence reflection's items (code
elements, some invalid rows) is imported into a fresh database; the baseline is the
bare minimum any import needs, ``pandas.read_csv`` of the same file plus
``Store.submit_many`` of pre-built submissions (no validation, no quarantine).
Export: each format of the same database against ``DataFrame.to_csv`` of the tidy frame.

Run:  .venv/bin/python bench/bench_io.py [--participants 2000]
Prints a table; not a test (no timed assertions anywhere).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from toolkit.instruments import resolve_instrument  # noqa: E402
from toolkit.io import export, import_file, tidy_frame  # noqa: E402
from toolkit.store import Store, Submission  # noqa: E402


def _timed(fn) -> tuple[float, object]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--participants", type=int, default=2000)
    args = ap.parse_args()
    n = args.participants
    rng = np.random.default_rng(1)
    inst = resolve_instrument("competence_reflection")
    items = [i for i in inst.items if i.type != "text"]
    tmp = Path(tempfile.mkdtemp())
    rows = []
    for k in range(n):
        row = {"mother": f"M{k % 97}", "birthday": str(k % 28 + 1), "birthplace": "ABCDEFG"[k % 7], "street": f"S{k}"}
        for it in items:
            pts = inst.scales[it.scale].points
            row[it.id] = int(rng.choice(pts))
        if k % 50 == 0:
            row[items[0].id] = 7  # out of scale: quarantined
        rows.append(row)
    wide = pd.DataFrame(rows)
    csv_path = tmp / "wide.csv"
    wide.to_csv(csv_path, sep=";", index=False)

    results = []
    store = Store.init(tmp / "a.sqlite")
    t_imp, res = _timed(lambda: import_file(store, csv_path, instrument="competence_reflection", wave="t0", authority="BVA"))

    base = Store.init(tmp / "b.sqlite")
    base.add_instrument(inst)

    def baseline() -> None:
        df = pd.read_csv(csv_path, sep=";", dtype=str)
        subs = [
            Submission("BVA", (r["mother"], r["birthday"], r["birthplace"], r["street"]), "t0", inst,
                       {it.id: float(r[it.id]) for it in items if r[it.id] != "7"}, source="bench")
            for r in df.to_dict("records")
        ]
        base.submit_many(subs, create_missing=True)

    t_base, _ = _timed(baseline)
    results.append(("import wide CSV (validate, quarantine, store)", n, t_imp, t_base))
    t_again, res2 = _timed(lambda: import_file(store, csv_path, instrument="competence_reflection", wave="t0", authority="BVA"))
    results.append(("re-import same file (all unchanged)", n, t_again, t_base))

    t_csv, _ = _timed(lambda: tidy_frame(store).to_csv(tmp / "base.csv", index=False))
    for fmt, name in (("csv", "x.csv"), ("parquet", "x.parquet"), ("sav", "x.sav"), ("xlsx", "x.xlsx")):
        t, _ = _timed(lambda: export(store, tmp / name, format=fmt, instrument="competence_reflection"))
        results.append((f"export {fmt}", len(tidy_frame(store)), t, t_csv))

    print(f"imported {res.n_imported}, quarantined {res.n_quarantined}; re-import: {res2.n_unchanged} unchanged")
    print(f"{'step':48} {'rows':>8} {'seconds':>9} {'baseline s':>11} {'ratio':>7}")
    for step, rows_n, t, b in results:
        print(f"{step:48} {rows_n:8d} {t:9.3f} {b:11.3f} {t / b:7.2f}")
    print("baselines: import = read_csv + submit_many of pre-built submissions; export = tidy_frame().to_csv()")


if __name__ == "__main__":
    main()
