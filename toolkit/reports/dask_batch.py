"""Report batches on a Dask distributed cluster (``upo report DB --all --scheduler ...``).

The same plan, manifest, failure handling, progress bar and index as the built-in
pool (:mod:`toolkit.reports.batch`); only where the reports are rendered differs:

- each Dask worker keeps one warm kernel, started by the worker plugin
  :class:`KernelPlugin` (a :class:`~toolkit.reports.worker.KernelRunner`, exactly
  what a built-in pool process owns), restarted after failures and every
  ``restart_every`` reports;
- the cohort-wide data (:func:`~toolkit.reports.context.shared_cohort_data`) is
  computed once in the client (the disclosure planner's dimensions on the workers),
  minimised and pickled once (:func:`~toolkit.reports.context.cache_payload`) and
  scattered to every worker, which signs and writes it for its kernel once per data
  fingerprint: no report recomputes it;
- a worker renders into its private temporary folder and sends the HTML back,
  the client writes it (so workers on other machines need no shared folder; they
  need the database: a PostgreSQL URL, or the SQLite file at the same path);
- a report whose worker died is rescheduled by Dask on another worker; the
  summary names the reports that were retried.

Scheduler strings: ``tcp://host:8786`` (a running ``dask scheduler``), ``local``
or ``local:N`` (a :class:`distributed.LocalCluster` of N single-threaded worker
processes on this machine, default ``--jobs`` or the number of cores).
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import sys
import tempfile
import threading
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..exceptions import ReportError

__all__ = ["run_batch_dask", "KernelPlugin", "parse_scheduler", "PLUGIN_NAME"]

log = logging.getLogger("toolkit")
PLUGIN_NAME = "upo-kernel"
# what the Dask nanny sets for its worker process (distributed.nanny.pre-spawn-environ, default) and a report kernel should not inherit
_NANNY_ENVIRON = {"MALLOC_TRIM_THRESHOLD_": "65536"}
# a LocalCluster's workers run one report kernel each and nothing else: no statistical profiler sampling every thread
# every 10 ms, no GIL monitor (each costs CPU in every worker during every report; a running scheduler's workers keep
# their own configuration); the event loops' health check every 1 s instead of every 20 ms, the memory monitor (worker
# and nanny) every 1 s instead of every 100 ms, the system monitor (the dashboard's figures; a LocalCluster here has
# no dashboard) every 5 s instead of every 0.5 s: an idle LocalCluster of 2 workers cost 0.10 CPU s per second
# (scheduler 0.05, each worker 0.03), now 0.03
_LOCAL_CONFIG = {"distributed.worker.profile.enabled": False, "distributed.admin.system-monitor.gil.enabled": False,
                 "distributed.admin.tick.interval": "1s", "distributed.worker.memory.monitor-interval": "1s",
                 "distributed.admin.system-monitor.interval": "5s"}


def parse_scheduler(scheduler: str, jobs: int | None) -> tuple[str | None, int]:
    """``(address, 0)`` for a running scheduler or ``(None, n_workers)`` for a LocalCluster.

    Example
    -------
    >>> parse_scheduler("local:3", None), parse_scheduler("tcp://10.0.0.5:8786", None)
    ((None, 3), ('tcp://10.0.0.5:8786', 0))
    """
    s = scheduler.strip()
    if s == "local" or s.startswith("local:"):
        n = s.partition(":")[2]
        if n and (not n.isdigit() or int(n) < 1):
            raise ReportError(f"--scheduler {scheduler!r}: give local:N with N a whole number of workers, e.g. local:4")
        return None, int(n) if n else (jobs or os.cpu_count() or 1)
    if "://" in s or ":" in s:
        return (s if "://" in s else f"tcp://{s}"), 0
    raise ReportError(f"--scheduler {scheduler!r}: give the scheduler's address (tcp://host:8786) or local[:N]")


def _plugin_base() -> type:
    from distributed.diagnostics.plugin import WorkerPlugin

    return WorkerPlugin


class KernelPlugin(_plugin_base()):  # type: ignore[misc]
    """Dask worker plugin: one warm report kernel per worker, and the installed cohort data.

    Registered with ``client.register_plugin(KernelPlugin(...), name=PLUGIN_NAME)``; Dask calls
    :meth:`setup` on every worker (also on workers that join or are restarted later) and
    :meth:`teardown` when the worker closes.
    """

    def __init__(self, restart_every: int | None = None, timeout: float = 600.0):
        self.restart_every = restart_every
        self.timeout = timeout
        self.runner: Any = None
        self.folder: str | None = None
        self.installed: str | None = None

    async def setup(self, worker: Any = None) -> None:
        import asyncio

        await asyncio.to_thread(self._start)  # the worker's event loop stays free while the kernel starts

    def _start(self) -> None:
        import secrets

        from .context import CACHE_ENV, CACHE_KEY_ENV
        from .worker import RESTART_EVERY, KernelRunner

        logging.getLogger("traitlets").setLevel(logging.ERROR)
        logging.getLogger("papermill").setLevel(logging.ERROR)
        self._lock = threading.Lock()
        self.installed = None
        self.folder = tempfile.mkdtemp(prefix="upo-dask-")
        os.chmod(self.folder, 0o700)
        cache = os.path.join(self.folder, "cache")
        os.mkdir(cache, 0o700)
        self.secret = secrets.token_bytes(32)  # this worker's kernel reads only what this plugin signed
        env: dict[str, str | None] = {CACHE_ENV: cache, CACHE_KEY_ENV: self.secret.hex()}
        for name, value in _NANNY_ENVIRON.items():  # the Dask nanny's settings for its worker, not for the report kernel:
            if os.environ.get(name) == value:  # glibc trimming after every free (MALLOC_TRIM_THRESHOLD_) costs the kernel
                env[name] = None  # ≈ 8 % CPU a report; the kernel runs with the environment a pool kernel has
        self.runner = KernelRunner(env, restart_every=self.restart_every or RESTART_EVERY, timeout=self.timeout)

    def teardown(self, worker: Any = None) -> None:
        if self.runner is not None:
            self.runner.close()
            self.runner = None
        if self.folder:
            shutil.rmtree(self.folder, ignore_errors=True)

    def render(self, task: Any, data: tuple[str, bytes] | None) -> tuple[Any, str | None]:
        """Render one report in this worker's kernel; returns ``(TaskResult, html text or None)``.

        ``data``: the cohort data's fingerprint and its minimised cache bytes, made once by the client
        (:func:`~toolkit.reports.context.cache_payload`); signed and written for this worker's kernel.
        """
        from .context import install_cache_payload

        with self._lock:  # one kernel: one report at a time, whatever the worker's thread count
            if data is not None and self.installed != data[0]:
                install_cache_payload(data[0], data[1], os.path.join(self.folder, "cache"), secret=self.secret)
                self.installed = data[0]
            local = replace(task, html_path=os.path.join(self.folder, Path(task.html_path).name))
            res = self.runner.run(local)
        html = None
        if res.ok:
            html = Path(res.html_path).read_text(encoding="utf-8")
            Path(res.html_path).unlink(missing_ok=True)
        res.html_path = task.html_path
        return res, html


def _render(task: Any, data: Any) -> tuple[Any, str | None]:
    """The task Dask runs: hand the report to this worker's kernel plugin."""
    from distributed import get_worker

    worker = get_worker()
    return worker.plugins[PLUGIN_NAME].render(task, data)


