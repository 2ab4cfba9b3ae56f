"""CLI contract for `upo scores`, `upo reliability`, `upo change` (DESIGN §9)."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from toolkit.cli import main

UPO = Path(sys.executable).parent / "upo"


def _run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def test_scores_json_records(demo_copy, capsys):
    code, out, _ = _run(capsys, "scores", str(demo_copy), "--instrument", "competence_reflection", "--wave", "t0",
                        "--by", "authority", "--format", "json")
    assert code == 0
    recs = json.loads(out)
    keys = {"wave", "authority", "dimension", "n", "mean", "sd", "median", "q1", "q3", "ci_low", "ci_high", "suppressed", "reason", "n_excluded"}
    assert recs and all(set(r) == keys for r in recs)
    assert all(not isinstance(v, (dict, list)) for r in recs for v in r.values())  # flat
    hidden = [r for r in recs if r["suppressed"]]
    assert hidden and all(r["mean"] is None and isinstance(r["n"], int) for r in hidden)
    assert {r["authority"] for r in hidden if r["n"] < 5} >= {"JKI", "BpB", "FFA"}
    assert all(isinstance(r["mean"], float) for r in recs if not r["suppressed"])


def test_scores_csv_and_table(demo_copy, capsys):
    code, out, _ = _run(capsys, "scores", str(demo_copy), "--instrument", "competence_reflection", "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 30 and rows[0]["wave"] == "t0"  # 3 waves x 10 dimensions
    code, out, _ = _run(capsys, "scores", str(demo_copy), "--instrument", "competence_reflection", "--wave", "t1")
    assert code == 0 and "user_centricity" in out and "suppressed" in out


def test_reliability_json(demo_copy, capsys):
    code, out, _ = _run(capsys, "reliability", str(demo_copy), "--instrument", "competence_reflection", "--wave", "t0",
                        "--format", "json")
    assert code == 0
    recs = json.loads(out)
    assert len(recs) == 10
    for r in recs:
        assert {"dimension", "alpha", "ci_low", "ci_high", "n_items", "n", "suppressed"} <= set(r)
        assert r["ci_low"] < r["alpha"] < r["ci_high"] and r["n_items"] == 3


def test_change_json_by_authority(demo_copy, capsys):
    code, out, _ = _run(capsys, "change", str(demo_copy), "--instrument", "competence_reflection", "--from", "t0",
                        "--to", "t1", "--by", "authority", "--format", "json")
    assert code == 0
    recs = json.loads(out)
    keys = {"dimension", "n_pairs", "mean_diff", "ci_low", "ci_high", "t", "p_t", "d_z", "w_stat", "p_wilcoxon",
            "r_rb", "p_holm", "n", "suppressed"}
    assert all(keys <= set(r) for r in recs)
    assert all(r["mean_diff"] is None for r in recs if r["n_pairs"] < 5)
    assert all(r["suppressed"] for r in recs if r["n_pairs"] < 5)


@pytest.mark.parametrize("args,fragment", [
    (["--wave", "t9"], "t9"),
    (["--instrument", "nope"], "nope"),
])
def test_errors_are_one_line_exit_1(demo_copy, capsys, args, fragment):
    base = ["reliability", str(demo_copy), "--instrument", "competence_reflection"]
    if args[0] == "--instrument":
        base = base[:2]
    code, out, err = _run(capsys, *base, *args)
    assert code == 1 and fragment in err and err.count("\n") == 1


def test_change_same_wave_and_usage(demo_copy, capsys):
    code, _, err = _run(capsys, "change", str(demo_copy), "--instrument", "competence_reflection", "--from", "t0", "--to", "t0")
    assert code == 1 and "same wave" in err
    code, _, _ = _run(capsys, "change", str(demo_copy), "--instrument", "competence_reflection", "--from", "t0")
    assert code == 2


def test_real_subprocess_change_json(demo_copy):
    proc = subprocess.run([str(UPO), "change", str(demo_copy), "--instrument", "competence_reflection", "--from", "t0",
                           "--to", "t2", "--format", "json"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    recs = json.loads(proc.stdout)
    assert len(recs) == 10 and all(r["n_pairs"] > 300 for r in recs)
    gains = {r["dimension"]: r["mean_diff"] for r in recs}
    assert gains["user_centricity"] > gains["digital_tools"]  # the demo builds a gain in user centricity only


# --------------------------------------------------------------------------- reliability diagnostics, missing data, change fields
@pytest.fixture
def unkeyed_demo(demo_copy):
    """The demo cohort with the answers to the reverse-keyed da3 turned round: da3 now loads negatively."""
    import sqlite3

    with sqlite3.connect(demo_copy) as con:
        con.execute("UPDATE answers SET value = 6 - value WHERE item = 'da3' AND value BETWEEN 1 AND 5")
    return demo_copy


def test_reliability_reports_negatively_loading_items(unkeyed_demo, capsys):
    base = ["reliability", str(unkeyed_demo), "--instrument", "competence_reflection", "--wave", "t0"]
    code, out, _ = _run(capsys, *base, "--format", "json")
    assert code == 0
    recs = {r["dimension"]: r for r in json.loads(out)}
    assert recs["data"]["negative_items"] == "da3"
    assert all(r["negative_items"] is None for d, r in recs.items() if d != "data")
    assert recs["data"]["omega_total"] == recs["data"]["omega"]
    code, out, err = _run(capsys, *base)
    assert code == 0 and "negative_items" in out
    assert err.strip() == ("note: t0 data: da3 load(s) negatively on the scale's factor; is a reverse key (reverse: true) "
                           "missing? omega_total flips them, as psych does")


def test_reliability_missing_listwise_counts_complete_cases_and_says_so(demo_copy, capsys):
    base = ["reliability", str(demo_copy), "--instrument", "competence_reflection", "--wave", "t0", "--format", "json"]
    pairwise = {r["dimension"]: r for r in json.loads(_run(capsys, *base)[1])}
    listwise = {r["dimension"]: r for r in json.loads(_run(capsys, *base, "--missing", "listwise")[1])}
    assert {r["method"] for r in pairwise.values()} == {"pairwise"}
    assert {r["method"] for r in listwise.values()} == {"listwise"}
    assert all(listwise[d]["n"] <= pairwise[d]["n"] for d in pairwise)
    assert any(listwise[d]["n"] < pairwise[d]["n"] for d in pairwise)  # the demo has item-level missingness
    code, _, err = _run(capsys, *base, "--missing", "everything")
    assert code == 2 and "pairwise" in err


def test_change_json_carries_both_holm_corrections_the_wilcoxon_n_and_the_exact_flag(demo_copy, capsys):
    code, out, _ = _run(capsys, "change", str(demo_copy), "--instrument", "competence_reflection", "--from", "t0",
                        "--to", "t1", "--by", "authority", "--format", "json")
    assert code == 0
    recs = json.loads(out)
    shown = [r for r in recs if not r["suppressed"]]
    assert shown and all({"p_t_holm", "p_wilcoxon_holm", "n_nonzero", "exact", "p_holm"} <= set(r) for r in recs)
    for r in shown:
        assert r["p_holm"] == r["p_t_holm"] and r["p_wilcoxon_holm"] >= r["p_wilcoxon"]
        assert isinstance(r["n_nonzero"], int) and 0 < r["n_nonzero"] <= r["n_pairs"]
        assert isinstance(r["exact"], bool)
    assert all(r["n_nonzero"] is None and r["exact"] is None and r["p_wilcoxon_holm"] is None for r in recs if r["suppressed"])
