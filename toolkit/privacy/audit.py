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

from dataclasses import dataclass, replace
from typing import Any

from .mask import EMPTY, Mask
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


def _words(m: Mask) -> dict[int, int]:
    """The non-zero 64-bit words of a mask: ``{word index: word}`` (a sparse copy for the index)."""
    return m.words()


def _within(m: Mask, w: dict[int, int], o: Mask, ow: dict[int, int]) -> bool:
    """Whether mask ``m`` (words ``w``) lies inside ``o`` (words ``ow``)."""
    if len(w) > len(ow):
        return False
    if len(w) > 4:
        return m.within(o)
    g = ow.get
    for x, v in w.items():
        if v & ~g(x, 0):
            return False
    return True


class _Family:
    """The respondent sets of one quantity, indexed so that the sets containing a set, or lying
    inside it, are found without comparing it with every other set.

    A set is listed under every 64-bit word where it has members (``touch``) and under its
    first such word (``low``): a set containing ``m`` has members in each of ``m``'s words, a
    set inside ``m`` starts in one of them.
    """

    def __init__(self) -> None:
        self.masks: list[Mask] = []
        self.words: list[dict[int, int]] = []
        self.n: list[int] = []
        self.touch: dict[int, list[int]] = {}
        self.low: dict[int, list[int]] = {}

    def insert(self, m: Mask, w: dict[int, int] | None = None) -> int:
        i = len(self.masks)
        w = _words(m) if w is None else w
        self.masks.append(m)
        self.words.append(w)
        self.n.append(m.bit_count())
        for x in w:
            self.touch.setdefault(x, []).append(i)
        if w:
            self.low.setdefault(min(w), []).append(i)
        return i

    def supersets(self, m: Mask, w: dict[int, int], n: int) -> list[int]:
        """Ids of the sets that contain ``m`` (``m`` itself if it is present)."""
        if not w:
            return list(range(len(self.masks)))
        best = None
        for x in w:
            c = self.touch.get(x)
            if not c:
                return []
            if best is None or len(c) < len(best):
                best = c
        masks, words, sizes = self.masks, self.words, self.n
        return [j for j in best or () if sizes[j] >= n and _within(m, w, masks[j], words[j])]

    def subsets(self, m: Mask, w: dict[int, int], n: int) -> list[int]:
        """Ids of the non-empty sets inside ``m`` (``m`` itself if it is present)."""
        masks, words, sizes = self.masks, self.words, self.n
        out = []
        for x in w:
            for j in self.low.get(x, ()):
                if sizes[j] <= n and _within(masks[j], words[j], m, w):
                    out.append(j)
        return out


class _Accepted(_Family):
    """A :class:`_Family` that also keeps, per set, the sets strictly containing it (``sup``) and
    its maximal strict subsets (``kids``) with their summed sizes and their union, updated as
    sets are accepted: a new set changes only the sets that contain it."""

    def __init__(self) -> None:
        super().__init__()
        self.sup: list[set[int]] = []
        self.kids: list[set[int]] = []
        self.ksum: list[int] = []  # summed sizes of the kids
        self.union: list[dict[int, int]] = []  # union of everything inside (= of the kids), as words
        self.un: list[int] = []  # its size

    def children(self, inside: list[int]) -> tuple[set[int], int, dict[int, int], int]:
        """Maximal sets, their summed sizes, their union and its size, of the accepted sets ``inside`` (ids)."""
        iset = set(inside)
        kids = {j for j in inside if not self.sup[j] & iset}
        union: dict[int, int] = {}
        for j in kids:
            for x, v in self.words[j].items():
                union[x] = union.get(x, 0) | v
        return kids, sum(self.n[j] for j in kids), union, sum(v.bit_count() for v in union.values())

    def accept(self, m: Mask, w: dict[int, int], sups: list[int], subs: list[int]) -> None:
        """Add ``m`` (not present; ``sups``/``subs``: the ids of the sets containing it / inside it)."""
        n = m.bit_count()
        kids, ksum, union, un = self.children(subs)
        i = self.insert(m, w)
        self.sup.append(set(sups))
        self.kids.append(kids)
        self.ksum.append(ksum)
        self.union.append(union)
        self.un.append(un)
        subset = set(subs)
        for j in subs:
            self.sup[j].add(i)
        for s in sups:
            u = self.union[s]
            for x, v in w.items():
                old = u.get(x, 0)
                if v & ~old:
                    u[x] = old | v
                    self.un[s] += (v & ~old).bit_count()
            if any(s in self.sup[t] for t in sups):  # a set between m and s: m is not maximal in s
                continue
            gone = self.kids[s] & subset
            self.kids[s] -= gone
            self.kids[s].add(i)
            self.ksum[s] += n - sum(self.n[j] for j in gone)


