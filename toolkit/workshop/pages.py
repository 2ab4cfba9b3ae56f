"""The pages of the workshop server as plain widget classes (Solara only displays them).

:class:`Runtime` is what one server process shares between all pages: one store, the
instrument parsed once, the drafts folder, the join code and the presenter secret, all
read from the environment that :func:`toolkit.workshop.server.serve` sets.
:class:`FormPage` is one participant's page: the join code (if the session has one),
then the form, restored from the device's draft. The draft is written at once when the page,
the language or the submission changes, and otherwise at most every :data:`SAVE_EVERY` seconds by
:class:`DraftSaver` (writing a file on every widget message cost the server a millisecond each);
a reload in the same server writes the waiting draft first, so nothing is lost.

Example
-------
>>> import tempfile, pathlib
>>> from toolkit.store import Store
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> db = Store.init(folder / "c.sqlite"); db.add_authority("BVA"); db.add_wave("t0"); _ = db.add_instrument("reality_check")
>>> rt = Runtime({"UPO_DB": str(db.path), "UPO_INSTRUMENT": "reality_check", "UPO_WAVE": "t0", "UPO_JOIN_CODE": "K7Q2",
...               "UPO_DRAFTS": str(folder / "drafts")})
>>> page = FormPage(rt, "cookie-1")
>>> page.form is None and page.join("k7q2 ")     # asked once; case and spaces do not matter
True
>>> page.form.state.set_code({"mother": "Ma"}); page.form._refresh_status()
>>> FormPage(rt, "cookie-1").form.state.code["mother"]   # a reload restores the draft
'Ma'
"""

from __future__ import annotations

import hmac
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any, Mapping

import ipywidgets as w

from ..widgets._style import _esc, _full, _html
from ..widgets._texts import t
from ..widgets.form import ParticipantForm
from ..widgets.form_state import FormState, authority_names_of
from ..widgets.session import session_params
from .drafts import DraftStore, draft_of, restore_draft

__all__ = ["Runtime", "FormPage", "DraftSaver", "normalise_join_code", "CONNECTION_JS", "SAVE_EVERY"]

log = logging.getLogger("toolkit")

MAX_JOIN_ATTEMPTS = 8  # wrong join codes per page before a pause of a minute
AUTHORITIES_EVERY = 30.0  # seconds: the cohort's authority list is read again at most this often (a new one shows up)
SAVE_EVERY = 1.0  # seconds: an answer's draft is written at most this late (a page change: at once)


def normalise_join_code(code: str | None) -> str:
    return "".join(str(code or "").split()).upper()


class DraftSaver:
    """Writes the drafts of pages with new answers, at most every ``every`` seconds (one background thread per process)."""

    def __init__(self, every: float = SAVE_EVERY) -> None:
        self.every = every
        self._dirty: dict[str, "FormPage"] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def mark(self, page: "FormPage") -> None:
        """Write this page's draft within ``every`` seconds."""
        with self._lock:
            self._dirty[page.session_id] = page
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="upo-drafts", daemon=True)
                self._thread.start()
        self._wake.set()

    def flush(self, session_id: str | None = None) -> None:
        """Write the waiting drafts now (of one device, or all)."""
        with self._lock:
            if session_id is None:
                pages = list(self._dirty.values())
                self._dirty.clear()
            else:
                pages = [p for p in [self._dirty.pop(session_id, None)] if p is not None]
        for page in pages:
            page.write_draft()

    def pending(self) -> int:
        with self._lock:
            return len(self._dirty)

    def has(self, session_id: str) -> bool:
        """Whether a draft of this device waits to be written."""
        with self._lock:
            return session_id in self._dirty

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            time.sleep(self.every)
            try:
                self.flush()
            except Exception:  # the next change tries again
                log.exception("draft save failed")


