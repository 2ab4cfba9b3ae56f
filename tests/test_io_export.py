"""Exports (GitHub issue 5): tidy CSV, XLSX with codebook, Parquet, SPSS, LimeSurvey structure."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from toolkit.cli import main
from toolkit.demo import build_demo
from toolkit.exceptions import DataError, ToolkitError
from toolkit.instruments import resolve_instrument
from toolkit.io import OptionalDependencyError, export, limesurvey_mapping, tidy_frame
from toolkit.io.export import EXPORT_COLUMNS
from toolkit.io.limesurvey import TSV_COLUMNS
from toolkit.store import Store

PSEUDONYM = re.compile(r"^P-[0-9A-F]{10}$")


@pytest.fixture(scope="module")
def small_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two demo authorities with all three instruments (answers, texts, stakeholder grids)."""
    path = tmp_path_factory.mktemp("export") / "demo.sqlite"
    build_demo(path, n_authorities=2, seed=7).close()
    return path


@pytest.fixture
def db(small_demo: Path) -> Store:
    store = Store(small_demo)
    yield store
    store.close()


def _expected(db: Store) -> pd.DataFrame:
    """Independent of the exporter: straight from the store's two readers."""
    num = db.responses()
    txt = db.texts()
    return num, txt


def test_csv_export_is_the_tidy_table_with_pseudonyms_only(db: Store, tmp_path: Path):
    path = export(db, tmp_path / "out" / "answers.csv")
    got = pd.read_csv(path, dtype={"stakeholder": object, "text": object})
    assert list(got.columns) == EXPORT_COLUMNS
    num, txt = _expected(db)
    assert len(got) == len(num) + len(txt) and len(txt) > 0
    got_num = got[got["text"].isna()].reset_index(drop=True)
    pd.testing.assert_series_equal(got_num["value"], num["value"].reset_index(drop=True), check_names=False)
    assert (got_num["item"] == num["item"].to_numpy()).all() and (got_num["participant"] == num["participant"].to_numpy()).all()
    assert sorted(got.loc[got["text"].notna(), "text"]) == sorted(txt["text"])
    assert got["participant"].map(lambda p: bool(PSEUDONYM.match(p))).all()
    raw = path.read_bytes()
    assert db.key.hex().encode() not in raw  # never the key
    for elements in db.conn.execute("SELECT elements FROM participants LIMIT 20"):
        assert elements[0].split(".")[0].encode() not in raw  # never code-element hashes
    assert b"import:" not in raw and b"demo" not in raw.lower().split(b"\n")[0]


def test_xlsx_export_has_data_and_a_codebook(db: Store, tmp_path: Path):
    path = export(db, tmp_path / "answers.xlsx")
    sheets = pd.read_excel(path, sheet_name=None)
    assert list(sheets) == ["data", "codebook", "scales", "instruments", "notes"]
    data = sheets["data"]
    assert list(data.columns) == EXPORT_COLUMNS and len(data) == len(tidy_frame(db))
    num = db.responses()
    assert np.allclose(data.loc[data["text"].isna(), "value"].to_numpy(), num["value"].to_numpy())
    book = sheets["codebook"]
    for inst_id in ("competence_reflection", "stakeholder_analysis", "reality_check"):
        inst = resolve_instrument(inst_id)
        rows = book[book["instrument"] == inst_id].set_index("item")
        assert list(rows.index) == [i.id for i in inst.items]
        assert set(rows["hash"]) == {inst.hash} and set(rows["version"].astype(str)) == {inst.version}
        for item in inst.items:
            assert rows.loc[item.id, "text_de"] == item.text.de and rows.loc[item.id, "text_en"] == item.text.en
            assert bool(rows.loc[item.id, "reverse"]) == item.reverse
    assert book["reverse"].sum() >= 4  # the competence reflection's reverse-keyed items are marked
    scales = sheets["scales"]
    att = scales[(scales["instrument"] == "stakeholder_analysis") & (scales["scale"] == "attitude5")]
    assert att["value"].tolist() == [-2, -1, 0, 1, 2] and att["label_de"].iloc[0] == "klar ablehnend"
    agree = scales[(scales["instrument"] == "competence_reflection") & (scales["scale"] == "agree5")]
    assert agree.loc[agree["missing"], "label_de"].tolist() == ["kann ich nicht beurteilen"]


