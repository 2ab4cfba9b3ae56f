"""Summaries: privacy-applied aggregates over the demo cohort."""

from __future__ import annotations

import numpy as np
import pytest

from toolkit.exceptions import DataError, PrivacyError
from toolkit.scoring import dimension_scores
from toolkit.stats import paired_change
from toolkit.store import Store
from toolkit.summaries import change_summary, reliability_summary, score_summary

ESTIMATES = ["mean", "sd", "median", "q1", "q3", "ci_low", "ci_high"]


@pytest.fixture(scope="module")
def demo(demo_db):
    store = Store(demo_db)
    yield store
    store.close()


def test_score_summary_cohort(demo):
    out = score_summary(demo, "competence_reflection", wave="t0")
    assert list(out.columns) == ["wave", "dimension", "n", "mean", "sd", "median", "q1", "q3", "ci_low", "ci_high", "suppressed", "reason", "n_excluded"]
    assert out["dimension"].tolist() == [d.id for d in demo.instrument("competence_reflection").dimensions if d.scored_items]
    assert not out["suppressed"].any() and (out["n"] > 400).all()
    scores = dimension_scores(demo.responses("competence_reflection", wave="t0"), demo.instrument("competence_reflection"))
    # the cohort value is over the authorities that are shown themselves (n >= k in that dimension)
    valid = scores[scores["score"].notna()]
    n_auth = valid.groupby(["dimension", "authority"])["participant"].transform("nunique")
    want = valid[n_auth >= demo.min_group_size].groupby("dimension")["score"].mean()
    np.testing.assert_allclose(out.set_index("dimension")["mean"], want.reindex(out["dimension"]))
    assert (out["n_excluded"] > 0).all()  # the demo's small authorities are left out and counted


def test_score_summary_by_authority_hides_small_and_recoverable_cells(demo):
    k = demo.min_group_size
    out = score_summary(demo, "competence_reflection", by="authority")
    assert set(out["wave"]) == {"t0", "t1", "t2"}
    small = out[out["n"] < k]
    assert {"JKI", "BpB", "FFA"} <= set(small["authority"]) and small["suppressed"].all()
    assert out.loc[out["suppressed"], ESTIMATES].isna().all().all()
    assert out.loc[~out["suppressed"], "mean"].notna().all()
    # totals are over shown authorities, so no authority with n >= k needs to be hidden, and the reason is true
    assert not (out["suppressed"] & (out["n"] >= k)).any()
    assert set(out.loc[out["suppressed"], "reason"]) <= {"too_few"}
    from toolkit.privacy import audit, recording

    with recording(k=k) as rec:
        for by in ("authority", "ministry", None):
            score_summary(demo, "competence_reflection", by=by)
    assert audit(rec) == []


def test_score_summary_stricter_threshold_and_refusal(demo):
    strict = score_summary(demo, "competence_reflection", wave="t0", by="ministry", min_group_size=60)
    assert strict.loc[strict["n"] < 60, "suppressed"].all()
    with pytest.raises(PrivacyError):
        score_summary(demo, "competence_reflection", wave="t0", min_group_size=2)


def test_score_summary_bad_input(demo):
    with pytest.raises(DataError, match="t7"):
        score_summary(demo, "competence_reflection", wave="t7")
    with pytest.raises(DataError, match="nope"):
        score_summary(demo, "nope")


def test_reliability_summary_keys_and_per_wave(demo):
    out = reliability_summary(demo, "competence_reflection")
    assert {"dimension", "alpha", "ci_low", "ci_high", "n_items", "n", "suppressed"} <= set(out.columns)
    assert set(out["wave"]) == {"t0", "t1", "t2"}
    assert ((out["ci_low"] < out["alpha"]) & (out["alpha"] < out["ci_high"])).all()
    assert (out["alpha"] > 0.6).all()  # the demo items are built on one latent trait per dimension


def test_reliability_summary_suppresses_small_cohorts(tmp_path):
    from toolkit.demo import build_demo

    store = build_demo(tmp_path / "tiny.sqlite", n_authorities=1, seed=3, min_group_size=100)
    out = reliability_summary(store, "competence_reflection", wave="t0")
    assert out["suppressed"].all() and out["alpha"].isna().all() and (out["n"] > 0).all()
    store.close()


def test_change_summary_matches_stats_and_hides_few_pairs(demo):
    k = demo.min_group_size
    inst = demo.instrument("competence_reflection")
    out = change_summary(demo, "competence_reflection", "t0", "t1", by="authority")
    for key in ["dimension", "n_pairs", "mean_diff", "ci_low", "ci_high", "t", "p_t", "d_z", "w_stat", "p_wilcoxon",
                "r_rb", "p_holm", "n", "suppressed"]:
        assert key in out.columns
    assert (out["n"] == out["n_pairs"]).all()
    assert out.loc[out["n_pairs"] < k, "suppressed"].all()
    assert out.loc[out["suppressed"], ["mean_diff", "p_t", "p_wilcoxon", "r_rb"]].isna().all().all()
    scores = dimension_scores(demo.responses("competence_reflection", wave=["t0", "t1"]), inst)
    raw = paired_change(scores, "t0", "t1", by="authority").set_index(["authority", "dimension"])
    shown = out[~out["suppressed"]].set_index(["authority", "dimension"])
    np.testing.assert_allclose(shown["mean_diff"], raw.loc[shown.index, "mean_diff"])
    from toolkit.privacy import audit, recording

    with recording(k=k) as rec:
        for by in ("authority", "ministry", None):
            change_summary(demo, "competence_reflection", "t0", "t1", by=by)
            score_summary(demo, "competence_reflection", by=by)
    assert audit(rec) == []
    # a change with k pairs or more is hidden only with the auditor's reason
    assert set(out.loc[out["suppressed"] & (out["n_pairs"] >= k), "reason"]) <= {"one_wave_derivable"}


def test_change_summary_same_wave_is_an_error(demo):
    with pytest.raises(DataError, match="same wave"):
        change_summary(demo, "competence_reflection", "t0", "t0")
