"""MD-ALL (gu-lab20/MD-ALL, R package MDALL 2.0): the per-sample summary tables.

The Shiny app writes them with `write.table(..., col.names=T, row.names=F, quote=F, na="",
sep="\t")` (R/shinyApp_server.R): tab, unquoted, missing values empty. Three layouts are accepted,
all keyed by `sample_id` and read by column name:
- the full `df_sums` frame of `get_subtype_final()` (R/GEP.R): final call in
  `subtype_final_possible` (`subtype_final` before 2023-06), `confidence` (High|Low), `stage`,
  GEP calls `subtype_svm` / `subtype_phenograph` with `score_*` run shares and `*_label` details,
  `RNAseqCNV_ChromN`, fusions `fusion_fc` / `fusion_c`, hotspot mutations `Mutation_BALL`;
- `out_multiple_sum.tsv` (the same without scores, confidence and stage);
- `out_countMatrix_sum.tsv` (expression only: no final call; the two GEP calls are reported).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..errors import InputError, Problem
from ..model import ClassifierRun, Fusion, Ploidy, Sample, SourceRef, SubtypeCall
from ._tabular import Row, first_line, parse_int, parse_probability, read_sample_id, read_table
from .source import Source

NAME = "mdall"
KIND = "classifier"
DESCRIPTION = "MD-ALL summary table (out_multiple_sum.tsv, out_countMatrix_sum.tsv or df_sums)"

CLASSIFIER_ID = "md-all"
FINAL_COLUMNS = ("subtype_final_possible", "subtype_final")
# Crosswalk column of the final call: both spellings hold the same vocabulary.
FINAL_LABEL_COLUMN = "subtype_final"
GEP_COLUMNS = ("subtype_svm", "subtype_phenograph")
GEP_SCORES = {"subtype_svm": "score_svm", "subtype_phenograph": "score_phenograph"}
GEP_METHODS = {"subtype_svm": "SVM", "subtype_phenograph": "PhenoGraph"}
# A GEP method's label is its most frequent label over the runs when that share is > 0.5, else
# 'Unclassified' (gu-lab20/MD-ALL@b9cda0b R/GEP.R get_pred_result: `ifelse(percentage>0.5, pred,
# "Unclassified")`): one cut-off for every label.
GEP_THRESHOLD = 0.5
# `label,count(share)` entries joined by '|', e.g. "PAX5alt,6(0.55)|PAX5 P80R,5(0.45)".
_LABEL_ENTRY = re.compile(r"^(?P<label>.+),(?P<count>\d+)\((?P<share>[0-9.]+)\)$")
# `GENE1::GENE2(a;b)` joined by ',' (fusion_fc: spanning pairs; spanning unique reads).
_FUSION = re.compile(r"(?P<g5>[^,:()]+)::(?P<g3>[^,:()]+)\((?P<a>\d+);(?P<b>\d+)\)")


def _header(head: str) -> list[str]:
    line = first_line(head)
    return [c.strip() for c in line.split("\t")]


def sniff(source: Source, head: str) -> bool:
    cells = _header(head)
    return "sample_id" in cells and any(c in cells for c in (*FINAL_COLUMNS, *GEP_COLUMNS))


def read(source: Source) -> Iterator[Sample | InputError]:
    name = source.name
    header, rows = read_table(source, "\t", ["sample_id"], min_columns=2)
    final = next((c for c in FINAL_COLUMNS if c in header), None)
    gep = [c for c in GEP_COLUMNS if c in header]
    if final is None and not gep:
        raise InputError(Problem(
            "missing required column(s): subtype_final_possible (or subtype_final, subtype_svm, "
            "subtype_phenograph)", file=name, row=1, code="required"))
    classifier = ClassifierRun(classifier_id=CLASSIFIER_ID, name="MD-ALL", source=SourceRef(file=name))
    return _samples(rows, name, set(header), final, gep, classifier)


def _samples(rows: Iterator[Row], name: str, header: set[str], final: str | None, gep: list[str],
             classifier: ClassifierRun) -> Iterator[Sample | InputError]:
    seen: dict[str, int] = {}
    for row in rows:
        problems: list[Problem] = []
        sample_id = read_sample_id(row, "sample_id", seen, problems)
        gep_scores: dict[str, float | None] = {}
        for column in gep:
            score_column = GEP_SCORES[column]
            if score_column in header and row.cells[score_column].strip():
                try:
                    gep_scores[column] = parse_probability(row, score_column)
                except InputError as exc:
                    problems.extend(exc.problems)
        scores = _gep_shares(row, gep, problems)
        calls: list[SubtypeCall] = []
        if final is not None:
            label = row.cells[final].strip()
            if not label:
                problems.append(row.problem(final, "empty subtype call", code="required"))
            confidence = row.cells.get("confidence", "").strip() or None
            calls.append(SubtypeCall(label=label or "?", label_column=FINAL_LABEL_COLUMN,
                                     confidence=confidence, source=row.ref(final)))
        else:
            # Expression-only table: MD-ALL made no final call, so each GEP method's call is kept.
            for column in gep:
                label = row.cells[column].strip()
                if not label:
                    problems.append(row.problem(column, "empty subtype call", code="required"))
                # out_countMatrix_sum.tsv has no score_* column: the run share of the called
                # label is in the `<column>_label` detail (absent for 'Unclassified').
                share = gep_scores.get(column)
                calls.append(SubtypeCall(label=label or "?", label_column=column,
                                         probability=share if share is not None
                                         else scores.get(f"{column}:{label}"),
                                         score_type="run-share", threshold=GEP_THRESHOLD,
                                         method=GEP_METHODS[column],
                                         source=row.ref(column)))
        chrom_n: int | None = None
        if "RNAseqCNV_ChromN" in header:
            try:
                chrom_n = parse_int(row, "RNAseqCNV_ChromN")
            except InputError as exc:
                problems.extend(exc.problems)
        fusions = _fusions(row, problems)
        if problems:
            yield InputError(problems)
            continue
        yield Sample(
            sample_id=sample_id,
            classifier=classifier,
            calls=calls,
            scores=scores,
            fusions=fusions,
            ploidy=None if chrom_n is None else Ploidy(
                chromosome_count=chrom_n, source=row.ref("RNAseqCNV_ChromN")),
            comments=_comments(row),
            source_files=[name],
            source=row.ref("sample_id"),
        )


def _gep_shares(row: Row, gep: list[str], problems: list[Problem]) -> dict[str, float]:
    """Every label's run share per GEP method, keyed '<column>:<label>'."""
    out: dict[str, float] = {}
    for column in gep:
        detail = f"{column}_label"
        raw = row.cells.get(detail, "").strip()
        if not raw:
            continue
        for entry in raw.split("|"):
            match = _LABEL_ENTRY.match(entry.strip())
            if match is None or float(match["share"]) > 1.0:
                problems.append(row.problem(detail, f"'{entry}' is not 'label,count(share)'"))
                continue
            out[f"{column}:{match['label']}"] = float(match["share"])
    return out


