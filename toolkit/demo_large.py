"""A synthetic large cohort for scale tests: ``upo demo --authorities N``.

N units (e.g. the municipalities of a national OZG programme) in groups of about
20 (the "ministry" column holds the group, at most 50 groups), ``participants``
people each, three waves (t0, t1, t2 with drop-out), the competence reflection at
every wave and the reality check at t1. Answers are drawn with numpy for all
people at once and stored with batched inserts in one transaction, so 1,000 units
take seconds, not the minutes of one :meth:`Store.submit` per submission. All data
are synthetic.

Example
-------
>>> import tempfile, pathlib
>>> store = build_large_demo(pathlib.Path(tempfile.mkdtemp()) / "big.sqlite", n_authorities=4, participants=6)
>>> len(store.authorities()), sorted(store.waves()["wave"])
(4, ['t0', 't1', 't2'])
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from . import codes as _codes
from .store import Store
from .store.bulk import bulk_load

__all__ = ["build_large_demo", "large_demo_command"]

log = logging.getLogger("toolkit")
WAVES = [("t0", "2026-02-10"), ("t1", "2026-03-05"), ("t2", "2026-09-15")]
STAY = (1.0, 0.9, 0.75)


def _answers(inst, theta: np.ndarray, soll: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Numeric answers per item for all rows at once (NaN = skipped)."""
    out: dict[str, np.ndarray] = {}
    dims = [d for d in inst.dimensions if d.scored_items]
    n = theta.shape[0]
    for d_idx, dim in enumerate(dims):
        for item in dim.items:
            if not item.scale:
                continue
            scale = inst.scales[item.scale]
            if item.type == "likert":
                raw = 3 + 0.95 * (theta[:, d_idx] + rng.normal(0, 0.75, n))
                raw = (scale.min + scale.max) - raw if item.reverse else raw
            elif item.type == "level" and item.role == "ist":
                raw = 2.6 + 0.9 * (theta[:, d_idx] + rng.normal(0, 0.5, n))
            elif item.type == "level":
                raw = 3.4 + soll[:, d_idx] + rng.normal(0, 0.6, n)
            elif item.type == "importance":
                raw = 3.6 + 0.8 * soll[:, d_idx] + rng.normal(0, 0.8, n)
            else:
                continue
            v = np.clip(np.rint(raw), scale.min, scale.max)
            v[rng.random(n) < 0.03] = np.nan
            out[item.id] = v
    return out


def _long(subs: pd.DataFrame, values: dict[str, np.ndarray]) -> pd.DataFrame:
    parts = [pd.DataFrame({"sub": subs["sub"].to_numpy(), "item": item, "value": v}) for item, v in values.items()]
    df = pd.concat(parts, ignore_index=True)
    return df[df["value"].notna()]


