"""State of the facilitator dashboard: live counts and privacy-applied aggregates.

:class:`DashboardState` recomputes only when :meth:`Store.data_version` changed;
:class:`Poller` calls it from a background thread so the Jupyter kernel stays free.
Every aggregate is released by :mod:`toolkit.privacy` in steps (:class:`toolkit.privacy.LiveRelease`):
the count stays live, an aggregate changes only when at least k new respondents arrived since its
last released state; across authorities the values are over the authorities with k or more.

Example
-------
>>> import tempfile, pathlib
>>> from toolkit.store import Store
>>> db = Store.init(pathlib.Path(tempfile.mkdtemp()) / "c.sqlite")
>>> db.add_authority("BVA"); db.add_wave("t0"); _ = db.add_instrument("reality_check")
>>> dash = DashboardState(db, "reality_check", "t0", authority="BVA")
>>> dash.refresh(), dash.n, dash.visible
(True, 0, False)
>>> dash.refresh()                  # nothing changed: nothing recomputed
False
"""

from __future__ import annotations

import datetime as _dt
import logging
import threading
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from ..instruments import Instrument
from ..store import Store

__all__ = ["DashboardState", "Poller", "dashboard_kind"]

log = logging.getLogger("toolkit")

_MAP_KEEP = {"authority", "ministry", "wave", "stakeholder", "label", "free", "n_raters", "suppressed"}


def dashboard_kind(instrument: Instrument) -> str:
    """What the dashboard shows for an instrument: ``stakeholders``, ``gaps`` (Ist/Soll), ``readiness`` or ``scores``."""
    types = {i.type for i in instrument.items}
    if instrument.is_stakeholder_instrument:
        return "stakeholders"
    if "level" in types:
        return "gaps"
    if "checklist" in types:
        return "readiness"
    return "scores"


