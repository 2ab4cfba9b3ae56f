"""Crash safety: a writer killed with SIGKILL mid-submission or mid-import leaves no partial data."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import time
from pathlib import Path

import pytest

from toolkit.store import Store, Submission

pytestmark = pytest.mark.both_backends

ANSWERS = {f"go{i}": 1 for i in range(1, 6)}


class _HangingStore(Store):
    """Signals the parent and hangs right after the submission row is written, before its answers."""

    ready = None

    def _stakeholder_ids(self, c, aid, inst, keys):
        self.ready.set()
        time.sleep(600)
        return super()._stakeholder_ids(c, aid, inst, keys)


def _hang_mid_submission(path: str, ready) -> None:
    _HangingStore.ready = ready
    store = _HangingStore(path)
    store.submit(Submission("BVA", ("Zz", "9", "Q", "Zz"), "t0", "reality_check", ANSWERS, token="killed"))


def _big_import(path: str, started, n: int) -> None:
    store = Store(path)
    subs = [Submission("BVA", (f"I{i}", str(i % 28 + 1), "K", "Ha"), "t1", "reality_check", ANSWERS) for i in range(n)]
    started.set()
    store.submit_many(subs)


def _kill(proc, *, may_have_finished: bool = False) -> None:
    try:
        os.kill(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.join(30)
    assert proc.exitcode == -signal.SIGKILL or (may_have_finished and proc.exitcode == 0)


def _committed(store: Store) -> tuple[int, int]:
    subs = store.conn.execute("SELECT COUNT(*) FROM submissions").fetchone()[0]
    partial = store.conn.execute(
        "SELECT COUNT(*) FROM submissions s WHERE (SELECT COUNT(*) FROM answers a WHERE a.submission_id = s.id) != ?",
        (len(ANSWERS),),
    ).fetchone()[0]
    return subs, partial


def _assert_healthy_and_usable(path: Path, expected_min: int) -> None:
    store = Store(path)  # no manual repair: the WAL is recovered on open
    assert store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    subs, partial = _committed(store)
    assert partial == 0 and subs >= expected_min
    store.submit(Submission("BVA", ("Ne", "1", "X", "Xt"), "t0", "reality_check", ANSWERS))
    assert _committed(store) == (subs + 1, 0)


def test_kill_mid_submission_leaves_no_partial_submission(store: Store):
    for i in range(5):
        store.submit(Submission("BVA", (f"P{i}", "3", "K", "Ha"), "t0", "reality_check", ANSWERS))
    ctx = mp.get_context("spawn")
    ready = ctx.Event()
    proc = ctx.Process(target=_hang_mid_submission, args=(str(store.path), ready))
    proc.start()
    assert ready.wait(60), "the writer never reached the middle of its submission"
    _kill(proc)
    store.close()
    _assert_healthy_and_usable(store.path, expected_min=5)
    assert Store(store.path).conn.execute("SELECT COUNT(*) FROM submissions WHERE token = 'killed'").fetchone()[0] == 0


@pytest.mark.parametrize("delay", [0.05, 0.3])
def test_kill_during_batch_import_is_all_or_nothing(store: Store, delay: float):
    store.submit(Submission("BVA", ("Ba", "2", "K", "Ha"), "t0", "reality_check", ANSWERS))
    n = 400
    ctx = mp.get_context("spawn")
    started = ctx.Event()
    proc = ctx.Process(target=_big_import, args=(str(store.path), started, n))
    proc.start()
    assert started.wait(60)
    time.sleep(delay)
    _kill(proc, may_have_finished=True)
    store.close()
    _assert_healthy_and_usable(store.path, expected_min=1)
    subs, _ = _committed(Store(store.path))
    assert subs - 2 in (0, n)  # before the kill: 1; after the health check: +1
