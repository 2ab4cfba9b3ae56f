"""The section framework: registry order, the Jinja environment's filters and the shared macros."""

from __future__ import annotations

import base64
import io
import re

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")

from toolkit.reports.registry import Registry, SectionData
from toolkit.reports.render import environment, figure_src, render_string

M = '{% from "sections/_macros.html.j2" import table, note, suppressed_note, figure, reasons_note, kv, ul with context %}'


def test_registry_keeps_order_and_toc_and_refuses_duplicates():
    reg = Registry("t")
    for i, toc in (("a", False), ("b", True), ("c", True)):
        reg.section(i, toc=toc)(lambda ctx, i=i: SectionData(i, i.upper(), "sections/_note.html.j2", {"text": str(ctx), "kind": "info"}))
    assert reg.ids() == ["a", "b", "c"] and reg.toc_ids() == ["b", "c"]
    assert [s.id for s in reg.build_all(1)] == ["a", "b", "c"]
    with pytest.raises(ValueError, match="twice"):
        reg.section("a")(lambda ctx: None)
    with pytest.raises(KeyError, match="known: a, b, c"):
        reg.build("x", 1)


def test_section_data_displays_as_html_in_a_notebook():
    s = SectionData("x", "Titel <1>", "sections/_note.html.j2", {"text": "a & b", "kind": "suppressed"})
    html = s._repr_html_()
    assert html == s.html() and '<section class="upo-section" id="x">' in html
    assert "<h2>Titel &lt;1&gt;</h2>" in html and '<div class="note suppressed">a &amp; b</div>' in html


@pytest.mark.parametrize("lang, expected", [("de", "−0,39 · +0,40 · 3,1 · 46\u202f% · &lt;\u202f0,001 · 0,012 · 7 · –"),
                                            ("en", "−0.39 · +0.40 · 3.1 · 46% · &lt;\u202f0.001 · 0.012 · 7 · –")])
def test_number_filters_german_comma_real_minus_and_english(lang, expected):
    src = "{{ a|num(2, signed=True) }} · {{ b|num(2, signed=True) }} · {{ c|num(1) }} · {{ s|pct }} · {{ p1|p }} · {{ p2|p }} · {{ n|int }} · {{ m|num }}"
    out = render_string(src, lang=lang, a=-0.391, b=0.4, c=3.14, s=0.456, p1=0.0001, p2=0.0123, n=7.0, m=float("nan"))
    assert out == expected
    assert "-" not in out  # never a hyphen as minus


def test_table_macro_escapes_aligns_numbers_and_marks_hidden_cells():
    frame = pd.DataFrame({"name": ["<script>x</script>", "B"], "mean": [3.456, float("nan")], "n": [7, 3]})
    html = render_string(M + "{{ table(f, [('Name', 'name', 'text'), ('Mittel', 'mean', 'num2'), ('n', 'n', 'int')], caption='Cap & co') }}",
                         lang="de", f=frame)
    assert html.startswith('<table class="upo keep">') and "<caption>Cap &amp; co</caption>" in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html and "<script>" not in html
    assert "<th>Name</th><th class=num>Mittel</th><th class=num>n</th>" in html
    assert '<td class="num">3,46</td>' in html and '<td class="num sup">–</td>' in html and '<td class="num">3</td>' in html


def test_long_tables_may_break_across_pages_short_ones_not():
    long = pd.DataFrame({"x": range(30)})
    html = render_string(M + "{{ table(f, [('x', 'x', 'int')]) }}", f=long)
    assert html.startswith('<table class="upo">') and html.count("<tr>") == 31


def test_note_suppressed_note_and_reasons_note():
    html = render_string(M + "{{ note('a<b') }}{{ suppressed_note('Weniger als 5 Antworten') }}{{ reasons_note(r) }}", lang="de",
                         r=[("weniger als 5 Antworten", ["Kommunikation", "Führung"])])
    assert '<div class="note info">a&lt;b</div>' in html
    assert '<div class="note suppressed">Weniger als 5 Antworten</div>' in html
    assert "Kommunikation, Führung: weniger als 5 Antworten." in html
    assert render_string(M + "{{ reasons_note([]) }}") == ""


def test_kv_and_list_macros_escape():
    html = render_string(M + "{{ kv([('A', '<x>')]) }}{{ ul(['<i>']) }}")
    assert "<th>A</th><td>&lt;x&gt;</td>" in html and "<li>&lt;i&gt;</li>" in html


def _fig():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 1))
    ax.plot([0, 1], [0, 1])
    return fig


