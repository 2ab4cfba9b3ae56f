"""Statistics against independent references.

Reference values come from R (base R 4.2 stats, psych 2.2.9), produced by
tests/reference/analysis_reference.R and stored in analysis_reference.json; the
scripts' printed output is kept in analysis_reference.out. CI does not run R.

Data: psych::bfi (Revelle, SAPA project; real, published), datasets::sleep
(Student 1908), RoundingTimes (Hollander & Wolfe 1973, p. 140; published
chi-squared = 11.143, p = 0.003805) and a synthetic change set generated in R.

Omega total is also checked against tests/reference/omega_reference.R (omega_reference.json):
bfi without its reverse keys (psych flips the negatively loading items) and synthetic scales
with a near-zero loading and with negative loadings (omega_scales.csv).

Tolerances: 1e-9 for closed-form statistics (alpha, Feldt CI, r.drop, t, Wilcoxon,
Friedman, Holm); 1e-6 for omega total, whose one-factor minres loadings are found
iteratively here (iterated principal axes) and by optim() in psych.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from toolkit.exceptions import DataError
from toolkit.instruments import parse_instrument
from toolkit.stats import benchmark, friedman, friedman_posthoc, holm, item_total, omega_total, paired_change, reliability

REF = Path(__file__).parent / "reference"
EXACT = 1e-9
OMEGA_TOL = 1e-6


@pytest.fixture(scope="module")
def ref() -> dict:
    return json.loads((REF / "analysis_reference.json").read_text())


BFI_YAML = """
id: bfi_test
version: "1"
title: {de: BFI, en: BFI}
scales:
  six:
    points: [1, 2, 3, 4, 5, 6]
    labels: {de: [a, b, c, d, e, f], en: [a, b, c, d, e, f]}
dimensions:
  - id: agreeableness
    title: {de: A, en: A}
    min_valid: 1
    items:
      - {id: A1, type: likert, scale: six, reverse: true, text: {de: A1, en: A1}}
      - {id: A2, type: likert, scale: six, text: {de: A2, en: A2}}
      - {id: A3, type: likert, scale: six, text: {de: A3, en: A3}}
      - {id: A4, type: likert, scale: six, text: {de: A4, en: A4}}
      - {id: A5, type: likert, scale: six, text: {de: A5, en: A5}}
  - id: conscientiousness
    title: {de: C, en: C}
    min_valid: 1
    items:
      - {id: C1, type: likert, scale: six, text: {de: C1, en: C1}}
      - {id: C2, type: likert, scale: six, text: {de: C2, en: C2}}
      - {id: C3, type: likert, scale: six, text: {de: C3, en: C3}}
      - {id: C4, type: likert, scale: six, reverse: true, text: {de: C4, en: C4}}
      - {id: C5, type: likert, scale: six, reverse: true, text: {de: C5, en: C5}}
