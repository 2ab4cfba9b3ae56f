"""The section registry of the reports: each section is a build function returning :class:`SectionData`.

A report kind (authority, cohort) has one :class:`Registry`; its order is the report's order,
and the notebook and the table of contents both read it (the order lives nowhere else).
A build function computes what the section shows (released frames, figures, numbers, notes)
and names the Jinja template that renders it (:mod:`toolkit.reports.render`); it builds no HTML.

Example
-------
>>> reg = Registry("example")
>>> @reg.section("hello")
... def hello(ctx):
...     return SectionData("hello", "Hallo", "sections/_note.html.j2", {"text": f"n = {ctx}", "kind": "info"})
>>> reg.ids(), reg.build("hello", 3).data["text"]
(['hello'], 'n = 3')
>>> print(reg.build("hello", 3).html(lang="de"))
<section class="upo-section" id="hello"><div class="keep-with"><h2>Hallo</h2><div class="note info">n = 3</div></div></section>
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

__all__ = ["SectionData", "Registry", "AUTHORITY", "COHORT"]


@dataclass
class SectionData:
    """What one section shows, and the template that renders it.

    ``data`` holds released pandas frames, figures (matplotlib Figure or an already rendered
    SVG string), numbers and already-localised notes; ``lang`` is the report language the
    template formats numbers in (``html()`` may override it).
    """

    id: str
    title: str
    template: str
    data: dict[str, Any] = field(default_factory=dict)
    toc: bool = True
    lang: str = "de"

    def html(self, lang: str | None = None) -> str:
        """The section's HTML (rendered through :func:`toolkit.reports.render.render`)."""
        from .render import render

        return render(self, lang=lang or self.lang)

    def _repr_html_(self) -> str:
        return self.html()

    def __repr__(self) -> str:
        return f"SectionData({self.id!r}, template={self.template!r}, data={sorted(self.data)})"


Build = Callable[[Any], SectionData]


class Registry:
    """The ordered sections of one report kind."""

    def __init__(self, kind: str):
        self.kind = kind
        self._builds: dict[str, Build] = {}
        self._toc: dict[str, bool] = {}

    def section(self, id: str, *, toc: bool = True) -> Callable[[Build], Build]:
        """Register ``build(ctx) -> SectionData`` under ``id`` (appended to the order)."""

        def register(build: Build) -> Build:
            if id in self._builds:
                raise ValueError(f"section {id!r} is registered twice in the {self.kind} report")
            self._builds[id] = build
            self._toc[id] = toc
            return build

        return register

    def ids(self) -> list[str]:
        """Every section id, in report order."""
        return list(self._builds)

    def toc_ids(self) -> list[str]:
        """The ids listed in the table of contents, in report order."""
        return [i for i in self._builds if self._toc[i]]

    def function(self, id: str) -> Build:
        return self._builds[id]

    def build(self, id: str, ctx: Any) -> SectionData:
        """Build one section."""
        try:
            build = self._builds[id]
        except KeyError:
            raise KeyError(f"no section {id!r} in the {self.kind} report; known: {', '.join(self._builds)}") from None
        return build(ctx)

    def build_all(self, ctx: Any) -> list[SectionData]:
        """Every section of one report, in order (in-process, no kernel)."""
        return [self.build(i, ctx) for i in self._builds]

    def __contains__(self, id: object) -> bool:
        return id in self._builds

    def __iter__(self):
        return iter(self.ids())

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {self.ids()})"


#: the sections of one authority's report (:mod:`toolkit.reports.sections` registers them)
AUTHORITY = Registry("authority")
#: the sections of the cohort report (:mod:`toolkit.reports.cohort_sections` registers them)
COHORT = Registry("cohort")
