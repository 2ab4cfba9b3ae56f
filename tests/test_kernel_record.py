"""A report kernel's records share one respondent numbering across its reports (toolkit.reports.releases).

The cohort-wide comparison sets are the same in every report; numbered once per kernel, they must
still ship exactly the released sets a fresh record per report gives, each set's members once per
kernel, and the batch's record built from them must hold the same releases.
"""

from __future__ import annotations

import uuid

from toolkit.privacy.release import Level, Record, current_record, recording, release
from toolkit.reports.releases import (
    BatchRecord,
    KernelRecord,
    decode,
    kernel_payload,
    kernel_start,
)


def _people(tag: str, n: int) -> frozenset[str]:
    return frozenset(f"{tag}|R{i}" for i in range(n))


def _report(sets: list[frozenset[str] | list[str]], unit: str) -> None:
    for j, people in enumerate(sets):
        release(Level("ci", f"d{j}", "t0"), people, 1.0, k=5, output=f"report:{unit}", cell=f"c{j}")


def _released(rec: Record) -> set:
    return {(e.output, e.cell, e.quantity, frozenset(rec.names(e.mask))) for e in rec.entries}


def test_kernel_records_number_once_and_ship_the_same_releases() -> None:
    tag = uuid.uuid4().hex[:8]  # people no earlier test in this process has shipped
    cohort = _people(f"{tag}-all", 400)  # one object, released by every report (as the cached cohort-wide sets are)
    reports = {u: [cohort, _people(f"{tag}-{u}", 6), sorted(_people(f"{tag}-{u}x", 7))] for u in ("A", "B", "C")}
    forwarded: set[str] = set()
    batch = BatchRecord(k=5, token="tok", recode=lambda p: p)
    expected: set = set()
    masks = []
    for unit, sets in reports.items():
        rec = kernel_start()
        assert isinstance(rec, KernelRecord) and current_record() is rec
        _report(sets, unit)
        masks.append(rec.entries[0].mask)
        shipped = decode(kernel_payload(rec, "tok"), forwarded)
        # the cohort-wide set's members travel with the first report only; every report's own sets travel with it
        assert sorted(len(p) for p in shipped["sets"].values()) == ([6, 7, 400] if unit == "A" else [6, 7])
        batch.add_shipped(f"authority:{unit}", shipped)
        with recording(5) as plain:  # a fresh plain record of this report alone
            _report(sets, unit)
        assert _released(rec) == _released(plain)  # the same releases as a fresh record of this report alone
        expected |= _released(plain)
    assert masks[0] == masks[1] == masks[2]  # numbered once: the same mask in every report
    batch.resolve()
    assert batch.shipped == {"authority:A", "authority:B", "authority:C"}
    assert _released(batch.record) == expected


def test_kernel_record_equal_sets_from_other_objects_get_the_same_mask() -> None:
    tag = uuid.uuid4().hex[:8]
    rec = kernel_start()
    a = _people(tag, 30)
    b = frozenset(sorted(a))  # equal, another object
    assert rec.mask(a) == rec.mask(b) == rec.mask(list(a)) == rec.mask(iter(sorted(a)))
    assert set(rec.names(rec.mask(a))) == set(a)
    assert rec.mask(frozenset()) == 0
