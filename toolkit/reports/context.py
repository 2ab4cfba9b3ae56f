"""Cohort-wide data for the reports, computed once per batch and shared.

Every authority report compares with its ministry and the whole cohort, so
each needs the cohort's answers and scores. :func:`cohort_data` reads them from
the store once, computes the cohort-wide analyses lazily (dimension scores,
gaps, readiness, reliabilities, ...) and memoises them per process, keyed by
``Store.fingerprint()``. The batch renderer computes them once in the parent
process and hands them to its report kernels in a private temporary folder
(mode 0700, removed when the batch ends; ``UPO_REPORT_CACHE``), never in the
output folder. The file is signed with a random per-batch secret that only the
batch's kernels get (``UPO_REPORT_CACHE_KEY``); a file that is not signed with it,
or a folder that others can write, is never unpickled. It holds no more than the
reports need: participants as per-batch numbers instead of pseudonyms, and free
text only of groups that reach the minimum group size.
A notebook run by hand (no cache) simply computes what it needs.

Example
-------
>>> import tempfile, pathlib
>>> from toolkit.demo import build_demo
>>> db = pathlib.Path(tempfile.mkdtemp()) / "d.sqlite"
>>> build_demo(db, n_authorities=2, seed=1).close()
>>> data = cohort_data(db)
>>> sorted(data.authorities["authority"]) == sorted(data.counts["authority"].unique())
True
"""

from __future__ import annotations

import dataclasses
import gc
import hashlib
import hmac
import logging
import os
import pickle
import sqlite3
import stat
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pandas as pd

from ..instruments import Instrument
from ..store import Store, resolve_location

__all__ = ["CohortData", "cohort_data", "shared_cohort_data", "install_cohort_data", "write_cohort_cache", "CACHE_ENV", "CACHE_KEY_ENV"]

log = logging.getLogger("toolkit")
CACHE_ENV = "UPO_REPORT_CACHE"
CACHE_KEY_ENV = "UPO_REPORT_CACHE_KEY"
_MEMO: dict[tuple[str, str], "CohortData"] = {}
_GC = {"seen": False}  # has this process loaded cohort data before (see cohort_data: gc.freeze)


class _Packed:
    """A frame pickled with its repetitive string columns as codes into their distinct values (see
    :meth:`CohortData.__getstate__`); unpacked, the frame is equal to the original, column for column and dtype for
    dtype (``str`` columns, and ``object`` columns of ``str``)."""

    __slots__ = ("dtypes", "frame")

    MIN_ROWS = 1000  # smaller frames are pickled as they are

    def __init__(self, frame: pd.DataFrame, dtypes: dict[Any, Any]) -> None:
        self.frame, self.dtypes = frame, dtypes

    def __getstate__(self) -> tuple[pd.DataFrame, dict[Any, Any]]:
        return self.frame, self.dtypes

    def __setstate__(self, state: tuple[pd.DataFrame, dict[Any, Any]]) -> None:
        self.frame, self.dtypes = state

    @classmethod
    def of(cls, value: Any) -> Any:
        """``value`` itself unless it is a frame with string columns worth packing."""
        if not isinstance(value, pd.DataFrame) or len(value) < cls.MIN_ROWS or not value.columns.is_unique:
            return value
        from pandas.api.types import infer_dtype

        packed: dict[Any, pd.Categorical] = {}
        for c in value.columns:
            col = value[c]
            if isinstance(col.dtype, pd.StringDtype):
                if col.hasnans:
                    continue
            elif col.dtype != object or infer_dtype(col, skipna=False) != "string":  # object: only columns of str
                continue
            codes, uniques = pd.factorize(col, sort=False)
            if len(uniques) * 2 <= len(col):
                packed[c] = pd.Categorical.from_codes(codes, categories=pd.Index(uniques, dtype=col.dtype))
        if not packed:
            return value
        frame = value.copy(deep=False)
        dtypes = {c: value[c].dtype for c in packed}
        for c, cat in packed.items():
            frame[c] = cat
        return cls(frame, dtypes)

    @staticmethod
    def unpack(value: Any) -> Any:
        if not isinstance(value, _Packed):
            return value
        frame = value.frame
        for c, dtype in value.dtypes.items():
            cat = frame[c].array
            if dtype == object:  # each distinct string one object, shared by its rows
                frame[c] = pd.Series(cat.categories.to_numpy(dtype=object).take(cat.codes), index=frame.index, dtype=object)
            elif getattr(dtype, "storage", None) == "pyarrow":  # decoded by Arrow (astype goes row by row: 100× slower)
                import pyarrow as pa

                words = pa.array(cat.categories.to_numpy(dtype=object), type=pa.large_string())
                decoded = pa.DictionaryArray.from_arrays(pa.array(cat.codes.astype("int32")), words).dictionary_decode()
                frame[c] = pd.Series(dtype.__from_arrow__(decoded), index=frame.index)
            else:
                frame[c] = frame[c].astype(dtype)
        return frame


