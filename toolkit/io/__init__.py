"""Import and export: wide CSV/XLSX and LimeSurvey in (with quarantine), CSV/XLSX/Parquet/SPSS/LimeSurvey out.

See :mod:`toolkit.io.validate` for the column naming of wide files,
:mod:`toolkit.io.limesurvey` for LimeSurvey mappings and the survey-structure export,
and :mod:`toolkit.io.export` for the export formats.
"""

from __future__ import annotations

from .export import EXPORTERS, OptionalDependencyError, codebook, export, tidy_frame, wide_frame
from .imports import ImportResult, import_file, submission_token
from .limesurvey import limesurvey_mapping, limesurvey_structure, read_mapping, write_limesurvey_structure
from .readers import IMPORTERS, RawTable, read_table

__all__ = [
    "import_file",
    "ImportResult",
    "export",
    "EXPORTERS",
    "IMPORTERS",
    "OptionalDependencyError",
    "RawTable",
    "codebook",
    "limesurvey_mapping",
    "limesurvey_structure",
    "read_mapping",
    "read_table",
    "submission_token",
    "tidy_frame",
    "wide_frame",
    "write_limesurvey_structure",
]
