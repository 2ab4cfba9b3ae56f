"""The store-only commands start without pandas, numpy or the report stack: the guides run dozens of them.

One fresh interpreter runs a guide's set-up commands one after another through :func:`toolkit.cli.main`
and records, after each, the heavy packages it has imported so far (behaviour, not timing; the
times are in ``bench/bench_reports.py``). The list commands' output without pandas is compared with
what :func:`toolkit.cli.emit` prints for the store's frames.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from toolkit.cli import emit, emit_rows, main
from toolkit.store import Store

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("pandas", "numpy", "pyarrow", "scipy", "matplotlib", "jinja2", "nbformat", "papermill", "jupyter_client", "openpyxl")

_PROBE = r"""
import contextlib, io, json, sys
from toolkit.cli import main
steps = []
heavy_names = set(json.loads(sys.argv[2]))
for argv in json.loads(sys.argv[1]):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(argv)
    heavy = sorted({m.split(".")[0] for m in sys.modules} & heavy_names)
    steps.append({"argv": argv, "rc": rc, "out": out.getvalue(), "err": err.getvalue(), "heavy": heavy})
print(json.dumps(steps))
"""


def _run(commands: list[list[str]], cwd: Path) -> list[dict]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HOME": str(cwd / "home"), "XDG_DATA_HOME": str(cwd / "data")}
    proc = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(commands), json.dumps(HEAVY)], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_store_only_commands_import_no_pandas(tmp_path: Path):
    db = str(tmp_path / "k.sqlite")
    commands = [
        ["--version"],
        ["report", "--help"],
        ["init", db, "--cohort", "UPO 2026"],
        ["authority", "add", db, "BVA", "--name", "Bundesverwaltungsamt", "--ministry", "BMI"],
        ["authority", "add", db, "ITZBund"],
        ["wave", "add", db, "t0", "--date", "2026-02-10"],
        ["wave", "add", db, "t1"],
        ["authority", "list", db],
        ["authority", "list", db, "--format", "csv"],
        ["wave", "list", db, "--format", "json"],
        ["instrument", "validate", "competence_reflection", "reality_check"],
        ["key", "export", str(tmp_path / "k.key"), "--db", db],
        ["import", db, str(tmp_path / "missing.csv"), "--instrument", "competence_reflection", "--wave", "t0"],
        ["import", db, str(tmp_path), "--instrument", "competence_reflection", "--wave", "t0"],
        ["import", db, str(tmp_path / "missing.csv"), "--instrument", "nope", "--wave", "t0"],
        ["report", db],
        ["report", str(tmp_path / "none.sqlite"), "--all"],
    ]
    steps = _run(commands, tmp_path)
    rcs = [s["rc"] for s in steps]
    assert rcs == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 2, 1], steps
    for step in steps:
        assert step["heavy"] == [], (step["argv"], step["heavy"])
        assert "Traceback" not in step["err"], step
        assert len(step["err"].strip().splitlines()) <= 1, step  # errors stay one line
    by_cmd = {" ".join(s["argv"][:2]): s for s in steps}
    assert "waves: t0, t1" in steps[6]["out"]
    assert "file not found" in steps[12]["err"] and "is a folder" in steps[13]["err"] and "'nope'" in steps[14]["err"]
    assert "no database here" in steps[16]["err"]
    assert json.loads(by_cmd["wave list"]["out"]) == [{"wave": "t0", "date": "2026-02-10", "position": 1},
                                                      {"wave": "t1", "date": None, "position": 2}]


def _cohort(path: Path) -> Store:
    store = Store.init(path, cohort="Test")
    store.add_authority("BVA", name="Bundesverwaltungsamt", ministry="BMI")
    store.add_authority("ITZBund", ministry="BMF")
    store.add_authority("A,B", name='Amt "Nord"; Süd')
    store.add_wave("t0", date="2026-02-10")
    store.add_wave("t1")
    return store


@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
def test_the_lists_without_pandas_print_what_the_frames_print(tmp_path: Path, fmt: str):
    with _cohort(tmp_path / "c.sqlite") as store:
        for frame, (columns, rows) in ((store.authorities(), store.authority_rows()), (store.waves(), store.wave_rows())):
            expected, got = io.StringIO(), io.StringIO()
            emit(frame, fmt, expected)
            emit_rows(columns, rows, fmt, got)
            assert got.getvalue() == expected.getvalue()
        only_t1 = store.waves().iloc[1:]  # a column of None only
        columns, rows = store.wave_rows()
        expected, got = io.StringIO(), io.StringIO()
        emit(only_t1, fmt, expected)
        emit_rows(columns, rows[1:], fmt, got)
        assert got.getvalue() == expected.getvalue()


def test_an_empty_list_prints_no_rows(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    db = tmp_path / "e.sqlite"
    Store.init(db, cohort="Leer").close()
    assert main(["authority", "list", str(db)]) == 0
    assert capsys.readouterr().out == "(no rows)\n"
    assert main(["wave", "list", str(db), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_wave_labels_and_authority_codes_are_the_frames_columns(tmp_path: Path):
    with _cohort(tmp_path / "c.sqlite") as store:
        assert store.wave_labels() == list(store.waves()["wave"])
        assert store.authority_codes() == sorted(store.authorities()["authority"])
