"""The page assets of the workshop server, installed locally so that no page ever needs a CDN.

Solara's page loads its JavaScript and CSS from ``{cdn}/<package>@<version>/...``; with the
asset proxy on, ``{cdn}`` is this server, which serves the files from its cache folder
(``<prefix>/share/solara/cdn``, filled by the ``solara-assets`` package). That package lags
behind Solara's releases, so :func:`missing_assets` reads which packages the installed
Solara's page template needs, and :func:`install_assets` (``python -m toolkit.workshop.assets``)
fetches the missing ones once with npm's own client (``npm pack``) into that folder, before the
workshop. During the workshop the server never fetches anything.

Example
-------
>>> ("@widgetti/solara-vuetify-app", "10.1.1") in needed_packages()
True
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from .session import WorkshopError

__all__ = ["needed_packages", "missing_assets", "install_assets", "cache_dir"]

log = logging.getLogger("toolkit")

_REF = re.compile(r"\{\{\s*cdn\s*\}\}/?((?:@[\w.-]+/)?[\w.-]+)@([\w.-]+)/")


def cache_dir() -> Path:
    import solara.server.settings as ss

    return Path(ss.assets.proxy_cache_dir)


def needed_packages() -> list[tuple[str, str]]:
    """``(package, version)`` pairs the installed Solara's page template loads from ``{cdn}``."""
    import solara.server

    template = Path(solara.server.__file__).parent / "templates" / "solara.html.j2"
    text = template.read_text(encoding="utf-8")
    found = sorted(set(_REF.findall(text)))
    import solara.server.settings as ss

    fa = ss.assets.fontawesome_path.strip("/").split("/")[0]
    if "@" in fa:
        found.append(tuple(fa.rsplit("@", 1)))  # type: ignore[arg-type]
    return sorted(set(found))


def missing_assets() -> list[str]:
    """``package@version`` of each needed package not in the local cache folder."""
    root = cache_dir()
    return [f"{p}@{v}" for p, v in needed_packages() if not (root / f"{p}@{v}").is_dir()]


def install_assets(names: list[str] | None = None) -> list[str]:
    """Fetch missing packages with ``npm pack`` into the cache folder; returns what was installed.

    Raises
    ------
    WorkshopError
        npm is missing or a package cannot be fetched.
    """
    names = missing_assets() if names is None else names
    if not names:
        return []
    npm = shutil.which("npm")
    if npm is None:
        raise WorkshopError(f"npm is needed once to install the page assets {', '.join(names)}; install Node.js/npm, or copy the folder {cache_dir()} from a machine that has them")
    root = cache_dir()
    done = []
    for name in names:
        with tempfile.TemporaryDirectory() as tmp:
            proc = subprocess.run([npm, "pack", name, "--silent"], cwd=tmp, capture_output=True, text=True)
            tgz = sorted(Path(tmp).glob("*.tgz"))
            if proc.returncode != 0 or not tgz:
                raise WorkshopError(f"npm pack {name} failed: {(proc.stderr or proc.stdout).strip().splitlines()[-1:] or ''}")
            target = root / name
            target.mkdir(parents=True, exist_ok=True)
            with tarfile.open(tgz[0]) as tar:
                for member in tar.getmembers():
                    if not member.isfile() or not member.name.startswith("package/") or ".." in member.name:
                        continue
                    dest = target / member.name[len("package/"):]
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    src = tar.extractfile(member)
                    if src is not None:
                        dest.write_bytes(src.read())
            done.append(name)
            log.info("installed page assets %s into %s", name, target)
    return done


def main() -> int:
    try:
        done = install_assets()
    except WorkshopError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
    print(f"installed: {', '.join(done)}" if done else f"all page assets are installed in {cache_dir()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
