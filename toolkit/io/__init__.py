"""Import and export: wide CSV/XLSX and LimeSurvey in (with quarantine), CSV/XLSX/Parquet/SPSS/LimeSurvey out.

See :mod:`toolkit.io.validate` for the column naming of wide files,
:mod:`toolkit.io.limesurvey` for LimeSurvey mappings and the survey-structure export,
and :mod:`toolkit.io.export` for the export formats.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_exports

if TYPE_CHECKING:
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

# imported on first use: the exporters need pandas, which the import command's checks of its arguments do not
_LAZY = {
    **dict.fromkeys(["EXPORTERS", "OptionalDependencyError", "codebook", "export", "tidy_frame", "wide_frame"], ".export"),
    **dict.fromkeys(["ImportResult", "import_file", "submission_token"], ".imports"),
    **dict.fromkeys(["limesurvey_mapping", "limesurvey_structure", "read_mapping", "write_limesurvey_structure"], ".limesurvey"),
    **dict.fromkeys(["IMPORTERS", "RawTable", "read_table"], ".readers"),
}

__getattr__ = lazy_exports(__name__, _LAZY)
