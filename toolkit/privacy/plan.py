"""Cohort-wide release rules: levels with comparison values, paired change, ranks (one place decides).

* **Levels** (:func:`levels`): an authority's value is shown with at least ``k`` respondents.
  A ministry or cohort value is computed over the authorities that are themselves shown
  ("Ressort, ohne Behörden unter 5"): a small authority then neither hides its ministry nor
  can be subtracted out (the value minus the shown authorities leaves nobody). The rows say
  how many authorities were left out (``n_excluded``).
* **Paired change** (:func:`change_levels`): shown with at least ``k`` pairs unless the
  auditor finds that the difference together with the wave values shown beside it gives a
  smaller group; the pairs' before/after means only where the auditor allows them too.
  Above the authority the pairs are those of the authorities whose change is shown.
* **Ranks and positions** (:func:`rank_shown`, :func:`percentile_shown`) over shown values only.

Example
-------
>>> s = pd.DataFrame({"authority": ["A"] * 6 + ["B"] * 2, "ministry": "M", "participant": list("abcdefgh"),
...                   "wave": "t0", "dimension": "x", "score": [3.0] * 6 + [1.0] * 2})
>>> levels(s, "ministry", k=5, instrument="ci", output="doc")[["ministry", "n", "mean", "n_excluded"]].to_dict("records")
[{'ministry': 'M', 'n': 6, 'mean': 3.0, 'n_excluded': 1}]
"""

from __future__ import annotations

from typing import Callable, Iterable, Sequence

import numpy as np
import pandas as pd

from .core import _check_k, group_summary
from .mask import EMPTY, Mask
from .release import Diff, Level, records, release, release_rows, released_copy

__all__ = ["levels", "release_levels", "shown_cells", "change_levels", "change_plan_all", "release_changes", "rank_shown", "percentile_shown"]

_EST = ["mean", "sd", "median", "q1", "q3", "ci_low", "ci_high"]


def _ids(df: pd.DataFrame) -> pd.Series:
    return df["authority"].astype(str) + "|" + df["participant"].astype(str)


def shown_cells(values: pd.DataFrame, *, k: int, value: str = "score", cell: Sequence[str] = ("wave", "dimension")) -> pd.DataFrame:
    """Per cell and authority: the respondent set, its size and whether the authority's value is shown.

    Returns ``<cell...>, authority, ministry, who (frozenset), n, shown``.
    """
    cell = [c for c in cell if c in values.columns]
    v = values[values[value].notna()]
    v = v.assign(_who=_ids(v))
    keys = [*cell, "authority"]
    if v.empty:
        return pd.DataFrame(columns=[*keys, "ministry", "who", "n", "shown"])
    g = v.groupby(keys, observed=True, sort=False)
    who_arr = v["_who"].to_numpy()
    out = g.size().rename("n").reset_index()
    idx = g.indices
    out["who"] = [frozenset(who_arr[idx[key if len(keys) > 1 else key[0]]]) for key in zip(*[out[c] for c in keys])]
    out["ministry"] = g["ministry"].first().to_numpy() if "ministry" in v.columns else None
    out["n"] = out["who"].map(len).astype(np.int64)
    out["shown"] = out["n"] >= k
    return out


