"""The columnar tidy read gives exactly the frames of the old pandas merge-and-sort read (tests/_store_reference.py),
on both backends: every instrument, numeric answers and free text, history and links, wave and authority filters."""

from __future__ import annotations

import pandas as pd
import pytest

from _store_reference import old_read
from toolkit.demo import build_demo
from toolkit.store import Store

pytestmark = pytest.mark.both_backends


@pytest.fixture
def demo_store(db_location, tmp_path):
    if str(db_location).startswith("postgresql://"):
        from toolkit.store.migrate import migrate_to_postgresql

        build_demo(tmp_path / "demo.sqlite", n_authorities=4, seed=3).close()
        migrate_to_postgresql(tmp_path / "demo.sqlite", db_location)
    else:
        build_demo(db_location, n_authorities=4, seed=3).close()
    s = Store(db_location)
    yield s
    s.close()


def _same(new: pd.DataFrame, old: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(new, old, check_exact=True)
    assert list(new.dtypes) == list(old.dtypes)


def test_responses_and_texts_equal_the_old_read(demo_store: Store):
    s = demo_store
    waves = list(s.waves()["wave"])
    codes = list(s.authorities()["authority"])
    seen_text = seen_stakeholder = False
    for inst in s.instruments()["instrument"].unique():
        for latest in (True, False):
            for linked in (True, False):
                new = s.responses(inst, latest=latest, linked=linked)
                _same(new, old_read(s, "value", instrument=inst, latest=latest, linked=linked))
                seen_stakeholder |= bool(new["stakeholder"].notna().any())
        _same(s.responses(inst, wave=waves[-1], authority=codes[:2]), old_read(s, "value", instrument=inst, wave=waves[-1], authority=codes[:2]))
        texts = s.texts(inst)
        _same(texts, old_read(s, "text", instrument=inst))
        seen_text |= not texts.empty
        both = s.responses_and_texts(inst)  # one pass for both
        _same(both[0], old_read(s, "value", instrument=inst))
        _same(both[1], old_read(s, "text", instrument=inst))
    _same(s.responses(), old_read(s, "value"))  # every instrument at once
    _same(s.responses("competence_reflection", authority="nobody"), old_read(s, "value", instrument="competence_reflection", authority="nobody"))
    assert seen_text and seen_stakeholder  # the demo exercised free text and stakeholder rows
