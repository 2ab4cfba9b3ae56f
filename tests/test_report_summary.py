"""The summary page, next steps, open points and the small-authority report (issue 14), asserted on section data."""

from __future__ import annotations


import pytest

from toolkit.privacy import group_summary
from toolkit.reports import sections as S
from toolkit.reports.sec_competence import _change_frame, needs_table
from toolkit.reports.sec_stakeholders import open_points
from toolkit.reports.sec_summary import agreed_measures, next_steps_data, summary_data
from toolkit.stats import verdict_of
from toolkit.store import Store


@pytest.fixture(scope="module")
def bva(demo_db):
    return S.authority_context(demo_db, "BVA")


def test_summary_values_are_the_released_section_values(bva):
    d = summary_data(bva)
    assert not d.small and d.wave is not None
    s = bva.data.scores()
    own = group_summary(s[(s["authority"] == "BVA") & (s["wave"] == d.wave)], "dimension", "score", k=bva.k)
    best = own[~own["suppressed"]].nlargest(3, "mean")
    assert [m for _, m in d.strengths] == pytest.approx(list(best["mean"]))
    nt = needs_table(bva).sort_values("rank")
    assert [dim for dim, _, _, _ in d.needs] == list(nt["dimension"].head(3))
    pc = _change_frame(bva, *d.change_waves)
    certain = {bva.dim_title(bva.data.competence, r["dimension"]) for _, r in pc.iterrows() if verdict_of(r).certain}
    assert {t for t, _ in d.certain} == certain
    assert not certain & set(d.uncertain)  # each change is either certain or not, never both
    assert all(w.startswith("gesicherte") for _, w in d.certain)


def test_summary_is_the_first_section_and_german_by_default(bva):
    html = S.summary(bva).html()
    assert html.index("<h1>") < html.index('id="summary"')
    for text in ("Auf einen Blick", "Drei Stärken", "Drei größte Entwicklungsbedarfe", "Was sich verändert hat", "Nächste Schritte"):
        assert text in html
    en = S.summary(S.authority_context(bva.data.db, "BVA", lang="en")).html()
    assert "At a glance" in en and "Three strengths" in en and "Auf einen Blick" not in en


def test_next_steps_take_suggestions_from_the_instrument_and_have_room_for_measures(bva):
    steps = next_steps_data(bva)
    assert len(steps) == 3
    comp = bva.data.competence
    for st in steps:
        assert st.suggestions == [m.get("de") for m in comp.dimension(st.dimension).measures] and st.suggestions
        assert st.agreed == []  # the demo store records no measures yet
    html = S.next_steps(bva).html()
    assert html.count("Noch keine Maßnahmen festgehalten.") == 3 and "write-in" in html


def test_agreed_measures_empty_without_table_and_shown_with_the_change(demo_copy):
    assert agreed_measures(demo_copy, "BVA") == []
    ctx = S.authority_context(demo_copy, "BVA")
    top = next_steps_data(ctx)[0].dimension
    with Store(demo_copy) as st:  # recorded in the presenter view at t0 (issue 15's measures table)
        st.add_measure("Schulungsreihe E-Akte", instrument="competence_reflection", wave="t0", authority="BVA", dimension=top,
                       who="Referat Z 2", due="2026-06-30")
        st.add_measure("fremde Maßnahme", instrument="competence_reflection", wave="t0", authority="BAMF", dimension=top)
    assert agreed_measures(demo_copy, "BVA") == [{"dimension": top, "text": "Schulungsreihe E-Akte", "wave": "t0",
                                                  "who": "Referat Z 2", "due": "2026-06-30"}]
    step = next_steps_data(S.authority_context(demo_copy, "BVA"))[0]
    assert step.agreed[0]["text"] == "Schulungsreihe E-Akte"
    assert step.agreed[0]["change"]  # the measure agreed at t0 is shown next to the change since t0


def test_open_points_count_no_and_partly_only_with_k_valid_answers(bva):
    op = open_points(bva)
    inst = bva.data.checklist
    r = bva.data.rsp(inst)
    wave = bva.waves_with(inst.id)[-1]
    r = r[(r["authority"] == "BVA") & (r["wave"] == wave)]
    assert not op.empty
    for _, row in op.iterrows():
        v = r.loc[r["item"] == row["item"], "value"]
        v = v[v.isin([0, 1, 2])]
        assert row["n_valid"] == len(v) >= bva.k
        assert (row["n_no"], row["n_partly"]) == ((v == 0).sum(), (v == 1).sum())
    assert op["share_open"].is_monotonic_decreasing
    html = S.readiness_section(bva).html()
    assert "Offene Punkte" in html


