"""Readers: turn a CSV or XLSX file into a table of strings, with user-visible row numbers.

Every reader returns a :class:`RawTable`: the header as written, the cells as text
(``""`` for an empty cell) and, for each data row, the row number a user sees in a
spreadsheet (the header is row 1). Parsing is left to kept libraries (pandas with its
C parser, openpyxl); anything they cannot read becomes a :class:`~toolkit.exceptions.DataError`
that names the file and the fix.

Importers (what the columns mean) are registered in :data:`IMPORTERS`:
``csv`` and ``xlsx`` (wide files, DESIGN §9) and ``limesurvey`` (response exports).

Example
-------
>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "a.csv"
>>> _ = p.write_bytes("mother;dt1\\nMa;2,0\\n".encode("cp1252"))
>>> t = read_csv_table(p)
>>> t.header, t.rows, t.row_numbers, t.sep
(['mother', 'dt1'], [['Ma', '2,0']], [2], ';')
"""

from __future__ import annotations

import csv
import io
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from ..exceptions import DataError

if TYPE_CHECKING:  # pandas is imported when a file is read or a frame built: the command's checks start without it
    import pandas as pd

__all__ = ["RawTable", "Importer", "ImporterRegistry", "IMPORTERS", "read_csv_table", "read_xlsx_table", "read_table", "guess_format"]

log = logging.getLogger("toolkit")

MAX_BYTES = 200 * 1024 * 1024


@dataclass
class RawTable:
    """A file read as text cells.

    Attributes
    ----------
    source
        The file as given.
    header
        Column names as written (stripped of surrounding white space).
    rows
        One list of cell texts per data row (``""`` = empty), as long as the header.
    row_numbers
        The spreadsheet row number of each data row (header = row 1).
    notes
        Things the user should know (e.g. an encoding fallback).
    sep
        The CSV separator found (``None`` for workbooks).
    formulas
        Workbook cells holding a formula without a computed value: ``(row number, column
        index, formula)``; the cell text is the formula, and the importer quarantines the row.
    """

    source: str
    header: list[str]
    rows: list[list[str]]
    row_numbers: list[int]
    notes: list[str] = field(default_factory=list)
    sep: str | None = None
    formulas: list[tuple[int, int, str]] = field(default_factory=list)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return repr(int(value)) if value.is_integer() else repr(value)
    return str(value).strip()


def _decode(data: bytes, source: str) -> tuple[str, list[str]]:
    """UTF-8 (with or without BOM); else Windows-1252 (Excel's "CSV" on German Windows)."""
    if b"\x00" in data:
        raise DataError(
            f"{source}: contains NUL bytes, so it is not a text (CSV) file; "
            "if it is UTF-16 ('Unicode text' in Excel), save it again as 'CSV UTF-8'"
        )
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        utf8_err = exc
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        raise DataError(
            f"{source}: byte {utf8_err.start + 1} is neither UTF-8 nor Windows-1252 text; "
            "save the file as 'CSV UTF-8' and import it again"
        ) from None
    note = f"{Path(source).name} is not UTF-8; it was read as Windows-1252 (cp1252, Excel's 'CSV' on Windows); check umlauts in the result"
    log.warning(note)
    return text, [note]


def _sniff_sep(text: str) -> str:
    lines = [ln for ln in text.splitlines() if ln.strip()][:20]
    sample = "\n".join(lines)
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:
        header = lines[0] if lines else ""
        counts = {sep: header.count(sep) for sep in (";", ",", "\t")}
        best = max(counts, key=lambda s: counts[s])
        return best if counts[best] else ","


def read_csv_table(path: str | Path) -> RawTable:
    """Read a CSV file (``,`` ``;`` or tab; UTF-8 with/without BOM or cp1252) as text cells.

    Raises
    ------
    DataError
        If the file is missing, empty, not text, or rows do not fit the header.
    """
    path = Path(path)
    source = str(path)
    data = _read_bytes(path)
    text, notes = _decode(data, source)
    if not text.strip():
        raise DataError(f"{source}: the file is empty; export the answers with a header row and one row per participant")
    sep = _sniff_sep(text)
    import pandas as pd

    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=sep,
            header=None,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            engine="c",
        )
    except pd.errors.EmptyDataError:
        raise DataError(f"{source}: the file is empty; export the answers with a header row and one row per participant") from None
    except (pd.errors.ParserError, csv.Error, ValueError, OverflowError) as exc:
        msg = " ".join(str(exc).split())
        raise DataError(
            f"{source}: cannot be read as a CSV table with separator {sep!r} ({msg}); "
            "check that every row has as many fields as the header and that quotes are closed"
        ) from None
    return _table_from_frame(frame, source, notes, sep=sep)


def read_xlsx_table(path: str | Path) -> RawTable:
    """Read the first sheet of an Excel workbook (.xlsx) as text cells.

    Raises
    ------
    DataError
        If the file is missing or not a readable .xlsx workbook.
    """
    path = Path(path)
    source = str(path)
    _read_bytes(path)  # existence, size
    import pandas as pd

    try:
        frame = pd.read_excel(path, sheet_name=0, header=None, dtype=object, engine="openpyxl")
    except Exception as exc:  # openpyxl raises many types for broken files; all mean "not a workbook"
        msg = " ".join(str(exc).split())[:200]
        raise DataError(
            f"{source}: cannot be read as an Excel workbook (.xlsx) ({exc.__class__.__name__}: {msg}); "
            "save it from Excel as 'Excel-Arbeitsmappe (*.xlsx)' or export it as CSV"
        ) from None
    frame = frame.map(_cell)
    formulas = _uncomputed_formulas(path, frame)
    table = _table_from_frame(frame, source, [], sep=None)
    table.formulas = [f for f in formulas if f[0] in set(table.row_numbers)]
    return table


