"""The faster paths of the report sections give what the direct computations give.

Each authority's own levels and each ministry's comparison levels are decided once for every
authority / ministry and sliced per report (:func:`toolkit.reports.sec_competence.own_levels`,
``comparison_levels``); figures start from a pickled blank Figure (:func:`toolkit.reports.base.blank_figure`);
``records`` replaces ``to_dict("records")``; the SVG text cache keys fonts by their properties.
"""

from __future__ import annotations

import math

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")


def _same_frames(a: pd.DataFrame, b: pd.DataFrame) -> None:
    a, b = a.reset_index(drop=True), b.reset_index(drop=True)
    assert list(a.columns) == list(b.columns)
    assert len(a) == len(b)
    for c in a.columns:
        if c == "who":
            assert list(a[c]) == list(b[c])
        else:
            pd.testing.assert_series_equal(a[c], b[c], check_dtype=False, check_names=False, check_categorical=False)


def test_levels_of_every_authority_sliced_equal_each_authoritys_own(demo_db):
    """levels(by="authority") over the whole cohort, sliced to one authority, equals levels over its rows alone
    (values, suppression, reasons and respondent sets), for authorities above and below k."""
    from toolkit.privacy import levels, recording
    from toolkit.reports.context import cohort_data

    data = cohort_data(demo_db)
    s = data.scores()
    s = s.assign(wave=s["wave"].astype(str), dimension=s["dimension"].astype(str))
    k = int(data.cohort["min_group_size"])
    with recording():
        every = levels(s, "authority", k=k, instrument="ci", output="plan")
    seen_suppressed = seen_shown = False
    for authority in data.authorities["authority"]:
        with recording():
            own = levels(s[s["authority"] == authority], "authority", k=k, instrument="ci", output="plan")
        mine = data.rows_of(every, authority)
        _same_frames(mine, own)
        seen_suppressed |= bool(own["suppressed"].any())
        seen_shown |= bool((~own["suppressed"]).any())
    assert seen_suppressed and seen_shown  # both kinds of rows were compared


def test_levels_of_every_ministry_sliced_equal_each_ministrys_own(demo_db):
    """Ministry values are over each ministry's shown authorities only: all ministries at once, sliced, equal one at a time."""
    from toolkit.privacy import levels, recording
    from toolkit.reports.context import cohort_data

    data = cohort_data(demo_db)
    s = data.scores()
    wave = str(s["wave"].iloc[0])
    s = s[s["wave"].astype(str) == wave]
    s = s.assign(wave=wave, dimension=s["dimension"].astype(str))
    k = int(data.cohort["min_group_size"])
    with recording():
        every = levels(s, "ministry", k=k, instrument="ci", output="plan")
    excluded = 0
    for ministry in s["ministry"].unique():
        with recording():
            own = levels(s[s["ministry"] == ministry], "ministry", k=k, instrument="ci", output="plan")
        _same_frames(data.rows_of(every, ministry, column="ministry"), own)
        excluded += int(own["n_excluded"].sum())
    assert excluded > 0  # some ministries leave out authorities below k: the case that could differ


def test_report_records_the_same_releases_as_direct_levels(demo_db):
    """The profile's own values released into a report are recorded with the same cells and people as
    a direct levels() release over the authority's rows."""
    from toolkit.privacy import levels, recording
    from toolkit.reports import sections as S
    from toolkit.reports.base import profile_wave
    from toolkit.reports.sec_competence import comparison_levels

    ctx = S.authority_context(demo_db, "BAMF")
    comp = ctx.data.competence
    wave, _ = profile_wave(ctx)
    scores = ctx.data.scores()
    with recording() as fast:
        own, _, _ = comparison_levels(ctx, scores, instrument=comp.id, wave=wave, ministry=ctx.ministry)
    rows = ctx.rows(scores)
    rows = rows[rows["wave"].astype(str) == str(wave)]
    with recording() as direct:
        ref = levels(rows.assign(wave=str(wave), dimension=rows["dimension"].astype(str)), "authority", k=ctx.k,
                     instrument=comp.id, output="report:BAMF").set_index("dimension")
    assert own["mean"].equals(ref["mean"]) and own["suppressed"].equals(ref["suppressed"])
    entries = {(e.cell, e.quantity, frozenset(fast.names(e.mask))) for e in fast.entries if e.cell.count("/") == 2}
    expected = {(e.cell, e.quantity, frozenset(direct.names(e.mask))) for e in direct.entries}
    assert expected and expected <= entries