def test_readiness_overall_row_has_the_cohort_comparison(bva):
    html = S.readiness_section(bva).html()
    overall = html[html.index("Gesamt"):]
    overall = overall[: overall.index("</tr>")]
    assert overall.count("%") == 2  # the authority's share and the cohort's


@pytest.mark.parametrize("lang", ["de", "en"])
def test_small_authority_report_is_still_useful(demo_db, lang):
    ctx = S.authority_context(demo_db, "BAM", lang=lang, min_group_size=13)  # BAM has 10-12 per wave: below 13
    d = summary_data(ctx)
    assert d.small and not d.strengths and not d.needs and d.n
    cohort = ctx.data.scores()
    cohort = cohort[cohort["wave"] == d.wave]
    assert len(d.cohort_profile) == cohort["dimension"].nunique()
    html = S.summary(ctx).html()
    word = {"de": ("Nachbar", "benachbarten", "Referenzprofil"), "en": ("neighbour", "neighbouring", "reference profile")}[lang]
    assert word[1] in html and word[2] in html
    own = group_summary(cohort[cohort["authority"] == "BAM"], "dimension", "score", k=5)
    shown = {f"{m:.2f}" for _, m in d.cohort_profile}  # the reference profile: cohort over the authorities shown (BAM is not among them)
    for m in own["mean"]:
        if f"{m:.2f}" not in shown:  # a cohort value may coincide with one of BAM's to two decimals
            assert f"{m:.2f}".replace(".", ",") not in html and f"{m:.2f}" not in html  # no value of the authority itself
    # the reference profile leaves out the authorities below k, BAM included, and says so
    assert d.cohort_excluded and ctx.t("group_cohort_shown", k=13) in html


def test_stakeholder_table_states_strategy_once_per_quadrant_and_shows_the_basis(bva):
    from toolkit.reports.sec_stakeholders import stakeholder_frame, stakeholder_table
    from toolkit.stakeholders import STRATEGIES

    m, _, _ = stakeholder_frame(bva)
    tbl = stakeholder_table(bva, m)
    html = S.stakeholder_section(bva).html()
    for q in tbl["quadrant"].unique():
        text = STRATEGIES[q]["de"].split(":", 1)[1].strip()
        assert html.count(text) == 1  # once per quadrant, not once per row
    assert html.count('class="quad"') == tbl["quadrant"].nunique()
    assert "Legitimität / Dringlichkeit" in html and "Priorität" in html
    # table order: quadrants in order, within a quadrant by priority
    for _, g in tbl.groupby("quadrant", sort=False):
        assert g["priority"].is_monotonic_decreasing
    assert list(tbl["number"]) == list(range(1, len(tbl) + 1))


def test_stakeholder_grid_numbers_are_the_table_numbers(bva):
    import matplotlib.pyplot as plt

    from toolkit.plots import plot_power_interest
    from toolkit.reports.sec_stakeholders import stakeholder_frame, stakeholder_table

    m, _, _ = stakeholder_frame(bva)
    tbl = stakeholder_table(bva, m)
    ax = plot_power_interest(tbl, lang="de", labels="numbers")
    key = [t.get_text() for t in ax.get_figure().legends[0].get_texts()] if ax.get_figure().legends else []
    key = key or [t.get_text() for t in ax.get_legend().get_texts()]
    key = [" ".join(k.split()) for k in key]  # the key wraps long labels over lines
    for _, r in tbl.iterrows():
        assert any(k.split()[0] == str(r["number"]) and r["label"][:20] in k for k in key), (r["number"], r["label"], key)
    plt.close("all")


def test_stakeholders_not_shown_are_counted_in_plain_words(bva):
    maps = bva.data.stakeholder_maps("de")
    _, _, wave = __import__("toolkit.reports.sec_stakeholders", fromlist=["x"]).stakeholder_frame(bva)
    mine = maps[(maps["authority"] == "BVA") & (maps["wave"].astype(str) == str(wave))]
    hidden = int((mine["n_raters"] < bva.k).sum())
    html = S.stakeholder_section(bva).html()
    if hidden:
        assert f"{hidden} weitere Stakeholder wurden von weniger als {bva.k} Personen eingeschätzt" in html
    else:
        assert "weitere Stakeholder" not in html


@pytest.fixture(scope="module")
def cohort(demo_db):
    from toolkit.reports import cohort_sections as C

    return C.cohort_context(demo_db)


