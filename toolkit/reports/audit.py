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
from ..privacy.mask import EMPTY, Mask

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
    the same command-line aggregates' releases, in the same order over the same respondent sets, recorded where the
    caller records, from the answers and dimension scores the batch has read and computed once.

    Only the releases are made, not the numbers: the audit needs what each aggregate shows and over whom, which the
    release rules decide from the respondent sets alone (the levels' sets and the planner's paired-change decisions),
    so the estimates (means, quantiles, tests) are not computed, and every respondent set is built once as a bit mask
    of the record from integer codes (:class:`_CliReleases`). ``tests/test_cli_aggregates_fast.py`` checks the record
    entry for entry against :func:`_cli`'s from the store."""
    from ..privacy import current_record
    from ..scoring import dimension_scores
    from ..stats import reliability

    rec = current_record()
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
        own = competence is not None and competence.id == inst.id
        scores = data.scores() if own else dimension_scores(resp, inst)
        cli = _CliReleases(rec, scores, inst.id, k)
        pairs = [(first, later) for later in present[1:] for first in present[: present.index(later)]]
        for by in ("authority", "ministry", None):
            cli.levels(by)
            n += 1
            for first, later in pairs:
                paired = data._derived.get(f"change:{first}:{later}") if by == "authority" and own else None
                cli.change(first, later, by, waves, paired)
                n += 1
        rels = []
        for w in (w for w in waves if w in by_wave):
            rel = data._derived.get(f"reliability:{inst.id}:{w}")  # the batch's own (the same rows), else computed
            if rel is None:
                rel = reliability(resp.iloc[by_wave[w]], inst, method="pairwise")
            rels.append(rel.assign(wave=w))
        cli.reliability(rels)
        n += 1
    return n


