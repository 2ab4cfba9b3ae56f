"""The release API: every aggregate a person sees is requested here, with the people behind it.

A *quantity* is what a number is about: a :class:`Level` (instrument, dimension or item,
wave) or a paired :class:`Diff` (instrument, dimension, wave a → wave b). A request names
the quantity, the *respondent set* (who the number is computed from), the value, and where
it appears (``output`` e.g. ``"report:BAMF"``, ``cell`` e.g. ``"profile/digital_tools"``).
The answer is a :class:`Released`: shown or suppressed, with the true reason in German and
English (:data:`REASONS`). Every shown release is recorded in the current :class:`Record`
(:func:`recording` opens a fresh one; :func:`toolkit.privacy.audit` checks a record).

Rules applied here, per request: a level needs ``k`` respondents (a paired difference ``k``
pairs); the caller may pass ``forbid`` with the reason a cohort-wide rule
(:mod:`toolkit.privacy.plan`) gives. ``known=True`` marks what the viewer knows anyway (the
participant's own answers in the form): recorded, exempt from the ``k`` rule.

Example
-------
>>> with recording() as rec:
...     r1 = release(Level("ci", "dt", "t0"), ["A|p1", "A|p2"], 3.5, k=5, output="cli", cell="A")
...     r2 = release(Level("ci", "dt", "t0"), [f"A|p{i}" for i in range(6)], 3.1, k=5, output="cli", cell="A")
>>> (r1.shown, r1.reason_text("de"), r2.shown, r2.value, len(rec))
(False, 'weniger als 5 Antworten', True, 3.1, 1)

Frames: :func:`release_frame` does the same row by row (``suppressed``, ``reason`` columns,
estimates NaN where suppressed); :func:`respondents` builds the sets from a tidy frame.
"""

from __future__ import annotations

import contextvars
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Sequence

import numpy as np
import pandas as pd

from .mask import EMPTY, Mask

__all__ = [
    "Level",
    "Diff",
    "Quantity",
    "Released",
    "Entry",
    "Record",
    "Mask",
    "REASONS",
    "reason_text",
    "recording",
    "current_record",
    "release",
    "release_frame",
    "release_rows",
    "released_copy",
    "records",
    "respondents",
    "who",
]

DEFAULT_K = 5


@dataclass(frozen=True, order=True)
class Level:
    """A level: the values of one dimension, item or derived variable at one wave."""

    instrument: str
    var: str
    wave: str

    def __str__(self) -> str:
        return f"{self.instrument}:{self.var}@{self.wave}"


@dataclass(frozen=True, order=True)
class Diff:
    """A paired difference of one dimension between two waves (``wave_b − wave_a``)."""

    instrument: str
    var: str
    wave_a: str
    wave_b: str

    def level(self, wave: str) -> Level:
        return Level(self.instrument, self.var, wave)

    def __str__(self) -> str:
        return f"{self.instrument}:{self.var}@{self.wave_a}->{self.wave_b}"


Quantity = Level | Diff

#: reason code -> German and English text (``{k}`` is the minimum group size)
REASONS: dict[str, dict[str, str]] = {
    "too_few": {"de": "weniger als {k} Antworten", "en": "fewer than {k} responses"},
    "too_few_item": {"de": "weniger als {k} gültige Antworten zu dieser Aussage", "en": "fewer than {k} valid answers to this statement"},
    "too_few_pairs": {"de": "weniger als {k} Paare", "en": "fewer than {k} pairs"},
    "derivable": {"de": "verborgen, weil sonst eine kleinere Gruppe berechenbar wäre",
                  "en": "hidden, because otherwise a smaller group could be calculated"},
    "one_wave_derivable": {"de": "verborgen, weil sonst die Werte der nur einmal Teilnehmenden berechenbar wären",
                           "en": "hidden, because otherwise the values of those who took part only once could be calculated"},
    "pair_means": {"de": "Vorher/Nachher der Paare verborgen, weil sonst die nur einmal Teilnehmenden berechenbar wären",
                   "en": "before/after of the pairs hidden, because otherwise those who took part only once could be calculated"},
    "live_step": {"de": "wird erst nach {k} weiteren Antworten aktualisiert", "en": "updates only after {k} more responses"},
    "own_group": {"de": "erscheint, sobald mindestens {k} andere Personen geantwortet haben",
                  "en": "appears once at least {k} other people have answered"},
    "no_data": {"de": "keine Daten", "en": "no data"},
}


def reason_text(code: str | None, lang: str = "de", *, k: int = DEFAULT_K) -> str:
    """The plain-language reason for a suppression code ('' for None)."""
    if not code:
        return ""
    texts = REASONS.get(code)
    if texts is None:
        return code
    return texts.get(lang, texts["de"]).format(k=k)


