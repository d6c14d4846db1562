"""Where the package's data folders are: the same rule for mappings/ and the compiled profiles.

An environment variable wins; else the copy a wheel ships inside the package (pyproject
`package-dir`: allfhir/mappings, allfhir/profiles); else the folder of the source tree, which is
what `pip install -e .` and the tests see.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
REPO = PACKAGE.parents[1]  # service/allfhir -> the repository


def data_dir(env_var: str, packaged: str, in_repo: str) -> Path:
    env = os.environ.get(env_var)
    if env:
        return Path(env)
    shipped = PACKAGE / packaged
    return shipped if shipped.is_dir() else REPO / in_repo


def user_cache_dir() -> Path:
    """The user's cache folder for allfhir (XDG: $XDG_CACHE_HOME/allfhir, else ~/.cache/allfhir),
    where what can be derived again is kept: the FHIR packages of an installed wheel, the
    look-up tables of table_cache."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "allfhir"