@dataclass
class CohortData:
    """The cohort's answers plus lazily computed cohort-wide analyses.

    Attributes
    ----------
    fingerprint
        ``Store.fingerprint()`` of the data this was computed from.
    cohort, authorities, waves, instrument_table
        Cohort settings and the store's tables (see :class:`~toolkit.store.Store`).
    instruments
        Stored instruments by id (latest version).
    responses, texts
        Tidy answer frames per instrument id (the whole cohort).
    counts
        ``authority, instrument, wave, n``: participants per authority, instrument and wave.
    """

    db: str
    fingerprint: str
    cohort: dict[str, Any]
    authorities: pd.DataFrame
    waves: pd.DataFrame
    instrument_table: pd.DataFrame
    instruments: dict[str, Instrument]
    responses: dict[str, pd.DataFrame]
    texts: dict[str, pd.DataFrame]
    counts: pd.DataFrame
    data_date: str | None
    _derived: dict[str, Any] = field(default_factory=dict, repr=False)
    _local: dict[Any, Any] = field(default_factory=dict, init=False, repr=False, compare=False)  # per process, never pickled

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_local"] = {}  # indexes and per-process results stay in their process (not in the batch cache)
        # the answer frames repeat a few strings in every row (instrument, dimension, item, authority, ...): pickled
        # as codes + distinct values, a fifth of the bytes, and each kernel holds each string once
        state["responses"] = {i: _Packed.of(f) for i, f in self.responses.items()}
        state["texts"] = {i: _Packed.of(f) for i, f in self.texts.items()}
        state["_derived"] = {k: _Packed.of(v) for k, v in self._derived.items()}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name in ("responses", "texts", "_derived"):
            state[name] = {k: _Packed.unpack(v) for k, v in state[name].items()}
        self.__dict__.update(state)

    # ------------------------------------------------------------------ instruments by kind
    def _first(self, pred: Callable[[Instrument], bool], preferred: str) -> Instrument | None:
        if preferred in self.instruments and pred(self.instruments[preferred]):
            return self.instruments[preferred]
        for inst in self.instruments.values():
            if pred(inst):
                return inst
        return None

    @property
    def competence(self) -> Instrument | None:
        """The self-assessment instrument (likert dimensions with Ist/Soll levels)."""
        return self._first(lambda i: any(it.type == "likert" for it in i.items), "competence_reflection")

    @property
    def stakeholder(self) -> Instrument | None:
        """The stakeholder analysis instrument (ratings per stakeholder)."""
        return self._first(lambda i: i.is_stakeholder_instrument, "stakeholder_analysis")

    @property
    def checklist(self) -> Instrument | None:
        """The readiness checklist instrument."""
        return self._first(lambda i: any(it.type == "checklist" for it in i.items), "reality_check")

    def wave_labels(self) -> list[str]:
        return list(self.waves["wave"])

    # ------------------------------------------------------------------ derived, memoised
    def derived(self, name: str, compute: Callable[[], Any]) -> Any:
        """A cohort-wide result computed once and kept (and pickled into the batch cache)."""
        if name not in self._derived:
            self._derived[name] = compute()
        return self._derived[name]

    def local(self, name: Any, compute: Callable[[], Any]) -> Any:
        """A result computed once per process and kept there (never pickled into the batch cache).

        For what every report of a process reads again: per-wave parts of cohort-wide frames,
        respondent sets, indexes.
        """
        if name not in self._local:
            self._local[name] = compute()
        return self._local[name]

    def rows_of(self, frame: pd.DataFrame, value: Any, column: str = "authority") -> pd.DataFrame:
        """The rows of ``frame`` whose ``column`` equals ``value``: ``frame[frame[column] == value]``, same rows, order and index.

        The positions of every value are found once per frame and process (one pass over the
        cohort-wide frame), so one authority's slice costs its own size, not the cohort's.
        ``frame`` must be a frame this object keeps (its answers, a derived result or a
        :meth:`local` one), as the index is kept by the frame's identity.
        """
        if frame.empty:  # e.g. the fresh empty frame of an instrument nobody answered: nothing to index (or keep)
            return frame.iloc[0:0]
        key = ("rows_of", id(frame), column)
        hit = self._local.get(key)
        if hit is None or hit[0] is not frame:  # the frame is kept with its index, so its id is not reused meanwhile
            hit = (frame, _positions(frame.groupby(frame[column], observed=True, sort=False).indices))
            self._local[key] = hit
        idx = hit[1].get(value)
        return frame.iloc[idx] if idx is not None else frame.iloc[0:0]

    def rsp(self, inst: Instrument | None) -> pd.DataFrame:
        """The whole cohort's responses to an instrument (empty frame if none)."""
        if inst is None or inst.id not in self.responses:
            return pd.DataFrame(columns=["authority", "ministry", "participant", "wave", "instrument", "dimension", "item", "stakeholder", "value"])
        return self.responses[inst.id]

    def scores(self) -> pd.DataFrame:
        """Dimension scores of the competence instrument, whole cohort."""
        from ..scoring import dimension_scores

        inst = self.competence
        return self.derived("scores", lambda: dimension_scores(self.rsp(inst), inst))

    def gaps(self) -> pd.DataFrame:
        """Ist/Soll gaps of the competence instrument, whole cohort."""
        from ..scoring import gaps

        inst = self.competence
        return self.derived("gaps", lambda: gaps(self.rsp(inst), inst))

    def readiness(self) -> pd.DataFrame:
        """Readiness per participant and area (checklist instrument), whole cohort."""
        from ..scoring import readiness

        inst = self.checklist
        return self.derived("readiness", lambda: readiness(self.rsp(inst), inst))

    def reliability(self, instrument_id: str, wave: str) -> pd.DataFrame:
        """Reliability per dimension for one instrument and wave, whole cohort."""
        from ..stats import reliability

        inst = self.instruments[instrument_id]

        def compute() -> pd.DataFrame:
            r = self.rsp(inst)
            return reliability(r[r["wave"] == wave], inst)

        return self.derived(f"reliability:{instrument_id}:{wave}", compute)

    def stakeholder_maps(self, lang: str = "de") -> pd.DataFrame:
        """Stakeholder maps of every authority (each at its latest wave) in one pass."""
        from ..stakeholders import stakeholder_map

        inst = self.stakeholder
        return self.derived(f"smap:{lang}", lambda: stakeholder_map(self.rsp(inst), inst, lang=lang))

    def change_by_authority(self, from_wave: str, to_wave: str) -> pd.DataFrame:
        """Paired change per authority (Holm within each authority), all authorities in one pass."""
        from ..stats import paired_change

        return self.derived(f"change:{from_wave}:{to_wave}", lambda: paired_change(self.scores(), from_wave, to_wave, by="authority"))

    def change_decisions(self, a: str, b: str, k: int) -> pd.DataFrame:
        """Paired change of every authority with the disclosure planner's decisions (all authorities, not recorded).

        The planner decides every wave pair of the cohort at once and is by far the most expensive
        cohort-wide step; computed here (and kept under the key the report sections read,
        ``change_levels:A:B:K``), it travels to the report kernels in the batch cache instead of
        being recomputed by every kernel after each start.
        """
        from ..privacy import change_levels
        from ..privacy.release import unrecorded

        def compute() -> pd.DataFrame:
            with unrecorded():  # decisions only; each report records its own rows
                return change_levels(self.scores(), a, b, by="authority", k=k, instrument=self.competence.id, output="plan",
                                     paired=self.change_by_authority(a, b), waves=self.wave_labels())

        return self.derived(f"change_levels:{a}:{b}:{k}", compute)

    def _plan(self, k: int, pmap: Callable[..., Any]) -> None:
        """The planner's decisions of every wave pair (memoised for :meth:`change_decisions`), dimensions through ``pmap``;
        if that fails, :meth:`change_decisions` decides them here."""
        from ..privacy import change_plan_all

        try:
            change_plan_all(self.scores(), k=k, instrument=self.competence.id, waves=self.wave_labels(), pmap=pmap)
        except Exception as exc:
            log.warning("the planner's dimensions could not be decided on the workers (%s); deciding them here", exc)

    def precompute(self, lang: str = "de", *, pmap: Callable[..., Any] | None = None) -> None:
        """Compute the cohort-wide analyses the reports need (before pickling).

        Everything per authority that can be computed for all authorities in one pass is
        done here, once per batch, while the report kernels start. ``pmap`` (see
        :func:`toolkit.privacy.change_plan_all`) decides the planner's dimensions in parallel,
        e.g. on the batch's workers, while this process computes the rest.
        """
        jobs: list[Callable[[], Any]] = []
        planner: list[Callable[[], Any]] = []  # the most expensive step, last (or beside the others: pmap)
        if self.competence is not None:
            jobs += [self.scores, self.gaps]
            cid = self.competence.id
            c = self.counts[self.counts["instrument"] == cid]
            waves = [w for w in self.wave_labels() if w in set(c["wave"])]
            if waves:
                jobs.append(lambda: self.reliability(cid, waves[0]))
            for later in waves[1:]:
                jobs.append(lambda later=later: self.change_by_authority(waves[0], later))
            k = int(self.cohort["min_group_size"])
            for j, b in enumerate(waves):
                for a in waves[:j]:
                    planner.append(lambda a=a, b=b: self.change_decisions(a, b, k))
        if self.checklist is not None:
            jobs.append(self.readiness)
        if self.stakeholder is not None and not self.rsp(self.stakeholder).empty:
            jobs.append(lambda: self.stakeholder_maps(lang))
        beside = None
        if pmap is not None and planner:
            # the dimensions are decided on the workers while this process computes the other analyses
            self.scores()
            beside = threading.Thread(target=self._plan, args=(k, pmap), name="upo-planner", daemon=True)
            beside.start()
        if beside is None:
            jobs += planner
        for job in jobs:
            try:
                job()
            except ImportError as exc:  # an analysis module that is not there yet
                log.info("report cache: skipped %s", exc)
        if beside is not None:
            beside.join()
            for job in planner:  # from the planner's memo
                job()

    def first_wave(self, instrument_id: str) -> str | None:
        c = self.counts[self.counts["instrument"] == instrument_id]
        waves = [w for w in self.wave_labels() if w in set(c["wave"])]
        return waves[0] if waves else None


