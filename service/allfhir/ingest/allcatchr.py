"""ALLCatchR (ThomasBeder/ALLCatchR, ALLCatchR_bcrabl1, ALLCatchR2 B-ALL mode): `predictions.tsv`.

Written by `utils::write.table(output, out.file, sep = sep, row.names = F)` at the end of
`allcatch()` / `allcatch_bcrabl1()` (R/ALLCatcheR.R): R's default quoting (header and text cells
in double quotes, numbers bare, missing values `NA`), tab-separated in v1 and with the input counts
file's separator (tab or comma) in the bcrabl1 / 2 versions. One row per sample: `sample`,
`Score` (mean of SVM vote share and nearest-neighbour share, 0-1), `Prediction` (one of 21
subtype strings), `Confidence` (`high-confidence` | `candidate` | `unclassified`), the optional
BCR::ABL1 block, blast / sex / immunophenotype predictions, progenitor scores, and the `ML_` (SVM
vote share) and `NN_` (neighbour share) columns per subtype. Columns are read by name.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..errors import InputError, Problem
from ..model import ClassifierRun, Sample, SourceRef, SubtypeCall
from ._tabular import Row, first_line, head, parse_probability, read_sample_id, read_table
from .source import Source

NAME = "allcatchr"
KIND = "classifier"
DESCRIPTION = "ALLCatchR / ALLCatchR_bcrabl1 predictions.tsv: Prediction, Score, Confidence per sample"

CLASSIFIER_ID = "allcatchr"
REQUIRED = ["sample", "Score", "Prediction", "Confidence"]
CONFIDENCES = ("high-confidence", "candidate", "unclassified")
# The README: samples marked 'unclassified' "should be considered unclassified".
NO_CALL_CONFIDENCE = "unclassified"
SHARE_PREFIXES = ("ML_", "NN_")
BCR_ABL1 = ("maincluster", "subcluster", "hyperdiploidy")
NOT_PH = "not Ph-pos predicted"
LINEAGES = ("lymphoid", "multilineage")


def _header(head: str) -> tuple[str, list[str]]:
    line = first_line(head)
    for sep in ("\t", ","):
        cells = [c.strip().strip('"') for c in line.split(sep)]
        if len(cells) > 1:
            return sep, cells
    return "\t", []


def sniff(source: Source, head: str) -> bool:
    _, cells = _header(head)
    return all(c in cells for c in REQUIRED) or (
        "sample" in cells and any(c.startswith("T-ALL") for c in cells))


def read(source: Source) -> Iterator[Sample | InputError]:
    name = source.name
    sep, cells = _header(head(source, 65536))
    if any(c.startswith("T-ALL") for c in cells):
        # ALLCatchR2's Lineage = "T-ALL" table: T-ALL subtypes are outside this service's scope.
        raise InputError(Problem("ALLCatchR2 T-ALL output is not supported (BCP-ALL only); "
                                 "run ALLCatchR with Lineage = \"B-ALL\"", file=name, row=1,
                                 code="not-supported"))
    header, rows = read_table(source, sep, REQUIRED)
    shares = [c for c in header if c.startswith(SHARE_PREFIXES)]
    classifier = ClassifierRun(classifier_id=CLASSIFIER_ID, name="ALLCatchR", source=SourceRef(file=name))
    return _samples(rows, name, shares, classifier)


def _samples(rows: Iterator[Row], name: str, shares: list[str],
             classifier: ClassifierRun) -> Iterator[Sample | InputError]:
    seen: dict[str, int] = {}
    for row in rows:
        problems: list[Problem] = []
        sample_id = read_sample_id(row, "sample", seen, problems)
        score: float | None = None
        try:
            score = parse_probability(row, "Score")
        except InputError as exc:
            problems.extend(exc.problems)
        label = row.cells["Prediction"].strip()
        if not label or label == "NA":
            problems.append(row.problem("Prediction", "empty prediction", code="required"))
        confidence = row.cells["Confidence"].strip()
        if confidence not in CONFIDENCES:
            problems.append(row.problem(
                "Confidence",
                f"unknown confidence '{confidence}'; expected one of: {', '.join(CONFIDENCES)}"))
        scores: dict[str, float] = {}
        for column in shares:
            if row.cells[column].strip() in ("", "NA"):
                continue
            try:
                scores[column] = parse_probability(row, column)
            except InputError as exc:
                problems.extend(exc.problems)
        if problems:
            yield InputError(problems)
            continue
        lineage = row.cells.get("BCR_ABL1_maincluster_pred", "").strip()
        call = SubtypeCall(
            label=label,
            label_column="Prediction",
            probability=score,
            score_type="score",
            confidence=confidence,
            called=confidence != NO_CALL_CONFIDENCE,
            # the Ph-pos lineage prediction decides the ICC sub-entity (lymphoid only / multilineage)
            lineage=lineage if lineage in LINEAGES else None,
            source=row.ref("Prediction"),
        )
        yield Sample(
            sample_id=sample_id,
            classifier=classifier,
            calls=[call],
            scores=scores,
            comments=_comments(row),
            source_files=[name],
            source=row.ref("sample"),
        )


def _comments(row: Row) -> list[str]:
    """The BCR::ABL1 subgroup prediction (bcrabl1 / ALLCatchR2 only) as ALLCatchR states it."""
    parts = []
    for block in BCR_ABL1:
        pred = row.cells.get(f"BCR_ABL1_{block}_pred", "").strip()
        score = row.cells.get(f"BCR_ABL1_{block}_score", "").strip()
        if pred and pred not in (NOT_PH, "NA"):
            parts.append(f"{block} {pred}" + (f" ({score})" if score and score != pred else ""))
    return [f"ALLCatchR BCR::ABL1 subgroups: {'; '.join(parts)}"] if parts else []

