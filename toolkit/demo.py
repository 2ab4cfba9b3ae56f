"""A deterministic synthetic demo cohort shaped like a real UPO cohort.

30 federal authorities from 10 ministries, three waves (t0 before the workshop,
t1 right after, t2 six months later), 3 to 40 participants per authority (some
below the minimum group size on purpose), gains in some competence dimensions and
none in others, item-level missingness, drop-out between waves, typos in code
elements, stakeholder analyses with 3–8 raters per authority and a reality check.
All data are synthetic; no real person or authority answered anything.

Example
-------
>>> import tempfile, pathlib
>>> store = build_demo(pathlib.Path(tempfile.mkdtemp()) / "demo.sqlite", n_authorities=2, seed=1)
>>> sorted(store.waves()["wave"])
['t0', 't1', 't2']
"""

from __future__ import annotations

import hashlib
import logging
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from .instruments import Instrument
from .store import Store, Submission

__all__ = ["AUTHORITIES", "build_demo", "demo_summary", "run_demo", "DEMO_SEED"]

log = logging.getLogger("toolkit")
DEMO_SEED = 20261124

# code, name, ministry, number of participants at t0
AUTHORITIES: list[tuple[str, str, str, int]] = [
    ("BAMF", "Bundesamt für Migration und Flüchtlinge", "BMI", 38),
    ("BDBOS", "Bundesanstalt für den Digitalfunk der Behörden und Organisationen mit Sicherheitsaufgaben", "BMI", 14),
    ("ZITiS", "Zentrale Stelle für Informationstechnik im Sicherheitsbereich", "BMI", 9),
    ("BpB", "Bundeszentrale für politische Bildung", "BMI", 4),
    ("BVA", "Bundesverwaltungsamt", "BMI", 40),
    ("KSK", "Künstlersozialkasse", "BMAS", 8),
    ("DRV-Bund", "Deutsche Rentenversicherung Bund", "BMAS", 31),
    ("BAS", "Bundesamt für Soziale Sicherung", "BMAS", 12),
    ("BA", "Bundesagentur für Arbeit", "BMAS", 36),
    ("BfArM", "Bundesinstitut für Arzneimittel und Medizinprodukte", "BMG", 17),
    ("BZgA", "Bundeszentrale für gesundheitliche Aufklärung", "BMG", 6),
    ("PEI", "Paul-Ehrlich-Institut", "BMG", 11),
    ("RKI", "Robert Koch-Institut", "BMG", 22),
    ("KBA", "Kraftfahrt-Bundesamt", "BMDV", 19),
    ("EBA", "Eisenbahn-Bundesamt", "BMDV", 13),
    ("BLE", "Bundesanstalt für Landwirtschaft und Ernährung", "BMEL", 15),
    ("JKI", "Julius Kühn-Institut", "BMEL", 3),
    ("BAM", "Bundesanstalt für Materialforschung und -prüfung", "BMWK", 10),
    ("DAkkS", "Deutsche Akkreditierungsstelle", "BMWK", 5),
    ("BNetzA", "Bundesnetzagentur", "BMWK", 27),
    ("FFA", "Filmförderungsanstalt", "BKM", 4),
    ("BArch", "Bundesarchiv", "BKM", 12),
    ("GZD", "Generalzolldirektion", "BMF", 33),
    ("BZSt", "Bundeszentralamt für Steuern", "BMF", 24),
    ("ITZBund", "Informationstechnikzentrum Bund", "BMF", 29),
    ("BfS", "Bundesamt für Strahlenschutz", "BMUV", 9),
    ("UBA", "Umweltbundesamt", "BMUV", 16),
    ("BASE", "Bundesamt für die Sicherheit der nuklearen Entsorgung", "BMUV", 7),
    ("BfJ", "Bundesamt für Justiz", "BMJ", 11),
    ("DPMA", "Deutsches Patent- und Markenamt", "BMJ", 18),
]

WAVES = [("t0", "2026-02-10"), ("t1", "2026-03-05"), ("t2", "2026-09-15")]
# mean latent gain (in SD units) from t0 at t1 and t2 per competence dimension
GAINS = {
    "user_centricity": (0.6, 0.5),
    "project_agile": (0.5, 0.4),
    "data": (0.4, 0.3),
    "stakeholders_codetermination": (0.35, 0.3),
    "change_innovation": (0.2, 0.1),
}
FREE_STAKEHOLDERS = ["Landesbehörden (Vollzug)", "Kommunale Spitzenverbände", "Externe Beratung", "Hersteller der Fachanwendung"]


@dataclass
class _Person:
    authority: str
    code: list[str]
    ability: np.ndarray  # latent per competence dimension
    soll_shift: np.ndarray


def _random_code(rng: np.random.Generator) -> list[str]:
    letters = string.ascii_uppercase
    return [
        "".join(rng.choice(list(letters), 2)).capitalize(),
        f"{int(rng.integers(1, 29)):02d}",
        str(rng.choice(list(letters))),
        "".join(rng.choice(list(letters), 2)).capitalize(),
    ]


