"""What every authority-report section needs: the report context and small shared helpers.

The section modules (:mod:`~toolkit.reports.sections`, ``sec_competence``, ``sec_stakeholders``,
``sec_summary``) import from here and never from each other in a circle: ``base`` <- ``sec_competence``
<- ``sec_stakeholders`` <- ``sec_summary`` <- ``sections`` (which registers the report order).

Example
-------
>>> import tempfile, pathlib
>>> from toolkit.demo import build_demo
>>> db = pathlib.Path(tempfile.mkdtemp()) / "d.sqlite"
>>> build_demo(db, n_authorities=2, seed=1).close()
>>> ctx = authority_context(db, "BAMF")
>>> ctx.name, ctx.k
('Bundesamt für Migration und Flüchtlinge', 5)
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..exceptions import ReportError
from .context import CohortData, cohort_data
from .registry import SectionData
from .texts import tr

__all__ = [
    "AuthorityContext",
    "Html",
    "authority_context",
    "blank_figure",
    "date_text",
    "draw_figure",
    "instrument_rows",
    "once",
    "output_name",
    "plots",
    "profile_wave",
    "reasons",
    "running_header",
    "section_data",
    "wave_text",
]


class Html:
    """An HTML fragment that Jupyter displays as HTML (``.html`` holds the markup; the cohort report's parts)."""

    def __init__(self, html: str):
        self.html = html

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return f"Html({len(self.html)} chars)"


@dataclass
class AuthorityContext:
    """What every section of one authority's report needs."""

    data: CohortData
    authority: str
    name: str
    ministry: str | None
    lang: str
    k: int
    memo: dict[str, Any] = field(default_factory=dict, repr=False)

    def t(self, key: str, **kw: Any) -> str:
        return tr(key, self.lang, **kw)

    def counts(self, instrument_id: str | None) -> dict[str, int]:
        """Participants of this authority per wave for one instrument (a copy; computed once per report)."""
        key = ("counts", instrument_id)
        if key not in self.memo:
            n = _counts_index(self.data).get((self.authority, instrument_id), {})
            self.memo[key] = {w: n[w] for w in self.data.wave_labels() if w in n}
        return dict(self.memo[key])

    def rows(self, frame: pd.DataFrame) -> pd.DataFrame:
        """This authority's rows of a cohort-wide frame of :attr:`data` (:meth:`CohortData.rows_of`)."""
        return self.data.rows_of(frame, self.authority)

    def dim_title(self, instrument: Any, dim_id: str) -> str:
        try:
            return instrument.dimension(dim_id).title.get(self.lang)
        except KeyError:
            return dim_id

    def waves_with(self, instrument_id: str | None, *, min_n: int | None = None) -> list[str]:
        """Waves in which this authority answered the instrument (with at least ``min_n``)."""
        return [w for w, n in self.counts(instrument_id).items() if n >= (min_n or 1)]


def _counts_index(data: CohortData) -> dict[tuple[Any, Any], dict[str, int]]:
    """``(authority, instrument) -> {wave: n}`` of ``data.counts``, built in one pass once per process (every report reads
    its own participants per instrument from it instead of slicing the cohort-wide frame each time)."""

    def build() -> dict[tuple[Any, Any], dict[str, int]]:
        c = data.counts
        out: dict[tuple[Any, Any], dict[str, int]] = {}
        for authority, instrument, wave, n in zip(c["authority"], c["instrument"], c["wave"], c["n"].astype(int)):
            out.setdefault((authority, instrument), {})[wave] = n  # a later row wins, as in dict(zip(...)) of the rows
        return out

    return data.local("counts_index", build)


def authority_context(db: str | Path, authority: str, *, lang: str = "de", min_group_size: int | None = None) -> AuthorityContext:
    """Load the report context of one authority (cohort data from the batch cache if present).

    Raises
    ------
    ReportError
        If the authority is not in the cohort or the language is unknown.
    """
    if lang not in ("de", "en"):
        raise ReportError(f"unknown report language {lang!r}; use de or en")
    data = cohort_data(db)
    rows = data.authorities[data.authorities["authority"] == authority]
    if rows.empty:
        raise ReportError(f"authority {authority!r} is not in the cohort; known: {', '.join(data.authorities['authority'])}")
    from ..privacy import resolve_k

    k = resolve_k(int(data.cohort["min_group_size"]), min_group_size)  # never below the cohort's setting
    row = rows.iloc[0]
    return AuthorityContext(data, authority, str(row["name"] or authority), row["ministry"], lang, k)


def once(ctx: Any, key: Any, compute: Callable[[], Any]) -> Any:
    """What ``compute()`` returns, computed once per report and record; callers must not change it.

    The summary shows what the later sections release (the same release calls over the same
    frames): the first call releases and records, a later call in the same record reads the
    result, so every value is released once per report with the same rows in the record (a
    repeated release adds nothing to it). Into a new record (e.g. the audit's) it is
    released again.
    """
    from ..privacy.release import current_record

    memo = getattr(ctx, "memo", None)
    if memo is None:
        return compute()
    rec = current_record()
    hit = memo.get(("once", key))
    if hit is not None and hit[0] is rec:
        return hit[1]
    value = compute()
    memo[("once", key)] = (rec, value)
    return value


def section_data(ctx: Any, id: str, template: str, *, title: str | None = None, toc: bool = True, **data: Any) -> SectionData:
    """A :class:`SectionData` in the context's language (title: the catalogue text of ``id``)."""
    return SectionData(id, ctx.t(id) if title is None else title, template, data, toc=toc, lang=ctx.lang)


def profile_wave(ctx: Any) -> tuple[str | None, int]:
    """The latest wave in which the authority reached the threshold (and its n), else (last wave, n)."""
    comp = ctx.data.competence
    n = ctx.counts(comp.id if comp else None)
    if not n:
        return None, 0
    ok = [w for w, v in n.items() if v >= ctx.k]
    w = ok[-1] if ok else list(n)[-1]
    return w, n[w]


def output_name(ctx: Any) -> str:
    """The record name of this report's releases."""
    return f"report:{getattr(ctx, 'authority', None) or 'cohort'}"


def reasons(ctx: Any, hidden: list[tuple[str, str | None]]) -> list[tuple[str, list[str]]]:
    """Hidden values grouped by their true reason: ``[(reason text, [labels])]`` (empty if nothing is hidden)."""
    from ..privacy import reason_text

    by_reason: dict[str, list[str]] = {}
    for label, r in hidden:
        if r:
            by_reason.setdefault(reason_text(r, ctx.lang, k=ctx.k), []).append(label)
    return list(by_reason.items())


def plots() -> Any:
    from .. import plots as p

    return p


def draw_figure(draw: Callable[[Any], Any], *, polar: bool = False, size: tuple[float, float] = (7.0, 4.2),
                prepare: Callable[[Any], Any] | None = None) -> Any:
    """Draw with a plot function onto a fresh Axes; the Figure (rendered by the template), or None in the audit.

    ``prepare`` (e.g. :func:`toolkit.plots.prepare_radar`): the data-free set-up of the plot function, done
    once in the blank figure that is copied (:func:`blank_figure`), not in every figure.

    No layout engine: the renderer crops the figure to what is drawn, so labels reaching
    beyond the axes are never cut, at the cost of one layout pass. The number of major ticks
    each axis ends up with is noted, so the next blank figure of this size and kind comes
    with that many ticks made (:func:`blank_figure`).
    """
    from ..privacy.release import current_record

    if getattr(current_record(), "no_figures", False):  # the audit renders every section, not the pictures of its numbers
        return None
    fig = blank_figure(size, polar=polar, prepare=prepare)
    draw(fig.axes[0])
    if len(fig.axes) == 1:
        ax = fig.axes[0]
        key = _ticks_key(size, polar, prepare)
        used = (len(ax.xaxis.majorTicks), len(ax.yaxis.majorTicks))
        known = _TICKS.get(key, (0, 0))
        _TICKS[key] = (max(known[0], used[0]), max(known[1], used[1]))
    return fig


_BLANK: dict[tuple, bytes] = {}
_TICKS: dict[tuple, tuple[int, int]] = {}  # (size, polar[, prepare]) -> major ticks of the x and y axis the last figures used


def _ticks_key(size: tuple[float, float], polar: bool, prepare: Callable[[Any], Any] | None) -> tuple:
    return (tuple(size), polar) if prepare is None else (tuple(size), polar, prepare)


def blank_figure(size: tuple[float, float], *, polar: bool = False, prepare: Callable[[Any], Any] | None = None) -> Any:
    """A new Figure of ``size`` inches with one Axes (polar or not), as ``Figure(figsize=size).add_subplot(111)`` makes it
    (and ``prepare(ax)`` then sets it up, if given).

    Made once per size, kind and matplotlib settings and copied from a pickle afterwards: building an
    Axes (its axis, ticks, spines and grid lines from the rc settings) costs more than drawing a report's
    figure on it (a polar one ≈ 50 ms, its copy ≈ 7 ms). Its axes come with as many major ticks as the
    figures :func:`draw_figure` drew at this size used (made as matplotlib makes them when a figure sets
    its ticks; ticks beyond those a figure sets are never drawn): making a tick costs more than copying it.
    Not a pyplot figure (nothing shows or keeps it; :func:`~toolkit.reports.render.figure_src` renders it).
    """
    import pickle

    import matplotlib as mpl

    ticks = _TICKS.get(_ticks_key(size, polar, prepare), (0, 0))
    key = (tuple(size), polar, prepare, ticks, mpl.__version__, repr(sorted(mpl.rcParams.items())))
    blob = _BLANK.get(key)
    if blob is None:
        from matplotlib.figure import Figure

        fig = Figure(figsize=size)
        ax = fig.add_subplot(111, projection="polar" if polar else None)
        if ticks[0]:
            ax.xaxis.get_major_ticks(ticks[0])
        if ticks[1]:
            ax.yaxis.get_major_ticks(ticks[1])
        if prepare is not None:
            prepare(ax)
        blob = pickle.dumps(fig, protocol=pickle.HIGHEST_PROTOCOL)
        if len(_BLANK) > 32:
            _BLANK.clear()
        _BLANK[key] = blob
    return pickle.loads(blob)  # our own pickle of a blank figure, made in this process


def date_text(value: Any, lang: str) -> str:
    if not value or (isinstance(value, float) and pd.isna(value)):
        return ""
    try:
        d = _dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return str(value)
    return d.strftime("%d.%m.%Y") if lang == "de" else d.isoformat()


def wave_text(ctx: Any) -> str:
    """The cohort's waves with their dates, e.g. ``t0 (01.03.2025), t1 (01.09.2025)`` (once per cohort data and language)."""

    def compute() -> str:
        parts = []
        for _, w in ctx.data.waves.iterrows():
            date = date_text(w["date"], ctx.lang)
            parts.append(f"{w['wave']} ({date})" if date else str(w["wave"]))
        return ", ".join(parts)

    return ctx.data.local(("wave_text", ctx.lang), compute)


def instrument_rows(ctx: Any) -> list[list[str]]:
    """Instrument id, title, version and hash of every instrument the cohort answered (made once per cohort data and
    language; each call gets its own lists)."""

    def compute() -> tuple[tuple[str, ...], ...]:
        rows = []
        for _, r in ctx.data.instrument_table.drop_duplicates("instrument", keep="last").iterrows():
            inst = ctx.data.instruments.get(r["instrument"])
            title = inst.title.get(ctx.lang) if inst is not None else ""
            rows.append((title, r["instrument"], r["version"], r["hash"][:12]))
        return tuple(rows)

    return [list(r) for r in ctx.data.local(("instrument_rows", ctx.lang), compute)]


def running_header(ctx: Any) -> str:
    """The line on top of every PDF page: authority (or cohort), wave(s) and data date.

    Example
    -------
    >>> import tempfile, pathlib
    >>> from toolkit.demo import build_demo
    >>> db = pathlib.Path(tempfile.mkdtemp()) / "d.sqlite"
    >>> build_demo(db, n_authorities=2, seed=1).close()
    >>> running_header(authority_context(db, "BAMF")).startswith("Bundesamt für Migration und Flüchtlinge (BAMF) · Welle ")
    True
    """
    date = date_text(ctx.data.data_date, ctx.lang)
    tail = [ctx.t("data_date") + " " + date] if date else []
    comp = ctx.data.competence
    if hasattr(ctx, "authority"):
        waves = ctx.waves_with(comp.id if comp else None) or ctx.data.wave_labels()
        head = [f"{ctx.name} ({ctx.authority})"] + ([ctx.t("running_wave", w=waves[-1])] if waves else [])
    else:
        waves = ctx.data.wave_labels()
        head = [ctx.t("cohort_short", name=ctx.data.cohort["name"])] + ([ctx.t("running_waves", w=", ".join(waves))] if waves else [])
    return " · ".join(head + tail)