"""


@pytest.fixture(scope="module")
def bfi() -> tuple:
    inst = parse_instrument(BFI_YAML)
    wide = pd.read_csv(REF / "bfi_scales.csv")
    long = wide.melt(id_vars="id", var_name="item", value_name="value").dropna(subset=["value"])
    dim = {i.id: inst.dimension_of(i.id).id for i in inst.items}
    resp = pd.DataFrame({
        "authority": "SAPA", "ministry": None, "participant": long["id"].astype(str), "wave": "t0",
        "instrument": inst.id, "dimension": long["item"].map(dim), "item": long["item"], "stakeholder": None,
        "value": long["value"].astype(float),
    })
    return inst, resp


# --------------------------------------------------------------------------- reliability
@pytest.mark.parametrize("dim,key", [("agreeableness", "bfi_agreeableness"), ("conscientiousness", "bfi_conscientiousness")])
def test_alpha_feldt_omega_match_psych_on_bfi(bfi, ref, dim, key):
    inst, resp = bfi
    exp = ref[key]
    row = reliability(resp, inst).set_index("dimension").loc[dim]
    assert row["n"] == exp["n"] and row["n_items"] == 5
    assert row["alpha"] == pytest.approx(exp["raw_alpha"], abs=EXACT)
    assert row["ci_low"] == pytest.approx(exp["feldt_lower"][0][0], abs=EXACT)
    assert row["ci_high"] == pytest.approx(exp["feldt_upper"][0][0], abs=EXACT)
    assert row["omega"] == pytest.approx(exp["omega_tot"], abs=OMEGA_TOL)


def test_bfi_agreeableness_is_the_published_070(bfi):
    inst, resp = bfi  # psych documentation: raw_alpha 0.70 for A1-A5 with A1 reversed
    alpha = reliability(resp, inst).set_index("dimension").loc["agreeableness", "alpha"]
    assert round(alpha, 2) == 0.70


@pytest.mark.parametrize("dim,key", [("agreeableness", "bfi_agreeableness"), ("conscientiousness", "bfi_conscientiousness")])
def test_listwise_alpha_matches_psych_on_complete_cases(bfi, ref, dim, key):
    inst, resp = bfi
    exp = ref[key]
    row = reliability(resp, inst, method="listwise").set_index("dimension").loc[dim]
    assert row["n"] == exp["listwise_n"]
    assert row["alpha"] == pytest.approx(exp["listwise_alpha"], abs=EXACT)
    assert row["ci_low"] == pytest.approx(exp["listwise_feldt_lower"][0][0], abs=EXACT)
    assert row["ci_high"] == pytest.approx(exp["listwise_feldt_upper"][0][0], abs=EXACT)


@pytest.mark.parametrize("dim,key", [("agreeableness", "bfi_agreeableness"), ("conscientiousness", "bfi_conscientiousness")])
def test_item_total_matches_psych_r_drop_and_alpha_drop(bfi, ref, dim, key):
    inst, resp = bfi
    exp = ref[key]
    it = item_total(resp, inst).query("dimension == @dim")
    np.testing.assert_allclose(it["r_corrected"], exp["r_drop"], atol=EXACT)
    np.testing.assert_allclose(it["alpha_if_deleted"], exp["alpha_drop"], atol=EXACT)
    assert it["n"].tolist() == exp["item_n"]


def test_reliability_rejects_unknown_method(bfi):
    inst, resp = bfi
    with pytest.raises(DataError, match="pairwise"):
        reliability(resp, inst, method="bogus")


def test_omega_of_a_perfect_one_factor_matrix_is_the_model_value():
    lam = np.array([0.8, 0.7, 0.6, 0.5])
    r = np.outer(lam, lam)
    np.fill_diagonal(r, 1.0)
    expected = lam.sum() ** 2 / (lam.sum() ** 2 + (1 - lam**2).sum())
    assert omega_total(r) == pytest.approx(expected, abs=1e-8)
    assert np.isnan(omega_total(r[:2, :2]))


# --------------------------------------------------------------------------- paired change
def _scores(frm, to, dimension="x", ids=None) -> pd.DataFrame:
    ids = ids or [f"P{i:03d}" for i in range(len(frm))]
    return pd.DataFrame({
        "authority": "A", "ministry": "M", "participant": ids * 2, "wave": ["t0"] * len(frm) + ["t1"] * len(to),
        "dimension": dimension, "score": list(frm) + list(to),
    })


def test_paired_change_on_sleep_matches_r(ref):
    exp = ref["sleep"]
    res = paired_change(_scores(exp["x_from"], exp["x_to"]), "t0", "t1").iloc[0]
    assert res["n_pairs"] == 10 and res["n_nonzero"] == 9  # one zero difference dropped
    for col, key in [("mean_diff", "mean_diff"), ("ci_low", "ci_low"), ("ci_high", "ci_high"), ("t", "t"),
                     ("p_t", "p_t"), ("d_z", "d_z"), ("w_stat", "V"), ("p_wilcoxon", "p_wilcoxon")]:
        assert res[col] == pytest.approx(exp[key], abs=EXACT), col
    assert not res["wilcoxon_exact"]


def test_paired_change_synthetic_set_matches_r_incl_exact_path_and_holm(ref):
    cs = pd.read_csv(REF / "change_scores.csv")
    scores = pd.concat([
        cs.assign(wave="t0", score=cs["from"]), cs.assign(wave="t1", score=cs["to"]),
    ])[["participant", "dimension", "wave", "score"]].assign(authority="A")
    res = paired_change(scores, "t0", "t1").set_index("dimension")
    exp = pd.DataFrame(ref["change"]).set_index("dimension")
    assert sorted(res.index) == sorted(exp.index)
    for col in ["n_pairs", "mean_diff", "ci_low", "ci_high", "t", "p_t", "d_z", "w_stat", "p_wilcoxon", "p_holm", "p_holm_wilcoxon"]:
        np.testing.assert_allclose(res.loc[exp.index, col].astype(float), exp[col].astype(float), atol=EXACT, err_msg=col)
    assert res.loc["d_exact", "wilcoxon_exact"] and not res.loc["d_gain", "wilcoxon_exact"]
    assert (res["n_pairs"] - res["n_nonzero"]).loc[exp.index].tolist() == exp["n_zero"].tolist()


def test_rank_biserial_definition_and_symmetry(rng):
    frm = rng.normal(3, 1, 30)
    to = frm + rng.normal(0.3, 0.8, 30)
    fwd = paired_change(_scores(frm, to), "t0", "t1").iloc[0]
    back = paired_change(_scores(to, frm), "t0", "t1").iloc[0]
    d = to - frm
    ranks = pd.Series(np.abs(d)).rank().to_numpy()
    wpos, wneg = ranks[d > 0].sum(), ranks[d < 0].sum()
    assert fwd["r_rb"] == pytest.approx((wpos - wneg) / (wpos + wneg), abs=1e-12)
    assert back["r_rb"] == pytest.approx(-fwd["r_rb"], abs=1e-12)
    assert back["p_wilcoxon"] == pytest.approx(fwd["p_wilcoxon"], abs=1e-12)
    assert back["d_z"] == pytest.approx(-fwd["d_z"], abs=1e-12)


def test_pairs_need_both_waves_and_same_authority():
    s = _scores([1.0, 2, 3], [2.0, 3, np.nan])
    extra = pd.DataFrame({"authority": "B", "ministry": "M", "participant": "P000", "wave": ["t1"], "dimension": "x", "score": [5.0]})
    res = paired_change(pd.concat([s, extra]), "t0", "t1").iloc[0]
    assert res["n_pairs"] == 2  # P002 has no valid t1 score; B/P000 is another person
    assert res["mean_diff"] == pytest.approx(1.0)
    assert np.isnan(res["t"])  # the differences do not vary


def test_paired_change_by_group_holm_within_group(rng):
    parts = []
    for auth in ("A", "B"):
        for dim in ("x", "y", "z"):
            frm = rng.normal(3, 1, 12)
            s = _scores(frm, frm + rng.normal(0.4, 1, 12), dimension=dim)
            parts.append(s.assign(authority=auth))
    res = paired_change(pd.concat(parts), "t0", "t1", by="authority")
    assert len(res) == 6
    for _, g in res.groupby("authority"):
        np.testing.assert_allclose(g["p_holm"], holm(g["p_t"].to_numpy()))


def test_unknown_wave_is_a_data_error():
    with pytest.raises(DataError, match="t9"):
        paired_change(_scores([1.0], [2.0]), "t0", "t9")


def test_holm_matches_r(ref):
    exp = ref["holm"]
    p = np.array([np.nan if v is None else v for v in exp["p"]])
    want = np.array([np.nan if v is None else v for v in exp["adjusted"]])
    np.testing.assert_allclose(holm(p), want, atol=EXACT)


# --------------------------------------------------------------------------- Friedman
def test_friedman_on_rounding_times_matches_r_and_published(ref):
    exp = ref["rounding_times"]
    data = np.array(exp["data"])
    scores = pd.DataFrame([
        {"authority": "A", "participant": f"p{i}", "wave": w, "dimension": "x", "score": data[i, j]}
        for i in range(data.shape[0]) for j, w in enumerate(["a", "b", "c"])
    ])
    res = friedman(scores, ["a", "b", "c"]).iloc[0]
    assert res["n"] == 22
    assert res["chi2"] == pytest.approx(exp["chi2"], abs=EXACT)
    assert res["p"] == pytest.approx(exp["p"], abs=EXACT)
    assert res["chi2"] == pytest.approx(11.143, abs=1e-3)  # Hollander & Wolfe (1973)
    assert res["kendall_w"] == pytest.approx(exp["chi2"] / (22 * 2), abs=EXACT)
    post = friedman_posthoc(scores, ["a", "b", "c"])
    assert len(post) == 3 and (post["p_holm"] >= post["p_wilcoxon"]).all()


def test_friedman_uses_complete_blocks_only():
    s = pd.DataFrame({"authority": "A", "participant": list("pqrs") * 3, "wave": [w for w in "abc" for _ in range(4)],
                      "dimension": "x", "score": [1.0, 2, 1, 2, 2, 3, 3, np.nan, 3, 4, 5, 4]})
    assert friedman(s, ["a", "b", "c"]).iloc[0]["n"] == 3


# --------------------------------------------------------------------------- benchmark
def _bench_frame() -> pd.DataFrame:
    rows = []
    spec = {("A", "M1"): (6, 3.0), ("B", "M1"): (8, 4.0), ("C", "M1"): (3, 1.0), ("D", "M2"): (10, 2.0), ("E", "M2"): (5, 5.0)}
    for (auth, min_), (n, mean) in spec.items():
        for i in range(n):
            rows.append({"authority": auth, "ministry": min_, "participant": f"{auth}{i}", "wave": "t0",
                         "dimension": "x", "score": mean + (0.5 if i % 2 else -0.5) * (n % 2 == 0)})
    return pd.DataFrame(rows)


def test_benchmark_means_and_percentile_rank():
    s = _bench_frame()
    # C (3 < k) in M1: the M1 and cohort means are over the shown authorities, so they equal the values without C
    # (C can neither be subtracted out nor does it hide its ministry; issue 12)
    with_c = benchmark(s, "A", k=5).iloc[0]
    s = s[s["authority"] != "C"]
    without = benchmark(s, "A", k=5).iloc[0]
    assert with_c[["ministry_mean", "cohort_mean", "n_ministry", "n_cohort"]].tolist() == without[["ministry_mean", "cohort_mean", "n_ministry", "n_cohort"]].tolist()
    res = benchmark(s, "A", k=5).iloc[0]
    valid = s
    assert res["authority_mean"] == pytest.approx(3.0)
    assert res["ministry_mean"] == pytest.approx(valid[valid.ministry == "M1"]["score"].mean())
    assert res["cohort_mean"] == pytest.approx(valid["score"].mean())
    assert res["diff_cohort"] == pytest.approx(res["authority_mean"] - res["cohort_mean"])
    # authorities with n >= 5: A 3.0, B 4.0, D 2.0, E 5.0 -> A is above one of four
    assert res["percentile_rank"] == pytest.approx(100 * (1 + 0.5) / 4)
    assert (res["n_authority"], res["n_ministry"], res["n_cohort"]) == (6, 14, 29)


def test_benchmark_hides_small_groups_and_differences_below_k():
    s = _bench_frame()
    small = benchmark(s, "C", k=5).iloc[0]
    assert np.isnan(small["authority_mean"]) and np.isnan(small["percentile_rank"]) and small["suppressed"]
    assert small["n_authority"] == 3
    # E is M2 with D; M2 minus E = D (10 >= 5): ministry mean may be shown
    assert not np.isnan(benchmark(s, "E", k=5).iloc[0]["ministry_mean"])
    # with k = 11 no authority of M2 is shown (D 10, E 5): no M2 value either, though M2 has 15 people
    d = benchmark(s, "D", k=11).iloc[0]
    assert d["suppressed"] and np.isnan(d["ministry_mean"]) and d["n_ministry"] == 0


def test_benchmark_needs_one_wave():
    s = _bench_frame()
    with pytest.raises(DataError, match="one wave"):
        benchmark(pd.concat([s, s.assign(wave="t1")]), "A", k=5)


# --------------------------------------------------------------------------- omega total as psych computes it
# tests/reference/omega_reference.R: psych::omega(x, nfactors = 1)$omega.tot (one-factor minres on the pairwise
# correlations, negatively loading items flipped) on bfi without its reverse keys and on synthetic scales
OMEGA_CASES = {"bfi_a_unkeyed": "bfi_scales.csv", "bfi_c_unkeyed": "bfi_scales.csv", "weak": "omega_scales.csv", "mixed": "omega_scales.csv"}


@pytest.fixture(scope="module")
def omega_ref() -> dict:
    return json.loads((REF / "omega_reference.json").read_text())


def _unkeyed(items: list[str], data_file: str) -> tuple:
    """An instrument with the items as written (no reverse keys) and the tidy answers of ``data_file``."""
    lines = "\n".join(f"      - {{id: {i}, type: likert, scale: six, text: {{de: {i}, en: {i}}}}}" for i in items)
    inst = parse_instrument(f"""
