"""The pipeline: files -> samples -> (knowledge) -> FHIR Bundles, streamed one sample at a time.

A sample's classifier file and its companion files (fusions, VCF) combine into one report. Rows
with problems come out as InputErrors in the stream, next to the good samples' bundles, so a
cohort with one bad row still converts the rest and the caller reports every problem.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, overload

from . import ingest
from .actionability import Assessment, assess
from .errors import InputError, Problem
from .fhir import bundle
from .fhir.bundle import BuildOptions, judged_on
from .fhir.common import Json
from .fhir.templates import Templates
from .ingest.source import Source
from .integrate import IntegratedCall, actionable_calls, integrate
from .knowledge import Knowledge, default
from .model import Sample
from .resolve import ResolvedSample, resolve


@dataclass(slots=True)
class _Companions:
    by_sample: dict[str, list[Sample]] = field(default_factory=dict)
    unnamed: list[Sample] = field(default_factory=list)
    used: set[int] = field(default_factory=set)


@overload
def convert(paths: list[Path] | list[Source], fmt: str | None = None, opts: BuildOptions | None = None,
            kb: Knowledge | None = None, sample_id: str | None = None,
            warn: Callable[[Problem], None] | None = None, *,
            as_json: Literal[False] = False) -> Iterator[dict | InputError]: ...
@overload
def convert(paths: list[Path] | list[Source], fmt: str | None = None, opts: BuildOptions | None = None,
            kb: Knowledge | None = None, sample_id: str | None = None,
            warn: Callable[[Problem], None] | None = None, *,
            as_json: Literal[True]) -> Iterator[bytes | InputError]: ...
def convert(
    paths: list[Path] | list[Source],
    fmt: str | None = None,
    opts: BuildOptions | None = None,
    kb: Knowledge | None = None,
    sample_id: str | None = None,
    warn: Callable[[Problem], None] | None = None,
    *,
    as_json: bool = False,
) -> Iterator[dict | bytes | InputError]:
    """Bundles (dicts; with `as_json` their JSON text, `jsonout.dumps_bytes`'s, for a caller that
    only writes them) and InputErrors, in input order. File-level problems are raised; what the
    user should know but that stops nothing (a sample id taken from a file name) goes to `warn`.
    An input is a path or an unread `Source` (an upload in memory); each is closed here."""
    kb = kb or default()
    opts = opts or BuildOptions()
    inputs = _Inputs()
    try:
        # a cohort's texts from a template per shape of report (fhir/templates: the same bytes)
        yield from _convert(paths, fmt, opts, kb, sample_id, warn, inputs,
                            Templates(_worked_out).text if as_json else report)
    finally:
        inputs.close()


def _convert(paths: list[Path] | list[Source], fmt: str | None, opts: BuildOptions, kb: Knowledge,
             sample_id: str | None, warn: Callable[[Problem], None] | None,
             inputs: _Inputs, make: Callable[[Sample, Knowledge, BuildOptions], Json | bytes],
             ) -> Iterator[dict | bytes | InputError]:
    formats = [(p, fmt or ingest.detect_format(inputs.source(p))) for p in paths]
    classifier_files = [(p, f) for p, f in formats if ingest.ADAPTERS[f].KIND == "classifier"]
    companions = _read_companions([(inputs.source(p), f) for p, f in formats
                                   if (p, f) not in classifier_files], sample_id)

    if classifier_files:
        # Opened one after the other, when the previous one is done (a named pipe's writer may be
        # waiting for that).
        stream: Iterable[Sample | InputError] = itertools.chain.from_iterable(
            _some(ingest.read(inputs.source(p), f), inputs.source(p).name)
            for p, f in classifier_files)
        samples = _with_companions(stream, companions, sample_id)
    else:
        samples = _companions_only(companions, warn or (lambda _problem: None))
    for item in samples:
        if isinstance(item, InputError):
            yield item
            continue
        try:
            yield make(item, kb, opts)
        except InputError as err:
            yield err


def report(sample: Sample, kb: Knowledge, opts: BuildOptions) -> Json:
    """One sample -> its report Bundle: resolve, assess (unless turned off), build."""
    return bundle.build(*_worked_out(sample, kb, opts))


def _worked_out(sample: Sample, kb: Knowledge, opts: BuildOptions
                ) -> tuple[ResolvedSample, Knowledge, BuildOptions, Assessment | None,
                           list[IntegratedCall]]:
    """What the Bundle builder takes for one sample: resolved, integrated, assessed (unless
    actionability is turned off)."""
    rs = resolve(sample, kb)
    integrated = integrate(rs, kb)
    assessment = (assess(ResolvedSample(rs.sample, actionable_calls(integrated)), kb, judged_on(opts))
                  if opts.actionability else None)
    return rs, kb, opts, assessment, integrated


def _some(items: Iterable[Sample | InputError], name: str) -> Iterator[Sample | InputError]:
    """The classifier file's items; a file without any (a header and no rows) is an error, not a
    run that succeeds with no output."""
    empty = True
    for item in items:
        empty = False
        yield item
    if empty:
        raise InputError(Problem("no samples in the file (a header and no data rows)", file=name,
                                 code="required"))


class _Inputs:
    """Each input opened once, when first needed: detection and reading share the one stream,
    which is what lets a pipe or standard input be sniffed and then read."""

    def __init__(self) -> None:
        self._open: dict[Path | Source, Source] = {}

    def source(self, path: Path | Source) -> Source:
        if path not in self._open:
            self._open[path] = path if isinstance(path, Source) else Source(path)
        return self._open[path]

    def close(self) -> None:
        for source in self._open.values():
            source.close()


def _read_companions(files: list[tuple[Source, str]], sample_id: str | None) -> _Companions:
    out = _Companions()
    problems: list[Problem] = []
    for path, fmt in files:
        for item in ingest.read(path, fmt):
            if isinstance(item, InputError):
                problems.extend(item.problems)
            elif item.sample_id is None and sample_id is None:
                out.unnamed.append(item)
            else:
                out.by_sample.setdefault(item.sample_id or sample_id or "", []).append(item)
    if problems:
        # A companion file is one sample's evidence: reporting that sample without part of it
        # would silently drop findings, so its problems stop the run.
        raise InputError(problems)
    return out


def _with_companions(
    stream: Iterable[Sample | InputError], comp: _Companions, sample_id: str | None
) -> Iterator[Sample | InputError]:
    it = iter(stream)
    head = list(itertools.islice(it, 2))
    single = len(head) == 1
    seen: set[str] = set()
    for item in itertools.chain(head, it):
        if isinstance(item, InputError):
            yield item
            continue
        if sample_id is not None:
            if not single:
                raise InputError(Problem("--sample applies only to a file with one sample",
                                         code="invalid"))
            item.sample_id = sample_id
        sid = item.sample_id or ""
        seen.add(sid)
        extra = list(comp.by_sample.get(sid, []))
        for i, c in enumerate(comp.unnamed):
            names_it = any(sid and sid in Path(f).name for f in c.source_files)
            if (single or names_it) and i not in comp.used:
                extra.append(c)
                comp.used.add(i)
        yield merge(item, extra)
    problems = [
        Problem(f"no classifier sample '{sid}' to attach these findings to",
                file=c.source_files[0] if c.source_files else None, code="not-found")
        for sid, cs in comp.by_sample.items() if sid not in seen for c in cs
    ] + [
        Problem("the file does not name its sample and several samples were given: name the "
                "sample in the file name or convert it with --sample",
                file=c.source_files[0] if c.source_files else None, code="invalid")
        for i, c in enumerate(comp.unnamed) if i not in comp.used
    ]
    if problems:
        yield InputError(problems)


def _companions_only(comp: _Companions, warn: Callable[[Problem], None]) -> Iterator[Sample | InputError]:
    for sid, cs in comp.by_sample.items():
        yield merge(cs[0].model_copy(update={"sample_id": sid}), cs[1:])
    for c in comp.unnamed:
        # Without a classifier file, an unnamed companion is named after its file: said aloud,
        # since the report's identifier then rests on how the file happened to be named.
        file = c.source_files[0] if c.source_files else None
        name = Path(file).name.split(".")[0] if file else "sample"
        note = (f"sample id '{name}' taken from the file name {Path(file).name if file else ''}: the "
                "file does not name its sample (set it with --sample)")
        warn(Problem(note, file=file, code="informational", severity="warning"))
        yield c.model_copy(update={"sample_id": name, "comments": [*c.comments, note]})


def merge(base: Sample, others: list[Sample]) -> Sample:
    if not others:
        return base
    merged = base.model_copy(deep=False)
    merged.fusions = [*base.fusions]
    merged.variants = [*base.variants]
    merged.copy_numbers = [*base.copy_numbers]
    merged.comments = [*base.comments]
    merged.source_files = [*base.source_files]
    for o in others:
        merged.fusions.extend(o.fusions)
        merged.variants.extend(o.variants)
        merged.copy_numbers.extend(o.copy_numbers)
        merged.comments.extend(o.comments)
        merged.source_files.extend(o.source_files)
        if merged.ploidy is None and o.ploidy is not None:
            merged.ploidy = o.ploidy
    return merged
