"""The audit's command-line aggregates computed from the batch's cohort data in memory are the CLI's own.

A batch's audit computes what ``upo scores|change|reliability`` would print from the answers and
scores the batch has already read (:func:`toolkit.reports.audit.cli_outputs_of_data`); ``upo audit``
keeps computing them from the store as the CLI does (:func:`toolkit.reports.audit.cli_outputs`).
Both must record the same releases, entry for entry (in order, over the same respondents), and the
frames the CLI prints must be the ones the in-memory functions give.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from toolkit.demo import build_demo
from toolkit.demo_large import build_large_demo
from toolkit.privacy import recording
from toolkit.reports.audit import cli_outputs, cli_outputs_of_data
from toolkit.reports.context import cohort_data
from toolkit.store import Store
from toolkit.summaries import (
    change_summary,
    change_summary_of,
    reliability_summary,
    reliability_summary_of,
    score_summary,
    score_summary_of,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("cli-fast") / "demo.sqlite"
    build_demo(db, n_authorities=4).close()
    return db


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("cli-fast-large") / "large.sqlite"
    build_large_demo(db, n_authorities=60).close()
    return db


def _entries(rec) -> list[tuple]:
    return [(e.output, e.cell, e.quantity, frozenset(rec.names(e.mask)), e.known) for e in rec.entries]


@pytest.mark.parametrize("cohort", ["demo", "large"])
def test_the_fast_aggregates_record_the_clis_own_releases_entry_for_entry(cohort: str, request: pytest.FixtureRequest):
    db = request.getfixturevalue(cohort)
    k = int(Store(db).cohort()["min_group_size"])
    cli, n_cli = cli_outputs(db, k)
    data = cohort_data(db)
    data.scores()
    for later in data.wave_labels()[1:]:  # as a batch has them: the paired changes from the first wave
        data.change_by_authority(data.wave_labels()[0], later)
    fast, n_fast = cli_outputs_of_data(data, k)
    assert n_fast == n_cli > 3
    assert len(cli) > 100
    assert _entries(fast) == _entries(cli)
    stricter, _ = cli_outputs_of_data(data, k + 3)  # a stricter k hides more: the comparison can tell records apart
    assert _entries(stricter) != _entries(cli)


def test_the_in_memory_summaries_are_the_frames_the_cli_prints(large: Path):
    store = Store(large)
    data = cohort_data(large)
    inst, scores, waves = data.competence, data.scores(), data.wave_labels()
    k = int(data.cohort["min_group_size"])
    with recording(k=k):
        for by in ("authority", "ministry", None):
            pd.testing.assert_frame_equal(score_summary(store, inst.id, by=by), score_summary_of(scores, inst, by=by, k=k), check_exact=True)
            for a, b in ((waves[0], waves[1]), (waves[1], waves[2])):
                paired = data.change_by_authority(a, b) if by == "authority" else None
                pd.testing.assert_frame_equal(change_summary(store, inst.id, a, b, by=by),
                                              change_summary_of(scores, inst, a, b, by=by, k=k, waves=waves, paired=paired), check_exact=True)
        resp = data.rsp(inst)
        pd.testing.assert_frame_equal(reliability_summary(store, inst.id),
                                      reliability_summary_of([(w, resp[resp["wave"].astype(str) == w]) for w in waves], lambda: scores, inst, k=k),
                                      check_exact=True)
    store.close()


def test_aggregates_from_cohort_data_are_not_used_once_the_data_changed(demo: Path):
    from toolkit.reports.batch import _LiveRecord

    data = cohort_data(demo)
    live = _LiveRecord(demo, int(data.cohort["min_group_size"]))
    live._start_cli()  # from the cohort data in memory (the batch's)
    assert live.cli_result("another fingerprint") is None  # the end computes them again from the store
    rec, n = live.cli_result(data.fingerprint)
    assert n > 3 and len(rec) > 100


@pytest.mark.parametrize("cohort", ["demo", "large"])
def test_the_latest_submission_date_is_the_latest_of_the_latest_submissions(cohort: str, request: pytest.FixtureRequest):
    with Store(request.getfixturevalue(cohort)) as store:
        subs = store.submissions(latest=True)
        assert not subs.empty
        assert store.latest_submitted_at() == str(subs["submitted_at"].max())


def test_a_batch_joins_the_aggregates_beside_the_rendering_and_audits_the_same_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from toolkit.reports import render_reports
    from toolkit.reports.audit import cohort_audit
    from toolkit.reports.batch import _LiveRecord
    from toolkit.reports.context import batch_numbering

    db = tmp_path / "demo.sqlite"
    build_demo(db, n_authorities=3).close()
    joined: list[bool] = []
    real = _LiveRecord.cli_joined

    def spy(self, batch):
        joined.append(real(self, batch))
        return joined[-1]

    monkeypatch.setattr(_LiveRecord, "cli_joined", spy)
    res = render_reports(db, out=tmp_path / "out", jobs=2, cohort=True)
    assert res.ok and res.audit is not None and res.audit.ok
    assert joined and joined[-1] is True  # the aggregates were added to the live record beside the rendering
    assert "cross-report check" in res.audit.tail_parts
    _, recode = batch_numbering(cohort_data(db))

    def releases(rec, recode=lambda p: p):
        return {(e.output, e.cell, e.quantity, frozenset(recode(p) for p in rec.names(e.mask)), e.known) for e in rec.entries}

    reference = cohort_audit(db)
    assert any(e.output.startswith("cli:") for e in reference.record.entries)
    assert releases(res.audit.record) == releases(reference.record, recode)


@pytest.mark.parametrize("extra", [0, 2, 6, 15])
def test_the_fast_aggregates_match_the_store_where_groups_fall_below_k(large: Path, extra: int):
    # a stricter k hides authorities, ministries whose authorities are all hidden and pairs: each rule of the
    # levels and the planner is met on this cohort, and the in-memory releases must follow the store's
    k = int(Store(large).cohort()["min_group_size"]) + extra
    cli, n_cli = cli_outputs(large, k)
    data = cohort_data(large)
    fast, n_fast = cli_outputs_of_data(data, k)
    assert n_fast == n_cli
    assert _entries(fast) == _entries(cli)


def test_the_fast_aggregates_release_without_computing_the_estimates(demo: Path, monkeypatch: pytest.MonkeyPatch):
    # the audit needs who each aggregate shows, not its numbers: no group statistics, no paired tests
    import toolkit.privacy.core as core
    import toolkit.stats as stats
    import toolkit.stats.change as change

    k = int(Store(demo).cohort()["min_group_size"])
    reference, _ = cli_outputs(demo, k)
    data = cohort_data(demo)
    for a, later in ((w, x) for i, x in enumerate(data.wave_labels()) for w in data.wave_labels()[:i]):
        data.change_by_authority(a, later)

    def boom(*args, **kw):
        raise AssertionError("an estimate was computed")

    monkeypatch.setattr(core, "group_summary", boom)
    monkeypatch.setattr(change, "paired_change", boom)
    monkeypatch.setattr(stats, "paired_change", boom)
    fast, _ = cli_outputs_of_data(data, k)
    assert _entries(fast) == _entries(reference)


def test_the_parent_releases_join_the_batch_record_recoding_each_respondent_once(demo: Path):
    from toolkit.reports.releases import BatchRecord

    k = int(Store(demo).cohort()["min_group_size"])
    rec, _ = cli_outputs(demo, k)
    calls: list[str] = []

    def recode(p: str) -> str:
        calls.append(p)
        return f"#{p}"

    batch = BatchRecord(k=k, token="t", recode=recode)
    batch.record.mask(["#" + next(iter(rec.ids)), "someone else"])  # numbers already in use by the batch
    batch.add_parent(rec)
    assert sorted(calls) == sorted(rec.ids)  # once each, not once per release it is in
    got = [(e.output, e.cell, e.quantity, frozenset(batch.record.names(e.mask)), e.known) for e in batch.record.entries]
    assert got == [(o, c, q, frozenset(f"#{p}" for p in people), kn) for o, c, q, people, kn in _entries(rec)]


def test_mask_bits_round_trip():
    import numpy as np

    from toolkit.privacy import Mask

    rng = np.random.default_rng(3)
    for size in (0, 1, 7, 64, 5000):
        bits = np.unique(rng.integers(0, 40_000, size))
        m = sum(1 << int(b) for b in bits)
        assert Mask(m).positions().tolist() == bits.tolist() if size else Mask(m).positions().tolist() == []
        assert Mask(m).positions().tolist() == [b for b in range(m.bit_length()) if m >> b & 1]
        assert Mask.from_positions(bits) == m and Mask.from_positions(bits[::-1]).positions().tolist() == bits.tolist()
