"""Stub: being written (adapter for vcf)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ..errors import InputError
from ..model import Sample

NAME = "vcf"
KIND = "classifier"
DESCRIPTION = "(not yet implemented)"


def sniff(path: Path, head: str) -> bool:
    return False


def read(path: Path) -> Iterator[Sample | InputError]:
    raise NotImplementedError
