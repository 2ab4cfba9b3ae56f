"""The cohort set-up commands: upo init, upo authority add|list, upo wave add|list."""

from __future__ import annotations

import json
from pathlib import Path

from toolkit.cli import main
from toolkit.store import Store


def test_a_cohort_can_be_set_up_without_python(tmp_path: Path, capsys):
    db = str(tmp_path / "k.sqlite")
    assert main(["init", db, "--cohort", "UPO 2026"]) == 0
    assert main(["authority", "add", db, "BVA", "--name", "Bundesverwaltungsamt", "--ministry", "BMI"]) == 0
    assert main(["authority", "add", db, "BVA", "--ministry", "BMI"]) == 0  # updating keeps the name
    assert main(["wave", "add", db, "t0", "--date", "2026-02-10"]) == 0
    assert main(["wave", "add", db, "t1"]) == 0
    capsys.readouterr()
    assert main(["authority", "list", db, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == [{"authority": "BVA", "name": "Bundesverwaltungsamt", "ministry": "BMI"}]
    assert main(["wave", "list", db, "--format", "json"]) == 0
    waves = json.loads(capsys.readouterr().out)
    assert [w["wave"] for w in waves] == ["t0", "t1"] and waves[0]["date"] == "2026-02-10"
    assert list(Store(db).waves()["wave"]) == ["t0", "t1"]


def test_errors_and_bare_subcommands(tmp_path: Path, capsys):
    db = str(tmp_path / "k.sqlite")
    main(["init", db])
    assert main(["authority", "add", db, "  "]) == 1
    assert "non-empty code" in capsys.readouterr().err
    assert main(["wave", "add", str(tmp_path / "missing.sqlite"), "t0"]) == 1
    assert "no database here" in capsys.readouterr().err
    assert main(["wave"]) == 2
    assert "add" in capsys.readouterr().out


def test_erase_by_the_four_code_answers(store, capsys):
    from toolkit.store import Submission

    store.submit(Submission("BVA", ("Ma", "07", "K", "Ha"), "t0", "reality_check", {"go1": 2}))
    store.submit(Submission("BVA", ("Li", "23", "B", "Ro"), "t0", "reality_check", {"go1": 1}))
    assert main(["erase", str(store.path), "--code", "MA", "7", "k", "HA"]) == 0  # normalised like the form
    assert "erased 1 submissions of P-" in capsys.readouterr().out
    assert len(store.submissions()) == 1
    assert main(["erase", str(store.path), "--code", "MA", "7", "k", "HA"]) == 0
    assert "nothing to erase" in capsys.readouterr().out
    assert main(["erase", str(store.path)]) == 2  # --participant or --code is required
