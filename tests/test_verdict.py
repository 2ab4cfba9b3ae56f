"""The one verdict rule for paired changes (toolkit.stats.verdict) and its wording in the reports."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from toolkit.reports.sec_competence import change_badge_kind, change_wording
from toolkit.stats import change_verdict, effect_band, verdict_of

NAN = math.nan


@pytest.mark.parametrize(
    "d_z, band",
    [
        (0.0, "negligible"), (0.1999, "negligible"), (0.2, "small"), (-0.2, "small"), (0.4999, "small"),
        (0.5, "medium"), (-0.5, "medium"), (0.7999, "medium"), (0.8, "large"), (-0.8, "large"), (2.5, "large"),
        (NAN, None), (None, None),
    ],
)
def test_effect_band_lower_bounds_are_inclusive(d_z, band):
    assert effect_band(d_z) == band


@pytest.mark.parametrize(
    "diff, lo, hi, p, certain, direction",
    [
        (0.3, 0.1, 0.5, 0.01, True, "up"),
        (0.3, 0.1, 0.5, 0.0499, True, "up"),
        (0.3, 0.1, 0.5, 0.05, False, "up"),  # Holm p = alpha: not below it
        (0.3, 0.1, 0.5, 0.2, False, "up"),  # interval above 0, Holm p too large
        (0.3, 0.0, 0.6, 0.001, False, "up"),  # interval touches 0: includes it
        (0.3, -0.01, 0.6, 0.001, False, "up"),  # interval includes 0, however small p
        (-0.3, -0.5, -0.1, 0.01, True, "down"),
        (-0.3, -0.6, 0.0, 0.001, False, "down"),
        (-0.3, -0.5, -0.1, NAN, False, "down"),  # no p-value: never certain
        (0.0, -0.2, 0.2, 0.9, False, "none"),
    ],
)
def test_certain_needs_both_holm_and_the_interval(diff, lo, hi, p, certain, direction):
    v = change_verdict(mean_diff=diff, ci_low=lo, ci_high=hi, d_z=diff * 2, p_holm=p)
    assert (v.certain, v.direction) == (certain, direction)


def test_suppressed_or_missing_interval():
    assert change_verdict(ci_low=NAN, ci_high=NAN, d_z=NAN, p_holm=NAN).suppressed
    assert change_verdict(ci_low=0.1, ci_high=0.3, d_z=0.9, p_holm=0.001, suppressed=True).key == "suppressed"


def test_finding_kommunikation_is_not_certain():
    """Issue 14: −0.07 [−0.14; 0.00] with Holm p 0.241 was labelled 'Verschlechterung (gering, aber gesichert)'."""
    row = pd.Series({"suppressed": False, "mean_diff": -0.07, "ci_low": -0.14, "ci_high": -0.0004, "d_z": -0.3, "p_holm": 0.241})
    assert not verdict_of(row).certain
    text = change_wording(row, "de")
    assert "aber gesichert" not in text and not text.startswith("gesichert")
    assert text == "nicht gesichert (Tendenz zur Verschlechterung, kleiner Effekt)"
    assert change_badge_kind(row) == ""  # no "down" colour for an uncertain change


def test_finding_dz_050_is_medium_not_small():
    """Issue 14: 'Stakeholder und Mitbestimmung' d_z 0.50 was labelled 'gering' while the page defines d_z ≥ 0.5 as medium."""
    row = pd.Series({"suppressed": False, "mean_diff": 0.31, "ci_low": 0.12, "ci_high": 0.50, "d_z": 0.50, "p_holm": 0.003})
    assert change_wording(row, "de") == "gesicherte Verbesserung (mittlerer Effekt)"
    assert change_wording(row, "en") == "certain improvement (medium effect)"
    assert change_badge_kind(row) == "up"


@pytest.mark.parametrize(
    "lo, hi, p, d, expected",
    [
        (0.2, 0.8, 0.001, 0.8, "gesicherte Verbesserung (großer Effekt)"),
        (0.2, 0.8, 0.001, 0.79, "gesicherte Verbesserung (mittlerer Effekt)"),
        (0.05, 0.3, 0.01, 0.2, "gesicherte Verbesserung (kleiner Effekt)"),
        (0.01, 0.1, 0.01, 0.19, "gesicherte Verbesserung (vernachlässigbarer Effekt)"),
        (0.05, 0.3, 0.2, 0.3, "nicht gesichert (Tendenz zur Verbesserung, kleiner Effekt)"),
        (-0.1, 0.8, 0.001, 0.9, "nicht gesichert (Tendenz zur Verbesserung, großer Effekt)"),
        (-0.1, 0.2, 0.6, 0.1, "keine gesicherte Veränderung"),
        (-0.9, -0.2, 0.001, -0.8, "gesicherte Verschlechterung (großer Effekt)"),
        (NAN, NAN, NAN, NAN, "zu wenige Paare"),
    ],
)
def test_wording_table(lo, hi, p, d, expected):
    row = pd.Series({"suppressed": math.isnan(lo), "ci_low": lo, "ci_high": hi, "p_holm": p, "d_z": d,
                     "mean_diff": NAN if math.isnan(lo) else (lo + hi) / 2})
    assert change_wording(row, "de") == expected
    if "gesichert" in expected and not expected.startswith("gesicherte"):
        assert not verdict_of(row).certain
