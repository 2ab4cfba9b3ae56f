"""The no-change re-run: ``upo report DB --all`` decides "nothing changed" without pandas, and only then;
and a report kernel that cannot be restarted fails one report, not the worker.

Small notebooks stand in for the report notebooks (what is rendered does not matter here, only the
planner's decision); ``upo report DB --all`` renders them once, into the module's folder.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from toolkit.reports import render_reports
from toolkit.store import Store, Submission
from toolkit.store.fingerprint import quick_report_state

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("pandas", "pyarrow", "numpy", "matplotlib", "scipy", "jupyter_client", "nbformat", "papermill")

_PROBE = r"""
import json, sys
from toolkit.cli import main
rc = main(sys.argv[1:])
print(json.dumps({"rc": rc, "heavy": sorted(m for m in sys.modules if m.split(".")[0] in %r)}))
""" % (HEAVY,)


def _notebooks(folder: Path) -> Path:
    """``report_authority.ipynb`` and ``report_cohort.ipynb`` of one line each (used through ``UPO_NOTEBOOKS``)."""
    folder.mkdir()
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    params = nbformat.v4.new_code_cell("db = None\nauthority = None\nlang = 'de'\nmin_group_size = None", metadata={"tags": ["parameters"]})
    nb.cells = [params, nbformat.v4.new_code_cell("print('Bericht', authority)")]
    for name in ("report_authority.ipynb", "report_cohort.ipynb"):
        nbformat.write(nb, folder / name)
    return folder


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    base = tmp_path_factory.mktemp("rerun")
    db = base / "c.sqlite"
    with Store.init(db, cohort="Test") as s:
        s.add_instrument("competence_reflection")
        for code in ("BVA", "KBA"):
            s.add_authority(code, name=code, ministry="BMI")
        s.add_wave("t0")
    rendered = {"db": db, "out": base / "out", "notebooks": _notebooks(base / "notebooks")}
    # the command the first time, into an empty folder (the first of the command twice, below)
    first = _upo(rendered, "report", str(db), "--all", "--out", str(rendered["out"]))
    assert first["rc"] == 0 and "3 rendered, 0 unchanged (skipped), 0 failed" in first["text"], first
    return rendered


def _upo(rendered: dict, *args: str) -> dict:
    """``upo ARGS`` in a fresh interpreter: its exit code, output and the heavy modules it imported."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "UPO_NOTEBOOKS": str(rendered["notebooks"])}
    proc = subprocess.run([sys.executable, "-c", _PROBE, *args], capture_output=True, text=True, env=env, timeout=900)
    *text, last = proc.stdout.strip().splitlines()
    return {**json.loads(last), "text": "\n".join(text), "stderr": proc.stderr}


def test_the_command_twice_renders_nothing_the_second_time_and_prints_what_the_full_planner_prints(rendered, monkeypatch):
    """The first time is the module's ``rendered`` (the command into an empty folder: 3 rendered); the second time imports
    no pandas (was also test_no_change_rerun_as_a_command_imports_no_pandas, merged here: every assertion kept)."""
    import re

    from toolkit.reports import batch

    db, out = str(rendered["db"]), rendered["out"]
    written = {p.name: p.stat().st_mtime_ns for p in out.glob("*.html")}
    manifest = (out / "manifest.json").read_text()
    second = _upo(rendered, "report", db, "--all", "--out", str(out))
    assert second["rc"] == 0 and second["heavy"] == [] and second["stderr"] == "", second  # decided from sqlite3 alone
    assert "0 rendered, 3 unchanged (skipped), 0 failed" in second["text"]
    assert f"index: {out}/index.html" in second["text"]
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("*.html")} == written  # nothing rewritten, the index neither
    assert (out / "manifest.json").read_text() == manifest
    # the same question for one of the reports: no pandas either
    run = _upo(rendered, "report", db, "--authority", "BVA", "--out", str(out))
    assert run["rc"] == 0 and "0 rendered, 1 unchanged" in run["text"] and run["heavy"] == []
    # the full planner (the quick decision switched off) finds the same and says the same
    monkeypatch.setattr(batch, "_all_unchanged", lambda *a, **k: None)
    nbs = rendered["notebooks"]
    full = render_reports(rendered["db"], None, out=out, jobs=1, cohort=True, authority_notebook=nbs / "report_authority.ipynb",
                          cohort_notebook=nbs / "report_cohort.ipynb", progress=False)
    assert not full.rendered and len(full.skipped) == 3

    def untimed(text: str) -> str:
        return re.sub(r" in \d+\.\d s$", " in … s", text, flags=re.MULTILINE)

    assert untimed(second["text"]) == untimed(full.summary_text())


