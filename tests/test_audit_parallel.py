"""The disclosure audit renders the authority reports in parallel processes: the same record, the same verdict."""

from __future__ import annotations

import pytest

from toolkit.demo import build_demo
from toolkit.reports.audit import cohort_audit

pytestmark = pytest.mark.slow


def _entries(result):
    names = {bit: p for p, bit in result.record.ids.items()}
    return [(e.output, e.cell, e.quantity, e.n, e.known, frozenset(names[b] for b in e.mask.positions().tolist()))
            for e in result.record.entries]


def test_parallel_audit_records_what_the_serial_one_records(tmp_path):
    db = tmp_path / "d.sqlite"
    build_demo(db, n_authorities=4, seed=3).close()
    serial = cohort_audit(db, jobs=1)
    parallel = cohort_audit(db, jobs=2)
    assert len(serial.record) > 100
    assert _entries(parallel) == _entries(serial)  # same releases, same order, same people
    assert [str(v) for v in parallel.violations] == [str(v) for v in serial.violations]
    assert parallel.outputs == serial.outputs and parallel.text() == serial.text()
