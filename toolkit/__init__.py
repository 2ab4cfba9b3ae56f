"""upo-toolkit: cohort surveys and competence reflection for public authorities' digitalisation projects."""

from typing import TYPE_CHECKING, Any

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


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
