"""Drafts of the participant form: what a device has entered so far, kept on the server.

A draft is keyed by the page's session id (Solara's random ``solara-session-id`` cookie,
hashed before it names a file), written after every change as one small JSON file
(written to a temporary file and renamed, so a ``kill -9`` leaves the old or the new
draft, never half of one), readable only by the server's user. A reload, a dropped
connection or a restarted server finds the draft again by the same cookie. A draft
is removed when a kiosk submission clears the form and when the workshop stops
cleanly; drafts older than :data:`MAX_AGE` are removed when a workshop starts.

Example
-------
>>> import tempfile
>>> drafts = DraftStore(tempfile.mkdtemp())
>>> drafts.save("cookie-1", {"page": 2}); drafts.load("cookie-1")["page"]
2
>>> drafts.delete("cookie-1"); drafts.load("cookie-1") is None
True
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import time
from pathlib import Path
from typing import Any

from ..widgets.form_state import FormState

__all__ = ["DraftStore", "draft_of", "restore_draft", "MAX_AGE"]

log = logging.getLogger("toolkit")

MAX_AGE = 24 * 3600  # seconds a draft is kept at most


class DraftStore:
    """A folder of drafts, one JSON file per session id."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)

    def _path(self, session_id: str) -> Path:
        return self.folder / (hashlib.sha256(session_id.encode()).hexdigest()[:32] + ".json")

    def save(self, session_id: str, draft: dict[str, Any]) -> None:
        path = self._path(session_id)
        tmp = path.with_suffix(f".{os.getpid()}.{time.monotonic_ns()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            # dumps, not dump: json.dump encodes in pure Python, piece by piece (4x the CPU; a draft is written on every page change)
            fh.write(json.dumps(draft, ensure_ascii=False))
        os.replace(tmp, path)

    def load(self, session_id: str) -> dict[str, Any] | None:
        try:
            return json.loads(self._path(session_id).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def delete(self, session_id: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._path(session_id).unlink()

    def __len__(self) -> int:
        return sum(1 for _ in self.folder.glob("*.json"))

    def prune(self, max_age: float = MAX_AGE) -> int:
        """Remove drafts older than ``max_age`` seconds (and stray temporary files); returns how many."""
        now, n = time.time(), 0
        for path in list(self.folder.glob("*.json")) + list(self.folder.glob("*.tmp")):
            with contextlib.suppress(OSError):
                if path.suffix == ".tmp" or now - path.stat().st_mtime > max_age:
                    path.unlink()
                    n += 1
        return n

    def clear(self) -> None:
        """Remove every draft and the folder (a clean end of the workshop)."""
        shutil.rmtree(self.folder, ignore_errors=True)


def draft_of(state: FormState, *, page: int = 0, joined: bool = False) -> dict[str, Any]:
    """Everything a participant entered, as JSON-ready data (with the attempt's token, so a resend stays one submission)."""
    a = state._a
    return {
        "lang": state.lang,
        "authority": state.authority,
        "code": dict(a.code),
        "answers": dict(a.answers),
        "ratings": [[item, key, value] for (item, key), value in a.ratings.items()],
        "included": dict(a.included),
        "free": list(a.free),
        "token": state.token,
        "submission_id": state.submission_id,
        "page": int(page),
        "joined": bool(joined),
        "saved_at": time.time(),
    }


def restore_draft(state: FormState, draft: dict[str, Any]) -> None:
    """Put a draft back into a fresh :class:`FormState` (values no longer valid are skipped)."""
    state.set_language(draft.get("lang", state.lang))
    if draft.get("authority") and state.fixed_authority is None:
        with contextlib.suppress(Exception):
            state.set_authority(draft["authority"])
    with contextlib.suppress(Exception):
        state.set_code({k: v for k, v in (draft.get("code") or {}).items()})
    for item, value in (draft.get("answers") or {}).items():
        with contextlib.suppress(Exception):
            state.set_answer(item, value)
    for key, include in (draft.get("included") or {}).items():
        with contextlib.suppress(Exception):
            state.include_stakeholder(key, include)
    for pos, name in enumerate(draft.get("free") or []):
        with contextlib.suppress(Exception):
            state.set_free_entry(pos, name)
    for item, key, value in draft.get("ratings") or []:
        with contextlib.suppress(Exception):
            state.set_answer(item, value, stakeholder=key)
    if draft.get("token"):
        state.token = str(draft["token"])
    state.submission_id = draft.get("submission_id")
