"""Exports for coordinators and researchers: tidy CSV, XLSX with codebook, Parquet, SPSS, LimeSurvey.

Raw exports carry pseudonymous participant codes (``P-…``, specific to each authority)
only: never code elements, never the key, never the import file names.

Text cells that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return; OWASP "CSV injection") are written with a leading
apostrophe in CSV and XLSX (:func:`neutralise`); the database, Parquet and SPSS keep
the text as typed. The XLSX ``notes`` sheet says so. All exports hold the latest submission per
participant, wave and instrument, with participants linked across waves.

==============  ==========================================================================
format          content
==============  ==========================================================================
``csv``         tidy long table: ``authority, ministry, participant, wave, instrument,
                dimension, item, stakeholder, value, text`` (UTF-8, ``,``, ``.`` decimals)
``xlsx``        sheets ``data`` (the tidy table), ``codebook`` (one row per item: texts de/en,
                type, role, scale, reverse key, labels), ``scales`` (one row per scale point),
                ``instruments`` (id, version, hash, title), ``notes`` (how to read the file)
``parquet``     the tidy table (needs ``pip install "upo-toolkit[parquet]"``)
``sav``         SPSS, one instrument in wide form (one row per participant and wave, one
                variable per item or item × stakeholder) with variable labels, value labels
                and the "cannot judge" codes as user-missing values
                (needs ``pip install "upo-toolkit[spss]"``)
``limesurvey``  the instrument's survey structure as LimeSurvey TSV (see :mod:`.limesurvey`)
==============  ==========================================================================

Example
-------
>>> import tempfile, pathlib
>>> from toolkit.demo import build_demo
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> store = build_demo(d / "demo.sqlite", n_authorities=1, seed=1)
>>> export(store, d / "answers.csv").name
'answers.csv'
>>> list(pd.read_csv(d / "answers.csv").columns) == EXPORT_COLUMNS
True
"""

from __future__ import annotations

import importlib.util
import logging
import re
import unicodedata
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from ..exceptions import DataError, ToolkitError
from ..instruments import ITEM_TYPES, Instrument, resolve_instrument
from ..store import TIDY_COLUMNS, Store
from .limesurvey import write_limesurvey_structure

__all__ = ["EXPORT_COLUMNS", "EXPORTERS", "OptionalDependencyError", "export", "tidy_frame", "wide_frame", "codebook", "neutralise"]

log = logging.getLogger("toolkit")

EXPORT_COLUMNS = [*TIDY_COLUMNS, "text"]
EXCEL_MAX_ROWS = 1_048_575
_SUFFIXES = {".csv": "csv", ".xlsx": "xlsx", ".parquet": "parquet", ".pq": "parquet", ".sav": "sav", ".txt": "limesurvey"}


class OptionalDependencyError(ToolkitError):
    """An export format needs a package that is not installed (the message names the pip extra)."""


def _require(module: str, extra: str, what: str) -> None:
    if importlib.util.find_spec(module) is None:
        raise OptionalDependencyError(
            f"{what} needs the package {module!r}, which is not installed; install it with: pip install \"upo-toolkit[{extra}]\""
        )


# --------------------------------------------------------------------------- frames
def tidy_frame(store: Store, instrument: str | None = None) -> pd.DataFrame:
    """Numeric and text answers as one tidy frame with :data:`EXPORT_COLUMNS`.

    Numeric answers have ``text`` empty; text answers have ``value`` NaN.
    """
    if instrument is not None and instrument not in set(store.instruments()["instrument"]):
        store.instrument(instrument)  # raises: names the stored instruments
    num = store.responses(instrument)
    txt = store.texts(instrument)
    num["text"] = pd.Series([None] * len(num), index=num.index, dtype=object)
    txt["value"] = np.nan
    frames = [f[EXPORT_COLUMNS] for f in (num, txt) if not f.empty]
    if not frames:
        return num[EXPORT_COLUMNS].iloc[0:0]
    out = pd.concat(frames, ignore_index=True)
    out["wave"] = pd.Categorical(out["wave"].astype(object), categories=list(store.waves()["wave"]), ordered=True)
    for col in ("stakeholder", "text"):  # one missing-value convention (NaN) whatever the file format
        out[col] = out[col].astype(object).where(out[col].notna(), np.nan)
    return out


