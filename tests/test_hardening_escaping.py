"""Hardening: user-entered text with HTML/JS/template/mathtext payloads appears escaped in every HTML output.

Payloads go into the cohort name, an authority's code and name, a ministry, a free
stakeholder entry and free-text answers. Checked: the rendered authority reports, the
cohort report and ``index.html`` (real papermill batch), and the facilitator
dashboard's HTML (the widget values the browser receives). Each page is parsed with
:mod:`html.parser`: no ``script`` element, event-handler attribute or ``img`` may come
from user text, and the payload must be there as *text* (escaped, not dropped).
"""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import matplotlib.pyplot as plt
import pytest
from _hardening_cohort import AuthoritySpec, CohortSpec, build_cohort

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
TEMPLATE = "{{7*7}}"
MATH = "$x$"
BAD_MATH = r"$\frac{$"  # mathtext that would not even parse

EVIL_CODE = f"EV{IMG}"
EVIL_NAME = f"{SCRIPT} Amt {TEMPLATE} {MATH}"
EVIL_MINISTRY = f"BM{IMG}"
EVIL_STAKEHOLDER = f"{IMG} {BAD_MATH} {TEMPLATE}"
EVIL_TEXT = f"{SCRIPT} {IMG} {TEMPLATE} {MATH}"
EVIL_COHORT = f"Kohorte {SCRIPT}"


