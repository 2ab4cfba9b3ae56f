"""The index page of a report folder: every report with its key figures.

Built from the manifest. The key figures are made in the batch's parent (:func:`figures_from_values`)
from the released values each report's kernel shipped with its release record (:func:`key_values`:
the same release calls as the report, the report's profile wave), once their releases are found in
that record, which the batch audits; so the index shows exactly released, audited values and
suppresses what the reports suppress (a hidden value with its reason). Without a usable shipped
record the parent computes them itself (:func:`key_figures`).
"""

from __future__ import annotations

import datetime as _dt
import os
from pathlib import Path
from typing import Any

from .html import CSS, esc, table
from ..i18n import t as i18n_t
from .manifest import Manifest

__all__ = ["write_index", "key_figures", "key_values", "figures_from_values", "shipped_key_figures", "authority_key_figures"]

class _Texts:
    """``t["key"]`` reads ``index.key`` from :mod:`toolkit.i18n` in one language."""

    def __init__(self, lang: str):
        self.lang = lang

    def __getitem__(self, key: str) -> str:
        return i18n_t("index." + key, self.lang)


def key_values(ctx: Any) -> dict[str, Any]:
    """The released values behind the index's key figures of one authority report, as plain data.

    A report kernel computes them after its report, with the report's own context, and ships them
    with the report's release record (:func:`toolkit.reports.releases.kernel_ship`); the batch's parent
    turns them into the index's figures (:func:`figures_from_values`) only after checking that each
    shown value's release is in that shipped record, which the batch's audit checks.

    ``n``: participants per wave (as on the report's cover); ``score``: the overall mean of the
    report's profile wave, released (and recorded) as ``index:<authority>``/``headline_score``;
    ``need``: rank 1 of the report's needs table (the report's own release ``needs/<dimension>``,
    ranks over shown dimensions). A suppressed value travels without its number, with its reason.
    """
    from ..privacy import Level, release
    from .base import output_name
    from .sec_competence import needs_table, profile_wave

    comp = ctx.data.competence
    n = ctx.counts(comp.id if comp else None)
    out: dict[str, Any] = {"authority": ctx.authority, "n": {str(w): int(v) for w, v in n.items()}, "k": int(ctx.k)}
    if comp is None or not n:
        return out
    wave, _ = profile_wave(ctx)
    scores = ctx.data.scores()
    mine = scores[(scores["authority"] == ctx.authority) & (scores["wave"] == wave)]
    person = mine.groupby("participant", observed=True)["score"].mean().dropna()
    r = release(Level(comp.id, "overall", str(wave)), [f"{ctx.authority}|{p}" for p in person.index], float(person.mean()) if len(person) else None,
                k=ctx.k, output=f"index:{ctx.authority}", cell="headline_score")
    out.update(instrument=comp.id, wave=str(wave), report=output_name(ctx),
               score={"value": float(r.value), "reason": None} if r.shown else {"value": None, "reason": r.reason})
    nt = needs_table(ctx)
    if nt is None or nt.empty:
        out["need"] = {"dimension": None, "title": None, "reason": None}
    elif nt["suppressed"].all():
        out["need"] = {"dimension": None, "title": None, "reason": next((x for x in nt["reason"] if x), None)}
    else:
        best = nt[~nt["suppressed"]].sort_values(["rank", "dimension"]).iloc[0]
        out["need"] = {"dimension": str(best["dimension"]), "title": ctx.dim_title(comp, best["dimension"]), "reason": None}
    return out


def figures_from_values(values: dict[str, Any], lang: str = "de") -> dict[str, Any]:
    """The index's key figures (``{"n", "headline"}``, as the manifest stores them) from :func:`key_values`.

    A hidden value shows as "–" and keeps the plain-language reason of its suppression (``reason``).
    """
    from ..privacy.release import reason_text
    from .html import fmt_num

    headline = []
    wave, k = values.get("wave"), int(values.get("k") or 5)
    if wave is not None:
        score, need = values.get("score") or {}, values.get("need") or {}
        shown = score.get("value") is not None
        headline.append({"label": i18n_t("headline_score", lang), "value": f"{fmt_num(score['value'], 2, lang=lang)} ({wave})" if shown else "–",
                         "numeric": True, "wave": wave, "reason": None if shown else reason_text(score.get("reason"), lang, k=k) or None})
        shown = need.get("title") is not None
        headline.append({"label": i18n_t("headline_need", lang), "value": f"{need['title']} ({wave})" if shown else "–",
                         "numeric": False, "wave": wave, "reason": None if shown else reason_text(need.get("reason"), lang, k=k) or None})
    return {"n": dict(values.get("n") or {}), "headline": headline}


def shipped_key_figures(payload: dict[str, Any] | None, lang: str = "de") -> dict[str, Any] | None:
    """The key figures of one report from what its kernel shipped (:func:`key_values` in ``payload["key_values"]``),
    or None when they are missing or a shown value's release is not among the shipped record's entries."""
    values = (payload or {}).get("key_values")
    if not isinstance(values, dict):
        return None
    if values.get("wave") is not None:
        cells = {(o, c, tuple(q)) for o, c, q, *_ in payload.get("entries", [])}
        inst, wave, auth = values.get("instrument"), values["wave"], values.get("authority")
        if (values.get("score") or {}).get("value") is not None and (f"index:{auth}", "headline_score", ("L", inst, "overall", wave)) not in cells:
            return None
        dim = (values.get("need") or {}).get("dimension")
        if dim is not None and (values.get("report"), f"needs/{dim}", ("L", inst, f"needs:{dim}", wave)) not in cells:
            return None
    return figures_from_values(values, lang)


