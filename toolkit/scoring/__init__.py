"""Scoring: missing codes, reverse keying, dimension scores, Ist/Soll gaps, needs, readiness.

Every function takes the tidy responses frame of :meth:`toolkit.store.Store.responses`
(columns ``authority, ministry, participant, wave, instrument, dimension, item,
stakeholder, value``) and the :class:`~toolkit.instruments.Instrument`, and returns a
tidy frame. Nothing is rounded; the input is never changed.

Rules (DESIGN §3):

* A missing code of the item's scale ("cannot judge", e.g. 0) and any value outside
  the scale's range count as missing (NaN).
* A reverse-keyed item is scored as ``(min + max) − value``.
* A dimension score is the mean of the valid scored items (``likert``, ``checklist``)
  and needs at least ``min_valid`` valid items (default: all but one); otherwise NaN.
* One observation is one participant in one wave (``authority, participant, wave``;
  participant codes are unique within an authority). If a frame holds several
  answers to the same item of one observation (``latest=False``), the last one wins.

The work is vectorised: each function reshapes the long frame into an
observation × item matrix once (:func:`item_matrix`) and computes with NumPy.

Example
-------
>>> from toolkit.instruments import resolve_instrument
>>> inst = resolve_instrument("competence_reflection")
>>> resp = pd.DataFrame({"authority": "BVA", "ministry": "BMI", "participant": "P-1", "wave": "t0",
...     "instrument": inst.id, "dimension": "data", "item": ["da1", "da2", "da3"], "stakeholder": None,
...     "value": [4.0, 0.0, 2.0]})
>>> dimension_scores(resp, inst).query("dimension == 'data'")[["score", "n_valid", "n_items"]].to_dict("records")
[{'score': 4.0, 'n_valid': 2, 'n_items': 3}]
"""

from __future__ import annotations

import pandas as pd  # noqa: F401  (used by the doctest examples)

from .matrix import OBS_KEYS, item_matrix, score_items
from .scores import dimension_scores, gaps, needs_ranking, overall_readiness, readiness

__all__ = [
    "OBS_KEYS",
    "score_items",
    "item_matrix",
    "dimension_scores",
    "gaps",
    "needs_ranking",
    "readiness",
    "overall_readiness",
]
