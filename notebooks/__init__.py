"""The report and workshop notebooks (installed as the package data ``toolkit.notebooks``; see ``toolkit.paths``)."""
