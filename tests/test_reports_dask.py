"""Report batches on Dask distributed: the same reports as the built-in pool, and no report lost
when a worker dies mid-batch (it is retried on another worker and the summary says so)."""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from toolkit.demo import build_demo
from toolkit.exceptions import ReportError
from toolkit.reports import render_reports
from toolkit.reports.dask_batch import parse_scheduler

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def small_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("dask") / "demo.sqlite"
    build_demo(db, n_authorities=3).close()
    return db


def _manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text(encoding="utf-8"))["reports"]


def test_a_local_cluster_renders_the_same_reports_as_the_built_in_pool(small_demo: Path, tmp_path: Path):
    """The pool is one worker whose kernel restarts after every report (kernels restarted every n reports keep
    rendering: restart_every=40 stopped every batch after 40 reports per worker, the restart destroyed the zmq
    context); it renders all 4 reports, 3 of them authorities', and Dask renders the same, byte for byte."""
    pool = render_reports(small_demo, out=tmp_path / "pool", jobs=1, restart_every=1, cohort=True)
    assert pool.ok and len(pool.rendered) == 4 and sum(r.kind == "authority" for r in pool.rendered) == 3, pool.summary_text()
    dask = render_reports(small_demo, out=tmp_path / "dask", cohort=True, scheduler="local:2")
    assert pool.ok and dask.ok and len(dask.rendered) == len(pool.rendered) == 4
    # the batch's audit used what the Dask kernels shipped (their records carry the client's numbering), as the pool's
    assert set(dask.audit.from_kernels) == {r.report_id for r in dask.rendered} == set(pool.audit.from_kernels)
    assert dask.audit.ok and len(dask.audit.record) == len(pool.audit.record)
    for r in pool.rendered:  # the reports carry no timestamps: byte for byte the same
        assert (tmp_path / "dask" / r.html.name).read_bytes() == r.html.read_bytes(), r.report_id
    mp, md = _manifest(tmp_path / "pool"), _manifest(tmp_path / "dask")
    assert mp.keys() == md.keys()
    for rid in mp:
        assert md[rid]["key"] == mp[rid]["key"] and md[rid]["key_figures"] == mp[rid]["key_figures"]
    # the index differs only in its "created at" line
    strip = lambda p: [ln for ln in p.read_text(encoding="utf-8").splitlines() if "Erstellt am" not in ln]  # noqa: E731
    assert strip(tmp_path / "dask" / "index.html") == strip(tmp_path / "pool" / "index.html")
    again = render_reports(small_demo, out=tmp_path / "dask", cohort=True, scheduler="local:2")  # incremental: nothing to do
    assert len(again.skipped) == 4 and not again.rendered


def test_a_worker_killed_during_the_batch_loses_no_report_and_the_summary_says_so(small_demo: Path, tmp_path: Path):
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, host="127.0.0.1",
                           silence_logs=logging.ERROR)
    killed: list[str] = []

    def kill_a_busy_worker() -> None:
        with Client(cluster.scheduler_address, timeout=30) as watcher:
            deadline = time.monotonic() + 240
            while time.monotonic() < deadline and not killed:
                busy = [w for w, keys in watcher.processing().items() if any(str(k).startswith("upo-report-") for k in keys)]
                if busy:
                    time.sleep(0.5)  # inside the report
                    pids = watcher.run(os.getpid, workers=busy[:1])
                    for addr, pid in pids.items():
                        os.kill(pid, signal.SIGKILL)
                        killed.append(addr)
                time.sleep(0.1)

    try:
        t = threading.Thread(target=kill_a_busy_worker, daemon=True)
        t.start()
        result = render_reports(small_demo, out=tmp_path / "out", cohort=True, scheduler=cluster.scheduler_address)
        t.join(10)
    finally:
        cluster.close()
    assert killed, "no worker was killed"
    assert result.ok and len(result.rendered) == 4, result.summary_text()
    assert all(r.html.exists() for r in result.rendered)
    text = result.summary_text()
    assert "retried on another worker after a worker was lost (none lost)" in text, text


@pytest.mark.parametrize("bad", ["local:0", "local:x", "nonsense"])
def test_bad_scheduler_strings_are_refused_with_the_forms_that_work(bad: str):
    with pytest.raises(ReportError, match=r"tcp://host:8786|local:N"):
        parse_scheduler(bad, None)