def build_large_demo(path: str | Path, *, n_authorities: int = 1000, participants: int = 20, groups: int | None = None,
                     seed: int = 20261201, min_group_size: int = 5) -> Store:
    """Create a synthetic cohort of ``n_authorities`` units with ``participants`` people each, three waves.

    Parameters
    ----------
    path
        A new SQLite file or an empty PostgreSQL database URL.
    groups
        Number of groups (the ``ministry`` column); default ``n_authorities // 20``, between 1 and 50.
    """
    rng = np.random.default_rng(seed)
    groups = groups or max(1, min(50, n_authorities // 20))
    store = Store.init(path, cohort=f"Synthetische Großkohorte ({n_authorities} Einheiten)", min_group_size=min_group_size)
    comp = store.add_instrument("competence_reflection")
    check = store.add_instrument("reality_check")
    for label, date in WAVES:
        store.add_wave(label, date=date)
    width = len(str(n_authorities))
    units = [f"E{i + 1:0{width}d}" for i in range(n_authorities)]
    for i, code in enumerate(units):
        store.add_authority(code, name=f"Einheit {i + 1}", ministry=f"Gruppe {i % groups + 1:02d}")
    key = store.key
    n_dims = len([d for d in comp.dimensions if d.scored_items])
    n_people = n_authorities * participants
    person_unit = np.repeat(np.arange(n_authorities), participants)
    level = rng.normal(0, 0.35, (n_authorities, n_dims))[person_unit]
    ability = level + rng.normal(0, 0.8, (n_people, n_dims))
    soll = rng.normal(0, 0.5, (n_people, n_dims))
    letters = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    elements = np.stack([
        np.char.add(letters[rng.integers(0, 26, n_people)], np.char.lower(letters[rng.integers(0, 26, n_people)])),
        np.char.mod("%02d", rng.integers(1, 29, n_people)),
        letters[rng.integers(0, 26, n_people)],
        np.char.add(letters[rng.integers(0, 26, n_people)], np.char.mod("%d", np.arange(n_people))),
    ], axis=1)
    hashes = [_codes.hash_elements(key, tuple(e), authority=units[u]) for e, u in zip(elements.tolist(), person_unit)]  # pseudonyms are per authority
    people = pd.DataFrame({"authority": [units[u] for u in person_unit], "code": [_codes.pseudonym(key, h) for h in hashes],
                           "elements": [".".join(h) for h in hashes]})
    subs, answers = [], []
    n_sub = 0
    for w_idx, (wave, date) in enumerate(WAVES):
        who = np.flatnonzero(rng.random(n_people) < STAY[w_idx])
        gain = 0.0 if w_idx == 0 else 0.3 * w_idx / 2 + 0.2
        s = pd.DataFrame({"sub": np.arange(n_sub, n_sub + len(who)), "authority": people["authority"].to_numpy()[who],
                          "code": people["code"].to_numpy()[who], "wave": wave, "instrument_hash": comp.hash,
                          "instrument": comp.id, "submitted_at": f"{date}T10:00:00+00:00"})
        n_sub += len(who)
        subs.append(s)
        answers.append(_long(s, _answers(comp, ability[who] + gain * rng.random((len(who), 1)), soll[who], rng)))
    # reality check at t1: the first 6 people of every unit
    who = np.flatnonzero(np.arange(n_people) % participants < min(6, participants))
    s = pd.DataFrame({"sub": np.arange(n_sub, n_sub + len(who)), "authority": people["authority"].to_numpy()[who],
                      "code": people["code"].to_numpy()[who], "wave": "t1", "instrument_hash": check.hash,
                      "instrument": check.id, "submitted_at": f"{WAVES[1][1]}T15:00:00+00:00"})
    readiness = rng.uniform(0.2, 0.9, n_authorities)[person_unit[who]]
    values = {}
    for item in check.items:
        if item.type == "checklist":
            p = np.clip(np.rint((readiness + rng.normal(0, 0.3, len(who))) * 2), 0, 2)
            values[item.id] = p
    subs.append(s)
    answers.append(_long(s, values))
    n = bulk_load(store, people, pd.concat(subs, ignore_index=True), pd.concat(answers, ignore_index=True))
    log.info("large synthetic cohort: %d units, %d people, %d submissions in %s", n_authorities, n_people, n, store.path)
    return store


def large_demo_command(out: Path, n_authorities: int, *, participants: int = 20, force: bool = False, db: str | None = None) -> int:
    """``upo demo --authorities N``: build the large cohort and say how to render it."""
    import time

    from .exceptions import DataError
    from .store import is_url

    if n_authorities < 1 or participants < 1:
        raise DataError("--authorities and --participants must be at least 1")
    target: str | Path = db or Path(out) / f"large-{n_authorities}.sqlite"
    if not is_url(str(target)):
        target = Path(target)
        if force:
            for p in (target, Path(f"{target}-wal"), Path(f"{target}-shm"), Path(f"{target}.key")):
                p.unlink(missing_ok=True)
        target.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    store = build_large_demo(target, n_authorities=n_authorities, participants=participants)
    subs = store.data_version()
    print(f"built {store.path.name if is_url(str(target)) else target}: {n_authorities} units, "
          f"{n_authorities * participants} people, {subs} submissions in {time.perf_counter() - t0:.1f} s")
    print(f"render it with: upo report {target} --all --out {Path(out) / 'large-reports'} --scheduler local")
    store.close()
    return 0
