"""Hardening: anonymity as a property of every aggregate output, on random small cohorts.

Each example builds a cohort of 2–4 authorities in 1–2 ministries with 3–8 participants
per wave (2–3 waves; people drop out and join, so some answer one wave only; some
items left out, so dimension scores can be missing) and collects every statistic the
toolkit would *show*: the command-line summaries (scores by cohort, ministry and
authority; paired change by the same), the report building blocks (benchmark of the
profile section, the cohort heatmap, the ministry table, cohort and authority change
tables) and the live dashboard (whole session and one authority).

Each shown statistic is mapped to the set of people it is computed from (recomputed
here from the dimension scores, and checked against the ``n`` it reports). Then:

1. no shown statistic comes from fewer than ``k`` people;
2. no two shown statistics of the same wave and dimension differ by 1..k-1 people
   (subtraction of two shown numbers);
3. no shown total minus the shown groups inside it (authorities in a ministry or the
   cohort, pairs of authorities in the cohort's pairs) leaves 1..k-1 people;
4. a shown paired difference and any shown wave means containing its pairs leave
   none or at least ``k`` people who answered only one of the two waves.

Reference for the rules: Hundepool et al., *Statistical Disclosure Control* (Wiley
2012), ch. 5 (primary and secondary cell suppression, disclosure by differencing).
"""

from __future__ import annotations

import itertools
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _hardening_cohort import AuthoritySpec, CohortSpec, build_cohort
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from toolkit.exceptions import PrivacyError
from toolkit.scoring import dimension_scores

K = 5
INST = "competence_reflection"


# --------------------------------------------------------------------------- random cohorts
@st.composite
def cohorts(draw) -> CohortSpec:
    n_auth = draw(st.integers(2, 4))
    waves = ["t0", "t1", "t2"][: draw(st.integers(2, 3))]
    auths = []
    for i in range(n_auth):
        sizes = {w: draw(st.integers(3, 8)) for w in waves}
        auths.append(AuthoritySpec(f"A{i}", f"Behörde {i}", draw(st.sampled_from(["M1", "M2"])), sizes))
    return CohortSpec(authorities=auths, waves=waves, k=K, missing_share=draw(st.sampled_from([0.0, 0.25])))


# --------------------------------------------------------------------------- shown statistics
class Shown:
    """Shown statistics as (kind, block, people, where); block = (wave, dimension) or (from, to, dimension) for diffs."""

    def __init__(self, scores: pd.DataFrame):
        valid = scores[scores["score"].notna()]
        valid = valid.assign(wave=valid["wave"].astype(str), who=list(zip(valid["authority"].astype(str), valid["participant"])))
        self.valid = valid
        self.items: list[tuple[str, tuple, frozenset, str]] = []

    def people(self, wave: str, dim: str, authority: str | None = None, ministry: str | None = None) -> frozenset:
        if not hasattr(self, "_index"):
            v = self.valid
            self._index = {key: frozenset(g["who"]) for key, g in v.groupby([v["wave"], v["dimension"].astype(str), v["authority"].astype(str)])}
            self._ministry = dict(zip(v["authority"].astype(str), v["ministry"].astype(str)))
        return frozenset().union(*[pop for (w, d, a), pop in self._index.items() if w == wave and d == dim
                                   and (authority is None or a == authority) and (ministry is None or self._ministry[a] == ministry)])

    def group(self, wave: str, dim: str, level: str, key: str | None) -> frozenset:
        return self.people(wave, dim, authority=key if level == "authority" else None, ministry=key if level == "ministry" else None)

    def add_mean(self, wave: str, dim: str, level: str, key: str | None, where: str, n: int | None = None) -> None:
        pop = self.group(wave, dim, level, key)
        if n is not None:
            assert n == len(pop), f"{where}: reports n={n} but {len(pop)} people have a valid score"
        self.items.append(("wave", (wave, dim), pop, where))

    def add_change(self, a: str, b: str, dim: str, level: str, key: str | None, *, means: bool, where: str, n_pairs: int | None = None) -> None:
        p0, p1 = self.group(a, dim, level, key), self.group(b, dim, level, key)
        pairs = frozenset(p0 & p1)
        if n_pairs is not None:
            assert n_pairs == len(pairs), f"{where}: reports {n_pairs} pairs, {len(pairs)} expected"
        self.items.append(("diff", (a, b, dim), pairs, where))
        if means:  # the paired means of each wave
            self.items.append(("pairs", (a, dim), pairs, where + " (before)"))
            self.items.append(("pairs", (b, dim), pairs, where + " (after)"))

    # ------------------------------------------------------------------ the checks
    def violations(self, k: int) -> list[str]:
        bad = []
        for kind, block, pop, where in self.items:
            if len(pop) < k:
                bad.append(f"{where} {block}: computed from {len(pop)} < {k} people")
        by_block: dict[tuple, list[tuple[str, frozenset, str]]] = {}
        for kind, block, pop, where in self.items:
            if kind != "diff":
                by_block.setdefault(block, []).append((kind, pop, where))
        for block, sets in by_block.items():
            uniq = {}
            for kind, pop, where in sets:
                uniq.setdefault(pop, (kind, where))
            pops = list(uniq)
            for s, t in itertools.permutations(pops, 2):
                if t < s and 0 < len(s - t) < k:
                    bad.append(f"{block}: {uniq[s][1]} minus {uniq[t][1]} isolates {len(s - t)} people")
            for kind in ("wave", "pairs"):
                fam = [p for p in pops if uniq[p][0] == kind]
                for s in fam:
                    inner = [t for t in fam if t < s]
                    maximal = [t for t in inner if not any(t < u for u in inner)]
                    if len(maximal) < 2 or any(a & b for a, b in itertools.combinations(maximal, 2)):
                        continue
                    rest = s - frozenset().union(*maximal)
                    if 0 < len(rest) < k:
                        bad.append(f"{block}: {uniq[s][1]} minus {len(maximal)} shown groups inside it isolates {len(rest)} people")
        for kind, block, pairs, where in self.items:
            if kind != "diff":
                continue
            a, b, dim = block
            w0 = [p for kd, blk, p, _ in self.items if kd == "wave" and blk == (a, dim) and pairs <= p]
            w1 = [p for kd, blk, p, _ in self.items if kd == "wave" and blk == (b, dim) and pairs <= p]
            for x, y in itertools.product(w0, w1):
                single = len(x - pairs) + len(y - pairs)
                if 0 < single < k:
                    bad.append(f"{where} ({a}->{b}, {dim}): with two shown wave means isolates {single} one-wave respondents")
        return bad


