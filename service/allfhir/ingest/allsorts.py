"""ALLSorts (Oshlack/ALLSorts): `probabilities.csv` and `predictions.csv`.

probabilities.csv (written by `run_predictions` in ALLSorts/allsorts.py): comma-separated, the
first column is the sample id (its header cell repeats the counts file's first cell, usually
empty; "0" in the model's comparisons.csv), one probability column per hierarchy node (meta
columns such as "Ph Group" only with `-parents`), optional "B-ALL" ("True"/"False", with
`-ball True`), "Pred" (the call: several labels joined by "," or "Unclassified") and optional
"True" (the reference label given with `-labels`). Columns are parsed by name because a
retrained model may change their order. predictions.csv has only the id and "Prediction".
Probabilities are per-node one-vs-rest values, so a row does not sum to 1.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..errors import InputError, Problem
from ..model import ClassifierRun, Sample, SourceRef, SubtypeCall
from ._tabular import Row, first_line, parse_probability, read_sample_id, read_table
from .source import Source

NAME = "allsorts"
KIND = "classifier"
DESCRIPTION = "ALLSorts probabilities.csv (or predictions.csv): per-subtype probabilities and 'Pred'"

CLASSIFIER_ID = "allsorts"
# The crosswalk column for both files: "Prediction" holds the same vocabulary as "Pred".
LABEL_COLUMN = "Pred"
NO_CALL = "Unclassified"

# Hierarchy nodes of the released model (models/allsorts/comparisons.csv header), for sniffing.
KNOWN_COLUMNS = frozenset({
    "TCF3-PBX1", "High Sig", "KMT2A Group", "DUX4", "Ph Group", "PAX5alt", "MEF2D",
    "ETV6-RUNX1 Group", "ZNF384 Group", "BCL2/MYC", "iAMP21", "PAX5 P80R", "NUTM1",
    "Low hypodiploid", "IKZF1 N159Y", "HLF", "High hyperdiploid", "Low hyperdiploid",
    "Near haploid", "Ph", "Ph-like", "ETV6-RUNX1", "ETV6-RUNX1-like",
})
# Non-probability columns besides the id column and the call column.
EXTRA_COLUMNS = ("B-ALL", "True")


def _header_cells(head: str) -> list[str]:
    line = first_line(head)
    # Accept ';' and tab too, so a re-saved file is recognised and then gets a delimiter error.
    for sep in (",", ";", "\t"):
        cells = [c.strip().strip('"') for c in line.split(sep)]
        if len(cells) > 1:
            return cells
    return []


def sniff(source: Source, head: str) -> bool:
    cells = _header_cells(head)
    if "Pred" in cells:
        return len(KNOWN_COLUMNS.intersection(cells)) >= 3
    # predictions.csv: exactly "<id>,Prediction" (TALLSorts writes "Sample,Predictions").
    return len(cells) == 2 and cells[1] == "Prediction"


def read(source: Source) -> Iterator[Sample | InputError]:
    name = source.name
    header, rows = read_table(source, ",", [], min_columns=2)
    call_column = "Pred" if "Pred" in header else "Prediction" if "Prediction" in header else None
    if call_column is None:
        raise InputError(Problem("missing required column(s): Pred (or Prediction in predictions.csv)",
                                 file=name, row=1, code="required"))
    id_column = header[0]
    skip = {id_column, call_column, *EXTRA_COLUMNS}
    prob_columns = [c for c in header[1:] if c not in skip]
    classifier = ClassifierRun(classifier_id=CLASSIFIER_ID, name="ALLSorts", source=SourceRef(file=name))
    return _samples(rows, name, id_column, call_column, prob_columns, classifier)


def _samples(rows: Iterator[Row], name: str, id_column: str, call_column: str,
             prob_columns: list[str], classifier: ClassifierRun) -> Iterator[Sample | InputError]:
    seen: dict[str, int] = {}
    for row in rows:
        problems: list[Problem] = []
        sample_id = read_sample_id(row, id_column, seen, problems)
        scores = _scores(row, prob_columns, problems)
        raw_call = row.cells[call_column].strip()
        labels = [part.strip() for part in raw_call.split(",")]
        if not raw_call or not all(labels):
            problems.append(row.problem(call_column, f"empty label in call '{raw_call}'", code="required"))
        if problems:
            yield InputError(problems)
            continue
        calls = [
            SubtypeCall(
                label=label,
                label_column=LABEL_COLUMN,
                probability=scores.get(label),
                score_type="probability",
                source=row.ref(call_column),
            )
            for label in labels
        ]
        yield Sample(
            sample_id=sample_id,
            classifier=classifier,
            calls=calls,
            scores=scores,
            comments=_comments(row),
            source_files=[name],
            source=row.ref(id_column or None),
        )


def _scores(row: Row, columns: list[str], problems: list[Problem]) -> dict[str, float]:
    """The row's probabilities by column. Read all at once (a cohort's every cell passes through
    here); a row with a bad cell is read again cell by cell, for each cell's own problem."""
    cells = row.cells
    try:
        # float() ignores the spaces parse_probability strips, so the values are its values
        scores = {column: float(cells[column]) for column in columns}
    except ValueError:
        pass
    else:
        if all(0.0 <= v <= 1.0 for v in scores.values()):  # NaN fails it too
            return scores
    scores = {}
    for column in columns:
        try:
            scores[column] = parse_probability(row, column)
        except InputError as exc:
            problems.extend(exc.problems)
    return scores


def _comments(row: Row) -> list[str]:
    notes = []
    ball = row.cells.get("B-ALL", "").strip()
    if ball == "False":
        # ALLSorts' immunophenotype filter: a B-ALL gene z-score outside +/-3.
        notes.append("ALLSorts B-ALL check: False (the expression profile may not be B-ALL)")
    reference = row.cells.get("True", "").strip()
    if reference:
        notes.append(f"Reference label supplied to ALLSorts: {reference}")
    return notes
