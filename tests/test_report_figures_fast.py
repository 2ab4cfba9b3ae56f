"""The report figures draw their many thin lines as one collection each, and the stakeholder key without
handle artists (fewer artists: faster); these tests pin what is drawn: every line at its place and in its
style, and every key row still there."""

from __future__ import annotations

import io

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from toolkit import plots
from toolkit.instruments import resolve_instrument

matplotlib.use("Agg")
COMP = resolve_instrument("competence_reflection")
DIMS = [d.id for d in COMP.dimensions if d.scored_items]


def _axes() -> object:
    return Figure(figsize=(7.0, 6.0)).add_subplot()


def _map(rows: list[tuple[str, float, float, float]]) -> pd.DataFrame:
    return pd.DataFrame([{"stakeholder": s, "label": s.title(), "influence": inf, "interest": intr, "attitude": 0.0,
                          "disagreement": False, "influence_q1": inf - 0.5, "influence_q3": inf + 0.25,
                          "interest_q1": intr - 1.0, "interest_q3": intr + 0.5} for s, inf, intr, _ in rows])


def _collections(ax, colour: str) -> list[LineCollection]:
    want = matplotlib.colors.to_rgb(colour)
    return [c for c in ax.collections if isinstance(c, LineCollection) and tuple(c.get_edgecolor()[0][:3]) == want]


def test_power_interest_iqr_and_leader_lines_are_one_collection_each_at_the_true_places():
    data = _map([("a", 4.0, 2.0, 0), ("b", 2.0, 4.0, 0), ("c", 2.0, 4.0, 0)])  # b and c share a place: spread, with leaders
    ax = plots.plot_power_interest(data, ax=_axes(), labels="names")
    assert not [ln for ln in ax.lines if len(ln.get_xdata()) == 2 and ln.get_color() in ("#9E9E9E", "#555555")]
    (iqr,) = _collections(ax, "#9E9E9E")
    segs = [np.asarray(s) for s in iqr.get_segments()]
    assert len(segs) == 6  # a horizontal and a vertical line per stakeholder
    # "a" is not moved: its lines span its quartiles through its median position
    assert any(np.allclose(s, [[1.0, 4.0], [2.5, 4.0]]) for s in segs)
    assert any(np.allclose(s, [[2.0, 3.5], [2.0, 4.25]]) for s in segs)
    assert iqr.get_linewidth()[0] == 0.9 and iqr.get_alpha() == 0.8 and iqr.get_zorder() == 2
    assert iqr.get_capstyle() == "projecting" and iqr.get_joinstyle() == "round"  # as Line2D draws them
    (leaders,) = _collections(ax, "#555555")
    starts = [tuple(np.asarray(s)[0]) for s in leaders.get_segments()]
    assert starts == [(4.0, 2.0), (4.0, 2.0)]  # from the true position of b and c to their moved markers
    ends = [np.asarray(s)[1] for s in leaders.get_segments()]
    assert not np.allclose(ends[0], ends[1]) and leaders.get_zorder() == 3
    # the moved IQR lines go through the moved markers, not through the true position
    for end in ends:
        assert any(np.isclose(s[0][1], end[1]) and np.isclose(s[1][1], end[1]) for s in segs)


def test_power_interest_without_quartiles_draws_no_iqr_collection():
    data = _map([("a", 4.0, 2.0, 0)]).drop(columns=["influence_q1", "influence_q3", "interest_q1", "interest_q3"])
    ax = plots.plot_power_interest(data, ax=_axes(), labels="names")
    assert _collections(ax, "#9E9E9E") == [] and _collections(ax, "#555555") == []


def test_power_interest_key_lists_every_stakeholder_and_draws_no_handles():
    rows = [(f"s{i}", 1.0 + (i % 5), 1.0 + (i * 7 % 5), 0) for i in range(11)]
    ax = plots.plot_power_interest(_map(rows), ax=_axes())  # 11 > 8: numbers with a key
    key = [lg for lg in ax.figure.findobj(matplotlib.legend.Legend) if lg.get_title().get_text() == "Stakeholder"]
    assert len(key) == 1
    texts = [t.get_text().split()[0] for t in key[0].get_texts()]
    assert texts == [str(n) for n in range(1, 12)]
    assert all(h is None for h in key[0].legend_handles)
    ax.figure.savefig(io.StringIO(), format="svg")  # draws (and crops) without handle artists
    attitude = [lg for lg in ax.figure.findobj(matplotlib.legend.Legend) if lg is not key[0]]
    assert attitude and all(isinstance(h, Line2D) for h in attitude[0].legend_handles)  # the attitude legend keeps its markers


def _change(missing: tuple[str, str] | None = None) -> pd.DataFrame:
    rows = []
    for i, d in enumerate(DIMS[:4]):
        for j, w in enumerate(["t0", "t1", "t2"]):
            m = 2.5 + 0.1 * i + 0.2 * j
            rows.append({"dimension": d, "wave": w, "mean": m, "ci_low": m - 0.2, "ci_high": m + 0.2})
    df = pd.DataFrame(rows)
    if missing:
        df.loc[(df["dimension"] == missing[0]) & (df["wave"] == missing[1]), ["mean", "ci_low", "ci_high"]] = np.nan
    return df


def test_change_links_each_dimension_through_its_shown_waves_in_one_collection():
    ax = plots.plot_change(_change(missing=(DIMS[1], "t1")), instrument=COMP, ax=_axes())
    (links,) = _collections(ax, "#9A9A9A")
    segs = [np.asarray(s) for s in links.get_segments()]
    assert len(segs) == 4
    by_x = {round(float(s[0][0]), 6): s for s in segs}
    first = by_x[2.5]  # DIMS[0], top row (y = 3), three waves offset around the row
    assert np.allclose(first[:, 0], [2.5, 2.7, 2.9]) and np.allclose(first[:, 1], [3 - 0.18, 3.0, 3 + 0.18])
    second = by_x[2.6]  # DIMS[1] without t1: linked from t0 to t2 only
    assert np.allclose(second[:, 0], [2.6, 3.0]) and len(second) == 2
    assert links.get_linewidth()[0] == 1.5 and links.get_zorder() == 1
    assert links.get_capstyle() == "projecting" and links.get_joinstyle() == "round"


def test_change_with_one_shown_wave_per_dimension_draws_no_links():
    df = _change()
    df = df[df["wave"] == "t0"]
    ax = plots.plot_change(df, instrument=COMP, ax=_axes())
    assert _collections(ax, "#9A9A9A") == []
