"""The batch cache pickles the answer frames' repetitive string columns as codes (toolkit.reports.context._Packed):
the kernels get frames equal to the parent's, in a fraction of the bytes (issue 16: the cache of a 1,000-unit cohort
was 538 MB, three quarters of it the answers' text columns, read by every kernel)."""

from __future__ import annotations

import pickle

import pandas as pd

from toolkit.reports.context import _minimised, _Packed, cohort_data


def _frames(data):
    for name in ("responses", "texts", "_derived"):
        for key, value in getattr(data, name).items():
            if isinstance(value, pd.DataFrame):
                yield (name, key), value


def test_unpickled_cache_frames_equal_the_parents_column_for_column_and_dtype_for_dtype(demo_db):
    data = _minimised(cohort_data(demo_db))
    data.scores()
    data.gaps()
    snapshot = {key: frame.copy(deep=True) for key, frame in _frames(data)}
    again = pickle.loads(pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL))
    before, after = dict(_frames(data)), dict(_frames(again))
    assert before.keys() == after.keys() and len(before) >= 3
    for key, frame in before.items():
        pd.testing.assert_frame_equal(frame, after[key], check_exact=True, obj=str(key))
        assert list(frame.dtypes) == list(after[key].dtypes), key
    for key, frame in snapshot.items():  # pickling leaves the parent's own frames as they were
        pd.testing.assert_frame_equal(frame, before[key], check_exact=True, obj=str(key))
        assert list(frame.dtypes) == list(before[key].dtypes), key


def test_the_cache_costs_few_bytes_per_answer_row(demo_db):
    data = _minimised(cohort_data(demo_db))
    rows = sum(len(f) for f in data.responses.values())
    per_row = len(pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL)) / rows
    assert per_row < 50, f"{per_row:.0f} bytes per answer row (152 when every row carried its strings)"


def test_object_columns_of_strings_come_back_as_object_and_mixed_columns_are_left_alone():
    n = 2 * _Packed.MIN_ROWS
    frame = pd.DataFrame({
        "kind": ["a", "b"] * (n // 2),
        "mixed": ["a", None] * (n // 2),
        "unique": [f"t{i}" for i in range(n)],
        "word": ["x", "y"] * (n // 2),
        "value": range(n),
    }, index=pd.RangeIndex(5, 5 + n))
    frame = frame.astype({"kind": object, "mixed": object, "unique": object, "word": "str"})
    packed = _Packed.of(frame)
    assert isinstance(packed, _Packed) and set(packed.dtypes) == {"kind", "word"}
    back = _Packed.unpack(pickle.loads(pickle.dumps(packed)))
    pd.testing.assert_frame_equal(frame, back, check_exact=True)
    assert back["kind"].dtype == object and back["word"].dtype == frame["word"].dtype
    assert _Packed.of(frame.head(10)) is not packed and isinstance(_Packed.of(frame.head(10)), pd.DataFrame)
