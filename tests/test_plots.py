"""Tests of toolkit.plots: Axes in/out, German default and English labels, suppressed input,
inert user text, and a PNG of each plot in tests/artifacts (look at them: this is the product's face)."""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib import cbook
from matplotlib.patches import Rectangle

from toolkit import plots
from toolkit.exceptions import DataError
from toolkit.instruments import resolve_instrument
from toolkit.privacy import SUPPRESSED_NOTE

COMP = resolve_instrument("competence_reflection")
STAKE = resolve_instrument("stakeholder_analysis")
DIMS = [d.id for d in COMP.dimensions if d.scored_items]


def _texts(ax) -> list[str]:
    """Every text of the figure of ``ax`` (labels, ticks, legends, annotations)."""
    fig = ax.figure
    return [t.get_text() for t in fig.findobj(matplotlib.text.Text) if t.get_text()]


def _all_text(ax) -> str:
    """All texts, whitespace (incl. wrapping) normalised."""
    return " ".join(" ".join(_texts(ax)).split())


# ----------------------------------------------------------------------------- small inputs
def _radar_data(nan: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    rows = [{"dimension": d, "group": g, "score": float(rng.uniform(2, 4.5))} for g in ("Behörde", "Ressort", "Kohorte") for d in DIMS]
    df = pd.DataFrame(rows)
    if nan:
        df.loc[(df["group"] == "Behörde") & (df["dimension"] == "data"), "score"] = np.nan
    return df


def _likert_data(n: int = 12) -> pd.DataFrame:
    rng = np.random.default_rng(2)
    items = ["dt1", "dt2", "dt3", "co1", "co3"]
    rows = [{"participant": f"P{p}", "item": i, "value": float(rng.choice([0, 1, 2, 3, 4, 5], p=[.05, .1, .15, .3, .25, .15]))}
            for p in range(n) for i in items]
    return pd.DataFrame(rows)


def _map_data(nan: bool = False) -> pd.DataFrame:
    rows = []
    for n, (sh, inf, intr, att, dis) in enumerate(
        [("behoerdenleitung", 5, 4, 1, False), ("personalrat", 4, 2, -1.5, True), ("fachbereich", 3, 4.5, 0, False),
         ("haushalt", 2, 2, 0.5, False), ("Kosten $ und <script>alert(1)</script> $$x$$", 2, 2, -2, True)]
    ):
        rows.append({"authority": "BVA", "stakeholder": sh, "label": STAKE.stakeholder_name(sh), "influence": float(inf),
                     "interest": float(intr), "attitude": att, "disagreement": dis, "influence_q1": inf - 0.5,
                     "influence_q3": inf + 0.5, "interest_q1": intr - 1, "interest_q3": intr + 0.5})
    df = pd.DataFrame(rows)
    if nan:
        df.loc[3, ["influence", "interest"]] = np.nan
    return df


def _change_data(nan: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    rows = []
    for d in DIMS[:6]:
        base = rng.uniform(2.5, 3.5)
        for j, w in enumerate(["t0", "t1", "t2"]):
            m = base + 0.25 * j * rng.uniform(0, 1)
            rows.append({"dimension": d, "wave": w, "mean": m, "ci_low": m - 0.2, "ci_high": m + 0.2, "n": 12, "suppressed": False})
    df = pd.DataFrame(rows)
    if nan:
        df.loc[(df["dimension"] == DIMS[1]) & (df["wave"] == "t2"), ["mean", "ci_low", "ci_high", "suppressed"]] = [np.nan, np.nan, np.nan, True]
    return df


def _heatmap_data(nan: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(4)
    rows = [{"authority": a, "dimension": d, "mean": float(rng.uniform(2, 4.5)), "n": 9, "suppressed": False}
            for a in ("BVA", "BAMF", "JKI", "KBA") for d in DIMS]
    df = pd.DataFrame(rows)
    if nan:
        df.loc[df["authority"] == "JKI", ["mean", "suppressed"]] = [np.nan, True]
    return df


def _needs_data(nan: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(5)
    ist = rng.uniform(2, 3.5, len(DIMS))
    soll = ist + rng.uniform(-0.2, 1.5, len(DIMS))
    imp = rng.uniform(3, 5, len(DIMS))
    df = pd.DataFrame({"authority": "BVA", "dimension": DIMS, "n": 12, "ist": ist, "soll": soll, "gap": soll - ist,
                       "importance": imp, "needs": imp * np.clip(soll - ist, 0, None)})
    df["rank"] = df["needs"].rank(ascending=False, method="min")
    if nan:
        df.loc[2, ["ist", "soll", "gap", "importance", "needs"]] = np.nan
        df["suppressed"] = df["needs"].isna()
    return df


CASES = {
    # name: (function, data builder, kwargs, German words, English words)
    "radar": (plots.plot_profile_radar, _radar_data, {"instrument": COMP}, ["Kommunikation"], ["Communication"]),
    "likert": (plots.plot_likert_bars, _likert_data, {"instrument": COMP}, ["Anteil der gültigen Antworten", "trifft voll zu"],
               ["Share of valid responses", "completely true"]),
    "power_interest": (plots.plot_power_interest, _map_data, {}, ["Interesse", "Einfluss", "ENG EINBINDEN", "BEOBACHTEN"],
                       ["Interest", "Influence", "MANAGE CLOSELY", "MONITOR"]),
    "change": (plots.plot_change, _change_data, {"instrument": COMP}, ["Mittelwert mit 95-%-Konfidenzintervall"],
               ["Mean with 95% confidence interval"]),
    "heatmap": (plots.plot_heatmap, _heatmap_data, {"instrument": COMP}, ["Mittelwert", "Daten und Datenkompetenz"],
                ["Mean", "Data and data literacy"]),
    "needs": (plots.plot_needs, _needs_data, {"instrument": COMP}, ["Bedarfsindex", "Wichtigkeit"], ["Needs index", "importance"]),
}


def _ax_for(name: str):
    fig = plt.figure(figsize=(10, 7))
    return fig.add_subplot(projection="polar" if name == "radar" else None)


@pytest.mark.parametrize("name", list(CASES))
def test_returns_the_given_axes_and_draws(name):
    func, build, kwargs, _, _ = CASES[name]
    ax = _ax_for(name)
    out = func(build(), **kwargs, ax=ax)
    assert out is ax
    ax.figure.canvas.draw()  # renders without error (incl. every text through mathtext checks)


@pytest.mark.parametrize("name", list(CASES))
def test_german_by_default_english_on_request(name):
    func, build, kwargs, de_words, en_words = CASES[name]
    de = _all_text(func(build(), **kwargs))
    en = _all_text(func(build(), **kwargs, lang="en"))
    for w in de_words:
        assert w in de, (w, name)
        assert w not in en, (w, name)
    for w in en_words:
        assert w in en, (w, name)


@pytest.mark.parametrize("name", list(CASES))
def test_suppressed_or_missing_input_is_marked_not_drawn(name, artifacts):
    func, build, kwargs, _, _ = CASES[name]
    data = build(nan=True) if name != "likert" else _likert_data(n=3)
    extra = {"k": 5} if name == "likert" else {}
    ax = func(data, **kwargs, **extra)
    ax.figure.canvas.draw()
    text = _all_text(ax)
    if name == "power_interest":
        assert "nicht darstellbar" in text.lower() and "Haushaltsreferat" in text
    else:
        assert SUPPRESSED_NOTE["de"].lower() in text.lower(), name
    ax.figure.savefig(artifacts / f"plot_{name}_suppressed.png", dpi=80)


def test_radar_leaves_a_gap_and_needs_polar_axes():
    ax = plots.plot_profile_radar(_radar_data(nan=True), instrument=COMP)
    behoerde = [line for line in ax.get_lines() if line.get_label() == "Behörde"][0]
    assert np.isnan(behoerde.get_ydata()).sum() == 1  # the suppressed dimension is a gap, not a zero
    _, flat = plt.subplots()
    with pytest.raises(DataError, match="polar"):
        plots.plot_profile_radar(_radar_data(), instrument=COMP, ax=flat)
    # distinguishable without colour: every group has its own marker and line style
    styles = {(line.get_marker(), line.get_linestyle()) for line in ax.get_lines() if not line.get_label().startswith("_")}
    assert len(styles) == 3


def test_likert_bars_sorted_by_agreement_and_suppress_small_items():
    data = _likert_data(n=20)
    ax = plots.plot_likert_bars(data, instrument=COMP)
    shares = plots.likert_shares(data, COMP)
    agree = shares.loc[shares["point"] >= 4].groupby("item")["share"].sum().sort_values(ascending=False)
    labels = [" ".join(t.get_text().split()) for t in ax.get_yticklabels()]  # top first
    firsts = [COMP.item(i).text.get("de")[:15] for i in agree.index]
    assert [lab[:15] for lab in labels] == firsts
    assert any("negativ formuliert" in lab for lab in labels)  # dt3 and co3 are reverse-keyed
    # the missing code 0 is not a share
    assert shares.groupby("item")["share"].sum().round(12).eq(1).all()
    few = pd.concat([_likert_data(n=20).query("item != 'co1'"), _likert_data(n=3).query("item == 'co1'")])
    ax = plots.plot_likert_bars(few, instrument=COMP, k=5)
    assert SUPPRESSED_NOTE["de"].lower() in _all_text(ax).lower()


def test_user_text_is_inert():
    ax = plots.plot_power_interest(_map_data(), labels="names")
    ax.figure.canvas.draw()
    texts = _texts(ax)
    evil = [t for t in texts if "script" in t]
    assert evil and all(not cbook.is_math_text(t) for t in evil)
    assert any(r"Kosten \$ und" in t for t in texts)  # shown literally as "Kosten $ und"
    ax = plots.plot_profile_radar(_radar_data().replace({"Behörde": "50 $ pro $ Kopf"}), instrument=COMP)
    ax.figure.canvas.draw()
    assert "50 \\$ pro \\$ Kopf" in _texts(ax)


def test_power_interest_numbers_key_and_authority_selection():
    many = pd.concat([_map_data().assign(stakeholder=lambda d, k=k: d["stakeholder"] + str(k)) for k in range(2)], ignore_index=True)
    ax = plots.plot_power_interest(many)  # 10 stakeholders: numbered, with a key
    text = _all_text(ax)
    assert "Stakeholder 1 Behördenleitung 2 Personalrat (!)" in text
    two = pd.concat([_map_data(), _map_data().assign(authority="BAMF")])
    with pytest.raises(DataError, match="authority="):
        plots.plot_power_interest(two)
    ax = plots.plot_power_interest(two, authority="BAMF")
    assert "Personalrat !" in _texts(ax)  # disagreement marked


def test_heatmap_hatches_exactly_the_suppressed_cells():
    data = _heatmap_data(nan=True)
    ax = plots.plot_heatmap(data, instrument=COMP)
    hatched = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_hatch()]
    assert len(hatched) == int(data["suppressed"].sum()) == len(DIMS)
    cells = [t.get_text() for t in ax.texts]
    assert all("." not in c for c in cells) and any("," in c for c in cells)
    en_cells = [t.get_text() for t in plots.plot_heatmap(data, instrument=COMP, lang="en").texts]
    assert any("." in c for c in en_cells)


def test_change_accepts_paired_change_frame():
    pc = pd.DataFrame({"dimension": DIMS[:3], "n_pairs": 10, "mean_from": [3.0, 3.2, 2.9], "mean_to": [3.4, 3.1, 3.3],
                       "mean_diff": [0.4, -0.1, 0.4], "ci_low": [0.1, -0.3, 0.2], "ci_high": [0.7, 0.1, 0.6]})
    ax = plots.plot_change(pc, instrument=COMP, from_label="t0", to_label="t1")
    text = _all_text(ax)
    assert "Δ +0,40 [0,10; 0,70]" in text and "t0" in text and "t1" in text


def test_needs_rejects_several_groups_and_invalid_lang():
    two = pd.concat([_needs_data(), _needs_data().assign(authority="BAMF")])
    with pytest.raises(DataError, match="one group"):
        plots.plot_needs(two, instrument=COMP)
    with pytest.raises(DataError, match="lang"):
        plots.plot_needs(_needs_data(), instrument=COMP, lang="fr")
    ax = plots.plot_needs(_needs_data(), instrument=COMP)
    labels = [t.get_text().replace("\n", " ") for t in ax.get_yticklabels()]
    top = _needs_data().sort_values("needs", ascending=False)["dimension"].iloc[0]
    assert labels[0] == COMP.dimension(top).title.get("de")  # highest need on top


@pytest.mark.parametrize("name", list(CASES))
def test_inputs_are_not_mutated(name):
    func, build, kwargs, _, _ = CASES[name]
    data = build()
    before = data.copy()
    func(data, **kwargs)
    pd.testing.assert_frame_equal(data, before)


def test_artifacts_from_the_demo_cohort(demo_db, artifacts):
    """Every plot on realistic data, German and English, saved for a look."""
    from toolkit import privacy, scoring, stakeholders, stats
    from toolkit.store import Store

    with Store(demo_db) as store:
        resp = store.responses(COMP.id)
        sresp = store.responses(STAKE.id)
        k = store.min_group_size
    scores = scoring.dimension_scores(resp, COMP)
    t0 = scores[scores["wave"] == "t0"]
    for lang in ("de", "en"):
        names = {"de": ("Behörde (BVA)", "Ressort (BMI)", "Kohorte"), "en": ("Authority (BVA)", "Ministry (BMI)", "Cohort")}[lang]
        prof = pd.concat([
            privacy.group_summary(t0[t0["authority"] == "BVA"], "dimension", k=k).assign(group=names[0]),
            privacy.group_summary(t0[t0["ministry"] == "BMI"], "dimension", k=k).assign(group=names[1]),
            privacy.group_summary(t0, "dimension", k=k).assign(group=names[2]),
        ])
        figs = {
            "radar": plots.plot_profile_radar(prof, instrument=COMP, value="mean", lang=lang),
            "likert": plots.plot_likert_bars(resp[(resp["authority"] == "BVA") & (resp["wave"] == "t0")], instrument=COMP,
                                             lang=lang, k=k),
            "power_interest": plots.plot_power_interest(stakeholders.stakeholder_map(sresp, STAKE, lang=lang),
                                                        authority="BAMF", lang=lang),
            "change": plots.plot_change(privacy.group_summary(scores[scores["authority"] == "BVA"], ["dimension", "wave"], k=k),
                                        instrument=COMP, lang=lang),
            "change_paired": plots.plot_change(stats.paired_change(scores[scores["authority"] == "BVA"], "t0", "t1"),
                                               instrument=COMP, lang=lang, from_label="t0", to_label="t1"),
            "heatmap": plots.plot_heatmap(privacy.group_summary(t0, ["authority", "dimension"], k=k), instrument=COMP, lang=lang),
            "needs": plots.plot_needs(scoring.needs_ranking(scoring.gaps(resp[resp["wave"] == "t0"], COMP)).query("authority == 'BVA'"),
                                      instrument=COMP, lang=lang),
        }
        for name, ax in figs.items():
            assert isinstance(ax, matplotlib.axes.Axes)
            if lang == "en" and name not in ("radar", "power_interest", "needs"):
                plt.close(ax.figure)
                continue  # English labels are checked above; a few English PNGs suffice
            path = artifacts / f"plot_{name}_{lang}.png"
            ax.figure.savefig(path, dpi=90)
            assert path.stat().st_size > 10_000
            plt.close(ax.figure)
    heat = privacy.group_summary(t0, ["authority", "dimension"], k=k)
    assert heat["suppressed"].any()  # the demo has authorities below k: the heatmap shows hatched cells


def _change_means(with_ci: bool = True) -> pd.DataFrame:
    rows = []
    for i, d in enumerate(DIMS[:4]):
        for j, w in enumerate(["t0", "t1", "t2"]):
            m = 2.6 + 0.3 * i + 0.2 * j
            rows.append({"dimension": d, "wave": w, "mean": m, "ci_low": m - 0.15 - 0.05 * j if with_ci else np.nan,
                         "ci_high": m + 0.2 + 0.01 * i if with_ci else np.nan})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("with_ci", [True, False])
def test_change_draws_its_means_and_ci_as_errorbar_draws_them_without_calling_it(monkeypatch, with_ci):
    """plot_change makes errorbar's artists directly: the same SVG bytes as ax.errorbar with the same arguments,
    the bar and cap coordinates those of the data, and the legend entry an errorbar container."""
    from matplotlib.axes import Axes
    from matplotlib.container import ErrorbarContainer
    from matplotlib.figure import Figure

    from toolkit.plots.profile import _means_with_ci
    from toolkit.reports.render import svg_tight

    x = np.array([3.1, 2.4, 4.05, 3.5])
    y = np.array([3.0, 2.0, 1.0, 0.0]) - 0.12
    err = np.array([[0.3, 0.1, 0.25, 0.0], [0.2, 0.15, 0.4, 0.0]]) if with_ci else None

    def figure(direct: bool) -> str:
        fig = Figure(figsize=(6.0, 3.0))
        ax = fig.add_subplot()
        ax.plot([2.0, 4.5], [0.0, 3.0], color="grey")  # something drawn before, as the links
        kw = {"markersize": 7, "capsize": 3, "elinewidth": 1.2, "markeredgecolor": "white", "label": "t1", "zorder": 3}
        if direct:
            box = _means_with_ci(ax, x, y, err, "s", "#E69F00", "t1")
        else:
            box = ax.errorbar(x, y, xerr=err, fmt="s", color="#E69F00", **kw)
        assert isinstance(box, ErrorbarContainer) and box.has_xerr == with_ci and not box.has_yerr
        ax.legend()
        return svg_tight(fig)

    direct = figure(True)
    assert direct == figure(False)
    fig = Figure()
    ax = fig.add_subplot()
    box = _means_with_ci(ax, x, y, err, "o", "#0072B2", "t0")
    if with_ci:
        segments = box.lines[2][0].get_segments()
        assert np.allclose([s[:, 0] for s in segments], np.c_[x - err[0], x + err[1]])
        assert np.allclose([s[:, 1] for s in segments], np.c_[y, y])
        assert [list(c.get_xdata()) for c in box.lines[1]] == [list(x - err[0]), list(x + err[1])]
    else:
        assert box.lines[1:] == ((), ())
    with pytest.raises(ValueError, match="negative"):
        _means_with_ci(ax, x, y, -np.ones((2, 4)), "o", "#0072B2", "t0")

    def no_errorbar(*_a, **_k):
        raise AssertionError("plot_change called Axes.errorbar")

    means = _change_means(with_ci)
    with monkeypatch.context() as m:
        m.setattr(Axes, "errorbar", no_errorbar)
        ax = plots.plot_change(means, instrument=COMP)
    drawn = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    assert [c.get_label() for c in drawn] == ["t0", "t1", "t2"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["t0", "t1", "t2"]
    for c, w in zip(drawn, ["t0", "t1", "t2"]):
        sub = means.loc[means["wave"] == w]
        assert list(c.lines[0].get_xdata()) == list(sub["mean"])
        if with_ci:
            assert np.allclose([s[:, 0] for s in c.lines[2][0].get_segments()], sub[["ci_low", "ci_high"]].to_numpy())
    plt.close("all")
