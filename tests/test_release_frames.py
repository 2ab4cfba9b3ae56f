"""The frame releases built in one step (toolkit.privacy: release_frame, release_levels, release_changes) give the
same frames and record the same releases, in the same order, as the copy-and-set versions they replace
(tests/_release_reference.py), on the demo cohort's frames: authorities above and below k, ministries, the cohort,
cached plans, paired change with hidden means."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from _release_reference import release_changes_ref, release_frame_ref, release_levels_ref


def _entries(rec):
    return [(e.output, e.cell, e.quantity, e.n, e.known, tuple(rec.names(e.mask))) for e in rec.entries]


def _same(fast, ref):
    """The same frame (values, dtypes, columns in order, index) and the same releases in the same order."""
    from toolkit.privacy import recording

    with recording() as a:
        got = fast()
    with recording() as b:
        want = ref()
    pd.testing.assert_frame_equal(got, want, check_exact=True)
    assert list(got.dtypes) == list(want.dtypes)
    assert _entries(a) == _entries(b)
    return got, a


@pytest.fixture(scope="module")
def data(demo_db):
    from toolkit.reports.context import cohort_data

    return cohort_data(demo_db)


def test_release_levels_equals_the_copy_and_set_version(data):
    from toolkit.privacy import levels, recording, release_levels

    s = data.scores()
    s = s.assign(wave=s["wave"].astype(str), dimension=s["dimension"].astype(str))
    k = int(data.cohort["min_group_size"])
    seen = set()
    for by in ("authority", "ministry", None):
        with recording():
            plan = levels(s, by, k=k, instrument="ci", output="plan")  # a cached plan, released again per report
        groups = [None] if by is None else list(plan[by].unique())
        for g in groups:
            frame = plan if by is None else plan[plan[by] == g]
            out, rec = _same(lambda: release_levels(frame, by=by, k=k, instrument="ci", output="report:x"),
                             lambda: release_levels_ref(frame, by=by, k=k, instrument="ci", output="report:x"))
            seen |= set(out["reason"].dropna()) | ({"shown"} if (~out["suppressed"]).any() else set())
    assert {"shown", "too_few"} <= seen  # shown and hidden rows were compared


def test_levels_with_a_forbid_column_equals_the_copy_and_set_version():
    """levels() releases its frame with a ``forbid`` column (groups whose authorities are all below k)."""
    from toolkit.privacy import release_levels

    frame = pd.DataFrame({"wave": "t0", "dimension": ["a", "b", "c"], "ministry": "M", "n": [6, 0, 7], "mean": [1.0, np.nan, 2.0],
                          "sd": 0.5, "median": 1.0, "q1": 1.0, "q3": 2.0, "ci_low": 0.5, "ci_high": 2.5, "n_excluded": [0, 2, 1],
                          "forbid": [None, "too_few", None], "reason": [None, None, "kept"],
                          "who": [frozenset(f"A|p{i}" for i in range(6)), frozenset(), frozenset(f"A|q{i}" for i in range(7))]},
                         index=[5, 9, 2])
    out, _ = _same(lambda: release_levels(frame, by="ministry", k=5, instrument="ci", output="r"),
                   lambda: release_levels_ref(frame, by="ministry", k=5, instrument="ci", output="r"))
    assert list(out["suppressed"]) == [False, True, False] and out["reason"].iloc[1] == "too_few"


def test_release_changes_equals_the_copy_and_set_version(data):
    from toolkit.privacy import release_changes

    k = int(data.cohort["min_group_size"])
    waves = data.wave_labels()
    kinds = set()
    for a, b in [(waves[0], w) for w in waves[1:]]:
        plan = data.change_decisions(a, b, k)
        for authority in plan["authority"].unique():
            mine = plan[plan["authority"] == authority].drop(columns=["authority"])
            out, _ = _same(lambda: release_changes(mine, instrument="ci", a=a, b=b, k=k, output="report:x"),
                           lambda: release_changes_ref(mine, instrument="ci", a=a, b=b, k=k, output="report:x"))
            kinds |= {"shown" if not r else r for r in out["reason"]} | {f"means:{m}" for m in out["means_reason"].dropna()}
    assert "shown" in kinds and len(kinds) >= 3  # shown changes, hidden ones and hidden means were compared


def test_release_frame_equals_the_copy_and_set_version():
    from toolkit.privacy import Level, release_frame

    who = [frozenset(f"A|p{i}" for i in range(n)) for n in (2, 6, 7, 9)]
    df = pd.DataFrame({"dimension": pd.array(["x", "y", "z", "w"], dtype="str"), "n": [2, 6, 7, 9], "mean": [1.0, 2.0, 3.0, 4.0],
                       "rank": [1, 2, 3, 4], "suppressed": [False, False, True, None], "reason": [None, None, "derivable", None],
                       "f": [None, "pair_means", None, ""], "who": who}, index=[7, 7, 3, 1])  # a repeated label too
    for kw in ({}, {"forbid": "f"}, {"estimates": ["mean"]}, {"cell": lambda r: f"c/{r['dimension']}"}):
        _same(lambda: release_frame(df, quantity=lambda r: Level("i", r["dimension"], "t0"), people="who", k=5, output="o", **kw),
              lambda: release_frame_ref(df, quantity=lambda r: Level("i", r["dimension"], "t0"), people="who", k=5, output="o", **kw))
    bare = df.drop(columns=["suppressed", "reason"])
    out, rec = _same(lambda: release_frame(bare, quantity=lambda r: Level("i", r["dimension"], "t0"), people=lambda r: r["who"], k=5, output="o"),
                     lambda: release_frame_ref(bare, quantity=lambda r: Level("i", r["dimension"], "t0"), people=lambda r: r["who"], k=5, output="o"))
    assert list(out["suppressed"]) == [True, False, False, False] and len(rec) == 3


def test_likert_rows_read_each_items_shares(data):
    """The bars of an item come from its own rows of the shares frame, whatever their order."""
    from toolkit.plots import likert_shares
    from toolkit.reports.sec_competence import likert_rows

    comp = data.competence
    shares = likert_shares(data.rows_of(data.rsp(comp), data.authorities["authority"].iloc[0]), comp)
    rows = likert_rows(shares, comp, "de")
    shuffled = likert_rows(shares.sample(frac=1.0, random_state=3), comp, "de")
    assert rows == shuffled
    first = next(it for d in rows["dimensions"] for it in d["items"] if it["segments"])
    item = next(i for i in comp.items if i.text.get("de") == first["text"])
    sh = shares[shares["item"] == item.id]
    assert first["n"] == int(sh["n"].iloc[0])
    assert sum(s["width"] for s in first["segments"]) == pytest.approx(50 * sh["share"].fillna(0).sum(), abs=1e-2)


def test_needs_ranking_sliced_from_every_authority_equals_each_authoritys_own(demo_db):
    """The needs table's ranking, sliced from the ranking of every authority and wave (batch cache), is
    needs_ranking over the authority's rows of that wave alone: rows, order, values and dtypes."""
    from toolkit.reports import sections as S
    from toolkit.reports.sec_competence import _needs_ranking_of
    from toolkit.scoring import needs_ranking

    data = None
    compared = 0
    for authority in S.authority_context(demo_db, "BAMF").data.authorities["authority"]:
        ctx = S.authority_context(demo_db, authority)
        data = ctx.data
        g_all = ctx.rows(data.gaps())
        for wave in data.wave_labels():
            g = g_all[g_all["wave"] == wave]
            if g.empty:
                continue
            pd.testing.assert_frame_equal(_needs_ranking_of(ctx, g, wave), needs_ranking(g, by=("authority",)), check_exact=True)
            compared += 1
    assert compared >= 2 * len(data.authorities)
