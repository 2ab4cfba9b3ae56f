"""Hardening: 60 processes × 10 submissions each through the workshop form's submit path.

Every process drives :class:`toolkit.widgets.FormState` (the state class behind the
Voilà form's submit button) against one database (a SQLite file, and a PostgreSQL database): new participants, corrections
(a new attempt by the same participant: the latest submission counts) and double
clicks (the same attempt submitted twice: its token stores it once). A submit that
reports the database as busy is retried with the same attempt, as a participant
would click again. Throughput is measured in ``bench/run_all.py``, not here.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import pytest

from toolkit.store import Store

N_PROCESSES = 60
CALLS_PER_PROCESS = 10
INSTRUMENT = "reality_check"
pytestmark = pytest.mark.both_backends

# per process: 10 submit() calls =
#   6 new participants, 2 corrections (participants 0 and 1), 1 new participant submitted twice (double click)
NEW, CORRECTED, DOUBLE = 6, (0, 1), 6


def _code(proc: int, person: int) -> dict[str, str]:
    return {"mother": f"{chr(65 + proc % 26)}{chr(65 + proc // 26 % 26)}", "birthday": str(person + 1), "birthplace": "K", "street": "Sx"}  # codes as the form allows them (2 letters)


def _fill(form, proc: int, person: int, corrected: bool) -> None:
    form.set_code(_code(proc, person))
    for i, item in enumerate(form.instrument.items):
        # original answers: all "partly" (1); a correction: go1 = "yes" (2), everything else "no" (0)
        form.set_answer(item.id, (2 if i == 0 else 0) if corrected else 1)


def _submit(form, results: list, retries: list) -> None:
    for _ in range(50):
        res = form.submit()
        if res.ok:
            results.append((res.submission_id, res.duplicate))
            return
        retries.append(res.message)  # "busy": the participant clicks again with the same attempt
    raise RuntimeError(f"submit kept failing: {retries[-1]}")


def _participant_process(db: str, proc: int, authority: str, go, out, env: dict) -> None:
    from toolkit.widgets.form_state import FormState

    os.environ.update(env)  # the forkserver may predate the test's environment (the code key's folder)
    form = FormState(db, INSTRUMENT, "t0", authority=authority)
    results: list = []
    retries: list = []
    go.wait(120)
    try:
        for person in range(NEW):
            form.reset()
            _fill(form, proc, person, corrected=False)
            _submit(form, results, retries)
        for person in CORRECTED:
            form.reset()
            _fill(form, proc, person, corrected=True)
            _submit(form, results, retries)
        form.reset()
        _fill(form, proc, DOUBLE, corrected=False)
        _submit(form, results, retries)
        _submit(form, results, retries)  # double click: same attempt, same token
        out.put((proc, results, len(retries), None))
    except Exception as exc:  # reported to the parent, which fails the test with it
        out.put((proc, results, len(retries), f"{type(exc).__name__}: {exc}"))


@pytest.mark.slow
def test_sixty_processes_submit_through_the_form_without_loss_or_duplicates(db_location):
    db = db_location
    store = Store.init(db, cohort="Werkstatt")
    store.add_instrument(INSTRUMENT)
    store.add_wave("t0")
    authorities = [f"A{i}" for i in range(6)]
    for code in authorities:
        store.add_authority(code, ministry="BMI")
    store.close()

    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["toolkit.widgets.form_state"])
    go, out = ctx.Event(), ctx.Queue()
    env = {k: v for k, v in os.environ.items() if k == "XDG_DATA_HOME"}
    procs = [ctx.Process(target=_participant_process, args=(str(db), p, authorities[p % len(authorities)], go, out, env))
             for p in range(N_PROCESSES)]
    for p in procs:
        p.start()
    go.set()  # everyone starts submitting at the same moment
    reports = [out.get(timeout=300) for _ in procs]
    for p in procs:
        p.join(60)
    errors = [(proc, err) for proc, _, _, err in reports if err]
    assert not errors, errors
    assert all(p.exitcode == 0 for p in procs)

    calls = [r for _, results, _, _ in reports for r in results]
    assert len(calls) == N_PROCESSES * CALLS_PER_PROCESS
    ok_ids = {sid for sid, _ in calls}
    # the double click returned the same id, flagged as a duplicate; every other call stored something new
    assert sum(dup for _, dup in calls) == N_PROCESSES
    assert len(ok_ids) == N_PROCESSES * (CALLS_PER_PROCESS - 1)

    store = Store(db)
    assert store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    subs = store.submissions()
    stored = set(subs["submission"])
    assert ok_ids <= stored, "a submission reported as stored is missing (lost)"
    assert len(subs) == len(ok_ids), "more submissions stored than reported (duplicated)"
    n_items = len(store.instrument(INSTRUMENT).items)
    per_sub = store.conn.execute("SELECT COUNT(*) FROM answers GROUP BY submission_id").fetchall()
    assert len(per_sub) == len(ok_ids) and {n for (n,) in per_sub} == {n_items}  # no partial submission

    latest = store.responses(INSTRUMENT, linked=False)
    assert latest["participant"].nunique() == N_PROCESSES * (NEW + 1)
    assert store.count_submissions(INSTRUMENT, wave="t0") == N_PROCESSES * (NEW + 1)
    per_person = subs.groupby("participant").size()
    assert sorted(per_person.value_counts().items()) == [(1, N_PROCESSES * (NEW + 1 - len(CORRECTED))), (2, N_PROCESSES * len(CORRECTED))]
    # latest counts: the corrected participants show their correction, everyone else the original answers
    go1 = latest[latest["item"] == "go1"].set_index("participant")["value"]
    corrected = set(per_person[per_person == 2].index)
    assert set(go1[go1 == 2].index) == corrected
    assert (go1.drop(index=list(corrected)) == 1).all()
    others = latest[(latest["item"] != "go1") & latest["participant"].isin(corrected)]
    assert (others["value"] == 0).all() and len(others) == len(corrected) * (n_items - 1)
