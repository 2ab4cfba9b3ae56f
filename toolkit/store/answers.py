"""Submissions and the validation of their answers against the instrument."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping

from ..exceptions import DataError
from ..instruments import Instrument

__all__ = ["Submission"]


@dataclass(frozen=True)
class Submission:
    """One participant's answers to one instrument in one wave.

    Parameters
    ----------
    authority
        Authority code (e.g. ``"BVA"``).
    code
        The self-generated code elements as typed (e.g. ``("Ma", "07", "K", "Ha")``),
        or a one-element tuple with an imported participant id. Never a name.
    wave
        Wave label (e.g. ``"t0"``).
    instrument
        Instrument id (stored in the database) or an :class:`Instrument`.
    answers
        ``{item: value}`` or ``{(item, stakeholder): value}`` for per-stakeholder items;
        text items take strings. Unanswered items are simply absent.
    source
        Where it came from (``"form"``, ``"import:file.csv"``, ``"demo"``).
    token
        Idempotency key: a second submission with the same token is not stored again.
    """

    authority: str
    code: tuple[str, ...]
    wave: str
    instrument: str | Instrument
    answers: Mapping[Any, Any]
    source: str = "form"
    token: str | None = None
    submitted_at: str | None = None
    free_stakeholders: tuple[str, ...] = field(default=())


def _validate_answers(inst: Instrument, sub: Submission) -> list[tuple[str, str | None, float | None, str | None]]:
    """Turn a submission's answers into rows ``(item, stakeholder, value, text)``, validating each."""
    rows: list[tuple[str, str | None, float | None, str | None]] = []
    free_allowed = inst.stakeholders.free_entries if inst.stakeholders else 0
    catalogue = {e.id for e in inst.stakeholders.catalogue} if inst.stakeholders else set()
    free_seen: set[str] = set()
    for key, value in sub.answers.items():
        item_id, stakeholder = (key if isinstance(key, tuple) else (key, None))
        try:
            item = inst.item(item_id)
        except KeyError:
            raise DataError(f"item {item_id!r} is not in instrument {inst.id!r} {inst.version}") from None
        itype = item.item_type
        if itype.per_stakeholder:
            if stakeholder is None or not str(stakeholder).strip():
                raise DataError(f"item {item_id!r} is rated per stakeholder; give the answer as {{({item_id!r}, stakeholder): value}}")
            stakeholder = " ".join(str(stakeholder).split())
            if stakeholder not in catalogue:
                free_seen.add(stakeholder)
                if len(free_seen) > free_allowed:
                    raise DataError(
                        f"stakeholder {stakeholder!r} is not in the catalogue of {inst.id!r} and at most {free_allowed} free entries are allowed"
                    )
        elif stakeholder is not None:
            raise DataError(f"item {item_id!r} is not rated per stakeholder; give it without a stakeholder")
        if item.type == "text":
            if value is None or (isinstance(value, float) and math.isnan(value)):
                continue
            text = str(value).strip()
            if text:
                rows.append((item_id, None, None, text[:5000]))
            continue
        if value is None or (isinstance(value, float) and math.isnan(value)):
            continue
        try:
            num = float(value)
        except (TypeError, ValueError):
            raise DataError(f"item {item_id!r}: {value!r} is not a number") from None
        scale = inst.scales[item.scale]  # type: ignore[index]
        if not scale.is_valid(num):
            valid = [_fmt(p) for p in scale.points] + [f"{_fmt(m)} (missing)" for m in scale.missing]
            raise DataError(f"item {item_id!r}: {_fmt(num)} is not on scale {item.scale!r}; valid values: {', '.join(valid)}")
        rows.append((item_id, stakeholder, num, None))
    return rows


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)
