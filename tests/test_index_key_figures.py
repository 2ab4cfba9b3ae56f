"""The index's key figures are made in the batch's parent from the released values a report's kernel
shipped with its release record (issue 14): the same values the report releases, a hidden value
without its number but with its true reason, and nothing whose release is not in the shipped record."""

from __future__ import annotations

import copy

import pytest

from toolkit.paths import NOTEBOOKS_DIR
from toolkit.privacy.release import reason_text
from toolkit.reports import sections as S
from toolkit.reports.index import (
    figures_from_values,
    key_figures,
    key_values,
    shipped_key_figures,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def shipped(demo_db, tmp_path_factory):
    """BVA (shown) and JKI (below the threshold) rendered by one kept kernel, as a batch worker does."""
    from toolkit.reports.worker import KernelRunner, Task

    out = tmp_path_factory.mktemp("shipped")
    runner = KernelRunner(restart_every=40)
    results = {}
    try:
        for code in ("BVA", "JKI"):
            task = Task(f"authority:{code}", str(NOTEBOOKS_DIR / "report_authority.ipynb"),
                        {"db": str(demo_db), "authority": code, "lang": "de", "min_group_size": None}, str(out / f"{code}.html"), code)
            res = runner.run(task)
            assert res.ok, res.error
            results[code] = {"payload": res.releases, "html": (out / f"{code}.html").read_text(encoding="utf-8")}
    finally:
        runner.close()
    return results


def test_the_parent_makes_the_figures_from_the_shipped_values_as_the_report_shows_them(shipped, demo_db):
    payload = shipped["BVA"]["payload"]
    assert payload["key_values"]["score"]["value"] is not None  # shipped as a value, formatted in the parent
    figures = shipped_key_figures(payload, "de")
    ctx = S.authority_context(demo_db, "BVA")
    assert figures == key_figures(ctx)  # the parent's own computation from the same released data agrees
    html = shipped["BVA"]["html"]
    # n per wave as on the report's cover
    assert " · ".join(f"{w}: {n}" for w, n in figures["n"].items()) in html
    # the largest need is rank 1 of the needs table the report shows
    needs = S.gaps_needs(ctx).data["needs"]
    top = ctx.dim_title(ctx.data.competence, needs.iloc[0]["dimension"])
    wave = payload["key_values"]["wave"]
    heads = {h["label"]: h for h in figures["headline"]}
    assert heads["Größter Bedarf"]["value"] == f"{top} ({wave})" and top in html
    assert heads["Kompetenz Ø"]["reason"] is None and heads["Kompetenz Ø"]["value"].endswith(f" ({wave})")
    # English from the same shipped values
    en = {h["label"]: h["value"] for h in shipped_key_figures(payload, "en")["headline"]}
    assert en["Competence mean"] == heads["Kompetenz Ø"]["value"].replace(",", ".")


def test_a_value_suppressed_in_the_report_is_not_in_the_index_and_keeps_its_true_reason(shipped, demo_db):
    payload = shipped["JKI"]["payload"]
    values = payload["key_values"]
    assert values["score"]["value"] is None and values["need"]["title"] is None  # no number crosses at all
    ctx = S.authority_context(demo_db, "JKI")
    truth = key_values(ctx)
    assert truth["score"]["reason"] and values["score"]["reason"] == truth["score"]["reason"]
    figures = shipped_key_figures(payload, "de")
    for h in figures["headline"]:
        assert h["value"] == "–"
    heads = {h["label"]: h for h in figures["headline"]}
    assert heads["Kompetenz Ø"]["reason"] == reason_text(truth["score"]["reason"], "de", k=ctx.k)
    assert values["need"]["reason"] == truth["need"]["reason"]
    assert heads["Größter Bedarf"]["reason"] == reason_text(truth["need"]["reason"], "de", k=ctx.k) != ""
    assert not any(str(round(truth_value, 2)).replace(".", ",") in h["value"] for h in figures["headline"]
                   for truth_value in [_unreleased_mean(ctx)])


def _unreleased_mean(ctx) -> float:
    """JKI's overall mean as it would be without the threshold (it must appear nowhere)."""
    from toolkit.reports.base import profile_wave

    wave, _ = profile_wave(ctx)
    s = ctx.data.scores()
    mine = s[(s["authority"] == ctx.authority) & (s["wave"] == wave)]
    return float(mine.groupby("participant", observed=True)["score"].mean().mean())


def test_a_shipped_value_whose_release_is_not_in_the_record_is_not_used(shipped):
    payload = shipped["BVA"]["payload"]
    assert shipped_key_figures(payload) is not None
    for cell in ("headline_score", "needs/"):
        broken = copy.deepcopy(payload)
        broken["entries"] = [e for e in broken["entries"] if not e[1].startswith(cell)]
        assert shipped_key_figures(broken) is None  # the batch computes the figures itself then
    assert shipped_key_figures({**payload, "key_values": None}) is None and shipped_key_figures(None) is None


def test_figures_from_values_formats_in_both_languages():
    values = {"authority": "A", "n": {"t0": 7}, "k": 5, "instrument": "ci", "wave": "t0", "report": "report:A",
              "score": {"value": 3.456, "reason": None}, "need": {"dimension": None, "title": None, "reason": "too_few"}}
    de = figures_from_values(values, "de")
    assert de["n"] == {"t0": 7}
    assert [h["value"] for h in de["headline"]] == ["3,46 (t0)", "–"]
    assert de["headline"][1]["reason"] == reason_text("too_few", "de", k=5)
    assert [h["value"] for h in figures_from_values(values, "en")["headline"]] == ["3.46 (t0)", "–"]
