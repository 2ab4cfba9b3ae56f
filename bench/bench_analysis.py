"""Benchmark: scoring, reliability and paired change on a large synthetic cohort.

Generates a tidy responses frame of N participants × 3 waves × 40 items (default
100,000 participants ≈ 12 M rows; categorical key columns as a store export would
give after ``astype("category")``), then times each analysis step and samples the
process's resident memory during it. A naive baseline (Python row/group functions:
``DataFrame.apply`` per answer, ``groupby.apply`` per observation, pivot_table per
dimension, scipy per dimension) runs in the same process on a 1,000-participant
subset and is extrapolated linearly to N, giving the speed-up ratio.

Run:  .venv/bin/python bench/bench_analysis.py [--participants 100000] [--baseline 1000]
Prints a table; not a test (no timed assertions anywhere).
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
from scipy import stats as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from toolkit.instruments import parse_instrument  # noqa: E402
from toolkit.scoring import dimension_scores, score_items  # noqa: E402
from toolkit.stats import paired_change, reliability  # noqa: E402

N_DIMS, PER_DIM = 10, 4
WAVES = ["t0", "t1", "t2"]


def _instrument():
    dims = []
    for d in range(N_DIMS):
        items = "\n".join(
            f"      - {{id: d{d}i{i}, type: likert, scale: agree5, {'reverse: true, ' if i == 3 else ''}text: {{de: x, en: x}}}}"
            for i in range(PER_DIM)
        )
        dims.append(f"  - id: dim{d}\n    title: {{de: D{d}, en: D{d}}}\n    min_valid: 3\n    items:\n{items}")
    text = (
        "id: bench\nversion: '1'\ntitle: {de: Bench, en: Bench}\nscales:\n  agree5:\n    points: [1, 2, 3, 4, 5]\n"
        "    labels: {de: [a, b, c, d, e], en: [a, b, c, d, e]}\n    missing: [0]\n"
        "    missing_label: {de: weiß nicht, en: cannot judge}\ndimensions:\n" + "\n".join(dims) + "\n"
    )
    return parse_instrument(text)


def make_responses(n_participants: int, inst, seed: int = 1) -> pd.DataFrame:
    """Tidy frame: every participant answers every item in every wave (3 % skipped, 2 % 'cannot judge')."""
    rng = np.random.default_rng(seed)
    items = [i.id for i in inst.items]
    n_items, n_waves = len(items), len(WAVES)
    theta = rng.normal(0, 1, (n_participants, N_DIMS))
    gain = np.linspace(0, 0.5, N_DIMS)
    rows = []
    vals = np.empty((n_participants, n_waves, n_items), dtype=np.float64)
    for w in range(n_waves):
        lat = np.repeat(theta + (gain * w / 2), PER_DIM, axis=1)
        raw = np.clip(np.rint(3 + 0.9 * (lat + rng.normal(0, 0.8, lat.shape))), 1, 5)
        rev = np.tile(np.arange(PER_DIM) == 3, N_DIMS)
        raw[:, rev] = 6 - raw[:, rev]
        raw[rng.random(raw.shape) < 0.02] = 0.0
        vals[:, w, :] = raw
    keep = rng.random(vals.shape) >= 0.03
    p_idx, w_idx, i_idx = np.nonzero(keep)
    del rows
    n_auth = 100
    auth_cats = [f"A{a:03d}" for a in range(n_auth)]
    ministries = [f"M{a % 10}" for a in range(n_auth)]
    part_cats = [f"P-{p:07d}" for p in range(n_participants)]
    a_codes = (p_idx % n_auth).astype(np.int16)
    dim_of_item = np.repeat(np.arange(N_DIMS), PER_DIM)
    df = pd.DataFrame({
        "authority": pd.Categorical.from_codes(a_codes, auth_cats),
        "ministry": pd.Categorical.from_codes((a_codes % 10).astype(np.int8), sorted(set(ministries))),
        "participant": pd.Categorical.from_codes(p_idx.astype(np.int32), part_cats),
        "wave": pd.Categorical.from_codes(w_idx.astype(np.int8), WAVES, ordered=True),
        "instrument": pd.Categorical.from_codes(np.zeros(len(p_idx), dtype=np.int8), [inst.id]),
        "dimension": pd.Categorical.from_codes(dim_of_item[i_idx].astype(np.int8), [d.id for d in inst.dimensions]),
        "item": pd.Categorical.from_codes(i_idx.astype(np.int8), items),
        "stakeholder": pd.Categorical.from_codes(np.full(len(p_idx), -1, dtype=np.int8), ["-"]),
        "value": vals[p_idx, w_idx, i_idx],
    })
    return df


class _Peak:
    """Sample the process RSS every 5 ms while a step runs."""

    def __init__(self) -> None:
        self.proc = psutil.Process(os.getpid())
        self.peak = 0
        self._stop = threading.Event()

    def __enter__(self) -> "_Peak":
        self.start = self.proc.memory_info().rss
        self.peak = self.start
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.proc.memory_info().rss)
            time.sleep(0.005)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._t.join()
        self.peak = max(self.peak, self.proc.memory_info().rss)


def timed(fn, *args, **kw):
    gc.collect()
    with _Peak() as mem:
        t = time.perf_counter()
        out = fn(*args, **kw)
        sec = time.perf_counter() - t
    return out, sec, mem.peak / 2**20, (mem.peak - mem.start) / 2**20


# --------------------------------------------------------------------------- naive baseline
def naive_score_items(resp, inst):
    meta = {i.id: (inst.scales[i.scale], i.reverse) for i in inst.items}

    def one(row):
        scale, rev = meta[row["item"]]
        v = row["value"]
        if v in scale.missing:
            return np.nan
        return scale.min + scale.max - v if rev else v

    out = resp.copy()
    out["value"] = resp.apply(one, axis=1)
    return out


def naive_dimension_scores(scored, inst):
    need = {d.id: d.required_valid for d in inst.dimensions}

    def one(g):
        v = g["value"].dropna()
        return v.mean() if len(v) >= need[g.name[-1]] else np.nan

    return scored.groupby(["authority", "participant", "wave", "dimension"], observed=True).apply(one, include_groups=False)


def naive_reliability(scored, inst):
    out = {}
    for dim in inst.dimensions:
        sub = scored[scored["dimension"] == dim.id]
        wide = sub.pivot_table(index=["participant", "wave"], columns="item", values="value", observed=True)
        c = wide.cov().to_numpy()
        k = c.shape[0]
        out[dim.id] = k / (k - 1) * (1 - np.trace(c) / c.sum())
    return out


def naive_paired_change(dscores):
    res = {}
    for dim, g in dscores.groupby("dimension", observed=True):
        wide = g.pivot_table(index="participant", columns="wave", values="score", observed=True).dropna(subset=["t0", "t1"])
        res[dim] = (st.ttest_rel(wide["t1"], wide["t0"]).pvalue, st.wilcoxon(wide["t1"], wide["t0"]).pvalue)
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--participants", type=int, default=100_000)
    ap.add_argument("--baseline", type=int, default=1_000, help="participants in the naive baseline subset")
    a = ap.parse_args(argv)
    inst = _instrument()
    t = time.perf_counter()
    resp = make_responses(a.participants, inst)
    gen = time.perf_counter() - t
    print(f"synthetic frame: {len(resp):,} rows ({a.participants:,} participants x {len(WAVES)} waves x {len(inst.items)} items), "
          f"{resp.memory_usage(deep=True).sum() / 2**20:.0f} MB, generated in {gen:.1f} s; cores: {os.cpu_count()}")

    rows = []
    scored, s1, p1, d1 = timed(score_items, resp, inst)
    rows.append(("score_items", s1, p1, d1))
    dscores, s2, p2, d2 = timed(dimension_scores, resp, inst)
    rows.append(("dimension_scores", s2, p2, d2))
    t0 = resp[resp["wave"] == "t0"]
    rel, s3, p3, d3 = timed(reliability, t0, inst)
    rows.append(("reliability (t0, 10 dims)", s3, p3, d3))
    change, s4, p4, d4 = timed(paired_change, dscores, "t0", "t1")
    rows.append(("paired_change t0->t1", s4, p4, d4))
    del scored
    total = s1 + s2 + s3 + s4

    # naive baseline on a subset, extrapolated linearly
    sub_ids = pd.Categorical.from_codes(np.arange(a.baseline), resp["participant"].cat.categories)
    sub = resp[resp["participant"].isin(set(sub_ids))].copy()
    sub["participant"] = sub["participant"].cat.remove_unused_categories()
    factor = a.participants / a.baseline
    b_scored, b1, _, _ = timed(naive_score_items, sub, inst)
    _, b2, _, _ = timed(naive_dimension_scores, b_scored, inst)
    _, b3, _, _ = timed(naive_reliability, b_scored[b_scored["wave"] == "t0"], inst)
    sub_scores = dimension_scores(sub, inst)
    _, b4, _, _ = timed(naive_paired_change, sub_scores)
    base = [b1 * factor, b2 * factor, b3 * factor, b4 * factor]

    print()
    print(f"{'step':<28}{'seconds':>10}{'peak RSS MB':>13}{'+MB in step':>13}{'naive s (extrap.)':>19}{'speed-up':>10}")
    for (name, sec, peak, delta), b in zip(rows, base):
        print(f"{name:<28}{sec:>10.2f}{peak:>13.0f}{delta:>13.0f}{b:>19.1f}{b / sec:>9.0f}x")
    print(f"{'total':<28}{total:>10.2f}{max(r[2] for r in rows):>13.0f}{'':>13}{sum(base):>19.1f}{sum(base) / total:>9.0f}x")
    print(f"\nnaive baseline: {a.baseline:,} participants, times x {factor:.0f}; "
          f"check: alpha dim0 fast {rel['alpha'].iloc[0]:.4f}, pairs per dimension {int(change['n_pairs'].iloc[0]):,}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
