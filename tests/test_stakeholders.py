"""Tests of toolkit.stakeholders against independent references.

References (values stored in tests/reference/, the tests do not run R):

* ``stakeholders_psych.R`` → ``stakeholders_psych.out``: R psych::ICC on Shrout & Fleiss (1979)
  Table 2 and on ``stakeholder_ratings.csv``; per stakeholder × role the R quantiles (type 7),
  SD and r_wg (James, Demaree & Wolf 1984) computed in R.
* Shrout, P. E. & Fleiss, J. L. (1979). Intraclass correlations: uses in assessing rater
  reliability. Psychological Bulletin 86(2), 420–428, Table 2/4: ICC(2,1) = .29, ICC(2,4) = .62.
* Krippendorff, K. (2011). Computing Krippendorff's Alpha-Reliability. Annenberg School for
  Communication, University of Pennsylvania, https://repository.upenn.edu/asc_papers/43 —
  the 4 observers × 12 units example with missing values: nominal α = 0.743,
  ordinal α = 0.815, interval α = 0.849, ratio α = 0.797.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.exceptions import DataError
from toolkit.instruments import resolve_instrument
from toolkit.stakeholders import (
    QUADRANTS,
    aggregate_ratings,
    icc2,
    rater_reliability,
    stakeholder_map,
)
from toolkit.stakeholders.reliability import _complete_block
from toolkit.store import Store

REF = Path(__file__).parent / "reference"
INST = resolve_instrument("stakeholder_analysis")
ITEM = {i.role: i.id for i in INST.items if i.type == "rating_grid"}


def _r_output() -> tuple[pd.DataFrame, pd.DataFrame]:
    agg, icc = [], []
    for line in (REF / "stakeholders_psych.out").read_text(encoding="utf-8").splitlines():
        parts = line.split(",")
        if parts[0] == "agg":
            agg.append([parts[1], parts[2], int(parts[3]), *map(float, parts[4:])])
        elif parts[0] == "icc":
            icc.append((parts[1:] + [None, None])[:5])
    agg_df = pd.DataFrame(agg, columns=["stakeholder", "role", "n", "median", "mean", "q1", "q3", "iqr", "sd", "rwg"])
    return agg_df, pd.DataFrame(icc)


def _reference_responses() -> pd.DataFrame:
    d = pd.read_csv(REF / "stakeholder_ratings.csv")
    return pd.DataFrame(
        {
            "authority": "TST",
            "ministry": "BMI",
            "participant": d["rater"],
            "wave": "t0",
            "instrument": INST.id,
            "dimension": "assessment",
            "item": d["role"].map(ITEM),
            "stakeholder": d["stakeholder"],
            "value": d["value"].astype(float),
        }
    )


def _grid(ratings: dict[str, dict[str, list[float]]], authority: str = "BVA") -> pd.DataFrame:
    """Tidy responses from {stakeholder: {role: [value per rater]}}; NaN = not answered."""
    rows = []
    for sh, roles in ratings.items():
        for role, values in roles.items():
            for r, v in enumerate(values):
                if not np.isnan(v):
                    rows.append((authority, "BMI", f"P{r}", "t0", INST.id, "assessment", ITEM[role], sh, float(v)))
    cols = ["authority", "ministry", "participant", "wave", "instrument", "dimension", "item", "stakeholder", "value"]
    return pd.DataFrame(rows, columns=cols)


# ----------------------------------------------------------------------------- aggregation vs R
def test_aggregates_match_r():
    ref, _ = _r_output()
    ours = aggregate_ratings(_reference_responses(), INST)
    merged = ref.merge(ours, on=["stakeholder", "role"], suffixes=("_r", ""), validate="one_to_one")
    assert len(merged) == len(ref) == len(ours) == 8 * 8
    assert (merged["n"] == merged["n_r"]).all()
    for col in ("median", "mean", "q1", "q3", "iqr", "sd", "rwg"):
        np.testing.assert_allclose(merged[col], merged[f"{col}_r"], rtol=0, atol=1e-9, err_msg=col)


def test_missing_code_is_not_a_rating_but_neutral_attitude_is():
    resp = _reference_responses()
    agg = aggregate_ratings(resp, INST).set_index(["stakeholder", "role"])
    # the reference file has one "cannot assess" (0) for influence of haushalt and one omitted interest
    assert agg.loc[("haushalt", "influence"), "n"] == 4
    assert agg.loc[("vergabe", "interest"), "n"] == 4
    # 0 on the attitude scale is "neutral", a valid rating
    zeros = (resp["item"] == ITEM["attitude"]) & (resp["value"] == 0)
    sh = resp.loc[zeros, "stakeholder"].iloc[0]
    assert agg.loc[(sh, "attitude"), "n"] == 5


def test_does_not_mutate_input():
    resp = _reference_responses()
    before = resp.copy()
    aggregate_ratings(resp, INST)
    stakeholder_map(resp, INST)
    rater_reliability(resp, INST)
    pd.testing.assert_frame_equal(resp, before)


# ----------------------------------------------------------------------------- ICC and alpha
def test_icc_shrout_fleiss_published_and_psych():
    sf = [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]]
    _, ref = _r_output()
    psych = ref.loc[ref[0] == "shrout_fleiss"].set_index(1)[2].astype(float)
    i1, ik = icc2(sf)
    assert i1 == pytest.approx(psych["ICC2"], abs=1e-12)
    assert ik == pytest.approx(psych["ICC2k"], abs=1e-12)
    # published (two decimals) in Shrout & Fleiss (1979)
    assert round(i1, 2) == 0.29 and round(ik, 2) == 0.62


def test_rater_reliability_icc_matches_psych_per_role():
    _, ref = _r_output()
    ref = ref.loc[ref[0] != "shrout_fleiss"]
    ours = rater_reliability(_reference_responses(), INST).set_index("role")
    assert len(ours) == 8
    for _, (role, kind, value, n_raters, n_targets) in ref.iterrows():
        col = "icc_2_1" if kind == "ICC2" else "icc_2_k"
        assert ours.loc[role, col] == pytest.approx(float(value), abs=1e-9), (role, kind)
        assert ours.loc[role, "icc_n_raters"] == int(n_raters)
        assert ours.loc[role, "icc_n_stakeholders"] == int(n_targets)
    assert (ours["n_raters"] == 5).all() and (ours["n_stakeholders"] == 8).all()


KRIPP_2011 = [  # Krippendorff (2011), observers A-D (rows) x units 1-12; None = missing
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]


def test_krippendorff_alpha_published_example():
    rows = [
        ("BVA", f"coder_{'ABCD'[c]}", f"unit_{u + 1:02d}", ITEM["influence"], float(v))
        for c, coder in enumerate(KRIPP_2011)
        for u, v in enumerate(coder)
        if v is not None
    ]
    resp = pd.DataFrame(rows, columns=["authority", "participant", "stakeholder", "item", "value"])
    out = rater_reliability(resp, INST).set_index("role")
    assert out.loc["influence", "kripp_alpha"] == pytest.approx(0.815, abs=5e-4)  # published ordinal alpha
    assert out.loc["influence", "n_raters"] == 4 and out.loc["influence", "n_stakeholders"] == 12
    # the package itself reproduces the other published levels on the same data
    import krippendorff

    data = np.array([[np.nan if v is None else v for v in row] for row in KRIPP_2011])
    for level, published in (("nominal", 0.743), ("interval", 0.849), ("ratio", 0.797)):
        assert krippendorff.alpha(reliability_data=data, level_of_measurement=level) == pytest.approx(published, abs=5e-4)


def test_reliability_degenerate_inputs_are_nan():
    one_rater = _grid({"haushalt": {"influence": [3]}, "vergabe": {"influence": [4]}})
    out = rater_reliability(one_rater, INST)
    assert np.isnan(out.loc[0, "icc_2_1"]) and np.isnan(out.loc[0, "kripp_alpha"])
    identical = _grid({"haushalt": {"influence": [3, 3]}, "vergabe": {"influence": [3, 3]}})
    assert np.isnan(rater_reliability(identical, INST).loc[0, "kripp_alpha"])


def test_reliability_filters_authority_and_rejects_unknown():
    resp = pd.concat([_grid({"a": {"influence": [1, 2]}, "b": {"influence": [4, 5]}}, "BVA"),
                      _grid({"a": {"influence": [1, 2]}, "b": {"influence": [4, 5]}}, "BAMF")])
    assert set(rater_reliability(resp, INST)["authority"]) == {"BVA", "BAMF"}
    assert set(rater_reliability(resp, INST, authority="BVA")["authority"]) == {"BVA"}
    with pytest.raises(DataError, match="XYZ"):
        rater_reliability(resp, INST, authority="XYZ")


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 8), st.integers(2, 6), st.integers(0, 10_000))
def test_complete_block_is_the_largest_complete_submatrix(n, k, seed):
    rng = np.random.default_rng(seed)
    m = rng.integers(1, 6, (n, k)).astype(float)
    m[rng.random((n, k)) < 0.25] = np.nan
    rows, cols = _complete_block(m)
    assert not np.isnan(m[np.ix_(rows, cols)]).any()
    # brute force over all column subsets of at least 2 raters
    best = max(
        int((~np.isnan(m[:, list(c)])).all(axis=1).sum()) * len(c)
        for size in range(2, k + 1)
        for c in itertools.combinations(range(k), size)
    )
    assert len(rows) * len(cols) == best


# ----------------------------------------------------------------------------- derived classes
@pytest.mark.parametrize(
    ("influence", "interest", "quadrant"),
    [
        ([4, 5, 4], [4, 4, 5], "manage_closely"),
        ([5, 5, 4], [1, 2, 2], "keep_satisfied"),
        ([1, 2, 2], [5, 4, 4], "keep_informed"),
        ([1, 2, 1], [2, 1, 2], "monitor"),
        ([3, 3, 3], [3, 3, 3], "monitor"),  # exactly the midpoint counts as low
        ([3, 4], [3, 3], "keep_satisfied"),  # median 3.5 is above the midpoint
        ([4, 4, 4], [0, 0, 0], None),  # interest "cannot assess" by everyone
    ],
)
def test_quadrant_rule(influence, interest, quadrant):
    m = stakeholder_map(_grid({"fachbereich": {"influence": influence, "interest": interest}}), INST).iloc[0]
    if quadrant is None:
        assert pd.isna(m["quadrant"]) and m["strategy"] is None
    else:
        assert m["quadrant"] == quadrant
        assert m["quadrant"] in QUADRANTS and m["strategy"]


@pytest.mark.parametrize(
    ("influence", "legitimacy", "urgency", "salience", "stype"),
    [
        (2, 2, 2, "none", "none"),
        (4, 2, 2, "latent", "dormant"),
        (2, 5, 3, "latent", "discretionary"),
        (3, 3, 4, "latent", "demanding"),
        (5, 4, 1, "expectant", "dominant"),
        (4, 1, 4, "expectant", "dangerous"),
        (1, 4, 5, "expectant", "dependent"),
        (4, 4, 4, "definitive", "definitive"),
    ],
)
def test_salience_rule(influence, legitimacy, urgency, salience, stype):
    g = _grid({"personalrat": {"influence": [influence] * 2, "legitimacy": [legitimacy] * 2, "urgency": [urgency] * 2}})
    m = stakeholder_map(g, INST).iloc[0]
    assert (m["salience"], m["salience_type"]) == (salience, stype)


@pytest.mark.parametrize(
    ("ratings", "codes"),
    [
        ({"attitude": [-1, 1, 1, 1, 1]}, {"attitude_both_sides"}),  # r_wg = 0.6, IQR 0
        ({"attitude": [-1, 1, 1]}, {"attitude_both_sides", "rwg_attitude"}),  # r_wg = 1 - (4/3)/2
        ({"attitude": [0, 1, 2, 2]}, set()),  # neutral and supportive: one side only
        ({"attitude": [-2, -2, 0, 0]}, {"iqr_attitude", "rwg_attitude"}),
        ({"influence": [1, 1, 4, 5], "attitude": [1, 1, 1, 1]}, {"iqr_influence"}),
        ({"interest": [1, 4, 5], "attitude": [1, 1, 2]}, {"iqr_interest"}),
        ({"attitude": [-2]}, set()),  # a single rater cannot disagree
    ],
)
def test_disagreement_rules(ratings, codes):
    m = stakeholder_map(_grid({"haushalt": ratings}), INST).iloc[0]
    fired = set(filter(None, m["disagreement_codes"].split(",")))
    assert fired == codes
    assert bool(m["disagreement"]) == bool(codes)
    assert (m["disagreement_reason"] != "") == bool(codes)


def test_gap_priority_labels_and_languages():
    g = _grid(
        {
            "it_dienstleister": {"influence": [5, 4], "interest": [4, 5], "legitimacy": [4, 4], "urgency": [2, 2],
                                 "engagement_current": [2, 2], "engagement_desired": [5, 4], "attitude": [-1, 1]},
            "Kommunale <script>alert(1)</script> $x$": {"influence": [1, 2], "interest": [1, 1],
                                                        "engagement_current": [4, 4], "engagement_desired": [3, 3]},
        }
    )
    de = stakeholder_map(g, INST).set_index("stakeholder")
    it = de.loc["it_dienstleister"]
    assert it["engagement_gap"] == pytest.approx(2.5)
    # priority = quadrant weight 3 + 2 salience attributes + positive gap 2.5
    assert it["priority"] == pytest.approx(3 + 2 + 2.5)
    assert it["priority_rank"] == 1
    assert it["label"] == "IT-Dienstleister" and not it["free"]
    assert it["strategy"].startswith("Eng einbinden") and it["salience_label"].startswith("erwartend")
    assert "ablehnend" in it["disagreement_reason"]
    free = de.loc["Kommunale <script>alert(1)</script> $x$"]
    assert free["free"] and free["label"] == "Kommunale <script>alert(1)</script> $x$"
    assert free["engagement_gap"] == -1 and free["priority"] == 0 and free["priority_rank"] == 2
    en = stakeholder_map(g, INST, lang="en").set_index("stakeholder").loc["it_dienstleister"]
    assert en["label"] == "IT service provider" and en["strategy"].startswith("Manage closely")
    assert en["salience_label"].startswith("expectant") and "opposed" in en["disagreement_reason"]


def test_map_columns_contract_and_latest_wave():
    g0 = _grid({"haushalt": {"influence": [1, 1], "interest": [1, 1]}})
    g1 = _grid({"haushalt": {"influence": [5, 5], "interest": [5, 5]}}).assign(wave="t1")
    both = pd.concat([g0, g1], ignore_index=True)
    both["wave"] = pd.Categorical(both["wave"], categories=["t0", "t1"], ordered=True)
    m = stakeholder_map(both, INST)
    contract = ["authority", "stakeholder", "label", "free", "n_raters", "influence", "interest", "attitude", "legitimacy",
                "urgency", "engagement_current", "engagement_desired", "confidence", "influence_iqr", "interest_iqr",
                "attitude_iqr", "attitude_min", "attitude_max", "rwg_attitude", "disagreement", "disagreement_reason",
                "quadrant", "strategy", "salience", "salience_label", "engagement_gap", "priority"]
    assert list(m.columns[: len(contract)]) == contract
    assert len(m) == 1 and m.loc[0, "wave"] == "t1" and m.loc[0, "quadrant"] == "manage_closely"
    agg_cols = ["authority", "stakeholder", "role", "n", "median", "mean", "q1", "q3", "iqr", "sd", "rwg"]
    assert list(aggregate_ratings(both, INST).columns[:11]) == agg_cols


def test_bad_input_raises_specific_errors():
    with pytest.raises(DataError, match="stakeholder"):
        aggregate_ratings(pd.DataFrame({"authority": ["BVA"], "item": ["x"], "value": [1.0]}), INST)
    wrong = _grid({"haushalt": {"influence": [1, 2]}}).assign(instrument="competence_reflection")
    with pytest.raises(DataError, match="competence_reflection"):
        stakeholder_map(wrong, INST)
    with pytest.raises(DataError, match="rating_grid"):
        aggregate_ratings(_grid({"haushalt": {"influence": [1]}}).drop(columns="instrument"), resolve_instrument("competence_reflection"))


# ----------------------------------------------------------------------------- the demo cohort
def test_demo_cohort_consistency(demo_db):
    with Store(demo_db) as store:
        resp = store.responses(INST.id)
    m = stakeholder_map(resp, INST)
    assert not m.duplicated(["authority", "stakeholder"]).any()
    assert m["authority"].nunique() == 30
    raters = resp.groupby("authority")["participant"].nunique()
    assert (m["n_raters"] <= m["authority"].map(raters)).all() and (m["n_raters"] >= 1).all()
    assert m["quadrant"].isin(QUADRANTS).all()
    assert m["priority"].between(0, 10).all()
    assert m["disagreement"].any() and not m["disagreement"].all()
    rel = rater_reliability(resp, INST)
    assert len(rel) == 30 * 8
    ok = rel.dropna(subset=["kripp_alpha"])
    assert len(ok) > 200 and ok["kripp_alpha"].between(-1, 1).all()
    assert (rel["icc_n_raters"] <= rel["n_raters"]).all()


def test_empty_and_all_missing_inputs():
    empty = _grid({})
    assert aggregate_ratings(empty, INST).empty and stakeholder_map(empty, INST).empty and rater_reliability(empty, INST).empty
    assert list(stakeholder_map(empty, INST).columns[:3]) == ["authority", "stakeholder", "label"]
    cannot = _grid({"haushalt": {"influence": [0, 0]}})  # everyone chose "cannot assess"
    agg = aggregate_ratings(cannot, INST)
    assert agg.loc[0, "n"] == 0 and np.isnan(agg.loc[0, "median"])
    m = stakeholder_map(cannot, INST).iloc[0]
    assert m["n_raters"] == 0 and pd.isna(m["quadrant"]) and m["priority"] == 0
