"""Self-generated participant codes: normalisation, keyed hashing, tolerant linking.

Participants never give names. At every wave they enter the same few code elements
(e.g. the first two letters of their mother's first name). The toolkit stores a keyed
hash (HMAC-SHA256) of each normalised element, scoped to the authority (the same
person in two authorities gets unrelated hashes and pseudonyms). The key lives in the
user's data directory (``<user data dir>/upo-toolkit/keys/<cohort id>.key``,
permissions 0600; see :func:`key_dir`), never beside or inside the database; ``upo key
export``/``upo key import`` hand it to a colleague.

What the key protects, and what not: each element has little entropy (a day of the
month, two letters), so whoever holds the database **and** the key can test guesses
and recover every participant's code elements within seconds. Without the key the
hashes cannot be tested against guesses. The key does not protect the answers
themselves: anyone with the database file can read them (under pseudonyms).

Waves are linked within an authority when all elements match, or when exactly one
element differs and that match is unique on both sides (a typo). Ambiguous
candidates stay unlinked.

Example
-------
>>> normalise_element("  Ä ")
'ae'
>>> normalise_element("07")
'7'
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import stat
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from .exceptions import DataError, StoreError

if TYPE_CHECKING:  # pandas is imported by the two linking functions only: the store and its CLI commands start without it
    import pandas as pd

__all__ = [
    "CodeElement",
    "CODE_ELEMENTS",
    "normalise_element",
    "MIN_KEY_BYTES",
    "KEY_DIR_ENV",
    "KEY_FILE_ENV",
    "key_dir",
    "key_path_for",
    "legacy_key_path",
    "create_key",
    "write_key",
    "read_key",
    "parse_key",
    "key_check",
    "hash_elements",
    "pseudonym",
    "link_codes",
    "linking_summary",
]


@dataclass(frozen=True)
class CodeElement:
    """One element of the self-generated code, as asked in the form."""

    id: str
    de: str
    en: str
    placeholder: str
    max_length: int

    def prompt(self, lang: str = "de") -> str:
        return self.en if lang == "en" else self.de


CODE_ELEMENTS: tuple[CodeElement, ...] = (
    CodeElement("mother", "Die ersten beiden Buchstaben des Vornamens Ihrer Mutter", "The first two letters of your mother's first name", "z. B. MA", 2),
    CodeElement("birthday", "Der Tag Ihres Geburtstags (ohne Monat)", "The day of your birthday (without the month)", "z. B. 07", 2),
    CodeElement("birthplace", "Der erste Buchstabe Ihres Geburtsorts", "The first letter of your place of birth", "z. B. K", 1),
    CodeElement("street", "Die ersten beiden Buchstaben der Straße, in der Sie aufgewachsen sind", "The first two letters of the street you grew up in", "z. B. HA", 2),
)

CODE_EXPLANATION = {
    "de": (
        "Statt Ihres Namens bilden Sie einen persönlichen Code aus vier Angaben, die nur Sie kennen. "
        "So können wir Ihre Antworten späterer Befragungen verknüpfen, ohne zu wissen, wer Sie sind."
    ),
    "en": (
        "Instead of your name, you form a personal code from four things only you know. "
        "This lets us link your answers across survey rounds without knowing who you are."
    ),
}

_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "é": "e", "è": "e", "à": "a"})


def normalise_element(value: object) -> str:
    """Normalise one code element: case, umlauts, whitespace, leading zeros.

    Parameters
    ----------
    value
        What the participant typed.

    Returns
    -------
    str
        Lower case, umlauts transliterated (ä → ae), inner and outer white space removed,
        punctuation dropped, numbers without leading zeros.
    """
    text = unicodedata.normalize("NFKC", str(value)).casefold().translate(_UMLAUTS)
    text = "".join(ch for ch in text if ch.isalnum())
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    if text.isdigit():
        text = str(int(text))
    return text


MIN_KEY_BYTES = 32
KEY_DIR_ENV = "UPO_KEY_DIR"  # overrides the folder of key files (tests, portable set-ups)
KEY_FILE_ENV = "UPO_KEY_FILE"  # one key file to use (set by ``--key FILE``; inherited by kernels and servers)
_KEY_HEADER = (
    "# upo-toolkit code key. SECRET: with this key and the database, participants' code elements can be\n"
    "# recovered by guessing. Keep it apart from copies of the database; hand it over with 'upo key export'.\n"
)


def key_dir() -> Path:
    """The folder of code keys: ``$UPO_KEY_DIR``, else ``platformdirs.user_data_dir("upo-toolkit")/keys``."""
    env = os.environ.get(KEY_DIR_ENV)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("upo-toolkit", appauthor=False)) / "keys"


def key_path_for(cohort_uid: str) -> Path:
    """Where the code key of a cohort lives: ``<key_dir()>/<cohort id>.key``."""
    if not re.fullmatch(r"[0-9a-f]{8,64}", str(cohort_uid)):
        raise StoreError(f"cohort id {cohort_uid!r} is not a valid id (hexadecimal); the database may be damaged")
    return key_dir() / f"{cohort_uid}.key"


def legacy_key_path(db_path: str | Path) -> Path:
    """Where toolkit versions before 0.3 kept the key: ``<db>.key`` beside the database."""
    db_path = Path(db_path)
    return db_path.with_name(db_path.name + ".key")


def _key_text(key: bytes, cohort: str | None) -> str:
    return _KEY_HEADER + (f"cohort: {cohort}\n" if cohort else "") + f"key: {key.hex()}\n"


def write_key(key_path: str | Path, key: bytes, *, cohort: str | None = None) -> Path:
    """Write a key file (permissions 0600, folder 0700) without ever overwriting one.

    Raises
    ------
    StoreError
        If the file exists already or the key is shorter than :data:`MIN_KEY_BYTES`.
    """
    key_path = Path(key_path)
    if len(key) < MIN_KEY_BYTES:
        raise StoreError(f"key too short ({len(key)} bytes); a code key needs at least {MIN_KEY_BYTES} random bytes")
    key_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = key_path.with_name(f".{key_path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(_key_text(key, cohort))
        try:
            os.link(tmp, key_path)  # atomic and exclusive: a concurrent writer cannot leave half a file
        except FileExistsError:
            raise StoreError(f"{key_path}: a key file exists already; it is never overwritten (remove it yourself if you mean to)") from None
    finally:
        tmp.unlink(missing_ok=True)
    return key_path


def create_key(key_path: str | Path, *, cohort: str | None = None) -> bytes:
    """Create a new random key file with permissions 0600 (never overwrites)."""
    key = secrets.token_bytes(MIN_KEY_BYTES)
    write_key(key_path, key, cohort=cohort)
    return key


def parse_key(text: str, *, source: str = "key file") -> tuple[bytes, str | None]:
    """The key and the cohort id (None in files of toolkit versions before 0.3) of a key file's text."""
    key_hex, cohort = None, None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition(":")
        if sep and name.strip() == "cohort":
            cohort = value.strip()
        elif sep and name.strip() == "key":
            key_hex = value.strip()
        elif not sep and key_hex is None:
            key_hex = line  # the old format: one hexadecimal line
    try:
        key = bytes.fromhex(key_hex or "")
    except ValueError:
        key = b""
    if not key_hex or not key:
        raise StoreError(f"{source}: not a valid key file (expected 'key: ' and {2 * MIN_KEY_BYTES} hexadecimal characters)")
    if len(key) < MIN_KEY_BYTES:
        raise StoreError(f"{source}: key too short ({len(key)} bytes, at least {MIN_KEY_BYTES} needed); use the key file 'upo init' created")
    return key, cohort


