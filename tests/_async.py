"""Running a coroutine from a test, whatever the test process's main thread holds.

A session-scoped Playwright browser (tests/browser/conftest.py) keeps an asyncio loop running in
the main thread of the pytest worker that started it; ``asyncio.run`` in a later test of the
same worker then fails with "cannot be called from a running event loop". Which tests share a
worker depends on pytest-xdist's scheduling, so every test that needs a loop of its own runs it
on a fresh thread.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Awaitable, Callable


def in_fresh_thread(fn: Callable[[], Any], timeout: float = 120) -> Any:
    """``fn()`` on a new thread (no event loop running there); its result or its exception."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(fn).result(timeout=timeout)


def run_async(coro: Awaitable[Any], timeout: float = 120) -> Any:
    """``asyncio.run(coro)`` on a new thread."""
    return in_fresh_thread(lambda: asyncio.run(coro), timeout)  # type: ignore[arg-type]
