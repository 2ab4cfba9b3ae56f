"""LimeSurvey: survey-structure export of an instrument and the mapping of response exports.

**Structure export.** :func:`limesurvey_structure` writes any instrument in LimeSurvey's
tab-separated survey structure format (``.txt``; columns ``id, related_id, class,
type/scale, name, relevance, text, help, language, validation, mandatory, other,
default, same_default``; rows ``S`` survey settings, ``SL`` language settings, then per
language ``G`` groups, ``Q`` questions, ``SQ`` subquestions and ``A`` answer options;
see the LimeSurvey manual, "Tab Separated Value survey structure", and
``tsvSurveyExport()``/``TSVImportSurvey()`` in LimeSurvey's source). An authority
imports the file into its own LimeSurvey (Surveys → Import) and fields our instrument.

The layout, with LimeSurvey's default code style:

* group 1 ``Persönlicher Code`` with question ``CODE`` (multiple short text) and one
  subquestion per code element: response columns ``CODE[mother]``, ``CODE[birthday]``, …;
* one group per dimension ``d`` (``dd`` = 01, 02, …); inside it, consecutive items on
  the same scale form one array question ``GddQqq`` with subquestions ``SQ001``, …
  (response columns ``G01Q01[SQ001]``); a single item becomes a list question
  ``GddQqq``; a text item a long free text question; a per-stakeholder item an array
  with one subquestion per catalogue stakeholder (free entries are not part of the
  structure);
* answer codes are the scale values (``1`` … ``5``, the missing code ``0``); negative
  values are written ``N1``, ``N2`` because LimeSurvey codes are alphanumeric.
  IP addresses and referrer URLs are not recorded (``ipaddr``/``refurl`` = N) and the
  survey is anonymised.

**Mapping.** A response export (``Export responses`` → CSV, headings "question code",
responses "answer codes" or "full answers") is translated column by column: from
``--mapping FILE`` if given, else the instrument's ``limesurvey: {questions: …}``, else
:func:`limesurvey_mapping` (the layout above). Code-element columns ``CODE[mother]`` …
are always understood. A mapping file is YAML (``questions: {code: target}``, optional
``answers: {code: value}`` for own answer codes such as ``AO01``) or a two-column CSV
``code,target``; a target is an item id, ``item[stakeholder]``, a code element, ``participant``,
``authority`` or ``ignore``.

Example
-------
>>> from toolkit.instruments import resolve_instrument
>>> m = limesurvey_mapping(resolve_instrument("reality_check"))
>>> m["G01Q01[SQ001]"], m["CODE[mother]"]
('go1', 'mother')
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from .. import codes as _codes
from ..exceptions import DataError
from ..instruments import Instrument
from .validate import ELEMENT_IDS, Target, parse_column, resolve_stakeholder

if TYPE_CHECKING:  # pandas is imported when a file is read or a frame built: the command's checks start without it
    import pandas as pd

__all__ = [
    "TSV_COLUMNS",
    "LS_META_COLUMNS",
    "answer_code",
    "limesurvey_mapping",
    "limesurvey_structure",
    "write_limesurvey_structure",
    "read_mapping",
    "limesurvey_columns",
]

TSV_COLUMNS = ["id", "related_id", "class", "type/scale", "name", "relevance", "text", "help", "language",
               "validation", "mandatory", "other", "default", "same_default"]
LS_META_COLUMNS = {"id", "submitdate", "lastpage", "startlanguage", "seed", "token", "startdate", "datestamp",
                   "ipaddr", "refurl", "interviewtime"}
_GROUP_TIME_RE = re.compile(r"^groupTime\d+$", re.IGNORECASE)
CODE_QUESTION = "CODE"
_CODE_GROUP = {"de": "Persönlicher Code", "en": "Personal code"}
_CODE_TEXT = {"de": "Bitte bilden Sie Ihren persönlichen Code.", "en": "Please form your personal code."}


def answer_code(value: float) -> str:
    """The LimeSurvey answer code of a scale value (alphanumeric, at most 5 characters).

    >>> answer_code(-2), answer_code(5), answer_code(0)
    ('N2', '5', '0')
    """
    v = float(value)
    body = str(int(abs(v))) if v.is_integer() else str(abs(v)).replace(".", "p")
    code = ("N" if v < 0 else "") + body
    if len(code) > 5:
        raise DataError(f"scale value {value} cannot be written as a LimeSurvey answer code (at most 5 characters)")
    return code


@dataclass
class _Question:
    code: str
    qtype: str  # F array, L list, T long text, Q multiple short text
    text: dict[str, str]
    help: dict[str, str]
    scale: str | None
    mandatory: bool
    subquestions: list[tuple[str, str, dict[str, str]]]  # (sq code, target, texts)
    target: str | None = None  # for questions without subquestions


def _layout(inst: Instrument) -> list[tuple[dict[str, str], dict[str, str], list[_Question]]]:
    """Groups (name, description, questions) of the LimeSurvey layout; shared by mapping and structure."""
    langs = ("de", "en")
    code_q = _Question(
        CODE_QUESTION, "Q", dict(_CODE_TEXT), {lang: _codes.CODE_EXPLANATION[lang] for lang in langs}, None, True,
        [(e.id, e.id, {"de": e.de, "en": e.en}) for e in _codes.CODE_ELEMENTS],
    )
    groups = [(dict(_CODE_GROUP), {lang: "" for lang in langs}, [code_q])]
    for d, dim in enumerate(inst.dimensions, start=1):
        questions: list[_Question] = []
        runs: list[list[Any]] = []
        for item in dim.items:
            itype = item.item_type
            if itype.per_stakeholder or item.type == "text" or not runs or runs[-1][0].scale != item.scale \
                    or runs[-1][0].item_type.per_stakeholder or runs[-1][0].type == "text":
                runs.append([item])
            else:
                runs[-1].append(item)
        for q, run in enumerate(runs, start=1):
            code = f"G{d:02d}Q{q:02d}"
            first = run[0]
            helptext = {lang: first.help.get(lang) if first.help else "" for lang in langs}
            if first.item_type.per_stakeholder:
                entries = inst.stakeholders.catalogue if inst.stakeholders else ()
                sqs = [(f"SQ{k:03d}", f"{first.id}[{e.id}]", {"de": e.name.de, "en": e.name.en}) for k, e in enumerate(entries, 1)]
                questions.append(_Question(code, "F", {lang: first.text.get(lang) for lang in langs}, helptext, first.scale, False, sqs))
            elif first.type == "text":
                questions.append(_Question(code, "T", {lang: first.text.get(lang) for lang in langs}, helptext, None,
                                           first.is_required, [], target=first.id))
            elif len(run) == 1:
                questions.append(_Question(code, "L", {lang: first.text.get(lang) for lang in langs}, helptext, first.scale,
                                           first.is_required, [], target=first.id))
            else:
                sqs = [(f"SQ{k:03d}", it.id, {"de": it.text.de, "en": it.text.en}) for k, it in enumerate(run, 1)]
                desc = {lang: dim.description.get(lang) if dim.description else "" for lang in langs}
                questions.append(_Question(code, "F", {lang: dim.title.get(lang) for lang in langs}, desc, first.scale,
                                           all(it.is_required for it in run), sqs))
        groups.append(({lang: dim.title.get(lang) for lang in langs},
                       {lang: dim.description.get(lang) if dim.description else "" for lang in langs}, questions))
    return groups


def limesurvey_mapping(inst: Instrument) -> dict[str, str]:
    """Response-export column → target (item id, ``item[stakeholder]`` or code element) for the
    structure written by :func:`limesurvey_structure`."""
    out: dict[str, str] = {}
    for _name, _desc, questions in _layout(inst):
        for q in questions:
            if q.subquestions:
                for sq, target, _ in q.subquestions:
                    out[f"{q.code}[{sq}]"] = target
            elif q.target:
                out[q.code] = q.target
    return out


def limesurvey_structure(inst: Instrument, *, languages: tuple[str, ...] = ("de", "en")) -> pd.DataFrame:
    """The instrument as rows of LimeSurvey's TSV survey structure (columns :data:`TSV_COLUMNS`).

    >>> from toolkit.instruments import resolve_instrument
    >>> df = limesurvey_structure(resolve_instrument("reality_check"))
    >>> list(df.loc[df["class"] == "Q", "name"][:2])
    ['CODE', 'G01Q01']
    """
    rows: list[dict[str, Any]] = []

    def add(**kw: Any) -> None:
        rows.append({c: kw.get(c.replace("/", "_"), "") for c in TSV_COLUMNS})

    base, extra = languages[0], languages[1:]
    for name, text in (("language", base), ("additional_languages", " ".join(extra)), ("format", "G"),
                       ("anonymized", "Y"), ("ipaddr", "N"), ("refurl", "N"), ("datestamp", "N"), ("admin", "upo-toolkit")):
        add(**{"class": "S", "name": name, "text": text})
    for lang in languages:
        desc = inst.description.get(lang) if inst.description else ""
        desc += f" [{inst.id} {inst.version}, {inst.short_hash}]"
        for name, text in (("surveyls_language", lang), ("surveyls_title", inst.title.get(lang)), ("surveyls_description", desc.strip())):
            add(**{"class": "SL", "name": name, "text": text, "language": lang})
    layout = _layout(inst)
    for lang in languages:
        qid = 0
        for g, (gname, gdesc, questions) in enumerate(layout, start=1):
            add(id=g, **{"class": "G", "type_scale": g, "name": gname[lang], "relevance": "1", "text": gdesc[lang], "language": lang})
            for q in questions:
                qid += 1
                q_id = qid
                add(id=q_id, **{"class": "Q", "type_scale": q.qtype, "name": q.code, "relevance": "1", "text": q.text[lang],
                               "help": q.help[lang] or "", "language": lang, "mandatory": "Y" if q.mandatory else "N",
                               "other": "N", "same_default": "0"})
                for sq, _target, texts in q.subquestions:
                    qid += 1
                    add(id=qid, **{"class": "SQ", "type_scale": 0, "name": sq, "relevance": "1", "text": texts[lang],
                                  "language": lang, "mandatory": "", "other": "N", "same_default": "0"})
                if q.scale:
                    scale = inst.scales[q.scale]
                    labels = scale.labels.en if lang == "en" else scale.labels.de
                    for point, label in zip(scale.points, labels):
                        add(id=q_id, **{"class": "A", "type_scale": 0, "name": answer_code(point), "text": label, "language": lang})
                    for m in scale.missing:
                        add(id=q_id, **{"class": "A", "type_scale": 0, "name": answer_code(m), "text": scale.label(m, lang), "language": lang})
    import pandas as pd

    df = pd.DataFrame(rows, columns=TSV_COLUMNS)
    return df.astype(str)


def write_limesurvey_structure(inst: Instrument, path: str | Path) -> Path:
    """Write :func:`limesurvey_structure` as UTF-8 (with BOM, like LimeSurvey) tab-separated ``.txt``."""
    path = Path(path)
    df = limesurvey_structure(inst)
    for col in ("text", "help"):
        df[col] = df[col].str.replace(r"[\r\n\t]+", " ", regex=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, sep="\t", index=False, encoding="utf-8-sig", quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
    return path


# --------------------------------------------------------------------------- mapping files
def read_mapping(path: str | Path) -> tuple[dict[str, str | None], dict[str, float]]:
    """Read a mapping file: ``(questions, answers)``; see the module docstring for the format.

    Raises
    ------
    DataError
        If the file is missing or not a mapping.
    """
    path = Path(path)
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise DataError(f"{source}: mapping file not found") from None
    except (UnicodeDecodeError, IsADirectoryError, PermissionError) as exc:
        raise DataError(f"{source}: cannot read the mapping file as UTF-8 text ({exc.__class__.__name__})") from None
    answers: dict[str, float] = {}
    if path.suffix.lower() == ".csv":
        import pandas as pd

        try:
            frame = pd.read_csv(io.StringIO(text), sep=None, engine="python", dtype=str, keep_default_na=False)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error, ValueError) as exc:
            raise DataError(f"{source}: not a mapping CSV with two columns code,target ({exc})") from None
        if frame.shape[1] != 2:
            raise DataError(f"{source}: a mapping CSV has two columns, code and target (found {frame.shape[1]})")
        questions = {str(a).strip(): (str(b).strip() or None) for a, b in frame.itertuples(index=False, name=None)}
        return questions, answers
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise DataError(f"{source}: not valid YAML ({getattr(exc, 'problem', None) or exc})") from None
    if isinstance(data, dict) and ("questions" in data or "answers" in data):
        q, a = data.get("questions") or {}, data.get("answers") or {}
    else:
        q, a = data, {}
    if not isinstance(q, dict) or not isinstance(a, dict):
        raise DataError(f"{source}: a mapping file holds 'questions: {{code: item}}' and optionally 'answers: {{code: value}}'")
    for k, v in a.items():
        try:
            answers[str(k)] = float(v)
        except (TypeError, ValueError):
            raise DataError(f"{source}: answers.{k}: {v!r} is not a number") from None
    return {str(k).strip(): (None if v is None else str(v).strip() or None) for k, v in q.items()}, answers


def _target(spec: str | None, inst: Instrument, *, code: str, source: str) -> Target:
    if spec is None or spec.casefold() == "ignore":
        return Target("ignore")
    low = spec.casefold()
    if low in ("participant", "authority"):
        return Target(low)  # type: ignore[arg-type]
    t = parse_column(spec, inst)
    if t is None:
        raise DataError(
            f"{source}: LimeSurvey code {code!r} maps to {spec!r}, which is not an item of instrument {inst.id!r} "
            f"(nor item[stakeholder], a code element, participant, authority or ignore)"
        )
    return t


def limesurvey_columns(
    header: list[str],
    inst: Instrument,
    *,
    source: str,
    mapping: dict[str, str | None] | None = None,
    mapping_source: str = "--mapping",
    authority_column: str | None = None,
    participant_column: str | None = None,
    authority: str | None = None,
) -> dict[int, Target]:
    """Map the columns of a LimeSurvey response export to targets.

    A mapping target ``authority`` or ``participant`` is enough: no ``--authority``,
    ``--authority-column`` or ``--participant-column`` is needed (and giving one as well
    is refused as a conflict).

    Raises
    ------
    DataError
        Columns that are neither LimeSurvey meta columns nor in the mapping (the whole
        file is refused, listing them and the known codes); a column the mapping sends to
        ``authority``/``participant`` while the matching option is given too.
    """
    if mapping is not None:
        table = {k: _target(v, inst, code=k, source=mapping_source) for k, v in mapping.items()}
    elif inst.limesurvey is not None and inst.limesurvey.questions:
        mapping_source = f"instrument {inst.id!r} limesurvey.questions"
        table = {k: _target(v, inst, code=k, source=mapping_source) for k, v in inst.limesurvey.questions.items()}
    else:
        table = {k: _target(v, inst, code=k, source="default mapping") for k, v in limesurvey_mapping(inst).items()}
    present = {h.strip().casefold(): h for h in header}
    options = {"authority": (("--authority", authority), ("--authority-column", authority_column)),
               "participant": (("--participant-column", participant_column),)}
    for code, t in table.items():
        if t.kind in options and code.casefold() in present:
            for opt, given in options[t.kind]:
                if given is not None:
                    raise DataError(
                        f"{source}: {mapping_source} maps column {present[code.casefold()]!r} to {t.kind}, and {opt} {given!r} "
                        f"is given too; drop {opt} or the mapping's {t.kind} target"
                    )
    for e in ELEMENT_IDS:
        table.setdefault(f"{CODE_QUESTION}[{e}]", Target("code", element=e))
        table.setdefault(e, Target("code", element=e))
    folded = {k.casefold(): t for k, t in table.items()}
    mapped_codes = {k.split("[")[0].casefold() for k in table}
    columns: dict[int, Target] = {}
    unknown = []
    for i, name in enumerate(header):
        clean = name.strip()
        low = clean.casefold()
        if participant_column and low == participant_column.strip().casefold():
            columns[i] = Target("participant")
        elif authority_column and low == authority_column.strip().casefold():
            columns[i] = Target("authority")
        elif low in folded:
            columns[i] = folded[low]
        elif low == "submitdate":
            columns[i] = Target("submitdate")
        elif low in LS_META_COLUMNS or _GROUP_TIME_RE.match(clean) or (low.endswith("time") and low[:-4] in mapped_codes):
            columns[i] = Target("ignore")
        elif clean == "":
            columns[i] = Target("ignore")
        elif parse_column(clean, inst) is not None:  # question codes equal to item ids need no mapping
            columns[i] = parse_column(clean, inst)  # type: ignore[assignment]
        else:
            unknown.append(name)
    for col, opt in ((participant_column, "--participant-column"), (authority_column, "--authority-column")):
        if col and col.strip().casefold() not in {h.strip().casefold() for h in header}:
            raise DataError(f"{source}: has no column {col!r} ({opt}); columns: {', '.join(map(repr, header[:30]))}")
    if unknown:
        known = ", ".join(list(table)[:30]) + (", …" if len(table) > 30 else "")
        raise DataError(
            f"{source}: {len(unknown)} column(s) are not in the LimeSurvey mapping for instrument {inst.id!r} {inst.version}: "
            f"{', '.join(map(repr, unknown[:30]))}{', …' if len(unknown) > 30 else ''}. Nothing was imported. Export the responses "
            f"with 'question code' headings, or map these codes in --mapping (target 'ignore' to skip one). Known codes: {known}"
        )
    # code-element columns count as "present" only if all four are there; a stakeholder named in a
    # mapping as free text keeps its name
    for i, t in list(columns.items()):
        if t.kind == "item" and t.stakeholder is not None:
            columns[i] = Target("item", item=t.item, stakeholder=resolve_stakeholder(inst, t.stakeholder))
    return columns
