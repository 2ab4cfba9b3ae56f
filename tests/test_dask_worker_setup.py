"""What a Dask worker's report kernel runs with: the environment a pool kernel has, no profiler in LocalCluster workers,
and the cohort read while the cluster starts."""

from __future__ import annotations

import pytest

pytest.importorskip("distributed")

from toolkit.exceptions import ReportError
from toolkit.reports import dask_batch
from toolkit.reports.context import CACHE_ENV
from toolkit.reports.worker import KernelRunner


def test_report_kernel_does_not_inherit_the_nannys_malloc_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "65536")  # what a Dask nanny sets for its worker process
    monkeypatch.setenv("UPO_TEST_KEPT", "1")
    monkeypatch.setattr(KernelRunner, "_start", lambda self: None)  # the environment is decided before the kernel starts
    plugin = dask_batch.KernelPlugin()
    plugin._start()
    try:
        env = plugin.runner._env
        assert "MALLOC_TRIM_THRESHOLD_" not in env
        assert env["UPO_TEST_KEPT"] == "1" and env[CACHE_ENV].startswith(plugin.folder)
    finally:
        plugin.teardown()


def test_report_kernel_keeps_a_malloc_setting_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "1048576")  # set by the user, not Dask's default: kept
    monkeypatch.setattr(KernelRunner, "_start", lambda self: None)
    plugin = dask_batch.KernelPlugin()
    plugin._start()
    try:
        assert plugin.runner._env["MALLOC_TRIM_THRESHOLD_"] == "1048576"
    finally:
        plugin.teardown()


def test_local_cluster_workers_start_without_the_statistical_profiler(monkeypatch: pytest.MonkeyPatch) -> None:
    import dask
    import distributed

    seen = {}

    class _Cluster:
        def __init__(self, **kw: object) -> None:
            seen.update({k: dask.config.get(k) for k in dask_batch._LOCAL_CONFIG})
            raise OSError("no cluster in this test")

    monkeypatch.setattr(distributed, "LocalCluster", _Cluster)
    with pytest.raises(ReportError):
        dask_batch.run_batch_dask(None, [], None, None, None, scheduler="local:2", jobs=None, want_pdf=False, suffix="",
                                  progress=False, restart_every=40, timeout=60)
    assert seen == {"distributed.worker.profile.enabled": False, "distributed.admin.system-monitor.gil.enabled": False,
                    "distributed.admin.tick.interval": "1s", "distributed.worker.memory.monitor-interval": "1s",
                    "distributed.admin.system-monitor.interval": "5s"}
    assert dask.config.get("distributed.worker.profile.enabled") is True  # only while the cluster is made
    assert dask.config.get("distributed.admin.tick.interval") == "20ms"


def test_the_cohort_is_read_while_the_local_cluster_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    import distributed

    from toolkit.reports import context

    reading = threading.Event()
    seen = {}

    def read(db: object, **kw: object) -> None:
        seen["db"] = db
        reading.set()

    class _Cluster:
        def __init__(self, **kw: object) -> None:
            seen["during the cluster's start"] = reading.wait(timeout=10)
            raise OSError("no cluster in this test")

    monkeypatch.setattr(context, "cohort_data", read)
    monkeypatch.setattr(distributed, "LocalCluster", _Cluster)
    with pytest.raises(ReportError):
        dask_batch.run_batch_dask("cohort.sqlite", [], None, None, None, scheduler="local:2", jobs=None, want_pdf=False,
                                  suffix="", progress=False, restart_every=40, timeout=60)
    assert seen == {"db": "cohort.sqlite", "during the cluster's start": True}
