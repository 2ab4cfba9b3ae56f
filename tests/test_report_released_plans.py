"""The cohort-wide comparison levels are released into every report from frames made once per process
(``release_levels(..., memo=...)``, :func:`toolkit.reports.sec_competence.released_plan`): each report still
records its rows under its own output, the values are those of a release without the memo, and a changed
plan (or another cohort) is never served from the kept frames."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from toolkit.privacy import release_levels
from toolkit.privacy.release import recording
from toolkit.reports import context
from toolkit.reports.base import authority_context
from toolkit.reports.sec_competence import level_plan, released_plan


def _entries(rec) -> list[tuple]:
    inv = {v: k for k, v in rec.ids.items()}
    return [(e.output, e.cell, e.quantity, e.n, tuple(sorted(inv[int(p)] for p in e.mask.positions()))) for e in rec.entries]


def _plan(db: Path, by: str | None):
    ctx = authority_context(db, "BVA")
    comp = ctx.data.competence
    wave = ctx.data.wave_labels()[-1]
    plan = level_plan(ctx.data, ctx.data.scores(), instrument=comp.id, wave=wave, by=by, k=ctx.k)
    return ctx, comp, plan


def test_release_levels_memo_records_every_output_and_keeps_the_released_frame(demo_copy: Path) -> None:
    context._MEMO.clear()
    ctx, comp, plan = _plan(demo_copy, None)
    memo: dict = {}
    kept = []
    for output in ("report:BVA", "report:FFA"):
        with recording(ctx.k) as plain:
            expected = release_levels(plan, by=None, k=ctx.k, instrument=comp.id, output=output)
        with recording(ctx.k) as with_memo:
            got = release_levels(plan, by=None, k=ctx.k, instrument=comp.id, output=output, memo=memo)
        pd.testing.assert_frame_equal(got, expected)
        assert _entries(with_memo) == _entries(plain) and _entries(plain)  # the same rows, under this report's output
        assert {e.output for e in with_memo.entries} == {output}
        kept.append(got)
    assert kept[0] is kept[1]  # the second report got the kept frame
    # another frame (even with the same content) or other arguments: released again, not served from the memo
    again = release_levels(plan.copy(), by=None, k=ctx.k, instrument=comp.id, output="report:BVA", memo=memo)
    assert again is not kept[0]
    pd.testing.assert_frame_equal(again, kept[0])
    other_k = release_levels(plan, by=None, k=ctx.k + 1, instrument=comp.id, output="report:BVA", memo=memo)
    assert other_k is not again


def test_released_plan_follows_a_changed_plan_and_another_cohort(demo_copy: Path) -> None:
    context._MEMO.clear()
    ctx, comp, plan = _plan(demo_copy, "ministry")
    ministry = plan["ministry"].iloc[0]
    first = released_plan(ctx, plan, "ministry", ministry, instrument=comp.id, output="report:BVA")
    assert released_plan(ctx, plan, "ministry", ministry, instrument=comp.id, output="report:FFA") is first
    assert set(first.index) == set(plan.loc[plan["ministry"] == ministry, "dimension"].astype(str))
    # a new plan (e.g. decided again): its rows, not the kept ones
    changed = plan.assign(mean=plan["mean"] + 1.0)
    second = released_plan(ctx, changed, "ministry", ministry, instrument=comp.id, output="report:BVA")
    shown = ~second["suppressed"].astype(bool)
    assert shown.any()
    pd.testing.assert_series_equal(second.loc[shown, "mean"], first.loc[shown, "mean"] + 1.0)
    # another cohort (new data after a change in the store): a new CohortData with nothing kept from the old one
    context._MEMO.clear()
    ctx2 = authority_context(demo_copy, "BVA")
    assert ctx2.data is not ctx.data
    plan2 = level_plan(ctx2.data, ctx2.data.scores(), instrument=comp.id, wave=ctx2.data.wave_labels()[-1], by="ministry", k=ctx2.k)
    third = released_plan(ctx2, plan2, "ministry", ministry, instrument=comp.id, output="report:BVA")
    assert third is not first
    pd.testing.assert_frame_equal(third, first)
    context._MEMO.clear()