def _positions(indices: dict[Any, Any]) -> dict[Any, Any]:
    """Each group's row positions (ascending, from ``groupby(...).indices``), as a ``slice`` where they are one run of
    consecutive rows (the cohort's frames are stored authority by authority): ``iloc`` with a slice gives the same rows,
    order and index labels as with the positions, without gathering every column (with string columns ~10x cheaper)."""
    out: dict[Any, Any] = {}
    for value, idx in indices.items():
        n = len(idx)
        out[value] = slice(int(idx[0]), int(idx[0]) + n) if n and int(idx[-1]) - int(idx[0]) + 1 == n else idx
    return out


def _load(db: str | Path) -> CohortData:
    store = Store(db)
    try:
        fp = store.fingerprint()
        table = store.instruments()
        instruments = {i: store.instrument(i) for i in table["instrument"].unique()}
        responses, texts = {}, {}
        for i, inst in instruments.items():  # answers and free text from one pass where the instrument has text items
            if any(it.type == "text" for it in inst.items):
                responses[i], texts[i] = store.responses_and_texts(i)
            else:
                responses[i] = store.responses(i)
        parts = [
            r.groupby(["authority", "instrument", "wave"], observed=True)["participant"].nunique().rename("n").reset_index()
            for r in responses.values()
            if not r.empty
        ]
        counts = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["authority", "instrument", "wave", "n"])
        counts["wave"] = counts["wave"].astype(str)
        latest = store.latest_submitted_at()
        data_date = latest[:10] if latest is not None else None
        return CohortData(
            db=str(resolve_location(db)),
            fingerprint=fp,
            cohort=store.cohort(),
            authorities=store.authorities(),
            waves=store.waves(),
            instrument_table=table,
            instruments=instruments,
            responses=responses,
            texts=texts,
            counts=counts,
            data_date=data_date,
        )
    finally:
        store.close()


