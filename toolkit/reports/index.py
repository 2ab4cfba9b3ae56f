"""The index page of a report folder: every report with its key figures.

Built from the manifest. The key figures are computed in the batch's parent process
by :func:`key_figures` from the same released data as the report (the same release calls,
the report's profile wave), recorded in the manifest, so the index always shows the same
numbers as the reports and suppresses what they suppress.
"""

from __future__ import annotations

import datetime as _dt
import os
from pathlib import Path
from typing import Any

from .html import CSS, esc, table
from ..i18n import t as i18n_t
from .manifest import Manifest

__all__ = ["write_index", "key_figures", "authority_key_figures"]

class _Texts:
    """``t["key"]`` reads ``index.key`` from :mod:`toolkit.i18n` in one language."""

    def __init__(self, lang: str):
        self.lang = lang

    def __getitem__(self, key: str) -> str:
        return i18n_t("index." + key, self.lang)


def key_figures(ctx: Any) -> dict[str, Any]:
    """Figures for the index page: n per wave, the overall mean and the largest need of the report's profile wave.

    Exactly what the report releases for the same wave: the largest need is rank 1 of the
    report's needs table (ranks over shown dimensions), and the value names its wave.
    The overall mean is released (and recorded) as ``index:<authority>``.
    """
    from ..privacy import Level, release
    from .html import fmt_num
    from .sec_competence import needs_table, profile_wave

    comp = ctx.data.competence
    n = ctx.counts(comp.id if comp else None)
    headline = []
    if comp is not None and n:
        wave, _ = profile_wave(ctx)
        scores = ctx.data.scores()
        mine = scores[(scores["authority"] == ctx.authority) & (scores["wave"] == wave)]
        person = mine.groupby("participant", observed=True)["score"].mean().dropna()
        r = release(Level(comp.id, "overall", str(wave)), [f"{ctx.authority}|{p}" for p in person.index], float(person.mean()) if len(person) else None,
                    k=ctx.k, output=f"index:{ctx.authority}", cell="headline_score")
        value = fmt_num(r.value, 2, lang=ctx.lang) if r.shown else "–"
        headline.append({"label": ctx.t("headline_score"), "value": f"{value} ({wave})" if r.shown else value, "numeric": True, "wave": wave})
        nt = needs_table(ctx)
        top = "–"
        if nt is not None and not nt.empty and not nt["suppressed"].all():
            best = nt[~nt["suppressed"]].sort_values(["rank", "dimension"]).iloc[0]
            top = ctx.dim_title(comp, best["dimension"])
        headline.append({"label": ctx.t("headline_need"), "value": top if top == "–" else f"{top} ({wave})", "numeric": False, "wave": wave})
    return {"n": n, "headline": headline}


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
