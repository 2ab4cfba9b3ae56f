"""Privacy: the one place that decides what may be shown (DESIGN §6).

:mod:`.core` holds the minimum group size, primary and secondary suppression,
group summaries and free-text visibility; :mod:`.nested` the rules for totals over
nested groups (authority ⊂ ministry ⊂ cohort) and for paired changes next to wave
means, so that no combination of shown numbers isolates fewer than ``k`` people.
"""

from __future__ import annotations

from .core import (
    DEFAULT_K,
    SUPPRESSED_NOTE,
    _check_k,
    estimate_columns,
    group_summary,
    resolve_k,
    suppress,
    suppress_secondary,
    visible_texts,
)
from .nested import change_plan, nested_plan, paired_visible, plan_shown, scores_plan

__all__ = [
    "DEFAULT_K",
    "SUPPRESSED_NOTE",
    "resolve_k",
    "estimate_columns",
    "suppress",
    "suppress_secondary",
    "group_summary",
    "visible_texts",
    "nested_plan",
    "plan_shown",
    "paired_visible",
    "scores_plan",
    "change_plan",
]