def _cache_file(folder: str | Path, fingerprint: str) -> Path:
    return Path(folder) / f"cohort-{fingerprint[:24]}.pkl"


def cohort_data(db: str | Path, *, cache_dir: str | Path | None = None) -> CohortData:
    """The cohort data for ``db``: from this process's memo, the batch cache, or freshly read.

    Parameters
    ----------
    db
        The cohort database file.
    cache_dir
        Folder of batch cache files (default: ``$UPO_REPORT_CACHE`` if set).
    """
    location = resolve_location(db)
    path = str(location)
    fp = _unchanged(path)
    if fp is None:
        watch = _watch(location)  # before the fingerprint: a commit after this is seen by the next call
        with Store(path) as store:
            fp = store.fingerprint()
        if watch is not None:
            _remember(path, watch, fp)
    memo = _MEMO.get((path, fp))
    if memo is not None:
        return memo
    folder = cache_dir or os.environ.get(CACHE_ENV)
    secret = os.environ.get(CACHE_KEY_ENV)
    data: CohortData | None = None
    if folder and secret:
        data = _read_cache(_cache_file(folder, fp), bytes.fromhex(secret))
    if data is None or data.fingerprint != fp:
        data = _load(path)
    first = not _MEMO and not _GC["seen"]
    _GC["seen"] = True
    if not first:
        gc.unfreeze()  # another cohort (or changed data): the frozen objects may be collected again; nothing is frozen again
    _MEMO.clear()  # one cohort per process at a time keeps memory flat
    _MEMO[(path, fp)] = data
    if first:
        # a report process works on one cohort: its frames and sets, just loaded, are exempt from the cyclic
        # collector, which otherwise walks them again in every full collection while a report draws its figures
        # (a few % of a report); later garbage is collected as before
        gc.freeze()
    return data