def key_figures(ctx: Any) -> dict[str, Any]:
    """Figures for the index page: n per wave, the overall mean and the largest need of the report's profile wave.

    Exactly what the report releases for the same wave: the largest need is rank 1 of the
    report's needs table (ranks over shown dimensions), and the value names its wave.
    The overall mean is released (and recorded) as ``index:<authority>``. The same as
    :func:`figures_from_values` of :func:`key_values` (what the batch's parent uses).
    """
    return figures_from_values(key_values(ctx), ctx.lang)


def authority_key_figures(db: str | Path, authority: str, *, lang: str = "de", min_group_size: int | None = None) -> dict[str, Any]:
    """:func:`key_figures` of one authority's report (the batch's parent calls it for every rendered report)."""
    from .base import authority_context

    return key_figures(authority_context(db, authority, lang=lang, min_group_size=min_group_size))


def _link(name: str | None, label: str) -> str:
    return f'<a href="{esc(name)}">{esc(label)}</a>' if name else esc(label)


def write_index(out: str | Path, manifest: Manifest, *, db: str | Path, lang: str = "de", k: int = 5) -> Path:
    """Write ``index.html`` (``index.en.html`` for English) listing every report in the manifest."""
    t = _Texts(lang)
    out = Path(out)
    suffix = "" if lang == "de" else f".{lang}"
    entries = {rid: e for rid, e in manifest.reports.items() if e.get("lang", "de") == lang}
    cohort_entry = next((e for e in entries.values() if e.get("kind") == "cohort"), None)
    authority_entries = sorted((e for e in entries.values() if e.get("kind") == "authority"), key=lambda e: (str(e.get("ministry")), str(e.get("authority"))))

    waves: list[str] = []
    for e in authority_entries:
        for w in (e.get("key_figures") or {}).get("n", {}):
            if w not in waves:
                waves.append(w)
    headline_labels: list[str] = []
    numeric_labels: set[str] = set()
    for e in authority_entries:
        for h in (e.get("key_figures") or {}).get("headline", []):
            if h["label"] not in headline_labels:
                headline_labels.append(h["label"])
            if h.get("numeric", True):
                numeric_labels.add(h["label"])

    parts = [f"<h1>{esc(t['title'])}</h1>"]
    cohort_name = manifest.meta.get("cohort_name") or (cohort_entry or {}).get("name")
    if not cohort_name:  # the cohort's name, never the database's file name
        try:
            from ..store import Store

            with Store(db) as store:
                cohort_name = store.cohort().get("name")
        except Exception:  # an index without a readable database still lists the reports
            cohort_name = None
    parts.append(f'<p class="subtitle">{esc(cohort_name or "")}</p>')
    parts.append(f'<p>{esc(t["intro"].format(k=k))}</p>')
    if cohort_entry is not None:
        if cohort_entry.get("html"):
            pdf = f' · {_link(cohort_entry.get("pdf"), t["pdf"])}' if cohort_entry.get("pdf") else ""
            parts.append(f'<p class="lead"><strong>{_link(cohort_entry["html"], t["cohort"])}</strong>{pdf}</p>')
        else:
            parts.append(f'<p class="lead">{esc(t["cohort"])}: {esc(t["failed"])} ({esc(cohort_entry.get("error"))})</p>')
    rows = []
    for e in authority_entries:
        kf = e.get("key_figures") or {}
        label = f"{e.get('name') or e.get('authority')} ({e.get('authority')})"
        if e.get("html"):
            cell = _link(e["html"], label)
            if e.get("pdf"):
                cell += f' <span class="small">[{_link(e["pdf"], t["pdf"])}]</span>'
        else:
            cell = f'{esc(label)} <span class="badge down">{esc(t["failed"])}</span><br><span class="small muted">{esc(e.get("error"))}</span>'
        row = [cell, esc(e.get("ministry"))]
        row += [esc(kf.get("n", {}).get(w, "–")) for w in waves]
        heads = {h["label"]: h for h in kf.get("headline", [])}
        for lab in headline_labels:
            h = heads.get(lab)
            if h and h.get("reason"):  # hidden: its reason on hover
                row.append(f'<span title="{esc(h["reason"])}">{esc(h["value"])}</span>')
            else:
                row.append(esc(h["value"]) if h else "–")
        rows.append(row)
    parts.append(f"<h2>{esc(t['reports'])}</h2>")
    if rows:
        header = [t["authority"], t["ministry"]] + [f"n {w}" for w in waves] + headline_labels
        numeric = list(range(2, 2 + len(waves))) + [2 + len(waves) + i for i, lab in enumerate(headline_labels) if lab in numeric_labels]
        parts.append(table(rows, header, numeric=numeric, raw=True))
    else:
        parts.append(f"<p>{esc(t['none'])}</p>")
    now = _dt.datetime.now().strftime("%d.%m.%Y %H:%M" if lang == "de" else "%Y-%m-%d %H:%M")
    parts.append(f'<footer class="upo">{esc(t["generated"])} {esc(now)} · upo-toolkit</footer>')
    page = (
        f'<!DOCTYPE html><html lang="{esc(lang)}"><head><meta charset="utf-8"/>'
        f'<meta name="viewport" content="width=device-width, initial-scale=1.0"><title>{esc(t["title"])}'
        f'{" – " + esc(cohort_name) if cohort_name else ""}</title><style>{CSS}</style></head>'
        f'<body><main class="upo-report">{"".join(parts)}</main></body></html>'
    )
    target = out / f"index{suffix}.html"
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(page, encoding="utf-8")
    os.replace(tmp, target)
    return target
