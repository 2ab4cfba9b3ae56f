"""Item ids as instruments people already have them: A1, O5, BFI_N3 (LimeSurvey codes, inventories).

Every place that uses item ids keeps their case: validation, store, wide and LimeSurvey
imports (with a mapping that names the authority column), scoring, exports (SPSS
variable names, codebook, LimeSurvey structure) and the form.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from toolkit.cli import main
from toolkit.exceptions import DataError, InstrumentError
from toolkit.instruments import parse_instrument
from toolkit.io import import_file, limesurvey_mapping
from toolkit.io.export import export
from toolkit.scoring import dimension_scores
from toolkit.store import Store
from toolkit.widgets.form_state import FormState

BFI = """
id: bfi_short
version: "1.0"
title: {de: Kurzinventar, en: Short inventory}
scales:
  agree5:
    points: [1, 2, 3, 4, 5]
    labels: {de: [a, b, c, d, e], en: [a, b, c, d, e]}
dimensions:
  - id: agreeableness
    title: {de: Verträglichkeit, en: Agreeableness}
    min_valid: 2
    items:
      - {id: A1, type: likert, scale: agree5, text: {de: eins, en: one}}
      - {id: A2, type: likert, scale: agree5, text: {de: zwei, en: two}}
      - {id: A3, type: likert, scale: agree5, reverse: true, text: {de: drei, en: three}}
  - id: openness
    title: {de: Offenheit, en: Openness}
    min_valid: 2
    items:
      - {id: O5, type: likert, scale: agree5, text: {de: fünf, en: five}}
      - {id: BFI_N3, type: likert, scale: agree5, text: {de: n3, en: n3}}
