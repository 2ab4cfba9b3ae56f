"""Issue 15: several form processes behind one address (toolkit.workshop.front, toolkit.workshop.worker).

The routing rules on request heads, the choice of a process (sticky per session, new pages to the
least busy), the live release state shared by the processes (two screens never show states
that differ by fewer than k people), and real ``upo workshop`` processes: ``kill -9`` of one
form process (started again, the session goes on), a clean stop leaves no process behind, and
``kill -9`` of the whole command leaves no form process running.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading
import time
import urllib.request
from pathlib import Path

import psutil
import pytest
from _async import run_async

from toolkit.privacy.live import LiveRelease, live_state, share_live_state
from toolkit.workshop import WorkshopProcess
from toolkit.workshop.front import (
    Front,
    _Worker,
    default_processes,
    request_target,
    split_pool,
    with_session_cookie,
)
from toolkit.workshop.worker import SharedLiveRelease, _Channel

BENCH = Path(__file__).resolve().parent.parent / "bench"


@pytest.mark.parametrize("head, expected", [
    (b"GET / HTTP/1.1\r\nHost: h\r\n\r\n", ("GET", "/", None, False)),
    (b"GET /?x=1 HTTP/1.1\r\ncookie: a=1; solara-session-id=S1\r\n\r\n", ("GET", "/", "S1", False)),
    (b"GET / HTTP/1.1\r\nCookie: solara-session-id-lax=S2\r\n\r\n", ("GET", "/", "S2", False)),
    (b"GET /jupyter/api/kernels/k1/channels?session_id=p HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nCookie: solara-session-id=S3\r\n\r\n",
     ("GET", "/jupyter/api/kernels/k1/channels", "S3", True)),
    (b"POST /_solara/api/close/k1?session_id=p HTTP/1.1\r\nCookie: other=2; solara-session-id=\"S4\"\r\nContent-Length: 0\r\n\r\n",
     ("POST", "/_solara/api/close/k1", "S4", False)),
])
def test_request_target_reads_method_path_session_and_upgrade(head, expected):
    assert request_target(head) == expected


@pytest.mark.parametrize("head", [b"GET / HTTP/1.1\r\nHost: h\r\n\r\nBODY", b"GET / HTTP/1.1\r\nHost: h\r\nCookie: a=1\r\n\r\nBODY"])
def test_a_new_device_gets_the_session_id_the_front_chose(head):
    out = with_session_cookie(head, "S9")
    assert request_target(out)[2] == "S9" and out.endswith(b"\r\n\r\nBODY") and out.count(b"\r\n\r\n") == 1
    if b"a=1" in head:
        assert b"a=1; solara-session-id=S9" in out  # other cookies kept


def test_pool_spread_and_default_processes():
    assert split_pool(60, 2) == [30, 30] and split_pool(5, 2) == [3, 2] and split_pool(0, 3) == [0, 0, 0]
    assert default_processes() >= 1


def _front(n: int = 2) -> Front:
    front = Front("127.0.0.1", 0, n, 0, {})
    for w in front.workers:
        w.ready = True
    return front


def test_a_session_stays_with_its_process_and_new_pages_go_to_the_least_busy():
    front = _front(2)
    front.workers[0].pages = 5  # reported open pages
    first = front._choose("A")
    assert first.index == 1 and front._choose("A") is first  # sticky: the websocket and a reload follow the page
    picks = [front._choose(f"new{i}").index for i in range(8)]
    assert picks == [1, 1, 1, 1, 0, 1, 0, 1]  # the idle one first, until both carry the same (new pages count at once)
    front.workers[1].ready = False  # restarting: new devices go to the running one, known ones wait for theirs
    assert front._choose("later").index == 0 and front._choose("A") is first


def _channel_pair(front: Front) -> tuple[_Channel, threading.Thread]:
    """A form process's live channel to ``front``, served by a thread standing in for the front's loop."""
    w = _Worker(len(front.workers), 0)
    mine, theirs = socket.socketpair()
    w.live = theirs
    stop = threading.Event()

    def serve() -> None:
        import select

        while not stop.is_set():
            if select.select([theirs], [], [], 0.05)[0]:
                front._live_readable(w)

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    t.stop = stop  # type: ignore[attr-defined]
    return _Channel(mine), t


def test_two_form_processes_show_one_live_state():
    """With a LiveRelease per process, a page in one process could show the group over 5 people and one in the other over 6."""
    front = _front(2)
    (ca, ta), (cb, tb) = _channel_pair(front), _channel_pair(front)
    session = ("db", "competence_reflection", "t1", "BVA", id(front))
    try:
        a, b = SharedLiveRelease(session, 5, ca), SharedLiveRelease(session, 5, cb)
        five, six = frozenset("abcde"), frozenset("abcdef")
        assert a.step("x", five, {"mean": 3.0}).value == {"mean": 3.0}
        shown = b.step("x", six, {"mean": 3.2})  # the other process, one person later
        assert shown.value == {"mean": 3.0} and shown.n == 5 and shown.reason == "live_step"
        assert b.for_participant("x", "z").shown and a.released("x") == (five, {"mean": 3.0})
        assert b.step("x", frozenset("abcdefghij"), {"mean": 3.5}).value == {"mean": 3.5}  # k new people: the next state
        assert a.for_participant("x", "a").value == {"mean": 3.5}
        separate = LiveRelease(5)  # what each process had before
        separate.step("x", six, {"mean": 3.2})
        assert separate.released("x")[0] == six
    finally:
        ta.stop.set(); tb.stop.set()  # noqa: E702


def test_share_live_state_switches_the_factory_and_back():
    calls = []
    share_live_state(lambda key, k: calls.append(key) or LiveRelease(k))
    try:
        live_state(("s", 1), 5)
        assert calls == [("s", 1)]
    finally:
        share_live_state(None)
    assert type(live_state(("s", 1), 5)) is LiveRelease


def _children(pid: int) -> list[psutil.Process]:
    return psutil.Process(pid).children(recursive=True)


def _form_processes(pid: int) -> list[psutil.Process]:
    out = []
    for c in _children(pid):
        try:
            if c.status() != psutil.STATUS_ZOMBIE and "toolkit.workshop.worker" in " ".join(c.cmdline()):
                out.append(c)
        except psutil.Error:  # ended meanwhile
            pass
    return out


def _wait(pred, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.1)
    return False


def _join_one(url: str) -> float:
    sys.path.insert(0, str(BENCH))
    from solara_client import Participant

    async def go() -> float:
        p = Participant(url)
        try:
            return await p.join(time.perf_counter())
        finally:
            await p.close()

    return run_async(go())


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_kill_9_of_a_form_process_restarts_it_and_a_clean_stop_leaves_no_process(store):
    srv = WorkshopProcess(store.path, "reality_check", "t0", ["--authority", "BVA", "--processes", "2", "--pool", "2"]).start()
    try:
        assert "2 form processes behind this address" in "".join(srv.output) and "2 page sessions created ahead" in "".join(srv.output)
        forms = _form_processes(srv.pid)
        assert len(forms) == 2
        assert _join_one(srv.url) > 0
        os.kill(forms[0].pid, signal.SIGKILL)
        assert _wait(lambda: len(_form_processes(srv.pid)) == 2 and forms[0].pid not in [p.pid for p in _form_processes(srv.pid)])
        assert _wait(lambda: "ended (exit code -9); starting it again" in "".join(srv.output), 10)
        for _ in range(4):  # every page request answered, whichever process it reaches
            with urllib.request.urlopen(srv.url, timeout=60) as resp:
                assert resp.status == 200
        assert _join_one(srv.url) > 0 and _join_one(srv.url) > 0
        everyone = _children(srv.pid)
    finally:
        code = srv.stop()
    assert code == 0 and "Stopped." in "".join(srv.output)
    assert _wait(lambda: not [p for p in everyone if p.is_running() and p.status() != psutil.STATUS_ZOMBIE], 10), "a child survived the stop"


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_kill_9_of_the_whole_command_leaves_no_form_process_then_the_same_command_runs_and_stops_on_sigterm(store):
    srv = WorkshopProcess(store.path, "reality_check", "t0", ["--authority", "BVA", "--processes", "2", "--pool", "0"]).start()
    forms = _form_processes(srv.pid)
    os.kill(srv.pid, signal.SIGKILL)  # the front only (a crash of the command), not its process group
    srv.proc.wait(10)
    assert _wait(lambda: not [p for p in forms if p.is_running() and p.status() != psutil.STATUS_ZOMBIE], 20), "form processes outlived the front"
    again = WorkshopProcess(store.path, "reality_check", "t0", ["--authority", "BVA", "--processes", "2", "--pool", "0"], port=srv.port).start()
    try:
        assert _join_one(again.url) > 0
        everyone = _children(again.pid)
        assert len(everyone) == 2
        again.proc.send_signal(signal.SIGTERM)  # a clean stop by the service manager
        assert again.proc.wait(30) == 0
    finally:
        again.kill()
    assert _wait(lambda: not [p for p in everyone if p.is_running() and p.status() != psutil.STATUS_ZOMBIE], 10), "a child survived SIGTERM"


def test_form_processes_run_the_toolkit_the_front_runs_whatever_the_current_folder(store, tmp_path, monkeypatch):
    """A form process was started with ``python -m`` and imported a ``toolkit`` of the current folder before the front's
    (a benchmark started from a worktree ran the worktree's form code as its "baseline")."""
    other = tmp_path / "elsewhere" / "toolkit"
    other.mkdir(parents=True)
    (other / "__init__.py").write_text("raise ImportError('the toolkit of the current folder')\n")
    monkeypatch.chdir(other.parent)
    srv = WorkshopProcess(store.path, "reality_check", "t0", ["--authority", "BVA", "--processes", "1", "--pool", "0"])
    srv.cmd = [srv.cmd[0], "-P", *srv.cmd[1:]]  # the front itself from PYTHONPATH, as bench/bench_participant_cost.py starts it
    srv.start()
    try:
        assert _join_one(srv.url) > 0
    finally:
        srv.stop()


def _raw_get(port: int, head: bytes, requests: int = 1) -> list[tuple[bytes, dict, bytes]]:
    """Send ``head`` ``requests`` times on one connection; the answers as (status line, headers, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(head * requests)
        buf, out = b"", []
        while len(out) < requests:
            while b"\r\n\r\n" not in buf:
                chunk = s.recv(65536)
                assert chunk, "the server closed the connection"
                buf += chunk
            top, buf = buf.split(b"\r\n\r\n", 1)
            status, *lines = top.split(b"\r\n")
            headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(b":") for line in lines)}
            if b" 304 " in status + b" ":
                n = 0
            elif b"content-length" in headers:
                n = int(headers[b"content-length"])
            else:  # no length (HTTP/1.0 or chunked): the rest of the connection, as it is
                while chunk := s.recv(65536):
                    buf += chunk
                n = len(buf)
            while len(buf) < n:
                buf += s.recv(65536)
            out.append((status, headers, buf[:n]))
            buf = buf[n:]
    return out


def test_the_front_sends_the_pages_files_as_a_form_process_does(store):
    """Each phone asks for the page's ≈ 17 files; a form process answered each after a connection hand-over and uvicorn
    (≈ 3.5 ms of its core per new connection). The front keeps the form process's compressed answers and sends them itself:
    the same status, headers and bytes, several on one connection, never a cookie; other requests go to a form process."""
    import gzip

    from toolkit.workshop.front import css_fonts, page_assets

    srv = WorkshopProcess(store.path, "competence_reflection", "t0", ["--authority", "BVA", "--pool", "0", "--processes", "1"]).start()
    try:
        with urllib.request.urlopen(srv.url, timeout=60) as resp:
            html = resp.read().decode()
        files = page_assets(html)
        assert any(f.endswith(".js") for f in files) and any("nodeps.js?" in f for f in files)
        port = srv.port
        deadline = time.monotonic() + 30
        fonts: list[str] = []

        def from_front(target: bytes) -> tuple[bytes, dict, bytes]:
            while True:  # the front keeps the files shortly after the process says ready
                (status, headers, body), = _raw_get(port, b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip, br\r\n\r\n")
                if b"server" not in headers or time.monotonic() > deadline:  # uvicorn names itself, the front does not
                    return status, headers, body
                time.sleep(0.2)

        for path in files:
            target = path.encode()
            status, front, body = from_front(target)
            assert status == b"HTTP/1.1 200 OK" and b"server" not in front, path
            # HTTP/1.0: not the front's to answer, a form process answers as before
            (status0, proc, body0), = _raw_get(port, b"GET " + target + b" HTTP/1.0\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n")
            assert b"server" in proc and status0.endswith(b"200 OK")
            drop = {b"date", b"server", b"connection", b"keep-alive"}
            assert {k: v for k, v in front.items() if k not in drop} == {k: v for k, v in proc.items() if k not in drop}, path
            assert body == body0 and b"set-cookie" not in front
            if path.split("?")[0].endswith(".css"):
                text = gzip.decompress(body) if front.get(b"content-encoding") == b"gzip" else body
                fonts += css_fonts(path, text.decode())
        for f in fonts:
            status, h, _b = from_front(f.encode())
            assert status.endswith(b"200 OK") and b"server" not in h, (f, status, h)
        assert len(fonts) >= 3
        three = _raw_get(port, b"GET " + files[0].encode() + b" HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n", requests=3)  # one connection
        assert len({b for _s, _h, b in three}) == 1
        # a conditional request and the page itself still reach a form process
        (_s, h304, _b), = _raw_get(port, b"GET " + files[0].encode() + b" HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\nIf-None-Match: \"x\"\r\n\r\n")
        assert b"server" in h304
        (_s, page, _b), = _raw_get(port, b"GET / HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\nCookie: solara-session-id=abcdefgh-1\r\n\r\n")
        assert b"server" in page and b"set-cookie" in page  # a device with a session: its form process (see the next test)
    finally:
        srv.stop()


def test_the_front_sends_a_new_devices_page_itself_and_its_websocket_reaches_the_form():
    """A room's phones ask for the page at the same moment; a form process answered each (a connection hand-over, uvicorn,
    Solara's page handler) while it was building the first pages' forms. Once a form process has answered a page, the front
    sends the same page (the same headers and bytes) to every new device itself, each with a fresh session cookie, and hands
    the session to a form process: the device's websocket gets its form there. A device that has a session (a reload: its
    draft) and a page that is not the same for every device still reach a form process."""
    import tempfile

    sys.path.insert(0, str(BENCH))
    from bench_workshop_live import INSTRUMENT, make_db

    with tempfile.TemporaryDirectory() as d:
        srv = WorkshopProcess(make_db(Path(d)), INSTRUMENT, "t1", ["--authority", "BVA", "--processes", "2", "--pool", "2"]).start()
        try:
            port = srv.port
            ask = b"GET /?lang=en HTTP/1.1\r\nHost: room:8866\r\nAccept-Encoding: gzip\r\n\r\n"
            (status0, first, body0), = _raw_get(port, ask)
            assert status0.endswith(b"200 OK") and b"server" in first  # the first: from a form process
            deadline = time.monotonic() + 30
            while True:
                answers = _raw_get(port, ask, requests=3)  # one connection, as a phone's browser
                if all(b"server" not in h for _s, h, _b in answers) or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            drop = {b"date", b"server", b"set-cookie"}
            ids = set()
            for status, h, body in answers:
                assert status == b"HTTP/1.1 200 OK" and b"server" not in h
                assert body == body0 and {k: v for k, v in h.items() if k not in drop} == {k: v for k, v in first.items() if k not in drop}
                sid = h[b"set-cookie"].split(b";")[0].split(b"=", 1)[1]
                assert h[b"set-cookie"].replace(sid, b"S") == first[b"set-cookie"].replace(first[b"set-cookie"].split(b";")[0].split(b"=", 1)[1], b"S")
                ids.add(sid)
            assert len(ids) == 3  # a session of its own for each device
            # the same page for a device with a session (a reload) comes from its form process, as before
            (_s, again, _b), = _raw_get(port, ask.replace(b"\r\n\r\n", b"\r\nCookie: solara-session-id=" + sid + b"\r\n\r\n"))
            assert b"server" in again and sid in again[b"set-cookie"]
            # a page the front keeps: a new device joins through it (page from the front, websocket to the form process)
            (_s, _h, _b), = _raw_get(port, b"GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAccept-Encoding: gzip\r\n\r\n" % port)
            deadline = time.monotonic() + 30
            while b"server" in _raw_get(port, b"GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAccept-Encoding: gzip\r\n\r\n" % port)[0][1] \
                    and time.monotonic() < deadline:
                time.sleep(0.2)
            assert _join_one(srv.url) > 0 and _join_one(srv.url) > 0
        finally:
            srv.stop()