def test_blank_figure_draws_the_same_svg_as_a_new_figure():
    """A figure from the pickled blank one gives the same SVG bytes as Figure().add_subplot, polar and not;
    every call is a new, independent figure."""
    from matplotlib.figure import Figure

    from toolkit.reports.base import blank_figure
    from toolkit.reports.render import svg_tight

    def draw(ax):
        ax.plot([0.0, 1.0, 2.0], [1.0, 3.0, 2.0], label="Welle 1")
        ax.set_title("Überschrift")
        ax.legend()

    for polar, size in ((False, (7.0, 4.2)), (True, (6.4, 5.6))):
        ref = Figure(figsize=size)
        draw(ref.add_subplot(111, projection="polar" if polar else None))
        a, b = blank_figure(size, polar=polar), blank_figure(size, polar=polar)
        assert a is not b and a.axes[0] is not b.axes[0] and len(a.axes) == 1
        assert (a.axes[0].name == "polar") is polar
        draw(a.axes[0])
        assert not b.axes[0].lines  # drawing on one leaves the next untouched
        assert svg_tight(a) == svg_tight(ref)


def test_blank_figure_follows_changed_rc_settings():
    from toolkit.reports.base import blank_figure

    before = blank_figure((3.0, 2.0)).axes[0].get_facecolor()
    with matplotlib.rc_context({"axes.facecolor": "#123456"}):
        inside = blank_figure((3.0, 2.0)).axes[0].get_facecolor()
    assert inside != before
    assert matplotlib.colors.to_hex(inside) == "#123456"


def test_records_equal_to_dict_records():
    from toolkit.privacy.release import records

    df = pd.DataFrame({
        "i": [1, 2, 3],
        "f": [1.5, np.nan, 2.0],
        "s": pd.array(["a", None, "c"], dtype="str") if hasattr(pd, "StringDtype") else ["a", None, "c"],
        "o": [frozenset({"x"}), None, "text"],
        "c": pd.Categorical(["u", "v", "u"]),
        "n": pd.array([1, None, 3], dtype="Int64"),
        "b": [True, False, True],
        "t": pd.to_datetime(["2026-01-01", None, "2026-03-01"]),
    })
    got, want = records(df), df.to_dict("records")
    assert [list(r) for r in got] == [list(r) for r in want]
    for g, w in zip(got, want):
        for key in g:
            x, y = g[key], w[key]
            if isinstance(y, float) and math.isnan(y):
                assert isinstance(x, float) and math.isnan(x)
            elif y is pd.NA or y is pd.NaT or y is None:
                assert x is y or (pd.isna(x) and pd.isna(y))
            else:
                assert type(x) is type(y) and x == y, key
    assert records(df.iloc[0:0]) == []
    dup = pd.DataFrame([[1, 2]], columns=["a", "a"])
    with pytest.warns(UserWarning):  # repeated names: what to_dict does, with its warning
        assert records(dup) == [{"a": 2}]


def test_svg_font_key_follows_the_rc_font_lists():
    """The font files behind a text are looked up again when the rc font lists change (the key cache is never stale)."""
    from matplotlib.font_manager import FontProperties, fontManager

    from toolkit.plots._svg import CachedTextToPath

    t2p = CachedTextToPath()
    prop = FontProperties(size=9)
    first = t2p._font_key(prop)
    assert first[0] == tuple(fontManager._find_fonts_by_props(prop))
    assert t2p._font_key(prop) is first  # cached
    with matplotlib.rc_context({"font.sans-serif": ["DejaVu Serif"]}):
        other = t2p._font_key(FontProperties(size=9))
        assert other[0] == tuple(fontManager._find_fonts_by_props(FontProperties(size=9)))
    bold = t2p._font_key(FontProperties(size=9, weight="bold"))
    assert bold[0] == tuple(fontManager._find_fonts_by_props(FontProperties(size=9, weight="bold")))
    assert other[0] != first[0] and bold[0] != first[0]