def read_key(key_path: str | Path, *, cohort: str | None = None, what: str = "") -> bytes:
    """Read a key file written by :func:`write_key` (or a plain hexadecimal one).

    Raises
    ------
    StoreError
        Missing file; readable by group or others (fix: ``chmod 600``); too short;
        or a key of another cohort.
    """
    key_path = Path(key_path)
    try:
        mode = key_path.stat().st_mode
        text = key_path.read_text()
    except FileNotFoundError:
        raise StoreError(
            f"{key_path}: the code key{what} is missing; install the cohort's key with 'upo key import FILE' "
            "(from your backup or a colleague's 'upo key export') or give it with --key FILE"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise StoreError(f"{key_path}: the key file cannot be read ({exc})") from None
    if os.name == "posix" and mode & 0o077:
        raise StoreError(f"{key_path}: the key file is readable by others (mode {stat.filemode(mode)}); run 'chmod 600 {key_path}'")
    key, file_cohort = parse_key(text, source=str(key_path))
    if cohort and file_cohort and file_cohort != cohort:
        raise StoreError(f"{key_path}: this key belongs to cohort {file_cohort}, not to this database's cohort {cohort}")
    return key


def key_check(key: bytes) -> str:
    """A check value stored in the database: tells a wrong key from the right one, reveals nothing of it."""
    return hmac.new(key, b"upo-toolkit key check", hashlib.sha256).hexdigest()[:16]


def _scoped(key: bytes, authority: str, mac: str) -> str:
    return hmac.new(key, f"authority:{authority}|{mac}".encode(), hashlib.sha256).hexdigest()[:32]


def hash_elements(key: bytes, elements: Sequence[object], *, authority: str) -> tuple[str, ...]:
    """Keyed hashes (hex, 16 bytes) of the normalised elements, scoped to one authority.

    The same elements in two authorities give unrelated hashes (and pseudonyms), so
    records cannot be matched across authorities; within an authority they link.

    Raises
    ------
    DataError
        If an element is empty after normalisation.
    """
    out = []
    for pos, element in enumerate(elements):
        norm = normalise_element(element)
        if not norm:
            raise DataError(f"code element {pos + 1} is empty; every part of the personal code is needed")
        mac = hmac.new(key, f"{pos}:{norm}".encode(), hashlib.sha256).hexdigest()[:32]
        out.append(_scoped(key, str(authority), mac))
    return tuple(out)


def pseudonym(key: bytes, element_hashes: Sequence[str]) -> str:
    """The pseudonymous participant code shown in exports, e.g. ``P-3F9A2C7D1E``."""
    mac = hmac.new(key, "|".join(element_hashes).encode(), hashlib.sha256).hexdigest()[:10]
    return "P-" + mac.upper()


def link_codes(codes: pd.DataFrame) -> pd.DataFrame:
    """Link participant code records into persons across waves.

    Parameters
    ----------
    codes
        One row per participant record and wave it answered in, with columns
        ``authority``, ``participant`` (the record's pseudonym), ``wave`` and
        ``elements`` (the element hashes joined by ``"."``).

    Returns
    -------
    DataFrame
        One row per participant record: ``authority``, ``participant``, ``person``
        (the pseudonym of the earliest linked record) and ``link``: ``"self"`` (no
        tolerant link), ``"tolerant"`` (linked with one differing element) or
        ``"ambiguous"`` (several one-off candidates; left unlinked).

    Notes
    -----
    Two records are candidates when they belong to the same authority, differ in
    exactly one element and never answered in the same wave (one person answers a
    wave once). A candidate pair is linked only if each is the other's only candidate.
    Records with fewer than three elements (imported ids) are linked exactly only.
    """
    import numpy as np
    import pandas as pd

    cols = ["authority", "participant", "person", "link"]
    if codes.empty:
        return pd.DataFrame(columns=cols)
    recs = codes.drop_duplicates(["authority", "participant", "wave"])
    seen_waves: dict[tuple[Any, Any], set[Any]] = {}  # a plain loop: a pandas agg(frozenset) runs Python per group
    for key, w in zip(zip(recs["authority"], recs["participant"]), recs["wave"]):
        seen_waves.setdefault(key, set()).add(w)
    first = recs.groupby(["authority", "participant"], sort=False, observed=True).cumcount() == 0
    base = recs.loc[first, ["authority", "participant", "elements"]].reset_index(drop=True)
    base["waves"] = pd.Series([frozenset(seen_waves[key]) for key in zip(base["authority"], base["participant"])], dtype=object)
    parts = base["elements"].str.split(".")
    n_el = parts.str.len()
    # deletion keys: element i masked -> records sharing a key differ at most in element i
    rows = []
    for i in range(int(n_el.max())):
        ok = n_el >= 3
        if not ok.any():
            break
        masked = parts[ok].map(lambda p, i=i: ".".join(p[:i] + ["*"] + p[i + 1 :]) if i < len(p) else None)
        frame = pd.DataFrame({"idx": base.index[ok], "authority": base.loc[ok, "authority"], "key": masked})
        rows.append(frame.dropna(subset=["key"]))
    cand_pairs = pd.DataFrame(columns=["a", "b"])
    if rows:
        keys = pd.concat(rows, ignore_index=True)
        pairs = keys.merge(keys, on=["authority", "key"], suffixes=("_a", "_b"))
        pairs = pairs[pairs["idx_a"] != pairs["idx_b"]]
        if not pairs.empty:
            wa = base["waves"].to_numpy()
            disjoint = np.fromiter(
                (not (wa[a] & wa[b]) for a, b in zip(pairs["idx_a"], pairs["idx_b"])), dtype=bool, count=len(pairs)
            )
            cand_pairs = pairs.loc[disjoint, ["idx_a", "idx_b"]].drop_duplicates().set_axis(["a", "b"], axis=1)
    n_cand = cand_pairs.groupby("a").size() if not cand_pairs.empty else pd.Series(dtype=int)
    person = base["participant"].copy()
    link = pd.Series("self", index=base.index, dtype=object)
    if not cand_pairs.empty:
        uniq = cand_pairs[
            cand_pairs["a"].map(n_cand).eq(1).to_numpy() & cand_pairs["b"].map(n_cand).eq(1).to_numpy()
        ]
        ambiguous = n_cand[n_cand > 1].index
        link.loc[ambiguous] = "ambiguous"
        # partners of an ambiguous record are ambiguous too unless linked elsewhere
        for a, b in uniq.itertuples(index=False):
            if a < b:
                first_rec = a if min(base.at[a, "waves"], default="") <= min(base.at[b, "waves"], default="") else b
                for r in (a, b):
                    person.at[r] = base.at[first_rec, "participant"]
                    link.at[r] = "tolerant"
        amb_partners = cand_pairs[cand_pairs["a"].isin(ambiguous)]["b"]
        link.loc[amb_partners[link.loc[amb_partners].eq("self").to_numpy()]] = "ambiguous"
    return pd.DataFrame({"authority": base["authority"], "participant": base["participant"], "person": person, "link": link})[cols]


def linking_summary(codes: pd.DataFrame, links: pd.DataFrame) -> pd.DataFrame:
    """Counts of linked participants between consecutive waves.

    Returns one row per (authority, from_wave, to_wave) with ``exact`` (same code in
    both waves), ``tolerant`` (one element differed), ``unlinked`` (answered the later
    wave with no link to the earlier one) and ``ambiguous`` (several candidates).
    """
    import pandas as pd

    cols = ["authority", "from_wave", "to_wave", "exact", "tolerant", "unlinked", "ambiguous"]
    if codes.empty:
        return pd.DataFrame(columns=cols)
    recs = codes[["authority", "participant", "wave"]].drop_duplicates()
    recs = recs.merge(links[["authority", "participant", "person", "link"]], on=["authority", "participant"], how="left")
    waves = list(pd.unique(recs["wave"]))
    if isinstance(recs["wave"].dtype, pd.CategoricalDtype):
        waves = [w for w in recs["wave"].cat.categories if w in set(waves)]
    out = []
    for authority, grp in recs.groupby("authority", sort=True, observed=True):
        for w0, w1 in zip(waves, waves[1:]):
            g0, g1 = grp[grp["wave"] == w0], grp[grp["wave"] == w1]
            if g0.empty and g1.empty:
                continue
            exact = len(set(g0["participant"]) & set(g1["participant"]))
            persons0 = set(g0["person"])
            later = g1[~g1["participant"].isin(set(g0["participant"]))]
            tolerant = int((later["person"].isin(persons0) & later["link"].eq("tolerant")).sum())
            ambiguous = int(later["link"].eq("ambiguous").sum())
            unlinked = len(later) - tolerant - ambiguous
            out.append([authority, w0, w1, exact, tolerant, unlinked, ambiguous])
    return pd.DataFrame(out, columns=cols)
