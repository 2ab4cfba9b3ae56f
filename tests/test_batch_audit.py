"""The batch's disclosure audit checks what the report kernels shipped back, without a second rendering.

The kernels record each report's releases and ship them with the HTML (toolkit.reports.releases);
the parent audits them with its own releases (key figures, command-line aggregates, reports it did
not render). The record must be the one `cohort_audit` builds by rendering everything in memory;
a violation planted in a kernel's record refuses the batch (nothing written), and a report whose
record is missing is rendered by the audit itself, not passed.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from toolkit.demo import build_demo
from toolkit.exceptions import PrivacyError
from toolkit.paths import NOTEBOOKS_DIR
from toolkit.reports import render_reports
from toolkit.reports.audit import cohort_audit
from toolkit.reports.context import batch_numbering, cohort_data

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def small_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("batch-audit") / "demo.sqlite"
    build_demo(db, n_authorities=3).close()
    return db


def _releases(rec, recode=lambda p: p) -> set:
    return {(e.output, e.cell, e.quantity, frozenset(recode(p) for p in rec.names(e.mask)), e.known) for e in rec.entries}


def _notebook_with(tmp_path: Path, extra: str) -> Path:
    nb = nbformat.read(NOTEBOOKS_DIR / "report_authority.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(extra))
    path = tmp_path / "report_authority.ipynb"
    nbformat.write(nb, path)
    return path


def test_the_batch_audits_the_kernels_records_and_they_equal_the_in_memory_audit(small_demo: Path, tmp_path: Path):
    res = render_reports(small_demo, out=tmp_path / "out", jobs=2, cohort=True)
    assert res.ok and len(res.rendered) == 4
    assert res.audit is not None and res.audit.ok
    assert set(res.audit.from_kernels) == {r.report_id for r in res.rendered}  # nothing rendered twice
    assert not (tmp_path / "out" / ".staging").exists()
    assert all(r.html.parent == tmp_path / "out" and r.html.exists() for r in res.rendered)
    assert list((tmp_path / "out" / ".audit").glob("audit-*.ok"))
    _, recode = batch_numbering(cohort_data(small_demo))
    reference = cohort_audit(small_demo)
    assert _releases(res.audit.record) == _releases(reference.record, recode)
    again = render_reports(small_demo, out=tmp_path / "out", jobs=2, cohort=True)  # audited once per data and code
    assert len(again.skipped) == 4 and again.audit is None


def test_a_violation_planted_in_a_kernels_record_refuses_the_batch(small_demo: Path, tmp_path: Path):
    plant = ("from toolkit.privacy import Level, release\n"
             "people = [f'{authority}|R{i}' for i in range(900, 906)]\n"
             "release(Level('competence_reflection', 'digital_tools', 't0'), people, 1.0, k=5, output=f'report:{authority}', cell='planted')\n"
             "_ = release(Level('competence_reflection', 'digital_tools', 't0'), people[:5], 1.0, k=5, output=f'report:{authority}', cell='planted-5')")
    out = tmp_path / "out"
    with pytest.raises(PrivacyError, match="violation"):
        render_reports(small_demo, out=out, jobs=1, authority_notebook=_notebook_with(tmp_path, plant))
    assert not list(out.glob("*.html")) or [p.name for p in out.glob("*.html")] == ["index.html"]
    assert not (out / ".staging").exists() and not list((out / ".audit").glob("*.ok"))
    manifest = out / "manifest.json"
    assert not manifest.exists() or not json.loads(manifest.read_text(encoding="utf-8"))["reports"]


def test_a_report_whose_record_is_missing_is_rendered_by_the_audit_not_passed(small_demo: Path, tmp_path: Path):
    drop = "import toolkit.reports.releases as _r\n_r.kernel_ship = lambda *args: None  # this kernel ships nothing"
    res = render_reports(small_demo, out=tmp_path / "out", jobs=1, authority_notebook=_notebook_with(tmp_path, drop))
    assert res.ok and res.audit is not None and res.audit.ok
    assert res.audit.from_kernels == ()  # no record came back ...
    outputs = {e.output for e in res.audit.record.entries}
    assert {f"report:{r.authority}" for r in res.rendered} <= outputs  # ... so the audit rendered every report itself


def test_a_violation_in_the_first_record_is_found_while_later_reports_render_and_refuses_the_batch(small_demo: Path, tmp_path: Path,
                                                                                                   monkeypatch: pytest.MonkeyPatch):
    """The shipped records are joined into the audit record as they arrive (before the last report is done);
    a violation in the first report's record alone still refuses the whole batch and writes nothing."""
    import toolkit.reports.batch as B
    from toolkit.store import Store

    with Store(small_demo) as store:
        first = str(store.authorities()["authority"].iloc[0])
    plant = (f"if authority == {first!r}:\n"
             "    from toolkit.privacy import Level, release\n"
             "    people = [f'{authority}|R{i}' for i in range(900, 906)]\n"
             "    release(Level('competence_reflection', 'digital_tools', 't0'), people, 1.0, k=5, output=f'report:{authority}', cell='planted')\n"
             "    _ = release(Level('competence_reflection', 'digital_tools', 't0'), people[:5], 1.0, k=5, output=f'report:{authority}', "
             "cell='planted-5')")
    joined: list[tuple[str, int, int]] = []  # (report, releases joined so far, reports joined so far)
    real = B._LiveRecord.add_shipped

    def spy(self, report_id, payload):
        real(self, report_id, payload)
        joined.append((report_id, len(self.batch.record), len(self.batch.shipped)))

    monkeypatch.setattr(B._LiveRecord, "add_shipped", spy)
    out = tmp_path / "out"
    with pytest.raises(PrivacyError, match=f"violation.*report:{first}"):
        render_reports(small_demo, out=out, jobs=1, authority_notebook=_notebook_with(tmp_path, plant))
    assert joined[0][0] == f"authority:{first}" and len(joined) == 3
    assert joined[0][1] > 0 and joined[0][2] == 1  # the first record was joined when it arrived, not after the last
    assert [n for _, _, n in joined] == [1, 2, 3]
    assert not list(out.glob("*.html")) or [p.name for p in out.glob("*.html")] == ["index.html"]
    assert not (out / ".staging").exists() and not list((out / ".audit").glob("*.ok"))
    manifest = out / "manifest.json"
    assert not manifest.exists() or not json.loads(manifest.read_text(encoding="utf-8"))["reports"]