def test_first_cohort_frozen_and_unfrozen_on_switch(tmp_path):
    """The first cohort a process loads is frozen for the collector; another cohort unfreezes (nothing kept frozen)."""
    import subprocess
    import sys
    from pathlib import Path

    from toolkit.demo import build_demo

    a, b = tmp_path / "a.sqlite", tmp_path / "b.sqlite"
    build_demo(a, n_authorities=2, seed=1).close()
    build_demo(b, n_authorities=2, seed=2).close()
    root = str(Path(__file__).resolve().parent.parent)
    script = ("import gc, sys\nsys.path.insert(0, sys.argv[1])\nfrom toolkit.reports.context import cohort_data\n"
              "cohort_data(sys.argv[2]); f1 = gc.get_freeze_count()\n"
              "cohort_data(sys.argv[3]); f2 = gc.get_freeze_count()\n"
              "cohort_data(sys.argv[2]); f3 = gc.get_freeze_count()\n"
              "print(f1, f2, f3)")
    out = subprocess.run([sys.executable, "-P", "-c", script, root, str(a), str(b)], capture_output=True, text=True, check=True)
    f1, f2, f3 = map(int, out.stdout.split())
    assert f1 > 0 and f2 == 0 and f3 == 0


def test_release_into_an_empty_record_given_writes_there_not_into_the_process_record():
    """An explicitly given record that is still empty (``len == 0``, so falsy) receives the release."""
    from toolkit.privacy.release import Level, Record, fresh_process_record, release

    glob = fresh_process_record(k=3)
    mine = Record(k=3)
    assert len(mine) == 0
    res = release(Level("competence_reflection", "D1", "t0"), ["p1", "p2", "p3"], 3.5, output="x", record=mine)
    assert res.shown
    assert len(mine) == 1 and len(glob) == 0


def test_blank_figure_with_the_ticks_of_earlier_figures_draws_the_same_svg_as_a_new_figure():
    """After a first figure, blank figures of that size come with its number of major ticks made; a radar and a
    change chart drawn on them (fewer or as many ticks as made) give the same SVG bytes as on a new Figure."""
    from matplotlib.figure import Figure

    from toolkit import plots
    from toolkit.instruments import resolve_instrument
    from toolkit.reports import base
    from toolkit.reports.render import svg_tight

    comp = resolve_instrument("competence_reflection")
    dims = [d.id for d in comp.dimensions if d.scored_items]
    radar = pd.DataFrame([{"dimension": d, "group": g, "score": 2.0 + 0.3 * i + (g == "Kohorte")}
                          for g in ("Behörde", "Kohorte") for i, d in enumerate(dims)])
    change = pd.DataFrame([{"dimension": d, "wave": w, "mean": 2.5 + 0.1 * i + 0.3 * j, "ci_low": 2.3 + 0.1 * i + 0.3 * j,
                            "ci_high": 2.7 + 0.1 * i + 0.3 * j} for i, d in enumerate(dims) for j, w in enumerate(("t0", "t1"))])
    few_dims, few_waves = radar[radar["dimension"].isin(dims[:4])], change[change["dimension"].isin(dims[:3])]

    def radar_of(d):
        return lambda ax: plots.plot_profile_radar(d, instrument=comp, ax=ax)

    def change_of(d):
        return lambda ax: plots.plot_change(d, instrument=comp, ax=ax)

    cases = [(True, (6.3, 5.5), radar_of(radar)), (True, (6.3, 5.5), radar_of(few_dims)),
             (False, (7.5, 4.7), change_of(change)), (False, (7.5, 4.7), change_of(few_waves))]
    base._TICKS.clear()
    for polar, size, draw in cases:
        ref = Figure(figsize=size)
        draw(ref.add_subplot(111, projection="polar" if polar else None))
        first = base.draw_figure(draw, polar=polar, size=size)
        made = base._TICKS[(size, polar)]
        assert made[0] >= len(first.axes[0].get_xticks()) and made[1] >= len(first.axes[0].get_yticks())
        again = base.draw_figure(draw, polar=polar, size=size)  # from a blank figure with the ticks made
        assert len(again.axes[0].xaxis.majorTicks) >= made[0]
        assert svg_tight(first) == svg_tight(again) == svg_tight(ref)


