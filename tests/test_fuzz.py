"""Fuzzing (bounded): the instrument loader and the command line raise only our errors, never a traceback."""

from __future__ import annotations

import copy

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toolkit.cli import main
from toolkit.exceptions import InstrumentError
from toolkit.instruments import parse_instrument
from toolkit.paths import SURVEYS_DIR

BASE = yaml.safe_load((SURVEYS_DIR / "reality_check.yaml").read_text(encoding="utf-8"))
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 10), st.floats(allow_nan=True), st.text(max_size=12))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)), max_leaves=8)


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, prefix + (i,))


ALL_PATHS = [p for p in _paths(BASE) if p]


@FUZZ
@given(st.text(max_size=300))
def test_arbitrary_text_gives_an_instrument_error_or_an_instrument(text):
    try:
        parse_instrument(text, source="fuzz.yaml")
    except InstrumentError as exc:
        assert str(exc).startswith("fuzz.yaml")


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(ALL_PATHS), values, st.booleans()), min_size=1, max_size=4))
def test_mutated_instruments_give_readable_errors(mutations):
    doc = copy.deepcopy(BASE)
    for path, value, delete in mutations:
        node = doc
        try:
            for key in path[:-1]:
                node = node[key]
            if delete:
                del node[path[-1]]
            else:
                node[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue
    text = yaml.safe_dump(doc, allow_unicode=True)
    try:
        parse_instrument(text, source="mutated.yaml")
    except InstrumentError as exc:
        assert exc.problems and all(isinstance(m, str) and m for _, m in exc.problems)


COMMANDS = {
    "init": ["{db}", "--cohort", "--min-group-size"],
    "instrument": ["validate", "{yaml}", "{missing}"],
    "scores": ["{db}", "--instrument", "--wave", "--by", "--format"],
    "reliability": ["{db}", "--instrument", "--wave", "--format"],
    "change": ["{db}", "--instrument", "--from", "--to", "--by", "--format"],
    "export": ["{db}", "--out", "--format", "--instrument"],
    "erase": ["{db}", "--participant"],
    "import": ["{db}", "{yaml}", "--instrument", "--wave", "--authority", "--format"],
}
WORDS = ["competence_reflection", "reality_check", "t0", "t1", "t9", "BVA", "authority", "json", "csv", "table",
         "xlsx", "-3", "0", "P-00000", "", "ü<script>", "--all", "--help-not"]


@FUZZ
@given(st.sampled_from(sorted(COMMANDS)), st.lists(st.one_of(st.sampled_from(sum(COMMANDS.values(), [])), st.sampled_from(WORDS)), max_size=7))
def test_cli_argument_combinations_never_raise(tmp_path_factory, capsys, monkeypatch, command, args):
    base = tmp_path_factory.mktemp("cli")
    monkeypatch.chdir(base)  # commands given a bare word as a path write here, not into the repository
    db = base / "c.sqlite"
    main(["init", str(db)])
    bad_yaml = base / "bad.yaml"
    bad_yaml.write_text("id: [")
    subst = {"{db}": str(db), "{yaml}": str(bad_yaml), "{missing}": str(base / "none.sqlite")}
    argv = [command] + [subst.get(a, a) for a in args]
    code = main(argv)  # any exception other than our handled ones fails the test
    assert code in (0, 1, 2)
    err = capsys.readouterr().err
    assert "Traceback" not in err