def levels(
    values: pd.DataFrame,
    by: str | None,
    *,
    k: int,
    instrument: str,
    output: str,
    value: str = "score",
    cell: Sequence[str] = ("wave", "dimension"),
    var: str = "dimension",
    wave: str | None = None,
) -> pd.DataFrame:
    """Released summaries per cell and ``by`` group (``"authority"``, ``"ministry"`` or None = cohort).

    Parameters
    ----------
    values
        Tidy per-participant values (``authority, ministry, participant, <cell...>, <value>``).
    by
        The grouping; ministry and cohort values are over the shown authorities only.
    k, instrument, output
        Minimum group size; the instrument id and the output name for the record.
    value, cell, var, wave
        The value column; the cell columns; which cell column names the variable of the
        quantity; the wave when ``values`` has no ``wave`` column.

    Returns
    -------
    DataFrame
        ``<cell...>, <by>, n, mean, sd, median, q1, q3, ci_low, ci_high, suppressed, reason,
        n_excluded, who`` (``who``: the respondent set; drop it before showing).
    """
    k = _check_k(k)
    cell = [c for c in cell if c in values.columns]
    cells = shown_cells(values, k=k, value=value, cell=cell)
    groups = [*cell, *([by] if by else [])]
    v = values[values[value].notna()]
    if by == "authority":
        data = v
        sets = cells.set_index([*cell, "authority"])["who"]
        excluded = None
    else:
        ok = cells[cells["shown"]]
        key = pd.MultiIndex.from_frame(v[[*cell, "authority"]].astype(str))
        okkey = pd.MultiIndex.from_frame(ok[[*cell, "authority"]].astype(str)) if len(ok) else pd.MultiIndex.from_tuples([], names=[*cell, "authority"])
        data = v[key.isin(okkey)]
        gcols = [*cell, *([by] if by else [])]
        sets = ok.groupby(gcols, observed=True)["who"].agg(lambda s: frozenset().union(*s)) if len(ok) and gcols else None
        if len(ok) and not gcols:
            sets = frozenset().union(*ok["who"])
        excluded = cells[~cells["shown"]].groupby(gcols, observed=True).size() if gcols else int((~cells["shown"]).sum())
    if data.empty:
        cols = [*groups, "n", *_EST, "suppressed", "reason", "n_excluded", "who"]
        out = pd.DataFrame(columns=cols)
    else:
        out = group_summary(data, groups or None, value, k=k)
    # groups that have data but no shown authority: suppressed with their reason
    if by != "authority" and not cells.empty:
        allg = cells[groups].drop_duplicates() if groups else pd.DataFrame(index=[0])
        if groups:
            out = allg.merge(out, on=groups, how="left") if len(out) else allg.assign(n=0, suppressed=True)
    if out.empty and not groups:
        out = pd.DataFrame([{"n": 0, "suppressed": True}])

    def who_of(row: pd.Series) -> frozenset:
        if by == "authority":
            return sets.get(tuple(row[c] for c in [*cell, "authority"]), frozenset())
        if not groups:
            return sets if isinstance(sets, frozenset) else frozenset()
        if sets is None:
            return frozenset()
        key = tuple(row[c] for c in groups)
        return sets.get(key if len(key) > 1 else key[0], frozenset())

    out = out.copy()
    gkeys = list(zip(*[out[c] for c in groups])) if groups else [()] * len(out)
    if by == "authority":
        out["who"] = _sets_of(sets, zip(*[out[c] for c in [*cell, "authority"]]))
    elif not groups:
        out["who"] = [sets if isinstance(sets, frozenset) else frozenset()] * len(out)
    else:
        out["who"] = [frozenset() if sets is None else sets.get(g if len(g) > 1 else g[0], frozenset()) for g in gkeys]
    out["n"] = out["who"].map(len).astype(np.int64)
    if excluded is None:
        out["n_excluded"] = 0
    elif groups:
        out["n_excluded"] = [int(excluded.get(g if len(g) > 1 else g[0], 0)) for g in gkeys]
    else:
        out["n_excluded"] = int(excluded)
    for c in _EST:
        if c not in out.columns:
            out[c] = np.nan
    # a group whose authorities are all below k: the reason is theirs
    out["forbid"] = np.where((out["n"] == 0) & (out["n_excluded"] > 0), "too_few", None)
    out = out.drop(columns=["suppressed"], errors="ignore")
    return release_levels(out, by=by, k=k, instrument=instrument, output=output, cell=cell, var=var, wave=wave)


