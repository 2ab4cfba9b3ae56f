"""The disclosure audit of a cohort: render everything it releases in memory, then check the record.

:func:`cohort_audit` runs every section of every authority report, the cohort report, the
index's key figures and the command-line aggregates (``upo scores|change|reliability`` for
every instrument, wave and grouping) inside one :func:`toolkit.privacy.recording` (figures
are not drawn: they picture the numbers of the tables) and passes the record to
:func:`toolkit.privacy.audit`. ``upo audit DB`` prints the result; ``upo report`` refuses
to write a batch whose audit fails.

Example
-------
>>> import tempfile, pathlib
>>> from toolkit.demo import build_demo
>>> db = pathlib.Path(tempfile.mkdtemp()) / "d.sqlite"
>>> build_demo(db, n_authorities=3, seed=1).close()
>>> result = cohort_audit(db)
>>> result.violations, len(result.record) > 100
([], True)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..privacy import Record, Violation, audit, format_violations, recording, resolve_k

__all__ = ["AuditResult", "cohort_audit"]

log = logging.getLogger("toolkit")

#: the sections of the authority report: every section of the registry (:data:`toolkit.reports.registry.AUTHORITY`),
#: then the index's key figures (:func:`toolkit.reports.index.key_figures`); the cohort report's sections are every
#: section of :data:`toolkit.reports.registry.COHORT` (the slides show the summary's, heat map's, change's and
#: ministry comparison's section data)


@dataclass
class AuditResult:
    """The record of everything a cohort releases and the violations found in it."""

    record: Record
    violations: list[Violation]
    k: int
    outputs: int

    @property
    def ok(self) -> bool:
        return not self.violations

    def text(self, limit: int | None = 50) -> str:
        head = f"disclosure audit: {len(self.record)} releases in {self.outputs} outputs, minimum group size {self.k}: "
        return head + format_violations(self.violations, limit=limit)


class _MemoStore:
    """A store whose reads are memoised for the audit's many command-line aggregates (same answers)."""

    def __init__(self, store: Any) -> None:
        self._store = store
        self._memo: dict[Any, Any] = {}

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._store, name)
        if name not in ("responses", "waves", "authorities", "instrument", "instruments") or not callable(attr):
            return attr

        def memo(*args: Any, **kw: Any) -> Any:
            key = (name, repr(args), repr(sorted(kw.items())))
            if key not in self._memo:
                self._memo[key] = attr(*args, **kw)
            return self._memo[key]

        return memo


def _cli(db: str, k: int) -> int:
    from ..store import Store
    from ..summaries import change_summary, reliability_summary, score_summary

    n = 0
    with Store(db) as raw:
        store = _MemoStore(raw)
        waves = list(store.waves()["wave"])
        for inst_id in store.instruments()["instrument"].unique():
            inst = store.instrument(inst_id)
            if inst.is_stakeholder_instrument or not any(d.scored_items for d in inst.dimensions):
                continue
            present = [w for w in waves if not store.responses(inst_id, wave=w).empty]
            if not present:
                continue
            for by in ("authority", "ministry", None):
                score_summary(store, inst_id, by=by, min_group_size=k)
                n += 1
                for later in present[1:]:
                    for first in present[: present.index(later)]:
                        change_summary(store, inst_id, first, later, by=by, min_group_size=k)
                        n += 1
            reliability_summary(store, inst_id, min_group_size=k)
            n += 1
    return n


def cohort_audit(db: str | Path, *, k: int | None = None, lang: str = "de", cli: bool = True) -> AuditResult:
    """Render every output of the cohort in memory and audit the record.

    Parameters
    ----------
    db
        The cohort database.
    k
        A stricter minimum group size (as ``upo report --min-group-size``); None: the cohort's.
    lang
        Report language (the numbers are the same in both).
    cli
        Include the command-line aggregates.
    """
    from . import cohort_sections as C
    from . import sections as S
    from .context import cohort_data
    from .index import key_figures

    db = str(db)
    data = cohort_data(db)
    k = resolve_k(int(data.cohort["min_group_size"]), k)
    outputs = 0
    with recording(k=k) as rec:
        rec.no_figures = True  # type: ignore[attr-defined]
        for code in data.authorities["authority"]:
            ctx = S.authority_context(db, str(code), lang=lang, min_group_size=k)
            for part in S.AUTHORITY.build_all(ctx):
                part.html()  # rendered as the report renders it (without figures)
            key_figures(ctx)
            outputs += 1
        cctx = C.cohort_context(db, lang=lang, min_group_size=k)
        for part in C.report(cctx):  # every registered section, as the notebook builds them
            part.html()  # rendered as the report renders it (without figures)
        outputs += 1
        if cli:
            outputs += _cli(db, k)
    violations = audit(rec, k=k)
    log.info("disclosure audit: %d releases, %d violations", len(rec), len(violations))
    return AuditResult(rec, violations, k, outputs)
