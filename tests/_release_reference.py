"""The frame releases as they were before they were built in one step (toolkit/privacy at 36d3547).

:func:`release_frame`, :func:`release_levels` and :func:`release_changes` copied a frame and set each
released column on the copy; kept here (except for the names) so that tests can compare the one-step
versions with them: the same frames (values, dtypes, column order, index) and the same releases.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Sequence

import numpy as np
import pandas as pd

from toolkit.privacy.plan import _EST
from toolkit.privacy.release import Diff, Level, records, release


def release_frame_ref(df: pd.DataFrame, *, quantity: Callable[[dict], Any], people: str | Callable[[dict], Iterable[Any]], k: int,
                      output: str, cell: Callable[[dict], str] | str = "", estimates: Sequence[str] | None = None,
                      forbid: str | None = None, reason_for: str = "reason") -> pd.DataFrame:
    from toolkit.privacy.core import estimate_columns

    out = df.copy()
    cols = list(estimates) if estimates is not None else [c for c in estimate_columns(df) if c != "who"]
    prior_sup = out["suppressed"].fillna(True).to_numpy(dtype=bool) if "suppressed" in out.columns else np.zeros(len(out), bool)
    prior_reason = list(out[reason_for]) if reason_for in out.columns else [None] * len(out)
    sup, reasons = [], []
    for i, row in enumerate(records(out)):
        if prior_sup[i]:
            sup.append(True)
            reasons.append(prior_reason[i] if isinstance(prior_reason[i], str) else "derivable")
            continue
        f = row.get(forbid) if forbid else None
        f = f if isinstance(f, str) and f else None
        ppl = row[people] if isinstance(people, str) else people(row)
        c = cell(row) if callable(cell) else cell
        r = release(quantity(row), ppl if ppl is not None else (), None, k=k, output=output, cell=c, forbid=f)
        sup.append(not r.shown)
        reasons.append(r.reason)
    hide = np.asarray(sup, dtype=bool)
    for col in cols:
        values = out[col].to_numpy(dtype=float, na_value=np.nan, copy=True)
        values[hide] = np.nan
        out[col] = values
    out["suppressed"] = hide
    out["reason"] = pd.Series(reasons, index=out.index, dtype=object)
    return out


def release_levels_ref(frame: pd.DataFrame, *, by: str | None, k: int, instrument: str, output: str,
                       cell: Sequence[str] = ("wave", "dimension"), var: str = "dimension", wave: str | None = None) -> pd.DataFrame:
    cell = [c for c in cell if c in frame.columns]
    groups = [*cell, *([by] if by else [])]

    def qty(row: dict) -> Level:
        return Level(instrument, str(row[var]), str(row["wave"]) if "wave" in row else str(wave))

    label = (lambda r: "/".join(str(r[c]) for c in groups)) if groups else "cohort"
    out = frame.copy()
    if "forbid" not in out.columns:
        out["forbid"] = out["reason"].where(out["suppressed"].astype(bool), None) if "reason" in out.columns else None
        out = out.drop(columns=["suppressed", "reason"], errors="ignore")
    out = release_frame_ref(out, quantity=qty, people="who", k=k, output=output, cell=label, estimates=_EST, forbid="forbid")
    return out[[*groups, "n", *_EST, "suppressed", "reason", "n_excluded", "who"]].reset_index(drop=True)


def release_changes_ref(frame: pd.DataFrame, *, instrument: str, a: str, b: str, k: int, output: str, by: str | None = None) -> pd.DataFrame:
    head = [c for c in (by, "dimension") if c and c in frame.columns]
    label = lambda r: "/".join(str(r[c]) for c in head) + f" {a}->{b}"  # noqa: E731
    est = [c for c in ["mean_diff", "ci_low", "ci_high", "t", "p_t", "d_z", "w_stat", "p_wilcoxon", "r_rb", "p_holm", "sd_diff",
                       "p_holm_wilcoxon", "p_t_holm", "p_wilcoxon_holm"] if c in frame.columns]
    pc = frame.copy()
    pc["_f"] = pc["reason"].where(pc["suppressed"].astype(bool), None) if "reason" in pc.columns else None
    base = pc.drop(columns=["suppressed", "reason"], errors="ignore")
    out = release_frame_ref(base, quantity=lambda r: Diff(instrument, str(r["dimension"]), a, b), people="who", k=k, output=output,
                            cell=label, estimates=est, forbid="_f").drop(columns="_f")
    mr = []
    need = list(dict.fromkeys([*head, "who", "suppressed", "reason", "means_reason", "mean_from", "mean_to"]))
    for r in out[[c for c in need if c in out.columns]].to_dict("records"):
        m = r["means_reason"] if isinstance(r.get("means_reason"), str) else None
        if r["suppressed"]:
            m = m or r["reason"]
        elif m is None:
            for w, col in ((a, "mean_from"), (b, "mean_to")):
                release(Level(instrument, str(r["dimension"]), w), r["who"], r[col], k=k, output=output, cell=label(r) + f" {col}")
        mr.append(m)
    out["means_reason"] = pd.Series(mr, index=out.index, dtype=object)
    hide = out["means_reason"].notna().to_numpy()
    out.loc[hide, ["mean_from", "mean_to"]] = np.nan
    return out.reset_index(drop=True)