def run_batch_dask(db: Any, todo: list[tuple[Any, dict[str, Any]]], out: Path, manifest: Any, result: Any, *, scheduler: str,
                   jobs: int | None, want_pdf: bool, suffix: str, progress: bool | None, restart_every: int, timeout: float) -> None:
    """Render ``todo`` on a Dask cluster; records into ``manifest``/``result`` like the built-in pool."""
    from distributed import Client, LocalCluster, as_completed
    from tqdm.auto import tqdm

    from .batch import _accept, _fail
    from .context import cache_payload, shared_cohort_data

    address, n_local = parse_scheduler(scheduler, jobs)
    logging.getLogger("distributed").setLevel(max(logging.WARNING, logging.getLogger("distributed").level))
    reading = read_ahead(db)  # the answers are read while the cluster starts (shared_cohort_data finds them memoised)
    cluster = None
    try:
        if address is None:
            import dask

            with dask.config.set(_LOCAL_CONFIG):  # the nanny hands the configuration to its worker process
                cluster = LocalCluster(n_workers=max(1, min(n_local, len(todo))), threads_per_worker=1, processes=True,
                                       dashboard_address=None, host="127.0.0.1", silence_logs=logging.ERROR)
            client = Client(cluster)
        else:
            client = Client(address, timeout=30)
    except OSError as exc:
        if cluster is not None:
            cluster.close()
        raise ReportError(f"--scheduler {scheduler}: cannot reach the Dask scheduler ({exc}); start one with "
                          "'dask scheduler' and workers with 'dask worker tcp://HOST:8786 --nthreads 1'") from None
    by_id = {task.key: (task, meta) for task, meta in todo}
    printer = None
    futures: dict[Any, str] = {}
    bar = tqdm(total=len(todo), desc="reports", unit="report", file=sys.stderr, disable=(not progress) if progress is not None else None)
    try:
        # the kernels start on every worker while the client computes the cohort-wide data, once
        plugin_done = threading.Event()
        plugin_error: list[BaseException] = []

        def _register() -> None:
            try:
                client.register_plugin(KernelPlugin(restart_every, timeout), name=PLUGIN_NAME)
            except BaseException as exc:  # reported below
                plugin_error.append(exc)
            finally:
                plugin_done.set()

        threading.Thread(target=_register, daemon=True).start()
        try:
            # the planner's dimensions are decided on the workers; the data are minimised and pickled once, here:
            # no pseudonyms or small-group text leave the client, and the kernels' records carry this batch's numbering
            reading.join()
            full = shared_cohort_data(db, lang=todo[0][0].lang, pmap=functools.partial(_cluster_map, client))
            data = (full.fingerprint, cache_payload(full))
        except Exception as exc:  # the kernels compute what they need themselves
            log.warning("could not prepare the shared report data (%s); each kernel computes it", exc)
            data = None
        log.info("dask batch: cohort data ready")
        plugin_done.wait()
        log.info("dask batch: kernels ready on %d workers", len(client.scheduler_info().get("workers", {})))
        if plugin_error:
            reason = f"the Dask workers could not start a kernel: {plugin_error[0]}"
            for task, _ in todo:
                _fail(result, manifest, out, by_id, task.key, reason, suffix)
                bar.update(1)
            return
        # scattered once every worker is up and its kernel started: a copy on each, so a worker killed later does not
        # take the only copy with it (scattered before the kernels were up, a killed worker's tasks were cancelled
        # as 'already forgotten'); one object, not its parts
        shared = client.scatter([data], broadcast=True)[0] if data is not None else None
        batch = uuid.uuid4().hex[:8]
        n = len(todo)
        for i, (task, _) in enumerate(todo):
            fut = client.submit(_render, task, shared, key=f"upo-report-{batch}-{i}", priority=n - i, pure=False)
            futures[fut] = task.key
        retried: list[str] = []
        done: dict[Any, str] = {}
        for fut in as_completed(list(futures)):
            if len(done) >= 32:  # results stay in the workers' memory while the client holds their futures: let them go
                retried += _release(client, done)
            key = done[fut] = futures.pop(fut)
            task, meta = by_id[key]
            try:
                res, html = fut.result()
            except Exception as exc:  # e.g. KilledWorker: the report's workers kept dying
                _fail(result, manifest, out, by_id, key, f"{type(exc).__name__}: {exc}", suffix)
                bar.update(1)
                continue
            if res.ok and html is not None:
                target = Path(task.html_path)
                tmp = target.with_name(target.name + ".tmp")
                tmp.write_text(html, encoding="utf-8")
                os.replace(tmp, target)
            printer = _accept(res, task, meta, result, manifest, out, by_id, want_pdf=want_pdf, suffix=suffix, printer=printer)
            bar.update(1)
        retried += _release(client, done)
        if retried:
            result.notes.append(f"{len(retried)} report(s) retried on another worker after a worker was lost "
                                f"(none lost): {', '.join(sorted(retried))}")
    finally:
        bar.close()
        if printer is not None:
            printer.__exit__()
        futures.clear()
        try:
            client.close()
        finally:
            if cluster is not None:
                cluster.close()


