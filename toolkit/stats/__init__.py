"""Statistics: reliability, item-total correlations, paired change, Friedman, benchmarks.

Each function documents its R equivalent; the tests compare against R (base R and
``psych``) with the reference scripts in ``tests/reference/``. Nothing is rounded.

Reliability is computed per dimension on the observation × item matrix of the
scored items (reverse keyed, missing codes as NaN; one row per participant × wave,
so filter ``responses`` to one wave first).

Example
-------
>>> s = pd.DataFrame({"authority": "A", "participant": list("pqrstu") * 2, "wave": ["t0"] * 6 + ["t1"] * 6,
...     "dimension": "x", "score": [1.0, 2, 3, 2, 4, 3, 2, 2, 4, 4, 5, 3]})
>>> r = paired_change(s, "t0", "t1")
>>> r[["n_pairs", "mean_diff", "w_stat"]].to_dict("records")
[{'n_pairs': 6, 'mean_diff': 0.8333333333333334, 'w_stat': 10.0}]
"""

from __future__ import annotations

import pandas as pd  # noqa: F401  (used by the doctest examples)

from .benchmark import benchmark
from .change import friedman, friedman_posthoc, holm, paired_change
from .reliability import item_total, omega_total, one_factor_loadings, reliability
from .verdict import Verdict, change_verdict, effect_band, verdict_of

__all__ = ["reliability", "item_total", "paired_change", "friedman", "friedman_posthoc", "benchmark", "holm", "omega_total",
           "one_factor_loadings", "Verdict", "change_verdict", "effect_band", "verdict_of"]
