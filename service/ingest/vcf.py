"""Annotated VCF 4.x (Ensembl VEP `CSQ` or SnpEff `ANN` INFO field): small sequence variants.

Layout: '##' meta lines, the '#CHROM POS ID REF ALT QUAL FILTER INFO [FORMAT sample...]' header,
then one tab-separated record per line. Plain text or gzip ('.vcf.gz', detected by its magic bytes),
read line by line: memory does not grow with the file (only with the variants kept).

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
indels and writes '-' for an empty allele); then VEP: the one with CANONICAL=YES, else PICK=1, else
the first; SnpEff: the first (SnpEff sorts by impact; with -canon only canonical ones are written).

Samples: one Sample per sample column (sample_id = column name); a variant goes to a sample unless
its GT is known and carries no copy of that ALT ('0/0', './.'). Without sample columns one Sample
with sample_id None holds every variant. Per-sample values come from FORMAT: DP (read_depth), AD
(allele_depth = the ALT's count), AF (allele_frequency; else AD alt / DP, else AD alt / sum(AD)).
FILTER: only PASS and '.' records are kept; the others are counted in each Sample's comments (as
are records without an annotation for the ALT), so nothing is dropped silently.
Every HGVS string is checked with the biocommons hgvs parser (syntax only, offline).
"""

from __future__ import annotations

import gzip
import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from ..errors import InputError, Problem
from ..hgvs_syntax import hgvs_error
from ..model import Sample, SequenceVariant, SourceRef
from ._tabular import _not_utf8

NAME = "vcf"
KIND = "companion"
DESCRIPTION = "Annotated VCF 4.x (Ensembl VEP CSQ or SnpEff ANN): small variants with HGVS, per sample"

FIXED = ("CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO")
KEPT_FILTERS = frozenset({"PASS", "."})

_INFO_RE = re.compile(r"^##INFO=<ID=([^,>]+),(.*)>\s*$")
_DESC_RE = re.compile(r'Description="(.*)"')
_ASSEMBLY_KEYS = ("reference", "assembly", "VEP", "SnpEffCmd", "contig")
_GRCH38 = re.compile(r"GRCh38|hg38|\bb38\b|GCA_000001405\.15", re.IGNORECASE)
_GRCH37 = re.compile(r"GRCh37|hg19|\bb37\b|hs37d5|human_g1k_v37|GCA_000001405\.1\b", re.IGNORECASE)
_GT_SPLIT = re.compile(r"[/|]")

# Records a row-level problem: (column, message, code) for the current record.
_Report = Callable[..., None]


def sniff(path: Path, head: str) -> bool:
    if head.lstrip("\ufeff").startswith("##fileformat=VCF"):
        return True
    # A gzip-compressed VCF: the head is binary, so look at the name and the gzip magic.
    if path.name.lower().endswith((".vcf.gz", ".vcf.bgz")):
        try:
            with gzip.open(path, "rb") as fh:
                return fh.read(16).startswith(b"##fileformat=VCF")
        except (OSError, EOFError, zlib.error):
            return False
    return False


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


@dataclass(slots=True)
class _SampleAcc:
    variants: list[SequenceVariant] = field(default_factory=list)


_BOM = b"\xef\xbb\xbf"


class _Lines:
    """The file's text lines, read as they are needed (a VCF can be gigabytes; memory stays flat).

    Plain or gzip. Lines are numbered as str.splitlines() of the whole text numbers them, and the
    problems are those of decoding the whole file at once (_tabular.decode_text): empty (only white
    space), not UTF-8 (with the same line and offset), not a readable gzip file.
    """

    def __init__(self, path: Path) -> None:
        self.name = str(path)
        with path.open("rb") as probe:
            gz = probe.read(2) == b"\x1f\x8b"
        self._fh: Any = gzip.open(path, "rb") if gz else path.open("rb")
        self._physical = 0  # \n-terminated lines read
        self._offset = 0  # bytes read before the current physical line
        self._tail = b""  # the last bytes before it (see _bad_byte)
        self._bom = False
        self.blank = True  # only white space so far
        self.number = 0  # splitlines() number of the last line given out
        self._pending: list[str] = []

    def close(self) -> None:
        self._fh.close()

    def _read(self) -> bytes:
        try:
            return self._fh.readline()
        except (OSError, EOFError, zlib.error) as exc:
            # gzip.decompress (the whole-file read) says "CRC check failed" without the values.
            why = "CRC check failed" if str(exc).startswith("CRC check failed") else str(exc)
            raise InputError(Problem(f"not a readable gzip file ({why})", file=self.name,
                                     code="invalid")) from None

    def _bad_byte(self, raw: bytes, start: int) -> InputError:
        # The whole-file decode named the byte at the BOM-less index into the data (its 'utf-8-sig'
        # positions start after a BOM), and the line of that byte: kept, so the message is unchanged.
        index = self._offset + start - (3 if self._bom else 0)
        if index >= self._offset:
            return _not_utf8(self.name, self._physical, raw[index - self._offset], index)
        window = self._tail[len(self._tail) - (self._offset - index):]
        return _not_utf8(self.name, self._physical - window.count(b"\n"), window[0], index)

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        while not self._pending:
            raw = self._read()
            if not raw:
                raise StopIteration
            self._physical += 1
            body, skip = raw, 0
            if self._physical == 1 and raw.startswith(_BOM):
                self._bom, body, skip = True, raw[3:], 3
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise self._bad_byte(raw, skip + exc.start) from None
            if self.blank and raw.strip():
                self.blank = False
            self._tail = (self._tail + raw)[-3:]
            self._offset += len(raw)
            self._pending = text.splitlines()[::-1]
        self.number += 1
        return self._pending.pop()

    def fail(self, problem: Problem) -> InputError:
        """`problem` (a header problem), unless the whole-file decode would have stopped first:
        an empty file, or a bad byte further on."""
        for _ in self:
            pass
        if self.blank:
            return InputError(Problem("the file is empty", file=self.name, code="required"))
        return InputError(problem)


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


