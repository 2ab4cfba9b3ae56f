"""Sections of the authority report: each function takes the report context and returns HTML.

The report notebook only calls these functions (``notebooks/report_authority.ipynb``);
everything shown is built from the analysis API's frames and passes
:mod:`toolkit.privacy`. Sections never fail on small groups: they say
"zu wenige Antworten, um dies anonym darzustellen" instead.

Example
-------
>>> import tempfile, pathlib
>>> from toolkit.demo import build_demo
>>> db = pathlib.Path(tempfile.mkdtemp()) / "d.sqlite"
>>> build_demo(db, n_authorities=2, seed=1).close()
>>> ctx = authority_context(db, "BAMF")
>>> "Bundesamt für Migration" in title_page(ctx).html
True
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .._version import __version__
from ..exceptions import ReportError
from .context import CohortData, cohort_data
from .html import esc, fmt_int, note, section, suppressed_note, table
from .texts import tr
from .worker import KEY_FIGURES_MIME

__all__ = [
    "Html",
    "AuthorityContext",
    "authority_context",
    "title_page",
    "participation",
    "key_figures",
    "footer",
    "running_header",
    "competence_profile",
    "gaps_needs",
    "item_distributions",
    "change",
    "stakeholder_section",
    "readiness_section",
    "free_texts",
    "methods",
    "summary",
    "next_steps",
]


class Html:
    """An HTML fragment that Jupyter displays as HTML (``.html`` holds the markup)."""

    def __init__(self, html: str):
        self.html = html

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return f"Html({len(self.html)} chars)"


class KeyFigures:
    """Machine-readable key figures for the index page (invisible in the report)."""

    def __init__(self, data: dict[str, Any]):
        self.data = data

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return {KEY_FIGURES_MIME: self.data, "text/plain": f"key figures: {self.data}"}


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
        """Participants of this authority per wave for one instrument."""
        c = self.data.counts
        c = c[(c["authority"] == self.authority) & (c["instrument"] == instrument_id)]
        n = dict(zip(c["wave"], c["n"].astype(int)))
        return {w: n[w] for w in self.data.wave_labels() if w in n}

    def dim_title(self, instrument: Any, dim_id: str) -> str:
        try:
            return instrument.dimension(dim_id).title.get(self.lang)
        except KeyError:
            return dim_id

    def waves_with(self, instrument_id: str | None, *, min_n: int | None = None) -> list[str]:
        """Waves in which this authority answered the instrument (with at least ``min_n``)."""
        return [w for w, n in self.counts(instrument_id).items() if n >= (min_n or 1)]


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


def _wave_text(ctx: Any) -> str:
    parts = []
    for _, w in ctx.data.waves.iterrows():
        date = _date(w["date"], ctx.lang)
        parts.append(f"{w['wave']} ({date})" if date else str(w["wave"]))
    return ", ".join(parts)


def _date(value: Any, lang: str) -> str:
    if not value or (isinstance(value, float) and pd.isna(value)):
        return ""
    try:
        d = _dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return str(value)
    return d.strftime("%d.%m.%Y") if lang == "de" else d.isoformat()


def instrument_rows(ctx: Any) -> list[list[str]]:
    """Instrument id, title, version and hash of every instrument the cohort answered."""
    rows = []
    for _, r in ctx.data.instrument_table.drop_duplicates("instrument", keep="last").iterrows():
        inst = ctx.data.instruments.get(r["instrument"])
        title = inst.title.get(ctx.lang) if inst is not None else ""
        rows.append([title, r["instrument"], r["version"], r["hash"][:12]])
    return rows


def title_page(ctx: AuthorityContext) -> Html:
    """Cover: authority, ministry, cohort, waves, data date, n per wave, threshold, instruments."""
    comp = ctx.data.competence
    n = ctx.counts(comp.id if comp else None)
    n_text = " · ".join(f"{w}: {v}" for w, v in n.items()) or "–"
    kv = [
        [ctx.t("authority"), f"{ctx.name} ({ctx.authority})"],
        [ctx.t("ministry"), ctx.ministry or "–"],
        [ctx.t("cohort"), ctx.data.cohort["name"]],
        [ctx.t("waves"), _wave_text(ctx)],
        [ctx.t("participants_per_wave"), n_text],
        [ctx.t("data_date"), _date(ctx.data.data_date, ctx.lang) or "–"],
        [ctx.t("generated"), _date(_dt.date.today().isoformat(), ctx.lang)],
        [ctx.t("threshold"), ctx.t("threshold_text", k=ctx.k)],
    ]
    body = "".join(f"<tr><th>{esc(a)}</th><td>{esc(b)}</td></tr>" for a, b in kv)
    parts = [
        '<div class="cover">',
        f"<h2 id='about'>{esc(ctx.t('about_report'))}</h2>",
        f'<table class="upo kv"><tbody>{body}</tbody></table>',
        table(instrument_rows(ctx), [ctx.t("instrument"), "ID", ctx.t("version"), ctx.t("hash")], caption=ctx.t("instruments")),
        "</div>",
        f"<p class='lead'>{esc(ctx.t('reading_guide'))}</p>",
        "<ol class='compact'>" + "".join(f'<li><a href="#{a}">{esc(ctx.t(a))}</a></li>' for a in _CONTENTS) + "</ol>",
    ]
    return Html("".join(parts))


_CONTENTS = ["summary", "participation", "profile", "needs", "next_steps", "items", "change", "stakeholders", "readiness", "texts", "methods"]


def participation(ctx: AuthorityContext) -> Html:
    """Participants per instrument and wave, and how many could be linked across waves."""
    waves = ctx.data.wave_labels()
    rows = []
    for inst_id, inst in ctx.data.instruments.items():
        n = ctx.counts(inst_id)
        if not n:
            continue
        rows.append([inst.title.get(ctx.lang)] + [fmt_int(n.get(w)) if w in n else "–" for w in waves])
    parts = []
    if rows:
        parts.append(table(rows, [ctx.t("instrument")] + waves, numeric=list(range(1, len(waves) + 1)), caption=ctx.t("participants_by_wave")))
    else:
        parts.append(note(ctx.t("no_data")))
    comp = ctx.data.competence
    if comp is not None:
        scores = ctx.data.scores()
        mine = scores[scores["authority"] == ctx.authority]
        present = mine.groupby("wave", observed=True)["participant"].unique()
        w_done = [w for w in waves if w in present.index]
        pair_rows = []
        for w in w_done[1:]:
            both = len(set(present[w_done[0]]) & set(present[w]))
            pair_rows.append([f"{w_done[0]} → {w}", str(both)])
        if pair_rows:
            parts.append(table(pair_rows, [ctx.t("waves"), ctx.t("linked_people")], numeric=[1], caption=ctx.t("linked_caption")))
    return Html(section("participation", ctx.t("participation"), *parts))


def free_texts(ctx: AuthorityContext) -> Html:
    """Free-text answers of the authority's latest wave with text, shown only when that wave's
    respondents reach the minimum group size (``privacy.visible_texts``); every text is escaped
    and listed in sorted order, so the order reveals nothing."""
    from ..privacy import Level, release, visible_texts

    parts = []
    for inst_id, frame in ctx.data.texts.items():
        mine = frame[frame["authority"] == ctx.authority]
        if mine.empty:
            continue
        inst = ctx.data.instruments[inst_id]
        present = set(mine["wave"].astype(str))
        last = [w for w in ctx.data.wave_labels() if w in present][-1]
        mine = mine[mine["wave"].astype(str) == last]
        resp = ctx.data.responses.get(inst_id)
        respondents = None
        if resp is not None and not resp.empty:
            respondents = resp[(resp["authority"] == ctx.authority) & (resp["wave"].astype(str) == last)]
        shown = visible_texts(mine, ["authority", "wave"], k=ctx.k, respondents=respondents)
        if shown.empty:
            parts.append(suppressed_note(ctx.lang))
            continue
        group = respondents if respondents is not None else mine
        people = group["authority"].astype(str) + "|" + group["participant"].astype(str)
        for item_id in shown["item"].unique():  # recorded: free text of a group of k or more respondents
            release(Level(inst_id, f"text:{item_id}", str(last)), people, k=ctx.k, output=f"report:{ctx.authority}", cell=f"texts/{item_id}")
        for item_id, grp in shown.groupby("item", sort=False):
            question = inst.item(item_id).text.get(ctx.lang)
            parts.append(f"<h3>{esc(question)} ({esc(last)})</h3>"
                         + "<ul class='texts'>" + "".join(f"<li>{esc(t)}</li>" for t in grp["text"]) + "</ul>")
    if not parts:
        parts.append(note(ctx.t("no_texts")))
    return Html(section("texts", ctx.t("texts"), f"<p>{esc(ctx.t('texts_intro', k=ctx.k))}</p>", *parts))


def key_figures(ctx: AuthorityContext) -> KeyFigures:
    """Figures for the index page: n per wave, the overall mean and the largest need of the report's profile wave.

    Exactly what the report releases for the same wave: the largest need is rank 1 of the
    report's needs table (ranks over shown dimensions), and the value names its wave.
    """
    from ..privacy import Level, release
    from .sec_competence import needs_table, profile_wave

    comp = ctx.data.competence
    n = ctx.counts(comp.id if comp else None)
    headline = []
    if comp is not None and n:
        wave, _ = profile_wave(ctx)
        scores = ctx.data.scores()
        mine = scores[(scores["authority"] == ctx.authority) & (scores["wave"] == wave)]
        person = mine.groupby("participant", observed=True)["score"].mean().dropna()
        r = release(Level(comp.id, "overall", str(wave)), [f"{ctx.authority}|{p}" for p in person.index], float(person.mean()) if len(person) else None,
                    k=ctx.k, output=f"index:{ctx.authority}", cell="headline_score")
        value = "–" if not r.shown else f"{r.value:.2f}"
        value = value.replace(".", ",") if ctx.lang == "de" else value
        headline.append({"label": ctx.t("headline_score"), "value": f"{value} ({wave})" if r.shown else value, "numeric": True, "wave": wave})
        nt = needs_table(ctx)
        top = "–"
        if nt is not None and not nt.empty and not nt["suppressed"].all():
            best = nt[~nt["suppressed"]].sort_values(["rank", "dimension"]).iloc[0]
            top = ctx.dim_title(comp, best["dimension"])
        headline.append({"label": ctx.t("headline_need"), "value": top if top == "–" else f"{top} ({wave})", "numeric": False, "wave": wave})
    return KeyFigures({"n": n, "headline": headline})


def footer(ctx: Any) -> Html:
    """Closing line: toolkit version, cohort, threshold; it carries the PDF's running header."""
    text = ctx.t("footer", version=__version__, cohort=ctx.data.cohort["name"], k=ctx.k)
    return Html(f'<footer class="upo" data-upo-header="{esc(running_header(ctx))}">{esc(text)}</footer>')


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
    date = _date(ctx.data.data_date, ctx.lang)
    tail = [ctx.t("data_date") + " " + date] if date else []
    comp = ctx.data.competence
    if hasattr(ctx, "authority"):
        waves = ctx.waves_with(comp.id if comp else None) or ctx.data.wave_labels()
        head = [f"{ctx.name} ({ctx.authority})"] + ([ctx.t("running_wave", w=waves[-1])] if waves else [])
    else:
        waves = ctx.data.wave_labels()
        head = [ctx.t("cohort_short", name=ctx.data.cohort["name"])] + ([ctx.t("running_waves", w=", ".join(waves))] if waves else [])
    return " · ".join(head + tail)


# The analysis sections live in their own modules; the notebook imports them from here.
from .sec_competence import change, competence_profile, gaps_needs, item_distributions  # noqa: E402
from .sec_stakeholders import methods, readiness_section, stakeholder_section  # noqa: E402
from .sec_summary import next_steps, summary  # noqa: E402