class Runtime:
    """What the pages of one workshop server share (read once per process)."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        from ..store import Store

        env = os.environ if env is None else env
        self.params = session_params(env)
        self.store = Store(self.params["db"])
        self.instrument = self.store.instrument(self.params["instrument"])
        self.join_code = normalise_join_code(env.get("UPO_JOIN_CODE"))
        self.join_url = env.get("UPO_JOIN_URL") or None
        self.presenter_secret = env.get("UPO_PRESENTER_SECRET", "")
        folder = env.get("UPO_DRAFTS") or str(Path(self.params["db"]).with_suffix(".workshop-drafts"))
        self.drafts = DraftStore(folder)
        self.saver = DraftSaver()
        self.lock = threading.Lock()
        self._authorities: tuple[float, dict[str, str]] | None = None
        self._authorities_lock = threading.Lock()
        self._dashboard: Any = None

    def authority_names(self) -> dict[str, str]:
        """The cohort's authorities, read at most every :data:`AUTHORITIES_EVERY` seconds (not once per page)."""
        with self._authorities_lock:
            now = time.monotonic()
            if self._authorities is None or now - self._authorities[0] > AUTHORITIES_EVERY:
                self.store.require_wave(self.params["wave"])
                self._authorities = (now, authority_names_of(self.store))
            return self._authorities[1]

    def new_state(self, lang: str | None = None) -> FormState:
        p = self.params
        return FormState(self.store, self.instrument, p["wave"], authority=p["authority"], lang=lang or p["lang"], kiosk=p["kiosk"],
                         authority_names=self.authority_names())

    def dashboard_state(self) -> Any:
        from ..widgets.dashboard_state import DashboardState

        p = self.params
        return DashboardState(self.store, self.instrument, p["wave"], authority=p["authority"], lang=p["lang"])


class _PageBox(w.VBox):
    """The page's outer box, with a short ``repr``: IPython's display (``solara.display``, a notebook, a log line)
    writes a text repr of the whole widget tree first (every child's every trait), which was a fifth of a join."""

    def __repr__(self) -> str:
        return f"<upo page {self.model_id}>"


