"""The SQLite store: creation, file checks, round trips, append-only corrections, atomicity, concurrency."""

from __future__ import annotations

import multiprocessing as mp
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from toolkit.exceptions import DataError, StoreError
from toolkit.store import MIGRATIONS, SCHEMA_VERSION, TIDY_COLUMNS, Store, Submission
from toolkit.store.schema import KEYED_MIGRATIONS

pytestmark = pytest.mark.both_backends

CODE_A = ("Ma", "07", "K", "Ha")
CODE_B = ("Li", "23", "B", "Ro")


def test_init_creates_file_key_cohort_and_records_migrations(tmp_path: Path):
    store = Store.init(tmp_path / "sub" / "c.sqlite", cohort="Kohorte 1", min_group_size=7)
    assert store.path.exists() and store.key_path.exists()
    assert store.cohort()["name"] == "Kohorte 1" and store.min_group_size == 7
    applied = [r[0] for r in store.conn.execute("SELECT name FROM schema_migrations ORDER BY name")]
    assert applied == sorted([name for name, _ in MIGRATIONS] + list(KEYED_MIGRATIONS))
    assert store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with pytest.raises(StoreError, match="exists already"):
        Store.init(store.path)


def test_opening_missing_foreign_or_corrupt_files_gives_clear_errors(tmp_path: Path):
    with pytest.raises(StoreError, match="no database here; create one with 'upo init"):
        Store(tmp_path / "missing.sqlite")
    foreign = tmp_path / "foreign.sqlite"
    con = sqlite3.connect(foreign)
    con.execute("CREATE TABLE customers (id INTEGER)")
    con.commit()
    con.close()
    with pytest.raises(StoreError, match=r"not created by the toolkit \(tables: customers\)"):
        Store(foreign)
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(StoreError, match="not a toolkit database"):
        Store(junk)
    with pytest.raises(StoreError, match="is a folder"):
        Store(tmp_path)


def test_a_newer_schema_is_refused(tmp_path: Path):
    store = Store.init(tmp_path / "c.sqlite")
    with store.atomic() as c:
        c.execute("INSERT INTO schema_migrations VALUES ('9999_future', 'now')")
    store.close()
    with pytest.raises(StoreError, match="newer toolkit"):
        Store(tmp_path / "c.sqlite")


def test_round_trip_write_then_read_gives_the_same_tidy_frame(store: Store):
    store.add_authority("KBA", name="Kraftfahrt-Bundesamt", ministry="BMDV")
    answers_a = {"dt1": 4, "dt2": 5, "dt3": 2, "dt_ist": 3, "dt_soll": 4}
    answers_b = {"dt1": 1, "dt2": 0}  # 0 = cannot judge, kept as a raw code
    store.submit(Submission("BVA", CODE_A, "t0", "competence_reflection", answers_a))
    store.submit(Submission("KBA", CODE_B, "t1", "competence_reflection", answers_b))
    df = store.responses("competence_reflection", linked=False)
    assert list(df.columns) == TIDY_COLUMNS
    assert list(df["wave"].cat.categories) == ["t0", "t1"] and df["wave"].cat.ordered
    got = df.assign(wave=df["wave"].astype(str)).drop(columns="participant")
    expected = pd.DataFrame(
        [("BVA", "BMI", "t0", "competence_reflection", "digital_tools", k, None, float(v)) for k, v in answers_a.items()]
        + [("KBA", "BMDV", "t1", "competence_reflection", "digital_tools", k, None, float(v)) for k, v in answers_b.items()],
        columns=[c for c in TIDY_COLUMNS if c != "participant"],
    )
    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected, check_dtype=False)
    assert df.groupby("authority")["participant"].nunique().tolist() == [1, 1]
    assert df["participant"].str.match(r"^P-[0-9A-F]{10}$").all()


