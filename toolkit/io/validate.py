"""Validation of import files against an instrument: columns first, then every row.

Two levels of problems:

* **File-level** (a :class:`~toolkit.exceptions.DataError`, nothing is imported): columns
  that are not items of the instrument (unknown columns almost always mean a wrong
  instrument or mapping, so the whole file is refused with the list of unknown columns
  and the known item ids), no participant or authority column, two columns for the
  same item.
* **Row-level** (the row goes to the quarantine table, the other rows are imported):
  a value outside the item's scale, text where a number belongs, a missing participant
  code or authority, a participant twice in the file (all copies are quarantined: the
  file cannot tell which one is right), too many free stakeholder entries, a row without
  answers, an incomplete LimeSurvey response (by choice).

Column names of a wide file (DESIGN §9):

* an item id (``dt1``); case does not matter;
* per-stakeholder items as ``item[stakeholder]``: ``sh_influence[personalrat]``; the
  stakeholder is a catalogue id or name (``[Personalrat]`` works too); anything else is a
  free entry (``sh_influence[Externe Beratung]``);
* the participant: ``--participant-column COL`` (a pseudonymous id) or the four code
  elements ``mother, birthday, birthplace, street`` (see :data:`toolkit.codes.CODE_ELEMENTS`);
  a column named ``participant`` is used when there are no code-element columns;
* the authority: ``--authority-column COL`` or ``--authority CODE``; a column named
  ``authority`` is used when neither is given.

Example
-------
>>> from toolkit.instruments import resolve_instrument
>>> inst = resolve_instrument("stakeholder_analysis")
>>> parse_column("sh_influence[Personalrat]", inst)
Target(kind='item', item='sh_influence', stakeholder='personalrat', element=None)
>>> parse_value("2,0", inst.item("sh_influence"), inst.scales["influence5"])
2.0
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal, Mapping

from .. import codes as _codes
from ..exceptions import DataError
from ..instruments import Instrument, Item, Scale

__all__ = ["Target", "Problem", "PreparedRow", "CellError", "parse_column", "parse_value", "resolve_stakeholder", "wide_columns", "prepare_rows"]

ELEMENT_IDS = tuple(e.id for e in _codes.CODE_ELEMENTS)
_GRID_RE = re.compile(r"^\s*([^\[\]]+?)\s*\[\s*([^\[\]]*?)\s*\]\s*$")
_NUM_RE = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)$")
_LS_CODE_RE = re.compile(r"^(N?)(\d+)(?:p(\d+))?$")


@dataclass(frozen=True)
class Target:
    """What a column holds: an item (optionally for one stakeholder), a code element,
    the participant id, the authority, LimeSurvey's submitdate, or nothing we use."""

    kind: Literal["item", "code", "participant", "authority", "submitdate", "ignore"]
    item: str | None = None
    stakeholder: str | None = None
    element: str | None = None


@dataclass
class Problem:
    """One reason a row was quarantined (one per bad cell)."""

    row: int
    column: str | None
    value: str | None
    kind: str
    reason: str
    raw: dict[str, Any] | None = None


@dataclass
class PreparedRow:
    """A valid row, ready to become a :class:`~toolkit.store.Submission`."""

    row: int
    authority: str
    code: tuple[str, ...]
    participant: str  # pseudonym
    answers: dict[Any, Any]
    complete: bool = True
    raw: dict[str, str] = field(default_factory=dict)


class CellError(Exception):
    """A cell value that does not fit its item (internal; becomes a :class:`Problem`)."""

    def __init__(self, kind: str, reason: str):
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


# --------------------------------------------------------------------------- columns
def resolve_stakeholder(inst: Instrument, text: str) -> str:
    """A catalogue id for a stakeholder given by id or name (any case), else the free entry as typed."""
    name = " ".join(str(text).split())
    if inst.stakeholders is None:
        return name
    folded = name.casefold()
    for entry in inst.stakeholders.catalogue:
        if folded in (entry.id.casefold(), entry.name.de.casefold(), entry.name.en.casefold()):
            return entry.id
    return name


