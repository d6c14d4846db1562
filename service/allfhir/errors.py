"""Errors as FHIR OperationOutcomes.

Every failure the user can fix (bad file, unknown label, bad HGVS...) is an `InputError` that
carries one or more `Problem`s naming the file, row and column. The CLI and the API turn it into
an OperationOutcome; nothing user-facing ever shows a stack trace.

A request the HTTP service refuses (no credentials, wrong media type, body too large...) is a
`RequestError`: an InputError with its HTTP status. `STATUS` is the one table of what each kind
of failure answers: HTTP status for the API, exit code for the CLI.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

EXIT_OK, EXIT_INTERNAL, EXIT_INPUT = 0, 1, 2

# failure -> (HTTP status, CLI exit code, OperationOutcome issue code when the failure has none)
STATUS: dict[str, tuple[int, int, str]] = {
    "malformed": (400, EXIT_INPUT, "invalid"),
    "unauthenticated": (401, EXIT_INPUT, "login"),
    "forbidden": (403, EXIT_INPUT, "forbidden"),
    "not-found": (404, EXIT_INPUT, "not-found"),
    "method-not-allowed": (405, EXIT_INPUT, "not-supported"),
    "not-acceptable": (406, EXIT_INPUT, "not-supported"),
    "conflict": (409, EXIT_INPUT, "conflict"),
    "precondition-failed": (412, EXIT_INPUT, "conflict"),  # If-Match names another version
    "too-large": (413, EXIT_INPUT, "too-costly"),
    "unsupported-media-type": (415, EXIT_INPUT, "not-supported"),
    "unprocessable": (422, EXIT_INPUT, "processing"),  # an InputError from the pipeline
    "internal": (500, EXIT_INTERNAL, "exception"),
    "unavailable": (503, EXIT_INTERNAL, "transient"),
}
BY_HTTP_STATUS = {status: kind for kind, (status, _, _) in STATUS.items()}


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


class RequestError(InputError):
    """A request refused for a reason named in STATUS (the HTTP status comes from there)."""

    def __init__(self, kind: str, message: str, code: str | None = None) -> None:
        self.kind = kind
        self.status = STATUS[kind][0]
        super().__init__(Problem(message, code=code or STATUS[kind][2]))


def http_status(exc: BaseException) -> int:
    if isinstance(exc, RequestError):
        return exc.status
    return STATUS["unprocessable" if isinstance(exc, InputError) else "internal"][0]


def exit_code(exc: BaseException) -> int:
    if isinstance(exc, RequestError):
        return STATUS[exc.kind][1]
    return EXIT_INPUT if isinstance(exc, InputError) else EXIT_INTERNAL


def operation_outcome(problems: list[Problem]) -> dict[str, Any]:
    return {"resourceType": "OperationOutcome", "issue": [p.to_issue() for p in problems]}