class _CliReleases:
    """The releases of ``upo scores|change|reliability`` for one instrument's dimension scores, recorded in ``rec``
    without computing the numbers (see :func:`_cli_of_data`); each method records what its summary in
    :mod:`toolkit.summaries` records, in the same order:

    - :meth:`levels`: :func:`~toolkit.summaries.score_summary_of` (:func:`toolkit.privacy.levels`): a cell (wave,
      dimension, authority) over its respondents with a valid score; a ministry's or the cohort's over the union of its
      shown cells (``k`` or more); each shown with ``k`` or more respondents;
    - :meth:`change`: :func:`~toolkit.summaries.change_summary_of` (:func:`toolkit.privacy.change_levels`): the
      planner's decisions (:func:`toolkit.privacy.change_plan_all`), the differences first, then the pairs'
      before/after means where the planner allows them;
    - :meth:`reliability`: :func:`~toolkit.summaries.reliability_summary_of`: each wave's and dimension's alpha over
      the respondents with a valid score of the dimension in that wave.
    """

    def __init__(self, rec: Any, scores: Any, instrument: str, k: int) -> None:
        import numpy as np
        import pandas as pd

        self.rec, self.scores, self.instrument, self.k = rec, scores, instrument, k
        self._plan: dict | None = None
        v = scores[scores["score"].notna()]
        self.empty = scores.empty
        self.waves_in = {str(w) for w in pd.unique(scores["wave"])} if not scores.empty else set()
        self.order_in = [str(w) for w in pd.unique(v["wave"])] if not v.empty else []
        wave, dim = v["wave"].astype(str), v["dimension"].astype(str)
        ids = (v["authority"].astype(str) + "|" + v["participant"].astype(str)).to_numpy(dtype=object)
        codes, people = pd.factorize(ids)
        with rec._lock:  # the record's numbering, extended by these respondents in the order of their ids (an
            known = rec.ids  # authority's people of every wave are neighbours: its sets stay small masks)
            for p in sorted(p for p in people.tolist() if p not in known):
                known[p] = len(known)
            bit = np.array([known[p] for p in people], dtype=np.int64)
        # the cells (wave, dimension, authority), in order of appearance as toolkit.privacy.shown_cells makes them
        cols = {"wave": wave.to_numpy(dtype=object), "dimension": dim.to_numpy(dtype=object),
                "authority": v["authority"].reset_index(drop=True)}  # the authorities in their own dtype (it orders them)
        frame = pd.DataFrame({**cols, "ministry": v["ministry"].reset_index(drop=True) if "ministry" in v.columns else None})
        key = ["wave", "dimension", "authority"]
        g = frame.groupby(key, observed=True, sort=False)
        gid = g.ngroup().to_numpy()
        cells = g.size().index
        ministry = g["ministry"].first().to_numpy()
        ok = gid >= 0  # (rows without an authority are in no cell)
        rows, gid = np.flatnonzero(ok), gid[ok]
        self.cells: list[tuple[str, str, Any, Any, Mask]] = []  # (wave, dimension, authority, ministry, mask)
        self.sorted_cells: list[tuple[str, str, Any, Any, Mask]] = []
        if not len(gid):
            return
        by_gid = np.argsort(gid, kind="stable")
        bounds = np.searchsorted(gid[by_gid], np.arange(len(cells) + 1))
        rbits = bit[codes[rows[by_gid]]]
        for j, (w, d, a) in enumerate(cells):
            self.cells.append((w, d, a, ministry[j], Mask.from_positions(rbits[bounds[j]:bounds[j + 1]])))
        # the authorities' rows in the order group_summary gives them (grouped with sort=True: wave, dimension, authority)
        rank = frame.groupby(key, observed=True, sort=True).ngroup().to_numpy()[rows]
        first = np.empty(len(cells), dtype=np.int64)
        first[gid[::-1]] = np.arange(len(gid))[::-1]  # each cell's first row
        self.sorted_cells = [self.cells[j] for j in np.argsort(rank[first], kind="stable")]

    def _record(self, output: str, cell: str, quantity: Any, mask: Mask) -> None:
        if mask.bit_count() >= self.k:  # what release() records: k or more respondents (or pairs), no objection
            self.rec.add_mask(output, cell, quantity, mask)

    def levels(self, by: str | None) -> None:
        from ..privacy import Level

        if self.empty:
            return
        output, k, inst = f"cli:scores:{by or 'cohort'}", self.k, self.instrument
        if by == "authority":
            for w, d, a, _, m in self.sorted_cells:
                self._record(output, f"{w}/{d}/{a}", Level(inst, d, w), m)
            return
        groups: dict[tuple, list[Mask]] = {}
        for w, d, a, mi, m in self.cells:  # the groups in order of appearance, each over its shown cells
            key = (w, d, mi) if by == "ministry" else (w, d)
            u = groups.setdefault(key, [])
            if m.bit_count() >= k and not (by == "ministry" and _isna(mi)):
                u.append(m)
        for key, ms in groups.items():
            self._record(output, "/".join(str(x) for x in key), Level(inst, key[1], key[0]), Mask.union(ms))

    def _mask_of(self, people: frozenset) -> Mask:
        import numpy as np

        ids = self.rec.ids
        try:
            bits = np.fromiter(map(ids.__getitem__, people), dtype=np.int64, count=len(people))
        except KeyError:
            return self.rec.mask(people)
        return Mask.from_positions(bits)

    def change(self, a: str, b: str, by: str | None, waves: list[str], paired: Any) -> None:
        from ..privacy import Diff, Level, change_plan_all
        from ..stats import paired_change

        if self.empty or not {a, b} <= self.waves_in:
            return
        if self._plan is None:  # the same for every wave pair and grouping (memoised, but its key hashes the scores)
            self._plan = change_plan_all(self.scores, k=self.k, instrument=self.instrument, waves=waves)
        plan = self._plan
        order = [str(w) for w in waves if str(w) in self.order_in]
        fa, fb = (a, b) if a in order and b in order and order.index(a) < order.index(b) else (b, a)
        inst, output = self.instrument, f"cli:change:{by or 'cohort'}"
        if by == "authority":
            pc = paired if paired is not None else paired_change(self.scores, a, b, by="authority")
            if pc.empty:
                return
            none = (frozenset(), "no_data", "no_data")
            rows = [(str(au), str(d), plan.get((fa, fb, "authority", str(au), str(d)), none))
                    for au, d in zip(pc["authority"], pc["dimension"])]
        else:
            level = by or "total"
            rows = [(key[3], key[4], val) for key, val in plan.items() if key[:3] == (fa, fb, level)]
        shown = []
        for g, d, (p, reason, means_reason) in rows:
            label = (f"{g}/{d}" if by else str(d)) + f" {a}->{b}"
            if reason is None and len(p) >= self.k:
                m = self._mask_of(p)
                self.rec.add_mask(output, label, Diff(inst, str(d), a, b), m)
                if not isinstance(means_reason, str):
                    shown.append((label, str(d), m))
        for label, d, m in shown:  # the pairs' before/after means, after every difference (release_changes)
            self.rec.add_mask(output, f"{label} mean_from", Level(inst, d, a), m)
            self.rec.add_mask(output, f"{label} mean_to", Level(inst, d, b), m)

    def reliability(self, rels: list[Any]) -> None:
        from ..privacy import Level

        if not rels:
            return
        cells: dict[tuple[str, str], list[Mask]] = {}
        for w, d, _, _, m in self.cells:
            cells.setdefault((w, d), []).append(m)
        union = {key: Mask.union(ms) for key, ms in cells.items()}
        for rel in rels:
            hidden = rel["suppressed"].fillna(True).tolist() if "suppressed" in rel.columns else [False] * len(rel)
            for w, d, h in zip(rel["wave"], rel["dimension"], hidden):
                if not h:
                    self._record("cli:reliability", f"{w}/{d}", Level(self.instrument, f"reliability:{d}", str(w)),
                                 union.get((str(w), str(d)), EMPTY))


def _isna(x: Any) -> bool:
    import pandas as pd

    return x is None or bool(pd.isna(x))


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
    return [(e.output, e.cell, e.quantity, tuple(inv[b] for b in e.mask.positions().tolist()), e.known) for e in rec.entries]


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
