"""The indexed disclosure rules decide exactly as the all-pairs ones did (tests/_privacy_reference.py).

:func:`toolkit.privacy.audit`, :class:`toolkit.privacy.Planner` and
:func:`toolkit.privacy.change_plan_all` find the sets that contain or lie inside a set through
an index and keep the maximal sets inside each set up to date, instead of comparing all pairs
(issue 16: the planner grew 4-5x per doubling of units). The privacy promise must not move:
random families of sets (nested, disjoint, overlapping, small, empty, spread over many 64-bit
words), random cohorts and the demo cohort give the same decisions and the same violations,
in the same order, as the reference copies of the old code.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _privacy_reference import PlannerRef, audit_ref, change_plan_all_ref
from toolkit.privacy import Planner, audit, change_levels, change_plan_all, levels, recording
from toolkit.privacy.plan import _PLAN_MEMO
from toolkit.privacy.release import Diff, Entry, Level

WAVES = ["t0", "t1", "t2"]
QUANTITIES = [Level("i", "d", w) for w in WAVES] + [Diff("i", "d", a, b) for i, b in enumerate(WAVES) for a in WAVES[:i]] + [Level("i", "e", "t0")]


@st.composite
def families(draw, max_sets: int = 14) -> list[int]:
    """Masks over up to 40 people: blocks (nested or disjoint), unions, parts, random and small sets; spread over words."""
    size = draw(st.integers(4, 40))
    stride = draw(st.sampled_from([1, 1, 3, 64, 129]))
    offset = draw(st.sampled_from([0, 5, 200]))
    out: list[int] = []
    for _ in range(draw(st.integers(1, max_sets))):
        kind = draw(st.sampled_from(["block", "block", "union", "part", "random", "small", "split", "split"]))
        if kind == "split" and out:  # parts of a set that leave 0-4 of its people out (remainders)
            a = draw(st.sampled_from(out))
            people = [i for i in range(size) if a >> i & 1]
            left = draw(st.integers(0, min(4, len(people))))
            cut = draw(st.integers(0, len(people) - left))
            for part in (people[:cut], people[cut:len(people) - left]):
                if part:
                    out.append(sum(1 << i for i in part))
            continue
        if kind == "block" or kind == "split":
            lo = draw(st.integers(0, size - 1))
            hi = draw(st.integers(lo + 1, size))
            idx = list(range(lo, hi))
        elif kind == "union" and len(out) >= 2:
            a, b = draw(st.sampled_from(out)), draw(st.sampled_from(out))
            idx = [i for i in range(size) if (a | b) >> i & 1]
        elif kind == "part" and out:
            a = draw(st.sampled_from(out))
            idx = [i for i in range(size) if a >> i & 1 and draw(st.booleans())]
        elif kind == "small":
            idx = draw(st.lists(st.integers(0, size - 1), min_size=0, max_size=3))
        else:
            idx = draw(st.lists(st.integers(0, size - 1), min_size=1, max_size=size))
        out.append(sum(1 << i for i in set(idx)))
    # spread: bit i -> offset + i * stride (masks spanning many 64-bit words, and sparse ones)
    return [sum(1 << (offset + i * stride) for i in range(size) if m >> i & 1) for m in out]


def _ops(draw, masks: list[int]) -> list[tuple[str, list[tuple[object, int]]]]:
    """A base accepted unchecked (as the plan's levels), then additions, decisions and questions."""
    base = draw(st.lists(st.sampled_from(masks), max_size=len(masks)))
    ops = [("add", [(draw(st.sampled_from(QUANTITIES[:2] * 4 + QUANTITIES)), m) for m in base])]
    for _ in range(draw(st.integers(1, 30))):
        group = [(draw(st.sampled_from(QUANTITIES[:1] * 6 + QUANTITIES)), draw(st.sampled_from(masks)))
                 for _ in range(draw(st.integers(1, 3)))]
        ops.append((draw(st.sampled_from(["add", "decide", "decide", "ask"])), group))
    return ops


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), st.sampled_from([1, 2, 3, 5]))
def test_planner_decides_as_the_all_pairs_planner(data, k):
    masks = data.draw(families())
    ops = _ops(data.draw, masks)
    new, old = Planner(k), PlannerRef(k)
    for what, group in ops:
        if what == "add":
            new.add(group)
            old.add(group)
            continue
        a, b = new.allows(group), old.allows(group)
        assert a == b, (what, group, old.sets)
        if what == "decide" and a:
            new.add(group)
            old.add(group)
    assert new.sets == old.sets and new.diffs == old.diffs


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), st.sampled_from([1, 2, 3, 5]))
def test_audit_finds_the_same_violations_in_the_same_order(data, k):
    masks = data.draw(families(max_sets=16))
    entries = []
    for i in range(data.draw(st.integers(1, 30))):
        m = data.draw(st.sampled_from(masks))
        q = data.draw(st.sampled_from(QUANTITIES[:1] * 6 + QUANTITIES))
        entries.append(Entry(f"out{i % 3}", f"cell{i}", q, m, m.bit_count(), data.draw(st.booleans()) and data.draw(st.booleans())))
    assert audit(entries, k=k) == audit_ref(entries, k=k)


