"""Exceptions of the toolkit.

Every error a user can cause derives from :class:`ToolkitError`. The command line
turns these into a one-line message and exit code 1; anything else is a bug.
"""

from __future__ import annotations

__all__ = [
    "ToolkitError",
    "InstrumentError",
    "DataError",
    "StoreError",
    "PrivacyError",
    "ReportError",
]


class ToolkitError(Exception):
    """Base class of all errors a user can cause and fix."""


class InstrumentError(ToolkitError):
    """An instrument file is invalid.

    Parameters
    ----------
    problems
        One ``(path, message)`` pair per problem; ``path`` is the location in
        the YAML document such as ``dimensions[3].items[1].scale``.
    source
        The file (or other source) the instrument came from.
    """

    def __init__(self, problems: list[tuple[str, str]], source: str = "<instrument>"):
        self.problems = list(problems)
        self.source = source
        lines = [f"{source}: {path}: {msg}" if path else f"{source}: {msg}" for path, msg in self.problems]
        super().__init__("\n".join(lines))


class DataError(ToolkitError):
    """Input data (answers, an import file, a code) does not fit the instrument or the cohort."""


class StoreError(ToolkitError):
    """The database file is missing, foreign, corrupt or from a newer toolkit."""


class PrivacyError(ToolkitError):
    """A request would reveal a group smaller than the minimum group size."""


class ReportError(ToolkitError):
    """A report could not be rendered."""
