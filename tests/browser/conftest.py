"""Browser fixtures: a real Voilà server (the same launcher ``upo workshop`` uses) and headless Chromium.

The browser is Debian's ``/usr/bin/chromium`` driven by Playwright's Python package;
no browser is ever downloaded. Without Chromium the tests skip with the reason,
unless ``UPO_REQUIRE_BROWSER=1`` (set by ``.ci/run``): then they fail.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Iterator

import pytest

CHROMIUM = os.environ.get("UPO_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--no-first-run", "--disable-component-update", "--disable-sync",
]
DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"


def _browser_missing() -> str | None:
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return f"Chromium not found at {CHROMIUM} (install Debian's chromium: apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright Python package is not installed (pip install -e '.[dev]')"
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    reason = _browser_missing()
    if reason:
        if os.environ.get("UPO_REQUIRE_BROWSER") == "1":
            pytest.fail(f"UPO_REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


def serve_notebook(notebook: Path, env: dict[str, str], **kw):
    """A started, ready Voilà server on a free loopback port (stop it with ``.stop()``)."""
    from toolkit.workshop import VoilaServer, free_port

    server = VoilaServer(notebook, env=env, host="127.0.0.1", port=free_port(), **kw).start()
    try:
        server.wait_ready(120)
    except Exception:
        server.stop()
        raise
    return server


def save_shot(page, artifacts: Path, name: str, *, full_page: bool = True, docs: bool = True) -> Path:
    """Screenshot into tests/artifacts (and docs/img for the guides)."""
    path = artifacts / name
    page.screenshot(path=str(path), full_page=full_page)
    if docs:
        DOCS_IMG.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, DOCS_IMG / name)
    return path