class FormPage:
    """One participant's page: ``.widget`` holds the join card, then the form."""

    def __init__(self, runtime: Runtime, session_id: str | None) -> None:
        """``session_id`` None: the page of a new device made ahead (no draft read or written until :meth:`attach`)."""
        self.runtime = runtime
        self.session_id = session_id
        self.form: ParticipantForm | None = None
        self.widget: w.VBox | None = None
        self._attempts: list[float] = []
        self._saved: tuple | None = None  # what the last written draft had: page, language, token, submission
        draft = None
        if session_id is not None:
            runtime.saver.flush(session_id)  # a reload: the previous page's waiting draft first
            draft = runtime.drafts.load(session_id)
        self._lang = (draft or {}).get("lang") or runtime.params["lang"]
        self._authorities = runtime.authority_names()  # what the page was built with
        if runtime.join_code and not (draft or {}).get("joined"):
            self._show_join()
        else:
            self._show_form(draft)

    @classmethod
    def ahead(cls, runtime: Runtime) -> FormPage:
        """The page a new device gets, made before anyone joins (see :meth:`attach`)."""
        return cls(runtime, None)

    def attach(self, session_id: str) -> bool:
        """Give a page made ahead to the device ``session_id``; False (page unusable) if the device has a draft
        or the cohort's authorities changed since it was made (the caller then builds the device's page)."""
        if self.session_id is not None:
            return False
        rt = self.runtime
        if rt.saver.has(session_id) or rt.drafts.load(session_id) is not None:
            return False
        if rt.authority_names() != self._authorities:
            return False
        self.session_id = session_id  # its draft is written on its first change, as a page built at the join
        return True

    def _show(self, content: w.Widget) -> None:
        """The page's one child: made with it (joining sends the page once), replaced later.

        Without a join code the page never changes what it shows: the form's own box is the page
        (its outer box stays the same on a language change), one box fewer per join.
        """
        if self.widget is None:
            if not self.runtime.join_code and content is getattr(self.form, "widget", None):
                self.widget = content
                return
            self.widget = _PageBox([content], layout=_full(), _dom_classes=("upo-page",))
        elif self.widget is not content:
            self.widget.children = [content]

    # ------------------------------------------------------------------ join code
    def _show_join(self) -> None:
        lang = self._lang
        self.lang_input = w.ToggleButtons(options=[("Deutsch", "de"), ("English", "en")], value=lang)
        self.lang_input.add_class("upo-choice")
        self.lang_input.observe(lambda ch: self._relang(ch["new"]), names="value")
        self.code_input = w.Text(placeholder="", layout=w.Layout(width="100%"), continuous_update=False)
        self.code_input.add_class("upo-join-input")
        self.code_input.observe(lambda ch: self.join(ch["new"]) if ch["new"] else None, names="value")
        button = w.Button(description=t("join_button", lang), button_style="primary", layout=w.Layout(width="100%"))
        button.add_class("upo-join-button")
        button.on_click(lambda _b: self.join(self.code_input.value))
        self.join_msg = _html("", "upo-problems")
        from ..widgets._style import FORM_CSS

        inst = self.runtime.instrument
        card = w.VBox([
            _html(f"<h2 style='margin:0.2em 0'>{_esc(inst.title.get(lang))}</h2><h3>{_esc(t('join_title', lang))}</h3><p>{_esc(t('join_prompt', lang))}</p>"),
            self.code_input, button, self.join_msg,
        ])
        card.add_class("upo-card")
        box = w.VBox([_html(FORM_CSS), self.lang_input, card], layout=w.Layout(width="100%"))
        box.add_class("upo-form")
        box.add_class("upo-join-card")
        self._show(box)

    def _relang(self, lang: str) -> None:
        self._lang = lang
        self._show_join()

    def join(self, code: str) -> bool:
        """What the join button does: the right code opens the form (and is not asked again on this device)."""
        if self.form is not None:  # the field's change and the button's click both arrive: join once
            return True
        now = time.monotonic()
        self._attempts = [a for a in self._attempts if now - a < 60]
        if len(self._attempts) >= MAX_JOIN_ATTEMPTS:
            self.join_msg.value = f"<p>{_esc(t('join_locked', self._lang))}</p>"
            return False
        if not hmac.compare_digest(normalise_join_code(code).encode(), self.runtime.join_code.encode()):
            self._attempts.append(now)
            self.join_msg.value = f"<p>{_esc(t('join_wrong', self._lang))}</p>"
            return False
        self._show_form(self.runtime.drafts.load(self.session_id) or {"lang": self._lang})
        self._save(self.form)
        return True

    # ------------------------------------------------------------------ the form
    def _show_form(self, draft: dict[str, Any] | None) -> None:
        state = self.runtime.new_state(lang=self._lang)
        restored = bool(draft and (draft.get("code") or draft.get("answers") or draft.get("ratings")))
        if draft:
            restore_draft(state, draft)
        self.form = ParticipantForm(state, on_change=self._save, page=int((draft or {}).get("page") or 0))
        if restored:
            self.form.result_html.value = f"<div class='upo-help upo-restored' role='status'>{_esc(t('restored', state.lang))}</div>"
        self._show(self.form.widget)

    def _save(self, form: ParticipantForm | None) -> None:
        """After every change: a new page, language or submission is written at once, an answer within SAVE_EVERY."""
        if form is None or self.session_id is None:  # made ahead: nobody's page yet
            return
        if self._key(form) != self._saved:
            self.write_draft()
        else:
            self.runtime.saver.mark(self)

    @staticmethod
    def _key(form: ParticipantForm) -> tuple:
        s = form.state
        return (getattr(form, "page_index", 0), s.lang, s.token, s.submission_id)

    def write_draft(self) -> None:
        form = self.form
        if form is None or self.session_id is None:
            return
        try:
            draft = draft_of(form.state, page=getattr(form, "page_index", 0), joined=True)
        except RuntimeError:  # the page's thread changed the answers meanwhile: the next round writes them
            self.runtime.saver.mark(self)
            return
        self._saved = self._key(form)
        self.runtime.drafts.save(self.session_id, draft)