def _sets_of(sets: pd.Series, keys: Iterable[tuple]) -> list[frozenset]:
    """``[sets.get(tuple(key), frozenset()) for key in keys]`` for a Series of respondent sets with a MultiIndex, through
    a dict of its entries (a ``get`` per row searches the MultiIndex: most of :func:`levels` on a large cohort); a key
    the dict does not hold (e.g. a NaN, which a dict does not match) is looked up as before."""
    if not sets.index.is_unique:
        return [sets.get(tuple(r), frozenset()) for r in keys]
    lookup = dict(zip(sets.index, sets.array))
    missing = object()
    out = []
    for r in keys:
        key = tuple(r)
        hit = lookup.get(key, missing)
        out.append(sets.get(key, frozenset()) if hit is missing else hit)
    return out


def release_levels(frame: pd.DataFrame, *, by: str | None, k: int, instrument: str, output: str,
                   cell: Sequence[str] = ("wave", "dimension"), var: str = "dimension", wave: str | None = None,
                   memo: dict | None = None) -> pd.DataFrame:
    """Release (and record) the rows of a :func:`levels` frame, again if it was computed before (e.g. cached).

    ``memo``: a dict the caller keeps with ``frame`` (a frame nobody changes, e.g. a cohort-wide plan released
    into every report): the first call keeps the frame's rows, its decisions and the released frame there; a
    later call with the same frame (the same object) and arguments records the same rows under its ``output``
    again and returns the kept frame (the same object: callers must not change it). The decisions depend on
    the rows and ``k`` only, never on the record or the output; if they came out otherwise, the frame is built
    again.
    """
    cell = [c for c in cell if c in frame.columns]
    groups = [*cell, *([by] if by else [])]

    def qty(row: dict) -> Level:
        return Level(instrument, str(row[var]), str(row["wave"]) if "wave" in row else str(wave))

    label = (lambda r: "/".join(str(r[c]) for c in groups)) if groups else "cohort"
    args = (by, k, instrument, tuple(cell), var, wave)
    kept = memo.get("release_levels") if memo is not None else None
    if kept is not None and kept[0] is frame and kept[1] == args:
        _, _, rows, forbid, prior, hide0, reasons0, out = kept
        hide, reasons = release_rows(rows, quantity=qty, people="who", k=k, output=output, cell=label, forbid=forbid, prior=prior)
        if np.array_equal(hide, hide0) and reasons == reasons0:
            return out
    rows = records(frame)
    prior = None
    if "forbid" in frame.columns:
        forbid = frame["forbid"].tolist()
        if "suppressed" in frame.columns:  # kept suppressed, with its reason
            prior = (frame["suppressed"].fillna(True).to_numpy(dtype=bool),
                     list(frame["reason"]) if "reason" in frame.columns else [None] * len(frame))
    elif "reason" in frame.columns:  # an earlier decision (e.g. a cached plan): its reasons decide again
        forbid = frame["reason"].where(frame["suppressed"].astype(bool), None).tolist()
    else:
        forbid = None
    hide, reasons = release_rows(rows, quantity=qty, people="who", k=k, output=output, cell=label, forbid=forbid, prior=prior)
    out = released_copy(frame, [*groups, "n", *_EST, "suppressed", "reason", "n_excluded", "who"], hide, reasons, estimates=_EST,
                        reset_index=True)
    if memo is not None:
        memo["release_levels"] = (frame, args, rows, forbid, prior, hide, reasons, out)
    return out


def rank_shown(df: pd.DataFrame, value: str, *, ascending: bool = False, shown: str = "suppressed") -> pd.Series:
    """Dense ranks (1 = first) over the rows that are shown; NaN for suppressed rows.

    Example
    -------
    >>> d = pd.DataFrame({"needs": [3.0, 9.0, 5.0], "suppressed": [False, True, False]})
    >>> rank_shown(d, "needs").tolist()
    [2.0, nan, 1.0]
    """
    ok = ~df[shown].fillna(True).astype(bool) & df[value].notna()
    r = df[value].where(ok).rank(ascending=ascending, method="min")
    return r.where(ok)


