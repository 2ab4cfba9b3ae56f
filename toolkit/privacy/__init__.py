"""Privacy: the disclosure layer, the one place that decides what may be shown (DESIGN §6).

How other code asks (see :mod:`.release`)::

    from toolkit.privacy import Level, Diff, release, release_frame, levels, audit, recording

    r = release(Level("competence_reflection", "digital_tools", "t0"), people, value,
                k=k, output="report:BAMF", cell="profile/digital_tools")
    r.shown, r.value, r.n, r.reason_text("de")   # e.g. False, None, 3, "weniger als 5 Antworten"

* :func:`release` / :func:`release_frame`: one value / every row of a frame, with the
  respondent set behind it; answers shown or suppressed with the true reason
  (:data:`REASONS`, German and English) and records what is shown.
* :func:`levels`: authority, ministry and cohort summaries (comparison values over the shown
  authorities only); :func:`change_levels`: paired change with the auditor's decision;
  :func:`rank_shown`, :func:`percentile_shown`: ranks over shown values only (:mod:`.plan`).
* :class:`LiveRelease` / :func:`live_state`: live views in steps of ``k`` (:mod:`.live`).
* :func:`recording` collects releases; :func:`audit` checks a record (:mod:`.audit`);
  :func:`toolkit.privacy.cohort_audit` renders every output of a cohort and audits it.

:mod:`.core` keeps the building blocks (minimum group size, primary suppression, group
summaries, free-text visibility).
"""

from __future__ import annotations

from .audit import Planner, Violation, audit, format_violations
from .core import (
    DEFAULT_K,
    SUPPRESSED_NOTE,
    estimate_columns,
    group_summary,
    resolve_k,
    suppress,
    visible_texts,
)
from .live import LiveRelease, live_state
from .mask import Mask
from .plan import change_levels, change_plan_all, levels, release_changes, release_levels, percentile_shown, rank_shown, shown_cells
from .release import (
    REASONS,
    Diff,
    Entry,
    Level,
    Record,
    Released,
    current_record,
    reason_text,
    recording,
    release,
    release_frame,
    respondents,
    who,
)

__all__ = [
    "Mask",
    "DEFAULT_K",
    "SUPPRESSED_NOTE",
    "resolve_k",
    "estimate_columns",
    "suppress",
    "group_summary",
    "visible_texts",
    "Level",
    "Diff",
    "Released",
    "Entry",
    "Record",
    "REASONS",
    "reason_text",
    "recording",
    "current_record",
    "release",
    "release_frame",
    "respondents",
    "who",
    "levels",
    "shown_cells",
    "change_levels",
    "release_changes",
    "release_levels",
    "change_plan_all",
    "rank_shown",
    "percentile_shown",
    "LiveRelease",
    "live_state",
    "Violation",
    "Planner",
    "audit",
    "format_violations",
    "cohort_audit",
]


def cohort_audit(db, *, k=None):  # noqa: ANN001, ANN201 - thin lazy wrapper (reports import privacy)
    """Render every output of a cohort in memory and audit the record (see :mod:`toolkit.reports.audit`)."""
    from ..reports.audit import cohort_audit as _run

    return _run(db, k=k)
