"""The guides cannot rot: every code block in docs/*.md is executed here.

Conventions in the guides' Markdown:
- a ```yaml block whose first line is ``# file: PATH`` is written to PATH (relative to the guide's
  working folder) before the blocks after it run;
- a ```bash block runs in that folder with the toolkit's ``upo`` on the PATH and must exit 0;
  a line starting with ``upo workshop`` is a server: it runs until it prints its join URL, then stops;
- a ```text block right after a ```bash block is the output that block must print (``…`` matches
  anything within a line);
- a ```python block runs in one namespace per guide, in the same folder;
- a block whose info string says ``no-run`` is shown, not run (used only for the set-up commands
  ``make demo`` / ``make test``, which the suite itself is).
Each guide gets a fresh folder holding a copy of the demo cohort as ``demo.sqlite``.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GUIDES = sorted((ROOT / "docs").glob("*.md"))
FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```\s*$", re.S | re.M)


def blocks(path: Path) -> list[tuple[str, str]]:
    return [(info.strip(), body) for info, body in FENCE.findall(path.read_text(encoding="utf-8"))]


def _env(workdir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["MPLBACKEND"] = "Agg"
    env["HOME"] = str(workdir / "home")
    env["PYTHONPATH"] = str(ROOT)
    return env


def _matches(expected: str, actual: str) -> bool:
    exp = [line.rstrip() for line in expected.strip().splitlines()]
    act = [line.rstrip() for line in actual.strip().splitlines()]
    if len(exp) != len(act):
        return False
    for e, a in zip(exp, act):
        pattern = "^" + ".*".join(re.escape(part) for part in e.split("…")) + "$"
        if not re.match(pattern, a):
            return False
    return True


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:  # the server has exited already
        pass


def _run_server(line: str, workdir: Path, env: dict[str, str]) -> str:
    cmd = line if "--port" in line else f"{line} --port 0"
    proc = subprocess.Popen(["bash", "-c", f"exec {cmd}"], cwd=workdir, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    out, deadline = "", time.time() + 90
    try:
        while time.time() < deadline:
            chunk = proc.stdout.readline()
            out += chunk
            if "http://" in chunk or (not chunk and proc.poll() is not None):
                break
    finally:
        _signal_group(proc.pid, signal.SIGINT)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            _signal_group(proc.pid, signal.SIGKILL)
            proc.wait(10)
    assert "http://" in out, f"{line!r} printed no join URL:\n{out}"
    return out


def _seed_demo_audit(body: str, workdir: Path, demo_db: Path, request: pytest.FixtureRequest) -> None:
    """Before a block's ``upo report demo.sqlite …``: if the guide's demo is still the demo as built, its report
    folder gets the session's passed audit of it (conftest's ``seed_demo_audit``), as a second ``upo report`` of
    unchanged data finds it. Changed data (an erasure, a new answer): ``upo report`` audits them in full."""
    from conftest import seed_demo_audit

    for line in body.splitlines():
        argv = shlex.split(line) if line.startswith("upo report ") else []
        if len(argv) < 3 or argv[2] != "demo.sqlite" or "--min-group-size" in argv:
            continue
        out = argv[argv.index("--out") + 1] if "--out" in argv else "reports"
        seed_demo_audit(workdir / out, workdir / "demo.sqlite", demo_db, request)


def _run_bash(body: str, workdir: Path, env: dict[str, str]) -> str:
    out = ""
    script: list[str] = []
    for line in body.splitlines() + ["__END__"]:
        if line.startswith("upo workshop") or line == "__END__":
            if script:
                proc = subprocess.run(["bash", "-eo", "pipefail", "-c", "\n".join(script)], cwd=workdir, env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600)
                out += proc.stdout
                assert proc.returncode == 0, f"block failed ({proc.returncode}):\n{chr(10).join(script)}\n{proc.stdout}"
                script = []
            if line.startswith("upo workshop"):
                out += _run_server(line, workdir, env)
        else:
            script.append(line)
    return out


@pytest.mark.slow
@pytest.mark.parametrize("guide", GUIDES, ids=lambda p: p.name)
def test_every_block_in_the_guide_runs(guide: Path, tmp_path: Path, demo_db: Path, demo_copy: Path, monkeypatch: pytest.MonkeyPatch,
                                      request: pytest.FixtureRequest):
    workdir = tmp_path / "work"
    (workdir / "home").mkdir(parents=True)
    shutil.copy(demo_copy, workdir / "demo.sqlite")
    env = _env(workdir)
    monkeypatch.chdir(workdir)
    namespace: dict[str, object] = {"__name__": "__guide__"}
    last_output: str | None = None
    ran = 0
    for info, body in blocks(guide):
        lang = info.split()[0] if info else ""
        if "no-run" in info:
            last_output = None
            continue
        if lang == "yaml" and body.startswith("# file:"):
            target = workdir / body.splitlines()[0].split(":", 1)[1].strip()
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(body, encoding="utf-8")
            last_output = None
        elif lang == "bash":
            _seed_demo_audit(body, workdir, demo_db, request)
            last_output = _run_bash(body, workdir, env)
            ran += 1
        elif lang == "text" and last_output is not None:
            assert _matches(body, last_output), f"output differs from the guide:\n--- guide\n{body}\n--- actual\n{last_output}"
            last_output = None
        elif lang == "python":
            exec(compile(body, f"{guide.name}:python", "exec"), namespace)
            ran += 1
            last_output = None
        else:
            last_output = None
    assert ran > 0, f"{guide.name} has no runnable block"


def test_guides_exist_and_are_linked_from_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for guide in GUIDES:
        assert f"docs/{guide.name}" in readme, f"README does not link docs/{guide.name}"
