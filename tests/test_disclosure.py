"""Disclosure control as one layer (issue 12): the seven findings as regression tests, and the demo's audit.

Each scenario is the crafted cohort that reproduced the finding; each test fails on the code
before the release API (checked by running this file against that commit).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from _disclosure_cohort import Group, build

from toolkit.reports import cohort_sections as C
from toolkit.reports import sections as S

CR, RC, SA = "competence_reflection", "reality_check", "stakeholder_analysis"


def _rows(html: str) -> list[list[str]]:
    return [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", tr, flags=re.S)]
            for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", html, flags=re.S)]


def test_1_reality_check_cohort_share_leaves_out_small_authorities(tmp_path: Path):
    """Two authorities of 6 and one of 2 in one ministry: the cohort share beside A no longer includes C."""
    db = tmp_path / "c.sqlite"
    build(db, [Group("A", "M", RC, "t0", range(6)), Group("B", "M", RC, "t0", range(6)), Group("C", "M", RC, "t0", range(2))]).close()
    part = S.readiness_section(S.authority_context(db, "A"))
    assert part.data["cohort_label"] == "Kohorte, ohne Behörden unter 5"
    assert "Kohorte, ohne Behörden unter 5" in part.html()
    # the shown cohort share is the mean over A and B only (C's share cannot come out by subtraction)
    from toolkit.reports.context import cohort_data

    rd = cohort_data(db).readiness()
    ab = rd[rd["authority"].isin(["A", "B"])].groupby("dimension")["score"].mean()
    inst = cohort_data(db).checklist
    areas = part.data["areas"].set_index("area")
    for dim in inst.dimensions:
        assert areas.loc[dim.id, "cohort_share"] == pytest.approx(ab[dim.id])
    from toolkit.privacy import audit, recording
    from toolkit.store import Store
    from toolkit.summaries import score_summary

    with recording(k=5) as rec:
        for code in ("A", "B", "C"):
            S.readiness_section(S.authority_context(db, code))
        with Store(db) as store:
            for by in ("authority", "ministry", None):
                score_summary(store, RC, by=by)
    assert audit(rec) == []


def test_2_single_item_distribution_needs_k_valid_answers(tmp_path: Path):
    """Six people, but three answer 'cannot judge' to dt1: its distribution (n = 3) is not shown, and the row says why."""
    db = tmp_path / "c.sqlite"

    def answer(p, item, rng):
        if item.id == "dt1" and p < 3:
            return 0.0  # kann ich nicht beurteilen
        return float(rng.integers(1, 6))

    build(db, [Group("A", "M", CR, "t0", range(6), answer=answer)]).close()
    part = S.item_distributions(S.authority_context(db, "A"))
    assert "dt1" not in set(part.data["shares"]["item"]) and part.data["hidden"]["dt1"].startswith("weniger als 5 gültige Antworten")
    html = part.html()
    assert "n\u202f=\u202f3" not in html
    assert "weniger als 5 gültige Antworten zu dieser Aussage" in html
    assert "n\u202f=\u202f6" in html  # the other statements are shown


def test_3_ranks_and_largest_need_over_shown_values_of_the_same_wave(tmp_path: Path):
    """Two dimensions with the largest needs have only 4 valid Ist/Soll answers: ranks run 1..8 over the shown ones;
    the index's 'largest need' is the report's rank 1, for the report's wave (t0, not the last wave t1 with 3 people)."""
    db = tmp_path / "c.sqlite"
    from toolkit.store import Store

    with Store.init(tmp_path / "x.sqlite") as tmp:
        inst = tmp.add_instrument(CR)
    big = {d.id for d in inst.dimensions[:2]}
    dim_of = {it.id: d.id for d in inst.dimensions for it in d.items}

    def answer_big(p, item, rng):
        d = dim_of.get(item.id)
        if item.type == "level" and d in big:
            if p < 2:
                return None
            return 1.0 if item.role == "ist" else 5.0
        if item.type == "importance":
            return 5.0 if d in big else 3.0
        return float(rng.integers(1, 6))

    build(db, [Group("A", "M", CR, "t0", range(6), answer=answer_big), Group("A", "M", CR, "t1", range(3)),
               Group("B", "M", CR, "t0", range(6))]).close()
    ctx = S.authority_context(db, "A")
    from toolkit.reports.sec_competence import needs_table

    nt = needs_table(ctx)
    shown = nt[~nt["suppressed"]]
    assert set(nt.loc[nt["suppressed"], "dimension"]) == big
    # ranks over the shown dimensions only: the hidden ones (the largest needs) leave no gap at the top
    assert shown["rank"].min() == 1
    np.testing.assert_array_equal(shown["rank"], shown["needs"].rank(ascending=False, method="min"))
    top = shown.sort_values("rank").iloc[0]["dimension"]
    kf = __import__('toolkit.reports.index', fromlist=['x']).key_figures(ctx)
    heads = {h["label"]: h["value"] for h in kf["headline"]}
    assert not any("t1" in label for label in heads)
    need = next(v for label, v in heads.items() if "Bedarf" in label)
    assert need == f"{ctx.dim_title(ctx.data.competence, top)} (t0)"