def percentile_shown(own: float, shown_values: Sequence[float]) -> float:
    """``100 · (below + ½ · equal) / N`` of ``own`` among shown values (NaN without any).

    Example
    -------
    >>> percentile_shown(3.0, [1.0, 3.0, 5.0, 7.0])
    37.5
    """
    vals = np.asarray(shown_values, dtype=float)  # None -> NaN; whole arrays (every authority's means, once per report)
    vals = vals[np.isfinite(vals)]
    if not np.isfinite(own) or vals.size == 0:
        return float("nan")
    return float(100 * (np.sum(vals < own) + 0.5 * np.sum(vals == own)) / vals.size)


_PLAN_MEMO: dict[tuple, dict] = {}


def _fingerprint(v: pd.DataFrame) -> int:
    """An order-free hash of the rows the plan depends on (the memo key; hashes the columns as they are)."""
    cols = [c for c in ("authority", "ministry", "participant", "wave", "dimension", "score") if c in v.columns]
    return int(pd.util.hash_pandas_object(v[cols], index=False).sum())


def _mask(bits: np.ndarray) -> Mask:
    """The mask of respondent bit numbers (:meth:`Mask.from_positions`)."""
    return Mask.from_positions(bits)


def _union(masks: Iterable[Mask]) -> Mask:
    return Mask.union(masks)


def _wave_order(scores: pd.DataFrame, waves: Sequence[str] | None) -> list[str]:
    present = list(dict.fromkeys(str(w) for w in pd.unique(scores["wave"])))  # in order of appearance
    if waves is None:
        return sorted(present) if not isinstance(scores["wave"].dtype, pd.CategoricalDtype) else \
            [str(w) for w in scores["wave"].cat.categories if str(w) in present]
    return [str(w) for w in waves if str(w) in present]


def change_plan_all(scores: pd.DataFrame, *, k: int, instrument: str, waves: Sequence[str] | None = None,
                    pmap: Callable[[Callable[..., dict], list[tuple]], Iterable[dict]] | None = None) -> dict:
    """Decide every paired change of a cohort at once (all wave pairs, authorities, ministries, cohort).

    Order: the levels every output shows (authorities with ``k`` or more, ministry and cohort
    values over shown authorities, every wave) are accepted first; then, per wave pair (first
    to later waves first), each authority's difference and its pairs' before/after means, then
    each ministry's and the cohort's (over the pairs of the authorities whose change is shown)
    — each accepted only if the auditor's rules still hold with everything accepted so far.

    The checks go through :class:`~toolkit.privacy.audit.Planner`, which indexes the accepted
    respondent sets by containment, so the time grows about linearly with the number of units
    (``bench/bench_privacy.py``). The result is memoised per instrument, ``k``, waves and data.

    Every quantity of the auditor's rules belongs to one dimension, so each dimension is decided
    on its own (:func:`_plan_dimension`, with its own planner): ``pmap`` (``pmap(fn, args)``, like
    ``map`` over argument tuples, e.g. a Dask client's or a process pool's) decides them in
    parallel; the result is the same as the serial run's, in the same order.

    Returns
    -------
    dict
        ``(a, b, level, group, dimension) -> (pairs: frozenset, reason or None, means_reason or None)``
        with ``level`` one of ``"authority"``, ``"ministry"``, ``"total"`` (group None).
    """
    k = _check_k(k)
    v = scores[scores["score"].notna()]
    memo_key = (instrument, k, tuple(waves or ()), len(v), _fingerprint(v))
    if memo_key in _PLAN_MEMO:
        return _PLAN_MEMO[memo_key]
    order = _wave_order(v, waves)
    v = v.assign(_w=v["wave"].astype(str), _d=v["dimension"].astype(str), _a=v["authority"].astype(str), _who=_ids(v))
    if "ministry" in v.columns:  # an authority's ministry: its last row's, as dict(zip(...)) over all rows gave
        last = v[["_a"]].assign(_m=v["ministry"].astype(str)).drop_duplicates("_a", keep="last")
        ministry = dict(zip(last["_a"].tolist(), last["_m"].tolist()))
    else:
        ministry = {}
    sets: dict[str, dict[tuple[str, str], frozenset]] = {}
    rows: dict[str, dict[tuple[str, str], np.ndarray]] = {}
    who = v["_who"].to_numpy()
    # a respondent's bit: its place in (ministry, id) order, so that an authority's and a ministry's people are
    # neighbours and their masks share few 64-bit words with other ministries' (the planner's index is by word)
    place = v["_a"].map(ministry).fillna("").astype(str).to_numpy(dtype=object) + "\x1f" + who.astype(object)
    _, bit = np.unique(place, return_inverse=True)
    for (w, d, au), idx in v.groupby(["_w", "_d", "_a"], observed=True).indices.items():
        sets.setdefault(d, {})[(w, au)] = frozenset(who[idx])
        rows.setdefault(d, {})[(w, au)] = bit[idx]
    auths = sorted({au for per in sets.values() for _, au in per})
    dims = [str(x) for x in pd.unique(v["_d"].to_numpy())]
    groups = sorted({ministry.get(au, "") for au in auths})
    members = {g: [au for au in auths if ministry.get(au, "") == g] for g in groups}
    work = [(instrument, d, k, order, auths, groups, members, sets.get(d, {}), rows.get(d, {})) for d in dims]
    out: dict = {}
    for part in (pmap or _serial)(_plan_dimension, work):
        out.update(part)
    if len(_PLAN_MEMO) > 8:
        _PLAN_MEMO.clear()
    _PLAN_MEMO[memo_key] = out
    return out