def _instruments(store: Store, instrument: str | None) -> list[Instrument]:
    listed = store.instruments()
    if instrument is not None:
        listed = listed[listed["instrument"] == instrument]
        if listed.empty:
            store.instrument(instrument)  # raises with the list of stored instruments
    return [store.instrument(i, v) for i, v in zip(listed["instrument"], listed["version"])]


def codebook(store: Store, instrument: str | None = None) -> dict[str, pd.DataFrame]:
    """Codebook tables of the stored instruments: ``codebook`` (items), ``scales`` and ``instruments``."""
    items, scales, insts = [], [], []
    for inst in _instruments(store, instrument):
        insts.append({"instrument": inst.id, "version": inst.version, "hash": inst.hash, "title_de": inst.title.de,
                      "title_en": inst.title.en, "n_items": len(inst.items)})
        for name, scale in inst.scales.items():
            for p, de, en in zip(scale.points, scale.labels.de, scale.labels.en):
                scales.append({"instrument": inst.id, "version": inst.version, "scale": name, "value": p,
                               "label_de": de, "label_en": en, "missing": False})
            for m in scale.missing:
                scales.append({"instrument": inst.id, "version": inst.version, "scale": name, "value": m,
                               "label_de": scale.label(m, "de"), "label_en": scale.label(m, "en"), "missing": True})
        for pos, item in enumerate(inst.items):
            dim = inst.dimension_of(item.id)
            scale = inst.scales[item.scale] if item.scale else None
            items.append({
                "instrument": inst.id, "version": inst.version, "hash": inst.hash, "position": pos,
                "dimension": dim.id, "dimension_de": dim.title.de, "dimension_en": dim.title.en,
                "item": item.id, "type": item.type, "role": item.role, "scale": item.scale, "reverse": item.reverse,
                "scored": ITEM_TYPES.get(item.type).scored, "per_stakeholder": ITEM_TYPES.get(item.type).per_stakeholder,
                "text_de": item.text.de, "text_en": item.text.en,
                "values": ", ".join(_fmt(p) for p in scale.points) if scale else None,
                "missing": ", ".join(_fmt(m) for m in scale.missing) if scale else None,
                "labels_de": "; ".join(f"{_fmt(p)} = {lab}" for p, lab in zip(scale.points, scale.labels.de)) if scale else None,
                "labels_en": "; ".join(f"{_fmt(p)} = {lab}" for p, lab in zip(scale.points, scale.labels.en)) if scale else None,
            })
    return {
        "codebook": pd.DataFrame(items),
        "scales": pd.DataFrame(scales),
        "instruments": pd.DataFrame(insts),
    }


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _var_name(name: str, used: set[str]) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    base = re.sub(r"[^A-Za-z0-9_]+", "_", ascii_name).strip("_") or "v"
    if not base[0].isalpha():
        base = "v_" + base
    base = base[:60]
    out, k = base, 2
    while out.lower() in used:
        out = f"{base}_{k}"
        k += 1
    used.add(out.lower())
    return out


