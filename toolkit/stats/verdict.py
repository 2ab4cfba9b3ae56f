"""One verdict for a paired change: effect-size band and whether the change is certain.

Every report section and the summary read a change through :func:`change_verdict`,
so a label never contradicts the numbers beside it:

* **band** of the effect size ``|d_z|`` (Cohen's conventions, lower bounds inclusive):
  below 0.2 ``negligible``, from 0.2 ``small``, from 0.5 ``medium``, from 0.8 ``large``;
* **certain** only when the Holm-adjusted p-value is below ``alpha`` *and* the 95 %
  confidence interval of the mean difference excludes 0 on the side of the change;
  a change whose interval includes 0, or whose Holm p is at least ``alpha``, is never
  certain, whatever its effect size;
* **direction** ``up``/``down`` from the sign of the mean difference (or of ``d_z``),
  ``none`` when it is 0 or unknown;
* ``suppressed`` when the estimates are hidden (too few pairs) or missing.

The words are the reports' business (:func:`toolkit.reports.sec_competence.change_wording`);
this module decides only what they say.

Example
-------
>>> v = change_verdict(mean_diff=0.3, ci_low=0.1, ci_high=0.5, d_z=0.5, p_holm=0.01)
>>> v.direction, v.band, v.certain
('up', 'medium', True)
>>> change_verdict(mean_diff=-0.07, ci_low=-0.14, ci_high=-0.001, d_z=-0.3, p_holm=0.241).certain
False
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

__all__ = ["BANDS", "ALPHA", "Verdict", "effect_band", "change_verdict", "verdict_of"]

ALPHA = 0.05
# (lower bound inclusive, band): |d_z| >= bound
BANDS: tuple[tuple[float, str], ...] = ((0.8, "large"), (0.5, "medium"), (0.2, "small"), (0.0, "negligible"))


def _num(x: Any) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return math.nan
    return v


def effect_band(d_z: Any) -> str | None:
    """The band of an effect size: negligible (< 0.2), small (≥ 0.2), medium (≥ 0.5), large (≥ 0.8).

    Returns None for a missing value.

    Example
    -------
    >>> [effect_band(x) for x in (0.19, 0.2, -0.5, 0.79, 0.8, float("nan"))]
    ['negligible', 'small', 'medium', 'medium', 'large', None]
    """
    d = abs(_num(d_z))
    if math.isnan(d):
        return None
    for bound, band in BANDS:
        if d >= bound:
            return band
    return "negligible"  # pragma: no cover (d >= 0 always)


@dataclass(frozen=True)
class Verdict:
    """The reading of one paired change (see the module docstring)."""

    direction: str  # "up", "down" or "none"
    band: str | None  # "negligible", "small", "medium", "large" or None
    certain: bool
    suppressed: bool = False

    @property
    def key(self) -> str:
        """A stable name for the verdict: ``suppressed``, ``none``, ``up_certain``, ``down_uncertain``, ..."""
        if self.suppressed:
            return "suppressed"
        if self.direction == "none":
            return "none"
        return f"{self.direction}_{'certain' if self.certain else 'uncertain'}"


def change_verdict(*, mean_diff: Any = None, ci_low: Any, ci_high: Any, d_z: Any, p_holm: Any,
                   alpha: float = ALPHA, suppressed: bool = False) -> Verdict:
    """The verdict on one paired change.

    Parameters
    ----------
    mean_diff, ci_low, ci_high
        Mean difference (later − earlier) and its 95 % confidence interval.
    d_z
        Effect size of the paired change.
    p_holm
        Holm-adjusted p-value of the paired t-test.
    alpha
        Significance level (0.05).
    suppressed
        True when the estimates are hidden (fewer than k pairs).

    Returns
    -------
    Verdict
        ``certain`` is True only if ``p_holm < alpha`` and the interval lies entirely
        above 0 (improvement) or entirely below 0 (decline).
    """
    lo, hi, d, p = _num(ci_low), _num(ci_high), _num(d_z), _num(p_holm)
    diff = _num(mean_diff)
    if suppressed or math.isnan(lo) or math.isnan(hi):
        return Verdict("none", None, False, suppressed=True)
    sign = diff if not math.isnan(diff) else (d if not math.isnan(d) else (lo + hi) / 2)
    if math.isnan(sign) or sign == 0:
        direction = "none"
    else:
        direction = "up" if sign > 0 else "down"
    excludes_zero = (direction == "up" and lo > 0) or (direction == "down" and hi < 0)
    certain = bool(excludes_zero and not math.isnan(p) and p < alpha)
    return Verdict(direction, effect_band(d), certain)


def verdict_of(row: Mapping[str, Any], *, alpha: float = ALPHA) -> Verdict:
    """:func:`change_verdict` for one record of :func:`toolkit.stats.paired_change` (optionally with ``suppressed``)."""
    sup = row.get("suppressed", False)
    sup = bool(sup) if sup is not None and not (isinstance(sup, float) and math.isnan(sup)) else False
    return change_verdict(mean_diff=row.get("mean_diff"), ci_low=row.get("ci_low"), ci_high=row.get("ci_high"),
                          d_z=row.get("d_z"), p_holm=row.get("p_holm"), alpha=alpha, suppressed=sup)