class DashboardState:
    """Live aggregates of one workshop session (instrument × wave × optional authority).

    Parameters
    ----------
    store
        The cohort database or its path.
    instrument
        Stored instrument id or :class:`Instrument`.
    wave
        Wave label of the session.
    authority
        Limit to one authority (``None``: every authority of the wave; the stakeholder
        grid then shows :attr:`view_authority`, by default the one with most raters).
    k
        Minimum group size (``None``: the cohort's setting).
    lang
        Labels in ``"de"`` or ``"en"``.

    Attributes
    ----------
    n
        Distinct participants who submitted (always shown: a count reveals no answers).
    visible
        ``n >= k``: aggregates are computed and shown.
    profile, gaps, stakeholders
        Privacy-applied frames (empty while not visible); see :meth:`refresh`.
    """

    def __init__(
        self,
        store: Store | str | Path,
        instrument: str | Instrument,
        wave: str,
        *,
        authority: str | None = None,
        k: int | None = None,
        lang: str = "de",
    ) -> None:
        from ..privacy import resolve_k

        self.store = store if isinstance(store, Store) else Store(store)
        self.instrument = self.store.instrument(instrument) if isinstance(instrument, str) else instrument
        self.store.require_wave(wave)
        if authority is not None:
            self.store.require_authority(authority)
        self.wave = wave
        self.authority = authority
        self.view_authority = authority
        self.k = resolve_k(self.store, k)
        self.lang = lang
        self.kind = dashboard_kind(self.instrument)
        self.version: int | None = None
        self.n = 0
        self.visible = False
        self.updated_at: _dt.datetime | None = None
        self.compute_seconds = 0.0
        self.hidden_groups = 0
        self._lock = threading.RLock()
        self._clear()

    def _clear(self) -> None:
        self.profile = pd.DataFrame()
        self.gaps = pd.DataFrame()
        self.stakeholders = pd.DataFrame()

    # ------------------------------------------------------------------ computing
    def changed(self) -> bool:
        """Whether new data arrived since the last :meth:`refresh` (one cheap query)."""
        return self.store.data_version() != self.version

    def refresh(self, force: bool = False) -> bool:
        """Recompute when the data changed (or ``force``); returns whether it recomputed."""
        with self._lock:
            version = self.store.data_version()
            if version == self.version and not force:
                return False
            start = time.perf_counter()
            self.version = version
            self.n = self.store.count_submissions(self.instrument.id, wave=self.wave, authority=self.authority)
            self.visible = self.n >= self.k
            self._clear()
            if self.visible:
                self._compute()
            self.updated_at = _dt.datetime.now()
            self.compute_seconds = time.perf_counter() - start
            return True

    def set_view_authority(self, authority: str | None) -> None:
        """Which authority's stakeholder grid to show when the session spans several."""
        self.view_authority = authority
        self.refresh(force=True)

    def _labels(self, df: pd.DataFrame) -> pd.DataFrame:
        titles = {d.id: d.title.get(self.lang) for d in self.instrument.dimensions}
        order = {d.id: pos for pos, d in enumerate(self.instrument.dimensions)}
        df.insert(df.columns.get_loc("dimension") + 1, "label", df["dimension"].map(titles))
        return df.sort_values("dimension", key=lambda s: s.map(order), kind="stable").reset_index(drop=True)

    def _live(self) -> Any:
        from ..privacy import live_state

        return live_state((str(getattr(self.store, "path", "")), self.instrument.id, str(self.wave), self.authority), self.k)

    def _stepped(self, frame: pd.DataFrame, key: str, var: Any, estimates: list[str]) -> pd.DataFrame:
        """Each row as the live release gives it: a new value only k new respondents after the last one."""
        from ..privacy import Level

        live = self._live()
        rows = []
        for _, r in frame.iterrows():
            if bool(r["suppressed"]):
                rows.append(r.drop(labels=["who"]))
                continue
            q = Level(self.instrument.id, var(r), str(self.wave))
            rel = live.step((key, str(r[frame.columns[0]])), r["who"], r.drop(labels=["who"]).to_dict(), quantity=q, output="dashboard",
                            cell=f"{key}/{r[frame.columns[0]]}")
            out = pd.Series(rel.value) if rel.shown else r.drop(labels=["who"])
            if rel.shown and rel.reason:
                out["reason"] = rel.reason
            rows.append(out)
        return pd.DataFrame(rows).reset_index(drop=True) if rows else frame.drop(columns=["who"])

    def _compute(self) -> None:
        from ..privacy import levels, rank_shown, recording, respondents, shown_cells

        # one wave: cross-wave linking of codes is not needed (and costs time on every refresh)
        resp = self.store.responses(self.instrument.id, wave=self.wave, authority=self.authority, linked=False)
        if resp.empty:
            return
        if self.kind == "stakeholders":
            self._compute_stakeholders(resp)
            return
        if self.kind == "readiness":
            from ..scoring import readiness

            scores = readiness(resp, self.instrument)
        else:
            from ..scoring import dimension_scores

            scores = dimension_scores(resp, self.instrument)
        scores = scores.assign(wave=scores["wave"].astype(str), dimension=scores["dimension"].astype(str))
        by = "authority" if self.authority is not None else None  # across authorities: over the shown authorities only
        with recording():  # decided here, recorded by the live step
            prof = levels(scores, by, k=self.k, instrument=self.instrument.id, output="dashboard")
        prof = prof.drop(columns=["wave", *([by] if by else [])])
        prof = self._stepped(prof, "profile", lambda r: str(r["dimension"]), [])
        self.profile = self._labels(prof)
        if self.kind == "gaps":
            from ..scoring import gaps, needs_ranking

            g = gaps(resp, self.instrument).assign(dimension=lambda d: d["dimension"].astype(str))
            if self.authority is None:  # over the authorities shown in that dimension
                cells = shown_cells(g.assign(score=g["needs"]), k=self.k, cell=("dimension",))
                ok = set(zip(cells.loc[cells["shown"], "dimension"], cells.loc[cells["shown"], "authority"].astype(str)))
                g = g[[(d, str(a)) in ok for d, a in zip(g["dimension"], g["authority"])]]
            ranking = needs_ranking(g, by=None) if not g.empty else pd.DataFrame(columns=["dimension", "n", "ist", "soll", "gap", "importance", "needs", "rank"])
            sets = respondents(g, "dimension", "needs")
            ranking["who"] = [sets.get(d, frozenset()) for d in ranking["dimension"]]
            ranking["n"] = ranking["who"].map(len)
            est = ["ist", "soll", "gap", "importance", "needs", "rank"]
            ranking["suppressed"] = ranking["n"] < self.k
            ranking["reason"] = np.where(ranking["suppressed"], "too_few", None)
            ranking.loc[ranking["suppressed"], est] = np.nan
            ranking = self._stepped(ranking, "needs", lambda r: f"needs:{r['dimension']}", est)
            if not ranking.empty:
                ranking["rank"] = rank_shown(ranking, "needs")  # ranks over shown values only
                self.gaps = self._labels(ranking)

    def _compute_stakeholders(self, resp: pd.DataFrame) -> None:
        from ..privacy import Level
        from ..stakeholders import stakeholder_map

        counts = resp.groupby("authority", observed=True)["participant"].nunique()
        if self.view_authority is None or self.view_authority not in counts.index:
            self.view_authority = str(counts.idxmax())
        if counts.get(self.view_authority, 0) < self.k:
            self.hidden_groups = 0
            return
        sub = resp[resp["authority"] == self.view_authority]
        smap = stakeholder_map(sub, self.instrument, lang=self.lang)
        v = sub[sub["stakeholder"].notna() & sub["value"].notna()]
        ids = v["authority"].astype(str) + "|" + v["participant"].astype(str)
        raters = {str(x): frozenset(g) for x, g in ids.groupby(v["stakeholder"].astype(str))}
        live = self._live()
        rows, hidden = [], 0
        for _, r in smap.iterrows():
            sid = str(r["stakeholder"])
            rel = live.step(("stakeholder", self.view_authority, sid), raters.get(sid, frozenset()), r.to_dict(),
                            quantity=Level(self.instrument.id, f"stakeholder:{sid}", str(self.wave)), output="dashboard", cell=f"stakeholders/{sid}")
            if rel.shown:
                rows.append({**rel.value, "suppressed": False, "reason": rel.reason})
            elif bool(r.get("free")):
                hidden += 1  # a free entry typed by fewer than k raters is itself free text: do not show its name
            else:
                keep = {c: r[c] if c in _MAP_KEEP else (np.nan if pd.api.types.is_float_dtype(smap[c].dtype) else None) for c in smap.columns}
                rows.append({**keep, "suppressed": True, "reason": rel.reason})
        self.hidden_groups = hidden
        out = pd.DataFrame(rows).reset_index(drop=True) if rows else pd.DataFrame()
        for c in out.columns:  # derived labels of hidden rows stay None, not NaN
            if c in smap.columns and not pd.api.types.is_float_dtype(smap[c].dtype):
                out[c] = out[c].astype(object).where(out[c].notna(), None)
        self.stakeholders = out

    # ------------------------------------------------------------------ freezing
    def payload(self) -> dict[str, Any]:
        """The shown (privacy-applied) result as JSON-ready data, for :meth:`freeze`."""

        def records(df: pd.DataFrame) -> list[dict[str, Any]]:
            if df.empty:
                return []
            clean = df.astype(object).where(pd.notna(df), None)
            return [{k: (v.item() if isinstance(v, np.generic) else v) for k, v in r.items()} for r in clean.to_dict("records")]

        return {
            "instrument": self.instrument.id,
            "version": self.instrument.version,
            "hash": self.instrument.hash,
            "wave": self.wave,
            "authority": self.authority,
            "view_authority": self.view_authority,
            "kind": self.kind,
            "n": self.n,
            "k": self.k,
            "data_version": self.version,
            "frozen_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "profile": records(self.profile),
            "gaps": records(self.gaps),
            "stakeholders": records(self.stakeholders),
            "hidden_groups": self.hidden_groups,
        }

    def freeze(self) -> int | None:
        """Save the shown result as the session's outcome (``Store.save_outcome``); ``None`` while below k."""
        self.refresh()
        if not self.visible:
            return None
        authority = self.authority or (self.view_authority if self.kind == "stakeholders" else None)
        return self.store.save_outcome(
            f"workshop:{self.instrument.id}", self.payload(), authority=authority, wave=self.wave, instrument=self.instrument.id
        )