def _fusions(row: Row, problems: list[Problem]) -> list[Fusion]:
    """Fusions MD-ALL kept from FusionCatcher (`fusion_fc`) and CICERO (`fusion_c`), merged by pair."""
    found: dict[tuple[str, str], Fusion] = {}
    for column, caller in (("fusion_fc", "FusionCatcher"), ("fusion_c", "CICERO")):
        raw = row.cells.get(column, "").strip()
        if not raw:
            continue
        matches = list(_FUSION.finditer(raw))
        if not matches or "".join(m.group(0) for m in matches) != raw.replace(",", ""):
            problems.append(row.problem(column, f"'{raw}' is not a list of 'GENE1::GENE2(n;n)'"))
            continue
        for m in matches:
            key = (m["g5"].strip(), m["g3"].strip())
            if key in found:
                found[key].caller = f"{found[key].caller}, {caller}"
                continue
            # FusionCatcher's pair is (Spanning_pairs; Spanning_unique_reads); CICERO's (readsA;
            # readsB) has no split/spanning meaning, so its counts are not carried over.
            fc = caller == "FusionCatcher"
            found[key] = Fusion(gene5=key[0], gene3=key[1], caller=caller,
                                spanning_reads=int(m["a"]) if fc else None,
                                junction_reads=int(m["b"]) if fc else None, source=row.ref(column))
    return list(found.values())


def _comments(row: Row) -> list[str]:
    notes = []
    for column, title in (("stage", "MD-ALL decision rule"), ("Mutation_BALL", "MD-ALL hotspot mutations"),
                          ("RNAseqCNV_label", "RNAseqCNV")):
        value = row.cells.get(column, "").strip()
        if value:
            notes.append(f"{title}: {value}")
    return notes