@dataclass(frozen=True)
class Released:
    """The answer to one release request."""

    shown: bool
    value: Any
    n: int
    reason: str | None = None
    k: int = DEFAULT_K

    def reason_text(self, lang: str = "de") -> str:
        return reason_text(self.reason, lang, k=self.k)


@dataclass(frozen=True)
class Entry:
    """One recorded release: where it appeared, what it is about, who is behind it (a :class:`Mask` of the
    record's respondent numbers)."""

    output: str
    cell: str
    quantity: Any
    mask: Mask
    n: int
    known: bool = False


@dataclass
class Record:
    """The releases of one run (a batch, an audit, a live session), indexed by quantity.

    Respondent ids are mapped to bit numbers (in the order they are first seen), so a respondent set is
    one :class:`~toolkit.privacy.mask.Mask` (sparse: its size follows the set's span of numbers, not the
    highest number) and subset tests are a single ``&``.
    """

    k: int | None = None
    entries: list[Entry] = field(default_factory=list)
    ids: dict[Any, int] = field(default_factory=dict)
    _seen: set[tuple[str, str, Any, int]] = field(default_factory=set, repr=False)
    _lock: Any = field(default_factory=threading.Lock, repr=False)

    def __len__(self) -> int:
        return len(self.entries)

    def mask(self, people: Iterable[Any]) -> Mask:
        """The mask of a respondent set, built from the bit numbers in one step (:meth:`Mask.from_positions`).

        New respondents get the next bit numbers in the order of their ids (``authority|participant``), not
        of the set's iteration (a frozenset's is by hash): a cohort-wide set seen first numbers each
        authority's people as neighbours, so the authorities' own sets stay small masks.
        """
        with self._lock:
            ids = self.ids
            get = ids.get
            bits = [get(p) for p in people] if isinstance(people, (frozenset, set, list, tuple)) else None
            if bits is None or None in bits:
                people = list(people)
                new = {p for p in people if p not in ids}
                try:
                    order = sorted(new)
                except TypeError:  # ids that do not compare: in the order met
                    order = [p for p in dict.fromkeys(people) if p in new]
                for p in order:
                    ids[p] = len(ids)
                bits = [ids[p] for p in people]
        if not bits:
            return EMPTY
        return Mask.from_positions(np.array(bits, dtype=np.int64))

    def add(self, output: str, cell: str, quantity: Any, people: Iterable[Any], *, known: bool = False) -> Entry:
        m = self.mask(people)
        e = Entry(str(output), str(cell), quantity, m, m.bit_count(), known)
        key = (e.output, e.cell, quantity, m)
        with self._lock:
            if key not in self._seen:
                self._seen.add(key)
                self.entries.append(e)
        return e

    def add_mask(self, output: str, cell: str, quantity: Any, mask: Mask, *, known: bool = False) -> None:
        """Record a release whose respondent set is already a mask of this record (see :meth:`mask`)."""
        mask = Mask.of(mask)
        key = (str(output), str(cell), quantity, mask)
        with self._lock:
            if key not in self._seen:
                self._seen.add(key)
                self.entries.append(Entry(key[0], key[1], quantity, mask, mask.bit_count(), known))

    def names(self, mask: Mask | int) -> list[Any]:
        """The respondent ids of a mask, in bit order (for messages and tests)."""
        inv = {b: p for p, b in self.ids.items()}
        return [inv[b] for b in Mask.of(mask).positions().tolist()]


_CURRENT: contextvars.ContextVar[Record | None] = contextvars.ContextVar("upo_privacy_record", default=None)
_GLOBAL = Record()


def current_record() -> Record:
    """The record releases go to: the innermost :func:`recording`, else a process-wide one."""
    rec = _CURRENT.get()
    return rec if rec is not None else _GLOBAL


def fresh_process_record(k: int | None = None, *, record: Record | None = None) -> Record:
    """Start a fresh process-wide record (where releases go outside any :func:`recording`) and return it.

    A report kernel starts one per report, so the record it ships back holds that report's releases only
    (``record``: that empty record, e.g. :class:`toolkit.reports.releases.KernelRecord`; default a new
    :class:`Record` with minimum group size ``k``).
    """
    global _GLOBAL
    _GLOBAL = record if record is not None else Record(k=k)
    return _GLOBAL


@contextmanager
def recording(k: int | None = None) -> Iterator[Record]:
    """Collect every release made inside the block in a fresh :class:`Record`."""
    rec = Record(k=k)
    token = _CURRENT.set(rec)
    try:
        yield rec
    finally:
        _CURRENT.reset(token)