def _typo(code: list[str], rng: np.random.Generator) -> list[str]:
    out = list(code)
    pos = int(rng.integers(0, len(out)))
    if pos == 1:
        out[1] = f"{(int(out[1]) % 28) + 1:02d}"
    else:
        out[pos] = out[pos][:-1] + str(rng.choice(list(string.ascii_uppercase.replace(out[pos][-1].upper(), ""))))
    return out


def _competence_answers(inst: Instrument, person: _Person, wave_idx: int, rng: np.random.Generator) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    dims = [d for d in inst.dimensions if d.scored_items]
    for d_idx, dim in enumerate(dims):
        gain = GAINS.get(dim.id, (0.0, 0.0))
        theta = person.ability[d_idx] + (0.0 if wave_idx == 0 else gain[wave_idx - 1] * (0.6 + 0.8 * rng.random()))
        for item in dim.items:
            scale = inst.scales[item.scale] if item.scale else None
            if scale is None:
                continue
            lo, hi = scale.min, scale.max
            if rng.random() < 0.03:
                continue  # skipped
            if scale.missing and rng.random() < 0.02:
                answers[item.id] = scale.missing[0]
                continue
            if item.type == "likert":
                raw = 3 + 0.95 * (theta + rng.normal(0, 0.75))
                raw = (lo + hi) - raw if item.reverse else raw
            elif item.type == "level" and item.role == "ist":
                raw = 2.6 + 0.9 * (theta + rng.normal(0, 0.5))
            elif item.type == "level":
                raw = 3.4 + person.soll_shift[d_idx] + rng.normal(0, 0.6)
            elif item.type == "importance":
                raw = 3.6 + 0.8 * person.soll_shift[d_idx] + rng.normal(0, 0.8)
            else:
                continue
            answers[item.id] = float(np.clip(np.rint(raw), lo, hi))
    for item in inst.items:
        if item.type == "text" and rng.random() < 0.25:
            answers[item.id] = str(rng.choice(_TEXTS))
    return answers


_TEXTS = [
    "Mehr Praxis mit agilen Methoden im eigenen Projekt.",
    "Zeit für Fortbildungen, die nicht mit dem Tagesgeschäft kollidiert.",
    "Klarere Ansprechpersonen beim IT-Dienstleister.",
    "Austausch mit anderen Behörden, die ähnliche Leistungen digitalisieren.",
    "Datenkompetenz: Auswertungen selbst erstellen können.",
]


def _stakeholder_answers(inst: Instrument, profile: dict[str, np.ndarray], rng: np.random.Generator, free: list[str]) -> dict[Any, Any]:
    answers: dict[Any, Any] = {}
    roles = {item.role: item for item in inst.items if item.type == "rating_grid"}
    keys = [k for k in profile if rng.random() < 0.85 or k in free]
    for key in keys:
        base = profile[key]
        for r_idx, (role, item) in enumerate(roles.items()):
            scale = inst.scales[item.scale]
            spread = 1.4 if base[-1] > 0.5 else 0.6  # last entry: "contested" flag
            raw = base[r_idx] + rng.normal(0, spread if role == "attitude" else 0.7)
            if scale.missing and rng.random() < 0.03:
                answers[(item.id, key)] = scale.missing[0]
                continue
            answers[(item.id, key)] = float(np.clip(np.rint(raw), scale.min, scale.max))
    return answers


def _stakeholder_profile(inst: Instrument, rng: np.random.Generator, free: list[str]) -> dict[str, np.ndarray]:
    roles = [item.role for item in inst.items if item.type == "rating_grid"]
    keys = [e.id for e in inst.stakeholders.catalogue] + free if inst.stakeholders else free
    profile = {}
    for key in keys:
        vals = []
        for role in roles:
            if role == "attitude":
                vals.append(rng.normal(0.3, 1.0))
            elif role in ("engagement_current",):
                vals.append(rng.normal(2.9, 0.8))
            elif role == "engagement_desired":
                vals.append(rng.normal(3.8, 0.6))
            elif role == "confidence":
                vals.append(rng.normal(2.2, 0.5))
            else:
                vals.append(rng.normal(3.0, 1.0))
        vals.append(float(rng.random() < 0.15))
        profile[key] = np.array(vals)
    return profile


def _checklist_answers(inst: Instrument, readiness: float, rng: np.random.Generator) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for item in inst.items:
        if item.type != "checklist":
            continue
        scale = inst.scales[item.scale]
        if scale.missing and rng.random() < 0.05:
            answers[item.id] = scale.missing[0]
            continue
        p = readiness + rng.normal(0, 0.2)
        answers[item.id] = float(scale.points[int(np.clip(np.rint(p * (len(scale.points) - 1) + rng.normal(0, 0.5)), 0, len(scale.points) - 1))])
    return answers