"""
ITEMS = ["A1", "A2", "A3", "O5", "BFI_N3"]
PEOPLE = [("Ma", "1", "K", "Ha"), ("Li", "2", "B", "Ro"), ("Jo", "3", "C", "St"), ("Ev", "4", "D", "Mu"), ("Ul", "5", "E", "Ze")]
ANSWERS = [[1, 2, 5, 3, 4], [2, 2, 4, 4, 4], [3, 4, 3, 5, 2], [4, 4, 2, 1, 3], [5, 5, 1, 2, 5]]


def _with(items_override: dict | None = None, **top) -> str:
    data = yaml.safe_load(BFI)
    data.update(top)
    for (d, i), value in (items_override or {}).items():
        data["dimensions"][d]["items"][i]["id"] = value
    return yaml.safe_dump(data, allow_unicode=True)


@pytest.fixture
def bfi_path(tmp_path: Path) -> Path:
    path = tmp_path / "bfi_short.yaml"
    path.write_text(BFI, encoding="utf-8")
    return path


@pytest.fixture
def cohort(tmp_path: Path, bfi_path: Path) -> Store:
    s = Store.init(tmp_path / "cohort.sqlite", cohort="Test")
    s.add_instrument(bfi_path)
    s.add_authority("BVA", name="Bundesverwaltungsamt", ministry="BMI")
    s.add_wave("t0")
    yield s
    s.close()


def _pseudonym(store: Store, person: tuple[str, ...]) -> str:
    return store.pseudonym("BVA", person)


def _stored(store: Store) -> dict[tuple[str, str], float]:
    resp = store.responses("bfi_short")
    return {(p, i): v for p, i, v in zip(resp["participant"], resp["item"], resp["value"])}


def _expected(store: Store) -> dict[tuple[str, str], float]:
    return {(_pseudonym(store, person), item): float(v) for person, row in zip(PEOPLE, ANSWERS) for item, v in zip(ITEMS, row)}


# --------------------------------------------------------------------------- validation
def test_limesurvey_style_item_ids_are_accepted_and_keep_their_case():
    inst = parse_instrument(BFI)
    assert [i.id for i in inst.items] == ITEMS
    assert inst.item("BFI_N3").type == "likert"


@pytest.mark.parametrize("bad", ["1A", "A-1", "_a", "Ä1", "A 1"])
def test_an_invalid_item_id_says_what_an_item_id_may_hold(bad):
    with pytest.raises(InstrumentError) as info:
        parse_instrument(_with({(0, 1): bad}), source="bfi.yaml")
    assert ("dimensions[0].items[1].id",
            f"{bad!r} is not a valid item id; start with a letter and use only letters, digits and _ (e.g. 'dt1', 'A1', 'BFI_N3')") in info.value.problems


def test_item_ids_are_unique_ignoring_case_and_the_error_names_both():
    with pytest.raises(InstrumentError) as info:
        parse_instrument(_with({(1, 0): "a1"}), source="bfi.yaml")
    assert info.value.problems == [
        ("dimensions[1].items[0].id", "item id 'a1' differs from 'A1' at dimensions[0].items[0] only in case; item ids must be unique ignoring case")
    ]
    with pytest.raises(InstrumentError, match=r"item id 'A1' is already used at dimensions\[0\].items\[0\]; item ids must be unique"):
        parse_instrument(_with({(1, 0): "A1"}))


@pytest.mark.parametrize("bad", ["BFI", "bfi-short", "Bfi_short"])
def test_the_instrument_id_keeps_the_snake_case_rule(bad):
    with pytest.raises(InstrumentError) as info:
        parse_instrument(_with(id=bad))
    assert ("id", f"{bad!r} is not snake_case; use lower-case letters, digits and _ (e.g. 'my_survey')") in info.value.problems


def test_an_instrument_limesurvey_mapping_may_name_items_in_any_case_and_the_authority():
    inst = parse_instrument(_with(limesurvey={"questions": {"Q1": "a1", "Q2": "BFI_N3", "behoerde": "authority", "x": "ignore"}}))
    assert inst.limesurvey.questions["Q1"] == "a1"
    with pytest.raises(InstrumentError, match=r"limesurvey.questions.Q3: maps to unknown item 'Z9'"):
        parse_instrument(_with(limesurvey={"questions": {"Q3": "Z9"}}))


# --------------------------------------------------------------------------- store, scoring, form
def test_store_scoring_and_form_keep_upper_case_ids(cohort: Store):
    for person, row in zip(PEOPLE, ANSWERS):
        form = FormState(cohort, "bfi_short", "t0", authority="BVA")
        form.set_code(dict(zip(("mother", "birthday", "birthplace", "street"), person)))
        for item, value in zip(ITEMS, row):
            form.set_answer(item, value)
        assert form.problems() == []
        assert form.submit().ok
    assert _stored(cohort) == _expected(cohort)
    inst = cohort.instrument("bfi_short")
    scores = dimension_scores(cohort.responses("bfi_short"), inst).set_index(["participant", "dimension"])["score"]
    first = _pseudonym(cohort, PEOPLE[0])
    assert scores[(first, "agreeableness")] == pytest.approx((1 + 2 + (6 - 5)) / 3)  # A3 reverse-keyed
    assert scores[(first, "openness")] == pytest.approx((3 + 4) / 2)


# --------------------------------------------------------------------------- imports
def test_a_wide_file_matches_item_ids_in_any_case_and_stores_them_as_defined(cohort: Store, tmp_path: Path):
    lines = ["mother,birthday,birthplace,street,a1,A2,a3,o5,bfi_n3"]
    lines += [",".join(list(person) + [str(v) for v in row]) for person, row in zip(PEOPLE, ANSWERS)]
    path = tmp_path / "wide.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    res = import_file(cohort, path, instrument="bfi_short", wave="t0", authority="BVA")
    assert (res.n_imported, res.n_quarantined) == (5, 0)
    assert _stored(cohort) == _expected(cohort)


def _limesurvey_export(path: Path, *, authority_column: str = "behoerde") -> Path:
    """A LimeSurvey response export ('question code' headings) of a survey whose questions are coded A1, A2, ..."""
    header = ["id", "submitdate", "lastpage", "startlanguage", "seed", authority_column,
              "CODE[mother]", "CODE[birthday]", "CODE[birthplace]", "CODE[street]", *ITEMS]
    rows = [[str(k + 1), "2026-03-01 10:00:00", "3", "de", "42", "BVA", *person, *map(str, row)]
            for k, (person, row) in enumerate(zip(PEOPLE, ANSWERS))]
    pd.DataFrame(rows, columns=header).to_csv(path, index=False, quoting=1)
    return path


def test_limesurvey_export_with_a1_codes_and_an_authority_mapping_imports_with_the_documented_command(
    cohort: Store, tmp_path: Path, bfi_path: Path, capsys
):
    export_file = _limesurvey_export(tmp_path / "results-survey123456.csv")
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("questions:\n  behoerde: authority\n  A1: A1\n  A2: A2\n  A3: A3\n  O5: O5\n  BFI_N3: BFI_N3\n", encoding="utf-8")
    argv = ["import", str(cohort.path), str(export_file), "--instrument", str(bfi_path), "--wave", "t0",
            "--format", "limesurvey", "--mapping", str(mapping)]
    assert main(argv) == 0, capsys.readouterr().err
    assert "imported: 5" in capsys.readouterr().out
    assert _stored(cohort) == _expected(cohort)
    assert set(cohort.responses("bfi_short")["authority"]) == {"BVA"}


def test_limesurvey_codes_equal_to_item_ids_need_no_item_lines_in_the_mapping(cohort: Store, tmp_path: Path, capsys):
    export_file = _limesurvey_export(tmp_path / "ls.csv", authority_column="Behörde")
    mapping = tmp_path / "mapping.csv"
    mapping.write_text("code,target\nBehörde,authority\n", encoding="utf-8")
    assert main(["import", str(cohort.path), str(export_file), "--instrument", "bfi_short", "--wave", "t0",
                 "--format", "limesurvey", "--mapping", str(mapping)]) == 0, capsys.readouterr().err
    assert _stored(cohort) == _expected(cohort)


def test_a_participant_mapping_target_is_honoured_too(cohort: Store, tmp_path: Path):
    path = tmp_path / "ls.csv"
    path.write_text('"id","submitdate","token","behoerde","A1","A2"\n"1","2026-03-01","tok-1","BVA","4","5"\n', encoding="utf-8")
    mapping = tmp_path / "m.yaml"
    mapping.write_text("questions: {token: participant, behoerde: authority, A1: A1, A2: A2}\n", encoding="utf-8")
    res = import_file(cohort, path, instrument="bfi_short", wave="t0", format="limesurvey", mapping=mapping)
    assert res.n_imported == 1
    assert sorted(cohort.responses("bfi_short")["item"]) == ["A1", "A2"]


@pytest.mark.parametrize(
    "option, message",
    [
        (["--authority", "BVA"], "maps column 'behoerde' to authority, and --authority 'BVA' is given too; drop --authority or the mapping's authority target"),
        (["--authority-column", "behoerde"], "maps column 'behoerde' to authority, and --authority-column 'behoerde' is given too"),
        (["--participant-column", "seed"], "maps column 'seed' to participant, and --participant-column 'seed' is given too"),
    ],
)
def test_a_mapping_target_and_the_option_together_is_a_one_line_conflict(cohort: Store, tmp_path: Path, capsys, option, message):
    export_file = _limesurvey_export(tmp_path / "ls.csv")
    mapping = tmp_path / "mapping.yaml"
    target = "seed: participant\n" if option[0] == "--participant-column" else ""
    mapping.write_text(f"questions:\n  behoerde: authority\n  {target}", encoding="utf-8")
    argv = ["import", str(cohort.path), str(export_file), "--instrument", "bfi_short", "--wave", "t0",
            "--format", "limesurvey", "--mapping", str(mapping), *option]
    assert main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert message in err and f"{mapping}" in err and "\n" not in err and "Traceback" not in err
    assert cohort.submissions().empty


def test_without_any_authority_the_error_names_all_three_ways(cohort: Store, tmp_path: Path):
    export_file = _limesurvey_export(tmp_path / "ls.csv")
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("questions:\n  behoerde: ignore\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"no authority: give --authority CODE or --authority-column COL, or map a column to authority in --mapping"):
        import_file(cohort, export_file, instrument="bfi_short", wave="t0", format="limesurvey", mapping=mapping)


def test_a_wide_file_with_an_authority_column_needs_no_option_on_the_command_line(cohort: Store, tmp_path: Path, capsys):
    path = tmp_path / "wide.csv"
    path.write_text("authority,mother,birthday,birthplace,street,A1,A2\nBVA,Ma,1,K,Ha,3,4\n", encoding="utf-8")
    assert main(["import", str(cohort.path), str(path), "--instrument", "bfi_short", "--wave", "t0"]) == 0, capsys.readouterr().err


# --------------------------------------------------------------------------- exports
def test_exports_keep_upper_case_item_ids(cohort: Store, tmp_path: Path):
    export_file = _limesurvey_export(tmp_path / "ls.csv")
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("questions: {behoerde: authority}\n", encoding="utf-8")
    import_file(cohort, export_file, instrument="bfi_short", wave="t0", format="limesurvey", mapping=mapping)
    csv_path = export(cohort, tmp_path / "out.csv", instrument="bfi_short")
    assert sorted(set(pd.read_csv(csv_path)["item"])) == sorted(ITEMS)  # tidy: one row per answer
    pyreadstat = pytest.importorskip("pyreadstat")
    sav = export(cohort, tmp_path / "out.sav", instrument="bfi_short")
    frame, meta = pyreadstat.read_sav(str(sav))
    assert [c for c in frame.columns if c in ITEMS] == ITEMS
    assert meta.column_names_to_labels["BFI_N3"] == "n3"


def test_the_limesurvey_structure_round_trips_upper_case_items(cohort: Store, tmp_path: Path):
    inst = cohort.instrument("bfi_short")
    mapping = limesurvey_mapping(inst)
    assert sorted(mapping.values()) == sorted(ITEMS + ["mother", "birthday", "birthplace", "street"])
    structure = export(cohort, tmp_path / "bfi.txt", format="limesurvey", instrument="bfi_short")
    assert "G01Q01" in structure.read_text(encoding="utf-8-sig")
    by_item = {v: k for k, v in mapping.items()}
    header = ["id", "submitdate", *(f"CODE[{e}]" for e in ("mother", "birthday", "birthplace", "street")), *(by_item[i] for i in ITEMS)]
    rows = [[str(k + 1), "2026-03-01", *person, *map(str, row)] for k, (person, row) in enumerate(zip(PEOPLE, ANSWERS))]
    path = tmp_path / "ls.csv"
    pd.DataFrame(rows, columns=header).to_csv(path, index=False)
    res = import_file(cohort, path, instrument="bfi_short", wave="t0", authority="BVA")
    assert (res.format, res.n_imported) == ("limesurvey", 5)
    assert _stored(cohort) == _expected(cohort)