def wide_frame(store: Store, instrument: str, *, lang: str = "de") -> tuple[pd.DataFrame, dict[str, dict]]:
    """One row per authority × participant × wave, one column per item (or item × stakeholder).

    Returns
    -------
    (DataFrame, meta)
        ``meta`` maps each item column to ``item``, ``stakeholder``, ``label``,
        ``value_labels`` and ``missing`` (for SPSS).
    """
    inst = store.instrument(instrument)
    data = tidy_frame(store, instrument)
    keys = ["authority", "ministry", "participant", "wave"]
    data["stakeholder"] = data["stakeholder"].astype(object)
    data["cell"] = data["value"].astype(object).where(data["text"].isna(), data["text"])
    order = {it.id: k for k, it in enumerate(inst.items)}
    catalogue = [e.id for e in inst.stakeholders.catalogue] if inst.stakeholders else []
    pairs = data[["item", "stakeholder"]].drop_duplicates()
    pairs = pairs.assign(
        _o=pairs["item"].map(order).fillna(len(order)),
        _s=pairs["stakeholder"].map(lambda s: catalogue.index(s) if s in catalogue else len(catalogue)),
        _n=pairs["stakeholder"].fillna(""),
    ).sort_values(["_o", "_s", "_n"])
    used = {k.lower() for k in keys}
    meta: dict[str, dict] = {}
    colname: dict[tuple, str] = {}
    for item_id, sh in zip(pairs["item"], pairs["stakeholder"]):
        sh = None if sh is None or (isinstance(sh, float) and np.isnan(sh)) else sh
        name = _var_name(item_id if sh is None else f"{item_id}_{sh}", used)
        colname[(item_id, sh)] = name
        try:
            item = inst.item(item_id)
        except KeyError:  # an item of an older version of the instrument
            meta[name] = {"item": item_id, "stakeholder": sh, "label": item_id, "value_labels": {}, "missing": []}
            continue
        scale = inst.scales[item.scale] if item.scale else None
        label = item.text.get(lang) + (f" [{inst.stakeholder_name(sh, lang)}]" if sh else "")
        labels = {}
        if scale:
            labels = {p: lab for p, lab in zip(scale.points, scale.labels.en if lang == "en" else scale.labels.de)}
            labels.update({m: scale.label(m, lang) for m in scale.missing})
        meta[name] = {"item": item_id, "stakeholder": sh, "label": label, "value_labels": labels,
                      "missing": list(scale.missing) if scale else [], "text": item.type == "text"}
    data["column"] = [colname[(i, None if s is None or (isinstance(s, float) and np.isnan(s)) else s)]
                      for i, s in zip(data["item"], data["stakeholder"])]
    if data.empty:
        return pd.DataFrame(columns=keys + list(meta)), meta
    data["ministry"] = data["ministry"].fillna("")
    wide = data.groupby(keys + ["column"], observed=True, sort=True)["cell"].first().unstack("column")
    wide = wide.reindex(columns=list(meta)).reset_index()
    wide.columns.name = None
    wide["wave"] = wide["wave"].astype(str)
    for name, m in meta.items():
        if not m.get("text"):
            wide[name] = pd.to_numeric(wide[name], errors="coerce").astype(float)
        else:
            wide[name] = wide[name].astype(object).where(wide[name].notna(), "")
    return wide, meta


# --------------------------------------------------------------------------- writers
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NOTES = [
    ("formulas", "Text cells that begin with =, +, -, @, a tab or a carriage return are written with a leading apostrophe (') "
                 "so that no spreadsheet runs them as a formula (OWASP: CSV injection). The database keeps the text as typed; "
                 "remove the apostrophe only if you trust the text."),
    ("pseudonyms", "Participants appear only under pseudonyms (P-...), which differ between authorities: the same person in "
                   "two authorities cannot be matched through this file."),
]


def neutralise(value: object) -> object:
    """A text that a spreadsheet would evaluate, with a leading apostrophe; anything else unchanged.

    >>> neutralise('=HYPERLINK("http://x")'), neutralise("-1 Punkt"), neutralise("gut"), neutralise(2.0)
    ('\\'=HYPERLINK("http://x")', "'-1 Punkt", 'gut', 2.0)
    """
    return "'" + value if isinstance(value, str) and value.startswith(_FORMULA_START) else value


def _neutralised(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.CategoricalDtype):
            out[col] = out[col].cat.rename_categories([neutralise(c) for c in out[col].cat.categories])
        elif out[col].dtype == object:
            out[col] = out[col].map(neutralise)
    return out


def _write_csv(store: Store, path: Path, instrument: str | None) -> None:
    _neutralised(tidy_frame(store, instrument)).to_csv(path, index=False, encoding="utf-8")


def _write_xlsx(store: Store, path: Path, instrument: str | None) -> None:
    data = tidy_frame(store, instrument)
    if len(data) > EXCEL_MAX_ROWS:
        raise DataError(f"{len(data)} answer rows do not fit an Excel sheet ({EXCEL_MAX_ROWS} rows); export as csv or parquet")
    data["wave"] = data["wave"].astype(str)
    sheets = {"data": data, **codebook(store, instrument), "notes": pd.DataFrame(NOTES, columns=["topic", "note"])}
    from openpyxl import Workbook

    book = Workbook(write_only=True)  # streaming rows: several times faster than pandas' cell-by-cell writer
    for name, frame in sheets.items():
        sheet = book.create_sheet(name)
        sheet.append([str(c) for c in frame.columns])
        for row in _neutralised(frame.astype(object)).itertuples(index=False, name=None):
            sheet.append([None if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA else v for v in row])
    book.save(path)


