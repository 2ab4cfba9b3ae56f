"""upo-toolkit: cohort surveys and competence reflection for public authorities' digitalisation projects."""

from typing import TYPE_CHECKING

from ._lazy import lazy_exports
from ._version import __version__
from .exceptions import DataError, InstrumentError, PrivacyError, ReportError, StoreError, ToolkitError

if TYPE_CHECKING:
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

# imported on first use: they need pandas, which `upo --help` and the no-change report re-run do not
_LAZY = {
    **dict.fromkeys(["Instrument", "load_instrument", "parse_instrument", "resolve_instrument", "shipped_instruments"], ".instruments"),
    **dict.fromkeys(["Store", "Submission", "open_store"], ".store"),
}

__getattr__ = lazy_exports(__name__, _LAZY)
