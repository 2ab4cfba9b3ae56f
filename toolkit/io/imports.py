"""``import_file``: read, validate, then store valid rows and quarantine the rest in one transaction.

Steps: read the file (:mod:`.readers`), map its columns (:mod:`.validate`,
:mod:`.limesurvey`; unknown columns refuse the whole file), validate every row,
then in **one** transaction: store the instrument (if given by path), create unknown
authorities and waves, store the valid rows as submissions and the invalid rows in the
quarantine table (file, spreadsheet row, column, value, reason; the participant only as
pseudonym). A file-level error leaves the database unchanged.

Each submission carries a token, a hash of instrument hash, authority, participant
pseudonym, wave and answers: importing the same file again stores nothing twice, and a
corrected row becomes a correction (the latest submission counts).

Example
-------
>>> import tempfile, pathlib
>>> from toolkit.store import Store
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> db = Store.init(d / "c.sqlite")
>>> _ = (d / "a.csv").write_text("participant;go1;go2\\nA17;2;1\\nA18;7;1\\n", encoding="utf-8")
>>> r = import_file(db, d / "a.csv", instrument="reality_check", wave="t0", authority="BVA")
>>> r.n_imported, r.n_quarantined, r.created_authorities, r.created_waves
(1, 1, ['BVA'], ['t0'])
>>> db.quarantined()["reason"][0]
"value 7 is not on scale 'ynp' of item 'go1'; valid values: 0, 1, 2, 9 (missing)"
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ..exceptions import DataError
from ..instruments import Instrument, load_instrument, resolve_instrument
from ..store import Store, Submission
from ..store.answers import _validate_answers
from .limesurvey import limesurvey_columns, read_mapping
from .readers import IMPORTERS, guess_format, read_table
from .validate import PreparedRow, Problem, finish_columns, prepare_rows, wide_columns

if TYPE_CHECKING:  # pandas is imported when a file is read or a frame built: the command's checks start without it
    import pandas as pd

__all__ = ["ImportResult", "import_file", "submission_token"]

log = logging.getLogger("toolkit")

Incomplete = Literal["quarantine", "import", "skip"]


@dataclass
class ImportResult:
    """What an import did. Nothing is silently dropped: every row is imported, unchanged,
    quarantined or (LimeSurvey, ``incomplete="skip"``) skipped and listed."""

    source: str
    format: str
    instrument: str
    version: str
    wave: str
    n_rows: int = 0
    n_imported: int = 0
    n_unchanged: int = 0
    n_quarantined: int = 0
    n_skipped: int = 0
    created_authorities: list[str] = field(default_factory=list)
    created_waves: list[str] = field(default_factory=list)
    instrument_stored: bool = False
    skipped_rows: list[int] = field(default_factory=list)
    problems: pd.DataFrame = field(default_factory=lambda: _problems_frame([]))
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.n_quarantined == 0

    def summary_text(self) -> str:
        """A short plain-text summary for the command line."""
        lines = [
            f"{self.source}: {self.n_rows} rows read as {self.format} for {self.instrument} {self.version}, wave {self.wave}",
            f"  imported: {self.n_imported} new submissions"
            + (f", {self.n_unchanged} already imported earlier (unchanged, not stored again)" if self.n_unchanged else ""),
            f"  quarantined: {self.n_quarantined} rows" + (" (kept in the quarantine table with row, column and reason)" if self.n_quarantined else ""),
        ]
        if self.n_quarantined:
            counts = Counter(self.problems.drop_duplicates(["row", "kind"])["kind"])
            for kind, n in counts.most_common(5):
                example = self.problems.loc[self.problems["kind"] == kind].iloc[0]
                where = f"row {example['row']}" + (f", column {example['column']!r}" if example["column"] else "")
                lines.append(f"    {n} × {kind.replace('_', ' ')}: e.g. {where}: {example['reason']}")
        if self.n_skipped:
            rows = ", ".join(map(str, self.skipped_rows[:20])) + (", …" if len(self.skipped_rows) > 20 else "")
            lines.append(f"  skipped: {self.n_skipped} incomplete responses (no submitdate), rows {rows}; import them with --incomplete import")
        if self.created_authorities:
            lines.append(f"  new authorities: {', '.join(self.created_authorities)} (add names and ministries later)")
        if self.created_waves:
            lines.append(f"  new waves: {', '.join(self.created_waves)}")
        if self.instrument_stored:
            lines.append(f"  instrument {self.instrument} {self.version} stored in the database; later commands name it by its id")
        lines.extend(f"  note: {n}" for n in self.notes)
        return "\n".join(lines)


def submission_token(inst: Instrument, authority: str, participant: str, wave: str, answers: dict[Any, Any]) -> str:
    """The idempotency token of an imported row: a hash of what it says, not where it came from."""
    items = sorted(
        ([k[0], k[1]] if isinstance(k, tuple) else [k, None], v if isinstance(v, str) else float(v)) for k, v in answers.items()
    )
    payload = json.dumps([inst.hash, authority, participant, wave, items], ensure_ascii=False, default=str)
    return "import:" + hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _resolve(store: Store, ref: str | Path | Instrument) -> tuple[Instrument, bool]:
    """The instrument and whether it still has to be stored."""
    if isinstance(ref, Instrument):
        inst = ref
    else:
        path = Path(ref)
        if path.suffix in (".yaml", ".yml") or path.exists():
            inst = load_instrument(path)
        else:
            try:
                inst = store.instrument(str(ref))
            except DataError:
                inst = resolve_instrument(ref)  # a shipped instrument; raises with the list if unknown
    stored = store.conn.execute("SELECT 1 FROM instruments WHERE hash = ?", (inst.hash,)).fetchone() is not None
    return inst, not stored


def import_file(
    store: Store,
    path: str | Path,
    *,
    instrument: str | Path | Instrument,
    wave: str,
    format: str | None = None,
    authority: str | None = None,
    authority_column: str | None = None,
    participant_column: str | None = None,
    incomplete: Incomplete = "quarantine",
    mapping: str | Path | None = None,
) -> ImportResult:
    """Import a wide CSV/XLSX file or a LimeSurvey response export.

    Parameters
    ----------
    store
        The cohort database.
    path
        The file.
    instrument
        Stored or shipped instrument id, YAML path (stored in the database) or object.
    wave
        Wave label; created if new.
    format
        ``csv``, ``xlsx`` or ``limesurvey``; default: from the file name and header.
    authority, authority_column
        One authority code for all rows, or the column holding it.
    participant_column
        Column with a pseudonymous participant id (default: the code-element columns).
    incomplete
        LimeSurvey responses without ``submitdate``: ``quarantine``, ``import`` or ``skip``
        (skipped rows are listed in the result).
    mapping
        LimeSurvey mapping file (YAML or CSV), see :mod:`toolkit.io.limesurvey`.

    Returns
    -------
    ImportResult

    Raises
    ------
    DataError
        File-level problems (unreadable file, unknown columns, no participant or
        authority column); the database is then unchanged.
    """
    if incomplete not in ("quarantine", "import", "skip"):
        raise DataError(f"incomplete={incomplete!r}; choose quarantine, import or skip")
    wave = str(wave).strip()
    if not wave:
        raise DataError("give a wave label, e.g. --wave t0")
    if authority is not None and authority_column is not None:
        raise DataError("give either --authority CODE or --authority-column COL, not both")
    if authority is not None:
        authority = " ".join(str(authority).split())
        if not authority:
            raise DataError("--authority is empty; give an authority code such as BVA")
    path = Path(path)
    source = str(path)
    inst, to_store = _resolve(store, instrument)
    fmt = format
    if fmt is None:
        fmt = guess_format(path)
        table = IMPORTERS.get(fmt).read(path)
        fmt = guess_format(path, table)
    else:
        importer = IMPORTERS.get(fmt)
        table = importer.read(path) if not importer.limesurvey else read_table(path)
    is_ls = IMPORTERS.get(fmt).limesurvey
    answer_codes: dict[str, float] = {}
    if is_ls:
        ls_map = None
        if mapping is not None:
            ls_map, answer_codes = read_mapping(mapping)
        columns = limesurvey_columns(table.header, inst, source=source, mapping=ls_map, mapping_source=str(mapping),
                                     authority_column=authority_column, participant_column=participant_column, authority=authority)
        finish_columns(columns, table.header, inst, source=source, has_authority=authority is not None,
                       authority_hint=", or map a column to authority in --mapping")
    else:
        if mapping is not None:
            raise DataError("--mapping is for LimeSurvey exports; wide files name their columns by item id")
        columns = wide_columns(table.header, inst, source=source, authority_column=authority_column,
                               participant_column=participant_column, has_authority=authority is not None, rows=table.rows)
    key = store.key
    formula_cells = _formula_cells(table, columns)
    rows, problems = prepare_rows(table.header, table.rows, table.row_numbers, columns, inst, key=key,
                                  authority=authority, answer_codes=answer_codes, limesurvey=is_ls)
    result = ImportResult(source=source, format=fmt, instrument=inst.id, version=inst.version, wave=wave,
                          n_rows=len(table.rows), notes=list(table.notes))
    if formula_cells:  # a formula without a computed value: the file cannot say what was meant
        raws = {p.row: p.raw for p in problems} | {r.row: r.raw for r in rows}
        for number, name, formula in formula_cells:
            problems.append(Problem(number, name, formula, "formula",
                                    f"the cell holds the formula {formula!r} without a computed value; open the file in a "
                                    "spreadsheet program and save it again (that computes the value), or type the value",
                                    raws.get(number)))
        rows = [r for r in rows if r.row not in {n for n, _, _ in formula_cells}]
    if is_ls and not any(t.kind == "submitdate" for t in columns.values()):
        result.notes.append("the file has no submitdate column, so complete and incomplete responses cannot be told apart; "
                            "every response was taken as complete (export with 'submitdate' to let incomplete ones be held back)")
    # incomplete LimeSurvey responses
    keep: list[PreparedRow] = []
    for r in rows:
        if r.complete or incomplete == "import":
            keep.append(r)
        elif incomplete == "skip":
            result.skipped_rows.append(r.row)
        else:
            problems.append(Problem(r.row, "submitdate", None, "incomplete",
                                    "incomplete LimeSurvey response (no submitdate); import it with --incomplete import", r.raw))
    # the store's own checks as a safety net: a row it would refuse is quarantined, not fatal
    subs: list[Submission] = []
    for r in keep:
        sub = Submission(r.authority, r.code, wave, inst, r.answers, source=f"import:{path.name}",
                         token=submission_token(inst, r.authority, r.participant, wave, r.answers))
        try:
            _validate_answers(inst, sub)
        except DataError as exc:
            problems.append(Problem(r.row, None, None, "invalid", str(exc), r.raw))
            continue
        subs.append(sub)
    problems.sort(key=lambda p: p.row)
    known_auth = set(store.authorities()["authority"])
    known_waves = set(store.waves()["wave"])
    tokens = [s.token for s in subs]
    existing = _existing_tokens(store, tokens)
    new_subs = [s for s in subs if s.token not in existing]
    quarantine = _new_quarantine_rows(store, source, problems)
    with store.atomic():
        if to_store:
            store.add_instrument(inst)
        if subs:  # a file without one valid row creates no wave and no authority
            store.submit_many(subs, create_missing=True)
        store.quarantine(quarantine)
    result.instrument_stored = to_store
    result.n_imported = len(new_subs)
    result.n_unchanged = len(subs) - len(new_subs)
    result.n_quarantined = len({p.row for p in problems})
    result.n_skipped = len(result.skipped_rows)
    result.problems = _problems_frame(problems)
    result.created_authorities = sorted({s.authority for s in new_subs} - known_auth)
    result.created_waves = [wave] if new_subs and wave not in known_waves else []
    log.info("import %s: %d new, %d unchanged, %d quarantined", source, result.n_imported, result.n_unchanged, result.n_quarantined)
    return result


def _problems_frame(problems: list[Problem]) -> pd.DataFrame:
    """The quarantined problems as a frame: ``row, column, value, kind, reason``."""
    import pandas as pd

    return pd.DataFrame([{"row": p.row, "column": p.column, "value": p.value, "kind": p.kind, "reason": p.reason} for p in problems],
                        columns=["row", "column", "value", "kind", "reason"])


def _formula_cells(table: Any, columns: dict[int, Any]) -> list[tuple[int, str, str]]:
    """Formula cells without a value in the columns the import reads (blanked in the table; listed for the quarantine)."""
    out = []
    by_number = dict(zip(table.row_numbers, table.rows))
    for number, col, formula in getattr(table, "formulas", []):
        target = columns.get(col)
        if target is None or target.kind == "ignore" or number not in by_number:
            continue
        by_number[number][col] = ""
        out.append((number, table.header[col], formula))
    return out


def _existing_tokens(store: Store, tokens: list[str | None]) -> set[str]:
    found: set[str] = set()
    toks = [t for t in tokens if t]
    for i in range(0, len(toks), 500):
        chunk = toks[i : i + 500]
        marks = ",".join("?" * len(chunk))
        found.update(r[0] for r in store.conn.execute(f"SELECT token FROM submissions WHERE token IN ({marks})", chunk))
    return found


def _new_quarantine_rows(store: Store, source: str, problems: list[Problem]) -> list[dict[str, Any]]:
    """Quarantine records, leaving out those already kept from an earlier import of the same file."""
    records = [
        {"source": source, "row": p.row, "column": p.column, "value": p.value, "reason": p.reason, "raw": p.raw}
        for p in problems
    ]
    if not records:
        return []
    old = store.conn.execute('SELECT row, "column", value, reason, raw FROM quarantine WHERE source = ?', (source,)).fetchall()
    seen = Counter((r[0], r[1], r[2], r[3], r[4]) for r in old)
    out = []
    for rec in records:
        k = (rec["row"], rec["column"], None if rec["value"] is None else str(rec["value"]), rec["reason"],
             json.dumps(rec["raw"], ensure_ascii=False, default=str) if rec["raw"] is not None else None)
        if seen[k] > 0:
            seen[k] -= 1
            continue
        out.append(rec)
    return out
