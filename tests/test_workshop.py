"""``upo workshop``: validation before start, a real server, join URL, QR code, clean stop on Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

from toolkit.cli import main
from toolkit.workshop import FORM_NOTEBOOK, VoilaServer, free_port, lan_address, session_env, validate_session


@pytest.mark.parametrize(
    "args, message",
    [
        (["--instrument", "nope", "--wave", "t0"], "instrument 'nope'"),
        (["--instrument", "reality_check", "--wave", "t9"], "wave 't9' is not in cohort.sqlite; known waves: t0, t1"),
        (["--instrument", "reality_check", "--wave", "t0", "--authority", "XYZ"], "authority 'XYZ' is not in cohort.sqlite; known: BVA"),
    ],
)
def test_invalid_session_is_one_line_and_exit_1(store, capsys, args, message):
    code = main(["workshop", str(store.path), *args])
    err = capsys.readouterr().err.strip()
    assert code == 1 and message in err and len(err.splitlines()) == 1


def test_missing_database_is_reported(tmp_path, capsys):
    assert main(["workshop", str(tmp_path / "none.sqlite"), "--instrument", "reality_check", "--wave", "t0"]) == 1
    assert "upo init" in capsys.readouterr().err


def test_validate_session_stores_a_shipped_instrument(tmp_path):
    from toolkit.store import Store

    s = Store.init(tmp_path / "c.sqlite")
    s.add_authority("BVA")
    s.add_wave("t0")
    info = validate_session(s.path, "reality_check", "t0")
    assert info["instrument"] == "reality_check" and info["db"] == str((tmp_path / "c.sqlite").resolve())
    assert list(s.instruments()["instrument"]) == ["reality_check"]
    env = session_env(info, kiosk=True)
    assert env["UPO_KIOSK"] == "1" and env["UPO_AUTHORITY"] == "" and env["UPO_WAVE"] == "t0"


def test_voila_command_configures_culling_preheat_and_private_dirs():
    server = VoilaServer(Path("form.ipynb"), port=9999, pool_size=6, cull_idle_timeout=90)
    server.workdir = Path("/tmp/x")
    cmd = " ".join(server.command())
    for part in ("--preheat_kernel=True", "--pool_size=6", "cull_idle_timeout=90", "cull_connected=False", "--Voila.ip=127.0.0.1",
                 "--strip_sources=True", "connection_dir_root=/tmp/x"):
        assert part in cmd


def test_lan_address_is_an_ipv4_address():
    parts = lan_address().split(".")
    assert len(parts) == 4 and all(p.isdigit() for p in parts)


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_idle_culling_ends_abandoned_kernels_but_spares_the_pool(store):
    env = session_env(validate_session(store.path, "reality_check", "t0", "BVA"))
    server = VoilaServer(FORM_NOTEBOOK, env=env, port=free_port(), pool_size=2, cull_idle_timeout=3, cull_interval=1, fill_delay=600)
    server.start()
    try:
        server.wait_ready(120)  # this GET takes one pre-heated kernel: an "abandoned page"; one stays in the pool
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and "is filled with" not in server.log_path.read_text():
            time.sleep(0.5)
        time.sleep(8)  # several cull intervals; the pool is not refilled (fill_delay)
        log = server.log_path.read_text()
        assert "Culling 'idle' kernel" in log  # the abandoned page's kernel was ended
        assert len(server.kernel_pids()) >= 1  # pre-heated kernels survived (a plain culler ends them all)
        with urllib.request.urlopen(server.url, timeout=60) as resp:
            assert resp.status == 200 and "Kernel pool" not in resp.read().decode(errors="replace")
    finally:
        server.stop()


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_serve_prints_url_and_qr_and_stops_cleanly_on_ctrl_c(store, tmp_path):
    port = free_port()
    env = dict(os.environ)
    proc = subprocess.Popen(
        [sys.executable, "-m", "toolkit", "workshop", str(store.path), "--instrument", "reality_check", "--wave", "t0",
         "--authority", "BVA", "--port", str(port), "--kiosk", "--pool", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, start_new_session=True,
    )
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("Ready after"):
                break
        text = "".join(lines)
        assert f"Join URL: http://127.0.0.1:{port}/" in text, text
        assert "█" in text  # the QR code in the terminal
        png = store.path.with_suffix(".workshop-qr.png")
        assert png.read_bytes()[:4] == b"\x89PNG"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=60) as resp:
            assert resp.status == 200
            page = resp.read().decode(errors="replace")
        assert "form_app" not in page and "import " not in page  # no code is shown to participants
        kernels = [p for p in psutil.Process(proc.pid).children(recursive=True) if "ipykernel" in " ".join(p.cmdline())]
        assert kernels  # pre-heated kernels are running
        proc.send_signal(signal.SIGINT)  # Ctrl-C
        rest, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0, rest
        assert "Stopped." in rest
        time.sleep(0.5)
        alive = [k for k in kernels if k.is_running() and k.status() != psutil.STATUS_ZOMBIE]
        assert alive == []  # no stray kernels
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
