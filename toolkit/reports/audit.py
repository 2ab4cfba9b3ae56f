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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..privacy import Record, Violation, audit, format_violations, recording, resolve_k

__all__ = ["AuditResult", "cli_outputs", "cli_outputs_of_data", "cohort_audit", "parent_outputs"]

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
    from_kernels: tuple[str, ...] = ()  # reports whose releases came from their kernels' shipped records (a batch's audit)
    seconds: float = 0.0  # a batch's audit after the rendering: wall and parent CPU seconds
    cpu: float = 0.0
    beside_cpu: float = 0.0  # a batch's audit while the workers render: parent CPU joining the shipped records as they arrive
    cli_cpu: float = 0.0  # and computing the command-line aggregates (in a thread beside the rendering)
    tail_parts: dict[str, float] = field(default_factory=dict)  # the parent's CPU seconds of each step after the last report

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


def _cli_of_data(data: Any, k: int) -> int:
    """:func:`_cli` from cohort data already in memory (a batch's :class:`~toolkit.reports.context.CohortData`):
    the same command-line aggregates, released in the same order over the same respondent sets, from the answers
    and dimension scores the batch has read and computed once, instead of reading the store again for each of them."""
    from ..scoring import dimension_scores
    from ..summaries import change_summary_of, reliability_summary_of, score_summary_of

    n = 0
    waves = data.wave_labels()
    for inst_id in data.instrument_table["instrument"].unique():
        inst = data.instruments[inst_id]
        if inst.is_stakeholder_instrument or not any(d.scored_items for d in inst.dimensions):
            continue
        resp = data.rsp(inst)
        by_wave = resp.groupby(resp["wave"].astype(str), observed=True, sort=False).indices if not resp.empty else {}
        present = [w for w in waves if w in by_wave]
        if not present:
            continue
        competence = data.competence
        scores = data.scores() if competence is not None and competence.id == inst.id else dimension_scores(resp, inst)
        for by in ("authority", "ministry", None):
            score_summary_of(scores, inst, by=by, k=k)
            n += 1
            for later in present[1:]:
                for first in present[: present.index(later)]:
                    paired = data._derived.get(f"change:{first}:{later}") if by == "authority" and scores is data._derived.get("scores") else None
                    change_summary_of(scores, inst, first, later, by=by, k=k, waves=waves, paired=paired)
                    n += 1
        answers = [(w, resp.iloc[by_wave[w]] if w in by_wave else resp.iloc[0:0]) for w in waves]
        reliability_summary_of(answers, lambda scores=scores: scores, inst, k=k)
        n += 1
    return n


def _cohort_outputs(C: Any, db: str, lang: str, k: int, cli: bool) -> int:
    """The cohort report's sections and (``cli``) the command-line aggregates, recorded where the caller records."""
    cctx = C.cohort_context(db, lang=lang, min_group_size=k)
    for part in C.report(cctx):  # every registered section, as the notebook builds them
        part.html()  # rendered as the report renders it (without figures)
    return 1 + (_cli(db, k) if cli else 0)


def _authority_outputs(S: Any, db: str, code: str, lang: str, k: int) -> None:
    """One authority's report (every registered section, rendered) and its index key figures, recorded where the caller records."""
    from .index import key_figures

    ctx = S.authority_context(db, code, lang=lang, min_group_size=k)
    for part in S.AUTHORITY.build_all(ctx):
        part.html()  # rendered as the report renders it (without figures)
    key_figures(ctx)


def parent_outputs(db: str | Path, codes: list[str], *, cohort_report: bool, lang: str, k: int, cli: bool = True) -> int:
    """What a batch's parent adds to the kernels' shipped records, recorded where the caller records:
    the reports of ``codes`` rendered in memory with their key figures, the cohort report (if
    ``cohort_report``) and (``cli``) the command-line aggregates. Returns the number of outputs besides
    the authority reports (the cohort report and the command-line aggregates)."""
    from . import cohort_sections as C
    from . import sections as S

    db = str(db)
    for code in codes:
        _authority_outputs(S, db, code, lang, k)
    if cohort_report:
        return _cohort_outputs(C, db, lang, k, cli)
    return 1 + (_cli(db, k) if cli else 0)