class Poller:
    """Calls ``state.refresh()`` every ``interval`` seconds in a daemon thread; ``on_change(state)`` after each recompute.

    Example
    -------
    >>> class Fake:
    ...     calls = 0
    ...     def refresh(self):
    ...         Fake.calls += 1
    ...         return Fake.calls == 1
    >>> seen = []
    >>> p = Poller(Fake(), interval=0.01, on_change=seen.append).start()
    >>> time.sleep(0.1); p.stop(); len(seen)
    1
    """

    def __init__(self, state: Any, *, interval: float = 0.5, on_change: Callable[[Any], None] | None = None) -> None:
        self.state = state
        self.interval = interval
        self.on_change = on_change
        self._stop = threading.Event()
        self._running = threading.Event()
        self._thread: threading.Thread | None = None
        self.errors = 0

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def start(self) -> "Poller":
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._running.set()
            self._thread = threading.Thread(target=self._loop, name="upo-dashboard-poller", daemon=True)
            self._thread.start()
        return self

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def stop(self) -> None:
        self._stop.set()
        self._running.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        store = getattr(self.state, "store", None)
        listen = bool(getattr(store, "notifies_changes", False))  # PostgreSQL: told by LISTEN/NOTIFY, no polling
        first, last = True, time.monotonic()
        while not self._stop.is_set():
            self._running.wait()
            if self._stop.is_set():
                break
            if listen and not first:
                try:
                    notified = store.wait_for_change(1.0)  # type: ignore[union-attr]  # 1 s: stop() stays prompt
                except Exception:
                    notified = False
                    self.errors += 1
                    log.exception("waiting for change notifications failed")
                    self._stop.wait(self.interval)
                if not notified and time.monotonic() - last < 30.0:  # a refresh every 30 s as a safety net
                    continue
            first = False
            try:
                if self.state.refresh() and self.on_change is not None:
                    self.on_change(self.state)
            except Exception:  # keep polling: one bad refresh must not end the live view
                self.errors += 1
                log.exception("dashboard refresh failed")
            last = time.monotonic()
            if not listen:
                self._stop.wait(self.interval)
