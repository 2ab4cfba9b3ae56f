"""Batch rendering of report notebooks: plan, skip what is current, render in parallel, index.

See :func:`render_reports`. The expensive parts run in worker processes (see
:mod:`toolkit.reports.worker`), each keeping one warm kernel; the parent plans
the batch, computes the cohort-wide analyses once (while the workers start
their kernels), prints PDFs with one browser and writes the manifest and the
index page.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import functools
import logging
import os
import queue
import re
import secrets
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from ..exceptions import ReportError
from ..paths import NOTEBOOKS_DIR
from ..store import resolve_location
from .manifest import Manifest, file_digest, report_key, toolkit_digest

__all__ = ["render_reports", "BatchResult", "ReportResult", "COHORT_REPORT_ID"]

log = logging.getLogger("toolkit")

COHORT_REPORT_ID = "cohort"
_FORMATS = ("html", "pdf", "pptx")


@dataclass
class ReportResult:
    """The outcome of one report in a batch (``status``: rendered, skipped, failed; ``stale`` in a dry run)."""

    report_id: str
    kind: str
    authority: str | None
    status: str
    html: Path | None = None
    pdf: Path | None = None
    seconds: float = 0.0
    error: str | None = None
    cpu: float = 0.0  # CPU seconds of the report in its worker and kernel


@dataclass
class BatchResult:
    """The outcome of :func:`render_reports`."""

    out: Path
    results: list[ReportResult] = field(default_factory=list)
    seconds: float = 0.0
    index: Path | None = None
    notes: list[str] = field(default_factory=list)
    slides: Path | None = None
    audit: Any = None  # the batch's disclosure audit (toolkit.reports.audit.AuditResult) when it ran one
    _audit: Any = field(default=None, repr=False)  # the batch's audit record while it renders (toolkit.reports.releases)

    @property
    def ok(self) -> bool:
        """True if no report failed."""
        return not self.failed

    def _with(self, status: str) -> list[ReportResult]:
        return [r for r in self.results if r.status == status]

    @property
    def rendered(self) -> list[ReportResult]:
        return self._with("rendered")

    @property
    def skipped(self) -> list[ReportResult]:
        return self._with("skipped")

    @property
    def failed(self) -> list[ReportResult]:
        return self._with("failed")

    def summary_text(self) -> str:
        """A few lines for the terminal: counts, time, failures with their reason, the index."""
        lines = [
            f"reports: {len(self.rendered)} rendered, {len(self.skipped)} unchanged (skipped), "
            f"{len(self.failed)} failed in {self.seconds:.1f} s"
        ]
        for r in self.failed:
            lines.append(f"  FAILED {r.report_id}: {r.error}")
        lines += [f"  {note}" for note in self.notes]
        if self.index is not None:
            lines.append(f"index: {self.index}")
        if self.slides is not None:
            lines.append(f"slides: {self.slides}")
        return "\n".join(lines)


def audit_stamp(out: Path, cohort_fingerprint: str, k: int, toolkit: str | None = None) -> Path:
    """Where a passed disclosure audit of this data (fingerprint), toolkit and k is remembered in ``out``."""
    toolkit = toolkit_digest() if toolkit is None else toolkit
    return Path(out) / ".audit" / f"audit-{cohort_fingerprint[:24]}-{toolkit[:12]}-k{k}.ok"


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "report"


def _audit_or_refuse(db: Path, min_group_size: int | None, stamp: Path) -> None:
    """Run the disclosure audit of everything the cohort releases; refuse the batch if it fails.

    A passed audit is remembered in ``stamp`` (named by the data's fingerprint, the toolkit's
    digest and k), so an unchanged cohort is not audited twice.
    """
    from ..exceptions import PrivacyError
    from .audit import cohort_audit

    if stamp.exists():
        return
    result = cohort_audit(db, k=min_group_size)
    if result.ok:
        stamp.parent.mkdir(parents=True, exist_ok=True)
        for old in stamp.parent.glob("audit-*.ok"):  # stamps of earlier data: the cohort changed since
            old.unlink(missing_ok=True)
        stamp.write_text(result.text(limit=0) + "\n", encoding="utf-8")  # counts only, no values
        return
    if not result.ok:
        raise PrivacyError(f"{db}: the disclosure audit found {len(result.violations)} violation(s) (first: {result.violations[0]}); "
                           f"no report was written. Run `upo audit {db}` for the list")


def render_reports(
    db: str | Path,
    authorities: Sequence[str] | None = None,
    out: str | Path = Path("reports"),
    formats: Sequence[str] = ("html",),
    jobs: int | None = None,
    lang: str = "de",
    force: bool = False,
    cohort: bool = False,
    *,
    min_group_size: int | None = None,
    audit: bool = True,
    authority_notebook: str | Path | None = None,
    cohort_notebook: str | Path | None = None,
    progress: bool | None = None,
    restart_every: int | None = None,
    timeout: float = 600.0,
    dry_run: bool = False,
    scheduler: str | None = None,
) -> BatchResult:
    """Render authority reports (and the cohort report) to self-contained HTML, optionally PDF.

    Parameters
    ----------
    db
        The cohort database file.
    authorities
        Authority codes; ``None`` renders every authority of the cohort. An unknown
        code fails that report (with the known codes in the reason), not the batch.
    out
        Output folder (reports, ``index.html``, ``manifest.json``, ``.audit/`` with the passed audits).
    formats
        ``["html"]`` or ``["html", "pdf"]`` (HTML is always written: the PDF is printed from it);
        ``"pptx"`` adds the cohort slides (``cohort.pptx``; needs ``cohort``). ``["pptx"]`` alone
        writes only the slides.
    jobs
        Worker processes, each with one kernel (default: number of cores).
    lang
        ``"de"`` or ``"en"``.
    force
        Render even reports whose inputs did not change.
    cohort
        Also render the cohort report.
    min_group_size
        Override of the cohort's minimum group size (``None``: the cohort's setting).
    audit
        Run the disclosure audit of the whole cohort first (:func:`toolkit.reports.audit.cohort_audit`)
        and raise :class:`~toolkit.exceptions.PrivacyError` (nothing written) if it finds a violation.
    authority_notebook, cohort_notebook
        Other notebooks to render (default: ``notebooks/report_*.ipynb``).
    progress
        Show a progress bar on stderr (default: only on a terminal).
    restart_every
        Restart a worker's kernel after this many reports at the latest (default
        :data:`~toolkit.reports.worker.RESTART_EVERY`; earlier once it has grown by
        :data:`~toolkit.reports.worker.RESTART_GROWTH_MB`).
    dry_run
        Only plan: reports that would be rendered get the status ``stale``; nothing is written.
    scheduler
        Render on a Dask distributed cluster: ``tcp://host:8786`` (a running scheduler) or
        ``local`` / ``local:N`` (a ``LocalCluster`` of N workers, default ``jobs``); see
        :mod:`toolkit.reports.dask_batch`. ``None``: the built-in worker pool.

    Returns
    -------
    BatchResult
        ``.ok`` is False if any report failed; ``.summary_text()`` lists the failures.

    Raises
    ------
    ReportError
        Bad arguments, a missing notebook, or PDF requested without Chromium.

    Example
    -------
    >>> render_reports("x.sqlite", formats=["docx"])  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    ReportError: unknown report format 'docx'; use html, pdf, html,pdf or pptx (cohort slides)
    """
    t0 = time.perf_counter()
    fmts = [f.strip().lower() for f in formats if f.strip()]
    for f in fmts:
        if f not in _FORMATS:
            raise ReportError(f"unknown report format {f!r}; use html, pdf, html,pdf or pptx (cohort slides)")
    want_pptx = "pptx" in fmts
    if want_pptx and not cohort:
        raise ReportError("pptx slides are made from the cohort report; add --cohort (or --all), or use --format html,pdf")
    fmts = [f for f in fmts if f != "pptx"]
    want_pdf = "pdf" in fmts
    if lang not in ("de", "en"):
        raise ReportError(f"unknown report language {lang!r}; use de or en")
    if jobs is not None and jobs < 1:
        raise ReportError(f"--jobs must be at least 1, not {jobs}")
    if want_pdf:
        from .pdf import chromium_path

        if chromium_path() is None:
            raise ReportError(
                "PDF output needs Chromium, which was not found at /usr/bin/chromium or on PATH; "
                "install it (Debian: apt-get install chromium), set UPO_CHROMIUM, or use --format html"
            )
    nb_auth = Path(authority_notebook or NOTEBOOKS_DIR / "report_authority.ipynb").resolve()
    nb_cohort = Path(cohort_notebook or NOTEBOOKS_DIR / "report_cohort.ipynb").resolve()
    for nb in ([nb_auth] if authorities is None or len(authorities) else []) + ([nb_cohort] if cohort else []):
        if not nb.exists():
            raise ReportError(f"report notebook {nb} not found; reinstall upo-toolkit or pass the notebook path")

    db = resolve_location(db)  # a file, or a postgresql:// URL
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(out / ".cache", ignore_errors=True)  # report caches of older versions held every answer
    if not force and not dry_run and not want_pptx and audit:
        unchanged = _all_unchanged(db, authorities, out, nb_auth, nb_cohort, lang=lang, cohort=cohort, want_pdf=want_pdf,
                                   min_group_size=min_group_size)
        if unchanged is not None:
            unchanged.seconds = time.perf_counter() - t0
            return unchanged
    from ..store import Store

    result = BatchResult(out=out)
    if want_pptx and not fmts:  # slides only
        if not dry_run:
            result.slides = _write_slides(db, out, lang=lang, min_group_size=min_group_size)
        result.seconds = time.perf_counter() - t0
        return result
    with Store(db) as store:
        store.check_integrity()  # a damaged file fails here, before any kernel starts
        store.record_report_folder(out)  # so an erasure finds the reports that showed the person
        from ..privacy import resolve_k

        k = resolve_k(store, min_group_size)  # PrivacyError below 1 or below the cohort's setting
        known = store.authorities()
        names = dict(zip(known["authority"], known["name"]))
        ministries = dict(zip(known["authority"], known["ministry"]))
        codes = list(known["authority"]) if authorities is None else list(dict.fromkeys(str(a) for a in authorities))
        cohort_fp = store.fingerprint()
        toolkit = toolkit_digest()
        stamp = audit_stamp(out, cohort_fp, k, toolkit)
        audit_in_batch = audit and not stamp.exists() and not dry_run
        if audit and dry_run:
            _audit_or_refuse(db, min_group_size, stamp)
        all_codes = [str(c) for c in known["authority"]]
        manifest = Manifest(out)
        suffix = "" if lang == "de" else f".{lang}"

        from .worker import Task

        planned: list[tuple[Task, dict[str, Any], list[str]]] = []
        if cohort:
            params = {"db": str(db), "lang": lang, "min_group_size": min_group_size}
            key = report_key(notebook_digest=file_digest(nb_cohort), toolkit=toolkit, parameters={"kind": "cohort", "lang": lang, "k": k}, data=[cohort_fp])
            title = ("Kohortenbericht" if lang == "de" else "Cohort report") + f" – {store.cohort()['name']}"
            task = Task(COHORT_REPORT_ID, str(nb_cohort), params, str(out / f"cohort{suffix}.html"), title, lang)
            planned.append((task, {"key": key, "kind": "cohort", "authority": None, "name": title, "ministry": None}, []))
        for code in codes:
            if code not in names:
                close = [c for c in names if c.lower() == code.lower()]
                hint = f"; did you mean {close[0]!r}?" if close else f"; known: {', '.join(sorted(names)) or 'none'}"
                result.results.append(
                    ReportResult(f"authority:{code}", "authority", code, "failed", error=f"authority {code!r} is not in the cohort of {db.name}{hint}")
                )
                continue
            params = {"db": str(db), "authority": code, "lang": lang, "min_group_size": min_group_size}
            key = report_key(
                notebook_digest=file_digest(nb_auth),
                toolkit=toolkit,
                parameters={"kind": "authority", "authority": code, "lang": lang, "k": k},
                data=[store.fingerprint(code), cohort_fp],
            )
            title = ("Bericht" if lang == "de" else "Report") + f" – {names[code] or code}"
            task = Task(f"authority:{code}", str(nb_auth), params, str(out / f"{_safe(code)}{suffix}.html"), title, lang)
            planned.append((task, {"key": key, "kind": "authority", "authority": code, "name": names[code], "ministry": ministries[code]}, []))

    todo = []
    for task, meta, _ in planned:
        files = [Path(task.html_path).name] + ([Path(task.html_path).with_suffix(".pdf").name] if want_pdf else [])
        entry_id = f"{task.key}{suffix}"
        if not force and manifest.is_current(entry_id, meta["key"], files):
            old = manifest.reports[entry_id]
            result.results.append(
                ReportResult(task.key, meta["kind"], meta["authority"], "skipped", out / old["html"], out / old["pdf"] if old.get("pdf") else None)
            )
        else:
            todo.append((task, meta))
    if dry_run:
        result.results += [ReportResult(t.key, m["kind"], m["authority"], "stale") for t, m in todo]
        result.seconds = time.perf_counter() - t0
        return result
    if audit_in_batch and not todo:
        _audit_or_refuse(db, min_group_size, stamp)
    if todo:
        from .worker import RESTART_EVERY

        restart_every = restart_every or RESTART_EVERY
        run = _run_batch
        if scheduler:
            from .dask_batch import run_batch_dask as run  # type: ignore[assignment]

            run = functools.partial(run, scheduler=scheduler)
        if not audit_in_batch:
            run(db, todo, out, manifest, result, jobs=jobs, want_pdf=want_pdf, suffix=suffix, progress=progress,
                restart_every=restart_every, timeout=timeout)
        else:
            _run_audited(run, db, todo, out, manifest, result, stamp, k=k, lang=lang, codes=all_codes,
                         jobs=jobs, want_pdf=want_pdf, suffix=suffix, progress=progress, restart_every=restart_every, timeout=timeout)
    manifest.meta.update({"db": str(db), "lang": lang, "k": k, "updated_at": _now()})
    manifest.save()
    from .index import write_index

    result.index = write_index(out, manifest, db=db, lang=lang, k=k)
    if want_pptx:
        cohort_done = next((r for r in result.results if r.kind == "cohort"), None)
        existing = out / f"cohort{suffix}.pptx"
        current = (existing.exists() and cohort_done is not None and cohort_done.html is not None and Path(cohort_done.html).exists()
                   and existing.stat().st_mtime >= Path(cohort_done.html).stat().st_mtime)
        if not force and cohort_done is not None and cohort_done.status == "skipped" and current:
            result.slides = existing  # same inputs as the unchanged cohort report: the slides are current
        else:
            result.slides = _write_slides(db, out, lang=lang, min_group_size=min_group_size)
    result.seconds = time.perf_counter() - t0
    order = {t.key: i for i, (t, _, _) in enumerate(planned)}
    result.results.sort(key=lambda r: order.get(r.report_id, -1))
    return result


def _run_audited(run: Any, db: Path, todo: list[tuple[Any, dict[str, Any]]], out: Path, manifest: Manifest, result: BatchResult,
                 stamp: Path, *, k: int, lang: str, codes: list[str], **kw: Any) -> None:
    """Render ``todo`` into a staging folder, audit what the kernels shipped back with the parent's own releases,
    and only then move the reports into place (or remove them all and raise :class:`PrivacyError`).

    The batch's kernels record what each report releases and ship it back with the HTML
    (:mod:`toolkit.reports.releases`); reports not rendered in this batch, or whose record is missing
    or unusable, are rendered in memory here, as :func:`~toolkit.reports.audit.cohort_audit` does, so the
    audited record is the whole cohort's.
    """
    from dataclasses import replace

    from ..exceptions import PrivacyError
    from ..privacy import audit as run_audit, recording
    from .audit import AuditResult, parent_outputs
    from .context import batch_numbering, cohort_data

    staging = out / ".staging"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    staged = [(replace(task, html_path=str(staging / Path(task.html_path).name)), meta) for task, meta in todo]
    before = {key: dict(entry) for key, entry in manifest.reports.items()}
    live = _LiveRecord(db, k)
    result._audit = live
    try:
        with recording(k=k) as parent:  # the index's key figures, computed here for every rendered report
            parent.no_figures = True  # type: ignore[attr-defined]
            run(db, staged, out, manifest, result, **kw)
            t_audit, cpu_audit = time.perf_counter(), time.process_time()
            tail = _TailClock()
            data = cohort_data(db)
            numbering = batch_numbering(data)
            batch = live.final(numbering)  # the shipped records, joined as they arrived (again if the numbering changed)
            tail.lap("final join")
            cli = live.cli_result(data.fingerprint)  # the command-line aggregates, computed beside the rendering (None: here, now)
            tail.lap("waiting for the command-line aggregates")
            outputs = parent_outputs(db, [c for c in codes if f"authority:{c}" not in batch.shipped],
                                     cohort_report=COHORT_REPORT_ID not in batch.shipped, lang=lang, k=k, cli=cli is None)
            tail.lap("parent's own releases")
        if cli is None and live.cli_joined(batch):  # cannot be (same numbering, same data), but never audit stale aggregates
            batch = live.final(numbering, fresh=True)
        batch.add_parent(parent)
        if cli is not None:
            if not live.cli_joined(batch):  # else added beside the rendering
                batch.add_parent(cli[0])
            outputs += cli[1]
        tail.lap("adding the parent's releases")
        violations = run_audit(batch.record, k=k)
        tail.lap("cross-report check")
        checked = AuditResult(batch.record, violations, k, len(codes) + outputs, from_kernels=tuple(sorted(batch.shipped)),
                              seconds=time.perf_counter() - t_audit, cpu=time.process_time() - cpu_audit, beside_cpu=live.cpu,
                              cli_cpu=live.cli_cpu, tail_parts=tail.parts)
        result.audit = checked
        log.info("disclosure audit of the batch: %d releases (%d reports from their kernels' records), %d violations",
                 len(batch.record), len(batch.shipped), len(violations))
        if not checked.ok:
            raise PrivacyError(f"{db}: the disclosure audit found {len(violations)} violation(s) (first: {violations[0]}); "
                               f"no report was written. Run `upo audit {db}` for the list")
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        manifest.reports.clear()
        manifest.reports.update(before)
        manifest.save()
        result.results = [r for r in result.results if r.status != "rendered"]
        raise
    finally:
        result._audit = None
    for r in result.results:
        for attr in ("html", "pdf"):
            p = getattr(r, attr)
            if p is not None and Path(p).parent == staging:
                os.replace(p, out / Path(p).name)
                setattr(r, attr, out / Path(p).name)
    shutil.rmtree(staging, ignore_errors=True)
    stamp.parent.mkdir(parents=True, exist_ok=True)
    for old in stamp.parent.glob("audit-*.ok"):
        old.unlink(missing_ok=True)
    stamp.write_text(checked.text(limit=0) + "\n", encoding="utf-8")


class _TailClock:
    """The parent's CPU seconds of each step of a batch's audit after the last report (``parts``, for the benches)."""

    def __init__(self) -> None:
        self.parts: dict[str, float] = {}
        self._t = time.process_time()

    def lap(self, name: str) -> None:
        t = time.process_time()
        self.parts[name] = self.parts.get(name, 0.0) + t - self._t
        self._t = t


class _LiveRecord:
    """A batch's audit record joined while the workers render: each shipped record is added to the
    :class:`~toolkit.reports.releases.BatchRecord` as it arrives (the parent waits for the workers
    anyway), once the batch's numbering is known (it is made with the shared cohort data, before the
    first report). :meth:`final` returns that record, or, if the numbering at the end is not the one
    the records were joined with, a record joined afresh from every kept payload, as before."""

    def __init__(self, db: Any, k: int) -> None:
        from .releases import BatchRecord

        self.db, self.k = str(resolve_location(db)), k
        self.payloads: list[tuple[str, dict[str, Any] | None]] = []
        self.batch = BatchRecord(k=k, token=None, recode=lambda p: p)
        self.numbering: tuple[str, Any] | None = None
        self._cli: threading.Thread | None = None
        self._cli_out: list[Any] = []
        self._cli_fingerprint: str | None = None  # of the cohort data the aggregates were computed from (None: from the store)
        self._cli_joined: str | None = None  # the numbering under which they were added to the live record
        self.cpu = 0.0  # parent CPU seconds spent joining the records as they arrived
        self.cli_cpu = 0.0  # and on the command-line aggregates (their thread)

    def _start_cli(self) -> None:
        """The command-line aggregates (they depend on the data only) in a thread, from the first report on:
        the cohort-wide data are ready then and the parent mostly waits for the workers."""
        from .audit import _thread_cpu, cli_outputs, cli_outputs_of_data
        from .context import _MEMO

        data = next((d for d in _MEMO.values() if d.db == self.db), None)  # the batch's cohort data, already read
        self._cli_fingerprint = data.fingerprint if data is not None else None

        def work() -> None:
            try:
                if data is not None:  # from the answers and scores in memory; the end checks they are still the data's
                    out, cpu = _thread_cpu(cli_outputs_of_data, data, self.k)
                else:
                    out, cpu = _thread_cpu(cli_outputs, self.db, self.k)
                self._cli_out.append(out)
                self.cli_cpu = cpu
                if data is not None:
                    self.cli_cpu += _thread_cpu(self._join_cli, data, out[0])[1]
            except Exception:  # computed again after the rendering
                log.warning("the command-line aggregates of the audit could not be computed beside the rendering", exc_info=True)

        self._cli = threading.Thread(target=work, name="upo-audit-cli", daemon=True)
        self._cli.start()

    def _join_cli(self, data: Any, rec: Any) -> None:
        """Add the command-line aggregates' releases (``rec``, computed from ``data``) to the record joined as the reports
        arrive, in the batch's numbers, here beside the rendering, if the record is joined with ``data``'s numbering
        (otherwise the end adds them to the record it joins afresh)."""
        from .context import batch_numbering
        from .releases import BatchRecord

        numbering = batch_numbering(data)
        if numbering is None or self.numbering is None or numbering[0] != self.numbering[0]:
            return
        joiner = BatchRecord(k=self.k, token=numbering[0], recode=numbering[1])
        joiner.record = self.batch.record  # the live record (its additions are locked): the same entries as add_parent at the end
        joiner.add_parent(rec)
        self._cli_joined = numbering[0]

    def cli_joined(self, batch: Any) -> bool:
        """Whether the command-line aggregates are already in ``batch``'s record (see :meth:`_join_cli`)."""
        return batch is self.batch and self._cli_joined is not None and self._cli_joined == batch.token

    def cli_result(self, fingerprint: str | None = None) -> tuple[Any, int] | None:
        """``(record, outputs)`` of the command-line aggregates computed beside the rendering, or None (none computed,
        or computed from cohort data in memory whose fingerprint is not ``fingerprint``, the data's at the end)."""
        if self._cli is None:
            return None
        self._cli.join()
        if self._cli_fingerprint is not None and self._cli_fingerprint != fingerprint:
            return None
        return self._cli_out[0] if self._cli_out else None

    def _numbering(self) -> tuple[str, Any] | None:
        from .context import _MEMO, batch_numbering

        data = next((d for d in _MEMO.values() if d.db == self.db), None)  # no fingerprint: the end checks the data
        return batch_numbering(data) if data is not None else None

    def add_shipped(self, report_id: str, payload: dict[str, Any] | None) -> None:
        t = time.thread_time()
        if self._cli is None:
            self._start_cli()
        self.payloads.append((report_id, payload))
        self.batch.add_shipped(report_id, payload)
        if self.numbering is None:
            self.numbering = self._numbering()
        if self.numbering is not None:
            self.batch.token, self.batch.recode = self.numbering
            self.batch.resolve()
        self.cpu += time.thread_time() - t

    def final(self, numbering: tuple[str, Any] | None, *, fresh: bool = False) -> Any:
        """The record of the shipped reports under the batch's final numbering (None: no usable record); ``fresh``:
        joined afresh from the kept payloads even if the live record has that numbering."""
        from .releases import BatchRecord

        if not fresh and numbering is not None and self.numbering is not None and numbering[0] == self.numbering[0]:
            self.batch.resolve()
            return self.batch
        batch = BatchRecord(k=self.k, token=None, recode=lambda p: p)
        for report_id, payload in self.payloads:
            batch.add_shipped(report_id, payload)
        batch.token, batch.recode = numbering if numbering else (None, batch.recode)
        batch.resolve()
        return batch