# The connection banner: the page watches its own websocket and says (in the form's language)
# when the server cannot be reached. Solara reconnects by itself; when the server lost the page
# (restarted), Solara reloads it (SOLARA_THEME_FORCE_REFRESH) and the draft comes back.
CONNECTION_JS = r"""
<script>
(function () {
  var TEXT = %(texts)s;
  var open = 0, everOpen = false, timer = null;
  function lang() { return document.querySelector('.upo-lang-en') ? 'en' : 'de'; }
  function banner() {
    var b = document.getElementById('upo-offline');
    if (!b) {
      b = document.createElement('div'); b.id = 'upo-offline'; b.setAttribute('role', 'alert');
      b.style.cssText = 'display:none;position:fixed;top:0;left:0;right:0;z-index:200000;background:#8a3b00;color:#fff;padding:12px 16px;font:16px/1.4 sans-serif;text-align:center';
      document.body.appendChild(b);
    }
    return b;
  }
  function show(down) {
    clearTimeout(timer);
    if (down) {
      timer = setTimeout(function () { var b = banner(); b.textContent = TEXT.offline[lang()]; b.style.display = 'block'; document.body.classList.add('upo-is-offline'); }, 700);
    } else { banner().style.display = 'none'; document.body.classList.remove('upo-is-offline'); }
  }
  var Native = window.WebSocket;
  function Watched(url, protocols) {
    var ws = protocols === undefined ? new Native(url) : new Native(url, protocols);
    if (String(url).indexOf('/api/kernels/') >= 0) {
      ws.addEventListener('open', function () { open += 1; everOpen = true; downSince = null; show(false); });
      ws.addEventListener('close', function () { open = Math.max(0, open - 1); if (everOpen && open === 0) { downSince = downSince || Date.now(); show(true); } });
    }
    return ws;
  }
  Watched.prototype = Native.prototype;
  ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'].forEach(function (k) { Watched[k] = Native[k]; });
  window.WebSocket = Watched;
  var downSince = null, reachableSince = null;
  // Solara's own messages (a lost session, a dropped connection) are English only: shown in the form's language
  var SOLARA = [
    [/^\s*Could not restore session\. (Please refresh( the page)?\.|Will refresh in .*)\s*$/, 'session_lost'],
    [/^\s*Please refresh the page\s*$/, 'refresh_title'], [/^\s*Refresh now\s*$/, 'refresh_now'],
    [/^\s*App is disconnected, and may not function properly\. Please refresh the page\.\s*$/, 'disconnected'],
    [/^\s*Server\s+disconnected\.\s*$/, 'server_down'], [/^\s*Restoring session…\s*$/, 'restoring']];
  function translate(root) {
    if (!root) return;
    // only text shown on the page: never inside a script (Solara's page template is one) or a style
    var walk = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, {acceptNode: function (n) {
      var p = n.parentNode; return p && /^(SCRIPT|STYLE|TEMPLATE)$/.test(p.nodeName) ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT; }}), node;
    while ((node = walk.nextNode())) {
      if (node.nodeValue.length > 200) continue;
      for (var i = 0; i < SOLARA.length; i++) {
        if (SOLARA[i][0].test(node.nodeValue)) { node.nodeValue = TEXT[SOLARA[i][1]][lang()]; break; }
      }
    }
  }
  new MutationObserver(function (records) {
    records.forEach(function (r) { r.addedNodes.forEach(function (n) { translate(n.nodeType === 3 ? n.parentNode || document.body : n); });
      if (r.type === 'characterData' && r.target.parentNode) translate(r.target.parentNode); });
  }).observe(document.documentElement, {childList: true, subtree: true, characterData: true});
  document.addEventListener('DOMContentLoaded', function () { translate(document.body); });
  window.upoTranslate = translate;
  window.addEventListener('offline', function () { if (everOpen) show(true); });
  window.addEventListener('online', function () { if (open > 0) show(false); });
  // Solara gives up after a few attempts (about two minutes); a page whose server is back but whose
  // connection did not come back by itself reloads, and the server restores its draft.
  setInterval(function () {
    if (!everOpen || open > 0 || downSince === null) { reachableSince = null; return; }
    fetch(location.href, {cache: 'no-store'}).then(function (r) {
      if (!r.ok) { reachableSince = null; return; }
      reachableSince = reachableSince || Date.now();
      if (Date.now() - reachableSince > 12000) { var b = banner(); b.textContent = TEXT.reload[lang()]; location.reload(); }
    }).catch(function () { reachableSince = null; });
  }, 3000);
})();
</script>
"""


_SOLARA_KEYS = tuple((k, f"solara_{k}") for k in ("session_lost", "refresh_title", "refresh_now", "disconnected", "server_down", "restoring"))


def connection_js() -> str:
    import json

    return CONNECTION_JS % {"texts": json.dumps({k: {"de": t(key, "de"), "en": t(key, "en")} for k, key in (("offline", "offline"), ("reload", "reload_needed"), *_SOLARA_KEYS)}, ensure_ascii=False)}