def audit(record: Record | list[Entry], *, k: int | None = None) -> list[Violation]:
    """All violations in a record of releases (empty list: nothing below ``k`` can be derived).

    Parameters
    ----------
    record
        A :class:`~toolkit.privacy.release.Record` (e.g. from :func:`~toolkit.privacy.recording`).
    k
        Minimum group size (default: the record's, else 5).

    Per quantity the respondent sets are indexed by containment (:class:`_Family`), so each set
    is compared only with the sets that can contain it or lie inside it, and the maximal sets
    inside a set are found from the containment relation, not from all pairs.
    """
    entries = record.entries if isinstance(record, Record) else list(record)
    entries = [e if type(e.mask) is Mask else replace(e, mask=Mask.of(e.mask)) for e in entries]  # integer bit masks too
    k = int(k or (record.k if isinstance(record, Record) else None) or 5)
    levels: dict[Level, dict[Mask, list[tuple[Entry, str]]]] = {}
    diffs: list[Entry] = []
    for e in entries:
        if isinstance(e.quantity, Diff):
            diffs.append(e)
        else:
            levels.setdefault(e.quantity, {}).setdefault(e.mask, []).append((e, "released"))
    _close(levels, diffs)
    checked: dict[Any, dict[Mask, list[tuple[Entry, str]]]] = dict(levels)
    for e in diffs:  # a difference over a set of pairs is checked like a level
        checked.setdefault(e.quantity, {}).setdefault(e.mask, []).append((e, "released"))
    out: list[Violation] = []
    for q, sets in checked.items():
        masks = sorted(sets, key=lambda m: sets[m][0][0].n)
        sizes = [sets[m][0][0].n for m in masks]
        for m, n in zip(masks, sizes):
            if 0 < n < k and not all(e.known for e, _ in sets[m]):
                out.append(Violation("small", q, n, tuple(_cells([x for x in sets[m] if not x[0].known]))))
        fam = _Family()
        for m in masks:  # ids are the positions in size order
            fam.insert(m)
        sub: list[list[int]] = [[] for _ in masks]  # id -> ids of the sets strictly inside it
        sup: list[set[int]] = []  # id -> ids of the sets strictly containing it
        for i, m in enumerate(masks):
            s = {j for j in fam.supersets(m, fam.words[i], sizes[i]) if j != i}
            sup.append(s)
            for j in s:
                sub[j].append(i)
        for i, big in enumerate(masks):
            inner = sorted(sub[i])  # the original order: by size, then first release
            for j in inner:
                d = sizes[i] - sizes[j]
                if 0 < d < k:
                    out.append(Violation("nested", q, d, tuple(_cells(sets[masks[j]]) + _cells(sets[big]))))
            if len(inner) < 2:
                continue
            maximal = [j for j in inner if not any(i in sup[s] for s in sup[j])]  # no set between j and big
            if len(maximal) < 2 or sum(sizes[j] for j in maximal) > sizes[i]:
                continue
            union = Mask.union(masks[j] for j in maximal)
            if union.bit_count() != sum(sizes[j] for j in maximal):  # not disjoint
                continue
            rest = sizes[i] - union.bit_count()
            if 0 < rest < k:
                cells = _cells(sets[big]) + [c for j in maximal for c in _cells(sets[masks[j]])[:1]]
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

    Holds accepted (quantity, mask) pairs (masks: :class:`~toolkit.privacy.mask.Mask`, or integer bit masks,
    converted); :meth:`allows` tells whether a group of new ones
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
        self.sets: dict[Any, set[Mask]] = {}
        self.diffs: dict[Mask, set[Diff]] = {}
        self._fam: dict[Any, _Accepted] = {}  # the accepted sets per quantity, indexed by containment
        self._asked: dict = {}  # the last allows() call's queries
        self._pairs: dict[Diff, tuple[Level, Level]] = {}

    def _derive(self, new: list[tuple[Any, Mask]]) -> list[tuple[Any, Mask]]:
        """The new pairs plus every level that follows from them with what is accepted (closure)."""
        out: list[tuple[Any, Mask]] = []
        seen: set[tuple[Any, Mask]] = set()
        extra_diffs: dict[Mask, set[Diff]] = {}
        work = list(new)
        while work:
            q, m = work.pop()
            if (q, m) in seen or m in self.sets.get(q, ()):
                continue
            seen.add((q, m))
            out.append((q, m))
            if isinstance(q, Diff):
                extra_diffs.setdefault(m, set()).add(q)
                la, lb = self._levels(q)
                for have, want in ((la, lb), (lb, la)):
                    if m in self.sets.get(have, ()) or (have, m) in seen:
                        work.append((want, m))
            else:
                known, extra = self.diffs.get(m), extra_diffs.get(m)
                if not known and not extra:
                    continue
                for d in (known or set()) | (extra or set()):
                    if d.instrument == q.instrument and d.var == q.var and q.wave in (d.wave_a, d.wave_b):
                        la, lb = self._levels(d)
                        work.append((lb if q.wave == d.wave_a else la, m))
        return out

    def _levels(self, d: Diff) -> tuple[Level, Level]:
        """The levels at the two waves of a difference (made once per difference)."""
        pair = self._pairs.get(d)
        if pair is None:
            pair = self._pairs[d] = (d.level(d.wave_a), d.level(d.wave_b))
        return pair

    def _query(self, q: Any, m: Mask, cache: dict) -> tuple[dict[int, int], int, list[int], list[int]]:
        """Words and size of ``m``, ids of the accepted sets of ``q`` strictly containing it and strictly inside it."""
        hit = cache.get((q, m))
        if hit is None:
            fam = self._fam.get(q) or _Accepted()
            w = cache.get(m)
            if w is None:
                w = cache[m] = _words(m)
            n = m.bit_count()
            sizes = fam.n
            hit = cache[(q, m)] = (w, n, [j for j in fam.supersets(m, w, n) if sizes[j] > n],
                                   [j for j in fam.subsets(m, w, n) if sizes[j] < n], len(fam.masks))
        return hit[:4]

    def _ok(self, q: Any, m: Mask, pending: set[Mask], cache: dict | None = None) -> bool:
        """The rules of :func:`audit` for ``m`` joining quantity ``q`` beside the accepted and the ``pending`` sets."""
        k = self.k
        cache = {} if cache is None else cache
        n = m.bit_count()
        if 0 < n < k:
            return False
        fam = self._fam.get(q) or _Accepted()
        _, _, sups, subs = self._query(q, m, cache)
        sizes = fam.n
        for j in sups:
            if sizes[j] - n < k:
                return False
        for j in subs:
            if n - sizes[j] < k:
                return False
        others = [o for o in pending if o != m]
        bigger = []
        for o in others:
            if o.within(m) or m.within(o):
                if 0 < abs(o.bit_count() - n) < k:
                    return False
                if m.within(o):
                    bigger.append(o)
        fresh = [m, *others]
        return all(self._remainder_ok(q, fam, j, None, fresh, cache) for j in sups) and \
            all(self._remainder_ok(q, fam, None, big, fresh, cache) for big in [m, *bigger])

    def _remainder_ok(self, q: Any, fam: _Accepted, j: int | None, big: Mask | None, fresh: list[Mask], cache: dict) -> bool:
        """Whether a set (accepted id ``j``, or the new mask ``big``) minus the maximal sets inside it
        leaves 0 or at least ``k`` people, with the new sets ``fresh`` beside the accepted ones.

        The maximal sets inside are the accepted maximal children (cached for accepted sets),
        minus those inside a new set, plus the new sets inside ``big`` that lie in no other set
        inside ``big``; disjoint when their sizes add up to the size of their union.
        """
        if j is not None:
            big = fam.masks[j]
            bn = fam.n[j]
            kids, ksum, union, un = fam.kids[j], fam.ksum[j], fam.union[j], fam.un[j]
            sup = fam.sup

            def inside(s: int) -> bool:
                return j in sup[s]
        else:
            assert big is not None
            _, bn, _, bsubs = self._query(q, big, cache)
            kids, ksum, union, un = fam.children(bsubs)
            inside = set(bsubs).__contains__
        fresh_in = [t for t in fresh if t != big and t.within(big)]
        count = len(kids)
        if fresh_in:
            gone: set[int] = set()
            top = 0
            joined = EMPTY
            for t in fresh_in:
                _, tn, tsups, tsubs = self._query(q, t, cache)
                gone.update(tsubs)
                joined |= t
                if not any(inside(s) for s in tsups) and not any(t != o and t.within(o) for o in fresh_in):
                    count += 1
                    top += tn
            gone &= kids
            count -= len(gone)
            ksum += top - sum(fam.n[g] for g in gone)
            jw = cache.get(joined)
            if jw is None:
                jw = cache[joined] = _words(joined)
            un += sum((v & ~union.get(x, 0)).bit_count() for x, v in jw.items())
        if count < 2 or ksum != un:
            return True
        return not 0 < bn - un < self.k

    def allows(self, new: list[tuple[Any, Mask]]) -> bool:
        """Whether accepting ``new`` (with what follows from it) keeps the record free of violations."""
        full = [(q, m) for q, m in self._derive([(q, Mask.of(m)) for q, m in new if m])]
        by_q: dict[Any, set[Mask]] = {}
        for q, m in full:
            by_q.setdefault(q, set()).add(m)
        cache: dict = {}
        self._asked = cache  # kept for add(), which usually follows with the same sets
        return all(self._ok(q, m, by_q[q], cache) for q, m in full)

    def add(self, new: list[tuple[Any, Mask]]) -> None:
        """Accept ``new`` (and what follows from it) without checking."""
        for q, m in self._derive([(q, Mask.of(m)) for q, m in new if m]):
            self.sets.setdefault(q, set()).add(m)
            fam = self._fam.get(q)
            if fam is None:
                fam = self._fam[q] = _Accepted()
            hit = self._asked.get((q, m))
            if hit is not None and hit[4] == len(fam.masks):  # asked about with the family as it is now
                fam.accept(m, hit[0], hit[2], hit[3])
            else:
                w, n = _words(m), m.bit_count()
                fam.accept(m, w, fam.supersets(m, w, n), fam.subsets(m, w, n))
            if isinstance(q, Diff):
                self.diffs.setdefault(m, set()).add(q)