class _Scan(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scripts: list[str] = []
        self.handlers: list[tuple[str, str, str]] = []
        self.images: list[dict[str, str | None]] = []
        self.text: list[str] = []
        self.attr_text: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self._in_script = True
            self.scripts.append("")
        if tag == "img":
            self.images.append(dict(attrs))
        for name, value in attrs:
            if name.startswith("on"):
                self.handlers.append((tag, name, value or ""))
            if value and name in ("title", "alt", "aria-label"):
                self.attr_text.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data
        else:
            self.text.append(data)


def scan(html: str) -> _Scan:
    s = _Scan()
    s.feed(html)
    s.close()
    return s


def assert_inert(html: str, where: str, *, shown: list[str]) -> None:
    """No user payload became markup; every string in ``shown`` is there as text."""
    s = scan(html)
    assert not [x for x in s.scripts if "alert(" in x], f"{where}: a script element carries the payload"
    assert not [h for h in s.handlers if "alert(" in h[2]], f"{where}: an event handler carries the payload: {s.handlers}"
    assert not [i for i in s.images if i.get("src") == "x" or "onerror" in i], f"{where}: an injected img element"
    text = " ".join(" ".join(s.text).split())
    for payload in shown:
        assert " ".join(payload.split()) in text, f"{where}: {payload!r} is missing from the text (dropped or mangled)"


@pytest.fixture(scope="module")
def evil_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("evil") / "evil.sqlite"
    spec = CohortSpec(
        cohort=EVIL_COHORT,
        waves=["t0", "t1"],
        authorities=[
            AuthoritySpec(EVIL_CODE, EVIL_NAME, EVIL_MINISTRY, {"t0": 6, "t1": 6}, raters=5, free_stakeholder=EVIL_STAKEHOLDER, text=EVIL_TEXT),
            AuthoritySpec("BVA", "Bundesverwaltungsamt", EVIL_MINISTRY, {"t0": 7, "t1": 6}, raters=5, free_stakeholder=EVIL_STAKEHOLDER, text=EVIL_TEXT),
        ],
    )
    build_cohort(path, spec, seed=11).close()
    return path


@pytest.mark.slow
def test_reports_and_index_show_user_text_escaped(evil_db: Path, tmp_path: Path):
    from toolkit.reports import render_reports

    res = render_reports(evil_db, authorities=None, out=tmp_path / "out", cohort=True, jobs=2, force=True, progress=False)
    assert res.ok, res.summary_text()
    pages = {r.report_id: Path(r.html) for r in res.results}
    evil = next(p for rid, p in pages.items() if rid.endswith(EVIL_CODE))
    bva = pages["authority:BVA"]
    cohort = next(p for rid, p in pages.items() if rid.startswith("cohort"))
    index = tmp_path / "out" / "index.html"
    assert evil.parent == tmp_path / "out" and "<" not in evil.name and '"' not in evil.name  # a safe file name
    assert_inert(evil.read_text(encoding="utf-8"), "authority report", shown=[EVIL_NAME, EVIL_CODE, EVIL_MINISTRY, EVIL_STAKEHOLDER, EVIL_COHORT])
    assert_inert(bva.read_text(encoding="utf-8"), "BVA report", shown=[EVIL_MINISTRY, EVIL_STAKEHOLDER])
    assert_inert(cohort.read_text(encoding="utf-8"), "cohort report", shown=[EVIL_NAME, EVIL_CODE, EVIL_MINISTRY, EVIL_COHORT])
    assert_inert(index.read_text(encoding="utf-8"), "index", shown=[EVIL_NAME, EVIL_CODE, EVIL_MINISTRY])
    for page in (evil, bva, cohort, index):
        raw = page.read_text(encoding="utf-8")
        assert "mathjax" not in raw.lower(), f"{page.name}: MathJax would typeset $...$ in user text"
        assert SCRIPT not in raw and IMG not in raw  # not even inside comments or attributes


def test_report_sections_escape_user_text_without_a_kernel(evil_db: Path):
    """The same check on the section functions directly (fast; includes the plots with ``$`` labels)."""
    from toolkit.reports import cohort_sections as C
    from toolkit.reports import sections as S

    ctx = S.authority_context(evil_db, EVIL_CODE)
    html = S.render_report(ctx)  # every section of the registry
    assert_inert(html, "authority sections", shown=[EVIL_NAME, EVIL_STAKEHOLDER, EVIL_COHORT])
    cctx = C.cohort_context(evil_db)
    html = "".join(f(cctx).html() for f in (C.title_page, C.participation, C.heatmap, C.ministries, C.stakeholder_patterns))
    assert_inert(html, "cohort sections", shown=[EVIL_NAME, EVIL_MINISTRY, EVIL_COHORT])


def test_plots_take_dollar_signs_and_markup_in_labels_literally():
    import pandas as pd

    from toolkit import plots
    from toolkit.instruments import resolve_instrument

    comp = resolve_instrument("competence_reflection")
    dims = [d.id for d in comp.dimensions if d.scored_items][:3]
    hm = pd.DataFrame([{"authority": a, "dimension": d, "mean": 3.0, "suppressed": False} for a in (EVIL_CODE, BAD_MATH, MATH) for d in dims])
    fig, ax = plt.subplots()
    plots.plot_heatmap(hm, row="authority", col="dimension", value="mean", suppressed="suppressed", instrument=comp, ax=ax)
    fig.canvas.draw()  # mathtext would raise here on BAD_MATH
    labels = {t.get_text() for t in ax.get_yticklabels()}
    shown = {t.replace("\\$", "$").replace("\\\\", "\\") for t in labels}
    assert {BAD_MATH, MATH} <= shown, labels
    assert any(t.endswith("…") and EVIL_CODE.startswith(t[:-1]) for t in shown), labels  # long labels are shortened, not parsed


def test_dashboard_html_escapes_stakeholder_names_and_authority(evil_db: Path):
    from toolkit.widgets import Dashboard, DashboardState

    for instrument, authority in (("stakeholder_analysis", EVIL_CODE), ("stakeholder_analysis", None), ("competence_reflection", EVIL_CODE)):
        state = DashboardState(evil_db, instrument, "t0", authority=authority)
        dash = Dashboard(state, autostart=False)
        dash.render()
        dash._draw_figure()  # the PNG with the labels (must not fail on $ in names)
        html = "".join(w.value for w in dash.widget.children if hasattr(w, "value") and isinstance(w.value, str))
        shown = [EVIL_STAKEHOLDER] if instrument == "stakeholder_analysis" else []
        if authority:
            shown.append(EVIL_CODE)
        assert_inert(html, f"dashboard {instrument} {authority}", shown=shown)
        assert state.visible
        dash.close()