def test_filters_and_stakeholder_answers(store: Store):
    store.submit(
        Submission(
            "BVA", CODE_A, "t0", "stakeholder_analysis",
            {("sh_influence", "personalrat"): 5, ("sh_interest", "personalrat"): 4, ("sh_influence", "Landkreistag"): 3},
        )
    )
    store.submit(Submission("BVA", CODE_A, "t1", "reality_check", {"go1": 2}))
    sh = store.responses("stakeholder_analysis")
    assert set(sh["stakeholder"]) == {"personalrat", "Landkreistag"}
    assert len(store.responses(wave="t1")) == 1 and len(store.responses(authority="XYZ")) == 0
    assert len(store.responses(wave=["t0", "t1"])) == 4


def test_corrections_are_appended_and_the_latest_counts(store: Store):
    first = store.submit(Submission("BVA", CODE_A, "t0", "reality_check", {"go1": 0, "go2": 1}))
    second = store.submit(Submission("BVA", CODE_A, "t0", "reality_check", {"go1": 2}))
    assert second > first
    latest = store.responses("reality_check")
    assert latest[["item", "value"]].values.tolist() == [["go1", 2.0]]
    history = store.responses("reality_check", latest=False)
    assert len(history) == 3
    assert len(store.submissions()) == 2 and len(store.submissions(latest=True)) == 1


def test_token_makes_a_submission_idempotent(store: Store):
    sub = Submission("BVA", CODE_A, "t0", "reality_check", {"go1": 2}, token="attempt-1")
    assert store.submit(sub) == store.submit(sub)
    assert len(store.submissions()) == 1


def test_texts_are_kept_apart_from_numeric_values(store: Store):
    inst = store.instrument("competence_reflection")
    text_item = next(i.id for i in inst.items if i.type == "text")
    store.submit(Submission("BVA", CODE_A, "t0", inst.id, {"dt1": 3, text_item: "  Mehr Zeit für Fortbildung  "}))
    assert text_item not in set(store.responses(inst.id)["item"])
    texts = store.texts(inst.id)
    assert texts["text"].tolist() == ["Mehr Zeit für Fortbildung"]


@pytest.mark.parametrize(
    "answers, message",
    [
        ({"xx9": 3}, "item 'xx9' is not in instrument 'competence_reflection'"),
        ({"dt1": 7}, "item 'dt1': 7 is not on scale 'agree5'; valid values: 1, 2, 3, 4, 5, 0 (missing)"),
        ({"dt1": "viel"}, "item 'dt1': 'viel' is not a number"),
        ({("dt1", "personalrat"): 3}, "item 'dt1' is not rated per stakeholder"),
    ],
)
def test_invalid_answers_are_refused_with_specific_messages(store: Store, answers, message):
    with pytest.raises(DataError) as info:
        store.submit(Submission("BVA", CODE_A, "t0", "competence_reflection", answers))
    assert message in str(info.value)
    assert store.submissions().empty


def test_stakeholder_items_need_a_stakeholder_and_free_entries_are_limited(store: Store):
    with pytest.raises(DataError, match="rated per stakeholder"):
        store.submit(Submission("BVA", CODE_A, "t0", "stakeholder_analysis", {"sh_influence": 3}))
    free = store.instrument("stakeholder_analysis").stakeholders.free_entries
    too_many = {("sh_influence", f"Gruppe {i}"): 3 for i in range(free + 1)}
    with pytest.raises(DataError, match=f"at most {free} free entries"):
        store.submit(Submission("BVA", CODE_A, "t0", "stakeholder_analysis", too_many))


def test_unknown_authority_or_wave_is_refused_unless_asked_to_create(store: Store):
    with pytest.raises(DataError, match=r"authority 'XYZ' is not in the cohort; known: BVA"):
        store.submit(Submission("XYZ", CODE_A, "t0", "reality_check", {"go1": 1}))
    with pytest.raises(DataError, match=r"wave 't9' is not in the cohort; known: t0, t1"):
        store.submit(Submission("BVA", CODE_A, "t9", "reality_check", {"go1": 1}))
    store.submit_many([Submission("XYZ", CODE_A, "t9", "reality_check", {"go1": 1})], create_missing=True)
    assert "XYZ" in set(store.authorities()["authority"]) and "t9" in set(store.waves()["wave"])