def _uncomputed_formulas(path: Path, frame: pd.DataFrame) -> list[tuple[int, int, str]]:
    """Formula cells whose cached value is empty (a file written by a program, not saved by a spreadsheet).

    Their text in ``frame`` becomes the formula, so the row is not taken for blank and is quarantined.
    """
    import openpyxl

    found = []
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except Exception:  # pandas read it; a second reading problem only means no formula check
        return []
    try:
        ws = wb.worksheets[0]
        for row in ws.iter_rows():
            for c in row:
                if getattr(c, "data_type", None) != "f" or c.row is None or c.column is None:
                    continue
                i, j = c.row - 1, c.column - 1
                if i < frame.shape[0] and j < frame.shape[1] and frame.iat[i, j] == "":
                    frame.iat[i, j] = str(c.value)
                    found.append((c.row, j, str(c.value)))
    finally:
        wb.close()
    return found


def _read_bytes(path: Path) -> bytes:
    source = str(path)
    if not path.exists():
        raise DataError(f"{source}: file not found; give the path of the file to import")
    if path.is_dir():
        raise DataError(f"{source}: is a folder; give the path of a file")
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise DataError(f"{source}: {size / 1e6:.0f} MB is larger than the import limit of {MAX_BYTES / 1e6:.0f} MB; split the file")
    return path.read_bytes()


def _table_from_frame(frame: pd.DataFrame, source: str, notes: list[str], *, sep: str | None) -> RawTable:
    if frame.empty:
        raise DataError(f"{source}: the file is empty; export the answers with a header row and one row per participant")
    values = [[_cell(v) for v in row] for row in frame.itertuples(index=False, name=None)]
    # the header is the first row that is not blank (leading blank lines are tolerated)
    start = next((i for i, r in enumerate(values) if any(r)), None)
    if start is None:
        raise DataError(f"{source}: the file has no content; export the answers with a header row and one row per participant")
    header = values[start]
    while header and header[-1] == "":
        header = header[:-1]
    width = len(header)
    rows, numbers = [], []
    for i in range(start + 1, len(values)):
        row = values[i]
        if not any(row):
            continue  # blank line: nothing to import, nothing lost
        extra = [c for c in row[width:] if c]
        if extra:
            raise DataError(
                f"{source}: row {i + 1} has a value ({extra[0]!r}) to the right of the last of the header's {width} columns; "
                "fix the row or give the column a name"
            )
        rows.append((row + [""] * width)[:width])
        numbers.append(i + 1)
    return RawTable(source=source, header=header, rows=rows, row_numbers=numbers, notes=notes, sep=sep)


def read_table(path: str | Path) -> RawTable:
    """Read a CSV or XLSX file, chosen by the file name (``.xlsx``/``.xlsm`` → workbook, else CSV)."""
    suffix = Path(path).suffix.lower()
    return read_xlsx_table(path) if suffix in (".xlsx", ".xlsm") else read_csv_table(path)


# --------------------------------------------------------------------------- importer registry
@dataclass(frozen=True)
class Importer:
    """An import format: how to read the file and how to name its columns.

    Parameters
    ----------
    name
        The ``--format`` value.
    read
        ``path -> RawTable``.
    description
        One line for help texts.
    limesurvey
        Whether headers are LimeSurvey question codes (translated through a mapping).
    """

    name: str
    read: Callable[[str | Path], RawTable]
    description: str
    limesurvey: bool = False


class ImporterRegistry:
    """Registry of import formats; ``get`` of an unknown name lists the known ones."""

    def __init__(self) -> None:
        self._importers: dict[str, Importer] = {}

    def register(self, importer: Importer) -> Importer:
        self._importers[importer.name] = importer
        return importer

    def get(self, name: str) -> Importer:
        try:
            return self._importers[name]
        except KeyError:
            raise DataError(f"unknown import format {name!r}; known formats: {', '.join(self.names())}") from None

    def names(self) -> list[str]:
        return list(self._importers)


IMPORTERS = ImporterRegistry()
IMPORTERS.register(Importer("csv", read_csv_table, "wide CSV: one row per participant, one column per item id"))
IMPORTERS.register(Importer("xlsx", read_xlsx_table, "wide Excel workbook (first sheet), same columns as CSV"))
IMPORTERS.register(Importer("limesurvey", read_table, "LimeSurvey response export (CSV or XLSX, question-code headings)", limesurvey=True))

_LS_MARKERS = {"submitdate", "lastpage", "startlanguage"}


def guess_format(path: str | Path, table: RawTable | None = None) -> str:
    """The import format from the file name and, for CSV, the header (LimeSurvey meta columns).

    >>> guess_format("answers.xlsx")
    'xlsx'
    """
    suffix = Path(path).suffix.lower()
    if table is not None and len(_LS_MARKERS & {h.strip().lower() for h in table.header}) >= 1:
        return "limesurvey"
    if suffix in (".xlsx", ".xlsm"):
        return "xlsx"
    if suffix in (".csv", ".txt", ".tsv", ""):
        return "csv"
    raise DataError(f"{path}: cannot tell the format from the file name; give --format {' | '.join(IMPORTERS.names())}")