def _parse_header(lines: _Lines, name: str) -> _Header:
    meta: dict[str, list[str]] = {}
    infos: dict[str, tuple[str, int]] = {}
    first: str | None = None
    line: str | None = None
    for line in lines:
        if first is None:
            first = line
        if not line.startswith("##"):
            break
        m = _INFO_RE.match(line)
        if m:
            desc = _DESC_RE.search(m.group(2))
            infos[m.group(1)] = (desc.group(1) if desc else "", lines.number)
        key, _, value = line[2:].partition("=")
        meta.setdefault(key, []).append(value)
    else:
        line = None  # the file ended within the meta lines
    if first is None or not first.startswith("##fileformat=VCF"):
        raise lines.fail(Problem("not a VCF: the first line must be '##fileformat=VCFv4.x'",
                                 file=name, row=1, code="structure"))
    if line is None or not line.startswith("#CHROM"):
        raise lines.fail(Problem("missing the '#CHROM POS ID REF ALT QUAL FILTER INFO' header line",
                                 file=name, row=lines.number + (1 if line is None else 0),
                                 code="structure"))
    columns = line[1:].rstrip("\r").split("\t")
    header_line = lines.number
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
                   line=header_line)


def read(path: Path) -> Iterator[Sample | InputError]:
    name = str(path)
    lines = _Lines(path)
    try:
        header = _parse_header(lines, name)
    except BaseException:
        lines.close()
        raise
    return _records(lines, header, name)


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


def _records(lines: _Lines, header: _Header, name: str) -> Iterator[Sample | InputError]:
    try:
        yield from _record_stream(lines, header, name)
    finally:
        lines.close()


def _record_stream(lines: _Lines, header: _Header, name: str) -> Iterator[Sample | InputError]:
    scheme = header.scheme
    column = f"INFO/{scheme.key}"
    per_sample: dict[str | None, _SampleAcc] = (
        {s: _SampleAcc() for s in header.samples} or {None: _SampleAcc()})
    filtered: dict[str, int] = {}
    unannotated: list[int] = []
    no_gene: list[int] = []
    ncols = len(header.columns)
    for text in lines:
        line_no = lines.number
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
        annotations = [
            dict(zip(scheme.fields, ((unquote(v) if "%" in v else v).strip() for v in entry.split("|")),
                     strict=False))
            for entry in info.get(scheme.key, "").split(",") if entry
        ]
        keys = _vep_allele(ref, alts) if scheme.key == "CSQ" else alts
        record_variants: list[tuple[int, SequenceVariant]] = []
        for alt_index, (alt, key) in enumerate(zip(alts, keys, strict=True)):
            if alt in (".", "*"):
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
        carriers: list[tuple[str | None, dict[str, str], int, SequenceVariant]] = []
        for sample in per_sample:
            values = dict(zip(formats, rec[sample].split(":"), strict=False)) if sample is not None else {}
            for alt_index, variant in record_variants:
                if sample is not None and not _carries(values.get("GT"), alt_index + 1):
                    continue
                carriers.append((sample, values, alt_index, variant))
        last_use = {id(variant): i for i, (_s, _v, _a, variant) in enumerate(carriers)}
        for i, (sample, values, alt_index, variant) in enumerate(carriers):
            # Each sample gets its own copy (depths differ); the last sample to carry a variant
            # takes the parsed one itself, so a variant of one sample is not copied at all.
            v = variant if last_use[id(variant)] == i else variant.model_copy(deep=True)
            if sample is not None:
                _depths(v, values, alt_index, len(alts), problem, sample)
            per_sample[sample].variants.append(v)
        if problems:
            yield InputError(problems)
    comments: list[str] = []
    for flt, count in sorted(filtered.items()):
        comments.append(f"{count} VCF record(s) with FILTER '{flt}' skipped (only PASS and '.' are kept)")
    for lines_, what in ((unannotated, f"without an {scheme.key} annotation"),
                         (no_gene, "whose chosen annotation names no gene (intergenic)")):
        if lines_:
            shown = ", ".join(str(n) for n in lines_[:10]) + (" ..." if len(lines_) > 10 else "")
            comments.append(f"{len(lines_)} ALT allele(s) {what} skipped (line(s) {shown})")
    for sample, acc in per_sample.items():
        yield Sample(sample_id=sample, variants=acc.variants, comments=list(comments), source_files=[name],
                     source=SourceRef(file=name, row=header.line, column=sample))


def _choose(scheme: _Scheme, candidates: list[dict[str, str]]) -> dict[str, str] | None:
    if not candidates:
        return None
    if scheme.key == "CSQ":
        for a in candidates:
            if a.get("CANONICAL") == "YES":
                return a
        for a in candidates:
            if a.get("PICK") == "1":
                return a
    return candidates[0]


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
    calls = [c for c in _GT_SPLIT.split(gt) if c != "."]
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