class _Nowhere(Record):
    """A record that keeps nothing (see :func:`unrecorded`)."""

    def add(self, output: str, cell: str, quantity: Any, people: Any, *, known: bool = False) -> None:  # type: ignore[override]
        return None

    def add_mask(self, output: str, cell: str, quantity: Any, mask: Mask, *, known: bool = False) -> None:
        return None


@contextmanager
def unrecorded() -> Iterator[None]:
    """Releases inside the block decide as always but are recorded nowhere (for decisions computed once and
    recorded by each output that shows them): no respondent masks are built for a record that would be thrown away."""
    token = _CURRENT.set(_Nowhere())
    try:
        yield
    finally:
        _CURRENT.reset(token)


def who(authority: Any, participant: Any) -> str:
    """The respondent id used in records: participants are unique within an authority."""
    return f"{authority}|{participant}"


def respondents(df: pd.DataFrame, by: str | Sequence[str] | None = None, value: str | None = None) -> dict[Any, frozenset]:
    """Respondent sets of a tidy frame: group key -> frozenset of :func:`who` ids (rows with a valid ``value``).

    Example
    -------
    >>> d = pd.DataFrame({"authority": "A", "participant": ["p", "q", "q"], "dimension": ["x", "x", "y"], "score": [1.0, 2.0, None]})
    >>> {k: sorted(v) for k, v in respondents(d, "dimension", "score").items()}
    {'x': ['A|p', 'A|q']}
    """
    data = df if value is None else df[df[value].notna()]
    if "authority" in data.columns:
        ids = data["authority"].astype(str) + "|" + data["participant"].astype(str)
    else:
        ids = data["participant"].astype(str)
    if by is None or (not isinstance(by, str) and not by):
        return {None: frozenset(ids)}
    cols = [by] if isinstance(by, str) else list(by)
    keys = [data[c].astype(object) for c in cols]
    out: dict[Any, set] = {}
    for key, i in zip(zip(*keys) if len(cols) > 1 else keys[0], ids):
        out.setdefault(key, set()).add(i)
    return {key: frozenset(v) for key, v in out.items()}


def release(
    quantity: Any,
    people: Iterable[Any],
    value: Any = None,
    *,
    k: int | None = None,
    output: str = "",
    cell: str = "",
    forbid: str | None = None,
    known: bool = False,
    record: Record | None = None,
) -> Released:
    """Ask whether a value over a respondent set may be shown; record it if so.

    Parameters
    ----------
    quantity
        A :class:`Level` or :class:`Diff`.
    people
        The respondent ids behind the value (see :func:`who`); for a :class:`Diff` the pairs.
    value
        The value to show (returned unchanged when shown, None when suppressed).
    k
        Minimum group size (default: the record's, else 5).
    output, cell
        Where the value appears (for the audit's messages).
    forbid
        A reason code from a cohort-wide rule (:mod:`toolkit.privacy.plan`): suppress with it.
    known
        The viewer knows this anyway (own answers): recorded, exempt from the ``k`` rule.
    record
        Record to write to (default: :func:`current_record`).
    """
    rec = record if record is not None else current_record()  # an empty Record is falsy (len 0)
    k = int(k or rec.k or DEFAULT_K)
    people = frozenset(people)
    n = len(people)
    reason = forbid
    if reason is None and not known and n < k:
        reason = "no_data" if n == 0 else ("too_few_pairs" if isinstance(quantity, Diff) else "too_few")
    if reason is not None:
        return Released(False, None, n, reason, k)
    rec.add(output, cell, quantity, people, known=known)
    return Released(True, value, n, None, k)


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """``df.to_dict("records")``, built from whole columns (``tolist``): the same dicts of Python values at a
    fraction of the cost on the small frames of a report (frames with repeated column names: ``to_dict``).

    Example
    -------
    >>> df = pd.DataFrame({"a": [1, 2], "b": ["x", None]})
    >>> records(df)[0]
    {'a': 1, 'b': 'x'}
    >>> str(records(df)) == str(df.to_dict("records"))  # a missing value comes out as to_dict gives it
    True
    """
    if not df.columns.is_unique:
        return df.to_dict("records")
    cols = list(df.columns)
    if not cols:
        return [{} for _ in range(len(df))]
    return [dict(zip(cols, row)) for row in zip(*(df[c].tolist() for c in cols))]


