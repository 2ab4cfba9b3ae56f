"""The synthetic large cohort (``upo demo --authorities N``): shape, valid answers, batched load on both backends."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolkit.cli import main
from toolkit.demo_large import build_large_demo
from toolkit.store import Store, Submission

pytestmark = pytest.mark.both_backends


def test_the_large_cohort_has_the_asked_shape_and_only_valid_answers(db_location):
    store = build_large_demo(db_location, n_authorities=6, participants=8, groups=2)
    auth = store.authorities()
    assert len(auth) == 6 and auth["ministry"].nunique() == 2
    assert list(store.waves()["wave"]) == ["t0", "t1", "t2"]
    subs = store.submissions()
    t0 = subs[(subs["wave"] == "t0") & (subs["instrument"] == "competence_reflection")]
    assert len(t0) == 6 * 8 and t0.groupby("authority").size().eq(8).all()
    assert store.data_version() == len(subs)  # the change counter counted the batched insert
    comp = store.instrument("competence_reflection")
    rsp = store.responses("competence_reflection")
    for item, values in rsp.groupby("item")["value"]:
        scale = comp.scales[comp.item(item).scale]
        assert values.map(scale.is_valid).all(), item
    links = store.linking_summary()
    assert links["tolerant"].sum() == 0 and links["ambiguous"].sum() == 0 and links["exact"].sum() > 0
    # an ordinary submission continues after the bulk-loaded ids
    sid = store.submit(Submission(auth["authority"].iloc[0], ("Xy", "3", "Q", "Zz"), "t2", "reality_check", {"go1": 1}))
    assert sid == int(subs["submission"].max()) + 1
    store.close()


def test_upo_demo_authorities_builds_without_rendering(tmp_path: Path, capsys):
    assert main(["demo", "--authorities", "4", "--participants", "5", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "4 units, 20 people" in out and "--scheduler local" in out
    assert not (tmp_path / "reports").exists()
    with Store(tmp_path / "large-4.sqlite") as s:
        assert len(s.authorities()) == 4
