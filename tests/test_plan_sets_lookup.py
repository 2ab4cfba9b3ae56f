"""``levels`` finds each authority row's respondent set through a dict (:func:`toolkit.privacy.plan._sets_of`):
the same sets as the per-row ``Series.get`` it replaces, also for keys a dict cannot match (NaN) and duplicated keys."""

from __future__ import annotations

import numpy as np
import pandas as pd

from toolkit.privacy import levels
from toolkit.privacy.plan import _sets_of


def _old(sets: pd.Series, keys: list[tuple]) -> list[frozenset]:
    return [sets.get(tuple(r), frozenset()) for r in keys]


def test_sets_of_equals_the_per_row_get() -> None:
    idx = pd.MultiIndex.from_tuples([("t0", "d1", "A"), ("t0", "d2", "A"), ("t1", "d1", np.nan), ("t1", "d1", "B")],
                                    names=["wave", "dimension", "authority"])
    sets = pd.Series([frozenset({"A|p"}), frozenset({"A|q"}), frozenset({"x|r"}), frozenset()], index=idx, dtype=object)
    keys = [("t0", "d1", "A"), ("t1", "d1", np.nan), ("t9", "d1", "A"), ("t1", "d1", "B"), ("t0", "d2", "A")]
    assert _sets_of(sets, iter(keys)) == _old(sets, keys)
    dup = pd.Series([frozenset({"a"}), frozenset({"b"})], index=pd.MultiIndex.from_tuples([("t0", "A"), ("t0", "A")]), dtype=object)
    assert [repr(x) for x in _sets_of(dup, iter([("t0", "A")]))] == [repr(x) for x in _old(dup, [("t0", "A")])]


def test_levels_by_authority_keeps_each_rows_respondents(rng: np.random.Generator) -> None:
    n = 400
    v = pd.DataFrame({"authority": rng.choice(["A", "B", "C", "D"], n), "participant": [f"p{i % 60}" for i in range(n)],
                      "wave": rng.choice(["t0", "t1"], n), "dimension": rng.choice(["d1", "d2", "d3"], n),
                      "score": rng.normal(3, 1, n)})
    v["ministry"] = v["authority"].map({"A": "M1", "B": "M1", "C": "M2", "D": "M2"})
    out = levels(v, "authority", k=3, instrument="x", output="plan")
    for _, r in out.iterrows():
        rows = v[(v["authority"] == r["authority"]) & (v["wave"] == r["wave"]) & (v["dimension"] == r["dimension"])]
        assert r["who"] == frozenset(rows["authority"] + "|" + rows["participant"])
        assert r["n"] == len(r["who"])
