"""Curated BCP-ALL knowledge, loaded once from mappings/ (CSV/TSV, each row with its source).

Answers: what is this classifier label, what is this gene, which codes describe a subtype, which
Sequence Ontology / LOINC answer code applies. Python holds no terminology code: everything comes
from the files, so adding a classifier is one adapter plus label rows.
"""

from __future__ import annotations

import csv
import re
import threading
from collections import namedtuple
from collections.abc import ItemsView, Iterator, Mapping, ValuesView
from dataclasses import dataclass, field
from datetime import date
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, TypeVar

from . import codes, fusion_karyotypes, table_cache
from .data_paths import data_dir
from .fusion_karyotypes import FusionKaryotype
from .model import CopyNumberChange, Finding, Fusion, Ploidy, SequenceVariant

V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class Coding:
    system: str
    code: str
    display: str | None = None

    def as_fhir(self) -> dict[str, str]:
        out = {"system": self.system, "code": self.code}
        if self.display:
            out["display"] = self.display
        return out


@dataclass(frozen=True, slots=True)
class SubtypeCode:
    coding: Coding
    exact: bool  # False: the code is broader than the subtype (e.g. B-ALL NOS)
    source: str


@dataclass(frozen=True, slots=True)
class Subtype:
    id: str
    display: str
    kind: str  # subtype | group | no-call
    group: str | None
    who_haem5: str | None
    icc_2022: str | None
    defining_fusions: tuple[str, ...]
    defining_genes: tuple[str, ...]
    defining_variants: tuple[str, ...]
    defining_cytogenetics: tuple[str, ...]
    definition: str | None
    source: str
    members: tuple[str, ...] = ()
    codes: tuple[SubtypeCode, ...] = ()

    @property
    def coding(self) -> Coding:
        """The subtype in our own CodeSystem (profiles/ publishes it)."""
        return Coding(codes.CS_SUBTYPE, self.id, self.display)


@dataclass(frozen=True, slots=True)
class Gene:
    symbol: str
    hgnc_id: str

    @property
    def coding(self) -> Coding:
        return Coding(codes.HGNC, self.hgnc_id, self.symbol)


@dataclass(frozen=True, slots=True)
class Agent:
    id: str
    name: str
    rxnorm: str | None
    ncit: str | None
    drug_class: str | None
    mechanism: str | None
    # approved | investigational | preclinical | drug-class (mappings/ACTIONABILITY.md)
    availability: str = "approved"

    @property
    def codings(self) -> tuple[Coding, ...]:
        """RxNorm ingredient where one exists, NCIt otherwise (investigational agents)."""
        out = []
        if self.rxnorm:
            out.append(Coding(codes.RXNORM, self.rxnorm, self.name))
        if self.ncit:
            out.append(Coding(codes.NCIT, self.ncit, self.name))
        return tuple(out)


@dataclass(frozen=True, slots=True)
class Trial:
    nct_id: str
    title: str
    phase: str | None
    conditions: str | None
    interventions: str | None
    targets: tuple[str, ...]
    status: str  # as the registry words it, lower case, or 'unknown'
    status_as_of: str | None
    status_source: str | None
    source: str | None
    diseases: tuple[str, ...] = ()  # controlled: B-ALL, T-ALL, ALL, AML, acute-leukemia, ...
    min_age: str | None = None  # as the registry words it ('1 Year'; 'N/A' = no limit)
    max_age: str | None = None
    line_of_therapy: str | None = None  # newly-diagnosed | relapsed-refractory | any


@dataclass(frozen=True, slots=True)
class Alteration:
    """A molecular target other than a subtype call, with the conditions a finding must meet."""

    id: str
    display: str
    kind: str  # fusion | rearrangement | mutation | phenotype
    genes: tuple[str, ...]
    gene_position: str | None  # fusions: 3prime | 5prime | either (where the target gene must sit)
    frame: str | None  # fusions: in-frame-or-unknown | any
    origins: tuple[str, ...]  # variants: accepted genomic origins (default: somatic only)
    consequences: tuple[str, ...]  # variants: accepted Sequence Ontology consequences
    context_subtypes: tuple[str, ...]  # a called subtype the rule needs (empty: any)
    pattern: str | None
    source: str


