"""Respondent sets are sparse masks (:class:`toolkit.privacy.Mask`, issue 16).

A record numbers respondents in the order it first sees them, so on a national cohort a small set (the
20 people of the 900th authority) has numbers around 50,000. As a plain integer that set was 50,000 bits
of mostly zero words: records, their pickles and the batch's joins grew with (cohort size)². A mask's
size follows the span of its numbers only. The masks behave as the integers they stand for (same
operations, equal to them, same hash), and the auditor and the planner decide on them exactly as the
integer code did (the reference copies in tests/_privacy_reference.py).
"""

from __future__ import annotations

import pickle
import sys

from _privacy_reference import PlannerRef, audit_ref
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_privacy_scaling import QUANTITIES, _ops, families

from toolkit.privacy import Mask, Planner, audit
from toolkit.privacy.release import Entry, Level, Record
from toolkit.reports.releases import BatchRecord

FAR = 200_000  # respondents seen before


def _late_record(seen: int) -> Record:
    """A record that has numbered ``seen`` respondents, then releases one set of 20 people."""
    rec = Record(k=5)
    rec.mask([f"A{i // 20}|p{i}" for i in range(seen)])
    rec.add("report:late", "profile/x", Level("ci", "x", "t0"), [f"LATE|p{i}" for i in range(20)])
    return rec


def test_a_small_set_late_in_a_large_numbering_stays_small():
    """The pickled record of one set of 20 people is as small after 200,000 other respondents as after 100
    (as an integer mask it grew by one bit per respondent seen before: 25 kB here)."""
    near, far = _late_record(100), _late_record(FAR)
    sizes = [len(pickle.dumps(rec.entries)) for rec in (near, far)]
    assert sizes[1] - sizes[0] < 16 and sizes[1] < 400, sizes
    mask = far.entries[0].mask
    assert mask.bit_count() == 20 and sys.getsizeof(mask.bits) < 64
    assert pickle.loads(pickle.dumps(mask)) == mask and sorted(far.names(mask)) == sorted(f"LATE|p{i}" for i in range(20))


def test_joining_records_keeps_late_sets_small():
    """:meth:`BatchRecord.add_parent` of a parent that has seen a large cohort: the batch's masks of the small
    sets stay small, as the parent's do (every joined mask's size follows its set, not its numbers)."""
    parent = Record(k=5)
    everyone = [f"A{i // 20}|p{i}" for i in range(FAR)]
    parent.add("cli:scores:cohort", "t0/x", Level("ci", "x", "t0"), everyone)  # the cohort first: numbers 0..FAR-1
    for a in range(0, FAR // 20, 997):  # then some authorities' sets, numbered high in the batch's numbering too
        parent.add("cli:scores:authority", f"t0/x/A{a}", Level("ci", "x", "t0"), everyone[a * 20:(a + 1) * 20])
    batch = BatchRecord(k=5, token="t", recode=lambda p: "#" + p)
    batch.add_parent(parent)
    small = [e for e in batch.record.entries if e.n == 20]
    assert len(small) == len(parent.entries) - 1 and all(e.mask.bits.bit_length() <= 128 for e in small)
    assert max(len(pickle.dumps(e.mask)) for e in small) < 80
    assert [sorted(batch.record.names(e.mask)) for e in batch.record.entries] == \
        [sorted("#" + p for p in parent.names(e.mask)) for e in parent.entries]
    assert audit(batch.record) == audit_ref(batch.record) == []


positions = st.lists(st.integers(0, 600), max_size=40)
shifts = st.sampled_from([0, 1, 63, 64, 65, 1000, FAR])


@settings(max_examples=200, deadline=None)
@given(positions, positions, shifts, shifts)
def test_masks_behave_as_the_integers_they_stand_for(pa, pb, sa, sb):
    a_int = sum({1 << (p + sa) for p in pa})
    b_int = sum({1 << (p + sb) for p in pb})
    a, b = Mask.from_positions([p + sa for p in pa]), Mask(b_int)
    assert a == a_int and int(a) == a_int and hash(a) == hash(a_int) and a == Mask(a_int)
    assert (a | b) == a_int | b_int and (a & b) == a_int & b_int and a.minus(b) == a_int & ~b_int
    assert (0 | a) == a == (a | 0) and (a & 0) == 0
    assert a.within(b) is (a_int & ~b_int == 0) and a.overlaps(b) is bool(a_int & b_int)
    assert a.bit_count() == a_int.bit_count() and bool(a) is bool(a_int)
    members = sorted({p + sa for p in pa})
    assert a.positions().tolist() == members
    words: dict[int, int] = {}
    for p in members:
        words[p >> 6] = words.get(p >> 6, 0) | 1 << (p & 63)
    assert a.words() == words
    for m in (a, b, a | b, a & b, a.minus(b)):  # one representation per set: equal masks are equal fields
        assert m == Mask(int(m)) and (m.lo, m.bits) == (Mask(int(m)).lo, Mask(int(m)).bits)
        assert pickle.loads(pickle.dumps(m)) == m
    many = [Mask.from_positions([p + s for p in pa[i::3]]) for i in range(3) for s in (sa, sb, 7)]
    assert Mask.union(many) == sum({1 << (p + s) for p in pa for s in (sa, sb, 7)}) == Mask.union(many[:2]) | Mask.union(many[2:])
    assert {a: 1}.get(a_int) == 1 and {a_int: 1}.get(a) == 1


def _far(masks: list[int], shift: int) -> list[int]:
    return [m << shift for m in masks]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), st.sampled_from([1, 2, 3, 5]), st.sampled_from([FAR, 64 * 977 + 5]))
def test_audit_and_planner_decide_as_the_integer_code_far_up_the_numbering(data, k, shift):
    """The families of tests/test_privacy_scaling.py moved far up the numbering (as the sets of a national
    cohort's last authorities are): the same violations in the same order, the same planner decisions, as
    the reference (all-pairs, integer masks) code."""
    masks = _far(data.draw(families(max_sets=16)), shift)
    entries = []
    for i in range(data.draw(st.integers(1, 30))):
        m = data.draw(st.sampled_from(masks))
        q = data.draw(st.sampled_from(QUANTITIES[:1] * 6 + QUANTITIES))
        entries.append(Entry(f"out{i % 3}", f"cell{i}", q, Mask(m), m.bit_count(), data.draw(st.booleans()) and data.draw(st.booleans())))
    assert audit(entries, k=k) == audit_ref(entries, k=k)
    new, old = Planner(k), PlannerRef(k)
    for what, group in _ops(data.draw, masks):
        sparse = [(q, Mask(m)) for q, m in group]
        if what == "add":
            new.add(sparse)
            old.add(group)
            continue
        a, b = new.allows(sparse), old.allows(group)
        assert a == b, (what, group)
        if what == "decide" and a:
            new.add(sparse)
            old.add(group)
    assert new.sets == old.sets and new.diffs == old.diffs