def test_parquet_export_round_trips_exactly(db: Store, tmp_path: Path):
    path = export(db, tmp_path / "answers.parquet", instrument="competence_reflection")
    got = pd.read_parquet(path)
    want = tidy_frame(db, "competence_reflection")
    for frame in (got, want):  # an all-empty column comes back as None, a partly empty one as NaN
        for col in ("stakeholder", "text"):
            frame[col] = frame[col].astype(object).where(frame[col].notna(), None)
    pd.testing.assert_frame_equal(got, want, check_dtype=False, check_categorical=False)
    assert list(got["wave"].cat.categories) == ["t0", "t1", "t2"]


def test_spss_export_has_value_labels_and_user_missing_codes(db: Store, tmp_path: Path):
    import pyreadstat

    path = export(db, tmp_path / "cr.sav", instrument="competence_reflection")
    df, meta = pyreadstat.read_sav(str(path), user_missing=True)
    inst = resolve_instrument("competence_reflection")
    assert list(df.columns[:4]) == ["authority", "ministry", "participant", "wave"]
    assert df["participant"].map(lambda p: bool(PSEUDONYM.match(p))).all()
    # every stored answer is in the wide file at its participant, wave and item
    num = db.responses("competence_reflection")
    sample = num.sample(200, random_state=1)
    wide = df.set_index(["participant", "wave"])
    for p, w, item, v in zip(sample["participant"], sample["wave"].astype(str), sample["item"], sample["value"]):
        assert wide.loc[(p, w), item] == v
    assert len(df) == num.groupby(["participant", "wave"], observed=True).ngroups
    scale = inst.scales["agree5"]
    assert meta.variable_value_labels["dt1"] == {**{float(p): lab for p, lab in zip(scale.points, scale.labels.de)}, 0.0: scale.missing_label.de}
    assert meta.missing_ranges["dt1"] == [{"lo": 0.0, "hi": 0.0}]
    assert meta.column_names_to_labels["dt1"] == inst.item("dt1").text.de
    importance = next(i.id for i in inst.items if i.type == "importance")
    assert importance in df.columns and importance not in meta.missing_ranges  # importance has no missing code
    texts = db.texts("competence_reflection")
    text_item = texts["item"].iloc[0]
    p, w = texts["participant"].iloc[0], str(texts["wave"].iloc[0])
    assert wide.loc[(p, w), text_item] == texts["text"].iloc[0]  # free text is a string variable


def test_spss_export_of_a_stakeholder_grid_names_variables_item_stakeholder(db: Store, tmp_path: Path):
    import pyreadstat

    path = export(db, tmp_path / "sa.sav", instrument="stakeholder_analysis")
    df, meta = pyreadstat.read_sav(str(path))
    assert "sh_influence_personalrat" in df.columns
    assert meta.column_names_to_labels["sh_influence_personalrat"].endswith("[Personalrat]")
    assert all(re.match(r"^[A-Za-z][A-Za-z0-9_]{0,63}$", c) for c in df.columns)
    assert ("sh_note" in df.columns) == (not db.texts("stakeholder_analysis").empty)


def test_spss_needs_an_instrument_when_several_have_answers(db: Store, tmp_path: Path):
    with pytest.raises(DataError, match="give --instrument ID"):
        export(db, tmp_path / "all.sav")
    assert not (tmp_path / "all.sav").exists() and not list(tmp_path.glob("*.part"))


@pytest.mark.parametrize("fmt,module,extra", [("parquet", "pyarrow", "parquet"), ("sav", "pyreadstat", "spss")])
def test_missing_optional_packages_name_the_pip_extra(db: Store, tmp_path: Path, monkeypatch, fmt, module, extra):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == module else real(name, *a))
    with pytest.raises(OptionalDependencyError, match=re.escape(f'pip install "upo-toolkit[{extra}]"')):
        export(db, tmp_path / f"x.{fmt}", instrument="reality_check")
    assert issubclass(OptionalDependencyError, ToolkitError)