@dataclass(frozen=True, slots=True)
class Rule:
    """One actionability row: target (subtype or alteration) -> agent / trial -> implication."""

    id: str
    target_kind: str  # subtype | alteration
    target: str
    agent: str | None
    trial: str | None
    implication: str  # responsive | resistant | eligible-for-trial
    evidence_scale: str
    evidence_level: str
    citation: str
    as_of: str
    notes: str | None
    line_of_therapy: str = "any"  # any | newly-diagnosed | relapsed-refractory
    age_group: str = "any"
    co_finding: str | None = None  # a further finding the setting needs (e.g. ABL1 T315I)


@dataclass(frozen=True, slots=True)
class Confirmation:
    """What confirms a subtype (or group) call, and the follow-up test when nothing does."""

    target: str
    required: bool  # True: the target's rules wait for the confirming finding
    fusions: tuple[str, ...]  # exact fusions ('BCR::ABL1')
    genes: tuple[str, ...]  # a fusion involving one of these genes, either side
    findings: str | None  # 'defining' (the subtype's own definition) | 'chromosome-count'
    followup_test: str
    source: str


@dataclass(frozen=True, slots=True)
class EvidencePolicy:
    """What an evidence level allows: answer code, medication Task, report section, wording."""

    level: str
    answer: str  # display in the IG's GeneticTherapeuticImplicationsVS
    medication_task: str  # prescribable | obtainable | none
    section: str  # standard-of-care | investigational | preclinical
    wording: str
    source: str


@dataclass(frozen=True, slots=True)
class Outcome:
    """The review's Table 1 statement for a subtype: frequency and outcome, as printed."""

    subtype: str
    frequency_adult: str | None
    frequency_child: str | None
    outcome: str | None
    note: str | None
    source: str


@dataclass(frozen=True, slots=True)
class Entity:
    """A WHO-HAEM5 / ICC 2022 entity a subtype is signed out as, and the driver it needs."""

    subtype: str
    driver: str  # 'defining' | 'alteration:<id>' | 'none' (stands on the expression class)
    lineage: str | None  # Ph: lymphoid | multilineage (the ICC sub-entity), None = any
    who_haem5: str | None
    icc_2022: str | None
    source: str


@dataclass(frozen=True, slots=True)
class Pitfall:
    """An expression class and a driver that together need a person, not a rule."""

    expression_subtype: str
    driver_subtype: str
    flag: str
    source: str


