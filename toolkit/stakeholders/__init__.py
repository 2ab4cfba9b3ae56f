"""Stakeholder analysis: aggregation over raters, agreement, quadrant, salience, priority.

Input is the tidy frame of :meth:`toolkit.store.Store.responses` for an instrument with
``rating_grid`` items (one item per role such as influence, interest, attitude). Missing
codes ("kann ich nicht einschätzen") become NaN before anything is aggregated. If an
authority answered in several waves, only its latest wave is used (column ``wave``).

Example
-------
>>> import pandas as pd
>>> from toolkit.instruments import resolve_instrument
>>> inst = resolve_instrument("stakeholder_analysis")
>>> rows = [("BVA", f"P{r}", "personalrat", item, v) for r, (item, v) in enumerate(
...     [("sh_influence", 4), ("sh_influence", 5), ("sh_interest", 4), ("sh_interest", 0)])]
>>> resp = pd.DataFrame(rows, columns=["authority", "participant", "stakeholder", "item", "value"])
>>> aggregate_ratings(resp, inst)[["stakeholder", "role", "n", "median"]].to_string(index=False)
'stakeholder      role  n  median\\npersonalrat influence  2     4.5\\npersonalrat  interest  1     4.0'
"""

from __future__ import annotations

from .ratings import QUADRANT_LABELS, QUADRANTS, SALIENCE_LABELS, STRATEGIES, aggregate_ratings, stakeholder_map
from .reliability import icc2, rater_reliability

__all__ = [
    "QUADRANTS",
    "QUADRANT_LABELS",
    "STRATEGIES",
    "SALIENCE_LABELS",
    "aggregate_ratings",
    "stakeholder_map",
    "rater_reliability",
    "icc2",
]