def _serial(fn: Callable[..., dict], work: list[tuple]) -> list[dict]:
    return [fn(*args) for args in work]


def _plan_dimension(instrument: str, d: str, k: int, order: list[str], auths: list[str], groups: list[str],
                    members: dict[str, list[str]], sets: dict[tuple[str, str], frozenset],
                    rows: dict[tuple[str, str], np.ndarray]) -> dict:
    """The decisions of one dimension (:func:`change_plan_all`): ``sets``/``rows`` map ``(wave, authority)``
    to the respondents and their bit numbers in this dimension."""
    from .audit import Planner

    out: dict = {}
    pl = Planner(k)
    L = lambda w: Level(instrument, d, w)  # noqa: E731
    masks = {(w, au): _mask(rows[(w, au)]) for w in order for au in auths if (w, au) in rows}
    base = []
    for w in order:
        shown = {au for au in auths if len(sets.get((w, au), ())) >= k}
        base += [(L(w), masks[(w, au)]) for au in auths if au in shown]
        for g in groups:
            base.append((L(w), _union(masks[(w, au)] for au in members[g] if au in shown)))
        base.append((L(w), _union(masks[(w, au)] for au in auths if au in shown)))
    pl.add(base)
    for j, b in enumerate(order):
        for a in order[:j]:
            Q = Diff(instrument, d, a, b)

            def decide(p: frozenset, m: Mask) -> tuple[frozenset, str | None, str | None]:
                if len(p) < k:
                    return p, ("no_data" if not p else "too_few_pairs"), "too_few_pairs"
                if not pl.allows([(Q, m)]):
                    return p, "one_wave_derivable", "one_wave_derivable"
                pl.add([(Q, m)])
                means = [(L(a), m), (L(b), m)]
                if pl.allows(means):
                    pl.add(means)
                    return p, None, None
                return p, None, "pair_means"

            shown_p: dict[str, tuple[frozenset, Mask]] = {}
            for au in auths:
                p = sets.get((a, au), frozenset()) & sets.get((b, au), frozenset())
                m = masks.get((a, au), EMPTY) & masks.get((b, au), EMPTY)
                out[(a, b, "authority", au, d)] = r = decide(p, m)
                if r[1] is None:
                    shown_p[au] = (p, m)
            for g in groups:
                inside = [shown_p[au] for au in members[g] if au in shown_p]
                out[(a, b, "ministry", g, d)] = decide(frozenset().union(*[x[0] for x in inside]), _union(x[1] for x in inside))
            out[(a, b, "total", None, d)] = decide(frozenset().union(*[x[0] for x in shown_p.values()]),
                                                   _union(x[1] for x in shown_p.values()))
    return out


