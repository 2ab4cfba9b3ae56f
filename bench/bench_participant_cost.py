"""What one participant of ``upo workshop`` costs the server: CPU per join and per answer+submit, this code vs a baseline revision.

Both servers run in the same run, one after the other, each a real ``upo workshop`` child process
(the baseline from ``git archive`` of ``--baseline-rev`` into a temporary folder, started with
``PYTHONPATH`` there). N participants, driven at the protocol level (``bench/solara_client.py``:
the page request, Solara's websocket, the widgets' comm messages; no browsers, so the server is what
is measured), open the competence-reflection form at the same moment (*join*: until every page is
usable, i.e. its submit button and first page have arrived; *settled*: until the server has sent
nothing for a moment, so work deferred past the first paint is counted too), then answer every
question page by page and submit (*answer+submit*: until every "Vielen Dank" has arrived).

Server CPU is the user+system time of the server process and its children (psutil), read before
and after each phase and divided by N; wall seconds are printed beside it. *Widgets* are the
``jupyter.widget`` models a page receives (to usable / settled), *messages* the websocket frames the
server sends per participant, *sent* the widget messages a participant sends while answering,
*MB* the server's resident memory after the joins minus before, per participant. *Pool refill* is the
server's CPU in the seconds after the joins (it makes the page sessions for the next room ahead, once quiet),
per participant: not part of a join's latency, but of what a participant costs.

*Under load* (``--burn N``): N CPU burners (busy loops at normal priority, started by this script
once the server is ready and stopped after the answers, for this code and the baseline alike) compete
with the server and the clients for the cores, as the Chromium pages of
``bench/bench_workshop_live.py`` do; then the participants' own times to a usable form (p50/p95,
and of the page request and the websocket opened, each from the common start) say how the joins
fare when the server does not have the cores to itself.

Run: ``.venv/bin/python bench/bench_participant_cost.py [--clients 60] [--baseline-rev 85630bc] [--rounds 1] [--burn N] [--profile DIR]``

``--profile DIR`` also records the server of this code with py-spy (``DIR/join.txt`` and
``DIR/answer.txt``, collapsed stacks; ``--no-baseline`` skips the baseline).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import solara_client  # noqa: E402
from solara_client import Participant, new_http, warm_up  # noqa: E402

INSTRUMENT = "competence_reflection"
REFILL_WAIT = 4.0  # seconds after the joins in which the server's CPU is counted as the refill of its page sessions

MAKE_DB = """
import sys
from toolkit.store import Store
s = Store.init(sys.argv[1], cohort="Bench")
s.add_instrument(sys.argv[2]); s.add_authority("BVA", name="Bundesverwaltungsamt", ministry="BMI"); s.add_wave("t1"); s.close()
"""


class _Counted:
    """A websocket that counts what the server sends (frames and bytes) to one participant."""

    def __init__(self, ws: Any) -> None:
        self._ws, self.frames, self.bytes = ws, 0, 0

    def __aiter__(self) -> Any:
        return self._iter()

    async def _iter(self) -> Any:
        async for raw in self._ws:
            self.frames += 1
            self.bytes += len(raw)
            yield raw

    async def send(self, data: Any) -> None:
        await self._ws.send(data)

    async def close(self) -> None:
        await self._ws.close()


_real_connect = solara_client.websockets.connect


class _CountingWebsockets:
    @staticmethod
    async def connect(*args: Any, **kwargs: Any) -> _Counted:
        return _Counted(await _real_connect(*args, **kwargs))


solara_client.websockets = _CountingWebsockets  # type: ignore[assignment]


def cpu_seconds(pid: int) -> float:
    import psutil

    root = psutil.Process(pid)
    total = 0.0
    for p in [root, *root.children(recursive=True)]:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.Error:
            pass
    return total


def rss(pid: int) -> int:
    import psutil

    root = psutil.Process(pid)
    total = 0
    for p in [root, *root.children(recursive=True)]:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


BURN = "import os, sys; os.nice(int(sys.argv[1]))\nwhile True: pass"


class _Burners:
    """N busy loops at the given nice value (0: normal priority) while the server is measured."""

    def __init__(self, n: int, nice: int = 0) -> None:
        self.procs = [subprocess.Popen([sys.executable, "-c", BURN, str(nice)]) for _ in range(n)]

    def stop(self) -> None:
        for p in self.procs:
            p.kill()
        for p in self.procs:
            p.wait(10)


def _widgets(p: Participant) -> int:
    return len(p.models)


async def _settle(ps: list[Participant], quiet: float = 0.3, limit: float = 30.0) -> None:
    """Wait until no participant has received anything for ``quiet`` seconds."""
    deadline = time.perf_counter() + limit
    last = -1
    quiet_since = time.perf_counter()
    while time.perf_counter() < deadline:
        now_total = sum(p._ws.frames for p in ps if p._ws is not None)
        if now_total != last:
            last, quiet_since = now_total, time.perf_counter()
        elif time.perf_counter() - quiet_since >= quiet:
            return
        await asyncio.sleep(0.02)


class _Spy:
    def __init__(self, pid: int, out: Path | None) -> None:
        self.proc = None
        if out is not None:
            spy = Path(sys.executable).with_name("py-spy")
            self.proc = subprocess.Popen([str(spy), "record", "--pid", str(pid), "--format", "raw", "--rate", "200", "--gil", "--subprocesses",
                                          "--output", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(1.0)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()


async def _drive(url: str, n: int, pid: int, profile: Path | None) -> dict:
    http = new_http()
    await warm_up(url)  # the client's one-time imports, not in the measured joins
    ps = [Participant(url) for _ in range(n)]
    await asyncio.sleep(0)
    spy = _Spy(pid, profile / "join.txt" if profile else None)
    mem0, cpu0, t0 = rss(pid), cpu_seconds(pid), time.perf_counter()
    res = await asyncio.gather(*(p.join(t0, http) for p in ps), return_exceptions=True)
    cpu_usable, t_usable = cpu_seconds(pid) - cpu0, time.perf_counter() - t0
    errors = [repr(r) for r in res if not isinstance(r, float)]
    ok = [p for p, r in zip(ps, res) if isinstance(r, float)]
    usable = [r for r in res if isinstance(r, float)]
    paged = [p.t_page - t0 for p in ok]
    socketed = [p.t_socket - t0 for p in ok]
    w_usable = [_widgets(p) for p in ok]
    f_usable = [p._ws.frames for p in ok]
    await _settle(ok)
    cpu_settled, t_settled = cpu_seconds(pid) - cpu0, time.perf_counter() - t0
    spy.stop()
    mem1 = rss(pid)
    w_settled = [_widgets(p) for p in ok]
    cpu_r = cpu_seconds(pid)
    await asyncio.sleep(REFILL_WAIT)  # the server refills its pool of page sessions once quiet (paid ahead, but paid per participant)
    cpu_refill = cpu_seconds(pid) - cpu_r
    frames0 = {id(p): (p._ws.frames, p._ws.bytes) for p in ok}
    spy = _Spy(pid, profile / "answer.txt" if profile else None)
    cpu1, t1 = cpu_seconds(pid), time.perf_counter()
    codes = [(f"{chr(65 + i % 26)}{chr(65 + i // 26 % 26)}", str(i % 28 + 1), "B", "Xy") for i in range(len(ok))]
    sent = await asyncio.gather(*(p.fill(c, i) for i, (p, c) in enumerate(zip(ok, codes))), return_exceptions=True)
    errors += [repr(r) for r in sent if not isinstance(r, int)]
    filled = [p for p, r in zip(ok, sent) if isinstance(r, int)]
    subs = await asyncio.gather(*(p.submit() for p in filled), return_exceptions=True)
    errors += [repr(r) for r in subs if r is not True]
    cpu_answer, t_answer = cpu_seconds(pid) - cpu1, time.perf_counter() - t1
    spy.stop()
    recv = [(p._ws.frames - frames0[id(p)][0], p._ws.bytes - frames0[id(p)][1]) for p in filled]
    await asyncio.gather(*(p.close() for p in ps), return_exceptions=True)
    await http.aclose()
    k, m = max(1, len(ok)), max(1, len(filled))
    return {
        "n": n, "joined": len(ok), "submitted": sum(1 for r in subs if r is True), "errors": errors,
        "join_cpu": cpu_usable / k, "join_wall": t_usable, "usable_p50": _pct(usable, 50), "usable_p95": _pct(usable, 95),
        "page_p95": _pct(paged, 95), "socket_p95": _pct(socketed, 95), "settled_cpu": cpu_settled / k, "settled_wall": t_settled,
        "answer_cpu": cpu_answer / m, "answer_wall": t_answer, "refill_cpu": cpu_refill / k,
        "widgets_usable": statistics.mean(w_usable) if w_usable else float("nan"),
        "widgets_settled": statistics.mean(w_settled) if w_settled else float("nan"),
        "frames_join": statistics.mean(f_usable) if f_usable else float("nan"),
        "sent": statistics.mean(r + 1 for r in sent if isinstance(r, int)) if filled else float("nan"),
        "frames_answer": statistics.mean(f for f, _ in recv) if recv else float("nan"),
        "kb_answer": statistics.mean(b for _, b in recv) / 1024 if recv else float("nan"),
        "mb": (mem1 - mem0) / 2**20 / k,
    }


def _check_source(src: Path) -> None:
    """The server really runs the code it is said to run (not this worktree's by the current folder)."""
    out = subprocess.run([sys.executable, "-P", "-c", "import toolkit; print(toolkit.__file__)"], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(src)}, check=True).stdout.strip()
    if not Path(out).resolve().is_relative_to(src.resolve()):
        raise SystemExit(f"bench_participant_cost: toolkit imports from {out}, not from {src}")


