"""Report wording: a view of :mod:`toolkit.i18n`, the one catalogue of every text a reader sees.

Kept so that ``from .texts import tr`` keeps working; add new texts to ``toolkit/i18n.py``.

Example
-------
>>> tr("participation", "de")
'Beteiligung'
>>> tr("threshold_text", "en", k=5)
'5 (values from fewer responses are not shown)'
"""

from __future__ import annotations

from ..i18n import CATALOGUE, t as tr

__all__ = ["tr", "TEXTS"]

# (de, en) per key, read-only view for older callers
TEXTS: dict[str, tuple[str, str]] = {k: (v, CATALOGUE["en"][k]) for k, v in CATALOGUE["de"].items()}
