"""Report worker processes: each owns one warm Jupyter kernel and renders reports with it.

A worker imports papermill and nbconvert once, starts one kernel (the running
interpreter's ``ipykernel``, i.e. the venv's Python), warms it up (imports the
toolkit), then executes report notebooks one after the other in that kernel with
``papermill.execute_notebook(..., km=km)``. Before each report the kernel's
namespace is reset and figures are closed; after a failure, or every
``restart_every`` reports, the kernel is restarted. Shutdown is immediate.

The executed notebook is converted in the worker with nbconvert's
``HTMLExporter`` (our ``upo`` template: no code cells, no scripts, images
embedded as data URIs) and written next to the other reports.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import re
import shutil
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Task", "TaskResult", "KernelRunner", "worker_main", "kernel_reset", "TEMPLATE_DIR"]

log = logging.getLogger("toolkit")

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
_RESET_SOURCE = (
    "try:\n    import toolkit.reports.worker as _w\nexcept ImportError:  # a kernel without the toolkit: IPython's own reset\n"
    "    get_ipython().run_line_magic('reset', '-f')\n"
    "    import matplotlib as _m; _m.use('Agg'); import matplotlib.pyplot as _p; _p.close('all'); del _m, _p\n"
    "else:\n    _w.kernel_reset()  # the reset removes _w too\n"
    "try:\n    import toolkit.reports.releases as _r; _r.kernel_start(); del _r\n"
    "except ImportError:  # a notebook without the toolkit releases nothing through it\n    pass"
)
# no record shipped (e.g. no toolkit in the kernel): the batch's audit renders that report itself
_SHIP_SOURCE = ("try:\n    import toolkit.reports.releases as _r\nexcept ImportError:\n    pass\n"
                "else:\n    _r.kernel_ship({path!r}, globals().get('ctx')); del _r")
# seconds a new kernel has to answer kernel_info and run its warm-up (imports): measured 13–16 s wall on
# the 2-core machine at load average 10 (≈ 2.5 s quiet); 60 s is four times the slowest (was up to 60 + 120 s)
WARMUP_TIMEOUT = 60.0
_WARMUP_SOURCE = (
    "import matplotlib; matplotlib.use('Agg'); import matplotlib.pyplot\n"
    "import toolkit.reports.sections, toolkit.reports.cohort_sections, toolkit.stats, toolkit.privacy, toolkit.scoring\n"
    "import toolkit.stakeholders, toolkit.plots"
)
# A kernel's first report after a (re)start loads the batch cache and builds its per-process indexes: ≈ 17 CPU s on the
# 1,000-unit cohort at load 9 (≈ 1.2–1.4 s each later report), growing with the cohort. Restarting every 40 reports
# added ≈ 0.4 CPU s to every report; a warm kernel grows by ≈ 0.1 MB a report (measured over 60 reports of that
# cohort), so a kernel is restarted when it has grown by RESTART_GROWTH_MB since its first report, and at the latest
# after RESTART_EVERY reports.
RESTART_EVERY = 400
RESTART_GROWTH_MB = 1024.0


@dataclass
class Task:
    """One report to render."""

    key: str
    notebook: str
    parameters: dict[str, Any]
    html_path: str
    title: str
    lang: str = "de"


@dataclass
class TaskResult:
    """What a worker reports back for one task."""

    key: str
    ok: bool
    html_path: str | None = None
    seconds: float = 0.0
    error: str | None = None
    worker: int = -1
    cpu: float = 0.0  # CPU seconds of the report: its kernel's and this worker's (conversion to HTML)
    releases: dict[str, Any] | None = None  # what the report released (see toolkit.reports.releases), for the batch's audit


class KernelRunner:
    """One kept kernel plus a reusable HTML exporter.

    Parameters
    ----------
    env
        Extra environment variables for the kernel (e.g. the cohort cache folder); a value ``None``
        removes that variable from the kernel's environment.
    restart_every
        Restart the kernel after this many reports at the latest.
    restart_growth_mb
        Restart it earlier once its memory (resident set) has grown by this many MB since its first report
        (bounds memory growth; see :data:`RESTART_GROWTH_MB`).
    timeout
        Seconds a single cell may run.
    """

    def __init__(self, env: dict[str, str] | None = None, *, restart_every: int = RESTART_EVERY, timeout: float = 600,
                 restart_growth_mb: float = RESTART_GROWTH_MB):
        import nbformat  # noqa: F401  (imported once per worker)
        import papermill  # noqa: F401

        from .html import CSS

        self.restart_every = restart_every
        self.restart_growth_mb = restart_growth_mb
        self._rss0: float | None = None  # the kernel's resident MB after its first report
        self.timeout = timeout
        self.n_since_start = 0
        merged = {**os.environ, **(env or {}), "MPLBACKEND": "Agg", "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
        self._env = {k: v for k, v in merged.items() if v is not None}  # ``env`` value None: not in the kernel's environment
        self._ipc_dir = tempfile.mkdtemp(prefix="upo-kernel-")
        self._managers = 0
        self.km = self._new_manager()
        self._notebooks: dict[str, Any] = {}
        self._forwarded: set[str] = set()  # respondent sets this worker has sent with earlier reports
        self.exporter = _exporter_class()(
            template_name="upo",
            extra_template_basedirs=[str(TEMPLATE_DIR)],
            exclude_input=True,
            exclude_input_prompt=True,
            exclude_output_prompt=True,
        )
        self._css = CSS
        self._start()

    # ---------------------------------------------------------------- kernel life cycle
    def _new_manager(self) -> Any:
        """A kernel manager with sockets of its own (IPC: no TCP ports, no "running over TCP without encryption" warning)."""
        from jupyter_client import KernelManager

        self._managers += 1
        km = KernelManager(kernel_name="python3", kernel_spec_manager=_spec_manager(), transport="ipc",
                           ip=os.path.join(self._ipc_dir, f"k{self._managers}"))
        km.shutdown_wait_time = 0.5
        return km

    def _start(self) -> None:
        self.km.start_kernel(env=self._env)
        self.n_since_start = 0
        self._rss0 = None
        self._run_code(_WARMUP_SOURCE)

    def _run_code(self, code: str, timeout: float | None = None) -> None:
        """Run ``code`` in the kernel and wait for its reply on the shell channel (not for its output).

        The reply on the shell channel cannot be missed; the ``idle`` status on IOPub can (a subscriber
        that connects after the kernel published it), and waiting for it stalled a restart once for
        the whole timeout. ``timeout`` (default :data:`WARMUP_TIMEOUT`) bounds the kernel's answer to
        ``kernel_info`` and to ``code`` together.
        """
        deadline = time.monotonic() + (WARMUP_TIMEOUT if timeout is None else timeout)
        kc = self.km.client()
        kc.start_channels()
        try:
            kc.wait_for_ready(timeout=max(1.0, deadline - time.monotonic()))
            msg_id = kc.execute(code, silent=True, store_history=False)
            while True:
                try:
                    reply = kc.get_shell_msg(timeout=max(0.1, deadline - time.monotonic()))
                except queue.Empty:
                    raise TimeoutError(f"the report kernel did not answer within {WARMUP_TIMEOUT:.0f} s") from None
                if reply.get("parent_header", {}).get("msg_id") == msg_id:
                    break
            if reply["content"].get("status") != "ok":
                c = reply["content"]
                raise RuntimeError(f"kernel warm-up failed: {c.get('ename')}: {c.get('evalue')}")
        finally:
            kc.stop_channels()

    def _shutdown(self) -> None:
        try:
            self.km.shutdown_kernel(now=True)
        except Exception:  # a dead kernel cannot be shut down cleanly
            log.debug("kernel shutdown failed", exc_info=True)

    def restart(self) -> None:
        """Replace the kernel (after a failure or every ``restart_every`` reports) by a new one on fresh sockets.

        A kernel restarted on its old manager reuses its sockets (IPC paths); one such kernel never
        answered its warm-up on a busy machine and held its report for the whole timeout. A new
        manager (new sockets, its own zmq context) each time avoids that; if the new kernel does not
        answer within :data:`WARMUP_TIMEOUT` either, one more is tried.
        """
        self._shutdown()
        try:
            self.km = self._new_manager()
            self._start()
        except Exception:
            log.warning("the report kernel did not start again; trying a new kernel", exc_info=log.isEnabledFor(logging.DEBUG))
            self._shutdown()
            self.km = self._new_manager()
            self._start()

    def close(self) -> None:
        self._shutdown()
        shutil.rmtree(self._ipc_dir, ignore_errors=True)

    # ---------------------------------------------------------------- one report
    def _notebook(self, path: str) -> Any:
        import nbformat

        mtime = os.stat(path).st_mtime_ns
        cached = self._notebooks.get(path)
        if cached is None or cached[0] != mtime:
            nb = nbformat.read(path, as_version=4)
            reset = nbformat.v4.new_code_cell(_RESET_SOURCE, metadata={"tags": ["upo-reset"]})
            nb.cells.insert(0, reset)
            nb.cells.append(nbformat.v4.new_code_cell("", metadata={"tags": ["upo-reset"]}))  # ships the releases
            self._notebooks[path] = (mtime, nb)
        return self._notebooks[path][1]  # papermill works on its own copy (it reads the node back from its JSON)

    def run(self, task: Task) -> TaskResult:
        """Execute one report notebook, convert it and write the HTML file."""
        import papermill
        from papermill.exceptions import PapermillExecutionError

        t0 = time.perf_counter()
        if self._due() or not self.km.is_alive():
            try:  # a kernel that cannot start again fails this report with the reason; the worker takes the next one
                self.restart()
            except Exception as exc:
                log.debug("kernel restart before %s failed:\n%s", task.key, traceback.format_exc())
                return TaskResult(task.key, False, None, time.perf_counter() - t0,
                                  error=f"the report kernel could not be restarted ({type(exc).__name__}: {exc})")
        shipped = os.path.join(self._ipc_dir, "releases.json")
        cpu0 = time.process_time() + self._kernel_cpu()
        try:
            if os.path.exists(shipped):
                os.unlink(shipped)
            nb = self._notebook(task.notebook)
            nb.cells[-1].source = _SHIP_SOURCE.format(path=shipped)
            nb = papermill.execute_notebook(
                nb,
                None,
                parameters=task.parameters,
                km=self.km,
                progress_bar=False,
                log_output=False,
                request_save_on_cell_execute=False,
                execution_timeout=self.timeout,
                cwd=str(Path(task.notebook).parent),
            )
            self.n_since_start += 1
            if self._rss0 is None:
                self._rss0 = self._kernel_rss()
            _strip_for_export(nb, title=task.title, lang=task.lang)
            body, _ = self.exporter.from_notebook_node(nb, resources={"upo_css": self._css, "metadata": {"name": task.title}})
            out = Path(task.html_path)
            tmp = out.with_name(out.name + ".tmp")
            tmp.write_text(body, encoding="utf-8")
            os.replace(tmp, out)
            cpu = time.process_time() + self._kernel_cpu() - cpu0
            return TaskResult(task.key, True, str(out), time.perf_counter() - t0, cpu=cpu, releases=self._releases(shipped))
        except PapermillExecutionError as exc:
            reason = f"{exc.ename}: {exc.evalue} (cell {exc.exec_count})"
        except FileNotFoundError as exc:
            reason = f"notebook not found: {exc.filename or exc}"
        except Exception as exc:  # kernel died, timeout, export error: report it and go on
            reason = f"{type(exc).__name__}: {exc}"
            log.debug("report %s failed:\n%s", task.key, traceback.format_exc())
        try:
            self.restart()
        except Exception as exc:
            reason += f"; the kernel could not be restarted ({exc})"
        return TaskResult(task.key, False, None, time.perf_counter() - t0, error=reason)


    def _due(self) -> bool:
        """Whether the kernel is restarted before the next report: after ``restart_every`` reports, or once it has grown
        by ``restart_growth_mb`` since its first report."""
        if self.n_since_start >= self.restart_every:
            return True
        if self._rss0 is None or self.n_since_start < 2:
            return False
        rss = self._kernel_rss()
        return rss is not None and rss - self._rss0 > self.restart_growth_mb

    def _kernel_rss(self) -> float | None:
        """The kernel process's resident memory in MB (None where /proc cannot tell)."""
        try:
            pid = self.km.provisioner.process.pid  # type: ignore[union-attr]
            with open(f"/proc/{pid}/statm", encoding="ascii") as fh:
                return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
        except (AttributeError, OSError, ValueError, IndexError):  # no process (yet), no /proc
            return None

    def _kernel_cpu(self) -> float:
        """CPU seconds the kernel process has used so far (0 where /proc cannot tell)."""
        try:
            pid = self.km.provisioner.process.pid  # type: ignore[union-attr]
            with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except Exception:
            return 0.0

    def _releases(self, path: str) -> dict[str, Any] | None:
        """The report's shipped release record without the sets this worker sent before (None if missing)."""
        import json

        from .releases import decode

        try:
            with open(path, encoding="utf-8") as fh:
                payload = json.load(fh)
            os.unlink(path)
        except (OSError, ValueError):
            log.warning("report kernel wrote no release record")
            return None
        return decode(payload, self._forwarded)


