"""The plan warm-up as it was (d5c0253): one whole report's sections built, nothing recorded, to fill the batch cache's
plans (for tests comparing :func:`toolkit.reports.context.warm_report_plans` with it)."""

from __future__ import annotations

from toolkit.reports.context import CohortData, _fullest_authority


def warm_report_plans(data: CohortData, lang: str = "de") -> None:
    authority = _fullest_authority(data)
    if authority is None:
        return
    import matplotlib.pyplot as plt

    from toolkit.privacy.release import unrecorded
    from toolkit.reports.base import AuthorityContext
    from toolkit.reports.sections import AUTHORITY

    row = data.authorities[data.authorities["authority"] == authority].iloc[0]
    ctx = AuthorityContext(data, authority, str(row["name"] or authority), row["ministry"], lang, int(data.cohort["min_group_size"]))
    before = set(plt.get_fignums())
    try:
        with unrecorded():
            AUTHORITY.build_all(ctx)
    finally:
        data._local.clear()
        for num in set(plt.get_fignums()) - before:
            plt.close(num)
