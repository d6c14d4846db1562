"""Input adapters: one module per real file format, each parsing into `allfhir.model.Sample`.

Every adapter module defines:
    NAME: str                 format name used by `--format` (e.g. "allsorts")
    KIND: str                 "classifier" (subtype calls) or "companion" (fusions / variants / CNV)
    DESCRIPTION: str          one line for `allfhir formats`
    sniff(path, head) -> bool True when the file looks like this format (head = first 8 KiB as text)
    read(path) -> Iterator[Sample | InputError]
        yields one Sample per sample in the file; a row-level problem is yielded as an InputError
        (so the good samples of a cohort are still converted) while a file-level problem (empty,
        not UTF-8, wrong delimiter, missing columns) is raised.
Adapters keep labels and gene symbols as written; allfhir.knowledge resolves them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

from ..errors import InputError, Problem
from ..model import Sample
from . import (
    allcatchr,
    allsorts,
    arriba,
    fusioncatcher,
    generic_json,
    mdall,
    star_fusion,
    vcf,
)
from ._tabular import head

# Order matters for sniffing: the most specific signatures first.
ADAPTERS: dict[str, ModuleType] = {
    m.NAME: m
    for m in (generic_json, vcf, arriba, star_fusion, fusioncatcher, allcatchr, mdall, allsorts)
}


def detect_format(path: Path) -> str:
    """Name of the adapter whose signature matches the file, or an InputError listing formats."""
    if not path.is_file():
        raise InputError(Problem("no such file", file=str(path), code="not-found"))
    text = head(path)
    for name, module in ADAPTERS.items():
        if module.sniff(path, text):
            return name
    raise InputError(
        Problem(
            "format not recognised; pass --format with one of: " + ", ".join(sorted(ADAPTERS)),
            file=str(path),
            row=1,
            code="not-supported",
        )
    )


def read(path: Path, fmt: str | None = None) -> Iterator[Sample | InputError]:
    """Samples (and row-level errors) from one file, auto-detecting the format unless given."""
    name = fmt or detect_format(path)
    if name not in ADAPTERS:
        raise InputError(
            Problem(
                f"unknown format '{name}'; known: {', '.join(sorted(ADAPTERS))}",
                file=str(path),
                code="not-supported",
            )
        )
    if not path.is_file():
        raise InputError(Problem("no such file", file=str(path), code="not-found"))
    return ADAPTERS[name].read(path)