def kernel_reset() -> None:
    """In a report kernel, before a report: ``%reset -f``, figures closed, the last report's garbage collected.

    IPython's reset runs two full garbage collections over the whole heap (the imported libraries and
    the cohort data: ≈ 200,000 objects, ≈ 0.35 CPU s a report on the 2-core machine). Here they are
    skipped during the reset; instead one collection runs afterwards and then :func:`gc.freeze` moves
    what survived (modules, caches, the cohort data) to the permanent generation, so the next report's
    collection only looks at what that report allocated. Objects that become cyclic garbage after they
    were frozen are freed when the kernel restarts (every ``restart_every`` reports).
    """
    import gc

    from IPython import get_ipython

    ip = get_ipython()
    collect = gc.collect
    gc.collect = lambda *args, **kw: 0  # type: ignore[assignment]  (only during IPython's reset, in this thread)
    try:
        ip.run_line_magic("reset", "-f")
    finally:
        gc.collect = collect  # type: ignore[assignment]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.close("all")
    gc.collect()
    gc.freeze()


_NO_ALT = re.compile(r"<img(?![^>]*\balt=)", re.IGNORECASE)


def _exporter_class() -> type:
    """nbconvert's ``HTMLExporter`` without its BeautifulSoup pass over the finished page.

    After rendering the template, ``HTMLExporter.from_notebook_node`` parses the whole page with
    BeautifulSoup (≈ 15,000 tags a report: the inline figures) only to give ``<img>`` tags without
    ``alt`` a placeholder and to make the ``lab`` template's cells focusable, and serialises it again:
    ≈ 60 % of the worker's CPU per report. The ``upo`` template extends ``classic`` (no ``jp-Cell``
    wrappers) and the report images have their ``alt`` text; an ``<img>`` without one still gets
    nbconvert's placeholder, without a parser. The page is the template's output as rendered: the same
    document (the same elements, attributes and text), not re-serialised by BeautifulSoup.
    """
    from nbconvert import HTMLExporter
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

    class _Exporter(HTMLExporter):
        def from_notebook_node(self, nb: Any, resources: dict[str, Any] | None = None, **kw: Any) -> tuple[str, dict[str, Any]]:
            langinfo = nb.metadata.get("language_info", {})
            lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
            self.register_filter("highlight_code", self.filters.get("highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)))
            resources = self._init_resources(resources)
            self.register_filter("filter_data_type", WidgetsDataTypeFilter(notebook_metadata=self._nb_metadata, parent=self, resources=resources))
            html, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
            return _NO_ALT.sub('<img alt="No description has been provided for this image"', html), resources

    return _Exporter


def _spec_manager() -> Any:
    """A kernel spec manager that always starts this interpreter's ipykernel.

    A ``python3`` kernelspec installed elsewhere (e.g. in ``~/.local/share/jupyter``)
    could point to another Python without the toolkit; reports must run in the
    environment that runs ``upo``.
    """
    from jupyter_client.kernelspec import KernelSpec, KernelSpecManager

    class _ThisPython(KernelSpecManager):
        def get_kernel_spec(self, kernel_name: str) -> KernelSpec:  # noqa: ARG002
            return KernelSpec(
                argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                display_name="upo-toolkit (this Python)",
                language="python",
                resource_dir=str(TEMPLATE_DIR),
                metadata={},
            )

    return _ThisPython()


def _strip_for_export(nb: Any, *, title: str, lang: str) -> None:
    """Drop helper cells and stderr noise before conversion."""
    keep = []
    for cell in nb.cells:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & {"upo-reset", "parameters", "injected-parameters", "remove-cell"}:
            continue
        if cell.cell_type == "code":
            outputs = []
            for output in cell.get("outputs", []):
                if output.get("output_type") == "stream":
                    if output.get("name") == "stderr":
                        log.debug("report %s: stderr: %s", title, str(output.get("text", ""))[:500])
                    continue
                outputs.append(output)
            cell["outputs"] = outputs
            if not outputs:
                continue
        keep.append(cell)
    nb.cells = keep
    nb.metadata["title"] = title
    nb.metadata.setdefault("upo", {})["lang"] = lang


def worker_main(wid: int, tasks: Any, results: Any, env: dict[str, str], restart_every: int, timeout: float) -> None:
    """Entry point of a worker process: start a kernel, then render tasks until ``None``."""
    logging.basicConfig(level=logging.WARNING)
    # per-report kernel clients are closed by nbclient; their "could not destroy zmq context" notes are noise
    logging.getLogger("traitlets").setLevel(logging.ERROR)
    logging.getLogger("papermill").setLevel(logging.ERROR)
    os.environ.update(env)
    try:
        runner = KernelRunner(env, restart_every=restart_every, timeout=timeout)
    except Exception as exc:
        results.put(("dead", wid, f"{type(exc).__name__}: {exc}"))
        return
    results.put(("ready", wid, None))
    try:
        while True:
            try:
                task = tasks.get(timeout=1.0)
            except queue.Empty:
                parent = multiprocessing.parent_process()
                if parent is not None and not parent.is_alive():
                    break
                continue
            if task is None:
                break
            results.put(("started", wid, task.key))
            res = runner.run(task)
            res.worker = wid
            results.put(("done", wid, res))
    finally:
        runner.close()
