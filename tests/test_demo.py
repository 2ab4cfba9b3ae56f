"""The demo cohort: deterministic, shaped like a real UPO cohort."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from toolkit.demo import AUTHORITIES, build_demo, demo_summary
from toolkit.store import Store


def _content(store: Store) -> dict[str, pd.DataFrame]:
    return {
        "responses": store.responses(),
        "texts": store.texts(),
        "authorities": store.authorities(),
        "waves": store.waves(),
        "submissions": store.submissions().drop(columns="submission"),
    }


def test_same_seed_gives_the_same_content_and_another_seed_does_not(tmp_path: Path):
    a = _content(build_demo(tmp_path / "a.sqlite", n_authorities=4, seed=7))
    b = _content(build_demo(tmp_path / "b.sqlite", n_authorities=4, seed=7))
    c = _content(build_demo(tmp_path / "c.sqlite", n_authorities=4, seed=8))
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name])
    assert not a["responses"].equals(c["responses"])


def test_demo_cohort_shape(demo_db: Path):
    store = Store(demo_db)
    auth = store.authorities()
    assert len(auth) == 30 and auth["ministry"].nunique() == 10
    assert list(store.waves()["wave"]) == ["t0", "t1", "t2"]
    comp = store.responses("competence_reflection")
    per_wave = comp.groupby(["authority", "wave"], observed=True)["participant"].nunique().unstack()
    assert per_wave["t0"].between(3, 40).all()
    assert (per_wave["t0"] < store.min_group_size).sum() >= 2  # some below the threshold on purpose
    assert (per_wave["t2"] < per_wave["t0"]).mean() > 0.5  # drop-out
    assert comp["value"].eq(0).any()  # "cannot judge" answers
    n_items = comp.groupby(["participant", "wave"], observed=True)["item"].nunique()
    assert n_items.min() < n_items.max()  # item-level missingness
    raters = store.responses("stakeholder_analysis").groupby("authority")["participant"].nunique()
    assert raters.between(3, 8).all() and len(raters) == 30
    check = store.responses("reality_check")
    assert check["authority"].nunique() == 30
    links = store.linking_summary()
    assert links["tolerant"].sum() > 0  # typos in code elements, linked tolerantly
    assert {a[0] for a in AUTHORITIES} == set(auth["authority"])


def test_demo_summary_lists_every_authority(demo_db: Path):
    table = demo_summary(Store(demo_db))
    assert len(table) == 30 and list(table.columns[:2]) == ["authority", "ministry"]
