"""State of the participant form: answers, validation and submit, without any widgets.

The widget view (:mod:`toolkit.widgets.form`) only wires ipywidgets to this class,
so tests and load benchmarks drive the form by calling its methods.

Example
-------
>>> import tempfile, pathlib
>>> from toolkit.store import Store
>>> db = Store.init(pathlib.Path(tempfile.mkdtemp()) / "c.sqlite")
>>> db.add_authority("BVA", ministry="BMI"); db.add_wave("t0"); _ = db.add_instrument("reality_check")
>>> form = FormState(db, "reality_check", "t0", authority="BVA")
>>> len(form.problems()) > 40          # code and every checklist item are still open
True
>>> form.set_code({"mother": "Ma", "birthday": "07", "birthplace": "K", "street": "Ha"})
>>> for item in form.instrument.items:
...     if item.type == "checklist":
...         form.set_answer(item.id, 2)
>>> result = form.submit()
>>> result.ok, db.count_submissions("reality_check")
(True, 1)
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import pandas as pd

from ..codes import CODE_ELEMENTS, CODE_EXPLANATION, normalise_element
from ..exceptions import DataError, StoreError
from ..instruments import Instrument, Item
from ..store import Store, Submission
from ._texts import t

__all__ = ["FormState", "Problem", "SubmitResult", "authority_names_of", "role_label", "TEXT_MAX", "FREE_NAME_MAX"]

log = logging.getLogger("toolkit")

TEXT_MAX = 5000  # characters of a free-text answer (the form counts them; nothing is cut)
FREE_NAME_MAX = 80  # characters of a free stakeholder name


@dataclass(frozen=True)
class Problem:
    """One thing the participant still has to do before submitting.

    ``section`` is ``"authority"``, ``"code"``, ``"item"`` or ``"stakeholder"``;
    ``key`` the code element, item id or stakeholder key; ``message`` localised.
    """

    section: str
    key: str
    message: str
    stakeholder: str | None = None


@dataclass(frozen=True)
class SubmitResult:
    """What happened on submit: ``ok``, the stored ``submission_id``, open ``problems`` and a localised ``message``."""

    ok: bool
    message: str
    submission_id: int | None = None
    problems: tuple[Problem, ...] = ()
    duplicate: bool = False


def authority_names_of(store: Store) -> dict[str, str]:
    """The cohort's authorities, code → name (the code where there is no name)."""
    auth = store.authorities()
    return dict(zip(auth["authority"], auth["name"].fillna(auth["authority"])))


def role_label(item: Item, lang: str = "de") -> str:
    """Short label of a rating item: the text before its colon (``"Einfluss"``), else the whole text."""
    text = item.text.get(lang)
    head, sep, _ = text.partition(":")
    return head.strip() if sep and len(head) <= 40 else text


@dataclass
class _Answers:
    code: dict[str, str] = field(default_factory=dict)
    answers: dict[str, Any] = field(default_factory=dict)
    ratings: dict[tuple[str, str], float] = field(default_factory=dict)
    included: dict[str, bool] = field(default_factory=dict)
    free: list[str] = field(default_factory=list)