@dataclass(slots=True)
class Knowledge:
    root: Path
    subtypes: dict[str, Subtype]
    labels: dict[tuple[str, str], dict[str, str]]  # (classifier, column) -> label -> subtype id
    genes: Mapping[str, Gene]  # approved symbol -> Gene (genes.tsv, read on first use)
    gene_synonyms: Mapping[str, str] = field(default_factory=dict)  # old/alias symbol -> approved
    so_terms: dict[str, Coding] = field(default_factory=dict)  # SO name -> coding
    loinc_answers: dict[tuple[str, str], Coding] = field(default_factory=dict)
    agents: dict[str, Agent] = field(default_factory=dict)
    trials: dict[str, Trial] = field(default_factory=dict)
    alterations: dict[str, Alteration] = field(default_factory=dict)
    rules: tuple[Rule, ...] = ()
    rules_by_target: dict[tuple[str, str], tuple[Rule, ...]] = field(default_factory=dict)
    confirmations: dict[str, Confirmation] = field(default_factory=dict)
    evidence_policy: dict[str, EvidencePolicy] = field(default_factory=dict)
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    entities: dict[str, tuple[Entity, ...]] = field(default_factory=dict)  # subtype -> rows, in order
    pitfalls: tuple[Pitfall, ...] = ()
    # the date the actionability rules were last reviewed: trial statuses are judged against it
    # unless a report date is given, so the same input always gives the same report
    as_of: date = date.min
    # casefolded approved/previous/alias symbol -> approved symbol, for tools that upper-case
    # every symbol (FusionCatcher writes C19ORF47 for C19orf47)
    folded_symbols: Mapping[str, str] = field(default_factory=dict)
    # every subtype's defining fusions ('BCR::ABL1', ...): asked per fusion on the hot path
    defining_fusions: frozenset[str] = frozenset()
    # gene pair -> the karyotype the rearrangement comes from (mappings/fusion_karyotypes.csv)
    fusion_karyotypes: dict[frozenset[str], FusionKaryotype] = field(default_factory=dict)
    # driver_defined() by subtype id, for the entities it was worked out from: it is asked per
    # finding and subtype on the hot path
    _driver_defined: tuple[object, dict[str, bool]] = field(
        default=(None, {}), init=False, repr=False, compare=False)
    # every protein change some subtype's defining variants have, for the subtypes it was worked
    # out from: a VCF's variant without one of them defines nothing, whatever the subtype
    _defining_changes: tuple[object, frozenset[str]] = field(
        default=(None, frozenset()), init=False, repr=False, compare=False)

    # -- labels ----------------------------------------------------------------------------------
    def resolve_label(self, classifier: str, column: str | None, label: str) -> Subtype | None:
        """The subtype a classifier label means, or None when the label is unknown."""
        if classifier == "generic":
            return self._generic_label(label)
        table = self.labels.get((classifier, column or ""))
        if table is None:
            # Adapters may give no column for single-column classifiers; accept a unique match.
            candidates = {
                sid for (c, _), t in self.labels.items() if c == classifier for lab, sid in t.items()
                if lab == label
            }
            return self.subtypes[candidates.pop()] if len(candidates) == 1 else None
        sid = table.get(label)
        return self.subtypes.get(sid) if sid else None

    def known_labels(self, classifier: str, column: str | None) -> list[str]:
        if classifier == "generic":
            return sorted(self.subtypes)
        return sorted(self.labels.get((classifier, column or ""), {}))

    def _generic_label(self, label: str) -> Subtype | None:
        # The generic JSON accepts our subtype ids or display names, case-insensitively.
        key = label.strip().casefold()
        for st in self.subtypes.values():
            if key in (st.id.casefold(), st.display.casefold()):
                return st
        return None

    # -- genes -----------------------------------------------------------------------------------
    def gene(self, symbol: str) -> Gene | None:
        """Approved HGNC gene for a symbol as tools write it (previous/alias symbols and the
        FusionCatcher locus form 'IGH@' accepted); None when unknown."""
        s = symbol.strip()
        if s.endswith("@"):  # FusionCatcher/ISCN locus notation, e.g. IGH@ = the IGH locus
            s = s[:-1]
        genes = self.genes
        hit = genes.get(s)
        if hit is None:
            synonyms = self.gene_synonyms
            if s in synonyms:
                hit = genes.get(synonyms[s])
        if hit is None:
            approved = self.folded_symbols.get(s.casefold())
            hit = genes.get(approved) if approved else None
        return hit

    def symbol(self, written: str) -> str:
        """The approved HGNC symbol for a symbol as a tool wrote it (unchanged when unknown)."""
        gene = self.gene(written)
        return gene.symbol if gene else written

    def fusion_name(self, f: Fusion) -> str:
        """'BCR::ABL1' with approved HGNC symbols (HGVS/ISCN 2020 fusion notation)."""
        return f"{self.symbol(f.gene5)}::{self.symbol(f.gene3)}"

    # -- which findings define a subtype -----------------------------------------------------------
    def defines(self, st: Subtype, finding: Finding) -> bool:
        """True when `finding` is one of the alterations that define `st` (or a member of group st)."""
        if st.kind != "group":  # asked per finding x subtype: no list and generator for one
            return self._defines_one(st, finding)
        return any(self._defines_one(self.subtypes[m], finding) for m in st.members)

    def may_define(self, finding: Finding) -> bool:
        """False when `finding` defines no subtype at all, known without asking each subtype: a
        sequence variant whose protein change no defining variant has (most of a VCF)."""
        if not isinstance(finding, SequenceVariant):
            return True
        subtypes, changes = self._defining_changes
        if subtypes is not self.subtypes:  # subtypes assigned since: start again
            changes = frozenset().union(*(_defining_variants(st.defining_variants)[1]
                                          for st in self.subtypes.values()))
            self._defining_changes = (self.subtypes, changes)
        return protein_change(finding.hgvs_p) in changes

    def _defines_one(self, st: Subtype, finding: Finding) -> bool:
        if isinstance(finding, Fusion):
            name = self.fusion_name(finding)
            if name in st.defining_fusions:
                return True
            genes = set(name.split("::"))
            # A gene-defined subtype (e.g. KMT2A-r with any partner) is defined by a fusion of that
            # gene, unless the exact fusion defines another subtype (BCR::ABL1 is Ph, not Ph-like;
            # it does not define `st`, checked above).
            return bool(genes & set(st.defining_genes)) and name not in self.defining_fusions
        if isinstance(finding, SequenceVariant):
            change = protein_change(finding.hgvs_p)
            if change is None:
                return False
            defining, changes = _defining_variants(st.defining_variants)
            # The gene look-up only for a change some defining variant has (a change has no ':',
            # so it is what follows the last ':' of the defining 'GENE:p.Xxx1Yyy' it matches).
            return change in changes and f"{self.symbol(finding.gene)}:{change}" in defining
        if isinstance(finding, Ploidy):
            return _ploidy_matches(st, finding)
        if isinstance(finding, CopyNumberChange):
            return bool(finding.iscn and "iAMP21" in finding.iscn and "iAMP21" in
                        st.defining_cytogenetics)
        return False

    def driver_defined(self, st: Subtype) -> bool:
        """A subtype whose entity needs its driver: it has entity rows and none stands on the
        expression class alone (Ph, KMT2A-r, ...; not Ph-like or the -like classes)."""
        entities, memo = self._driver_defined
        if entities is not self.entities:  # entities assigned since: start again
            memo = {}
            self._driver_defined = (self.entities, memo)
        known = memo.get(st.id)
        if known is None:
            rows = self.entities.get(st.id, ())
            known = memo[st.id] = bool(rows) and all(e.driver != "none" for e in rows)
        return known

    # -- other terminology -------------------------------------------------------------------------
    def so(self, name: str) -> Coding | None:
        return self.so_terms.get(name)

    def loinc_answer(self, answer_list: str, display: str) -> Coding:
        try:
            return self.loinc_answers[(answer_list, display.casefold())]
        except KeyError:
            raise KeyError(
                f"LOINC answer '{display}' of list {answer_list} missing from "
                f"{self.root / 'loinc_answers.csv'}"
            ) from None


