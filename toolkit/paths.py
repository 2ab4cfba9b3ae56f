"""Where the shipped instruments and notebooks are: the one place that knows.

The top-level ``surveys/`` and ``notebooks/`` folders of the repository are the
source; the wheel installs them as the package data ``toolkit/surveys`` and
``toolkit/notebooks`` (``package-dir`` in ``pyproject.toml``), and an editable
install maps the two packages onto the repository folders. Both are found with
:mod:`importlib.resources`. A source checkout that is only on ``sys.path``
(``PYTHONPATH=checkout``, not installed) falls back to the folders beside the
``toolkit`` package; so does a checkout on ``PYTHONPATH`` while another checkout is
installed in editable mode (the data always belongs to the ``toolkit`` that is imported).

``UPO_NOTEBOOKS`` (a folder) overrides where the notebooks are read from.

Example
-------
>>> (SURVEYS_DIR / "competence_reflection.yaml").is_file()
True
>>> sorted(p.name for p in NOTEBOOKS_DIR.glob("report_*.ipynb"))
['report_authority.ipynb', 'report_cohort.ipynb']
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

__all__ = ["SURVEYS_DIR", "NOTEBOOKS_DIR", "data_dir"]


def data_dir(name: str) -> Path:
    """The folder of the package data ``toolkit.<name>`` (``"surveys"`` or ``"notebooks"``) on disk.

    Parameters
    ----------
    name
        ``"surveys"`` or ``"notebooks"``.

    Returns
    -------
    Path
        A real folder: Voilà and papermill need file paths, so a zipped install is not supported.
    """
    here = Path(__file__).resolve().parent
    try:
        found = resources.files(f"{__package__}.{name}")
    except ModuleNotFoundError:
        found = None
    # accept only this toolkit's own data: inside the installed package, or beside it in the
    # checkout an editable install maps (not another checkout's, when PYTHONPATH points elsewhere)
    if isinstance(found, Path) and found.is_dir() and found.resolve().parent in (here, here.parent):
        return found
    return here.parent / name  # a source checkout on sys.path, not installed


SURVEYS_DIR: Path = data_dir("surveys")
NOTEBOOKS_DIR: Path = Path(os.environ["UPO_NOTEBOOKS"]) if os.environ.get("UPO_NOTEBOOKS") else data_dir("notebooks")