def test_figure_macro_embeds_svg_with_caption_and_nothing_without_figure():
    html = render_string(M + "{{ figure(f, 'Bild <1>') }}|{{ figure(none, 'x') }}|{{ figure('', 'x') }}", f=_fig())
    fig_html, empty1, empty2 = html.split("|")
    assert fig_html.startswith('<figure class="upo"><img alt="Bild &lt;1&gt;" src="data:image/svg+xml;base64,')
    assert "<figcaption>Bild &lt;1&gt;</figcaption>" in fig_html and empty1 == "" and empty2 == ""
    svg = base64.b64decode(re.search(r"base64,([^\"]+)", fig_html).group(1)).decode()
    assert "<svg" in svg and "<dc:date>" not in svg  # same data, same bytes


def test_png_figures_are_never_below_200_ppi():
    from PIL import Image

    src = figure_src(_fig(), fmt="png", dpi=72)
    img = Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1])))
    assert round(img.info["dpi"][0]) >= 200


def _tight_reference(fig, pad=0.08) -> str:
    """What ``figure_src`` wrote before: ``savefig(bbox_inches="tight")``, which draws the figure twice."""
    buf = io.BytesIO()
    with matplotlib.rc_context({"svg.fonttype": "path", "svg.hashsalt": "upo"}):
        fig.savefig(buf, format="svg", bbox_inches="tight", pad_inches=pad, facecolor="white", metadata={"Date": None})
    return buf.getvalue().decode()


def _size(svg: str) -> tuple[float, float]:
    m = re.search(r'<svg[^>]* width="([0-9.]+)pt" height="([0-9.]+)pt"', svg)
    return float(m.group(1)), float(m.group(2))


@pytest.mark.parametrize("polar", [False, True])
def test_a_figure_is_drawn_once_and_cropped_like_the_tight_box_labels_beyond_the_axes_included(polar):
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    from toolkit.reports.render import svg_tight

    fig = plt.figure(figsize=(4, 3))
    ax = fig.add_subplot(projection="polar" if polar else None)
    ax.plot([0, 1, 2], [1, 3, 2], label="Behörde")
    ax.set_xticks([0, 1, 2])
    ax.set_xticklabels(["Digitale Werkzeuge", "Kommunikation", "Veränderung und Innovation"])
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0))  # beyond the figure's right edge
    ax.annotate("Hinweis unter der Grafik", xy=(0, 0), xycoords="axes fraction", xytext=(0, -60), textcoords="offset points",
                annotation_clip=False)
    draws = []
    fig.canvas.mpl_connect("draw_event", lambda e: draws.append(e))
    svg = svg_tight(fig)
    assert len(draws) == 1  # bbox_inches="tight" draws twice
    ref = _tight_reference(fig)
    assert _size(svg) == pytest.approx(_size(ref), abs=0.01)  # the same crop as the tight box
    for label in ["Digitale Werkzeuge", "Kommunikation", "Veränderung und Innovation", "Behörde", "Hinweis unter der Grafik"]:
        assert f"<!-- {label} -->" in svg  # every text is drawn (as paths, named in a comment)
    assert svg.count('<g id="figure_1">') == 1 and 'style="fill: #ffffff"/>' in svg
    vb = [float(x) for x in re.search(r'viewBox="([^"]+)"', svg).group(1).split()]
    assert vb[0] < 0 or vb[2] > 4 * 72  # the legend reaches past the figure: the view box follows it
    plt.close(fig)
    assert isinstance(fig, Figure)


def test_figure_src_closes_the_figure_and_repeats_byte_for_byte():
    import matplotlib.pyplot as plt

    a, b = _fig(), _fig()
    src_a, src_b = figure_src(a), figure_src(b)
    assert src_a == src_b  # same data, same bytes
    assert not plt.fignum_exists(a.number) and not plt.fignum_exists(b.number)


def test_an_undefined_name_in_a_template_fails():
    import jinja2

    with pytest.raises(jinja2.UndefinedError):
        environment().from_string("{{ nothing_here }}").render()


def test_every_section_template_is_shipped_by_the_package_data_globs():
    import fnmatch
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    globs = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["toolkit"]
    files = [p.relative_to(root / "toolkit").as_posix() for p in (root / "toolkit" / "reports" / "templates").rglob("*") if p.is_file()]
    assert "reports/templates/sections/_macros.html.j2" in files
    unshipped = [f for f in files if not any(fnmatch.fnmatch(f, g) and f.count("/") == g.count("/") for g in globs)]
    assert not unshipped, f"add these to [tool.setuptools.package-data] toolkit: {unshipped}"