def _all_unchanged(db: Path, authorities: Sequence[str] | None, out: Path, nb_auth: Path, nb_cohort: Path, *, lang: str, cohort: bool,
                   want_pdf: bool, min_group_size: int | None) -> BatchResult | None:
    """The batch's result if every planned report is current, decided without pandas; else None.

    The no-change re-run (``upo report DB --all`` again) reads the fingerprints with ``sqlite3``
    (:func:`toolkit.store.fingerprint.quick_report_state`) and compares the same input keys as the
    full planner; anything it cannot decide as "all current" (a PostgreSQL database, a file that
    opening would migrate, an unknown code, a stricter k, a report folder not yet recorded, a
    missing audit stamp, index or report file) returns None, and the full path runs as before.
    """
    from ..store.fingerprint import quick_report_state

    if isinstance(db, str) or not isinstance(db, Path):  # a postgresql:// URL
        return None
    codes = None if authorities is None else list(dict.fromkeys(str(a) for a in authorities))
    state = quick_report_state(db, codes)
    index = out / f"index{'' if lang == 'de' else f'.{lang}'}.html"
    if state is None or str(out.resolve()) not in state["folders"] or not index.is_file():
        return None
    k = state["min_group_size"]
    if min_group_size is not None:  # a stricter k for this batch: the full path checks it
        if isinstance(min_group_size, bool) or not isinstance(min_group_size, int) or min_group_size < k:
            return None
        k = min_group_size
    names = {code: name for code, name, _ in state["authorities"]}
    codes = list(names) if codes is None else codes
    if any(code not in names for code in codes):
        return None
    cohort_fp, toolkit = state["fingerprint"], toolkit_digest()
    if not audit_stamp(out, cohort_fp, k, toolkit).exists():
        return None
    manifest = Manifest(out)
    suffix = "" if lang == "de" else f".{lang}"
    planned: list[tuple[str, str, str | None, str]] = []
    if cohort:
        key = report_key(notebook_digest=file_digest(nb_cohort), toolkit=toolkit, parameters={"kind": "cohort", "lang": lang, "k": k},
                         data=[cohort_fp])
        planned.append((COHORT_REPORT_ID, "cohort", None, key))
    auth_digest = file_digest(nb_auth) if codes else ""
    for code in codes:
        key = report_key(notebook_digest=auth_digest, toolkit=toolkit,
                         parameters={"kind": "authority", "authority": code, "lang": lang, "k": k},
                         data=[state["fingerprints"][code], cohort_fp])
        planned.append((f"authority:{code}", "authority", code, key))
    result = BatchResult(out=out, index=index)
    for report_id, kind, code, key in planned:
        html = out / (f"cohort{suffix}.html" if kind == "cohort" else f"{_safe(str(code))}{suffix}.html")
        files = [html.name] + ([html.with_suffix(".pdf").name] if want_pdf else [])
        if not manifest.is_current(f"{report_id}{suffix}", key, files):
            return None
        old = manifest.reports[f"{report_id}{suffix}"]
        result.results.append(ReportResult(report_id, kind, code, "skipped", out / old["html"], out / old["pdf"] if old.get("pdf") else None))
    if manifest.meta.get("lang") != lang or manifest.meta.get("k") != k or manifest.meta.get("db") != str(db):
        return None  # the index was last written for another language, k or database: the full path rewrites it
    return result


