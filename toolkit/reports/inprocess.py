"""One report built in this process, without a kernel: the "in-process floor" of the batch.

:func:`render_in_process` runs the code cells of a report notebook (the parameters cell
replaced by the given parameters) in a fresh namespace and returns the HTML of each cell's
last expression and of everything it passes to ``display``, as a kernel would show it. It runs exactly what the batch's kernels run,
without papermill, nbclient, the kernel and nbconvert; ``bench/bench_reports.py`` measures it.
Whatever the notebooks call (section functions today, a section registry later), this stays
the same.

Example
-------
>>> from toolkit.paths import NOTEBOOKS_DIR
>>> (NOTEBOOKS_DIR / "report_authority.ipynb").is_file()
True
"""

from __future__ import annotations

import ast
import functools
import os
from pathlib import Path
from typing import Any

__all__ = ["render_in_process", "notebook_code"]


@functools.lru_cache(maxsize=8)
def _compiled(path: str, mtime: int) -> tuple[tuple[Any, Any], ...]:  # noqa: ARG001  (mtime: re-read a changed notebook)
    import nbformat

    nb = nbformat.read(path, as_version=4)
    cells = []
    for cell in nb.cells:
        if cell.cell_type != "code" or "parameters" in cell.get("metadata", {}).get("tags", []):
            continue
        tree = ast.parse(cell.source)
        last = None
        if tree.body and isinstance(tree.body[-1], ast.Expr):
            last = ast.Expression(tree.body.pop().value)
        cells.append((compile(tree, path, "exec"), compile(last, path, "eval") if last else None))
    return tuple(cells)


def notebook_code(notebook: str | Path) -> tuple[tuple[Any, Any], ...]:
    """The notebook's code cells (without the parameters cell), compiled: ``(body, last expression or None)``."""
    path = str(Path(notebook).resolve())
    return _compiled(path, os.stat(path).st_mtime_ns)


def render_in_process(db: str | Path, authority: str | None = None, *, lang: str = "de", min_group_size: int | None = None,
                      notebook: str | Path | None = None) -> str:
    """The HTML of one report's cells, built in this process (``authority=None``: the cohort report).

    Uses the report cache of ``$UPO_REPORT_CACHE`` like the kernels do (see :mod:`toolkit.reports.context`).
    """
    if notebook is None:
        # imported here, not at the top: bench_reports loads this file into older toolkits without it
        from ..paths import NOTEBOOKS_DIR

        notebook = NOTEBOOKS_DIR / ("report_cohort.ipynb" if authority is None else "report_authority.ipynb")
    ns: dict[str, Any] = {"__name__": "__report__", "db": str(db), "lang": lang, "min_group_size": min_group_size}
    if authority is not None:
        ns["authority"] = authority
    parts: list[Any] = []
    import IPython.display as ipd

    def _display(*objs: Any, **_: Any) -> None:  # what the notebook displays, in order
        parts.extend(objs)

    real = ipd.display
    ipd.display = _display  # the notebooks do `from IPython.display import display`
    try:
        for body, last in notebook_code(notebook):
            exec(body, ns)  # noqa: S102  (the shipped report notebook, as the kernel runs it)
            if last is not None:
                value = eval(last, ns)  # noqa: S307
                if value is not None:
                    parts.append(value)
    finally:
        ipd.display = real
    html = [_html(v) for v in parts]
    return "\n".join(h for h in html if h)


def _html(value: Any) -> str:
    rich = getattr(value, "_repr_html_", None)
    return rich() if callable(rich) else str(value)