def test_the_authority_order_lives_only_in_the_registry():
    import nbformat

    import toolkit.reports.sections as S
    from toolkit.paths import NOTEBOOKS_DIR

    assert S.AUTHORITY.ids() == ["summary", "about", "participation", "profile", "needs", "next_steps", "items", "change", "stakeholders",
                                 "readiness", "texts", "methods", "footer"]
    assert "about" not in S.AUTHORITY.toc_ids() and "footer" not in S.AUTHORITY.toc_ids()
    assert not hasattr(S, "_CONTENTS") and not hasattr(S, "KeyFigures")
    nb = nbformat.read(NOTEBOOKS_DIR / "report_authority.ipynb", as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "S.AUTHORITY" in code and not any(f"S.{sid}(" in code or f"S.{S.AUTHORITY.function(sid).__name__}(" in code for sid in S.AUTHORITY)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")  # committed without outputs
    assert any("parameters" in c.metadata.get("tags", []) for c in nb.cells)


def test_the_section_modules_import_no_cycle():
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "toolkit" / "reports"
    for mod in ("base", "sec_competence", "sec_stakeholders", "sec_summary"):
        tree = ast.parse((root / f"{mod}.py").read_text(encoding="utf-8"))
        imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level == 1}
        assert "sections" not in imported, f"{mod} imports sections (a cycle)"


def _labelled(labels, title="Kompetenzprofil", size=9.0):
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(5, 3))
    ax = fig.add_subplot()
    ax.plot([0, 1, 2], [1, 3, 2], label="Behörde")
    ax.set_xticks([0, 1, 2])
    ax.set_xticklabels(labels, fontsize=size)
    ax.set_title(title, fontweight="bold")
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), title="Gruppe")
    ax.annotate("Hinweis: zwei\nZeilen", xy=(0, 0), xycoords="axes fraction", xytext=(0, -40), textcoords="offset points")
    return fig


def _plain_svg(fig) -> str:
    """The same picture written by matplotlib's own SVG backend (no cache), cropped as svg_tight crops."""
    import matplotlib

    from toolkit.plots import _svg
    from toolkit.reports.render import svg_tight

    backend, _svg.BACKEND = _svg.BACKEND, None  # svg_tight reads the backend when it is called
    try:
        with matplotlib.rc_context({"svg.fonttype": "path"}):
            return svg_tight(fig)
    finally:
        _svg.BACKEND = backend


def test_cached_text_layout_writes_the_same_svg_as_matplotlib_and_a_changed_label_is_laid_out_anew():
    import matplotlib.pyplot as plt

    from toolkit.plots._svg import text_to_path
    from toolkit.reports.render import svg_tight

    labels = ["Digitale Werkzeuge", "Kommunikation", "Veränderung"]
    first = svg_tight(_labelled(labels))  # fills the process's cache
    assert text_to_path()._layouts and text_to_path()._metrics
    again = svg_tight(_labelled(labels))  # served from the cache
    plain = _plain_svg(_labelled(labels))  # matplotlib's own renderer, nothing cached
    assert first == again == plain
    # a changed label, size or weight is measured and drawn anew, never taken from the cache
    for changed in ({"labels": ["Digitale Werkzeuge", "Kommunikation!", "Veränderung"]}, {"labels": labels, "size": 12.0},
                    {"labels": labels, "title": "Kompetenzprofil (neu)"}):
        cached, uncached = svg_tight(_labelled(**changed)), _plain_svg(_labelled(**changed))
        assert cached == uncached and cached != first
    assert "<!-- Kommunikation! -->" in svg_tight(_labelled(["a", "Kommunikation!", "b"]))
    plt.close("all")