_PCHANGE = re.compile(r"p\.\(?([A-Za-z]{3}\d+[A-Za-z]{3})\)?")


@lru_cache(maxsize=4096)  # asked once per subtype for the same variant (a VCF's thousands)
def protein_change(hgvs_p: str | None) -> str | None:
    """'p.Pro80Arg' from 'NP_...:p.(Pro80Arg)' (three-letter substitutions only), else None."""
    if not hgvs_p:
        return None
    m = _PCHANGE.search(hgvs_p)
    return f"p.{m.group(1)}" if m else None


@cache
def _defining_variants(written: tuple[str, ...]) -> tuple[frozenset[str], frozenset[str]]:
    """A subtype's defining variants normalised ('PAX5:p.Pro80Arg'), and their protein changes:
    asked for every variant of a VCF against every subtype, so worked out once per tuple."""
    defining = frozenset(_normalise_variant(v) for v in written)
    return defining, frozenset(v.rpartition(":")[2] for v in defining)


def _normalise_variant(defining: str) -> str:
    gene, _, change = defining.partition(":")
    return f"{gene}:{protein_change(change) or change}"


def _ploidy_matches(st: Subtype, p: Ploidy) -> bool:
    for rule in st.defining_cytogenetics:
        if rule == "iAMP21" and (p.iamp21 or p.karyotype_class == "iamp21"):
            return True
        if rule.startswith("karyotype:") and p.karyotype_class == rule.split(":", 1)[1]:
            return True
        if rule.startswith("chromosome_count:") and p.chromosome_count is not None:
            low, _, high = rule.split(":", 1)[1].partition("-")
            if int(low) <= p.chromosome_count <= int(high or low):
                return True
    return False


def mappings_dir() -> Path:
    """$ALLFHIR_MAPPINGS, the copy a wheel ships, or mappings/ of the source tree."""
    return data_dir("ALLFHIR_MAPPINGS", "mappings", "mappings")


def _split(value: object, sep: str = ";") -> tuple[str, ...]:
    if not isinstance(value, str) or not value.strip():
        return ()
    return tuple(p.strip() for p in value.split(sep) if p.strip())


