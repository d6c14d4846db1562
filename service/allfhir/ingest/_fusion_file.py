"""What the three fusion-caller adapters share: one file = one unnamed sample's fusions.

Each adapter supplies how one row becomes a Fusion; the loop (row problems reported per row, the
good rows kept, notes on rows that are not gene fusions) is the same for all of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from ..errors import InputError, Problem
from ..model import Fusion, Sample, SourceRef
from ._tabular import Row

# (row, problems to append to, report comments to append to) -> the row's fusion, or None when
# the row is reported as a comment instead (e.g. an Arriba intergenic breakpoint).
RowParser = Callable[[Row, list[Problem], list[str]], Fusion | None]


def fusion_sample(name: str, rows: Iterator[Row], parse_row: RowParser) -> Iterator[Sample | InputError]:
    """Row-level InputErrors as they occur, then one Sample (sample_id None) with the fusions."""
    fusions: list[Fusion] = []
    comments: list[str] = []
    for row in rows:
        problems: list[Problem] = []
        fusion = parse_row(row, problems, comments)
        if problems:
            yield InputError(problems)
        elif fusion is not None:
            fusions.append(fusion)
    yield Sample(sample_id=None, fusions=fusions, comments=comments, source_files=[name],
                 source=SourceRef(file=name))


def gene_cell(row: Row, column: str, problems: list[Problem]) -> str:
    """The partner gene as written; an empty cell is a problem."""
    gene = row.cells[column].strip()
    if not gene:
        problems.append(row.problem(column, "empty gene", code="required"))
    return gene