def test_polar_figure_with_kept_clip_transforms_writes_the_same_svg_as_matplotlib():
    """A polar Axes clips every artist to its circle; the SVG writer keys each clip by the printed transform, which
    toolkit.plots._svg keeps per value: the same bytes as matplotlib's own writer, and a moved Axes is printed anew."""
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure
    from matplotlib.transforms import Affine2D, Bbox, BboxTransformTo, TransformedBbox

    from toolkit.plots._svg import transform_str
    from toolkit.reports.render import svg_tight

    def polar(position=None):
        fig = Figure(figsize=(5.0, 4.0))
        ax = fig.add_subplot(projection="polar")
        if position is not None:
            ax.set_position(position)
        ax.plot([0.0, 1.0, 2.0, 0.0], [1.0, 3.0, 2.0, 1.0], label="Behörde")
        ax.fill([0.0, 1.0, 2.0], [1.0, 2.0, 1.5], alpha=0.1)
        ax.set_xticks([0.0, 2.0, 4.0])
        ax.set_xticklabels(["Daten", "Kommunikation", "Führung"])
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1))
        return fig

    first, again = svg_tight(polar()), svg_tight(polar())
    assert first == again == _plain_svg(polar())
    moved = svg_tight(polar([0.2, 0.2, 0.5, 0.5]))
    assert moved == _plain_svg(polar([0.2, 0.2, 0.5, 0.5])) and moved != first
    inner = TransformedBbox(Bbox([[0.1, 0.2], [0.8, 0.9]]), BboxTransformTo(TransformedBbox(Bbox([[0, 0], [5, 4]]), Affine2D().scale(72))))
    t = BboxTransformTo(inner) + Affine2D().scale(1, -1).translate(0, 288)
    assert transform_str(t) == str(t)
    inner._bbox.set_points(np.array([[0.1, 0.2], [0.7, 0.9]]))
    assert transform_str(t) == str(t) and "x1=0.7" in transform_str(t)
    plt.close("all")


def test_glyph_uses_of_a_text_are_written_once_per_process_and_the_svg_stays_matplotlibs():
    """The <use> elements of a text's glyphs are kept per glyphs, positions and nesting depth (toolkit.plots._svg.glyph_run):
    a figure drawn again takes them from the cache and writes the same bytes as matplotlib's own writer; a changed
    label gets its own run."""
    import matplotlib.pyplot as plt

    from toolkit.plots import _svg
    from toolkit.reports.render import svg_tight

    _svg._RUNS.clear()
    labels = ["Digitale Werkzeuge", "Kommunikation", "Veränderung"]
    first = svg_tight(_labelled(labels))
    runs = dict(_svg._RUNS)
    assert runs and any("Kommunikation" not in r and 'xlink:href="#DejaVuSans-4b"' in r for r in runs.values())
    calls = []
    real = _svg._XMLWriter.element

    def counting(self, tag, text=None, attrib=None, **extra):
        calls.append((tag, (attrib or {}).get("xlink:href", "")))
        return real(self, tag, text, attrib, **extra)

    _svg._XMLWriter.element = counting
    try:
        again = svg_tight(_labelled(labels))
    finally:
        _svg._XMLWriter.element = real
    assert ("use", "#DejaVuSans-4b") not in calls and not [c for c in calls if c[1].startswith("#DejaVu")]
    assert any(tag == "use" for tag, _ in calls)  # (the markers' uses are written as before)
    assert _svg._RUNS == runs  # every run served from the cache
    assert first == again == _plain_svg(_labelled(labels))
    changed = ["Digitale Werkzeuge", "Kommunikation!", "Veränderung"]
    assert svg_tight(_labelled(changed)) == _plain_svg(_labelled(changed)) and len(_svg._RUNS) == len(runs) + 1
    plt.close("all")


def test_markers_style_is_worked_out_once_per_line_and_the_svg_stays_matplotlibs(monkeypatch):
    """toolkit.plots._svg draws a line's markers with their style worked out once (matplotlib: once per marker):
    the same bytes as matplotlib's own writer, for filled, hollow, dashed, translucent and hatched-free markers."""
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_svg import RendererSVG
    from matplotlib.figure import Figure

    from toolkit.reports.render import svg_tight

    def markers():
        fig = Figure(figsize=(5.0, 3.0))
        ax = fig.add_subplot()
        x = np.linspace(0, 1, 40)
        ax.plot(x, x ** 2, marker="o", markersize=5, markeredgecolor="white", color="#0072B2")
        ax.plot(x, 1 - x, marker="s", linestyle="--", markerfacecolor="none", alpha=0.5, color="#E69F00")
        ax.plot([0.2, 0.8], [0.5, 0.5], marker="|", markersize=6, linestyle="none", color="#009E73")
        ax.set_xticks([0, 0.25, 0.5, 0.75, 1.0])
        return fig

    calls = []
    real = RendererSVG._get_style_dict

    def counting(self, gc, rgbFace):
        calls.append(1)
        return real(self, gc, rgbFace)

    monkeypatch.setattr(RendererSVG, "_get_style_dict", counting)
    ours = svg_tight(markers())
    n_ours = len(calls)
    del calls[:]
    plain = _plain_svg(markers())
    assert ours == plain
    assert len(calls) - n_ours >= 80  # matplotlib works the style out again for each of the 82 markers; this backend once per line
    plt.close("all")
