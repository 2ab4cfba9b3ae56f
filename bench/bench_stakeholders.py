"""Benchmark: stakeholder aggregation and rater reliability, and rendering of every plot.

Part 1 generates a tidy stakeholder-ratings frame (A authorities × R raters × 20 stakeholders ×
8 roles; default 300 × 8 → 384,000 rows) and times ``aggregate_ratings``, ``stakeholder_map``
and ``rater_reliability`` against a naive baseline in the same process (``groupby.apply`` with a
Python function per stakeholder × role; ``pivot_table`` per authority × role for the ICC
matrix, listwise deletion), run on a subset and extrapolated linearly.

Part 2 renders each plot of ``toolkit.plots`` to PNG in memory (dpi 100) on realistic sizes and
reports the time relative to an empty figure saved the same way (the baseline unit).

Run:  .venv/bin/python bench/bench_stakeholders.py [--authorities 300] [--raters 8] [--repeat 3]
Prints tables; not a test (no timed assertions anywhere).
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from toolkit import plots  # noqa: E402
from toolkit.instruments import resolve_instrument  # noqa: E402
from toolkit.stakeholders import aggregate_ratings, icc2, rater_reliability, stakeholder_map  # noqa: E402

INST = resolve_instrument("stakeholder_analysis")
COMP = resolve_instrument("competence_reflection")
ROLES = {i.role: i for i in INST.items if i.type == "rating_grid"}


def make_ratings(n_auth: int, n_raters: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    keys = [e.id for e in INST.stakeholders.catalogue] + ["Externe Beratung", "Landesbehörden", "Kommunen", "Hersteller"]
    rows = []
    for a in range(n_auth):
        base = rng.normal(3, 1, (len(keys), len(ROLES)))
        for r in range(n_raters):
            seen = rng.random(len(keys)) < 0.85
            for s, key in enumerate(keys):
                if not seen[s]:
                    continue
                for j, (role, item) in enumerate(ROLES.items()):
                    scale = INST.scales[item.scale]
                    v = base[s, j] + rng.normal(0, 0.8) + (scale.min - 1)
                    rows.append((f"A{a:04d}", f"R{r}", key, item.id, float(np.clip(np.rint(v), scale.min, scale.max))))
    df = pd.DataFrame(rows, columns=["authority", "participant", "stakeholder", "item", "value"])
    return df.assign(ministry="M", wave="t0", instrument=INST.id, dimension="assessment")


def naive_aggregate(df: pd.DataFrame) -> pd.DataFrame:
    role = df["item"].map({i.id: r for r, i in ROLES.items()})
    d = df.assign(role=role)

    def stats(x: pd.Series) -> pd.Series:
        v = x.to_numpy(dtype=float)
        v = v[~np.isnan(v)]
        return pd.Series({"n": len(v), "median": np.median(v), "mean": v.mean(), "q1": np.quantile(v, 0.25),
                          "q3": np.quantile(v, 0.75), "sd": v.std(ddof=1) if len(v) > 1 else np.nan})

    return d.groupby(["authority", "stakeholder", "role"])["value"].apply(stats).unstack()


def naive_reliability(df: pd.DataFrame) -> pd.DataFrame:
    role = df["item"].map({i.id: r for r, i in ROLES.items()})
    d = df.assign(role=role)
    out = []
    for (a, r), sub in d.groupby(["authority", "role"]):
        wide = sub.pivot_table(index="stakeholder", columns="participant", values="value", aggfunc="first")
        m = wide.dropna().to_numpy(dtype=float)
        out.append((a, r, *(icc2(m) if m.shape[0] >= 2 and m.shape[1] >= 2 else (np.nan, np.nan))))
    return pd.DataFrame(out, columns=["authority", "role", "icc_2_1", "icc_2_k"])


def best_of(f, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times)


def part1(n_auth: int, n_raters: int, repeat: int) -> None:
    df = make_ratings(n_auth, n_raters)
    sub_n = max(1, n_auth // 20)
    sub = df[df["authority"].isin(sorted(df["authority"].unique())[:sub_n])]
    scale = n_auth / sub_n
    rows = [
        ("aggregate_ratings", best_of(lambda: aggregate_ratings(df, INST), repeat), best_of(lambda: naive_aggregate(sub), 1) * scale),
        ("stakeholder_map", best_of(lambda: stakeholder_map(df, INST), repeat), np.nan),
        ("rater_reliability", best_of(lambda: rater_reliability(df, INST), 1), best_of(lambda: naive_reliability(sub), 1) * scale),
    ]
    print(f"\nstakeholder analysis: {n_auth} authorities × {n_raters} raters, {len(df):,} rows "
          f"(baseline on {sub_n} authorities, extrapolated ×{scale:.0f})")
    print(f"{'step':<20} {'toolkit s':>10} {'baseline s':>11} {'speed-up':>9}")
    for name, t, b in rows:
        ratio = f"{b / t:8.1f}×" if np.isfinite(b) else "        –"
        base = f"{b:11.2f}" if np.isfinite(b) else "          –"
        print(f"{name:<20} {t:10.3f} {base} {ratio}")


def _png(fig) -> int:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    return buf.tell()


def part2(repeat: int) -> None:
    rng = np.random.default_rng(2)
    dims = [d.id for d in COMP.dimensions if d.scored_items]
    radar = pd.DataFrame([{"dimension": d, "group": g, "score": rng.uniform(2, 4.5)} for g in "ABC" for d in dims])
    likert_items = [i.id for i in COMP.items if i.type == "likert"]
    likert = pd.DataFrame([{"item": i, "value": float(rng.integers(0, 6))} for _ in range(40) for i in likert_items])
    smap = stakeholder_map(make_ratings(1, 8), INST)
    change = pd.DataFrame([{"dimension": d, "wave": w, "mean": rng.uniform(2.5, 4), "ci_low": 2.3, "ci_high": 4.2}
                           for d in dims for w in ("t0", "t1", "t2")])
    heat = pd.DataFrame([{"authority": f"A{a:02d}", "dimension": d, "mean": rng.uniform(2, 4.5), "suppressed": a % 9 == 0}
                         for a in range(30) for d in dims])
    needs = pd.DataFrame({"dimension": dims, "ist": 2.6, "soll": 3.4, "gap": 0.8, "importance": 3.7, "needs": rng.uniform(1, 5, len(dims))})
    cases = {
        "empty figure (baseline)": lambda: plt.figure(figsize=(8, 6), layout="constrained").add_subplot(),
        "profile radar (10 dims × 3)": lambda: plots.plot_profile_radar(radar, instrument=COMP),
        "likert bars (30 items)": lambda: plots.plot_likert_bars(likert, instrument=COMP),
        "power-interest (20 sh.)": lambda: plots.plot_power_interest(smap),
        "change (10 dims × 3 waves)": lambda: plots.plot_change(change, instrument=COMP),
        "heatmap (30 × 10)": lambda: plots.plot_heatmap(heat, instrument=COMP),
        "needs (10 dims)": lambda: plots.plot_needs(needs, instrument=COMP),
    }
    _png(cases["profile radar (10 dims × 3)"]().figure)  # warm up fonts and caches
    base = best_of(lambda: _png(cases["empty figure (baseline)"]().figure), repeat)
    print(f"\nplots rendered to PNG at dpi 100 (best of {repeat})")
    print(f"{'plot':<28} {'s':>7} {'× empty':>8}")
    for name, make in cases.items():
        t = best_of(lambda make=make: _png(make().figure), repeat)
        print(f"{name:<28} {t:7.3f} {t / base:7.1f}×")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--authorities", type=int, default=300)
    ap.add_argument("--raters", type=int, default=8)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    part1(a.authorities, a.raters, a.repeat)
    part2(a.repeat)


if __name__ == "__main__":
    main()