def test_radar_on_a_prepared_blank_figure_draws_the_same_svg_as_on_a_new_figure():
    """The radar's data-free set-up (direction, label padding, grid) is made once in the copied blank figure
    (draw_figure(prepare=plots.prepare_radar)); the chart drawn on it, first and from the copy, gives the same SVG
    bytes as plot_profile_radar on a new Figure, which sets itself up; an unprepared blank is set up by the chart."""
    from matplotlib.figure import Figure

    from toolkit import plots
    from toolkit.instruments import resolve_instrument
    from toolkit.reports import base
    from toolkit.reports.render import svg_tight

    comp = resolve_instrument("competence_reflection")
    dims = [d.id for d in comp.dimensions if d.scored_items]
    radar = pd.DataFrame([{"dimension": d, "group": g, "score": 2.0 + 0.3 * i + (g == "Kohorte")}
                          for g in ("Behörde", "Kohorte") for i, d in enumerate(dims)])

    def draw(ax):
        return plots.plot_profile_radar(radar, instrument=comp, ax=ax)

    size = (6.1, 5.3)
    ref = Figure(figsize=size)
    draw(ref.add_subplot(111, projection="polar"))
    base._TICKS.clear()
    first = base.draw_figure(draw, polar=True, size=size, prepare=plots.prepare_radar)
    again = base.draw_figure(draw, polar=True, size=size, prepare=plots.prepare_radar)  # the copy, with the ticks made
    plain = base.draw_figure(draw, polar=True, size=size)  # not prepared: the chart sets itself up
    assert getattr(base.blank_figure(size, polar=True, prepare=plots.prepare_radar).axes[0], "_toolkit_radar_ready", False)
    assert not getattr(base.blank_figure(size, polar=True).axes[0], "_toolkit_radar_ready", False)
    assert svg_tight(first) == svg_tight(again) == svg_tight(plain) == svg_tight(ref)


def test_ticks_and_legend_boxes_laid_out_once_per_draw_write_the_same_svg_and_are_undone():
    """svg_tight lets every axis update its ticks and measure their labels, and every legend box measure itself,
    once per draw and measure (toolkit.plots._svg.layout_once): the same SVG bytes as matplotlib recomputing
    them, for the report's charts (with one and two legends); afterwards they compute them again (a tick or
    legend text changed after the draw is drawn)."""
    import contextlib

    from toolkit import plots
    from toolkit.instruments import resolve_instrument
    from toolkit.plots import _svg
    from toolkit.reports import base
    from toolkit.reports.render import svg_tight

    comp = resolve_instrument("competence_reflection")
    dims = [d.id for d in comp.dimensions if d.scored_items]
    radar = pd.DataFrame([{"dimension": d, "group": g, "score": 2.0 + 0.3 * i} for g in ("Behörde", "Kohorte") for i, d in enumerate(dims)])
    change = pd.DataFrame([{"dimension": d, "wave": w, "mean": 2.5 + 0.1 * i + 0.3 * j, "ci_low": 2.3 + 0.1 * i + 0.3 * j,
                            "ci_high": 2.7 + 0.1 * i + 0.3 * j} for i, d in enumerate(dims) for j, w in enumerate(("t0", "t1"))])
    grid = pd.DataFrame({"stakeholder": ["a", "b", "c"], "label": ["Personalrat", "IT-Dienstleister", "Haushaltsreferat"],
                         "influence": [4.0, 2.0, 4.0], "interest": [4.5, 2.0, 4.5], "attitude": [-1.0, 0.0, 1.0],
                         "disagreement": [True, False, False]})
    charts = [(lambda ax: plots.plot_profile_radar(radar, instrument=comp, ax=ax), True, (6.4, 5.6)),
              (lambda ax: plots.plot_change(change, instrument=comp, ax=ax), False, (9.0, 5.0)),
              (lambda ax: plots.plot_power_interest(grid, ax=ax, labels="numbers"), False, (7.0, 6.0))]
    once = _svg.layout_once
    for draw, polar, size in charts:
        fig, ref = base.draw_figure(draw, polar=polar, size=size), base.draw_figure(draw, polar=polar, size=size)
        svg = svg_tight(fig)
        _svg.layout_once = lambda _fig: contextlib.nullcontext()
        try:
            assert svg == svg_tight(ref)
        finally:
            _svg.layout_once = once
        for axis in fig.axes[0]._axis_map.values():
            assert "_update_ticks" not in vars(axis) and "_get_ticklabel_bboxes" not in vars(axis)
        boxes = _svg._legend_boxes(fig)
        assert boxes and not any("get_bbox" in vars(b) or "_get_bbox_and_child_offsets" in vars(b) for b in boxes)
    fig = base.draw_figure(charts[1][0], size=(9.0, 5.0))
    first = svg_tight(fig)
    fig.axes[0].set_xticks([1, 3, 5])
    moved = svg_tight(fig)
    assert moved != first
    fig.axes[0].get_legend().get_texts()[0].set_text("Welle eins, länger")
    assert svg_tight(fig) != moved
