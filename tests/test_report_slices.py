"""Per-report cost (issue 14): authority slices of the cohort frames, values released once per report,
one-pass counting, and nothing of one report leaking into the next in a warm process."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

from toolkit.privacy import recording
from toolkit.reports import sections as S
from toolkit.reports.base import once
from toolkit.reports.sec_competence import change_frame, comparison_levels
from toolkit.reports.sec_stakeholders import open_points


@pytest.fixture(scope="module")
def data(demo_db):
    return S.authority_context(demo_db, "BVA").data


def _frames(data):
    comp, check = data.competence, data.checklist
    return {"scores": data.scores(), "gaps": data.gaps(), "readiness": data.readiness(), "counts": data.counts,
            "competence answers": data.rsp(comp), "checklist answers": data.rsp(check)}


@pytest.mark.parametrize("authority", ["BVA", "JKI", "DAkkS", "no-such-authority"])
def test_an_authority_slice_is_the_boolean_filter_same_rows_order_and_index(data, authority):
    for name, frame in _frames(data).items():
        got = data.rows_of(frame, authority)
        pd.testing.assert_frame_equal(got, frame[frame["authority"] == authority], obj=name)
        pd.testing.assert_frame_equal(got, frame[frame["authority"].astype(str) == str(authority)], obj=name)


def test_a_slice_index_follows_the_frame_not_its_name(data):
    frame = data.scores()
    data.rows_of(frame, "BVA")
    changed = frame.assign(authority=frame["authority"].astype(str).replace({"BVA": "FFA", "FFA": "BVA"}))  # another frame
    pd.testing.assert_frame_equal(data.rows_of(changed, "BVA"), changed[changed["authority"] == "BVA"])
    assert len(data.rows_of(frame, "wave-less", column="wave")) == 0


def test_per_process_results_and_indexes_stay_out_of_the_batch_cache(data):
    data.rows_of(data.scores(), "BVA")
    data.local("probe", lambda: 1)
    assert data._local
    copy = pickle.loads(pickle.dumps(data))
    assert copy._local == {} and copy.fingerprint == data.fingerprint
    pd.testing.assert_frame_equal(copy.rows_of(copy.scores(), "BVA"), data.rows_of(data.scores(), "BVA"))


def _entries(rec):
    return sorted((e.output, e.cell, str(e.quantity), frozenset(rec.names(e.mask))) for e in rec.entries)


def test_values_the_summary_and_a_section_share_are_released_once_per_record_and_again_in_a_new_one(demo_db):
    ctx = S.authority_context(demo_db, "BVA")
    comp = ctx.data.competence
    wave = ctx.waves_with(comp.id)[-1]
    with recording() as rec:
        first = comparison_levels(ctx, ctx.data.scores(), instrument=comp.id, wave=wave, ministry=ctx.ministry)
        n = len(rec)
        again = comparison_levels(ctx, ctx.data.scores(), instrument=comp.id, wave=wave, ministry=ctx.ministry)
        assert again is first and len(rec) == n > 0
    with recording() as rec2:  # e.g. the audit: released into its own record again
        other = comparison_levels(ctx, ctx.data.scores(), instrument=comp.id, wave=wave, ministry=ctx.ministry)
    assert other is not first and _entries(rec2) == _entries(rec)
    calls = []
    with recording():
        assert once(ctx, "probe", lambda: calls.append(1) or len(calls)) == once(ctx, "probe", lambda: calls.append(1) or len(calls)) == 1


def test_a_whole_report_records_the_same_releases_as_each_section_built_alone(demo_db):
    """Released once instead of twice: the record holds exactly what the sections release one by one."""
    whole = S.authority_context(demo_db, "BVA")
    with recording() as rec:
        S.build_report(whole)
    alone = set()
    for section_id in S.AUTHORITY:
        ctx = S.authority_context(demo_db, "BVA")  # a fresh report: nothing memoised
        with recording() as one:
            S.AUTHORITY.build(section_id, ctx)
        alone |= set(_entries(one))
    assert set(_entries(rec)) == alone and len(_entries(rec)) == len(rec)


def _open_points_reference(ctx):
    """The open points as counted before (one boolean filter over the authority's rows per checklist point)."""
    inst = ctx.data.checklist
    wave = str(ctx.waves_with(inst.id)[-1])
    r = ctx.data.rsp(inst)
    r = r[(r["authority"] == ctx.authority) & (r["wave"].astype(str) == wave)]
    rows = []
    for it in inst.items:
        if it.type != "checklist":
            continue
        scale = inst.scale_of(it.id)
        v = r.loc[(r["item"] == it.id) & r["value"].isin(list(scale.points)), "value"]
        if len(v) < ctx.k:
            continue
        n_no, n_partly = int((v == scale.min).sum()), int(((v > scale.min) & (v < scale.max)).sum())
        if n_no + n_partly:
            rows.append((it.id, len(v), n_no, n_partly))
    return sorted(rows)


@pytest.mark.parametrize("authority", ["BVA", "FFA", "DAkkS"])
def test_open_points_counted_in_one_pass_are_the_per_item_counts(demo_db, authority):
    ctx = S.authority_context(demo_db, authority)
    with recording():
        op = open_points(ctx)
    got = sorted(zip(op["item"], op["n_valid"], op["n_no"], op["n_partly"]))
    assert got == _open_points_reference(ctx)


def test_likert_shares_counted_in_one_pass_match_value_counts():
    from toolkit.instruments import resolve_instrument
    from toolkit.plots import likert_shares

    inst = resolve_instrument("competence_reflection")
    rng = np.random.default_rng(7)
    items = [i.id for i in inst.items if i.type == "likert"][:6]
    r = pd.DataFrame({"item": rng.choice(items, 300), "value": rng.choice([0.0, 1, 2, 3, 4, 5, 9, np.nan], 300)})
    got = likert_shares(r, inst)
    for item_id in items:
        vals = pd.to_numeric(r.loc[r["item"] == item_id, "value"], errors="coerce")
        vals = vals[vals.isin(inst.scale_of(item_id).points)]
        sub = got[got["item"] == item_id].set_index("point")
        assert (sub["n"] == len(vals)).all()
        for p in inst.scale_of(item_id).points:
            assert sub.loc[float(p), "count"] == int((vals == p).sum())
    assert likert_shares(r.iloc[0:0], inst).empty


def test_reports_in_one_warm_process_do_not_leak_into_each_other(demo_db, monkeypatch):
    """A, B, A in one process (shared cohort data, per-process indexes, memo): A is rendered the same both times."""
    from toolkit.reports.inprocess import render_in_process

    monkeypatch.delenv("UPO_REPORT_CACHE", raising=False)
    a1 = render_in_process(demo_db, "BVA")
    b = render_in_process(demo_db, "DAkkS")
    a2 = render_in_process(demo_db, "BVA")
    assert a1 == a2 and a1 != b
    assert "Bundesverwaltungsamt" in a1 and "Bundesverwaltungsamt" not in b.split("DAkkS", 1)[0]
    with recording():
        pc = change_frame(S.authority_context(demo_db, "BVA"), *S.authority_context(demo_db, "BVA").waves_with("competence_reflection")[:2])
    assert not pc.empty


def test_a_records_masks_are_the_bits_of_its_respondents_for_large_sets_too():
    """Masks are built in one step (or-ing one bit at a time was quadratic once a process had seen a large cohort)."""
    from toolkit.privacy.release import Record

    rec, rng = Record(), np.random.default_rng(3)
    for n in [0, 1, 7, 500, 30000]:
        people = [f"A|p{i}" for i in rng.integers(0, 40000, n)] + ["A|p1"]  # repeats, and people seen before
        mask = rec.mask(people)
        expected = 0
        for p in people:
            expected |= 1 << rec.ids[p]
        assert mask == expected and mask.bit_count() == len(set(people))
    assert rec.names(rec.mask(["A|p1", "B|x"])) == sorted(["A|p1", "B|x"], key=lambda p: rec.ids[p])


def test_a_warm_process_reads_the_fingerprint_again_only_after_a_commit(demo_copy, monkeypatch):
    """The fingerprint reads every submission (a per-report cost growing with the cohort); it is computed
    again when anything was committed, by any connection, or when the file was replaced."""
    import sqlite3

    from toolkit.reports import context
    from toolkit.store import Store

    monkeypatch.delenv("UPO_REPORT_CACHE", raising=False)
    calls = []
    real = Store.fingerprint
    monkeypatch.setattr(Store, "fingerprint", lambda self: calls.append(1) or real(self))
    context.cohort_data(demo_copy)  # the first opening of a copied file may write (e.g. its key): seen as a change
    first = context.cohort_data(demo_copy)
    calls.clear()
    assert context.cohort_data(demo_copy) is first and not calls  # nothing committed: not read again
    with sqlite3.connect(demo_copy) as conn:  # another connection commits a change the reports show
        conn.execute("UPDATE cohorts SET name = name || ' (neu)'")
    changed = context.cohort_data(demo_copy)
    assert calls and changed.fingerprint != first.fingerprint and changed.cohort["name"].endswith("(neu)")
    n = len(calls)
    assert context.cohort_data(demo_copy) is changed and len(calls) == n
    copy = demo_copy.with_name("other.sqlite")
    src, dst = sqlite3.connect(demo_copy), sqlite3.connect(copy)
    src.backup(dst)
    dst.execute("UPDATE cohorts SET name = 'ersetzt'")
    dst.commit()
    dst.close()
    src.close()
    for old in [demo_copy, *demo_copy.parent.glob(demo_copy.name + "-*")]:
        old.unlink()
    copy.rename(demo_copy)  # a new file at the same path
    assert context.cohort_data(demo_copy).cohort["name"] == "ersetzt" and len(calls) > n


def test_an_authority_stored_in_one_run_of_rows_is_sliced_not_gathered(data):
    """Frames stored authority by authority: each authority's positions are kept as one ``slice`` (cheap ``iloc``);
    the rows are still those of the boolean filter, and a caller changing its slice leaves the cohort frame alone."""
    frame = data.scores()
    authorities = list(pd.unique(frame["authority"]))
    for authority in [*authorities, "no-such-authority"]:
        pd.testing.assert_frame_equal(data.rows_of(frame, authority), frame[frame["authority"] == authority])
    kept = data._local[("rows_of", id(frame), "authority")][1]
    assert all(isinstance(kept[a], slice) for a in authorities)
    before = frame.copy()
    mine = data.rows_of(frame, "JKI")  # below the minimum group size in some waves
    mine.loc[mine.index[0], "score"] = -1.0
    mine["extra"] = 1
    pd.testing.assert_frame_equal(frame, before)
    # rows of one authority in several runs (the counts: per instrument): gathered by position, as before
    counts = data.counts
    for authority in authorities:
        pd.testing.assert_frame_equal(data.rows_of(counts, authority), counts[counts["authority"] == authority])
    split = data._local[("rows_of", id(counts), "authority")][1]
    assert any(not isinstance(v, slice) for v in split.values())


@pytest.mark.parametrize("authority", ["BVA", "JKI", "DAkkS", "BpB", "no-such-authority"])
def test_participant_counts_come_from_one_index_per_process(demo_db, authority, monkeypatch):
    """``ctx.counts`` reads a per-process ``(authority, instrument) -> {wave: n}`` index of the counts built once, not a
    slice of the cohort-wide frame per report; the same numbers (Python ints) in wave order, below k too."""
    from toolkit.reports.base import AuthorityContext

    data = S.authority_context(demo_db, "BVA").data
    data._local.pop("counts_index", None)
    builds = []
    real_local = type(data).local

    def counting_local(self, name, compute):
        if name == "counts_index" and name not in self._local:
            builds.append(name)
        return real_local(self, name, compute)

    monkeypatch.setattr(type(data), "local", counting_local)
    real_rows_of = type(data).rows_of

    def no_counts_slices(self, frame, value, column="authority"):
        assert frame is not self.counts, "the counts were sliced per report"
        return real_rows_of(self, frame, value, column)

    monkeypatch.setattr(type(data), "rows_of", no_counts_slices)
    c = data.counts
    for code in [authority, "BVA", "FFA"]:
        ctx = AuthorityContext(data, code, code, None, "de", 5)
        for inst in [*data.instruments, None]:
            mine = c[(c["authority"] == code) & (c["instrument"] == inst)]
            n = dict(zip(mine["wave"], mine["n"].astype(int)))
            expected = {w: n[w] for w in data.wave_labels() if w in n}
            got = ctx.counts(inst)
            assert got == expected and list(got) == list(expected)
            assert all(type(v) is type(x) for v, x in zip(got.values(), expected.values()))
    assert builds == ["counts_index"]