# The fingerprint reads every submission of the cohort: per report, that is a cost growing with the cohort.
# For a SQLite file, one read-only connection per process tells whether anything was committed since the
# fingerprint was computed (PRAGMA data_version changes with every commit by any other connection), so a
# warm process computes it again only when the data changed. PostgreSQL: computed every time.
_WATCHED: dict[str, tuple[sqlite3.Connection, int, tuple[int, int], str]] = {}


def _watch(location: Any) -> tuple[sqlite3.Connection, int, tuple[int, int]] | None:
    """A read-only connection to a SQLite file with its current data version and file identity (None if not possible)."""
    if not isinstance(location, Path):
        return None
    try:
        st = os.stat(location)
        conn = sqlite3.connect(f"{location.as_uri()}?mode=ro", uri=True, check_same_thread=False)
        version = int(conn.execute("PRAGMA data_version").fetchone()[0])
    except (OSError, sqlite3.Error, ValueError):
        return None
    return conn, version, (st.st_dev, st.st_ino)


def _remember(path: str, watch: tuple[sqlite3.Connection, int, tuple[int, int]], fingerprint: str) -> None:
    for old in _WATCHED.values():  # one cohort per process, like the memo
        old[0].close()
    _WATCHED.clear()
    _WATCHED[path] = (*watch, fingerprint)


