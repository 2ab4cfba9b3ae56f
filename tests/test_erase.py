"""Erasure of one participant (``upo erase DB --participant CODE``), GitHub issue 5.

Checks against the issue: every submission of the participant goes (all waves, linked
records included), the fact of an erasure is recorded but not what was erased, a second
erasure is a no-op, and nothing of the participant can be read back from the file
afterwards (not even from free pages or the WAL).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from toolkit.cli import main
from toolkit.io import import_file
from toolkit.store import Store, Submission

pytestmark = pytest.mark.both_backends

CODE = ("Zq", "29", "X", "Qu")
OTHER = ("Ma", "07", "K", "Ha")


def _all_bytes(db: Path) -> bytes:
    data = db.read_bytes()
    wal = Path(str(db) + "-wal")
    return data + (wal.read_bytes() if wal.exists() else b"")


def _fill(store: Store) -> str:
    for wave, v in (("t0", 1), ("t1", 2)):
        store.submit(Submission("BVA", CODE, wave, "reality_check", {"go1": v, "go2": 2}))
        store.submit(Submission("BVA", OTHER, wave, "reality_check", {"go1": 0, "go2": 0}))
    store.submit(Submission("BVA", CODE, "t0", "stakeholder_analysis", {("sh_influence", "personalrat"): 5, "sh_note": "Uniquenotetextxyz"}))
    subs = store.submissions()
    return subs["participant"].iloc[0]


def test_cli_erase_removes_every_wave_records_the_fact_and_is_idempotent(store: Store, capsys: pytest.CaptureFixture[str]):
    code = _fill(store)
    other = sorted(set(store.submissions()["participant"]) - {code})[0]
    before = store.data_version()
    assert main(["erase", str(store.path), "--participant", code]) == 0
    out = capsys.readouterr().out
    assert "erased 3 submissions" in out
    subs = store.submissions()
    assert code not in set(subs["participant"])
    assert set(subs["participant"]) == {other} and len(subs) == 2  # the other participant is untouched
    assert code not in set(store.responses()["participant"]) and store.texts().empty
    assert store.data_version() > before  # dashboards notice the change
    # the fact is recorded, without the code
    rows = store.conn.execute("SELECT * FROM erasures").fetchall()
    assert len(rows) == 1 and rows[0][2] == 3
    assert all(code not in str(v) for v in rows[0])
    # idempotent: a second run erases nothing and records nothing new
    assert main(["erase", str(store.path), "--participant", code]) == 0
    assert "nothing to erase" in capsys.readouterr().out
    assert store.conn.execute("SELECT COUNT(*) FROM erasures").fetchone()[0] == 1
    assert len(store.submissions()) == 2


def test_erase_follows_tolerant_links_across_waves(store: Store):
    store.submit(Submission("BVA", CODE, "t0", "reality_check", {"go1": 1}))
    store.submit(Submission("BVA", ("Zq", "29", "X", "Qa"), "t1", "reality_check", {"go1": 2}))  # one typo
    links = store.links()
    assert links["link"].eq("tolerant").all()
    code_t1 = store.submissions().set_index("wave").loc["t1", "participant"]
    assert store.erase(code_t1) == 2  # the later record's code reaches the earlier one too
    assert store.submissions().empty


def test_erased_participant_leaves_no_trace_in_the_file(store: Store, backend: str):
    if backend == "postgresql":
        pytest.skip("the server's data files and WAL belong to PostgreSQL: erase vacuums the tables (see the README)")
    code = _fill(store)
    element_hashes = store.conn.execute(
        "SELECT elements FROM participants WHERE code = ?", (code,)
    ).fetchone()[0].split(".")
    assert main(["erase", str(store.path), "--participant", code]) == 0
    store.close()
    raw = _all_bytes(store.path)
    assert code.encode() not in raw
    for h in element_hashes:
        assert h.encode() not in raw
    assert b"Uniquenotetextxyz" not in raw


def test_erase_also_removes_the_participants_quarantined_rows(store: Store, tmp_path: Path):
    f = tmp_path / "a.csv"
    f.write_text("participant,go1,go2\nA1,7,1\nA2,1,1\n", encoding="utf-8")
    res = import_file(store, f, instrument="reality_check", wave="t0", authority="BVA")
    assert res.n_quarantined == 1 and res.n_imported == 1
    q = store.quarantined()
    pseudonym = q["raw"].str.extract(r'"participant": "(P-[0-9A-F]+)"')[0].iloc[0]
    store.erase(pseudonym)
    assert store.quarantined().empty  # nothing kept about an erased person, not even rejected input
    assert len(store.submissions()) == 1


def test_erase_of_unknown_code_via_cli_exits_0_and_says_so(store: Store, capsys: pytest.CaptureFixture[str]):
    assert main(["erase", str(store.path), "--participant", "P-0000000000"]) == 0
    assert "nothing to erase" in capsys.readouterr().out
    assert store.conn.execute("SELECT COUNT(*) FROM erasures").fetchone()[0] == 0


def test_erase_on_a_missing_database_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["erase", str(tmp_path / "nope.sqlite"), "--participant", "P-1"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1


def test_erase_needs_the_participant_option(store: Store):
    assert main(["erase", str(store.path)]) == 2
    assert store.conn.execute("SELECT COUNT(*) FROM erasures").fetchone()[0] == 0