def _cells(html: str) -> list[list[list[str]]]:
    """Tables of an HTML fragment as lists of rows of cell texts."""

    class P(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.tables: list[list[list[str]]] = []
            self.cell: list[str] | None = None

        def handle_starttag(self, tag, attrs):
            if tag == "table":
                self.tables.append([])
            elif tag == "tr" and self.tables:
                self.tables[-1].append([])
            elif tag in ("td", "th"):
                self.cell = []

        def handle_endtag(self, tag):
            if tag in ("td", "th") and self.cell is not None and self.tables and self.tables[-1]:
                self.tables[-1][-1].append(" ".join("".join(self.cell).split()))
                self.cell = None

        def handle_data(self, data):
            if self.cell is not None:
                self.cell.append(data)

    p = P()
    p.feed(html)
    return p.tables


def _shown_number(text: str) -> bool:
    return bool(text) and text not in ("–", "-") and any(ch.isdigit() for ch in text)


# --------------------------------------------------------------------------- collecting every output
def collect(db: Path, spec: CohortSpec) -> Shown:
    from toolkit.reports import cohort_sections as C
    from toolkit.reports import sections as S
    from toolkit.reports.sec_competence import _change_frame
    from toolkit.stats import benchmark
    from toolkit.store import Store
    from toolkit.summaries import change_summary, score_summary
    from toolkit.widgets import DashboardState

    store = Store(db)
    inst = store.instrument(INST)
    scores = dimension_scores(store.responses(INST), inst)
    shown = Shown(scores)
    dims = list(pd.unique(scores["dimension"].astype(str)))
    titles = {inst.dimension(d).title.get("en"): d for d in dims}
    first, later = spec.waves[0], spec.waves[1:]

    # command line / researchers: scores and change by cohort, ministry, authority
    for by in (None, "ministry", "authority"):
        for r in score_summary(store, INST, by=by).itertuples():
            if not r.suppressed:
                shown.add_mean(str(r.wave), r.dimension, by or "total", getattr(r, by) if by else None, f"score_summary(by={by})", n=int(r.n))
        for b in later:
            for r in change_summary(store, INST, first, b, by=by).itertuples():
                if not r.suppressed:
                    shown.add_change(first, b, r.dimension, by or "total", getattr(r, by) if by else None, means=not np.isnan(r.mean_from),
                                     where=f"change_summary(by={by})", n_pairs=int(r.n_pairs))

    # reports: profile benchmark (every wave), authority change tables and wave means, cohort sections
    for w in spec.waves:
        sw = scores[scores["wave"].astype(str) == w]
        for a in spec.authorities:
            if a.code not in set(sw["authority"].astype(str)):
                continue
            for r in benchmark(sw, a.code, k=K).itertuples():
                if not np.isnan(r.authority_mean):
                    shown.add_mean(w, r.dimension, "authority", a.code, "benchmark authority", n=int(r.n_authority))
                if not np.isnan(r.ministry_mean):
                    shown.add_mean(w, r.dimension, "ministry", a.ministry, f"benchmark ministry ({a.code})", n=int(r.n_ministry))
                if not np.isnan(r.cohort_mean):
                    shown.add_mean(w, r.dimension, "total", None, f"benchmark cohort ({a.code})", n=int(r.n_cohort))
    for a in spec.authorities:
        ctx = S.authority_context(db, a.code, lang="en")
        for b in later:
            pc = _change_frame(ctx, first, b)
            for r in pc.itertuples():
                if not r.suppressed:
                    shown.add_change(first, b, r.dimension, "authority", a.code, means=not np.isnan(r.mean_from), where=f"report change {a.code}",
                                     n_pairs=int(r.n_pairs))
    cctx = C.cohort_context(db, lang="en")
    for r in C.heatmap_frame(cctx, first).itertuples():
        if not r.suppressed:
            shown.add_mean(first, r.dimension, "authority", str(r.authority), "cohort heatmap", n=int(r.n))
    (mtable,) = _cells(C.ministries(cctx).html)
    head = mtable[0]
    latest = C.change_waves(cctx)[-1]  # the ministry comparison shows the latest wave
    for row in mtable[1:]:
        if row[0] in titles:
            for m, cell in zip(head[1:], row[1:]):
                if _shown_number(cell):
                    shown.add_mean(latest, titles[row[0]], "ministry", m, "cohort ministry table")
    # summary pages: the cohort's reference profile shown to small authorities (cohort totals)
    from toolkit.reports.sec_summary import summary_data

    for a in spec.authorities:
        d = summary_data(S.authority_context(db, a.code, lang="en"))
        for title, _ in d.cohort_profile:
            shown.add_mean(d.wave, titles[title], "total", None, f"summary reference profile ({a.code})")
    for b, tab in zip(later, _cells(C.cohort_change(cctx).html)):
        for row in tab[1:]:
            if row[0] in titles and _shown_number(row[4]):
                shown.add_change(first, b, titles[row[0]], "total", None, means=_shown_number(row[2]), where="cohort change table",
                                 n_pairs=int(row[1]))
    # the cohort means per wave drawn in the cohort change plot: the same frame as score_summary(by=None)

    # live dashboard: whole session and one authority
    for w in spec.waves:
        for a in (None, spec.authorities[0].code):
            state = DashboardState(store, INST, w, authority=a)
            state.refresh()
            for r in state.profile.itertuples() if not state.profile.empty else []:
                if not r.suppressed:
                    shown.add_mean(w, r.dimension, "authority" if a else "total", a, f"dashboard {a or 'all'}", n=int(r.n))
    store.close()
    return shown


@pytest.mark.slow
@settings(max_examples=8, deadline=None, derandomize=True, phases=[Phase.explicit, Phase.generate], suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(spec=cohorts())
def test_no_output_reveals_fewer_than_k_people(spec: CohortSpec, tmp_path_factory: pytest.TempPathFactory):
    db = tmp_path_factory.mktemp("anon") / "c.sqlite"
    build_cohort(db, spec, seed=len(spec.authorities)).close()
    shown = collect(db, spec)
    assert shown.items, "nothing was shown at all: the property would hold trivially"
    bad = shown.violations(K)
    assert not bad, "\n".join(sorted(set(bad))[:20])


# --------------------------------------------------------------------------- regressions for the leaks found
def _fixed(tmp_path: Path, sizes: list[tuple[str, str, dict[str, int]]]) -> Path:
    spec = CohortSpec(authorities=[AuthoritySpec(c, c, m, s) for c, m, s in sizes], waves=list(next(iter(sizes))[2]), k=K)
    db = tmp_path / "c.sqlite"
    build_cohort(db, spec, seed=1).close()
    return db


def test_ministry_total_is_hidden_when_its_small_authority_follows_from_the_others(tmp_path: Path):
    """M1 = A (8) + B (7) + C (3): A's and B's reports show their means, so M1's mean would give C's (found by this file)."""
    from toolkit.store import Store
    from toolkit.summaries import score_summary

    db = _fixed(tmp_path, [("A", "M1", {"t0": 8}), ("B", "M1", {"t0": 7}), ("C", "M1", {"t0": 3}), ("D", "M2", {"t0": 9})])
    with Store(db) as store:
        by_m = score_summary(store, INST, by="ministry")
        assert by_m.loc[by_m["ministry"] == "M1", "suppressed"].all()
        assert not by_m.loc[by_m["ministry"] == "M2", "suppressed"].any()
        assert score_summary(store, INST)["suppressed"].all()  # the cohort minus A, B, D is C as well


def test_paired_change_is_hidden_when_few_answered_one_wave_only(tmp_path: Path):
    """8 at t0, 7 at t1 (all linked): the wave means and the paired difference give the one who left (found by this file)."""
    from toolkit.store import Store
    from toolkit.summaries import change_summary

    db = _fixed(tmp_path, [("A", "M1", {"t0": 8, "t1": 7}), ("B", "M1", {"t0": 12, "t1": 6})])
    with Store(db) as store:
        out = change_summary(store, INST, "t0", "t1", by="authority").set_index("authority")
        assert out.loc["A", "suppressed"].all() and out.loc["A", "mean_diff"].isna().all()
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
    assert "Frau Beispiel" not in S.stakeholder_section(S.authority_context(db, "A")).html
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
