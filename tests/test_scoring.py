"""Scoring: missing codes, reverse keying, min_valid, gaps, needs, readiness.

The vectorised functions are compared with a plain-Python implementation written
from the rules in DESIGN §3 (one loop per answer), on the demo cohort.
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
import pandas as pd
import pytest

from toolkit.exceptions import DataError
from toolkit.instruments import resolve_instrument
from toolkit.scoring import (
    dimension_scores,
    gaps,
    item_matrix,
    needs_ranking,
    overall_readiness,
    readiness,
    score_items,
)
from toolkit.store import Store

CR = resolve_instrument("competence_reflection")
RC = resolve_instrument("reality_check")


def _resp(answers: dict[str, float], participant: str = "p", authority: str = "A", wave: str = "t0", inst=CR) -> pd.DataFrame:
    return pd.DataFrame({
        "authority": authority, "ministry": "M", "participant": participant, "wave": wave, "instrument": inst.id,
        "dimension": [inst.dimension_of(i).id for i in answers], "item": list(answers), "stakeholder": None,
        "value": [float(v) for v in answers.values()],
    })


# --------------------------------------------------------------------------- item scores
@pytest.mark.parametrize("item,raw,expected", [
    ("da1", 4, 4.0),       # normal item
    ("da3", 4, 2.0),       # reverse keyed: (1 + 5) - 4
    ("da3", 1, 5.0),
    ("da1", 0, math.nan),  # "kann ich nicht beurteilen"
    ("da3", 0, math.nan),  # missing code is not reversed into 6
    ("da_imp", 5, 5.0),
])
def test_score_items_missing_and_reverse(item, raw, expected):
    out = score_items(_resp({item: raw}), CR)["value"].iloc[0]
    assert (math.isnan(out) and math.isnan(expected)) or out == expected


def test_score_items_keeps_columns_and_does_not_mutate():
    resp = _resp({"da1": 4, "da3": 4, "dt1": 0})
    before = resp.copy()
    out = score_items(resp, CR)
    pd.testing.assert_frame_equal(resp, before)
    assert list(out.columns) == list(resp.columns) and len(out) == len(resp)


def test_checklist_dont_know_is_missing():
    out = score_items(_resp({"go1": 9, "go2": 2}, inst=RC), RC)["value"].tolist()
    assert math.isnan(out[0]) and out[1] == 2.0


# --------------------------------------------------------------------------- dimension scores
@pytest.mark.parametrize("answers,score,n_valid", [
    ({"da1": 4, "da2": 5, "da3": 1}, (4 + 5 + 5) / 3, 3),
    ({"da1": 4, "da2": 0, "da3": 2}, (4 + 4) / 2, 2),   # one "cannot judge": still min_valid 2
    ({"da1": 4, "da2": 0, "da3": 0}, math.nan, 1),      # below min_valid
    ({"da1": 4}, math.nan, 1),                          # two skipped
])
def test_dimension_score_min_valid(answers, score, n_valid):
    row = dimension_scores(_resp(answers), CR).set_index("dimension").loc["data"]
    assert row["n_valid"] == n_valid and row["n_items"] == 3
    assert (math.isnan(score) and math.isnan(row["score"])) or row["score"] == pytest.approx(score)


def test_dimension_scores_columns_one_row_per_observation_and_dimension():
    resp = pd.concat([_resp({"da1": 4, "dt1": 3}, "p"), _resp({"da1": 2}, "q"), _resp({"da1": 5}, "p", wave="t1")])
    out = dimension_scores(resp, CR)
    assert list(out.columns) == ["authority", "ministry", "participant", "wave", "instrument", "dimension", "score", "n_valid", "n_items"]
    n_dims = sum(1 for d in CR.dimensions if d.scored_items)
    assert len(out) == 3 * n_dims
    assert not out.duplicated(["authority", "participant", "wave", "dimension"]).any()


def test_same_code_in_two_authorities_is_two_people():
    resp = pd.concat([_resp({"da1": 1, "da2": 1}, "p", "A"), _resp({"da1": 5, "da2": 5}, "p", "B")])
    out = dimension_scores(resp, CR).query("dimension == 'data'")
    assert sorted(out["score"]) == [1.0, 5.0]


def test_rows_of_other_instruments_are_ignored():
    resp = pd.concat([_resp({"da1": 4, "da2": 4}), _resp({"go1": 2}, inst=RC).assign(item="da1")])
    out = dimension_scores(resp, CR).query("dimension == 'data'")
    assert out["score"].tolist() == [4.0]


def test_missing_columns_is_a_data_error():
    with pytest.raises(DataError, match="participant"):
        dimension_scores(pd.DataFrame({"item": ["da1"], "value": [1.0]}), CR)


def _naive_scores(resp: pd.DataFrame) -> dict:
    """Plain-Python dimension scores from the rules (independent of the vectorised code)."""
    vals: dict = defaultdict(list)
    for rec in resp.to_dict("records"):
        item = CR.item(rec["item"])
        if item.type != "likert":
            continue
        scale = CR.scales[item.scale]
        v = rec["value"]
        if v in scale.missing or not (scale.min <= v <= scale.max):
            continue
        if item.reverse:
            v = scale.min + scale.max - v
        vals[(rec["authority"], rec["participant"], str(rec["wave"]), CR.dimension_of(item.id).id)].append(v)
    out = {}
    for key, vs in vals.items():
        dim = CR.dimension(key[3])
        out[key] = sum(vs) / len(vs) if len(vs) >= dim.required_valid else math.nan
    return out


def test_dimension_scores_match_naive_implementation_on_demo(demo_db):
    with Store(demo_db) as store:
        resp = store.responses("competence_reflection", authority=["BVA", "JKI", "KSK"])
    fast = dimension_scores(resp, CR)
    naive = _naive_scores(resp)
    fast = fast[fast["n_valid"] > 0]
    assert len(fast) == len(naive)
    for rec in fast.itertuples():
        want = naive[(rec.authority, rec.participant, str(rec.wave), rec.dimension)]
        assert (math.isnan(want) and math.isnan(rec.score)) or rec.score == pytest.approx(want, abs=1e-12)


def test_item_matrix_unknown_item():
    with pytest.raises(DataError, match="nope"):
        item_matrix(_resp({"da1": 1}), CR, ["nope"])


# --------------------------------------------------------------------------- gaps and needs
def test_gaps_and_needs():
    resp = pd.concat([
        _resp({"da_ist": 2, "da_soll": 4, "da_imp": 5, "dt_ist": 4, "dt_soll": 3, "dt_imp": 5, "ds_ist": 0, "ds_soll": 4, "ds_imp": 3}),
    ])
    raw = gaps(resp, CR)
    g = raw.set_index("dimension")
    assert list(raw.columns) == ["authority", "ministry", "participant", "wave", "dimension", "ist", "soll", "gap", "importance", "needs"]
    assert g.loc["data", ["gap", "needs"]].tolist() == [2.0, 10.0]
    assert g.loc["digital_tools", ["gap", "needs"]].tolist() == [-1.0, 0.0]  # over-qualified: no need
    assert np.isnan(g.loc["data_protection_security", "gap"]) and np.isnan(g.loc["data_protection_security", "needs"])
    assert "communication" not in g.index  # nothing answered there


def test_needs_ranking_means_ranks_and_n():
    g = pd.DataFrame({
        "authority": ["A"] * 6 + ["B"] * 2, "participant": ["p", "q", "r"] * 2 + ["s", "s"],
        "dimension": ["x"] * 3 + ["y"] * 3 + ["x", "y"],
        "ist": [2.0, 3, 3, 3, 3, 3, 1, 1], "soll": [4.0, 4, 3, 4, 4, 4, 2, 1], "gap": [2.0, 1, 0, 1, 1, 1, 1, 0],
        "importance": [5.0, 4, 3, 5, 5, 5, 2, 2], "needs": [10.0, 4, 0, 5, 5, np.nan, 2, 0],
    })
    r = needs_ranking(g)
    assert list(r.columns) == ["authority", "dimension", "n", "ist", "soll", "gap", "importance", "needs", "rank"]
    a = r[r.authority == "A"].set_index("dimension")
    assert a.loc["x", "needs"] == pytest.approx(14 / 3) and a.loc["y", "needs"] == pytest.approx(5.0)
    assert a.loc["y", "rank"] == 1 and a.loc["x", "rank"] == 2
    assert a.loc["y", "n"] == 2 and a.loc["x", "n"] == 3
    whole = needs_ranking(g, by=None)
    assert list(whole.columns)[0] == "dimension" and whole["rank"].min() == 1


# --------------------------------------------------------------------------- readiness
def test_readiness_share_of_maximum():
    resp = pd.concat([
        _resp({"go1": 2, "go2": 1, "go3": 0, "go4": 9, "go5": 2}, "p", inst=RC),
        _resp({"go1": 9, "go2": 9, "go3": 9, "go4": 2, "go5": 9}, "q", inst=RC),
    ])
    r = readiness(resp, RC).query("dimension == 'goals'").set_index("participant")
    assert r.loc["p", "score"] == pytest.approx((1 + 0.5 + 0 + 1) / 4) and r.loc["p", "n_valid"] == 4
    assert np.isnan(r.loc["q", "score"])  # one valid answer < min_valid 2
    assert ((r["score"].dropna() >= 0) & (r["score"].dropna() <= 1)).all()


def test_overall_readiness_weights_areas_equally():
    r = pd.DataFrame({"authority": ["A"] * 4 + ["B"] * 2, "participant": ["p", "p", "q", "q", "s", "s"], "wave": "t1",
                      "dimension": ["x", "y"] * 3, "score": [1.0, 0.5, 0.0, np.nan, 0.2, 0.4]})
    o = overall_readiness(r).set_index("authority")
    assert o.loc["A", "n"] == 2 and o.loc["A", "score"] == pytest.approx((0.75 + 0.0) / 2)
    assert o.loc["B", "score"] == pytest.approx(0.3)
    assert overall_readiness(r, by=None)["n"].iloc[0] == 3


def test_readiness_on_demo_is_between_0_and_1(demo_db):
    with Store(demo_db) as store:
        r = readiness(store.responses("reality_check"), RC)
    assert r["score"].dropna().between(0, 1).all()
    assert r["score"].notna().mean() > 0.9
