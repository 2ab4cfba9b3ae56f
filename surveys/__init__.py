"""The shipped instruments (installed as the package data ``toolkit.surveys``; see ``toolkit.paths``)."""
