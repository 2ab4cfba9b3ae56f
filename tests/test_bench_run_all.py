"""``bench/run_all.py`` (``make bench``): every benchmark script is run, each is documented with its
sizes and needs, the privacy table is read right, and a benchmark whose needs are missing is
skipped with the reason instead of failing. No benchmark is run here (speed is measured in bench/)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


@pytest.fixture(scope="module")
def run_all():
    spec = importlib.util.spec_from_file_location("bench_run_all", BENCH / "run_all.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["bench_run_all"] = mod
    spec.loader.exec_module(mod)
    yield mod
    sys.modules.pop("bench_run_all", None)


def test_every_benchmark_script_is_run_and_documented(run_all):
    import inspect

    scripts = {p.name for p in BENCH.glob("bench_*.py")}
    used = {name for fn in run_all.BENCHMARKS.values() for name in scripts if f'"{name}"' in inspect.getsource(fn)}
    assert used == scripts, f"not run by run_all.py: {sorted(scripts - used)}"
    doc = run_all.__doc__
    for name in run_all.BENCHMARKS:
        assert f"\n{name} " in doc, f"{name} has no row (sizes, needs) in run_all.py's docstring"


PRIVACY_OUT = """bench_privacy: 2 cores; cohorts of N units × 20 people × 3 waves; old = all-pairs reference (up to 50 units); load average 4.2 / 4.1

what             units  size                                  old s    new s  old/new  same
plan                50  1590 decisions                         3.22     0.39      8.2  yes
audit               50  3480 releases, 0 violations            0.16     0.09      1.8  yes
plan               100  3180 decisions                          nan     0.78      nan  -
audit              100  6974 releases, 0 violations             nan     0.11      nan  -
"""


def test_privacy_rows_compare_with_the_old_code_where_it_ran(run_all, monkeypatch):
    calls = []
    monkeypatch.setattr(run_all, "_run", lambda script, args, verbose, timeout=0: calls.append((script, args)) or (PRIVACY_OUT, 1.0))
    rows = run_all.privacy(True, False)
    assert calls == [("bench_privacy.py", ["--units", "50", "100", "--old-max", "50"])]  # --quick: small sizes
    plan50, plan100, audit50, audit100 = rows
    assert plan50.measured == "0.39 s" and plan50.baseline == "3.22 s all-pairs" and plan50.met is True
    assert round(plan50.ratio, 1) == 8.3
    assert "100 units" in plan100.benchmark and plan100.measured == "0.78 s" and plan100.met is None
    assert audit50.met is True and audit100.measured == "0.11 s"
    differs = PRIVACY_OUT.replace("3.22     0.39      8.2  yes", "3.22     0.39      8.2  NO")
    monkeypatch.setattr(run_all, "_run", lambda *a, **k: (differs, 1.0))
    assert run_all.privacy(True, False)[0].met is False  # different decisions: the target is missed


def test_a_benchmark_without_its_needs_is_skipped_with_the_reason(run_all, monkeypatch, capsys):
    monkeypatch.setitem(run_all.NEEDS, "privacy", [("a thing this machine lacks", lambda: False, True)])
    monkeypatch.setitem(run_all.BENCHMARKS, "privacy", lambda quick, verbose: pytest.fail("must not run"))
    assert run_all.main(["--only", "privacy"]) == 0
    out = capsys.readouterr().out
    assert "skipped: needs a thing this machine lacks" in out
    assert run_all.main(["--list"]) == 0
    assert "a thing this machine lacks: MISSING (skipped)" in capsys.readouterr().out
