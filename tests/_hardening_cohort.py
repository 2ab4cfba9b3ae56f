"""Small synthetic cohorts for the hardening tests (escaping, anonymity): any size, any names, any drop-out."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from toolkit.instruments import Instrument
from toolkit.store import Store, Submission

INSTRUMENTS = ("competence_reflection", "stakeholder_analysis", "reality_check")


@dataclass
class AuthoritySpec:
    code: str
    name: str
    ministry: str
    sizes: dict[str, int]  # wave -> participants who answer the competence reflection
    raters: int = 0  # stakeholder analysis raters (first wave)
    free_stakeholder: str | None = None  # a free entry every rater names
    text: str | None = None  # free-text answer of every participant


@dataclass
class CohortSpec:
    authorities: list[AuthoritySpec]
    waves: list[str] = field(default_factory=lambda: ["t0", "t1"])
    cohort: str = "Kohorte"
    k: int = 5
    missing_share: float = 0.0  # share of likert answers left out (dimension scores may then be missing)
    cannot_judge: bool = False  # missing answers given as the scale's "cannot judge" value instead of left out
    checklist: bool = False  # every competence participant also answers the reality check in that wave


def _answers(inst: Instrument, rng: np.random.Generator, *, text: str | None, stakeholders: list[str], missing: float, shift: float,
             cannot_judge: bool = False) -> dict[Any, Any]:
    out: dict[Any, Any] = {}
    for item in inst.items:
        if item.type == "text":
            if text is not None:
                out[item.id] = text
            continue
        scale = inst.scales[item.scale]
        pts = np.asarray(scale.points, dtype=float)
        if item.item_type.per_stakeholder:
            for s in stakeholders:
                out[(item.id, s)] = float(rng.choice(pts))
            continue
        if item.type in ("likert", "checklist") and rng.random() < missing:
            if cannot_judge and scale.missing:
                out[item.id] = float(scale.missing[0])
            continue
        idx = int(np.clip(rng.normal(len(pts) / 2 + shift, 1.0), 0, len(pts) - 1))
        out[item.id] = float(pts[idx])
    return out


def build_cohort(path: Path, spec: CohortSpec, seed: int = 0) -> Store:
    """Create the database: competence reflection in every wave (participants keep their codes, so waves link),
    stakeholder analysis in the first wave."""
    rng = np.random.default_rng(seed)
    store = Store.init(path, cohort=spec.cohort, min_group_size=spec.k)
    insts = {i: store.add_instrument(i) for i in INSTRUMENTS}
    for w in spec.waves:
        store.add_wave(w)
    subs: list[Submission] = []
    catalogue = [e.id for e in insts["stakeholder_analysis"].stakeholders.catalogue][:3]
    for a_i, a in enumerate(spec.authorities):
        store.add_authority(a.code, name=a.name, ministry=a.ministry)
        for w_i, w in enumerate(spec.waves):
            for p in range(a.sizes.get(w, 0)):
                code = (f"M{a_i}x{p}", str(p % 28 + 1), "K", f"S{a_i}y{p}")  # person p keeps the code across waves
                ans = _answers(insts["competence_reflection"], rng, text=a.text, stakeholders=[], missing=spec.missing_share, shift=0.3 * w_i,
                               cannot_judge=spec.cannot_judge)
                subs.append(Submission(a.code, code, w, insts["competence_reflection"], ans, token=f"c-{a_i}-{w}-{p}"))
                if spec.checklist:
                    ans = _answers(insts["reality_check"], rng, text=None, stakeholders=[], missing=spec.missing_share, shift=0.0,
                                   cannot_judge=spec.cannot_judge)
                    subs.append(Submission(a.code, code, w, insts["reality_check"], ans, token=f"r-{a_i}-{w}-{p}"))
        for r in range(a.raters):
            code = (f"R{a_i}x{r}", str(r % 28 + 1), "B", f"T{a_i}y{r}")
            names = catalogue + ([a.free_stakeholder] if a.free_stakeholder else [])
            ans = _answers(insts["stakeholder_analysis"], rng, text=a.text, stakeholders=names, missing=0.0, shift=0.0)
            subs.append(Submission(a.code, code, spec.waves[0], insts["stakeholder_analysis"], ans, token=f"s-{a_i}-{r}"))
    store.submit_many(subs)
    return store