def _pair_rows(v: pd.DataFrame, rows: list[tuple], by: str | None) -> pd.DataFrame:
    """The score rows behind each decided group's pairs: for each ``(group, dimension, (pairs, ...))`` of ``rows`` with
    pairs, the rows of ``v`` of that dimension whose respondent is one of the pairs (in ``v``'s order; ``ministry`` set to
    the group when ``by`` is ``"ministry"``), the groups one after the other in the order of ``rows``.

    The same frame as selecting ``v[(dimension == d) & who.isin(pairs)]`` per group and concatenating, found with one
    join of every group's members against ``v`` instead of one scan of ``v`` per group (which grew with groups × rows).
    """
    if v.empty:
        return v.iloc[0:0]
    who = _ids(v).to_numpy(dtype=object)
    key = pd.Series(v["dimension"].astype(str).to_numpy(dtype=object) + "\x1f" + who)
    group_of, members = [], []
    for r, (_, d, (p, _, _)) in enumerate(rows):
        if p:
            members.extend(f"{d}\x1f{x}" for x in p)
            group_of.append(np.full(len(p), r))
    if not members:
        return v.iloc[0:0]
    want = pd.DataFrame({"_r": np.concatenate(group_of), "_k": members})
    pos = pd.DataFrame({"_k": key, "_pos": np.arange(len(v))})
    hit = want.merge(pos, on="_k", how="inner").sort_values(["_r", "_pos"], kind="stable")
    data = v.iloc[hit["_pos"].to_numpy()].reset_index(drop=True)
    if by == "ministry":
        names = np.array([g for g, _, _ in rows], dtype=object)
        data = data.assign(ministry=names[hit["_r"].to_numpy()])
    return data


