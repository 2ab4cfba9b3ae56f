"""PDF output: one headless Chromium per batch, ``page.pdf()`` per report.

Drives Debian's ``/usr/bin/chromium`` (or ``$UPO_CHROMIUM``) with Playwright's
Python package (``executable_path=``); Playwright's own browser download is not
needed.
"""

from __future__ import annotations

import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ..exceptions import ReportError

__all__ = ["chromium_path", "PdfPrinter", "pdf_page_count", "running_templates"]

_LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


def chromium_path() -> str | None:
    """The Chromium executable to use: ``$UPO_CHROMIUM``, /usr/bin/chromium, or one on PATH."""
    for cand in (os.environ.get("UPO_CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if cand and Path(cand).exists():
            return cand
    return None


def pdf_page_count(data: bytes) -> int:
    """Number of pages in a PDF (counts ``/Type /Page`` objects; good enough for Chromium's output).

    Example
    -------
    >>> pdf_page_count(b"%PDF-1.4 /Type /Pages /Type /Page /Type /Page")
    2
    """
    import re

    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", data))


class PdfPrinter:
    """Prints HTML files to PDF with one browser; use as a context manager.

    Raises
    ------
    ReportError
        If no Chromium is installed or it cannot be started.
    """

    def __init__(self, executable: str | None = None):
        self.executable = executable or chromium_path()
        if self.executable is None:
            raise ReportError(
                "PDF output needs Chromium, which was not found at /usr/bin/chromium or on PATH; "
                "install it (Debian: apt-get install chromium) or set UPO_CHROMIUM, or render --format html"
            )
        self._pw: Any = None
        self._browser: Any = None
        # Playwright's sync API refuses to run where an asyncio loop is running (Jupyter, a test
        # session holding another browser): all browser calls happen on one thread of our own.
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="upo-pdf")

    def __enter__(self) -> "PdfPrinter":
        try:
            self._thread.submit(self._start).result()
        except Exception as exc:
            self.__exit__()
            raise ReportError(f"could not start Chromium at {self.executable} for PDF output: {exc}") from None
        return self

    def _start(self) -> None:
        from playwright.sync_api import sync_playwright

        self._pw = sync_playwright().start()
        self._browser = self._pw.chromium.launch(executable_path=self.executable, args=_LAUNCH_ARGS, headless=True)

    def _stop(self) -> None:
        if self._browser is not None:
            self._browser.close()
            self._browser = None
        if self._pw is not None:
            self._pw.stop()
            self._pw = None

    def __exit__(self, *exc: object) -> None:
        try:
            self._thread.submit(self._stop).result()
        finally:
            self._thread.shutdown(wait=True)

    def print(self, html_path: str | Path, pdf_path: str | Path) -> Path:
        """Print one HTML file to A4 PDF (written atomically)."""
        return self._thread.submit(self._print, Path(html_path).resolve(), Path(pdf_path)).result()

    def _print(self, html_path: Path, pdf_path: Path) -> Path:
        page = self._browser.new_page()
        try:
            page.goto(html_path.as_uri(), wait_until="load")
            info = page.evaluate(_RUNNING_JS)
            header, footer = running_templates(info.get("header") or info.get("title") or "", info.get("lang") or "de")
            tmp = pdf_path.with_name(pdf_path.name + ".tmp")
            # Chromium's printer ignores @page margin boxes: the running header and the page numbers
            # come from its own header/footer templates, drawn into the page margins set here.
            page.pdf(path=str(tmp), format="A4", print_background=True, display_header_footer=True,
                     header_template=header, footer_template=footer, margin=_MARGIN)
            os.replace(tmp, pdf_path)
        finally:
            page.close()
        return pdf_path


_MARGIN = {"top": "20mm", "bottom": "18mm", "left": "15mm", "right": "15mm"}
# the report marks its running header on an element (see sections.footer); the title is the fallback
_RUNNING_JS = """() => {
  const el = document.querySelector('[data-upo-header]');
  return {header: el ? el.getAttribute('data-upo-header') : '', title: document.title,
          lang: document.documentElement.lang || 'de'};
}"""


def running_templates(header: str, lang: str = "de") -> tuple[str, str]:
    """Chromium header and footer templates: the running header (authority, wave, data date)
    on top of every page, "Seite n von m" below.

    Chromium fills the elements with the classes ``pageNumber`` and ``totalPages``; the
    templates need their own font size (the default is tiny) and no external resources.

    Example
    -------
    >>> head, foot = running_templates("Bundesverwaltungsamt (BVA) · Welle t2", "de")
    >>> "Bundesverwaltungsamt (BVA) · Welle t2" in head, 'Seite <span class="pageNumber">' in foot
    (True, True)
    """
    from ..i18n import t
    from .html import esc

    page, of = t("pdf.page", lang), t("pdf.of", lang)
    style = ("font-family:'DejaVu Sans','Liberation Sans',Arial,sans-serif;font-size:7.5pt;color:#5b6775;"
             "width:100%;margin:0 15mm;display:flex;justify-content:space-between;")
    head = (f'<div style="{style}border-bottom:0.5pt solid #d5dbe3;padding-bottom:1.5mm;">'
            f"<span>{esc(header)}</span><span>upo-toolkit</span></div>")
    foot = (f'<div style="{style}justify-content:flex-end;">'
            f'<span>{page} <span class="pageNumber"></span> {of} <span class="totalPages"></span></span></div>')
    return head, foot