def _write_slides(db: Path, out: Path, *, lang: str, min_group_size: int | None) -> Path:
    """The cohort slides next to the cohort report (``cohort.pptx``, ``cohort.en.pptx``)."""
    from .slides import write_cohort_slides

    suffix = "" if lang == "de" else f".{lang}"
    return write_cohort_slides(db, out / f"cohort{suffix}.pptx", lang=lang, min_group_size=min_group_size)


def _now() -> str:
    return _dt.datetime.now().astimezone().isoformat(timespec="seconds")


def _run_batch(db: Path, todo: list[tuple[Any, dict[str, Any]]], out: Path, manifest: Manifest, result: BatchResult, *,
               jobs: int | None, want_pdf: bool, suffix: str, progress: bool | None, restart_every: int, timeout: float) -> None:
    from .context import CACHE_ENV, CACHE_KEY_ENV

    n_workers = max(1, min(jobs or os.cpu_count() or 1, len(todo)))
    # what the kernels share lives in a private folder (0700) removed when the batch ends, never in the output folder
    cache_dir = Path(tempfile.mkdtemp(prefix="upo-report-"))
    secret = secrets.token_bytes(32)
    env = {CACHE_ENV: str(cache_dir), CACHE_KEY_ENV: secret.hex()}
    try:
        _run_workers(db, todo, out, manifest, result, env, cache_dir, secret, n_workers, want_pdf=want_pdf, suffix=suffix,
                     progress=progress, restart_every=restart_every, timeout=timeout)
    finally:
        shutil.rmtree(cache_dir, ignore_errors=True)


