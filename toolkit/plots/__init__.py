"""Plots for reports, dashboards and notebooks.

Every function draws on a given matplotlib Axes (or makes a new figure) and returns the Axes;
it never shows or saves. Labels are German by default (``lang="en"`` for English), colours
come from colour-blind-safe palettes (Okabe–Ito, ColorBrewer PuOr and RdYlBu) and every
distinction also shows as marker, line style or hatching, so the plots read in greyscale print.
User text (stakeholder names, group labels) is shown literally: ``$`` is escaped, so mathtext
never runs on it. Suppressed values are never drawn; the plot says they were suppressed.

Example
-------
>>> import pandas as pd
>>> from toolkit.instruments import resolve_instrument
>>> inst = resolve_instrument("competence_reflection")
>>> d = pd.DataFrame({"dimension": ["data", "data"], "wave": ["t0", "t1"], "mean": [3.0, 3.5]})
>>> type(plot_change(d, instrument=inst)).__name__
'Axes'
"""

from __future__ import annotations

from ._common import OKABE_ITO, SERIES_COLORS, safe_text
from .grids import likert_shares, plot_heatmap, plot_likert_bars
from .profile import plot_change, plot_needs, plot_profile_radar, prepare_radar
from .stakeholder_grid import attitude_cmap, plot_power_interest

__all__ = [
    "OKABE_ITO",
    "SERIES_COLORS",
    "safe_text",
    "attitude_cmap",
    "likert_shares",
    "plot_profile_radar",
    "prepare_radar",
    "plot_likert_bars",
    "plot_power_interest",
    "plot_change",
    "plot_heatmap",
    "plot_needs",
]