def parse_column(name: str, inst: Instrument) -> Target | None:
    """The target of a wide-file column name, or ``None`` if it is not an item or code element."""
    clean = " ".join(str(name).split())
    folded = clean.casefold()
    items = {i.id.casefold(): i for i in inst.items}
    if folded in items:
        item = items[folded]
        if item.item_type.per_stakeholder:
            return None  # a grid item needs [stakeholder]
        return Target("item", item=item.id)
    if folded in ELEMENT_IDS:
        return Target("code", element=folded)
    m = _GRID_RE.match(clean)
    if m:
        item = items.get(m.group(1).casefold())
        if item is not None and item.item_type.per_stakeholder and m.group(2):
            return Target("item", item=item.id, stakeholder=resolve_stakeholder(inst, m.group(2)))
    return None


def _known_columns_hint(inst: Instrument) -> str:
    plain = [i.id for i in inst.items if not i.item_type.per_stakeholder]
    grid = [i.id for i in inst.items if i.item_type.per_stakeholder]
    parts = []
    if plain:
        shown = ", ".join(plain[:40]) + (", …" if len(plain) > 40 else "")
        parts.append(f"known item ids: {shown}")
    if grid:
        example = inst.stakeholders.catalogue[0].id if inst.stakeholders and inst.stakeholders.catalogue else "name"
        parts.append(f"per-stakeholder items as item[stakeholder] (e.g. {grid[0]}[{example}]): {', '.join(grid)}")
    parts.append(f"participant: --participant-column COL or the code elements {', '.join(ELEMENT_IDS)}")
    return "; ".join(parts)


def wide_columns(
    header: list[str],
    inst: Instrument,
    *,
    source: str,
    authority_column: str | None = None,
    participant_column: str | None = None,
    has_authority: bool = False,
    rows: list[list[str]] | None = None,
) -> dict[int, Target]:
    """Map the columns of a wide file to targets (see the module docstring).

    Raises
    ------
    DataError
        Unknown columns (the whole file is refused), a named column that is missing,
        no participant or authority column, or two columns for one item.
    """
    folded = [" ".join(h.split()).casefold() for h in header]
    columns: dict[int, Target] = {}

    def find(name: str, what: str, option: str) -> int:
        key = " ".join(name.split()).casefold()
        if key not in folded:
            raise DataError(f"{source}: has no column {name!r} ({what}, {option}); columns: {', '.join(map(repr, header))}")
        return folded.index(key)

    if participant_column:
        columns[find(participant_column, "participant", "--participant-column")] = Target("participant")
    if authority_column:
        columns[find(authority_column, "authority", "--authority-column")] = Target("authority")
    unknown = []
    for i, name in enumerate(header):
        if i in columns:
            continue
        target = parse_column(name, inst)
        if target is None:
            if name == "" and rows is not None and not any(r[i] for r in rows):
                columns[i] = Target("ignore")
                continue
            if folded[i] == "participant" and not participant_column:
                columns[i] = Target("participant")
                continue
            if folded[i] == "authority" and not authority_column and not has_authority:
                columns[i] = Target("authority")
                continue
            unknown.append(name)
            continue
        columns[i] = target
    if unknown:
        raise DataError(
            f"{source}: {len(unknown)} column(s) are not items of instrument {inst.id!r} {inst.version}: "
            f"{', '.join(map(repr, unknown))}. Nothing was imported. Is it the right instrument? "
            f"Otherwise remove or rename these columns ({_known_columns_hint(inst)})"
        )
    finish_columns(columns, header, inst, source=source, has_authority=has_authority)
    return columns