def _run_workers(db: Path, todo: list[tuple[Any, dict[str, Any]]], out: Path, manifest: Manifest, result: BatchResult,
                 env: dict[str, str], cache_dir: Path, secret: bytes, n_workers: int, *, want_pdf: bool, suffix: str,
                 progress: bool | None, restart_every: int, timeout: float) -> None:
    import multiprocessing as mp  # here, not at the top: the no-change re-run starts no process

    from tqdm.auto import tqdm

    from .context import write_cohort_cache
    from .worker import worker_main

    ctx = mp.get_context("spawn")
    tasks_q, results_q = ctx.Queue(), ctx.Queue()
    procs = [ctx.Process(target=worker_main, args=(i, tasks_q, results_q, env, restart_every, timeout), daemon=True) for i in range(n_workers)]
    for p in procs:
        p.start()
    # while the workers import and start their kernels: the cohort-wide analyses, once
    try:
        with _planner_pool(db, n_workers) as pmap:
            write_cohort_cache(db, cache_dir, lang=todo[0][0].lang, secret=secret, pmap=pmap)
    except Exception as exc:  # the kernels compute what they need themselves
        log.warning("could not prepare the shared report cache (%s); each kernel computes it", exc)
    by_id = {task.key: (task, meta) for task, meta in todo}
    for task, _ in todo:
        tasks_q.put(task)
    for _ in procs:
        tasks_q.put(None)

    printer = None
    pending = dict(by_id)
    in_flight: dict[int, str] = {}
    dead: dict[int, str] = {}
    bar = tqdm(total=len(todo), desc="reports", unit="report", file=sys.stderr, disable=(not progress) if progress is not None else None)
    try:
        while pending:
            try:
                kind, wid, payload = results_q.get(timeout=0.5)
            except queue.Empty:
                for wid, p in enumerate(procs):
                    if not p.is_alive() and wid not in dead:
                        dead[wid] = f"worker process exited (code {p.exitcode})"
                        if wid in in_flight:
                            _fail(result, manifest, out, by_id, pending.pop(in_flight.pop(wid))[0].key, dead[wid], suffix)
                            bar.update(1)
                if len(dead) == len(procs) and pending:
                    reason = "; ".join(sorted(set(dead.values())))
                    for rid in list(pending):
                        pending.pop(rid)
                        _fail(result, manifest, out, by_id, rid, f"no report worker could run: {reason}", suffix)
                        bar.update(1)
                continue
            if kind == "dead":
                dead[wid] = f"the worker could not start a kernel: {payload}"
            elif kind == "started":
                in_flight[wid] = payload
            elif kind == "done":
                in_flight.pop(wid, None)
                res = payload
                if res.key not in pending:
                    continue
                task, meta = pending.pop(res.key)
                printer = _accept(res, task, meta, result, manifest, out, by_id, want_pdf=want_pdf, suffix=suffix, printer=printer)
                bar.update(1)
    finally:
        bar.close()
        if printer is not None:
            printer.__exit__()
        for _ in procs:  # in case workers still wait (e.g. after an interrupt)
            try:
                tasks_q.put_nowait(None)
            except Exception:
                pass
        for p in procs:
            p.join(timeout=10)
            if p.is_alive():
                p.terminate()
                p.join(timeout=5)
        tasks_q.close()
        results_q.close()