def change_levels(
    scores: pd.DataFrame,
    a: str,
    b: str,
    *,
    by: str | None,
    k: int,
    instrument: str,
    output: str,
    paired: pd.DataFrame | None = None,
    waves: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Released paired change per dimension (and ``by`` group), with the true reason where hidden.

    Parameters
    ----------
    scores
        Dimension scores of **all** waves (``authority, ministry, participant, wave, dimension,
        score``): the decisions are made for all wave pairs together (:func:`change_plan_all`).
    a, b
        From and to wave.
    by
        ``"authority"``, ``"ministry"`` or None; above the authority, the pairs of the
        authorities whose change is shown.
    paired
        Optional precomputed ``paired_change(scores, a, b, by="authority")``.
    waves
        The cohort's wave order (default: the scores' wave categories, else sorted labels).

    Returns
    -------
    DataFrame
        The columns of :func:`toolkit.stats.paired_change` plus ``who, n, suppressed, reason,
        means_reason``; suppressed rows have NaN estimates, ``mean_from``/``mean_to`` are NaN
        where ``means_reason`` is set.
    """
    from ..stats import paired_change

    k = _check_k(k)
    a, b = str(a), str(b)
    plan = change_plan_all(scores, k=k, instrument=instrument, waves=waves)
    order = _wave_order(scores[scores["score"].notna()], waves)
    fa, fb = (a, b) if a in order and b in order and order.index(a) < order.index(b) else (b, a)
    level = by or "total"
    est = ["mean_from", "mean_to", "mean_diff", "ci_low", "ci_high", "t", "p_t", "d_z", "w_stat", "p_wilcoxon", "r_rb", "p_holm", "sd_diff",
           "p_holm_wilcoxon", "p_t_holm", "p_wilcoxon_holm"]
    if by == "authority":
        pc = paired if paired is not None else paired_change(scores, a, b, by="authority")
        if pc.empty:
            return pc.assign(who=None, n=0, suppressed=True, reason=None, means_reason=None)
        pc = pc.copy()
        none = (frozenset(), "no_data", "no_data")
        dec = [plan.get((fa, fb, "authority", str(au), str(d)), none) for au, d in zip(pc["authority"], pc["dimension"])]
    else:
        rows = [(key[3], key[4], val) for key, val in plan.items() if key[:3] == (fa, fb, level)]
        data = _pair_rows(scores[scores["score"].notna()], rows, by)
        pc = paired_change(data, a, b, by=by) if not data.empty else pd.DataFrame()
        keys = [*([by] if by else []), "dimension"]
        frame = pd.DataFrame([{**({by: g} if by else {}), "dimension": d} for g, d, _ in rows], columns=keys)
        if not pc.empty:
            frame = frame.merge(pc.assign(**{c: pc[c].astype(str) for c in keys}), on=keys, how="left")
        pc = frame
        dec = [val for _, _, val in rows]
    for c in est:
        if c not in pc.columns:
            pc[c] = np.nan
    pc["who"] = [d[0] for d in dec]
    pc["reason"] = [d[1] for d in dec]
    pc["means_reason"] = [d[2] for d in dec]
    pc["n_pairs"] = pc["who"].map(len).astype(np.int64)
    pc["n"] = pc["n_pairs"]
    pc["suppressed"] = pc["reason"].notna()
    pc.loc[pc["suppressed"].to_numpy(), est] = np.nan
    return release_changes(pc, instrument=instrument, a=a, b=b, k=k, output=output, by=by)


def release_changes(frame: pd.DataFrame, *, instrument: str, a: str, b: str, k: int, output: str, by: str | None = None) -> pd.DataFrame:
    """Release (and record) the rows of a :func:`change_levels` frame again, e.g. one authority's rows in its report.

    Rows keep their decision (``suppressed``, ``reason``, ``means_reason``); shown differences
    and shown before/after means are recorded under ``output``.
    """
    head = [c for c in (by, "dimension") if c and c in frame.columns]
    label = lambda r: "/".join(str(r[c]) for c in head) + f" {a}->{b}"  # noqa: E731
    est = [c for c in ["mean_diff", "ci_low", "ci_high", "t", "p_t", "d_z", "w_stat", "p_wilcoxon", "r_rb", "p_holm", "sd_diff",
                       "p_holm_wilcoxon", "p_t_holm", "p_wilcoxon_holm"] if c in frame.columns]
    rows = records(frame)
    forbid = frame["reason"].where(frame["suppressed"].astype(bool), None).tolist() if "reason" in frame.columns else None
    hide, reasons = release_rows(rows, quantity=lambda r: Diff(instrument, str(r["dimension"]), a, b), people="who", k=k, output=output,
                                 cell=label, forbid=forbid)
    # the pairs' before/after means: levels of the pair set, released only where the auditor allows
    mr = []
    for r, hidden, reason in zip(rows, hide, reasons):
        m = r["means_reason"] if isinstance(r.get("means_reason"), str) else None
        if hidden:
            m = m or reason
        elif m is None:
            for w, col in ((a, "mean_from"), (b, "mean_to")):
                release(Level(instrument, str(r["dimension"]), w), r["who"], r[col], k=k, output=output, cell=label(r) + f" {col}")
        mr.append(m)
    means_reason = pd.Series(mr, index=frame.index, dtype=object)
    no_means = means_reason.notna().to_numpy()
    extra: dict[str, object] = {"means_reason": means_reason}
    for col in ("mean_from", "mean_to"):  # NaN where the means are hidden
        values = frame[col].to_numpy(dtype=float, na_value=np.nan, copy=True) if col in frame.columns else np.full(len(frame), np.nan)
        values[no_means] = np.nan
        extra[col] = values
    columns = [c for c in frame.columns if c not in ("suppressed", "reason")]  # then suppressed, reason (and what is new)
    return released_copy(frame, columns, hide, reasons, estimates=est, extra=extra, reset_index=True)
