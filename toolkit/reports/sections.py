"""The authority report: its sections in order (:data:`AUTHORITY`), each a build function returning data.

The report notebook (``notebooks/report_authority.ipynb``) iterates :data:`AUTHORITY`; the title
page's table of contents is built from :meth:`~toolkit.reports.registry.Registry.toc_ids`; the
order is registered here and nowhere else. Everything shown is built from the analysis API's
frames and passes :mod:`toolkit.privacy`. Sections never fail on small groups: they say
"zu wenige Antworten, um dies anonym darzustellen" instead.

Example
-------
>>> import tempfile, pathlib
>>> from toolkit.demo import build_demo
>>> db = pathlib.Path(tempfile.mkdtemp()) / "d.sqlite"
>>> build_demo(db, n_authorities=2, seed=1).close()
>>> ctx = authority_context(db, "BAMF")
>>> "Bundesamt für Migration" in title_page(ctx).html()
True
>>> AUTHORITY.toc_ids()[:3]
['summary', 'participation', 'profile']
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

import pandas as pd

from .._version import __version__
from .base import (AuthorityContext, Html, authority_context, date_text, instrument_rows, running_header, section_data,
                   wave_text)
from .registry import AUTHORITY, SectionData
from .sec_competence import change, competence_profile, gaps_needs, item_distributions
from .sec_stakeholders import methods, readiness_section, stakeholder_section
from .sec_summary import next_steps, summary

__all__ = [
    "AUTHORITY",
    "Html",
    "AuthorityContext",
    "authority_context",
    "title_page",
    "participation",
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
    "build_report",
    "render_report",
]

# older names (the cohort report imports them from here)
_date = date_text
_wave_text = wave_text


def title_page(ctx: AuthorityContext) -> SectionData:
    """Cover: authority, ministry, cohort, waves, data date, n per wave, threshold, instruments; the table of contents."""
    comp = ctx.data.competence
    n = ctx.counts(comp.id if comp else None)
    kv = [
        (ctx.t("authority"), f"{ctx.name} ({ctx.authority})"),
        (ctx.t("ministry"), ctx.ministry or "–"),
        (ctx.t("cohort"), ctx.data.cohort["name"]),
        (ctx.t("waves"), wave_text(ctx)),
        (ctx.t("participants_per_wave"), " · ".join(f"{w}: {v}" for w, v in n.items()) or "–"),
        (ctx.t("data_date"), date_text(ctx.data.data_date, ctx.lang) or "–"),
        (ctx.t("generated"), date_text(_dt.date.today().isoformat(), ctx.lang)),
        (ctx.t("threshold"), ctx.t("threshold_text", k=ctx.k)),
    ]
    instruments = pd.DataFrame(instrument_rows(ctx), columns=["title", "instrument", "version", "hash"])
    contents = [(i, ctx.t(i)) for i in AUTHORITY.toc_ids()]
    return section_data(ctx, "about", "sections/title_page.html.j2", title=ctx.t("about_report"), toc=False, kv=kv, n=n,
                        instruments=instruments, contents=contents)


def participation(ctx: AuthorityContext) -> SectionData:
    """Participants per instrument and wave (``data["participants"]``), and how many could be linked across waves (``data["linked"]``)."""
    waves = ctx.data.wave_labels()
    rows = []
    for inst_id, inst in ctx.data.instruments.items():
        n = ctx.counts(inst_id)
        if n:
            rows.append({"instrument": inst.title.get(ctx.lang), **{w: n.get(w) for w in waves}})
    linked = []
    comp = ctx.data.competence
    if comp is not None:
        mine = ctx.rows(ctx.data.scores())
        present = mine.groupby("wave", observed=True)["participant"].unique()
        w_done = [w for w in waves if w in present.index]
        for w in w_done[1:]:
            linked.append({"waves": f"{w_done[0]} → {w}", "n": len(set(present[w_done[0]]) & set(present[w]))})
    return section_data(ctx, "participation", "sections/participation.html.j2", waves=waves,
                        participants=pd.DataFrame(rows, columns=["instrument", *waves]), linked=pd.DataFrame(linked, columns=["waves", "n"]))


def free_texts(ctx: AuthorityContext) -> SectionData:
    """Free-text answers of the authority's latest wave with text, shown only when that wave's
    respondents reach the minimum group size (``privacy.visible_texts``); every text is escaped
    and listed in sorted order, so the order reveals nothing.

    ``data["blocks"]``: ``{"question", "wave", "texts"}`` per shown item, or ``{"suppressed": text}``.
    """
    from ..privacy import Level, release, visible_texts
    from .sec_competence import suppressed_text

    blocks: list[dict[str, Any]] = []
    for inst_id, frame in ctx.data.texts.items():
        mine = ctx.rows(frame)
        if mine.empty:
            continue
        inst = ctx.data.instruments[inst_id]
        present = set(mine["wave"].astype(str))
        last = [w for w in ctx.data.wave_labels() if w in present][-1]
        mine = mine[mine["wave"].astype(str) == last]
        resp = ctx.data.responses.get(inst_id)
        respondents = None
        if resp is not None and not resp.empty:
            respondents = ctx.rows(resp)
            respondents = respondents[respondents["wave"].astype(str) == last]
        shown = visible_texts(mine, ["authority", "wave"], k=ctx.k, respondents=respondents)
        if shown.empty:
            blocks.append({"suppressed": suppressed_text(ctx)})
            continue
        group = respondents if respondents is not None else mine
        people = group["authority"].astype(str) + "|" + group["participant"].astype(str)
        for item_id in shown["item"].unique():  # recorded: free text of a group of k or more respondents
            release(Level(inst_id, f"text:{item_id}", str(last)), people, k=ctx.k, output=f"report:{ctx.authority}", cell=f"texts/{item_id}")
        for item_id, grp in shown.groupby("item", sort=False):
            blocks.append({"question": inst.item(item_id).text.get(ctx.lang), "wave": last, "texts": list(grp["text"])})
    return section_data(ctx, "texts", "sections/texts.html.j2", blocks=blocks, k=ctx.k)


def footer(ctx: Any) -> SectionData:
    """Closing line: toolkit version, cohort, threshold; it carries the PDF's running header."""
    return section_data(ctx, "footer", "sections/footer.html.j2", title="", toc=False,
                        text=ctx.t("footer", version=__version__, cohort=ctx.data.cohort["name"], k=ctx.k), header=running_header(ctx))


# The report's order: the notebook, the table of contents and the audit read it from here.
for _id, _build, _toc in [
    ("summary", summary, True),
    ("about", title_page, False),
    ("participation", participation, True),
    ("profile", competence_profile, True),
    ("needs", gaps_needs, True),
    ("next_steps", next_steps, True),
    ("items", item_distributions, True),
    ("change", change, True),
    ("stakeholders", stakeholder_section, True),
    ("readiness", readiness_section, True),
    ("texts", free_texts, True),
    ("methods", methods, True),
    ("footer", footer, False),
]:
    if _id not in AUTHORITY:
        AUTHORITY.section(_id, toc=_toc)(_build)


def build_report(ctx: AuthorityContext) -> list[SectionData]:
    """Every section of one authority's report, in order (in-process, no kernel)."""
    return AUTHORITY.build_all(ctx)


def render_report(ctx: AuthorityContext) -> str:
    """The HTML of every section of one authority's report, in order (what the notebook displays, without a kernel)."""
    return "\n".join(part.html() for part in build_report(ctx))
