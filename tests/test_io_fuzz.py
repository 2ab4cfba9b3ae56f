"""Property-based tests: random malformed files fed to every importer (GitHub issue 5).

Whatever the file, an import either raises one of our errors (a ToolkitError, never a
traceback from pandas, openpyxl or sqlite) and leaves the database unchanged, or it
returns a result that accounts for every row (imported + unchanged + quarantined +
skipped = rows read) and stores exactly the submissions it reports.
"""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from toolkit.exceptions import ToolkitError
from toolkit.io import import_file
from toolkit.store import Store

SETTINGS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
_counter = itertools.count()

HEADERS = st.sampled_from([
    "participant", "authority", "mother", "birthday", "birthplace", "street", "go1", "go2", "GO3", "ro1",
    "sh_influence[personalrat]", "sh_attitude[Frei]", "sh_note", "submitdate", "id", "token",
    "CODE[mother]", "CODE[birthday]", "CODE[birthplace]", "CODE[street]", "G01Q01[SQ001]", "G02Q01[SQ002]",
    "", "foo", "a;b", 'x"y', "[", "Ä", "dt1",
])
CELLS = st.one_of(
    st.sampled_from(["", "1", "2", "0", "9", "7", "-2", "N2", "2,0", "1.5", "ja", "nein", "teilweise", "x", "AO01", "  ", "Mä", "07", "P-1"]),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=8),
)


def _snapshot(store: Store) -> tuple:
    c = store.conn
    return tuple(c.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                 for t in ("submissions", "answers", "quarantine", "authorities", "waves", "instruments", "participants", "stakeholders"))


def _check(store: Store, path: Path, **kwargs) -> None:
    before = _snapshot(store)
    try:
        res = import_file(store, path, wave="t0", **kwargs)
    except ToolkitError as exc:
        event(f"refused: {type(exc).__name__}: {str(exc).split(':')[1][:40] if ':' in str(exc) else exc}")
        assert str(exc)  # a message for the user
        assert _snapshot(store) == before, "a refused file must leave the database unchanged"
        return
    after = _snapshot(store)
    event("imported" if res.n_imported else ("quarantined" if res.n_quarantined else "nothing new"))
    assert res.n_imported + res.n_unchanged + res.n_quarantined + res.n_skipped == res.n_rows
    assert after[0] - before[0] == res.n_imported
    assert after[2] - before[2] <= len(res.problems)
    assert (res.n_quarantined > 0) == (len(res.problems) > 0)


@pytest.fixture
def fuzz_store(tmp_path: Path) -> Store:
    s = Store.init(tmp_path / "fuzz.sqlite")
    s.add_instrument("reality_check")
    s.add_instrument("stakeholder_analysis")
    yield s
    s.close()


PLAUSIBLE = {
    "reality_check": ["go1", "go2", "go3", "G01Q01[SQ001]", "G01Q01[SQ002]", "G02Q01[SQ001]"],
    "stakeholder_analysis": ["sh_influence[personalrat]", "sh_attitude[datenschutz]", "sh_interest[Frei 1]",
                             "sh_note", "G01Q01[SQ001]", "G02Q01"],
}
WHO = [["participant"], ["mother", "birthday", "birthplace", "street"], ["CODE[mother]", "CODE[birthday]", "CODE[birthplace]", "CODE[street]"]]


@st.composite
def headers(draw, instrument: str) -> list[str]:
    """Half of the time a header that passes the column checks, so rows get validated too."""
    if draw(st.booleans()):
        return draw(st.lists(HEADERS, min_size=0, max_size=8))
    head = list(draw(st.sampled_from(WHO))) + draw(st.lists(st.sampled_from(PLAUSIBLE[instrument]), min_size=1, max_size=4, unique=True))
    head += draw(st.sampled_from([[], ["authority"], ["submitdate"], ["id", "submitdate"]]))
    return draw(st.permutations(head))


@st.composite
def csv_texts(draw, instrument: str) -> tuple[bytes, str]:
    sep = draw(st.sampled_from([",", ";", "\t", "|"]))
    header = draw(headers(instrument))
    n = draw(st.integers(0, 6))
    ragged = draw(st.booleans()) and draw(st.booleans())  # a quarter of the files have rows of any length
    width = len(header)
    rows = [draw(st.lists(CELLS, min_size=0 if ragged else width, max_size=width + 2 if ragged else width)) for _ in range(n)]

    def quote(c: str) -> str:
        return draw(st.sampled_from([c, f'"{c}"', c.replace('"', '""')]))

    text = "\n".join(sep.join(quote(c) for c in r) for r in [header, *rows])
    text += draw(st.sampled_from(["", "\n", "\n\n", '\n"']))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "latin-1"]))
    return text.encode(encoding, errors="replace"), draw(st.sampled_from(["csv", "limesurvey", None]))


@given(data=st.data(), instrument=st.sampled_from(["reality_check", "stakeholder_analysis"]),
       incomplete=st.sampled_from(["quarantine", "import", "skip"]), who=st.sampled_from(["authority", "column", "participant"]))
@SETTINGS
def test_random_csv_files_give_our_errors_or_a_complete_account(fuzz_store: Store, tmp_path: Path, data, instrument, incomplete, who):
    raw, fmt = data.draw(csv_texts(instrument))
    path = tmp_path / f"f{next(_counter)}.csv"
    path.write_bytes(raw)
    head = raw.split(b"\n")[0]
    kw: dict = {"authority_column": "authority"} if b"authority" in head and who != "authority" else {"authority": "BVA"}
    if b"participant" in head and who == "participant":
        kw["participant_column"] = "participant"
    _check(fuzz_store, path, instrument=instrument, format=fmt, incomplete=incomplete, **kw)


@given(raw=st.binary(max_size=300), fmt=st.sampled_from(["csv", "xlsx", "limesurvey"]), suffix=st.sampled_from([".csv", ".xlsx"]))
@SETTINGS
def test_random_bytes_give_our_errors(fuzz_store: Store, tmp_path: Path, raw, fmt, suffix):
    path = tmp_path / f"b{next(_counter)}{suffix}"
    path.write_bytes(raw)
    _check(fuzz_store, path, instrument="reality_check", format=fmt, authority="BVA")


XLSX_CELLS = st.one_of(
    st.none(), st.integers(-3, 12), st.floats(allow_nan=True, allow_infinity=True), st.booleans(),
    st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2030, 1, 1)),
    CELLS.filter(lambda c: not any(ord(ch) < 32 and ch not in "\t\n\r" for ch in c)),
)


@given(header=headers("reality_check"), rows=st.lists(st.lists(XLSX_CELLS, max_size=10), max_size=6),
       fmt=st.sampled_from(["xlsx", "limesurvey"]))
@SETTINGS
def test_random_workbooks_give_our_errors_or_a_complete_account(fuzz_store: Store, tmp_path: Path, header, rows, fmt):
    path = tmp_path / f"w{next(_counter)}.xlsx"
    book = Workbook()
    sheet = book.active
    for r in [header, *rows]:
        sheet.append(r)
    book.save(path)
    _check(fuzz_store, path, instrument="reality_check", format=fmt, authority="BVA")