@st.composite
def cohorts(draw) -> tuple[pd.DataFrame, int]:
    """Scores of a small random cohort: authorities in ministries, people dropping in and out of waves."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    k = draw(st.sampled_from([2, 3, 5]))
    n_auth = draw(st.integers(1, 7))
    n_min = draw(st.integers(1, 3))
    waves = WAVES[: draw(st.integers(2, 3))]
    rows = []
    for a in range(n_auth):
        people = int(rng.integers(0, 13))
        stay = rng.uniform(0.5, 1.0)
        for p in range(people):
            here = rng.random(len(waves)) < stay
            for w, h in zip(waves, here):
                for d in ("x", "y")[: draw(st.integers(1, 2))]:
                    if h and rng.random() < 0.95:
                        rows.append({"authority": f"A{a}", "ministry": f"M{a % n_min}", "participant": f"p{p}", "wave": w,
                                     "dimension": d, "score": float(rng.integers(1, 6))})
    cols = ["authority", "ministry", "participant", "wave", "dimension", "score"]
    return pd.DataFrame(rows, columns=cols), k


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cohorts())
def test_change_plan_all_decides_as_before_on_random_cohorts(cohort):
    scores, k = cohort
    if scores.empty:
        return
    _PLAN_MEMO.clear()
    assert change_plan_all(scores, k=k, instrument="ci", waves=WAVES) == change_plan_all_ref(scores, k=k, instrument="ci", waves=WAVES)


def test_planner_example_cases():
    """Hand-made cases of each rule: nested by fewer than k, a remainder, overlapping (no remainder), a pending superset."""
    L0, L1, D = Level("i", "d", "t0"), Level("i", "d", "t1"), Diff("i", "d", "t0", "t1")
    a, b = 0b11111 << 0, 0b11111 << 5  # two disjoint authorities of 5
    for k in (2, 5):
        for new_cls in (Planner, PlannerRef):
            p = new_cls(k)
            p.add([(L0, a), (L0, b), (L0, a | b | 1 << 10)])  # a ministry with one more person (accepted unchecked)
            assert p.allows([(L0, a | b | 0b111 << 10)]) is (k <= 2)  # nested in the ministry, 2 more people
            assert p.allows([(L1, a | b)]) is True
            assert p.allows([(L1, a), (L1, b), (L1, a | b | 1 << 11)]) is (k == 1)  # the remainder of 1 among new sets
            assert p.allows([(D, a), (L1, a | 1 << 12)]) is (k == 1)  # the difference gives t1 over a, 1 from the other
    # a set with a remainder of 1 accepted unchecked: a new set inside one of its parts still meets that remainder
    for new_cls in (Planner, PlannerRef):
        p = new_cls(2)
        p.add([(L0, a | b | 1 << 10), (L0, a), (L0, b)])
        assert p.allows([(L0, 0b111)]) is False  # pending, inside a: the maximal sets inside stay a and b
        p.add([(L0, 0b111)])  # accepted inside a: a and b stay the maximal sets
        assert p.allows([(L0, 0b111 << 5)]) is False
        assert p.allows([(L1, 0b1111), (L1, 0b1111 << 4)]) is True  # elsewhere nothing changes
        q = new_cls(2)
        q.add([(L0, a | b | 1 << 10), (L0, 0b111), (L0, b)])  # remainder 3 around 0b111 and b
        assert q.allows([(L0, a)]) is False  # a replaces 0b111 among the maximal sets: the remainder becomes 1
        for extra, expect in ((0, True), (b, False)):  # a accepted after 0b111: a replaces it among the maximal sets
            r = new_cls(2)
            r.add([(L0, a | extra | 1 << 10), (L0, 0b111), (L0, extra)])
            r.add([(L0, a)])
            assert r.allows([(L0, 0b11100)]) is expect  # inside a: with b the remainder 1 of the outer set shows
        t = new_cls(2)
        t.add([(L0, 0b11), (L0, a), (L0, b)])
        assert t.allows([(L0, a | b | 1 << 10)]) is False  # a new outer set: 0b11 lies in a, the maximal sets are a and b
    # the two implementations agree on each of these
    for k in (1, 2, 3, 5):
        new, old = Planner(k), PlannerRef(k)
        for pl in (new, old):
            pl.add([(L0, a), (L0, b), (L0, a | b | 1 << 10)])
        for group in ([(L0, a | b | 0b111 << 10)], [(L1, a | b)], [(D, a), (L1, a | 1 << 12)], [(L0, (a | b) >> 2)],
                      [(L0, a >> 1), (L0, a >> 2)], [(L0, a | b | 0b1111111 << 10), (L0, a | 0b1111111 << 10)]):
            assert new.allows(group) == old.allows(group), (k, group)


@pytest.fixture(scope="module")
def demo_scores(demo_db: Path):
    from toolkit.reports.sections import authority_context

    ctx = authority_context(demo_db, "BAMF")
    return ctx.data.scores(), ctx.data.wave_labels(), ctx.data.competence.id, ctx.k


def test_demo_cohort_change_decisions_equal(demo_scores):
    scores, waves, inst, k = demo_scores
    _PLAN_MEMO.clear()
    new = change_plan_all(scores, k=k, instrument=inst, waves=waves)
    assert new == change_plan_all_ref(scores, k=k, instrument=inst, waves=waves)
    assert any(r[1] == "one_wave_derivable" for r in new.values()) and any(r[2] == "pair_means" for r in new.values())
    for k2 in (3, 8):
        assert change_plan_all(scores, k=k2, instrument=inst, waves=waves) == change_plan_all_ref(scores, k=k2, instrument=inst, waves=waves)


def test_demo_record_audits_the_same(demo_scores):
    """A realistic record (levels and changes by authority, ministry, cohort) plus planted small pair means."""
    scores, waves, inst, k = demo_scores
    with recording(k=k) as rec:
        for w in waves:
            s = scores[scores["wave"].astype(str) == w]
            for by in ("authority", "ministry", None):
                levels(s.assign(wave=w, dimension=s["dimension"].astype(str)), by, k=k, instrument=inst, output=f"lv:{by}")
        for j, b in enumerate(waves):
            for a in waves[:j]:
                for by in ("authority", "ministry", None):
                    change_levels(scores, a, b, by=by, k=k, instrument=inst, output=f"ch:{by}", waves=waves)
    assert audit(rec, k=k) == audit_ref(rec, k=k) == []
    planted = list(rec.entries)
    for e in rec.entries[:400]:
        if isinstance(e.quantity, Diff):  # the pairs' means at both waves: closes levels over pair sets
            planted.append(Entry("planted", e.cell, e.quantity.level(e.quantity.wave_a), e.mask, e.n))
        elif e.n > 2:
            m = int(e.mask)
            drop = m & (m - 1)  # one person fewer (an integer bit mask: the auditor takes those too)
            planted.append(Entry("planted", e.cell, e.quantity, drop, drop.bit_count()))
    found = audit(planted, k=k)
    assert found == audit_ref(planted, k=k)
    assert {v.rule for v in found} >= {"nested"}


def test_demo_cohort_change_decisions_in_parallel_processes_equal(demo_scores):
    """Deciding the dimensions in other processes (``pmap``, as a batch does on its workers) gives the same
    decisions, in the same order, as the serial run and the reference."""
    import concurrent.futures as cf
    import multiprocessing as mp

    scores, waves, inst, k = demo_scores
    _PLAN_MEMO.clear()
    serial = change_plan_all(scores, k=k, instrument=inst, waves=waves)
    _PLAN_MEMO.clear()
    calls = []
    with cf.ProcessPoolExecutor(2, mp_context=mp.get_context("spawn")) as pool:
        def pmap(fn, work):
            calls.append(len(work))
            return pool.map(fn, *zip(*work))
        parallel = change_plan_all(scores, k=k, instrument=inst, waves=waves, pmap=pmap)
    _PLAN_MEMO.clear()
    assert calls == [scores["dimension"].nunique()]  # one piece of work per dimension
    assert parallel == serial == change_plan_all_ref(scores, k=k, instrument=inst, waves=waves)
    assert list(parallel) == list(serial)
