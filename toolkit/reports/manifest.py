"""What a report depends on, and the manifest that remembers what was rendered.

A report's *input key* is a hash of everything that can change its content:

- the notebook file's bytes;
- the toolkit: its version and the source of every module and template (a
  changed section function re-renders, even without a version bump);
- the parameters (authority, language, minimum group size after resolving the
  cohort's setting);
- the data: ``Store.fingerprint(authority)`` for the authority's own answers and
  ``Store.fingerprint()`` for the whole cohort. The authority report compares
  against its ministry and the cohort (means, percentile ranks, reliabilities in
  the methods appendix), so a change in *any* authority's data changes what
  every authority report shows: correctness first, every report is re-rendered.
  The fingerprints also cover instrument hashes, waves, authority names,
  cohort settings and erasures.

The manifest (``manifest.json`` in the output folder) keeps per report its key,
output files, key figures for the index page and the render time.

Example
-------
>>> report_key(notebook_digest="n", toolkit="t", parameters={"authority": "BVA"}, data=["a", "b"]) == \\
...     report_key(notebook_digest="n", toolkit="t", parameters={"authority": "BVA"}, data=["a", "b"])
True
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import shutil
import time
from pathlib import Path
from typing import Any, Iterable

from .._version import __version__

__all__ = ["MANIFEST_NAME", "toolkit_digest", "file_digest", "report_key", "Manifest", "mark_erased"]

log = logging.getLogger("toolkit")

MANIFEST_NAME = "manifest.json"
_RENDERED = (".html", ".pdf", ".pptx")
_PACKAGE = Path(__file__).resolve().parent.parent


@functools.lru_cache(maxsize=1)
def toolkit_digest() -> str:
    """Version plus a hash of the toolkit's source files and report templates."""
    h = hashlib.sha256(__version__.encode())
    for path in sorted(_PACKAGE.rglob("*")):
        if path.suffix in (".py", ".j2", ".json", ".yaml") and "__pycache__" not in path.parts:
            h.update(str(path.relative_to(_PACKAGE)).encode())
            h.update(path.read_bytes())
    return f"{__version__}:{h.hexdigest()[:16]}"


def file_digest(path: str | Path) -> str:
    """SHA-256 of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def report_key(*, notebook_digest: str, toolkit: str, parameters: dict[str, Any], data: Iterable[str]) -> str:
    """The input key of one report (see the module docstring for what it covers)."""
    h = hashlib.sha256()
    payload = {"notebook": notebook_digest, "toolkit": toolkit, "parameters": parameters, "data": list(data)}
    h.update(json.dumps(payload, sort_keys=True, default=str).encode())
    return h.hexdigest()


class Manifest:
    """The JSON manifest of an output folder.

    Parameters
    ----------
    folder
        The report output folder.
    """

    VERSION = 1

    def __init__(self, folder: str | Path):
        self.path = Path(folder) / MANIFEST_NAME
        self.reports: dict[str, dict[str, Any]] = {}
        self.meta: dict[str, Any] = {}
        self._saved_at = float("-inf")  # time.monotonic() of the last save (see save_soon)
        if self.path.exists():
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                data = {}  # a damaged manifest only costs a re-render
            if data.get("version") == self.VERSION:
                self.reports = dict(data.get("reports", {}))
                self.meta = dict(data.get("meta", {}))

    def is_current(self, report_id: str, key: str, files: Iterable[str]) -> bool:
        """True if the report was rendered with this key and its files still exist."""
        entry = self.reports.get(report_id)
        if not entry or entry.get("key") != key:
            return False
        folder = self.path.parent
        return all((folder / f).exists() for f in files)

    def save(self) -> None:
        """Write atomically (a crash never leaves a half-written manifest)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(
            json.dumps({"version": self.VERSION, "meta": self.meta, "reports": self.reports}, ensure_ascii=False, indent=1, default=str),
            encoding="utf-8",
        )
        os.replace(tmp, self.path)
        self._saved_at = time.monotonic()

    def save_soon(self, every: float = 1.0) -> None:
        """Save unless the last save was less than ``every`` seconds ago (while a batch runs; it saves at its end):
        with thousands of reports, saving the whole manifest after every report costs time quadratic in the batch."""
        if time.monotonic() - self._saved_at >= every:
            self.save()


def mark_erased(store: Any, authorities: Iterable[str], *, extra: Iterable[str | Path] = ()) -> list[Path]:
    """After an erasure: remove the rendered reports that showed the person and mark them stale.

    Looks in every report folder the store recorded (and ``extra``): the reports of the
    person's authorities and the cohort report lose their files (HTML, PDF, slides) and
    their manifest key, so the next ``upo report`` renders them again; the index is
    rewritten without them; report caches of older versions are removed.

    Returns
    -------
    list of Path
        The removed files.
    """
    affected = set(authorities)
    removed: list[Path] = []
    for folder in dict.fromkeys([*store.report_folders(), *(Path(p).resolve() for p in extra)]):
        shutil.rmtree(folder / ".cache", ignore_errors=True)
        manifest = Manifest(folder)
        if not manifest.path.exists():
            continue
        changed = False
        for entry in manifest.reports.values():
            if entry.get("kind") != "cohort" and entry.get("authority") not in affected:
                continue
            for name in [v for v in entry.values() if isinstance(v, str) and v.endswith(_RENDERED)]:
                path = folder / name
                if path.is_file():
                    path.unlink()
                    removed.append(path)
            entry.update(key=None, html=None, pdf=None, stale="erasure")
            changed = True
        if changed:
            manifest.save()
            try:
                from .index import write_index

                write_index(folder, manifest, db=store.path, lang=manifest.meta.get("lang", "de"), k=manifest.meta.get("k", store.min_group_size))
            except Exception as exc:  # the next 'upo report' writes it anyway
                log.warning("index of %s not rewritten after the erasure: %s", folder, exc)
    return removed
