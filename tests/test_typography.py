"""Numbers and their units as each language writes them: German "46 %" and "n = 34" with a narrow
no-break space (U+202F, :data:`toolkit.i18n.UNIT_SPACE`), so a number never parts from its unit at a
line end; English "46%" without a space. Checked on the formatters, the catalogue and whole reports."""

from __future__ import annotations

import html as _html
import re

import pytest

from toolkit import i18n
from toolkit.i18n import UNIT_SPACE, percent
from toolkit.reports.html import fmt_p
from toolkit.reports.render import pct, render_string

NNBSP = "\u202f"


def test_the_unit_space_is_the_narrow_no_break_space():
    assert UNIT_SPACE == NNBSP


@pytest.mark.parametrize("share, lang, digits, expected", [
    (0.456, "de", 0, "46\u202f%"), (0.456, "en", 0, "46%"),
    (0.4567, "de", 1, "45,7\u202f%"), (0.4567, "en", 1, "45.7%"),
    (1.0, "de", 0, "100\u202f%"), (0.0, "en", 0, "0%"),
    (None, "de", 0, "–"), (float("nan"), "en", 0, "–"),
])
def test_percent_by_language(share, lang, digits, expected):
    assert percent(share, lang, digits) == expected


@pytest.mark.parametrize("lang, expected", [("de", "88\u202f% · <\u202f0,001"), ("en", "88% · <\u202f0.001")])
def test_report_filters_keep_number_and_unit_together(lang, expected):
    assert pct(0.88, lang) + " · " + fmt_p(0.0001, lang=lang) == expected
    assert _html.unescape(render_string("{{ s|pct }} · {{ p|p }}", lang=lang, s=0.88, p=0.0001)) == expected


def _units_with_plain_space(text: str) -> list[str]:
    """'12 %' or 'n = 3' written with a breakable space (the bug this file is about)."""
    return re.findall(r"\d[ \u00a0]%|\bn [=<>] ?\d|\bn ?[=<>] \d", text)


@pytest.mark.parametrize("lang", ["de", "en"])
def test_catalogue_texts_never_break_a_number_from_its_unit(lang):
    for key, text in i18n.CATALOGUE[lang].items():
        assert not _units_with_plain_space(text), (lang, key, text)
        if lang == "en":
            assert not re.search(r"\d\s%", text), (key, text)  # English: "95% confidence interval"
    for key in ("profile_intro", "needs_intro", "items_intro"):
        assert f"n{NNBSP}={NNBSP}{{n}}" in i18n.CATALOGUE[lang][key]


def _visible(html: str) -> str:
    text = re.sub(r'(src|title|alt|style)="[^"]*"', "", html)  # data URIs and inline widths are no reading text
    return _html.unescape(re.sub(r"<[^>]+>", " ", text))


@pytest.mark.parametrize("lang", ["de", "en"])
def test_whole_reports_write_units_as_the_language_does(demo_db, lang):
    from toolkit.reports import cohort_sections as C
    from toolkit.reports import sections as S

    ctx = S.authority_context(demo_db, "BVA", lang=lang)
    parts = [s.html() for s in S.AUTHORITY.build_all(ctx)]
    parts += [s.html() for s in C.COHORT.build_all(C.cohort_context(demo_db, lang=lang))]
    text = _visible("".join(parts))
    assert not _units_with_plain_space(text), _units_with_plain_space(text)[:5]
    if lang == "de":
        assert re.search(r"\d\u202f%", text) and f"n{NNBSP}={NNBSP}" in text
        assert not re.search(r"\d%", text)
    else:
        assert re.search(r"\d%", text) and not re.search(r"\d\s%", text)


@pytest.mark.parametrize("lang, opening, closing", [("de", "„", "“"), ("en", "“", "”")])
def test_catalogue_quotes_are_typographic_in_each_language(lang, opening, closing):
    for key, text in i18n.CATALOGUE[lang].items():
        assert '"' not in text, (lang, key, text)  # German „…“, English “…”, never a straight quote mark
    assert opening in i18n.t("open_points_intro", lang, k=5) and closing in i18n.t("open_points_intro", lang, k=5)