def _unchanged(path: str) -> str | None:
    """The fingerprint computed before for this SQLite file if nothing was committed to it since, else None."""
    hit = _WATCHED.get(path)
    if hit is None:
        return None
    conn, version, ident, fingerprint = hit
    try:
        st = os.stat(path)
        if (st.st_dev, st.st_ino) == ident and int(conn.execute("PRAGMA data_version").fetchone()[0]) == version:
            return fingerprint
    except (OSError, sqlite3.Error):
        pass
    conn.close()
    del _WATCHED[path]
    return None


def _private(folder: Path) -> bool:
    """True for a folder of ours that nobody else can write or read (a batch's own temporary folder)."""
    try:
        st = folder.stat()
    except OSError:
        return False
    return stat.S_ISDIR(st.st_mode) and (os.name != "posix" or (st.st_uid == os.getuid() and not st.st_mode & 0o077))


def _read_cache(f: Path, secret: bytes) -> "CohortData | None":
    """The batch cache, only from a private folder and only if signed with this batch's secret; else None."""
    if not f.exists():
        return None
    if not _private(f.parent):
        log.warning("report cache %s ignored: its folder is not private", f.parent)
        return None
    try:
        blob = f.read_bytes()
    except OSError:
        return None
    sig, payload = blob[:32], blob[32:]
    if len(blob) < 32 or not hmac.compare_digest(sig, hmac.new(secret, payload, hashlib.sha256).digest()):
        log.warning("report cache %s ignored: not written by this batch", f)
        return None
    try:
        data = pickle.loads(payload)  # signed by the parent process of this batch: not a foreign file
    except Exception:
        log.warning("report cache %s unreadable; recomputing", f)
        return None
    return data if isinstance(data, CohortData) else None


def _first(column: pd.Series) -> Any:
    """The first non-missing value of a column (None if there is none)."""
    i = column.reset_index(drop=True).first_valid_index()
    return None if i is None else column.iloc[i]


def _numbering(data: CohortData) -> dict[Any, str]:
    """The batch's numbers of the participants: pseudonym -> ``R1``, ``R2``, ... in order of appearance."""
    seen: dict[Any, str] = {}
    for frame in [*data.responses.values(), *data.texts.values()]:
        for p in pd.unique(frame["participant"]):
            seen.setdefault(p, f"R{len(seen) + 1}")
    return seen


def _recoder(seen: dict[Any, str]) -> Callable[[Any], Any]:
    done: dict[Any, Any] = {}  # the same people recur in many sets

    def recode_id(p: Any) -> Any:  # a participant, or "authority|participant" as the disclosure planner names people
        hit = done.get(p)
        if hit is not None:
            return hit
        if p in seen:
            out = seen[p]
        elif isinstance(p, str) and "|" in p:
            authority, who = p.rsplit("|", 1)
            out = f"{authority}|{seen.get(who, who)}"
        else:
            out = p
        done[p] = out
        return out

    return recode_id