def release_frame(
    df: pd.DataFrame,
    *,
    quantity: Callable[[dict], Any],
    people: str | Callable[[dict], Iterable[Any]],
    k: int,
    output: str,
    cell: Callable[[dict], str] | str = "",
    estimates: Sequence[str] | None = None,
    forbid: str | None = None,
    reason_for: str = "reason",
) -> pd.DataFrame:
    """:func:`release` for every row of a frame.

    ``people`` is a column of respondent sets or a function of the row (a dict); ``forbid`` a column of
    reason codes (None/NaN: no cohort-wide objection). Returns a copy with ``suppressed`` (kept
    True where it already was, with its reason), ``reason`` and the ``estimates`` (default: the
    numeric columns except counts) set to NaN where suppressed.

    Example
    -------
    >>> d = pd.DataFrame({"dimension": ["x", "y"], "n": [2, 6], "mean": [1.0, 2.0]})
    >>> d["who"] = [frozenset("ab"), frozenset("abcdef")]
    >>> out = release_frame(d, quantity=lambda r: Level("i", r["dimension"], "t0"), people="who", k=5, output="t")
    >>> out[["mean", "suppressed", "reason"]].to_dict("records")
    [{'mean': nan, 'suppressed': True, 'reason': 'too_few'}, {'mean': 2.0, 'suppressed': False, 'reason': None}]
    """
    from .core import estimate_columns

    cols = list(estimates) if estimates is not None else [c for c in estimate_columns(df) if c != "who"]
    prior_sup = df["suppressed"].fillna(True).to_numpy(dtype=bool) if "suppressed" in df.columns else np.zeros(len(df), bool)
    prior_reason = list(df[reason_for]) if reason_for in df.columns else [None] * len(df)
    rows = records(df)  # plain dicts: the quantity/cell functions index them like rows
    hide, reasons = release_rows(rows, quantity=quantity, people=people, k=k, output=output, cell=cell,
                                 forbid=[row.get(forbid) for row in rows] if forbid else None, prior=(prior_sup, prior_reason))
    return released_copy(df, list(df.columns), hide, reasons, estimates=cols)


def release_rows(
    rows: Sequence[dict],
    *,
    quantity: Callable[[dict], Any],
    people: str | Callable[[dict], Iterable[Any]],
    k: int,
    output: str,
    cell: Callable[[dict], str] | str = "",
    forbid: Sequence[Any] | None = None,
    prior: tuple[Sequence[bool], Sequence[Any]] | None = None,
) -> tuple[np.ndarray, list[str | None]]:
    """The decisions of :func:`release_frame` (one :func:`release` per row, in order): ``(hidden, reasons)``.

    ``forbid``: per row a reason code of a cohort-wide rule (anything but a non-empty string: none);
    ``prior``: per row whether it is suppressed already and with which reason (kept; "derivable" without one).
    """
    sup, reasons = [], []
    for i, row in enumerate(rows):
        if prior is not None and prior[0][i]:
            sup.append(True)
            reasons.append(prior[1][i] if isinstance(prior[1][i], str) else "derivable")
            continue
        f = forbid[i] if forbid is not None else None
        f = f if isinstance(f, str) and f else None
        ppl = row[people] if isinstance(people, str) else people(row)
        c = cell(row) if callable(cell) else cell
        r = release(quantity(row), ppl if ppl is not None else (), None, k=k, output=output, cell=c, forbid=f)
        sup.append(not r.shown)
        reasons.append(r.reason)
    return np.asarray(sup, dtype=bool), reasons


def released_copy(df: pd.DataFrame, columns: Sequence[Any], hide: np.ndarray, reasons: Sequence[Any], *, estimates: Sequence[Any],
                  extra: dict[Any, Any] | None = None, reset_index: bool = False) -> pd.DataFrame:
    """A new frame of ``df``'s ``columns`` with the ``estimates`` (as floats) NaN where ``hide``, and ``suppressed``
    and ``reason`` (replaced where ``df`` has them, else appended), then ``extra`` columns (arrays, replaced or
    appended): built in one step from the columns, as ``df.copy()`` with each column set would be (which costs
    several times more on a report's small frames). ``reset_index``: a fresh ``RangeIndex``.
    """
    est = set(estimates)
    new: dict[Any, Any] = {"suppressed": hide, "reason": pd.Series(list(reasons), index=df.index, dtype=object), **(extra or {})}
    data: dict[Any, Any] = {}
    for c in columns:
        if c in est:
            values = df[c].to_numpy(dtype=float, na_value=np.nan, copy=True)
            values[hide] = np.nan
            data[c] = values
        elif c in new:
            data[c] = new[c]
        else:
            data[c] = df[c]
    for c, v in new.items():
        data.setdefault(c, v)
    out = pd.DataFrame(data, index=df.index)  # every Series here has df's index (repeated labels too)
    if reset_index:
        out.index = pd.RangeIndex(len(out))
    return out