def test_4_live_dashboard_changes_only_in_steps_of_k(tmp_path: Path):
    """From 5 to 6 submissions the dashboard keeps the released state: the sixth person's scores do not follow."""
    from toolkit.store import Store
    from toolkit.widgets import DashboardState

    db = tmp_path / "c.sqlite"
    build(db, [Group("A", "M", CR, "t0", range(5))], seed=4).close()
    with Store(db) as store:
        dash = DashboardState(store, CR, "t0", authority="A")
        dash.refresh()
        before = dash.profile.set_index("dimension")["mean"].copy()
        assert before.notna().all()
    with Store(db) as store:
        inst = store.instrument(CR)
        from toolkit.store import Submission

        store.submit(Submission("A", ("Zz9x", "9", "C", "Q9y"), "t0", inst, {it.id: 5.0 for it in inst.items if it.type == "likert"}))
        dash = DashboardState(store, CR, "t0", authority="A")
        dash.refresh()
        assert dash.n == 6
        np.testing.assert_allclose(dash.profile.set_index("dimension")["mean"].loc[before.index], before)


def test_5_rater_agreement_counts_only_shown_stakeholders(tmp_path: Path):
    """Six raters; three of them add a free entry: agreement is over the 3 shown stakeholders, not 4."""
    db = tmp_path / "c.sqlite"

    def names(p):
        return ["behoerdenleitung", "fachbereich", "it_dienstleister"] + (["Projektbüro Nord"] if p < 3 else [])

    build(db, [Group("A", "M", CR, "t0", range(6)), Group("A", "M", SA, "t0", range(6), stakeholders=names)]).close()
    ctx = S.authority_context(db, "A")
    agreement = S.methods(ctx).data["agreement"]
    assert len(agreement) and (agreement["n_stakeholders"] == 3).all()
    assert "Projektbüro Nord" not in S.stakeholder_section(ctx).html()


def test_6_change_with_k_pairs_is_shown(tmp_path: Path):
    """12 at t0, 13 at t1, 11 of them linked: the change is shown (no 'zu wenige Paare'); only the pairs'
    before/after means are hidden, with the reason in words."""
    db = tmp_path / "c.sqlite"
    build(db, [Group("A", "M", CR, "t0", range(12)), Group("A", "M", CR, "t1", [*range(11), 20, 21])]).close()
    ctx = S.authority_context(db, "A")
    from toolkit.reports.sec_competence import _change_frame

    pc = _change_frame(ctx, "t0", "t1")
    assert (pc["n_pairs"] == 11).all()
    assert not pc["suppressed"].any() and pc["mean_diff"].notna().all()
    assert pc["mean_from"].isna().all() and set(pc["means_reason"]) == {"pair_means"}
    part = S.change(ctx)
    assert not part.data["tables"][0]["all_hidden"] and part.data["tables"][0]["reasons"]
    html = part.html()
    assert "zu wenige Paare" not in html and "weniger als 5 Paare" not in html
    assert "Vorher/Nachher der Paare verborgen" in html


def test_7_small_authority_hides_neither_ministry_nor_cohort_benchmark(tmp_path: Path):
    """M = A (20) + B (20) + C (2): A's ministry benchmark is shown, labelled, and the cohort report names C without values."""
    db = tmp_path / "c.sqlite"
    build(db, [Group("A", "M", CR, "t0", range(20)), Group("B", "M", CR, "t0", range(20)), Group("C", "M", CR, "t0", range(2)),
               Group("D", "N", CR, "t0", range(9))]).close()
    part = S.competence_profile(S.authority_context(db, "A"))
    assert part.data["ministry_label"] == "Ressort, ohne Behörden unter 5"
    prof = part.data["profile"]
    assert len(prof) and prof["ministry_mean"].notna().all() and prof["cohort_mean"].notna().all()
    cctx = C.cohort_context(db)
    ms = C.ministries(cctx)
    assert ms.data["small"] == ["Behörde C (C)"] and "Behörde C (C)" in ms.html()
    assert ms.data["ministries"] == ["M", "N"] and ms.data["table"][["M", "N"]].notna().all().all()  # M's benchmark is shown
    hm = C.heatmap_frame(cctx, "t0")
    assert hm.loc[hm["authority"] != "C", "mean"].notna().all()