def batch_numbering(data: CohortData) -> tuple[str, Callable[[Any], Any]] | None:
    """``(token, recode)`` of the last minimised copy of ``data`` (None before one was made).

    The token names the numbering the report kernels see; ``recode`` maps the parent's
    respondent ids (``authority|pseudonym``) to the kernels' (``authority|R17``).
    """
    return getattr(data, "_batch_numbering", None)


def _minimised(data: CohortData) -> CohortData:
    """A copy for the report kernels: per-batch numbers instead of pseudonyms, free text only of groups of k or more."""
    import secrets

    from .releases import TOKEN_KEY

    k = int(data.cohort["min_group_size"])
    seen = _numbering(data)
    recode_id = _recoder(seen)
    token = secrets.token_hex(8)
    data._batch_numbering = (token, recode_id)  # type: ignore[attr-defined]  (the parent's audit maps its own releases)

    def recode_set(people: Any) -> Any:
        return frozenset(recode_id(p) for p in people)

    def recode(df: Any) -> Any:
        if not isinstance(df, pd.DataFrame) or not seen:
            return df
        sets = [c for c in df.columns if df[c].dtype == object and isinstance(_first(df[c]), (set, frozenset))]
        if "participant" in df.columns or sets:
            df = df.copy()
        if "participant" in df.columns:  # through the distinct values: a map over every row costs seconds on large cohorts
            codes, uniques = pd.factorize(df["participant"])
            if len(codes) and (codes >= 0).all():
                mapped = pd.Series(uniques).map(seen).fillna(pd.Series(uniques))
                df["participant"] = mapped.array.take(codes)
            else:
                df["participant"] = df["participant"].map(seen).fillna(df["participant"])
        for c in sets:  # respondent sets (e.g. the planner's pairs): the same numbers as the answers
            df[c] = [recode_set(x) if isinstance(x, (set, frozenset)) else x for x in df[c]]
        return df

    texts = {}
    for inst_id, frame in data.texts.items():
        frame = recode(frame)
        resp = data.responses.get(inst_id, pd.DataFrame(columns=["authority", "wave", "participant"]))  # counts: numbering irrelevant
        n_resp = resp.groupby(["authority", "wave"], observed=True)["participant"].nunique()
        n_text = frame.groupby(["authority", "wave"], observed=True)["participant"].nunique()
        keys = list(zip(frame["authority"], frame["wave"]))
        n = [n_resp.get(key, 0) or n_text.get(key, 0) for key in keys]
        frame.loc[[x < k for x in n], "text"] = None  # the row stays (the report still sees the wave), the words go
        texts[inst_id] = frame
    return dataclasses.replace(
        data,
        responses={i: recode(r) for i, r in data.responses.items()},
        texts=texts,
        _derived={**{name: recode(v) for name, v in data._derived.items()}, TOKEN_KEY: token},
    )


def shared_cohort_data(db: str | Path, *, lang: str = "de", pmap: Callable[..., Any] | None = None) -> CohortData:
    """The cohort-wide data handed to report workers: read once, shared analyses computed once.

    The one place that decides what the workers get: the built-in pool installs it
    into the batch cache (:func:`write_cohort_cache`); the Dask path scatters it to
    the workers, each installs it for its kernel (:func:`install_cohort_data`).
    """
    data = cohort_data(db)
    data.precompute(lang, pmap=pmap)
    return data


def write_cohort_cache(db: str | Path, cache_dir: str | Path, *, lang: str = "de", secret: bytes,
                       pmap: Callable[..., Any] | None = None) -> Path:
    """Compute the cohort data with its shared analyses and write the signed batch cache file."""
    return install_cohort_data(shared_cohort_data(db, lang=lang, pmap=pmap), cache_dir, secret=secret)


