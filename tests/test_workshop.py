"""``upo workshop``: validation before start, a real server, join URL, QR code, clean stop on Ctrl-C."""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from pathlib import Path

import psutil
import pytest

from toolkit.cli import main
from toolkit.workshop import VoilaServer, WorkshopProcess, free_port, lan_address, session_env, validate_session


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


def test_voila_baseline_command_configures_culling_preheat_private_dirs_and_no_history():
    server = VoilaServer(Path("form.ipynb"), port=9999, pool_size=6, cull_idle_timeout=90)
    server.workdir = Path("/tmp/x")
    cmd = " ".join(server.command())
    for part in ("--preheat_kernel=True", "--pool_size=6", "cull_idle_timeout=90", "cull_connected=False", "--Voila.ip=127.0.0.1",
                 "--strip_sources=True", "connection_dir_root=/tmp/x", "HistoryManager.enabled=False"):
        assert part in cmd


def test_lan_address_is_an_ipv4_address():
    parts = lan_address().split(".")
    assert len(parts) == 4 and all(p.isdigit() for p in parts)


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_serve_form_processes_urls_qr_per_session_and_clean_stop(store):
    """Findings 1, 4, 6, 9: no kernel per page (nothing to cull or pool), a QR file per session, the hint names the authority."""
    a = WorkshopProcess(store.path, "reality_check", "t0", ["--authority", "BVA", "--kiosk", "--pool", "4", "--join-code", "K7Q2", "--processes", "2"]).start()
    b = WorkshopProcess(store.path, "reality_check", "t0", ["--authority", "BVA"]).start()  # a second session on the same database
    try:
        text = "".join(a.output)
        assert f"Join URL: http://127.0.0.1:{a.port}/" in text and "Join code: K7Q2" in text
        assert "█" in text  # the QR code in the terminal
        assert a.presenter_url and a.presenter_url.startswith(a.url + "presenter-") and len(a.presenter_url) > len(a.url) + 30
        assert "authority='BVA'" in text  # the JupyterLab dashboard hint names the authority
        assert "4 page sessions created ahead" in text  # --pool: light sessions made ahead, not kernels
        qr_a = [ln.split(": ", 1)[1].strip() for ln in a.output if ln.startswith("QR code:")][0]
        qr_b = [ln.split(": ", 1)[1].strip() for ln in b.output if ln.startswith("QR code:")][0]
        assert qr_a != qr_b and Path(qr_a).read_bytes()[:4] == b"\x89PNG"
        for _ in range(3):
            with urllib.request.urlopen(a.url, timeout=60) as resp:
                page = resp.read().decode(errors="replace")
            assert resp.status == 200 and "form_app" not in page and "cdn.jsdelivr" not in page and "solara.dev/static" not in page
        with urllib.request.urlopen(a.presenter_url, timeout=60) as resp:
            assert resp.status == 200
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(a.url + "presenter-wrong", timeout=60)
        children = psutil.Process(a.pid).children(recursive=True)
        assert not [c for c in children if "ipykernel" in " ".join(c.cmdline())]  # form processes, no kernels
        assert len(children) == 2 and "2 form processes behind this address" in text
        assert all(p.memory_info().rss < 300 * 2**20 for p in [psutil.Process(a.pid), *children])  # the front and each form process
    finally:
        code_b = b.stop()
        code = a.stop()
    assert code == 0 and code_b == 0, "".join(a.output[-20:])
    assert "Stopped." in "".join(a.output)
    assert not store.path.with_name(f"{store.path.stem}.workshop-drafts").joinpath(f"reality_check-t0-BVA-{a.port}").exists()  # drafts end with the session


def test_the_form_page_loads_solaras_vue_2_bundle():
    """With ipyvue 3 installed Solara's page loads its Vue 3 bundle (solara-vuetify3-app: 3.9 MB of JavaScript, 1.0 MB of CSS) on every
    phone; the form uses no Vue 3 feature, and the Vue 2 bundle (2.2 MB, 0.66 MB) costs the page about a quarter less CPU to a usable form."""
    import solara.server.server as solara_server

    from toolkit.workshop import assets

    assert solara_server.vue3 is False, "ipyvue>=2 is installed: pyproject.toml pins ipyvue<2 and ipyvuetify<2"
    assert ("@widgetti/solara-vuetify-app", "10.1.1") in assets.needed_packages()


def test_missing_page_assets_are_an_error_not_a_cdn_request(monkeypatch, store, capsys):
    import toolkit.workshop.assets as assets

    monkeypatch.setattr(assets, "missing_assets", lambda: ["@widgetti/solara-vuetify3-app@9.9.9"])
    monkeypatch.setattr(os, "environ", dict(os.environ))  # serve() sets the session's variables: keep them out of other tests
    code = main(["workshop", str(store.path), "--instrument", "reality_check", "--wave", "t0", "--port", str(free_port())])
    err = capsys.readouterr().err.strip()
    assert code == 1 and "python -m toolkit.workshop.assets" in err and len(err.splitlines()) == 1