def finish_columns(
    columns: dict[int, Target], header: list[str], inst: Instrument, *, source: str, has_authority: bool, authority_hint: str = ""
) -> None:
    """Check the column plan as a whole: participant, authority, no item twice, at least one item."""
    kinds = [t.kind for t in columns.values()]
    elements = {t.element for t in columns.values() if t.kind == "code"}
    if "participant" in kinds and elements:
        # an explicit participant id wins; code-element columns are then not used
        for i, t in list(columns.items()):
            if t.kind == "code":
                columns[i] = Target("ignore", element=t.element)  # remembered, so it never reaches the quarantine
    elif "participant" not in kinds:
        if not elements:
            raise DataError(
                f"{source}: no participant column; give --participant-column COL (a pseudonymous id) "
                f"or the code-element columns {', '.join(ELEMENT_IDS)}"
            )
        missing = [e for e in ELEMENT_IDS if e not in elements]
        if missing:
            raise DataError(
                f"{source}: the participant code needs the columns {', '.join(ELEMENT_IDS)}; missing: {', '.join(missing)}"
            )
    if kinds.count("participant") > 1:
        raise DataError(f"{source}: more than one participant column; keep one")
    if "authority" not in kinds and not has_authority:
        raise DataError(f"{source}: no authority: give --authority CODE or --authority-column COL{authority_hint}")
    if kinds.count("authority") > 1:
        raise DataError(f"{source}: more than one authority column; keep one")
    seen: dict[tuple[str | None, str | None, str | None], str] = {}
    for i, t in columns.items():
        if t.kind in ("item", "code"):
            key = (t.item, t.stakeholder, t.element)
            if key in seen:
                what = t.element or (f"{t.item}[{t.stakeholder}]" if t.stakeholder else t.item)
                raise DataError(f"{source}: columns {seen[key]!r} and {header[i]!r} both hold {what}; keep one of them")
            seen[key] = header[i]
    if not any(t.kind == "item" for t in columns.values()):
        raise DataError(f"{source}: no column holds an item of instrument {inst.id!r}; {_known_columns_hint(inst)}")


# --------------------------------------------------------------------------- values
def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _valid_list(scale: Scale) -> str:
    return ", ".join([_fmt(p) for p in scale.points] + [f"{_fmt(m)} (missing)" for m in scale.missing])


def parse_value(
    text: str,
    item: Item,
    scale: Scale | None,
    *,
    answer_codes: Mapping[str, float] | None = None,
    limesurvey: bool = False,
) -> Any:
    """The stored value of one cell: a number on the item's scale, a text, or ``None`` (empty).

    Numbers may use a German decimal comma (``2,0``); a scale label (German or English)
    stands for its point; LimeSurvey answer codes ``N2`` stand for −2.

    Raises
    ------
    CellError
        ``not_a_number`` or ``out_of_scale``, with the message stored in the quarantine.
    """
    text = text.strip()
    if text == "":
        return None
    if item.type == "text" or scale is None:
        return text
    value: float | None = None
    if answer_codes and text in answer_codes:
        value = float(answer_codes[text])
    elif _NUM_RE.match(text):
        value = float(text.replace(",", "."))
    else:
        m = _LS_CODE_RE.match(text) if limesurvey else None
        if m:
            value = float(m.group(2) + ("." + m.group(3) if m.group(3) else "")) * (-1 if m.group(1) else 1)
        else:
            folded = text.casefold()
            for lang_labels in (scale.labels.de, scale.labels.en):
                for point, label in zip(scale.points, lang_labels):
                    if label.casefold() == folded:
                        value = point
            if value is None and scale.missing_label is not None and folded in (scale.missing_label.de.casefold(), scale.missing_label.en.casefold()):
                value = scale.missing[0]
    if value is None:
        raise CellError(
            "not_a_number",
            f"{text!r} is neither a number nor a label of scale {item.scale!r} (item {item.id!r}); valid values: {_valid_list(scale)}",
        )
    if not scale.is_valid(value):
        raise CellError("out_of_scale", f"value {_fmt(value)} is not on scale {item.scale!r} of item {item.id!r}; valid values: {_valid_list(scale)}")
    return value


