"""The faster batch-cache step gives exactly what the old one gave (tests/_context_reference.py keeps the old code)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from _context_reference import _minimised as old_minimised
from toolkit.reports.context import _load, _minimised
from toolkit.reports.releases import TOKEN_KEY


def _same(a, b) -> None:
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b, check_exact=True)
    else:
        assert a == b


def test_the_minimised_cache_equals_the_old_one(demo_db: Path):
    data = _load(demo_db)
    data.precompute("de")
    new, old = _minimised(data), old_minimised(data)
    for attr in ("responses", "texts"):
        assert getattr(new, attr).keys() == getattr(old, attr).keys()
        for key in getattr(new, attr):
            _same(getattr(new, attr)[key], getattr(old, attr)[key])
    assert set(new._derived) - {TOKEN_KEY} == set(old._derived)
    for name, value in old._derived.items():
        _same(new._derived[name], value)
    assert any(not t["text"].isna().all() for t in new.texts.values())  # the demo has free text that stays
