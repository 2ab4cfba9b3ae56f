"""Imports (GitHub issue 5): wide CSV/XLSX and LimeSurvey exports, validation, quarantine, idempotency."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from toolkit.cli import main
from toolkit.exceptions import DataError
from toolkit.instruments import resolve_instrument
from toolkit.paths import SURVEYS_DIR
from toolkit.io import import_file, limesurvey_structure
from toolkit.store import Store

pytestmark = pytest.mark.both_backends

RC = resolve_instrument("reality_check")
SA = resolve_instrument("stakeholder_analysis")
ELEMENTS = ["mother", "birthday", "birthplace", "street"]


def pseudonym(store: Store, *code: str, authority: str = "BVA") -> str:
    return store.pseudonym(authority, code)


def counts(store: Store) -> tuple:
    c = store.conn
    return tuple(c.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                 for t in ("submissions", "answers", "quarantine", "authorities", "waves", "instruments", "participants"))


def random_wide(rng: np.random.Generator, inst, n: int, *, codes: bool = True) -> pd.DataFrame:
    """A wide frame with random valid answers (some blank, some missing codes)."""
    rows = []
    for k in range(n):
        row: dict[str, object] = {}
        if codes:
            row.update(mother=["Mä", "Lö", "Jo", "Ül"][k % 4] + "xyz"[k % 3], birthday=str(k + 1), birthplace="KBS"[k % 3], street=f"S{k}")
        else:
            row["participant"] = f"ID-{k:03d}"
        for item in inst.items:
            if item.type == "text" or item.item_type.per_stakeholder:
                continue
            scale = inst.scales[item.scale]
            choices = list(scale.points) + list(scale.missing)
            row[item.id] = None if rng.random() < 0.1 else float(rng.choice(choices))
        rows.append(row)
    return pd.DataFrame(rows)


def stored_wide(store: Store, inst_id: str, wave: str) -> pd.DataFrame:
    r = store.responses(inst_id, wave=wave)
    r["key"] = np.where(r["stakeholder"].isna(), r["item"], r["item"] + "[" + r["stakeholder"].fillna("") + "]")
    return r.pivot_table(index="participant", columns="key", values="value", aggfunc="first")


def expected_wide(store: Store, df: pd.DataFrame, id_cols: list[str], authorities: list[str] | None = None) -> pd.DataFrame:
    out = df.copy()
    auth = authorities or ["BVA"] * len(out)
    out.index = [pseudonym(store, *map(str, vals), authority=a) for vals, a in zip(out[id_cols].itertuples(index=False, name=None), auth)]
    return out.drop(columns=id_cols).astype(float)


def assert_same_answers(got: pd.DataFrame, want: pd.DataFrame) -> None:
    want = want.dropna(axis=1, how="all")
    got = got.reindex(index=want.index, columns=want.columns)
    pd.testing.assert_frame_equal(got.sort_index(), want.sort_index(), check_names=False, check_dtype=False)


# --------------------------------------------------------------------------- wide CSV / XLSX round trips
@pytest.mark.parametrize("sep,encoding,decimal", [(",", "utf-8", "."), (";", "utf-8-sig", ","), (";", "cp1252", ","), ("\t", "utf-8", ".")])
def test_wide_csv_round_trip(store: Store, tmp_path: Path, rng, sep, encoding, decimal):
    df = random_wide(rng, RC, 12)
    path = tmp_path / "answers.csv"
    df.to_csv(path, sep=sep, encoding=encoding, index=False, decimal=decimal, float_format="%.1f")
    res = import_file(store, path, instrument="reality_check", wave="t0", authority="BVA")
    assert (res.n_imported, res.n_quarantined, res.n_rows) == (12, 0, 12)
    assert bool(res.notes) == (encoding == "cp1252")  # the fallback is reported, not silent
    assert_same_answers(stored_wide(store, "reality_check", "t0"), expected_wide(store, df, ELEMENTS))


def test_cp1252_umlauts_in_code_elements_give_the_same_person_as_utf8(store: Store, tmp_path: Path):
    for enc, wave in (("utf-8", "t0"), ("cp1252", "t1")):
        p = tmp_path / f"{wave}.csv"
        p.write_bytes(f"mother;birthday;birthplace;street;go1\nMü;07;Ö;Hä;{1 if wave == 't0' else 2}\n".encode(enc))
        import_file(store, p, instrument="reality_check", wave=wave, authority="BVA")
    assert store.responses("reality_check", linked=False)["participant"].nunique() == 1


def test_wide_xlsx_round_trip_with_stakeholder_columns_and_text(store: Store, tmp_path: Path, rng):
    grid = [i.id for i in SA.items if i.item_type.per_stakeholder]
    rows = []
    for k in range(8):
        row: dict[str, object] = {"participant": f"R{k}", "authority": "KBA" if k % 2 else "BVA"}
        for sh in ("personalrat", "datenschutz"):
            for item in grid:
                scale = SA.scale_of(item)
                row[f"{item}[{sh}]"] = float(rng.choice(list(scale.points)))
        row["sh_influence[Externe Beratung]"] = float(rng.integers(1, 6))
        row["sh_note"] = f"Hinweis {k}: Ä, ß"
        rows.append(row)
    df = pd.DataFrame(rows)
    path = tmp_path / "grid.xlsx"
    df.to_excel(path, index=False)
    res = import_file(store, path, instrument="stakeholder_analysis", wave="t0", authority_column="authority", participant_column="participant")
    assert (res.format, res.n_imported, res.n_quarantined) == ("xlsx", 8, 0)
    assert res.created_authorities == ["KBA"]
    got = stored_wide(store, "stakeholder_analysis", "t0")
    want = expected_wide(store, df.drop(columns=["authority", "sh_note"]), ["participant"], list(df["authority"]))
    assert_same_answers(got, want)
    texts = store.texts("stakeholder_analysis").set_index("participant")["text"]
    assert texts.loc[pseudonym(store, "R3", authority="KBA")] == "Hinweis 3: Ä, ß"
    free = store.responses("stakeholder_analysis").query("stakeholder == 'Externe Beratung'")
    assert len(free) == 8


def test_reimporting_the_same_file_stores_nothing_twice(store: Store, tmp_path: Path, rng):
    df = random_wide(rng, RC, 6)
    df.loc[2, "go1"] = 7  # one bad row
    path = tmp_path / "a.csv"
    df.to_csv(path, index=False)
    first = import_file(store, path, instrument="reality_check", wave="t0", authority="BVA")
    snapshot = counts(store)
    second = import_file(store, path, instrument="reality_check", wave="t0", authority="BVA")
    assert (first.n_imported, first.n_quarantined) == (5, 1)
    assert (second.n_imported, second.n_unchanged, second.n_quarantined) == (0, 5, 1)
    assert counts(store) == snapshot  # no new submissions, answers or quarantine records
    assert "already imported" in second.summary_text()


def test_a_corrected_row_becomes_a_correction(store: Store, tmp_path: Path):
    path = tmp_path / "a.csv"
    path.write_text("participant,go1\nA,1\nB,1\n", encoding="utf-8")
    import_file(store, path, instrument="reality_check", wave="t0", authority="BVA")
    path.write_text("participant,go1\nA,2\nB,1\n", encoding="utf-8")
    res = import_file(store, path, instrument="reality_check", wave="t0", authority="BVA")
    assert (res.n_imported, res.n_unchanged) == (1, 1)
    latest = store.responses("reality_check").set_index("participant")["value"]
    assert latest.loc[pseudonym(store, "A")] == 2.0
    assert len(store.submissions()) == 3  # history kept, the latest counts


def test_new_waves_and_authorities_are_created_and_listed(store: Store, tmp_path: Path):
    path = tmp_path / "a.csv"
    path.write_text("Behörde;participant;go1\nBVA;A;1\nITZBund;B;2\nZITiS;C;0\n", encoding="utf-8")
    res = import_file(store, path, instrument="reality_check", wave="t7", authority_column="Behörde")
    assert res.created_authorities == ["ITZBund", "ZITiS"] and res.created_waves == ["t7"]
    assert {"ITZBund", "ZITiS"} <= set(store.authorities()["authority"]) and "t7" in set(store.waves()["wave"])
    text = res.summary_text()
    assert "new authorities: ITZBund, ZITiS" in text and "new waves: t7" in text


def test_an_instrument_given_by_path_is_stored_for_later_commands(store: Store, tmp_path: Path):
    src = (SURVEYS_DIR / "reality_check.yaml").read_text(encoding="utf-8").replace("id: reality_check", "id: my_check")
    ypath = tmp_path / "my_check.yaml"
    ypath.write_text(src, encoding="utf-8")
    data = tmp_path / "a.csv"
    data.write_text("participant,go1\nA,2\n", encoding="utf-8")
    res = import_file(store, data, instrument=str(ypath), wave="t0", authority="BVA")
    assert res.instrument_stored and res.instrument == "my_check"
    assert store.instrument("my_check").hash == resolve_instrument(ypath).hash
    assert store.responses("my_check")["value"].tolist() == [2.0]


# --------------------------------------------------------------------------- quarantine: one test per reason
REASONS = [
    ("out_of_scale", "participant,go1,go2\nA,1,1\nB,7,1\n", {}, 3, "go1",
     "value 7 is not on scale 'ynp' of item 'go1'; valid values: 0, 1, 2, 9 (missing)"),
    ("not_a_number", "participant,go1,go2\nA,1,1\nB,viel,1\n", {}, 3, "go1",
     "'viel' is neither a number nor a label of scale 'ynp' (item 'go1'); valid values: 0, 1, 2, 9 (missing)"),
    ("missing_participant", "participant,go1\nA,1\n,2\n", {}, 3, "participant",
     "no participant: column 'participant' is empty; every row needs a participant id"),
    ("missing_code_element", "mother,birthday,birthplace,street,go1\nMa,7,K,Ha,1\nLi,,B,Ro,2\n", {}, 3, "birthday",
     "incomplete participant code: birthday empty; every code element (mother, birthday, birthplace, street) is needed"),
    ("missing_authority", "authority,participant,go1\nBVA,A,1\n,B,2\n", {"authority": None, "authority_column": "authority"}, 3, "authority",
     "no authority: column 'authority' is empty; fill it in or give --authority CODE"),
    ("duplicate", "participant,go1\nA,1\nB,2\nA,0\n", {}, 2, None,
     "the participant appears more than once in this file (rows 2, 4); keep one row per participant and wave"),
    ("no_answers", "participant,go1,go2\nA,1,1\nB,,\n", {}, 3, None, "the row has no answers"),
]


@pytest.mark.parametrize("kind,text,kw,row,column,reason", REASONS, ids=[r[0] for r in REASONS])
def test_each_quarantine_reason_has_its_exact_message(store: Store, tmp_path: Path, kind, text, kw, row, column, reason):
    path = tmp_path / "in.csv"
    path.write_text(text, encoding="utf-8")
    args = {"authority": "BVA", **kw}
    res = import_file(store, path, instrument="reality_check", wave="t0", **args)
    q = store.quarantined()
    assert q.loc[q["row"] == row, "reason"].tolist()[:1] == [reason]
    rec = q[q["row"] == row].iloc[0]
    assert rec["source"] == str(path) and (rec["column"] if column else None) == column
    assert res.n_imported == 1 and res.n_quarantined == len(set(q["row"]))
    assert reason in res.summary_text()
    # the quarantine never holds code elements in clear, only the pseudonym
    assert "Li" not in str(rec["raw"]) and "Ro" not in str(rec["raw"])


def test_too_many_free_stakeholders_is_quarantined(store: Store, tmp_path: Path):
    cols = ",".join(f"sh_influence[Frei {k}]" for k in range(4))
    path = tmp_path / "g.csv"
    path.write_text(f"participant,{cols},sh_influence[personalrat]\nA,1,2,3,4,5\nB,,,,,5\n", encoding="utf-8")
    res = import_file(store, path, instrument="stakeholder_analysis", wave="t0", authority="BVA")
    assert (res.n_imported, res.n_quarantined) == (1, 1)
    assert store.quarantined()["reason"].tolist() == [
        "4 free stakeholder entries (Frei 0, Frei 1, Frei 2, Frei 3); instrument 'stakeholder_analysis' allows at most 3 besides its catalogue"
    ]


def test_every_bad_cell_of_a_row_is_listed(store: Store, tmp_path: Path):
    path = tmp_path / "a.csv"
    path.write_text("participant;go1;go2;go3\nA;5;x;1\n", encoding="utf-8")
    res = import_file(store, path, instrument="reality_check", wave="t0", authority="BVA")
    assert res.n_quarantined == 1 and res.problems["column"].tolist() == ["go1", "go2"]
    assert store.submissions().empty


def test_cli_import_prints_a_summary_and_exits_1_when_rows_were_quarantined(store: Store, tmp_path: Path, capsys):
    path = tmp_path / "a.csv"
    path.write_text("participant,go1\nA,1\nB,5\nC,5\n", encoding="utf-8")
    code = main(["import", str(store.path), str(path), "--instrument", "reality_check", "--wave", "t0", "--authority", "BVA"])
    out = capsys.readouterr().out
    assert code == 1
    assert "imported: 1 new submissions" in out and "quarantined: 2 rows" in out and "2 × out of scale" in out
    ok = tmp_path / "b.csv"
    ok.write_text("participant,go1\nD,1\n", encoding="utf-8")
    assert main(["import", str(store.path), str(ok), "--instrument", "reality_check", "--wave", "t0", "--authority", "BVA"]) == 0
    capsys.readouterr()
    # the file may hold the authority (a column named authority, a LimeSurvey mapping target): bad input, not usage
    assert main(["import", str(store.path), str(ok), "--instrument", "reality_check", "--wave", "t0"]) == 1
    assert "no authority: give --authority CODE or --authority-column COL" in capsys.readouterr().err


# --------------------------------------------------------------------------- file-level errors: nothing imported
FILE_ERRORS = [
    ("unknown_columns", "participant,go1,Zeitstempel,foo\nA,1,x,y\n", {},
     r"2 column\(s\) are not items of instrument 'reality_check' 1.0: 'Zeitstempel', 'foo'\. Nothing was imported\..*known item ids: go1, go2"),
    ("no_participant", "go1,go2\n1,1\n", {}, r"no participant column; give --participant-column COL"),
    ("partial_code", "mother,birthday,go1\nMa,7,1\n", {}, r"missing: birthplace, street"),
    ("item_twice", "participant,go1,GO1\nA,1,1\n", {}, r"columns 'go1' and 'GO1' both hold go1"),
    ("empty", "", {}, r"the file is empty"),
    ("ragged", "participant,go1\nA,1,3,4\n", {}, r"cannot be read as a CSV table"),
    ("missing_named_column", "participant,go1\nA,1\n", {"participant_column": "pid"}, r"has no column 'pid' \(participant"),
    ("grid_without_stakeholder", "participant,sh_influence\nA,1\n", {"instrument": "stakeholder_analysis"}, r"'sh_influence'.*item\[stakeholder\]"),
]


@pytest.mark.parametrize("kind,text,kw,pattern", FILE_ERRORS, ids=[f[0] for f in FILE_ERRORS])
def test_file_level_errors_refuse_the_whole_file(store: Store, tmp_path: Path, kind, text, kw, pattern):
    path = tmp_path / "in.csv"
    path.write_text(text, encoding="utf-8")
    before = counts(store)
    args = {"instrument": "reality_check", "wave": "t5", "authority": "NEU", **kw}
    with pytest.raises(DataError, match=pattern):
        import_file(store, path, **args)
    assert counts(store) == before


def test_undecodable_and_broken_files_are_refused(store: Store, tmp_path: Path):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"participant,go1\nA,\x81\x8d\n")  # not UTF-8, and bytes cp1252 leaves undefined
    with pytest.raises(DataError, match="neither UTF-8 nor Windows-1252"):
        import_file(store, bad, instrument="reality_check", wave="t0", authority="BVA")
    fake = tmp_path / "fake.xlsx"
    fake.write_bytes(b"PK\x03\x04 not really a workbook")
    with pytest.raises(DataError, match=r"cannot be read as an Excel workbook"):
        import_file(store, fake, instrument="reality_check", wave="t0", authority="BVA")
    with pytest.raises(DataError, match="file not found"):
        import_file(store, tmp_path / "nope.csv", instrument="reality_check", wave="t0", authority="BVA")
    assert store.submissions().empty and store.quarantined().empty


def test_labels_and_german_decimal_commas_are_understood(store: Store, tmp_path: Path):
    path = tmp_path / "a.csv"
    path.write_text("participant;go1;go2;go3\nA;ja;2,0;weiß nicht / nicht zutreffend\n", encoding="utf-8")
    res = import_file(store, path, instrument="reality_check", wave="t0", authority="BVA")
    assert res.n_imported == 1
    assert store.responses("reality_check").set_index("item")["value"].to_dict() == {"go1": 2.0, "go2": 2.0, "go3": 9.0}


# --------------------------------------------------------------------------- LimeSurvey
def simulated_limesurvey_export(inst, rng: np.random.Generator, n: int) -> tuple[pd.DataFrame, dict[str, dict[str, float]]]:
    """A LimeSurvey response export built only from the structure file (as LimeSurvey would).

    Returns the export and, per response, the expected stored value of each column,
    derived independently: answer code -> its label in the structure -> that label's
    point on the instrument's scale.
    """
    tsv = limesurvey_structure(inst)
    base = tsv[tsv["language"].isin(["de", ""])]
    questions: list[tuple[str, str, list[str], list[tuple[str, str]]]] = []
    for rec in base.itertuples(index=False):
        cls, name, text = rec[2], rec[4], rec[6]
        if cls == "Q":
            questions.append((name, rec[3], [], []))
        elif cls == "SQ":
            questions[-1][2].append(name)
        elif cls == "A":
            questions[-1][3].append((name, text))
    label_value = {}
    for scale in inst.scales.values():
        for p, lab in zip(scale.points, scale.labels.de):
            label_value[lab] = p
        for m in scale.missing:
            label_value[scale.missing_label.de] = m
    rows, expected = [], []
    for k in range(n):
        row = {"id": k + 1, "submitdate": "1980-01-01 00:00:00", "lastpage": 3, "startlanguage": "de", "seed": 123}
        exp: dict[str, float] = {}
        for code, qtype, sqs, answers in questions:
            cols = [f"{code}[{sq}]" for sq in sqs] or [code]
            for col in cols:
                if code == "CODE":
                    row[col] = {"mother": "Ma", "birthday": str(k + 1), "birthplace": "K", "street": "Ha"}[col[5:-1]]
                elif qtype == "T":
                    row[col] = f"Notiz {k}"
                elif rng.random() < 0.15:
                    row[col] = ""
                else:
                    a_code, label = answers[int(rng.integers(len(answers)))]
                    row[col] = a_code
                    exp[col] = float(label_value[label])
        rows.append(row)
        expected.append(exp)
    return pd.DataFrame(rows), expected


@pytest.mark.parametrize("inst_id,sep", [("reality_check", ","), ("competence_reflection", ";"), ("stakeholder_analysis", ",")])
def test_limesurvey_round_trip_structure_to_responses_to_store(store: Store, tmp_path: Path, rng, inst_id, sep):
    inst = resolve_instrument(inst_id)
    export_df, expected = simulated_limesurvey_export(inst, rng, 6)
    path = tmp_path / "results-survey123456.csv"
    export_df.to_csv(path, sep=sep, index=False, quoting=1)  # LimeSurvey quotes every field
    res = import_file(store, path, instrument=inst_id, wave="t1", authority="BVA")
    assert (res.format, res.n_imported, res.n_quarantined) == ("limesurvey", 6, 0)
    from toolkit.io import limesurvey_mapping

    mapping = limesurvey_mapping(inst)
    got = store.responses(inst_id, wave="t1")
    got["col"] = [
        next(c for c, t in mapping.items() if t == (i if pd.isna(s) else f"{i}[{s}]"))
        for i, s in zip(got["item"], got["stakeholder"])
    ]
    for k, exp in enumerate(expected):
        mine = got[got["participant"] == pseudonym(store, "Ma", str(k + 1), "K", "Ha")].set_index("col")["value"].to_dict()
        assert mine == exp
    if inst.is_stakeholder_instrument:
        assert sorted(store.texts(inst_id)["text"]) == sorted(f"Notiz {k}" for k in range(6))


@pytest.mark.parametrize("mode,imported,quarantined,skipped", [("quarantine", 2, 1, 0), ("import", 3, 0, 0), ("skip", 2, 0, 1)])
def test_incomplete_limesurvey_responses_as_chosen(store: Store, tmp_path: Path, mode, imported, quarantined, skipped):
    path = tmp_path / "ls.csv"
    path.write_text(
        '"id";"submitdate";"lastpage";"startlanguage";"token";"CODE[mother]";"CODE[birthday]";"CODE[birthplace]";"CODE[street]";"G01Q01[SQ001]"\n'
        '"1";"2026-03-01 10:00:00";"2";"de";"";"Ma";"7";"K";"Ha";"2"\n'
        '"2";"";"1";"de";"";"Li";"8";"B";"Ro";"1"\n'
        '"3";"2026-03-01 10:05:00";"2";"de";"";"Jo";"9";"C";"St";"9"\n',
        encoding="utf-8",
    )
    res = import_file(store, path, instrument="reality_check", wave="t0", authority="BVA", incomplete=mode)
    assert (res.n_imported, res.n_quarantined, res.n_skipped) == (imported, quarantined, skipped)
    assert res.n_imported + res.n_quarantined + res.n_skipped == res.n_rows  # nothing silently dropped
    if mode == "quarantine":
        assert store.quarantined()["reason"].tolist() == ["incomplete LimeSurvey response (no submitdate); import it with --incomplete import"]
        assert store.quarantined()["row"].tolist() == [3]
    if mode == "skip":
        assert res.skipped_rows == [3] and "skipped: 1 incomplete responses (no submitdate), rows 3" in res.summary_text()


def test_limesurvey_mapping_from_the_instrument_yaml(store: Store, tmp_path: Path):
    src = yaml.safe_load((SURVEYS_DIR / "reality_check.yaml").read_text(encoding="utf-8"))
    src["id"] = "rc_mapped"
    src["limesurvey"] = {"questions": {"Q1[a]": "go1", "Q1[b]": "go2"}}
    ypath = tmp_path / "rc_mapped.yaml"
    ypath.write_text(yaml.safe_dump(src, allow_unicode=True), encoding="utf-8")
    path = tmp_path / "ls.csv"
    path.write_text("id,submitdate,token,Q1[a],Q1[b]\n1,2026-01-01,tok1,2,0\n", encoding="utf-8")
    res = import_file(store, path, instrument=str(ypath), wave="t0", authority="BVA", participant_column="token")
    assert res.n_imported == 1
    assert store.responses("rc_mapped").set_index("item")["value"].to_dict() == {"go1": 2.0, "go2": 0.0}


@pytest.mark.parametrize("suffix", [".yaml", ".csv"])
def test_limesurvey_mapping_file_with_own_answer_codes(store: Store, tmp_path: Path, suffix):
    mfile = tmp_path / f"map{suffix}"
    if suffix == ".yaml":
        mfile.write_text("questions:\n  X1: go1\n  X2: go2\n  Zeit: ignore\nanswers:\n  AO01: 0\n  AO02: 1\n  AO03: 2\n", encoding="utf-8")
        values = ("AO03", "AO01")
    else:
        mfile.write_text("code,target\nX1,go1\nX2,go2\nZeit,ignore\n", encoding="utf-8")
        values = ("2", "0")
    path = tmp_path / "ls.csv"
    path.write_text(f"id;submitdate;CODE[mother];CODE[birthday];CODE[birthplace];CODE[street];X1;X2;Zeit\n"
                    f"1;2026-01-01;Ma;7;K;Ha;{values[0]};{values[1]};12\n", encoding="utf-8")
    assert main(["import", str(store.path), str(path), "--instrument", "reality_check", "--wave", "t0",
                 "--authority", "BVA", "--format", "limesurvey", "--mapping", str(mfile)]) == 0
    assert store.responses("reality_check").set_index("item")["value"].to_dict() == {"go1": 2.0, "go2": 0.0}


def test_limesurvey_unknown_question_codes_refuse_the_file(store: Store, tmp_path: Path):
    path = tmp_path / "ls.csv"
    path.write_text("id,submitdate,CODE[mother],CODE[birthday],CODE[birthplace],CODE[street],G01Q01[SQ001],G09Q07\n"
                    "1,2026-01-01,Ma,7,K,Ha,1,3\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"1 column\(s\) are not in the LimeSurvey mapping .*'G09Q07'.*Nothing was imported"):
        import_file(store, path, instrument="reality_check", wave="t0", authority="BVA")
    assert store.submissions().empty and store.quarantined().empty


def test_limesurvey_unknown_answer_code_is_quarantined_with_the_cell(store: Store, tmp_path: Path):
    path = tmp_path / "ls.csv"
    path.write_text("id,submitdate,CODE[mother],CODE[birthday],CODE[birthplace],CODE[street],G01Q01[SQ001]\n"
                    "1,2026-01-01,Ma,7,K,Ha,AO02\n", encoding="utf-8")
    res = import_file(store, path, instrument="reality_check", wave="t0", authority="BVA")
    assert res.n_quarantined == 1
    q = store.quarantined().iloc[0]
    assert (q["row"], q["column"], q["value"]) == (2, "G01Q01[SQ001]", "AO02")


def test_limesurvey_xlsx_export_is_read_too(store: Store, tmp_path: Path, rng):
    df, expected = simulated_limesurvey_export(RC, rng, 3)
    path = tmp_path / "results.xlsx"
    df.to_excel(path, index=False)
    res = import_file(store, path, instrument="reality_check", wave="t0", authority="BVA", format="limesurvey")
    assert (res.n_imported, res.n_quarantined) == (3, 0)
    assert store.responses("reality_check")["value"].notna().sum() == sum(len(e) for e in expected)