def test_a_change_is_seen_and_takes_the_full_path(rendered, tmp_path):
    import shutil

    db = tmp_path / "c.sqlite"
    shutil.copy(rendered["db"], db)
    out = tmp_path / "out"
    shutil.copytree(rendered["out"], out)
    with Store(db) as s:  # the copy is another file: its report folder is not recorded yet
        s.record_report_folder(out)
        s.conn.execute("UPDATE report_folders SET folder = folder")
    # the manifest names the original database: the full planner runs once and rewrites the index for this one
    first = _upo({**rendered}, "report", str(db), "--all", "--out", str(out))
    assert first["rc"] == 0 and "0 rendered, 3 unchanged" in first["text"] and "pandas" in first["heavy"]
    again = _upo(rendered, "report", str(db), "--all", "--out", str(out))
    assert "3 unchanged" in again["text"] and again["heavy"] == []
    with Store(db) as s:
        answers = {item.id: 4 for item in s.instrument("competence_reflection").items if item.type == "likert"}
        s.submit(Submission("BVA", ("Qq", "2", "R", "Zz"), "t0", "competence_reflection", answers, source="test"))
    # new data: the audit stamp and every key change; the full path renders (and imports what it needs)
    assert quick_report_state(db)["fingerprint"] != quick_report_state(rendered["db"])["fingerprint"]
    changed = _upo(rendered, "report", str(db), "--all", "--out", str(out))
    assert changed["rc"] == 0 and "3 rendered, 0 unchanged" in changed["text"], changed
    assert "pandas" in changed["heavy"]


def test_the_quick_state_has_the_stores_fingerprints(rendered):
    state = quick_report_state(rendered["db"])
    with Store(rendered["db"]) as s:
        assert state["fingerprint"] == s.fingerprint()
        assert state["fingerprints"] == {code: s.fingerprint(code) for code in s.authorities()["authority"]}
        assert state["min_group_size"] == s.min_group_size
        assert state["folders"] == {str(p) for p in s.report_folders()}


def _task(folder: Path, notebook: str, code: str):
    """One authority report for a :class:`~toolkit.reports.worker.KernelRunner`, written into ``folder``."""
    from toolkit.reports.worker import Task

    return Task(f"authority:{code}", notebook, {"authority": code}, str(folder / f"{code}.html"), code)


def test_a_kernel_that_cannot_be_restarted_fails_that_report_and_the_worker_goes_on(tmp_path):
    from toolkit.reports.worker import KernelRunner, Task

    nbs = _notebooks(tmp_path / "notebooks")
    nb = str(nbs / "report_authority.ipynb")

    def task(code: str) -> Task:
        return _task(tmp_path, nb, code)

    runner = KernelRunner(restart_every=1)
    try:
        assert runner.run(task("A")).ok
        # the next report restarts the kernel (restart_every=1); this kernel cannot import the toolkit, so it cannot warm up
        broken = tmp_path / "broken" / "toolkit"
        broken.mkdir(parents=True)
        (broken / "__init__.py").write_text("raise ImportError('kaputt')\n")
        runner._env["PYTHONPATH"] = str(broken.parent)
        failed = runner.run(task("B"))  # raised out of run() before: the worker process died with every report after it
        assert not failed.ok and failed.html_path is None
        assert failed.error.startswith("the report kernel could not be restarted") and "kaputt" in failed.error
        assert not (tmp_path / "B.html").exists()
        assert runner.run(task("C")).ok  # the worker renders the next report
    finally:
        runner.close()


def test_a_restarted_kernel_that_never_answers_is_replaced_by_a_new_one(tmp_path):
    """Found in `bench/bench_scale.py --reports 200` on a busy 2-core machine: one restarted kernel never
    answered its warm-up ("Timeout waiting for output") and its report failed. Now a new kernel is tried."""
    from toolkit.reports.worker import KernelRunner, Task

    nbs = _notebooks(tmp_path / "notebooks")
    nb = str(nbs / "report_authority.ipynb")
    def task(code: str) -> Task:
        return _task(tmp_path, nb, code)

    runner = KernelRunner(restart_every=1)
    try:
        assert runner.run(task("A")).ok  # the next report restarts the kernel (restart_every=1)
        first_km = runner.km
        real = runner._start
        calls = []

        def warm_up_once_lost() -> None:
            calls.append(1)
            if len(calls) == 1:
                raise TimeoutError("Timeout waiting for output")
            real()

        runner._start = warm_up_once_lost
        res = runner.run(task("B"))
        assert res.ok, res.error  # failed with "the report kernel could not be restarted" before
        assert len(calls) == 2 and runner.km is not first_km and runner.km.is_alive()
        assert (tmp_path / "B.html").exists()
    finally:
        runner.close()