PLANNER_POOL_UNITS = 200  # from this many units the planner's dimensions are decided in n_workers processes


@contextlib.contextmanager
def _planner_pool(db: Any, n_workers: int) -> Iterator[Callable[..., Any] | None]:
    """A ``pmap`` for :func:`toolkit.privacy.change_plan_all` over ``n_workers`` processes of their own (started
    while the report workers start their kernels), or None (decided here) for a small cohort or one worker:
    below about 200 units the planner takes about a second, less than starting the processes."""
    from ..store import Store

    if n_workers < 2:
        yield None
        return
    with Store(db) as store:
        units = len(store.authorities())
    if units < PLANNER_POOL_UNITS:
        yield None
        return
    import concurrent.futures as cf
    import multiprocessing as mp

    with cf.ProcessPoolExecutor(n_workers, mp_context=mp.get_context("spawn")) as pool:
        yield lambda fn, work: list(pool.map(fn, *zip(*work)))


def _accept(res: Any, task: Any, meta: dict[str, Any], result: BatchResult, manifest: Manifest, out: Path, by_id: dict[str, Any], *,
            want_pdf: bool, suffix: str, printer: Any) -> Any:
    """Record one finished report (PDF printed here, manifest saved); returns the (lazily started) PDF printer."""
    if not res.ok:
        _fail(result, manifest, out, by_id, res.key, res.error or "unknown error", suffix)
        return printer
    pdf_path = None
    error = None
    if want_pdf:
        try:
            if printer is None:
                from .pdf import PdfPrinter

                printer = PdfPrinter().__enter__()
            pdf_path = printer.print(res.html_path, Path(res.html_path).with_suffix(".pdf"))
        except Exception as exc:
            error = f"PDF: {exc}"
    if error:
        _fail(result, manifest, out, by_id, res.key, error, suffix)
        return printer
    manifest.reports[f"{res.key}{suffix}"] = {
        **meta,
        "html": Path(res.html_path).name,
        "pdf": pdf_path.name if pdf_path else None,
        "rendered_at": _now(),
        "seconds": round(res.seconds, 3),
        "key_figures": _key_figures(task, meta, res),
        "lang": task.lang,
    }
    manifest.save_soon()
    if result._audit is not None:
        result._audit.add_shipped(res.key, res.releases)
    result.results.append(ReportResult(res.key, meta["kind"], meta["authority"], "rendered", Path(res.html_path), pdf_path, res.seconds,
                                       cpu=getattr(res, "cpu", 0.0)))
    return printer