def build_demo(path: str | Path, *, seed: int = DEMO_SEED, n_authorities: int | None = None, min_group_size: int = 5) -> Store:
    """Create the synthetic demo cohort in a new database file.

    Parameters
    ----------
    path
        The SQLite file to create (must not exist).
    seed
        Random seed; the same seed gives the same answers.
    n_authorities
        Use only the first N authorities (for quick tests).

    Returns
    -------
    Store
    """
    rng = np.random.default_rng(seed)
    path = Path(path)
    # synthetic data: the code key and the cohort id derive from the seed (one key file per seed, reused by every build)
    store = Store.init(path, cohort="UPO-Kohorte 2026 (Demo)", min_group_size=min_group_size,
                       key=hashlib.sha256(f"upo-demo-{seed}".encode()).digest(),
                       uid=hashlib.sha256(f"upo-demo-cohort-{seed}".encode()).hexdigest()[:32])
    comp = store.add_instrument("competence_reflection")
    stake = store.add_instrument("stakeholder_analysis")
    check = store.add_instrument("reality_check")
    for label, date in WAVES:
        store.add_wave(label, date=date)
    n_dims = len([d for d in comp.dimensions if d.scored_items])
    subs: list[Submission] = []
    authorities = AUTHORITIES[: n_authorities or len(AUTHORITIES)]
    for a_idx, (code, name, ministry, n0) in enumerate(authorities):
        store.add_authority(code, name=name, ministry=ministry)
        level = rng.normal(0, 0.35, n_dims)
        persons = [
            _Person(code, _random_code(rng), level + rng.normal(0, 0.8, n_dims), rng.normal(0, 0.5, n_dims)) for _ in range(n0)
        ]
        for w_idx, (wave, date) in enumerate(WAVES):
            stay = 1.0 if w_idx == 0 else (0.9 if w_idx == 1 else 0.72)
            if w_idx > 0 and n0 >= 8:  # a few newcomers join later waves
                persons += [
                    _Person(code, _random_code(rng), level + rng.normal(0, 0.8, n_dims), rng.normal(0, 0.5, n_dims))
                    for _ in range(int(rng.integers(0, 3)))
                ]
            for p_idx, person in enumerate(persons):
                if w_idx > 0 and rng.random() > stay:
                    continue
                entered = _typo(person.code, rng) if w_idx > 0 and rng.random() < 0.05 else person.code
                subs.append(
                    Submission(code, tuple(entered), wave, comp, _competence_answers(comp, person, w_idx, rng), source="demo",
                               submitted_at=f"{date}T10:{p_idx % 60:02d}:00+00:00")
                )
        # stakeholder analysis in the project team at t0 (3-8 raters)
        free = list(rng.choice(FREE_STAKEHOLDERS, int(rng.integers(0, 3)), replace=False))
        profile = _stakeholder_profile(stake, rng, free)
        for r in range(int(rng.integers(3, 9))):
            rater = persons[r % len(persons)].code if r < len(persons) else _random_code(rng)
            subs.append(Submission(code, tuple(rater), "t0", stake, _stakeholder_answers(stake, profile, rng, free), source="demo",
                                   submitted_at=f"{WAVES[0][1]}T14:{r:02d}:00+00:00"))
        # reality check at t1, answered by 4-9 team members
        readiness = float(np.clip(rng.normal(0.55, 0.15), 0.1, 0.95))
        for r in range(int(rng.integers(4, 10))):
            rater = persons[r].code if r < len(persons) else _random_code(rng)
            subs.append(Submission(code, tuple(rater), "t1", check, _checklist_answers(check, readiness, rng), source="demo",
                                   submitted_at=f"{WAVES[1][1]}T15:{r:02d}:00+00:00"))
    store.submit_many(subs)
    log.info("demo cohort: %d submissions in %s", len(subs), store.path)
    return store


def demo_summary(store: Store) -> pd.DataFrame:
    """Participants per authority and wave (all instruments), with ministry."""
    subs = store.submissions(latest=True)
    table = subs.pivot_table(index="authority", columns="wave", values="participant", aggfunc="nunique", fill_value=0)
    table = table.reindex(columns=list(store.waves()["wave"]), fill_value=0)
    auth = store.authorities().set_index("authority")
    table.insert(0, "ministry", auth["ministry"].reindex(table.index))
    return table.reset_index()


def run_demo(out: Path = Path("demo-out"), *, jobs: int | None = None, lang: str = "de", force: bool = False, formats: str = "html",
             echo: Callable[[str], None] | None = None) -> int:
    """Build the demo cohort (if absent) in ``out`` and render every report.

    Progress lines go to ``echo`` (the CLI passes ``print``); by default they are logged.
    """
    say = echo or log.info
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    db = out / "demo.sqlite"
    if force and db.exists():
        for p in (db, Path(str(db) + "-wal"), Path(str(db) + "-shm")):
            p.unlink(missing_ok=True)
    if not db.exists():
        say(f"building the demo cohort in {db} ...")
        build_demo(db)
    store = Store(db)
    say(demo_summary(store).to_string(index=False))
    from .reports import render_reports

    result = render_reports(db, authorities=None, out=out / "reports", formats=formats.split(",") + ["pptx"], jobs=jobs, lang=lang, force=force,
                            cohort=True)
    say(result.summary_text())
    say(f"open {out / 'reports' / 'index.html'}")
    return 0 if result.ok else 1
