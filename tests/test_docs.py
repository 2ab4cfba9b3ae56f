"""Consistency: every CLI command has help text and appears in the README; notebooks have no outputs."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from toolkit.cli import COMMANDS, build_parser, main

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _subcommands():
    parser = build_parser()
    action = next(a for a in parser._actions if a.dest == "command")
    return action.choices


def test_commands_list_matches_the_parser():
    assert sorted(COMMANDS) == sorted(_subcommands())


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_and_is_in_the_readme(command):
    sub = _subcommands()[command]
    assert sub.description and len(sub.description) > 15
    assert f"upo {command}" in README


def test_readme_shows_the_two_setup_commands():
    assert "make demo" in README and "make test" in README


def test_no_arguments_prints_help_and_exits_2(capsys):
    assert main([]) == 2
    assert "usage: upo" in capsys.readouterr().out


def test_usage_errors_exit_2_and_bad_input_exits_1(tmp_path: Path):
    run = lambda *a: subprocess.run([sys.executable, "-m", "toolkit", *a], capture_output=True, text=True)  # noqa: E731
    usage = run("scores")
    assert usage.returncode == 2 and "required" in usage.stderr
    missing = run("scores", str(tmp_path / "none.sqlite"), "--instrument", "competence_reflection")
    assert missing.returncode == 1
    assert missing.stderr.strip().count("\n") == 0 and "no database here" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_init_command(tmp_path: Path, capsys):
    assert main(["init", str(tmp_path / "k.sqlite"), "--cohort", "UPO 2026", "--min-group-size", "6"]) == 0
    assert "created" in capsys.readouterr().out
    assert main(["init", str(tmp_path / "k.sqlite")]) == 1
    assert "exists already" in capsys.readouterr().err


@pytest.mark.parametrize("path", sorted((ROOT / "notebooks").glob("*.ipynb")), ids=lambda p: p.name)
def test_notebooks_are_committed_without_outputs(path: Path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert not cell.get("outputs") and not cell.get("execution_count"), f"{path.name}: strip outputs"


def _leaf_commands(parser=None, path=()):
    """``(("key", "export"), subparser)`` for every command the user types, nested ones included."""
    parser = parser or build_parser()
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield path, parser
        return
    for name, sub in subs[0].choices.items():
        yield from _leaf_commands(sub, (*path, name))


def _cli_rows():
    section = README.split("## A tour of the command line", 1)[1].split("\n## ", 1)[0]
    return [line.split(" | ")[0] for line in section.splitlines() if line.startswith("| `upo ")]


@pytest.mark.parametrize("path,sub", list(_leaf_commands()), ids=lambda v: " ".join(v) if isinstance(v, tuple) else "")
def test_the_readme_cli_table_lists_every_option(path, sub):
    command = "upo " + " ".join(path)
    rows = [r for r in _cli_rows() if f"`{command} " in r or f"`{command}`" in r]
    assert rows, f"no row for {command!r} in the README's CLI table"
    options = [s for a in sub._actions if a.help != argparse.SUPPRESS for s in a.option_strings if s.startswith("--") and s != "--help"]
    missing = [o for o in options if not any(o in r for r in rows)]
    assert not missing, f"{command}: {missing} missing in the README's CLI table"