id: omega_test
version: "1"
title: {{de: O, en: O}}
scales:
  six:
    points: [1, 2, 3, 4, 5, 6]
    labels: {{de: [a, b, c, d, e, f], en: [a, b, c, d, e, f]}}
dimensions:
  - id: scale
    title: {{de: S, en: S}}
    min_valid: 1
    items:
{lines}
""")
    wide = pd.read_csv(REF / data_file)
    long = wide.melt(id_vars="id", value_vars=items, var_name="item", value_name="value").dropna(subset=["value"])
    resp = pd.DataFrame({"authority": "A", "participant": long["id"].astype(str), "wave": "t0", "dimension": "scale",
                         "item": long["item"], "value": long["value"].astype(float)})
    return inst, resp


@pytest.mark.parametrize("case", OMEGA_CASES)
def test_omega_total_matches_psych_incl_flipped_items_and_small_communalities(omega_ref, case):
    exp = omega_ref[case]
    inst, resp = _unkeyed(exp["items"], OMEGA_CASES[case])
    row = reliability(resp, inst).iloc[0]
    assert row["n"] == exp["n"]
    assert row["omega_total"] == pytest.approx(exp["omega_tot"], abs=OMEGA_TOL)
    assert row["omega"] == row["omega_total"]  # the earlier name stays as an alias
    flipped = [i for i, k in zip(exp["items"], exp["key"]) if k < 0]  # psych's key: the items it flipped
    assert row["negative_items"] == (", ".join(flipped) or None)
    assert row["method"] == "pairwise"


def test_one_factor_loadings_match_psych_up_to_its_optimiser(omega_ref):
    from toolkit.stats import one_factor_loadings
    from toolkit.stats.reliability import _pairwise_cov

    for case, data_file in OMEGA_CASES.items():
        exp = omega_ref[case]
        x = pd.read_csv(REF / data_file)[exp["items"]].to_numpy(float)
        lam = one_factor_loadings(_pairwise_cov(x[(~np.isnan(x)).any(axis=1)], cor=True)[0])
        np.testing.assert_allclose(np.abs(lam), exp["loadings"], atol=1e-5, err_msg=case)  # psych: optim(), ~1e-6
        assert np.sign(lam).tolist() == exp["key"], case


def test_a_communality_below_0005_is_not_floored():
    lam = np.array([0.7, 0.7, 0.7, 0.03])  # the last communality 0.0009 is below the earlier floor
    r = np.outer(lam, lam)
    np.fill_diagonal(r, 1.0)
    expected = (r.sum() - (1 - lam**2).sum()) / r.sum()
    assert omega_total(r) == pytest.approx(expected, abs=1e-9)


def test_reliability_says_which_missing_data_method_it_used(bfi):
    inst, resp = bfi
    assert set(reliability(resp, inst)["method"]) == {"pairwise"}
    assert set(reliability(resp, inst, method="listwise")["method"]) == {"listwise"}


def test_paired_change_names_both_holm_corrections(ref):
    cs = pd.read_csv(REF / "change_scores.csv")
    scores = pd.concat([cs.assign(wave="t0", score=cs["from"]), cs.assign(wave="t1", score=cs["to"])]).assign(authority="A")
    res = paired_change(scores, "t0", "t1").set_index("dimension")
    exp = pd.DataFrame(ref["change"]).set_index("dimension")
    np.testing.assert_allclose(res.loc[exp.index, "p_t_holm"], exp["p_holm"], atol=EXACT)
    np.testing.assert_allclose(res.loc[exp.index, "p_wilcoxon_holm"], exp["p_holm_wilcoxon"], atol=EXACT)
    assert (res["p_holm"] == res["p_t_holm"]).all()
