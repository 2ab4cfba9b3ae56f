"""Hardening: anonymity as a property of everything a cohort releases, on random small cohorts.

Each example builds a cohort of 2–4 authorities in 1–3 ministries with 3–8 participants per
wave (three waves; people drop out and join, so some answer one wave only; some answers left
out or given as "cannot judge", so dimension scores and single items can be missing), with
stakeholder ratings (free entries included) and free text, and the reality check. Then
:func:`toolkit.reports.audit.cohort_audit` renders every output in memory — all sections of
every authority report, the cohort report, the index's key figures, ``upo scores|change|
reliability`` for every grouping and wave pair — and the auditor must find 0 violations:
no level of 1..k−1 people, no two nested levels of the same quantity differing by 1..k−1,
no level minus the disjoint levels inside it leaving 1..k−1, after closing the record
(a paired difference plus a level over the same pairs gives the other wave's level).
The live dashboard is audited the same way over its successive states.

Reference for the rules: Hundepool et al., *Statistical Disclosure Control* (Wiley 2012),
ch. 5 (primary and secondary cell suppression, disclosure by differencing).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from _hardening_cohort import AuthoritySpec, CohortSpec, build_cohort
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from toolkit.exceptions import PrivacyError

K = 5
INST = "competence_reflection"


# --------------------------------------------------------------------------- random cohorts
@st.composite
def cohorts(draw) -> CohortSpec:
    n_auth = draw(st.integers(2, 4))
    waves = ["t0", "t1", "t2"]
    auths = []
    for i in range(n_auth):
        sizes = {w: draw(st.integers(3, 8)) for w in waves}
        raters = draw(st.sampled_from([0, 3, 5, 7]))
        auths.append(AuthoritySpec(f"A{i}", f"Behörde {i}", draw(st.sampled_from(["M1", "M2", "M3"])), sizes, raters=raters,
                                   free_stakeholder=draw(st.sampled_from([None, "Referat Z"])), text=draw(st.sampled_from([None, "mehr Zeit"]))))
    return CohortSpec(authorities=auths, waves=waves, k=K, missing_share=draw(st.sampled_from([0.0, 0.25])), cannot_judge=True, checklist=True)


@pytest.mark.slow
@settings(max_examples=6, deadline=None, derandomize=True, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(spec=cohorts())
def test_no_output_reveals_fewer_than_k_people(spec: CohortSpec, tmp_path_factory: pytest.TempPathFactory):
    from toolkit.reports.audit import cohort_audit

    db = tmp_path_factory.mktemp("anon") / "c.sqlite"
    build_cohort(db, spec, seed=7).close()
    result = cohort_audit(db)
    assert result.ok, result.text(limit=5)
    assert len(result.record) > 50  # the audit saw the outputs


def test_live_dashboard_states_audit_clean(tmp_path: Path):
    """Participants arrive one by one: the successive dashboard states (one authority and the whole session) never
    differ by fewer than k people."""
    from toolkit.privacy import audit, recording
    from toolkit.store import Store, Submission
    from toolkit.widgets import DashboardState
    from _hardening_cohort import _answers

    import numpy as np

    spec = CohortSpec(authorities=[AuthoritySpec("A", "A", "M1", {"t0": 0}), AuthoritySpec("B", "B", "M1", {"t0": 0})], waves=["t0"], k=K)
    db = tmp_path / "c.sqlite"
    build_cohort(db, spec).close()
    rng = np.random.default_rng(2)
    with Store(db) as store, recording(k=K) as rec:
        inst = store.instrument(INST)
        dashes = [DashboardState(store, INST, "t0", authority="A"), DashboardState(store, INST, "t0")]
        for p in range(17):
            auth = "A" if p % 3 else "B"
            ans = _answers(inst, rng, text=None, stakeholders=[], missing=0.2, shift=0.0, cannot_judge=True)
            store.submit(Submission(auth, (f"L{p}x", str(p % 28 + 1), "K", f"Q{p}y"), "t0", inst, ans))
            for d in dashes:
                d.refresh()
        assert dashes[0].visible and not dashes[0].profile["mean"].isna().all()
    assert audit(rec) == []


def _fixed(tmp_path: Path, sizes: list[tuple[str, str, dict[str, int]]]) -> Path:
    spec = CohortSpec(authorities=[AuthoritySpec(c, c, m, s) for c, m, s in sizes], waves=list(next(iter(sizes))[2]), k=K)
    db = tmp_path / "c.sqlite"
    build_cohort(db, spec, seed=1).close()
    return db


def test_ministry_total_leaves_out_its_small_authority(tmp_path: Path):
    """M1 = A (8) + B (7) + C (3): the ministry and cohort values are over the shown authorities, so C is neither
    recoverable nor does it hide M1 (issue 12, finding 7)."""
    from toolkit.privacy import audit, recording
    from toolkit.store import Store
    from toolkit.summaries import score_summary

    db = _fixed(tmp_path, [("A", "M1", {"t0": 8}), ("B", "M1", {"t0": 7}), ("C", "M1", {"t0": 3}), ("D", "M2", {"t0": 9})])
    with Store(db) as store, recording(k=K) as rec:
        by_a = score_summary(store, INST, by="authority")
        by_m = score_summary(store, INST, by="ministry")
        tot = score_summary(store, INST)
    m1 = by_m[by_m["ministry"] == "M1"]
    assert not m1["suppressed"].any() and (m1["n_excluded"] == 1).all()
    a_b = by_a[by_a["authority"].isin(["A", "B"])].groupby("dimension")["n"].sum()
    assert (m1.set_index("dimension")["n"] == a_b.loc[m1["dimension"]]).all()
    assert not tot["suppressed"].any()
    assert audit(rec) == []


def test_paired_change_is_hidden_when_few_answered_one_wave_only(tmp_path: Path):
    """8 at t0, 7 at t1 (all linked): the wave means and the paired difference give the one who left (found by this file)."""
    from toolkit.store import Store
    from toolkit.summaries import change_summary

    db = _fixed(tmp_path, [("A", "M1", {"t0": 8, "t1": 7}), ("B", "M1", {"t0": 12, "t1": 6})])
    with Store(db) as store:
        out = change_summary(store, INST, "t0", "t1", by="authority").set_index("authority")
        assert out.loc["A", "suppressed"].all() and out.loc["A", "mean_diff"].isna().all()
        assert set(out.loc["A", "reason"]) == {"one_wave_derivable"}  # the true reason, not "too few pairs"
        assert not out.loc["B", "suppressed"].any()  # 6 pairs, and the 6 who left are at least k
        assert out.loc["B", "mean_from"].notna().all()


def test_report_threshold_cannot_go_below_the_cohort_setting(tmp_path: Path):
    from toolkit.reports import render_reports
    from toolkit.reports import sections as S

    db = _fixed(tmp_path, [("A", "M1", {"t0": 8}), ("B", "M1", {"t0": 4})])
    with pytest.raises(PrivacyError, match="below the cohort's setting 5"):
        S.authority_context(db, "A", min_group_size=2)
    with pytest.raises(PrivacyError, match="below the cohort's setting 5"):
        render_reports(db, ["B"], out=tmp_path / "r", min_group_size=3, dry_run=True)
    assert S.authority_context(db, "A", min_group_size=7).k == 7  # stricter is fine


def test_stakeholder_maps_need_k_raters_in_reports_and_dashboard(tmp_path: Path):
    """(b) A map needs k raters; within it, a stakeholder (or free entry) named by fewer than k raters is not shown."""
    from toolkit.reports import sections as S
    from toolkit.reports.sec_stakeholders import stakeholder_frame
    from toolkit.store import Store, Submission
    from toolkit.widgets import DashboardState

    spec = CohortSpec(authorities=[AuthoritySpec("A", "A", "M1", {"t0": 5}, raters=4), AuthoritySpec("B", "B", "M1", {"t0": 5}, raters=5)], k=K)
    db = tmp_path / "c.sqlite"
    with build_cohort(db, spec, seed=3) as store:
        inst = store.instrument("stakeholder_analysis")
        rated = {(i.id, "Frau Beispiel vom Personalrat"): float(inst.scales[i.scale].points[0]) for i in inst.items if i.item_type.per_stakeholder}
        store.submit(Submission("B", ("Xx", "9", "Z", "Yy"), "t0", inst, rated))  # one rater names a person
    assert stakeholder_frame(S.authority_context(db, "A"))[0] is None
    assert "Frau Beispiel" not in S.stakeholder_section(S.authority_context(db, "A")).html()
    m, n, _ = stakeholder_frame(S.authority_context(db, "B"))
    assert n == 6 and (m["n_raters"] >= K).all() and "Frau Beispiel vom Personalrat" not in set(m["stakeholder"])
    with Store(db) as store:
        for auth in ("A", "B"):
            dash = DashboardState(store, "stakeholder_analysis", "t0", authority=auth)
            dash.refresh()
            shown = dash.stakeholders
            if auth == "A":
                assert shown.empty
            else:
                assert not shown.empty and "Frau Beispiel vom Personalrat" not in set(shown["stakeholder"])
                assert not shown.loc[~shown["suppressed"], "n_raters"].lt(K).any()