def install_cohort_data(data: CohortData, cache_dir: str | Path, *, secret: bytes) -> Path:
    """Write computed cohort data, minimised and signed, where report kernels find it.

    ``cache_dir`` must be a private folder (0700, e.g. from :func:`tempfile.mkdtemp`); ``secret``
    is the batch's random key, given to the kernels as ``UPO_REPORT_CACHE_KEY`` (``$UPO_REPORT_CACHE``
    names the folder).
    """
    return install_cache_payload(data.fingerprint, cache_payload(data), cache_dir, secret=secret)


def cache_payload(data: CohortData) -> bytes:
    """The minimised copy of computed cohort data as the bytes of a batch cache file (before signing): made once
    per batch (a Dask batch sends these bytes to its workers, which only sign and write them)."""
    minimised = _minimised(data)
    warm_report_plans(minimised)
    return pickle.dumps(minimised, protocol=pickle.HIGHEST_PROTOCOL)


def _fullest_authority(data: CohortData) -> str | None:
    """The authority with answers in the most (instrument, wave) cells: its report needs the most cohort-wide plans."""
    c = data.counts[data.counts["n"] > 0]
    if c.empty:
        return None
    cells = c.groupby("authority", observed=True).size()
    known = set(data.authorities["authority"])
    for authority in cells.sort_values(ascending=False, kind="stable").index:
        if authority in known:
            return str(authority)
    return None


def warm_report_plans(data: CohortData, lang: str = "de") -> None:
    """Compute the cohort-wide plans the authority reports' sections keep in :meth:`CohortData.derived` (e.g. every
    authority's, ministry's and the cohort's released levels per wave) once, here, so that they travel in the batch
    cache instead of being recomputed by every report kernel after each (re)start: several CPU seconds per kernel start
    on a cohort of 1,000 units, growing with the cohort.

    ``data`` is the minimised copy the kernels get (:func:`_minimised`: the batch's numbers), so what is computed here
    is what a kernel would compute from it. The plans are those of one report (the authority with answers in the most
    waves and instruments), computed directly by the sections' plan functions (``report_plans`` of
    :mod:`~toolkit.reports.sec_competence` and :mod:`~toolkit.reports.sec_stakeholders`): no section is built,
    nothing released or recorded, no figure drawn. What other reports need beyond these is still computed by the
    kernels as before. A failure only leaves the plans to the kernels.
    """
    authority = _fullest_authority(data)
    if authority is None:
        return
    from ..privacy.release import unrecorded
    from . import sec_competence, sec_stakeholders
    from .base import AuthorityContext

    row = data.authorities[data.authorities["authority"] == authority].iloc[0]
    ctx = AuthorityContext(data, authority, str(row["name"] or authority), row["ministry"], lang, int(data.cohort["min_group_size"]))
    try:
        with unrecorded():
            for plans in (sec_competence.report_plans, sec_stakeholders.report_plans):
                try:
                    plans(ctx)
                except ImportError as exc:  # an analysis module that is not there yet, as in precompute
                    log.info("report cache: skipped %s", exc)
    except Exception:  # the kernels compute what is missing, and report any error themselves
        log.warning("report cache: the reports' cohort-wide plans are left to the report kernels", exc_info=True)
    finally:
        data._local.clear()  # per process; never pickled anyway


def install_cache_payload(fingerprint: str, payload: bytes, cache_dir: str | Path, *, secret: bytes) -> Path:
    """Sign :func:`cache_payload` bytes with ``secret`` and write them where report kernels find them (see
    :func:`install_cohort_data`)."""
    folder = Path(cache_dir)
    if not _private(folder):
        raise ValueError(f"{folder}: the report cache needs a private folder (mode 0700)")
    target = _cache_file(folder, fingerprint)
    tmp = target.with_name(target.name + f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(hmac.new(secret, payload, hashlib.sha256).digest() + payload)
    os.replace(tmp, target)
    return target
