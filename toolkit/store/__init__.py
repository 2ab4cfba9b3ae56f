"""The cohort store: one SQLite file (or a PostgreSQL database), append-only submissions, tidy reads.

All SQL of the toolkit lives here; :mod:`.dialect` runs the same statements on PostgreSQL. Writes happen in :meth:`Store.atomic`
transactions (``BEGIN IMMEDIATE``); one submission is one transaction, an import
is one transaction. Reads return tidy DataFrames with the contract columns
``authority, ministry, participant, wave, instrument, dimension, item, stakeholder, value``.

Example
-------
>>> import tempfile, pathlib
>>> from toolkit.store import Store, Submission
>>> db = Store.init(pathlib.Path(tempfile.mkdtemp()) / "c.sqlite", cohort="Demo")
>>> db.add_authority("BVA", name="Bundesverwaltungsamt", ministry="BMI")
>>> db.add_wave("t0")
>>> inst = db.add_instrument("reality_check")
>>> sid = db.submit(Submission("BVA", ("Ma", "7", "K", "Ha"), "t0", "reality_check", {"go1": 2, "go2": 1}))
>>> db.responses()[["authority", "wave", "item", "value"]].to_string(index=False)
'authority wave item  value\\n      BVA   t0  go1    2.0\\n      BVA   t0  go2    1.0'
>>> db.close()
"""

from typing import TYPE_CHECKING

from .._lazy import lazy_exports
from .dialect import is_url, resolve_location
from .schema import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION, TIDY_COLUMNS

if TYPE_CHECKING:
    from .answers import Submission
    from .core import Store, open_store

# imported on first use: they need pandas; the no-change report planner and `upo --help` do not
_LAZY = {"Store": ".core", "open_store": ".core", "Submission": ".answers"}

__getattr__ = lazy_exports(__name__, _LAZY)

__all__ = ["Store", "Submission", "TIDY_COLUMNS", "SCHEMA_VERSION", "MIGRATIONS", "APPLICATION_ID", "open_store", "is_url",
           "resolve_location"]
