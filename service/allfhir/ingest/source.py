"""Where an input's bytes come from, and how they are read: once, from the start, never seeking.

An input is a file, a named pipe (also process substitution, `<(zcat x.csv.gz)`), standard input
(`-`), or bytes in memory under the name the messages give them (an upload to the REST service,
read where it arrived rather than written to a file first); plain or gzip-compressed (bgzip too:
it is multi-member gzip), told by the gzip magic bytes and never by the file name. Pipes and
standard input can be read only once, so the first bytes are kept for sniffing and replayed in
front of the rest: detection never seeks and the adapters read the stream from its first byte.
"""

from __future__ import annotations

import gzip
import io
import sys
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from ..errors import InputError, Problem

STDIN = "-"
STDIN_NAME = "<stdin>"
HEAD_SIZE = 65536
_GZIP_MAGIC = b"\x1f\x8b"
_GZIP_ERRORS = (OSError, EOFError, zlib.error)


def _unreadable(name: str, compressed: bool, exc: Exception) -> InputError:
    """The one wording of a read that failed: a broken gzip stream, or the OS's reason."""
    if compressed:
        return InputError(Problem(f"not a readable gzip file ({exc})", file=name, code="invalid"))
    return InputError(Problem(f"cannot read the file ({exc})", file=name, code="exception"))


class _Replay(io.RawIOBase):
    """`first` and then whatever `rest` still holds, as one forward-only stream; closing it runs
    `on_close` (which closes the file underneath)."""

    def __init__(self, first: bytes, rest: BinaryIO, name: str, compressed: bool,
                 on_close: Callable[[], None] | None = None) -> None:
        self._first = memoryview(first)
        self._rest = rest
        self._name = name
        self._compressed = compressed
        self._on_close = on_close

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self._first:
            n = min(len(buffer), len(self._first))
            buffer[:n] = self._first[:n]
            self._first = self._first[n:]
            return n
        try:
            # read1: what is there now, at most one read underneath. read() would wait for the
            # whole buffer, i.e. for a pipe's writer to write on, before handing over lines it has.
            data = self._rest.read1(len(buffer))
        except _GZIP_ERRORS as exc:
            raise _unreadable(self._name, self._compressed, exc) from None
        n = len(data)
        buffer[:n] = data
        return n

    def close(self) -> None:
        if self._on_close is not None:
            self._on_close()
        super().close()


class Source:
    """One input, opened: its name as the messages show it, its first bytes, and its content."""

    def __init__(self, path: Path | str, content: bytes | None = None) -> None:
        """`content`: the input's bytes, in memory; `path` then only names it in the messages."""
        given = str(path)
        in_memory = content is not None
        self.path = None if given == STDIN or in_memory else Path(given)
        self.name = STDIN_NAME if self.path is None and not in_memory else given
        self._owned = given != STDIN or in_memory  # standard input is not ours to close
        raw: BinaryIO
        if content is not None:
            raw = io.BytesIO(content)
        else:
            raw = sys.stdin.buffer if self.path is None else self._open(self.path)
        self._raw = raw
        self.compressed = False
        try:
            magic = self._read(raw, 2)
            self.compressed = magic == _GZIP_MAGIC
            stream: BinaryIO = io.BufferedReader(_Replay(magic, raw, self.name, False))
            if self.compressed:
                stream = gzip.GzipFile(fileobj=stream, mode="rb")  # type: ignore[assignment]
            self._head = self._read(stream, HEAD_SIZE)
        except BaseException:
            self.close()
            raise
        self._stream: BinaryIO | None = io.BufferedReader(
            _Replay(self._head, stream, self.name, self.compressed, on_close=self.close))

    def _open(self, path: Path) -> BinaryIO:
        if path.is_dir():
            raise InputError(Problem("is a directory, not a file", file=self.name, code="not-found"))
        try:
            return path.open("rb")
        except FileNotFoundError:
            raise InputError(Problem("no such file", file=self.name, code="not-found")) from None
        except OSError as exc:
            raise InputError(Problem(f"cannot read the file: {exc.strerror}", file=self.name,
                                     code="forbidden" if isinstance(exc, PermissionError)
                                     else "exception")) from None

    def _read(self, stream: BinaryIO, size: int) -> bytes:
        try:
            return stream.read(size)
        except _GZIP_ERRORS as exc:
            raise _unreadable(self.name, self.compressed, exc) from None

    def head(self, size: int = 8192) -> bytes:
        """The first `size` bytes of the (decompressed) content, for sniffing."""
        return self._head[:size]

    def open(self) -> BinaryIO:
        """The content from its first byte. A stream is read once, so this is called once."""
        if self._stream is None:
            raise InputError(Problem("the input was already read (a pipe or standard input can "
                                     "be read only once)", file=self.name, code="exception"))
        stream, self._stream = self._stream, None
        return stream

    def close(self) -> None:
        """Closes the file (standard input stays open: it is not ours)."""
        if self._owned:
            self._raw.close()


def as_source(path: Path | str | Source) -> Source:
    return path if isinstance(path, Source) else Source(path)