def _write_parquet(store: Store, path: Path, instrument: str | None) -> None:
    _require("pyarrow", "parquet", "the Parquet export")
    tidy_frame(store, instrument).to_parquet(path, index=False, engine="pyarrow")


def _only_instrument(store: Store, instrument: str | None, what: str) -> str:
    if instrument is not None:
        return instrument
    ids = sorted(set(store.instruments()["instrument"]))
    with_data = sorted(set(store.submissions()["instrument"]))
    if len(with_data) == 1:
        return with_data[0]
    raise DataError(f"{what} holds one instrument; give --instrument ID (stored: {', '.join(ids) or 'none'})")


def _write_sav(store: Store, path: Path, instrument: str | None) -> None:
    _require("pyreadstat", "spss", "the SPSS export")
    import pyreadstat

    inst_id = _only_instrument(store, instrument, "an SPSS file")
    wide, meta = wide_frame(store, inst_id)
    labels = {"authority": "Behörde", "ministry": "Ressort", "participant": "Teilnehmende Person (Pseudonym)", "wave": "Welle"}
    labels.update({k: m["label"][:255] for k, m in meta.items()})
    value_labels = {k: {float(v): str(lab)[:120] for v, lab in m["value_labels"].items()} for k, m in meta.items() if m["value_labels"]}
    missing = {k: [float(v) for v in m["missing"]] for k, m in meta.items() if m["missing"]}
    measure = {k: "ordinal" for k, m in meta.items() if m["value_labels"]}
    inst = store.instrument(inst_id)
    pyreadstat.write_sav(
        wide, str(path), file_label=f"{inst.id} {inst.version}"[:64], column_labels=labels,
        variable_value_labels=value_labels, missing_ranges=missing, variable_measure=measure,
        note=f"upo-toolkit: {inst.id} {inst.version} ({inst.short_hash}); pseudonyms only"[:80],
    )


def _write_limesurvey(store: Store, path: Path, instrument: str | None) -> None:
    if instrument is None:
        raise DataError("the LimeSurvey structure is written for one instrument; give --instrument ID or PATH")
    try:
        inst = store.instrument(instrument)
    except DataError:
        inst = resolve_instrument(instrument)
    write_limesurvey_structure(inst, path)


EXPORTERS: dict[str, Callable[[Store, Path, str | None], None]] = {
    "csv": _write_csv,
    "xlsx": _write_xlsx,
    "parquet": _write_parquet,
    "sav": _write_sav,
    "limesurvey": _write_limesurvey,
}


def export(store: Store, out_path: str | Path, *, format: str | None = None, instrument: str | None = None) -> Path:
    """Write an export file.

    Parameters
    ----------
    store
        The cohort database.
    out_path
        The file to write (its folder is created).
    format
        ``csv``, ``xlsx``, ``parquet``, ``sav`` or ``limesurvey``; default: from the
        suffix (``.csv .xlsx .parquet .sav``, ``.txt`` = LimeSurvey structure).
    instrument
        Limit to one instrument (required for ``limesurvey``; for ``sav`` when the
        database holds answers to several instruments).

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    DataError
        Unknown format, or a format that needs ``instrument``.
    OptionalDependencyError
        ``parquet``/``sav`` without their optional packages.
    """
    out = Path(out_path)
    fmt = format or _SUFFIXES.get(out.suffix.lower())
    if fmt is None:
        raise DataError(f"{out}: cannot tell the export format from the suffix {out.suffix!r}; give --format {' | '.join(EXPORTERS)}")
    if fmt not in EXPORTERS:
        raise DataError(f"unknown export format {fmt!r}; known formats: {', '.join(EXPORTERS)}")
    if out.is_dir():
        raise DataError(f"{out}: is a folder; give a file name such as {out / ('answers.' + ('txt' if fmt == 'limesurvey' else fmt))}")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    try:
        EXPORTERS[fmt](store, tmp, instrument)
        tmp.replace(out)
    finally:
        if tmp.exists():
            tmp.unlink()
    log.info("exported %s (%s)", out, fmt)
    return out
