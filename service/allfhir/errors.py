"""Errors as FHIR OperationOutcomes.

Every failure the user can fix (bad file, unknown label, bad HGVS...) is an `InputError` that
carries one or more `Problem`s naming the file, row and column. The CLI and the API turn it into
an OperationOutcome; nothing user-facing ever shows a stack trace.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the input, and where it is."""

    message: str
    file: str | None = None
    row: int | None = None  # 1-based physical line number in the file (header = line 1)
    column: str | None = None  # column name (or JSON path / VCF field) as the file spells it
    code: str = "invalid"  # FHIR issue-type code: invalid | structure | required | value | not-found ...
    severity: str = "error"

    def location(self) -> str:
        parts = []
        if self.file is not None:
            parts.append(self.file)
        if self.row is not None:
            parts.append(f"line {self.row}")
        if self.column is not None:
            parts.append(f"column '{self.column}'")
        return ", ".join(parts)

    def text(self) -> str:
        where = self.location()
        return f"{where}: {self.message}" if where else self.message

    def to_issue(self) -> dict[str, Any]:
        issue: dict[str, Any] = {
            "severity": self.severity,
            "code": self.code,
            "diagnostics": self.text(),
        }
        # OperationOutcome.issue.location is the place for non-FHIRPath locations (file/line/col).
        where = self.location()
        if where:
            issue["location"] = [where]
        return issue


class InputError(Exception):
    """Bad input: the user can fix it. Carries the problems found."""

    def __init__(self, problems: Problem | list[Problem]) -> None:
        self.problems = [problems] if isinstance(problems, Problem) else list(problems)
        super().__init__("; ".join(p.text() for p in self.problems))

    def operation_outcome(self) -> dict[str, Any]:
        return operation_outcome(self.problems)


def operation_outcome(problems: list[Problem]) -> dict[str, Any]:
    return {"resourceType": "OperationOutcome", "issue": [p.to_issue() for p in problems]}