def read_ahead(db: Any) -> threading.Thread:
    """Start reading the cohort's answers (:func:`~toolkit.reports.context.cohort_data`, memoised in this process) in a
    thread and return it: a Dask batch reads them while its cluster starts (the LocalCluster's scheduler and worker
    processes, or the connection to a running scheduler) instead of after. A failure is left to the batch's own read."""
    from .context import cohort_data

    def read() -> None:
        try:
            cohort_data(db)
        except Exception:  # shared_cohort_data reads again and says why it cannot
            log.debug("reading the cohort ahead of the cluster failed", exc_info=True)

    thread = threading.Thread(target=read, name="upo-read-ahead", daemon=True)
    thread.start()
    return thread


def _cluster_map(client: Any, fn: Any, work: list[tuple]) -> list[Any]:
    """``[fn(*args) for args in work]`` computed on the cluster's workers (in that order)."""
    return client.gather(client.map(fn, *zip(*work), pure=False, key=[f"upo-plan-{uuid.uuid4().hex[:8]}-{i}" for i in range(len(work))]))


def _release(client: Any, done: dict[Any, str]) -> list[str]:
    """The reports among ``done`` (finished futures) that were retried, then the futures released (emptied)."""
    retried = _retried(client, done)
    for fut in done:
        fut.release()
    done.clear()
    return retried


def _retried(client: Any, futures: dict[Any, str]) -> list[str]:
    """Reports whose task was rescheduled because its worker died (Dask counts them as 'suspicious')."""
    keys = {f.key: rid for f, rid in futures.items()}

    def suspicious(dask_scheduler: Any, keys: list[str]) -> list[str]:
        return [k for k in keys if k in dask_scheduler.tasks and dask_scheduler.tasks[k].suspicious > 0]

    try:
        return [keys[k] for k in client.run_on_scheduler(suspicious, keys=list(keys))]
    except Exception:  # only the note depends on it
        log.debug("could not ask the scheduler about retried reports", exc_info=True)
        return []
