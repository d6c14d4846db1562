"""Annotated VCF 4.x (Ensembl VEP `CSQ` or SnpEff `ANN` INFO field): small sequence variants,
copy-number changes from symbolic <DEL> / <DUP> / <CNV> ALTs, and gene fusions from breakend (BND)
pairs (ingest/_breakend.py decides the 5'/3' order from the ALT brackets and the genes' strands).

Layout: '##' meta lines, the '#CHROM POS ID REF ALT QUAL FILTER INFO [FORMAT sample...]' header,
then one tab-separated record per line. Plain text, gzip or bgzip (ingest/source.py decompresses any input).

Annotation field order is read from the header, never assumed:
- VEP: ##INFO=<ID=CSQ,...,Description="Consequence annotations from Ensembl VEP. Format: Allele|...">
  Values are percent-encoded by VEP (',' ';' '=' ...; '%3D' in 'p.Pro80%3D'), so every field is
  URL-decoded. HGVSc / HGVSp are already transcript / protein qualified ('ENST...:c.', 'ENSP...:p.').
- SnpEff: ##INFO=<ID=ANN,...,Description="Functional annotations: 'Allele | Annotation | ...' ">
  HGVS.c / HGVS.p are bare ('c.239C>G', 'p.Pro80Arg'); HGVS.c is qualified with the Feature_ID
  (the transcript it was computed on); HGVS.p is kept bare because SnpEff names no protein
  accession and inventing one would be wrong (the FHIR builder emits a bare p. as text).
If both are declared, CSQ is used.

Choice of annotation per ALT allele (a record carries one annotation per allele x transcript):
only annotations whose Allele matches the ALT are considered (VEP drops the shared leading base of
indels and writes '-' for an empty allele); then VEP: among the entries naming an HGNC gene
(HGNC_ID or SYMBOL_SOURCE=HGNC, when declared), PICK=1, else MANE Select, else CANONICAL=YES, else
the first protein-coding one with a c. (old VEP, v76, writes upstream entries first), else the
first; the HGVS of the chosen transcript's other entries are kept. SnpEff: the first (SnpEff sorts
by impact; with -canon only canonical ones are written). A chosen gene without an HGNC symbol is
listed in the report's comments by service/resolve.py.

Samples: one Sample per sample column (sample_id = column name); a variant goes to a sample unless
its GT is known and carries no copy of that ALT ('0/0', './.'). Without sample columns one Sample
with sample_id None holds every variant. Per-sample values come from FORMAT: DP (read_depth), AD
(allele_depth = the ALT's count), AF (allele_frequency; else AD alt / DP, else AD alt / sum(AD)).
FILTER: only PASS and '.' records are kept; the others are counted in each Sample's comments (as
are records without an annotation for the ALT), so nothing is dropped silently.
Every HGVS string is checked with the biocommons hgvs parser (syntax only, offline).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any
from urllib.parse import unquote

from ..errors import InputError, Problem
from ..hgvs_syntax import hgvs_error
from ..model import CopyNumberChange, Fusion, Sample, SequenceVariant, SourceRef
from ._breakend import Breakend, lines_text, pair, sides, strand_of
from ._tabular import _not_utf8
from .source import Source

NAME = "vcf"
KIND = "companion"
DESCRIPTION = "Annotated VCF 4.x (Ensembl VEP CSQ or SnpEff ANN): small variants with HGVS, per sample"

FIXED = ("CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO")
KEPT_FILTERS = frozenset({"PASS", "."})

_INFO_RE = re.compile(r"^##INFO=<ID=([^,>]+),(.*)>\s*$")
_DESC_RE = re.compile(r'Description="(.*)"')
# what str.strip() removes (re's \s is str.isspace()): an annotation value with none is kept as is
_SPACE = re.compile(r"\s")
_ASSEMBLY_KEYS = ("reference", "assembly", "VEP", "SnpEffCmd", "contig")
_GRCH38 = re.compile(r"GRCh38|hg38|\bb38\b|GCA_000001405\.15", re.IGNORECASE)
_GRCH37 = re.compile(r"GRCh37|hg19|\bb37\b|hs37d5|human_g1k_v37|GCA_000001405\.1\b", re.IGNORECASE)
_CHROM_HEADER = "#CHROM\tPOS\tID\tREF\tALT"

# Records a row-level problem: (column, message, code) for the current record.
_Report = Callable[..., None]


def sniff(source: Source, head: str) -> bool:
    # The head is already decompressed (a .vcf.gz or bgzip file reads as its text). A VCF is
    # known by its ##fileformat line, or by its #CHROM header when a tool left the former out or
    # leaked a log line in front of it.
    return any(line.startswith(("##fileformat=VCF", _CHROM_HEADER))
               for line in head.lstrip("\ufeff").splitlines())


@dataclass(slots=True)
class _Scheme:
    """Which annotation INFO key is used and how its fields are named."""

    key: str  # "CSQ" | "ANN"
    annotator: str  # "VEP" | "SnpEff"
    fields: list[str]


@dataclass(slots=True)
class _Header:
    scheme: _Scheme
    assembly: str | None
    samples: list[str]
    columns: list[str]
    line: int
    notes: list[str]


@dataclass(slots=True)
class _SampleAcc:
    variants: list[SequenceVariant] = field(default_factory=list)
    copy_numbers: list[CopyNumberChange] = field(default_factory=list)
    fusions: list[Fusion] = field(default_factory=list)


def _assembly(meta: dict[str, list[str]]) -> str | None:
    """GRCh37 / GRCh38 when the meta lines name one recognisably (and only one), else None."""
    found: set[str] = set()
    for key in _ASSEMBLY_KEYS:
        for value in meta.get(key, []):
            if _GRCH38.search(value):
                found.add("GRCh38")
            if _GRCH37.search(value):
                found.add("GRCh37")
    return found.pop() if len(found) == 1 else None


def _annotation_fields(description: str, key: str) -> list[str]:
    if key == "CSQ":
        # VEP: '... Format: Allele|Consequence|IMPACT|...'
        _, sep, fmt = description.partition("Format:")
    else:
        # SnpEff: "Functional annotations: 'Allele | Annotation | ... | ERRORS / WARNINGS / INFO' "
        _, sep, fmt = description.partition(":")
        fmt = fmt.strip().strip("'").strip()
    if not sep:
        return []
    return [f.strip() for f in fmt.strip().split("|")]


def _parse_header(lines: Iterator[tuple[int, str]], name: str) -> _Header:
    """Reads the lines up to and including the #CHROM header, and no further: the records stay in
    the stream."""
    meta: dict[str, list[str]] = {}
    infos: dict[str, tuple[str, int]] = {}
    notes: list[str] = []
    seen = 0  # the last line number read, for a header line missing at the end of the file
    current: tuple[int, str] | None = None
    # Lines a tool printed before the VCF itself (real SnpEff runs leak log lines into stdout).
    for current in lines:
        seen, line = current
        if line.startswith("#"):
            break
        if line.strip():
            notes.append(f"line {seen} of {PurePath(name).name} skipped, not part of the VCF: "
                         f"'{' '.join(line.split())[:80]}'")
    else:
        current = None
    has_fileformat = current is not None and current[1].startswith("##fileformat=VCF")
    while current is not None and current[1].startswith("##"):
        line_no, line = current
        m = _INFO_RE.match(line)
        if m:
            desc = _DESC_RE.search(m.group(2))
            infos[m.group(1)] = (desc.group(1) if desc else "", line_no)
        key, _, value = line[2:].partition("=")
        meta.setdefault(key, []).append(value)
        current = next(lines, None)
        seen = current[0] if current is not None else seen
    if current is None or not current[1].startswith("#CHROM"):
        if not has_fileformat:
            raise InputError(Problem("not a VCF: the first line must be '##fileformat=VCFv4.x'",
                                     file=name, row=1, code="structure"))
        raise InputError(Problem("missing the '#CHROM POS ID REF ALT QUAL FILTER INFO' header line",
                                 file=name, row=seen + 1 if current is None else current[0],
                                 code="structure"))
    if not has_fileformat:
        notes.append(f"{PurePath(name).name} has no ##fileformat line; read as VCF 4.x by its "
                     "#CHROM header")
    header_line, chrom_line = current
    columns = chrom_line[1:].rstrip("\r").split("\t")
    if tuple(columns[: len(FIXED)]) != FIXED:
        raise InputError(Problem(
            "the header line must start with the tab-separated columns " + " ".join(FIXED),
            file=name, row=header_line, code="structure"))
    if len(columns) > len(FIXED) and columns[len(FIXED)] != "FORMAT":
        raise InputError(Problem("the column after INFO must be FORMAT", file=name, row=header_line,
                                 code="structure"))
    samples = columns[len(FIXED) + 1 :]
    dups = sorted({s for s in samples if samples.count(s) > 1})
    if dups:
        raise InputError(Problem(f"duplicate sample column(s): {', '.join(dups)}", file=name,
                                 row=header_line, code="structure"))
    scheme: _Scheme | None = None
    for key, annotator in (("CSQ", "VEP"), ("ANN", "SnpEff")):
        if key in infos:
            desc, line_no = infos[key]
            fields = _annotation_fields(desc, key)
            needed = ("Allele", "SYMBOL", "HGVSc") if key == "CSQ" else ("Allele", "Gene_Name", "HGVS.c")
            missing = [f for f in needed if f not in fields]
            if missing:
                raise InputError(Problem(
                    f"the ##INFO {key} declaration does not list the field(s) {', '.join(missing)} "
                    "in its Description format", file=name, row=line_no, code="structure"))
            scheme = _Scheme(key=key, annotator=annotator, fields=fields)
            break
    if scheme is None:
        raise InputError(Problem(
            "no variant annotation declared: expected an ##INFO=<ID=CSQ,...> (Ensembl VEP) or "
            "##INFO=<ID=ANN,...> (SnpEff) header line; annotate the VCF first",
            file=name, row=header_line, code="required"))
    return _Header(scheme=scheme, assembly=_assembly(meta), samples=samples, columns=columns,
                   line=header_line, notes=notes)


def read(source: Source) -> Iterator[Sample | InputError]:
    # Not a generator itself: the header is read (and its problems raised) when read() is
    # called; the records are then streamed, one line at a time.
    lines = _numbered_lines(source)
    try:
        header = _parse_header(lines, source.name)
    except InputError:
        # The whole-file read reported a bad byte or a broken gzip stream anywhere in the file
        # before a header problem: the rest is read (not kept) for those first.
        for _ in lines:
            pass
        raise
    return _records(lines, header, source.name)


def _numbered_lines(source: Source) -> Iterator[tuple[int, str]]:
    """(line number, text) of every line, decoded one physical line at a time so that a VCF of any
    size is never held in memory. Lines and their numbers are those of str.splitlines() on the
    whole text (a form feed or U+2028 inside a line also breaks it), and the problems are those of
    decoding the text whole: an empty file, or the first non-UTF-8 byte with the offset the
    whole-file decoder reported (counted after a leading BOM, see _not_utf8_at)."""
    name = source.name
    number = 0
    start = 0  # offset of the current physical line in the file
    blank = True
    bom = 0
    recent = b""  # the last bytes before the current line (a BOM shifts the reported offset back)
    with source.open() as fh:
        for physical, raw in enumerate(fh, start=1):
            skip = 0
            if physical == 1 and raw.startswith(_BOM):
                bom = skip = len(_BOM)
            try:
                text = raw[skip:].decode("utf-8") if skip else raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise _not_utf8_at(name, start + skip + exc.start - bom, start, physical, raw,
                                   recent) from None
            if blank and raw.strip():
                blank = False
            for line in text.splitlines():
                number += 1
                yield number, line
            start += len(raw)
            if bom:
                recent = (recent + raw)[-bom:]
    if blank:
        raise InputError(Problem("the file is empty", file=name, code="required"))


_BOM = b"\xef\xbb\xbf"


def _not_utf8_at(name: str, offset: int, start: int, physical: int, raw: bytes,
                 recent: bytes) -> InputError:
    """The whole-file decoder's report of a bad byte: after a BOM it gave the offset in the text
    after the BOM, and named the byte and the line found at that offset of the file (the message
    is kept as it was). `offset` may then fall up to three bytes before the current line."""
    if offset >= start:
        return _not_utf8(name, physical, raw[offset - start], offset)
    before = recent[len(recent) - (start - offset):]
    return _not_utf8(name, physical - before.count(b"\n"), before[0], offset)


def _vep_allele(ref: str, alts: list[str]) -> list[str]:
    """The Allele strings VEP writes for each ALT: the shared first base of indels is dropped."""
    # VEP trims when every allele starts with the same base and the lengths differ (an indel);
    # SNVs and same-length MNVs are written as they are.
    if all(a and a[0] == ref[0] for a in alts) and any(len(a) != len(ref) for a in alts):
        return [a[1:] or "-" for a in alts]
    return list(alts)


def _info(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    if text == ".":
        return out
    for part in text.split(";"):
        key, _, value = part.partition("=")
        out[key] = value
    return out


def _annotation_values(entry: str) -> list[str]:
    """One annotation's '|'-separated values, percent-decoded and stripped: the decoding and
    the strip only where the entry has a '%' or white space (a VCF has thousands of fields
    per annotation line and almost never either)."""
    values = entry.split("|")
    if "%" in entry:
        return [unquote(v).strip() for v in values]
    return [v.strip() for v in values] if _SPACE.search(entry) else values


def _records(lines: Iterator[tuple[int, str]], header: _Header,
             name: str) -> Iterator[Sample | InputError]:
    scheme = header.scheme
    column = f"INFO/{scheme.key}"
    per_sample: dict[str | None, _SampleAcc] = (
        {s: _SampleAcc() for s in header.samples} or {None: _SampleAcc()})
    filtered: dict[str, int] = {}
    unannotated: list[int] = []
    no_gene: list[int] = []
    not_modelled: dict[str, list[int]] = {}
    breakends: list[Breakend] = []
    ncols = len(header.columns)
    for line_no, text in lines:
        raw = text.rstrip("\r")
        if not raw.strip():
            continue
        if raw.startswith("#"):
            yield InputError(Problem("a header line after the #CHROM line", file=name, row=line_no,
                                     code="structure"))
            continue
        cells = raw.split("\t")
        if len(cells) != ncols:
            yield InputError(Problem(f"{len(cells)} fields where the header has {ncols} (tab-separated)",
                                     file=name, row=line_no, code="structure"))
            continue
        rec = dict(zip(header.columns, cells, strict=True))
        problems: list[Problem] = []

        def problem(col: str, message: str, code: str = "value", line: int = line_no,
                    out: list[Problem] = problems) -> None:
            out.append(Problem(message, file=name, row=line, column=col, code=code))

        try:
            pos = int(rec["POS"])
            if pos < 1:
                raise ValueError
        except ValueError:
            problem("POS", f"POS '{rec['POS']}' is not a positive integer")
            pos = 0
        ref = rec["REF"]
        alts = rec["ALT"].split(",")
        if not ref or ref == ".":
            problem("REF", "REF is empty", code="required")
        if problems:
            yield InputError(problems)
            continue
        if rec["FILTER"] not in KEPT_FILTERS:
            filtered[rec["FILTER"]] = filtered.get(rec["FILTER"], 0) + 1
            continue
        info = _info(rec["INFO"])
        annotations = [dict(zip(scheme.fields, _annotation_values(entry), strict=False))
                       for entry in info.get(scheme.key, "").split(",") if entry]
        keys = _vep_allele(ref, alts) if scheme.key == "CSQ" else alts
        record_variants: list[tuple[int, SequenceVariant]] = []
        record_cnvs: list[tuple[int, CopyNumberChange]] = []
        for alt_index, (alt, key) in enumerate(zip(alts, keys, strict=True)):
            if alt in (".", "*"):
                continue
            if _is_structural(alt) and not alt.startswith("<"):
                found_bnd = _breakend(scheme, alt, len(alts), rec, info, pos, line_no, annotations,
                                      list(per_sample))
                if isinstance(found_bnd, str):
                    not_modelled.setdefault(found_bnd, []).append(line_no)
                else:
                    breakends.append(found_bnd)
                continue
            if _is_structural(alt):
                found = _structural(scheme, alt, rec, info, pos, annotations if len(alts) == 1 else [],
                                    header.assembly, SourceRef(file=name, row=line_no, column=column))
                if isinstance(found, str):
                    not_modelled.setdefault(found, []).append(line_no)
                else:
                    record_cnvs.extend((alt_index, c) for c in found)
                continue
            if "ALLELE_NUM" in scheme.fields:
                # VEP --allele_number: an exact link to the ALT, immune to allele trimming.
                matching = [a for a in annotations if a.get("ALLELE_NUM") == str(alt_index + 1)]
            else:
                matching = [a for a in annotations if a.get("Allele") == key]
            chosen = _choose(scheme, matching)
            if chosen is None:
                unannotated.append(line_no)
                continue
            if not (chosen.get("SYMBOL") or chosen.get("Gene") or chosen.get("Gene_Name")
                    or chosen.get("Gene_ID")):
                # Intergenic annotations name no gene: there is nothing to report as a gene variant.
                no_gene.append(line_no)
                continue
            variant = _variant(scheme, chosen, rec, pos, alt, header.assembly,
                               SourceRef(file=name, row=line_no, column=column), problem, column)
            if variant is not None:
                record_variants.append((alt_index, variant))
        if problems:
            yield InputError(problems)
            continue
        formats = rec.get("FORMAT", "").split(":") if header.samples else []
        values_of = {sample: dict(zip(formats, rec[sample].split(":"), strict=False))
                     if sample is not None else {} for sample in per_sample}
        # Each carrier gets its own copy of a variant (its depths are set on it), except the last
        # one, which takes the parsed variant itself: nothing reads it after that.
        carries = {(sample, alt_index): sample is None
                   or _carries(values_of[sample].get("GT"), alt_index + 1)
                   for sample in per_sample for alt_index, _ in record_variants}
        last_carrier = {alt_index: sample for (sample, alt_index), carried in carries.items() if carried}
        for sample in per_sample:
            values = values_of[sample]
            for alt_index, variant in record_variants:
                if not carries[(sample, alt_index)]:
                    continue
                v = variant if last_carrier[alt_index] == sample else variant.model_copy(deep=True)
                if sample is not None:
                    _depths(v, values, alt_index, len(alts), problem, sample)
                per_sample[sample].variants.append(v)
            for alt_index, cnv in record_cnvs:
                if sample is None or _carries(values.get("GT"), alt_index + 1):
                    per_sample[sample].copy_numbers.append(cnv)
        if problems:
            yield InputError(problems)
    comments: list[str] = list(header.notes)
    for flt, count in sorted(filtered.items()):
        comments.append(f"{count} VCF record(s) with FILTER '{flt}' skipped (only PASS and '.' are kept)")
    for lines_, what in ((unannotated, f"without an {scheme.key} annotation"),
                         (no_gene, "whose chosen annotation names no gene (intergenic)")):
        if lines_:
            comments.append(f"{len(lines_)} ALT allele(s) {what} skipped (line(s) {_shown(lines_)})")
    for reason, lines_ in not_modelled.items():
        comments.append(f"{len(lines_)} ALT allele(s) not converted (line(s) {_shown(lines_)}): {reason}")
    for result in pair(breakends, scheme.annotator, name, "ALT"):
        if result.fusion is not None:
            for sample in result.carriers:
                per_sample[sample].fusions.append(result.fusion.model_copy(
                    deep=True, update={"assembly": header.assembly}))
        else:
            comments.append(f"VCF breakend(s) at {PurePath(name).name} {lines_text(result.lines)} not "
                            f"converted to a fusion: {result.reason}")
    for sample, acc in per_sample.items():
        yield Sample(sample_id=sample, variants=acc.variants, copy_numbers=acc.copy_numbers,
                     fusions=acc.fusions,
                     comments=list(comments), source_files=[name],
                     source=SourceRef(file=name, row=header.line, column=sample))


# Symbolic ALTs that are copy-number changes; CN decides for <CNV> (2 is no change).
_COPY_NUMBER_ALTS = {"DEL": "deletion", "DUP": "gain", "CNV": None}


def _is_structural(alt: str) -> bool:
    """A symbolic ALT (<DEL>, <DUP:TANDEM>, ...) or a breakend (G]chr22:23290000], .A)."""
    return alt.startswith("<") or "[" in alt or "]" in alt or alt.startswith(".") or alt.endswith(".")


def _structural(scheme: _Scheme, alt: str, rec: dict[str, str], info: dict[str, str], pos: int,
                annotations: list[dict[str, str]], assembly: str | None,
                source: SourceRef) -> list[CopyNumberChange] | str:
    """Copy-number changes for <DEL> / <DUP> / <CNV> (one per annotated gene, or one for the
    region when no gene is named); otherwise the reason the ALT is not reported, with which the
    caller lists its line."""
    kind = alt[1:-1].split(":")[0]
    if kind not in _COPY_NUMBER_ALTS:
        return f"symbolic <{kind}>: only <DEL>, <DUP> and <CNV> are modelled"
    change = _COPY_NUMBER_ALTS[kind]
    copies: float | None = None
    if info.get("CN"):
        try:
            copies = float(info["CN"])
        except ValueError:
            return f"<{kind}> with a non-numeric INFO CN"
    if change is None:
        if copies is None or copies == 2:
            return "<CNV> without a copy number other than 2 (INFO CN)"
        change = "deletion" if copies == 0 else "loss" if copies < 2 else "gain"
    try:
        end = int(info["END"]) if info.get("END") else pos + abs(int(info["SVLEN"].split(",")[0]))
    except (KeyError, ValueError):
        return f"<{kind}> without a numeric END or SVLEN"
    gene_key = "SYMBOL" if scheme.key == "CSQ" else "Gene_Name"
    genes = list(dict.fromkeys(a[gene_key] for a in annotations if a.get(gene_key)))
    return [CopyNumberChange(change=change, chromosome=rec["CHROM"], gene=gene, copy_number=copies,
                             start=pos + 1, end=end, assembly=assembly, annotator=scheme.annotator,
                             source=source)
            for gene in (genes or [None])]


def _breakend(scheme: _Scheme, alt: str, n_alts: int, rec: dict[str, str], info: dict[str, str],
              pos: int, line_no: int, annotations: list[dict[str, str]],
              samples: list[str | None]) -> Breakend | str:
    """The breakend of a BND record, to be paired with its mate; or why it cannot be."""
    found = sides(alt)
    if found is None:
        return (f"breakend ALT '{alt}' names no mate position (a single breakend, VCF 4.3 "
                "section 5.4.9): no partner gene to join")
    if n_alts > 1:
        return "a breakend record with several ALT alleles: each junction needs its own record"
    mate_chrom, mate_pos, kept, mate_kept = found
    gene_key = "SYMBOL" if scheme.key == "CSQ" else "Gene_Name"
    # The record has one ALT, so every entry is about this breakend (VEP's Allele for a breakend
    # is not the ALT as written everywhere; it is not matched).
    chosen = _choose(scheme, annotations)
    gene = (chosen or {}).get(gene_key) or None
    formats = rec.get("FORMAT", "").split(":")
    carriers = frozenset(
        s for s in samples
        if s is None or _carries(dict(zip(formats, rec[s].split(":"), strict=False)).get("GT"), 1))
    record_id = rec["ID"] if rec["ID"] != "." else None
    return Breakend(line=line_no, chrom=rec["CHROM"], pos=pos, record_id=record_id,
                    mate_id=info.get("MATEID") or None, mate_chrom=mate_chrom, mate_pos=mate_pos,
                    kept=kept, mate_kept=mate_kept, gene=gene,
                    strand=strand_of(chosen.get("STRAND")) if chosen and scheme.key == "CSQ" else None,
                    annotated=chosen is not None, carriers=carriers)


def _shown(lines: list[int]) -> str:
    return ", ".join(str(n) for n in lines[:10]) + (" ..." if len(lines) > 10 else "")


def _choose(scheme: _Scheme, candidates: list[dict[str, str]]) -> dict[str, str] | None:
    if not candidates:
        return None
    if scheme.key != "CSQ":
        return candidates[0]  # SnpEff sorts its annotations, most severe first
    # Real VEP output puts lncRNA and clone-named genes (AC135721.2) first as often as not; only
    # a gene with an HGNC symbol can be reported, so such entries are considered first.
    declared = "HGNC_ID" in scheme.fields or "SYMBOL_SOURCE" in scheme.fields
    hgnc = [a for a in candidates if a.get("HGNC_ID") or a.get("SYMBOL_SOURCE") == "HGNC"]
    pool = hgnc if declared and hgnc else candidates
    for preferred in _CSQ_PREFERENCE:
        for a in pool:
            if preferred(a):
                return _with_transcript_hgvs(a, candidates)
    return _with_transcript_hgvs(pool[0], candidates)


# VEP's own pick (--pick / --flag_pick), then MANE Select, then Ensembl canonical, then a
# protein-coding transcript the variant lies in (it has a c.), then any protein-coding one.
_CSQ_PREFERENCE: tuple[Callable[[dict[str, str]], bool], ...] = (
    lambda a: a.get("PICK") == "1",
    lambda a: bool(a.get("MANE_SELECT") or a.get("MANE")),
    lambda a: a.get("CANONICAL") == "YES",
    lambda a: a.get("BIOTYPE") == "protein_coding" and bool(a.get("HGVSc")),
    lambda a: a.get("BIOTYPE") == "protein_coding",
    lambda a: bool(a.get("HGVSc")),
)


def _with_transcript_hgvs(chosen: dict[str, str], candidates: list[dict[str, str]]) -> dict[str, str]:
    """The chosen entry with every HGVS the file gives for its transcript, also from the other
    entries of the same transcript (and the variant-level HGVSg from any entry)."""
    merged = dict(chosen)
    for a in candidates:
        same = a.get("Feature") == chosen.get("Feature")
        for key in ("HGVSc", "HGVSp", "HGVSg"):
            if not merged.get(key) and a.get(key) and (same or key == "HGVSg"):
                merged[key] = a[key]
    return merged


def _variant(scheme: _Scheme, a: dict[str, str], rec: dict[str, str], pos: int, alt: str,
             assembly: str | None, source: SourceRef, problem: _Report,
             column: str) -> SequenceVariant | None:
    if scheme.key == "CSQ":
        gene = a.get("SYMBOL") or a.get("Gene") or ""
        transcript = a.get("Feature") or None
        hgvs_c = a.get("HGVSc") or None
        hgvs_p = a.get("HGVSp") or None
        hgvs_g = a.get("HGVSg") or None
        consequence = a.get("Consequence", "")
    else:
        gene = a.get("Gene_Name") or a.get("Gene_ID") or ""
        transcript = a.get("Feature_ID") or None
        c = a.get("HGVS.c") or ""
        # SnpEff writes a bare 'c.'/'n.'; qualify it with the transcript it was computed on.
        hgvs_c = (f"{transcript}:{c}" if transcript and ":" not in c else c) or None
        hgvs_p = a.get("HGVS.p") or None
        hgvs_g = None
        consequence = a.get("Annotation", "")
    ok = True
    for expr in (hgvs_c, hgvs_p, hgvs_g):
        if expr is not None:
            err = hgvs_error(expr)
            if err is not None:
                problem(column, f"invalid HGVS '{expr}' for ALT '{alt}': {err}")
                ok = False
    if not ok:
        return None
    return SequenceVariant(
        gene=gene, hgvs_c=hgvs_c, hgvs_p=hgvs_p, hgvs_g=hgvs_g, transcript=transcript,
        chromosome=rec["CHROM"], position=pos, ref=rec["REF"], alt=alt, assembly=assembly,
        consequences=[t for t in consequence.split("&") if t], origin="somatic",
        annotator=scheme.annotator, source=source,
    )


def _carries(gt: str | None, allele: int) -> bool:
    """False only when the genotype is known and has no copy of the allele."""
    if gt is None or gt in ("", "."):
        return True
    calls = [c for c in gt.replace("|", "/").split("/") if c != "."]  # phased or not
    if not calls:
        return False  # './.': no call for this sample
    return str(allele) in calls


def _depths(v: SequenceVariant, values: dict[str, str], alt_index: int, n_alts: int, problem: _Report,
            sample: str) -> None:
    def number(key: str, conv: type, n: int | None) -> list[Any] | None:
        raw = values.get(key)
        if raw is None or raw in ("", "."):
            return None
        parts = raw.split(",")
        try:
            out = [None if p == "." else conv(p) for p in parts]
        except ValueError:
            problem(f"{sample}/{key}", f"FORMAT {key} '{raw}' is not numeric")
            return None
        if n is not None and len(out) != n:
            problem(f"{sample}/{key}", f"FORMAT {key} '{raw}' has {len(out)} value(s), expected {n}")
            return None
        return out

    dp = number("DP", int, 1)
    ad = number("AD", int, n_alts + 1)
    af = number("AF", float, n_alts)
    v.read_depth = dp[0] if dp and dp[0] is not None and dp[0] >= 0 else None
    alt_depth = ad[alt_index + 1] if ad else None
    v.allele_depth = alt_depth if alt_depth is not None and alt_depth >= 0 else None
    if af and af[alt_index] is not None:
        if not 0.0 <= af[alt_index] <= 1.0:
            problem(f"{sample}/AF", f"FORMAT AF {af[alt_index]} is outside [0, 1]")
        else:
            v.allele_frequency = af[alt_index]
    elif v.allele_depth is not None:
        total = v.read_depth if v.read_depth else sum(x for x in (ad or []) if x is not None)
        if total and v.allele_depth <= total:
            v.allele_frequency = round(v.allele_depth / total, 4)
