"""Input adapters: one module per real file format, each parsing into `allfhir.model.Sample`.

Inputs reach the adapters as `source.Source`: a file, a named pipe, standard input or bytes in
memory (an upload), plain or gzip, read once from the start (so an adapter opens it once). Every
adapter module defines:
    NAME: str                 format name used by `--format` (e.g. "allsorts")
    KIND: str                 "classifier" (subtype calls) or "companion" (fusions / variants / CNV)
    DESCRIPTION: str          one line for `allfhir formats`
    sniff(source, head) -> bool  True when the input looks like this format (head = its first
                              8 KiB as text, decompressed; sniffing never reads the input itself)
    read(source) -> Iterator[Sample | InputError]
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
from .source import Source, as_source

# Order matters for sniffing: the most specific signatures first.
ADAPTERS: dict[str, ModuleType] = {
    m.NAME: m
    for m in (generic_json, vcf, arriba, star_fusion, fusioncatcher, allcatchr, mdall, allsorts)
}


def detect_format(path: Path | Source) -> str:
    """Name of the adapter whose signature matches the input, or an InputError listing formats."""
    source = as_source(path)
    try:
        return _detect(source)
    finally:
        if source is not path:
            source.close()


def _detect(source: Source) -> str:
    text = head(source)
    for name, module in ADAPTERS.items():
        if module.sniff(source, text):
            return name
    raise InputError(
        Problem(
            "format not recognised; pass --format with one of: " + ", ".join(sorted(ADAPTERS)),
            file=source.name,
            row=1,
            code="not-supported",
        )
    )


def read(path: Path | Source, fmt: str | None = None) -> Iterator[Sample | InputError]:
    """Samples (and row-level errors) from one input, auto-detecting the format unless given."""
    if fmt is not None and fmt not in ADAPTERS:
        raise InputError(
            Problem(
                f"unknown format '{fmt}'; known: {', '.join(sorted(ADAPTERS))}",
                file=str(path.name if isinstance(path, Source) else path),
                code="not-supported",
            )
        )
    source = as_source(path)
    if source is path:
        return ADAPTERS[fmt or _detect(source)].read(source)
    # Opened here, so closed here: when the items run out, or when the file is refused.
    try:
        items = ADAPTERS[fmt or _detect(source)].read(source)
    except BaseException:
        source.close()
        raise
    return _closing(items, source)


def _closing(items: Iterator[Sample | InputError], source: Source) -> Iterator[Sample | InputError]:
    try:
        yield from items
    finally:
        source.close()
