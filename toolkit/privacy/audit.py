"""The auditor: checks a whole record of releases together (reports, index, CLI, live states).

1. **Close the record.** A paired difference over a set ``S`` (waves a → b) together with a
   level over the same ``S`` at one of the two waves gives the level at the other wave over
   ``S``. Repeat until nothing new follows.
2. **Per quantity** (level: instrument, dimension or item, wave; a paired difference is
   checked the same way over its pairs):

   * no level has 1..k−1 respondents (levels the viewer knows anyway — the participant's
     own answers in the form, a set of one — are exempt from this rule only);
   * for two levels whose respondent sets are nested, the difference is 0 or at least ``k``
     people;
   * a level minus the released levels inside it that do not overlap (e.g. the authorities
     inside a ministry value) leaves 0 or at least ``k`` people.

Each violation names the cells that combine to it.

Example
-------
>>> from toolkit.privacy.release import Level, Diff, recording, release
>>> with recording() as rec:
...     _ = release(Level("ci", "dt", "t0"), [f"p{i}" for i in range(6)], 1.0, k=5, output="A", cell="t0")
...     _ = release(Level("ci", "dt", "t1"), [f"p{i}" for i in range(7)], 1.0, k=5, output="A", cell="t1")
...     _ = release(Diff("ci", "dt", "t0", "t1"), [f"p{i}" for i in range(6)], 0.2, k=5, output="A", cell="change")
>>> [v.rule for v in audit(rec, k=5)]
['nested']
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .release import Diff, Entry, Level, Record

__all__ = ["Violation", "audit", "format_violations", "Planner"]


@dataclass(frozen=True)
class Violation:
    """One way to derive a value of fewer than ``k`` people, with the cells that combine to it."""

    rule: str  # "small", "nested" or "remainder"
    quantity: Any
    n: int  # people isolated
    cells: tuple[tuple[str, str, int, str], ...]  # (output, cell, n, how: "released" or "derived from ...")

    def __str__(self) -> str:
        what = {"small": "a level of {n} people", "nested": "two nested levels differ by {n} people",
                "remainder": "a level minus the levels inside it leaves {n} people"}[self.rule].format(n=self.n)
        cells = "; ".join(f"{o} [{c}] n={n}" + ("" if how == "released" else f" ({how})") for o, c, n, how in self.cells)
        return f"{self.quantity}: {what}: {cells}"


def _close(levels: dict[Level, dict[int, list[tuple[Entry, str]]]], diffs: list[Entry]) -> None:
    """Add derived levels (difference + level over the same set -> level at the other wave) until fixpoint."""
    changed = True
    while changed:
        changed = False
        for d in diffs:
            q: Diff = d.quantity
            for have, want in ((q.wave_a, q.wave_b), (q.wave_b, q.wave_a)):
                src = levels.get(q.level(have), {}).get(d.mask)
                if not src:
                    continue
                dst = levels.setdefault(q.level(want), {})
                if d.mask in dst:
                    continue
                base = src[0][0]
                how = f"derived from {d.output} [{d.cell}] and {base.output} [{base.cell}]"
                dst[d.mask] = [(Entry(d.output, d.cell, q.level(want), d.mask, d.n), how)]
                changed = True


def _cells(group: list[tuple[Entry, str]]) -> list[tuple[str, str, int, str]]:
    return [(e.output, e.cell, e.n, how) for e, how in group[:3]]


def audit(record: Record | list[Entry], *, k: int | None = None) -> list[Violation]:
    """All violations in a record of releases (empty list: nothing below ``k`` can be derived).

    Parameters
    ----------
    record
        A :class:`~toolkit.privacy.release.Record` (e.g. from :func:`~toolkit.privacy.recording`).
    k
        Minimum group size (default: the record's, else 5).
    """
    entries = record.entries if isinstance(record, Record) else list(record)
    k = int(k or (record.k if isinstance(record, Record) else None) or 5)
    levels: dict[Level, dict[int, list[tuple[Entry, str]]]] = {}
    diffs: list[Entry] = []
    for e in entries:
        if isinstance(e.quantity, Diff):
            diffs.append(e)
        else:
            levels.setdefault(e.quantity, {}).setdefault(e.mask, []).append((e, "released"))
    _close(levels, diffs)
    checked: dict[Any, dict[int, list[tuple[Entry, str]]]] = dict(levels)
    for e in diffs:  # a difference over a set of pairs is checked like a level
        checked.setdefault(e.quantity, {}).setdefault(e.mask, []).append((e, "released"))
    out: list[Violation] = []
    for q, sets in checked.items():
        masks = sorted(sets, key=lambda m: sets[m][0][0].n)
        sizes = {m: sets[m][0][0].n for m in masks}
        for m in masks:
            if 0 < sizes[m] < k and not all(e.known for e, _ in sets[m]):
                out.append(Violation("small", q, sizes[m], tuple(_cells([x for x in sets[m] if not x[0].known]))))
        for i, big in enumerate(masks):
            inner = [m for m in masks[:i] if m != big and m & ~big == 0]
            for m in inner:
                d = sizes[big] - sizes[m]
                if 0 < d < k:
                    out.append(Violation("nested", q, d, tuple(_cells(sets[m]) + _cells(sets[big]))))
            maximal = [m for m in inner if not any(m != o and m & ~o == 0 for o in inner)]
            if len(maximal) < 2:
                continue
            union, disjoint = 0, True
            for m in maximal:
                if union & m:
                    disjoint = False
                    break
                union |= m
            if not disjoint:
                continue
            rest = (big & ~union).bit_count()
            if 0 < rest < k:
                cells = _cells(sets[big]) + [c for m in maximal for c in _cells(sets[m])[:1]]
                out.append(Violation("remainder", q, rest, tuple(cells)))
    return out


def format_violations(violations: list[Violation], *, limit: int | None = None) -> str:
    """Plain text: '0 violations' or one line per violation."""
    if not violations:
        return "0 violations"
    lines = [f"{len(violations)} violation(s)"]
    for v in violations[: limit or len(violations)]:
        lines.append(f"- {v}")
    if limit and len(violations) > limit:
        lines.append(f"... and {len(violations) - limit} more")
    return "\n".join(lines)


class Planner:
    """Incremental audit for deciding releases in a fixed order (:mod:`toolkit.privacy.plan`).

    Holds accepted (quantity, mask) pairs; :meth:`allows` tells whether a group of new ones
    keeps the record free of violations (same rules as :func:`audit`, checked only where the
    new sets are involved), :meth:`add` accepts them.

    Example
    -------
    >>> p = Planner(k=5)
    >>> p.add([(Level("i", "d", "t0"), 0b111111), (Level("i", "d", "t1"), 0b1111111)])
    >>> p.allows([(Diff("i", "d", "t0", "t1"), 0b111111)])
    False
    >>> p.allows([(Diff("i", "d", "t0", "t1"), 0b011111)])
    True
    """

    def __init__(self, k: int) -> None:
        self.k = int(k)
        self.sets: dict[Any, set[int]] = {}
        self.diffs: dict[int, set[Diff]] = {}

    def _derive(self, new: list[tuple[Any, int]]) -> list[tuple[Any, int]]:
        """The new pairs plus every level that follows from them with what is accepted (closure)."""
        out: list[tuple[Any, int]] = []
        seen: set[tuple[Any, int]] = set()
        extra_diffs: dict[int, set[Diff]] = {}
        work = list(new)
        while work:
            q, m = work.pop()
            if (q, m) in seen or m in self.sets.get(q, ()):
                continue
            seen.add((q, m))
            out.append((q, m))
            if isinstance(q, Diff):
                extra_diffs.setdefault(m, set()).add(q)
                for have, want in ((q.wave_a, q.wave_b), (q.wave_b, q.wave_a)):
                    if m in self.sets.get(q.level(have), ()) or (q.level(have), m) in seen:
                        work.append((q.level(want), m))
            else:
                for d in self.diffs.get(m, set()) | extra_diffs.get(m, set()):
                    if d.instrument == q.instrument and d.var == q.var and q.wave in (d.wave_a, d.wave_b):
                        work.append((d.level(d.wave_b if q.wave == d.wave_a else d.wave_a), m))
        return out

    def _ok(self, q: Any, m: int, pending: set[int]) -> bool:
        k = self.k
        n = m.bit_count()
        if 0 < n < k:
            return False
        others = self.sets.get(q, set()) | (pending - {m})
        supersets = []
        for o in others:
            if o == m:
                continue
            if o & ~m == 0 or m & ~o == 0:
                if 0 < abs(o.bit_count() - n) < k:
                    return False
                if m & ~o == 0:
                    supersets.append(o)
        for big in [m, *supersets]:
            inner = [o for o in (others | {m}) if o != big and o & ~big == 0]
            maximal = [o for o in inner if not any(o != x and o & ~x == 0 for x in inner)]
            if len(maximal) < 2:
                continue
            union = 0
            for o in maximal:
                if union & o:
                    union = -1
                    break
                union |= o
            if union != -1 and 0 < (big & ~union).bit_count() < k:
                return False
        return True

    def allows(self, new: list[tuple[Any, int]]) -> bool:
        """Whether accepting ``new`` (with what follows from it) keeps the record free of violations."""
        full = [(q, m) for q, m in self._derive([(q, m) for q, m in new if m])]
        by_q: dict[Any, set[int]] = {}
        for q, m in full:
            by_q.setdefault(q, set()).add(m)
        return all(self._ok(q, m, by_q[q]) for q, m in full)

    def add(self, new: list[tuple[Any, int]]) -> None:
        """Accept ``new`` (and what follows from it) without checking."""
        for q, m in self._derive([(q, m) for q, m in new if m]):
            self.sets.setdefault(q, set()).add(m)
            if isinstance(q, Diff):
                self.diffs.setdefault(m, set()).add(q)
