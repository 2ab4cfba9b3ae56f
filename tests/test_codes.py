"""Participant codes: normalisation, keyed hashing, the key file, tolerant linking across waves."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pandas as pd
import pytest

from toolkit.codes import (
    create_key,
    hash_elements,
    key_dir,
    key_path_for,
    link_codes,
    linking_summary,
    normalise_element,
    pseudonym,
    read_key,
)
from toolkit.exceptions import DataError, StoreError
from toolkit.store import Store, Submission

KEY = bytes(range(32))


@pytest.mark.parametrize(
    "typed, normal",
    [
        ("Ma", "ma"),
        (" MA ", "ma"),
        ("mA", "ma"),
        ("Ö", "oe"),
        ("Jü", "jue"),
        ("ß", "ss"),
        ("07", "7"),
        ("7", "7"),
        (" 0 7 ", "7"),
        ("Hé", "he"),
        ("H.-a", "ha"),
        (7, "7"),
    ],
)
def test_normalise_element(typed, normal):
    assert normalise_element(typed) == normal


def test_hashes_are_keyed_normalised_and_positional():
    a = hash_elements(KEY, ["Ma", "07", "K", "Ha"], authority="BVA")
    assert a == hash_elements(KEY, [" ma", "7", "k ", "HA"], authority="BVA")
    assert a != hash_elements(bytes(32), ["Ma", "07", "K", "Ha"], authority="BVA")  # another key, other hashes
    # the same letters in another position hash differently (no cross-element matching)
    assert hash_elements(KEY, ["ha", "1"], authority="BVA")[0] != hash_elements(KEY, ["1", "ha"], authority="BVA")[1]
    assert all(len(h) == 32 for h in a)
    code = pseudonym(KEY, a)
    assert code.startswith("P-") and len(code) == 12 and code == pseudonym(KEY, a)


def test_empty_element_is_rejected():
    with pytest.raises(DataError, match="code element 2 is empty"):
        hash_elements(KEY, ["ma", "  ", "k", "ha"], authority="BVA")


def test_key_file_is_private_and_never_overwritten(tmp_path: Path):
    path = tmp_path / "c.sqlite.key"
    key = create_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_key(path) == key
    with pytest.raises(StoreError, match="never overwritten"):
        create_key(path)
    with pytest.raises(StoreError, match="code key is missing"):
        read_key(tmp_path / "other.key")
    (tmp_path / "bad.key").write_text("not hex")
    os.chmod(tmp_path / "bad.key", 0o600)
    with pytest.raises(StoreError, match="not a valid key file"):
        read_key(tmp_path / "bad.key")


def test_init_writes_key_in_the_user_data_dir_not_beside_or_inside(tmp_path: Path):
    store = Store.init(tmp_path / "c.sqlite")
    key_path = key_path_for(store.cohort_uid)
    assert store.key_path == key_path and key_path.parent == key_dir()
    assert not (tmp_path / "c.sqlite.key").exists() and not any(p.suffix == ".key" for p in tmp_path.iterdir())
    assert key_path.exists() and stat.S_IMODE(key_path.stat().st_mode) == 0o600
    store.add_authority("BVA")
    store.add_wave("t0")
    store.add_instrument("reality_check")
    store.submit(Submission("BVA", ("Ma", "07", "K", "Ha"), "t0", "reality_check", {"go1": 2}))
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw = store.path.read_bytes()
    assert store.key.hex().encode() not in raw and store.key not in raw
    codes = store.participant_codes()
    assert codes["elements"].str.count(r"\.").eq(3).all()


def _records(rows):
    return pd.DataFrame(rows, columns=["authority", "participant", "wave", "elements"])


def test_exact_tolerant_ambiguous_and_unlinked():
    rows = [
        # A: same code in t0 and t1 -> exact
        ("X", "A", "t0", "a.b.c.d"), ("X", "A", "t1", "a.b.c.d"),
        # B at t0, B' at t1 with one typo (element 3) -> tolerant
        ("X", "B", "t0", "e.f.g.h"), ("X", "B2", "t1", "e.f.z.h"),
        # C at t0 and D at t0; E at t1 differs by one element from both -> ambiguous
        ("X", "C", "t0", "m.n.o.p"), ("X", "D", "t0", "m.n.o.q"), ("X", "E", "t1", "m.n.o.r"),
        # F at t1 with two differences from A -> unlinked newcomer
        ("X", "F", "t1", "a.b.y.y"),
        # same elements in another authority never link
        ("Y", "G", "t1", "e.f.z.h"),
    ]
    recs = _records(rows)
    links = link_codes(recs).set_index("participant")
    assert links.loc["B2", "person"] == "B" and links.loc["B2", "link"] == "tolerant"
    assert links.loc["B", "person"] == "B"
    assert links.loc["E", "link"] == "ambiguous" and links.loc["E", "person"] == "E"
    assert links.loc["C", "person"] == "C" and links.loc["D", "person"] == "D"
    assert links.loc["F", "link"] == "self" and links.loc["G", "person"] == "G"
    recs["wave"] = pd.Categorical(recs["wave"], categories=["t0", "t1"], ordered=True)
    summary = linking_summary(recs, link_codes(recs)).set_index("authority")
    assert summary.loc["X", ["exact", "tolerant", "unlinked", "ambiguous"]].tolist() == [1, 1, 1, 1]
    assert summary.loc["Y", ["exact", "tolerant", "unlinked", "ambiguous"]].tolist() == [0, 0, 1, 0]


def test_two_people_in_the_same_wave_are_never_linked():
    recs = _records([("X", "A", "t0", "a.b.c.d"), ("X", "B", "t0", "a.b.c.e")])
    assert set(link_codes(recs)["link"]) == {"self"}


def test_short_imported_ids_link_only_exactly():
    recs = _records([("X", "A", "t0", "abc"), ("X", "B", "t1", "abd")])
    links = link_codes(recs)
    assert list(links["person"]) == ["A", "B"]


def test_store_reads_use_the_linked_person(store):
    inst = "reality_check"
    store.submit(Submission("BVA", ("Ma", "07", "K", "Ha"), "t0", inst, {"go1": 2}))
    store.submit(Submission("BVA", ("Ma", "07", "K", "Hb"), "t1", inst, {"go1": 1}))  # typo in the last element
    linked = store.responses(inst)
    assert linked["participant"].nunique() == 1
    unlinked = store.responses(inst, linked=False)
    assert unlinked["participant"].nunique() == 2
    summary = store.linking_summary()
    assert summary[["exact", "tolerant", "unlinked", "ambiguous"]].iloc[0].tolist() == [0, 1, 0, 0]
