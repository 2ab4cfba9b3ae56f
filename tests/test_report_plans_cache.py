"""The reports' cohort-wide plans travel in the batch cache (computed once per batch, not per kernel start),
and a report rendered from such a cache is the same page with the same release record as one whose kernel
computed the plans itself; the kernel's memory-driven restart."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from toolkit.reports import context
from toolkit.reports import releases as R
from toolkit.reports.inprocess import render_in_process

AUTHORITIES = ["BVA", "FFA", "DAkkS", "JKI", "BAMF"]


def _render(db: Path, folder: Path, monkeypatch: pytest.MonkeyPatch, *, warm: bool) -> dict[str, tuple[str, list]]:
    """Each authority's page and shipped release entries, rendered from a batch cache written into ``folder``."""
    folder.mkdir(mode=0o700)
    secret = b"s" * 32
    monkeypatch.delenv(context.CACHE_ENV, raising=False)  # the parent computes from the store, not from a batch cache
    with monkeypatch.context() as m:
        if not warm:
            m.setattr(context, "warm_report_plans", lambda data, lang="de": None)
        f = context.write_cohort_cache(db, folder, secret=secret)
    context._MEMO.clear()
    data = pickle.loads(f.read_bytes()[32:])
    out: dict[str, tuple[str, list]] = {"plans": (" ".join(sorted(k for k in data._derived if k.startswith("levels:"))), [])}
    monkeypatch.setenv(context.CACHE_ENV, str(folder))
    monkeypatch.setenv(context.CACHE_KEY_ENV, secret.hex())
    try:
        for a in AUTHORITIES:
            rec = R.kernel_start()
            page = render_in_process(db, a)
            out[a] = (page, R.kernel_payload(rec, None)["entries"])
    finally:
        context._MEMO.clear()
    return out


def test_cache_carries_the_report_plans_and_reports_are_unchanged(demo_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    warm = _render(demo_copy, tmp_path / "warm", monkeypatch, warm=True)
    cold = _render(demo_copy, tmp_path / "cold", monkeypatch, warm=False)
    # the warmed cache holds the sections' per-cohort plans (every authority's, ministry's and the cohort's levels)
    assert cold["plans"][0] == ""
    plans = warm["plans"][0].split()
    assert any(p.startswith("levels:competence_reflection:") and ":authority:" in p for p in plans)
    assert any(p.startswith("levels:competence_reflection:") and ":ministry:" in p for p in plans)
    for a in AUTHORITIES:
        page_w, rec_w = warm[a]
        page_c, rec_c = cold[a]
        assert page_w == page_c, a
        assert rec_w and rec_w == rec_c, a  # the same releases (output, cell, quantity, respondent set) in the same order


def test_warm_report_plans_records_nothing_and_keeps_the_parents_data(demo_copy: Path) -> None:
    from toolkit.privacy.release import recording

    data = context.cohort_data(demo_copy)
    before = set(data._derived)
    with recording() as rec:
        payload = context.cache_payload(data)
    context._MEMO.clear()
    assert len(rec) == 0  # nothing released into the caller's record
    assert set(data._derived) == before  # the plans go into the minimised copy only (the batch's numbers)
    shipped = pickle.loads(payload)
    people = {p for k, v in shipped._derived.items() if k.startswith("levels:") for s in v["who"] for p in s}
    assert people and all(p.split("|", 1)[1].startswith("R") for p in people)  # batch numbers, never pseudonyms


class _Fake:
    """A KernelRunner's restart decision without a kernel."""

    def __init__(self, rss: list[float], every: int = 400, growth: float = 100.0) -> None:
        from toolkit.reports.worker import KernelRunner

        self.runner = object.__new__(KernelRunner)
        self.runner.restart_every, self.runner.restart_growth_mb = every, growth
        self.runner.n_since_start, self.runner._rss0 = 0, None
        self.rss = iter(rss)
        self.runner._kernel_rss = lambda: next(self.rss)  # type: ignore[method-assign]


def test_kernel_restarts_when_it_grew_or_after_restart_every() -> None:
    f = _Fake([500.0, 550.0, 620.0])
    r = f.runner
    r.n_since_start, r._rss0 = 1, None
    assert not r._due()  # no reference yet
    r._rss0, r.n_since_start = 500.0, 5
    assert not r._due()  # 500 MB: not grown
    assert not r._due()  # +50 MB
    assert r._due()  # +120 MB > 100 MB
    f = _Fake([], every=3)
    f.runner.n_since_start = 3
    assert f.runner._due()
    f = _Fake([None])  # type: ignore[list-item]  (no /proc)
    f.runner._rss0, f.runner.n_since_start = 500.0, 5
    assert not f.runner._due()


def _derived_after(warm, db: Path) -> dict:
    data = context.cohort_data(db)
    data.precompute("de")
    small = context._minimised(data)
    context._MEMO.clear()
    before = set(small._derived) - {R.TOKEN_KEY}
    warm(small)
    return {k: v for k, v in small._derived.items() if k not in before and k != R.TOKEN_KEY}, before


def _assert_same_plans(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import _warm_reference
    import pandas as pd

    from toolkit.reports import base

    old, old_before = _derived_after(_warm_reference.warm_report_plans, db)

    def no_figure(*a: object, **kw: object) -> None:
        raise AssertionError("the plan warm-up draws a figure")

    monkeypatch.setattr(base, "blank_figure", no_figure)
    new, new_before = _derived_after(context.warm_report_plans, db)
    assert old_before == new_before
    assert old and list(new) == list(old)  # the same plans, computed in the same order
    for name, frame in old.items():
        pd.testing.assert_frame_equal(new[name], frame, check_exact=True, obj=name)


def test_plans_only_warm_up_puts_the_report_plans_into_the_cache(demo_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """warm_report_plans computes the plans directly (no report built, no figure drawn): the same plans, keys and values,
    as building the fullest authority's whole report."""
    _assert_same_plans(demo_copy, monkeypatch)


def test_plans_only_warm_up_on_a_large_synthetic_cohort(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from toolkit.demo_large import build_large_demo

    db = tmp_path / "large.sqlite"
    build_large_demo(db, n_authorities=12).close()
    _assert_same_plans(db, monkeypatch)
