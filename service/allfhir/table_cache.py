"""Look-up tables derived from a large mappings file, kept between processes.

genes.tsv is 10 MB (43k rows, most of each line its source); splitting it into the symbol ->
HGNC id table costs a process about 0.07 s of CPU, the largest single cost of converting a small
fusion file. The table depends on nothing but the file's bytes and the code that derives it, so
it is stored once, under the user's cache folder, named by the table and the SHA-256 of both
(about 6 ms for genes.tsv), and read back with `marshal` (the format of Python's own .pyc
files; it builds strings and dicts, it runs no code): a changed file or a changed derivation is
a new name, never a stale table.

A table that cannot be read (absent, written by another Python, damaged) is derived again from
the file and stored; a cache folder that cannot be written leaves every table derived in each
process, as it was before this cache. Deleting the folder is always safe.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from .data_paths import user_cache_dir


def digest(*paths: Path) -> str:
    """SHA-256 (hex) of the files' bytes, each after its length: the data file and the source
    of the code that derives tables from it."""
    sha = hashlib.sha256()
    for path in paths:
        data = path.read_bytes()
        sha.update(len(data).to_bytes(8, "big"))
        sha.update(data)
    return sha.hexdigest()


def cached(file_digest: str, name: str, build: Callable[[], dict[str, str]],
           folder: Path | None = None) -> dict[str, str]:
    """The table `build()` derives from the files of that digest: stored by an earlier process,
    or built now (and stored for the next ones)."""
    try:
        folder = folder or user_cache_dir() / "tables"
    except RuntimeError:  # no home folder to put it in
        return build()
    # marshal's format is Python's own: one file per interpreter version, as .pyc files are.
    path = folder / f"{name}-{file_digest}.{sys.implementation.cache_tag}.marshal"
    try:
        table = marshal.loads(path.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        table = None
    if type(table) is dict:
        return table
    table = build()
    _store(path, marshal.dumps(table))
    return table


def _store(path: Path, data: bytes) -> None:
    # Written under a temporary name and renamed: a process reading it at the same moment sees
    # the whole table or none (then derives it itself).
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    except OSError:
        return  # no writable cache folder: every process derives the table, as without a cache
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except OSError:
        Path(temporary).unlink(missing_ok=True)