def test_cohort_summary_moved_fields_are_the_certain_released_changes(cohort):
    from toolkit.reports import cohort_sections as C
    from toolkit.reports.cohort_summary import cohort_summary_data

    d = cohort_summary_data(cohort)
    pc = C.cohort_change_frame(cohort, *d.change_waves)
    comp = cohort.data.competence
    certain = [comp.dimension(r["dimension"]).title.get("de") for _, r in pc.iterrows() if not r["suppressed"] and verdict_of(r).certain]
    assert [x for x, _ in d.moved] == certain
    means = C.cohort_means_frame(cohort)
    m = means[(means["wave"] == d.wave) & means["mean"].notna()]
    assert d.high[0][1] == pytest.approx(m["mean"].max()) and d.low[0][1] == pytest.approx(m["mean"].min())


def test_cohort_summary_ministries_differ_only_outside_their_ci_and_only_when_shown(cohort):
    from toolkit.reports import cohort_sections as C
    from toolkit.reports.cohort_summary import cohort_summary_data

    d = cohort_summary_data(cohort)
    mf = C.ministries_frame(cohort, d.wave)
    comp = cohort.data.competence
    titles = {dim.title.get("de"): dim.id for dim in comp.dimensions}
    for ministry, dim, side, mean, cm in d.ministries:
        row = mf[(mf["ministry"] == ministry) & (mf["dimension"] == titles[dim])].iloc[0]
        assert not row["suppressed"]
        assert (row["ci_low"] > cm) if side == "above" else (row["ci_high"] < cm)


def test_cohort_needs_and_readiness_overviews(cohort):
    from toolkit.reports import cohort_sections as C
    from toolkit.reports.cohort_summary import cohort_summary_data, needs_overview_frame, readiness_overview_frame

    nv = needs_overview_frame(cohort)
    assert nv["needs"].is_monotonic_decreasing and (nv["top3"] <= nv["n_authorities"]).all()
    from toolkit.scoring import needs_ranking

    g = cohort.data.gaps()
    nr = needs_ranking(g[g["wave"].astype(str) == C.change_waves(cohort)[-1]], by=("authority",))
    nr = nr[nr["n"] >= cohort.k].copy()  # only authorities whose needs are shown count
    nr["rank"] = nr.groupby("authority")["needs"].rank(method="min", ascending=False)  # ranks over shown values, as each report ranks
    expected = nr[nr["rank"] <= 3].groupby("dimension")["authority"].nunique()
    assert dict(zip(nv["dimension"], nv["top3"])) == {d: int(expected.get(d, 0)) for d in nv["dimension"]}
    rv = readiness_overview_frame(cohort)
    assert len(rv) == len(cohort.data.checklist.dimensions)
    assert ((rv["share"] >= 0) & (rv["share"] <= 1)).all() and (rv["below_half"] <= rv["n_authorities"]).all()
    ns, rs = C.needs_overview(cohort), C.readiness_overview(cohort)
    assert ns.data["frame"].equals(nv) and rs.data["frame"].equals(rv) and not rs.data["open_points"].empty
    assert (ns.title, rs.title) == ("Entwicklungsbedarfe der Kohorte", "Reality-Check der Kohorte")
    assert "Am häufigsten offene Punkte" in rs.html()
    summary = C.summary(cohort)
    assert summary.data["summary"] == cohort_summary_data(cohort)
    for text in ("Wo die Kohorte steht", "Welche Felder sich bewegt haben", "Welche Ressorts sich unterscheiden"):
        assert text in summary.html()


def _print_pages(html_body: str, tmp_path) -> int:
    """Print ``html_body`` with the report CSS to PDF (Chromium) and count its pages."""
    from concurrent.futures import ThreadPoolExecutor

    from toolkit.reports.html import CSS
    from toolkit.reports.pdf import PdfPrinter, chromium_path, pdf_page_count

    if chromium_path() is None:
        pytest.skip("Chromium is not installed")
    html = tmp_path / "s.html"
    html.write_text(f'<!DOCTYPE html><html lang="de"><head><meta charset="utf-8"><style>{CSS}</style></head>'
                    f'<body><main class="upo-report">{html_body}</main></body></html>', encoding="utf-8")

    def run():
        with PdfPrinter() as printer:
            return printer.print(html, tmp_path / "s.pdf")

    with ThreadPoolExecutor(max_workers=1) as pool:  # the test's main thread may hold another test's loop
        return pdf_page_count(pool.submit(run).result(timeout=120).read_bytes())


def test_summary_pages_fit_one_printed_page(demo_db, tmp_path):
    """The small authority's page (reference profile and open points) and the cohort's four boxes print on one A4 page."""
    from toolkit.reports import cohort_sections as C

    body = S.summary(S.authority_context(demo_db, "JKI")).html() + C.summary(C.cohort_context(demo_db)).html()
    # one page each: the summary ends with a page break, so two summaries are two pages
    assert _print_pages(body, tmp_path) == 2
