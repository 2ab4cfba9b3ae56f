"""Instruments: the shipped YAML files, the validator's messages, hashing and immutability."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pydantic
import pytest
import yaml

from toolkit.cli import main
from toolkit.exceptions import InstrumentError
from toolkit.instruments import ITEM_TYPES, load_instrument, parse_instrument, shipped_instruments
from toolkit.paths import SURVEYS_DIR

SHIPPED = sorted(SURVEYS_DIR.glob("*.yaml"))

MINIMAL = """
id: mini
version: "1.0"
title: {de: Mini, en: Mini}
scales:
  agree5:
    points: [1, 2, 3, 4, 5]
    labels: {de: [a, b, c, d, e], en: [a, b, c, d, e]}
    missing: [0]
    missing_label: {de: "kann ich nicht beurteilen", en: "cannot judge"}
dimensions:
  - id: d1
    title: {de: Eins, en: One}
    min_valid: 2
    items:
      - {id: a1, type: likert, scale: agree5, text: {de: x, en: x}}
      - {id: a2, type: likert, scale: agree5, text: {de: y, en: y}}
      - {id: a3, type: likert, scale: agree5, reverse: true, text: {de: z, en: z}}
"""


def _mutate(path: str, value, base: str = MINIMAL) -> str:
    """Set a dotted/indexed path (e.g. ``dimensions[0].items[1].scale``) in the MINIMAL document."""
    data = yaml.safe_load(base)
    keys: list = []
    for part in path.replace("]", "").replace("[", ".").split("."):
        keys.append(int(part) if part.isdigit() else part)
    node = data
    for k in keys[:-1]:
        node = node[k]
    if value is _DELETE:
        del node[keys[-1]]
    else:
        node[keys[-1]] = value
    return yaml.safe_dump(data, allow_unicode=True)


_DELETE = object()


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_every_shipped_instrument_validates(path: Path):
    inst = load_instrument(path)
    assert inst.id == path.stem
    for item in inst.items:
        assert item.text.de.strip() and item.text.en.strip()
        if item.scale:
            scale = inst.scales[item.scale]
            assert len(scale.labels.de) == len(scale.points) == len(scale.labels.en)


def test_three_instruments_are_shipped():
    assert {"competence_reflection", "stakeholder_analysis", "reality_check"} <= set(shipped_instruments())


def test_competence_reflection_shape():
    inst = load_instrument(SURVEYS_DIR / "competence_reflection.yaml")
    scored = [d for d in inst.dimensions if d.scored_items]
    assert len(scored) >= 10
    for dim in scored:
        likert = [i for i in dim.items if i.type == "likert"]
        assert len(likert) == 3, dim.id
        assert sum(i.reverse for i in likert) <= 1, dim.id
        roles = sorted(i.role for i in dim.items if i.type == "level")
        assert roles == ["ist", "soll"], dim.id
        assert sum(i.type == "importance" for i in dim.items) == 1, dim.id
        assert inst.scales[likert[0].scale].points == (1, 2, 3, 4, 5)
    assert any(i.reverse for i in inst.items)


def test_stakeholder_analysis_shape():
    inst = load_instrument(SURVEYS_DIR / "stakeholder_analysis.yaml")
    ids = {e.id for e in inst.stakeholders.catalogue}
    assert {"behoerdenleitung", "fachbereich", "it_dienstleister", "personalrat", "datenschutz",
            "informationssicherheit", "gleichstellung", "schwerbehindertenvertretung", "haushalt", "vergabe",
            "ozg_koordination", "buergerinnen_unternehmen"} <= ids
    assert inst.stakeholders.free_entries >= 1
    roles = sorted(i.role for i in inst.items if i.type == "rating_grid")
    assert roles == sorted(["influence", "interest", "attitude", "legitimacy", "urgency",
                            "engagement_current", "engagement_desired", "confidence"])
    attitude = next(i for i in inst.items if i.role == "attitude")
    assert inst.scales[attitude.scale].points == (-2, -1, 0, 1, 2)


def test_reality_check_is_a_checklist_by_area():
    inst = load_instrument(SURVEYS_DIR / "reality_check.yaml")
    assert len(inst.dimensions) >= 6
    assert all(i.type == "checklist" for i in inst.items)
    scale = inst.scales[inst.items[0].scale]
    assert scale.labels.de == ("nein", "teilweise", "ja")


@pytest.mark.parametrize(
    "path, value, where, message",
    [
        ("dimensions[0].items[1].scale", "agre5", "dimensions[0].items[1].scale",
         "scale 'agre5' is not defined; did you mean 'agree5'? defined scales: agree5"),
        ("dimensions[0].items[1].id", "a1", "dimensions[0].items[1].id",
         "item id 'a1' is already used at dimensions[0].items[0]; item ids must be unique"),
        ("dimensions[0].items[0].type", "likret", "dimensions[0].items[0].type",
         "unknown item type 'likret'; did you mean 'likert'? known types: likert, level, importance, rating_grid, checklist, text"),
        ("scales.agree5.labels.en", ["a", "b"], "scales.agree5.labels.en",
         "has 2 labels for 5 points; give exactly one label per point"),
        ("dimensions[0].items[0].revers", True, "dimensions[0].items[0].revers", "unknown key 'revers'; did you mean 'reverse'?"),
        ("dimensions[0].min_valid", 4, "dimensions[0].min_valid", "min_valid is 4 but the dimension has only 3 scored items"),
        ("scales.agree5.missing", [3], "scales.agree5.missing", "missing codes [3.0] are also valid points"),
        ("scales.agree5.missing_label", _DELETE, "scales.agree5.missing_label", "a scale with missing codes needs missing_label"),
        ("dimensions[0].items[2].text", {"de": "nur deutsch"}, "dimensions[0].items[2].text", "required key 'en' is missing"),
        ("version", _DELETE, "", "required key 'version' is missing"),
        ("id", "Mini Survey", "id", "'Mini Survey' is not snake_case"),
        ("dimensions[0].items[0].role", "ist", "dimensions[0].items[0].role", "a likert item takes no role; remove the key"),
    ],
)
def test_validation_messages_name_path_problem_and_fix(path, value, where, message):
    with pytest.raises(InstrumentError) as info:
        parse_instrument(_mutate(path, value), source="mini.yaml")
    problems = info.value.problems
    assert any(p == where and message in m for p, m in problems), problems
    assert str(info.value).startswith("mini.yaml: ")


def test_level_item_needs_a_role_and_reverse_is_only_for_likert():
    data = yaml.safe_load(MINIMAL)
    data["scales"]["level5"] = data["scales"]["agree5"]
    data["dimensions"][0]["items"].append({"id": "l1", "type": "level", "scale": "level5", "reverse": True, "text": {"de": "l", "en": "l"}})
    with pytest.raises(InstrumentError) as info:
        parse_instrument(yaml.safe_dump(data))
    msgs = dict(info.value.problems)
    assert msgs["dimensions[0].items[3].role"] == "a level item needs role: one of ist, soll"
    assert msgs["dimensions[0].items[3].reverse"] == "only likert items can be reverse-keyed, not level items"


def test_invalid_yaml_reports_line_and_column():
    with pytest.raises(InstrumentError) as info:
        parse_instrument("id: x\nversion: [1\n", source="broken.yaml")
    (where, msg), = info.value.problems
    assert where.startswith("line ") and "column" in where
    assert msg.startswith("not valid YAML")


def test_missing_file_is_an_instrument_error(tmp_path: Path):
    with pytest.raises(InstrumentError, match="file not found"):
        load_instrument(tmp_path / "nope.yaml")


def test_instrument_is_immutable():
    inst = parse_instrument(MINIMAL)
    with pytest.raises(pydantic.ValidationError):
        inst.version = "2.0"
    with pytest.raises(pydantic.ValidationError):
        inst.dimensions[0].items[0].reverse = True


def test_hash_ignores_formatting_but_not_content():
    a = parse_instrument(MINIMAL)
    b = parse_instrument("# a comment\n" + MINIMAL.replace("{de: Mini, en: Mini}", "{en: Mini, de: Mini}"))
    c = parse_instrument(MINIMAL.replace("{de: x, en: x}", "{de: x2, en: x}"))
    assert a.hash == b.hash
    assert a.hash != c.hash
    assert len(a.hash) == 64 and a.short_hash == a.hash[:12]
    assert b.source_text.startswith("# a comment")


def test_items_frame_and_lookups():
    inst = parse_instrument(MINIMAL)
    frame = inst.items_frame()
    assert list(frame["item"]) == ["a1", "a2", "a3"]
    assert list(frame["reverse"]) == [False, False, True]
    assert frame[["min", "max"]].iloc[0].tolist() == [1, 5]
    assert inst.dimension_of("a3").id == "d1"
    assert inst.scales["agree5"].label(0, "en") == "cannot judge"
    assert inst.dimension("d1").required_valid == 2
    with pytest.raises(KeyError, match="has no item 'zz'"):
        inst.item("zz")


def test_registry_lists_known_types():
    assert ITEM_TYPES.names() == ["likert", "level", "importance", "rating_grid", "checklist", "text"]
    with pytest.raises(KeyError, match="known types: likert"):
        ITEM_TYPES.get("slider")


def test_cli_validate_ok_and_errors(tmp_path: Path, capsys):
    assert main(["instrument", "validate", *map(str, SHIPPED)]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == len(SHIPPED) and all(": ok: " in line for line in out)
    bad = tmp_path / "bad.yaml"
    bad.write_text(_mutate("dimensions[0].items[1].scale", "agre5"))
    assert main(["instrument", "validate", str(SHIPPED[0]), str(bad)]) == 1
    captured = capsys.readouterr()
    assert f"{bad}: dimensions[0].items[1].scale: scale 'agre5' is not defined" in captured.err
    assert "Traceback" not in captured.err


def test_cli_validate_takes_the_id_of_a_shipped_instrument(tmp_path: Path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # an installed package: no surveys/ folder in sight
    assert main(["instrument", "validate", "reality_check"]) == 0
    assert f"reality_check ({SURVEYS_DIR / 'reality_check.yaml'}): ok: reality_check" in capsys.readouterr().out
    assert main(["instrument", "validate", "no_such_thing"]) == 1
    assert "no instrument file or shipped instrument 'no_such_thing'; shipped: competence_reflection" in capsys.readouterr().err


def test_cli_validate_in_a_real_process_has_no_traceback(tmp_path: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: [unclosed\n")
    proc = subprocess.run([sys.executable, "-m", "toolkit", "instrument", "validate", str(bad)], capture_output=True, text=True)
    assert proc.returncode == 1
    assert "not valid YAML" in proc.stderr and "Traceback" not in proc.stderr


def test_measures_are_an_optional_list_of_texts_per_dimension():
    """Issue 14: suggested kinds of measures per dimension (for the reports' next steps), optional and bilingual."""
    assert parse_instrument(MINIMAL, source="mini.yaml").dimension("d1").measures == ()
    inst = parse_instrument(_mutate("dimensions[0].measures", [{"de": "Schulung", "en": "Training"}]), source="mini.yaml")
    assert [m.get("de") for m in inst.dimension("d1").measures] == ["Schulung"]
    assert inst.dimension("d1").measures[0].get("en") == "Training"
    with pytest.raises(InstrumentError) as info:
        parse_instrument(_mutate("dimensions[0].measures", [{"de": "nur deutsch"}]), source="mini.yaml")
    assert ("dimensions[0].measures[0]", "required key 'en' is missing") in info.value.problems
    shipped = load_instrument(SURVEYS_DIR / "competence_reflection.yaml")
    assert all(d.measures for d in shipped.dimensions if d.scored_items)