def _source(rev: str | None, tmp: Path) -> Path:
    """The code to run: this worktree, or ``rev`` exported with ``git archive``."""
    if rev is None:
        return ROOT
    out = tmp / f"rev-{rev}"
    out.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", rev], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(out)], input=archive, check=True)
    return out


def measure(src: Path, n: int, tmp: Path, profile: Path | None, burn: int = 0) -> dict:
    from toolkit.workshop import WorkshopProcess

    folder = Path(tempfile.mkdtemp(prefix="cost-", dir=tmp))
    db = folder / "cost.sqlite"
    env = {"PYTHONPATH": str(src)}
    # -P: the code comes from PYTHONPATH only, not from the current folder (this worktree)
    subprocess.run([sys.executable, "-P", "-c", MAKE_DB, str(db), INSTRUMENT], check=True, env={**os.environ, **env})
    srv = WorkshopProcess(db, INSTRUMENT, "t1", ["--authority", "BVA", "--pool", str(max(n, 1))], env=env)
    srv.cmd = [srv.cmd[0], "-P", *srv.cmd[1:]]
    # started from the temporary folder: the form processes (``python -m toolkit.workshop.worker``, started by the front)
    # import from their current folder first, so started from a worktree the baseline's form processes ran the worktree's code
    here = os.getcwd()
    os.chdir(folder)
    try:
        srv.start(timeout=180)
    finally:
        os.chdir(here)
    burners = _Burners(burn)
    try:
        time.sleep(1.5)  # the pool is full ("Ready" waited for it); let the server go quiet
        return asyncio.run(_drive(srv.url, n, srv.pid, profile))
    finally:
        burners.stop()
        srv.stop()


