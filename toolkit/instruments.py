"""Instruments: survey definitions loaded from YAML, validated, immutable and hashed.

An instrument is data, not code: adding one needs only a YAML file in ``surveys/``.
The file format is documented in ``docs/instrument-guide.md`` and DESIGN §3.

Example
-------
>>> inst = load_instrument(SURVEYS_DIR / "competence_reflection.yaml")
>>> inst.id, inst.version
('competence_reflection', '1.0')
>>> inst.item("dt1").type
'likert'
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import json
import math
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Mapping

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .codes import CODE_ELEMENTS
from .exceptions import InstrumentError
from .paths import SURVEYS_DIR

if TYPE_CHECKING:  # pandas only for items_frame(): the store and its CLI commands start without it
    import pandas as pd

__all__ = [
    "ItemType",
    "ITEM_TYPES",
    "Instrument",
    "Scale",
    "Item",
    "Dimension",
    "load_instrument",
    "parse_instrument",
    "shipped_instruments",
    "resolve_instrument",
]

_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available: ~10x faster
LANGS = ("de", "en")
_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")  # instrument, dimension and stakeholder ids: snake_case
# item ids: LimeSurvey question codes and published inventories use A1, O5, BFI_N3; case is kept,
# uniqueness ignores case (SPSS variable names, LimeSurvey codes and import headers are case-insensitive)
_ITEM_ID_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
# LimeSurvey mapping targets besides items (see toolkit.io.limesurvey); code elements as in toolkit.codes
_MAPPING_TARGETS = {"participant", "authority", "ignore", *(e.id for e in CODE_ELEMENTS)}


# --------------------------------------------------------------------------- item types
@dataclass(frozen=True)
class ItemType:
    """What an item type needs and how it is used.

    Parameters
    ----------
    name
        The ``type`` value in YAML.
    needs_scale
        Whether the item names a scale (all but free text).
    scored
        Whether the item enters the dimension score (mean of valid items).
    per_stakeholder
        Whether the item is answered once per stakeholder.
    roles
        Allowed values of the item's ``role`` key (empty: no role allowed).
    """

    name: str
    needs_scale: bool = True
    scored: bool = False
    per_stakeholder: bool = False
    roles: tuple[str, ...] = ()
    role_required: bool = False


class ItemTypeRegistry:
    """Registry of item types; ``get`` of an unknown name lists the known ones."""

    def __init__(self) -> None:
        self._types: dict[str, ItemType] = {}

    def register(self, item_type: ItemType) -> ItemType:
        self._types[item_type.name] = item_type
        return item_type

    def get(self, name: str) -> ItemType:
        try:
            return self._types[name]
        except KeyError:
            raise KeyError(f"unknown item type {name!r}; known types: {', '.join(self.names())}") from None

    def names(self) -> list[str]:
        return list(self._types)

    def __contains__(self, name: object) -> bool:
        return name in self._types


STAKEHOLDER_ROLES = (
    "influence",
    "interest",
    "attitude",
    "legitimacy",
    "urgency",
    "engagement_current",
    "engagement_desired",
    "confidence",
)

ITEM_TYPES = ItemTypeRegistry()
ITEM_TYPES.register(ItemType("likert", scored=True))
ITEM_TYPES.register(ItemType("level", roles=("ist", "soll"), role_required=True))
ITEM_TYPES.register(ItemType("importance"))
ITEM_TYPES.register(ItemType("rating_grid", per_stakeholder=True, roles=STAKEHOLDER_ROLES, role_required=True))
ITEM_TYPES.register(ItemType("checklist", scored=True))
ITEM_TYPES.register(ItemType("text", needs_scale=False))


# --------------------------------------------------------------------------- models
class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=False)


class Text(_Frozen):
    """A text in every language of the toolkit."""

    de: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def get(self, lang: str = "de") -> str:
        return self.en if lang == "en" else self.de


class Labels(_Frozen):
    de: tuple[str, ...]
    en: tuple[str, ...]


class Scale(_Frozen):
    """A response scale: the valid points, one label per point, optional missing codes."""

    points: tuple[float, ...] = Field(min_length=2)
    labels: Labels
    missing: tuple[float, ...] = ()
    missing_label: Text | None = None

    @property
    def min(self) -> float:
        return min(self.points)

    @property
    def max(self) -> float:
        return max(self.points)

    def label(self, value: float, lang: str = "de") -> str:
        """The label of one point (or of the missing code)."""
        if value in self.missing and self.missing_label is not None:
            return self.missing_label.get(lang)
        labels = self.labels.en if lang == "en" else self.labels.de
        return labels[self.points.index(value)]

    def is_valid(self, value: float) -> bool:
        return value in self.points or value in self.missing


class Item(_Frozen):
    """One question. ``reverse`` items score as (min + max) − value."""

    id: str
    type: str
    text: Text
    scale: str | None = None
    reverse: bool = False
    role: str | None = None
    required: bool | None = None
    help: Text | None = None

    @property
    def item_type(self) -> ItemType:
        return ITEM_TYPES.get(self.type)

    @property
    def is_required(self) -> bool:
        return self.type != "text" if self.required is None else self.required


class Dimension(_Frozen):
    id: str
    title: Text
    description: Text | None = None
    min_valid: int | None = Field(default=None, ge=1)
    measures: tuple[Text, ...] = ()  # optional: suggested kinds of measures for a large need (reports' next steps)
    items: tuple[Item, ...] = Field(min_length=1)

    @property
    def scored_items(self) -> tuple[Item, ...]:
        return tuple(i for i in self.items if i.type in ITEM_TYPES and ITEM_TYPES.get(i.type).scored)

    @property
    def required_valid(self) -> int:
        """Scored items needed for a dimension score (default: all but one, at least 1)."""
        if self.min_valid is not None:
            return self.min_valid
        return max(1, len(self.scored_items) - 1)


class StakeholderEntry(_Frozen):
    id: str
    name: Text
    description: Text | None = None


class StakeholderCatalogue(_Frozen):
    catalogue: tuple[StakeholderEntry, ...] = ()
    free_entries: int = Field(default=0, ge=0, le=50)


class LimeSurveyMapping(_Frozen):
    """Optional mapping from LimeSurvey question codes (e.g. ``G01Q01[SQ001]``) to item ids."""

    questions: dict[str, str] = Field(default_factory=dict)


class _InstrumentModel(_Frozen):
    id: str
    version: str
    title: Text
    description: Text | None = None
    sources: tuple[str, ...] = ()
    scales: dict[str, Scale] = Field(default_factory=dict)
    stakeholders: StakeholderCatalogue | None = None
    dimensions: tuple[Dimension, ...] = Field(min_length=1)
    limesurvey: LimeSurveyMapping | None = None

    @model_validator(mode="before")
    @classmethod
    def _version_as_text(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("version"), (int, float)):
            data = {**data, "version": str(data["version"])}
        return data


# --------------------------------------------------------------------------- the Instrument
class Instrument(_InstrumentModel):
    """A validated, immutable instrument.

    Build one with :func:`load_instrument` or :func:`parse_instrument`; the raw YAML
    text and a content hash travel with it so stored answers stay interpretable.
    """

    source_text: str = ""
    hash: str = ""

    @property
    def short_hash(self) -> str:
        return self.hash[:12]

    @cached_property
    def _items_by_id(self) -> dict[str, tuple[Item, Dimension]]:
        return {item.id: (item, dim) for dim in self.dimensions for item in dim.items}

    @property
    def items(self) -> list[Item]:
        return [item for dim in self.dimensions for item in dim.items]

    def item(self, item_id: str) -> Item:
        try:
            return self._items_by_id[item_id][0]
        except KeyError:
            raise KeyError(f"instrument {self.id!r} has no item {item_id!r}") from None

    def dimension_of(self, item_id: str) -> Dimension:
        return self._items_by_id[item_id][1]

    def dimension(self, dim_id: str) -> Dimension:
        for dim in self.dimensions:
            if dim.id == dim_id:
                return dim
        raise KeyError(f"instrument {self.id!r} has no dimension {dim_id!r}")

    def scale_of(self, item_id: str) -> Scale | None:
        item = self.item(item_id)
        return self.scales[item.scale] if item.scale else None

    @property
    def is_stakeholder_instrument(self) -> bool:
        return any(ITEM_TYPES.get(i.type).per_stakeholder for i in self.items)

    def stakeholder_name(self, key: str, lang: str = "de") -> str:
        """Display name of a catalogue stakeholder; free entries are their own name."""
        if self.stakeholders:
            for entry in self.stakeholders.catalogue:
                if entry.id == key:
                    return entry.name.get(lang)
        return key

    def items_frame(self) -> pd.DataFrame:
        """One row per item: item, dimension, type, role, scale, reverse, min, max, scored, position."""
        import pandas as pd

        rows = []
        for pos, item in enumerate(self.items):
            scale = self.scales.get(item.scale) if item.scale else None
            rows.append(
                {
                    "item": item.id,
                    "dimension": self.dimension_of(item.id).id,
                    "type": item.type,
                    "role": item.role,
                    "scale": item.scale,
                    "reverse": item.reverse,
                    "min": scale.min if scale else math.nan,
                    "max": scale.max if scale else math.nan,
                    "scored": ITEM_TYPES.get(item.type).scored,
                    "per_stakeholder": ITEM_TYPES.get(item.type).per_stakeholder,
                    "required": item.is_required,
                    "position": pos,
                }
            )
        return pd.DataFrame(rows)

    def missing_codes(self) -> dict[str, tuple[float, ...]]:
        """Item id → the values that mean "cannot judge"."""
        return {i.id: self.scales[i.scale].missing for i in self.items if i.scale and self.scales[i.scale].missing}

    def __repr__(self) -> str:
        return f"Instrument(id={self.id!r}, version={self.version!r}, hash={self.short_hash!r}, dimensions={len(self.dimensions)}, items={len(self.items)})"

    __str__ = __repr__


# --------------------------------------------------------------------------- loading
def _loc_to_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _pydantic_problems(err: ValidationError, data: Any) -> list[tuple[str, str]]:
    problems = []
    errors = err.errors(include_url=False)
    for e in errors:
        loc = tuple(p for p in e["loc"] if p not in ("function-after", "function-before"))
        if e["type"] == "too_short" and any(len(o["loc"]) > len(loc) and tuple(o["loc"][: len(loc)]) == loc for o in errors):
            continue  # a follow-on of errors inside the list
        path = _loc_to_path(loc)
        kind = e["type"]
        if kind == "extra_forbidden":
            parent_fields = _fields_at(loc[:-1], data)
            key = loc[-1]
            hint = ""
            if parent_fields:
                close = difflib.get_close_matches(str(key), parent_fields, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else f"; allowed keys: {', '.join(parent_fields)}"
            msg = f"unknown key {key!r}{hint}"
        elif kind == "missing":
            path = _loc_to_path(loc[:-1])
            msg = f"required key {loc[-1]!r} is missing"
        else:
            msg = e["msg"]
            if "input" in e and not isinstance(e["input"], (dict, list)):
                msg += f" (got {e['input']!r})"
        problems.append((path, msg))
    return problems


def _fields_at(loc: tuple[Any, ...], data: Any) -> list[str]:
    """The allowed keys of the model found at ``loc`` in the instrument document."""
    model: Any = _InstrumentModel
    for part in loc:
        if isinstance(part, int):
            continue
        if model is None or not hasattr(model, "model_fields"):
            return []
        field = model.model_fields.get(part)
        if field is None:
            # a dict key (e.g. scale name) -> value model
            if model is _InstrumentModel:
                return []
            continue
        model = _inner_model(field.annotation)
        if part == "scales":
            model = Scale
    return list(model.model_fields) if model is not None and hasattr(model, "model_fields") else []


def _inner_model(annotation: Any) -> Any:
    import typing

    for arg in (annotation, *typing.get_args(annotation)):
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
        for sub in typing.get_args(arg):
            if isinstance(sub, type) and issubclass(sub, BaseModel):
                return sub
    return None


def _check_semantics(m: _InstrumentModel) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    if not _ID_RE.match(m.id):
        problems.append(("id", f"{m.id!r} is not snake_case; use lower-case letters, digits and _ (e.g. 'my_survey')"))
    for name, scale in m.scales.items():
        p = f"scales.{name}"
        for what, values in (("points", scale.points), ("missing", scale.missing)):
            bad = [v for v in values if not math.isfinite(v)]
            if bad:
                problems.append((f"{p}.{what}", f"{bad[0]} is not a finite number; use whole or decimal numbers such as 1, 2, 3"))
        if list(scale.points) != sorted(set(scale.points)):
            problems.append((f"{p}.points", "points must be distinct and ascending"))
        for lang in LANGS:
            labels = getattr(scale.labels, lang)
            if len(labels) != len(scale.points):
                problems.append(
                    (f"{p}.labels.{lang}", f"has {len(labels)} labels for {len(scale.points)} points; give exactly one label per point")
                )
        clash = set(scale.missing) & set(scale.points)
        if clash:
            problems.append((f"{p}.missing", f"missing codes {sorted(clash)} are also valid points; pick values outside the points"))
        if scale.missing and scale.missing_label is None:
            problems.append((f"{p}.missing_label", "a scale with missing codes needs missing_label: {de: ..., en: ...}"))
    seen_items: dict[str, tuple[str, str]] = {}  # casefolded id -> (id, path)
    seen_dims: set[str] = set()
    roles_seen: dict[str, str] = {}
    for d, dim in enumerate(m.dimensions):
        dp = f"dimensions[{d}]"
        if not _ID_RE.match(dim.id):
            problems.append((f"{dp}.id", f"{dim.id!r} is not snake_case"))
        if dim.id in seen_dims:
            problems.append((f"{dp}.id", f"dimension id {dim.id!r} is used twice; dimension ids must be unique"))
        seen_dims.add(dim.id)
        for i, item in enumerate(dim.items):
            ip = f"{dp}.items[{i}]"
            if not _ITEM_ID_RE.match(item.id):
                problems.append((f"{ip}.id", f"{item.id!r} is not a valid item id; start with a letter and use only letters, digits and _ (e.g. 'dt1', 'A1', 'BFI_N3')"))
            first = seen_items.get(item.id.casefold())
            if first is not None and first[0] == item.id:
                problems.append((f"{ip}.id", f"item id {item.id!r} is already used at {first[1]}; item ids must be unique"))
            elif first is not None:
                problems.append((f"{ip}.id", f"item id {item.id!r} differs from {first[0]!r} at {first[1]} only in case; item ids must be unique ignoring case"))
            seen_items.setdefault(item.id.casefold(), (item.id, ip))
            if item.type not in ITEM_TYPES:
                close = difflib.get_close_matches(item.type, ITEM_TYPES.names(), n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                problems.append((f"{ip}.type", f"unknown item type {item.type!r}; {hint}known types: {', '.join(ITEM_TYPES.names())}"))
                continue
            itype = ITEM_TYPES.get(item.type)
            if itype.needs_scale:
                if item.scale is None:
                    problems.append((f"{ip}.scale", f"a {item.type} item needs a scale; defined scales: {', '.join(m.scales) or '(none)'}"))
                elif item.scale not in m.scales:
                    close = difflib.get_close_matches(item.scale, list(m.scales), n=1)
                    hint = f"did you mean {close[0]!r}? " if close else ""
                    problems.append((f"{ip}.scale", f"scale {item.scale!r} is not defined; {hint}defined scales: {', '.join(m.scales) or '(none)'}"))
            elif item.scale is not None:
                problems.append((f"{ip}.scale", f"a {item.type} item takes no scale; remove the key"))
            if item.reverse and item.type != "likert":
                problems.append((f"{ip}.reverse", f"only likert items can be reverse-keyed, not {item.type} items"))
            if itype.roles:
                if item.role is None and itype.role_required:
                    problems.append((f"{ip}.role", f"a {item.type} item needs role: one of {', '.join(itype.roles)}"))
                elif item.role is not None and item.role not in itype.roles:
                    problems.append((f"{ip}.role", f"role {item.role!r} is not one of {', '.join(itype.roles)}"))
                if itype.per_stakeholder and item.role:
                    if item.role in roles_seen:
                        problems.append((f"{ip}.role", f"role {item.role!r} is already used by item {roles_seen[item.role]}; each stakeholder role appears once"))
                    roles_seen[item.role] = item.id
            elif item.role is not None:
                problems.append((f"{ip}.role", f"a {item.type} item takes no role; remove the key"))
        n_scored = len(dim.scored_items)
        if dim.min_valid is not None and n_scored and dim.min_valid > n_scored:
            problems.append((f"{dp}.min_valid", f"min_valid is {dim.min_valid} but the dimension has only {n_scored} scored items"))
    per_stakeholder = any(i.type in ITEM_TYPES and ITEM_TYPES.get(i.type).per_stakeholder for d in m.dimensions for i in d.items)
    if per_stakeholder and m.stakeholders is None:
        problems.append(("stakeholders", "rating_grid items need a stakeholders: {catalogue: [...], free_entries: N} section"))
    if m.stakeholders is not None:
        ids = [e.id for e in m.stakeholders.catalogue]
        for k, sid in enumerate(ids):
            if not _ID_RE.match(sid):
                problems.append((f"stakeholders.catalogue[{k}].id", f"{sid!r} is not snake_case"))
            if ids.index(sid) != k:
                problems.append((f"stakeholders.catalogue[{k}].id", f"stakeholder id {sid!r} is used twice"))
    if m.limesurvey is not None:
        for code, item_id in m.limesurvey.questions.items():
            target = str(item_id).split("[", 1)[0].strip().casefold()
            if target not in seen_items and target not in _MAPPING_TARGETS:
                problems.append((f"limesurvey.questions.{code}", f"maps to unknown item {item_id!r}"))
    return problems


def _canonical_hash(data: Mapping[str, Any]) -> str:
    canon = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canon.encode("utf-8")).hexdigest()


def parse_instrument(text: str, source: str = "<instrument>") -> Instrument:
    """Parse and validate instrument YAML text.

    Parameters
    ----------
    text
        The YAML document.
    source
        Where it came from, used in error messages.

    Returns
    -------
    Instrument

    Raises
    ------
    InstrumentError
        With one ``(path, message)`` per problem, e.g.
        ``dimensions[3].items[1].scale: scale 'agre5' is not defined; did you mean 'agree5'?``.

    Example
    -------
    >>> parse_instrument('id: x').id
    Traceback (most recent call last):
    ...
    toolkit.exceptions.InstrumentError: <instrument>: required key 'version' is missing...
    """
    return _parse_cached(text, source)


@functools.lru_cache(maxsize=64)
def _parse_cached(text: str, source: str) -> Instrument:
    """The work of :func:`parse_instrument`, cached by text: instruments are immutable, so one parse serves all."""
    try:
        data = yaml.load(text, Loader=_SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise InstrumentError([(where, f"not valid YAML: {problem}")], source) from None
    if not isinstance(data, dict):
        raise InstrumentError([("", "the file must contain a mapping with id, version, title, scales, dimensions")], source)
    if "source_text" in data or "hash" in data:
        raise InstrumentError([("", "keys 'source_text' and 'hash' are reserved; remove them")], source)
    try:
        model = _InstrumentModel.model_validate(data)
    except ValidationError as err:
        raise InstrumentError(_pydantic_problems(err, data), source) from None
    problems = _check_semantics(model)
    if problems:
        raise InstrumentError(problems, source)
    return Instrument(**model.model_dump(), source_text=text, hash=_canonical_hash(data))


def load_instrument(path: str | Path) -> Instrument:
    """Load and validate an instrument YAML file (see :func:`parse_instrument`)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InstrumentError([("", "file not found; give the path of an instrument YAML file")], str(path)) from None
    except (UnicodeDecodeError, IsADirectoryError, PermissionError) as exc:
        raise InstrumentError([("", f"cannot read the file as UTF-8 text ({exc.__class__.__name__})")], str(path)) from None
    return parse_instrument(text, source=str(path))


def shipped_instruments() -> dict[str, Path]:
    """The instruments shipped in ``surveys/``: id → path."""
    return {p.stem: p for p in sorted(SURVEYS_DIR.glob("*.yaml"))}


def resolve_instrument(ref: str | Path) -> Instrument:
    """Load an instrument given by path or by the id of a shipped instrument."""
    path = Path(ref)
    if path.suffix in (".yaml", ".yml") or path.exists():
        return load_instrument(path)
    shipped = shipped_instruments()
    if str(ref) in shipped:
        return load_instrument(shipped[str(ref)])
    raise InstrumentError([("", f"no instrument file or shipped instrument {str(ref)!r}; shipped: {', '.join(shipped)}")], str(ref))


Lang = Literal["de", "en"]