def _opt(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def read_table(path: Path, sep: str = ",") -> tuple[list[str], list[list[str]]]:
    """Header and rows of a mappings file, every cell as text: codes such as '9811/3' or 'C91.00'
    never become numbers, an empty cell is '', blank lines are skipped and short rows are padded
    with ''."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh, delimiter=sep)
        header = next(reader, [])
        width = len(header)
        rows = []
        for row in reader:
            if not row:
                continue
            if len(row) < width:
                row += [""] * (width - len(row))
            rows.append(row)
    return header, rows


def read_records(path: Path, sep: str = ",") -> list[dict[str, str]]:
    """A mappings file as one dict per row (column -> text), in file order."""
    header, rows = read_table(path, sep)
    return [dict(zip(header, row, strict=False)) for row in rows]


def numbered_records(path: Path, sep: str = ",") -> list[tuple[int, dict[str, str]]]:
    """`read_records` with each row's line in the file (the header is line 1), for messages."""
    return list(enumerate(read_records(path, sep), start=2))


def _csv(path: Path, sep: str = ",") -> list[Any]:
    # One named tuple per row (attribute = column), as text.
    header, rows = read_table(path, sep)
    row_type = namedtuple("Row", header, rename=True)  # type: ignore[misc]
    width = len(header)
    return [row_type._make(row[:width]) for row in rows]


class _GeneTables:
    """genes.tsv (43k rows), read on the first gene look-up, once, whichever thread asks; each
    derived table (synonyms, casefolded symbols) is built when it is first needed, or read from
    table_cache when an earlier process built it from the same file with this module."""

    __slots__ = ("_built", "_digest", "_lock", "_path", "_rows")

    def __init__(self, path: Path) -> None:
        self._path = path
        self._digest: str | None = None
        self._rows: list[tuple[str, ...]] | None = None
        self._built: list[dict[str, Any] | None] = [None, None, None]
        self._lock = threading.Lock()

    def get(self, index: int) -> dict[str, Any]:
        """0: approved symbol -> Gene; 1: previous/alias symbol -> approved; 2: casefolded
        approved/previous/alias symbol -> approved."""
        table = self._built[index]
        if table is None:
            with self._lock:
                table = self._built[index]
                if table is None:
                    table = self._built[index] = self._build(index)
        return table

    def _build(self, index: int) -> dict[str, Any]:  # under the lock
        if self._digest is None:
            self._digest = table_cache.digest(self._path, Path(__file__))
        return table_cache.cached(self._digest, f"genes{index}", lambda: self._derive(index))

    def _derive(self, index: int) -> dict[str, Any]:
        if self._rows is None:
            self._rows = _gene_rows(self._path)
        rows = self._rows
        if index == 0:
            # symbol -> HGNC id, strings only: see GeneTable
            return {symbol: hgnc_id for symbol, hgnc_id, _, _ in rows}
        if index == 1:
            synonyms: dict[str, str] = {}
            for symbol, _, prev, alias in rows:
                if prev or alias:
                    for other in (*_split(prev, "|"), *_split(alias, "|")):
                        # An alias that is another gene's approved symbol must not shadow it.
                        synonyms.setdefault(other, symbol)
            return synonyms
        genes = self._built[0] or self._build(0)
        synonyms = self._built[1] or self._build(1)
        self._built[0], self._built[1] = genes, synonyms
        folded: dict[str, str] = {}
        for other, approved in [*((g, g) for g in genes), *synonyms.items()]:
            folded.setdefault(other.casefold(), approved)  # approved symbols first: they win
        self._rows = None  # every table is built now
        return folded


class LazyTable(Mapping[str, V]):
    """A read-only mapping built from genes.tsv on its first use (`Knowledge.genes`,
    `gene_synonyms`, `folded_symbols`): converting a subtype call never reads the gene table."""

    __slots__ = ("_data", "_index", "_source")

    def __init__(self, source: _GeneTables, index: int) -> None:
        self._source = source
        self._index = index
        self._data: dict[str, V] | None = None

    def _table(self) -> dict[str, V]:
        data = self._data
        if data is None:
            data = self._data = self._source.get(self._index)
        return data  # type: ignore[return-value]

    def __getitem__(self, key: str) -> V:
        return self._table()[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self._table().get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self._table()

    def __iter__(self) -> Iterator[str]:
        return iter(self._table())

    def __len__(self) -> int:
        return len(self._table())

    def keys(self) -> Any:
        return self._table().keys()

    def items(self) -> Any:
        return self._table().items()

    def values(self) -> Any:
        return self._table().values()

    def __eq__(self, other: object) -> bool:
        return self._table() == (other._table() if isinstance(other, LazyTable) else other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(self._table())


class GeneTable(LazyTable[Gene]):
    """`Knowledge.genes`: approved symbol -> Gene, held as symbol -> HGNC id and each Gene made
    when it is asked for. 43k Gene objects kept for the life of the process would be walked by
    every full collection of the cyclic garbage collector, which a large VCF (a bundle of
    thousands of resources growing) triggers again and again: that was half of its CPU time. A
    dict of strings is not tracked by the collector."""

    __slots__ = ()

    def __init__(self, source: _GeneTables) -> None:
        super().__init__(source, 0)

    def __getitem__(self, key: str) -> Gene:
        return Gene(key, self._table()[key])  # type: ignore[arg-type]

    def get(self, key: str, default: Any = None) -> Any:
        hgnc_id = self._table().get(key)
        return default if hgnc_id is None else Gene(key, hgnc_id)  # type: ignore[arg-type]

    def items(self) -> Any:
        return ItemsView(self)

    def values(self) -> Any:
        return ValuesView(self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Mapping) and dict(self.items()) == dict(other.items())

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(dict(self.items()))


def _gene_rows(path: Path) -> list[tuple[str, ...]]:
    """(symbol, hgnc_id, previous symbols, alias symbols) of every genes.tsv row (tuples, which the
    garbage collector stops tracking; they are kept until every gene table is built)."""
    text = path.read_text(encoding="utf-8-sig")
    lines = text.split("\n")
    header = lines[0].split("\t")
    if '"' not in text and "\r" not in text and header[:4] == _GENE_COLUMNS:
        # No quoting and no carriage return: each line is one record and its cells are what the
        # csv module would give; the long source column is never split off.
        rows = []
        for line in lines[1:]:
            if line:
                row = line.split("\t", 4)
                if len(row) < 4:
                    row += [""] * (4 - len(row))
                rows.append(tuple(row[:4]))
        return rows
    header, table = read_table(path, sep="\t")
    cols = [header.index(name) for name in _GENE_COLUMNS]
    return [tuple(row[i] for i in cols) for row in table]


_GENE_COLUMNS = ["symbol", "hgnc_id", "previous_symbols", "alias_symbols"]


def load(root: Path | None = None) -> Knowledge:
    root = root or mappings_dir()
    codes_by_subtype: dict[str, list[SubtypeCode]] = {}
    for r in _csv(root / "subtype_codes.csv"):
        system = codes.TERMINOLOGY_SYSTEMS[r.system]
        codes_by_subtype.setdefault(r.subtype_id, []).append(
            SubtypeCode(Coding(system, r.code, _opt(r.display)), r.note == "exact", r.source)
        )
    members: dict[str, list[str]] = {}
    groups_path = root / "subtype_groups.csv"
    if groups_path.exists():
        for r in _csv(groups_path):
            members.setdefault(r.group_id, []).append(r.member_subtype_id)
    subtypes: dict[str, Subtype] = {}
    for r in _csv(root / "subtypes.csv"):
        subtypes[r.subtype_id] = Subtype(
            id=r.subtype_id,
            display=r.display,
            kind=r.kind,
            group=_opt(r.group),
            who_haem5=_opt(r.who_haem5),
            icc_2022=_opt(r.icc_2022),
            defining_fusions=_split(r.defining_fusions),
            defining_genes=_split(r.defining_genes),
            defining_variants=_split(r.defining_variants),
            defining_cytogenetics=_split(r.defining_cytogenetics),
            definition=_opt(r.definition),
            source=r.source,
            members=tuple(members.get(r.subtype_id, ())),
            codes=tuple(codes_by_subtype.get(r.subtype_id, ())),
        )
    labels: dict[tuple[str, str], dict[str, str]] = {}
    for r in _csv(root / "classifier_labels.csv"):
        labels.setdefault((r.classifier, r.column), {})[r.label] = r.subtype_id
    gene_tables = _GeneTables(root / "genes.tsv")
    genes = GeneTable(gene_tables)
    synonyms: LazyTable[str] = LazyTable(gene_tables, 1)
    so_terms = {
        r.name: Coding(codes.SEQUENCE_ONTOLOGY, r.so_id, r.name)
        for r in _csv(root / "sequence_ontology.csv")
    }
    answers = {
        (r.answer_list, r.display.casefold()): Coding(codes.LOINC, r.loinc_code, r.display)
        for r in _csv(root / "loinc_answers.csv")
    }
    kb = Knowledge(root, subtypes, labels, genes, synonyms, so_terms, answers,
                   folded_symbols=LazyTable(gene_tables, 2),
                   defining_fusions=frozenset(f for st in subtypes.values() for f in st.defining_fusions))
    _load_actionability(kb)
    kb.fusion_karyotypes = fusion_karyotypes.load(root)
    return kb


def _load_actionability(kb: Knowledge) -> None:
    root = kb.root
    for r in _csv(root / "agents.csv"):
        kb.agents[r.agent_id] = Agent(r.agent_id, r.name, _opt(r.rxnorm), _opt(r.ncit),
                                      _opt(r.drug_class), _opt(r.mechanism), r.availability)
    for r in _csv(root / "trials.csv"):
        kb.trials[r.nct_id] = Trial(r.nct_id, r.title, _opt(r.phase), _opt(r.conditions),
                                    _opt(r.interventions), _split(r.targets),
                                    (_opt(r.status) or "unknown").casefold(), _opt(r.status_as_of),
                                    _opt(r.status_source), _opt(r.source), _split(r.diseases),
                                    _opt(r.min_age), _opt(r.max_age), _opt(r.line_of_therapy))
    for r in _csv(root / "alterations.csv"):
        kb.alterations[r.alteration_id] = Alteration(
            r.alteration_id, r.display, r.kind, _split(r.genes), _opt(r.gene_position),
            _opt(r.frame), _split(r.origins) or ("somatic",), _split(r.consequences),
            _split(r.context_subtypes), _opt(r.pattern), r.source)
    kb.rules = tuple(
        Rule(r.rule_id, r.target_kind, r.target, _opt(r.agent_id), _opt(r.trial), r.implication,
             r.evidence_scale, r.evidence_level, r.citation, r.as_of, _opt(r.notes),
             _opt(r.line_of_therapy) or "any", _opt(r.age_group) or "any", _opt(r.co_finding))
        for r in _csv(root / "actionability.csv")
    )
    by_target: dict[tuple[str, str], list[Rule]] = {}
    for rule in kb.rules:
        by_target.setdefault((rule.target_kind, rule.target), []).append(rule)
    kb.rules_by_target = {k: tuple(v) for k, v in by_target.items()}
    kb.as_of = max((date.fromisoformat(r.as_of) for r in kb.rules), default=date.min)
    for r in _csv(root / "confirmations.csv"):
        kb.confirmations[r.target] = Confirmation(
            r.target, r.required == "yes", _split(r.confirming_fusions), _split(r.confirming_genes),
            _opt(r.confirming_findings), r.followup_test, r.source)
    for r in _csv(root / "evidence_policy.csv"):
        kb.evidence_policy[r.evidence_level] = EvidencePolicy(
            r.evidence_level, r.answer, r.medication_task, r.section, r.wording, r.source)
    entities: dict[str, list[Entity]] = {}
    for r in _csv(root / "entities.csv"):
        entities.setdefault(r.subtype_id, []).append(Entity(
            r.subtype_id, r.driver, _opt(r.lineage), _opt(r.who_haem5), _opt(r.icc_2022), r.source))
    kb.entities = {k: tuple(v) for k, v in entities.items()}
    kb.pitfalls = tuple(Pitfall(r.expression_subtype, r.driver_subtype, r.flag, r.source)
                        for r in _csv(root / "pitfalls.csv"))
    for r in _csv(root / "outcomes.csv"):
        kb.outcomes[r.subtype_id] = Outcome(r.subtype_id, _opt(r.frequency_adult),
                                            _opt(r.frequency_child), _opt(r.outcome), _opt(r.note),
                                            r.source)


@cache
def default() -> Knowledge:
    """The process-wide knowledge base (mappings are read once)."""
    return load()
