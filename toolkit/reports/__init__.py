"""Reports per authority and for the cohort: papermill notebooks rendered in parallel to HTML/PDF.

Public entry point: :func:`render_reports` (used by ``upo report`` and ``upo demo``).
The notebooks call the section functions of :mod:`toolkit.reports.sections` and
:mod:`toolkit.reports.cohort_sections`.
"""

from __future__ import annotations

from .batch import COHORT_REPORT_ID, BatchResult, ReportResult, render_reports

__all__ = ["render_reports", "BatchResult", "ReportResult", "COHORT_REPORT_ID"]