def test_submit_many_is_all_or_nothing(store: Store):
    good = Submission("BVA", CODE_A, "t0", "reality_check", {"go1": 1})
    bad = Submission("BVA", CODE_B, "t0", "reality_check", {"go1": 5})
    with pytest.raises(DataError):
        store.submit_many([good, bad])
    assert store.submissions().empty and store.responses().empty


def test_erase_removes_all_waves_records_the_fact_and_is_idempotent(store: Store):
    store.submit(Submission("BVA", CODE_A, "t0", "reality_check", {"go1": 1}))
    store.submit(Submission("BVA", ("Ma", "07", "K", "Hx"), "t1", "reality_check", {"go1": 2}))  # linked by tolerance
    store.submit(Submission("BVA", CODE_B, "t0", "reality_check", {"go1": 0}))
    t0 = store.responses("reality_check", wave="t0", linked=False)
    code = t0.loc[t0["value"] == 1, "participant"].iloc[0]  # CODE_A's record (B answered 0)
    others = set(store.submissions()["participant"])
    version = store.data_version()
    n = store.erase(code)
    left = store.submissions()
    assert n == 2 and len(left) == 1
    assert store.data_version() > version
    assert store.erase(code) == 0
    erasures = store.conn.execute("SELECT n_submissions FROM erasures").fetchall()
    assert erasures == [(2,)]
    assert code not in " ".join(map(str, store.conn.execute("SELECT * FROM erasures").fetchall()))
    assert set(left["participant"]) < others


def test_outcomes_and_quarantine_round_trip(store: Store):
    oid = store.save_outcome("workshop_profile", {"n": 7, "dims": {"data": 3.2}}, authority="BVA", wave="t0", instrument="competence_reflection")
    out = store.outcomes("workshop_profile")
    assert out.loc[0, "id"] == oid and out.loc[0, "payload"]["dims"]["data"] == 3.2 and out.loc[0, "authority"] == "BVA"
    store.quarantine([{"source": "x.csv", "row": 3, "column": "dt1", "value": 9, "reason": "out of scale", "raw": {"dt1": "9"}}])
    q = store.quarantined()
    assert q.loc[0, ["source", "row", "column", "value", "reason"]].tolist() == ["x.csv", 3, "dt1", "9", "out of scale"]


def test_fingerprint_changes_with_that_authoritys_data_only(store: Store):
    store.add_authority("KBA", ministry="BMDV")
    fp_bva, fp_kba = store.fingerprint("BVA"), store.fingerprint("KBA")
    store.submit(Submission("KBA", CODE_A, "t0", "reality_check", {"go1": 1}))
    assert store.fingerprint("BVA") == fp_bva
    assert store.fingerprint("KBA") != fp_kba


def _writer(path: str, worker: int, n: int) -> None:
    store = Store(path, timeout=60)
    for i in range(n):
        code = (f"W{worker}", str(i + 1), "K", "Ha")
        store.submit(Submission("BVA", code, "t0", "reality_check", {"go1": (worker + i) % 3}, token=f"{worker}-{i}"))
        if i % 5 == 0:  # a correction: a new submission by the same participant
            store.submit(Submission("BVA", code, "t0", "reality_check", {"go1": 2}, token=f"{worker}-{i}-fix"))
    store.close()


def test_concurrent_writers_from_several_processes_lose_nothing(store: Store):
    workers, n = 4, 20
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(store.path), w, n)) for w in range(workers)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    subs = store.submissions()
    assert len(subs) == workers * (n + n // 5)
    latest = store.responses("reality_check", linked=False)
    assert latest["participant"].nunique() == workers * n
    corrected = latest.groupby("participant")["value"].first()
    assert (corrected == 2).sum() >= workers * (n // 5)
    assert store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
