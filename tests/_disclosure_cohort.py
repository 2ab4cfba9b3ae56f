"""Crafted cohorts for the disclosure tests: who answers which instrument in which wave, and how."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from toolkit.store import Store, Submission


@dataclass
class Group:
    authority: str
    ministry: str
    instrument: str
    wave: str
    people: range  # person numbers within the authority (the same number = the same person across waves)
    answer: Callable[[int, Any, np.random.Generator], Any] | None = None  # (person, item, rng) -> value, None = left out, default random
    stakeholders: Callable[[int], list[str]] | None = None  # per rater: the stakeholders rated (catalogue ids or free names)
    text: str | None = None


def _default(inst: Any, item: Any, rng: np.random.Generator, shift: float) -> Any:
    scale = inst.scales[item.scale]
    pts = np.asarray(scale.points, dtype=float)
    idx = int(np.clip(rng.normal(len(pts) / 2 + shift, 1.0), 0, len(pts) - 1))
    return float(pts[idx])


def build(path: Path, groups: list[Group], *, waves: tuple[str, ...] = ("t0", "t1"), k: int = 5, seed: int = 0) -> Store:
    rng = np.random.default_rng(seed)
    store = Store.init(path, cohort="Kohorte", min_group_size=k)
    insts = {i: store.add_instrument(i) for i in sorted({g.instrument for g in groups})}
    for w in waves:
        store.add_wave(w)
    seen: set[str] = set()
    subs = []
    for g in groups:
        if g.authority not in seen:
            store.add_authority(g.authority, name=f"Behörde {g.authority}", ministry=g.ministry)
            seen.add(g.authority)
        inst = insts[g.instrument]
        shift = 0.3 * waves.index(g.wave)
        for p in g.people:
            ans: dict[Any, Any] = {}
            for item in inst.items:
                if item.type == "text":
                    if g.text:
                        ans[item.id] = g.text
                    continue
                if item.item_type.per_stakeholder:
                    names = g.stakeholders(p) if g.stakeholders else [e.id for e in inst.stakeholders.catalogue][:3]
                    for s in names:
                        ans[(item.id, s)] = _default(inst, item, rng, 0.0)
                    continue
                v = g.answer(p, item, rng) if g.answer else _default(inst, item, rng, shift)
                if v is not None:
                    ans[item.id] = v
            code = (f"{g.authority}{p}x", str(p % 28 + 1), g.instrument[:1].upper(), f"Q{p}y")
            subs.append(Submission(g.authority, code, g.wave, inst, ans, token=f"{g.authority}-{g.instrument}-{g.wave}-{p}"))
    store.submit_many(subs)
    return store
