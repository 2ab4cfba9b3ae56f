"""The disclosure rules as they were before they were indexed (toolkit/privacy at main 22e4b91).

Straightforward all-pairs versions of :func:`toolkit.privacy.audit`, :class:`toolkit.privacy.Planner`
and :func:`toolkit.privacy.change_plan_all`, kept verbatim (except for the names and the memo) so
that tests and ``bench/bench_privacy.py`` can compare the fast versions with them: same decisions,
same violations in the same order. They work on plain integer bit masks, as the code then did (records
now hold :class:`toolkit.privacy.Mask` objects: :func:`audit_ref` converts the entries' masks,
:func:`change_plan_all_ref` the record's).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Sequence

import pandas as pd

from toolkit.privacy.audit import Violation, _cells, _close
from toolkit.privacy.core import _check_k
from toolkit.privacy.plan import _ids, _wave_order
from toolkit.privacy.release import Diff, Entry, Level, Record


def audit_ref(record: Record | list[Entry], *, k: int | None = None) -> list[Violation]:
    entries = record.entries if isinstance(record, Record) else list(record)
    entries = [replace(e, mask=int(e.mask)) for e in entries]  # the integer bit masks the code then used
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


class PlannerRef:
    def __init__(self, k: int) -> None:
        self.k = int(k)
        self.sets: dict[Any, set[int]] = {}
        self.diffs: dict[int, set[Diff]] = {}

    def _derive(self, new: list[tuple[Any, int]]) -> list[tuple[Any, int]]:
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
        full = [(q, m) for q, m in self._derive([(q, m) for q, m in new if m])]
        by_q: dict[Any, set[int]] = {}
        for q, m in full:
            by_q.setdefault(q, set()).add(m)
        return all(self._ok(q, m, by_q[q]) for q, m in full)

    def add(self, new: list[tuple[Any, int]]) -> None:
        for q, m in self._derive([(q, m) for q, m in new if m]):
            self.sets.setdefault(q, set()).add(m)
            if isinstance(q, Diff):
                self.diffs.setdefault(m, set()).add(q)


def change_plan_all_ref(scores: pd.DataFrame, *, k: int, instrument: str, waves: Sequence[str] | None = None) -> dict:
    k = _check_k(k)
    v = scores[scores["score"].notna()]
    order = _wave_order(v, waves)
    v = v.assign(_w=v["wave"].astype(str), _d=v["dimension"].astype(str), _a=v["authority"].astype(str), _who=_ids(v))
    ministry = dict(zip(v["_a"], v["ministry"].astype(str))) if "ministry" in v.columns else {}
    rec = Record(k=k)
    sets: dict[tuple[str, str, str], frozenset] = {}
    for (w, d, au), idx in v.groupby(["_w", "_d", "_a"], observed=True).indices.items():
        sets[(w, d, au)] = frozenset(v["_who"].to_numpy()[idx])
    auths = sorted({x[2] for x in sets})
    dims = list(dict.fromkeys(v["_d"]))
    groups = sorted({ministry.get(au, "") for au in auths})
    out: dict = {}
    for d in dims:
        pl = PlannerRef(k)
        L = lambda w: Level(instrument, d, w)  # noqa: E731
        base = []
        for w in order:
            shown = [au for au in auths if len(sets.get((w, d, au), ())) >= k]
            base += [(L(w), int(rec.mask(sets[(w, d, au)]))) for au in shown]
            for g in groups:
                u = frozenset().union(*[sets[(w, d, au)] for au in shown if ministry.get(au, "") == g])
                base.append((L(w), int(rec.mask(u))))
            base.append((L(w), int(rec.mask(frozenset().union(*[sets[(w, d, au)] for au in shown])))))
        pl.add(base)
        for j, b in enumerate(order):
            for a in order[:j]:
                Q = Diff(instrument, d, a, b)

                def decide(p: frozenset) -> tuple[frozenset, str | None, str | None]:
                    if len(p) < k:
                        return p, ("no_data" if not p else "too_few_pairs"), "too_few_pairs"
                    m = int(rec.mask(p))
                    if not pl.allows([(Q, m)]):
                        return p, "one_wave_derivable", "one_wave_derivable"
                    pl.add([(Q, m)])
                    means = [(L(a), m), (L(b), m)]
                    if pl.allows(means):
                        pl.add(means)
                        return p, None, None
                    return p, None, "pair_means"

                shown_p = {}
                for au in auths:
                    p = sets.get((a, d, au), frozenset()) & sets.get((b, d, au), frozenset())
                    out[(a, b, "authority", au, d)] = r = decide(p)
                    if r[1] is None:
                        shown_p[au] = p
                for g in groups:
                    p = frozenset().union(*[x for au, x in shown_p.items() if ministry.get(au, "") == g])
                    out[(a, b, "ministry", g, d)] = decide(p)
                out[(a, b, "total", None, d)] = decide(frozenset().union(*shown_p.values()))
    return out
