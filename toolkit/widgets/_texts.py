"""Texts the participants and facilitators see: a thin view of the ``ui.*`` keys of :mod:`toolkit.i18n`.

The one catalogue of every text (German default, English with ``lang="en"``) is
``toolkit/i18n.py``; this module only adds the ``ui.`` prefix for the widgets.
"""

from __future__ import annotations

from typing import Any

from .. import i18n

__all__ = ["t"]


def t(key: str, lang: str = "de", **fmt: Any) -> str:
    """A UI text in ``lang`` with ``str.format`` fields filled.

    Example
    -------
    >>> t("dash_count", "en", n=3)
    '3 responses'
    """
    return i18n.t("ui." + key, lang, **fmt)
