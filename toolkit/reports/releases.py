"""Release records shipped back by a batch's report kernels, so the batch's audit needs no second rendering.

Each report kernel starts a fresh process-wide record before a report (:func:`kernel_start`) and,
after it, writes what the report released (:func:`kernel_ship`): every shown value's output, cell,
quantity and respondent set, as :func:`toolkit.privacy.audit` needs it. Respondent sets are sent
by content digest; a set's members travel only the first time a worker sends that digest, so the
cohort-wide comparison sets (thousands of people, the same in every report) cross once per worker.
The respondents are the batch's numbers (``authority|R17``, see
:func:`toolkit.reports.context.install_cohort_data`), never pseudonyms.

:class:`BatchRecord` (in the batch's parent) joins the shipped records of the rendered reports and
what the parent releases itself (the index's key figures, the command-line aggregates and, rendered
in memory, every report no kernel shipped a usable record for), all in the batch's numbers, and
audits them together: the same record :func:`toolkit.reports.audit.cohort_audit` builds.

Example
-------
>>> from toolkit.privacy.release import Level, release
>>> rec = kernel_start()
>>> _ = release(Level("ci", "dt", "t0"), [f"A|R{i}" for i in range(6)], 3.0, k=5, output="report:A", cell="x")
>>> shipped = decode(kernel_payload(rec, "tok"), set())
>>> batch = BatchRecord(k=5, token="tok", recode=lambda p: p)
>>> batch.add_shipped("authority:A", shipped); batch.resolve()
>>> sorted(batch.shipped), len(batch.record)
(['authority:A'], 1)
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ..privacy.mask import Mask
from ..privacy.release import Diff, Level, Record, fresh_process_record

__all__ = ["KernelRecord", "kernel_start", "kernel_ship", "kernel_payload", "decode", "BatchRecord", "TOKEN_KEY"]

log = logging.getLogger("toolkit")
TOKEN_KEY = "batch_numbering"  # the key in CohortData._derived naming the batch's numbering of respondents
_SHIPPED: set[str] = set()  # digests this kernel has sent since it started
# A report kernel numbers respondents once for all its reports (one ``ids`` dict shared by every report's record),
# so a respondent set has the same mask in every report: the cohort-wide comparison sets (tens of thousands of
# people on a large cohort, the same frozenset objects in every report) are numbered and digested once per kernel,
# not once per report (≈ 0.5 CPU s a report at 1,000 units). Bounded: cleared together past _MEMO_MAX entries.
_NUMBERING: dict[Any, int] = {}
_MASKS: dict[frozenset, Mask] = {}  # respondent sets -> their masks under _NUMBERING
_MASK_DIGESTS: dict[Mask, str] = {}  # masks under _NUMBERING -> their sets' digests
_MEMO_MAX = 50_000


@dataclass
class KernelRecord(Record):
    """A report's record in a report kernel: numbered with the kernel's respondent numbering, set masks remembered.

    The same as :class:`~toolkit.privacy.release.Record` (same entries, same masks for the same
    people under its numbering); a respondent set given as a ``frozenset`` that an earlier report of
    this kernel released is not numbered again.
    """

    masks: dict[frozenset, Mask] = field(default_factory=dict, repr=False)

    def mask(self, people: Any) -> Mask:
        if type(people) is not frozenset:
            return super().mask(people)
        m = self.masks.get(people)
        if m is None:
            m = self.masks[people] = super().mask(people)
        return m


def kernel_start() -> Record:
    """In a report kernel, before a report: a fresh process-wide record for this report's releases."""
    if len(_NUMBERING) > 20 * _MEMO_MAX or len(_MASKS) > _MEMO_MAX or len(_MASK_DIGESTS) > _MEMO_MAX:
        _NUMBERING.clear()
        _MASKS.clear()
        _MASK_DIGESTS.clear()
    return fresh_process_record(record=KernelRecord(ids=_NUMBERING, masks=_MASKS))


def _digest(people: list[str]) -> str:
    return hashlib.blake2b("\x1f".join(people).encode(), digest_size=16).hexdigest()


def _quantity(q: Any) -> list[str]:
    if isinstance(q, Diff):
        return ["D", q.instrument, q.var, q.wave_a, q.wave_b]
    return ["L", q.instrument, q.var, q.wave]


def _unquantity(q: list[str]) -> Any:
    return Diff(*q[1:]) if q[0] == "D" else Level(*q[1:])