def _key_figures(task: Any, meta: dict[str, Any], res: Any = None) -> dict[str, Any]:
    """The index's key figures of one rendered authority report, made here from the released values its kernel
    shipped with its release record (:func:`toolkit.reports.index.shipped_key_figures`), else computed here
    from the same released data (:func:`toolkit.reports.index.key_figures`; the cohort data are in memory)."""
    if meta.get("kind") != "authority":
        return {}
    from .index import authority_key_figures, shipped_key_figures

    shipped = shipped_key_figures(getattr(res, "releases", None), task.lang)
    if shipped is not None:
        return shipped
    p = task.parameters
    return authority_key_figures(p["db"], p["authority"], lang=p.get("lang", "de"), min_group_size=p.get("min_group_size"))


def _fail(result: BatchResult, manifest: Manifest, out: Path, by_id: dict[str, Any], report_id: str, reason: str, suffix: str) -> None:
    task, meta = by_id[report_id]
    old = manifest.reports.get(f"{report_id}{suffix}", {})
    for name in (old.get("html"), old.get("pdf")):
        if name:
            (out / name).unlink(missing_ok=True)  # never leave a stale report linked
    manifest.reports[f"{report_id}{suffix}"] = {**meta, "key": None, "html": None, "pdf": None, "error": reason, "lang": task.lang}
    manifest.save()
    log.warning("report %s failed: %s", report_id, reason)
    result.results.append(ReportResult(report_id, meta["kind"], meta["authority"], "failed", seconds=0.0, error=reason))
