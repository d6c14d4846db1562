"""An output file that appears under its final name only when complete.

`allfhir convert -o OUT` writes into a temporary file beside OUT (same folder, hence the same file
system, so the final rename is atomic) and renames it over OUT when the run ends. A run that fails
or is interrupted leaves OUT as it was: an earlier report is never truncated, and a reader never
sees a half-written file that looks complete.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, TextIO

from .errors import InputError, Problem


@contextlib.contextmanager
def written_whole(path: Path) -> Iterator[TextIO]:
    """A text stream for `path`; the file takes that name only if the block ends normally."""
    with _whole(path, "w") as fh:
        yield fh  # type: ignore[misc]


@contextlib.contextmanager
def bytes_written_whole(path: Path) -> Iterator[BinaryIO]:
    """The same for bytes (a PDF report)."""
    with _whole(path, "wb") as fh:
        yield fh  # type: ignore[misc]


@contextlib.contextmanager
def _whole(path: Path, mode: str) -> Iterator[TextIO | BinaryIO]:
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    except OSError as exc:
        raise InputError(Problem(f"cannot write the output here: {exc.strerror}", file=str(path),
                                 code="exception")) from None
    try:
        with os.fdopen(fd, mode, encoding="utf-8" if mode == "w" else None) as fh:
            yield fh
        os.chmod(tmp, _mode(path))
        os.replace(tmp, path)
    except BaseException:
        # Also on KeyboardInterrupt / SIGTERM: nothing half-written stays behind.
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _mode(path: Path) -> int:
    """The replaced file's permissions, or what a plain open() would have given a new file
    (mkstemp creates 0600, which would hide a report from the rest of the lab)."""
    try:
        return path.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def same_file(a: str, b: Path) -> bool:
    """True when `a` and `b` name one existing file (also through links or another spelling)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False
