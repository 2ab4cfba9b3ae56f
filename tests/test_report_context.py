"""The cohort-wide report data (toolkit.reports.context): what the batch computes once for every kernel."""

from __future__ import annotations

import pickle
from pathlib import Path
from types import SimpleNamespace

from toolkit.demo_large import build_large_demo
from toolkit.reports import context as C


def test_the_change_planner_runs_once_per_batch_not_once_per_kernel(tmp_path: Path):
    db = tmp_path / "large.sqlite"
    build_large_demo(db, n_authorities=6, participants=8, groups=2).close()
    data = C.shared_cohort_data(db)
    k = int(data.cohort["min_group_size"])
    keys = {f"change_levels:{a}:{b}:{k}" for a, b in (("t0", "t1"), ("t0", "t2"), ("t1", "t2"))}
    assert keys <= set(data._derived)  # computed in the parent, so it travels in the batch cache
    # a kernel reading the cache finds it under the key the change section asks for, with the same content
    kernel = pickle.loads(pickle.dumps(C._minimised(data)))
    from toolkit.reports.sec_competence import change_decisions

    calls = []
    kernel.derived = lambda name, compute: (calls.append(name), kernel._derived[name])[1] if name in kernel._derived else compute()
    got = change_decisions(SimpleNamespace(data=kernel, k=k), "t0", "t1")
    assert calls == [f"change_levels:t0:t1:{k}"]
    fresh = C._load(db)
    want = change_decisions(SimpleNamespace(data=fresh, k=k), "t0", "t1")
    got, want = got.reset_index(drop=True), want.reset_index(drop=True)
    assert got.drop(columns="who").equals(want.drop(columns="who"))
    # the respondent sets travel under the batch's numbers, not the pseudonyms (same people, same sizes)
    assert list(got["who"].map(len)) == list(want["who"].map(len))
    pseudonyms = {p.rsplit("|", 1)[1] for people in want["who"] for p in people}
    assert not {p.rsplit("|", 1)[1] for people in got["who"] for p in people} & pseudonyms