# --------------------------------------------------------------------------- rows
def prepare_rows(
    header: list[str],
    rows: list[list[str]],
    row_numbers: list[int],
    columns: dict[int, Target],
    inst: Instrument,
    *,
    key: bytes,
    authority: str | None = None,
    answer_codes: Mapping[str, float] | None = None,
    limesurvey: bool = False,
) -> tuple[list[PreparedRow], list[Problem]]:
    """Validate every row; return the valid rows and one :class:`Problem` per bad cell or row.

    A row with any problem is not imported (it is quarantined as a whole); the
    problems say which cells are wrong.
    """
    prepared: list[PreparedRow] = []
    problems: list[Problem] = []
    items = {i.id: i for i in inst.items}
    free_allowed = inst.stakeholders.free_entries if inst.stakeholders else 0
    catalogue = {e.id for e in inst.stakeholders.catalogue} if inst.stakeholders else set()
    col_of = {t.element: i for i, t in columns.items() if t.kind == "code"}
    pcol = next((i for i, t in columns.items() if t.kind == "participant"), None)
    acol = next((i for i, t in columns.items() if t.kind == "authority"), None)
    scol = next((i for i, t in columns.items() if t.kind == "submitdate"), None)
    by_person: dict[tuple[str, str], list[int]] = {}
    # the quarantine keeps only what the toolkit reads: items and the authority (never code elements, ids,
    # LimeSurvey tokens, IP addresses, referrers, timestamps or any other column it does not map)
    kept_cols = sorted(i for i, t in columns.items() if t.kind in ("item", "authority"))
    for idx, (row, number) in enumerate(zip(rows, row_numbers)):
        row_problems: list[Problem] = []
        # authority
        auth = authority
        if acol is not None:
            auth = " ".join(row[acol].split())
            if not auth:
                row_problems.append(Problem(number, header[acol], None, "missing_authority",
                                            f"no authority: column {header[acol]!r} is empty; fill it in or give --authority CODE"))
        # participant
        code: tuple[str, ...] = ()
        if pcol is not None:
            pid = row[pcol].strip()
            if not pid:
                row_problems.append(Problem(number, header[pcol], None, "missing_participant",
                                            f"no participant: column {header[pcol]!r} is empty; every row needs a participant id"))
            else:
                code = (pid,)
        else:
            parts = [row[col_of[e]] for e in ELEMENT_IDS]
            empty = [e for e, v in zip(ELEMENT_IDS, parts) if not _codes.normalise_element(v)]
            if empty:
                row_problems.append(Problem(number, header[col_of[empty[0]]], None, "missing_participant",
                                            f"incomplete participant code: {', '.join(empty)} empty; every code element "
                                            f"({', '.join(ELEMENT_IDS)}) is needed"))
            else:
                code = tuple(parts)
        pseudonym = _codes.pseudonym(key, _codes.hash_elements(key, code, authority=auth)) if code and auth else ""
        # answers
        answers: dict[Any, Any] = {}
        free: set[str] = set()
        for i, t in columns.items():
            if t.kind != "item":
                continue
            item = items[t.item]  # type: ignore[index]
            scale = inst.scales[item.scale] if item.scale else None
            try:
                value = parse_value(row[i], item, scale, answer_codes=answer_codes, limesurvey=limesurvey)
            except CellError as err:
                row_problems.append(Problem(number, header[i], row[i], err.kind, err.reason))
                continue
            if value is None:
                continue
            if t.stakeholder is not None:
                answers[(t.item, t.stakeholder)] = value
                if t.stakeholder not in catalogue:
                    free.add(t.stakeholder)
            else:
                answers[t.item] = value
        if len(free) > free_allowed:
            row_problems.append(Problem(number, None, None, "free_stakeholders",
                                        f"{len(free)} free stakeholder entries ({', '.join(sorted(free))}); instrument "
                                        f"{inst.id!r} allows at most {free_allowed} besides its catalogue"))
        if not answers and not any(p.kind in ("not_a_number", "out_of_scale") for p in row_problems):
            row_problems.append(Problem(number, None, None, "no_answers", "the row has no answers"))
        complete = True
        if scol is not None:
            complete = bool(row[scol].strip())
        raw = {header[i]: row[i] for i in kept_cols}
        raw["participant"] = pseudonym or None  # type: ignore[assignment]  # the pseudonym, never code elements
        if row_problems:
            for p in row_problems:
                p.raw = raw
            problems.extend(row_problems)
            continue
        by_person.setdefault((auth or "", pseudonym), []).append(len(prepared))
        prepared.append(PreparedRow(number, auth or "", code, pseudonym, answers, complete, raw))
    # the same participant twice: the file cannot say which row is right
    dup_idx: set[int] = set()
    for (_auth, _p), idxs in by_person.items():
        if len(idxs) > 1:
            numbers = [prepared[i].row for i in idxs]
            for i in idxs:
                p = Problem(prepared[i].row, None, None, "duplicate",
                            f"the participant appears more than once in this file (rows {', '.join(map(str, numbers))}); "
                            "keep one row per participant and wave", prepared[i].raw)
                problems.append(p)
                dup_idx.add(i)
    kept = [r for i, r in enumerate(prepared) if i not in dup_idx]
    problems.sort(key=lambda p: p.row)
    return kept, problems
