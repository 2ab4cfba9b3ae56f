"""PDF printing works where an asyncio loop or another Playwright session is running (Jupyter, tests)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from _async import in_fresh_thread

from toolkit.reports.pdf import PdfPrinter, chromium_path, pdf_page_count

if chromium_path() is None:
    if os.environ.get("UPO_REQUIRE_BROWSER") == "1":
        pytest.fail("UPO_REQUIRE_BROWSER=1 but no Chromium at /usr/bin/chromium", pytrace=False)
    pytest.skip("Chromium is not installed (apt-get install chromium); PDF output cannot be tested", allow_module_level=True)


def _print(tmp_path: Path) -> bytes:
    html = tmp_path / "r.html"
    html.write_text("<h1>Bericht</h1>" + "<p>Absatz</p>" * 200, encoding="utf-8")
    with PdfPrinter() as printer:
        pdf = printer.print(html, tmp_path / "r.pdf")
    return pdf.read_bytes()


def test_pdf_inside_a_running_asyncio_loop(tmp_path: Path):
    async def main() -> bytes:
        return _print(tmp_path)  # as in a Jupyter cell: the loop is running in this thread

    data = in_fresh_thread(lambda: asyncio.run(main()))
    assert data.startswith(b"%PDF") and pdf_page_count(data) > 1


def test_pdf_while_another_playwright_session_is_open(tmp_path: Path):
    from playwright.sync_api import sync_playwright

    def run() -> bytes:
        with sync_playwright():
            return _print(tmp_path)

    assert in_fresh_thread(run).startswith(b"%PDF")