@pytest.mark.slow
def test_demo_audits_clean_with_change_and_benchmarks(demo_db: Path, demo_audit):
    """The demo: 0 violations; a change result wherever >= 5 pairs exist unless the audit names why; every ministry has a benchmark."""
    from toolkit.privacy import levels, reason_text
    from toolkit.reports.sec_competence import change_decisions

    result = demo_audit  # cohort_audit(demo_db), shared with the guides' `upo report` of the unchanged demo
    assert result.violations == [], result.text(limit=5)
    ctx = S.authority_context(demo_db, "BAMF")
    waves = ctx.data.wave_labels()
    s_all = ctx.data.scores()
    valid = s_all[s_all["score"].notna()]
    sets = {key: set(g["participant"]) for key, g in valid.groupby([valid["wave"].astype(str), "authority", valid["dimension"].astype(str)])}
    for b in waves[1:]:
        pc = change_decisions(ctx, waves[0], b)
        blocked = pc[(pc["n_pairs"] >= 5) & pc["suppressed"]]
        assert set(blocked["reason"]) <= {"one_wave_derivable"}
        # the combination the audit names: the pairs are one whole wave, so the difference gives that set's other-wave
        # mean, and the other wave's mean then differs from it by 1..k-1 people who answered once
        for r in blocked.itertuples():
            wa, wb = sets[(waves[0], r.authority, r.dimension)], sets[(b, r.authority, r.dimension)]
            p = wa & wb
            assert (p == wb and 0 < len(wa - p) < 5) or (p == wa and 0 < len(wb - p) < 5), (r.authority, r.dimension)
        for au in set(blocked["authority"]):
            html = S.change(S.authority_context(demo_db, au)).html()
            assert reason_text("one_wave_derivable", "de") in html
    s = ctx.data.scores()
    s = s[s["wave"] == waves[0]].assign(wave=waves[0], dimension=lambda d: d["dimension"].astype(str))
    by_m = levels(s, "ministry", k=ctx.k, instrument=ctx.data.competence.id, output="test")
    assert not by_m["suppressed"].any() and by_m["ministry"].nunique() == ctx.data.authorities["ministry"].nunique()


def test_upo_audit_prints_the_result_and_upo_report_refuses_a_failing_batch(tmp_path: Path, capsys, monkeypatch):
    """`upo audit DB` prints 0 violations; a section that leaks by subtraction makes the audit name the two cells and
    `upo report` refuse the batch with one line and exit 1, writing no report."""
    from toolkit.cli import main
    from toolkit.privacy import Level, release

    db = tmp_path / "c.sqlite"
    build(db, [Group("A", "M", CR, "t0", range(7)), Group("B", "M", CR, "t0", range(6))]).close()
    assert main(["audit", str(db)]) == 0
    out = capsys.readouterr().out
    assert "0 violations" in out and "minimum group size 5" in out

    from toolkit.reports.registry import Registry, SectionData

    def leaky(ctx):  # a section that shows a mean of 7 and of 6 of the same people: their difference is one person
        people = [f"{ctx.authority}|p{i}" for i in range(7)]
        release(Level(CR, "digital_tools", "t0"), people, 1.0, output=f"report:{ctx.authority}", cell="leak/all")
        release(Level(CR, "digital_tools", "t0"), people[:6], 1.0, output=f"report:{ctx.authority}", cell="leak/six")
        return SectionData("leaky", "", "sections/_note.html.j2", {"text": "1,0", "kind": "info"})

    reg = Registry("authority")
    for sid in S.AUTHORITY:
        reg.section(sid, toc=sid in S.AUTHORITY.toc_ids())(S.AUTHORITY.function(sid))
    reg.section("leaky", toc=False)(leaky)
    monkeypatch.setattr(S, "AUTHORITY", reg)
    assert main(["audit", str(db)]) == 1
    out = capsys.readouterr().out
    assert "two nested levels differ by 1 people" in out and "leak/all" in out and "leak/six" in out
    # the batch audits what its kernels released: the same leak, in the notebook the kernels run
    import shutil

    import nbformat

    import toolkit.reports.batch as B
    from toolkit.paths import NOTEBOOKS_DIR

    leaking = tmp_path / "notebooks"
    leaking.mkdir()
    shutil.copy(NOTEBOOKS_DIR / "report_cohort.ipynb", leaking)
    nb = nbformat.read(NOTEBOOKS_DIR / "report_authority.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(
        "from toolkit.privacy import Level, release\n"
        "people = [f'{authority}|p{i}' for i in range(7)]\n"
        f"release(Level({CR!r}, 'digital_tools', 't0'), people, 1.0, output=f'report:{{authority}}', cell='leak/all')\n"
        f"_ = release(Level({CR!r}, 'digital_tools', 't0'), people[:6], 1.0, output=f'report:{{authority}}', cell='leak/six')"))
    nbformat.write(nb, leaking / "report_authority.ipynb")
    monkeypatch.setattr(B, "NOTEBOOKS_DIR", leaking)
    code = main(["report", str(db), "--all", "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1 and "disclosure audit found" in err[0] and "Traceback" not in err[0]
    assert not list((tmp_path / "r").glob("*.html"))
