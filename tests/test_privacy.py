"""Privacy: minimum group size, group summaries, free text."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from toolkit.exceptions import DataError, PrivacyError
from toolkit.privacy import (
    SUPPRESSED_NOTE,
    estimate_columns,
    group_summary,
    resolve_k,
    suppress,
    visible_texts,
)


# --------------------------------------------------------------------------- resolve_k
def test_resolve_k_uses_cohort_setting(store):
    assert resolve_k(None) == 5
    assert resolve_k(store) == 5
    store.set_min_group_size(7)
    assert resolve_k(store) == 7
    assert resolve_k(store, 10) == 10  # stricter is fine


@pytest.mark.parametrize("bad", [0, -1, 2.5, "five"])
def test_resolve_k_rejects_invalid(bad):
    with pytest.raises(PrivacyError):
        resolve_k(None, bad)


def test_resolve_k_refuses_to_go_below_the_cohort(store):
    with pytest.raises(PrivacyError, match="below the cohort's setting 5"):
        resolve_k(store, 3)


def test_note_in_both_languages():
    assert SUPPRESSED_NOTE["de"] and SUPPRESSED_NOTE["en"] and SUPPRESSED_NOTE["de"] != SUPPRESSED_NOTE["en"]


# --------------------------------------------------------------------------- suppress
def test_suppress_hides_estimates_keeps_n_and_keys():
    df = pd.DataFrame({"authority": ["A", "B", "C"], "wave": ["t0"] * 3, "n": [4, 5, 12], "n_items": [3, 3, 3],
                       "mean": [1.0, 2.0, 3.0], "rank": [1, 2, 3]})
    out = suppress(df, k=5)
    assert out["suppressed"].tolist() == [True, False, False]
    assert np.isnan(out.loc[0, "mean"]) and np.isnan(out.loc[0, "rank"])
    assert out.loc[0, "n"] == 4 and out.loc[0, "n_items"] == 3 and out.loc[0, "authority"] == "A"
    assert out.loc[1:, "mean"].tolist() == [2.0, 3.0]
    assert df["mean"].tolist() == [1.0, 2.0, 3.0]  # input unchanged


def test_suppress_missing_n_counts_as_too_small_and_stays_suppressed():
    df = pd.DataFrame({"n": [np.nan, 9], "mean": [1.0, 2.0], "suppressed": [False, True]})
    out = suppress(df, k=5)
    assert out["suppressed"].tolist() == [True, True] and out["mean"].isna().all()


def test_suppress_explicit_estimates_and_errors():
    df = pd.DataFrame({"n_pairs": [3, 8], "mean_diff": [0.1, 0.2], "other": [1.0, 1.0]})
    out = suppress(df, k=5, n="n_pairs", estimates=["mean_diff"])
    assert out["other"].tolist() == [1.0, 1.0] and np.isnan(out.loc[0, "mean_diff"])
    with pytest.raises(DataError, match="count column"):
        suppress(df, k=5)
    with pytest.raises(PrivacyError):
        suppress(df, k=0, n="n_pairs")


def test_estimate_columns_skip_counts_bools_and_text():
    df = pd.DataFrame({"g": ["a"], "n": [1], "n_x": [2], "flag": [True], "mean": [1.0], "year": [2024]})
    assert estimate_columns(df, keys=["year"]) == ["mean"]


# --------------------------------------------------------------------------- group summary
def test_group_summary_values_against_numpy_and_scipy(rng):
    vals = rng.normal(3, 1, 40)
    df = pd.DataFrame({"g": ["a"] * 30 + ["b"] * 10, "participant": [f"p{i}" for i in range(40)], "score": vals})
    df.loc[3, "score"] = np.nan
    out = group_summary(df, "g", k=5).set_index("g")
    a = df.loc[df.g == "a", "score"].dropna().to_numpy()
    assert out.loc["a", "n"] == 29
    assert out.loc["a", "mean"] == pytest.approx(a.mean())
    assert out.loc["a", "sd"] == pytest.approx(a.std(ddof=1))
    assert out.loc["a", "median"] == pytest.approx(np.median(a))
    assert out.loc["a", "q1"] == pytest.approx(np.quantile(a, 0.25))
    lo, hi = stats.t.interval(0.95, len(a) - 1, loc=a.mean(), scale=stats.sem(a))
    assert (out.loc["a", "ci_low"], out.loc["a", "ci_high"]) == (pytest.approx(lo), pytest.approx(hi))
    assert list(out.reset_index().columns) == ["g", "n", "mean", "sd", "median", "q1", "q3", "ci_low", "ci_high", "suppressed"]


def test_group_summary_counts_distinct_participants_and_suppresses():
    df = pd.DataFrame({"authority": "A", "g": "a", "participant": ["p", "p", "q", "r", "s"], "score": [1.0, 2, 3, 4, 5]})
    out = group_summary(df, "g", k=5)
    assert out["n"].iloc[0] == 4 and out["suppressed"].iloc[0] and np.isnan(out["mean"].iloc[0])
    whole = group_summary(df.assign(participant=list("pqrst")), None, k=5)
    assert whole["n"].iloc[0] == 5 and whole["mean"].iloc[0] == 3.0


# --------------------------------------------------------------------------- free text
def test_visible_texts_only_for_groups_at_threshold():
    t = pd.DataFrame({"authority": ["A"] * 4 + ["B"] * 5, "participant": list("pqrstuvwx"), "item": "rf_next",
                      "text": list("zyxwvutsr")})
    out = visible_texts(t, "authority", k=5)
    assert set(out["authority"]) == {"B"} and out["text"].tolist() == sorted(out["text"])
    resp = pd.DataFrame({"authority": ["A"] * 6, "participant": list("pqrsta")})
    out = visible_texts(t, "authority", k=5, respondents=resp)
    assert set(out["authority"]) == {"A"}  # A: 6 respondents (shown); B: none counted (hidden)
    assert visible_texts(t, None, k=10).empty and len(visible_texts(t, None, k=9)) == 9


# --------------------------------------------------------------------------- release API and auditor (issue 12)
def test_release_answers_with_the_true_reason_and_records_only_what_is_shown():
    from toolkit.privacy import Diff, Level, recording, release

    with recording(k=5) as rec:
        few = release(Level("i", "d", "t0"), ["a", "b"], 1.0, output="o", cell="c")
        pairs = release(Diff("i", "d", "t0", "t1"), list("abcd"), 0.1, output="o", cell="c")
        ok = release(Level("i", "d", "t0"), list("abcdef"), 2.0, output="o", cell="c")
        forbidden = release(Level("i", "d", "t1"), list("abcdef"), 2.0, output="o", cell="c", forbid="derivable")
    assert (few.shown, few.reason_text("de"), few.reason_text("en")) == (False, "weniger als 5 Antworten", "fewer than 5 responses")
    assert pairs.reason_text("de") == "weniger als 5 Paare"
    assert ok.shown and ok.value == 2.0 and ok.n == 6
    assert forbidden.reason_text("de") == "verborgen, weil sonst eine kleinere Gruppe berechenbar wäre"
    assert len(rec) == 1


def test_audit_closes_differences_with_levels_and_treats_own_answers_as_known():
    from toolkit.privacy import Diff, Level, audit, recording, release

    six, seven = [f"p{i}" for i in range(6)], [f"p{i}" for i in range(7)]
    with recording(k=5) as rec:  # a difference over the six plus their t1 level gives their t0 level, one less than shown t0
        release(Level("i", "d", "t0"), seven, 1.0, output="report", cell="t0")
        release(Level("i", "d", "t1"), six, 1.0, output="report", cell="t1")
        release(Diff("i", "d", "t0", "t1"), six, 0.5, output="cli", cell="change")
    (v,) = audit(rec)
    assert v.rule == "nested" and v.n == 1 and any("derived from cli [change]" in c[3] for c in v.cells)
    with recording(k=5) as rec:  # own value (known, a set of one) next to a group of 5 including oneself: 4 others follow
        release(Level("i", "d", "t0"), ["me"], 3.0, output="form", cell="own", known=True)
        release(Level("i", "d", "t0"), ["me", "a", "b", "c", "d"], 2.0, output="form", cell="group")
    assert [x.rule for x in audit(rec)] == ["nested"]
    with recording(k=5) as rec:
        release(Level("i", "d", "t0"), ["me"], 3.0, output="form", cell="own", known=True)
        release(Level("i", "d", "t0"), ["me", *"abcde"], 2.0, output="form", cell="group")
    assert audit(rec) == []


def test_live_release_in_steps_of_k_and_k_others():
    from toolkit.privacy import LiveRelease

    live = LiveRelease(k=5)
    first = live.step("x", frozenset("abcde"), 1.0)
    assert first.shown and first.value == 1.0
    stale = live.step("x", frozenset("abcdef"), 2.0)
    assert stale.value == 1.0 and stale.reason_text("de") == "wird erst nach 5 weiteren Antworten aktualisiert"
    assert not live.for_participant("x", "a").shown  # only 4 others
    assert live.step("x", frozenset("abcdefghij"), 3.0).value == 3.0
    assert live.for_participant("x", "a").shown