ROWS = [
    ("join: server CPU per participant, to usable", "join_cpu", 1000, "ms"),
    ("join: server CPU per participant, settled", "settled_cpu", 1000, "ms"),
    ("join: wall, all usable", "join_wall", 1, "s"),
    ("join: usable p50 (each participant)", "usable_p50", 1, "s"),
    ("join: usable p95", "usable_p95", 1, "s"),
    ("join: page received p95", "page_p95", 1, "s"),
    ("join: websocket open p95", "socket_p95", 1, "s"),
    ("join: widgets per page, usable", "widgets_usable", 1, ""),
    ("join: widgets per page, settled", "widgets_settled", 1, ""),
    ("join: server messages per page, to usable", "frames_join", 1, ""),
    (f"after the joins: server CPU in {REFILL_WAIT:.0f} s (pool refill)", "refill_cpu", 1000, "ms"),
    ("answer+submit: server CPU per participant", "answer_cpu", 1000, "ms"),
    ("answer+submit: wall, all", "answer_wall", 1, "s"),
    ("answer+submit: widget messages sent", "sent", 1, ""),
    ("answer+submit: server messages received", "frames_answer", 1, ""),
    ("answer+submit: KB received", "kb_answer", 1, ""),
    ("server memory per participant", "mb", 1, "MB"),
]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=60, help="participants joining at once (protocol level)")
    ap.add_argument("--baseline-rev", default="85630bc", help="git revision measured as the baseline in the same run")
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--rounds", type=int, default=1, help="repeat each measurement (alternating), report medians")
    ap.add_argument("--burn", type=int, default=0, help="CPU burners at normal priority competing with the server during each measurement")
    ap.add_argument("--profile", type=Path, default=None, help="record this code's server with py-spy into this folder")
    a = ap.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="bench-cost-"))
    load = os.getloadavg()
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    print(f"bench_participant_cost: {os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; "
          f"{a.clients} participants at once, {a.rounds} round(s), {a.burn} CPU burners at normal priority; this = worktree at {head}, baseline = {a.baseline_rev}\n", flush=True)
    variants = [("this", None)] + ([] if a.no_baseline else [("baseline", a.baseline_rev)])
    srcs = {name: _source(rev, tmp) for name, rev in variants}
    for src in srcs.values():
        _check_source(src)
    if a.profile:
        a.profile.mkdir(parents=True, exist_ok=True)
    results: dict[str, list[dict]] = {name: [] for name, _ in variants}
    try:
        for r in range(a.rounds):
            for name, _ in (variants if r % 2 == 0 else variants[::-1]):
                prof = a.profile if (name == "this" and r == 0) else None
                res = measure(srcs[name], a.clients, tmp, prof, a.burn)
                results[name].append(res)
                if res["errors"]:
                    print(f"{name}: {len(res['errors'])} errors; first: {res['errors'][0][:300]}", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    def med(name: str, key: str) -> float:
        return statistics.median(x[key] for x in results[name])

    has_base = "baseline" in results
    print(f"{'':<46}{'this':>12}" + (f"{'baseline':>12}{'ratio':>9}" if has_base else ""))
    for label, key, scale, unit in ROWS:
        this = med("this", key) * scale
        line = f"{label:<46}{this:>9.1f}{unit:>3}"
        if has_base:
            base = med("baseline", key) * scale
            line += f"{base:>9.1f}{unit:>3}{(this / base if base else float('nan')):>8.2f}x"
        print(line)
    for name in results:
        x = results[name]
        print(f"{name}: joined {sum(r['joined'] for r in x)} / {sum(r['n'] for r in x)}, submitted {sum(r['submitted'] for r in x)}")
    print(f"\nload average at the end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