class FormState:
    """The participant form of one instrument, wave and (optionally fixed) authority.

    Parameters
    ----------
    store
        The cohort database (a :class:`~toolkit.store.Store` or its path).
    instrument
        Id of an instrument stored in the database, or an :class:`Instrument`.
    wave
        The wave label; it must exist in the cohort.
    authority
        Fixed authority code; ``None`` lets the participant pick one from the cohort.
    lang
        ``"de"`` (default) or ``"en"``.
    kiosk
        Shared device: clear the form after each successful submission.
    source
        Stored with each submission (default ``"workshop"``).
    authority_names
        The cohort's authorities (code → name, :func:`authority_names_of`) when the caller has
        checked the wave and read them already (the workshop server does once per process, not per page).

    Raises
    ------
    DataError
        If the instrument, wave or authority is not in the cohort.
    """

    def __init__(
        self,
        store: Store | str | Path,
        instrument: str | Instrument,
        wave: str,
        *,
        authority: str | None = None,
        lang: str = "de",
        kiosk: bool = False,
        source: str = "workshop",
        authority_names: Mapping[str, str] | None = None,
    ) -> None:
        self.store = store if isinstance(store, Store) else Store(store)
        self.instrument = self.store.instrument(instrument) if isinstance(instrument, str) else instrument
        if authority_names is None:
            self.store.require_wave(wave)
            authority_names = authority_names_of(self.store)
        self.wave = wave
        self._authority_names = dict(authority_names)
        if authority is not None and authority not in self._authority_names:
            raise DataError(
                f"authority {authority!r} is not in the cohort of {self.store.path.name}; known: {', '.join(sorted(self._authority_names)) or 'none'}"
            )
        self.fixed_authority = authority
        self.authority: str | None = authority
        self.lang = lang if lang in ("de", "en") else "de"
        self.kiosk = bool(kiosk)
        self.source = source
        cat = self.instrument.stakeholders
        self.catalogue = [e.id for e in cat.catalogue] if cat else []
        self.free_entries = cat.free_entries if cat else 0
        self.rating_items = [i for i in self.instrument.items if i.item_type.per_stakeholder]
        self.simple_items = [i for i in self.instrument.items if not i.item_type.per_stakeholder]
        self.number = {item.id: n for n, item in enumerate(self.simple_items, start=1)}
        self.submission_id: int | None = None
        self.last_result: SubmitResult | None = None
        self.n_submitted = 0
        self._a = _Answers()
        self.reset()

    # ------------------------------------------------------------------ reading state
    @property
    def code(self) -> dict[str, str]:
        return dict(self._a.code)

    @property
    def answers(self) -> dict[str, Any]:
        return dict(self._a.answers)

    @property
    def ratings(self) -> dict[tuple[str, str], float]:
        return dict(self._a.ratings)

    @property
    def included(self) -> dict[str, bool]:
        return dict(self._a.included)

    @property
    def free(self) -> list[str]:
        return list(self._a.free)

    def authority_options(self) -> list[tuple[str, str]]:
        """``(label, code)`` pairs of the cohort's authorities for the picker."""
        return [(f"{name} ({code})" if name != code else code, code) for code, name in sorted(self._authority_names.items(), key=lambda kv: kv[1].casefold())]

    def code_explanation(self) -> str:
        return CODE_EXPLANATION[self.lang]

    def code_elements(self) -> list[tuple[str, str, str]]:
        """``(id, prompt, placeholder)`` of each code element in the form's language."""
        return [(e.id, e.prompt(self.lang), e.placeholder if self.lang == "de" else e.placeholder.replace("z. B.", "e.g.")) for e in CODE_ELEMENTS]

    def stakeholders(self) -> list[tuple[str, str, bool]]:
        """The stakeholders this rater assesses: ``(key, label, free)``; included catalogue entries, then free entries."""
        out = [(k, self.instrument.stakeholder_name(k, self.lang), False) for k in self.catalogue if self._a.included.get(k, False)]
        seen = {k for k, _, _ in out}
        for name in self._a.free:
            key = " ".join(name.split())
            if key and key not in seen:
                out.append((key, key, True))
                seen.add(key)
        return out

    # ------------------------------------------------------------------ changing state
    def _touch(self) -> None:
        """Any change after a successful submit starts a new attempt (a correction gets its own token)."""
        if self.submission_id is not None:
            self.submission_id = None
            self.token = uuid.uuid4().hex

    def set_language(self, lang: str) -> None:
        self.lang = lang if lang in ("de", "en") else "de"

    def set_authority(self, code: str | None) -> None:
        if self.fixed_authority is not None:
            raise DataError(f"the authority is fixed to {self.fixed_authority!r} for this session")
        if code is not None and code not in self._authority_names:
            raise DataError(f"authority {code!r} is not in the cohort; known: {', '.join(sorted(self._authority_names))}")
        self._touch()
        self.authority = code

    def set_code(self, elements: dict[str, str] | None = None, **kw: str) -> None:
        """Set code elements by id (``mother``, ``birthday``, ``birthplace``, ``street``)."""
        values = {**(elements or {}), **kw}
        known = {e.id for e in CODE_ELEMENTS}
        for key, value in values.items():
            if key not in known:
                raise DataError(f"unknown code element {key!r}; known: {', '.join(sorted(known))}")
            self._touch()
            self._a.code[key] = "" if value is None else str(value)

    def set_answer(self, item_id: str, value: Any, stakeholder: str | None = None) -> None:
        """Set (or with ``None`` clear) one answer; per-stakeholder items need ``stakeholder``.

        Raises
        ------
        DataError
            Unknown item, a value not on the item's scale, or a missing stakeholder.
        """
        try:
            item = self.instrument.item(item_id)
        except KeyError as exc:
            raise DataError(str(exc.args[0])) from None
        if value is not None and item.type != "text":
            scale = self.instrument.scales[item.scale]  # type: ignore[index]
            if not scale.is_valid(float(value)):
                raise DataError(f"item {item_id!r}: {value!r} is not on scale {item.scale!r}")
            value = float(value)
        self._touch()
        if item.item_type.per_stakeholder:
            if not stakeholder:
                raise DataError(f"item {item_id!r} is rated per stakeholder; give stakeholder=")
            key = (item_id, " ".join(str(stakeholder).split()))
            if value is None:
                self._a.ratings.pop(key, None)
            else:
                self._a.ratings[key] = value
            return
        if stakeholder is not None:
            raise DataError(f"item {item_id!r} is not rated per stakeholder")
        if value is None or (item.type == "text" and not str(value).strip()):
            self._a.answers.pop(item_id, None)
        else:
            self._a.answers[item_id] = value

    def include_stakeholder(self, key: str, include: bool = True) -> None:
        if key not in self.catalogue:
            raise DataError(f"{key!r} is not in the stakeholder catalogue; known: {', '.join(self.catalogue)}")
        self._touch()
        self._a.included[key] = bool(include)

    def set_free_entry(self, index: int, name: str) -> None:
        """Name of free stakeholder entry ``index`` (0-based; at most ``free_entries``)."""
        if not 0 <= index < self.free_entries:
            raise DataError(f"free entry {index} does not exist; this instrument allows {self.free_entries} free entries")
        old = " ".join(self._a.free[index].split())
        new = " ".join(str(name or "").split())
        if old and old != new and old not in [" ".join(f.split()) for i, f in enumerate(self._a.free) if i != index]:
            for key in [k for k in self._a.ratings if k[1] == old]:
                self._a.ratings.pop(key)
        self._touch()
        self._a.free[index] = new

    def reset(self) -> None:
        """Clear every answer and the code (language and a fixed authority stay) and start a new attempt."""
        self._a = _Answers(
            included={k: False for k in self.catalogue},  # the rater ticks the groups to assess
            free=[""] * self.free_entries,
        )
        self.authority = self.fixed_authority
        self.submission_id = None
        self.token = uuid.uuid4().hex

    # ------------------------------------------------------------------ validation
    def missing_ratings(self, key: str) -> list[Item]:
        """Required rating items not yet answered for one stakeholder."""
        return [i for i in self.rating_items if i.is_required and (i.id, key) not in self._a.ratings]

    def open_count(self) -> int:
        """How many problems are open (``len(problems())`` without writing their messages: the form's counter after each answer)."""
        n = 0 if self.authority is not None else 1
        for element in CODE_ELEMENTS:
            raw = self._a.code.get(element.id, "")
            norm = normalise_element(raw)
            if not norm or len(raw.strip()) > element.max_length or (element.id == "birthday" and not (norm.isdigit() and 1 <= int(norm) <= 31)):
                n += 1
        answers = self._a.answers
        for item in self.simple_items:
            if item.is_required and item.id not in answers:
                n += 1
            elif item.type == "text" and len(str(answers.get(item.id) or "")) > TEXT_MAX:
                n += 1
        if self.rating_items:
            return len(self.problems())  # per-stakeholder forms: few items, the full check is cheap enough
        return n

    def problems(self) -> list[Problem]:
        """Everything still missing, in the order of the form."""
        out: list[Problem] = []
        lang = self.lang
        if self.authority is None:
            out.append(Problem("authority", "authority", t("missing_authority", lang)))
        for element in CODE_ELEMENTS:
            raw = self._a.code.get(element.id, "")
            norm = normalise_element(raw)
            if not norm:
                out.append(Problem("code", element.id, t("missing_code", lang, prompt=element.prompt(lang))))
            elif len(raw.strip()) > element.max_length:
                out.append(Problem("code", element.id, t("too_long_code", lang, prompt=element.prompt(lang), n=element.max_length)))
            elif element.id == "birthday" and not (norm.isdigit() and 1 <= int(norm) <= 31):
                out.append(Problem("code", element.id, t("bad_day", lang)))
        for item in self.simple_items:
            if item.is_required and item.id not in self._a.answers:
                out.append(Problem("item", item.id, t("missing_item", lang, i=self.number[item.id], text=_short(item.text.get(lang)))))
            elif item.type == "text" and len(str(self._a.answers.get(item.id) or "")) > TEXT_MAX:
                n = len(str(self._a.answers[item.id]))
                out.append(Problem("item", item.id, t("too_long_text", lang, i=self.number[item.id], n=n, max=TEXT_MAX)))
        if self.rating_items:
            rated = self.stakeholders()
            if not rated:
                out.append(Problem("stakeholder", "", t("missing_stakeholder", lang)))
            names = [" ".join(f.split()).casefold() for f in self._a.free if f.strip()]
            for pos, name in enumerate(self._a.free):
                if len(name) > FREE_NAME_MAX:
                    out.append(Problem("stakeholder", f"free{pos}", t("too_long_free", lang, i=pos + 1, n=len(name), max=FREE_NAME_MAX)))
            for name in sorted({n for n in names if names.count(n) > 1}):
                out.append(Problem("stakeholder", name, t("duplicate_free", lang, name=name)))
            for key, label, _ in rated:
                for item in self.missing_ratings(key):
                    out.append(Problem("stakeholder", item.id, t("missing_rating", lang, stakeholder=label, role=role_label(item, lang)), stakeholder=key))
        return out

    def missing_summary(self, limit: int = 8) -> str:
        """The open problems as one localised text (empty when complete)."""
        probs = self.problems()
        if not probs:
            return ""
        lines = [p.message for p in probs[:limit]]
        if len(probs) > limit:
            lines.append(t("more", self.lang, n=len(probs) - limit))
        return t("problems_title", self.lang) + "\n" + "\n".join(f"• {line}" for line in lines)

    # ------------------------------------------------------------------ submit
    def build_submission(self) -> Submission:
        """The :class:`~toolkit.store.Submission` of the current answers (no validation)."""
        answers: dict[Any, Any] = dict(self._a.answers)
        rated = {k for k, _, _ in self.stakeholders()}
        for (item_id, key), value in self._a.ratings.items():
            if key in rated:
                answers[(item_id, key)] = value
        code = tuple(self._a.code.get(e.id, "") for e in CODE_ELEMENTS)
        return Submission(str(self.authority), code, self.wave, self.instrument, answers, source=self.source, token=self.token)

    def submit(self) -> SubmitResult:
        """Validate and store the answers in one transaction.

        Nothing is stored while :meth:`problems` is not empty. A repeated call with
        the same attempt (double click) stores nothing new and returns the same id.
        In kiosk mode the form is cleared after a successful submission.
        """
        probs = self.problems()
        if probs:
            result = SubmitResult(False, self.missing_summary(), problems=tuple(probs))
            self.last_result = result
            return result
        duplicate = self.submission_id is not None
        try:
            sid = self.store.submit(self.build_submission())
        except StoreError as exc:
            log.warning("workshop submit failed: %s", exc)
            result = SubmitResult(False, t("busy", self.lang))
            self.last_result = result
            return result
        except DataError as exc:
            log.warning("workshop submit rejected: %s", exc)
            result = SubmitResult(False, t("save_failed", self.lang, reason=str(exc)))
            self.last_result = result
            return result
        if not duplicate:
            self.n_submitted += 1
        self.submission_id = sid
        self._last = (self.authority, self.build_submission().code)
        msg = t("thanks_kiosk", self.lang) if self.kiosk else t("thanks", self.lang) + " " + t("thanks_correct", self.lang)
        result = SubmitResult(True, msg, submission_id=sid, duplicate=duplicate)
        self.last_result = result
        if self.kiosk:
            self.reset()
        return result

    # ------------------------------------------------------------------ own profile
    def own_profile(self) -> pd.DataFrame:
        """The just-submitted participant's dimension scores next to the group's (privacy applied).

        Returns
        -------
        DataFrame
            ``dimension, label, own, group, n, suppressed`` — one row per dimension with
            scored items; ``group`` is the group value as last released in steps of k
            (:class:`toolkit.privacy.LiveRelease`) and NaN (``suppressed`` True) unless at
            least k people other than this participant are in it. Empty if nothing was
            submitted yet, in kiosk mode (the next person must not see it) or when the
            instrument has no scored dimensions.
        """
        cols = ["dimension", "label", "own", "group", "n", "suppressed"]
        last = getattr(self, "_last", None)
        if last is None or self.kiosk or not any(d.scored_items for d in self.instrument.dimensions):
            return pd.DataFrame(columns=cols)
        from ..privacy import Level, levels, live_state, recording, resolve_k
        from ..scoring import dimension_scores

        authority, code = last
        me = self.store.pseudonym(authority, code)
        resp = self.store.responses(self.instrument.id, wave=self.wave, authority=authority, linked=False)
        scores = dimension_scores(resp, self.instrument)
        k = resolve_k(self.store)
        # the group value is the session's live release (same steps as the dashboard), shown to this participant
        # only with k others in it: their own answers are known to them (toolkit.privacy.LiveRelease.for_participant)
        live = live_state((str(getattr(self.store, "path", "")), self.instrument.id, str(self.wave), authority), k)
        scores = scores.assign(wave=scores["wave"].astype(str), dimension=scores["dimension"].astype(str))
        with recording():
            group = levels(scores, "authority", k=k, instrument=self.instrument.id, output="form").set_index("dimension")
        me_id = f"{authority}|{me}"
        own = scores.loc[scores["participant"] == me, ["dimension", "score"]].set_index("dimension")["score"]
        dims = [d for d in self.instrument.dimensions if d.scored_items]
        rows = []
        for d in dims:
            value, n, sup = float("nan"), int(group.loc[d.id, "n"]) if d.id in group.index else 0, True
            q = Level(self.instrument.id, d.id, str(self.wave))
            if d.id in group.index and not bool(group.loc[d.id, "suppressed"]):
                g = group.loc[d.id]
                live.step(("profile", d.id), g["who"], g.drop(labels=["who"]).to_dict(), quantity=q, output="form", cell=f"group/{d.id}")
            rel = live.for_participant(("profile", d.id), me_id, quantity=q, output="form", cell=f"group/{d.id}")
            if rel.shown:
                value, n, sup = float(rel.value["mean"]), int(rel.n), False
            rows.append({"dimension": d.id, "label": d.title.get(self.lang), "own": own.get(d.id, float("nan")), "group": value, "n": n,
                         "suppressed": sup})
        return pd.DataFrame(rows, columns=cols)


def _short(text: str, width: int = 70) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"
