"""upo-toolkit: cohort surveys and competence reflection for public authorities' digitalisation projects."""

from ._version import __version__
from .exceptions import DataError, InstrumentError, PrivacyError, ReportError, StoreError, ToolkitError
from .instruments import Instrument, load_instrument, parse_instrument, resolve_instrument, shipped_instruments
from .store import Store, Submission, open_store

__all__ = [
    "__version__",
    "ToolkitError",
    "InstrumentError",
    "DataError",
    "StoreError",
    "PrivacyError",
    "ReportError",
    "Instrument",
    "load_instrument",
    "parse_instrument",
    "resolve_instrument",
    "shipped_instruments",
    "Store",
    "Submission",
    "open_store",
]