@pytest.mark.parametrize("inst_id", ["competence_reflection", "stakeholder_analysis", "reality_check"])
def test_limesurvey_structure_follows_the_tsv_format(tmp_path: Path, db: Store, inst_id: str):
    path = export(db, tmp_path / f"{inst_id}.txt", format="limesurvey", instrument=inst_id)
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, like LimeSurvey's own export
    tsv = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert list(tsv.columns) == TSV_COLUMNS
    classes = tsv["class"].tolist()
    first_g = classes.index("G")
    assert set(classes[:first_g]) == {"S", "SL"} and classes[:first_g].index("SL") > 0
    settings = dict(zip(tsv.loc[tsv["class"] == "S", "name"], tsv.loc[tsv["class"] == "S", "text"]))
    assert settings["language"] == "de" and settings["additional_languages"] == "en" and settings["ipaddr"] == "N"
    body = tsv.iloc[first_g:]
    de, en = body[body["language"] == "de"], body[body["language"] == "en"]
    assert len(de) == len(en) and de["class"].tolist() == en["class"].tolist()
    codes = ~de["class"].eq("G").to_numpy()  # group names are texts; question, subquestion and answer codes are shared
    assert de["name"][codes].tolist() == en["name"][codes].tolist()
    assert (de["text"].to_numpy() != en["text"].to_numpy()).any()
    assert set(de["class"]) <= {"G", "Q", "SQ", "A"}
    q = de[de["class"] == "Q"]
    assert q["name"].str.match(r"^[A-Za-z][A-Za-z0-9]{0,19}$").all() and q["name"].is_unique
    assert set(q["type/scale"]) <= {"F", "L", "T", "Q"}
    assert de.loc[de["class"] == "SQ", "name"].str.match(r"^[A-Za-z0-9]{1,20}$").all()
    assert de.loc[de["class"] == "A", "name"].str.match(r"^[A-Za-z0-9]{1,5}$").all()
    # every item (and every catalogue stakeholder of grid items) is asked exactly once
    inst = resolve_instrument(inst_id)
    targets = list(limesurvey_mapping(inst).values())
    want = []
    for item in inst.items:
        if item.item_type.per_stakeholder:
            want += [f"{item.id}[{e.id}]" for e in inst.stakeholders.catalogue]
        else:
            want.append(item.id)
    assert sorted(t for t in targets if t not in ("mother", "birthday", "birthplace", "street")) == sorted(want)


def test_limesurvey_structure_of_an_instrument_that_is_not_stored(tmp_path: Path, db: Store):
    from toolkit.paths import SURVEYS_DIR

    path = export(db, tmp_path / "x.txt", instrument=str(SURVEYS_DIR / "reality_check.yaml"))
    assert "G01Q01" in path.read_text(encoding="utf-8-sig")
    with pytest.raises(DataError, match="give --instrument"):
        export(db, tmp_path / "y.txt")


def test_cli_export_and_its_errors(db: Store, tmp_path: Path, capsys):
    out = tmp_path / "a.csv"
    assert main(["export", str(db.path), "--out", str(out), "--instrument", "reality_check"]) == 0
    assert "wrote" in capsys.readouterr().out
    assert set(pd.read_csv(out)["instrument"]) == {"reality_check"}
    assert main(["export", str(db.path), "--out", str(tmp_path / "a.json")]) == 1
    err = capsys.readouterr().err
    assert "cannot tell the export format" in err and err.count("\n") == 1
    assert main(["export", str(db.path), "--out", str(tmp_path / "b.csv"), "--instrument", "nope"]) == 1
    assert "instrument 'nope' is not in" in capsys.readouterr().err


def test_export_of_an_empty_database_writes_headers_only(store: Store, tmp_path: Path):
    path = export(store, tmp_path / "empty.csv")
    assert pd.read_csv(path).columns.tolist() == EXPORT_COLUMNS and pd.read_csv(path).empty