def kernel_payload(rec: Record, token: str | None) -> dict[str, Any]:
    """The record of one report as plain data: entries with set digests, and the sets not sent before."""
    digests = _MASK_DIGESTS if rec.ids is _NUMBERING else {}  # masks mean the same sets across reports only there
    inv: np.ndarray | None = None
    sets: dict[str, list[str]] = {}
    entries = []
    for e in rec.entries:
        d = digests.get(e.mask)
        if d is None or d not in _SHIPPED:
            if inv is None:
                inv = np.array(list(rec.ids), dtype=object)
            people = sorted({str(p) for p in inv[e.mask.positions()]}) if e.mask else []
            d = digests[e.mask] = _digest(people)
            if d not in _SHIPPED:
                sets[d] = people
                _SHIPPED.add(d)
        entries.append([e.output, e.cell, _quantity(e.quantity), d, bool(e.known)])
    return {"numbering": token, "entries": entries, "sets": sets}


def kernel_ship(path: str, ctx: Any = None) -> None:
    """In a report kernel, after a report: write its releases to ``path`` (in the worker's private folder).

    For an authority report (``ctx`` its context) the released values behind the index's key figures
    go with them (:func:`toolkit.reports.index.key_values`, computed with the report's own context,
    their releases in the same record); the batch's parent formats them into the index's figures
    after checking their releases are in this record (:func:`toolkit.reports.index.shipped_key_figures`).
    """
    from ..privacy.release import current_record
    from .context import _MEMO

    values = None
    if ctx is not None and getattr(ctx, "authority", None) is not None:
        from .index import key_values

        try:
            values = json.loads(json.dumps(key_values(ctx), default=str))
        except Exception:  # the parent computes them instead
            log.warning("key figures of %s not computed in the kernel", ctx.authority, exc_info=True)
    data = next(iter(_MEMO.values()), None)
    token = data._derived.get(TOKEN_KEY) if data is not None else None
    payload = kernel_payload(current_record(), token)
    if values is not None:
        payload["key_values"] = values
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(payload, fh)


def decode(payload: dict[str, Any], forwarded: set[str]) -> dict[str, Any]:
    """A worker's copy of a kernel's payload without the sets this worker already forwarded (updates ``forwarded``)."""
    sets = {d: people for d, people in payload.get("sets", {}).items() if d not in forwarded}
    forwarded.update(sets)
    return {**payload, "sets": sets}


class BatchRecord:
    """The audit record of one batch: shipped report records plus the parent's own releases.

    Parameters
    ----------
    k
        Minimum group size of the batch.
    token
        The batch's numbering (records made with another numbering are not used).
    recode
        Maps a respondent id of the parent's (pseudonymous) data to the batch's number.
    """

    def __init__(self, *, k: int, token: str | None, recode: Callable[[Any], Any]) -> None:
        self.record = Record(k=k)
        self.token = token
        self.recode = recode
        self._masks: dict[str, Mask] = {}
        self._pending: list[tuple[str, dict[str, Any] | None]] = []
        self.shipped: set[str] = set()  # report ids whose shipped record was used

    def add_shipped(self, report_id: str, payload: dict[str, Any] | None) -> None:
        """Keep one rendered report's shipped record (in arrival order: a set travels with its first report)."""
        self._pending.append((report_id, payload))

    def resolve(self) -> None:
        """Add the kept records made with this batch's numbering; a missing or unusable one is left out
        (:attr:`shipped` does not list its report, so the caller renders that report itself)."""
        pending, self._pending = self._pending, []
        for report_id, payload in pending:
            if not payload or self.token is None or payload.get("numbering") != self.token:
                log.info("no usable release record from the kernel of %s; the audit renders that report itself", report_id)
                continue
            for d, people in payload.get("sets", {}).items():
                if d not in self._masks:
                    self._masks[d] = self.record.mask(people)
            try:
                rows = [(o, c, _unquantity(q), self._masks[d], known) for o, c, q, d, known in payload["entries"]]
            except (KeyError, TypeError, ValueError, IndexError):  # a set never received, or a damaged record
                log.warning("release record of %s unusable; the audit renders that report itself", report_id)
                continue
            for o, c, q, m, known in rows:
                self.record.add_mask(o, c, q, m, known=known)
            self.shipped.add(report_id)

    def add_parent(self, rec: Record) -> None:
        """Add releases made in the parent (pseudonymous ids), in the batch's numbers.

        Each of the parent's respondents in a release is recoded once (not once per release it is in): ``to_batch``
        maps the parent's bits to the batch record's; the respondents the batch has not numbered yet get its next
        bits in the parent's bit order (so sets that are neighbours in the parent's numbering stay neighbours)."""
        inv = list(rec.ids)
        to_batch = np.full(len(inv), -1, dtype=np.int64)
        out = self.record
        positions = [e.mask.positions() for e in rec.entries]
        if positions:
            used = np.unique(np.concatenate(positions))
            with out._lock:
                ids = out.ids
                for b in used.tolist():
                    to_batch[b] = ids.setdefault(self.recode(inv[b]), len(ids))
        for e, bits in zip(rec.entries, positions):
            out.add_mask(e.output, e.cell, e.quantity, Mask.from_positions(to_batch[bits]), known=e.known)