def cli_outputs(db: str | Path, k: int) -> tuple[Record, int]:
    """The command-line aggregates' releases in a record of their own, and their number (for a batch's audit,
    computed beside the rendering: they depend on the data only)."""
    with recording(k=k) as rec:
        rec.no_figures = True  # type: ignore[attr-defined]
        n = _cli(str(db), k)
    return rec, n


def cli_outputs_of_data(data: Any, k: int) -> tuple[Record, int]:
    """:func:`cli_outputs` from cohort data already in memory (see :func:`_cli_of_data`): the same record."""
    with recording(k=k) as rec:
        rec.no_figures = True  # type: ignore[attr-defined]
        n = _cli_of_data(data, k)
    return rec, n


def _thread_cpu(fn: Any, *args: Any) -> tuple[Any, float]:
    """``fn(*args)`` and the CPU seconds this thread spent on it."""
    import time

    t = time.thread_time()
    out = fn(*args)
    return out, time.thread_time() - t


def _authority_releases(db: str, codes: list[str], lang: str, k: int) -> dict[str, list[tuple[str, str, Any, tuple[Any, ...], bool]]]:
    """Per authority, every release of its report in order, with the respondents by id (for another process's record)."""
    from . import sections as S

    out = {}
    for code in codes:
        with recording(k=k) as rec:
            rec.no_figures = True  # type: ignore[attr-defined]
            _authority_outputs(S, db, code, lang, k)
        out[code] = _portable(rec)
    return out


def _portable(rec: Record) -> list[tuple[str, str, Any, tuple[Any, ...], bool]]:
    inv = {bit: p for p, bit in rec.ids.items()}
    return [(e.output, e.cell, e.quantity, tuple(inv[b] for b in range(e.mask.bit_length()) if e.mask >> b & 1), e.known)
            for e in rec.entries]


def cohort_audit(db: str | Path, *, k: int | None = None, lang: str = "de", cli: bool = True, jobs: int | None = None) -> AuditResult:
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
    jobs
        Processes for the authority reports (default 1: on a shared 2-core machine two processes
        were not faster, 38 s against 35 s for the demo; measure on your machine before raising it).
        Each returns its releases in order and they are recorded in the order of a serial run
        (authorities, cohort, command line), so the record and the violations are the same.
    """
    from . import cohort_sections as C
    from .context import cohort_data

    db = str(db)
    data = cohort_data(db)
    k = resolve_k(int(data.cohort["min_group_size"]), k)
    codes = [str(c) for c in data.authorities["authority"]]
    if jobs is None:
        jobs = 1
    jobs = max(1, min(jobs, len(codes)))
    outputs = len(codes)
    with recording(k=k) as rec:
        rec.no_figures = True  # type: ignore[attr-defined]
        if jobs == 1:
            from . import sections as S

            for code in codes:
                _authority_outputs(S, db, code, lang, k)
            outputs += _cohort_outputs(C, db, lang, k, cli)
        else:
            import concurrent.futures as cf
            import multiprocessing as mp

            chunks = [codes[i::jobs] for i in range(jobs)]  # interleaved: large and small authorities on every process
            by_code: dict[str, list[Any]] = {}
            with cf.ProcessPoolExecutor(jobs, mp_context=mp.get_context("spawn")) as pool:
                futures = [pool.submit(_authority_releases, db, chunk, lang, k) for chunk in chunks]
                with recording(k=k) as own:  # meanwhile here: the cohort report and the command-line aggregates
                    own.no_figures = True  # type: ignore[attr-defined]
                    outputs += _cohort_outputs(C, db, lang, k, cli)
                for fut in futures:
                    by_code.update(fut.result())
            # recorded in the order of a serial run: authority by authority, then the cohort report and the command line
            for part in [*(by_code[code] for code in codes), _portable(own)]:
                for output, cell, quantity, people, known in part:
                    rec.add(output, cell, quantity, people, known=known)
    violations = audit(rec, k=k)
    log.info("disclosure audit: %d releases, %d violations", len(rec), len(violations))
    return AuditResult(rec, violations, k, outputs)
